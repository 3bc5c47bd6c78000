#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_files.h"

/*
 * A decimal number at *p after blanks, at most max: digits only (sscanf would take a sign,
 * and an out-of-range number as the largest one). Moves *p past it.
 */
static int parse_number(const char **p, unsigned long long max, unsigned long long *value) {
	const char *s = *p + strspn(*p, " \t\n");
	char *end = NULL;
	errno = 0;
	*value = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
	if (end == NULL || errno == ERANGE || *value > max) {
		errno = EINVAL;
		return -1;
	}
	*p = end;
	return 0;
}

int proc_parse_start_time(const char *stat, unsigned long long *start_time) {
	const char *p = strrchr(stat, ')');
	int skipped = -1;
	if (p != NULL) {
		sscanf(p + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			      "%*s %*s %*s%n", &skipped);
	}
	if (skipped == -1) {
		errno = EINVAL;
		return -1;
	}
	p += 1 + skipped;
	if (parse_number(&p, ULLONG_MAX, start_time) == -1 ||
		(*p != ' ' && *p != '\n' && *p != '\0')) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int proc_parse_pidns_init(const char *status, bool *init) {
	const char *line = strstr(status, "\nNSpid:");
	if (line == NULL) {
		errno = EINVAL;
		return -1;
	}
	line += strlen("\nNSpid:");
	const char *end = line + strcspn(line, "\n");
	while (end > line && strchr(" \t", end[-1]) == NULL) {
		end--;
	}
	*init = strncmp(end, "1\n", 2) == 0;
	return 0;
}

size_t proc_parse_id_map(const char *text, struct id_map *map, size_t max) {
	size_t n = 0;
	unsigned long long inside, outside, count;
	while (n < max && parse_number(&text, UINT_MAX, &inside) == 0 &&
		parse_number(&text, UINT_MAX, &outside) == 0 &&
		parse_number(&text, UINT_MAX, &count) == 0) {
		map[n++] = (struct id_map){(unsigned)inside, (unsigned)outside, (unsigned)count};
	}
	return n;
}
