#!/bin/bash
# Switching a seat between containers: real unprivileged containers (container-run) attached
# to seat1 of the recorded host, each running the real libseat (Debian's, through
# /run/seatd.sock) as a compositor does, staying connected. Only the active container can
# open seat1's devices, through libseat or directly; `seat-assign switch` disables the active
# one's client, waits for its acknowledgement (or forces it), moves the devices and enables
# the other's, in that order, again and again; a client that never acknowledges is forced;
# a container that dies mid-switch, a busy seat, bad requests: clear errors, the daemon and
# the state stay sound; 1,000 switches leave the daemon's fd count as it was; the decisions
# survive a restart, and a state file of the single-container format still loads.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar
in_own_netns "$@"
unpack_fixture

# A keyboard and a GPU: handing a seat over costs a few forks per device node, and this
# seat is handed over a thousand times.
keyboard_gpu_config d
. "$(dirname "$0")/desk.sh"
# try NAME: makes its client try the devices again; prints that try's lines.
try() {
	local before
	before=$(grep -c '^try ' "$work/$1.out" || true)
	kill -USR1 "$(pid_of "$1")"
	wait_until "$1 tried its devices" eval "[ \$(grep -c '^try ' '$work/$1.out') -ge $((before + 4)) ]"
	grep '^try ' "$work/$1.out" | tail -n 4
}
# can_use NAME / cannot_use NAME: the seat's keyboard and GPU pass the device check (ENXIO:
# no hardware behind the recorded numbers) both through libseat and by open(2), or libseat
# refuses (EPERM: not the active session), the keyboard's node is not there (ENOENT) and
# the GPU's, kept on standby so that a waiting compositor keeps its GPU, is denied (EPERM). libseat 0.9
# loses the error code of a refusal (EAGAIN from its read of pending events after the reply).
usable="No such device or address" refusal="Operation not permitted"
if [ "$protocol" != legacy ]; then
	usable+="|Resource temporarily unavailable" refusal+="|Resource temporarily unavailable"
fi
can_use() {
	local out
	out=$(try "$1")
	for dev in /dev/input/event1 /dev/dri/card0; do
		grep -Eq " $dev libseat error ($usable)$" <<<"$out" ||
			fail "$1 (active) cannot use $dev through libseat: $out"
		grep -q " $dev open error No such device or address$" <<<"$out" ||
			fail "$1 (active) cannot open $dev: $out"
	done
}
cannot_use() {
	local out
	out=$(try "$1")
	for dev in /dev/input/event1 /dev/dri/card0; do
		grep -Eq " $dev libseat error ($refusal)$" <<<"$out" ||
			fail "$1 (inactive) was not refused $dev by libseat: $out"
		local direct="No such file or directory"
		[ "$dev" = /dev/dri/card0 ] && direct="Operation not permitted"
		grep -q " $dev open error $direct$" <<<"$out" ||
			fail "$1 (inactive) can reach $dev directly: $out"
	done
	# The GPU on standby: its node and udev entry, as when the container had the seat.
	[ -c "$(root_of "$1")/dev/dri/card0" ] || fail "$1 (inactive) lost its GPU's node"
	[ -f "$(root_of "$1")/run/udev/data/c226:0" ] || fail "$1 (inactive) lost its GPU's udev entry"
	[ ! -e "$(root_of "$1")/dev/input/event1" ] || fail "$1 (inactive) kept the keyboard's node"
}
active_is() {
	sa d --json seats | jq -e --arg c "$1" '.[] | select(.name == "seat1") | .container == $c' \
		>/dev/null
}
fds() { ls "/proc/${daemons[d]}/fd" | wc -l; }

desk deskA
desk deskB
start_daemon d --sysfs "$sysfs" --source kernel
sa d --json monitor >"$work/monitor.out" &
pids+=($!)
register deskA || fail "register deskA"
register deskB || fail "register deskB"
out=$(sa d attach seat1 deskA) || fail "attach deskA: $out"
out=$(sa d attach seat1 deskB) || fail "attach deskB: $out"
grep -q "inactive: deskA has the seat" <<<"$out" || fail "attach of a second container: $out"

# The first one attached has the seat; the other's client is connected and waits.
wait_until "deskA is enabled" has_events deskA enable 1
wait_until "deskB's client opened the seat" grep -qx "seat seat1" "$work/deskB.out"
[ "$(n_events deskB 'enable|disable')" -eq 0 ] || fail "the inactive deskB was enabled: $(events deskB)"
can_use deskA
cannot_use deskB
sa d --json seats | jq -e '.[] | select(.name == "seat1") |
	.container == "deskA" and .containers == ["deskA", "deskB"] and .switching == "no"' \
	>/dev/null || fail "seats does not show both containers: $(sa d --json seats)"
sa d seats | grep -qx "seat1 (config, container deskA; inactive: deskB)" ||
	fail "seats table: $(sa d seats)"

# A switch: deskA is disabled (it acknowledges), then deskB enabled with the devices.
out=$(sa d switch seat1 deskB) || fail "switch to deskB: $out"
grep -qx "seat1 switched from deskA to deskB" <<<"$out" || fail "switch message: $out"
[ "$(events deskA)" = "enable disable " ] || fail "deskA saw: $(events deskA)"
wait_until "deskB is enabled" has_events deskB enable 1
can_use deskB
cannot_use deskA
active_is deskB || fail "deskB is not shown active"
wait_until "the switch was announced" jq -se 'any(.[]; .action == "switch" and
	.seat == "seat1" and .container == "deskB" and .from == "deskA" and .forced == "no")' \
	"$work/monitor.out"
grep -qx "active	seat1	deskB" "$work/d/state/state" || fail "state: $(cat "$work/d/state/state")"

# Requests that cannot be done: clear errors, exit 1, nothing changed.
state_before=$(cat "$work/d/state/state")
for bad in "switch seat1 deskB" "switch seat1 nodesk" "switch seat9 deskA" \
	"switch seat1 ../x" "detach seat1 nodesk" "attach seat1 nodesk"; do
	if out=$(sa d $bad 2>&1); then
		fail "'$bad' succeeded: $out"
	fi
	echo "refused: $bad: $out"
done
out=$(sa d switch seat1 deskB 2>&1) || true
grep -q "deskB is the active container of seat1 already" <<<"$out" ||
	fail "switch to the active container: $out"
[ "$(cat "$work/d/state/state")" = "$state_before" ] || fail "a refused request changed the state"
if out=$(sa d --libseat-protocol 0.8 register deskX 2 2>&1); then
	fail "a bad libseat protocol was accepted: $out"
fi
grep -q "invalid libseat protocol" <<<"$out" || fail "libseat protocol refusal: $out"

# 20 rounds with both clients live: each is disabled and enabled in turn, in order.
for i in $(seq 20); do
	if [ $((i % 2)) -eq 1 ]; then to=deskA; else to=deskB; fi
	sa d switch seat1 "$to" >/dev/null || fail "round $i: switch to $to"
done
wait_until "deskA's last disable" has_events deskA disable 11
wait_until "deskB's last enable" has_events deskB enable 11
expected_a="" expected_b="enable "
for i in $(seq 11); do expected_a+="enable disable "; done
for i in $(seq 10); do expected_b+="disable enable "; done
[ "$(events deskA)" = "$expected_a" ] || fail "deskA's events out of order: $(events deskA)"
[ "$(events deskB)" = "$expected_b" ] || fail "deskB's events out of order: $(events deskB)"
can_use deskB
cannot_use deskA

# 1,000 switches with both clients live: the daemon holds as many fds as before. (The
# sanitizer build does fewer: SEATD_NS_TEST_SWITCHES.)
switches=${SEATD_NS_TEST_SWITCHES:-1000}
fds_before=$(fds)
enables_a=$(n_events deskA enable)
enables_b=$(n_events deskB enable)
start=$(date +%s)
for i in $(seq $((switches / 2))); do
	sa d switch seat1 deskA >/dev/null || fail "switch $i to deskA"
	sa d switch seat1 deskB >/dev/null || fail "switch $i to deskB"
done
echo "$switches switches in $(($(date +%s) - start)) s"
wait_until "deskB's last enable" has_events deskB enable $((enables_b + switches / 2))
[ "$(n_events deskA enable)" -eq $((enables_a + switches / 2)) ] || fail "deskA missed enables"
[ "$(fds)" -eq "$fds_before" ] || fail "the daemon had $fds_before fds, now $(fds)"
[ "$(status_field d switches)" -eq $((switches + 21)) ] ||
	fail "switches counted: $(status_field d switches)"
can_use deskB
cannot_use deskA

# A client that never acknowledges is forced once the timeout (2 s) passes.
desk deskC --no-ack
register deskC || fail "register deskC"
out=$(sa d switch seat1 deskC) || fail "switch to deskC (not attached yet): $out"
wait_until "deskC is enabled" has_events deskC enable 1
out=$(sa d switch seat1 deskA) || fail "switch away from deskC: $out"
grep -q "seat1 switched from deskC to deskA (forced" <<<"$out" || fail "not forced: $out"
grep -qx "disable ignored" "$work/deskC.out" || fail "deskC was not told to disable"
[ "$(sa d --json switch seat1 deskC | jq -r .forced)" = no ] || fail "deskA did not acknowledge"
wait_until "deskA is disabled" has_events deskA disable $((enables_a + switches / 2 + 1))
[ "$(status_field d switches_forced)" -eq 1 ] || fail "forced switches: $(status_field d switches_forced)"
wait_until "the forced switch was announced" jq -se 'any(.[]; .action == "switch" and
	.container == "deskA" and .from == "deskC" and .forced == "yes")' "$work/monitor.out"

# While a switch waits, the seat refuses other changes (EBUSY-like: exit 1, try again).
switching() {
	sa d --json seats | jq -e '.[] | select(.name == "seat1") | .switching == "yes"' >/dev/null
}
sa d switch seat1 deskB >"$work/switch-bg.out" 2>&1 &
bg=$!
wait_until "the switch waits for deskC" switching
for busy in "switch seat1 deskA" "detach seat1 deskC" "detach seat1"; do
	if out=$(sa d $busy 2>&1); then
		fail "'$busy' during a switch succeeded: $out"
	fi
	grep -q "seat1 is switching containers; try again" <<<"$out" || fail "busy: $out"
done
# The container that has the seat dies mid-switch: the switch goes on, unforced.
kill -KILL "$deskC_pid"
wait $bg || fail "the switch failed when deskC died: $(cat "$work/switch-bg.out")"
grep -qx "seat1 switched from deskC to deskB" "$work/switch-bg.out" ||
	fail "switch after deskC died: $(cat "$work/switch-bg.out")"
active_is deskB || fail "deskB is not active"

# The container switched to dies mid-switch: the switch fails, the seat stays where it was.
desk deskD --no-ack
register deskD || fail "register deskD"
sa d switch seat1 deskD >/dev/null || fail "switch to deskD"
wait_until "deskD is enabled" has_events deskD enable 1
sa d switch seat1 deskA >"$work/switch-bg.out" 2>&1 &
bg=$!
wait_until "the switch waits for deskD" switching
kill -KILL "$deskA_pid"
if wait $bg; then
	fail "a switch to a container that died succeeded: $(cat "$work/switch-bg.out")"
fi
grep -q "seat1 not switched to deskA: it exited during the switch; deskD keeps it" \
	"$work/switch-bg.out" || fail "failed switch: $(cat "$work/switch-bg.out")"
active_is deskD || fail "deskD lost the seat: $(sa d seats)"
grep -qx "active	seat1	deskD" "$work/d/state/state" || fail "state: $(cat "$work/d/state/state")"
wait_until "deskD is enabled again" has_events deskD enable 2
can_use deskD
kill -0 "${daemons[d]}" || fail "the daemon died"

# Detaching the active container hands the seat to the first other one.
out=$(sa d detach seat1 deskD) || fail "detach deskD: $out"
grep -qx "seat1 detached from deskD; deskA has it now" <<<"$out" || fail "detach: $out"

# The decisions survive a restart; a state file from before several containers loads.
kill "${daemons[d]}"
wait "${daemons[d]}" || fail "the daemon did not exit cleanly"
unset 'daemons[d]'
start_daemon d --sysfs "$sysfs" --source kernel
sa d --json seats | jq -e '.[] | select(.name == "seat1") |
	.container == "deskA" and .containers == ["deskA", "deskB", "deskC"]' >/dev/null ||
	fail "after a restart: $(sa d --json seats)"
mkdir -p "$work/old/state"
printf 'seat\tseat5\nattach\tseat5\tdesk1\ndetach\tseat1\n' >"$work/old/state/state"
cp "$work/d/seats.conf" "$work/old/"
start_daemon old --sysfs "$sysfs" --source kernel
sa old --json seats | jq -e '(.[] | select(.name == "seat5") | .container == "desk1" and
	.containers == ["desk1"]) and (.[] | select(.name == "seat1") | .container == null and
	.containers == [])' >/dev/null || fail "an old state file: $(sa old --json seats)"
[ ! -e "$work/old/state/state.broken" ] || fail "an old state file did not load whole"
echo "ok: switching between containers, in order, forced, busy, mid-switch deaths, persistence"
