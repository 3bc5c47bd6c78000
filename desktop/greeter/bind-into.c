/*
 * seatd-ns-bind-into PID HOST_FILE PATH: bind-mounts the host's HOST_FILE onto PATH in the
 * mount namespace of process PID (a container's init), replacing what was mounted there.
 * PATH must exist in the container, a file of its own (the mount point).
 * The greeter launcher gives a desktop container greetd's socket this way, at the moment
 * the greeter starts and without a line in the container's configuration: the host's path
 * of the socket stays out of the container's sight.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "syscalls.h"

static int fail(const char *what, const char *path) {
	fprintf(stderr, "seatd-ns-bind-into: %s %s: %s\n", what, path, strerror(errno));
	return EXIT_FAILURE;
}

int main(int argc, char **argv) {
	if (argc != 4 || argv[3][0] != '/') {
		fprintf(stderr, "usage: seatd-ns-bind-into PID HOST_FILE /PATH\n");
		return 2;
	}
	char proc[64], dir[4096];
	snprintf(proc, sizeof(proc), "/proc/%s/root", argv[1]);
	snprintf(dir, sizeof(dir), "%s", argv[3]);
	char *slash = strrchr(dir, '/');
	const char *name = argv[3] + (slash - dir) + 1;
	*slash = '\0';
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, argv[2], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree == -1) {
		return fail("cannot take", argv[2]);
	}
	int root = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root == -1) {
		return fail("no container root at", proc);
	}
	char nsp[64];
	snprintf(nsp, sizeof(nsp), "/proc/%s/ns/mnt", argv[1]);
	int ns = open(nsp, O_RDONLY | O_CLOEXEC);
	/* Resolved inside the container's root: its symbolic links cannot point out of it. */
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	int dir_fd = (int)syscall(SYS_openat2, root, dir[0] ? dir + 1 : ".", &how, sizeof(how));
	if (dir_fd == -1) {
		return fail("no directory in the container for", argv[3]);
	}
	if (ns == -1 || setns(ns, CLONE_NEWNS) == -1 || fchdir(dir_fd) == -1) {
		return fail("cannot enter the mount namespace of", nsp);
	}
	/* EINVAL: nothing was mounted there. */
	while (umount2(name, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
	}
	if (syscall(SYS_move_mount, tree, "", dir_fd, name, MOVE_MOUNT_F_EMPTY_PATH) == -1) {
		return fail("cannot mount on", argv[3]);
	}
	return EXIT_SUCCESS;
}
