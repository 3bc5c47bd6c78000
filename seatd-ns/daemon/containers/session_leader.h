#ifndef _SEATD_NS_SESSION_LEADER_H
#define _SEATD_NS_SESSION_LEADER_H

#include <sys/types.h>

#include "container.h"

/*
 * The leader of a login session: the desktop's process (host pid), which must run in the
 * session's container: in its init's pid namespace or one nested in it.
 */

/*
 * Takes hold of process pid with a pidfd, and checks, through /proc and then the pidfd (so
 * that a pid reused meanwhile is caught), that it started at start_time and that it runs in
 * container c. Returns the pidfd, or -1 with errno: ESRCH (no such process, or it exited),
 * ESTALE (another process has the pid now), EXDEV (it is not in c).
 */
int session_leader_open(pid_t pid, unsigned long long start_time, const struct container *c);

#endif
