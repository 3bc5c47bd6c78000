#!/bin/bash
# Seats on the recorded host: a two-seat config (seat1 = the hub at port 1 and the first GPU,
# seat2 = the hub at port 2 and the second GPU) puts every device where its port says,
# including the keyboard hotplugged at port 1.3; runtime assignments by port, node and sysfs
# path beat the config and survive SIGKILL and restart; SIGHUP and `reload` apply a new
# config and refuse a broken one; non-root callers change nothing.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar setpriv
in_own_netns "$@"
unpack_fixture

usb1="$sysfs/devices/pci0000:00/0000:00:07.0/usb1/1-1"
mkdir "$work/unplugged"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"

two_seat_config d
daemon_args=(--sysfs "$sysfs" --source kernel)
start_daemon d "${daemon_args[@]}"

# seats_of: "devnode-or-sysname seat" lines, sorted.
seats_of() {
	sa d --json devices | jq -r '.[] | "\(.devnode // (.syspath | split("/") | last)) \(.seat)"' | sort
}
# seat_is NODE SEAT: whether the device is on that seat now.
seat_is() {
	[ "$(seats_of | awk -v n="$1" '$1 == n { print $2 }')" = "$2" ]
}
# expect_seat NODE SEAT
expect_seat() {
	local got
	got=$(seats_of | awk -v n="$1" '$1 == n { print $2 }')
	[ "$got" = "$2" ] || fail "$1 is on '${got}', expected $2"
}

for n in /dev/input/event1 /dev/input/event3 /dev/hidraw0 /dev/hidraw2 /dev/dri/card0 \
	/dev/dri/renderD128; do
	expect_seat "$n" seat1
done
for n in /dev/input/event2 /dev/input/event4 /dev/hidraw1 /dev/hidraw3 /dev/dri/card1 \
	/dev/dri/renderD129 card1 /dev/snd/controlC1 /dev/snd/pcmC1D0p; do
	expect_seat "$n" seat2
done
for n in /dev/input/event0 card0 /dev/snd/controlC0 /dev/snd/timer; do
	expect_seat "$n" seat0
done
sa d --json seats | jq -e '[.[] | select(.name == "seat1")][0] |
	.container == "desk1" and (.devices.keyboard | length) == 1' >/dev/null ||
	fail "seats: seat1 does not show desk1 and its keyboard"

# Hotplug: the keyboard at port 1.3 and the audio device at port 1.4 land on seat1 by port.
sa d --json monitor >"$work/monitor.out" &
pids+=($!)
wait_until "monitor subscribed" test "$(status_field d clients)" -ge 1
plug=$("$UEVENT_INJECT" find "$uevents" add /devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3)
unplug=$("$UEVENT_INJECT" find "$uevents" remove \
	/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/input6::numlock)
mv "$work/unplugged/1-1.3" "$work/unplugged/1-1.4" "$usb1/"
"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
wait_until "the hotplugged keyboard is on seat1" seat_is /dev/input/event5 seat1
expect_seat /dev/input/event5 seat1
expect_seat card2 seat1
expect_seat /dev/snd/pcmC2D0p seat1
jq -se 'any(.[]; .action == "add" and .devnode == "/dev/input/event5" and .seat == "seat1")' \
	"$work/monitor.out" >/dev/null || fail "monitor: event5 was not announced on seat1"

# Runtime assignments beat the config: by port (the audio device at 2.3 with its nodes),
# by node (the PS/2 keyboard, to a new seat), by sysfs path (the second GPU's card: its
# render node follows).
before=$(wc -l <"$work/monitor.out")
sa d assign pci-0000:00:07.0-usb-0:2.3 seat1 >/dev/null || fail "assign by port"
sa d assign /dev/input/event0 seat3 | grep -q "new seat" || fail "assign to a new seat"
sa d assign /sys/devices/pci0000:00/0000:00:06.0/drm/card1 seat1 >/dev/null ||
	fail "assign by sysfs path"
for n in card1 /dev/snd/controlC1 /dev/snd/pcmC1D0p /dev/dri/card1 /dev/dri/renderD129; do
	expect_seat "$n" seat1
done
expect_seat /dev/input/event0 seat3
announced() { [ $(($(wc -l <"$work/monitor.out") - before)) -ge "$1" ]; }
wait_until "every change was announced" announced 6
tail -n +$((before + 1)) "$work/monitor.out" | jq -se 'all(.[]; .action == "change")' >/dev/null ||
	fail "reassignments were not announced as changes"

# A container serves one seat: desk1 and desk2 leave seat1 and seat2 for seat3.
sa d detach seat1 >/dev/null && sa d detach seat2 >/dev/null || fail "detach seat1, seat2"
sa d attach seat3 desk2 >/dev/null || fail "attach seat3"
wait_until "the attachment was announced" jq -se \
	'any(.[]; .action == "attach" and .seat == "seat3" and .container == "desk2")' "$work/monitor.out"
sa d detach seat3 >/dev/null || fail "detach seat3"
wait_until "the detachment was announced" jq -se \
	'any(.[]; .action == "detach" and .seat == "seat3")' "$work/monitor.out"

# Errors change nothing and exit 1.
state_before=$(cat "$work/d/state/state")
for bad in "assign /dev/input/event99 seat1" "assign /dev/input/event1 Seat1" \
	"assign /dev/input/event1 seat1/x" "unassign /dev/input/event1" "attach seat7 desk7" \
	"attach seat1 ../etc" "attach seat3 desk9" "detach seat0" "switch seat3 desk9" \
	"switch seat9 desk1" "detach seat3 desk9" \
	"assign pci-0000:00:07.0-usb-0:9 seat1"; do
	if out=$(sa d $bad 2>&1); then
		fail "'$bad' succeeded: $out"
	fi
done
[ "$(cat "$work/d/state/state")" = "$state_before" ] || fail "a refused request changed the state"

# Non-root callers are refused, and change nothing.
chmod 0711 "$work" "$work/d"
if out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$SEAT_ASSIGN" --socket "$work/d/control.sock" assign /dev/input/event1 seat2 2>&1); then
	fail "a non-root caller could assign: $out"
fi
grep -q "permission denied" <<<"$out" || fail "non-root refusal: $out"
expect_seat /dev/input/event1 seat1

# Persistence: SIGKILL right after each acknowledged change, restart, nothing lost.
restart() {
	kill -KILL "${daemons[d]}" 2>/dev/null || true
	wait "${daemons[d]}" 2>/dev/null || true
	unset 'daemons[d]'
	start_daemon d "${daemon_args[@]}"
}
restart
expect_seat /dev/input/event0 seat3
expect_seat card1 seat1
expect_seat /dev/dri/renderD129 seat1
for i in 1 2 3; do
	sa d switch seat3 "desk$((i % 2 + 1))" >/dev/null || fail "switch"
	restart
	sa d --json seats | jq -e --arg c "desk$((i % 2 + 1))" '.[] | select(.name == "seat3") |
		.container == $c and (.containers | any(. == $c))' >/dev/null ||
		fail "switch to desk$((i % 2 + 1)) lost across SIGKILL: $(sa d --json seats)"
done
# Many changes in flight, SIGKILL at an arbitrary moment: every acknowledged one survives.
# The one in flight at the kill may or may not have been saved; nothing older may win.
(
	for i in $(seq 200); do
		if [ $((i % 2)) -eq 0 ]; then seat=seat2; else seat=seat3; fi
		echo "try $seat"
		sa d assign /dev/input/event1 "$seat" >/dev/null 2>&1 && echo "ok $seat"
	done
) >"$work/log-assign" &
writer=$!
sleep 0.3
kill -KILL "${daemons[d]}"
wait $writer || true
acked=$(grep -c '^ok ' "$work/log-assign" || true)
echo "$acked of 200 assignments acknowledged before SIGKILL"
[ "$acked" -gt 0 ] || fail "no assignment was acknowledged before the kill"
last=$(awk '$1 == "ok" { print $2 }' "$work/log-assign" | tail -n 1)
in_flight=$(awk '$1 == "ok" { n = NR } END { print n + 1 }' "$work/log-assign")
in_flight=$(sed -n "${in_flight}p" "$work/log-assign" | awk '$1 == "try" { print $2 }')
restart
now=$(seats_of | awk '$1 == "/dev/input/event1" { print $2 }')
[ "$now" = "$last" ] || [ "$now" = "$in_flight" ] ||
	fail "after SIGKILL event1 is on $now: neither the last acknowledged ($last) nor the one in flight"
sa d unassign /dev/input/event1 >/dev/null || fail "unassign"
expect_seat /dev/input/event1 seat1

# Reload: SIGHUP applies a new config; a broken one is refused and the old one stays.
sed -i 's/^match-port = pci-0000:00:07.0-usb-0:2$/match-port = pci-0000:00:07.0-usb-0:2.1/' \
	"$work/d/seats.conf"
kill -HUP "${daemons[d]}"
wait_until "SIGHUP reload moved the tablet at port 2.2 to seat0" seat_is /dev/input/event4 seat0
expect_seat /dev/input/event2 seat2
printf '[seat seat4]\nmatch-port = pci-0000:00:07.0-usb-0:2.1\nbogus = 1\n' >>"$work/d/seats.conf"
if out=$(sa d reload 2>&1); then
	fail "a broken config was reloaded"
fi
grep -q 'seats.conf:1[0-9]: match-port "pci-0000:00:07.0-usb-0:2.1" for seat4 conflicts' <<<"$out" ||
	fail "reload error does not name the conflict: $out"
grep -q 'seats.conf:1[0-9]: unknown key "bogus"' <<<"$out" || fail "reload error: $out"
kill -HUP "${daemons[d]}"
wait_until "the refused SIGHUP is logged" grep -q "configuration not reloaded" "$work/d.log"
expect_seat /dev/input/event2 seat2
kill -0 "${daemons[d]}" || fail "daemon died"
echo "ok: seats by port, hotplug, runtime assignments, persistence, reload, refusals"
