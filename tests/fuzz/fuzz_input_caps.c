/*
 * libFuzzer target: the capability bitmaps and bus type of an input device, as sysfs
 * attributes (capabilities/ev, ..., id/bustype) and uevent properties (EV=, ..., PRODUCT=)
 * give them, and the classification of what parsed. Each bitmap goes into an array of its
 * exact size (AddressSanitizer catches a write past it) and keeps no bit beyond its count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input_class.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {"EV", "KEY", "REL", "ABS", "PROP", "PRODUCT"};

struct lines {
	const char *line[sizeof(keys) / sizeof(keys[0])];
};

/* The properties are the input's first lines, in the order of keys. */
static const char *get(void *ctx, const char *key) {
	struct lines *l = ctx;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i]) == 0) {
			return l->line[i];
		}
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static const size_t counts[] = {INPUT_EV_BITS, INPUT_KEY_BITS, INPUT_REL_BITS,
		INPUT_ABS_BITS, INPUT_PROP_BITS};
	char *text = malloc(size + 1);
	if (text == NULL) {
		abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t nwords = INPUT_BITS_TO_LONGS(counts[i]);
		uint64_t *bits = malloc(nwords * sizeof(*bits));
		if (bits == NULL) {
			abort();
		}
		if (input_caps_parse_bitmap(text, bits, counts[i]) == 0 && counts[i] % 64 != 0 &&
			bits[nwords - 1] >> (counts[i] % 64) != 0) {
			__builtin_trap();
		}
		free(bits);
	}
	struct lines lines = {0};
	char *p = text;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && p != NULL; i++) {
		lines.line[i] = p;
		p = strchr(p, '\n');
		if (p != NULL) {
			*p++ = '\0';
		}
	}
	struct input_caps caps;
	if (input_caps_from_properties(&caps, get, &lines) == 0) {
		(void)input_classify(&caps);
	}
	free(text);
	return 0;
}
