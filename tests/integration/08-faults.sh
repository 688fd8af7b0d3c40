#!/usr/bin/env bash
# Scenario: faults. A guest whose balloon driver never loads (so its
# balloon cannot move) and a guest that reports no statistics, next to two
# healthy idle guests, on a host under pressure. The stuck one must be
# reported uncooperative, the silent one never read as idle, and the
# healthy ones still balanced. Then memtuned restarts: the hard limit it
# set on the stuck guest must still be known as its own (recorded in the
# domain's metadata), kept while the guest is stuck, and lifted by a
# memtuned restarted with hard_limit = off. (libvirtd loss and a broken
# SIGHUP config are in 02-daemon-rebalance.)
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
G=(mt-fl-nodrv mt-fl-nostats mt-fl-ok1 mt-fl-ok2)
cleanup() {
	stop_daemon || true
	cleanup_guests "${G[@]}"
	rm -rf "$W"
}
trap cleanup EXIT

NS='http://memtuned.org/xmlns/memtuned/1'
# its ceiling is below its size, so memtuned must ask its balloon to move
"$TB" guest add fl-nodrv --mem 512 --no-balloon-driver \
	--metadata "<memtuned:policy xmlns:memtuned='$NS' ceiling='320M'/>"
"$TB" guest add fl-nostats --mem 512 --no-stats
# nearly all they have free, touched and freed (why: 05-floors-ceilings)
"$TB" guest add fl-ok1 --mem 512 --load 1s:alloc:340M:0,6s:free:340M
"$TB" guest add fl-ok2 --mem 512 --load 1s:alloc:340M:0,6s:free:340M
"$TB" guest wait "${G[@]#mt-}"
wait_until 20 "fresh stats from the healthy guests" \
	'[[ -n $(stat_of mt-fl-ok1 balloon.usable) && -n $(stat_of mt-fl-ok2 balloon.usable) ]]'

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
# this test is about guests that do not report: memtuned must not fix it
stats_period = 0
[policy]
reserve = 1T
balloon_inactive = 5s
balloon_uncooperative = 20s
CONF
t0=$(now_ms)
start_daemon "$W/memtuned.conf" "$W/daemon.log"

state_of() { guest_field "$W/memtuned.conf" "$1" state; }
wait_until 90 "mt-fl-nodrv is reported uncooperative" '[[ $(state_of mt-fl-nodrv) == uncooperative ]]'
uncoop_ms=$(( $(now_ms) - t0 ))
# only a controller sets a stats period, and this one is told not to: a
# period on the guest means something else manages the testbed's guests
if virsh -q -c "$URI" dumpxml mt-fl-nostats | grep -q '<stats period'; then
	fail "mt-fl-nostats has a stats period, which memtuned was told not to set: another controller acts on the guests ($(pgrep -a -f 'memtuned|momd|ksmtuned' | tr '\n' ';'))"
fi
st=$(state_of mt-fl-nostats)
[[ $st == stale ]] || fail "mt-fl-nostats is '$st', want 'stale' (no statistics: never idle): $(guest_field "$W/memtuned.conf" mt-fl-nostats reason)"
nostats_actual=$(stat_of mt-fl-nostats balloon.current)
(( nostats_actual >= 512 * 1024 - 1024 )) || fail "the guest without statistics was squeezed to $nostats_actual KiB"
for g in mt-fl-ok1 mt-fl-ok2; do
	wait_until 60 "$g is ballooned down" '(( $(stat_of '$g' balloon.current) < 450 * 1024 ))'
done
"$BUILD/memtunectl" -f "$W/memtuned.conf" status | tee "$W/status.txt"
"$BUILD/memtunectl" -f "$W/memtuned.conf" explain mt-fl-nodrv
hard=$(virsh -q -c "$URI" memtune mt-fl-nodrv | awk '$1 == "hard_limit" {print $3}')
kill -0 "$DPID" || fail "memtuned died"
measure "uncooperative_after_ms=$uncoop_ms nodrv_hard_limit=$hard ok1_kib=$(stat_of mt-fl-ok1 balloon.current) ok2_kib=$(stat_of mt-fl-ok2 balloon.current)"

# ---- the hard limit memtuned set, across its restart ----------------------
STNS='http://memtuned.org/xmlns/memtuned/state/1'
record_of() {
	virsh -q -c "$URI" metadata "$1" --uri "$STNS" --live 2>/dev/null |
	    tr -d '\n' || true
}
hard_of() { virsh -q -c "$URI" memtune "$1" | awk '$1 == "hard_limit" {print $3}'; }
rec_kib() { sed -n 's/.*hard_limit="\([0-9]*\)".*/\1/p' <<<"$1"; }

[[ $hard =~ ^[0-9]+$ ]] || fail "memtuned set no hard limit on the stuck guest (memtune: '$hard')"
# the limit holds a stuck balloon where memtuned asked it to be: its
# target plus QEMU's overhead (qemu_overhead 256 MiB + 2 % of the 512 MiB
# max), never under what QEMU holds (RSS + overhead: a limit under the RSS
# kills the VM); rewritten only when off by more than min_change (16 MiB)
tgt=$(guest_field "$W/memtuned.conf" mt-fl-nodrv target_kib)
rss=$(guest_field "$W/memtuned.conf" mt-fl-nodrv rss_kib)
[[ $tgt =~ ^[0-9]+$ && $rss =~ ^[0-9]+$ ]] || fail "no target ($tgt) or RSS ($rss) for mt-fl-nodrv in the daemon's status"
overhead=$(( 256 * 1024 + 512 * 1024 * 200 / 10000 ))
hard_want=$(( (tgt > rss ? tgt : rss) + overhead ))
(( hard - hard_want <= 16 * 1024 && hard_want - hard <= 16 * 1024 )) ||
	fail "the stuck guest's hard limit is $hard KiB; want max(target $tgt, RSS $rss) + overhead $overhead = $hard_want KiB"
measure "nodrv_target_kib=$tgt nodrv_rss_kib=$rss hard_limit_want_kib=$hard_want hard_limit_off_kib=$(( hard - hard_want ))"
rec=$(record_of mt-fl-nodrv)
rk=$(rec_kib "$rec")
# libvirt reads the limit back from the cgroup, in whole pages
[[ -n $rk ]] && (( rk - hard < 64 && hard - rk < 64 )) ||
	fail "memtuned's record '$rec' does not describe the hard limit $hard KiB it set"
note "record before the restart: $rec"

stop_daemon || fail "memtuned did not stop cleanly"
t1=$(now_ms)
start_daemon "$W/memtuned.conf" "$W/daemon2.log"
wait_until 10 "the restarted memtuned has a plan" '[[ -n $(state_of mt-fl-nodrv) ]]'
# balloon_uncooperative is 20 s: only the record can tell it so soon
st=$(state_of mt-fl-nodrv)
restart_ms=$(( $(now_ms) - t1 ))
[[ $st == uncooperative ]] ||
	fail "after the restart mt-fl-nodrv is '$st' after ${restart_ms} ms, want 'uncooperative' from memtuned's record"
sleep 8
kill -0 "$DPID" || fail "the restarted memtuned died"
h2=$(hard_of mt-fl-nodrv)
[[ $h2 =~ ^[0-9]+$ ]] || fail "the restarted memtuned lifted the limit of a guest still stuck (memtune: '$h2')"
(( h2 - hard < 16384 && hard - h2 < 16384 )) ||
	fail "the restarted memtuned changed the stuck guest's limit from $hard to $h2 KiB"
[[ -n $(rec_kib "$(record_of mt-fl-nodrv)") ]] || fail "memtuned's record is gone while its limit stays"

# the same limit is lifted by a memtuned restarted with hard_limit = off
stop_daemon || fail "memtuned did not stop cleanly"
sed 's/^\[policy\]$/[policy]\nhard_limit = off/' "$W/memtuned.conf" >"$W/memtuned-off.conf"
grep -q '^hard_limit = off$' "$W/memtuned-off.conf" || fail "could not write the hard_limit = off config"
t2=$(now_ms)
start_daemon "$W/memtuned-off.conf" "$W/daemon3.log"
wait_until 20 "memtuned lifts the hard limit it set before its restart" \
	'[[ $(hard_of mt-fl-nodrv) == unlimited ]]'
lift_ms=$(( $(now_ms) - t2 ))
wait_until 5 "memtuned's record removed" '[[ -z $(record_of mt-fl-nodrv) ]]'
grep -q "memtune mt-fl-nodrv: hard unlimited" "$W/daemon3.log" ||
	fail "the lift is not in memtuned's log"
kill -0 "$DPID" || fail "memtuned died"
measure "restart_uncooperative_ms=$restart_ms kept_hard_limit=$h2 lifted_after_restart_ms=$lift_ms"
