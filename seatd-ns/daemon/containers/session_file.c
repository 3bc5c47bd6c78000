#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "run_file.h"
#include "session_file.h"

#define PID_MAX 4194304 /* the kernel's largest pid_max */

bool session_user_is_valid(const char *name) {
	size_t len = strlen(name);
	return len >= 1 && len <= SESSION_USER_MAX && name[0] != '-' &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") ==
		       len;
}

/* A decimal number in min..max, all of text (no sign, no blanks). */
static int parse_decimal(const char *text, unsigned long long min, unsigned long long max,
	unsigned long long *out) {
	char *end;
	if (text == NULL || *text < '0' || *text > '9') {
		goto invalid;
	}
	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || *out < min || *out > max) {
		goto invalid;
	}
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

int session_parse_uid(const char *text, uid_t *uid) {
	unsigned long long value;
	if (parse_decimal(text, 0, (uid_t)-2, &value) == -1) {
		return -1;
	}
	*uid = (uid_t)value;
	return 0;
}

int session_parse_leader(const char *pid_text, const char *start_text, pid_t *pid,
	unsigned long long *start_time) {
	unsigned long long value;
	if (parse_decimal(pid_text, 2, PID_MAX, &value) == -1 ||
		parse_decimal(start_text, 1, ULLONG_MAX, start_time) == -1) {
		return -1;
	}
	*pid = (pid_t)value;
	return 0;
}

struct parsed {
	struct session_record *records;
	size_t n, cap;
};

/* Whether a record before has that seat or that user: one session each. */
static bool clashes(const struct parsed *p, const struct session_record *r) {
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->records[i].seat, r->seat) == 0 ||
			strcmp(p->records[i].user, r->user) == 0) {
			return true;
		}
	}
	return false;
}

static const char *parse_line(void *data, char *line, int *fatal) {
	struct parsed *p = data;
	char *save = NULL;
	const char *field[7];
	for (size_t i = 0; i < 7; i++) {
		field[i] = strtok_r(i == 0 ? line : NULL, " ", &save);
	}
	struct session_record r = {0};
	unsigned long long since;
	if (field[0] == NULL || !seat_name_is_valid(field[0])) {
		return "invalid seat name";
	}
	if (field[1] == NULL || !session_user_is_valid(field[1])) {
		return "invalid user name";
	}
	if (session_parse_uid(field[2], &r.uid) == -1) {
		return "invalid uid";
	}
	if (field[3] == NULL || !container_name_is_valid(field[3])) {
		return "invalid container name";
	}
	if (parse_decimal(field[4], 0, (unsigned long long)1 << 62, &since) == -1) {
		return "invalid start of the session";
	}
	if ((field[5] != NULL && session_parse_leader(field[5], field[6], &r.leader,
					 &r.leader_start_time) == -1) ||
		strtok_r(NULL, " ", &save) != NULL) {
		return "invalid leader (pid and start time)";
	}
	strcpy(r.seat, field[0]);
	strcpy(r.user, field[1]);
	strcpy(r.container, field[3]);
	r.since = (long long)since;
	if (clashes(p, &r)) {
		return "a session before has that seat or that user";
	}
	if (p->n == p->cap) {
		size_t more = p->cap ? p->cap * 2 : 8;
		struct session_record *grown = realloc(p->records, more * sizeof(*grown));
		if (grown == NULL) {
			*fatal = 1;
			errno = ENOMEM;
			return "out of memory";
		}
		p->records = grown;
		p->cap = more;
	}
	p->records[p->n++] = r;
	return NULL;
}

static int finish(struct parsed *p, int r, struct session_record **out, size_t *n) {
	if (r == -1) {
		int saved = errno;
		free(p->records);
		*out = NULL;
		*n = 0;
		errno = saved;
		return -1;
	}
	*out = p->records;
	*n = p->n;
	return 0;
}

int session_file_parse(const char *path, const char *text, size_t len,
	struct session_record **out, size_t *n) {
	struct parsed p = {0};
	return finish(&p, run_file_parse(path, text, len, parse_line, &p), out, n);
}

int session_file_load(const char *path, struct session_record **out, size_t *n) {
	struct parsed p = {0};
	return finish(&p, run_file_load(path, parse_line, &p), out, n);
}

struct saving {
	const struct session_record *records;
	size_t n;
};

static int write_records(FILE *f, void *data) {
	const struct saving *s = data;
	for (size_t i = 0; i < s->n; i++) {
		const struct session_record *r = &s->records[i];
		fprintf(f, "%s %s %u %s %lld", r->seat, r->user, (unsigned)r->uid, r->container,
			r->since);
		if (r->leader != 0) {
			fprintf(f, " %d %llu", (int)r->leader, r->leader_start_time);
		}
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

int session_file_save(const char *path, const struct session_record *records, size_t n) {
	struct saving s = {records, n};
	return run_file_replace(path, write_records, &s);
}
