#ifndef _SEATD_NS_EVENT_SOURCE_H
#define _SEATD_NS_EVENT_SOURCE_H

#include <stdbool.h>

#include "devtable.h"
#include "log.h"

/*
 * Where device events come from (DESIGN decision 1): the kernel's uevents (netlink group 1)
 * or, when the host runs udevd, its processed events (group 2), which carry udev's
 * properties and arrive after the host node exists with its final permissions.
 */

enum event_source_kind {
	EVENT_SOURCE_KERNEL,
	EVENT_SOURCE_UDEV,
};

struct event_source_stats {
	unsigned long long received;  /* messages read */
	unsigned long long applied;   /* concerned a seat device */
	unsigned long long malformed; /* dropped: did not parse */
	unsigned long long foreign;   /* dropped: not from the kernel or root's udevd */
	unsigned long long overflows; /* receive buffer overruns, each followed by a rescan */
};

struct event_source {
	int fd;
	enum event_source_kind kind;
	struct event_source_stats stats;
	struct log_ratelimit malformed_log;
	bool overflow_logged;
};

const char *event_source_kind_name(enum event_source_kind kind);

#define EVENT_SOURCE_BUFFER_SIZE (128 * 1024 * 1024)

/*
 * Opens and binds the netlink socket, with a receive buffer of buffer_size bytes (events
 * beyond it are lost and trigger a rescan); returns 0, or -1 with errno set.
 */
int event_source_open(struct event_source *src, enum event_source_kind kind, int buffer_size);
void event_source_close(struct event_source *src);

/*
 * Reads every pending message and applies the valid ones to the table. Returns 1 when the
 * socket overflowed (events were lost: the caller must rescan), 0 otherwise, -1 on error.
 */
int event_source_dispatch(struct event_source *src, struct devtable *table);

#endif
