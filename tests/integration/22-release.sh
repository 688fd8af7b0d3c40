#!/usr/bin/env bash
# Scenario: memtunectl release gives back what memtuned changed, and only
# that. Two idle guests on a host memtuned finds short (a reserve far
# above what it has): one whose operator set memtune limits before
# memtuned started, one without. memtuned balloons both down, sets its own
# hard limits (hard_limit = always: on the operator's guest over the
# operator's own) and soft limits, and changes KSM and THP. After
# `memtunectl release` (asked of the running daemon): every guest is back
# at its max memory, each memtune limit is what it was before memtuned
# started (the operator's back, memtuned's gone), memtuned's records are
# gone, KSM and THP are as they were, and the daemon leaves the guests
# alone for as long as the test watches (they are released).
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
G=(mt-rl-op mt-rl-free)
ksm_now() { echo "$(ksm_get run) $(ksm_get pages_to_scan) $(ksm_get sleep_millisecs) $(ksm_advisor)"; }
THP_SAVED=
cleanup() {
	stop_daemon || true
	cleanup_guests "${G[@]}"
	thp_restore
	ksm_restore
	rm -rf "$W"
}
trap cleanup EXIT

STNS='http://memtuned.org/xmlns/memtuned/state/1'
record_of() {
	virsh -q -c "$URI" metadata "$1" --uri "$STNS" --live 2>/dev/null |
	    tr -d '\n' || true
}
# memtune NAME: "hard soft swap_hard" in KiB as libvirt reports them
# ("none": not reported, as swap_hard_limit without swap accounting)
memtune_of() {
	virsh -q -c "$URI" memtune "$1" | awk '
	    $1 == "hard_limit" { h = $3 } $1 == "soft_limit" { s = $3 }
	    $1 == "swap_hard_limit" { w = $3 }
	    END { print (h == "" ? "none" : h), (s == "" ? "none" : s),
	        (w == "" ? "none" : w) }'
}
# same_limit A B: equal, or both numbers within a page or two (libvirt
# reads the limits back from the cgroup in whole pages)
same_limit() {
	[[ $1 == "$2" ]] && return 0
	[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && (( $1 - $2 < 64 && $2 - $1 < 64 ))
}
same_memtune() {
	local a=($1) b=($2) i
	for i in 0 1 2; do same_limit "${a[i]}" "${b[i]}" || return 1; done
}

[[ -d $THP/khugepaged ]] || fail "no THP in this kernel ($THP)"
thp_save
ksm_save
ksm_fresh
# the host's own THP settings, none of them what memtuned sets when short
echo defer+madvise >"$THP/defrag"
echo 12000 >"$THP/khugepaged/scan_sleep_millisecs"
echo 2048 >"$THP/khugepaged/pages_to_scan"
echo 300 >"$THP/khugepaged/max_ptes_none"

# each guest touches 560 MiB and frees it: resident on the host, free
# inside, so memtuned takes it back with the balloon. Nearly all it has
# free, as in 05-floors-ceilings (why there)
LOAD=1s:alloc:560M:0,6s:free:560M
"$TB" guest add rl-op --mem 768 --load $LOAD
"$TB" guest add rl-free --mem 768 --load $LOAD
"$TB" guest wait rl-op rl-free
for g in "${G[@]}"; do
	wait_until 60 "$g has touched and freed its memory" \
		'[[ $(report_field '$g' t) -ge 8 && $(report_field '$g' held) == 0 ]]'
	wait_until 20 "fresh stats from $g" '[[ -n $(stat_of '$g' balloon.usable) ]]'
done
# the operator's limits: a hard limit well above what memtuned sets
# (max + QEMU overhead), and a soft limit
virsh -q -c "$URI" memtune mt-rl-op --hard-limit 2097152 --soft-limit 921600 --live >/dev/null
declare -A MT0 MAX
for g in "${G[@]}"; do
	MT0[$g]=$(memtune_of "$g")
	MAX[$g]=$(stat_of "$g" balloon.maximum)
	[[ ${MAX[$g]} =~ ^[0-9]+$ ]] || fail "no balloon.maximum for $g"
	note "$g before memtuned: memtune ${MT0[$g]}, max ${MAX[$g]} KiB"
done
[[ ${MT0[mt-rl-op]} =~ ^"2097152 921600 "(unlimited|none)$ ]] ||
	fail "the operator's limits did not go in: ${MT0[mt-rl-op]}"
ksm0=$(ksm_now)
thp0=$(thp_now)

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
interval = 1s
interval_max = 2s
[policy]
# far more than this host has: critical for the whole run
reserve = 1T
state_dwell = 1s
hard_limit = always
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"
C=("$BUILD/memtunectl" -f "$W/memtuned.conf")

for g in "${G[@]}"; do
	wait_until 90 "$g is ballooned down" \
		'(( $(stat_of '$g' balloon.current) < ${MAX['$g']} - 200 * 1024 ))'
	wait_until 30 "memtuned's hard limit on $g" '[[ -n $(record_of '$g') ]]'
done
wait_until 30 "memtuned changes KSM" '[[ $(ksm_now) != "$ksm0" ]]'
wait_until 30 "memtuned changes THP" '[[ $(thp_now) != "$thp0" ]]'
for g in "${G[@]}"; do
	mt=$(memtune_of "$g")
	note "$g under memtuned: memtune $mt, balloon $(stat_of "$g" balloon.current) KiB, record $(record_of "$g")"
	same_memtune "$mt" "${MT0[$g]}" && fail "memtuned set no limit of its own on $g: $mt"
done

# ---- the dry run changes nothing ---------------------------------------
"${C[@]}" release --dry-run >"$W/dry.txt" || fail "release --dry-run failed: $(cat "$W/dry.txt")"
cat "$W/dry.txt"
grep -q '^would: mt-rl-free .*hard_limit' "$W/dry.txt" || fail "the dry run does not plan lifting memtuned's hard limit on mt-rl-free"
grep -q '^would: mt-rl-op .*balloon' "$W/dry.txt" || fail "the dry run does not plan deflating mt-rl-op"
grep -q '^would: host .*ksm_thp' "$W/dry.txt" || fail "the dry run does not plan putting KSM and THP back"
[[ -n $(record_of mt-rl-free) ]] || fail "the dry run removed memtuned's record"
[[ $(guest_field "$W/memtuned.conf" mt-rl-free state) != released ]] || fail "the dry run released mt-rl-free"

# ---- release, asked of the daemon ---------------------------------------
t0=$(now_ms)
"${C[@]}" release --json >"$W/release.json" || fail "release failed (rc $?): $(cat "$W/release.json")"
python3 - "$W/release.json" <<'PY' || fail "the release's answer is not what it should be: $(cat "$W/release.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and not r["dry_run"] and r["host"] and r["failed"] == 0, r
names = sorted(g["name"] for g in r["guests"])
assert names == ["mt-rl-free", "mt-rl-op"], names
steps = {(s["guest"], s["what"]): s for s in r["steps"]}
assert all(s["done"] for s in r["steps"]), r["steps"]
# the operator's hard limit comes back; memtuned's alone is lifted
assert steps[("mt-rl-op", "hard_limit")]["to_kib"] == 2097152, steps
assert steps[("mt-rl-free", "hard_limit")]["to_kib"] is None, steps
assert (None, "ksm_thp") in steps, steps
PY
for g in "${G[@]}"; do
	wait_until 60 "$g is back at its max memory" \
		'(( $(stat_of '$g' balloon.current) >= ${MAX['$g']} ))'
done
back_ms=$(( $(now_ms) - t0 ))
for g in "${G[@]}"; do
	mt=$(memtune_of "$g")
	same_memtune "$mt" "${MT0[$g]}" ||
		fail "$g's memtune after the release is '$mt', want what it was before memtuned: '${MT0[$g]}'"
	[[ -z $(record_of "$g") ]] || fail "memtuned's record on $g outlived the release: $(record_of "$g")"
	st=$(guest_field "$W/memtuned.conf" "$g" state)
	[[ $st == released ]] || fail "$g is '$st' in the daemon's status, want 'released'"
done
[[ $(ksm_now) == "$ksm0" ]] || fail "KSM after the release is '$(ksm_now)', want '$ksm0' as found"
[[ $(thp_now) == "$thp0" ]] || fail "THP after the release is '$(thp_now)', want '$thp0' as found"
grep -q 'control: release of every guest and the host requested' "$W/daemon.log" ||
	fail "the release is not in memtuned's log"

# ---- released: left alone while the host stays short -------------------
HOLD_S=20
ticks_of() { status_json "$W/memtuned.conf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ticks"])'; }
ticks0=$(ticks_of)
end=$((SECONDS + HOLD_S))
while ((SECONDS < end)); do
	for g in "${G[@]}"; do
		cur=$(stat_of "$g" balloon.current)
		(( cur >= ${MAX[$g]} )) || fail "the daemon shrank the released $g to $cur KiB"
		mt=$(memtune_of "$g")
		same_memtune "$mt" "${MT0[$g]}" || fail "the daemon set limits on the released $g again: $mt"
	done
	[[ $(ksm_now) == "$ksm0" ]] || fail "the daemon took KSM back after the release: $(ksm_now)"
	[[ $(thp_now) == "$thp0" ]] || fail "the daemon took THP back after the release: $(thp_now)"
	sleep 1
done
kill -0 "$DPID" || fail "memtuned died"
ticks=$(( $(ticks_of) - ticks0 ))
# the guests stayed put while the daemon went on deciding, not because it
# stopped
(( ticks >= HOLD_S / 4 )) || fail "the daemon ran $ticks ticks in the ${HOLD_S} s after the release"
measure "release_back_at_max_ms=$back_ms held_s=$HOLD_S ticks_while_held=$ticks"
stop_daemon || fail "memtuned did not stop cleanly"
echo "PASS: release gave every guest back its memory and its limits as found, and KSM/THP; the daemon left them alone"
