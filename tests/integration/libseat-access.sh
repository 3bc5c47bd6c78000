#!/bin/bash
# Who may use a container's libseat endpoint: only processes of that container, and inside
# it root or the members of the groups that own what they ask for (the seat: video, as
# Debian's seatd.service allows; each device: its node's group), as the real libseat
# (tests/tools/libseat-client) sees it. Refused: a host user at the socket's host side,
# another container with the same id map that was given the socket, a container user
# without those groups. Idle connections do not lock the compositor out, and a container
# named like another's socket (desk1.seatd.sock) gets its devices and its own endpoint.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar setpriv nsenter getent python3 find
in_own_netns "$@"
unpack_fixture

two_seat_config d
# seat2's container is named so that its socket path would be desk1's, were it made from names.
sed -i 's/^container = desk2$/container = desk1.seatd.sock/' "$work/d/seats.conf"
# The clients run as shifted and unprivileged uids: they must reach the programs.
chmod 0711 "$work"

# desk NAME: a container (own user, pid, mount and network namespaces, ids shifted by
# 200000, the host's /etc) whose init only waits; sets desk_pid[NAME].
declare -A desk_pid=()
desk() {
	"$CONTAINER_RUN" --cgroup "seatd-ns-test-access-$1-$$" --pid-file "$work/$1.pid" \
		-- sleep infinity >"$work/$1.out" 2>&1 &
	pids+=($!)
	wait_until "container $1 is up" test -s "$work/$1.pid"
	desk_pid[$1]=$(cat "$work/$1.pid")
}
# inside NAME [SETPRIV OPTIONS --] COMMAND...: runs COMMAND in the container as its root,
# or with those setpriv options (--reuid ... --groups ...); stdout and stderr.
inside() {
	local name=$1
	shift
	local as=()
	if [ "$1" != "${1#--}" ]; then
		while [ "$1" != "--" ]; do as+=("$1"); shift; done
		shift
	fi
	if [ ${#as[@]} -gt 0 ]; then
		set -- setpriv "${as[@]}" -- "$@"
	fi
	nsenter -t "${desk_pid[$name]}" -U -m -n -p -- env LIBSEAT_BACKEND=seatd "$@" 2>&1 || true
}
# host_client SETPRIV OPTIONS -- COMMAND...: COMMAND on the host with those credentials.
host_client() {
	local as=()
	while [ "$1" != "--" ]; do as+=("$1"); shift; done
	shift
	setpriv "${as[@]}" -- env LIBSEAT_BACKEND=seatd "$@" 2>&1 || true
}
gid() { getent group "$1" | cut -d: -f3; }
endpoint_up() { grep -q "$1: libseat endpoint for $2 at /run/seatd.sock" "$work/d.log"; }

desk desk1
start_daemon d --sysfs "$sysfs" --source kernel
sa d register desk1 "${desk_pid[desk1]}" >/dev/null || fail "register desk1"
wait_until "desk1 has its endpoint" endpoint_up desk1 seat1
usable="No such device or address" # the device check passed; there is no hardware behind it

# The endpoint works for the container's root: the baseline the refusals below differ from.
out=$(inside desk1 "$LIBSEAT_CLIENT" /dev/input/event1 /dev/dri/card0)
grep -qx "seat seat1 enabled" <<<"$out" || fail "desk1's root does not get seat1: $out"
grep -qx "/dev/input/event1 error $usable" <<<"$out" || fail "desk1's root, event1: $out"
grep -qx "/dev/dri/card0 error $usable" <<<"$out" || fail "desk1's root, card0: $out"

# A host user at the host side of the socket, wherever the daemon keeps it.
sockets=$(find "$work/d" -type s ! -name control.sock)
[ "$(wc -w <<<"$sockets")" -eq 1 ] || fail "not one libseat socket on the host side: $sockets"
for s in $sockets; do
	out=$(host_client --reuid 1000 --regid 1000 --clear-groups -- \
		env SEATD_SOCK="$s" "$LIBSEAT_CLIENT" /dev/input/event1)
	echo "host uid 1000 at ${s#"$work"/}: $out"
	grep -q "^open_seat error" <<<"$out" || fail "host uid 1000 used desk1's seat at $s: $out"
done

# Another container with the same id map (its root has the host uid of desk1's root), into
# which the host side of desk1's socket was mounted (a directory shared by mistake, say): it
# reaches the socket and has its owner's uid, and the endpoint refuses it all the same.
# (Made after the daemon, its mount namespace has the daemon's node tmpfs.)
desk other
nsenter -t "${desk_pid[other]}" -U -m -- touch /run/desk1.sock &&
	nsenter -t "${desk_pid[other]}" -m -- \
		mount --bind "$sockets" /run/desk1.sock ||
	fail "cannot mount desk1's socket into the other container"
out=$(inside other env SEATD_SOCK=/run/desk1.sock "$LIBSEAT_CLIENT" /dev/input/event1)
echo "the other container's root at desk1's socket: $out"
grep -q "^open_seat error" <<<"$out" || fail "another container used desk1's seat: $out"
grep -q "libseat: seat1: refused a client (pid [0-9]*, uid 200000): not a process of this container" \
	"$work/d.log" || fail "the endpoint did not say why it refused the other container"

# Inside: a user without the groups is refused the seat; with video it gets the seat and
# the GPU but not the keyboard, with video and input both.
out=$(inside desk1 --reuid 1000 --regid 1000 --clear-groups -- "$LIBSEAT_CLIENT" /dev/input/event1)
echo "desk1 uid 1000, no groups: $out"
grep -q "^open_seat error" <<<"$out" || fail "desk1's uid 1000 without groups opened the seat: $out"
out=$(inside desk1 --reuid 1000 --regid 1000 --groups "$(gid video)" -- \
	"$LIBSEAT_CLIENT" /dev/input/event1 /dev/dri/card0)
echo "desk1 uid 1000, video: $out"
grep -qx "seat seat1 enabled" <<<"$out" || fail "desk1's uid 1000 in video did not get the seat: $out"
grep -qx "/dev/dri/card0 error $usable" <<<"$out" || fail "desk1's uid 1000 in video, card0: $out"
grep -qx "/dev/input/event1 error Permission denied" <<<"$out" ||
	fail "desk1's uid 1000 without input got the keyboard: $out"
out=$(inside desk1 --reuid 1000 --regid 1000 --groups "$(gid video),$(gid input)" -- \
	"$LIBSEAT_CLIENT" /dev/input/event1)
grep -qx "/dev/input/event1 error $usable" <<<"$out" ||
	fail "desk1's uid 1000 in video and input, event1: $out"

# Idle connections (as many as the endpoint takes, from the container's root) do not keep
# the compositor out once they have idled past the grace for opening the seat.
inside desk1 python3 -c '
import socket, sys, time
held = []
for _ in range(16):
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect("/run/seatd.sock")
	held.append(s)
print("holding", len(held), flush=True)
time.sleep(3600)' >"$work/idle.out" &
pids+=($!)
wait_until "the idle connections are made" grep -q "holding 16" "$work/idle.out"
sleep 1.5
out=$(inside desk1 "$LIBSEAT_CLIENT" /dev/input/event1)
echo "desk1 root after 16 idle connections: $out"
grep -qx "seat seat1 enabled" <<<"$out" || fail "idle connections locked desk1's compositor out: $out"
grep -q "libseat: seat1: dropped a client that did not open the seat" "$work/d.log" ||
	fail "no log line for the idle client dropped"

# desk1.seatd.sock: its own nodes and endpoint, and desk1's endpoint stays.
desk desk1.seatd.sock
sa d register desk1.seatd.sock "${desk_pid[desk1.seatd.sock]}" >/dev/null ||
	fail "register desk1.seatd.sock"
wait_until "desk1.seatd.sock has its endpoint" endpoint_up desk1.seatd.sock seat2
[ -c "/proc/${desk_pid[desk1.seatd.sock]}/root/dev/input/event2" ] ||
	fail "desk1.seatd.sock has no keyboard node: $(grep desk1.seatd.sock "$work/d.log")"
out=$(inside desk1.seatd.sock "$LIBSEAT_CLIENT" /dev/input/event2)
grep -qx "seat seat2 enabled" <<<"$out" || fail "desk1.seatd.sock does not get seat2: $out"
grep -qx "/dev/input/event2 error $usable" <<<"$out" || fail "desk1.seatd.sock, event2: $out"
out=$(inside desk1 "$LIBSEAT_CLIENT")
grep -qx "seat seat1 enabled" <<<"$out" || fail "desk1 lost its endpoint to desk1.seatd.sock: $out"

kill -0 "${daemons[d]}" || fail "the daemon died"
echo "PASS"
