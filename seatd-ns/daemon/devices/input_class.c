#include <errno.h>
#include <linux/input.h>
#include <stddef.h>
#include <string.h>

#include "input_class.h"
#include "sysfs.h"

/*
 * Follows input_id of systemd 252 (the udev of Debian 12), for a 64-bit kernel. Not covered:
 * ID_INPUT_WIDTH_MM and ID_INPUT_HEIGHT_MM, which input_id reads from the node with an ioctl.
 */

_Static_assert(INPUT_EV_BITS == EV_CNT, "EV_CNT");
_Static_assert(INPUT_KEY_BITS == KEY_CNT, "KEY_CNT");
_Static_assert(INPUT_REL_BITS == REL_CNT, "REL_CNT");
_Static_assert(INPUT_ABS_BITS == ABS_CNT, "ABS_CNT");
_Static_assert(INPUT_PROP_BITS == INPUT_PROP_CNT, "INPUT_PROP_CNT");

/* Where each map comes from, in a uevent and in sysfs. */
static const struct {
	const char *property;
	const char *attr;
	size_t offset;
	size_t nbits;
} cap_maps[] = {
	{"EV", "capabilities/ev", offsetof(struct input_caps, ev), INPUT_EV_BITS},
	{"KEY", "capabilities/key", offsetof(struct input_caps, key), INPUT_KEY_BITS},
	{"REL", "capabilities/rel", offsetof(struct input_caps, rel), INPUT_REL_BITS},
	{"ABS", "capabilities/abs", offsetof(struct input_caps, abs), INPUT_ABS_BITS},
	{"PROP", "properties", offsetof(struct input_caps, prop), INPUT_PROP_BITS},
};

static const char *const class_properties[INPUT_CLASS_COUNT] = {
	"ID_INPUT",
	"ID_INPUT_KEY",
	"ID_INPUT_KEYBOARD",
	"ID_INPUT_MOUSE",
	"ID_INPUT_TOUCHPAD",
	"ID_INPUT_TOUCHSCREEN",
	"ID_INPUT_TABLET",
	"ID_INPUT_TABLET_PAD",
	"ID_INPUT_JOYSTICK",
	"ID_INPUT_ACCELEROMETER",
	"ID_INPUT_POINTINGSTICK",
	"ID_INPUT_SWITCH",
};

static int hex_digit(char c) {
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

int input_caps_parse_bitmap(const char *text, uint64_t *bits, size_t nbits) {
	size_t nwords = INPUT_BITS_TO_LONGS(nbits);
	memset(bits, 0, nwords * sizeof(*bits));

	/* The last word is bits 0 to 63: count the words to know where the first one goes. */
	size_t index = 1;
	for (const char *p = text; *p != '\0'; p++) {
		index += *p == ' ';
	}
	for (const char *p = text;; p++) {
		uint64_t word = 0;
		int len = 0, digit;
		for (; (digit = hex_digit(*p)) != -1; p++) {
			if (++len > 16) {
				goto fail;
			}
			word = word << 4 | (uint64_t)digit;
		}
		if (len == 0 || (*p != ' ' && *p != '\0')) {
			goto fail;
		}
		/* Words beyond nbits are maps of a newer kernel: input_id ignores them too. */
		if (--index < nwords) {
			bits[index] = word;
		}
		if (*p == '\0') {
			break;
		}
	}
	if (nbits % 64 != 0) {
		bits[nwords - 1] &= (UINT64_C(1) << (nbits % 64)) - 1;
	}
	return 0;

fail:
	memset(bits, 0, nwords * sizeof(*bits));
	errno = EINVAL;
	return -1;
}

/* Parses the hex number that starts text and ends at end ("3/627/1/1" or "0003"). */
static int parse_bustype(const char *text, char end, uint16_t *bustype) {
	uint32_t value = 0;
	int len = 0, digit;
	for (; (digit = hex_digit(*text)) != -1; text++) {
		if (++len > 4) {
			goto fail;
		}
		value = value << 4 | (uint32_t)digit;
	}
	if (len == 0 || *text != end) {
		goto fail;
	}
	*bustype = (uint16_t)value;
	return 0;

fail:
	errno = EINVAL;
	return -1;
}

int input_caps_from_properties(struct input_caps *caps,
	const char *(*get)(void *ctx, const char *key), void *ctx) {
	memset(caps, 0, sizeof(*caps));
	for (size_t i = 0; i < sizeof(cap_maps) / sizeof(cap_maps[0]); i++) {
		const char *value = get(ctx, cap_maps[i].property);
		uint64_t *bits = (uint64_t *)((char *)caps + cap_maps[i].offset);
		if (value != NULL &&
			input_caps_parse_bitmap(value, bits, cap_maps[i].nbits) == -1) {
			return -1;
		}
	}
	const char *product = get(ctx, "PRODUCT");
	if (product != NULL && parse_bustype(product, '/', &caps->bustype) == -1) {
		return -1;
	}
	return 0;
}

int input_caps_from_sysfs(struct input_caps *caps, int root_fd, const char *input_devpath) {
	char buf[4096];
	memset(caps, 0, sizeof(*caps));
	for (size_t i = 0; i < sizeof(cap_maps) / sizeof(cap_maps[0]); i++) {
		uint64_t *bits = (uint64_t *)((char *)caps + cap_maps[i].offset);
		if (sysfs_read_attr(root_fd, input_devpath, cap_maps[i].attr, buf, sizeof(buf)) ==
				-1 ||
			input_caps_parse_bitmap(buf, bits, cap_maps[i].nbits) == -1) {
			return -1;
		}
	}
	if (sysfs_read_attr(root_fd, input_devpath, "id/bustype", buf, sizeof(buf)) == -1 ||
		parse_bustype(buf, '\0', &caps->bustype) == -1) {
		return -1;
	}
	return 0;
}

static bool test_bit(const uint64_t *bits, unsigned int bit) {
	return (bits[bit / 64] >> (bit % 64)) & 1;
}

/* Number of bits set in [start, end). */
static size_t count_bits(const uint64_t *bits, unsigned int start, unsigned int end) {
	size_t n = 0;
	for (unsigned int bit = start; bit < end; bit++) {
		n += test_bit(bits, bit);
	}
	return n;
}

/* input_id's test_pointers(). */
static uint32_t classify_pointer(const struct input_caps *caps) {
	bool has_keys = test_bit(caps->ev, EV_KEY);
	bool has_abs_coordinates = test_bit(caps->abs, ABS_X) && test_bit(caps->abs, ABS_Y);
	bool has_3d_coordinates = has_abs_coordinates && test_bit(caps->abs, ABS_Z);
	if (test_bit(caps->prop, INPUT_PROP_ACCELEROMETER) || (!has_keys && has_3d_coordinates)) {
		return INPUT_CLASS_ACCELEROMETER;
	}

	bool is_pointing_stick = test_bit(caps->prop, INPUT_PROP_POINTING_STICK);
	bool has_stylus = test_bit(caps->key, BTN_STYLUS);
	bool has_pen = test_bit(caps->key, BTN_TOOL_PEN);
	bool finger_but_no_pen = test_bit(caps->key, BTN_TOOL_FINGER) && !has_pen;
	bool has_mouse_button = count_bits(caps->key, BTN_MOUSE, BTN_JOYSTICK) > 0;
	bool has_rel_coordinates = test_bit(caps->ev, EV_REL) && test_bit(caps->rel, REL_X) &&
				   test_bit(caps->rel, REL_Y);
	bool has_mt_coordinates =
		test_bit(caps->abs, ABS_MT_POSITION_X) && test_bit(caps->abs, ABS_MT_POSITION_Y);
	/* A device that claims every abs axis is not multitouch. */
	if (has_mt_coordinates && test_bit(caps->abs, ABS_MT_SLOT) &&
		test_bit(caps->abs, ABS_MT_SLOT - 1)) {
		has_mt_coordinates = false;
	}
	bool is_direct = test_bit(caps->prop, INPUT_PROP_DIRECT);
	bool has_touch = test_bit(caps->key, BTN_TOUCH);
	bool has_pad_buttons = test_bit(caps->key, BTN_0) && has_stylus && !has_pen;

	/* A mouse with more than 16 buttons runs into the joystick range: not a joystick. */
	size_t joystick_buttons = 0;
	if (!test_bit(caps->key, BTN_JOYSTICK - 1)) {
		joystick_buttons = count_bits(caps->key, BTN_JOYSTICK, BTN_DIGI);
		joystick_buttons +=
			count_bits(caps->key, BTN_TRIGGER_HAPPY1, BTN_TRIGGER_HAPPY40 + 1);
		joystick_buttons += count_bits(caps->key, BTN_DPAD_UP, BTN_DPAD_RIGHT + 1);
	}
	size_t joystick_axes = count_bits(caps->abs, ABS_RX, ABS_PRESSURE);

	bool is_tablet = false, is_touchpad = false, is_abs_mouse = false;
	bool is_touchscreen = false, is_joystick = false;
	if (has_abs_coordinates) {
		if (has_stylus || has_pen) {
			is_tablet = true;
		} else if (finger_but_no_pen && !is_direct) {
			is_touchpad = true;
		} else if (has_mouse_button) {
			/* Absolute axes and buttons but no touch: VMware's and qemu's mice. */
			is_abs_mouse = true;
		} else if (has_touch || is_direct) {
			is_touchscreen = true;
		} else if (joystick_buttons > 0 || joystick_axes > 0) {
			is_joystick = true;
		}
	} else if (joystick_buttons > 0 || joystick_axes > 0) {
		is_joystick = true;
	}
	if (has_mt_coordinates) {
		if (has_stylus || has_pen) {
			is_tablet = true;
		} else if (finger_but_no_pen && !is_direct) {
			is_touchpad = true;
		} else if (has_touch || is_direct) {
			is_touchscreen = true;
		}
	}

	bool is_mouse = !is_tablet && !is_touchpad && !is_joystick && has_mouse_button &&
			(has_rel_coordinates || !has_abs_coordinates);
	if (is_mouse && caps->bustype == BUS_I2C) {
		is_pointing_stick = true;
	}

	/* Keyboards with a few joystick buttons, and lone buttons or axes, are no joysticks. */
	if (is_joystick) {
		static const unsigned int well_known_keyboard_keys[] = {
			KEY_LEFTCTRL, KEY_CAPSLOCK, KEY_NUMLOCK, KEY_INSERT, KEY_MUTE,
			KEY_CALC, KEY_FILE, KEY_MAIL, KEY_PLAYPAUSE, KEY_BRIGHTNESSDOWN,
		};
		size_t n = sizeof(well_known_keyboard_keys) / sizeof(well_known_keyboard_keys[0]);
		size_t keyboard_keys = 0;
		for (size_t i = 0; has_keys && i < n; i++) {
			keyboard_keys += test_bit(caps->key, well_known_keyboard_keys[i]);
		}
		if (keyboard_keys >= 4 || joystick_buttons + joystick_axes < 2) {
			is_joystick = false;
		}
	}

	uint32_t classes = 0;
	classes |= is_pointing_stick ? INPUT_CLASS_POINTINGSTICK : 0;
	classes |= is_mouse || is_abs_mouse ? INPUT_CLASS_MOUSE : 0;
	classes |= is_touchpad ? INPUT_CLASS_TOUCHPAD : 0;
	classes |= is_touchscreen ? INPUT_CLASS_TOUCHSCREEN : 0;
	classes |= is_joystick ? INPUT_CLASS_JOYSTICK : 0;
	classes |= is_tablet ? INPUT_CLASS_TABLET : 0;
	classes |= is_tablet && has_pad_buttons ? INPUT_CLASS_TABLET_PAD : 0;
	return classes;
}

/* input_id's test_key(). */
static uint32_t classify_key(const struct input_caps *caps) {
	/* Key codes above BTN_MISC that are keys, not buttons (end exclusive). */
	static const struct {
		unsigned int start, end;
	} high_key_blocks[] = {
		{KEY_OK, BTN_DPAD_UP},
		{KEY_ALS_TOGGLE, BTN_TRIGGER_HAPPY},
	};

	if (!test_bit(caps->ev, EV_KEY)) {
		return 0;
	}
	uint32_t classes = 0;
	size_t keys = count_bits(caps->key, 0, BTN_MISC);
	for (size_t i = 0; i < sizeof(high_key_blocks) / sizeof(high_key_blocks[0]); i++) {
		keys += count_bits(caps->key, high_key_blocks[i].start, high_key_blocks[i].end);
	}
	if (keys > 0) {
		classes |= INPUT_CLASS_KEY;
	}
	/* The first 32 codes are Esc, the digits and Q to D: all of them make a keyboard. */
	if ((caps->key[0] & 0xfffffffe) == 0xfffffffe) {
		classes |= INPUT_CLASS_KEYBOARD;
	}
	return classes;
}

uint32_t input_classify(const struct input_caps *caps) {
	uint32_t classes = INPUT_CLASS_INPUT | classify_pointer(caps) | classify_key(caps);
	/* Some evdev nodes have only a scroll wheel. */
	if (classes == INPUT_CLASS_INPUT && test_bit(caps->ev, EV_REL) &&
		(test_bit(caps->rel, REL_WHEEL) || test_bit(caps->rel, REL_HWHEEL))) {
		classes |= INPUT_CLASS_KEY;
	}
	if (test_bit(caps->ev, EV_SW)) {
		classes |= INPUT_CLASS_SWITCH;
	}
	return classes;
}

const char *input_class_property(uint32_t bit) {
	if (bit == 0 || (bit & (bit - 1)) != 0) {
		return NULL;
	}
	unsigned int index = (unsigned int)__builtin_ctz(bit);
	return index < INPUT_CLASS_COUNT ? class_properties[index] : NULL;
}
