#ifndef _SEATD_NS_DESKTOPS_H
#define _SEATD_NS_DESKTOPS_H

#include <stdbool.h>

#include "cgroup_devices.h"
#include "container.h"
#include "devtable.h"
#include "forward.h"
#include "libseat_endpoint.h"
#include "nodes.h"
#include "poller.h"

/*
 * Desktop containers: the registered containers and the devices each has been given. A
 * container gets every device of the seat it is the active container of, in the order node,
 * udev database entry, event; a device leaves in the reverse order. Only the owner of a
 * device is touched for its events, so the cost of an event does not grow with the number
 * of containers. Every container attached to a seat has a libseat endpoint for it, active
 * only in the active container; switches hand a seat from one to another. The others keep
 * the seat's GPU nodes and their udev entries on standby, without access, so that their
 * compositors wait for their turn instead of seeing their GPU unplugged (as a session on
 * another VT does under logind).
 */

struct seatd_ns;

#define DESKTOP_MAX_SHARED 4
#define DESKTOP_MAX_STANDBY 8

struct desktop {
	struct hashmap_entry entry; /* by container name */
	struct container container;
	struct forwarder forwarder;
	struct cgroup_devices *cgroup; /* NULL: its own device cgroup alone decides */
	struct libseat_endpoint *endpoint; /* its /run/seatd.sock, for its seat's compositor */
	char *endpoint_seat;
	char *endpoint_path;         /* the socket on the host side */
	struct poller_source exit_source;
	bool kernel_events;         /* also inject kernel-format events, for its own udevd */
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
	struct control_client *client; /* who asked, to be told the outcome; NULL once gone */
};

struct desktops {
	struct hashmap by_name;
	struct hashmap grants; /* every device given to any desktop, by devpath */
	struct nodes nodes;
	struct seatd_ns *daemon;
	struct seat_switch *switches; /* pending */
	unsigned long n_switches, n_switches_forced; /* done */
};

int desktops_init(struct desktops *desktops, struct seatd_ns *daemon, const char *run_dir);
void desktops_finish(struct desktops *desktops);

/*
 * Registers a container held by container_open, which it takes over (and closes on
 * failure); with kernel_events, its events are also injected in the kernel's format (for a
 * container that runs its own udevd). Its cgroup gets the device program, or it is not
 * registered. Sets *warning to a static sentence when the container's network namespace
 * belongs to the host's user namespace (it then hears every host uevent from the kernel).
 * Returns 0, or -1 with errno (EEXIST, ESRCH, and cgroup_devices_open's: EBUSY, ENOENT,
 * ENOTSUP, ...).
 */
int desktops_register(struct desktops *desktops, struct container *container,
	bool kernel_events, enum libseat_endpoint_protocol protocol, const char **warning);
int desktops_unregister(struct desktops *desktops, const char *name);
struct desktop *desktops_find(struct desktops *desktops, const char *name);

/* Follows a change of the device table: gives, updates or takes back that one device. */
void desktops_device_changed(struct desktops *desktops, enum device_change change,
	const struct device *dev);

/* Brings every desktop in line with the seats (after attach, detach, reload, register). */
void desktops_sync(struct desktops *desktops);

/*
 * Starts switching seat from its active container (from, NULL for none) to container to,
 * for client. The active one's libseat endpoint is deactivated; once its client lets go
 * (or is forced, or leaves, or its container goes), seatd_ns_switch_done decides, then the
 * switch is freed. That may happen before this returns. 0, or -1 with ENOMEM.
 */
int desktops_switch(struct desktops *desktops, const char *seat, const char *from,
	const char *to, struct control_client *client);
bool desktops_switch_pending(const struct desktops *desktops, const char *seat);
/* The seat a pending switch hands from or to container, or NULL. */
const char *desktops_switching_seat(const struct desktops *desktops, const char *container);

#endif
