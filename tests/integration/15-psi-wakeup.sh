#!/usr/bin/env bash
# Scenario: a memory stall wakes memtuned at once. With a 30 s interval
# (interval_min = interval_max = 30 s, so neither the policy nor the
# MemAvailable watch ticks sooner), the host's PSI trigger
# (/proc/pressure/memory, "some" 150 ms in a 2 s window here) must make
# memtuned decide within 3 s of the stall, not at its next timed tick 30 s
# later: the kernel checks a trigger over its window (2 s here: without
# CAP_SYS_RESOURCE it takes only whole multiples of 2 s) and this test
# sees the tick through memtunectl, polled every 100 ms on a busy machine,
# so 2 s was within noise of what the kernel allows (a run here measured
# 2,084 ms with the trigger working).
# The stall is real and kept small: a writer confined to a scratch memory
# cgroup of 16 MiB, so its reclaim waits on writeback (counted by PSI as
# memory stall) while the rest of the host has plenty.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d -p /var/tmp)
CG=/sys/fs/cgroup/memory/mt-psi-$$
STALL=
cleanup() {
	stop_daemon || true
	if [[ -n $STALL ]]; then
		touch "$W/stop"
		wait "$STALL" 2>/dev/null || true
	fi
	[[ -d $CG ]] && rmdir "$CG" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

[[ -f /proc/pressure/memory ]] || fail "no /proc/pressure/memory: PSI is off in this kernel"
[[ -d /sys/fs/cgroup/memory ]] || fail "no cgroup v1 memory hierarchy for the scratch cgroup"

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
interval = 30s
interval_min = 30s
interval_max = 30s
psi_threshold = 150ms
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"
# (the socket answers before the start line is written)
wait_until 10 "memtuned's start line" 'grep -q "started: " "$W/daemon.log"'
grep -q 'psi_trigger=on' "$W/daemon.log" || fail "memtuned opened no PSI trigger: $(grep -i psi "$W/daemon.log")"

ticks() { status_json "$W/memtuned.conf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ticks"])'; }
psi_some_us() { awk '$1 == "some" { sub("total=", "", $5); print $5 }' /proc/pressure/memory; }

# the first tick is at start; the next timed one 30 s later. The host's
# own stalls (the testbed starting up, a build next door) may wake it
# too: wait for 3 quiet seconds in a row
wait_until 10 "memtuned's first tick" '(( $(ticks) >= 1 ))'
k0=$(ticks) quiet=0
for _ in $(seq 1 40); do
	sleep 0.5
	k=$(ticks)
	if (( k == k0 )); then quiet=$((quiet + 1)); else k0=$k quiet=0; fi
	(( quiet >= 6 )) && break
done
(( quiet >= 6 )) || fail "memtuned kept ticking with nothing to wake it (PSI: $(head -n 1 /proc/pressure/memory)): the test cannot tell a PSI wake-up"

# the stall: writes inside a 16 MiB memory cgroup until the stall is seen
# (at most 14 s: on a loaded machine the first seconds of writes may
# stall little; a make check run here once saw 70 ms in 4 s)
mkdir "$CG"
echo $(( 16 * 1024 * 1024 )) >"$CG/memory.limit_in_bytes"
p0=$(psi_some_us)
t_start=$(now_ms)
( exec 9>&-; echo $BASHPID >"$CG/cgroup.procs"
  end=$(( $(date +%s) + 14 ))
  while (( $(date +%s) < end )) && [[ ! -e $W/stop ]]; do
	dd if=/dev/zero of="$W/stall.dat" bs=1M count=64 conv=notrunc status=none
  done ) &
STALL=$!

# sample the kernel's stall total and memtuned's ticks every 100 ms: the
# stall "happens" when the threshold's worth (150 ms) has accumulated
t_stall= t_tick= k1=$k0
while (( $(now_ms) - t_start < 16000 )); do
	now=$(now_ms)
	st=$(( ($(psi_some_us) - p0) / 1000 ))
	[[ -z $t_stall ]] && (( st >= 150 )) && t_stall=$now
	k1=$(ticks)
	[[ -z $t_tick ]] && (( k1 > k0 )) && t_tick=$(now_ms)
	[[ -n $t_stall && -n $t_tick ]] && break
	sleep 0.1
done
# the stall has done its work: stop writing (the dd under way ends)
touch "$W/stop"
wait "$STALL" 2>/dev/null || true
STALL=
stall_ms=$(( ($(psi_some_us) - p0) / 1000 ))
rmdir "$CG" 2>/dev/null || true
rel() { [[ -n $1 ]] && echo $(( $1 - $2 )) || echo never; }
measure "stall_ms=$stall_ms stall_at_ms=$(rel "$t_stall" $t_start) tick_at_ms=$(rel "$t_tick" $t_start) tick_after_stall_ms=$( [[ -n $t_stall ]] && rel "$t_tick" $t_stall || echo never) psi_wakeups_logged=$(grep -c 'PSI trigger: memory stall' "$W/daemon.log" || true)"

[[ -n $t_stall ]] || fail "the writer made only $stall_ms ms of memory stall in 16 s: no stall to wake memtuned"
[[ -n $t_tick ]] || fail "memtuned did not tick within $(( ($(now_ms) - t_stall) / 1000 )) s of a ${stall_ms} ms memory stall: the PSI trigger did not wake it"
(( t_tick - t_stall <= 3000 )) ||
	fail "memtuned ticked $(( t_tick - t_stall )) ms after the stall; want within 3 s"
grep -q 'PSI trigger: memory stall over threshold, deciding now' "$W/daemon.log" ||
	fail "memtuned ticked, but its log does not say the PSI trigger woke it"
kill -0 "$DPID" || fail "memtuned died"
stop_daemon || fail "memtuned did not stop cleanly"
exit 0
