#!/bin/bash
# pam_seatd_ns.so through real PAM (tests/tools/pam-session, a PAM application that opens a
# session, waits and closes it, with the services in a directory of the test's; and pamtester
# with a service in /etc/pam.d) against the real daemon on the recorded two-seat host, with
# real unprivileged LXC containers. The seats' own containers are greeters: libseat clients
# (desk.sh). Test users are made with useradd and removed after.
#
# A first login makes the user's container from the template (the user's uid and gid mapped
# through), starts it, gives it the seat and runs the desktop inside as the user, as the host
# sees it; the PAM environment has XDG_*. `seat-assign wait-session`, run as the user (the
# display manager's session command), returns at logout. Closing logs out, gives the seat
# back to its greeter and stops the container, or keeps it (after-logout=keep). Follow me: a
# login on the second seat moves the running desktop there and the first seat gets its
# greeter back. Refused, with a clear message and nothing left: no seat, an unknown user, no
# template, a template that does not start, a seat taken by another user. A container
# killed during the session ends it; closing then gives the seat back.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar lxc-create lxc-copy lxc-start lxc-stop lxc-destroy lxc-info lxc-ls busybox \
	rsync useradd userdel setpriv pamtester
[ -n "${PAM_MODULE:-}" ] && [ -n "${PAM_SESSION:-}" ] || fail "PAM_MODULE and PAM_SESSION unset"
in_own_netns "$@"

repo=$(cd "$(dirname "$0")/../.." && pwd)
SEAT_ASSIGN=$(realpath "$SEAT_ASSIGN")
PAM_MODULE=$(realpath "$PAM_MODULE")
sock="$work/d/control.sock"
export SEAT_ASSIGN SEATD_NS_SOCKET="$sock"
lxcpath="$work/lxc"
chmod 711 "$work"
mkdir -m 711 "$lxcpath" "$work/home"
pivots_before=$(find /sys/fs/cgroup -maxdepth 2 -name lxc.pivot 2>/dev/null | sort)

users=()
etc_service=/etc/pam.d/seatd-ns-test-$$
# Meson's timeout kills a test (SIGTERM, then SIGKILL half a second later) before its cleanup
# can end: a run cleans up after earlier ones too. Their users, PAM services, containers and
# scratch directories carry their pid (the scratch directory's pam.pid): those of a run that
# still runs are left alone, and nothing else is touched.
echo $$ >"$work/pam.pid"
live_run() { grep -qs 'pam\.sh' "/proc/$1/cmdline"; }
# stop_containers LXCPATH: stops and destroys the containers there, none waited on for long.
stop_containers() {
	local ct
	for ct in $(timeout 10 lxc-ls -P "$1" 2>/dev/null); do
		timeout 15 lxc-stop -P "$1" -n "$ct" -k >/dev/null 2>&1
		timeout 10 lxc-destroy -P "$1" -n "$ct" -f >/dev/null 2>&1
	done
}
# remove_user NAME: the test user, its processes killed first. userdel refuses a user with
# processes, zombies too: a desktop killed with its container is init's to reap, which takes
# a moment.
remove_user() {
	for _ in $(seq 50); do
		pkill -KILL -u "$1" 2>/dev/null || break
		sleep 0.1
	done
	local out
	out=$(timeout 10 userdel "$1" 2>&1) || echo "userdel $1 failed: $out" >&2
}
# remove_cgroups PID: LXC's cgroups of the run's containers (desktop-sdnpaPID and
# desktop-sdnpbPID), which stay after a stop, in every hierarchy; their processes killed if a
# run was killed with them running.
remove_cgroups() {
	local dir procs
	find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d \
		-regex ".*/lxc\.\(monitor\|payload\)\.desktop-sdnp[ab]$1\(-[0-9]+\)?" 2>/dev/null |
		while read -r dir; do
			for _ in 1 2 3; do
				procs=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
				[ -z "$procs" ] && break
				kill -KILL $procs 2>/dev/null
				sleep 0.2
			done
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null ||
				echo "cgroup $dir cannot be removed" >&2
		done
}
earlier_runs() {
	local dir pid u
	for dir in "${TMPDIR:-/tmp}"/seatd-ns-test.*; do
		[ -f "$dir/pam.pid" ] && [ "$dir" != "$work" ] || continue
		pid=$(cat "$dir/pam.pid")
		live_run "$pid" && continue
		echo "cleaning up after an earlier run ($pid) killed before its cleanup" >&2
		[ -d "$dir/lxc" ] && stop_containers "$dir/lxc"
		# Its daemon, greeters and PAM sessions.
		grep -lsF "$dir/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 |
			xargs -r kill -KILL 2>/dev/null
		awk -v w="$dir/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			xargs -r -n 1 umount -l 2>/dev/null
		rm -rf "$dir"
		# The greeters' cgroups, which container-run removes when it is not killed.
		find /sys/fs/cgroup -maxdepth 3 -type d -name "seatd-ns-test-desk[12]-$pid" 2>/dev/null |
			xargs -r rmdir 2>/dev/null
	done
	for u in $(getent passwd | cut -d: -f1 | grep -E '^sdnp[ab][0-9]+$'); do
		pid=${u#sdnp?}
		live_run "$pid" || remove_user "$u"
	done
	find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d \
		-regex '.*/lxc\.\(monitor\|payload\)\.desktop-sdnp[ab][0-9]+\(-[0-9]+\)?' 2>/dev/null |
		sed 's/.*desktop-sdnp[ab]\([0-9]*\).*/\1/' | sort -u | while read -r pid; do
			live_run "$pid" || remove_cgroups "$pid"
		done
	for u in /etc/pam.d/seatd-ns-test-*; do
		[ -e "$u" ] || continue
		live_run "${u##*-}" || rm -f "$u"
	done
}
pam_cleanup() {
	local status=$1 u
	rm -f "$etc_service"
	if [ "$status" -ne 0 ] && [ "$status" -ne "$SKIP" ]; then
		echo "--- PAM sessions" >&2
		for f in "$work"/*.pam; do
			[ -f "$f" ] && { echo "$f:"; tail -n 5 "$f"; } >&2
		done
		echo "--- LXC (hooks and errors)" >&2
		grep -hE 'seatd-ns-hook|ERROR' "$lxcpath"/*.log 2>/dev/null | tail -n 20 >&2
	fi
	stop_containers "$lxcpath"
	for u in "${users[@]}"; do
		remove_user "$u"
	done
	remove_cgroups $$
	find /sys/fs/cgroup -maxdepth 2 -name lxc.pivot 2>/dev/null | while read -r pivot; do
		grep -qxF "$pivot" <<<"$pivots_before" || rmdir "$pivot" 2>/dev/null || true
	done
}
(set +e; earlier_runs)
trap 'st=$?; set +e; pam_cleanup $st; (exit $st); cleanup' EXIT

# Two users of this test, each with a home of their own.
for who in a b; do
	u=sdnp$who$$
	# No subordinate ids: userdel takes a process in a user's range for theirs (the
	# greeters' and the containers' ids shifted by 200000 would be in one).
	useradd -M -d "$work/home/$u" -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$u" ||
		fail "useradd $u"
	users+=("$u")
	mkdir -m 700 "$work/home/$u"
	chown "$u:" "$work/home/$u"
	eval "user_$who=$u uid_$who=$(id -u "$u") gid_$who=$(id -g "$u")"
done

# The template: an unprivileged busybox container (ids shifted by 200000) with the seatd-ns
# include (its hooks from this tree) and, at the module's default path, the desktop: it notes
# who it runs as and its environment in the user's home, then waits.
cat >"$work/base.conf" <<'CONF'
lxc.idmap = u 0 200000 65536
lxc.idmap = g 0 200000 65536
lxc.net.0.type = empty
CONF
lxc-create -P "$lxcpath" -n tmpl -t busybox -f "$work/base.conf" >"$work/lxc-create.out" 2>&1 ||
	fail "lxc-create -t busybox: $(cat "$work/lxc-create.out")"
sed "s|^\(lxc\.hook\.[a-z-]* = \)/.*/seatd-ns-hook\$|\1$repo/desktop/lxc/seatd-ns-hook|" \
	"$repo/desktop/lxc/seatd-ns.conf" >"$work/seatd-ns.conf"
cat >>"$lxcpath/tmpl/config" <<CONF
lxc.mount.entry = /usr usr none bind,ro,create=dir 0 0
lxc.include = /usr/share/lxc/config/common.conf
lxc.include = $work/seatd-ns.conf
lxc.log.file = $lxcpath/containers.log
lxc.log.level = DEBUG
CONF
mkdir -p "$lxcpath/tmpl/rootfs/etc/seatd-ns"
cat >"$lxcpath/tmpl/rootfs/etc/seatd-ns/desktop" <<'SH'
#!/bin/sh
{
	echo "uid $(id -u) gid $(id -g) pid $$"
	env | grep -E '^(XDG_|HOME=)' | sort
	ls -dn "$XDG_RUNTIME_DIR"
} >"$HOME/desktop.out"
exec sleep 100000
SH
chmod 755 "$lxcpath/tmpl/rootfs/etc/seatd-ns/desktop"
# A template that does not start: its own start-host hook fails, after seatd-ns's.
lxc-copy -P "$lxcpath" -n tmpl -N badtmpl >"$work/lxc-copy.out" 2>&1 ||
	fail "lxc-copy: $(cat "$work/lxc-copy.out")"
echo "lxc.hook.start-host = /bin/false" >>"$lxcpath/badtmpl/config"

# The daemon with its two seats, each with its greeter (seat1: desk1, seat2: desk2).
unpack_fixture
two_seat_config d
. "$(dirname "$0")/desk.sh"
start_daemon d --sysfs "$sysfs" --source kernel
desk desk1
desk desk2
register desk1 || fail "register desk1"
register desk2 || fail "register desk2"
active() { sa d --json seats | jq -r --arg s "$1" '.[] | select(.name == $s) | .container'; }
attached() {
	sa d --json seats | jq -r --arg s "$1" '.[] | select(.name == $s) | .containers | join(" ")'
}
wait_until "seat1 is desk1's" test "$(active seat1)" = desk1
wait_until "seat2 is desk2's" test "$(active seat2)" = desk2

# The PAM services: the module on the seat, and the variants.
mkdir "$work/pam.d"
common="$PAM_MODULE socket=$sock lxcpath=$lxcpath"
service() {
	echo "session required $common $2" >"$work/pam.d/$1"
}
service seat1 "seat=seat1 template=tmpl"
service seat2 "seat=seat2 template=tmpl"
service seat2-keep "seat=seat2 template=tmpl after-logout=keep"
service seat1-bad "seat=seat1 template=badtmpl"
service seat1-none "seat=seat1"
service noseat "template=tmpl"

# login NAME SERVICE USER: opens a session in the background (pam-session, output in
# $work/NAME.pam) and waits until it opened or failed; close NAME ends it.
login() {
	local name=$1
	mkfifo "$work/$name.in"
	"$PAM_SESSION" "$work/pam.d" "$2" "$3" <"$work/$name.in" >"$work/$name.pam" 2>&1 &
	pids+=($!)
	eval "${name}_proc=$!"
	exec {fd}>"$work/$name.in"
	eval "${name}_fd=$fd"
	for _ in $(seq 600); do
		grep -q '^open ' "$work/$name.pam" && return 0
		sleep 0.1
	done
	fail "$name: the session neither opened nor failed in 60 s"
}
# A line ends it, not the end of the FIFO: processes started later hold its write end too.
# A refused session's pam-session has exited (or is exiting): the line then goes nowhere,
# not killing the test with SIGPIPE. Its exit status: 0 closed, 1 not opened, 2 not closed.
# Meson kills a test that times out without its cleanup: no wait here is unbounded.
close() {
	local name=$1 fd proc
	fd=$(eval echo "\$${1}_fd")
	proc=$(eval echo "\$${1}_proc")
	(trap '' PIPE; echo >&"$fd") 2>/dev/null || true
	exec {fd}>&-
	exited "$proc" "$name did not close in 60 s: $(cat "$work/$name.pam")"
}
# exited PID WHAT: waits up to 60 s for PID to exit; its exit status.
exited() {
	for _ in $(seq 600); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "$2"
	wait "$1"
}
# not_opened NAME: closes a refused session, whose pam-session must say so by its exit
# status (1; a sanitizer's report would change it).
not_opened() {
	local status=0
	close "$1" || status=$?
	[ "$status" -eq 1 ] || fail "$1's pam-session exited with $status, not 1: $(cat "$work/$1.pam")"
}
opened() { grep -qx 'open ok' "$work/$1.pam" || fail "$1 did not open: $(cat "$work/$1.pam")"; }
session() { sa d --json sessions | jq -r --arg s "$1" ".[] | select(.seat == \$s) | .$2"; }
state() { lxc-info -P "$lxcpath" -n "$1" -s -H 2>/dev/null; }
no_session() { [ "$(sa d --json sessions | jq length)" = 0 ] || fail "$1: $(sa d sessions)"; }

# 1. A first login: the container made from the template, started, given the seat.
ct_a=desktop-$user_a
login a1 seat1 "$user_a"
opened a1
[ "$(state "$ct_a")" = RUNNING ] || fail "$ct_a is not running: $(state "$ct_a")"
grep -qx "lxc.idmap = u $uid_a $uid_a 1" "$lxcpath/$ct_a/config" ||
	fail "$ct_a does not map uid $uid_a through: $(grep idmap "$lxcpath/$ct_a/config")"
grep -qx "lxc.idmap = g $gid_a $gid_a 1" "$lxcpath/$ct_a/config" ||
	fail "$ct_a does not map gid $gid_a through"
grep -qx "lxc.idmap = u 0 200000 $uid_a" "$lxcpath/$ct_a/config" ||
	fail "$ct_a's other ids are not the template's"
[ "$(active seat1)" = "$ct_a" ] || fail "seat1 is not $ct_a's: $(sa d seats)"
wait_until "desk1 lets the seat go" has_events desk1 disable 1
[ "$(session seat1 user)" = "$user_a" ] || fail "no session of $user_a on seat1: $(sa d sessions)"
[ "$(session seat1 container)" = "$ct_a" ] || fail "the session is not in $ct_a"
[ "$(session seat1 state)" = active ] || fail "the session has no leader: $(sa d sessions)"
leader=$(session seat1 leader)
# Not a child of the display manager, which would not reap it: its zombie would keep the
# container's init from finishing, and the container from stopping.
[ "$(awk '/^PPid:/ { print $2 }' "/proc/$leader/status")" != "$a1_proc" ] ||
	fail "the desktop (pid $leader) is a child of the display manager"
# The desktop runs as the user, as the host sees it, and writes the user's files in the home.
wait_until "the desktop ran" test -s "$work/home/$user_a/desktop.out"
out="$work/home/$user_a/desktop.out"
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$leader/status")" = "$uid_a" ] ||
	fail "the desktop (pid $leader) runs as $(grep Uid: "/proc/$leader/status"), not $uid_a"
[ "$(stat -c %u:%g "$out")" = "$uid_a:$gid_a" ] ||
	fail "the home's file is $(stat -c %u:%g "$out")'s"
grep -qx "uid $uid_a gid $gid_a pid .*" "$out" || fail "inside, the desktop is $(head -n 1 "$out")"
for var in XDG_SEAT=seat1 XDG_SESSION_ID=c1 XDG_SESSION_TYPE=wayland \
	"XDG_RUNTIME_DIR=/run/user/$uid_a" "HOME=$work/home/$user_a"; do
	grep -qx "$var" "$out" || fail "the desktop lacks $var: $(cat "$out")"
done
grep -q "^drwx------ .* $uid_a *$gid_a .*/run/user/$uid_a\$" "$out" ||
	fail "XDG_RUNTIME_DIR is not the user's: $(tail -n 1 "$out")"
for var in XDG_SEAT=seat1 XDG_SESSION_ID=c1 XDG_SESSION_TYPE=wayland SEATD_NS_CONTAINER="$ct_a"; do
	grep -qx "env $var" "$work/a1.pam" || fail "the PAM environment lacks $var: $(cat "$work/a1.pam")"
done

# The display manager's session command, as the user: waits until logout.
setpriv --reuid "$uid_a" --regid "$gid_a" --clear-groups "$SEAT_ASSIGN" --socket "$sock" \
	wait-session seat1 >"$work/wait.out" 2>&1 &
waiter=$!
pids+=($waiter)
sleep 0.3
kill -0 "$waiter" 2>/dev/null || fail "wait-session did not wait: $(cat "$work/wait.out")"

# 2. A second user on the taken seat is refused, and nothing changes.
login b1 seat1 "$user_b"
grep -q '^open failed' "$work/b1.pam" || fail "$user_b got the taken seat1: $(cat "$work/b1.pam")"
grep -q "^error: .*$user_a" "$work/b1.pam" ||
	fail "the refusal does not name $user_a: $(cat "$work/b1.pam")"
[ "$(session seat1 user)" = "$user_a" ] || fail "$user_a lost seat1: $(sa d sessions)"
[ "$(active seat1)" = "$ct_a" ] || fail "seat1 left $ct_a"
[ -e "$lxcpath/desktop-$user_b" ] && fail "a container was made for the refused $user_b"
not_opened b1

# 3. Logout: the session ends, the waiter hears it, seat1 is desk1's again, the container
# stops (after-logout=stop, the default) and is no longer attached.
close a1 || fail "a1 did not close: $(cat "$work/a1.pam")"
exited "$waiter" "wait-session did not return at logout" ||
	fail "wait-session failed: $(cat "$work/wait.out")"
grep -q "logout" "$work/wait.out" || fail "wait-session did not say logout: $(cat "$work/wait.out")"
no_session "a session is left after logout"
[ "$(active seat1)" = desk1 ] || fail "seat1 was not given back to desk1: $(sa d seats)"
attached seat1 | grep -qw "$ct_a" && fail "$ct_a stays attached to seat1"
[ "$(state "$ct_a")" = STOPPED ] || fail "$ct_a was not stopped: $(state "$ct_a")"
kill -0 "$leader" 2>/dev/null && fail "the desktop outlived the logout"
wait_until "desk1 has the seat again" has_events desk1 enable 2

# 4. Refusals that leave nothing: no template, a template that does not start, no seat,
# an unknown user. seat1 stays desk1's, no session, no container of user b.
ct_b=desktop-$user_b
if [ -e /etc/seatd-ns/desktop-template ]; then
	echo "note: /etc/seatd-ns/desktop-template exists: the login without a template is not tried"
else
	login b2 seat1-none "$user_b"
	grep -q '^open failed' "$work/b2.pam" || fail "a login without a template opened"
	grep -q "^error: .*no template" "$work/b2.pam" || fail "no template: $(cat "$work/b2.pam")"
	not_opened b2
fi
login b3 seat1-bad "$user_b"
grep -q '^open failed' "$work/b3.pam" || fail "a container that does not start was logged in"
grep -q "^error: .*$ct_b failed to start" "$work/b3.pam" ||
	fail "the failed start is not said: $(cat "$work/b3.pam")"
not_opened b3
# pamtester is not built with the sanitizers: a sanitizer build's module needs their runtimes
# preloaded.
sanitizers=$(ldd "$PAM_MODULE" | awk '$1 ~ /^lib(a|ub)san\.so/ { print $3 }' | paste -sd: -)
pamtester_out=$(cp "$work/pam.d/noseat" "$etc_service" &&
	LD_PRELOAD=$sanitizers pamtester "${etc_service##*/}" "$user_b" open_session 2>&1) &&
	fail "pamtester opened a session without a seat: $pamtester_out"
grep -q "no seat" <<<"$pamtester_out" || fail "no seat: $pamtester_out"
rm -f "$etc_service"
login x1 seat1 "nosuchuser$$"
grep -q "^error: .*unknown user nosuchuser$$" "$work/x1.pam" ||
	fail "unknown user: $(cat "$work/x1.pam")"
not_opened x1
no_session "a refused login left a session"
[ -e "$lxcpath/$ct_b" ] && fail "a refused login left the container $ct_b"
[ "$(active seat1)" = desk1 ] || fail "a refused login left seat1 $(active seat1)'s"
[ "$(attached seat1)" = desk1 ] || fail "a refused login left seat1 with $(attached seat1)"
registered() { sa d register "$1" 4194304 2>&1 | grep -q "a container of that name is registered"; }
registered "$ct_b" && fail "a refused login left $ct_b registered"

# 5. after-logout=keep: the container runs on, the seat goes back, the desktop ends.
login b4 seat2-keep "$user_b"
opened b4
[ "$(active seat2)" = "$ct_b" ] || fail "seat2 is not $ct_b's"
leader_b=$(session seat2 leader)
[ -n "$leader_b" ] && kill -0 "$leader_b" || fail "no desktop of $user_b runs: $(sa d sessions)"
close b4 || fail "b4 did not close: $(cat "$work/b4.pam")"
[ "$(state "$ct_b")" = RUNNING ] || fail "after-logout=keep stopped $ct_b"
[ "$(active seat2)" = desk2 ] || fail "seat2 was not given back to desk2"
attached seat2 | grep -qw "$ct_b" && fail "$ct_b stays attached to seat2"
no_session "a session is left after a logout keeping the container"
# Its zombie is init's to reap (not the display manager's): gone, or a zombie.
ended() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
wait_until "$user_b's desktop ends at logout" ended "$leader_b"

# 6. Follow me: user a on seat1, then on seat2: the desktop moves (no second session),
# seat1 gets desk1 back; closing seat1's session leaves the desktop running on seat2.
login a2 seat1 "$user_a"
opened a2
leader=$(session seat1 leader)
login a3 seat2 "$user_a"
opened a3
grep -qx "env XDG_SEAT=seat2" "$work/a3.pam" ||
	fail "the moved session's PAM environment: $(cat "$work/a3.pam")"
[ "$(session seat2 user)" = "$user_a" ] ||
	fail "the session did not move to seat2: $(sa d sessions)"
[ "$(sa d --json sessions | jq length)" = 1 ] || fail "a second session: $(sa d sessions)"
[ "$(session seat2 leader)" = "$leader" ] || fail "the moved session has another desktop"
[ "$(active seat2)" = "$ct_a" ] || fail "seat2 is not $ct_a's"
[ "$(active seat1)" = desk1 ] || fail "seat1 was not given back to desk1 on the move"
attached seat1 | grep -qw "$ct_a" && fail "$ct_a stays attached to seat1 after the move"
close a2 || fail "a2 did not close: $(cat "$work/a2.pam")"
[ "$(state "$ct_a")" = RUNNING ] || fail "closing the old seat's session stopped $ct_a"
[ "$(session seat2 user)" = "$user_a" ] || fail "closing seat1 ended the session on seat2"
kill -0 "$leader" || fail "closing seat1 ended the desktop"

# 7. The container killed during the session: the session ends; closing gives seat2 back.
timeout 30 lxc-stop -P "$lxcpath" -n "$ct_a" -k || fail "lxc-stop -k $ct_a failed or hung"
[ "$(state "$ct_a")" = STOPPED ] || fail "$ct_a was not killed: $(state "$ct_a")"
wait_until "the session ends with its container" \
	eval '[ "$(sa d --json sessions | jq length)" = 0 ]'
ended "$leader" || fail "the desktop outlived its container"
close a3 || fail "a3 did not close: $(cat "$work/a3.pam")"
[ "$(active seat2)" = desk2 ] || fail "seat2 was not given back after its container died"
attached seat2 | grep -qw "$ct_a" && fail "$ct_a stays attached to seat2"

kill -0 "${daemons[d]}" || fail "the daemon died"
echo "PASS: logins, logouts, follow me and refusals through pam_seatd_ns.so"
