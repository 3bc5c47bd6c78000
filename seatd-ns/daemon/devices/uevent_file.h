#ifndef _SEATD_NS_UEVENT_FILE_H
#define _SEATD_NS_UEVENT_FILE_H

#include <stddef.h>

/*
 * Coldplug's add events, from the texts it reads: a device's sysfs uevent file and the E:
 * lines of its udev database entry. Parsed apart from the reading so that they can be fuzzed.
 * The event is NUL-separated "KEY=VALUE" properties in buf, as uevent_parse_properties takes
 * them; *off is its length, always below size.
 */

/* Appends "KEY=VALUE\0"; returns 0, or -1 with errno ENOBUFS if it does not fit. */
int uevent_file_append(char *buf, size_t *off, size_t size, const char *key, const char *value);

/*
 * Starts the add event of devpath in subsystem from the text of its uevent file
 * (NUL-terminated, split in place): ACTION, DEVPATH, SUBSYSTEM, then a property per line.
 * Returns 0, or -1 with errno ENOBUFS if it does not fit.
 */
int uevent_file_event(char *buf, size_t *off, size_t size, const char *devpath,
	const char *subsystem, char *text);

/*
 * Appends the property of one line of a udev database entry ("E:KEY=VALUE", changed in
 * place) unless it is not an E: line or its key is among the first base bytes (the uevent
 * file's, which win). Returns 0, or -1 with errno ENOBUFS if it does not fit.
 */
int uevent_file_add_db_line(char *buf, size_t *off, size_t size, size_t base, char *line);

#endif
