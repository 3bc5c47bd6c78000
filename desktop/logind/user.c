#include <stdio.h>

#include "logind.h"

#define USER_IFACE "org.freedesktop.login1.User"

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
	SD_BUS_PROPERTY("Sessions", "a(so)", property_get_sessions, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Linger", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END,
};

int user_add(struct logind *ld) {
	/* logind names users by number with a leading underscore, not path-escaped. */
	snprintf(ld->user_path, sizeof(ld->user_path), LOGIND_PATH "/user/_%u", ld->uid);
	return logind_add_object(ld, LOGIND_PATH "/user", ld->user_path, USER_IFACE, user_vtable);
}
