#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "run_file.h"

int run_file_parse(const char *path, const char *text, size_t len, run_file_line_fn fn,
	void *data) {
	unsigned lineno = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t line_len = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		char line[RUN_FILE_MAX_LINE + 1];
		const char *why;
		int fatal = 0;
		if (line_len >= sizeof(line) || memchr(text + off, '\0', line_len) != NULL) {
			why = "line too long, or not text";
		} else {
			memcpy(line, text + off, line_len);
			line[line_len] = '\0';
			why = fn(data, line, &fatal);
		}
		off += line_len + 1;
		lineno++;
		if (fatal) {
			return -1;
		}
		if (why != NULL) {
			log_warnf("%s:%u: %s; line skipped", path, lineno, why);
		}
	}
	return 0;
}

int run_file_load(const char *path, run_file_line_fn fn, void *data) {
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		return errno == ENOENT ? 0 : -1;
	}
	char *text = malloc(RUN_FILE_MAX_SIZE);
	size_t len = 0;
	ssize_t got = 0;
	while (text != NULL && len < RUN_FILE_MAX_SIZE &&
		(got = read(fd, text + len, RUN_FILE_MAX_SIZE - len)) > 0) {
		len += (size_t)got;
	}
	int saved = text == NULL ? ENOMEM : errno;
	close(fd);
	int r = -1;
	if (text != NULL && got >= 0) {
		r = run_file_parse(path, text, len, fn, data);
		saved = errno;
	}
	free(text);
	errno = saved;
	return r;
}

int run_file_replace(const char *path, int (*fn)(FILE *f, void *data), void *data) {
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	FILE *f = fopen(tmp, "we");
	if (f == NULL) {
		return -1;
	}
	int r = fn(f, data);
	int saved = errno;
	/* The run directory is a tmpfs: the rename alone makes it whole, no fsync needed. */
	if (fclose(f) != 0 || r == -1 || rename(tmp, path) == -1) {
		saved = r == -1 ? saved : errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}
