/* libFuzzer target: the kernel uevent codec, and formatting what it accepted. */
#include <stdint.h>
#include <string.h>

#include "uevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static char buf[UEVENT_MAX_SIZE * 2 + 1], out[UEVENT_MAX_SIZE * 2];
	if (size > UEVENT_MAX_SIZE * 2) {
		return 0;
	}
	struct uevent ev, again;
	const char *why;
	memcpy(buf, data, size);
	if (uevent_parse_kernel(&ev, buf, size, &why) == 0) {
		/* What was accepted formats and parses again to the same device. */
		int n = uevent_format_kernel(&ev, true, out, sizeof(out) - 1);
		if (n < 0 || uevent_parse_kernel(&again, out, (size_t)n, &why) != 0 ||
			strcmp(again.devpath, ev.devpath) != 0 || again.major != ev.major ||
			again.minor != ev.minor || again.n_properties != ev.n_properties) {
			__builtin_trap();
		}
		(void)uevent_devpath_is_valid(ev.devpath);
	}
	memcpy(buf, data, size);
	(void)uevent_parse_properties(&ev, buf, size, &why);
	return 0;
}
