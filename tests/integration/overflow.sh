#!/bin/bash
# Lost events: when the event socket overflows (ENOBUFS), the daemon rescans sysfs and
# reconciles its table, and says so once. The daemon is stopped while the hotplug of the
# recording is injected into a small receive buffer; the devices must still come and go.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar
in_own_netns "$@"
unpack_fixture

expected="$(dirname "$0")/lab-2seat.devices.tsv"
usb1="$sysfs/devices/pci0000:00/0000:00:07.0/usb1/1-1"
listed() {
	sa d --json devices |
		jq -r '.[] | [.syspath, .kind, (.devnum // "-"), (.devnode // "-"), (.id_path // "-")] | @tsv'
}
expect_all() { grep -v '^#' "$expected" | cut -f1-5; } # this daemon has no seats
expect_boot() { expect_all | grep -Ev '/1-1\.[34]/'; }
lists() { diff <(listed) <("$1") >/dev/null; }
overflows() { [ "$(status_field d overflows)" -ge "$1" ]; }

mkdir "$work/unplugged"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
start_daemon d --sysfs "$sysfs" --source kernel --receive-buffer 1024
lists expect_boot || fail "coldplug differs from the recording"
plug=$("$UEVENT_INJECT" find "$uevents" add /devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3)
unplug=$("$UEVENT_INJECT" find "$uevents" remove \
	/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/input6::numlock)

# Plug while the daemon sleeps: most events are lost, the rescan finds the devices.
kill -STOP "${daemons[d]}"
mv "$work/unplugged/1-1.3" "$work/unplugged/1-1.4" "$usb1/"
"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
kill -CONT "${daemons[d]}"
wait_until "the overflow is noticed" overflows 1
wait_until "the rescan lists the hotplugged devices" lists expect_all

# Unplug the same way: the rescan drops them.
kill -STOP "${daemons[d]}"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
"$UEVENT_INJECT" replay "$uevents" "$unplug"
kill -CONT "${daemons[d]}"
wait_until "the second overflow is noticed" overflows 2
wait_until "the rescan drops the unplugged devices" lists expect_boot
[ "$(grep -c 'event socket overflowed' "$work/d.log")" -eq 1 ] ||
	fail "the overflow was not logged exactly once"
kill -0 "${daemons[d]}" || fail "the daemon died"
echo "ok: $(status_field d overflows) overflows recovered by rescans, logged once"
