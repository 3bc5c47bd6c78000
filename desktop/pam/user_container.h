#ifndef _SEATD_NS_PAM_USER_CONTAINER_H
#define _SEATD_NS_PAM_USER_CONTAINER_H

#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A user's desktop container, through liblxc: found, or made by cloning the admin's
 * template with the user's uid and gid mapped through 1:1 (so that their home, bound into
 * it, keeps its ownership), started and stopped. Functions return 0, or -1 with errno and
 * why filled.
 */

struct lxc_container;

struct user_container {
	struct lxc_container *c;
	bool created; /* made from the template by this login */
	bool started; /* started by this login */
};

/* The container name in lxcpath (NULL: LXC's default); it need not exist. */
int user_container_open(struct user_container *uc, const char *name, const char *lxcpath,
	char *why, size_t len);
bool user_container_exists(const struct user_container *uc);
bool user_container_running(const struct user_container *uc);

/*
 * Makes the container as a clone of template (in the same lxcpath), its idmap the
 * template's with pw's uid and gid mapped to themselves, pw's home bound at the same path.
 * Nothing is left if it fails.
 */
int user_container_create(struct user_container *uc, const char *template,
	const struct passwd *pw, char *why, size_t len);

/* Starts it unless it runs: once it runs, seatd-ns has registered it (the include's hook). */
int user_container_start(struct user_container *uc, char *why, size_t len);

/* Shuts it down (a few seconds for its init), else kills it. */
void user_container_stop(struct user_container *uc);
/* Stops it and removes it with its rootfs. */
void user_container_destroy(struct user_container *uc);
void user_container_close(struct user_container *uc);

/* For the rest of the module (desktop.c). */
struct lxc_container *user_container_lxc(const struct user_container *uc);

/*
 * idmap (LXC's lxc.idmap lines, one a line) with id mapped to itself for kind 'u' or 'g':
 * the range holding id inside is split around it. Writes the lines to out (size bytes),
 * one a line. Returns 0, or -1 with errno EINVAL (a malformed line, or id's host id
 * already mapped elsewhere) or ENOSPC.
 */
int idmap_map_through(const char *idmap, char kind, unsigned long id, char *out, size_t size);

#endif
