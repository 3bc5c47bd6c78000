#ifndef _SEATD_NS_INPUT_CLASS_H
#define _SEATD_NS_INPUT_CLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Classification of evdev input devices, as udev's input_id builtin does it
 * (systemd src/udev/udev-builtin-input_id.c), from the capability bitmaps and bus type of the
 * input device (the parent "inputN" of an "eventN" node). They come from sysfs
 * (capabilities/ev, .../key, .../rel, .../abs, properties, id/bustype) or from the input
 * device's own add uevent (EV=, KEY=, REL=, ABS=, PROP=, PRODUCT=), so a device whose sysfs is
 * gone still classifies.
 */

/* One bit per property that input_id sets to "1". */
enum input_class {
	INPUT_CLASS_INPUT = 1u << 0,         /* ID_INPUT */
	INPUT_CLASS_KEY = 1u << 1,           /* ID_INPUT_KEY */
	INPUT_CLASS_KEYBOARD = 1u << 2,      /* ID_INPUT_KEYBOARD */
	INPUT_CLASS_MOUSE = 1u << 3,         /* ID_INPUT_MOUSE */
	INPUT_CLASS_TOUCHPAD = 1u << 4,      /* ID_INPUT_TOUCHPAD */
	INPUT_CLASS_TOUCHSCREEN = 1u << 5,   /* ID_INPUT_TOUCHSCREEN */
	INPUT_CLASS_TABLET = 1u << 6,        /* ID_INPUT_TABLET */
	INPUT_CLASS_TABLET_PAD = 1u << 7,    /* ID_INPUT_TABLET_PAD */
	INPUT_CLASS_JOYSTICK = 1u << 8,      /* ID_INPUT_JOYSTICK */
	INPUT_CLASS_ACCELEROMETER = 1u << 9, /* ID_INPUT_ACCELEROMETER */
	INPUT_CLASS_POINTINGSTICK = 1u << 10, /* ID_INPUT_POINTINGSTICK */
	INPUT_CLASS_SWITCH = 1u << 11,       /* ID_INPUT_SWITCH */
};

#define INPUT_CLASS_COUNT 12

/* Bit counts of the kernel's input.h: EV_CNT, KEY_CNT, REL_CNT, ABS_CNT, INPUT_PROP_CNT. */
#define INPUT_EV_BITS 0x20
#define INPUT_KEY_BITS 0x300
#define INPUT_REL_BITS 0x10
#define INPUT_ABS_BITS 0x40
#define INPUT_PROP_BITS 0x20

#define INPUT_BITS_TO_LONGS(n) (((n) + 63) / 64)

/* Capability bitmaps; bit i of map is bits[i / 64] >> (i % 64) & 1. */
struct input_caps {
	uint64_t ev[INPUT_BITS_TO_LONGS(INPUT_EV_BITS)];
	uint64_t key[INPUT_BITS_TO_LONGS(INPUT_KEY_BITS)];
	uint64_t rel[INPUT_BITS_TO_LONGS(INPUT_REL_BITS)];
	uint64_t abs[INPUT_BITS_TO_LONGS(INPUT_ABS_BITS)];
	uint64_t prop[INPUT_BITS_TO_LONGS(INPUT_PROP_BITS)];
	/* BUS_USB, BUS_I2C, ...: input_id calls a mouse on I2C a pointing stick. */
	uint16_t bustype;
};

/*
 * Parses a kernel capability bitmap as sysfs and uevents print it: hex words of the kernel's
 * long size (64 bits on the hosts we serve), most significant first, separated by spaces
 * ("1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe"). Bits beyond nbits are
 * ignored. Returns 0, or -1 with errno EINVAL for text that is not such a bitmap.
 */
int input_caps_parse_bitmap(const char *text, uint64_t *bits, size_t nbits);

/*
 * Fills caps from the input device's uevent properties (EV, KEY, REL, ABS, PROP, and the bus
 * type from PRODUCT, "3/627/1/111"); a missing property means an empty map (bus type 0).
 * get(ctx, "EV") returns the value or NULL. Returns 0, or -1 with errno EINVAL if a present
 * value is malformed.
 */
int input_caps_from_properties(struct input_caps *caps,
	const char *(*get)(void *ctx, const char *key), void *ctx);

/*
 * Fills caps from sysfs: input_devpath is the input device ("/devices/.../input/input2");
 * reads capabilities/{ev,key,rel,abs}, properties and id/bustype under the sysfs root
 * root_fd. Returns 0, or -1 with errno set (ENOENT when the device is gone, EINVAL when an
 * attribute is malformed).
 */
int input_caps_from_sysfs(struct input_caps *caps, int root_fd, const char *input_devpath);

/* The input_class bits udev's input_id would set for these capabilities. */
uint32_t input_classify(const struct input_caps *caps);

/* Property name of one class bit ("ID_INPUT_KEYBOARD"), or NULL for an unknown bit. */
const char *input_class_property(uint32_t bit);

#endif
