#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device_filter.h"
#include "log.h"
#include "probe.h"

/* glibc 2.36 has no wrappers for some of these; the numbers are the same on every arch. */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define TIMEOUT_MS 2000
/* After the control listener got the host's event, how long the isolated one keeps looking. */
#define ISOLATION_GRACE_MS 200

#define GROUP_KERNEL 1
#define GROUP_UDEV 2
#define UEVENT_SEND 16 /* any type >= NLMSG_MIN_TYPE; what LXD and Incus use */
#define UEVENT_BUFFER_SIZE 2048

/* Host ids of the throwaway user namespaces: root inside is PROBE_ID_BASE outside. */
#define PROBE_ID_BASE 1000000u
#define PROBE_ID_COUNT 65536u

#define TRIGGER_DEVPATH "/devices/virtual/mem/null"

static const struct {
	const char *key;
	const char *name;
	enum kernel_probe_need need;
} probe_info[KERNEL_PROBE_COUNT] = {
	[KERNEL_PROBE_UEVENT_INJECT] = {"uevent_inject", "uevent injection into a netns",
		KERNEL_PROBE_OPTIONAL},
	[KERNEL_PROBE_UEVENT_ISOLATION] = {"uevent_isolation", "uevent isolation (userns netns)",
		KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_UDEV_CREDENTIALS] = {"udev_credentials", "group 2 sent as container root",
		KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_PIDFD] = {"pidfd", "pidfd_open, setns(pidfd)", KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_OPENAT2] = {"openat2", "openat2 IN_ROOT|NO_SYMLINKS", KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_MOUNT_API] = {"mount_api", "open_tree, move_mount", KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_CGROUP_V2] = {"cgroup_v2", "cgroup v2 hierarchy", KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_CGROUP_V1_DEVICES] = {"cgroup_v1_devices", "cgroup v1 devices controller",
		KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_BPF_DEVICE] = {"bpf_device", "BPF cgroup device programs",
		KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_BPF_DEVICE_MAP] = {"bpf_device_map", "BPF device policy in a map",
		KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_DEVICE_CGROUP] = {"device_cgroup", "device access control (cgroup)",
		KERNEL_PROBE_REQUIRED},
};

static const char *err_name(int err) {
	const char *name = strerrorname_np(err);
	return name != NULL ? name : strerror(err);
}

__attribute__((format(printf, 3, 4))) static void set_result(struct kernel_probe_result *r,
	enum kernel_probe_status status, const char *fmt, ...) {
	r->status = status;
	va_list args;
	va_start(args, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, args);
	va_end(args);
}

/* EPERM from a namespace or cgroup operation means "not root", not "not in this kernel". */
static enum kernel_probe_status status_for_errno(int err) {
	return err == EPERM || err == EACCES ? KERNEL_PROBE_UNTESTED : KERNEL_PROBE_MISSING;
}

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable; returns 0, or -1 with errno (ETIMEDOUT when it did not come). */
static int wait_readable(int fd, int timeout_ms) {
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r == 1) {
			return 0;
		}
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR) {
			return -1;
		}
	}
}

static int write_file(const char *path, const char *text) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n == -1 ? saved : EIO;
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
	(void)st;
	(void)ftw;
	return (type == FTW_DP || type == FTW_DNR ? rmdir(path) : unlink(path)) == -1 ? -1 : 0;
}

/* Removes a scratch directory made by the probe; logs what it could not remove. */
static void remove_scratch(const char *dir) {
	if (nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == -1 && errno != ENOENT) {
		log_warnf("kernel probe: could not remove %s: %s", dir, strerror(errno));
	}
}

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

static int child_start(struct child *c, child_main fn, void *data) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		return -1;
	}
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == -1) {
		int saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		/* No namespace of the probe may outlive it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent) {
			_exit(127);
		}
		fn(sv[1], data);
		_exit(127);
	}
	close(sv[1]);
	c->pid = pid;
	c->fd = sv[0];
	return 0;
}

static void child_stop(struct child *c) {
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->pid > 0) {
		/* Not reaped yet, so the pid cannot have been reused. */
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR) {
		}
		c->pid = -1;
	}
}

static void child_send_token(int fd, char token) {
	send(fd, &token, 1, MSG_NOSIGNAL);
}

static int child_wait_token(int fd, char token, int timeout_ms) {
	char got;
	if (wait_readable(fd, timeout_ms) == -1) {
		return -1;
	}
	ssize_t n = recv(fd, &got, 1, 0);
	if (n != 1 || got != token) {
		errno = n == -1 ? errno : EPROTO;
		return -1;
	}
	return 0;
}

__attribute__((format(printf, 3, 4))) static _Noreturn void child_exit(int fd,
	enum kernel_probe_status status, const char *fmt, ...) {
	struct verdict v = {.status = status};
	va_list args;
	va_start(args, fmt);
	vsnprintf(v.detail, sizeof(v.detail), fmt, args);
	va_end(args);
	send(fd, &v, sizeof(v), MSG_NOSIGNAL);
	_exit(0);
}

/*
 * Waits for a token from the child. Returns 0 when it came; otherwise -1 with r set: to the
 * child's verdict if it gave up early, else to why the child could not be heard.
 */
static int child_await(struct child *c, char token, struct kernel_probe_result *r) {
	struct verdict v;
	if (wait_readable(c->fd, TIMEOUT_MS) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "probe child did not answer: %s",
			err_name(errno));
		return -1;
	}
	ssize_t n = recv(c->fd, &v, sizeof(v), 0);
	if (n == 1 && *(char *)&v == token) {
		return 0;
	}
	if (n == (ssize_t)sizeof(v)) {
		v.detail[sizeof(v.detail) - 1] = '\0';
		set_result(r, v.status, "%s", v.detail);
		return -1;
	}
	set_result(r, KERNEL_PROBE_UNTESTED, "probe child died or misspoke (%zd bytes)", n);
	return -1;
}

/* Waits for the child's verdict and stores it in r. */
static void child_collect(struct child *c, struct kernel_probe_result *r, int timeout_ms) {
	struct verdict v;
	if (wait_readable(c->fd, timeout_ms) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "probe child gave no verdict: %s",
			err_name(errno));
		return;
	}
	ssize_t n = recv(c->fd, &v, sizeof(v), 0);
	if (n != (ssize_t)sizeof(v)) {
		set_result(r, KERNEL_PROBE_UNTESTED, "probe child died without a verdict");
		return;
	}
	v.detail[sizeof(v.detail) - 1] = '\0';
	set_result(r, v.status, "%s", v.detail);
}

static int send_fd(int sock, int fd) {
	char token = 'F';
	struct iovec iov = {.iov_base = &token, .iov_len = 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == -1 ? -1 : 0;
}

/* Receives an fd from the child, or its verdict (then returns -1 with r set). */
static int child_recv_fd(struct child *c, struct kernel_probe_result *r) {
	struct verdict v;
	struct iovec iov = {.iov_base = &v, .iov_len = sizeof(v)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	if (wait_readable(c->fd, TIMEOUT_MS) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "probe child did not answer: %s",
			err_name(errno));
		return -1;
	}
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		int fd;
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		return fd;
	}
	if (n == (ssize_t)sizeof(v)) {
		v.detail[sizeof(v.detail) - 1] = '\0';
		set_result(r, v.status, "%s", v.detail);
	} else {
		set_result(r, KERNEL_PROBE_UNTESTED, "probe child died before passing its socket");
	}
	return -1;
}

/* Child side: a new user namespace (root inside is PROBE_ID_BASE outside) owning a new netns. */
static void child_enter_userns_netns(int fd) {
	pid_t parent = getppid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWUSER|CLONE_NEWNET): %s",
			err_name(errno));
	}
	/* New credentials clear the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent) {
		_exit(127);
	}
	child_send_token(fd, 'U');
	if (child_wait_token(fd, 'M', TIMEOUT_MS) == -1) {
		child_exit(fd, KERNEL_PROBE_UNTESTED, "the probe did not map the child's ids");
	}
}

/* Probe side: starts a child that calls child_enter_userns_netns, and writes its id maps. */
static int start_userns_child(struct child *c, child_main fn, void *data,
	struct kernel_probe_result *r) {
	if (child_start(c, fn, data) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		return -1;
	}
	if (child_await(c, 'U', r) == -1) {
		return -1;
	}
	char path[64], map[64];
	snprintf(map, sizeof(map), "0 %u %u\n", PROBE_ID_BASE, PROBE_ID_COUNT);
	const char *files[] = {"uid_map", "gid_map"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)c->pid, files[i]);
		if (write_file(path, map) == -1) {
			set_result(r, status_for_errno(errno), "write %s: %s", path,
				err_name(errno));
			return -1;
		}
	}
	child_send_token(c->fd, 'M');
	return child_await(c, 'R', r);
}

/* A bound NETLINK_KOBJECT_UEVENT socket listening to groups (0: none), with SO_PASSCRED. */
static int uevent_socket(unsigned groups) {
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), one = 1;
	if (fd == -1) {
		return -1;
	}
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
		bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct received {
	char data[UEVENT_BUFFER_SIZE * 2];
	size_t len;
	struct sockaddr_nl from;
	struct ucred cred;
	bool has_cred;
};

/* Receives one message within timeout_ms, NUL-terminated, with sender and credentials. */
static int uevent_receive(int fd, struct received *m, int timeout_ms) {
	if (wait_readable(fd, timeout_ms) == -1) {
		return -1;
	}
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = {.iov_base = m->data, .iov_len = sizeof(m->data) - 1};
	struct msghdr msg = {
		.msg_name = &m->from,
		.msg_namelen = sizeof(m->from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(fd, &msg, 0);
	if (n == -1) {
		return -1;
	}
	m->len = (size_t)n;
	m->data[m->len] = '\0';
	m->has_cred = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&m->cred, CMSG_DATA(c), sizeof(m->cred));
			m->has_cred = true;
		}
	}
	return 0;
}

/* (a) uevent injection: the kernel takes a uevent sent into a netns and broadcasts it there. */

static const char inject_payload[] = "change@/devices/virtual/probe\0ACTION=change\0"
				     "DEVPATH=/devices/virtual/probe\0SUBSYSTEM=probe\0";

static void child_uevent_inject(int fd, void *data) {
	(void)data;
	if (unshare(CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWNET): %s",
			err_name(errno));
	}
	int listener = uevent_socket(GROUP_KERNEL), sender = uevent_socket(0);
	if (listener == -1 || sender == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "NETLINK_KOBJECT_UEVENT socket: %s",
			err_name(errno));
	}
	/* The literal's own terminator is not part of the event. */
	size_t len = sizeof(inject_payload) - 1;
	union {
		struct nlmsghdr h;
		char raw[NLMSG_SPACE(sizeof(inject_payload))];
	} req;
	memset(&req, 0, sizeof(req));
	req.h = (struct nlmsghdr){
		.nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
		.nlmsg_type = UEVENT_SEND,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = 1,
	};
	memcpy(NLMSG_DATA(&req.h), inject_payload, len);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(sender, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		    sizeof(kernel)) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "send to the kernel: %s", err_name(errno));
	}
	union {
		struct nlmsghdr h;
		char raw[512];
	} ack;
	if (wait_readable(sender, TIMEOUT_MS) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "no ACK from the kernel: %s", err_name(errno));
	}
	ssize_t n = recv(sender, &ack, sizeof(ack), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ack.h.nlmsg_type != NLMSG_ERROR) {
		child_exit(fd, KERNEL_PROBE_MISSING, "no ACK from the kernel (%zd bytes)", n);
	}
	const struct nlmsgerr *err = NLMSG_DATA(&ack.h);
	if (err->error != 0) {
		child_exit(fd, KERNEL_PROBE_MISSING, "the kernel refused the uevent: %s",
			err_name(-err->error));
	}
	static struct received m;
	if (uevent_receive(listener, &m, TIMEOUT_MS) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "acked, but nothing arrived on group 1: %s",
			err_name(errno));
	}
	if (m.from.nl_pid != 0 || m.from.nl_groups != GROUP_KERNEL) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"arrived from port %u on groups %u, not from the kernel", m.from.nl_pid,
			m.from.nl_groups);
	}
	const char *seqnum = m.data + len;
	size_t digits = m.len > len + 7 ? strspn(seqnum + 7, "0123456789") : 0;
	if (m.len <= len || memcmp(m.data, inject_payload, len) != 0 ||
		strncmp(seqnum, "SEQNUM=", 7) != 0 || digits == 0 ||
		len + 7 + digits + 1 != m.len) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"the event came back changed (%zu bytes, expected ours + SEQNUM)", m.len);
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE,
		"acked; a group 1 listener got it from port 0 with %s appended", seqnum);
}

static void probe_uevent_inject(struct kernel_probe_result *r) {
	struct child c = NO_CHILD;
	if (child_start(&c, child_uevent_inject, NULL) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		return;
	}
	child_collect(&c, r, 2 * TIMEOUT_MS + 1000);
	child_stop(&c);
}

/*
 * (b) uevent isolation: a host uevent reaches a listener in a privileged netns (the control)
 * but not one in a netns owned by a new user namespace.
 */

static bool is_trigger_event(const struct received *m) {
	return strcmp(m->data, "change@" TRIGGER_DEVPATH) == 0;
}

static void child_isolation_control(int fd, void *data) {
	(void)data;
	if (unshare(CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWNET): %s",
			err_name(errno));
	}
	int listener = uevent_socket(GROUP_KERNEL);
	if (listener == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "uevent socket: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	static struct received m;
	long long deadline = now_ms() + TIMEOUT_MS;
	while (now_ms() < deadline) {
		if (uevent_receive(listener, &m, (int)(deadline - now_ms())) == -1) {
			break;
		}
		if (is_trigger_event(&m)) {
			child_exit(fd, KERNEL_PROBE_AVAILABLE, "received");
		}
	}
	child_exit(fd, KERNEL_PROBE_MISSING, "received nothing in %d ms", TIMEOUT_MS);
}

static void child_isolation_listener(int fd, void *data) {
	(void)data;
	child_enter_userns_netns(fd);
	int listener = uevent_socket(GROUP_KERNEL);
	if (listener == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "uevent socket: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	static struct received m;
	unsigned others = 0;
	bool done = false;
	long long deadline = now_ms() + 3 * TIMEOUT_MS;
	while (now_ms() < deadline) {
		struct pollfd pfd[2] = {
			{.fd = listener, .events = POLLIN},
			{.fd = fd, .events = POLLIN},
		};
		long long left = deadline - now_ms();
		int n = poll(pfd, done ? 1 : 2, left > 0 ? (int)left : 0);
		if (n == -1 && errno != EINTR) {
			child_exit(fd, KERNEL_PROBE_UNTESTED, "poll: %s", err_name(errno));
		}
		if (n == 0 && done) {
			break;
		}
		if (n > 0 && (pfd[0].revents & POLLIN) != 0 &&
			uevent_receive(listener, &m, 0) == 0) {
			if (is_trigger_event(&m)) {
				child_exit(fd, KERNEL_PROBE_MISSING,
					"a netns owned by a new user namespace received the host's "
					"change@" TRIGGER_DEVPATH);
			}
			others++;
		}
		if (!done && n > 0 && (pfd[1].revents & (POLLIN | POLLHUP)) != 0) {
			/* The control has its event: anything still on its way is here by now. */
			if (child_wait_token(fd, 'D', 0) == -1) {
				child_exit(fd, KERNEL_PROBE_UNTESTED, "lost the probe");
			}
			done = true;
			deadline = now_ms() + ISOLATION_GRACE_MS;
		}
	}
	if (!done) {
		child_exit(fd, KERNEL_PROBE_UNTESTED, "the probe never said the event was out");
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE, "%u unrelated messages", others);
}

static void probe_uevent_isolation(struct kernel_probe_result *r) {
	const char *trigger = "/sys" TRIGGER_DEVPATH "/uevent";
	struct child control = NO_CHILD, isolated = NO_CHILD;
	struct kernel_probe_result control_result = {0};
	int tfd = open(trigger, O_WRONLY | O_CLOEXEC);
	if (tfd == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "cannot trigger a host uevent: open %s: %s",
			trigger, err_name(errno));
		return;
	}
	if (child_start(&control, child_isolation_control, NULL) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	if (child_await(&control, 'R', r) == -1) {
		r->status = KERNEL_PROBE_UNTESTED;
		goto out;
	}
	if (start_userns_child(&isolated, child_isolation_listener, NULL, r) == -1) {
		goto out;
	}
	if (write(tfd, "change", 6) != 6) {
		set_result(r, KERNEL_PROBE_UNTESTED, "write %s: %s", trigger, err_name(errno));
		goto out;
	}
	child_collect(&control, &control_result, TIMEOUT_MS + 1000);
	if (control_result.status != KERNEL_PROBE_AVAILABLE) {
		set_result(r, KERNEL_PROBE_UNTESTED,
			"the control listener in a privileged netns got no host uevent: %s",
			control_result.detail);
		goto out;
	}
	child_send_token(isolated.fd, 'D');
	child_collect(&isolated, r, TIMEOUT_MS);
	if (r->status == KERNEL_PROBE_AVAILABLE) {
		char seen[KERNEL_PROBE_DETAIL_MAX];
		snprintf(seen, sizeof(seen), "%s", r->detail);
		set_result(r, KERNEL_PROBE_AVAILABLE,
			"host change@" TRIGGER_DEVPATH " reached a privileged netns, not a "
			"userns-owned one (that one got %s)",
			seen);
	}
out:
	child_stop(&isolated);
	child_stop(&control);
	close(tfd);
}

/*
 * (h) udev-format messages to group 2 from a socket the probe opened in a netns owned by a
 * user namespace, sent with the credentials of that namespace's root (DESIGN decision 7).
 */

static const char explicit_payload[] = "seatd-ns-probe explicit";
static const char implicit_payload[] = "seatd-ns-probe implicit";

static void child_udev_listener(int fd, void *data) {
	(void)data;
	child_enter_userns_netns(fd);
	int listener = uevent_socket(GROUP_UDEV);
	if (listener == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "group 2 listener: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	static struct received m;
	struct received_summary {
		bool seen;
		struct ucred cred;
		struct sockaddr_nl from;
	} expl = {0}, impl = {0};
	long long deadline = now_ms() + TIMEOUT_MS;
	while ((!expl.seen || !impl.seen) && now_ms() < deadline) {
		if (uevent_receive(listener, &m, (int)(deadline - now_ms())) == -1) {
			break;
		}
		struct received_summary *s = strcmp(m.data, explicit_payload) == 0 ? &expl
			: strcmp(m.data, implicit_payload) == 0			  ? &impl
										  : NULL;
		if (s != NULL && m.has_cred) {
			s->seen = true;
			s->cred = m.cred;
			s->from = m.from;
		}
	}
	if (!expl.seen) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"the message sent with explicit credentials did not arrive");
	}
	if (expl.cred.uid != 0 || expl.cred.gid != 0 || expl.from.nl_groups != GROUP_UDEV ||
		expl.from.nl_pid == 0) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"explicit credentials arrived as uid %u gid %u from port %u on groups %u",
			(unsigned)expl.cred.uid, (unsigned)expl.cred.gid, expl.from.nl_pid,
			expl.from.nl_groups);
	}
	char implicit[48] = "did not arrive";
	if (impl.seen) {
		snprintf(implicit, sizeof(implicit), "arrives as uid %u", (unsigned)impl.cred.uid);
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE,
		"host uid %u arrives as uid 0 gid 0 on group 2 from port %u; implicit host root %s",
		PROBE_ID_BASE, expl.from.nl_pid, implicit);
}

static void child_socket_in_netns(int fd, void *data) {
	int nsfd = *(int *)data;
	if (setns(nsfd, CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "setns(net): %s", err_name(errno));
	}
	int sock = uevent_socket(0);
	if (sock == -1 || send_fd(fd, sock) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "socket in the netns: %s", err_name(errno));
	}
	_exit(0);
}

static int send_to_group(int sock, const char *payload, bool explicit_creds) {
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = GROUP_UDEV};
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = strlen(payload) + 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_name = &dest,
		.msg_namelen = sizeof(dest),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	if (explicit_creds) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
		struct ucred cred = {.pid = getpid(), .uid = PROBE_ID_BASE, .gid = PROBE_ID_BASE};
		memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == -1 ? -1 : 0;
}

static void probe_udev_credentials(struct kernel_probe_result *r) {
	struct child listener = NO_CHILD, helper = NO_CHILD;
	int nsfd = -1, sock = -1;
	if (start_userns_child(&listener, child_udev_listener, NULL, r) == -1) {
		goto out;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)listener.pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "open %s: %s", path, err_name(errno));
		goto out;
	}
	/* What the daemon does once per container: a socket made in its netns, kept. */
	if (child_start(&helper, child_socket_in_netns, &nsfd) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	sock = child_recv_fd(&helper, r);
	if (sock == -1) {
		goto out;
	}
	if (send_to_group(sock, explicit_payload, true) == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "send with SCM_CREDENTIALS uid %u: %s",
			PROBE_ID_BASE, err_name(errno));
		goto out;
	}
	if (send_to_group(sock, implicit_payload, false) == -1) {
		log_debugf("kernel probe: send with implicit credentials: %s", strerror(errno));
	}
	child_collect(&listener, r, TIMEOUT_MS + 1000);
out:
	if (sock != -1) {
		close(sock);
	}
	if (nsfd != -1) {
		close(nsfd);
	}
	child_stop(&helper);
	child_stop(&listener);
}

/* (c) pidfd_open, and setns through a pidfd into another process's namespaces. */

static const char pidfd_hostname[] = "seatd-ns-probe";

static void child_pidfd_target(int fd, void *data) {
	(void)data;
	if (unshare(CLONE_NEWNET | CLONE_NEWUTS) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWNET|CLONE_NEWUTS): %s",
			err_name(errno));
	}
	if (sethostname(pidfd_hostname, strlen(pidfd_hostname)) == -1) {
		child_exit(fd, KERNEL_PROBE_UNTESTED, "sethostname: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	/* Lives until the probe kills it through the pidfd. */
	child_wait_token(fd, 'Q', 10 * TIMEOUT_MS);
	child_exit(fd, KERNEL_PROBE_UNTESTED, "was not killed");
}

struct pidfd_join {
	int pidfd;
	struct stat target_net;
};

static void child_pidfd_join(int fd, void *data) {
	const struct pidfd_join *join = data;
	if (setns(join->pidfd, CLONE_NEWNET | CLONE_NEWUTS) == -1) {
		child_exit(fd, errno == EINVAL ? KERNEL_PROBE_MISSING : status_for_errno(errno),
			"setns(pidfd, CLONE_NEWNET|CLONE_NEWUTS): %s%s", err_name(errno),
			errno == EINVAL ? " (setns takes a pidfd since Linux 5.8)" : "");
	}
	struct stat net;
	struct utsname uts;
	if (stat("/proc/self/ns/net", &net) == -1 || uname(&uts) == -1) {
		child_exit(fd, KERNEL_PROBE_UNTESTED, "stat or uname: %s", err_name(errno));
	}
	if (net.st_ino != join->target_net.st_ino || net.st_dev != join->target_net.st_dev ||
		strcmp(uts.nodename, pidfd_hostname) != 0) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"setns(pidfd) did not join the target's namespaces");
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE, "joined");
}

static void probe_pidfd(struct kernel_probe_result *r) {
	struct child target = NO_CHILD, joiner = NO_CHILD;
	struct pidfd_join join = {.pidfd = -1};
	if (child_start(&target, child_pidfd_target, NULL) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	if (child_await(&target, 'R', r) == -1) {
		goto out;
	}
	join.pidfd = (int)syscall(SYS_pidfd_open, target.pid, 0);
	if (join.pidfd == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "pidfd_open: %s%s", err_name(errno),
			errno == ENOSYS ? " (Linux 5.3 added it)" : "");
		goto out;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)target.pid);
	if (stat(path, &join.target_net) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "stat %s: %s", path, err_name(errno));
		goto out;
	}
	if (child_start(&joiner, child_pidfd_join, &join) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	child_collect(&joiner, r, TIMEOUT_MS);
	if (r->status != KERNEL_PROBE_AVAILABLE) {
		goto out;
	}
	if (syscall(SYS_pidfd_send_signal, join.pidfd, SIGKILL, NULL, 0) == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "pidfd_send_signal: %s", err_name(errno));
		goto out;
	}
	if (wait_readable(join.pidfd, TIMEOUT_MS) == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "the pidfd did not report the exit: %s",
			err_name(errno));
		goto out;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"pidfd_open; setns(pidfd, NET|UTS) joined a child's namespaces; "
		"pidfd_send_signal killed it and poll saw the exit");
out:
	if (join.pidfd != -1) {
		close(join.pidfd);
	}
	child_stop(&joiner);
	child_stop(&target);
}

/* (d) openat2 confined to a directory, refusing every symlink. */

static int openat2_in_root(int dirfd, const char *path) {
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int touch_at(int dirfd, const char *name) {
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		return -1;
	}
	close(fd);
	return 0;
}

static void probe_openat2(struct kernel_probe_result *r) {
	char dir[] = "/tmp/seatd-ns-probe.XXXXXX";
	char path[sizeof(dir) + 32];
	int rootfd = -1;
	if (mkdtemp(dir) == NULL) {
		set_result(r, KERNEL_PROBE_UNTESTED, "mkdtemp: %s", err_name(errno));
		return;
	}
	/* root/escape -> ../outside tries to leave the root; root/here -> . is a symlink too. */
	snprintf(path, sizeof(path), "%s/root", dir);
	if (mkdir(path, 0700) == -1 ||
		(rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		touch_at(rootfd, "inside") == -1 || touch_at(rootfd, "../outside") == -1 ||
		symlinkat("../outside", rootfd, "escape") == -1 ||
		symlinkat(".", rootfd, "here") == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "scratch files in %s: %s", dir,
			err_name(errno));
		goto out;
	}
	int fd = openat2_in_root(rootfd, "inside");
	if (fd == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "openat2 of a plain file: %s%s",
			err_name(errno), errno == ENOSYS ? " (Linux 5.6 added it)" : "");
		goto out;
	}
	close(fd);
	/* A symlink as last component, one in the middle, and ".." past the root. */
	static const struct {
		const char *path;
		int expect1, expect2;
	} traps[] = {
		{"escape", ELOOP, EXDEV},
		{"here/inside", ELOOP, EXDEV},
		{"../outside", ENOENT, EXDEV},
	};
	for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
		fd = openat2_in_root(rootfd, traps[i].path);
		if (fd != -1) {
			close(fd);
			set_result(r, KERNEL_PROBE_MISSING, "openat2 opened \"%s\" in %s/root",
				traps[i].path, dir);
			goto out;
		}
		if (errno != traps[i].expect1 && errno != traps[i].expect2) {
			set_result(r, KERNEL_PROBE_MISSING, "openat2 of \"%s\": %s, not %s",
				traps[i].path, err_name(errno), err_name(traps[i].expect1));
			goto out;
		}
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"a planted symlink (last or middle component) fails with ELOOP; \"..\" stays "
		"inside the root");
out:
	if (rootfd != -1) {
		close(rootfd);
	}
	remove_scratch(dir);
}

/* (e) the new mount API: a detached clone of a tree attached elsewhere (a bind mount). */

struct mount_paths {
	char src[64];
	char dst[64];
	char marker[80];
};

static void child_mount_api(int fd, void *data) {
	const struct mount_paths *p = data;
	if (unshare(CLONE_NEWNS) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWNS): %s",
			err_name(errno));
	}
	/* Nothing done here may propagate back to the host's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		child_exit(fd, KERNEL_PROBE_UNTESTED, "making / private: %s", err_name(errno));
	}
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, p->src,
		OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "open_tree(OPEN_TREE_CLONE): %s%s",
			err_name(errno), errno == ENOSYS ? " (Linux 5.2 added it)" : "");
	}
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, p->dst, MOVE_MOUNT_F_EMPTY_PATH) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "move_mount: %s", err_name(errno));
	}
	char seen[128];
	snprintf(seen, sizeof(seen), "%s/marker", p->dst);
	if (access(seen, F_OK) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "after move_mount, %s is missing", seen);
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE, "attached");
}

static void probe_mount_api(struct kernel_probe_result *r) {
	char dir[] = "/tmp/seatd-ns-probe.XXXXXX";
	struct mount_paths p;
	struct child c = NO_CHILD;
	if (mkdtemp(dir) == NULL) {
		set_result(r, KERNEL_PROBE_UNTESTED, "mkdtemp: %s", err_name(errno));
		return;
	}
	snprintf(p.src, sizeof(p.src), "%s/src", dir);
	snprintf(p.dst, sizeof(p.dst), "%s/dst", dir);
	snprintf(p.marker, sizeof(p.marker), "%s/marker", p.src);
	if (mkdir(p.src, 0700) == -1 || mkdir(p.dst, 0700) == -1 ||
		touch_at(AT_FDCWD, p.marker) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "scratch files in %s: %s", dir,
			err_name(errno));
		goto out;
	}
	if (child_start(&c, child_mount_api, &p) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	child_collect(&c, r, TIMEOUT_MS);
	child_stop(&c);
	if (r->status == KERNEL_PROBE_AVAILABLE) {
		char leaked[128];
		snprintf(leaked, sizeof(leaked), "%s/marker", p.dst);
		if (access(leaked, F_OK) == 0) {
			umount2(p.dst, MNT_DETACH);
			set_result(r, KERNEL_PROBE_MISSING,
				"the mount leaked into the probe's namespace");
			goto out;
		}
		set_result(r, KERNEL_PROBE_AVAILABLE,
			"open_tree(OPEN_TREE_CLONE) + move_mount bound a directory in a private "
			"mount namespace");
	}
out:
	remove_scratch(dir);
}

/* (f) where the cgroup hierarchies are. */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
	char *out = s;
	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
			s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static bool has_token(const char *list, const char *token) {
	size_t len = strlen(token);
	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, token, len) == 0 && (p[len] == ',' || p[len] == '\0')) {
			return true;
		}
	}
	return false;
}

static int copy_path(char *dst, const char *src) {
	if (strlen(src) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

/*
 * Joins a hierarchy's mount point and a cgroup path from /proc/PID/cgroup, which is relative
 * to the mount's root. Returns -1 when the cgroup is not under that root or is not a
 * directory there: this mount does not show it.
 */
static int join_cgroup(char *out, const char *mount, const char *mount_root, const char *path) {
	size_t root_len = strcmp(mount_root, "/") == 0 ? 0 : strlen(mount_root);
	if (root_len > 0) {
		if (strncmp(path, mount_root, root_len) != 0 ||
			(path[root_len] != '/' && path[root_len] != '\0')) {
			return -1;
		}
		path += root_len;
	}
	struct stat st;
	int n = snprintf(out, PATH_MAX, "%s%s", mount, strcmp(path, "/") == 0 ? "" : path);
	if (n < 0 || n >= PATH_MAX || stat(out, &st) == -1 || !S_ISDIR(st.st_mode)) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int kernel_probe_read_proc_cgroup(pid_t pid, char *v2, char *v1_devices) {
	char file[64];
	if (pid == 0) {
		snprintf(file, sizeof(file), "/proc/self/cgroup");
	} else {
		snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	}
	v2[0] = v1_devices[0] = '\0';
	FILE *f = fopen(file, "re");
	if (f == NULL) {
		errno = errno == ENOENT && pid != 0 ? ESRCH : errno;
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	/* N:controllers:path; the v2 line is 0::path. */
	while (getline(&line, &cap, f) != -1) {
		line[strcspn(line, "\n")] = '\0';
		char *controllers = strchr(line, ':');
		char *path = controllers != NULL ? strchr(controllers + 1, ':') : NULL;
		if (path == NULL) {
			continue;
		}
		*controllers++ = '\0';
		*path++ = '\0';
		if (strcmp(line, "0") == 0 && controllers[0] == '\0') {
			copy_path(v2, path);
		} else if (has_token(controllers, "devices")) {
			copy_path(v1_devices, path);
		}
	}
	/* A process that exits while we read leaves an empty or partial file. */
	int err = ferror(f) ? errno : 0;
	fclose(f);
	free(line);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The cgroup mounts, and the root of each within its hierarchy. */
static int find_cgroup_mounts(struct kernel_probe_cgroups *cg, char *v2_root, char *v1_root) {
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL) {
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) != -1) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source super */
		char *sep = strstr(line, " - "), *save = NULL;
		if (sep == NULL) {
			continue;
		}
		*sep = '\0';
		const char *fstype = strtok_r(sep + 3, " \n", &save);
		strtok_r(NULL, " \n", &save);
		const char *super = strtok_r(NULL, " \n", &save);
		char *root = NULL, *mountpoint = NULL;
		save = NULL;
		char *field = strtok_r(line, " ", &save);
		for (int i = 0; field != NULL && i < 5; i++, field = strtok_r(NULL, " ", &save)) {
			if (i == 3) {
				root = field;
			} else if (i == 4) {
				mountpoint = field;
			}
		}
		if (fstype == NULL || root == NULL || mountpoint == NULL) {
			continue;
		}
		unescape_octal(root);
		unescape_octal(mountpoint);
		if (strcmp(fstype, "cgroup2") == 0 && cg->v2[0] == '\0') {
			if (copy_path(cg->v2, mountpoint) == 0) {
				copy_path(v2_root, root);
			}
		} else if (strcmp(fstype, "cgroup") == 0 && cg->v1_devices[0] == '\0' &&
			super != NULL && has_token(super, "devices")) {
			if (copy_path(cg->v1_devices, mountpoint) == 0) {
				copy_path(v1_root, root);
			}
		}
	}
	fclose(f);
	free(line);
	return 0;
}

int kernel_probe_find_cgroups(struct kernel_probe_cgroups *cg) {
	memset(cg, 0, sizeof(*cg));
	char v2_root[PATH_MAX] = "/", v1_root[PATH_MAX] = "/";
	char v2[PATH_MAX], v1[PATH_MAX];
	if (find_cgroup_mounts(cg, v2_root, v1_root) == -1) {
		return -1;
	}
	/* Where this process's cgroup is not visible, the probe works at the mount's root. */
	if (kernel_probe_read_proc_cgroup(0, v2, v1) == -1) {
		v2[0] = v1[0] = '\0';
	}
	if (cg->v2[0] != '\0' &&
		(v2[0] == '\0' || join_cgroup(cg->v2_own, cg->v2, v2_root, v2) == -1)) {
		strcpy(cg->v2_own, cg->v2);
	}
	if (cg->v1_devices[0] != '\0' &&
		(v1[0] == '\0' ||
			join_cgroup(cg->v1_devices_own, cg->v1_devices, v1_root, v1) == -1)) {
		strcpy(cg->v1_devices_own, cg->v1_devices);
	}
	return 0;
}

int kernel_probe_find_cgroups_of(pid_t pid, struct kernel_probe_cgroups *cg) {
	memset(cg, 0, sizeof(*cg));
	char v2_root[PATH_MAX] = "/", v1_root[PATH_MAX] = "/";
	char v2[PATH_MAX], v1[PATH_MAX];
	if (find_cgroup_mounts(cg, v2_root, v1_root) == -1 ||
		kernel_probe_read_proc_cgroup(pid, v2, v1) == -1) {
		return -1;
	}
	if (cg->v2[0] != '\0' && v2[0] != '\0') {
		join_cgroup(cg->v2_own, cg->v2, v2_root, v2);
	}
	if (cg->v1_devices[0] != '\0' && v1[0] != '\0') {
		join_cgroup(cg->v1_devices_own, cg->v1_devices, v1_root, v1);
	}
	return 0;
}

/* Removes the scratch cgroups of probes that were killed (SIGKILL leaves no time to clean). */
static void cgroup_sweep_stale(const char *parent) {
	DIR *dir = opendir(parent);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		int pid = 0, end = 0;
		if (sscanf(e->d_name, "seatd-ns-probe.%d%n", &pid, &end) != 1 ||
			e->d_name[end] != '\0' || pid <= 0) {
			continue;
		}
		if (kill(pid, 0) == -1 && errno == ESRCH &&
			unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR) == 0) {
			log_debugf("kernel probe: removed stale cgroup %s/%s", parent, e->d_name);
		}
	}
	closedir(dir);
}

/* Makes a fresh child cgroup of parent for the probe. */
static int cgroup_make(char *path, const char *parent) {
	cgroup_sweep_stale(parent);
	int n = snprintf(path, PATH_MAX, "%s/seatd-ns-probe.%d", parent, (int)getpid());
	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdir(path, 0755);
}

static void cgroup_remove(const char *path) {
	/* A just-reaped member can keep the cgroup busy for a moment. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT) {
			return;
		}
		if (errno != EBUSY) {
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	log_warnf("kernel probe: could not remove cgroup %s: %s", path, strerror(errno));
}

static void child_open_device(int fd, void *data) {
	const char *dev = data;
	if (child_wait_token(fd, 'G', TIMEOUT_MS) == -1) {
		_exit(1);
	}
	int dfd = open(dev, O_RDONLY | O_CLOEXEC);
	int err = dfd == -1 ? errno : 0;
	send(fd, &err, sizeof(err), MSG_NOSIGNAL);
	_exit(0);
}

/*
 * Runs a process in the cgroup that opens dev; returns 0 with the open's errno in *err (0
 * when it worked), or -1 with errno set when the process could not be run there.
 */
static int open_in_cgroup(const char *cgroup, const char *dev, int *err) {
	struct child c = NO_CHILD;
	char procs[PATH_MAX + 16], pid[24];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
	if (child_start(&c, child_open_device, (void *)dev) == -1) {
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d", (int)c.pid);
	int r = write_file(procs, pid);
	if (r == 0) {
		child_send_token(c.fd, 'G');
		r = wait_readable(c.fd, TIMEOUT_MS);
		ssize_t n = r == 0 ? recv(c.fd, err, sizeof(*err), 0) : -1;
		if (r == 0 && n != (ssize_t)sizeof(*err)) {
			errno = n == -1 ? errno : EPROTO;
			r = -1;
		}
	}
	int saved = errno;
	child_stop(&c);
	errno = saved;
	return r;
}

static void probe_cgroup_v2(const struct kernel_probe_cgroups *cg, struct kernel_probe_result *r) {
	if (cg->v2[0] == '\0') {
		set_result(r, KERNEL_PROBE_MISSING, "no cgroup2 mount in /proc/self/mountinfo");
		return;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE, "mounted at %s; this process in %s", cg->v2,
		cg->v2_own);
}

static void probe_cgroup_v1_devices(const struct kernel_probe_cgroups *cg,
	struct kernel_probe_result *r) {
	char path[PATH_MAX], deny[PATH_MAX + 16];
	int err = 0;
	if (cg->v1_devices[0] == '\0') {
		set_result(r, KERNEL_PROBE_MISSING,
			"no cgroup v1 hierarchy with the devices controller");
		return;
	}
	if (cgroup_make(path, cg->v1_devices_own) == -1) {
		set_result(r, status_for_errno(errno), "mounted at %s, but mkdir in %s: %s",
			cg->v1_devices, cg->v1_devices_own, err_name(errno));
		return;
	}
	snprintf(deny, sizeof(deny), "%s/devices.deny", path);
	if (open_in_cgroup(path, "/dev/null", &err) == -1 || err != 0) {
		set_result(r, KERNEL_PROBE_UNTESTED, "control: open(/dev/null) in %s: %s", path,
			err_name(err != 0 ? err : errno));
		goto out;
	}
	if (write_file(deny, "a") == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "write \"a\" to %s: %s", deny, err_name(errno));
		goto out;
	}
	if (open_in_cgroup(path, "/dev/null", &err) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "running a process in %s: %s", path,
			err_name(errno));
		goto out;
	}
	if (err != EPERM) {
		set_result(r, KERNEL_PROBE_MISSING,
			"devices.deny \"a\" not enforced: open(/dev/null) %s",
			err == 0 ? "worked" : err_name(err));
		goto out;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"mounted at %s; devices.deny \"a\" makes open(/dev/null) fail with EPERM",
		cg->v1_devices);
out:
	cgroup_remove(path);
}

/* (g) BPF cgroup device programs, loaded with the raw bpf() syscall. */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static int bpf_call(int cmd, union bpf_attr *attr) {
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Loads a device program; on failure, why says what the verifier said last. */
static int bpf_load_device_program(const struct bpf_insn *insns, size_t count, char *why,
	size_t why_size) {
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.expected_attach_type = BPF_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)count;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	strcpy(attr.prog_name, "seatd_ns_probe");
	int fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd >= 0) {
		return fd;
	}
	int saved = errno;
	snprintf(why, why_size, "%s", err_name(saved));
	/* Again with the verifier's log, only to say why. */
	size_t log_size = 64 * 1024;
	char *log = calloc(1, log_size);
	if (log != NULL) {
		attr.log_level = 1;
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_size;
		fd = bpf_call(BPF_PROG_LOAD, &attr);
		if (fd >= 0) {
			free(log);
			return fd;
		}
		size_t len = strlen(log);
		while (len > 0 && log[len - 1] == '\n') {
			log[--len] = '\0';
		}
		char *last = strrchr(log, '\n');
		if (len > 0) {
			snprintf(why, why_size, "%s (verifier: %.120s)", err_name(saved),
				last != NULL ? last + 1 : log);
		}
		free(log);
	}
	errno = saved;
	return -1;
}

static int bpf_attach(int cgroup_fd, int prog_fd) {
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	return bpf_call(BPF_PROG_ATTACH, &attr);
}

static int bpf_detach(int cgroup_fd, int prog_fd) {
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	return bpf_call(BPF_PROG_DETACH, &attr);
}

struct bpf_scratch {
	char cgroup[PATH_MAX];
	int cgroup_fd;
	int prog_fd;
	bool attached;
	struct device_filter *filter; /* the daemon's program, for the map probe */
};

static void bpf_scratch_release_program(struct bpf_scratch *s) {
	if (s->attached && bpf_detach(s->cgroup_fd, s->prog_fd) == -1) {
		log_warnf("kernel probe: detaching the device program: %s", strerror(errno));
	}
	s->attached = false;
	if (s->prog_fd != -1) {
		close(s->prog_fd);
		s->prog_fd = -1;
	}
}

/* Loads and attaches a program to the scratch cgroup; r says why not. */
static int bpf_scratch_attach(struct bpf_scratch *s, const struct bpf_insn *insns, size_t count,
	struct kernel_probe_result *r) {
	char why[200];
	s->prog_fd = bpf_load_device_program(insns, count, why, sizeof(why));
	if (s->prog_fd == -1) {
		set_result(r, status_for_errno(errno),
			"BPF_PROG_LOAD(BPF_PROG_TYPE_CGROUP_DEVICE): %s", why);
		return -1;
	}
	if (bpf_attach(s->cgroup_fd, s->prog_fd) == -1) {
		set_result(r, status_for_errno(errno),
			"BPF_PROG_ATTACH(BPF_CGROUP_DEVICE) to %s: %s", s->cgroup, err_name(errno));
		return -1;
	}
	s->attached = true;
	return 0;
}

/* Opens dev from inside the scratch cgroup and checks the outcome is expect (0 or EPERM). */
static int bpf_scratch_expect(struct bpf_scratch *s, const char *dev, int expect, const char *when,
	struct kernel_probe_result *r) {
	int err = 0;
	if (open_in_cgroup(s->cgroup, dev, &err) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "running a process in %s: %s", s->cgroup,
			err_name(errno));
		return -1;
	}
	if (err != expect) {
		set_result(r, KERNEL_PROBE_MISSING, "%s: open(%s) %s, expected %s", when, dev,
			err == 0 ? "worked" : err_name(err),
			expect == 0 ? "success" : err_name(expect));
		return -1;
	}
	return 0;
}

static void probe_bpf_device(struct bpf_scratch *s, struct kernel_probe_result *r) {
	const struct bpf_insn allow[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	const struct bpf_insn deny[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	if (bpf_scratch_attach(s, allow, 2, r) == -1 ||
		bpf_scratch_expect(s, "/dev/null", 0, "allow-all attached", r) == -1) {
		return;
	}
	bpf_scratch_release_program(s);
	if (bpf_scratch_attach(s, deny, 2, r) == -1 ||
		bpf_scratch_expect(s, "/dev/null", EPERM, "deny-all attached", r) == -1) {
		return;
	}
	if (bpf_detach(s->cgroup_fd, s->prog_fd) == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "BPF_PROG_DETACH: %s", err_name(errno));
		return;
	}
	s->attached = false;
	bpf_scratch_release_program(s);
	if (bpf_scratch_expect(s, "/dev/null", 0, "deny-all detached", r) == -1) {
		return;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"load, attach and detach work; deny-all makes open(/dev/null) fail with EPERM, "
		"allow-all and detach let it work");
}

/*
 * The daemon's program (device_filter.bpf.c) consults a map, so a hotplug is one map update:
 * it allows a device when its (type, major, minor) is a key of the map. Loaded here without
 * its basic devices, so that the map alone decides about /dev/null.
 */
static void probe_bpf_device_map(struct bpf_scratch *s, struct kernel_probe_result *r) {
	s->filter = device_filter_new(DEVICE_FILTER_NO_BASIC);
	if (s->filter == NULL) {
		set_result(r, status_for_errno(errno),
			"loading the device program with its hash map: %s", err_name(errno));
		return;
	}
	if (device_filter_attach(s->filter, s->cgroup_fd) == -1) {
		set_result(r, status_for_errno(errno),
			"BPF_PROG_ATTACH(BPF_CGROUP_DEVICE) to %s: %s", s->cgroup, err_name(errno));
		return;
	}
	if (bpf_scratch_expect(s, "/dev/null", EPERM, "empty map", r) == -1) {
		return;
	}
	if (device_filter_set(s->filter, DEVICE_FILTER_CHAR, 1, 3, DEVICE_FILTER_ACCESS_ALL) ==
		-1) {
		set_result(r, KERNEL_PROBE_MISSING, "BPF_MAP_UPDATE_ELEM: %s", err_name(errno));
		return;
	}
	if (bpf_scratch_expect(s, "/dev/null", 0, "c 1:3 in the map", r) == -1 ||
		bpf_scratch_expect(s, "/dev/zero", EPERM, "c 1:3 in the map", r) == -1) {
		return;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"a program looking up (type, major, minor) in a hash map: empty map denies "
		"/dev/null, one map update allows it, /dev/zero stays denied");
}

static void probe_bpf(const struct kernel_probe_cgroups *cg, struct kernel_probe_result *dev,
	struct kernel_probe_result *map) {
	struct bpf_scratch s = {.cgroup_fd = -1, .prog_fd = -1};
	if (cg->v2[0] == '\0') {
		set_result(dev, KERNEL_PROBE_UNTESTED, "no cgroup2 hierarchy to attach to");
		set_result(map, KERNEL_PROBE_UNTESTED, "no cgroup2 hierarchy to attach to");
		return;
	}
	if (cgroup_make(s.cgroup, cg->v2_own) == -1) {
		set_result(dev, status_for_errno(errno), "mkdir a cgroup in %s: %s", cg->v2_own,
			err_name(errno));
		set_result(map, dev->status, "%s", dev->detail);
		return;
	}
	s.cgroup_fd = open(s.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.cgroup_fd == -1) {
		set_result(dev, KERNEL_PROBE_UNTESTED, "open %s: %s", s.cgroup, err_name(errno));
		set_result(map, dev->status, "%s", dev->detail);
		goto out;
	}
	probe_bpf_device(&s, dev);
	bpf_scratch_release_program(&s);
	if (dev->status == KERNEL_PROBE_AVAILABLE) {
		probe_bpf_device_map(&s, map);
	} else {
		set_result(map, KERNEL_PROBE_UNTESTED, "device programs do not work");
	}
	bpf_scratch_release_program(&s);
out:
	device_filter_free(s.filter);
	if (s.cgroup_fd != -1) {
		close(s.cgroup_fd);
	}
	cgroup_remove(s.cgroup);
}

/* Summary: the daemon needs one enforced way to control device access (DESIGN decision 6). */
static void probe_device_cgroup(struct kernel_probe_report *report) {
	const struct kernel_probe_result *res = report->results;
	struct kernel_probe_result *r = &report->results[KERNEL_PROBE_DEVICE_CGROUP];
	bool v2 = res[KERNEL_PROBE_BPF_DEVICE].status == KERNEL_PROBE_AVAILABLE &&
		res[KERNEL_PROBE_BPF_DEVICE_MAP].status == KERNEL_PROBE_AVAILABLE;
	bool v1 = res[KERNEL_PROBE_CGROUP_V1_DEVICES].status == KERNEL_PROBE_AVAILABLE;
	if (v2 || v1) {
		set_result(r, KERNEL_PROBE_AVAILABLE, "enforced through %s%s%s",
			v2 ? "cgroup v2 BPF programs with a map" : "", v2 && v1 ? " and " : "",
			v1 ? "the cgroup v1 devices controller" : "");
		return;
	}
	bool untested = false;
	for (int id = KERNEL_PROBE_CGROUP_V1_DEVICES; id <= KERNEL_PROBE_BPF_DEVICE_MAP; id++) {
		untested = untested || res[id].status == KERNEL_PROBE_UNTESTED;
	}
	set_result(r, untested ? KERNEL_PROBE_UNTESTED : KERNEL_PROBE_MISSING,
		"neither cgroup v2 BPF device programs nor the v1 devices controller %s",
		untested ? "could be checked" : "work");
}

void kernel_probe_run(struct kernel_probe_report *report) {
	memset(report, 0, sizeof(*report));
	struct utsname uts;
	if (uname(&uts) == 0) {
		snprintf(report->kernel_release, sizeof(report->kernel_release), "%s", uts.release);
	}
	struct kernel_probe_result *res = report->results;
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		res[id].id = (enum kernel_probe_id)id;
		res[id].key = probe_info[id].key;
		res[id].name = probe_info[id].name;
		res[id].need = probe_info[id].need;
		set_result(&res[id], KERNEL_PROBE_UNTESTED, "not run");
	}
	probe_uevent_inject(&res[KERNEL_PROBE_UEVENT_INJECT]);
	probe_uevent_isolation(&res[KERNEL_PROBE_UEVENT_ISOLATION]);
	probe_udev_credentials(&res[KERNEL_PROBE_UDEV_CREDENTIALS]);
	probe_pidfd(&res[KERNEL_PROBE_PIDFD]);
	probe_openat2(&res[KERNEL_PROBE_OPENAT2]);
	probe_mount_api(&res[KERNEL_PROBE_MOUNT_API]);
	struct kernel_probe_cgroups cg;
	if (kernel_probe_find_cgroups(&cg) == -1) {
		set_result(&res[KERNEL_PROBE_CGROUP_V2], KERNEL_PROBE_UNTESTED,
			"/proc/self/mountinfo: %s", err_name(errno));
		set_result(&res[KERNEL_PROBE_CGROUP_V1_DEVICES], KERNEL_PROBE_UNTESTED,
			"/proc/self/mountinfo: %s", err_name(errno));
	} else {
		probe_cgroup_v2(&cg, &res[KERNEL_PROBE_CGROUP_V2]);
		probe_cgroup_v1_devices(&cg, &res[KERNEL_PROBE_CGROUP_V1_DEVICES]);
		probe_bpf(&cg, &res[KERNEL_PROBE_BPF_DEVICE], &res[KERNEL_PROBE_BPF_DEVICE_MAP]);
	}
	probe_device_cgroup(report);
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		log_debugf("kernel probe: %s: %s: %s", res[id].key,
			kernel_probe_status_name(res[id].status), res[id].detail);
	}
}

bool kernel_probe_ok(const struct kernel_probe_report *report) {
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		const struct kernel_probe_result *r = &report->results[id];
		if (r->need == KERNEL_PROBE_REQUIRED && r->status != KERNEL_PROBE_AVAILABLE) {
			return false;
		}
	}
	return true;
}

const char *kernel_probe_status_name(enum kernel_probe_status status) {
	switch (status) {
	case KERNEL_PROBE_AVAILABLE:
		return "available";
	case KERNEL_PROBE_MISSING:
		return "missing";
	case KERNEL_PROBE_UNTESTED:
		break;
	}
	return "untested";
}

const char *kernel_probe_need_name(enum kernel_probe_need need) {
	switch (need) {
	case KERNEL_PROBE_REQUIRED:
		return "required";
	case KERNEL_PROBE_ALTERNATIVE:
		return "alternative";
	case KERNEL_PROBE_OPTIONAL:
		break;
	}
	return "optional";
}

void kernel_probe_print_table(const struct kernel_probe_report *report, FILE *out) {
	int width = (int)strlen("FEATURE");
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		int len = (int)strlen(report->results[id].name);
		width = len > width ? len : width;
	}
	fprintf(out, "seatd-ns kernel probe: Linux %s\n", report->kernel_release);
	fprintf(out, "%-*s  %-11s  %-9s  %s\n", width, "FEATURE", "NEED", "STATUS", "DETAIL");
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		const struct kernel_probe_result *r = &report->results[id];
		fprintf(out, "%-*s  %-11s  %-9s  %s\n", width, r->name,
			kernel_probe_need_name(r->need), kernel_probe_status_name(r->status),
			r->detail);
	}
	fprintf(out, "%s\n",
		kernel_probe_ok(report) ? "verdict: everything seatd-ns requires is available"
					: "verdict: seatd-ns cannot work fully on this kernel");
}

static void print_json_string(FILE *out, const char *s) {
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
		} else {
			fputc(c, out);
		}
	}
	fputc('"', out);
}

void kernel_probe_print_json(const struct kernel_probe_report *report, FILE *out) {
	fprintf(out, "{\"ok\":%s,\"kernel\":", kernel_probe_ok(report) ? "true" : "false");
	print_json_string(out, report->kernel_release);
	fputs(",\"features\":[", out);
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		const struct kernel_probe_result *r = &report->results[id];
		fprintf(out, "%s{\"id\":", id == 0 ? "" : ",");
		print_json_string(out, r->key);
		fputs(",\"name\":", out);
		print_json_string(out, r->name);
		fprintf(out, ",\"need\":\"%s\",\"status\":\"%s\",\"detail\":",
			kernel_probe_need_name(r->need), kernel_probe_status_name(r->status));
		print_json_string(out, r->detail);
		fputc('}', out);
	}
	fputs("]}\n", out);
}
