#!/bin/bash
# Cross-checks seatd-ns's input_id and path_id (print_classes, the program given as $1) with
# the real udev's: udevadm test-builtin, in a mount namespace with a sysfs tree bind-mounted
# over /sys. Trees: the recorded fixtures (every device in them), and one made here with the
# devices that the unit tests make up (tests/unit/test_input_class.c, test_path_id.c). The
# ID_PATHs in each fixture's FIXTURE.devices.tsv are checked against udev too.
#
# systemd 252's sd-device refuses a syspath that is not on a sysfs mount ("is outside of
# sysfs, refusing") unless SYSTEMD_DEVICE_VERIFY_SYSFS=0, so that is set for udevadm.
. "$(dirname "$0")/lib.sh"

print_classes=${1:?usage: udev-builtins.sh PRINT_CLASSES}
command -v udevadm >/dev/null || { echo "SKIP: udevadm is missing" >&2; exit "$SKIP"; }
[ "$(id -u)" -eq 0 ] || fail "needs root, for unshare --mount and mount --bind"
need unshare mount tar
fixtures=(lab-2seat lab-3seat)
for fixture in "${fixtures[@]}"; do
	unpack_fixture "$fixture"
done

made="$work/made/sys"

# make_device DEVPATH [SUBSYSTEM]: a device of the made tree; only the link's name counts.
make_device() {
	mkdir -p "$made$1"
	: >"$made$1/uevent"
	[ -z "${2:-}" ] || ln -s "../../bus/$2" "$made$1/subsystem"
}

# The made-up input devices of test_input_class.c: bus type|ev|key|rel|abs|properties.
n=100
while IFS='|' read -r bus ev key rel abs prop; do
	d=/devices/virtual/input/input$n
	make_device "$d" input
	mkdir -p "$made$d/capabilities" "$made$d/id"
	echo "$ev" >"$made$d/capabilities/ev"
	echo "$key" >"$made$d/capabilities/key"
	echo "$rel" >"$made$d/capabilities/rel"
	echo "$abs" >"$made$d/capabilities/abs"
	echo "$prop" >"$made$d/properties"
	printf '%04x\n' "0x$bus" >"$made$d/id/bustype"
	n=$((n + 1))
done <<'EOF'
19|21|0|0|0|0
19|3|10000000000000 0|0|0|0
19|33|18840000 2 10010000000000 0 1101b00002005 1004000 e000000000000 0|0|0|0
10|40001|0|0|0|0
3|17|70000 0 0 0 0|103|0|0
11|7|70000 0 0 0 0|3|0|0
11|7|70000 0 0 0 0|3|0|21
11|b|e520 10000 0 0 0 0|0|660800011000003|15
1|b|400 0 0 0 0 0|0|661800000000003|2
13|b|400 0 0 0 0 0|0|3|0
3|1f|1cdf 1f01ff 0 0 0 0|100|1000f000147|1
3|b|800 1ff 0 0 0 0|0|10000000103|0
3|b|7fdb000000000000 0 0 0 0|0|3003f|0
3|19|0|0|3f|40
3|19|0|0|3f|0
3|9|0|0|3|0
3|5|0|100|0|0
18|17|1f0000 0 0 0 0|903|0|0
18|1f|70000 0 0 0 0|900|3|0
3|3|f00000000 0 0 0 0 0 0 0 0|0|0|0
3|3|f 0 0 0 0 0 0 0 0 0 0 0|0|0|0
3|9|0|0|c0|0
3|3|100000000 0 0 0 0|0|0|0
3|120013|fff00000000 1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe|0|0|0
3|7|fffff0000 0 0 0 0|103|0|0
18|b|400 0 0 0 0 0|0|60000000000000|0
18|b|20 0 0 0 0 0|0|60000000000000|0
18|b|1 0 0 0 0 0|0|60000000000000|0
3|b|400 10000 0 0 0 0|0|ffffffffffffffff|0
3|3|7bba0 c002|0|0|0
3|3|1 0 0 100000000 0 0 0 0 0|0|0|0
EOF

# The buses of test_path_id.c's made tree: devpath and subsystem (- for a device without).
while read -r devpath subsystem; do
	[ "$subsystem" = - ] && subsystem=
	make_device "$devpath" "$subsystem"
done <<'EOF'
/devices/LNXSYSTM:00 acpi
/devices/LNXSYSTM:00/LNXPWRBN:00 acpi
/devices/LNXSYSTM:00/LNXPWRBN:00/input/input3 input
/devices/LNXSYSTM:00/LNXPWRBN:00/input/input3/event3 input
/devices/vkbd-0 xen
/devices/vkbd-0/input/input1 input
/devices/vkbd-0/input/input1/event1 input
/devices/platform -
/devices/platform/soc platform
/devices/platform/soc/fe204000.spi platform
/devices/platform/soc/fe204000.spi/spi_master/spi0 spi_master
/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.1 spi
/devices/platform/soc/fe204000.spi/spi_master/spi0/spi0.1/input/input4 input
/devices/platform/soc/fe204000.spi/spi_master/spi0/spi-keys spi
/devices/platform/soc/fe204000.spi/spi_master/spi0/spi-keys/input/input8 input
/devices/pci0000:00 -
/devices/pci0000:00/0000:00:03.0 pci
/devices/pci0000:00/0000:00:03.0/virtio0 virtio
/devices/pci0000:00/0000:00:03.0/virtio0/input/input5 input
/devices/pci0000:00/0000:00:15.1 pci
/devices/pci0000:00/0000:00:15.1/i2c_designware.1 platform
/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2 i2c
/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00 i2c
/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00/0018:04F3:3147.0001 hid
/devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0001:00/0018:04F3:3147.0001/input/input20 input
/devices/pnp0 -
/devices/pnp0/00:01 pnp
/devices/pnp0/00:01/rtc/rtc0 rtc
/devices/platform/a!b platform
/devices/platform/a!b/sound/card3 sound
/devices/platform/i8042 platform
/devices/platform/i8042/serio5 -
/devices/platform/i8042/serio5/input/input7 input
EOF

# Every device of a tree: each directory with a uevent file.
list_devices() {
	find "$1/devices" -name uevent -printf '%h\n' | sed "s|^$1||" | sort
}

# udev_side ROOT LIST: one line per device, "devpath<TAB>properties", from the real udev.
udev_side() {
	unshare --mount -- bash -euo pipefail -c '
		mount --bind "$1" /sys
		export SYSTEMD_DEVICE_VERIFY_SYSFS=0
		while read -r devpath; do
			: >"$3.out"
			for builtin in input_id path_id; do
				# Non-zero also when path_id finds no ID_PATH: only the log tells.
				udevadm test-builtin "$builtin" "/sys$devpath" \
					>>"$3.out" 2>"$3.err" || true
				if grep -q "Failed to open device" "$3.err"; then
					cat "$3.err" >&2
					exit 1
				fi
			done
			props=$(grep -E "^(ID_INPUT[A-Z_]*|ID_PATH)=" "$3.out" | grep -v "_MM=" |
				sort | paste -sd " ") || true
			printf "%s\t%s\n" "$devpath" "$props"
		done <"$2"
	' udev_side "$1" "$2" "$work/udevadm"
}

# ours_side ROOT LIST: the same from print_classes.
ours_side() {
	while read -r devpath; do
		props=$("$print_classes" "$1" "$devpath" | sort | paste -sd " ") ||
			props="print_classes failed"
		printf '%s\t%s\n' "$devpath" "$props"
	done <"$2"
}

mismatches=0
compared=0
for tree in "${fixtures[@]}" made; do
	case $tree in
	made) root=$made ;;
	*) root="$work/fx-$tree/sysfs/sys" ;;
	esac
	list_devices "$root" >"$work/$tree.list"
	[ -s "$work/$tree.list" ] || fail "no devices in the $tree tree"
	udev_side "$root" "$work/$tree.list" >"$work/$tree.udev" || fail "udevadm failed on $tree"
	ours_side "$root" "$work/$tree.list" >"$work/$tree.ours"
	while IFS=$'\t' read -r devpath udev && IFS=$'\t' read -r _ ours <&3; do
		compared=$((compared + 1))
		if [ "$udev" != "$ours" ]; then
			echo "MISMATCH ($tree) $devpath" >&2
			echo "  udev:     ${udev:-(nothing)}" >&2
			echo "  seatd-ns: ${ours:-(nothing)}" >&2
			mismatches=$((mismatches + 1))
		fi
	done <"$work/$tree.udev" 3<"$work/$tree.ours"
done

# FIXTURE.devices.tsv: syspath, kind, devnum, devnode, id_path (- for none), seat.
for fixture in "${fixtures[@]}"; do
	while IFS=$'\t' read -r syspath _ _ _ id_path _; do
		[[ -z $syspath || $syspath == \#* ]] && continue
		[ "$id_path" = - ] && want="" || want="ID_PATH=$id_path"
		udev=$(awk -F'\t' -v d="${syspath#/sys}" '$1 == d { print $2 }' "$work/$fixture.udev")
		got=$(grep -o 'ID_PATH=[^ ]*' <<<"$udev" || true)
		if [ "$got" != "$want" ]; then
			echo "MISMATCH ($fixture.devices.tsv) $syspath" >&2
			echo "  udev: ${got:-(nothing)}, tsv: $id_path" >&2
			mismatches=$((mismatches + 1))
		fi
		compared=$((compared + 1))
	done <"$(dirname "$0")/$fixture.devices.tsv"
done

echo "udev-builtins: $compared compared, $mismatches mismatches"
[ "$mismatches" -eq 0 ] || fail "seatd-ns and udev disagree"
