#ifndef _SEATD_NS_CONTROL_H
#define _SEATD_NS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The control protocol between seatd-ns and its clients (seat-assign, hooks, PAM).
 *
 * Transport: a unix SOCK_SEQPACKET socket (default /run/seatd-ns/control.sock), mode 0666
 * (its group the control group's, when one is configured). Anyone may connect: the daemon
 * serves every verb to root and members of that group, checked with SO_PEERCRED and
 * SO_PEERGROUPS; anyone else may use only "sessions" and "wait-session" (for a session of
 * their own uid), and any other verb gets one "error" record and a disconnect. At most 8
 * connections of one unprivileged uid, and room is kept for root's.
 *
 * Every message, both ways, is one record: NUL-terminated strings, the first the record's
 * type ([a-z0-9_-], not first "-"), then fields "key=value". Keys are [a-z0-9_]; values any
 * bytes but NUL. A field that
 * is absent has no value (null in JSON). At most CONTROL_MAX_MESSAGE bytes.
 *
 * Requests (type = verb):
 *   "devices"  -> one "device" record per seat device, then "end"
 *   "status"   -> one "status" record, then "end"
 *   "monitor"  -> "end" once subscribed, then an "event" record for every change
 *   "seats"    -> one "seat" record per seat (name origin container containers switching
 *              hidraw shared_sound), then "end"
 *   "assign" device= seat=, "unassign" device=, "attach" seat= container=,
 *   "detach" seat= [container=], "reload",
 *   "register" name= pid= [kernel_events=yes] [libseat_protocol=legacy|0.9]
 *              [privileged=yes] [start_time=TICKS] [seat=SEAT]
 *              (the init of a container: pid 1 of its pid namespace, in user, mount and
 *              network namespaces of its own, its user namespace made by root or the
 *              client; privileged=yes, from root only, accepts the host's user namespace;
 *              start_time, /proc/PID/stat's field 22, must be the process's; seat: the
 *              container's own configuration names its seat, to which it is attached once
 *              registered, as by "attach"; a seat the daemon does not have, or cannot
 *              attach it to, refuses the registration),
 *   "unregister" name= [pid=] (with pid: only if that is the container's init)
 *              -> "done" (message) then "end", or "error"
 *   "switch" seat= container=
 *              -> once the switch is over (the libseat client of the container that had the
 *              seat acknowledged its disable or was forced): "done" (message forced=yes|no)
 *              then "end", or "error" (the seat stays where it was)
 *   "login" seat= user= uid= container=
 *              -> claims SEAT for USER's login session in CONTAINER (which need not run yet):
 *              "done" then "end"; "error" if the seat is unknown, already has a session (the
 *              message names its user), or the user has one on another seat (it names that
 *              seat), or a field is malformed (user: [A-Za-z0-9_.@-], not first "-", at most
 *              32; uid: decimal, at most 4294967294)
 *   "login-leader" seat= pid= start_time=
 *              -> makes the process (host pid; start_time, /proc/PID/stat's field 22, must be
 *              its) the leader of SEAT's session; it must run in the session's container,
 *              which must be registered, and the session must have no leader yet. The session
 *              ends when the leader exits. "done" then "end", or "error"
 *   "logout" seat= -> ends SEAT's session: "done" then "end", or "error" (no session)
 *   "sessions" -> one "session" record per session, in the order of the logins, then "end"
 *   "wait-session" seat=
 *              -> once the session on SEAT leaves it: "done" reason=logout|exited|container|
 *              moved [seat=NEW, for moved] then "end"; "error" at once if SEAT has no session
 *              (of the peer's uid, for an unprivileged peer). One wait a connection at a time.
 *   "move-session" from= seat=
 *              -> records that the session on FROM moved to SEAT (after its container was
 *              attached to SEAT and switched there): "done" then "end", or "error" (FROM has
 *              no session, SEAT is unknown or has one)
 *              A session also ends when its container is unregistered or exits. They are kept
 *              in the run directory: a daemon started again keeps those whose leader still
 *              runs (the same process, by its start time) in its re-adopted container, and
 *              those without a leader yet whose container it re-adopted.
 *
 * Replies:
 *   "device"   syspath subsystem devnode devnum kind id_path seat usb_id (VENDOR:PRODUCT of
 *              its USB device, or absent) [input_class] [sound_initialized]
 *   "event"    action (add|change|remove) and the fields of a device record, or
 *              action (attach|detach) seat container (detach: "all" for every one), or
 *              action switch seat container (now active) from (or absent) forced (yes|no), or
 *              action (login|logout) seat user container, logout with reason
 *              (logout|exited|container: logged out, its leader exited, its container went),
 *              or action move seat (the new one) user container from
 *   "session"  seat user uid container leader (its pid, or absent) state (starting: no
 *              leader yet, or active) since (unix seconds of the login)
 *   "seat"     container: the active one (absent: none); containers: every attached one,
 *              space-separated, in the order attached; switching: yes while a switch waits
 *   "status"   version source sysfs uptime (seconds) devices events_received events_applied
 *              events_malformed events_foreign overflows clients switches switches_forced
 *   "error"    message; the request changed nothing
 *   "end"      a finite reply is complete
 */

#define CONTROL_MAX_MESSAGE 8192
#define CONTROL_MAX_FIELDS 64
#define CONTROL_DEFAULT_SOCKET "/run/seatd-ns/control.sock"

struct control_field {
	const char *key;
	const char *value;
};

struct control_record {
	const char *type;
	size_t n_fields;
	struct control_field fields[CONTROL_MAX_FIELDS];
};

/*
 * Parses a record in place (buf needs room for len + 1 bytes). Returns 0, or -1 with errno
 * EINVAL for anything that is not a well-formed record.
 */
int control_record_parse(struct control_record *rec, char *buf, size_t len);

/* The value of field key, or NULL. */
const char *control_record_get(const struct control_record *rec, const char *key);

/* Builds a record; a field that does not fit sets overflow, and the record must not be sent. */
struct control_builder {
	char buf[CONTROL_MAX_MESSAGE];
	size_t len;
	bool overflow;
};

void control_builder_init(struct control_builder *b, const char *type);
/* Adds key=value; a NULL value adds nothing (the field is null). */
void control_builder_add(struct control_builder *b, const char *key, const char *value);
void control_builder_addf(struct control_builder *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A client's connection to the control socket at path: the fd, or -1 with errno. */
int control_connect(const char *path);

#endif
