/*
 * pam_seatd_ns: a PAM session module for a display manager that runs on the host, one
 * instance per seat (pam_seatd_ns(8), README.md). open_session gives the user's desktop
 * container the seat: it claims the seat for the user's login with seatd-ns, makes the
 * container from the template on the first login, starts it, attaches it to the seat and
 * switches the seat to it, and starts the desktop inside as the user. A user logged in on
 * another seat gets their running desktop moved to this one instead. close_session logs
 * out and gives the seat back to the container it had before (the greeter's).
 */
#include <errno.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "args.h"
#include "control_client.h"
#include "desktop.h"
#include "user_container.h"

#define DATA_NAME "pam_seatd_ns"
/* seatd-ns-logind's session (desktop/logind): one a container. */
#define SESSION_ID "c1"
#define SESSION_TYPE "wayland"

/* What close_session needs to know of open_session's login (pam_set_data). */
struct login_data {
	char seat[64];
	char container[128];
	char greeter[128]; /* the seat's active container before the login, or "" */
};

struct login {
	pam_handle_t *pamh;
	struct pam_args args;
	const char *user;
	struct passwd pw;
	char pwbuf[4096];
	struct login_data data;
	struct seatd_ns_client client;
	char why[1024];
	/* What this login did, undone if it fails. */
	bool logged_in, attached;
	struct user_container uc;
	pid_t leader;
};

static void say(struct login *l, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct login *l, int priority, const char *fmt, ...) {
	char message[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	pam_syslog(l->pamh, priority, "%s", message);
	if (priority <= LOG_ERR) {
		pam_error(l->pamh, "%s", message);
	}
}

/* The seat: seat=, else the instance's SEATD_NS_SEAT, else XDG_SEAT unless it is seat0. */
static const char *find_seat(struct login *l) {
	if (l->args.seat != NULL) {
		return l->args.seat;
	}
	const char *seat = getenv("SEATD_NS_SEAT");
	if (seat != NULL && seat[0] != '\0') {
		return seat;
	}
	seat = pam_getenv(l->pamh, "XDG_SEAT");
	if (seat != NULL && seat[0] != '\0' && strcmp(seat, "seat0") != 0) {
		return seat;
	}
	return NULL;
}

/* Everything both calls start with. Returns PAM_SUCCESS or the error to return. */
static int setup(struct login *l, pam_handle_t *pamh, int argc, const char **argv) {
	memset(l, 0, sizeof(*l));
	l->pamh = pamh;
	l->client = (struct seatd_ns_client){.why = l->why, .why_len = sizeof(l->why)};
	if (pam_args_parse(&l->args, argc, argv, l->why, sizeof(l->why)) == -1) {
		say(l, LOG_ERR, "pam_seatd_ns: %s", l->why);
		return PAM_SESSION_ERR;
	}
	l->client.socket = l->args.socket;
	if (pam_get_user(pamh, &l->user, NULL) != PAM_SUCCESS || l->user == NULL) {
		say(l, LOG_ERR, "pam_seatd_ns: no user");
		return PAM_SESSION_ERR;
	}
	struct passwd *found = NULL;
	int r = getpwnam_r(l->user, &l->pw, l->pwbuf, sizeof(l->pwbuf), &found);
	if (found == NULL) {
		say(l, LOG_ERR, "pam_seatd_ns: unknown user %s%s%s", l->user, r != 0 ? ": " : "",
			r != 0 ? strerror(r) : "");
		return PAM_SESSION_ERR;
	}
	const char *seat = find_seat(l);
	if (seat == NULL) {
		say(l, LOG_ERR, "pam_seatd_ns: no seat for %s's session: give seat=SEAT, or "
			"SEATD_NS_SEAT in the display manager's environment", l->user);
		return PAM_SESSION_ERR;
	}
	snprintf(l->data.seat, sizeof(l->data.seat), "%s", seat);
	if (pam_args_container_name(l->args.container, l->user, (unsigned)l->pw.pw_uid,
		l->data.container, sizeof(l->data.container), l->why, sizeof(l->why)) == -1) {
		say(l, LOG_ERR, "pam_seatd_ns: %s", l->why);
		return PAM_SESSION_ERR;
	}
	if (l->args.debug) {
		pam_syslog(pamh, LOG_DEBUG, "%s: seat %s, container %s", l->user, l->data.seat,
			l->data.container);
	}
	return PAM_SUCCESS;
}

/* Switches seat to container, if it is attached there and not active already. */
static void switch_to(struct login *l, const char *seat, const char *container) {
	struct client_seat info;
	if (container[0] == '\0' || client_get_seat(&l->client, seat, &info) == -1 ||
		!client_list_has(info.containers, container) || strcmp(info.active, container) == 0) {
		return;
	}
	if (client_do(&l->client, "switch", "seat", seat, "container", container, NULL) == -1) {
		say(l, LOG_WARNING, "cannot switch %s back to %s: %s", seat, container, l->why);
	}
}

/*
 * Gives seat back: the user's container detached from it (the first other container
 * attached, the seat's own, gets it), then switched to greeter if that is another one.
 */
static void give_back(struct login *l, const char *seat, const char *greeter) {
	struct client_seat info;
	if (client_get_seat(&l->client, seat, &info) == 0 &&
		client_list_has(info.containers, l->data.container) &&
		client_do(&l->client, "detach", "seat", seat, "container", l->data.container,
			NULL) == -1) {
		say(l, LOG_WARNING, "cannot detach %s from %s: %s", l->data.container, seat, l->why);
	}
	if (greeter != NULL && strcmp(greeter, l->data.container) != 0) {
		switch_to(l, seat, greeter);
	}
}

/* Attaches the container to seat and switches the seat to it. */
static int take_seat(struct login *l, const char *seat) {
	struct client_seat info;
	if (client_get_seat(&l->client, seat, &info) == -1) {
		return -1;
	}
	if (!client_list_has(info.containers, l->data.container)) {
		if (client_do(&l->client, "attach", "seat", seat, "container", l->data.container,
			NULL) == -1) {
			return -1;
		}
		l->attached = true;
	}
	return client_do(&l->client, "switch", "seat", seat, "container", l->data.container, NULL);
}

static int put_env(struct login *l) {
	char vars[4][256];
	snprintf(vars[0], sizeof(vars[0]), "XDG_SEAT=%s", l->data.seat);
	snprintf(vars[1], sizeof(vars[1]), "XDG_SESSION_ID=%s", SESSION_ID);
	snprintf(vars[2], sizeof(vars[2]), "XDG_SESSION_TYPE=%s", SESSION_TYPE);
	snprintf(vars[3], sizeof(vars[3]), "SEATD_NS_CONTAINER=%s", l->data.container);
	for (size_t i = 0; i < 4; i++) {
		if (pam_putenv(l->pamh, vars[i]) != PAM_SUCCESS) {
			return -1;
		}
	}
	return 0;
}

static void free_data(pam_handle_t *pamh, void *data, int status) {
	free(data);
}

static int keep_data(struct login *l) {
	struct login_data *copy = malloc(sizeof(*copy));
	if (copy == NULL) {
		return -1;
	}
	*copy = l->data;
	if (pam_set_data(l->pamh, DATA_NAME, copy, free_data) != PAM_SUCCESS) {
		free(copy);
		return -1;
	}
	return 0;
}

/* Follow me: the user's desktop, running on seat from, comes to this login's seat. */
static int move_here(struct login *l, const struct client_session *s) {
	const char *seat = l->data.seat;
	if (client_do(&l->client, "detach", "seat", s->seat, "container", s->container,
		NULL) == -1) {
		say(l, LOG_ERR, "cannot move %s's desktop from %s: %s", l->user, s->seat, l->why);
		return PAM_SESSION_ERR;
	}
	if (take_seat(l, seat) == -1 ||
		client_do(&l->client, "move-session", "from", s->seat, "seat", seat, NULL) == -1) {
		say(l, LOG_ERR, "cannot move %s's desktop from %s to %s: %s", l->user, s->seat, seat,
			l->why);
		/* Back where it was: its session is still recorded there. */
		give_back(l, seat, l->data.greeter);
		if (client_do(&l->client, "attach", "seat", s->seat, "container", s->container,
			NULL) == 0) {
			switch_to(l, s->seat, s->container);
		}
		return PAM_SESSION_ERR;
	}
	if (put_env(l) == -1 || keep_data(l) == -1) {
		say(l, LOG_ERR, "pam_seatd_ns: out of memory");
		return PAM_SESSION_ERR;
	}
	say(l, LOG_INFO, "%s's desktop %s moved from %s to %s", l->user, s->container, s->seat,
		seat);
	return PAM_SUCCESS;
}

/* The container exists and runs (made from the template on the first login). */
static int bring_up_container(struct login *l) {
	if (user_container_open(&l->uc, l->data.container, l->args.lxcpath, l->why,
		sizeof(l->why)) == -1) {
		return -1;
	}
	if (!user_container_exists(&l->uc)) {
		char template[256];
		int r = pam_args_template(&l->args, NULL, template, sizeof(template));
		if (r == -1) {
			snprintf(l->why, sizeof(l->why), "%s has no container %s, and %s cannot be read: %s",
				l->user, l->data.container, PAM_ARGS_TEMPLATE_FILE, strerror(errno));
			return -1;
		}
		if (r == 0) {
			snprintf(l->why, sizeof(l->why), "%s has no container %s, and there is no "
				"template to make it from (template=, %s)", l->user, l->data.container,
				PAM_ARGS_TEMPLATE_FILE);
			errno = ENOENT;
			return -1;
		}
		if (user_container_create(&l->uc, template, &l->pw, l->why, sizeof(l->why)) == -1) {
			return -1;
		}
		say(l, LOG_INFO, "made %s's container %s from %s", l->user, l->data.container,
			template);
	}
	return user_container_start(&l->uc, l->why, sizeof(l->why));
}

/* Undoes what l did, newest first. */
static void undo(struct login *l) {
	if (l->leader > 0) {
		kill(l->leader, SIGKILL);
	}
	if (l->logged_in &&
		client_do(&l->client, "logout", "seat", l->data.seat, NULL) == -1) {
		say(l, LOG_WARNING, "cannot log %s out of %s: %s", l->user, l->data.seat, l->why);
	}
	if (l->attached || l->logged_in) {
		give_back(l, l->data.seat, l->data.greeter);
	}
	if (l->uc.c != NULL) {
		if (l->uc.created) {
			user_container_destroy(&l->uc);
		} else if (l->uc.started) {
			user_container_stop(&l->uc);
		}
	}
}

static int open_session(struct login *l) {
	const char *seat = l->data.seat;
	struct client_seat info;
	if (client_get_seat(&l->client, seat, &info) == -1) {
		goto fail;
	}
	if (!info.found) {
		snprintf(l->why, sizeof(l->why), "seatd-ns has no seat %s", seat);
		goto fail;
	}
	snprintf(l->data.greeter, sizeof(l->data.greeter), "%s", info.active);

	struct client_session s;
	int found = client_find_session(&l->client, true, l->user, &s);
	if (found == -1) {
		goto fail;
	}
	if (found == 1 && strcmp(s.seat, seat) != 0) {
		return move_here(l, &s);
	}
	/* The daemon refuses a seat with a session: the message names its user. */
	char uid[16];
	snprintf(uid, sizeof(uid), "%u", (unsigned)l->pw.pw_uid);
	if (client_do(&l->client, "login", "seat", seat, "user", l->user, "uid", uid,
		"container", l->data.container, NULL) == -1) {
		goto fail;
	}
	l->logged_in = true;
	if (bring_up_container(l) == -1) {
		goto fail;
	}
	if (take_seat(l, seat) == -1) {
		goto fail;
	}
	struct desktop_env env = {.seat = seat, .session_id = SESSION_ID,
		.session_type = SESSION_TYPE};
	if (desktop_start(user_container_lxc(&l->uc), &l->pw, l->args.desktop, &env, &l->leader,
		l->why, sizeof(l->why)) == -1) {
		goto fail;
	}
	char pid[16], start_time[32];
	unsigned long long started = desktop_start_time(l->leader);
	snprintf(pid, sizeof(pid), "%d", (int)l->leader);
	snprintf(start_time, sizeof(start_time), "%llu", started);
	if (started == 0) {
		snprintf(l->why, sizeof(l->why), "the desktop (%s) exited at once", l->args.desktop);
		goto fail;
	}
	if (client_do(&l->client, "login-leader", "seat", seat, "pid", pid, "start_time",
		start_time, NULL) == -1) {
		goto fail;
	}
	if (put_env(l) == -1 || keep_data(l) == -1) {
		snprintf(l->why, sizeof(l->why), "out of memory");
		goto fail;
	}
	say(l, LOG_INFO, "%s logged in on %s in %s (desktop pid %d)", l->user, seat,
		l->data.container, (int)l->leader);
	user_container_close(&l->uc);
	return PAM_SUCCESS;
fail:
	say(l, LOG_ERR, "cannot log %s in on %s: %s", l->user, seat, l->why);
	undo(l);
	user_container_close(&l->uc);
	return PAM_SESSION_ERR;
}

/* The module's entry points: fn on this call's arguments and state. */
static int with_login(pam_handle_t *pamh, int argc, const char **argv,
	int (*fn)(struct login *l)) {
	struct login *l = malloc(sizeof(*l));
	if (l == NULL) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	int r = setup(l, pamh, argc, argv);
	if (r == PAM_SUCCESS) {
		r = fn(l);
	}
	free(l);
	return r;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	return with_login(pamh, argc, argv, open_session);
}

/* Logs the user's session on the seat out, ends its desktop, stops the container. */
static void log_out(struct login *l, const struct client_session *s) {
	if (client_do(&l->client, "logout", "seat", s->seat, NULL) == -1) {
		say(l, LOG_WARNING, "cannot log %s out of %s: %s", l->user, s->seat, l->why);
	}
	if (s->leader > 0) {
		kill(s->leader, SIGTERM);
	}
}

static int close_session(struct login *l) {
	const struct login_data *kept = NULL;
	if (pam_get_data(l->pamh, DATA_NAME, (const void **)&kept) == PAM_SUCCESS && kept != NULL) {
		l->data = *kept;
	}
	const char *seat = l->data.seat;
	struct client_session s;
	int on_seat = client_find_session(&l->client, false, seat, &s);
	if (on_seat == -1) {
		say(l, LOG_ERR, "cannot log %s out of %s: %s", l->user, seat, l->why);
		return PAM_SESSION_ERR;
	}
	if (on_seat == 1 && strcmp(s.user, l->user) == 0) {
		log_out(l, &s);
	}
	give_back(l, seat, l->data.greeter);
	/* Moved to another seat (follow me): it goes on there. */
	struct client_session elsewhere;
	if (client_find_session(&l->client, true, l->user, &elsewhere) == 1) {
		say(l, LOG_INFO, "%s's desktop went on to %s; %s given back", l->user,
			elsewhere.seat, seat);
		return PAM_SUCCESS;
	}
	if (l->args.stop_after_logout &&
		user_container_open(&l->uc, l->data.container, l->args.lxcpath, l->why,
			sizeof(l->why)) == 0) {
		user_container_stop(&l->uc);
		user_container_close(&l->uc);
	}
	say(l, LOG_INFO, "%s logged out of %s", l->user, seat);
	return PAM_SUCCESS;
}

int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	return with_login(pamh, argc, argv, close_session);
}
