"""Login at a seat: greetd on the guest host, one instance per seat, each greeter (cage, foot,
agreety) drawn by the seat's container through desktop/greeter/seatd-ns-greeter, and
pam_seatd_ns in greetd's PAM service. A wrong password and an unknown user typed on seat1 are
refused, no session starts, seat2's greeter is untouched. alice logs in on seat1 and bob on
seat2: each one's own container, cloned from the template on the first login, gets the seat
and shows the user's desktop (cage through seatd-ns-logind, in the user's colour); each one's
keys reach only their own desktop; loginctl in each container shows its user's session on
its seat. bob logs out: seat2 shows its greeter again and his container stops. alice logs in
on seat2 while logged in on seat1: her desktop moves there (follow me), seat1 gets its
greeter back. alice's container is killed: seat2 gets its greeter back.
Not in a whole run (`lab-test.sh BUILD login`, meson test lab-login): it needs the seats free
of the desktops scenario's compositors."""

import json
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
# The users, their passwords and the colour their desktop paints (user-desktop.sh).
USERS = {USER: (PASSWORD, "170,0,0"), "bob": ("builder", "0,170,170")}
TEMPLATE = "desktop-template"
SESSION_SH = guest_path("guest", "desktop", "session.sh")
# greetd's PAM service, every instance's: Debian's, and the module from the build directory.
PAM_LINE = ("session required /lab/build/desktop/pam/pam_seatd_ns.so template=%s "
            "desktop=%s after-logout=stop" % (TEMPLATE, guest_path("guest", "desktop",
                                                                    "user-desktop.sh")))
DESKTOP_TIMEOUT = 180


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
    logged_in(checks, "seat1", USER)
    logged_in(checks, "seat2", "bob")
    keys_apart(checks)
    logged_out(checks, "seat2", "bob")
    follow_me(checks, USER, "seat1", "seat2")
    killed(checks, "seat2", USER)
    stop(checks)


def prepare(checks):
    """The guest host's users alice and bob (with passwords), a syslog for PAM's messages,
    pam_seatd_ns in greetd's PAM service, the template of the users' containers, and in each
    seat's container a greeter user in the seat's device groups and the host's fontconfig
    setup, as a desktop container has them; no compositor holds the seats."""
    print("== greeters: greetd on each seat, drawn by the seat's container", flush=True)
    lab = checks.lab
    # Each step once, so that the scenario runs again against a running lab too.
    for user, (password, _) in USERS.items():
        lab.agent.check("id %s >/dev/null 2>&1 || useradd -m -s /bin/sh %s; echo %s:%s | "
                        "chpasswd" % (user, user, user, password))
    lab.agent.check("setsid busybox syslogd -n -O /lab/out/syslog.log </dev/null >/dev/null "
                    "2>&1 & echo $! >/run/lab-syslogd.pid; grep -q pam_seatd_ns "
                    "/etc/pam.d/greetd || echo '%s' >>/etc/pam.d/greetd" % PAM_LINE)
    # The template: a desktop container like the seats' own, whose init starts the logind
    # service for the owner of the home bound in (user-session.sh); the users' containers
    # from an earlier run against this lab go.
    rc, out, err = lab.agent.run(
        "for u in %s; do lxc-stop -n desktop-$u -k 2>/dev/null; lxc-destroy -n desktop-$u "
        "2>/dev/null; done; lxc-info -n %s >/dev/null 2>&1 || { %s create %s && "
        "cp -rT /etc/fonts /var/lib/lxc/%s/rootfs/etc/fonts && echo '%s >/run/user-session.log "
        "2>&1 &' >>/var/lib/lxc/%s/rootfs/etc/init.d/rcS; }"
        % (" ".join(USERS), TEMPLATE, guest_path("guest", "containers.sh"), TEMPLATE, TEMPLATE,
           guest_path("guest", "desktop", "user-session.sh"), TEMPLATE), timeout=120)
    checks.check(rc == 0, "the users' template container %s is made" % TEMPLATE, out + err)
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
        # SEAT_ASSIGN: for the include's hook, when the PAM module starts a user's container.
        checks.lab.agent.check("mkdir -p /etc/seatd-ns/greetd && cat >%s <<'EOF'\n%sEOF\n"
                               "cd /; SEATD_NS_SEAT=%s SEAT_ASSIGN=%s setsid greetd --config %s "
                               "</dev/null >/lab/out/greetd-%s.log 2>&1 & "
                               "echo $! >/run/lab-greetd-%s.pid"
                               % (path, config(seat), seat, checks.seat_assign, path, seat,
                                  seat))
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


def type_line(checks, text, seat="seat1"):
    for ch in text:
        checks.send_key(GPU_OF[seat], ch)
    checks.send_key(GPU_OF[seat], "ret")


def refused(checks, user, password, nth, syslog, what):
    """USER and PASSWORD typed on seat1's keyboard: agreety says "Login incorrect" (the nth
    time) and prompts again, PAM's log has the refusal, no login session starts and no
    container is made."""
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
    rc, out, err = checks.lab.agent.run("lxc-ls -1")
    checks.check(rc == 0 and "desktop-%s" % user not in out.split(),
                 "no container desktop-%s was made (lxc-ls: %s)" % (user, " ".join(out.split())),
                 err)


def seat2_untouched(checks):
    """Seat1's keys never reached desk2's greeter, which still prompts, still drawn."""
    log = greeter_log(checks, "desk2")
    checks.check("desk2 login:" in log and "Login incorrect" not in log and USER not in log,
                 "desk2's greeter got none of seat1's keys and still prompts", log)
    checks.screendumps("greeter-after", quiet=True)
    r = checks.desktops.screen_check("gpu2", COLOURS["seat2"][1], "greeter-after")
    checks.check(r.returncode == 0, "gpu2 still shows seat2's greeter (%s)" % r.stdout.strip(),
                 r.stderr)


def sessions(checks):
    """seat-assign sessions --json: {seat: its session}."""
    rc, out, err = checks.lab.agent.run("%s sessions --json" % checks.seat_assign)
    try:
        return {x["seat"]: x for x in json.loads(out)}
    except (ValueError, KeyError, TypeError):
        return {"error": out + err}


def shown(checks, seat, rgb, tag, timeout):
    """Polls screendumps until the seat's display shows colour rgb: (shown, screen-check's
    output)."""
    gpu = GPU_OF[seat]
    ok = wait_for(lambda: checks.screendumps(tag, quiet=True) or
                  checks.desktops.screen_check(gpu, rgb, tag).returncode == 0, timeout, 3)
    return ok, checks.desktops.screen_check(gpu, rgb, tag).stdout.strip()


def log_in(checks, seat, user):
    """USER and their password typed on SEAT's greeter; returns when the password was typed
    (monotonic)."""
    c = CONTAINERS[seat]
    log = lambda: greeter_log(checks, c)
    asked = log().count("Password:")
    type_line(checks, user, seat)
    checks.check(wait_for(lambda: log().count("Password:") > asked, 30, 1),
                 "%s typed on %s's keyboard: agreety in %s asks for a password" % (user, seat, c),
                 log())
    type_line(checks, USERS[user][0], seat)
    return time.monotonic()


def container_log(checks, user):
    mine = "desktop-" + user
    return (checks.cexec(mine, "cat /run/user-session.log /run/logind-desktop/logind.log "
                         "/run/user/*/cage.log 2>/dev/null | tail -n 40; true")[1] +
            read(checks.lab.path("out", "syslog.log"))[-2000:])


def logged_in(checks, seat, user):
    """USER logs in on SEAT: their own container (desktop-USER, cloned from the template)
    gets the seat and shows their desktop on the seat's display and not on the other;
    seat-assign sessions has the session, active, in that container; loginctl in the
    container shows the user's session on the seat, active."""
    mine, rgb = "desktop-" + user, USERS[user][1]
    t = log_in(checks, seat, user)
    up, how = shown(checks, seat, rgb, "%s-%s" % (user, seat), DESKTOP_TIMEOUT)
    seconds = round(time.monotonic() - t, 1)
    checks.check(up, "%s's password on %s: %s's desktop (%s) shows on %s, %ss after the "
                 "password (%s)" % (user, seat, mine, rgb, GPU_OF[seat], seconds, how),
                 container_log(checks, user))
    if up:
        checks.lab.figures["%s_password_to_desktop_s" % user] = seconds
    other = [s for s in GPU_OF if s != seat][0]
    r = checks.desktops.screen_check(GPU_OF[other], rgb, "%s-%s" % (user, seat))
    checks.check(r.returncode == 1, "%s does not (%s)" % (GPU_OF[other], r.stdout.strip()),
                 r.stderr)
    got = sessions(checks).get(seat, {})
    checks.check(got.get("user") == user and got.get("container") == mine and
                 got.get("state") == "active", "seat-assign sessions: %s on %s in %s, active"
                 % (user, seat, mine), got)
    # loginctl talks only to a system that looks booted by systemd (xorg.py's loginctl).
    rc, out, err = checks.cexec(mine, "mkdir -p /run/systemd/system; loginctl show-session "
                                "c1 -p Name -p Seat -p Active")
    checks.check(out.split() == ["Name=" + user, "Seat=" + seat, "Active=yes"],
                 "loginctl in %s: session c1 is %s's, on %s, active" % (mine, user, seat),
                 out + err)


def user_keyboards(checks, user):
    """The keyboard nodes the cage of USER's desktop holds open."""
    return checks.cexec("desktop-" + user, "bash -c '. %s; keyboards_held $(pidof cage)'"
                        % SESSION_SH)[1].split()


def save_logs(checks, user):
    """What the service, cage and user-session.sh in USER's container said, in
    out/desktop-USER.log."""
    out = checks.cexec("desktop-" + user, "for f in /run/user-session.log "
                       "/run/logind-desktop/*.log /run/user/*/cage.log; do echo \"== $f\"; "
                       "cat $f; done 2>/dev/null; true")[1]
    with open(checks.lab.path("out", "desktop-%s.log" % user), "w") as f:
        f.write(out)


def keys_apart(checks):
    """A key typed on each seat reaches the terminal of the desktop logged in there, and no
    other (what each banner.sh received), once its cage holds the seat's keyboard."""
    typed = {}
    for seat, key in (("seat1", "x"), ("seat2", "y")):
        user = sessions(checks).get(seat, {}).get("user")
        held = []
        wait_for(lambda: held.extend(user_keyboards(checks, user)) or held, 30, 1)
        checks.check(bool(held), "%s's cage holds a keyboard of %s open (%s)"
                     % (user, seat, " ".join(held) or "none"))
        checks.send_key(GPU_OF[seat], key)
        typed[user] = key
    for user, key in typed.items():
        save_logs(checks, user)
        got = lambda: checks.cexec("desktop-%s" % user, "cat /run/user/*/typed; true")[1]
        checks.check(wait_for(lambda: got() == key, 15, 1), "the key typed on %s's seat (%s) "
                     "reached %s's desktop, and no other key" % (user, key, user),
                     "typed: %r (out/desktop-%s.log)" % (got(), user))


def logged_out(checks, seat, user):
    """USER's desktop ends (cage exits, as a log out does): the session ends, the seat's
    greeter comes back on its display, and the user's container stops
    (after-logout=stop)."""
    mine, c = "desktop-" + user, CONTAINERS[seat]
    t = time.monotonic()
    checks.cexec(mine, "pkill -x cage; true")
    back, how = shown(checks, seat, COLOURS[seat][1], "%s-logged-out" % user, UP_TIMEOUT)
    checks.check(back and "%s login:" % c in greeter_log(checks, c),
                 "%s logs out on %s: the seat's greeter is back on %s, %.1fs after (%s)"
                 % (user, seat, GPU_OF[seat], time.monotonic() - t, how),
                 greeter_log(checks, c) + read(checks.lab.path("out", "greetd-%s.log" % seat)))
    checks.check(seat not in sessions(checks), "seat-assign sessions: none on %s" % seat,
                 sessions(checks))
    state = lambda: checks.lab.agent.run("lxc-info -n %s -s -H" % mine)[1].strip()
    checks.check(wait_for(lambda: state() == "STOPPED", 30, 1),
                 "%s is stopped (after-logout=stop)" % mine, state())


def killed(checks, seat, user):
    """USER's container killed during the session (lxc-stop -k): the session ends with it,
    the seat's greeter comes back on its display, the daemon keeps running."""
    mine, c = "desktop-" + user, CONTAINERS[seat]
    t = time.monotonic()
    rc, out, err = checks.lab.agent.run("lxc-stop -n %s -k" % mine, timeout=60)
    back, how = shown(checks, seat, COLOURS[seat][1], "%s-killed" % user, UP_TIMEOUT)
    checks.check(back and "%s login:" % c in greeter_log(checks, c),
                 "%s killed during %s's session: the seat's greeter is back on %s, %.1fs after "
                 "(%s)" % (mine, user, GPU_OF[seat], time.monotonic() - t, how),
                 out + err + greeter_log(checks, c) +
                 read(checks.lab.path("out", "greetd-%s.log" % seat)))
    checks.check(sessions(checks) == {}, "seat-assign sessions: none", sessions(checks))
    rc, out, err = checks.lab.agent.run("%s seats" % checks.seat_assign)
    checks.check(rc == 0 and "%s (" % seat in out and mine not in out,
                 "seatd-ns runs on, %s is no seat's" % mine, out + err)


def follow_me(checks, user, there, here):
    """USER, logged in on THERE, logs in on HERE: their running desktop moves (the same
    session and leader, user-desktop.sh, which starts cage again on HERE's GPU), HERE shows
    it, THERE gets its greeter back; one session, now on HERE."""
    mine, rgb = "desktop-" + user, USERS[user][1]
    leader = sessions(checks).get(there, {}).get("leader")
    t = log_in(checks, here, user)
    moved, how = shown(checks, here, rgb, "%s-moved" % user, DESKTOP_TIMEOUT)
    checks.check(moved, "%s logs in on %s while on %s: the desktop shows on %s, %.1fs after "
                 "the password (%s)" % (user, here, there, GPU_OF[here], time.monotonic() - t,
                                        how), container_log(checks, user))
    back, how = shown(checks, there, COLOURS[there][1], "%s-left" % user, UP_TIMEOUT)
    checks.check(back, "%s shows %s's greeter again (%s)" % (GPU_OF[there], there, how),
                 greeter_log(checks, CONTAINERS[there]))
    found = sessions(checks)
    now = found.get(here, {})
    checks.check(now.get("user") == user and now.get("leader") == leader and
                 there not in found, "seat-assign sessions: %s on %s only, the same "
                 "leader (%s)" % (user, here, leader), found)
    rc, out, err = checks.cexec(mine, "mkdir -p /run/systemd/system; loginctl show-session "
                                "c1 -p Seat -p Active")
    checks.check(out.split() == ["Seat=" + here, "Active=yes"],
                 "loginctl in %s: session c1 on %s, active" % (mine, here), out + err)


def stop(checks):
    """greetd stopped (SIGTERM): it ends its greeter, and the launcher the greeter's cage."""
    lab = checks.lab
    for c in CONTAINERS.values():
        checks.cexec(c, "cp %s /lab/out/ 2>/dev/null; true" % GREETER_LOG)
    lab.agent.run("kill $(cat /run/lab-greetd-seat1.pid /run/lab-greetd-seat2.pid "
                  "/run/lab-syslogd.pid) 2>/dev/null; true")
    gone = wait_for(lambda: not any(pids(checks).values()), 30, 2)
    checks.check(gone, "greetd stopped, both greeters end with it", pids(checks))
