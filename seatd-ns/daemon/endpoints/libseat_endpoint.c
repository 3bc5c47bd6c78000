#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fd_store.h"
#include "libseat_client.h"
#include "libseat_endpoint.h"
#include "libseat_grants.h"
#include "libseat_wire.h"
#include "log.h"

#define UNREAD_POLL_MS 2 /* how often a held back disable looks whether the enable was read */

static int client_flush(struct ep_client *client) {
	if (libseat_wire_send(&client->out, client->fd) == -1) {
		return -1;
	}
	bool want_out = client->out.len > 0;
	if (want_out != client->watching_out) {
		uint32_t events = EPOLLIN | (want_out ? EPOLLOUT : 0);
		if (poller_modify(client->ep->poller, &client->src, events) == -1) {
			return -1;
		}
		client->watching_out = want_out;
	}
	return 0;
}

int ep_client_send_event(struct ep_client *client, uint16_t opcode) {
	if (libseat_wire_put(&client->out, opcode) == -1) {
		return -1;
	}
	return client_flush(client);
}

/* Seat ownership */

static void timer_arm(struct libseat_endpoint *ep, int timeout_ms) {
	struct itimerspec its = {
		.it_value.tv_sec = timeout_ms / 1000,
		.it_value.tv_nsec = (long)(timeout_ms % 1000) * 1000000L,
	};
	if (timeout_ms > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) {
		its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(ep->timer_fd, 0, &its, NULL) == -1) {
		log_errorf("libseat: could not set the acknowledgement timer: %s", strerror(errno));
	}
}

/*
 * A client that cannot be written to is shut down and freed from its own callback (the hangup
 * follows at once), never from here: we may be deep in another client's request, or in the
 * daemon's disabled callback running inside this client's.
 */
void ep_client_fail(struct ep_client *client) {
	shutdown(client->fd, SHUT_RDWR);
}

static int ms_until(const struct timespec *deadline) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
		       (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

static void deadline_in(struct timespec *deadline, int ms) {
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

/* Whether the client has read everything we sent it (SIOCOUTQ: 0 once it has). */
static bool client_read_all(struct ep_client *client) {
	int unread;
	return client->out.len == 0 && ioctl(client->fd, SIOCOUTQ, &unread) == 0 && unread == 0;
}

/*
 * Sends DISABLE_SEAT to an owner pending disable, once it has read the ENABLE_SEAT before it:
 * libseat runs the events it reads together last first, so an enable and a disable read at
 * once would leave it enabled. Until then, and then until the acknowledgement, the timer
 * runs; at the deadline the disable is forced.
 */
static void send_disable(struct libseat_endpoint *ep, struct ep_client *client) {
	int left = ms_until(&ep->disable_deadline);
	if (!client->disable_sent && left > 0 && !client_read_all(client)) {
		timer_arm(ep, left < UNREAD_POLL_MS ? left : UNREAD_POLL_MS);
		return;
	}
	if (!client->disable_sent) {
		client->disable_sent = true;
		if (ep_client_send_event(client, SEATD_SERVER_DISABLE_SEAT) == -1) {
			log_warnf("libseat: %s: could not send disable: %s", ep->seat_name,
				strerror(errno));
			/* Its own callback drops it, which ends the deactivation. */
			ep_client_fail(client);
		}
	}
	timer_arm(ep, left > 0 ? left : 1);
}

/* The owner stops using the seat: revoke and drop master, acknowledged or not. */
static void finish_disable(struct libseat_endpoint *ep, struct ep_client *client, bool forced) {
	timer_arm(ep, 0);
	libseat_grants_disable(&client->grants);
	ep_client_set_state(client, CLIENT_DISABLED);
	client->forced = forced;
	if (forced) {
		log_warnf("libseat: %s: client did not acknowledge disable in %d ms, forced",
			ep->seat_name, ep->ack_timeout_ms);
	}
}

/* Gives the seat to the owner, or to the longest waiting client when there is none. */
static void activate(struct libseat_endpoint *ep) {
	if (!ep->active) {
		return;
	}
	if (ep->owner == NULL) {
		for (struct ep_client *c = ep->clients; c != NULL; c = c->next) {
			if (c->state == CLIENT_WAITING) {
				ep->owner = c;
				break;
			}
		}
	}
	struct ep_client *client = ep->owner;
	if (client == NULL || client->state == CLIENT_ACTIVE) {
		return;
	}
	libseat_grants_enable(&client->grants);
	ep_client_set_state(client, CLIENT_ACTIVE);
	client->forced = false;
	if (ep_client_send_event(client, SEATD_SERVER_ENABLE_SEAT) == -1) {
		log_warnf("libseat: %s: could not send enable: %s", ep->seat_name, strerror(errno));
		ep_client_fail(client);
	}
}

/* The client lets go of the seat (closed it or went away). */
static void client_leave_seat(struct ep_client *client) {
	struct libseat_endpoint *ep = client->ep;
	bool was_pending = client->state == CLIENT_PENDING_DISABLE;
	libseat_grants_close_all(&client->grants);
	ep_client_set_state(client, CLIENT_NEW);
	if (ep->owner != client) {
		return;
	}
	ep->owner = NULL;
	if (was_pending) {
		timer_arm(ep, 0);
		if (ep->disabled_fn != NULL) {
			ep->disabled_fn(ep, false, ep->disabled_data);
		}
	}
}

static void client_destroy(struct ep_client *client) {
	struct libseat_endpoint *ep = client->ep;
	for (struct ep_client **p = &ep->clients; *p != NULL; p = &(*p)->next) {
		if (*p == client) {
			*p = client->next;
			break;
		}
	}
	ep->n_clients--;
	poller_remove(ep->poller, &client->src);
	if (client->store_name[0] != '\0') {
		fd_store_remove(client->store_name);
		client->store_name[0] = '\0';
	}
	close(client->fd);
	libseat_wire_close_fds(&client->out);
	bool was_owner = ep->owner == client;
	client_leave_seat(client);
	free(client->peer.groups);
	free(client);
	if (was_owner) {
		activate(ep);
	}
}

/* Requests; -1 drops the client (a protocol violation or a reply it cannot take). */

static int handle_open_seat(struct ep_client *client) {
	struct libseat_endpoint *ep = client->ep;
	if (client->state != CLIENT_NEW) {
		errno = EBADMSG;
		return -1;
	}
	if (libseat_wire_put_seat_opened(&client->out, ep->seat_name) == -1) {
		return -1;
	}
	ep_client_set_state(client, CLIENT_WAITING);
	/* seatd sends ENABLE_SEAT right behind SEAT_OPENED when the client gets the seat. */
	if (ep->active && ep->owner == NULL) {
		ep->owner = client;
		ep_client_set_state(client, CLIENT_ACTIVE);
		return libseat_wire_put(&client->out, SEATD_SERVER_ENABLE_SEAT);
	}
	return 0;
}

static int handle_close_seat(struct ep_client *client) {
	struct libseat_endpoint *ep = client->ep;
	if (client->state == CLIENT_NEW) {
		errno = EBADMSG;
		return -1;
	}
	bool was_owner = ep->owner == client;
	client_leave_seat(client);
	if (libseat_wire_put(&client->out, SEATD_SERVER_SEAT_CLOSED) == -1) {
		return -1;
	}
	if (was_owner) {
		activate(ep);
	}
	return 0;
}

static int handle_open_device(struct ep_client *client, const char *path) {
	struct libseat_endpoint *ep = client->ep;
	if (client->state == CLIENT_NEW) {
		errno = EBADMSG;
		return -1;
	}
	int id, fd;
	/* Only the owner gets devices, and only while enabled. */
	errno = EPERM;
	if (client->state != CLIENT_ACTIVE ||
		libseat_grants_open(&client->grants, &ep->resolver, &client->peer, path, &id,
			&fd) == -1) {
		int err = errno;
		if (log_ratelimit_allow(&ep->rl)) {
			log_infof("libseat: %s: open %s refused: %s", ep->seat_name, path,
				strerror(err));
		}
		return libseat_wire_put_error(&client->out, err);
	}
	return libseat_wire_put_device_opened(&client->out, id, fd);
}

static int handle_close_device(struct ep_client *client, int device_id) {
	if (client->state == CLIENT_NEW) {
		errno = EBADMSG;
		return -1;
	}
	/* A client taken over may close what was revoked before: it is closed. */
	if (libseat_grants_close(&client->grants, device_id) == -1 &&
		!(client->adopted && errno == EBADF)) {
		return libseat_wire_put_error(&client->out, errno);
	}
	return libseat_wire_put(&client->out, SEATD_SERVER_DEVICE_CLOSED);
}

/*
 * Replies to DISABLE_SEAT and SWITCH_SESSION came with seatd 0.9 (2293dea); libseat before it
 * reads none, and a reply it does not expect wedges its connection for good.
 */
static int client_put_late_reply(struct ep_client *client, uint16_t opcode, int error_code) {
	if (client->ep->protocol == LIBSEAT_PROTOCOL_LEGACY) {
		return 0;
	}
	if (opcode == SEATD_SERVER_ERROR) {
		return libseat_wire_put_error(&client->out, error_code);
	}
	return libseat_wire_put(&client->out, opcode);
}

static int handle_disable_seat(struct ep_client *client) {
	struct libseat_endpoint *ep = client->ep;
	if (client->state == CLIENT_NEW) {
		errno = EBADMSG;
		return -1;
	}
	if (client->state == CLIENT_PENDING_DISABLE) {
		finish_disable(ep, client, false);
		if (client_put_late_reply(client, SEATD_SERVER_SEAT_DISABLED, 0) == -1) {
			return -1;
		}
		if (ep->disabled_fn != NULL) {
			ep->disabled_fn(ep, false, ep->disabled_data);
		}
		return 0;
	}
	if (client->state == CLIENT_DISABLED && client->forced) {
		client->forced = false;
		return client_put_late_reply(client, SEATD_SERVER_SEAT_DISABLED, 0);
	}
	return client_put_late_reply(client, SEATD_SERVER_ERROR, EBUSY);
}

static int handle_request(struct ep_client *client, const struct seatd_request *req) {
	switch (req->opcode) {
	case SEATD_CLIENT_OPEN_SEAT:
		return handle_open_seat(client);
	case SEATD_CLIENT_CLOSE_SEAT:
		return handle_close_seat(client);
	case SEATD_CLIENT_OPEN_DEVICE:
		return handle_open_device(client, req->path);
	case SEATD_CLIENT_CLOSE_DEVICE:
		return handle_close_device(client, req->device_id);
	case SEATD_CLIENT_DISABLE_SEAT:
		return handle_disable_seat(client);
	case SEATD_CLIENT_SWITCH_SESSION:
		if (client->state == CLIENT_NEW) {
			errno = EBADMSG;
			return -1;
		}
		/* One session per seat here: the host switches seats between containers. */
		return client_put_late_reply(client, SEATD_SERVER_ERROR, EOPNOTSUPP);
	case SEATD_CLIENT_PING:
		return libseat_wire_put(&client->out, SEATD_SERVER_PONG);
	default:
		errno = EBADMSG;
		return -1;
	}
}

static int client_read(struct ep_client *client) {
	int r = libseat_wire_recv(&client->in, client->fd);
	if (r <= 0) {
		return r;
	}
	struct seatd_request req;
	while ((r = libseat_wire_next(&client->in, &req)) == 1) {
		if (handle_request(client, &req) == -1) {
			return -1;
		}
	}
	if (r == -1) {
		return -1;
	}
	return client_flush(client);
}

static int client_handle(int fd, uint32_t events, void *data) {
	(void)fd;
	struct ep_client *client = data;
	struct libseat_endpoint *ep = client->ep;
	if ((events & EPOLLOUT) && client_flush(client) == -1) {
		goto drop;
	}
	if ((events & EPOLLIN) && client_read(client) == -1) {
		goto drop;
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		errno = ECONNRESET;
		goto drop;
	}
	return 0;

drop:
	if (errno != ECONNRESET && errno != EPIPE && log_ratelimit_allow(&ep->rl)) {
		log_warnf("libseat: %s: dropping client: %s", ep->seat_name, strerror(errno));
	}
	client_destroy(client);
	/* Never -1: that would stop the daemon's whole loop for one client. */
	return 0;
}

/* Makes room for one more client: drops the oldest that has not opened the seat in time. */
static bool make_room(struct libseat_endpoint *ep) {
	if (ep->n_clients < LIBSEAT_ENDPOINT_MAX_CLIENTS) {
		return true;
	}
	for (struct ep_client *c = ep->clients; c != NULL; c = c->next) {
		if (c->state == CLIENT_NEW && ms_until(&c->open_deadline) == 0) {
			if (log_ratelimit_allow(&ep->rl)) {
				log_warnf("libseat: %s: dropped a client that did not open the seat "
					  "(pid %d), to make room", ep->seat_name, (int)c->peer.cred.pid);
			}
			client_destroy(c);
			return true;
		}
	}
	return false;
}

/* Keeps the client's connection in the fd store, and names where its devices go there. */
static void store_client(struct ep_client *client) {
	int n = snprintf(client->store_name, sizeof(client->store_name), "%sc%u",
		client->ep->store_prefix, client->id);
	int m = snprintf(client->grants.store_prefix, sizeof(client->grants.store_prefix), "%s+",
		client->store_name);
	if (n < 0 || (size_t)n >= sizeof(client->store_name) || m < 0 ||
		(size_t)m >= sizeof(client->grants.store_prefix)) {
		client->store_name[0] = client->grants.store_prefix[0] = '\0';
		return;
	}
	fd_store_put(client->store_name, client->fd);
}

struct ep_client *ep_client_new(struct libseat_endpoint *ep, int cfd) {
	struct ep_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		close(cfd);
		return NULL;
	}
	client->ep = ep;
	client->fd = cfd;
	if (!libseat_peer_check(&client->peer, cfd, ep->pidns_fd)) {
		if (log_ratelimit_allow(&ep->rl)) {
			log_warnf("libseat: %s: refused a client (pid %d, uid %u): not a process of "
				  "this container", ep->seat_name, (int)client->peer.cred.pid,
				(unsigned)client->peer.cred.uid);
		}
		goto fail;
	}
	if (!make_room(ep)) {
		if (log_ratelimit_allow(&ep->rl)) {
			log_warnf("libseat: %s: too many clients, refused one", ep->seat_name);
		}
		goto fail;
	}
	deadline_in(&client->open_deadline, LIBSEAT_ENDPOINT_OPEN_GRACE_MS);
	if (poller_add(ep->poller, &client->src, cfd, EPOLLIN, client_handle, client) == -1) {
		goto fail;
	}
	struct ep_client **tail = &ep->clients;
	while (*tail != NULL) {
		tail = &(*tail)->next;
	}
	*tail = client;
	ep->n_clients++;
	client->id = ++ep->last_client_id;
	if (ep->store_prefix[0] != '\0') {
		store_client(client);
	}
	return client;

fail:
	close(cfd);
	free(client->peer.groups);
	free(client);
	return NULL;
}

static int listen_handle(int fd, uint32_t events, void *data) {
	(void)events;
	struct libseat_endpoint *ep = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1) {
		if (errno != EAGAIN && errno != EINTR && log_ratelimit_allow(&ep->rl)) {
			log_warnf("libseat: %s: accept: %s", ep->seat_name, strerror(errno));
		}
		return 0;
	}
	ep_client_new(ep, cfd);
	return 0;
}

static int timer_handle(int fd, uint32_t events, void *data) {
	(void)events;
	struct libseat_endpoint *ep = data;
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations)) {
		return 0;
	}
	struct ep_client *client = ep->owner;
	if (client == NULL || client->state != CLIENT_PENDING_DISABLE) {
		return 0;
	}
	if (ms_until(&ep->disable_deadline) > 0) {
		send_disable(ep, client);
		return 0;
	}
	finish_disable(ep, client, true);
	if (ep->disabled_fn != NULL) {
		ep->disabled_fn(ep, true, ep->disabled_data);
	}
	return 0;
}

struct libseat_endpoint *libseat_endpoint_create(struct poller *poller, int listen_fd,
	int pidns_fd, const char *seat_name, libseat_endpoint_resolve_fn resolve, void *data) {
	if (seat_name == NULL || seat_name[0] == '\0' ||
		strlen(seat_name) >= SEATD_MAX_SEAT_LEN || resolve == NULL || listen_fd < 0 ||
		pidns_fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	struct libseat_endpoint *ep = calloc(1, sizeof(*ep));
	if (ep == NULL) {
		return NULL;
	}
	ep->poller = poller;
	ep->listen_fd = -1;
	ep->ack_timeout_ms = LIBSEAT_ENDPOINT_ACK_TIMEOUT_MS;
	memcpy(ep->seat_name, seat_name, strlen(seat_name) + 1);
	ep->resolver = (struct libseat_resolver){
		.fn = resolve, .data = data, .seat_name = ep->seat_name};

	ep->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ep->timer_fd == -1) {
		goto fail;
	}
	if (poller_add(poller, &ep->timer_src, ep->timer_fd, EPOLLIN, timer_handle, ep) == -1) {
		goto fail_timer;
	}
	int flags = fcntl(listen_fd, F_GETFL);
	if (flags == -1 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
		poller_add(poller, &ep->listen_src, listen_fd, EPOLLIN, listen_handle, ep) == -1) {
		goto fail_poll;
	}
	ep->listen_fd = listen_fd;
	ep->pidns_fd = pidns_fd;
	return ep;

fail_poll:
	poller_remove(poller, &ep->timer_src);
fail_timer:;
	int saved = errno;
	close(ep->timer_fd);
	errno = saved;
fail:
	free(ep);
	return NULL;
}

void libseat_endpoint_destroy(struct libseat_endpoint *ep) {
	if (ep == NULL) {
		return;
	}
	/* No callbacks from a dying endpoint. */
	ep->disabled_fn = NULL;
	ep->active = false;
	while (ep->clients != NULL) {
		client_destroy(ep->clients);
	}
	ep_free(ep);
}

void ep_free(struct libseat_endpoint *ep) {
	poller_remove(ep->poller, &ep->listen_src);
	close(ep->listen_fd);
	close(ep->pidns_fd);
	poller_remove(ep->poller, &ep->timer_src);
	close(ep->timer_fd);
	free(ep);
}

void libseat_endpoint_set_disabled_callback(struct libseat_endpoint *ep,
	libseat_endpoint_disabled_fn fn, void *data) {
	ep->disabled_fn = fn;
	ep->disabled_data = data;
}

void libseat_endpoint_set_store_name(struct libseat_endpoint *ep, const char *container) {
	if (!fd_store_enabled()) {
		return;
	}
	int n = snprintf(ep->store_prefix, sizeof(ep->store_prefix), "libseat+%s+%s+", container,
		ep->seat_name);
	if (n < 0 || (size_t)n >= sizeof(ep->store_prefix)) {
		ep->store_prefix[0] = '\0';
	}
}

void libseat_endpoint_set_protocol(struct libseat_endpoint *ep,
	enum libseat_endpoint_protocol protocol) {
	ep->protocol = protocol;
}

void libseat_endpoint_set_ack_timeout(struct libseat_endpoint *ep, int timeout_ms) {
	ep->ack_timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
}

int libseat_endpoint_set_active(struct libseat_endpoint *ep, bool active) {
	struct ep_client *owner = ep->owner;
	if (active) {
		if (owner != NULL && owner->state == CLIENT_PENDING_DISABLE) {
			finish_disable(ep, owner, true);
		}
		ep->active = true;
		activate(ep);
		return 0;
	}

	ep->active = false;
	if (owner == NULL || owner->state != CLIENT_ACTIVE) {
		return owner != NULL && owner->state == CLIENT_PENDING_DISABLE ? 1 : 0;
	}
	ep_client_set_state(owner, CLIENT_PENDING_DISABLE);
	owner->disable_sent = false;
	deadline_in(&ep->disable_deadline, ep->ack_timeout_ms);
	send_disable(ep, owner);
	return 1;
}

bool libseat_endpoint_is_active(const struct libseat_endpoint *ep) {
	return ep->active;
}

bool libseat_endpoint_disable_pending(const struct libseat_endpoint *ep) {
	return ep->owner != NULL && ep->owner->state == CLIENT_PENDING_DISABLE;
}

void libseat_endpoint_device_removed(struct libseat_endpoint *ep, const char *host_path) {
	for (struct ep_client *c = ep->clients; c != NULL; c = c->next) {
		libseat_grants_device_removed(&c->grants, host_path);
	}
}

size_t libseat_endpoint_client_count(const struct libseat_endpoint *ep) {
	return ep->n_clients;
}
