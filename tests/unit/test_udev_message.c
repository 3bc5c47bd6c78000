#include <endian.h>
#include <errno.h>
#include <stdint.h>

#include "test.h"
#include "udev_message.h"

TEST_GLOBALS;

#define OFF_MAGIC 8
#define OFF_HEADER_SIZE 12
#define OFF_PROPERTIES_OFF 16
#define OFF_PROPERTIES_LEN 20
#define OFF_SUBSYSTEM_HASH 24
#define OFF_DEVTYPE_HASH 28
#define OFF_TAG_BLOOM_HI 32
#define OFF_TAG_BLOOM_LO 36

/*
 * MurmurHash2 and the tag bloom of these strings, as libudev 252 computes them: read from the
 * socket filters its monitors install (SO_GET_FILTER), as test_udev_message_libudev.c does.
 * Little-endian values: MurmurHash2 reads native-endian words.
 */
static const struct libudev_value {
	const char *s;
	uint32_t hash;
	uint64_t bloom;
} libudev_values[] = {
	{"", 0x00000000, UINT64_C(0x0000000000000001)},
	{"a", 0x92685f5e, UINT64_C(0x2000000044000020)},
	{"ab", 0x1aa14063, UINT64_C(0x0000010800100002)},
	{"abc", 0x13577c9b, UINT64_C(0x0084000008200000)},
	{"abcd", 0x26873021, UINT64_C(0x0008000200000001)},
	{"input", 0xc1a28470, UINT64_C(0x0001010000020000)},
	{"drm", 0x16664179, UINT64_C(0x0200001002000020)},
	{"drm_minor", 0x1ca6541e, UINT64_C(0x0000022040010000)},
	{"sound", 0xd196ab6e, UINT64_C(0x0000642000000000)},
	{"hidraw", 0xc2caf397, UINT64_C(0x0004800000804000)},
	{"seat", 0x435b3e40, UINT64_C(0x0208000000400001)},
	{"seat1", 0x4259d170, UINT64_C(0x0001000020400020)},
	{"uaccess", 0xe88ed0cc, UINT64_C(0x0000200800001008)},
	{"usb_device", 0x27f8f50c, UINT64_C(0x4000000000109000)},
	{"master-of-seat", 0xd5d23c68, UINT64_C(0x0012010800000000)},
	{"\xc3\xa9t\xc3\xa9", 0xbcbed0fe, UINT64_C(0x4000a00000000008)},
};

static const struct libudev_value *libudev(const char *s) {
	const struct libudev_value *v = libudev_values;
	while (strcmp(v->s, s) != 0) {
		v++;
	}
	return v;
}

static uint32_t get_u32(const char *msg, size_t off) {
	uint32_t v;
	memcpy(&v, msg + off, sizeof(v));
	return v;
}

static void set_u32(char *msg, size_t off, uint32_t v) {
	memcpy(msg + off, &v, sizeof(v));
}

static void test_murmur_hash2_matches_libudev(void) {
	for (size_t i = 0; i < sizeof(libudev_values) / sizeof(libudev_values[0]); i++) {
		const char *s = libudev_values[i].s;
		test_assert(udev_murmur_hash2(s, strlen(s), 0) == libudev_values[i].hash);
		test_assert(udev_tag_bloom(s) == libudev_values[i].bloom);
	}
}

/*
 * SMHasher's verification of the reference MurmurHash2: keys {}, {0}, {0, 1}, ... {0..254} with
 * seed 256 - length, the results stored little-endian and hashed with seed 0.
 */
static void test_murmur_hash2_smhasher_verification(void) {
	unsigned char key[256], hashes[256 * 4];
	for (unsigned i = 0; i < 256; i++) {
		key[i] = (unsigned char)i;
		uint32_t h = htole32(udev_murmur_hash2(key, i, 256 - i));
		memcpy(hashes + i * 4, &h, 4);
	}
	test_assert(udev_murmur_hash2(hashes, sizeof(hashes), 0) == 0x27864c1e);
}

static void test_round_trip(void) {
	char props[] = "ACTION=change\0DEVPATH=/devices/pci0000:00/0000:00:02.0/drm/card0\0"
		       "SUBSYSTEM=drm\0DEVTYPE=drm_minor\0SEQNUM=5001\0DEVNAME=/dev/dri/card0\0"
		       "MAJOR=226\0MINOR=0\0ID_SEAT=seat1\0TAGS=:seat:uaccess:\0"
		       "CURRENT_TAGS=seat1\0HOTPLUG=1";
	struct uevent ev;
	const char *why;
	test_assert(uevent_parse_properties(&ev, props, sizeof(props) - 1, &why) == 0);
	char msg[1024];
	int len = udev_message_encode(&ev, msg, sizeof(msg));
	test_assert(len == UDEV_MESSAGE_HEADER_SIZE + (int)sizeof(props));

	test_assert(memcmp(msg, "libudev", 8) == 0);
	test_assert(get_u32(msg, OFF_MAGIC) == htobe32(0xfeedcafe));
	test_assert(get_u32(msg, OFF_HEADER_SIZE) == 40);
	test_assert(get_u32(msg, OFF_PROPERTIES_OFF) == 40);
	test_assert(get_u32(msg, OFF_PROPERTIES_LEN) == sizeof(props));
	test_assert(get_u32(msg, OFF_SUBSYSTEM_HASH) == htobe32(libudev("drm")->hash));
	test_assert(get_u32(msg, OFF_DEVTYPE_HASH) == htobe32(libudev("drm_minor")->hash));
	/* libudev takes CURRENT_TAGS as tags too, and needs no colons around them. */
	uint64_t bloom =
		libudev("seat")->bloom | libudev("uaccess")->bloom | libudev("seat1")->bloom;
	test_assert(get_u32(msg, OFF_TAG_BLOOM_HI) == htobe32((uint32_t)(bloom >> 32)));
	test_assert(get_u32(msg, OFF_TAG_BLOOM_LO) == htobe32((uint32_t)bloom));

	struct uevent back;
	char buf[1025];
	memcpy(buf, msg, (size_t)len);
	test_assert(udev_message_parse(&back, buf, (size_t)len, &why) == 0);
	test_assert(back.action == UEVENT_ACTION_CHANGE);
	test_assert_str(back.devpath, "/devices/pci0000:00/0000:00:02.0/drm/card0");
	test_assert_str(back.subsystem, "drm");
	test_assert_str(back.devtype, "drm_minor");
	test_assert_str(back.devname, "dri/card0");
	test_assert(back.has_devnum && back.major == 226 && back.minor == 0);
	test_assert(back.seqnum == 5001);
	test_assert(back.n_properties == ev.n_properties);
	for (size_t i = 0; i < ev.n_properties; i++) {
		test_assert_str(back.properties[i].key, ev.properties[i].key);
		test_assert_str(back.properties[i].value, ev.properties[i].value);
	}
}

static void test_encode_without_devtype_or_tags(void) {
	char props[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input8/event8\0"
		       "SUBSYSTEM=input\0SEQNUM=1\0TAGS=:\0CURRENT_TAGS=";
	struct uevent ev;
	const char *why;
	test_assert(uevent_parse_properties(&ev, props, sizeof(props) - 1, &why) == 0);
	char msg[256];
	test_assert(udev_message_encode(&ev, msg, sizeof(msg)) > 0);
	test_assert(get_u32(msg, OFF_SUBSYSTEM_HASH) == htobe32(libudev("input")->hash));
	test_assert(get_u32(msg, OFF_DEVTYPE_HASH) == 0);
	test_assert(get_u32(msg, OFF_TAG_BLOOM_HI) == 0 && get_u32(msg, OFF_TAG_BLOOM_LO) == 0);
}

static void test_encode_needs_room(void) {
	char props[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input8/event8\0"
		       "SUBSYSTEM=input\0SEQNUM=1";
	struct uevent ev;
	const char *why;
	test_assert(uevent_parse_properties(&ev, props, sizeof(props) - 1, &why) == 0);
	size_t len = UDEV_MESSAGE_HEADER_SIZE + sizeof(props);
	size_t sizes[] = {0, UDEV_MESSAGE_HEADER_SIZE - 1, UDEV_MESSAGE_HEADER_SIZE, len - 1, len};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* Exactly as large as said, for ASan to catch a write past it. */
		char *msg = malloc(sizes[i] > 0 ? sizes[i] : 1);
		test_assert(msg != NULL);
		errno = 0;
		int r = udev_message_encode(&ev, msg, sizes[i]);
		int e = errno;
		free(msg);
		test_assert(sizes[i] < len ? r == -1 && e == ENOBUFS : r == (int)len);
	}
}

/* Parses the properties of an event padded to len bytes with a long value. */
static int parse_padded(struct uevent *ev, char *buf, size_t len) {
	static const char head[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input8/event8\0"
				   "SUBSYSTEM=input\0SEQNUM=1\0PAD=";
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', len - (sizeof(head) - 1));
	const char *why;
	return uevent_parse_properties(ev, buf, len, &why);
}

/* No message over UDEV_MESSAGE_MAX_SIZE, however large the buffer: older libudev drops it. */
static void test_encode_refuses_oversized(void) {
	static char props[UDEV_MESSAGE_MAX_SIZE], msg[2 * UDEV_MESSAGE_MAX_SIZE];
	size_t most = UDEV_MESSAGE_MAX_SIZE - UDEV_MESSAGE_HEADER_SIZE;
	struct uevent ev;
	/* Each property gets its NUL: the last one's makes UDEV_MESSAGE_MAX_SIZE. */
	test_assert(parse_padded(&ev, props, most - 1) == 0);
	test_assert(udev_message_encode(&ev, msg, sizeof(msg)) == UDEV_MESSAGE_MAX_SIZE);

	test_assert(parse_padded(&ev, props, most) == 0);
	errno = 0;
	test_assert(udev_message_encode(&ev, msg, sizeof(msg)) == -1 && errno == ENOBUFS);
}

/* A valid message to spoil: the header and these properties. */
static const char good_props[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input8/event8\0"
				 "SUBSYSTEM=input\0SEQNUM=7";
#define GOOD_LEN (UDEV_MESSAGE_HEADER_SIZE + sizeof(good_props))

static void make_good(char *msg) {
	memcpy(msg, "libudev", 8);
	set_u32(msg, OFF_MAGIC, htobe32(UDEV_MESSAGE_MAGIC));
	set_u32(msg, OFF_HEADER_SIZE, UDEV_MESSAGE_HEADER_SIZE);
	set_u32(msg, OFF_PROPERTIES_OFF, UDEV_MESSAGE_HEADER_SIZE);
	set_u32(msg, OFF_PROPERTIES_LEN, sizeof(good_props));
	memset(msg + OFF_SUBSYSTEM_HASH, 0, UDEV_MESSAGE_HEADER_SIZE - OFF_SUBSYSTEM_HASH);
	memcpy(msg + UDEV_MESSAGE_HEADER_SIZE, good_props, sizeof(good_props));
}

static int parse(char *msg, size_t len, const char **why) {
	struct uevent ev;
	*why = NULL;
	errno = 0;
	int r = udev_message_parse(&ev, msg, len, why);
	if (r == -1 && (errno != EINVAL || *why == NULL)) {
		fprintf(stderr, "rejected without EINVAL and a reason\n");
		return -2;
	}
	return r;
}

static void test_parse_accepts_good_and_longer_header(void) {
	char msg[GOOD_LEN + 8 + 1];
	const char *why;
	make_good(msg);
	test_assert(parse(msg, GOOD_LEN, &why) == 0);

	/* A future sender's longer header: libudev goes by properties_off. */
	make_good(msg);
	memmove(msg + UDEV_MESSAGE_HEADER_SIZE + 8, msg + UDEV_MESSAGE_HEADER_SIZE,
		sizeof(good_props));
	set_u32(msg, OFF_HEADER_SIZE, UDEV_MESSAGE_HEADER_SIZE + 8);
	set_u32(msg, OFF_PROPERTIES_OFF, UDEV_MESSAGE_HEADER_SIZE + 8);
	test_assert(parse(msg, GOOD_LEN + 8, &why) == 0);
}

static void test_parse_rejects_truncated(void) {
	char msg[GOOD_LEN + 1];
	const char *why;
	size_t lens[] = {
		0, 8, UDEV_MESSAGE_HEADER_SIZE - 1, UDEV_MESSAGE_HEADER_SIZE, GOOD_LEN - 1};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		make_good(msg);
		test_assert(parse(msg, lens[i], &why) == -1);
	}
}

static void test_parse_rejects_bad_magic(void) {
	char msg[GOOD_LEN + 1];
	const char *why;
	make_good(msg);
	msg[6] = 'V';
	test_assert(parse(msg, GOOD_LEN, &why) == -1);

	make_good(msg);
	msg[7] = 'x'; /* the prefix is "libudev" and its NUL */
	test_assert(parse(msg, GOOD_LEN, &why) == -1);

	make_good(msg);
	set_u32(msg, OFF_MAGIC, UDEV_MESSAGE_MAGIC); /* host order */
	test_assert(parse(msg, GOOD_LEN, &why) == -1);
}

static void test_parse_rejects_bad_offsets(void) {
	static const struct {
		size_t off;
		uint32_t value;
	} spoils[] = {
		{OFF_HEADER_SIZE, 0},
		{OFF_HEADER_SIZE, UDEV_MESSAGE_HEADER_SIZE - 1},
		{OFF_HEADER_SIZE, UDEV_MESSAGE_HEADER_SIZE + 1}, /* past properties_off */
		{OFF_HEADER_SIZE, UINT32_MAX},
		{OFF_PROPERTIES_OFF, 0},
		{OFF_PROPERTIES_OFF, UDEV_MESSAGE_HEADER_SIZE - 1},
		{OFF_PROPERTIES_OFF, UDEV_MESSAGE_HEADER_SIZE + 1},
		{OFF_PROPERTIES_OFF, GOOD_LEN},
		{OFF_PROPERTIES_OFF, GOOD_LEN + 1},
		{OFF_PROPERTIES_OFF, UINT32_MAX},
		{OFF_PROPERTIES_LEN, 0},
		{OFF_PROPERTIES_LEN, sizeof(good_props) - 1}, /* a trailing byte libudev reads */
		{OFF_PROPERTIES_LEN, sizeof(good_props) + 1},
		{OFF_PROPERTIES_LEN, UINT32_MAX},
	};
	char msg[GOOD_LEN + 1];
	const char *why;
	for (size_t i = 0; i < sizeof(spoils) / sizeof(spoils[0]); i++) {
		make_good(msg);
		set_u32(msg, spoils[i].off, spoils[i].value);
		int r = parse(msg, GOOD_LEN, &why);
		if (r != -1) {
			fprintf(stderr, "spoil %zu not rejected\n", i);
		}
		test_assert(r == -1);
	}

	/* An offset and length that wrap around to the message's length in 32 bits. */
	make_good(msg);
	set_u32(msg, OFF_PROPERTIES_OFF, UINT32_MAX);
	set_u32(msg, OFF_PROPERTIES_LEN, GOOD_LEN + 1);
	test_assert(parse(msg, GOOD_LEN, &why) == -1);
}

static void test_parse_rejects_oversized(void) {
	static char msg[UDEV_MESSAGE_MAX_SIZE + 2];
	const char *why;
	for (size_t len = UDEV_MESSAGE_MAX_SIZE; len <= UDEV_MESSAGE_MAX_SIZE + 1; len++) {
		/* Valid but for the size of its last property. */
		make_good(msg);
		memcpy(msg + GOOD_LEN, "PAD=", 4);
		memset(msg + GOOD_LEN + 4, 'x', len - GOOD_LEN - 4);
		set_u32(msg, OFF_PROPERTIES_LEN, (uint32_t)(len - UDEV_MESSAGE_HEADER_SIZE));
		test_assert(parse(msg, len, &why) == (len <= UDEV_MESSAGE_MAX_SIZE ? 0 : -1));
	}
	test_assert_str(why, "oversized message");
}

static void test_parse_rejects_bad_properties(void) {
	char msg[GOOD_LEN + 1];
	const char *why;
	make_good(msg);
	msg[UDEV_MESSAGE_HEADER_SIZE] = 'X'; /* "XCTION=add" */
	test_assert(parse(msg, GOOD_LEN, &why) == -1);
	test_assert_str(why, "no ACTION");

	make_good(msg);
	set_u32(msg, OFF_PROPERTIES_OFF, GOOD_LEN);
	set_u32(msg, OFF_PROPERTIES_LEN, 0);
	test_assert(parse(msg, GOOD_LEN, &why) == -1);

	make_good(msg);
	memcpy(msg + GOOD_LEN - 2, "0", 1); /* SEQNUM=0, which libudev refuses */
	test_assert(parse(msg, GOOD_LEN, &why) == -1);
	test_assert_str(why, "no SEQNUM");
}

/* Random headers, some with the right prefix and magic, over valid properties. */
static void test_parse_rejects_garbage(void) {
	static char msg[512 + 1];
	uint32_t x = 2463534242u; /* xorshift32, fixed seed */
	for (int i = 0; i < 10000; i++) {
		make_good(msg);
		size_t from = i % 2 == 0 ? 0 : OFF_HEADER_SIZE;
		for (size_t j = from; j < UDEV_MESSAGE_HEADER_SIZE; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			msg[j] = (char)x;
		}
		const char *why;
		test_assert(parse(msg, GOOD_LEN + (x % 3 == 0 ? x % 32 : 0), &why) == -1);
	}
}

int main(void) {
	test_run(test_murmur_hash2_matches_libudev);
	test_run(test_murmur_hash2_smhasher_verification);
	test_run(test_round_trip);
	test_run(test_encode_without_devtype_or_tags);
	test_run(test_encode_needs_room);
	test_run(test_encode_refuses_oversized);
	test_run(test_parse_accepts_good_and_longer_header);
	test_run(test_parse_rejects_truncated);
	test_run(test_parse_rejects_bad_magic);
	test_run(test_parse_rejects_bad_offsets);
	test_run(test_parse_rejects_oversized);
	test_run(test_parse_rejects_bad_properties);
	test_run(test_parse_rejects_garbage);
	return test_main_end();
}
