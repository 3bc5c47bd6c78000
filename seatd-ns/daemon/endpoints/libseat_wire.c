#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libseat_wire.h"

static bool is_prefix_digits(const char *path, const char *prefix) {
	size_t n = strlen(prefix);
	if (strncmp(path, prefix, n) != 0) {
		return false;
	}
	const char *p = path + n;
	size_t len = strlen(p);
	if (len == 0 || len > 9) {
		return false;
	}
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
	}
	return true;
}

enum libseat_device_class libseat_endpoint_classify(const char *path) {
	if (is_prefix_digits(path, "/dev/dri/card")) {
		return LIBSEAT_DEVICE_DRM_CARD;
	}
	if (is_prefix_digits(path, "/dev/dri/renderD")) {
		return LIBSEAT_DEVICE_DRM_RENDER;
	}
	if (is_prefix_digits(path, "/dev/input/event")) {
		return LIBSEAT_DEVICE_EVDEV;
	}
	if (is_prefix_digits(path, "/dev/hidraw")) {
		return LIBSEAT_DEVICE_HIDRAW;
	}
	return LIBSEAT_DEVICE_NONE;
}

int libseat_endpoint_parse(const void *buf, size_t len, struct seatd_request *out) {
	struct seatd_proto_header header;
	if (len < sizeof(header)) {
		return 0;
	}
	memcpy(&header, buf, sizeof(header));
	const uint8_t *body = (const uint8_t *)buf + sizeof(header);

	switch (header.opcode) {
	case SEATD_CLIENT_OPEN_SEAT:
	case SEATD_CLIENT_CLOSE_SEAT:
	case SEATD_CLIENT_DISABLE_SEAT:
	case SEATD_CLIENT_PING:
		if (header.size != 0) {
			goto bad;
		}
		break;
	case SEATD_CLIENT_OPEN_DEVICE:
		if (header.size <= sizeof(struct seatd_proto_open_device) ||
			header.size > sizeof(struct seatd_proto_open_device) + SEATD_MAX_PATH_LEN) {
			goto bad;
		}
		break;
	case SEATD_CLIENT_CLOSE_DEVICE:
		if (header.size != sizeof(struct seatd_proto_close_device)) {
			goto bad;
		}
		break;
	case SEATD_CLIENT_SWITCH_SESSION:
		if (header.size != sizeof(struct seatd_proto_switch_session)) {
			goto bad;
		}
		break;
	default:
		goto bad;
	}
	if (len - sizeof(header) < header.size) {
		return 0;
	}

	memset(out, 0, sizeof(*out));
	out->opcode = header.opcode;
	out->size = sizeof(header) + header.size;
	switch (header.opcode) {
	case SEATD_CLIENT_OPEN_DEVICE: {
		struct seatd_proto_open_device msg;
		memcpy(&msg, body, sizeof(msg));
		size_t path_len = header.size - sizeof(msg);
		if (msg.path_len != path_len) {
			goto bad;
		}
		/* Exactly one NUL, at the end: what libseat sends. */
		const uint8_t *path = body + sizeof(msg);
		if (memchr(path, '\0', path_len) != path + path_len - 1) {
			goto bad;
		}
		memcpy(out->path, path, path_len);
		break;
	}
	case SEATD_CLIENT_CLOSE_DEVICE: {
		struct seatd_proto_close_device msg;
		memcpy(&msg, body, sizeof(msg));
		out->device_id = msg.device_id;
		break;
	}
	case SEATD_CLIENT_SWITCH_SESSION: {
		struct seatd_proto_switch_session msg;
		memcpy(&msg, body, sizeof(msg));
		out->session = msg.session;
		break;
	}
	default:
		break;
	}
	return 1;

bad:
	errno = EBADMSG;
	return -1;
}

int libseat_wire_recv(struct libseat_wire_in *in, int sock) {
	ssize_t n;
	do {
		/* recv, not recvmsg: fds a client sends us are dropped by the kernel. */
		n = recv(sock, in->buf + in->len, sizeof(in->buf) - in->len, MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		return 0;
	}
	if (n == -1) {
		return -1;
	}
	if (n == 0) {
		errno = ECONNRESET;
		return -1;
	}
	in->len += (size_t)n;
	return 1;
}

int libseat_wire_next(struct libseat_wire_in *in, struct seatd_request *req) {
	int r = libseat_endpoint_parse(in->buf, in->len, req);
	if (r == 1) {
		memmove(in->buf, in->buf + req->size, in->len - req->size);
		in->len -= req->size;
	}
	return r;
}

/* Output: fds ahead of their message is what libseat expects anyway (it keeps received fds
 * apart from the bytes, as seatd's connection.c sends). */

void libseat_wire_close_fds(struct libseat_wire_out *out) {
	for (size_t i = 0; i < out->n_fds; i++) {
		close(out->fds[i]);
	}
	out->n_fds = 0;
}

int libseat_wire_send(struct libseat_wire_out *out, int sock) {
	while (out->len > 0) {
		struct iovec iov = {.iov_base = out->buf, .iov_len = out->len};
		union {
			char buf[CMSG_SPACE(sizeof(int) * LIBSEAT_WIRE_OUT_FDS)];
			struct cmsghdr align;
		} control;
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		if (out->n_fds > 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * out->n_fds);
			struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int) * out->n_fds);
			memcpy(CMSG_DATA(cmsg), out->fds, sizeof(int) * out->n_fds);
		}
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && errno == EAGAIN) {
			return 0;
		}
		if (n == -1) {
			return -1;
		}
		/* The peer holds its copies now; ours were dups. */
		libseat_wire_close_fds(out);
		memmove(out->buf, out->buf + n, out->len - (size_t)n);
		out->len -= (size_t)n;
	}
	return 0;
}

static int put(struct libseat_wire_out *out, uint16_t opcode, const void *body1, size_t len1,
	const void *body2, size_t len2) {
	struct seatd_proto_header header = {.opcode = opcode, .size = (uint16_t)(len1 + len2)};
	if (out->len + sizeof(header) + len1 + len2 > sizeof(out->buf)) {
		errno = ENOBUFS;
		return -1;
	}
	memcpy(out->buf + out->len, &header, sizeof(header));
	out->len += sizeof(header);
	if (len1 > 0) {
		memcpy(out->buf + out->len, body1, len1);
		out->len += len1;
	}
	if (len2 > 0) {
		memcpy(out->buf + out->len, body2, len2);
		out->len += len2;
	}
	return 0;
}

int libseat_wire_put(struct libseat_wire_out *out, uint16_t opcode) {
	return put(out, opcode, NULL, 0, NULL, 0);
}

int libseat_wire_put_error(struct libseat_wire_out *out, int error_code) {
	struct seatd_proto_error msg = {.error_code = error_code};
	return put(out, SEATD_SERVER_ERROR, &msg, sizeof(msg), NULL, 0);
}

int libseat_wire_put_seat_opened(struct libseat_wire_out *out, const char *seat_name) {
	size_t name_len = strlen(seat_name) + 1;
	struct seatd_proto_seat_opened msg = {.seat_name_len = (uint16_t)name_len};
	return put(out, SEATD_SERVER_SEAT_OPENED, &msg, sizeof(msg), seat_name, name_len);
}

int libseat_wire_put_device_opened(struct libseat_wire_out *out, int device_id, int fd) {
	struct seatd_proto_device_opened msg = {.device_id = device_id};
	if (out->n_fds >= LIBSEAT_WIRE_OUT_FDS) {
		errno = ENOBUFS;
		goto fail;
	}
	if (put(out, SEATD_SERVER_DEVICE_OPENED, &msg, sizeof(msg), NULL, 0) == -1) {
		goto fail;
	}
	out->fds[out->n_fds++] = fd;
	return 0;

fail:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
