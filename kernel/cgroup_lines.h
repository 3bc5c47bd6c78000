#ifndef _SEATD_NS_CGROUP_LINES_H
#define _SEATD_NS_CGROUP_LINES_H

#include "probe.h"

/*
 * The lines of /proc/PID/cgroup and /proc/self/mountinfo that say where the cgroup
 * hierarchies are, parsed apart from the reading so that they can be fuzzed. A container
 * names the cgroups below its own, and those names are in its init's /proc/PID/cgroup.
 */

/*
 * One line of /proc/PID/cgroup, "N:controllers:path" (changed in place): the path of the v2
 * line ("0::path") goes to v2, that of the v1 devices hierarchy to v1_devices (PATH_MAX bytes
 * each); other lines change nothing.
 */
void cgroup_lines_proc(char *line, char *v2, char *v1_devices);

/*
 * One line of mountinfo (changed in place): the first cgroup2 mount gives cg->v2 and v2_root
 * (its root in the hierarchy), the first v1 mount with the devices controller cg->v1_devices
 * and v1_root (PATH_MAX bytes each); other lines change nothing.
 */
void cgroup_lines_mountinfo(char *line, struct kernel_probe_cgroups *cg, char *v2_root,
	char *v1_root);

#endif
