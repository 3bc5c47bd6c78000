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

#include "syscalls.h"
#include "container.h"
#include "proc_files.h"


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

/* Whether the namespace fd is the one at path (a /proc/PID/ns link). */
static bool ns_is(int fd, const char *path) {
	struct stat sa, sb;
	return fstat(fd, &sa) == 0 && stat(path, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Whether a namespace fd is the daemon's or the host's (pid 1's) of that type. */
static bool ns_is_hosts(int fd, const char *type) {
	char self[32], init[32];
	snprintf(self, sizeof(self), "/proc/self/ns/%s", type);
	snprintf(init, sizeof(init), "/proc/1/ns/%s", type);
	return ns_is(fd, self) || ns_is(fd, init);
}

/* Whether the network namespace belongs to the initial user namespace (ours). */
static bool netns_owned_by_initial_userns(int net_fd) {
	int owner = ioctl(net_fd, NS_GET_USERNS);
	bool initial = owner != -1 && ns_is(owner, "/proc/self/ns/user");
	if (owner != -1) {
		close(owner);
	}
	return initial;
}

/* Reads a small /proc file of the process into buf, NUL-terminated. */
static int read_proc_file(int proc_fd, const char *file, char *buf, size_t size) {
	int fd = openat(proc_fd, file, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	ssize_t n = read(fd, buf, size - 1);
	int saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* Its start time, whether it is pid 1 of its pid namespace, its id maps. */
static int read_proc_files(struct container *c, int proc_fd) {
	char buf[4096];
	if (read_proc_file(proc_fd, "stat", buf, sizeof(buf)) == -1 ||
		proc_parse_start_time(buf, &c->start_time) == -1 ||
		read_proc_file(proc_fd, "status", buf, sizeof(buf)) == -1 ||
		proc_parse_pidns_init(buf, &c->pidns_init) == -1 ||
		read_proc_file(proc_fd, "uid_map", buf, sizeof(buf)) == -1) {
		return -1;
	}
	c->n_uid_map = proc_parse_id_map(buf, c->uid_map, CONTAINER_MAX_ID_MAPS);
	if (read_proc_file(proc_fd, "gid_map", buf, sizeof(buf)) == -1) {
		return -1;
	}
	c->n_gid_map = proc_parse_id_map(buf, c->gid_map, CONTAINER_MAX_ID_MAPS);
	return 0;
}

/* Its user namespace: whether it is the host's, and who made it. */
static int read_userns(struct container *c, int proc_fd) {
	int fd = openat(proc_fd, "ns/user", O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	c->host_userns = ns_is_hosts(fd, "user");
	int r = c->host_userns ? 0 : ioctl(fd, NS_GET_OWNER_UID, &c->userns_owner);
	int saved = errno;
	close(fd);
	errno = saved;
	return r == -1 ? -1 : 0;
}

int container_open(struct container *c, const char *name, pid_t pid,
	unsigned long long start_time) {
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
		read_proc_files(c, proc_fd) == -1 || read_userns(c, proc_fd) == -1) {
		goto fail;
	}
	/* Still the process the pidfd names? Otherwise those fds may be another's. */
	if (syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == -1) {
		goto fail;
	}
	/* The caller saw another process under that pid: its container has exited. */
	if (start_time != 0 && start_time != c->start_time) {
		errno = ESTALE;
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

const char *container_refusal(const struct container *c, bool privileged, uid_t requester) {
	if (ns_is_hosts(c->mnt_fd, "mnt")) {
		return "it shares the host's mount namespace: it is not a container";
	}
	/* The udev events meant for it would reach the host's listeners. */
	if (ns_is_hosts(c->net_fd, "net")) {
		return "it shares the host's network namespace: give it one of its own (LXC: "
		       "lxc.net.0.type = empty or veth)";
	}
	if (!c->pidns_init) {
		return "it is not the init of a PID namespace of its own: give the pid of the "
		       "container's init";
	}
	if (c->host_userns && (!privileged || requester != 0)) {
		return "it runs in the host's user namespace (a privileged container): only root "
		       "may register it, with --privileged";
	}
	if (!c->host_userns && requester != 0 && c->userns_owner != 0 &&
		c->userns_owner != requester) {
		return "its user namespace was made by another user than root or you";
	}
	return NULL;
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
