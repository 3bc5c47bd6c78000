/*
 * libFuzzer target: seatd-ns-logind's message handling. The service's bus objects (the real
 * manager.c, session.c, seat.c) serve on a private dbus-daemon started once; the libseat side
 * is fake_seat_devices.c. Each input is a program of calls from two clients (one may take
 * control) and of the seat's enables and disables, with arguments from the input: any
 * sequence must leave the service answering and its state consistent (devices only with a
 * controller, each device once, nothing active on a seat that is away).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_seat_devices.h"
#include "fuzz_check.h"
#include "log.h"
#include "logind.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SESSION_PATH "/org/freedesktop/login1/session/c1"

static struct logind ld;
static char bus_address[256];
static sd_bus *clients[2];
static int replies_pending;

/* Starts dbus-daemon (it dies with us) and connects the service and the clients. */
static void setup(void) {
	static char dir[256];
	fuzz_scratch_dir(dir, sizeof(dir), "logind");
	char config[300];
	snprintf(config, sizeof(config), "%s/bus.conf", dir);
	FILE *f = fopen(config, "w");
	check(f != NULL, "bus config");
	fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
		   "1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		   "<busconfig><listen>unix:path=%s/bus</listen><auth>EXTERNAL</auth>"
		   "<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>"
		   "<allow send_destination=\"*\"/><allow receive_sender=\"*\"/></policy>"
		   "</busconfig>\n",
		dir);
	fclose(f);
	int out[2];
	check(pipe(out) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], STDOUT_FILENO);
		char arg[320];
		snprintf(arg, sizeof(arg), "--config-file=%s", config);
		execl("/usr/bin/dbus-daemon", "dbus-daemon", arg, "--nofork", "--print-address=1",
			(char *)NULL);
		_exit(127);
	}
	close(out[1]);
	ssize_t n = read(out[0], bus_address, sizeof(bus_address) - 1);
	check(n > 0, "dbus-daemon gave its address");
	bus_address[n] = '\0';
	bus_address[strcspn(bus_address, "\n")] = '\0';

	snprintf(ld.session_id, sizeof(ld.session_id), "c1");
	snprintf(ld.seat_id, sizeof(ld.seat_id), "seat1");
	snprintf(ld.type, sizeof(ld.type), "unspecified");
	snprintf(ld.class, sizeof(ld.class), "user");
	snprintf(ld.user_name, sizeof(ld.user_name), "root");
	snprintf(ld.state_dir, sizeof(ld.state_dir), "%s/state", dir);
	ld.pause_timeout_usec = 1; /* fires at the next turn of the loop */
	check(sd_event_new(&ld.event) >= 0, "event loop");
	ld.devices = seat_devices_open(ld.event, "/dev", NULL, NULL);
	check(sd_bus_new(&ld.bus) >= 0 && sd_bus_set_address(ld.bus, bus_address) >= 0 &&
			sd_bus_set_bus_client(ld.bus, 1) >= 0 && sd_bus_start(ld.bus) >= 0,
		"service connects");
	check(manager_add(&ld) >= 0 && session_add(&ld) >= 0 && seat_add(&ld) >= 0 &&
			user_add(&ld) >= 0,
		"objects");
	check(sd_bus_attach_event(ld.bus, ld.event, 0) >= 0, "attach");
	check(sd_bus_request_name(ld.bus, LOGIND_BUS_NAME, 0) >= 0, "name");
}

static const char *unique_name(sd_bus *b) {
	const char *name = NULL;
	return sd_bus_get_unique_name(b, &name) >= 0 ? name : "";
}

static sd_bus *client_connect(void) {
	sd_bus *b = NULL;
	check(sd_bus_new(&b) >= 0 && sd_bus_set_address(b, bus_address) >= 0 &&
			sd_bus_set_bus_client(b, 1) >= 0 && sd_bus_start(b) >= 0,
		"client connects");
	return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
	log_init(LOG_LEVEL_SILENT);
	signal(SIGPIPE, SIG_IGN);
	setup();
	clients[0] = client_connect();
	clients[1] = client_connect();
	return 0;
}

static int on_reply(sd_bus_message *m, void *data, sd_bus_error *error) {
	replies_pending--;
	return 0;
}

/* Runs the service and the clients until every call is answered. */
static void settle(void) {
	for (int round = 0; round < 10000; round++) {
		bool busy = false;
		while (sd_event_run(ld.event, 0) > 0) {
			busy = true;
		}
		for (int i = 0; i < 2; i++) {
			while (sd_bus_process(clients[i], NULL) > 0) {
				busy = true;
			}
		}
		if (!busy && replies_pending == 0) {
			return;
		}
		if (!busy) {
			struct pollfd fds[3] = {
				{.fd = sd_event_get_fd(ld.event), .events = POLLIN},
				{.fd = sd_bus_get_fd(clients[0]), .events = POLLIN},
				{.fd = sd_bus_get_fd(clients[1]), .events = POLLIN},
			};
			poll(fds, 3, 100);
		}
	}
	check(false, "every call is answered");
}

/* The input, read a byte or a string at a time; zeros when it runs out. */
struct input {
	const uint8_t *data;
	size_t size, pos;
};

static uint8_t next(struct input *in) {
	return in->pos < in->size ? in->data[in->pos++] : 0;
}

static uint32_t next_u32(struct input *in) {
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		v = v << 8 | next(in);
	}
	return v;
}

/* A string of up to 15 bytes of the input; D-Bus refuses what is not UTF-8 before us. */
static void next_string(struct input *in, char *buf) {
	size_t len = next(in) % 16;
	for (size_t i = 0; i < len; i++) {
		buf[i] = (char)(next(in) & 0x7f);
		if (buf[i] == '\0') {
			buf[i] = 'x';
		}
	}
	buf[len] = '\0';
}

/* A device number: mostly the seat's own (1:5, 1:7, 1:9), sometimes any. */
static void next_device(struct input *in, uint32_t *maj, uint32_t *min) {
	uint8_t b = next(in);
	if (b < 200) {
		static const uint32_t minors[] = {5, 7, 9, 3};
		*maj = 1;
		*min = minors[b % 4];
		if (b & 0x80) { /* as Xorg acknowledges */
			*maj = *min;
			*min = 1;
		}
	} else {
		*maj = next_u32(in);
		*min = next_u32(in);
	}
}

/* Sends a call, its reply counted in replies_pending; whether it was sent. */
static bool call(sd_bus *b, const char *path, const char *iface, const char *method,
	const char *types, ...) {
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b, &m, LOGIND_BUS_NAME, path, iface, method);
	if (r >= 0 && types != NULL) {
		va_list ap;
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	bool sent = r >= 0 && sd_bus_call_async(b, NULL, m, on_reply, NULL, 0) >= 0;
	if (sent) {
		replies_pending++;
	}
	sd_bus_message_unref(m);
	return sent;
}

static void check_state(void) {
	size_t n = 0;
	for (struct session_device *d = ld.session_devices; d != NULL; d = d->next) {
		n++;
		check(ld.controller != NULL, "devices only with a controller");
		check(ld.active || ld.disable_pending || !d->active,
			"nothing active on a seat that is away");
		check(!d->pause_sent || ld.disable_pending, "pauses only while disabling");
		check(d->fd >= 0, "every device has an fd");
		for (struct session_device *e = d->next; e != NULL; e = e->next) {
			check(e->devnum != d->devnum, "each device once");
		}
	}
	check(n <= 3, "only the seat's three devices");
	check(ld.pause_timer == NULL || ld.disable_pending, "a pause timer only to disable");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct input in = {data, size, 0};
	char text[16];
	uint32_t maj, min;
	while (in.pos < in.size) {
		uint8_t op = next(&in);
		sd_bus *b = clients[op >> 7];
		switch (op % 14) {
		case 0: {
			/* Root asking a session without a controller gets control. */
			bool free_before = ld.controller == NULL;
			/* A client whose connection the bus dropped cannot even ask. */
			bool sent = call(b, SESSION_PATH, "org.freedesktop.login1.Session",
				"TakeControl", "b", next(&in) & 1);
			settle();
			check(!sent || !free_before || ld.controller != NULL, "control is given");
			break;
		}
		case 1:
			call(b, SESSION_PATH, "org.freedesktop.login1.Session", "ReleaseControl", NULL);
			break;
		case 2:
		case 3:
		case 4: {
			static const char *const methods[] = {"TakeDevice", "ReleaseDevice",
				"PauseDeviceComplete"};
			next_device(&in, &maj, &min);
			bool controller = ld.controller != NULL &&
				strcmp(ld.controller, unique_name(b)) == 0;
			call(b, SESSION_PATH, "org.freedesktop.login1.Session", methods[op % 14 - 2],
				"uu", maj, min);
			settle();
			/* The controller taking one of the seat's devices has it. */
			if (op % 14 == 2 && controller && maj == 1 && (min == 5 || min == 7 || min == 9) &&
				!fake_seat_devices_fail_opens) {
				bool taken = false;
				for (struct session_device *d = ld.session_devices; d != NULL; d = d->next) {
					taken = taken || d->devnum == makedev(maj, min);
				}
				check(taken, "the controller gets the seat's devices");
			}
			break;
		}
		case 5:
			next_string(&in, text);
			call(b, SESSION_PATH, "org.freedesktop.login1.Session", "SetType", "s", text);
			break;
		case 6:
			call(b, LOGIND_PATH, "org.freedesktop.login1.Manager", "GetSessionByPID", "u",
				next_u32(&in));
			break;
		case 7:
			next_string(&in, text);
			call(b, LOGIND_PATH, "org.freedesktop.login1.Manager",
				next(&in) & 1 ? "GetSession" : "GetSeat", "s", text);
			break;
		case 8:
			settle();
			if (!ld.active || ld.disable_pending) {
				session_seat_enabled(&ld);
			}
			break;
		case 9:
			settle();
			if (ld.active && !ld.disable_pending) {
				session_seat_disabled(&ld);
			}
			break;
		case 10: {
			static const char *const paths[] = {SESSION_PATH,
				"/org/freedesktop/login1/seat/seat1", "/org/freedesktop/login1/user/_0",
				LOGIND_PATH, "/org/freedesktop/login1/session/self",
				"/org/freedesktop/login1/seat/auto", "/org/freedesktop/login1/user/self/x"};
			call(b, paths[next(&in) % 7], "org.freedesktop.DBus.Properties", "GetAll", "s",
				"");
			break;
		}
		case 11:
			/* Arguments of the wrong type, and a method nobody has. */
			call(b, SESSION_PATH, "org.freedesktop.login1.Session", "TakeDevice", "s", "x");
			call(b, SESSION_PATH, "org.freedesktop.login1.Session", "Frobnicate", NULL);
			break;
		case 12:
			/* The client goes away, and another connects in its place. */
			settle();
			sd_bus_flush_close_unref(b);
			clients[op >> 7] = client_connect();
			break;
		case 13:
			fake_seat_devices_fail_opens = next(&in) & 1;
			break;
		}
		settle();
		check_state();
	}
	/* Back to a seat that is this container's, nobody in control. */
	if (ld.controller != NULL) {
		session_release_control(&ld, false);
	}
	if (!ld.active || ld.disable_pending) {
		session_seat_enabled(&ld);
	}
	fake_seat_devices_fail_opens = false;
	settle();
	check_state();
	return 0;
}
