/*
 * seatd-ns-logind driven over a private bus, with the real seatd-ns libseat endpoint behind it:
 * a forked process runs the endpoint (seat1) and switches it on command; dbus-daemon runs with
 * the service's own policy file; the service binary talks libseat to the endpoint and the test
 * is its D-Bus client (sd-bus), as Xorg or libseat's logind backend would be. No hardware: the
 * seat's card0, event3 and event4 are nodes with the numbers of /dev/zero, /dev/full and
 * /dev/urandom, which the endpoint opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>
#include <time.h>
#include <unistd.h>

#include "libseat_endpoint.h"
#include "log.h"
#include "test.h"

TEST_GLOBALS;

#define SEAT "seat1"
#define PAUSE_TIMEOUT_MS "1500"
#define SESSION_PATH "/org/freedesktop/login1/session/c1"
#define SEAT_PATH "/org/freedesktop/login1/seat/seat1"
#define SESSION_PATH_SELF "/org/freedesktop/login1/session/self"
#define LOGIN1 "org.freedesktop.login1"
#define LOGIND_PATH_MANAGER "/org/freedesktop/login1"
#define MANAGER_IFACE "org.freedesktop.login1.Manager"
#define SESSION_IFACE "org.freedesktop.login1.Session"

static char tmpdir[] = "/tmp/test_logind.XXXXXX";
static char bus_address[256];
static pid_t endpoint_pid, bus_pid, service_pid;
static int ep_cmd = -1, ep_report = -1;
static sd_bus *bus; /* the test's connection: the controller */

#define card0 makedev(1, 5)
#define event3 makedev(1, 7)
#define event4 makedev(1, 9)
#define event9 makedev(1, 8) /* in the container's /dev, not on the seat */
#define render makedev(1, 3) /* a render node: logind does not hand those out */

/* The endpoint's side: the host */

static const struct {
	const char *client_path;
	const char *host_path;
	unsigned minor; /* of major 1, the memory devices */
} seat_devices[] = {
	{"/dev/dri/card0", "/dev/zero", 5},
	{"/dev/input/event3", "/dev/full", 7},
	{"/dev/input/event4", "/dev/urandom", 9},
	{"/dev/dri/renderD128", "/dev/null", 3},
};

static int resolve(const char *client_path, enum libseat_device_class class,
	struct libseat_endpoint_target *target, void *data) {
	for (size_t i = 0; i < sizeof(seat_devices) / sizeof(seat_devices[0]); i++) {
		if (strcmp(client_path, seat_devices[i].client_path) == 0) {
			snprintf(target->host_path, sizeof(target->host_path), "%s",
				seat_devices[i].host_path);
			target->devnum = makedev(1, seat_devices[i].minor);
			target->class = class;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

static struct poller ep_poller;
static struct libseat_endpoint *endpoint;
static int ep_report_w;

static void ep_send(char tag, char value) {
	char msg[2] = {tag, value};
	if (write(ep_report_w, msg, 2) != 2) {
		_exit(3);
	}
}

static void on_disabled(struct libseat_endpoint *ep, bool forced, void *data) {
	ep_send('D', forced ? 'f' : 'a');
}

/* Commands: 'a' activate (answer 'A'), 'd' deactivate (answer 'D' with 'a' acknowledged,
 * 'f' forced, 'n' nothing to wait for). */
static int ep_command(int fd, uint32_t events, void *data) {
	char c;
	if (read(fd, &c, 1) != 1) {
		_exit(0);
	}
	if (c == 'a') {
		libseat_endpoint_set_active(endpoint, true);
		ep_send('A', 0);
	} else if (c == 'd') {
		if (libseat_endpoint_set_active(endpoint, false) == 0) {
			ep_send('D', 'n');
		}
	}
	return 0;
}

static void endpoint_main(int cmd_fd, bool legacy) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/seatd.sock", tmpdir);
	int pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (poller_init(&ep_poller) == -1 || fd == -1 || pidns == -1 ||
		bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 || listen(fd, 16) == -1) {
		_exit(2);
	}
	endpoint = libseat_endpoint_create(&ep_poller, fd, pidns, SEAT, resolve, NULL);
	if (endpoint == NULL) {
		_exit(2);
	}
	libseat_endpoint_set_disabled_callback(endpoint, on_disabled, NULL);
	/* Longer than the service's pause timeout: an acknowledgement is always the service's. */
	libseat_endpoint_set_ack_timeout(endpoint, 10000);
	if (legacy) {
		libseat_endpoint_set_protocol(endpoint, LIBSEAT_PROTOCOL_LEGACY);
	}
	libseat_endpoint_set_active(endpoint, true);
	struct poller_source src;
	poller_add(&ep_poller, &src, cmd_fd, EPOLLIN, ep_command, NULL);
	ep_send('R', 0);
	for (;;) {
		poller_run(&ep_poller);
	}
}

/* The test's side */

struct pause_signal {
	dev_t devnum;
	char type[8];
};
static struct pause_signal pauses[16];
static size_t n_pauses;
static struct {
	dev_t devnum;
	int fd;
} resumes[16];
static size_t n_resumes;
static int last_active = -1; /* from PropertiesChanged */
static bool ack_pauses, ack_swapped;
static char ep_reply[2];
static bool have_ep_reply;

static int on_session_signal(sd_bus_message *m, void *data, sd_bus_error *error) {
	uint32_t maj, min;
	if (sd_bus_message_is_signal(m, SESSION_IFACE, "PauseDevice")) {
		const char *type;
		if (sd_bus_message_read(m, "uus", &maj, &min, &type) >= 0 && n_pauses < 16) {
			pauses[n_pauses].devnum = makedev(maj, min);
			snprintf(pauses[n_pauses].type, sizeof(pauses[0].type), "%s", type);
			n_pauses++;
		}
	} else if (sd_bus_message_is_signal(m, SESSION_IFACE, "ResumeDevice")) {
		int fd;
		if (sd_bus_message_read(m, "uuh", &maj, &min, &fd) >= 0 && n_resumes < 16) {
			resumes[n_resumes].devnum = makedev(maj, min);
			resumes[n_resumes].fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
			n_resumes++;
		}
	} else if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties",
			   "PropertiesChanged")) {
		const char *iface, *name;
		if (sd_bus_message_read(m, "s", &iface) < 0 ||
			sd_bus_message_enter_container(m, 'a', "{sv}") < 0) {
			return 0;
		}
		while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
			if (sd_bus_message_read(m, "s", &name) < 0) {
				return 0;
			}
			int b;
			if (strcmp(name, "Active") == 0 && sd_bus_message_read(m, "v", "b", &b) >= 0) {
				last_active = b;
			} else {
				sd_bus_message_skip(m, "v");
			}
			sd_bus_message_exit_container(m);
		}
	}
	return 0;
}

static int call(sd_bus *b, const char *path, const char *iface, const char *method,
	sd_bus_error *error, sd_bus_message **reply, const char *types, ...);

/* Processes the bus (answering "pause" as Xorg does when asked) until pred holds or 5 s pass. */
static bool pump_until(bool (*pred)(void)) {
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	size_t acked = n_pauses;
	for (;;) {
		while (sd_bus_process(bus, NULL) > 0) {
		}
		for (; ack_pauses && acked < n_pauses; acked++) {
			if (strcmp(pauses[acked].type, "pause") != 0) {
				continue;
			}
			uint32_t maj = major(pauses[acked].devnum), min = minor(pauses[acked].devnum);
			call(bus, SESSION_PATH, SESSION_IFACE, "PauseDeviceComplete", NULL, NULL, "uu",
				ack_swapped ? min : maj, ack_swapped ? maj : min);
		}
		if (!have_ep_reply) {
			struct pollfd p = {.fd = ep_report, .events = POLLIN};
			if (poll(&p, 1, 0) == 1 && read(ep_report, ep_reply, 2) == 2) {
				have_ep_reply = true;
			}
		}
		if (pred()) {
			return true;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 5) {
			return false;
		}
		sd_bus_wait(bus, 10000);
	}
}

static int call(sd_bus *b, const char *path, const char *iface, const char *method,
	sd_bus_error *error, sd_bus_message **reply, const char *types, ...) {
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b, &m, LOGIN1, path, iface, method);
	if (r >= 0 && types != NULL) {
		va_list ap;
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0) {
		r = sd_bus_call(b, m, 5000000, error, reply);
	}
	sd_bus_message_unref(m);
	return r;
}

/* Calls and expects an error of that name; true if it came. */
static bool call_fails(sd_bus *b, const char *path, const char *iface, const char *method,
	const char *error_name, const char *types, uint32_t a, uint32_t c) {
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r = types == NULL ? call(b, path, iface, method, &error, NULL, NULL) :
	        strcmp(types, "uu") == 0 ? call(b, path, iface, method, &error, NULL, types, a, c) :
	        strcmp(types, "u") == 0 ? call(b, path, iface, method, &error, NULL, types, a) :
	        strcmp(types, "b") == 0 ? call(b, path, iface, method, &error, NULL, types, (int)a) :
					  call(b, path, iface, method, &error, NULL, "s", "x");
	bool ok = r < 0 && error.name != NULL && strcmp(error.name, error_name) == 0;
	if (!ok) {
		fprintf(stderr, "%s: expected %s, got %d %s: %s\n", method, error_name, r,
			error.name ? error.name : "(none)", error.message ? error.message : "");
	}
	sd_bus_error_free(&error);
	return ok;
}

static sd_bus *bus_connect(void) {
	sd_bus *b = NULL;
	if (sd_bus_new(&b) < 0 || sd_bus_set_address(b, bus_address) < 0 ||
		sd_bus_set_bus_client(b, 1) < 0 || sd_bus_start(b) < 0) {
		sd_bus_unref(b);
		return NULL;
	}
	return b;
}

/* The session path GetSessionByPID answers, or NULL. */
static char *session_by_pid(sd_bus *b, uint32_t pid, char *err_name, size_t size) {
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	char *out = NULL;
	if (call(b, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSessionByPID",
		    &error, &reply, "u", pid) >= 0 &&
		sd_bus_message_read(reply, "o", &path) >= 0) {
		out = strdup(path);
	} else if (err_name != NULL) {
		snprintf(err_name, size, "%s", error.name ? error.name : "");
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return out;
}

static int get_bool(const char *path, const char *iface, const char *prop) {
	int value = -1;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	if (sd_bus_get_property_trivial(bus, LOGIN1, path, iface, prop, &error, 'b', &value) < 0) {
		value = -1;
	}
	sd_bus_error_free(&error);
	return value;
}

static char *get_string(const char *path, const char *iface, const char *prop) {
	char *value = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_get_property_string(bus, LOGIN1, path, iface, prop, &error, &value);
	sd_bus_error_free(&error);
	return value;
}

/* Whether a state file has the line. */
static bool state_has(const char *file, const char *line) {
	char path[256], buf[4096];
	snprintf(path, sizeof(path), "%s/state/%s", tmpdir, file);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return false;
	}
	bool found = false;
	while (!found && fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		found = strcmp(buf, line) == 0;
	}
	fclose(f);
	return found;
}

/* TakeDevice: 0 with fd and inactive, or -1 with the error's name. */
static int take_device(sd_bus *b, dev_t devnum, int *fd, int *inactive, char *err, size_t size) {
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r = call(b, SESSION_PATH, SESSION_IFACE, "TakeDevice", &error, &reply, "uu",
		major(devnum), minor(devnum));
	int raw;
	if (r >= 0 && sd_bus_message_read(reply, "hb", &raw, inactive) >= 0) {
		*fd = fcntl(raw, F_DUPFD_CLOEXEC, 0);
		r = 0;
	} else {
		snprintf(err, size, "%s", error.name ? error.name : "(none)");
		r = -1;
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r;
}

static dev_t fd_rdev(int fd) {
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_rdev : 0;
}

/* The service is still there and answers. */
static bool service_answers(void) {
	char *path = session_by_pid(bus, 0, NULL, 0);
	bool ok = path != NULL && strcmp(path, SESSION_PATH) == 0;
	free(path);
	int status;
	return ok && waitpid(service_pid, &status, WNOHANG) == 0;
}

static void test_lookup(void) {
	char *path = session_by_pid(bus, (uint32_t)getpid(), NULL, 0);
	test_assert_str(path, SESSION_PATH);
	free(path);
	path = session_by_pid(bus, 0, NULL, 0);
	test_assert_str(path, SESSION_PATH);
	free(path);

	sd_bus_message *reply = NULL;
	const char *o;
	test_assert(call(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSession", NULL, &reply, "s",
			    "c1") >= 0);
	test_assert(sd_bus_message_read(reply, "o", &o) >= 0);
	test_assert_str(o, SESSION_PATH);
	reply = sd_bus_message_unref(reply);
	test_assert(call(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSession", NULL, &reply, "s",
			    "auto") >= 0);
	test_assert(sd_bus_message_read(reply, "o", &o) >= 0);
	test_assert_str(o, SESSION_PATH);
	reply = sd_bus_message_unref(reply);
	test_assert(call(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSeat", NULL, &reply, "s",
			    SEAT) >= 0);
	test_assert(sd_bus_message_read(reply, "o", &o) >= 0);
	test_assert_str(o, SEAT_PATH);
	reply = sd_bus_message_unref(reply);

	const char *id, *user, *seat;
	uint32_t uid;
	test_assert(call(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "ListSessions", NULL, &reply,
			    NULL) >= 0);
	test_assert(sd_bus_message_read(reply, "a(susso)", 1, &id, &uid, &user, &seat, &o) >= 0);
	test_assert_str(id, "c1");
	test_assert(uid == 0);
	test_assert_str(user, "root");
	test_assert_str(seat, SEAT);
	test_assert_str(o, SESSION_PATH);
	reply = sd_bus_message_unref(reply);
	test_assert(call(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "ListSeats", NULL, &reply,
			    NULL) >= 0);
	test_assert(sd_bus_message_read(reply, "a(so)", 1, &id, &o) >= 0);
	test_assert_str(id, SEAT);
	test_assert_str(o, SEAT_PATH);
	reply = sd_bus_message_unref(reply);

	/* What libseat's logind backend and kwin read. */
	test_assert(get_bool(SESSION_PATH, SESSION_IFACE, "Active") == 1);
	test_assert(get_bool(SEAT_PATH, "org.freedesktop.login1.Seat", "CanGraphical") == 1);
	char *s = get_string(SESSION_PATH, SESSION_IFACE, "State");
	test_assert_str(s, "active");
	free(s);
	s = get_string(SEAT_PATH, "org.freedesktop.login1.Seat", "Id");
	test_assert_str(s, SEAT);
	free(s);
	uint32_t vtnr = 99;
	test_assert(sd_bus_get_property_trivial(bus, LOGIN1, SESSION_PATH, SESSION_IFACE, "VTNr",
			    NULL, 'u', &vtnr) >= 0);
	test_assert(vtnr == 0);
	test_assert(call(bus, LOGIND_PATH_MANAGER, "org.freedesktop.DBus.Properties", "Get", NULL,
			    &reply, "ss", SESSION_IFACE, "Seat") < 0);
	test_assert(call(bus, SESSION_PATH, "org.freedesktop.DBus.Properties", "Get", NULL, &reply,
			    "ss", SESSION_IFACE, "Seat") >= 0);
	test_assert(sd_bus_message_read(reply, "v", "(so)", &id, &o) >= 0);
	test_assert_str(id, SEAT);
	test_assert_str(o, SEAT_PATH);
	reply = sd_bus_message_unref(reply);

	/* The caller's own objects, as weston asks for its seat ("seat/self"). */
	s = get_string(LOGIND_PATH_MANAGER "/session/self", SESSION_IFACE, "Id");
	test_assert_str(s, "c1");
	free(s);
	s = get_string(LOGIND_PATH_MANAGER "/seat/auto", "org.freedesktop.login1.Seat", "Id");
	test_assert_str(s, SEAT);
	free(s);
	s = get_string(LOGIND_PATH_MANAGER "/user/self", "org.freedesktop.login1.User", "Name");
	test_assert_str(s, "root");
	free(s);
	s = get_string(LOGIND_PATH_MANAGER "/session/self/more", SESSION_IFACE, "Id");
	test_assert(s == NULL);

	test_assert(call_fails(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSession",
		"org.freedesktop.login1.NoSuchSession", "s", 0, 0));
	test_assert(call_fails(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSeat",
		"org.freedesktop.login1.NoSuchSeat", "s", 0, 0));
}

/* The files sd-login reads, in its own formats. */
static void test_state_files(void) {
	test_assert(state_has("sessions/c1", "ACTIVE=1"));
	test_assert(state_has("sessions/c1", "STATE=active"));
	test_assert(state_has("sessions/c1", "SEAT=" SEAT));
	test_assert(state_has("sessions/c1", "UID=0"));
	test_assert(state_has("seats/" SEAT, "ACTIVE=c1"));
	test_assert(state_has("seats/" SEAT, "CAN_GRAPHICAL=1"));
	test_assert(state_has("users/0", "DISPLAY=c1"));
}

/*
 * In a child: a mount namespace of its own whose /run is a tmpfs with the service's state
 * directory as /run/systemd, where sd-login reads. 0 or -1.
 */
static int enter_state_namespace(void) {
	char state[128];
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") == -1 ||
		mkdir("/run/systemd", 0755) == -1 ||
		mount(state, "/run/systemd", NULL, MS_BIND, NULL) == -1) {
		return -1;
	}
	return 0;
}

/* The real sd-login reads the state files: the functions libseat's logind backend calls. */
static void test_sd_login(void) {
	pid_t pid = fork();
	if (pid == 0) {
		if (enter_state_namespace() == -1) {
			_exit(2);
		}
		char *seat = NULL, *active = NULL, *display = NULL;
		int ok = sd_session_is_active("c1") > 0 && sd_session_get_seat("c1", &seat) >= 0 &&
			strcmp(seat, SEAT) == 0 && sd_seat_get_active(SEAT, &active, NULL) >= 0 &&
			strcmp(active, "c1") == 0 && sd_uid_get_display(0, &display) >= 0 &&
			strcmp(display, "c1") == 0;
		_exit(ok ? 0 : 1);
	}
	int status;
	test_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	test_assert(WEXITSTATUS(status) == 0);
}

/*
 * A process's session by its cgroup, as sd-login reads it: one in a session-c1.scope is the
 * session's whatever its user; one in another session's scope is not, though it runs as the
 * session's user. The scopes are made for the test in the hierarchy sd-login reads and
 * removed after.
 */

/* Where sd-login looks a process up: the unified hierarchy (cgroup v2, or its copy beside
 * the v1 controllers), else the named systemd one of cgroup v1. */
static const char *cgroup_of_sd_login(void) {
	struct statfs sfs;
	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		return "/sys/fs/cgroup";
	}
	if (statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		return "/sys/fs/cgroup/unified";
	}
	return "/sys/fs/cgroup/systemd";
}

static pid_t spawn_in_cgroup(const char *dir, uid_t uid) {
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(uid) == 0 && setuid(uid) == 0) {
			pause();
		}
		_exit(2);
	}
	char procs[300], num[16];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	snprintf(num, sizeof(num), "%d", (int)pid);
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	bool moved = fd != -1 && write(fd, num, strlen(num)) == (ssize_t)strlen(num);
	if (fd != -1) {
		close(fd);
	}
	if (!moved) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void test_session_scope(void) {
	char slice[160], ours[200], other[200];
	const char *base = cgroup_of_sd_login();
	snprintf(slice, sizeof(slice), "%s/seatd-ns-logind-test-%d.slice", base, (int)getpid());
	snprintf(ours, sizeof(ours), "%s/session-c1.scope", slice);
	snprintf(other, sizeof(other), "%s/session-c9.scope", slice);
	if (mkdir(slice, 0755) == -1 || mkdir(ours, 0755) == -1 || mkdir(other, 0755) == -1) {
		fprintf(stderr, "SKIP part: cannot make scopes in %s: %s\n", base, strerror(errno));
		rmdir(ours);
		rmdir(slice);
		return;
	}
	pid_t nobody = spawn_in_cgroup(ours, 65534);
	pid_t root = spawn_in_cgroup(other, 0);
	char *sid = NULL, *path = NULL, err[128] = "";
	bool sd_login_sees = nobody > 0 && sd_pid_get_session(nobody, &sid) >= 0 &&
		strcmp(sid, "c1") == 0;
	if (sd_login_sees) {
		path = session_by_pid(bus, (uint32_t)nobody, NULL, 0);
	}
	char *other_path = root > 0 ? session_by_pid(bus, (uint32_t)root, err, sizeof(err)) :
				      NULL;
	for (int i = 0; i < 2; i++) {
		pid_t pid = i == 0 ? nobody : root;
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	rmdir(ours);
	rmdir(other);
	rmdir(slice);
	test_assert(nobody > 0 && root > 0);
	if (!sd_login_sees) {
		fprintf(stderr, "SKIP part: sd-login does not read %s here\n", base);
		free(sid);
		free(other_path);
		return;
	}
	free(sid);
	test_assert_str(path, SESSION_PATH);
	free(path);
	test_assert(other_path == NULL);
	test_assert_str(err, "org.freedesktop.login1.NoSessionForPID");
}

/*
 * libseat's own logind backend (Debian's libseat, unmodified, in tests/tools/libseat-client)
 * finds the session by XDG_SESSION_ID and the state files, takes control, sets the type from
 * XDG_SESSION_TYPE and opens the seat's devices through the service; a device that is not
 * the seat's fails. It releases control as it closes the seat.
 */
static void test_libseat_logind(void) {
	const char *client = getenv("LIBSEAT_CLIENT");
	test_assert(client != NULL);
	char card[128], input[128], foreign[128];
	snprintf(card, sizeof(card), "%s/dev/dri/card0", tmpdir);
	snprintf(input, sizeof(input), "%s/dev/input/event3", tmpdir);
	snprintf(foreign, sizeof(foreign), "%s/dev/input/event9", tmpdir);
	int out[2];
	test_assert(pipe(out) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (enter_state_namespace() == -1) {
			_exit(2);
		}
		dup2(out[1], STDOUT_FILENO);
		setenv("LIBSEAT_BACKEND", "logind", 1);
		setenv("XDG_SESSION_ID", "c1", 1);
		setenv("XDG_SESSION_TYPE", "x11", 1);
		setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_address, 1);
		execl(client, client, card, input, foreign, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	char text[2048];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(text) - 1 && (n = read(out[0], text + len, sizeof(text) - 1 - len)) > 0) {
		len += (size_t)n;
	}
	text[len] = '\0';
	close(out[0]);
	int status;
	waitpid(pid, &status, 0);
	fprintf(stderr, "libseat-client (logind backend):\n%s", text);
	char line[300];
	test_assert(strstr(text, "seat " SEAT " enabled\n") != NULL);
	snprintf(line, sizeof(line), "%s ok 1:5\n", card);
	test_assert(strstr(text, line) != NULL);
	snprintf(line, sizeof(line), "%s ok 1:7\n", input);
	test_assert(strstr(text, line) != NULL);
	snprintf(line, sizeof(line), "%s error ", foreign);
	test_assert(strstr(text, line) != NULL);
	char *type = get_string(SESSION_PATH, SESSION_IFACE, "Type");
	test_assert_str(type, "x11");
	free(type);
	/* It let go of the session: control is free for the next. */
	int r = -1;
	for (int i = 0; i < 250 && r < 0; i++) {
		r = call(bus, SESSION_PATH, SESSION_IFACE, "TakeControl", NULL, NULL, "b", 0);
		if (r < 0) {
			usleep(20000);
		}
	}
	test_assert(r >= 0);
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "ReleaseControl", NULL, NULL, NULL) >= 0);
}

/* Another user's process: not in the session, may not take control or own the name. */
static void test_other_user(void) {
	int fds[2];
	test_assert(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 || setuid(65534) == -1) {
			_exit(2);
		}
		sd_bus *b = bus_connect();
		char result[4] = "---";
		if (b != NULL) {
			char err[128] = "";
			char *path = session_by_pid(b, 0, err, sizeof(err));
			result[0] = path == NULL &&
					strcmp(err, "org.freedesktop.login1.NoSessionForPID") == 0 ?
					'y' : 'n';
			result[1] = call_fails(b, SESSION_PATH, SESSION_IFACE, "TakeControl",
					    SD_BUS_ERROR_ACCESS_DENIED, "b", 0, 0) ? 'y' : 'n';
			result[2] = sd_bus_request_name(b, LOGIN1, 0) == -EACCES ? 'y' : 'n';
			/* Its own session is none. */
			sd_bus_error e = SD_BUS_ERROR_NULL;
			char *id = NULL;
			if (sd_bus_get_property_string(b, LOGIN1, SESSION_PATH_SELF, SESSION_IFACE, "Id",
				    &e, &id) >= 0 ||
				!sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
				result[2] = 'n';
			}
		}
		(void)!write(fds[1], result, 3);
		_exit(0);
	}
	close(fds[1]);
	char result[4] = "";
	ssize_t n = read(fds[0], result, 3);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	test_assert(n == 3);
	fprintf(stderr, "other user: session %c, control %c, name and session/self %c\n",
		result[0], result[1], result[2]);
	test_assert(strcmp(result, "yyy") == 0);
	/* Nor does root find the session for a process of another user. */
	pid_t sleeper = fork();
	if (sleeper == 0) {
		if (setgid(65534) == 0 && setuid(65534) == 0) {
			pause();
		}
		_exit(2);
	}
	usleep(100000);
	char err[128] = "";
	char *path = session_by_pid(bus, (uint32_t)sleeper, err, sizeof(err));
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	test_assert(path == NULL);
	test_assert_str(err, "org.freedesktop.login1.NoSessionForPID");
	test_assert(service_answers());
}

static void test_control(void) {
	int fd, inactive;
	char err[128];
	/* Nothing without control. */
	test_assert(take_device(bus, card0, &fd, &inactive, err, sizeof(err)) == -1);
	test_assert_str(err, "org.freedesktop.login1.NotInControl");
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "ReleaseControl",
		"org.freedesktop.login1.NotInControl", NULL, 0, 0));

	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "TakeControl", NULL, NULL, "b", 0) >= 0);
	/* Again from the controller: as logind, nothing changes. */
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "TakeControl", NULL, NULL, "b", 0) >= 0);
	/* A second controller is refused. */
	sd_bus *other = bus_connect();
	test_assert(other != NULL);
	bool refused = call_fails(other, SESSION_PATH, SESSION_IFACE, "TakeControl",
		"System.Error.EBUSY", "b", 0, 0);
	char other_err[128] = "";
	int ofd, oinactive;
	bool other_take = take_device(other, card0, &ofd, &oinactive, other_err,
		sizeof(other_err)) == 0;
	sd_bus_flush_close_unref(other);
	test_assert(refused);
	test_assert(!other_take);
	test_assert_str(other_err, "org.freedesktop.login1.NotInControl");

	/* The controller's devices, opened by the endpoint. */
	test_assert(take_device(bus, card0, &fd, &inactive, err, sizeof(err)) == 0);
	test_assert(!inactive);
	test_assert(fd_rdev(fd) == card0);
	char byte = 1;
	test_assert(read(fd, &byte, 1) == 1 && byte == 0); /* /dev/zero's numbers: it reads */
	close(fd);
	test_assert(take_device(bus, event3, &fd, &inactive, err, sizeof(err)) == 0);
	test_assert(!inactive);
	test_assert(fd_rdev(fd) == event3);
	close(fd);
	test_assert(take_device(bus, card0, &fd, &inactive, err, sizeof(err)) == -1);
	test_assert_str(err, "org.freedesktop.login1.DeviceIsTaken");
	test_assert(service_answers());
}

/* Devices that are not the seat's, or not of a kind logind hands out: an error, no fd. */
static void test_bad_devices(void) {
	int fd = -1, inactive;
	char err[128];
	/* In the container's /dev but not on the seat: the endpoint refuses it. */
	test_assert(take_device(bus, event9, &fd, &inactive, err, sizeof(err)) == -1);
	test_assert_str(err, SD_BUS_ERROR_FILE_NOT_FOUND);
	/* A render node is on the seat, but logind gives DRM cards, evdev and hidraw only. */
	test_assert(take_device(bus, render, &fd, &inactive, err, sizeof(err)) == -1);
	test_assert_str(err, "System.Error.ENODEV");
	/* No node at all, and numbers that are no device. */
	test_assert(take_device(bus, makedev(1, 4), &fd, &inactive, err, sizeof(err)) == -1);
	test_assert_str(err, "System.Error.ENODEV");
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "TakeDevice",
		SD_BUS_ERROR_INVALID_ARGS, "uu", 0, 0));
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "TakeDevice",
		SD_BUS_ERROR_INVALID_ARGS, "uu", 0x100000, 1));
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "ReleaseDevice",
		"org.freedesktop.login1.DeviceNotTaken", "uu", 1, 8));
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "PauseDeviceComplete",
		"org.freedesktop.login1.DeviceNotTaken", "uu", 1, 8));
	test_assert(service_answers());
}

/* Unknown methods, objects and properties, wrong argument types: errors, the service stays. */
static void test_malformed(void) {
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "Frobnicate",
		SD_BUS_ERROR_UNKNOWN_METHOD, NULL, 0, 0));
	test_assert(call_fails(bus, LOGIND_PATH_MANAGER "/session/c2", SESSION_IFACE,
		"TakeControl", SD_BUS_ERROR_UNKNOWN_OBJECT, "b", 0, 0));
	/* TakeDevice with a string, GetSessionByPID with two numbers. */
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "TakeDevice",
		SD_BUS_ERROR_INVALID_ARGS, "s", 0, 0));
	test_assert(call_fails(bus, LOGIND_PATH_MANAGER, MANAGER_IFACE, "GetSessionByPID",
		SD_BUS_ERROR_INVALID_ARGS, "uu", 1, 2));
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "SetType",
		SD_BUS_ERROR_INVALID_ARGS, "s", 0, 0)); /* "x" is no session type */
	test_assert(call_fails(bus, SEAT_PATH, "org.freedesktop.login1.Seat", "SwitchTo",
		SD_BUS_ERROR_NOT_SUPPORTED, "u", 5, 0));
	sd_bus_error error = SD_BUS_ERROR_NULL;
	test_assert(call(bus, SESSION_PATH, "org.freedesktop.DBus.Properties", "Get", &error, NULL,
			    "ss", SESSION_IFACE, "NoSuchProperty") < 0);
	test_assert_str(error.name, SD_BUS_ERROR_UNKNOWN_PROPERTY);
	sd_bus_error_free(&error);
	/* What a controller may do with its session. */
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "SetType", NULL, NULL, "s", "wayland") >= 0);
	char *type = get_string(SESSION_PATH, SESSION_IFACE, "Type");
	test_assert_str(type, "wayland");
	free(type);
	test_assert(state_has("sessions/c1", "TYPE=wayland"));
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "Activate", NULL, NULL, NULL) >= 0);
	test_assert(service_answers());
}

static size_t want_pauses, want_resumes;
static int want_active;

static bool pauses_done(void) {
	return n_pauses >= want_pauses && have_ep_reply && last_active == want_active;
}

static bool resumes_done(void) {
	return n_resumes >= want_resumes && have_ep_reply && last_active == want_active;
}

static const struct pause_signal *find_pause(dev_t devnum, size_t from) {
	for (size_t i = from; i < n_pauses; i++) {
		if (pauses[i].devnum == devnum) {
			return &pauses[i];
		}
	}
	return NULL;
}

static int find_resume(dev_t devnum, size_t from) {
	for (size_t i = from; i < n_resumes; i++) {
		if (resumes[i].devnum == devnum) {
			return resumes[i].fd;
		}
	}
	return -1;
}

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Tells the endpoint to deactivate ('d') or activate ('a') the seat and processes the bus
 * until done() holds: the milliseconds it took, or -1 after 5 s. */
static long long endpoint_switch(char c, bool (*done)(void)) {
	have_ep_reply = false;
	long long start = now_ms();
	if (write(ep_cmd, &c, 1) != 1 || !pump_until(done)) {
		return -1;
	}
	return now_ms() - start;
}

/* A switch away and back: PauseDevice, acknowledged by the service; ResumeDevice. */
static void test_switch(void) {
	/* Away. The controller answers "pause" as Xorg does, numbers swapped. */
	size_t p0 = n_pauses, r0 = n_resumes;
	ack_pauses = ack_swapped = true;
	want_pauses = p0 + 2;
	want_active = 0;
	long long took = endpoint_switch('d', pauses_done);
	ack_pauses = false;
	test_assert(took >= 0);
	/* The endpoint heard the service's acknowledgement, and well before the service's pause
	 * timeout: it took the swapped PauseDeviceComplete for card0's. */
	test_assert(ep_reply[0] == 'D' && ep_reply[1] == 'a');
	fprintf(stderr, "disable acknowledged after %lld ms\n", took);
	test_assert(took < atoi(PAUSE_TIMEOUT_MS) / 2);
	const struct pause_signal *p = find_pause(card0, p0);
	test_assert(p != NULL);
	test_assert_str(p->type, "pause");
	p = find_pause(event3, p0);
	test_assert(p != NULL);
	test_assert_str(p->type, "force");
	test_assert(get_bool(SESSION_PATH, SESSION_IFACE, "Active") == 0);
	test_assert(state_has("sessions/c1", "ACTIVE=0"));
	test_assert(!state_has("seats/" SEAT, "ACTIVE=c1"));

	/* A device taken while away: a placeholder of the node, paused. */
	int fd, inactive;
	char err[128];
	test_assert(take_device(bus, event4, &fd, &inactive, err, sizeof(err)) == 0);
	test_assert(inactive);
	test_assert(fd_rdev(fd) == event4);
	char byte;
	test_assert(read(fd, &byte, 1) == -1);
	close(fd);

	/* Back: each device resumes with a working fd. */
	want_resumes = r0 + 3;
	want_active = 1;
	test_assert(endpoint_switch('a', resumes_done) >= 0);
	test_assert(fd_rdev(find_resume(card0, r0)) == card0);
	test_assert(fd_rdev(find_resume(event3, r0)) == event3);
	fd = find_resume(event4, r0);
	test_assert(fd_rdev(fd) == event4);
	test_assert(read(fd, &byte, 1) == 1); /* urandom's numbers: a real open */
	test_assert(get_bool(SESSION_PATH, SESSION_IFACE, "Active") == 1);
	test_assert(state_has("sessions/c1", "ACTIVE=1"));
	test_assert(state_has("seats/" SEAT, "ACTIVE=c1"));
}

/* A controller that never answers "pause" does not keep the seat: the service's timeout. */
static void test_pause_timeout(void) {
	want_pauses = n_pauses + 1;
	want_active = 0;
	ack_pauses = false;
	long long took = endpoint_switch('d', pauses_done);
	fprintf(stderr, "unanswered pause: disable acknowledged after %lld ms\n", took);
	test_assert(ep_reply[0] == 'D' && ep_reply[1] == 'a');
	test_assert(took >= atoi(PAUSE_TIMEOUT_MS) - 100);
	want_resumes = n_resumes + 1;
	want_active = 1;
	test_assert(endpoint_switch('a', resumes_done) >= 0);
}

static int taken_fd = -2, taken_inactive = -1;

static int on_taken(sd_bus_message *m, void *data, sd_bus_error *error) {
	int raw;
	taken_fd = -1;
	if (!sd_bus_message_is_method_error(m, NULL) &&
		sd_bus_message_read(m, "hb", &raw, &taken_inactive) >= 0) {
		taken_fd = fcntl(raw, F_DUPFD_CLOEXEC, 0);
	}
	return 0;
}

static bool taken(void) {
	return taken_fd != -2;
}

static bool away(void) {
	return have_ep_reply && last_active == 0;
}

static bool back(void) {
	return last_active == 1;
}

/*
 * Xorg asks for an input device when the container's udev announces it, which on a switch
 * back can come before the service has read the endpoint's enable. The answer must be the
 * seat's state then, not the one last read: Xorg never asks again for an input device it got
 * paused. The service is stopped while both wait, the request queued first.
 */
static void test_take_before_enable_read(void) {
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "ReleaseDevice", NULL, NULL, "uu",
			    major(event4), minor(event4)) >= 0);
	ack_pauses = true;
	ack_swapped = false;
	test_assert(endpoint_switch('d', away) >= 0);
	ack_pauses = false;

	kill(service_pid, SIGSTOP);
	taken_fd = -2;
	int r = sd_bus_call_method_async(bus, NULL, LOGIN1, SESSION_PATH, SESSION_IFACE,
		"TakeDevice", on_taken, NULL, "uu", major(event4), minor(event4));
	if (r >= 0) {
		r = sd_bus_flush(bus);
	}
	usleep(200000); /* for dbus-daemon to pass the call on to the stopped service */
	char c = 'a', reply[2] = {0};
	bool enabled = write(ep_cmd, &c, 1) == 1 && read(ep_report, reply, 2) == 2;
	kill(service_pid, SIGCONT);
	test_assert(r >= 0 && enabled && reply[0] == 'A');
	test_assert(pump_until(taken));
	test_assert(taken_fd >= 0);
	test_assert(!taken_inactive);
	char byte;
	test_assert(read(taken_fd, &byte, 1) == 1); /* urandom's: opened, not a placeholder */
	close(taken_fd);
	test_assert(pump_until(back));
}

static size_t gone_from; /* the first PauseDevice that may say "gone" */

static bool event3_gone(void) {
	const struct pause_signal *p = find_pause(event3, gone_from);
	return p != NULL && strcmp(p->type, "gone") == 0;
}

static void test_release(void) {
	/* A device released is "gone", as logind says it. */
	gone_from = n_pauses;
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "ReleaseDevice", NULL, NULL, "uu",
			    major(event3), minor(event3)) >= 0);
	test_assert(pump_until(event3_gone));
	test_assert(call_fails(bus, SESSION_PATH, SESSION_IFACE, "ReleaseDevice",
		"org.freedesktop.login1.DeviceNotTaken", "uu", major(event3), minor(event3)));
	/* event3 is free again: taken anew. */
	int fd, inactive;
	char err[128];
	test_assert(take_device(bus, event3, &fd, &inactive, err, sizeof(err)) == 0);
	close(fd);
	test_assert(call(bus, SESSION_PATH, SESSION_IFACE, "ReleaseControl", NULL, NULL, NULL) >= 0);
	test_assert(take_device(bus, card0, &fd, &inactive, err, sizeof(err)) == -1);
	test_assert_str(err, "org.freedesktop.login1.NotInControl");

	/* A controller that goes away leaves the session free for the next. */
	sd_bus *other = bus_connect();
	test_assert(other != NULL);
	int r = call(other, SESSION_PATH, SESSION_IFACE, "TakeControl", NULL, NULL, "b", 0);
	sd_bus_flush_close_unref(other);
	test_assert(r >= 0);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		r = call(bus, SESSION_PATH, SESSION_IFACE, "TakeControl", NULL, NULL, "b", 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (r < 0 && now.tv_sec - start.tv_sec < 5 && usleep(20000) == 0);
	test_assert(r >= 0);
	test_assert(take_device(bus, card0, &fd, &inactive, err, sizeof(err)) == 0);
	close(fd);
	test_assert(service_answers());
}

/* Setup */

static pid_t spawn(char *const argv[], int out_fd) {
	pid_t pid = fork();
	if (pid == 0) {
		if (out_fd >= 0) {
			dup2(out_fd, STDOUT_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* config: tests/tools/system-bus.conf (anyone may connect and call; only the service's
 * policy lets root own login1), listening in tmpdir. */
static int start_bus(const char *config) {
	int out[2];
	if (pipe(out) == -1) {
		return -1;
	}
	char arg[300], address[300];
	snprintf(arg, sizeof(arg), "--config-file=%s", config);
	snprintf(address, sizeof(address), "--address=unix:path=%s/bus", tmpdir);
	char *argv[] = {"/usr/bin/dbus-daemon", arg, address, "--nofork", "--print-address=1",
		NULL};
	bus_pid = spawn(argv, out[1]);
	close(out[1]);
	ssize_t n = read(out[0], bus_address, sizeof(bus_address) - 1);
	close(out[0]);
	if (n <= 0) {
		return -1;
	}
	bus_address[n] = '\0';
	bus_address[strcspn(bus_address, "\n")] = '\0';
	return 0;
}

static int start_endpoint(void) {
	int cmd[2], rep[2];
	if (pipe2(cmd, O_CLOEXEC) == -1 || pipe2(rep, O_CLOEXEC) == -1) {
		return -1;
	}
	const char *v = getenv("LIBSEAT_VERSION");
	bool legacy = v == NULL || strncmp(v, "0.", 2) != 0 || atoi(v + 2) < 9;
	endpoint_pid = fork();
	if (endpoint_pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		ep_report_w = rep[1];
		endpoint_main(cmd[0], legacy);
	}
	close(cmd[0]);
	close(rep[1]);
	ep_cmd = cmd[1];
	ep_report = rep[0];
	char ready[2];
	return read(ep_report, ready, 2) == 2 && ready[0] == 'R' ? 0 : -1;
}

/* The container's /dev: nodes with the seat devices' numbers, and two that are not its. */
static int make_dev_dir(void) {
	static const struct {
		const char *path;
		unsigned minor; /* of major 1 */
	} nodes[] = {
		{"dev/dri/card0", 5},
		{"dev/dri/renderD128", 3},
		{"dev/input/event3", 7},
		{"dev/input/event4", 9},
		{"dev/input/event9", 8},
	};
	char path[256];
	const char *dirs[] = {"dev", "dev/dri", "dev/input", "state"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, dirs[i]);
		if (mkdir(path, 0755) == -1) {
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, nodes[i].path);
		if (mknod(path, S_IFCHR | 0600, makedev(1, nodes[i].minor)) == -1) {
			return -1;
		}
	}
	return 0;
}

static int wait_for_service(void) {
	for (int i = 0; i < 500; i++) {
		int r = sd_bus_get_name_creds(bus, LOGIN1, 0, NULL);
		if (r >= 0) {
			return 0;
		}
		int status;
		if (waitpid(service_pid, &status, WNOHANG) == service_pid) {
			return -1;
		}
		usleep(20000);
	}
	return -1;
}

int main(void) {
	log_init(getenv("TEST_LOG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_SILENT);
	signal(SIGPIPE, SIG_IGN);
	const char *service = getenv("SEATD_NS_LOGIND");
	const char *bus_config = getenv("SEATD_NS_TEST_BUS_CONF");
	if (geteuid() != 0) {
		printf("SKIP: needs root (mknod, a second user, a mount namespace)\n");
		return 77;
	}
	if (access("/usr/bin/dbus-daemon", X_OK) == -1) {
		printf("SKIP: no dbus-daemon (tests/deps.sh installs it)\n");
		return 77;
	}
	if (service == NULL || bus_config == NULL || mkdtemp(tmpdir) == NULL ||
		chmod(tmpdir, 0755) == -1 || make_dev_dir() == -1) {
		perror("setup");
		return EXIT_FAILURE;
	}
	if (start_endpoint() == -1 || start_bus(bus_config) == -1) {
		fprintf(stderr, "setup: endpoint or bus failed\n");
		return EXIT_FAILURE;
	}
	char sock[160], state[160], dev[160];
	snprintf(sock, sizeof(sock), "%s/seatd.sock", tmpdir);
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	snprintf(dev, sizeof(dev), "%s/dev", tmpdir);
	setenv("SEATD_SOCK", sock, 1);
	char *argv[] = {(char *)service, "--user", "root", "--bus", bus_address, "--state-dir",
		state, "--dev-dir", dev, "--pause-timeout", PAUSE_TIMEOUT_MS, NULL};
	service_pid = spawn(argv, -1);
	bus = bus_connect();
	if (bus == NULL || wait_for_service() == -1 ||
		sd_bus_match_signal(bus, NULL, NULL, SESSION_PATH, NULL, NULL, on_session_signal,
			NULL) < 0) {
		fprintf(stderr, "setup: the service did not come up\n");
		return EXIT_FAILURE;
	}
	/* The endpoint enabled the seat at once: wait until the service has it. */
	for (int i = 0; i < 250 && get_bool(SESSION_PATH, SESSION_IFACE, "Active") != 1; i++) {
		usleep(20000);
	}

	test_run(test_lookup);
	test_run(test_state_files);
	test_run(test_sd_login);
	test_run(test_other_user);
	test_run(test_session_scope);
	test_run(test_libseat_logind);
	test_run(test_control);
	test_run(test_bad_devices);
	test_run(test_malformed);
	test_run(test_switch);
	test_run(test_pause_timeout);
	test_run(test_take_before_enable_read);
	test_run(test_release);

	/* SIGTERM: a clean exit that takes the session's files away. */
	kill(service_pid, SIGTERM);
	int status = -1;
	waitpid(service_pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || state_has("sessions/c1", "UID=0")) {
		fprintf(stderr, "FAIL service exit: status %d, state file left %d\n", status,
			state_has("sessions/c1", "UID=0"));
		test_failed++;
	}
	sd_bus_flush_close_unref(bus);
	kill(bus_pid, SIGTERM);
	kill(endpoint_pid, SIGTERM);
	waitpid(bus_pid, NULL, 0);
	waitpid(endpoint_pid, NULL, 0);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return test_main_end();
}
