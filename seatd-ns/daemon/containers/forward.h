#ifndef _SEATD_NS_FORWARD_H
#define _SEATD_NS_FORWARD_H

#include <stdint.h>

#include "container.h"
#include "device.h"
#include "uevent.h"

/*
 * Telling a container about its devices (DESIGN decision 7): the device as the container's
 * udev would describe it, written to its udev database (/run/udev/data, /run/udev/tags,
 * /run/udev/control) and announced as a udev message on netlink group 2 from a socket that
 * lives in the container's network namespace, with credentials that read as the container's
 * root, so that unmodified libudev monitors inside accept it.
 */

/* The container view of a device: its udev properties and tags. */
struct device_view {
	struct uevent ev;             /* ACTION, DEVPATH, SUBSYSTEM, DEVNAME, ... as properties */
	char buf[UEVENT_MAX_SIZE];    /* where the strings live */
	const char *tags[8];
	size_t n_tags;
	char db_id[64];               /* "c13:65", or "+sound:card1" for devices without a node */
};

/* Builds the view of dev on seat for action ("add", "change", "remove"). */
int device_view_build(struct device_view *view, const struct device *dev, const char *action,
	uint64_t seqnum);

struct forwarder {
	int fd; /* NETLINK_KOBJECT_UEVENT, in the container's network namespace */
	uint32_t port; /* its port id there */
	uint32_t requests; /* messages sent to the kernel: their sequence numbers */
	uint64_t seqnum;
};

/*
 * Makes the socket inside the container's network namespace (a setns there and back),
 * connected to the kernel: the container's processes cannot queue anything on it.
 */
int forwarder_open(struct forwarder *f, const struct container *c);
void forwarder_close(struct forwarder *f);

/*
 * Makes /run/udev/control in the container: libudev monitors there receive udev messages
 * only if it exists when they start, so it is made at registration.
 */
int forward_prepare(const struct container *c);

/*
 * Writes or removes the udev database entry and tag files of a view in the container, in
 * its /run/udev as it is now: the directories are looked up each time (one lookup each),
 * never kept, because the container can rename them or mount over them at any time.
 */
int forward_db_write(struct forwarder *f, const struct container *c,
	const struct device_view *view);
int forward_db_remove(struct forwarder *f, const struct container *c,
	const struct device_view *view);

/* Sends the view as a udev message on group 2 with the container root's credentials. */
int forward_send(struct forwarder *f, const struct container *c, const struct device_view *view);

/*
 * For a container that runs its own udevd: injects the kernel-format event of the view into
 * the container's network namespace through the kernel, which broadcasts it on group 1 there
 * as its own. Returns 0, or -1 with errno (the kernel's verdict).
 */
int forward_inject_kernel(struct forwarder *f, const struct container *c,
	const struct device_view *view);

#endif
