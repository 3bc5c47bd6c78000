#!/usr/bin/python3
"""In a lab desktop container: opens each DEVICE itself (not through libseat), as a process
that wants to keep listening after its seat is gone would, keeps the fds, and reports on
stdout, one line each:

    open PATH ok|ERRNO
    key PATH CODE            an evdev fd read a key press
    read PATH ERRNO          reading an evdev fd failed (a revoked one: ENODEV); read no more
    state PATH ok|ERRNO      a sound fd's version ioctl, at the start and whenever it changes
                             (a disconnected card's files: ENODEV)

Event nodes are opened read-only, PCM nodes as their direction asks (a playback PCM to write,
a capture PCM to read), other sound nodes read-only. Runs until killed, or SECONDS (--for)
have passed.

    hold-direct.py [--for SECONDS] DEVICE...
"""
import fcntl
import os
import sys
import time

from evdev_keys import name, read_keys, say

SNDRV_PCM_IOCTL_PVERSION = 0x80044100  # _IOR('A', 0x00, int)
SNDRV_CTL_IOCTL_PVERSION = 0x80045500  # _IOR('U', 0x00, int)


def sound_state(path, fd):
    req = SNDRV_PCM_IOCTL_PVERSION if "/pcmC" in path else SNDRV_CTL_IOCTL_PVERSION
    try:
        fcntl.ioctl(fd, req, bytearray(4))
        return "ok"
    except OSError as e:
        return name(e)


def main(argv):
    args = argv[1:]
    limit = None
    if len(args) >= 2 and args[0] == "--for":
        limit = time.monotonic() + float(args[1])
        args = args[2:]
    evdev, sound = {}, {}
    for path in args:
        flags = os.O_WRONLY if path.startswith("/dev/snd/pcmC") and path.endswith("p") \
            else os.O_RDONLY
        try:
            fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            say("open %s %s" % (path, name(e)))
            continue
        say("open %s ok" % path)
        (evdev if "/input/" in path else sound)[path] = fd
    last = {}
    while limit is None or time.monotonic() < limit:
        for path, fd in sound.items():
            now = sound_state(path, fd)
            if last.get(path) != now:
                say("state %s %s" % (path, now))
                last[path] = now
        if evdev:
            read_keys(evdev, 0.2)
        else:
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
