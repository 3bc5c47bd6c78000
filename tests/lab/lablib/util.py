"""Small helpers every part of the lab driver uses: where the repository is, errors, logging,
files the guest writes through the 9p share, and polling."""

import os
import re
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC_DIR = os.path.dirname(os.path.dirname(LAB_DIR))


def guest_path(*parts):
    """A file of tests/lab/ as the guest sees it (the repository is shared at /lab/src)."""
    return "/lab/src/" + os.path.relpath(os.path.join(LAB_DIR, *parts), SRC_DIR)


class LabError(Exception):
    """The lab itself failed (boot, a channel, qemu): not an assertion about seatd-ns."""


def log(msg):
    print("lab: " + msg, flush=True)


def shell_quote(s):
    if re.fullmatch(r"[A-Za-z0-9_./:=,@%+-]+", s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def tail(path, n=30):
    return "\n".join(read(path).splitlines()[-n:])


def wait_for(pred, timeout, step=0.2):
    """Polls pred until it is true (returns True) or timeout seconds pass (returns False)."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def lxc_attach(container):
    """The command line prefix that runs a command in a desktop container, with a clean
    environment and libseat's seatd backend."""
    return ("lxc-attach -P /var/lib/lxc -n %s --clear-env"
            " --set-var PATH=/usr/sbin:/usr/bin:/sbin:/bin --set-var LANG=C.UTF-8"
            " --set-var LIBSEAT_BACKEND=seatd -- " % container)
