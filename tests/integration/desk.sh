# Sourced by the integration tests that run desktop containers with a libseat client
# (after lib.sh, with $work set up): real unprivileged containers (container-run), each
# running the real libseat (Debian's, through its /run/seatd.sock) as a compositor does.
# The executable must be reachable by the containers' root (a shifted uid).
chmod 0711 "$work"
# The containers' libseat is the one the tests are built with (meson passes its version).
case ${LIBSEAT_VERSION:-0.7} in
0.[0-8] | 0.[0-8].*) protocol=legacy ;;
*) protocol=0.9 ;;
esac
echo "libseat ${LIBSEAT_VERSION:-?}: protocol $protocol"
register() { sa d --libseat-protocol "$protocol" register "$1" "$(pid_of "$1")" >/dev/null; }

# desk NAME [CLIENT OPTIONS]: a container whose init waits for its /run/seatd.sock and then
# is the libseat client, its output in $work/NAME.out; sets NAME_pid.
desk() {
	local name=$1
	shift
	"$CONTAINER_RUN" --cgroup "seatd-ns-test-$name-$$" --pid-file "$work/$name.pid" -- sh -c "
		while [ ! -S /run/seatd.sock ]; do sleep 0.02; done
		LIBSEAT_BACKEND=seatd exec $LIBSEAT_CLIENT --stay $* /dev/input/event1 /dev/dri/card0" \
		>"$work/$name.out" 2>&1 &
	pids+=($!)
	wait_until "container $name is up" test -s "$work/$name.pid"
	eval "${name}_pid=$(cat "$work/$name.pid")"
}
pid_of() { eval echo "\$${1}_pid"; }
root_of() { echo "/proc/$(pid_of "$1")/root"; }
# events NAME: its client's enable and disable lines, one word each, in order.
events() { grep -Ex 'enable|disable|disable ignored' "$work/$1.out" | tr ' ' _ | tr '\n' ' '; }
n_events() { grep -cEx "$2" "$work/$1.out" || true; }
has_events() { [ "$(n_events "$1" "$2")" -ge "$3" ]; }
