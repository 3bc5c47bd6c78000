#!/bin/bash
# Compositors outlive the daemon: under a service manager with a file descriptor store (here
# tests/tools/fd-store.py, which keeps and hands back fds as systemd documents it; the seat
# lab's boot scenario does the same under systemd itself), each libseat client's connection
# and its state with the seat are stored, and a daemon started again takes them over. Two
# real unprivileged containers on seat1 of the recorded host, each running the real libseat
# as a compositor does: after SIGKILL the one that had the seat still has it, without a
# second enable, and a switch disables it and enables the other; after SIGTERM the switch
# back works too. A client that goes is taken out of the store. (The recorded host has no
# hardware behind its nodes, so no device is ever open here: the lab covers the devices.)
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar python3
in_own_netns "$@"
unpack_fixture
keyboard_gpu_config d
. "$(dirname "$0")/desk.sh"
FD_STORE=$(dirname "$0")/../tools/fd-store.py

# The daemon under the store; daemons[d] is the store, which ends with the daemon's status.
mkdir -p "$work/d"
"$FD_STORE" "$work/d.pid" "$work/store.log" -- "$SEATD_NS" --run-dir "$work/d" \
	--state-dir "$work/d/state" --config "$work/d/seats.conf" --sysfs "$sysfs" \
	--source kernel >"$work/d.log" 2>&1 &
daemons[d]=$!
daemon_pid() { cat "$work/d.pid" 2>/dev/null; }
n_started() { grep -c '^start ' "$work/store.log" || true; }
wait_until "seatd-ns listens" grep -q 'listening on' "$work/d.log"
# The names the store holds now; stored NAME: it holds an fd of that name.
store_names() {
	awk '$1 == "put" { c[$2]++ } $1 == "remove" { delete c[$2] }
		END { for (n in c) print n }' "$work/store.log" | sort
}
stored() { store_names | grep -qxF "$1"; }
# restart SIGNAL: the daemon gets it; the store starts the next one, which takes over.
restart() {
	local before
	before=$(n_started)
	kill "-$1" "$(daemon_pid)"
	wait_until "the store started seatd-ns again" eval '[ "$(n_started)" -gt "$before" ]'
	wait_until "the new seatd-ns listens" eval \
		'[ "$(grep -c "listening on" "$work/d.log")" -gt "$before" ]'
}

desk deskA
desk deskB
register deskA || fail "register deskA"
register deskB || fail "register deskB"
sa d attach seat1 deskA >/dev/null || fail "attach deskA"
sa d attach seat1 deskB >/dev/null || fail "attach deskB"
wait_until "deskA is enabled" has_events deskA enable 1
wait_until "deskB's client opened the seat" grep -qx "seat seat1" "$work/deskB.out"

# What the store holds: each connection, named with where its client is with the seat.
a=libseat+deskA+seat1+c1 b=libseat+deskB+seat1+c1
wait_until "the store holds deskA's client, enabled" stored "$a.enabled"
wait_until "the store holds deskB's client, waiting" stored "$b.opened"
[ "$(store_names | tr '\n' ' ')" = "$a.enabled $b.opened " ] ||
	fail "the store holds: $(store_names)"

# SIGKILL: the clients stay connected, and the new daemon takes them over as they were.
restart KILL
wait_until "the new daemon took over deskA's client" \
	grep -q "libseat: seat1: took over 1 clients from the daemon before, one of them owning the seat" "$work/d.log"
wait_until "both containers are re-adopted" \
	eval '[ "$(grep -c "re-adopted" "$work/d.log")" -ge 2 ]'
[ "$(events deskA)" = "enable " ] || fail "deskA saw more than its enable: $(events deskA)"
[ "$(n_events deskB 'enable|disable')" -eq 0 ] || fail "deskB was enabled: $(events deskB)"
stored "$a.enabled" || fail "deskA's state left the store: $(tail "$work/store.log")"

# A switch with the clients taken over: deskA acknowledges its disable, deskB is enabled.
out=$(sa d switch seat1 deskB) || fail "switch to deskB after the restart: $out"
grep -qx "seat1 switched from deskA to deskB" <<<"$out" || fail "switch: $out"
[ "$(events deskA)" = "enable disable " ] || fail "deskA saw: $(events deskA)"
wait_until "deskB is enabled" has_events deskB enable 1
wait_until "deskA's client is stored disabled" stored "$a.disabled"
stored "$a.enabled" && fail "deskA is stored enabled too"

# SIGTERM (systemctl restart): deskA stays disabled, deskB enabled; and back.
restart TERM
wait_until "both containers are re-adopted again" \
	eval '[ "$(grep -c "re-adopted" "$work/d.log")" -ge 4 ]'
out=$(sa d switch seat1 deskA) || fail "switch back to deskA after the restart: $out"
[ "$(events deskB)" = "enable disable " ] || fail "deskB saw: $(events deskB)"
wait_until "deskA is enabled again" has_events deskA enable 2
[ "$(events deskA)" = "enable disable enable " ] || fail "deskA saw: $(events deskA)"

# A client that goes leaves the store.
stored "$b.disabled" || fail "deskB's client is not stored disabled: $(store_names)"
kill "$(pid_of deskB)"
wait_until "deskB's connection left the store" eval '! stored "$b.disabled"'
[ "$(store_names)" = "$a.enabled" ] || fail "the store holds: $(store_names)"
kill -0 "$(daemon_pid)" || fail "the daemon died"
echo "ok: clients taken over after SIGKILL and SIGTERM; switches with them; the store follows"
