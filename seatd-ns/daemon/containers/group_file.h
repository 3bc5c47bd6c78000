#ifndef _SEATD_NS_GROUP_FILE_H
#define _SEATD_NS_GROUP_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A container's /etc/group, which says which of its groups owns a kind of device node. The
 * text is the container's, untrusted: any bytes, any length, no terminating NUL. A line is
 * NAME:PASSWORD:GID[:MEMBERS], leading blanks skipped as glibc does; a line whose GID is not
 * a decimal number below 2^32 - 1 is skipped.
 */

/* The largest /etc/group read: real ones are a few KiB. */
#define GROUP_FILE_MAX_SIZE (1024 * 1024)

/* The gid of the first valid line of group name in text (len bytes); -1 and ENOENT if none. */
int group_file_find(const char *text, size_t len, const char *name, gid_t *gid);

#endif
