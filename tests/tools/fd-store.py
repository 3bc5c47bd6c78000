#!/usr/bin/python3
"""A service manager's file descriptor store, for the tests, as systemd documents it
(sd_notify(3): FDSTORE=1, FDSTOREREMOVE=1, FDNAME=; sd_listen_fds(3): LISTEN_PID,
LISTEN_FDS, LISTEN_FDNAMES): runs COMMAND with NOTIFY_SOCKET set, keeps the fds it stores,
and whenever it exits starts it again with them, as Restart= does. SIGTERM ends both, with
the command's exit status.

    fd-store.py PIDFILE STORELOG -- COMMAND...

PIDFILE holds the command's current pid; STORELOG gets a line per change of the store
("put NAME", "remove NAME") and per start ("start PID with N fds: NAME...")."""

import array
import os
import signal
import socket
import sys
import tempfile


def start(argv, notify_path, store, log):
    names = [name for name, _ in store]
    pid = os.fork()
    if pid == 0:
        # Passed fds go to 3, 4...: first out of the way, then into place.
        high = [os.dup2(fd, 200 + i) for i, (_, fd) in enumerate(store)]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)
            os.set_inheritable(3 + i, True)
        for fd in high:
            os.close(fd)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        if store:
            env.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(len(store)),
                       LISTEN_FDNAMES=":".join(names))
        os.execvpe(argv[0], argv, env)
    log.write("start %d with %d fds: %s\n" % (pid, len(store), " ".join(names)))
    log.flush()
    return pid


def handle(msg, fds, store, log):
    fields = dict(line.split("=", 1) for line in msg.decode(errors="replace").splitlines()
                  if "=" in line)
    name = fields.get("FDNAME", "stored")
    if fields.get("FDSTORE") == "1":
        for fd in fds:
            store.append((name, fd))
            log.write("put %s\n" % name)
        fds = []
    elif fields.get("FDSTOREREMOVE") == "1":
        for entry in [e for e in store if e[0] == name]:
            store.remove(entry)
            os.close(entry[1])
            log.write("remove %s\n" % name)
    for fd in fds:
        os.close(fd)
    log.flush()


def main():
    pidfile, storelog = sys.argv[1:3]
    argv = sys.argv[sys.argv.index("--") + 1:]
    notify_path = os.path.join(tempfile.mkdtemp(prefix="fd-store."), "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(0.1)
    store = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with open(storelog, "a") as log:
        pid = None
        while not stopping:
            if pid is None:
                pid = start(argv, notify_path, store, log)
                with open(pidfile + ".tmp", "w") as f:
                    f.write("%d\n" % pid)
                os.rename(pidfile + ".tmp", pidfile)
            try:
                fds = array.array("i")
                msg, ancdata, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(64 * fds.itemsize))
                for level, kind, data in ancdata:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                handle(msg, list(fds), store, log)
            except socket.timeout:
                pass
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                log.write("exited %d\n" % pid)
                pid = None
        status = 0
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    os.unlink(notify_path)
    os.rmdir(os.path.dirname(notify_path))
    return status


if __name__ == "__main__":
    sys.exit(main())
