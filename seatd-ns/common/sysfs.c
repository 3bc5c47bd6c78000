#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

int sysfs_open(const char *root) {
	return open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Builds "devpath/name" relative to the root (without the leading slash). */
static int relative_path(char *out, size_t size, const char *devpath, const char *name) {
	while (*devpath == '/') {
		devpath++;
	}
	int n = name != NULL ? snprintf(out, size, "%s/%s", devpath, name)
			     : snprintf(out, size, "%s", devpath);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (out[0] == '\0') {
		out[0] = '.';
		out[1] = '\0';
	}
	return 0;
}

ssize_t sysfs_read_attr(int root_fd, const char *devpath, const char *attr, char *buf,
	size_t size) {
	char path[4096];
	if (size == 0 || relative_path(path, sizeof(path), devpath, attr) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		return -1;
	}
	ssize_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf + total, size - 1 - (size_t)total);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			close(fd);
			return -1;
		}
		if (n == 0) {
			break;
		}
		total += n;
		if ((size_t)total == size - 1) {
			char extra;
			if (read(fd, &extra, 1) > 0) {
				close(fd);
				errno = ENAMETOOLONG;
				return -1;
			}
			break;
		}
	}
	close(fd);
	while (total > 0 && buf[total - 1] == '\n') {
		total--;
	}
	buf[total] = '\0';
	return total;
}

int sysfs_read_link_name(int root_fd, const char *devpath, const char *link, char *buf,
	size_t size) {
	char path[4096], target[4096];
	if (relative_path(path, sizeof(path), devpath, link) == -1) {
		return -1;
	}
	ssize_t n = readlinkat(root_fd, path, target, sizeof(target) - 1);
	if (n == -1) {
		return -1;
	}
	target[n] = '\0';
	const char *name = strrchr(target, '/');
	name = name != NULL ? name + 1 : target;
	size_t len = strlen(name);
	if (len == 0 || len >= size) {
		errno = len == 0 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, name, len + 1);
	return 0;
}

bool sysfs_device_exists(int root_fd, const char *devpath) {
	char path[4096];
	struct stat st;
	if (relative_path(path, sizeof(path), devpath, NULL) == -1) {
		return false;
	}
	return fstatat(root_fd, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}
