#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "uevent_file.h"

int uevent_file_append(char *buf, size_t *off, size_t size, const char *key, const char *value) {
	int n = snprintf(buf + *off, size - *off, "%s=%s", key, value);
	if (n < 0 || *off + (size_t)n + 1 > size) {
		errno = ENOBUFS;
		return -1;
	}
	*off += (size_t)n + 1;
	return 0;
}

int uevent_file_event(char *buf, size_t *off, size_t size, const char *devpath,
	const char *subsystem, char *text) {
	*off = 0;
	if (uevent_file_append(buf, off, size, "ACTION", "add") == -1 ||
		uevent_file_append(buf, off, size, "DEVPATH", devpath) == -1 ||
		uevent_file_append(buf, off, size, "SUBSYSTEM", subsystem) == -1) {
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
		line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		if (*off + len + 1 > size) {
			errno = ENOBUFS;
			return -1;
		}
		memcpy(buf + *off, line, len + 1);
		*off += len + 1;
	}
	return 0;
}

/* Whether "KEY=" is among the NUL-separated properties in buf[0..len). */
static bool has_key(const char *buf, size_t len, const char *key, size_t key_len) {
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		if (strncmp(buf + i, key, key_len) == 0 && buf[i + key_len] == '=') {
			return true;
		}
	}
	return false;
}

int uevent_file_add_db_line(char *buf, size_t *off, size_t size, size_t base, char *line) {
	line[strcspn(line, "\n")] = '\0';
	char *eq = strchr(line, '=');
	if (strncmp(line, "E:", 2) != 0 || eq == NULL ||
		has_key(buf, base, line + 2, (size_t)(eq - line - 2))) {
		return 0;
	}
	*eq = '\0';
	return uevent_file_append(buf, off, size, line + 2, eq + 1);
}
