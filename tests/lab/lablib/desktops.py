"""The desktops in the containers (guest/desktop/: a Wayland compositor through libseat on each
seat's GPU, a sound server in desk2): starting them, what they report, what their terminals
received, their screenshots."""

import json
import os
import subprocess
import sys
import time

from .images import SCREEN_CHECK
from .topology import CONTAINERS, SEAT_OF, usb_path
from .util import LAB_DIR, guest_path, lxc_attach, read

# How long a compositor (both start at once; 15 to 30 s under TCG) and the sound server
# (about 30 s) may take to come up, and a change of sound cards to reach the sound server
# (about 15 s).
COMPOSITOR_TIMEOUT = 120
AUDIO_TIMEOUT = 90
AUDIO_CHANGE_TIMEOUT = 45
# desk2's sound server through the scenarios: PulseAudio. The tone scenario swaps in PipeWire
# with WirePlumber (as Debian 12's desktops have it) for its own checks.
SOUND_SERVER = "pulseaudio"
# Where those scripts keep their state in the container (a Wayland or PipeWire socket cannot
# live on the 9p share behind /lab/out); their logs are copied to /lab/out.
DESKTOP_LOGS = "/run/desktop/compositor.log /run/desktop/status /run/desktop-audio/*.log"


class Desktops:
    def __init__(self, checks):
        self.checks = checks
        self.starts = None  # container -> (up, its card, status, compositor.start's text)
        self.compositors = {}  # container -> what compositor.sh start printed (pid, rgb, ...)
        self.up = set()  # containers whose compositor came up
        self.typed = {}  # container -> the keys typed into its compositor so far
        self.sound_start = None  # audio.sh start's (status, stdout, stderr)

    def script(self, name):
        """The guest path of guest/desktop/NAME, or None when it is not there (yet)."""
        if not os.path.exists(os.path.join(LAB_DIR, "guest", "desktop", name)):
            return None
        return guest_path("guest", "desktop", name)

    def logs(self, container):
        self.checks.cexec(container, "cp %s /lab/out/ 2>/dev/null; true" % DESKTOP_LOGS)

    def start_compositors(self):
        """The setup step: compositor.sh start in both containers at once, once a run (if
        guest/desktop/ has it); which came up on their seat's GPU."""
        comp = self.script("compositor.sh")
        if comp is None or self.starts is not None:
            return
        checks, lab = self.checks, self.checks.lab
        starts = "".join("%s%s start --timeout %d >/lab/out/%s/compositor.start 2>&1 & "
                         % (lxc_attach(c), comp, COMPOSITOR_TIMEOUT, c)
                         for c in CONTAINERS.values())
        lab.agent.run(starts + "wait", timeout=COMPOSITOR_TIMEOUT + 30)
        up_at = time.monotonic()
        devs = checks.devices("desktops")
        self.starts = {}
        for seat, c in CONTAINERS.items():
            self.logs(c)
            text = read(lab.path("out", c, "compositor.start"))
            status = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
            card = checks.find(devs, seat=seat, kind="drm-card")
            card = card[0]["devnode"] if card else None
            up = (status.get("state") == "up" and status.get("seat") == seat
                  and status.get("gpu") == card)
            self.starts[c] = (up, card, status, text)
            if up:
                self.compositors[c] = status
                self.up.add(c)
                try:
                    lab.figures["%s_compositor_start_s" % c] = float(status["seconds"])
                except (KeyError, ValueError):
                    pass
        if len(self.up) == len(CONTAINERS) and lab.t0 is not None:
            lab.figures["boot_to_desktops_up_s"] = round(up_at - lab.t0, 1)

    def start_sound_server(self):
        """The setup step: audio.sh start in desk2, once a run (if guest/desktop/ has it)."""
        if self.script("audio.sh") is not None and self.sound_start is None:
            self.sound_start = self.audio("start")

    def audio(self, how, ports=(), server=SOUND_SERVER):
        """audio.sh start, stop, or wait until the sound server has as many cards as `ports`:
        (status, stdout, stderr)."""
        cmd = how if how in ("start", "stop") else "wait %d" % len(ports)
        limit = AUDIO_TIMEOUT if how == "start" else AUDIO_CHANGE_TIMEOUT
        result = self.checks.cexec("desk2", "%s %s --timeout %d --server %s" % (
            self.script("audio.sh"), cmd, limit, server), timeout=limit + 30)
        self.logs("desk2")
        return result

    def audio_check(self, how, what, ports, result=None):
        """audio.sh start|wait in desk2 (or its `result`, already run): ALSA (aplay -l) and
        the sound server list exactly the cards at these ports of hub 2."""
        if self.script("audio.sh") is None:
            return
        rc, out, err = result or self.audio(how, ports)
        try:
            lists = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            lists = {}
        want = sorted(usb_path(p) for p in ports)
        alsa = sorted({a.get("id_path") for a in lists.get("alsa", [])})
        cards = sorted(c.get("bus_path") for c in lists.get("cards", []))
        cmd = "start" if how == "start" else "wait %d" % len(ports)
        self.checks.check(rc == 0 and alsa == want and cards == want,
                          "audio.sh %s in desk2: aplay -l and %s list exactly %s"
                          % (cmd, lists.get("server", "the sound server"), what), out + err)

    def typed_into(self, container, qcode):
        """A key typed on `container`'s seat, which its compositor's terminal should show."""
        if container in self.up:
            self.typed[container] = self.typed.get(container, "") + qcode

    def keyboard_check(self, container, only=None, timeout=30):
        """Before keys are typed on `container`'s seat: its compositor holds a keyboard of the
        seat open (compositor.sh keyboards), or exactly the event node `only` (after an
        unplug: it let the unplugged one go), or the keys would reach nobody."""
        if container not in self.up:
            return
        comp = self.script("compositor.sh")
        want = ["/dev/input/" + only] if only else None
        deadline = time.monotonic() + timeout
        while True:
            rc, out, err = self.checks.cexec(container, "%s keyboards" % comp)
            held = out.split()
            if (held == want if want else held) or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.logs(container)
        log = read(self.checks.lab.path("out", container, "compositor.log"))
        self.checks.check(held == want if want else bool(held),
                          "%s's compositor holds %s open (%s)"
                          % (container, "only %s" % want[0] if want else
                             "a keyboard of %s" % SEAT_OF[container], " ".join(held) or "none"),
                          err + "\n".join(log.splitlines()[-20:]))

    def typed_check(self):
        """What the keys typed so far made in each compositor's terminal (compositor.sh typed):
        its own seat's keys, those of a hotplugged keyboard included, and nobody else's."""
        comp = self.script("compositor.sh")
        for c, keys in self.typed.items():
            out = ""
            for _ in range(5):
                rc, out, err = self.checks.cexec(c, "%s typed" % comp)
                if out.strip() == keys:
                    break
                time.sleep(2)
            with open(self.checks.lab.path("out", c, "typed.txt"), "w") as f:
                f.write(out)
            self.checks.check(out.strip() == keys, "the keys typed on %s (%s) reached the "
                              "terminal of %s's compositor, and no other key"
                              % (SEAT_OF[c], keys, c), "typed: %r %s" % (out, err))

    def screen_check(self, gpu, rgb, tag="desktop"):
        """screen-check.py on screens/GPU-TAG.png: exit 0 when it shows colour `rgb`."""
        png = self.checks.lab.path("screens", "%s-%s.png" % (gpu, tag))
        return subprocess.run([sys.executable, SCREEN_CHECK, png, rgb],
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        """compositor.sh stop and audio.sh stop where they were started."""
        started = [("compositor.sh", "", c) for c in (self.starts or {})]
        if self.sound_start is not None:
            started.append(("audio.sh", " --server " + SOUND_SERVER, "desk2"))
        for script, options, c in started:
            self.logs(c)
            self.checks.cexec(c, "%s stop%s" % (self.script(script), options), timeout=60)
