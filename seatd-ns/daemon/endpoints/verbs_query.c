#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_class.h"
#include "verbs.h"

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

void control_verbs_device_changed(void *data, enum device_change change, const struct device *dev) {
	struct control_verbs *verbs = data;
	struct control_builder b;
	control_builder_init(&b, "event");
	control_builder_add(&b, "action", device_change_name(change));
	add_device_fields(&b, dev);
	if (!b.overflow) {
		control_server_broadcast(verbs->control, &b);
	}
}

int verb_devices(struct control_verbs *verbs, struct control_client *client) {
	size_t n;
	const struct device **list = devtable_list(verbs->devices, &n);
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

int verb_status(struct control_verbs *verbs, struct control_client *client) {
	const struct event_source_stats *s = &verbs->events->stats;
	struct control_builder b;
	control_builder_init(&b, "status");
	control_builder_add(&b, "version", SEATD_NS_VERSION);
	control_builder_add(&b, "source", event_source_kind_name(verbs->events->kind));
	control_builder_add(&b, "sysfs", verbs->sysfs_root);
	control_builder_addf(&b, "uptime", "%lld", (long long)(time(NULL) - verbs->started));
	control_builder_addf(&b, "devices", "%zu", verbs->devices->devices.n_entries);
	control_builder_addf(&b, "events_received", "%llu", s->received);
	control_builder_addf(&b, "events_applied", "%llu", s->applied);
	control_builder_addf(&b, "events_malformed", "%llu", s->malformed);
	control_builder_addf(&b, "events_foreign", "%llu", s->foreign);
	control_builder_addf(&b, "overflows", "%llu", s->overflows);
	control_builder_addf(&b, "clients", "%u", verbs->control->n_clients);
	control_builder_addf(&b, "switches", "%lu", verbs->n_switches);
	control_builder_addf(&b, "switches_forced", "%lu", verbs->n_switches_forced);
	if (control_client_send(client, &b) == -1) {
		return -1;
	}
	return send_end(client);
}

struct seat_listing {
	struct control_verbs *verbs;
	struct control_client *client;
	int status;
};

static void send_seat(void *data, const char *name, enum seat_origin origin) {
	struct seat_listing *listing = data;
	const struct seat_settings *settings = config_find_seat(listing->verbs->config, name);
	struct control_builder b;
	control_builder_init(&b, "seat");
	control_builder_add(&b, "name", name);
	control_builder_add(&b, "origin", seat_origin_name(origin));
	size_t n, active;
	const char *const *containers = seats_containers(listing->verbs->seats, name, &n, &active);
	control_builder_add(&b, "container", n > 0 ? containers[active] : NULL);
	char all[STATE_MAX_CONTAINERS * (CONTAINER_NAME_MAX + 1) + 1] = "";
	for (size_t i = 0, off = 0; i < n; i++) {
		off += (size_t)snprintf(all + off, sizeof(all) - off, "%s%s", i ? " " : "",
			containers[i]);
	}
	control_builder_add(&b, "containers", all);
	control_builder_add(&b, "switching",
		desktops_switch_pending(listing->verbs->desktops, name) ? "yes" : "no");
	control_builder_add(&b, "hidraw", settings && settings->hidraw ? "yes" : "no");
	control_builder_add(&b, "shared_sound", !settings || settings->shared_sound ? "yes" : "no");
	if (listing->status == 0 && !b.overflow) {
		listing->status = control_client_send(listing->client, &b);
	}
}

int verb_seats(struct control_verbs *verbs, struct control_client *client) {
	struct seat_listing listing = {.verbs = verbs, .client = client};
	seats_for_each(verbs->seats, verbs->devices, send_seat, &listing);
	return listing.status == 0 ? send_end(client) : -1;
}
