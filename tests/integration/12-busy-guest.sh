#!/usr/bin/env bash
# Scenario: a guest busy with libvirt while memtuned runs. First it is
# paused (virsh suspend), then saved to a file (virsh save) and restored.
# libvirt holds a saved guest's job lock until the save is done, and a
# balloon or memtune call waits for that lock (up to 30 s); in memtuned's
# one loop that wait would starve everything else. Throughout, the daemon
# must answer `memtunectl status` within 1 s, keep growing the two other
# guests (ballooned down to 256 MiB before each phase), leave the busy
# guest alone, and show it in status as skipped with the reason.
# Fails when the job check is taken out (the state and control checks in
# guests.c and act.c): the paused guest is then planned for and changed,
# and during the save a call on it holds the loop.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	virsh -q -c "$URI" resume mt-bz-busy >/dev/null 2>&1 || true
	cleanup_guests mt-bz-busy mt-bz-a mt-bz-b
	rm -rf "$W"
}
trap cleanup EXIT

# the busy guest has touched 600 MiB of its own data, so its save writes
# real pages; it is below its max, so a memtuned that did not skip it
# would plan for it
"$TB" guest add bz-busy --mem 896 --max 1280 --fill unique --load 1s:alloc:600M:0
"$TB" guest add bz-a --mem 256 --max 768
"$TB" guest add bz-b --mem 256 --max 768
"$TB" guest wait bz-busy bz-a bz-b
for g in mt-bz-busy mt-bz-a mt-bz-b; do
	wait_until 30 "fresh stats from $g" '[[ -n $(stat_of '$g' balloon.usable) ]]'
done
wait_until 60 "mt-bz-busy holds its 600 MiB" \
	'[[ $(report_field mt-bz-busy held) -ge $((600 * 1024)) ]]'

CONF=$W/memtuned.conf
cat >"$CONF" <<CONF
[daemon]
uri = $URI
interval = 1s
interval_max = 1s
control_socket = $W/control.sock
psi_threshold = off
manage_ksm = no
manage_thp = no
[policy]
cooldown = 1s
CONF
start_daemon "$CONF" "$W/daemon.log"

# status_line: the status's latency in ms, its tick count, and the busy
# guest's state and reason ("absent" when it is not listed)
status_line() {
	local t0 t1 out
	t0=$(now_ms)
	out=$("$BUILD/memtunectl" -f "$CONF" status --json 2>&1) ||
		fail "memtunectl status failed: $out"
	t1=$(now_ms)
	printf '%s\n' "$out" | python3 -c '
import json, sys
st = json.load(sys.stdin)
g = [g for g in st["guests"] if g["name"] == "mt-bz-busy"]
state = g[0].get("state", "-") if g else "absent"
reason = (g[0].get("reason") or "-") if g else "-"
print(sys.argv[1], st["ticks"], state, reason.replace(" ", "_"))
' $((t1 - t0))
}

# deflate_others: ask the two other guests' balloons down to 256 MiB, so
# memtuned has growing to do for them during the next phase (it starts at
# once, from wherever the balloon has got to)
deflate_others() {
	local g
	for g in mt-bz-a mt-bz-b; do
		virsh -q -c "$URI" setmem "$g" 262144 --live || fail "setmem $g"
	done
}

# watch SECONDS PHASE [PID]: poll status every 0.2 s for SECONDS (or until
# PID exits); sets MAX_MS (worst status latency), TICKS (ticks run),
# SKIPPED (polls that showed the busy guest skipped) and REASONS
watch() {
	local secs=$1 phase=$2 pid=${3:-} end line ms ticks st reason
	end=$(( $(now_ms) + secs * 1000 ))
	MAX_MS=0 SKIPPED=0 REASONS= TICKS=
	local first_ticks=
	while (( $(now_ms) < end )); do
		[[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null && break
		line=$(status_line) || fail "$phase: no status"
		read -r ms ticks st reason <<<"$line"
		(( ms > MAX_MS )) && MAX_MS=$ms
		(( ms < 1000 )) || fail "$phase: status took $ms ms"
		[[ -z $first_ticks ]] && first_ticks=$ticks
		TICKS=$(( ticks - first_ticks ))
		if [[ $st == skipped ]]; then
			SKIPPED=$((SKIPPED + 1))
			[[ $REASONS == *"$reason"* ]] || REASONS+="$reason "
		fi
		sleep 0.2
	done
}

# acted GUEST: balloon or memtune changes memtuned made on GUEST since
# the log's line MARK
acted() {
	tail -n +"$MARK" "$W/daemon.log" | grep -cE "^memtuned: (balloon|memtune) $1: " || true
}

# late: calls the loop gave up on at their deadline since MARK
late() {
	tail -n +"$MARK" "$W/daemon.log" | grep -c 'no answer from libvirt' || true
}

wait_until 15 "memtuned manages mt-bz-busy" \
	'read -r _ _ st _ < <(status_line); [[ $st != skipped && $st != absent ]]'

# ---- paused ------------------------------------------------------------
deflate_others
MARK=$(( $(wc -l <"$W/daemon.log") + 1 ))
virsh -q -c "$URI" suspend mt-bz-busy || fail "virsh suspend failed"
watch 8 "paused"
virsh -q -c "$URI" resume mt-bz-busy || fail "virsh resume failed"
note "paused 8 s: status at most ${MAX_MS} ms, ${TICKS} ticks, skipped in ${SKIPPED} polls: ${REASONS}"
(( SKIPPED > 0 )) || fail "paused: status never showed mt-bz-busy as skipped"
[[ $REASONS == *paused_by_its_user* ]] || fail "paused: reason was '$REASONS'"
(( TICKS >= 5 )) || fail "paused: only $TICKS ticks in 8 s"
n=$(acted mt-bz-busy)
(( n == 0 )) || fail "paused: memtuned changed mt-bz-busy $n times while it was paused"
pause_late=$(late)
na=$(( $(acted mt-bz-a) + $(acted mt-bz-b) ))
(( na > 0 )) || fail "paused: memtuned did nothing for the other guests"
pause_max=$MAX_MS pause_ticks=$TICKS pause_other=$na

wait_until 15 "memtuned manages mt-bz-busy again after resume" \
	'read -r _ _ st _ < <(status_line); [[ $st != skipped && $st != absent ]]'

# ---- saved to a file, then restored ------------------------------------
# memtuned grew the busy guest back to its max after the pause: below it
# again, so there is something a memtuned that did not skip it would do
deflate_others
virsh -q -c "$URI" setmem mt-bz-busy 917504 --live || fail "setmem mt-bz-busy"
MARK=$(( $(wc -l <"$W/daemon.log") + 1 ))
t0=$(now_ms)
virsh -q -c "$URI" save mt-bz-busy "$W/busy.save" >"$W/save.out" 2>&1 &
spid=$!
watch 60 "saving" "$spid"
wait "$spid" || fail "virsh save failed: $(cat "$W/save.out")"
save_ms=$(( $(now_ms) - t0 ))
note "save took $save_ms ms: status at most ${MAX_MS} ms, ${TICKS} ticks, skipped in ${SKIPPED} polls: ${REASONS}"
save_max=$MAX_MS save_ticks=$TICKS
(( SKIPPED > 0 )) || fail "saving: status never showed mt-bz-busy as skipped (the save took $save_ms ms)"
[[ $REASONS == *being_saved* ]] || fail "saving: reason was '$REASONS'"
n=$(acted mt-bz-busy)
(( n == 0 )) || fail "saving: memtuned changed mt-bz-busy $n times during its save"
# a change that raced the save's start may have run out its deadline: the
# status bound above is what that costs
save_late=$(late)
save_other=$(( $(acted mt-bz-a) + $(acted mt-bz-b) ))
(( save_other > 0 )) || fail "saving: memtuned did nothing for the other guests"

t0=$(now_ms)
virsh -q -c "$URI" restore "$W/busy.save" >/dev/null || fail "virsh restore failed"
rm -f "$W/busy.save"
wait_until 15 "memtuned manages mt-bz-busy after its restore" \
	'read -r _ _ st _ < <(status_line); [[ $st != skipped && $st != absent ]]'
restore_ms=$(( $(now_ms) - t0 ))

kill -0 "$DPID" || fail "memtuned died"
stop_daemon || fail "memtuned did not stop cleanly"
# the ticks that held the loop longest, with what they waited for
slowest=$(sed -n 's/^memtuned: tick took \([0-9]*\) ms$/\1/p' "$W/daemon.log" | sort -n | tail -n 1)
note "slow ticks:"
grep -B12 -E '^memtuned: tick took [0-9]{3,} ms' "$W/daemon.log" |
	grep -E 'tick took [0-9]{3,}|states of|no answer|answered after' | sed 's/^/    /' || true
measure "pause_status_max_ms=$pause_max pause_ticks_8s=$pause_ticks pause_other_actions=$pause_other pause_deadlines_run_out=$pause_late save_ms=$save_ms save_status_max_ms=$save_max save_ticks=$save_ticks save_other_actions=$save_other save_deadlines_run_out=$save_late restore_managed_ms=$restore_ms slowest_tick_ms=$slowest"
