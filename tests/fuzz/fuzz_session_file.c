/*
 * libFuzzer target: the login sessions file (RUN_DIR/sessions), as a starting daemon reads it.
 * Whatever the bytes, what parses is valid (seat, user and container names, a uid, a leader
 * with its start time or none), one session a seat and a user, and saving it and reading it
 * again gives the same sessions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "log.h"
#include "session_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char path[4200];

static bool same(const struct session_record *a, const struct session_record *b) {
	return strcmp(a->seat, b->seat) == 0 && strcmp(a->user, b->user) == 0 &&
	       a->uid == b->uid && strcmp(a->container, b->container) == 0 &&
	       a->since == b->since && a->leader == b->leader &&
	       a->leader_start_time == b->leader_start_time;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (dir[0] == '\0') {
		/* Errors of broken lines are the point: keep them out of the fuzzer's output. */
		log_init(LOG_LEVEL_SILENT);
		fuzz_scratch_dir(dir, sizeof(dir), "session_file");
		snprintf(path, sizeof(path), "%s/sessions", dir);
	}
	struct session_record *records, *again;
	size_t n, n_again;
	check(session_file_parse(path, (const char *)data, size, &records, &n) == 0,
		"any bytes parse");
	for (size_t i = 0; i < n; i++) {
		const struct session_record *r = &records[i];
		check(seat_name_is_valid(r->seat) && session_user_is_valid(r->user) &&
			      container_name_is_valid(r->container),
			"names are valid");
		check(r->uid != (uid_t)-1 && r->since >= 0, "uids and times are valid");
		check(r->leader == 0 ? r->leader_start_time == 0
				     : r->leader > 1 && r->leader_start_time > 0,
			"a leader has a pid and a start time");
		for (size_t j = 0; j < i; j++) {
			check(strcmp(records[j].seat, r->seat) != 0 &&
				      strcmp(records[j].user, r->user) != 0,
				"one session a seat and a user");
		}
	}
	check(session_file_save(path, records, n) == 0, "what parsed can be saved");
	check(session_file_load(path, &again, &n_again) == 0, "a saved file loads");
	check(n_again == n, "a saved file has every session");
	for (size_t i = 0; i < n; i++) {
		check(same(&records[i], &again[i]), "a saved file reads back as it was");
	}
	free(records);
	free(again);
	return 0;
}
