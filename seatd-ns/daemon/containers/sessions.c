#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "session_leader.h"
#include "sessions.h"

const char *session_end_name(enum session_end why) {
	switch (why) {
	case SESSION_END_LOGOUT:
		return "logout";
	case SESSION_END_EXITED:
		return "exited";
	case SESSION_END_MOVED:
		return "moved";
	case SESSION_END_CONTAINER:
		return "container";
	}
	return "unknown";
}

int sessions_init(struct sessions *sessions, const char *run_dir, struct poller *poller,
	struct desktops *desktops) {
	*sessions = (struct sessions){.poller = poller, .desktops = desktops};
	if (asprintf(&sessions->path, "%s/sessions", run_dir) == -1) {
		sessions->path = NULL;
		return -1;
	}
	return 0;
}

void sessions_set_left(struct sessions *sessions, sessions_left_fn fn, void *data) {
	sessions->left = fn;
	sessions->left_data = data;
}

/* Forgets s in memory only: its leader's pidfd is let go. */
static void session_free(struct sessions *sessions, struct session *s) {
	if (s->leader_pidfd != -1) {
		poller_remove(sessions->poller, &s->leader_source);
		close(s->leader_pidfd);
	}
	free(s);
}

void sessions_finish(struct sessions *sessions) {
	while (sessions->list != NULL) {
		struct session *s = sessions->list;
		sessions->list = s->next;
		session_free(sessions, s);
	}
	free(sessions->path);
}

/* Writes the file from the list; 0, or -1 with errno (the file is unchanged). */
static int save(struct sessions *sessions) {
	size_t n = 0;
	for (const struct session *s = sessions->list; s != NULL; s = s->next) {
		n++;
	}
	struct session_record *records = calloc(n + 1, sizeof(*records));
	if (records == NULL) {
		return -1;
	}
	n = 0;
	for (const struct session *s = sessions->list; s != NULL; s = s->next) {
		records[n++] = s->record;
	}
	int r = session_file_save(sessions->path, records, n);
	int saved = errno;
	free(records);
	errno = saved;
	return r;
}

/* A change already made in memory: a file that cannot follow costs only the next restart. */
static void save_or_log(struct sessions *sessions) {
	if (save(sessions) == -1) {
		log_errorf("cannot save %s: %s; a restart will forget the sessions",
			sessions->path, strerror(errno));
	}
}

struct session *sessions_find(const struct sessions *sessions, const char *seat) {
	for (struct session *s = sessions->list; s != NULL; s = s->next) {
		if (strcmp(s->record.seat, seat) == 0) {
			return s;
		}
	}
	return NULL;
}

struct session *sessions_find_user(const struct sessions *sessions, const char *user) {
	for (struct session *s = sessions->list; s != NULL; s = s->next) {
		if (strcmp(s->record.user, user) == 0) {
			return s;
		}
	}
	return NULL;
}

static void unlink_session(struct sessions *sessions, struct session *s) {
	for (struct session **p = &sessions->list; *p != NULL; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			return;
		}
	}
}

void sessions_end(struct sessions *sessions, struct session *s, enum session_end why) {
	unlink_session(sessions, s);
	save_or_log(sessions);
	log_infof("session of %s on %s ended (%s)", s->record.user, s->record.seat,
		session_end_name(why));
	if (sessions->left != NULL) {
		sessions->left(s, s->record.seat, why, sessions->left_data);
	}
	session_free(sessions, s);
}

static int leader_exited(int fd, uint32_t events, void *data) {
	struct session *s = data;
	sessions_end(s->sessions, s, SESSION_END_EXITED);
	return 0;
}

/* Holds the leader of s (its record names it) and watches it; 0, or -1 with errno. */
static int watch_leader(struct sessions *sessions, struct session *s) {
	struct desktop *d = desktops_find(sessions->desktops, s->record.container);
	if (d == NULL) {
		errno = ENOENT;
		return -1;
	}
	int pidfd = session_leader_open(s->record.leader, s->record.leader_start_time,
		&d->container);
	if (pidfd == -1) {
		return -1;
	}
	if (poller_add(sessions->poller, &s->leader_source, pidfd, EPOLLIN, leader_exited, s) ==
		-1) {
		int saved = errno;
		close(pidfd);
		errno = saved;
		return -1;
	}
	s->leader_pidfd = pidfd;
	return 0;
}

static struct session *session_new(struct sessions *sessions,
	const struct session_record *record) {
	struct session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->record = *record;
	s->leader_pidfd = -1;
	s->sessions = sessions;
	return s;
}

/* Appends s: the list keeps the order of the logins. */
static void append(struct sessions *sessions, struct session *s) {
	struct session **p = &sessions->list;
	while (*p != NULL) {
		p = &(*p)->next;
	}
	*p = s;
}

struct session *sessions_login(struct sessions *sessions, const char *seat, const char *user,
	uid_t uid, const char *container) {
	struct session_record r = {.uid = uid, .since = (long long)time(NULL)};
	snprintf(r.seat, sizeof(r.seat), "%s", seat);
	snprintf(r.user, sizeof(r.user), "%s", user);
	snprintf(r.container, sizeof(r.container), "%s", container);
	struct session *s = session_new(sessions, &r);
	if (s == NULL) {
		return NULL;
	}
	append(sessions, s);
	if (save(sessions) == -1) {
		int saved = errno;
		unlink_session(sessions, s);
		session_free(sessions, s);
		errno = saved;
		return NULL;
	}
	log_infof("session of %s (uid %u) on %s in container %s", user, (unsigned)uid, seat,
		container);
	return s;
}

int sessions_set_leader(struct sessions *sessions, struct session *s, pid_t pid,
	unsigned long long start_time) {
	if (s->leader_pidfd != -1) {
		errno = EBUSY;
		return -1;
	}
	s->record.leader = pid;
	s->record.leader_start_time = start_time;
	if (watch_leader(sessions, s) == -1) {
		goto fail;
	}
	if (save(sessions) == -1) {
		int saved = errno;
		poller_remove(sessions->poller, &s->leader_source);
		close(s->leader_pidfd);
		s->leader_pidfd = -1;
		errno = saved;
		goto fail;
	}
	log_infof("session of %s on %s: leader pid %d", s->record.user, s->record.seat,
		(int)pid);
	return 0;

fail:
	s->record.leader = 0;
	s->record.leader_start_time = 0;
	return -1;
}

int sessions_move(struct sessions *sessions, struct session *s, const char *seat) {
	char from[SEAT_NAME_MAX + 1];
	snprintf(from, sizeof(from), "%s", s->record.seat);
	snprintf(s->record.seat, sizeof(s->record.seat), "%s", seat);
	if (save(sessions) == -1) {
		int saved = errno;
		snprintf(s->record.seat, sizeof(s->record.seat), "%s", from);
		errno = saved;
		return -1;
	}
	log_infof("session of %s moved from %s to %s", s->record.user, from, seat);
	if (sessions->left != NULL) {
		sessions->left(s, from, SESSION_END_MOVED, sessions->left_data);
	}
	return 0;
}

void sessions_container_gone(const char *container, void *data) {
	struct sessions *sessions = data;
	struct session *s = sessions->list;
	while (s != NULL) {
		struct session *next = s->next;
		if (strcmp(s->record.container, container) == 0) {
			sessions_end(sessions, s, SESSION_END_CONTAINER);
		}
		s = next;
	}
}

int sessions_restore(struct sessions *sessions) {
	struct session_record *records;
	size_t n;
	if (session_file_load(sessions->path, &records, &n) == -1) {
		return -1;
	}
	int kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct session_record *r = &records[i];
		struct session *s = session_new(sessions, r);
		if (s == NULL) {
			free(records);
			return -1;
		}
		/* Without a leader yet, it was being started: it stays while its container runs. */
		int ok = r->leader != 0 ? watch_leader(sessions, s)
					: (desktops_find(sessions->desktops, r->container) ? 0 : -1);
		if (ok == -1) {
			log_infof("session of %s on %s dropped: its %s no longer runs", r->user,
				r->seat, r->leader != 0 ? "leader" : "container");
			session_free(sessions, s);
			continue;
		}
		append(sessions, s);
		kept++;
	}
	free(records);
	save_or_log(sessions);
	return kept;
}
