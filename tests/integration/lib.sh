# lib.sh - helpers for the real-guest integration tests (sourced).
# Each test is a script tests/integration/NN-name.sh run by scripts/run-integration
# with BUILD set; it exits 0 when the behaviour is right and prints what it
# measured as "measure: key=value" lines.
set -euo pipefail

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
URI=${MT_URI:-qemu:///system}
STATE=/var/lib/memtuned-testbed
TB="$TOP/scripts/testbed"
export MT_BUILD=$BUILD

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '  %s\n' "$*"; }
measure() { printf 'measure: %s\n' "$*"; }

probe() { "$BUILD/integration/probe" "$URI" "$@"; }

# stat NAME FIELD: one balloon/state field of a guest, read from C through libvirt
stat_of() {
	probe stats "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# report_field NAME FIELD: a field of the guest's own last load report
report_field() {
	"$TB" guest report "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# wait_until SECONDS DESCRIPTION 'SHELL CONDITION': poll every 0.5 s; the
# condition is a string evaluated afresh each time
wait_until() {
	local limit=$1 what=$2 cond=$3
	local deadline=$((SECONDS + limit))
	until eval "$cond"; do
		((SECONDS < deadline)) || fail "timed out after ${limit}s waiting for: $what"
		sleep 0.5
	done
}

now_ms() { date +%s%3N; }

cleanup_guests() {
	local g
	for g in "$@"; do "$TB" guest remove "$g" >/dev/null 2>&1 || true; done
}
