#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "logind.h"
#include "state_files.h"

#define SESSION_IFACE "org.freedesktop.login1.Session"
/* How long a TakeDevice of an input device, while away, waits for the seat to come back. */
#define ENABLE_WAIT_MS 2000

static const char *const session_types[] = {"unspecified", "tty", "x11", "wayland", "mir", "web"};

bool session_type_valid(const char *type) {
	for (size_t i = 0; i < sizeof(session_types) / sizeof(session_types[0]); i++) {
		if (strcmp(type, session_types[i]) == 0) {
			return true;
		}
	}
	return false;
}

const char *session_state(const struct logind *ld) {
	return ld->active ? "active" : "online";
}

/* The caller's effective uid, as logind asks sd-bus for it: 0, or -errno with error set. */
static int sender_uid(sd_bus_message *m, uid_t *uid, sd_bus_error *error) {
	sd_bus_creds *creds = NULL;
	int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
	if (r >= 0) {
		r = sd_bus_creds_get_euid(creds, uid);
	}
	sd_bus_creds_unref(creds);
	if (r < 0) {
		return sd_bus_error_set_errnof(error, -r, "Cannot tell who is calling");
	}
	return 0;
}

static bool is_controller(const struct logind *ld, sd_bus_message *m) {
	const char *sender = sd_bus_message_get_sender(m);
	return ld->controller != NULL && sender != NULL && strcmp(sender, ld->controller) == 0;
}

static int not_in_control(sd_bus_error *error) {
	return sd_bus_error_set(error, LOGIND_ERROR_NOT_IN_CONTROL,
		"You are not in control of this session");
}

static struct session_device *find_device(struct logind *ld, dev_t devnum) {
	for (struct session_device *d = ld->session_devices; d != NULL; d = d->next) {
		if (d->devnum == devnum) {
			return d;
		}
	}
	return NULL;
}

/* PauseDevice and ResumeDevice go to the controller only, as logind sends them. */
static int send_device_signal(struct logind *ld, struct session_device *d, const char *pause) {
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(ld->bus, &m, ld->session_path, SESSION_IFACE,
		pause != NULL ? "PauseDevice" : "ResumeDevice");
	if (r < 0) {
		return r;
	}
	r = sd_bus_message_set_destination(m, ld->controller);
	if (r >= 0) {
		r = pause != NULL ?
			sd_bus_message_append(m, "uus", major(d->devnum), minor(d->devnum), pause) :
			sd_bus_message_append(m, "uuh", major(d->devnum), minor(d->devnum), d->fd);
	}
	if (r >= 0) {
		r = sd_bus_send(ld->bus, m, NULL);
	}
	sd_bus_message_unref(m);
	if (r < 0) {
		log_warnf("logind: %s for %u:%u not sent: %s", pause ? "PauseDevice" : "ResumeDevice",
			major(d->devnum), minor(d->devnum), strerror(-r));
	} else {
		log_infof("logind: session %s: %s %u:%u%s%s to %s", ld->session_id,
			pause ? "PauseDevice" : "ResumeDevice", major(d->devnum), minor(d->devnum),
			pause ? " " : "", pause ? pause : "", ld->controller);
	}
	return r;
}

/* gone: tell the controller, as logind does on ReleaseDevice and ReleaseControl (not when the
 * controller left). */
static void device_free(struct logind *ld, struct session_device *d, bool gone) {
	if (gone) {
		send_device_signal(ld, d, "gone");
	}
	for (struct session_device **p = &ld->session_devices; *p != NULL; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			break;
		}
	}
	if (d->device_id >= 0) {
		seat_devices_close_device(ld->devices, d->device_id);
	}
	if (d->fd >= 0) {
		close(d->fd);
	}
	free(d);
}

static void state_changed(struct logind *ld) {
	int r = state_files_write(ld);
	if (r < 0) {
		log_warnf("logind: writing the state files in %s: %s", ld->state_dir, strerror(-r));
	}
}

/* Pausing: what the endpoint's disable waits for. */

static void finish_disable(struct logind *ld) {
	ld->pause_timer = sd_event_source_disable_unref(ld->pause_timer);
	for (struct session_device *d = ld->session_devices; d != NULL; d = d->next) {
		d->active = false;
		d->pause_sent = false;
	}
	ld->disable_pending = false;
	int r = seat_devices_ack_disable(ld->devices);
	if (r < 0) {
		log_warnf("logind: acknowledging the seat's disable: %s", strerror(-r));
	}
	ld->active = false;
	logind_emit_active_changed(ld);
	state_changed(ld);
}

static void maybe_finish_disable(struct logind *ld) {
	if (!ld->disable_pending) {
		return;
	}
	for (struct session_device *d = ld->session_devices; d != NULL; d = d->next) {
		if (d->pause_sent) {
			return;
		}
	}
	finish_disable(ld);
}

/* A controller that does not answer "pause" must not keep the seat from its next owner. */
static int on_pause_timeout(sd_event_source *s, uint64_t usec, void *data) {
	struct logind *ld = data;
	log_warnf("logind: session %s: PauseDeviceComplete missing after %llu ms, paused anyway",
		ld->session_id, (unsigned long long)(ld->pause_timeout_usec / 1000));
	finish_disable(ld);
	return 0;
}

void session_seat_disabled(struct logind *ld) {
	ld->disable_pending = true;
	bool waiting = false;
	for (struct session_device *d = ld->session_devices; d != NULL; d = d->next) {
		if (!d->active) {
			continue;
		}
		/* A DRM fd stays usable and waits for the controller; evdev and hidraw fds are
		 * revoked by the endpoint whatever the controller does, as logind does them. */
		if (d->class == SEAT_DEVICE_DRM) {
			d->pause_sent = send_device_signal(ld, d, "pause") >= 0;
			waiting = waiting || d->pause_sent;
		} else {
			d->active = false;
			send_device_signal(ld, d, "force");
		}
	}
	if (waiting) {
		int r = sd_event_add_time_relative(ld->event, &ld->pause_timer, CLOCK_MONOTONIC,
			ld->pause_timeout_usec, 0, on_pause_timeout, ld);
		if (r >= 0) {
			return;
		}
		log_warnf("logind: pause timer: %s", strerror(-r));
	}
	finish_disable(ld);
}

/* Resuming: a DRM fd is master again on the same fd; evdev and hidraw are opened anew. */
static int resume_device(struct logind *ld, struct session_device *d) {
	if (d->device_id >= 0 && d->class == SEAT_DEVICE_DRM) {
		d->active = true;
		return 0;
	}
	if (d->device_id >= 0) {
		seat_devices_close_device(ld->devices, d->device_id);
		d->device_id = -1;
	}
	int fd;
	int id = seat_devices_open_device(ld->devices, d->path, &fd);
	if (id < 0) {
		return id;
	}
	close(d->fd);
	d->fd = fd;
	d->device_id = id;
	d->active = true;
	return 0;
}

void session_seat_enabled(struct logind *ld) {
	/* After a disable the endpoint forced before our pauses were answered, no
	 * acknowledgement is owed any more. */
	ld->pause_timer = sd_event_source_disable_unref(ld->pause_timer);
	ld->disable_pending = false;
	ld->active = true;
	for (struct session_device *d = ld->session_devices; d != NULL; d = d->next) {
		d->pause_sent = false;
		if (d->active) {
			continue;
		}
		int r = resume_device(ld, d);
		if (r < 0) {
			log_warnf("logind: resuming %s: %s", d->path, strerror(-r));
			continue;
		}
		send_device_signal(ld, d, NULL);
	}
	logind_emit_active_changed(ld);
	state_changed(ld);
}

/* Control */

void session_release_control(struct logind *ld, bool notify) {
	while (ld->session_devices != NULL) {
		device_free(ld, ld->session_devices, notify);
	}
	ld->controller_track = sd_bus_track_unref(ld->controller_track);
	free(ld->controller);
	ld->controller = NULL;
	/* Nobody is left to answer a pause. */
	maybe_finish_disable(ld);
}

static int on_controller_gone(sd_bus_track *track, void *data) {
	struct logind *ld = data;
	log_infof("logind: session %s: controller %s left", ld->session_id, ld->controller);
	session_release_control(ld, false);
	return 0;
}

static int method_take_control(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	int force;
	int r = sd_bus_message_read(m, "b", &force);
	if (r < 0) {
		return r;
	}
	uid_t uid;
	r = sender_uid(m, &uid, error);
	if (r < 0) {
		return r;
	}
	/* As logind: the session's owner may take control, only root may take it away. */
	if (uid != 0 && (force || uid != ld->uid)) {
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
			"Only owner of session may take control");
	}
	if (is_controller(ld, m)) {
		return sd_bus_reply_method_return(m, NULL);
	}
	if (ld->controller != NULL && !force) {
		return sd_bus_error_set_errnof(error, EBUSY, "Session %s already has a controller",
			ld->session_id);
	}
	if (ld->controller != NULL) {
		session_release_control(ld, true);
	}
	const char *sender = sd_bus_message_get_sender(m);
	r = sd_bus_track_new(ld->bus, &ld->controller_track, on_controller_gone, ld);
	if (r >= 0) {
		r = sd_bus_track_add_name(ld->controller_track, sender);
	}
	if (r >= 0) {
		ld->controller = strdup(sender);
		r = ld->controller != NULL ? 0 : -ENOMEM;
	}
	if (r < 0) {
		ld->controller_track = sd_bus_track_unref(ld->controller_track);
		return r;
	}
	log_infof("logind: session %s: %s took control", ld->session_id, sender);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_release_control(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	if (!is_controller(ld, m)) {
		return not_in_control(error);
	}
	session_release_control(ld, true);
	return sd_bus_reply_method_return(m, NULL);
}

/* The device of a controller's call (major, minor): 0, or what the handler returns. */
static int read_device_call(struct logind *ld, sd_bus_message *m, uint32_t *maj, uint32_t *min,
	sd_bus_error *error) {
	int r = sd_bus_message_read(m, "uu", maj, min);
	if (r < 0) {
		return r;
	}
	return is_controller(ld, m) ? 0 : not_in_control(error);
}

static int method_take_device(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uint32_t maj, min;
	int r = read_device_call(ld, m, &maj, &min, error);
	if (r < 0) {
		return r;
	}
	/* The kernel's device numbers: a major of 12 bits, a minor of 20; major 0 is none. */
	if (maj == 0 || maj >= (1U << 12) || min >= (1U << 20)) {
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid device %u:%u",
			maj, min);
	}
	dev_t devnum = makedev(maj, min);
	if (find_device(ld, devnum) != NULL) {
		return sd_bus_error_set(error, LOGIND_ERROR_DEVICE_IS_TAKEN, "Device already taken");
	}
	struct session_device *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return -ENOMEM;
	}
	d->devnum = devnum;
	d->device_id = -1;
	r = seat_devices_lookup(ld->devices, devnum, d->path, sizeof(d->path), &d->class);
	if (r < 0) {
		free(d);
		return sd_bus_error_set_errnof(error, -r,
			"No DRM card, input event or hidraw device %u:%u on seat %s", maj, min,
			ld->seat_id);
	}
	/*
	 * On a switch back the host forwards the seat's input devices just before it enables the
	 * endpoint, so a client may ask for one while the enable is on its way or waits unread.
	 * Read it first, and for an input device wait for it a while: away, the container has
	 * no input devices to ask for but those coming back. Xorg gives up for good on an input
	 * device handed out paused after it saw the seat come back (its resume may still sit in
	 * its queue), so the answer must be the seat's state once the switch is through.
	 */
	int wait_ms = d->class == SEAT_DEVICE_DRM ? 0 : ENABLE_WAIT_MS;
	int e = ld->active ? 0 : seat_devices_dispatch(ld->devices, wait_ms);
	if (e < 0) {
		log_warnf("logind: session %s: reading the endpoint: %s", ld->session_id,
			strerror(-e));
	}
	/* The endpoint opens nothing for a seat that is away: the device waits for its resume. */
	if (ld->active && !ld->disable_pending) {
		d->device_id = seat_devices_open_device(ld->devices, d->path, &d->fd);
		r = d->device_id;
		d->active = r >= 0;
	} else {
		d->fd = r = seat_devices_placeholder(ld->devices, d->path);
	}
	if (r < 0) {
		sd_bus_error_set_errnof(error, -r, "Seat %s does not give %s (%u:%u): %s",
			ld->seat_id, d->path, maj, min, strerror(-r));
		free(d);
		return r;
	}
	r = sd_bus_reply_method_return(m, "hb", d->fd, !d->active);
	if (r < 0) {
		device_free(ld, d, false); /* not in the list yet: closes what it holds */
		return r;
	}
	d->next = ld->session_devices;
	ld->session_devices = d;
	log_infof("logind: session %s: took %s (%u:%u)%s", ld->session_id, d->path, maj, min,
		d->active ? "" : ", paused");
	return r;
}

static int method_release_device(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uint32_t maj, min;
	int r = read_device_call(ld, m, &maj, &min, error);
	if (r < 0) {
		return r;
	}
	struct session_device *d = find_device(ld, makedev(maj, min));
	if (d == NULL) {
		return sd_bus_error_set(error, LOGIND_ERROR_DEVICE_NOT_TAKEN, "Device not taken");
	}
	device_free(ld, d, true);
	maybe_finish_disable(ld);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_pause_device_complete(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uint32_t maj, min;
	int r = read_device_call(ld, m, &maj, &min, error);
	if (r < 0) {
		return r;
	}
	/* Xorg 21 sends the numbers swapped (its ack takes minor, major and is called with
	 * major, minor): a device paused under the swapped number is the one it means. */
	struct session_device *d = find_device(ld, makedev(maj, min));
	if (d == NULL || !d->pause_sent) {
		struct session_device *swapped = find_device(ld, makedev(min, maj));
		if (swapped != NULL && swapped->pause_sent) {
			d = swapped;
		}
	}
	if (d == NULL) {
		return sd_bus_error_set(error, LOGIND_ERROR_DEVICE_NOT_TAKEN, "Device not taken");
	}
	if (d->pause_sent) {
		log_infof("logind: session %s: PauseDeviceComplete %u:%u", ld->session_id,
			major(d->devnum), minor(d->devnum));
		d->pause_sent = false;
		d->active = false;
		maybe_finish_disable(ld);
	}
	return sd_bus_reply_method_return(m, NULL);
}

/* The owner (or root) asks for its session to be the seat's: it is the only session here,
 * and when the seat is this container's is the host's to decide, so there is nothing to do
 * but answer, as logind answers before a VT switch completes. */
static int method_activate(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uid_t uid;
	int r = sender_uid(m, &uid, error);
	if (r < 0) {
		return r;
	}
	if (uid != 0 && uid != ld->uid) {
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
			"Only owner of session may activate it");
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_type(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	const char *type;
	int r = sd_bus_message_read(m, "s", &type);
	if (r < 0) {
		return r;
	}
	if (!session_type_valid(type)) {
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid session type '%s'",
			type);
	}
	if (!is_controller(ld, m)) {
		return not_in_control(error);
	}
	snprintf(ld->type, sizeof(ld->type), "%s", type);
	sd_bus_emit_properties_changed(ld->bus, ld->session_path, SESSION_IFACE, "Type", NULL);
	state_changed(ld);
	return sd_bus_reply_method_return(m, NULL);
}

/* Properties */

static int get_user(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return sd_bus_message_append(reply, "(uo)", ld->uid, ld->user_path);
}

static int get_seat(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	const struct logind *ld = data;
	return sd_bus_message_append(reply, "(so)", ld->seat_id, ld->seat_path);
}

static int get_state(sd_bus *bus, const char *path, const char *iface, const char *prop,
	sd_bus_message *reply, void *data, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", session_state(data));
}

static const sd_bus_vtable session_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "s", property_get_chars, offsetof(struct logind, session_id),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("User", "(uo)", get_user, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", property_get_chars, offsetof(struct logind, user_name),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Timestamp", "t", NULL, offsetof(struct logind, timestamp_usec),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("VTNr", "u", NULL, offsetof(struct logind, vtnr),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Seat", "(so)", get_seat, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TTY", "s", property_get_empty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Display", "s", property_get_empty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Remote", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Service", "s", property_get_empty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Desktop", "s", property_get_empty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Leader", "u", NULL, offsetof(struct logind, leader),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Type", "s", property_get_chars, offsetof(struct logind, type),
		SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Class", "s", property_get_chars, offsetof(struct logind, class),
		SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Active", "b", property_get_bool, offsetof(struct logind, active),
		SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("State", "s", get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("IdleHint", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("LockedHint", "b", property_get_false, 0,
		SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("TakeControl", "b", "", method_take_control, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ReleaseControl", "", "", method_release_control,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("TakeDevice", "uu", "hb", method_take_device, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ReleaseDevice", "uu", "", method_release_device,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("PauseDeviceComplete", "uu", "", method_pause_device_complete,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Activate", "", "", method_activate, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetType", "s", "", method_set_type, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL("PauseDevice", "uus", 0),
	SD_BUS_SIGNAL("ResumeDevice", "uuh", 0),
	SD_BUS_VTABLE_END,
};

int session_add(struct logind *ld) {
	int r = logind_object_path(LOGIND_PATH "/session", ld->session_id, ld->session_path,
		sizeof(ld->session_path));
	if (r < 0) {
		return r;
	}
	return logind_add_object(ld, LOGIND_PATH "/session", ld->session_path, SESSION_IFACE,
		session_vtable);
}
