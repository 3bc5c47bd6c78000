#ifndef _SEATD_NS_SEATD_PROTOCOL_H
#define _SEATD_NS_SEATD_PROTOCOL_H

#include <stdint.h>

/*
 * The wire protocol libseat's "seatd" backend speaks, as seatd's include/protocol.h defines it
 * (seatd by Kenny Levinsen, MIT licence). Written again here with our names; the layout must
 * stay byte-identical: host endianness, host int size, no packing, every body one field.
 *
 * A message is a header followed by header.size bytes of body. Client requests are answered
 * in order; SEATD_SERVER_DISABLE_SEAT and SEATD_SERVER_ENABLE_SEAT come unasked.
 */

#define SEATD_MAX_PATH_LEN 256 /* open_device path, NUL included */
#define SEATD_MAX_SEAT_LEN 64  /* seat_opened name, NUL included; libseat 0.7 trusts it */

#define SEATD_CLIENT_EVENT(opcode) (opcode)
#define SEATD_SERVER_EVENT(opcode) ((opcode) + (1 << 15))

#define SEATD_CLIENT_OPEN_SEAT      SEATD_CLIENT_EVENT(1)
#define SEATD_CLIENT_CLOSE_SEAT     SEATD_CLIENT_EVENT(2)
#define SEATD_CLIENT_OPEN_DEVICE    SEATD_CLIENT_EVENT(3)
#define SEATD_CLIENT_CLOSE_DEVICE   SEATD_CLIENT_EVENT(4)
#define SEATD_CLIENT_DISABLE_SEAT   SEATD_CLIENT_EVENT(5)
#define SEATD_CLIENT_SWITCH_SESSION SEATD_CLIENT_EVENT(6)
#define SEATD_CLIENT_PING           SEATD_CLIENT_EVENT(7)

#define SEATD_SERVER_SEAT_OPENED      SEATD_SERVER_EVENT(1)
#define SEATD_SERVER_SEAT_CLOSED      SEATD_SERVER_EVENT(2)
#define SEATD_SERVER_DEVICE_OPENED    SEATD_SERVER_EVENT(3)
#define SEATD_SERVER_DEVICE_CLOSED    SEATD_SERVER_EVENT(4)
#define SEATD_SERVER_DISABLE_SEAT     SEATD_SERVER_EVENT(5)
#define SEATD_SERVER_ENABLE_SEAT      SEATD_SERVER_EVENT(6)
#define SEATD_SERVER_PONG             SEATD_SERVER_EVENT(7)
#define SEATD_SERVER_SESSION_SWITCHED SEATD_SERVER_EVENT(8)
#define SEATD_SERVER_SEAT_DISABLED    SEATD_SERVER_EVENT(9)
#define SEATD_SERVER_ERROR            SEATD_SERVER_EVENT(0x7FFF)

struct seatd_proto_header {
	uint16_t opcode;
	uint16_t size; /* body bytes, the header excluded */
};

/* SEATD_CLIENT_OPEN_DEVICE: path_len bytes of path follow, the last one its NUL. */
struct seatd_proto_open_device {
	uint16_t path_len;
};

/* SEATD_CLIENT_CLOSE_DEVICE */
struct seatd_proto_close_device {
	int device_id;
};

/* SEATD_CLIENT_SWITCH_SESSION */
struct seatd_proto_switch_session {
	int session;
};

/* SEATD_SERVER_SEAT_OPENED: seat_name_len bytes of name follow, the last one its NUL. */
struct seatd_proto_seat_opened {
	uint16_t seat_name_len;
};

/* SEATD_SERVER_DEVICE_OPENED: the device fd travels as SCM_RIGHTS. */
struct seatd_proto_device_opened {
	int device_id;
};

/* SEATD_SERVER_ERROR: an errno value, which libseat hands to its caller. */
struct seatd_proto_error {
	int error_code;
};

_Static_assert(sizeof(struct seatd_proto_header) == 4, "seatd header layout");
_Static_assert(sizeof(struct seatd_proto_open_device) == 2, "seatd open_device layout");
_Static_assert(sizeof(struct seatd_proto_seat_opened) == 2, "seatd seat_opened layout");
_Static_assert(sizeof(struct seatd_proto_close_device) == sizeof(int), "seatd close_device layout");

/*
 * seatd 0.9 answers DISABLE_SEAT and SWITCH_SESSION (SEAT_DISABLED, SESSION_SWITCHED or
 * ERROR) and libseat 0.9 waits for that answer; libseat up to 0.8 (Debian 12, Ubuntu 24.04)
 * reads none and breaks on one. The wire has no version, and libseat's requests are the same
 * bytes from 0.7 to 0.9 (only what it waits for changed), so the daemon is told which libseat
 * a container has (seat-assign register --libseat-protocol; legacy unless told).
 */
enum libseat_endpoint_protocol {
	LIBSEAT_PROTOCOL_0_9 = 0,
	LIBSEAT_PROTOCOL_LEGACY,
};

#endif
