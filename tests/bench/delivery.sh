#!/bin/sh
# Runs the delivery benchmark (tests/bench/README.md), as root.
#
#   tests/bench/delivery.sh [BUILD_DIR] [-- DELIVERY_ARGS...]
#
# With a meson build directory that has built tests/delivery and tests/container-run, runs
# those. Without one, compiles both from this checkout with gcc into a temporary directory
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
cflags="-std=gnu11 -O2 -Wall -Wextra -Wpedantic -Werror -Wno-unused-parameter -D_GNU_SOURCE"
s=$src/seatd-ns
# shellcheck disable=SC2086
gcc $cflags -I "$s/include" -o "$tmp/delivery" "$src/tests/bench/delivery.c" \
	"$s"/daemon/container.c "$s"/daemon/container_fs.c "$s"/daemon/forward.c \
	"$s"/daemon/nodes.c "$s"/daemon/device.c "$s"/daemon/devtable.c \
	"$s"/daemon/event_source.c "$s"/daemon/input_class.c "$s"/daemon/path_id.c \
	"$s"/common/udev_message.c "$s"/common/uevent.c "$s"/common/hashmap.c \
	"$s"/common/log.c "$s"/common/sysfs.c -ludev
# shellcheck disable=SC2086
gcc $cflags -o "$tmp/container-run" "$src/tests/tools/container-run.c"
CONTAINER_RUN="$tmp/container-run" "$tmp/delivery" "$@"
