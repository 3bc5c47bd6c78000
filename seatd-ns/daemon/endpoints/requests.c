#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_class.h"
#include "log.h"
#include "seatd_ns.h"
#include "sysfs.h"

static void add_device_fields(struct control_builder *b, const struct device *dev) {
	char syspath[UEVENT_MAX_SIZE + 8];
	snprintf(syspath, sizeof(syspath), "/sys%s", dev->devpath);
	control_builder_add(b, "syspath", syspath);
	control_builder_add(b, "subsystem", dev->subsystem);
	if (dev->devname != NULL) {
		control_builder_addf(b, "devnode", "/dev/%s", dev->devname);
	}
	if (dev->has_devnum) {
		control_builder_addf(b, "devnum", "%u:%u", dev->major, dev->minor);
	}
	control_builder_add(b, "kind", device_kind_name(dev->kind));
	control_builder_add(b, "id_path", dev->id_path);
	control_builder_add(b, "seat", dev->seat);
	control_builder_add(b, "usb_id", dev->usb_id[0] != '\0' ? dev->usb_id : NULL);
	if (device_kind_is_input(dev->kind)) {
		/* The ID_INPUT_* properties, space-separated, as consumers will be told them. */
		char classes[512] = "";
		size_t off = 0;
		for (uint32_t bit = 1; bit < (1u << INPUT_CLASS_COUNT); bit <<= 1) {
			if ((dev->input_class & bit) && off < sizeof(classes)) {
				off += (size_t)snprintf(classes + off, sizeof(classes) - off, "%s%s",
					off ? " " : "", input_class_property(bit));
			}
		}
		control_builder_add(b, "input_class", classes);
	}
	if (dev->kind == DEVICE_KIND_SOUND_CARD) {
		control_builder_add(b, "sound_initialized", dev->sound_initialized ? "1" : "0");
	}
}

void seatd_ns_device_changed(void *data, enum device_change change, const struct device *dev) {
	struct seatd_ns *daemon = data;
	struct control_builder b;
	control_builder_init(&b, "event");
	control_builder_add(&b, "action", device_change_name(change));
	add_device_fields(&b, dev);
	if (!b.overflow) {
		control_server_broadcast(&daemon->control, &b);
	}
}

static int send_end(struct control_client *client) {
	struct control_builder b;
	control_builder_init(&b, "end");
	return control_client_send(client, &b);
}

static int send_error(struct control_client *client, const char *message) {
	struct control_builder b;
	control_builder_init(&b, "error");
	control_builder_add(&b, "message", message);
	return control_client_send(client, &b);
}

static int list_devices(struct seatd_ns *daemon, struct control_client *client) {
	size_t n;
	const struct device **list = devtable_list(&daemon->devices, &n);
	if (list == NULL) {
		return send_error(client, "out of memory");
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct control_builder b;
		control_builder_init(&b, "device");
		add_device_fields(&b, list[i]);
		if (!b.overflow) {
			r = control_client_send(client, &b);
		}
	}
	free(list);
	return r == 0 ? send_end(client) : -1;
}

static int send_status(struct seatd_ns *daemon, struct control_client *client) {
	const struct event_source_stats *s = &daemon->events.stats;
	struct control_builder b;
	control_builder_init(&b, "status");
	control_builder_add(&b, "version", SEATD_NS_VERSION);
	control_builder_add(&b, "source", event_source_kind_name(daemon->events.kind));
	control_builder_add(&b, "sysfs", daemon->sysfs_root);
	control_builder_addf(&b, "uptime", "%lld", (long long)(time(NULL) - daemon->started));
	control_builder_addf(&b, "devices", "%zu", daemon->devices.devices.n_entries);
	control_builder_addf(&b, "events_received", "%llu", s->received);
	control_builder_addf(&b, "events_applied", "%llu", s->applied);
	control_builder_addf(&b, "events_malformed", "%llu", s->malformed);
	control_builder_addf(&b, "events_foreign", "%llu", s->foreign);
	control_builder_addf(&b, "overflows", "%llu", s->overflows);
	control_builder_addf(&b, "clients", "%u", daemon->control.n_clients);
	control_builder_addf(&b, "switches", "%lu", daemon->desktops.n_switches);
	control_builder_addf(&b, "switches_forced", "%lu", daemon->desktops.n_switches_forced);
	if (control_client_send(client, &b) == -1) {
		return -1;
	}
	return send_end(client);
}

struct seat_listing {
	struct seatd_ns *daemon;
	struct control_client *client;
	int status;
};

static void send_seat(void *data, const char *name, enum seat_origin origin) {
	struct seat_listing *listing = data;
	const struct seat_settings *settings = config_find_seat(&listing->daemon->config, name);
	struct control_builder b;
	control_builder_init(&b, "seat");
	control_builder_add(&b, "name", name);
	control_builder_add(&b, "origin", seat_origin_name(origin));
	size_t n, active;
	const char *const *containers = seats_containers(&listing->daemon->seats, name, &n, &active);
	control_builder_add(&b, "container", n > 0 ? containers[active] : NULL);
	char all[STATE_MAX_CONTAINERS * (CONTAINER_NAME_MAX + 1) + 1] = "";
	for (size_t i = 0, off = 0; i < n; i++) {
		off += (size_t)snprintf(all + off, sizeof(all) - off, "%s%s", i ? " " : "",
			containers[i]);
	}
	control_builder_add(&b, "containers", all);
	control_builder_add(&b, "switching",
		desktops_switch_pending(&listing->daemon->desktops, name) ? "yes" : "no");
	control_builder_add(&b, "hidraw", settings && settings->hidraw ? "yes" : "no");
	control_builder_add(&b, "shared_sound", !settings || settings->shared_sound ? "yes" : "no");
	if (listing->status == 0 && !b.overflow) {
		listing->status = control_client_send(listing->client, &b);
	}
}

static int list_seats(struct seatd_ns *daemon, struct control_client *client) {
	struct seat_listing listing = {.daemon = daemon, .client = client};
	seats_for_each(&daemon->seats, &daemon->devices, send_seat, &listing);
	return listing.status == 0 ? send_end(client) : -1;
}

static bool has_path_prefix(const char *path, const char *prefix, const char *separators) {
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || strchr(separators, path[n]));
}

/*
 * What a DEVICE argument designates, as a runtime rule: a device node or a seat device's sysfs
 * path stands for that device at its port (subsystem and ID_PATH, as logind's ID_FOR_SEAT, so a
 * replaced keyboard stays put), through the card it belongs to for sound and render nodes;
 * another sysfs path (a hub) or an ID_PATH (a port) covers everything behind it.
 */
static int rule_for_device(struct seatd_ns *daemon, const char *spec, const char *seat,
	struct rule *rule, const char **why) {
	struct device *dev = NULL;
	const char *devpath = NULL;
	if (strncmp(spec, "/dev/", 5) == 0) {
		dev = devtable_find_by_devname(&daemon->devices, spec + 5);
	} else if (strncmp(spec, "/sys/", 5) == 0 || strncmp(spec, "/devices/", 9) == 0) {
		devpath = strncmp(spec, "/sys/", 5) == 0 ? spec + 4 : spec;
		dev = devtable_find(&daemon->devices, devpath);
	}
	if (dev != NULL) {
		struct policy_subject subject;
		char buf[UEVENT_MAX_SIZE];
		seats_subject(&daemon->devices, dev, &subject, buf, sizeof(buf));
		if (subject.id_path != NULL) {
			return rule_init(rule, RULE_DEVICE, subject.id_path, subject.subsystem, seat, why);
		}
		return rule_init(rule, RULE_SYSPATH, subject.devpath, NULL, seat, why);
	}
	/* A hub or port: valid only if something is, or can be, behind it. */
	for (struct hashmap_entry *e = hashmap_first(&daemon->devices.devices); e;
		e = hashmap_next(&daemon->devices.devices, e)) {
		const struct device *d = hashmap_container_of(e, struct device, entry);
		if (devpath != NULL && has_path_prefix(d->devpath, devpath, "/")) {
			return rule_init(rule, RULE_SYSPATH, devpath, NULL, seat, why);
		}
		if (devpath == NULL && d->id_path != NULL && has_path_prefix(d->id_path, spec, "-.:")) {
			return rule_init(rule, RULE_PORT, spec, NULL, seat, why);
		}
	}
	if (devpath != NULL && uevent_devpath_is_valid(devpath) &&
		sysfs_device_exists(daemon->devices.sysfs_fd, devpath)) {
		return rule_init(rule, RULE_SYSPATH, devpath, NULL, seat, why);
	}
	*why = "unknown device (give a /dev node, a /sys path, or the ID_PATH of a port)";
	errno = ENOENT;
	return -1;
}

static int send_done(struct control_client *client, const char *message) {
	struct control_builder b;
	control_builder_init(&b, "done");
	control_builder_add(&b, "message", message);
	if (control_client_send(client, &b) == -1) {
		return -1;
	}
	return send_end(client);
}

/* Saves the state; on failure the caller undoes its change and the client hears why. */
static int save_state(struct seatd_ns *daemon, char *message, size_t size) {
	if (state_save(&daemon->state) == -1) {
		snprintf(message, size, "cannot save %s: %s; nothing changed", daemon->state.path,
			strerror(errno));
		log_errorf("%s", message);
		return -1;
	}
	return 0;
}

/* "input device at pci-...", "port pci-...", "syspath /devices/..." */
static void describe_rule(const struct rule *rule, char *buf, size_t size) {
	if (rule->kind == RULE_DEVICE) {
		snprintf(buf, size, "%s device at %s", rule->subsystem, rule->value);
	} else {
		snprintf(buf, size, "%s %s", rule_kind_name(rule->kind), rule->value);
	}
}

static int assign(struct seatd_ns *daemon, struct control_client *client, const char *spec,
	const char *seat) {
	if (spec == NULL || seat == NULL) {
		return send_error(client, "usage: assign DEVICE SEAT");
	}
	if (!seat_name_is_valid(seat)) {
		return send_error(client, "invalid seat name: it must start with \"seat\", then "
					  "letters, digits, _ or -, at most 255 characters");
	}
	struct rule rule;
	const char *why = NULL;
	if (rule_for_device(daemon, spec, seat, &rule, &why) == -1) {
		return send_error(client, why ? why : "out of memory");
	}
	enum seat_origin origin;
	bool new_seat = !seats_find(&daemon->seats, &daemon->devices, seat, &origin);
	char message[512];
	char what[256];
	describe_rule(&rule, what, sizeof(what));
	snprintf(message, sizeof(message), "%s assigned to %s%s", what, seat,
		new_seat ? " (new seat)" : "");
	/* Keep the rule it replaces, to put it back if the state cannot be saved. */
	struct rule old = {0};
	for (size_t i = 0; i < daemon->state.rules.n_rules; i++) {
		const struct rule *r = &daemon->state.rules.rules[i];
		if (rule_same_selector(r, &rule)) {
			rule_init(&old, r->kind, r->value, r->subsystem, r->seat, &why);
		}
	}
	rule_set_remove(&daemon->state.rules, &rule);
	if (rule_set_add(&daemon->state.rules, &rule) == -1) {
		if (old.value != NULL) {
			rule_set_add(&daemon->state.rules, &old);
		}
		return send_error(client, "out of memory");
	}
	if ((new_seat && state_add_seat(&daemon->state, seat) == -1) ||
		save_state(daemon, message, sizeof(message)) == -1) {
		/* Undo: the new rule is the last one; the one it replaced goes back. */
		struct rule_set *rules = &daemon->state.rules;
		rule_finish(&rules->rules[--rules->n_rules]);
		if (old.value != NULL) {
			rule_set_add(rules, &old);
		}
		if (new_seat) {
			state_remove_seat(&daemon->state, seat);
		}
		return send_error(client, message);
	}
	rule_finish(&old);
	devtable_reseat(&daemon->devices);
	log_infof("%s", message);
	return send_done(client, message);
}

static int unassign(struct seatd_ns *daemon, struct control_client *client, const char *spec) {
	if (spec == NULL) {
		return send_error(client, "usage: unassign DEVICE");
	}
	struct rule like;
	const char *why = NULL;
	if (rule_for_device(daemon, spec, "seat0", &like, &why) == -1) {
		return send_error(client, why ? why : "out of memory");
	}
	struct rule *found = NULL;
	for (size_t i = 0; i < daemon->state.rules.n_rules; i++) {
		if (rule_same_selector(&daemon->state.rules.rules[i], &like)) {
			found = &daemon->state.rules.rules[i];
		}
	}
	char message[512];
	if (found == NULL) {
		snprintf(message, sizeof(message), "%s has no runtime assignment", spec);
		rule_finish(&like);
		return send_error(client, message);
	}
	struct rule saved = *found;
	/* Take it out without freeing, so it can go back if saving fails. */
	*found = daemon->state.rules.rules[--daemon->state.rules.n_rules];
	char what[256];
	describe_rule(&saved, what, sizeof(what));
	snprintf(message, sizeof(message), "%s no longer assigned to %s", what, saved.seat);
	rule_finish(&like);
	if (save_state(daemon, message, sizeof(message)) == -1) {
		rule_set_add(&daemon->state.rules, &saved);
		return send_error(client, message);
	}
	rule_finish(&saved);
	devtable_reseat(&daemon->devices);
	log_infof("%s", message);
	return send_done(client, message);
}

/* "event" action= seat= container= [from= forced=]: what changed, for monitors. */
static void broadcast_attachment(struct seatd_ns *daemon, const char *action, const char *seat,
	const char *container, const char *from, const char *forced) {
	struct control_builder b;
	control_builder_init(&b, "event");
	control_builder_add(&b, "action", action);
	control_builder_add(&b, "seat", seat);
	control_builder_add(&b, "container", container);
	control_builder_add(&b, "from", from);
	control_builder_add(&b, "forced", forced);
	control_server_broadcast(&daemon->control, &b);
}

/* A container is known once registered, or when a seat of the configuration names it. */
static bool container_is_known(struct seatd_ns *daemon, const char *name) {
	if (desktops_find(&daemon->desktops, name) != NULL) {
		return true;
	}
	for (size_t i = 0; i < daemon->config.n_seats; i++) {
		const char *c = daemon->config.seats[i].container;
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

static void container_list_get(struct seatd_ns *daemon, const char *seat,
	struct container_list *list) {
	const char *const *names = seats_containers(&daemon->seats, seat, &list->n, &list->active);
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
static int set_containers(struct seatd_ns *daemon, const char *seat,
	const struct container_list *list, char *message, size_t size) {
	const struct attachment *a = state_find_attachment(&daemon->state, seat);
	struct attachment undo = {0};
	if (a != NULL && attachment_copy(&undo, a) == -1) {
		snprintf(message, size, "out of memory");
		return -1;
	}
	if (state_set_attachment(&daemon->state, seat, list->names, list->n, list->active) == -1) {
		snprintf(message, size, "%s", strerror(errno));
		attachment_finish(&undo);
		return -1;
	}
	if (save_state(daemon, message, size) == -1) {
		if (a != NULL) {
			state_set_attachment(&daemon->state, seat, (const char *const *)undo.containers,
				undo.n_containers, undo.active);
		} else {
			state_clear_attachment(&daemon->state, seat);
		}
		attachment_finish(&undo);
		return -1;
	}
	attachment_finish(&undo);
	return 0;
}

/* Checks SEAT (and CONTAINER when given) of a request; sends the error and returns false. */
static bool check_seat(struct seatd_ns *daemon, struct control_client *client, const char *seat,
	const char *container, bool must_be_known, int *status) {
	char message[512];
	enum seat_origin origin;
	if (!seat_name_is_valid(seat) || !seats_find(&daemon->seats, &daemon->devices, seat, &origin)) {
		snprintf(message, sizeof(message), "unknown seat \"%.64s\"", seat);
		*status = send_error(client, message);
		return false;
	}
	if (container != NULL && !container_name_is_valid(container)) {
		*status = send_error(client, "invalid container name: letters, digits, _, . or -, "
					     "at most 64 characters");
		return false;
	}
	if (container != NULL && must_be_known && !container_is_known(daemon, container)) {
		snprintf(message, sizeof(message), "unknown container \"%s\": it is not registered, "
			 "and no seat of the configuration names it", container);
		*status = send_error(client, message);
		return false;
	}
	if (desktops_switch_pending(&daemon->desktops, seat)) {
		snprintf(message, sizeof(message), "%s is switching containers; try again once the "
			 "switch is done", seat);
		*status = send_error(client, message);
		return false;
	}
	return true;
}

struct seat_of_container {
	struct seatd_ns *daemon;
	const char *container, *except, *seat;
};

static void find_seat_of(void *data, const char *name, enum seat_origin origin) {
	struct seat_of_container *search = data;
	if (search->seat == NULL && strcmp(name, search->except) != 0 &&
		seats_has_container(&search->daemon->seats, name, search->container)) {
		search->seat = name;
	}
}

/*
 * A container serves one seat (its /run/seatd.sock, its devices, its DRM master are that
 * seat's): attaching or switching it to another seat is refused while it is attached to
 * one, or while a switch hands it from or to one. Sends the error and returns false.
 */
static bool check_one_seat(struct seatd_ns *daemon, struct control_client *client,
	const char *seat, const char *container, int *status) {
	char message[512];
	struct seat_of_container search = {daemon, container, seat, NULL};
	seats_for_each(&daemon->seats, &daemon->devices, find_seat_of, &search);
	const char *switching = desktops_switching_seat(&daemon->desktops, container);
	if (switching != NULL) {
		snprintf(message, sizeof(message), "%s is in a switch of %s; try again once the "
			 "switch is done", container, switching);
	} else if (search.seat != NULL) {
		snprintf(message, sizeof(message), "%s is attached to %.64s: a container serves one "
			 "seat (seat-assign detach %.64s %s first)", container, search.seat,
			search.seat, container);
	} else {
		return true;
	}
	*status = send_error(client, message);
	return false;
}

/* attach SEAT CONTAINER: one more container for the seat; the first one gets it at once. */
static int attach(struct seatd_ns *daemon, struct control_client *client, const char *seat,
	const char *container) {
	char message[512];
	int status;
	if (seat == NULL || container == NULL) {
		return send_error(client, "usage: attach SEAT CONTAINER");
	}
	if (!check_seat(daemon, client, seat, container, true, &status) ||
		!check_one_seat(daemon, client, seat, container, &status)) {
		return status;
	}
	struct container_list list;
	container_list_get(daemon, seat, &list);
	if (container_list_find(&list, container) < list.n) {
		snprintf(message, sizeof(message), "%s is attached to %s already", container, seat);
		return send_done(client, message);
	}
	if (list.n == STATE_MAX_CONTAINERS) {
		snprintf(message, sizeof(message), "%s has %d containers, the most a seat can have",
			seat, STATE_MAX_CONTAINERS);
		return send_error(client, message);
	}
	list.names[list.n++] = container;
	if (list.n == 1) {
		snprintf(message, sizeof(message), "%s attached to %s", seat, container);
	} else {
		snprintf(message, sizeof(message), "%s attached to %s, inactive: %s has the seat "
			 "(seat-assign switch %s %s)", seat, container, list.names[list.active],
			seat, container);
	}
	if (set_containers(daemon, seat, &list, message, sizeof(message)) == -1) {
		return send_error(client, message);
	}
	log_infof("%s", message);
	broadcast_attachment(daemon, "attach", seat, container, NULL, NULL);
	desktops_sync(&daemon->desktops);
	return send_done(client, message);
}

/*
 * detach SEAT [CONTAINER]: one container, or all. When the active one goes, the first of
 * the others gets the seat (no libseat handover: the detached container loses it at once).
 */
static int detach(struct seatd_ns *daemon, struct control_client *client, const char *seat,
	const char *container) {
	char message[512];
	int status;
	if (seat == NULL) {
		return send_error(client, "usage: detach SEAT [CONTAINER]");
	}
	if (!check_seat(daemon, client, seat, container, false, &status)) {
		return status;
	}
	struct container_list list;
	container_list_get(daemon, seat, &list);
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
	if (set_containers(daemon, seat, &list, message, sizeof(message)) == -1) {
		return send_error(client, message);
	}
	log_infof("%s", message);
	broadcast_attachment(daemon, "detach", seat, gone, NULL, NULL);
	desktops_sync(&daemon->desktops);
	return send_done(client, message);
}

/*
 * switch SEAT CONTAINER: the answer comes once the container that has the seat let go of it
 * (seatd_ns_switch_done), which may take the libseat acknowledgement timeout.
 */
static int switch_seat(struct seatd_ns *daemon, struct control_client *client, const char *seat,
	const char *container) {
	char message[512];
	int status;
	if (seat == NULL || container == NULL) {
		return send_error(client, "usage: switch SEAT CONTAINER");
	}
	if (!check_seat(daemon, client, seat, container, true, &status) ||
		!check_one_seat(daemon, client, seat, container, &status)) {
		return status;
	}
	if (client->waiter != NULL) {
		return send_error(client, "one switch at a time per connection");
	}
	struct container_list list;
	container_list_get(daemon, seat, &list);
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
	if (desktops_switch(&daemon->desktops, seat, list.n > 0 ? list.names[list.active] : NULL,
		    container, client) == -1) {
		return send_error(client, "out of memory");
	}
	return 0;
}

void seatd_ns_switch_done(struct seatd_ns *daemon, struct seat_switch *sw, bool forced,
	const char *error) {
	char message[512];
	struct container_list list;
	container_list_get(daemon, sw->seat, &list);
	if (error == NULL && sw->to_registered && desktops_find(&daemon->desktops, sw->to) == NULL) {
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
		if (set_containers(daemon, sw->seat, &list, message, sizeof(message)) == 0) {
			daemon->desktops.n_switches++;
			daemon->desktops.n_switches_forced += forced;
			log_infof("%s", message);
			broadcast_attachment(daemon, "switch", sw->seat, sw->to, sw->from,
				forced ? "yes" : "no");
		} else {
			error = message;
		}
	}
	if (error != NULL) {
		log_warnf("%s", message);
	}
	/* Either way the devices follow the state: to's now, or from's again. */
	desktops_sync(&daemon->desktops);
	if (sw->client == NULL) {
		return;
	}
	sw->client->waiter = NULL;
	if (error != NULL) {
		send_error(sw->client, message);
		return;
	}
	struct control_builder b;
	control_builder_init(&b, "done");
	control_builder_add(&b, "message", message);
	control_builder_add(&b, "forced", forced ? "yes" : "no");
	if (control_client_send(sw->client, &b) == 0) {
		send_end(sw->client);
	}
	sw->client = NULL;
}

static int reload(struct seatd_ns *daemon, struct control_client *client) {
	char *errors;
	if (seatd_ns_reload(daemon, &errors) == -1) {
		char message[CONTROL_MAX_MESSAGE / 2];
		snprintf(message, sizeof(message), "configuration not reloaded, the old one stays:\n%s",
			errors ? errors : "out of memory");
		free(errors);
		return send_error(client, message);
	}
	return send_done(client, "configuration reloaded");
}

/* The registered container whose init is that process, or NULL. */
static struct desktop *find_registered_process(struct seatd_ns *daemon, pid_t pid) {
	for (struct hashmap_entry *e = hashmap_first(&daemon->desktops.by_name); e;
		e = hashmap_next(&daemon->desktops.by_name, e)) {
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
	case ENOTSUP:
		return "its device access cannot be restricted: no cgroup v2, and its v1 devices "
		       "cgroup allows every device";
	default:
		return strerror(err);
	}
}

/*
 * register NAME PID: a real container only (container_refusal), held from here on by its
 * pidfd. start_time, when the client gives it, binds the pid to the process it saw.
 */
static int register_container(struct seatd_ns *daemon, struct control_client *client,
	const struct control_record *request) {
	const char *name = control_record_get(request, "name");
	const char *pid_text = control_record_get(request, "pid");
	const char *start_text = control_record_get(request, "start_time");
	const char *protocol_name = control_record_get(request, "libseat_protocol");
	char message[512];
	if (name == NULL || pid_text == NULL) {
		return send_error(client, "usage: register NAME PID");
	}
	/* Legacy by default: what Debian 12 and Ubuntu 24.04 ship (libseat 0.7 and 0.8). */
	enum libseat_endpoint_protocol protocol = LIBSEAT_PROTOCOL_LEGACY;
	if (protocol_name != NULL && strcmp(protocol_name, "0.9") == 0) {
		protocol = LIBSEAT_PROTOCOL_0_9;
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
	const struct desktop *same = desktops_find(&daemon->desktops, name);
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
		control_record_get(request, "privileged") != NULL, client->uid);
	same = find_registered_process(daemon, container.pid);
	if (why != NULL || same != NULL) {
		snprintf(message, sizeof(message), "cannot register %s: %s%s", name,
			why != NULL ? why : "that process is registered already, as ",
			why != NULL ? "" : same->container.name);
		log_warnf("%s (pid %ld, asked by uid %u)", message, pid, (unsigned)client->uid);
		container_close(&container);
		return send_error(client, message);
	}
	const char *warning;
	if (desktops_register(&daemon->desktops, &container,
		    control_record_get(request, "kernel_events") != NULL, protocol, &warning) == -1) {
		snprintf(message, sizeof(message), "cannot register %s: %s", name,
			register_error(errno));
		log_warnf("%s", message);
		return send_error(client, message);
	}
	snprintf(message, sizeof(message), "%s registered%s%s", name, warning ? "; warning: " : "",
		warning ? warning : "");
	return send_done(client, message);
}

/*
 * unregister NAME [PID]: with PID (as a stop hook gives it), only if NAME's init is that
 * process, so that a stopping container of the same name elsewhere leaves it alone.
 */
static int unregister_container(struct seatd_ns *daemon, struct control_client *client,
	const char *name, const char *pid_text) {
	char message[512];
	if (name == NULL) {
		return send_error(client, "usage: unregister NAME [PID]");
	}
	struct desktop *d = desktops_find(&daemon->desktops, name);
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
	desktops_unregister(&daemon->desktops, name);
	snprintf(message, sizeof(message), "%s unregistered", name);
	return send_done(client, message);
}

int seatd_ns_handle_request(void *data, struct control_client *client,
	const struct control_record *request) {
	struct seatd_ns *daemon = data;
	const char *verb = request->type;
	if (strcmp(verb, "devices") == 0) {
		return list_devices(daemon, client);
	}
	if (strcmp(verb, "status") == 0) {
		return send_status(daemon, client);
	}
	if (strcmp(verb, "monitor") == 0) {
		client->monitor = true;
		return send_end(client);
	}
	if (strcmp(verb, "seats") == 0) {
		return list_seats(daemon, client);
	}
	if (strcmp(verb, "assign") == 0) {
		return assign(daemon, client, control_record_get(request, "device"),
			control_record_get(request, "seat"));
	}
	if (strcmp(verb, "unassign") == 0) {
		return unassign(daemon, client, control_record_get(request, "device"));
	}
	if (strcmp(verb, "attach") == 0) {
		return attach(daemon, client, control_record_get(request, "seat"),
			control_record_get(request, "container"));
	}
	if (strcmp(verb, "detach") == 0) {
		return detach(daemon, client, control_record_get(request, "seat"),
			control_record_get(request, "container"));
	}
	if (strcmp(verb, "switch") == 0) {
		return switch_seat(daemon, client, control_record_get(request, "seat"),
			control_record_get(request, "container"));
	}
	if (strcmp(verb, "reload") == 0) {
		return reload(daemon, client);
	}
	if (strcmp(verb, "register") == 0) {
		return register_container(daemon, client, request);
	}
	if (strcmp(verb, "unregister") == 0) {
		return unregister_container(daemon, client, control_record_get(request, "name"),
			control_record_get(request, "pid"));
	}
	char message[128];
	snprintf(message, sizeof(message), "unknown request \"%.64s\"", verb);
	return send_error(client, message);
}
