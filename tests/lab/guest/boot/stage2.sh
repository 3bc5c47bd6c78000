#!/bin/bash
# Stage 2 of the lab's boot scenario (tests/lab/boot_scenario.py): PID 1 after switch_root,
# for a moment. Makes the guest a host with seatd-ns installed the way a distribution
# installs it, then hands over to systemd, which boots it as any host boots.
#
# - /usr: a writable overlay on the shared read-only /usr (tmpfs upper layer), so that the
#   tree `meson install` staged in /lab/out/root lands in /usr and /etc as a package's would;
# - /etc/seatd-ns/seats.conf: the lab's two seats (../seats.conf), or a broken one;
# - /var/lib/seatd-ns: /lab/out/state, on the host, so that it outlives the guest (a reboot
#   is a second boot of the same run directory: the guest's root is a tmpfs);
# - systemd's configuration: the host's enabled units hidden, seatd-ns.service enabled, the
#   lab's command agent (../agent.sh) and the two desktop containers (desk-containers.sh,
#   lxc@NAME.service) enabled, a machine id, a quiet console.
#
# /lab/out/boot.env (written by the host before each boot) may set:
#   BOOT_CONFIG      lab (default) or broken: a seats.conf with an error on its line 3
#   BOOT_CONTAINERS  the containers to make and start (default "desk1 desk2")
#   BOOT_NO_INCLUDE  containers made without the seatd-ns include
#   BOOT_SEAT        NAME=SEAT pairs: containers whose own configuration names their seat
set -u
lab=$(dirname "$(dirname "$(readlink -f "$0")")")
boot=$lab/boot
. "$lab/pid1.sh"
BOOT_CONFIG=lab
BOOT_CONTAINERS="desk1 desk2"
BOOT_NO_INCLUDE=
BOOT_SEAT=
[ -f $out/boot.env ] && . $out/boot.env

mount -t proc proc /proc || fail "mount /proc"
mark stage2

# /usr writable: the 9p share becomes the lower layer of an overlay on the root's tmpfs.
mkdir -p /lab/usr.lower /lab/usr.upper /lab/usr.work
mount --bind /usr /lab/usr.lower || fail "bind /usr"
mount -t overlay overlay \
	-o lowerdir=/lab/usr.lower,upperdir=/lab/usr.upper,workdir=/lab/usr.work /usr ||
	fail "mount the /usr overlay"
[ -d $out/root ] || fail "no installed tree in /lab/out/root"
# tar, not cp: the tree has lib/ (the PAM module, where libpam looks), which is a symbolic
# link to usr/lib on the root.
tar -C $out/root -cf - . | tar -C / -xf - --keep-directory-symlink ||
	fail "copy the installed tree"
[ -f /usr/local/lib/systemd/system/seatd-ns.service ] || [ -f /usr/lib/systemd/system/seatd-ns.service ] ||
	fail "the installed tree has no seatd-ns.service"

case $BOOT_CONFIG in
lab) cp "$lab/seats.conf" /etc/seatd-ns/seats.conf ;;
broken) printf '[seat seat1]\ncontainer = desk1\nmatch-syspth = /sys/devices/pci0000:00/0000:00:05.0\n' \
	>/etc/seatd-ns/seats.conf ;;
*) fail "unknown BOOT_CONFIG $BOOT_CONFIG" ;;
esac

mkdir -p $out/state /var/lib/seatd-ns
mount --bind $out/state /var/lib/seatd-ns || fail "bind the state directory"

# The host's /etc is the lower layer of /etc: what the host enables (its services, timers)
# is hidden, this guest enables its own; the host's fstab names the host's disks.
rm -rf /etc/systemd/system/*.wants
: >/etc/fstab
echo seat-lab >/etc/hostname
tr -d - </proc/sys/kernel/random/uuid >/etc/machine-id
# No bridge for the containers: they have no network (lxc.net.0.type = empty).
echo 'USE_LXC_BRIDGE="false"' >/etc/default/lxc-net
# No getty on the console, which the host reads.
ln -sf /dev/null /etc/systemd/system/getty.target
mkdir -p /etc/systemd/system.conf.d /etc/systemd/system/multi-user.target.wants
printf '[Manager]\nShowStatus=no\nDefaultTimeoutStartSec=300\n' >/etc/systemd/system.conf.d/lab.conf
cp "$boot/lab-agent.service" "$boot/lab-containers.service" /etc/systemd/system/
systemctl enable seatd-ns.service lab-agent.service lab-containers.service >/dev/null 2>$out/enable.err ||
	fail "systemctl enable: $(cat $out/enable.err)"
printf 'BOOT_CONTAINERS="%s"\nBOOT_NO_INCLUDE="%s"\n' "$BOOT_CONTAINERS" "$BOOT_NO_INCLUDE" \
	>/etc/lab-containers.env
# A container whose own configuration names its seat: seatd-ns-hook --seat, given as
# SEATD_NS_SEAT in the environment of its lxc@ unit, which lxc-start passes to its hooks.
for pair in $BOOT_SEAT; do
	mkdir -p "/etc/systemd/system/lxc@${pair%%=*}.service.d"
	printf '[Service]\nEnvironment=SEATD_NS_SEAT=%s\n' "${pair#*=}" \
		>"/etc/systemd/system/lxc@${pair%%=*}.service.d/seat.conf"
done
for c in $BOOT_CONTAINERS; do
	systemctl enable "lxc@$c.service" >/dev/null 2>>$out/enable.err ||
		fail "systemctl enable lxc@$c: $(cat $out/enable.err)"
done

mark systemd
umount /proc
exec /lib/systemd/systemd --show-status=false
