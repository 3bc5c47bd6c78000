#ifndef _SEATD_NS_GRANTS_H
#define _SEATD_NS_GRANTS_H

#include <stdbool.h>

#include "desktops.h"

/*
 * The devices given to desktops (desktops.h's bookkeeping, for desktops.c): which desktop
 * should have a device, and the giving and taking back of one, in the order consumers need.
 * Beside its own devices a desktop gets the shared sound nodes while it has a sound card, and
 * keeps the GPU nodes of its seat on standby while another container has the seat.
 */

struct grant *grants_find(struct desktops *desktops, const char *devpath);
/* The desktop that should have dev now: the registered container its seat is attached to. */
struct desktop *grants_owner_of(struct desktops *desktops, const struct device *dev);
/* The sound nodes every desktop with a sound card needs: timer and seq. */
bool grants_is_shared(const struct device *dev);
bool grants_is_gpu(const struct device *dev);

/* node, cgroup permission, database entry, event; a device that cannot be given stays out. */
void grants_give(struct desktops *desktops, struct desktop *d, const struct device *dev);
/*
 * Takes a device back from its desktop; now is the device as the table has it, NULL when it
 * is gone. A GPU node of a seat the desktop stays attached to goes on standby.
 */
void grants_take_back(struct desktops *desktops, struct grant *g, bool container_alive,
	const struct device *now);
/* event, database entry, cgroup permission, node, open files: the reverse of giving. */
void grants_withdraw(struct desktops *desktops, struct desktop *d, const struct device *dev);
void grants_pass_change(struct desktops *desktops, struct grant *g, const struct device *dev);

/* Brings d's shared sound nodes, and its standby GPU nodes, in line with its seat. */
void grants_sync_shared(struct desktops *desktops, struct desktop *d);
void grants_sync_standby(struct desktops *desktops, struct desktop *d);
/*
 * A re-adopted desktop loses what it had from an earlier daemon and should not have now:
 * every device whose node it still has and that it was not given again.
 */
void grants_take_stale(struct desktops *desktops, struct desktop *d);

#endif
