#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define RATELIMIT_INTERVAL_MS 5000
#define RATELIMIT_BURST 10

static enum log_level current_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_SILENT] = "silent",
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_init(enum log_level level) {
	current_level = level;
}

enum log_level log_get_level(void) {
	return current_level;
}

int log_level_parse(const char *name, enum log_level *level) {
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

void log_write(enum log_level level, const char *fmt, ...) {
	if (level > current_level || level == LOG_LEVEL_SILENT) {
		return;
	}
	int saved_errno = errno;
	/* systemd-style prefixes let journald keep the priority of each line. */
	static const char *const prefixes[] = {
		[LOG_LEVEL_ERROR] = "<3>",
		[LOG_LEVEL_WARN] = "<4>",
		[LOG_LEVEL_INFO] = "<6>",
		[LOG_LEVEL_DEBUG] = "<7>",
	};
	char line[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	fprintf(stderr, "%s%s: %s\n", prefixes[level], level_names[level], line);
	errno = saved_errno;
}

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool log_ratelimit_allow(struct log_ratelimit *rl) {
	long long now = now_ms();
	if (now - rl->window_start_ms >= RATELIMIT_INTERVAL_MS) {
		if (rl->suppressed > 0) {
			log_warnf("%u similar messages suppressed", rl->suppressed);
		}
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < RATELIMIT_BURST) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
