"""Greeters: greetd on the guest host, one instance per seat, each greeter (cage, foot, agreety)
drawn by the seat's container through desktop/greeter/seatd-ns-greeter; a wrong password and
an unknown user typed on seat1 are refused, no session starts, seat2's greeter is untouched;
the right password gets greetd's session, and the greeter comes back when it ends.
Not in a whole run (`lab-test.sh BUILD login`, meson test lab-login): it needs the seats free
of the desktops scenario's compositors."""

import re
import time

from lablib.topology import CONTAINERS, GPU_OF
from lablib.util import guest_path, read, wait_for

GREETER = guest_path("..", "..", "desktop", "greeter", "seatd-ns-greeter")
# What each seat's foot paints: seat1 brown, seat2 purple (not the compositors' colours).
COLOURS = {"seat1": ("aa5500", "170,85,0"), "seat2": ("5500aa", "85,0,170")}
GREETER_LOG = "/run/greeter/greeter.log"
UP_TIMEOUT = 180
USER, PASSWORD = "alice", "wonderland"


def run(checks):
    prepare(checks)
    started = start(checks)
    for seat in CONTAINERS:
        shows(checks, seat, started)
        socket_owner(checks, seat)
    before = pids(checks)
    refused(checks, USER, "wrong", 1, "pam_unix\\(greetd:auth\\): authentication failure.*"
            "user=%s" % USER, "a wrong password for %s" % USER)
    refused(checks, "mallory", "x", 2, "pam_unix\\(greetd:auth\\): check pass; user unknown",
            "an unknown user")
    after = pids(checks)
    checks.check(after == before and all(after.values()), "greetd and both greeters ran "
                 "through it, the same processes (%s)" % after, "before: %s" % before)
    seat2_untouched(checks)
    accepted(checks, before["cage-desk1"])
    stop(checks)


def prepare(checks):
    """The guest host's user alice (with a password), a syslog for PAM's messages, and in each
    container a greeter user in the seat's device groups and the host's fontconfig setup, as
    a desktop container has them; no compositor holds the seats."""
    print("== greeters: greetd on each seat, drawn by the seat's container", flush=True)
    lab = checks.lab
    # Each step once, so that the scenario runs again against a running lab too.
    lab.agent.check("id %s >/dev/null 2>&1 || useradd -m -s /bin/sh %s; echo %s:%s | chpasswd; "
                    "setsid busybox syslogd -n -O /lab/out/syslog.log </dev/null >/dev/null "
                    "2>&1 & echo $! >/run/lab-syslogd.pid" % (USER, USER, USER, PASSWORD))
    comp = checks.desktops.script("compositor.sh")
    for c in CONTAINERS.values():
        lab.agent.check("cp -rT /etc/fonts /var/lib/lxc/%s/rootfs/etc/fonts" % c)
        rc, out, err = checks.cexec(c, "%s stop; grep -q ^greeter: /etc/passwd || { echo "
                                    "greeter:x:990:990::/run/greeter:/bin/false >>/etc/passwd && "
                                    "echo greeter:x:990: >>/etc/group && sed -i 's/^\\(video"
                                    "\\|input\\|render\\):\\(.*\\):$/\\1:\\2:greeter/' "
                                    "/etc/group; }" % comp, timeout=60)
        checks.check(rc == 0, "%s has a greeter user in its video, input and render groups, "
                     "and no compositor running" % c, out + err)


def config(seat):
    """What greetd@SEAT reads from /etc/seatd-ns/greetd/SEAT.toml (config/examples/): the
    lab's paths in the environment of the launcher."""
    env = ("env SEAT_ASSIGN=/lab/build/seatd-ns/seat-assign SEATD_NS_BIND_INTO="
           "/lab/build/desktop/greeter/seatd-ns-bind-into WLR_RENDERER=pixman "
           "SEATD_NS_GREETER_LOG=%s" % GREETER_LOG)
    return ("[terminal]\nvt = \"none\"\n[general]\nrunfile = \"/run/greetd-%s.run\"\n"
            "[default_session]\ncommand = \"%s %s %s -o colors.background=%s\"\n"
            "user = \"root\"\n" % (seat, env, GREETER, seat, COLOURS[seat][0]))


def start(checks):
    """greetd for each seat, as greetd@SEAT.service would run it (the guest has no systemd:
    started directly, with SEATD_NS_SEAT and the unit's configuration file). Returns when
    each was started (monotonic)."""
    started = {}
    for seat in CONTAINERS:
        path = "/etc/seatd-ns/greetd/%s.toml" % seat
        checks.lab.agent.check("mkdir -p /etc/seatd-ns/greetd && cat >%s <<'EOF'\n%sEOF\n"
                               "cd /; SEATD_NS_SEAT=%s setsid greetd --config %s </dev/null "
                               ">/lab/out/greetd-%s.log 2>&1 & echo $! >/run/lab-greetd-%s.pid"
                               % (path, config(seat), seat, path, seat, seat))
        started[seat] = time.monotonic()
    return started


def shows(checks, seat, started):
    """The seat's display shows its greeter's colour (polled), the other display does not;
    agreety prompts in the seat's container."""
    gpu, rgb = GPU_OF[seat], COLOURS[seat][1]
    other = [g for s, g in GPU_OF.items() if s != seat][0]
    desktops = checks.desktops
    up = wait_for(lambda: checks.screendumps("greeter", quiet=True) or
                  desktops.screen_check(gpu, rgb, "greeter").returncode == 0, UP_TIMEOUT, 3)
    seconds = round(time.monotonic() - started[seat], 1)
    r = desktops.screen_check(gpu, rgb, "greeter")
    checks.check(up, "%s shows %s's greeter, foot's background %s, %ss after greetd started "
                 "(%s)" % (gpu, seat, rgb, seconds, r.stdout.strip()),
                 r.stderr + read(checks.lab.path("out", "greetd-%s.log" % seat)))
    if up:
        checks.lab.figures["%s_greeter_up_s" % seat] = seconds
    r = desktops.screen_check(other, rgb, "greeter")
    checks.check(r.returncode == 1, "%s does not (%s)" % (other, r.stdout.strip()), r.stderr)
    c = CONTAINERS[seat]
    checks.check(wait_for(lambda: "%s login:" % c in greeter_log(checks, c), 30, 1),
                 "agreety in %s prompts for a login (%s)" % (c, GREETER_LOG),
                 greeter_log(checks, c))


def socket_owner(checks, seat):
    """greetd's socket is in the container, the greeter's; on the host its mode is 0600 and
    its owner the uid the greeter maps to (200990), no other host user's."""
    c = CONTAINERS[seat]
    rc, inside, err = checks.cexec(c, "stat -c '%U %a %F' /run/greeter/greetd.sock")
    rc2, host, err2 = checks.lab.agent.run("stat -c '%%u %%a %%F' "
                                           "/run/greetd-$(cat /run/lab-greetd-%s.pid).sock" % seat)
    checks.check(inside.strip() == "greeter 600 socket" and host.strip() == "200990 600 socket",
                 "greetd's socket: in %s /run/greeter/greetd.sock (%s), on the host %s"
                 % (c, inside.strip(), host.strip()), err + err2)


def greeter_log(checks, container):
    return checks.cexec(container, "cat %s 2>/dev/null; true" % GREETER_LOG)[1]


def pids(checks):
    """greetd's pid for each seat and cage's in each container (None when not running)."""
    found = {}
    for seat, c in CONTAINERS.items():
        rc, out, err = checks.lab.agent.run("p=$(cat /run/lab-greetd-%s.pid); "
                                            "kill -0 $p 2>/dev/null && echo $p" % seat)
        found["greetd-" + seat] = out.strip() or None
        rc, out, err = checks.cexec(c, "pidof cage; true")
        found["cage-" + c] = out.strip() or None
    return found


def type_line(checks, text):
    for ch in text:
        checks.send_key(GPU_OF["seat1"], ch)
    checks.send_key(GPU_OF["seat1"], "ret")


def refused(checks, user, password, nth, syslog, what):
    """USER and PASSWORD typed on seat1's keyboard: agreety says "Login incorrect" (the nth
    time) and prompts again, PAM's log has the refusal, and no login session starts."""
    log = lambda: greeter_log(checks, "desk1")
    type_line(checks, user)
    checks.check(wait_for(lambda: log().count("Password:") >= nth, 30, 1),
                 "%s typed on seat1's keyboard: agreety in desk1 asks for a password" % user,
                 log())
    t = time.monotonic()
    type_line(checks, password)
    incorrect = wait_for(lambda: log().count("Login incorrect") >= nth and
                         log().count("desk1 login:") > nth, 30, 1)
    checks.check(incorrect, "%s: agreety says Login incorrect and prompts again (%.1fs, "
                 "pam_faildelay's 3 s included)" % (what, time.monotonic() - t), log())
    checks.check(wait_for(lambda: re.search(syslog, read(checks.lab.path(
        "out", "syslog.log"))), 10), "PAM's log (greetd's service) has it: /%s/" % syslog,
        read(checks.lab.path("out", "syslog.log"))[-2000:])
    rc, out, err = checks.lab.agent.run("%s sessions" % checks.seat_assign)
    checks.check(rc == 0 and out.strip() == "no login sessions",
                 "seat-assign sessions: no login session started", out + err)


def seat2_untouched(checks):
    """Seat1's keys never reached desk2's greeter, which still prompts, still drawn."""
    log = greeter_log(checks, "desk2")
    checks.check("desk2 login:" in log and "Login incorrect" not in log and USER not in log,
                 "desk2's greeter got none of seat1's keys and still prompts", log)
    checks.screendumps("greeter-after", quiet=True)
    r = checks.desktops.screen_check("gpu2", COLOURS["seat2"][1], "greeter-after")
    checks.check(r.returncode == 0, "gpu2 still shows seat2's greeter (%s)" % r.stdout.strip(),
                 r.stderr)


def accepted(checks, cage):
    """alice with her password: greetd opens her session on the host, whose command
    (seat-assign wait-session seat1) ends at once, no login session being recorded without
    the PAM module, and greetd starts the greeter again: a new cage in desk1, prompting,
    through greetd's socket bound there anew."""
    log = lambda: greeter_log(checks, "desk1")
    type_line(checks, USER)
    wait_for(lambda: log().count("Password:") >= 3, 30, 1)
    t = time.monotonic()
    type_line(checks, PASSWORD)
    opened = "pam_unix\\(greetd:session\\): session opened for user %s" % USER
    checks.check(wait_for(lambda: re.search(opened, read(checks.lab.path(
        "out", "syslog.log"))), 30), "alice's password: greetd opens her session (/%s/)"
        % opened, log() + read(checks.lab.path("out", "syslog.log"))[-2000:])
    greetd_log = lambda: read(checks.lab.path("out", "greetd-seat1.log"))
    checks.check(wait_for(lambda: "seat seat1 has no session" in greetd_log(), 30),
                 "its command, seat-assign wait-session seat1, finds no login session and "
                 "ends", greetd_log()[-2000:])
    back = wait_for(lambda: pids(checks)["cage-desk1"] not in (None, cage) and
                    "desk1 login:" in log() and "Login incorrect" not in log(), 90, 3)
    checks.check(back, "the greeter comes back on seat1, a new cage (%s, was %s), %.1fs after "
                 "the password" % (pids(checks)["cage-desk1"], cage, time.monotonic() - t),
                 log() + greetd_log()[-2000:])
    rc, out, err = checks.lab.agent.run("%s sessions" % checks.seat_assign)
    checks.check(rc == 0 and out.strip() == "no login sessions",
                 "seat-assign sessions: still none", out + err)


def stop(checks):
    """greetd stopped (SIGTERM): it ends its greeter, and the launcher the greeter's cage."""
    lab = checks.lab
    for c in CONTAINERS.values():
        checks.cexec(c, "cp %s /lab/out/ 2>/dev/null; true" % GREETER_LOG)
    lab.agent.run("kill $(cat /run/lab-greetd-seat1.pid /run/lab-greetd-seat2.pid "
                  "/run/lab-syslogd.pid) 2>/dev/null; true")
    gone = wait_for(lambda: not any(pids(checks).values()), 30, 2)
    checks.check(gone, "greetd stopped, both greeters end with it", pids(checks))
