"""Xorg and weston through seatd-ns-logind (desktop/logind/): Xorg (modesetting, libinput) on
seat1 in desk1 and weston's logind launcher on seat2 in desk2, unmodified, as an ordinary user
who gets every device from the service; their displays, their keys, a keyboard hotplugged on
seat1, loginctl, and seat1 switched to desk1b (cage with libseat's logind backend) and back.
Not in a whole run (`lab-test.sh BUILD xorg`, meson test lab-xorg): it needs the containers
without the desktops scenario's compositors."""

import json
import re
import time

from lablib.checks import CONTAINERS_SH
from lablib.util import guest_path, lxc_attach, read, wait_for

SCRIPT = guest_path("guest", "desktop", "logind-desktop.sh")
DRM_MASTER = "python3 " + guest_path("guest", "drm-master.py")
START_TIMEOUT = 150
# What each display server paints (logind-desktop.sh): Xorg's root red, then yellow after
# the switch back; weston's terminal cyan; desk1b's cage magenta; mutter's terminal green.
RED, YELLOW, CYAN, MAGENTA = "170,0,0", "170,170,0", "0,170,170", "170,0,170"
GREEN = "0,170,0"  # the terminal under mutter, in place of weston on seat2
# X keycodes (evdev + 8) of the keys typed.
X_KEYS = {"a": 38, "b": 56, "d": 40, "f": 41, "g": 42}
OUT = "/run/logind-desktop"


def run(checks):
    starts = start(checks, {"desk1": "xorg", "desk2": "weston"})
    if not all(s.get("state") == "up" for s in starts.values()):
        return
    screens(checks, "logind", {"gpu1": RED, "gpu2": CYAN})
    sessions(checks)
    devices(checks)
    xi2 = checks.cstart("desk1", "xi2", "%s user stdbuf -oL xinput test-xi2 --root" % SCRIPT)
    keys(checks, xi2)
    hotplug(checks, xi2)
    switch(checks, xi2)
    mutter(checks)
    for c in ["desk1", "desk2"] + [c for c in checks.extra_containers if c == "desk1b"]:
        checks.cexec(c, "%s stop" % SCRIPT, timeout=60)


def user(checks, container, command, timeout=30):
    return checks.cexec(container, "%s user %s" % (SCRIPT, command), timeout)


def logs(checks, container):
    """The service's, the bus monitor's and the display server's logs, copied to out/."""
    checks.cexec(container, "cp %s/logind.log %s/monitor.log %s/runtime/server.log /lab/out/ "
                 "2>/dev/null; true" % (OUT, OUT, OUT))
    return {n: read(checks.lab.path("out", container, n))
            for n in ("logind.log", "monitor.log", "server.log")}


def start(checks, servers):
    """logind-desktop.sh start in each container at once: up, on the session's seat."""
    print("== Xorg and weston through seatd-ns-logind", flush=True)
    lab = checks.lab
    t = time.monotonic()
    lab.agent.run("".join("%s%s start %s --timeout %d >/lab/out/%s/logind-desktop.start "
                          "2>&1 & " % (lxc_attach(c), SCRIPT, s, START_TIMEOUT, c)
                          for c, s in servers.items()) + "wait", timeout=START_TIMEOUT + 60)
    lab.figures["logind_desktops_up_s"] = round(time.monotonic() - t, 1)
    devs = checks.devices("logind")
    starts = {}
    for c, server in servers.items():
        text = read(lab.path("out", c, "logind-desktop.start"))
        status = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
        seat = {"desk1": "seat1", "desk2": "seat2"}[c]
        card = checks.find(devs, seat=seat, kind="drm-card")
        card = card[0]["devnode"] if card else None
        checks.check(status.get("state") == "up" and status.get("seat") == seat
                     and status.get("gpu") == card,
                     "%s in %s, as uid 1000 in no device group, is up on %s's GPU %s through "
                     "seatd-ns-logind (%s s)" % (server, c, seat, card, status.get("seconds")),
                     text + "\n" + logs(checks, c)["logind.log"])
        starts[c] = status
    return starts


def screens(checks, tag, colours):
    """Screendumps: each GPU shows its display server's colour, and not another's."""
    checks.screendumps(tag)
    for gpu, rgb in colours.items():
        r = checks.desktops.screen_check(gpu, rgb, tag)
        for _ in range(5):
            if r.returncode == 0:
                break
            time.sleep(2)
            checks.screendumps(tag, quiet=True)
            r = checks.desktops.screen_check(gpu, rgb, tag)
        checks.check(r.returncode == 0, "%s-%s.png shows rgb %s (%s)"
                     % (gpu, tag, rgb, r.stdout.strip()), r.stderr)
        for other, orgb in colours.items():
            if other != gpu and orgb != rgb:
                o = checks.desktops.screen_check(other, rgb, tag)
                checks.check(o.returncode == 1, "%s-%s.png does not (%s)"
                             % (other, tag, o.stdout.strip()))


def sessions(checks):
    """loginctl in each container lists session c1 of desk on the container's seat, active.
    loginctl talks only to a system that looks booted by systemd (/run/systemd/system); the
    lab's containers run busybox's init."""
    for c, seat in (("desk1", "seat1"), ("desk2", "seat2")):
        rc, out, err = checks.cexec(c, "mkdir -p /run/systemd/system; loginctl list-sessions "
                                    "--no-legend && loginctl show-session c1 -p Active -p Seat")
        rows = [l.split() for l in out.splitlines() if l.strip()]
        checks.check(rc == 0 and ["c1", "1000", "desk", seat] in rows
                     and "Active=yes" in out and "Seat=%s" % seat in out,
                     "loginctl in %s lists session c1 of desk on %s, active" % (c, seat),
                     out + err)


def xinput_list(checks):
    rc, out, err = user(checks, "desk1", "xinput list --name-only")
    return [l.strip() for l in out.splitlines()]


def devices(checks):
    """Xorg took seat1's card and input devices through the service, and nothing else."""
    names = xinput_list(checks)
    usb = sorted(n for n in names if n.startswith("QEMU"))
    checks.check(usb == ["QEMU QEMU USB Keyboard", "QEMU QEMU USB Mouse"],
                 "xinput list in desk1: seat1's USB keyboard and mouse, not seat2's tablet "
                 "(%s)" % ", ".join(usb), "\n".join(names))
    log = logs(checks, "desk1")
    took = re.findall(r"systemd-logind: got fd for (\S+) \S+ fd \d+ paused 0", log["server.log"])
    checks.check(any(t.startswith("/dev/dri/card") for t in took)
                 and sum(t.startswith("/dev/input/event") for t in took) == 2,
                 "Xorg took its card and two input devices from logind (TakeDevice): %s"
                 % " ".join(took), log["server.log"][-1500:])
    w = logs(checks, "desk2")["server.log"]
    checks.check("logind: session control granted" in w,
                 "weston in desk2 runs on its logind launcher", w[-1500:])


def x_keys(xi2_log, key):
    """The X devices that reported `key` as a KeyPress in xinput test-xi2's output."""
    found = set()
    for block in xi2_log.split("EVENT type ")[1:]:
        if block.startswith("2 (KeyPress)") and re.search(r"detail: %d\n" % X_KEYS[key],
                                                          block):
            found.add(re.search(r"device: \d+ \((\d+)\)", block).group(1))
    return found


def typed(checks):
    rc, out, err = checks.cexec("desk2", "%s typed" % SCRIPT)
    return out.strip()


def keys(checks, xi2):
    """a typed on gpu1 reaches Xorg and not weston; b on gpu2 weston and not Xorg."""
    wait_for(lambda: "Virtual core" in read(xi2), 20)
    checks.send_key("gpu1", "a")
    checks.send_key("gpu2", "b")
    got = wait_for(lambda: x_keys(read(xi2), "a"), 15)
    checks.check(got, "a typed on gpu1 reaches Xorg in desk1 (xinput test-xi2 KeyPress 38)",
                 read(xi2)[-800:])
    wait_for(lambda: typed(checks) == "b", 15, step=1)
    t = typed(checks)
    checks.check(t == "b", "b typed on gpu2 reaches weston's terminal in desk2, and a does "
                 "not (typed %r)" % t)
    checks.check(not x_keys(read(xi2), "b"), "Xorg in desk1 gets no b")


def hotplug(checks, xi2):
    """A keyboard plugged into seat1's hub appears in Xorg (udev, TakeDevice) and types."""
    lab = checks.lab
    lab.qmp.execute("device_add", bus="xhci.0", driver="usb-kbd", id="kbd1b", port="1.3",
                    display="gpu1")
    two = lambda: xinput_list(checks).count("QEMU QEMU USB Keyboard") == 2
    checks.check(wait_for(two, 40, step=2), "a keyboard hotplugged on seat1 (port 1.3) "
                 "appears in xinput list in desk1", "\n".join(xinput_list(checks)))
    before = x_keys(read(xi2), "a")
    checks.send_key("gpu1", "d")
    wait_for(lambda: x_keys(read(xi2), "d"), 15)
    new = x_keys(read(xi2), "d") - before
    checks.check(new, "d typed on it reaches Xorg from the new keyboard (X device %s)"
                 % ",".join(sorted(new)), read(xi2)[-800:])
    lab.qmp.execute("device_del", id="kbd1b")
    lab.qmp.wait_event("DEVICE_DELETED", lambda e: e.get("data", {}).get("device") == "kbd1b",
                       timeout=30)
    one = lambda: xinput_list(checks).count("QEMU QEMU USB Keyboard") == 1
    checks.check(wait_for(one, 40, step=2), "unplugged, it leaves xinput list")


def masters(checks, *names):
    """drm-master.py on the guest host, in one call, for the processes named:
    ({name: [yes|no, one per card fd]}, its output)."""
    script = "".join('for p in $(pgrep -x %s); do echo "name %s $p"; done; ' % (n, n)
                     for n in names)
    rc, out, err = checks.lab.agent.run(script + DRM_MASTER + " " + " ".join(
        "$(pgrep -x %s)" % n for n in names))
    pids = dict(l.split()[2:0:-1] for l in out.splitlines() if l.startswith("name "))
    found = {n: [] for n in names}
    for line in out.splitlines():
        m = re.match(r"(\d+) \d+ 226:\d+ master=(\S+)", line)
        if m and m.group(1) in pids:
            found[pids[m.group(1)]].append(m.group(2))
    return found, out + err


def switch_to(checks, to):
    lab = checks.lab
    rc, out, err = lab.agent.run("s=$(date +%%s%%N); %s --json switch seat1 %s; r=$?; "
                                 "echo \"ms $((($(date +%%s%%N) - s) / 1000000))\"; exit $r"
                                 % (checks.seat_assign, to), timeout=60)
    rec = {}
    for line in out.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
        elif line.startswith("ms "):
            lab.figures["logind_switch_to_%s_ms" % to] = int(line[3:])
    return rec, out + err


def switch(checks, xi2):
    """seat1 to desk1b and back: Xorg paused (PauseDevice, acknowledged), no DRM master while
    desk1b's cage (libseat's logind backend) has the seat, resumed, master, keys and drawing
    again."""
    lab = checks.lab
    print("== switching seat1 from Xorg to desk1b's cage (LIBSEAT_BACKEND=logind) and back",
          flush=True)
    rc, out, err = lab.agent.run("%s create desk1b && %s start desk1b" % (CONTAINERS_SH,
                                 CONTAINERS_SH), timeout=180)
    if rc == 0:
        checks.extra_containers.append("desk1b")
        rc, out2, err2 = lab.agent.run("%s attach seat1 desk1b" % checks.seat_assign)
        out, err = out + out2, err + err2
    if rc == 0:
        rc, out2, err2 = checks.cexec("desk1b", "%s service" % SCRIPT, timeout=60)
        out, err = out + out2, err + err2
    if not checks.check(rc == 0, "desk1b is made, attached to seat1 and runs seatd-ns-logind",
                        out + err):
        return
    rec, text = switch_to(checks, "desk1b")
    checks.check(rec.get("forced") == "no", "seat-assign switch seat1 desk1b: done, not forced "
                 "(Xorg acknowledged through the service)", text)
    log = logs(checks, "desk1")
    checks.check(re.search(r"systemd-logind: got pause for 226:\d+", log["server.log"])
                 and re.search(r"member=PauseDeviceComplete\n\s+uint32 \d+\n\s+uint32 226",
                               log["monitor.log"]),
                 "Xorg got PauseDevice for its card and answered PauseDeviceComplete (its "
                 "log, dbus-monitor in desk1)", log["server.log"][-800:] + log["monitor.log"][-800:])
    m, raw = masters(checks, "Xorg")
    checks.check(m["Xorg"] and all(x == "no" for x in m["Xorg"]),
                 "Xorg's card fds are not DRM master while desk1 is away (%s)" % m["Xorg"], raw)
    rc, out, err = checks.cexec("desk1b", "%s start cage --timeout %d"
                                % (SCRIPT, START_TIMEOUT), timeout=START_TIMEOUT + 30)
    checks.check(rc == 0 and "state=up" in out, "cage with LIBSEAT_BACKEND=logind starts in "
                 "desk1b on seat1 through its seatd-ns-logind", out + err)
    m, raw = masters(checks, "Xorg", "cage")
    checks.check(m["cage"] and all(x == "yes" for x in m["cage"])
                 and all(x == "no" for x in m["Xorg"]),
                 "desk1b's cage holds DRM master, Xorg not (%s)" % m, raw)
    screens(checks, "logind-away", {"gpu1": MAGENTA, "gpu2": CYAN})
    checks.send_key("gpu1", "f")
    time.sleep(3)
    checks.check(not x_keys(read(xi2), "f"), "f typed on gpu1 does not reach Xorg in desk1")

    rec, text = switch_to(checks, "desk1")
    checks.check(rec.get("forced") == "no", "seat-assign switch seat1 desk1: done, not forced "
                 "(cage acknowledged through desk1b's service)", text)
    m, raw = masters(checks, "Xorg", "cage")
    checks.check(m["Xorg"] and all(x == "yes" for x in m["Xorg"])
                 and all(x == "no" for x in m["cage"]),
                 "Xorg's card fds are DRM master again, cage's not (%s)" % m, raw)
    log = logs(checks, "desk1")
    checks.check(re.search(r"member=ResumeDevice\n\s+uint32 226\n\s+uint32 \d+\n\s+file "
                           r"descriptor", log["monitor.log"]),
                 "the service sent Xorg ResumeDevice with its card's fd (dbus-monitor)",
                 log["monitor.log"][-800:])
    # Listed once added; keys reach X once it is enabled, attached to the master keyboard.
    rc, out, err = (0, "", "")

    def back():
        nonlocal rc, out, err
        rc, out, err = user(checks, "desk1", "xinput list --short")
        return len(re.findall(r"QEMU QEMU USB Keyboard\s.*\[slave\s+keyboard", out)) == 1
    checks.check(wait_for(back, 30, step=2), "seat1's keyboard is back in xinput list, "
                 "attached to the master keyboard", out + err)
    checks.send_key("gpu1", "g")
    checks.check(wait_for(lambda: x_keys(read(xi2), "g"), 15),
                 "g typed on gpu1 reaches Xorg again", read(xi2)[-800:])
    # Xorg re-sets its mode on resume only through a VT (xf86VTEnter's VT_RELDISP fails on
    # a seat without one): a RandR mode set, as a session would ask, makes it scan out again.
    rc, out, err = user(checks, "desk1", "sh -c 'xrandr --output Virtual-1 --off && xrandr "
                        "--output Virtual-1 --auto && xsetroot -solid rgb:aa/aa/00'")
    checks.check(rc == 0, "xrandr and xsetroot in desk1 after the switch back", out + err)
    screens(checks, "logind-back", {"gpu1": YELLOW, "gpu2": CYAN})


def mutter(checks):
    """mutter 43 in place of weston on seat2: its session found by sd-login from the session's
    scope, its card and seat2's input from the service, a terminal drawn on gpu2, keys."""
    print("== mutter on seat2 through seatd-ns-logind", flush=True)
    rc, out, err = checks.cexec("desk2", "%s start mutter --timeout %d" % (SCRIPT, START_TIMEOUT),
                                timeout=START_TIMEOUT + 30)
    log = logs(checks, "desk2")
    if not checks.check(rc == 0 and "state=up" in out and "seat=seat2" in out,
                        "mutter in desk2 (session-c1.scope) is up on seat2 through "
                        "seatd-ns-logind", out + err + log["server.log"][-1500:]):
        return
    taken = re.findall(r"took (/dev/\S+)", log["logind.log"].split("took control")[-1])
    checks.check(any(t.startswith("/dev/dri/card") for t in taken)
                 and any(t.startswith("/dev/input/event") for t in taken),
                 "mutter took its card and seat2's input devices from the service (%s)"
                 % " ".join(taken), log["logind.log"][-1500:])
    screens(checks, "mutter", {"gpu2": GREEN, "gpu1": YELLOW})
    checks.send_key("gpu2", "m")
    checks.send_key("gpu1", "k")
    got = wait_for(lambda: "m" in checks.cexec("desk2", "%s typed" % SCRIPT)[1], 15, step=1)
    t = checks.cexec("desk2", "%s typed" % SCRIPT)[1]
    checks.check(got and "k" not in t, "m typed on gpu2 reaches the terminal under mutter, "
                 "and k typed on gpu1 does not (typed %r)" % t)
