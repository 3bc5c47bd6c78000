#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct parse_state {
	struct config *config;
	const char *path;
	FILE *file;
	int line;
	int errors;
};

static void report(struct parse_state *state, const char *fmt, const char *arg) {
	fprintf(stderr, "%s:%d: ", state->path, state->line);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	state->errors++;
}

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

/* inih reads line by line through this, which lets the handler know its line number. */
static char *read_line(char *str, int num, void *stream) {
	struct parse_state *state = stream;
	char *line = fgets(str, num, state->file);
	if (line != NULL) {
		state->line++;
	}
	return line;
}

static int handle_daemon_key(struct parse_state *state, const char *name, const char *value) {
	struct config *config = state->config;
	if (strcmp(name, "source") == 0) {
		if (config_source_parse(value, &config->source) == -1) {
			report(state, "source must be auto, kernel or udev, not \"%s\"", value);
			return 1;
		}
		config->source_set = true;
	} else if (strcmp(name, "log-level") == 0) {
		if (log_level_parse(value, &config->log_level) == -1) {
			report(state, "unknown log-level \"%s\"", value);
			return 1;
		}
		config->log_level_set = true;
	} else if (strcmp(name, "control-group") == 0) {
		if (value[0] == '\0') {
			report(state, "control-group is empty%s", "");
			return 1;
		}
		free(config->control_group);
		config->control_group = strdup(value);
		if (config->control_group == NULL) {
			return 0;
		}
	} else {
		report(state, "unknown key \"%s\" in [daemon]", name);
	}
	return 1;
}

static int handle_entry(void *user, const char *section, const char *name, const char *value) {
	struct parse_state *state = user;
	if (strcmp(section, "daemon") == 0) {
		return handle_daemon_key(state, name, value);
	}
	if (section[0] == '\0') {
		report(state, "key \"%s\" outside a section", name);
	} else {
		report(state, "unknown section [%s]", section);
	}
	/* Errors are counted here; returning success lets inih go on and find the others. */
	return 1;
}

void config_init(struct config *config) {
	memset(config, 0, sizeof(*config));
	config->source = CONFIG_SOURCE_AUTO;
	config->log_level = LOG_LEVEL_INFO;
}

void config_finish(struct config *config) {
	free(config->control_group);
	config->control_group = NULL;
}

int config_load(struct config *config, const char *path, bool must_exist) {
	struct parse_state state = {.config = config, .path = path};
	state.file = fopen(path, "re");
	if (state.file == NULL) {
		if (errno == ENOENT && !must_exist) {
			return 0;
		}
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	int r = ini_parse_stream(read_line, &state, handle_entry, &state);
	fclose(state.file);
	if (r > 0) {
		state.line = r;
		report(&state, "syntax error%s", "");
	} else if (r < 0) {
		fprintf(stderr, "%s: cannot parse (out of memory)\n", path);
		return -1;
	}
	return state.errors > 0 ? -1 : 0;
}
