#!/usr/bin/env bash
# A Wayland compositor on this desktop container's seat, started through libseat against the
# seatd-ns endpoint: cage (wlroots, DRM backend, pixman renderer) showing weston-terminal full
# screen, in which banner.sh paints the seat's colour and names the seat, container and GPU.
# Run inside the container, as its root (cage itself runs as DESKTOP_UID: it refuses root).
#
#   compositor.sh start [--out DIR] [--timeout SECONDS]
#   compositor.sh stop [--out DIR]
#   compositor.sh typed [--out DIR]
#   compositor.sh keyboards [--out DIR]
#
# start returns once the compositor is up: its Wayland socket exists, it announces an output
# (wl_output with a current mode, asked with weston-info) and the client has drawn. It prints
# key=value lines (also in DIR/status): state, seat, gpu, color (the background's name and
# rgb as weston-terminal draws it), output, socket, pid, seconds.
# Exit status: 0 up; 1 the compositor failed (its log's tail on stderr); 2 usage; 3 something
# it needs is missing (seatd socket, GPU node, program); 124 not up within the timeout.
# typed prints what was typed into the terminal on the seat's keyboard since start (keys that
# went all the way through cage: evdev fd from libseat, libinput, Wayland, the terminal's pty).
# keyboards prints the keyboard nodes the compositor holds open, one per line (a key typed
# while it holds none is lost: the kernel hands it to nobody in the container).
#
# Env: SEATD_SOCK (default /run/seatd.sock), DESKTOP_UID (default 1000), DESKTOP_COLOR (ANSI
# background 41, 42, 44, 45 or 46, default from the seat: seat1 blue, seat2 green, others magenta),
# DESKTOP_LIBSEAT_BACKEND (default seatd; logind: session c1 of seatd-ns-logind) and
# DESKTOP_GROUPS (none: the user is in no group of the seat's devices).
# DIR (default /run/desktop) gets compositor.log, compositor.pid, status and runtime/ (the
# compositor's XDG_RUNTIME_DIR: the socket wayland-0, banner.ready).
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/session.sh"
usage() {
	echo "usage: compositor.sh start|stop|typed|keyboards [--out DIR] [--timeout SECONDS]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
action=$1
shift
out=/run/desktop
timeout=180
session_options "$@"
[ ${#args[@]} -eq 0 ] || usage
uid=${DESKTOP_UID:-1000}
sock=${SEATD_SOCK:-/run/seatd.sock}
runtime=$out/runtime

fail() {
	local status=$1
	shift
	echo "compositor: $*" >&2
	echo "state=failed" >"$out/status"
	echo "reason=$*" >>"$out/status"
	exit "$status"
}

stop() {
	# cage ends its client when it ends; the session is its process group.
	stop_session "$out/compositor.pid"
}

# wl_output's current mode, as "WIDTHxHEIGHT", from weston-info; empty if none yet.
output_mode() {
	WAYLAND_DISPLAY=wayland-0 XDG_RUNTIME_DIR=$runtime \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups weston-info 2>/dev/null |
		sed -n "/interface: 'wl_output'/,/interface:/ {
			s/^[[:space:]]*width: \([0-9]*\) px, height: \([0-9]*\) px.*/\1x\2/; T; h; n
			/current/ { g; p; q } }"
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
keyboards)
	pid=$(cat "$out/compositor.pid" 2>/dev/null) && keyboards_held "$pid"
	exit 0
	;;
start) ;;
*) usage ;;
esac

mkdir -p "$out" || { echo "compositor: cannot make $out" >&2; exit 3; }
stop
rm -f "$runtime/banner.ready" "$runtime/typed" "$out/status"
for p in cage weston-terminal weston-info setpriv; do
	command -v $p >/dev/null || fail 3 "$p is not installed"
done
[ -S "$sock" ] || fail 3 "no seatd socket at $sock"
gpu=
for node in /dev/dri/card*; do
	[ -c "$node" ] && gpu=$node && break
done
[ -n "$gpu" ] || fail 3 "no GPU in /dev/dri"
# The seat as udev's database in the container says (seatd-ns writes ID_SEAT there).
seat=$(udevadm info -q property -n "$gpu" 2>/dev/null | sed -n 's/^ID_SEAT=//p')
seat=${seat:-seat0}
case ${DESKTOP_COLOR:-$seat} in
seat1 | 44) color=44 name=blue rgb=0,0,170 ;;
seat2 | 42) color=42 name=green rgb=0,170,0 ;;
41) color=41 name=red rgb=170,0,0 ;;
46) color=46 name=cyan rgb=0,170,170 ;;
*) color=45 name=magenta rgb=170,0,170 ;;
esac

mkdir -p "$runtime"
{ chown "$uid:$uid" "$runtime" && chmod 700 "$runtime"; } ||
	fail 3 "cannot give $runtime to uid $uid"
fonts_conf "$runtime"
# The user is in the groups owning the seat (video: seatd-ns's socket) and its devices;
# with libseat's logind backend it needs none (DESKTOP_GROUPS=none).
backend=${DESKTOP_LIBSEAT_BACKEND:-seatd}
groups=(--groups="$(awk -F: '$1 ~ /^(video|input|render)$/ { printf "%s%s", sep, $3; sep = "," }' /etc/group)")
[ "${DESKTOP_GROUPS:-}" != none ] || groups=(--clear-groups)
[ "${groups[0]}" != --groups= ] || fail 3 "no video, input or render group in /etc/group"
start=$(date +%s.%N)
# wlroots asks libseat for the seat; LIBSEAT_BACKEND pins it to the seatd protocol (no
# logind in a container), or to logind where seatd-ns-logind serves session c1
# (logind-desktop.sh). Debian's cage refuses to start without the Xwayland binary, though
# it starts it only when an X client comes.
env -i PATH="$PATH" HOME="$runtime" XDG_RUNTIME_DIR="$runtime" LANG=C.UTF-8 \
	LIBSEAT_BACKEND="$backend" SEATD_SOCK="$sock" XDG_SESSION_ID=c1 \
	WLR_RENDERER=pixman WLR_BACKENDS=drm,libinput \
	XDG_CACHE_HOME="$runtime/cache" FONTCONFIG_FILE="$runtime/fonts.conf" \
	DESKTOP_OUT="$runtime" DESKTOP_SEAT="$seat" DESKTOP_GPU="$gpu" DESKTOP_COLOR="$color" \
	setsid setpriv --reuid="$uid" --regid="$uid" "${groups[@]}" -- \
	cage -d -- weston-terminal --fullscreen --font="DejaVu Sans Mono" --font-size=24 --shell="$here/banner.sh" \
	>"$out/compositor.log" 2>&1 </dev/null &
pid=$!
echo $pid >"$out/compositor.pid"

mode=
deadline=$(($(date +%s) + timeout))
while :; do
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid
		status=$?
		rm -f "$out/compositor.pid"
		tail -n 20 "$out/compositor.log" >&2
		fail 1 "cage exited with status $status (log: $out/compositor.log)"
	fi
	if [ -S "$runtime/wayland-0" ]; then
		[ -n "$mode" ] || mode=$(output_mode)
		[ -n "$mode" ] && [ -s "$runtime/banner.ready" ] && break
	fi
	if [ "$(date +%s)" -ge $deadline ]; then
		tail -n 20 "$out/compositor.log" >&2
		what="no socket"
		[ -S "$runtime/wayland-0" ] && what="socket, ${mode:-no output}, ${mode:+no drawn client}"
		echo "state=timeout" >"$out/status"
		echo "compositor: not up within ${timeout}s ($what; log: $out/compositor.log)" >&2
		exit 124
	fi
	sleep 0.5
done
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
{
	echo "state=up"
	echo "seat=$seat"
	echo "gpu=$gpu"
	echo "color=$name"
	echo "rgb=$rgb"
	echo "output=$mode"
	echo "socket=$runtime/wayland-0"
	echo "pid=$pid"
	echo "seconds=$seconds"
} | tee "$out/status"
