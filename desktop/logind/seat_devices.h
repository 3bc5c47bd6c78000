#ifndef _SEATD_NS_LOGIND_SEAT_DEVICES_H
#define _SEATD_NS_LOGIND_SEAT_DEVICES_H

#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/*
 * The service's side of the container's seatd-ns endpoint: a libseat client (seatd backend,
 * SEATD_SOCK or /run/seatd.sock) that opens the seat's devices for the session's controller
 * and hears when the host gives the seat to this container or takes it away.
 */

struct seat_devices;

/* The kinds of device logind hands out; everything else (render nodes, sound) is refused. */
enum seat_device_class {
	SEAT_DEVICE_DRM,    /* dri/cardN: paused by dropping DRM master, resumed on the same fd */
	SEAT_DEVICE_EVDEV,  /* input/eventN: revoked when paused, reopened on resume */
	SEAT_DEVICE_HIDRAW, /* hidrawN: as evdev */
};

struct seat_devices_listener {
	void (*enabled)(void *data);
	void (*disabled)(void *data);
};

/*
 * Opens the seat; the listener hears of it from seat_devices_dispatch on. dev_dir is where
 * device nodes are looked up by number (/dev, another directory in tests). NULL with errno.
 */
struct seat_devices *seat_devices_open(sd_event *event, const char *dev_dir,
	const struct seat_devices_listener *listener, void *data);
/*
 * Delivers what the endpoint has said: at start the enable that came with the answer to the
 * open, later an enable or disable not yet read. With timeout_ms > 0 it waits that long for
 * a message when none is there. 0 or -errno.
 */
int seat_devices_dispatch(struct seat_devices *sd, int timeout_ms);
void seat_devices_close(struct seat_devices *sd);
const char *seat_devices_seat_name(struct seat_devices *sd);

/*
 * The node of a character device under dev_dir, as the path libseat asks for ("/dev/dri/card0"):
 * 0, or -ENODEV when dev_dir has no node of that number of a kind logind hands out.
 */
int seat_devices_lookup(const struct seat_devices *sd, dev_t devnum, char *path, size_t size,
	enum seat_device_class *class);

/* Opens a device through the endpoint: libseat's device id with *fd set, or -errno. */
int seat_devices_open_device(struct seat_devices *sd, const char *path, int *fd);
void seat_devices_close_device(struct seat_devices *sd, int device_id);

/*
 * An fd of the node that is not the device (O_PATH): what a device taken while the seat is
 * away is handed out as, since the endpoint opens nothing for an inactive client. fstat
 * gives the device's number; every read and ioctl fails, as on a revoked fd. -errno.
 */
int seat_devices_placeholder(const struct seat_devices *sd, const char *path);

/* Lets the endpoint take the seat (the acknowledgement of its disable): 0 or -errno. */
int seat_devices_ack_disable(struct seat_devices *sd);

#endif
