#ifndef _SEATD_NS_SEATD_NS_H
#define _SEATD_NS_SEATD_NS_H

#include <time.h>

#include "config.h"
#include "control_server.h"
#include "desktops.h"
#include "devtable.h"
#include "event_source.h"
#include "poller.h"
#include "seats.h"
#include "state.h"

/* The daemon: its parts, wired together by main.c. */
struct seatd_ns {
	struct poller poller;
	struct devtable devices;
	struct event_source events;
	struct control_server control;
	struct config config;
	struct state state;
	struct seats seats;
	struct desktops desktops;
	const char *config_path;
	bool config_given;
	const char *sysfs_root;
	const char *udev_data_dir; /* the host udevd's database, when it is the event source */
	time_t started;
};

/*
 * Reads the configuration again; if it has errors, keeps the old one and returns -1 with the
 * messages in *errors (free them). Devices are then reseated under the new rules.
 */
int seatd_ns_reload(struct seatd_ns *daemon, char **errors);

/* Answers one control request (requests.c). */
int seatd_ns_handle_request(void *data, struct control_client *client,
	const struct control_record *request);

/*
 * Ends a switch (requests.c): makes to the seat's active container and hands the devices
 * over, or, with error set or to gone, leaves the seat with from; tells the client.
 */
void seatd_ns_switch_done(struct seatd_ns *daemon, struct seat_switch *sw, bool forced,
	const char *error);

/* Tells monitoring clients of a device change (a devtable_notify_fn). */
void seatd_ns_device_changed(void *data, enum device_change change, const struct device *dev);

#endif
