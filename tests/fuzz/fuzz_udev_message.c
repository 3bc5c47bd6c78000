/* libFuzzer target: the udev message codec, and encoding what it accepted. */
#include <stdint.h>
#include <string.h>

#include "udev_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static char buf[UEVENT_MAX_SIZE * 2 + 1], out[UEVENT_MAX_SIZE * 2 + 64];
	if (size > UEVENT_MAX_SIZE * 2) {
		return 0;
	}
	struct uevent ev, again;
	const char *why;
	memcpy(buf, data, size);
	if (udev_message_parse(&ev, buf, size, &why) == 0) {
		int n = udev_message_encode(&ev, out, sizeof(out) - 1);
		if (n < 0 || udev_message_parse(&again, out, (size_t)n, &why) != 0 ||
			strcmp(again.devpath, ev.devpath) != 0 ||
			again.n_properties != ev.n_properties) {
			__builtin_trap();
		}
	}
	return 0;
}
