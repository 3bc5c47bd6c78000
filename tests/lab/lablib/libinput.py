"""libinput debug-events in the desktop containers (the udev backend, with the container's
seat, as a compositor uses it) and on the guest host (the PS/2 keyboard's node), and keys
typed over QMP checked against what each of them saw."""

import re
import time

from .topology import CONTAINERS, SEAT_OF
from .util import read, wait_for


class Libinput:
    def __init__(self, checks):
        self.checks = checks
        self.running = {}  # name -> {container or pid, log (on the host), what}
        self.started = False

    def __contains__(self, name):
        return name in self.running

    def names(self):
        return list(self.running)

    def what(self, name):
        return self.running[name]["what"]

    def start_seats(self):
        """The setup step: libinput --udev SEAT in each container and on the PS/2 keyboard's
        node, once a run."""
        if self.started:
            return
        self.started = True
        for c in CONTAINERS.values():
            self.start(c, container=c)
        ps2 = self.checks.input_devnodes()["ps2kbd"]
        if ps2:
            self.start("ps2kbd", ps2)

    def start(self, name, devnode=None, container=None):
        """libinput debug-events: in a container with the udev backend and its seat, or on
        the guest host on one event node."""
        if container is not None:
            seat = SEAT_OF[container]
            logpath = self.checks.cstart(container, "libinput", "stdbuf -oL -eL libinput "
                                         "debug-events --show-keycodes --udev %s" % seat)
            self.running[name] = {"container": container, "log": logpath,
                                  "what": "libinput --udev %s in %s" % (seat, container)}
            return
        logname = "libinput-%s.log" % name
        pid = self.checks.lab.agent.check(
            "stdbuf -oL -eL libinput debug-events --show-keycodes --device %s "
            ">/lab/out/%s 2>&1 & echo $!" % (devnode, logname)).strip()
        self.running[name] = {"pid": pid, "log": self.checks.lab.path("out", logname),
                              "what": "libinput on %s" % devnode}

    def log(self, name):
        return read(self.running[name]["log"])

    def wait(self, name, pattern, timeout):
        return wait_for(lambda: re.search(pattern, self.log(name)), timeout)

    def stop_all(self):
        for name, li in list(self.running.items()):
            if "container" in li:
                self.checks.cstop(li["container"], "libinput")
            else:
                self.checks.lab.agent.run("kill %s 2>/dev/null; true" % li["pid"])
            del self.running[name]

    def devices(self, name, event="DEVICE_ADDED"):
        return set(re.findall(r"(?m)^\s*-?(event\d+)\s+%s\s" % event, self.log(name)))

    def key_test(self, device, qcode, keyname, expect, node):
        """Types qcode on `device`'s keyboard: libinput `expect` sees it from `node` (an event
        node name, or None for any), no other libinput sees it at all."""
        checks = self.checks
        others = [o for o in self.running if o != expect]
        checks.send_key(device, qcode)
        checks.desktops.typed_into(expect, qcode)
        key = r"%s \(\d+\) pressed" % keyname
        pattern = r"(?m)^\s*-?%s\s+KEYBOARD_KEY\s.*%s" % (node, key) if node else key
        seen = self.wait(expect, pattern, 15)
        time.sleep(1.5)  # time for a wrongly routed key to show up elsewhere
        wrong = [o for o in others if re.search(key, self.log(o))]
        where = "device=%s" % device if device else "no device"
        checks.check(seen, "%s typed with input-send-event (%s) reaches %s%s"
                     % (keyname, where, self.what(expect), " from %s" % node if node else ""),
                     self.log(expect)[-2000:])
        checks.check(not wrong, "%s is seen by no other libinput (%s)"
                     % (keyname, ", ".join(self.what(o) for o in others)),
                     "seen by: %s" % wrong)
