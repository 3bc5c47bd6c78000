#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_class.h"
#include "seatd_ns.h"

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
	if (control_client_send(client, &b) == -1) {
		return -1;
	}
	return send_end(client);
}

int seatd_ns_handle_request(void *data, struct control_client *client,
	const struct control_record *request) {
	struct seatd_ns *daemon = data;
	if (strcmp(request->type, "devices") == 0) {
		return list_devices(daemon, client);
	}
	if (strcmp(request->type, "status") == 0) {
		return send_status(daemon, client);
	}
	if (strcmp(request->type, "monitor") == 0) {
		client->monitor = true;
		return send_end(client);
	}
	char message[128];
	snprintf(message, sizeof(message), "unknown request \"%.64s\"", request->type);
	return send_error(client, message);
}
