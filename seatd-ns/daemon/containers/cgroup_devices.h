#ifndef _SEATD_NS_CGROUP_DEVICES_H
#define _SEATD_NS_CGROUP_DEVICES_H

#include <sys/types.h>

/*
 * Device access control of one container (DESIGN decision 6). On cgroup v2 the container's
 * cgroup gets its own device program (kernel/device_filter.h): deny by default, the basic
 * devices, and the devices granted here, one map update each. Where the container's cgroup
 * v1 devices controller restricts devices as well (its devices.list is not "a *:* rwm", as
 * LXC sets it up), a grant is also written to its devices.allow and a revocation to its
 * devices.deny: the kernel allows an access only if both hierarchies do. The program
 * governs the container's whole subtree; a v1 grant reaches only the container's own v1
 * cgroup (the kernel copies rules into a child cgroup when it is made, and later passes
 * down revocations, not grants: child cgroups that an inner init made to restrict its
 * services keep their rules).
 *
 * Every change is verified in the kernel, not just written: that our program is among
 * those the kernel runs for the container's cgroup, that the map holds what was set, that
 * devices.list says what was written, and that the container's init is still alive and
 * inside the cgroups we act on.
 *
 * Errors (functions return -1 or NULL and set errno):
 *   ESRCH   the container's init has exited (or no such process)
 *   ENOENT  its cgroup was removed, or it has none we can see
 *   ESTALE  its init was moved out of the cgroup we act on, or our program was detached
 *           by someone else: our changes no longer reach it
 *   EBUSY   (open) the container shares the daemon's cgroup, or one above it: restricting
 *           it would restrict the daemon, so nothing is attached
 *   ENOTSUP (open) no way to restrict it: no cgroup v2 and its v1 devices cgroup allows
 *           everything; (deny) a wider v1 rule ("c 13:* rwm") still grants the device and
 *           there is no program to deny it
 *   EINVAL  a bad type, access or device number
 *   E2BIG   (allow) the map is full (DEVICE_FILTER_MAX_DEVICES)
 *   EIO     the kernel does not show what was written
 *   EPERM, EACCES   the kernel refused (not root; a v1 parent cgroup that lacks the device)
 */

/* Access bits, as in devices.allow ("rwm") and the kernel's BPF_DEVCG_ACC_*. */
#define CGROUP_DEVICES_MKNOD 1u
#define CGROUP_DEVICES_READ 2u
#define CGROUP_DEVICES_WRITE 4u
#define CGROUP_DEVICES_RW (CGROUP_DEVICES_READ | CGROUP_DEVICES_WRITE)

struct cgroup_devices;

/*
 * Takes over device access control for the container whose init is pid, held by pidfd
 * (which it duplicates: a pid alone could name another process by now). The container's
 * cgroup is the root of its cgroup namespace when it has one of its own (so that an init
 * that moved itself into a child cgroup, as systemd does with init.scope, still has the
 * whole container governed), else the init's cgroup; v1 and v2 paths come from
 * /proc/PID/cgroup and our /proc/self/mountinfo. Our program replaces any program of ours
 * that a previous daemon left there, so the container starts with only the basic devices.
 */
struct cgroup_devices *cgroup_devices_open(pid_t pid, int pidfd);

/*
 * Whether the cgroup v2 that cgroup_devices_open would take for pid is other's, or above or
 * below it: their device programs would then govern each other's processes.
 */
bool cgroup_devices_overlap(pid_t pid, const struct cgroup_devices *other);

/*
 * Grants access (CGROUP_DEVICES_* bits) to a device, type 'c' or 'b'; granting again
 * replaces the access. On failure nothing is granted.
 */
int cgroup_devices_allow(struct cgroup_devices *c, char type, unsigned major, unsigned minor,
	unsigned access);

/*
 * Takes access bits away from a device (all of them: CGROUP_DEVICES_MKNOD | _RW). The
 * change is made even when the container is gone or moved (and then -1 says so).
 */
int cgroup_devices_deny(struct cgroup_devices *c, char type, unsigned major, unsigned minor,
	unsigned access);

/*
 * Checks that the container is still governed: its init is alive and inside our cgroups,
 * and our program is in force there. 0, or -1 with errno as above.
 */
int cgroup_devices_check(struct cgroup_devices *c);

/* Where it acts, for logs: the v2 cgroup and the v1 devices one, each NULL when unused. */
const char *cgroup_devices_v2_path(const struct cgroup_devices *c);
const char *cgroup_devices_v1_path(const struct cgroup_devices *c);

/*
 * Detaches the program and frees everything, also when it returns -1 (the kernel refused
 * to detach). A removed cgroup is no error. It takes nothing away: a live container then
 * has what its other policy allows (LXC's program, and its v1 devices.list including
 * our grants), so deny its devices first.
 */
int cgroup_devices_close(struct cgroup_devices *c);
/*
 * Frees c but leaves the program in force, with what it allows now: for a daemon that exits
 * and leaves its containers to the next one, which replaces the program when it re-adopts them.
 */
void cgroup_devices_leave(struct cgroup_devices *c);

#endif
