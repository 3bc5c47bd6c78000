"""A tone through PipeWire: desk2's PipeWire (with WirePlumber) lists seat2's USB card only, not
seat1's, and a tone played in desk2 comes out of seat2's card and not seat1's: each card plays
into a WAV file of its own on the host (qemu's wav audiodev), whose 1 kHz content is measured.
A second card plugged into seat2's hub appears in that PipeWire, and goes when unplugged."""

import array
import math
import struct

from lablib.topology import AUDIODEV_WAV

TONE_HZ = 1000
TONE_SECONDS = 2
# In desk2, where audio.sh keeps PipeWire's runtime directory (its sockets).
PW_ENV = "XDG_RUNTIME_DIR=/run/desktop-audio/runtime"
# A sine in a WAV file, made in the container with Python's wave module.
MAKE_TONE = ("import math, struct, wave; w = wave.open('/run/tone.wav', 'wb'); "
             "w.setnchannels(2); w.setsampwidth(2); w.setframerate(48000); "
             "w.writeframes(b''.join(struct.pack('<hh', v, v) for v in "
             "(int(12000 * math.sin(2 * math.pi * %d * i / 48000)) for i in range(48000 * %d))))"
             % (TONE_HZ, TONE_SECONDS))


def run(checks):
    desktops = checks.desktops
    if desktops.script("audio.sh") is None:
        print("  note  no guest/desktop/audio.sh: no tone played", flush=True)
        return
    print("== tone: PipeWire in desk2 plays on seat2's card only", flush=True)
    # PipeWire in place of the scenarios' sound server, which comes back afterwards.
    server = desktops.sound_start is not None
    if server:
        desktops.audio("stop")
    start = desktops.audio("start", server="pipewire")
    try:
        play(checks, start)
        hotplug(checks)
    finally:
        desktops.audio("stop", server="pipewire")
        if server:
            desktops.sound_start = desktops.audio("start")


def play(checks, start):
    checks.desktops.audio_check("start", "the 2.3 card", ["2.3"], start)
    rc, out, err = checks.cexec("desk2", "%s wpctl status" % PW_ENV)
    devices = section(out, "Audio", "Devices")
    checks.check(rc == 0 and len(devices) == 1 and "USB Audio" in devices[0],
                 "wpctl status in desk2 lists one audio device, seat2's USB card (seat1 has "
                 "one too)", out + err)
    rc, out, err = checks.cexec("desk2", "python3 -c %s && %s wpctl set-volume "
                                "@DEFAULT_AUDIO_SINK@ 1.0 && %s pw-play /run/tone.wav"
                                % (shell_word(MAKE_TONE), PW_ENV, PW_ENV), timeout=60)
    checks.check(rc == 0, "pw-play of a %d Hz tone in desk2" % TONE_HZ, out + err)
    seat2, seat1 = (tone_level(checks.lab.path(AUDIODEV_WAV[a])) for a in ("snd0", "snd1"))
    checks.lab.figures["tone_level_seat2"] = round(seat2, 3)
    checks.lab.figures["tone_level_seat1"] = round(seat1, 3)
    checks.check(seat2 > 0.02 and seat1 < seat2 / 100, "the tone is in seat2's card's "
                 "recording (%.4f of full scale at %d Hz) and not in seat1's (%.4f)"
                 % (seat2, TONE_HZ, seat1))


def hotplug(checks):
    """A USB card plugged into port 2.4 (seat2's hub) and unplugged: PipeWire and ALSA in desk2
    list it, then only seat2's first card again."""
    lab, desktops = checks.lab, checks.desktops
    lab.qmp.execute("device_add", bus="xhci.0", driver="usb-audio", id="audio2p", port="2.4",
                    audiodev="snd0")
    try:
        desktops.audio_check("wait", "the 2.3 card and the hotplugged 2.4 one", ["2.3", "2.4"],
                             desktops.audio("wait", ["2.3", "2.4"], server="pipewire"))
    finally:
        lab.qmp.execute("device_del", id="audio2p")
        _, e = lab.qmp.wait_event("DEVICE_DELETED",
                                  lambda e: e.get("data", {}).get("device") == "audio2p",
                                  timeout=30)
    checks.check(e is not None, "qemu reports the hotplugged card deleted")
    desktops.audio_check("wait", "the 2.3 card again: the unplugged one is gone", ["2.3"],
                         desktops.audio("wait", ["2.3"], server="pipewire"))


def section(status, group, name):
    """The entries of one part of `wpctl status` ("Audio", then "Devices"): its lines until
    the next part, without the tree drawing."""
    entries, in_group, in_part = [], False, False
    for line in status.splitlines():
        text = line.strip(" │├└─*\t")
        if line and not line[0].isspace() and line[0] not in "│├└":
            in_group, in_part = line.strip() == group, False
        elif in_group and text.endswith(":"):
            in_part = text[:-1] == name
        elif in_group and in_part and text:
            entries.append(text)
    return entries


def shell_word(text):
    return "'" + text.replace("'", "'\\''") + "'"


def tone_level(path):
    """The strongest amplitude of TONE_HZ in a tenth of a second of a WAV file's first channel
    (a fraction of full scale; 0 for no file), by a Goertzel filter. The file is read as qemu's
    wav audiodev writes it, a 44-byte header then 16-bit samples; while qemu runs, the header
    does not have the sizes yet."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0.0
    if len(data) < 44 or data[:4] != b"RIFF" or struct.unpack("<H", data[34:36])[0] != 16:
        return 0.0
    channels, rate = struct.unpack("<HI", data[22:28])
    samples = array.array("h", data[44:len(data) - (len(data) - 44) % 2])[::channels]
    window = rate // 10
    coeff = 2 * math.cos(2 * math.pi * TONE_HZ / rate)
    best = 0.0
    for start in range(0, len(samples) - window + 1, window):
        s1 = s2 = 0.0
        for x in samples[start:start + window]:
            s1, s2 = x + coeff * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        best = max(best, 2 * math.sqrt(max(power, 0.0)) / window / 32768)
    return best
