#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container_fs.h"
#include "forward.h"
#include "input_class.h"
#include "netlink.h"
#include "udev_message.h"

#define GROUP_UDEV 2

struct builder {
	struct device_view *view;
	size_t off;
	int overflow;
};

static void put(struct builder *b, const char *key, const char *value) {
	struct device_view *v = b->view;
	size_t klen = strlen(key), vlen = strlen(value);
	if (b->overflow || v->ev.n_properties == UEVENT_MAX_PROPERTIES ||
		b->off + klen + vlen + 2 > sizeof(v->buf)) {
		b->overflow = 1;
		return;
	}
	char *k = v->buf + b->off;
	memcpy(k, key, klen + 1);
	char *val = k + klen + 1;
	memcpy(val, value, vlen + 1);
	b->off += klen + vlen + 2;
	v->ev.properties[v->ev.n_properties++] = (struct uevent_property){k, val};
}

/* ID_PATH_TAG as udev makes it: every character but [A-Za-z0-9] becomes '_'. */
static void path_tag(const char *id_path, char *out, size_t size) {
	size_t i = 0;
	for (; id_path[i] != '\0' && i + 1 < size; i++) {
		char ch = id_path[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		out[i] = alnum ? ch : '_';
	}
	out[i] = '\0';
}

int device_view_build(struct device_view *view, const struct device *dev, const char *action,
	uint64_t seqnum) {
	memset(&view->ev, 0, sizeof(view->ev));
	view->n_tags = 0;
	struct builder b = {.view = view};
	char num[32], devname[600], tag[512], for_seat[600];
	put(&b, "ACTION", action);
	put(&b, "DEVPATH", dev->devpath);
	put(&b, "SUBSYSTEM", dev->subsystem);
	if (dev->devname != NULL) {
		snprintf(devname, sizeof(devname), "/dev/%s", dev->devname);
		put(&b, "DEVNAME", devname);
	}
	if (strcmp(dev->subsystem, "drm") == 0) {
		put(&b, "DEVTYPE", "drm_minor");
	}
	if (dev->has_devnum) {
		snprintf(num, sizeof(num), "%u", dev->major);
		put(&b, "MAJOR", num);
		snprintf(num, sizeof(num), "%u", dev->minor);
		put(&b, "MINOR", num);
		snprintf(view->db_id, sizeof(view->db_id), "c%u:%u", dev->major, dev->minor);
	} else {
		snprintf(view->db_id, sizeof(view->db_id), "+%s:%s", dev->subsystem,
			device_sysname(dev));
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)seqnum);
	put(&b, "SEQNUM", num);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(num, sizeof(num), "%lld", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	put(&b, "USEC_INITIALIZED", num);
	if (device_kind_is_input(dev->kind)) {
		for (uint32_t bit = 1; bit < (1u << INPUT_CLASS_COUNT); bit <<= 1) {
			if (dev->input_class & bit) {
				put(&b, input_class_property(bit), "1");
			}
		}
	}
	if (dev->id_path != NULL) {
		put(&b, "ID_PATH", dev->id_path);
		path_tag(dev->id_path, tag, sizeof(tag));
		put(&b, "ID_PATH_TAG", tag);
		snprintf(for_seat, sizeof(for_seat), "%s-%s", dev->subsystem, tag);
		put(&b, "ID_FOR_SEAT", for_seat);
	}
	put(&b, "ID_SEAT", dev->seat);
	if (dev->kind == DEVICE_KIND_SOUND_CARD && dev->sound_initialized) {
		put(&b, "SOUND_INITIALIZED", "1");
	}
	/* The tags logind's rules give seat devices (71-seat.rules, 73-seat-late.rules). */
	view->tags[view->n_tags++] = "seat";
	view->tags[view->n_tags++] = "uaccess";
	if (strcmp(dev->seat, "seat0") != 0) {
		view->tags[view->n_tags++] = dev->seat;
	}
	if (dev->kind == DEVICE_KIND_DRM_CARD) {
		view->tags[view->n_tags++] = "master-of-seat";
	}
	char tags[256] = ":";
	for (size_t i = 0; i < view->n_tags; i++) {
		strncat(tags, view->tags[i], sizeof(tags) - strlen(tags) - 2);
		strcat(tags, ":");
	}
	put(&b, "TAGS", tags);
	put(&b, "CURRENT_TAGS", tags);
	if (b.overflow) {
		errno = ENOBUFS;
		return -1;
	}
	view->ev.devpath = dev->devpath;
	view->ev.subsystem = uevent_get(&view->ev, "SUBSYSTEM");
	view->ev.devtype = uevent_get(&view->ev, "DEVTYPE");
	return uevent_action_parse(action, &view->ev.action);
}

int forwarder_open(struct forwarder *f, const struct container *c) {
	*f = (struct forwarder){.fd = -1};
	int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own == -1) {
		return -1;
	}
	/* A socket keeps the namespace it was made in: make it there, come back. */
	if (setns(c->net_fd, CLONE_NEWNET) == -1) {
		close(own);
		return -1;
	}
	f->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		NETLINK_KOBJECT_UEVENT);
	int saved = errno;
	if (setns(own, CLONE_NEWNET) == -1) {
		/* Stuck in the container's namespace would be unsafe for everything after. */
		abort();
	}
	close(own);
	if (f->fd == -1) {
		errno = saved;
		return -1;
	}
	/*
	 * Anyone in the namespace may send to a socket by its port id, unless it is connected:
	 * then the kernel takes only its peer's messages, here the kernel's own (port 0).
	 * NETLINK_CAP_ACK: an error ack does not carry the message back, so it fits a header.
	 */
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct sockaddr_nl self;
	socklen_t len = sizeof(self);
	int on = 1;
	if (connect(f->fd, (struct sockaddr *)&kernel, sizeof(kernel)) == -1 ||
		getsockname(f->fd, (struct sockaddr *)&self, &len) == -1 ||
		setsockopt(f->fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on)) == -1) {
		saved = errno;
		forwarder_close(f);
		errno = saved;
		return -1;
	}
	f->port = self.nl_pid;
	return 0;
}

void forwarder_close(struct forwarder *f) {
	if (f->fd != -1) {
		close(f->fd);
		f->fd = -1;
	}
}

/* The database file as udevd writes it (sd-device's device_update_db). */
static int format_db(const struct device_view *view, char *out, size_t size) {
	static const char *const from_sysfs[] = {"ACTION", "DEVPATH", "SUBSYSTEM", "DEVNAME",
		"DEVTYPE", "MAJOR", "MINOR", "SEQNUM", "USEC_INITIALIZED", "TAGS", "CURRENT_TAGS"};
	size_t off = 0;
	int n = snprintf(out, size, "I:%s\n", uevent_get(&view->ev, "USEC_INITIALIZED"));
	for (size_t i = 0; n >= 0 && (size_t)n < size - off && i < view->ev.n_properties; i++) {
		off += (size_t)n;
		const struct uevent_property *p = &view->ev.properties[i];
		bool skip = false;
		for (size_t j = 0; j < sizeof(from_sysfs) / sizeof(from_sysfs[0]); j++) {
			skip |= strcmp(p->key, from_sysfs[j]) == 0;
		}
		n = skip ? 0 : snprintf(out + off, size - off, "E:%s=%s\n", p->key, p->value);
	}
	for (size_t i = 0; n >= 0 && (size_t)n < size - off && i < view->n_tags; i++) {
		off += (size_t)n;
		n = snprintf(out + off, size - off, "G:%s\n", view->tags[i]);
	}
	for (size_t i = 0; n >= 0 && (size_t)n < size - off && i < view->n_tags; i++) {
		off += (size_t)n;
		n = snprintf(out + off, size - off, "Q:%s\n", view->tags[i]);
	}
	if (n >= 0 && (size_t)n < size - off) {
		off += (size_t)n;
		n = snprintf(out + off, size - off, "V:1\n");
	}
	if (n < 0 || (size_t)n >= size - off) {
		errno = ENOBUFS;
		return -1;
	}
	return (int)(off + (size_t)n);
}

/* Writes the entry and its tag files below the open data and tags directories. */
static int write_entry(const struct container *c, int data, int tags,
	const struct device_view *view, const char *content, size_t len) {
	if (container_fs_write_file(c, data, view->db_id, content, len, 0644) == -1) {
		return -1;
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < view->n_tags; i++) {
		int tag = container_fs_open_dir_at(c, tags, view->tags[i], true, 0755);
		/* Tag files are empty: one that is there already (a change) needs nothing. */
		struct stat st;
		if (tag != -1 && fstatat(tag, view->db_id, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			close(tag);
			continue;
		}
		r = tag == -1 ? -1 : container_fs_write_file(c, tag, view->db_id, "", 0, 0444);
		if (tag != -1) {
			close(tag);
		}
	}
	return r;
}

int forward_db_write(struct forwarder *f, const struct container *c,
	const struct device_view *view) {
	(void)f;
	char content[UEVENT_MAX_SIZE];
	int len = format_db(view, content, sizeof(content));
	if (len == -1) {
		return -1;
	}
	int data = container_fs_open_dir(c, "run/udev/data", true, 0755);
	int tags = container_fs_open_dir(c, "run/udev/tags", true, 0755);
	int r = data == -1 || tags == -1 ? -1 : write_entry(c, data, tags, view, content,
		(size_t)len);
	int saved = errno;
	if (data != -1) {
		close(data);
	}
	if (tags != -1) {
		close(tags);
	}
	errno = saved;
	return r;
}

int forward_db_remove(struct forwarder *f, const struct container *c,
	const struct device_view *view) {
	(void)f;
	int r = 0;
	int tags = container_fs_open_dir(c, "run/udev/tags", false, 0);
	for (size_t i = 0; tags != -1 && i < view->n_tags; i++) {
		int tag = container_fs_open_dir_at(c, tags, view->tags[i], false, 0);
		if (tag != -1) {
			r |= container_fs_unlink(c, tag, view->db_id);
			close(tag);
		}
	}
	int data = container_fs_open_dir(c, "run/udev/data", false, 0);
	if (data != -1) {
		r |= container_fs_unlink(c, data, view->db_id);
		close(data);
	}
	if (tags != -1) {
		close(tags);
	}
	return r == 0 ? 0 : -1;
}

int forward_prepare(const struct container *c) {
	/* libudev monitors in a container listen only if /run/udev/control exists. */
	int udev = container_fs_open_dir(c, "run/udev", true, 0755);
	if (udev == -1) {
		return -1;
	}
	int r = container_fs_write_file(c, udev, "control", "", 0, 0644);
	int saved = errno;
	close(udev);
	errno = saved;
	return r;
}

int forward_send(struct forwarder *f, const struct container *c, const struct device_view *view) {
	char msg[UDEV_MESSAGE_MAX_SIZE];
	int len = udev_message_encode(&view->ev, msg, sizeof(msg));
	if (len == -1) {
		return -1;
	}
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = GROUP_UDEV};
	return netlink_send_as(f->fd, &dest, msg, (size_t)len, c->root_uid, c->root_gid);
}

int forward_inject_kernel(struct forwarder *f, const struct container *c,
	const struct device_view *view) {
	/* What the kernel itself would say: no udev properties, DEVNAME relative to /dev. */
	static const char *const kernel_keys[] = {"ACTION", "DEVPATH", "SUBSYSTEM", "DEVNAME",
		"DEVTYPE", "MAJOR", "MINOR"};
	struct uevent ev = view->ev;
	ev.n_properties = 0;
	for (size_t i = 0; i < view->ev.n_properties; i++) {
		struct uevent_property p = view->ev.properties[i];
		for (size_t k = 0; k < sizeof(kernel_keys) / sizeof(kernel_keys[0]); k++) {
			if (strcmp(p.key, kernel_keys[k]) == 0) {
				if (strcmp(p.key, "DEVNAME") == 0 && strncmp(p.value, "/dev/", 5) == 0) {
					p.value += 5;
				}
				ev.properties[ev.n_properties++] = p;
			}
		}
	}
	struct {
		struct nlmsghdr header;
		char payload[UEVENT_MAX_SIZE];
	} msg;
	uint32_t seq = ++f->requests;
	int len = uevent_format_kernel(&ev, false, msg.payload, sizeof(msg.payload));
	if (len == -1) {
		return -1;
	}
	/* The kernel appends SEQNUM and broadcasts it on group 1 of that namespace (4.18+). */
	msg.header = (struct nlmsghdr){
		.nlmsg_len = (uint32_t)NLMSG_LENGTH((size_t)len),
		.nlmsg_type = NLMSG_MIN_TYPE,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = seq,
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (netlink_send_as(f->fd, &kernel, &msg, msg.header.nlmsg_len, c->root_uid,
		    c->root_gid) == -1) {
		return -1;
	}
	/*
	 * The kernel acks before sendmsg returns; read it to learn the verdict. Only the kernel
	 * can queue on the socket, but anything that is not the ack to this message is still
	 * skipped, a few at most.
	 */
	for (int i = 0; i < 8; i++) {
		union {
			struct nlmsghdr header;
			char buf[NLMSG_SPACE(sizeof(struct nlmsgerr))];
		} ack;
		struct sockaddr_nl from;
		struct iovec iov = {.iov_base = &ack, .iov_len = sizeof(ack)};
		struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(f->fd, &m, MSG_DONTWAIT);
		if (n == -1) {
			errno = errno == EAGAIN ? ENOMSG : errno;
			return -1;
		}
		if (from.nl_pid != 0 || n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
			ack.header.nlmsg_type != NLMSG_ERROR || ack.header.nlmsg_seq != seq ||
			ack.header.nlmsg_pid != f->port) {
			continue;
		}
		struct nlmsgerr *err = NLMSG_DATA(&ack.header);
		if (err->error != 0) {
			errno = -err->error;
			return -1;
		}
		return 0;
	}
	errno = ENOMSG;
	return -1;
}
