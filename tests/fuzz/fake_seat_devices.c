/*
 * A stand-in for desktop/logind/seat_devices.c in the bus fuzz target: no libseat and no
 * endpoint, so that the input alone decides when the seat is enabled and disabled. Its seat
 * has a DRM card (1:5), an input device (1:7) and a hidraw device (1:9); what they open is
 * /dev/null. fake_seat_devices_fail_opens makes opens fail, as a refusing endpoint does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fake_seat_devices.h"
#include "seat_devices.h"

struct seat_devices {
	int next_id;
};

bool fake_seat_devices_fail_opens;
unsigned fake_seat_devices_acks;

struct seat_devices *seat_devices_open(sd_event *event, const char *dev_dir,
	const struct seat_devices_listener *listener, void *data) {
	return calloc(1, sizeof(struct seat_devices));
}

int seat_devices_dispatch(struct seat_devices *sd, int timeout_ms) {
	return 0;
}

void seat_devices_close(struct seat_devices *sd) {
	free(sd);
}

const char *seat_devices_seat_name(struct seat_devices *sd) {
	return "seat1";
}

int seat_devices_lookup(const struct seat_devices *sd, dev_t devnum, char *path, size_t size,
	enum seat_device_class *class) {
	static const struct {
		unsigned minor;
		const char *path;
		enum seat_device_class class;
	} devices[] = {
		{5, "/dev/dri/card0", SEAT_DEVICE_DRM},
		{7, "/dev/input/event3", SEAT_DEVICE_EVDEV},
		{9, "/dev/hidraw0", SEAT_DEVICE_HIDRAW},
	};
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		if (devnum == makedev(1, devices[i].minor)) {
			snprintf(path, size, "%s", devices[i].path);
			*class = devices[i].class;
			return 0;
		}
	}
	return -ENODEV;
}

int seat_devices_open_device(struct seat_devices *sd, const char *path, int *fd) {
	if (fake_seat_devices_fail_opens) {
		return -ENOENT;
	}
	*fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return *fd == -1 ? -errno : ++sd->next_id;
}

void seat_devices_close_device(struct seat_devices *sd, int device_id) {
}

int seat_devices_placeholder(const struct seat_devices *sd, const char *path) {
	int fd = open("/dev/null", O_PATH | O_CLOEXEC);
	return fd == -1 ? -errno : fd;
}

int seat_devices_ack_disable(struct seat_devices *sd) {
	fake_seat_devices_acks++;
	return 0;
}
