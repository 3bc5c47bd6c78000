/*
 * The peers' ways to deliver one event, for comparison with the daemon's persistent socket
 * (host.c): the same view and db write as the daemon's, then the message sent by a forked
 * child that setns()es into the container's network namespace (fork+setns, AGL
 * container-manager style), or by a forked child that execs a helper (this program,
 * --send-helper) which does so (fork+exec, what LXD and Incus do per uevent per container;
 * their helper is their whole Go binary, so this is a lower bound for them). The parent
 * waits for the child either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delivery.h"
#include "udev_message.h"

/* The peers' message: the same view and db write as the daemon's, encoded for the child. */
static int peer_prepare(struct bench_container *bc, const struct device *dev, char *msg,
	size_t size) {
	struct device_view view;
	if (device_view_build(&view, dev, "change", ++bc->fwd.seqnum) == -1 ||
		forward_db_write(&bc->fwd, &bc->c, &view) == -1) {
		die("peer view: %s", strerror(errno));
	}
	return udev_message_encode(&view.ev, msg, size);
}

static void wait_child(pid_t pid) {
	int status;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			die("waitpid: %s", strerror(errno));
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		die("a peer's child failed (status %d)", status);
	}
}

/* What the peers' child does: join the container's network namespace, make a socket, send. */
static int send_in_netns(int net_fd, const char *msg, size_t len, uid_t uid, gid_t gid) {
	int fd;
	if (setns(net_fd, CLONE_NEWNET) == -1 ||
		(fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT)) == -1) {
		return -1;
	}
	return send_udev(fd, msg, len, uid, gid);
}

/* fork+setns: the forked child sends. */
void peer_fork_setns(struct bench_container *bc) {
	char msg[UDEV_MESSAGE_MAX_SIZE];
	int len = peer_prepare(bc, device_of(bc), msg, sizeof(msg));
	pid_t pid = fork();
	if (pid == 0) {
		int sent =
			send_in_netns(bc->c.net_fd, msg, (size_t)len, bc->c.root_uid, bc->c.root_gid);
		_exit(sent == 0 ? 0 : 1);
	}
	if (pid == -1) {
		die("fork: %s", strerror(errno));
	}
	wait_child(pid);
}

/* fork+exec: the forked child execs the helper, the message on a pipe, the namespace's fd. */
void peer_fork_exec(struct bench_container *bc) {
	char msg[UDEV_MESSAGE_MAX_SIZE];
	int len = peer_prepare(bc, device_of(bc), msg, sizeof(msg));
	int p[2];
	if (pipe2(p, O_CLOEXEC) == -1 || write(p[1], msg, (size_t)len) != len) {
		die("pipe: %s", strerror(errno));
	}
	close(p[1]);
	char uid[16], gid[16];
	snprintf(uid, sizeof(uid), "%u", (unsigned)bc->c.root_uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)bc->c.root_gid);
	char *argv[] = {B.self_exe, "--send-helper", uid, gid, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		int fds[] = {p[0], bc->c.net_fd};
		place_fds(fds, 2);
		execv(B.self_exe, argv);
		_exit(127);
	}
	close(p[0]);
	if (pid == -1) {
		die("fork: %s", strerror(errno));
	}
	wait_child(pid);
}

/* The fork+exec peer's helper, run as this program with --send-helper. */
int send_helper_main(int argc, char **argv) {
	/* --send-helper UID GID; fd 3: the message, fd 4: the container's network namespace */
	if (argc != 4) {
		return 2;
	}
	char msg[UDEV_MESSAGE_MAX_SIZE];
	size_t len = 0;
	ssize_t n;
	while ((n = read(3, msg + len, sizeof(msg) - len)) > 0) {
		len += (size_t)n;
	}
	if (n == -1) {
		return 1;
	}
	return send_in_netns(4, msg, len, (uid_t)strtoul(argv[2], NULL, 10),
		       (gid_t)strtoul(argv[3], NULL, 10)) == 0
		       ? 0
		       : 1;
}
