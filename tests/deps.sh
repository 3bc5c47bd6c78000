#!/bin/bash
# Installs what building and testing seatd-ns needs on Debian 12 (as root). Quiet when all
# is there already.
set -euo pipefail
packages=(
	gcc clang libclang-rt-14-dev meson ninja-build pkg-config
	libinih-dev libudev-dev libbpf-dev bpftool libseat-dev libsystemd-dev libdrm-dev
	udev jq python3 util-linux tar gzip lxc busybox-static dbus-daemon
	scdoc man-db
	libpam0g-dev lxc-dev pamtester rsync procps passwd
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
