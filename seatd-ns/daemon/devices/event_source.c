#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event_source.h"
#include "udev_message.h"

#define GROUP_KERNEL 1
#define GROUP_UDEV 2

const char *event_source_kind_name(enum event_source_kind kind) {
	return kind == EVENT_SOURCE_UDEV ? "udev" : "kernel";
}

int event_source_open(struct event_source *src, enum event_source_kind kind, int buffer_size) {
	memset(src, 0, sizeof(*src));
	src->kind = kind;
	src->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		NETLINK_KOBJECT_UEVENT);
	if (src->fd == -1) {
		return -1;
	}
	int one = 1, size = buffer_size;
	/* A coldplug storm must not overflow the socket; FORCE needs CAP_NET_ADMIN. */
	if (setsockopt(src->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == -1) {
		setsockopt(src->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = kind == EVENT_SOURCE_UDEV ? GROUP_UDEV : GROUP_KERNEL,
	};
	if (setsockopt(src->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
		bind(src->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		int saved = errno;
		close(src->fd);
		src->fd = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

void event_source_close(struct event_source *src) {
	if (src->fd != -1) {
		close(src->fd);
		src->fd = -1;
	}
}

/*
 * Only the kernel (sender port 0) may speak on group 1, and only root's udevd on group 2:
 * any other process in the namespace can multicast there too.
 */
static bool sender_is_trusted(const struct event_source *src, const struct sockaddr_nl *from,
	const struct ucred *cred) {
	if (cred == NULL || cred->uid != 0) {
		return false;
	}
	return src->kind == EVENT_SOURCE_UDEV ? from->nl_pid != 0 : from->nl_pid == 0;
}

static void drop_malformed(struct event_source *src, const char *why) {
	src->stats.malformed++;
	if (log_ratelimit_allow(&src->malformed_log)) {
		log_warnf("dropped a malformed %s event: %s", event_source_kind_name(src->kind),
			why);
	}
}

/* Handles one received message; returns -1 only on a table error (out of memory). */
static int handle_message(struct event_source *src, struct devtable *table, char *buf,
	size_t len) {
	struct uevent ev;
	const char *why = NULL;
	int r = src->kind == EVENT_SOURCE_UDEV ? udev_message_parse(&ev, buf, len, &why)
					       : uevent_parse_kernel(&ev, buf, len, &why);
	if (r == -1) {
		drop_malformed(src, why);
		return 0;
	}
	if (uevent_devpath_is_valid(ev.devpath)) {
		log_debugf("%s %s (%s)", uevent_action_name(ev.action), ev.devpath, ev.subsystem);
	}
	r = devtable_apply(table, &ev);
	if (r == 1) {
		src->stats.applied++;
	}
	return r == -1 ? -1 : 0;
}

int event_source_dispatch(struct event_source *src, struct devtable *table) {
	for (;;) {
		char buf[UEVENT_MAX_SIZE + 1];
		char control[CMSG_SPACE(sizeof(struct ucred))];
		struct sockaddr_nl from;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control,
			.msg_controllen = sizeof(control),
		};
		ssize_t n = recvmsg(src->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && errno == EAGAIN) {
			return 0;
		}
		if (n == -1 && errno == ENOBUFS) {
			src->stats.overflows++;
			if (!src->overflow_logged) {
				log_warn("event socket overflowed: events were lost, rescanning "
					 "(logged once)");
				src->overflow_logged = true;
			}
			return 1;
		}
		if (n == -1) {
			return -1;
		}
		src->stats.received++;
		if ((size_t)n > sizeof(buf) - 1 || (msg.msg_flags & MSG_CTRUNC)) {
			drop_malformed(src, "oversized message");
			continue;
		}
		struct ucred *cred = NULL;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				cred = (struct ucred *)(void *)CMSG_DATA(c);
			}
		}
		if (msg.msg_namelen != sizeof(from) || !sender_is_trusted(src, &from, cred)) {
			src->stats.foreign++;
			continue;
		}
		if (handle_message(src, table, buf, (size_t)n) == -1) {
			return -1;
		}
	}
}
