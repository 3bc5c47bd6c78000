#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "grants.h"
#include "log.h"
#include "revoke.h"

struct grant *grants_find(struct desktops *desktops, const char *devpath) {
	struct hashmap_entry *e = hashmap_get(&desktops->grants, devpath);
	return e ? hashmap_container_of(e, struct grant, entry) : NULL;
}

struct desktop *grants_owner_of(struct desktops *desktops, const struct device *dev) {
	const char *container = seats_container(desktops->seats, dev->seat);
	if (container == NULL) {
		return NULL;
	}
	struct desktop *d = desktops_find(desktops, container);
	if (d != NULL && dev->kind == DEVICE_KIND_HIDRAW) {
		/*
		 * hidraw bypasses the input stack: only where the seat asks for it, and only if
		 * the fds of it can be revoked when the seat goes.
		 */
		const struct seat_settings *s = config_find_seat(desktops->config, dev->seat);
		if (s == NULL || !s->hidraw || !revoke_hidraw_possible(dev)) {
			return NULL;
		}
	}
	return d;
}

bool grants_is_shared(const struct device *dev) {
	return dev->kind == DEVICE_KIND_SOUND_OTHER &&
	       strncmp(dev->devpath, "/devices/virtual/sound/", 23) == 0;
}

static bool seat_shares_sound(struct desktops *desktops, const char *seat) {
	const struct seat_settings *s = config_find_seat(desktops->config, seat);
	return s == NULL || s->shared_sound;
}

/* The event: as udevd would send it, and as the kernel would for a container's own udevd. */
static void announce(struct desktop *d, const struct device *dev, const struct device_view *view) {
	if (forward_send(&d->forwarder, &d->container, view) == -1 ||
		(d->kernel_events && forward_inject_kernel(&d->forwarder, &d->container, view) == -1)) {
		log_warnf("%s: cannot announce %s of %s: %s", d->container.name,
			uevent_action_name(view->ev.action), dev->devpath, strerror(errno));
	}
}

static bool has_node(const struct device *dev) {
	return dev->devname != NULL && dev->has_devnum;
}

/* The index of devpath's device in a desktop's standby or shared list, or -1. */
static ssize_t find_in(struct device *const *list, size_t n, const char *devpath) {
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i]->devpath, devpath) == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
}

/*
 * node, cgroup permission, database entry, event: a consumer that hears the event finds
 * everything in place. Returns 0, or -1 when the device could not be given safely (nothing
 * is then announced).
 */
static int deliver(struct desktops *desktops, struct desktop *d, const struct device *dev,
	const char *action) {
	struct device_view view;
	/* Re-adopted with the node it had: its consumers have the device already. */
	bool had_it = d->readopting && nodes_exist(&desktops->nodes, &d->container, dev);
	bool make_node = has_node(dev) && strcmp(action, "add") == 0;
	if (make_node && nodes_create(&desktops->nodes, &d->container, dev) == -1) {
		log_errorf("%s: cannot make the node of %s: %s; not given", d->container.name,
			dev->devpath, strerror(errno));
		return -1;
	}
	if (has_node(dev) &&
		cgroup_devices_allow(d->cgroup, 'c', dev->major, dev->minor, CGROUP_DEVICES_RW) ==
			-1) {
		log_errorf("%s: cannot allow %s in its cgroup: %s; not given", d->container.name,
			dev->devpath, strerror(errno));
		if (make_node) {
			nodes_remove(&desktops->nodes, &d->container, dev);
		}
		return -1;
	}
	if (device_view_build(&view, dev, action, ++d->forwarder.seqnum) == -1 ||
		forward_db_write(&d->forwarder, &d->container, &view) == -1) {
		log_errorf("%s: cannot write the udev database entry of %s: %s",
			d->container.name, dev->devpath, strerror(errno));
	}
	if (!had_it) {
		announce(d, dev, &view);
	}
	log_debugf("%s: given %s", d->container.name, dev->devpath);
	return 0;
}

/* event, database entry, cgroup permission, node: the reverse of deliver. */
void grants_withdraw(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	struct device_view view;
	const struct desktop_seat_client_ops *ops = desktops->seat_clients;
	if (ops != NULL && ops->device_lost != NULL && has_node(dev)) {
		/* A compositor's fd of a device it loses is revoked first. */
		char host_path[PATH_MAX];
		nodes_host_path(&desktops->nodes, &d->container, dev, host_path, sizeof(host_path));
		ops->device_lost(d, host_path, desktops->seat_clients_data);
	}
	if (device_view_build(&view, dev, "remove", ++d->forwarder.seqnum) == 0) {
		announce(d, dev, &view);
		forward_db_remove(&d->forwarder, &d->container, &view);
	}
	if (has_node(dev) &&
		cgroup_devices_deny(d->cgroup, 'c', dev->major, dev->minor,
			CGROUP_DEVICES_RW | CGROUP_DEVICES_MKNOD) == -1) {
		log_warnf("%s: cannot deny %s in its cgroup: %s", d->container.name, dev->devpath,
			strerror(errno));
	}
	if (has_node(dev) && nodes_remove(&desktops->nodes, &d->container, dev) == -1) {
		log_warnf("%s: cannot remove the node of %s: %s", d->container.name, dev->devpath,
			strerror(errno));
	}
	/*
	 * The cgroup checks at open() only: what its processes opened themselves goes too,
	 * unless the device went (then every open file of it is dead already).
	 */
	if (has_node(dev) && devtable_find(desktops->devices, dev->devpath) != NULL &&
		revoke_device(&d->container, d->cgroup, desktops->devices, dev) == -1) {
		log_errorf("%s: %s may still be open there", d->container.name, dev->devpath);
	}
	log_debugf("%s: took back %s", d->container.name, dev->devpath);
}

/* Gives or takes back the shared sound nodes as the desktop gains or loses sound cards. */
void grants_sync_shared(struct desktops *desktops, struct desktop *d) {
	bool wants = d->n_sound_cards > 0;
	for (size_t i = 0; i < d->n_shared;) {
		struct device *in_table = devtable_find(desktops->devices,
			d->shared[i]->devpath);
		if (!wants || in_table == NULL) {
			grants_withdraw(desktops, d, d->shared[i]);
			device_free(d->shared[i]);
			d->shared[i] = d->shared[--d->n_shared];
		} else {
			i++;
		}
	}
	if (!wants) {
		return;
	}
	struct hashmap *table = &desktops->devices->devices;
	for (struct hashmap_entry *e = hashmap_first(table); e; e = hashmap_next(table, e)) {
		const struct device *dev = hashmap_container_of(e, struct device, entry);
		if (!grants_is_shared(dev) || find_in(d->shared, d->n_shared, dev->devpath) != -1 ||
			d->n_shared == DESKTOP_MAX_SHARED) {
			continue;
		}
		struct device *copy = device_clone(dev);
		if (copy != NULL && deliver(desktops, d, dev, "add") == 0) {
			d->shared[d->n_shared++] = copy;
		} else {
			device_free(copy);
		}
	}
}

bool grants_is_gpu(const struct device *dev) {
	return dev->kind == DEVICE_KIND_DRM_CARD || dev->kind == DEVICE_KIND_DRM_RENDER;
}

/* Whether d keeps dev on standby: a GPU node of a seat d is attached to and does not have. */
static bool wants_standby(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	return grants_is_gpu(dev) && has_node(dev) &&
	       seats_has_container(desktops->seats, dev->seat, d->container.name) &&
	       grants_owner_of(desktops, dev) != d;
}

static void drop_standby(struct desktop *d, size_t i) {
	device_free(d->standby[i]);
	d->standby[i] = d->standby[--d->n_standby];
}

/* Node, database entry and event, but no access: the cgroup keeps denying it. */
static void put_on_standby(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	struct device *copy = device_clone(dev);
	struct device_view view;
	bool had_it = d->readopting && nodes_exist(&desktops->nodes, &d->container, dev);
	if (copy == NULL || d->n_standby == DESKTOP_MAX_STANDBY ||
		nodes_create(&desktops->nodes, &d->container, dev) == -1) {
		log_warnf("%s: cannot keep %s on standby: %s", d->container.name, dev->devpath,
			copy == NULL ? strerror(ENOMEM) : d->n_standby == DESKTOP_MAX_STANDBY ?
			"too many GPU nodes" : strerror(errno));
		device_free(copy);
		return;
	}
	if (device_view_build(&view, dev, "add", ++d->forwarder.seqnum) == 0 &&
		forward_db_write(&d->forwarder, &d->container, &view) == 0 && !had_it) {
		announce(d, dev, &view);
	}
	d->standby[d->n_standby++] = copy;
	log_debugf("%s: keeps %s on standby", d->container.name, dev->devpath);
}

/* Brings d's standby GPU nodes in line with the seats and the table. */
void grants_sync_standby(struct desktops *desktops, struct desktop *d) {
	struct devtable *table = desktops->devices;
	for (size_t i = 0; i < d->n_standby;) {
		const struct device *now = devtable_find(table, d->standby[i]->devpath);
		if (now == NULL || !wants_standby(desktops, d, now)) {
			/* One that d now has was taken off standby by give. */
			grants_withdraw(desktops, d, d->standby[i]);
			drop_standby(d, i);
		} else {
			i++;
		}
	}
	struct hashmap *devices = &table->devices;
	for (struct hashmap_entry *e = hashmap_first(devices); e; e = hashmap_next(devices, e)) {
		const struct device *dev = hashmap_container_of(e, struct device, entry);
		if (wants_standby(desktops, d, dev) &&
			find_in(d->standby, d->n_standby, dev->devpath) == -1) {
			put_on_standby(desktops, d, dev);
		}
	}
}

void grants_give(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	struct grant *g = calloc(1, sizeof(*g));
	if (g == NULL || (g->device = device_clone(dev)) == NULL) {
		free(g);
		return;
	}
	g->desktop = d;
	/* Off standby: it has the node already, and its compositor the GPU open. */
	ssize_t standby = find_in(d->standby, d->n_standby, dev->devpath);
	if (standby != -1) {
		drop_standby(d, (size_t)standby);
	}
	if (deliver(desktops, d, dev, standby != -1 ? "change" : "add") == -1 ||
		hashmap_put(&desktops->grants, &g->entry, g->device->devpath) == -1) {
		device_free(g->device);
		free(g);
		return;
	}
	d->n_given++;
	g->sound_card = dev->kind == DEVICE_KIND_SOUND_CARD && seat_shares_sound(desktops, dev->seat);
	if (g->sound_card && d->n_sound_cards++ == 0) {
		grants_sync_shared(desktops, d);
	}
}

/*
 * Takes a device back from its desktop; now is the device as the table has it, NULL when it
 * is gone. A GPU node of a seat the desktop stays attached to goes on standby: the access
 * goes, the node and the compositor's fds (and the endpoint's, for DRM master) stay.
 */
void grants_take_back(struct desktops *desktops, struct grant *g, bool container_alive,
	const struct device *now) {
	struct desktop *d = g->desktop;
	if (container_alive && now != NULL && d->n_standby < DESKTOP_MAX_STANDBY &&
		wants_standby(desktops, d, now)) {
		if (cgroup_devices_deny(d->cgroup, 'c', now->major, now->minor,
						CGROUP_DEVICES_RW | CGROUP_DEVICES_MKNOD) == -1) {
			log_warnf("%s: cannot deny %s in its cgroup: %s", d->container.name,
				now->devpath, strerror(errno));
		}
		d->standby[d->n_standby++] = g->device;
		g->device = NULL;
		log_debugf("%s: %s on standby", d->container.name, now->devpath);
	} else if (container_alive) {
		grants_withdraw(desktops, d, g->device);
	}
	hashmap_remove(&desktops->grants, &g->entry);
	d->n_given--;
	if (g->sound_card && --d->n_sound_cards == 0 && container_alive) {
		grants_sync_shared(desktops, d);
	}
	device_free(g->device);
	free(g);
}

/* What a desktop's seat client may hand out: devices given to it, from their host nodes. */
int desktops_given_node(struct desktops *desktops, struct desktop *d, const char *devname,
	char *host_path, size_t size, dev_t *devnum) {
	struct device *dev = devtable_find_by_devname(desktops->devices, devname);
	struct grant *g = dev != NULL ? grants_find(desktops, dev->devpath) : NULL;
	if (g == NULL || g->desktop != d || !has_node(dev)) {
		errno = ENOENT;
		return -1;
	}
	nodes_host_path(&desktops->nodes, &d->container, dev, host_path, size);
	*devnum = makedev(dev->major, dev->minor);
	return 0;
}

/* A change of a device its desktop keeps: the record is made current, the change passed on. */
void grants_pass_change(struct desktops *desktops, struct grant *g, const struct device *dev) {
	struct desktop *owner = g->desktop;
	struct device *fresh = device_clone(dev);
	if (fresh != NULL) {
		hashmap_remove(&desktops->grants, &g->entry);
		device_free(g->device);
		g->device = fresh;
		hashmap_put(&desktops->grants, &g->entry, fresh->devpath);
	}
	struct device_view view;
	if (device_view_build(&view, dev, "change", ++owner->forwarder.seqnum) == -1 ||
		forward_db_write(&owner->forwarder, &owner->container, &view) == -1) {
		log_warnf("%s: cannot update the udev database entry of %s: %s",
			owner->container.name, dev->devpath, strerror(errno));
		return;
	}
	announce(owner, dev, &view);
}

void grants_take_stale(struct desktops *desktops, struct desktop *d) {
	struct hashmap *table = &desktops->devices->devices;
	for (struct hashmap_entry *e = hashmap_first(table); e; e = hashmap_next(table, e)) {
		const struct device *dev = hashmap_container_of(e, struct device, entry);
		const struct grant *g = grants_find(desktops, dev->devpath);
		if ((g != NULL && g->desktop == d) ||
			find_in(d->standby, d->n_standby, dev->devpath) != -1 ||
			find_in(d->shared, d->n_shared, dev->devpath) != -1 ||
			!nodes_exist(&desktops->nodes, &d->container, dev)) {
			continue;
		}
		log_infof("%s: takes back %s, which it had from an earlier daemon",
			d->container.name, dev->devpath);
		grants_withdraw(desktops, d, dev);
	}
}
