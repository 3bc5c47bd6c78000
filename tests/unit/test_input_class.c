#include <errno.h>
#include <linux/input.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "input_class.h"
#include "sysfs.h"
#include "test.h"

TEST_GLOBALS;

#define KEYBOARD (INPUT_CLASS_INPUT | INPUT_CLASS_KEY | INPUT_CLASS_KEYBOARD)
#define MOUSE (INPUT_CLASS_INPUT | INPUT_CLASS_MOUSE)

#define XHCI "/devices/pci0000:00/0000:00:07.0/usb1"

/* The input devices of the recorded host, with what udev 252 said of them there. */
static const struct {
	const char *devpath;
	uint16_t bustype;
	uint32_t classes;
} fixture_inputs[] = {
	/* PS/2 keyboard, event0; its add uevent came before the recorder started. */
	{"/devices/platform/i8042/serio0/input/input0", BUS_I8042, KEYBOARD},
	{XHCI "/1-1/1-1.1/1-1.1:1.0/0003:0627:0001.0001/input/input2", BUS_USB, KEYBOARD},
	{XHCI "/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002/input/input3", BUS_USB, KEYBOARD},
	{XHCI "/1-1/1-1.2/1-1.2:1.0/0003:0627:0001.0003/input/input4", BUS_USB, MOUSE},
	/* qemu's tablet: absolute axes and mouse buttons but no stylus, so a mouse to udev. */
	{XHCI "/1-2/1-2.2/1-2.2:1.0/0003:0627:0001.0004/input/input5", BUS_USB, MOUSE},
	{XHCI "/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6", BUS_USB, KEYBOARD},
};

#define N_FIXTURE_INPUTS (sizeof(fixture_inputs) / sizeof(fixture_inputs[0]))

/* Capabilities as sysfs and uevents print them; PRODUCT is bus/vendor/product/version. */
struct device {
	const char *name;
	const char *product, *ev, *key, *rel, *abs, *prop;
	uint32_t classes;
};

/*
 * Real devices. The first ones are sysfs captures from systemd's test/sys-script.py; the others
 * have the capabilities that libinput's test devices (test/litest-device-*.c) copy from real
 * hardware or that a Linux driver sets, printed as the kernel prints them (versions that these
 * sources do not give are 0). udevadm test-builtin input_id agrees with each.
 */
static const struct device real_devices[] = {
	{"Lid Switch (ACPI PNP0C0D)", "19/0/5/0", "21", "0", "0", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_SWITCH},
	{"Power Button (ACPI LNXPWRBN), only KEY_POWER", "19/0/2/0", "3", "10000000000000 0", "0",
		"0", "0", INPUT_CLASS_INPUT | INPUT_CLASS_KEY},
	{"ThinkPad Extra Buttons", "19/17aa/5054/4101", "33",
		"18840000 2 10010000000000 0 1101b00002005 1004000 e000000000000 0", "0", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_KEY | INPUT_CLASS_SWITCH},
	{"PC Speaker", "10/1f/1/100", "40001", "0", "0", "0", "0", INPUT_CLASS_INPUT},
	{"Logitech USB-PS/2 Optical Mouse", "3/46d/c03e/110", "17", "70000 0 0 0 0", "103", "0",
		"0", MOUSE},
	{"TPPS/2 IBM TrackPoint, before INPUT_PROP_POINTING_STICK", "11/2/a/0", "7",
		"70000 0 0 0 0", "3", "0", "0", MOUSE},
	/* litest-device-trackpoint.c */
	{"TPPS/2 IBM TrackPoint", "11/2/a/0", "7", "70000 0 0 0 0", "3", "0", "21",
		MOUSE | INPUT_CLASS_POINTINGSTICK},
	/* litest-device-synaptics-t440.c: BTN_TOOL_FINGER, ABS_X/Y, INPUT_PROP_POINTER */
	{"SynPS/2 Synaptics TouchPad", "11/2/7/0", "b", "e520 10000 0 0 0 0", "0",
		"660800011000003", "15", INPUT_CLASS_INPUT | INPUT_CLASS_TOUCHPAD},
	/* litest-device-nexus4-touch-screen.c: BTN_TOUCH, ABS_X/Y, INPUT_PROP_DIRECT */
	{"Nexus 4 touch screen", "1/43e/26/0", "b", "400 0 0 0 0 0", "0", "661800000000003", "2",
		INPUT_CLASS_INPUT | INPUT_CLASS_TOUCHSCREEN},
	/* Linux gunze.c: single touch, BTN_TOUCH and ABS_X/Y without INPUT_PROP_DIRECT */
	{"Gunze AHL-51S TouchScreen", "13/1c/51/100", "b", "400 0 0 0 0 0", "0", "3", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_TOUCHSCREEN},
	/* litest-device-wacom-intuos5-pen.c: BTN_TOOL_PEN, BTN_STYLUS, mouse buttons, wheel */
	{"Wacom Intuos5 touch M Pen", "3/56a/27/0", "1f", "1cdf 1f01ff 0 0 0 0", "100",
		"1000f000147", "1", INPUT_CLASS_INPUT | INPUT_CLASS_TABLET},
	/* litest-device-wacom-intuos5-pad.c: BTN_0 and BTN_STYLUS without BTN_TOOL_PEN */
	{"Wacom Intuos5 touch M Pad", "3/56a/27/0", "b", "800 1ff 0 0 0 0", "0", "10000000103",
		"0", INPUT_CLASS_INPUT | INPUT_CLASS_TABLET | INPUT_CLASS_TABLET_PAD},
	/* Linux hid-playstation.c ps_gamepad_create(): BTN_SOUTH..., ABS_X/Y/Z/RX/RY/RZ/HAT0 */
	{"Sony DualSense Wireless Controller", "3/54c/ce6/0", "b", "7fdb000000000000 0 0 0 0",
		"0", "3003f", "0", INPUT_CLASS_INPUT | INPUT_CLASS_JOYSTICK},
	/* hid-playstation.c ps_sensors_create(): INPUT_PROP_ACCELEROMETER */
	{"Sony DualSense Motion Sensors", "3/54c/ce6/0", "19", "0", "0", "3f", "40",
		INPUT_CLASS_INPUT | INPUT_CLASS_ACCELEROMETER},
};

/*
 * input_id's rules one by one, each on the smallest device that shows it, most of them made
 * from the fixture's devices or the ones above. udevadm test-builtin input_id agrees here too.
 */
static const struct device rule_devices[] = {
	/* Without keys, three absolute axes make an accelerometer, two do not. */
	{"DualSense Motion Sensors without INPUT_PROP_ACCELEROMETER", "3/54c/ce6/0", "19", "0",
		"0", "3f", "0", INPUT_CLASS_INPUT | INPUT_CLASS_ACCELEROMETER},
	{"ABS_X/Y alone", "3/0/0/0", "9", "0", "0", "3", "0", INPUT_CLASS_INPUT},
	/* libinput's "wheel only device": an evdev node with just a wheel is a key device. */
	{"REL_WHEEL alone", "3/1/2/0", "5", "0", "100", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_KEY},
	/* The fixture's USB mouse on I2C: "there is no such thing as an i2c mouse". */
	{"I2C mouse", "18/627/1/1", "17", "1f0000 0 0 0 0", "903", "0", "0",
		MOUSE | INPUT_CLASS_POINTINGSTICK},
	/* The fixture's tablet on I2C: an absolute mouse is no pointing stick. */
	{"I2C absolute mouse", "18/627/1/1", "1f", "70000 0 0 0 0", "900", "3", "0", MOUSE},
	/* Joysticks by their d-pad buttons, their extra buttons, or two axes alone. */
	{"BTN_DPAD_* alone", "3/0/0/0", "3", "f00000000 0 0 0 0 0 0 0 0", "0", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_JOYSTICK},
	{"BTN_TRIGGER_HAPPY1-4 alone", "3/0/0/0", "3", "f 0 0 0 0 0 0 0 0 0 0 0", "0", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_JOYSTICK},
	{"ABS_THROTTLE and ABS_RUDDER alone", "3/0/0/0", "9", "0", "0", "c0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_JOYSTICK},
	/* One button is no joystick. */
	{"BTN_TRIGGER alone", "3/0/0/0", "3", "100000000 0 0 0 0", "0", "0", "0",
		INPUT_CLASS_INPUT},
	/* A keyboard (the fixture's) with joystick buttons is no joystick. */
	{"keyboard with joystick buttons", "3/627/1/111", "120013",
		"fff00000000 1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe", "0",
		"0", "0", KEYBOARD},
	/* Nor is a mouse with more than 16 buttons, like the Mad Catz M.M.O.TE. */
	{"mouse with 20 buttons", "3/0/0/0", "7", "fffff0000 0 0 0 0", "103", "0", "0", MOUSE},
	/* Multitouch axes without ABS_X/Y: touch, finger and pen. */
	{"ABS_MT_POSITION_X/Y and BTN_TOUCH", "18/0/0/0", "b", "400 0 0 0 0 0", "0",
		"60000000000000", "0", INPUT_CLASS_INPUT | INPUT_CLASS_TOUCHSCREEN},
	{"ABS_MT_POSITION_X/Y and BTN_TOOL_FINGER", "18/0/0/0", "b", "20 0 0 0 0 0", "0",
		"60000000000000", "0", INPUT_CLASS_INPUT | INPUT_CLASS_TOUCHPAD},
	{"ABS_MT_POSITION_X/Y and BTN_TOOL_PEN", "18/0/0/0", "b", "1 0 0 0 0 0", "0",
		"60000000000000", "0", INPUT_CLASS_INPUT | INPUT_CLASS_TABLET},
	/* Claiming every axis up to ABS_MT_SLOT is no multitouch: BTN_TOUCH makes nothing. */
	{"HID usages spilling over all axes", "3/0/0/0", "b", "400 10000 0 0 0 0", "0",
		"ffffffffffffffff", "0", MOUSE},
	/* Some of the first 32 codes make keys, not a keyboard: a numeric keypad. */
	{"numeric keypad", "3/0/0/0", "3", "7bba0 c002", "0", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_KEY},
	/* Key codes above the buttons: KEY_OK, KEY_NUMERIC_0. */
	{"remote keys only", "3/0/0/0", "3", "1 0 0 100000000 0 0 0 0 0", "0", "0", "0",
		INPUT_CLASS_INPUT | INPUT_CLASS_KEY},
};

static const char *device_get(void *ctx, const char *key) {
	const struct device *device = ctx;
	const char *const keys[] = {"PRODUCT", "EV", "KEY", "REL", "ABS", "PROP"};
	const char *const values[] = {device->product, device->ev, device->key, device->rel,
		device->abs, device->prop};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i]) == 0) {
			return values[i];
		}
	}
	return NULL;
}

/* A run of NUL-separated "KEY=VALUE" strings: a kernel uevent, or a uevent file split up. */
struct properties {
	const char *data;
	size_t len;
};

static const char *properties_get(void *ctx, const char *key) {
	const struct properties *props = ctx;
	size_t key_len = strlen(key);
	for (const char *s = props->data; s < props->data + props->len; s += strlen(s) + 1) {
		if (strncmp(s, key, key_len) == 0 && s[key_len] == '=') {
			return s + key_len + 1;
		}
	}
	return NULL;
}

static bool caps_equal(const struct input_caps *a, const struct input_caps *b) {
	return memcmp(a->ev, b->ev, sizeof(a->ev)) == 0 &&
	       memcmp(a->key, b->key, sizeof(a->key)) == 0 &&
	       memcmp(a->rel, b->rel, sizeof(a->rel)) == 0 &&
	       memcmp(a->abs, b->abs, sizeof(a->abs)) == 0 &&
	       memcmp(a->prop, b->prop, sizeof(a->prop)) == 0 && a->bustype == b->bustype;
}

static void test_fixture_sysfs(void) {
	int root_fd = sysfs_open(fixture_sysfs_root());
	test_assert(root_fd != -1);
	size_t wrong = 0;
	for (size_t i = 0; i < N_FIXTURE_INPUTS; i++) {
		struct input_caps caps;
		if (input_caps_from_sysfs(&caps, root_fd, fixture_inputs[i].devpath) == -1 ||
			caps.bustype != fixture_inputs[i].bustype ||
			input_classify(&caps) != fixture_inputs[i].classes) {
			fprintf(stderr, "sysfs of %s\n", fixture_inputs[i].devpath);
			wrong++;
		}
	}
	close(root_fd);
	test_assert(wrong == 0);
}

/* Whether the capabilities from properties equal sysfs's, and classify as udev did. */
static bool check_properties(int root_fd, size_t input, struct properties *props) {
	struct input_caps from_props, from_sysfs;
	if (input_caps_from_properties(&from_props, properties_get, props) == -1 ||
		input_caps_from_sysfs(&from_sysfs, root_fd, fixture_inputs[input].devpath) == -1) {
		return false;
	}
	return caps_equal(&from_props, &from_sysfs) &&
	       input_classify(&from_props) == fixture_inputs[input].classes;
}

static void test_fixture_uevents(void) {
	int root_fd = sysfs_open(fixture_sysfs_root());
	test_assert(root_fd != -1);
	struct fixture_record *records;
	size_t n = fixture_load_uevents(&records);
	size_t checked = 0, wrong = 0;
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < N_FIXTURE_INPUTS; i++) {
			const char *devpath = fixture_inputs[i].devpath;
			if (strncmp(records[r].data, "add@", 4) != 0 ||
				strcmp(records[r].data + 4, devpath) != 0) {
				continue;
			}
			struct properties props = {records[r].data, records[r].len};
			checked++;
			if (!check_properties(root_fd, i, &props)) {
				fprintf(stderr, "uevent of %s\n", devpath);
				wrong++;
			}
		}
	}
	fixture_records_free(records, n);

	/* input0's add uevent predates the recording: take what its uevent file says. */
	char uevent[4096];
	ssize_t len = sysfs_read_attr(root_fd, fixture_inputs[0].devpath, "uevent", uevent,
		sizeof(uevent));
	for (ssize_t i = 0; i < len; i++) {
		uevent[i] = uevent[i] == '\n' ? '\0' : uevent[i];
	}
	struct properties props = {uevent, len > 0 ? (size_t)len : 0};
	bool input0_ok = len > 0 && check_properties(root_fd, 0, &props);
	close(root_fd);
	test_assert(checked == N_FIXTURE_INPUTS - 1);
	test_assert(wrong == 0);
	test_assert(input0_ok);
}

static size_t check_devices(const struct device *list, size_t n) {
	size_t wrong = 0;
	for (size_t i = 0; i < n; i++) {
		struct input_caps caps;
		uint32_t classes = 0;
		if (input_caps_from_properties(&caps, device_get, (void *)&list[i]) == 0) {
			classes = input_classify(&caps);
		}
		if (classes != list[i].classes) {
			fprintf(stderr, "%s: classes %x, expected %x\n", list[i].name, classes,
				list[i].classes);
			wrong++;
		}
	}
	return wrong;
}

static void test_real_devices(void) {
	test_assert(check_devices(real_devices, sizeof(real_devices) / sizeof(real_devices[0])) ==
		    0);
}

static void test_rules(void) {
	test_assert(check_devices(rule_devices, sizeof(rule_devices) / sizeof(rule_devices[0])) ==
		    0);
}

static void test_parse_bitmap(void) {
	uint64_t key[INPUT_BITS_TO_LONGS(INPUT_KEY_BITS)];
	test_assert(input_caps_parse_bitmap(
			    "1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe", key,
			    INPUT_KEY_BITS) == 0);
	test_assert(key[0] == 0xfffffffffffffffe && key[1] == 0xfebeffdfffefffff);
	test_assert(key[2] == 0xff9f207ac14057ff && key[3] == 0x1000000000007);
	test_assert(key[4] == 0 && key[11] == 0);

	/* Capital hex digits and leading zeros are still numbers. */
	test_assert(input_caps_parse_bitmap("0FFFFFFFE", key, INPUT_KEY_BITS) == 0);
	test_assert(key[0] == 0xfffffffe);

	/* Words past the map are dropped, as input_id drops them (a newer kernel's maps). */
	test_assert(input_caps_parse_bitmap("ffff 1 0 0 0 0 0 0 0 0 0 0 2", key,
			    INPUT_KEY_BITS) == 0);
	test_assert(key[0] == 2 && key[11] == 1);

	/* So are bits past the map in its last word. */
	uint64_t ev[INPUT_BITS_TO_LONGS(INPUT_EV_BITS)];
	test_assert(input_caps_parse_bitmap("5 100000013", ev, INPUT_EV_BITS) == 0);
	test_assert(ev[0] == 0x13);

	/* A malformed word after good ones leaves the map empty. */
	errno = 0;
	test_assert(input_caps_parse_bitmap("ff 1 xyz", key, INPUT_KEY_BITS) == -1);
	test_assert(errno == EINVAL);
	test_assert(key[1] == 0 && key[2] == 0);
}

static void test_parse_bitmap_malformed(void) {
	static const char *const malformed[] = {
		"xyz",
		"",
		" ",
		"1 ",
		" 1",
		"1  2",
		"1\t2",
		"0x13",
		"-1",
		"+1",
		"12345678123456781",
		"10000000000000000 0",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		uint64_t ev[INPUT_BITS_TO_LONGS(INPUT_EV_BITS)] = {0x13};
		errno = 0;
		if (input_caps_parse_bitmap(malformed[i], ev, INPUT_EV_BITS) != -1) {
			fprintf(stderr, "accepted \"%s\"\n", malformed[i]);
		}
		test_assert(errno == EINVAL);
		test_assert(ev[0] == 0);
	}
}

static void test_from_properties_malformed(void) {
	static const char *const bad_products[] = {"zz/0/5/0", "10019/0/5/0", "19", "/0/5/0"};
	struct device bad_key = real_devices[0], bad_product = real_devices[0],
		      no_product = real_devices[0];
	bad_key.key = "xyz";
	no_product.product = NULL;
	struct input_caps caps;

	errno = 0;
	test_assert(input_caps_from_properties(&caps, device_get, &bad_key) == -1);
	test_assert(errno == EINVAL);
	for (size_t i = 0; i < sizeof(bad_products) / sizeof(bad_products[0]); i++) {
		bad_product.product = bad_products[i];
		errno = 0;
		test_assert(input_caps_from_properties(&caps, device_get, &bad_product) == -1);
		test_assert(errno == EINVAL);
	}

	/* A property that is not there is an empty map. */
	test_assert(input_caps_from_properties(&caps, device_get, &no_product) == 0);
	test_assert(caps.bustype == 0);
	no_product.ev = NULL;
	test_assert(input_caps_from_properties(&caps, device_get, &no_product) == 0);
	test_assert(input_classify(&caps) == INPUT_CLASS_INPUT);
}

static void test_from_sysfs_gone(void) {
	int root_fd = sysfs_open(fixture_sysfs_root());
	test_assert(root_fd != -1);
	struct input_caps caps;
	/* Not an input device with capabilities, and no device at all. */
	int mice = input_caps_from_sysfs(&caps, root_fd, "/devices/virtual/input/mice");
	int mice_errno = errno;
	int gone = input_caps_from_sysfs(&caps, root_fd, "/devices/virtual/input/input99");
	int gone_errno = errno;
	close(root_fd);
	test_assert(mice == -1 && mice_errno == ENOENT);
	test_assert(gone == -1 && gone_errno == ENOENT);
}

static void test_class_property(void) {
	test_assert_str(input_class_property(INPUT_CLASS_INPUT), "ID_INPUT");
	test_assert_str(input_class_property(INPUT_CLASS_KEYBOARD), "ID_INPUT_KEYBOARD");
	test_assert_str(input_class_property(INPUT_CLASS_TABLET_PAD), "ID_INPUT_TABLET_PAD");
	test_assert_str(input_class_property(INPUT_CLASS_SWITCH), "ID_INPUT_SWITCH");
	test_assert_str(input_class_property(0), NULL);
	test_assert_str(input_class_property(INPUT_CLASS_KEY | INPUT_CLASS_KEYBOARD), NULL);
	test_assert_str(input_class_property(1u << INPUT_CLASS_COUNT), NULL);
	for (unsigned int i = 0; i < INPUT_CLASS_COUNT; i++) {
		const char *name = input_class_property(1u << i);
		test_assert(name != NULL && strncmp(name, "ID_INPUT", 8) == 0);
	}
}

int main(void) {
	test_run(test_fixture_sysfs);
	test_run(test_fixture_uevents);
	test_run(test_real_devices);
	test_run(test_rules);
	test_run(test_parse_bitmap);
	test_run(test_parse_bitmap_malformed);
	test_run(test_from_properties_malformed);
	test_run(test_from_sysfs_gone);
	test_run(test_class_property);
	return test_main_end();
}
