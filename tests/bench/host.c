/*
 * The host side of an event: the host's udevd, which this program plays (its processed
 * messages on netlink group 2, in a network namespace of this program's own), and the
 * daemon's code from there to a container. The devices live in the daemon's device table
 * (devtable.c), fed by its event source (event_source.c). The table's notification finds the
 * owner of a device by a hash lookup by seat, as desktops.c does (only the owner is
 * touched), and delivers as desktops.c does: the view by device_view_build(), the db entry
 * by forward_db_write() and the event by forward_send() on the container's persistent socket
 * (forward.c); an add by nodes_create() first, a remove by forward_db_remove() and
 * nodes_remove() after. Not included: desktops.c's grant records, and its cgroup step (a BPF
 * map update; these containers share this program's cgroup, where the daemon skips it too).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "delivery.h"
#include "netlink.h"
#include "udev_message.h"
#include "uevent.h"

/* The daemon's device table, owners by seat and event source; the host udevd's socket. */
void host_init(int sysfs_fd) {
	devtable_init(&B.table, sysfs_fd, deliver, NULL);
	hashmap_init(&B.registry);
	if (event_source_open(&B.src, EVENT_SOURCE_UDEV, EVENT_SOURCE_BUFFER_SIZE) == -1) {
		die("event source: %s", strerror(errno));
	}
	B.udevd_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl self = {.nl_family = AF_NETLINK};
	if (B.udevd_fd == -1 || bind(B.udevd_fd, (struct sockaddr *)&self, sizeof(self)) == -1) {
		die("udevd socket: %s", strerror(errno));
	}
	int sndbuf = 64 * 1024 * 1024;
	setsockopt(B.udevd_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
}

/* Sends a udev message on group 2 with explicit credentials, as forward_send() does. */
int send_udev(int fd, const char *msg, size_t len, uid_t uid, gid_t gid) {
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = GROUP_UDEV};
	return netlink_send_as(fd, &dest, msg, len, uid, gid);
}

static struct bench_container *owner_of(const struct device *dev) {
	struct hashmap_entry *e = hashmap_get(&B.registry, dev->seat);
	return e ? hashmap_container_of(e, struct bench_container, entry) : NULL;
}

static void delivery_error(struct bench_container *bc, const char *what) {
	if (B.delivery_errors++ < 5) {
		fprintf(stderr, "delivery: %s: %s: %s\n", bc->name, what, strerror(errno));
	}
}

/*
 * The table's notification: what desktops.c does for the owner of the device. Add: node,
 * db entry, event. Change: db entry, event. Remove: event, db entry, node.
 */
void deliver(void *data, enum device_change change, const struct device *dev) {
	struct bench_container *bc = owner_of(dev);
	if (bc == NULL) {
		return;
	}
	struct device_view view;
	const char *action = change == DEVICE_ADDED ? "add"
			     : change == DEVICE_REMOVED ? "remove"
							: "change";
	if (change == DEVICE_ADDED && nodes_create(&B.nodes, &bc->c, dev) == -1) {
		delivery_error(bc, "nodes_create");
		return;
	}
	if (device_view_build(&view, dev, action, ++bc->fwd.seqnum) == -1) {
		delivery_error(bc, "device_view_build");
		return;
	}
	if (change != DEVICE_REMOVED && forward_db_write(&bc->fwd, &bc->c, &view) == -1) {
		delivery_error(bc, "forward_db_write");
	}
	if (forward_send(&bc->fwd, &bc->c, &view) == -1) {
		delivery_error(bc, "forward_send");
	}
	bc->sent++;
	if (change == DEVICE_REMOVED) {
		if (forward_db_remove(&bc->fwd, &bc->c, &view) == -1) {
			delivery_error(bc, "forward_db_remove");
		}
		if (nodes_remove(&B.nodes, &bc->c, dev) == -1) {
			delivery_error(bc, "nodes_remove");
		}
	}
}

/* The message the host's udevd sends for a processed event of bc's keyboard. */
int udevd_message(struct bench_container *bc, const char *action, char *out, size_t size) {
	char props[2048], tag[96];
	size_t off = 0;
	int n = 0;
#define PROP(...)                                                                              \
	do {                                                                                   \
		n = snprintf(props + off, sizeof(props) - off, __VA_ARGS__);                   \
		off += (size_t)n + 1;                                                          \
	} while (0)
	snprintf(tag, sizeof(tag), "%s", bc->id_path);
	for (char *p = tag; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
			*p = '_';
		}
	}
	PROP("ACTION=%s", action);
	PROP("DEVPATH=%s", bc->devpath);
	PROP("SUBSYSTEM=input");
	PROP("DEVNAME=/dev/%s", bc->devname);
	PROP("SEQNUM=%llu", (unsigned long long)++B.udevd_seq);
	PROP("USEC_INITIALIZED=%llu", (unsigned long long)(now_ns() / 1000));
	PROP("ID_INPUT=1");
	PROP("ID_INPUT_KEY=1");
	PROP("ID_INPUT_KEYBOARD=1");
	PROP("ID_BUS=usb");
	PROP("ID_VENDOR_ID=0627");
	PROP("ID_MODEL_ID=0001");
	PROP("ID_PATH=%s", bc->id_path);
	PROP("ID_PATH_TAG=%s", tag);
	PROP("ID_SEAT=%s", bc->seat);
	PROP("MAJOR=%u", INPUT_MAJOR);
	PROP("MINOR=%u", bc->minor);
	PROP("TAGS=:seat:uaccess:%s:", bc->seat);
	PROP("CURRENT_TAGS=:seat:uaccess:%s:", bc->seat);
#undef PROP
	(void)n;
	struct uevent ev;
	const char *why;
	if (uevent_parse_properties(&ev, props, off, &why) == -1) {
		die("udevd message for %s: %s", bc->name, why);
	}
	return udev_message_encode(&ev, out, size);
}

/* Sends a message as the host's udevd does: from root, to group 2. */
void udevd_send_msg(const char *msg, int len) {
	if (len == -1 || send_udev(B.udevd_fd, msg, (size_t)len, 0, 0) == -1) {
		die("sending the host udevd's message: %s", strerror(errno));
	}
}

void udevd_send(struct bench_container *bc, const char *action) {
	char msg[UDEV_MESSAGE_MAX_SIZE];
	udevd_send_msg(msg, udevd_message(bc, action, msg, sizeof(msg)));
}

/* The daemon's event loop turn: wait for the source, dispatch what it has. */
void source_dispatch(void) {
	struct pollfd p = {.fd = B.src.fd, .events = POLLIN};
	if (poll(&p, 1, 1000) != 1 || event_source_dispatch(&B.src, &B.table) == -1) {
		die("event source: %s", strerror(errno));
	}
}

struct device *device_of(struct bench_container *bc) {
	struct device *dev = devtable_find(&B.table, bc->devpath);
	if (dev == NULL) {
		die("%s's keyboard is not in the device table", bc->name);
	}
	return dev;
}
