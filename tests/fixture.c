#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

static char unpack_dir[256];
static char sysfs_root[512];

static int run(char *const argv[]) {
	pid_t pid = fork();
	if (pid == -1) {
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void remove_unpacked(void) {
	if (unpack_dir[0] != '\0') {
		char *argv[] = {"rm", "-rf", unpack_dir, NULL};
		run(argv);
	}
}

static const char *fixture_dir(void) {
	const char *dir = getenv("SEATD_NS_FIXTURES");
	if (dir == NULL) {
		fprintf(stderr, "SEATD_NS_FIXTURES is not set\n");
		exit(EXIT_FAILURE);
	}
	return dir;
}

static void unpack(void) {
	if (unpack_dir[0] != '\0') {
		return;
	}
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(unpack_dir, sizeof(unpack_dir), "%s/seatd-ns-fixture.XXXXXX", tmp);
	if (mkdtemp(unpack_dir) == NULL) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
	atexit(remove_unpacked);
	char archive[512];
	snprintf(archive, sizeof(archive), "%s/lab-2seat.tgz", fixture_dir());
	char *argv[] = {"tar", "-xzf", archive, "-C", unpack_dir, NULL};
	if (run(argv) == -1) {
		fprintf(stderr, "cannot unpack %s\n", archive);
		exit(EXIT_FAILURE);
	}
	snprintf(sysfs_root, sizeof(sysfs_root), "%s/sysfs/sys", unpack_dir);
}

static char scratch_dir[256];

static void remove_scratch(void) {
	char *argv[] = {"rm", "-rf", scratch_dir, NULL};
	run(argv);
}

const char *fixture_scratch_dir(void) {
	if (scratch_dir[0] == '\0') {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(scratch_dir, sizeof(scratch_dir), "%s/seatd-ns-test.XXXXXX", tmp);
		if (mkdtemp(scratch_dir) == NULL) {
			perror("mkdtemp");
			exit(EXIT_FAILURE);
		}
		atexit(remove_scratch);
	}
	return scratch_dir;
}

const char *fixture_sysfs_root(void) {
	unpack();
	return sysfs_root;
}

size_t fixture_read_records(const char *path, struct fixture_record **records) {
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	size_t n = 0, cap = 0;
	struct fixture_record *list = NULL;
	unsigned char len_le[4];
	while (fread(len_le, 1, 4, f) == 4) {
		uint32_t len = (uint32_t)len_le[0] | (uint32_t)len_le[1] << 8 |
			       (uint32_t)len_le[2] << 16 | (uint32_t)len_le[3] << 24;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			list = realloc(list, cap * sizeof(*list));
		}
		if (list == NULL || (list[n].data = malloc(len + 1)) == NULL ||
			fread(list[n].data, 1, len, f) != len) {
			fprintf(stderr, "%s: truncated record %zu\n", path, n);
			exit(EXIT_FAILURE);
		}
		list[n].data[len] = '\0';
		list[n].len = len;
		n++;
	}
	fclose(f);
	*records = list;
	return n;
}

size_t fixture_load_uevents(struct fixture_record **records) {
	unpack();
	char path[512];
	snprintf(path, sizeof(path), "%s/uevents.bin", unpack_dir);
	return fixture_read_records(path, records);
}

void fixture_records_free(struct fixture_record *records, size_t n) {
	for (size_t i = 0; i < n; i++) {
		free(records[i].data);
	}
	free(records);
}
