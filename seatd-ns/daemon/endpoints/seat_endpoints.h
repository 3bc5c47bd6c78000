#ifndef _SEATD_NS_SEAT_ENDPOINTS_H
#define _SEATD_NS_SEAT_ENDPOINTS_H

#include "desktops.h"
#include "fd_store.h"

/*
 * Every desktop attached to a seat gets a libseat endpoint for it at its /run/seatd.sock
 * (libseat_endpoint.h), active only while it is the seat's active container; a switch waits
 * for the endpoint's client to let go. This module keeps the endpoints in step with the
 * desktops layer, which tells it what changes (desktop_seat_client_ops).
 */
struct seat_endpoints {
	struct desktops *desktops;
	/* What the daemon before kept in the fd store: its endpoints' clients, until started. */
	struct fd_store_kept kept;
};

/*
 * Takes what the service manager kept (fd_store.h) and sets itself as the desktops' seat
 * clients: an endpoint made for a container takes over its clients from the daemon before.
 */
void seat_endpoints_init(struct seat_endpoints *endpoints, struct desktops *desktops);
/* The daemon is up: what no endpoint took over is closed (its container is gone). */
void seat_endpoints_started(struct seat_endpoints *endpoints);

#endif
