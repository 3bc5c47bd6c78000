"""Hotplug and unplug: a keyboard into seat1's hub and an audio device into seat2's, over QMP;
the monitor reports each on its seat, only that seat's container hears it, seat-assign agrees
with udev, libinput and the sound server follow; then both are unplugged."""

import json
import os
import re
import time

from lablib.topology import SEAT_OF, usb_path
from lablib.util import read, tail

KBD_PATH, AUDIO_PATH = usb_path("1.3"), usb_path("2.4")


def run(checks):
    checks.watch_udev()
    checks.libinput.start_seats()
    checks.desktops.start_sound_server()
    print("== hotplug: a keyboard into hub 1 (port 1.3), an audio device into hub 2 (port 2.4)",
          flush=True)
    kbd1b_node = plug(checks)
    print("== unplug: device_del of both", flush=True)
    unplug(checks, kbd1b_node)


def plug(checks):
    """device_add of both: returns the new keyboard's event node name."""
    lab, libinput = checks.lab, checks.libinput
    kbd1b, _, _ = add(checks, {"driver": "usb-kbd", "id": "kbd1b", "port": "1.3",
                               "display": "gpu1"}, "keyboard", "keyboard", "desk1",
                      "hotplug_kbd", "desk1's libudev (udevadm monitor --udev) gets the "
                      "keyboard's add")
    audio, t, since = add(checks, {"driver": "usb-audio", "id": "audio2b", "port": "2.4",
                                   "audiodev": "snd0"}, "sound-card", "audio card", "desk2",
                          "hotplug_audio", "desk2's libudev gets the audio card's add")
    te2, ev2 = lab.events.wait(lambda e: e.get("id_path") == AUDIO_PATH
                               and e.get("kind") == "sound-card"
                               and str(e.get("sound_initialized")) in ("1", "true"), 60, since)
    checks.check(ev2 is not None, "seat-assign monitor reports the new audio card initialized")
    if ev2 is not None:
        lab.figures["hotplug_audio_initialized_latency_ms"] = round((te2 - t) * 1000, 1)
    # Let udev finish with every node of both devices before comparing.
    lab.agent.run("udevadm settle --timeout=30", timeout=40)
    devs = checks.devices("hotplugged")
    db = checks.udev_db("hotplugged")
    checks.cross_check(devs, db, "after hotplug")
    kbd = checks.one(devs, "the hotplugged keyboard", kind="keyboard", id_path=KBD_PATH)
    checks.one(devs, "the hotplugged audio card", kind="sound-card", id_path=AUDIO_PATH)
    if kbd is not None and not kbd1b:
        kbd1b = kbd
    if kbd1b.get("syspath"):
        checks.check(not container_heard(checks, "desk2", "add", kbd1b["syspath"]),
                     "desk2 heard nothing of seat1's new keyboard")
    if audio.get("syspath"):
        checks.check(not container_heard(checks, "desk1", "add", audio["syspath"]),
                     "desk1 heard nothing of seat2's new audio card")
    kbd1b_node = kbd1b.get("devnode") and os.path.basename(kbd1b["devnode"])
    if kbd1b_node:
        checks.check(libinput.wait("desk1", r"(?m)^\s*-?%s\s+DEVICE_ADDED" % kbd1b_node, 20),
                     "%s adds the hotplugged keyboard (%s)" % (libinput.what("desk1"), kbd1b_node),
                     libinput.log("desk1")[-1500:])
        checks.check(kbd1b_node not in libinput.devices("desk2"),
                     "libinput in desk2 does not add it")
        # The newest keyboard on gpu1's console gets its keys.
        libinput.key_test("gpu1", "d", "KEY_D", "desk1", kbd1b_node)
    checks.desktops.audio_check("wait", "the 2.3 and the new 2.4 cards", ["2.3", "2.4"])
    checks.screendumps("hotplugged")
    return kbd1b_node


def add(checks, device, kind, what, container, tag, heard):
    """device_add of `device` (QMP arguments) on the USB bus; the monitor reports it added, on
    the seat of the container that should hear it (`heard`, checked). Returns (its event, or
    {} if none; the host's time of the device_add; the monitor stream's mark before it)."""
    lab = checks.lab
    path = usb_path(device["port"])
    since = lab.events.mark()
    t = time.time()
    lab.qmp.execute("device_add", bus="xhci.0", **device)
    te, ev = lab.events.wait(lambda e: e.get("action") == "add" and e.get("id_path") == path
                             and e.get("kind") == kind, 60, since)
    checks.check(ev is not None, "seat-assign monitor reports the %s added at port %s"
                 % (what, device["port"]))
    if ev is None:
        return {}, t, since
    lab.figures["%s_add_latency_ms" % tag] = round((te - t) * 1000, 1)
    seat = SEAT_OF[container]
    checks.check(ev.get("seat") == seat, "the hotplugged %s is on %s" % (what, seat), ev)
    c = breakdown(checks, tag, ev, container)
    checks.check(c is not None, heard, tail(lab.path("out", container, "udev-monitor.log")))
    return ev, t, since


def unplug(checks, kbd1b_node):
    """device_del of both."""
    lab, libinput = checks.lab, checks.libinput
    since = lab.events.mark()
    removed = {}
    for qid in ("kbd1b", "audio2b"):
        t = time.time()
        lab.qmp.execute("device_del", id=qid)
        _, e = lab.qmp.wait_event(
            "DEVICE_DELETED", lambda e, q=qid: e.get("data", {}).get("device") == q, timeout=30)
        checks.check(e is not None, "qemu reports %s deleted" % qid)
        removed[qid] = t
    for qid, path, kind, c in (("kbd1b", KBD_PATH, "keyboard", "desk1"),
                               ("audio2b", AUDIO_PATH, "sound-card", "desk2")):
        te, ev = lab.events.wait(lambda e, p=path, k=kind: e.get("action") == "remove"
                                 and e.get("id_path") == p and e.get("kind") == k, 60, since)
        checks.check(ev is not None,
                     "seat-assign monitor reports the %s at %s removed" % (kind, path))
        if ev is not None:
            lab.figures["unplug_%s_remove_latency_ms" % qid] = round(
                (te - removed[qid]) * 1000, 1)
            got = breakdown(checks, "unplug_%s" % qid, ev, c)
            checks.check(got is not None, "%s's libudev gets the %s's remove" % (c, kind),
                         tail(lab.path("out", c, "udev-monitor.log")))
    if kbd1b_node:
        checks.check(libinput.wait("desk1", r"(?m)^\s*-?%s\s+DEVICE_REMOVED" % kbd1b_node, 20),
                     "%s removes the unplugged keyboard" % libinput.what("desk1"),
                     libinput.log("desk1")[-1500:])
    lab.agent.run("udevadm settle --timeout=30", timeout=40)
    # The daemon's view may trail udev's by the time its event takes: allow a moment.
    for _ in range(20):
        devs = checks.devices("unplugged")
        left = [d for d in devs if (d.get("id_path") or "").startswith(
            (KBD_PATH[:-4], AUDIO_PATH[:-4]))]
        if not left:
            break
        time.sleep(0.5)
    checks.check(not left, "after device_del, seat-assign lists nothing at ports 1.3 and 2.4",
                 left)
    db = checks.udev_db("unplugged")
    checks.cross_check(devs, db, "after unplug")
    kbd1 = checks.input_nodes()["kbd1"]
    checks.desktops.keyboard_check("desk1", only=kbd1)
    libinput.key_test("gpu1", "e", "KEY_E", "desk1", kbd1)
    # In a whole run: a on seat1's keyboard, d on the hotplugged one, e on the first again;
    # b on seat2's; c on the PS/2 keyboard, nobody's.
    checks.desktops.typed_check()
    checks.desktops.audio_check("wait", "the 2.3 card again", ["2.3"])


def breakdown(checks, tag, event, container=None, timeout=10):
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
        k, u = udev_times(checks.lab.path("out", "uevents.log"))
        c = None
        if container is not None:
            c = udev_times(checks.lab.path("out", container, "udev-monitor.log"))[1]
        m = None
        for line in read(checks.lab.path("out", "monitor.timed")).splitlines():
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
    f = checks.lab.figures
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


def container_heard(checks, container, action, syspath):
    """Whether the container's libudev heard ACTION of the device at SYSPATH."""
    devpath = syspath[4:] if syspath.startswith("/sys/") else syspath
    return re.search(r"(?m)^UDEV\s*\[[0-9.]+\]\s+%s\s+%s\s" % (action, re.escape(devpath)),
                     read(checks.lab.path("out", container, "udev-monitor.log")))
