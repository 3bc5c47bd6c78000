#!/bin/bash
# fixture-replay.sh FIXTURE: the daemon in its own network namespace, with a recorded host's
# sysfs as its sysfs root and its seats configured by port and GPU, fed the recorded uevents
# through the kernel. It lists every seat device with the right kind, devnum, ID_PATH and
# seat (FIXTURE.devices.tsv beside this script), and follows the recorded hotplug in and out
# again: the monitor announces exactly the hotplugged devices, each with its kind, port and
# seat, and each hotplugged sound card initialized.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar
in_own_netns "$@"
fixture=${1:?usage: fixture-replay.sh FIXTURE}
unpack_fixture "$fixture"

usb1=/devices/pci0000:00/0000:00:07.0/usb1
# Per fixture: the USB devices hotplugged (their directories, under usb1), the first event of
# their plug and its last one (the unplug follows), and the seats.
case $fixture in
lab-2seat)
	hotplugged=(1-1/1-1.3 1-1/1-1.4)
	plug_first=(add "$usb1/1-1/1-1.3")
	plug_last=(bind "$usb1/1-1/1-1.4")
	two_seat_config d
	;;
lab-3seat)
	hotplugged=(1-3/1-3.3 1-1/1-1.1/1-1.1.3)
	plug_first=(add "$usb1/1-3/1-3.3")
	plug_last=(bind "$usb1/1-1/1-1.1/1-1.1.3")
	mkdir -p "$work/d"
	# Each seat a hub (seat1's with a hub behind it) and a GPU (00:07.0 is the xHCI).
	for seat in 1:05 2:06 3:08; do
		printf '[seat seat%s]\nmatch-port = pci-0000:00:07.0-usb-0:%s\n' "${seat%:*}" "${seat%:*}"
		printf 'match-syspath = /sys/devices/pci0000:00/0000:00:%s.0\n\n' "${seat#*:}"
	done >"$work/d/seats.conf"
	;;
*) fail "no replay plan for the fixture $fixture" ;;
esac

expected="$(dirname "$0")/$fixture.devices.tsv"
hotplugged_re="/($(printf '%s|' "${hotplugged[@]##*/}" | sed 's/\./\\./g; s/|$//'))/"

# listed NAME: the daemon's devices in the expected file's format.
listed() {
	sa "$1" --json devices | jq -r '.[] | [.syspath, .kind, (.devnum // "-"),
		(.devnode // "-"), (.id_path // "-"), .seat] | @tsv'
}
expect_all() { grep -v '^#' "$expected"; }
expect_boot() { expect_all | grep -Ev "$hotplugged_re"; }
lists() { diff <(listed "$1") <("$2"); }
# move_hotplugged out|in: moves the hotplugged devices' sysfs directories away or back, as
# the kernel removes and makes them.
move_hotplugged() {
	for dir in "${hotplugged[@]}"; do
		if [ "$1" = out ]; then
			mkdir -p "$work/unplugged/${dir%/*}"
			mv "$sysfs$usb1/$dir" "$work/unplugged/$dir"
		else
			mv "$work/unplugged/$dir" "$sysfs$usb1/$dir"
		fi
	done
}

# The recording's sysfs was taken with the hotplugged devices present; the host boots without.
move_hotplugged out
start_daemon d --sysfs "$sysfs" --source kernel
lists d expect_boot || fail "coldplug: devices differ from the fixture (diff above)"
[ "$(listed d | wc -l)" -eq "$(expect_boot | wc -l)" ] || fail "coldplug count"

sa d --json monitor >"$work/monitor.out" &
pids+=($!)
wait_until "monitor subscribed" test "$(status_field d clients)" -ge 1

plug=$("$UEVENT_INJECT" find "$uevents" "${plug_first[@]}")
unplug=$(($("$UEVENT_INJECT" find "$uevents" "${plug_last[@]}") + 1))

# Boot: every device is announced again; nothing changes.
"$UEVENT_INJECT" replay "$uevents" 0 "$plug"
wait_until "boot events are processed" \
	test "$(status_field d events_received)" -ge "$plug"
lists d expect_boot || fail "replaying boot events changed the table"

# Plug: the kernel creates the sysfs entries, then announces them.
move_hotplugged in
"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
wait_until "hotplugged devices are listed" lists d expect_all

# Unplug: sysfs entries go, then the removals are announced.
move_hotplugged out
"$UEVENT_INJECT" replay "$uevents" "$unplug"
wait_until "unplugged devices are gone" lists d expect_boot

# The monitor saw exactly the hotplugged devices come and go, each added with its kind, port
# and seat, and each new sound card initialized.
expect_all | grep -E "$hotplugged_re" | sort >"$work/hotplugged.tsv"
[ -s "$work/hotplugged.tsv" ] || fail "the fixture's table lists no hotplugged device"
jq -r 'select(.action == "add") | [.syspath, .kind, (.devnum // "-"), (.devnode // "-"),
	(.id_path // "-"), .seat] | @tsv' "$work/monitor.out" | sort >"$work/added.tsv"
diff "$work/added.tsv" "$work/hotplugged.tsv" || fail "monitor: added devices differ (diff above)"
diff <(jq -r 'select(.action == "remove") | .syspath' "$work/monitor.out" | sort) \
	<(cut -f1 "$work/hotplugged.tsv") || fail "monitor: removed devices differ"
while IFS=$'\t' read -r syspath kind _; do
	[ "$kind" = sound-card ] || continue
	jq -se --arg p "$syspath" 'any(.[]; .action == "change" and .syspath == $p and
		.sound_initialized == "1")' "$work/monitor.out" >/dev/null ||
		fail "monitor: $syspath was never initialized"
done <"$work/hotplugged.tsv"
grep -q sound-card "$work/hotplugged.tsv" || fail "the fixture hotplugs no sound card"
jq -se 'all(.[] | select(.action == "add" and .kind == "keyboard");
	.input_class | index("ID_INPUT_KEYBOARD") != null)' "$work/monitor.out" >/dev/null ||
	fail "monitor: a keyboard was announced without ID_INPUT_KEYBOARD"
grep -q "	keyboard	" "$work/hotplugged.tsv" || fail "the fixture hotplugs no keyboard"

[ "$(status_field d events_malformed)" -eq 0 ] || fail "recorded events counted as malformed"
kill -0 "$d_pid" || fail "daemon died"
echo "ok: $fixture: coldplug, boot replay and the hotplug of ${hotplugged[*]##*/} match the recording"
