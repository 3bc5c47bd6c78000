#ifndef _SEATD_NS_REVOKE_H
#define _SEATD_NS_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup_devices.h"
#include "container.h"
#include "devtable.h"

/*
 * What a container's processes still hold of a device taken back from it. The cgroup program
 * checks access at open() only and removing a node closes nothing, so a process that opened a
 * device itself would keep reading the next user's keys or microphone. When a device is taken
 * back from a container that stays alive, every process of the container (of its pid
 * namespace and the ones below it) is searched, through /proc, for open files of the device:
 * each is duplicated with pidfd_getfd and revoked on the duplicate, which kills the open file
 * the container shares (EVIOCREVOKE for evdev, HIDIOCREVOKE for hidraw). What cannot be
 * revoked that way (a sound node: ALSA has no revoke; a memory mapping of one; the fd table
 * of a thread that unshared it; a process that cannot be reached) gets the device
 * disconnected: the driver of the hardware it hangs on is unbound and bound again, which makes
 * every open file of it fail with ENODEV; it comes back with new uevents, for whoever then
 * has its seat. Nothing is looked up through a path the container controls: /proc and sysfs
 * are the host's, fds are reached through pidfds.
 *
 * Not found by the search: a file only in flight in a unix socket (SCM_RIGHTS) or registered
 * with io_uring, and processes of the container outside its pid namespace.
 */

/* How the open files of a device are taken back. */
enum revoke_kind {
	REVOKE_EVDEV,  /* EVIOCREVOKE */
	REVOKE_HIDRAW, /* HIDIOCREVOKE, Linux 6.12 */
	REVOKE_NONE,   /* no revoke (sound): a holder means a disconnect */
};

struct revoke_scan {
	unsigned processes; /* of the container, searched */
	unsigned revoked;   /* open files revoked */
	unsigned held;      /* open files or mappings still alive that could not be revoked */
};

/*
 * Revokes, in every process of the pid namespace of the container whose init is pidfd (pid
 * in our namespace) and in those below it, the open files of the character devices devnums[]
 * that kind can revoke, and counts the others. 0, or -1 with errno (ESRCH: the init is gone;
 * EBUSY: it shares our pid namespace, so its processes cannot be told from the host's).
 */
int revoke_scan_container(pid_t pid, int pidfd, const dev_t *devnums, size_t n,
	enum revoke_kind kind, struct revoke_scan *scan);

/*
 * Takes dev, just taken back from container c (its node removed and its access denied in
 * cgroup, which may be NULL), from what c's processes still hold, as above. A sound card is
 * taken back whole with its control node: its other nodes are denied too, then searched for
 * together; its other nodes are left to that. Other kinds (DRM, the shared sound nodes) are
 * not searched. 0 when nothing is left open, or -1 with errno.
 */
int revoke_device(const struct container *c, struct cgroup_devices *cgroup,
	struct devtable *table, const struct device *dev);

/*
 * Whether this kernel can revoke a hidraw fd, asked once with HIDIOCREVOKE on a fresh fd of
 * dev (a hidraw device) and remembered; said in the log once. false also when dev's node
 * cannot be opened to ask (then asked again next time).
 */
bool revoke_hidraw_possible(const struct device *dev);

#endif
