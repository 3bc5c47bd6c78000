#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input_class.h"
#include "path_id.h"
#include "sysfs.h"

/*
 * Prints what udev's input_id and path_id builtins would add to a device of a sysfs tree, in
 * udevadm test-builtin's "KEY=VALUE" lines, for tests/integration/udev-builtins.sh to compare:
 * the ID_INPUT* properties, then ID_PATH.
 *
 *   print_classes SYSFS_ROOT DEVPATH
 */

/*
 * Finds the input device of devpath as input_id does: devpath itself if it has capabilities,
 * else the nearest ancestor of subsystem "input" that has. Returns 1 and fills caps, 0 if
 * there is none, -1 on errors.
 */
static int find_input_caps(int root_fd, const char *devpath, struct input_caps *caps) {
	char dir[4096];
	if (strlen(devpath) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(dir, devpath);
	for (;;) {
		if (input_caps_from_sysfs(caps, root_fd, dir) == 0) {
			return 1;
		}
		if (errno != ENOENT) {
			return -1;
		}
		char subsystem[64] = "";
		while (strcmp(subsystem, "input") != 0) {
			char *slash = strrchr(dir, '/');
			if (slash == NULL || slash == dir) {
				return 0;
			}
			*slash = '\0';
			if (sysfs_read_link_name(root_fd, dir, "subsystem", subsystem,
				    sizeof(subsystem)) == -1) {
				subsystem[0] = '\0';
			}
		}
	}
}

int main(int argc, char *argv[]) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s SYSFS_ROOT DEVPATH\n", argv[0]);
		return EXIT_FAILURE;
	}
	int root_fd = sysfs_open(argv[1]);
	if (root_fd == -1) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return EXIT_FAILURE;
	}

	struct input_caps caps;
	int found = find_input_caps(root_fd, argv[2], &caps);
	if (found == -1) {
		fprintf(stderr, "%s: capabilities: %s\n", argv[2], strerror(errno));
		goto fail;
	}
	if (found == 1) {
		uint32_t classes = input_classify(&caps);
		for (unsigned int i = 0; i < INPUT_CLASS_COUNT; i++) {
			if (classes & 1u << i) {
				printf("%s=1\n", input_class_property(1u << i));
			}
		}
	}

	char id_path[1024];
	if (path_id_compute(root_fd, argv[2], id_path, sizeof(id_path)) == 0) {
		printf("ID_PATH=%s\n", id_path);
	} else if (errno != ENOENT) {
		fprintf(stderr, "%s: path_id: %s\n", argv[2], strerror(errno));
		goto fail;
	}
	close(root_fd);
	return EXIT_SUCCESS;

fail:
	close(root_fd);
	return EXIT_FAILURE;
}
