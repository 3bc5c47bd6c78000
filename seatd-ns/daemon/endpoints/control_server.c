#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_server.h"

#define MAX_CLIENTS 256
/* Room for a large host's device list per client, which the socket buffer mostly holds. */
#define MAX_QUEUED_BYTES (1024 * 1024)
#define MAX_QUEUED_BYTES_ALL (16 * 1024 * 1024)
#define MAX_PEER_GROUPS 256
/* Anyone may connect: no user may take the room of the others, nor root's. */
#define MAX_CLIENTS_PER_USER 8
#define MAX_CLIENTS_UNPRIVILEGED (MAX_CLIENTS - 32)

static int client_flush(struct control_client *client);

/*
 * Closing a unix socket with unread data in it resets the peer, which would then lose the
 * error record we just sent it: stop receiving, drop what is queued, then close.
 */
static void close_drained(int fd) {
	char discard[CONTROL_MAX_MESSAGE];
	shutdown(fd, SHUT_RD);
	while (recv(fd, discard, sizeof(discard), MSG_DONTWAIT) > 0) {
	}
	close(fd);
}

static void client_destroy(struct control_client *client) {
	struct control_server *server = client->server;
	if (server->client_gone != NULL) {
		server->client_gone(server->handler_data, client);
	}
	poller_remove(server->poller, &client->source);
	close_drained(client->fd);
	while (client->queue_head != NULL) {
		struct control_message *next = client->queue_head->next;
		free(client->queue_head);
		client->queue_head = next;
	}
	server->queued_bytes -= client->queued_bytes;
	if (client->prev != NULL) {
		client->prev->next = client->next;
	} else {
		server->clients = client->next;
	}
	if (client->next != NULL) {
		client->next->prev = client->prev;
	}
	server->n_clients--;
	free(client);
}

static void send_error_now(int fd, const char *message) {
	struct control_builder b;
	control_builder_init(&b, "error");
	control_builder_add(&b, "message", message);
	send(fd, b.buf, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Root, or a member of the configured group (primary or supplementary). */
static bool peer_in_group(const struct control_server *server, int fd,
	const struct ucred *cred) {
	if (cred->uid == 0) {
		return true;
	}
	if (server->group == (gid_t)-1) {
		return false;
	}
	if (cred->gid == server->group) {
		return true;
	}
	gid_t groups[MAX_PEER_GROUPS];
	socklen_t len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		return false;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++) {
		if (groups[i] == server->group) {
			return true;
		}
	}
	return false;
}

/* Who the peer is: its uid, and whether it may use every verb; 0, or -1 with errno. */
static int peer_is_privileged(const struct control_server *server, int fd, uid_t *uid,
	bool *privileged) {
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		return -1;
	}
	*uid = cred.uid;
	*privileged = peer_in_group(server, fd, &cred);
	return 0;
}

static bool room_for_unprivileged(const struct control_server *server, uid_t uid) {
	unsigned all = 0, same = 0;
	for (const struct control_client *c = server->clients; c != NULL; c = c->next) {
		all += !c->privileged;
		same += !c->privileged && c->uid == uid;
	}
	return all < MAX_CLIENTS_UNPRIVILEGED && same < MAX_CLIENTS_PER_USER;
}

static int client_read(struct control_client *client) {
	char buf[CONTROL_MAX_MESSAGE + 1];
	ssize_t n = recv(client->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1) {
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	if (n == 0) {
		return -1; /* hung up */
	}
	struct control_record request;
	if ((size_t)n > sizeof(buf) - 1 || control_record_parse(&request, buf, (size_t)n) == -1) {
		if (log_ratelimit_allow(&client->server->refusal_log)) {
			log_warnf("control client sent a malformed request (%zd bytes), dropped", n);
		}
		send_error_now(client->fd, "malformed request");
		return -1;
	}
	return client->server->handler(client->server->handler_data, client, &request);
}

static int client_event(int fd, uint32_t events, void *data) {
	struct control_client *client = data;
	if (((events & EPOLLOUT) && client_flush(client) == -1) ||
		((events & EPOLLIN) && client_read(client) == -1) ||
		(!(events & EPOLLIN) && (events & (EPOLLHUP | EPOLLERR)))) {
		client_destroy(client);
	}
	return 0;
}

static int server_accept(int fd, uint32_t events, void *data) {
	struct control_server *server = data;
	int client_fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client_fd == -1) {
		return 0; /* EAGAIN, or the peer went away already */
	}
	uid_t uid;
	bool privileged;
	if (peer_is_privileged(server, client_fd, &uid, &privileged) == -1) {
		close_drained(client_fd);
		return 0;
	}
	if (server->n_clients >= MAX_CLIENTS ||
		(!privileged && !room_for_unprivileged(server, uid))) {
		send_error_now(client_fd, "too many clients");
		close_drained(client_fd);
		return 0;
	}
	struct control_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		close(client_fd);
		return 0;
	}
	client->server = server;
	client->fd = client_fd;
	client->uid = uid;
	client->privileged = privileged;
	if (poller_add(server->poller, &client->source, client_fd, EPOLLIN, client_event, client) ==
		-1) {
		close(client_fd);
		free(client);
		return 0;
	}
	client->next = server->clients;
	if (server->clients != NULL) {
		server->clients->prev = client;
	}
	server->clients = client;
	server->n_clients++;
	return 0;
}

int control_server_init(struct control_server *server, struct poller *poller, const char *path,
	gid_t group, control_handler_fn handler, control_client_gone_fn client_gone, void *data) {
	memset(server, 0, sizeof(*server));
	server->fd = -1;
	server->poller = poller;
	server->group = group;
	server->handler = handler;
	server->client_gone = client_gone;
	server->handler_data = data;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	/* Replace a socket a previous run left, never anything else. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		unlink(path);
	}
	server->path = strdup(path);
	server->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (server->path == NULL || server->fd == -1) {
		goto fail;
	}
	/* Bind with a umask that keeps the socket closed until its mode and group are set. */
	mode_t old_umask = umask(0077);
	int r = bind(server->fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (r == -1 || chown(path, 0, group == (gid_t)-1 ? 0 : group) == -1 ||
		chmod(path, 0666) == -1 || listen(server->fd, 64) == -1 ||
		poller_add(poller, &server->source, server->fd, EPOLLIN, server_accept, server) ==
			-1) {
		goto fail;
	}
	return 0;

fail:;
	int saved = errno;
	control_server_finish(server);
	errno = saved;
	return -1;
}

void control_server_finish(struct control_server *server) {
	while (server->clients != NULL) {
		client_destroy(server->clients);
	}
	if (server->fd != -1) {
		poller_remove(server->poller, &server->source);
		close(server->fd);
		unlink(server->path);
		server->fd = -1;
	}
	free(server->path);
	server->path = NULL;
}

/* Sends what is queued; -1 when the client is gone. */
static int client_flush(struct control_client *client) {
	while (client->queue_head != NULL) {
		struct control_message *m = client->queue_head;
		if (send(client->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
			if (errno == EAGAIN) {
				return poller_modify(client->server->poller, &client->source,
					EPOLLIN | EPOLLOUT);
			}
			return -1;
		}
		client->queue_head = m->next;
		client->queued_bytes -= sizeof(*m) + m->len;
		client->server->queued_bytes -= sizeof(*m) + m->len;
		free(m);
	}
	client->queue_tail = NULL;
	return poller_modify(client->server->poller, &client->source, EPOLLIN);
}

int control_client_send(struct control_client *client, const struct control_builder *b) {
	if (client->queue_head == NULL &&
		send(client->fd, b->buf, b->len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1) {
		return 0;
	}
	if (client->queue_head == NULL && errno != EAGAIN) {
		return -1;
	}
	struct control_server *server = client->server;
	size_t size = sizeof(struct control_message) + b->len;
	if (client->queued_bytes + size > MAX_QUEUED_BYTES ||
		server->queued_bytes + size > MAX_QUEUED_BYTES_ALL) {
		if (log_ratelimit_allow(&server->refusal_log)) {
			log_warn("control client does not read its replies, disconnected");
		}
		return -1;
	}
	struct control_message *m = malloc(size);
	if (m == NULL) {
		return -1;
	}
	m->next = NULL;
	m->len = b->len;
	memcpy(m->data, b->buf, b->len);
	if (client->queue_tail != NULL) {
		client->queue_tail->next = m;
	} else {
		client->queue_head = m;
	}
	client->queue_tail = m;
	client->queued_bytes += size;
	server->queued_bytes += size;
	return poller_modify(server->poller, &client->source, EPOLLIN | EPOLLOUT);
}

void control_server_broadcast(struct control_server *server, const struct control_builder *b) {
	struct control_client *client = server->clients;
	while (client != NULL) {
		struct control_client *next = client->next;
		if (client->monitor && control_client_send(client, b) == -1) {
			client_destroy(client);
		}
		client = next;
	}
}
