#!/bin/bash
# uevent-quiet.sh QUIET MAX: waits until the uevent recording (/lab/out/uevents.bin, written by
# uevent-record.py) has not grown for QUIET seconds; fails after MAX seconds.
quiet=$1 max=$2
rec=/lab/out/uevents.bin
last=-1 still=0
for _ in $(seq 1 "$max"); do
	size=$(stat -c %s "$rec" 2>/dev/null || echo 0)
	if [ "$size" = "$last" ]; then
		still=$((still + 1))
		[ "$still" -ge "$quiet" ] && exit 0
	else
		still=0
		last=$size
	fi
	sleep 1
done
exit 1
