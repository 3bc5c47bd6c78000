#!/bin/bash
# The kernel probe on this machine: every feature seatd-ns relies on is there, checked for
# real by seatd-ns-probe (DESIGN.md "Verified facts": these machines have them all, cgroup v1
# devices and v2 side by side included), and the probe leaves nothing behind: no scratch
# cgroup, directory, mount or process. SEATD_NS_PROBE is the program's path.
. "$(dirname "$0")/lib.sh"
need_root
need jq
[ -x "${SEATD_NS_PROBE:-}" ] || fail "SEATD_NS_PROBE does not name the seatd-ns-probe program"

features=(uevent_inject uevent_isolation udev_credentials pidfd openat2 mount_api cgroup_v2
	cgroup_v1_devices bpf_device bpf_device_map device_cgroup)

# Everything the probe may create is named seatd-ns-probe.*.
leftovers() {
	ls -d /tmp/seatd-ns-probe.* 2>/dev/null || true
	# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ...
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' \
		/proc/self/mountinfo | while read -r mnt; do
		find "$mnt" -maxdepth 8 -type d -name 'seatd-ns-probe.*' 2>/dev/null || true
	done
	grep seatd-ns-probe /proc/self/mountinfo || true
	pgrep -a -f "^$SEATD_NS_PROBE" || true
}
[ -z "$(leftovers)" ] || fail "leftovers of an earlier probe run, remove them first: $(leftovers)"

status=0
"$SEATD_NS_PROBE" >"$work/table.txt" 2>"$work/probe.log" || status=$?
cat "$work/table.txt"
[ ! -s "$work/probe.log" ] || { echo "--- stderr:"; cat "$work/probe.log"; }

"$SEATD_NS_PROBE" --json >"$work/probe.json" 2>>"$work/probe.log" || true
jq -e '.features | length > 0' "$work/probe.json" >/dev/null ||
	fail "seatd-ns-probe --json printed no features: $(cat "$work/probe.json")"

for id in "${features[@]}"; do
	row=$(jq -c --arg id "$id" '.features[] | select(.id == $id)' "$work/probe.json")
	[ -n "$row" ] || fail "the probe did not report feature $id"
	[ "$(jq -r .status <<<"$row")" = available ] ||
		fail "kernel feature $id ($(jq -r .name <<<"$row")) is $(jq -r .status <<<"$row"):" \
			"$(jq -r .detail <<<"$row")"
done
extra=$(jq -r '.features[] | select(.status != "available") | .id' "$work/probe.json")
[ -z "$extra" ] || fail "features not available: $extra"
[ "$(jq -r .ok "$work/probe.json")" = true ] || fail "--json says ok is not true"
[ "$status" -eq 0 ] || fail "seatd-ns-probe exited $status although every feature is available"

left=$(leftovers)
[ -z "$left" ] || fail "the probe left things behind: $left"
echo "ok: all ${#features[@]} kernel features seatd-ns relies on are available; nothing left behind"
