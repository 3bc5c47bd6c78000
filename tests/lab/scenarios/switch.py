"""Seat switching with the compositor running: seat1 switched from desk1 (cage) to a third
container desk1b (a libseat client) and back; what each container holds of the seat, where
the keys typed on seat1 go, and what desk1's display shows after."""

import json
import os
import re
import time

from lablib.checks import CONTAINERS_SH
from lablib.images import screen_diff
from lablib.util import LabError, read, tail, wait_for


def run(checks):
    checks.libinput.start_seats()
    checks.desktops.start_compositors()
    switch(checks, checks.current_devices(), checks.input_devnodes()["kbd1"])


def desk_view(checks, container, card, pid=None):
    """What a desktop container has of a seat, in one lxc-attach: its input and DRM nodes,
    what open() of the seat's card gives there, the command of process `pid` and what its
    compositor's terminal received."""
    desktops = checks.desktops
    comp = desktops.script("compositor.sh")
    script = ("for f in /dev/input/* /dev/dri/*; do [ -c \"$f\" ] && echo \"node $f\"; done; "
              "python3 -c 'import errno, os, sys\n"
              "try:\n    os.close(os.open(sys.argv[1], os.O_RDWR)); print(\"open ok\")\n"
              "except OSError as e:\n    print(\"open\", errno.errorcode[e.errno])' %s; " % card)
    if pid:
        script += "echo \"comm $(cat /proc/%s/comm 2>/dev/null)\"; " % pid
    if comp is not None and container in desktops.up:
        script += "echo typed:; %s typed; " % comp
    rc, out, err = checks.cexec(container, script + "true", timeout=60)
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


def switch_seat(checks, came_from, to, acknowledged, figure):
    """seat-assign --json switch seat1 TO, timed on the guest's clock (the figure): done, and
    not forced (the container it came from `acknowledged` the disable)."""
    rc, out, err = checks.lab.agent.run(
        "s=$(date +%%s%%N); %s --json switch seat1 %s; r=$?; e=$(date +%%s%%N); "
        "echo \"ms $(((e - s) / 1000000))\"; exit $r" % (checks.seat_assign, to), timeout=60)
    rec, ms = {}, None
    for line in out.splitlines():
        if line.startswith("ms "):
            ms = int(line[3:])
        elif line.startswith("{") and rc == 0:
            try:
                rec = json.loads(line)
            except ValueError:
                pass
    checks.check(rec.get("forced") == "no"
                 and "from %s to %s" % (came_from, to) in rec.get("message", ""),
                 "seat-assign switch seat1 %s: done, not forced (%s) in %s ms"
                 % (to, acknowledged, ms), out + err + checks.seatd_ns_lines(r"seat1|desk1"))
    if ms is not None:
        checks.lab.figures[figure] = ms


def switch(checks, devs, kbd):
    """Seat switching with the compositor running: a third container desk1b attached to
    seat1 as the inactive one, its libseat client waiting; `seat-assign switch` to it and
    back. desk1's cage survives both (its GPU stays on standby in desk1), desk1b's client
    gets the card (DRM master) and the keyboard and then loses them (revoked), and the
    keys typed on seat1 follow the active container."""
    lab, desktops, libinput = checks.lab, checks.desktops, checks.libinput
    card = checks.find(devs, seat="seat1", kind="drm-card")
    card = card[0]["devnode"] if card else None
    if card is None or kbd is None:
        checks.check(False, "switch: seat1's card and keyboard are listed", devs)
        return
    print("== switching seat1: a third container desk1b, then back to desk1", flush=True)
    seat1_inputs = {d["devnode"] for d in devs if d.get("seat") == "seat1"
                    and d.get("subsystem") == "input" and d.get("devnode")}
    rc, out, err = lab.agent.run("%s create desk1b" % CONTAINERS_SH, timeout=120)
    if rc == 0:
        checks.extra_containers.append("desk1b")
        rc, out, err = lab.agent.run("%s start desk1b" % CONTAINERS_SH, timeout=120)
    if not checks.check(rc == 0, "a third unprivileged LXC container desk1b is made and started "
                        "(containers.sh; its hook registers it)", out + err):
        return
    rc, out, err = lab.agent.run("%s attach seat1 desk1b" % checks.seat_assign)
    seats = json.loads(lab.agent.check("%s --json seats" % checks.seat_assign))
    entry = [x for x in seats if x.get("name") == "seat1"]
    entry = entry[0] if entry else {}
    checks.check(rc == 0 and entry.get("container") == "desk1"
                 and "desk1b" in (entry.get("containers") or []),
                 "seat-assign attach seat1 desk1b: desk1b is attached, desk1 stays active",
                 "%s%s\n%s" % (out, err, entry))
    # desk1b's libseat client, as a compositor would: connected, waiting for the seat.
    hold = checks.cstart("desk1b", "libseat-hold", "python3 /lab/src/tests/lab/guest/"
                         "libseat-hold.py --for 900 --wait --keys %s %s" % (card, kbd))
    wait_for(lambda: "seat seat1" in read(hold), 30)
    checks.check("seat seat1 not-enabled" in read(hold) and "open " not in read(hold),
                 "libseat in desk1b opens seat1 and waits: not enabled while desk1 has it",
                 read(hold))
    view = desk_view(checks, "desk1b", card)
    checks.check(card in view["nodes"] and view["open"] == "EPERM"
                 and not view["nodes"] & seat1_inputs,
                 "desk1b, waiting, has seat1's card %s on standby (a node, open(): %s) and "
                 "none of seat1's input nodes" % (card, view["open"]), view["raw"])
    pid = desktops.compositors.get("desk1", {}).get("pid")
    with_cage = pid is not None and "desk1" in desktops.up
    if not with_cage:
        print("  note  no compositor in desk1: the switch is checked without one", flush=True)
    # A process of desk1 that opened seat1's keyboard itself (not through libseat) and
    # keeps the fd: it must read nothing once desk1 has lost the seat.
    direct = checks.cstart("desk1", "hold-direct", "python3 /lab/src/tests/lab/guest/"
                           "hold-direct.py --for 900 %s" % kbd)
    wait_for(lambda: "open %s" % kbd in read(direct), 30)
    checks.check("open %s ok" % kbd in read(direct),
                 "a process in desk1 opens seat1's keyboard %s itself and keeps it" % kbd,
                 read(direct))
    before = desk_view(checks, "desk1", card, pid)
    typed_before = before["typed"]
    if with_cage:
        checks.check(before["comm"] == "cage", "desk1's cage (pid %s) runs before the switch"
                     % pid, before["raw"])

    # To desk1b.
    t = time.monotonic()
    switch_seat(checks, "desk1", "desk1b", "desk1 acknowledged the disable",
                "switch_to_desk1b_ms")
    opened = wait_for(lambda: read(hold).count("state open") >= 2, 30)
    if opened:
        lab.figures["switch_to_desk1b_devices_open_s"] = round(time.monotonic() - t, 2)
    held = read(hold)
    checks.check("\nenabled\n" in held and "open %s ok" % card in held
                 and "open %s ok" % kbd in held,
                 "desk1b's libseat client is enabled and opens seat1's card and keyboard", held)
    checks.check("state open %s drm-master=yes" % card in held,
                 "desk1b's card fd is DRM master", held)
    checks.check("state open %s evdev=ok" % kbd in held, "desk1b's keyboard fd answers", held)
    view = desk_view(checks, "desk1", card, pid)
    if with_cage:
        desktops.logs("desk1")
        checks.check(view["comm"] == "cage",
                     "desk1's cage (pid %s) is still running after the switch away" % pid,
                     "%s\n%s\n%s" % (view["raw"], tail(lab.path("out", "desk1", "compositor.log")),
                                     checks.seatd_ns_lines(r"desk1")))
    checks.check(card in view["nodes"] and view["open"] == "EPERM"
                 and not view["nodes"] & seat1_inputs,
                 "desk1 keeps seat1's card %s on standby (a node, open(): %s) and has none of "
                 "seat1's input nodes" % (card, view["open"]), view["raw"])
    checks.send_key("gpu1", "f")
    got = wait_for(lambda: "key %s 33" % kbd in read(hold), 15)
    time.sleep(1.5)
    checks.check(got, "KEY_F typed on gpu1 reaches desk1b's client through its libseat "
                 "keyboard fd", read(hold))
    checks.check("key %s 33" % kbd not in read(direct)
                 and "read %s ENODEV" % kbd in read(direct),
                 "the keyboard fd desk1's process opened itself does not read KEY_F: it is "
                 "revoked (read: ENODEV)", read(direct) + checks.seatd_ns_lines(r"revok|desk1"))
    checks.cstop("desk1", "hold-direct")
    wrong = [o for o in libinput.names() if o != "desk1"
             and re.search(r"KEY_F \(\d+\) pressed", libinput.log(o))]
    checks.check(not wrong, "KEY_F is seen by no other seat's libinput", "seen by: %s" % wrong)
    if with_cage:
        typed = desk_view(checks, "desk1", card)["typed"]
        checks.check(typed == typed_before, "KEY_F does not reach desk1's terminal (typed %r)"
                     % typed)
    kbd_event = os.path.basename(kbd)
    if "desk1" in libinput:
        # libinput in desk1 (the udev backend, its own opens) lets go of the keyboard when
        # desk1's libudev hears it removed.
        checks.check(libinput.wait("desk1", r"(?m)^\s*-?%s\s+DEVICE_REMOVED" % kbd_event, 15)
                     and not re.search(r"KEY_F \(\d+\) pressed", libinput.log("desk1")),
                     "%s removes seat1's keyboard %s and gets no KEY_F"
                     % (libinput.what("desk1"), kbd_event),
                     libinput.log("desk1")[-1500:])
        added = len(re.findall(r"(?m)^\s*-?%s\s+DEVICE_ADDED" % kbd_event,
                               libinput.log("desk1")))
    # What gpu1 shows while desk1b has the seat (its client draws nothing).
    checks.screendumps("switched-away", quiet=True)

    # Back to desk1.
    switch_seat(checks, "desk1b", "desk1", "desk1b acknowledged", "switch_to_desk1_ms")
    revoked = "read %s ENODEV" % kbd
    wait_for(lambda: revoked in read(hold), 15)
    held = read(hold)
    checks.check("\ndisabled\n" in held and revoked in held,
                 "desk1b's client is disabled and its keyboard fd revoked (read: ENODEV)", held)
    checks.check(re.search(r"state \S+ %s drm-master=no" % re.escape(card), held),
                 "desk1b's card fd is no longer DRM master", held)
    back = wait_for(lambda: kbd in checks.container_nodes("desk1"), 30)
    checks.check(back, "desk1 has seat1's keyboard %s again" % kbd)
    if "desk1" in libinput:
        checks.check(wait_for(lambda: len(re.findall(
                       r"(?m)^\s*-?%s\s+DEVICE_ADDED" % kbd_event,
                       libinput.log("desk1"))) > added, 15),
                     "%s adds seat1's keyboard %s again" % (libinput.what("desk1"),
                                                            kbd_event),
                     libinput.log("desk1")[-1500:])
    if not with_cage:
        checks.cstop("desk1b", "libseat-hold")
        return
    view = desk_view(checks, "desk1", card, pid)
    desktops.logs("desk1")
    alive = checks.check(view["comm"] == "cage",
                         "desk1's cage (pid %s) is still running after the switch back" % pid,
                         "%s\n%s\n%s" % (view["raw"], tail(lab.path("out", "desk1", "compositor.log")),
                                         checks.seatd_ns_lines(r"desk1")))
    # cage reopens the keyboard through libseat when udev adds it: give it a moment.
    time.sleep(3)
    t = time.monotonic()
    checks.send_key("gpu1", "g")
    want = typed_before + "g"
    typed, took = "", None
    # Polled for up to a minute, timed: how long the key takes to get through cage after
    # the switch back.
    while time.monotonic() - t < 60:
        rc, typed, err = checks.cexec("desk1", "%s typed" % desktops.script("compositor.sh"))
        took = round(time.monotonic() - t, 1)
        if typed.strip() == want:
            lab.figures["switch_back_key_to_terminal_s"] = took
            break
        time.sleep(1)
    desktops.logs("desk1")
    checks.check(typed.strip() == want, "KEY_G typed on gpu1 reaches desk1's terminal again "
                 "(typed %r, seen %s s after the key)" % (typed.strip(), took),
                 "%s\n%s" % (tail(lab.path("out", "desk1", "compositor.log")),
                            libinput.log("desk1")[-600:] if "desk1" in libinput
                            else ""))
    checks.check("key %s 34" % kbd not in read(hold), "desk1b's client did not get KEY_G",
                 read(hold))
    rgb = desktops.compositors["desk1"].get("rgb")
    r = None
    for _ in range(6):
        checks.screendumps("switched-back", quiet=True)
        r = desktops.screen_check("gpu1", rgb, "switched-back")
        if r.returncode == 0:
            break
        time.sleep(2)
    checks.check(alive and r.returncode == 0,
                 "gpu1's screenshot after the switch back shows desk1's compositor (rgb %s: %s)"
                 % (rgb, r.stdout.strip()), r.stderr + tail(lab.path("out", "desk1", "compositor.log")))
    # The terminal echoes the keys: the g on the display is a frame cage drew after it
    # got the seat back (DRM master again).
    changed = screen_diff(lab.path("screens", "gpu1-switched-away.png"),
                          lab.path("screens", "gpu1-switched-back.png"))
    checks.check(changed, "cage drew again after the switch back: gpu1's display changed "
                 "(%s pixels) since the switch away (the typed g)" % changed)
    checks.cstop("desk1b", "libseat-hold")
