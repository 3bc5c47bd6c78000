#ifndef _SEATD_NS_KERNEL_PROBE_INTERNAL_H
#define _SEATD_NS_KERNEL_PROBE_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "syscalls.h"
#include "probe.h"

/*
 * What the probe's parts share: probe.c runs them in turn and builds the report;
 * probe_harness.c has the throwaway child processes they run namespaces in; each other file
 * is one area of kernel features.
 */

/* glibc 2.36 has no wrappers for some of these; the numbers are the same on every arch. */

#define TIMEOUT_MS 2000

/* Host ids of the throwaway user namespaces: root inside is PROBE_ID_BASE outside. */
#define PROBE_ID_BASE 1000000u
#define PROBE_ID_COUNT 65536u

/*
 * Child processes. Each probe that needs namespaces runs them in a forked child, so that
 * the namespaces die with it. The child talks to the probe over a SOCK_SEQPACKET pair:
 * one-byte tokens to synchronize, then its verdict, then it exits. It gets SIGKILL if the
 * probe dies, and the probe kills and reaps it in any case.
 */

struct child {
	pid_t pid;
	int fd; /* the probe's end of the pair */
};

#define NO_CHILD ((struct child){.pid = -1, .fd = -1})

struct verdict {
	enum kernel_probe_status status;
	char detail[KERNEL_PROBE_DETAIL_MAX];
};

typedef void (*child_main)(int fd, void *data);

/* probe_harness.c: results, timing, files, and the child processes. */
const char *err_name(int err);
__attribute__((format(printf, 3, 4))) void set_result(struct kernel_probe_result *r,
	enum kernel_probe_status status, const char *fmt, ...);
enum kernel_probe_status status_for_errno(int err);
long long now_ms(void);
int wait_readable(int fd, int timeout_ms);
int write_file(const char *path, const char *text);
void remove_scratch(const char *dir);
int child_start(struct child *c, child_main fn, void *data);
void child_stop(struct child *c);
void child_send_token(int fd, char token);
int child_wait_token(int fd, char token, int timeout_ms);
__attribute__((format(printf, 3, 4))) _Noreturn void child_exit(int fd,
	enum kernel_probe_status status, const char *fmt, ...);
int child_await(struct child *c, char token, struct kernel_probe_result *r);
void child_collect(struct child *c, struct kernel_probe_result *r, int timeout_ms);
int send_fd(int sock, int fd);
int child_recv_fd(struct child *c, struct kernel_probe_result *r);
void child_enter_userns_netns(int fd);
int start_userns_child(struct child *c, child_main fn, void *data,
	struct kernel_probe_result *r);

/* probe_uevent.c: (a) injection, (b) isolation, udev messages with a container's credentials. */
void probe_uevent_inject(struct kernel_probe_result *r);
void probe_uevent_isolation(struct kernel_probe_result *r);
void probe_udev_credentials(struct kernel_probe_result *r);

/* probe_namespaces.c: (c) pidfd, (d) openat2, (e) the new mount API. */
void probe_pidfd(struct kernel_probe_result *r);
void probe_openat2(struct kernel_probe_result *r);
void probe_mount_api(struct kernel_probe_result *r);

/* probe_cgroup.c: (f) the cgroup hierarchies, and scratch cgroups for the other probes. */
int cgroup_make(char *path, const char *parent);
void cgroup_remove(const char *path);
int open_in_cgroup(const char *cgroup, const char *dev, int *err);
void probe_cgroup_v2(const struct kernel_probe_cgroups *cg, struct kernel_probe_result *r);
void probe_cgroup_v1_devices(const struct kernel_probe_cgroups *cg,
	struct kernel_probe_result *r);

/* probe_bpf.c: (g) BPF cgroup device programs, plain and driven by a map. */
void probe_bpf(const struct kernel_probe_cgroups *cg, struct kernel_probe_result *dev,
	struct kernel_probe_result *map);

#endif
