#!/usr/bin/python3
"""A service manager's end of sd_notify, for the tests: listens on the datagram socket PATH
(what NOTIFY_SOCKET names) and writes each message's lines to OUT as they come. When a
message says READY=1, it also tries the control socket CONTROL at once and writes
"control=ok" or "control=<error>": whether the daemon listened before it said it was ready.

    notify-listen.py PATH OUT CONTROL
"""

import socket
import sys


def main():
    path, out, control = sys.argv[1:4]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(out, "a") as f:
        while True:
            msg = sock.recv(4096).decode(errors="replace")
            lines = msg.splitlines()
            if "READY=1" in lines:
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                try:
                    probe.connect(control)
                    lines.append("control=ok")
                except OSError as e:
                    lines.append("control=%s" % e.strerror)
                finally:
                    probe.close()
            f.write("\n".join(lines) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
