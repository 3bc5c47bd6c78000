#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libseat_endpoint.h"
#include "log.h"
#include "seat_endpoints.h"

/* A desktop's /run/seatd.sock: the endpoint, the seat it serves, its socket on the host. */
struct seat_endpoint {
	struct libseat_endpoint *endpoint;
	struct desktops *desktops;
	struct desktop *desktop;
	char *seat;
	char *path;
};

/* kept: the daemon exits, and the endpoint's clients are left as they are for the next. */
static void close_endpoint(struct desktop *d, bool kept) {
	struct seat_endpoint *se = d->seat_client;
	if (se == NULL) {
		return;
	}
	if (se->endpoint != NULL && kept) {
		libseat_endpoint_leave(se->endpoint);
	} else if (se->endpoint != NULL) {
		libseat_endpoint_destroy(se->endpoint);
		unlink(se->path);
	}
	free(se->seat);
	free(se->path);
	free(se);
	d->seat_client = NULL;
}

/*
 * The container's endpoint socket, at path: nodes/NAME/libseat/seatd.sock on the host, so
 * that no container name makes another's path (a name has no '/'), in a directory of root's
 * alone, so that no host user reaches it. In the container it is its root's and its video
 * group's, mode 0660, as Debian's seatd.service (seatd -g video) has it.
 */
static int listen_at(const char *nodes_dir, const struct container *c, const char *path) {
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", nodes_dir, c->name);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%s/libseat", nodes_dir, c->name);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		return -1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	unlink(path);
	long video = nodes_container_group(c, "video");
	gid_t gid = c->root_gid;
	if (video >= 0) {
		container_gid_to_host(c, (gid_t)video, &gid);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
		chown(path, c->root_uid, gid) == -1 || chmod(path, 0660) == -1 ||
		listen(fd, 16) == -1) {
		int saved = errno;
		if (fd != -1) {
			close(fd);
		}
		errno = saved;
		return -1;
	}
	return fd;
}

/* The container's pid namespace, whose processes its endpoint serves. */
static int open_pidns(const struct container *c) {
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)c->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Its init still running (its pidfd not readable)? Else the pid may be another's. */
	struct pollfd exited = {.fd = c->pidfd, .events = POLLIN};
	if (fd != -1 && poll(&exited, 1, 0) != 0) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/*
 * The libseat endpoint hands out only devices given to this desktop, from nodes on the host
 * side, whatever path the client named.
 */
static int resolve_device(const char *client_path, enum libseat_device_class class,
	struct libseat_endpoint_target *target, void *data) {
	struct seat_endpoint *se = data;
	if (desktops_given_node(se->desktops, se->desktop, client_path + strlen("/dev/"),
		    target->host_path, sizeof(target->host_path), &target->devnum) == -1) {
		return -1;
	}
	target->class = class;
	return 0;
}

/* The endpoint's client acknowledged DISABLE_SEAT, was forced, or left. */
static void endpoint_disabled(struct libseat_endpoint *ep, bool forced, void *data) {
	struct seat_endpoint *se = data;
	desktops_seat_released(se->desktops, se->desktop, se->seat, forced);
}

static int open_endpoint(struct seat_endpoints *endpoints, struct desktop *d, const char *seat,
	bool active) {
	struct desktops *desktops = endpoints->desktops;
	struct seat_endpoint *se = calloc(1, sizeof(*se));
	if (se == NULL) {
		return -1;
	}
	se->desktops = desktops;
	se->desktop = d;
	d->seat_client = se;
	if (asprintf(&se->path, "%s/%s/libseat/seatd.sock", desktops->nodes.dir,
		    d->container.name) == -1) {
		se->path = NULL;
		return -1;
	}
	se->seat = strdup(seat);
	int fd = se->seat != NULL ? listen_at(desktops->nodes.dir, &d->container, se->path) : -1;
	int pidns = fd != -1 ? open_pidns(&d->container) : -1;
	if (pidns == -1 || nodes_bind_file(&d->container, se->path, "run", "seatd.sock") == -1 ||
		(se->endpoint = libseat_endpoint_create(desktops->poller, fd, pidns, seat,
			 resolve_device, se)) == NULL) {
		int saved = errno;
		if (fd != -1) {
			close(fd);
		}
		if (pidns != -1) {
			close(pidns);
		}
		errno = saved;
		return -1;
	}
	libseat_endpoint_set_protocol(se->endpoint, d->libseat_protocol);
	libseat_endpoint_set_disabled_callback(se->endpoint, endpoint_disabled, se);
	libseat_endpoint_set_store_name(se->endpoint, d->container.name);
	libseat_endpoint_adopt(se->endpoint, &endpoints->kept, active);
	return 0;
}

/*
 * The container's /run/seatd.sock serves the seat attached to it: made when it gets a seat,
 * remade when the seat changes, gone when it has none. Only the seat's active container has
 * its endpoint active; while a switch of the seat is pending, the switch alone changes that.
 */
static void synced(struct desktop *d, void *data) {
	struct seat_endpoints *endpoints = data;
	struct desktops *desktops = endpoints->desktops;
	const char *seat =
		seats_seat_of_container(desktops->seats, desktops->devices, d->container.name, NULL);
	struct seat_endpoint *se = d->seat_client;
	/* A switch waiting for this endpoint's client keeps it until the switch ends. */
	if (se != NULL && !desktops_switch_waits_for(desktops, se->seat, d) &&
		(seat == NULL || strcmp(seat, se->seat) != 0)) {
		close_endpoint(d, false);
		se = NULL;
	}
	if (se == NULL && seat != NULL) {
		const char *active = seats_container(desktops->seats, seat);
		bool want = active != NULL && strcmp(active, d->container.name) == 0 &&
			!desktops_switch_pending(desktops, seat);
		if (open_endpoint(endpoints, d, seat, want) == -1) {
			log_errorf("%s: no libseat endpoint at /run/seatd.sock: %s", d->container.name,
				strerror(errno));
			close_endpoint(d, false);
			return;
		}
		se = d->seat_client;
		log_infof("%s: libseat endpoint for %s at /run/seatd.sock (libseat %s)",
			d->container.name, se->seat,
			d->libseat_protocol == LIBSEAT_PROTOCOL_LEGACY ? "before 0.9" : "0.9 and later");
	}
	if (se == NULL || desktops_switch_pending(desktops, se->seat)) {
		return;
	}
	const char *active = seats_container(desktops->seats, se->seat);
	bool want = active != NULL && strcmp(active, d->container.name) == 0;
	if (want != libseat_endpoint_is_active(se->endpoint)) {
		libseat_endpoint_set_active(se->endpoint, want);
	}
}

static void device_lost(struct desktop *d, const char *host_path, void *data) {
	struct seat_endpoint *se = d->seat_client;
	if (se != NULL) {
		libseat_endpoint_device_removed(se->endpoint, host_path);
	}
}

static int release(struct desktop *d, const char *seat, void *data) {
	struct seat_endpoint *se = d->seat_client;
	if (se == NULL || strcmp(se->seat, seat) != 0) {
		return 0;
	}
	return libseat_endpoint_set_active(se->endpoint, false) == 1 ? 1 : 0;
}

static void gone(struct desktop *d, bool kept, void *data) {
	close_endpoint(d, kept);
}

static const struct desktop_seat_client_ops seat_endpoint_ops = {
	.synced = synced,
	.device_lost = device_lost,
	.release = release,
	.gone = gone,
};

void seat_endpoints_init(struct seat_endpoints *endpoints, struct desktops *desktops) {
	endpoints->desktops = desktops;
	if (fd_store_take_kept(&endpoints->kept) == -1) {
		log_warnf("fd store: cannot take what the daemon before kept: %s", strerror(errno));
	}
	desktops_set_seat_clients(desktops, &seat_endpoint_ops, endpoints);
}

void seat_endpoints_started(struct seat_endpoints *endpoints) {
	fd_store_kept_finish(&endpoints->kept);
}
