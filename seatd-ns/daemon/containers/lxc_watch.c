#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "lxc_watch.h"
#include "probe.h"

/* LXC's default name of a container's own cgroup, under the one of its monitor. */
#define PAYLOAD_PREFIX "lxc.payload."

const char *lxc_watch_container_of(const char *dir_name) {
	size_t len = strlen(PAYLOAD_PREFIX);
	if (strncmp(dir_name, PAYLOAD_PREFIX, len) != 0 ||
		!container_name_is_valid(dir_name + len)) {
		return NULL;
	}
	return dir_name + len;
}

/* Logs the container if it still runs, a seat names it and it is not registered. */
static void check(struct lxc_watch *w, const char *name) {
	char dir[sizeof(PAYLOAD_PREFIX) + CONTAINER_NAME_MAX];
	struct stat st;
	snprintf(dir, sizeof(dir), PAYLOAD_PREFIX "%s", name);
	if (desktops_find(w->desktops, name) != NULL ||
		fstatat(w->root_fd, dir, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		return;
	}
	const char *seat =
		seats_seat_of_container(w->desktops->seats, w->desktops->devices, name, NULL);
	if (seat == NULL) {
		return;
	}
	log_warnf("container %s runs (LXC's cgroup %s) but has not registered, so %s goes "
		  "without it: its LXC config lacks the seatd-ns include (lxc.include = "
		  ".../seatd-ns/lxc/seatd-ns.conf, seatd-ns-lxc(7)), or its start-host hook failed "
		  "(LXC's log, at debug level, says why)", name, dir, seat);
}

static int arm(struct lxc_watch *w) {
	struct itimerspec when = {.it_value = {.tv_sec = LXC_WATCH_GRACE_MS / 1000,
					  .tv_nsec = (LXC_WATCH_GRACE_MS % 1000) * 1000000L}};
	return timerfd_settime(w->timer_fd, 0, &when, NULL);
}

static void add_pending(struct lxc_watch *w, const char *dir_name) {
	const char *name = lxc_watch_container_of(dir_name);
	if (name == NULL) {
		return;
	}
	for (size_t i = 0; i < w->n_pending; i++) {
		if (strcmp(w->pending[i], name) == 0) {
			return;
		}
	}
	if (w->n_pending == LXC_WATCH_MAX_PENDING) {
		log_debugf("more than %d LXC containers started at once; not watching %s",
			LXC_WATCH_MAX_PENDING, name);
		return;
	}
	snprintf(w->pending[w->n_pending++], sizeof(w->pending[0]), "%s", name);
	if (arm(w) == -1) {
		log_warnf("timerfd: %s", strerror(errno));
	}
}

static int handle_timer(int fd, uint32_t events, void *data) {
	(void)events;
	struct lxc_watch *w = data;
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) == -1 && errno != EAGAIN) {
		log_warnf("timerfd: %s", strerror(errno));
	}
	for (size_t i = 0; i < w->n_pending; i++) {
		check(w, w->pending[i]);
	}
	w->n_pending = 0;
	return 0;
}

static int handle_inotify(int fd, uint32_t events, void *data) {
	(void)events;
	struct lxc_watch *w = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				log_warnf("inotify on the cgroup root: %s", strerror(errno));
			}
			return 0;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_ISDIR) && ev->len > 0) {
				add_pending(w, ev->name);
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* The containers running already: the same grace, for hooks waiting for our socket. */
static void scan(struct lxc_watch *w) {
	int fd = dup(w->root_fd);
	DIR *dir = fd == -1 ? NULL : fdopendir(fd);
	if (dir == NULL) {
		if (fd != -1) {
			close(fd);
		}
		log_warnf("cannot list the cgroup root: %s", strerror(errno));
		return;
	}
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		if (e->d_type == DT_DIR) {
			add_pending(w, e->d_name);
		}
	}
	closedir(dir);
}

int lxc_watch_init(struct lxc_watch *w, struct desktops *desktops) {
	*w = (struct lxc_watch){.desktops = desktops, .root_fd = -1, .inotify_fd = -1,
		.timer_fd = -1};
	struct kernel_probe_cgroups cgroups;
	if (kernel_probe_find_cgroups(&cgroups) == -1) {
		goto fail;
	}
	if (cgroups.v2[0] == '\0') {
		errno = ENOENT;
		goto fail;
	}
	const char *cgroup_root = cgroups.v2;
	w->root_fd = open(cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->root_fd == -1 || w->inotify_fd == -1 || w->timer_fd == -1 ||
		inotify_add_watch(w->inotify_fd, cgroup_root, IN_CREATE | IN_ONLYDIR) == -1) {
		goto fail;
	}
	if (poller_add(desktops->poller, &w->inotify_source, w->inotify_fd, EPOLLIN,
		    handle_inotify, w) == -1) {
		goto fail;
	}
	if (poller_add(desktops->poller, &w->timer_source, w->timer_fd, EPOLLIN, handle_timer,
		    w) == -1) {
		poller_remove(desktops->poller, &w->inotify_source);
		goto fail;
	}
	scan(w);
	return 0;

fail:;
	int saved = errno;
	int fds[] = {w->root_fd, w->inotify_fd, w->timer_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] != -1) {
			close(fds[i]);
		}
	}
	w->desktops = NULL;
	errno = saved;
	return -1;
}

void lxc_watch_finish(struct lxc_watch *w) {
	if (w->desktops == NULL) {
		return;
	}
	poller_remove(w->desktops->poller, &w->inotify_source);
	poller_remove(w->desktops->poller, &w->timer_source);
	close(w->root_fd);
	close(w->inotify_fd);
	close(w->timer_fd);
	w->desktops = NULL;
}
