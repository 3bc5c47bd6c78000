#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "verbs.h"

/* "event" action= seat= container= [from= forced=]: what changed, for monitors. */
static void broadcast_attachment(struct control_verbs *verbs, const char *action, const char *seat,
	const char *container, const char *from, const char *forced) {
	struct control_builder b;
	control_builder_init(&b, "event");
	control_builder_add(&b, "action", action);
	control_builder_add(&b, "seat", seat);
	control_builder_add(&b, "container", container);
	control_builder_add(&b, "from", from);
	control_builder_add(&b, "forced", forced);
	control_server_broadcast(verbs->control, &b);
}

/* A container is known once registered, or when a seat of the configuration names it. */
static bool container_is_known(struct control_verbs *verbs, const char *name) {
	if (desktops_find(verbs->desktops, name) != NULL) {
		return true;
	}
	for (size_t i = 0; i < verbs->config->n_seats; i++) {
		const char *c = verbs->config->seats[i].container;
		if (c != NULL && strcmp(c, name) == 0) {
			return true;
		}
	}
	return false;
}

/* A seat's containers as a list to change: a copy of the pointers, which the state copies. */
struct container_list {
	const char *names[STATE_MAX_CONTAINERS + 1];
	size_t n, active;
};

static void container_list_get(struct control_verbs *verbs, const char *seat,
	struct container_list *list) {
	const char *const *names = seats_containers(verbs->seats, seat, &list->n, &list->active);
	if (list->n > 0) { /* names is NULL for a seat without containers */
		memcpy(list->names, names, list->n * sizeof(*names));
	}
}

/* Its index, or n when it is not on the list. */
static size_t container_list_find(const struct container_list *list, const char *name) {
	size_t i = 0;
	while (i < list->n && strcmp(list->names[i], name) != 0) {
		i++;
	}
	return i;
}

/*
 * Records the seat's new containers and saves them; on failure puts the old ones back and
 * fills message. 0 or -1.
 */
static int set_containers(struct control_verbs *verbs, const char *seat,
	const struct container_list *list, char *message, size_t size) {
	const struct attachment *a = state_find_attachment(verbs->state, seat);
	struct attachment undo = {0};
	if (a != NULL && attachment_copy(&undo, a) == -1) {
		snprintf(message, size, "out of memory");
		return -1;
	}
	if (state_set_attachment(verbs->state, seat, list->names, list->n, list->active) == -1) {
		snprintf(message, size, "%s", strerror(errno));
		attachment_finish(&undo);
		return -1;
	}
	if (save_state(verbs, message, size) == -1) {
		if (a != NULL) {
			state_set_attachment(verbs->state, seat, (const char *const *)undo.containers,
				undo.n_containers, undo.active);
		} else {
			state_clear_attachment(verbs->state, seat);
		}
		attachment_finish(&undo);
		return -1;
	}
	attachment_finish(&undo);
	return 0;
}

/* Checks SEAT (and CONTAINER when given) of a request; says why not in message. */
static bool check_seat(struct control_verbs *verbs, const char *seat, const char *container,
	bool must_be_known, char *message, size_t size) {
	enum seat_origin origin;
	if (!seat_name_is_valid(seat) || !seats_find(verbs->seats, verbs->devices, seat, &origin)) {
		snprintf(message, size, "unknown seat \"%.64s\"", seat);
	} else if (container != NULL && !container_name_is_valid(container)) {
		snprintf(message, size, "invalid container name: letters, digits, _, . or -, at "
					"most 64 characters");
	} else if (container != NULL && must_be_known && !container_is_known(verbs, container)) {
		snprintf(message, size, "unknown container \"%s\": it is not registered, and no "
					"seat of the configuration names it", container);
	} else if (desktops_switch_pending(verbs->desktops, seat)) {
		snprintf(message, size, "%s is switching containers; try again once the switch is "
					"done", seat);
	} else {
		return true;
	}
	return false;
}

/*
 * A container serves one seat (its /run/seatd.sock, its devices, its DRM master are that
 * seat's): attaching or switching it to another seat is refused while it is attached to
 * one, or while a switch hands it from or to one. Says why in message.
 */
static bool check_one_seat(struct control_verbs *verbs, const char *seat, const char *container,
	char *message, size_t size) {
	const char *attached =
		seats_seat_of_container(verbs->seats, verbs->devices, container, seat);
	const char *switching = desktops_switching_seat(verbs->desktops, container);
	if (switching != NULL) {
		snprintf(message, size, "%s is in a switch of %s; try again once the switch is done",
			container, switching);
	} else if (attached != NULL) {
		snprintf(message, size, "%s is attached to %.64s: a container serves one seat "
					"(seat-assign detach %.64s %s first)", container, attached,
			attached, container);
	} else {
		return true;
	}
	return false;
}

int verbs_attach(struct control_verbs *verbs, const char *seat, const char *container,
	char *message, size_t size) {
	if (!check_seat(verbs, seat, container, true, message, size) ||
		!check_one_seat(verbs, seat, container, message, size)) {
		return -1;
	}
	struct container_list list;
	container_list_get(verbs, seat, &list);
	if (container_list_find(&list, container) < list.n) {
		snprintf(message, size, "%s is attached to %s already", container, seat);
		return 0;
	}
	if (list.n == STATE_MAX_CONTAINERS) {
		snprintf(message, size, "%s has %d containers, the most a seat can have", seat,
			STATE_MAX_CONTAINERS);
		return -1;
	}
	list.names[list.n++] = container;
	if (list.n == 1) {
		snprintf(message, size, "%s attached to %s", seat, container);
	} else {
		snprintf(message, size, "%s attached to %s, inactive: %s has the seat (seat-assign "
					"switch %s %s)", seat, container, list.names[list.active], seat,
			container);
	}
	if (set_containers(verbs, seat, &list, message, size) == -1) {
		return -1;
	}
	log_infof("%s", message);
	broadcast_attachment(verbs, "attach", seat, container, NULL, NULL);
	desktops_sync(verbs->desktops);
	return 0;
}

/* attach SEAT CONTAINER: one more container for the seat; the first one gets it at once. */
int verb_attach(struct control_verbs *verbs, struct control_client *client, const char *seat,
	const char *container) {
	char message[512];
	if (seat == NULL || container == NULL) {
		return send_error(client, "usage: attach SEAT CONTAINER");
	}
	if (verbs_attach(verbs, seat, container, message, sizeof(message)) == -1) {
		return send_error(client, message);
	}
	return send_done(client, message);
}

/*
 * detach SEAT [CONTAINER]: one container, or all. When the active one goes, the first of
 * the others gets the seat (no libseat handover: the detached container loses it at once).
 */
int verb_detach(struct control_verbs *verbs, struct control_client *client, const char *seat,
	const char *container) {
	char message[512];
	if (seat == NULL) {
		return send_error(client, "usage: detach SEAT [CONTAINER]");
	}
	if (!check_seat(verbs, seat, container, false, message, sizeof(message))) {
		return send_error(client, message);
	}
	struct container_list list;
	container_list_get(verbs, seat, &list);
	if (list.n == 0) {
		snprintf(message, sizeof(message), "%s has no container", seat);
		return send_error(client, message);
	}
	/* Copies: the list points into the attachment replaced below. */
	char gone[CONTAINER_NAME_MAX + 1];
	if (container == NULL) {
		snprintf(gone, sizeof(gone), "%s", list.n == 1 ? list.names[0] : "all");
		snprintf(message, sizeof(message), "%s detached from %s", seat,
			list.n == 1 ? list.names[0] : "all its containers");
		list.n = 0;
	} else {
		size_t i = container_list_find(&list, container);
		if (i == list.n) {
			snprintf(message, sizeof(message), "%s is not attached to %s", container, seat);
			return send_error(client, message);
		}
		snprintf(gone, sizeof(gone), "%s", container);
		bool was_active = i == list.active;
		memmove(&list.names[i], &list.names[i + 1], (list.n - i - 1) * sizeof(list.names[0]));
		list.n--;
		if (i < list.active) {
			list.active--;
		} else if (was_active) {
			list.active = 0;
		}
		if (was_active && list.n > 0) {
			snprintf(message, sizeof(message), "%s detached from %s; %s has it now", seat,
				container, list.names[0]);
		} else {
			snprintf(message, sizeof(message), "%s detached from %s", seat, container);
		}
	}
	if (set_containers(verbs, seat, &list, message, sizeof(message)) == -1) {
		return send_error(client, message);
	}
	log_infof("%s", message);
	broadcast_attachment(verbs, "detach", seat, gone, NULL, NULL);
	desktops_sync(verbs->desktops);
	return send_done(client, message);
}

/*
 * switch SEAT CONTAINER: the answer comes once the container that has the seat let go of it
 * (control_verbs_switch_done), which may take the libseat acknowledgement timeout.
 */
int verb_switch(struct control_verbs *verbs, struct control_client *client, const char *seat,
	const char *container) {
	char message[512];
	if (seat == NULL || container == NULL) {
		return send_error(client, "usage: switch SEAT CONTAINER");
	}
	if (!check_seat(verbs, seat, container, true, message, sizeof(message)) ||
		!check_one_seat(verbs, seat, container, message, sizeof(message))) {
		return send_error(client, message);
	}
	if (desktops_switch_requested_by(verbs->desktops, client)) {
		return send_error(client, "one switch at a time per connection");
	}
	struct container_list list;
	container_list_get(verbs, seat, &list);
	size_t i = container_list_find(&list, container);
	if (i < list.n && i == list.active) {
		snprintf(message, sizeof(message), "%s is the active container of %s already",
			container, seat);
		return send_error(client, message);
	}
	if (i == list.n && list.n == STATE_MAX_CONTAINERS) {
		snprintf(message, sizeof(message), "%s has %d containers, the most a seat can have",
			seat, STATE_MAX_CONTAINERS);
		return send_error(client, message);
	}
	if (desktops_switch(verbs->desktops, seat, list.n > 0 ? list.names[list.active] : NULL,
		    container, client) == -1) {
		return send_error(client, "out of memory");
	}
	return 0;
}

/* The desktops layer decided a switch (a desktops_switch_done_fn): record it, tell who asked. */
void control_verbs_switch_done(struct seat_switch *sw, bool forced, void *data) {
	struct control_verbs *verbs = data;
	struct control_client *client = sw->requester;
	const char *error = NULL;
	char message[512];
	struct container_list list;
	container_list_get(verbs, sw->seat, &list);
	if (error == NULL && sw->to_registered && desktops_find(verbs->desktops, sw->to) == NULL) {
		error = "it exited during the switch";
	}
	if (error != NULL) {
		snprintf(message, sizeof(message), "%s not switched to %s: %s; %s keeps it", sw->seat,
			sw->to, error, sw->from != NULL ? sw->from : "no container");
	} else {
		size_t i = container_list_find(&list, sw->to);
		if (i == list.n) {
			list.names[list.n++] = sw->to;
		}
		list.active = i;
		if (sw->from == NULL) {
			snprintf(message, sizeof(message), "%s switched to %s", sw->seat, sw->to);
		} else {
			snprintf(message, sizeof(message), "%s switched from %s to %s%s", sw->seat,
				sw->from, sw->to,
				forced ? " (forced: its libseat client did not acknowledge in time)" : "");
		}
		if (!sw->to_registered) {
			size_t len = strlen(message);
			snprintf(message + len, sizeof(message) - len,
				"; %s is not running, it gets the seat when it registers", sw->to);
		}
		if (set_containers(verbs, sw->seat, &list, message, sizeof(message)) == 0) {
			verbs->n_switches++;
			verbs->n_switches_forced += forced;
			log_infof("%s", message);
			broadcast_attachment(verbs, "switch", sw->seat, sw->to, sw->from,
				forced ? "yes" : "no");
		} else {
			error = message;
		}
	}
	if (error != NULL) {
		log_warnf("%s", message);
	}
	/* Either way the devices follow the state: to's now, or from's again. */
	desktops_sync(verbs->desktops);
	if (client == NULL) {
		return;
	}
	if (error != NULL) {
		send_error(client, message);
		return;
	}
	struct control_builder b;
	control_builder_init(&b, "done");
	control_builder_add(&b, "message", message);
	control_builder_add(&b, "forced", forced ? "yes" : "no");
	if (control_client_send(client, &b) == 0) {
		send_end(client);
	}
}
