#ifndef _SEATD_NS_LOG_H
#define _SEATD_NS_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_SILENT = 0,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_init(enum log_level level);
enum log_level log_get_level(void);

/* Parses "silent", "error", "warn", "info" or "debug"; -1 and EINVAL otherwise. */
int log_level_parse(const char *name, enum log_level *level);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Rate-limited logging for what untrusted peers can trigger at will (malformed uevents,
 * hostile control clients): at most a burst per interval per limiter, then one summary line
 * of what was suppressed, so that a flood cannot fill the journal.
 */
struct log_ratelimit {
	long long window_start_ms;
	unsigned printed;
	unsigned suppressed;
};

bool log_ratelimit_allow(struct log_ratelimit *rl);

#define log_errorf(fmt, ...) log_write(LOG_LEVEL_ERROR, fmt, __VA_ARGS__)
#define log_warnf(fmt, ...) log_write(LOG_LEVEL_WARN, fmt, __VA_ARGS__)
#define log_infof(fmt, ...) log_write(LOG_LEVEL_INFO, fmt, __VA_ARGS__)
#define log_debugf(fmt, ...) log_write(LOG_LEVEL_DEBUG, fmt, __VA_ARGS__)
#define log_error(msg) log_write(LOG_LEVEL_ERROR, "%s", msg)
#define log_warn(msg) log_write(LOG_LEVEL_WARN, "%s", msg)
#define log_info(msg) log_write(LOG_LEVEL_INFO, "%s", msg)
#define log_debug(msg) log_write(LOG_LEVEL_DEBUG, "%s", msg)

#endif
