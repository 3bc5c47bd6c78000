/*
 * delivery: how long a device event takes to reach a libudev monitor inside a desktop
 * container, through the daemon's own code, and what the peers' ways cost on the same machine
 * in the same run (DESIGN "Performance targets"; issue 4, item 8). A benchmark: it prints
 * figures and asserts nothing about time. It fails only if it cannot set up, or if an event
 * reached the wrong container or arrived before its node and database entry were in place.
 *
 *   delivery [-n EVENTS] [-p PEER_EVENTS] [-a PAIRS] [-c CONTAINERS] [-t SECONDS]
 *            [--container-run PATH]
 *
 * -n: events per seatd-ns latency row (2000), -p: per peer row (500), -a: remove/add pairs
 * per hotplug row (200), -c: containers (64), -t: seconds per throughput row (1). A latency
 * row stops after 8 s with what it has (its n column says how many).
 *
 * Needs root. Each container is a real unprivileged one, made by tests/tools/container-run
 * (own user, network, mount and pid namespaces, ids shifted, its own tmpfs /dev and /run);
 * its init is this program in receiver mode: an unmodified libudev monitor
 * (udev_monitor_new_from_netlink "udev", filtered on "input") that timestamps each device
 * udev_monitor_receive_device() returns, checks it (its seat, its node, its db entry) and
 * reports on a pipe. Every container has its own seat and its own keyboard.
 *
 * The host side is the daemon's code: a container is held by container_open() on its init,
 * prepared with forward_prepare() (/run/udev/control) and given a socket in its network
 * namespace by forwarder_open(); an event is delivered by device_view_build(),
 * forward_db_write() and forward_send() (forward.c), an add by nodes_create() first, a remove
 * by forward_db_remove() and nodes_remove() after. The devices live in the daemon's device
 * table (devtable.c), fed by its event source (event_source.c) listening to udev messages
 * that this program sends as the host's udevd would, in a network namespace of its own. Only
 * the owner of a device is looked up (a hash by seat), as desktops.c does. Not included:
 * desktops.c's grant records, and its cgroup step (a BPF map update; these containers share
 * this program's cgroup, where the daemon skips it too).
 *
 * Rows: "direct" starts at the table's notification (the daemon's reaction to an event it
 * has); "via source" starts before the host udevd's message is sent, and adds the event
 * source's receive, parse and table update. Peers: the same view and db write, then the
 * message sent by a forked child that setns()es into the container's network namespace
 * (fork+setns), or by a forked child that execs a helper (this program, --send-helper) which
 * does so (fork+exec, what LXD and Incus do per uevent per container).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libudev.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "device.h"
#include "devtable.h"
#include "event_source.h"
#include "forward.h"
#include "hashmap.h"
#include "log.h"
#include "netlink.h"
#include "nodes.h"
#include "udev_message.h"
#include "uevent.h"

#define MAX_CONTAINERS 256
#define GROUP_UDEV 2
#define INPUT_MAJOR 13
#define SHIFT_BASE 200000u
#define SHIFT_STEP 65536u
#define REPORT_TIMEOUT_MS 1000
/* A row stops early after this long (on a slow or loaded machine), with fewer samples. */
#define ROW_TIME_CAP_NS (8ull * 1000000000u)

/* What a receiver reports for each device it receives (one pipe write, atomic). */
struct report {
	uint32_t idx;
	uint32_t flags;
	uint64_t seq;
	uint64_t t_ns; /* CLOCK_MONOTONIC when udev_monitor_receive_device() returned */
};

enum {
	R_READY = 1u << 0,         /* the monitor is listening */
	R_NOT_UDEV_GROUP = 1u << 1, /* libudev did not bind group 2 (no /run/udev/control) */
	R_WRONG_DEVICE = 1u << 2,  /* another seat's device, or a wrong device */
	R_NO_NODE = 1u << 3,       /* add or change heard before the node was in place */
	R_NO_DB = 1u << 4,         /* ... or before the db entry was */
	R_BAD = R_NOT_UDEV_GROUP | R_WRONG_DEVICE | R_NO_NODE | R_NO_DB,
};

/* Counters each receiver keeps in shared memory (a memfd), and the host's switch. */
struct shm_slot {
	uint64_t received, bad, overflows, last_seq;
};
struct shm {
	uint32_t report; /* receivers write a report per device only while set */
	uint32_t pad;
	struct shm_slot slot[MAX_CONTAINERS];
};

struct bench_container {
	struct hashmap_entry entry; /* in the registry, by seat, once registered */
	int idx;
	char name[32], seat[32], devpath[256], devname[32], id_path[96];
	unsigned minor;
	pid_t run_pid;  /* container-run */
	pid_t init_pid; /* the receiver, pid 1 inside */
	int go_fd;      /* a byte here starts the receiver */
	bool ready;
	struct container c;
	struct forwarder fwd;
	uint64_t sent;
};

static struct {
	struct bench_container cs[MAX_CONTAINERS];
	int n;
	struct hashmap registry;
	struct nodes nodes;
	bool nodes_ready;
	struct devtable table;
	struct event_source src;
	int udevd_fd;   /* the host udevd's socket, as this program plays it */
	uint64_t udevd_seq;
	int report_r, report_w;
	int shm_fd;
	struct shm *shm;
	char scratch[64];
	bool scratch_mounted;
	char self_exe[PATH_MAX];
	char container_run[PATH_MAX];
	unsigned long long delivery_errors;
	int ncpu;
} B = {.udevd_fd = -1, .report_r = -1, .report_w = -1, .shm_fd = -1};

static volatile sig_atomic_t cleaning;
static pid_t main_pid;

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	fprintf(stderr, "delivery: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	exit(1);
}

/* Puts fds src[i] at 3 + i in a child about to exec (not close-on-exec there). */
static void place_fds(const int *src, int n) {
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

/* Sends a udev message on group 2 with explicit credentials, as forward_send() does. */
static int send_udev(int fd, const char *msg, size_t len, uid_t uid, gid_t gid) {
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = GROUP_UDEV};
	return netlink_send_as(fd, &dest, msg, len, uid, gid);
}

/* ---- the receiver: pid 1 of a container, an unmodified libudev monitor ---- */

static int receiver_fail(const char *what) {
	fprintf(stderr, "delivery receiver: %s: %s\n", what, strerror(errno));
	return 2;
}

static int receiver_main(int argc, char **argv) {
	/* --receiver IDX SEAT DEVPATH DEVNAME MINOR; fd 3: reports, fd 4: shm, fd 5: go */
	if (argc != 7) {
		return 2;
	}
	uint32_t idx = (uint32_t)atoi(argv[2]);
	const char *seat = argv[3], *devpath = argv[4], *devname = argv[5];
	unsigned minor = (unsigned)atoi(argv[6]);
	char node[64], db[64];
	snprintf(node, sizeof(node), "/dev/%s", devname);
	snprintf(db, sizeof(db), "/run/udev/data/c%u:%u", INPUT_MAJOR, minor);
	struct shm *shm = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, 4, 0);
	if (shm == MAP_FAILED) {
		return receiver_fail("mmap");
	}
	struct shm_slot *slot = &shm->slot[idx];
	fcntl(3, F_SETFL, O_NONBLOCK);
	/* Away from CPU 0, where the host pins its throughput runs. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > 1) {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (long c = 1; c < ncpu && c < CPU_SETSIZE; c++) {
			CPU_SET((int)c, &set);
		}
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* Start once registered: libudev listens on group 2 only if /run/udev/control exists. */
	char go;
	if (read(5, &go, 1) != 1) {
		return 0;
	}
	struct udev *udev = udev_new();
	struct udev_monitor *mon = udev ? udev_monitor_new_from_netlink(udev, "udev") : NULL;
	if (mon == NULL || udev_monitor_filter_add_match_subsystem_devtype(mon, "input", NULL) < 0 ||
		udev_monitor_enable_receiving(mon) < 0) {
		return receiver_fail("libudev monitor");
	}
	int fd = udev_monitor_get_fd(mon);
	struct sockaddr_nl addr;
	socklen_t addr_len = sizeof(addr);
	struct report ready = {.idx = idx, .flags = R_READY};
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == -1 ||
		addr.nl_groups != GROUP_UDEV) {
		ready.flags |= R_NOT_UDEV_GROUP;
	}
	if (write(3, &ready, sizeof(ready)) != sizeof(ready)) {
		return receiver_fail("report");
	}
	for (;;) {
		/* The go pipe hangs up when the host side is gone, however it went: then go too. */
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 5, .events = POLLIN}};
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return receiver_fail("poll");
		}
		if (p[1].revents != 0) {
			return 0;
		}
		if (!(p[0].revents & POLLIN)) {
			continue;
		}
		struct udev_device *d = udev_monitor_receive_device(mon);
		uint64_t t = now_ns();
		if (d == NULL) {
			if (errno == ENOBUFS) {
				__atomic_fetch_add(&slot->overflows, 1, __ATOMIC_RELAXED);
			}
			continue;
		}
		struct report r = {.idx = idx, .seq = udev_device_get_seqnum(d), .t_ns = t};
		const char *action = udev_device_get_action(d);
		const char *dseat = udev_device_get_property_value(d, "ID_SEAT");
		const char *dpath = udev_device_get_devpath(d);
		if (dseat == NULL || strcmp(dseat, seat) != 0 || dpath == NULL ||
			strcmp(dpath, devpath) != 0) {
			r.flags |= R_WRONG_DEVICE;
		}
		bool reporting = __atomic_load_n(&shm->report, __ATOMIC_RELAXED) != 0;
		/* Whoever hears an add or change must find the node and the db entry. */
		if (reporting && action != NULL && strcmp(action, "remove") != 0) {
			struct stat st;
			if (stat(node, &st) == -1 || !S_ISCHR(st.st_mode) ||
				st.st_rdev != makedev(INPUT_MAJOR, minor)) {
				r.flags |= R_NO_NODE;
			}
			if (access(db, F_OK) == -1) {
				r.flags |= R_NO_DB;
			}
		}
		udev_device_unref(d);
		__atomic_store_n(&slot->last_seq, r.seq, __ATOMIC_RELAXED);
		if (r.flags & R_BAD) {
			__atomic_fetch_add(&slot->bad, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&slot->received, 1, __ATOMIC_RELEASE);
		if (reporting) {
			(void)!write(3, &r, sizeof(r));
		}
	}
}

/* ---- the fork+exec peer's helper: join the netns, send, exit ---- */

static int send_helper_main(int argc, char **argv) {
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
	if (n == -1 || setns(4, CLONE_NEWNET) == -1) {
		return 1;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd == -1) {
		return 1;
	}
	return send_udev(fd, msg, len, (uid_t)strtoul(argv[2], NULL, 10),
		       (gid_t)strtoul(argv[3], NULL, 10)) == 0
		       ? 0
		       : 1;
}

/* ---- the daemon side ---- */

static struct bench_container *owner_of(const struct device *dev) {
	struct hashmap_entry *e = hashmap_get(&B.registry, dev->seat);
	return e ? hashmap_container_of(e, struct bench_container, entry) : NULL;
}

static void delivery_error(struct bench_container *bc, const char *what) {
	if (B.delivery_errors++ < 5) {
		fprintf(stderr, "delivery: %s: %s: %s\n", bc->name, what, strerror(errno));
	}
}

/*
 * The table's notification: what desktops.c does for the owner of the device. Add: node,
 * db entry, event. Change: db entry, event. Remove: event, db entry, node.
 */
static void deliver(void *data, enum device_change change, const struct device *dev) {
	struct bench_container *bc = owner_of(dev);
	if (bc == NULL) {
		return;
	}
	struct device_view view;
	const char *action = change == DEVICE_ADDED ? "add"
			     : change == DEVICE_REMOVED ? "remove"
							: "change";
	if (change == DEVICE_ADDED && nodes_create(&B.nodes, &bc->c, dev) == -1) {
		delivery_error(bc, "nodes_create");
		return;
	}
	if (device_view_build(&view, dev, action, ++bc->fwd.seqnum) == -1) {
		delivery_error(bc, "device_view_build");
		return;
	}
	if (change != DEVICE_REMOVED && forward_db_write(&bc->fwd, &bc->c, &view) == -1) {
		delivery_error(bc, "forward_db_write");
	}
	if (forward_send(&bc->fwd, &bc->c, &view) == -1) {
		delivery_error(bc, "forward_send");
	}
	bc->sent++;
	if (change == DEVICE_REMOVED) {
		if (forward_db_remove(&bc->fwd, &bc->c, &view) == -1) {
			delivery_error(bc, "forward_db_remove");
		}
		if (nodes_remove(&B.nodes, &bc->c, dev) == -1) {
			delivery_error(bc, "nodes_remove");
		}
	}
}

/* The message the host's udevd sends for a processed event of bc's keyboard. */
static int udevd_message(struct bench_container *bc, const char *action, char *out, size_t size) {
	char props[2048], tag[96];
	size_t off = 0;
	int n = 0;
#define PROP(...)                                                                              \
	do {                                                                                   \
		n = snprintf(props + off, sizeof(props) - off, __VA_ARGS__);                   \
		off += (size_t)n + 1;                                                          \
	} while (0)
	snprintf(tag, sizeof(tag), "%s", bc->id_path);
	for (char *p = tag; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
			*p = '_';
		}
	}
	PROP("ACTION=%s", action);
	PROP("DEVPATH=%s", bc->devpath);
	PROP("SUBSYSTEM=input");
	PROP("DEVNAME=/dev/%s", bc->devname);
	PROP("SEQNUM=%llu", (unsigned long long)++B.udevd_seq);
	PROP("USEC_INITIALIZED=%llu", (unsigned long long)(now_ns() / 1000));
	PROP("ID_INPUT=1");
	PROP("ID_INPUT_KEY=1");
	PROP("ID_INPUT_KEYBOARD=1");
	PROP("ID_BUS=usb");
	PROP("ID_VENDOR_ID=0627");
	PROP("ID_MODEL_ID=0001");
	PROP("ID_PATH=%s", bc->id_path);
	PROP("ID_PATH_TAG=%s", tag);
	PROP("ID_SEAT=%s", bc->seat);
	PROP("MAJOR=%u", INPUT_MAJOR);
	PROP("MINOR=%u", bc->minor);
	PROP("TAGS=:seat:uaccess:%s:", bc->seat);
	PROP("CURRENT_TAGS=:seat:uaccess:%s:", bc->seat);
#undef PROP
	(void)n;
	struct uevent ev;
	const char *why;
	if (uevent_parse_properties(&ev, props, off, &why) == -1) {
		die("udevd message for %s: %s", bc->name, why);
	}
	return udev_message_encode(&ev, out, size);
}

/* Sends a message as the host's udevd does: from root, to group 2. */
static void udevd_send_msg(const char *msg, int len) {
	if (len == -1 || send_udev(B.udevd_fd, msg, (size_t)len, 0, 0) == -1) {
		die("sending the host udevd's message: %s", strerror(errno));
	}
}

static void udevd_send(struct bench_container *bc, const char *action) {
	char msg[UDEV_MESSAGE_MAX_SIZE];
	udevd_send_msg(msg, udevd_message(bc, action, msg, sizeof(msg)));
}

/* The daemon's event loop turn: wait for the source, dispatch what it has. */
static void source_dispatch(void) {
	struct pollfd p = {.fd = B.src.fd, .events = POLLIN};
	if (poll(&p, 1, 1000) != 1 || event_source_dispatch(&B.src, &B.table) == -1) {
		die("event source: %s", strerror(errno));
	}
}

static struct device *device_of(struct bench_container *bc) {
	struct device *dev = devtable_find(&B.table, bc->devpath);
	if (dev == NULL) {
		die("%s's keyboard is not in the device table", bc->name);
	}
	return dev;
}

/* ---- containers ---- */

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
static int await_receipt(struct bench_container *bc, uint64_t seq, uint64_t *t_ns) {
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
static void register_container(struct bench_container *bc) {
	if (container_open(&bc->c, bc->name, bc->init_pid) == -1) {
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

static void wait_ready(int from, int to) {
	for (int i = from; i < to; i++) {
		struct report r;
		while (!B.cs[i].ready) {
			if (next_report(&r, 10000) == -1) {
				die("the receiver in %s did not start", B.cs[i].name);
			}
		}
	}
}

/* ---- measurements ---- */

struct samples {
	uint64_t *lat;  /* host event to libudev receipt */
	uint64_t *host; /* host busy: from the event until the sending side returns */
	size_t n, lost;
};

static void samples_init(struct samples *s, size_t cap) {
	s->lat = calloc(cap, sizeof(uint64_t));
	s->host = calloc(cap, sizeof(uint64_t));
	s->n = s->lost = 0;
	if (s->lat == NULL || s->host == NULL) {
		die("out of memory");
	}
}

static void samples_free(struct samples *s) {
	free(s->lat);
	free(s->host);
}

static int cmp_u64(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct stats {
	double median, p99, max; /* µs */
};

static struct stats stats_of(uint64_t *v, size_t n) {
	struct stats st = {0};
	if (n == 0) {
		return st;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	size_t p99 = (99 * n + 99) / 100 - 1; /* ceil(0.99 n) - 1 */
	st.median = (double)v[n / 2] / 1000.0;
	st.p99 = (double)v[p99] / 1000.0;
	st.max = (double)v[n - 1] / 1000.0;
	return st;
}

struct row {
	char name[64];
	char reg[24];
	struct stats lat, host;
	size_t n, lost;
};

#define MAX_ROWS 24
static struct row rows[MAX_ROWS];
static int n_rows;

static void add_row(const char *name, const char *reg, struct samples *s) {
	if (n_rows == MAX_ROWS) {
		die("too many rows");
	}
	struct row *r = &rows[n_rows++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->reg, sizeof(r->reg), "%s", reg);
	r->lat = stats_of(s->lat, s->n);
	r->host = stats_of(s->host, s->n);
	r->n = s->n;
	r->lost = s->lost;
	fprintf(stderr, "  %-44s %-10s median %8.1f µs  p99 %8.1f µs\n", name, reg, r->lat.median,
		r->lat.p99);
}

static void record(struct samples *s, struct bench_container *bc, uint64_t t0, uint64_t t1) {
	uint64_t t;
	if (await_receipt(bc, bc->fwd.seqnum, &t) == -1) {
		s->lost++;
		if (s->lost > 20) {
			die("events to %s are being lost", bc->name);
		}
		return;
	}
	s->lat[s->n] = t > t0 ? t - t0 : 0;
	s->host[s->n] = t1 - t0;
	s->n++;
}

enum path {
	PATH_DIRECT_CHANGE,   /* table notification: view + db + send */
	PATH_SOURCE_CHANGE,   /* udevd message: receive + parse + table + view + db + send */
	PATH_FORK_SETNS,      /* view + db, then fork; the child joins the netns and sends */
	PATH_FORK_EXEC,       /* view + db, then fork + exec of a helper that joins and sends */
};

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

static void one_event(enum path path, struct bench_container *bc, struct samples *s) {
	char msg[UDEV_MESSAGE_MAX_SIZE];
	/* The host udevd's message is made before the event starts: it is udevd's work. */
	int udevd_len = path == PATH_SOURCE_CHANGE ? udevd_message(bc, "change", msg, sizeof(msg)) : 0;
	uint64_t t0 = now_ns();
	switch (path) {
	case PATH_DIRECT_CHANGE:
		deliver(NULL, DEVICE_CHANGED, device_of(bc));
		break;
	case PATH_SOURCE_CHANGE:
		udevd_send_msg(msg, udevd_len);
		source_dispatch();
		break;
	case PATH_FORK_SETNS: {
		int len = peer_prepare(bc, device_of(bc), msg, sizeof(msg));
		pid_t pid = fork();
		if (pid == 0) {
			int fd = -1;
			if (setns(bc->c.net_fd, CLONE_NEWNET) == -1 ||
				(fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
					 NETLINK_KOBJECT_UEVENT)) == -1 ||
				send_udev(fd, msg, (size_t)len, bc->c.root_uid, bc->c.root_gid) == -1) {
				_exit(1);
			}
			_exit(0);
		}
		if (pid == -1) {
			die("fork: %s", strerror(errno));
		}
		wait_child(pid);
		break;
	}
	case PATH_FORK_EXEC: {
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
		break;
	}
	}
	record(s, bc, t0, now_ns());
}

/* n events by path, to the owners in turn. */
static void measure(const char *name, const char *reg, enum path path,
	struct bench_container **owners, int n_owners, size_t n) {
	struct samples s, w;
	samples_init(&s, n);
	samples_init(&w, n / 20 + 1);
	for (size_t i = 0; i < n / 20 + 1; i++) { /* warm-up */
		one_event(path, owners[i % (size_t)n_owners], &w);
	}
	samples_free(&w);
	uint64_t deadline = now_ns() + ROW_TIME_CAP_NS;
	for (size_t i = 0; i < n && now_ns() < deadline; i++) {
		one_event(path, owners[i % (size_t)n_owners], &s);
	}
	add_row(name, reg, &s);
	samples_free(&s);
}

/* Hotplug through the source: remove, then add, of each owner's keyboard, n times. */
static void measure_hotplug(const char *reg, struct bench_container **owners, int n_owners,
	size_t n) {
	struct samples sa, sr;
	samples_init(&sa, n);
	samples_init(&sr, n);
	uint64_t deadline = now_ns() + ROW_TIME_CAP_NS;
	for (size_t i = 0; i < n && now_ns() < deadline; i++) {
		struct bench_container *bc = owners[i % (size_t)n_owners];
		char msg[UDEV_MESSAGE_MAX_SIZE];
		int len = udevd_message(bc, "remove", msg, sizeof(msg));
		uint64_t t0 = now_ns();
		udevd_send_msg(msg, len);
		source_dispatch();
		record(&sr, bc, t0, now_ns());
		len = udevd_message(bc, "add", msg, sizeof(msg));
		t0 = now_ns();
		udevd_send_msg(msg, len);
		source_dispatch();
		record(&sa, bc, t0, now_ns());
	}
	add_row("remove (event, db, node) via source", reg, &sr);
	add_row("add (node, db, event) via source", reg, &sa);
	samples_free(&sa);
	samples_free(&sr);
}

static uint64_t received_total(void) {
	uint64_t sum = 0;
	for (int i = 0; i < B.n; i++) {
		sum += __atomic_load_n(&B.shm->slot[i].received, __ATOMIC_ACQUIRE);
	}
	return sum;
}

/* Waits until the receivers have stopped receiving (they may lag after a flood). */
static void settle(void) {
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

struct throughput {
	char name[64], reg[24];
	double wall_rate, cpu_rate, us_per_event;
	uint64_t all_events, delivered;
};

#define MAX_TPUT 8
static struct throughput tputs[MAX_TPUT];
static int n_tputs;

static void pin_cpu0(bool on) {
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int c = 0; c < (on ? 1 : B.ncpu) && c < CPU_SETSIZE; c++) {
		CPU_SET(c, &set);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Events per second on one core with no receiver wait: the daemon's work only (for the
 * source path the host udevd's messages are queued first, outside the timed part).
 */
static void throughput(const char *name, const char *reg, bool via_source,
	struct bench_container **owners, int n_owners, double seconds) {
	enum { CHUNK = 200 };
	pin_cpu0(true);
	__atomic_store_n(&B.shm->report, 0, __ATOMIC_RELAXED);
	settle();
	uint64_t received0 = received_total(), events = 0, all_events = 0, wall = 0, cpu = 0;
	size_t k = 0;
	for (int warm = 1; warm >= 0; warm--) {
		uint64_t budget = warm ? 100000000u : (uint64_t)(seconds * 1e9);
		uint64_t spent = 0;
		while (spent < budget) {
			if (via_source) {
				for (size_t i = 0; i < CHUNK; i++) {
					udevd_send(owners[(k + i) % (size_t)n_owners], "change");
				}
			}
			uint64_t w0 = now_ns(), c0 = thread_cpu_ns();
			if (via_source) {
				if (event_source_dispatch(&B.src, &B.table) != 0) {
					die("event source overflowed or failed");
				}
			} else {
				for (size_t i = 0; i < CHUNK; i++) {
					deliver(NULL, DEVICE_CHANGED,
						device_of(owners[(k + i) % (size_t)n_owners]));
				}
			}
			uint64_t w1 = now_ns(), c1 = thread_cpu_ns();
			k += CHUNK;
			all_events += CHUNK;
			spent += w1 - w0;
			if (!warm) {
				events += CHUNK;
				wall += w1 - w0;
				cpu += c1 - c0;
			}
		}
	}
	settle();
	struct throughput *t = &tputs[n_tputs++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->reg, sizeof(t->reg), "%s", reg);
	t->all_events = all_events;
	t->wall_rate = (double)events / ((double)wall / 1e9);
	t->cpu_rate = (double)events / ((double)cpu / 1e9);
	t->us_per_event = (double)wall / (double)events / 1000.0;
	t->delivered = received_total() - received0;
	fprintf(stderr, "  %-44s %-10s %10.0f events/s\n", name, reg, t->wall_rate);
	__atomic_store_n(&B.shm->report, 1, __ATOMIC_RELAXED);
	pin_cpu0(false);
}

/* Mean cost of each step of a delivery, one container, no receiver wait. */
static void breakdown(struct bench_container *bc, double *view_us, double *db_us,
	double *send_us, double *syscall_us) {
	enum { N = 20000, STEP_NS = 300000000 };
	pin_cpu0(true);
	__atomic_store_n(&B.shm->report, 0, __ATOMIC_RELAXED);
	settle();
	const struct device *dev = device_of(bc);
	struct device_view view;
	int n1 = 0, n2 = 0, n3 = 0;
	uint64_t t0 = now_ns();
	for (; n1 < N && (n1 % 64 || now_ns() - t0 < STEP_NS); n1++) {
		device_view_build(&view, dev, "change", ++bc->fwd.seqnum);
	}
	uint64_t t1 = now_ns();
	for (; n2 < N && (n2 % 8 || now_ns() - t1 < STEP_NS); n2++) {
		if (forward_db_write(&bc->fwd, &bc->c, &view) == -1) {
			die("forward_db_write: %s", strerror(errno));
		}
	}
	uint64_t t2 = now_ns();
	for (; n3 < N && (n3 % 64 || now_ns() - t2 < STEP_NS); n3++) {
		if (forward_send(&bc->fwd, &bc->c, &view) == -1) {
			die("forward_send: %s", strerror(errno));
		}
	}
	uint64_t t3 = now_ns();
	*view_us = (double)(t1 - t0) / n1 / 1000.0;
	*db_us = (double)(t2 - t1) / n2 / 1000.0;
	*send_us = (double)(t3 - t2) / n3 / 1000.0;
	/* What a bare system call costs here, to compare machines. */
	enum { SYSCALLS = 100000 };
	uint64_t t4 = now_ns();
	for (int i = 0; i < SYSCALLS; i++) {
		getppid();
	}
	*syscall_us = (double)(now_ns() - t4) / SYSCALLS / 1000.0;
	settle();
	__atomic_store_n(&B.shm->report, 1, __ATOMIC_RELAXED);
	pin_cpu0(false);
}

/* ---- setup ---- */

static void setup(int n_containers) {
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
	devtable_init(&B.table, sysfs_fd, deliver, NULL);
	hashmap_init(&B.registry);
	if (event_source_open(&B.src, EVENT_SOURCE_UDEV, EVENT_SOURCE_BUFFER_SIZE) == -1) {
		die("event source: %s", strerror(errno));
	}
	B.udevd_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl self = {.nl_family = AF_NETLINK};
	if (B.udevd_fd == -1 || bind(B.udevd_fd, (struct sockaddr *)&self, sizeof(self)) == -1) {
		die("udevd socket: %s", strerror(errno));
	}
	int sndbuf = 64 * 1024 * 1024;
	setsockopt(B.udevd_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
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

static void loadavg(char *out, size_t size) {
	FILE *f = fopen("/proc/loadavg", "re");
	if (f == NULL || fgets(out, (int)size, f) == NULL) {
		snprintf(out, size, "?\n");
	}
	if (f != NULL) {
		fclose(f);
	}
	out[strcspn(out, "\n")] = '\0';
}

static void print_machine(size_t n, size_t peer_n, size_t pairs) {
	struct utsname u;
	uname(&u);
	char model[256] = "?", line[256];
	FILE *f = fopen("/proc/cpuinfo", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) == 0) {
			char *colon = strchr(line, ':');
			snprintf(model, sizeof(model), "%s", colon ? colon + 2 : line);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	printf("seatd-ns delivery benchmark: host event -> libudev monitor in an unprivileged "
	       "container\n");
	char load[128];
	loadavg(load, sizeof(load));
	printf("machine: Linux %s, %d CPUs, %s; load average at start: %s\n", u.release, B.ncpu,
		model, load);
	printf("events: %zu per seatd-ns latency row, %zu per peer row, %zu remove/add pairs per "
	       "hotplug row; times in µs\n\n",
		n, peer_n, pairs);
}

static void print_results(double view_us, double db_us, double send_us, double syscall_us) {
	printf("%-42s %-12s %6s %9s %9s %9s %9s %5s\n", "path", "registered", "n", "median", "p99",
		"max", "host", "lost");
	for (int i = 0; i < n_rows; i++) {
		struct row *r = &rows[i];
		printf("%-42s %-12s %6zu %9.1f %9.1f %9.1f %9.1f %5zu\n", r->name, r->reg, r->n,
			r->lat.median, r->lat.p99, r->lat.max, r->host.median, r->lost);
	}
	printf("  (median, p99, max: host event to udev_monitor_receive_device() returning in the\n"
	       "   container; host: median time the host side is busy per event)\n\n");
	printf("one delivery, step by step (1 container, means): view %.2f, db write %.2f, "
	       "send %.2f µs\n  (for scale: a bare system call, getppid, costs %.2f µs here)\n\n",
		view_us, db_us, send_us, syscall_us);
	printf("%-42s %-12s %12s %14s %9s %12s\n", "throughput (one core, no receiver wait)",
		"registered", "events/s", "events/CPU-s", "µs/event", "delivered");
	for (int i = 0; i < n_tputs; i++) {
		struct throughput *t = &tputs[i];
		printf("%-42s %-12s %12.0f %14.0f %9.2f %5.1f%% of %llu\n", t->name, t->reg,
			t->wall_rate, t->cpu_rate, t->us_per_event,
			100.0 * (double)t->delivered / (double)t->all_events,
			(unsigned long long)t->all_events);
	}
	printf("  (delivered: what the receivers' libudev got; the rest overflowed their socket "
	       "buffers)\n\n");
}

static const struct row *find_row(const char *name, const char *reg) {
	for (int i = 0; i < n_rows; i++) {
		if (strcmp(rows[i].name, name) == 0 && strcmp(rows[i].reg, reg) == 0) {
			return &rows[i];
		}
	}
	return NULL;
}

static const char *verdict(bool met) {
	return met ? "met" : "MISSED";
}

static void print_summary(int n, uint64_t only_first, uint64_t leaked, double step_us,
	double send_us) {
	char many[24], many0[24];
	snprintf(many, sizeof(many), "%d, rotating", n);
	snprintf(many0, sizeof(many0), "%d, desk1", n);
	const struct row *d1 = find_row("change, direct (db, event)", "1");
	const struct row *dn = find_row("change, direct (db, event)", many);
	const struct row *s1 = find_row("change via source (udevd msg to receipt)", "1");
	const struct row *sn = find_row("change via source (udevd msg to receipt)", many);
	const struct row *an = find_row("add (node, db, event) via source", many);
	const struct row *fs = find_row("peer: fork+setns per event", "1");
	const struct row *fe = find_row("peer: fork+exec per event", "1");
	printf("peers against seatd-ns (1 container; same view and db write, only the sending "
	       "differs):\n");
	if (d1 && fs && fe) {
		printf("  fork+setns per event: median %.1fx, p99 %.1fx, host busy %.1fx of seatd-ns "
		       "direct\n",
			fs->lat.median / d1->lat.median, fs->lat.p99 / d1->lat.p99,
			fs->host.median / d1->host.median);
		printf("  fork+exec per event:  median %.1fx, p99 %.1fx, host busy %.1fx of seatd-ns "
		       "direct\n",
			fe->lat.median / d1->lat.median, fe->lat.p99 / d1->lat.p99,
			fe->host.median / d1->host.median);
	}
	if (s1 && fs && fe) {
		printf("  against seatd-ns via source: fork+setns %.1fx, fork+exec %.1fx (medians)\n",
			fs->lat.median / s1->lat.median, fe->lat.median / s1->lat.median);
	}
	if (fs && fe && send_us > 0) {
		/* The peers' host-busy median less the mean view and db write of the step line. */
		printf("  the sending alone, about: fork+setns %.0f µs, fork+exec %.0f µs, against "
		       "forward_send %.1f µs (%.0fx, %.0fx)\n",
			fs->host.median - step_us, fe->host.median - step_us, send_us,
			(fs->host.median - step_us) / send_us, (fe->host.median - step_us) / send_us);
	}
	const struct row *d0 = find_row("change, direct (db, event)", many0);
	printf("\nper-event cost, %d containers registered against 1 (medians):\n", n);
	if (d1 && d0) {
		printf("  direct, same owner %.2fx", d0->lat.median / d1->lat.median);
	}
	if (d1 && dn) {
		printf(", direct, owner rotating over all %.2fx", dn->lat.median / d1->lat.median);
	}
	if (s1 && sn) {
		printf(", via source, rotating %.2fx", sn->lat.median / s1->lat.median);
	}
	printf("\n\ntargets (DESIGN, %d containers registered):\n", n);
	if (sn) {
		printf("  change via source: median %.1f < 100 µs %s, p99 %.1f < 1000 µs %s\n",
			sn->lat.median, verdict(sn->lat.median < 100), sn->lat.p99,
			verdict(sn->lat.p99 < 1000));
	}
	if (an) {
		printf("  add (node made per event): median %.1f < 100 µs %s, p99 %.1f < 1000 µs %s\n",
			an->lat.median, verdict(an->lat.median < 100), an->lat.p99,
			verdict(an->lat.p99 < 1000));
	}
	for (int i = 0; i < n_tputs; i++) {
		if (strstr(tputs[i].reg, "rotating") != NULL) {
			printf("  throughput %s: %.0f events/s >= 100000 %s\n", tputs[i].name,
				tputs[i].wall_rate, verdict(tputs[i].wall_rate >= 100000));
		}
	}
	uint64_t bad = 0;
	for (int i = 0; i < B.n; i++) {
		bad += B.shm->slot[i].bad;
	}
	printf("\ncorrectness: while %llu events went to desk1 alone, the other containers heard "
	       "%llu of them;\n  %llu events arrived with a wrong device or before their node or "
	       "db entry, %llu deliveries failed\n",
		(unsigned long long)only_first, (unsigned long long)leaked, (unsigned long long)bad,
		B.delivery_errors);
}

static void usage(void) {
	fprintf(stderr, "usage: delivery [-n EVENTS] [-p PEER_EVENTS] [-a PAIRS] [-c CONTAINERS] "
			"[-t SECONDS] [--container-run PATH]\n");
	exit(2);
}

int main(int argc, char *argv[]) {
	if (argc > 1 && strcmp(argv[1], "--receiver") == 0) {
		return receiver_main(argc, argv);
	}
	if (argc > 1 && strcmp(argv[1], "--send-helper") == 0) {
		return send_helper_main(argc, argv);
	}
	size_t n = 2000, peer_n = 500, pairs = 200;
	int n_containers = 64;
	double seconds = 1.0;
	static const struct option longopts[] = {
		{"container-run", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "n:p:a:c:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			peer_n = strtoul(optarg, NULL, 10);
			break;
		case 'a':
			pairs = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			n_containers = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'r':
			snprintf(B.container_run, sizeof(B.container_run), "%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (n < 10 || peer_n < 10 || pairs < 1 || n_containers < 2 || n_containers > MAX_CONTAINERS ||
		seconds <= 0) {
		usage();
	}
	if (geteuid() != 0) {
		fprintf(stderr, "delivery: needs root (namespaces, nodes, mounts)\n");
		return 77;
	}
	B.ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	main_pid = getpid();
	log_init(LOG_LEVEL_WARN);
	atexit(cleanup);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	uint64_t started = now_ns();
	fprintf(stderr, "starting %d containers...\n", n_containers);
	setup(n_containers);
	print_machine(n, peer_n, pairs);

	struct bench_container *first[] = {&B.cs[0]};
	struct bench_container *all[MAX_CONTAINERS];
	for (int i = 0; i < B.n; i++) {
		all[i] = &B.cs[i];
	}
	char many[24], many0[24];
	snprintf(many, sizeof(many), "%d, rotating", B.n);
	snprintf(many0, sizeof(many0), "%d, desk1", B.n);

	fprintf(stderr, "1 container registered:\n");
	register_container(&B.cs[0]);
	wait_ready(0, 1);
	measure("change, direct (db, event)", "1", PATH_DIRECT_CHANGE, first, 1, n);
	measure("change via source (udevd msg to receipt)", "1", PATH_SOURCE_CHANGE, first, 1, n);
	measure_hotplug("1", first, 1, pairs);
	measure("peer: fork+setns per event", "1", PATH_FORK_SETNS, first, 1, peer_n);
	measure("peer: fork+exec per event", "1", PATH_FORK_EXEC, first, 1, peer_n);
	double view_us, db_us, send_us, syscall_us;
	breakdown(&B.cs[0], &view_us, &db_us, &send_us, &syscall_us);
	throughput("change, direct", "1", false, first, 1, seconds);
	throughput("change via source (receive, parse, table)", "1", true, first, 1, seconds);

	fprintf(stderr, "%d containers registered:\n", B.n);
	for (int i = 1; i < B.n; i++) {
		register_container(&B.cs[i]);
	}
	wait_ready(1, B.n);
	/* Only the owner hears an event: the others' counters must not move. */
	uint64_t before[MAX_CONTAINERS];
	for (int i = 1; i < B.n; i++) {
		before[i] = B.shm->slot[i].received;
	}
	uint64_t sent_before = B.cs[0].sent;
	measure("change, direct (db, event)", many0, PATH_DIRECT_CHANGE, first, 1, n);
	settle();
	uint64_t leaked = 0;
	for (int i = 1; i < B.n; i++) {
		leaked += B.shm->slot[i].received - before[i];
	}
	uint64_t only_first = B.cs[0].sent - sent_before;
	measure("change, direct (db, event)", many, PATH_DIRECT_CHANGE, all, B.n, n);
	measure("change via source (udevd msg to receipt)", many, PATH_SOURCE_CHANGE, all, B.n, n);
	measure_hotplug(many, all, B.n, pairs);
	throughput("change, direct", many, false, all, B.n, seconds);
	throughput("change via source (receive, parse, table)", many, true, all, B.n, seconds);

	print_results(view_us, db_us, send_us, syscall_us);
	print_summary(B.n, only_first, leaked, view_us + db_us, send_us);
	char load[128];
	loadavg(load, sizeof(load));
	printf("\nrun time %.1f s; load average at the end: %s\n", (double)(now_ns() - started) / 1e9,
		load);
	uint64_t bad = 0;
	for (int i = 0; i < B.n; i++) {
		bad += B.shm->slot[i].bad;
	}
	return leaked != 0 || bad != 0 || B.delivery_errors != 0 ? 1 : 0;
}
