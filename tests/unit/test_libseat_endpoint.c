/*
 * The libseat endpoint against the real libseat (Debian's libseat-dev, LIBSEAT_BACKEND=seatd):
 * a forked child is the compositor, the test process runs the endpoint in its poller. No DRM
 * or evdev hardware is needed: the seat's "event99" is a node with /dev/null's numbers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libseat.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libseat_endpoint.h"
#include "log.h"
#include "test.h"

TEST_GLOBALS;

#define SEAT_NAME "seat-test"

static char tmpdir[] = "/tmp/test_libseat_endpoint.XXXXXX";
static char sock_path[96], node99[128], node97[128];
static dev_t dev99;
static bool made_nodes;
static struct poller poller;
static bool libseat_legacy; /* the libseat we link is before 0.9 (Debian 12 has 0.7) */

/* Resolver: event99 is ours, event97 resolves to a node that is not what it claims. */
static int resolver_calls;
static char resolver_last[SEATD_MAX_PATH_LEN];

static int resolve(const char *client_path, enum libseat_device_class class,
	struct libseat_endpoint_target *target, void *data) {
	(void)data;
	resolver_calls++;
	snprintf(resolver_last, sizeof(resolver_last), "%s", client_path);
	if (strcmp(client_path, "/dev/input/event99") == 0) {
		snprintf(target->host_path, sizeof(target->host_path), "%s", node99);
		target->devnum = dev99;
		target->class = class;
		return 0;
	}
	if (strcmp(client_path, "/dev/input/event97") == 0) {
		snprintf(target->host_path, sizeof(target->host_path), "%s", node97);
		target->devnum = dev99;
		target->class = class;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

static int disabled_count, disabled_forced;

static void on_disabled(struct libseat_endpoint *ep, bool forced, void *data) {
	(void)ep;
	(void)data;
	disabled_count++;
	disabled_forced += forced;
}

/* Child to parent: what the libseat client saw. */
struct report {
	char tag; /* S seat, E enable, D disable, o open, c close, w switch, q quit, X error */
	int value;
	int err;
	unsigned long long rdev;
	char text[64];
};

/* Parent to child: what to do. */
struct command {
	char op; /* O open, C close, W switch, Q quit */
	int arg;
	char path[64];
};

struct child {
	pid_t pid;
	int cmd_fd;
	int report_fd;
	struct poller_source src;
};

static struct report reports[64];
static size_t n_reports;
static char tag_log[4096];
static size_t tag_log_len;

static int report_handle(int fd, uint32_t events, void *data) {
	(void)events;
	(void)data;
	struct report r;
	ssize_t n = read(fd, &r, sizeof(r));
	if (n != sizeof(r)) {
		r = (struct report){.tag = 'X', .err = n == 0 ? EPIPE : errno};
	}
	if (n_reports < sizeof(reports) / sizeof(reports[0])) {
		reports[n_reports++] = r;
	}
	if (tag_log_len + 1 < sizeof(tag_log)) {
		tag_log[tag_log_len++] = r.tag;
	}
	poller_stop(&poller);
	if (n <= 0) {
		poller_remove(&poller, data);
	}
	return 0;
}

static int tick_handle(int fd, uint32_t events, void *data) {
	(void)events;
	(void)data;
	uint64_t x;
	(void)!read(fd, &x, sizeof(x));
	poller_stop(&poller);
	return 0;
}

/* Runs the poller until pred() holds or 5 s pass; false on timeout. */
static bool pump_until(bool (*pred)(void)) {
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec its = {.it_interval.tv_nsec = 1000000, .it_value.tv_nsec = 1000000};
	timerfd_settime(tfd, 0, &its, NULL);
	struct poller_source src;
	poller_add(&poller, &src, tfd, EPOLLIN, tick_handle, NULL);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool ok = false;
	for (;;) {
		if (pred()) {
			ok = true;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5) {
			break;
		}
		poller_run(&poller);
	}
	poller_remove(&poller, &src);
	close(tfd);
	return ok;
}

static bool have_report(void) {
	return n_reports > 0;
}

/* The next report from the child, or one tagged 'T' on timeout. */
static struct report next_report(void) {
	if (!pump_until(have_report)) {
		return (struct report){.tag = 'T'};
	}
	struct report r = reports[0];
	memmove(reports, reports + 1, (n_reports - 1) * sizeof(reports[0]));
	n_reports--;
	return r;
}

/* The libseat client */

static int child_report_fd;
static bool child_auto_reopen;
static int auto_id = -1, auto_fd = -1;

static void child_send(struct report r) {
	if (write(child_report_fd, &r, sizeof(r)) != sizeof(r)) {
		_exit(3);
	}
}

static struct report child_open(struct libseat *seat, const char *path, int *fd_out) {
	int fd = -1;
	errno = 0;
	int id = libseat_open_device(seat, path, &fd);
	struct report r = {.tag = 'o', .value = id, .err = id < 0 ? errno : 0};
	struct stat st;
	if (id >= 0 && fstat(fd, &st) == 0) {
		r.rdev = st.st_rdev;
	}
	*fd_out = fd;
	return r;
}

static void child_enable(struct libseat *seat, void *data) {
	(void)data;
	child_send((struct report){.tag = 'E'});
	if (child_auto_reopen) {
		struct report r = child_open(seat, "/dev/input/event99", &auto_fd);
		auto_id = r.value;
		child_send(r);
	}
}

static void child_disable(struct libseat *seat, void *data) {
	(void)data;
	/* As libinput does on suspend: close the input devices, then acknowledge. */
	if (auto_id >= 0) {
		libseat_close_device(seat, auto_id);
		close(auto_fd);
		auto_id = auto_fd = -1;
	}
	int r = libseat_disable_seat(seat);
	child_send((struct report){.tag = 'D', .value = r, .err = r < 0 ? errno : 0});
}

static const struct libseat_seat_listener child_listener = {
	.enable_seat = child_enable,
	.disable_seat = child_disable,
};

static void child_main(int cmd_fd) {
	setenv("LIBSEAT_BACKEND", "seatd", 1);
	setenv("SEATD_SOCK", sock_path, 1);
	libseat_set_log_level(LIBSEAT_LOG_LEVEL_SILENT);
	struct libseat *seat = libseat_open_seat(&child_listener, NULL);
	struct report s = {.tag = 'S', .err = seat == NULL ? errno : 0};
	if (seat != NULL) {
		snprintf(s.text, sizeof(s.text), "%s", libseat_seat_name(seat));
	}
	child_send(s);
	if (seat == NULL) {
		_exit(1);
	}
	int fds[64];
	for (;;) {
		if (libseat_dispatch(seat, 0) == -1) {
			child_send((struct report){.tag = 'X', .err = errno});
			_exit(1);
		}
		struct pollfd pfd[2] = {
			{.fd = libseat_get_fd(seat), .events = POLLIN},
			{.fd = cmd_fd, .events = POLLIN},
		};
		if (poll(pfd, 2, -1) == -1) {
			continue;
		}
		if (pfd[0].revents != 0 && libseat_dispatch(seat, 0) == -1) {
			child_send((struct report){.tag = 'X', .err = errno});
			_exit(1);
		}
		if (pfd[1].revents == 0) {
			continue;
		}
		struct command c;
		if (read(cmd_fd, &c, sizeof(c)) != sizeof(c)) {
			_exit(0);
		}
		struct report r = {.tag = c.op + 32};
		switch (c.op) {
		case 'O': {
			int fd;
			r = child_open(seat, c.path, &fd);
			if (r.value >= 0 && r.value < 64) {
				fds[r.value] = fd;
			}
			break;
		}
		case 'C':
			r.value = libseat_close_device(seat, c.arg);
			r.err = r.value < 0 ? errno : 0;
			if (c.arg >= 0 && c.arg < 64) {
				close(fds[c.arg]);
			}
			break;
		case 'W':
			errno = 0;
			r.value = libseat_switch_session(seat, c.arg);
			r.err = r.value < 0 ? errno : 0;
			break;
		case 'Q':
			r.value = libseat_close_seat(seat);
			child_send(r);
			_exit(0);
		}
		child_send(r);
	}
}

static bool child_start(struct child *child, bool auto_reopen) {
	int cmd[2], rep[2];
	if (pipe2(cmd, O_CLOEXEC) == -1 || pipe2(rep, O_CLOEXEC) == -1) {
		return false;
	}
	fflush(stderr);
	pid_t pid = fork();
	if (pid == -1) {
		return false;
	}
	if (pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		child_report_fd = rep[1];
		child_auto_reopen = auto_reopen;
		child_main(cmd[0]);
		_exit(0);
	}
	close(cmd[0]);
	close(rep[1]);
	child->pid = pid;
	child->cmd_fd = cmd[1];
	child->report_fd = rep[0];
	n_reports = 0;
	tag_log_len = 0;
	poller_add(&poller, &child->src, rep[0], EPOLLIN, report_handle, &child->src);
	return true;
}

static struct report child_do(struct child *child, char op, int arg, const char *path) {
	struct command c = {.op = op, .arg = arg};
	if (path != NULL) {
		snprintf(c.path, sizeof(c.path), "%s", path);
	}
	if (write(child->cmd_fd, &c, sizeof(c)) != sizeof(c)) {
		return (struct report){.tag = 'X'};
	}
	return next_report();
}

static void child_stop(struct child *child) {
	struct command c = {.op = 'Q'};
	if (write(child->cmd_fd, &c, sizeof(c)) == sizeof(c)) {
		next_report();
	}
	close(child->cmd_fd);
	int status;
	waitpid(child->pid, &status, 0);
	poller_remove(&poller, &child->src);
	close(child->report_fd);
}

/* Endpoint setup */

/* An endpoint for the processes of the pid namespace pidns (taken over). */
static struct libseat_endpoint *endpoint_new_in(int pidns) {
	unlink(sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	if (fd == -1 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
		listen(fd, 16) == -1) {
		return NULL;
	}
	struct libseat_endpoint *ep = libseat_endpoint_create(&poller, fd, pidns, SEAT_NAME,
		resolve, NULL);
	if (ep != NULL) {
		libseat_endpoint_set_disabled_callback(ep, on_disabled, NULL);
		if (libseat_legacy) {
			libseat_endpoint_set_protocol(ep, LIBSEAT_PROTOCOL_LEGACY);
		}
	}
	disabled_count = disabled_forced = 0;
	return ep;
}

/* The test process's own pid namespace: its children are the container's processes. */
static struct libseat_endpoint *endpoint_new(void) {
	return endpoint_new_in(open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
}

static int count_fds(void) {
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

static int raw_connect(void) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct libseat_endpoint *cur_ep;
static size_t want_clients;

static bool clients_are(void) {
	return libseat_endpoint_client_count(cur_ep) == want_clients;
}

static bool not_pending(void) {
	return !libseat_endpoint_disable_pending(cur_ep);
}

/* Reads one server message header from a raw client (the poller serves meanwhile). */
static int raw_fd_wait;
static bool raw_readable(void) {
	struct pollfd p = {.fd = raw_fd_wait, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

static int raw_read_header(int fd, struct seatd_proto_header *h, void *body, size_t max) {
	raw_fd_wait = fd;
	if (!pump_until(raw_readable)) {
		return -1;
	}
	ssize_t n = recv(fd, h, sizeof(*h), MSG_DONTWAIT);
	if (n != sizeof(*h)) {
		return -1;
	}
	if (h->size > 0) {
		if (h->size > max || recv(fd, body, h->size, MSG_DONTWAIT) != h->size) {
			return -1;
		}
	}
	return 0;
}

static int raw_send(int fd, uint16_t opcode, const void *body, uint16_t size) {
	uint8_t buf[4 + 512];
	struct seatd_proto_header h = {.opcode = opcode, .size = size};
	memcpy(buf, &h, sizeof(h));
	if (size > 0) {
		memcpy(buf + sizeof(h), body, size);
	}
	return send(fd, buf, sizeof(h) + size, MSG_NOSIGNAL) == (ssize_t)(sizeof(h) + size) ? 0 : -1;
}

/* Tests */

static void test_parse(void) {
	struct seatd_request req;
	uint8_t buf[600];
	struct seatd_proto_header h = {.opcode = SEATD_CLIENT_PING, .size = 0};
	memcpy(buf, &h, sizeof(h));
	test_assert(libseat_endpoint_parse(buf, 3, &req) == 0);
	test_assert(libseat_endpoint_parse(buf, 4, &req) == 1 && req.size == 4);

	h = (struct seatd_proto_header){.opcode = SEATD_CLIENT_OPEN_DEVICE, .size = 2 + 19};
	uint16_t path_len = 19;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 4, &path_len, 2);
	memcpy(buf + 6, "/dev/input/event99", 19);
	test_assert(libseat_endpoint_parse(buf, 24, &req) == 0);
	test_assert(libseat_endpoint_parse(buf, 25, &req) == 1);
	test_assert_str(req.path, "/dev/input/event99");
	buf[10] = '\0'; /* a NUL inside */
	test_assert(libseat_endpoint_parse(buf, 25, &req) == -1);
	buf[10] = 'i';
	buf[24] = 'x'; /* no NUL */
	test_assert(libseat_endpoint_parse(buf, 25, &req) == -1);
	path_len = 18;
	memcpy(buf + 4, &path_len, 2);
	test_assert(libseat_endpoint_parse(buf, 25, &req) == -1);

	/* Oversized is refused on the header alone. */
	h = (struct seatd_proto_header){.opcode = SEATD_CLIENT_OPEN_DEVICE, .size = 0xffff};
	memcpy(buf, &h, sizeof(h));
	test_assert(libseat_endpoint_parse(buf, 4, &req) == -1);
	h = (struct seatd_proto_header){.opcode = 0x1234, .size = 0};
	memcpy(buf, &h, sizeof(h));
	test_assert(libseat_endpoint_parse(buf, 4, &req) == -1);
	h = (struct seatd_proto_header){.opcode = SEATD_CLIENT_PING, .size = 4};
	memcpy(buf, &h, sizeof(h));
	test_assert(libseat_endpoint_parse(buf, 4, &req) == -1);
}

static void test_classify(void) {
	test_assert(libseat_endpoint_classify("/dev/dri/card0") == LIBSEAT_DEVICE_DRM_CARD);
	test_assert(libseat_endpoint_classify("/dev/dri/renderD128") == LIBSEAT_DEVICE_DRM_RENDER);
	test_assert(libseat_endpoint_classify("/dev/input/event3") == LIBSEAT_DEVICE_EVDEV);
	test_assert(libseat_endpoint_classify("/dev/hidraw1") == LIBSEAT_DEVICE_HIDRAW);
	const char *bad[] = {"/etc/passwd", "/dev/dri/../input/event99", "/dev/sda",
		"/dev/input/event", "/dev/input/event1/", "/dev/input/event1/../../sda",
		"/dev/input/mouse0", "/dev/dri/card0x", "//dev/dri/card0", "dev/dri/card0",
		"/dev/input/event99999999999", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_assert(libseat_endpoint_classify(bad[i]) == LIBSEAT_DEVICE_NONE);
	}
}

/*
 * The client was refused with err. libseat 0.9 loses the error code on its way out (it reads
 * pending events after the reply, and that leaves errno EAGAIN), so there only the refusal
 * can be checked.
 */
static bool refused(struct report r, int err) {
	return r.value < 0 && (r.err == err || (!libseat_legacy && r.err == EAGAIN));
}

static void test_open_devices(void) {
	struct libseat_endpoint *ep = endpoint_new();
	test_assert(ep != NULL);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	struct child child;
	test_assert(child_start(&child, false));

	struct report r = next_report();
	test_assert(r.tag == 'S' && r.err == 0);
	test_assert_str(r.text, SEAT_NAME);
	test_assert(next_report().tag == 'E');

	r = child_do(&child, 'O', 0, "/dev/input/event99");
	test_assert(r.tag == 'o' && r.value > 0);
	test_assert(r.rdev == dev99);
	int first_id = r.value;

	/* Another seat's device, a node that is not what the resolver said, other classes. */
	r = child_do(&child, 'O', 0, "/dev/input/event98");
	test_assert(r.tag == 'o' && refused(r, ENOENT));
	r = child_do(&child, 'O', 0, "/dev/input/event97");
	test_assert(r.tag == 'o' && refused(r, EACCES));
	int calls = resolver_calls;
	const char *outside[] = {"/etc/passwd", "/dev/dri/../input/event99", "/dev/sda",
		"/dev/input/event99/../../sda", "/proc/self/fd/0"};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		r = child_do(&child, 'O', 0, outside[i]);
		test_assert(r.tag == 'o' && refused(r, ENOENT));
	}
	test_assert(resolver_calls == calls);

	/* Still usable, and the same device again is the same id. */
	r = child_do(&child, 'O', 0, "/dev/input/event99");
	test_assert(r.tag == 'o' && r.value == first_id && r.rdev == dev99);
	/* Refused; libseat before 0.9 does not wait for the answer (and must get none). */
	r = child_do(&child, 'W', 2, NULL);
	test_assert(r.tag == 'w');
	test_assert(libseat_legacy ? r.value == 0 : refused(r, EOPNOTSUPP));
	r = child_do(&child, 'C', first_id, NULL);
	test_assert(r.tag == 'c' && r.value == 0);
	r = child_do(&child, 'C', first_id, NULL);
	test_assert(r.tag == 'c' && r.value == 0);
	r = child_do(&child, 'C', first_id, NULL);
	test_assert(r.tag == 'c' && refused(r, EBADF));

	/* A removed device: our copy goes, the client can still close its id. */
	r = child_do(&child, 'O', 0, "/dev/input/event99");
	test_assert(r.tag == 'o' && r.value > 0);
	int before = count_fds();
	libseat_endpoint_device_removed(ep, node99);
	test_assert(count_fds() == before - 1);
	r = child_do(&child, 'C', r.value, NULL);
	test_assert(r.tag == 'c' && r.value == 0);

	child_stop(&child);
	cur_ep = ep;
	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
}

static bool switch_once(struct child *child, struct libseat_endpoint *ep, bool reopen) {
	(void)child;
	int before = disabled_count;
	if (libseat_endpoint_set_active(ep, false) != 1) {
		fprintf(stderr, "set_active(false) did not wait\n");
		return false;
	}
	struct report r = next_report();
	if (r.tag != 'D' || r.value != 0) {
		fprintf(stderr, "expected D, got %c %d\n", r.tag, r.err);
		return false;
	}
	cur_ep = ep;
	if (!pump_until(not_pending) || disabled_count != before + 1) {
		fprintf(stderr, "disable not done\n");
		return false;
	}
	if (libseat_endpoint_set_active(ep, true) != 0 || (r = next_report()).tag != 'E') {
		fprintf(stderr, "expected E, got %c\n", r.tag);
		return false;
	}
	if (reopen) {
		r = next_report();
		if (r.tag != 'o' || r.value <= 0 || r.rdev != dev99) {
			fprintf(stderr, "expected o, got %c %d %d\n", r.tag, r.value, r.err);
			return false;
		}
	}
	return true;
}

static void test_switching(void) {
	struct libseat_endpoint *ep = endpoint_new();
	test_assert(ep != NULL);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	struct child child;
	test_assert(child_start(&child, true));
	test_assert(next_report().tag == 'S');
	test_assert(next_report().tag == 'E');
	struct report r = next_report();
	test_assert(r.tag == 'o' && r.rdev == dev99);

	for (int i = 0; i < 50; i++) {
		test_assert(switch_once(&child, ep, true));
	}
	/* Disable and enable alternate, in order, each enable followed by the reopen. */
	test_assert(tag_log_len == 3 + 50 * 3);
	for (int i = 0; i < 50; i++) {
		test_assert(memcmp(tag_log + 3 + i * 3, "DEo", 3) == 0);
	}
	test_assert(disabled_forced == 0);

	int fds_before = count_fds();
	for (int i = 0; i < 1000; i++) {
		test_assert(switch_once(&child, ep, true));
	}
	test_assert(count_fds() == fds_before);
	child_stop(&child);
	cur_ep = ep;
	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
}

static void test_garbage(void) {
	struct libseat_endpoint *ep = endpoint_new();
	test_assert(ep != NULL);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	struct child child;
	test_assert(child_start(&child, false));
	test_assert(next_report().tag == 'S');
	test_assert(next_report().tag == 'E');
	cur_ep = ep;
	int fds_before = count_fds();

	/* Unknown opcode, oversized, a path without its NUL, a request before open_seat. */
	uint8_t body[300];
	memset(body, 'a', sizeof(body));
	uint16_t len = 4;
	memcpy(body, &len, 2);
	struct {
		uint16_t opcode, size;
	} bad[] = {
		{0x1234, 0},
		{SEATD_CLIENT_OPEN_DEVICE, 0xffff},
		{SEATD_CLIENT_OPEN_DEVICE, 6},
		{SEATD_CLIENT_CLOSE_DEVICE, 4},
		{SEATD_CLIENT_PING, 300},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = raw_connect();
		test_assert(fd != -1);
		want_clients = 2;
		test_assert(pump_until(clients_are));
		uint16_t size = bad[i].size > sizeof(body) ? 0 : bad[i].size;
		struct seatd_proto_header h = {.opcode = bad[i].opcode, .size = bad[i].size};
		test_assert(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h));
		if (size > 0) {
			test_assert(send(fd, body, size, MSG_NOSIGNAL) == size);
		}
		want_clients = 1;
		test_assert(pump_until(clients_are));
		char c;
		test_assert(recv(fd, &c, 1, MSG_DONTWAIT) == 0);
		close(fd);
	}

	/* A flood of pings never read: dropped once its replies pile up. */
	int fd = raw_connect();
	test_assert(fd != -1);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	want_clients = 2;
	test_assert(pump_until(clients_are));
	struct seatd_proto_header ping[256];
	for (size_t i = 0; i < 256; i++) {
		ping[i] = (struct seatd_proto_header){.opcode = SEATD_CLIENT_PING};
	}
	bool dropped = false;
	for (int round = 0; round < 100000 && !dropped; round++) {
		ssize_t n = send(fd, ping, sizeof(ping), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno != EAGAIN) {
			dropped = true;
		}
		want_clients = 1;
		if (n == -1 && errno == EAGAIN) {
			dropped = pump_until(clients_are);
		} else {
			dropped = dropped || clients_are();
		}
	}
	test_assert(dropped);
	close(fd);

	/* The libseat client never noticed. */
	struct report r = child_do(&child, 'O', 0, "/dev/input/event99");
	test_assert(r.tag == 'o' && r.value > 0 && r.rdev == dev99);
	r = child_do(&child, 'C', r.value, NULL);
	test_assert(r.tag == 'c' && r.value == 0);
	test_assert(count_fds() == fds_before);
	child_stop(&child);
	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
}

static void test_ack_timeout_and_waiting(void) {
	struct libseat_endpoint *ep = endpoint_new();
	test_assert(ep != NULL);
	libseat_endpoint_set_ack_timeout(ep, 50);
	/* Raw clients speak seatd 0.9 here: late acknowledgements and switches get answers. */
	libseat_endpoint_set_protocol(ep, LIBSEAT_PROTOCOL_0_9);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	cur_ep = ep;

	int a = raw_connect(), b = raw_connect();
	test_assert(a != -1 && b != -1);
	struct seatd_proto_header h;
	char body[128];
	test_assert(raw_send(a, SEATD_CLIENT_OPEN_SEAT, NULL, 0) == 0);
	test_assert(raw_read_header(a, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_SEAT_OPENED);
	test_assert_str(body + 2, SEAT_NAME);
	test_assert(raw_read_header(a, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_ENABLE_SEAT);

	/* The second client waits: its seat opens, but it may not open devices. */
	test_assert(raw_send(b, SEATD_CLIENT_OPEN_SEAT, NULL, 0) == 0);
	test_assert(raw_read_header(b, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_SEAT_OPENED);
	uint8_t req[2 + 19];
	uint16_t path_len = 19;
	memcpy(req, &path_len, 2);
	memcpy(req + 2, "/dev/input/event99", 19);
	test_assert(raw_send(b, SEATD_CLIENT_OPEN_DEVICE, req, sizeof(req)) == 0);
	test_assert(raw_read_header(b, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_ERROR);
	int err;
	memcpy(&err, body, sizeof(err));
	test_assert(err == EPERM);

	/* A never acknowledging owner is forced; its late acknowledgement is still answered. */
	test_assert(libseat_endpoint_set_active(ep, false) == 1);
	test_assert(raw_read_header(a, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_DISABLE_SEAT);
	test_assert(pump_until(not_pending));
	test_assert(disabled_count == 1 && disabled_forced == 1);
	test_assert(raw_send(a, SEATD_CLIENT_DISABLE_SEAT, NULL, 0) == 0);
	test_assert(raw_read_header(a, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_SEAT_DISABLED);
	int session = 2;
	test_assert(raw_send(a, SEATD_CLIENT_SWITCH_SESSION, &session, sizeof(session)) == 0);
	test_assert(raw_read_header(a, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_ERROR);
	memcpy(&err, body, sizeof(err));
	test_assert(err == EOPNOTSUPP);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	test_assert(raw_read_header(a, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_ENABLE_SEAT);

	/* The owner leaves: the waiting client gets the seat. */
	close(a);
	test_assert(raw_read_header(b, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_ENABLE_SEAT);
	test_assert(raw_send(b, SEATD_CLIENT_OPEN_DEVICE, req, sizeof(req)) == 0);
	test_assert(raw_read_header(b, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_DEVICE_OPENED);
	close(b);
	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
}

static struct timespec pump_deadline;

static bool deadline_passed(void) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > pump_deadline.tv_sec ||
	       (now.tv_sec == pump_deadline.tv_sec && now.tv_nsec >= pump_deadline.tv_nsec);
}

/* Serves for ms milliseconds. */
static void pump_ms(int ms) {
	clock_gettime(CLOCK_MONOTONIC, &pump_deadline);
	pump_deadline.tv_nsec += (long)ms * 1000000L;
	pump_deadline.tv_sec += pump_deadline.tv_nsec / 1000000000L;
	pump_deadline.tv_nsec %= 1000000000L;
	pump_until(deadline_passed);
}

/* The next message is a PONG to a PING sent now: nothing unasked came before it. */
static bool next_is_pong(int fd) {
	struct seatd_proto_header h;
	char body[64];
	return raw_send(fd, SEATD_CLIENT_PING, NULL, 0) == 0 &&
	       raw_read_header(fd, &h, body, sizeof(body)) == 0 && h.opcode == SEATD_SERVER_PONG;
}

/*
 * The two protocols, spoken by hand: libseat 0.9 gets an answer to DISABLE_SEAT and
 * SWITCH_SESSION, libseat before it none (it would take the answer for the reply to its next
 * request and fail it).
 */
static void test_protocols(void) {
	for (int legacy = 0; legacy < 2; legacy++) {
		struct libseat_endpoint *ep = endpoint_new();
		test_assert(ep != NULL);
		libseat_endpoint_set_protocol(ep, legacy ? LIBSEAT_PROTOCOL_LEGACY : LIBSEAT_PROTOCOL_0_9);
		test_assert(libseat_endpoint_set_active(ep, true) == 0);
		cur_ep = ep;
		int fd = raw_connect();
		test_assert(fd != -1);
		struct seatd_proto_header h;
		char body[128];
		test_assert(raw_send(fd, SEATD_CLIENT_OPEN_SEAT, NULL, 0) == 0);
		test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
		test_assert(h.opcode == SEATD_SERVER_SEAT_OPENED);
		test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
		test_assert(h.opcode == SEATD_SERVER_ENABLE_SEAT);

		test_assert(libseat_endpoint_set_active(ep, false) == 1);
		test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
		test_assert(h.opcode == SEATD_SERVER_DISABLE_SEAT);
		test_assert(raw_send(fd, SEATD_CLIENT_DISABLE_SEAT, NULL, 0) == 0);
		test_assert(pump_until(not_pending));
		test_assert(disabled_count == 1 && disabled_forced == 0);
		if (!legacy) {
			test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
			test_assert(h.opcode == SEATD_SERVER_SEAT_DISABLED);
		}
		test_assert(next_is_pong(fd));

		int session = 2, err;
		test_assert(raw_send(fd, SEATD_CLIENT_SWITCH_SESSION, &session, sizeof(session)) == 0);
		if (!legacy) {
			test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
			memcpy(&err, body, sizeof(err));
			test_assert(h.opcode == SEATD_SERVER_ERROR && err == EOPNOTSUPP);
		}
		test_assert(next_is_pong(fd));
		/* An acknowledgement nobody asked for: 0.9 hears EBUSY, before it nothing. */
		test_assert(raw_send(fd, SEATD_CLIENT_DISABLE_SEAT, NULL, 0) == 0);
		if (!legacy) {
			test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
			memcpy(&err, body, sizeof(err));
			test_assert(h.opcode == SEATD_SERVER_ERROR && err == EBUSY);
		}
		test_assert(next_is_pong(fd));
		test_assert(libseat_endpoint_set_active(ep, true) == 0);
		test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
		test_assert(h.opcode == SEATD_SERVER_ENABLE_SEAT);
		close(fd);
		want_clients = 0;
		test_assert(pump_until(clients_are));
		libseat_endpoint_destroy(ep);
	}
}

/*
 * libseat runs the events it reads at once last first: an ENABLE_SEAT and a DISABLE_SEAT read
 * together leave it enabled. A disable waits until the enable before it was read.
 */
static void test_disable_after_unread_enable(void) {
	struct libseat_endpoint *ep = endpoint_new();
	test_assert(ep != NULL);
	libseat_endpoint_set_ack_timeout(ep, 1000);
	cur_ep = ep;
	int fd = raw_connect();
	test_assert(fd != -1);
	struct seatd_proto_header h;
	char body[128];
	test_assert(raw_send(fd, SEATD_CLIENT_OPEN_SEAT, NULL, 0) == 0);
	test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_SEAT_OPENED);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	test_assert(libseat_endpoint_set_active(ep, false) == 1);
	pump_ms(50);
	/* Only the enable is there to read, */
	uint8_t buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	test_assert(n == (ssize_t)sizeof(h));
	memcpy(&h, buf, sizeof(h));
	test_assert(h.opcode == SEATD_SERVER_ENABLE_SEAT);
	/* and once it was read, the disable follows. */
	test_assert(raw_read_header(fd, &h, body, sizeof(body)) == 0);
	test_assert(h.opcode == SEATD_SERVER_DISABLE_SEAT);
	test_assert(raw_send(fd, SEATD_CLIENT_DISABLE_SEAT, NULL, 0) == 0);
	test_assert(pump_until(not_pending));
	test_assert(disabled_count == 1 && disabled_forced == 0);

	/* A client that never reads: the disable is forced at the deadline all the same. */
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	libseat_endpoint_set_ack_timeout(ep, 50);
	test_assert(libseat_endpoint_set_active(ep, false) == 1);
	test_assert(pump_until(not_pending));
	test_assert(disabled_count == 2 && disabled_forced == 1);
	close(fd);
	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
}

/*
 * Connections from a peer with other credentials or in other pid namespaces: a child enters
 * a pid namespace (or none), nests that many more, drops to uid (with group as its one
 * supplementary group), connects and hands the socket over, and stays until told to go, so
 * that the endpoint sees a live process.
 */
struct peer_setup {
	int pidns_fd; /* -1: the test's own */
	int nested;
	uid_t uid;    /* 0: stays root */
	gid_t group;  /* 0: none */
};

struct peer {
	pid_t pid;
	int link_fd; /* closing it lets the peer go */
};

static int send_fd(int sock, int fd) {
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char byte = 'f';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
		.msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock) {
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
		.msg_controllen = sizeof(control.buf)};
	int fd = -1;
	struct cmsghdr *cmsg;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) == 1 && (cmsg = CMSG_FIRSTHDR(&msg)) != NULL &&
		cmsg->cmsg_type == SCM_RIGHTS) {
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	}
	return fd;
}

static void peer_main(const struct peer_setup *s, int link) {
	if (s->pidns_fd != -1 && setns(s->pidns_fd, CLONE_NEWPID) == -1) {
		_exit(1);
	}
	/* A pid namespace entered or made is its children's: the connecting one is a child. */
	for (int level = 0;; level++) {
		pid_t pid = fork();
		if (pid == -1) {
			_exit(1);
		}
		if (pid > 0) {
			int status;
			waitpid(pid, &status, 0);
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
		}
		if (level == s->nested) {
			break;
		}
		if (unshare(CLONE_NEWPID) == -1) {
			_exit(1);
		}
	}
	if (s->uid != 0 && (setgroups(s->group != 0, &s->group) == -1 ||
				   setresgid(s->uid, s->uid, s->uid) == -1 ||
				   setresuid(s->uid, s->uid, s->uid) == -1)) {
		_exit(1);
	}
	int fd = raw_connect();
	char c;
	if (fd == -1 || send_fd(link, fd) == -1 || read(link, &c, 1) != 0) {
		_exit(1);
	}
	_exit(0);
}

/* The peer's connection, or -1. */
static int peer_connect(struct peer *peer, struct peer_setup setup) {
	int link[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) == -1) {
		return -1;
	}
	fflush(stderr);
	peer->pid = fork();
	if (peer->pid == 0) {
		close(link[0]);
		peer_main(&setup, link[1]);
	}
	close(link[1]);
	peer->link_fd = link[0];
	return peer->pid == -1 ? -1 : recv_fd(link[0]);
}

static void peer_end(struct peer *peer) {
	close(peer->link_fd);
	waitpid(peer->pid, NULL, 0);
}

/* A pid namespace whose init (held as holder, until peer_end) only waits: the container. */
static int container_pidns(struct peer *holder) {
	int link[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) == -1) {
		return -1;
	}
	fflush(stderr);
	holder->pid = fork();
	if (holder->pid == 0) {
		close(link[0]);
		if (unshare(CLONE_NEWPID) == -1) {
			_exit(1);
		}
		pid_t init = fork();
		if (init == 0) {
			char c;
			_exit(read(link[1], &c, 1) != 0);
		}
		int ns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (init == -1 || ns == -1 || send_fd(link[1], ns) == -1) {
			_exit(1);
		}
		waitpid(init, NULL, 0);
		_exit(0);
	}
	close(link[1]);
	holder->link_fd = link[0];
	return holder->pid == -1 ? -1 : recv_fd(link[0]);
}

/* Whether the endpoint closed fd without a word. */
static bool was_closed(int fd) {
	raw_fd_wait = fd;
	char c;
	return pump_until(raw_readable) && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* Opens the seat and then path over a raw connection: the reply's opcode, its error code. */
static uint16_t raw_open(int fd, const char *path, int *error_code) {
	struct seatd_proto_header h;
	uint8_t body[256];
	if (raw_send(fd, SEATD_CLIENT_OPEN_SEAT, NULL, 0) == -1 ||
		raw_read_header(fd, &h, body, sizeof(body)) == -1 ||
		h.opcode != SEATD_SERVER_SEAT_OPENED ||
		raw_read_header(fd, &h, body, sizeof(body)) == -1 ||
		h.opcode != SEATD_SERVER_ENABLE_SEAT) {
		return 0;
	}
	uint8_t req[sizeof(struct seatd_proto_open_device) + 64];
	struct seatd_proto_open_device msg = {.path_len = (uint16_t)(strlen(path) + 1)};
	memcpy(req, &msg, sizeof(msg));
	memcpy(req + sizeof(msg), path, msg.path_len);
	struct seatd_proto_error error = {0};
	if (raw_send(fd, SEATD_CLIENT_OPEN_DEVICE, req, (uint16_t)(sizeof(msg) + msg.path_len)) ==
			-1 ||
		raw_read_header(fd, &h, &error, sizeof(error)) == -1) {
		return 0;
	}
	*error_code = error.error_code;
	return h.opcode;
}

static void test_peers(void) {
	/* The container: a pid namespace of its own, entered by the peers that belong to it. */
	struct peer holder;
	int ns = container_pidns(&holder);
	test_assert(ns != -1);
	struct libseat_endpoint *ep = endpoint_new_in(fcntl(ns, F_DUPFD_CLOEXEC, 0));
	test_assert(ep != NULL);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	cur_ep = ep;
	/* Reachable by anyone here: the endpoint alone decides. */
	test_assert(chmod(tmpdir, 0711) == 0 && chmod(sock_path, 0666) == 0);

	/* A process outside it, root or not: turned away unserved. */
	struct peer peer;
	int fd = peer_connect(&peer, (struct peer_setup){.pidns_fd = -1});
	test_assert(fd != -1 && was_closed(fd));
	close(fd);
	peer_end(&peer);
	fd = peer_connect(&peer, (struct peer_setup){.pidns_fd = -1, .uid = 1000});
	test_assert(fd != -1 && was_closed(fd));
	close(fd);
	peer_end(&peer);
	test_assert(libseat_endpoint_client_count(ep) == 0);

	/* Its processes, also in a pid namespace nested in it: served. */
	for (int nested = 0; nested < 2; nested++) {
		fd = peer_connect(&peer, (struct peer_setup){.pidns_fd = ns, .nested = nested});
		test_assert(fd != -1 && next_is_pong(fd));
		close(fd);
		peer_end(&peer);
	}

	/* A user the node's mode does not let in gets the seat, not the device; a member of
	 * the node's group gets both. */
	if (made_nodes) {
		int err = 0;
		want_clients = 0;
		test_assert(pump_until(clients_are));
		fd = peer_connect(&peer, (struct peer_setup){.pidns_fd = ns, .uid = 1000});
		test_assert(fd != -1);
		test_assert(raw_open(fd, "/dev/input/event99", &err) == SEATD_SERVER_ERROR);
		test_assert(err == EACCES);
		close(fd);
		peer_end(&peer);
		test_assert(chown(node99, 0, 4242) == 0 && chmod(node99, 0660) == 0);
		test_assert(pump_until(clients_are));
		fd = peer_connect(&peer, (struct peer_setup){.pidns_fd = ns, .uid = 1000, .group = 4242});
		test_assert(fd != -1);
		test_assert(raw_open(fd, "/dev/input/event99", &err) == SEATD_SERVER_DEVICE_OPENED);
		close(fd);
		peer_end(&peer);
		test_assert(chown(node99, 0, 0) == 0 && chmod(node99, 0600) == 0);
	}

	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
	close(ns);
	peer_end(&holder);
	test_assert(chmod(tmpdir, 0700) == 0);
}

/* Idle connections fill the endpoint; past their grace they make room for the compositor. */
static void test_idle_clients(void) {
	struct libseat_endpoint *ep = endpoint_new();
	test_assert(ep != NULL);
	test_assert(libseat_endpoint_set_active(ep, true) == 0);
	cur_ep = ep;
	int idle[LIBSEAT_ENDPOINT_MAX_CLIENTS];
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_CLIENTS; i++) {
		idle[i] = raw_connect();
		test_assert(idle[i] != -1);
	}
	want_clients = LIBSEAT_ENDPOINT_MAX_CLIENTS;
	test_assert(pump_until(clients_are));

	/* Within their grace they keep their places: a newcomer is turned away. */
	int fd = raw_connect();
	test_assert(fd != -1 && was_closed(fd));
	close(fd);
	test_assert(clients_are());

	pump_ms(LIBSEAT_ENDPOINT_OPEN_GRACE_MS + 100);
	struct child child;
	test_assert(child_start(&child, false));
	struct report r = next_report();
	test_assert(r.tag == 'S' && r.err == 0);
	test_assert(next_report().tag == 'E');
	/* The oldest idle one gave its place (the child holds a copy of the endpoint's side, so
	 * it sees no hangup): asked first, it alone gets no answer. */
	test_assert(clients_are());
	test_assert(raw_send(idle[0], SEATD_CLIENT_PING, NULL, 0) == 0);
	for (size_t i = 1; i < LIBSEAT_ENDPOINT_MAX_CLIENTS; i++) {
		test_assert(next_is_pong(idle[i]));
	}
	raw_fd_wait = idle[0];
	test_assert(!raw_readable());

	child_stop(&child);
	for (size_t i = 0; i < LIBSEAT_ENDPOINT_MAX_CLIENTS; i++) {
		close(idle[i]);
	}
	want_clients = 0;
	test_assert(pump_until(clients_are));
	libseat_endpoint_destroy(ep);
}

int main(void) {
	log_init(getenv("TEST_LOG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_SILENT);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL || poller_init(&poller) == -1) {
		perror("setup");
		return EXIT_FAILURE;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/seatd.sock", tmpdir);
	snprintf(node99, sizeof(node99), "%s/event99", tmpdir);
	snprintf(node97, sizeof(node97), "%s/event97", tmpdir);
	dev99 = makedev(1, 3);
	/* Without CAP_MKNOD, the host's own nodes with those numbers do. */
	if (mknod(node99, S_IFCHR | 0600, dev99) == -1 ||
		mknod(node97, S_IFCHR | 0600, makedev(1, 5)) == -1) {
		snprintf(node99, sizeof(node99), "/dev/null");
		snprintf(node97, sizeof(node97), "/dev/zero");
	} else {
		made_nodes = true;
	}

	/* The package's version decides the protocol, as the daemon would per container. */
	const char *v = getenv("LIBSEAT_VERSION");
	libseat_legacy = v == NULL || strncmp(v, "0.", 2) != 0 || atoi(v + 2) < 9;
	fprintf(stderr, "libseat protocol: %s\n", libseat_legacy ? "legacy (< 0.9)" : "0.9");
	test_run(test_parse);
	test_run(test_classify);
	test_run(test_open_devices);
	test_run(test_switching);
	test_run(test_garbage);
	test_run(test_ack_timeout_and_waiting);
	test_run(test_protocols);
	test_run(test_disable_after_unread_enable);
	test_run(test_peers);
	test_run(test_idle_clients);

	unlink(sock_path);
	if (made_nodes) {
		unlink(node99);
		unlink(node97);
	}
	rmdir(tmpdir);
	poller_finish(&poller);
	return test_main_end();
}
