#!/bin/bash
# `meson install` with DESTDIR gives the tree a distribution ships: the daemon, the client,
# the systemd unit, the commented configuration where the daemon reads it, the LXC include
# naming the hook where the hook is installed, the hook, the container's logind service with
# its unit and D-Bus policy, greetd@.service with the greeter's launcher and its helper, the
# PAM module where libpam finds it (when it was built), and the man pages (when scdoc was
# found), each of which renders with `man -l`. Installs into a temporary directory and
# removes it.
#
# Usage: install-tree.sh SOURCE_ROOT BUILD_ROOT NAME=DIR...
#   NAME: prefix sbindir bindir libexecdir datadir mandir (absolute), man=yes|no, and pam=DIR
#   (the PAM module's directory, empty if it was not built)
set -u

src=${1:?usage: install-tree.sh SOURCE_ROOT BUILD_ROOT NAME=DIR...}
build=${2:?usage: install-tree.sh SOURCE_ROOT BUILD_ROOT NAME=DIR...}
shift 2
prefix='' sbindir='' bindir='' libexecdir='' datadir='' mandir='' man=no pam=''
for arg in "$@"; do
	case $arg in
	prefix=* | sbindir=* | bindir=* | libexecdir=* | datadir=* | mandir=* | man=* | pam=*)
		declare "${arg%%=*}=${arg#*=}" ;;
	*) echo "unknown argument $arg" >&2; exit 2 ;;
	esac
done

if ! command -v meson >/dev/null; then
	echo "SKIP: meson is not in PATH"
	exit 77
fi

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

dest=$(mktemp -d)
trap 'rm -rf "$dest" "$dest.log"' EXIT

if ! meson install -C "$build" --destdir "$dest" --no-rebuild >"$dest.log" 2>&1; then
	cat "$dest.log"
	rm -f "$dest.log"
	echo "FAIL: meson install failed"
	exit 1
fi
rm -f "$dest.log"

daemon=$sbindir/seatd-ns
client=$bindir/seat-assign
unit=$prefix/lib/systemd/system/seatd-ns.service
conf=/etc/seatd-ns/seats.conf
hook=$libexecdir/seatd-ns/seatd-ns-hook
include=$datadir/seatd-ns/lxc/seatd-ns.conf
logind=$sbindir/seatd-ns-logind
logind_unit=$prefix/lib/systemd/system/seatd-ns-logind.service
logind_policy=$datadir/dbus-1/system.d/seatd-ns-logind.conf
greeter=$libexecdir/seatd-ns/seatd-ns-greeter
bind_into=$libexecdir/seatd-ns/seatd-ns-bind-into
greetd_unit=$prefix/lib/systemd/system/greetd@.service
expected=("$daemon" "$client" "$sbindir/seatd-ns-probe" "$unit" "$conf" "$hook" "$include"
	"$logind" "$logind_unit" "$logind_policy" "$greeter" "$bind_into" "$greetd_unit")
pages=(man8/seatd-ns.8 man1/seat-assign.1 man5/seats.conf.5 man7/seatd-ns-lxc.7
	man8/seatd-ns-logind.8)
if [ -n "$pam" ]; then
	expected+=("$pam/pam_seatd_ns.so")
	pages+=(man8/pam_seatd_ns.8)
fi
if [ "$man" = yes ]; then
	for page in "${pages[@]}"; do
		expected+=("$mandir/$page")
	done
fi

for file in "${expected[@]}"; do
	[ -f "$dest$file" ] || fail "not installed: $file"
done
for exe in "$daemon" "$client" "$hook" "$logind" "$greeter" "$bind_into"; do
	[ -x "$dest$exe" ] || fail "not executable: $exe"
done

# The installed programs run.
"$dest$daemon" --version | grep -q '^seatd-ns ' || fail "$daemon --version"
"$dest$client" --help | grep -q '^Usage: seat-assign' || fail "$client --help"

# The PAM module shows only its entry points (the version script).
if [ -n "$pam" ] && [ -f "$dest$pam/pam_seatd_ns.so" ] && command -v nm >/dev/null; then
	exported=$(nm -D --defined-only "$dest$pam/pam_seatd_ns.so" | awk '$2 == "T" { print $3 }' |
		sort | tr '\n' ' ')
	[ "$exported" = "pam_sm_close_session pam_sm_open_session " ] ||
		fail "$pam/pam_seatd_ns.so exports $exported"
fi

# The unit starts the installed daemon.
grep -qx "ExecStart=$daemon" "$dest$unit" 2>/dev/null ||
	fail "$unit does not run $daemon: $(grep ExecStart "$dest$unit" 2>/dev/null)"

# The container's logind service: its unit starts the installed program, its policy is
# the source's.
"$dest$logind" --version | grep -q '^seatd-ns-logind ' || fail "$logind --version"
grep -q "^ExecStart=$logind " "$dest$logind_unit" 2>/dev/null ||
	fail "$logind_unit does not run $logind: $(grep ExecStart "$dest$logind_unit" 2>/dev/null)"
cmp -s "$src/desktop/logind/org.freedesktop.login1.conf" "$dest$logind_policy" ||
	fail "$logind_policy is not desktop/logind/org.freedesktop.login1.conf"

# The configuration is the commented default, where the daemon reads it, and it is valid.
cmp -s "$src/config/seats.conf" "$dest$conf" || fail "$conf is not config/seats.conf"
"$dest$daemon" --help | grep -qF "(default $conf)" ||
	fail "the daemon does not read $conf by default"
out=$("$dest$daemon" --check-config --config "$dest$conf" 2>&1) ||
	fail "seatd-ns --check-config rejects the installed $conf: $out"

# The include runs the installed hook, from both hook lines, and says nothing else.
[ "$(grep -c "^lxc\.hook\.[a-z-]* = $hook\$" "$dest$include" 2>/dev/null)" -eq 2 ] ||
	fail "$include does not name the hook $hook: $(grep '^lxc\.hook' "$dest$include" 2>/dev/null)"
diff <(grep -v '^lxc\.hook\.\|^#' "$src/desktop/lxc/seatd-ns.conf") \
	<(grep -v '^lxc\.hook\.\|^#' "$dest$include" 2>/dev/null) >/dev/null ||
	fail "$include differs from desktop/lxc/seatd-ns.conf beyond the hook's path"
cmp -s "$src/desktop/lxc/seatd-ns-hook" "$dest$hook" || fail "$hook is not desktop/lxc/seatd-ns-hook"

# Anything else installed is listed (not a failure: the list above is the minimum).
find "$dest" -type f | sed "s|^$dest||" | sort >"$dest/.found"
printf '%s\n' "${expected[@]}" | sort >"$dest/.expected"
extra=$(comm -23 "$dest/.found" "$dest/.expected" | grep -vx '/\.found\|/\.expected')
[ -z "$extra" ] || echo "also installed: $(echo "$extra" | tr '\n' ' ')"

if [ "$man" = yes ]; then
	if command -v man >/dev/null; then
		for page in "${pages[@]}"; do
			file=$dest$mandir/$page
			[ -f "$file" ] || continue
			if ! out=$(MANWIDTH=80 man -l "$file" 2>&1 >/dev/null) || [ -n "$out" ]; then
				fail "man -l $mandir/$page: $out"
			fi
			# The LXC page names the installed include and hook.
			if [ "$page" = man7/seatd-ns-lxc.7 ]; then
				txt=$(MANWIDTH=200 man -l "$file" 2>/dev/null)
				grep -qF "$include" <<<"$txt" || fail "seatd-ns-lxc(7) does not name $include"
				grep -qF "$hook" <<<"$txt" || fail "seatd-ns-lxc(7) does not name $hook"
			fi
		done
	else
		echo "note: man is not installed: the installed pages are not rendered"
	fi
fi

if [ "$failures" -gt 0 ]; then
	echo "$failures failures; installed:"
	find "$dest" -type f | sed "s|^$dest||" | sort
	exit 1
fi
echo "PASS: installed ${#expected[@]} files: ${expected[*]}"
if [ "$man" != yes ]; then
	echo "SKIP: no man pages installed (scdoc was not found, or -Dman-pages=disabled)"
	exit 77
fi
