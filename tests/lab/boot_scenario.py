#!/usr/bin/python3
"""The seat lab's boot scenario (tests/lab/README.md, "The boot scenario"): the VM boots the
way a multiseat host boots. The tree `meson install` gives is copied into the guest, systemd
is PID 1, seatd-ns.service is enabled, and both desktop containers (systemd their own init)
start at boot through lxc@NAME.service and show their seat's desktop. Then a restart and a
SIGKILL of the daemon with both desktops up, and a reboot that keeps a seat-assign decision.

    boot_scenario.py [--bad-input] --build DIR --run-dir DIR [--cache DIR]

--bad-input boots once with a broken seats.conf and a container whose config lacks the
seatd-ns include, instead.
Exit status: 0 every check held, 1 a check failed, 2 the lab could not be brought up.
`run(lab, checks)` and `run_bad_input(lab, checks)` are the scenarios, each booting LAB.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from lablib.checks import Checks
from lablib.images import screen_check
from lablib.topology import SEAT_OF, XHCI_PCI, usb_path
from lablib.util import LAB_DIR, SRC_DIR, LabError, log, shell_quote, tail, wait_for
from lablib.vm import Lab

BOOT_STAGE2 = "/lab/src/" + os.path.relpath(
    os.path.join(LAB_DIR, "guest", "boot", "stage2.sh"), SRC_DIR)
# The colour guest/desktop/compositor.sh paints each seat's terminal in, by display.
DESKTOP_RGB = {"gpu1": (0, 0, 170), "gpu2": (0, 170, 0)}
GPU_OF = {"desk1": "gpu1", "desk2": "gpu2"}
# Under TCG: systemd, then the containers' systemd, then cage (both at once).
FIRST_FRAME_TIMEOUT = 300
# A seat-assign decision the reboot must keep: seat1's mouse (port 1.2) given to seat2.
MOVED_PORT = "1.2"


def install_tree(build_dir, root):
    """`meson install` of the build into ROOT (a DESTDIR); returns the guest path of
    seat-assign, which says the prefix."""
    shutil.rmtree(root, ignore_errors=True)
    r = subprocess.run(["meson", "install", "-C", build_dir, "--no-rebuild", "--quiet",
                        "--destdir", root], capture_output=True, text=True)
    if r.returncode != 0:
        raise LabError("meson install failed: %s%s" % (r.stdout, r.stderr))
    for prefix in ("usr/local", "usr"):
        if os.path.exists(os.path.join(root, prefix, "bin", "seat-assign")):
            return "/%s/bin/seat-assign" % prefix
    raise LabError("meson install put no bin/seat-assign under usr or usr/local")


def shows_colour(ppm, rgb):
    """Whether at least half of a screendump (PPM) is RGB, on a sample of its pixels:
    polled every second, it must be quicker than screen-check.py's full count."""
    with open(ppm, "rb") as f:
        width, height, bpp, pixels = screen_check().read_ppm(f.read())
    step = bpp * 97
    sample = range(0, width * height * bpp - bpp, step)
    match = sum(1 for i in sample
                if all(abs(pixels[i + k] - rgb[k]) <= 24 for k in range(3)))
    return width > 0 and match >= len(sample) / 2


def first_frames(lab, tag):
    """Polls each display until it shows its seat's desktop: lab.figures gets the time from
    power-on (qemu's start) to the first screendump that does, per seat, when an earlier one
    did not (else the desktop came before the polling began, and the time says nothing)."""
    os.makedirs(lab.path("screens"), exist_ok=True)
    waiting = dict(DESKTOP_RGB)
    first = True
    while waiting and time.monotonic() - lab.t0 < FIRST_FRAME_TIMEOUT:
        for gpu, rgb in list(waiting.items()):
            ppm = lab.path("screens", "%s-poll.ppm" % gpu)
            lab.qmp.execute("screendump", filename=ppm, device=gpu)
            if shows_colour(ppm, rgb):
                seat = "seat" + gpu[-1]
                if first:
                    print("  note  %s already showed its desktop when the polling began (%.1fs)"
                          % (gpu, time.monotonic() - lab.t0), flush=True)
                else:
                    lab.figures["%s_power_on_to_first_frame_%s_s" % (tag, seat)] = round(
                        time.monotonic() - lab.t0, 1)
                del waiting[gpu]
            os.unlink(ppm)
        first = False
        time.sleep(1)
    return not waiting


def show(lab, unit, *props):
    """systemctl show of a unit in the guest, as a dict."""
    out = lab.agent.check("systemctl show %s %s" % (
        " ".join("-p " + p for p in props), unit))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def save_journal(lab, tag):
    lab.agent.run("journalctl -b --no-pager -o short-monotonic >/lab/out/journal.%s.txt" % tag,
                  timeout=90)


class BootChecks:
    """The checks of one boot, on lablib's Checks (check, devices, find, cexec, send_key,
    screendumps, screen_check, typed_check), its lab swapped at each boot."""

    def __init__(self, scenario, seat_assign):
        self.s = scenario
        self.seat_assign = scenario.seat_assign = seat_assign

    @property
    def lab(self):
        return self.s.lab

    def system_up(self):
        rc, out, _ = self.lab.agent.run("systemctl is-system-running --wait", timeout=240)
        failed = self.lab.agent.run("systemctl --failed --no-legend --plain")[1]
        self.s.check(out.strip() == "running",
                     "systemd is PID 1 and the boot finished (%s)" % out.strip(), failed)
        rc, out, _ = self.lab.agent.run("systemctl is-active seatd-ns")
        journal = self.lab.agent.run("journalctl -b -u seatd-ns -o cat -n 30 --no-pager")[1]
        return self.s.check(out.strip() == "active", "systemctl is-active seatd-ns: %s"
                            % out.strip(), journal)

    def ready_before_containers(self, tag):
        """seatd-ns (Type=notify) was ready before lxc@desk1 and lxc@desk2 started; the
        time from its start to READY=1."""
        unit = show(self.lab, "seatd-ns", "Type", "ExecMainStartTimestampMonotonic",
                    "ActiveEnterTimestampMonotonic")
        started = int(unit.get("ExecMainStartTimestampMonotonic") or 0)
        ready = int(unit.get("ActiveEnterTimestampMonotonic") or 0)
        self.s.check(unit.get("Type") == "notify" and 0 < started <= ready,
                     "seatd-ns.service is Type=notify and became active %.2fs after its start"
                     % ((ready - started) / 1e6), unit)
        self.lab.figures["%s_seatd_ns_start_to_ready_s" % tag] = round((ready - started) / 1e6, 2)
        for c in GPU_OF:
            lxc = show(self.lab, "lxc@%s" % c, "ExecMainStartTimestampMonotonic")
            start = int(lxc.get("ExecMainStartTimestampMonotonic") or 0)
            self.s.check(0 < ready < start, "seatd-ns was ready %.2fs before lxc@%s started"
                         % ((start - ready) / 1e6, c), lxc)

    def seats(self, what):
        """Each container is on its seat: seat-assign seats names it (which it does for the
        container the configuration names, registered or not) and it has the seat's
        /run/seatd.sock and card node (which only a registration gives). Returns the devices."""
        seats = json.loads(self.lab.agent.check("%s --json seats" % self.seat_assign))
        devs = self.s.devices(what.replace(" ", "-"))
        for c in GPU_OF:
            seat = SEAT_OF[c]
            entry = [x.get("container") for x in seats if x.get("name") == seat]
            card = [d["devnode"] for d in self.s.find(devs, seat=seat, kind="drm-card")]
            rc, out, err = self.s.cexec(c, "test -S /run/seatd.sock && test -c %s && echo yes"
                                        % (card or ["/dev/dri/none"])[0])
            self.s.check(entry == [c] and out.strip() == "yes",
                         "%s: %s is on %s (seat-assign seats), with /run/seatd.sock and the "
                         "seat's card %s" % (what, c, seat, card), "%s %s%s" % (entry, out, err))
        return devs

    def desktops(self):
        """Each container's systemd started the desktop unit; each display shows its own seat's
        colour and not the other's; keys typed on a seat's keyboard reach its desktop only."""
        for c in GPU_OF:
            rc, out, err = self.s.cexec(c, "cat /proc/1/comm; systemctl is-active lab-desktop")
            self.s.check(out.split() == ["systemd", "active"],
                         "%s runs systemd as its init, which started lab-desktop.service" % c,
                         out + err + tail(self.lab.path("out", c, "compositor.start")))
            if out.split()[-1:] == ["active"]:
                self.s.desktops.up.add(c)
        self.s.screendumps("desktop")
        for c, gpu in GPU_OF.items():
            rgb = ",".join(map(str, DESKTOP_RGB[gpu]))
            r = self.s.desktops.screen_check(gpu, rgb)
            self.s.check(r.returncode == 0, "%s's display shows %s's desktop (%s)"
                         % (gpu, c, r.stdout.strip()), r.stderr)
            other = [g for g in DESKTOP_RGB if g != gpu][0]
            r = self.s.desktops.screen_check(other, rgb)
            self.s.check(r.returncode == 1, "%s's display does not (%s)"
                         % (other, r.stdout.strip()), r.stderr)
        for c, key in (("desk1", "a"), ("desk2", "b")):
            self.s.desktops.keyboard_check(c)
            self.s.send_key(GPU_OF[c], key)
            self.s.desktops.typed_into(c, key)
        self.s.desktops.typed_check()

    def kept_seats(self, what, nodes):
        """After a restart of the daemon: each container has the nodes it had, is still on its
        seat, and a new libseat client in desk2 is served, waiting behind cage."""
        for c, before in nodes.items():
            after = self.s.container_nodes(c)
            self.s.check(after == before, "%s: %s kept its device nodes (%d)"
                         % (what, c, len(before)), "before %s\nafter %s"
                         % (sorted(before), sorted(after)))
        devs = self.seats(what)
        card = self.s.find(devs, seat="seat2", kind="drm-card")
        kbd = self.s.find(devs, seat="seat2", kind="keyboard")
        if not (card and kbd):
            self.s.check(False, "%s: seat2's card and keyboard are listed" % what, devs)
            return
        card, kbd = card[0]["devnode"], kbd[0]["devnode"]
        rc, out, err = self.s.cexec("desk2", "/lab/build/tests/libseat-client %s %s"
                                    % (card, kbd))
        lines = out.splitlines()
        # cage, taken over from the daemon before, still owns the seat: as under seatd, a
        # second client opens the seat and waits its turn, its device opens refused till then.
        self.s.check(rc == 0 and "seat seat2 not-enabled" in lines
                     and any(l.startswith("%s error" % card) for l in lines)
                     and any(l.startswith("%s error" % kbd) for l in lines),
                     "%s: a new libseat client in desk2 opens seat2 and waits its turn (cage "
                     "owns it): its card and keyboard are refused till then" % what, out + err)

    def daemon_restarts(self):
        """systemctl restart, then SIGKILL (systemd restarts it: Restart=on-failure), with
        both desktops up: the containers keep their seats, and their compositors keep running,
        drawing and reading keys (the daemon takes their connections over from systemd's fd
        store)."""
        nodes = {c: self.s.container_nodes(c) for c in GPU_OF}
        cages = {c: self.s.cexec(c, "cat /run/desktop/compositor.pid")[1].strip()
                 for c in GPU_OF}
        self.lab.agent.check("systemctl restart seatd-ns", timeout=120)
        self.kept_seats("after systemctl restart seatd-ns", nodes)
        pid = show(self.lab, "seatd-ns", "MainPID")["MainPID"]
        self.lab.agent.check("kill -9 %s" % pid)

        def restarted():
            now = show(self.lab, "seatd-ns", "MainPID", "ActiveState")
            return now.get("ActiveState") == "active" and now.get("MainPID") not in ("0", pid)
        restarted = wait_for(restarted, 60, step=1)
        unit = show(self.lab, "seatd-ns", "NRestarts", "ActiveState", "Restart")
        self.s.check(restarted and unit.get("Restart") == "on-failure",
                     "kill -9 of seatd-ns: systemd restarted it (Restart=%s, NRestarts=%s)"
                     % (unit.get("Restart"), unit.get("NRestarts")), unit)
        self.kept_seats("after kill -9 of seatd-ns", nodes)
        for c, pid in cages.items():
            alive = self.s.cexec(c, "kill -0 %s" % pid)[0] == 0 if pid else False
            self.s.check(alive, "%s's cage (pid %s) survived both restarts of the daemon: its "
                         "libseat connection and devices were in systemd's fd store"
                         % (c, pid or "?"))
        # Still drawing on its own display, and still reading its own seat's keyboard.
        for c, gpu in GPU_OF.items():
            r = self.s.desktops.screen_check(gpu, ",".join(map(str, DESKTOP_RGB[gpu])))
            self.s.check(r.returncode == 0, "after the restarts %s's display shows %s's desktop "
                         "(%s)" % (gpu, c, r.stdout.strip()), r.stderr)
        for c, key in (("desk1", "c"), ("desk2", "d")):
            self.s.send_key(GPU_OF[c], key)
            self.s.desktops.typed_into(c, key)
        self.s.desktops.typed_check()

    def assign_moved(self):
        port = "pci-%s-usb-0:%s" % (XHCI_PCI, MOVED_PORT)  # the port's ID_PATH
        self.lab.agent.check("%s assign %s seat2" % (self.seat_assign, port))
        return self.moved("seat-assign assign of port %s to seat2" % MOVED_PORT)

    def moved(self, what):
        devs = self.s.devices("moved")
        mouse = self.s.find(devs, id_path=usb_path(MOVED_PORT), kind="pointer")
        return self.s.check(mouse and all(d.get("seat") == "seat2" for d in mouse),
                            "%s: the mouse at %s is on seat2" % (what, MOVED_PORT), mouse)


def boot(lab, tag, env, timeout=240):
    """Boots the guest through guest/boot/stage2.sh with out/boot.env = ENV."""
    os.makedirs(lab.path("out"), exist_ok=True)
    with open(lab.path("out", "boot.env"), "w") as f:
        f.write("".join("%s=%s\n" % (k, shell_quote(v)) for k, v in env.items()))
    log("boot %s" % tag)
    lab.boot(timeout, connect=True, stage2=BOOT_STAGE2)
    if "boot_to_ready_s" in lab.figures:
        lab.figures["%s_power_on_to_agent_s" % tag] = lab.figures["boot_to_ready_s"]
    lab.connect()


def power_off(lab, tag):
    """Saves the journal, asks systemd to reboot (qemu runs with -no-reboot: it exits) and
    waits for it; a guest that does not go down in time is stopped."""
    save_journal(lab, tag)
    t = time.monotonic()
    lab.agent.check("systemctl reboot --no-block")
    try:
        lab.proc.wait(120)
        lab.figures["%s_reboot_s" % tag] = round(time.monotonic() - t, 1)
    except subprocess.TimeoutExpired:
        print("  note  the guest did not power off within 120s; stopped", flush=True)
    lab.stop()
    os.replace(lab.path("console.log"), lab.path("console.%s.log" % tag))


def run(lab, checks):
    """The boot scenario: boots LAB, checks, reboots (a second qemu on the same run
    directory), checks again. Returns the Lab of the second boot."""
    boot(lab, "boot1", {})
    frames = first_frames(lab, "boot1")
    checks.s.check(frames, "both displays showed their desktop within %ds of power-on"
                   % FIRST_FRAME_TIMEOUT, lab.figures)
    if checks.system_up():
        checks.ready_before_containers("boot1")
        checks.seats("at boot")
        checks.desktops()
        checks.daemon_restarts()
        checks.assign_moved()
    power_off(lab, "boot1")

    lab2 = Lab(lab.run_dir, lab.build_dir, lab.cache)
    lab2.figures = lab.figures
    checks.s.lab = lab2
    boot(lab2, "boot2", {})
    first_frames(lab2, "boot2")
    if checks.system_up():
        checks.seats("after the reboot")
        checks.moved("after the reboot")
    save_journal(lab2, "boot2")
    return lab2


def run_bad_input(lab, checks):
    """One boot with a seats.conf broken on its line 3 and three containers: desk1 made
    without the seatd-ns include, desk2 as it should be, desk3 naming seat9 in its own
    configuration (seatd-ns-hook --seat, through SEATD_NS_SEAT). The unit fails with file and
    line in the journal and leaves nothing behind; desk1 boots without a seat, desk2 and
    desk3 do not start (a desktop container is not started without its seat). With the
    configuration mended, the daemon starts and says that desk1, seat1's container, runs
    unregistered; desk2 starts with seat2; desk3 fails, and the daemon's journal says why."""
    boot(lab, "bad-input", {"BOOT_CONFIG": "broken", "BOOT_CONTAINERS": "desk1 desk2 desk3",
                            "BOOT_NO_INCLUDE": "desk1", "BOOT_SEAT": "desk3=seat9"})
    s, agent = checks.s, lab.agent
    out = agent.run("systemctl is-system-running --wait", timeout=240)[1].strip()
    failed = agent.run("systemctl is-failed seatd-ns")[1].strip()
    s.check(out == "degraded" and failed == "failed",
            "with a broken seats.conf the boot ends degraded, seatd-ns.service failed (%s, %s)"
            % (out, failed))
    journal = agent.run("journalctl -b -u seatd-ns -o cat --no-pager")[1]
    s.check("/etc/seatd-ns/seats.conf:3: " in journal,
            "the journal names the file and line: /etc/seatd-ns/seats.conf:3", journal[-2000:])
    left = agent.run("pgrep -x seatd-ns; ls -A /run/seatd-ns; findmnt -rn -o TARGET "
                     "| grep ^/run/seatd-ns; true")[1].strip()
    s.check(left == "", "nothing half-configured is left: no seatd-ns process, nothing in "
            "/run/seatd-ns, no mount of it", left)
    no_seat = ("cat /proc/1/comm; ls /run/seatd.sock /dev/dri /dev/input 2>&1 | "
               "grep -c 'No such file' ")
    rc, out, err = s.cexec("desk1", no_seat)
    s.check(out.split() == ["systemd", "3"], "desk1, without the include, boots (systemd) "
            "with no seat: no /run/seatd.sock, no /dev/dri, no /dev/input", out + err)
    # lxc@ is Type=simple: active while the hook waits (10 s) for the daemon's socket.
    states = lambda: agent.run("systemctl is-failed lxc@desk2 lxc@desk3")[1].split()  # noqa: E731
    wait_for(lambda: states() == ["failed", "failed"], 60, step=1)
    s.check(states() == ["failed", "failed"], "desk2 and desk3, whose hooks found no seatd-ns, "
            "did not start (lxc@desk2, lxc@desk3: %s)" % states())
    agent.check("cp /lab/src/tests/lab/guest/seats.conf /etc/seatd-ns/seats.conf && "
                "systemctl start seatd-ns", timeout=120)
    s.check(agent.run("systemctl is-active seatd-ns")[1].strip() == "active",
            "with seats.conf mended, seatd-ns.service starts")
    unregistered = ("container desk1 runs (LXC's cgroup lxc.payload.desk1) but has not "
                    "registered, so seat1 goes without it: its LXC config lacks the seatd-ns "
                    "include")
    said = wait_for(lambda: unregistered in daemon_journal(agent), 30, step=1)
    s.check(said, "the daemon's journal says desk1 runs unregistered, without its seat, and "
            "why: %s..." % unregistered, daemon_journal(agent)[-1500:])
    rc, out, err = s.cexec("desk1", no_seat)
    s.check(out.split() == ["systemd", "3"], "desk1 still has no seat", out + err)
    agent.run("systemctl restart lxc@desk2 lxc@desk3", timeout=120)
    refused = ('cannot register desk3: its configuration names seat "seat9", which seatd-ns '
               'does not have (its seats: seat0 seat1 seat2)')
    desk3 = wait_for(lambda: agent.run("systemctl is-failed lxc@desk3")[1].strip() == "failed",
                     60, step=1)
    s.check(desk3 and refused in daemon_journal(agent), "desk3, naming seat9, fails to start; "
            "the daemon's journal says: %s" % refused, daemon_journal(agent)[-1500:])
    has_seat = "ls /run/seatd.sock /dev/dri/card* >/dev/null && echo seat"
    desk2 = wait_for(lambda: s.cexec("desk2", has_seat)[1].strip() == "seat", 60, step=1)
    s.check(desk2, "desk2 starts with its seat: /run/seatd.sock and its GPU's card node")
    s.check(agent.run("systemctl is-active seatd-ns")[1].strip() == "active",
            "seatd-ns runs on through all of it")
    save_journal(lab, "bad-input")
    return lab


def daemon_journal(agent):
    return agent.run("journalctl -b -u seatd-ns -o cat --no-pager")[1]


FIGURES = [
    ("boot1_power_on_to_agent_s", "power-on to the guest's command agent up (systemd's unit)"),
    ("boot1_power_on_to_first_frame_seat1_s", "power-on to seat1's first frame (desk1's desktop)"),
    ("boot1_power_on_to_first_frame_seat2_s", "power-on to seat2's first frame (desk2's desktop)"),
    ("boot1_seatd_ns_start_to_ready_s", "seatd-ns start to READY=1 (systemctl show)"),
    ("boot1_reboot_s", "systemctl reboot to qemu's exit"),
    ("boot2_power_on_to_agent_s", "after the reboot: power-on to the command agent up"),
    ("boot2_power_on_to_first_frame_seat1_s", "after the reboot: power-on to seat1's first frame"),
    ("boot2_power_on_to_first_frame_seat2_s", "after the reboot: power-on to seat2's first frame"),
    ("scenario_s", "the whole boot scenario"),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bad-input", action="store_true")
    p.add_argument("--build", default=os.path.join(SRC_DIR, "build"))
    p.add_argument("--run-dir", required=True)
    p.add_argument("--cache", default=os.environ.get("SEATD_NS_LAB_CACHE",
                                                     "/var/tmp/seatd-ns-lab"))
    args = p.parse_args()
    t0 = time.monotonic()
    lab = Lab(args.run_dir, os.path.abspath(args.build), args.cache)
    checks = None
    status = 2
    try:
        seat_assign = install_tree(lab.build_dir, lab.path("out", "root"))
        checks = BootChecks(Checks(lab), seat_assign)
        lab = (run_bad_input if args.bad_input else run)(lab, checks)
        status = 1 if checks.s.failed() else 0
    except LabError as e:
        print("lab: ERROR: %s" % e, flush=True)
        if lab.console is not None:
            print("lab: last guest step: %s" % lab.last_mark(), flush=True)
    finally:
        if checks is not None:
            checks.s.lab.stop()
        lab.stop()
    lab.figures["scenario_s"] = round(time.monotonic() - t0, 1)
    print("== measured", flush=True)
    for key, label in FIGURES:
        if key in lab.figures:
            print("  %-66s %7.1f s" % (label, lab.figures[key]), flush=True)
    results = checks.s.results if checks else []
    with open(lab.path("results.json"), "w") as f:
        json.dump({"figures": lab.figures, "status": status,
                   "assertions": [{"ok": ok, "message": m} for ok, m in results]}, f, indent=2)
    print("lab: %d checks, %d failed" % (len(results), len([1 for ok, _ in results if not ok])))
    return status


if __name__ == "__main__":
    sys.exit(main())
