#ifndef _SEATD_NS_SESSION_FILE_H
#define _SEATD_NS_SESSION_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"

/*
 * The login sessions, kept in RUN_DIR/sessions so that a daemon started again keeps them
 * (sessions.h). One session a line, fields separated by spaces:
 *   SEAT USER UID CONTAINER SINCE [LEADER_PID LEADER_START_TIME]
 * SINCE in unix seconds; the leader, once the session has one, is known by its pid and its
 * start time (/proc/PID/stat, field 22), which a reused pid cannot have. Written whole after
 * every change.
 */

#define SESSION_USER_MAX 32

struct session_record {
	char seat[SEAT_NAME_MAX + 1];
	char user[SESSION_USER_MAX + 1];
	uid_t uid;
	char container[CONTAINER_NAME_MAX + 1];
	long long since;
	pid_t leader; /* 0: none yet */
	unsigned long long leader_start_time;
};

/* A user name as the login programs allow it: [A-Za-z0-9_.@-], not first "-", 1 to 32. */
bool session_user_is_valid(const char *name);
/* A uid in decimal, 0 to 4294967294 ((uid_t)-1 is no one); 0 or -1 with EINVAL. */
int session_parse_uid(const char *text, uid_t *uid);
/* A pid in decimal, 2 to 4194304, and a start time, 1 or more; 0 or -1 with EINVAL. */
int session_parse_leader(const char *pid_text, const char *start_text, pid_t *pid,
	unsigned long long *start_time);

/*
 * Parses the file's text: the sessions of the lines that parse, in *out (free it), their count
 * in *n. A line that does not parse, or names a seat or a user a line before it has, is logged
 * as "path:line: message" and skipped. 0, or -1 with ENOMEM.
 */
int session_file_parse(const char *path, const char *text, size_t len,
	struct session_record **out, size_t *n);
/* Reads and parses path (a missing file has none); 0, or -1 with errno. */
int session_file_load(const char *path, struct session_record **out, size_t *n);
/* Writes the n sessions to path atomically; 0, or -1 with errno (path is unchanged). */
int session_file_save(const char *path, const struct session_record *records, size_t n);

#endif
