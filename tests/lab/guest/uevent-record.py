#!/usr/bin/python3
"""Records the kernel's uevents, as a NETLINK_KOBJECT_UEVENT socket bound to group 1 receives
them, to OUT: records of [u32 little-endian length][payload], flushed one by one. Touches
READY once the socket listens; stops on SIGTERM.

    uevent-record.py OUT READY
"""

import signal
import socket
import struct
import sys

NETLINK_KOBJECT_UEVENT = 15
KERNEL_GROUP = 1
SO_RCVBUFFORCE = 33


def main():
    out, ready = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
    # Module loading emits hundreds of events at once.
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    sock.bind((0, KERNEL_GROUP))
    open(ready, "w").close()
    with open(out, "ab") as f:
        while True:
            data, (sender, _) = sock.recvfrom(1 << 16)
            if sender != 0:  # the kernel sends with port id 0
                continue
            f.write(struct.pack("<I", len(data)) + data)
            f.flush()


if __name__ == "__main__":
    main()
