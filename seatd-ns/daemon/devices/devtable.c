#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devtable.h"
#include "input_class.h"
#include "log.h"
#include "path_id.h"
#include "sysfs.h"

/* Capabilities of an input device ("inputN"), kept from its uevent for its eventN child. */
struct input_parent {
	struct hashmap_entry entry;
	char *devpath;
	struct input_caps caps;
};

static const char *const change_names[] = {
	[DEVICE_ADDED] = "add",
	[DEVICE_CHANGED] = "change",
	[DEVICE_REMOVED] = "remove",
};

const char *device_change_name(enum device_change change) {
	return change_names[change];
}

void devtable_init(struct devtable *table, int sysfs_fd, devtable_notify_fn notify, void *data) {
	hashmap_init(&table->devices);
	hashmap_init(&table->input_caps);
	table->sysfs_fd = sysfs_fd;
	table->generation = 0;
	table->notify = notify;
	table->notify_data = data;
	table->seat_of = NULL;
	table->seat_data = NULL;
}

static void input_parent_free(struct input_parent *parent) {
	free(parent->devpath);
	free(parent);
}

void devtable_finish(struct devtable *table) {
	struct hashmap_entry *e = hashmap_first(&table->devices);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&table->devices, e);
		device_free(hashmap_container_of(e, struct device, entry));
		e = next;
	}
	e = hashmap_first(&table->input_caps);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&table->input_caps, e);
		input_parent_free(hashmap_container_of(e, struct input_parent, entry));
		e = next;
	}
	hashmap_finish(&table->devices);
	hashmap_finish(&table->input_caps);
}

struct device *devtable_find(struct devtable *table, const char *devpath) {
	struct hashmap_entry *e = hashmap_get(&table->devices, devpath);
	return e ? hashmap_container_of(e, struct device, entry) : NULL;
}

struct device *devtable_find_by_devname(struct devtable *table, const char *devname) {
	for (struct hashmap_entry *e = hashmap_first(&table->devices); e;
		e = hashmap_next(&table->devices, e)) {
		struct device *dev = hashmap_container_of(e, struct device, entry);
		if (dev->devname != NULL && strcmp(dev->devname, devname) == 0) {
			return dev;
		}
	}
	return NULL;
}

static const char *uevent_get_cb(void *ev, const char *key) {
	return uevent_get(ev, key);
}

static bool is_input_parent(const struct uevent *ev, const char *sysname) {
	return strcmp(ev->subsystem, "input") == 0 && !ev->has_devnum &&
	       strncmp(sysname, "input", 5) == 0;
}

/* Keeps (or forgets) the capabilities an input device announced in its uevent. */
static int track_input_parent(struct devtable *table, const struct uevent *ev) {
	struct hashmap_entry *e = hashmap_get(&table->input_caps, ev->devpath);
	struct input_parent *parent = e ? hashmap_container_of(e, struct input_parent, entry) : NULL;
	if (ev->action == UEVENT_ACTION_REMOVE) {
		if (parent != NULL) {
			hashmap_remove(&table->input_caps, &parent->entry);
			input_parent_free(parent);
		}
		return 0;
	}
	if (uevent_get(ev, "EV") == NULL) {
		return 0; /* bind, or a change that does not restate capabilities */
	}
	struct input_caps caps;
	if (input_caps_from_properties(&caps, uevent_get_cb, (void *)ev) == -1) {
		log_debugf("%s: unreadable capability bitmaps, ignored", ev->devpath);
		return 0;
	}
	if (parent != NULL) {
		parent->caps = caps;
		return 0;
	}
	parent = calloc(1, sizeof(*parent));
	if (parent == NULL || (parent->devpath = strdup(ev->devpath)) == NULL) {
		free(parent);
		return -1;
	}
	parent->caps = caps;
	if (hashmap_put(&table->input_caps, &parent->entry, parent->devpath) == -1) {
		input_parent_free(parent);
		return -1;
	}
	return 0;
}

/* udevd states its classification as ID_INPUT_* properties; use them when it does. */
static uint32_t input_class_from_udev(const struct uevent *ev) {
	uint32_t c = 0;
	for (uint32_t bit = 1; bit < (1u << INPUT_CLASS_COUNT); bit <<= 1) {
		const char *v = uevent_get(ev, input_class_property(bit));
		if (v != NULL && strcmp(v, "0") != 0) {
			c |= bit;
		}
	}
	return c;
}

static uint32_t classify_input(struct devtable *table, const struct uevent *ev) {
	if (uevent_get(ev, "ID_INPUT") != NULL) {
		return input_class_from_udev(ev);
	}
	char parent_path[UEVENT_MAX_SIZE];
	snprintf(parent_path, sizeof(parent_path), "%s", ev->devpath);
	*strrchr(parent_path, '/') = '\0';

	struct hashmap_entry *e = hashmap_get(&table->input_caps, parent_path);
	if (e != NULL) {
		return input_classify(&hashmap_container_of(e, struct input_parent, entry)->caps);
	}
	struct input_caps caps;
	if (input_caps_from_sysfs(&caps, table->sysfs_fd, parent_path) == 0) {
		return input_classify(&caps);
	}
	log_debugf("%s: no capabilities in sysfs or from events, not classified", ev->devpath);
	return 0;
}

/*
 * vendor:product of the nearest USB device: from udevd's properties when it sent them, else
 * from the idVendor and idProduct attributes of the first ancestor that has them.
 */
static void find_usb_id(struct devtable *table, const struct uevent *ev, char out[10]) {
	const char *vendor = uevent_get(ev, "ID_VENDOR_ID"), *model = uevent_get(ev, "ID_MODEL_ID");
	char path[UEVENT_MAX_SIZE], v[16], p[16];
	out[0] = '\0';
	if (vendor != NULL && model != NULL && strlen(vendor) == 4 && strlen(model) == 4) {
		snprintf(out, 10, "%.4s:%.4s", vendor, model);
		return;
	}
	snprintf(path, sizeof(path), "%s", ev->devpath);
	for (char *slash = strrchr(path, '/'); slash != NULL && slash != path;
		slash = strrchr(path, '/')) {
		if (sysfs_read_attr(table->sysfs_fd, path, "idVendor", v, sizeof(v)) == 4 &&
			sysfs_read_attr(table->sysfs_fd, path, "idProduct", p, sizeof(p)) == 4) {
			snprintf(out, 10, "%.4s:%.4s", v, p);
			return;
		}
		*slash = '\0';
	}
}

static const char *seat_of(struct devtable *table, const struct device *dev) {
	if (table->seat_of != NULL) {
		return table->seat_of(table->seat_data, table, dev);
	}
	return dev->udev_seat != NULL ? dev->udev_seat : "seat0";
}

/* The device an event describes, as a new record (not yet in the table). */
static struct device *device_from_uevent(struct devtable *table, const struct uevent *ev,
	enum device_kind kind) {
	struct device *dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		return NULL;
	}
	dev->kind = kind;
	dev->has_devnum = ev->has_devnum;
	dev->major = ev->major;
	dev->minor = ev->minor;
	if (device_kind_is_input(kind)) {
		dev->input_class = classify_input(table, ev);
		dev->kind = device_kind_from_input_class(dev->input_class);
	}
	const char *id_path = uevent_get(ev, "ID_PATH");
	char computed[512];
	if (id_path == NULL &&
		path_id_compute(table->sysfs_fd, ev->devpath, computed, sizeof(computed)) == 0) {
		id_path = computed;
	}
	find_usb_id(table, ev, dev->usb_id);
	const char *udev_seat = uevent_get(ev, "ID_SEAT");
	dev->sound_initialized = uevent_get(ev, "SOUND_INITIALIZED") != NULL;
	dev->devpath = strdup(ev->devpath);
	dev->subsystem = strdup(ev->subsystem);
	dev->devname = ev->devname ? strdup(ev->devname) : NULL;
	dev->id_path = id_path ? strdup(id_path) : NULL;
	dev->udev_seat = udev_seat && udev_seat[0] != '\0' ? strdup(udev_seat) : NULL;
	if (dev->devpath == NULL || dev->subsystem == NULL || (ev->devname && !dev->devname) ||
		(id_path && dev->id_path == NULL) || (udev_seat && udev_seat[0] && !dev->udev_seat) ||
		(dev->seat = strdup(seat_of(table, dev))) == NULL) {
		device_free(dev);
		return NULL;
	}
	return dev;
}

static bool str_equal(const char *a, const char *b) {
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool device_equal(const struct device *a, const struct device *b) {
	return a->kind == b->kind && a->input_class == b->input_class &&
	       a->has_devnum == b->has_devnum && a->major == b->major && a->minor == b->minor &&
	       a->sound_initialized == b->sound_initialized && str_equal(a->devname, b->devname) &&
	       str_equal(a->id_path, b->id_path) && str_equal(a->seat, b->seat) &&
	       str_equal(a->udev_seat, b->udev_seat) && strcmp(a->usb_id, b->usb_id) == 0;
}

static void notify(struct devtable *table, enum device_change change, const struct device *dev) {
	if (table->notify != NULL) {
		table->notify(table->notify_data, change, dev);
	}
}

static void remove_device(struct devtable *table, struct device *dev) {
	hashmap_remove(&table->devices, &dev->entry);
	notify(table, DEVICE_REMOVED, dev);
	device_free(dev);
}

/* The card a sound node belongs to: its parent directory. */
static struct device *sound_card_of(struct devtable *table, const char *devpath) {
	char card_path[UEVENT_MAX_SIZE];
	snprintf(card_path, sizeof(card_path), "%s", devpath);
	*strrchr(card_path, '/') = '\0';
	struct device *card = devtable_find(table, card_path);
	return card != NULL && card->kind == DEVICE_KIND_SOUND_CARD ? card : NULL;
}

/*
 * Without udevd nobody says when a card is usable: as udev's 78-sound-card.rules do, call it
 * initialized once its control node exists, and tell that with a change of the card. With
 * udevd its own change says it: a second one would have sound servers set the card up twice
 * (WirePlumber 0.4 then loses it).
 */
static void mark_sound_card_initialized(struct devtable *table, struct device *card) {
	if (!table->udev_initializes_sound && !card->sound_initialized) {
		card->sound_initialized = true;
		notify(table, DEVICE_CHANGED, card);
	}
}

static bool card_has_control(struct devtable *table, const struct device *card) {
	char control_path[UEVENT_MAX_SIZE];
	snprintf(control_path, sizeof(control_path), "%s/controlC%s", card->devpath,
		device_sysname(card) + strlen("card"));
	return devtable_find(table, control_path) != NULL;
}

static int add_or_update(struct devtable *table, const struct uevent *ev, enum device_kind kind) {
	struct device *fresh = device_from_uevent(table, ev, kind);
	if (fresh == NULL) {
		return -1;
	}
	fresh->generation = table->generation;
	struct device *dev = devtable_find(table, ev->devpath);
	if (dev != NULL) {
		/* Once a card was initialized, a later event without the property keeps it so. */
		fresh->sound_initialized |= dev->sound_initialized;
		bool changed = !device_equal(dev, fresh);
		dev->generation = table->generation;
		if (changed) {
			/* The record in the table takes the new fields; the old ones go with fresh. */
			struct device old = *dev;
			*dev = *fresh;
			dev->entry = old.entry;
			dev->entry.key = dev->devpath; /* the same path, in the string that stays */
			*fresh = old;
		}
		device_free(fresh);
		/* A change event is news even when the record stays (a DRM hotplug, say). */
		if (changed || ev->action == UEVENT_ACTION_CHANGE) {
			notify(table, DEVICE_CHANGED, dev);
		}
		return 1;
	}
	if (fresh->kind == DEVICE_KIND_SOUND_CARD && !table->udev_initializes_sound &&
		card_has_control(table, fresh)) {
		fresh->sound_initialized = true;
	}
	if (hashmap_put(&table->devices, &fresh->entry, fresh->devpath) == -1) {
		device_free(fresh);
		return -1;
	}
	notify(table, DEVICE_ADDED, fresh);
	/* Nodes that were seated before their card appeared now follow it. */
	if ((fresh->kind == DEVICE_KIND_DRM_CARD || fresh->kind == DEVICE_KIND_SOUND_CARD) &&
		devtable_reseat(table) == -1) {
		return -1;
	}
	if (fresh->kind == DEVICE_KIND_SOUND_CONTROL) {
		struct device *card = sound_card_of(table, fresh->devpath);
		if (card != NULL) {
			mark_sound_card_initialized(table, card);
		}
	}
	return 1;
}

int devtable_apply(struct devtable *table, const struct uevent *ev) {
	if (!uevent_devpath_is_valid(ev->devpath)) {
		return 0; /* modules, drivers, buses: not devices */
	}
	const char *sysname = strrchr(ev->devpath, '/') + 1;
	if (is_input_parent(ev, sysname)) {
		return track_input_parent(table, ev) == -1 ? -1 : 0;
	}
	if (ev->action == UEVENT_ACTION_MOVE) {
		struct device *old = devtable_find(table, ev->devpath_old);
		if (old != NULL) {
			remove_device(table, old);
		}
	}
	enum device_kind kind =
		device_kind_from_uevent(ev->subsystem, sysname, ev->devtype, ev->has_devnum);
	if (kind == DEVICE_KIND_NONE) {
		return 0;
	}
	struct device *dev = devtable_find(table, ev->devpath);
	switch (ev->action) {
	case UEVENT_ACTION_REMOVE:
		if (dev != NULL) {
			remove_device(table, dev);
		}
		return 1;
	case UEVENT_ACTION_BIND:
	case UEVENT_ACTION_UNBIND:
	case UEVENT_ACTION_ONLINE:
	case UEVENT_ACTION_OFFLINE:
		/* These restate a device; they do not make one we never heard added. */
		if (dev == NULL) {
			return 0;
		}
		return add_or_update(table, ev, kind);
	case UEVENT_ACTION_ADD:
	case UEVENT_ACTION_CHANGE:
	case UEVENT_ACTION_MOVE:
		return add_or_update(table, ev, kind);
	}
	return 0;
}

int devtable_reseat(struct devtable *table) {
	int moved = 0;
	for (struct hashmap_entry *e = hashmap_first(&table->devices); e;
		e = hashmap_next(&table->devices, e)) {
		struct device *dev = hashmap_container_of(e, struct device, entry);
		const char *seat = seat_of(table, dev);
		if (strcmp(seat, dev->seat) == 0) {
			continue;
		}
		char *copy = strdup(seat);
		if (copy == NULL) {
			return -1;
		}
		free(dev->seat);
		dev->seat = copy;
		notify(table, DEVICE_CHANGED, dev);
		moved++;
	}
	return moved;
}

void devtable_scan_begin(struct devtable *table) {
	table->generation++;
}

void devtable_scan_end(struct devtable *table) {
	struct hashmap_entry *e = hashmap_first(&table->devices);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&table->devices, e);
		struct device *dev = hashmap_container_of(e, struct device, entry);
		if (dev->generation != table->generation) {
			remove_device(table, dev);
		}
		e = next;
	}
}

static int compare_devpath(const void *a, const void *b) {
	const struct device *const *da = a, *const *db = b;
	return strcmp((*da)->devpath, (*db)->devpath);
}

const struct device **devtable_list(struct devtable *table, size_t *count) {
	size_t n = table->devices.n_entries;
	const struct device **list = calloc(n ? n : 1, sizeof(*list));
	if (list == NULL) {
		return NULL;
	}
	size_t i = 0;
	for (struct hashmap_entry *e = hashmap_first(&table->devices); e;
		e = hashmap_next(&table->devices, e)) {
		list[i++] = hashmap_container_of(e, struct device, entry);
	}
	qsort(list, n, sizeof(*list), compare_devpath);
	*count = n;
	return list;
}
