#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "test.h"
#include "uevent.h"

TEST_GLOBALS;

static struct fixture_record *records;
static size_t n_records;

/* Every event the recorded kernel emitted parses, and its header agrees with its fields. */
static void test_parses_whole_recording(void) {
	test_assert(n_records > 200);
	for (size_t i = 0; i < n_records; i++) {
		char buf[UEVENT_MAX_SIZE + 1];
		memcpy(buf, records[i].data, records[i].len);
		struct uevent ev;
		const char *why = NULL;
		if (uevent_parse_kernel(&ev, buf, records[i].len, &why) != 0) {
			fprintf(stderr, "record %zu (%s): %s\n", i, records[i].data, why);
			test_assert(false);
		}
		test_assert(ev.seqnum != 0);
		test_assert(strncmp(records[i].data, uevent_action_name(ev.action),
				    strlen(uevent_action_name(ev.action))) == 0);
	}
}

static const struct fixture_record *find(const char *header) {
	for (size_t i = 0; i < n_records; i++) {
		if (strcmp(records[i].data, header) == 0) {
			return &records[i];
		}
	}
	return NULL;
}

static void test_fields_of_keyboard_event_node(void) {
	const struct fixture_record *r = find("add@/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.1/"
					      "1-1.1:1.0/0003:0627:0001.0001/input/input2/event1");
	test_assert(r != NULL);
	char buf[UEVENT_MAX_SIZE + 1];
	memcpy(buf, r->data, r->len);
	struct uevent ev;
	const char *why;
	test_assert(uevent_parse_kernel(&ev, buf, r->len, &why) == 0);
	test_assert(ev.action == UEVENT_ACTION_ADD);
	test_assert_str(ev.subsystem, "input");
	test_assert_str(ev.devname, "input/event1");
	test_assert(ev.has_devnum && ev.major == 13 && ev.minor == 65);
	test_assert(ev.devtype == NULL);
	test_assert(uevent_devpath_is_valid(ev.devpath));
}

/* Formatting without SEQNUM and parsing again gives the same event: what injection sends. */
static void test_format_round_trip(void) {
	for (size_t i = 0; i < n_records; i++) {
		char buf[UEVENT_MAX_SIZE + 1], out[UEVENT_MAX_SIZE + 1];
		memcpy(buf, records[i].data, records[i].len);
		struct uevent ev, again;
		const char *why;
		test_assert(uevent_parse_kernel(&ev, buf, records[i].len, &why) == 0);
		int n = uevent_format_kernel(&ev, false, out, sizeof(out));
		test_assert(n > 0);
		test_assert(uevent_parse_kernel(&again, out, (size_t)n, &why) == 0);
		test_assert(again.seqnum == 0);
		test_assert(again.n_properties == ev.n_properties - 1);
		test_assert_str(again.devpath, ev.devpath);
		test_assert(again.major == ev.major && again.minor == ev.minor);
	}
}

static void test_format_too_small(void) {
	char buf[] = "add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SUBSYSTEM=input";
	struct uevent ev;
	const char *why;
	test_assert(uevent_parse_kernel(&ev, buf, sizeof(buf) - 1, &why) == 0);
	char out[16];
	errno = 0;
	test_assert(uevent_format_kernel(&ev, true, out, sizeof(out)) == -1 && errno == ENOBUFS);
}

static int parse_literal(const char *msg, size_t len, const char **why) {
	char buf[UEVENT_MAX_SIZE + 2];
	memcpy(buf, msg, len);
	struct uevent ev;
	return uevent_parse_kernel(&ev, buf, len, why);
}

#define REJECTS(literal, reason)                                                              \
	do {                                                                                   \
		const char *why_ = NULL;                                                       \
		test_assert(parse_literal(literal, sizeof(literal) - 1, &why_) == -1);         \
		test_assert_str(why_, reason);                                                 \
	} while (0)

#define EV "add@/devices/v/input/input9/event9\0ACTION=add\0DEVPATH=/devices/v/input/input9/event9\0"

static void test_rejects_hostile_messages(void) {
	REJECTS("", "empty message");
	REJECTS("garbage", "no ACTION@DEVPATH header");
	REJECTS("add@/devices/x", "header without properties");
	REJECTS("no header\0ACTION=add", "no ACTION@DEVPATH header");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=13\0MINOR=9\0DEVNAME=../../etc/shadow",
		"DEVNAME is not a clean path below /dev");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=13\0MINOR=9\0DEVNAME=/dev/../etc",
		"DEVNAME is not a clean path below /dev");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=4096\0MINOR=9", "invalid MAJOR/MINOR");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=13\0MINOR=1048576", "invalid MAJOR/MINOR");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=18446744073709551629\0MINOR=1", "invalid MAJOR/MINOR");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=+13\0MINOR=1", "invalid MAJOR/MINOR");
	REJECTS(EV "SUBSYSTEM=input\0MAJOR=13", "invalid MAJOR/MINOR");
	REJECTS(EV "SUBSYSTEM=input\0SEQNUM=99999999999999999999999", "invalid SEQNUM");
	REJECTS(EV "SUBSYSTEM=../input", "invalid SUBSYSTEM");
	REJECTS(EV "SUBSYSTEM=input\0SUBSYSTEM=drm", "duplicate property");
	REJECTS(EV "SUBSYSTEM=input\0=x", "property without a valid KEY=");
	REJECTS(EV "SUBSYSTEM=input\0NOEQUALS", "property without a valid KEY=");
	REJECTS(EV "SUBSYSTEM=input\0\0MAJOR=1", "empty property");
	REJECTS(EV "ACTION=remove", "duplicate property");
	REJECTS("add@/devices/a/../b\0ACTION=add\0DEVPATH=/devices/a/../b\0SUBSYSTEM=input",
		"DEVPATH is not a clean kobject path");
	REJECTS("add@/devices//b\0ACTION=add\0DEVPATH=/devices//b\0SUBSYSTEM=input",
		"DEVPATH is not a clean kobject path");
	REJECTS("add@/devices/b\0ACTION=add\0DEVPATH=/devices/c\0SUBSYSTEM=input",
		"header does not match ACTION and DEVPATH");
	REJECTS("remove@/devices/b\0ACTION=add\0DEVPATH=/devices/b\0SUBSYSTEM=input",
		"header does not match ACTION and DEVPATH");
	REJECTS("boom@/devices/b\0ACTION=boom\0DEVPATH=/devices/b\0SUBSYSTEM=input",
		"unknown ACTION");
	REJECTS("add@/devices/b\0DEVPATH=/devices/b\0SUBSYSTEM=input", "no ACTION");
	REJECTS("add@/devices/b\0ACTION=add\0SUBSYSTEM=input", "no DEVPATH");
	REJECTS("add@/devices/b\0ACTION=add\0DEVPATH=/devices/b", "no SUBSYSTEM");
	REJECTS("move@/devices/b\0ACTION=move\0DEVPATH=/devices/b\0SUBSYSTEM=input",
		"move without DEVPATH_OLD");
	REJECTS("add@/devices/b\0ACTION=add\0DEVPATH=/devices/b\0SUBSYSTEM=in\x01put",
		"invalid SUBSYSTEM");
}

static void test_rejects_oversized_and_too_many(void) {
	static char big[UEVENT_MAX_SIZE + 2];
	memset(big, 'A', sizeof(big));
	const char *why;
	test_assert(parse_literal(big, UEVENT_MAX_SIZE + 1, &why) == -1);
	test_assert_str(why, "oversized message");

	char many[UEVENT_MAX_SIZE];
	size_t off = (size_t)sprintf(many, "add@/devices/b") + 1;
	off += (size_t)sprintf(many + off, "ACTION=add") + 1;
	off += (size_t)sprintf(many + off, "DEVPATH=/devices/b") + 1;
	off += (size_t)sprintf(many + off, "SUBSYSTEM=input") + 1;
	for (int i = 0; i < UEVENT_MAX_PROPERTIES; i++) {
		off += (size_t)sprintf(many + off, "K%d=v", i) + 1;
	}
	test_assert(parse_literal(many, off, &why) == -1);
	test_assert_str(why, "too many properties");
}

/* Kernel paths outside /devices parse (they are real events) but are not device paths. */
static void test_devpath_validity(void) {
	test_assert(uevent_devpath_is_valid("/devices/platform/i8042/serio0/input/input0/event0"));
	test_assert(!uevent_devpath_is_valid("/card0"));
	test_assert(!uevent_devpath_is_valid("/module/evdev"));
	test_assert(!uevent_devpath_is_valid("/devices/"));
	test_assert(!uevent_devpath_is_valid("/devices/a/./b"));
	test_assert(!uevent_devpath_is_valid("/devices/a/"));
	test_assert(!uevent_devpath_is_valid("/devices/a\nb"));
}

int main(void) {
	n_records = fixture_load_uevents(&records);
	test_run(test_parses_whole_recording);
	test_run(test_fields_of_keyboard_event_node);
	test_run(test_format_round_trip);
	test_run(test_format_too_small);
	test_run(test_rejects_hostile_messages);
	test_run(test_rejects_oversized_and_too_many);
	test_run(test_devpath_validity);
	fixture_records_free(records, n_records);
	return test_main_end();
}
