#!/bin/bash
# The man pages say everything the programs have: every option of `seatd-ns --help`, every
# option and command of `seat-assign --help`, every key the configuration accepts, the
# files the daemon uses, and the LXC include's keys and its hook's options, commands and
# environment. The lists are read from the built programs and from the sources, so an
# option added later fails this test until its page documents it. Then each built page
# must render with `man -l`.
#
# Usage: man-pages.sh SOURCE_ROOT [BUILT_PAGE...]   (SEATD_NS, SEAT_ASSIGN: the programs)
# An item counts as documented when the page has it as the term of a definition list (a
# line "*--socket* ..."), or, for files and environment variables, anywhere in its text.
# Names are read word by word from the sources; the $ in the patterns is meant literally.
# shellcheck disable=SC2013,SC2016
set -u

src=${1:?usage: man-pages.sh SOURCE_ROOT [BUILT_PAGE...]}
shift
: "${SEATD_NS:?}" "${SEAT_ASSIGN:?}" "${SEATD_NS_LOGIND:?}"

daemon_page=$src/seatd-ns/man/seatd-ns.8.scd
client_page=$src/seatd-ns/man/seat-assign.1.scd
config_page=$src/seatd-ns/man/seats.conf.5.scd
lxc_page=$src/desktop/lxc/seatd-ns-lxc.7.scd
logind_page=$src/desktop/logind/seatd-ns-logind.8.scd
hook=$src/desktop/lxc/seatd-ns-hook
include=$src/desktop/lxc/seatd-ns.conf

failures=0
checked=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A page's text with scdoc's escapes and markup taken out ("seats.d/\*.conf" is
# "seats.d/*.conf", "*--json*" is "--json"), to look for names in.
plain() {
	sed -e 's/\\[*]/\x01/g' -e 's/\\\(.\)/\1/g' -e 's/[*]//g' -e 's/\x01/*/g' "$1"
}

# has_term PAGE ITEM WHAT: PAGE has a line that starts with *ITEM* (a definition's term;
# "*--a*, *--b*" and "*key* = ..." count).
has_term() {
	local page=$1 item=$2 what=$3
	checked=$((checked + 1))
	if ! sed -e 's/\\\(.\)/\1/g' "$page" | grep -E '^\*' | grep -qF -- "*$item*"; then
		fail "$(basename "$page"): $what \"$item\" is not documented (no line starting with *$item*)"
	fi
}

# mentions PAGE ITEM WHAT [-w]: ITEM appears in PAGE's text (with -w, as a whole word).
mentions() {
	local page=$1 item=$2 what=$3 word=${4:-}
	checked=$((checked + 1))
	if ! plain "$page" | grep -qF ${word:+"$word"} -- "$item"; then
		fail "$(basename "$page"): $what \"$item\" is not mentioned"
	fi
}

for page in "$daemon_page" "$client_page" "$config_page" "$lxc_page" "$logind_page"; do
	[ -f "$page" ] || fail "missing page source $page"
done
[ "$failures" -eq 0 ] || exit 1

# Every page has the sections a reader looks for.
for page in "$daemon_page" "$client_page" "$config_page" "$lxc_page" "$logind_page"; do
	for section in NAME SYNOPSIS DESCRIPTION FILES EXAMPLES "SEE ALSO"; do
		checked=$((checked + 1))
		grep -qx "# $section" "$page" || fail "$(basename "$page"): no section $section"
	done
done
for page in "$daemon_page" "$client_page" "$lxc_page" "$logind_page"; do
	for section in ENVIRONMENT "EXIT STATUS"; do
		checked=$((checked + 1))
		grep -qx "# $section" "$page" || fail "$(basename "$page"): no section $section"
	done
done

# help_options PROGRAM NAME PAGE [OPTION...]: every option of `PROGRAM --help` (kept in
# $work/NAME.help), and the OPTIONs, are terms of PAGE.
help_options() {
	local program=$1 name=$2 page=$3
	shift 3
	if ! "$program" --help >"$work/$name.help"; then
		fail "$name --help failed"
	fi
	local options
	options=$(grep -oE -- '--[a-z][a-z0-9-]*' "$work/$name.help" | sort -u)
	[ -n "$options" ] || fail "no options found in $name --help"
	for option in $options "$@"; do
		has_term "$page" "$option" "$name option"
	done
}

# seatd-ns: every option of its --help.
help_options "$SEATD_NS" seatd-ns "$daemon_page"

# seat-assign: every option (the register options are listed inside its line), and every
# command of the "Commands:" list.
help_options "$SEAT_ASSIGN" seat-assign "$client_page" --help
verbs=$(sed -n '/^Commands:/,/^$/p' "$work/seat-assign.help" | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p')
[ "$(echo "$verbs" | wc -w)" -ge 10 ] || fail "fewer than 10 commands found in seat-assign --help"
for verb in $verbs; do
	has_term "$client_page" "$verb" "seat-assign command"
	# The command also works: the client knows it (it fails only to reach the daemon).
	checked=$((checked + 1))
	out=$("$SEAT_ASSIGN" --socket "$work/none.sock" "$verb" 2>&1)
	case $out in
	*"unknown command"*) fail "seat-assign --help lists \"$verb\", which it does not know" ;;
	esac
done

# seats.conf: the keys config.c compares names with, the match- keys of policy.c's rule
# kinds, and the keys of config.h's format comment. Each candidate is given to the built
# daemon (--check-config) in [daemon] and in a seat: what it does not call an unknown key
# is a key it accepts, and must be documented.
config_c=$src/seatd-ns/daemon/seats/config.c
candidates=$(
	grep -oE 'strcmp\(name, "[a-z][a-z0-9-]*"\)' "$config_c" | sed 's/.*"\(.*\)".*/\1/'
	sed -n '/rule_kind_names\[\] = {/,/^};/p' "$src/seatd-ns/daemon/seats/policy.c" |
		sed -n 's/.*= "\([a-z-]*\)".*/match-\1/p'
	sed -n 's/^ \*   \([a-z][a-z0-9-]*\) = .*/\1/p' "$src/seatd-ns/daemon/seats/config.h"
)
candidates=$(echo "$candidates" | sort -u)
[ "$(echo "$candidates" | wc -w)" -ge 10 ] || fail "fewer than 10 configuration keys found"
accepted=0
for key in $candidates; do
	for section in daemon "seat seat1"; do
		printf '[%s]\n%s = x\n' "$section" "$key" >"$work/key.conf"
		out=$("$SEATD_NS" --check-config --config "$work/key.conf" 2>&1)
		case $out in
		*"unknown key"*) continue ;;
		esac
		accepted=$((accepted + 1))
		has_term "$config_page" "$key" "configuration key (in [${section%% *}])"
		break
	done
done
[ "$accepted" -ge 10 ] || fail "the daemon accepted only $accepted configuration keys"
for section in '[daemon]' '[seat'; do
	has_term "$config_page" "$section" "configuration section"
done

# The files the daemon uses: the absolute paths of both --help texts, the #defined paths,
# and the names the daemon makes under its directories ("%s/state", "%s.broken") and in a
# container ("run/udev/data").
files=$(
	grep -ohE '(^|[ (])/[a-z][a-zA-Z0-9._/-]*' "$work/seatd-ns.help" "$work/seat-assign.help" |
		sed 's/^[ (]//'
	grep -hE '^#define [A-Z_]+ "/' "$src"/seatd-ns/daemon/*.c "$src"/seatd-ns/daemon/*/*.[ch] \
		"$src"/seatd-ns/common/*.[ch] "$src"/seatd-ns/include/*.h | sed 's/.*"\(.*\)"/\1/'
	grep -ohE '"%(\.\*)?s(/%s)?[/.][a-zA-Z][a-zA-Z0-9._/*-]*"' "$src"/seatd-ns/daemon/*.c \
		"$src"/seatd-ns/daemon/*/*.c | sed -E 's/^"%(\.\*)?s(\/%s)?//; s/"$//'
	grep -ohE '"(run|dev)/[a-z][a-z/]*"' "$src"/seatd-ns/daemon/*.c "$src"/seatd-ns/daemon/*/*.c |
		sed 's/^"/\//; s/"$//'
)
files=$(echo "$files" | sort -u)
[ "$(echo "$files" | wc -w)" -ge 10 ] || fail "fewer than 10 files of the daemon found"
for file in $files; do
	mentions "$daemon_page" "$file" "file of the daemon"
done
mentions "$client_page" /run/seatd-ns/control.sock "file"
mentions "$config_page" /etc/seatd-ns/seats.conf "file"
mentions "$config_page" "/etc/seatd-ns/seats.d/*.conf" "file"

# The LXC integration: the include's keys, the hook's options, commands, hook types,
# environment variables and files.
for key in $(grep -oE '^lxc\.[a-z0-9.-]+' "$include" | sort -u); do
	has_term "$lxc_page" "$key" "LXC include key"
done
for option in $(grep -oE '^[[:space:]]*--[a-z][a-z0-9-]*[=)]' "$hook" | tr -d ' \t=)' | sort -u); do
	has_term "$lxc_page" "$option" "hook option"
done
for command in $(grep -oE '"\$\{1:-\}" = [a-z][a-z-]*' "$hook" | sed 's/.* //'); do
	has_term "$lxc_page" "$command" "hook command"
done
for type in $(sed -n '/^case \$type in/,/^esac/p' "$hook" | grep -oE '^[a-z][a-z |-]*\)' |
	tr -d ')|'); do
	mentions "$lxc_page" "$type" "hook type"
done
for var in $(grep -oE '\$\{?[A-Z][A-Z0-9_]+' "$hook" | tr -d '${' | sort -u); do
	mentions "$lxc_page" "$var" "hook environment variable" -w
done
for file in $(grep -oE '/proc/[a-z$]+(/[a-z]+)?|devices\.[a-z]+' "$hook" | sed 's/\$pid/PID/; s/\$LXC_PID/PID/' |
	sort -u); do
	mentions "$lxc_page" "$file" "file of the hook"
done

# seatd-ns-logind: every option of its --help, the environment variables it reads, the
# files it writes and the bus interfaces it serves.
help_options "$SEATD_NS_LOGIND" seatd-ns-logind "$logind_page"
logind_src=$src/desktop/logind
for var in $(grep -ohE '(getenv|setenv)\("[A-Z_]+"' "$logind_src"/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u) \
	SEATD_SOCK DBUS_SYSTEM_BUS_ADDRESS; do
	mentions "$logind_page" "$var" "seatd-ns-logind environment variable" -w
done
for dir in $(sed -n 's/.*dirs\[\] = {\(.*\)};/\1/p' "$logind_src/state_files.c" | tr -d '",'); do
	mentions "$logind_page" "/run/systemd/$dir/" "seatd-ns-logind state file"
done
for iface in $(grep -ohE '"org\.freedesktop\.login1\.[A-Z][a-z]+"' "$logind_src"/*.[ch] | tr -d '"' | sort -u); do
	mentions "$logind_page" "$iface" "seatd-ns-logind interface"
done
for method in $(grep -ohE 'SD_BUS_(METHOD|SIGNAL)\("[A-Za-z]+"' "$logind_src"/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u); do
	mentions "$logind_page" "$method" "seatd-ns-logind method or signal" -w
done

echo "$checked items checked, $failures missing"
if [ "$failures" -gt 0 ]; then
	exit 1
fi

# Each built page renders, without a warning from man or groff.
if [ $# -eq 0 ]; then
	echo "SKIP: no built man pages (scdoc was not found, or -Dman-pages=disabled)"
	exit 77
fi
if ! command -v man >/dev/null; then
	echo "SKIP: man is not installed (man-db)"
	exit 77
fi
for built in "$@"; do
	name=$(basename "$built")
	if ! MANWIDTH=80 man --warnings -l "$built" >"$work/$name.txt" 2>"$work/$name.err"; then
		fail "man -l $name failed: $(head -c 400 "$work/$name.err")"
		continue
	fi
	if [ -s "$work/$name.err" ]; then
		fail "man -l $name warned: $(head -c 400 "$work/$name.err")"
	fi
	title=${name%.*}
	section=${name##*.}
	if ! head -n 1 "$work/$name.txt" | grep -qF "$title($section)"; then
		fail "man -l $name: no title $title($section)"
	fi
	for heading in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -qx "$heading" "$work/$name.txt" || fail "man -l $name: no $heading"
	done
	# Placeholders of the LXC page are replaced by the build.
	if grep -q '@[A-Z]*@' "$work/$name.txt"; then
		fail "man -l $name: unreplaced placeholder $(grep -o '@[A-Z]*@' "$work/$name.txt" | head -n 1)"
	fi
	echo "rendered $name: $(wc -l <"$work/$name.txt") lines"
done
[ "$failures" -eq 0 ] || exit 1
echo "PASS: $# pages document every option, command, key and file, and render"
