#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "verbs.h"

int verb_reload(struct control_verbs *verbs, struct control_client *client) {
	char *errors;
	if (verbs->reload(verbs->reload_data, &errors) == -1) {
		char message[CONTROL_MAX_MESSAGE / 2];
		snprintf(message, sizeof(message), "configuration not reloaded, the old one stays:\n%s",
			errors ? errors : "out of memory");
		free(errors);
		return send_error(client, message);
	}
	return send_done(client, "configuration reloaded");
}

/* The registered container whose init is that process, or NULL. */
static struct desktop *find_registered_process(struct control_verbs *verbs, pid_t pid) {
	for (struct hashmap_entry *e = hashmap_first(&verbs->desktops->by_name); e;
		e = hashmap_next(&verbs->desktops->by_name, e)) {
		struct desktop *d = hashmap_container_of(e, struct desktop, entry);
		/* Held by pidfd: while it is registered, no other process has its pid. */
		if (d->container.pid == pid) {
			return d;
		}
	}
	return NULL;
}

/* Why a registration failed, from container_open's or desktops_register's errno. */
static const char *register_error(int err) {
	switch (err) {
	case ESRCH:
		return "no such process, or it exited";
	case ESTALE:
		return "its pid is another process now than the one the client saw: the "
		       "container has exited";
	case EBUSY:
		return "it shares the daemon's cgroup, so its device access cannot be "
		       "restricted: give it a cgroup of its own";
	case ENOENT:
		return "it has no cgroup the daemon can see, so its device access cannot be "
		       "restricted";
	case EXDEV:
		return "its cgroup is another registered container's, or contains or is inside "
		       "one, so their device programs would govern each other: give each container "
		       "a cgroup of its own";
	case ENOTSUP:
		return "its device access cannot be restricted: no cgroup v2, and its v1 devices "
		       "cgroup allows every device";
	default:
		return strerror(err);
	}
}

struct seat_names {
	char *text;
	size_t size, len;
};

static void append_seat_name(void *data, const char *name, enum seat_origin origin) {
	(void)origin;
	struct seat_names *names = data;
	int n = snprintf(names->text + names->len, names->size - names->len, "%s%s",
		names->len > 0 ? " " : "", name);
	if (n > 0 && (size_t)n < names->size - names->len) {
		names->len += (size_t)n;
	}
}

/*
 * A seat named by the container's own configuration (register seat=) that the daemon does
 * not have: refused before anything is opened, and said in the log too, since the hook's
 * words end in LXC's debug log.
 */
static bool refuse_unknown_seat(struct control_verbs *verbs, struct control_client *client,
	const char *name, const char *seat, int *status) {
	enum seat_origin origin;
	if (seat_name_is_valid(seat) && seats_find(verbs->seats, verbs->devices, seat, &origin)) {
		return false;
	}
	char seats[256] = "", message[512];
	struct seat_names names = {seats, sizeof(seats), 0};
	seats_for_each(verbs->seats, verbs->devices, append_seat_name, &names);
	snprintf(message, sizeof(message), "cannot register %s: its configuration names seat "
		 "\"%.64s\", which seatd-ns does not have (its seats: %s)", name, seat,
		names.len > 0 ? seats : "none");
	log_warnf("%s", message);
	*status = send_error(client, message);
	return true;
}

/*
 * register NAME PID: a real container only (container_refusal), held from here on by its
 * pidfd. start_time, when the client gives it, binds the pid to the process it saw.
 */
int verb_register(struct control_verbs *verbs, struct control_client *client,
	const struct control_record *request) {
	const char *name = control_record_get(request, "name");
	const char *pid_text = control_record_get(request, "pid");
	const char *start_text = control_record_get(request, "start_time");
	const char *protocol_name = control_record_get(request, "libseat_protocol");
	const char *seat = control_record_get(request, "seat");
	char message[512];
	int status;
	if (name == NULL || pid_text == NULL) {
		return send_error(client, "usage: register NAME PID");
	}
	/* Legacy by default: what Debian 12 and Ubuntu 24.04 ship (libseat 0.7 and 0.8). */
	struct registration how = {
		.protocol = LIBSEAT_PROTOCOL_LEGACY,
		.kernel_events = control_record_get(request, "kernel_events") != NULL,
		.privileged = control_record_get(request, "privileged") != NULL,
	};
	if (protocol_name != NULL && strcmp(protocol_name, "0.9") == 0) {
		how.protocol = LIBSEAT_PROTOCOL_0_9;
	} else if (protocol_name != NULL && strcmp(protocol_name, "legacy") != 0) {
		return send_error(client, "invalid libseat protocol: legacy (libseat before 0.9) or "
					  "0.9 (0.9 and later)");
	}
	char *end;
	long pid = strtol(pid_text, &end, 10);
	if (!container_name_is_valid(name)) {
		return send_error(client, "invalid container name: letters, digits, _, . or -, "
					  "at most 64 characters");
	}
	if (*pid_text == '\0' || *end != '\0' || pid <= 1 || pid > 4194304) {
		return send_error(client, "invalid pid");
	}
	unsigned long long start_time = 0;
	if (start_text != NULL) {
		errno = 0;
		start_time = strtoull(start_text, &end, 10);
		if (*start_text < '0' || *start_text > '9' || *end != '\0' || errno != 0 ||
			start_time == 0) {
			return send_error(client, "invalid start time");
		}
	}
	if (seat != NULL && refuse_unknown_seat(verbs, client, name, seat, &status)) {
		return status;
	}
	const struct desktop *same = desktops_find(verbs->desktops, name);
	if (same != NULL) {
		snprintf(message, sizeof(message), "cannot register %s: a container of that name "
			 "is registered (pid %d)", name, (int)same->container.pid);
		return send_error(client, message);
	}
	struct container container;
	if (container_open(&container, name, (pid_t)pid, start_time) == -1) {
		snprintf(message, sizeof(message), "cannot register %s: %s", name,
			register_error(errno));
		return send_error(client, message);
	}
	const char *why = container_refusal(&container,
		how.privileged, client->uid);
	same = find_registered_process(verbs, container.pid);
	if (why != NULL || same != NULL) {
		snprintf(message, sizeof(message), "cannot register %s: %s%s", name,
			why != NULL ? why : "that process is registered already, as ",
			why != NULL ? "" : same->container.name);
		log_warnf("%s (pid %ld, asked by uid %u)", message, pid, (unsigned)client->uid);
		container_close(&container);
		return send_error(client, message);
	}
	const char *warning;
	if (desktops_register(verbs->desktops, &container, &how, &warning) == -1) {
		snprintf(message, sizeof(message), "cannot register %s: %s", name,
			register_error(errno));
		log_warnf("%s", message);
		return send_error(client, message);
	}
	char attached[256] = "";
	if (seat != NULL && verbs_attach(verbs, seat, name, attached, sizeof(attached)) == -1) {
		desktops_unregister(verbs->desktops, name);
		snprintf(message, sizeof(message), "cannot register %s: its configuration names "
			 "seat %s: %s", name, seat, attached);
		log_warnf("%s", message);
		return send_error(client, message);
	}
	snprintf(message, sizeof(message), "%s registered%s%s%s%s", name, warning ? "; warning: " : "",
		warning ? warning : "", seat != NULL ? "; " : "", attached);
	return send_done(client, message);
}

/*
 * unregister NAME [PID]: with PID (as a stop hook gives it), only if NAME's init is that
 * process, so that a stopping container of the same name elsewhere leaves it alone.
 */
int verb_unregister(struct control_verbs *verbs, struct control_client *client,
	const char *name, const char *pid_text) {
	char message[512];
	if (name == NULL) {
		return send_error(client, "usage: unregister NAME [PID]");
	}
	struct desktop *d = desktops_find(verbs->desktops, name);
	if (d == NULL) {
		snprintf(message, sizeof(message), "%.64s is not registered", name);
		return send_error(client, message);
	}
	if (pid_text != NULL) {
		char *end;
		long pid = strtol(pid_text, &end, 10);
		if (*pid_text == '\0' || *end != '\0' || pid != d->container.pid) {
			snprintf(message, sizeof(message), "%s is registered with another process "
				 "(pid %d), not %.16s: not unregistered", name,
				(int)d->container.pid, pid_text);
			return send_error(client, message);
		}
	}
	desktops_unregister(verbs->desktops, name);
	snprintf(message, sizeof(message), "%s unregistered", name);
	return send_done(client, message);
}
