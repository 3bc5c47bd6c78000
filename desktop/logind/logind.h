#ifndef _SEATD_NS_LOGIND_H
#define _SEATD_NS_LOGIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "seat_devices.h"

/*
 * seatd-ns-logind: the part of systemd-logind's D-Bus API that display servers use, for a
 * desktop container whose seat is served by seatd-ns. It holds one seat (the one its libseat
 * endpoint names) with one session on it; the devices come from the endpoint through libseat,
 * so DRM master, revocation and seat switches stay with the host's daemon.
 */

#define LOGIND_BUS_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_ID_MAX 64

/* logind's own error names, which clients compare. */
#define LOGIND_ERROR_NO_SUCH_SESSION "org.freedesktop.login1.NoSuchSession"
#define LOGIND_ERROR_NO_SESSION_FOR_PID "org.freedesktop.login1.NoSessionForPID"
#define LOGIND_ERROR_NO_SUCH_SEAT "org.freedesktop.login1.NoSuchSeat"
#define LOGIND_ERROR_NO_SUCH_USER "org.freedesktop.login1.NoSuchUser"
#define LOGIND_ERROR_NOT_IN_CONTROL "org.freedesktop.login1.NotInControl"
#define LOGIND_ERROR_DEVICE_IS_TAKEN "org.freedesktop.login1.DeviceIsTaken"
#define LOGIND_ERROR_DEVICE_NOT_TAKEN "org.freedesktop.login1.DeviceNotTaken"

/* A device the session's controller took. */
struct session_device {
	struct session_device *next;
	dev_t devnum;
	enum seat_device_class class;
	char path[64];    /* its name in the container's /dev, as libseat asks for it */
	int fd;           /* what the controller was given: the device, or an O_PATH placeholder */
	int device_id;    /* libseat's id while open through the endpoint, else -1 */
	bool active;      /* the controller may use it */
	bool pause_sent;  /* a "pause" waits for PauseDeviceComplete */
};

struct logind {
	sd_event *event;
	sd_bus *bus;
	struct seat_devices *devices;
	char state_dir[256];
	char dev_dir[256];
	uint64_t pause_timeout_usec;

	/* the seat */
	char seat_id[LOGIND_ID_MAX];
	char seat_path[128];

	/* its session */
	char session_id[LOGIND_ID_MAX];
	char session_path[128];
	char type[16];
	char class[16];
	uint32_t vtnr;
	pid_t leader;
	uint64_t timestamp_usec;
	bool active;
	char *controller;        /* unique bus name of the controller, or NULL */
	sd_bus_track *controller_track;
	struct session_device *session_devices;
	sd_event_source *pause_timer;
	bool disable_pending;    /* the endpoint asked us to let go; acknowledging waits for pauses */

	/* its user */
	uid_t uid;
	gid_t gid;
	char user_name[64];
	char user_path[64];
};

/* manager.c */
int manager_add(struct logind *ld);
/* The session a process belongs to: 0 if it is ours, -1 otherwise. */
int manager_pid_in_session(struct logind *ld, pid_t pid);
bool manager_caller_in_session(struct logind *ld, sd_bus_message *m);
/* "", "self" and "auto" name the caller's own session, seat or user, as logind takes them. */
bool manager_names_self(const char *id);

/* session.c */
int session_add(struct logind *ld);
bool session_type_valid(const char *type);
/* What the libseat side reports: the endpoint gave us the seat, or wants it back. */
void session_seat_enabled(struct logind *ld);
void session_seat_disabled(struct logind *ld);
/* Closes the controller's devices (notify: with PauseDevice "gone") and forgets it. */
void session_release_control(struct logind *ld, bool notify);
const char *session_state(const struct logind *ld);

/* seat.c, user.c: the Seat and User objects */
int seat_add(struct logind *ld);
int user_add(struct logind *ld);

/* objects.c: what the bus objects share */

/* PREFIX/ID, path-escaped as logind does ("_31" for a leading "1"): 0 or -errno. */
int logind_object_path(const char *prefix, const char *id, char *path, size_t size);
/* Serves vtable at path, and at PREFIX/self and PREFIX/auto for the session's processes. 0 or
 * -errno. */
int logind_add_object(struct logind *ld, const char *prefix, const char *path,
	const char *iface, const sd_bus_vtable *vtable);

/*
 * Property getters the objects share. sd-bus hands a getter its object's userdata (struct
 * logind) plus the property's offset: property_get_chars reads the char array there,
 * property_get_bool the bool.
 */
int property_get_chars(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error);
int property_get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error);
int property_get_true(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error);
int property_get_false(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error);
int property_get_empty(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error);
/* The seat's and the user's sessions: the one session. */
int property_get_sessions(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error);

/* PropertiesChanged for what follows whether the session is active: the session's Active and
 * State, the seat's ActiveSession. */
void logind_emit_active_changed(struct logind *ld);

#endif
