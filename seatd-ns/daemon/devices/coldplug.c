#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coldplug.h"
#include "log.h"
#include "sysfs.h"
#include "uevent_file.h"

static const char *const scanned_classes[] = {"input", "drm", "sound", "hidraw"};

/* Appends the E: lines of the device's udev database entry, if it has one. */
static void append_udev_properties(const char *data_dir, const struct uevent *ev, char *buf,
	size_t *off, size_t size) {
	char path[4096];
	const char *sysname = strrchr(ev->devpath, '/') + 1;
	if (ev->has_devnum) {
		snprintf(path, sizeof(path), "%s/c%u:%u", data_dir, ev->major, ev->minor);
	} else {
		snprintf(path, sizeof(path), "%s/+%s:%s", data_dir, ev->subsystem, sysname);
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return; /* not (yet) processed by udevd */
	}
	char line[4096];
	size_t base = *off;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (uevent_file_add_db_line(buf, off, size, base, line) == -1) {
			break; /* full */
		}
	}
	fclose(f);
}

/* Builds an add event for devpath from its sysfs uevent file and applies it. */
static int scan_device(struct devtable *table, const char *udev_data_dir, const char *subsystem,
	const char *devpath) {
	char attrs[UEVENT_MAX_SIZE];
	ssize_t n = sysfs_read_attr(table->sysfs_fd, devpath, "uevent", attrs, sizeof(attrs));
	if (n == -1) {
		return 0; /* gone while we looked */
	}
	char buf[UEVENT_MAX_SIZE + 1];
	size_t off;
	if (uevent_file_event(buf, &off, sizeof(buf) - 1, devpath, subsystem, attrs) == -1) {
		goto malformed;
	}
	struct uevent ev;
	const char *why;
	if (udev_data_dir != NULL) {
		/* Parsing splits in place: find the database entry's name from a copy. */
		char copy[UEVENT_MAX_SIZE + 1];
		memcpy(copy, buf, off);
		if (uevent_parse_properties(&ev, copy, off, &why) == -1) {
			goto malformed;
		}
		append_udev_properties(udev_data_dir, &ev, buf, &off, sizeof(buf) - 1);
	}
	if (uevent_parse_properties(&ev, buf, off, &why) == -1) {
		goto malformed;
	}
	return devtable_apply(table, &ev);

malformed:
	log_warnf("%s: unusable uevent file in sysfs, skipped", devpath);
	return 0;
}

/* "../../devices/pci0000:00/..." (a class link) to "/devices/pci0000:00/...". */
static const char *devpath_of_link(const char *target) {
	while (strncmp(target, "../", 3) == 0) {
		target += 3;
	}
	return strncmp(target, "devices/", 8) == 0 ? target - 1 : NULL;
}

static int scan_class(struct devtable *table, const char *udev_data_dir, const char *subsystem) {
	char class_dir[64];
	snprintf(class_dir, sizeof(class_dir), "class/%s", subsystem);
	int dir_fd = openat(table->sysfs_fd, class_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd == -1) {
		return errno == ENOENT ? 0 : -1; /* no such class on this host */
	}
	DIR *dir = fdopendir(dir_fd);
	if (dir == NULL) {
		close(dir_fd);
		return -1;
	}
	int found = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.') {
			continue;
		}
		char target[4096];
		ssize_t n = readlinkat(dir_fd, entry->d_name, target + 1, sizeof(target) - 2);
		if (n == -1) {
			continue;
		}
		target[0] = '/';
		target[n + 1] = '\0';
		const char *devpath = devpath_of_link(target + 1);
		if (devpath == NULL || !uevent_devpath_is_valid(devpath)) {
			log_debugf("%s/%s: not a link into /devices, skipped", class_dir,
				entry->d_name);
			continue;
		}
		int r = scan_device(table, udev_data_dir, subsystem, devpath);
		if (r == -1) {
			closedir(dir);
			return -1;
		}
		found += r;
	}
	closedir(dir);
	return found;
}

int coldplug_scan(struct devtable *table, const char *udev_data_dir) {
	devtable_scan_begin(table);
	int total = 0;
	for (size_t i = 0; i < sizeof(scanned_classes) / sizeof(scanned_classes[0]); i++) {
		int r = scan_class(table, udev_data_dir, scanned_classes[i]);
		if (r == -1) {
			return -1;
		}
		total += r;
	}
	devtable_scan_end(table);
	return total;
}
