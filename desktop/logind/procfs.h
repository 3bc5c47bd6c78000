#ifndef _SEATD_NS_LOGIND_PROCFS_H
#define _SEATD_NS_LOGIND_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The real uid in the text of a /proc/PID/status file (its "Uid:" line): 0, or -1 with
 * EBADMSG when the text has no valid one. The text need not be NUL-terminated.
 */
int proc_status_uid(const char *text, size_t len, uid_t *uid);

/* The real uid of a process: 0, or -1 with errno (ESRCH when it does not exist). */
int proc_pid_uid(pid_t pid, uid_t *uid);

#endif
