"""The lab's fixed hardware (PCI slots, USB ports, hence the ID_PATHs udev gives them) and the
seats guest/seats.conf makes of it."""

# qemu's -device values: two seats' GPUs, then the USB tree, a hub per seat
# (tests/lab/README.md has the table).
LAB_HARDWARE = [
    "virtio-gpu-pci,id=gpu1,addr=0x5",
    "virtio-gpu-pci,id=gpu2,addr=0x6",
    "qemu-xhci,id=xhci,addr=0x7",
    "usb-hub,id=hub1,bus=xhci.0,port=1",
    "usb-hub,id=hub2,bus=xhci.0,port=2",
    "usb-kbd,id=kbd1,bus=xhci.0,port=1.1,display=gpu1",
    "usb-mouse,id=mouse1,bus=xhci.0,port=1.2",
    "usb-kbd,id=kbd2,bus=xhci.0,port=2.1,display=gpu2",
    "usb-tablet,id=tablet2,bus=xhci.0,port=2.2,display=gpu2",
    "usb-audio,id=audio2,bus=xhci.0,port=2.3,audiodev=snd0",
]
# Beside LAB_HARDWARE (which the lab-2seat fixture was recorded with): a sound card on seat1
# too, so that a tone played on seat2 can be shown to reach seat2's card and not seat1's. Each
# card plays into its own audiodev, a WAV file in the run directory (vm.py).
SOUND_PROBE = "usb-audio,id=audio1,bus=xhci.0,port=1.5,audiodev=snd1"
LAB_MACHINE = LAB_HARDWARE + [SOUND_PROBE]
AUDIODEV_WAV = {"snd0": "audio-seat2.wav", "snd1": "audio-seat1.wav"}
XHCI_PCI = "0000:00:07.0"
GPU_PCI = {"gpu1": "0000:00:05.0", "gpu2": "0000:00:06.0"}
COLDPLUG_USB = [
    # (qemu id, port, kinds a seat-assign device may have, what)
    ("kbd1", "1.1", {"keyboard"}, "seat1 USB keyboard"),
    ("mouse1", "1.2", {"pointer"}, "seat1 USB mouse"),
    ("kbd2", "2.1", {"keyboard"}, "seat2 USB keyboard"),
    ("tablet2", "2.2", {"pointer", "tablet"}, "seat2 USB tablet"),
]
PS2_KBD_PATH = "platform-i8042-serio-0"
# guest/seats.conf: each seat's desktop container; everything else stays on seat0.
CONTAINERS = {"seat1": "desk1", "seat2": "desk2"}
SEAT_OF = {c: s for s, c in CONTAINERS.items()}
GPU_OF = {"seat1": "gpu1", "seat2": "gpu2"}
# Sound nodes of no card, which every seat with sound gets (shared-sound).
SHARED_SOUND_NODES = ("/dev/snd/timer", "/dev/snd/seq")
INPUT_CLASSES = [
    "ID_INPUT", "ID_INPUT_KEY", "ID_INPUT_KEYBOARD", "ID_INPUT_MOUSE", "ID_INPUT_TOUCHPAD",
    "ID_INPUT_TOUCHSCREEN", "ID_INPUT_TABLET", "ID_INPUT_TABLET_PAD", "ID_INPUT_JOYSTICK",
    "ID_INPUT_ACCELEROMETER", "ID_INPUT_POINTINGSTICK", "ID_INPUT_SWITCH",
]


def usb_path(port):
    """udev's ID_PATH of interface 0 of the USB device on PORT (e.g. "1.3")."""
    return "pci-%s-usb-0:%s:1.0" % (XHCI_PCI, port)


def expected_seat(dev):
    """The seat guest/seats.conf gives a device: a GPU's PCI device or a hub's USB port."""
    syspath, id_path = dev.get("syspath") or "", dev.get("id_path") or ""
    for gpu, seat in (("gpu1", "seat1"), ("gpu2", "seat2")):
        if "/%s/" % GPU_PCI[gpu] in syspath:
            return seat
    for port, seat in (("1", "seat1"), ("2", "seat2")):
        if id_path.startswith("pci-%s-usb-0:%s." % (XHCI_PCI, port)):
            return seat
    return "seat0"
