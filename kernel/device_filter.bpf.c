/*
 * The cgroup v2 device program of a container (device_filter.h says what it allows). Built
 * with clang -target bpf and embedded in seatd-ns by bpftool's skeleton; kernel/meson.build
 * has the commands.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "device_filter.h"

/* Not preallocated: most containers hold a few tens of devices, and there may be many. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, DEVICE_FILTER_MAX_DEVICES);
	__type(key, struct device_filter_key);
	__type(value, __u32);
} devices SEC(".maps");

/* Set before loading; constant for the verifier, which then drops the dead branch. */
const volatile __u32 allow_basic = 1;

/* What LXC and other container managers give every container. */
static __always_inline int basic_device(__u32 type, __u32 major, __u32 minor) {
	if (type != DEVICE_FILTER_CHAR) {
		return 0;
	}
	switch (major) {
	case 1: /* null, zero, full, random, urandom */
		return minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9;
	case 5: /* tty, console, ptmx */
		return minor <= 2;
	case 10: /* fuse, net/tun: LXC's common.conf gives them too */
		return minor == 229 || minor == 200;
	}
	return major >= 136 && major <= 143; /* pts */
}

SEC("cgroup/dev")
int seatd_ns_dev(struct bpf_cgroup_dev_ctx *ctx) {
	/* access_type is (access << 16) | type */
	__u32 access = ctx->access_type >> 16;
	struct device_filter_key key = {
		.type = ctx->access_type & 0xffff,
		.major = ctx->major,
		.minor = ctx->minor,
	};
	if (allow_basic && basic_device(key.type, key.major, key.minor)) {
		return 1;
	}
	__u32 *allowed = bpf_map_lookup_elem(&devices, &key);
	return allowed != NULL && (access & ~*allowed) == 0;
}

/* GPL-compatible, as the kernel wants; the rest of seatd-ns is MIT. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";
