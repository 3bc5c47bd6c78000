#!/usr/bin/env python3
"""Whether the DRM card fds a process holds are DRM master now, asked of those very open files
(run on the guest host as root): each fd of the process that is a DRM card (character device
226, minor below 128; its path may be seatd-ns's copy of the node) is
copied with pidfd_getfd() and asked DRM_IOCTL_AUTH_MAGIC with magic 0, which a master fails
with EINVAL (no such magic) and anyone else with EACCES (libseat-hold.py does the same with
its own fds). Opening /proc/PID/fd/N would open a new file of the device, not the process's.

    drm-master.py PID...

Prints `PID FD MAJOR:MINOR master=yes|no|ERROR` per card fd, or `PID none` for a process with no
card open; exit 0, or 1 when a process cannot be looked at.
"""
import ctypes
import errno
import fcntl
import os
import stat
import sys

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438
DRM_MAJOR = 226
DRM_IOCTL_AUTH_MAGIC = 0x40046411  # _IOW('d', 0x11, struct drm_auth)

libc = ctypes.CDLL(None, use_errno=True)


def syscall(nr, *args):
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def master(fd):
    try:
        fcntl.ioctl(fd, DRM_IOCTL_AUTH_MAGIC, bytearray(4))
        return "ok"
    except OSError as e:
        return {errno.EINVAL: "yes", errno.EACCES: "no"}.get(e.errno,
                                                           errno.errorcode.get(e.errno, "?"))


def report(pid):
    cards = []
    for name in os.listdir("/proc/%d/fd" % pid):
        try:
            st = os.stat("/proc/%d/fd/%s" % (pid, name))
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == DRM_MAJOR \
                and os.minor(st.st_rdev) < 128:
            cards.append((int(name), "%d:%d" % (DRM_MAJOR, os.minor(st.st_rdev))))
    if not cards:
        print("%d none" % pid)
        return
    pidfd = syscall(SYS_PIDFD_OPEN, pid, 0)
    try:
        for num, target in sorted(cards):
            fd = syscall(SYS_PIDFD_GETFD, pidfd, num, 0)
            try:
                print("%d %d %s master=%s" % (pid, num, target, master(fd)))
            finally:
                os.close(fd)
    finally:
        os.close(pidfd)


def main(argv):
    status = 0
    for arg in argv[1:]:
        try:
            report(int(arg))
        except (OSError, ValueError) as e:
            print("%s error %s" % (arg, e))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
