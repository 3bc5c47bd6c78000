#!/bin/sh
# Runs the delivery benchmark (tests/bench/README.md), as root.
#
#   tests/bench/delivery.sh [BUILD_DIR] [-- DELIVERY_ARGS...]
#
# With a meson build directory that has built tests/delivery and tests/container-run, runs
# those. Without one, builds both from this checkout with meson in a temporary directory
# (removed afterwards) and runs them. DELIVERY_ARGS go to the program: -n, -p, -a, -c, -t.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	build=$1
	shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

if [ "$(id -u)" -ne 0 ]; then
	echo "delivery.sh: needs root (namespaces, device nodes, mounts)" >&2
	exit 77
fi

if [ -n "$build" ]; then
	if [ ! -x "$build/tests/delivery" ] || [ ! -x "$build/tests/container-run" ]; then
		echo "delivery.sh: build tests/delivery and tests/container-run in $build first" \
			"(ninja -C $build tests/delivery tests/container-run)" >&2
		exit 1
	fi
	exec env CONTAINER_RUN="$build/tests/container-run" "$build/tests/delivery" "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seatd-ns-delivery.XXXXXX")
# The containers run the program as their root, an unprivileged host uid.
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
meson setup "$tmp/build" "$src" --buildtype=release >/dev/null
meson compile -C "$tmp/build" tests/delivery tests/container-run >/dev/null
CONTAINER_RUN="$tmp/build/tests/container-run" "$tmp/build/tests/delivery" "$@"
