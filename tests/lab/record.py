#!/usr/bin/python3
"""Records a fixture: boots the seat lab's VM with a fixture's hardware and no udevd
(guest/record.sh), records every kernel uevent from the loading of the seat drivers on,
hotplugs the fixture's devices over QMP, snapshots the seat-relevant sysfs while they are
present, unplugs them, and writes OUT/NAME.tgz (sysfs/ and uevents.bin) and
OUT/NAME.uevents.txt (the same events as text). tests/fixtures/README.md describes the format.

    record.py NAME --run-dir DIR --out DIR [--cache DIR]
    record.py text UEVENTS.BIN      the text form of a recording, to stdout
"""

import argparse
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lablib.topology import LAB_HARDWARE  # noqa: E402  (the lab's package, beside this file)
from lablib.util import LabError, guest_path, log  # noqa: E402
from lablib.vm import Lab  # noqa: E402

GUEST = guest_path("guest")

# Each fixture: the hardware qemu starts with (its -device values; LAB_HARDWARE is
# the lab's own) and the devices hotplugged, in order, once the guest is quiet (QMP device_add
# arguments), then unplugged in the same order. lab-2seat was recorded with an earlier form of
# this method; recorded again, its event and device numbers may come out in another order.
FIXTURES = {
    "lab-2seat": {
        "hardware": LAB_HARDWARE,
        "hotplug": [
            {"driver": "usb-kbd", "id": "kbd1b", "bus": "xhci.0", "port": "1.3"},
            {"driver": "usb-audio", "id": "audio1b", "bus": "xhci.0", "port": "1.4",
             "audiodev": "snd0"},
        ],
    },
    # Three seats: seat1 has a GPU with two connectors and a hub behind a hub, seat2 a tablet,
    # seat1 and seat2 a sound card each; a keyboard hotplugged on seat3 and a sound card
    # behind seat1's inner hub.
    "lab-3seat": {
        "hardware": [
            "virtio-gpu-pci,id=gpu1,addr=0x5,max_outputs=2",
            "virtio-gpu-pci,id=gpu2,addr=0x6",
            "qemu-xhci,id=xhci,addr=0x7",
            "virtio-gpu-pci,id=gpu3,addr=0x8",
            "usb-hub,id=hub1,bus=xhci.0,port=1",
            "usb-hub,id=hub1a,bus=xhci.0,port=1.1",
            "usb-kbd,id=kbd1,bus=xhci.0,port=1.1.1",
            "usb-mouse,id=mouse1,bus=xhci.0,port=1.1.2",
            "usb-audio,id=audio1,bus=xhci.0,port=1.2,audiodev=snd0",
            "usb-hub,id=hub2,bus=xhci.0,port=2",
            "usb-kbd,id=kbd2,bus=xhci.0,port=2.1",
            "usb-tablet,id=tablet2,bus=xhci.0,port=2.2",
            "usb-audio,id=audio2,bus=xhci.0,port=2.3,audiodev=snd0",
            "usb-hub,id=hub3,bus=xhci.0,port=3",
            "usb-kbd,id=kbd3,bus=xhci.0,port=3.1",
            "usb-mouse,id=mouse3,bus=xhci.0,port=3.2",
        ],
        "hotplug": [
            {"driver": "usb-kbd", "id": "kbd3b", "bus": "xhci.0", "port": "3.3"},
            {"driver": "usb-audio", "id": "audio1b", "bus": "xhci.0", "port": "1.1.3",
             "audiodev": "snd0"},
        ],
    },
}
# Seconds without a uevent after which a hotplug or an unplug is taken as done.
QUIET_S = 4


def records(path):
    """The payloads of a recording: [u32 little-endian length][payload] records."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("%s: a truncated length at byte %d" % (path, pos))
        (n,) = struct.unpack_from("<I", data, pos)
        if pos + 4 + n > len(data):
            raise ValueError("%s: a truncated record at byte %d" % (path, pos))
        yield data[pos + 4:pos + 4 + n]
        pos += 4 + n


def as_text(path):
    """One record per paragraph: ACTION@DEVPATH, then its KEY=VALUE lines."""
    out = []
    for payload in records(path):
        fields = [f.decode(errors="replace") for f in payload.split(b"\0") if f]
        out.append("\n".join(fields) + "\n")
    return "\n".join(out)


def quiet(agent, what):
    rc, _, _ = agent.run("%s/uevent-quiet.sh %d 120" % (GUEST, QUIET_S), timeout=140)
    if rc != 0:
        raise LabError("the kernel did not quiet down after %s" % what)


def record(name, run_dir, out_dir, cache):
    fixture = FIXTURES[name]
    # The guest mounts a build directory; recording needs none of the project's binaries.
    empty = os.path.join(run_dir, "no-build")
    os.makedirs(empty, exist_ok=True)
    vm = Lab(run_dir, empty, cache)
    try:
        vm.boot(300, connect=True, hardware=fixture["hardware"],
                stage2=GUEST + "/record.sh")
        vm.connect()
        log("guest ready %.1fs after qemu started: drivers loaded, uevents quiet"
                % vm.figures.get("boot_to_ready_s", -1))
        for dev in fixture["hotplug"]:
            vm.qmp.execute("device_add", **dev)
            quiet(vm.agent, "adding " + dev["id"])
            log("added %s at port %s" % (dev["id"], dev["port"]))
        vm.agent.check("rm -rf /tmp/fixture && mkdir /tmp/fixture && "
                       "python3 %s/sysfs-snapshot.py /tmp/fixture/sysfs" % GUEST, timeout=120)
        for dev in fixture["hotplug"]:
            vm.qmp.execute("device_del", id=dev["id"])
            t, _ = vm.qmp.wait_event("DEVICE_DELETED",
                                     lambda e, i=dev["id"]: e["data"].get("device") == i, 60)
            if t is None:
                raise LabError("qemu did not delete %s" % dev["id"])
            quiet(vm.agent, "removing " + dev["id"])
            log("removed %s" % dev["id"])
        # The recorder stops; the archive is made the same way each time (names sorted, no
        # owners or times of this run).
        vm.agent.check(
            "kill $(cat /run/uevent-record.pid) && while kill -0 $(cat /run/uevent-record.pid)"
            " 2>/dev/null; do sleep 0.1; done && cp /lab/out/uevents.bin /tmp/fixture/ && "
            "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C /tmp/fixture "
            "-cf - sysfs uevents.bin | gzip -n9 >/lab/out/fixture.tgz", timeout=120)
    finally:
        vm.stop()
    os.makedirs(out_dir, exist_ok=True)
    tgz = os.path.join(out_dir, name + ".tgz")
    shutil.copyfile(vm.path("out", "fixture.tgz"), tgz)
    with open(os.path.join(out_dir, name + ".uevents.txt"), "w") as f:
        f.write(as_text(vm.path("out", "uevents.bin")))
    n = sum(1 for _ in records(vm.path("out", "uevents.bin")))
    log("%s: %d uevents recorded, written to %s" % (name, n, tgz))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "text":
        sys.stdout.write(as_text(sys.argv[2]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("name", choices=sorted(FIXTURES))
    p.add_argument("--run-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--cache", default=os.environ.get("SEATD_NS_LAB_CACHE",
                                                     "/var/tmp/seatd-ns-lab"))
    args = p.parse_args()
    try:
        record(args.name, os.path.abspath(args.run_dir), os.path.abspath(args.out), args.cache)
    except LabError as e:
        print("record: ERROR: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
