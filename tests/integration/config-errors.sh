#!/bin/bash
# Every broken configuration in broken-configs/ is refused by --check-config, which names the
# file and the line of the error; the shipped configurations pass.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
checked=0
for conf in "$here"/broken-configs/*.conf; do
	expect=$(sed -n '1s/^# expect: //p' "$conf")
	[ -n "$expect" ] || fail "$conf has no '# expect: LINE: MESSAGE' first line"
	line=${expect%%: *}
	message=${expect#*: }
	if out=$("$SEATD_NS" --check-config --config "$conf" 2>&1); then
		fail "$(basename "$conf") was accepted"
	fi
	grep -F -- "$conf:$line: " <<<"$out" | grep -qF -- "$message" ||
		fail "$(basename "$conf"): no '$conf:$line: ...$message' in: $out"
	checked=$((checked + 1))
done
for conf in "$top/config/seats.conf" "$top/config/examples/two-seat.conf"; do
	"$SEATD_NS" --check-config --config "$conf" >/dev/null || fail "$conf is refused"
done
echo "ok: $checked broken configurations refused with file and line; the shipped ones pass"
