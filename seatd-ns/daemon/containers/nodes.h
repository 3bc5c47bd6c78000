#ifndef _SEATD_NS_NODES_H
#define _SEATD_NS_NODES_H

#include "container.h"
#include "device.h"

/*
 * Device nodes in containers (DESIGN decision 5). A container that shares the host's user
 * namespace gets a mknod in its /dev. An unprivileged container's /dev is a tmpfs of its own
 * user namespace, where nodes do not open: the node is made in a host directory that allows
 * devices (a tmpfs the daemon mounts at RUN_DIR/nodes), at nodes/NAME/DEVNAME, owned by the
 * container's mapped ids. The directory of such nodes (nodes/NAME/input, dri, snd) is
 * bind-mounted onto the container's /dev/input (dri, snd) once, with the new mount API from
 * a child that joined the container's mount namespace; later nodes there need no mount.
 * A node directly in /dev (hidrawN) is bind-mounted onto an empty file. The container can
 * read those directories but not write them. Paths inside the container are resolved with
 * container_fs, never following a link the container planted.
 */

struct nodes {
	char *dir; /* RUN_DIR/nodes */
	bool mounted;
};

/* Mounts the node tmpfs at run_dir/nodes (unless it is one already). */
int nodes_init(struct nodes *nodes, const char *run_dir);
void nodes_finish(struct nodes *nodes);

/*
 * Makes dev's node in the container, owned by root and the group that the container's
 * /etc/group names for the kind (input, video, render, audio; root for hidraw), mode 0660.
 * Returns 0, or -1 with errno (the container is left as it was).
 */
int nodes_create(struct nodes *nodes, const struct container *c, const struct device *dev);
int nodes_remove(struct nodes *nodes, const struct container *c, const struct device *dev);
/*
 * Whether an unprivileged container has dev's node in the daemon's tmpfs already (made by an
 * earlier daemon, say). Always false for a container whose nodes are in its own /dev.
 */
bool nodes_exist(const struct nodes *nodes, const struct container *c, const struct device *dev);

/* The group id (inside the container) of name in its /etc/group, or -1. */
long nodes_container_group(const struct container *c, const char *name);

/*
 * A host path of dev's node as this container has it: the node the daemon made for an
 * unprivileged container (nodes/NAME/DEVNAME), else the host's /dev node.
 */
void nodes_host_path(const struct nodes *nodes, const struct container *c,
	const struct device *dev, char *out, size_t size);

/*
 * Bind-mounts a host file (a socket, say) onto dir/name in the container (dir relative to
 * its root, resolved safely), the same way as the nodes of unprivileged containers.
 */
int nodes_bind_file(const struct container *c, const char *host_path, const char *dir,
	const char *name);

/* Removes the host directory of a container's nodes (when it is gone). */
void nodes_forget(struct nodes *nodes, const char *container);

#endif
