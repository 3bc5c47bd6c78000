#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "verbs.h"

/* "event" action= seat= user= container= [from=] [reason=]: for monitors. */
static void broadcast_session(struct control_verbs *verbs, const char *action,
	const struct session_record *r, const char *seat, const char *from, const char *reason) {
	struct control_builder b;
	control_builder_init(&b, "event");
	control_builder_add(&b, "action", action);
	control_builder_add(&b, "seat", seat);
	control_builder_add(&b, "user", r->user);
	control_builder_add(&b, "container", r->container);
	control_builder_add(&b, "from", from);
	control_builder_add(&b, "reason", reason);
	if (!b.overflow) {
		control_server_broadcast(verbs->control, &b);
	}
}

/* Answers the clients that wait on seat: "done" reason= [seat=NEW], then "end". */
static void answer_waiters(struct control_verbs *verbs, const struct session *s,
	const char *seat, enum session_end why) {
	struct session_waiter **p = &verbs->waiters;
	while (*p != NULL) {
		struct session_waiter *w = *p;
		if (strcmp(w->seat, seat) != 0) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		struct control_builder b;
		control_builder_init(&b, "done");
		control_builder_add(&b, "reason", session_end_name(why));
		control_builder_add(&b, "seat", why == SESSION_END_MOVED ? s->record.seat : NULL);
		/* A client that cannot take it is dropped when it hangs up. */
		if (control_client_send(w->client, &b) == 0) {
			send_end(w->client);
		}
		free(w);
	}
}

void verbs_forget_waiter(struct control_verbs *verbs, struct control_client *client) {
	for (struct session_waiter **p = &verbs->waiters; *p != NULL; p = &(*p)->next) {
		if ((*p)->client == client) {
			struct session_waiter *w = *p;
			*p = w->next;
			free(w);
			return; /* a client waits once at a time */
		}
	}
}

static bool is_waiting(const struct control_verbs *verbs, const struct control_client *client) {
	for (const struct session_waiter *w = verbs->waiters; w != NULL; w = w->next) {
		if (w->client == client) {
			return true;
		}
	}
	return false;
}

void control_verbs_session_left(const struct session *s, const char *seat,
	enum session_end why, void *data) {
	struct control_verbs *verbs = data;
	answer_waiters(verbs, s, seat, why);
	if (why == SESSION_END_MOVED) {
		broadcast_session(verbs, "move", &s->record, s->record.seat, seat, NULL);
	} else {
		broadcast_session(verbs, "logout", &s->record, seat, NULL, session_end_name(why));
	}
}

/* A seat the daemon has; otherwise the client hears which. */
static bool seat_is_known(struct control_verbs *verbs, const char *seat) {
	enum seat_origin origin;
	return seat != NULL && seat_name_is_valid(seat) &&
	       seats_find(verbs->seats, verbs->devices, seat, &origin);
}

static int refuse_seat(struct control_client *client, const char *seat) {
	char message[128];
	if (seat == NULL) {
		return send_error(client, "missing seat");
	}
	snprintf(message, sizeof(message), "unknown seat \"%.64s\"", seat);
	return send_error(client, message);
}

/* Whether seat has a session; if so the client heard whose, and *status is the reply's. */
static bool seat_is_taken(struct control_verbs *verbs, struct control_client *client,
	const char *seat, int *status) {
	const struct session *other = sessions_find(verbs->sessions, seat);
	if (other == NULL) {
		return false;
	}
	char message[512];
	snprintf(message, sizeof(message), "seat %s already has a session: %s's, in %s", seat,
		other->record.user, other->record.container);
	*status = send_error(client, message);
	return true;
}

int verb_login(struct control_verbs *verbs, struct control_client *client,
	const struct control_record *request) {
	const char *seat = control_record_get(request, "seat");
	const char *user = control_record_get(request, "user");
	const char *uid_text = control_record_get(request, "uid");
	const char *container = control_record_get(request, "container");
	char message[512];
	int status;
	uid_t uid;
	if (seat == NULL || user == NULL || uid_text == NULL || container == NULL) {
		return send_error(client, "usage: login seat=SEAT user=USER uid=UID "
					  "container=CONTAINER");
	}
	if (!session_user_is_valid(user)) {
		return send_error(client, "invalid user name: letters, digits, _, ., @ or -, not "
					  "first -, at most 32 characters");
	}
	if (session_parse_uid(uid_text, &uid) == -1) {
		return send_error(client, "invalid uid: a number from 0 to 4294967294");
	}
	if (!container_name_is_valid(container)) {
		return send_error(client, "invalid container name: letters, digits, _, . or -, "
					  "at most 64 characters");
	}
	if (!seat_is_known(verbs, seat)) {
		return refuse_seat(client, seat);
	}
	if (seat_is_taken(verbs, client, seat, &status)) {
		return status;
	}
	const struct session *other = sessions_find_user(verbs->sessions, user);
	if (other != NULL) {
		snprintf(message, sizeof(message), "%s already has a session on seat %s", user,
			other->record.seat);
		return send_error(client, message);
	}
	struct session *s = sessions_login(verbs->sessions, seat, user, uid, container);
	if (s == NULL) {
		snprintf(message, sizeof(message), "cannot record the session: %s",
			strerror(errno));
		return send_error(client, message);
	}
	broadcast_session(verbs, "login", &s->record, seat, NULL, NULL);
	snprintf(message, sizeof(message), "%s logged in on %s in %s", user, seat, container);
	return send_done(client, message);
}

int verb_login_leader(struct control_verbs *verbs, struct control_client *client,
	const struct control_record *request) {
	const char *seat = control_record_get(request, "seat");
	const char *pid_text = control_record_get(request, "pid");
	const char *start_text = control_record_get(request, "start_time");
	char message[512];
	pid_t pid;
	unsigned long long start_time;
	if (seat == NULL || pid_text == NULL || start_text == NULL) {
		return send_error(client, "usage: login-leader seat=SEAT pid=PID start_time=TICKS");
	}
	if (session_parse_leader(pid_text, start_text, &pid, &start_time) == -1) {
		return send_error(client, "invalid pid or start time");
	}
	struct session *s = sessions_find(verbs->sessions, seat);
	if (s == NULL) {
		snprintf(message, sizeof(message), "seat %.64s has no session", seat);
		return send_error(client, message);
	}
	if (sessions_set_leader(verbs->sessions, s, pid, start_time) == -1) {
		const char *why = errno == EBUSY    ? "the session has a leader already"
				  : errno == ENOENT ? "its container is not registered"
				  : errno == ESRCH  ? "no such process"
				  : errno == ESTALE ? "the process has another start time"
				  : errno == EXDEV  ? "the process is not in the session's container"
						    : strerror(errno);
		snprintf(message, sizeof(message), "cannot make pid %d the leader of %s's session "
			 "on %s: %s", (int)pid, s->record.user, seat, why);
		return send_error(client, message);
	}
	snprintf(message, sizeof(message), "pid %d leads %s's session on %s", (int)pid,
		s->record.user, seat);
	return send_done(client, message);
}

int verb_logout(struct control_verbs *verbs, struct control_client *client, const char *seat) {
	char message[512];
	if (seat == NULL) {
		return send_error(client, "usage: logout seat=SEAT");
	}
	struct session *s = sessions_find(verbs->sessions, seat);
	if (s == NULL) {
		snprintf(message, sizeof(message), "seat %.64s has no session", seat);
		return send_error(client, message);
	}
	snprintf(message, sizeof(message), "%s logged out of %s", s->record.user, seat);
	sessions_end(verbs->sessions, s, SESSION_END_LOGOUT);
	return send_done(client, message);
}

int verb_sessions(struct control_verbs *verbs, struct control_client *client) {
	for (const struct session *s = verbs->sessions->list; s != NULL; s = s->next) {
		const struct session_record *r = &s->record;
		struct control_builder b;
		control_builder_init(&b, "session");
		control_builder_add(&b, "seat", r->seat);
		control_builder_add(&b, "user", r->user);
		control_builder_addf(&b, "uid", "%u", (unsigned)r->uid);
		control_builder_add(&b, "container", r->container);
		if (s->leader_pidfd != -1) {
			control_builder_addf(&b, "leader", "%d", (int)r->leader);
		}
		control_builder_add(&b, "state", s->leader_pidfd != -1 ? "active" : "starting");
		control_builder_addf(&b, "since", "%lld", r->since);
		if (!b.overflow && control_client_send(client, &b) == -1) {
			return -1;
		}
	}
	return send_end(client);
}

int verb_wait_session(struct control_verbs *verbs, struct control_client *client,
	const char *seat) {
	char message[128];
	if (seat == NULL) {
		return send_error(client, "usage: wait-session seat=SEAT");
	}
	const struct session *s = sessions_find(verbs->sessions, seat);
	if (s == NULL) {
		snprintf(message, sizeof(message), "seat %.64s has no session", seat);
		return send_error(client, message);
	}
	/* A user's session command waits for its own session, not for another's. */
	if (!client->privileged && s->record.uid != client->uid) {
		snprintf(message, sizeof(message), "seat %.64s has no session of yours", seat);
		return send_error(client, message);
	}
	if (is_waiting(verbs, client)) {
		return send_error(client, "this connection waits for a session already");
	}
	struct session_waiter *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return send_error(client, "out of memory");
	}
	w->client = client;
	snprintf(w->seat, sizeof(w->seat), "%s", seat);
	w->next = verbs->waiters;
	verbs->waiters = w;
	return 0; /* answered once the session leaves the seat */
}

int verb_move_session(struct control_verbs *verbs, struct control_client *client,
	const char *from, const char *seat) {
	char message[512];
	if (from == NULL || seat == NULL) {
		return send_error(client, "usage: move-session from=SEAT seat=SEAT");
	}
	int status;
	struct session *s = sessions_find(verbs->sessions, from);
	if (s == NULL) {
		snprintf(message, sizeof(message), "seat %.64s has no session", from);
		return send_error(client, message);
	}
	if (!seat_is_known(verbs, seat)) {
		return refuse_seat(client, seat);
	}
	if (seat_is_taken(verbs, client, seat, &status)) {
		return status;
	}
	if (sessions_move(verbs->sessions, s, seat) == -1) {
		snprintf(message, sizeof(message), "cannot record the move: %s", strerror(errno));
		return send_error(client, message);
	}
	snprintf(message, sizeof(message), "%s's session moved from %s to %s", s->record.user,
		from, seat);
	return send_done(client, message);
}
