#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

static const char *value_of(const char *arg, const char *key) {
	size_t n = strlen(key);
	if (strncmp(arg, key, n) == 0 && arg[n] == '=') {
		return arg + n + 1;
	}
	return NULL;
}

int pam_args_parse(struct pam_args *args, int argc, const char **argv, char *why, size_t len) {
	*args = (struct pam_args){
		.container = PAM_ARGS_DEFAULT_CONTAINER,
		.desktop = PAM_ARGS_DEFAULT_DESKTOP,
		.stop_after_logout = true,
	};
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *v;
		if ((v = value_of(arg, "seat")) != NULL) {
			args->seat = v;
		} else if ((v = value_of(arg, "container")) != NULL) {
			args->container = v;
		} else if ((v = value_of(arg, "template")) != NULL) {
			args->template = v;
		} else if ((v = value_of(arg, "desktop")) != NULL) {
			args->desktop = v;
		} else if ((v = value_of(arg, "socket")) != NULL) {
			args->socket = v;
		} else if ((v = value_of(arg, "lxcpath")) != NULL) {
			args->lxcpath = v;
		} else if ((v = value_of(arg, "after-logout")) != NULL) {
			if (strcmp(v, "keep") == 0) {
				args->stop_after_logout = false;
			} else if (strcmp(v, "stop") == 0) {
				args->stop_after_logout = true;
			} else {
				snprintf(why, len, "after-logout=%s: keep or stop", v);
				goto invalid;
			}
		} else if (strcmp(arg, "debug") == 0) {
			args->debug = true;
		} else {
			snprintf(why, len, "unknown argument \"%s\"", arg);
			goto invalid;
		}
		if (v != NULL && v[0] == '\0') {
			snprintf(why, len, "%s has no value", arg);
			goto invalid;
		}
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int pam_args_container_name(const char *pattern, const char *user, unsigned uid, char *out,
	size_t size, char *why, size_t len) {
	size_t off = 0;
	for (const char *p = pattern; *p != '\0' && off < size; p++) {
		if (*p != '%') {
			out[off++] = *p;
			continue;
		}
		int n;
		switch (*++p) {
		case 'u':
			n = snprintf(out + off, size - off, "%s", user);
			break;
		case 'U':
			n = snprintf(out + off, size - off, "%u", uid);
			break;
		case '%':
			n = snprintf(out + off, size - off, "%%");
			break;
		default:
			snprintf(why, len, "container=%s: unknown %%%c (%%u, %%U or %%%%)", pattern,
				*p != '\0' ? *p : ' ');
			goto invalid;
		}
		off += (size_t)n;
	}
	if (off >= size) {
		snprintf(why, len, "container=%s: the name for %s is too long", pattern, user);
		goto invalid;
	}
	out[off] = '\0';
	/* LXC makes a directory of that name in its lxcpath. */
	if (off == 0 || strchr(out, '/') != NULL || strcmp(out, ".") == 0 ||
		strcmp(out, "..") == 0) {
		snprintf(why, len, "container=%s: \"%s\" is not a container name", pattern, out);
		goto invalid;
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int pam_args_template(const struct pam_args *args, const char *file, char *out, size_t size) {
	if (args->template != NULL) {
		if (strlen(args->template) >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(out, args->template);
		return 1;
	}
	FILE *f = fopen(file != NULL ? file : PAM_ARGS_TEMPLATE_FILE, "re");
	if (f == NULL) {
		return errno == ENOENT ? 0 : -1;
	}
	char line[256];
	int r = 0;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (strlen(line) >= size) {
			errno = ENAMETOOLONG;
			r = -1;
		} else if (line[0] != '\0') {
			strcpy(out, line);
			r = 1;
		}
	}
	fclose(f);
	return r;
}
