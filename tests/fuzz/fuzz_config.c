/*
 * libFuzzer target: the configuration parser (inih with our handler and validation), fed
 * through a memfd so that it reads a real file as the daemon does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_check.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];
static size_t path_len;

/* Lines as the user counts them: a last line without its newline counts too. */
static long count_lines(const uint8_t *data, size_t size) {
	long n = 0;
	for (size_t i = 0; i < size; i++) {
		n += data[i] == '\n';
	}
	return n + (size > 0 && data[size - 1] != '\n');
}

/* Every error is "PATH:LINE: message", LINE a line of the input. */
static void check_errors(const char *errors, long n_lines) {
	for (const char *p = errors; *p != '\0';) {
		const char *end = strchr(p, '\n');
		check(end != NULL, "errors end with a newline");
		check(end > p, "no empty error line");
		check(strncmp(p, path, path_len) == 0 && p[path_len] == ':',
			"an error names the file");
		char *after;
		long line = strtol(p + path_len + 1, &after, 10);
		check(after > p + path_len + 1 && after[0] == ':' && after[1] == ' ',
			"an error has a line number");
		check(line >= 1 && line <= n_lines, "an error's line is a line of the file");
		p = end + 1;
	}
}

static void check_config(const struct config *config, int r) {
	check((r == 0) == (config->errors == NULL), "refused if and only if errors");
	for (size_t i = 0; i < config->n_seats; i++) {
		const struct seat_settings *seat = &config->seats[i];
		check(seat_name_is_valid(seat->name), "seat names are valid");
		check(seat->container == NULL || container_name_is_valid(seat->container),
			"container names are valid");
		check(config_find_seat(config, seat->name) == seat, "seat names are unique");
	}
	const struct rule_set *set = &config->rules;
	for (size_t i = 0; i < set->n_rules; i++) {
		const struct rule *rule = &set->rules[i];
		check(seat_name_is_valid(rule->seat), "rule seats are valid");
		check(config_find_seat(config, rule->seat) != NULL, "rules belong to a seat");
		check(rule->kind != RULE_DEVICE && rule->subsystem == NULL,
			"device rules are for seat-assign only");
		check(rule->file != NULL && rule->line >= 1, "rules say where they were written");
		/* What was kept is valid as it is, and normalizing it again changes nothing. */
		struct rule again;
		const char *why;
		check(rule_init(&again, rule->kind, rule->value, NULL, rule->seat, &why) == 0,
			"rule values stay valid");
		check(strcmp(again.value, rule->value) == 0, "normalizing is idempotent");
		check(again.specificity == rule->specificity, "specificity follows from the rule");
		rule_finish(&again);
		if (r == 0) {
			for (size_t j = 0; j < i; j++) {
				check(!rule_same_selector(rule, &set->rules[j]) ||
						strcmp(rule->seat, set->rules[j].seat) == 0,
					"an accepted configuration has no contradicting rules");
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (memfd == -1) {
		memfd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (memfd == -1) {
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		path_len = strlen(path);
	}
	if (ftruncate(memfd, 0) == -1 ||
		(size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		abort();
	}
	struct config config;
	config_init(&config);
	int r = config_load(&config, path, true);
	check_config(&config, r);
	if (config.errors != NULL) {
		check_errors(config.errors, count_lines(data, size));
	}
	config_finish(&config);
	check(config.errors == NULL && config.n_seats == 0 && config.rules.n_rules == 0,
		"config_finish leaves an empty configuration");
	return 0;
}
