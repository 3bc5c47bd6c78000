/*
 * The seat policy (policy.c) and the assignment engine (seats.c), without the daemon: rules
 * alone, then a device table fed the recorded host's events, with configurations read by
 * the real parser from files.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "devtable.h"
#include "fixture.h"
#include "policy.h"
#include "seats.h"
#include "state.h"
#include "sysfs.h"
#include "test.h"

TEST_GLOBALS;

#define GPU1 "/devices/pci0000:00/0000:00:05.0"
#define GPU2 "/devices/pci0000:00/0000:00:06.0"
#define XHCI "/devices/pci0000:00/0000:00:07.0/usb1"
#define XHCI_PATH "pci-0000:00:07.0"
#define KBD1 XHCI "/1-1/1-1.1/1-1.1:1.0/0003:0627:0001.0001"
#define MOUSE1 XHCI "/1-1/1-1.2/1-1.2:1.0/0003:0627:0001.0003"
#define KBD1_HOTPLUG XHCI "/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005"
#define AUDIO1_HOTPLUG XHCI "/1-1/1-1.4/1-1.4:1.0/sound/card2"
#define KBD2 XHCI "/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002"
#define TABLET2 XHCI "/1-2/1-2.2/1-2.2:1.0/0003:0627:0001.0004"
#define AUDIO2 XHCI "/1-2/1-2.3/1-2.3:1.0/sound/card1"
#define ALOOP "/devices/platform/snd_aloop.0/sound/card0"
#define PS2KBD "/devices/platform/i8042/serio0/input/input0/event0"
#define TIMER "/devices/virtual/sound/timer"

static const char *tmp_dir;
static int sysfs_fd = -1;

/* ---- rules alone ---- */

static bool valid_rule(enum rule_kind kind, const char *value, const char *subsystem,
	const char *seat) {
	struct rule rule;
	const char *why;
	if (rule_init(&rule, kind, value, subsystem, seat, &why) == -1) {
		fprintf(stderr, "rule %s \"%s\" refused: %s\n", rule_kind_name(kind), value,
			why ? why : strerror(errno));
		return false;
	}
	rule_finish(&rule);
	return true;
}

/* Refused with EINVAL and a reason. */
static bool refused_rule(enum rule_kind kind, const char *value, const char *subsystem,
	const char *seat) {
	struct rule rule;
	const char *why = NULL;
	errno = 0;
	if (rule_init(&rule, kind, value, subsystem, seat, &why) == 0) {
		fprintf(stderr, "rule %s \"%s\" accepted as \"%s\"\n", rule_kind_name(kind), value,
			rule.value);
		rule_finish(&rule);
		return false;
	}
	return errno == EINVAL && why != NULL;
}

/* The value a rule keeps after normalization ("" when refused); buf gets a copy. */
static const char *normalized(enum rule_kind kind, const char *value, char *buf, size_t size) {
	struct rule rule;
	const char *why;
	buf[0] = '\0';
	if (rule_init(&rule, kind, value, NULL, "seat1", &why) == 0) {
		snprintf(buf, size, "%s", rule.value);
		rule_finish(&rule);
	}
	return buf;
}

static unsigned specificity_of(enum rule_kind kind, const char *value, const char *subsystem) {
	struct rule rule;
	const char *why;
	if (rule_init(&rule, kind, value, subsystem, "seat1", &why) == -1) {
		fprintf(stderr, "rule %s \"%s\" refused: %s\n", rule_kind_name(kind), value, why);
		return 0;
	}
	unsigned s = rule.specificity;
	rule_finish(&rule);
	return s;
}

static bool matches(enum rule_kind kind, const char *value, const char *subsystem,
	const struct policy_subject *subject) {
	struct rule rule;
	const char *why;
	if (rule_init(&rule, kind, value, subsystem, "seat1", &why) == -1) {
		fprintf(stderr, "rule %s \"%s\" refused: %s\n", rule_kind_name(kind), value, why);
		return false;
	}
	bool m = rule_matches(&rule, subject);
	rule_finish(&rule);
	return m;
}

static void test_seat_names(void) {
	char name[SEAT_NAME_MAX + 2];
	memcpy(name, "seat", 4);
	memset(name + 4, 'x', sizeof(name) - 5);
	name[SEAT_NAME_MAX] = '\0';
	test_assert(strlen(name) == 255 && seat_name_is_valid(name));
	name[SEAT_NAME_MAX] = 'x';
	name[SEAT_NAME_MAX + 1] = '\0';
	test_assert(strlen(name) == 256 && !seat_name_is_valid(name));

	test_assert(seat_name_is_valid("seat0"));
	test_assert(seat_name_is_valid("seat1"));
	test_assert(seat_name_is_valid("seat-a_B9"));
	test_assert(seat_name_is_valid("seat_"));
	test_assert(!seat_name_is_valid("Seat1"));
	test_assert(!seat_name_is_valid("SEAT1"));
	test_assert(!seat_name_is_valid("seat 1"));
	test_assert(!seat_name_is_valid("seat1/x"));
	test_assert(!seat_name_is_valid("seat1."));
	test_assert(!seat_name_is_valid(""));
	test_assert(!seat_name_is_valid("sea"));
	test_assert(!seat_name_is_valid("xseat1"));
	test_assert(!seat_name_is_valid("seat\xc3\xa9"));
	test_assert(!seat_name_is_valid("seat1\n"));
}

/* logind's seat_name_is_valid() wants at least one character after "seat". */
static void test_seat_name_bare_seat(void) {
	test_assert(!seat_name_is_valid("seat"));
}

static void test_container_names(void) {
	char name[CONTAINER_NAME_MAX + 2];
	memset(name, 'c', sizeof(name));
	name[CONTAINER_NAME_MAX] = '\0';
	test_assert(container_name_is_valid(name));
	name[CONTAINER_NAME_MAX] = 'c';
	name[CONTAINER_NAME_MAX + 1] = '\0';
	test_assert(!container_name_is_valid(name));

	test_assert(container_name_is_valid("desk1"));
	test_assert(container_name_is_valid("a"));
	test_assert(container_name_is_valid("Desk.1_x-y"));
	test_assert(!container_name_is_valid(""));
	test_assert(!container_name_is_valid(".hidden"));
	test_assert(!container_name_is_valid(".."));
	test_assert(!container_name_is_valid("a/b"));
	test_assert(!container_name_is_valid("desk 1"));
	test_assert(!container_name_is_valid("desk\xc3\xa9"));
}

static void test_rule_kind_names(void) {
	static const char *const names[] = {
		"syspath", "device", "port", "id-path", "usb-id", "kind", "udev-seat",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum rule_kind kind;
		test_assert(rule_kind_parse(names[i], &kind) == 0);
		test_assert_str(rule_kind_name(kind), names[i]);
	}
	enum rule_kind kind;
	errno = 0;
	test_assert(rule_kind_parse("usb", &kind) == -1 && errno == EINVAL);
	test_assert(rule_kind_parse("", &kind) == -1);
	test_assert(rule_kind_parse("Port", &kind) == -1);
}

static void test_rule_init_seat(void) {
	test_assert(valid_rule(RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "Seat1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat 1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:1", NULL, ""));
}

static void test_rule_init_syspath(void) {
	char buf[512];
	test_assert_str(normalized(RULE_SYSPATH, "/sys/devices/x", buf, sizeof(buf)), "/devices/x");
	test_assert_str(normalized(RULE_SYSPATH, "/devices/x", buf, sizeof(buf)), "/devices/x");
	test_assert_str(normalized(RULE_SYSPATH, "/sys" GPU1, buf, sizeof(buf)), GPU1);
	test_assert(refused_rule(RULE_SYSPATH, "/sys/class/drm/card0", NULL, "seat1"));
	test_assert(refused_rule(RULE_SYSPATH, "/sys/", NULL, "seat1"));
	test_assert(refused_rule(RULE_SYSPATH, "devices/x", NULL, "seat1"));
	test_assert(refused_rule(RULE_SYSPATH, "/devices/../x", NULL, "seat1"));
	test_assert(refused_rule(RULE_SYSPATH, "/devices//x", NULL, "seat1"));
	test_assert(refused_rule(RULE_SYSPATH, "/devices/x\n", NULL, "seat1"));
	test_assert(refused_rule(RULE_SYSPATH, "", NULL, "seat1"));
}

static void test_rule_init_device(void) {
	struct rule rule;
	const char *why;
	test_assert(rule_init(&rule, RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "input", "seat1",
			    &why) == 0);
	test_assert_str(rule.subsystem, "input");
	test_assert_str(rule.value, XHCI_PATH "-usb-0:1.1:1.0");
	test_assert_str(rule.seat, "seat1");
	rule_finish(&rule);
	test_assert(valid_rule(RULE_DEVICE, "pci-0000:00:05.0", "drm", "seat1"));
	test_assert(refused_rule(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", NULL, "seat1"));
	test_assert(refused_rule(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "mouse", "seat1"));
	test_assert(refused_rule(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:", "input", "seat1"));
	test_assert(refused_rule(RULE_DEVICE, XHCI_PATH "-usb-0:1.*", "input", "seat1"));
	test_assert(refused_rule(RULE_DEVICE, "", "input", "seat1"));

	/* Other kinds do not keep a subsystem. */
	test_assert(rule_init(&rule, RULE_PORT, XHCI_PATH "-usb-0:1", "input", "seat1", &why) ==
		    0);
	test_assert(rule.subsystem == NULL);
	rule_finish(&rule);
}

static void test_rule_init_port(void) {
	test_assert(valid_rule(RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat1"));
	test_assert(valid_rule(RULE_PORT, "platform-i8042-serio-0", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:1.", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:1-", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, "usb 1", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, XHCI_PATH "-usb-0:1*", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, "/devices/x", NULL, "seat1"));
	test_assert(refused_rule(RULE_PORT, "", NULL, "seat1"));
}

static void test_rule_init_id_path(void) {
	char buf[512];
	test_assert_str(normalized(RULE_ID_PATH, XHCI_PATH "-usb-0:1.*", buf, sizeof(buf)),
		XHCI_PATH "-usb-0:1.*");
	test_assert(valid_rule(RULE_ID_PATH, "pci-0000:00:0[5-6].0", NULL, "seat1"));
	test_assert(valid_rule(RULE_ID_PATH, "pci-?*", NULL, "seat1"));
	test_assert(valid_rule(RULE_ID_PATH, "a\\*b", NULL, "seat1"));
	test_assert(valid_rule(RULE_ID_PATH, "[]]x", NULL, "seat1"));
	test_assert(valid_rule(RULE_ID_PATH, "[!a]x", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "[abc", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "pci-[0-9*", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "pci-*\\", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "\\", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "[]", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "pci\t*", NULL, "seat1"));
	test_assert(refused_rule(RULE_ID_PATH, "", NULL, "seat1"));
}

static void test_rule_init_usb_id(void) {
	char buf[64];
	test_assert_str(normalized(RULE_USB_ID, "046D:C52B", buf, sizeof(buf)), "046d:c52b");
	test_assert_str(normalized(RULE_USB_ID, "0627:0001", buf, sizeof(buf)), "0627:0001");
	test_assert(refused_rule(RULE_USB_ID, "046d", NULL, "seat1"));
	test_assert(refused_rule(RULE_USB_ID, "046d-c52b", NULL, "seat1"));
	test_assert(refused_rule(RULE_USB_ID, "46d:c52b", NULL, "seat1"));
	test_assert(refused_rule(RULE_USB_ID, "046d:c52b0", NULL, "seat1"));
	test_assert(refused_rule(RULE_USB_ID, "046g:c52b", NULL, "seat1"));
	test_assert(refused_rule(RULE_USB_ID, "046d:c5 b", NULL, "seat1"));
	test_assert(refused_rule(RULE_USB_ID, "", NULL, "seat1"));
}

static void test_rule_init_kind(void) {
	static const char *const good[] = {
		"keyboard", "pointer", "touchpad", "touchscreen", "tablet", "joystick", "switch",
		"input-other", "hidraw", "drm-card", "drm-render", "sound-card", "sound-control",
		"sound-pcm", "sound-other", "input", "drm", "sound",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_assert(valid_rule(RULE_KIND, good[i], NULL, "seat1"));
	}
	test_assert(refused_rule(RULE_KIND, "mouse", NULL, "seat1"));
	test_assert(refused_rule(RULE_KIND, "none", NULL, "seat1"));
	test_assert(refused_rule(RULE_KIND, "Keyboard", NULL, "seat1"));
	test_assert(refused_rule(RULE_KIND, "usb", NULL, "seat1"));
	test_assert(refused_rule(RULE_KIND, "", NULL, "seat1"));
}

static void test_rule_init_udev_seat(void) {
	test_assert(valid_rule(RULE_UDEV_SEAT, "seat1", NULL, "seat2"));
	test_assert(valid_rule(RULE_UDEV_SEAT, "seat-usb-pci-0000_00_14_0-usb-0_2", NULL, "seat2"));
	test_assert(refused_rule(RULE_UDEV_SEAT, "Seat1", NULL, "seat2"));
	test_assert(refused_rule(RULE_UDEV_SEAT, "1", NULL, "seat2"));
	test_assert(refused_rule(RULE_UDEV_SEAT, "", NULL, "seat2"));
}

static void test_match_syspath(void) {
	struct policy_subject s = {.subsystem = "input", .kind = DEVICE_KIND_KEYBOARD};
	s.devpath = "/devices/a/b";
	test_assert(matches(RULE_SYSPATH, "/devices/a/b", NULL, &s));
	test_assert(matches(RULE_SYSPATH, "/sys/devices/a/b", NULL, &s));
	test_assert(matches(RULE_SYSPATH, "/devices/a", NULL, &s));
	s.devpath = "/devices/a/b/c";
	test_assert(matches(RULE_SYSPATH, "/devices/a/b", NULL, &s));
	s.devpath = "/devices/a/bc";
	test_assert(!matches(RULE_SYSPATH, "/devices/a/b", NULL, &s));
	s.devpath = "/devices/a";
	test_assert(!matches(RULE_SYSPATH, "/devices/a/b", NULL, &s));
	s.devpath = GPU1 "/drm/renderD128";
	test_assert(matches(RULE_SYSPATH, "/sys" GPU1, NULL, &s));
	test_assert(!matches(RULE_SYSPATH, "/sys" GPU1 "/drm/card0", NULL, &s));
}

static void test_match_device(void) {
	struct policy_subject s = {
		.devpath = KBD1 "/input/input2/event1",
		.subsystem = "input",
		.kind = DEVICE_KIND_KEYBOARD,
		.id_path = XHCI_PATH "-usb-0:1.1:1.0",
	};
	test_assert(matches(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "input", &s));
	test_assert(!matches(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "hidraw", &s));
	test_assert(!matches(RULE_DEVICE, XHCI_PATH "-usb-0:1.1", "input", &s));
	test_assert(!matches(RULE_DEVICE, XHCI_PATH "-usb-0:1", "input", &s));
	s.id_path = NULL;
	test_assert(!matches(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "input", &s));
}

static void test_match_port(void) {
	struct policy_subject s = {.devpath = "/devices/x", .subsystem = "input"};
	const char *port = XHCI_PATH "-usb-0:1";
	s.id_path = XHCI_PATH "-usb-0:1.3:1.0";
	test_assert(matches(RULE_PORT, port, NULL, &s));
	s.id_path = XHCI_PATH "-usb-0:1:1.0";
	test_assert(matches(RULE_PORT, port, NULL, &s));
	s.id_path = XHCI_PATH "-usb-0:1";
	test_assert(matches(RULE_PORT, port, NULL, &s));
	s.id_path = XHCI_PATH "-usb-0:1.4.2:1.0";
	test_assert(matches(RULE_PORT, port, NULL, &s));
	s.id_path = XHCI_PATH "-usb-0:10:1.0";
	test_assert(!matches(RULE_PORT, port, NULL, &s));
	s.id_path = XHCI_PATH "-usb-0:2.1:1.0";
	test_assert(!matches(RULE_PORT, port, NULL, &s));
	s.id_path = XHCI_PATH "-usb-0";
	test_assert(!matches(RULE_PORT, port, NULL, &s));
	s.id_path = NULL;
	test_assert(!matches(RULE_PORT, port, NULL, &s));
	/* A PCI device covers what is behind it. */
	s.id_path = XHCI_PATH "-usb-0:2.1:1.0";
	test_assert(matches(RULE_PORT, XHCI_PATH, NULL, &s));
}

static void test_match_id_path(void) {
	struct policy_subject s = {.devpath = "/devices/x", .subsystem = "input"};
	s.id_path = XHCI_PATH "-usb-0:1.1:1.0";
	test_assert(matches(RULE_ID_PATH, XHCI_PATH "-usb-0:1.*", NULL, &s));
	test_assert(matches(RULE_ID_PATH, "*-usb-0:1.1:1.0", NULL, &s));
	test_assert(matches(RULE_ID_PATH, "pci-0000:00:0[7-9].0-*", NULL, &s));
	test_assert(!matches(RULE_ID_PATH, XHCI_PATH "-usb-0:2.*", NULL, &s));
	/* A glob must cover the whole ID_PATH: it is not a prefix. */
	test_assert(!matches(RULE_ID_PATH, XHCI_PATH "-usb-0:1", NULL, &s));
	s.id_path = NULL;
	test_assert(!matches(RULE_ID_PATH, "*", NULL, &s));
}

static void test_match_usb_id(void) {
	struct policy_subject s = {.devpath = "/devices/x", .subsystem = "input"};
	s.usb_id = "0627:0001";
	test_assert(matches(RULE_USB_ID, "0627:0001", NULL, &s));
	s.usb_id = "046d:c52b";
	test_assert(matches(RULE_USB_ID, "046D:C52B", NULL, &s));
	test_assert(!matches(RULE_USB_ID, "046d:c52c", NULL, &s));
	s.usb_id = NULL;
	test_assert(!matches(RULE_USB_ID, "0627:0001", NULL, &s));
}

static void test_match_kind(void) {
	struct policy_subject s = {.devpath = "/devices/x", .subsystem = "input"};
	s.kind = DEVICE_KIND_KEYBOARD;
	test_assert(matches(RULE_KIND, "keyboard", NULL, &s));
	test_assert(matches(RULE_KIND, "input", NULL, &s));
	test_assert(!matches(RULE_KIND, "pointer", NULL, &s));
	test_assert(!matches(RULE_KIND, "sound", NULL, &s));
	s.kind = DEVICE_KIND_TABLET;
	test_assert(matches(RULE_KIND, "tablet", NULL, &s));
	test_assert(!matches(RULE_KIND, "keyboard", NULL, &s));
	s.subsystem = "sound";
	s.kind = DEVICE_KIND_SOUND_CARD;
	test_assert(matches(RULE_KIND, "sound", NULL, &s));
	test_assert(matches(RULE_KIND, "sound-card", NULL, &s));
	test_assert(!matches(RULE_KIND, "sound-pcm", NULL, &s));
	s.subsystem = "hidraw";
	s.kind = DEVICE_KIND_HIDRAW;
	test_assert(matches(RULE_KIND, "hidraw", NULL, &s));
	test_assert(!matches(RULE_KIND, "input", NULL, &s));
	s.subsystem = "drm";
	s.kind = DEVICE_KIND_DRM_RENDER;
	test_assert(matches(RULE_KIND, "drm", NULL, &s));
	test_assert(matches(RULE_KIND, "drm-render", NULL, &s));
	test_assert(!matches(RULE_KIND, "drm-card", NULL, &s));
}

static void test_match_udev_seat(void) {
	struct policy_subject s = {.devpath = "/devices/x", .subsystem = "input"};
	s.udev_seat = "seat1";
	test_assert(matches(RULE_UDEV_SEAT, "seat1", NULL, &s));
	test_assert(!matches(RULE_UDEV_SEAT, "seat2", NULL, &s));
	s.udev_seat = NULL;
	test_assert(!matches(RULE_UDEV_SEAT, "seat1", NULL, &s));
}

static void test_specificity_order(void) {
	unsigned syspath = specificity_of(RULE_SYSPATH, "/devices/a", NULL);
	unsigned device = specificity_of(RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "input");
	unsigned port = specificity_of(RULE_PORT, XHCI_PATH "-usb-0:1.1.1.1.1.1.1:1.0", NULL);
	unsigned id_path = specificity_of(RULE_ID_PATH,
		XHCI_PATH "-usb-0:1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1:1.0*", NULL);
	unsigned usb_id = specificity_of(RULE_USB_ID, "0627:0001", NULL);
	unsigned kind = specificity_of(RULE_KIND, "keyboard", NULL);
	unsigned udev_seat = specificity_of(RULE_UDEV_SEAT, "seat1", NULL);
	test_assert(valid_rule(RULE_UDEV_SEAT, "seat1", NULL, "seat1"));
	/* Every tier beats the next, however long or deep the lesser one is. */
	test_assert(syspath > device);
	test_assert(device > port);
	test_assert(port > id_path);
	test_assert(id_path > usb_id);
	test_assert(usb_id > kind);
	test_assert(kind > udev_seat);

	test_assert(specificity_of(RULE_SYSPATH, GPU1 "/drm/card0", NULL) >
		    specificity_of(RULE_SYSPATH, GPU1, NULL));
	test_assert(specificity_of(RULE_PORT, XHCI_PATH "-usb-0:1.3", NULL) >
		    specificity_of(RULE_PORT, XHCI_PATH "-usb-0:1", NULL));
	test_assert(specificity_of(RULE_PORT, XHCI_PATH "-usb-0:1", NULL) >
		    specificity_of(RULE_PORT, XHCI_PATH, NULL));
	test_assert(specificity_of(RULE_ID_PATH, XHCI_PATH "-usb-0:1.1*", NULL) >
		    specificity_of(RULE_ID_PATH, XHCI_PATH "-usb-0:1*", NULL));
	test_assert(specificity_of(RULE_KIND, "keyboard", NULL) >
		    specificity_of(RULE_KIND, "input", NULL));
	test_assert(specificity_of(RULE_KIND, "sound-card", NULL) >
		    specificity_of(RULE_KIND, "sound", NULL));
	test_assert(specificity_of(RULE_ID_PATH, "a*b", NULL) ==
		    specificity_of(RULE_ID_PATH, "?ab", NULL));
}

static int add_rule(struct rule_set *set, enum rule_kind kind, const char *value,
	const char *subsystem, const char *seat) {
	struct rule rule;
	const char *why;
	if (rule_init(&rule, kind, value, subsystem, seat, &why) == -1) {
		return -1;
	}
	return rule_set_add(set, &rule);
}

static void test_rule_set_best(void) {
	struct rule_set set = {0};
	const struct rule *best, *conflict;
	struct policy_subject s = {
		.devpath = KBD1 "/input/input2/event1",
		.subsystem = "input",
		.kind = DEVICE_KIND_KEYBOARD,
		.id_path = XHCI_PATH "-usb-0:1.1:1.0",
		.usb_id = "0627:0001",
	};
	test_assert(rule_set_best(&set, &s, &conflict) == NULL && conflict == NULL);
	test_assert(add_rule(&set, RULE_KIND, "keyboard", NULL, "seat4") == 0);
	test_assert(add_rule(&set, RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat1") == 0);
	test_assert(add_rule(&set, RULE_PORT, XHCI_PATH "-usb-0:1.1", NULL, "seat2") == 0);
	test_assert(add_rule(&set, RULE_USB_ID, "0627:0001", NULL, "seat3") == 0);

	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat2");
	s.id_path = XHCI_PATH "-usb-0:1.2:1.0";
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat1");
	s.id_path = NULL;
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat3");
	s.usb_id = NULL;
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat4");
	s.kind = DEVICE_KIND_POINTER;
	test_assert(rule_set_best(&set, &s, &conflict) == NULL && conflict == NULL);
	rule_set_finish(&set);
	test_assert(set.rules == NULL && set.n_rules == 0);
}

static void test_rule_set_best_conflict(void) {
	struct rule_set set = {0};
	const struct rule *best, *conflict;
	struct policy_subject s = {
		.devpath = KBD1 "/input/input2/event1",
		.subsystem = "input",
		.kind = DEVICE_KIND_KEYBOARD,
		.id_path = XHCI_PATH "-usb-0:1.1:1.0",
	};
	/* Two globs with as many literal characters, for different seats. */
	test_assert(add_rule(&set, RULE_ID_PATH, XHCI_PATH "-usb-0:1.1:*", NULL, "seat1") == 0);
	test_assert(add_rule(&set, RULE_ID_PATH, "*-0000:00:07.0-usb-0:1.1:1.0", NULL, "seat2") ==
		    0);
	test_assert(set.rules[0].specificity == set.rules[1].specificity);
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict != NULL);
	test_assert(strcmp(best->seat, conflict->seat) != 0);
	test_assert(best->specificity == conflict->specificity);

	/* A third equal rule that agrees with one of them leaves the disagreement standing. */
	test_assert(add_rule(&set, RULE_ID_PATH, "?c?-0000:00:07.0-usb-0:1.1:1.?", NULL, "seat1") ==
		    0);
	test_assert(add_rule(&set, RULE_ID_PATH, "pci-0000:00:07.0-usb-0:?.?:?.0", NULL, "seat1") ==
		    0);
	test_assert(set.rules[2].specificity == set.rules[0].specificity &&
		    set.rules[3].specificity == set.rules[0].specificity);
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict != NULL);
	test_assert(strcmp(best->seat, conflict->seat) != 0);

	/* A more specific rule decides, wherever it stands in the set. */
	test_assert(add_rule(&set, RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat3") == 0);
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat3");
	rule_set_finish(&set);

	test_assert(add_rule(&set, RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat3") == 0);
	test_assert(add_rule(&set, RULE_ID_PATH, XHCI_PATH "-usb-0:1.1:*", NULL, "seat1") == 0);
	test_assert(add_rule(&set, RULE_ID_PATH, "*-0000:00:07.0-usb-0:1.1:1.0", NULL, "seat2") ==
		    0);
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat3");
	rule_set_finish(&set);

	/* Equal rules for the same seat agree. */
	test_assert(add_rule(&set, RULE_ID_PATH, XHCI_PATH "-usb-0:1.1:*", NULL, "seat1") == 0);
	test_assert(add_rule(&set, RULE_ID_PATH, "*-0000:00:07.0-usb-0:1.1:1.0", NULL, "seat1") ==
		    0);
	best = rule_set_best(&set, &s, &conflict);
	test_assert(best != NULL && conflict == NULL);
	test_assert_str(best->seat, "seat1");
	rule_set_finish(&set);
}

static void test_rule_set_remove(void) {
	struct rule_set set = {0};
	struct rule like;
	const char *why;
	test_assert(add_rule(&set, RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat1") == 0);
	test_assert(add_rule(&set, RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "input", "seat2") == 0);
	test_assert(add_rule(&set, RULE_SYSPATH, GPU1, NULL, "seat1") == 0);
	test_assert(add_rule(&set, RULE_PORT, XHCI_PATH "-usb-0:2", NULL, "seat2") == 0);
	test_assert(set.n_rules == 4);

	/* The selector counts, not the seat. */
	test_assert(rule_init(&like, RULE_SYSPATH, "/sys" GPU1, NULL, "seat9", &why) == 0);
	test_assert(rule_same_selector(&like, &set.rules[2]));
	test_assert(rule_set_remove(&set, &like) == 0);
	rule_finish(&like);
	test_assert(set.n_rules == 3);
	test_assert(set.rules[0].kind == RULE_PORT && set.rules[1].kind == RULE_DEVICE &&
		    set.rules[2].kind == RULE_PORT);
	test_assert_str(set.rules[2].value, XHCI_PATH "-usb-0:2");

	/* Same ID_PATH, other subsystem: another selector. */
	test_assert(rule_init(&like, RULE_DEVICE, XHCI_PATH "-usb-0:1.1:1.0", "hidraw", "seat2",
			    &why) == 0);
	test_assert(!rule_same_selector(&like, &set.rules[1]));
	errno = 0;
	test_assert(rule_set_remove(&set, &like) == -1 && errno == ENOENT);
	rule_finish(&like);
	/* Same value, other kind: another selector. */
	test_assert(rule_init(&like, RULE_ID_PATH, XHCI_PATH "-usb-0:1", NULL, "seat1", &why) == 0);
	test_assert(rule_set_remove(&set, &like) == -1 && errno == ENOENT);
	rule_finish(&like);
	test_assert(set.n_rules == 3);

	test_assert(rule_init(&like, RULE_PORT, XHCI_PATH "-usb-0:1", NULL, "seat1", &why) == 0);
	test_assert(rule_set_remove(&set, &like) == 0);
	test_assert(rule_set_remove(&set, &like) == -1);
	rule_finish(&like);
	test_assert(set.n_rules == 2);
	test_assert_str(set.rules[0].subsystem, "input");
	rule_set_finish(&set);
}

/*
 * Runs rule_init on value placed at the very end of a page followed by an inaccessible one,
 * in a child process: validation must not read past the string's terminating NUL.
 */
static bool validates_in_bounds(enum rule_kind kind, const char *value) {
	fflush(NULL);
	pid_t pid = fork();
	if (pid == -1) {
		return false;
	}
	if (pid == 0) {
		long page = sysconf(_SC_PAGESIZE);
		char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED || mprotect(mem + page, (size_t)page, PROT_NONE) == -1) {
			_exit(2);
		}
		size_t len = strlen(value) + 1;
		char *copy = mem + page - len;
		memcpy(copy, value, len);
		struct rule rule;
		const char *why;
		if (rule_init(&rule, kind, copy, NULL, "seat1", &why) == 0) {
			rule_finish(&rule);
		}
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) == -1) {
		return false;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "rule %s \"%s\": validation read out of bounds (status %#x)\n",
			rule_kind_name(kind), value, (unsigned)status);
		return false;
	}
	return true;
}

static void test_rule_init_in_bounds(void) {
	static const char *const globs[] = {"[", "a[", "[a", "[]", "\\", "a\\", "[!", "*"};
	bool all = true;
	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++) {
		all &= validates_in_bounds(RULE_ID_PATH, globs[i]);
	}
	test_assert(all);
	test_assert(validates_in_bounds(RULE_USB_ID, "046d:c52"));
	test_assert(validates_in_bounds(RULE_PORT, "pci-"));
	test_assert(validates_in_bounds(RULE_SYSPATH, "/sys/"));
}

/* ---- the assignment engine on the recorded host ---- */

struct event {
	const char *props;
	size_t len;
};

#define EVENT(s) {s, sizeof(s) - 1}
#define ADD_NODE(devpath, subsystem, major, minor, devname)                                    \
	"ACTION=add\0DEVPATH=" devpath "\0SUBSYSTEM=" subsystem "\0MAJOR=" major "\0MINOR=" minor \
	"\0DEVNAME=" devname "\0"
#define ADD_DRM(devpath, minor, devname)                                                       \
	ADD_NODE(devpath, "drm", "226", minor, devname) "DEVTYPE=drm_minor\0"
#define ADD_PCM(devpath, minor, devname) ADD_NODE(devpath, "sound", "116", minor, devname) \
	"DEVTYPE=pcm\0"
#define ADD_CARD(devpath) "ACTION=add\0DEVPATH=" devpath "\0SUBSYSTEM=sound\0"

/* What the recorded kernel announced of the seat devices, in its order. */
#define EV_RENDER128 EVENT(ADD_DRM(GPU1 "/drm/renderD128", "128", "dri/renderD128"))
#define EV_CARD0 EVENT(ADD_DRM(GPU1 "/drm/card0", "0", "dri/card0"))
#define EV_RENDER129 EVENT(ADD_DRM(GPU2 "/drm/renderD129", "129", "dri/renderD129"))
#define EV_CARD1 EVENT(ADD_DRM(GPU2 "/drm/card1", "1", "dri/card1"))
#define EV_PS2KBD EVENT(ADD_NODE(PS2KBD, "input", "13", "64", "input/event0"))
#define EV_TIMER EVENT(ADD_NODE(TIMER, "sound", "116", "33", "snd/timer"))
#define EV_ALOOP EVENT(ADD_CARD(ALOOP))
#define EV_ALOOP_PCM0P EVENT(ADD_PCM(ALOOP "/pcmC0D0p", "2", "snd/pcmC0D0p"))
#define EV_ALOOP_PCM0C EVENT(ADD_PCM(ALOOP "/pcmC0D0c", "3", "snd/pcmC0D0c"))
#define EV_ALOOP_PCM1P EVENT(ADD_PCM(ALOOP "/pcmC0D1p", "4", "snd/pcmC0D1p"))
#define EV_ALOOP_PCM1C EVENT(ADD_PCM(ALOOP "/pcmC0D1c", "5", "snd/pcmC0D1c"))
#define EV_ALOOP_CONTROL EVENT(ADD_NODE(ALOOP "/controlC0", "sound", "116", "6", "snd/controlC0"))
#define EV_KBD1 EVENT(ADD_NODE(KBD1 "/input/input2/event1", "input", "13", "65", "input/event1"))
#define EV_KBD1_HIDRAW EVENT(ADD_NODE(KBD1 "/hidraw/hidraw0", "hidraw", "246", "0", "hidraw0"))
#define EV_KBD2 EVENT(ADD_NODE(KBD2 "/input/input3/event2", "input", "13", "66", "input/event2"))
#define EV_KBD2_HIDRAW EVENT(ADD_NODE(KBD2 "/hidraw/hidraw1", "hidraw", "246", "1", "hidraw1"))
#define EV_MOUSE1_LEGACY                                                                        \
	EVENT(ADD_NODE(MOUSE1 "/input/input4/mouse0", "input", "13", "32", "input/mouse0"))
#define EV_MOUSE1                                                                               \
	EVENT(ADD_NODE(MOUSE1 "/input/input4/event3", "input", "13", "67", "input/event3"))
#define EV_MOUSE1_HIDRAW EVENT(ADD_NODE(MOUSE1 "/hidraw/hidraw2", "hidraw", "246", "2", "hidraw2"))
#define EV_TABLET2_LEGACY                                                                       \
	EVENT(ADD_NODE(TABLET2 "/input/input5/mouse1", "input", "13", "33", "input/mouse1"))
#define EV_TABLET2                                                                              \
	EVENT(ADD_NODE(TABLET2 "/input/input5/event4", "input", "13", "68", "input/event4"))
#define EV_TABLET2_HIDRAW                                                                       \
	EVENT(ADD_NODE(TABLET2 "/hidraw/hidraw3", "hidraw", "246", "3", "hidraw3"))
#define EV_AUDIO2 EVENT(ADD_CARD(AUDIO2))
#define EV_AUDIO2_PCM EVENT(ADD_PCM(AUDIO2 "/pcmC1D0p", "7", "snd/pcmC1D0p"))
#define EV_AUDIO2_CONTROL EVENT(ADD_NODE(AUDIO2 "/controlC1", "sound", "116", "8", "snd/controlC1"))
#define EV_KBD1_HOTPLUG                                                                         \
	EVENT(ADD_NODE(KBD1_HOTPLUG "/input/input6/event5", "input", "13", "69", "input/event5"))
#define EV_KBD1_HOTPLUG_HIDRAW                                                                  \
	EVENT(ADD_NODE(KBD1_HOTPLUG "/hidraw/hidraw4", "hidraw", "246", "4", "hidraw4"))
#define EV_AUDIO1_HOTPLUG EVENT(ADD_CARD(AUDIO1_HOTPLUG))
#define EV_AUDIO1_HOTPLUG_PCM EVENT(ADD_PCM(AUDIO1_HOTPLUG "/pcmC2D0p", "9", "snd/pcmC2D0p"))
#define EV_AUDIO1_HOTPLUG_CONTROL                                                               \
	EVENT(ADD_NODE(AUDIO1_HOTPLUG "/controlC2", "sound", "116", "10", "snd/controlC2"))

static const struct event recorded[] = {
	EV_RENDER128, EV_CARD0, EV_RENDER129, EV_CARD1, EV_PS2KBD, EV_TIMER, EV_ALOOP,
	EV_ALOOP_PCM0P, EV_ALOOP_PCM0C, EV_ALOOP_PCM1P, EV_ALOOP_PCM1C, EV_ALOOP_CONTROL, EV_KBD1,
	EV_KBD1_HIDRAW, EV_KBD2, EV_KBD2_HIDRAW, EV_MOUSE1_LEGACY, EV_MOUSE1, EV_MOUSE1_HIDRAW,
	EV_TABLET2_LEGACY, EV_TABLET2, EV_TABLET2_HIDRAW, EV_AUDIO2, EV_AUDIO2_PCM,
	EV_AUDIO2_CONTROL, EV_KBD1_HOTPLUG, EV_KBD1_HOTPLUG_HIDRAW, EV_AUDIO1_HOTPLUG,
	EV_AUDIO1_HOTPLUG_PCM, EV_AUDIO1_HOTPLUG_CONTROL,
};

#define N_RECORDED (sizeof(recorded) / sizeof(recorded[0]))

struct expect {
	const char *devpath;
	const char *seat;
};

static const char two_seat_conf[] =
	"; the recorded host: a hub and a GPU per seat\n"
	"[seat seat1]\n"
	"container = desk1\n"
	"match-port = pci-0000:00:07.0-usb-0:1\n"
	"match-syspath = /sys/devices/pci0000:00/0000:00:05.0\n"
	"\n"
	"[seat seat2]\n"
	"container = desk2\n"
	"match-port = pci-0000:00:07.0-usb-0:2\n"
	"match-syspath = /sys/devices/pci0000:00/0000:00:06.0\n";

/* Where the two-seat configuration puts every seat device of the recorded host. */
static const struct expect two_seat_expect[] = {
	{GPU1 "/drm/card0", "seat1"},
	{GPU1 "/drm/renderD128", "seat1"},
	{GPU2 "/drm/card1", "seat2"},
	{GPU2 "/drm/renderD129", "seat2"},
	{KBD1 "/input/input2/event1", "seat1"},
	{KBD1 "/hidraw/hidraw0", "seat1"},
	{MOUSE1 "/input/input4/event3", "seat1"},
	{MOUSE1 "/hidraw/hidraw2", "seat1"},
	{KBD1_HOTPLUG "/input/input6/event5", "seat1"},
	{KBD1_HOTPLUG "/hidraw/hidraw4", "seat1"},
	{AUDIO1_HOTPLUG, "seat1"},
	{AUDIO1_HOTPLUG "/pcmC2D0p", "seat1"},
	{AUDIO1_HOTPLUG "/controlC2", "seat1"},
	{KBD2 "/input/input3/event2", "seat2"},
	{KBD2 "/hidraw/hidraw1", "seat2"},
	{TABLET2 "/input/input5/event4", "seat2"},
	{TABLET2 "/hidraw/hidraw3", "seat2"},
	{AUDIO2, "seat2"},
	{AUDIO2 "/pcmC1D0p", "seat2"},
	{AUDIO2 "/controlC1", "seat2"},
	{PS2KBD, "seat0"},
	{TIMER, "seat0"},
	{ALOOP, "seat0"},
	{ALOOP "/pcmC0D0p", "seat0"},
	{ALOOP "/pcmC0D0c", "seat0"},
	{ALOOP "/pcmC0D1p", "seat0"},
	{ALOOP "/pcmC0D1c", "seat0"},
	{ALOOP "/controlC0", "seat0"},
};

#define N_TWO_SEAT_EXPECT (sizeof(two_seat_expect) / sizeof(two_seat_expect[0]))

struct world {
	struct config config;
	struct state state;
	struct seats seats;
	struct devtable table;
};

/* Writes text to a new file in the test directory and returns its path (free it). */
static char *write_config(const char *text) {
	static int counter;
	char *path;
	if (asprintf(&path, "%s/config-%d.conf", tmp_dir, ++counter) == -1) {
		return NULL;
	}
	FILE *f = fopen(path, "we");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		free(path);
		return NULL;
	}
	return path;
}

/* A device table with the assignment engine, as main.c wires them. */
static int world_init(struct world *w, const char *config_text) {
	memset(w, 0, sizeof(*w));
	config_init(&w->config);
	char *path = write_config(config_text);
	if (path == NULL) {
		return -1;
	}
	int r = config_load(&w->config, path, true);
	free(path);
	if (r == -1) {
		fprintf(stderr, "config refused:\n%s", w->config.errors);
		config_finish(&w->config);
		return -1;
	}
	w->seats.config = &w->config;
	w->seats.state = &w->state;
	devtable_init(&w->table, sysfs_fd, NULL, NULL);
	w->table.seat_of = seats_resolve;
	w->table.seat_data = &w->seats;
	return 0;
}

static void world_finish(struct world *w) {
	devtable_finish(&w->table);
	state_finish(&w->state);
	config_finish(&w->config);
}

static bool apply(struct world *w, const struct event *e) {
	char buf[UEVENT_MAX_SIZE + 1];
	if (e->len > UEVENT_MAX_SIZE) {
		return false;
	}
	memcpy(buf, e->props, e->len);
	buf[e->len] = '\0';
	struct uevent ev;
	const char *why;
	if (uevent_parse_properties(&ev, buf, e->len, &why) == -1) {
		fprintf(stderr, "event %s refused: %s\n", e->props + strlen("ACTION=add") + 1, why);
		return false;
	}
	return devtable_apply(&w->table, &ev) != -1;
}

static bool apply_all(struct world *w, const struct event *events, size_t n) {
	for (size_t i = 0; i < n; i++) {
		if (!apply(w, &events[i])) {
			return false;
		}
	}
	return true;
}

static const char *seat_of(struct world *w, const char *devpath) {
	const struct device *dev = devtable_find(&w->table, devpath);
	return dev != NULL ? dev->seat : "(not in the table)";
}

/* Whether every device is on its expected seat; says which are not. */
static bool all_seated(struct world *w, const struct expect *expect, size_t n) {
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const char *seat = seat_of(w, expect[i].devpath);
		if (strcmp(seat, expect[i].seat) != 0) {
			fprintf(stderr, "%s is on %s, expected %s\n", expect[i].devpath, seat,
				expect[i].seat);
			ok = false;
		}
	}
	return ok;
}

static void test_two_seats(void) {
	struct world w;
	test_assert(world_init(&w, two_seat_conf) == 0);
	test_assert(w.config.n_seats == 2);
	test_assert(apply_all(&w, recorded, N_RECORDED));
	test_assert(all_seated(&w, two_seat_expect, N_TWO_SEAT_EXPECT));
	/* The legacy mouse nodes are not seat devices. */
	test_assert(devtable_find(&w.table, MOUSE1 "/input/input4/mouse0") == NULL);
	test_assert(w.table.devices.n_entries == N_TWO_SEAT_EXPECT);
	/* The kinds the rules saw are the ones classification gives. */
	test_assert(devtable_find(&w.table, KBD1 "/input/input2/event1")->kind ==
		    DEVICE_KIND_KEYBOARD);
	test_assert(devtable_find(&w.table, MOUSE1 "/input/input4/event3")->kind ==
		    DEVICE_KIND_POINTER);
	/* Nothing moves when the policy is asked again. */
	test_assert(devtable_reseat(&w.table) == 0);
	world_finish(&w);
}

/* Coldplug order is not hotplug order: devices land on the same seat either way. */
static void test_two_seats_reverse_order(void) {
	struct world w;
	test_assert(world_init(&w, two_seat_conf) == 0);
	for (size_t i = N_RECORDED; i > 0; i--) {
		test_assert(apply(&w, &recorded[i - 1]));
	}
	test_assert(all_seated(&w, two_seat_expect, N_TWO_SEAT_EXPECT));
	world_finish(&w);
}

static void test_sound_nodes_follow_card_syspath(void) {
	struct world w;
	test_assert(world_init(&w, "[seat seat1]\nmatch-syspath = /sys" ALOOP "\n") == 0);
	test_assert(apply_all(&w, recorded, N_RECORDED));
	static const struct expect expect[] = {
		{ALOOP, "seat1"},
		{ALOOP "/controlC0", "seat1"},
		{ALOOP "/pcmC0D0p", "seat1"},
		{ALOOP "/pcmC0D1c", "seat1"},
		{AUDIO2, "seat0"},
		{AUDIO2 "/controlC1", "seat0"},
		{AUDIO2 "/pcmC1D0p", "seat0"},
		{TIMER, "seat0"},
	};
	test_assert(all_seated(&w, expect, sizeof(expect) / sizeof(expect[0])));
	world_finish(&w);
}

/* A rule that selects the card alone (its kind) takes its nodes along. */
static void test_sound_nodes_follow_card_kind(void) {
	struct world w;
	test_assert(world_init(&w, "[seat seat2]\nmatch-kind = sound-card\n") == 0);
	static const struct event nodes_first[] = {
		EV_AUDIO2_PCM, EV_AUDIO2_CONTROL, EV_AUDIO2, EV_ALOOP, EV_ALOOP_CONTROL, EV_TIMER,
		EV_KBD1,
	};
	test_assert(apply_all(&w, nodes_first, sizeof(nodes_first) / sizeof(nodes_first[0])));
	static const struct expect expect[] = {
		{AUDIO2, "seat2"},
		{AUDIO2 "/controlC1", "seat2"},
		{AUDIO2 "/pcmC1D0p", "seat2"},
		{ALOOP, "seat2"},
		{ALOOP "/controlC0", "seat2"},
		{TIMER, "seat0"},
		{KBD1 "/input/input2/event1", "seat0"},
	};
	test_assert(all_seated(&w, expect, sizeof(expect) / sizeof(expect[0])));
	world_finish(&w);
}

/* The nodes of a card the host's udev put on a seat go with it, as IMPORT{parent} does. */
static void test_sound_nodes_follow_card_udev_seat(void) {
	struct world w;
	test_assert(world_init(&w, "") == 0);
	static const struct event events[] = {
		EV_AUDIO2_PCM,
		EVENT("ACTION=add\0DEVPATH=" AUDIO2 "\0SUBSYSTEM=sound\0ID_SEAT=seat4\0"),
		EV_AUDIO2_CONTROL,
		EV_ALOOP,
		EV_ALOOP_CONTROL,
	};
	test_assert(apply(&w, &events[0]));
	test_assert_str(seat_of(&w, AUDIO2 "/pcmC1D0p"), "seat0");
	test_assert(apply_all(&w, events + 1, sizeof(events) / sizeof(events[0]) - 1));
	static const struct expect expect[] = {
		{AUDIO2, "seat4"},
		{AUDIO2 "/controlC1", "seat4"},
		{AUDIO2 "/pcmC1D0p", "seat4"},
		{ALOOP, "seat0"},
		{ALOOP "/controlC0", "seat0"},
	};
	test_assert(all_seated(&w, expect, sizeof(expect) / sizeof(expect[0])));
	world_finish(&w);
}

static void test_render_node_follows_card(void) {
	struct world w;
	test_assert(world_init(&w, "[seat seat1]\nmatch-syspath = /sys" GPU1 "/drm/card0\n") == 0);
	/* The kernel adds renderD128 before card0. */
	test_assert(apply(&w, &(struct event)EV_RENDER128));
	test_assert_str(seat_of(&w, GPU1 "/drm/renderD128"), "seat0");
	test_assert(apply(&w, &(struct event)EV_CARD0));
	test_assert_str(seat_of(&w, GPU1 "/drm/card0"), "seat1");
	test_assert_str(seat_of(&w, GPU1 "/drm/renderD128"), "seat1");
	test_assert(apply(&w, &(struct event)EV_RENDER129));
	test_assert(apply(&w, &(struct event)EV_CARD1));
	test_assert_str(seat_of(&w, GPU2 "/drm/card1"), "seat0");
	test_assert_str(seat_of(&w, GPU2 "/drm/renderD129"), "seat0");
	world_finish(&w);

	/* Card first, then render node: the same. */
	test_assert(world_init(&w, "[seat seat1]\nmatch-syspath = /sys" GPU1 "/drm/card0\n") == 0);
	test_assert(apply(&w, &(struct event)EV_CARD0));
	test_assert(apply(&w, &(struct event)EV_RENDER128));
	test_assert_str(seat_of(&w, GPU1 "/drm/renderD128"), "seat1");
	world_finish(&w);

	/* And the card's ID_SEAT from the host's udev. */
	test_assert(world_init(&w, "") == 0);
	test_assert(apply(&w, &(struct event)EV_RENDER128));
	test_assert(apply(&w, &(struct event)EVENT(ADD_DRM(GPU1 "/drm/card0", "0",
							  "dri/card0") "ID_SEAT=seat4\0")));
	test_assert_str(seat_of(&w, GPU1 "/drm/card0"), "seat4");
	test_assert_str(seat_of(&w, GPU1 "/drm/renderD128"), "seat4");
	world_finish(&w);
}

static int add_state_rule(struct state *state, enum rule_kind kind, const char *value,
	const char *subsystem, const char *seat) {
	return add_rule(&state->rules, kind, value, subsystem, seat);
}

static void test_runtime_rule_beats_config(void) {
	struct world w;
	test_assert(world_init(&w, two_seat_conf) == 0);
	test_assert(apply_all(&w, recorded, N_RECORDED));

	/* seat-assign assign of the keyboard's port: it and its hidraw move, nothing else. */
	test_assert(add_state_rule(&w.state, RULE_PORT, XHCI_PATH "-usb-0:1.1", NULL, "seat2") ==
		    0);
	test_assert(devtable_reseat(&w.table) == 2);
	test_assert_str(seat_of(&w, KBD1 "/input/input2/event1"), "seat2");
	test_assert_str(seat_of(&w, KBD1 "/hidraw/hidraw0"), "seat2");
	test_assert_str(seat_of(&w, MOUSE1 "/input/input4/event3"), "seat1");

	/* A runtime rule wins even over a more specific configured one. */
	test_assert(add_state_rule(&w.state, RULE_PORT, XHCI_PATH, NULL, "seat3") == 0);
	test_assert(specificity_of(RULE_PORT, XHCI_PATH, NULL) <
		    specificity_of(RULE_PORT, XHCI_PATH "-usb-0:1", NULL));
	test_assert(devtable_reseat(&w.table) == 14);
	test_assert_str(seat_of(&w, KBD1 "/input/input2/event1"), "seat2");
	test_assert_str(seat_of(&w, MOUSE1 "/input/input4/event3"), "seat3");
	test_assert_str(seat_of(&w, AUDIO2 "/controlC1"), "seat3");
	test_assert_str(seat_of(&w, GPU1 "/drm/card0"), "seat1");

	/* A runtime device rule for one node. */
	test_assert(add_state_rule(&w.state, RULE_DEVICE, "pci-0000:00:06.0", "drm", "seat1") == 0);
	test_assert(devtable_reseat(&w.table) == 2);
	test_assert_str(seat_of(&w, GPU2 "/drm/card1"), "seat1");
	test_assert_str(seat_of(&w, GPU2 "/drm/renderD129"), "seat1");

	/* Undone, the configuration decides again. */
	rule_set_finish(&w.state.rules);
	test_assert(devtable_reseat(&w.table) == 18);
	test_assert(all_seated(&w, two_seat_expect, N_TWO_SEAT_EXPECT));
	world_finish(&w);
}

#define WITH_SEAT(ev_props) EVENT(ev_props "ID_SEAT=seat7\0")
#define PS2KBD_PROPS ADD_NODE(PS2KBD, "input", "13", "64", "input/event0")
#define KBD1_PROPS ADD_NODE(KBD1 "/input/input2/event1", "input", "13", "65", "input/event1")
#define KBD2_HIDRAW_PROPS ADD_NODE(KBD2 "/hidraw/hidraw1", "hidraw", "246", "1", "hidraw1")

static void test_udev_seat_fallback(void) {
	struct world w;
	test_assert(world_init(&w, two_seat_conf) == 0);
	static const struct event events[] = {
		WITH_SEAT(PS2KBD_PROPS),
		WITH_SEAT(KBD1_PROPS),
		EVENT(ADD_NODE(TIMER, "sound", "116", "33", "snd/timer") "ID_SEAT=Seat7\0"),
		EVENT(KBD2_HIDRAW_PROPS "ID_SEAT=\0"),
	};
	test_assert(apply_all(&w, events, sizeof(events) / sizeof(events[0])));
	/* No rule: the host's ID_SEAT. */
	test_assert_str(seat_of(&w, PS2KBD), "seat7");
	/* A rule beats it. */
	test_assert_str(seat_of(&w, KBD1 "/input/input2/event1"), "seat1");
	/* Not a seat name: seat0. */
	test_assert_str(seat_of(&w, TIMER), "seat0");
	test_assert_str(seat_of(&w, KBD2 "/hidraw/hidraw1"), "seat2");
	world_finish(&w);

	/* A match-udev-seat rule maps the host's seat to one of ours. */
	test_assert(world_init(&w, "[seat seat3]\nmatch-udev-seat = seat7\n") == 0);
	test_assert(apply_all(&w, events, 2));
	test_assert_str(seat_of(&w, PS2KBD), "seat3");
	test_assert_str(seat_of(&w, KBD1 "/input/input2/event1"), "seat3");
	world_finish(&w);
}

static void test_equal_rules_disagree(void) {
	struct world w;
	/* Two globs of 27 literal characters each, for different seats: both match event1. */
	test_assert(world_init(&w,
			    "[seat seat1]\n"
			    "match-id-path = pci-0000:00:07.0-usb-0:1.1:*\n"
			    "[seat seat2]\n"
			    "match-id-path = *-0000:00:07.0-usb-0:1.1:1.0\n") == 0);
	test_assert(w.config.rules.n_rules == 2);
	test_assert(w.config.rules.rules[0].specificity == w.config.rules.rules[1].specificity);
	static const struct event events[] = {
		EV_KBD1,
		EV_KBD1_HIDRAW,
		EV_MOUSE1,
		WITH_SEAT(KBD1_PROPS),
	};
	test_assert(apply_all(&w, events, 3));
	test_assert_str(seat_of(&w, KBD1 "/input/input2/event1"), "seat0");
	test_assert_str(seat_of(&w, KBD1 "/hidraw/hidraw0"), "seat0");
	test_assert_str(seat_of(&w, MOUSE1 "/input/input4/event3"), "seat0");
	/* With an ID_SEAT from the host, that one. */
	test_assert(apply(&w, &events[3]));
	test_assert_str(seat_of(&w, KBD1 "/input/input2/event1"), "seat7");
	world_finish(&w);
}

struct seat_list {
	char names[256];
	enum seat_origin origins[16];
	size_t n;
};

static void collect_seat(void *data, const char *name, enum seat_origin origin) {
	struct seat_list *list = data;
	size_t len = strlen(list->names);
	snprintf(list->names + len, sizeof(list->names) - len, "%s%s", len ? " " : "", name);
	if (list->n < 16) {
		list->origins[list->n] = origin;
	}
	list->n++;
}

static void test_seats_list(void) {
	struct world w;
	test_assert(world_init(&w, two_seat_conf) == 0);
	test_assert(state_add_seat(&w.state, "seat9") == 0);
	test_assert(state_add_seat(&w.state, "seat1") == 0);
	static const struct event events[] = {
		WITH_SEAT(PS2KBD_PROPS),
		EV_KBD1,
		EV_KBD2,
	};
	test_assert(apply_all(&w, events, sizeof(events) / sizeof(events[0])));

	enum seat_origin origin;
	test_assert(seats_find(&w.seats, &w.table, "seat0", &origin) && origin == SEAT_BUILTIN);
	test_assert(seats_find(&w.seats, &w.table, "seat1", &origin) && origin == SEAT_CONFIG);
	test_assert(seats_find(&w.seats, &w.table, "seat9", &origin) && origin == SEAT_RUNTIME);
	test_assert(seats_find(&w.seats, &w.table, "seat7", &origin) && origin == SEAT_UDEV);
	test_assert(!seats_find(&w.seats, &w.table, "seat8", &origin));

	struct seat_list list = {0};
	seats_for_each(&w.seats, &w.table, collect_seat, &list);
	test_assert_str(list.names, "seat0 seat1 seat2 seat9 seat7");
	test_assert(list.origins[0] == SEAT_BUILTIN && list.origins[1] == SEAT_CONFIG &&
		    list.origins[3] == SEAT_RUNTIME && list.origins[4] == SEAT_UDEV);

	/* Containers: the configuration's, unless a runtime attach or detach says otherwise. */
	test_assert_str(seats_container(&w.seats, "seat1"), "desk1");
	test_assert(seats_container(&w.seats, "seat9") == NULL);
	test_assert(state_set_attachment(&w.state, "seat1", NULL, 0, 0) == 0);
	test_assert(seats_container(&w.seats, "seat1") == NULL);
	test_assert(!seats_has_container(&w.seats, "seat1", "desk1"));
	const char *two[] = {"desk9", "desk8"};
	test_assert(state_set_attachment(&w.state, "seat2", two, 1, 0) == 0);
	test_assert_str(seats_container(&w.seats, "seat2"), "desk9");
	/* Several: the active one gets the devices, every one is the seat's. */
	test_assert(state_set_attachment(&w.state, "seat2", two, 2, 1) == 0);
	test_assert_str(seats_container(&w.seats, "seat2"), "desk8");
	test_assert(seats_has_container(&w.seats, "seat2", "desk9"));
	test_assert(!seats_has_container(&w.seats, "seat2", "desk1"));
	size_t n, active;
	const char *const *names = seats_containers(&w.seats, "seat2", &n, &active);
	test_assert(n == 2 && active == 1 && strcmp(names[0], "desk9") == 0);
	test_assert(state_set_attachment(&w.state, "seat2", two, 2, 2) == -1 && errno == EINVAL);
	state_clear_attachment(&w.state, "seat1");
	test_assert_str(seats_container(&w.seats, "seat1"), "desk1");
	names = seats_containers(&w.seats, "seat1", &n, &active);
	test_assert(n == 1 && active == 0 && strcmp(names[0], "desk1") == 0);
	test_assert_str(seat_origin_name(SEAT_RUNTIME), "runtime");
	world_finish(&w);
}

int main(void) {
	tmp_dir = fixture_scratch_dir();
	sysfs_fd = sysfs_open(fixture_sysfs_root());
	if (sysfs_fd == -1) {
		perror("sysfs_open");
		return EXIT_FAILURE;
	}

	test_run(test_seat_names);
	test_run(test_seat_name_bare_seat);
	test_run(test_container_names);
	test_run(test_rule_kind_names);
	test_run(test_rule_init_seat);
	test_run(test_rule_init_syspath);
	test_run(test_rule_init_device);
	test_run(test_rule_init_port);
	test_run(test_rule_init_id_path);
	test_run(test_rule_init_usb_id);
	test_run(test_rule_init_kind);
	test_run(test_rule_init_udev_seat);
	test_run(test_rule_init_in_bounds);
	test_run(test_match_syspath);
	test_run(test_match_device);
	test_run(test_match_port);
	test_run(test_match_id_path);
	test_run(test_match_usb_id);
	test_run(test_match_kind);
	test_run(test_match_udev_seat);
	test_run(test_specificity_order);
	test_run(test_rule_set_best);
	test_run(test_rule_set_best_conflict);
	test_run(test_rule_set_remove);
	test_run(test_two_seats);
	test_run(test_two_seats_reverse_order);
	test_run(test_sound_nodes_follow_card_syspath);
	test_run(test_sound_nodes_follow_card_kind);
	test_run(test_sound_nodes_follow_card_udev_seat);
	test_run(test_render_node_follows_card);
	test_run(test_runtime_rule_beats_config);
	test_run(test_udev_seat_fallback);
	test_run(test_equal_rules_disagree);
	test_run(test_seats_list);

	close(sysfs_fd);
	return test_main_end();
}
