/*
 * The measurements. Latency rows, one event at a time: "direct" starts at the table's
 * notification (the daemon's reaction to an event it has); "via source" starts before the
 * host udevd's message is sent, and adds the event source's receive, parse and table
 * update; the hotplug rows remove and add through the source; the peers' rows start where
 * "direct" does. Then the steps of one delivery, and throughput with no receiver wait.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "udev_message.h"

struct results results;

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

static void add_row(const char *name, const char *reg, struct samples *s) {
	if (results.n_rows == MAX_ROWS) {
		die("too many rows");
	}
	struct row *r = &results.rows[results.n_rows++];
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
	case PATH_FORK_SETNS:
		peer_fork_setns(bc);
		break;
	case PATH_FORK_EXEC:
		peer_fork_exec(bc);
		break;
	}
	record(s, bc, t0, now_ns());
}

/* n events by path, to the owners in turn. */
void measure(const char *name, const char *reg, enum path path,
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
void measure_hotplug(const char *reg, struct bench_container **owners, int n_owners,
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
	add_row(ROW_REMOVE, reg, &sr);
	add_row(ROW_ADD, reg, &sa);
	samples_free(&sa);
	samples_free(&sr);
}

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
void throughput(const char *name, const char *reg, bool via_source,
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
	struct throughput *t = &results.tputs[results.n_tputs++];
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
void breakdown(struct bench_container *bc, double *view_us, double *db_us,
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
