#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device_filter.h"
#include "log.h"

/* bpftool's skeleton embeds the program as one long string. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "device_filter.skel.h"
#pragma GCC diagnostic pop

_Static_assert(DEVICE_FILTER_BLOCK == BPF_DEVCG_DEV_BLOCK, "device type");
_Static_assert(DEVICE_FILTER_CHAR == BPF_DEVCG_DEV_CHAR, "device type");
_Static_assert(DEVICE_FILTER_MKNOD == BPF_DEVCG_ACC_MKNOD, "access bit");
_Static_assert(DEVICE_FILTER_READ == BPF_DEVCG_ACC_READ, "access bit");
_Static_assert(DEVICE_FILTER_WRITE == BPF_DEVCG_ACC_WRITE, "access bit");

/*
 * Only the fds are kept: libbpf's object for the loaded program would cost tens of KiB per
 * container, and the daemon may hold a thousand of them.
 */
struct device_filter {
	int prog_fd, map_fd;
	__u32 prog_id;
	char prog_name[BPF_OBJ_NAME_LEN]; /* as the kernel keeps it */
	int cgroup_fd;                    /* attached to this one, or -1 */
};

/* libbpf explains failures (the verifier's log, say) on its own print callback. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args) {
	char line[512];
	(void)level;
	vsnprintf(line, sizeof(line), fmt, args);
	line[strcspn(line, "\n")] = '\0';
	log_debugf("libbpf: %s", line);
	return 0;
}

struct device_filter *device_filter_new(unsigned flags) {
	libbpf_set_print(print_libbpf);
	struct device_filter_bpf *skel = NULL;
	struct device_filter *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return NULL;
	}
	f->prog_fd = f->map_fd = f->cgroup_fd = -1;
	skel = device_filter_bpf__open();
	if (skel == NULL) {
		goto fail;
	}
	skel->rodata->allow_basic = (flags & DEVICE_FILTER_NO_BASIC) == 0;
	if (device_filter_bpf__load(skel) != 0) {
		goto fail;
	}
	/* The program holds its maps; our duplicates outlive the skeleton. */
	f->prog_fd = fcntl(bpf_program__fd(skel->progs.seatd_ns_dev), F_DUPFD_CLOEXEC, 3);
	f->map_fd = fcntl(bpf_map__fd(skel->maps.devices), F_DUPFD_CLOEXEC, 3);
	if (f->prog_fd == -1 || f->map_fd == -1) {
		goto fail;
	}
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(f->prog_fd, &info, &len) != 0) {
		goto fail;
	}
	f->prog_id = info.id;
	memcpy(f->prog_name, info.name, sizeof(f->prog_name));
	f->prog_name[sizeof(f->prog_name) - 1] = '\0';
	device_filter_bpf__destroy(skel);
	return f;
fail:;
	int saved = errno;
	log_debugf("device filter: loading the program: %s", strerror(saved));
	device_filter_bpf__destroy(skel);
	device_filter_free(f);
	errno = saved;
	return NULL;
}

void device_filter_leave(struct device_filter *f) {
	if (f != NULL && f->cgroup_fd != -1) {
		close(f->cgroup_fd);
		f->cgroup_fd = -1;
	}
	device_filter_free(f);
}

void device_filter_free(struct device_filter *f) {
	if (f == NULL) {
		return;
	}
	if (f->cgroup_fd != -1 && device_filter_detach(f) == -1) {
		log_warnf("device filter: detaching the program: %s", strerror(errno));
	}
	if (f->cgroup_fd != -1) {
		close(f->cgroup_fd);
	}
	if (f->prog_fd != -1) {
		close(f->prog_fd);
	}
	if (f->map_fd != -1) {
		close(f->map_fd);
	}
	free(f);
}

int device_filter_attach(struct device_filter *f, int cgroup_fd) {
	if (f->cgroup_fd != -1) {
		errno = EBUSY;
		return -1;
	}
	int fd = fcntl(cgroup_fd, F_DUPFD_CLOEXEC, 3);
	if (fd == -1) {
		return -1;
	}
	/* MULTI keeps what others attached (LXC's program) in force beside ours. */
	if (bpf_prog_attach(f->prog_fd, fd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	f->cgroup_fd = fd;
	return 0;
}

int device_filter_detach(struct device_filter *f) {
	if (f->cgroup_fd == -1) {
		return 0;
	}
	/* ENOENT: the cgroup was removed and took its programs with it. */
	if (bpf_prog_detach2(f->prog_fd, f->cgroup_fd, BPF_CGROUP_DEVICE) != 0 &&
		errno != ENOENT) {
		return -1;
	}
	close(f->cgroup_fd);
	f->cgroup_fd = -1;
	return 0;
}

int device_filter_cgroup_fd(const struct device_filter *f) {
	return f->cgroup_fd;
}

static int make_key(struct device_filter_key *key, unsigned type, unsigned major,
	unsigned minor) {
	if (type != DEVICE_FILTER_BLOCK && type != DEVICE_FILTER_CHAR) {
		errno = EINVAL;
		return -1;
	}
	*key = (struct device_filter_key){.type = type, .major = major, .minor = minor};
	return 0;
}

int device_filter_set(struct device_filter *f, unsigned type, unsigned major, unsigned minor,
	unsigned access) {
	struct device_filter_key key;
	if (make_key(&key, type, major, minor) == -1) {
		return -1;
	}
	if ((access & ~DEVICE_FILTER_ACCESS_ALL) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (access == 0) {
		return bpf_map_delete_elem(f->map_fd, &key) == 0 || errno == ENOENT ? 0 : -1;
	}
	__u32 value = access;
	return bpf_map_update_elem(f->map_fd, &key, &value, BPF_ANY) == 0 ? 0 : -1;
}

int device_filter_get(const struct device_filter *f, unsigned type, unsigned major,
	unsigned minor, unsigned *access) {
	struct device_filter_key key;
	__u32 value = 0;
	if (make_key(&key, type, major, minor) == -1) {
		return -1;
	}
	if (bpf_map_lookup_elem(f->map_fd, &key, &value) != 0) {
		if (errno != ENOENT) {
			return -1;
		}
		value = 0;
	}
	*access = value;
	return 0;
}

/*
 * The ids of the device programs of a cgroup (query_flags: 0 for those attached to it,
 * BPF_F_QUERY_EFFECTIVE for those that run for it); returns how many, or -1 with errno.
 * The array is malloc'd.
 */
static int query_programs(int cgroup_fd, __u32 query_flags, __u32 **ids) {
	__u32 count = 0, attach_flags = 0;
	*ids = NULL;
	/* The list can grow between the two calls: then ask again. */
	for (int tries = 0; tries < 4; tries++) {
		if (bpf_prog_query(cgroup_fd, BPF_CGROUP_DEVICE, query_flags, &attach_flags, NULL,
			    &count) != 0) {
			return -1;
		}
		free(*ids);
		*ids = calloc(count + 1, sizeof(**ids));
		if (*ids == NULL) {
			return -1;
		}
		__u32 got = count + 1;
		if (bpf_prog_query(cgroup_fd, BPF_CGROUP_DEVICE, query_flags, &attach_flags, *ids,
			    &got) == 0) {
			return (int)got;
		}
		if (errno != ENOSPC) {
			break;
		}
	}
	int saved = errno;
	free(*ids);
	*ids = NULL;
	errno = saved;
	return -1;
}

int device_filter_is_effective(const struct device_filter *f, int cgroup_fd) {
	__u32 *ids;
	int n = query_programs(cgroup_fd, BPF_F_QUERY_EFFECTIVE, &ids);
	if (n == -1) {
		return -1;
	}
	int found = 0;
	for (int i = 0; i < n && !found; i++) {
		found = ids[i] == f->prog_id;
	}
	free(ids);
	return found;
}

int device_filter_remove_others(struct device_filter *f) {
	if (f->cgroup_fd == -1) {
		errno = EBADF;
		return -1;
	}
	__u32 *ids;
	int n = query_programs(f->cgroup_fd, 0, &ids);
	if (n == -1) {
		return -1;
	}
	int removed = 0, err = 0;
	for (int i = 0; i < n; i++) {
		if (ids[i] == f->prog_id) {
			continue;
		}
		int fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0) {
			continue; /* gone meanwhile */
		}
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
			strncmp(info.name, f->prog_name, sizeof(info.name)) == 0) {
			if (bpf_prog_detach2(fd, f->cgroup_fd, BPF_CGROUP_DEVICE) == 0) {
				removed++;
			} else if (errno != ENOENT) {
				err = errno;
			}
		}
		close(fd);
	}
	free(ids);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return removed;
}
