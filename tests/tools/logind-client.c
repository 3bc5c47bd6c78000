/*
 * logind-client: a logind client for the tests, as a display server starts: it finds its
 * session by its pid, reads whether it is active and its seat, takes control and takes
 * each device. It talks to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the default).
 *
 *   logind-client [DEVICE|MAJOR:MINOR...]
 *       prints "session PATH" or "session error NAME", then "active 0|1", "seat NAME",
 *       "control ok" or "control error NAME", and per device "DEVICE ok MAJOR:MINOR
 *       inactive 0|1" or "DEVICE error NAME: MESSAGE". Exits 0 once it printed all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-bus.h>

#define LOGIN1 "org.freedesktop.login1"
#define SESSION_IFACE "org.freedesktop.login1.Session"

static void print_error(const char *what, const sd_bus_error *error, int r) {
	printf("%s error %s: %s\n", what, error->name != NULL ? error->name : "(none)",
		error->message != NULL ? error->message : strerror(-r));
}

/* The device numbers of a path, or of "MAJOR:MINOR": 0, or -1 when neither. */
static int device_numbers(const char *arg, unsigned *maj, unsigned *min) {
	char end;
	if (sscanf(arg, "%u:%u%c", maj, min, &end) == 2) {
		return 0;
	}
	struct stat st;
	if (stat(arg, &st) == -1 || !S_ISCHR(st.st_mode)) {
		return -1;
	}
	*maj = major(st.st_rdev);
	*min = minor(st.st_rdev);
	return 0;
}

int main(int argc, char *argv[]) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	sd_bus *bus = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r = sd_bus_open_system(&bus);
	if (r < 0) {
		printf("bus error %s\n", strerror(-r));
		return 1;
	}
	const char *path;
	r = sd_bus_call_method(bus, LOGIN1, "/org/freedesktop/login1",
		"org.freedesktop.login1.Manager", "GetSessionByPID", &error, &reply, "u", 0);
	if (r < 0 || sd_bus_message_read(reply, "o", &path) < 0) {
		print_error("session", &error, r);
		return 1;
	}
	char *session = strdup(path);
	reply = sd_bus_message_unref(reply);
	printf("session %s\n", session);

	int active = -1;
	char *seat = NULL;
	sd_bus_get_property_trivial(bus, LOGIN1, session, SESSION_IFACE, "Active", &error, 'b',
		&active);
	sd_bus_error_free(&error);
	if (sd_bus_get_property(bus, LOGIN1, session, SESSION_IFACE, "Seat", &error, &reply,
		    "(so)") >= 0) {
		const char *id, *seat_path;
		if (sd_bus_message_read(reply, "(so)", &id, &seat_path) >= 0) {
			seat = strdup(id);
		}
		reply = sd_bus_message_unref(reply);
	}
	sd_bus_error_free(&error);
	printf("active %d\nseat %s\n", active, seat != NULL ? seat : "(none)");

	r = sd_bus_call_method(bus, LOGIN1, session, SESSION_IFACE, "TakeControl", &error, NULL,
		"b", 0);
	if (r < 0) {
		print_error("control", &error, r);
	} else {
		printf("control ok\n");
	}
	sd_bus_error_free(&error);

	for (int i = 1; i < argc; i++) {
		unsigned maj, min;
		if (device_numbers(argv[i], &maj, &min) == -1) {
			printf("%s error no such device\n", argv[i]);
			continue;
		}
		r = sd_bus_call_method(bus, LOGIN1, session, SESSION_IFACE, "TakeDevice", &error,
			&reply, "uu", maj, min);
		int fd, inactive;
		if (r >= 0 && sd_bus_message_read(reply, "hb", &fd, &inactive) >= 0) {
			struct stat st;
			if (fstat(fd, &st) == 0) {
				printf("%s ok %u:%u inactive %d\n", argv[i], major(st.st_rdev),
					minor(st.st_rdev), inactive);
			}
		} else {
			print_error(argv[i], &error, r);
		}
		reply = sd_bus_message_unref(reply);
		sd_bus_error_free(&error);
	}
	free(seat);
	free(session);
	sd_bus_flush_close_unref(bus);
	return 0;
}
