#ifndef _SEATD_NS_CONFIG_H
#define _SEATD_NS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "policy.h"

/*
 * The configuration: /etc/seatd-ns/seats.conf, then the drop-ins seats.d/NAME.conf beside it in
 * name order, INI style (parsed by inih):
 *
 *   [daemon]
 *   source = auto | kernel | udev
 *   log-level = error | warn | info | debug
 *   control-group = NAME      ; members may use the control socket besides root
 *
 *   [seat seat1]              ; a seat: "seat", then letters, digits, _ or -
 *   container = desk1         ; the desktop container that gets this seat (more can be
 *                             ; attached at run time, one active: seat-assign switch)
 *   hidraw = yes              ; give it hidraw nodes too (default no)
 *   shared-sound = yes        ; give it the shared sound nodes, timer and seq (default yes)
 *   match-port = pci-0000:00:14.0-usb-0:1    ; a hub or port: all that is behind it
 *   match-syspath = /sys/devices/pci0000:00/0000:00:02.0
 *   match-id-path = pci-0000:00:1f.3*         ; a glob
 *   match-usb-id = 046d:c52b
 *   match-kind = keyboard     ; or a subsystem: input, hidraw, drm, sound
 *   match-udev-seat = seat1   ; what the host's udev rules say (ID_SEAT)
 *
 * Every match line is a rule of its own; for each device the most specific matching rule
 * decides (syspath, then port, ID_PATH glob, usb-id, kind, udev-seat; deeper paths beat
 * shallower ones). Every error is reported as "file:line: message"; a configuration with
 * errors is refused as a whole, so a typo never half-applies.
 */

enum config_source {
	CONFIG_SOURCE_AUTO,
	CONFIG_SOURCE_KERNEL,
	CONFIG_SOURCE_UDEV,
};

struct seat_settings {
	char *name;
	char *container; /* NULL: none */
	bool hidraw;
	bool shared_sound;
	const char *file;
	int line;
};

struct config {
	enum config_source source;
	bool source_set;
	enum log_level log_level;
	bool log_level_set;
	char *control_group; /* NULL: root only */
	struct seat_settings *seats;
	size_t n_seats;
	struct rule_set rules;
	char **files;        /* the files read, which rules and seats point into */
	size_t n_files;
	char *errors;        /* "file:line: message\n" lines, or NULL */
};

int config_source_parse(const char *name, enum config_source *source);

void config_init(struct config *config);
void config_finish(struct config *config);

/*
 * Loads path and its drop-ins into config. A missing path is an error only if must_exist (a
 * file the user named); otherwise the built-in defaults stay. Returns 0, or -1 with the
 * messages in config->errors.
 */
int config_load(struct config *config, const char *path, bool must_exist);

const struct seat_settings *config_find_seat(const struct config *config, const char *name);

#endif
