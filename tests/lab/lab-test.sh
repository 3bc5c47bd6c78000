#!/bin/bash
# The seat lab test (as root): sets the lab up (tests/lab/setup.sh: idempotent, quick when
# done), boots the VM with the project's binaries from BUILD_DIR, runs the scenarios
# (tests/lab/run: all, or those named), prints the measured figures and each scenario's time,
# and exits 0 only if every assertion held.
# On failure the run directory (guest console, qemu, udevd, seatd-ns, LXC, monitor and
# libinput logs, screenshots, results.json) is kept and named; on success it is removed, unless
# LAB_KEEP=1. qemu is stopped either way.
#
# Usage: lab-test.sh [--demo | --boot [--bad-input]] [BUILD_DIR [SCENARIO...]]
#                   (default: the repository's build/, every scenario)
#   --demo   keep the run directory and print what each seat saw (run summary): the
#            demo, README command (1)
#   --boot   the boot scenario instead (boot_scenario.py): the installed tree, systemd as
#            PID 1, the containers started at boot, a reboot; with --bad-input, its boot
#            with a broken seats.conf and a container without the seatd-ns include
# Environment: SEATD_NS_LAB_CACHE  kernel/initramfs cache and run directories
#                                  (default /var/tmp/seatd-ns-lab)
#              LAB_KEEP=1          keep the run directory on success too
#              LAB_TIMEOUT         seconds for boot + scenarios (default 850, under meson's 900)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
demo=0
driver=("$here/run" --boot-timeout 240)
if [ "${1:-}" = --demo ]; then
	demo=1
	LAB_KEEP=1
	shift
elif [ "${1:-}" = --boot ]; then
	driver=("$here/boot_scenario.py")
	shift
	if [ "${1:-}" = --bad-input ]; then
		driver+=(--bad-input)
		shift
	fi
fi
build=${1:-$src/build}
shift || true
cache=${SEATD_NS_LAB_CACHE:-/var/tmp/seatd-ns-lab}
limit=${LAB_TIMEOUT:-850}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the seat lab needs root (qemu's 9p shares of /usr and /etc, packages)" >&2
	exit 77
fi
[ -d "$build" ] || { echo "FAIL: no build directory $build (meson setup build && ninja -C build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
for exe in seatd-ns/seatd-ns seatd-ns/seat-assign tests/libseat-client; do
	[ -x "$build/$exe" ] || { echo "FAIL: $build/$exe is missing (ninja -C $build)" >&2; exit 1; }
done

mkdir -p "$cache"
run=$(mktemp -d "$cache/run.XXXXXX")
lab_pid=

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ -n "$lab_pid" ] && kill -0 "$lab_pid" 2>/dev/null; then
		kill "$lab_pid" 2>/dev/null || true
		wait "$lab_pid" 2>/dev/null || true
	fi
	# qemu, if the driver could not stop it: only the one of this run (its pid file, and this
	# run directory on its command line).
	if [ -f "$run/qemu.pid" ]; then
		local qpid
		qpid=$(cat "$run/qemu.pid" 2>/dev/null || true)
		if [ -n "$qpid" ] && tr '\0' ' ' <"/proc/$qpid/cmdline" 2>/dev/null | grep -qF "$run/"; then
			kill "$qpid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				kill -0 "$qpid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$qpid" 2>/dev/null || true
		fi
	fi
	if [ "$status" -eq 0 ] && [ "${LAB_KEEP:-0}" != 1 ]; then
		rm -rf "$run"
	elif [ "$status" -eq 0 ]; then
		echo "lab: run directory kept: $run" >&2
	else
		for f in console.log out/udevd.log out/seatd-ns.log out/agent.log out/containers.err \
			qemu.log; do
			if [ -s "$run/$f" ]; then
				echo "--- $f (last lines)" >&2
				tail -n 25 "$run/$f" >&2
			fi
		done
		for f in "$run"/out/lxc-desk*.log; do
			if [ -s "$f" ] && grep -qE 'ERROR|seatd-ns-hook: ' "$f"; then
				echo "--- out/${f##*/} (errors and the hook)" >&2
				grep -E 'ERROR|seatd-ns-hook: ' "$f" | tail -n 10 >&2
			fi
		done
		echo "lab: FAILED; guest console, qemu, udevd, seatd-ns, LXC, monitor and libinput logs," \
			"screenshots and results.json are kept in $run" >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
if ! timeout 900 "$here/setup.sh" "$cache" "$run/lab.env"; then
	echo "FAIL: lab setup failed or took over 900s" >&2
	exit 1
fi
setup_s=$(($(date +%s) - start))

echo "lab: setup ${setup_s}s; build $build; run directory $run"
# drive SECONDS ARGS...: the driver, in the background so that a signal to this script
# reaches cleanup at once; sets status.
drive() {
	local seconds=$1
	shift
	timeout -k 10 "$seconds" /usr/bin/python3 "${driver[@]}" --run-dir "$run" --build "$build" \
		--cache "$cache" "$@" &
	lab_pid=$!
	set +e
	wait "$lab_pid"
	status=$?
	set -e
	lab_pid=
}
drive "$limit" "$@"
# A guest that did not come up at all gets one more boot, in the time left: under TCG its vCPUs
# are now and then starved at boot (soft lockups in the console). The first boot's files stay
# beside the run directory. A check that failed is never run again.
if [ "$status" = 2 ] && [ $((limit - ($(date +%s) - start))) -gt 300 ]; then
	echo "lab: the guest did not come up; one more boot (the first one's files: $run.boot1)" >&2
	mkdir "$run.boot1"
	mv "$run"/* "$run.boot1"/
	cp "$run.boot1/lab.env" "$run/"
	drive $((limit - ($(date +%s) - start))) "$@"
	[ "$status" != 0 ] || rm -rf "$run.boot1"
fi
if [ "$demo" = 1 ] && [ -f "$run/results.json" ]; then
	/usr/bin/python3 "$here/run" summary --run-dir "$run" || true
fi
case $status in
0) echo "lab: PASS (total $(($(date +%s) - start))s)" ;;
124 | 137) echo "lab: FAIL: the lab did not finish within ${limit}s" >&2 ;;
2) echo "lab: FAIL: the lab could not be brought up (see the logs below)" >&2 ;;
*) echo "lab: FAIL: assertions failed (listed above)" >&2 ;;
esac
exit $status
