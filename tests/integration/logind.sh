#!/bin/bash
# seatd-ns-logind in a real container behind the real daemon: a container (container-run)
# runs its own system bus (dbus-daemon with the service's policy) and the service, which
# opens seat1 through the container's /run/seatd.sock. A logind client in the container
# (tests/tools/logind-client, what a display server does first) finds its session by its
# pid, on seat1 and active, takes control, and its devices reach the daemon's endpoint: the
# seat's keyboard and GPU pass the device check (ENXIO: no hardware behind the recorded
# numbers), a device of the other seat has no node there. `seat-assign switch` to another
# container makes the session inactive, acknowledged by the service (not forced), and
# back active; sd-login's files in the container's /run/systemd follow.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar dbus-daemon nsenter
in_own_netns "$@"
unpack_fixture

keyboard_gpu_config d
. "$(dirname "$0")/desk.sh"

# The container's system bus: anyone may connect and call, only the service's policy lets
# root own org.freedesktop.login1.
bus_conf=$(realpath "$(dirname "$0")/../tools/system-bus.conf")

# desk1: its own /proc (the service reads its clients' processes there) and /dev/null (which
# dbus-daemon needs; the container's /dev has only what the daemon gives it), its bus, then
# the service once the endpoint is there, as the unit would start it.
mknod "$work/null" c 1 3 || fail "mknod $work/null"
chmod 0666 "$work/null"
"$CONTAINER_RUN" --cgroup "seatd-ns-test-logind-$$" --pid-file "$work/desk1.pid" -- sh -c "
	mount -t proc proc /proc || exit 1
	touch /dev/null && mount --bind $work/null /dev/null || exit 1
	mkdir -p /run/dbus
	dbus-daemon --config-file=$bus_conf --fork || exit 1
	while [ ! -S /run/seatd.sock ] || [ ! -S /run/dbus/system_bus_socket ]; do sleep 0.02; done
	$SEATD_NS_LOGIND --user root --log-level debug
	echo \"service exited \$?\"" >"$work/logind.log" 2>&1 &
pids+=($!)
wait_until "container desk1 is up" test -s "$work/desk1.pid"
desk1_pid=$(cat "$work/desk1.pid")
desk desk2

start_daemon d --sysfs "$sysfs" --source kernel
register desk1 || fail "register desk1"
register desk2 || fail "register desk2"
sa d attach seat1 desk1 >/dev/null || fail "attach desk1"
sa d attach seat1 desk2 >/dev/null || fail "attach desk2"
wait_until "the service serves seat1" grep -q "serving session c1 of root on seat seat1" \
	"$work/logind.log"
wait_until "the service has the seat" grep -q "session c1 active" "$work/logind.log"

# client ARGS...: the logind client in desk1, as its root.
client() {
	nsenter -t "$desk1_pid" -U -m -n -p -- "$LOGIND_CLIENT" "$@" 2>&1 || true
}
state() { cat "$(root_of desk1)/run/systemd/$1"; }

out=$(client /dev/dri/card0 /dev/input/event1 13:66)
echo "$out"
grep -qx "session /org/freedesktop/login1/session/c1" <<<"$out" || fail "no session: $out"
grep -qx "active 1" <<<"$out" || fail "the session is not active: $out"
grep -qx "seat seat1" <<<"$out" || fail "not on seat1: $out"
grep -qx "control ok" <<<"$out" || fail "no control: $out"
for dev in /dev/dri/card0 /dev/input/event1; do
	grep -q "^$dev error .*: Seat seat1 does not give $dev .*: No such device or address$" \
		<<<"$out" || fail "$dev did not reach the endpoint's device check: $out"
done
grep -q "^13:66 error .*No DRM card, input event or hidraw device 13:66 on seat seat1" \
	<<<"$out" || fail "a device without a node in the container was not refused: $out"
grep -qx "ACTIVE=1" <<<"$(state sessions/c1)" || fail "session file: $(state sessions/c1)"
grep -qx "ACTIVE=c1" <<<"$(state seats/seat1)" || fail "seat file: $(state seats/seat1)"

# Away: the service acknowledges the endpoint's disable itself, the session goes inactive.
sa d --json monitor >"$work/monitor.out" &
pids+=($!)
sleep 0.2
out=$(sa d switch seat1 desk2) || fail "switch to desk2: $out"
wait_until "the switch was announced" jq -se 'any(.[]; .action == "switch" and
	.container == "desk2" and .from == "desk1")' "$work/monitor.out"
jq -se 'any(.[]; .action == "switch" and .container == "desk2" and .forced == "no")' \
	"$work/monitor.out" >/dev/null || fail "the service did not acknowledge: $(cat "$work/monitor.out")"
out=$(client)
grep -qx "active 0" <<<"$out" || fail "the session is active while away: $out"
grep -qx "ACTIVE=0" <<<"$(state sessions/c1)" || fail "session file while away: $(state sessions/c1)"
! grep -q "^ACTIVE=" <<<"$(state seats/seat1)" || fail "seat file while away: $(state seats/seat1)"

# Back.
sa d switch seat1 desk1 >/dev/null || fail "switch back to desk1"
wait_until "the session is active again" eval "client | grep -qx 'active 1'"
grep -qx "ACTIVE=1" <<<"$(state sessions/c1)" || fail "session file back: $(state sessions/c1)"

grep -q "^service exited" "$work/logind.log" && fail "the service exited: $(cat "$work/logind.log")"
kill -0 "${daemons[d]}" || fail "the daemon died"
echo "PASS"
