#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "probe_internal.h"

const char *err_name(int err) {
	const char *name = strerrorname_np(err);
	return name != NULL ? name : strerror(err);
}

__attribute__((format(printf, 3, 4))) void set_result(struct kernel_probe_result *r,
	enum kernel_probe_status status, const char *fmt, ...) {
	r->status = status;
	va_list args;
	va_start(args, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, args);
	va_end(args);
}

/* EPERM from a namespace or cgroup operation means "not root", not "not in this kernel". */
enum kernel_probe_status status_for_errno(int err) {
	return err == EPERM || err == EACCES ? KERNEL_PROBE_UNTESTED : KERNEL_PROBE_MISSING;
}

long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable; returns 0, or -1 with errno (ETIMEDOUT when it did not come). */
int wait_readable(int fd, int timeout_ms) {
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

int write_file(const char *path, const char *text) {
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
void remove_scratch(const char *dir) {
	if (nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == -1 && errno != ENOENT) {
		log_warnf("kernel probe: could not remove %s: %s", dir, strerror(errno));
	}
}

int child_start(struct child *c, child_main fn, void *data) {
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

void child_stop(struct child *c) {
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

void child_send_token(int fd, char token) {
	send(fd, &token, 1, MSG_NOSIGNAL);
}

int child_wait_token(int fd, char token, int timeout_ms) {
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

__attribute__((format(printf, 3, 4))) _Noreturn void child_exit(int fd,
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
int child_await(struct child *c, char token, struct kernel_probe_result *r) {
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
void child_collect(struct child *c, struct kernel_probe_result *r, int timeout_ms) {
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

int send_fd(int sock, int fd) {
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
int child_recv_fd(struct child *c, struct kernel_probe_result *r) {
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
void child_enter_userns_netns(int fd) {
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
int start_userns_child(struct child *c, child_main fn, void *data,
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
