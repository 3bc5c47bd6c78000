/*
 * uevent-inject: sends uevents into the current network namespace, as the tests need them.
 *
 *   uevent-inject replay FILE [FROM [TO]]
 *       Injects records FROM..TO (0-based, TO exclusive) of a recording ([u32 LE length]
 *       [kernel-format uevent] records, as the fixtures' uevents.bin) through the kernel:
 *       a NETLINK_KOBJECT_UEVENT message with NLM_F_REQUEST|NLM_F_ACK, which the kernel
 *       broadcasts on group 1 as its own (Linux 4.18+). The recorded SEQNUM is stripped;
 *       the kernel appends its own.
 *   uevent-inject find FILE ACTION DEVPATH
 *       Prints the index of the first record with that action and devpath.
 *   uevent-inject udev FILE INDEX [KEY=VALUE]...
 *       Sends record INDEX as udevd would after processing it: a udev message on group 2,
 *       with root's credentials and the given properties added (ID_SEAT=seat1, say).
 *   uevent-inject split FILE DIR fuzz_uevent|fuzz_udev_message|fuzz_control
 *       Writes each record into DIR as a fuzzing seed: as recorded, as a udev message, or
 *       as a control record of its properties.
 *   uevent-inject hostile FILE COUNT SEED kernel|multicast|udev
 *       Sends COUNT hostile messages derived from SEED: random bytes, truncated and
 *       corrupted copies of real events, and hand-made traps (".." paths, overflowing
 *       numbers, header mismatches, duplicate keys). "kernel" injects them through the
 *       kernel (they then look like kernel events), "multicast" sends them from this
 *       process to group 1, "udev" sends them to group 2 as udev messages (root's
 *       credentials; some oversized, some with a broken header).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "fixture.h"
#include "netlink.h"
#include "udev_message.h"
#include "uevent.h"

#define KERNEL_UEVENT_MAX 2048

/* Drops the SEQNUM property from a kernel-format record, in place; returns the new length. */
static size_t strip_seqnum(char *data, size_t len) {
	size_t out = 0;
	for (size_t i = 0; i < len;) {
		size_t n = strnlen(data + i, len - i);
		if (strncmp(data + i, "SEQNUM=", 7) != 0) {
			memmove(data + out, data + i, n);
			out += n;
			if (i + n < len) {
				data[out++] = '\0';
			}
		}
		i += n + 1;
	}
	return out;
}

static int open_netlink(void) {
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
	if (fd == -1 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		perror("netlink");
		exit(2);
	}
	return fd;
}

/* Injects one message through the kernel; returns the kernel's verdict (0 or -errno). */
static int inject_kernel(int fd, const char *data, size_t len) {
	static uint32_t seq;
	char buf[NLMSG_SPACE(KERNEL_UEVENT_MAX * 2)];
	if (len > sizeof(buf) - NLMSG_HDRLEN) {
		len = sizeof(buf) - NLMSG_HDRLEN;
	}
	struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)buf;
	*nlh = (struct nlmsghdr){
		.nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
		.nlmsg_type = NLMSG_MIN_TYPE,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = ++seq,
	};
	memcpy(NLMSG_DATA(nlh), data, len);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) == -1) {
		return -errno;
	}
	char ack[512];
	ssize_t n = recv(fd, ack, sizeof(ack), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		return -EIO;
	}
	struct nlmsgerr *err = NLMSG_DATA((struct nlmsghdr *)(void *)ack);
	return err->error;
}

/* Sends one message from this process to a multicast group, with explicit root credentials. */
static int multicast(int fd, uint32_t group, const char *data, size_t len) {
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = group};
	return netlink_send_as(fd, &dest, data, len, 0, 0) == -1 ? -errno : 0;
}

static int cmd_replay(const char *path, size_t from, size_t to) {
	struct fixture_record *records;
	size_t n = fixture_read_records(path, &records);
	if (to > n) {
		to = n;
	}
	int fd = open_netlink(), failures = 0;
	for (size_t i = from; i < to; i++) {
		size_t len = strip_seqnum(records[i].data, records[i].len);
		int r = inject_kernel(fd, records[i].data, len);
		if (r != 0) {
			fprintf(stderr, "record %zu (%s): %s\n", i, records[i].data, strerror(-r));
			failures++;
		}
	}
	close(fd);
	fixture_records_free(records, n);
	return failures ? 1 : 0;
}

static int cmd_find(const char *path, const char *action, const char *devpath) {
	struct fixture_record *records;
	size_t n = fixture_read_records(path, &records);
	char header[4096];
	snprintf(header, sizeof(header), "%s@%s", action, devpath);
	size_t i = 0;
	while (i < n && strcmp(records[i].data, header) != 0) {
		i++;
	}
	fixture_records_free(records, n);
	if (i == n) {
		fprintf(stderr, "no record %s\n", header);
		return 1;
	}
	printf("%zu\n", i);
	return 0;
}

/* Hand-made traps: each well-formed but for one hostile field. */
static const char *const traps[] = {
	"add@/devices/../../etc\0ACTION=add\0DEVPATH=/devices/../../etc\0SUBSYSTEM=input\0"
	"MAJOR=13\0MINOR=99\0DEVNAME=input/event99\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0MAJOR=13\0MINOR=99\0"
	"DEVNAME=../../etc/shadow\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0"
	"MAJOR=99999999999999999999\0MINOR=1\0DEVNAME=input/event99\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0MAJOR=13\0MINOR=-1\0"
	"DEVNAME=input/event99\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=remove\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0MAJOR=13\0MINOR=99\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0DEVPATH=/devices/x\0SUBSYSTEM=input\0"
	"MAJOR=13\0MINOR=99\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=../input\0MAJOR=13\0MINOR=99\0",
	"explode@/devices/virtual/input/input99/event99\0ACTION=explode\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0MAJOR=13\0MINOR=99\0",
	"add@/devices//virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices//virtual/input/input99/event99\0SUBSYSTEM=input\0MAJOR=13\0MINOR=99\0",
	"add@/devices/virtual/input/input99/event99\0ACTION=add\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0MAJOR=13\0MINOR=99\0"
	"=novalue\0NOEQUALS\0",
	"move@/devices/virtual/input/input99/event99\0ACTION=move\0"
	"DEVPATH=/devices/virtual/input/input99/event99\0SUBSYSTEM=input\0"
	"DEVPATH_OLD=/devices/../x\0MAJOR=13\0MINOR=99\0",
	"remove@/devices/pci0000:00/0000:00:05.0/drm/card0\0ACTION=remove\0"
	"DEVPATH=/devices/pci0000:00/0000:00:05.0/drm/card0/../card0\0SUBSYSTEM=drm\0",
};

static size_t trap_len(const char *trap) {
	/* Each trap ends with an explicit NUL: with the literal's own, a double NUL. */
	const char *p = trap;
	while (*p != '\0') {
		p += strlen(p) + 1;
	}
	return (size_t)(p - trap);
}

/* Builds the i-th hostile message into buf; returns its length. */
static size_t make_hostile(size_t i, char *buf, size_t size, const struct fixture_record *records,
	size_t n_records) {
	size_t n_traps = sizeof(traps) / sizeof(traps[0]);
	const struct fixture_record *real = &records[(size_t)rand() % n_records];
	size_t len;
	switch (i % 4) {
	case 0: /* random bytes */
		len = 1 + (size_t)rand() % (KERNEL_UEVENT_MAX - 64);
		for (size_t j = 0; j < len; j++) {
			buf[j] = (char)(rand() & 0xff);
		}
		return len;
	case 1: /* a real event cut inside its header or its first property */
		len = 1 + (size_t)rand() % (strlen(real->data) + 4);
		memcpy(buf, real->data, len);
		return len;
	case 2: /* a real event with bytes flipped and its header broken */
		len = real->len;
		memcpy(buf, real->data, len);
		*strchr(buf, '@') = '\x01';
		for (int j = 0; j < 3; j++) {
			buf[(size_t)rand() % len] = (char)(rand() & 0xff);
		}
		return len;
	default:
		len = trap_len(traps[(i / 4) % n_traps]);
		memcpy(buf, traps[(i / 4) % n_traps], len < size ? len : size);
		return len;
	}
}

static int cmd_hostile(const char *path, unsigned long count, unsigned seed, const char *mode) {
	struct fixture_record *records;
	size_t n_records = fixture_read_records(path, &records);
	srand(seed);
	int fd = open_netlink();
	bool udev = strcmp(mode, "udev") == 0, kernel = strcmp(mode, "kernel") == 0;
	unsigned long rejected = 0;
	for (unsigned long i = 0; i < count; i++) {
		char buf[UEVENT_MAX_SIZE * 2];
		size_t len = make_hostile(i, buf, sizeof(buf), records, n_records);
		int r;
		if (kernel) {
			r = inject_kernel(fd, buf, len);
		} else if (udev) {
			char msg[UEVENT_MAX_SIZE * 3];
			struct uevent ev = {0};
			const char *why;
			char copy[UEVENT_MAX_SIZE * 2 + 1];
			memcpy(copy, buf, len);
			size_t mlen;
			if (i % 5 == 0) {
				/* oversized: a valid header over too many bytes */
				memset(msg, 'A', sizeof(msg));
				memcpy(msg, "libudev", 8);
				mlen = sizeof(msg);
			} else if (uevent_parse_kernel(&ev, copy, len, &why) == 0 &&
				   udev_message_encode(&ev, msg, sizeof(msg)) > 0) {
				/* a valid message whose header then lies about its offsets */
				mlen = (size_t)udev_message_encode(&ev, msg, sizeof(msg));
				uint32_t bad = (uint32_t)rand();
				memcpy(msg + 12 + 4 * (i % 3), &bad, sizeof(bad));
			} else {
				/* garbage behind a real header */
				mlen = UDEV_MESSAGE_HEADER_SIZE + len;
				memset(msg, 0, UDEV_MESSAGE_HEADER_SIZE);
				memcpy(msg, "libudev", 8);
				uint32_t magic = __builtin_bswap32(UDEV_MESSAGE_MAGIC);
				uint32_t off = UDEV_MESSAGE_HEADER_SIZE, plen = (uint32_t)len;
				memcpy(msg + 8, &magic, 4);
				memcpy(msg + 12, &off, 4);
				memcpy(msg + 16, &off, 4);
				memcpy(msg + 20, &plen, 4);
				memcpy(msg + UDEV_MESSAGE_HEADER_SIZE, buf, len);
			}
			r = multicast(fd, 2, msg, mlen);
		} else {
			r = multicast(fd, 1, buf, len);
		}
		if (r != 0) {
			rejected++;
		}
	}
	close(fd);
	fixture_records_free(records, n_records);
	printf("sent %lu hostile messages (%lu refused by the kernel)\n", count, rejected);
	return 0;
}

static void write_seed(const char *dir, size_t i, const char *data, size_t len) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%04zu", dir, i);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* A control record of an event's properties, keys lowercased: "device\0action=add\0...". */
static size_t control_seed(const struct uevent *ev, struct control_builder *b) {
	control_builder_init(b, "device");
	for (size_t i = 0; i < ev->n_properties; i++) {
		char key[64];
		size_t j = 0;
		for (; ev->properties[i].key[j] != '\0' && j < sizeof(key) - 1; j++) {
			key[j] = (char)tolower((unsigned char)ev->properties[i].key[j]);
		}
		key[j] = '\0';
		control_builder_add(b, key, ev->properties[i].value);
	}
	return b->overflow ? 0 : b->len;
}

static int cmd_split(const char *path, const char *dir, const char *kind) {
	struct fixture_record *records;
	size_t n = fixture_read_records(path, &records);
	for (size_t i = 0; i < n; i++) {
		char copy[UEVENT_MAX_SIZE + 1], out[UEVENT_MAX_SIZE * 2];
		struct uevent ev;
		const char *why;
		memcpy(copy, records[i].data, records[i].len);
		if (strcmp(kind, "fuzz_uevent") == 0) {
			write_seed(dir, i, records[i].data, records[i].len);
		} else if (uevent_parse_kernel(&ev, copy, records[i].len, &why) == -1) {
			fprintf(stderr, "record %zu: %s\n", i, why);
			exit(2);
		} else if (strcmp(kind, "fuzz_udev_message") == 0) {
			int len = udev_message_encode(&ev, out, sizeof(out));
			if (len > 0) {
				write_seed(dir, i, out, (size_t)len);
			}
		} else {
			struct control_builder b;
			size_t len = control_seed(&ev, &b);
			if (len > 0) {
				write_seed(dir, i, b.buf, len);
			}
		}
	}
	fixture_records_free(records, n);
	return 0;
}

static int cmd_udev(const char *path, size_t index, int n_extra, char *extra[]) {
	struct fixture_record *records;
	size_t n = fixture_read_records(path, &records);
	if (index >= n) {
		fprintf(stderr, "no record %zu\n", index);
		return 2;
	}
	struct uevent ev;
	const char *why;
	if (uevent_parse_kernel(&ev, records[index].data, records[index].len, &why) == -1) {
		fprintf(stderr, "record %zu: %s\n", index, why);
		return 2;
	}
	for (int i = 0; i < n_extra && ev.n_properties < UEVENT_MAX_PROPERTIES; i++) {
		char *eq = strchr(extra[i], '=');
		if (eq == NULL) {
			fprintf(stderr, "%s: not KEY=VALUE\n", extra[i]);
			return 2;
		}
		*eq = '\0';
		ev.properties[ev.n_properties++] = (struct uevent_property){extra[i], eq + 1};
	}
	char msg[UEVENT_MAX_SIZE * 2];
	int len = udev_message_encode(&ev, msg, sizeof(msg));
	int fd = open_netlink();
	int r = len > 0 ? multicast(fd, 2, msg, (size_t)len) : -ENOBUFS;
	close(fd);
	fixture_records_free(records, n);
	if (r != 0) {
		fprintf(stderr, "send: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

int main(int argc, char *argv[]) {
	if (argc >= 3 && strcmp(argv[1], "replay") == 0) {
		size_t from = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
		size_t to = argc > 4 ? strtoul(argv[4], NULL, 10) : SIZE_MAX;
		return cmd_replay(argv[2], from, to);
	}
	if (argc == 5 && strcmp(argv[1], "find") == 0) {
		return cmd_find(argv[2], argv[3], argv[4]);
	}
	if (argc >= 4 && strcmp(argv[1], "udev") == 0) {
		return cmd_udev(argv[2], strtoul(argv[3], NULL, 10), argc - 4, argv + 4);
	}
	if (argc == 5 && strcmp(argv[1], "split") == 0) {
		return cmd_split(argv[2], argv[3], argv[4]);
	}
	if (argc == 6 && strcmp(argv[1], "hostile") == 0) {
		return cmd_hostile(argv[2], strtoul(argv[3], NULL, 10),
			(unsigned)strtoul(argv[4], NULL, 10), argv[5]);
	}
	fprintf(stderr, "usage: uevent-inject replay FILE [FROM [TO]] | find FILE ACTION DEVPATH |"
			" udev FILE INDEX [KEY=VALUE]... | split FILE DIR KIND | hostile FILE COUNT SEED kernel|multicast|udev\n");
	return 2;
}
