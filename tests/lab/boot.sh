#!/bin/bash
# Boots the seat lab and keeps it up until Ctrl-C (as root), for working in it by hand:
#   tests/lab/boot.sh [BUILD_DIR]
# It prints the run directory; from another terminal:
#   tests/lab/run exec --run-dir RUN -- seat-assign devices
#   tests/lab/run --running --run-dir RUN [SCENARIO...]
# The run directory is removed when the lab stops, unless LAB_KEEP=1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../../build}
cache=${SEATD_NS_LAB_CACHE:-/var/tmp/seatd-ns-lab}
[ "$(id -u)" -eq 0 ] || { echo "boot: run as root" >&2; exit 1; }
mkdir -p "$cache"
run=$(mktemp -d "$cache/run.XXXXXX")
trap '[ "${LAB_KEEP:-0}" = 1 ] && echo "run directory kept: $run" || rm -rf "$run"' EXIT
"$here/setup.sh" "$cache" "$run/lab.env"
status=0
/usr/bin/python3 "$here/run" boot --run-dir "$run" --build "$build" --cache "$cache" || status=$?
exit $status
