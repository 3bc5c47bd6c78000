#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "probe_internal.h"

/* After the control listener got the host's event, how long the isolated one keeps looking. */
#define ISOLATION_GRACE_MS 200

#define GROUP_KERNEL 1
#define GROUP_UDEV 2
#define UEVENT_SEND 16 /* any type >= NLMSG_MIN_TYPE; what LXD and Incus use */
#define UEVENT_BUFFER_SIZE 2048

#define TRIGGER_DEVPATH "/devices/virtual/mem/null"

/* A bound NETLINK_KOBJECT_UEVENT socket listening to groups (0: none), with SO_PASSCRED. */
static int uevent_socket(unsigned groups) {
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), one = 1;
	if (fd == -1) {
		return -1;
	}
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
		bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct received {
	char data[UEVENT_BUFFER_SIZE * 2];
	size_t len;
	struct sockaddr_nl from;
	struct ucred cred;
	bool has_cred;
};

/* Receives one message within timeout_ms, NUL-terminated, with sender and credentials. */
static int uevent_receive(int fd, struct received *m, int timeout_ms) {
	if (wait_readable(fd, timeout_ms) == -1) {
		return -1;
	}
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = {.iov_base = m->data, .iov_len = sizeof(m->data) - 1};
	struct msghdr msg = {
		.msg_name = &m->from,
		.msg_namelen = sizeof(m->from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(fd, &msg, 0);
	if (n == -1) {
		return -1;
	}
	m->len = (size_t)n;
	m->data[m->len] = '\0';
	m->has_cred = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&m->cred, CMSG_DATA(c), sizeof(m->cred));
			m->has_cred = true;
		}
	}
	return 0;
}

/* (a) uevent injection: the kernel takes a uevent sent into a netns and broadcasts it there. */

static const char inject_payload[] = "change@/devices/virtual/probe\0ACTION=change\0"
				     "DEVPATH=/devices/virtual/probe\0SUBSYSTEM=probe\0";

static void child_uevent_inject(int fd, void *data) {
	(void)data;
	if (unshare(CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWNET): %s",
			err_name(errno));
	}
	int listener = uevent_socket(GROUP_KERNEL), sender = uevent_socket(0);
	if (listener == -1 || sender == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "NETLINK_KOBJECT_UEVENT socket: %s",
			err_name(errno));
	}
	/* The literal's own terminator is not part of the event. */
	size_t len = sizeof(inject_payload) - 1;
	union {
		struct nlmsghdr h;
		char raw[NLMSG_SPACE(sizeof(inject_payload))];
	} req;
	memset(&req, 0, sizeof(req));
	req.h = (struct nlmsghdr){
		.nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
		.nlmsg_type = UEVENT_SEND,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = 1,
	};
	memcpy(NLMSG_DATA(&req.h), inject_payload, len);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(sender, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		    sizeof(kernel)) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "send to the kernel: %s", err_name(errno));
	}
	union {
		struct nlmsghdr h;
		char raw[512];
	} ack;
	if (wait_readable(sender, TIMEOUT_MS) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "no ACK from the kernel: %s", err_name(errno));
	}
	ssize_t n = recv(sender, &ack, sizeof(ack), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ack.h.nlmsg_type != NLMSG_ERROR) {
		child_exit(fd, KERNEL_PROBE_MISSING, "no ACK from the kernel (%zd bytes)", n);
	}
	const struct nlmsgerr *err = NLMSG_DATA(&ack.h);
	if (err->error != 0) {
		child_exit(fd, KERNEL_PROBE_MISSING, "the kernel refused the uevent: %s",
			err_name(-err->error));
	}
	static struct received m;
	if (uevent_receive(listener, &m, TIMEOUT_MS) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "acked, but nothing arrived on group 1: %s",
			err_name(errno));
	}
	if (m.from.nl_pid != 0 || m.from.nl_groups != GROUP_KERNEL) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"arrived from port %u on groups %u, not from the kernel", m.from.nl_pid,
			m.from.nl_groups);
	}
	const char *seqnum = m.data + len;
	size_t digits = m.len > len + 7 ? strspn(seqnum + 7, "0123456789") : 0;
	if (m.len <= len || memcmp(m.data, inject_payload, len) != 0 ||
		strncmp(seqnum, "SEQNUM=", 7) != 0 || digits == 0 ||
		len + 7 + digits + 1 != m.len) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"the event came back changed (%zu bytes, expected ours + SEQNUM)", m.len);
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE,
		"acked; a group 1 listener got it from port 0 with %s appended", seqnum);
}

void probe_uevent_inject(struct kernel_probe_result *r) {
	struct child c = NO_CHILD;
	if (child_start(&c, child_uevent_inject, NULL) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		return;
	}
	child_collect(&c, r, 2 * TIMEOUT_MS + 1000);
	child_stop(&c);
}

/*
 * (b) uevent isolation: a host uevent reaches a listener in a privileged netns (the control)
 * but not one in a netns owned by a new user namespace.
 */

static bool is_trigger_event(const struct received *m) {
	return strcmp(m->data, "change@" TRIGGER_DEVPATH) == 0;
}

static void child_isolation_control(int fd, void *data) {
	(void)data;
	if (unshare(CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "unshare(CLONE_NEWNET): %s",
			err_name(errno));
	}
	int listener = uevent_socket(GROUP_KERNEL);
	if (listener == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "uevent socket: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	static struct received m;
	long long deadline = now_ms() + TIMEOUT_MS;
	while (now_ms() < deadline) {
		if (uevent_receive(listener, &m, (int)(deadline - now_ms())) == -1) {
			break;
		}
		if (is_trigger_event(&m)) {
			child_exit(fd, KERNEL_PROBE_AVAILABLE, "received");
		}
	}
	child_exit(fd, KERNEL_PROBE_MISSING, "received nothing in %d ms", TIMEOUT_MS);
}

static void child_isolation_listener(int fd, void *data) {
	(void)data;
	child_enter_userns_netns(fd);
	int listener = uevent_socket(GROUP_KERNEL);
	if (listener == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "uevent socket: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	static struct received m;
	unsigned others = 0;
	bool done = false;
	long long deadline = now_ms() + 3 * TIMEOUT_MS;
	while (now_ms() < deadline) {
		struct pollfd pfd[2] = {
			{.fd = listener, .events = POLLIN},
			{.fd = fd, .events = POLLIN},
		};
		long long left = deadline - now_ms();
		int n = poll(pfd, done ? 1 : 2, left > 0 ? (int)left : 0);
		if (n == -1 && errno != EINTR) {
			child_exit(fd, KERNEL_PROBE_UNTESTED, "poll: %s", err_name(errno));
		}
		if (n == 0 && done) {
			break;
		}
		if (n > 0 && (pfd[0].revents & POLLIN) != 0 &&
			uevent_receive(listener, &m, 0) == 0) {
			if (is_trigger_event(&m)) {
				child_exit(fd, KERNEL_PROBE_MISSING,
					"a netns owned by a new user namespace received the host's "
					"change@" TRIGGER_DEVPATH);
			}
			others++;
		}
		if (!done && n > 0 && (pfd[1].revents & (POLLIN | POLLHUP)) != 0) {
			/* The control has its event: anything still on its way is here by now. */
			if (child_wait_token(fd, 'D', 0) == -1) {
				child_exit(fd, KERNEL_PROBE_UNTESTED, "lost the probe");
			}
			done = true;
			deadline = now_ms() + ISOLATION_GRACE_MS;
		}
	}
	if (!done) {
		child_exit(fd, KERNEL_PROBE_UNTESTED, "the probe never said the event was out");
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE, "%u unrelated messages", others);
}

void probe_uevent_isolation(struct kernel_probe_result *r) {
	const char *trigger = "/sys" TRIGGER_DEVPATH "/uevent";
	struct child control = NO_CHILD, isolated = NO_CHILD;
	struct kernel_probe_result control_result = {0};
	int tfd = open(trigger, O_WRONLY | O_CLOEXEC);
	if (tfd == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "cannot trigger a host uevent: open %s: %s",
			trigger, err_name(errno));
		return;
	}
	if (child_start(&control, child_isolation_control, NULL) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	if (child_await(&control, 'R', r) == -1) {
		r->status = KERNEL_PROBE_UNTESTED;
		goto out;
	}
	if (start_userns_child(&isolated, child_isolation_listener, NULL, r) == -1) {
		goto out;
	}
	if (write(tfd, "change", 6) != 6) {
		set_result(r, KERNEL_PROBE_UNTESTED, "write %s: %s", trigger, err_name(errno));
		goto out;
	}
	child_collect(&control, &control_result, TIMEOUT_MS + 1000);
	if (control_result.status != KERNEL_PROBE_AVAILABLE) {
		set_result(r, KERNEL_PROBE_UNTESTED,
			"the control listener in a privileged netns got no host uevent: %s",
			control_result.detail);
		goto out;
	}
	child_send_token(isolated.fd, 'D');
	child_collect(&isolated, r, TIMEOUT_MS);
	if (r->status == KERNEL_PROBE_AVAILABLE) {
		char seen[KERNEL_PROBE_DETAIL_MAX];
		snprintf(seen, sizeof(seen), "%s", r->detail);
		set_result(r, KERNEL_PROBE_AVAILABLE,
			"host change@" TRIGGER_DEVPATH " reached a privileged netns, not a "
			"userns-owned one (that one got %s)",
			seen);
	}
out:
	child_stop(&isolated);
	child_stop(&control);
	close(tfd);
}

/*
 * (h) udev-format messages to group 2 from a socket the probe opened in a netns owned by a
 * user namespace, sent with the credentials of that namespace's root (DESIGN decision 7).
 */

static const char explicit_payload[] = "seatd-ns-probe explicit";
static const char implicit_payload[] = "seatd-ns-probe implicit";

static void child_udev_listener(int fd, void *data) {
	(void)data;
	child_enter_userns_netns(fd);
	int listener = uevent_socket(GROUP_UDEV);
	if (listener == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "group 2 listener: %s", err_name(errno));
	}
	child_send_token(fd, 'R');
	static struct received m;
	struct received_summary {
		bool seen;
		struct ucred cred;
		struct sockaddr_nl from;
	} expl = {0}, impl = {0};
	long long deadline = now_ms() + TIMEOUT_MS;
	while ((!expl.seen || !impl.seen) && now_ms() < deadline) {
		if (uevent_receive(listener, &m, (int)(deadline - now_ms())) == -1) {
			break;
		}
		struct received_summary *s = strcmp(m.data, explicit_payload) == 0 ? &expl
			: strcmp(m.data, implicit_payload) == 0			  ? &impl
										  : NULL;
		if (s != NULL && m.has_cred) {
			s->seen = true;
			s->cred = m.cred;
			s->from = m.from;
		}
	}
	if (!expl.seen) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"the message sent with explicit credentials did not arrive");
	}
	if (expl.cred.uid != 0 || expl.cred.gid != 0 || expl.from.nl_groups != GROUP_UDEV ||
		expl.from.nl_pid == 0) {
		child_exit(fd, KERNEL_PROBE_MISSING,
			"explicit credentials arrived as uid %u gid %u from port %u on groups %u",
			(unsigned)expl.cred.uid, (unsigned)expl.cred.gid, expl.from.nl_pid,
			expl.from.nl_groups);
	}
	char implicit[48] = "did not arrive";
	if (impl.seen) {
		snprintf(implicit, sizeof(implicit), "arrives as uid %u", (unsigned)impl.cred.uid);
	}
	child_exit(fd, KERNEL_PROBE_AVAILABLE,
		"host uid %u arrives as uid 0 gid 0 on group 2 from port %u; implicit host root %s",
		PROBE_ID_BASE, expl.from.nl_pid, implicit);
}

static void child_socket_in_netns(int fd, void *data) {
	int nsfd = *(int *)data;
	if (setns(nsfd, CLONE_NEWNET) == -1) {
		child_exit(fd, status_for_errno(errno), "setns(net): %s", err_name(errno));
	}
	int sock = uevent_socket(0);
	if (sock == -1 || send_fd(fd, sock) == -1) {
		child_exit(fd, KERNEL_PROBE_MISSING, "socket in the netns: %s", err_name(errno));
	}
	_exit(0);
}

static int send_to_group(int sock, const char *payload, bool explicit_creds) {
	struct sockaddr_nl dest = {.nl_family = AF_NETLINK, .nl_groups = GROUP_UDEV};
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = strlen(payload) + 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_name = &dest,
		.msg_namelen = sizeof(dest),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	if (explicit_creds) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
		struct ucred cred = {.pid = getpid(), .uid = PROBE_ID_BASE, .gid = PROBE_ID_BASE};
		memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == -1 ? -1 : 0;
}

void probe_udev_credentials(struct kernel_probe_result *r) {
	struct child listener = NO_CHILD, helper = NO_CHILD;
	int nsfd = -1, sock = -1;
	if (start_userns_child(&listener, child_udev_listener, NULL, r) == -1) {
		goto out;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)listener.pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "open %s: %s", path, err_name(errno));
		goto out;
	}
	/* What the daemon does once per container: a socket made in its netns, kept. */
	if (child_start(&helper, child_socket_in_netns, &nsfd) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "fork: %s", err_name(errno));
		goto out;
	}
	sock = child_recv_fd(&helper, r);
	if (sock == -1) {
		goto out;
	}
	if (send_to_group(sock, explicit_payload, true) == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "send with SCM_CREDENTIALS uid %u: %s",
			PROBE_ID_BASE, err_name(errno));
		goto out;
	}
	if (send_to_group(sock, implicit_payload, false) == -1) {
		log_debugf("kernel probe: send with implicit credentials: %s", strerror(errno));
	}
	child_collect(&listener, r, TIMEOUT_MS + 1000);
out:
	if (sock != -1) {
		close(sock);
	}
	if (nsfd != -1) {
		close(nsfd);
	}
	child_stop(&helper);
	child_stop(&listener);
}
