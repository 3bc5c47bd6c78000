#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "logind.h"
#include "state_files.h"

#define DEFAULT_STATE_DIR "/run/systemd"
#define DEFAULT_PAUSE_TIMEOUT_MS 1000 /* below the endpoint's 2 s, so that we acknowledge */

static const char usage[] =
	"Usage: seatd-ns-logind --user USER [--session ID] [--type TYPE] [--vtnr N]\n"
	"                       [--bus ADDRESS] [--state-dir DIR] [--dev-dir DIR]\n"
	"                       [--pause-timeout MS] [--log-level LEVEL] [--version] [--help]\n"
	"\n"
	"A logind-compatible D-Bus service (org.freedesktop.login1) for a desktop container\n"
	"whose seat is served by seatd-ns at SEATD_SOCK (default /run/seatd.sock).\n"
	"\n"
	"  --user USER          the session's user (name or uid)\n"
	"  --session ID         the session's id (default c1)\n"
	"  --type TYPE          its type until SetType: unspecified, tty, x11, wayland, mir, web\n"
	"                       (default unspecified)\n"
	"  --vtnr N             its VT number, 0 for none (default 0)\n"
	"  --bus ADDRESS        the bus to serve (default: the system bus)\n"
	"  --state-dir DIR      where the sd-login files go (default /run/systemd)\n"
	"  --dev-dir DIR        where device nodes are found by number (default /dev)\n"
	"  --pause-timeout MS   how long a controller may take to pause (default 1000)\n"
	"  --log-level LEVEL    silent, error, warn, info or debug (default info)\n"
	"  --version            print the version\n"
	"  --help               print this help\n";

/* Session ids are letters and digits only (sd-login reads no other from a session scope);
 * seat names may have "-" and "_" too. */
#define SESSION_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define SEAT_CHARS SESSION_CHARS "-_"

static bool name_valid(const char *name, const char *chars) {
	size_t n = strlen(name);
	return n > 0 && n < LOGIND_ID_MAX && strspn(name, chars) == n;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-') {
		return -1;
	}
	*out = v;
	return 0;
}

static int set_user(struct logind *ld, const char *user) {
	unsigned long uid;
	struct passwd *pw = parse_uint(user, 0xfffffffe, &uid) == 0 ? getpwuid((uid_t)uid) :
								      getpwnam(user);
	if (pw == NULL || strlen(pw->pw_name) >= sizeof(ld->user_name)) {
		fprintf(stderr, "seatd-ns-logind: no user %s\n", user);
		return -1;
	}
	ld->uid = pw->pw_uid;
	ld->gid = pw->pw_gid;
	snprintf(ld->user_name, sizeof(ld->user_name), "%s", pw->pw_name);
	return 0;
}

/* 0 to run, 1 to exit successfully (--help, --version), -1 on a usage error. */
static int parse_options(struct logind *ld, int argc, char **argv, const char **bus_address) {
	static const struct option options[] = {
		{"user", required_argument, NULL, 'u'},
		{"session", required_argument, NULL, 's'},
		{"type", required_argument, NULL, 't'},
		{"vtnr", required_argument, NULL, 'V'},
		{"bus", required_argument, NULL, 'b'},
		{"state-dir", required_argument, NULL, 'S'},
		{"dev-dir", required_argument, NULL, 'd'},
		{"pause-timeout", required_argument, NULL, 'p'},
		{"log-level", required_argument, NULL, 'l'},
		{"version", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *user = NULL;
	enum log_level level = LOG_LEVEL_INFO;
	unsigned long n;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 's':
			if (!name_valid(optarg, SESSION_CHARS)) {
				fprintf(stderr, "seatd-ns-logind: invalid session id %s\n", optarg);
				return -1;
			}
			snprintf(ld->session_id, sizeof(ld->session_id), "%s", optarg);
			break;
		case 't':
			if (!session_type_valid(optarg)) {
				fprintf(stderr, "seatd-ns-logind: invalid session type %s\n", optarg);
				return -1;
			}
			snprintf(ld->type, sizeof(ld->type), "%s", optarg);
			break;
		case 'V':
			if (parse_uint(optarg, 63, &n) == -1) {
				fprintf(stderr, "seatd-ns-logind: invalid VT number %s\n", optarg);
				return -1;
			}
			ld->vtnr = (uint32_t)n;
			break;
		case 'b':
			*bus_address = optarg;
			break;
		case 'S':
		case 'd':
			if (strlen(optarg) >= sizeof(ld->state_dir) || optarg[0] != '/') {
				fprintf(stderr, "seatd-ns-logind: %s must be an absolute path\n", optarg);
				return -1;
			}
			snprintf(c == 'S' ? ld->state_dir : ld->dev_dir, sizeof(ld->state_dir), "%s",
				optarg);
			break;
		case 'p':
			if (parse_uint(optarg, 60000, &n) == -1 || n == 0) {
				fprintf(stderr, "seatd-ns-logind: invalid timeout %s\n", optarg);
				return -1;
			}
			ld->pause_timeout_usec = n * 1000;
			break;
		case 'l':
			if (log_level_parse(optarg, &level) == -1) {
				fprintf(stderr, "seatd-ns-logind: invalid log level %s\n", optarg);
				return -1;
			}
			break;
		case 'v':
			printf("seatd-ns-logind %s\n", SEATD_NS_VERSION);
			return 1;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind != argc || user == NULL) {
		fputs(usage, stderr);
		return -1;
	}
	log_init(level);
	return set_user(ld, user);
}

static int connect_bus(sd_bus **bus, const char *address) {
	if (address == NULL) {
		return sd_bus_open_system(bus);
	}
	int r = sd_bus_new(bus);
	if (r < 0) {
		return r;
	}
	r = sd_bus_set_address(*bus, address);
	if (r >= 0) {
		r = sd_bus_set_bus_client(*bus, 1);
	}
	if (r >= 0) {
		r = sd_bus_start(*bus);
	}
	if (r < 0) {
		*bus = sd_bus_unref(*bus);
	}
	return r;
}

static void on_seat_enabled(void *data) {
	struct logind *ld = data;
	log_infof("logind: seat %s is this container's: session %s active", ld->seat_id,
		ld->session_id);
	session_seat_enabled(ld);
}

static void on_seat_disabled(void *data) {
	struct logind *ld = data;
	log_infof("logind: seat %s goes away: pausing session %s", ld->seat_id, ld->session_id);
	session_seat_disabled(ld);
}

static const struct seat_devices_listener seat_listener = {
	.enabled = on_seat_enabled,
	.disabled = on_seat_disabled,
};

static int run(struct logind *ld, const char *bus_address) {
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int r = sd_event_default(&ld->event);
	if (r >= 0) {
		r = sd_event_add_signal(ld->event, NULL, SIGTERM, NULL, NULL);
	}
	if (r >= 0) {
		r = sd_event_add_signal(ld->event, NULL, SIGINT, NULL, NULL);
	}
	if (r < 0) {
		log_errorf("logind: event loop: %s", strerror(-r));
		return -1;
	}

	ld->devices = seat_devices_open(ld->event, ld->dev_dir, &seat_listener, ld);
	if (ld->devices == NULL) {
		log_errorf("logind: cannot open the seat through libseat: %s", strerror(errno));
		return -1;
	}
	const char *seat = seat_devices_seat_name(ld->devices);
	if (!name_valid(seat, SEAT_CHARS)) {
		log_errorf("logind: the endpoint names its seat '%s', which logind cannot", seat);
		return -1;
	}
	snprintf(ld->seat_id, sizeof(ld->seat_id), "%s", seat);

	r = connect_bus(&ld->bus, bus_address);
	if (r < 0) {
		log_errorf("logind: cannot connect to the bus: %s", strerror(-r));
		return -1;
	}
	r = manager_add(ld);
	if (r >= 0) {
		r = session_add(ld);
	}
	if (r >= 0) {
		r = seat_add(ld);
	}
	if (r >= 0) {
		r = user_add(ld);
	}
	if (r >= 0) {
		r = sd_bus_attach_event(ld->bus, ld->event, SD_EVENT_PRIORITY_NORMAL);
	}
	if (r < 0) {
		log_errorf("logind: bus objects: %s", strerror(-r));
		return -1;
	}
	r = state_files_write(ld);
	if (r < 0) {
		log_errorf("logind: state files in %s: %s", ld->state_dir, strerror(-r));
		return -1;
	}
	/* Last, so that a client that sees the name finds every object and file in place. */
	r = sd_bus_request_name(ld->bus, LOGIND_BUS_NAME, 0);
	if (r < 0) {
		log_errorf("logind: cannot own %s: %s", LOGIND_BUS_NAME, strerror(-r));
		return -1;
	}
	log_infof("logind: serving session %s of %s on seat %s", ld->session_id, ld->user_name,
		ld->seat_id);
	r = seat_devices_dispatch(ld->devices, 0);
	if (r >= 0) {
		r = sd_event_loop(ld->event);
	}
	if (r < 0) {
		log_errorf("logind: stopped: %s", strerror(-r));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv) {
	struct logind ld = {
		.session_id = "c1",
		.type = "unspecified",
		.class = "user",
		.state_dir = DEFAULT_STATE_DIR,
		.dev_dir = "/dev",
		.pause_timeout_usec = DEFAULT_PAUSE_TIMEOUT_MS * 1000ULL,
	};
	const char *bus_address = NULL;
	int r = parse_options(&ld, argc, argv, &bus_address);
	if (r != 0) {
		return r == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ld.timestamp_usec = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;

	r = run(&ld, bus_address);

	session_release_control(&ld, false);
	if (ld.seat_id[0] != '\0') {
		state_files_remove(&ld);
	}
	seat_devices_close(ld.devices);
	sd_bus_flush_close_unref(ld.bus);
	sd_event_unref(ld.event);
	return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
