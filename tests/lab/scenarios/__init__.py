"""The seat lab's scenarios, in the order a whole run takes them (one boot). Each is a module
with run(checks); a scenario that needs what an earlier one sets up (the devices at boot, the
containers' udev monitors, libinput, the desktops) asks the shared setup steps of
lablib.checks for it, so that it also runs alone. stop closes every run. EXTRA's scenarios
run only when named, each in a boot of its own (they need the containers as booted)."""

from . import coldplug, containers, desktops, hotplug, input, login, sound, stop, switch, tone, xorg

SCENARIOS = {
    "coldplug": coldplug,
    "containers": containers,
    "desktops": desktops,
    "tone": tone,
    "input": input,
    "hotplug": hotplug,
    "switch": switch,
    "sound": sound,
}
EXTRA = {
    "login": login,
    "xorg": xorg,
}
CLOSING = stop
