#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uevent.h"

#define DEVPATH_MAX 1024
#define MAJOR_MAX 0xfffu   /* the kernel's dev_t has 12 bits of major */
#define MINOR_MAX 0xfffffu /* and 20 bits of minor */

static const char *const action_names[] = {
	[UEVENT_ACTION_ADD] = "add",
	[UEVENT_ACTION_REMOVE] = "remove",
	[UEVENT_ACTION_CHANGE] = "change",
	[UEVENT_ACTION_MOVE] = "move",
	[UEVENT_ACTION_ONLINE] = "online",
	[UEVENT_ACTION_OFFLINE] = "offline",
	[UEVENT_ACTION_BIND] = "bind",
	[UEVENT_ACTION_UNBIND] = "unbind",
};

const char *uevent_action_name(enum uevent_action action) {
	return action_names[action];
}

int uevent_action_parse(const char *name, enum uevent_action *action) {
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		if (strcmp(name, action_names[i]) == 0) {
			*action = (enum uevent_action)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

static bool has_control_chars(const char *s) {
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			return true;
		}
	}
	return false;
}

/* A relative path of plain components: no empty, "." or ".." component, no control chars. */
static bool relative_path_is_valid(const char *path) {
	if (*path == '\0' || *path == '/' || has_control_chars(path)) {
		return false;
	}
	const char *c = path;
	while (*c != '\0') {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			return false;
		}
		c += n;
		if (*c == '/') {
			c++;
			if (*c == '\0') {
				return false;
			}
		}
	}
	return true;
}

/* A kobject path as the kernel sends it: absolute, then plain components. */
static bool kobject_path_is_valid(const char *path) {
	return path[0] == '/' && strlen(path) < DEVPATH_MAX && relative_path_is_valid(path + 1);
}

bool uevent_devpath_is_valid(const char *devpath) {
	return strncmp(devpath, "/devices/", 9) == 0 && kobject_path_is_valid(devpath);
}

/* A single name such as a subsystem, devtype or driver: no slash, no control chars. */
static bool name_is_valid(const char *name) {
	return name[0] != '\0' && strchr(name, '/') == NULL && !has_control_chars(name) &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static bool key_is_valid(const char *key, size_t len) {
	if (len == 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == '.' || c == '-')) {
			return false;
		}
	}
	return true;
}

/* Decimal digits only, no sign, no overflow past max. */
static int parse_decimal(const char *s, unsigned long long max, unsigned long long *out) {
	if (*s == '\0') {
		return -1;
	}
	unsigned long long v = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return -1;
		}
		unsigned digit = (unsigned)(*s - '0');
		if (v > (max - digit) / 10) {
			return -1;
		}
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

const char *uevent_get(const struct uevent *ev, const char *key) {
	for (size_t i = 0; i < ev->n_properties; i++) {
		if (strcmp(ev->properties[i].key, key) == 0) {
			return ev->properties[i].value;
		}
	}
	return NULL;
}

/* Splits buf[0..len) at NULs into properties; buf[len] must be writable. */
static int split_properties(struct uevent *ev, char *buf, size_t len, const char **why) {
	buf[len] = '\0';
	char *p = buf, *end = buf + len;
	while (p < end) {
		size_t n = strlen(p);
		if (n == 0) {
			/* A trailing NUL ends the list; an empty string in the middle does not. */
			if (p + 1 == end) {
				break;
			}
			*why = "empty property";
			return -1;
		}
		char *eq = strchr(p, '=');
		if (eq == NULL || !key_is_valid(p, (size_t)(eq - p))) {
			*why = "property without a valid KEY=";
			return -1;
		}
		*eq = '\0';
		if (uevent_get(ev, p) != NULL) {
			*why = "duplicate property";
			return -1;
		}
		if (ev->n_properties == UEVENT_MAX_PROPERTIES) {
			*why = "too many properties";
			return -1;
		}
		ev->properties[ev->n_properties].key = p;
		ev->properties[ev->n_properties].value = eq + 1;
		ev->n_properties++;
		p += n + 1;
	}
	return 0;
}

/* Fills and checks the well-known fields from the properties. */
static int check_properties(struct uevent *ev, const char **why) {
	const char *action = uevent_get(ev, "ACTION");
	if (action == NULL || uevent_action_parse(action, &ev->action) == -1) {
		*why = action == NULL ? "no ACTION" : "unknown ACTION";
		return -1;
	}
	ev->devpath = uevent_get(ev, "DEVPATH");
	if (ev->devpath == NULL || !kobject_path_is_valid(ev->devpath)) {
		*why = ev->devpath == NULL ? "no DEVPATH" : "DEVPATH is not a clean kobject path";
		return -1;
	}
	ev->subsystem = uevent_get(ev, "SUBSYSTEM");
	if (ev->subsystem == NULL || !name_is_valid(ev->subsystem)) {
		*why = ev->subsystem == NULL ? "no SUBSYSTEM" : "invalid SUBSYSTEM";
		return -1;
	}
	ev->devpath_old = uevent_get(ev, "DEVPATH_OLD");
	if (ev->devpath_old != NULL && !kobject_path_is_valid(ev->devpath_old)) {
		*why = "DEVPATH_OLD is not a clean kobject path";
		return -1;
	}
	if (ev->action == UEVENT_ACTION_MOVE && ev->devpath_old == NULL) {
		*why = "move without DEVPATH_OLD";
		return -1;
	}
	ev->devtype = uevent_get(ev, "DEVTYPE");
	ev->driver = uevent_get(ev, "DRIVER");
	if ((ev->devtype != NULL && !name_is_valid(ev->devtype)) ||
		(ev->driver != NULL && !name_is_valid(ev->driver))) {
		*why = "invalid DEVTYPE or DRIVER";
		return -1;
	}
	ev->devname = uevent_get(ev, "DEVNAME");
	if (ev->devname != NULL) {
		/* udev's messages carry "/dev/input/event1", the kernel's "input/event1". */
		if (strncmp(ev->devname, "/dev/", 5) == 0) {
			ev->devname += 5;
		}
		if (strlen(ev->devname) >= DEVPATH_MAX || !relative_path_is_valid(ev->devname)) {
			*why = "DEVNAME is not a clean path below /dev";
			return -1;
		}
	}
	const char *major = uevent_get(ev, "MAJOR"), *minor = uevent_get(ev, "MINOR");
	ev->has_devnum = false;
	if (major != NULL || minor != NULL) {
		unsigned long long ma, mi;
		if (major == NULL || minor == NULL || parse_decimal(major, MAJOR_MAX, &ma) == -1 ||
			parse_decimal(minor, MINOR_MAX, &mi) == -1) {
			*why = "invalid MAJOR/MINOR";
			return -1;
		}
		ev->major = (unsigned)ma;
		ev->minor = (unsigned)mi;
		ev->has_devnum = true;
	}
	const char *seqnum = uevent_get(ev, "SEQNUM");
	unsigned long long seq = 0;
	if (seqnum != NULL && parse_decimal(seqnum, UINT64_MAX, &seq) == -1) {
		*why = "invalid SEQNUM";
		return -1;
	}
	ev->seqnum = seq;
	return 0;
}

int uevent_parse_properties(struct uevent *ev, char *buf, size_t len, const char **why) {
	memset(ev, 0, sizeof(*ev));
	if (len == 0 || len > UEVENT_MAX_SIZE) {
		*why = len == 0 ? "empty message" : "oversized message";
		goto invalid;
	}
	if (split_properties(ev, buf, len, why) == -1 || check_properties(ev, why) == -1) {
		goto invalid;
	}
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

int uevent_parse_kernel(struct uevent *ev, char *buf, size_t len, const char **why) {
	memset(ev, 0, sizeof(*ev));
	if (len == 0 || len > UEVENT_MAX_SIZE) {
		*why = len == 0 ? "empty message" : "oversized message";
		goto invalid;
	}
	buf[len] = '\0';
	size_t header_len = strlen(buf);
	char *at = strchr(buf, '@');
	if (at == NULL || header_len + 1 >= len) {
		*why = at == NULL ? "no ACTION@DEVPATH header" : "header without properties";
		goto invalid;
	}
	if (uevent_parse_properties(ev, buf + header_len + 1, len - header_len - 1, why) == -1) {
		return -1;
	}
	/* The header must say what the properties say: a mismatch is not from the kernel. */
	size_t action_len = (size_t)(at - buf);
	const char *action = uevent_action_name(ev->action);
	if (strlen(action) != action_len || strncmp(buf, action, action_len) != 0 ||
		strcmp(at + 1, ev->devpath) != 0) {
		*why = "header does not match ACTION and DEVPATH";
		goto invalid;
	}
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

int uevent_format_kernel(const struct uevent *ev, bool with_seqnum, char *buf, size_t size) {
	size_t off = 0;
	int n = snprintf(buf, size, "%s@%s", uevent_action_name(ev->action), ev->devpath);
	if (n < 0 || (size_t)n + 1 > size) {
		goto nobufs;
	}
	off = (size_t)n + 1;
	for (size_t i = 0; i < ev->n_properties; i++) {
		const struct uevent_property *p = &ev->properties[i];
		if (!with_seqnum && strcmp(p->key, "SEQNUM") == 0) {
			continue;
		}
		n = snprintf(buf + off, size - off, "%s=%s", p->key, p->value);
		if (n < 0 || off + (size_t)n + 1 > size) {
			goto nobufs;
		}
		off += (size_t)n + 1;
	}
	return (int)off;

nobufs:
	errno = ENOBUFS;
	return -1;
}
