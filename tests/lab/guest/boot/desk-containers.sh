#!/bin/bash
# The boot scenario's desktop containers (as root, in the guest, before lxc@NAME.service
# starts them): unprivileged LXC containers (ids shifted by 200000, no network) as a host
# would have them, systemd their init, including the seatd-ns include where `meson install`
# put it, and a unit that starts the seat's desktop (lab-desktop.service: cage, through
# ../desktop/compositor.sh). Their root is the lab's busybox one (../lxc-template) with the
# guest's /usr bound read-only; /lab/src and /lab/build are bound read-only, /lab/out is the
# run directory's out/NAME. LXC logs at debug level to /lab/out/lxc-NAME.log.
#
#   desk-containers.sh NAME...
# Env: BOOT_NO_INCLUDE: the names of those made without the seatd-ns include (the bad-input
# boot).
set -eu
export PATH=/usr/sbin:/usr/bin
here=$(dirname "$(readlink -f "$0")")
lxcpath=/var/lib/lxc
# The include where `meson install` put it: prefix /usr/local (meson's default) or /usr.
include=
for prefix in /usr/local /usr; do
	[ -f $prefix/share/seatd-ns/lxc/seatd-ns.conf ] && include=$prefix/share/seatd-ns/lxc/seatd-ns.conf
done
[ -n "$include" ] || { echo "desk-containers: seatd-ns.conf is not installed" >&2; exit 1; }

# The container's systemd: a plain multi-user boot with the desktop unit, and nothing that
# needs what a container lacks (udevd: seatd-ns keeps its /run/udev; logind: no D-Bus; gettys).
configure_systemd() {
	local etc=$1/etc/systemd/system u
	mkdir -p "$etc/multi-user.target.wants"
	# Not a first boot: systemd-firstboot would wait for answers on the console.
	tr -d - </proc/sys/kernel/random/uuid >"$1/etc/machine-id"
	ln -sf /usr/lib/systemd/system/multi-user.target "$etc/default.target"
	for u in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
		systemd-udev-trigger.service systemd-logind.service dbus.socket dbus.service \
		getty.target console-getty.service systemd-journald-audit.socket \
		systemd-firstboot.service; do
		ln -sf /dev/null "$etc/$u"
	done
	cp "$here/lab-desktop.service" "$etc/"
	ln -sf ../lab-desktop.service "$etc/multi-user.target.wants/lab-desktop.service"
}

create() {
	local name=$1 conf=$lxcpath/$name/config
	mkdir -p "$lxcpath" "/lab/out/$name"
	# The containers' root (uid 200000) must reach its rootfs and its output directory.
	chmod 711 "$lxcpath"
	chmod 1777 "/lab/out/$name"
	lxc-create -P "$lxcpath" -n "$name" -t "$here/../lxc-template" -f /run/lab-lxc-base.conf \
		>"/lab/out/lxc-create-$name.log" 2>&1
	configure_systemd "$lxcpath/$name/rootfs"
	cat >>"$conf" <<-EOF
		lxc.mount.entry = /lab/src lab/src none bind,ro 0 0
		lxc.mount.entry = /lab/build lab/build none bind,ro 0 0
		lxc.mount.entry = /lab/out/$name lab/out none bind 0 0
		lxc.include = /usr/share/lxc/config/common.conf
		lxc.init.cmd = /lib/systemd/systemd
		lxc.signal.halt = SIGRTMIN+3
		lxc.signal.reboot = SIGINT
		lxc.log.file = /lab/out/lxc-$name.log
		lxc.log.level = DEBUG
	EOF
	case " ${BOOT_NO_INCLUDE:-} " in
	*" $name "*) ;;
	*) echo "lxc.include = $include" >>"$conf" ;;
	esac
}

[ $# -ge 1 ] || { echo "usage: desk-containers.sh NAME..." >&2; exit 2; }
printf '%s\n' 'lxc.idmap = u 0 200000 65536' 'lxc.idmap = g 0 200000 65536' \
	'lxc.net.0.type = empty' >/run/lab-lxc-base.conf
# At once: lxc-create takes about 15 s under TCG, mostly waiting.
pids=()
for name in "$@"; do
	create "$name" &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid"
done
