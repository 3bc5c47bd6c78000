#ifndef _SEATD_NS_CONTAINER_H
#define _SEATD_NS_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "hashmap.h"

/*
 * A registered container (DESIGN decision 4): its init process held by a pidfd, its
 * namespaces and root held by fd from registration on, so that nothing is looked up again by
 * pid or by a path the container controls, and its id mapping.
 */

#define CONTAINER_MAX_ID_MAPS 16

struct id_map {
	unsigned inside, outside, count;
};

struct container {
	struct hashmap_entry entry; /* by name */
	char *name;
	pid_t pid;
	unsigned long long start_time; /* clock ticks after boot (/proc/PID/stat, field 22) */
	int pidfd;
	int root_fd;   /* its root directory (O_PATH): paths inside resolve below it */
	int net_fd;
	int mnt_fd;
	bool own_userns; /* its network namespace belongs to a user namespace of its own */
	bool host_userns; /* it runs in the host's user namespace: a privileged container */
	uid_t userns_owner; /* who made its user namespace (host uid) */
	bool pidns_init;  /* pid 1 of its pid namespace */
	struct id_map uid_map[CONTAINER_MAX_ID_MAPS], gid_map[CONTAINER_MAX_ID_MAPS];
	size_t n_uid_map, n_gid_map;
	uid_t root_uid; /* the host ids of its root */
	gid_t root_gid;
};

/*
 * Takes hold of the container whose init is pid: pidfd first, then its namespaces and root
 * through /proc, then a check through the pidfd that the process is still the same one (a
 * pid can be reused). start_time, unless 0, is the start time the caller saw the process
 * with: a process started at another time has the pid now. Returns 0, or -1 with errno
 * (ESRCH: no such process or it exited; ESTALE: the pid names another process than the one
 * the caller saw).
 */
int container_open(struct container *c, const char *name, pid_t pid,
	unsigned long long start_time);
void container_close(struct container *c);

/*
 * Why the process held by c may not be registered as a desktop container, as a static
 * sentence, or NULL when it may. A container's init is pid 1 of a pid namespace of its own,
 * in mount and network namespaces of its own (neither the daemon's nor the host's, pid 1's),
 * and in a user namespace of its own made by root or by the requester (uid); in the host's
 * user namespace (a privileged container) only when root asks for it with privileged.
 */
const char *container_refusal(const struct container *c, bool privileged, uid_t requester);

/* Host id of a container id; -1 with ERANGE when it is not mapped. */
int container_uid_to_host(const struct container *c, uid_t inside, uid_t *outside);
int container_gid_to_host(const struct container *c, gid_t inside, gid_t *outside);

#endif
