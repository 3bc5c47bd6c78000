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
 * row stops after 8 s with what it has (its n column says how many). Needs root.
 *
 * This file: the options and the run's order. The same program is also each container's
 * pid 1 (--receiver) and the fork+exec peer's helper (--send-helper). delivery.h says which
 * file does what.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "log.h"

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
	log_init(LOG_LEVEL_WARN);
	cleanup_on_exit();

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
	measure(ROW_DIRECT, "1", PATH_DIRECT_CHANGE, first, 1, n);
	measure(ROW_SOURCE, "1", PATH_SOURCE_CHANGE, first, 1, n);
	measure_hotplug("1", first, 1, pairs);
	measure(ROW_FORK_SETNS, "1", PATH_FORK_SETNS, first, 1, peer_n);
	measure(ROW_FORK_EXEC, "1", PATH_FORK_EXEC, first, 1, peer_n);
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
	measure(ROW_DIRECT, many0, PATH_DIRECT_CHANGE, first, 1, n);
	settle();
	uint64_t leaked = 0;
	for (int i = 1; i < B.n; i++) {
		leaked += B.shm->slot[i].received - before[i];
	}
	uint64_t only_first = B.cs[0].sent - sent_before;
	measure(ROW_DIRECT, many, PATH_DIRECT_CHANGE, all, B.n, n);
	measure(ROW_SOURCE, many, PATH_SOURCE_CHANGE, all, B.n, n);
	measure_hotplug(many, all, B.n, pairs);
	throughput("change, direct", many, false, all, B.n, seconds);
	throughput("change via source (receive, parse, table)", many, true, all, B.n, seconds);

	print_results(view_us, db_us, send_us, syscall_us);
	print_summary(B.n, only_first, leaked, view_us + db_us, send_us);
	print_end(started);
	return leaked != 0 || receivers_bad() != 0 || B.delivery_errors != 0 ? 1 : 0;
}
