#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_client.h"

typedef void (*reply_fn)(const struct control_record *rec, void *data);

/* Sends request and hands every reply record but "end" to fn. */
static int call(struct seatd_ns_client *c, const struct control_builder *request, reply_fn fn,
	void *data) {
	const char *path = c->socket != NULL ? c->socket : CONTROL_DEFAULT_SOCKET;
	const char *verb = request->buf;
	char *buf = NULL;
	if (request->overflow) {
		snprintf(c->why, c->why_len, "the %s request does not fit a record", verb);
		errno = EMSGSIZE;
		return -1;
	}
	int fd = control_connect(path);
	if (fd == -1) {
		snprintf(c->why, c->why_len, "cannot reach seatd-ns at %s: %s", path, strerror(errno));
		return -1;
	}
	if (send(fd, request->buf, request->len, MSG_NOSIGNAL) == -1) {
		snprintf(c->why, c->why_len, "cannot send %s to seatd-ns: %s", verb, strerror(errno));
		goto fail;
	}
	buf = malloc(CONTROL_MAX_MESSAGE + 1);
	if (buf == NULL) {
		snprintf(c->why, c->why_len, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, CONTROL_MAX_MESSAGE, MSG_TRUNC);
		struct control_record rec;
		if (n <= 0) {
			snprintf(c->why, c->why_len, "seatd-ns did not finish its answer to %s: %s", verb,
				n == 0 ? "connection closed" : strerror(errno));
			errno = n == 0 ? ECONNRESET : errno;
			goto fail;
		}
		if (n > CONTROL_MAX_MESSAGE ||
			control_record_parse(&rec, buf, (size_t)n) == -1) {
			snprintf(c->why, c->why_len, "malformed answer from seatd-ns to %s", verb);
			errno = EPROTO;
			goto fail;
		}
		if (strcmp(rec.type, "end") == 0) {
			break;
		}
		if (strcmp(rec.type, "error") == 0) {
			const char *message = control_record_get(&rec, "message");
			snprintf(c->why, c->why_len, "%s", message != NULL ? message : "refused");
			errno = EPROTO;
			goto fail;
		}
		if (fn != NULL) {
			fn(&rec, data);
		}
	}
	free(buf);
	close(fd);
	return 0;
fail:;
	int saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

int client_do(struct seatd_ns_client *c, const char *verb, ...) {
	struct control_builder b;
	control_builder_init(&b, verb);
	va_list ap;
	va_start(ap, verb);
	const char *key;
	while ((key = va_arg(ap, const char *)) != NULL) {
		control_builder_add(&b, key, va_arg(ap, const char *));
	}
	va_end(ap);
	return call(c, &b, NULL, NULL);
}

static void copy(char *dst, size_t size, const char *src) {
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

struct session_search {
	bool by_user;
	const char *name;
	struct client_session *s;
	int found;
};

static void check_session(const struct control_record *rec, void *data) {
	struct session_search *search = data;
	const char *key = search->by_user ? "user" : "seat";
	const char *value = control_record_get(rec, key);
	if (search->found || strcmp(rec->type, "session") != 0 || value == NULL ||
		strcmp(value, search->name) != 0) {
		return;
	}
	struct client_session *s = search->s;
	copy(s->seat, sizeof(s->seat), control_record_get(rec, "seat"));
	copy(s->user, sizeof(s->user), control_record_get(rec, "user"));
	copy(s->container, sizeof(s->container), control_record_get(rec, "container"));
	const char *leader = control_record_get(rec, "leader");
	s->leader = leader != NULL ? (pid_t)strtol(leader, NULL, 10) : 0;
	search->found = 1;
}

int client_find_session(struct seatd_ns_client *c, bool by_user, const char *name,
	struct client_session *s) {
	struct session_search search = {.by_user = by_user, .name = name, .s = s};
	struct control_builder b;
	control_builder_init(&b, "sessions");
	memset(s, 0, sizeof(*s));
	if (call(c, &b, check_session, &search) == -1) {
		return -1;
	}
	return search.found;
}

struct seat_search {
	const char *name;
	struct client_seat *info;
};

static void check_seat(const struct control_record *rec, void *data) {
	struct seat_search *search = data;
	const char *name = control_record_get(rec, "name");
	if (strcmp(rec->type, "seat") != 0 || name == NULL || strcmp(name, search->name) != 0) {
		return;
	}
	copy(search->info->active, sizeof(search->info->active),
		control_record_get(rec, "container"));
	copy(search->info->containers, sizeof(search->info->containers),
		control_record_get(rec, "containers"));
	search->info->found = true;
}

int client_get_seat(struct seatd_ns_client *c, const char *seat, struct client_seat *info) {
	struct seat_search search = {.name = seat, .info = info};
	struct control_builder b;
	control_builder_init(&b, "seats");
	memset(info, 0, sizeof(*info));
	return call(c, &b, check_seat, &search);
}

bool client_list_has(const char *list, const char *name) {
	size_t n = strlen(name);
	for (const char *p = list; *p != '\0';) {
		size_t word = strcspn(p, " ");
		if (word == n && strncmp(p, name, n) == 0) {
			return true;
		}
		p += word;
		p += strspn(p, " ");
	}
	return false;
}
