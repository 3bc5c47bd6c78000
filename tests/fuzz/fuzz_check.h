#ifndef _SEATD_NS_FUZZ_CHECK_H
#define _SEATD_NS_FUZZ_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* What the fuzz targets share: an invariant that must hold, and a directory to write in. */

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

#endif
