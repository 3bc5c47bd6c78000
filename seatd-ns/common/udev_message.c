#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "udev_message.h"

/* systemd's struct monitor_netlink_header, with fixed-size fields. */
struct header {
	char prefix[8];       /* "libudev\0" */
	uint32_t magic;       /* big-endian, as the filter words: receivers' BPF loads them so */
	uint32_t header_size; /* host order, as the next two */
	uint32_t properties_off;
	uint32_t properties_len;
	uint32_t subsystem_hash;
	uint32_t devtype_hash;
	uint32_t tag_bloom_hi;
	uint32_t tag_bloom_lo;
};

_Static_assert(sizeof(struct header) == UDEV_MESSAGE_HEADER_SIZE, "udev message header size");

static const char prefix[8] = "libudev";

uint32_t udev_murmur_hash2(const void *key, size_t len, uint32_t seed) {
	const uint32_t m = 0x5bd1e995;
	const unsigned char *data = key;
	uint32_t h = seed ^ (uint32_t)len;

	for (; len >= 4; data += 4, len -= 4) {
		uint32_t k;
		memcpy(&k, data, sizeof(k));
		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	/* The last one to three bytes, as the reference's falling-through switch. */
	if (len > 0) {
		if (len == 3) {
			h ^= (uint32_t)data[2] << 16;
		}
		if (len >= 2) {
			h ^= (uint32_t)data[1] << 8;
		}
		h ^= data[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

/* Four bits picked by a string's hash, as systemd's string_bloom64(). */
static uint64_t bloom_of_hash(uint32_t h) {
	return UINT64_C(1) << (h & 63) | UINT64_C(1) << ((h >> 6) & 63) |
	       UINT64_C(1) << ((h >> 12) & 63) | UINT64_C(1) << ((h >> 18) & 63);
}

static uint32_t string_hash(const char *s) {
	return udev_murmur_hash2(s, strlen(s), 0);
}

uint64_t udev_tag_bloom(const char *tag) {
	return bloom_of_hash(string_hash(tag));
}

/* The bloom of a ":a:b:" list; the empty words around the colons are no tags. */
static uint64_t tag_list_bloom(const char *list) {
	uint64_t bloom = 0;
	while (list != NULL && *list != '\0') {
		size_t n = strcspn(list, ":");
		if (n > 0) {
			bloom |= bloom_of_hash(udev_murmur_hash2(list, n, 0));
		}
		list += n + (list[n] == ':');
	}
	return bloom;
}

int udev_message_parse(struct uevent *ev, char *buf, size_t len, const char **why) {
	struct header h;
	if (len < sizeof(h) || len > UDEV_MESSAGE_MAX_SIZE) {
		*why = len < sizeof(h) ? "truncated header" : "oversized message";
		goto invalid;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.prefix, prefix, sizeof(prefix)) != 0 ||
		h.magic != htobe32(UDEV_MESSAGE_MAGIC)) {
		*why = "no libudev prefix and magic";
		goto invalid;
	}
	/* libudev reads from properties_off to the end, ignoring properties_len: insist they agree,
	 * so that we never see other properties than a libudev receiver would. */
	if (h.header_size < sizeof(h) || h.properties_off < h.header_size ||
		(uint64_t)h.properties_off + h.properties_len != len) {
		*why = "header size, properties offset or length do not fit the message";
		goto invalid;
	}
	if (uevent_parse_properties(ev, buf + h.properties_off, h.properties_len, why) == -1) {
		return -1;
	}
	/* libudev drops a device without a SEQNUM, so no udevd sends one. */
	if (ev->seqnum == 0) {
		*why = "no SEQNUM";
		goto invalid;
	}
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

int udev_message_encode(const struct uevent *ev, char *buf, size_t size) {
	size_t off = sizeof(struct header);
	if (size > UDEV_MESSAGE_MAX_SIZE) {
		size = UDEV_MESSAGE_MAX_SIZE;
	}
	if (size < off) {
		goto nobufs;
	}
	for (size_t i = 0; i < ev->n_properties; i++) {
		const struct uevent_property *p = &ev->properties[i];
		int n = snprintf(buf + off, size - off, "%s=%s", p->key, p->value);
		if (n < 0 || off + (size_t)n + 1 > size) {
			goto nobufs;
		}
		off += (size_t)n + 1;
	}

	/* libudev counts the words of CURRENT_TAGS as tags too. */
	uint64_t bloom = tag_list_bloom(uevent_get(ev, "TAGS")) |
			 tag_list_bloom(uevent_get(ev, "CURRENT_TAGS"));
	struct header h = {
		.magic = htobe32(UDEV_MESSAGE_MAGIC),
		.header_size = sizeof(h),
		.properties_off = sizeof(h),
		.properties_len = (uint32_t)(off - sizeof(h)),
		.subsystem_hash = htobe32(string_hash(ev->subsystem)),
		.devtype_hash = ev->devtype != NULL ? htobe32(string_hash(ev->devtype)) : 0,
		.tag_bloom_hi = htobe32((uint32_t)(bloom >> 32)),
		.tag_bloom_lo = htobe32((uint32_t)bloom),
	};
	memcpy(h.prefix, prefix, sizeof(prefix));
	memcpy(buf, &h, sizeof(h));
	return (int)off;

nobufs:
	errno = ENOBUFS;
	return -1;
}
