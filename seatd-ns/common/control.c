#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

static bool key_is_valid(const char *key, size_t len) {
	if (len == 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
			return false;
		}
	}
	return true;
}

/* A type is a key that may also have "-" after its first character (login-leader). */
static bool type_is_valid(const char *type) {
	size_t len = strlen(type);
	if (len == 0 || type[0] == '-') {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (type[i] != '-' && !key_is_valid(type + i, 1)) {
			return false;
		}
	}
	return true;
}

int control_record_parse(struct control_record *rec, char *buf, size_t len) {
	memset(rec, 0, sizeof(*rec));
	if (len == 0 || len > CONTROL_MAX_MESSAGE || buf[len - 1] != '\0') {
		goto invalid;
	}
	rec->type = buf;
	if (!type_is_valid(rec->type)) {
		goto invalid;
	}
	char *p = buf + strlen(buf) + 1, *end = buf + len;
	while (p < end) {
		char *eq = strchr(p, '=');
		if (eq == NULL || !key_is_valid(p, (size_t)(eq - p))) {
			goto invalid;
		}
		*eq = '\0';
		if (control_record_get(rec, p) != NULL || rec->n_fields == CONTROL_MAX_FIELDS) {
			goto invalid;
		}
		rec->fields[rec->n_fields].key = p;
		rec->fields[rec->n_fields].value = eq + 1;
		rec->n_fields++;
		p = eq + 1 + strlen(eq + 1) + 1;
	}
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

const char *control_record_get(const struct control_record *rec, const char *key) {
	for (size_t i = 0; i < rec->n_fields; i++) {
		if (strcmp(rec->fields[i].key, key) == 0) {
			return rec->fields[i].value;
		}
	}
	return NULL;
}

void control_builder_init(struct control_builder *b, const char *type) {
	b->len = 0;
	b->overflow = false;
	size_t n = strlen(type) + 1;
	if (n > sizeof(b->buf)) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf, type, n);
	b->len = n;
}

void control_builder_add(struct control_builder *b, const char *key, const char *value) {
	if (value == NULL || b->overflow) {
		return;
	}
	int n = snprintf(b->buf + b->len, sizeof(b->buf) - b->len, "%s=%s", key, value);
	if (n < 0 || b->len + (size_t)n + 1 > sizeof(b->buf)) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n + 1;
}

void control_builder_addf(struct control_builder *b, const char *key, const char *fmt, ...) {
	char value[CONTROL_MAX_MESSAGE];
	va_list args;
	va_start(args, fmt);
	int n = vsnprintf(value, sizeof(value), fmt, args);
	va_end(args);
	if (n < 0 || (size_t)n >= sizeof(value)) {
		b->overflow = true;
		return;
	}
	control_builder_add(b, key, value);
}

int control_connect(const char *path) {
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
