#!/bin/bash
# The seat lab's command agent, in the guest: reads commands from a virtio serial port (named
# by $1, default lab.cmd) and answers each with its exit status and output.
#
#   host:  C <id> <timeout seconds> <base64 of a bash command line>\n
#   guest: R <id> <exit status> <base64 of stdout> <base64 of stderr>\n
#
# Commands run one at a time, with stdin from /dev/null, under `timeout` (exit status 124 when
# it expires). A command may start background jobs; their output must go to files.
export PATH=/usr/sbin:/usr/bin
name=${1:-lab.cmd}
port=
for _ in $(seq 1 100); do
	for d in /sys/class/virtio-ports/*; do
		[ "$(cat "$d/name" 2>/dev/null)" = "$name" ] && port=/dev/${d##*/}
	done
	[ -n "$port" ] && [ -c "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "agent: no virtio port named $name" >&2; exit 1; }
exec 3<>"$port" || exit 1
tmp=$(mktemp -d /tmp/agent.XXXXXX)
cd / || exit 1
# Waiting without a process per wait (fork and exec are slow under TCG): a read with a
# timeout on a FIFO that nobody writes.
mkfifo "$tmp/idle"
exec 9<>"$tmp/idle"
while :; do
	# read fails while the host side is not connected (the port reads as end of file).
	if ! IFS=' ' read -r tag id limit cmd <&3; then
		read -r -t 0.5 -u 9 _
		continue
	fi
	[ "$tag" = C ] || continue
	case "$limit" in '' | *[!0-9]*) limit=60 ;; esac
	if printf '%s' "$cmd" | base64 -d >"$tmp/cmd" 2>/dev/null; then
		# fd 3 (the port) is not passed on: a background job holding it would keep the port
		# busy for a restarted agent.
		timeout -k 5 "$limit" bash "$tmp/cmd" </dev/null >"$tmp/out" 2>"$tmp/err" 3>&- 9>&-
		rc=$?
	else
		echo "agent: bad base64" >"$tmp/err"
		: >"$tmp/out"
		rc=125
	fi
	{
		printf 'R %s %d ' "$id" "$rc"
		base64 -w0 "$tmp/out"
		printf ' '
		base64 -w0 "$tmp/err"
		printf '\n'
	} >"$tmp/reply"
	cat "$tmp/reply" >&3
done
