/*
 * libFuzzer target: seatd-ns-logind's reader of /proc/PID/status (the real uid of a process
 * that asks for its session), fed the bytes as they are (no terminating NUL). Checks what
 * must hold of any text: a uid found is written in it after "Uid:", a valid line put first
 * wins, and a valid line put last changes nothing but a text without a Uid line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_uid_line(const uint8_t *data, size_t size) {
	for (size_t i = 0; i + 4 <= size; i++) {
		if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, "Uid:", 4) == 0) {
			return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *copy = malloc(size > 0 ? size : 1);
	if (copy == NULL) {
		abort();
	}
	if (size > 0) {
		memcpy(copy, data, size);
	}
	uid_t uid;
	int r = proc_status_uid(copy, size, &uid);
	if (r == 0) {
		char digits[16];
		snprintf(digits, sizeof(digits), "%u", (unsigned)uid);
		check(memmem(copy, size, digits, strlen(digits)) != NULL, "uid is in the text");
		check(has_uid_line(data, size), "a uid comes from a Uid line");
		check(uid != (uid_t)-1, "(uid_t)-1 is no uid");
	}
	free(copy);

	size_t len;
	uid_t first;
	char *text = fuzz_with_line(data, size, "Uid:\t4321\t4321\t4321\t4321\n", true, &len);
	check(proc_status_uid(text, len, &first) == 0 && first == 4321, "a first Uid line wins");
	free(text);

	uid_t last;
	text = fuzz_with_line(data, size, "\nUid:\t1234\t1234\t1234\t1234\n", false, &len);
	int r_last = proc_status_uid(text, len, &last);
	if (r == 0) {
		check(r_last == 0 && last == uid, "a later Uid line changes nothing");
	} else if (!has_uid_line(data, size)) {
		check(r_last == 0 && last == 1234, "a Uid line after text without one is read");
	}
	free(text);
	return 0;
}
