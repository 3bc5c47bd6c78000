"""Coldplug: seat-assign --json devices against udevadm in the guest, and the lab's hardware
all listed, on its seat."""

from lablib.topology import COLDPLUG_USB, GPU_PCI, PS2_KBD_PATH, usb_path


def run(checks):
    print("== coldplug: seat-assign --json devices against udevadm", flush=True)
    devs, db = checks.boot_view()
    checks.cross_check(devs, db, "coldplug")
    for gpu, pci in GPU_PCI.items():
        under = lambda p, pci=pci: p is not None and ("/%s/" % pci) in p
        checks.one(devs, "%s's DRM card" % gpu, "kind=drm-card, under PCI %s" % pci,
                   kind="drm-card", syspath=under)
        checks.one(devs, "%s's DRM render node" % gpu, "kind=drm-render, under PCI %s" % pci,
                   kind="drm-render", syspath=under)
    for qid, port, kinds, what in COLDPLUG_USB:
        checks.one(devs, "%s on port %s" % (what, port),
                   "kind=%s, id_path=%s" % ("|".join(sorted(kinds)), usb_path(port)),
                   id_path=usb_path(port), kind=lambda k, kinds=kinds: k in kinds)
    card = checks.one(devs, "seat2 USB audio card on port 2.3", kind="sound-card",
                      id_path=usb_path("2.3"))
    checks.check(card is not None and str(card.get("sound_initialized")) in ("1", "true"),
                 "the USB audio card is initialized (SOUND_INITIALIZED)", card)
    checks.check(checks.find(devs, kind="sound-control", id_path=usb_path("2.3")),
                 "the USB audio card's control node is listed")
    checks.one(devs, "seat0 PS/2 keyboard", kind="keyboard", id_path=PS2_KBD_PATH)
