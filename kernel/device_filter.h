#ifndef _SEATD_NS_DEVICE_FILTER_H
#define _SEATD_NS_DEVICE_FILTER_H

#include <linux/types.h>

/*
 * The cgroup v2 device program seatd-ns attaches to each container's cgroup
 * (device_filter.bpf.c) and its map. It denies by default. It allows the basic devices
 * every container needs (null, zero, full, random, urandom, tty, console, ptmx and the pts
 * majors 136 to 143, character devices, any access) and every (type, major, minor) that is
 * a key of its map, for the access bits in the value. Granting or revoking a device is one
 * map update: the program is loaded once per container and never rebuilt.
 *
 * The program runs next to the others attached to the cgroup and its ancestors
 * (BPF_F_ALLOW_MULTI, LXC's for one): the kernel allows an access only if every one of them
 * does.
 *
 * This header is shared with the BPF program, which sees only the map's layout.
 */

/* The kernel's BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* (device_filter.c checks they agree). */
#define DEVICE_FILTER_BLOCK 1u
#define DEVICE_FILTER_CHAR 2u
#define DEVICE_FILTER_MKNOD 1u
#define DEVICE_FILTER_READ 2u
#define DEVICE_FILTER_WRITE 4u
#define DEVICE_FILTER_ACCESS_ALL 7u

/* Map entries per container: a seat has tens of nodes. */
#define DEVICE_FILTER_MAX_DEVICES 1024

/* The map's key; the value is a __u32 of DEVICE_FILTER_{MKNOD,READ,WRITE} bits. */
struct device_filter_key {
	__u32 type; /* DEVICE_FILTER_BLOCK or DEVICE_FILTER_CHAR */
	__u32 major;
	__u32 minor;
};

#ifndef __bpf__

#include <stdbool.h>

struct device_filter;

/* Flags of device_filter_new. */
enum device_filter_flags {
	/* Basic devices are decided by the map too (the probe uses this to test the map). */
	DEVICE_FILTER_NO_BASIC = 1 << 0,
};

/*
 * Loads the program and creates its (empty) map. Needs CAP_BPF and CAP_SYS_ADMIN or root.
 * Returns NULL with errno set; libbpf's own messages go to the debug log.
 */
struct device_filter *device_filter_new(unsigned flags);

/* Detaches the program if it is attached, and frees everything. */
/*
 * Frees f but leaves its program attached: the kernel keeps a program attached by
 * BPF_PROG_ATTACH in force after its fds close, until the cgroup goes or someone detaches it.
 */
void device_filter_leave(struct device_filter *f);
void device_filter_free(struct device_filter *f);

/*
 * Attaches the program to the cgroup v2 directory cgroup_fd (kept as a duplicate until
 * detached) with BPF_F_ALLOW_MULTI. One cgroup at a time: EBUSY if attached already.
 */
int device_filter_attach(struct device_filter *f, int cgroup_fd);

/*
 * Detaches the program. A cgroup that was removed has dropped its programs already: that
 * is success too. Returns -1 with errno only when the kernel refused.
 */
int device_filter_detach(struct device_filter *f);

/* The fd of the cgroup it is attached to, or -1. */
int device_filter_cgroup_fd(const struct device_filter *f);

/*
 * Sets the access allowed to a device (DEVICE_FILTER_* bits); 0 removes the device. One
 * map update. -1 with EINVAL for a bad type or access, E2BIG when the map is full.
 */
int device_filter_set(struct device_filter *f, unsigned type, unsigned major, unsigned minor,
	unsigned access);

/* The access the map allows to a device (0 when it is not there); -1 with errno on error. */
int device_filter_get(const struct device_filter *f, unsigned type, unsigned major,
	unsigned minor, unsigned *access);

/*
 * Whether the program is among the device programs the kernel runs for processes in the
 * cgroup cgroup_fd (BPF_F_QUERY_EFFECTIVE): 1 or 0, or -1 with errno.
 */
int device_filter_is_effective(const struct device_filter *f, int cgroup_fd);

/*
 * Detaches from the cgroup f is attached to every other program loaded from this source
 * (same program name): what a daemon that was killed left there. Returns how many, or -1
 * with errno.
 */
int device_filter_remove_others(struct device_filter *f);

#endif /* __bpf__ */

#endif
