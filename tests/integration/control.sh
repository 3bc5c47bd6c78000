#!/bin/bash
# The control socket: anyone may connect, but only root and the control group get more than
# the login sessions, checked by the daemon itself from the peer's credentials; malformed and
# oversized requests get an error and a disconnect, and the daemon goes on serving others.
# Configuration errors name file and line.
. "$(dirname "$0")/lib.sh"
need_root
need jq setpriv python3 unshare tar
in_own_netns "$@"
unpack_fixture

group=users
gid=$(getent group "$group" | cut -d: -f3)
[ -n "$gid" ] || fail "group $group missing"
mkdir -p "$work/d"
printf '[daemon]\ncontrol-group = %s\nlog-level = debug\n' "$group" >"$work/d/seats.conf"
start_daemon d --sysfs "$sysfs" --source kernel
socket="$work/d/control.sock"
chmod 0711 "$work" "$work/d"

[ "$(stat -c '%a %g' "$socket")" = "666 $gid" ] || fail "socket mode/group: $(stat -c '%a %g' "$socket")"

as() { setpriv "$@" -- "$SEAT_ASSIGN" --socket "$socket" --json status; }
as --reuid=65534 --regid="$gid" --clear-groups >/dev/null || fail "primary group member refused"
as --reuid=65534 --regid=65534 --groups="$gid" >/dev/null || fail "supplementary member refused"

# A stranger may list the sessions, and nothing more.
if out=$(as --reuid=65534 --regid=65534 --clear-groups 2>&1); then
	fail "a non-member was served: $out"
fi
grep -q 'permission denied' <<<"$out" || fail "refusal does not say permission denied: $out"
grep -q 'control request "status" of uid 65534 refused' "$work/d.log" || fail "refusal not logged"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SEAT_ASSIGN" --socket "$socket" \
	sessions 2>&1) || fail "a stranger cannot list the sessions: $out"
[ "$out" = "no login sessions" ] || fail "sessions for a stranger: $out"
# One stranger holds at most 8 connections; root still gets in past them. (The system's
# python: one in root's home is not the stranger's to run.)
setpriv --reuid=65534 --regid=65534 --clear-groups -- /usr/bin/python3 - "$socket" <<'PY' ||
import socket, sys
held = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(b"sessions\x00")
    assert s.recv(8192) == b"end\x00", "connection %d not served" % i
    held.append(s)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(5)
assert s.recv(8192).startswith(b"error\x00message=too many clients"), "a 9th connection served"
held[0].close()
PY
	fail "the connections of one stranger are not bounded"
sa d --json status >/dev/null || fail "root refused after a stranger's connections"

# Raw clients: garbage, an oversized message, an unknown verb; each is answered and dropped.
python3 - "$socket" <<'PY' || fail "raw client checks failed"
import socket, sys
path = sys.argv[1]
def ask(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(payload)
    s.settimeout(5)
    reply = s.recv(65536)
    rest = s.recv(65536)
    s.close()
    return reply, rest
for bad in [b"\x00\x01garbage", b"devices", b"Devices\x00", b"status\x00key\x00",
            b"status\x00a=1\x00a=2\x00", b"x" * 70000]:
    reply, rest = ask(bad)
    assert reply.startswith(b"error\x00message=malformed request"), (bad[:20], reply)
    assert rest == b"", "connection not closed after a malformed request"
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
s.send(b"frobnicate\x00")
assert s.recv(8192).startswith(b'error\x00message=unknown request "frobnicate"')
s.send(b"status\x00")  # the same connection still works
assert s.recv(8192).startswith(b"status\x00")
print("raw clients: ok")
PY
kill -0 "$d_pid" || fail "daemon died"
sa d --json devices | jq -e 'length == 28' >/dev/null || fail "daemon no longer serves"

# Configuration: a missing --config file, and every broken line reported with its line number.
if "$SEATD_NS" --config "$work/missing.conf" --check-config 2>"$work/err"; then
	fail "a missing --config file was accepted"
fi
grep -q "missing.conf: No such file" "$work/err" || fail "missing config: $(cat "$work/err")"
printf '[daemon]\nsource = sideways\nbogus = 1\n[seats]\nx = y\nlog-level = debug\n[daemon\n' \
	>"$work/broken.conf"
if "$SEATD_NS" --config "$work/broken.conf" --check-config 2>"$work/err"; then
	fail "a broken config was accepted"
fi
for expected in ":2: source must be auto, kernel or udev" ':3: unknown key "bogus"' \
	":4: unknown section [seats]" ":7: syntax error"; do
	grep -qF "broken.conf$expected" "$work/err" || fail "no '$expected' in: $(cat "$work/err")"
done
"$SEATD_NS" --config "$work/d/seats.conf" --check-config >/dev/null || fail "good config refused"
echo "ok: control access, hostile clients and config errors"
