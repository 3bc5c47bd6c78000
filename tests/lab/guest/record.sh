#!/bin/bash
# Stage 2 of the seat lab guest when it records a fixture (tests/lab/record-fixture): PID 1,
# without udevd, so that the recording holds what the kernel alone emits. A recorder on the
# kernel's uevent group (uevent-record.py, to /lab/out/uevents.bin) starts before any seat
# driver is loaded; then the drivers are loaded one by one, as udev's coldplug would load
# them, and the guest says "ready" once the kernel has been quiet for a while. The host then
# drives the hotplug over QMP and takes the sysfs snapshot through the command agent.
#
# Progress and fatal errors go to the console (pid1.sh).
set -u
lab=$(dirname "$(readlink -f "$0")")
. "$lab/pid1.sh"

# The seat drivers, in the order they load: GPUs, the USB host and HID, evdev, sound (snd_aloop
# gives the host a sound card of no USB port). The rest of what the lab's hardware needs is
# built into Debian's kernel (i8042 and atkbd, the USB hub driver).
drivers="virtio_gpu xhci_pci usbhid hid_generic evdev snd_usb_audio snd_aloop"

mount_basics
mark stage2
start_agent "$lab"

python3 "$lab/uevent-record.py" $out/uevents.bin /run/uevent-record.ready 2>$out/record.err &
echo $! >/run/uevent-record.pid
for _ in $(seq 1 300); do
	[ -e /run/uevent-record.ready ] && break
	sleep 0.1
done
[ -e /run/uevent-record.ready ] || fail "the uevent recorder did not start: $(cat $out/record.err)"
mark recorder

for m in $drivers; do
	modprobe "$m" || fail "modprobe $m"
done
mark drivers-loaded

# USB enumeration goes on after the drivers are loaded: ready once no uevent came for 5 s.
"$lab/uevent-quiet.sh" 5 120 || fail "the kernel's uevents did not quiet down within 120 s"
mark ready

while :; do
	wait
	sleep 1
done
