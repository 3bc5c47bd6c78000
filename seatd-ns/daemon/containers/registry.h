#ifndef _SEATD_NS_REGISTRY_H
#define _SEATD_NS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy.h"
#include "seatd_protocol.h"

/*
 * The registered containers, kept in RUN_DIR/registrations so that a daemon started again
 * (systemctl restart, or after a crash) re-adopts the containers that still run. A container
 * is known by its name, its init's pid and that process's start time, which a reused pid
 * cannot have; the file lives in the run directory, which a reboot empties. One container a
 * line, fields separated by spaces:
 *   NAME PID START_TIME PROTOCOL [kernel-events] [privileged]
 * PROTOCOL is legacy or 0.9 (the container's libseat). Written whole, through a temporary
 * file and a rename, after every registration and every end of one.
 */

struct registration {
	char name[CONTAINER_NAME_MAX + 1];
	pid_t pid;
	unsigned long long start_time;
	enum libseat_endpoint_protocol protocol;
	bool kernel_events;
	bool privileged; /* registered in the host's user namespace, by root's explicit option */
};

/*
 * Parses the file's text: the registrations of the lines that parse, in *out (free it), their
 * count in *n. A line that does not parse is logged as "path:line: message" and skipped.
 * 0, or -1 with ENOMEM.
 */
int registry_parse(const char *path, const char *text, size_t len, struct registration **out,
	size_t *n);

/* Reads and parses path (a missing file has none); 0, or -1 with errno. */
int registry_load(const char *path, struct registration **out, size_t *n);

/* Writes the n registrations to path atomically; 0, or -1 with errno (path is unchanged). */
int registry_save(const char *path, const struct registration *regs, size_t n);

#endif
