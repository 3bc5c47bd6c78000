#ifndef _SEATD_NS_FUZZ_TEXT_H
#define _SEATD_NS_FUZZ_TEXT_H

/* What the targets that parse text files share: invariants, and the input with a line added. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void fuzz_check(bool ok, const char *what) {
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		__builtin_trap();
	}
}

/* The text with line before or after it, in a buffer of its exact size (no NUL after it). */
static inline char *fuzz_with_line(const uint8_t *data, size_t size, const char *line,
	bool first, size_t *len) {
	size_t line_len = strlen(line);
	char *text = malloc(size + line_len);
	if (text == NULL) {
		abort();
	}
	memcpy(first ? text : text + size, line, line_len);
	if (size > 0) {
		memcpy(first ? text + line_len : text, data, size);
	}
	*len = size + line_len;
	return text;
}

#endif
