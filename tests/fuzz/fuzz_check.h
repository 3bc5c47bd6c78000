#ifndef _SEATD_NS_FUZZ_CHECK_H
#define _SEATD_NS_FUZZ_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * What the fuzz targets share: an invariant that must hold, a directory to write in, and the
 * input with a line added.
 */

/* A broken invariant is a crash, so that libFuzzer keeps the input. */
static inline void check(bool ok, const char *what) {
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		__builtin_trap();
	}
}

/*
 * Makes dir (size bytes) a new directory named after name in TMPDIR, which run.sh removes
 * with everything the run made; aborts if it cannot.
 */
static inline void fuzz_scratch_dir(char *dir, size_t size, const char *name) {
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, size, "%s/fuzz-%s.XXXXXX", tmp, name);
	if (mkdtemp(dir) == NULL) {
		abort();
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
