#!/usr/bin/env bash
# A display server on this desktop container's seat that gets its devices from
# seatd-ns-logind (desktop/logind/) over D-Bus, unmodified: Xorg (modesetting and libinput),
# weston's logind launcher, mutter, or cage with libseat's logind backend. Run inside the container,
# as its root; the display server runs as the session's user, uid DESKTOP_UID, who is in no
# group of the seat's devices: it can only have them from the service.
#
#   logind-desktop.sh start xorg|weston|mutter|cage [--out DIR] [--timeout SECONDS]
#   logind-desktop.sh service [--out DIR]     the system bus and the service only
#   logind-desktop.sh user [--out DIR] COMMAND...   COMMAND as the user, in the session's
#                                             environment (DISPLAY or WAYLAND_DISPLAY)
#   logind-desktop.sh typed [--out DIR]       what weston's terminal received
#   logind-desktop.sh stop [--out DIR]
#
# start makes the user (DESKTOP_USER, default desk, uid DESKTOP_UID), the container's system
# bus (dbus-daemon with the service's policy), seatd-ns-logind for the user (session c1 on the
# endpoint's seat), then
# the display server, and returns once it is up: Xorg answers xdpyinfo and its root window is
# painted (xsetroot); weston, mutter or cage show weston-terminal with banner.sh's colour
# (mutter runs in the session's scope, session-c1.scope, where sd-login looks). It prints
# key=value lines (also in DIR/status): state, server, seat, gpu, rgb, pid, seconds.
# Exit status: 0 up; 1 it failed (its log's tail on stderr); 2 usage; 3 something missing;
# 124 not up within the timeout.
#
# DIR (default /run/logind-desktop) gets bus.log, logind.log (the service, at debug
# level), monitor.log (dbus-monitor of the session's signals and the controller's calls),
# server.pid, status, runtime/ (the user's XDG_RUNTIME_DIR, with server.log: Xorg's -logfile,
# weston's --log, cage's output).
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/session.sh"
usage() {
	echo "usage: logind-desktop.sh start xorg|weston|mutter|cage | service | user COMMAND... |" \
		"typed | stop [--out DIR] [--timeout SECONDS]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
action=$1
shift
server=
if [ "$action" = start ]; then
	[ $# -ge 1 ] || usage
	server=$1
	shift
	case $server in xorg | weston | mutter | cage) ;; *) usage ;; esac
fi
out=/run/logind-desktop
timeout=120
session_options "$@"
[ ${#args[@]} -eq 0 ] || [ "$action" = user ] || usage
uid=${DESKTOP_UID:-1000}
user=${DESKTOP_USER:-desk}
runtime=$out/runtime
logind=/lab/build/desktop/logind/seatd-ns-logind
bus_conf=/lab/src/tests/tools/system-bus.conf
bus=/run/dbus/system_bus_socket

fail() {
	local status=$1
	shift
	echo "logind-desktop: $*" >&2
	{ echo "state=failed"; echo "reason=$*"; } >"$out/status"
	exit "$status"
}

# as_user COMMAND...: the session's environment, the user's ids and no supplementary group.
# exec=exec: in place of this shell (its pid is then the command's).
as_user() {
	${exec:-} env -i PATH="$PATH" HOME="$runtime" USER=$user XDG_RUNTIME_DIR="$runtime" LANG=C.UTF-8 \
		DISPLAY=:0 WAYLAND_DISPLAY=wayland-0 XDG_CACHE_HOME="$runtime/cache" \
		FONTCONFIG_FILE="$runtime/fonts.conf" \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# The user, the bus and the service, each once.
service() {
	grep -q "^$user:" /etc/passwd ||
		echo "$user:x:$uid:$uid:$user:$runtime:/bin/sh" >>/etc/passwd
	grep -q "^$user:" /etc/group || echo "$user:x:$uid:" >>/etc/group
	mkdir -p "$runtime" /run/dbus /tmp/.X11-unix &&
		chown "$uid:$uid" "$runtime" && chmod 700 "$runtime" && chmod 1777 /tmp/.X11-unix ||
		fail 3 "cannot make $runtime"
	if [ ! -S "$bus" ]; then
		# Anyone may connect and call; only the service's policy lets root own login1.
		setsid dbus-daemon --config-file="$bus_conf" --nofork --nopidfile \
			>"$out/bus.log" 2>&1 </dev/null &
		echo $! >"$out/bus.pid"
	fi
	for _ in $(seq 1 100); do
		[ -S "$bus" ] && break
		sleep 0.1
	done
	[ -S "$bus" ] || fail 1 "dbus-daemon did not come up: $(tail -n 5 "$out/bus.log")"
	if ! kill -0 "$(cat "$out/logind.pid" 2>/dev/null)" 2>/dev/null; then
		[ -x "$logind" ] || fail 3 "no $logind"
		# What the display server and the service say to each other.
		setsid dbus-monitor --system "type='signal',interface='org.freedesktop.login1.Session'" \
			"type='method_call',interface='org.freedesktop.login1.Session'" \
			>"$out/monitor.log" 2>&1 </dev/null &
		echo $! >"$out/monitor.pid"
		setsid "$logind" --user "$user" --log-level debug >"$out/logind.log" 2>&1 </dev/null &
		echo $! >"$out/logind.pid"
	fi
	for _ in $(seq 1 100); do
		[ -f /run/systemd/sessions/c1 ] && return 0
		kill -0 "$(cat "$out/logind.pid")" 2>/dev/null || break
		sleep 0.1
	done
	fail 1 "seatd-ns-logind is not up: $(tail -n 5 "$out/logind.log")"
}

# mutter finds its session with sd-login, which reads it from the process's cgroup alone:
# the scope systemd-run --scope would make for session c1 of the user.
scope=/sys/fs/cgroup/user.slice/user-$uid.slice/session-c1.scope

stop() {
	stop_session "$out/server.pid"
	stop_session "$out/client.pid"
	for p in logind monitor bus; do
		stop_session "$out/$p.pid"
	done
	# What is left in the session's scope (its session bus) goes with it.
	if [ -d "$scope" ]; then
		echo 1 >"$scope/cgroup.kill"
		for _ in $(seq 1 20); do
			rmdir "$scope" "${scope%/*}" "${scope%/*/*}" 2>/dev/null && break
			sleep 0.1
		done
	fi
	true
}

xorg() {
	# No acceleration: glamor has no GL to use on virtio-gpu without virgl under TCG.
	cat >"$out/xorg.conf" <<-EOF
		Section "Device"
			Identifier "card"
			Driver "modesetting"
			Option "AccelMethod" "none"
		EndSection
	EOF
	# -seat: not seat0, so Xorg opens no VT and takes only the devices udev's database tags
	# with the seat; every device comes through logind (GetSessionByPID, TakeDevice).
	setsid setpriv --reuid="$uid" --regid="$uid" --clear-groups -- env -i PATH="$PATH" \
		HOME="$runtime" XDG_RUNTIME_DIR="$runtime" /usr/lib/xorg/Xorg :0 -seat "$seat" \
		-keeptty -novtswitch -nolisten tcp -noreset -config "$out/xorg.conf" \
		-logfile "$runtime/server.log" -verbose 3 >"$out/server.out" 2>&1 </dev/null &
	echo $! >"$out/server.pid"
	rgb=170,0,0
}

weston() {
	# kiosk-shell shows the terminal full screen, with the keyboard's focus.
	setsid env -i PATH="$PATH" HOME="$runtime" XDG_RUNTIME_DIR="$runtime" \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- weston \
		--backend=drm-backend.so --seat="$seat" --use-pixman --shell=kiosk-shell.so \
		--socket=wayland-0 --idle-time=0 --log="$runtime/server.log" \
		>"$out/server.out" 2>&1 </dev/null &
	echo $! >"$out/server.pid"
	rgb=0,170,170
	client_color=46
}

mutter() {
	mkdir -p "$scope" || fail 3 "cannot make $scope"
	# Its own session bus: mutter asks it for names it owns; it runs without GNOME's others.
	setsid sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$scope" env -i PATH="$PATH" \
		HOME="$runtime" XDG_RUNTIME_DIR="$runtime" LANG=C.UTF-8 XDG_SESSION_TYPE=wayland \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- dbus-run-session -- \
		mutter --wayland --display-server --no-x11 --wayland-display=wayland-0 \
		>"$runtime/server.log" 2>&1 </dev/null &
	echo $! >"$out/server.pid"
	rgb=0,170,0
	client_color=42
}

case $action in
stop)
	stop
	exit 0
	;;
typed)
	cat "$runtime/typed" 2>/dev/null
	exit 0
	;;
user)
	[ ${#args[@]} -ge 1 ] || usage
	exec=exec as_user "${args[@]}"
	;;
service | start) ;;
*) usage ;;
esac

mkdir -p "$out" || { echo "logind-desktop: cannot make $out" >&2; exit 3; }
service
[ "$action" = service ] && exit 0
stop_session "$out/server.pid"
stop_session "$out/client.pid"
rm -f "$runtime/banner.ready" "$runtime/typed" "$out/status" "$runtime/server.log"
gpu=
for node in /dev/dri/card*; do
	[ -c "$node" ] && gpu=$node && break
done
[ -n "$gpu" ] || fail 3 "no GPU in /dev/dri"
seat=$(sed -n 's/^SEAT=//p' /run/systemd/sessions/c1)
fonts_conf "$runtime"
start=$(date +%s.%N)
case $server in
xorg) xorg ;;
weston) weston ;;
mutter) mutter ;;
cage)
	# compositor.sh's cage, with libseat's logind backend instead of the endpoint: libseat
	# finds the session by XDG_SESSION_ID.
	DESKTOP_LIBSEAT_BACKEND=logind DESKTOP_COLOR=45 DESKTOP_GROUPS=none \
		"$here/compositor.sh" start --out "$out/cage" --timeout "$timeout" >"$out/cage.start" 2>&1
	status=$?
	cp "$out/cage/compositor.log" "$runtime/server.log" 2>/dev/null
	[ $status -eq 0 ] || fail 1 "cage: $(tail -n 3 "$out/cage.start")"
	cp "$out/cage/compositor.pid" "$out/server.pid"
	rgb=170,0,170
	;;
esac
pid=$(cat "$out/server.pid")

deadline=$(($(date +%s) + timeout))
client=
while :; do
	if ! kill -0 "$pid" 2>/dev/null; then
		rm -f "$out/server.pid"
		tail -n 20 "$runtime/server.log" "$out/server.out" >&2 2>/dev/null
		fail 1 "$server exited (log: $runtime/server.log)"
	fi
	case $server in
	xorg)
		as_user xdpyinfo >/dev/null 2>&1 &&
			as_user xsetroot -solid "rgb:aa/00/00" && break
		;;
	weston | mutter)
		if [ -z "$client" ] && [ -S "$runtime/wayland-0" ]; then
			setsid env DESKTOP_OUT="$runtime" DESKTOP_SEAT="$seat" DESKTOP_GPU="$gpu" \
				DESKTOP_COLOR=$client_color PATH="$PATH" HOME="$runtime" XDG_RUNTIME_DIR="$runtime" \
				WAYLAND_DISPLAY=wayland-0 LANG=C.UTF-8 XDG_CACHE_HOME="$runtime/cache" \
				FONTCONFIG_FILE="$runtime/fonts.conf" \
				setpriv --reuid="$uid" --regid="$uid" --clear-groups -- weston-terminal \
				--fullscreen --font="DejaVu Sans Mono" --font-size=24 \
				--shell="$here/banner.sh" >"$out/client.log" 2>&1 </dev/null &
			echo $! >"$out/client.pid"
			client=1
		fi
		[ -s "$runtime/banner.ready" ] && break
		;;
	cage) break ;;
	esac
	if [ "$(date +%s)" -ge $deadline ]; then
		tail -n 20 "$runtime/server.log" >&2 2>/dev/null
		echo "state=timeout" >"$out/status"
		echo "logind-desktop: $server not up within ${timeout}s (log: $runtime/server.log)" >&2
		exit 124
	fi
	sleep 0.5
done
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
{
	echo "state=up"
	echo "server=$server"
	echo "seat=$seat"
	echo "gpu=$gpu"
	echo "rgb=$rgb"
	echo "pid=$pid"
	echo "seconds=$seconds"
} | tee "$out/status"
