/*
 * The harness: the run's scratch space and its cleanup, and the containers. Each container
 * is a real unprivileged one, made by tests/tools/container-run (own user, network, mount
 * and pid namespaces, ids shifted, its own tmpfs /dev and /run), with its own seat and its
 * own keyboard; its init is this program in receiver mode (receiver.c), which reports on a
 * pipe. Registration is the daemon's: container_open() on the container's init,
 * forward_prepare() (/run/udev/control) and forwarder_open() (a socket in its network
 * namespace), then the keyboard is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delivery.h"

struct bench B = {.udevd_fd = -1, .report_r = -1, .report_w = -1, .shm_fd = -1};

static volatile sig_atomic_t cleaning;
static pid_t main_pid;

/*
 * Kills every container and process this program started and removes its scratch
 * directory. System calls only: it also runs from a signal handler.
 */
static void cleanup(void) {
	if (cleaning || getpid() != main_pid) {
		return;
	}
	cleaning = 1;
	for (int i = 0; i < B.n; i++) {
		if (B.cs[i].init_pid > 0) {
			kill(B.cs[i].init_pid, SIGKILL);
		}
		if (B.cs[i].run_pid > 0) {
			kill(B.cs[i].run_pid, SIGKILL);
		}
	}
	for (int i = 0; i < B.n; i++) {
		if (B.cs[i].run_pid > 0) {
			while (waitpid(B.cs[i].run_pid, NULL, 0) == -1 && errno == EINTR) {
			}
			B.cs[i].run_pid = 0;
		}
	}
	/* The mounts are in this program's own mount namespace; remove them anyway. */
	if (B.nodes_ready && B.nodes.dir != NULL) {
		umount2(B.nodes.dir, MNT_DETACH);
	}
	if (B.scratch[0] != '\0') {
		if (B.scratch_mounted) {
			umount2(B.scratch, MNT_DETACH);
		}
		rmdir(B.scratch);
	}
}

static void on_signal(int sig) {
	cleanup();
	_exit(128 + sig);
}

/* Cleans up at exit and on a signal, in this process only (not in its forked children). */
void cleanup_on_exit(void) {
	main_pid = getpid();
	atexit(cleanup);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Setup failed, or the run cannot go on: says why and exits 1 (cleaning up at exit). */
void die(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	fprintf(stderr, "delivery: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	exit(1);
}

/* Puts fds src[i] at 3 + i in a child about to exec (not close-on-exec there). */
void place_fds(const int *src, int n) {
	int high[8];
	for (int i = 0; i < n; i++) {
		high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 100);
		if (high[i] == -1) {
			_exit(126);
		}
	}
	for (int i = 0; i < n; i++) {
		if (dup2(high[i], 3 + i) == -1) {
			_exit(126);
		}
	}
}

static void start_container(struct bench_container *bc) {
	int go[2];
	if (pipe2(go, O_CLOEXEC) == -1) {
		die("pipe: %s", strerror(errno));
	}
	char shift[32], idx[16], minor[16], pid_file[128];
	snprintf(shift, sizeof(shift), "%u", SHIFT_BASE + (unsigned)bc->idx * SHIFT_STEP);
	snprintf(idx, sizeof(idx), "%d", bc->idx);
	snprintf(minor, sizeof(minor), "%u", bc->minor);
	snprintf(pid_file, sizeof(pid_file), "%s/%s.pid", B.scratch, bc->name);
	char *argv[] = {B.container_run, "--shift", shift, "--pid-file", pid_file, "--",
		B.self_exe, "--receiver", idx, bc->seat, bc->devpath, bc->devname, minor, NULL};
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == -1) {
		die("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Whatever happens to this program, its containers go with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) {
			_exit(1);
		}
		int fds[] = {B.report_w, B.shm_fd, go[0]};
		place_fds(fds, 3);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null != -1) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execv(B.container_run, argv);
		_exit(127);
	}
	close(go[0]);
	bc->go_fd = go[1];
	bc->run_pid = pid;
}

static void wait_containers_up(void) {
	uint64_t deadline = now_ns() + 20ull * 1000000000u;
	for (int i = 0; i < B.n; i++) {
		struct bench_container *bc = &B.cs[i];
		char pid_file[128];
		snprintf(pid_file, sizeof(pid_file), "%s/%s.pid", B.scratch, bc->name);
		while (bc->init_pid <= 0) {
			FILE *f = fopen(pid_file, "re");
			int pid = 0;
			if (f != NULL) {
				if (fscanf(f, "%d", &pid) != 1) {
					pid = 0;
				}
				fclose(f);
			}
			if (pid > 0) {
				bc->init_pid = pid;
				break;
			}
			if (waitpid(bc->run_pid, NULL, WNOHANG) == bc->run_pid) {
				bc->run_pid = 0;
				die("container %s did not start (container-run exited)", bc->name);
			}
			if (now_ns() > deadline) {
				die("container %s did not come up", bc->name);
			}
			usleep(2000);
		}
	}
}

/* Waits for the next report: 0 with *r, 1 for a READY one (noted), -1 on timeout. */
static int next_report(struct report *r, int timeout_ms) {
	for (;;) {
		struct pollfd p = {.fd = B.report_r, .events = POLLIN};
		int n = poll(&p, 1, timeout_ms);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n != 1) {
			return -1;
		}
		if (read(B.report_r, r, sizeof(*r)) != sizeof(*r)) {
			die("report pipe: %s", strerror(errno));
		}
		if (r->flags & R_READY) {
			if (r->idx < (uint32_t)B.n) {
				B.cs[r->idx].ready = true;
			}
			if (r->flags & R_NOT_UDEV_GROUP) {
				die("the libudev monitor in container %u is not on the udev group",
					r->idx);
			}
			return 1;
		}
		return 0;
	}
}

/* Waits for the receiver of bc to report seq: 0 with its receive time, -1 if lost. */
int await_receipt(struct bench_container *bc, uint64_t seq, uint64_t *t_ns) {
	struct report r;
	int got;
	while ((got = next_report(&r, REPORT_TIMEOUT_MS)) >= 0) {
		if (got == 0 && r.idx == (uint32_t)bc->idx && r.seq == seq) {
			if (r.flags & R_BAD) {
				fprintf(stderr, "delivery: %s: event %llu arrived %s\n", bc->name,
					(unsigned long long)seq,
					(r.flags & R_WRONG_DEVICE) ? "with another seat's device"
					: (r.flags & R_NO_NODE)    ? "before its node was in place"
								   : "before its db entry was in place");
				B.delivery_errors++;
			}
			*t_ns = r.t_ns;
			return 0;
		}
	}
	return -1;
}

/* Registers bc as the daemon does (desktops_register) and gives it its keyboard. */
void register_container(struct bench_container *bc) {
	if (container_open(&bc->c, bc->name, bc->init_pid, 0) == -1) {
		die("container_open %s (pid %d): %s", bc->name, (int)bc->init_pid, strerror(errno));
	}
	if (!bc->c.own_userns) {
		die("container %s shares the host's user namespace", bc->name);
	}
	if (forward_prepare(&bc->c) == -1 || forwarder_open(&bc->fwd, &bc->c) == -1) {
		die("preparing %s: %s", bc->name, strerror(errno));
	}
	if (hashmap_put(&B.registry, &bc->entry, bc->seat) == -1) {
		die("registry: %s", strerror(errno));
	}
	/* As desktops_sync() gives a new container its devices. */
	deliver(NULL, DEVICE_ADDED, device_of(bc));
	if (write(bc->go_fd, "g", 1) != 1) {
		die("starting the receiver of %s: %s", bc->name, strerror(errno));
	}
}

void wait_ready(int from, int to) {
	for (int i = from; i < to; i++) {
		struct report r;
		while (!B.cs[i].ready) {
			if (next_report(&r, 10000) == -1) {
				die("the receiver in %s did not start", B.cs[i].name);
			}
		}
	}
}

uint64_t received_total(void) {
	uint64_t sum = 0;
	for (int i = 0; i < B.n; i++) {
		sum += __atomic_load_n(&B.shm->slot[i].received, __ATOMIC_ACQUIRE);
	}
	return sum;
}

/* Events the receivers found wrong: another seat's device, or no node or db entry yet. */
uint64_t receivers_bad(void) {
	uint64_t bad = 0;
	for (int i = 0; i < B.n; i++) {
		bad += B.shm->slot[i].bad;
	}
	return bad;
}

/* Waits until the receivers have stopped receiving (they may lag after a flood). */
void settle(void) {
	uint64_t last = received_total(), deadline = now_ns() + 5ull * 1000000000u;
	for (;;) {
		usleep(100000);
		uint64_t cur = received_total();
		if (cur == last || now_ns() > deadline) {
			break;
		}
		last = cur;
	}
	/* Drop reports still queued. */
	struct report r;
	while (next_report(&r, 0) >= 0) {
	}
}

/*
 * Before the first row: this program's own mount and network namespaces, the scratch tmpfs,
 * the daemon's parts, the channels to the receivers, the containers, and coldplug.
 */
void setup(int n_containers) {
	if (readlink("/proc/self/exe", B.self_exe, sizeof(B.self_exe) - 1) == -1) {
		die("/proc/self/exe: %s", strerror(errno));
	}
	if (B.container_run[0] == '\0') {
		const char *env = getenv("CONTAINER_RUN");
		if (env != NULL) {
			snprintf(B.container_run, sizeof(B.container_run), "%s", env);
		} else {
			snprintf(B.container_run, sizeof(B.container_run), "%s", B.self_exe);
			char *slash = strrchr(B.container_run, '/');
			snprintf(slash + 1, sizeof(B.container_run) - (size_t)(slash + 1 - B.container_run),
				"container-run");
		}
	}
	if (access(B.container_run, X_OK) == -1) {
		die("%s: %s (give --container-run PATH or CONTAINER_RUN)", B.container_run,
			strerror(errno));
	}
	/* The containers' root, an unprivileged host uid, runs this program: can it? */
	setfsgid(SHIFT_BASE);
	setfsuid(SHIFT_BASE);
	int runnable = faccessat(AT_FDCWD, B.self_exe, X_OK, AT_EACCESS);
	setfsuid(0);
	setfsgid(0);
	if (runnable == -1) {
		die("%s cannot be run by other users (the containers' root is host uid %u): put it "
		    "where they can reach it",
			B.self_exe, SHIFT_BASE);
	}
	/*
	 * A mount namespace of our own (the node tmpfs and the scratch tmpfs vanish with us) and
	 * a network namespace of our own (the host udevd's messages we play reach no one else).
	 */
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) == -1 ||
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		die("unshare: %s", strerror(errno));
	}
	snprintf(B.scratch, sizeof(B.scratch), "/tmp/seatd-ns-bench.XXXXXX");
	if (mkdtemp(B.scratch) == NULL) {
		B.scratch[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	if (mount("tmpfs", B.scratch, "tmpfs", MS_NOSUID, "mode=0755") == -1) {
		die("mount: %s", strerror(errno));
	}
	B.scratch_mounted = true;
	char path[128];
	snprintf(path, sizeof(path), "%s/run", B.scratch);
	if (mkdir(path, 0755) == -1 || nodes_init(&B.nodes, path) == -1) {
		die("nodes_init: %s", strerror(errno));
	}
	B.nodes_ready = true;
	/* An empty sysfs root: the udevd messages say all the table needs. */
	snprintf(path, sizeof(path), "%s/sys", B.scratch);
	int sysfs_fd = mkdir(path, 0755) == 0 ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (sysfs_fd == -1) {
		die("%s: %s", path, strerror(errno));
	}
	host_init(sysfs_fd);
	int p[2];
	if (pipe2(p, O_CLOEXEC) == -1) {
		die("pipe: %s", strerror(errno));
	}
	B.report_r = p[0];
	B.report_w = p[1];
	fcntl(B.report_r, F_SETPIPE_SZ, 1 << 20);
	B.shm_fd = memfd_create("delivery-bench", MFD_CLOEXEC);
	if (B.shm_fd == -1 || ftruncate(B.shm_fd, sizeof(struct shm)) == -1 ||
		(B.shm = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, B.shm_fd,
			 0)) == MAP_FAILED) {
		die("shared memory: %s", strerror(errno));
	}
	B.shm->report = 1;
	/* The host's seats: one keyboard each, on its own USB port. */
	for (int i = 0; i < n_containers; i++) {
		struct bench_container *bc = &B.cs[i];
		bc->idx = i;
		bc->go_fd = -1;
		bc->minor = 65 + (unsigned)i;
		snprintf(bc->name, sizeof(bc->name), "desk%d", i + 1);
		snprintf(bc->seat, sizeof(bc->seat), "seat%d", i + 1);
		snprintf(bc->devname, sizeof(bc->devname), "input/event%d", i + 1);
		snprintf(bc->devpath, sizeof(bc->devpath),
			"/devices/pci0000:00/0000:00:07.0/usb1/1-%d/1-%d:1.0/0003:0627:0001.%04X/"
			"input/input%d/event%d",
			i + 1, i + 1, i + 1, i + 2, i + 1);
		snprintf(bc->id_path, sizeof(bc->id_path), "pci-0000:00:07.0-usb-0:%d:1.0", i + 1);
	}
	B.n = n_containers;
	for (int i = 0; i < B.n; i++) {
		start_container(&B.cs[i]);
	}
	close(B.report_w);
	B.report_w = -1;
	wait_containers_up();
	/* Coldplug: the host has every seat's keyboard before any container registers. */
	for (int i = 0; i < B.n; i++) {
		udevd_send(&B.cs[i], "add");
	}
	while (B.table.devices.n_entries < (size_t)B.n) {
		source_dispatch();
	}
}
