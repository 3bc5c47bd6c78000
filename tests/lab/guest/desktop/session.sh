# Sourced by compositor.sh, audio.sh, logind-desktop.sh and user-desktop.sh: what they do with the session they
# start.

# session_options ARGS...: the options each of them takes, --out DIR and --timeout SECONDS
# (into out and timeout, set to their defaults before), and those the script's own_option
# NAME VALUE takes (failing for a name it does not know). The options end at the first other
# argument: what is left is in args. usage on a bad option or a timeout not a number.
session_options() {
	while [ $# -gt 0 ]; do
		case $1 in
		--out) [ $# -ge 2 ] || usage; out=$2 ;;
		--timeout) [ $# -ge 2 ] || usage; timeout=$2 ;;
		--*) [ $# -ge 2 ] && declare -F own_option >/dev/null && own_option "$1" "$2" || usage ;;
		*) break ;;
		esac
		shift 2
	done
	case $timeout in '' | *[!0-9]*) usage ;; esac
	args=("$@")
}

# stop_session PIDFILE: ends the process group the pid file names (the session leader and
# everything it started), TERM first and KILL after 5 s, and removes the pid file.
stop_session() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	kill -TERM -- "-$pid" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	rm -f "$1"
}

# fonts_conf DIR: DIR/fonts.conf for the terminal, its cache in DIR: the container's /etc may
# have no fontconfig setup (a busybox root with the host's /usr); the fonts are in /usr.
fonts_conf() {
	cat >"$1/fonts.conf" <<-EOF
		<?xml version="1.0"?>
		<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
		<fontconfig>
			<dir>/usr/share/fonts</dir>
			<cachedir>$1/fontconfig</cachedir>
		</fontconfig>
	EOF
}

# keyboards_held PID: the keyboard nodes of /dev/input that process PID holds open, one per
# line. By device number: the path of an fd that came from the host (libseat, logind) names
# the host's /dev, not the container's.
keyboards_held() {
	local held node
	held=$(stat -L -c %t:%T /proc/"$1"/fd/* 2>/dev/null)
	for node in /dev/input/event*; do
		udevadm info -q property -n "$node" 2>/dev/null | grep -qx ID_INPUT_KEYBOARD=1 &&
			grep -qx "$(stat -c %t:%T "$node")" <<<"$held" && echo "$node"
	done
}
