#!/bin/bash
# Files a container controls, as the daemon reads and writes them: its /etc/group (which
# group owns its nodes) is read only when it is a regular file of a sane size, reached
# without a symlink or a mount crossing, without blocking: a FIFO or a device bind-mounted
# over it, a FIFO, a directory, a symlink or a huge file in its place leave the nodes to the
# container's root, and the daemon answers within a second through all of it. Its udev
# database directories, renamed or mounted over after registration, are found again where
# the container has them now.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar stat nsenter python3 timeout
in_own_netns "$@"
unpack_fixture

usb1="$sysfs/devices/pci0000:00/0000:00:07.0/usb1/1-1"
mkdir "$work/unplugged"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
dev5=/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/event5
plug=$("$UEVENT_INJECT" find "$uevents" add /devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3)
unplug=$("$UEVENT_INJECT" find "$uevents" remove "${dev5%/event5}/input6::numlock")
# The containers' root (a shifted uid) reaches the files the test makes for them.
chmod 0711 "$work"

# container NAME [SETUP]: a container whose init runs SETUP, then waits; sets NAME_pid.
container() {
	"$CONTAINER_RUN" --cgroup "seatd-ns-test-$1-$$" --pid-file "$work/$1.pid" -- \
		sh -c "${2:-:}; exec sleep infinity" >"$work/$1.out" 2>&1 &
	pids+=($!)
	wait_until "container $1 is up" test -s "$work/$1.pid"
	eval "${1}_pid=$(cat "$work/$1.pid")"
}
pid_of() { eval echo "\$${1}_pid"; }
# inside NAME COMMAND...: runs COMMAND as the container's root, in its user and mount namespaces.
inside() {
	local pid
	pid=$(pid_of "$1")
	shift
	nsenter -t "$pid" -U -m -- "$@"
}
# node NAME DEVNAME: "major:minor gid" of a node inside the container, or nothing.
node() { stat -c '%Hr:%Lr %g' "/proc/$(pid_of "$1")/root/dev/$2" 2>/dev/null; }
has_node() { [ -n "$(node "$1" "$2")" ]; }
host_gid() { echo $((200000 + $1)); }
# ask SECONDS ARGS...: seat-assign against the daemon, which must answer within SECONDS (a
# frozen one is killed: it could not stop).
ask() {
	local limit=$1 r=0
	shift
	timeout "$limit" "$SEAT_ASSIGN" --socket "$work/d/control.sock" "$@" >/dev/null || r=$?
	if [ $r -eq 124 ]; then
		kill -KILL "${daemons[d]}"
		fail "the daemon froze: no answer to '$*' within $limit s"
	fi
	return $r
}
# until_answering WHAT COMMAND...: waits up to 10 s for COMMAND, the daemon answering
# `status` within a second all the while.
until_answering() {
	local what=$1
	shift
	for _ in $(seq 50); do
		ask 1 status || fail "status failed ($what)"
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "timed out waiting until $what"
}

two_seat_config d
printf '[seat seat3]\ncontainer = desk3\n' >>"$work/d/seats.conf"
container desk1
container desk2
start_daemon d --sysfs "$sysfs" --source kernel
sa d register desk1 "$desk1_pid" >/dev/null || fail "register desk1"
sa d register desk2 "$desk2_pid" >/dev/null || fail "register desk2"
input=$(host_gid "$(getent group input | cut -d: -f3)")
wait_until "desk1 gets its keyboard" has_node desk1 input/event1
[ "$(node desk1 input/event1)" = "13:65 $input" ] || fail "desk1 event1: $(node desk1 input/event1)"

# hotplug_with_group NAME SOURCE: SOURCE bind-mounted over desk1's /etc/group, a keyboard
# plugged into seat1 and unplugged: the daemon answers throughout, the keyboard arrives
# with a node of the container's root group, and the refusal is logged.
hotplug_with_group() {
	inside desk1 mount --bind "$2" /etc/group || fail "$1: cannot mount it over /etc/group"
	mv "$work/unplugged/1-1.3" "$work/unplugged/1-1.4" "$usb1/"
	"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
	until_answering "desk1 gets the keyboard plugged with $1 as /etc/group" \
		has_node desk1 input/event5
	[ "$(node desk1 input/event5)" = "13:69 200000" ] ||
		fail "$1 as /etc/group: the node is $(node desk1 input/event5)"
	grep -q "desk1: /etc/group not read: " "$work/d.log" || fail "$1: the refusal was not logged"
	mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
	"$UEVENT_INJECT" replay "$uevents" "$unplug"
	until_answering "the keyboard leaves desk1" eval '! has_node desk1 input/event5'
	inside desk1 umount /etc/group || fail "$1: cannot unmount it"
}
mkfifo -m 0666 "$work/fifo"
hotplug_with_group "a FIFO" "$work/fifo"
mknod -m 0666 "$work/zero" c 1 5
hotplug_with_group "a zero device" "$work/zero"
ask 1 status || fail "the daemon does not answer"

# A container whose root is a directory of the host, /etc/group on the root's own mount:
# only the file's type and size stand between the daemon and what is put there.
root3="$work/root3"
mkdir -p "$root3/etc" "$root3/dev" "$root3/run"
chmod 0755 "$root3" "$root3/etc"
container desk3 "mount --rbind /dev $root3/dev && mount --rbind /run $root3/run &&
	exec python3 -c 'import os, signal; os.chroot(\"$root3\"); os.chdir(\"/\"); signal.pause()'"
in_root() { [ "$(readlink "/proc/$desk3_pid/root")" = "$root3" ]; }
wait_until "desk3 is in its root" in_root
sa d register desk3 "$desk3_pid" >/dev/null || fail "register desk3"
# group_gives WHAT GID: event0 given to desk3 with its /etc/group as it is now gets group GID.
group_gives() {
	ask 5 assign /dev/input/event0 seat3 || fail "$1: assign"
	until_answering "desk3 gets event0 with $1 as /etc/group" has_node desk3 input/event0
	[ "$(node desk3 input/event0)" = "13:64 $(host_gid "$2")" ] ||
		fail "$1 as /etc/group: the node is $(node desk3 input/event0), not group $2"
	ask 5 unassign /dev/input/event0 || fail "$1: unassign"
	until_answering "event0 leaves desk3" eval '! has_node desk3 input/event0'
	rm -rf "$root3/etc/group"
}
# A real group file, with lines that are not the group or not whole before it.
cat >"$root3/etc/group" <<'GROUP'
root:x:0:
inpu
input
inputs:x:77:
input:x:
input::abc:
input:x:-1:
input:x:99999999999999999999:
input:x:1234:someone
input:x:4321:
GROUP
group_gives "a group file" 1234
printf 'input:x:1234:' >"$root3/etc/group"
group_gives "a group file without a final newline" 1234
mkfifo -m 0644 "$root3/etc/group"
group_gives "a FIFO" 0
mkdir "$root3/etc/group"
group_gives "a directory" 0
printf 'input:x:1234:\n' >"$root3/etc/group.real"
ln -s group.real "$root3/etc/group"
group_gives "a symlink" 0
printf 'input:x:1234:\n' >"$root3/etc/group"
truncate -s 2G "$root3/etc/group"
group_gives "a 2 GiB file" 0

# desk2's udev database, renamed and then mounted over: entries go where it has it now.
db_has() { [ -e "/proc/$desk2_pid/root/run/udev/$1" ]; }
wait_until "desk2 has its database" db_has data/c13:66
inside desk2 mv /run/udev/data /run/udev/data.old || fail "cannot rename desk2's data"
inside desk2 mv /run/udev/tags /run/udev/tags.old || fail "cannot rename desk2's tags"
ask 5 assign /dev/input/event0 seat2 || fail "assign event0 to seat2"
until_answering "event0's entry is in desk2's renamed database" db_has data/c13:64
db_has tags/seat2/c13:64 || fail "no seat2 tag of event0 in desk2's new tags"
db_has data.old/c13:64 && fail "event0's entry went to the directory desk2 renamed"
ask 5 unassign /dev/input/event0 || fail "unassign event0"
until_answering "event0's entry leaves desk2" eval '! db_has data/c13:64'
db_has tags/seat2/c13:64 && fail "event0's tag stayed in desk2"
inside desk2 mount -t tmpfs -o mode=0755 tmpfs /run/udev || fail "cannot mount over desk2's /run/udev"
ask 5 assign /dev/input/event0 seat2 || fail "assign event0 to seat2 again"
until_answering "event0's entry is in the database desk2 mounted" db_has data/c13:64
db_has tags/seat2/c13:64 || fail "no seat2 tag of event0 in the tags desk2 mounted"

kill -0 "${daemons[d]}" || fail "the daemon died"
echo "ok: hostile /etc/group files refused without blocking; udev database found again"
