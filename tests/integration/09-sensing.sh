#!/usr/bin/env bash
# Sensing on real guests: the collector's balloon actual and usable match
# `virsh dommemstat`; each guest's QEMU process and memory cgroup are found;
# taskstats answers for the QEMU process with non-zero counters once delay
# accounting is on; QEMU's own memory is measured, and the RSS less it is
# what the guest RAM's mapping holds as a separate reading of smaps finds
# it (the mapping of the guest's max memory, writable, not executable).
# (KSM pages_sharing rising with identical guests is in 06-vdi-ksm.)
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
SYSCTL=/proc/sys/kernel/task_delayacct
acct0=$(cat "$SYSCTL" 2>/dev/null || echo absent)
cleanup() {
	[[ $acct0 != absent ]] && echo "$acct0" >"$SYSCTL"
	cleanup_guests mt-se1 mt-se2
	rm -rf "$W"
}
trap cleanup EXIT

[[ $acct0 != absent ]] && echo 1 >"$SYSCTL"
"$TB" guest add se1 --mem 512 --load 1s:alloc:200M:50
"$TB" guest add se2 --mem 384 --max 512 --load 1s:alloc:100M:10
"$TB" guest wait se1 se2
wait_until 30 "mt-se2's balloon settles at 384 MiB" '(( $(stat_of mt-se2 balloon.current) <= 385 * 1024 ))'
sleep 4

for g in mt-se1 mt-se2; do
	# read both views back to back; stats refresh every 2 s, so retry
	# until they agree on one sample
	ok=
	for try in 1 2 3 4 5; do
		line=$("$BUILD/integration/sense" "$URI" | grep "^$g ")
		ours_actual=$(sed -E 's/.* actual=([0-9]+).*/\1/' <<<"$line")
		ours_usable=$(sed -E 's/.* usable=([0-9]+).*/\1/' <<<"$line")
		virsh -q -c "$URI" dommemstat "$g" >"$W/ms"
		v_actual=$(awk '$1 == "actual" { print $2 }' "$W/ms")
		v_usable=$(awk '$1 == "usable" { print $2 }' "$W/ms")
		if [[ $ours_actual == "$v_actual" && $ours_usable == "$v_usable" ]]; then ok=1; break; fi
		sleep 0.5
	done
	[[ -n $ok ]] || fail "$g: collector actual/usable $ours_actual/$ours_usable, virsh $v_actual/$v_usable"
	note "$line"
	[[ $line == *" stats=ok "* ]] || fail "$g: stats not fresh: $line"
	pid=$(sed -E 's/.* pid=([0-9-]+).*/\1/' <<<"$line")
	[[ $pid =~ ^[0-9]+$ ]] && grep -q "guest=$g" "/proc/$pid/cmdline" ||
		fail "$g: QEMU pid '$pid' not found or not this guest's"
	[[ $line =~ cg=[12]\  ]] || fail "$g: memory cgroup not found: $line"
	if [[ $acct0 != absent ]]; then
		[[ $line == *" ts=1 "* ]] || fail "$g: taskstats gave nothing: $line"
		cpu=$(sed -E 's/.* cpu_ns=([0-9-]+).*/\1/' <<<"$line")
		(( cpu > 0 )) || fail "$g: taskstats CPU counter is $cpu"
	fi
	rss=$(sed -E 's/.* rss=([0-9-]+).*/\1/' <<<"$line")
	own=$(sed -E 's/.* own=([0-9-]+).*/\1/' <<<"$line")
	(( own > 0 )) || fail "$g: QEMU's own memory not measured: $line"
	# the guest RAM's mapping read here, on its own: its Rss
	ram=$(python3 - "$pid" 524288 <<'PY'
import re, sys
pid, size = sys.argv[1], int(sys.argv[2])
rss, cur = 0, False
for l in open("/proc/%s/smaps" % pid):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) ", l)
    if m:
        cur = ((int(m[2], 16) - int(m[1], 16)) // 1024 == size and
            m[3][1] == "w" and m[3][2] != "x")
    elif cur and l.startswith("Rss:"):
        rss += int(l.split()[1])
print(rss)
PY
)
	(( ram > 0 )) || fail "$g: no guest RAM mapping of 512 MiB in smaps"
	# read a moment apart; the idle guest's RAM moves little meanwhile
	d=$(( rss - own - ram ))
	(( d < 16384 && d > -16384 )) ||
		fail "$g: RSS $rss less QEMU's own $own is $(( rss - own )) KiB, the RAM mapping holds $ram KiB"
	measure "$g actual_kib=$ours_actual usable_kib=$ours_usable virsh_actual=$v_actual virsh_usable=$v_usable rss_kib=$rss qemu_own_kib=$own ram_rss_kib=$ram"
done
