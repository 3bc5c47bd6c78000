#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "log.h"
#include "probe_internal.h"

/* The kernel probe: runs each area's checks (probe_*.c) in turn and reports what it found. */

static const struct {
	const char *key;
	const char *name;
	enum kernel_probe_need need;
} probe_info[KERNEL_PROBE_COUNT] = {
	[KERNEL_PROBE_UEVENT_INJECT] = {"uevent_inject", "uevent injection into a netns",
		KERNEL_PROBE_OPTIONAL},
	[KERNEL_PROBE_UEVENT_ISOLATION] = {"uevent_isolation", "uevent isolation (userns netns)",
		KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_UDEV_CREDENTIALS] = {"udev_credentials", "group 2 sent as container root",
		KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_PIDFD] = {"pidfd", "pidfd_open, setns(pidfd)", KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_OPENAT2] = {"openat2", "openat2 IN_ROOT|NO_SYMLINKS", KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_MOUNT_API] = {"mount_api", "open_tree, move_mount", KERNEL_PROBE_REQUIRED},
	[KERNEL_PROBE_CGROUP_V2] = {"cgroup_v2", "cgroup v2 hierarchy", KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_CGROUP_V1_DEVICES] = {"cgroup_v1_devices", "cgroup v1 devices controller",
		KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_BPF_DEVICE] = {"bpf_device", "BPF cgroup device programs",
		KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_BPF_DEVICE_MAP] = {"bpf_device_map", "BPF device policy in a map",
		KERNEL_PROBE_ALTERNATIVE},
	[KERNEL_PROBE_DEVICE_CGROUP] = {"device_cgroup", "device access control (cgroup)",
		KERNEL_PROBE_REQUIRED},
};

/* Summary: the daemon needs one enforced way to control device access (DESIGN decision 6). */
static void probe_device_cgroup(struct kernel_probe_report *report) {
	const struct kernel_probe_result *res = report->results;
	struct kernel_probe_result *r = &report->results[KERNEL_PROBE_DEVICE_CGROUP];
	bool v2 = res[KERNEL_PROBE_BPF_DEVICE].status == KERNEL_PROBE_AVAILABLE &&
		res[KERNEL_PROBE_BPF_DEVICE_MAP].status == KERNEL_PROBE_AVAILABLE;
	bool v1 = res[KERNEL_PROBE_CGROUP_V1_DEVICES].status == KERNEL_PROBE_AVAILABLE;
	if (v2 || v1) {
		set_result(r, KERNEL_PROBE_AVAILABLE, "enforced through %s%s%s",
			v2 ? "cgroup v2 BPF programs with a map" : "", v2 && v1 ? " and " : "",
			v1 ? "the cgroup v1 devices controller" : "");
		return;
	}
	bool untested = false;
	for (int id = KERNEL_PROBE_CGROUP_V1_DEVICES; id <= KERNEL_PROBE_BPF_DEVICE_MAP; id++) {
		untested = untested || res[id].status == KERNEL_PROBE_UNTESTED;
	}
	set_result(r, untested ? KERNEL_PROBE_UNTESTED : KERNEL_PROBE_MISSING,
		"neither cgroup v2 BPF device programs nor the v1 devices controller %s",
		untested ? "could be checked" : "work");
}

void kernel_probe_run(struct kernel_probe_report *report) {
	memset(report, 0, sizeof(*report));
	struct utsname uts;
	if (uname(&uts) == 0) {
		snprintf(report->kernel_release, sizeof(report->kernel_release), "%s", uts.release);
	}
	struct kernel_probe_result *res = report->results;
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		res[id].id = (enum kernel_probe_id)id;
		res[id].key = probe_info[id].key;
		res[id].name = probe_info[id].name;
		res[id].need = probe_info[id].need;
		set_result(&res[id], KERNEL_PROBE_UNTESTED, "not run");
	}
	probe_uevent_inject(&res[KERNEL_PROBE_UEVENT_INJECT]);
	probe_uevent_isolation(&res[KERNEL_PROBE_UEVENT_ISOLATION]);
	probe_udev_credentials(&res[KERNEL_PROBE_UDEV_CREDENTIALS]);
	probe_pidfd(&res[KERNEL_PROBE_PIDFD]);
	probe_openat2(&res[KERNEL_PROBE_OPENAT2]);
	probe_mount_api(&res[KERNEL_PROBE_MOUNT_API]);
	struct kernel_probe_cgroups cg;
	if (kernel_probe_find_cgroups(&cg) == -1) {
		set_result(&res[KERNEL_PROBE_CGROUP_V2], KERNEL_PROBE_UNTESTED,
			"/proc/self/mountinfo: %s", err_name(errno));
		set_result(&res[KERNEL_PROBE_CGROUP_V1_DEVICES], KERNEL_PROBE_UNTESTED,
			"/proc/self/mountinfo: %s", err_name(errno));
	} else {
		probe_cgroup_v2(&cg, &res[KERNEL_PROBE_CGROUP_V2]);
		probe_cgroup_v1_devices(&cg, &res[KERNEL_PROBE_CGROUP_V1_DEVICES]);
		probe_bpf(&cg, &res[KERNEL_PROBE_BPF_DEVICE], &res[KERNEL_PROBE_BPF_DEVICE_MAP]);
	}
	probe_device_cgroup(report);
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		log_debugf("kernel probe: %s: %s: %s", res[id].key,
			kernel_probe_status_name(res[id].status), res[id].detail);
	}
}

bool kernel_probe_ok(const struct kernel_probe_report *report) {
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		const struct kernel_probe_result *r = &report->results[id];
		if (r->need == KERNEL_PROBE_REQUIRED && r->status != KERNEL_PROBE_AVAILABLE) {
			return false;
		}
	}
	return true;
}

const char *kernel_probe_status_name(enum kernel_probe_status status) {
	switch (status) {
	case KERNEL_PROBE_AVAILABLE:
		return "available";
	case KERNEL_PROBE_MISSING:
		return "missing";
	case KERNEL_PROBE_UNTESTED:
		break;
	}
	return "untested";
}

const char *kernel_probe_need_name(enum kernel_probe_need need) {
	switch (need) {
	case KERNEL_PROBE_REQUIRED:
		return "required";
	case KERNEL_PROBE_ALTERNATIVE:
		return "alternative";
	case KERNEL_PROBE_OPTIONAL:
		break;
	}
	return "optional";
}

void kernel_probe_print_table(const struct kernel_probe_report *report, FILE *out) {
	int width = (int)strlen("FEATURE");
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		int len = (int)strlen(report->results[id].name);
		width = len > width ? len : width;
	}
	fprintf(out, "seatd-ns kernel probe: Linux %s\n", report->kernel_release);
	fprintf(out, "%-*s  %-11s  %-9s  %s\n", width, "FEATURE", "NEED", "STATUS", "DETAIL");
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		const struct kernel_probe_result *r = &report->results[id];
		fprintf(out, "%-*s  %-11s  %-9s  %s\n", width, r->name,
			kernel_probe_need_name(r->need), kernel_probe_status_name(r->status),
			r->detail);
	}
	fprintf(out, "%s\n",
		kernel_probe_ok(report) ? "verdict: everything seatd-ns requires is available"
					: "verdict: seatd-ns cannot work fully on this kernel");
}

static void print_json_string(FILE *out, const char *s) {
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
		} else {
			fputc(c, out);
		}
	}
	fputc('"', out);
}

void kernel_probe_print_json(const struct kernel_probe_report *report, FILE *out) {
	fprintf(out, "{\"ok\":%s,\"kernel\":", kernel_probe_ok(report) ? "true" : "false");
	print_json_string(out, report->kernel_release);
	fputs(",\"features\":[", out);
	for (int id = 0; id < KERNEL_PROBE_COUNT; id++) {
		const struct kernel_probe_result *r = &report->results[id];
		fprintf(out, "%s{\"id\":", id == 0 ? "" : ",");
		print_json_string(out, r->key);
		fputs(",\"name\":", out);
		print_json_string(out, r->name);
		fprintf(out, ",\"need\":\"%s\",\"status\":\"%s\",\"detail\":",
			kernel_probe_need_name(r->need), kernel_probe_status_name(r->status));
		print_json_string(out, r->detail);
		fputc('}', out);
	}
	fputs("]}\n", out);
}
