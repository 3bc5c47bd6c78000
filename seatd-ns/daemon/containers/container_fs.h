#ifndef _SEATD_NS_CONTAINER_FS_H
#define _SEATD_NS_CONTAINER_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "container.h"

/*
 * Files inside a container, touched safely: every path is resolved below the container's
 * root without following any symlink (openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), so a link the container planted at /dev/input or /run/udev can
 * never make the daemon write outside. Entries are created as the container's root (the
 * mapped host ids): a tmpfs the container's user namespace mounted refuses host root's files.
 */

/*
 * Opens directory path (relative to the container's root, such as "run/udev/data"),
 * creating missing components with mode when create is set: one lookup when it is there,
 * so that callers need not keep a directory of the container open (which it could rename
 * or mount over). Returns an fd, or -1 with errno (ELOOP: a symlink on the way; EROFS: a
 * read-only file system; EINVAL: a "." or ".." component).
 */
int container_fs_open_dir(const struct container *c, const char *path, bool create,
	mode_t mode);

/* The same, below base_fd (a directory of the container opened with these functions). */
int container_fs_open_dir_at(const struct container *c, int base_fd, const char *path,
	bool create, mode_t mode);

/*
 * Reads the file at path (relative to the container's root) into a new buffer (*data, to
 * free; *len bytes, not NUL-terminated) without ever blocking on it: only a regular file of at
 * most max_size bytes, reached without a symlink and without crossing a mount (the container
 * could mount a FIFO or a device there), checked before it is opened and read as the
 * container's root would. Returns 0, or -1 with errno (ELOOP: a symlink on the way; EXDEV:
 * a mount; EINVAL: not a regular file; EFBIG: larger than max_size).
 */
int container_fs_read_file(const struct container *c, const char *path, size_t max_size,
	char **data, size_t *len);

/* Replaces dir_fd/name with data atomically (a temp file renamed over it). */
int container_fs_write_file(const struct container *c, int dir_fd, const char *name,
	const char *data, size_t len, mode_t mode);

/* Removes dir_fd/name; a missing entry is not an error. */
int container_fs_unlink(const struct container *c, int dir_fd, const char *name);

/*
 * Runs fn(data) with the file system ids of the container's root, so that what fn creates
 * belongs to it; returns what fn returns, errno preserved.
 */
int container_fs_as_root(const struct container *c, int (*fn)(void *data), void *data);

#endif
