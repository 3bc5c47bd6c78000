#!/bin/bash
# Thousands of garbage, truncated, corrupted and oversized messages, injected through the
# kernel (they arrive as kernel events), multicast by an unprivileged-looking sender, and sent
# as udev messages to a daemon listening to udev: every daemon survives, counts them, and its
# device table does not change.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar
in_own_netns "$@"
unpack_fixture

start_daemon kernel --sysfs "$sysfs" --source kernel
start_daemon udev --sysfs "$sysfs" --source udev
sa kernel --json devices >"$work/kernel.before"
sa udev --json devices >"$work/udev.before"
[ "$(jq length "$work/kernel.before")" -eq 28 ] || fail "unexpected coldplug (kernel source)"
[ "$(jq length "$work/udev.before")" -eq 28 ] || fail "unexpected coldplug (udev source)"

"$UEVENT_INJECT" hostile "$uevents" 4000 1 kernel
"$UEVENT_INJECT" hostile "$uevents" 1000 2 multicast
"$UEVENT_INJECT" hostile "$uevents" 2000 3 udev

wait_until "the kernel-source daemon counted every injected message as malformed" \
	test "$(status_field kernel events_malformed)" -eq 4000
wait_until "it counted every multicast message as foreign" \
	test "$(status_field kernel events_foreign)" -eq 1000
wait_until "the udev-source daemon counted every message as malformed" \
	test "$(status_field udev events_malformed)" -eq 2000

kill -0 "$kernel_pid" && kill -0 "$udev_pid" || fail "a daemon died"
diff <(sa kernel --json devices) "$work/kernel.before" || fail "kernel daemon's table changed"
diff <(sa udev --json devices) "$work/udev.before" || fail "udev daemon's table changed"
[ "$(status_field kernel events_applied)" -eq 0 ] || fail "a hostile message was applied"
grep -q 'dropped a malformed kernel event' "$work/kernel.log" || fail "no log line for drops"
[ "$(grep -c 'dropped a malformed' "$work/kernel.log")" -le 40 ] ||
	fail "malformed events are not rate-limited in the log"
echo "ok: 7000 hostile messages dropped, tables unchanged"
