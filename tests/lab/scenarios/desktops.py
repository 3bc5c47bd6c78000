"""DRM and the desktops: screenshots of each GPU's display; a compositor (cage) through
libseat in each container, on its seat's GPU only (the screenshots show it); the sound server
in desk2 on the seat's USB audio card."""

import time

from lablib.topology import CONTAINERS, GPU_OF


def run(checks):
    print("== screendumps of each GPU's display", flush=True)
    checks.screendumps("boot")
    colours = compositors(checks)
    checks.screendumps("desktop")
    for seat, rgb in colours.items():
        shows(checks, seat, rgb)
    desktops = checks.desktops
    if desktops.script("audio.sh") is None:
        print("  note  no guest/desktop/audio.sh: no sound server started", flush=True)
        return
    print("== sound in desk2: a sound server on the seat's USB audio card", flush=True)
    desktops.start_sound_server()
    desktops.audio_check("start", "the 2.3 card", ["2.3"], desktops.sound_start)


def compositors(checks):
    """compositor.sh start in both containers at once: up, through libseat, on the seat's GPU.
    Returns each seat's colour (rgb) whose compositor came up."""
    desktops = checks.desktops
    if desktops.script("compositor.sh") is None:
        print("  note  no guest/desktop/compositor.sh: no compositors started", flush=True)
        return {}
    print("== desktops: a compositor through libseat in each container", flush=True)
    desktops.start_compositors()
    colours = {}
    for seat, c in CONTAINERS.items():
        up, card, status, text = desktops.starts[c]
        if checks.check(up, "a compositor through libseat is up in %s on %s's GPU %s (%ss)"
                        % (c, seat, card, status.get("seconds", "?")), text):
            colours[seat] = status.get("rgb")
    return colours


def shows(checks, seat, rgb):
    """The seat's GPU's screenshot shows its compositor's colour, the other GPU's does not."""
    gpu = GPU_OF[seat]
    other = [g for s, g in GPU_OF.items() if s != seat][0]
    # The banner may reach the display a moment after start returns.
    for _ in range(5):
        r = checks.desktops.screen_check(gpu, rgb)
        if r.returncode == 0:
            break
        time.sleep(2)
        checks.screendumps("desktop", quiet=True)
    checks.check(r.returncode == 0, "%s's screenshot shows %s's compositor (rgb %s: %s)"
                 % (gpu, CONTAINERS[seat], rgb, r.stdout.strip()), r.stderr)
    r = checks.desktops.screen_check(other, rgb)
    checks.check(r.returncode == 1, "%s's screenshot does not (%s): %s drew on its "
                 "own GPU only" % (other, r.stdout.strip(), CONTAINERS[seat]), r.stderr)
