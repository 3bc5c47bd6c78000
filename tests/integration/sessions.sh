#!/bin/bash
# Login sessions (issue 17): the daemon records who is logged in on which seat, in which
# container, one session a seat and a user; a session ends on logout, when its leader (the
# desktop's process, held by a pidfd) exits, and when its container exits; a daemon killed
# and started again keeps the sessions whose leader still runs and drops the others. Monitors
# hear login and logout. Two seats of the recorded host, real unprivileged containers.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar udevadm nsenter pgrep setpriv
in_own_netns "$@"
unpack_fixture
. "$(dirname "$0")/monitored.sh"

start_time() { awk '{ print $22 }' "/proc/$1/stat"; }
# leader NAME: a process in container NAME's namespaces (a desktop's stand-in); sets $leader
# to its host pid.
leader() {
	local pid
	pid=$(eval echo "\$${1}_pid")
	nsenter -t "$pid" -U -m -n -p -- sleep 600 &
	pids+=($!)
	wait_until "the leader in $1 runs" pgrep -P $! sleep
	leader=$(pgrep -P $! sleep)
}
session() { sa d --json sessions | jq -c ".[] | select(.seat == \"$1\")"; }
field() { session "$1" | jq -r ".$2"; }
# refused WHAT PATTERN COMMAND...: the command fails and says PATTERN.
refused() {
	local what=$1 pattern=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$what was accepted: $out"
	fi
	grep -q "$pattern" <<<"$out" || fail "$what: the refusal does not say \"$pattern\": $out"
}
heard_event() { grep -qF "$1" "$work/monitor.json"; }

two_seat_config d
container desk1
container desk2
start_daemon d --sysfs "$sysfs" --source kernel
sa d register desk1 "$desk1_pid" >/dev/null || fail "register desk1"
sa d register desk2 "$desk2_pid" >/dev/null || fail "register desk2"
sa d --json monitor >"$work/monitor.json" &
pids+=($!)
wait_until "the monitor is subscribed" eval '[ "$(status_field d clients)" -ge 2 ]'

[ "$(sa d sessions)" = "no login sessions" ] || fail "sessions at the start: $(sa d sessions)"
[ "$(sa d --json sessions)" = "[]" ] || fail "sessions --json at the start"

# A login on seat1, listed by sessions and sessions --json.
sa d login seat1 alice 1000 desk1 >/dev/null || fail "login of alice on seat1"
sa d sessions | grep -Eq '^seat1 +alice +1000 +desk1 +- +starting +[0-9]+$' ||
	fail "sessions does not list alice's: $(sa d sessions)"
[ "$(field seat1 user)/$(field seat1 uid)/$(field seat1 container)/$(field seat1 state)" = \
	"alice/1000/desk1/starting" ] || fail "sessions --json: $(session seat1)"
[ "$(session seat1 | jq -r '.uid | type')" = number ] || fail "uid is not a number: $(session seat1)"
[ "$(field seat1 leader)" = null ] || fail "a leader before login-leader: $(session seat1)"
wait_until "monitors hear the login" heard_event '"action":"login","seat":"seat1","user":"alice"'

# Refusals, each naming what is wrong; nothing changes.
refused "a second login on seat1" "seat seat1 already has a session: alice's" \
	sa d login seat1 bob 1001 desk2
refused "alice on a second seat" "alice already has a session on seat seat1" \
	sa d login seat2 alice 1000 desk2
refused "a login on an unknown seat" 'unknown seat "seat9"' sa d login seat9 bob 1001 desk2
refused "a malformed user" "invalid user name" sa d -- login seat2 -bob 1001 desk2
refused "a malformed uid" "invalid uid" sa d login seat2 bob 4294967295 desk2
refused "a malformed container" "invalid container name" sa d login seat2 bob 1001 'a/b'
refused "logout of a seat without a session" "seat seat2 has no session" sa d logout seat2
[ "$(sa d --json sessions | jq length)" -eq 1 ] || fail "a refusal changed the sessions"

# A leader outside the container, or with another start time, is refused.
sleep 600 &
pids+=($!)
refused "a host process as leader" "not in the session's container" \
	sa d login-leader seat1 $! "$(start_time $!)"
leader desk1
refused "a leader with a wrong start time" "another start time" \
	sa d login-leader seat1 "$leader" 1
sa d login-leader seat1 "$leader" "$(start_time "$leader")" >/dev/null || fail "login-leader"
[ "$(field seat1 leader)/$(field seat1 state)" = "$leader/active" ] ||
	fail "the leader is not listed: $(session seat1)"
refused "a second leader" "has a leader already" \
	sa d login-leader seat1 "$leader" "$(start_time "$leader")"

# The leader exits: the session ends, monitors hear why.
kill "$leader"
wait_until "alice's session ends with its leader" eval '[ -z "$(session seat1)" ]'
wait_until "monitors hear the logout" heard_event \
	'"action":"logout","seat":"seat1","user":"alice","container":"desk1","reason":"exited"'

# Logout ends a session; a new login on the seat is accepted then.
sa d login seat1 bob 1001 desk1 >/dev/null || fail "login of bob on the freed seat1"
sa d logout seat1 >/dev/null || fail "logout of seat1"
[ -z "$(session seat1)" ] || fail "bob's session outlived the logout"
wait_until "monitors hear the logout" heard_event '"user":"bob","container":"desk1","reason":"logout"'

# wait-session: a waiter hears a move (and where to), then a logout; a seat without a
# session is refused at once.
refused "a wait on a seat without a session" "seat seat2 has no session" sa d wait-session seat2
sa d login seat1 gina 1006 desk1 >/dev/null || fail "login of gina"
# Anyone may connect: a user lists the sessions and waits for their own, and nothing more.
chmod 0711 "$work" "$work/d"
as_uid() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"; }
out=$(as_uid 1007 "$SEAT_ASSIGN" --socket "$work/d/control.sock" --json sessions)
[ "$(jq -r '.[0].user' <<<"$out")" = gina ] || fail "a user cannot list the sessions: $out"
refused "a wait for another user's session" "seat seat1 has no session of yours" \
	timeout 5 setpriv --reuid=1007 --regid=1007 --clear-groups -- \
	"$SEAT_ASSIGN" --socket "$work/d/control.sock" wait-session seat1
refused "a login by a user" "permission denied" \
	as_uid 1006 "$SEAT_ASSIGN" --socket "$work/d/control.sock" login seat2 gina 1006 desk2
refused "a logout by a user" "permission denied" \
	as_uid 1006 "$SEAT_ASSIGN" --socket "$work/d/control.sock" logout seat1
[ "$(field seat1 user)" = gina ] || fail "a user's refused request changed the sessions"
as_uid 1006 "$SEAT_ASSIGN" --socket "$work/d/control.sock" wait-session seat1 >"$work/wait1.out" 2>&1 &
waiter=$!
pids+=($waiter)
sleep 0.5
kill -0 $waiter || fail "wait-session returned while the session is on seat1: $(cat "$work/wait1.out")"
refused "a move to a seat with a session" "seat seat1 already has a session: gina's" \
	sa d move-session seat1 seat1
refused "a move to an unknown seat" 'unknown seat "seat9"' sa d move-session seat1 seat9
sa d move-session seat1 seat2 >/dev/null || fail "move of gina's session to seat2"
wait "$waiter" || fail "wait-session failed: $(cat "$work/wait1.out")"
[ "$(cat "$work/wait1.out")" = "moved seat2" ] || fail "wait-session after a move: $(cat "$work/wait1.out")"
[ "$(field seat2 user)" = gina ] && [ -z "$(session seat1)" ] || fail "the move: $(sa d sessions)"
wait_until "monitors hear the move" heard_event \
	'"action":"move","seat":"seat2","user":"gina","container":"desk1","from":"seat1"'
sa d wait-session seat2 >"$work/wait2.out" 2>&1 &
waiter=$!
pids+=($waiter)
sleep 0.5
sa d logout seat2 >/dev/null || fail "logout of gina"
wait "$waiter" || fail "wait-session failed: $(cat "$work/wait2.out")"
[ "$(cat "$work/wait2.out")" = "logout" ] || fail "wait-session after a logout: $(cat "$work/wait2.out")"

# A daemon killed and started again keeps the session whose leader still runs (carol's) and
# drops the one whose leader exited meanwhile (dave's).
sa d login seat1 carol 1002 desk1 >/dev/null || fail "login of carol"
leader desk1
carol_leader=$leader
sa d login-leader seat1 "$leader" "$(start_time "$leader")" >/dev/null || fail "carol's leader"
sa d login seat2 dave 1003 desk2 >/dev/null || fail "login of dave"
leader desk2
dave_leader=$leader
sa d login-leader seat2 "$leader" "$(start_time "$leader")" >/dev/null || fail "dave's leader"
grep -q "^seat1 carol 1002 desk1 [0-9]* $carol_leader " "$work/d/sessions" ||
	fail "the sessions file lacks carol's: $(cat "$work/d/sessions")"
kill -KILL "${daemons[d]}"
wait "${daemons[d]}" 2>/dev/null || true
unset 'daemons[d]'
kill "$dave_leader"
wait_until "dave's leader is gone" eval '! kill -0 $dave_leader'
mv "$work/d.log" "$work/d.log.1"
start_daemon d --sysfs "$sysfs" --source kernel
wait_until "the daemon answers" sa d status
[ "$(field seat1 user)/$(field seat1 leader)/$(field seat1 state)" = \
	"carol/$carol_leader/active" ] || fail "carol's session after the restart: $(sa d sessions)"
[ -z "$(session seat2)" ] || fail "dave's session outlived its leader: $(sa d sessions)"
grep -q "session of dave on seat2 dropped: its leader no longer runs" "$work/d.log" ||
	fail "dropping dave's session was not logged: $(cat "$work/d.log")"
! grep -q "^seat2 " "$work/d/sessions" || fail "dave's session stayed in the file"
# The new daemon watches carol's leader too.
kill "$carol_leader"
wait_until "carol's session ends with its leader after the restart" eval '[ -z "$(session seat1)" ]'

# Its container is unregistered, its leader still running: the session ends. And a session
# without a leader ends when its container exits (with a leader, the leader's exit, which
# comes with the container's, may be heard first).
sa d --json monitor >"$work/monitor.json" &
pids+=($!)
wait_until "the monitor is subscribed again" eval '[ "$(status_field d clients)" -ge 2 ]'
sa d login seat2 erin 1004 desk2 >/dev/null || fail "login of erin"
leader desk2
sa d login-leader seat2 "$leader" "$(start_time "$leader")" >/dev/null || fail "erin's leader"
sa d unregister desk2 >/dev/null || fail "unregister desk2"
wait_until "erin's session ends with its container's registration" eval '[ -z "$(session seat2)" ]'
kill -0 "$leader" || fail "erin's leader is gone: the test proves nothing"
wait_until "monitors hear why" heard_event '"user":"erin","container":"desk2","reason":"container"'
sa d login seat1 frank 1005 desk1 >/dev/null || fail "login of frank"
kill -KILL "$desk1_pid"
wait_until "frank's session ends with its container" eval '[ -z "$(session seat1)" ]'
wait_until "monitors hear why" heard_event '"user":"frank","container":"desk1","reason":"container"'
kill -0 "${daemons[d]}" || fail "the daemon died"
echo "PASS: login, listing, refusals, leader exit, logout, restart, container exit"
