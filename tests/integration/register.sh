#!/bin/bash
# Registration: the root daemon acts on whatever process a control client names, so it takes
# only a real container. Refused with a clear error, nothing given to it and the daemon going
# on: a host process; a process that shares the host's network namespace or is not the init
# of a PID namespace of its own; a container in the host's user namespace unless root asks
# with --privileged; a control-group member's request for a process whose user namespace
# another user made; a container without a cgroup of its own (no device program: nothing
# would ever be denied); a PID that names another process than the one the client saw (the
# container died and its PID was reused). A same-named container's stop hook does not drop
# the registered one (unregister NAME PID). 100 containers registering and dying leave the
# daemon's fd count as it was. The test runs in a PID namespace of its own, to reuse a PID
# on purpose, and with its own /dev and /run, which a wrongly registered host process would
# get written into.
. "$(dirname "$0")/lib.sh"
need_root
need jq bpftool setpriv unshare tar
if [ -z "${SEATD_NS_TEST_NETNS:-}" ]; then
	rmdir "$work" # the run in the namespaces makes its own
	SEATD_NS_TEST_NETNS=1 exec unshare --net --mount --pid --fork --mount-proc \
		--propagation private -- "$0" "$@"
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)

# The host's /dev and /run stay out of reach: this mount namespace gets tmpfs copies.
for dir in /dev /run; do
	mount -t tmpfs -o mode=755 tmpfs "$dir"
done
for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	IFS=: read -r node major minor <<<"$spec"
	mknod -m 666 "/dev/$node" c "$major" "$minor"
done
ln -s /proc/self/fd /dev/fd

unpack_fixture
two_seat_config d
printf '[daemon]\ncontrol-group = users\n' >>"$work/d/seats.conf"
start_daemon d --sysfs "$sysfs" --source kernel
chmod 0711 "$work" "$work/d"
id=${work##*.} # for the containers' cgroups
member() { setpriv --reuid=65533 --regid=100 --clear-groups -- "$SEAT_ASSIGN" --socket "$work/d/control.sock" "$@"; }

# A sleep that forks nothing: read from a fifo nobody writes.
mkfifo "$work/idle"
exec {idle}<>"$work/idle"
pause() { read -r -t "$1" -u "$idle" || true; }

# container NAME [OPTIONS]: a container-run container whose init sleeps; sets NAME_pid and
# NAME_runner (container-run's pid).
# This shell forks nothing else until it is up, so that the pids it takes are predictable.
container() {
	local name=$1 tries
	shift
	: >"$work/$name.pid"
	"$CONTAINER_RUN" "$@" --pid-file "$work/$name.pid" -- sleep infinity &
	pids+=($!)
	printf -v "${name}_runner" %s $!
	for ((tries = 0; tries < 200; tries++)); do
		[ -s "$work/$name.pid" ] && break
		pause 0.05
	done
	read -r "${name}_pid" <"$work/$name.pid" || fail "container $name did not come up"
}
# background [--forks] COMMAND...: runs it; sets bg_pid, with --forks to its child's pid
# (unshare --fork), once that runs sleep or init_sleep (in its namespaces).
background() {
	local forks=false
	[ "$1" = --forks ] && forks=true && shift
	"$@" &
	pids+=($!)
	bg_pid=$!
	if $forks; then
		wait_until "$1 forked" grep -q . "/proc/$bg_pid/task/$bg_pid/children"
		bg_pid=$(cat "/proc/$bg_pid/task/$bg_pid/children")
		bg_pid=${bg_pid% }
		pids+=("$bg_pid") # unshare ignores SIGTERM while its child runs: that goes first
	fi
	wait_until "$1 runs sleep" grep -qxE "sleep|sh" "/proc/$bg_pid/comm"
}
# A PID namespace's init that sleeps: SIGTERM reaches it only through a handler.
init_sleep=(sh -c 'trap exit TERM; sleep infinity & wait')
given_anything() { [ -n "$(ls -A "/proc/$1/root/dev/input" "/proc/$1/root/run/udev/data" 2>/dev/null)" ]; }
# refused WHY [seat-assign ARGS...]: the request fails and its error says WHY.
refused() {
	local why=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "accepted ($*): $out"
	fi
	grep -q "$why" <<<"$out" || fail "the refusal ($*) does not say \"$why\": $out"
}
registered() { grep -q "container $1 registered (pid $2)" "$work/d.log"; }
alive() { kill -0 "${daemons[d]}" && sa d status >/dev/null; }

# A host process: the daemon's own namespaces.
background sleep infinity
refused "shares the host's mount namespace" sa d register desk1 "$bg_pid"
given_anything "$bg_pid" && fail "the host's /dev or /run got seat devices"
# Own user and mount namespaces, but the host's network namespace: events meant for the
# container would reach the host's listeners.
background --forks unshare --user --map-root-user --mount --pid --fork "${init_sleep[@]}"
refused "shares the host's network namespace" sa d register desk1 "$bg_pid"
# Own namespaces but no PID namespace of its own: not a container's init.
background unshare --user --map-root-user --mount --net sleep infinity
refused "not the init of a PID namespace of its own" sa d register desk1 "$bg_pid"
# A user namespace made by another user than root or the member asking.
background --forks setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	unshare --user --map-root-user --mount --net --pid --fork "${init_sleep[@]}"
refused "its user namespace was made by another user" member register desk1 "$bg_pid"
alive || fail "the daemon does not answer after the refusals"

# No cgroup of its own: no device program can be attached, and nothing would be denied.
container nocg
refused "give it a cgroup of its own" sa d register desk1 "$nocg_pid"
given_anything "$nocg_pid" && fail "a container without a device program got devices"

# In the host's user namespace: only with root's explicit --privileged.
container priv --share-userns --cgroup "seatd-ns-test-priv-$id"
refused "host's user namespace" sa d register desk1 "$priv_pid"
refused "host's user namespace" member --privileged register desk1 "$priv_pid"
out=$(sa d --privileged register desk1 "$priv_pid") || fail "root's --privileged refused: $out"
grep -q "warning: its network namespace belongs to the host's user namespace" <<<"$out" ||
	fail "no warning for a privileged container: $out"
sa d unregister desk1 "$priv_pid" >/dev/null || fail "unregister the privileged container"

# A member registers a container root made; the same process under another name is refused.
container desk1 --cgroup "seatd-ns-test-desk1-$id"
member register desk1 "$desk1_pid" >/dev/null || fail "a member cannot register a container"
wait_until "desk1 gets seat1's keyboard" test -e "/proc/$desk1_pid/root/dev/input/event1"
refused "registered already" sa d register desk2 "$desk1_pid"

# Another container of the same name (another lxcpath) stops: its stop hook, as LXC runs
# it, passes its own pid and leaves the running desk1 alone.
hook() {
	env LXC_NAME=desk1 LXC_PID="$2" LXC_HOOK_TYPE="$1" SEAT_ASSIGN="$SEAT_ASSIGN" \
		SEATD_NS_SOCKET="$work/d/control.sock" "$repo/desktop/lxc/seatd-ns-hook" 2>&1
}
container other --cgroup "seatd-ns-test-other-$id"
refused "a container of that name is registered" hook start-host "$other_pid"
hook post-stop "$other_pid" >/dev/null
refused "registered with another process" sa d unregister desk1 "$other_pid"
[ -e "/proc/$desk1_pid/root/dev/input/event1" ] || fail "desk1 lost its devices to another's stop hook"
out=$(hook post-stop "$desk1_pid")
grep -q "desk1 unregistered" <<<"$out" || fail "desk1's own stop hook: $out"
# The start-host hook registers it again, bound to the process it saw.
out=$(hook start-host "$desk1_pid") || fail "start-host hook: $out"
registered desk1 "$desk1_pid" || fail "the hook did not register desk1"

# A PID reused after its container died: the client saw the old process (its start time),
# the PID now names another container's init, which must not be bound.
old=$other_pid
old_start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$old/stat")
kill -KILL "$old"
wait "$other_runner" || true # its pid and container-run's two are free once it exits
for _ in $(seq 20); do
	# container-run forks twice: its init is the third new pid.
	echo $((old - 3)) >/proc/sys/kernel/ns_last_pid
	container reused --cgroup "seatd-ns-test-reused-$id"
	[ "$reused_pid" = "$old" ] && break
	kill -KILL "$reused_pid"
	wait "$reused_runner" || true
done
[ "$reused_pid" = "$old" ] || fail "could not reuse pid $old"
refused "its pid is another process now" sa d --start-time "$old_start" register desk2 "$old"
given_anything "$old" && fail "the container at the reused pid got devices"
alive || fail "the daemon does not answer"

# Two containers in one cgroup: the second is refused (its device program would replace the
# first's there), and the first keeps its program.
container first --cgroup "seatd-ns-test-shared-$id"
container second --cgroup "seatd-ns-test-shared-$id"
sa d register first "$first_pid" >/dev/null || fail "register first"
shared_cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)$(sed -n 's/^0:://p' "/proc/$first_pid/cgroup")
programs_before=$(bpftool cgroup show "$shared_cg")
[ -n "$programs_before" ] || fail "first has no device program"
refused "its cgroup is another registered container's" sa d register second "$second_pid"
given_anything "$second_pid" && fail "the refused container got seat devices"
[ "$(bpftool cgroup show "$shared_cg")" = "$programs_before" ] ||
	fail "first's device program was replaced: $(bpftool cgroup show "$shared_cg")"
sa d unregister first >/dev/null || fail "unregister first"
kill "$first_runner" "$second_runner"
wait "$first_runner" "$second_runner" 2>/dev/null || true

# 100 containers register and die, ten at a time, all attached to seat2 (stress1 active,
# with its devices; the others on standby): the daemon holds no more fds after.
fds() { find "/proc/${daemons[d]}/fd" -mindepth 1 | wc -l; }
fds_before=$(fds)
for round in $(seq 10); do
	for i in $(seq 10); do
		container "s$i" --cgroup "seatd-ns-test-s$i-$id"
		sa d register "stress$i" "$(eval echo "\$s${i}_pid")" >/dev/null ||
			fail "round $round: register stress$i"
		[ "$round" -gt 1 ] || sa d attach seat2 "stress$i" >/dev/null || fail "attach stress$i"
	done
	[ "$round" -gt 1 ] || sa d switch seat2 stress1 >/dev/null || fail "switch seat2 to stress1"
	wait_until "stress1 has seat2's keyboard (round $round)" \
		test -e "/proc/$s1_pid/root/dev/input/event2"
	for i in $(seq 10); do
		kill -KILL "$(eval echo "\$s${i}_pid")"
	done
	for i in $(seq 10); do
		wait_until "stress$i exited (round $round)" \
			eval "[ \$(grep -c 'container stress$i exited' '$work/d.log') -ge $round ]"
	done
done
[ "$(fds)" -eq "$fds_before" ] || fail "the daemon holds $(fds) fds, $fds_before before"
alive || fail "the daemon does not answer after the stress"
echo "ok: only real containers are registered; unregister by pid; 100 containers, no fd leak"
