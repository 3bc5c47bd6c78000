#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"

int netlink_send_as(int fd, const struct sockaddr_nl *dest, const void *buf, size_t len,
	uid_t uid, gid_t gid) {
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control = {0};
	struct msghdr m = {
		.msg_name = (void *)dest,
		.msg_namelen = sizeof(*dest),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&m);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_CREDENTIALS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred cred = {.pid = getpid(), .uid = uid, .gid = gid};
	memcpy(CMSG_DATA(cmsg), &cred, sizeof(cred));
	return sendmsg(fd, &m, 0) == -1 ? -1 : 0;
}
