# lib.sh - helpers for the real-guest integration tests (sourced).
# Each test is a script tests/integration/NN-name.sh run by scripts/run-integration
# with BUILD set; it exits 0 when the behaviour is right and prints what it
# measured as "measure: key=value" lines.
set -euo pipefail

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
STATE=/var/lib/memtuned-testbed
TB_BIN="$TOP/scripts/testbed"
# a timeline in the test's own log (build/integration-logs/NN-*.log): when
# each wait ended and how long it took, and how long each testbed command
# took, from the test's start. What make check's time goes to, per phase
MT_T0=$(date +%s%3N)
timeline() {
	local ms=$(( $(date +%s%3N) - MT_T0 ))
	printf '  [%d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"
}
testbed_timed() {
	local t0 rc
	t0=$(date +%s%3N)
	"$TB_BIN" "$@"
	rc=$?
	case $1 in
	guest) case ${2:-} in
		add|wait|remove) timeline "testbed $1 $2 ${3:-}: $(( $(date +%s%3N) - t0 )) ms" ;;
		esac ;;
	esac
	return $rc
}
TB=testbed_timed
# the testbed's own libvirtd (scripts/testbed: a private mount namespace)
URI=${MT_URI:-$("$TB" uri)}
export MT_BUILD=$BUILD

# One user of the testbed at a time: guests are all named mt-*, KSM and
# host memory are shared, and a test's figures mean nothing while another
# run boots guests next to it. The first script of a run takes the lock;
# the scripts it starts inherit it.
testbed_lock() {
	[[ -n ${MT_TESTBED_LOCKED:-} ]] && return 0
	exec 9>/run/lock/memtuned-testbed.lock
	if ! flock -n 9; then
		echo "testbed: waiting for another run to finish with it" >&2
		flock 9
	fi
	export MT_TESTBED_LOCKED=$$
}
testbed_lock

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	# what the daemon thinks of each guest now, with its reason: the log
	# has only the actions it took, not why it took none. First, so that
	# a summary showing the head of a failure shows the reasons
	if [[ -n ${DPID:-} && -n ${DAEMON_CONF:-} ]] && kill -0 "$DPID" 2>/dev/null; then
		echo "--- memtunectl status ---" >&2
		timeout 10 "$BUILD/memtunectl" -f "$DAEMON_CONF" status 2>&1 |
			head -n 20 >&2 || true
	fi
	if [[ -n ${DAEMON_LOG:-} && -f $DAEMON_LOG ]]; then
		# without the per-tick timings a verbose daemon writes: a
		# summary showing only the head of a failure then shows what
		# the daemon did and said
		echo "--- memtuned log (last 25 lines but the tick timings) ---" >&2
		grep -Ev 'memtuned: (tick took|guests: states of) ' "$DAEMON_LOG" |
			tail -n 25 >&2
		# the whole log beside the test's own
		mkdir -p "$BUILD/integration-logs"
		cp "$DAEMON_LOG" "$BUILD/integration-logs/$(basename "$0" .sh).daemon.log" 2>/dev/null || true
		echo "(whole log: $BUILD/integration-logs/$(basename "$0" .sh).daemon.log)" >&2
	fi
	exit 1
}
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
	local t0
	t0=$(date +%s%3N)
	until eval "$cond"; do
		((SECONDS < deadline)) || fail "timed out after ${limit}s waiting for: $what"
		sleep 0.5
	done
	timeline "waited $(( $(date +%s%3N) - t0 )) ms for: $what"
}

now_ms() { date +%s%3N; }

cleanup_guests() {
	local g
	for g in "$@"; do "$TB" guest remove "$g" >/dev/null 2>&1 || true; done
}

# ---- the host made short --------------------------------------------------
# The hog's cost is touching memory: about 2.5 ms a MiB on this machine,
# whose own hypervisor takes back what this kernel frees (free page
# reporting), so a hog leaving 1 GiB of 23.5 GiB took 45-65 s each time.
# hog_prefill LEAVE_MIB starts taking all but LEAVE_MIB + 4 GiB in the
# background while the test's guests boot and load (they touch less than
# that margin); the test's own hog then takes the last few GiB once they
# hold what they hold, in seconds. hog_prefill_stop in the cleanup.
HOG_BASE=
hog_prefill() {
	( exec 9>&-; exec "$BUILD/integration/hog" $(( $1 + 4096 )) ) \
		>"$W/hog-base.log" 2>&1 &
	HOG_BASE=$!
}
hog_prefill_stop() {
	[[ -n $HOG_BASE ]] && kill "$HOG_BASE" 2>/dev/null
	HOG_BASE=
	return 0
}
# hog_prefill_wait: the background part has taken what it takes
hog_prefill_wait() {
	wait_until 120 "the first part of the hog holds its memory" \
		'grep -q holding "$W/hog-base.log"'
}

# ---- memtuned under test -------------------------------------------------
# start_daemon CONF LOG: memtuned in the foreground, its pid in DPID
DPID=
start_daemon() {
	DAEMON_LOG=$2 DAEMON_CONF=$1
	"$BUILD/memtuned" -d -f "$1" >"$2" 2>&1 &
	DPID=$!
	# the daemon's own answer: memtunectl's read verbs fall back to
	# computing here while no daemon listens, which proves nothing
	# (read whole, not piped to grep -q: under pipefail, memtunectl
	# killed by SIGPIPE when grep quits early made the check fail)
	wait_until 15 "memtuned answers on its socket" \
		'[[ $("$BUILD/memtunectl" -f "'"$1"'" status --json 2>/dev/null) == *"\"source\": \"daemon\""* ]]'
}

stop_daemon() {
	[[ -n ${DPID:-} ]] || return 0
	kill -TERM "$DPID" 2>/dev/null || true
	local rc=0
	wait "$DPID" 2>/dev/null || rc=$?
	DPID=
	return $rc
}

mem_avail_kib() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }

# status_json CONF: the daemon's status
status_json() { "$BUILD/memtunectl" -f "$1" status --json; }

# guest_json CONF NAME FIELD: one field of a guest in the daemon's status
guest_field() {
	status_json "$1" | python3 -c '
import json, sys
st = json.load(sys.stdin)
for g in st["guests"]:
    if g["name"] == sys.argv[1]:
        v = g.get(sys.argv[2])
        print("" if v is None else v)
' "$2" "$3"
}

# ksm_get KNOB / ksm_set KNOB VALUE: the host's KSM, with the old values
# kept in $KSM_SAVED for ksm_restore
KSM=/sys/kernel/mm/ksm
ksm_get() { cat "$KSM/$1"; }
ksm_advisor() {
	[[ -f $KSM/advisor_mode ]] || { echo -; return; }
	sed -E 's/.*\[([a-z-]+)\].*/\1/' "$KSM/advisor_mode"
}
# (the advisor's own knobs too: memtuned sets them and does not put them
# back at exit)
ksm_save() {
	local k adv=""
	for k in advisor_max_cpu advisor_target_scan_time; do
		if [[ -f $KSM/$k ]]; then adv+=" $(ksm_get $k)"; else adv+=" -"; fi
	done
	KSM_SAVED="$(ksm_get run) $(ksm_get pages_to_scan) $(ksm_get sleep_millisecs) $(ksm_advisor)$adv"
}
ksm_restore() {
	[[ -n ${KSM_SAVED:-} ]] || return 0
	set -- $KSM_SAVED
	[[ ${5:--} != - ]] && echo "$5" >"$KSM/advisor_max_cpu" 2>/dev/null || true
	[[ ${6:--} != - ]] && echo "$6" >"$KSM/advisor_target_scan_time" 2>/dev/null || true
	# the advisor first: pages_to_scan is refused while it is in charge
	[[ $4 != - ]] && echo "$4" >"$KSM/advisor_mode" 2>/dev/null || true
	echo "$2" >"$KSM/pages_to_scan" 2>/dev/null || true
	echo "$3" >"$KSM/sleep_millisecs" || true
	echo "$1" >"$KSM/run" || true
}

# thp_sel FILE / thp_knob KNOB / thp_now: the host's THP choice in FILE
# (the bracketed word), a khugepaged knob, and the four memtuned tunes as
# one line: defrag, scan_sleep_millisecs, pages_to_scan, max_ptes_none.
# thp_save keeps them in $THP_SAVED for thp_restore.
THP=/sys/kernel/mm/transparent_hugepage
thp_sel() { sed -E 's/.*\[([a-z+]+)\].*/\1/' "$THP/$1"; }
thp_knob() { cat "$THP/khugepaged/$1"; }
thp_now() { echo "$(thp_sel defrag) $(thp_knob scan_sleep_millisecs) $(thp_knob pages_to_scan) $(thp_knob max_ptes_none)"; }
thp_save() { THP_SAVED=$(thp_now); }
thp_restore() {
	[[ -n ${THP_SAVED:-} ]] || return 0
	set -- $THP_SAVED
	echo "$1" >"$THP/defrag" || true
	echo "$2" >"$THP/khugepaged/scan_sleep_millisecs" || true
	echo "$3" >"$THP/khugepaged/pages_to_scan" || true
	echo "$4" >"$THP/khugepaged/max_ptes_none" || true
}

# ksm_fresh: no merged pages left from before, KSM off as most hosts ship
# it, the kernel's defaults for the knobs: a measured run starts from the
# same place, and a manager starting now sees no other hand on KSM
ksm_fresh() {
	echo 2 >"$KSM/run"
	wait_until 120 "KSM unmerged" '[[ $(ksm_get pages_sharing) == 0 ]]'
	echo 0 >"$KSM/run"
	if [[ -f $KSM/advisor_mode ]]; then
		echo none >"$KSM/advisor_mode"
		# the kernel's defaults: a manager that never sets them is seen
		echo 70 >"$KSM/advisor_max_cpu"
		echo 200 >"$KSM/advisor_target_scan_time"
	fi
	echo 100 >"$KSM/pages_to_scan"
	echo 20 >"$KSM/sleep_millisecs"
	[[ -f $KSM/smart_scan ]] && echo 1 >"$KSM/smart_scan"
	return 0
}
