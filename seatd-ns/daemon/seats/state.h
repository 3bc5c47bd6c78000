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
 *   attach  SEAT CONTAINER                  (one line per container, in the order attached)
 *   active  SEAT CONTAINER                  (the one that has the seat; absent: the first)
 *   detach  SEAT                            (no container, overriding the configuration's)
 *
 * A seat may have several containers, one of them active (seat-assign switch): only the
 * active one gets the seat's devices. Files written before there could be several have one
 * attach line per seat and no active line, and load as they did.
 */

#define STATE_MAX_CONTAINERS 16 /* containers attached to one seat */

struct attachment {
	char *seat;
	char **containers; /* none: detached */
	size_t n_containers;
	size_t active; /* index into containers, when there are any */
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
/*
 * Records that seat has exactly these containers (n = 0: none), containers[active] the active
 * one; the strings are copied first, so they may point into the attachment replaced. -1 with
 * ENOMEM, or EINVAL for more than STATE_MAX_CONTAINERS or an active index out of range.
 */
int state_set_attachment(struct state *state, const char *seat, const char *const *containers,
	size_t n, size_t active);
void state_clear_attachment(struct state *state, const char *seat);

/* A deep copy, to put an attachment back; 0 or -1 (ENOMEM). */
int attachment_copy(struct attachment *dst, const struct attachment *src);
void attachment_finish(struct attachment *a);

#endif
