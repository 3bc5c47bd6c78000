/*
 * The receiver: pid 1 of each container, an unmodified libudev monitor
 * (udev_monitor_new_from_netlink "udev", filtered on "input", as libinput does). It
 * timestamps each device udev_monitor_receive_device() returns, checks it (its seat, its
 * node, its db entry) and reports on a pipe; its counters are in shared memory, where the
 * host reads them even while reports are off.
 */
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "delivery.h"
static int receiver_fail(const char *what) {
	fprintf(stderr, "delivery receiver: %s: %s\n", what, strerror(errno));
	return 2;
}

int receiver_main(int argc, char **argv) {
	/* --receiver IDX SEAT DEVPATH DEVNAME MINOR; fd 3: reports, fd 4: shm, fd 5: go */
	if (argc != 7) {
		return 2;
	}
	uint32_t idx = (uint32_t)atoi(argv[2]);
	const char *seat = argv[3], *devpath = argv[4], *devname = argv[5];
	unsigned minor = (unsigned)atoi(argv[6]);
	char node[64], db[64];
	snprintf(node, sizeof(node), "/dev/%s", devname);
	snprintf(db, sizeof(db), "/run/udev/data/c%u:%u", INPUT_MAJOR, minor);
	struct shm *shm = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, 4, 0);
	if (shm == MAP_FAILED) {
		return receiver_fail("mmap");
	}
	struct shm_slot *slot = &shm->slot[idx];
	fcntl(3, F_SETFL, O_NONBLOCK);
	/* Away from CPU 0, where the host pins its throughput runs. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > 1) {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (long c = 1; c < ncpu && c < CPU_SETSIZE; c++) {
			CPU_SET((int)c, &set);
		}
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* Start once registered: libudev listens on group 2 only if /run/udev/control exists. */
	char go;
	if (read(5, &go, 1) != 1) {
		return 0;
	}
	struct udev *udev = udev_new();
	struct udev_monitor *mon = udev ? udev_monitor_new_from_netlink(udev, "udev") : NULL;
	if (mon == NULL || udev_monitor_filter_add_match_subsystem_devtype(mon, "input", NULL) < 0 ||
		udev_monitor_enable_receiving(mon) < 0) {
		return receiver_fail("libudev monitor");
	}
	int fd = udev_monitor_get_fd(mon);
	struct sockaddr_nl addr;
	socklen_t addr_len = sizeof(addr);
	struct report ready = {.idx = idx, .flags = R_READY};
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == -1 ||
		addr.nl_groups != GROUP_UDEV) {
		ready.flags |= R_NOT_UDEV_GROUP;
	}
	if (write(3, &ready, sizeof(ready)) != sizeof(ready)) {
		return receiver_fail("report");
	}
	for (;;) {
		/* The go pipe hangs up when the host side is gone, however it went: then go too. */
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 5, .events = POLLIN}};
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR) {
				continue;
			}
			return receiver_fail("poll");
		}
		if (p[1].revents != 0) {
			return 0;
		}
		if (!(p[0].revents & POLLIN)) {
			continue;
		}
		struct udev_device *d = udev_monitor_receive_device(mon);
		uint64_t t = now_ns();
		if (d == NULL) {
			continue; /* an overflow (ENOBUFS): what did arrive is counted */
		}
		struct report r = {.idx = idx, .seq = udev_device_get_seqnum(d), .t_ns = t};
		const char *action = udev_device_get_action(d);
		const char *dseat = udev_device_get_property_value(d, "ID_SEAT");
		const char *dpath = udev_device_get_devpath(d);
		if (dseat == NULL || strcmp(dseat, seat) != 0 || dpath == NULL ||
			strcmp(dpath, devpath) != 0) {
			r.flags |= R_WRONG_DEVICE;
		}
		bool reporting = __atomic_load_n(&shm->report, __ATOMIC_RELAXED) != 0;
		/* Whoever hears an add or change must find the node and the db entry. */
		if (reporting && action != NULL && strcmp(action, "remove") != 0) {
			struct stat st;
			if (stat(node, &st) == -1 || !S_ISCHR(st.st_mode) ||
				st.st_rdev != makedev(INPUT_MAJOR, minor)) {
				r.flags |= R_NO_NODE;
			}
			if (access(db, F_OK) == -1) {
				r.flags |= R_NO_DB;
			}
		}
		udev_device_unref(d);
		if (r.flags & R_BAD) {
			__atomic_fetch_add(&slot->bad, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&slot->received, 1, __ATOMIC_RELEASE);
		if (reporting) {
			(void)!write(3, &r, sizeof(r));
		}
	}
}
