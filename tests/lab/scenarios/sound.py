"""Sound held directly: a process of desk2 that opened seat2's PCM nodes itself loses them when
seat2 is detached (the card is disconnected: ALSA has no revoke), and the card comes back."""

import re
import time

from lablib.topology import usb_path
from lablib.util import read, wait_for


def run(checks):
    held_sound(checks, checks.current_devices())


def held_sound(checks, devs):
    """A process of desk2 that opened seat2's USB audio PCMs itself (not through a sound
    server) keeps them no longer than desk2 has seat2: `seat-assign detach seat2`
    disconnects the card (ALSA has no revoke: seatd-ns rebinds its driver), the fds fail
    with ENODEV, and the card comes back on seat2, for desk2 once it is attached again."""
    lab = checks.lab
    card = checks.one(devs, "seat2's USB audio card at port 2.3", kind="sound-card",
                      id_path=usb_path("2.3"))
    if card is None:
        return
    pcms = sorted(d["devnode"] for d in devs if d.get("kind") == "sound-pcm"
                  and (d.get("syspath") or "").startswith(card["syspath"] + "/"))
    print("== sound: PCMs a process in desk2 opened itself, then seat2 detached", flush=True)
    held = checks.cstart("desk2", "hold-direct", "python3 /lab/src/tests/lab/guest/"
                         "hold-direct.py --for 600 %s" % " ".join(pcms))
    wait_for(lambda: all("state %s " % p in read(held) for p in pcms), 30)
    checks.check(pcms and all("state %s ok" % p in read(held) for p in pcms),
                 "a process in desk2 opens seat2's PCM nodes %s itself and keeps them"
                 % " ".join(pcms), read(held))
    since = lab.events.mark()
    t = time.time()
    rc, out, err = lab.agent.run(
        "s=$(date +%%s%%N); %s detach seat2; r=$?; e=$(date +%%s%%N); "
        "echo \"ms $(((e - s) / 1000000))\"; exit $r" % checks.seat_assign, timeout=60)
    ms = re.search(r"(?m)^ms (\d+)$", out)
    if ms:
        lab.figures["detach_seat2_sound_held_ms"] = int(ms.group(1))
    checks.check(rc == 0, "seat-assign detach seat2 (in %s ms)" % (ms and ms.group(1)),
                 out + err)
    dead = wait_for(lambda: all("state %s ENODEV" % p in read(held) for p in pcms), 20)
    checks.check(dead, "seat-assign detach seat2: the PCM fds desk2's process opened itself "
                 "fail with ENODEV (the card was disconnected)",
                 read(held) + checks.seatd_ns_lines(r"disconnect|revok|desk2"))
    cost = re.findall(r"disconnected \S+ .*in (\d+) ms", read(lab.path("out", "seatd-ns.log")))
    if cost:
        lab.figures["sound_disconnect_ms"] = int(cost[-1])
    te, ev = lab.events.wait(lambda e: e.get("action") in ("add", "change")
                             and e.get("id_path") == usb_path("2.3")
                             and e.get("kind") == "sound-card"
                             and str(e.get("sound_initialized")) in ("1", "true"), 60, since)
    checks.check(ev is not None and ev.get("seat") == "seat2",
                 "the card comes back on seat2, initialized (seat-assign monitor)", ev)
    if te is not None:
        lab.figures["sound_detach_to_card_back_ms"] = round((te - t) * 1000, 1)
    lab.agent.check("%s attach seat2 desk2" % checks.seat_assign)
    rc, out, err = 1, "", ""
    for _ in range(30):
        rc, out, err = checks.cexec("desk2", "aplay -l")
        if "QEMU USB Audio" in out:
            break
        time.sleep(1)
    checks.check("QEMU USB Audio" in out, "seat-assign attach seat2 desk2: aplay -l in desk2 "
                 "lists the USB audio card again", out + err)
    checks.cstop("desk2", "hold-direct")
