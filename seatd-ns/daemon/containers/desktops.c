#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "desktops.h"
#include "log.h"
#include "revoke.h"
#include "seatd_ns.h"

int desktops_init(struct desktops *desktops, struct seatd_ns *daemon, const char *run_dir) {
	hashmap_init(&desktops->by_name);
	hashmap_init(&desktops->grants);
	desktops->daemon = daemon;
	return nodes_init(&desktops->nodes, run_dir);
}

struct desktop *desktops_find(struct desktops *desktops, const char *name) {
	struct hashmap_entry *e = hashmap_get(&desktops->by_name, name);
	return e ? hashmap_container_of(e, struct desktop, entry) : NULL;
}

static struct grant *find_grant(struct desktops *desktops, const char *devpath) {
	struct hashmap_entry *e = hashmap_get(&desktops->grants, devpath);
	return e ? hashmap_container_of(e, struct grant, entry) : NULL;
}

/* The desktop that should have dev now: the registered container its seat is attached to. */
static struct desktop *owner_of(struct desktops *desktops, const struct device *dev) {
	struct seatd_ns *daemon = desktops->daemon;
	const char *container = seats_container(&daemon->seats, dev->seat);
	if (container == NULL) {
		return NULL;
	}
	struct desktop *d = desktops_find(desktops, container);
	if (d != NULL && dev->kind == DEVICE_KIND_HIDRAW) {
		/*
		 * hidraw bypasses the input stack: only where the seat asks for it, and only if
		 * the fds of it can be revoked when the seat goes.
		 */
		const struct seat_settings *s = config_find_seat(&daemon->config, dev->seat);
		if (s == NULL || !s->hidraw || !revoke_hidraw_possible(dev)) {
			return NULL;
		}
	}
	return d;
}

/* The sound nodes every desktop with a sound card needs: timer and seq. */
static bool is_shared(const struct device *dev) {
	return dev->kind == DEVICE_KIND_SOUND_OTHER &&
	       strncmp(dev->devpath, "/devices/virtual/sound/", 23) == 0;
}

static bool seat_shares_sound(struct desktops *desktops, const char *seat) {
	const struct seat_settings *s = config_find_seat(&desktops->daemon->config, seat);
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

/*
 * node, cgroup permission, database entry, event: a consumer that hears the event finds
 * everything in place. Returns 0, or -1 when the device could not be given safely (nothing
 * is then announced).
 */
static int deliver(struct desktops *desktops, struct desktop *d, const struct device *dev,
	const char *action) {
	struct device_view view;
	bool make_node = has_node(dev) && strcmp(action, "add") == 0;
	if (make_node && nodes_create(&desktops->nodes, &d->container, dev) == -1) {
		log_errorf("%s: cannot make the node of %s: %s; not given", d->container.name,
			dev->devpath, strerror(errno));
		return -1;
	}
	if (has_node(dev) && d->cgroup != NULL &&
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
	announce(d, dev, &view);
	log_debugf("%s: given %s", d->container.name, dev->devpath);
	return 0;
}

/* event, database entry, cgroup permission, node: the reverse of deliver. */
static void withdraw(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	struct device_view view;
	if (d->endpoint != NULL && has_node(dev)) {
		/* A compositor's fd of a device it loses is revoked first. */
		char host_path[4096];
		nodes_host_path(&desktops->nodes, &d->container, dev, host_path, sizeof(host_path));
		libseat_endpoint_device_removed(d->endpoint, host_path);
	}
	if (device_view_build(&view, dev, "remove", ++d->forwarder.seqnum) == 0) {
		announce(d, dev, &view);
		forward_db_remove(&d->forwarder, &d->container, &view);
	}
	if (has_node(dev) && d->cgroup != NULL &&
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
	if (has_node(dev) && devtable_find(&desktops->daemon->devices, dev->devpath) != NULL &&
		revoke_device(&d->container, d->cgroup, &desktops->daemon->devices, dev) == -1) {
		log_errorf("%s: %s may still be open there", d->container.name, dev->devpath);
	}
	log_debugf("%s: took back %s", d->container.name, dev->devpath);
}

/* Gives or takes back the shared sound nodes as the desktop gains or loses sound cards. */
static void sync_shared(struct desktops *desktops, struct desktop *d) {
	bool wants = d->n_sound_cards > 0;
	for (size_t i = 0; i < d->n_shared;) {
		struct device *in_table = devtable_find(&desktops->daemon->devices,
			d->shared[i]->devpath);
		if (!wants || in_table == NULL) {
			withdraw(desktops, d, d->shared[i]);
			device_free(d->shared[i]);
			d->shared[i] = d->shared[--d->n_shared];
		} else {
			i++;
		}
	}
	if (!wants) {
		return;
	}
	struct hashmap *table = &desktops->daemon->devices.devices;
	for (struct hashmap_entry *e = hashmap_first(table); e; e = hashmap_next(table, e)) {
		const struct device *dev = hashmap_container_of(e, struct device, entry);
		bool has = false;
		for (size_t i = 0; i < d->n_shared; i++) {
			has |= strcmp(d->shared[i]->devpath, dev->devpath) == 0;
		}
		if (!is_shared(dev) || has || d->n_shared == DESKTOP_MAX_SHARED) {
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

static bool is_gpu(const struct device *dev) {
	return dev->kind == DEVICE_KIND_DRM_CARD || dev->kind == DEVICE_KIND_DRM_RENDER;
}

/* Whether d keeps dev on standby: a GPU node of a seat d is attached to and does not have. */
static bool wants_standby(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	return is_gpu(dev) && has_node(dev) &&
	       seats_has_container(&desktops->daemon->seats, dev->seat, d->container.name) &&
	       owner_of(desktops, dev) != d;
}

static ssize_t find_standby(const struct desktop *d, const char *devpath) {
	for (size_t i = 0; i < d->n_standby; i++) {
		if (strcmp(d->standby[i]->devpath, devpath) == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
}

static void drop_standby(struct desktop *d, size_t i) {
	device_free(d->standby[i]);
	d->standby[i] = d->standby[--d->n_standby];
}

/* Node, database entry and event, but no access: the cgroup keeps denying it. */
static void put_on_standby(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	struct device *copy = device_clone(dev);
	struct device_view view;
	if (copy == NULL || d->n_standby == DESKTOP_MAX_STANDBY ||
		nodes_create(&desktops->nodes, &d->container, dev) == -1) {
		log_warnf("%s: cannot keep %s on standby: %s", d->container.name, dev->devpath,
			copy == NULL ? strerror(ENOMEM) : d->n_standby == DESKTOP_MAX_STANDBY ?
			"too many GPU nodes" : strerror(errno));
		device_free(copy);
		return;
	}
	if (device_view_build(&view, dev, "add", ++d->forwarder.seqnum) == 0 &&
		forward_db_write(&d->forwarder, &d->container, &view) == 0) {
		announce(d, dev, &view);
	}
	d->standby[d->n_standby++] = copy;
	log_debugf("%s: keeps %s on standby", d->container.name, dev->devpath);
}

/* Brings d's standby GPU nodes in line with the seats and the table. */
static void sync_standby(struct desktops *desktops, struct desktop *d) {
	struct devtable *table = &desktops->daemon->devices;
	for (size_t i = 0; i < d->n_standby;) {
		const struct device *now = devtable_find(table, d->standby[i]->devpath);
		if (now == NULL || !wants_standby(desktops, d, now)) {
			/* One that d now has was taken off standby by give. */
			withdraw(desktops, d, d->standby[i]);
			drop_standby(d, i);
		} else {
			i++;
		}
	}
	struct hashmap *devices = &table->devices;
	for (struct hashmap_entry *e = hashmap_first(devices); e; e = hashmap_next(devices, e)) {
		const struct device *dev = hashmap_container_of(e, struct device, entry);
		if (wants_standby(desktops, d, dev) && find_standby(d, dev->devpath) == -1) {
			put_on_standby(desktops, d, dev);
		}
	}
}

static void give(struct desktops *desktops, struct desktop *d, const struct device *dev) {
	struct grant *g = calloc(1, sizeof(*g));
	if (g == NULL || (g->device = device_clone(dev)) == NULL) {
		free(g);
		return;
	}
	g->desktop = d;
	/* Off standby: it has the node already, and its compositor the GPU open. */
	ssize_t standby = find_standby(d, dev->devpath);
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
		sync_shared(desktops, d);
	}
}

/*
 * Takes a device back from its desktop; now is the device as the table has it, NULL when it
 * is gone. A GPU node of a seat the desktop stays attached to goes on standby: the access
 * goes, the node and the compositor's fds (and the endpoint's, for DRM master) stay.
 */
static void take_back(struct desktops *desktops, struct grant *g, bool container_alive,
	const struct device *now) {
	struct desktop *d = g->desktop;
	if (container_alive && now != NULL && d->n_standby < DESKTOP_MAX_STANDBY &&
		wants_standby(desktops, d, now)) {
		if (d->cgroup != NULL && cgroup_devices_deny(d->cgroup, 'c', now->major, now->minor,
						CGROUP_DEVICES_RW | CGROUP_DEVICES_MKNOD) == -1) {
			log_warnf("%s: cannot deny %s in its cgroup: %s", d->container.name,
				now->devpath, strerror(errno));
		}
		d->standby[d->n_standby++] = g->device;
		g->device = NULL;
		log_debugf("%s: %s on standby", d->container.name, now->devpath);
	} else if (container_alive) {
		withdraw(desktops, d, g->device);
	}
	hashmap_remove(&desktops->grants, &g->entry);
	d->n_given--;
	if (g->sound_card && --d->n_sound_cards == 0 && container_alive) {
		sync_shared(desktops, d);
	}
	device_free(g->device);
	free(g);
}

void desktops_device_changed(struct desktops *desktops, enum device_change change,
	const struct device *dev) {
	if (is_shared(dev)) {
		for (struct hashmap_entry *e = hashmap_first(&desktops->by_name); e;
			e = hashmap_next(&desktops->by_name, e)) {
			sync_shared(desktops, hashmap_container_of(e, struct desktop, entry));
		}
		return;
	}
	struct grant *g = find_grant(desktops, dev->devpath);
	struct desktop *owner = change == DEVICE_REMOVED ? NULL : owner_of(desktops, dev);
	if (g != NULL && g->desktop != owner) {
		take_back(desktops, g, true, change == DEVICE_REMOVED ? NULL : dev);
		g = NULL;
	}
	if (g == NULL && owner != NULL) {
		give(desktops, owner, dev);
	}
	if (is_gpu(dev)) {
		/* GPU events are rare (a card or a connector): worth a look at every desktop. */
		for (struct hashmap_entry *e = hashmap_first(&desktops->by_name); e;
			e = hashmap_next(&desktops->by_name, e)) {
			sync_standby(desktops, hashmap_container_of(e, struct desktop, entry));
		}
	}
	if (g == NULL) {
		return;
	}
	/* Still the owner's: keep the record current and pass the change on. */
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

/*
 * The libseat endpoint hands out only devices given to this desktop, from nodes on the host
 * side, whatever path the client named.
 */
static int resolve_device(const char *client_path, enum libseat_device_class class,
	struct libseat_endpoint_target *target, void *data) {
	struct desktop *d = data;
	struct device *dev = devtable_find_by_devname(&d->desktops->daemon->devices,
		client_path + strlen("/dev/"));
	struct grant *g = dev != NULL ? find_grant(d->desktops, dev->devpath) : NULL;
	if (g == NULL || g->desktop != d || !has_node(dev)) {
		errno = ENOENT;
		return -1;
	}
	nodes_host_path(&d->desktops->nodes, &d->container, dev, target->host_path,
		sizeof(target->host_path));
	target->devnum = makedev(dev->major, dev->minor);
	target->class = class;
	return 0;
}

struct seat_search {
	struct desktop *desktop;
	const char *seat;
};

static void find_attached_seat(void *data, const char *name, enum seat_origin origin) {
	struct seat_search *search = data;
	if (search->seat == NULL && seats_has_container(&search->desktop->desktops->daemon->seats,
					    name, search->desktop->container.name)) {
		search->seat = name;
	}
}

static struct seat_switch *find_switch(const struct desktops *desktops, const char *seat) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL; sw = sw->next) {
		if (strcmp(sw->seat, seat) == 0) {
			return sw;
		}
	}
	return NULL;
}

bool desktops_switch_pending(const struct desktops *desktops, const char *seat) {
	return find_switch(desktops, seat) != NULL;
}

const char *desktops_switching_seat(const struct desktops *desktops, const char *container) {
	for (struct seat_switch *sw = desktops->switches; sw != NULL; sw = sw->next) {
		if (strcmp(sw->to, container) == 0 ||
			(sw->from != NULL && strcmp(sw->from, container) == 0)) {
			return sw->seat;
		}
	}
	return NULL;
}

static void switch_free(struct seat_switch *sw) {
	if (sw->client != NULL) {
		sw->client->waiter = NULL;
	}
	free(sw->seat);
	free(sw->from);
	free(sw->to);
	free(sw);
}

/* The container that had the seat let go: the switch is decided, then forgotten. */
static void switch_end(struct desktops *desktops, struct seat_switch *sw, bool forced) {
	for (struct seat_switch **p = &desktops->switches; *p != NULL; p = &(*p)->next) {
		if (*p == sw) {
			*p = sw->next;
			break;
		}
	}
	seatd_ns_switch_done(desktops->daemon, sw, forced, NULL);
	switch_free(sw);
}

/* The endpoint's client acknowledged DISABLE_SEAT, was forced, or left. */
static void endpoint_disabled(struct libseat_endpoint *ep, bool forced, void *data) {
	struct desktop *d = data;
	struct seat_switch *sw = find_switch(d->desktops, d->endpoint_seat);
	if (sw != NULL && sw->from != NULL && strcmp(sw->from, d->container.name) == 0) {
		switch_end(d->desktops, sw, forced);
	}
}

int desktops_switch(struct desktops *desktops, const char *seat, const char *from,
	const char *to, struct control_client *client) {
	struct seat_switch *sw = calloc(1, sizeof(*sw));
	if (sw == NULL || (sw->seat = strdup(seat)) == NULL || (sw->to = strdup(to)) == NULL ||
		(from != NULL && (sw->from = strdup(from)) == NULL)) {
		if (sw != NULL) {
			switch_free(sw);
		}
		errno = ENOMEM;
		return -1;
	}
	sw->to_registered = desktops_find(desktops, to) != NULL;
	sw->client = client;
	client->waiter = &sw->client;
	sw->next = desktops->switches;
	desktops->switches = sw;

	struct desktop *d = from != NULL ? desktops_find(desktops, from) : NULL;
	if (d != NULL && d->endpoint != NULL && strcmp(d->endpoint_seat, seat) == 0 &&
		libseat_endpoint_set_active(d->endpoint, false) == 1) {
		log_infof("%s: switching from %s to %s, waiting for %s to let go", seat, from, to,
			from);
		return 0;
	}
	/* Nobody holds the seat through libseat: nothing to wait for. */
	switch_end(desktops, sw, false);
	return 0;
}

static void close_endpoint(struct desktop *d) {
	if (d->endpoint != NULL) {
		libseat_endpoint_destroy(d->endpoint);
		unlink(d->endpoint_path);
	}
	free(d->endpoint_seat);
	free(d->endpoint_path);
	d->endpoint = NULL;
	d->endpoint_seat = d->endpoint_path = NULL;
}

/*
 * The container's endpoint socket, at path: nodes/NAME/libseat/seatd.sock on the host, so
 * that no container name makes another's path (a name has no '/'), in a directory of root's
 * alone, so that no host user reaches it. In the container it is its root's and its video
 * group's, mode 0660, as Debian's seatd.service (seatd -g video) has it.
 */
static int listen_at(const char *nodes_dir, const struct container *c, const char *path) {
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", nodes_dir, c->name);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%s/libseat", nodes_dir, c->name);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		return -1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	unlink(path);
	long video = nodes_container_group(c, "video");
	gid_t gid = c->root_gid;
	if (video >= 0) {
		container_gid_to_host(c, (gid_t)video, &gid);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
		chown(path, c->root_uid, gid) == -1 || chmod(path, 0660) == -1 ||
		listen(fd, 16) == -1) {
		int saved = errno;
		if (fd != -1) {
			close(fd);
		}
		errno = saved;
		return -1;
	}
	return fd;
}

/* The container's pid namespace, whose processes its endpoint serves. */
static int open_pidns(const struct container *c) {
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)c->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Its init still running (its pidfd not readable)? Else the pid may be another's. */
	struct pollfd exited = {.fd = c->pidfd, .events = POLLIN};
	if (fd != -1 && poll(&exited, 1, 0) != 0) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/*
 * The container's /run/seatd.sock serves the seat attached to it: made when it gets a seat,
 * remade when the seat changes, gone when it has none.
 */
static void sync_endpoint(struct desktops *desktops, struct desktop *d) {
	struct seat_search search = {.desktop = d};
	seats_for_each(&desktops->daemon->seats, &desktops->daemon->devices, find_attached_seat,
		&search);
	/* A switch waiting for this endpoint's client keeps it until the switch ends. */
	struct seat_switch *sw = d->endpoint != NULL ? find_switch(desktops, d->endpoint_seat) : NULL;
	bool waited_for = sw != NULL && sw->from != NULL && strcmp(sw->from, d->container.name) == 0;
	if (d->endpoint != NULL && !waited_for &&
		(search.seat == NULL || strcmp(search.seat, d->endpoint_seat) != 0)) {
		close_endpoint(d);
	}
	if (d->endpoint != NULL || search.seat == NULL) {
		return;
	}
	if (asprintf(&d->endpoint_path, "%s/%s/libseat/seatd.sock", desktops->nodes.dir,
		    d->container.name) == -1) {
		d->endpoint_path = NULL;
		return;
	}
	d->endpoint_seat = strdup(search.seat);
	int fd = d->endpoint_seat != NULL ?
		listen_at(desktops->nodes.dir, &d->container, d->endpoint_path) : -1;
	int pidns = fd != -1 ? open_pidns(&d->container) : -1;
	if (pidns == -1 ||
		nodes_bind_file(&d->container, d->endpoint_path, "run", "seatd.sock") == -1 ||
		(d->endpoint = libseat_endpoint_create(&desktops->daemon->poller, fd, pidns,
			 search.seat, resolve_device, d)) == NULL) {
		log_errorf("%s: no libseat endpoint at /run/seatd.sock: %s", d->container.name,
			strerror(errno));
		if (fd != -1) {
			close(fd);
		}
		if (pidns != -1) {
			close(pidns);
		}
		close_endpoint(d);
		return;
	}
	libseat_endpoint_set_protocol(d->endpoint, d->libseat_protocol);
	libseat_endpoint_set_disabled_callback(d->endpoint, endpoint_disabled, d);
	log_infof("%s: libseat endpoint for %s at /run/seatd.sock (libseat %s)",
		d->container.name, search.seat,
		d->libseat_protocol == LIBSEAT_PROTOCOL_LEGACY ? "before 0.9" : "0.9 and later");
}

/*
 * Only the seat's active container has its endpoint active; while a switch of the seat is
 * pending, the switch alone changes that.
 */
static void sync_endpoint_active(struct desktops *desktops, struct desktop *d) {
	if (d->endpoint == NULL || desktops_switch_pending(desktops, d->endpoint_seat)) {
		return;
	}
	const char *active = seats_container(&desktops->daemon->seats, d->endpoint_seat);
	bool want = active != NULL && strcmp(active, d->container.name) == 0;
	if (want != libseat_endpoint_is_active(d->endpoint)) {
		libseat_endpoint_set_active(d->endpoint, want);
	}
}

void desktops_sync(struct desktops *desktops) {
	struct devtable *table = &desktops->daemon->devices;
	/* Take back what no longer belongs, then give what is missing. */
	struct hashmap_entry *e = hashmap_first(&desktops->grants);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&desktops->grants, e);
		struct grant *g = hashmap_container_of(e, struct grant, entry);
		struct device *dev = devtable_find(table, g->device->devpath);
		if (dev == NULL || owner_of(desktops, dev) != g->desktop) {
			take_back(desktops, g, true, dev);
		}
		e = next;
	}
	/*
	 * In devpath order, parents first; sound cards last, as udev announces them ready only
	 * once their nodes exist (PulseAudio and PipeWire look for the nodes on the card's event).
	 */
	size_t n;
	const struct device **list = devtable_list(table, &n);
	if (list == NULL) {
		log_error("out of memory while giving devices to containers");
		return;
	}
	for (int cards = 0; cards < 2; cards++) {
		for (size_t i = 0; i < n; i++) {
			const struct device *dev = list[i];
			struct desktop *owner = owner_of(desktops, dev);
			if ((dev->kind == DEVICE_KIND_SOUND_CARD) == (cards == 1) && owner != NULL &&
				find_grant(desktops, dev->devpath) == NULL) {
				give(desktops, owner, dev);
			}
		}
	}
	free(list);
	for (e = hashmap_first(&desktops->by_name); e; e = hashmap_next(&desktops->by_name, e)) {
		sync_shared(desktops, hashmap_container_of(e, struct desktop, entry));
		sync_standby(desktops, hashmap_container_of(e, struct desktop, entry));
		sync_endpoint(desktops, hashmap_container_of(e, struct desktop, entry));
		sync_endpoint_active(desktops, hashmap_container_of(e, struct desktop, entry));
	}
}

static void desktop_destroy(struct desktops *desktops, struct desktop *d, bool alive) {
	/* A switch waiting for it to let go ends once it is gone (its endpoint will not say). */
	char name[CONTAINER_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", d->container.name);
	struct hashmap_entry *e = hashmap_first(&desktops->grants);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&desktops->grants, e);
		struct grant *g = hashmap_container_of(e, struct grant, entry);
		if (g->desktop == d) {
			take_back(desktops, g, alive, NULL);
		}
		e = next;
	}
	for (size_t i = 0; i < d->n_shared; i++) {
		if (alive) {
			withdraw(desktops, d, d->shared[i]);
		}
		device_free(d->shared[i]);
	}
	for (size_t i = 0; i < d->n_standby; i++) {
		if (alive) {
			withdraw(desktops, d, d->standby[i]);
		}
		device_free(d->standby[i]);
	}
	close_endpoint(d);
	poller_remove(&desktops->daemon->poller, &d->exit_source);
	if (d->cgroup != NULL) {
		cgroup_devices_close(d->cgroup);
	}
	hashmap_remove(&desktops->by_name, &d->entry);
	nodes_forget(&desktops->nodes, d->container.name);
	forwarder_close(&d->forwarder);
	container_close(&d->container);
	free(d);
	for (struct seat_switch *sw = desktops->switches; sw != NULL;) {
		struct seat_switch *next = sw->next;
		if (sw->from != NULL && strcmp(sw->from, name) == 0) {
			switch_end(desktops, sw, false);
		}
		sw = next;
	}
}

/* The container's init exited: forget it, touching nothing inside. */
static int container_exited(int fd, uint32_t events, void *data) {
	struct desktop *d = data;
	log_infof("container %s exited; unregistered", d->container.name);
	desktop_destroy(d->desktops, d, false);
	return 0;
}

int desktops_register(struct desktops *desktops, struct container *container,
	bool kernel_events, enum libseat_endpoint_protocol protocol, const char **warning) {
	*warning = NULL;
	struct desktop *d = NULL;
	if (desktops_find(desktops, container->name) != NULL) {
		errno = EEXIST;
	} else {
		d = calloc(1, sizeof(*d));
	}
	if (d == NULL) {
		int saved = errno;
		container_close(container);
		errno = saved;
		return -1;
	}
	d->desktops = desktops;
	d->kernel_events = kernel_events;
	d->libseat_protocol = protocol;
	d->forwarder.fd = -1;
	d->container = *container;
	const char *name = d->container.name;
	/* Deny by default from the start: without its program nothing would ever be denied. */
	d->cgroup = cgroup_devices_open(d->container.pid, d->container.pidfd);
	if (d->cgroup == NULL) {
		goto fail;
	}
	if (forward_prepare(&d->container) == -1) {
		log_warnf("container %s: cannot create /run/udev/control: %s", name,
			strerror(errno));
	}
	if (forwarder_open(&d->forwarder, &d->container) == -1 ||
		poller_add(&desktops->daemon->poller, &d->exit_source, d->container.pidfd, EPOLLIN,
			container_exited, d) == -1 ||
		hashmap_put(&desktops->by_name, &d->entry, d->container.name) == -1) {
		goto fail;
	}
	if (!d->container.own_userns) {
		*warning = "its network namespace belongs to the host's user namespace, so the "
			   "kernel sends it every host uevent; give it a user namespace of its own";
		log_warnf("container %s: %s", name, *warning);
	}
	log_infof("container %s registered (pid %d)", name, (int)d->container.pid);
	desktops_sync(desktops);
	return 0;

fail:;
	int saved = errno;
	poller_remove(&desktops->daemon->poller, &d->exit_source);
	forwarder_close(&d->forwarder);
	cgroup_devices_close(d->cgroup);
	container_close(&d->container);
	free(d);
	errno = saved;
	return -1;
}

int desktops_unregister(struct desktops *desktops, const char *name) {
	struct desktop *d = desktops_find(desktops, name);
	if (d == NULL) {
		errno = ENOENT;
		return -1;
	}
	desktop_destroy(desktops, d, true);
	log_infof("container %s unregistered", name);
	return 0;
}

void desktops_finish(struct desktops *desktops) {
	/* The daemon is going: switches stay undone, their clients see the connection close. */
	while (desktops->switches != NULL) {
		struct seat_switch *sw = desktops->switches;
		desktops->switches = sw->next;
		switch_free(sw);
	}
	while (hashmap_first(&desktops->by_name) != NULL) {
		struct desktop *d = hashmap_container_of(hashmap_first(&desktops->by_name),
			struct desktop, entry);
		desktop_destroy(desktops, d, true);
	}
	hashmap_finish(&desktops->by_name);
	hashmap_finish(&desktops->grants);
	nodes_finish(&desktops->nodes);
}
