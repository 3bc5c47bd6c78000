"""Stop, which closes every run: the desktops and the containers stopped, seatd-ns forgets
them; it ran through whatever the scenarios did, exits with status 0 on SIGTERM, and its log
has no sanitizer report."""

import os
import re
import time

from lablib.checks import CONTAINERS_SH
from lablib.topology import CONTAINERS
from lablib.util import read, tail, wait_for


def run(checks):
    print("== stop: the containers, then seatd-ns", flush=True)
    lab = checks.lab
    checks.libinput.stop_all()
    checks.desktops.stop()
    stopping = list(CONTAINERS.values()) + checks.extra_containers
    rc, out, err = lab.agent.run("%s stop %s" % (CONTAINERS_SH, " ".join(stopping)),
                                 timeout=60 + 30 * len(stopping))
    checks.check(rc == 0, "lxc-stop stops the containers (%s)" % " ".join(stopping), out + err)
    for c in stopping:
        checks.check(wait_for(lambda c=c: re.search(
            r"container %s (exited; )?unregistered" % c, read(lab.path("out", "seatd-ns.log"))),
            15), "seatd-ns forgot %s" % c, tail(lab.path("out", "seatd-ns.log")))
    alive = not os.path.exists(lab.path("out", "seatd-ns.exit"))
    checks.check(alive, "seatd-ns ran through the scenario",
                 tail(lab.path("out", "seatd-ns.log")))
    if alive:
        lab.agent.run("kill -TERM $(cat /run/seatd-ns.pid)")
        deadline = time.monotonic() + 15
        while not os.path.exists(lab.path("out", "seatd-ns.exit")) and time.monotonic() < deadline:
            time.sleep(0.1)
        status = read(lab.path("out", "seatd-ns.exit")).strip()
        checks.check(status == "0", "seatd-ns exits with status 0 on SIGTERM (status %s)"
                     % (status or "none within 15s"), tail(lab.path("out", "seatd-ns.log")))
    # A sanitizer build reports and goes on (UBSan) or reports at exit (LeakSanitizer).
    reports = [l for l in read(lab.path("out", "seatd-ns.log")).splitlines()
               if re.search(r"runtime error:|ERROR: \w*Sanitizer", l)]
    checks.check(not reports, "seatd-ns.log has no sanitizer report", "\n".join(reports[:10]))
