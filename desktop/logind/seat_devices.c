#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libseat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "seat_devices.h"

struct seat_devices {
	struct libseat *seat;
	sd_event_source *source;
	char dev_dir[256];
	const struct seat_devices_listener *listener;
	void *data;
};

static void on_enable(struct libseat *seat, void *data) {
	struct seat_devices *sd = data;
	sd->listener->enabled(sd->data);
}

static void on_disable(struct libseat *seat, void *data) {
	struct seat_devices *sd = data;
	sd->listener->disabled(sd->data);
}

static const struct libseat_seat_listener seat_listener = {
	.enable_seat = on_enable,
	.disable_seat = on_disable,
};

/* Without its endpoint the service has nothing to give: it stops, to be restarted. */
static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *data) {
	struct seat_devices *sd = data;
	if (libseat_dispatch(sd->seat, 0) == -1) {
		log_errorf("logind: lost the seat's endpoint: %s", strerror(errno));
		return sd_event_exit(sd_event_source_get_event(s), -EPIPE);
	}
	return 0;
}

struct seat_devices *seat_devices_open(sd_event *event, const char *dev_dir,
	const struct seat_devices_listener *listener, void *data) {
	struct seat_devices *sd = calloc(1, sizeof(*sd));
	if (sd == NULL) {
		return NULL;
	}
	snprintf(sd->dev_dir, sizeof(sd->dev_dir), "%s", dev_dir);
	sd->listener = listener;
	sd->data = data;
	/* libseat's logind backend would ask this very service: the endpoint only. */
	if (setenv("LIBSEAT_BACKEND", "seatd", 1) == -1) {
		goto fail;
	}
	sd->seat = libseat_open_seat(&seat_listener, sd);
	if (sd->seat == NULL) {
		goto fail;
	}
	int r = sd_event_add_io(event, &sd->source, libseat_get_fd(sd->seat), EPOLLIN,
		on_readable, sd);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	return sd;

fail:;
	int saved = errno;
	seat_devices_close(sd);
	errno = saved;
	return NULL;
}

int seat_devices_dispatch(struct seat_devices *sd, int timeout_ms) {
	return libseat_dispatch(sd->seat, timeout_ms) == -1 ? -errno : 0;
}

void seat_devices_close(struct seat_devices *sd) {
	if (sd == NULL) {
		return;
	}
	sd_event_source_disable_unref(sd->source);
	if (sd->seat != NULL) {
		libseat_close_seat(sd->seat);
	}
	free(sd);
}

const char *seat_devices_seat_name(struct seat_devices *sd) {
	return libseat_seat_name(sd->seat);
}

/* name is PREFIX followed by digits only: the exact form the endpoint accepts. */
static bool name_is(const char *name, const char *prefix) {
	size_t n = strlen(prefix);
	if (strncmp(name, prefix, n) != 0 || name[n] == '\0') {
		return false;
	}
	return strspn(name + n, "0123456789") == strlen(name + n);
}

static const struct {
	const char *dir; /* under dev_dir */
	const char *prefix;
	enum seat_device_class class;
} kinds[] = {
	{"dri", "card", SEAT_DEVICE_DRM},
	{"input", "event", SEAT_DEVICE_EVDEV},
	{"", "hidraw", SEAT_DEVICE_HIDRAW},
};

int seat_devices_lookup(const struct seat_devices *sd, dev_t devnum, char *path, size_t size,
	enum seat_device_class *class) {
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char dir[300];
		snprintf(dir, sizeof(dir), "%s/%s", sd->dev_dir, kinds[k].dir);
		DIR *d = opendir(dir);
		if (d == NULL) {
			continue;
		}
		int found = 0;
		struct dirent *e;
		while (found == 0 && (e = readdir(d)) != NULL) {
			struct stat st;
			if (!name_is(e->d_name, kinds[k].prefix) ||
				fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
				!S_ISCHR(st.st_mode) || st.st_rdev != devnum) {
				continue;
			}
			int n = snprintf(path, size, "/dev/%s%s%s", kinds[k].dir,
				kinds[k].dir[0] != '\0' ? "/" : "", e->d_name);
			found = n > 0 && (size_t)n < size ? 1 : -1;
		}
		closedir(d);
		if (found == 1) {
			*class = kinds[k].class;
			return 0;
		}
	}
	return -ENODEV;
}

int seat_devices_open_device(struct seat_devices *sd, const char *path, int *fd) {
	int id = libseat_open_device(sd->seat, path, fd);
	return id == -1 ? -errno : id;
}

void seat_devices_close_device(struct seat_devices *sd, int device_id) {
	if (libseat_close_device(sd->seat, device_id) == -1) {
		log_warnf("logind: closing device %d: %s", device_id, strerror(errno));
	}
}

int seat_devices_placeholder(const struct seat_devices *sd, const char *path) {
	char node[300];
	/* path is "/dev/...", made by seat_devices_lookup. */
	snprintf(node, sizeof(node), "%s%s", sd->dev_dir, path + strlen("/dev"));
	int fd = open(node, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return fd == -1 ? -errno : fd;
}

int seat_devices_ack_disable(struct seat_devices *sd) {
	return libseat_disable_seat(sd->seat) == -1 ? -errno : 0;
}
