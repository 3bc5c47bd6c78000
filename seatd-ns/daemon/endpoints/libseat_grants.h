#ifndef _SEATD_NS_LIBSEAT_GRANTS_H
#define _SEATD_NS_LIBSEAT_GRANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "fd_store.h"
#include "libseat_endpoint.h"

/*
 * Who a libseat client is, and the devices it was given: whether a peer may connect, which
 * host node a client's path opens and whether the client may have it, DRM master while its
 * seat is enabled, and revoking fds on disable, close and removal. When a client may ask is
 * the endpoint's business.
 */

/* A client as it connected, in host ids: its opens are checked against these. */
struct libseat_peer {
	struct ucred cred;
	gid_t *groups; /* its supplementary groups then */
	size_t n_groups;
};

/*
 * Fills peer from the connected socket sock (groups then the caller's to free, whatever the
 * answer): whether the peer is a process of the pid namespace pidns_fd or of one nested in it.
 */
bool libseat_peer_check(struct libseat_peer *peer, int sock, int pidns_fd);

/* Where the seat's devices come from: the endpoint's resolver, and the seat for the log. */
struct libseat_resolver {
	libseat_endpoint_resolve_fn fn;
	void *data;
	const char *seat_name;
};

struct libseat_grant;

/* One client's devices, by id. */
struct libseat_grants {
	struct libseat_grant *devices[LIBSEAT_ENDPOINT_MAX_DEVICES]; /* id is index + 1 */
	/* Our fd of each device is kept in the fd store as PREFIX dID+PATH ("": not kept). */
	char store_prefix[FD_STORE_NAME_MAX + 1];
};

/*
 * Gives the peer the device of its path, with DRM master on a card: *id_out and a new fd in
 * *fd_out for it to have, 0; or -1 with the errno the client is told.
 */
int libseat_grants_open(struct libseat_grants *grants, const struct libseat_resolver *resolver,
	const struct libseat_peer *peer, const char *path, int *id_out, int *fd_out);
/* One reference less to a device (-1 with EBADF for no such id); the last revokes it. */
int libseat_grants_close(struct libseat_grants *grants, int id);
void libseat_grants_close_all(struct libseat_grants *grants);

/* The seat enabled: DRM master on the cards. */
void libseat_grants_enable(struct libseat_grants *grants);
/* The seat disabled: evdev and hidraw fds revoked for good, DRM master dropped. */
void libseat_grants_disable(struct libseat_grants *grants);
/* A host device went away: its fds revoked; the entry stays until the client closes it. */
void libseat_grants_device_removed(struct libseat_grants *grants, const char *host_path);

/*
 * Takes over our fd of a device the daemon before gave as id for the client's path (kept in
 * the fd store as store_name): resolved again, it must still be that device of this seat.
 * 0, or -1 with errno (fd is then still the caller's).
 */
int libseat_grants_adopt(struct libseat_grants *grants, const struct libseat_resolver *resolver,
	int id, const char *path, int fd, const char *store_name);
/* The daemon exits: closes our fds and forgets them, revoking nothing, the store unchanged. */
void libseat_grants_leave(struct libseat_grants *grants);

#endif
