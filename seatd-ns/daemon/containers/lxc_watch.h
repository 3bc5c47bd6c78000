#ifndef _SEATD_NS_LXC_WATCH_H
#define _SEATD_NS_LXC_WATCH_H

#include <stddef.h>

#include "desktops.h"
#include "poller.h"

/*
 * Notices an LXC container that a seat names and that runs without registering: its config
 * lacks the seatd-ns include, or its start-host hook failed. Such a container starts fine
 * and shows nothing on its seat, and nothing else would say why. LXC, run by root, makes
 * the container's cgroup lxc.payload.NAME at the cgroup2 root before its start-host hook
 * runs; a seat's container whose cgroup is there and that has not registered some seconds
 * later (LXC_WATCH_GRACE_MS) is logged once. At the start, the containers already running
 * get the same grace, for hooks that wait for the control socket.
 */

#define LXC_WATCH_GRACE_MS 5000
#define LXC_WATCH_MAX_PENDING 32

struct lxc_watch {
	struct desktops *desktops;
	int root_fd;    /* the cgroup2 root */
	int inotify_fd; /* its new directories */
	int timer_fd;   /* the grace of the pending ones */
	struct poller_source inotify_source, timer_source;
	char pending[LXC_WATCH_MAX_PENDING][CONTAINER_NAME_MAX + 1];
	size_t n_pending;
};

/*
 * Watches the cgroup2 hierarchy's root for the desktops' seats. 0, or -1 with errno (ENOENT:
 * no cgroup2 mounted); w is then unused, and the daemon runs on without it.
 */
int lxc_watch_init(struct lxc_watch *w, struct desktops *desktops);
void lxc_watch_finish(struct lxc_watch *w);

/* The container name of an LXC payload cgroup's directory name, or NULL. */
const char *lxc_watch_container_of(const char *dir_name);

#endif
