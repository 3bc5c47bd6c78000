"""The host's ends of the guest's channels, unix sockets in the run directory: QMP, the command
agent (guest/agent.sh) and the stream of `seat-assign --json monitor`."""

import base64
import json
import select
import socket
import threading
import time

from .util import LabError

class LineSocket:
    """A unix stream socket read line by line, with deadlines."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                break
            except OSError as e:
                s.close()
                if time.monotonic() > deadline:
                    raise LabError("cannot connect to %s: %s" % (path, e))
                time.sleep(0.05)
        self.sock = s
        self.buf = b""
        self.path = path

    def send(self, data):
        self.sock.sendall(data)

    def readline(self, deadline):
        """The next line (bytes, without the newline), or None when the deadline passes."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                return line
            left = deadline - time.monotonic() if deadline is not None else None
            if left is not None and left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                raise LabError("%s: closed by qemu" % self.path)
            self.buf += chunk

    def close(self):
        self.sock.close()


class QMP:
    """qemu's monitor: commands, and the events it sends between replies."""

    def __init__(self, path, timeout=20):
        self.chan = LineSocket(path, timeout)
        self.events = []  # (host time, event dict)
        greeting = self._read(time.monotonic() + timeout)
        if greeting is None or "QMP" not in greeting:
            raise LabError("no QMP greeting")
        self.execute("qmp_capabilities")

    def _read(self, deadline):
        while True:
            line = self.chan.readline(deadline)
            if line is None:
                return None
            msg = json.loads(line)
            if "event" in msg:
                self.events.append((time.time(), msg))
                continue
            return msg

    def execute(self, name, timeout=30, check=True, **args):
        cmd = {"execute": name}
        if args:
            cmd["arguments"] = args
        self.chan.send(json.dumps(cmd).encode() + b"\n")
        reply = self._read(time.monotonic() + timeout)
        if reply is None:
            raise LabError("QMP %s: no reply within %ds" % (name, timeout))
        if "error" in reply:
            if check:
                raise LabError("QMP %s %s: %s" % (name, json.dumps(args), reply["error"]))
            return reply
        return reply.get("return")

    def wait_event(self, name, pred=lambda e: True, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, (t, e) in enumerate(self.events):
                if e["event"] == name and pred(e):
                    del self.events[i]
                    return t, e
            left = deadline - time.monotonic()
            if left <= 0:
                return None, None
            reply = self._read(time.monotonic() + min(left, 0.5))
            if reply is not None:
                raise LabError("QMP: unexpected reply %s" % reply)


class Agent:
    """The command agent in the guest (tests/lab/guest/agent.sh)."""

    def __init__(self, path, timeout=20):
        self.chan = LineSocket(path, timeout)
        self.n = 0

    def run(self, cmd, timeout=30):
        """Runs a bash script in the guest: (exit status, stdout, stderr) as text."""
        self.n += 1
        ident = "%d" % self.n
        payload = base64.b64encode(cmd.encode()).decode()
        self.chan.send(("C %s %d %s\n" % (ident, timeout, payload)).encode())
        deadline = time.monotonic() + timeout + 15
        while True:
            line = self.chan.readline(deadline)
            if line is None:
                raise LabError("guest command timed out (no answer in %ds): %s"
                               % (timeout + 15, cmd))
            parts = line.decode(errors="replace").split(" ")
            if len(parts) >= 3 and parts[0] == "R" and parts[1] == ident:
                out = base64.b64decode(parts[3]) if len(parts) > 3 else b""
                err = base64.b64decode(parts[4]) if len(parts) > 4 else b""
                return int(parts[2]), out.decode(errors="replace"), err.decode(errors="replace")

    def check(self, cmd, timeout=30):
        rc, out, err = self.run(cmd, timeout)
        if rc != 0:
            raise LabError("guest command failed (%d): %s\n%s%s" % (rc, cmd, out, err))
        return out


class EventStream:
    """`seat-assign --json monitor` in the guest, one JSON object a line, stamped on arrival."""

    def __init__(self, path, timeout=20):
        self.chan = LineSocket(path, timeout)
        self.lines = []  # (host time, dict or None, raw text)
        self.cond = threading.Condition()
        self.error = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        try:
            while True:
                line = self.chan.readline(None)
                t = time.time()
                text = line.decode(errors="replace")
                try:
                    obj = json.loads(text)
                except ValueError:
                    obj = None
                with self.cond:
                    self.lines.append((t, obj, text))
                    self.cond.notify_all()
        except Exception as e:  # the socket closing ends the stream
            with self.cond:
                self.error = e
                self.cond.notify_all()

    def wait(self, pred, timeout, since=0):
        """The first (time, event) from index `since` on that satisfies pred, or (None, None)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, obj, _ in self.lines[since:]:
                    if obj is not None and pred(obj):
                        return t, obj
                left = deadline - time.monotonic()
                if left <= 0 or self.error is not None:
                    return None, None
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.lines)

