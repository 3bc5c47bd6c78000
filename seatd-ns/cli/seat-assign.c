#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"

/* The fields every device has, in the order JSON and tables show them. */
static const char *const device_keys[] = {
	"syspath", "subsystem", "devnode", "devnum", "kind", "id_path", "seat",
};
#define N_DEVICE_KEYS (sizeof(device_keys) / sizeof(device_keys[0]))

static void usage(FILE *out) {
	fprintf(out,
		"Usage: seat-assign [--socket PATH] [--json] COMMAND\n"
		"\n"
		"Commands:\n"
		"  devices                 list the seat devices the daemon sees\n"
		"  seats                   list the seats, their containers and devices by kind\n"
		"  status                  daemon status and counters\n"
		"  monitor                 print events as they happen, until interrupted\n"
		"  assign DEVICE SEAT      put a device on a seat (a new seat name creates it);\n"
		"                          DEVICE is a /dev node, a /sys path (a hub covers what\n"
		"                          is behind it) or the ID_PATH of a port\n"
		"  unassign DEVICE         drop the runtime assignment made for DEVICE\n"
		"  attach SEAT CONTAINER   give a seat to a desktop container; a seat that has\n"
		"                          one already keeps it active, the new one waits\n"
		"  switch SEAT CONTAINER   make CONTAINER the seat's active one (attaching it if\n"
		"                          needed): the active one's libseat client is disabled,\n"
		"                          the devices move, CONTAINER's client is enabled;\n"
		"                          returns once done, saying if the disable was forced\n"
		"  detach SEAT [CONTAINER] take a seat from one container, or from all\n"
		"  reload                  read the configuration again\n"
		"  register [--kernel-events] [--libseat-protocol legacy|0.9] [--privileged]\n"
		"           [--start-time TICKS] [--seat SEAT] NAME PID\n"
		"                          register a desktop container by its init's pid (pid 1\n"
		"                          of its own pid namespace, with its own user, mount and\n"
		"                          network namespaces and cgroup);\n"
		"                          --kernel-events: also inject kernel-format events,\n"
		"                          for a container that runs its own udevd;\n"
		"                          --libseat-protocol: the seatd protocol its libseat\n"
		"                          speaks, legacy (before 0.9: Debian 12, Ubuntu 24.04;\n"
		"                          the default) or 0.9 (0.9 and later);\n"
		"                          --privileged: it runs in the host's user namespace\n"
		"                          (root only);\n"
		"                          --start-time: the process's start time as seen when its\n"
		"                          pid was learnt (field 22 of /proc/PID/stat): refused if\n"
		"                          the pid names another process by now;\n"
		"                          --seat: attach it to SEAT (its own config names it);\n"
		"                          refused, and nothing registered, if there is no SEAT\n"
		"  unregister NAME [PID]   forget a container and take its devices back; with PID\n"
		"                          only if that is its init (as a stop hook knows it)\n"
		"  sessions                list the login sessions: who is logged in on which seat,\n"
		"                          in which container\n"
		"  login SEAT USER UID CONTAINER\n"
		"                          record USER's login session on SEAT in CONTAINER (what\n"
		"                          the PAM module does); refused if SEAT or USER has one\n"
		"  login-leader SEAT PID START_TIME\n"
		"                          make process PID (its start time: field 22 of\n"
		"                          /proc/PID/stat), running in the session's container, the\n"
		"                          leader of SEAT's session: its exit ends the session\n"
		"  logout SEAT             end SEAT's login session\n"
		"  wait-session SEAT       wait until SEAT's session leaves it, and say why: logout,\n"
		"                          exited (its leader), container (it went) or moved (and\n"
		"                          where to); a user may wait for a session of their own\n"
		"  move-session FROM SEAT  record that the session on FROM moved to SEAT (once its\n"
		"                          container was attached to SEAT and switched there)\n"
		"\n"
		"  --socket PATH  control socket (default " CONTROL_DEFAULT_SOCKET ")\n"
		"  --json         machine-readable output (monitor: one object per line)\n");
}

static void json_string(const char *s) {
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

static bool is_number(const char *s) {
	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
		return false;
	}
	return strspn(s, "0123456789") == strlen(s);
}

static void json_value(const char *key, const char *value, bool numbers) {
	if (value == NULL) {
		fputs("null", stdout);
	} else if (strcmp(key, "input_class") == 0 || strcmp(key, "containers") == 0) {
		/* Space-separated property names become a list. */
		putchar('[');
		char copy[CONTROL_MAX_MESSAGE];
		snprintf(copy, sizeof(copy), "%s", value);
		const char *sep = "";
		for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
			fputs(sep, stdout);
			json_string(tok);
			sep = ",";
		}
		putchar(']');
	} else if ((numbers || strcmp(key, "uid") == 0 || strcmp(key, "leader") == 0 ||
			   strcmp(key, "since") == 0) &&
		   is_number(value)) {
		/* A session's numbers are numbers; its user name stays a string, digits or not. */
		fputs(value, stdout);
	} else {
		json_string(value);
	}
}

static bool is_device_key(const char *key) {
	for (size_t i = 0; i < N_DEVICE_KEYS; i++) {
		if (strcmp(key, device_keys[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* A record's fields as JSON members: the device keys first (null when absent), then the rest. */
static void json_members(const struct control_record *rec, bool device, bool numbers) {
	const char *sep = "";
	const char *action = control_record_get(rec, "action");
	if (action != NULL) {
		fputs("\"action\":", stdout);
		json_string(action);
		sep = ",";
	}
	if (device) {
		for (size_t i = 0; i < N_DEVICE_KEYS; i++) {
			printf("%s\"%s\":", sep, device_keys[i]);
			json_value(device_keys[i], control_record_get(rec, device_keys[i]), false);
			sep = ",";
		}
	}
	for (size_t i = 0; i < rec->n_fields; i++) {
		const struct control_field *f = &rec->fields[i];
		if (strcmp(f->key, "action") == 0 || (device && is_device_key(f->key))) {
			continue;
		}
		printf("%s\"%s\":", sep, f->key);
		json_value(f->key, f->value, numbers);
		sep = ",";
	}
}

static void json_record(const struct control_record *rec, bool device, bool numbers) {
	putchar('{');
	json_members(rec, device, numbers);
	putchar('}');
}

static const char *or_dash(const char *s) {
	return s != NULL ? s : "-";
}

/* A device's name for people: its node, or its sysfs name when it has none. */
static const char *device_label(const struct control_record *rec) {
	const char *devnode = control_record_get(rec, "devnode");
	if (devnode != NULL) {
		return devnode;
	}
	const char *syspath = control_record_get(rec, "syspath");
	return syspath != NULL ? strrchr(syspath, '/') + 1 : "-";
}

static void table_header(void) {
	printf("%-22s %-14s %-8s %-8s %s\n", "DEVICE", "KIND", "SEAT", "DEVNUM", "ID_PATH");
}

static void table_row(const struct control_record *rec) {
	printf("%-22s %-14s %-8s %-8s %s\n", device_label(rec),
		or_dash(control_record_get(rec, "kind")), or_dash(control_record_get(rec, "seat")),
		or_dash(control_record_get(rec, "devnum")),
		or_dash(control_record_get(rec, "id_path")));
}

/* Receives one record into buf; 0 at end of connection, -1 on error. */
static int receive(int fd, char *buf, size_t size, struct control_record *rec) {
	ssize_t n = recv(fd, buf, size - 1, MSG_TRUNC);
	if (n <= 0) {
		return (int)n;
	}
	if ((size_t)n > size - 1 || control_record_parse(rec, buf, (size_t)n) == -1) {
		fprintf(stderr, "seat-assign: malformed reply from the daemon\n");
		errno = 0;
		return -1;
	}
	return 1;
}

/* Called for each record of a reply but its end. */
typedef void (*record_fn)(void *data, const struct control_record *rec);

/*
 * Sends a request and reads its reply up to "end" (or, for monitor, forever). Returns 0, or
 * -1 after printing what went wrong (the daemon's error message, or the connection's).
 */
static int call(int fd, const struct control_builder *request, bool forever, record_fn fn,
	void *data) {
	/* A refused client may find the socket closed, with the daemon's reason waiting. */
	int send_errno = send(fd, request->buf, request->len, MSG_NOSIGNAL) == -1 ? errno : 0;
	static char buf[CONTROL_MAX_MESSAGE + 1];
	struct control_record rec;
	int r;
	while ((r = receive(fd, buf, sizeof(buf), &rec)) == 1) {
		if (strcmp(rec.type, "error") == 0) {
			fprintf(stderr, "seat-assign: %s\n", or_dash(control_record_get(&rec, "message")));
			return -1;
		}
		if (strcmp(rec.type, "end") == 0 && !forever) {
			return 0;
		}
		if (strcmp(rec.type, "end") != 0) {
			fn(data, &rec);
		}
	}
	if (r == 0) {
		fprintf(stderr, "seat-assign: %s\n", send_errno ? strerror(send_errno)
							  : "the daemon closed the connection");
	} else if (errno != 0) {
		fprintf(stderr, "seat-assign: %s\n", strerror(errno));
	}
	return -1;
}

struct output {
	bool json;
	size_t n;
};

static void print_device(void *data, const struct control_record *rec) {
	struct output *out = data;
	if (out->json) {
		fputs(out->n == 0 ? "[\n" : ",\n", stdout);
		json_record(rec, true, false);
	} else {
		if (out->n == 0) {
			table_header();
		}
		table_row(rec);
	}
	out->n++;
}

static void print_event(void *data, const struct control_record *rec) {
	struct output *out = data;
	bool device = control_record_get(rec, "syspath") != NULL;
	if (out->json) {
		json_record(rec, device, false);
		putchar('\n');
	} else if (device) {
		printf("%-7s ", or_dash(control_record_get(rec, "action")));
		table_row(rec);
	} else {
		const char *from = control_record_get(rec, "from");
		const char *forced = control_record_get(rec, "forced");
		const char *user = control_record_get(rec, "user");
		const char *reason = control_record_get(rec, "reason");
		printf("%-7s %s %s", or_dash(control_record_get(rec, "action")),
			or_dash(control_record_get(rec, "seat")),
			or_dash(control_record_get(rec, "container")));
		if (user != NULL) {
			printf(" user %s", user);
		}
		if (reason != NULL) {
			printf(" reason %s", reason);
		}
		if (from != NULL) {
			printf(" from %s", from);
		}
		if (forced != NULL && strcmp(forced, "yes") == 0) {
			fputs(" forced", stdout);
		}
		putchar('\n');
	}
	fflush(stdout);
}

static void print_session(void *data, const struct control_record *rec) {
	struct output *out = data;
	if (out->json) {
		fputs(out->n == 0 ? "[\n" : ",\n", stdout);
		json_record(rec, false, false);
	} else {
		if (out->n == 0) {
			printf("%-10s %-12s %-7s %-16s %-8s %-8s %s\n", "SEAT", "USER", "UID",
				"CONTAINER", "LEADER", "STATE", "SINCE");
		}
		static const char *const keys[] = {"seat", "user", "uid", "container", "leader",
			"state"};
		static const int widths[] = {-10, -12, -7, -16, -8, -8};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			printf("%*s ", widths[i], or_dash(control_record_get(rec, keys[i])));
		}
		puts(or_dash(control_record_get(rec, "since")));
	}
	out->n++;
}

static void print_status(void *data, const struct control_record *rec) {
	struct output *out = data;
	if (out->json) {
		json_record(rec, false, true);
		putchar('\n');
		return;
	}
	for (size_t i = 0; i < rec->n_fields; i++) {
		printf("%-18s %s\n", rec->fields[i].key, rec->fields[i].value);
	}
}

static void print_done(void *data, const struct control_record *rec) {
	struct output *out = data;
	if (out->json) {
		json_record(rec, false, false);
		putchar('\n');
	} else {
		puts(or_dash(control_record_get(rec, "message")));
	}
}

static void print_waited(void *data, const struct control_record *rec) {
	struct output *out = data;
	const char *seat = control_record_get(rec, "seat");
	if (out->json) {
		json_record(rec, false, false);
		putchar('\n');
	} else if (seat != NULL) {
		printf("%s %s\n", or_dash(control_record_get(rec, "reason")), seat);
	} else {
		puts(or_dash(control_record_get(rec, "reason")));
	}
}

/* Records kept in memory: seats need all devices before they print. */
struct records {
	char **bufs;
	struct control_record *recs;
	size_t n;
};

static void keep_record(void *data, const struct control_record *rec) {
	struct records *list = data;
	struct control_builder b;
	control_builder_init(&b, rec->type);
	for (size_t i = 0; i < rec->n_fields; i++) {
		control_builder_add(&b, rec->fields[i].key, rec->fields[i].value);
	}
	char *copy = malloc(b.len + 1);
	char **bufs = realloc(list->bufs, (list->n + 1) * sizeof(*bufs));
	struct control_record *recs = realloc(list->recs, (list->n + 1) * sizeof(*recs));
	if (bufs != NULL) {
		list->bufs = bufs;
	}
	if (recs != NULL) {
		list->recs = recs;
	}
	if (copy == NULL || bufs == NULL || recs == NULL) {
		free(copy);
		fprintf(stderr, "seat-assign: out of memory\n");
		exit(EXIT_FAILURE);
	}
	memcpy(copy, b.buf, b.len);
	control_record_parse(&recs[list->n], copy, b.len);
	bufs[list->n++] = copy;
}

static void free_records(struct records *list) {
	for (size_t i = 0; i < list->n; i++) {
		free(list->bufs[i]);
	}
	free(list->bufs);
	free(list->recs);
}

/* "seat1 (config, container desk1; inactive: desk2 desk3; switching)" */
static void print_seat_line(const struct control_record *seat) {
	const char *container = control_record_get(seat, "container");
	const char *all = control_record_get(seat, "containers");
	const char *switching = control_record_get(seat, "switching");
	printf("%s (%s", or_dash(control_record_get(seat, "name")),
		or_dash(control_record_get(seat, "origin")));
	if (container != NULL) {
		printf(", container %s", container);
	}
	const char *sep = "; inactive: ";
	char copy[CONTROL_MAX_MESSAGE];
	snprintf(copy, sizeof(copy), "%s", all != NULL ? all : "");
	for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
		if (container == NULL || strcmp(tok, container) != 0) {
			printf("%s%s", sep, tok);
			sep = " ";
		}
	}
	if (switching != NULL && strcmp(switching, "yes") == 0) {
		fputs("; switching", stdout);
	}
	puts(")");
}

/* Each seat with its devices grouped by kind, in the order the daemon listed them. */
static void print_seats(const struct records *seats, const struct records *devices, bool json) {
	if (json) {
		puts("[");
	}
	for (size_t s = 0; s < seats->n; s++) {
		const struct control_record *seat = &seats->recs[s];
		const char *name = control_record_get(seat, "name");
		if (json) {
			fputs(s ? ",\n" : "", stdout);
			putchar('{');
			json_members(seat, false, false);
			fputs(",\"devices\":{", stdout);
		} else {
			print_seat_line(seat);
		}
		const char *kind_sep = "";
		for (size_t i = 0; i < devices->n; i++) {
			const char *kind = control_record_get(&devices->recs[i], "kind");
			bool first_of_kind = true;
			for (size_t j = 0; j < i; j++) {
				const struct control_record *d = &devices->recs[j];
				if (strcmp(control_record_get(d, "seat"), name) == 0 &&
					strcmp(control_record_get(d, "kind"), kind) == 0) {
					first_of_kind = false;
				}
			}
			if (!first_of_kind || strcmp(control_record_get(&devices->recs[i], "seat"), name)) {
				continue;
			}
			if (json) {
				printf("%s\"%s\":[", kind_sep, kind);
			} else {
				printf("  %-14s", kind);
			}
			const char *dev_sep = "";
			for (size_t j = i; j < devices->n; j++) {
				const struct control_record *d = &devices->recs[j];
				if (strcmp(control_record_get(d, "seat"), name) == 0 &&
					strcmp(control_record_get(d, "kind"), kind) == 0) {
					fputs(dev_sep, stdout);
					if (json) {
						json_string(control_record_get(d, "syspath"));
					} else {
						fputs(device_label(d), stdout);
					}
					dev_sep = json ? "," : " ";
				}
			}
			fputs(json ? "]" : "\n", stdout);
			kind_sep = ",";
		}
		fputs(json ? "}}" : "", stdout);
	}
	if (json) {
		puts("\n]");
	}
}

struct command {
	const char *name;
	int n_args, n_optional; /* the last n_optional of n_args may be left out */
	const char *keys[4];    /* the request's fields, from the arguments in order */
	record_fn print;
};

static const struct command commands[] = {
	{"devices", 0, 0, {NULL}, print_device},
	{"seats", 0, 0, {NULL}, NULL},
	{"status", 0, 0, {NULL}, print_status},
	{"monitor", 0, 0, {NULL}, print_event},
	{"assign", 2, 0, {"device", "seat"}, print_done},
	{"unassign", 1, 0, {"device"}, print_done},
	{"attach", 2, 0, {"seat", "container"}, print_done},
	{"switch", 2, 0, {"seat", "container"}, print_done},
	{"detach", 2, 1, {"seat", "container"}, print_done},
	{"reload", 0, 0, {NULL}, print_done},
	{"register", 2, 0, {"name", "pid"}, print_done},
	{"unregister", 2, 1, {"name", "pid"}, print_done},
	{"sessions", 0, 0, {NULL}, print_session},
	{"login", 4, 0, {"seat", "user", "uid", "container"}, print_done},
	{"login-leader", 3, 0, {"seat", "pid", "start_time"}, print_done},
	{"logout", 1, 0, {"seat"}, print_done},
	{"wait-session", 1, 0, {"seat"}, print_waited},
	{"move-session", 2, 0, {"from", "seat"}, print_done},
};

int main(int argc, char *argv[]) {
	enum {
		OPT_SOCKET = 256,
		OPT_JSON,
		OPT_KERNEL_EVENTS,
		OPT_LIBSEAT_PROTOCOL,
		OPT_PRIVILEGED,
		OPT_START_TIME,
		OPT_SEAT,
		OPT_HELP
	};
	static const struct option long_options[] = {
		{"socket", required_argument, NULL, OPT_SOCKET},
		{"json", no_argument, NULL, OPT_JSON},
		{"kernel-events", no_argument, NULL, OPT_KERNEL_EVENTS},
		{"libseat-protocol", required_argument, NULL, OPT_LIBSEAT_PROTOCOL},
		{"privileged", no_argument, NULL, OPT_PRIVILEGED},
		{"start-time", required_argument, NULL, OPT_START_TIME},
		{"seat", required_argument, NULL, OPT_SEAT},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *socket_path = CONTROL_DEFAULT_SOCKET;
	struct output out = {0};
	bool kernel_events = false, privileged = false;
	const char *libseat_protocol = NULL, *start_time = NULL, *seat = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			socket_path = optarg;
			break;
		case OPT_JSON:
			out.json = true;
			break;
		case OPT_KERNEL_EVENTS:
			kernel_events = true;
			break;
		case OPT_LIBSEAT_PROTOCOL:
			libseat_protocol = optarg;
			break;
		case OPT_PRIVILEGED:
			privileged = true;
			break;
		case OPT_START_TIME:
			start_time = optarg;
			break;
		case OPT_SEAT:
			seat = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	const struct command *command = NULL;
	for (size_t i = 0; optind < argc && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			command = &commands[i];
		}
	}
	int n_args = argc - optind - 1;
	if (command == NULL || n_args > command->n_args ||
		n_args < command->n_args - command->n_optional) {
		if (optind < argc && command == NULL) {
			fprintf(stderr, "seat-assign: unknown command \"%s\"\n", argv[optind]);
		}
		usage(stderr);
		return EXIT_FAILURE;
	}
	struct control_builder request;
	control_builder_init(&request, command->name);
	for (int i = 0; i < n_args; i++) {
		control_builder_add(&request, command->keys[i], argv[optind + 1 + i]);
	}
	if (kernel_events) {
		control_builder_add(&request, "kernel_events", "yes");
	}
	control_builder_add(&request, "libseat_protocol", libseat_protocol);
	if (privileged) {
		control_builder_add(&request, "privileged", "yes");
	}
	control_builder_add(&request, "start_time", start_time);
	control_builder_add(&request, "seat", seat);
	if (request.overflow) {
		fprintf(stderr, "seat-assign: arguments too long\n");
		return EXIT_FAILURE;
	}
	int fd = control_connect(socket_path);
	if (fd == -1) {
		fprintf(stderr, "seat-assign: cannot connect to %s: %s\n", socket_path,
			strerror(errno));
		return EXIT_FAILURE;
	}
	int r;
	if (command->print != NULL) {
		r = call(fd, &request, strcmp(command->name, "monitor") == 0, command->print, &out);
	} else {
		/* seats: the seats, then the devices to group under them. */
		struct records seats = {0}, devices = {0};
		struct control_builder list;
		control_builder_init(&list, "devices");
		r = call(fd, &request, false, keep_record, &seats);
		if (r == 0) {
			r = call(fd, &list, false, keep_record, &devices);
		}
		if (r == 0) {
			print_seats(&seats, &devices, out.json);
		}
		free_records(&seats);
		free_records(&devices);
	}
	if (r == 0 && strcmp(command->name, "devices") == 0) {
		if (out.json) {
			puts(out.n == 0 ? "[]" : "\n]");
		} else if (out.n == 0) {
			puts("no seat devices");
		}
	}
	if (r == 0 && strcmp(command->name, "sessions") == 0) {
		if (out.json) {
			puts(out.n == 0 ? "[]" : "\n]");
		} else if (out.n == 0) {
			puts("no login sessions");
		}
	}
	close(fd);
	return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
