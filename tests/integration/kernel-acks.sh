#!/bin/bash
# The daemon injects a container's kernel-format events through the kernel into the
# container's network namespace and reads the kernel's ack to learn the verdict. A hostile
# container finds the daemon's socket there (/proc/net/netlink) and sends it forged acks
# ("Operation not permitted") by its port id: the daemon must take only the kernel's ack for
# what it sent, announce the next event without an error and the container still hear it.
. "$(dirname "$0")/lib.sh"
need_root
need jq unshare tar udevadm python3
in_own_netns "$@"
unpack_fixture

two_seat_config d
"$CONTAINER_RUN" --cgroup "seatd-ns-test-desk1-$$" --pid-file "$work/desk1.pid" -- sh -c \
	'mkdir -p /run/udev && : >/run/udev/control && exec udevadm monitor --kernel --property' \
	>"$work/desk1.udev" 2>&1 &
pids+=($!)
wait_until "container desk1 is up" test -s "$work/desk1.pid"
desk1_pid=$(cat "$work/desk1.pid")
wait_until "udevadm monitor runs in desk1" grep -q "^KERNEL - " "$work/desk1.udev"
start_daemon d --sysfs "$sysfs" --source kernel
sa d --kernel-events register desk1 "$desk1_pid" >/dev/null || fail "register desk1"
kernel_heard() { grep -q "^KERNEL.* add *$1 " "$work/desk1.udev"; }
wait_until "desk1 hears its GPU" kernel_heard /devices/pci0000:00/0000:00:05.0/drm/card0

# As desk1's root, in its network namespace: forged NLMSG_ERROR acks to every uevent socket
# that joined no group but the kernel's own (the daemon's), for every sequence number it
# may use next.
forge_acks() {
	nsenter -t "$desk1_pid" -U -n -- python3 -c '
import socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15)  # NETLINK_KOBJECT_UEVENT
s.bind((0, 0))
mine = s.getsockname()[0]
found = sent = 0
for line in open("/proc/net/netlink").readlines()[1:]:
    f = line.split()
    if f[1] != "15" or int(f[2]) in (0, mine) or int(f[3], 16) != 0:
        continue
    port = int(f[2])
    found += 1
    for seq in range(64):
        # struct nlmsgerr: -EPERM, then the header of the message it answers
        err = struct.pack("=iIHHII", -1, 16, 0, 0, seq, port)
        try:
            s.sendto(struct.pack("=IHHII", 16 + len(err), 2, 0, seq, mine) + err, (port, 0))
            sent += 1
        except ConnectionRefusedError:
            pass
print(found, sent)'
}
read -r found sent <<<"$(forge_acks)" || fail "the forger failed"
echo "forged acks: $sent queued, to $found socket(s)"
[ "$found" -ge 1 ] || fail "desk1 sees no socket of the daemon in its network namespace"
[ "$sent" -eq 0 ] || fail "the daemon's socket took $sent messages from the container"

# The next event for desk1: its own verdict, not a forged one.
sa d assign /dev/input/event2 seat1 >/dev/null || fail "assign"
dev2=/devices/pci0000:00/0000:00:07.0/usb1/1-2/1-2.1/1-2.1:1.0/0003:0627:0001.0002/input/input3/event2
wait_until "desk1 hears the keyboard" kernel_heard "$dev2"
wait_until "the daemon logged the assignment" grep -q "assigned to seat1" "$work/d.log"
if grep "cannot announce" "$work/d.log"; then
	fail "a forged ack was taken as the kernel's verdict"
fi
echo "ok: forged acks from the container did not reach the daemon's verdict"
