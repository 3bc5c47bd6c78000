"""Input routing: libinput in each container (the udev backend, with its seat) lists exactly
its seat's keyboard and pointer; keys and pointer moves sent with QMP input-send-event reach
the seat they were made on and nobody else."""

import re
import time

from lablib.topology import COLDPLUG_USB, CONTAINERS, expected_seat, usb_path
from lablib.util import wait_for


def run(checks):
    print("== keys and pointer moves with input-send-event, seen by libinput "
          "(--udev SEAT in each container, the PS/2 keyboard's node on the guest host)",
          flush=True)
    libinput = checks.libinput
    libinput.start_seats()
    node = checks.input_nodes()
    for seat, c in CONTAINERS.items():
        want = {node[q] for q, port, _, _ in COLDPLUG_USB
                if node.get(q) and expected_seat({"id_path": usb_path(port)}) == seat}
        wait_for(lambda c=c, want=want: libinput.devices(c) >= want, 30)
        time.sleep(0.5)
        have = libinput.devices(c)
        checks.check(want and have == want,
                     "%s lists exactly %s's keyboard and pointer (%s)"
                     % (libinput.what(c), seat, " ".join(sorted(want))),
                     "listed: %s\n%s" % (sorted(have), libinput.log(c)[-1500:]))
    if "ps2kbd" in libinput:
        checks.check(libinput.wait("ps2kbd", r"DEVICE_ADDED", 20),
                     "%s opened the PS/2 keyboard" % libinput.what("ps2kbd"),
                     libinput.log("ps2kbd"))
    libinput.key_test("gpu1", "a", "KEY_A", "desk1", node["kbd1"])
    libinput.key_test("gpu2", "b", "KEY_B", "desk2", node["kbd2"])
    if "ps2kbd" in libinput:
        libinput.key_test(None, "c", "KEY_C", "ps2kbd", None)
    pointer_moves(checks, node)


def pointer_moves(checks, node):
    """Relative moves on gpu1 reach desk1 from the mouse, absolute ones on gpu2 desk2 from the
    tablet, and neither container sees the other's."""
    qmp, libinput = checks.lab.qmp, checks.libinput
    for _ in range(3):
        qmp.execute("input-send-event", device="gpu1", events=[
            {"type": "rel", "data": {"axis": "x", "value": 20}},
            {"type": "rel", "data": {"axis": "y", "value": 10}}])
        time.sleep(0.1)
    checks.check(libinput.wait("desk1", r"(?m)^\s*-?%s\s+POINTER_MOTION\s" % node["mouse1"], 15),
                 "relative pointer moves (device=gpu1) reach desk1 from the USB mouse",
                 libinput.log("desk1")[-2000:])
    for x in (8000, 16000, 24000):
        qmp.execute("input-send-event", device="gpu2", events=[
            {"type": "abs", "data": {"axis": "x", "value": x}},
            {"type": "abs", "data": {"axis": "y", "value": x}}])
        time.sleep(0.1)
    checks.check(libinput.wait("desk2", r"(?m)^\s*-?%s\s+POINTER_MOTION_ABSOLUTE"
                               % node["tablet2"], 15),
                 "absolute pointer moves (device=gpu2) reach desk2 from the tablet",
                 libinput.log("desk2")[-2000:])
    checks.check("POINTER_MOTION_ABSOLUTE" not in libinput.log("desk1"),
                 "desk1 saw none of the tablet's absolute moves")
    checks.check(not re.search(r"POINTER_MOTION\s", libinput.log("desk2")),
                 "desk2 saw none of the mouse's relative moves")
