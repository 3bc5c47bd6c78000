#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seats.h"

static const char *const origin_names[] = {
	[SEAT_BUILTIN] = "builtin",
	[SEAT_CONFIG] = "config",
	[SEAT_RUNTIME] = "runtime",
	[SEAT_UDEV] = "udev",
};

const char *seat_origin_name(enum seat_origin origin) {
	return origin_names[origin];
}

static void subject_from(struct policy_subject *s, const struct device *dev) {
	*s = (struct policy_subject){
		.devpath = dev->devpath,
		.subsystem = dev->subsystem,
		.kind = dev->kind,
		.id_path = dev->id_path,
		.usb_id = dev->usb_id[0] != '\0' ? dev->usb_id : NULL,
		.udev_seat = dev->udev_seat,
	};
}

/* The DRM card of the GPU a render node belongs to: a drm-card in the same drm directory. */
static const struct device *gpu_card(struct devtable *table, const char *drm_dir) {
	size_t n = strlen(drm_dir);
	for (struct hashmap_entry *e = hashmap_first(&table->devices); e;
		e = hashmap_next(&table->devices, e)) {
		const struct device *d = hashmap_container_of(e, struct device, entry);
		if (d->kind == DEVICE_KIND_DRM_CARD && strncmp(d->devpath, drm_dir, n) == 0 &&
			d->devpath[n] == '/' && strchr(d->devpath + n + 1, '/') == NULL) {
			return d;
		}
	}
	return NULL;
}

void seats_subject(struct devtable *table, const struct device *dev,
	struct policy_subject *subject, char *buf, size_t size) {
	subject_from(subject, dev);
	snprintf(buf, size, "%s", dev->devpath);
	char *slash = strrchr(buf, '/');
	bool sound_node = dev->kind == DEVICE_KIND_SOUND_CONTROL ||
			  dev->kind == DEVICE_KIND_SOUND_PCM || dev->kind == DEVICE_KIND_SOUND_OTHER;
	if (sound_node && slash != NULL) {
		*slash = '\0';
		const char *parent = strrchr(buf, '/');
		if (parent != NULL && strncmp(parent + 1, "card", 4) == 0) {
			/* A card's nodes follow the card. */
			const struct device *card = devtable_find(table, buf);
			if (card != NULL) {
				subject_from(subject, card);
			} else {
				subject->devpath = buf;
				subject->kind = DEVICE_KIND_SOUND_CARD;
			}
		}
	} else if (dev->kind == DEVICE_KIND_DRM_RENDER && slash != NULL) {
		/* A render node follows the card of its GPU, or the GPU while there is none. */
		*slash = '\0';
		const struct device *card = gpu_card(table, buf);
		if (card != NULL) {
			subject_from(subject, card);
		} else {
			*strrchr(buf, '/') = '\0';
			subject->devpath = buf;
			subject->kind = DEVICE_KIND_DRM_CARD;
		}
	}
}

const char *seats_resolve(void *data, struct devtable *table, const struct device *dev) {
	struct seats *seats = data;
	struct policy_subject subject;
	char buf[UEVENT_MAX_SIZE];
	seats_subject(table, dev, &subject, buf, sizeof(buf));

	const struct rule *conflict;
	const struct rule *best = rule_set_best(&seats->state->rules, &subject, &conflict);
	if (best != NULL) {
		return best->seat;
	}
	best = rule_set_best(&seats->config->rules, &subject, &conflict);
	if (best != NULL && conflict == NULL) {
		return best->seat;
	}
	if (best != NULL && log_ratelimit_allow(&seats->conflict_log)) {
		log_errorf("%s: %s:%d (%s) and %s:%d (%s) are equally specific and disagree; "
			   "neither applies", dev->devpath, best->file, best->line, best->seat,
			conflict->file, conflict->line, conflict->seat);
	}
	if (subject.udev_seat != NULL && seat_name_is_valid(subject.udev_seat)) {
		return subject.udev_seat;
	}
	return "seat0";
}

bool seats_find(const struct seats *seats, struct devtable *table, const char *name,
	enum seat_origin *origin) {
	if (strcmp(name, "seat0") == 0) {
		*origin = SEAT_BUILTIN;
	} else if (config_find_seat(seats->config, name) != NULL) {
		*origin = SEAT_CONFIG;
	} else if (state_has_seat(seats->state, name)) {
		*origin = SEAT_RUNTIME;
	} else {
		*origin = SEAT_UDEV;
		for (struct hashmap_entry *e = hashmap_first(&table->devices); e;
			e = hashmap_next(&table->devices, e)) {
			if (strcmp(hashmap_container_of(e, struct device, entry)->seat, name) == 0) {
				return true;
			}
		}
		return false;
	}
	return true;
}

const char *const *seats_containers(const struct seats *seats, const char *name, size_t *n,
	size_t *active) {
	*active = 0;
	const struct attachment *a = state_find_attachment(seats->state, name);
	if (a != NULL) {
		*n = a->n_containers;
		*active = a->active;
		return (const char *const *)a->containers;
	}
	const struct seat_settings *s = config_find_seat(seats->config, name);
	*n = s != NULL && s->container != NULL ? 1 : 0;
	return *n > 0 ? (const char *const *)&s->container : NULL;
}

const char *seats_container(const struct seats *seats, const char *name) {
	size_t n, active;
	const char *const *list = seats_containers(seats, name, &n, &active);
	return n > 0 ? list[active] : NULL;
}

bool seats_has_container(const struct seats *seats, const char *name, const char *container) {
	size_t n, active;
	const char *const *list = seats_containers(seats, name, &n, &active);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], container) == 0) {
			return true;
		}
	}
	return false;
}

struct seen {
	const char **names;
	size_t n;
};

static void visit(struct seen *seen, const char *name, enum seat_origin origin,
	void (*fn)(void *data, const char *name, enum seat_origin origin), void *data) {
	for (size_t i = 0; i < seen->n; i++) {
		if (strcmp(seen->names[i], name) == 0) {
			return;
		}
	}
	const char **grown = realloc(seen->names, (seen->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		return;
	}
	seen->names = grown;
	seen->names[seen->n++] = name;
	fn(data, name, origin);
}

void seats_for_each(const struct seats *seats, struct devtable *table,
	void (*fn)(void *data, const char *name, enum seat_origin origin), void *data) {
	struct seen seen = {0};
	visit(&seen, "seat0", SEAT_BUILTIN, fn, data);
	for (size_t i = 0; i < seats->config->n_seats; i++) {
		visit(&seen, seats->config->seats[i].name, SEAT_CONFIG, fn, data);
	}
	for (size_t i = 0; i < seats->state->n_seats; i++) {
		visit(&seen, seats->state->seats[i], SEAT_RUNTIME, fn, data);
	}
	for (struct hashmap_entry *e = hashmap_first(&table->devices); e;
		e = hashmap_next(&table->devices, e)) {
		visit(&seen, hashmap_container_of(e, struct device, entry)->seat, SEAT_UDEV, fn,
			data);
	}
	free(seen.names);
}

struct seat_of_container {
	const struct seats *seats;
	const char *container, *except, *seat;
};

static void find_seat_of(void *data, const char *name, enum seat_origin origin) {
	(void)origin;
	struct seat_of_container *search = data;
	if (search->seat == NULL && (search->except == NULL || strcmp(name, search->except) != 0) &&
		seats_has_container(search->seats, name, search->container)) {
		search->seat = name;
	}
}

const char *seats_seat_of_container(const struct seats *seats, struct devtable *table,
	const char *container, const char *except) {
	struct seat_of_container search = {seats, container, except, NULL};
	seats_for_each(seats, table, find_seat_of, &search);
	return search.seat;
}
