#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "group_file.h"

/* The first c in [p, end), or end. */
static const char *find(const char *p, const char *end, char c) {
	while (p < end && *p != c) {
		p++;
	}
	return p;
}

/* Digits only, no sign or blank, below (gid_t)-1, which means "no group". */
static bool parse_gid(const char *p, const char *end, gid_t *gid) {
	unsigned long long value = 0;
	if (p == end) {
		return false;
	}
	for (; p < end; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
		value = value * 10 + (unsigned)(*p - '0');
		if (value >= (gid_t)-1) {
			return false;
		}
	}
	*gid = (gid_t)value;
	return true;
}

int group_file_find(const char *text, size_t len, const char *name, gid_t *gid) {
	size_t name_len = strlen(name);
	const char *end = text + len;
	for (const char *line = text; line < end;) {
		const char *line_end = find(line, end, '\n');
		while (line < line_end && (*line == ' ' || *line == '\t')) {
			line++;
		}
		const char *name_end = find(line, line_end, ':');
		if (name_end < line_end && (size_t)(name_end - line) == name_len &&
			memcmp(line, name, name_len) == 0) {
			const char *password_end = find(name_end + 1, line_end, ':');
			const char *gid_start = password_end + 1;
			if (password_end < line_end &&
				parse_gid(gid_start, find(gid_start, line_end, ':'), gid)) {
				return 0;
			}
		}
		line = line_end < end ? line_end + 1 : end;
	}
	errno = ENOENT;
	return -1;
}
