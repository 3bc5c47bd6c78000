#!/usr/bin/python3
"""Copies the seat-relevant part of /sys into DEST (DEST/sys/...), for a fixture.

    sysfs-snapshot.py DEST

Copied: every device that /sys/class/{input,drm,sound,hidraw,graphics} or /sys/bus/usb/devices
lists, and each of its ancestors: the attribute files that read as text, the links
(`subsystem`, `driver`, `device`, ... with their targets as the kernel has them) and the
attribute groups (`id/`, `capabilities/`); and the class and bus links themselves. Left out:
child devices not listed there, `power/`, and what reads as binary or not at all (USB
descriptors, PCI config space, EDID).
"""

import os
import sys

SYS = "/sys"
LISTS = ["class/input", "class/drm", "class/sound", "class/hidraw", "class/graphics",
         "bus/usb/devices"]
MAX_ATTR = 1 << 16


def holds_devices(path):
    """Whether a directory is a device or has one below it (/sys/devices/virtual, a PCI
    device's drm/): those are copied only on the way to a listed device."""
    for _, _, files in os.walk(path):
        if "uevent" in files:
            return True
    return False


def copy_attr(src, dst):
    try:
        with open(src, "rb") as f:
            data = f.read(MAX_ATTR)
    except OSError:
        return  # write-only, or refused by the driver
    if b"\0" in data:
        return
    try:
        data.decode()
    except UnicodeDecodeError:
        return
    with open(dst, "wb") as f:
        f.write(data)


def copy_dir(src, dst, done):
    """A device's (or attribute group's) own files and links, not its child devices."""
    if src in done:
        return
    done.add(src)
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.islink(s):
            if not os.path.lexists(d):
                os.symlink(os.readlink(s), d)
        elif os.path.isdir(s):
            if name != "power" and not holds_devices(s):
                copy_dir(s, d, done)
        elif os.path.isfile(s) and os.stat(s).st_mode & 0o444:
            copy_attr(s, d)


def main():
    dest = os.path.join(sys.argv[1], "sys")
    done = set()
    for listing in LISTS:
        src_dir = os.path.join(SYS, listing)
        if not os.path.isdir(src_dir):
            continue
        os.makedirs(os.path.join(dest, listing), exist_ok=True)
        for name in sorted(os.listdir(src_dir)):
            link = os.path.join(src_dir, name)
            if not os.path.islink(link):
                continue
            os.symlink(os.readlink(link), os.path.join(dest, listing, name))
            device = os.path.realpath(link)
            rel = os.path.relpath(device, SYS)
            parts = rel.split("/")
            # /sys/devices itself, then every ancestor down to the device.
            for i in range(1, len(parts) + 1):
                path = os.path.join(SYS, *parts[:i])
                copy_dir(path, os.path.join(dest, *parts[:i]), done)


if __name__ == "__main__":
    main()
