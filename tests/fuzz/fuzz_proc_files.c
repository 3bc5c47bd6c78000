/*
 * libFuzzer target: the parsers of the /proc files registration reads (stat, status, uid_map
 * and gid_map), each fed the bytes NUL-terminated in a buffer of their exact size, as the
 * reader hands them over. A start time must be one the text spells; at most max id maps.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *text = malloc(size + 1);
	if (text == NULL) {
		abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	unsigned long long start_time;
	if (proc_parse_start_time(text, &start_time) == 0) {
		char digits[32];
		snprintf(digits, sizeof(digits), "%llu", start_time);
		if (strstr(text, digits) == NULL) {
			__builtin_trap();
		}
	}
	bool init;
	(void)proc_parse_pidns_init(text, &init);
	struct id_map map[4];
	size_t n = proc_parse_id_map(text, map, 4);
	for (size_t i = 0; i < n; i++) {
		char line[64];
		snprintf(line, sizeof(line), "%u", map[i].count);
		if (n > 4 || strstr(text, line) == NULL) {
			__builtin_trap();
		}
	}
	free(text);
	return 0;
}
