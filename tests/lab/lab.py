#!/usr/bin/python3
"""The seat lab: a qemu guest with real multiseat hardware running seatd-ns with two seats and
an LXC desktop container per seat, and the scenario driver that exercises it over QMP and
checks what the containers' own consumers see. Standard library only.

    lab.py run      --build DIR --run-dir DIR   boot, run the scenario, stop; exit 0 if all held
    lab.py boot     --build DIR --run-dir DIR   boot and stay up until Ctrl-C (or the guest stops)
    lab.py scenario --run-dir DIR               run the scenario against a lab that `boot` started
    lab.py exec     --run-dir DIR -- COMMAND    run a shell command in a running lab's guest
    lab.py summary  --run-dir DIR               what each seat saw in a finished run

The run directory gets: console.log (the guest's serial console), qemu.log, out/ (the guest's
/lab/out: udevd.log, seatd-ns.log, monitor.jsonl, LXC logs, marks; out/desk1 and out/desk2,
each container's /lab/out: libinput, udev monitor, desktop logs), screens/*.png,
results.json. The guest is reached through three unix sockets there: qmp.sock (QMP),
cmd.sock (the command agent, tests/lab/guest/agent.sh) and events.sock (the stream of
`seat-assign --json monitor`).

Exit status: 0 all assertions held, 1 an assertion failed, 2 the lab could not be brought up.
"""

import argparse
import base64
import importlib.util
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import tempfile
import zlib

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.path.dirname(os.path.dirname(LAB_DIR))
STAGE2 = "/lab/src/" + os.path.relpath(os.path.join(LAB_DIR, "guest", "stage2.sh"), SRC_DIR)

# The lab's fixed hardware: PCI slots and USB ports, hence the ID_PATHs udev gives them.
XHCI_PCI = "0000:00:07.0"
GPU_PCI = {"gpu1": "0000:00:05.0", "gpu2": "0000:00:06.0"}


def usb_path(port):
    """udev's ID_PATH of interface 0 of the USB device on PORT (e.g. "1.3")."""
    return "pci-%s-usb-0:%s:1.0" % (XHCI_PCI, port)


COLDPLUG_USB = [
    # (qemu id, port, kinds a seat-assign device may have, what)
    ("kbd1", "1.1", {"keyboard"}, "seat1 USB keyboard"),
    ("mouse1", "1.2", {"pointer"}, "seat1 USB mouse"),
    ("kbd2", "2.1", {"keyboard"}, "seat2 USB keyboard"),
    ("tablet2", "2.2", {"pointer", "tablet"}, "seat2 USB tablet"),
]
PS2_KBD_PATH = "platform-i8042-serio-0"
# guest/seats.conf: each seat's desktop container; everything else stays on seat0.
CONTAINERS = {"seat1": "desk1", "seat2": "desk2"}
SEAT_OF = {c: s for s, c in CONTAINERS.items()}
# Sound nodes of no card, which every seat with sound gets (shared-sound).
SHARED_SOUND_NODES = ("/dev/snd/timer", "/dev/snd/seq")
# guest/desktop/ (scripts run in the containers: a compositor, the sound server), as the
# guest sees it; how long a compositor (both start at once; 15 to 30 s under TCG) and the
# sound server (about 30 s) may take to come up, and a change of sound cards to reach the
# sound server (about 15 s).
GUEST_DESKTOP = "/lab/src/" + os.path.relpath(os.path.join(LAB_DIR, "guest", "desktop"), SRC_DIR)
COMPOSITOR_TIMEOUT = 120
AUDIO_TIMEOUT = 90
AUDIO_CHANGE_TIMEOUT = 45
# Where those scripts keep their state in the container (a Wayland or PipeWire socket cannot
# live on the 9p share behind /lab/out); their logs are copied to /lab/out.
DESKTOP_LOGS = "/run/desktop/compositor.log /run/desktop/status /run/desktop-audio/*.log"
LXC_ATTACH = ("lxc-attach -P /var/lib/lxc -n %s --clear-env"
              " --set-var PATH=/usr/sbin:/usr/bin:/sbin:/bin --set-var LANG=C.UTF-8"
              " --set-var LIBSEAT_BACKEND=seatd -- ")


def expected_seat(dev):
    """The seat guest/seats.conf gives a device: a GPU's PCI device or a hub's USB port."""
    syspath, id_path = dev.get("syspath") or "", dev.get("id_path") or ""
    for gpu, seat in (("gpu1", "seat1"), ("gpu2", "seat2")):
        if "/%s/" % GPU_PCI[gpu] in syspath:
            return seat
    for port, seat in (("1", "seat1"), ("2", "seat2")):
        if id_path.startswith("pci-%s-usb-0:%s." % (XHCI_PCI, port)):
            return seat
    return "seat0"
INPUT_CLASSES = [
    "ID_INPUT", "ID_INPUT_KEY", "ID_INPUT_KEYBOARD", "ID_INPUT_MOUSE", "ID_INPUT_TOUCHPAD",
    "ID_INPUT_TOUCHSCREEN", "ID_INPUT_TABLET", "ID_INPUT_TABLET_PAD", "ID_INPUT_JOYSTICK",
    "ID_INPUT_ACCELEROMETER", "ID_INPUT_POINTINGSTICK", "ID_INPUT_SWITCH",
]


class LabError(Exception):
    """The lab itself failed (boot, a channel, qemu): not an assertion about seatd-ns."""


def log(msg):
    print("lab: " + msg, flush=True)


# ---------------------------------------------------------------------------------------------
# Channels

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


# ---------------------------------------------------------------------------------------------
# The VM

def load_env(run_dir, cache):
    """What setup.sh found: the run directory's lab.env if it has one, else the cache's."""
    path = os.path.join(run_dir, "lab.env")
    if not os.path.exists(path):
        path = os.path.join(cache, "lab.env")
    env = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    env[k] = v
    except OSError as e:
        raise LabError("%s: %s (run tests/lab/setup.sh first)" % (path, e))
    return env


def qemu_opt(value):
    """A value inside a qemu option list: commas are doubled."""
    return value.replace(",", ",,")


# The lab's hardware (tests/lab/README.md): two seats' GPUs, then the USB tree, a hub per seat.
LAB_HARDWARE = [
    "virtio-gpu-pci,id=gpu1,addr=0x5",
    "virtio-gpu-pci,id=gpu2,addr=0x6",
    "qemu-xhci,id=xhci,addr=0x7",
    "usb-hub,id=hub1,bus=xhci.0,port=1",
    "usb-hub,id=hub2,bus=xhci.0,port=2",
    "usb-kbd,id=kbd1,bus=xhci.0,port=1.1,display=gpu1",
    "usb-mouse,id=mouse1,bus=xhci.0,port=1.2",
    "usb-kbd,id=kbd2,bus=xhci.0,port=2.1,display=gpu2",
    "usb-tablet,id=tablet2,bus=xhci.0,port=2.2,display=gpu2",
    "usb-audio,id=audio2,bus=xhci.0,port=2.3,audiodev=snd0",
]


def qemu_argv(env, run_dir, build_dir, hardware=LAB_HARDWARE, stage2=STAGE2):
    """qemu's command line: the guest's kernel, initramfs and stage 2 (a script of the
    repository, as the guest sees it), the devices in `hardware` (qemu -device values), the
    9p shares and the channels."""
    cmdline = " ".join([
        # apparmor=0: as on this machine; with AppArmor on and no profiles loaded, LXC
        # refuses to start containers.
        "console=ttyS0", "loglevel=4", "panic=-1", "rdinit=/init", "mitigations=off",
        "apparmor=0",
        "lab.init=" + stage2,
    ])
    argv = [
        "qemu-system-x86_64", "-machine", "pc",
        "-accel", os.environ.get("LAB_ACCEL", "tcg,thread=multi"),
        "-m", "2048", "-smp", "2", "-nodefaults", "-no-reboot", "-display", "none",
        "-name", "seat-lab", "-pidfile", os.path.join(run_dir, "qemu.pid"),
        "-kernel", env["LAB_KERNEL"], "-initrd", env["LAB_INITRD"], "-append", cmdline,
        "-chardev", "file,id=ser0,path=" + qemu_opt(os.path.join(run_dir, "console.log")),
        "-serial", "chardev:ser0",
        "-qmp", "unix:%s,server=on,wait=off" % qemu_opt(os.path.join(run_dir, "qmp.sock")),
        "-audiodev", "none,id=snd0",
    ]
    for device in hardware:
        argv += ["-device", device]
    shares = [
        ("usr", "/usr", True, 0x10),
        ("etc", "/etc", True, 0x11),
        ("src", SRC_DIR, True, 0x12),
        ("build", build_dir, True, 0x13),
        ("out", os.path.join(run_dir, "out"), False, 0x14),
    ]
    for tag, path, ro, addr in shares:
        argv += [
            "-fsdev", "local,id=fs_%s,path=%s,security_model=none%s"
            % (tag, qemu_opt(path), ",readonly=on" if ro else ""),
            "-device", "virtio-9p-pci,fsdev=fs_%s,mount_tag=%s,addr=0x%x" % (tag, tag, addr),
        ]
    argv += ["-device", "virtio-serial-pci,id=vser,addr=0x18"]
    for name, sock in [("lab.cmd", "cmd.sock"), ("lab.events", "events.sock")]:
        cid = name.replace(".", "_")
        argv += [
            "-chardev", "socket,id=%s,path=%s,server=on,wait=off"
            % (cid, qemu_opt(os.path.join(run_dir, sock))),
            "-device", "virtserialport,bus=vser.0,chardev=%s,name=%s" % (cid, name),
        ]
    return argv


class Console:
    """Follows console.log for the guest's LAB-MARK and LAB-FAIL lines."""

    def __init__(self, path, t0):
        self.path = path
        self.t0 = t0
        self.pos = 0
        self.partial = b""
        self.marks = {}  # step -> (seconds since qemu started, seen by the host; guest uptime)
        self.failure = None

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        self.pos += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        now = time.monotonic() - self.t0
        for raw in lines:
            line = raw.decode(errors="replace").strip("\r")
            m = re.search(r"LAB-MARK (\S+) ([0-9.]+)", line)
            if m and m.group(1) not in self.marks:
                self.marks[m.group(1)] = (now, float(m.group(2)))
            m = re.search(r"LAB-FAIL (.*)", line)
            if m and self.failure is None:
                self.failure = m.group(1)


class Lab:
    def __init__(self, run_dir, build_dir=None, cache=None):
        self.run_dir = os.path.abspath(run_dir)
        self.build_dir = build_dir
        self.cache = cache
        self.proc = None
        self.qmp = None
        self.agent = None
        self.events = None
        self.console = None
        self.figures = {}

    def path(self, *parts):
        return os.path.join(self.run_dir, *parts)

    def boot(self, timeout, seatd_ns_args=None, connect=False, hardware=LAB_HARDWARE,
             stage2=STAGE2):
        env = load_env(self.run_dir, self.cache)
        if stage2 == STAGE2 and not os.path.isfile(
                os.path.join(self.build_dir, "seatd-ns", "seatd-ns")):
            raise LabError("no seatd-ns/seatd-ns in the build directory %s" % self.build_dir)
        os.makedirs(self.path("out"), exist_ok=True)
        with open(self.path("out", "guest.env"), "w") as f:
            if seatd_ns_args is not None:
                f.write("SEATD_NS_ARGS=%s\n" % shell_quote(seatd_ns_args))
            f.write("LAB_TIMEOUT=%d\n" % max(30, int(timeout)))
        argv = qemu_argv(env, self.run_dir, self.build_dir, hardware, stage2)
        with open(self.path("qemu.cmdline"), "w") as f:
            f.write(" ".join(shell_quote(a) for a in argv) + "\n")
        qlog = open(self.path("qemu.log"), "wb")
        self.t0 = time.monotonic()
        self.t0_wall = time.time()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=qlog,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.console = Console(self.path("console.log"), self.t0)
        log("qemu started (pid %d), waiting for the guest (at most %ds)" % (self.proc.pid, timeout))
        if connect:
            # At once: a connected port lets the guest's agent wait in a read, not poll.
            self.connect(check_agent=False)
        deadline = self.t0 + timeout
        while "ready" not in self.console.marks:
            self.console.poll()
            if self.console.failure is not None:
                raise LabError("the guest failed: %s" % self.console.failure)
            if self.proc.poll() is not None:
                raise LabError("qemu exited with status %d (see qemu.log, console.log)"
                               % self.proc.returncode)
            if time.monotonic() > deadline:
                raise LabError("the guest was not ready within %ds; last step: %s"
                               % (timeout, self.last_mark()))
            time.sleep(0.05)
        self.boot_figures()

    def boot_figures(self):
        self.console.poll()
        m = self.console.marks
        for step, name in [("stage1", "boot_to_initramfs_s"), ("udev-settled", "boot_to_udev_settled_s"),
                           ("seatd-ns-listing", "boot_to_seatd_ns_listing_s"),
                           ("containers-created", "boot_to_containers_created_s"),
                           ("containers-up", "boot_to_containers_up_s"),
                           ("ready", "boot_to_ready_s")]:
            if step in m:
                self.figures[name] = round(m[step][0], 2)
                self.figures[name.replace("boot_", "guest_uptime_")] = round(m[step][1], 2)
        if "containers-created" in m and "containers-up" in m:
            self.figures["containers_start_guest_s"] = round(
                m["containers-up"][1] - m["containers-created"][1], 3)
        if "seatd-ns-started" in m and "seatd-ns-listing" in m:
            self.figures["seatd_ns_start_to_listing_guest_s"] = round(
                m["seatd-ns-listing"][1] - m["seatd-ns-started"][1], 3)

    def last_mark(self):
        if not self.console.marks:
            return "none (the kernel did not reach the initramfs)"
        return max(self.console.marks.items(), key=lambda kv: kv[1][0])[0]

    def connect(self, timeout=20, check_agent=True):
        if self.qmp is None:
            self.qmp = QMP(self.path("qmp.sock"), timeout)
            self.agent = Agent(self.path("cmd.sock"), timeout)
            self.events = EventStream(self.path("events.sock"), timeout)
        if not check_agent:
            return
        # The agent answers: the channel works both ways.
        rc, out, _ = self.agent.run("echo agent-ok", timeout=20)
        if rc != 0 or out.strip() != "agent-ok":
            raise LabError("the guest's command agent does not answer")

    def stop(self):
        for chan in (self.qmp, self.agent, self.events):
            try:
                if chan is not None:
                    chan.chan.close()
            except Exception:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def shell_quote(s):
    if re.fullmatch(r"[A-Za-z0-9_./:=,@%+-]+", s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


# ---------------------------------------------------------------------------------------------
# PNG

def screen_check():
    """guest/desktop/screen-check.py as a module: its PPM and PNG readers."""
    spec = importlib.util.spec_from_file_location(
        "screen_check", os.path.join(LAB_DIR, "guest", "desktop", "screen-check.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ppm_to_png(ppm_path, png_path):
    """Converts a binary PPM (P6, maxval 255, as qemu's screendump writes) to PNG."""
    with open(ppm_path, "rb") as f:
        data = f.read()
    try:
        width, height, _, pixels = screen_check().read_ppm(data)
    except (ValueError, IndexError) as e:
        raise LabError("%s: %s" % (ppm_path, e))
    stride = width * 3
    raw = b"".join(b"\0" + pixels[y * stride:(y + 1) * stride] for y in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    with open(png_path, "wb") as f:
        f.write(png)


def png_size(path):
    """(width, height) of a PNG file, or None if it is not one."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


# ---------------------------------------------------------------------------------------------
# The scenario

class Scenario:
    def __init__(self, lab):
        self.lab = lab
        self.results = []  # (ok, message)
        self.libinput = {}  # name -> {container or pid, log (on the host), what}
        self.desktops_up = set()  # containers whose compositor came up
        self.compositors = {}  # container -> what compositor.sh start printed (pid, rgb, ...)
        self.extra_containers = []  # made by the scenario (the switch step), stopped with the others
        self.notes = set()
        self.seat_assign = "/lab/build/seatd-ns/seat-assign"

    # -- assertions --------------------------------------------------------------------------

    def check(self, ok, msg, detail=None):
        self.results.append((bool(ok), msg))
        print("%s %s" % ("  ok  " if ok else "  FAIL", msg), flush=True)
        if not ok and detail:
            for line in str(detail).rstrip().splitlines():
                print("         " + line, flush=True)
        return ok

    def failed(self):
        return [m for ok, m in self.results if not ok]

    # -- the guest's views -------------------------------------------------------------------

    def devices(self, tag):
        out = self.lab.agent.check("%s --json devices" % self.seat_assign, timeout=30)
        with open(self.lab.path("devices.%s.json" % tag), "w") as f:
            f.write(out)
        return json.loads(out)

    def udev_db(self, tag):
        out = self.lab.agent.check("udevadm info --export-db", timeout=60)
        with open(self.lab.path("udev-db.%s.txt" % tag), "w") as f:
            f.write(out)
        db, cur = {}, None
        for line in out.splitlines():
            if line.startswith("P: "):
                cur = {"N": None}
                db[line[3:]] = cur
            elif cur is not None and line.startswith("E: "):
                k, _, v = line[3:].partition("=")
                cur[k] = v
            elif cur is not None and line.startswith("N: "):
                cur["N"] = line[3:]
        return db

    @staticmethod
    def devpath(dev):
        p = dev.get("syspath") or ""
        return p[4:] if p.startswith("/sys/") else p

    def cross_check(self, devices, db, tag):
        """Every device seat-assign lists agrees with what udevd says about it."""
        problems, notes = [], []
        for d in devices:
            dp = self.devpath(d)
            u = db.get(dp)
            name = d.get("devnode") or dp
            if u is None:
                problems.append("%s: udev has no record of %s" % (name, dp))
                continue
            if "ID_PATH" in u:
                if d.get("id_path") != u["ID_PATH"]:
                    problems.append("%s: id_path %r, udev ID_PATH %r"
                                    % (name, d.get("id_path"), u["ID_PATH"]))
            elif d.get("id_path") is not None:
                notes.append("%s: id_path %s (udev sets no ID_PATH)" % (name, d["id_path"]))
            if u.get("DEVNAME") and d.get("devnode") != u["DEVNAME"]:
                problems.append("%s: devnode %r, udev DEVNAME %r"
                                % (name, d.get("devnode"), u["DEVNAME"]))
            if "MAJOR" in u and d.get("devnum") != "%s:%s" % (u["MAJOR"], u.get("MINOR")):
                problems.append("%s: devnum %r, udev %s:%s"
                                % (name, d.get("devnum"), u["MAJOR"], u.get("MINOR")))
            if d.get("subsystem") and u.get("SUBSYSTEM") and d["subsystem"] != u["SUBSYSTEM"]:
                problems.append("%s: subsystem %r, udev %r" % (name, d["subsystem"], u["SUBSYSTEM"]))
            seat = expected_seat(d)
            if d.get("seat") != seat:
                problems.append("%s: seat %r, seats.conf gives %r" % (name, d.get("seat"), seat))
            if d.get("subsystem") == "input":
                want = sorted(k for k in INPUT_CLASSES if u.get(k) == "1")
                have = sorted(d.get("input_class") or [])
                if want != have:
                    problems.append("%s: input_class %s, udev %s" % (name, have, want))
            if d.get("kind") == "sound-card":
                want = u.get("SOUND_INITIALIZED") == "1"
                have = str(d.get("sound_initialized")) in ("1", "true", "True")
                if want != have:
                    problems.append("%s: sound_initialized %r, udev SOUND_INITIALIZED %r"
                                    % (name, d.get("sound_initialized"), u.get("SOUND_INITIALIZED")))
        self.check(not problems, "%s: the %d devices seat-assign lists agree with udevadm "
                   "(ID_PATH exact, input classes, node, devnum), on the seat seats.conf gives" % (tag, len(devices)),
                   "\n".join(problems))
        for n in notes:
            if n not in self.notes:
                self.notes.add(n)
                print("  note  " + n, flush=True)

    @staticmethod
    def find(devices, **match):
        found = []
        for d in devices:
            if all((d.get(k) == v if not callable(v) else v(d.get(k))) for k, v in match.items()):
                found.append(d)
        return found

    def one(self, devices, what, desc=None, **match):
        found = self.find(devices, **match)
        if desc is None:
            desc = ", ".join("%s=%s" % (k, v) for k, v in match.items() if not callable(v))
        self.check(len(found) == 1, "%s is listed (%s)" % (what, desc),
                   "found %d: %s" % (len(found), found))
        return found[0] if len(found) == 1 else None

    # -- containers --------------------------------------------------------------------------

    def cexec(self, container, script, timeout=30):
        """Runs a shell script in a desktop container: (exit status, stdout, stderr)."""
        return self.lab.agent.run(LXC_ATTACH % container + "/bin/sh -c " + shell_quote(script),
                                  timeout)

    def cstart(self, container, name, command):
        """Starts a command in the container in the background; its output goes to
        out/CONTAINER/NAME.log, its pid (in the container) to /lab/out/NAME.pid there."""
        inner = "echo $$ >/lab/out/%s.pid; exec %s" % (name, command)
        self.lab.agent.check("%s/bin/sh -c %s </dev/null >/lab/out/%s/%s.log 2>&1 &"
                             % (LXC_ATTACH % container, shell_quote(inner), container, name))
        return self.lab.path("out", container, name + ".log")

    def cstop(self, container, name):
        self.cexec(container, "kill $(cat /lab/out/%s.pid) 2>/dev/null; true" % name)

    def container_nodes(self, container):
        rc, out, err = self.cexec(container, "for f in /dev/input/* /dev/dri/* /dev/snd/* "
                                  "/dev/hidraw*; do [ -c \"$f\" ] && echo \"$f\"; done; true")
        if rc != 0:
            raise LabError("lxc-attach to %s failed (%d): %s" % (container, rc, err))
        return set(out.split())

    def containers(self, devs, db):
        """Both desktop containers run, registered, each with exactly its seat's nodes, and
        their udevadm (libudev) reads the seat's devices from the database seatd-ns wrote."""
        seats = json.loads(self.lab.agent.check("%s --json seats" % self.seat_assign))
        for seat, container in CONTAINERS.items():
            entry = [x for x in seats if x.get("name") == seat]
            self.check(entry and entry[0].get("container") == container,
                       "%s is attached to the LXC container %s, which its start-host hook "
                       "registered" % (seat, container), entry)
            rc, out, err = self.cexec(container, "cat /run/lab-init; cat /proc/1/comm")
            self.check(rc == 0 and out.split() == ["up", "init"],
                       "%s runs its own init (busybox), which found its /run" % container,
                       out + err)
            mine = [d for d in devs if d.get("seat") == seat and d.get("devnode")
                    and d.get("kind") != "hidraw"]
            others = [d for d in devs if d.get("seat") != seat and d.get("devnode")
                      and d["devnode"] not in SHARED_SOUND_NODES]
            nodes = self.container_nodes(container)
            with open(self.lab.path("out", container, "nodes.txt"), "w") as f:
                f.write("\n".join(sorted(nodes)) + "\n")
            missing = sorted(d["devnode"] for d in mine if d["devnode"] not in nodes)
            foreign = sorted(d["devnode"] for d in others if d["devnode"] in nodes)
            self.check(not missing and not foreign,
                       "%s has the nodes of %s's devices (%d) and none of another seat's"
                       % (container, seat, len(mine)),
                       "missing %s; of other seats %s; has %s" % (missing, foreign, sorted(nodes)))
            # udevadm inside: the seat's devices with their ID_* properties, as the host's
            # udev has them (ID_PATH, ID_INPUT_*) and with the seat (ID_SEAT).
            infos = [d for d in mine if d.get("subsystem") in ("input", "drm")]
            foreign_dev = next((d for d in others if d.get("subsystem") == "input"
                                and d.get("seat") in CONTAINERS), None)
            script = "".join("echo '== %s'; udevadm info -q property -p %s;"
                             % (d["syspath"], d["syspath"]) for d in infos)
            if foreign_dev:
                script += "echo '== %s'; udevadm info -q property -p %s;" % (
                    foreign_dev["syspath"], foreign_dev["syspath"])
            rc, out, err = self.cexec(container, script + "true", timeout=60)
            with open(self.lab.path("out", container, "udevadm-info.txt"), "w") as f:
                f.write(out + err)
            props, cur = {}, None
            for line in out.splitlines():
                if line.startswith("== "):
                    cur = props.setdefault(line[3:], {})
                elif cur is not None and "=" in line:
                    k, _, v = line.partition("=")
                    cur[k] = v
            problems = []
            for d in infos:
                p = props.get(d["syspath"], {})
                u = db.get(self.devpath(d), {})
                if p.get("ID_SEAT") != seat:
                    problems.append("%s: ID_SEAT %r" % (d["devnode"], p.get("ID_SEAT")))
                if "ID_PATH" in u and p.get("ID_PATH") != u["ID_PATH"]:
                    problems.append("%s: ID_PATH %r, host udev %r"
                                    % (d["devnode"], p.get("ID_PATH"), u["ID_PATH"]))
                want = sorted(k for k in INPUT_CLASSES if u.get(k) == "1")
                have = sorted(k for k in INPUT_CLASSES if p.get(k) == "1")
                if want != have:
                    problems.append("%s: %s, host udev %s" % (d["devnode"], have, want))
            self.check(infos and not problems,
                       "udevadm info in %s: its %d input and DRM devices with ID_SEAT=%s and "
                       "the host udev's ID_PATH and ID_INPUT_*" % (container, len(infos), seat),
                       "\n".join(problems) or out[-1500:])
            # ALSA inside: the seat's cards only (seat2's USB audio; none for seat1).
            rc, out, err = self.cexec(container, "aplay -l")
            with open(self.lab.path("out", container, "aplay.txt"), "w") as f:
                f.write(out + err)
            cards = sorted(set(re.findall(r"(?m)^card \d+: \S+ \[([^]]*)\]", out)))
            want = ["QEMU USB Audio"] if self.find(mine, kind="sound-control") else []
            self.check(cards == want, "aplay -l in %s lists %s" % (
                container, "only the USB audio card" if want else "no sound card"), out + err)
            if foreign_dev:
                p = props.get(foreign_dev["syspath"], {})
                self.check(p and not any(k.startswith(("ID_SEAT", "ID_INPUT")) for k in p),
                           "udevadm info in %s: %s of %s is in sysfs but has no database entry "
                           "(no ID_SEAT, no ID_INPUT)" % (container, foreign_dev["devnode"],
                                                        foreign_dev["seat"]), p)

    def libseat(self, devs):
        """The real libseat in each container: the seat's DRM card (as DRM master) and
        keyboard through /run/seatd.sock, another seat's node refused; when the seat is
        detached, the keyboard's fd is revoked (ENODEV) and the card loses DRM master."""
        print("== libseat in the containers (/run/seatd.sock)", flush=True)
        nodes = {}
        for seat in CONTAINERS:
            card = self.find(devs, seat=seat, kind="drm-card")
            kbd = self.find(devs, seat=seat, kind="keyboard")
            nodes[seat] = (card[0]["devnode"] if card else None, kbd[0]["devnode"] if kbd else None)
        # seat2: tests/tools/libseat-client, which opens and closes.
        client = "/lab/build/tests/libseat-client"
        card, kbd = nodes["seat2"]
        foreign = nodes["seat1"][1]
        rc, out, err = self.cexec("desk2", "%s %s %s %s" % (client, card, kbd, foreign))
        lines = out.splitlines()
        self.check(rc == 0 and "seat seat2 enabled" in lines
                   and any(l.startswith("%s ok 226:" % card) for l in lines)
                   and any(l.startswith("%s ok 13:" % kbd) for l in lines),
                   "libseat-client in desk2 opens seat2, its card %s and keyboard %s"
                   % (card, kbd), out + err)
        self.check(any(l.startswith("%s error" % foreign) for l in lines),
                   "libseat-client in desk2 cannot open seat1's keyboard %s" % foreign, out + err)
        # seat1: a libseat client that keeps its fds (guest/libseat-hold.py).
        card, kbd = nodes["seat1"]
        logpath = self.cstart("desk1", "libseat-hold", "python3 /lab/src/tests/lab/guest/"
                              "libseat-hold.py --for 120 %s %s" % (card, kbd))
        wait_for(lambda: read(logpath).count("state open") >= 2, 30)
        held = read(logpath)
        self.check("seat seat1 enabled" in held and "open %s ok" % card in held
                   and "open %s ok" % kbd in held,
                   "libseat in desk1 opens seat1, its card %s and keyboard %s" % (card, kbd), held)
        self.check("state open %s drm-master=yes" % card in held,
                   "the card's fd is DRM master (set by seatd-ns)", held)
        self.check("state open %s evdev=ok" % kbd in held,
                   "the keyboard's fd answers (EVIOCGVERSION)", held)
        self.lab.agent.check("%s detach seat1" % self.seat_assign)
        revoked = "%s evdev=ENODEV" % kbd
        wait_for(lambda: revoked in read(logpath), 20)
        held = read(logpath)
        self.check(revoked in held,
                   "seat-assign detach seat1: the keyboard fd libseat gave desk1 is revoked "
                   "(EVIOCGVERSION: ENODEV)", held)
        self.check(re.search(r"state \S+ %s drm-master=no" % re.escape(card), held),
                   "seat-assign detach seat1: desk1's card fd is no longer DRM master", held)
        self.cstop("desk1", "libseat-hold")
        self.lab.agent.check("%s attach seat1 desk1" % self.seat_assign)
        back = wait_for(lambda: {card, kbd} <= self.container_nodes("desk1"), 30)
        self.check(back, "seat-assign attach seat1 desk1: desk1 has its card and keyboard again")

    # -- switching seat1 between two containers ----------------------------------------------

    def desk_view(self, container, card, pid=None):
        """What a desktop container has of a seat, in one lxc-attach: its input and DRM nodes,
        what open() of the seat's card gives there, the command of process `pid` and what its
        compositor's terminal received."""
        comp = self.desktop_script("compositor.sh")
        script = ("for f in /dev/input/* /dev/dri/*; do [ -c \"$f\" ] && echo \"node $f\"; done; "
                  "python3 -c 'import errno, os, sys\n"
                  "try:\n    os.close(os.open(sys.argv[1], os.O_RDWR)); print(\"open ok\")\n"
                  "except OSError as e:\n    print(\"open\", errno.errorcode[e.errno])' %s; " % card)
        if pid:
            script += "echo \"comm $(cat /proc/%s/comm 2>/dev/null)\"; " % pid
        if comp is not None and container in self.desktops_up:
            script += "echo typed:; %s typed; " % comp
        rc, out, err = self.cexec(container, script + "true", timeout=60)
        if rc != 0:
            raise LabError("lxc-attach to %s failed (%d): %s" % (container, rc, err))
        head, _, typed = out.partition("typed:\n")
        view = {"nodes": set(), "open": None, "comm": None, "typed": typed.strip(), "raw": out}
        for line in head.splitlines():
            k, _, v = line.partition(" ")
            if k == "node":
                view["nodes"].add(v)
            elif k in ("open", "comm"):
                view[k] = v
        return view

    def switch_seat(self, seat, to):
        """seat-assign --json switch, timed on the guest's clock: (record, milliseconds, text)."""
        rc, out, err = self.lab.agent.run(
            "s=$(date +%%s%%N); %s --json switch %s %s; r=$?; e=$(date +%%s%%N); "
            "echo \"ms $(((e - s) / 1000000))\"; exit $r" % (self.seat_assign, seat, to), timeout=60)
        rec, ms = {}, None
        for line in out.splitlines():
            if line.startswith("ms "):
                ms = int(line[3:])
            elif line.startswith("{"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    pass
        return (rec if rc == 0 else {}), ms, out + err

    def seatd_ns_lines(self, pattern, n=20):
        return "\n".join([l for l in read(self.lab.path("out", "seatd-ns.log")).splitlines()
                          if re.search(pattern, l)][-n:])

    def switch(self, devs, kbd):
        """Seat switching with the compositor running: a third container desk1b attached to
        seat1 as the inactive one, its libseat client waiting; `seat-assign switch` to it and
        back. desk1's cage survives both (its GPU stays on standby in desk1), desk1b's client
        gets the card (DRM master) and the keyboard and then loses them (revoked), and the
        keys typed on seat1 follow the active container."""
        lab = self.lab
        card = self.find(devs, seat="seat1", kind="drm-card")
        card = card[0]["devnode"] if card else None
        if card is None or kbd is None:
            self.check(False, "switch: seat1's card and keyboard are listed", devs)
            return
        print("== switching seat1: a third container desk1b, then back to desk1", flush=True)
        seat1_inputs = {d["devnode"] for d in devs if d.get("seat") == "seat1"
                        and d.get("subsystem") == "input" and d.get("devnode")}
        containers = "/lab/src/tests/lab/guest/containers.sh"
        rc, out, err = lab.agent.run("%s create desk1b" % containers, timeout=120)
        if rc == 0:
            self.extra_containers.append("desk1b")
            rc, out, err = lab.agent.run("%s start desk1b" % containers, timeout=120)
        if not self.check(rc == 0, "a third unprivileged LXC container desk1b is made and started "
                          "(containers.sh; its hook registers it)", out + err):
            return
        rc, out, err = lab.agent.run("%s attach seat1 desk1b" % self.seat_assign)
        seats = json.loads(lab.agent.check("%s --json seats" % self.seat_assign))
        entry = [x for x in seats if x.get("name") == "seat1"]
        entry = entry[0] if entry else {}
        self.check(rc == 0 and entry.get("container") == "desk1"
                   and "desk1b" in (entry.get("containers") or []),
                   "seat-assign attach seat1 desk1b: desk1b is attached, desk1 stays active",
                   "%s%s\n%s" % (out, err, entry))
        # desk1b's libseat client, as a compositor would: connected, waiting for the seat.
        hold = self.cstart("desk1b", "libseat-hold", "python3 /lab/src/tests/lab/guest/"
                           "libseat-hold.py --for 900 --wait --keys %s %s" % (card, kbd))
        wait_for(lambda: "seat seat1" in read(hold), 30)
        self.check("seat seat1 not-enabled" in read(hold) and "open " not in read(hold),
                   "libseat in desk1b opens seat1 and waits: not enabled while desk1 has it",
                   read(hold))
        view = self.desk_view("desk1b", card)
        self.check(card in view["nodes"] and view["open"] == "EPERM"
                   and not view["nodes"] & seat1_inputs,
                   "desk1b, waiting, has seat1's card %s on standby (a node, open(): %s) and "
                   "none of seat1's input nodes" % (card, view["open"]), view["raw"])
        pid = self.compositors.get("desk1", {}).get("pid")
        with_cage = pid is not None and "desk1" in self.desktops_up
        if not with_cage:
            print("  note  no compositor in desk1: the switch is checked without one", flush=True)
        # A process of desk1 that opened seat1's keyboard itself (not through libseat) and
        # keeps the fd: it must read nothing once desk1 has lost the seat.
        direct = self.cstart("desk1", "hold-direct", "python3 /lab/src/tests/lab/guest/"
                             "hold-direct.py --for 900 %s" % kbd)
        wait_for(lambda: "open %s" % kbd in read(direct), 30)
        self.check("open %s ok" % kbd in read(direct),
                   "a process in desk1 opens seat1's keyboard %s itself and keeps it" % kbd,
                   read(direct))
        before = self.desk_view("desk1", card, pid)
        typed_before = before["typed"]
        if with_cage:
            self.check(before["comm"] == "cage", "desk1's cage (pid %s) runs before the switch"
                       % pid, before["raw"])

        # To desk1b.
        t = time.monotonic()
        rec, ms, text = self.switch_seat("seat1", "desk1b")
        self.check(rec.get("forced") == "no" and "from desk1 to desk1b" in rec.get("message", ""),
                   "seat-assign switch seat1 desk1b: done, not forced (desk1 acknowledged the "
                   "disable) in %s ms" % ms, text + self.seatd_ns_lines(r"seat1|desk1"))
        if ms is not None:
            lab.figures["switch_to_desk1b_ms"] = ms
        opened = wait_for(lambda: read(hold).count("state open") >= 2, 30)
        if opened:
            lab.figures["switch_to_desk1b_devices_open_s"] = round(time.monotonic() - t, 2)
        held = read(hold)
        self.check("\nenabled\n" in held and "open %s ok" % card in held
                   and "open %s ok" % kbd in held,
                   "desk1b's libseat client is enabled and opens seat1's card and keyboard", held)
        self.check("state open %s drm-master=yes" % card in held,
                   "desk1b's card fd is DRM master", held)
        self.check("state open %s evdev=ok" % kbd in held, "desk1b's keyboard fd answers", held)
        view = self.desk_view("desk1", card, pid)
        if with_cage:
            self.desktop_logs("desk1")
            self.check(view["comm"] == "cage",
                       "desk1's cage (pid %s) is still running after the switch away" % pid,
                       "%s\n%s\n%s" % (view["raw"], tail(lab.path("out", "desk1", "compositor.log")),
                                       self.seatd_ns_lines(r"desk1")))
        self.check(card in view["nodes"] and view["open"] == "EPERM"
                   and not view["nodes"] & seat1_inputs,
                   "desk1 keeps seat1's card %s on standby (a node, open(): %s) and has none of "
                   "seat1's input nodes" % (card, view["open"]), view["raw"])
        self.send_key("gpu1", "f")
        got = wait_for(lambda: "key %s 33" % kbd in read(hold), 15)
        time.sleep(1.5)
        self.check(got, "KEY_F typed on gpu1 reaches desk1b's client through its libseat "
                   "keyboard fd", read(hold))
        self.check("key %s 33" % kbd not in read(direct)
                   and "read %s ENODEV" % kbd in read(direct),
                   "the keyboard fd desk1's process opened itself does not read KEY_F: it is "
                   "revoked (read: ENODEV)", read(direct) + self.seatd_ns_lines(r"revok|desk1"))
        self.cstop("desk1", "hold-direct")
        wrong = [o for o in self.libinput if o != "desk1"
                 and re.search(r"KEY_F \(\d+\) pressed", self.libinput_log(o))]
        self.check(not wrong, "KEY_F is seen by no other seat's libinput", "seen by: %s" % wrong)
        if with_cage:
            typed = self.desk_view("desk1", card)["typed"]
            self.check(typed == typed_before, "KEY_F does not reach desk1's terminal (typed %r)"
                       % typed)
        kbd_event = os.path.basename(kbd)
        if "desk1" in self.libinput:
            # libinput in desk1 (the udev backend, its own opens) lets go of the keyboard when
            # desk1's libudev hears it removed.
            self.check(self.libinput_wait("desk1", r"(?m)^\s*-?%s\s+DEVICE_REMOVED" % kbd_event, 15)
                       and not re.search(r"KEY_F \(\d+\) pressed", self.libinput_log("desk1")),
                       "%s removes seat1's keyboard %s and gets no KEY_F"
                       % (self.libinput["desk1"]["what"], kbd_event),
                       self.libinput_log("desk1")[-1500:])
            added = len(re.findall(r"(?m)^\s*-?%s\s+DEVICE_ADDED" % kbd_event,
                                   self.libinput_log("desk1")))
        # What gpu1 shows while desk1b has the seat (its client draws nothing).
        self.screendumps("switched-away", quiet=True)

        # Back to desk1.
        rec, ms, text = self.switch_seat("seat1", "desk1")
        self.check(rec.get("forced") == "no" and "from desk1b to desk1" in rec.get("message", ""),
                   "seat-assign switch seat1 desk1: done, not forced (desk1b acknowledged) in "
                   "%s ms" % ms, text + self.seatd_ns_lines(r"seat1|desk1"))
        if ms is not None:
            lab.figures["switch_to_desk1_ms"] = ms
        revoked = "read %s ENODEV" % kbd
        wait_for(lambda: revoked in read(hold), 15)
        held = read(hold)
        self.check("\ndisabled\n" in held and revoked in held,
                   "desk1b's client is disabled and its keyboard fd revoked (read: ENODEV)", held)
        self.check(re.search(r"state \S+ %s drm-master=no" % re.escape(card), held),
                   "desk1b's card fd is no longer DRM master", held)
        back = wait_for(lambda: kbd in self.container_nodes("desk1"), 30)
        self.check(back, "desk1 has seat1's keyboard %s again" % kbd)
        if "desk1" in self.libinput:
            self.check(wait_for(lambda: len(re.findall(
                           r"(?m)^\s*-?%s\s+DEVICE_ADDED" % kbd_event,
                           self.libinput_log("desk1"))) > added, 15),
                       "%s adds seat1's keyboard %s again" % (self.libinput["desk1"]["what"],
                                                              kbd_event),
                       self.libinput_log("desk1")[-1500:])
        if not with_cage:
            self.cstop("desk1b", "libseat-hold")
            return
        view = self.desk_view("desk1", card, pid)
        self.desktop_logs("desk1")
        alive = self.check(view["comm"] == "cage",
                           "desk1's cage (pid %s) is still running after the switch back" % pid,
                           "%s\n%s\n%s" % (view["raw"], tail(lab.path("out", "desk1", "compositor.log")),
                                           self.seatd_ns_lines(r"desk1")))
        # cage reopens the keyboard through libseat when udev adds it: give it a moment.
        time.sleep(3)
        t = time.monotonic()
        self.send_key("gpu1", "g")
        want = typed_before + "g"
        typed, took = "", None
        # Polled for up to a minute, timed: how long the key takes to get through cage after
        # the switch back.
        while time.monotonic() - t < 60:
            rc, typed, err = self.cexec("desk1", "%s typed" % self.desktop_script("compositor.sh"))
            took = round(time.monotonic() - t, 1)
            if typed.strip() == want:
                lab.figures["switch_back_key_to_terminal_s"] = took
                break
            time.sleep(1)
        self.desktop_logs("desk1")
        self.check(typed.strip() == want, "KEY_G typed on gpu1 reaches desk1's terminal again "
                   "(typed %r, seen %s s after the key)" % (typed.strip(), took),
                   "%s\n%s" % (tail(lab.path("out", "desk1", "compositor.log")),
                                self.libinput_log("desk1")[-600:] if "desk1" in self.libinput
                                else ""))
        self.check("key %s 34" % kbd not in read(hold), "desk1b's client did not get KEY_G",
                   read(hold))
        rgb = self.compositors["desk1"].get("rgb")
        r = None
        for _ in range(6):
            self.screendumps("switched-back", quiet=True)
            r = self.screen_check("gpu1", rgb, "switched-back")
            if r.returncode == 0:
                break
            time.sleep(2)
        self.check(alive and r.returncode == 0,
                   "gpu1's screenshot after the switch back shows desk1's compositor (rgb %s: %s)"
                   % (rgb, r.stdout.strip()), r.stderr + tail(lab.path("out", "desk1", "compositor.log")))
        # The terminal echoes the keys: the g on the display is a frame cage drew after it
        # got the seat back (DRM master again).
        changed = screen_diff(lab.path("screens", "gpu1-switched-away.png"),
                              lab.path("screens", "gpu1-switched-back.png"))
        self.check(changed, "cage drew again after the switch back: gpu1's display changed "
                   "(%s pixels) since the switch away (the typed g)" % changed)
        self.cstop("desk1b", "libseat-hold")

    def held_sound(self, devs):
        """A process of desk2 that opened seat2's USB audio PCMs itself (not through a sound
        server) keeps them no longer than desk2 has seat2: `seat-assign detach seat2`
        disconnects the card (ALSA has no revoke: seatd-ns rebinds its driver), the fds fail
        with ENODEV, and the card comes back on seat2, for desk2 once it is attached again."""
        lab = self.lab
        card = self.one(devs, "seat2's USB audio card at port 2.3", kind="sound-card",
                        id_path=usb_path("2.3"))
        if card is None:
            return
        pcms = sorted(d["devnode"] for d in devs if d.get("kind") == "sound-pcm"
                      and (d.get("syspath") or "").startswith(card["syspath"] + "/"))
        print("== sound: PCMs a process in desk2 opened itself, then seat2 detached", flush=True)
        held = self.cstart("desk2", "hold-direct", "python3 /lab/src/tests/lab/guest/"
                           "hold-direct.py --for 600 %s" % " ".join(pcms))
        wait_for(lambda: all("state %s " % p in read(held) for p in pcms), 30)
        self.check(pcms and all("state %s ok" % p in read(held) for p in pcms),
                   "a process in desk2 opens seat2's PCM nodes %s itself and keeps them"
                   % " ".join(pcms), read(held))
        since = lab.events.mark()
        t = time.time()
        rc, out, err = lab.agent.run(
            "s=$(date +%%s%%N); %s detach seat2; r=$?; e=$(date +%%s%%N); "
            "echo \"ms $(((e - s) / 1000000))\"; exit $r" % self.seat_assign, timeout=60)
        ms = re.search(r"(?m)^ms (\d+)$", out)
        if ms:
            lab.figures["detach_seat2_sound_held_ms"] = int(ms.group(1))
        self.check(rc == 0, "seat-assign detach seat2 (in %s ms)" % (ms and ms.group(1)),
                   out + err)
        dead = wait_for(lambda: all("state %s ENODEV" % p in read(held) for p in pcms), 20)
        self.check(dead, "seat-assign detach seat2: the PCM fds desk2's process opened itself "
                   "fail with ENODEV (the card was disconnected)",
                   read(held) + self.seatd_ns_lines(r"disconnect|revok|desk2"))
        cost = re.findall(r"disconnected \S+ .*in (\d+) ms", read(lab.path("out", "seatd-ns.log")))
        if cost:
            lab.figures["sound_disconnect_ms"] = int(cost[-1])
        te, ev = lab.events.wait(lambda e: e.get("action") in ("add", "change")
                                 and e.get("id_path") == usb_path("2.3")
                                 and e.get("kind") == "sound-card"
                                 and str(e.get("sound_initialized")) in ("1", "true"), 60, since)
        self.check(ev is not None and ev.get("seat") == "seat2",
                   "the card comes back on seat2, initialized (seat-assign monitor)", ev)
        if te is not None:
            lab.figures["sound_detach_to_card_back_ms"] = round((te - t) * 1000, 1)
        lab.agent.check("%s attach seat2 desk2" % self.seat_assign)
        rc, out, err = 1, "", ""
        for _ in range(30):
            rc, out, err = self.cexec("desk2", "aplay -l")
            if "QEMU USB Audio" in out:
                break
            time.sleep(1)
        self.check("QEMU USB Audio" in out, "seat-assign attach seat2 desk2: aplay -l in desk2 "
                   "lists the USB audio card again", out + err)
        self.cstop("desk2", "hold-direct")

    def hidraw_check(self):
        """seat1 asks for hidraw (guest/seats.conf), but this kernel cannot revoke a hidraw
        fd (HIDIOCREVOKE came with Linux 6.12): seatd-ns gives none, and says why."""
        have = sorted(n for n in self.container_nodes("desk1") if n.startswith("/dev/hidraw"))
        kernel = self.lab.agent.check("uname -r").strip()
        major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", kernel).groups())
        if (major, minor) >= (6, 12):
            self.check(have, "seat1 asks for hidraw and Linux %s can revoke it: desk1 has "
                       "seat1's hidraw nodes" % kernel, have)
            return
        said = self.seatd_ns_lines(r"HIDIOCREVOKE", 3)
        self.check(not have and "hidraw" in said,
                   "seat1 asks for hidraw, but Linux %s cannot revoke a hidraw fd: desk1 has no "
                   "hidraw node, and seatd-ns's log says why" % kernel,
                   "nodes %s; log: %s" % (have, said))

    # -- desktops (guest/desktop/, scripts run in the containers) ----------------------------

    def desktop_script(self, name):
        """The guest path of guest/desktop/NAME, or None when it is not there (yet)."""
        if not os.path.exists(os.path.join(LAB_DIR, "guest", "desktop", name)):
            return None
        return GUEST_DESKTOP + "/" + name

    def desktops(self):
        """A Wayland compositor through libseat on each seat's GPU (guest/desktop/compositor.sh,
        both at once); a screenshot of each display shows its seat's colour and not the other
        seat's (guest/desktop/screen-check.py); the sound server in desk2 (audio.sh)."""
        lab = self.lab
        comp = self.desktop_script("compositor.sh")
        colours = {}
        if comp is None:
            print("  note  no guest/desktop/compositor.sh: no compositors started", flush=True)
        else:
            print("== desktops: a compositor through libseat in each container", flush=True)
            starts = "".join(
                "%s%s start --timeout %d >/lab/out/%s/compositor.start 2>&1 & "
                % (LXC_ATTACH % c, comp, COMPOSITOR_TIMEOUT, c) for c in CONTAINERS.values())
            lab.agent.run(starts + "wait", timeout=COMPOSITOR_TIMEOUT + 30)
            up_at = time.monotonic()
            devs = self.devices("desktops")
            for seat, c in CONTAINERS.items():
                self.desktop_logs(c)
                text = read(lab.path("out", c, "compositor.start"))
                status = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
                card = self.find(devs, seat=seat, kind="drm-card")
                card = card[0]["devnode"] if card else None
                if self.check(status.get("state") == "up" and status.get("seat") == seat
                              and status.get("gpu") == card,
                              "a compositor through libseat is up in %s on %s's GPU %s (%ss)"
                              % (c, seat, card, status.get("seconds", "?")), text):
                    colours[seat] = status.get("rgb")
                    self.compositors[c] = status
                    self.desktops_up.add(c)
                    try:
                        lab.figures["%s_compositor_start_s" % c] = float(status["seconds"])
                    except (KeyError, ValueError):
                        pass
            if len(colours) == len(CONTAINERS) and getattr(lab, "t0", None) is not None:
                lab.figures["boot_to_desktops_up_s"] = round(up_at - lab.t0, 1)
        self.screendumps("desktop")
        check = os.path.join(LAB_DIR, "guest", "desktop", "screen-check.py")
        if colours and os.path.exists(check):
            gpus = {"seat1": "gpu1", "seat2": "gpu2"}
            for seat, rgb in colours.items():
                gpu = gpus[seat]
                other = [g for s, g in gpus.items() if s != seat][0]
                # The banner may reach the display a moment after start returns.
                for _ in range(5):
                    r = self.screen_check(gpu, rgb)
                    if r.returncode == 0:
                        break
                    time.sleep(2)
                    self.screendumps("desktop", quiet=True)
                self.check(r.returncode == 0, "%s's screenshot shows %s's compositor (rgb %s: %s)"
                           % (gpu, CONTAINERS[seat], rgb, r.stdout.strip()), r.stderr)
                r = self.screen_check(other, rgb)
                self.check(r.returncode == 1, "%s's screenshot does not (%s): %s drew on its "
                           "own GPU only" % (other, r.stdout.strip(), CONTAINERS[seat]), r.stderr)
        audio = self.desktop_script("audio.sh")
        if audio is None:
            print("  note  no guest/desktop/audio.sh: no sound server started", flush=True)
            return
        print("== sound in desk2: a sound server on the seat's USB audio card", flush=True)
        self.audio_check("start", "the 2.3 card", ["2.3"])

    def typed_check(self, want):
        """What the keys typed so far made in each compositor's terminal (compositor.sh typed):
        its own seat's keys, those of a hotplugged keyboard included, and nobody else's."""
        comp = self.desktop_script("compositor.sh")
        for c, keys in want.items():
            if comp is None or c not in self.desktops_up:
                continue
            out = ""
            for _ in range(5):
                rc, out, err = self.cexec(c, "%s typed" % comp)
                if out.strip() == keys:
                    break
                time.sleep(2)
            with open(self.lab.path("out", c, "typed.txt"), "w") as f:
                f.write(out)
            self.check(out.strip() == keys, "the keys typed on %s (%s) reached the terminal of "
                       "%s's compositor, and no other key" % (SEAT_OF[c], keys, c),
                       "typed: %r %s" % (out, err))

    def screen_check(self, gpu, rgb, tag="desktop"):
        png = self.lab.path("screens", "%s-%s.png" % (gpu, tag))
        return subprocess.run([sys.executable, os.path.join(LAB_DIR, "guest", "desktop",
                                                            "screen-check.py"), png, rgb],
                              capture_output=True, text=True, timeout=60)

    def desktop_logs(self, container):
        self.cexec(container, "cp %s /lab/out/ 2>/dev/null; true" % DESKTOP_LOGS)

    def audio_check(self, how, what, ports):
        """audio.sh start|wait in desk2: ALSA (aplay -l) and the sound server list exactly
        the cards at these ports of hub 2."""
        audio = self.desktop_script("audio.sh")
        if audio is None:
            return
        cmd = "start" if how == "start" else "wait %d" % len(ports)
        limit = AUDIO_TIMEOUT if how == "start" else AUDIO_CHANGE_TIMEOUT
        rc, out, err = self.cexec("desk2", "%s %s --timeout %d" % (audio, cmd, limit),
                                  timeout=limit + 30)
        self.desktop_logs("desk2")
        try:
            lists = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            lists = {}
        want = sorted(usb_path(p) for p in ports)
        alsa = sorted({a.get("id_path") for a in lists.get("alsa", [])})
        cards = sorted(c.get("bus_path") for c in lists.get("cards", []))
        self.check(rc == 0 and alsa == want and cards == want,
                   "audio.sh %s in desk2: aplay -l and %s list exactly %s"
                   % (cmd, lists.get("server", "the sound server"), what), out + err)


    # -- libinput ----------------------------------------------------------------------------

    def libinput_start(self, name, devnode=None, container=None):
        """libinput debug-events: in a container with the udev backend and its seat, or on
        the guest host on one event node."""
        if container is not None:
            seat = SEAT_OF[container]
            logpath = self.cstart(container, "libinput", "stdbuf -oL -eL libinput debug-events "
                                  "--show-keycodes --udev %s" % seat)
            self.libinput[name] = {"container": container, "log": logpath,
                                   "what": "libinput --udev %s in %s" % (seat, container)}
            return
        logname = "libinput-%s.log" % name
        pid = self.lab.agent.check(
            "stdbuf -oL -eL libinput debug-events --show-keycodes --device %s "
            ">/lab/out/%s 2>&1 & echo $!" % (devnode, logname)).strip()
        self.libinput[name] = {"pid": pid, "log": self.lab.path("out", logname),
                               "what": "libinput on %s" % devnode}

    def libinput_log(self, name):
        return read(self.libinput[name]["log"])

    def libinput_wait(self, name, pattern, timeout):
        return wait_for(lambda: re.search(pattern, self.libinput_log(name)), timeout)

    def libinput_stop(self, name):
        li = self.libinput.pop(name)
        if "container" in li:
            self.cstop(li["container"], "libinput")
        else:
            self.lab.agent.run("kill %s 2>/dev/null; true" % li["pid"])

    def libinput_devices(self, name, event="DEVICE_ADDED"):
        return set(re.findall(r"(?m)^\s*-?(event\d+)\s+%s\s" % event, self.libinput_log(name)))

    def send_key(self, device, qcode):
        events = [{"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}}
                  for down in (True, False)]
        args = {"events": events[:1]}
        if device:
            args["device"] = device
        self.lab.qmp.execute("input-send-event", **args)
        time.sleep(0.05)
        args["events"] = events[1:]
        self.lab.qmp.execute("input-send-event", **args)

    def key_test(self, device, qcode, keyname, expect, node, others):
        """Types qcode on `device`'s keyboard: libinput `expect` sees it from `node` (an event
        node name, or None for any), no other libinput in `others` sees it at all."""
        self.send_key(device, qcode)
        key = r"%s \(\d+\) pressed" % keyname
        pattern = r"(?m)^\s*-?%s\s+KEYBOARD_KEY\s.*%s" % (node, key) if node else key
        seen = self.libinput_wait(expect, pattern, 15)
        time.sleep(1.5)  # time for a wrongly routed key to show up elsewhere
        wrong = [o for o in others if re.search(key, self.libinput_log(o))]
        where = "device=%s" % device if device else "no device"
        self.check(seen, "%s typed with input-send-event (%s) reaches %s%s"
                   % (keyname, where, self.libinput[expect]["what"],
                      " from %s" % node if node else ""),
                   self.libinput_log(expect)[-2000:])
        self.check(not wrong, "%s is seen by no other libinput (%s)"
                   % (keyname, ", ".join(self.libinput[o]["what"] for o in others)),
                   "seen by: %s" % wrong)

    def breakdown(self, tag, event, container=None, timeout=10):
        """Where the time of one device event went, on the guest's CLOCK_MONOTONIC (containers
        share it): the kernel uevent and the udev event (udevadm monitor on the guest host,
        out/uevents.log), the event reaching the seat-assign monitor client
        (out/monitor.timed) and, for a container, its libudev (udevadm monitor --udev in it,
        out/CONTAINER/udev-monitor.log)."""
        syspath, action = event.get("syspath") or "", event.get("action")
        devpath = syspath[4:] if syspath.startswith("/sys/") else syspath

        def udev_times(path):
            k = u = None
            for line in read(path).splitlines():
                r = re.match(r"(KERNEL|UDEV)\s*\[([0-9.]+)\]\s+(\S+)\s+(\S+)", line)
                if r and r.group(3) == action and r.group(4) == devpath:
                    if r.group(1) == "KERNEL" and k is None:
                        k = float(r.group(2))
                    elif r.group(1) == "UDEV" and u is None:
                        u = float(r.group(2))
            return k, u

        deadline = time.monotonic() + timeout
        while True:
            k, u = udev_times(self.lab.path("out", "uevents.log"))
            c = None
            if container is not None:
                c = udev_times(self.lab.path("out", container, "udev-monitor.log"))[1]
            m = None
            for line in read(self.lab.path("out", "monitor.timed")).splitlines():
                t, _, text = line.partition(" ")
                try:
                    e = json.loads(text)
                except ValueError:
                    continue
                if e.get("syspath") == syspath and e.get("action") == action:
                    m = float(t)
                    break
            if ((k is not None and u is not None and m is not None
                 and (container is None or c is not None)) or time.monotonic() > deadline):
                break
            time.sleep(0.2)
        f = self.lab.figures
        if k is not None and u is not None:
            f["%s_kernel_to_udev_ms" % tag] = round((u - k) * 1000, 1)
        if u is not None and m is not None:
            f["%s_udev_to_monitor_ms" % tag] = round((m - u) * 1000, 1)
        if k is not None and m is not None:
            f["%s_kernel_to_monitor_ms" % tag] = round((m - k) * 1000, 1)
        if k is not None and c is not None:
            f["%s_kernel_to_container_ms" % tag] = round((c - k) * 1000, 1)
        if u is not None and c is not None:
            f["%s_udev_to_container_ms" % tag] = round((c - u) * 1000, 1)
        return c

    def container_heard(self, container, action, syspath):
        devpath = syspath[4:] if syspath.startswith("/sys/") else syspath
        return re.search(r"(?m)^UDEV\s*\[[0-9.]+\]\s+%s\s+%s\s" % (action, re.escape(devpath)),
                         read(self.lab.path("out", container, "udev-monitor.log")))

    # -- steps -------------------------------------------------------------------------------

    def run(self):
        lab = self.lab
        print("== coldplug: seat-assign --json devices against udevadm", flush=True)
        devs = self.devices("coldplug")
        db = self.udev_db("coldplug")
        self.cross_check(devs, db, "coldplug")
        for gpu, pci in GPU_PCI.items():
            under = lambda p, pci=pci: p is not None and ("/%s/" % pci) in p
            self.one(devs, "%s's DRM card" % gpu, "kind=drm-card, under PCI %s" % pci,
                     kind="drm-card", syspath=under)
            self.one(devs, "%s's DRM render node" % gpu, "kind=drm-render, under PCI %s" % pci,
                     kind="drm-render", syspath=under)
        nodes = {}
        for qid, port, kinds, what in COLDPLUG_USB:
            d = self.one(devs, "%s on port %s" % (what, port),
                         "kind=%s, id_path=%s" % ("|".join(sorted(kinds)), usb_path(port)),
                         id_path=usb_path(port), kind=lambda k, kinds=kinds: k in kinds)
            nodes[qid] = d and d.get("devnode")
        card = self.one(devs, "seat2 USB audio card on port 2.3", kind="sound-card",
                        id_path=usb_path("2.3"))
        self.check(card is not None and str(card.get("sound_initialized")) in ("1", "true"),
                   "the USB audio card is initialized (SOUND_INITIALIZED)", card)
        self.check(self.find(devs, kind="sound-control", id_path=usb_path("2.3")),
                   "the USB audio card's control node is listed")
        ps2 = self.one(devs, "seat0 PS/2 keyboard", kind="keyboard", id_path=PS2_KBD_PATH)
        nodes["ps2kbd"] = ps2 and ps2.get("devnode")
        node = {k: v and os.path.basename(v) for k, v in nodes.items()}

        print("== desktop containers desk1 (seat1) and desk2 (seat2)", flush=True)
        self.containers(devs, db)
        self.hidraw_check()
        for c in CONTAINERS.values():
            self.cstart(c, "udev-monitor", "stdbuf -oL udevadm monitor --udev "
                        "-s input -s sound -s drm")
        self.libseat(devs)

        print("== screendumps of each GPU's display", flush=True)
        self.screendumps("boot")
        self.desktops()

        print("== keys and pointer moves with input-send-event, seen by libinput "
              "(--udev SEAT in each container, the PS/2 keyboard's node on the guest host)",
              flush=True)
        for c in CONTAINERS.values():
            self.libinput_start(c, container=c)
        if nodes.get("ps2kbd"):
            self.libinput_start("ps2kbd", nodes["ps2kbd"])
        for seat, c in CONTAINERS.items():
            want = {node[q] for q, port, _, _ in COLDPLUG_USB
                    if node.get(q) and expected_seat({"id_path": usb_path(port)}) == seat}
            wait_for(lambda c=c, want=want: self.libinput_devices(c) >= want, 30)
            time.sleep(0.5)
            have = self.libinput_devices(c)
            self.check(want and have == want,
                       "%s lists exactly %s's keyboard and pointer (%s)"
                       % (self.libinput[c]["what"], seat, " ".join(sorted(want))),
                       "listed: %s\n%s" % (sorted(have), self.libinput_log(c)[-1500:]))
        if "ps2kbd" in self.libinput:
            self.check(self.libinput_wait("ps2kbd", r"DEVICE_ADDED", 20),
                       "%s opened the PS/2 keyboard" % self.libinput["ps2kbd"]["what"],
                       self.libinput_log("ps2kbd"))
        everyone = list(self.libinput)
        self.key_test("gpu1", "a", "KEY_A", "desk1", node["kbd1"],
                      [k for k in everyone if k != "desk1"])
        self.key_test("gpu2", "b", "KEY_B", "desk2", node["kbd2"],
                      [k for k in everyone if k != "desk2"])
        if "ps2kbd" in self.libinput:
            self.key_test(None, "c", "KEY_C", "ps2kbd", None,
                          [k for k in everyone if k != "ps2kbd"])
        for _ in range(3):
            lab.qmp.execute("input-send-event", device="gpu1", events=[
                {"type": "rel", "data": {"axis": "x", "value": 20}},
                {"type": "rel", "data": {"axis": "y", "value": 10}}])
            time.sleep(0.1)
        self.check(self.libinput_wait("desk1", r"(?m)^\s*-?%s\s+POINTER_MOTION\s" % node["mouse1"],
                                      15),
                   "relative pointer moves (device=gpu1) reach desk1 from the USB mouse",
                   self.libinput_log("desk1")[-2000:])
        for x in (8000, 16000, 24000):
            lab.qmp.execute("input-send-event", device="gpu2", events=[
                {"type": "abs", "data": {"axis": "x", "value": x}},
                {"type": "abs", "data": {"axis": "y", "value": x}}])
            time.sleep(0.1)
        self.check(self.libinput_wait("desk2", r"(?m)^\s*-?%s\s+POINTER_MOTION_ABSOLUTE"
                                      % node["tablet2"], 15),
                   "absolute pointer moves (device=gpu2) reach desk2 from the tablet",
                   self.libinput_log("desk2")[-2000:])
        self.check("POINTER_MOTION_ABSOLUTE" not in self.libinput_log("desk1"),
                   "desk1 saw none of the tablet's absolute moves")
        self.check(not re.search(r"POINTER_MOTION\s", self.libinput_log("desk2")),
                   "desk2 saw none of the mouse's relative moves")

        print("== hotplug: a keyboard into hub 1 (port 1.3), an audio device into hub 2 (port 2.4)",
              flush=True)
        kbd_path, audio_path = usb_path("1.3"), usb_path("2.4")
        since = lab.events.mark()
        t = time.time()
        lab.qmp.execute("device_add", driver="usb-kbd", id="kbd1b", bus="xhci.0", port="1.3",
                        display="gpu1")
        te, ev = lab.events.wait(lambda e: e.get("action") == "add" and e.get("id_path") == kbd_path
                                 and e.get("kind") == "keyboard", 60, since)
        self.check(ev is not None, "seat-assign monitor reports the keyboard added at port 1.3")
        kbd1b = {}
        if ev is not None:
            self.lab.figures["hotplug_kbd_add_latency_ms"] = round((te - t) * 1000, 1)
            kbd1b = ev
            self.check(ev.get("seat") == "seat1", "the hotplugged keyboard is on seat1", ev)
            c = self.breakdown("hotplug_kbd", ev, "desk1")
            self.check(c is not None, "desk1's libudev (udevadm monitor --udev) gets the "
                       "keyboard's add", tail(self.lab.path("out", "desk1", "udev-monitor.log")))
        since2 = lab.events.mark()
        t = time.time()
        lab.qmp.execute("device_add", driver="usb-audio", id="audio2b", bus="xhci.0", port="2.4",
                        audiodev="snd0")
        te, ev = lab.events.wait(lambda e: e.get("action") == "add" and e.get("id_path") == audio_path
                                 and e.get("kind") == "sound-card", 60, since2)
        self.check(ev is not None, "seat-assign monitor reports the audio card added at port 2.4")
        audio = {}
        if ev is not None:
            self.lab.figures["hotplug_audio_add_latency_ms"] = round((te - t) * 1000, 1)
            audio = ev
            self.check(ev.get("seat") == "seat2", "the hotplugged audio card is on seat2", ev)
            c = self.breakdown("hotplug_audio", ev, "desk2")
            self.check(c is not None, "desk2's libudev gets the audio card's add",
                       tail(self.lab.path("out", "desk2", "udev-monitor.log")))
        te2, ev2 = lab.events.wait(lambda e: e.get("id_path") == audio_path
                                   and e.get("kind") == "sound-card"
                                   and str(e.get("sound_initialized")) in ("1", "true"), 60, since2)
        self.check(ev2 is not None, "seat-assign monitor reports the new audio card initialized")
        if ev2 is not None:
            self.lab.figures["hotplug_audio_initialized_latency_ms"] = round((te2 - t) * 1000, 1)
        # Let udev finish with every node of both devices before comparing.
        lab.agent.run("udevadm settle --timeout=30", timeout=40)
        devs = self.devices("hotplugged")
        db = self.udev_db("hotplugged")
        self.cross_check(devs, db, "after hotplug")
        kbd = self.one(devs, "the hotplugged keyboard", kind="keyboard", id_path=kbd_path)
        self.one(devs, "the hotplugged audio card", kind="sound-card", id_path=audio_path)
        if kbd is not None and not kbd1b:
            kbd1b = kbd
        if kbd1b.get("syspath"):
            self.check(not self.container_heard("desk2", "add", kbd1b["syspath"]),
                       "desk2 heard nothing of seat1's new keyboard")
        if audio.get("syspath"):
            self.check(not self.container_heard("desk1", "add", audio["syspath"]),
                       "desk1 heard nothing of seat2's new audio card")
        kbd1b_node = kbd1b.get("devnode") and os.path.basename(kbd1b["devnode"])
        if kbd1b_node:
            self.check(self.libinput_wait("desk1", r"(?m)^\s*-?%s\s+DEVICE_ADDED" % kbd1b_node, 20),
                       "%s adds the hotplugged keyboard (%s)" % (self.libinput["desk1"]["what"],
                                                                 kbd1b_node),
                       self.libinput_log("desk1")[-1500:])
            self.check(kbd1b_node not in self.libinput_devices("desk2"),
                       "libinput in desk2 does not add it")
            # The newest keyboard on gpu1's console gets its keys.
            self.key_test("gpu1", "d", "KEY_D", "desk1", kbd1b_node,
                          [k for k in everyone if k != "desk1"])
        self.audio_check("wait", "the 2.3 and the new 2.4 cards", ["2.3", "2.4"])
        self.screendumps("hotplugged")

        print("== unplug: device_del of both", flush=True)
        since = lab.events.mark()
        removed = {}
        for qid in ("kbd1b", "audio2b"):
            t = time.time()
            lab.qmp.execute("device_del", id=qid)
            _, e = lab.qmp.wait_event("DEVICE_DELETED", lambda e, q=qid: e.get("data", {}).get("device") == q,
                                      timeout=30)
            self.check(e is not None, "qemu reports %s deleted" % qid)
            removed[qid] = t
        for qid, path, kind, c in (("kbd1b", kbd_path, "keyboard", "desk1"),
                                   ("audio2b", audio_path, "sound-card", "desk2")):
            te, ev = lab.events.wait(lambda e, p=path, k=kind: e.get("action") == "remove"
                                     and e.get("id_path") == p and e.get("kind") == k, 60, since)
            self.check(ev is not None, "seat-assign monitor reports the %s at %s removed" % (kind, path))
            if ev is not None:
                self.lab.figures["unplug_%s_remove_latency_ms" % qid] = round((te - removed[qid]) * 1000, 1)
                got = self.breakdown("unplug_%s" % qid, ev, c)
                self.check(got is not None, "%s's libudev gets the %s's remove" % (c, kind),
                           tail(self.lab.path("out", c, "udev-monitor.log")))
        if kbd1b_node:
            self.check(self.libinput_wait("desk1", r"(?m)^\s*-?%s\s+DEVICE_REMOVED" % kbd1b_node,
                                          20),
                       "%s removes the unplugged keyboard" % self.libinput["desk1"]["what"],
                       self.libinput_log("desk1")[-1500:])
        lab.agent.run("udevadm settle --timeout=30", timeout=40)
        # The daemon's view may trail udev's by the time its event takes: allow a moment.
        for _ in range(20):
            devs = self.devices("unplugged")
            left = [d for d in devs if (d.get("id_path") or "").startswith(
                (kbd_path[:-4], audio_path[:-4]))]
            if not left:
                break
            time.sleep(0.5)
        self.check(not left, "after device_del, seat-assign lists nothing at ports 1.3 and 2.4",
                   left)
        db = self.udev_db("unplugged")
        self.cross_check(devs, db, "after unplug")
        self.key_test("gpu1", "e", "KEY_E", "desk1", node["kbd1"],
                      [k for k in everyone if k != "desk1"])
        # a on seat1's keyboard, d on the hotplugged one, e on the first again; b on seat2's;
        # c on the PS/2 keyboard, nobody's.
        self.typed_check({"desk1": "ade", "desk2": "b"})
        self.audio_check("wait", "the 2.3 card again", ["2.3"])
        self.switch(devs, nodes.get("kbd1"))
        self.held_sound(devs)

        print("== stop: the containers, then seatd-ns", flush=True)
        for k in list(self.libinput):
            self.libinput_stop(k)
        for script, c in (("compositor.sh", "desk1"), ("compositor.sh", "desk2"),
                          ("audio.sh", "desk2")):
            path = self.desktop_script(script)
            if path is not None:
                self.desktop_logs(c)
                self.cexec(c, "%s stop" % path, timeout=60)
        stopping = list(CONTAINERS.values()) + self.extra_containers
        rc, out, err = lab.agent.run("/lab/src/tests/lab/guest/containers.sh stop %s"
                                     % " ".join(stopping), timeout=60 + 30 * len(stopping))
        self.check(rc == 0, "lxc-stop stops the containers (%s)" % " ".join(stopping), out + err)
        for c in stopping:
            self.check(wait_for(lambda c=c: re.search(
                r"container %s (exited; )?unregistered" % c, read(lab.path("out", "seatd-ns.log"))),
                15), "seatd-ns forgot %s" % c, tail(lab.path("out", "seatd-ns.log")))
        alive = not os.path.exists(lab.path("out", "seatd-ns.exit"))
        self.check(alive, "seatd-ns ran through the scenario",
                   tail(lab.path("out", "seatd-ns.log")))
        if alive:
            lab.agent.run("kill -TERM $(cat /run/seatd-ns.pid)")
            deadline = time.monotonic() + 15
            while not os.path.exists(lab.path("out", "seatd-ns.exit")) and time.monotonic() < deadline:
                time.sleep(0.1)
            status = read(lab.path("out", "seatd-ns.exit")).strip()
            self.check(status == "0", "seatd-ns exits with status 0 on SIGTERM (status %s)"
                       % (status or "none within 15s"), tail(lab.path("out", "seatd-ns.log")))
        # A sanitizer build reports and goes on (UBSan) or reports at exit (LeakSanitizer).
        reports = [l for l in read(lab.path("out", "seatd-ns.log")).splitlines()
                   if re.search(r"runtime error:|ERROR: \w*Sanitizer", l)]
        self.check(not reports, "seatd-ns.log has no sanitizer report", "\n".join(reports[:10]))

    def screendumps(self, tag, quiet=False):
        """screens/GPU-TAG.png of each GPU's display; checked unless quiet (a retake)."""
        os.makedirs(self.lab.path("screens"), exist_ok=True)
        for gpu in GPU_PCI:
            png = self.lab.path("screens", "%s-%s.png" % (gpu, tag))
            r = self.lab.qmp.execute("screendump", check=False, filename=png, device=gpu,
                                     format="png")
            how = "png"
            if isinstance(r, dict) and "error" in r:
                # qemu before 7.1 (or without libpng) writes PPM only.
                ppm = png[:-4] + ".ppm"
                self.lab.qmp.execute("screendump", filename=ppm, device=gpu)
                ppm_to_png(ppm, png)
                os.unlink(ppm)
                how = "ppm converted"
            size = png_size(png) if os.path.exists(png) else None
            if quiet:
                continue
            self.check(size is not None and size[0] > 0 and size[1] > 0,
                       "screendump of %s's display: %s (%s, %s)"
                       % (gpu, os.path.relpath(png, self.lab.run_dir),
                          "%dx%d" % size if size else "no PNG", how))


def screen_diff(a, b):
    """How many pixels differ between two screenshots of the same size (guest/desktop/
    screen-check.py reads them), or 0 when they cannot be compared."""
    mod = screen_check()
    try:
        images = []
        for path in (a, b):
            with open(path, "rb") as f:
                images.append(mod.read_png(f.read()))
    except (OSError, ValueError, IndexError, struct.error, zlib.error):
        return 0
    (w1, h1, bpp1, p1), (w2, h2, bpp2, p2) = images
    if (w1, h1, bpp1) != (w2, h2, bpp2):
        return 0
    return sum(1 for i in range(0, len(p1), bpp1) if p1[i:i + bpp1] != p2[i:i + bpp1])


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(pred, timeout, step=0.2):
    """Polls pred until it is true (returns True) or timeout seconds pass (returns False)."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def tail(path, n=30):
    return "\n".join(read(path).splitlines()[-n:])


# ---------------------------------------------------------------------------------------------

def print_figures(figures):
    labels = [
        ("boot_to_initramfs_s", "qemu start to the initramfs", "s"),
        ("boot_to_udev_settled_s", "qemu start to guest udevd settled (coldplug done)", "s"),
        ("boot_to_seatd_ns_listing_s", "qemu start to seatd-ns listing the devices", "s"),
        ("seatd_ns_start_to_listing_guest_s", "seatd-ns start to listing (guest clock)", "s"),
        ("boot_to_containers_up_s", "qemu start to both desktop containers up (registered)", "s"),
        ("containers_start_guest_s", "  lxc-start of both containers, in parallel (guest clock)",
         "s"),
        ("boot_to_desktops_up_s", "qemu start to both compositors up (the scenario starts them)",
         "s"),
        ("desk1_compositor_start_s", "  compositor.sh start to up in desk1 (both at once)", "s"),
        ("desk2_compositor_start_s", "  compositor.sh start to up in desk2", "s"),
    ]
    for tag, what, start in [("hotplug_kbd", "hotplug keyboard (event node)", "device_add"),
                             ("hotplug_audio", "hotplug audio (sound card)", "device_add"),
                             ("unplug_kbd1b", "unplug keyboard (event node)", "device_del"),
                             ("unplug_audio2b", "unplug audio (sound card)", "device_del")]:
        action = "add" if start == "device_add" else "remove"
        labels += [
            (tag + ("_add_latency_ms" if action == "add" else "_remove_latency_ms"),
             "%s: %s to monitor %s (host clock)" % (what, start, action), "ms"),
            (tag + "_kernel_to_udev_ms", "  guest: kernel uevent to udev event", "ms"),
            (tag + "_udev_to_monitor_ms", "  guest: udev event to seat-assign monitor", "ms"),
            (tag + "_kernel_to_monitor_ms", "  guest: kernel uevent to seat-assign monitor", "ms"),
            (tag + "_kernel_to_container_ms",
             "  guest: kernel uevent to libudev in the container (udevadm monitor)", "ms"),
            (tag + "_udev_to_container_ms", "  guest: udev event to libudev in the container", "ms"),
        ]
        if tag == "hotplug_audio":
            labels.append(("hotplug_audio_initialized_latency_ms",
                           "hotplug audio: device_add to card initialized (host clock)", "ms"))
    labels += [
        ("switch_to_desk1b_ms", "seat-assign switch seat1 desk1b, cage acknowledging (guest clock)",
         "ms"),
        ("switch_to_desk1b_devices_open_s",
         "  switch to desk1b's libseat client holding the card and keyboard (host)", "s"),
        ("switch_to_desk1_ms", "seat-assign switch seat1 desk1, back (guest clock)", "ms"),
        ("switch_back_key_to_terminal_s",
         "  then a key typed on gpu1 to desk1's terminal (host, polled)", "s"),
        ("detach_seat2_sound_held_ms",
         "seat-assign detach seat2, a process of desk2 holding its PCMs (guest clock)", "ms"),
        ("sound_disconnect_ms", "  of which seatd-ns disconnecting the card (its log)", "ms"),
        ("sound_detach_to_card_back_ms",
         "  detach to the card back on seat2, initialized (host clock)", "ms"),
    ]
    if not figures:
        return
    print("== measured", flush=True)
    for key, label, unit in labels:
        if key in figures:
            print("  %-72s %8.1f %s" % (label, figures[key], unit), flush=True)


def interrupted(signum, frame):
    raise LabError("interrupted by signal %d" % signum)


def cmd_run(args):
    signal.signal(signal.SIGTERM, interrupted)
    lab = Lab(args.run_dir, os.path.abspath(args.build), args.cache)
    status = 2
    scenario = None
    try:
        lab.boot(args.boot_timeout, args.seatd_ns_args, connect=True)
        log("guest ready %.1fs after qemu started" % lab.figures.get("boot_to_ready_s", -1))
        lab.connect()
        scenario = Scenario(lab)
        scenario.run()
        status = 1 if scenario.failed() else 0
    except LabError as e:
        print("lab: ERROR: %s" % e, flush=True)
        if lab.console is not None:
            lab.boot_figures()
            print("lab: last guest step: %s" % lab.last_mark(), flush=True)
    finally:
        lab.stop()
    print_figures(lab.figures)
    results = {
        "figures": lab.figures,
        "assertions": [{"ok": ok, "message": m} for ok, m in (scenario.results if scenario else [])],
        "status": status,
    }
    with open(lab.path("results.json"), "w") as f:
        json.dump(results, f, indent=2)
    if scenario is not None:
        n_fail = len(scenario.failed())
        print("lab: %d assertions, %d failed" % (len(scenario.results), n_fail), flush=True)
        for m in scenario.failed():
            print("lab: FAILED: " + m, flush=True)
    return status


def cmd_boot(args):
    lab = Lab(args.run_dir, os.path.abspath(args.build), args.cache)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        lab.boot(args.boot_timeout, args.seatd_ns_args)
        print_figures(lab.figures)
        log("the lab is up: run dir %s" % lab.run_dir)
        log("  %s exec --run-dir %s -- seat-assign devices" % (sys.argv[0], lab.run_dir))
        log("  %s scenario --run-dir %s" % (sys.argv[0], lab.run_dir))
        log("Ctrl-C stops it")
        while not stop.is_set() and lab.proc.poll() is None:
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    except LabError as e:
        print("lab: ERROR: %s" % e, flush=True)
        return 2
    finally:
        lab.stop()
    return 0


def cmd_scenario(args):
    lab = Lab(args.run_dir)
    try:
        lab.connect()
        scenario = Scenario(lab)
        scenario.run()
    except LabError as e:
        print("lab: ERROR: %s" % e, flush=True)
        return 2
    print_figures(lab.figures)
    print("lab: %d assertions, %d failed" % (len(scenario.results), len(scenario.failed())))
    return 1 if scenario.failed() else 0


def cmd_summary(args):
    """What each seat saw in a finished run (its run directory), for people: the devices of
    each seat and the nodes its container had, what libinput in the container added and the
    keys it received, the desktop, the screenshots, the logs, the result."""
    run = os.path.abspath(args.run_dir)
    try:
        devs = json.loads(read(os.path.join(run, "devices.coldplug.json")) or "[]")
        results = json.loads(read(os.path.join(run, "results.json")) or "{}")
    except ValueError as e:
        print("lab: %s: unreadable results: %s" % (run, e))
        return 1
    print("== what each seat saw")
    for seat in ["seat0"] + sorted(CONTAINERS):
        container = CONTAINERS.get(seat)
        print("%s%s" % (seat, " -> container %s" % container if container
                        else " (the guest's own seat, no container)"))
        print("  its devices at boot (seat-assign devices):")
        for d in sorted((d for d in devs if d.get("seat") == seat),
                        key=lambda d: (d.get("kind") or "", d.get("devnode") or "")):
            print("    %-14s %-20s %s" % (d.get("kind"), d.get("devnode") or "-",
                                        d.get("id_path") or ""))
        if container is None:
            keys = re.findall(r"(KEY_\w+) \(\d+\) pressed",
                              read(os.path.join(run, "out", "libinput-ps2kbd.log")))
            print("  keys received by libinput on the PS/2 keyboard (guest host): %s"
                  % (" ".join(keys) or "none"))
            continue
        out = os.path.join(run, "out", container)
        nodes = read(os.path.join(out, "nodes.txt")).split()
        print("  nodes in %s: %s" % (container, " ".join(nodes) or "(not recorded)"))
        li = read(os.path.join(out, "libinput.log"))
        for event in ("DEVICE_ADDED", "DEVICE_REMOVED"):
            found = re.findall(r"(?m)^\s*-?(event\d+)\s+%s\s+(.*?)\s{2,}" % event, li)
            print("  libinput --udev %s in %s, %s: %s" % (
                seat, container, event, ", ".join("%s (%s)" % f for f in found) or "none"))
        keys = re.findall(r"(?m)^\s*-?(event\d+)\s+KEYBOARD_KEY\s.*?(KEY_\w+) \(\d+\) pressed", li)
        print("  keys received in %s: %s" % (
            container, " ".join("%s from %s" % (k, n) for n, k in keys) or "none"))
        cards = re.findall(r"(?m)^card \d+: .*", read(os.path.join(out, "aplay.txt")))
        print("  aplay -l in %s: %s" % (container, "; ".join(cards) or "no sound card"))
        status = read(os.path.join(out, "status"))
        if status:
            st = dict(l.split("=", 1) for l in status.splitlines() if "=" in l)
            print("  compositor: %s on %s, %s, %s" % (st.get("state"), st.get("gpu"),
                                                     st.get("output"), st.get("color")))
            typed = read(os.path.join(out, "typed.txt"))
            print("  typed into its terminal: %s" % (" ".join(typed.split()) or "nothing"))
    print("== screenshots (QMP screendump of each GPU's display)")
    screens = os.path.join(run, "screens")
    for f in sorted(os.listdir(screens)) if os.path.isdir(screens) else []:
        print("  " + os.path.join(screens, f))
    print("== logs")
    print("  %s: console.log (the guest's console), results.json (every assertion and figure)"
          % run)
    print("  %s/out: seatd-ns.log, udevd.log, monitor.jsonl, uevents.log, lxc-desk*.log" % run)
    print("  %s/out/desk1, desk2: each container's libinput.log, udev-monitor.log, "
          "udevadm-info.txt" % run)
    asserts = results.get("assertions", [])
    failed = [a["message"] for a in asserts if not a.get("ok")]
    print("== %d assertions, %d failed" % (len(asserts), len(failed)))
    for m in failed:
        print("  FAILED: " + m)
    return 0 if results.get("status") == 0 else 1


def cmd_exec(args):
    agent = Agent(os.path.join(os.path.abspath(args.run_dir), "cmd.sock"))
    command = " ".join(shell_quote(a) for a in args.command)
    # seat-assign and seatd-ns are found in the shared build directory.
    rc, out, err = agent.run("PATH=/lab/build/seatd-ns:$PATH; " + command, timeout=args.timeout)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return rc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("run", "boot", "scenario", "exec", "summary"):
        s = sub.add_parser(name)
        s.add_argument("--run-dir", required=name in ("scenario", "exec", "summary"),
                       help="the lab's run directory" + (
                           "" if name in ("scenario", "exec", "summary") else
                           " (default: a new one under the cache directory)"))
        if name in ("run", "boot"):
            s.add_argument("--build", default=os.path.join(SRC_DIR, "build"))
            s.add_argument("--cache", default=os.environ.get("SEATD_NS_LAB_CACHE",
                                                             "/var/tmp/seatd-ns-lab"))
            s.add_argument("--boot-timeout", type=int, default=240)
            s.add_argument("--seatd-ns-args", default=None)
        if name == "exec":
            s.add_argument("--timeout", type=int, default=60)
            s.add_argument("command", nargs="+")
    args = p.parse_args()
    if args.run_dir is None:
        os.makedirs(args.cache, exist_ok=True)
        args.run_dir = tempfile.mkdtemp(prefix="run.", dir=args.cache)
    return {"run": cmd_run, "boot": cmd_boot, "scenario": cmd_scenario, "exec": cmd_exec,
            "summary": cmd_summary}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
