#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logind.h"

#define SEAT_IFACE "org.freedesktop.login1.Seat"
#define USER_IFACE "org.freedesktop.login1.User"

/* The seat's session, or none ("", "/") while the seat is away. */
static int append_active_session(const struct logind *ld, sd_bus_message *reply) {
	return ld->active ? sd_bus_message_append(reply, "(so)", ld->session_id, ld->session_path) :
			    sd_bus_message_append(reply, "(so)", "", "/");
}

static int append_sessions(const struct logind *ld, sd_bus_message *reply) {
	return sd_bus_message_append(reply, "a(so)", 1, ld->session_id, ld->session_path);
}

static int get_active_session(sd_bus *bus, const char *path, const char *iface,
	const char *prop, sd_bus_message *reply, void *data, sd_bus_error *error) {
	return append_active_session(data, reply);
}

static int get_sessions(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return append_sessions(data, reply);
}

/* The seat has VTs only when a VT number was configured for its session. */
static int get_can_tty(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return sd_bus_message_append(reply, "b", ld->vtnr > 0);
}

/* Switching to another session is the host's to do (seat-assign switch); its one session is
 * as good as switched to. */
static int method_switch_to(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uint32_t vtnr;
	int r = sd_bus_message_read(m, "u", &vtnr);
	if (r < 0) {
		return r;
	}
	if (vtnr == 0 || vtnr != ld->vtnr) {
		return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
			"Seat %s has no session on VT %u", ld->seat_id, vtnr);
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int method_activate_session(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	const char *id;
	int r = sd_bus_message_read(m, "s", &id);
	if (r < 0) {
		return r;
	}
	if (strcmp(id, ld->session_id) != 0) {
		return sd_bus_error_setf(error, LOGIND_ERROR_NO_SUCH_SESSION,
			"No session '%s' on seat %s", id, ld->seat_id);
	}
	return sd_bus_reply_method_return(m, NULL);
}

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

static int add_paths(struct logind *ld, const char *prefix, const char *path, const char *iface,
	const sd_bus_vtable *vtable) {
	int r = sd_bus_add_object_vtable(ld->bus, NULL, path, iface, vtable, ld);
	if (r < 0) {
		return r;
	}
	return sd_bus_add_fallback_vtable(ld->bus, NULL, prefix, iface, vtable, find_own, ld);
}

static const sd_bus_vtable seat_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "s", property_get_chars, offsetof(struct logind, seat_id),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ActiveSession", "(so)", get_active_session, 0,
		SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("CanMultiSession", "b", property_get_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("CanTTY", "b", get_can_tty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("CanGraphical", "b", property_get_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Sessions", "a(so)", get_sessions, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("IdleHint", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("SwitchTo", "u", "", method_switch_to, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ActivateSession", "s", "", method_activate_session,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int seat_add(struct logind *ld) {
	return logind_add_object(ld, LOGIND_PATH "/seat", ld->seat_id, ld->seat_path,
		sizeof(ld->seat_path), SEAT_IFACE, seat_vtable);
}

/* The User object */

static int get_user_state(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return sd_bus_message_append(reply, "s", ld->active ? "active" : "online");
}

static int get_display(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return sd_bus_message_append(reply, "(so)", ld->session_id, ld->session_path);
}

static int get_runtime_path(sd_bus *bus, const char *path, const char *iface,
	const char *prop, sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	char runtime[64];
	snprintf(runtime, sizeof(runtime), "/run/user/%u", ld->uid);
	return sd_bus_message_append(reply, "s", runtime);
}

static const sd_bus_vtable user_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UID", "u", NULL, offsetof(struct logind, uid), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("GID", "u", NULL, offsetof(struct logind, gid), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", property_get_chars, offsetof(struct logind, user_name),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("RuntimePath", "s", get_runtime_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Display", "(so)", get_display, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", get_user_state, 0, 0),
	SD_BUS_PROPERTY("Sessions", "a(so)", get_sessions, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Linger", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END,
};

int user_add(struct logind *ld) {
	/* logind names users by number with a leading underscore, not path-escaped. */
	char id[16];
	snprintf(id, sizeof(id), "_%u", ld->uid);
	snprintf(ld->user_path, sizeof(ld->user_path), LOGIND_PATH "/user/%s", id);
	return add_paths(ld, LOGIND_PATH "/user", ld->user_path, USER_IFACE, user_vtable);
}

void logind_emit_active_changed(struct logind *ld) {
	sd_bus_emit_properties_changed(ld->bus, ld->session_path, "org.freedesktop.login1.Session",
		"Active", "State", NULL);
	sd_bus_emit_properties_changed(ld->bus, ld->seat_path, SEAT_IFACE, "ActiveSession", NULL);
}

int logind_add_object(struct logind *ld, const char *prefix, const char *id, char *path,
	size_t size, const char *iface, const sd_bus_vtable *vtable) {
	char *encoded;
	int r = sd_bus_path_encode(prefix, id, &encoded);
	if (r < 0) {
		return r;
	}
	int n = snprintf(path, size, "%s", encoded);
	free(encoded);
	if (n < 0 || (size_t)n >= size) {
		return -ENAMETOOLONG;
	}
	return add_paths(ld, prefix, path, iface, vtable);
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
