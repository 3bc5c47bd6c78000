#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"

#define MAX_FIELDS 5

static int add_string(char ***list, size_t *n, const char *s) {
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (grown == NULL) {
		return -1;
	}
	*list = grown;
	if ((grown[*n] = strdup(s)) == NULL) {
		return -1;
	}
	(*n)++;
	return 0;
}

bool state_has_seat(const struct state *state, const char *name) {
	for (size_t i = 0; i < state->n_seats; i++) {
		if (strcmp(state->seats[i], name) == 0) {
			return true;
		}
	}
	return false;
}

int state_add_seat(struct state *state, const char *name) {
	if (state_has_seat(state, name)) {
		return 0;
	}
	return add_string(&state->seats, &state->n_seats, name);
}

void state_remove_seat(struct state *state, const char *name) {
	for (size_t i = 0; i < state->n_seats; i++) {
		if (strcmp(state->seats[i], name) == 0) {
			free(state->seats[i]);
			state->seats[i] = state->seats[--state->n_seats];
			return;
		}
	}
}

const struct attachment *state_find_attachment(const struct state *state, const char *seat) {
	for (size_t i = 0; i < state->n_attachments; i++) {
		if (strcmp(state->attachments[i].seat, seat) == 0) {
			return &state->attachments[i];
		}
	}
	return NULL;
}

void attachment_finish(struct attachment *a) {
	for (size_t i = 0; i < a->n_containers; i++) {
		free(a->containers[i]);
	}
	free(a->containers);
	free(a->seat);
	memset(a, 0, sizeof(*a));
}

/* Fills a fresh attachment with copies; 0 or -1 (ENOMEM). */
static int attachment_fill(struct attachment *a, const char *seat,
	const char *const *containers, size_t n, size_t active) {
	memset(a, 0, sizeof(*a));
	if ((a->seat = strdup(seat)) == NULL ||
		(n > 0 && (a->containers = calloc(n, sizeof(*a->containers))) == NULL)) {
		goto fail;
	}
	for (; a->n_containers < n; a->n_containers++) {
		if ((a->containers[a->n_containers] = strdup(containers[a->n_containers])) == NULL) {
			goto fail;
		}
	}
	a->active = n > 0 ? active : 0;
	return 0;

fail:
	attachment_finish(a);
	errno = ENOMEM;
	return -1;
}

int attachment_copy(struct attachment *dst, const struct attachment *src) {
	return attachment_fill(dst, src->seat, (const char *const *)src->containers,
		src->n_containers, src->active);
}

void state_clear_attachment(struct state *state, const char *seat) {
	struct attachment *a = (struct attachment *)state_find_attachment(state, seat);
	if (a != NULL) {
		attachment_finish(a);
		*a = state->attachments[--state->n_attachments];
	}
}

int state_set_attachment(struct state *state, const char *seat, const char *const *containers,
	size_t n, size_t active) {
	if (n > STATE_MAX_CONTAINERS || (n > 0 && active >= n)) {
		errno = EINVAL;
		return -1;
	}
	struct attachment fresh;
	if (attachment_fill(&fresh, seat, containers, n, active) == -1) {
		return -1;
	}
	struct attachment *grown =
		realloc(state->attachments, (state->n_attachments + 1) * sizeof(*grown));
	if (grown == NULL) {
		attachment_finish(&fresh);
		errno = ENOMEM;
		return -1;
	}
	state->attachments = grown;
	state_clear_attachment(state, seat);
	state->attachments[state->n_attachments++] = fresh;
	return 0;
}

/* attach SEAT CONTAINER: one more container for the seat (the first one is active). */
static const char *load_attach(struct state *state, const char *seat, const char *container) {
	const struct attachment *a = state_find_attachment(state, seat);
	const char *list[STATE_MAX_CONTAINERS];
	size_t n = 0, active = 0;
	if (a != NULL) {
		for (; n < a->n_containers; n++) {
			if (strcmp(a->containers[n], container) == 0) {
				return "container attached twice";
			}
			list[n] = a->containers[n];
		}
		active = a->active;
	}
	if (n == STATE_MAX_CONTAINERS) {
		return "too many containers for one seat";
	}
	list[n++] = container;
	return state_set_attachment(state, seat, list, n, active) == 0 ? NULL : "out of memory";
}

static const char *load_active(struct state *state, const char *seat, const char *container) {
	struct attachment *a = (struct attachment *)state_find_attachment(state, seat);
	for (size_t i = 0; a != NULL && i < a->n_containers; i++) {
		if (strcmp(a->containers[i], container) == 0) {
			a->active = i;
			return NULL;
		}
	}
	return "the active container is not attached";
}

/* Applies one line; returns NULL, or why it does not parse. */
static const char *apply_line(struct state *state, char *line) {
	char *fields[MAX_FIELDS];
	size_t n = 0;
	for (char *f = strtok(line, "\t"); f != NULL; f = strtok(NULL, "\t")) {
		if (n == MAX_FIELDS) {
			return "too many fields";
		}
		fields[n++] = f;
	}
	if (n == 2 && strcmp(fields[0], "seat") == 0) {
		if (!seat_name_is_valid(fields[1])) {
			return "invalid seat name";
		}
		return state_add_seat(state, fields[1]) == 0 ? NULL : "out of memory";
	}
	if ((n == 4 || n == 5) && strcmp(fields[0], "assign") == 0) {
		enum rule_kind kind;
		struct rule rule;
		const char *why;
		if (rule_kind_parse(fields[1], &kind) == -1 ||
			(kind != RULE_SYSPATH && kind != RULE_DEVICE && kind != RULE_PORT)) {
			return "unknown assignment kind";
		}
		if (rule_init(&rule, kind, fields[3], n == 5 ? fields[4] : NULL, fields[2], &why) ==
			-1) {
			return why ? why : "out of memory";
		}
		rule_set_remove(&state->rules, &rule);
		return rule_set_add(&state->rules, &rule) == 0 ? NULL : "out of memory";
	}
	if (n == 3 && (strcmp(fields[0], "attach") == 0 || strcmp(fields[0], "active") == 0)) {
		if (!seat_name_is_valid(fields[1]) || !container_name_is_valid(fields[2])) {
			return "invalid seat or container name";
		}
		return strcmp(fields[0], "attach") == 0 ? load_attach(state, fields[1], fields[2])
					   : load_active(state, fields[1], fields[2]);
	}
	if (n == 2 && strcmp(fields[0], "detach") == 0) {
		if (!seat_name_is_valid(fields[1])) {
			return "invalid seat name";
		}
		return state_set_attachment(state, fields[1], NULL, 0, 0) == 0 ? NULL : "out of memory";
	}
	return "unknown line";
}

int state_load(struct state *state, const char *dir) {
	memset(state, 0, sizeof(*state));
	if (asprintf(&state->path, "%s/state", dir) == -1) {
		state->path = NULL;
		return -1;
	}
	FILE *f = fopen(state->path, "re");
	if (f == NULL) {
		return errno == ENOENT ? 0 : -1;
	}
	char line[4096];
	int lineno = 0, broken = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		size_t len = strcspn(line, "\n");
		if (line[len] != '\n' && !feof(f)) {
			log_errorf("%s:%d: line too long, skipped", state->path, lineno);
			broken++;
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n') {
			}
			continue;
		}
		line[len] = '\0';
		if (line[0] == '\0' || line[0] == '#') {
			continue;
		}
		const char *why = apply_line(state, line);
		if (why != NULL) {
			log_errorf("%s:%d: %s, skipped", state->path, lineno, why);
			broken++;
		}
	}
	fclose(f);
	if (broken > 0) {
		/* Keep what could not be read: the next save would lose it. */
		char kept[4096];
		snprintf(kept, sizeof(kept), "%s.broken", state->path);
		int r = link(state->path, kept);
		if (r == -1 && errno == EEXIST) {
			/* the newest unreadable state is the one worth keeping */
			unlink(kept);
			r = link(state->path, kept);
		}
		if (r == 0) {
			log_errorf("kept the unreadable state as %s", kept);
		}
	}
	return 0;
}

void state_finish(struct state *state) {
	for (size_t i = 0; i < state->n_seats; i++) {
		free(state->seats[i]);
	}
	free(state->seats);
	rule_set_finish(&state->rules);
	while (state->n_attachments > 0) {
		state_clear_attachment(state, state->attachments[0].seat);
	}
	free(state->attachments);
	free(state->path);
	memset(state, 0, sizeof(*state));
}

static int write_all(FILE *f, const struct state *state) {
	fprintf(f, "# seatd-ns runtime decisions; written by the daemon, change them with "
		   "seat-assign\n");
	for (size_t i = 0; i < state->n_seats; i++) {
		fprintf(f, "seat\t%s\n", state->seats[i]);
	}
	for (size_t i = 0; i < state->rules.n_rules; i++) {
		const struct rule *r = &state->rules.rules[i];
		fprintf(f, "assign\t%s\t%s\t%s", rule_kind_name(r->kind), r->seat, r->value);
		if (r->subsystem != NULL) {
			fprintf(f, "\t%s", r->subsystem);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < state->n_attachments; i++) {
		const struct attachment *a = &state->attachments[i];
		if (a->n_containers == 0) {
			fprintf(f, "detach\t%s\n", a->seat);
		}
		for (size_t j = 0; j < a->n_containers; j++) {
			fprintf(f, "attach\t%s\t%s\n", a->seat, a->containers[j]);
		}
		/* One container is active without saying so: the file reads as before. */
		if (a->n_containers > 1) {
			fprintf(f, "active\t%s\t%s\n", a->seat, a->containers[a->active]);
		}
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int state_save(const struct state *state) {
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", state->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		goto fail;
	}
	if (write_all(f, state) == -1 || fsync(fd) == -1) {
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0 || rename(tmp, state->path) == -1) {
		goto fail;
	}
	/*
	 * The rename is durable only once the directory is. The file holds the new state from
	 * here on, so it counts as saved: a failure to flush the directory is only logged, lest
	 * the caller undo a change that a restart would then find.
	 */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", state->path);
	*strrchr(dir, '/') = '\0';
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd == -1 || fsync(dir_fd) == -1) {
		log_warnf("%s: saved, but flushing its directory failed: %s", state->path,
			strerror(errno));
	}
	if (dir_fd != -1) {
		close(dir_fd);
	}
	return 0;

fail:;
	int saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
}
