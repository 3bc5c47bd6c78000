#ifndef _SEATD_NS_DESKTOPS_H
#define _SEATD_NS_DESKTOPS_H

#include <stdbool.h>

#include "cgroup_devices.h"
#include "config.h"
#include "container.h"
#include "devtable.h"
#include "forward.h"
#include "nodes.h"
#include "poller.h"
#include "registry.h"
#include "seatd_protocol.h"
#include "seats.h"

/*
 * Desktop containers: the registered containers and the devices each has been given. A
 * container gets every device of the seat it is the active container of, in the order node,
 * udev database entry, event; a device leaves in the reverse order. Only the owner of a
 * device is touched for its events, so the cost of an event does not grow with the number
 * of containers. The layer above serves each container's seat to its compositor (its libseat
 * endpoint), told through desktop_seat_client_ops; switches hand a seat from one container to
 * another, waiting for the compositor of the one that has it to let go. The others keep
 * the seat's GPU nodes and their udev entries on standby, without access, so that their
 * compositors wait for their turn instead of seeing their GPU unplugged (as a session on
 * another VT does under logind).
 */

#define DESKTOP_MAX_SHARED 4
#define DESKTOP_MAX_STANDBY 8

struct desktop {
	struct hashmap_entry entry; /* by container name */
	struct container container;
	struct forwarder forwarder;
	struct cgroup_devices *cgroup; /* its device program: denies all but what it is given */
	void *seat_client;          /* the layer above's, for serving its seat (its endpoint) */
	struct poller_source exit_source;
	bool kernel_events;         /* also inject kernel-format events, for its own udevd */
	bool privileged;            /* registered in the host's user namespace, by root */
	bool readopting;            /* re-adopted from an earlier daemon, until its first sync */
	enum libseat_endpoint_protocol libseat_protocol; /* what its libseat speaks */
	unsigned n_given;
	unsigned n_sound_cards;     /* given cards whose seat shares the sound nodes */
	struct device *shared[DESKTOP_MAX_SHARED]; /* the shared sound nodes it was given */
	size_t n_shared;
	struct device *standby[DESKTOP_MAX_STANDBY]; /* GPU nodes of a seat another container has */
	size_t n_standby;
	struct desktops *desktops;
};

/* A device given to a desktop, as it was given (the table may have dropped it since). */
struct grant {
	struct hashmap_entry entry; /* by devpath */
	struct desktop *desktop;
	struct device *device;
	bool sound_card; /* counts towards the desktop's shared sound nodes */
};

/*
 * A switch of a seat from one container to another, waiting for the one that had it to
 * let go (DISABLE_SEAT acknowledged or forced). Until it ends the seat stays with from.
 */
struct seat_switch {
	struct seat_switch *next;
	char *seat;
	char *from;                   /* NULL: the seat had no container */
	char *to;
	bool to_registered;           /* at the start; if it is gone at the end, the switch fails */
	void *requester;              /* who asked, to be told the outcome; NULL once gone */
};

/*
 * How the layer above serves a desktop's seat to its compositor (a libseat endpoint), told of
 * what changes. Every member may be NULL.
 */
struct desktop_seat_client_ops {
	/* After a sync: the seat d is attached to, or whether it is active there, may differ. */
	void (*synced)(struct desktop *d, void *data);
	/* d loses the device whose node is host_path: what was handed out of it goes first. */
	void (*device_lost)(struct desktop *d, const char *host_path, void *data);
	/*
	 * A switch takes seat from d: 1 when d's compositor must let go first (the layer above
	 * then calls desktops_seat_released), 0 when nothing of d holds it.
	 */
	int (*release)(struct desktop *d, const char *seat, void *data);
	/*
	 * d is going: what serves its seat goes first. kept: the daemon exits and d keeps what it
	 * has, for the next daemon to take over.
	 */
	void (*gone)(struct desktop *d, bool kept, void *data);
};

/*
 * A switch was decided: the one that had the seat let go (forced: after the timeout), or
 * its container went. The listener records the outcome and tells who asked; desktops frees
 * the switch after it returns.
 */
typedef void (*desktops_switch_done_fn)(struct seat_switch *sw, bool forced, void *data);

/* A registered container went: unregistered or exited (not when the daemon exits). */
typedef void (*desktops_gone_fn)(const char *container, void *data);

struct desktops {
	struct hashmap by_name;
	struct hashmap grants; /* every device given to any desktop, by devpath */
	struct nodes nodes;
	char *registry_path;  /* RUN_DIR/registrations (registry.h) */
	struct poller *poller;
	struct devtable *devices;
	struct seats *seats;
	const struct config *config;
	const struct desktop_seat_client_ops *seat_clients;
	void *seat_clients_data;
	desktops_switch_done_fn switch_done;
	void *switch_done_data;
	desktops_gone_fn gone;
	void *gone_data;
	struct seat_switch *switches; /* pending */
};

/* The layers below it: the device table, the seats and the configuration they follow. */
int desktops_init(struct desktops *desktops, const char *run_dir, struct poller *poller,
	struct devtable *devices, struct seats *seats, const struct config *config);
/*
 * The daemon exits: pending switches are dropped undecided, and the containers keep what they
 * have (nodes, device programs, the node tmpfs, the registrations) for the next daemon, which
 * re-adopts them (desktops_readopt). Only memory is freed.
 */
void desktops_finish(struct desktops *desktops);
void desktops_set_seat_clients(struct desktops *desktops,
	const struct desktop_seat_client_ops *ops, void *data);
void desktops_set_switch_done(struct desktops *desktops, desktops_switch_done_fn fn,
	void *data);
void desktops_set_gone(struct desktops *desktops, desktops_gone_fn fn, void *data);

/*
 * Registers a container held by container_open, which it takes over (and closes on
 * failure), as how says (its libseat's protocol; with kernel_events, its events are also
 * injected in the kernel's format, for a container that runs its own udevd). Its cgroup gets
 * the device program, or it is not registered. Sets *warning to a static sentence when the
 * container's network namespace belongs to the host's user namespace (it then hears every
 * host uevent from the kernel). Returns 0, or -1 with errno (EEXIST, ESRCH, EXDEV: its cgroup
 * is another registered container's, or above or below one; and
 * cgroup_devices_open's: EBUSY, ENOENT, ENOTSUP, ...).
 */
int desktops_register(struct desktops *desktops, struct container *container,
	const struct registration *how, const char **warning);
/*
 * Re-adopts the containers an earlier daemon registered that still run (the same process, by
 * its start time): they keep the devices their seats give them now, without new events for
 * what they had, and lose what they should not have any more (node, access and open files).
 * The others are forgotten. Returns how many were re-adopted, or -1 with errno when the
 * registrations cannot be read.
 */
int desktops_readopt(struct desktops *desktops);
int desktops_unregister(struct desktops *desktops, const char *name);
struct desktop *desktops_find(struct desktops *desktops, const char *name);

/* Follows a change of the device table: gives, updates or takes back that one device. */
void desktops_device_changed(struct desktops *desktops, enum device_change change,
	const struct device *dev);

/* Brings every desktop in line with the seats (after attach, detach, reload, register). */
void desktops_sync(struct desktops *desktops);

/*
 * The host node of a device given to d, by the name a client in d uses for it ("input/event3"):
 * 0 with host_path and devnum set, or -1 with ENOENT for anything d has not been given.
 */
int desktops_given_node(struct desktops *desktops, struct desktop *d, const char *devname,
	char *host_path, size_t size, dev_t *devnum);

/*
 * Starts switching seat from its active container (from, NULL for none) to container to,
 * for requester. The seat client of from is asked to release it; once it lets go (or is
 * forced, or its container goes), the switch-done listener decides, then the switch is freed.
 * That may happen before this returns. 0, or -1 with ENOMEM.
 */
int desktops_switch(struct desktops *desktops, const char *seat, const char *from,
	const char *to, void *requester);
/* d's seat client let go of seat (a release that returned 1 is done). */
void desktops_seat_released(struct desktops *desktops, struct desktop *d, const char *seat,
	bool forced);
bool desktops_switch_pending(const struct desktops *desktops, const char *seat);
/* Whether a pending switch of seat waits for d to let go of it. */
bool desktops_switch_waits_for(const struct desktops *desktops, const char *seat,
	const struct desktop *d);
/* Whether requester asked for a switch still pending; forgetting it: it is gone. */
bool desktops_switch_requested_by(const struct desktops *desktops, const void *requester);
void desktops_forget_requester(struct desktops *desktops, const void *requester);
/* The seat a pending switch hands from or to container, or NULL. */
const char *desktops_switching_seat(const struct desktops *desktops, const char *container);

#endif
