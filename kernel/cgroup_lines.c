#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cgroup_lines.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
	char *out = s;
	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
			s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static bool has_token(const char *list, const char *token) {
	size_t len = strlen(token);
	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, token, len) == 0 && (p[len] == ',' || p[len] == '\0')) {
			return true;
		}
	}
	return false;
}

static int copy_path(char *dst, const char *src) {
	if (strlen(src) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

void cgroup_lines_proc(char *line, char *v2, char *v1_devices) {
	line[strcspn(line, "\n")] = '\0';
	char *controllers = strchr(line, ':');
	char *path = controllers != NULL ? strchr(controllers + 1, ':') : NULL;
	if (path == NULL) {
		return;
	}
	*controllers++ = '\0';
	*path++ = '\0';
	if (strcmp(line, "0") == 0 && controllers[0] == '\0') {
		copy_path(v2, path);
	} else if (has_token(controllers, "devices")) {
		copy_path(v1_devices, path);
	}
}

void cgroup_lines_mountinfo(char *line, struct kernel_probe_cgroups *cg, char *v2_root,
	char *v1_root) {
	/* id parent maj:min root mountpoint options [optional...] - fstype source super */
	char *sep = strstr(line, " - "), *save = NULL;
	if (sep == NULL) {
		return;
	}
	*sep = '\0';
	const char *fstype = strtok_r(sep + 3, " \n", &save);
	strtok_r(NULL, " \n", &save);
	const char *super = strtok_r(NULL, " \n", &save);
	char *root = NULL, *mountpoint = NULL;
	save = NULL;
	char *field = strtok_r(line, " ", &save);
	for (int i = 0; field != NULL && i < 5; i++, field = strtok_r(NULL, " ", &save)) {
		if (i == 3) {
			root = field;
		} else if (i == 4) {
			mountpoint = field;
		}
	}
	if (fstype == NULL || root == NULL || mountpoint == NULL) {
		return;
	}
	unescape_octal(root);
	unescape_octal(mountpoint);
	if (strcmp(fstype, "cgroup2") == 0 && cg->v2[0] == '\0') {
		if (copy_path(cg->v2, mountpoint) == 0) {
			copy_path(v2_root, root);
		}
	} else if (strcmp(fstype, "cgroup") == 0 && cg->v1_devices[0] == '\0' && super != NULL &&
		has_token(super, "devices")) {
		if (copy_path(cg->v1_devices, mountpoint) == 0) {
			copy_path(v1_root, root);
		}
	}
}
