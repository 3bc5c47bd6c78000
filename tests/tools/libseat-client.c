/*
 * libseat-client: an unmodified libseat user, as a compositor is one, for the tests: opens
 * the seat through whatever libseat finds (LIBSEAT_BACKEND, SEATD_SOCK), prints its name,
 * then tries to open each DEVICE and prints "PATH ok MAJOR:MINOR" or "PATH error MESSAGE".
 *
 *   libseat-client DEVICE...
 */
#include <errno.h>
#include <libseat.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static bool enabled;

static void enable_seat(struct libseat *seat, void *data) {
	(void)seat;
	(void)data;
	enabled = true;
}

static void disable_seat(struct libseat *seat, void *data) {
	(void)data;
	enabled = false;
	libseat_disable_seat(seat);
}

int main(int argc, char *argv[]) {
	static struct libseat_seat_listener listener = {
		.enable_seat = enable_seat,
		.disable_seat = disable_seat,
	};
	libseat_set_log_level(LIBSEAT_LOG_LEVEL_SILENT);
	struct libseat *seat = libseat_open_seat(&listener, NULL);
	if (seat == NULL) {
		printf("open_seat error %s\n", strerror(errno));
		return 1;
	}
	for (int tries = 0; !enabled && tries < 50; tries++) {
		libseat_dispatch(seat, 100);
	}
	printf("seat %s %s\n", libseat_seat_name(seat), enabled ? "enabled" : "not-enabled");
	for (int i = 1; i < argc; i++) {
		int fd;
		int id = libseat_open_device(seat, argv[i], &fd);
		struct stat st;
		if (id == -1) {
			printf("%s error %s\n", argv[i], strerror(errno));
		} else if (fstat(fd, &st) == 0) {
			printf("%s ok %u:%u\n", argv[i], major(st.st_rdev), minor(st.st_rdev));
			libseat_close_device(seat, id);
			close(fd);
		}
	}
	libseat_close_seat(seat);
	return 0;
}
