/*
 * What the run prints: the machine, the latency and throughput tables, and the summary
 * (peers against seatd-ns, the cost of many containers, the targets, correctness).
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "delivery.h"

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

void print_machine(size_t n, size_t peer_n, size_t pairs) {
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

void print_results(double view_us, double db_us, double send_us, double syscall_us) {
	printf("%-42s %-12s %6s %9s %9s %9s %9s %5s\n", "path", "registered", "n", "median", "p99",
		"max", "host", "lost");
	for (int i = 0; i < results.n_rows; i++) {
		struct row *r = &results.rows[i];
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
	for (int i = 0; i < results.n_tputs; i++) {
		struct throughput *t = &results.tputs[i];
		printf("%-42s %-12s %12.0f %14.0f %9.2f %5.1f%% of %llu\n", t->name, t->reg,
			t->wall_rate, t->cpu_rate, t->us_per_event,
			100.0 * (double)t->delivered / (double)t->all_events,
			(unsigned long long)t->all_events);
	}
	printf("  (delivered: what the receivers' libudev got; the rest overflowed their socket "
	       "buffers)\n\n");
}

static const struct row *find_row(const char *name, const char *reg) {
	for (int i = 0; i < results.n_rows; i++) {
		const struct row *r = &results.rows[i];
		if (strcmp(r->name, name) == 0 && strcmp(r->reg, reg) == 0) {
			return r;
		}
	}
	return NULL;
}

static const char *verdict(bool met) {
	return met ? "met" : "MISSED";
}

void print_summary(int n, uint64_t only_first, uint64_t leaked, double step_us,
	double send_us) {
	char many[24], many0[24];
	snprintf(many, sizeof(many), "%d, rotating", n);
	snprintf(many0, sizeof(many0), "%d, desk1", n);
	const struct row *d1 = find_row(ROW_DIRECT, "1");
	const struct row *dn = find_row(ROW_DIRECT, many);
	const struct row *s1 = find_row(ROW_SOURCE, "1");
	const struct row *sn = find_row(ROW_SOURCE, many);
	const struct row *an = find_row(ROW_ADD, many);
	const struct row *fs = find_row(ROW_FORK_SETNS, "1");
	const struct row *fe = find_row(ROW_FORK_EXEC, "1");
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
	const struct row *d0 = find_row(ROW_DIRECT, many0);
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
	for (int i = 0; i < results.n_tputs; i++) {
		const struct throughput *t = &results.tputs[i];
		if (strstr(t->reg, "rotating") != NULL) {
			printf("  throughput %s: %.0f events/s >= 100000 %s\n", t->name, t->wall_rate,
				verdict(t->wall_rate >= 100000));
		}
	}
	printf("\ncorrectness: while %llu events went to desk1 alone, the other containers heard "
	       "%llu of them;\n  %llu events arrived with a wrong device or before their node or "
	       "db entry, %llu deliveries failed\n",
		(unsigned long long)only_first, (unsigned long long)leaked,
		(unsigned long long)receivers_bad(), B.delivery_errors);
}

void print_end(uint64_t started_ns) {
	char load[128];
	loadavg(load, sizeof(load));
	printf("\nrun time %.1f s; load average at the end: %s\n",
		(double)(now_ns() - started_ns) / 1e9, load);
}
