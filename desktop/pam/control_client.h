#ifndef _SEATD_NS_PAM_CONTROL_CLIENT_H
#define _SEATD_NS_PAM_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "control.h"

/*
 * The module's side of the control protocol (control.h): one connection per request, the
 * request sent, its replies read until "end". Every call returns 0, or -1 with errno and why
 * filled: the daemon's "error" message (errno EPROTO), or why the daemon was not reached.
 */

struct seatd_ns_client {
	const char *socket; /* CONTROL_DEFAULT_SOCKET if NULL */
	char *why;
	size_t why_len;
};

/* Sends a verb with fields (key, value pairs, NULL-terminated) and waits for its "end". */
int client_do(struct seatd_ns_client *c, const char *verb, ...) __attribute__((sentinel));

struct client_session {
	char seat[64];
	char user[64];
	char container[128];
	pid_t leader; /* 0: none yet */
};

/*
 * The login session of user (by_user) or on seat (!by_user). Returns 1 and fills s, 0 if
 * there is none, -1 with errno.
 */
int client_find_session(struct seatd_ns_client *c, bool by_user, const char *name,
	struct client_session *s);

struct client_seat {
	char active[128];     /* "" if none */
	char containers[640]; /* space-separated, in the order attached */
	bool found;
};

/* Seat seat's containers. Returns 0 (seat->found false if the daemon has no such seat). */
int client_get_seat(struct seatd_ns_client *c, const char *seat, struct client_seat *info);

/* Whether name is one of the space-separated words of list. */
bool client_list_has(const char *list, const char *name);

#endif
