#!/usr/bin/env bash
# The client that compositor.sh shows, run by weston-terminal as its shell: fills the terminal
# with the seat's colour and names the seat, the container and the GPU, so that a screenshot of
# the GPU's display shows whose desktop it is. Redraws when the window is resized; writes
# $DESKTOP_OUT/banner.ready after its first full draw and appends what is typed into the
# terminal to $DESKTOP_OUT/typed.
#
# Env (from compositor.sh): DESKTOP_OUT, DESKTOP_SEAT, DESKTOP_GPU, DESKTOP_COLOR (an ANSI
# background colour number).
set -u
out=${DESKTOP_OUT:-/tmp}
bg=${DESKTOP_COLOR:-44}

draw() {
	local rows=$1 cols=$2 r blank
	printf -v blank '%*s' "$cols" ''
	# Every cell painted: terminals differ in whether a clear uses the current background.
	printf '\e[?25l\e[0;97;%sm\e[H' "$bg"
	for ((r = 1; r < rows; r++)); do
		printf '%s\n' "$blank"
	done
	printf '%s\e[H' "$blank"
	printf '\n  seatd-ns seat lab\n\n'
	printf '  seat:       %s\n' "${DESKTOP_SEAT:-?}"
	printf '  container:  %s\n' "$(hostname 2>/dev/null || echo ?)"
	printf '  GPU:        %s\n' "${DESKTOP_GPU:-?}"
	printf '  compositor: cage (wlroots), libseat -> %s\n' "${SEATD_SOCK:-/run/seatd.sock}"
}

size=
drawn=
while :; do
	now=$(stty size 2>/dev/null)
	# A size of 0 is the window before its first configure.
	if [ -n "$now" ] && [ "${now%% *}" -gt 0 ] && [ "$now" != "$size" ]; then
		size=$now
		draw "${size% *}" "${size#* }"
		drawn=
	elif [ -n "$size" ] && [ -z "$drawn" ]; then
		# The same size twice in a row: the window has settled.
		drawn=1
		echo "$size" >"$out/banner.ready"
	fi
	# Keys typed on the seat's keyboard come here through the compositor (and are echoed on
	# the display): kept for compositor.sh typed. The read's timeout paces the loop.
	if IFS= read -r -n 1 -t 0.5 key; then
		printf '%s' "${key:-$'\n'}" >>"$out/typed"
	fi
done
