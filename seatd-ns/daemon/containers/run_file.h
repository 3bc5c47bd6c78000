#ifndef _SEATD_NS_RUN_FILE_H
#define _SEATD_NS_RUN_FILE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Small text files of the run directory that a daemon started again reads back (the
 * registrations, the login sessions): read whole, split in lines that are checked one by
 * one, and written whole through a temporary file and a rename, so that a reader never sees
 * half of one.
 */

#define RUN_FILE_MAX_SIZE (1 << 20) /* far more than any host needs */
#define RUN_FILE_MAX_LINE 511

/*
 * Parses one line (NUL-terminated, in a buffer it may change): NULL when it is good, or why
 * it is not, as a static sentence. Returns the sentence; sets *fatal (errno set) for an error
 * that must stop the reading (out of memory).
 */
typedef const char *(*run_file_line_fn)(void *data, char *line, int *fatal);

/*
 * Calls fn for each line of text (len bytes, not NUL-terminated); a line that is too long,
 * holds a NUL or that fn refuses is logged as "path:line: why; line skipped". 0, or -1 with
 * errno when fn said fatal.
 */
int run_file_parse(const char *path, const char *text, size_t len, run_file_line_fn fn,
	void *data);

/* Reads path and parses it with fn (a missing file has no lines); 0, or -1 with errno. */
int run_file_load(const char *path, run_file_line_fn fn, void *data);

/* Writes path atomically with what fn writes to f; 0, or -1 with errno (path is unchanged). */
int run_file_replace(const char *path, int (*fn)(FILE *f, void *data), void *data);

#endif
