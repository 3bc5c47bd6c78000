/* libFuzzer target: the control protocol's record parser (what clients send the daemon). */
#include <stdint.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static char buf[CONTROL_MAX_MESSAGE * 2 + 1];
	if (size > CONTROL_MAX_MESSAGE * 2) {
		return 0;
	}
	memcpy(buf, data, size);
	struct control_record rec;
	if (control_record_parse(&rec, buf, size) == 0) {
		/* Rebuilding an accepted record gives the same bytes. */
		struct control_builder b;
		control_builder_init(&b, rec.type);
		for (size_t i = 0; i < rec.n_fields; i++) {
			control_builder_add(&b, rec.fields[i].key, rec.fields[i].value);
		}
		if (b.overflow || b.len != size || memcmp(b.buf, data, size) != 0) {
			__builtin_trap();
		}
	}
	return 0;
}
