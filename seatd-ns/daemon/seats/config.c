#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define SEAT_SECTION "seat "

struct parse_state {
	struct config *config;
	const char *path;
	FILE *file;
	int line;
	enum { SECTION_NONE, SECTION_DAEMON, SECTION_SEAT, SECTION_BAD } section;
	struct seat_settings *seat;   /* the seat of the current section, if it is one */
	char *buf;                    /* the whole current line, whatever its length */
	size_t cap;
};

static void add_error(struct config *config, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_error(struct config *config, const char *fmt, ...) {
	char message[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	size_t old = config->errors ? strlen(config->errors) : 0;
	char *errors = realloc(config->errors, old + strlen(message) + 2);
	if (errors == NULL) {
		return;
	}
	sprintf(errors + old, "%s\n", message);
	config->errors = errors;
}

#define report(state, fmt, ...)                                                               \
	add_error((state)->config, "%s:%d: " fmt, (state)->path, (state)->line, __VA_ARGS__)

int config_source_parse(const char *name, enum config_source *source) {
	static const char *const names[] = {
		[CONFIG_SOURCE_AUTO] = "auto",
		[CONFIG_SOURCE_KERNEL] = "kernel",
		[CONFIG_SOURCE_UDEV] = "udev",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*source = (enum config_source)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

static int parse_bool(const char *value, bool *out) {
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
		*out = true;
	} else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
		   strcmp(value, "0") == 0) {
		*out = false;
	} else {
		return -1;
	}
	return 0;
}

static void handle_daemon_key(struct parse_state *state, const char *name, const char *value) {
	struct config *config = state->config;
	if (strcmp(name, "source") == 0) {
		if (config_source_parse(value, &config->source) == -1) {
			report(state, "source must be auto, kernel or udev, not \"%s\"", value);
		}
		config->source_set = true;
	} else if (strcmp(name, "log-level") == 0) {
		if (log_level_parse(value, &config->log_level) == -1) {
			report(state, "unknown log-level \"%s\"", value);
		}
		config->log_level_set = true;
	} else if (strcmp(name, "control-group") == 0) {
		free(config->control_group);
		config->control_group = value[0] != '\0' ? strdup(value) : NULL;
		if (value[0] == '\0') {
			report(state, "%s is empty", "control-group");
		}
	} else {
		report(state, "unknown key \"%s\" in [daemon]", name);
	}
}

const struct seat_settings *config_find_seat(const struct config *config, const char *name) {
	for (size_t i = 0; i < config->n_seats; i++) {
		if (strcmp(config->seats[i].name, name) == 0) {
			return &config->seats[i];
		}
	}
	return NULL;
}

/* A new [seat NAME] section: returns its settings, or NULL after reporting why not. */
static struct seat_settings *begin_seat(struct parse_state *state, const char *name) {
	struct config *config = state->config;
	if (!seat_name_is_valid(name)) {
		report(state, "invalid seat name \"%s\": it must start with \"seat\", then letters, "
			      "digits, _ or -, at most 255 characters", name);
		return NULL;
	}
	const struct seat_settings *first = config_find_seat(config, name);
	if (first != NULL) {
		report(state, "duplicate seat %s (first defined at %s:%d)", name, first->file,
			first->line);
		return NULL;
	}
	struct seat_settings *seats =
		realloc(config->seats, (config->n_seats + 1) * sizeof(*seats));
	if (seats == NULL) {
		return NULL;
	}
	config->seats = seats;
	struct seat_settings *seat = &seats[config->n_seats];
	*seat = (struct seat_settings){
		.name = strdup(name),
		.shared_sound = true,
		.file = state->path,
		.line = state->line,
	};
	if (seat->name == NULL) {
		return NULL;
	}
	config->n_seats++;
	return seat;
}

static void begin_section(struct parse_state *state, const char *name) {
	if (strncmp(name, SEAT_SECTION, strlen(SEAT_SECTION)) == 0) {
		state->section = SECTION_SEAT;
		state->seat = begin_seat(state, name + strlen(SEAT_SECTION));
	} else if (strcmp(name, "daemon") == 0) {
		state->section = SECTION_DAEMON;
	} else {
		state->section = SECTION_BAD;
		report(state, "unknown section [%s]", name);
	}
}

/*
 * inih reads line by line through this. Section headers are handled here, on the whole line:
 * inih cuts section names at 50 characters and lines at 200, and never tells a handler of a
 * section without keys; inih gets a placeholder instead. Every line that is not a header, a
 * comment or KEY=VALUE is reported here too (inih reports only the first).
 */
static char *read_line(char *str, int num, void *stream) {
	struct parse_state *state = stream;
	ssize_t n = getline(&state->buf, &state->cap, state->file);
	if (n == -1) {
		return NULL;
	}
	state->line++;
	char *l = state->buf;
	const char *t = l + strspn(l, " \t");
	if (*t == '[') {
		char *close = strchr(t, ']');
		if (close == NULL) {
			report(state, "%s", "syntax error");
			state->section = SECTION_BAD;
			snprintf(str, (size_t)num, ";\n");
			return str;
		}
		*close = '\0';
		begin_section(state, t + 1);
		snprintf(str, (size_t)num, "[s]\n");
		return str;
	}
	if (n >= num) {
		report(state, "%s", "line too long");
		snprintf(str, (size_t)num, ";\n");
		return str;
	}
	if (t == l && *t != '\0' && *t != ';' && *t != '#' && *t != '\n' && *t != '\r' &&
		strpbrk(t, "=:") == NULL) {
		report(state, "%s", "syntax error");
		snprintf(str, (size_t)num, ";\n");
		return str;
	}
	memcpy(str, l, (size_t)n + 1);
	return str;
}

static void handle_seat_key(struct parse_state *state, const char *name, const char *value) {
	struct seat_settings *seat = state->seat;
	if (strcmp(name, "container") == 0) {
		if (!container_name_is_valid(value)) {
			report(state, "invalid container name \"%s\"", value);
			return;
		}
		/* A container serves one seat: its /run/seatd.sock and its devices are that seat's. */
		for (size_t i = 0; i < state->config->n_seats; i++) {
			const struct seat_settings *other = &state->config->seats[i];
			if (other != seat && other->container != NULL &&
				strcmp(other->container, value) == 0) {
				report(state, "container %s is the container of %s already (%s:%d): a "
					      "container serves one seat", value, other->name, other->file,
					other->line);
				return;
			}
		}
		free(seat->container);
		seat->container = strdup(value);
	} else if (strcmp(name, "hidraw") == 0 || strcmp(name, "shared-sound") == 0) {
		bool *field = name[0] == 'h' ? &seat->hidraw : &seat->shared_sound;
		if (parse_bool(value, field) == -1) {
			report(state, "%s must be yes or no, not \"%s\"", name, value);
		}
	} else if (strncmp(name, "match-", 6) == 0) {
		enum rule_kind kind;
		struct rule rule;
		const char *why;
		if (rule_kind_parse(name + 6, &kind) == -1 || kind == RULE_DEVICE) {
			report(state, "unknown key \"%s\" in [seat %s]", name, seat->name);
		} else if (rule_init(&rule, kind, value, NULL, seat->name, &why) == -1) {
			report(state, "%s \"%s\": %s", name, value, why ? why : "out of memory");
		} else {
			rule.file = state->path;
			rule.line = state->line;
			rule_set_add(&state->config->rules, &rule);
		}
	} else {
		report(state, "unknown key \"%s\" in [seat %s]", name, seat->name);
	}
}

static int handle_entry(void *user, const char *section, const char *name, const char *value) {
	struct parse_state *state = user;
	switch (state->section) {
	case SECTION_NONE:
		report(state, "key \"%s\" outside a section", name);
		break;
	case SECTION_DAEMON:
		handle_daemon_key(state, name, value);
		break;
	case SECTION_SEAT:
		if (state->seat != NULL) {
			handle_seat_key(state, name, value);
		}
		break;
	case SECTION_BAD:
		break;
	}
	/* Errors are collected; returning success lets inih go on and find the others. */
	return 1;
}

void config_init(struct config *config) {
	memset(config, 0, sizeof(*config));
	config->source = CONFIG_SOURCE_AUTO;
	config->log_level = LOG_LEVEL_INFO;
}

void config_finish(struct config *config) {
	free(config->control_group);
	for (size_t i = 0; i < config->n_seats; i++) {
		free(config->seats[i].name);
		free(config->seats[i].container);
	}
	free(config->seats);
	rule_set_finish(&config->rules);
	for (size_t i = 0; i < config->n_files; i++) {
		free(config->files[i]);
	}
	free(config->files);
	free(config->errors);
	config_init(config);
}

/* Keeps the file's name for as long as rules and seats point to it. */
static const char *remember_file(struct config *config, const char *path) {
	char **files = realloc(config->files, (config->n_files + 1) * sizeof(*files));
	if (files == NULL) {
		return NULL;
	}
	config->files = files;
	files[config->n_files] = strdup(path);
	return files[config->n_files] ? files[config->n_files++] : NULL;
}

static int load_file(struct config *config, const char *path, bool must_exist) {
	struct parse_state state = {.config = config};
	state.file = fopen(path, "re");
	if (state.file == NULL) {
		if (errno == ENOENT && !must_exist) {
			return 0;
		}
		add_error(config, "%s: %s", path, strerror(errno));
		return -1;
	}
	state.path = remember_file(config, path);
	if (state.path == NULL) {
		fclose(state.file);
		return -1;
	}
	int r = ini_parse_stream(read_line, &state, handle_entry, &state);
	fclose(state.file);
	free(state.buf);
	if (r > 0) {
		state.line = r;
		report(&state, "%s", "syntax error");
	} else if (r < 0) {
		add_error(config, "%s: out of memory", path);
	}
	return 0;
}

/* Two rules of different seats that select by the same thing contradict each other. */
static void check_conflicts(struct config *config) {
	const struct rule_set *set = &config->rules;
	for (size_t j = 0; j < set->n_rules; j++) {
		for (size_t i = 0; i < j; i++) {
			const struct rule *a = &set->rules[i], *b = &set->rules[j];
			if (rule_same_selector(a, b) && strcmp(a->seat, b->seat) != 0) {
				add_error(config, "%s:%d: match-%s \"%s\" for %s conflicts with %s:%d (%s)",
					b->file, b->line, rule_kind_name(b->kind), b->value, b->seat,
					a->file, a->line, a->seat);
			}
		}
	}
}

int config_load(struct config *config, const char *path, bool must_exist) {
	if (load_file(config, path, must_exist) == -1) {
		return -1;
	}
	/* Drop-ins: seats.d/NAME.conf beside the main file, in name order (glob sorts). */
	char pattern[4096];
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) : 1;
	snprintf(pattern, sizeof(pattern), "%.*s/seats.d/*.conf", dir_len, slash ? path : ".");
	glob_t found;
	if (glob(pattern, 0, NULL, &found) == 0) {
		for (size_t i = 0; i < found.gl_pathc; i++) {
			load_file(config, found.gl_pathv[i], true);
		}
		globfree(&found);
	}
	check_conflicts(config);
	return config->errors != NULL ? -1 : 0;
}
