#!/bin/bash
# The control socket's reply queues are bounded per client and all together: 32 clients
# (of the 256 allowed) that ask for the device list again and again and never read are
# disconnected before the daemon holds more than a few MiB for them, and it goes on serving
# the others.
. "$(dirname "$0")/lib.sh"
need_root
need python3 unshare tar
in_own_netns "$@"
unpack_fixture
start_daemon d --sysfs "$sysfs" --source kernel

python3 - "$work/d/control.sock" "${daemons[d]}" <<'PY' || fail "the flooding clients were not stopped"
import socket, sys, time
path, pid = sys.argv[1], sys.argv[2]
LIMIT = 48 << 20  # the daemon's bound (16 MiB) with room for allocator overheads

def kib(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) << 10

before = kib("VmRSS")
clients = []
for _ in range(32):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.setblocking(False)
    clients.append(s)
open_clients = set(range(len(clients)))
deadline = time.monotonic() + 20
while open_clients and time.monotonic() < deadline:
    grown = kib("VmHWM") - before
    if grown > LIMIT:
        sys.exit(f"the daemon grew by {grown >> 20} MiB for clients that do not read")
    for i in list(open_clients):
        try:
            while True:
                clients[i].send(b"devices\0")
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            open_clients.discard(i)
    time.sleep(0.01)
grown = kib("VmHWM") - before
print(f"{len(clients) - len(open_clients)} of {len(clients)} flooding clients disconnected; "
      f"the daemon grew by at most {grown >> 20} MiB")
if open_clients or grown > LIMIT:
    sys.exit(1)
PY
grep -q "control client does not read its replies, disconnected" "$work/d.log" ||
	fail "the disconnects were not logged"
[ "$(sa d devices | grep -c /dev/)" -gt 0 ] || fail "the daemon does not serve after the flood"
[ "$(status_field d clients)" = 1 ] || fail "flooding clients are still connected"
echo "ok: reply queues bounded"
