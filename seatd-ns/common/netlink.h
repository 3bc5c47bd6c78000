#ifndef _SEATD_NS_NETLINK_H
#define _SEATD_NS_NETLINK_H

#include <linux/netlink.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Sends buf on a netlink socket to dest with explicit SCM_CREDENTIALS of uid and gid (and
 * our pid). libudev accepts a message only from root as its own user namespace sees it, so
 * a message for a container carries the host ids of the container's root: implicit host
 * root credentials would read as the overflow uid there. Returns 0, or -1 with errno.
 */
int netlink_send_as(int fd, const struct sockaddr_nl *dest, const void *buf, size_t len,
	uid_t uid, gid_t gid);

#endif
