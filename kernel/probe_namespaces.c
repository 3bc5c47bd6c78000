#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe_internal.h"

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

void probe_pidfd(struct kernel_probe_result *r) {
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

void probe_openat2(struct kernel_probe_result *r) {
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

void probe_mount_api(struct kernel_probe_result *r) {
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
