#ifndef _SEATD_NS_SWITCHES_H
#define _SEATD_NS_SWITCHES_H

#include "desktops.h"

/* The pending switches' side of desktops.c (the rest is declared in desktops.h). */

/* A switch waiting for that container to let go ends: its container went. */
void switches_container_gone(struct desktops *desktops, const char *name);
/* The daemon is going: pending switches stay undecided. */
void switches_finish(struct desktops *desktops);

#endif
