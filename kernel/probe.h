#ifndef _SEATD_NS_KERNEL_PROBE_H
#define _SEATD_NS_KERNEL_PROBE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * A probe of the kernel features seatd-ns relies on (kernel/README.md says why each one
 * matters and where it comes from). Every probe exercises the feature for real on the
 * running kernel, in throwaway namespaces, cgroups and /tmp directories that it removes
 * again, also when it fails. It needs root; as another user most probes are untested.
 */

enum kernel_probe_id {
	KERNEL_PROBE_UEVENT_INJECT,     /* a uevent sent into a netns comes back from the kernel */
	KERNEL_PROBE_UEVENT_ISOLATION,  /* a netns owned by a user namespace gets no host uevents */
	KERNEL_PROBE_UDEV_CREDENTIALS,  /* group 2 message with the container root's credentials */
	KERNEL_PROBE_PIDFD,             /* pidfd_open, setns through a pidfd */
	KERNEL_PROBE_OPENAT2,           /* RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS refuse symlinks */
	KERNEL_PROBE_MOUNT_API,         /* open_tree(OPEN_TREE_CLONE) + move_mount */
	KERNEL_PROBE_CGROUP_V2,         /* where the cgroup2 hierarchy is */
	KERNEL_PROBE_CGROUP_V1_DEVICES, /* where the v1 devices controller is; deny enforced */
	KERNEL_PROBE_BPF_DEVICE,        /* cgroup device programs load, attach, enforce, detach */
	KERNEL_PROBE_BPF_DEVICE_MAP,    /* a device program driven by a hash map */
	KERNEL_PROBE_DEVICE_CGROUP,     /* summary: some way to control device access works */
	KERNEL_PROBE_COUNT,
};

enum kernel_probe_status {
	KERNEL_PROBE_AVAILABLE,
	KERNEL_PROBE_MISSING,
	KERNEL_PROBE_UNTESTED, /* could not be checked: no privilege, or a prerequisite missing */
};

enum kernel_probe_need {
	KERNEL_PROBE_REQUIRED,    /* the daemon cannot do its job without it */
	KERNEL_PROBE_ALTERNATIVE, /* one of the ways to control devices: see DEVICE_CGROUP */
	KERNEL_PROBE_OPTIONAL,    /* used when present */
};

#define KERNEL_PROBE_DETAIL_MAX 320

struct kernel_probe_result {
	enum kernel_probe_id id;
	const char *key;  /* stable, for scripts: "uevent_inject" */
	const char *name; /* for people */
	enum kernel_probe_need need;
	enum kernel_probe_status status;
	char detail[KERNEL_PROBE_DETAIL_MAX]; /* what was seen, or what failed and how */
};

struct kernel_probe_report {
	char kernel_release[65];
	struct kernel_probe_result results[KERNEL_PROBE_COUNT];
};

/* Runs every probe, one after the other; takes a few seconds at most. */
void kernel_probe_run(struct kernel_probe_report *report);

/* Whether every feature the daemon requires is available. */
bool kernel_probe_ok(const struct kernel_probe_report *report);

const char *kernel_probe_status_name(enum kernel_probe_status status);
const char *kernel_probe_need_name(enum kernel_probe_need need);

/* One row per feature, then a verdict line. */
void kernel_probe_print_table(const struct kernel_probe_report *report, FILE *out);

/* {"ok":..., "kernel":..., "features":[{"id","name","need","status","detail"}, ...]} */
void kernel_probe_print_json(const struct kernel_probe_report *report, FILE *out);

/*
 * The cgroup hierarchies, from /proc/self/mountinfo: hosts mount v2 alone, v1 alone, or
 * both (v2 at /sys/fs/cgroup/unified), so the paths are never assumed. An empty string
 * means not mounted. The *_own paths are this process's cgroup in that hierarchy.
 */
struct kernel_probe_cgroups {
	char v2[PATH_MAX];
	char v2_own[PATH_MAX];
	char v1_devices[PATH_MAX];
	char v1_devices_own[PATH_MAX];
};

/*
 * Returns 0 (even if neither is mounted), or -1 with errno set if mountinfo is unreadable.
 * Where this process's cgroup is not visible in a mount, *_own is the mount's root.
 */
int kernel_probe_find_cgroups(struct kernel_probe_cgroups *cgroups);

/*
 * The same for process pid (the daemon's containers), except that *_own is empty where
 * that process's cgroup is not visible in our mount: never a stand-in. -1 with errno when
 * mountinfo or /proc/PID/cgroup cannot be read (ESRCH: no such process).
 */
int kernel_probe_find_cgroups_of(pid_t pid, struct kernel_probe_cgroups *cgroups);

/*
 * Process pid's cgroup (0: this process) in the v2 hierarchy and in the v1 devices one,
 * as /proc/PID/cgroup gives them: relative to the reader's cgroup namespace. Both buffers
 * have PATH_MAX bytes; empty when the process has none there. -1 with errno (ESRCH: no
 * such process).
 */
int kernel_probe_read_proc_cgroup(pid_t pid, char *v2, char *v1_devices);

#endif
