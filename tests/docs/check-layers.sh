#!/bin/bash
# The daemon's layers stay as seatd-ns/README.md draws them:
# - a file of a layer includes the headers of its own layer and of the layers below it
#   (devices, seats, containers, endpoints, in that order), of common/, include/ and kernel/,
#   never one of a layer above (calls follow includes: -Werror refuses an undeclared one);
# - no C file of the daemon is much over 600 lines;
# - every file the architecture page names exists.
#
# Usage: check-layers.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check-layers.sh SOURCE_DIR}
daemon=$src/seatd-ns/daemon
layers=(devices seats containers endpoints)
max_lines=650
failed=0

fail() {
	echo "check-layers: $*" >&2
	failed=1
}

# The layer a header belongs to: its folder under daemon/, or "" for common/, include/,
# kernel/ and system headers.
layer_of_header() {
	local h=$1 l
	for l in "${layers[@]}"; do
		[ -f "$daemon/$l/$h" ] && { echo "$l"; return; }
	done
	[ -f "$daemon/$h" ] && { echo "main"; return; }
	echo ""
}

rank() {
	local i
	for i in "${!layers[@]}"; do
		[ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo 99 # main.c and service.c: above every layer
}

checked=0
for l in "${layers[@]}"; do
	[ -d "$daemon/$l" ] || { fail "no layer folder daemon/$l"; continue; }
	own=$(rank "$l")
	for f in "$daemon/$l"/*.[ch]; do
		while IFS= read -r h; do
			hl=$(layer_of_header "$h")
			[ -z "$hl" ] && continue
			if [ "$(rank "$hl")" -gt "$own" ]; then
				fail "${f#"$src"/} ($l) includes $h of the layer above ($hl)"
			fi
			checked=$((checked + 1))
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
done
# Nothing below main may include main's headers (service.h) either: that is covered above.

for f in "$daemon"/*.c "$daemon"/*/*.c; do
	n=$(wc -l < "$f")
	[ "$n" -le "$max_lines" ] || fail "${f#"$src"/} has $n lines (a file of one job is at most ~600)"
done

# Files the architecture page names, in `backquotes` with a known extension.
page=$src/seatd-ns/README.md
[ -f "$page" ] || fail "no architecture page seatd-ns/README.md"
if [ -f "$page" ]; then
	while IFS= read -r name; do
		found=$(find "$src/seatd-ns" "$src/desktop" "$src/config" -name "$(basename "$name")" \
			-path "*$name" 2>/dev/null | head -n 1)
		[ -n "$found" ] || fail "seatd-ns/README.md names $name, which is not there"
	done < <(grep -o '`[A-Za-z0-9_./-]*\.[ch]`' "$page" | tr -d '`' | sort -u)
fi

[ "$checked" -gt 0 ] || fail "no include of a layer header found: is $daemon the daemon?"
[ "$failed" -eq 0 ] && echo "check-layers: $checked layer includes point down; files under $max_lines lines; the page's files exist"
exit "$failed"
