#ifndef _SEATD_NS_PROC_FILES_H
#define _SEATD_NS_PROC_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "container.h"

/*
 * The /proc files of a container's init that registration reads, parsed apart from the
 * reading so that the parsers can be fuzzed. Each takes the file's text NUL-terminated. The
 * kernel writes these files, but the command name in stat is the container's (any bytes but
 * NUL, ")" included).
 */

/* The start time in stat: the 22nd field, the 20th after the command's last ")". */
int proc_parse_start_time(const char *stat, unsigned long long *start_time);

/* Whether status's "NSpid:" line ends in 1: pid 1 of its own pid namespace. */
int proc_parse_pidns_init(const char *status, bool *init);

/* The "inside outside count" lines of a uid_map or gid_map, up to max; returns how many. */
size_t proc_parse_id_map(const char *text, struct id_map *map, size_t max);

#endif
