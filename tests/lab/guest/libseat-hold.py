#!/usr/bin/python3
"""In a lab desktop container: an unmodified libseat (libseat.so.1, through ctypes) opens the
seat at /run/seatd.sock as a compositor does, opens each DEVICE given and keeps the fds, and
reports on stdout, one line each, what the kernel says about those fds:

    seat NAME enabled|not-enabled
    open PATH ok|error MESSAGE
    state STEP PATH evdev=ok|ENODEV|... drm-master=yes|no
    disabled | enabled | dispatch-error MESSAGE
    key PATH CODE                 (--keys: a key pressed, read from an evdev fd)
    read PATH ENODEV|...          (--keys: reading an evdev fd failed; it is read no more)

"state" lines are written after the opens (STEP "open"), after every disable and enable of
the seat, when the seatd connection fails, and after a failed read (STEP "read"). An evdev
fd that answers EVIOCGVERSION with ENODEV has been revoked (EVIOCREVOKE); a DRM fd is master
when DRM_IOCTL_AUTH_MAGIC passes the master check (EINVAL for an unknown magic) instead of
failing it (EACCES). Without --wait the devices are opened once the seat is enabled or after
10 s; with --wait (a container attached to a seat another one has) it says "not-enabled"
after 2 s and opens them only when the seat is enabled. Runs until killed, or SECONDS (--for)
have passed.

    libseat-hold.py [--for SECONDS] [--wait] [--keys] DEVICE...
"""
import ctypes
import fcntl
import os
import sys
import time

from evdev_keys import name, read_keys, say

EVIOCGVERSION = 0x80044501  # _IOR('E', 0x01, int)
DRM_IOCTL_AUTH_MAGIC = 0x40046411  # _IOW('d', 0x11, struct drm_auth)

CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


class Listener(ctypes.Structure):
    _fields_ = [("enable_seat", CB), ("disable_seat", CB)]


def ioctl_result(fd, req, arg):
    try:
        fcntl.ioctl(fd, req, arg)
        return "ok"
    except OSError as e:
        return name(e)


def state(step, fds):
    for path, fd in fds.items():
        if "/input/" in path:
            what = "evdev=" + ioctl_result(fd, EVIOCGVERSION, bytearray(4))
        else:
            # Magic 0 is never issued: a master gets EINVAL, anyone else EACCES.
            r = ioctl_result(fd, DRM_IOCTL_AUTH_MAGIC, bytearray(4))
            what = "drm-master=%s" % {"EINVAL": "yes", "EACCES": "no"}.get(r, r)
        say("state %s %s %s" % (step, path, what))


def main(argv):
    limit, wait, keys = None, False, False
    args = argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--for" and len(args) > 1:
            limit = time.monotonic() + float(args[1])
            args = args[2:]
        elif args[0] == "--wait":
            wait, args = True, args[1:]
        elif args[0] == "--keys":
            keys, args = True, args[1:]
        else:
            say("usage: libseat-hold.py [--for SECONDS] [--wait] [--keys] DEVICE...")
            return 2
    paths = args
    lib = ctypes.CDLL("libseat.so.1", use_errno=True)
    lib.libseat_open_seat.restype = ctypes.c_void_p
    lib.libseat_open_seat.argtypes = [ctypes.POINTER(Listener), ctypes.c_void_p]
    lib.libseat_seat_name.restype = ctypes.c_char_p
    lib.libseat_seat_name.argtypes = [ctypes.c_void_p]
    lib.libseat_open_device.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_int)]
    lib.libseat_dispatch.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.libseat_disable_seat.argtypes = [ctypes.c_void_p]

    enabled = [False]
    events = []

    def on_enable(seat, data):
        enabled[0] = True
        events.append("enabled")

    def on_disable(seat, data):
        enabled[0] = False
        events.append("disabled")
        lib.libseat_disable_seat(seat)

    listener = Listener(CB(on_enable), CB(on_disable))
    seat = lib.libseat_open_seat(ctypes.byref(listener), None)
    if not seat:
        say("open_seat error %s" % os.strerror(ctypes.get_errno()))
        return 1
    for _ in range(20 if wait else 100):
        if enabled[0]:
            break
        lib.libseat_dispatch(seat, 100)
    say("seat %s %s" % (lib.libseat_seat_name(seat).decode(),
                        "enabled" if enabled[0] else "not-enabled"))
    del events[:]
    while wait and not enabled[0] and (limit is None or time.monotonic() < limit):
        if lib.libseat_dispatch(seat, 200) == -1:
            say("dispatch-error %s" % os.strerror(ctypes.get_errno()))
            return 1
        while events:
            say(events.pop(0))
    fds = {}
    for path in paths:
        fd = ctypes.c_int(-1)
        if lib.libseat_open_device(seat, path.encode(), ctypes.byref(fd)) == -1:
            say("open %s error %s" % (path, os.strerror(ctypes.get_errno())))
        else:
            fds[path] = fd.value
            say("open %s ok" % path)
    state("open", fds)
    reading = {p: fd for p, fd in fds.items() if keys and "/input/" in p}
    for fd in reading.values():
        os.set_blocking(fd, False)
    failed = False
    while limit is None or time.monotonic() < limit:
        if failed:
            time.sleep(0.2)
            continue
        if lib.libseat_dispatch(seat, 200) == -1:
            say("dispatch-error %s" % os.strerror(ctypes.get_errno()))
            state("dispatch-error", fds)
            failed = True
        while events:
            ev = events.pop(0)
            say(ev)
            state(ev, fds)
        n = len(reading)
        read_keys(reading)
        if len(reading) < n:
            state("read", fds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
