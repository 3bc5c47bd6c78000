#ifndef _SEATD_NS_SESSIONS_H
#define _SEATD_NS_SESSIONS_H

#include <sys/types.h>

#include "desktops.h"
#include "poller.h"
#include "session_file.h"

/*
 * Login sessions: who is logged in on which seat, in which container (a PAM module records
 * them through the control socket). A seat has at most one session, a user at most one. A
 * session starts without a leader; once the PAM module has started the desktop it names the
 * desktop's process, its leader, held by a pidfd: the session ends when the leader exits,
 * when its container goes (unregistered or exited), or when it is logged out. The sessions
 * are kept in RUN_DIR/sessions (session_file.h); a daemon started again keeps those whose
 * leader still runs, the same process by its start time.
 */

enum session_end {
	SESSION_END_LOGOUT,    /* logged out */
	SESSION_END_EXITED,    /* its leader exited */
	SESSION_END_MOVED,     /* it went to another seat: not an end, for that seat's waiters */
	SESSION_END_CONTAINER, /* its container was unregistered or exited */
};

const char *session_end_name(enum session_end why);

struct session {
	struct session *next;
	struct session_record record;
	int leader_pidfd; /* -1 until it has a leader */
	struct poller_source leader_source;
	struct sessions *sessions;
};

/*
 * A session left seat: it ended (why), or it moved (SESSION_END_MOVED; s->record.seat is the
 * new seat). The listener tells whoever waits; s is freed after it returns, unless it moved.
 */
typedef void (*sessions_left_fn)(const struct session *s, const char *seat,
	enum session_end why, void *data);

struct sessions {
	struct session *list;
	char *path; /* RUN_DIR/sessions */
	struct poller *poller;
	struct desktops *desktops;
	sessions_left_fn left;
	void *left_data;
};

int sessions_init(struct sessions *sessions, const char *run_dir, struct poller *poller,
	struct desktops *desktops);
/* The daemon exits: the sessions stay in the file for the next one; only memory is freed. */
void sessions_finish(struct sessions *sessions);
void sessions_set_left(struct sessions *sessions, sessions_left_fn fn, void *data);

/*
 * Reads back the sessions an earlier daemon recorded (after the desktops are re-adopted): a
 * session whose leader no longer runs (or runs outside its container, which is not
 * registered any more) is dropped with a log line. Returns how many are kept, or -1 with errno
 * when the file cannot be read.
 */
int sessions_restore(struct sessions *sessions);

struct session *sessions_find(const struct sessions *sessions, const char *seat);
struct session *sessions_find_user(const struct sessions *sessions, const char *user);

/*
 * Records a session of user (uid) on seat in container; the caller checked the seat is free
 * and the user has no session. Returns it, or NULL with errno (ENOMEM, or the file's: nothing
 * is recorded).
 */
struct session *sessions_login(struct sessions *sessions, const char *seat, const char *user,
	uid_t uid, const char *container);
/*
 * Makes process pid (started at start_time) the leader of s. 0, or -1 with errno: EBUSY (s
 * has a leader), ENOENT (s's container is not registered), and session_leader_open's ESRCH,
 * ESTALE and EXDEV.
 */
int sessions_set_leader(struct sessions *sessions, struct session *s, pid_t pid,
	unsigned long long start_time);
/* Ends s (freed after the left listener heard of it). */
void sessions_end(struct sessions *sessions, struct session *s, enum session_end why);
/* Moves s to seat (free: the caller checked). 0, or -1 with ENOMEM. */
int sessions_move(struct sessions *sessions, struct session *s, const char *seat);
/* A container was unregistered or exited: its sessions end (a desktops_gone_fn). */
void sessions_container_gone(const char *container, void *data);

#endif
