#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Reads /proc/PID/{uid,gid}_map: "inside outside count" lines. */
static int read_id_map(int proc_fd, const char *file, struct id_map *map, size_t *n) {
	int fd = openat(proc_fd, file, O_RDONLY | O_CLOEXEC);
	FILE *f = fd != -1 ? fdopen(fd, "re") : NULL;
	if (f == NULL) {
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	*n = 0;
	while (*n < CONTAINER_MAX_ID_MAPS &&
		fscanf(f, "%u %u %u", &map[*n].inside, &map[*n].outside, &map[*n].count) == 3) {
		(*n)++;
	}
	fclose(f);
	return 0;
}

static int map_id(const struct id_map *map, size_t n, unsigned inside, unsigned *outside) {
	for (size_t i = 0; i < n; i++) {
		if (inside >= map[i].inside && inside - map[i].inside < map[i].count) {
			*outside = map[i].outside + (inside - map[i].inside);
			return 0;
		}
	}
	errno = ERANGE;
	return -1;
}

int container_uid_to_host(const struct container *c, uid_t inside, uid_t *outside) {
	return map_id(c->uid_map, c->n_uid_map, inside, outside);
}

int container_gid_to_host(const struct container *c, gid_t inside, gid_t *outside) {
	return map_id(c->gid_map, c->n_gid_map, inside, outside);
}

/* Whether two namespace fds are the same namespace. */
static bool same_ns(int a, int b) {
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Whether the network namespace belongs to the initial user namespace (ours). */
static bool netns_owned_by_initial_userns(int net_fd) {
	int owner = ioctl(net_fd, NS_GET_USERNS);
	int ours = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	bool initial = owner != -1 && ours != -1 && same_ns(owner, ours);
	if (owner != -1) {
		close(owner);
	}
	if (ours != -1) {
		close(ours);
	}
	return initial;
}

int container_open(struct container *c, const char *name, pid_t pid) {
	memset(c, 0, sizeof(*c));
	c->pidfd = c->root_fd = c->net_fd = c->mnt_fd = -1;
	int proc_fd = -1;
	c->name = strdup(name);
	c->pid = pid;
	if (c->name == NULL) {
		return -1;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd == -1) {
		goto fail;
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
	proc_fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd == -1) {
		goto fail;
	}
	c->root_fd = openat(proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	c->net_fd = openat(proc_fd, "ns/net", O_RDONLY | O_CLOEXEC);
	c->mnt_fd = openat(proc_fd, "ns/mnt", O_RDONLY | O_CLOEXEC);
	if (c->root_fd == -1 || c->net_fd == -1 || c->mnt_fd == -1 ||
		read_id_map(proc_fd, "uid_map", c->uid_map, &c->n_uid_map) == -1 ||
		read_id_map(proc_fd, "gid_map", c->gid_map, &c->n_gid_map) == -1) {
		goto fail;
	}
	/* Still the process the pidfd names? Otherwise those fds may be another's. */
	if (syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == -1) {
		goto fail;
	}
	if (container_uid_to_host(c, 0, &c->root_uid) == -1 ||
		container_gid_to_host(c, 0, &c->root_gid) == -1) {
		errno = ERANGE;
		goto fail;
	}
	c->own_userns = !netns_owned_by_initial_userns(c->net_fd);
	close(proc_fd);
	return 0;

fail:;
	int saved = errno;
	if (proc_fd != -1) {
		close(proc_fd);
	}
	container_close(c);
	errno = saved == ENOENT ? ESRCH : saved;
	return -1;
}

void container_close(struct container *c) {
	int *fds[] = {&c->pidfd, &c->root_fd, &c->net_fd, &c->mnt_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	}
	free(c->name);
	c->name = NULL;
}
