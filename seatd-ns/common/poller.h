#ifndef _SEATD_NS_POLLER_H
#define _SEATD_NS_POLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

/*
 * A tiny epoll loop: file descriptors with a callback each. A callback that returns -1 stops
 * the loop with an error; poller_stop ends it cleanly after the current round.
 */

struct poller;
typedef int (*poller_fn)(int fd, uint32_t events, void *data);

struct poller_source {
	int fd;
	poller_fn fn;
	void *data;
};

struct poller {
	int epoll_fd;
	bool running;
	/* NULL, or called after each round: for what reports the state the rounds changed. */
	void (*after_round)(void *data);
	void *after_round_data;
};

int poller_init(struct poller *poller);
void poller_finish(struct poller *poller);

/* src must stay valid until removed; events are EPOLLIN, EPOLLOUT, ... */
int poller_add(struct poller *poller, struct poller_source *src, int fd, uint32_t events,
	poller_fn fn, void *data);
int poller_modify(struct poller *poller, struct poller_source *src, uint32_t events);
void poller_remove(struct poller *poller, struct poller_source *src);

/* Runs until poller_stop or a callback error; returns 0 or -1. */
int poller_run(struct poller *poller);
void poller_stop(struct poller *poller);

#endif
