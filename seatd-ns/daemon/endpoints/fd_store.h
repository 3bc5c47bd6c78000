#ifndef _SEATD_NS_FD_STORE_H
#define _SEATD_NS_FD_STORE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The service manager's file descriptor store (systemd: FileDescriptorStoreMax=, sd_notify
 * FDSTORE=1), as logind uses it for its sessions' devices: what the daemon puts there while it
 * runs, systemd hands back to the daemon it starts next (LISTEN_FDS, LISTEN_FDNAMES), after
 * `systemctl restart` or a crash. The libseat endpoints keep their clients' connections and
 * the devices given to them there, so that a running compositor keeps both across a restart.
 * Outside systemd (no NOTIFY_SOCKET), or built without libsystemd, nothing is stored.
 *
 * A name is at most FD_STORE_NAME_MAX bytes of printable ASCII without ':' (systemd's rule).
 */

#define FD_STORE_NAME_MAX 255

/* Whether fds put are kept for the next daemon. */
bool fd_store_enabled(void);

/* Puts a copy of fd in the store under name (a name that is there already: replaced). */
void fd_store_put(const char *name, int fd);
/* Takes the fds of that name out of the store. */
void fd_store_remove(const char *name);

/* What the daemon got back at its start: the fds and their names, until claimed. */
struct fd_store_kept {
	size_t n;
	char **names;
	int *fds; /* -1 once claimed */
};

/* Takes what the service manager handed over (none: n is 0). 0, or -1 with errno. */
int fd_store_take_kept(struct fd_store_kept *kept);

/* The name of the first unclaimed fd whose name starts with prefix, from index *i on. */
const char *fd_store_next(const struct fd_store_kept *kept, const char *prefix, size_t *i);
/* Claims the fd at index i: it is the caller's now (it stays in the store). */
int fd_store_claim(struct fd_store_kept *kept, size_t i);

/* Closes and removes from the store what no one claimed (their owners are gone). */
void fd_store_kept_finish(struct fd_store_kept *kept);

#endif
