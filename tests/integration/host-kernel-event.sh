#!/bin/bash
# A real kernel event reaches a daemon in the host's network namespace: writing "change" to
# a device's uevent file in the real /sys makes the kernel emit a uevent, which the daemon
# receives, trusts (it comes from the kernel) and logs.
. "$(dirname "$0")/lib.sh"
need_root
need jq

device=/devices/virtual/mem/null
[ -w "/sys$device/uevent" ] || { echo "SKIP: /sys$device/uevent is not writable" >&2; exit $SKIP; }

start_daemon host --source kernel --log-level debug
before=$(status_field host events_received)
echo change >"/sys$device/uevent"
wait_until "the daemon logged the kernel's change event" \
	grep -q "change $device (mem)" "$work/host.log"
[ "$(status_field host events_received)" -gt "$before" ] || fail "event not counted"
[ "$(status_field host events_foreign)" -eq 0 ] || fail "the kernel's event was taken as foreign"
[ "$(status_field host events_malformed)" -eq 0 ] || fail "the kernel's event did not parse"
echo "ok: the kernel's change of $device reached the daemon"
