#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_lines.h"
#include "log.h"
#include "probe_internal.h"

/* (f) where the cgroup hierarchies are. */

/*
 * Joins a hierarchy's mount point and a cgroup path from /proc/PID/cgroup, which is relative
 * to the mount's root. Returns -1 when the cgroup is not under that root or is not a
 * directory there: this mount does not show it.
 */
static int join_cgroup(char *out, const char *mount, const char *mount_root, const char *path) {
	size_t root_len = strcmp(mount_root, "/") == 0 ? 0 : strlen(mount_root);
	if (root_len > 0) {
		if (strncmp(path, mount_root, root_len) != 0 ||
			(path[root_len] != '/' && path[root_len] != '\0')) {
			return -1;
		}
		path += root_len;
	}
	struct stat st;
	int n = snprintf(out, PATH_MAX, "%s%s", mount, strcmp(path, "/") == 0 ? "" : path);
	if (n < 0 || n >= PATH_MAX || stat(out, &st) == -1 || !S_ISDIR(st.st_mode)) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int kernel_probe_read_proc_cgroup(pid_t pid, char *v2, char *v1_devices) {
	char file[64];
	if (pid == 0) {
		snprintf(file, sizeof(file), "/proc/self/cgroup");
	} else {
		snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	}
	v2[0] = v1_devices[0] = '\0';
	FILE *f = fopen(file, "re");
	if (f == NULL) {
		errno = errno == ENOENT && pid != 0 ? ESRCH : errno;
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) != -1) {
		cgroup_lines_proc(line, v2, v1_devices);
	}
	/* A process that exits while we read leaves an empty or partial file. */
	int err = ferror(f) ? errno : 0;
	fclose(f);
	free(line);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The cgroup mounts, and the root of each within its hierarchy. */
static int find_cgroup_mounts(struct kernel_probe_cgroups *cg, char *v2_root, char *v1_root) {
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL) {
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) != -1) {
		cgroup_lines_mountinfo(line, cg, v2_root, v1_root);
	}
	fclose(f);
	free(line);
	return 0;
}

int kernel_probe_find_cgroups(struct kernel_probe_cgroups *cg) {
	memset(cg, 0, sizeof(*cg));
	char v2_root[PATH_MAX] = "/", v1_root[PATH_MAX] = "/";
	char v2[PATH_MAX], v1[PATH_MAX];
	if (find_cgroup_mounts(cg, v2_root, v1_root) == -1) {
		return -1;
	}
	/* Where this process's cgroup is not visible, the probe works at the mount's root. */
	if (kernel_probe_read_proc_cgroup(0, v2, v1) == -1) {
		v2[0] = v1[0] = '\0';
	}
	if (cg->v2[0] != '\0' &&
		(v2[0] == '\0' || join_cgroup(cg->v2_own, cg->v2, v2_root, v2) == -1)) {
		strcpy(cg->v2_own, cg->v2);
	}
	if (cg->v1_devices[0] != '\0' &&
		(v1[0] == '\0' ||
			join_cgroup(cg->v1_devices_own, cg->v1_devices, v1_root, v1) == -1)) {
		strcpy(cg->v1_devices_own, cg->v1_devices);
	}
	return 0;
}

int kernel_probe_find_cgroups_of(pid_t pid, struct kernel_probe_cgroups *cg) {
	memset(cg, 0, sizeof(*cg));
	char v2_root[PATH_MAX] = "/", v1_root[PATH_MAX] = "/";
	char v2[PATH_MAX], v1[PATH_MAX];
	if (find_cgroup_mounts(cg, v2_root, v1_root) == -1 ||
		kernel_probe_read_proc_cgroup(pid, v2, v1) == -1) {
		return -1;
	}
	if (cg->v2[0] != '\0' && v2[0] != '\0') {
		join_cgroup(cg->v2_own, cg->v2, v2_root, v2);
	}
	if (cg->v1_devices[0] != '\0' && v1[0] != '\0') {
		join_cgroup(cg->v1_devices_own, cg->v1_devices, v1_root, v1);
	}
	return 0;
}

/* Removes the scratch cgroups of probes that were killed (SIGKILL leaves no time to clean). */
static void cgroup_sweep_stale(const char *parent) {
	DIR *dir = opendir(parent);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		int pid = 0, end = 0;
		if (sscanf(e->d_name, "seatd-ns-probe.%d%n", &pid, &end) != 1 ||
			e->d_name[end] != '\0' || pid <= 0) {
			continue;
		}
		if (kill(pid, 0) == -1 && errno == ESRCH &&
			unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR) == 0) {
			log_debugf("kernel probe: removed stale cgroup %s/%s", parent, e->d_name);
		}
	}
	closedir(dir);
}

/* Makes a fresh child cgroup of parent for the probe. */
int cgroup_make(char *path, const char *parent) {
	cgroup_sweep_stale(parent);
	int n = snprintf(path, PATH_MAX, "%s/seatd-ns-probe.%d", parent, (int)getpid());
	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdir(path, 0755);
}

void cgroup_remove(const char *path) {
	/* A just-reaped member can keep the cgroup busy for a moment. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT) {
			return;
		}
		if (errno != EBUSY) {
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	log_warnf("kernel probe: could not remove cgroup %s: %s", path, strerror(errno));
}

static void child_open_device(int fd, void *data) {
	const char *dev = data;
	if (child_wait_token(fd, 'G', TIMEOUT_MS) == -1) {
		_exit(1);
	}
	int dfd = open(dev, O_RDONLY | O_CLOEXEC);
	int err = dfd == -1 ? errno : 0;
	send(fd, &err, sizeof(err), MSG_NOSIGNAL);
	_exit(0);
}

/*
 * Runs a process in the cgroup that opens dev; returns 0 with the open's errno in *err (0
 * when it worked), or -1 with errno set when the process could not be run there.
 */
int open_in_cgroup(const char *cgroup, const char *dev, int *err) {
	struct child c = NO_CHILD;
	char procs[PATH_MAX + 16], pid[24];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
	if (child_start(&c, child_open_device, (void *)dev) == -1) {
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d", (int)c.pid);
	int r = write_file(procs, pid);
	if (r == 0) {
		child_send_token(c.fd, 'G');
		r = wait_readable(c.fd, TIMEOUT_MS);
		ssize_t n = r == 0 ? recv(c.fd, err, sizeof(*err), 0) : -1;
		if (r == 0 && n != (ssize_t)sizeof(*err)) {
			errno = n == -1 ? errno : EPROTO;
			r = -1;
		}
	}
	int saved = errno;
	child_stop(&c);
	errno = saved;
	return r;
}

void probe_cgroup_v2(const struct kernel_probe_cgroups *cg, struct kernel_probe_result *r) {
	if (cg->v2[0] == '\0') {
		set_result(r, KERNEL_PROBE_MISSING, "no cgroup2 mount in /proc/self/mountinfo");
		return;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE, "mounted at %s; this process in %s", cg->v2,
		cg->v2_own);
}

void probe_cgroup_v1_devices(const struct kernel_probe_cgroups *cg,
	struct kernel_probe_result *r) {
	char path[PATH_MAX], deny[PATH_MAX + 16];
	int err = 0;
	if (cg->v1_devices[0] == '\0') {
		set_result(r, KERNEL_PROBE_MISSING,
			"no cgroup v1 hierarchy with the devices controller");
		return;
	}
	if (cgroup_make(path, cg->v1_devices_own) == -1) {
		set_result(r, status_for_errno(errno), "mounted at %s, but mkdir in %s: %s",
			cg->v1_devices, cg->v1_devices_own, err_name(errno));
		return;
	}
	snprintf(deny, sizeof(deny), "%s/devices.deny", path);
	if (open_in_cgroup(path, "/dev/null", &err) == -1 || err != 0) {
		set_result(r, KERNEL_PROBE_UNTESTED, "control: open(/dev/null) in %s: %s", path,
			err_name(err != 0 ? err : errno));
		goto out;
	}
	if (write_file(deny, "a") == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "write \"a\" to %s: %s", deny, err_name(errno));
		goto out;
	}
	if (open_in_cgroup(path, "/dev/null", &err) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "running a process in %s: %s", path,
			err_name(errno));
		goto out;
	}
	if (err != EPERM) {
		set_result(r, KERNEL_PROBE_MISSING,
			"devices.deny \"a\" not enforced: open(/dev/null) %s",
			err == 0 ? "worked" : err_name(err));
		goto out;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"mounted at %s; devices.deny \"a\" makes open(/dev/null) fail with EPERM",
		cg->v1_devices);
out:
	cgroup_remove(path);
}
