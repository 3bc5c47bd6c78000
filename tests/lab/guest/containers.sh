#!/bin/bash
# The seat lab's desktop containers, in the guest (as root): unprivileged LXC containers (ids
# shifted by 200000, no network) with the host's /usr bound read-only, made with the lab's
# template (lxc-template beside this script), including desktop/lxc/seatd-ns.conf as it is
# but for its hooks' path, which points into the shared repository.
#
#   containers.sh create NAME...   make them (in /var/lib/lxc, on the guest's tmpfs)
#   containers.sh start NAME...    lxc-start them; the include's hook registers each with
#                                  seatd-ns before its init runs; returns once each answers
#                                  lxc-attach
#   containers.sh stop NAME...     lxc-stop them (the post-stop hook unregisters them)
#
# Inside, /lab/src and /lab/build are the repository and the build directory (read-only) and
# /lab/out is the host run directory's out/NAME (writable). LXC logs at debug level to
# /lab/out/lxc-NAME.log (the hook's messages are there).
set -u
export PATH=/usr/sbin:/usr/bin
lab=$(dirname "$(readlink -f "$0")")
src=/lab/src
lxcpath=/var/lib/lxc
# The hooks run seat-assign from the build directory; LXC passes its environment on to them.
export SEAT_ASSIGN=/lab/build/seatd-ns/seat-assign

die() {
	echo "containers: $*" >&2
	exit 1
}

create() {
	local name=$1 conf=/run/lab-lxc
	mkdir -p "$conf" "$lxcpath" "/lab/out/$name"
	# The containers' root (uid 200000) must reach its rootfs and its output directory.
	chmod 711 "$lxcpath"
	chmod 1777 "/lab/out/$name"
	if [ ! -f "$conf/seatd-ns.conf" ]; then
		sed "s|^\(lxc\.hook\.[a-z-]* = \)/.*/seatd-ns-hook\$|\1$src/desktop/lxc/seatd-ns-hook|" \
			"$src/desktop/lxc/seatd-ns.conf" >"$conf/seatd-ns.conf.tmp" || return 1
		[ "$(grep -c "^lxc.hook.*= $src/desktop/lxc/seatd-ns-hook\$" "$conf/seatd-ns.conf.tmp")" -eq 2 ] ||
			die "expected two hook lines in desktop/lxc/seatd-ns.conf"
		mv "$conf/seatd-ns.conf.tmp" "$conf/seatd-ns.conf"
		printf '%s\n' 'lxc.idmap = u 0 200000 65536' 'lxc.idmap = g 0 200000 65536' \
			'lxc.net.0.type = empty' >"$conf/base.conf"
	fi
	lxc-create -P "$lxcpath" -n "$name" -t "$lab/lxc-template" -f "$conf/base.conf" \
		>"/lab/out/lxc-create-$name.log" 2>&1 ||
		die "lxc-create $name failed: $(tail -n 5 "/lab/out/lxc-create-$name.log")"
	cat >>"$lxcpath/$name/config" <<-EOF
		lxc.mount.entry = /lab/src lab/src none bind,ro 0 0
		lxc.mount.entry = /lab/build lab/build none bind,ro 0 0
		lxc.mount.entry = /lab/out/$name lab/out none bind 0 0
		lxc.include = /usr/share/lxc/config/common.conf
		lxc.include = $conf/seatd-ns.conf
	EOF
}

start() {
	local name=$1 log why
	log=/lab/out/lxc-$name.log
	if ! lxc-start -P "$lxcpath" -n "$name" -d -l DEBUG -o "$log" </dev/null \
		2>"/lab/out/lxc-start-$name.err"; then
		# In one line: what the start-host hook said, else LXC's first error.
		why=$(sed -n 's/.*start-host produced output: //p' "$log" | head -n 1)
		[ -n "$why" ] || why=$(grep -m 1 ERROR "$log" | sed 's/.* - //')
		die "lxc-start $name failed: ${why:-no error in lxc-$name.log}"
	fi
	for _ in $(seq 1 100); do
		lxc-attach -P "$lxcpath" -n "$name" -- /bin/true 2>/dev/null && return 0
		sleep 0.2
	done
	die "$name does not answer lxc-attach 20s after lxc-start"
}

stop() {
	lxc-stop -P "$lxcpath" -n "$1" -t 10 || lxc-stop -P "$lxcpath" -n "$1" -k
}

[ $# -ge 2 ] || die "usage: containers.sh create|start|stop NAME..."
action=$1
shift
case $action in
create | start | stop) ;;
*) die "unknown action $action" ;;
esac
for name in "$@"; do
	"$action" "$name" || exit 1
done
