#ifndef _SEATD_NS_SEATS_H
#define _SEATD_NS_SEATS_H

#include "config.h"
#include "devtable.h"
#include "log.h"
#include "state.h"

/*
 * The assignment engine: the seat of each device, from the runtime decisions (state), the
 * configuration's rules and the host's ID_SEAT, and the list of seats with their containers.
 */

struct seats {
	const struct config *config;
	const struct state *state;
	struct log_ratelimit conflict_log;
};

/* The seat of dev (a devtable_seat_fn). */
const char *seats_resolve(void *data, struct devtable *table, const struct device *dev);

/* The subject the rules look at for dev: its card for sound nodes and render nodes. */
void seats_subject(struct devtable *table, const struct device *dev,
	struct policy_subject *subject, char *buf, size_t size);

enum seat_origin {
	SEAT_BUILTIN, /* seat0 */
	SEAT_CONFIG,
	SEAT_RUNTIME,
	SEAT_UDEV,    /* named by the host's udev rules, or a device is on it */
};

const char *seat_origin_name(enum seat_origin origin);

/* Whether a seat of that name exists; sets *origin. */
bool seats_find(const struct seats *seats, struct devtable *table, const char *name,
	enum seat_origin *origin);

/*
 * The containers attached to a seat, in the order attached (*n of them, possibly none), and
 * the index of the active one in *active: the state's, else the configuration's container.
 * The strings belong to the state or the configuration.
 */
const char *const *seats_containers(const struct seats *seats, const char *name, size_t *n,
	size_t *active);

/* The seat's active container, the one given its devices, or NULL. */
const char *seats_container(const struct seats *seats, const char *name);

/* Whether container is one of the seat's. */
bool seats_has_container(const struct seats *seats, const char *name, const char *container);

/* Calls fn for every seat, each once: seat0, the configured, the created, the others seen. */
void seats_for_each(const struct seats *seats, struct devtable *table,
	void (*fn)(void *data, const char *name, enum seat_origin origin), void *data);

/*
 * The first seat in seats_for_each's order, other than except (NULL: none), that has the
 * container among its containers, or NULL. The string lives as long as the seat.
 */
const char *seats_seat_of_container(const struct seats *seats, struct devtable *table,
	const char *container, const char *except);

#endif
