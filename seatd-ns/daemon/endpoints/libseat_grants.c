#include <errno.h>
#include <fcntl.h>
#include <linux/hidraw.h>
#include <linux/input.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xf86drm.h>

#include "libseat_grants.h"
#include "log.h"

/* Linux 6.5; older kernels answer ENOPROTOOPT. */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
/* Kernel 6.12 has it (b31c9d9dc343); older headers do not, older kernels answer EINVAL. */
#ifndef HIDIOCREVOKE
#define HIDIOCREVOKE _IOW('H', 0x0D, int)
#endif

struct libseat_grant {
	int id;
	int fd; /* our copy; -1 once revoked and closed */
	int ref_cnt;
	enum libseat_device_class class;
	dev_t devnum;
	bool master; /* we set DRM master on it */
	char host_path[PATH_MAX];
	char store_name[FD_STORE_NAME_MAX + 1]; /* our fd's in the fd store, or "" */
};

/* Only the daemon may set DRM master (CAP_SYS_ADMIN, initial user ns): it does for the client. */
static void grant_set_master(struct libseat_grant *grant) {
	if (grant->class != LIBSEAT_DEVICE_DRM_CARD || grant->fd == -1 || grant->master) {
		return;
	}
	if (drmSetMaster(grant->fd) == -1) {
		log_warnf("libseat: could not set DRM master on %s: %s", grant->host_path,
			strerror(errno));
		return;
	}
	grant->master = true;
}

/*
 * Takes the device away from the client: evdev and hidraw fds are revoked (for good: the
 * client reopens them on enable) and our copy closed; DRM loses master but keeps its fd, since
 * the client's GEM and KMS state lives in that open file.
 */
static void grant_revoke(struct libseat_grant *grant, bool closing) {
	if (grant->fd == -1) {
		return;
	}
	switch (grant->class) {
	case LIBSEAT_DEVICE_DRM_CARD:
	case LIBSEAT_DEVICE_DRM_RENDER:
		if (grant->master) {
			if (drmDropMaster(grant->fd) == -1) {
				log_warnf("libseat: could not drop DRM master on %s: %s",
					grant->host_path, strerror(errno));
			}
			grant->master = false;
		}
		if (!closing) {
			return;
		}
		break;
	case LIBSEAT_DEVICE_EVDEV:
		if (ioctl(grant->fd, EVIOCREVOKE, NULL) == -1) {
			log_warnf("libseat: could not revoke %s: %s", grant->host_path,
				strerror(errno));
		}
		break;
	case LIBSEAT_DEVICE_HIDRAW:
		if (ioctl(grant->fd, HIDIOCREVOKE, NULL) == -1) {
			log_warnf("libseat: could not revoke %s (HIDIOCREVOKE needs Linux 6.12): %s;"
				  " the client keeps its fd",
				grant->host_path, strerror(errno));
		}
		break;
	case LIBSEAT_DEVICE_NONE:
		break;
	}
	if (grant->store_name[0] != '\0') {
		fd_store_remove(grant->store_name);
	}
	close(grant->fd);
	grant->fd = -1;
}

void libseat_grants_close_all(struct libseat_grants *grants) {
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_DEVICES; i++) {
		if (grants->devices[i] != NULL) {
			grant_revoke(grants->devices[i], true);
			free(grants->devices[i]);
			grants->devices[i] = NULL;
		}
	}
}

int libseat_grants_close(struct libseat_grants *grants, int id) {
	if (id < 1 || id > LIBSEAT_ENDPOINT_MAX_DEVICES || grants->devices[id - 1] == NULL) {
		errno = EBADF;
		return -1;
	}
	struct libseat_grant *grant = grants->devices[id - 1];
	if (--grant->ref_cnt == 0) {
		/* As seatd: a closed device is revoked, so a kept dup does not outlive it. */
		grant_revoke(grant, true);
		free(grant);
		grants->devices[id - 1] = NULL;
	}
	return 0;
}

void libseat_grants_enable(struct libseat_grants *grants) {
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_DEVICES; i++) {
		if (grants->devices[i] != NULL) {
			grant_set_master(grants->devices[i]);
		}
	}
}

void libseat_grants_disable(struct libseat_grants *grants) {
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_DEVICES; i++) {
		if (grants->devices[i] != NULL) {
			grant_revoke(grants->devices[i], false);
		}
	}
}

void libseat_grants_device_removed(struct libseat_grants *grants, const char *host_path) {
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_DEVICES; i++) {
		struct libseat_grant *grant = grants->devices[i];
		if (grant != NULL && strcmp(grant->host_path, host_path) == 0) {
			grant_revoke(grant, true);
		}
	}
}

/* Whether the process pid is in the pid namespace ns_fd, or in one nested in it. */
static bool in_pidns(pid_t pid, int ns_fd) {
	struct stat want, st;
	if (pid <= 0 || fstat(ns_fd, &want) == -1) {
		return false;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	bool found = false;
	while (ns != -1) {
		found = fstat(ns, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino;
		/* EPERM above our own namespace: the walk ends there. */
		int parent = found ? -1 : ioctl(ns, NS_GET_PARENT);
		close(ns);
		ns = parent;
	}
	return found;
}

/* Its pidfd (Linux 6.5) pins the process, so that the pid we look at cannot be another's by
 * then; older kernels give none, and the pid is taken as it is. */
bool libseat_peer_check(struct libseat_peer *peer, int sock, int pidns_fd) {
	socklen_t len = sizeof(peer->cred);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer->cred, &len) == -1) {
		return false;
	}
	len = 0;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) == -1 && errno != ERANGE) {
		return false;
	}
	peer->groups = malloc(len > 0 ? len : 1);
	if (peer->groups == NULL ||
		getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &len) == -1) {
		return false;
	}
	peer->n_groups = len / sizeof(gid_t);
	int pidfd = -1;
	len = sizeof(pidfd);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == -1 &&
		errno != ENOPROTOOPT) {
		return false;
	}
	bool ours = in_pidns(peer->cred.pid, pidns_fd);
	if (pidfd != -1) {
		/* Readable once the process has exited: its pid may be another's now. */
		struct pollfd exited = {.fd = pidfd, .events = POLLIN};
		ours = ours && poll(&exited, 1, 0) == 0;
		close(pidfd);
	}
	return ours;
}

/* Whether a node is the device the resolver meant. */
static bool is_target(const struct stat *st, const struct libseat_endpoint_target *target) {
	return S_ISCHR(st->st_mode) && st->st_rdev == target->devnum;
}

static bool peer_in_group(const struct libseat_peer *peer, gid_t gid) {
	for (size_t i = 0; i < peer->n_groups; i++) {
		if (peer->groups[i] == gid) {
			return true;
		}
	}
	return peer->cred.gid == gid;
}

/*
 * Whether the peer could open the node read-write itself, by its owner, group and mode (as
 * the kernel decides, host root aside): through the endpoint nobody gets more than the
 * container's own /dev gives them.
 */
static bool peer_may_open(const struct libseat_peer *peer, const struct stat *st) {
	mode_t bits = st->st_mode;
	if (peer->cred.uid == 0) {
		return true;
	}
	if (peer->cred.uid == st->st_uid) {
		bits >>= 6;
	} else if (peer_in_group(peer, st->st_gid)) {
		bits >>= 3;
	}
	return (bits & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH);
}

/* The host node the resolver gives for path, checked to be one the peer may open. */
static int resolve(const struct libseat_resolver *resolver, const struct libseat_peer *peer,
	const char *path, struct libseat_endpoint_target *target) {
	enum libseat_device_class class = libseat_endpoint_classify(path);
	if (class == LIBSEAT_DEVICE_NONE) {
		errno = ENOENT;
		return -1;
	}
	memset(target, 0, sizeof(*target));
	errno = ENOENT;
	if (resolver->fn(path, class, target, resolver->data) == -1) {
		return -1;
	}
	if (target->class != class || target->host_path[0] != '/' ||
		memchr(target->host_path, '\0', sizeof(target->host_path)) == NULL) {
		errno = EACCES;
		return -1;
	}
	struct stat st;
	if (lstat(target->host_path, &st) == -1) {
		return -1;
	}
	if (!is_target(&st, target) || !peer_may_open(peer, &st)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

/* Keeps our fd in the fd store, named by the client's path, for a daemon restarted. */
static void store(const struct libseat_grants *grants, struct libseat_grant *grant,
	const char *path) {
	if (grants->store_prefix[0] == '\0') {
		return;
	}
	int n = snprintf(grant->store_name, sizeof(grant->store_name), "%sd%d+%s",
		grants->store_prefix, grant->id, path);
	if (n < 0 || (size_t)n >= sizeof(grant->store_name)) {
		grant->store_name[0] = '\0';
		return;
	}
	fd_store_put(grant->store_name, grant->fd);
}

int libseat_grants_open(struct libseat_grants *grants, const struct libseat_resolver *resolver,
	const struct libseat_peer *peer, const char *path, int *id_out, int *fd_out) {
	struct libseat_endpoint_target target;
	if (resolve(resolver, peer, path, &target) == -1) {
		return -1;
	}

	/* The same device again: another fd of the same open file, as seatd meant to. */
	size_t free_slot = LIBSEAT_ENDPOINT_MAX_DEVICES;
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_DEVICES; i++) {
		struct libseat_grant *grant = grants->devices[i];
		if (grant == NULL) {
			if (free_slot == LIBSEAT_ENDPOINT_MAX_DEVICES) {
				free_slot = i;
			}
			continue;
		}
		if (grant->fd != -1 && grant->devnum == target.devnum &&
			strcmp(grant->host_path, target.host_path) == 0) {
			int fd = fcntl(grant->fd, F_DUPFD_CLOEXEC, 0);
			if (fd == -1) {
				return -1;
			}
			grant->ref_cnt++;
			*id_out = grant->id;
			*fd_out = fd;
			return 0;
		}
	}
	if (free_slot == LIBSEAT_ENDPOINT_MAX_DEVICES) {
		errno = EMFILE;
		return -1;
	}

	struct libseat_grant *grant = calloc(1, sizeof(*grant));
	if (grant == NULL) {
		return -1;
	}
	grant->fd = open(target.host_path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (grant->fd == -1) {
		goto fail;
	}
	/* The node must still be the device the resolver meant. */
	struct stat st;
	if (fstat(grant->fd, &st) == -1) {
		goto fail;
	}
	if (!is_target(&st, &target)) {
		log_warnf("libseat: %s: %s is not the device resolved for %s, refused",
			resolver->seat_name, target.host_path, path);
		errno = EACCES;
		goto fail;
	}
	int fd = fcntl(grant->fd, F_DUPFD_CLOEXEC, 0);
	if (fd == -1) {
		goto fail;
	}
	grant->id = (int)free_slot + 1;
	grant->ref_cnt = 1;
	grant->class = target.class;
	grant->devnum = target.devnum;
	memcpy(grant->host_path, target.host_path, sizeof(grant->host_path));
	grant_set_master(grant);
	grants->devices[free_slot] = grant;
	store(grants, grant, path);
	*id_out = grant->id;
	*fd_out = fd;
	return 0;

fail:;
	int saved = errno;
	if (grant->fd != -1) {
		close(grant->fd);
	}
	free(grant);
	errno = saved;
	return -1;
}

int libseat_grants_adopt(struct libseat_grants *grants, const struct libseat_resolver *resolver,
	int id, const char *path, int fd, const char *store_name) {
	struct libseat_endpoint_target target;
	struct libseat_peer root = {.cred = {.uid = 0}};
	struct stat st;
	if (id < 1 || id > LIBSEAT_ENDPOINT_MAX_DEVICES || grants->devices[id - 1] != NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Whoever the client is, it had the device: only whether it is still the seat's counts. */
	if (resolve(resolver, &root, path, &target) == -1 || fstat(fd, &st) == -1) {
		return -1;
	}
	if (!is_target(&st, &target)) {
		errno = ENODEV;
		return -1;
	}
	struct libseat_grant *grant = calloc(1, sizeof(*grant));
	if (grant == NULL) {
		return -1;
	}
	*grant = (struct libseat_grant){.id = id, .fd = fd, .ref_cnt = 1, .class = target.class,
		.devnum = target.devnum};
	/* Master stays with the open file: the client's compositor may hold it still. */
	grant->master = target.class == LIBSEAT_DEVICE_DRM_CARD && drmIsMaster(fd);
	memcpy(grant->host_path, target.host_path, sizeof(grant->host_path));
	snprintf(grant->store_name, sizeof(grant->store_name), "%s", store_name);
	grants->devices[id - 1] = grant;
	return 0;
}

void libseat_grants_leave(struct libseat_grants *grants) {
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_DEVICES; i++) {
		if (grants->devices[i] != NULL) {
			if (grants->devices[i]->fd != -1) {
				close(grants->devices[i]->fd);
			}
			free(grants->devices[i]);
			grants->devices[i] = NULL;
		}
	}
}
