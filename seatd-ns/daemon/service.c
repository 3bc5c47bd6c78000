#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "service.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static void notify(const char *state) {
	int r = sd_notify(0, state);
	if (r < 0) {
		log_warnf("cannot tell the service manager \"%s\": %s", state, strerror(-r));
	}
}
#else
static void notify(const char *state) {
	(void)state;
}
#endif

void service_ready(void) {
	notify("READY=1");
}

void service_reloading(void) {
	/* systemd 253 and later want the time, to tell this reload from an older one. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char state[64];
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		(unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify(state);
}

void service_status(const char *status) {
	static char last[256];
	if (strncmp(status, last, sizeof(last)) == 0) {
		return;
	}
	snprintf(last, sizeof(last), "%s", status);
	char state[sizeof(last) + 8];
	snprintf(state, sizeof(state), "STATUS=%s", last);
	notify(state);
}
