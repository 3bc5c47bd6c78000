#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"

#define REGISTRY_MAX_SIZE (1 << 20) /* far more than any host registers */

/* A decimal number in 1..max, all of word. */
static bool parse_number(const char *word, unsigned long long max, unsigned long long *out) {
	char *end;
	if (word == NULL || *word < '0' || *word > '9') {
		return false;
	}
	errno = 0;
	*out = strtoull(word, &end, 10);
	return errno == 0 && *end == '\0' && *out >= 1 && *out <= max;
}

/* One line, split in place; the reason it is wrong, or NULL with *reg filled. */
static const char *parse_line(char *line, struct registration *reg) {
	char *save = NULL;
	const char *name = strtok_r(line, " ", &save);
	const char *pid = strtok_r(NULL, " ", &save);
	const char *start = strtok_r(NULL, " ", &save);
	const char *protocol = strtok_r(NULL, " ", &save);
	unsigned long long number;
	*reg = (struct registration){0};
	if (name == NULL || !container_name_is_valid(name)) {
		return "invalid container name";
	}
	snprintf(reg->name, sizeof(reg->name), "%s", name);
	if (!parse_number(pid, 4194304, &number) || number == 1) {
		return "invalid pid";
	}
	reg->pid = (pid_t)number;
	if (!parse_number(start, ULLONG_MAX, &reg->start_time)) {
		return "invalid start time";
	}
	if (protocol != NULL && strcmp(protocol, "legacy") == 0) {
		reg->protocol = LIBSEAT_PROTOCOL_LEGACY;
	} else if (protocol != NULL && strcmp(protocol, "0.9") == 0) {
		reg->protocol = LIBSEAT_PROTOCOL_0_9;
	} else {
		return "invalid libseat protocol (legacy or 0.9)";
	}
	for (const char *flag; (flag = strtok_r(NULL, " ", &save)) != NULL;) {
		if (strcmp(flag, "kernel-events") == 0) {
			reg->kernel_events = true;
		} else if (strcmp(flag, "privileged") == 0) {
			reg->privileged = true;
		} else {
			return "unknown flag";
		}
	}
	return NULL;
}

int registry_parse(const char *path, const char *text, size_t len, struct registration **out,
	size_t *n) {
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	unsigned lineno = 0;
	for (size_t off = 0; off < len; lineno++) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t line_len = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		char line[256];
		const char *why = NULL;
		struct registration reg;
		if (line_len >= sizeof(line) || memchr(text + off, '\0', line_len) != NULL) {
			why = "line too long, or not text";
		} else {
			memcpy(line, text + off, line_len);
			line[line_len] = '\0';
			why = parse_line(line, &reg);
		}
		off += line_len + 1;
		if (why != NULL) {
			log_warnf("%s:%u: %s; line skipped", path, lineno + 1, why);
			continue;
		}
		if (*n == cap) {
			size_t more = cap ? cap * 2 : 8;
			struct registration *grown = realloc(*out, more * sizeof(**out));
			if (grown == NULL) {
				free(*out);
				*out = NULL;
				*n = 0;
				errno = ENOMEM;
				return -1;
			}
			*out = grown;
			cap = more;
		}
		(*out)[(*n)++] = reg;
	}
	return 0;
}

int registry_load(const char *path, struct registration **out, size_t *n) {
	*out = NULL;
	*n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		return errno == ENOENT ? 0 : -1;
	}
	char *text = malloc(REGISTRY_MAX_SIZE);
	size_t len = 0;
	ssize_t got = 0;
	while (text != NULL && len < REGISTRY_MAX_SIZE &&
		(got = read(fd, text + len, REGISTRY_MAX_SIZE - len)) > 0) {
		len += (size_t)got;
	}
	int saved = text == NULL ? ENOMEM : errno;
	close(fd);
	int r = -1;
	if (text != NULL && got >= 0) {
		r = registry_parse(path, text, len, out, n);
		saved = errno;
	}
	free(text);
	errno = saved;
	return r;
}

int registry_save(const char *path, const struct registration *regs, size_t n) {
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	FILE *f = fopen(tmp, "we");
	if (f == NULL) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s %d %llu %s%s%s\n", regs[i].name, (int)regs[i].pid, regs[i].start_time,
			regs[i].protocol == LIBSEAT_PROTOCOL_LEGACY ? "legacy" : "0.9",
			regs[i].kernel_events ? " kernel-events" : "",
			regs[i].privileged ? " privileged" : "");
	}
	/* The run directory is a tmpfs: the rename alone makes it whole, no fsync needed. */
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}
