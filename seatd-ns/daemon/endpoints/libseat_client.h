#ifndef _SEATD_NS_LIBSEAT_CLIENT_H
#define _SEATD_NS_LIBSEAT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fd_store.h"
#include "libseat_endpoint.h"
#include "libseat_grants.h"
#include "libseat_wire.h"
#include "log.h"
#include "poller.h"

/*
 * A libseat endpoint and its clients as its modules see them: libseat_endpoint.c serves
 * them, libseat_adopt.c takes them over from the daemon before and leaves them to the next.
 */

enum client_state {
	CLIENT_NEW,             /* connected, no seat opened */
	CLIENT_WAITING,         /* seat opened, another client owns it */
	CLIENT_ACTIVE,          /* owner, enabled */
	CLIENT_PENDING_DISABLE, /* owner, to be told to disable or told, not yet acknowledged */
	CLIENT_DISABLED,        /* owner, disabled */
};

struct ep_client {
	struct libseat_endpoint *ep;
	struct ep_client *next;
	struct poller_source src;
	int fd;
	struct libseat_peer peer;
	struct timespec open_deadline; /* NEW after it: dropped when another needs its place */
	enum client_state state;
	bool forced;   /* its last disable was forced: a late acknowledgement is still answered */
	bool disable_sent; /* PENDING_DISABLE: DISABLE_SEAT went out (else it waits its turn) */
	bool watching_out;
	bool adopted;  /* taken over from the daemon before: ids it had may be unknown here */
	unsigned id;   /* in the fd store's names */
	char store_name[FD_STORE_NAME_MAX + 1]; /* its connection's, "" when not stored */
	const char *stored_state; /* the state its store name says, or NULL */
	struct libseat_wire_in in;
	struct libseat_wire_out out;
	struct libseat_grants grants;
};

struct libseat_endpoint {
	struct poller *poller;
	int listen_fd;
	int pidns_fd; /* whose processes may connect */
	struct poller_source listen_src;
	int timer_fd;
	struct poller_source timer_src;
	char seat_name[SEATD_MAX_SEAT_LEN];
	struct libseat_resolver resolver;
	libseat_endpoint_disabled_fn disabled_fn;
	void *disabled_data;
	int ack_timeout_ms;
	struct timespec disable_deadline; /* when a pending disable is forced */
	enum libseat_endpoint_protocol protocol;
	bool active;
	struct ep_client *clients; /* in connection order */
	size_t n_clients;
	struct ep_client *owner;
	struct log_ratelimit rl;
	char store_prefix[FD_STORE_NAME_MAX + 1]; /* "libseat+CONTAINER+SEAT+", "" for none */
	unsigned last_client_id;
};


/*
 * A connected client, checked (a process of the container) and served from now on, its
 * connection in the fd store; NULL if it may not be served (fd then closed).
 */
struct ep_client *ep_client_new(struct libseat_endpoint *ep, int fd);
int ep_client_send_event(struct ep_client *client, uint16_t opcode);
/* Shuts the client's connection: its own callback then drops it. */
void ep_client_fail(struct ep_client *client);
/* Sets the client's state, and keeps it in the fd store for the next daemon. */
void ep_client_set_state(struct ep_client *client, enum client_state state);
/* Closes the endpoint's own fds and frees it, its clients gone already. */
void ep_free(struct libseat_endpoint *ep);

#endif
