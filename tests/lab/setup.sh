#!/bin/bash
# Sets up the seat lab on Debian 12 (as root): installs qemu, Debian's kernel, busybox-static
# and the tools the guest borrows from this machine (the guest shares /usr), then builds a small
# initramfs from busybox-static, the kernel modules that mount the shared filesystems, and
# tests/lab/initramfs-init. Idempotent: quick and quiet when everything is in place.
#
# Usage: setup.sh [CACHE_DIR [ENV_FILE]]
#   CACHE_DIR  where the initramfs is kept (default $SEATD_NS_LAB_CACHE, else
#              /var/tmp/seatd-ns-lab)
#   ENV_FILE   written with LAB_KVER, LAB_KERNEL and LAB_INITRD for tests/lab/run (default
#              CACHE_DIR/lab.env; lab-test.sh gives each run its own)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:-${SEATD_NS_LAB_CACHE:-/var/tmp/seatd-ns-lab}}
env_file=${2:-$cache/lab.env}

[ "$(id -u)" -eq 0 ] || { echo "lab setup: run as root" >&2; exit 1; }

# qemu-system-x86: the VM; linux-image-amd64: the guest's kernel and, through the shared /usr,
# its modules; busybox-static and cpio: the initramfs; udev and libinput-tools: run in the guest
# from the shared /usr; python3: the scenario driver; kmod: module dependencies; lxc: the
# guest's desktop containers; libseat1: the libseat client in them; alsa-utils: aplay -l in
# them; greetd: the login scenario's greeters (greetd on the guest, agreety in the containers).
packages=(
	qemu-system-x86 linux-image-amd64 busybox-static cpio kmod udev libinput-tools
	python3 coreutils util-linux gzip lxc libseat1 alsa-utils greetd
)
# What the scripts run in the containers need (a compositor, a sound server: guest/desktop/,
# when it is there), one package or more a line, "#" comments.
if [ -f "$here/guest/desktop/packages" ]; then
	mapfile -t extra < <(sed 's/#.*//' "$here/guest/desktop/packages" | tr -s ' \t' '\n' |
		sed '/^$/d')
	packages+=("${extra[@]}")
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "lab setup: installing ${missing[*]} (installing a kernel runs update-initramfs: minutes)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel version that linux-image-amd64 points to ("linux-image-6.1.0-56-amd64 (= ...)").
kpkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -n 1)
kver=${kpkg#linux-image-}
kernel=/boot/vmlinuz-$kver
[ -n "$kver" ] && [ -f "$kernel" ] && [ -d "/lib/modules/$kver" ] ||
	{ echo "lab setup: no kernel for linux-image-amd64 (package $kpkg, $kernel)" >&2; exit 1; }

# Modules the initramfs loads, with their dependencies, in load order (builtins print nothing
# to load). virtio_console carries the command channel.
modules=(virtio_pci 9pnet_virtio 9p overlay virtio_console)
mapfile -t kos < <(for m in "${modules[@]}"; do
	modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++')

# The initramfs is named after what goes into it, so that labs of different checkouts sharing
# the cache never use each other's.
inputs=$(
	echo "$kver"
	dpkg-query -W -f='${Version}\n' busybox-static
	for f in /bin/busybox "${kos[@]}" "$here/initramfs-init"; do
		sha256sum <"$f"
	done
)
hash=$(printf '%s\n' "$inputs" | sha256sum | cut -c1-12)
initrd=$cache/initramfs-$kver-$hash.cpio.gz
mkdir -p "$cache"
if [ ! -f "$initrd" ]; then
	echo "lab setup: building $initrd"
	tree=$(mktemp -d "$cache/initramfs.XXXXXX")
	trap 'rm -rf "$tree" "$tree.cpio.gz"' EXIT
	mkdir -p "$tree"/{bin,dev,proc,sys,newroot,modules}
	cp /bin/busybox "$tree/bin/busybox"
	ln -s busybox "$tree/bin/sh"
	: >"$tree/modules/order"
	for ko in "${kos[@]}"; do
		name=$(basename "$ko")
		case "$name" in
		*.ko.xz) xz -dc "$ko" >"$tree/modules/${name%.xz}"; name=${name%.xz} ;;
		*.ko.zst) zstd -qdc "$ko" >"$tree/modules/${name%.zst}"; name=${name%.zst} ;;
		*.ko.gz) gzip -dc "$ko" >"$tree/modules/${name%.gz}"; name=${name%.gz} ;;
		*) cp "$ko" "$tree/modules/$name" ;;
		esac
		echo "$name" >>"$tree/modules/order"
	done
	install -m 0755 "$here/initramfs-init" "$tree/init"
	# The console node, for the kernel to give init before devtmpfs is mounted.
	mknod -m 600 "$tree/dev/console" c 5 1
	(cd "$tree" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet -R 0:0) | gzip -1 >"$tree.cpio.gz"
	mv "$tree.cpio.gz" "$initrd"
fi

env_tmp=$(mktemp "$env_file.XXXXXX")
printf 'LAB_KVER=%s\nLAB_KERNEL=%s\nLAB_INITRD=%s\n' "$kver" "$kernel" "$initrd" >"$env_tmp"
chmod 644 "$env_tmp"
mv "$env_tmp" "$env_file"
