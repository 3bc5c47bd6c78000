#!/usr/bin/env bash
# Run in the background by the init of a lab user's own container (login.py adds it to the
# template's rcS, so every user's clone has it): the container's logind service for its
# user, the owner of the home bound into /home, kept running as a desktop container's systemd
# keeps seatd-ns-logind.service (Restart=on-failure). The service runs while the container
# has a seat: pam_seatd_ns starts the container and then attaches it, and a login elsewhere
# moves it (follow me), which ends the service with its endpoint; it is started again each
# time the endpoint is there. The user's desktop (user-desktop.sh) waits for it.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=/run/logind-desktop
home=$(ls -d /home/*/ 2>/dev/null | head -n 1)
[ -n "$home" ] || exit 0 # the template itself, or a container of nobody's
home=${home%/}
export DESKTOP_USER=${home##*/} DESKTOP_UID
DESKTOP_UID=$(stat -c %u "$home")
while :; do
	if [ -S /run/seatd.sock ] && ! kill -0 "$(cat $out/logind.pid 2>/dev/null)" 2>/dev/null; then
		"$here/logind-desktop.sh" service --out $out
	fi
	sleep 0.5
done
