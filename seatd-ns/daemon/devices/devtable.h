#ifndef _SEATD_NS_DEVTABLE_H
#define _SEATD_NS_DEVTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "hashmap.h"
#include "uevent.h"

/*
 * The device table: every seat device the host has, kept current from events and scans.
 * Each validated uevent is applied once; applying the same event again changes nothing and
 * notifies nothing, so coldplug and live events may overlap freely.
 */

enum device_change {
	DEVICE_ADDED,
	DEVICE_CHANGED,
	DEVICE_REMOVED,
};

const char *device_change_name(enum device_change change);

/* Called for every change, after the table is updated (for removals, just before freeing). */
typedef void (*devtable_notify_fn)(void *data, enum device_change change,
	const struct device *dev);

struct devtable;

/* Decides the seat of a device (the assignment engine); the result is copied. */
typedef const char *(*devtable_seat_fn)(void *data, struct devtable *table,
	const struct device *dev);

struct devtable {
	struct hashmap devices;     /* struct device by devpath */
	struct hashmap input_caps;  /* capabilities of input parents, from their uevents */
	int sysfs_fd;
	unsigned generation;
	devtable_notify_fn notify;
	void *notify_data;
	devtable_seat_fn seat_of;   /* NULL: ID_SEAT, else seat0 */
	void *seat_data;
	/*
	 * The events come from udevd, whose change of a card says when it is initialized
	 * (SOUND_INITIALIZED): the table then waits for it instead of inferring it.
	 */
	bool udev_initializes_sound;
};

void devtable_init(struct devtable *table, int sysfs_fd, devtable_notify_fn notify, void *data);
void devtable_finish(struct devtable *table);

/*
 * Applies one validated uevent from the kernel, from udevd or from a scan. Events of devices
 * that are not seat devices are ignored. Returns 1 if the event concerned a seat device,
 * 0 if it was ignored, -1 with errno ENOMEM (the table is then unchanged).
 */
int devtable_apply(struct devtable *table, const struct uevent *ev);

struct device *devtable_find(struct devtable *table, const char *devpath);
/* The device whose node is /dev/devname, or NULL. */
struct device *devtable_find_by_devname(struct devtable *table, const char *devname);

/*
 * Decides every device's seat again (after a policy change) and notifies each device whose
 * seat changed. Returns the number of devices that moved, or -1 with ENOMEM.
 */
int devtable_reseat(struct devtable *table);

/*
 * Reconciling with a full scan: devtable_scan_begin starts a new generation, the scan
 * applies an add for each device it finds, and devtable_scan_end removes (and notifies)
 * every device the scan did not see.
 */
void devtable_scan_begin(struct devtable *table);
void devtable_scan_end(struct devtable *table);

/* A snapshot of all devices sorted by devpath; free() the array. NULL with ENOMEM. */
const struct device **devtable_list(struct devtable *table, size_t *count);

#endif
