#!/bin/bash
# A real LXC desktop container on the recorded host: an unprivileged-style LXC container
# (ids shifted by 200000, no network: lxc.net.0.type = empty, LXC's common.conf) made
# offline from the busybox template, with the host's /usr bound read-only for udevadm,
# including desktop/lxc/seatd-ns.conf as it is (only its hooks' path points into this
# tree). lxc-start registers it through the start-host hook before its init runs: the init
# finds /run/udev/control on the include's /run, seat1's nodes (owned as its own /etc/group
# says) and udev database entries, none of seat2's; its unmodified `udevadm monitor --udev`
# hears exactly seat1's devices when the seat is taken away and given back, and a hotplugged
# keyboard. The hook widens its v1 devices cgroup; LXC's own program (cgroup2 alone) lets
# the seat device classes through and not /dev/mem. lxc-stop unregisters it; a start without
# the daemon fails. Everything LXC makes lives in the scratch directory.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar udevadm stat lxc-create lxc-start lxc-stop lxc-destroy lxc-info busybox
in_own_netns "$@"

repo=$(cd "$(dirname "$0")/../.." && pwd)
# The hooks run with / as their directory: they need absolute paths.
SEAT_ASSIGN=$(realpath "$SEAT_ASSIGN")
export SEAT_ASSIGN SEATD_NS_SOCKET="$work/d/control.sock"
ct=desk-lxc
lxcpath="$work/lxc"
lxclog="$work/lxc/lxc.debug"
rootfs="$lxcpath/$ct/rootfs"
# The container's root (host uid 200000) must reach its rootfs.
chmod 711 "$work"
mkdir -m 711 "$lxcpath"

# LXC's cgroups that appear only because of this test (LXC's "lxc.pivot" stays after a stop).
pivots_before=$(find /sys/fs/cgroup -maxdepth 2 -name lxc.pivot 2>/dev/null | sort)

lxc_cleanup() {
	local status=$1
	if [ -f "$lxcpath/$ct/config" ]; then
		if [ "$status" -ne 0 ] && [ "$status" -ne "$SKIP" ]; then
			echo "--- LXC (hooks and errors)" >&2
			grep -E 'seatd-ns-hook|ERROR' "$lxclog" 2>/dev/null | tail -n 30 >&2
			echo "--- $ct's udevadm monitor" >&2
			tail -n 30 "$rootfs/tmp/udev.out" >&2 2>/dev/null
		fi
		lxc-stop -P "$lxcpath" -n "$ct" -k >/dev/null 2>&1
		lxc-destroy -P "$lxcpath" -n "$ct" -f >/dev/null 2>&1 ||
			echo "lxc-destroy failed; $lxcpath is removed with the scratch directory" >&2
	fi
	for other in desk2 other; do
		[ -f "$lxcpath/$other/config" ] || continue
		lxc-stop -P "$lxcpath" -n "$other" -k >/dev/null 2>&1
		lxc-destroy -P "$lxcpath" -n "$other" -f >/dev/null 2>&1
	done
	find /sys/fs/cgroup -maxdepth 2 -name lxc.pivot 2>/dev/null | while read -r pivot; do
		grep -qxF "$pivot" <<<"$pivots_before" || rmdir "$pivot" 2>/dev/null || true
	done
}
trap 'st=$?; set +e; lxc_cleanup $st; (exit $st); cleanup' EXIT

skip() {
	echo "SKIP: $*" >&2
	exit "$SKIP"
}

# The container's udevadm comes from the host's /usr (merged /usr, as on Debian 12).
udevadm=$(readlink -f "$(command -v udevadm)")
case $udevadm in
/usr/*) ;;
*) skip "udevadm is at $udevadm, outside /usr: the container cannot borrow it" ;;
esac

[ -f /usr/share/lxc/config/common.conf ] || fail "LXC's common.conf is missing"

# An unprivileged-style busybox container, made offline.
cat >"$work/base.conf" <<'CONF'
lxc.idmap = u 0 200000 65536
lxc.idmap = g 0 200000 65536
lxc.net.0.type = empty
CONF
lxc-create -P "$lxcpath" -n "$ct" -t busybox -f "$work/base.conf" >"$work/lxc-create.out" 2>&1 ||
	fail "lxc-create -t busybox: $(cat "$work/lxc-create.out")"
cat >>"$lxcpath/$ct/config" <<CONF
lxc.mount.entry = /usr usr none bind,ro,create=dir 0 0
lxc.include = /usr/share/lxc/config/common.conf
CONF

# LXC must start a plain container here at all; if it cannot, this machine cannot run it.
if ! lxc-start -P "$lxcpath" -n "$ct" -F -l ERROR -o "$work/lxc-probe.txt" -- /bin/true \
	</dev/null >"$work/lxc-probe.out" 2>&1; then
	skip "LXC cannot start a container on this machine: $(grep ERROR "$work/lxc-probe.txt" |
		head -n 3) $(head -c 400 "$work/lxc-probe.out")"
fi

# The include, as shipped, with only its hook's path pointing into this tree.
sed "s|^\(lxc\.hook\.[a-z-]* = \)/.*/seatd-ns-hook\$|\1$repo/desktop/lxc/seatd-ns-hook|" \
	"$repo/desktop/lxc/seatd-ns.conf" >"$work/seatd-ns.conf"
[ "$(diff "$repo/desktop/lxc/seatd-ns.conf" "$work/seatd-ns.conf" | grep -c '^>')" -eq 2 ] ||
	fail "expected two hook lines in desktop/lxc/seatd-ns.conf"
echo "lxc.include = $work/seatd-ns.conf" >>"$lxcpath/$ct/config"

# Its own groups, other ids than the host's: nodes must follow the container's /etc/group.
printf '%s\n' input:x:104: video:x:44: render:x:105: audio:x:29: >>"$rootfs/etc/group"

unpack_fixture
usb1="$sysfs/devices/pci0000:00/0000:00:07.0/usb1/1-1"
mkdir "$work/unplugged"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
mkdir -p "$work/d"
cat >"$work/d/seats.conf" <<CONF
[seat seat1]
container = $ct
match-port = pci-0000:00:07.0-usb-0:1
match-syspath = /sys/devices/pci0000:00/0000:00:05.0

[seat seat2]
container = desk2
match-port = pci-0000:00:07.0-usb-0:2
match-syspath = /sys/devices/pci0000:00/0000:00:06.0
CONF
start_daemon d --sysfs "$sysfs" --source kernel

# Its init notes what it finds at its first moment, then runs the unmodified udevadm monitor.
lxc-start -P "$lxcpath" -n "$ct" -d -l DEBUG -o "$lxclog" -- /bin/sh -c '
	{ [ -e /run/udev/control ] && echo control; grep " /run " /proc/self/mountinfo; } >/tmp/first
	exec '"$udevadm"' monitor --udev --property >/tmp/udev.out 2>&1' </dev/null ||
	fail "lxc-start failed"
pid=$(lxc-info -P "$lxcpath" -n "$ct" -p -H)
[ -n "$pid" ] || fail "no pid for the running $ct"
wait_until "udevadm monitor runs in $ct" grep -q "^UDEV - " "$rootfs/tmp/udev.out"

# The start-host hook registered it, with the pid of its init.
grep -q "container $ct registered (pid $pid)" "$work/d.log" ||
	fail "the daemon did not register $ct with pid $pid"
grep -q "seatd-ns-hook: $ct registered" "$lxclog" || fail "no word of the hook in LXC's log"
out=$(sa d register "$ct" "$pid" 2>&1) && fail "registered $ct twice"
grep -q "a container of that name is registered" <<<"$out" ||
	fail "seat-assign does not see $ct registered: $out"
grep -q "seatd-ns-hook: $ct registered; warning" "$lxclog" &&
	fail "the unprivileged LXC container was warned about"
sa d --json seats | jq -e --arg c "$ct" '.[] | select(.name == "seat1" and .container == $c)' \
	>/dev/null || fail "seat1 is not $ct's: $(sa d seats)"

# /run/udev/control and the /run tmpfs were there before its init ran.
grep -qx control "$rootfs/tmp/first" || fail "/run/udev/control was missing when $ct's init ran"
grep -q " /run .* - tmpfs " "$rootfs/tmp/first" || fail "$ct's /run is not the include's tmpfs"

heard() { grep -q "^UDEV .* $1 *$2 " "$rootfs/tmp/udev.out"; }
node() { stat -c '%Hr:%Lr %u:%g' "/proc/$pid/root/dev/$1" 2>/dev/null; }
db() { cat "/proc/$pid/root/run/udev/data/$1" 2>/dev/null; }

# What its consumers enumerate at their start was in place before its init ran: nodes (the
# recorded numbers, its root and the groups of its own /etc/group) and udev database
# entries of seat1's devices, none of seat2's.
[ "$(node input/event1)" = "13:65 200000:200104" ] || fail "$ct event1: $(node input/event1)"
[ "$(node dri/card0)" = "226:0 200000:200044" ] || fail "$ct card0: $(node dri/card0)"
[ "$(node dri/renderD128)" = "226:128 200000:200105" ] || fail "$ct renderD128: $(node dri/renderD128)"
[ -z "$(node input/event2)" ] || fail "$ct has seat2's keyboard"
[ -z "$(node dri/card1)" ] || fail "$ct has seat2's GPU"
lxc-attach -P "$lxcpath" -n "$ct" -- /bin/ls -ln /dev/input/event1 >"$work/attach.out" 2>&1 ||
	fail "lxc-attach: $(cat "$work/attach.out")"
grep -q "^crw.* 0 *104 *13, *65 .*/dev/input/event1" "$work/attach.out" ||
	fail "inside, /dev/input/event1 is not root:input 13,65: $(cat "$work/attach.out")"
db c13:65 | grep -qx "E:ID_SEAT=seat1" || fail "$ct's db entry for event1: $(db c13:65)"
db c13:65 | grep -qx "Q:seat1" || fail "$ct's db entry lacks the seat tag"
[ -z "$(db c13:66)" ] || fail "$ct has a db entry of seat2's keyboard"

# Events: registration came before any listener, so take the seat away and give it back
# while its udevadm monitor runs: it hears every device of seat1 leave and come, with
# ID_INPUT_* and ID_SEAT, and nothing of seat2.
dev1=/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.1/1-1.1:1.0/0003:0627:0001.0001/input/input2/event1
dev2=/devices/pci0000:00/0000:00:07.0/usb1/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002/input/input3/event2
sa d detach seat1 >/dev/null || fail "detach seat1"
wait_until "$ct hears its keyboard leave" heard remove "$dev1"
wait_until "$ct loses the keyboard's node" test -z "$(node input/event1)"
[ -z "$(db c13:65)" ] || fail "$ct kept the db entry of a keyboard it lost"
sa d attach seat1 "$ct" >/dev/null || fail "attach seat1 $ct"
wait_until "$ct hears its keyboard" heard add "$dev1"
wait_until "$ct hears its GPU" heard add /devices/pci0000:00/0000:00:05.0/drm/card0
expected() {
	sa d --json devices | jq -r '.[] | select(.seat == "seat1" and .kind != "hidraw") |
		.syspath | ltrimstr("/sys")' | sort
}
heard_adds() { sed -n 's/^UDEV .* add *\(\/devices[^ ]*\) .*/\1/p' "$rootfs/tmp/udev.out" | sort; }
heard_seat1() { diff <(heard_adds) <(expected); }
wait_until "$ct heard all of seat1" heard_seat1
heard_seat1 || fail "$ct heard other devices than seat1's"
heard add "$dev2" && fail "$ct heard seat2's keyboard"
grep -q "ID_SEAT=seat1" "$rootfs/tmp/udev.out" || fail "$ct's events lack ID_SEAT"
grep -q "ID_INPUT_KEYBOARD=1" "$rootfs/tmp/udev.out" || fail "$ct's events lack ID_INPUT_KEYBOARD"
grep -q "ID_SEAT=seat2" "$rootfs/tmp/udev.out" && fail "$ct heard of seat2"
[ "$(node input/event1)" = "13:65 200000:200104" ] || fail "$ct event1 again: $(node input/event1)"

# cgroup v1 devices beside a cgroup v2: the hook let the seat device classes through, for
# the daemon's program to decide per device.
v1=$(awk '$0 ~ / - cgroup cgroup .*devices/ { print $5; exit }' /proc/self/mountinfo)
if [ -n "$v1" ] && grep -q ' - cgroup2 ' /proc/self/mountinfo; then
	list="$v1$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}devices\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' \
		"/proc/$pid/cgroup")/devices.list"
	hidraw=$(awk '$2 == "hidraw" { print $1; exit }' /proc/devices)
	for major in 13 226 116 $hidraw; do
		grep -qx "c $major:\* rwm" "$list" || fail "$list lacks c $major:* rwm: $(cat "$list")"
	done
	grep -qx "c 1:3 rwm" "$list" || fail "$list lost LXC's own rules: $(cat "$list")"
	grep -qx "a \*:\* rwm" "$list" && fail "$list allows everything"
fi

# Hotplug: the keyboard at port 1.3 arrives in the container and leaves it.
dev5=/devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3/1-1.3:1.0/0003:0627:0001.0005/input/input6/event5
plug=$("$UEVENT_INJECT" find "$uevents" add /devices/pci0000:00/0000:00:07.0/usb1/1-1/1-1.3)
unplug=$("$UEVENT_INJECT" find "$uevents" remove "${dev5%/event5}/input6::numlock")
mv "$work/unplugged/1-1.3" "$work/unplugged/1-1.4" "$usb1/"
"$UEVENT_INJECT" replay "$uevents" "$plug" "$unplug"
wait_until "$ct hears the hotplugged keyboard" heard add "$dev5"
[ "$(node input/event5)" = "13:69 200000:200104" ] || fail "$ct event5: $(node input/event5)"
mv "$usb1/1-1.3" "$usb1/1-1.4" "$work/unplugged/"
"$UEVENT_INJECT" replay "$uevents" "$unplug"
wait_until "$ct hears the keyboard leave" heard remove "$dev5"
[ -z "$(node input/event5)" ] || fail "the unplugged keyboard's node stayed"
[ -z "$(db c13:69)" ] || fail "the unplugged keyboard's db entry stayed"

# lxc-stop: the container is forgotten, the post-stop hook ran, the daemon goes on.
lxc-stop -P "$lxcpath" -n "$ct" -k || fail "lxc-stop"
wait_until "the daemon forgot $ct" grep -Eq "container $ct (exited; )?unregistered" "$work/d.log"
grep -Eq "seatd-ns-hook: .*$ct (is not registered|unregistered)" "$lxclog" ||
	fail "the post-stop hook did not run"
out=$(sa d register "$ct" 4194304 2>&1) && fail "registered a pid that does not exist"
grep -q "a container of that name is registered" <<<"$out" && fail "$ct is still registered"
kill -0 "${daemons[d]}" || fail "the daemon died"

grep -q "$ct: libseat endpoint for seat1 at /run/seatd.sock (libseat before 0.9)" \
	"$work/d.log" || fail "the endpoint does not speak the default libseat protocol"

# Started again, it is registered again (a stale registration would refuse it); the hook
# passes on the libseat protocol given in lxc-start's environment.
SEATD_NS_LIBSEAT_PROTOCOL=0.9 lxc-start -P "$lxcpath" -n "$ct" -d -l DEBUG -o "$lxclog" -- \
	/bin/sh -c 'exec sleep 1000' </dev/null || fail "the second lxc-start failed"
pid=$(lxc-info -P "$lxcpath" -n "$ct" -p -H)
wait_until "$ct registered again" grep -q "container $ct registered (pid $pid)" "$work/d.log"
grep -q "$ct: libseat endpoint for seat1 at /run/seatd.sock (libseat 0.9 and later)" \
	"$work/d.log" || fail "the hook did not pass the libseat protocol on"
wait_until "$ct gets its keyboard again" test -n "$(node input/event1)"
lxc-stop -P "$lxcpath" -n "$ct" -k || fail "the second lxc-stop"

# A container whose config names its seat (seatd-ns-hook --seat, here SEATD_NS_SEAT): a seat
# that seatd-ns has is kept (seat1, which the configuration gives it already); one that it
# does not have fails the start, nothing is registered, and the daemon's log, where an
# admin looks (LXC's shows hooks at debug level only), says why and names the seats.
SEATD_NS_SEAT=seat1 lxc-start -P "$lxcpath" -n "$ct" -d -l DEBUG -o "$lxclog" -- \
	/bin/sh -c 'exec sleep 1000' </dev/null || fail "lxc-start naming seat1 failed"
grep -q "seatd-ns-hook: $ct registered; $ct is attached to seat1 already" "$lxclog" ||
	fail "the hook did not attach $ct to the seat its config names"
lxc-stop -P "$lxcpath" -n "$ct" -k || fail "the third lxc-stop"
# Registering a pid that does not exist names a registration of the same name first.
registered() { sa d register "$ct" 4194304 2>&1 | grep -q "a container of that name is registered"; }
wait_until "the daemon forgot $ct again" eval '! registered'
SEATD_NS_SEAT=seat9 lxc-start -P "$lxcpath" -n "$ct" -d -l DEBUG -o "$lxclog" -- \
	/bin/sh -c 'exec sleep 1000' </dev/null 2>/dev/null &&
	fail "$ct started naming seat9, which seatd-ns does not have"
grep -q "cannot register $ct: its configuration names seat \"seat9\", which seatd-ns does not have (its seats: seat0 seat1 seat2)" \
	"$work/d.log" || fail "the daemon's log does not say why $ct has no seat9"
grep -q "seatd-ns-hook: $ct: not registered with seatd-ns .*seat9" "$lxclog" ||
	fail "the hook did not say why the start failed"
[ "$(lxc-info -P "$lxcpath" -n "$ct" -s -H)" = STOPPED ] || fail "$ct naming seat9 is not stopped"
registered && fail "$ct, refused its seat, stayed registered"
kill -0 "${daemons[d]}" || fail "the daemon died"

# LXC's own device program, as a host with only cgroup v2 has it (where v1 is mounted too,
# a mount namespace whose /sys/fs/cgroup is the cgroup2 hierarchy alone makes LXC use it):
# the include lets the basic devices and the seat device classes through and nothing
# else; hidraw with the line `seatd-ns-hook cgroup-rules` prints. LXC's program alone: no
# hooks, no seatd-ns program. A root shell put in the container's cgroup opens the nodes.
if grep -q ' - cgroup2 ' /proc/self/mountinfo; then
	hidraw=$(awk '$2 == "hidraw" { print $1; exit }' /proc/devices)
	mkdir "$work/nodes"
	mknod "$work/nodes/null" c 1 3
	mknod "$work/nodes/mem" c 1 1
	mknod "$work/nodes/event1" c 13 65
	mknod "$work/nodes/card0" c 226 0
	mknod "$work/nodes/controlC9" c 116 31
	defines=(-s lxc.hook.start-host= -s lxc.hook.post-stop=)
	if [ -n "$hidraw" ]; then
		mknod "$work/nodes/hidraw0" c "$hidraw" 0
		rule=$("$repo/desktop/lxc/seatd-ns-hook" cgroup-rules)
		[ "$rule" = "lxc.cgroup2.devices.allow = c $hidraw:* rwm" ] || fail "cgroup-rules: $rule"
		defines+=(-s "${rule%% = *}=${rule#* = }")
	fi
	cat >"$work/v2.sh" <<'SCRIPT'
set -u
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
	umount -l /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 3
fi
lxc-start -P "$lxcpath" -n "$ct" -d -l DEBUG -o "$lxclog" "$@" -- /bin/sh -c 'exec sleep 1000' \
	</dev/null || exit 4
pid=$(lxc-info -P "$lxcpath" -n "$ct" -p -H)
cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
bash -c 'echo $$ >"$1/cgroup.procs" || exit 5
	for n in "$2"/*; do
		if msg=$( { : <"$n"; } 2>&1); then echo "${n##*/}: opened"
		else echo "${n##*/}: ${msg##*: }"; fi
	done' - "/sys/fs/cgroup$cg" "$work/nodes"
lxc-stop -P "$lxcpath" -n "$ct" -k
SCRIPT
	export lxcpath ct lxclog work
	unshare --mount --propagation private -- bash "$work/v2.sh" "${defines[@]}" \
		>"$work/v2.out" 2>&1 || fail "LXC on cgroup2 alone: $(cat "$work/v2.out")"
	access() { sed -n "s/^$1: //p" "$work/v2.out"; }
	[ "$(access null)" = opened ] || fail "LXC's program denies /dev/null: $(cat "$work/v2.out")"
	[ "$(access mem)" = "Operation not permitted" ] ||
		fail "LXC's program lets /dev/mem through: $(cat "$work/v2.out")"
	for n in event1 card0 controlC9 ${hidraw:+hidraw0}; do
		case $(access "$n") in
		"" | "Operation not permitted") fail "LXC's program denies $n: $(cat "$work/v2.out")" ;;
		esac
	done
fi

# A container that a seat names but whose config lacks the include starts without its seat:
# the daemon, which sees its cgroup appear, says so once the hook would have registered it.
# One that no seat names is none of its business.
for other in desk2 other; do
	lxc-create -P "$lxcpath" -n "$other" -t busybox -f "$work/base.conf" \
		>"$work/lxc-create-$other.out" 2>&1 || fail "lxc-create $other: $(cat "$work/lxc-create-$other.out")"
	echo "lxc.include = /usr/share/lxc/config/common.conf" >>"$lxcpath/$other/config"
	lxc-start -P "$lxcpath" -n "$other" -d -- /bin/sh -c 'exec sleep 1000' </dev/null ||
		fail "lxc-start $other (without the include) failed"
done
unregistered="container desk2 runs (LXC's cgroup lxc.payload.desk2) but has not registered, so seat2 goes without it: its LXC config lacks the seatd-ns include"
for _ in $(seq 60); do
	grep -qF "$unregistered" "$work/d.log" && break
	sleep 0.5
done
grep -qF "$unregistered" "$work/d.log" ||
	fail "the daemon did not say that desk2 runs without registering: $(tail -n 5 "$work/d.log")"
grep -q "container other runs" "$work/d.log" && fail "the daemon spoke of a container no seat names"
lxc-stop -P "$lxcpath" -n desk2 -k && lxc-stop -P "$lxcpath" -n other -k ||
	fail "lxc-stop of the containers without the include"
[ "$(grep -cF "$unregistered" "$work/d.log")" = 1 ] || fail "desk2 was warned of more than once"

# Without the daemon, the start fails instead of starting a desktop half-done; the stop
# hook never fails a stop.
SEATD_NS_SOCKET="$work/none.sock" SEATD_NS_WAIT=1 lxc-start -P "$lxcpath" -n "$ct" -d \
	-l DEBUG -o "$lxclog" -- /bin/sh -c 'exec sleep 1000' </dev/null 2>/dev/null &&
	fail "$ct started although seatd-ns did not register it"
grep -q "seatd-ns-hook: $ct: not registered with seatd-ns" "$lxclog" ||
	fail "the hook did not say why the start failed"
[ "$(lxc-info -P "$lxcpath" -n "$ct" -s -H)" = STOPPED ] || fail "$ct is not stopped"
echo "ok: an LXC container registered by its hooks, with exactly its seat; hotplug; stop"
