/*
 * revoke's search of a container's processes, for real (as root). The "container" is a child
 * in a pid namespace of its own holding /dev/zero; a process in a pid namespace below it
 * holds /dev/zero too, and a thread of its init that unshared its fd table holds /dev/full.
 * This test, on the host, holds both as well: it is no process of the container. These are no
 * evdev nodes, so the revoke fails (ENOTTY) and each open file found counts as held.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "revoke.h"
#include "test.h"

TEST_GLOBALS;

#define SKIP 77

static pid_t init_pid = -1;
static int init_pidfd = -1;
static dev_t zero, full, random_dev;
static int ready[2];

static void say_ready(void) {
	if (write(ready[1], "x", 1) != 1) {
		_exit(1);
	}
}

/* A child in a new pid namespace, as fork() does otherwise. */
static pid_t fork_pid_ns(void) {
	return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
}

static int thread_done[2];

static void *own_fd_table(void *arg) {
	if (unshare(CLONE_FILES) == -1 || open("/dev/full", O_RDONLY) == -1 ||
		write(thread_done[1], "x", 1) != 1) {
		_exit(1);
	}
	say_ready();
	for (;;) {
		pause();
	}
	return arg;
}

/* In this order, so that each holds only its own open file. */
static _Noreturn void container_init(void) {
	pthread_t thread;
	char c;
	if (pipe(thread_done) == -1 || pthread_create(&thread, NULL, own_fd_table, NULL) != 0 ||
		read(thread_done[0], &c, 1) != 1) {
		_exit(1);
	}
	pid_t nested = fork_pid_ns();
	if (nested == 0) {
		if (open("/dev/zero", O_RDONLY) == -1) {
			_exit(1);
		}
		say_ready();
		for (;;) {
			pause();
		}
	}
	if (nested == -1 || open("/dev/zero", O_RDONLY) == -1) {
		_exit(1);
	}
	say_ready();
	for (;;) {
		pause();
	}
}

static dev_t rdev_of(const char *path) {
	struct stat st;
	return stat(path, &st) == 0 ? st.st_rdev : 0;
}

static void test_finds_what_the_container_holds(void) {
	dev_t devnums[] = {zero};
	struct revoke_scan scan;
	test_assert(revoke_scan_container(init_pid, init_pidfd, devnums, 1, REVOKE_EVDEV,
			    &scan) == 0);
	/* init and the nested process; not this test's own fd */
	test_assert(scan.processes == 2);
	test_assert(scan.held == 2);
	test_assert(scan.revoked == 0);
}

static void test_thread_with_own_fd_table(void) {
	dev_t devnums[] = {full};
	struct revoke_scan scan;
	test_assert(revoke_scan_container(init_pid, init_pidfd, devnums, 1, REVOKE_NONE,
			    &scan) == 0);
	test_assert(scan.held == 1);
}

static void test_nothing_held(void) {
	dev_t devnums[] = {random_dev};
	struct revoke_scan scan;
	test_assert(revoke_scan_container(init_pid, init_pidfd, devnums, 1, REVOKE_EVDEV,
			    &scan) == 0);
	test_assert(scan.processes == 2);
	test_assert(scan.held == 0 && scan.revoked == 0);
}

static void test_our_own_namespace(void) {
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	dev_t devnums[] = {zero};
	struct revoke_scan scan;
	test_assert(self != -1);
	errno = 0;
	int r = revoke_scan_container(getpid(), self, devnums, 1, REVOKE_EVDEV, &scan);
	int err = errno;
	close(self);
	test_assert(r == -1 && err == EBUSY);
}

static void test_init_gone(void) {
	dev_t devnums[] = {zero};
	struct revoke_scan scan;
	kill(init_pid, SIGKILL);
	waitpid(init_pid, NULL, 0);
	errno = 0;
	test_assert(revoke_scan_container(init_pid, init_pidfd, devnums, 1, REVOKE_EVDEV,
			    &scan) == -1);
	test_assert(errno == ESRCH);
}

int main(void) {
	log_init(LOG_LEVEL_WARN);
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root\n");
		return SKIP;
	}
	zero = rdev_of("/dev/zero");
	full = rdev_of("/dev/full");
	random_dev = rdev_of("/dev/random");
	if (zero == 0 || full == 0 || random_dev == 0 || pipe(ready) == -1) {
		fprintf(stderr, "skip: no /dev/zero, /dev/full or /dev/random here\n");
		return SKIP;
	}
	init_pid = fork_pid_ns();
	if (init_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		container_init();
	}
	/* After the fork: the container must not inherit them. */
	int mine_zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int mine_full = open("/dev/full", O_RDONLY | O_CLOEXEC);
	char buf[3];
	size_t got = 0;
	while (init_pid > 0 && got < sizeof(buf)) {
		ssize_t n = read(ready[0], buf + got, sizeof(buf) - got);
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	init_pidfd = init_pid > 0 ? (int)syscall(SYS_pidfd_open, init_pid, 0) : -1;
	if (got != sizeof(buf) || init_pidfd == -1 || mine_zero == -1 || mine_full == -1) {
		fprintf(stderr, "cannot start the container: %s\n", strerror(errno));
		if (init_pid > 0) {
			kill(init_pid, SIGKILL);
		}
		return EXIT_FAILURE;
	}
	test_run(test_finds_what_the_container_holds);
	test_run(test_thread_with_own_fd_table);
	test_run(test_nothing_held);
	test_run(test_our_own_namespace);
	test_run(test_init_gone);
	close(mine_zero);
	close(mine_full);
	return test_main_end();
}
