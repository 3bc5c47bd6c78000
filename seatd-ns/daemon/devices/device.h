#ifndef _SEATD_NS_DEVICE_H
#define _SEATD_NS_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "hashmap.h"

/*
 * A seat device: what a seat can own and a container can be given (DESIGN decision 2).
 * Input event nodes, hidraw, DRM card and render nodes, sound cards and their nodes.
 */

enum device_kind {
	DEVICE_KIND_NONE = 0, /* not a seat device */
	DEVICE_KIND_KEYBOARD,
	DEVICE_KIND_POINTER,
	DEVICE_KIND_TOUCHPAD,
	DEVICE_KIND_TOUCHSCREEN,
	DEVICE_KIND_TABLET,
	DEVICE_KIND_JOYSTICK,
	DEVICE_KIND_SWITCH,
	DEVICE_KIND_INPUT_OTHER,
	DEVICE_KIND_HIDRAW,
	DEVICE_KIND_DRM_CARD,
	DEVICE_KIND_DRM_RENDER,
	DEVICE_KIND_SOUND_CARD,
	DEVICE_KIND_SOUND_CONTROL,
	DEVICE_KIND_SOUND_PCM,
	DEVICE_KIND_SOUND_OTHER,
};

struct device {
	struct hashmap_entry entry; /* keyed by devpath */
	char *devpath;              /* "/devices/..."; the syspath is "/sys" + devpath */
	char *subsystem;
	char *devname;              /* relative to /dev, or NULL */
	bool has_devnum;
	unsigned major, minor;
	enum device_kind kind;
	uint32_t input_class;       /* enum input_class bits, input devices only */
	char *id_path;              /* NULL when udev's path_id would give none */
	char usb_id[10];            /* "vvvv:pppp" of the nearest USB device, or "" */
	char *udev_seat;            /* ID_SEAT from the host's udev, or NULL */
	char *seat;
	bool sound_initialized;     /* sound cards: SOUND_INITIALIZED */
	unsigned generation;        /* last scan or event that saw it, for reconciling */
};

const char *device_kind_name(enum device_kind kind);

/* A copy that owns its strings (a record of what was given to a container); NULL, ENOMEM. */
struct device *device_clone(const struct device *dev);
void device_free(struct device *dev);

/* The last component of the devpath ("event1"). */
const char *device_sysname(const struct device *dev);

/*
 * The kind of a device from what its uevent says, before input classification: input event
 * nodes come back as DEVICE_KIND_INPUT_OTHER, to be refined from their capabilities.
 */
enum device_kind device_kind_from_uevent(const char *subsystem, const char *sysname,
	const char *devtype, bool has_devnum);

bool device_kind_is_input(enum device_kind kind);

/* The device kind for a set of input_class bits (a keyboard with a touchpad is a touchpad). */
enum device_kind device_kind_from_input_class(uint32_t input_class);

#endif
