/*
 * libFuzzer target: coldplug's add event from a sysfs uevent file (the bytes up to the first
 * NUL) and the lines of a udev database entry (the rest), then the parse of that event. The
 * event always fits its buffer, whose size is exact (AddressSanitizer catches a write past
 * it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uevent.h"
#include "uevent_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *text = malloc(size + 1), *buf = malloc(UEVENT_MAX_SIZE);
	if (text == NULL || buf == NULL) {
		abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	size_t file_len = strlen(text), off;
	char *db = file_len < size ? text + file_len + 1 : NULL;
	if (uevent_file_event(buf, &off, UEVENT_MAX_SIZE, "/devices/virtual/input/input9/event9",
		    "input", text) == 0) {
		size_t base = off;
		for (char *line = db; line != NULL && line < text + size;) {
			char *next = strchr(line, '\n');
			if (next != NULL) {
				*next++ = '\0';
			}
			if (uevent_file_add_db_line(buf, &off, UEVENT_MAX_SIZE, base, line) == -1) {
				break;
			}
			line = next;
		}
		if (off >= UEVENT_MAX_SIZE) {
			__builtin_trap();
		}
		struct uevent ev;
		const char *why;
		(void)uevent_parse_properties(&ev, buf, off, &why);
	}
	free(text);
	free(buf);
	return 0;
}
