#!/usr/bin/env bash
# A sound server in a desktop container, on the sound cards seatd-ns gives it: it finds the cards
# through udev (the container's database and uevents, written by seatd-ns) as on any desktop,
# and loses them when they are unplugged. Run inside the container, as its root.
#
#   audio.sh start [OPTIONS]        start the server; wait until it has a card for every
#                                   sound card in /dev/snd
#   audio.sh list [OPTIONS]         what ALSA and the server see, one line of JSON
#   audio.sh wait COUNT [OPTIONS]   wait until ALSA (aplay -l) and the server both list exactly
#                                   COUNT cards
#   audio.sh stop [OPTIONS]
# OPTIONS: --out DIR (default /run/desktop-audio), --timeout SECONDS (start and wait, default
# 120), --server pulseaudio|pipewire (default pulseaudio; give the same to every call).
#
# The server: PulseAudio (module-udev-detect), or PipeWire with WirePlumber (and a D-Bus
# session bus of their own). PipeWire 0.3.65 counts a card's PCMs by readdir() of /dev/snd and
# keeps only character-device entries ("no pcm devices for hw:N" otherwise): seatd-ns binds
# the directory of the nodes it makes, so they read as the device nodes they are.
#
# list (and start and wait, on success) print one line of JSON:
#   {"server": "pulseaudio",
#    "alsa": [{"card": 0, "id": "Audio", "name": "QEMU USB Audio", "device": 0,
#              "id_path": "pci-0000:00:07.0-usb-0:2.3:1.0"}, ...],   (aplay -l, one per PCM;
#                                                                       id_path from udev)
#    "cards": [{"name": "alsa_card....", "card": 0, "bus_path": "pci-0000:00:07.0-usb-0:2.3:1.0",
#               "description": "..."}, ...],                         (the server's ALSA cards)
#    "sinks": [{"name": "alsa_output....", "description": "..."}, ...]}
# Exit status: 0 done; 1 the server failed (its log's tail on stderr); 2 usage; 3 something it
# needs is missing; 124 the wait timed out (the last list on stdout).
# DIR gets the server's logs, audio.pid and runtime/ (its XDG_RUNTIME_DIR).
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
usage() {
	echo "usage: audio.sh start|list|stop|wait COUNT [--out DIR] [--timeout SECONDS]" \
		"[--server pulseaudio|pipewire]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
action=$1
shift
count=
if [ "$action" = wait ]; then
	[ $# -ge 1 ] || usage
	count=$1
	shift
	case $count in '' | *[!0-9]*) usage ;; esac
fi
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/session.sh"
out=/run/desktop-audio
timeout=120
server=pulseaudio
own_option() {
	[ "$1" = --server ] && server=$2
}
session_options "$@"
[ ${#args[@]} -eq 0 ] || usage
case $server in pulseaudio | pipewire) ;; *) usage ;; esac
runtime=$out/runtime
export XDG_RUNTIME_DIR=$runtime HOME=$runtime XDG_CONFIG_HOME=$runtime/config

fail() {
	local status=$1
	shift
	echo "audio: $*" >&2
	exit "$status"
}

# aplay -l as JSON, each PCM with its card's ID_PATH from the container's udev database.
alsa_json() {
	aplay -l 2>/dev/null |
		sed -n 's/^card \([0-9]*\): \([^ ]*\) \[\(.*\)\], device \([0-9]*\): .*/\1\t\2\t\3\t\4/p' |
		while IFS=$'\t' read -r card id name device; do
			path=$(udevadm info -q property -p "/class/sound/card$card" 2>/dev/null |
				sed -n 's/^ID_PATH=//p')
			jq -cn --argjson card "$card" --arg id "$id" --arg name "$name" \
				--argjson device "$device" --arg path "$path" \
				'{card: $card, id: $id, name: $name, device: $device, id_path: $path}'
		done | jq -cs .
}

# The server's ALSA cards and sinks as JSON: {"cards": [...], "sinks": [...]}.
server_json() {
	local dump
	if [ "$server" = pulseaudio ]; then
		jq -cn --argjson cards "$(timeout 20 pactl -f json list cards 2>/dev/null || echo '[]')" \
			--argjson sinks "$(timeout 20 pactl -f json list sinks 2>/dev/null || echo '[]')" '{
			cards: [$cards[] | select(.properties."alsa.card" != null) |
				{name: .name, card: (.properties."alsa.card" | tonumber? // null),
				 bus_path: .properties."device.bus_path",
				 description: .properties."device.description"}],
			sinks: [$sinks[] | {name: .name, description: .description}]}'
		return
	fi
	dump=$(timeout 20 pw-dump 2>/dev/null) || dump='[]'
	jq -cn --argjson dump "$dump" '{
		cards: [$dump[] | select(.type == "PipeWire:Interface:Device") | .info.props |
			select(."device.api" == "alsa") |
			{name: ."device.name", card: (."api.alsa.card" | tonumber? // null),
			 bus_path: ."device.bus-path", description: ."device.description"}],
		sinks: [$dump[] | select(.type == "PipeWire:Interface:Node") | .info.props |
			select(."media.class" == "Audio/Sink") |
			{name: ."node.name", description: ."node.description"}]}'
}

list_json() {
	jq -cn --arg server "$server" --argjson alsa "$(alsa_json)" --argjson s "$(server_json)" \
		'{server: $server, alsa: $alsa} + $s'
}

running() {
	local pid
	pid=$(cat "$out/audio.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

stop() {
	stop_session "$out/audio.pid"
}

# wait_for COUNT: until ALSA and the server list COUNT cards (COUNT empty: as many as the
# control nodes in /dev/snd), the server running all along.
wait_for() {
	local want=$1 list alsa cards deadline
	deadline=$(($(date +%s) + timeout))
	while :; do
		if ! running; then
			tail -n 20 "$out"/*.log >&2
			fail 1 "$server exited (logs in $out)"
		fi
		list=$(list_json)
		alsa=$(jq '[.alsa[].card] | unique | length' <<<"$list")
		cards=$(jq '.cards | length' <<<"$list")
		local n=$want
		[ -n "$n" ] || n=$(find /dev/snd -maxdepth 1 -name 'controlC*' 2>/dev/null | wc -l)
		[ "$alsa" = "$n" ] && [ "$cards" = "$n" ] && break
		if [ "$(date +%s)" -ge $deadline ]; then
			echo "$list"
			fail 124 "not $n cards within ${timeout}s: ALSA lists $alsa, $server $cards"
		fi
		sleep 1
	done
	echo "$list"
}

case $action in
stop)
	stop
	exit 0
	;;
list)
	list_json
	exit 0
	;;
wait)
	wait_for "$count"
	exit 0
	;;
start) ;;
*) usage ;;
esac

for p in aplay jq udevadm; do
	command -v $p >/dev/null || fail 3 "$p is not installed"
done
[ -d /dev/snd ] || fail 3 "no /dev/snd"
{ mkdir -p "$out" "$runtime" && chmod 700 "$runtime"; } || fail 3 "cannot make $runtime"
stop
rm -f "$out"/*.log
if [ "$server" = pulseaudio ]; then
	for p in pulseaudio pactl; do
		command -v $p >/dev/null || fail 3 "$p is not installed"
	done
	# No default.pa (X11, Bluetooth, logind...): cards found by udev, the socket clients use,
	# and idle sinks suspended, which closes their PCMs.
	setsid pulseaudio -n --daemonize=no --exit-idle-time=-1 --log-target=stderr \
		-L module-udev-detect -L module-native-protocol-unix \
		-L "module-suspend-on-idle timeout=1" </dev/null >"$out/pulseaudio.log" 2>&1 &
	echo $! >"$out/audio.pid"
	wait_for ""
	exit 0
fi
for p in pipewire wireplumber pw-dump dbus-run-session; do
	command -v $p >/dev/null || fail 3 "$p is not installed"
done
# WirePlumber's own settings: no Bluetooth, whose logind plugin fails without a logind
# (WirePlumber then quits), and no cameras.
conf=$runtime/config/wireplumber
mkdir -p "$conf/bluetooth.lua.d" "$conf/main.lua.d"
echo 'bluez_monitor.enabled = false' >"$conf/bluetooth.lua.d/51-seat-lab.lua"
printf '%s\n' 'v4l2_monitor.enabled = false' 'libcamera_monitor.enabled = false' \
	>"$conf/main.lua.d/51-seat-lab.lua"
# A session bus of their own, as a desktop session has (device reservation, portals).
# shellcheck disable=SC2016 # expanded by that shell
setsid dbus-run-session -- bash -c '
	pipewire >"$0/pipewire.log" 2>&1 &
	for _ in $(seq 1 200); do
		[ -S "$XDG_RUNTIME_DIR/pipewire-0" ] && break
		sleep 0.1
	done
	wireplumber >"$0/wireplumber.log" 2>&1 &
	wait -n
	kill %1 %2 2>/dev/null
	wait' "$out" </dev/null >"$out/session.txt" 2>&1 &
echo $! >"$out/audio.pid"
wait_for ""
