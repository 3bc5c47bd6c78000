# Shared by the integration tests: a scratch directory removed on exit, the recorded fixture
# unpacked into it, a daemon started and stopped, and checks that fail with a clear message.
# The tests run as root; meson passes the programs' paths in the environment:
# SEATD_NS, SEAT_ASSIGN, UEVENT_INJECT and SEATD_NS_FIXTURES.

set -euo pipefail

SKIP=77
pids=()
declare -A daemons=()

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root" >&2; exit $SKIP; }
}

need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || fail "$tool is missing (the check script installs it)"
	done
}

# Re-runs the calling script in network and mount namespaces of its own, so that injected
# events reach only the daemons of this test and mounts (a udev run directory) stay in it.
in_own_netns() {
	if [ -z "${SEATD_NS_TEST_NETNS:-}" ]; then
		rmdir "$work" # the run in the namespaces makes its own
		SEATD_NS_TEST_NETNS=1 exec unshare --net --mount --propagation private -- "$0" "$@"
	fi
}

cleanup() {
	local status=$?
	# Clients first, newest first, then the daemons, which must exit cleanly: a sanitizer
	# report (a leak, say) makes a daemon exit non-zero and fails the test.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	for name in "${!daemons[@]}"; do
		kill "${daemons[$name]}" 2>/dev/null || true
		if ! wait "${daemons[$name]}"; then
			echo "FAIL: seatd-ns $name did not exit cleanly" >&2
			[ $status -ne 0 ] || status=1
		fi
	done
	if [ $status -ne 0 ] && [ -d "${work:-}" ]; then
		for log in "$work"/*.log; do
			[ -f "$log" ] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
		done
	fi
	# Mounts a killed daemon left (its node tmpfs), deepest first.
	awk -v w="${work:-/nonexistent}/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m"; done
	[ -n "${work:-}" ] && rm -rf "$work"
	exit $status
}

work=$(mktemp -d "${TMPDIR:-/tmp}/seatd-ns-test.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT TERM

# unpack_fixture [NAME]: unpacks a recorded host (tests/fixtures/NAME.tgz, by default
# lab-2seat) into $work/fx-NAME; sets $sysfs (its sysfs root) and $uevents.
unpack_fixture() {
	local dir="$work/fx-${1:-lab-2seat}"
	mkdir -p "$dir"
	tar -xzf "$SEATD_NS_FIXTURES/${1:-lab-2seat}.tgz" -C "$dir"
	sysfs="$dir/sysfs/sys"
	uevents="$dir/uevents.bin"
}

# two_seat_config NAME: the fixture's two seats (each a GPU and a USB hub, for the
# containers desk1 and desk2) as the configuration of daemon NAME.
two_seat_config() {
	mkdir -p "$work/$1"
	cat >"$work/$1/seats.conf" <<'CONF'
[seat seat1]
container = desk1
match-port = pci-0000:00:07.0-usb-0:1
match-syspath = /sys/devices/pci0000:00/0000:00:05.0

[seat seat2]
container = desk2
match-port = pci-0000:00:07.0-usb-0:2
match-syspath = /sys/devices/pci0000:00/0000:00:06.0
CONF
}

# keyboard_gpu_config NAME: seat1 of the fixture with only its first keyboard and its GPU,
# as the configuration of daemon NAME (few device nodes: a handover stays cheap).
keyboard_gpu_config() {
	mkdir -p "$work/$1"
	cat >"$work/$1/seats.conf" <<'CONF'
[seat seat1]
match-port = pci-0000:00:07.0-usb-0:1.1
match-syspath = /sys/devices/pci0000:00/0000:00:05.0
CONF
}

# start_daemon NAME ARGS...: runs seatd-ns with its own run dir $work/NAME, logs to
# $work/NAME.log, and waits for its control socket at $work/NAME/control.sock.
start_daemon() {
	local name=$1
	shift
	mkdir -p "$work/$name"
	[ -f "$work/$name/seats.conf" ] || : >"$work/$name/seats.conf"
	"$SEATD_NS" --run-dir "$work/$name" --state-dir "$work/$name/state" \
		--config "$work/$name/seats.conf" "$@" >"$work/$name.log" 2>&1 &
	daemons[$name]=$!
	eval "${name}_pid=$!"
	local socket="$work/$name/control.sock"
	for _ in $(seq 100); do
		[ -S "$socket" ] && grep -q 'listening on' "$work/$name.log" && return 0
		kill -0 "$!" 2>/dev/null || fail "seatd-ns $name exited: $(cat "$work/$name.log")"
		sleep 0.1
	done
	fail "seatd-ns $name did not come up"
}

# sa NAME ARGS...: seat-assign against daemon NAME.
sa() {
	local name=$1
	shift
	"$SEAT_ASSIGN" --socket "$work/$name/control.sock" "$@"
}

# status_field NAME KEY: one counter of the daemon's status.
status_field() {
	sa "$1" --json status | jq -r ".$2"
}

# wait_until DESCRIPTION COMMAND...: retries COMMAND for up to 10 s.
wait_until() {
	local what=$1
	shift
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out waiting until $what"
}
