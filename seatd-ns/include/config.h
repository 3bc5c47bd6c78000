#ifndef _SEATD_NS_CONFIG_H
#define _SEATD_NS_CONFIG_H

#include <stdbool.h>

#include "log.h"

/*
 * The daemon's configuration file (/etc/seatd-ns/seats.conf), INI style:
 *
 *   [daemon]
 *   source = auto | kernel | udev
 *   log-level = error | warn | info | debug
 *   control-group = NAME      ; members may use the control socket besides root
 *
 * Every error is reported as "file:line: message" on stderr; a file with errors is refused
 * as a whole, so a typo never half-applies.
 */

enum config_source {
	CONFIG_SOURCE_AUTO,
	CONFIG_SOURCE_KERNEL,
	CONFIG_SOURCE_UDEV,
};

struct config {
	enum config_source source;
	bool source_set;
	enum log_level log_level;
	bool log_level_set;
	char *control_group; /* NULL: root only */
};

int config_source_parse(const char *name, enum config_source *source);

void config_init(struct config *config);
void config_finish(struct config *config);

/*
 * Loads path into config. A missing file is an error only if must_exist (a file the user
 * named); otherwise the built-in defaults stay. Returns 0, or -1 after printing every error.
 */
int config_load(struct config *config, const char *path, bool must_exist);

#endif
