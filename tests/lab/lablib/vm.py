"""The VM: qemu's command line, booting the guest, following its console, and connecting to
its channels."""

import os
import re
import subprocess
import time

from .channels import QMP, Agent, EventStream
from .topology import AUDIODEV_WAV, LAB_MACHINE
from .util import SRC_DIR, LabError, guest_path, log, shell_quote

STAGE2 = guest_path("guest", "stage2.sh")


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


def qemu_argv(env, run_dir, build_dir, hardware=LAB_MACHINE, stage2=STAGE2):
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
    ]
    for audiodev, wav in sorted(AUDIODEV_WAV.items()):
        argv += ["-audiodev", "wav,id=%s,path=%s" % (audiodev,
                                                     qemu_opt(os.path.join(run_dir, wav)))]
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
    """One VM of the lab, in its run directory."""

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
        self.t0 = None  # when qemu started (monotonic), if this driver started it

    def path(self, *parts):
        return os.path.join(self.run_dir, *parts)

    def boot(self, timeout, seatd_ns_args=None, connect=False, hardware=LAB_MACHINE,
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
