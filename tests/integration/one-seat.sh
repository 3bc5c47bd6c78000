#!/bin/bash
# A container serves one seat: its /run/seatd.sock, its devices and its DRM master are that
# seat's. Attaching or switching a container to a second seat is refused with a clear message,
# and so is any change that involves a container while a switch hands it from or to a seat
# (a switch's end would otherwise act on an endpoint that the change replaced). Two seats of
# the recorded host, real unprivileged containers running the real libseat.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar
in_own_netns "$@"
unpack_fixture
two_seat_config d
sed -i '/^container = /d' "$work/d/seats.conf"
. "$(dirname "$0")/desk.sh"

refused() {
	local out
	if out=$(sa d "$@" 2>&1); then
		fail "'$*' succeeded: $out"
	fi
	echo "$out"
}
switching() { sa d --json seats | jq -e '.[] | select(.name == "seat1") | .switching == "yes"'; }
active_of() { sa d --json seats | jq -r --arg s "$1" '.[] | select(.name == $s) | .container'; }

desk deskA --no-ack
desk deskB
desk deskC
start_daemon d --sysfs "$sysfs" --source kernel
for c in deskA deskB deskC; do register $c || fail "register $c"; done
sa d attach seat1 deskA >/dev/null || fail "attach seat1 deskA"
wait_until "deskA is enabled" has_events deskA enable 1

# A second seat for a container that has one: refused, seat1 stays as it was.
out=$(refused attach seat2 deskA)
grep -q "deskA is attached to seat1: a container serves one seat" <<<"$out" ||
	fail "attach to a second seat: $out"
out=$(refused switch seat2 deskA)
grep -q "deskA is attached to seat1" <<<"$out" || fail "switch to a second seat: $out"
[ "$(active_of seat2)" = null ] || fail "seat2 got a container: $(sa d seats)"
[ -c "/proc/$deskA_pid/root/dev/dri/card0" ] || fail "deskA lost seat1's GPU"
[ ! -e "/proc/$deskA_pid/root/dev/dri/card1" ] || fail "deskA got seat2's GPU"

# While seat1 switches from deskA (which does not acknowledge: the switch waits 2 s) to deskB,
# neither may be attached elsewhere.
sa d switch seat1 deskB >"$work/switch.out" 2>&1 &
bg=$!
wait_until "the switch waits for deskA" switching
for c in deskA deskB; do
	out=$(refused attach seat2 $c)
	grep -q "$c is in a switch of seat1; try again" <<<"$out" || fail "attach $c mid-switch: $out"
done
out=$(refused switch seat2 deskB)
grep -q "deskB is in a switch of seat1" <<<"$out" || fail "switch deskB mid-switch: $out"
wait $bg || fail "the switch failed: $(cat "$work/switch.out")"
grep -q "seat1 switched from deskA to deskB (forced" "$work/switch.out" ||
	fail "switch: $(cat "$work/switch.out")"
[ "$(active_of seat1)" = deskB ] || fail "seat1: $(sa d seats)"
wait_until "deskB is enabled" has_events deskB enable 1

# deskA, still attached to seat1 (inactive), may not take seat2; once detached it may.
refused attach seat2 deskA >/dev/null
sa d detach seat1 deskA >/dev/null || fail "detach seat1 deskA"
sa d attach seat2 deskA >/dev/null || fail "attach seat2 deskA once it has no seat"
[ "$(active_of seat2)" = deskA ] || fail "seat2: $(sa d seats)"
wait_until "deskA has seat2's GPU" test -c "/proc/$deskA_pid/root/dev/dri/card1"
[ ! -e "/proc/$deskA_pid/root/dev/dri/card0" ] || fail "deskA kept seat1's GPU"
sa d attach seat2 deskC >/dev/null || fail "a second container for seat2"

# Two seats of the configuration naming one container: refused with file and line.
printf '[seat seat1]\ncontainer = deskA\n\n[seat seat2]\ncontainer = deskA\n' >"$work/two.conf"
if out=$("$SEATD_NS" --config "$work/two.conf" --check-config 2>&1); then
	fail "a configuration giving deskA two seats passed: $out"
fi
grep -q "two.conf:5: container deskA is the container of seat1 already" <<<"$out" ||
	fail "configuration error: $out"
kill -0 "${daemons[d]}" || fail "the daemon died"
echo "ok: a container serves one seat, also while a switch hands it over"
