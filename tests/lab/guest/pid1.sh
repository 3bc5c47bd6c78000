# Sourced by the guest's stage 2 scripts (stage2.sh, record.sh), PID 1 after switch_root:
# progress marks, the fatal-error path, and the fresh kernel filesystems.
# Progress goes to the console as "LAB-MARK <step> <guest uptime>" (and /lab/out/marks); a
# fatal error as "LAB-FAIL <reason>", after which the guest powers off.
export PATH=/usr/sbin:/usr/bin
export LANG=C.UTF-8
out=/lab/out

uptime_s() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "LAB-MARK $1 $(uptime_s)"; echo "$1 $(uptime_s)" >>$out/marks; }
fail() {
	echo "LAB-FAIL $*"
	echo "$*" >>$out/fail
	sync
	sleep 1
	echo o >/proc/sysrq-trigger
	poweroff -f
}

# Fresh proc, sysfs, devtmpfs, devpts, /run and /tmp; the host name.
mount_basics() {
	mount -t proc proc /proc || fail "mount /proc"
	mount -t sysfs sysfs /sys || fail "mount /sys"
	mount -t devtmpfs -o mode=0755 devtmpfs /dev || fail "mount /dev"
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || fail "mount /run"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "mount /tmp"
	mkdir -p /run/lock
	hostname seat-lab
}

# The command agent on the virtio port lab.cmd, restarted if it ever dies.
start_agent() {
	(
		while :; do
			"$1/agent.sh" lab.cmd 2>>$out/agent.log
			sleep 1
		done
	) &
}
