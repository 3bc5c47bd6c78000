"""What a run prints: the measured figures, each scenario's checks and time, and, for people,
what each seat saw in a finished run."""

import json
import os
import re

from .topology import CONTAINERS
from .util import read


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



def print_scenarios(timings):
    """How long each scenario took and how many checks it made: [(name, seconds, checks)]."""
    print("== scenarios", flush=True)
    for name, seconds, n in timings:
        print("  %-12s %6.1f s  %3d checks" % (name, seconds, n), flush=True)


def summary(run):
    """What each seat saw in a finished run (its run directory), for people: the devices of
    each seat and the nodes its container had, what libinput in the container added and the
    keys it received, the desktop, the screenshots, the logs, the result."""
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
