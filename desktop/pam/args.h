#ifndef _SEATD_NS_PAM_ARGS_H
#define _SEATD_NS_PAM_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The module's arguments (pam_seatd_ns(8)): seat=SEAT container=PATTERN template=NAME
 * after-logout=keep|stop desktop=COMMAND socket=PATH lxcpath=PATH debug.
 */

#define PAM_ARGS_DEFAULT_CONTAINER "desktop-%u"
#define PAM_ARGS_TEMPLATE_FILE "/etc/seatd-ns/desktop-template"
#define PAM_ARGS_DEFAULT_DESKTOP "/etc/seatd-ns/desktop"

struct pam_args {
	const char *seat;      /* NULL: not given */
	const char *container; /* the pattern */
	const char *template;  /* NULL: PAM_ARGS_TEMPLATE_FILE's content, if any */
	const char *desktop;   /* run in the container with /bin/sh -c */
	const char *socket;    /* NULL: the daemon's default */
	const char *lxcpath;   /* NULL: LXC's default */
	bool stop_after_logout;
	bool debug;
};

/*
 * Parses argv (what the PAM service's line gives). Returns 0, or -1 with errno EINVAL and
 * why filled for an argument it does not know or a bad value.
 */
int pam_args_parse(struct pam_args *args, int argc, const char **argv, char *why, size_t len);

/*
 * The container's name for user (uid): the pattern with %u the user's name, %U the uid and
 * %% a "%". Returns 0, or -1 with errno EINVAL (unknown %, or a name LXC would refuse:
 * empty, "/", longer than out) and why filled.
 */
int pam_args_container_name(const char *pattern, const char *user, unsigned uid, char *out,
	size_t size, char *why, size_t len);

/*
 * The template to clone: args->template, else the first line of PAM_ARGS_TEMPLATE_FILE
 * (file, for tests: NULL is that). Returns 1 with the name in out, 0 if there is none, -1
 * with errno (the file cannot be read, or the name is too long).
 */
int pam_args_template(const struct pam_args *args, const char *file, char *out, size_t size);

#endif
