#ifndef _SEATD_NS_COLDPLUG_H
#define _SEATD_NS_COLDPLUG_H

#include "devtable.h"

/*
 * Coldplug: find every seat device in the sysfs tree (class/input, class/drm, class/sound,
 * class/hidraw) and apply an "add" made from its uevent file, plus, when udev_data_dir is
 * not NULL, the E: properties udevd stored for it there (/run/udev/data). Devices the scan
 * does not find are removed: the same call reconciles after lost events.
 * Returns the number of seat devices seen, or -1 with errno set.
 */
int coldplug_scan(struct devtable *table, const char *udev_data_dir);

#endif
