"""What the lab's holder scripts in the containers share (hold-direct.py, libseat-hold.py):
a line to the host, an errno's name, and the keys pressed on evdev fds they hold."""

import errno
import os
import select
import struct
import sys

INPUT_EVENT = struct.Struct("@llHHi")  # struct input_event: timeval, type, code, value
EV_KEY = 1


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def read_keys(reading, timeout=0):
    """Says which keys were pressed on the evdev fds in `reading` (path -> fd), waiting up to
    `timeout` seconds for one; drops an fd whose read fails (a revoked one: ENODEV)."""
    if not reading:
        return
    ready, _, _ = select.select(list(reading.values()), [], [], timeout)
    for path, fd in list(reading.items()):
        if fd not in ready:
            continue
        try:
            data = os.read(fd, INPUT_EVENT.size * 64)
        except BlockingIOError:
            continue
        except OSError as e:
            say("read %s %s" % (path, name(e)))
            del reading[path]
            continue
        for off in range(0, len(data) - INPUT_EVENT.size + 1, INPUT_EVENT.size):
            _, _, kind, code, value = INPUT_EVENT.unpack_from(data, off)
            if kind == EV_KEY and value == 1:
                say("key %s %d" % (path, code))
