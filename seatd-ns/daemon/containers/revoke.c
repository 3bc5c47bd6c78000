#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/hidraw.h>
#include <linux/input.h>
#include <linux/kcmp.h>
#include <linux/nsfs.h>
#include <sound/asound.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"
#include "log.h"
#include "revoke.h"
#include "sysfs.h"

/* Kernel 6.12 has it (b31c9d9dc343); older headers do not, older kernels answer EINVAL. */
#ifndef HIDIOCREVOKE
#define HIDIOCREVOKE _IOW('H', 0x0D, int)
#endif

#define MAX_PID_NS_DEPTH 33 /* the kernel nests pid namespaces 32 deep */

struct search {
	const dev_t *devnums;
	size_t n;
	enum revoke_kind kind;
	struct revoke_scan *scan;
	const struct stat *target, *ours; /* the container's pid namespace, and ours */
};

static bool same_file(const struct stat *a, const struct stat *b) {
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool wanted(const struct search *s, const struct stat *st) {
	if (!S_ISCHR(st->st_mode)) {
		return false;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (st->st_rdev == s->devnums[i]) {
			return true;
		}
	}
	return false;
}

static bool is_number(const char *name) {
	return name[0] >= '0' && name[0] <= '9' && strspn(name, "0123456789") == strlen(name);
}

/* Whether our copy of an open file is dead already: revoked, or of a disconnected device. */
static bool is_dead(int fd, enum revoke_kind kind) {
	int version;
	int r = kind == REVOKE_EVDEV    ? ioctl(fd, EVIOCGVERSION, &version)
		: kind == REVOKE_HIDRAW ? ioctl(fd, HIDIOCGRDESCSIZE, &version)
					/* a disconnected card's files fail every ioctl */
					: ioctl(fd, SNDRV_CTL_IOCTL_PVERSION, &version);
	return r == -1 && errno == ENODEV;
}

static int revoke_fd(int fd, enum revoke_kind kind) {
	switch (kind) {
	case REVOKE_EVDEV:
		return ioctl(fd, EVIOCREVOKE, NULL);
	case REVOKE_HIDRAW:
		return ioctl(fd, HIDIOCREVOKE, NULL);
	case REVOKE_NONE:
		break;
	}
	errno = EOPNOTSUPP;
	return -1;
}

/* Revokes the open file behind fd number no of the process pidfd, if it is one searched for. */
static void take_fd(struct search *s, int pidfd, int no) {
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, no, 0);
	if (fd == -1) {
		/* Closed, or the process exited, meanwhile: nothing left there. */
		if (errno != EBADF && errno != ESRCH) {
			s->scan->held++;
		}
		return;
	}
	struct stat st;
	/* Checked again on our copy: the number may name another file by now. */
	if (fstat(fd, &st) == 0 && wanted(s, &st) && !is_dead(fd, s->kind)) {
		if (revoke_fd(fd, s->kind) == 0) {
			s->scan->revoked++;
		} else {
			s->scan->held++;
		}
	}
	close(fd);
}

/*
 * The entries of dir_fd (a /proc fd or map_files directory, consumed) that are open files of
 * the devices: revoked through pidfd, or counted when there is none (a thread's own fd table,
 * a mapping). stat() through these links reaches the open file itself, not a path.
 */
static void search_dir(struct search *s, int dir_fd, int pidfd) {
	DIR *dir = dir_fd != -1 ? fdopendir(dir_fd) : NULL;
	if (dir == NULL) {
		if (dir_fd != -1) {
			close(dir_fd);
		}
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(dirfd(dir), e->d_name, &st, 0) == -1 ||
			!wanted(s, &st)) {
			continue;
		}
		if (pidfd != -1 && is_number(e->d_name)) {
			take_fd(s, pidfd, atoi(e->d_name));
		} else {
			s->scan->held++;
		}
	}
	closedir(dir);
}

/* Threads that unshared their fd table: pidfd_getfd reaches only the leader's (before 6.9). */
static void search_threads(struct search *s, int proc_fd, pid_t pid) {
	int task_fd = openat(proc_fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = task_fd != -1 ? fdopendir(task_fd) : NULL;
	if (dir == NULL) {
		if (task_fd != -1) {
			close(task_fd);
		}
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		pid_t tid = is_number(e->d_name) ? atoi(e->d_name) : 0;
		if (tid <= 0 || tid == pid || syscall(SYS_kcmp, pid, tid, KCMP_FILES, 0, 0) == 0) {
			continue;
		}
		char path[32];
		snprintf(path, sizeof(path), "%d/fd", (int)tid);
		search_dir(s, openat(dirfd(dir), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), -1);
	}
	closedir(dir);
}

/* Whether the pid namespace ns_fd (consumed) is the target or below it. */
static bool in_namespace(const struct search *s, int ns_fd) {
	bool found = false;
	for (int depth = 0; ns_fd != -1 && depth < MAX_PID_NS_DEPTH; depth++) {
		struct stat st;
		if (fstat(ns_fd, &st) == -1 || same_file(&st, s->ours)) {
			break;
		}
		if (same_file(&st, s->target)) {
			found = true;
			break;
		}
		/* EPERM at the top of our own namespace's subtree */
		int parent = ioctl(ns_fd, NS_GET_PARENT);
		close(ns_fd);
		ns_fd = parent;
	}
	if (ns_fd != -1) {
		close(ns_fd);
	}
	return found;
}

static void search_process(struct search *s, int proc_dir, const char *name) {
	pid_t pid = atoi(name);
	struct stat st;
	int pidfd = -1;
	/* Held open, /proc/PID stays this process's: after it exits, lookups there fail. */
	int proc_fd = openat(proc_dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd == -1 || pid == getpid() || fstatat(proc_fd, "ns/pid", &st, 0) == -1 ||
		same_file(&st, s->ours) ||
		!in_namespace(s, openat(proc_fd, "ns/pid", O_RDONLY | O_CLOEXEC))) {
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* Still there, so the pid was not reused: the pidfd is this process's. */
	if (pidfd == -1 || fstatat(proc_fd, "ns/pid", &st, 0) == -1) {
		goto out;
	}
	s->scan->processes++;
	search_dir(s, openat(proc_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC), pidfd);
	search_threads(s, proc_fd, pid);
	if (s->kind == REVOKE_NONE) {
		/* A sound node can be mapped (a PCM's buffer), and the mapping outlives the fd. */
		search_dir(s, openat(proc_fd, "map_files", O_RDONLY | O_DIRECTORY | O_CLOEXEC), -1);
	}
out:
	if (pidfd != -1) {
		close(pidfd);
	}
	if (proc_fd != -1) {
		close(proc_fd);
	}
}

int revoke_scan_container(pid_t pid, int pidfd, const dev_t *devnums, size_t n,
	enum revoke_kind kind, struct revoke_scan *scan) {
	struct stat target, ours;
	char path[64];
	memset(scan, 0, sizeof(*scan));
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &target) == -1 || stat("/proc/self/ns/pid", &ours) == -1) {
		errno = errno == ENOENT ? ESRCH : errno;
		return -1;
	}
	/* Still the init the pidfd holds, so that namespace is the container's. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == -1) {
		return -1;
	}
	if (same_file(&target, &ours)) {
		errno = EBUSY;
		return -1;
	}
	DIR *proc = opendir("/proc");
	if (proc == NULL) {
		return -1;
	}
	struct search s = {.devnums = devnums, .n = n, .kind = kind, .scan = scan,
		.target = &target, .ours = &ours};
	struct dirent *e;
	while ((e = readdir(proc)) != NULL) {
		if (is_number(e->d_name)) {
			search_process(&s, dirfd(proc), e->d_name);
		}
	}
	closedir(proc);
	return 0;
}

/*
 * The device whose driver has dev (a "/devices/..." path): dev or its nearest ancestor with a
 * driver; for a USB interface its USB device, since a driver such as snd-usb-audio claims
 * several interfaces and gives a card up only once all of them are gone.
 */
static int find_bound(int sysfs_fd, const char *devpath, char *out, size_t size) {
	char attr[PATH_MAX + 32];
	struct stat st;
	if (snprintf(out, size, "%s", devpath) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (;;) {
		snprintf(attr, sizeof(attr), "%s/driver", out + 1);
		if (fstatat(sysfs_fd, attr, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			break;
		}
		char *slash = strrchr(out, '/');
		if (slash == NULL || slash == out) {
			errno = ENODEV;
			return -1;
		}
		*slash = '\0';
	}
	snprintf(attr, sizeof(attr), "%s/bInterfaceNumber", out + 1);
	if (faccessat(sysfs_fd, attr, F_OK, 0) == 0) {
		*strrchr(out, '/') = '\0';
	}
	return 0;
}

static int write_name(int dir_fd, const char *file, const char *name) {
	int fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	ssize_t n = write(fd, name, strlen(name));
	int saved = n == -1 ? errno : EIO;
	close(fd);
	if (n != (ssize_t)strlen(name)) {
		errno = saved;
		return -1;
	}
	return 0;
}

static long elapsed_ms(const struct timespec *start) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * Unbinds the driver of the hardware dev hangs on and binds it again: every open file of it
 * then fails with ENODEV, and it comes back with new uevents.
 */
static int disconnect(const char *container, int sysfs_fd, const struct device *dev,
	const char *devpath, unsigned held) {
	char bound[PATH_MAX], driver[256], attr[PATH_MAX + 16];
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (find_bound(sysfs_fd, devpath, bound, sizeof(bound)) == -1 ||
		sysfs_read_link_name(sysfs_fd, bound, "driver", driver, sizeof(driver)) == -1) {
		log_errorf("%s: %s is still open there and has no driver to unbind: %s",
			container, dev->devname, strerror(errno));
		return -1;
	}
	snprintf(attr, sizeof(attr), "%s/driver", bound + 1);
	int drv = openat(sysfs_fd, attr, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *name = strrchr(bound, '/') + 1;
	if (drv == -1 || write_name(drv, "unbind", name) == -1) {
		log_errorf("%s: %s is still open there, and %s cannot be unbound from %s: %s",
			container, dev->devname, bound, driver, strerror(errno));
		if (drv != -1) {
			close(drv);
		}
		return -1;
	}
	if (write_name(drv, "bind", name) == -1) {
		/* Disconnected all the same: it stays away until replugged. */
		log_errorf("%s: unbound %s from %s, but cannot bind it again: %s", container,
			bound, driver, strerror(errno));
	}
	close(drv);
	log_infof("%s: disconnected %s (driver %s unbound and bound again) in %ld ms: its "
		  "processes held %u open file(s) or mapping(s) of %s that cannot be revoked",
		container, bound, driver, elapsed_ms(&start), held, dev->devname);
	return 0;
}

/*
 * The nodes of dev's card (dev is its control node), each denied to the container now: in
 * *devnums (free it), their number the return value; -1 with errno.
 */
static ssize_t card_nodes(struct cgroup_devices *cgroup, struct devtable *table,
	const struct device *dev, const char *card, dev_t **devnums) {
	size_t len = strlen(card), n = 0, size = 8;
	*devnums = malloc(size * sizeof(**devnums));
	if (*devnums == NULL) {
		return -1;
	}
	struct hashmap *devices = &table->devices;
	for (struct hashmap_entry *e = hashmap_first(devices); e; e = hashmap_next(devices, e)) {
		const struct device *node = hashmap_container_of(e, struct device, entry);
		if (!node->has_devnum || strncmp(node->devpath, card, len) != 0 ||
			node->devpath[len] != '/') {
			continue;
		}
		if (n == size) {
			dev_t *more = realloc(*devnums, 2 * size * sizeof(**devnums));
			if (more == NULL) {
				free(*devnums);
				return -1;
			}
			*devnums = more;
			size *= 2;
		}
		/* Before the search: none of them may be opened anew behind it. */
		if (node != dev && cgroup != NULL &&
			cgroup_devices_deny(cgroup, 'c', node->major, node->minor,
				CGROUP_DEVICES_RW | CGROUP_DEVICES_MKNOD) == -1) {
			log_warnf("cannot deny %s in a cgroup: %s", node->devpath, strerror(errno));
		}
		(*devnums)[n++] = makedev(node->major, node->minor);
	}
	return (ssize_t)n;
}

int revoke_device(const struct container *c, struct cgroup_devices *cgroup,
	struct devtable *table, const struct device *dev) {
	enum revoke_kind kind;
	if (device_kind_is_input(dev->kind)) {
		kind = REVOKE_EVDEV;
	} else if (dev->kind == DEVICE_KIND_HIDRAW) {
		kind = REVOKE_HIDRAW;
	} else if (dev->kind == DEVICE_KIND_SOUND_CONTROL) {
		kind = REVOKE_NONE;
	} else {
		return 0;
	}
	char hardware[PATH_MAX];
	snprintf(hardware, sizeof(hardware), "%s", dev->devpath);
	dev_t one = makedev(dev->major, dev->minor), *devnums = &one;
	ssize_t n = 1;
	if (kind == REVOKE_NONE) {
		*strrchr(hardware, '/') = '\0'; /* the card */
		n = card_nodes(cgroup, table, dev, hardware, &devnums);
		if (n == -1) {
			return -1;
		}
	}
	struct timespec start;
	struct revoke_scan scan;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int r = revoke_scan_container(c->pid, c->pidfd, devnums, (size_t)n, kind, &scan);
	if (devnums != &one) {
		free(devnums);
	}
	if (r == -1) {
		log_warnf("%s: cannot search its processes for open files of %s: %s", c->name,
			dev->devname, strerror(errno));
		return -1;
	}
	log_debugf("%s: searched %u processes for %s in %ld ms: %u revoked, %u held", c->name,
		scan.processes, dev->devname, elapsed_ms(&start), scan.revoked, scan.held);
	if (scan.revoked > 0) {
		log_infof("%s: revoked %u open file(s) of %s that its processes kept", c->name,
			scan.revoked, dev->devname);
	}
	return scan.held > 0 ? disconnect(c->name, table->sysfs_fd, dev, hardware, scan.held) : 0;
}

bool revoke_hidraw_possible(const struct device *dev) {
	static int known = -1;
	if (known != -1) {
		return known == 1;
	}
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/%s", dev->devname);
	int fd = open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode) ||
		st.st_rdev != makedev(dev->major, dev->minor)) {
		log_debugf("hidraw: cannot open %s to ask whether this kernel revokes hidraw fds "
			   "(%s): not given", path, fd == -1 ? strerror(errno) : "another device");
		if (fd != -1) {
			close(fd);
		}
		return false;
	}
	int r = ioctl(fd, HIDIOCREVOKE, NULL), err = errno;
	close(fd);
	if (r == 0) {
		known = 1;
		log_info("hidraw: this kernel revokes hidraw fds (HIDIOCREVOKE): seats with "
			 "hidraw = yes get their hidraw nodes");
	} else if (err == ENOTTY || err == EINVAL) {
		known = 0;
		log_warnf("hidraw: this kernel cannot revoke a hidraw fd (HIDIOCREVOKE: %s; Linux "
			  "6.12 can): no container gets a hidraw node, also where a seat says "
			  "hidraw = yes", strerror(err));
	} else {
		log_debugf("hidraw: cannot ask with %s whether this kernel revokes hidraw fds (%s): "
			   "not given", path, strerror(err));
	}
	return known == 1;
}
