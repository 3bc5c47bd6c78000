#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desktops.h"
#include "log.h"
#include "switches.h"

static struct seat_switch *find_switch(const struct desktops *desktops, const char *seat) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL; sw = sw->next) {
		if (strcmp(sw->seat, seat) == 0) {
			return sw;
		}
	}
	return NULL;
}

bool desktops_switch_pending(const struct desktops *desktops, const char *seat) {
	return find_switch(desktops, seat) != NULL;
}

bool desktops_switch_waits_for(const struct desktops *desktops, const char *seat,
	const struct desktop *d) {
	const struct seat_switch *sw = find_switch(desktops, seat);
	return sw != NULL && sw->from != NULL && strcmp(sw->from, d->container.name) == 0;
}

const char *desktops_switching_seat(const struct desktops *desktops, const char *container) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL; sw = sw->next) {
		if (strcmp(sw->to, container) == 0 ||
			(sw->from != NULL && strcmp(sw->from, container) == 0)) {
			return sw->seat;
		}
	}
	return NULL;
}

bool desktops_switch_requested_by(const struct desktops *desktops, const void *requester) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL; sw = sw->next) {
		if (sw->requester == requester) {
			return true;
		}
	}
	return false;
}

void desktops_forget_requester(struct desktops *desktops, const void *requester) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL; sw = sw->next) {
		if (sw->requester == requester) {
			sw->requester = NULL;
		}
	}
}

static void switch_free(struct seat_switch *sw) {
	free(sw->seat);
	free(sw->from);
	free(sw->to);
	free(sw);
}

/* The container that had the seat let go: the switch is decided, then forgotten. */
static void switch_end(struct desktops *desktops, struct seat_switch *sw, bool forced) {
	for (struct seat_switch **p = &desktops->switches; *p != NULL; p = &(*p)->next) {
		if (*p == sw) {
			*p = sw->next;
			break;
		}
	}
	if (desktops->switch_done != NULL) {
		desktops->switch_done(sw, forced, desktops->switch_done_data);
	}
	switch_free(sw);
}

void desktops_seat_released(struct desktops *desktops, struct desktop *d, const char *seat,
	bool forced) {
	struct seat_switch *sw = find_switch(desktops, seat);
	if (sw != NULL && sw->from != NULL && strcmp(sw->from, d->container.name) == 0) {
		switch_end(desktops, sw, forced);
	}
}

int desktops_switch(struct desktops *desktops, const char *seat, const char *from,
	const char *to, void *requester) {
	struct seat_switch *sw = calloc(1, sizeof(*sw));
	if (sw == NULL || (sw->seat = strdup(seat)) == NULL || (sw->to = strdup(to)) == NULL ||
		(from != NULL && (sw->from = strdup(from)) == NULL)) {
		if (sw != NULL) {
			switch_free(sw);
		}
		errno = ENOMEM;
		return -1;
	}
	sw->to_registered = desktops_find(desktops, to) != NULL;
	sw->requester = requester;
	sw->next = desktops->switches;
	desktops->switches = sw;

	struct desktop *d = from != NULL ? desktops_find(desktops, from) : NULL;
	const struct desktop_seat_client_ops *ops = desktops->seat_clients;
	if (d != NULL && ops != NULL && ops->release != NULL &&
		ops->release(d, seat, desktops->seat_clients_data) == 1) {
		log_infof("%s: switching from %s to %s, waiting for %s to let go", seat, from, to,
			from);
		return 0;
	}
	/* Nobody holds the seat through libseat: nothing to wait for. */
	switch_end(desktops, sw, false);
	return 0;
}

void switches_container_gone(struct desktops *desktops, const char *name) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL;) {
		struct seat_switch *next = sw->next;
		if (sw->from != NULL && strcmp(sw->from, name) == 0) {
			switch_end(desktops, sw, false);
		}
		sw = next;
	}
}

void switches_finish(struct desktops *desktops) {
	while (desktops->switches != NULL) {
		struct seat_switch *sw = desktops->switches;
		desktops->switches = sw->next;
		switch_free(sw);
	}
}
