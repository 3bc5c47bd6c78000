# Sourced by compositor.sh and audio.sh: what both do with the session they start.

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
