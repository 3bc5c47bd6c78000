#!/bin/bash
# Stage 2 of the seat lab guest when it records a fixture (tests/lab/record-fixture): PID 1,
# without udevd, so that the recording holds what the kernel alone emits. A recorder on the
# kernel's uevent group (uevent-record.py, to /lab/out/uevents.bin) starts before any seat
# driver is loaded; then the drivers are loaded one by one, as udev's coldplug would load
# them, and the guest says "ready" once the kernel has been quiet for a while. The host then
# drives the hotplug over QMP and takes the sysfs snapshot through the command agent.
#
# Progress goes to the console as "LAB-MARK <step> <guest uptime>", a fatal error as
# "LAB-FAIL <reason>".
export PATH=/usr/sbin:/usr/bin
export LANG=C.UTF-8
set -u
lab=$(dirname "$(readlink -f "$0")")
out=/lab/out

# The seat drivers, in the order they load: GPUs, the USB host and HID, evdev, sound (snd_aloop
# gives the host a sound card of no USB port). The rest of what the lab's hardware needs is
# built into Debian's kernel (i8042 and atkbd, the USB hub driver).
drivers="virtio_gpu xhci_pci usbhid hid_generic evdev snd_usb_audio snd_aloop"

uptime_s() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "LAB-MARK $1 $(uptime_s)"; }
fail() {
	echo "LAB-FAIL $*"
	sync
	sleep 1
	echo o >/proc/sysrq-trigger
	poweroff -f
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs -o mode=0755 devtmpfs /dev || fail "mount /dev"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || fail "mount /run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "mount /tmp"
hostname seat-lab
mark stage2

(
	while :; do
		"$lab/agent.sh" lab.cmd 2>>$out/agent.log
		sleep 1
	done
) &

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
