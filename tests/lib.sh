# tests/lib.sh: TAP helpers for integration scripts, sourced by tests/integration/*.sh.
# Each script gets a private temp dir (removed on exit unless KEEP_TMP=1), a
# cleanup hook that runs on every exit path, and loopback-only random ports.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
DNSFSCTL="$top_builddir/tools/dnsfsctl"

_tap_n=0
_tap_failed=0
_cleanups=()

ok()     { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
diag()   { printf '# %s\n' "$*"; }

# check "description" command...: one TAP line for the command's exit status.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# check_eq "description" expected actual
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "expected: [$2]"; diag "actual:   [$3]"; fi
}

# check_match "description" regex string
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; diag "no match for /$2/ in:"; printf '%s\n' "$3" | sed 's/^/#   /' | head -20; fi
}

# on_exit "command": run at exit, newest first.
on_exit() { _cleanups+=("$1"); }

_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# bail "reason": abort the script as one failed test (TAP "Bail out!").
bail() { echo "Bail out! $*"; exit 1; }

# A free TCP+UDP port on 127.0.0.1 (probabilistic, checked with ss), below
# the kernel's ephemeral range: there, the outgoing connections of tests
# running in parallel (block clients open many) could take it before we bind.
free_port() {
	local p i lo=10000 hi
	hi=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ -n "$hi" ] && [ "$hi" -gt $((lo + 1000)) ] || { lo=20000; hi=59999; }
	for i in $(seq 1 200); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		if ! ss -Hltun "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
	done
	return 1
}

# wait_for SECONDS command...: poll until the command succeeds (0.1 s steps).
wait_for() {
	local limit=$1 i; shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dnsfs-test.XXXXXX")
on_exit '[ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$TMP"'
trap '_run_cleanups' EXIT
trap 'exit 130' INT TERM
