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
	int pidfd;
	int root_fd;   /* its root directory (O_PATH): paths inside resolve below it */
	int net_fd;
	int mnt_fd;
	bool own_userns; /* its network namespace belongs to a user namespace of its own */
	struct id_map uid_map[CONTAINER_MAX_ID_MAPS], gid_map[CONTAINER_MAX_ID_MAPS];
	size_t n_uid_map, n_gid_map;
	uid_t root_uid; /* the host ids of its root */
	gid_t root_gid;
};

/*
 * Takes hold of the container whose init is pid: pidfd first, then its namespaces and root
 * through /proc, then a check through the pidfd that the process is still the same one (a
 * pid can be reused). Returns 0, or -1 with errno (ESRCH: no such process or it exited).
 */
int container_open(struct container *c, const char *name, pid_t pid);
void container_close(struct container *c);

/* Host id of a container id; -1 with ERANGE when it is not mapped. */
int container_uid_to_host(const struct container *c, uid_t inside, uid_t *outside);
int container_gid_to_host(const struct container *c, gid_t inside, gid_t *outside);

#endif
