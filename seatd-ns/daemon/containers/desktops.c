#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desktops.h"
#include "grants.h"
#include "log.h"
#include "registry.h"
#include "switches.h"

int desktops_init(struct desktops *desktops, const char *run_dir, struct poller *poller,
	struct devtable *devices, struct seats *seats, const struct config *config) {
	*desktops = (struct desktops){
		.poller = poller, .devices = devices, .seats = seats, .config = config};
	hashmap_init(&desktops->by_name);
	hashmap_init(&desktops->grants);
	if (asprintf(&desktops->registry_path, "%s/registrations", run_dir) == -1) {
		desktops->registry_path = NULL;
		return -1;
	}
	return nodes_init(&desktops->nodes, run_dir);
}

void desktops_set_seat_clients(struct desktops *desktops,
	const struct desktop_seat_client_ops *ops, void *data) {
	desktops->seat_clients = ops;
	desktops->seat_clients_data = data;
}

void desktops_set_switch_done(struct desktops *desktops, desktops_switch_done_fn fn,
	void *data) {
	desktops->switch_done = fn;
	desktops->switch_done_data = data;
}

void desktops_set_gone(struct desktops *desktops, desktops_gone_fn fn, void *data) {
	desktops->gone = fn;
	desktops->gone_data = data;
}

struct desktop *desktops_find(struct desktops *desktops, const char *name) {
	struct hashmap_entry *e = hashmap_get(&desktops->by_name, name);
	return e ? hashmap_container_of(e, struct desktop, entry) : NULL;
}

void desktops_device_changed(struct desktops *desktops, enum device_change change,
	const struct device *dev) {
	if (grants_is_shared(dev)) {
		for (struct hashmap_entry *e = hashmap_first(&desktops->by_name); e;
			e = hashmap_next(&desktops->by_name, e)) {
			grants_sync_shared(desktops, hashmap_container_of(e, struct desktop, entry));
		}
		return;
	}
	struct grant *g = grants_find(desktops, dev->devpath);
	struct desktop *owner = change == DEVICE_REMOVED ? NULL : grants_owner_of(desktops, dev);
	if (g != NULL && g->desktop != owner) {
		grants_take_back(desktops, g, true, change == DEVICE_REMOVED ? NULL : dev);
		g = NULL;
	}
	if (g == NULL && owner != NULL) {
		grants_give(desktops, owner, dev);
	}
	if (grants_is_gpu(dev)) {
		/* GPU events are rare (a card or a connector): worth a look at every desktop. */
		for (struct hashmap_entry *e = hashmap_first(&desktops->by_name); e;
			e = hashmap_next(&desktops->by_name, e)) {
			grants_sync_standby(desktops, hashmap_container_of(e, struct desktop, entry));
		}
	}
	if (g == NULL) {
		return;
	}
	grants_pass_change(desktops, g, dev);
}

void desktops_sync(struct desktops *desktops) {
	struct devtable *table = desktops->devices;
	/* Take back what no longer belongs, then give what is missing. */
	struct hashmap_entry *e = hashmap_first(&desktops->grants);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&desktops->grants, e);
		struct grant *g = hashmap_container_of(e, struct grant, entry);
		struct device *dev = devtable_find(table, g->device->devpath);
		if (dev == NULL || grants_owner_of(desktops, dev) != g->desktop) {
			grants_take_back(desktops, g, true, dev);
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
			struct desktop *owner = grants_owner_of(desktops, dev);
			if ((dev->kind == DEVICE_KIND_SOUND_CARD) == (cards == 1) && owner != NULL &&
				grants_find(desktops, dev->devpath) == NULL) {
				grants_give(desktops, owner, dev);
			}
		}
	}
	free(list);
	const struct desktop_seat_client_ops *ops = desktops->seat_clients;
	for (e = hashmap_first(&desktops->by_name); e; e = hashmap_next(&desktops->by_name, e)) {
		struct desktop *d = hashmap_container_of(e, struct desktop, entry);
		grants_sync_shared(desktops, d);
		grants_sync_standby(desktops, d);
		if (ops != NULL && ops->synced != NULL) {
			ops->synced(d, desktops->seat_clients_data);
		}
	}
}

/* Writes the registrations for a daemon started later; a failure costs only that. */
static void save_registry(struct desktops *desktops) {
	size_t n = 0;
	struct registration *regs = calloc(desktops->by_name.n_entries + 1, sizeof(*regs));
	for (struct hashmap_entry *e = hashmap_first(&desktops->by_name); regs != NULL && e;
		e = hashmap_next(&desktops->by_name, e)) {
		const struct desktop *d = hashmap_container_of(e, struct desktop, entry);
		struct registration *r = &regs[n++];
		snprintf(r->name, sizeof(r->name), "%s", d->container.name);
		r->pid = d->container.pid;
		r->start_time = d->container.start_time;
		r->protocol = d->libseat_protocol;
		r->kernel_events = d->kernel_events;
		r->privileged = d->privileged;
	}
	if (regs == NULL || registry_save(desktops->registry_path, regs, n) == -1) {
		log_errorf("cannot save %s: %s; a restart will not re-adopt the containers",
			desktops->registry_path, regs == NULL ? strerror(ENOMEM) : strerror(errno));
	}
	free(regs);
}

/* How a desktop ends: what is done to the container. */
enum desktop_end {
	DESKTOP_UNREGISTERED, /* everything given is taken back */
	DESKTOP_EXITED,       /* nothing inside is touched: it is gone */
	DESKTOP_LEFT,         /* the daemon exits: it keeps all it has, for the next to re-adopt */
};

static void desktop_destroy(struct desktops *desktops, struct desktop *d, enum desktop_end end) {
	bool alive = end == DESKTOP_UNREGISTERED;
	/* A switch waiting for it to let go ends once it is gone (its endpoint will not say). */
	char name[CONTAINER_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", d->container.name);
	struct hashmap_entry *e = hashmap_first(&desktops->grants);
	while (e != NULL) {
		struct hashmap_entry *next = hashmap_next(&desktops->grants, e);
		struct grant *g = hashmap_container_of(e, struct grant, entry);
		if (g->desktop == d) {
			grants_take_back(desktops, g, alive, NULL);
		}
		e = next;
	}
	for (size_t i = 0; i < d->n_shared; i++) {
		if (alive) {
			grants_withdraw(desktops, d, d->shared[i]);
		}
		device_free(d->shared[i]);
	}
	for (size_t i = 0; i < d->n_standby; i++) {
		if (alive) {
			grants_withdraw(desktops, d, d->standby[i]);
		}
		device_free(d->standby[i]);
	}
	const struct desktop_seat_client_ops *ops = desktops->seat_clients;
	if (ops != NULL && ops->gone != NULL) {
		ops->gone(d, end == DESKTOP_LEFT, desktops->seat_clients_data);
	}
	poller_remove(desktops->poller, &d->exit_source);
	if (end == DESKTOP_LEFT) {
		cgroup_devices_leave(d->cgroup);
	} else {
		cgroup_devices_close(d->cgroup);
		nodes_forget(&desktops->nodes, d->container.name);
	}
	hashmap_remove(&desktops->by_name, &d->entry);
	forwarder_close(&d->forwarder);
	container_close(&d->container);
	free(d);
	switches_container_gone(desktops, name);
	if (end != DESKTOP_LEFT && desktops->gone != NULL) {
		desktops->gone(name, desktops->gone_data);
	}
}

/* The container's init exited: forget it, touching nothing inside. */
static int container_exited(int fd, uint32_t events, void *data) {
	struct desktop *d = data;
	struct desktops *desktops = d->desktops;
	log_infof("container %s exited; unregistered", d->container.name);
	desktop_destroy(desktops, d, DESKTOP_EXITED);
	save_registry(desktops);
	return 0;
}

static int register_desktop(struct desktops *desktops, struct container *container,
	const struct registration *how, bool readopting, const char **warning) {
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
	d->kernel_events = how->kernel_events;
	d->libseat_protocol = how->protocol;
	d->privileged = how->privileged;
	d->readopting = readopting;
	d->forwarder.fd = -1;
	d->container = *container;
	const char *name = d->container.name;
	/* One device program per cgroup: another container's there would replace this one. */
	for (struct hashmap_entry *e = hashmap_first(&desktops->by_name); e;
		e = hashmap_next(&desktops->by_name, e)) {
		const struct desktop *other = hashmap_container_of(e, struct desktop, entry);
		if (cgroup_devices_overlap(d->container.pid, other->cgroup)) {
			log_warnf("container %s: its cgroup is %s's, or contains it or is inside it",
				name, other->container.name);
			errno = EXDEV;
			goto fail;
		}
	}
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
		poller_add(desktops->poller, &d->exit_source, d->container.pidfd, EPOLLIN,
			container_exited, d) == -1 ||
		hashmap_put(&desktops->by_name, &d->entry, d->container.name) == -1) {
		goto fail;
	}
	if (!d->container.own_userns) {
		*warning = "its network namespace belongs to the host's user namespace, so the "
			   "kernel sends it every host uevent; give it a user namespace of its own";
		log_warnf("container %s: %s", name, *warning);
	}
	log_infof("container %s %s (pid %d)", name, readopting ? "re-adopted" : "registered",
		(int)d->container.pid);
	desktops_sync(desktops);
	if (readopting) {
		grants_take_stale(desktops, d);
		d->readopting = false;
	}
	save_registry(desktops);
	return 0;

fail:;
	int saved = errno;
	poller_remove(desktops->poller, &d->exit_source);
	forwarder_close(&d->forwarder);
	cgroup_devices_close(d->cgroup);
	container_close(&d->container);
	free(d);
	errno = saved;
	return -1;
}

int desktops_register(struct desktops *desktops, struct container *container,
	const struct registration *how, const char **warning) {
	return register_desktop(desktops, container, how, false, warning);
}

int desktops_readopt(struct desktops *desktops) {
	struct registration *regs;
	size_t n;
	if (registry_load(desktops->registry_path, &regs, &n) == -1) {
		return -1;
	}
	int adopted = 0;
	for (size_t i = 0; i < n; i++) {
		const struct registration *r = &regs[i];
		struct container c;
		const char *why = NULL, *warning;
		if (container_open(&c, r->name, r->pid, r->start_time) == -1) {
			log_infof("container %s (pid %d) is no longer running; forgotten",
				r->name, (int)r->pid);
			nodes_forget(&desktops->nodes, r->name);
			continue;
		}
		/* Root registered it: a privileged one only by its explicit option. */
		why = container_refusal(&c, r->privileged, 0);
		if (why != NULL) {
			log_warnf("container %s (pid %d) not re-adopted: %s; its nodes go", r->name,
				(int)r->pid, why);
			container_close(&c);
			nodes_forget(&desktops->nodes, r->name);
			continue;
		}
		if (register_desktop(desktops, &c, r, true, &warning) == -1) {
			log_errorf("container %s (pid %d) not re-adopted: %s; its nodes go", r->name,
				(int)r->pid, strerror(errno));
			nodes_forget(&desktops->nodes, r->name);
			continue;
		}
		adopted++;
	}
	free(regs);
	save_registry(desktops);
	return adopted;
}

int desktops_unregister(struct desktops *desktops, const char *name) {
	struct desktop *d = desktops_find(desktops, name);
	if (d == NULL) {
		errno = ENOENT;
		return -1;
	}
	desktop_destroy(desktops, d, DESKTOP_UNREGISTERED);
	save_registry(desktops);
	log_infof("container %s unregistered", name);
	return 0;
}

void desktops_finish(struct desktops *desktops) {
	/* The daemon is going: switches stay undone, their clients see the connection close. */
	switches_finish(desktops);
	size_t left = desktops->by_name.n_entries;
	while (hashmap_first(&desktops->by_name) != NULL) {
		struct desktop *d = hashmap_container_of(hashmap_first(&desktops->by_name),
			struct desktop, entry);
		desktop_destroy(desktops, d, DESKTOP_LEFT);
	}
	if (left > 0) {
		/* Their nodes are in the node tmpfs: it stays mounted for the next daemon. */
		desktops->nodes.mounted = false;
		log_infof("%zu containers keep their devices; the next start re-adopts them", left);
	}
	hashmap_finish(&desktops->by_name);
	hashmap_finish(&desktops->grants);
	nodes_finish(&desktops->nodes);
	free(desktops->registry_path);
}
