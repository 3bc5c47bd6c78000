/*
 * libFuzzer target: the registrations file (RUN_DIR/registrations), as a starting daemon
 * reads it. Whatever the bytes, what parses is valid (a container name, a pid that is not
 * init's, a start time), and saving it and reading it again gives the same registrations.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "log.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char path[4200];

static bool same(const struct registration *a, const struct registration *b) {
	return strcmp(a->name, b->name) == 0 && a->pid == b->pid &&
	       a->start_time == b->start_time && a->protocol == b->protocol &&
	       a->kernel_events == b->kernel_events && a->privileged == b->privileged;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (dir[0] == '\0') {
		/* Errors of broken lines are the point: keep them out of the fuzzer's output. */
		log_init(LOG_LEVEL_SILENT);
		fuzz_scratch_dir(dir, sizeof(dir), "registry");
		snprintf(path, sizeof(path), "%s/registrations", dir);
	}
	struct registration *regs, *again;
	size_t n, n_again;
	check(registry_parse(path, (const char *)data, size, &regs, &n) == 0, "any bytes parse");
	for (size_t i = 0; i < n; i++) {
		check(container_name_is_valid(regs[i].name), "names are valid");
		check(regs[i].pid > 1 && regs[i].start_time > 0, "pids and start times are valid");
	}
	check(registry_save(path, regs, n) == 0, "what parsed can be saved");
	check(registry_load(path, &again, &n_again) == 0, "a saved file loads");
	check(n_again == n, "a saved file has every registration");
	for (size_t i = 0; i < n; i++) {
		check(same(&regs[i], &again[i]), "a saved file reads back as it was");
	}
	free(regs);
	free(again);
	return 0;
}
