#!/bin/bash
# Stage 2 of the seat lab guest: PID 1 after switch_root, running this machine's own binaries
# from the shared /usr. Mounts fresh proc, sysfs, devtmpfs, /run and /tmp, starts the command
# agent (tests/lab/guest/agent.sh, on the virtio port lab.cmd), the host's systemd-udevd with a
# coldplug, then seatd-ns from the shared build directory with the lab's two seats
# (seats.conf beside this script), starts the two desktop containers (containers.sh), and
# streams `seat-assign --json monitor` to the virtio port lab.events (and
# /lab/out/monitor.jsonl).
#
# Progress and fatal errors go to the console (pid1.sh). Everything the guest logs is written
# to /lab/out, the host's run directory, so it survives the guest.
#
# /lab/out/guest.env (written by the host before boot) may set:
#   SEATD_NS_ARGS   extra arguments for seatd-ns (default: --log-level debug)
#   LAB_TIMEOUT     seconds to wait for udev and for seatd-ns (default 120)
set -u
lab=$(dirname "$(readlink -f "$0")")
. "$lab/pid1.sh"
SEATD_NS_ARGS="--log-level debug"
LAB_TIMEOUT=120
[ -f $out/guest.env ] && . $out/guest.env

mount_basics
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
mark stage2
start_agent "$lab"

# The desktop containers' root filesystems, made while udev does the coldplug.
containers="desk1 desk2"
"$lab/containers.sh" create $containers 2>$out/containers.err &
create_pid=$!

# The host's udevd, as on a normal host, with a coldplug.
/usr/lib/systemd/systemd-udevd >$out/udevd.log 2>&1 &
for _ in $(seq 1 100); do
	[ -e /run/udev/control ] && break
	sleep 0.1
done
[ -e /run/udev/control ] || fail "systemd-udevd did not start (see udevd.log)"
mark udevd-started
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle --timeout="$LAB_TIMEOUT" || fail "udevadm settle timed out after ${LAB_TIMEOUT}s"
mark udev-settled
# Kernel and udev events of the seat subsystems, stamped with CLOCK_MONOTONIC, for the
# host's latency breakdown (kernel uevent -> udev event -> seatd-ns client event).
udevadm monitor --kernel --udev -s input -s hidraw -s sound -s drm >$out/uevents.log 2>&1 &

# seatd-ns from the shared build directory, in the foreground of a background job, its exit
# status kept for the host.
seatd_ns=/lab/build/seatd-ns/seatd-ns
seat_assign=/lab/build/seatd-ns/seat-assign
[ -x $seatd_ns ] && [ -x $seat_assign ] || fail "no seatd-ns or seat-assign in the build directory"
mkdir -p /var/lib/seatd-ns
# shellcheck disable=SC2086
(
	$seatd_ns --config "$lab/seats.conf" $SEATD_NS_ARGS >$out/seatd-ns.log 2>&1 &
	echo $! >/run/seatd-ns.pid
	wait $!
	echo $? >$out/seatd-ns.exit
) &
mark seatd-ns-started
ready=
for _ in $(seq 1 $((LAB_TIMEOUT * 5))); do
	if $seat_assign --json devices >/tmp/devices.json 2>/dev/null &&
		grep -q '"kind":"drm-card"' /tmp/devices.json; then
		ready=1
		break
	fi
	[ -f $out/seatd-ns.exit ] && fail "seatd-ns exited with status $(cat $out/seatd-ns.exit) (see seatd-ns.log)"
	sleep 0.2
done
[ -n "$ready" ] || fail "seatd-ns listed no drm-card within ${LAB_TIMEOUT}s"
mark seatd-ns-listing
cp /tmp/devices.json $out/devices.boot.json

# The desktop containers (seats.conf names them): lxc-start registers each with seatd-ns.
wait $create_pid || fail "making the containers failed: $(cat $out/containers.err)"
mark containers-created
pids=()
for c in $containers; do
	"$lab/containers.sh" start "$c" 2>>$out/containers.err &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "starting the containers failed: $(cat $out/containers.err)"
done
mark containers-up

# The monitor, to the host (virtio port lab.events) and to files (monitor.jsonl, and
# monitor.timed with the guest's CLOCK_MONOTONIC).
events=
for d in /sys/class/virtio-ports/*; do
	[ "$(cat "$d/name" 2>/dev/null)" = lab.events ] && events=/dev/${d##*/}
done
[ -n "$events" ] || fail "no virtio port lab.events"
(
	$seat_assign --json monitor 2>>$out/monitor.err |
		"$lab/monitor-relay.py" "$events" $out/monitor.jsonl $out/monitor.timed
) &
mark ready

# PID 1 stays, reaping children.
while :; do
	wait
	sleep 1
done
