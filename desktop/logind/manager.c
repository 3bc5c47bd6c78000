#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-login.h>

#include "logind.h"
#include "procfs.h"

#define MANAGER_IFACE "org.freedesktop.login1.Manager"

/*
 * Which processes are the session's. sd-login (sd_pid_get_session, what libseat's logind
 * backend and mutter ask) answers from the process's cgroup alone: a session-ID.scope below
 * the user's slices. A container that puts the session's processes there (its service
 * manager, e.g. systemd-run --scope --unit=session-ID.scope --slice=user-UID.slice, or the
 * PAM module later) gets the same answer here. A process in no session scope belongs to the
 * session when it runs as the session's user: a desktop container has that one session, and
 * Xorg asks only GetSessionByPID, from wherever its launcher started it.
 */
int manager_pid_in_session(struct logind *ld, pid_t pid) {
	char *id = NULL;
	int r = sd_pid_get_session(pid, &id);
	if (r >= 0) {
		bool ours = strcmp(id, ld->session_id) == 0;
		free(id);
		return ours ? 0 : -1;
	}
	uid_t uid;
	if (proc_pid_uid(pid, &uid) == -1 || uid != ld->uid) {
		return -1;
	}
	return 0;
}

static int sender_pid(sd_bus_message *m, pid_t *pid) {
	sd_bus_creds *creds = NULL;
	int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_PID, &creds);
	if (r >= 0) {
		r = sd_bus_creds_get_pid(creds, pid);
	}
	sd_bus_creds_unref(creds);
	return r;
}

/* The session of a process (pid 0: the caller's): 0, or -1 with error set. */
static int session_of_pid(struct logind *ld, sd_bus_message *m, pid_t pid,
	sd_bus_error *error) {
	if (pid == 0) {
		int r = sender_pid(m, &pid);
		if (r < 0) {
			return sd_bus_error_set_errnof(error, -r, "Cannot tell the caller's process");
		}
	}
	if (manager_pid_in_session(ld, pid) == -1) {
		sd_bus_error_setf(error, LOGIND_ERROR_NO_SESSION_FOR_PID,
			"PID %d does not belong to any known session", (int)pid);
		return -1;
	}
	return 0;
}

bool manager_names_self(const char *id) {
	return id[0] == '\0' || strcmp(id, "self") == 0 || strcmp(id, "auto") == 0;
}

bool manager_caller_in_session(struct logind *ld, sd_bus_message *m) {
	pid_t pid;
	return sender_pid(m, &pid) >= 0 && manager_pid_in_session(ld, pid) == 0;
}

/* GetSession and GetSeat: the caller's own, or the one of that id. */
static int reply_by_id(sd_bus_message *m, struct logind *ld, const char *what, const char *id,
	const char *path, const char *error_name, sd_bus_error *error) {
	const char *asked;
	int r = sd_bus_message_read(m, "s", &asked);
	if (r < 0) {
		return r;
	}
	if (manager_names_self(asked)) {
		if (session_of_pid(ld, m, 0, error) == -1) {
			return -ENXIO;
		}
	} else if (strcmp(asked, id) != 0) {
		return sd_bus_error_setf(error, error_name, "No %s '%s' known", what, asked);
	}
	return sd_bus_reply_method_return(m, "o", path);
}

static int method_get_session(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	return reply_by_id(m, ld, "session", ld->session_id, ld->session_path,
		LOGIND_ERROR_NO_SUCH_SESSION, error);
}

static int method_get_session_by_pid(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uint32_t pid;
	int r = sd_bus_message_read(m, "u", &pid);
	if (r < 0) {
		return r;
	}
	if (pid > INT32_MAX) {
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid PID %u", pid);
	}
	if (session_of_pid(ld, m, (pid_t)pid, error) == -1) {
		return -ENXIO;
	}
	return sd_bus_reply_method_return(m, "o", ld->session_path);
}

static int method_get_seat(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	return reply_by_id(m, ld, "seat", ld->seat_id, ld->seat_path, LOGIND_ERROR_NO_SUCH_SEAT,
		error);
}

static int method_get_user(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	uint32_t uid;
	int r = sd_bus_message_read(m, "u", &uid);
	if (r < 0) {
		return r;
	}
	if (uid != ld->uid) {
		return sd_bus_error_setf(error, LOGIND_ERROR_NO_SUCH_USER, "User %u not known", uid);
	}
	return sd_bus_reply_method_return(m, "o", ld->user_path);
}

static int method_list_sessions(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	return sd_bus_reply_method_return(m, "a(susso)", 1, ld->session_id, ld->uid,
		ld->user_name, ld->seat_id, ld->session_path);
}

static int method_list_seats(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	return sd_bus_reply_method_return(m, "a(so)", 1, ld->seat_id, ld->seat_path);
}

static int method_list_users(sd_bus_message *m, void *data, sd_bus_error *error) {
	struct logind *ld = data;
	return sd_bus_reply_method_return(m, "a(uso)", 1, ld->uid, ld->user_name, ld->user_path);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetSession", "s", "o", method_get_session, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetSessionByPID", "u", "o", method_get_session_by_pid,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetSeat", "s", "o", method_get_seat, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetUser", "u", "o", method_get_user, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ListSessions", "", "a(susso)", method_list_sessions,
		SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ListSeats", "", "a(so)", method_list_seats, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ListUsers", "", "a(uso)", method_list_users, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int manager_add(struct logind *ld) {
	return sd_bus_add_object_vtable(ld->bus, NULL, LOGIND_PATH, MANAGER_IFACE, manager_vtable,
		ld);
}
