#ifndef _SEATD_NS_SEAT_ENDPOINTS_H
#define _SEATD_NS_SEAT_ENDPOINTS_H

#include "desktops.h"

/*
 * Every desktop attached to a seat gets a libseat endpoint for it at its /run/seatd.sock
 * (libseat_endpoint.h), active only while it is the seat's active container; a switch waits
 * for the endpoint's client to let go. This module keeps the endpoints in step with the
 * desktops layer, which tells it what changes (desktop_seat_client_ops).
 */
void seat_endpoints_init(struct desktops *desktops);

#endif
