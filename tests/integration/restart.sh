#!/bin/bash
# A restart does not take the desktops down, and leaves no container more than its seat gives
# it: the registrations are kept in RUN_DIR/registrations, and a daemon started again (after
# SIGKILL, or after SIGTERM, which leaves the containers as they are) re-adopts every container
# that still runs, the same process by its start time. A re-adopted container keeps its nodes
# without hearing them added again; what its seat no longer gives it (the configuration
# changed while the daemon was down) goes: the event, the node and the access through its
# device program. A container that exited meanwhile, a pid that is another process now and a
# broken line are forgotten with a message. Two seats of the recorded host, real
# unprivileged containers running `udevadm monitor`.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar udevadm stat nsenter
in_own_netns "$@"
unpack_fixture
. "$(dirname "$0")/monitored.sh"

kbd1=/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.1/1-1.1:1.0/0003:0627:0001.0001/input/input2/event1
kbd2=/devices/pci0000:00/0000:00:07.0/usb1/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002/input/input3/event2
has() { [ -c "/proc/$(eval echo "\$${1}_pid")/root/dev/$2" ]; }
n_heard() { grep -c "^UDEV .* $2 *$3 " "$work/$1.udev" || true; }
registrations() { cut -d' ' -f1 "$work/d/registrations" | sort | tr '\n' ' '; }
# restart HOW: stops the daemon (KILL or TERM) and starts it again with the same run dir.
restart() {
	local pid=${daemons[d]} status=0
	kill "-$1" "$pid"
	wait "$pid" || status=$?
	unset 'daemons[d]'
	if [ "$1" = TERM ] && [ $status -ne 0 ]; then
		fail "the daemon did not exit cleanly on SIGTERM ($status): $(tail "$work/d.log")"
	fi
	mv "$work/d.log" "$work/d.log.$((++runs))"
	start_daemon d --sysfs "$sysfs" --source kernel
}
runs=0

two_seat_config d
container desk1
container desk2
start_daemon d --sysfs "$sysfs" --source kernel
sa d register desk1 "$desk1_pid" >/dev/null || fail "register desk1"
sa d register desk2 "$desk2_pid" >/dev/null || fail "register desk2"
wait_until "desk1 hears its keyboard" heard desk1 add "$kbd1"
wait_until "desk2 hears its keyboard" heard desk2 add "$kbd2"
[ "$(registrations)" = "desk1 desk2 " ] || fail "registrations: $(cat "$work/d/registrations")"
card0_adds=$(n_heard desk1 add /devices/pci0000:00/0000:00:05.0/drm/card0)
[ "$card0_adds" -eq 1 ] || fail "desk1 heard card0 added $card0_adds times"

# SIGKILL, and the keyboards change seats while no daemon runs.
kill -KILL "${daemons[d]}"
wait "${daemons[d]}" 2>/dev/null || true
unset 'daemons[d]'
has desk1 input/event1 || fail "desk1 lost its keyboard node when the daemon was killed"
sed -i 's/usb-0:1$/usb-0:X/; s/usb-0:2$/usb-0:1/; s/usb-0:X$/usb-0:2/' "$work/d/seats.conf"
mv "$work/d.log" "$work/d.log.$((++runs))"
start_daemon d --sysfs "$sysfs" --source kernel
wait_until "both containers are re-adopted" \
	eval '[ "$(grep -c "re-adopted" "$work/d.log")" -eq 2 ]'
wait_until "desk1 hears its old keyboard go" heard desk1 remove "$kbd1"
wait_until "desk1 hears its new keyboard" heard desk1 add "$kbd2"
wait_until "desk2 hears its new keyboard" heard desk2 add "$kbd1"
! has desk1 input/event1 || fail "desk1 kept the keyboard that is seat2's now"
has desk1 input/event2 || fail "desk1 has no node of seat1's keyboard"
has desk2 input/event1 || fail "desk2 has no node of seat2's keyboard"
has desk1 dri/card0 || fail "desk1 lost its GPU node"
[ "$(n_heard desk1 add /devices/pci0000:00/0000:00:05.0/drm/card0)" -eq "$card0_adds" ] ||
	fail "desk1 heard its GPU added again after the restart"
# Its device program is the new daemon's: the keyboard it lost is refused even through a node
# it can reach; the one it got passes the check (ENXIO or ENODEV: no hardware behind it).
chmod 0711 "$work"
mkdir -m 0755 "$work/devnodes"
mknod -m 0666 "$work/devnodes/kbd1" c 13 65
case "$(inside desk1 "( : <$work/devnodes/kbd1 ) 2>&1")" in
*"Operation not permitted"*) ;;
*) fail "desk1 may still open seat2's keyboard: $(inside desk1 ": <$work/devnodes/kbd1")" ;;
esac
case "$(inside desk1 "( : </dev/input/event2 ) 2>&1")" in
*"No such device"*) ;;
*) fail "desk1 cannot pass the check for its keyboard: $(inside desk1 ": </dev/input/event2")" ;;
esac
# A new libseat client finds the endpoint of its seat.
out=$(inside desk1 "LIBSEAT_BACKEND=seatd $LIBSEAT_CLIENT")
grep -qx "seat seat1 enabled" <<<"$out" || fail "libseat in desk1 after the restart: $out"
[ "$(sa d --json seats | jq -r '.[] | select(.name == "seat1") | .container')" = desk1 ] ||
	fail "seat1 lost its container: $(sa d seats)"

# SIGTERM leaves the containers as they are, for the next start.
restart TERM
grep -q "2 containers keep their devices" "$work/d.log.$runs" ||
	fail "the daemon did not say it leaves the containers: $(tail "$work/d.log.$runs")"
wait_until "both containers are re-adopted again" \
	eval '[ "$(grep -c "re-adopted" "$work/d.log")" -eq 2 ]'
has desk1 input/event2 || fail "desk1 lost its keyboard over a graceful restart"
[ "$(n_heard desk1 add "$kbd2")" -eq 1 ] || fail "desk1 heard its keyboard added again"

# While no daemon runs: desk2 exits, a line names a pid that is another process now (no
# start time of a process is 1), and a line is broken.
kill -KILL "${daemons[d]}"
wait "${daemons[d]}" 2>/dev/null || true
unset 'daemons[d]'
kill -KILL "$desk2_pid"
sleep 60 &
pids+=($!)
reused=$!
echo "reused $reused 1 legacy" >>"$work/d/registrations"
echo "broken line" >>"$work/d/registrations"
mv "$work/d.log" "$work/d.log.$((++runs))"
start_daemon d --sysfs "$sysfs" --source kernel
wait_until "desk1 is re-adopted" grep -q "container desk1 re-adopted" "$work/d.log"
# The daemon goes through the file in order and says READY (here: answers) after the last.
wait_until "the daemon answers" sa d status
grep -q "container desk2 (pid $desk2_pid) is no longer running; forgotten" "$work/d.log" ||
	fail "desk2's exit was not noticed: $(cat "$work/d.log")"
grep -q "container reused (pid $reused) is no longer running" "$work/d.log" ||
	fail "a reused pid was not refused: $(cat "$work/d.log")"
grep -q "registrations:4: invalid pid; line skipped" "$work/d.log" ||
	fail "the broken line was not reported: $(cat "$work/d.log")"
[ "$(registrations)" = "desk1 " ] || fail "registrations: $(cat "$work/d/registrations")"
[ ! -e "$work/d/nodes/desk2" ] || fail "desk2's nodes stayed"
kill -0 "${daemons[d]}" || fail "the daemon died"
echo "PASS: re-adoption after SIGKILL and SIGTERM, stale grants taken back, the gone forgotten"
