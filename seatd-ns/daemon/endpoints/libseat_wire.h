#ifndef _SEATD_NS_LIBSEAT_WIRE_H
#define _SEATD_NS_LIBSEAT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "libseat_endpoint.h"

/*
 * The seatd wire protocol of one client connection: its requests in, its replies and events
 * out with the fds they pass. What a request means is the endpoint's business; the decoding
 * of one request and the classes of device paths are in libseat_endpoint.h, for its tests.
 */

#define LIBSEAT_WIRE_IN_SIZE 512   /* more than the largest valid request (4 + 2 + 256) */
#define LIBSEAT_WIRE_OUT_SIZE 1024 /* replies a client has not read yet; beyond that it floods */
#define LIBSEAT_WIRE_OUT_FDS 16

struct libseat_wire_in {
	uint8_t buf[LIBSEAT_WIRE_IN_SIZE];
	size_t len;
};

/* Queued bytes and fds go out together; the fds are our dups until sent. */
struct libseat_wire_out {
	uint8_t buf[LIBSEAT_WIRE_OUT_SIZE];
	size_t len;
	int fds[LIBSEAT_WIRE_OUT_FDS];
	size_t n_fds;
};

/* Reads what the client sent: 1, 0 when there was nothing to read, -1 with errno
 * (ECONNRESET once it hung up). */
int libseat_wire_recv(struct libseat_wire_in *in, int sock);

/* Takes the next whole request out of in: 1, 0 when more bytes are needed, -1 with EBADMSG. */
int libseat_wire_next(struct libseat_wire_in *in, struct seatd_request *req);

/* Queueing a message: 0, or -1 with ENOBUFS for a client that does not read its replies. */
int libseat_wire_put(struct libseat_wire_out *out, uint16_t opcode);
int libseat_wire_put_error(struct libseat_wire_out *out, int error_code);
int libseat_wire_put_seat_opened(struct libseat_wire_out *out, const char *seat_name);
/* The queue takes fd, and closes it on failure. */
int libseat_wire_put_device_opened(struct libseat_wire_out *out, int device_id, int fd);

/* Sends what the socket takes now: 0 (out.len tells what is left), or -1 with errno. */
int libseat_wire_send(struct libseat_wire_out *out, int sock);

/* Closes the fds still queued, of a client going away. */
void libseat_wire_close_fds(struct libseat_wire_out *out);

#endif
