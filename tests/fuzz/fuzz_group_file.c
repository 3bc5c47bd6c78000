/*
 * libFuzzer target: the parser of a container's /etc/group, fed the bytes as they are (no
 * terminating NUL: AddressSanitizer catches a read past the end). Checks what must hold of
 * any text: a gid found is written in it, a valid line put first wins, and a valid line put
 * last changes nothing but a miss.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "group_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	/* The groups nodes.c asks for. */
	static const char *const names[] = {"input", "video", "render", "audio"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *name = names[i];
		gid_t gid = 0;
		bool found = group_file_find((const char *)data, size, name, &gid) == 0;
		if (found) {
			char digits[16];
			int n = snprintf(digits, sizeof(digits), "%u", (unsigned)gid);
			check(gid != (gid_t)-1, "no gid of -1");
			check(memmem(data, size, digits, (size_t)n) != NULL, "the gid is in the text");
		}
		char line[64];
		size_t len;
		gid_t other;
		snprintf(line, sizeof(line), "%s:x:4242:\n", name);
		char *text = fuzz_with_line(data, size, line, true, &len);
		check(group_file_find(text, len, name, &other) == 0 && other == 4242,
			"the first valid line wins");
		free(text);
		snprintf(line, sizeof(line), "\n%s:x:4343:\n", name);
		text = fuzz_with_line(data, size, line, false, &len);
		check(group_file_find(text, len, name, &other) == 0 &&
				other == (found ? gid : 4343),
			"a valid line after the others changes only a miss");
		free(text);
	}
	return 0;
}
