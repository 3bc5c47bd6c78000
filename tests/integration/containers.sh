#!/bin/bash
# Desktop containers on the recorded host: two unprivileged containers (own user, network,
# mount and pid namespaces, ids shifted by 200000, their own tmpfs /dev and /run), each
# attached to a seat, each running the unmodified `udevadm monitor --udev`: each hears the
# add and remove of exactly its seat's devices, gets their nodes (recorded major:minor, owned
# by its root and its input/video/render/audio groups) and their udev database entries, and
# nothing of the other seat. Hostile containers: a symlink planted at /dev/input, a container
# that exits: nothing outside its /dev and /run is touched and the daemon keeps running.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar udevadm stat
in_own_netns "$@"
unpack_fixture
. "$(dirname "$0")/monitored.sh"

usb1="$sysfs/devices/pci0000:00/0000:00:07.0/usb1/1-1"
mkdir "$work/unplugged"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"

# node NAME DEVNAME: "major:minor uid:gid" of a node inside the container, or nothing.
node() { stat -c '%Hr:%Lr %u:%g' "/proc/$(eval echo "\$${1}_pid")/root/dev/$2" 2>/dev/null; }
db() { cat "/proc/$(eval echo "\$${1}_pid")/root/run/udev/data/$2" 2>/dev/null; }
gid() { echo $((200000 + $(getent group "$1" | cut -d: -f3))); }

two_seat_config d
container desk1
container desk2
start_daemon d --sysfs "$sysfs" --source kernel
out=$(sa d register desk1 "$desk1_pid") || fail "register desk1: $out"
grep -q warning <<<"$out" && fail "an unprivileged container was warned about: $out"
sa d register desk2 "$desk2_pid" >/dev/null || fail "register desk2"

dev1=/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.1/1-1.1:1.0/0003:0627:0001.0001/input/input2/event1
dev2=/devices/pci0000:00/0000:00:07.0/usb1/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002/input/input3/event2
wait_until "desk1 hears its keyboard" heard desk1 add "$dev1"
wait_until "desk2 hears its keyboard" heard desk2 add "$dev2"
wait_until "desk2 hears its sound card" heard desk2 add /devices/pci0000:00/0000:00:07.0/usb1/1-2/1-2.3/1-2.3:1.0/sound/card1

# Each heard exactly its seat's devices (hidraw only where the seat asks for it).
expected() {
	sa d --json devices | jq -r --arg s "$1" '.[] | select(.seat == $s and .kind != "hidraw") |
		.syspath | ltrimstr("/sys")' | sort
}
# (the shared sound nodes are checked on their own below)
heard_adds() {
	sed -n 's/^UDEV .* add *\(\/devices[^ ]*\) .*/\1/p' "$work/$1.udev" |
		grep -v '^/devices/virtual/sound/' | sort
}
diff <(heard_adds desk1) <(expected seat1) || fail "desk1 heard other devices than seat1's"
diff <(heard_adds desk2) <(expected seat2) || fail "desk2 heard other devices than seat2's"
grep -q "ID_SEAT=seat1" "$work/desk1.udev" || fail "desk1's events lack ID_SEAT"
grep -q "ID_INPUT_KEYBOARD=1" "$work/desk1.udev" || fail "desk1's events lack ID_INPUT_KEYBOARD"
grep -q "SOUND_INITIALIZED=1" "$work/desk2.udev" || fail "desk2's card was not announced ready"

# Nodes: the recorded numbers, the container's root and its groups; none of the other seat.
[ "$(node desk1 input/event1)" = "13:65 200000:$(gid input)" ] || fail "desk1 event1: $(node desk1 input/event1)"
[ "$(node desk1 dri/card0)" = "226:0 200000:$(gid video)" ] || fail "desk1 card0: $(node desk1 dri/card0)"
[ "$(node desk1 dri/renderD128)" = "226:128 200000:$(gid render)" ] || fail "desk1 renderD128"
[ "$(node desk2 snd/controlC1)" = "116:8 200000:$(gid audio)" ] || fail "desk2 controlC1: $(node desk2 snd/controlC1)"
[ -z "$(node desk1 input/event2)" ] || fail "desk1 has desk2's keyboard"
# cgroup: from inside desk1 (its namespaces and its cgroup), its keyboard passes the device
# check (ENXIO or ENODEV: there is no hardware), desk2's keyboard is refused (EPERM) even
# through a node the host made where desk1 can reach it, and the basic devices open.
chmod 0711 "$work"
mkdir -m 0755 "$work/devnodes"
mknod "$work/devnodes/kbd2" c 13 66
mknod "$work/devnodes/null" c 1 3
chmod 0666 "$work/devnodes"/*
open_result() { inside desk1 "( : <$1 ) 2>&1 && echo opened"; }
case "$(open_result /dev/input/event1)" in
*"No such device"*) ;;
*) fail "desk1 cannot pass the device check for its keyboard: $(open_result /dev/input/event1)" ;;
esac
case "$(open_result "$work/devnodes/kbd2")" in
*"Operation not permitted"*) ;;
*) fail "desk1 may open desk2's keyboard: $(open_result "$work/devnodes/kbd2")" ;;
esac
[ "$(open_result "$work/devnodes/null")" = opened ] || fail "desk1 cannot open a null device"

# libseat: an unmodified libseat client in desk1 finds /run/seatd.sock, gets seat1, passes
# the check for its own keyboard and GPU (ENXIO: no hardware behind the node) and is refused
# the other seat's keyboard and anything that is not a seat device.
seat_out=$(inside desk1 "LIBSEAT_BACKEND=seatd $LIBSEAT_CLIENT /dev/input/event1 /dev/dri/card0 \
	/dev/input/event2 /dev/input/../../etc/passwd /etc/passwd") ||
	fail "the libseat client failed in desk1: $seat_out"
grep -qx "seat seat1 enabled" <<<"$seat_out" || fail "libseat in desk1: $seat_out"
for own in /dev/input/event1 /dev/dri/card0; do
	grep -qx "$own error No such device or address" <<<"$seat_out" ||
		fail "libseat did not resolve desk1's $own: $seat_out"
done
for foreign in /dev/input/event2 /dev/input/../../etc/passwd /etc/passwd; do
	grep -qx "$foreign error No such file or directory" <<<"$seat_out" ||
		fail "libseat in desk1 was not refused $foreign: $seat_out"
done
grep -qx "seat seat2 enabled" <<<"$(inside desk2 "LIBSEAT_BACKEND=seatd $LIBSEAT_CLIENT")" ||
	fail "libseat in desk2 does not get seat2"

# The shared sound nodes go to a desktop with a sound card, and only to it.
[ "$(node desk2 snd/timer)" = "116:33 200000:$(gid audio)" ] || fail "desk2 has no timer: $(node desk2 snd/timer)"
[ -z "$(node desk1 snd/timer)" ] || fail "desk1 has a timer but no sound card"
# Listed as device nodes too, not as the files a node is bound onto (PipeWire counts a
# card's PCMs by the type readdir gives in /dev/snd; is_file() trusts that type).
not_nodes() {
	python3 -c 'import os, sys
print(" ".join(sorted(e.name for e in os.scandir(sys.argv[1]) if e.is_file())))' \
		"/proc/$(eval echo "\$${1}_pid")/root/dev/$2" || echo "(unreadable)"
}
[ -z "$(not_nodes desk2 snd)" ] || fail "desk2's /dev/snd lists non-nodes: $(not_nodes desk2 snd)"
[ -z "$(not_nodes desk1 input)" ] || fail "desk1's /dev/input lists non-nodes: $(not_nodes desk1 input)"
[ -z "$(node desk2 input/event1)" ] || fail "desk2 has desk1's keyboard"
db desk1 c13:65 | grep -qx "E:ID_SEAT=seat1" || fail "desk1's db entry for event1: $(db desk1 c13:65)"
db desk1 c13:65 | grep -qx "Q:seat1" || fail "desk1's db entry lacks the seat tag"
[ -z "$(db desk1 c13:66)" ] || fail "desk1 has a db entry of desk2's keyboard"
[ -e "/proc/$desk2_pid/root/run/udev/tags/seat2/c13:66" ] || fail "desk2 has no seat2 tag file"

# Hotplug: the keyboard at port 1.3 arrives in desk1 only, and leaves with node and db entry.
dev5=/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/event5
plug=$("$UEVENT_INJECT" find "$uevents" add /devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3)
unplug=$("$UEVENT_INJECT" find "$uevents" remove "${dev5%/event5}/input6::numlock")
mv "$work/unplugged/1-1.3" "$work/unplugged/1-1.4" "$usb1/"
"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
wait_until "desk1 hears the hotplugged keyboard" heard desk1 add "$dev5"
[ "$(node desk1 input/event5)" = "13:69 200000:$(gid input)" ] || fail "desk1 event5: $(node desk1 input/event5)"
heard desk2 add "$dev5" && fail "desk2 heard desk1's hotplugged keyboard"
has_node() { [ -n "$(node "$1" "$2")" ]; }
wait_until "desk1 gets the timer with its hotplugged sound card" has_node desk1 snd/timer
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
"$UEVENT_INJECT" replay "$uevents" "$unplug"
wait_until "desk1 hears the keyboard leave" heard desk1 remove "$dev5"
[ -z "$(node desk1 input/event5)" ] || fail "the unplugged keyboard's node stayed"
[ -z "$(db desk1 c13:69)" ] || fail "the unplugged keyboard's db entry stayed"
mknod "$work/devnodes/kbd5" c 13 69
case "$(open_result "$work/devnodes/kbd5")" in
*"Operation not permitted"*) ;;
*) fail "desk1 may still open the unplugged keyboard: $(open_result "$work/devnodes/kbd5")" ;;
esac
wait_until "desk1 loses the timer with its sound card" eval '! has_node desk1 snd/timer'

# Reassignment moves a device from one container to the other.
sa d assign /dev/input/event2 seat1 >/dev/null || fail "assign"
wait_until "desk2 hears its keyboard go" heard desk2 remove "$dev2"
wait_until "desk1 hears it come" heard desk1 add "$dev2"
[ -z "$(node desk2 input/event2)" ] || fail "desk2 kept the node of a keyboard it lost"
[ -n "$(node desk1 input/event2)" ] || fail "desk1 did not get the node"

# Hostile: a container that planted /dev/input -> a host directory gets no input node, and
# nothing is written through the link; its other devices still arrive.
mkdir "$work/outside"
container desk3 -- "ln -s $work/outside /dev/input"
sa d assign /dev/input/event0 seat3 >/dev/null && sa d assign /dev/dri/card1 seat3 >/dev/null ||
	fail "assign to seat3"
sa d register desk3 "$desk3_pid" >/dev/null || fail "register desk3"
sa d attach seat3 desk3 >/dev/null || fail "attach seat3"
wait_until "desk3 gets its GPU" heard desk3 add /devices/pci0000:00/0000:00:06.0/drm/card1
[ -z "$(ls -A "$work/outside")" ] || fail "the daemon wrote through the planted link: $(ls "$work/outside")"
heard desk3 add /devices/platform/i8042/serio0/input/input0/event0 &&
	fail "desk3 was told of a keyboard whose node could not be made safely"
grep -q "desk3: cannot make the node of .*event0" "$work/d.log" || fail "no log line for the refusal"

# A container that exits: the daemon notices, forgets it, and goes on.
kill -KILL "$desk3_pid"
wait_until "the daemon saw desk3 exit" grep -q "container desk3 exited" "$work/d.log"
sa d register desk3 1 2>/dev/null && fail "pid 1 accepted"
kill -0 "${daemons[d]}" || fail "the daemon died"
sa d --json status >/dev/null || fail "the daemon does not answer"

# A container that runs its own udevd gets kernel-format events too, injected through the
# kernel into its network namespace (its udevd listens to group 1).
"$CONTAINER_RUN" --cgroup "seatd-ns-test-desk4-$$" --pid-file "$work/desk4.pid" -- sh -c 'mkdir -p /run/udev && : >/run/udev/control &&
	exec udevadm monitor --kernel --property' >"$work/desk4.udev" 2>&1 &
pids+=($!)
wait_until "container desk4 is up" test -s "$work/desk4.pid"
desk4_pid=$(cat "$work/desk4.pid")
wait_until "udevadm monitor runs in desk4" grep -q "^KERNEL - " "$work/desk4.udev"
sa d --kernel-events register desk4 "$desk4_pid" >/dev/null || fail "register desk4"
sa d switch seat3 desk4 >/dev/null || fail "switch seat3 to desk4"
kernel_heard() { grep -q "^KERNEL.* add *$1 " "$work/desk4.udev"; }
wait_until "desk4's kernel monitor hears its GPU" kernel_heard /devices/pci0000:00/0000:00:06.0/drm/card1
grep -q "^DEVNAME=/dev/dri/card1$" "$work/desk4.udev" || fail "the kernel-format event lacks its node"
grep -q "^ID_SEAT=" "$work/desk4.udev" && fail "udev properties in a kernel-format event"
sa d unregister desk4 >/dev/null || fail "unregister desk4"

# A container with a read-only /dev: refused with a log line, nothing announced, daemon fine.
container desk5 -- "mount -t tmpfs -o ro tmpfs /dev"
sa d register desk5 "$desk5_pid" >/dev/null || fail "register desk5"
sa d switch seat3 desk5 >/dev/null || fail "switch seat3 to desk5"

wait_until "the read-only /dev is logged" grep -q "desk5: cannot make the node of .*: Read-only file system" "$work/d.log"
heard desk5 add /devices/pci0000:00/0000:00:06.0/drm/card1 && fail "desk5 was told of a device it has no node for"
sa d unregister desk5 >/dev/null || fail "unregister desk5"

# A container that dies in the middle of a hotplug: its devices arrive while it exits.
container desk6
sa d register desk6 "$desk6_pid" >/dev/null || fail "register desk6"
sa d switch seat3 desk6 >/dev/null || fail "switch seat3 to desk6"
kill -KILL "$desk6_pid"
sa d assign /dev/input/event2 seat3 >/dev/null || fail "assign during the container's exit"
wait_until "the daemon saw desk6 exit" grep -q "container desk6 exited" "$work/d.log"
kill -0 "${daemons[d]}" || fail "the daemon died with desk6"
sa d assign /dev/input/event2 seat1 >/dev/null || fail "the daemon does not serve after desk6"
wait_until "desk1 gets its keyboard back" has_node desk1 input/event2

# A container sharing the host's user namespace is registered (by root, --privileged)
# with a warning.
container priv --share-userns
out=$(sa d --privileged register priv "$priv_pid") || fail "register priv: $out"
grep -q "warning: its network namespace belongs to the host's user namespace" <<<"$out" ||
	fail "no warning for a container in the host's user namespace: $out"
sa d unregister priv >/dev/null || fail "unregister priv"

# Unregistering takes every device back.
sa d unregister desk1 >/dev/null || fail "unregister desk1"
[ -z "$(node desk1 input/event1)" ] || fail "unregister left desk1's nodes"
[ -z "$(db desk1 c13:65)" ] || fail "unregister left desk1's db entries"
echo "ok: two containers, each with exactly its seat; hotplug; hostile containers"
