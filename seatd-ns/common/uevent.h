#ifndef _SEATD_NS_UEVENT_H
#define _SEATD_NS_UEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The uevent codec: the kernel's format ("ACTION@DEVPATH\0KEY=VALUE\0...", as received on a
 * NETLINK_KOBJECT_UEVENT socket bound to group 1, at most 2048 bytes when the kernel makes it)
 * and the property list that udev's own messages carry after their header (udev_message.h).
 *
 * Everything that arrives here is untrusted: the parser checks every field that the daemon
 * later uses as a path or a number and rejects the whole message otherwise. A parsed uevent
 * points into the caller's buffer; it is valid while that buffer is.
 */

#define UEVENT_MAX_SIZE 8192
#define UEVENT_MAX_PROPERTIES 128

enum uevent_action {
	UEVENT_ACTION_ADD,
	UEVENT_ACTION_REMOVE,
	UEVENT_ACTION_CHANGE,
	UEVENT_ACTION_MOVE,
	UEVENT_ACTION_ONLINE,
	UEVENT_ACTION_OFFLINE,
	UEVENT_ACTION_BIND,
	UEVENT_ACTION_UNBIND,
};

struct uevent_property {
	const char *key;
	const char *value;
};

struct uevent {
	enum uevent_action action;
	const char *devpath;     /* "/devices/...", or another kobject path ("/module/evdev") */
	const char *devpath_old; /* move only */
	const char *subsystem;
	const char *devtype;     /* may be NULL */
	const char *devname;     /* relative to /dev ("input/event1"), may be NULL */
	const char *driver;      /* may be NULL */
	bool has_devnum;
	unsigned major, minor;
	uint64_t seqnum;         /* 0 when absent */
	size_t n_properties;
	struct uevent_property properties[UEVENT_MAX_PROPERTIES];
};

/*
 * Parses a kernel-format uevent in place (buf is modified only where a missing final NUL is
 * needed, so buf must have room for len + 1 bytes). Returns 0, or -1 with errno EINVAL and a
 * static reason in *why for a message that is malformed, truncated or nonsensical.
 */
int uevent_parse_kernel(struct uevent *ev, char *buf, size_t len, const char **why);

/*
 * Parses a NUL-separated KEY=VALUE list (the payload of a udev message) in place, with the
 * same checks; ACTION, DEVPATH and SUBSYSTEM must be among the properties.
 */
int uevent_parse_properties(struct uevent *ev, char *buf, size_t len, const char **why);

/* The value of property key, or NULL. */
const char *uevent_get(const struct uevent *ev, const char *key);

const char *uevent_action_name(enum uevent_action action);
int uevent_action_parse(const char *name, enum uevent_action *action);

/*
 * Whether devpath is a sane sysfs device path: starts with "/devices/", no empty, "." or ".."
 * components, no control characters, bounded length.
 */
bool uevent_devpath_is_valid(const char *devpath);

/*
 * Writes ev in the kernel format ("ACTION@DEVPATH\0ACTION=...\0DEVPATH=...\0..." with every
 * property; SEQNUM only if with_seqnum). Returns the length, or -1 with errno ENOBUFS.
 */
int uevent_format_kernel(const struct uevent *ev, bool with_seqnum, char *buf, size_t size);

#endif
