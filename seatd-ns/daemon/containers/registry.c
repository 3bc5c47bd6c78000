#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "run_file.h"

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

struct parsed {
	struct registration *regs;
	size_t n, cap;
};

static const char *parse_registration(void *data, char *line, int *fatal) {
	struct parsed *p = data;
	struct registration reg;
	const char *why = parse_line(line, &reg);
	if (why != NULL) {
		return why;
	}
	if (p->n == p->cap) {
		size_t more = p->cap ? p->cap * 2 : 8;
		struct registration *grown = realloc(p->regs, more * sizeof(*grown));
		if (grown == NULL) {
			*fatal = 1;
			errno = ENOMEM;
			return "out of memory";
		}
		p->regs = grown;
		p->cap = more;
	}
	p->regs[p->n++] = reg;
	return NULL;
}

static int finish(struct parsed *p, int r, struct registration **out, size_t *n) {
	if (r == -1) {
		int saved = errno;
		free(p->regs);
		*out = NULL;
		*n = 0;
		errno = saved;
		return -1;
	}
	*out = p->regs;
	*n = p->n;
	return 0;
}

int registry_parse(const char *path, const char *text, size_t len, struct registration **out,
	size_t *n) {
	struct parsed p = {0};
	return finish(&p, run_file_parse(path, text, len, parse_registration, &p), out, n);
}

int registry_load(const char *path, struct registration **out, size_t *n) {
	struct parsed p = {0};
	return finish(&p, run_file_load(path, parse_registration, &p), out, n);
}

struct saving {
	const struct registration *regs;
	size_t n;
};

static int write_registrations(FILE *f, void *data) {
	const struct saving *s = data;
	for (size_t i = 0; i < s->n; i++) {
		const struct registration *r = &s->regs[i];
		fprintf(f, "%s %d %llu %s%s%s\n", r->name, (int)r->pid, r->start_time,
			r->protocol == LIBSEAT_PROTOCOL_LEGACY ? "legacy" : "0.9",
			r->kernel_events ? " kernel-events" : "", r->privileged ? " privileged" : "");
	}
	return ferror(f) ? -1 : 0;
}

int registry_save(const char *path, const struct registration *regs, size_t n) {
	struct saving s = {regs, n};
	return run_file_replace(path, write_registrations, &s);
}
