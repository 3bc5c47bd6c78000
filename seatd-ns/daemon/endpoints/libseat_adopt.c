#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libseat_client.h"

/*
 * Store names: the endpoint's prefix, then "cN" for client N's connection and "cN+dM+PATH"
 * for device M given to it for PATH. Where the client is with the seat is in its
 * connection's name (systemd stores no second copy of one file): "cN.opened" (waiting its
 * turn), "cN.enabled" (it owns the seat, in use), "cN.disabled" (it owns it, told to let
 * go). The numbers are the daemon before's; a client keeps its device ids, and new clients
 * are numbered after the highest taken over.
 */
static const char *state_name(enum client_state state) {
	switch (state) {
	case CLIENT_WAITING:
		return "opened";
	case CLIENT_ACTIVE:
	case CLIENT_PENDING_DISABLE: /* not let go yet: the next daemon asks again if need be */
		return "enabled";
	case CLIENT_DISABLED:
		return "disabled";
	case CLIENT_NEW:
		break;
	}
	return NULL;
}

void ep_client_set_state(struct ep_client *client, enum client_state state) {
	client->state = state;
	const char *name = state_name(state);
	if (client->store_name[0] == '\0' || name == client->stored_state) {
		return;
	}
	/* The devices' prefix is the connection's name without its state, and a '+'. */
	char next[FD_STORE_NAME_MAX + 1];
	int base = (int)strlen(client->grants.store_prefix) - 1;
	int n = snprintf(next, sizeof(next), "%.*s%s%s", base, client->grants.store_prefix,
		name != NULL ? "." : "", name != NULL ? name : "");
	if (n < 0 || (size_t)n >= sizeof(next)) {
		return;
	}
	fd_store_remove(client->store_name);
	fd_store_put(next, client->fd);
	memcpy(client->store_name, next, sizeof(next));
	client->stored_state = name;
}

/* "cN", "cN.STATE" or "cN+DEVICE": N, and the state or the device part (else NULL). */
static bool parse_client(const char *rest, unsigned *client, const char **state,
	const char **device) {
	char *end;
	if (rest[0] != 'c' || rest[1] < '1' || rest[1] > '9') {
		return false;
	}
	unsigned long n = strtoul(rest + 1, &end, 10);
	if (n > 1000000 || (*end != '\0' && *end != '+' && *end != '.')) {
		return false;
	}
	*client = (unsigned)n;
	*state = *end == '.' ? end + 1 : NULL;
	*device = *end == '+' ? end + 1 : NULL;
	return true;
}

static bool parse_device(const char *device, int *id, const char **path) {
	char *end;
	if (device[0] != 'd' || device[1] < '1' || device[1] > '9') {
		return false;
	}
	long n = strtol(device + 1, &end, 10);
	if (n > LIBSEAT_ENDPOINT_MAX_DEVICES || *end != '+') {
		return false;
	}
	*id = (int)n;
	*path = end + 1;
	return true;
}

static void drop(struct fd_store_kept *kept, size_t i, const char *why) {
	log_warnf("fd store: %s not taken over: %s", kept->names[i], why);
	fd_store_remove(kept->names[i]);
	close(fd_store_claim(kept, i));
}

/* Client number's devices from the store, into its grants. */
static void adopt_devices(struct libseat_endpoint *ep, struct ep_client *client,
	struct fd_store_kept *kept, unsigned number) {
	size_t i = 0;
	for (const char *name; (name = fd_store_next(kept, ep->store_prefix, &i)) != NULL; i++) {
		unsigned n;
		int id;
		const char *state, *device, *path;
		if (!parse_client(name + strlen(ep->store_prefix), &n, &state, &device) ||
			n != number || device == NULL) {
			continue;
		}
		if (!parse_device(device, &id, &path)) {
			drop(kept, i, "not a device's name");
			continue;
		}
		int fd = kept->fds[i];
		if (libseat_grants_adopt(&client->grants, &ep->resolver, id, path, fd, name) == -1) {
			drop(kept, i, strerror(errno));
			continue;
		}
		fd_store_claim(kept, i);
	}
}

static enum client_state state_of(const char *name) {
	for (enum client_state st = CLIENT_WAITING; st <= CLIENT_DISABLED; st++) {
		if (name != NULL && state_name(st) != NULL && strcmp(name, state_name(st)) == 0) {
			return st;
		}
	}
	return CLIENT_NEW;
}

static void adopt_client(struct libseat_endpoint *ep, struct fd_store_kept *kept, size_t i,
	unsigned number, enum client_state was, bool active) {
	int fd = fd_store_claim(kept, i);
	/* Stored anew as the client is served again, under its number, which its devices' names
	 * carry too; new clients come after the highest. */
	fd_store_remove(kept->names[i]);
	unsigned last = ep->last_client_id;
	ep->last_client_id = number - 1;
	struct ep_client *client = ep_client_new(ep, fd);
	ep->last_client_id = last > number ? last : number;
	if (client == NULL) {
		return;
	}
	client->adopted = true;
	adopt_devices(ep, client, kept, number);
	if (was == CLIENT_ACTIVE || was == CLIENT_DISABLED) {
		if (ep->owner != NULL) {
			was = CLIENT_WAITING; /* one owner: the first */
		} else {
			ep->owner = client;
		}
	}
	if (was != CLIENT_ACTIVE || active) {
		/* An enabled owner stays so; a disabled one is enabled when the seat comes. */
		ep_client_set_state(client, was);
		if (was == CLIENT_ACTIVE) {
			ep->active = true;
			libseat_grants_enable(&client->grants);
		}
		return;
	}
	/* The seat is another container's now: told to disable, its devices taken at once. */
	libseat_grants_disable(&client->grants);
	ep_client_set_state(client, CLIENT_DISABLED);
	client->forced = true;
	if (ep_client_send_event(client, SEATD_SERVER_DISABLE_SEAT) == -1) {
		ep_client_fail(client);
	}
}

void libseat_endpoint_adopt(struct libseat_endpoint *ep, struct fd_store_kept *kept, bool active) {
	if (ep->store_prefix[0] == '\0') {
		return;
	}
	size_t i = 0;
	for (const char *name; (name = fd_store_next(kept, ep->store_prefix, &i)) != NULL; i++) {
		unsigned number;
		const char *state, *device;
		if (!parse_client(name + strlen(ep->store_prefix), &number, &state, &device)) {
			drop(kept, i, "not a client's name");
		} else if (device == NULL) {
			adopt_client(ep, kept, i, number, state_of(state), active);
		}
	}
	if (ep->n_clients > 0) {
		log_infof("libseat: %s: took over %zu clients from the daemon before%s", ep->seat_name,
			ep->n_clients, ep->owner != NULL ? ", one of them owning the seat" : "");
	}
}

void libseat_endpoint_leave(struct libseat_endpoint *ep) {
	while (ep->clients != NULL) {
		struct ep_client *client = ep->clients;
		ep->clients = client->next;
		poller_remove(ep->poller, &client->src);
		close(client->fd);
		libseat_wire_close_fds(&client->out);
		libseat_grants_leave(&client->grants);
		free(client->peer.groups);
		free(client);
	}
	ep_free(ep);
}
