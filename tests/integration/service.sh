#!/bin/bash
# The daemon as systemd's Type=notify service: its unit verifies (systemd-analyze), and
# through a real sd_notify socket it says
# READY=1 only once its control socket listens, the recorded host's devices are scanned and
# the saved decisions apply; STATUS= says its seats, devices and containers; a reload
# (SIGHUP, as `systemctl reload` sends) is framed by RELOADING=1 and READY=1, and a broken
# configuration is refused with file and line while the old one stays.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar python3 systemd-analyze
in_own_netns "$@"

# The unit as built, pointed at the daemon as built.
sed "s|^ExecStart=.*|ExecStart=$SEATD_NS|" "$SEATD_NS_UNIT" >"$work/seatd-ns.service"
grep -qx Type=notify "$work/seatd-ns.service" || fail "the unit is not Type=notify"
systemd-analyze verify --man=no "$work/seatd-ns.service" || fail "the unit does not verify"
unpack_fixture
two_seat_config d
# A decision saved before the start: a runtime seat, seat3, with the PS/2 keyboard.
mkdir -p "$work/d/state"
printf 'seat\tseat3\nassign\tdevice\tseat3\tplatform-i8042-serio-0\tinput\n' >"$work/d/state/state"

export NOTIFY_SOCKET="$work/notify.sock"
python3 "$(dirname "$0")/../tools/notify-listen.py" "$NOTIFY_SOCKET" "$work/notify.out" \
	"$work/d/control.sock" &
pids+=($!)
wait_until "the listener is up" test -S "$NOTIFY_SOCKET"
start_daemon d --sysfs "$sysfs" --source kernel
unset NOTIFY_SOCKET

wait_until "READY=1" grep -qx READY=1 "$work/notify.out"
grep -A1 -x READY=1 "$work/notify.out" | head -n 2 | grep -qx control=ok ||
	fail "READY=1 came before the control socket listened: $(cat "$work/notify.out")"
grep -qx "STATUS=3 seats, 28 seat devices, 0 desktop containers" "$work/notify.out" ||
	fail "no STATUS with the seats and devices: $(cat "$work/notify.out")"
# The first READY=1 came after the first STATUS, which counted the scanned devices.
[ "$(grep -n -m1 -x READY=1 "$work/notify.out" | cut -d: -f1)" -gt \
	"$(grep -n -m1 '^STATUS=' "$work/notify.out" | cut -d: -f1)" ] ||
	fail "READY=1 before the scan: $(cat "$work/notify.out")"
sa d --json devices | jq -e '.[] | select(.id_path == "platform-i8042-serio-0") |
	.seat == "seat3"' >/dev/null || fail "the saved assignment did not apply"

# A broken configuration: refused with its file and line, framed, the old one stays.
: >"$work/notify.out"
cp "$work/d/seats.conf" "$work/good.conf"
printf '\n[seat seat4]\nmatch-kind = nonsense\n' >>"$work/d/seats.conf"
kill -HUP "${daemons[d]}"
wait_until "the reload is over" grep -qx READY=1 "$work/notify.out"
grep -qx RELOADING=1 "$work/notify.out" || fail "no RELOADING=1: $(cat "$work/notify.out")"
grep -q "MONOTONIC_USEC=" "$work/notify.out" || fail "RELOADING=1 without its time"
wait_until "the error is logged" grep -q "seats.conf:12: match-kind .nonsense.: not a device kind" "$work/d.log"
grep -q "configuration not reloaded, the old one stays" "$work/d.log" || fail "refusal not logged"
[ "$(sa d --json seats | jq -r '[.[].name] | sort | join(" ")')" = "seat0 seat1 seat2 seat3" ] ||
	fail "the broken configuration changed the seats: $(sa d seats)"

# A good one: applied, and the status follows.
: >"$work/notify.out"
cp "$work/good.conf" "$work/d/seats.conf"
printf '\n[seat seat4]\nmatch-syspath = /sys/devices/platform/snd_aloop.0\n' >>"$work/d/seats.conf"
kill -HUP "${daemons[d]}"
wait_until "the new status" grep -qx "STATUS=4 seats, 28 seat devices, 0 desktop containers" \
	"$work/notify.out"
grep -qx RELOADING=1 "$work/notify.out" && grep -qx READY=1 "$work/notify.out" ||
	fail "the reload was not framed: $(cat "$work/notify.out")"
kill -0 "${daemons[d]}" || fail "the daemon died"
echo "ok: READY=1 once listening and scanned, STATUS, reloads framed, a broken one refused"
