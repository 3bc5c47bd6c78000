/*
 * The udev message codec against the real thing: libudev monitors receive what we encode (its
 * socket filters check our hashes and tag bloom), libudev's own filter programs give the hash
 * values, and we parse what a real systemd-udevd sends.
 *
 * Runs as root in a private network namespace (no host udevd can reach it) and mount namespace
 * (a tmpfs /run with /run/udev/control, without which libudev's monitors listen to nothing).
 * udevd runs in a further mount namespace with its own /dev, /run/udev and only our rule.
 * libudev has no public way to send: udev_monitor_send_device() is not exported.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlink.h"
#include "test.h"
#include "udev_message.h"

TEST_GLOBALS;

#define UDEV_GROUP 2
#define UDEVD "/lib/systemd/systemd-udevd"

/* The header words that libudev's socket filters load. */
#define OFF_SUBSYSTEM_HASH 24
#define OFF_DEVTYPE_HASH 28
#define OFF_TAG_BLOOM_HI 32
#define OFF_TAG_BLOOM_LO 36

static struct udev *udev;
static int sender = -1;

/* libudev binds a "udev" monitor to no group at all when it thinks udevd is not running. */
static bool on_udev_group(int fd) {
	struct sockaddr_nl addr;
	socklen_t len = sizeof(addr);
	if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1 || addr.nl_groups != UDEV_GROUP) {
		fprintf(stderr, "the libudev monitor is not on the udev group\n");
		return false;
	}
	return true;
}

static struct udev_monitor *monitor_new(const char *subsystem, const char *devtype,
	const char *tag) {
	struct udev_monitor *mon = udev_monitor_new_from_netlink(udev, "udev");
	if (mon == NULL) {
		return NULL;
	}
	if ((subsystem != NULL &&
		    udev_monitor_filter_add_match_subsystem_devtype(mon, subsystem, devtype) < 0) ||
		(tag != NULL && udev_monitor_filter_add_match_tag(mon, tag) < 0) ||
		udev_monitor_enable_receiving(mon) < 0 ||
		!on_udev_group(udev_monitor_get_fd(mon))) {
		udev_monitor_unref(mon);
		return NULL;
	}
	return mon;
}

static int wait_readable(int fd, int timeout_ms) {
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, timeout_ms);
}

/* The next device that passes the monitor's filters, or NULL if none comes within a second. */
static struct udev_device *receive(struct udev_monitor *mon) {
	if (wait_readable(udev_monitor_get_fd(mon), 1000) != 1) {
		return NULL;
	}
	return udev_monitor_receive_device(mon);
}

/* Multicasts msg to the udev group with the credentials libudev insists on, as udevd does. */
static int send_message(const char *msg, size_t len) {
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = UDEV_GROUP};
	if (netlink_send_as(sender, &dest, msg, len, 0, 0) == -1) {
		perror("sendmsg");
		return -1;
	}
	return 0;
}

/* Sends the NUL-separated properties in props (parsed in place) as a udev message. */
static int send_event(char *props, size_t len) {
	struct uevent ev;
	const char *why;
	if (uevent_parse_properties(&ev, props, len, &why) == -1) {
		fprintf(stderr, "test event: %s\n", why);
		return -1;
	}
	char msg[UDEV_MESSAGE_MAX_SIZE];
	int n = udev_message_encode(&ev, msg, sizeof(msg));
	return n == -1 ? -1 : send_message(msg, (size_t)n);
}

/* The constant that libudev's filter compares with the header word at offset. */
static int filter_constant(const struct sock_filter *insns, size_t n, uint32_t offset,
	uint32_t *out) {
	for (size_t i = 0; i + 1 < n; i++) {
		if (insns[i].code == (BPF_LD | BPF_W | BPF_ABS) && insns[i].k == offset) {
			*out = insns[i + 1].k;
			return 0;
		}
	}
	return -1;
}

/*
 * libudev hashes a subsystem, devtype and tag filter into its socket filter: our hashes and
 * blooms must be exactly those, for every tail length of the 4-byte blocks.
 */
static void test_hashes_match_libudev_filters(void) {
	static const char *const strings[] = {"", "a", "ab", "abc", "abcd", "abcde", "input",
		"drm", "sound", "seat", "seat1", "uaccess", "drm_minor", "usb_device",
		"\xc3\xa9t\xc3\xa9", "master-of-seat"};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *s = strings[i];
		struct udev_monitor *mon = monitor_new(s, s, s);
		test_assert(mon != NULL);
		struct sock_filter insns[64];
		socklen_t n = sizeof(insns) / sizeof(insns[0]); /* counted in instructions */
		int r = getsockopt(udev_monitor_get_fd(mon), SOL_SOCKET, SO_GET_FILTER, insns, &n);
		udev_monitor_unref(mon);
		test_assert(r == 0);

		uint32_t subsystem, devtype, hi, lo;
		test_assert(filter_constant(insns, n, OFF_SUBSYSTEM_HASH, &subsystem) == 0);
		test_assert(filter_constant(insns, n, OFF_DEVTYPE_HASH, &devtype) == 0);
		test_assert(filter_constant(insns, n, OFF_TAG_BLOOM_HI, &hi) == 0);
		test_assert(filter_constant(insns, n, OFF_TAG_BLOOM_LO, &lo) == 0);
		uint32_t hash = udev_murmur_hash2(s, strlen(s), 0);
		uint64_t bloom = udev_tag_bloom(s);
		bool same = hash == subsystem && hash == devtype && (uint32_t)(bloom >> 32) == hi &&
			    (uint32_t)bloom == lo;
		if (!same) {
			fprintf(stderr, "\"%s\": libudev %08x %08x%08x, ours %08x %016llx\n", s,
				subsystem, hi, lo, hash, (unsigned long long)bloom);
		}
		test_assert(same);
	}
}

static void test_libudev_receives_input_device(void) {
	struct udev_monitor *mon = monitor_new("input", NULL, NULL);
	test_assert(mon != NULL);
	char props[] = "ACTION=add\0DEVPATH=/devices/platform/i8042/serio0/input/input3/event3\0"
		       "SUBSYSTEM=input\0SEQNUM=4711\0DEVNAME=/dev/input/event3\0MAJOR=13\0"
		       "MINOR=67\0ID_INPUT=1\0ID_INPUT_KEYBOARD=1\0ID_SEAT=seat1\0"
		       "TAGS=:seat:seat1:uaccess:\0CURRENT_TAGS=:seat:seat1:uaccess:\0"
		       "USEC_INITIALIZED=12345678";
	test_assert(send_event(props, sizeof(props) - 1) == 0);

	struct udev_device *dev = receive(mon);
	udev_monitor_unref(mon);
	test_assert(dev != NULL);
	test_assert_str(udev_device_get_action(dev), "add");
	test_assert_str(udev_device_get_devpath(dev),
		"/devices/platform/i8042/serio0/input/input3/event3");
	test_assert_str(udev_device_get_subsystem(dev), "input");
	test_assert_str(udev_device_get_devnode(dev), "/dev/input/event3");
	test_assert(udev_device_get_devnum(dev) == makedev(13, 67));
	test_assert(udev_device_get_seqnum(dev) == 4711);
	test_assert(udev_device_get_is_initialized(dev) == 1);
	test_assert_str(udev_device_get_property_value(dev, "ID_INPUT_KEYBOARD"), "1");
	test_assert_str(udev_device_get_property_value(dev, "ID_SEAT"), "seat1");
	test_assert(udev_device_has_tag(dev, "seat1") == 1);
	test_assert(udev_device_has_current_tag(dev, "uaccess") == 1);
	udev_device_unref(dev);
}

static void test_subsystem_filter_drops_other_subsystems(void) {
	struct udev_monitor *input = monitor_new("input", NULL, NULL);
	struct udev_monitor *drm = monitor_new("drm", "drm_minor", NULL);
	test_assert(input != NULL && drm != NULL);
	char card[] = "ACTION=change\0DEVPATH=/devices/pci0000:00/0000:00:02.0/drm/card0\0"
		      "SUBSYSTEM=drm\0DEVTYPE=drm_minor\0SEQNUM=5001\0DEVNAME=/dev/dri/card0\0"
		      "MAJOR=226\0MINOR=0\0HOTPLUG=1";
	test_assert(send_event(card, sizeof(card) - 1) == 0);

	/* It went out (the drm monitor's filter passes it), and the kernel kept it from input's. */
	struct udev_device *dev = receive(drm);
	udev_monitor_unref(drm);
	test_assert(dev != NULL);
	test_assert_str(udev_device_get_devtype(dev), "drm_minor");
	test_assert(udev_device_get_seqnum(dev) == 5001);
	udev_device_unref(dev);
	test_assert(wait_readable(udev_monitor_get_fd(input), 200) == 0);

	char kbd[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input7/event7\0SUBSYSTEM=input\0"
		     "SEQNUM=5002\0DEVNAME=/dev/input/event7\0MAJOR=13\0MINOR=71";
	test_assert(send_event(kbd, sizeof(kbd) - 1) == 0);
	dev = receive(input);
	udev_monitor_unref(input);
	test_assert(dev != NULL);
	test_assert(udev_device_get_seqnum(dev) == 5002);
	udev_device_unref(dev);
}

static void test_tag_filter_drops_untagged_devices(void) {
	struct udev_monitor *tagged = monitor_new(NULL, NULL, "seat1");
	struct udev_monitor *all = monitor_new(NULL, NULL, NULL);
	test_assert(tagged != NULL && all != NULL);
	char other[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input8/event8\0SUBSYSTEM=input\0"
		       "SEQNUM=6001\0TAGS=:seat:uaccess:\0CURRENT_TAGS=:seat:uaccess:";
	test_assert(send_event(other, sizeof(other) - 1) == 0);

	struct udev_device *dev = receive(all);
	udev_monitor_unref(all);
	test_assert(dev != NULL);
	test_assert(udev_device_get_seqnum(dev) == 6001);
	udev_device_unref(dev);
	test_assert(wait_readable(udev_monitor_get_fd(tagged), 200) == 0);

	char mine[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input8/event8\0SUBSYSTEM=input\0"
		      "SEQNUM=6002\0TAGS=:seat:seat1:uaccess:\0CURRENT_TAGS=:seat:seat1:uaccess:";
	test_assert(send_event(mine, sizeof(mine) - 1) == 0);
	dev = receive(tagged);
	udev_monitor_unref(tagged);
	test_assert(dev != NULL);
	test_assert(udev_device_get_seqnum(dev) == 6002);
	test_assert(udev_device_has_tag(dev, "seat1") == 1);
	udev_device_unref(dev);
}

/* What udevd sees of the system: no rules but ours, and a /dev and /run/udev of its own. */
static int isolate_udevd(void) {
	static const char *const hidden[] = {"/etc/udev", "/usr/local/lib/udev", "/usr/lib/udev",
		"/lib/udev"};
	static const char rule[] = "SUBSYSTEM==\"input\", KERNEL==\"event*\", ENV{ID_INPUT}=\"1\", "
				   "ENV{ID_INPUT_KEYBOARD}=\"1\", ENV{ID_SEAT}=\"seat1\", "
				   "TAG+=\"seat\", TAG+=\"seat1\", TAG+=\"uaccess\"\n";
	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == -1 ||
		mount("tmpfs", "/run/udev", "tmpfs", 0, "mode=0755") == -1 ||
		mkdir("/run/udev/rules.d", 0755) == -1) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		if (mount("tmpfs", hidden[i], "tmpfs", MS_RDONLY, NULL) == -1 && errno != ENOENT) {
			return -1;
		}
	}
	int fd = open("/run/udev/rules.d/90-test.rules", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		return -1;
	}
	ssize_t n = write(fd, rule, sizeof(rule) - 1);
	close(fd);
	return n == (ssize_t)(sizeof(rule) - 1) ? 0 : -1;
}

/* Starts udevd and waits for its READY=1 on notify; returns its pid, or -1. */
static pid_t start_udevd(int notify, const char *notify_path) {
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || isolate_udevd() == -1) {
			perror("isolating udevd");
			_exit(127);
		}
		setenv("NOTIFY_SOCKET", notify_path, 1);
		setenv("SYSTEMD_LOG_TARGET", "console", 1);
		setenv("SYSTEMD_LOG_LEVEL", "err", 1);
		execl(UDEVD, UDEVD, (char *)NULL);
		perror(UDEVD);
		_exit(127);
	}
	if (pid == -1) {
		return -1;
	}
	char buf[512];
	while (wait_readable(notify, 10000) == 1) {
		ssize_t n = recv(notify, buf, sizeof(buf) - 1, 0);
		if (n <= 0) {
			break;
		}
		buf[n] = '\0';
		if (strncmp(buf, "READY=1", 7) == 0 || strstr(buf, "\nREADY=1") != NULL) {
			return pid;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Injects a kernel-format uevent into this network namespace; the kernel adds SEQNUM. */
static int inject_uevent(const char *payload, size_t len) {
	struct {
		struct nlmsghdr nlh;
		char payload[2048];
	} req = {
		.nlh = {
			.nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
			.nlmsg_type = NLMSG_MIN_TYPE,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		},
	};
	struct {
		struct nlmsghdr nlh;
		struct nlmsgerr err;
	} ack;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (len > sizeof(req.payload)) {
		return -1;
	}
	memcpy(req.payload, payload, len);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd == -1) {
		return -1;
	}
	int r = -1;
	if (sendto(fd, &req, req.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) ==
			(ssize_t)req.nlh.nlmsg_len &&
		recv(fd, &ack, sizeof(ack), 0) == (ssize_t)sizeof(ack) &&
		ack.nlh.nlmsg_type == NLMSG_ERROR && ack.err.error == 0) {
		r = 0;
	}
	close(fd);
	return r;
}

/*
 * A real systemd-udevd processes a kernel event and multicasts the result: we parse it, find
 * what udevd's rule added, and encode it back to the very same bytes (hashes and bloom too).
 */
static void test_parse_real_udevd_message(void) {
	struct sockaddr_un notify_addr = {.sun_family = AF_UNIX};
	int len = snprintf(notify_addr.sun_path + 1, sizeof(notify_addr.sun_path) - 1,
		"seatd-ns-test-udevd-%d", (int)getpid());
	socklen_t notify_len =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
	int notify = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	test_assert(notify != -1);
	test_assert(bind(notify, (struct sockaddr *)&notify_addr, notify_len) == 0);
	char notify_path[sizeof(notify_addr.sun_path) + 1];
	snprintf(notify_path, sizeof(notify_path), "@%s", notify_addr.sun_path + 1);

	struct sockaddr_nl group = {.nl_family = AF_NETLINK, .nl_groups = UDEV_GROUP};
	int mon = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	test_assert(mon != -1);
	test_assert(bind(mon, (struct sockaddr *)&group, sizeof(group)) == 0);

	pid_t udevd = start_udevd(notify, notify_path);
	close(notify);
	test_assert(udevd != -1);

	char props[] = "ACTION=add\0DEVPATH=/devices/virtual/input/input90/event90\0"
		       "SUBSYSTEM=input\0MAJOR=13\0MINOR=90\0DEVNAME=input/event90";
	struct uevent kev;
	const char *why;
	char kmsg[2048];
	test_assert(uevent_parse_properties(&kev, props, sizeof(props) - 1, &why) == 0);
	int klen = uevent_format_kernel(&kev, false, kmsg, sizeof(kmsg));
	test_assert(klen > 0);
	int injected = inject_uevent(kmsg, (size_t)klen);

	/* Host hardware events reach udevd here too: wait for ours. */
	char buf[UDEV_MESSAGE_MAX_SIZE + 1], copy[UDEV_MESSAGE_MAX_SIZE];
	ssize_t n = -1;
	struct uevent ev;
	bool found = false;
	while (injected == 0 && !found && wait_readable(mon, 5000) == 1) {
		n = recv(mon, buf, sizeof(buf) - 1, 0);
		if (n <= 0) {
			break;
		}
		memcpy(copy, buf, (size_t)n);
		if (udev_message_parse(&ev, buf, (size_t)n, &why) == -1) {
			fprintf(stderr, "udevd's message rejected: %s\n", why);
			break;
		}
		found = strcmp(ev.devpath, kev.devpath) == 0;
	}
	kill(udevd, SIGTERM);
	waitpid(udevd, NULL, 0);
	close(mon);
	test_assert(injected == 0);
	test_assert(found);

	test_assert(ev.action == UEVENT_ACTION_ADD);
	test_assert_str(ev.subsystem, "input");
	test_assert_str(ev.devname, "input/event90");
	test_assert(ev.has_devnum && ev.major == 13 && ev.minor == 90);
	test_assert(ev.seqnum != 0);
	test_assert_str(uevent_get(&ev, "ID_SEAT"), "seat1");
	test_assert(uevent_get(&ev, "USEC_INITIALIZED") != NULL);
	const char *tags = uevent_get(&ev, "TAGS");
	test_assert(tags != NULL && strstr(tags, ":seat:") != NULL &&
		    strstr(tags, ":seat1:") != NULL && strstr(tags, ":uaccess:") != NULL);

	/* udevd's own hash of "input" and bloom of the three tags. */
	uint32_t hash = htobe32(udev_murmur_hash2("input", 5, 0));
	uint64_t bloom =
		udev_tag_bloom("seat") | udev_tag_bloom("seat1") | udev_tag_bloom("uaccess");
	uint32_t hi = htobe32((uint32_t)(bloom >> 32)), lo = htobe32((uint32_t)bloom);
	test_assert(memcmp(copy + OFF_SUBSYSTEM_HASH, &hash, 4) == 0);
	test_assert(memcmp(copy + OFF_TAG_BLOOM_HI, &hi, 4) == 0);
	test_assert(memcmp(copy + OFF_TAG_BLOOM_LO, &lo, 4) == 0);

	char again[UDEV_MESSAGE_MAX_SIZE];
	test_assert(udev_message_encode(&ev, again, sizeof(again)) == n);
	test_assert(memcmp(again, copy, (size_t)n) == 0);
}

int main(void) {
	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root\n");
		return 77;
	}
	/* Our own network namespace, and a /run where libudev believes udevd runs. */
	int fd = -1;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) == -1 ||
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") == -1 ||
		mkdir("/run/udev", 0755) == -1 ||
		(fd = open("/run/udev/control", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		perror("setting up namespaces");
		return EXIT_FAILURE;
	}
	close(fd);
	udev = udev_new();
	sender = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (udev == NULL || sender == -1) {
		perror("udev_new or socket");
		return EXIT_FAILURE;
	}

	test_run(test_hashes_match_libudev_filters);
	test_run(test_libudev_receives_input_device);
	test_run(test_subsystem_filter_drops_other_subsystems);
	test_run(test_tag_filter_drops_untagged_devices);
	test_run(test_parse_real_udevd_message);

	close(sender);
	udev_unref(udev);
	return test_main_end();
}
