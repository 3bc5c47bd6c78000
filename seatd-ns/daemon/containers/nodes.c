#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscalls.h"
#include "container_fs.h"
#include "group_file.h"
#include "log.h"
#include "nodes.h"


int nodes_init(struct nodes *nodes, const char *run_dir) {
	nodes->mounted = false;
	if (asprintf(&nodes->dir, "%s/nodes", run_dir) == -1) {
		nodes->dir = NULL;
		return -1;
	}
	if (mkdir(nodes->dir, 0711) == -1 && errno != EEXIST) {
		return -1;
	}
	/* After a crash the tmpfs is still there, and containers may use its nodes: keep it. */
	struct stat dir, parent;
	char up[4096];
	snprintf(up, sizeof(up), "%s/..", nodes->dir);
	if (stat(nodes->dir, &dir) == 0 && stat(up, &parent) == 0 && dir.st_dev != parent.st_dev) {
		nodes->mounted = true;
		return 0;
	}
	/* Not nodev: the nodes made here must open in the containers they are mounted in. */
	if (mount("seatd-ns-nodes", nodes->dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0711") ==
		-1) {
		return -1;
	}
	nodes->mounted = true;
	return 0;
}

void nodes_finish(struct nodes *nodes) {
	if (nodes->mounted) {
		umount2(nodes->dir, MNT_DETACH);
		nodes->mounted = false;
	}
	free(nodes->dir);
	nodes->dir = NULL;
}

/*
 * The group id (inside the container) of name in its /etc/group, or -1. A file that cannot
 * be read safely (a FIFO, a device, a mount, a huge file) is refused, and its nodes go to
 * the container's root group.
 */
long nodes_container_group(const struct container *c, const char *name) {
	static struct log_ratelimit refused;
	char *text;
	size_t len;
	if (container_fs_read_file(c, "etc/group", GROUP_FILE_MAX_SIZE, &text, &len) == -1) {
		if (errno != ENOENT && log_ratelimit_allow(&refused)) {
			log_warnf("%s: /etc/group not read: %s (only a regular file of at most %d "
				  "bytes on its root's mount is); its nodes get its root's group",
				c->name, errno == EINVAL ? "not a regular file" : strerror(errno),
				GROUP_FILE_MAX_SIZE);
		}
		return -1;
	}
	gid_t gid;
	int r = group_file_find(text, len, name, &gid);
	free(text);
	return r == 0 ? (long)gid : -1;
}

static const char *group_for(const struct device *dev) {
	switch (dev->kind) {
	case DEVICE_KIND_DRM_CARD:
		return "video";
	case DEVICE_KIND_DRM_RENDER:
		return "render";
	case DEVICE_KIND_HIDRAW:
		return NULL;
	default:
		return strcmp(dev->subsystem, "sound") == 0 ? "audio" : "input";
	}
}

/* Host ids the node belongs to: the container's root, and its group for the kind. */
static void node_owner(const struct container *c, const struct device *dev, uid_t *uid,
	gid_t *gid) {
	*uid = c->root_uid;
	*gid = c->root_gid;
	const char *group = group_for(dev);
	long inside = group != NULL ? nodes_container_group(c, group) : -1;
	gid_t host;
	if (inside >= 0 && container_gid_to_host(c, (gid_t)inside, &host) == 0) {
		*gid = host;
	}
}

/* Splits "input/event5" into the directory "dev/input" and the name "event5". */
static int split_devname(const struct device *dev, char *dir, size_t size, const char **name) {
	if (dev->devname == NULL || !dev->has_devnum) {
		errno = EINVAL;
		return -1;
	}
	const char *slash = strrchr(dev->devname, '/');
	*name = slash ? slash + 1 : dev->devname;
	snprintf(dir, size, "dev/%.*s", slash ? (int)(slash - dev->devname) : 0, dev->devname);
	return 0;
}

struct mknod_args {
	int dir_fd;
	const char *name;
	dev_t devnum;
};

static int do_mknod(void *data) {
	struct mknod_args *a = data;
	unlinkat(a->dir_fd, a->name, 0);
	return mknodat(a->dir_fd, a->name, S_IFCHR | 0660, a->devnum);
}

/* nodes/NAME/DEVNAME: the node as the container has it, at the same place below its /dev. */
static void host_node_path(const struct nodes *nodes, const char *container,
	const struct device *dev, char *out, size_t size) {
	snprintf(out, size, "%s/%s/%s", nodes->dir, container, dev->devname);
}

void nodes_host_path(const struct nodes *nodes, const struct container *c,
	const struct device *dev, char *out, size_t size) {
	if (c->own_userns) {
		host_node_path(nodes, c->name, dev, out, size);
	} else {
		snprintf(out, size, "/dev/%s", dev->devname);
	}
}

/*
 * Runs fn(data) in a child that joined the container's mount namespace: mounting into it
 * needs that, and the daemon itself must never leave its own. fn returns 0 or an errno.
 */
static int in_mount_ns(const struct container *c, int (*fn)(void *data), void *data) {
	pid_t pid = fork();
	if (pid == -1) {
		return -1;
	}
	if (pid == 0) {
		_exit(setns(c->mnt_fd, CLONE_NEWNS) == -1 ? errno : fn(data));
	}
	int status;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
		return -1;
	}
	return 0;
}

struct mount_args {
	int tree_fd;
	int dir_fd;
	const char *name; /* NULL: onto dir_fd itself */
};

static int do_move_mount(void *data) {
	struct mount_args *a = data;
	unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (a->name == NULL ? MOVE_MOUNT_T_EMPTY_PATH : 0);
	return syscall(SYS_move_mount, a->tree_fd, "", a->dir_fd, a->name ? a->name : "",
		       flags) == -1 ? errno : 0;
}

static int do_umount(void *data) {
	struct mount_args *a = data;
	if (fchdir(a->dir_fd) == -1) {
		return errno;
	}
	/* EINVAL: nothing is mounted there (a first add), which is fine. */
	return umount2(a->name, MNT_DETACH | UMOUNT_NOFOLLOW) == -1 && errno != EINVAL ? errno : 0;
}

static int move_mount_in(const struct container *c, int tree_fd, int dir_fd, const char *name) {
	struct mount_args args = {tree_fd, dir_fd, name};
	return in_mount_ns(c, do_move_mount, &args);
}

static int umount_in(const struct container *c, int dir_fd, const char *name) {
	struct mount_args args = {-1, dir_fd, name};
	return in_mount_ns(c, do_umount, &args);
}

/* Bind-mounts the host file host_path onto dir_fd/name in the container. */
static int bind_file(const struct container *c, const char *host_path, int dir_fd,
	const char *name) {
	int tree_fd = (int)syscall(SYS_open_tree, AT_FDCWD, host_path,
		OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree_fd == -1) {
		return -1;
	}
	/* A mount point: an empty file of the container's root. A repeated add remounts. */
	umount_in(c, dir_fd, name);
	int r = container_fs_write_file(c, dir_fd, name, "", 0, 0600);
	if (r == 0) {
		r = move_mount_in(c, tree_fd, dir_fd, name);
	}
	int saved = errno;
	close(tree_fd);
	errno = saved;
	return r;
}

/*
 * Binds the host directory of a container's nodes (nodes/NAME/input, say) onto its
 * dev/input, once: nodes made there later appear in the container without a mount of
 * their own, and readdir sees them as the device nodes they are (PipeWire counts the PCMs
 * in /dev/snd by their d_type, which a node bound onto a file does not have).
 */
static int bind_dir(const struct container *c, const char *host_dir, const char *dir_path) {
	struct stat host, st;
	if (stat(host_dir, &host) == -1) {
		return -1;
	}
	int target_fd = container_fs_open_dir(c, dir_path, true, 0755);
	if (target_fd == -1) {
		return -1;
	}
	if (fstat(target_fd, &st) == 0 && st.st_dev == host.st_dev && st.st_ino == host.st_ino) {
		close(target_fd);
		return 0;
	}
	/* A bind of an earlier registration (its directory since removed) stays underneath. */
	int tree_fd = (int)syscall(SYS_open_tree, AT_FDCWD, host_dir,
		OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int r = -1;
	if (tree_fd != -1) {
		r = move_mount_in(c, tree_fd, target_fd, NULL);
	}
	int saved = errno;
	if (tree_fd != -1) {
		close(tree_fd);
	}
	close(target_fd);
	errno = saved;
	return r;
}

/* Makes path (below the daemon's own tmpfs) and its missing parents, mode 0755. */
static int make_host_dirs(char *path) {
	for (char *p = strchr(path + 1, '/'); ; p = strchr(p + 1, '/')) {
		if (p != NULL) {
			*p = '\0';
		}
		int r = mkdir(path, 0755);
		if (r == 0) {
			r = chmod(path, 0755); /* whatever the umask: the container's users list it */
		}
		if (p != NULL) {
			*p = '/';
		}
		if (r == -1 && errno != EEXIST) {
			return -1;
		}
		if (p == NULL) {
			return 0;
		}
	}
}

/*
 * An unprivileged container's node: made in the daemon's tmpfs, which a container's own
 * /dev cannot be, and reached from the container through a bind of its directory (or, for
 * a node directly in /dev, of the node itself onto an empty file).
 */
static int bind_node(struct nodes *nodes, const struct container *c, const struct device *dev,
	int dir_fd, const char *dir_path, const char *name, uid_t uid, gid_t gid) {
	char path[4096], host_dir[4096];
	host_node_path(nodes, c->name, dev, path, sizeof(path));
	snprintf(host_dir, sizeof(host_dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	if (make_host_dirs(host_dir) == -1) {
		return -1;
	}
	unlink(path);
	if (mknod(path, S_IFCHR | 0660, makedev(dev->major, dev->minor)) == -1 ||
		chown(path, uid, gid) == -1 || chmod(path, 0660) == -1) {
		return -1;
	}
	if (strcmp(dir_path, "dev") != 0) {
		return bind_dir(c, host_dir, dir_path);
	}
	return bind_file(c, path, dir_fd, name);
}

int nodes_bind_file(const struct container *c, const char *host_path, const char *dir,
	const char *name) {
	int dir_fd = container_fs_open_dir(c, dir, true, 0755);
	if (dir_fd == -1) {
		return -1;
	}
	int r = bind_file(c, host_path, dir_fd, name);
	int saved = errno;
	close(dir_fd);
	errno = saved;
	return r;
}

int nodes_create(struct nodes *nodes, const struct container *c, const struct device *dev) {
	char dir_path[600];
	const char *name;
	if (split_devname(dev, dir_path, sizeof(dir_path), &name) == -1) {
		return -1;
	}
	int dir_fd = container_fs_open_dir(c, dir_path, true, 0755);
	if (dir_fd == -1) {
		return -1;
	}
	uid_t uid;
	gid_t gid;
	node_owner(c, dev, &uid, &gid);
	int r;
	if (!c->own_userns) {
		struct mknod_args args = {dir_fd, name, makedev(dev->major, dev->minor)};
		r = container_fs_as_root(c, do_mknod, &args);
		if (r == 0) {
			r = fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
		}
	} else {
		r = bind_node(nodes, c, dev, dir_fd, dir_path, name, uid, gid);
	}
	int saved = errno;
	close(dir_fd);
	errno = saved;
	return r;
}

bool nodes_exist(const struct nodes *nodes, const struct container *c, const struct device *dev) {
	char path[4096];
	struct stat st;
	if (!c->own_userns || dev->devname == NULL || !dev->has_devnum) {
		return false;
	}
	host_node_path(nodes, c->name, dev, path, sizeof(path));
	return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(dev->major, dev->minor);
}

int nodes_remove(struct nodes *nodes, const struct container *c, const struct device *dev) {
	char dir_path[600], path[4096];
	const char *name;
	if (split_devname(dev, dir_path, sizeof(dir_path), &name) == -1) {
		return -1;
	}
	int r = 0;
	bool bound_dir = c->own_userns && strcmp(dir_path, "dev") != 0;
	int dir_fd = bound_dir ? -1 : container_fs_open_dir(c, dir_path, false, 0);
	if (dir_fd != -1) {
		if (c->own_userns) {
			r = umount_in(c, dir_fd, name);
		}
		r |= container_fs_unlink(c, dir_fd, name);
		close(dir_fd);
	}
	if (c->own_userns) {
		host_node_path(nodes, c->name, dev, path, sizeof(path));
		if (unlink(path) == -1 && errno != ENOENT) {
			r = -1;
		}
	}
	return r == 0 ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
	(void)st;
	(void)ftw;
	(type == FTW_DP ? rmdir : unlink)(path);
	return 0;
}

void nodes_forget(struct nodes *nodes, const char *container) {
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s", nodes->dir, container);
	nftw(dir, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
}
