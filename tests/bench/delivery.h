/*
 * The delivery benchmark's shared types, its state and the parts' entry points
 * (tests/bench/README.md). delivery.c: options and main; harness.c: the run's scratch
 * space, its cleanup and its containers; receiver.c: each container's pid 1; host.c: the
 * host udevd this program plays and the daemon's way to deliver; peers.c: the peers' ways;
 * scenarios.c: the measurements; report.c: what is printed.
 */
#ifndef SEATD_NS_BENCH_DELIVERY_H
#define SEATD_NS_BENCH_DELIVERY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "container.h"
#include "device.h"
#include "devtable.h"
#include "event_source.h"
#include "forward.h"
#include "hashmap.h"
#include "nodes.h"

#define MAX_CONTAINERS 256
#define GROUP_UDEV 2
#define INPUT_MAJOR 13
#define SHIFT_BASE 200000u
#define SHIFT_STEP 65536u
#define REPORT_TIMEOUT_MS 1000
/* A row stops early after this long (on a slow or loaded machine), with fewer samples. */
#define ROW_TIME_CAP_NS (8ull * 1000000000u)
#define MAX_ROWS 24
#define MAX_TPUT 8

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
	uint64_t received, bad;
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

/* The run's state: the containers, the daemon's parts, the channels to the receivers. */
struct bench {
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
};
extern struct bench B;

struct stats {
	double median, p99, max; /* µs */
};

/* The latency rows' names: main() makes the rows, the summary finds them by name. */
#define ROW_DIRECT "change, direct (db, event)"
#define ROW_SOURCE "change via source (udevd msg to receipt)"
#define ROW_REMOVE "remove (event, db, node) via source"
#define ROW_ADD "add (node, db, event) via source"
#define ROW_FORK_SETNS "peer: fork+setns per event"
#define ROW_FORK_EXEC "peer: fork+exec per event"

/* A latency row. */
struct row {
	char name[64];
	char reg[24];
	struct stats lat, host;
	size_t n, lost;
};

/* A throughput row. */
struct throughput {
	char name[64], reg[24];
	double wall_rate, cpu_rate, us_per_event;
	uint64_t all_events, delivered;
};

/* What the scenarios measured, for the report. */
struct results {
	struct row rows[MAX_ROWS];
	int n_rows;
	struct throughput tputs[MAX_TPUT];
	int n_tputs;
};
extern struct results results;

static inline uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t thread_cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* harness.c */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cleanup_on_exit(void);
void place_fds(const int *src, int n);
void setup(int n_containers);
void register_container(struct bench_container *bc);
void wait_ready(int from, int to);
int await_receipt(struct bench_container *bc, uint64_t seq, uint64_t *t_ns);
uint64_t received_total(void);
uint64_t receivers_bad(void);
void settle(void);

/* receiver.c */
int receiver_main(int argc, char **argv);

/* host.c */
void host_init(int sysfs_fd);
int send_udev(int fd, const char *msg, size_t len, uid_t uid, gid_t gid);
void deliver(void *data, enum device_change change, const struct device *dev);
int udevd_message(struct bench_container *bc, const char *action, char *out, size_t size);
void udevd_send_msg(const char *msg, int len);
void udevd_send(struct bench_container *bc, const char *action);
void source_dispatch(void);
struct device *device_of(struct bench_container *bc);

/* peers.c */
void peer_fork_setns(struct bench_container *bc);
void peer_fork_exec(struct bench_container *bc);
int send_helper_main(int argc, char **argv);

/* scenarios.c */
enum path {
	PATH_DIRECT_CHANGE, /* table notification: view + db + send */
	PATH_SOURCE_CHANGE, /* udevd message: receive + parse + table + view + db + send */
	PATH_FORK_SETNS,    /* view + db, then fork; the child joins the netns and sends */
	PATH_FORK_EXEC,     /* view + db, then fork + exec of a helper that joins and sends */
};
void measure(const char *name, const char *reg, enum path path, struct bench_container **owners,
	int n_owners, size_t n);
void measure_hotplug(const char *reg, struct bench_container **owners, int n_owners, size_t n);
void throughput(const char *name, const char *reg, bool via_source,
	struct bench_container **owners, int n_owners, double seconds);
void breakdown(struct bench_container *bc, double *view_us, double *db_us, double *send_us,
	double *syscall_us);

/* report.c */
void print_machine(size_t n, size_t peer_n, size_t pairs);
void print_results(double view_us, double db_us, double send_us, double syscall_us);
void print_summary(int n, uint64_t only_first, uint64_t leaked, double step_us, double send_us);
void print_end(uint64_t started_ns);

#endif
