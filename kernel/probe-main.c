/*
 * seatd-ns-probe: checks, for real, the kernel features seatd-ns relies on and prints one
 * row per feature. Exits 0 when everything the daemon requires is available, 1 otherwise,
 * 2 on a usage error. Run it as root: as another user most probes cannot be run.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "probe.h"

static void usage(FILE *out) {
	fprintf(out, "usage: seatd-ns-probe [--json] [--log-level LEVEL] [--help]\n"
		     "Checks the kernel features seatd-ns relies on (see kernel/README.md).\n");
}

int main(int argc, char *argv[]) {
	bool json = false;
	enum log_level level = LOG_LEVEL_WARN;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
			if (log_level_parse(argv[++i], &level) == -1) {
				fprintf(stderr, "seatd-ns-probe: unknown log level %s\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	log_init(level);
	if (geteuid() != 0) {
		log_warn("not root: most probes will be untested");
	}

	/* A Ctrl-C in the middle would leave a scratch cgroup or directory behind. */
	sigset_t block, saved;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &saved);
	struct kernel_probe_report report;
	kernel_probe_run(&report);
	if (json) {
		kernel_probe_print_json(&report, stdout);
	} else {
		kernel_probe_print_table(&report, stdout);
	}
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return kernel_probe_ok(&report) ? 0 : 1;
}
