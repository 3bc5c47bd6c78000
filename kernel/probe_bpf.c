#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "device_filter.h"
#include "log.h"
#include "probe_internal.h"

/* (g) BPF cgroup device programs, loaded with the raw bpf() syscall. */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static int bpf_call(int cmd, union bpf_attr *attr) {
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Loads a device program; on failure, why says what the verifier said last. */
static int bpf_load_device_program(const struct bpf_insn *insns, size_t count, char *why,
	size_t why_size) {
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.expected_attach_type = BPF_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)count;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	strcpy(attr.prog_name, "seatd_ns_probe");
	int fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd >= 0) {
		return fd;
	}
	int saved = errno;
	snprintf(why, why_size, "%s", err_name(saved));
	/* Again with the verifier's log, only to say why. */
	size_t log_size = 64 * 1024;
	char *log = calloc(1, log_size);
	if (log != NULL) {
		attr.log_level = 1;
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_size;
		fd = bpf_call(BPF_PROG_LOAD, &attr);
		if (fd >= 0) {
			free(log);
			return fd;
		}
		size_t len = strlen(log);
		while (len > 0 && log[len - 1] == '\n') {
			log[--len] = '\0';
		}
		char *last = strrchr(log, '\n');
		if (len > 0) {
			snprintf(why, why_size, "%s (verifier: %.120s)", err_name(saved),
				last != NULL ? last + 1 : log);
		}
		free(log);
	}
	errno = saved;
	return -1;
}

static int bpf_attach(int cgroup_fd, int prog_fd) {
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	return bpf_call(BPF_PROG_ATTACH, &attr);
}

static int bpf_detach(int cgroup_fd, int prog_fd) {
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	return bpf_call(BPF_PROG_DETACH, &attr);
}

struct bpf_scratch {
	char cgroup[PATH_MAX];
	int cgroup_fd;
	int prog_fd;
	bool attached;
	struct device_filter *filter; /* the daemon's program, for the map probe */
};

static void bpf_scratch_release_program(struct bpf_scratch *s) {
	if (s->attached && bpf_detach(s->cgroup_fd, s->prog_fd) == -1) {
		log_warnf("kernel probe: detaching the device program: %s", strerror(errno));
	}
	s->attached = false;
	if (s->prog_fd != -1) {
		close(s->prog_fd);
		s->prog_fd = -1;
	}
}

/* Loads and attaches a program to the scratch cgroup; r says why not. */
static int bpf_scratch_attach(struct bpf_scratch *s, const struct bpf_insn *insns, size_t count,
	struct kernel_probe_result *r) {
	char why[200];
	s->prog_fd = bpf_load_device_program(insns, count, why, sizeof(why));
	if (s->prog_fd == -1) {
		set_result(r, status_for_errno(errno),
			"BPF_PROG_LOAD(BPF_PROG_TYPE_CGROUP_DEVICE): %s", why);
		return -1;
	}
	if (bpf_attach(s->cgroup_fd, s->prog_fd) == -1) {
		set_result(r, status_for_errno(errno),
			"BPF_PROG_ATTACH(BPF_CGROUP_DEVICE) to %s: %s", s->cgroup, err_name(errno));
		return -1;
	}
	s->attached = true;
	return 0;
}

/* Opens dev from inside the scratch cgroup and checks the outcome is expect (0 or EPERM). */
static int bpf_scratch_expect(struct bpf_scratch *s, const char *dev, int expect, const char *when,
	struct kernel_probe_result *r) {
	int err = 0;
	if (open_in_cgroup(s->cgroup, dev, &err) == -1) {
		set_result(r, KERNEL_PROBE_UNTESTED, "running a process in %s: %s", s->cgroup,
			err_name(errno));
		return -1;
	}
	if (err != expect) {
		set_result(r, KERNEL_PROBE_MISSING, "%s: open(%s) %s, expected %s", when, dev,
			err == 0 ? "worked" : err_name(err),
			expect == 0 ? "success" : err_name(expect));
		return -1;
	}
	return 0;
}

static void probe_bpf_device(struct bpf_scratch *s, struct kernel_probe_result *r) {
	const struct bpf_insn allow[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	const struct bpf_insn deny[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	if (bpf_scratch_attach(s, allow, 2, r) == -1 ||
		bpf_scratch_expect(s, "/dev/null", 0, "allow-all attached", r) == -1) {
		return;
	}
	bpf_scratch_release_program(s);
	if (bpf_scratch_attach(s, deny, 2, r) == -1 ||
		bpf_scratch_expect(s, "/dev/null", EPERM, "deny-all attached", r) == -1) {
		return;
	}
	if (bpf_detach(s->cgroup_fd, s->prog_fd) == -1) {
		set_result(r, KERNEL_PROBE_MISSING, "BPF_PROG_DETACH: %s", err_name(errno));
		return;
	}
	s->attached = false;
	bpf_scratch_release_program(s);
	if (bpf_scratch_expect(s, "/dev/null", 0, "deny-all detached", r) == -1) {
		return;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"load, attach and detach work; deny-all makes open(/dev/null) fail with EPERM, "
		"allow-all and detach let it work");
}

/*
 * The daemon's program (device_filter.bpf.c) consults a map, so a hotplug is one map update:
 * it allows a device when its (type, major, minor) is a key of the map. Loaded here without
 * its basic devices, so that the map alone decides about /dev/null.
 */
static void probe_bpf_device_map(struct bpf_scratch *s, struct kernel_probe_result *r) {
	s->filter = device_filter_new(DEVICE_FILTER_NO_BASIC);
	if (s->filter == NULL) {
		set_result(r, status_for_errno(errno),
			"loading the device program with its hash map: %s", err_name(errno));
		return;
	}
	if (device_filter_attach(s->filter, s->cgroup_fd) == -1) {
		set_result(r, status_for_errno(errno),
			"BPF_PROG_ATTACH(BPF_CGROUP_DEVICE) to %s: %s", s->cgroup, err_name(errno));
		return;
	}
	if (bpf_scratch_expect(s, "/dev/null", EPERM, "empty map", r) == -1) {
		return;
	}
	if (device_filter_set(s->filter, DEVICE_FILTER_CHAR, 1, 3, DEVICE_FILTER_ACCESS_ALL) ==
		-1) {
		set_result(r, KERNEL_PROBE_MISSING, "BPF_MAP_UPDATE_ELEM: %s", err_name(errno));
		return;
	}
	if (bpf_scratch_expect(s, "/dev/null", 0, "c 1:3 in the map", r) == -1 ||
		bpf_scratch_expect(s, "/dev/zero", EPERM, "c 1:3 in the map", r) == -1) {
		return;
	}
	set_result(r, KERNEL_PROBE_AVAILABLE,
		"a program looking up (type, major, minor) in a hash map: empty map denies "
		"/dev/null, one map update allows it, /dev/zero stays denied");
}

void probe_bpf(const struct kernel_probe_cgroups *cg, struct kernel_probe_result *dev,
	struct kernel_probe_result *map) {
	struct bpf_scratch s = {.cgroup_fd = -1, .prog_fd = -1};
	if (cg->v2[0] == '\0') {
		set_result(dev, KERNEL_PROBE_UNTESTED, "no cgroup2 hierarchy to attach to");
		set_result(map, KERNEL_PROBE_UNTESTED, "no cgroup2 hierarchy to attach to");
		return;
	}
	if (cgroup_make(s.cgroup, cg->v2_own) == -1) {
		set_result(dev, status_for_errno(errno), "mkdir a cgroup in %s: %s", cg->v2_own,
			err_name(errno));
		set_result(map, dev->status, "%s", dev->detail);
		return;
	}
	s.cgroup_fd = open(s.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.cgroup_fd == -1) {
		set_result(dev, KERNEL_PROBE_UNTESTED, "open %s: %s", s.cgroup, err_name(errno));
		set_result(map, dev->status, "%s", dev->detail);
		goto out;
	}
	probe_bpf_device(&s, dev);
	bpf_scratch_release_program(&s);
	if (dev->status == KERNEL_PROBE_AVAILABLE) {
		probe_bpf_device_map(&s, map);
	} else {
		set_result(map, KERNEL_PROBE_UNTESTED, "device programs do not work");
	}
	bpf_scratch_release_program(&s);
out:
	device_filter_free(s.filter);
	if (s.cgroup_fd != -1) {
		close(s.cgroup_fd);
	}
	cgroup_remove(s.cgroup);
}
