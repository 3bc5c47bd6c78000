/*
 * cgroup_devices and the device program, enforced for real (as root): a child process in
 * scratch cgroups, under our program, opens device nodes that this test makes with mknod in
 * a scratch directory. 13:64 and 13:65 are input event minors with no device behind them
 * here, so an open that passes the device check fails with ENXIO (or ENODEV), and one that
 * does not with EPERM. The v1 tests give the child a devices cgroup restricted as LXC does
 * ("a" denied, then "c 1:3 rwm" allowed). Everything made is removed, also on failure; a
 * run that was killed leaves cgroups named after its pid, which the next run removes.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"
#include "cgroup_devices.h"
#include "log.h"
#include "probe.h"
#include "test.h"

TEST_GLOBALS;

#define PREFIX "seatd-ns-cgtest."
#define SKIP 77

static struct kernel_probe_cgroups host;
static char nodes[PATH_MAX]; /* the scratch directory with the device nodes */
static char assigned[PATH_MAX + 16], other[PATH_MAX + 16], block_node[PATH_MAX + 16];

/* A child that opens what it is told to, from inside the scratch cgroups. */
enum op { OP_OPEN, OP_MKNOD, OP_UNSHARE_CGROUP };

struct request {
	enum op op;
	int flags;
	dev_t dev;
	char path[PATH_MAX];
};

struct scratch {
	char v2[PATH_MAX];          /* the scratch parent cgroup in v2 */
	char v2_c[PATH_MAX + 16];   /* the container's cgroup: v2/c */
	char v1[PATH_MAX];          /* the same in v1 devices, when used */
	char v1_c[PATH_MAX + 16];
	pid_t pid;
	int pidfd; /* of pid, as a registration holds its container's init */
	int fd;
	struct cgroup_devices *c;
};


static int pidfd_open(pid_t pid) {
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void child_serve(int fd) {
	struct request req;
	while (recv(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req)) {
		int err = 0;
		if (req.op == OP_OPEN) {
			int dfd = open(req.path, req.flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			err = dfd == -1 ? errno : 0;
			if (dfd != -1) {
				close(dfd);
			}
		} else if (req.op == OP_MKNOD) {
			err = mknod(req.path, S_IFCHR | 0600, req.dev) == -1 ? errno : 0;
			if (err == 0) {
				unlink(req.path);
			}
		} else if (req.op == OP_UNSHARE_CGROUP) {
			err = unshare(CLONE_NEWCGROUP) == -1 ? errno : 0;
		}
		send(fd, &err, sizeof(err), MSG_NOSIGNAL);
	}
	_exit(0);
}

static int child_start(struct scratch *s) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_serve(sv[1]);
	}
	close(sv[1]);
	s->pid = pid;
	s->fd = sv[0];
	s->pidfd = pidfd_open(pid);
	return s->pidfd != -1 ? 0 : -1;
}

static void child_stop(struct scratch *s) {
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->pidfd != -1) {
		close(s->pidfd);
		s->pidfd = -1;
	}
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) == -1 && errno == EINTR) {
		}
		s->pid = -1;
	}
}

/* Returns the child's errno for the request (0: it worked), or -1 if it did not answer. */
static int child_do(struct scratch *s, enum op op, const char *path, int flags, dev_t dev) {
	struct request req = {.op = op, .flags = flags, .dev = dev};
	snprintf(req.path, sizeof(req.path), "%s", path != NULL ? path : "");
	int err;
	if (send(s->fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req) ||
		recv(s->fd, &err, sizeof(err), 0) != (ssize_t)sizeof(err)) {
		return -1;
	}
	return err;
}

static int child_open(struct scratch *s, const char *path, int flags) {
	return child_do(s, OP_OPEN, path, flags, 0);
}

/* Passed the device check: there is no hardware behind 13:64, 13:65 or b 1:3. */
static bool reached_driver(int err) {
	return err == 0 || err == ENXIO || err == ENODEV;
}

static int write_file(const char *dir, const char *file, const char *text) {
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int move_to(const char *cgroup, pid_t pid) {
	char text[24];
	snprintf(text, sizeof(text), "%d", (int)pid);
	return write_file(cgroup, "cgroup.procs", text);
}

/* Removes a cgroup and the cgroups below it; a just-killed member can keep it busy a moment. */
static void remove_cgroup(const char *path) {
	DIR *dir = opendir(path);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 &&
			strcmp(e->d_name, "..") != 0) {
			char sub[PATH_MAX + 260];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_cgroup(sub);
		}
	}
	closedir(dir);
	for (int i = 0; i < 200; i++) {
		if (rmdir(path) == 0 || errno == ENOENT) {
			return;
		}
		if (errno != EBUSY) {
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	fprintf(stderr, "could not remove cgroup %s: %s\n", path, strerror(errno));
}

static void remove_nodes(const char *dir) {
	const char *names[] = {"assigned", "other", "block", "made"};
	char path[PATH_MAX + 16];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* What a run that was killed left behind: named after a pid that no longer exists. */
static void sweep_stale(const char *parent, bool cgroups) {
	DIR *dir = opendir(parent);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		int pid = 0, end = 0;
		if (sscanf(e->d_name, PREFIX "%d%n", &pid, &end) != 1 || e->d_name[end] != '\0' ||
			pid <= 0 || (kill(pid, 0) == 0 || errno != ESRCH)) {
			continue;
		}
		char path[PATH_MAX + 260];
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		if (cgroups) {
			remove_cgroup(path);
		} else {
			remove_nodes(path);
		}
	}
	closedir(dir);
}

static int make_cgroup(char *path, size_t size, const char *parent, const char *name) {
	snprintf(path, size, "%s/%s", parent, name);
	return mkdir(path, 0755);
}

enum setup { V2_ONLY, V2_AND_V1 };

/*
 * Scratch cgroups v2/c (and v1/c restricted as LXC does), a child in them, nothing opened
 * yet. Returns -1 with a message when the machine cannot run the test.
 */
static int scratch_setup(struct scratch *s, enum setup setup) {
	char name[64];
	snprintf(name, sizeof(name), PREFIX "%d", (int)getpid());
	if (make_cgroup(s->v2, sizeof(s->v2), host.v2_own, name) == -1 ||
		make_cgroup(s->v2_c, sizeof(s->v2_c), s->v2, "c") == -1) {
		fprintf(stderr, "mkdir %s: %s\n", s->v2, strerror(errno));
		return -1;
	}
	if (setup == V2_AND_V1) {
		if (make_cgroup(s->v1, sizeof(s->v1), host.v1_devices_own, name) == -1 ||
			make_cgroup(s->v1_c, sizeof(s->v1_c), s->v1, "c") == -1 ||
			write_file(s->v1_c, "devices.deny", "a") == -1 ||
			write_file(s->v1_c, "devices.allow", "c 1:3 rwm") == -1) {
			fprintf(stderr, "v1 devices cgroup %s: %s\n", s->v1_c, strerror(errno));
			return -1;
		}
	}
	if (child_start(s) == -1 || move_to(s->v2_c, s->pid) == -1 ||
		(setup == V2_AND_V1 && move_to(s->v1_c, s->pid) == -1)) {
		fprintf(stderr, "a child in the scratch cgroups: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void scratch_teardown(struct scratch *s) {
	if (s->c != NULL) {
		cgroup_devices_close(s->c);
		s->c = NULL;
	}
	child_stop(s);
	if (s->v2[0] != '\0') {
		remove_cgroup(s->v2);
	}
	if (s->v1[0] != '\0') {
		remove_cgroup(s->v1);
	}
}

static int count_fds(void) {
	int n = 0;
	DIR *dir = opendir("/proc/self/fd");
	if (dir == NULL) {
		return -1;
	}
	while (readdir(dir) != NULL) {
		n++;
	}
	closedir(dir);
	return n;
}

/* Device programs attached to the cgroup itself (not inherited). */
static int attached_programs(const char *cgroup) {
	int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	__u32 count = 0, flags = 0;
	int r = fd != -1 ? bpf_prog_query(fd, BPF_CGROUP_DEVICE, 0, &flags, NULL, &count) : -1;
	if (fd != -1) {
		close(fd);
	}
	return r == 0 ? (int)count : -1;
}

/* Runs body on fresh scratch cgroups and cleans up whatever body did or did not do. */
static void with_scratch(enum setup setup, void (*body)(struct scratch *)) {
	struct scratch s = {.pid = -1, .pidfd = -1, .fd = -1};
	int fds = count_fds();
	if (scratch_setup(&s, setup) == 0) {
		body(&s);
	} else {
		test_failed_checks++;
	}
	scratch_teardown(&s);
	if (count_fds() != fds) {
		fprintf(stderr, "file descriptors: %d before, %d after\n", fds, count_fds());
		test_failed_checks++;
	}
}

static void body_v2(struct scratch *s) {
	/* Control: without our program the nodes reach the driver. */
	test_assert(reached_driver(child_open(s, assigned, O_RDONLY)));
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert_str(cgroup_devices_v2_path(s->c), s->v2_c);
	test_assert(cgroup_devices_v1_path(s->c) == NULL);
	test_assert(attached_programs(s->v2_c) == 1);

	/* The basic devices; tty and console may say ENXIO here, but not EPERM. */
	const char *basic[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
		"/dev/urandom", "/dev/tty", "/dev/console", "/dev/ptmx"};
	for (size_t i = 0; i < sizeof(basic) / sizeof(basic[0]); i++) {
		int err = child_open(s, basic[i], O_RDWR);
		if (err == EPERM || err == -1) {
			fprintf(stderr, "%s: %s\n", basic[i], strerror(err));
		}
		test_assert(err != EPERM && err != -1);
	}
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
	test_assert(child_open(s, block_node, O_RDONLY) == EPERM); /* b 1:3 is not c 1:3 */

	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_READ) == 0);
	test_assert(reached_driver(child_open(s, assigned, O_RDONLY)));
	test_assert(child_open(s, assigned, O_WRONLY) == EPERM);
	test_assert(child_open(s, other, O_RDONLY) == EPERM);

	/* Granting more adds to it; mknod needs its own bit. */
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_WRITE) == 0);
	test_assert(reached_driver(child_open(s, assigned, O_RDWR)));
	char made[PATH_MAX + 16];
	snprintf(made, sizeof(made), "%s/made", nodes);
	test_assert(child_do(s, OP_MKNOD, made, 0, makedev(13, 64)) == EPERM);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_MKNOD) == 0);
	test_assert(child_do(s, OP_MKNOD, made, 0, makedev(13, 64)) == 0);

	/* Taking write away leaves read. */
	test_assert(cgroup_devices_deny(s->c, 'c', 13, 64, CGROUP_DEVICES_WRITE) == 0);
	test_assert(child_open(s, assigned, O_WRONLY) == EPERM);
	test_assert(reached_driver(child_open(s, assigned, O_RDONLY)));
	test_assert(cgroup_devices_deny(s->c, 'c', 13, 64,
			    CGROUP_DEVICES_RW | CGROUP_DEVICES_MKNOD) == 0);
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
	test_assert(child_open(s, other, O_RDONLY) == EPERM);
	test_assert(child_open(s, "/dev/null", O_RDWR) == 0);
	/* Denying what was never granted is no error. */
	test_assert(cgroup_devices_deny(s->c, 'c', 13, 65, CGROUP_DEVICES_RW) == 0);
	test_assert(cgroup_devices_check(s->c) == 0);

	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(cgroup_devices_close(s->c) == 0);
	s->c = NULL;
	test_assert(attached_programs(s->v2_c) == 0);
	test_assert(reached_driver(child_open(s, other, O_RDONLY)));
}

static void test_v2_enforced(void) {
	with_scratch(V2_ONLY, body_v2);
}

static bool v1_lists(const char *cgroup, const char *rule) {
	char path[PATH_MAX + 32], line[128];
	snprintf(path, sizeof(path), "%s/devices.list", cgroup);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		found = found || strcmp(line, rule) == 0;
	}
	if (f != NULL) {
		fclose(f);
	}
	return found;
}

static void body_v1(struct scratch *s) {
	test_assert(child_open(s, "/dev/null", O_RDWR) == 0);
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM); /* v1 alone denies it */
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert_str(cgroup_devices_v2_path(s->c), s->v2_c);
	test_assert_str(cgroup_devices_v1_path(s->c), s->v1_c);

	test_assert(child_open(s, "/dev/null", O_RDWR) == 0);
	/* The container's v1 rules stay in force: they do not allow zero. */
	test_assert(child_open(s, "/dev/zero", O_RDONLY) == EPERM);
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);

	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(v1_lists(s->v1_c, "c 13:64 rw"));
	test_assert(reached_driver(child_open(s, assigned, O_RDWR)));
	test_assert(child_open(s, other, O_RDONLY) == EPERM);

	test_assert(cgroup_devices_deny(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(!v1_lists(s->v1_c, "c 13:64 rw"));
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
	test_assert(child_open(s, "/dev/null", O_RDWR) == 0);

	/*
	 * LXC's rules may allow a whole major; then the v1 deny cannot take one device back,
	 * and our program is what denies it.
	 */
	test_assert(write_file(s->v1_c, "devices.allow", "c 13:* rw") == 0);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(cgroup_devices_deny(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
	test_assert(child_open(s, other, O_RDONLY) == EPERM);

	test_assert(cgroup_devices_close(s->c) == 0);
	s->c = NULL;
	test_assert(attached_programs(s->v2_c) == 0);
	/* Only the v1 rules are left: 13:* as LXC allowed it. */
	test_assert(reached_driver(child_open(s, other, O_RDONLY)));
	test_assert(child_open(s, "/dev/zero", O_RDONLY) == EPERM);
}

static void test_v1_restricted(void) {
	if (host.v1_devices[0] == '\0') {
		fprintf(stderr, "skip: no cgroup v1 devices controller here\n");
		return;
	}
	with_scratch(V2_AND_V1, body_v1);
}

/* An init with a cgroup namespace that moved itself into a child cgroup, as systemd does. */
static void body_cgroupns(struct scratch *s) {
	char scope[PATH_MAX + 32];
	test_assert(child_do(s, OP_UNSHARE_CGROUP, NULL, 0, 0) == 0);
	test_assert(make_cgroup(scope, sizeof(scope), s->v2_c, "init.scope") == 0);
	test_assert(move_to(scope, s->pid) == 0);
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert_str(cgroup_devices_v2_path(s->c), s->v2_c);
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(reached_driver(child_open(s, assigned, O_RDONLY)));
	test_assert(child_open(s, other, O_RDONLY) == EPERM);
	/* Back in the container's root cgroup is still inside. */
	test_assert(move_to(s->v2_c, s->pid) == 0);
	test_assert(cgroup_devices_check(s->c) == 0);
}

static void test_cgroup_namespace_root(void) {
	with_scratch(V2_ONLY, body_cgroupns);
}

static void body_died(struct scratch *s) {
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	child_stop(s);
	test_assert(cgroup_devices_check(s->c) == -1 && errno == ESRCH);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 65, CGROUP_DEVICES_RW) == -1 &&
		    errno == ESRCH);
	test_assert(cgroup_devices_deny(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == -1 &&
		    errno == ESRCH);
	/* And its cgroup removed, as LXC does after it. */
	remove_cgroup(s->v2_c);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 65, CGROUP_DEVICES_RW) == -1 &&
		    errno == ESRCH);
	test_assert(cgroup_devices_close(s->c) == 0);
	s->c = NULL;
}

static void test_container_died(void) {
	with_scratch(V2_ONLY, body_died);
}

static void body_removed(struct scratch *s) {
	char elsewhere[PATH_MAX + 16];
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert(make_cgroup(elsewhere, sizeof(elsewhere), s->v2, "elsewhere") == 0);
	test_assert(move_to(elsewhere, s->pid) == 0);
	/* Moved: our program no longer governs it. */
	test_assert(cgroup_devices_check(s->c) == -1 && errno == ESTALE);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == -1 &&
		    errno == ESTALE);
	test_assert(child_open(s, assigned, O_RDONLY) != EPERM); /* not ours to decide now */
	/* A failed grant is rolled back: back in the cgroup, 13:64 is still denied. */
	test_assert(move_to(s->v2_c, s->pid) == 0);
	test_assert(cgroup_devices_check(s->c) == 0);
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
	/* Moved out again and its cgroup removed. */
	test_assert(move_to(elsewhere, s->pid) == 0);
	remove_cgroup(s->v2_c);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == -1 &&
		    errno == ENOENT);
	test_assert(cgroup_devices_deny(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == -1 &&
		    errno == ENOENT);
	test_assert(cgroup_devices_close(s->c) == 0);
	s->c = NULL;
}

static void test_moved_and_removed(void) {
	with_scratch(V2_ONLY, body_removed);
}

/* A daemon that was killed left its program; the next one replaces it. */
static void body_restart(struct scratch *s) {
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	struct cgroup_devices *next = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(next != NULL);
	int attached = attached_programs(s->v2_c);
	int old_check = cgroup_devices_check(s->c), old_errno = errno;
	int denied = child_open(s, assigned, O_RDONLY);
	int old_close = cgroup_devices_close(s->c);
	s->c = next;
	test_assert(attached == 1);
	test_assert(old_check == -1 && old_errno == ESTALE);
	test_assert(denied == EPERM); /* the new program starts with the basic devices only */
	test_assert(old_close == 0);
	test_assert(cgroup_devices_check(s->c) == 0);
}

static void test_replaces_stale_program(void) {
	with_scratch(V2_ONLY, body_restart);
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* Another manager's program (LXC's, say): allows everything but c 13:65. */
static int attach_other_program(const char *cgroup) {
	const struct bpf_insn insns[] = {
		INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 4, 0), /* major */
		INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 8, 0), /* minor */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 2, 13),
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 1, 65),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct bpf_prog_load_opts opts = {
		.sz = sizeof(opts),
		.expected_attach_type = BPF_CGROUP_DEVICE,
	};
	int prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, "other_manager", "GPL", insns,
		sizeof(insns) / sizeof(insns[0]), &opts);
	int cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = prog >= 0 && cg != -1 ? bpf_prog_attach(prog, cg, BPF_CGROUP_DEVICE,
						 BPF_F_ALLOW_MULTI)
				       : -1;
	if (cg != -1) {
		close(cg);
	}
	if (prog >= 0) {
		close(prog); /* the cgroup holds it */
	}
	return r == 0 ? 0 : -1;
}

/* Both programs decide: ours cannot grant what the other denies, and the other stays. */
static void body_other_program(struct scratch *s) {
	test_assert(attach_other_program(s->v2_c) == 0);
	test_assert(child_open(s, other, O_RDONLY) == EPERM);
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert(attached_programs(s->v2_c) == 2);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, CGROUP_DEVICES_RW) == 0);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 65, CGROUP_DEVICES_RW) == 0);
	test_assert(reached_driver(child_open(s, assigned, O_RDONLY)));
	test_assert(child_open(s, other, O_RDONLY) == EPERM);
	test_assert(cgroup_devices_close(s->c) == 0);
	s->c = NULL;
	test_assert(attached_programs(s->v2_c) == 1);
	test_assert(child_open(s, other, O_RDONLY) == EPERM);
	test_assert(reached_driver(child_open(s, assigned, O_RDONLY)));
}

static void test_coexists_with_other_program(void) {
	with_scratch(V2_ONLY, body_other_program);
}

static void test_refusals(void) {
	int fds = count_fds();
	/* Our own cgroup (or the root one): restricting it would restrict us. */
	int self = pidfd_open(getpid());
	test_assert(cgroup_devices_open(getpid(), self) == NULL && errno == EBUSY);
	close(self);
	test_assert(cgroup_devices_open(0, -1) == NULL && errno == ESRCH);
	test_assert(cgroup_devices_open(INT_MAX, -1) == NULL && errno == EBADF);
	test_assert(count_fds() == fds);
}

/*
 * The registration's init died and its pid now names another process (here the scratch
 * child, in the scratch cgroup): the pidfd tells, and nothing is attached there.
 */
static void body_pid_reused(struct scratch *s) {
	pid_t dead = fork();
	if (dead == 0) {
		_exit(0);
	}
	int dead_pidfd = dead > 0 ? pidfd_open(dead) : -1;
	while (dead > 0 && waitpid(dead, NULL, 0) == -1 && errno == EINTR) {
	}
	test_assert(dead_pidfd != -1);
	s->c = cgroup_devices_open(s->pid, dead_pidfd);
	test_assert(s->c == NULL && errno == ESRCH);
	test_assert(attached_programs(s->v2_c) == 0);
	test_assert(child_open(s, assigned, O_RDONLY) != EPERM);
	if (dead_pidfd != -1) {
		close(dead_pidfd);
	}
}

static void test_pid_reused(void) {
	with_scratch(V2_ONLY, body_pid_reused);
}

static void body_args(struct scratch *s) {
	s->c = cgroup_devices_open(s->pid, s->pidfd);
	test_assert(s->c != NULL);
	test_assert(cgroup_devices_allow(s->c, 'x', 13, 64, CGROUP_DEVICES_RW) == -1 &&
		    errno == EINVAL);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, 0) == -1 && errno == EINVAL);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 64, 8) == -1 && errno == EINVAL);
	test_assert(cgroup_devices_allow(s->c, 'c', 4096, 0, CGROUP_DEVICES_RW) == -1 &&
		    errno == EINVAL);
	test_assert(cgroup_devices_allow(s->c, 'c', 13, 1u << 20, CGROUP_DEVICES_RW) == -1 &&
		    errno == EINVAL);
	test_assert(cgroup_devices_deny(s->c, 'a', 13, 64, CGROUP_DEVICES_RW) == -1 &&
		    errno == EINVAL);
	test_assert(cgroup_devices_allow(s->c, 'b', 1, 3, CGROUP_DEVICES_READ) == 0);
	test_assert(reached_driver(child_open(s, block_node, O_RDONLY)));
	test_assert(child_open(s, assigned, O_RDONLY) == EPERM);
}

static void test_arguments(void) {
	with_scratch(V2_ONLY, body_args);
}

static int make_nodes(void) {
	snprintf(nodes, sizeof(nodes), "/tmp/" PREFIX "%d", (int)getpid());
	snprintf(assigned, sizeof(assigned), "%s/assigned", nodes);
	snprintf(other, sizeof(other), "%s/other", nodes);
	snprintf(block_node, sizeof(block_node), "%s/block", nodes);
	if (mkdir(nodes, 0700) == -1 || mknod(assigned, S_IFCHR | 0600, makedev(13, 64)) == -1 ||
		mknod(other, S_IFCHR | 0600, makedev(13, 65)) == -1 ||
		mknod(block_node, S_IFBLK | 0600, makedev(1, 3)) == -1) {
		return -1;
	}
	return 0;
}

int main(void) {
	log_init(LOG_LEVEL_WARN);
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root\n");
		return SKIP;
	}
	if (kernel_probe_find_cgroups(&host) == -1 || host.v2[0] == '\0') {
		fprintf(stderr, "skip: no cgroup v2 hierarchy\n");
		return SKIP;
	}
	sweep_stale(host.v2_own, true);
	if (host.v1_devices[0] != '\0') {
		sweep_stale(host.v1_devices_own, true);
	}
	sweep_stale("/tmp", false);
	/* A real device behind the numbers would make the test open hardware. */
	if (access("/sys/dev/char/13:64", F_OK) == 0 || access("/sys/dev/char/13:65", F_OK) == 0 ||
		access("/sys/dev/block/1:3", F_OK) == 0) {
		fprintf(stderr, "skip: this machine has a device 13:64, 13:65 or b 1:3\n");
		return SKIP;
	}
	if (make_nodes() == -1) {
		fprintf(stderr, "device nodes in %s: %s\n", nodes, strerror(errno));
		remove_nodes(nodes);
		return EXIT_FAILURE;
	}
	test_run(test_v2_enforced);
	test_run(test_v1_restricted);
	test_run(test_cgroup_namespace_root);
	test_run(test_container_died);
	test_run(test_moved_and_removed);
	test_run(test_replaces_stale_program);
	test_run(test_coexists_with_other_program);
	test_run(test_refusals);
	test_run(test_pid_reused);
	test_run(test_arguments);
	remove_nodes(nodes);
	return test_main_end();
}
