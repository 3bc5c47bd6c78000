"""The desktop containers: each seat attached to its LXC container, which has exactly its
seat's nodes and sees their udev properties; no hidraw where the kernel cannot revoke it; the
real libseat in each, and what a detach takes away from it."""

import json
import re

from lablib.topology import CONTAINERS, INPUT_CLASSES, SHARED_SOUND_NODES
from lablib.util import read, wait_for


def run(checks):
    devs, db = checks.boot_view()
    print("== desktop containers desk1 (seat1) and desk2 (seat2)", flush=True)
    containers(checks, devs, db)
    hidraw(checks)
    checks.watch_udev()
    libseat(checks, devs)


def containers(checks, devs, db):
    """Both desktop containers run, registered, each with exactly its seat's nodes, and
    their udevadm (libudev) reads the seat's devices from the database seatd-ns wrote."""
    seats = json.loads(checks.lab.agent.check("%s --json seats" % checks.seat_assign))
    for seat, container in CONTAINERS.items():
        entry = [x for x in seats if x.get("name") == seat]
        checks.check(entry and entry[0].get("container") == container,
                     "%s is attached to the LXC container %s, which its start-host hook "
                     "registered" % (seat, container), entry)
        rc, out, err = checks.cexec(container, "cat /run/lab-init; cat /proc/1/comm")
        checks.check(rc == 0 and out.split() == ["up", "init"],
                     "%s runs its own init (busybox), which found its /run" % container,
                     out + err)
        mine = [d for d in devs if d.get("seat") == seat and d.get("devnode")
                and d.get("kind") != "hidraw"]
        others = [d for d in devs if d.get("seat") != seat and d.get("devnode")
                  and d["devnode"] not in SHARED_SOUND_NODES]
        nodes = checks.container_nodes(container)
        with open(checks.lab.path("out", container, "nodes.txt"), "w") as f:
            f.write("\n".join(sorted(nodes)) + "\n")
        missing = sorted(d["devnode"] for d in mine if d["devnode"] not in nodes)
        foreign = sorted(d["devnode"] for d in others if d["devnode"] in nodes)
        checks.check(not missing and not foreign,
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
        rc, out, err = checks.cexec(container, script + "true", timeout=60)
        with open(checks.lab.path("out", container, "udevadm-info.txt"), "w") as f:
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
            u = db.get(checks.devpath(d), {})
            if p.get("ID_SEAT") != seat:
                problems.append("%s: ID_SEAT %r" % (d["devnode"], p.get("ID_SEAT")))
            if "ID_PATH" in u and p.get("ID_PATH") != u["ID_PATH"]:
                problems.append("%s: ID_PATH %r, host udev %r"
                                % (d["devnode"], p.get("ID_PATH"), u["ID_PATH"]))
            want = sorted(k for k in INPUT_CLASSES if u.get(k) == "1")
            have = sorted(k for k in INPUT_CLASSES if p.get(k) == "1")
            if want != have:
                problems.append("%s: %s, host udev %s" % (d["devnode"], have, want))
        checks.check(infos and not problems,
                     "udevadm info in %s: its %d input and DRM devices with ID_SEAT=%s and "
                     "the host udev's ID_PATH and ID_INPUT_*" % (container, len(infos), seat),
                     "\n".join(problems) or out[-1500:])
        # ALSA inside: the seat's cards only (seat2's USB audio; none for seat1).
        rc, out, err = checks.cexec(container, "aplay -l")
        with open(checks.lab.path("out", container, "aplay.txt"), "w") as f:
            f.write(out + err)
        cards = sorted(set(re.findall(r"(?m)^card \d+: \S+ \[([^]]*)\]", out)))
        want = ["QEMU USB Audio"] if checks.find(mine, kind="sound-control") else []
        checks.check(cards == want, "aplay -l in %s lists %s" % (
            container, "only the USB audio card" if want else "no sound card"), out + err)
        if foreign_dev:
            p = props.get(foreign_dev["syspath"], {})
            checks.check(p and not any(k.startswith(("ID_SEAT", "ID_INPUT")) for k in p),
                         "udevadm info in %s: %s of %s is in sysfs but has no database entry "
                         "(no ID_SEAT, no ID_INPUT)" % (container, foreign_dev["devnode"],
                                                    foreign_dev["seat"]), p)


def libseat(checks, devs):
    """The real libseat in each container: the seat's DRM card (as DRM master) and
    keyboard through /run/seatd.sock, another seat's node refused; when the seat is
    detached, the keyboard's fd is revoked (ENODEV) and the card loses DRM master."""
    print("== libseat in the containers (/run/seatd.sock)", flush=True)
    nodes = {}
    for seat in CONTAINERS:
        card = checks.find(devs, seat=seat, kind="drm-card")
        kbd = checks.find(devs, seat=seat, kind="keyboard")
        nodes[seat] = (card[0]["devnode"] if card else None, kbd[0]["devnode"] if kbd else None)
    # seat2: tests/tools/libseat-client, which opens and closes.
    client = "/lab/build/tests/libseat-client"
    card, kbd = nodes["seat2"]
    foreign = nodes["seat1"][1]
    rc, out, err = checks.cexec("desk2", "%s %s %s %s" % (client, card, kbd, foreign))
    lines = out.splitlines()
    checks.check(rc == 0 and "seat seat2 enabled" in lines
                 and any(l.startswith("%s ok 226:" % card) for l in lines)
                 and any(l.startswith("%s ok 13:" % kbd) for l in lines),
                 "libseat-client in desk2 opens seat2, its card %s and keyboard %s"
                 % (card, kbd), out + err)
    checks.check(any(l.startswith("%s error" % foreign) for l in lines),
                 "libseat-client in desk2 cannot open seat1's keyboard %s" % foreign, out + err)
    # seat1: a libseat client that keeps its fds (guest/libseat-hold.py).
    card, kbd = nodes["seat1"]
    logpath = checks.cstart("desk1", "libseat-hold", "python3 /lab/src/tests/lab/guest/"
                            "libseat-hold.py --for 120 %s %s" % (card, kbd))
    wait_for(lambda: read(logpath).count("state open") >= 2, 30)
    held = read(logpath)
    checks.check("seat seat1 enabled" in held and "open %s ok" % card in held
                 and "open %s ok" % kbd in held,
                 "libseat in desk1 opens seat1, its card %s and keyboard %s" % (card, kbd), held)
    checks.check("state open %s drm-master=yes" % card in held,
                 "the card's fd is DRM master (set by seatd-ns)", held)
    checks.check("state open %s evdev=ok" % kbd in held,
                 "the keyboard's fd answers (EVIOCGVERSION)", held)
    checks.lab.agent.check("%s detach seat1" % checks.seat_assign)
    revoked = "%s evdev=ENODEV" % kbd
    wait_for(lambda: revoked in read(logpath), 20)
    held = read(logpath)
    checks.check(revoked in held,
                 "seat-assign detach seat1: the keyboard fd libseat gave desk1 is revoked "
                 "(EVIOCGVERSION: ENODEV)", held)
    checks.check(re.search(r"state \S+ %s drm-master=no" % re.escape(card), held),
                 "seat-assign detach seat1: desk1's card fd is no longer DRM master", held)
    checks.cstop("desk1", "libseat-hold")
    checks.lab.agent.check("%s attach seat1 desk1" % checks.seat_assign)
    back = wait_for(lambda: {card, kbd} <= checks.container_nodes("desk1"), 30)
    checks.check(back, "seat-assign attach seat1 desk1: desk1 has its card and keyboard again")


def hidraw(checks):
    """seat1 asks for hidraw (guest/seats.conf), but this kernel cannot revoke a hidraw
    fd (HIDIOCREVOKE came with Linux 6.12): seatd-ns gives none, and says why."""
    have = sorted(n for n in checks.container_nodes("desk1") if n.startswith("/dev/hidraw"))
    kernel = checks.lab.agent.check("uname -r").strip()
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", kernel).groups())
    if (major, minor) >= (6, 12):
        checks.check(have, "seat1 asks for hidraw and Linux %s can revoke it: desk1 has "
                     "seat1's hidraw nodes" % kernel, have)
        return
    said = checks.seatd_ns_lines(r"HIDIOCREVOKE", 3)
    checks.check(not have and "hidraw" in said,
                 "seat1 asks for hidraw, but Linux %s cannot revoke a hidraw fd: desk1 has no "
                 "hidraw node, and seatd-ns's log says why" % kernel,
                 "nodes %s; log: %s" % (have, said))
