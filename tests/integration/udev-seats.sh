#!/bin/bash
# logind interoperability: on a host whose udev rules already assign seats (ID_SEAT), the
# daemon, listening to udevd, gives the same seats without any seat configuration: at
# coldplug from udevd's database, and on hotplug from udevd's messages. A config rule
# (match-udev-seat) can adopt such a seat under another name, and runtime assignments still
# win. The udev run directory is a private tmpfs in this test's mount namespace.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar mount
in_own_netns "$@"
unpack_fixture

mount -t tmpfs tmpfs /run/udev 2>/dev/null || { mkdir -p /run/udev && mount -t tmpfs tmpfs /run/udev; }
mkdir -p /run/udev/data
: >/run/udev/control

# db ID SEAT: a database entry as udevd writes it, for a device on SEAT.
db() {
	printf 'I:1000000\nE:ID_SEAT=%s\nG:seat\nG:%s\nQ:seat\nQ:%s\nV:1\n' "$2" "$2" "$2" \
		>"/run/udev/data/$1"
}
db c13:65 seat1  # the keyboard at port 1.1
db c13:67 seat1  # the mouse at port 1.2
db c226:1 seat2  # the second GPU's card

seats_of() {
	sa "$1" --json devices | jq -r '.[] | "\(.devnode // (.syspath | split("/") | last)) \(.seat)"'
}
seat_is() { [ "$(seats_of "$1" | awk -v n="$2" '$1 == n { print $2 }')" = "$3" ]; }
expect_seat() { seat_is "$@" || fail "$1: $2 is not on $3: $(seats_of "$1" | grep "^$2 ")"; }

start_daemon plain --sysfs "$sysfs"
[ "$(status_field plain source)" = udev ] || fail "auto did not pick udev with /run/udev/control"
expect_seat plain /dev/input/event1 seat1
expect_seat plain /dev/input/event3 seat1
expect_seat plain /dev/dri/card1 seat2
expect_seat plain /dev/dri/renderD129 seat2  # follows its card
expect_seat plain /dev/input/event2 seat0
sa plain --json seats | jq -e 'any(.[]; .name == "seat2" and .origin == "udev")' >/dev/null ||
	fail "seat2 from ID_SEAT is not listed"

# Hotplug as udevd announces it, with the seat its rules gave.
index=$("$UEVENT_INJECT" find "$uevents" add \
	/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/event5)
"$UEVENT_INJECT" udev "$uevents" "$index" ID_SEAT=seat2 ID_INPUT=1 ID_INPUT_KEY=1 \
	ID_INPUT_KEYBOARD=1 ID_PATH=pci-0000:00:07.0-usb-0:1.3:1.0
wait_until "udevd's event puts event5 on seat2" seat_is plain /dev/input/event5 seat2

# A configured seat adopts what udev calls seat1.
mkdir -p "$work/adopt"
printf '[seat seat-lab]\nmatch-udev-seat = seat1\n' >"$work/adopt/seats.conf"
start_daemon adopt --sysfs "$sysfs"
expect_seat adopt /dev/input/event1 seat-lab
expect_seat adopt /dev/dri/card1 seat2

# Runtime assignments win over ID_SEAT.
sa plain assign /dev/input/event1 seat0 >/dev/null || fail "assign"
expect_seat plain /dev/input/event1 seat0
echo "ok: ID_SEAT from udevd's database and messages gives the seats, config and runtime win"
