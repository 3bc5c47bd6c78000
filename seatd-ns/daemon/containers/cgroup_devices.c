#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_devices.h"
#include "device_filter.h"
#include "log.h"
#include "probe.h"

_Static_assert(CGROUP_DEVICES_MKNOD == DEVICE_FILTER_MKNOD, "access bit");
_Static_assert(CGROUP_DEVICES_READ == DEVICE_FILTER_READ, "access bit");
_Static_assert(CGROUP_DEVICES_WRITE == DEVICE_FILTER_WRITE, "access bit");

#define ACCESS_ALL (CGROUP_DEVICES_MKNOD | CGROUP_DEVICES_RW)
/* The kernel's device numbers: 12 bits of major, 20 of minor. */
#define MAJOR_MAX 0xfffu
#define MINOR_MAX 0xfffffu

struct cgroup_devices {
	pid_t pid;
	int pidfd;
	/* cgroup v2: the attach point, and our program there (NULL without v2) */
	char *v2_path;
	int v2_fd;
	struct device_filter *filter;
	/* cgroup v1 devices, only when it restricts the container */
	char *v1_path;
	int v1_fd;
};

/* Whether the container's init is still running; the pidfd cannot name another process. */
static bool alive(const struct cgroup_devices *c) {
	struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};
	return poll(&pfd, 1, 0) == 0;
}

/* Whether the cgroup directory dir is path or one of its ancestors (same mount). */
static bool is_ancestor_or_self(const char *dir, const char *path) {
	size_t len = strlen(dir);
	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/*
 * Whether the cgroup directory path (under mount) is dir_fd's cgroup or below it. Compares
 * inodes, not names: a cgroup can be renamed. 1, 0, or -1 with errno.
 */
static int is_inside(const char *path, const char *mount, int dir_fd) {
	struct stat target, st;
	if (fstat(dir_fd, &target) == -1) {
		return -1;
	}
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	size_t mount_len = strlen(mount);
	for (;;) {
		if (stat(buf, &st) == 0 && st.st_dev == target.st_dev &&
			st.st_ino == target.st_ino) {
			return 1;
		}
		char *slash = strrchr(buf, '/');
		if (strlen(buf) <= mount_len || slash == NULL || slash == buf) {
			return 0;
		}
		*slash = '\0';
	}
}

/*
 * Our view of the container init's cgroups, each replaced by the root of the init's cgroup
 * namespace when it has one of its own. Inside that namespace the init's cgroup reads
 * relative to the namespace's root, so our path minus that suffix is the root. A child
 * joins the namespace to read it: the daemon's own view must not change.
 */
struct ns_cgroups {
	int err; /* the child's errno, or 0 */
	char v2[PATH_MAX], v1[PATH_MAX];
};

static _Noreturn void child_read_ns_cgroups(int ns_fd, pid_t pid, int out) {
	struct ns_cgroups r = {0};
	if (setns(ns_fd, CLONE_NEWCGROUP) == -1 ||
		kernel_probe_read_proc_cgroup(pid, r.v2, r.v1) == -1) {
		r.err = errno;
	}
	_exit(write(out, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
}

static int read_ns_cgroups(pid_t pid, char *v2, char *v1) {
	char path[64];
	int ns_fd = -1, pipe_fds[2] = {-1, -1}, r = -1;
	pid_t child = -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd == -1 || pipe2(pipe_fds, O_CLOEXEC) == -1) {
		goto out;
	}
	child = fork();
	if (child == -1) {
		goto out;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_read_ns_cgroups(ns_fd, pid, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	pipe_fds[1] = -1;
	struct ns_cgroups *got = malloc(sizeof(*got));
	size_t len = 0;
	while (got != NULL && len < sizeof(*got)) {
		ssize_t n = read(pipe_fds[0], (char *)got + len, sizeof(*got) - len);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	if (got != NULL && len == sizeof(*got) && got->err == 0) {
		got->v2[PATH_MAX - 1] = got->v1[PATH_MAX - 1] = '\0';
		strcpy(v2, got->v2);
		strcpy(v1, got->v1);
		r = 0;
	} else if (got != NULL) {
		errno = len == sizeof(*got) ? got->err : ECHILD;
	}
	free(got);
out:;
	int saved = errno;
	if (child > 0) {
		while (waitpid(child, NULL, 0) == -1 && errno == EINTR) {
		}
	}
	for (int i = 0; i < 2; i++) {
		if (pipe_fds[i] != -1) {
			close(pipe_fds[i]);
		}
	}
	if (ns_fd != -1) {
		close(ns_fd);
	}
	errno = saved;
	return r;
}

/* Cuts the namespace-relative path rel off the end of path, staying below mount. */
static void strip_ns_path(char *path, const char *mount, const char *rel) {
	size_t len = strlen(path), rel_len = strlen(rel);
	if (path[0] == '\0' || strcmp(rel, "/") == 0 || rel_len == 0 || rel_len > len) {
		return;
	}
	/* "/.." means the init is outside its namespace's root: keep its own cgroup. */
	if (strncmp(rel, "/..", 3) == 0 || strcmp(path + len - rel_len, rel) != 0 ||
		len - rel_len < strlen(mount)) {
		log_debugf("cgroup: %s does not end with the namespace path %s", path, rel);
		return;
	}
	path[len - rel_len] = '\0';
}

static bool own_cgroup_ns(pid_t pid) {
	char path[64];
	struct stat ours, theirs;
	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", (int)pid);
	return stat("/proc/self/ns/cgroup", &ours) == 0 && stat(path, &theirs) == 0 &&
	       (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino);
}

static int find_container_cgroups(pid_t pid, struct kernel_probe_cgroups *cg) {
	if (kernel_probe_find_cgroups_of(pid, cg) == -1) {
		return -1;
	}
	if (!own_cgroup_ns(pid)) {
		return 0;
	}
	char v2[PATH_MAX], v1[PATH_MAX];
	if (read_ns_cgroups(pid, v2, v1) == -1) {
		return -1;
	}
	strip_ns_path(cg->v2_own, cg->v2, v2);
	strip_ns_path(cg->v1_devices_own, cg->v1_devices, v1);
	return 0;
}

static const char *access_string(unsigned access, char buf[4]) {
	char *p = buf;
	if (access & CGROUP_DEVICES_READ) {
		*p++ = 'r';
	}
	if (access & CGROUP_DEVICES_WRITE) {
		*p++ = 'w';
	}
	if (access & CGROUP_DEVICES_MKNOD) {
		*p++ = 'm';
	}
	*p = '\0';
	return buf;
}

/* One line, one write(): the v1 devices files take one rule per write. */
static int v1_write(const struct cgroup_devices *c, const char *file, char type, unsigned major,
	unsigned minor, unsigned access) {
	char rule[64], acc[4];
	int len = snprintf(rule, sizeof(rule), "%c %u:%u %s", type, major, minor,
		access_string(access, acc));
	int fd = openat(c->v1_fd, file, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	ssize_t n = write(fd, rule, (size_t)len);
	int saved = errno;
	close(fd);
	if (n != len) {
		errno = n == -1 ? saved : EIO;
		return -1;
	}
	return 0;
}

/* A device number field of devices.list: a number, or "*" for any. */
static bool field_matches(const char *field, unsigned value) {
	return strcmp(field, "*") == 0 || strtoul(field, NULL, 10) == value;
}

/*
 * What the v1 devices.list of dir_fd grants to a device, wildcard rules included; with
 * type 'a' what it grants to all devices ("a *:* rwm" when it restricts nothing).
 */
static int v1_granted(int dir_fd, char type, unsigned major, unsigned minor, unsigned *access) {
	int fd = openat(dir_fd, "devices.list", O_RDONLY | O_CLOEXEC);
	FILE *f = fd != -1 ? fdopen(fd, "re") : NULL;
	if (f == NULL) {
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	*access = 0;
	char line[128];
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "c 1:3 rwm", "c 136:* rwm", "a *:* rwm" */
		char t, maj[16], min[16], acc[8];
		if (sscanf(line, "%c %15[0-9*]:%15[0-9*] %7[rwm]", &t, maj, min, acc) != 4) {
			continue;
		}
		if (type == 'a' ? t != 'a'
				: (t != 'a' && t != type) || !field_matches(maj, major) ||
					  !field_matches(min, minor)) {
			continue;
		}
		*access |= (strchr(acc, 'r') ? CGROUP_DEVICES_READ : 0) |
			   (strchr(acc, 'w') ? CGROUP_DEVICES_WRITE : 0) |
			   (strchr(acc, 'm') ? CGROUP_DEVICES_MKNOD : 0);
	}
	fclose(f);
	return 0;
}

/* Whether a cgroup we hold open still exists: a removed one stays open, but empty (ENOENT). */
static int cgroup_exists(int dir_fd, const char *file) {
	return faccessat(dir_fd, file, F_OK, 0);
}

int cgroup_devices_check(struct cgroup_devices *c) {
	struct kernel_probe_cgroups *cg = NULL;
	int r = -1;
	if (!alive(c)) {
		errno = ESRCH;
		return -1;
	}
	if ((c->filter != NULL && cgroup_exists(c->v2_fd, "cgroup.procs") == -1) ||
		(c->v1_fd != -1 && cgroup_exists(c->v1_fd, "devices.list") == -1)) {
		return -1;
	}
	cg = malloc(sizeof(*cg));
	if (cg == NULL || kernel_probe_find_cgroups_of(c->pid, cg) == -1) {
		goto out;
	}
	/* What we read is the init's only if it was still running after the read. */
	if (!alive(c)) {
		errno = ESRCH;
		goto out;
	}
	if (c->filter != NULL) {
		int inside = cg->v2_own[0] != '\0' ? is_inside(cg->v2_own, cg->v2, c->v2_fd) : 0;
		int cur_fd = inside == 1 ? open(cg->v2_own, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
					 : -1;
		/* The kernel's list of what runs there, not what we believe we attached. */
		int effective = cur_fd != -1 ? device_filter_is_effective(c->filter, cur_fd) : 0;
		if (cur_fd != -1) {
			close(cur_fd);
		}
		if (inside == -1 || effective == -1) {
			goto out;
		}
		if (inside == 0 || effective == 0) {
			log_debugf("cgroup: pid %d is in %s, %s", (int)c->pid,
				cg->v2_own[0] != '\0' ? cg->v2_own : "(not visible)",
				inside == 0 ? "outside our cgroup"
					    : "where our program does not run");
			errno = ESTALE;
			goto out;
		}
	}
	if (c->v1_fd != -1) {
		int inside = cg->v1_devices_own[0] != '\0'
				     ? is_inside(cg->v1_devices_own, cg->v1_devices, c->v1_fd)
				     : 0;
		if (inside != 1) {
			errno = inside == 0 ? ESTALE : errno;
			goto out;
		}
	}
	r = 0;
out:;
	int saved = errno;
	free(cg);
	errno = saved;
	return r;
}

static int check_args(char type, unsigned major, unsigned minor, unsigned access) {
	if ((type != 'c' && type != 'b') || major > MAJOR_MAX || minor > MINOR_MAX ||
		access == 0 || (access & ~ACCESS_ALL) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static unsigned filter_type(char type) {
	return type == 'c' ? DEVICE_FILTER_CHAR : DEVICE_FILTER_BLOCK;
}

int cgroup_devices_allow(struct cgroup_devices *c, char type, unsigned major, unsigned minor,
	unsigned access) {
	unsigned before = 0, v1_before = 0, got;
	bool set = false, written = false;
	if (check_args(type, major, minor, access) == -1) {
		return -1;
	}
	if (c->filter != NULL) {
		if (device_filter_get(c->filter, filter_type(type), major, minor, &before) == -1 ||
			device_filter_set(c->filter, filter_type(type), major, minor,
				before | access) == -1) {
			goto fail;
		}
		set = true;
		if (device_filter_get(c->filter, filter_type(type), major, minor, &got) == -1) {
			goto fail;
		}
		if (got != (before | access)) {
			errno = EIO;
			goto fail;
		}
	}
	if (c->v1_fd != -1) {
		if (v1_granted(c->v1_fd, type, major, minor, &v1_before) == -1 ||
			v1_write(c, "devices.allow", type, major, minor, access) == -1) {
			goto fail;
		}
		written = true;
		if (v1_granted(c->v1_fd, type, major, minor, &got) == -1) {
			goto fail;
		}
		if ((got & access) != access) {
			errno = EIO;
			goto fail;
		}
	}
	/* The init may have gone or moved meanwhile: then the grant reaches nobody. */
	if (cgroup_devices_check(c) == -1) {
		goto fail;
	}
	return 0;
fail:;
	int saved = errno;
	if (set) {
		device_filter_set(c->filter, filter_type(type), major, minor, before);
	}
	if (written && (access & ~v1_before) != 0) {
		v1_write(c, "devices.deny", type, major, minor, access & ~v1_before);
	}
	errno = saved;
	return -1;
}

int cgroup_devices_deny(struct cgroup_devices *c, char type, unsigned major, unsigned minor,
	unsigned access) {
	unsigned before = 0, got = 0;
	bool enforced = false;
	if (check_args(type, major, minor, access) == -1) {
		return -1;
	}
	if (c->filter != NULL) {
		if (device_filter_get(c->filter, filter_type(type), major, minor, &before) == -1 ||
			device_filter_set(c->filter, filter_type(type), major, minor,
				before & ~access) == -1 ||
			device_filter_get(c->filter, filter_type(type), major, minor, &got) == -1) {
			return -1;
		}
		enforced = (got & access) == 0;
	}
	if (c->v1_fd != -1) {
		if (v1_write(c, "devices.deny", type, major, minor, access) == -1) {
			/* A removed cgroup: the check below says so. */
			if (errno != ENOENT && errno != ENODEV) {
				return -1;
			}
		} else if (v1_granted(c->v1_fd, type, major, minor, &got) == 0) {
			enforced = enforced || (got & access) == 0;
		}
	}
	if (cgroup_devices_check(c) == -1) {
		return -1;
	}
	if (!enforced) {
		/* Without a program: a wider v1 rule than ours ("c 13:* rwm") still grants it. */
		errno = c->filter != NULL ? EIO : ENOTSUP;
		return -1;
	}
	return 0;
}

const char *cgroup_devices_v2_path(const struct cgroup_devices *c) {
	return c->v2_path;
}

const char *cgroup_devices_v1_path(const struct cgroup_devices *c) {
	return c->v1_path;
}

/* Attaches our program to the container's v2 cgroup, replacing one a previous daemon left. */
static int attach_v2(struct cgroup_devices *c, const char *path) {
	c->v2_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->v2_fd == -1) {
		return -1;
	}
	c->filter = device_filter_new(0);
	if (c->filter == NULL || device_filter_attach(c->filter, c->v2_fd) == -1) {
		return -1;
	}
	int stale = device_filter_remove_others(c->filter);
	if (stale == -1) {
		return -1;
	}
	if (stale > 0) {
		log_infof("cgroup: replaced %d device program(s) of an earlier seatd-ns on %s",
			stale, path);
	}
	c->v2_path = strdup(path);
	return c->v2_path != NULL ? 0 : -1;
}

/* Uses the v1 devices cgroup only where it restricts the container (LXC's "deny a"). */
static int open_v1(struct cgroup_devices *c, const char *path, const char *own) {
	unsigned all = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || v1_granted(fd, 'a', 0, 0, &all) == -1) {
		goto fail;
	}
	if (all == ACCESS_ALL) {
		close(fd);
		return 0;
	}
	/* Its rules would be the daemon's. */
	if (is_ancestor_or_self(path, own)) {
		log_warnf("cgroup: pid %d is in the daemon's v1 devices cgroup %s or above it; "
			  "refusing to change its rules",
			(int)c->pid, path);
		errno = EBUSY;
		goto fail;
	}
	c->v1_fd = fd;
	c->v1_path = strdup(path);
	return c->v1_path != NULL ? 0 : -1;
fail:;
	int saved = errno;
	if (fd != -1) {
		close(fd);
	}
	errno = saved;
	return -1;
}

bool cgroup_devices_overlap(pid_t pid, const struct cgroup_devices *other) {
	struct kernel_probe_cgroups *cg = malloc(sizeof(*cg));
	bool overlap = cg != NULL && other->v2_path != NULL &&
		       find_container_cgroups(pid, cg) == 0 && cg->v2_own[0] != '\0' &&
		       (is_ancestor_or_self(cg->v2_own, other->v2_path) ||
			       is_ancestor_or_self(other->v2_path, cg->v2_own));
	free(cg);
	return overlap;
}

struct cgroup_devices *cgroup_devices_open(pid_t pid, int pidfd) {
	struct kernel_probe_cgroups *self = NULL, *cg = NULL;
	struct cgroup_devices *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->pid = pid;
	c->v2_fd = c->v1_fd = -1;
	c->pidfd = pid > 0 ? fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : -1;
	if (c->pidfd == -1) {
		errno = pid > 0 ? errno : ESRCH;
		goto fail;
	}
	self = malloc(sizeof(*self));
	cg = malloc(sizeof(*cg));
	if (self == NULL || cg == NULL || kernel_probe_find_cgroups(self) == -1 ||
		find_container_cgroups(pid, cg) == -1) {
		goto fail;
	}
	if (!alive(c)) {
		errno = ESRCH;
		goto fail;
	}
	if (cg->v2_own[0] == '\0' && cg->v1_devices_own[0] == '\0') {
		log_warnf("cgroup: pid %d has no cgroup visible in our cgroup mounts", (int)pid);
		errno = ENOENT;
		goto fail;
	}
	/* Restricting a cgroup above ours would restrict the daemon (and the host). */
	if (cg->v2_own[0] != '\0' && is_ancestor_or_self(cg->v2_own, self->v2_own)) {
		log_warnf("cgroup: pid %d is in the daemon's cgroup %s or above it; refusing to "
			  "restrict its devices",
			(int)pid, cg->v2_own);
		errno = EBUSY;
		goto fail;
	}
	if (cg->v2_own[0] != '\0' && attach_v2(c, cg->v2_own) == -1) {
		goto fail;
	}
	if (cg->v1_devices_own[0] != '\0' &&
		open_v1(c, cg->v1_devices_own, self->v1_devices_own) == -1) {
		goto fail;
	}
	if (c->filter == NULL && c->v1_fd == -1) {
		log_warnf("cgroup: pid %d: no cgroup v2 and its v1 devices cgroup %s allows every "
			  "device: its devices cannot be restricted",
			(int)pid, cg->v1_devices_own);
		errno = ENOTSUP;
		goto fail;
	}
	if (cgroup_devices_check(c) == -1) {
		goto fail;
	}
	log_debugf("cgroup: pid %d: device program on %s%s%s", (int)pid,
		c->v2_path != NULL ? c->v2_path : "(no cgroup v2)",
		c->v1_path != NULL ? ", v1 rules in " : "", c->v1_path != NULL ? c->v1_path : "");
	free(self);
	free(cg);
	return c;
fail:;
	int saved = errno;
	free(self);
	free(cg);
	cgroup_devices_close(c);
	errno = saved;
	return NULL;
}

static void release(struct cgroup_devices *c) {
	int fds[] = {c->pidfd, c->v2_fd, c->v1_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] != -1) {
			close(fds[i]);
		}
	}
	free(c->v2_path);
	free(c->v1_path);
	free(c);
}

int cgroup_devices_close(struct cgroup_devices *c) {
	int r = 0, saved = errno;
	if (c == NULL) {
		return 0;
	}
	if (c->filter != NULL && device_filter_detach(c->filter) == -1) {
		saved = errno;
		r = -1;
	}
	device_filter_free(c->filter);
	release(c);
	errno = saved;
	return r;
}

void cgroup_devices_leave(struct cgroup_devices *c) {
	if (c != NULL) {
		device_filter_leave(c->filter);
		release(c);
	}
}
