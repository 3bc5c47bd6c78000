#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logind.h"

/* PREFIX/self and PREFIX/auto: the caller's own object, when the caller is the session's. */
static int find_own(sd_bus *bus, const char *path, const char *iface, void *data, void **found,
	sd_bus_error *error) {
	struct logind *ld = data;
	const char *leaf = strrchr(path, '/');
	sd_bus_message *m = sd_bus_get_current_message(bus);
	size_t depth = 0;
	for (const char *p = path; *p != '\0'; p++) {
		depth += *p == '/';
	}
	/* Only right below the prefix: /org/freedesktop/login1/KIND/LEAF. */
	if (depth != 5 || !manager_names_self(leaf + 1) || m == NULL ||
		!manager_caller_in_session(ld, m)) {
		return 0;
	}
	*found = ld;
	return 1;
}

int logind_add_object(struct logind *ld, const char *prefix, const char *path,
	const char *iface, const sd_bus_vtable *vtable) {
	int r = sd_bus_add_object_vtable(ld->bus, NULL, path, iface, vtable, ld);
	if (r < 0) {
		return r;
	}
	return sd_bus_add_fallback_vtable(ld->bus, NULL, prefix, iface, vtable, find_own, ld);
}

int logind_object_path(const char *prefix, const char *id, char *path, size_t size) {
	char *encoded;
	int r = sd_bus_path_encode(prefix, id, &encoded);
	if (r < 0) {
		return r;
	}
	int n = snprintf(path, size, "%s", encoded);
	free(encoded);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void logind_emit_active_changed(struct logind *ld) {
	sd_bus_emit_properties_changed(ld->bus, ld->session_path, "org.freedesktop.login1.Session",
		"Active", "State", NULL);
	sd_bus_emit_properties_changed(ld->bus, ld->seat_path, "org.freedesktop.login1.Seat",
		"ActiveSession", NULL);
}

/* Shared property getters */

int property_get_chars(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", (const char *)data);
}

int property_get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return sd_bus_message_append(reply, "b", *(const bool *)data);
}

int property_get_true(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return sd_bus_message_append(reply, "b", 1);
}

int property_get_false(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return sd_bus_message_append(reply, "b", 0);
}

int property_get_empty(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", "");
}

int property_get_sessions(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return sd_bus_message_append(reply, "a(so)", 1, ld->session_id, ld->session_path);
}
