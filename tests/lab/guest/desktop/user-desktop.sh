#!/usr/bin/env bash
# The desktop of a lab user's login: what pam_seatd_ns (desktop=) runs in the user's own
# container, as the user; the session's leader. It runs cage through libseat's logind
# backend, in session c1 of seatd-ns-logind (user-session.sh keeps the service running for
# the container's user while the container has a seat), showing weston-terminal full screen
# with banner.sh in the user's colour: alice red, bob cyan, anybody else magenta. When the
# session's seat changes (a login elsewhere moved the container there: follow me) cage is
# started again on the new seat's GPU; when cage ends by itself on its seat, so does the
# desktop: logging out is ending cage, or this script (SIGTERM).
#
# Env (from the module): USER, XDG_RUNTIME_DIR (gets cage.log, fonts.conf, banner.ready and
# typed: what the terminal received), XDG_SEAT, XDG_SESSION_ID.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/session.sh"
runtime=${XDG_RUNTIME_DIR:?no XDG_RUNTIME_DIR}
state=/run/systemd/sessions/c1
case ${USER:-} in
alice) color=41 ;;
bob) color=46 ;;
*) color=45 ;;
esac
fonts_conf "$runtime"
trap 'kill "$cage" 2>/dev/null; exit 0' TERM

# The seat of the service's session; empty while there is none (no service, no seat).
session_seat() {
	sed -n 's/^SEAT=//p' "$state" 2>/dev/null
}

while :; do
	# cage starts once the session is active, as a display manager starts a session:
	# libseat 0.7's logind backend reads Active once, when it opens the session, and sees
	# it come back only through a DRM ResumeDevice, for a card it cannot take while away.
	for _ in $(seq 1 600); do
		seat=$(session_seat)
		[ -n "$seat" ] && grep -qx ACTIVE=1 "$state" 2>/dev/null && break
		seat=
		sleep 0.1
	done
	[ -n "$seat" ] || exit 1
	gpu=
	for node in /dev/dri/card*; do
		[ -c "$node" ] && gpu=$node && break
	done
	env LANG=C.UTF-8 LIBSEAT_BACKEND=logind WLR_RENDERER=pixman WLR_BACKENDS=drm,libinput \
		XDG_CACHE_HOME="$runtime/cache" FONTCONFIG_FILE="$runtime/fonts.conf" \
		DESKTOP_OUT="$runtime" DESKTOP_SEAT="$seat" DESKTOP_GPU="${gpu:-?}" \
		DESKTOP_COLOR=$color cage -d -- weston-terminal --fullscreen \
		--font="DejaVu Sans Mono" --font-size=24 --shell="$here/banner.sh" \
		>>"$runtime/cage.log" 2>&1 </dev/null &
	cage=$!
	while kill -0 "$cage" 2>/dev/null && [ "$(session_seat)" = "$seat" ]; do
		sleep 0.5
	done
	# Moved (the service ended with the old seat's endpoint, then came back on the new one):
	# this cage's devices are gone with the old seat. Else cage ended by itself.
	if [ "$(session_seat)" = "$seat" ] && ! kill -0 "$cage" 2>/dev/null; then
		exit 0
	fi
	kill "$cage" 2>/dev/null
	wait "$cage"
done
