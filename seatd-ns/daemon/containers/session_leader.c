#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc_files.h"
#include "session_leader.h"

/* Its pid namespace (as an fd) and its start time, read through /proc. */
static int read_process(pid_t pid, int *pidns_fd, unsigned long long *start_time) {
	char path[64], stat[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	ssize_t n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	stat[n] = '\0';
	if (proc_parse_start_time(stat, start_time) == -1) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	*pidns_fd = open(path, O_RDONLY | O_CLOEXEC);
	return *pidns_fd == -1 ? -1 : 0;
}

static bool same_file(int a, int b) {
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * Whether the pid namespace ns is container_ns or nested in it: its parents, up to the
 * daemon's own (whose parent the kernel does not give), are looked at. Closes ns.
 */
static bool pidns_within(int ns, int container_ns) {
	while (ns != -1) {
		if (same_file(ns, container_ns)) {
			close(ns);
			return true;
		}
		int parent = ioctl(ns, NS_GET_PARENT);
		close(ns);
		ns = parent;
	}
	return false;
}

int session_leader_open(pid_t pid, unsigned long long start_time, const struct container *c) {
	int pidns = -1, container_ns = -1;
	unsigned long long started;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd == -1 || read_process(pid, &pidns, &started) == -1) {
		goto fail;
	}
	/* The container's pid is held by its pidfd too: checked again below. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)c->pid);
	container_ns = open(path, O_RDONLY | O_CLOEXEC);
	if (container_ns == -1) {
		goto fail;
	}
	/* Both still the processes the pidfds name? Otherwise what /proc said is another's. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == -1 ||
		syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == -1) {
		goto fail;
	}
	if (started != start_time) {
		errno = ESTALE;
		goto fail;
	}
	bool within = pidns_within(pidns, container_ns);
	pidns = -1;
	if (!within) {
		errno = EXDEV;
		goto fail;
	}
	close(container_ns);
	return pidfd;

fail:;
	int saved = errno;
	int fds[] = {pidfd, pidns, container_ns};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] != -1) {
			close(fds[i]);
		}
	}
	errno = saved == ENOENT ? ESRCH : saved;
	return -1;
}
