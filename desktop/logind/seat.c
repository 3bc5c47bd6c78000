#include <string.h>

#include "logind.h"

#define SEAT_IFACE "org.freedesktop.login1.Seat"

/* The seat's session, or none ("", "/") while the seat is away. */
static int get_active_session(sd_bus *bus, const char *path, const char *iface,
	const char *prop, sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return ld->active ? sd_bus_message_append(reply, "(so)", ld->session_id, ld->session_path) :
			    sd_bus_message_append(reply, "(so)", "", "/");
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

static const sd_bus_vtable seat_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "s", property_get_chars, offsetof(struct logind, seat_id),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ActiveSession", "(so)", get_active_session, 0,
		SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("CanMultiSession", "b", property_get_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("CanTTY", "b", get_can_tty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("CanGraphical", "b", property_get_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Sessions", "a(so)", property_get_sessions, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("IdleHint", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("SwitchTo", "u", "", method_switch_to, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ActivateSession", "s", "", method_activate_session,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int seat_add(struct logind *ld) {
	int r = logind_object_path(LOGIND_PATH "/seat", ld->seat_id, ld->seat_path,
		sizeof(ld->seat_path));
	if (r < 0) {
		return r;
	}
	return logind_add_object(ld, LOGIND_PATH "/seat", ld->seat_path, SEAT_IFACE, seat_vtable);
}
