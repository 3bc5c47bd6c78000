#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "poller.h"

int poller_init(struct poller *poller) {
	poller->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	poller->running = false;
	return poller->epoll_fd == -1 ? -1 : 0;
}

void poller_finish(struct poller *poller) {
	if (poller->epoll_fd != -1) {
		close(poller->epoll_fd);
		poller->epoll_fd = -1;
	}
}

int poller_add(struct poller *poller, struct poller_source *src, int fd, uint32_t events,
	poller_fn fn, void *data) {
	src->fd = fd;
	src->fn = fn;
	src->data = data;
	struct epoll_event ev = {.events = events, .data.ptr = src};
	return epoll_ctl(poller->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int poller_modify(struct poller *poller, struct poller_source *src, uint32_t events) {
	struct epoll_event ev = {.events = events, .data.ptr = src};
	return epoll_ctl(poller->epoll_fd, EPOLL_CTL_MOD, src->fd, &ev);
}

void poller_remove(struct poller *poller, struct poller_source *src) {
	epoll_ctl(poller->epoll_fd, EPOLL_CTL_DEL, src->fd, NULL);
}

void poller_stop(struct poller *poller) {
	poller->running = false;
}

int poller_run(struct poller *poller) {
	poller->running = true;
	while (poller->running) {
		/*
		 * One event per round: a callback may free another source (a client that it
		 * disconnects), which a longer array of ready events would still point to.
		 */
		struct epoll_event event;
		int n = epoll_wait(poller->epoll_fd, &event, 1, -1);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			return -1;
		}
		struct poller_source *src = event.data.ptr;
		if (n == 1 && src->fn(src->fd, event.events, src->data) == -1) {
			return -1;
		}
		if (poller->after_round != NULL) {
			poller->after_round(poller->after_round_data);
		}
	}
	return 0;
}
