#!/bin/bash
# run.sh FUZZER SECONDS [SEEDS]: runs a libFuzzer target briefly, seeded with the files in SEEDS
# or else with real messages from the recordings, and keeps nothing behind. A crash fails the
# test and prints the input that caused it. SEATD_NS_FUZZ_SECONDS overrides SECONDS: the long
# mode, minutes per target, for a run by hand (meson test's timeout wants --timeout-multiplier).
set -euo pipefail
fuzzer=$1
seconds=${SEATD_NS_FUZZ_SECONDS:-$2}
work=$(mktemp -d "${TMPDIR:-/tmp}/seatd-ns-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Targets that need files make them here.
export TMPDIR="$work"
mkdir "$work/corpus" "$work/artifacts"

# Seeds are copied: libFuzzer writes what it finds into its corpus directory.
if [ -n "${3:-}" ]; then
	cp "$3"/* "$work/corpus/"
else
	# every recorded kernel event, and udev and control messages made from them
	# (libFuzzer reads a corpus directory's subdirectories too).
	for fixture in "$SEATD_NS_FIXTURES"/*.tgz; do
		name=$(basename "$fixture" .tgz)
		mkdir "$work/corpus/$name"
		tar -xzf "$fixture" -C "$work" uevents.bin
		"$UEVENT_INJECT" split "$work/uevents.bin" "$work/corpus/$name" "$(basename "$fuzzer")"
	done
fi

if ! "$fuzzer" -max_total_time="$seconds" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" \
	>"$work/log" 2>&1; then
	tail -n 60 "$work/log"
	for crash in "$work"/artifacts/*; do
		[ -f "$crash" ] && { echo "--- input $crash:"; od -c "$crash" | head -40; }
	done
	exit 1
fi
grep -E '^stat::number_of_executed_units|^Done' "$work/log" || tail -n 3 "$work/log"
