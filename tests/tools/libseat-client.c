/*
 * libseat-client: an unmodified libseat user, as a compositor is one, for the tests. It opens
 * the seat through whatever libseat finds (LIBSEAT_BACKEND, SEATD_SOCK).
 *
 *   libseat-client DEVICE...
 *       prints "seat NAME enabled|not-enabled", then tries to open each DEVICE and prints
 *       "PATH ok MAJOR:MINOR" or "PATH error MESSAGE", and exits.
 *
 *   libseat-client --stay [--no-ack] DEVICE...
 *       prints "seat NAME", then stays connected as a compositor does, a line per event:
 *       "enable", then a try of the devices; "disable" once it closed what it had opened and
 *       acknowledged (with --no-ack it never acknowledges: "disable ignored"). A try prints,
 *       per DEVICE, "try N PATH libseat ok MAJOR:MINOR" or "try N PATH libseat error
 *       MESSAGE", and "try N PATH open ..." for a plain open(2) of the same path; devices
 *       opened through libseat stay open until the next disable. SIGUSR1 makes it try again,
 *       SIGTERM closes the seat and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <libseat.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_DEVICES 16

static bool enabled, no_ack, stay;
static char **devices;
static int n_devices;
static int open_ids[MAX_DEVICES], open_fds[MAX_DEVICES];
static int tries;

static void print_result(const char *label, int fd, int err) {
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		printf("%s ok %u:%u\n", label, major(st.st_rdev), minor(st.st_rdev));
	} else {
		printf("%s error %s\n", label, strerror(err));
	}
}

/* Opens every device through libseat (kept open) and plainly (closed at once). */
static void try_devices(struct libseat *seat) {
	tries++;
	for (int i = 0; i < n_devices; i++) {
		char label[256];
		snprintf(label, sizeof(label), "try %d %s libseat", tries, devices[i]);
		if (open_ids[i] == -1) {
			errno = 0;
			int fd = -1;
			int id = libseat_open_device(seat, devices[i], &fd);
			print_result(label, id == -1 ? -1 : fd, errno);
			if (id != -1) {
				open_ids[i] = id;
				open_fds[i] = fd;
			}
		} else {
			print_result(label, open_fds[i], 0);
		}
		snprintf(label, sizeof(label), "try %d %s open", tries, devices[i]);
		int fd = open(devices[i], O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		print_result(label, fd, errno);
		if (fd != -1) {
			close(fd);
		}
	}
}

static void close_devices(struct libseat *seat) {
	for (int i = 0; i < n_devices; i++) {
		if (open_ids[i] != -1) {
			libseat_close_device(seat, open_ids[i]);
			close(open_fds[i]);
			open_ids[i] = open_fds[i] = -1;
		}
	}
}

static void enable_seat(struct libseat *seat, void *data) {
	(void)data;
	enabled = true;
	if (stay) {
		printf("enable\n");
		try_devices(seat);
	}
}

static void disable_seat(struct libseat *seat, void *data) {
	(void)data;
	enabled = false;
	if (!stay) {
		libseat_disable_seat(seat);
		return;
	}
	if (no_ack) {
		printf("disable ignored\n");
		return;
	}
	/* As a compositor does: let go of the devices, then acknowledge. */
	close_devices(seat);
	if (libseat_disable_seat(seat) == -1) {
		printf("disable error %s\n", strerror(errno));
		return;
	}
	printf("disable\n");
}

static const struct libseat_seat_listener listener = {
	.enable_seat = enable_seat,
	.disable_seat = disable_seat,
};

static int run_once(struct libseat *seat) {
	for (int round = 0; !enabled && round < 50; round++) {
		libseat_dispatch(seat, 100);
	}
	printf("seat %s %s\n", libseat_seat_name(seat), enabled ? "enabled" : "not-enabled");
	for (int i = 0; i < n_devices; i++) {
		int fd;
		int id = libseat_open_device(seat, devices[i], &fd);
		if (id == -1) {
			print_result(devices[i], -1, errno);
		} else {
			print_result(devices[i], fd, 0);
			libseat_close_device(seat, id);
			close(fd);
		}
	}
	libseat_close_seat(seat);
	return 0;
}

static void no_op(int sig) {
	(void)sig;
}

static int run_staying(struct libseat *seat) {
	/* A handler, even one never run: a container's init (pid 1) gets no signal it has left
	 * at SIG_DFL, and signalfd would then never see one. */
	struct sigaction sa = {.sa_handler = no_op};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd == -1) {
		printf("signalfd error %s\n", strerror(errno));
		return 1;
	}
	printf("seat %s\n", libseat_seat_name(seat));
	for (;;) {
		if (libseat_dispatch(seat, 0) == -1) {
			printf("dispatch error %s\n", strerror(errno));
			return 1;
		}
		struct pollfd pfd[2] = {
			{.fd = libseat_get_fd(seat), .events = POLLIN},
			{.fd = sfd, .events = POLLIN},
		};
		if (poll(pfd, 2, -1) == -1) {
			continue;
		}
		if (pfd[1].revents != 0) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGUSR1) {
				try_devices(seat);
			} else {
				close_devices(seat);
				libseat_close_seat(seat);
				printf("closed\n");
				return 0;
			}
		}
	}
}

int main(int argc, char *argv[]) {
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--stay") == 0) {
			stay = true;
		} else if (strcmp(argv[i], "--no-ack") == 0) {
			no_ack = true;
		} else {
			fprintf(stderr, "libseat-client: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	devices = argv + i;
	n_devices = argc - i;
	if (n_devices > MAX_DEVICES) {
		fprintf(stderr, "libseat-client: at most %d devices\n", MAX_DEVICES);
		return 2;
	}
	for (int d = 0; d < MAX_DEVICES; d++) {
		open_ids[d] = open_fds[d] = -1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libseat_set_log_level(LIBSEAT_LOG_LEVEL_SILENT);
	struct libseat *seat = libseat_open_seat(&listener, NULL);
	if (seat == NULL) {
		printf("open_seat error %s\n", strerror(errno));
		return 1;
	}
	return stay ? run_staying(seat) : run_once(seat);
}
