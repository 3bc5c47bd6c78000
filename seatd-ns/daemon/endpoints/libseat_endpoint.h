#ifndef _SEATD_NS_LIBSEAT_ENDPOINT_H
#define _SEATD_NS_LIBSEAT_ENDPOINT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "poller.h"
#include "seatd_protocol.h"

/*
 * A seatd-protocol server for one seat of one container (DESIGN decision 8): unmodified libseat
 * users (LIBSEAT_BACKEND=seatd, SEATD_SOCK) open their seat's DRM, evdev and hidraw devices
 * through it. The endpoint never opens a path a client names: it checks the name is of an
 * allowed class, asks the resolver for the host node of this seat's device, opens that, checks
 * its device number and passes the fd. The host decides when the seat is active; the clients
 * follow seatd's model: one of them owns the seat (the first to open it), the others wait.
 *
 * Who may use it: processes of the container only (of its pid namespace, or of one nested in
 * it), checked on accept with SO_PEERCRED (and SO_PEERPIDFD where the kernel has it); who
 * else reaches the socket is the caller's to prevent (its directory and mode). A client gets
 * a device only if it could open the node read-write itself, by the node's owner, group and
 * mode and the client's credentials as it connected (uid, gid, SO_PEERGROUPS): inside the
 * container the endpoint gives nobody more than its /dev does.
 */

struct libseat_endpoint;

#define LIBSEAT_ENDPOINT_MAX_CLIENTS 16
#define LIBSEAT_ENDPOINT_MAX_DEVICES 64 /* open devices per client (seatd allows 128) */
#define LIBSEAT_ENDPOINT_ACK_TIMEOUT_MS 2000
/* A client that has not opened the seat this long after connecting may lose its place to a
 * new one when the endpoint is full (libseat opens the seat as soon as it connects). */
#define LIBSEAT_ENDPOINT_OPEN_GRACE_MS 1000

enum libseat_device_class {
	LIBSEAT_DEVICE_NONE = 0, /* not something a libseat client may open */
	LIBSEAT_DEVICE_DRM_CARD,   /* /dev/dri/cardN */
	LIBSEAT_DEVICE_DRM_RENDER, /* /dev/dri/renderDN */
	LIBSEAT_DEVICE_EVDEV,      /* /dev/input/eventN */
	LIBSEAT_DEVICE_HIDRAW,     /* /dev/hidrawN */
};

/* What the resolver answers: the host node to open and what it must turn out to be. */
struct libseat_endpoint_target {
	char host_path[PATH_MAX];
	dev_t devnum; /* checked with fstat after the open */
	enum libseat_device_class class;
};

/*
 * Maps a client's device path (already checked to be exactly of one allowed class, given as
 * class) to a device of this endpoint's seat: 0 with target filled, or -1 with errno (ENOENT
 * for a device that is not this seat's).
 */
typedef int (*libseat_endpoint_resolve_fn)(const char *client_path,
	enum libseat_device_class class, struct libseat_endpoint_target *target, void *data);

/*
 * Runs once a deactivation that had to wait for a client is done (acknowledged, forced, or the
 * client left). It may run inside one of the endpoint's poller callbacks: it may call
 * libseat_endpoint_set_active on any endpoint, but must not destroy this one.
 */
typedef void (*libseat_endpoint_disabled_fn)(struct libseat_endpoint *ep, bool forced,
	void *data);

/*
 * listen_fd: a bound, listening AF_UNIX stream socket; pidns_fd: the container's pid
 * namespace (an fd of /proc/PID/ns/pid); the endpoint owns both on success and closes them in
 * destroy. seat_name: at most SEATD_MAX_SEAT_LEN - 1 bytes. The seat starts inactive. NULL
 * with errno on failure (the fds are then still the caller's).
 */
struct libseat_endpoint *libseat_endpoint_create(struct poller *poller, int listen_fd,
	int pidns_fd, const char *seat_name, libseat_endpoint_resolve_fn resolve, void *data);
void libseat_endpoint_destroy(struct libseat_endpoint *ep);

void libseat_endpoint_set_disabled_callback(struct libseat_endpoint *ep,
	libseat_endpoint_disabled_fn fn, void *data);
void libseat_endpoint_set_ack_timeout(struct libseat_endpoint *ep, int timeout_ms);

/*
 * Keep the clients' connections and the devices given to them in the service manager's fd
 * store (fd_store.h), named after the container and the seat, so that a daemon restarted
 * takes them over (libseat_endpoint_adopt) and the compositors keep running. Nothing without
 * a service manager's store.
 */
void libseat_endpoint_set_store_name(struct libseat_endpoint *ep, const char *container);

struct fd_store_kept;
/*
 * Takes over what the daemon before kept in the store for this endpoint (its store name set):
 * its clients' connections, and the devices they had, as they had them. The client that had
 * devices owns the seat; it stays enabled if active, else it is told to disable and its
 * devices are revoked at once. Before the endpoint is first activated.
 */
void libseat_endpoint_adopt(struct libseat_endpoint *ep, struct fd_store_kept *kept, bool active);

/*
 * The daemon exits, and leaves the clients as they are for the next one: their connections
 * and devices stay open (in the store), nothing is revoked, no callback runs. Frees ep.
 */
void libseat_endpoint_leave(struct libseat_endpoint *ep);

/* What the container's libseat speaks (seatd_protocol.h); LIBSEAT_PROTOCOL_0_9 until set. */
void libseat_endpoint_set_protocol(struct libseat_endpoint *ep,
	enum libseat_endpoint_protocol protocol);

/*
 * Activation sets DRM master on the owner's card fds and sends it ENABLE_SEAT (a deactivation
 * still waiting is forced first). Deactivation sends DISABLE_SEAT, once the client has read the
 * ENABLE_SEAT before it (libseat runs events read together last first); once the client
 * acknowledges, or the timeout passes, the endpoint revokes its evdev and hidraw fds and drops
 * DRM master.
 * Returns 0 when done, 1 when a deactivation waits for the client (the disabled callback runs
 * later), -1 with errno.
 */
int libseat_endpoint_set_active(struct libseat_endpoint *ep, bool active);
bool libseat_endpoint_is_active(const struct libseat_endpoint *ep);
bool libseat_endpoint_disable_pending(const struct libseat_endpoint *ep);

/* A host device went away: revoke every fd of it given out, and close ours. */
void libseat_endpoint_device_removed(struct libseat_endpoint *ep, const char *host_path);

size_t libseat_endpoint_client_count(const struct libseat_endpoint *ep);

/* The class of a client's device path, by its exact form ("/dev/input/event3"), never by file. */
enum libseat_device_class libseat_endpoint_classify(const char *path);

/* One decoded client request. */
struct seatd_request {
	uint16_t opcode;
	size_t size;    /* bytes it took, header included */
	int device_id;  /* SEATD_CLIENT_CLOSE_DEVICE */
	int session;    /* SEATD_CLIENT_SWITCH_SESSION */
	char path[SEATD_MAX_PATH_LEN]; /* SEATD_CLIENT_OPEN_DEVICE, NUL-terminated */
};

/*
 * Decodes the request at the start of buf: 1 with *out filled, 0 when more bytes are needed,
 * -1 with EBADMSG for what no valid client sends (unknown opcode, wrong or oversized body, a
 * path without its NUL or with one inside); the header alone is enough to reject a size.
 */
int libseat_endpoint_parse(const void *buf, size_t len, struct seatd_request *out);

#endif
