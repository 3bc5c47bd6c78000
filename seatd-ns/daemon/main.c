#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldplug.h"
#include "config.h"
#include "control_server.h"
#include "control_verbs.h"
#include "desktops.h"
#include "devtable.h"
#include "event_source.h"
#include "lxc_watch.h"
#include "poller.h"
#include "seat_endpoints.h"
#include "seats.h"
#include "service.h"
#include "state.h"
#include "sysfs.h"

#define DEFAULT_CONFIG "/etc/seatd-ns/seats.conf"
#define DEFAULT_RUN_DIR "/run/seatd-ns"
#define DEFAULT_STATE_DIR "/var/lib/seatd-ns"
#define UDEV_CONTROL "/run/udev/control"
#define UDEV_DATA_DIR "/run/udev/data"

/* The daemon: its layers, wired together here, each told only of those below it. */
struct seatd_ns {
	struct poller poller;
	struct devtable devices;
	struct event_source events;
	struct config config;
	struct state state;
	struct seats seats;
	struct desktops desktops;
	bool desktops_ready;
	struct sessions sessions;
	bool sessions_ready;
	struct lxc_watch lxc_watch;
	struct seat_endpoints endpoints;
	struct control_server control;
	struct control_verbs verbs;
	const char *config_path;
	bool config_given;
	const char *sysfs_root;
	const char *udev_data_dir; /* the host udevd's database, when it is the event source */
};

struct options {
	const char *config_path;
	bool config_given;
	const char *socket_path;
	const char *state_dir;
	const char *run_dir;
	const char *sysfs_root;
	const char *source;
	const char *log_level;
	int receive_buffer;
	bool check_config;
};

static void usage(FILE *out) {
	fprintf(out,
		"Usage: seatd-ns [OPTION]...\n"
		"Seat manager: maps physical seats to desktop containers.\n"
		"\n"
		"  --config FILE      configuration (default " DEFAULT_CONFIG ")\n"
		"  --socket PATH      control socket (default RUN_DIR/control.sock)\n"
		"  --state-dir DIR    persistent state (default " DEFAULT_STATE_DIR ")\n"
		"  --run-dir DIR      runtime files (default " DEFAULT_RUN_DIR ")\n"
		"  --sysfs DIR        sysfs root to read devices from (default /sys)\n"
		"  --source SOURCE    auto, kernel or udev (default auto: udev when\n"
		"                     " UDEV_CONTROL " exists)\n"
		"  --log-level LEVEL  silent, error, warn, info or debug (default info)\n"
		"  --receive-buffer BYTES\n"
		"                     event socket buffer (default 128 MiB); events that\n"
		"                     overflow it are recovered by a rescan of sysfs\n"
		"  --check-config     validate the configuration and exit\n"
		"  --version          print the version and exit\n"
		"  --help             print this help and exit\n");
}

static int parse_options(int argc, char *argv[], struct options *opts) {
	enum { OPT_CONFIG = 256, OPT_SOCKET, OPT_STATE_DIR, OPT_RUN_DIR, OPT_SYSFS, OPT_SOURCE,
		OPT_LOG_LEVEL, OPT_RECEIVE_BUFFER, OPT_CHECK_CONFIG, OPT_VERSION, OPT_HELP };
	static const struct option long_options[] = {
		{"config", required_argument, NULL, OPT_CONFIG},
		{"socket", required_argument, NULL, OPT_SOCKET},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"run-dir", required_argument, NULL, OPT_RUN_DIR},
		{"sysfs", required_argument, NULL, OPT_SYSFS},
		{"source", required_argument, NULL, OPT_SOURCE},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"receive-buffer", required_argument, NULL, OPT_RECEIVE_BUFFER},
		{"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
		{"version", no_argument, NULL, OPT_VERSION},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	*opts = (struct options){
		.config_path = DEFAULT_CONFIG,
		.state_dir = DEFAULT_STATE_DIR,
		.run_dir = DEFAULT_RUN_DIR,
		.sysfs_root = "/sys",
		.receive_buffer = EVENT_SOURCE_BUFFER_SIZE,
	};
	int c;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			opts->config_path = optarg;
			opts->config_given = true;
			break;
		case OPT_SOCKET:
			opts->socket_path = optarg;
			break;
		case OPT_STATE_DIR:
			opts->state_dir = optarg;
			break;
		case OPT_RUN_DIR:
			opts->run_dir = optarg;
			break;
		case OPT_SYSFS:
			opts->sysfs_root = optarg;
			break;
		case OPT_SOURCE:
			opts->source = optarg;
			break;
		case OPT_LOG_LEVEL:
			opts->log_level = optarg;
			break;
		case OPT_RECEIVE_BUFFER: {
			char *end;
			long size = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || size < 1024 || size > (1L << 30)) {
				fprintf(stderr, "seatd-ns: --receive-buffer takes 1024 to 1073741824 "
						"bytes\n");
				return -1;
			}
			opts->receive_buffer = (int)size;
			break;
		}
		case OPT_CHECK_CONFIG:
			opts->check_config = true;
			break;
		case OPT_VERSION:
			printf("seatd-ns %s\n", SEATD_NS_VERSION);
			exit(EXIT_SUCCESS);
		case OPT_HELP:
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "seatd-ns: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Command-line options win over the configuration file. */
static int resolve_settings(const struct options *opts, struct config *config,
	enum event_source_kind *source, gid_t *group) {
	if (opts->source != NULL && config_source_parse(opts->source, &config->source) == -1) {
		fprintf(stderr, "seatd-ns: --source must be auto, kernel or udev\n");
		return -1;
	}
	if (opts->log_level != NULL && log_level_parse(opts->log_level, &config->log_level) == -1) {
		fprintf(stderr, "seatd-ns: unknown --log-level \"%s\"\n", opts->log_level);
		return -1;
	}
	bool udev = config->source == CONFIG_SOURCE_UDEV ||
		    (config->source == CONFIG_SOURCE_AUTO && access(UDEV_CONTROL, F_OK) == 0);
	*source = udev ? EVENT_SOURCE_UDEV : EVENT_SOURCE_KERNEL;
	*group = (gid_t)-1;
	if (config->control_group != NULL) {
		struct group *gr = getgrnam(config->control_group);
		if (gr == NULL) {
			fprintf(stderr, "seatd-ns: control-group \"%s\" does not exist\n",
				config->control_group);
			return -1;
		}
		*group = gr->gr_gid;
	}
	return 0;
}

static int make_dir(const char *path, mode_t mode) {
	if (mkdir(path, mode) == -1 && errno != EEXIST) {
		log_errorf("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void rescan(struct seatd_ns *daemon) {
	if (coldplug_scan(&daemon->devices, daemon->udev_data_dir) == -1) {
		log_errorf("rescan of %s failed: %s", daemon->sysfs_root, strerror(errno));
	}
}

/*
 * Reads the configuration again; if it has errors, keeps the old one and returns -1 with the
 * messages in *errors (free them). Devices are then reseated under the new rules.
 */
static int reload(void *data, char **errors) {
	struct seatd_ns *daemon = data;
	struct config fresh;
	config_init(&fresh);
	*errors = NULL;
	service_reloading();
	if (config_load(&fresh, daemon->config_path, daemon->config_given) == -1) {
		*errors = fresh.errors;
		fresh.errors = NULL;
		config_finish(&fresh);
		service_ready(); /* the old configuration stays in force */
		return -1;
	}
	if (fresh.log_level_set) {
		log_init(fresh.log_level);
	}
	config_finish(&daemon->config);
	daemon->config = fresh;
	int moved = devtable_reseat(&daemon->devices);
	desktops_sync(&daemon->desktops);
	log_infof("configuration reloaded from %s; %d devices changed seat", daemon->config_path,
		moved);
	service_ready();
	return 0;
}

static int handle_signal(int fd, uint32_t events, void *data) {
	struct seatd_ns *daemon = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char *errors;
			log_info("received SIGHUP, reloading the configuration");
			if (reload(daemon, &errors) == -1) {
				log_errorf("configuration not reloaded, the old one stays:\n%s",
					errors ? errors : "out of memory");
				free(errors);
			}
			continue;
		}
		log_infof("received %s, exiting", strsignal((int)si.ssi_signo));
		poller_stop(&daemon->poller);
	}
	return 0;
}

static int handle_events(int fd, uint32_t events, void *data) {
	struct seatd_ns *daemon = data;
	int r = event_source_dispatch(&daemon->events, &daemon->devices);
	if (r == 1) {
		rescan(daemon);
	} else if (r == -1) {
		log_errorf("event source failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The foreground log says what the daemon sees, as it changes. */
static void device_changed(void *data, enum device_change change, const struct device *dev) {
	log_infof("%-6s %-13s %-7s %-22s %s", device_change_name(change),
		device_kind_name(dev->kind), dev->seat, dev->devname ? dev->devname : "-",
		dev->id_path ? dev->id_path : "-");
	struct seatd_ns *daemon = data;
	control_verbs_device_changed(&daemon->verbs, change, dev);
	if (daemon->desktops_ready) {
		desktops_device_changed(&daemon->desktops, change, dev);
	}
}

/* For `systemctl status`: what the daemon has now. */
static void report_status(void *data) {
	struct seatd_ns *daemon = data;
	char status[128];
	snprintf(status, sizeof(status), "%zu seats, %zu seat devices, %zu desktop containers",
		daemon->config.n_seats + daemon->state.n_seats, daemon->devices.devices.n_entries,
		daemon->desktops.by_name.n_entries);
	service_status(status);
}

int main(int argc, char *argv[]) {
	struct options opts;
	if (parse_options(argc, argv, &opts) == -1) {
		return EXIT_FAILURE;
	}
	struct seatd_ns daemon = {
		.config_path = opts.config_path,
		.config_given = opts.config_given,
		.sysfs_root = opts.sysfs_root,
	};
	config_init(&daemon.config);
	enum event_source_kind source = EVENT_SOURCE_KERNEL;
	gid_t group;
	if (config_load(&daemon.config, opts.config_path, opts.config_given) == -1 ||
		resolve_settings(&opts, &daemon.config, &source, &group) == -1) {
		fputs(daemon.config.errors ? daemon.config.errors : "", stderr);
		config_finish(&daemon.config);
		return EXIT_FAILURE;
	}
	if (opts.check_config) {
		printf("%s: ok\n", opts.config_path);
		config_finish(&daemon.config);
		return EXIT_SUCCESS;
	}
	log_init(daemon.config.log_level);
	/* A container holds about ten fds (namespaces, pidfd, socket, cgroup program): a host
	 * with hundreds of them needs more than the usual soft limit of 1024. */
	struct rlimit files;
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max;
		setrlimit(RLIMIT_NOFILE, &files);
	}

	int status = EXIT_FAILURE;
	daemon.udev_data_dir = source == EVENT_SOURCE_UDEV ? UDEV_DATA_DIR : NULL;
	daemon.poller.epoll_fd = -1;
	daemon.events.fd = -1;
	daemon.control.fd = -1;
	int signal_fd = -1;
	char socket_path[4096];
	snprintf(socket_path, sizeof(socket_path), "%s/control.sock", opts.run_dir);

	int sysfs_fd = sysfs_open(opts.sysfs_root);
	if (sysfs_fd == -1) {
		log_errorf("cannot open sysfs root %s: %s", opts.sysfs_root, strerror(errno));
		config_finish(&daemon.config);
		return EXIT_FAILURE;
	}
	devtable_init(&daemon.devices, sysfs_fd, device_changed, &daemon);
	daemon.devices.udev_initializes_sound = source == EVENT_SOURCE_UDEV;
	daemon.seats.config = &daemon.config;
	daemon.seats.state = &daemon.state;
	daemon.devices.seat_of = seats_resolve;
	daemon.devices.seat_data = &daemon.seats;
	if (make_dir(opts.run_dir, 0755) == -1 || make_dir(opts.state_dir, 0700) == -1) {
		goto out;
	}
	if (desktops_init(&daemon.desktops, opts.run_dir, &daemon.poller, &daemon.devices,
		    &daemon.seats, &daemon.config) == -1) {
		log_errorf("cannot mount the node directory in %s: %s", opts.run_dir,
			strerror(errno));
		goto out;
	}
	daemon.desktops_ready = true;
	if (sessions_init(&daemon.sessions, opts.run_dir, &daemon.poller, &daemon.desktops) ==
		-1) {
		log_errorf("sessions: %s", strerror(errno));
		goto out;
	}
	daemon.sessions_ready = true;
	desktops_set_gone(&daemon.desktops, sessions_container_gone, &daemon.sessions);
	seat_endpoints_init(&daemon.endpoints, &daemon.desktops);
	daemon.verbs = (struct control_verbs){
		.control = &daemon.control,
		.devices = &daemon.devices,
		.events = &daemon.events,
		.config = &daemon.config,
		.state = &daemon.state,
		.seats = &daemon.seats,
		.desktops = &daemon.desktops,
		.sessions = &daemon.sessions,
		.sysfs_root = opts.sysfs_root,
		.started = time(NULL),
		.reload = reload,
		.reload_data = &daemon,
	};
	desktops_set_switch_done(&daemon.desktops, control_verbs_switch_done, &daemon.verbs);
	sessions_set_left(&daemon.sessions, control_verbs_session_left, &daemon.verbs);
	if (state_load(&daemon.state, opts.state_dir) == -1) {
		log_errorf("cannot read the state in %s: %s", opts.state_dir, strerror(errno));
		goto out;
	}
	if (poller_init(&daemon.poller) == -1) {
		log_errorf("epoll: %s", strerror(errno));
		goto out;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct poller_source signal_source;
	signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd == -1 || poller_add(&daemon.poller, &signal_source, signal_fd, EPOLLIN,
				       handle_signal, &daemon) == -1) {
		log_errorf("signalfd: %s", strerror(errno));
		goto out;
	}
	if (control_server_init(&daemon.control, &daemon.poller,
		    opts.socket_path ? opts.socket_path : socket_path, group,
		    control_verbs_handle, control_verbs_client_gone, &daemon.verbs) == -1) {
		log_errorf("control socket %s: %s", opts.socket_path ? opts.socket_path : socket_path,
			strerror(errno));
		goto out;
	}
	/* Listen before scanning, so nothing that happens during the scan is missed. */
	struct poller_source event_poll;
	if (event_source_open(&daemon.events, source, opts.receive_buffer) == -1 ||
		poller_add(&daemon.poller, &event_poll, daemon.events.fd, EPOLLIN, handle_events,
			&daemon) == -1) {
		log_errorf("%s event socket: %s", event_source_kind_name(source), strerror(errno));
		goto out;
	}
	log_infof("seatd-ns %s: %s events, sysfs %s", SEATD_NS_VERSION,
		event_source_kind_name(source), opts.sysfs_root);
	int found = coldplug_scan(&daemon.devices, daemon.udev_data_dir);
	if (found == -1) {
		log_errorf("scan of %s failed: %s", opts.sysfs_root, strerror(errno));
		goto out;
	}
	log_infof("%zu seat devices found; listening on %s", daemon.devices.devices.n_entries,
		daemon.control.path);
	/* The containers an earlier run registered keep their seats, before anyone is told. */
	if (desktops_readopt(&daemon.desktops) == -1) {
		log_errorf("cannot read %s: %s; registered containers must register again",
			daemon.desktops.registry_path, strerror(errno));
	}
	/* Sessions need their containers: after re-adoption. */
	if (sessions_restore(&daemon.sessions) == -1) {
		log_errorf("cannot read %s: %s; the sessions are forgotten", daemon.sessions.path,
			strerror(errno));
	}
	/* The endpoints took over their clients as the containers were re-adopted. */
	seat_endpoints_started(&daemon.endpoints);
	/* After re-adoption: only seats' containers that run unregistered are worth a word. */
	if (lxc_watch_init(&daemon.lxc_watch, &daemon.desktops) == -1) {
		log_infof("not watching for LXC containers that run unregistered: %s",
			strerror(errno));
	}
	report_status(&daemon);
	service_ready();
	if (getenv("NOTIFY_SOCKET") != NULL) {
		/* Only a service manager listens: the loop's rounds pay for it only then. */
		daemon.poller.after_round = report_status;
		daemon.poller.after_round_data = &daemon;
	}
	if (poller_run(&daemon.poller) == 0) {
		status = EXIT_SUCCESS;
	}

out:
	lxc_watch_finish(&daemon.lxc_watch);
	control_server_finish(&daemon.control);
	if (daemon.sessions_ready) {
		sessions_finish(&daemon.sessions);
	}
	if (daemon.desktops_ready) {
		desktops_finish(&daemon.desktops);
	}
	event_source_close(&daemon.events);
	if (signal_fd != -1) {
		close(signal_fd);
	}
	poller_finish(&daemon.poller);
	daemon.devices.notify = NULL;
	devtable_finish(&daemon.devices);
	close(sysfs_fd);
	state_finish(&daemon.state);
	config_finish(&daemon.config);
	return status;
}
