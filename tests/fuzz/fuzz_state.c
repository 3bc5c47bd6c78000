/*
 * libFuzzer target: the state file (STATE_DIR/state), as the daemon reads it at start. Whatever
 * the bytes, what loads is valid, and saving it and loading it again gives the same file: a
 * state the daemon wrote reads back as it was, so no decision drifts across restarts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "log.h"
#include "policy.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char path[4200];

static void write_file(const uint8_t *data, size_t size) {
	FILE *f = fopen(path, "we");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		abort();
	}
}

/* The file as state_save wrote it; the caller frees it. */
static char *saved(const struct state *state, size_t *len) {
	check(state_save(state) == 0, "a loaded state can be saved");
	FILE *f = fopen(path, "re");
	char *text = NULL;
	if (f == NULL || getdelim(&text, len, '\0', f) == -1) {
		abort();
	}
	fclose(f);
	*len = strlen(text);
	return text;
}

static void check_state(const struct state *state) {
	for (size_t i = 0; i < state->n_seats; i++) {
		check(seat_name_is_valid(state->seats[i]), "seat names are valid");
	}
	for (size_t i = 0; i < state->n_attachments; i++) {
		const struct attachment *a = &state->attachments[i];
		check(seat_name_is_valid(a->seat), "attachment seats are valid");
		check(a->n_containers <= STATE_MAX_CONTAINERS, "at most the most containers");
		check(a->n_containers == 0 || a->active < a->n_containers, "the active one is attached");
		for (size_t j = 0; j < a->n_containers; j++) {
			check(container_name_is_valid(a->containers[j]), "container names are valid");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (dir[0] == '\0') {
		/* Errors of broken lines are the point: keep them out of the fuzzer's output. */
		log_init(LOG_LEVEL_SILENT);
		fuzz_scratch_dir(dir, sizeof(dir), "state");
		snprintf(path, sizeof(path), "%s/state", dir);
	}
	write_file(data, size);
	struct state state;
	check(state_load(&state, dir) == 0, "a readable file loads");
	check_state(&state);
	size_t len1, len2;
	char *first = saved(&state, &len1);
	state_finish(&state);
	check(state_load(&state, dir) == 0, "a saved state loads");
	char *second = saved(&state, &len2);
	check(len1 == len2 && memcmp(first, second, len1) == 0, "a saved state reads back as it was");
	state_finish(&state);
	free(first);
	free(second);
	return 0;
}
