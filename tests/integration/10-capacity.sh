#!/usr/bin/env bash
# Scenario: capacity on real guests. Three identical desktops hold the same
# 250 MiB; as ksmd merges them, `memtunectl capacity` must count more room
# at the KSM level, by what KSM saved. Then one guest is restarted with
# <nosharepages/> and one backed by static huge pages: the first drops out
# of the KSM figures, the second out of both the KSM and the balloon
# figures (its memory comes from the hugepage pool), each with its reason.
# The test reserves its own huge pages (vm.nr_hugepages, put back after)
# and fails when it cannot: a half that skips itself proves nothing.
# (<locked/> is covered on the test driver: this container may not raise
# RLIMIT_MEMLOCK past 8 MiB, so a locked guest cannot start here.)
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
G=(mt-cap1 mt-cap2 mt-cap3)
HP0=$(cat /proc/sys/vm/nr_hugepages)
cleanup() {
	cleanup_guests "${G[@]}"
	echo "$HP0" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	ksm_restore
	rm -rf "$W"
}
trap cleanup EXIT

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
CONF

# capacity JSON, read without a daemon (none runs in this test)
VM=128
cap() { "$BUILD/memtunectl" -f "$W/memtuned.conf" --standalone capacity --vm-size $VM --json; }
# cap_field FILE PATH...: a field of the "ksm" or "balloon" level, or of a guest
cap_level() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for l in c["levels"]:
    if l["level"] == sys.argv[2]:
        print(l[sys.argv[3]] if sys.argv[3] in l else l["figures"][sys.argv[3]])
PY
}
cap_guest() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for g in c["guests"]:
    if g["name"] == sys.argv[2]:
        v = g[sys.argv[3]]
        print(str(v).lower() if isinstance(v, bool) else v)
PY
}

# huge pages first, before the guests break memory into small pieces:
# 512 MiB of 2 MiB pages for the hugepage-backed guest, and a few for
# QEMU's rounding. The testbed mounts hugetlbfs before it starts libvirtd.
awk '$3 == "hugetlbfs" { f = 1 } END { exit !f }' /proc/mounts ||
	fail "no hugetlbfs mount: the testbed mounts one before libvirtd starts; the hugepage half cannot run"
HPWANT=$(( HP0 + 260 ))
for try in 1 2 3; do
	echo "$HPWANT" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	(( $(cat /proc/sys/vm/nr_hugepages) >= HPWANT )) && break
	# free 2 MiB runs are scarce: compact once (a one-off action, no
	# setting changes) and ask again
	echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
	sleep 1
done
(( $(cat /proc/sys/vm/nr_hugepages) >= HPWANT )) ||
	fail "could reserve only $(cat /proc/sys/vm/nr_hugepages) of $HPWANT huge pages (vm.nr_hugepages): the hugepage half cannot run"
note "reserved huge pages: $HP0 -> $(cat /proc/sys/vm/nr_hugepages)"

ksm_save
# no merged pages to start from
echo 2 >"$KSM/run"
wait_until 30 "KSM unmerged" '[[ $(ksm_get pages_sharing) == 0 ]]'
echo 0 >"$KSM/run"

for i in 1 2 3; do
	"$TB" guest add cap$i --mem 512 --fill same --load "2s:alloc:250M:0"
done
"$TB" guest wait cap1 cap2 cap3
for g in "${G[@]}"; do
	wait_until 60 "$g holds its 250 MiB" \
		'(( $(report_field '"$g"' held 2>/dev/null || echo 0) >= 250 * 1024 ))'
done
# balloon stats come every 2 s
sleep 3

cap >"$W/c0.json" || fail "capacity failed: $(cat "$W/c0.json")"
h0=$(cap_level "$W/c0.json" ksm headroom_kib)
b0=$(cap_level "$W/c0.json" balloon headroom_kib)
f0=$(cap_level "$W/c0.json" ksm fits)
s0=$(cap_level "$W/c0.json" ksm ksm_saved_kib)
note "before KSM: ksm level headroom ${h0} KiB, fits $f0, saved $s0 KiB"

# KSM on, fast enough to merge in well under a minute: three copies of the same 250 MiB can save two of them
echo 1500 >"$KSM/pages_to_scan"
echo 10 >"$KSM/sleep_millisecs"
echo 1 >"$KSM/run"
t0=$(now_ms)
rises=0 samples=0 prev_h=$h0 prev_share=0 last_share=0
for i in $(seq 1 60); do
	sleep 2
	share=$(ksm_get pages_sharing)
	cap >"$W/c.json" || fail "capacity failed during merging"
	h=$(cap_level "$W/c.json" ksm headroom_kib)
	b=$(cap_level "$W/c.json" balloon headroom_kib)
	samples=$((samples + 1))
	note "t=$(( ($(now_ms) - t0) / 1000 ))s pages_sharing=$share ksm headroom=$h balloon headroom=$b"
	# the KSM level moves with what was merged since the last sample
	(( share > prev_share + 5000 && h > prev_h )) && rises=$((rises + 1))
	prev_share=$share prev_h=$h last_share=$share
	(( share >= 100000 )) && break
done
cp "$W/c.json" "$W/c1.json"
h1=$(cap_level "$W/c1.json" ksm headroom_kib)
b1=$(cap_level "$W/c1.json" balloon headroom_kib)
f1=$(cap_level "$W/c1.json" ksm fits)
s1=$(cap_level "$W/c1.json" ksm ksm_saved_kib)
gain=$(( (h1 - b1) - (h0 - b0) ))
measure "pages_sharing=$last_share saved_kib=$s1 ksm_added_before_kib=$(( h0 - b0 )) ksm_added_after_kib=$(( h1 - b1 )) fits_before=$f0 fits_after=$f1 rising_samples=$rises/$samples"

(( last_share >= 50000 )) || fail "KSM merged only $last_share pages"
(( s1 - s0 >= last_share * 4 * 8 / 10 )) ||
	fail "capacity counts $((s1 - s0)) KiB saved, pages_sharing says $((last_share * 4))"
# what the KSM level adds over the balloon level grew by what KSM saved
(( gain >= (s1 - s0) * 8 / 10 )) ||
	fail "the KSM level rose by $gain KiB while KSM saved $((s1 - s0)) KiB"
(( f1 > f0 )) || fail "no more ${VM} MiB guests fit after KSM saved $((s1 - s0)) KiB ($f0 -> $f1)"
(( rises >= 1 )) || fail "capacity never rose between samples as pages_sharing rose"
for g in "${G[@]}"; do
	[[ $(cap_guest "$W/c1.json" "$g" ksm_counted) == true ]] ||
		fail "$g not counted at the KSM level: $(cap_guest "$W/c1.json" "$g" ksm_reason)"
	[[ $(cap_guest "$W/c1.json" "$g" reclaim_counted) == true ]] ||
		fail "$g not counted at the balloon level: $(cap_guest "$W/c1.json" "$g" reclaim_reason)"
done

# the same desktops, two of them now with another memory backing: one
# out of KSM, one on the huge pages reserved above
"$TB" guest remove cap3
"$TB" guest add cap3 --mem 512 --fill same --load "2s:alloc:250M:0" --backing nosharepages
"$TB" guest remove cap2
"$TB" guest add cap2 --mem 512 --fill same --load "2s:alloc:250M:0" --backing hugepages ||
	fail "the hugepage-backed guest did not start ($(grep -i huge /proc/meminfo | tr -s ' ' | tr '\n' ' '))"
changed=(mt-cap3 mt-cap2)
"$TB" guest wait "${changed[@]}"
for g in "${changed[@]}"; do
	wait_until 60 "$g holds its 250 MiB" \
		'(( $(report_field '"$g"' held 2>/dev/null || echo 0) >= 250 * 1024 ))'
done
sleep 3
cap >"$W/c2.json" || fail "capacity failed after the backing change"
r3=$(cap_guest "$W/c2.json" mt-cap3 ksm_reason)
r2b=$(cap_guest "$W/c2.json" mt-cap2 reclaim_reason)
r2k=$(cap_guest "$W/c2.json" mt-cap2 ksm_reason)
# huge pages the guest holds or has reserved (QEMU maps its RAM at once,
# the kernel hands the pages out as they are touched)
hp_used=$(awk '$1 == "HugePages_Total:" { t = $2 } $1 == "HugePages_Free:" { f = $2 }
	$1 == "HugePages_Rsvd:" { r = $2 } END { print t - f + r }' /proc/meminfo)
measure "hugepages_in_use=$hp_used nosharepages_ksm_counted=$(cap_guest "$W/c2.json" mt-cap3 ksm_counted) hugepages_reclaim_counted=$(cap_guest "$W/c2.json" mt-cap2 reclaim_counted) hugepages_ksm_counted=$(cap_guest "$W/c2.json" mt-cap2 ksm_counted) ksm_guests=$(cap_level "$W/c2.json" ksm guests_counted) balloon_guests=$(cap_level "$W/c2.json" balloon guests_counted) hugepage_pool_kib=$(cap_level "$W/c2.json" no-overcommit hugepage_pool_kib)"
note "mt-cap3 (nosharepages) ksm: $r3"
note "mt-cap2 (hugepages) balloon: $r2b"
note "mt-cap2 (hugepages) ksm: $r2k"

[[ $(cap_guest "$W/c2.json" mt-cap3 ksm_counted) == false ]] ||
	fail "a nosharepages guest is still counted at the KSM level"
[[ $(cap_guest "$W/c2.json" mt-cap3 ksm_share_kib) == 0 ]] ||
	fail "a nosharepages guest still has a KSM share"
[[ $r3 == *nosharepages* ]] || fail "the KSM reason does not name nosharepages: $r3"
[[ $(cap_guest "$W/c2.json" mt-cap3 reclaim_counted) == true ]] ||
	fail "a nosharepages guest can still balloon, but is not counted: $(cap_guest "$W/c2.json" mt-cap3 reclaim_reason)"
# the guest really runs on huge pages: its 512 MiB come out of the pool
(( hp_used >= 256 )) || fail "the hugepage-backed guest holds or reserves only $hp_used huge pages"
[[ $(cap_guest "$W/c2.json" mt-cap2 hugepages) == true ]] ||
	fail "the hugepage-backed guest is not seen as such"
[[ $(cap_guest "$W/c2.json" mt-cap2 reclaim_counted) == false ]] ||
	fail "a hugepage-backed guest is still counted as reclaimable"
[[ $(cap_guest "$W/c2.json" mt-cap2 balloon_kib) == 0 ]] ||
	fail "a hugepage-backed guest still has balloon room"
[[ $r2b == *huge* ]] || fail "the balloon reason does not name huge pages: $r2b"
[[ $(cap_guest "$W/c2.json" mt-cap2 ksm_counted) == false ]] ||
	fail "a hugepage-backed guest is still counted at the KSM level"
[[ $(cap_guest "$W/c2.json" mt-cap1 ksm_counted) == true ]] ||
	fail "the unchanged guest dropped out of the KSM level"
[[ $(cap_level "$W/c2.json" ksm guests_counted) == 1 ]] ||
	fail "KSM level counts $(cap_level "$W/c2.json" ksm guests_counted) guests, not 1"
[[ $(cap_level "$W/c2.json" balloon guests_counted) == 2 ]] ||
	fail "balloon level counts $(cap_level "$W/c2.json" balloon guests_counted) guests, not 2"
exit 0
