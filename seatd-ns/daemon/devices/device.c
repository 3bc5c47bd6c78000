#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "input_class.h"

static const char *const kind_names[] = {
	[DEVICE_KIND_NONE] = "none",
	[DEVICE_KIND_KEYBOARD] = "keyboard",
	[DEVICE_KIND_POINTER] = "pointer",
	[DEVICE_KIND_TOUCHPAD] = "touchpad",
	[DEVICE_KIND_TOUCHSCREEN] = "touchscreen",
	[DEVICE_KIND_TABLET] = "tablet",
	[DEVICE_KIND_JOYSTICK] = "joystick",
	[DEVICE_KIND_SWITCH] = "switch",
	[DEVICE_KIND_INPUT_OTHER] = "input-other",
	[DEVICE_KIND_HIDRAW] = "hidraw",
	[DEVICE_KIND_DRM_CARD] = "drm-card",
	[DEVICE_KIND_DRM_RENDER] = "drm-render",
	[DEVICE_KIND_SOUND_CARD] = "sound-card",
	[DEVICE_KIND_SOUND_CONTROL] = "sound-control",
	[DEVICE_KIND_SOUND_PCM] = "sound-pcm",
	[DEVICE_KIND_SOUND_OTHER] = "sound-other",
};

const char *device_kind_name(enum device_kind kind) {
	return kind_names[kind];
}

const char *device_sysname(const struct device *dev) {
	return strrchr(dev->devpath, '/') + 1;
}

static bool has_number_after(const char *s, const char *prefix) {
	size_t n = strlen(prefix);
	return strncmp(s, prefix, n) == 0 && s[n] >= '0' && s[n] <= '9';
}

enum device_kind device_kind_from_uevent(const char *subsystem, const char *sysname,
	const char *devtype, bool has_devnum) {
	if (strcmp(subsystem, "input") == 0) {
		/* Only evdev nodes: mouseN and jsN are legacy interfaces of the same device. */
		return has_devnum && has_number_after(sysname, "event") ? DEVICE_KIND_INPUT_OTHER
								      : DEVICE_KIND_NONE;
	}
	if (strcmp(subsystem, "hidraw") == 0) {
		return has_devnum ? DEVICE_KIND_HIDRAW : DEVICE_KIND_NONE;
	}
	if (strcmp(subsystem, "drm") == 0) {
		if (!has_devnum || (devtype != NULL && strcmp(devtype, "drm_minor") != 0)) {
			return DEVICE_KIND_NONE; /* connectors are children, not devices of their own */
		}
		if (has_number_after(sysname, "card")) {
			return DEVICE_KIND_DRM_CARD;
		}
		return has_number_after(sysname, "renderD") ? DEVICE_KIND_DRM_RENDER
							    : DEVICE_KIND_NONE;
	}
	if (strcmp(subsystem, "sound") == 0) {
		if (has_number_after(sysname, "card")) {
			return DEVICE_KIND_SOUND_CARD;
		}
		if (!has_devnum) {
			return DEVICE_KIND_NONE;
		}
		if (has_number_after(sysname, "controlC")) {
			return DEVICE_KIND_SOUND_CONTROL;
		}
		return has_number_after(sysname, "pcmC") ? DEVICE_KIND_SOUND_PCM
							 : DEVICE_KIND_SOUND_OTHER;
	}
	return DEVICE_KIND_NONE;
}

bool device_kind_is_input(enum device_kind kind) {
	return kind >= DEVICE_KIND_KEYBOARD && kind <= DEVICE_KIND_INPUT_OTHER;
}

enum device_kind device_kind_from_input_class(uint32_t c) {
	/* Most specific first: a tablet also reports pointer buttons, a touchpad keys. */
	if (c & (INPUT_CLASS_TABLET | INPUT_CLASS_TABLET_PAD)) {
		return DEVICE_KIND_TABLET;
	}
	if (c & INPUT_CLASS_TOUCHSCREEN) {
		return DEVICE_KIND_TOUCHSCREEN;
	}
	if (c & INPUT_CLASS_TOUCHPAD) {
		return DEVICE_KIND_TOUCHPAD;
	}
	if (c & (INPUT_CLASS_MOUSE | INPUT_CLASS_POINTINGSTICK)) {
		return DEVICE_KIND_POINTER;
	}
	if (c & INPUT_CLASS_JOYSTICK) {
		return DEVICE_KIND_JOYSTICK;
	}
	if (c & INPUT_CLASS_KEYBOARD) {
		return DEVICE_KIND_KEYBOARD;
	}
	if (c & INPUT_CLASS_SWITCH) {
		return DEVICE_KIND_SWITCH;
	}
	return DEVICE_KIND_INPUT_OTHER;
}

void device_free(struct device *dev) {
	if (dev == NULL) {
		return;
	}
	free(dev->devpath);
	free(dev->subsystem);
	free(dev->devname);
	free(dev->id_path);
	free(dev->udev_seat);
	free(dev->seat);
	free(dev);
}

static bool copy_string(char **out, const char *s) {
	*out = s != NULL ? strdup(s) : NULL;
	return s == NULL || *out != NULL;
}

struct device *device_clone(const struct device *dev) {
	struct device *copy = malloc(sizeof(*copy));
	if (copy == NULL) {
		return NULL;
	}
	*copy = *dev;
	copy->entry = (struct hashmap_entry){0};
	/* Every field is copied (or NULL) before device_free may look at any. */
	bool ok = copy_string(&copy->devpath, dev->devpath);
	ok = copy_string(&copy->subsystem, dev->subsystem) && ok;
	ok = copy_string(&copy->devname, dev->devname) && ok;
	ok = copy_string(&copy->id_path, dev->id_path) && ok;
	ok = copy_string(&copy->udev_seat, dev->udev_seat) && ok;
	ok = copy_string(&copy->seat, dev->seat) && ok;
	if (!ok) {
		device_free(copy);
		return NULL;
	}
	return copy;
}
