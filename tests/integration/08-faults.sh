#!/usr/bin/env bash
# Scenario: faults. A guest whose balloon driver never loads (so its
# balloon cannot move) and a guest that reports no statistics, next to two
# healthy idle guests, on a host under pressure. The stuck one must be
# reported uncooperative, the silent one never read as idle, and the
# healthy ones still balanced. (libvirtd loss and a broken SIGHUP config
# are in 02-daemon-rebalance.)
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
"$TB" guest add fl-ok1 --mem 512 --load 1s:alloc:300M:0,6s:free:300M
"$TB" guest add fl-ok2 --mem 512 --load 1s:alloc:300M:0,6s:free:300M
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
st=$(state_of mt-fl-nostats)
[[ $st == stale ]] || fail "mt-fl-nostats is '$st', want 'stale' (no statistics: never idle)"
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
