#ifndef _SEATD_NS_CONTROL_SERVER_H
#define _SEATD_NS_CONTROL_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "control.h"
#include "log.h"
#include "poller.h"

/*
 * The control socket's transport: accepting clients, checking who they are, reading
 * requests, queueing replies. What a request means is the handler's business, and so is
 * what an unprivileged client (not root, not in the control group) may ask: anyone may
 * connect, to wait for their own login session.
 */

struct control_client;
struct control_server;

/* Handles one request; returns 0, or -1 to disconnect the client. */
typedef int (*control_handler_fn)(void *data, struct control_client *client,
	const struct control_record *request);
/* The client is going: whoever was to answer it later must forget it. */
typedef void (*control_client_gone_fn)(void *data, struct control_client *client);

struct control_message {
	struct control_message *next;
	size_t len;
	char data[];
};

struct control_client {
	struct control_client *next, *prev;
	struct control_server *server;
	struct poller_source source;
	int fd;
	uid_t uid; /* the peer's, when it connected */
	bool privileged; /* root, or a member of the control group: every verb */
	bool monitor;
	struct control_message *queue_head, *queue_tail;
	size_t queued_bytes;
};

struct control_server {
	int fd;
	char *path;
	gid_t group; /* members may use the socket too; (gid_t)-1 for root only */
	struct poller *poller;
	struct poller_source source;
	struct control_client *clients;
	unsigned n_clients;
	size_t queued_bytes; /* of every client's queue */
	control_handler_fn handler;
	control_client_gone_fn client_gone;
	void *handler_data;
	struct log_ratelimit refusal_log;
};

/* Creates the socket at path (replacing a stale socket there) and starts accepting. */
int control_server_init(struct control_server *server, struct poller *poller, const char *path,
	gid_t group, control_handler_fn handler, control_client_gone_fn client_gone, void *data);
void control_server_finish(struct control_server *server);

/*
 * Queues a record to one client; returns -1 if it was disconnected for not keeping up: its
 * queue is bounded, and so are all queues together, so that clients that do not read cannot
 * make the daemon hold more than a few MiB.
 */
int control_client_send(struct control_client *client, const struct control_builder *b);

/* Sends a record to every client that asked to monitor. */
void control_server_broadcast(struct control_server *server, const struct control_builder *b);

#endif
