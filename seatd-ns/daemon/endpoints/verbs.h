#ifndef _SEATD_NS_VERBS_H
#define _SEATD_NS_VERBS_H

#include "control_verbs.h"

/* Between the verb families and their dispatcher (control_verbs.c). */

/* The "end", "error" and "done" (then "end") records; 0, or -1: the client was dropped. */
int send_end(struct control_client *client);
int send_error(struct control_client *client, const char *message);
int send_done(struct control_client *client, const char *message);
/* Saves the state; on failure the caller undoes its change and the client hears why. */
int save_state(struct control_verbs *verbs, char *message, size_t size);

/*
 * Attaches CONTAINER to SEAT, as the attach verb does; message says what happened (0) or why
 * not (-1). Attaching it again where it is attached is not an error.
 */
int verbs_attach(struct control_verbs *verbs, const char *seat, const char *container,
	char *message, size_t size);

int verb_devices(struct control_verbs *verbs, struct control_client *client);
int verb_status(struct control_verbs *verbs, struct control_client *client);
int verb_seats(struct control_verbs *verbs, struct control_client *client);
int verb_assign(struct control_verbs *verbs, struct control_client *client, const char *spec,
	const char *seat);
int verb_unassign(struct control_verbs *verbs, struct control_client *client, const char *spec);
int verb_attach(struct control_verbs *verbs, struct control_client *client, const char *seat,
	const char *container);
int verb_detach(struct control_verbs *verbs, struct control_client *client, const char *seat,
	const char *container);
int verb_switch(struct control_verbs *verbs, struct control_client *client, const char *seat,
	const char *container);
int verb_reload(struct control_verbs *verbs, struct control_client *client);
int verb_register(struct control_verbs *verbs, struct control_client *client,
	const struct control_record *request);
int verb_unregister(struct control_verbs *verbs, struct control_client *client,
	const char *name, const char *pid_text);
int verb_login(struct control_verbs *verbs, struct control_client *client,
	const struct control_record *request);
int verb_login_leader(struct control_verbs *verbs, struct control_client *client,
	const struct control_record *request);
int verb_logout(struct control_verbs *verbs, struct control_client *client, const char *seat);
int verb_sessions(struct control_verbs *verbs, struct control_client *client);
int verb_wait_session(struct control_verbs *verbs, struct control_client *client,
	const char *seat);
int verb_move_session(struct control_verbs *verbs, struct control_client *client,
	const char *from, const char *seat);
/* The client is going: it waits no more. */
void verbs_forget_waiter(struct control_verbs *verbs, struct control_client *client);

#endif
