# Sourced by the integration tests whose desktop containers run the unmodified
# `udevadm monitor --udev` as their init (after lib.sh, with $work set up): what each heard is
# in $work/NAME.udev.

# container NAME [OPTIONS] [-- SETUP]: a container whose init runs SETUP, then udevadm
# monitor, its output in $work/NAME.udev; sets NAME_pid to the host pid of its init.
container() {
	local name=$1 setup=":"
	shift
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ $# -gt 1 ] && setup=$2
	"$CONTAINER_RUN" "${opts[@]}" --cgroup "seatd-ns-test-$name-$$" --pid-file "$work/$name.pid" \
		-- sh -c "$setup;
		mkdir -p /run/udev && : >/run/udev/control &&
		exec udevadm monitor --udev --property" >"$work/$name.udev" 2>&1 &
	pids+=($!)
	wait_until "container $name is up" test -s "$work/$name.pid"
	eval "${name}_pid=$(cat "$work/$name.pid")"
	wait_until "udevadm monitor runs in $name" grep -q "^UDEV - " "$work/$name.udev"
}

# heard NAME ACTION DEVPATH: whether NAME's monitor heard that event.
heard() { grep -q "^UDEV .* $2 *$3 " "$work/$1.udev"; }

# inside NAME COMMAND: runs a shell command in the container, in its cgroup (so that its
# device program decides what opens).
inside() {
	local pid cg
	pid=$(eval echo "\$${1}_pid")
	[ -n "$pid" ] || fail "inside: unknown container $1"
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	sh -c "echo \$\$ >$cg/cgroup.procs && exec nsenter -t $pid -U -m -n -p -- sh -c '$2'" 2>&1
}
