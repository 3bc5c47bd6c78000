"""What every scenario checks with: the list of checks and their results, the guest's views of
its devices (seat-assign against udev), commands in the desktop containers, and the setup
steps scenarios share, each done once a run, so that any scenario can run alone."""

import json
import os
import re
import time

from .desktops import Desktops
from .images import png_size, ppm_to_png
from .libinput import Libinput
from .topology import (COLDPLUG_USB, GPU_PCI, INPUT_CLASSES, PS2_KBD_PATH, CONTAINERS,
                       expected_seat, usb_path)
from .util import LabError, guest_path, lxc_attach, read, shell_quote

SEAT_ASSIGN = "/lab/build/seatd-ns/seat-assign"
CONTAINERS_SH = guest_path("guest", "containers.sh")


class Checks:
    """The checks of one run against one VM, and the state its scenarios share."""

    def __init__(self, lab):
        self.lab = lab
        self.results = []  # (ok, message)
        self.notes = set()
        self.seat_assign = SEAT_ASSIGN
        self.extra_containers = []  # made by a scenario (switch), stopped with the others
        self.libinput = Libinput(self)
        self.desktops = Desktops(self)
        self.boot = None  # (devices, udev database) at boot
        self.latest_devices = None
        self.watching_udev = False

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
        self.latest_devices = json.loads(out)
        return self.latest_devices

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

    # -- setup steps shared by the scenarios, each done once ---------------------------------

    def boot_view(self):
        """seat-assign's devices and udev's database as the guest booted (devices.coldplug.json,
        udev-db.coldplug.txt)."""
        if self.boot is None:
            self.boot = (self.devices("coldplug"), self.udev_db("coldplug"))
        return self.boot

    def current_devices(self):
        """seat-assign's devices as last listed by a scenario (at boot if none did)."""
        return self.latest_devices if self.latest_devices is not None else self.boot_view()[0]

    def input_devnodes(self):
        """The event nodes of the coldplugged USB input devices (by qemu id) and of the PS/2
        keyboard ("ps2kbd") at boot; None for one not listed exactly once."""
        devs = self.boot_view()[0]
        found = {qid: self.find(devs, id_path=usb_path(port), kind=lambda k, ks=kinds: k in ks)
                 for qid, port, kinds, _ in COLDPLUG_USB}
        found["ps2kbd"] = self.find(devs, kind="keyboard", id_path=PS2_KBD_PATH)
        return {qid: d[0].get("devnode") if len(d) == 1 else None for qid, d in found.items()}

    def input_nodes(self):
        """input_devnodes() by their names (eventN), as libinput prints them."""
        return {k: v and os.path.basename(v) for k, v in self.input_devnodes().items()}

    def watch_udev(self):
        """udevadm monitor --udev in each desktop container (out/CONTAINER/udev-monitor.log):
        what the containers' libudev hears."""
        if self.watching_udev:
            return
        self.watching_udev = True
        for c in CONTAINERS.values():
            self.cstart(c, "udev-monitor", "stdbuf -oL udevadm monitor --udev "
                        "-s input -s sound -s drm")

    # -- containers --------------------------------------------------------------------------

    def cexec(self, container, script, timeout=30):
        """Runs a shell script in a desktop container: (exit status, stdout, stderr)."""
        return self.lab.agent.run(lxc_attach(container) + "/bin/sh -c " + shell_quote(script),
                                  timeout)

    def cstart(self, container, name, command):
        """Starts a command in the container in the background; its output goes to
        out/CONTAINER/NAME.log, its pid (in the container) to /lab/out/NAME.pid there."""
        inner = "echo $$ >/lab/out/%s.pid; exec %s" % (name, command)
        self.lab.agent.check("%s/bin/sh -c %s </dev/null >/lab/out/%s/%s.log 2>&1 &"
                             % (lxc_attach(container), shell_quote(inner), container, name))
        return self.lab.path("out", container, name + ".log")

    def cstop(self, container, name):
        self.cexec(container, "kill $(cat /lab/out/%s.pid) 2>/dev/null; true" % name)

    def container_nodes(self, container):
        rc, out, err = self.cexec(container, "for f in /dev/input/* /dev/dri/* /dev/snd/* "
                                  "/dev/hidraw*; do [ -c \"$f\" ] && echo \"$f\"; done; true")
        if rc != 0:
            raise LabError("lxc-attach to %s failed (%d): %s" % (container, rc, err))
        return set(out.split())

    # -- the daemon's log, the displays, the keyboards -----------------------------------------

    def seatd_ns_lines(self, pattern, n=20):
        return "\n".join([l for l in read(self.lab.path("out", "seatd-ns.log")).splitlines()
                          if re.search(pattern, l)][-n:])

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

