#ifndef _SEATD_NS_PAM_DESKTOP_H
#define _SEATD_NS_PAM_DESKTOP_H

#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The user's desktop inside their running container (liblxc's attach): the user's runtime
 * directory made as the container's root, then `/bin/sh -c "exec COMMAND"` as the user (uid
 * and gid as on the host: the container maps them through), in their home, with only the
 * session's environment.
 */

struct lxc_container;

struct desktop_env {
	const char *seat;
	const char *session_id;
	const char *session_type;
};

/*
 * Starts command; *pid is its process as the host sees it (not a child of the caller).
 * Returns 0, or -1 with errno and why filled.
 */
int desktop_start(struct lxc_container *c, const struct passwd *pw, const char *command,
	const struct desktop_env *env, pid_t *pid, char *why, size_t len);

/* /proc/PID/stat's field 22 (the start time in clock ticks), or 0 if pid is gone. */
unsigned long long desktop_start_time(pid_t pid);

#endif
