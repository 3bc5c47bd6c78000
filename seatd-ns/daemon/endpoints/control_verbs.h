#ifndef _SEATD_NS_CONTROL_VERBS_H
#define _SEATD_NS_CONTROL_VERBS_H

#include <time.h>

#include "config.h"
#include "control_server.h"
#include "desktops.h"
#include "devtable.h"
#include "event_source.h"
#include "seats.h"
#include "sessions.h"
#include "state.h"

/*
 * What the control socket's requests mean (control.h lists them): each verb reads or changes
 * the layers below and answers its client. The verbs by family: queries (verbs_query.c),
 * runtime assignments (verbs_assign.c), containers of a seat and switches
 * (verbs_attach.c), registration and reload (verbs_containers.c), login sessions
 * (verbs_sessions.c).
 */
/* A client that waits until the session on seat leaves it (wait-session). */
struct session_waiter {
	struct session_waiter *next;
	struct control_client *client;
	char seat[SEAT_NAME_MAX + 1];
};

struct control_verbs {
	struct control_server *control;
	struct devtable *devices;
	const struct event_source *events;
	const struct config *config;
	struct state *state;
	struct seats *seats;
	struct desktops *desktops;
	struct sessions *sessions;
	struct session_waiter *waiters;
	const char *sysfs_root;
	time_t started;
	/*
	 * Reads the configuration again (the daemon's own job, above this layer); if it has
	 * errors, keeps the old one and returns -1 with the messages in *errors (free them).
	 */
	int (*reload)(void *data, char **errors);
	void *reload_data;
	unsigned long n_switches, n_switches_forced; /* done */
};

/* Answers one request (a control_handler_fn, data the control_verbs). */
int control_verbs_handle(void *data, struct control_client *client,
	const struct control_record *request);
/* Forgets a client that is going (a control_client_gone_fn). */
void control_verbs_client_gone(void *data, struct control_client *client);
/* Tells monitoring clients of a device change (a devtable_notify_fn). */
void control_verbs_device_changed(void *data, enum device_change change,
	const struct device *dev);
/* Records a switch the desktops decided and answers who asked (a desktops_switch_done_fn). */
void control_verbs_switch_done(struct seat_switch *sw, bool forced, void *data);
/* Tells monitors that a session left a seat: it ended, or moved (a sessions_left_fn). */
void control_verbs_session_left(const struct session *s, const char *seat,
	enum session_end why, void *data);

#endif
