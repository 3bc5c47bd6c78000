#ifndef _SEATD_NS_PATH_ID_H
#define _SEATD_NS_PATH_ID_H

#include <stddef.h>

/*
 * ID_PATH as udev's path_id builtin computes it (systemd src/udev/udev-builtin-path_id.c):
 * walk from the device up its parents and prepend one element per bus that names a physical
 * place ("pci-0000:00:07.0", "usb-0:1.1:1.0", "platform-i8042", "serio-0", ...), e.g.
 * "pci-0000:00:07.0-usb-0:1.1:1.0" for the keyboard at port 1.1 of the recorded host.
 *
 * The subsystem of each ancestor is read from its "subsystem" link under the sysfs root
 * root_fd; when the ancestor is no longer in sysfs (a device unplugged before we looked),
 * it is inferred from the shape of its name, so a removed device still has its ID_PATH.
 *
 * Writes the result into out and returns 0; returns -1 with errno ENOENT when path_id would
 * set no ID_PATH (virtual devices), ENAMETOOLONG when out is too small.
 */
int path_id_compute(int root_fd, const char *devpath, char *out, size_t size);

#endif
