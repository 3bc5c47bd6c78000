#!/bin/bash
# The daemon in its own network namespace, with the recorded host's sysfs as its sysfs root,
# fed the recorded uevents through the kernel: it lists every seat device with the right
# kind, devnum and ID_PATH, and follows the hotplug of the keyboard at port 1.3 and the
# audio device at port 1.4 in and out again.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar
in_own_netns "$@"
unpack_fixture

expected="$(dirname "$0")/lab-2seat.devices.tsv"
hotplugged='/1-1\.[34]/'
usb1="$sysfs/devices/pci0000:00/0000:00:07.0/usb1/1-1"

# listed NAME: the daemon's devices in the expected file's format.
listed() {
	sa "$1" --json devices |
		jq -r '.[] | [.syspath, .kind, (.devnum // "-"), (.devnode // "-"), (.id_path // "-")] | @tsv'
}
expect_all() { grep -v '^#' "$expected"; }
expect_boot() { expect_all | grep -Ev "$hotplugged"; }
lists() { diff <(listed "$1") <("$2"); }

# The recording's sysfs was taken with the hotplugged devices present; the host boots without.
mkdir "$work/unplugged"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"

start_daemon d --sysfs "$sysfs" --source kernel
lists d expect_boot || fail "coldplug: devices differ from the fixture (diff above)"
[ "$(listed d | wc -l)" -eq 23 ] || fail "coldplug should list 23 seat devices"

sa d --json monitor >"$work/monitor.out" &
pids+=($!)
wait_until "monitor subscribed" test "$(status_field d clients)" -ge 1

plug=$("$UEVENT_INJECT" find "$uevents" add /devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3)
unplug=$("$UEVENT_INJECT" find "$uevents" remove \
	/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/input6::numlock)

# Boot: every device is announced again; nothing changes.
"$UEVENT_INJECT" replay "$uevents" 0 "$plug"
wait_until "boot events are processed" \
	test "$(status_field d events_received)" -ge "$plug"
lists d expect_boot || fail "replaying boot events changed the table"

# Plug: the kernel creates the sysfs entries, then announces them.
mv "$work/unplugged/1-1.3" "$work/unplugged/1-1.4" "$usb1/"
"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
wait_until "hotplugged devices are listed" lists d expect_all

# Unplug: sysfs entries go, then the removals are announced.
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
"$UEVENT_INJECT" replay "$uevents" "$unplug"
wait_until "unplugged devices are gone" lists d expect_boot

# The monitor saw exactly the hotplugged devices come and go, and the new card initialized.
jq -r 'select(.action != "change") | [.action, .syspath] | @tsv' "$work/monitor.out" \
	>"$work/adds-removes"
expected_adds=$(expect_all | grep -E "$hotplugged" | cut -f1 | sort)
diff <(awk '$1 == "add" { print $2 }' "$work/adds-removes" | sort) <(echo "$expected_adds") ||
	fail "monitor: added devices differ"
diff <(awk '$1 == "remove" { print $2 }' "$work/adds-removes" | sort) <(echo "$expected_adds") ||
	fail "monitor: removed devices differ"
jq -se 'any(.[]; .action == "change" and .kind == "sound-card" and
	(.syspath | endswith("/1-1.4:1.0/sound/card2")) and .sound_initialized == "1")' \
	"$work/monitor.out" >/dev/null || fail "monitor: card2 was never initialized"
jq -se 'any(.[]; .action == "add" and .devnode == "/dev/input/event5" and .kind == "keyboard"
	and .id_path == "pci-0000:00:07.0-usb-0:1.3:1.0" and
	(.input_class | index("ID_INPUT_KEYBOARD") != null))' "$work/monitor.out" >/dev/null ||
	fail "monitor: the keyboard at port 1.3 was not announced as a keyboard at its port"

[ "$(status_field d events_malformed)" -eq 0 ] || fail "recorded events counted as malformed"
kill -0 "$d_pid" || fail "daemon died"
echo "ok: coldplug, boot replay and the hotplug of port 1.3 and 1.4 match the recording"
