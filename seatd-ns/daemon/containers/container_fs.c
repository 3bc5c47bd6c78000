#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls.h"
#include "container_fs.h"


#define RESOLVE_SAFELY (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static int openat2_flags(int dir_fd, const char *path, int flags, unsigned long long resolve) {
	struct open_how how = {.flags = (unsigned long long)flags, .resolve = resolve};
	return (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
}

int container_fs_as_root(const struct container *c, int (*fn)(void *data), void *data) {
	/* setfsuid cannot report failure directly: check that it took. */
	setfsgid(c->root_gid);
	setfsuid(c->root_uid);
	int r = -1;
	if ((uid_t)setfsuid((uid_t)-1) == c->root_uid && (gid_t)setfsgid((gid_t)-1) == c->root_gid) {
		r = fn(data);
	} else {
		errno = EPERM;
	}
	int saved = errno;
	setfsuid(0);
	setfsgid(0);
	errno = saved;
	return r;
}

struct mkdir_args {
	int dir_fd;
	const char *name;
	mode_t mode;
};

static int do_mkdir(void *data) {
	struct mkdir_args *a = data;
	return mkdirat(a->dir_fd, a->name, a->mode) == -1 && errno != EEXIST ? -1 : 0;
}

/* Plain names only: no "." or ".." component, which a walk that creates must not meet. */
static bool path_is_plain(const char *path) {
	for (const char *name = path + strspn(path, "/"); *name != '\0';) {
		size_t n = strcspn(name, "/");
		if ((n == 1 && name[0] == '.') || (n == 2 && memcmp(name, "..", 2) == 0)) {
			return false;
		}
		name += n;
		name += strspn(name, "/");
	}
	return true;
}

int container_fs_open_dir_at(const struct container *c, int base_fd, const char *path,
	bool create, mode_t mode) {
	char copy[4096];
	if (!path_is_plain(path) || strlen(path) >= sizeof(copy)) {
		errno = path_is_plain(path) ? ENAMETOOLONG : EINVAL;
		return -1;
	}
	/* Usually there already: one lookup. */
	int dir_fd = openat2_flags(base_fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC,
		RESOLVE_IN_ROOT | RESOLVE_SAFELY);
	if (dir_fd != -1 || errno != ENOENT || !create) {
		return dir_fd;
	}
	dir_fd = openat2_flags(base_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC,
		RESOLVE_IN_ROOT | RESOLVE_SAFELY);
	if (dir_fd == -1) {
		return -1;
	}
	strcpy(copy, path);
	/* One component at a time, each beneath the last: nothing can step outside. */
	for (char *name = strtok(copy, "/"); name != NULL; name = strtok(NULL, "/")) {
		int next = openat2_flags(dir_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC,
			RESOLVE_BENEATH | RESOLVE_SAFELY);
		if (next == -1 && errno == ENOENT) {
			/* Made as the container's root only when missing: switching ids costs. */
			struct mkdir_args args = {.dir_fd = dir_fd, .name = name, .mode = mode};
			if (container_fs_as_root(c, do_mkdir, &args) == 0) {
				next = openat2_flags(dir_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC,
					RESOLVE_BENEATH | RESOLVE_SAFELY);
			}
		}
		int saved = errno;
		close(dir_fd);
		if (next == -1) {
			errno = saved;
			return -1;
		}
		dir_fd = next;
	}
	return dir_fd;
}

int container_fs_open_dir(const struct container *c, const char *path, bool create,
	mode_t mode) {
	return container_fs_open_dir_at(c, c->root_fd, path, create, mode);
}

struct reopen_args {
	int path_fd;
};

static int do_reopen(void *data) {
	struct reopen_args *a = data;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->path_fd);
	return open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

int container_fs_read_file(const struct container *c, const char *path, size_t max_size,
	char **data, size_t *len) {
	/* O_PATH opens nothing: a FIFO or a device is looked at, never opened. */
	int path_fd = openat2_flags(c->root_fd, path, O_PATH | O_CLOEXEC,
		RESOLVE_IN_ROOT | RESOLVE_SAFELY | RESOLVE_NO_XDEV);
	if (path_fd == -1) {
		return -1;
	}
	int fd = -1;
	char *buf = NULL;
	struct stat st;
	if (fstat(path_fd, &st) == -1) {
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > max_size) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	/* Reopened through the fd, not the path: the file checked is the file read. */
	struct reopen_args args = {path_fd};
	fd = container_fs_as_root(c, do_reopen, &args);
	buf = malloc((size_t)st.st_size + 1);
	if (fd == -1 || buf == NULL) {
		goto fail;
	}
	/* At most the size checked, even if the file grows meanwhile. */
	size_t off = 0;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			goto fail;
		}
		if (n == 0) {
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	close(path_fd);
	*data = buf;
	*len = off;
	return 0;

fail:;
	int saved = errno;
	free(buf);
	if (fd != -1) {
		close(fd);
	}
	close(path_fd);
	errno = saved;
	return -1;
}

struct write_args {
	int dir_fd;
	const char *name;
	const char *data;
	size_t len;
	mode_t mode;
};

static int do_write(void *data) {
	struct write_args *a = data;
	char tmp[300];
	snprintf(tmp, sizeof(tmp), ".#%.200s.seatd-ns", a->name);
	unlinkat(a->dir_fd, tmp, 0);
	int fd = openat(a->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		a->mode);
	if (fd == -1) {
		return -1;
	}
	size_t off = 0;
	while (off < a->len) {
		ssize_t n = write(fd, a->data + off, a->len - off);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			goto fail;
		}
		off += (size_t)n;
	}
	/* rename replaces a planted symlink itself, never what it points to */
	if (fchmod(fd, a->mode) == -1 || renameat(a->dir_fd, tmp, a->dir_fd, a->name) == -1) {
		goto fail;
	}
	close(fd);
	return 0;

fail:;
	int saved = errno;
	close(fd);
	unlinkat(a->dir_fd, tmp, 0);
	errno = saved;
	return -1;
}

int container_fs_write_file(const struct container *c, int dir_fd, const char *name,
	const char *data, size_t len, mode_t mode) {
	struct write_args args = {dir_fd, name, data, len, mode};
	return container_fs_as_root(c, do_write, &args);
}

struct unlink_args {
	int dir_fd;
	const char *name;
};

static int do_unlink(void *data) {
	struct unlink_args *a = data;
	return unlinkat(a->dir_fd, a->name, 0) == -1 && errno != ENOENT ? -1 : 0;
}

int container_fs_unlink(const struct container *c, int dir_fd, const char *name) {
	struct unlink_args args = {dir_fd, name};
	return container_fs_as_root(c, do_unlink, &args);
}
