#ifndef _SEATD_NS_STATE_H
#define _SEATD_NS_STATE_H

#include <stddef.h>

#include "policy.h"

/*
 * What users decided at run time (seat-assign assign, unassign, attach, detach, and the
 * seats they created), kept in STATE_DIR/state and restored at start. Every change is written
 * atomically (temp file, fsync, rename, fsync of the directory) before it is acknowledged,
 * so a crash at any moment loses nothing that a caller was told was done.
 *
 * The file has one decision per line, fields separated by tabs:
 *   seat    NAME
 *   assign  KIND SEAT VALUE [SUBSYSTEM]     (KIND: syspath, device or port)
 *   attach  SEAT CONTAINER
 *   detach  SEAT                            (overrides a container of the configuration)
 */

struct attachment {
	char *seat;
	char *container; /* NULL: detached */
};

struct state {
	char *path;
	char **seats;
	size_t n_seats;
	struct rule_set rules;
	struct attachment *attachments;
	size_t n_attachments;
};

/*
 * Loads DIR/state (a missing file is an empty state). Lines that do not parse are logged as
 * "file:line: message" and skipped, and the file is kept as state.broken for inspection
 * before anything overwrites it. Returns 0, or -1 with errno for I/O errors.
 */
int state_load(struct state *state, const char *dir);
void state_finish(struct state *state);

/* Writes the whole state atomically; returns 0, or -1 with errno (the file is unchanged). */
int state_save(const struct state *state);

bool state_has_seat(const struct state *state, const char *name);
int state_add_seat(struct state *state, const char *name);
void state_remove_seat(struct state *state, const char *name);

const struct attachment *state_find_attachment(const struct state *state, const char *seat);
/* Records that seat goes to container (NULL: to none); -1 with ENOMEM. */
int state_set_attachment(struct state *state, const char *seat, const char *container);
void state_clear_attachment(struct state *state, const char *seat);

#endif
