#ifndef _SEATD_NS_SYSFS_H
#define _SEATD_NS_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Reading a sysfs tree by devpath. The tree is the host's /sys or a recorded copy of it (the
 * daemon's --sysfs option); root_fd is a directory fd of its top, and a devpath is a path such
 * as "/devices/pci0000:00/0000:00:05.0/drm/card0" relative to it. Callers pass devpaths that
 * the uevent codec has validated (absolute, no "." or ".." components).
 */

/* Opens the sysfs root directory; returns an fd, or -1 with errno set. */
int sysfs_open(const char *root);

/*
 * Reads attribute attr (a relative path such as "capabilities/ev") of devpath into buf,
 * NUL-terminated, trailing newlines removed. Returns the length, or -1 with errno set
 * (ENOENT when the device or attribute does not exist, ENAMETOOLONG when buf is too small).
 */
ssize_t sysfs_read_attr(int root_fd, const char *devpath, const char *attr, char *buf,
	size_t size);

/*
 * Reads the last component of the target of symlink `link` of devpath ("subsystem" gives
 * "usb", "driver" gives "usbhid"). Returns 0, or -1 with errno set.
 */
int sysfs_read_link_name(int root_fd, const char *devpath, const char *link, char *buf,
	size_t size);

/* Whether devpath exists as a directory in the tree. */
bool sysfs_device_exists(int root_fd, const char *devpath);

#endif
