/*
 * libFuzzer target: the lines of /proc/PID/cgroup (whose cgroup names below its own a
 * container chooses) and of mountinfo that say where the cgroup hierarchies are. Each line
 * of the input goes to both parsers, NUL-terminated in a buffer of its exact size; what they
 * keep must be a NUL-terminated path that fits PATH_MAX.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *path) {
	if (memchr(path, '\0', PATH_MAX) == NULL) {
		__builtin_trap();
	}
}

/* A copy of line[0..len) NUL-terminated, in a buffer of its exact size. */
static char *copy_line(const uint8_t *line, size_t len) {
	char *copy = malloc(len + 1);
	if (copy == NULL) {
		abort();
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static struct kernel_probe_cgroups cg;
	static char v2[PATH_MAX], v1[PATH_MAX], v2_root[PATH_MAX], v1_root[PATH_MAX];
	memset(&cg, 0, sizeof(cg));
	v2[0] = v1[0] = '\0';
	strcpy(v2_root, "/");
	strcpy(v1_root, "/");
	for (size_t start = 0; start < size;) {
		const uint8_t *end = memchr(data + start, '\n', size - start);
		size_t len = end != NULL ? (size_t)(end - data) + 1 - start : size - start;
		char *line = copy_line(data + start, len);
		cgroup_lines_proc(line, v2, v1);
		free(line);
		line = copy_line(data + start, len);
		cgroup_lines_mountinfo(line, &cg, v2_root, v1_root);
		free(line);
		start += len;
	}
	check_path(v2);
	check_path(v1);
	check_path(cg.v2);
	check_path(cg.v1_devices);
	check_path(v2_root);
	check_path(v1_root);
	return 0;
}
