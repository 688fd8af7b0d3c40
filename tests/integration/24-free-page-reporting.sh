#!/usr/bin/env bash
# Scenario: free page reporting returns freed memory to the host without a
# balloon move, and memtuned does not squeeze a guest for memory it already
# returned. Two 1 GiB guests, fpr-a with <memballoon freePageReporting='on'>
# and fpr-b without, each allocate 300 MiB (unique pages: nothing for KSM)
# and free it again. What must hold:
#  - fpr-a's QEMU RSS falls by most of the 300 MiB (at least 60 %) with its
#    balloon where it was; fpr-b's stays (it falls by under 25 %);
#  - memtuned, then started on a critical host (reserve = 1T: every guest
#    is asked for what a shrink would return), sees fpr-a's feature and
#    leaves its balloon alone for 20 s, saying why, while it shrinks
#    fpr-b, whose freed memory is still resident;
#  - explain advises fpr-b to turn free page reporting on, and not fpr-a.
# Fails without the policy's free page reporting gain (policy_fpr_gain not
# called: fpr-a's RSS above what it uses, QEMU's own memory, reads as
# resident idle memory and it is shrunk at the first tick; 2026-12-01:
# 1024 -> 993 MiB) and when the testbed leaves the feature out of the XML
# (fpr-a's RSS does not fall).
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	cleanup_guests mt-fpr-a mt-fpr-b
	rm -rf "$W"
}
trap cleanup EXIT

"$TB" guest add fpr-a --mem 1024 --fill unique --free-page-reporting
"$TB" guest add fpr-b --mem 1024 --fill unique
"$TB" guest wait fpr-a fpr-b
virsh -q -c "$URI" dumpxml mt-fpr-a | grep -q "freePageReporting='on'" ||
	fail "mt-fpr-a's XML has no freePageReporting='on'"
for g in mt-fpr-a mt-fpr-b; do
	wait_until 30 "stats from $g" '[[ -n $(stat_of '"$g"' balloon.rss) ]]'
done
# what boot touched and freed is handed back to the host as well: let
# it settle before the baseline
sleep 8

rss() { stat_of "$1" balloon.rss; }
declare -A rss0 rss1 rss2 act0
for g in mt-fpr-a mt-fpr-b; do
	rss0[$g]=$(rss "$g")
	act0[$g]=$(stat_of "$g" balloon.current)
	"$TB" guest send "$g" "alloc 300M 0" >/dev/null
done
for g in mt-fpr-a mt-fpr-b; do
	wait_until 90 "$g holds its 300 MiB" \
		'[[ $(report_field '"$g"' held 2>/dev/null) == 307200 ]]'
done
sleep 3
for g in mt-fpr-a mt-fpr-b; do
	rss1[$g]=$(rss "$g")
	note "$g: RSS $(( ${rss0[$g]} / 1024 )) MiB at rest, $(( ${rss1[$g]} / 1024 )) MiB holding 300 MiB"
	(( ${rss1[$g]} - ${rss0[$g]} >= 250 * 1024 )) ||
		fail "$g's RSS rose by $(( (${rss1[$g]} - ${rss0[$g]}) / 1024 )) MiB for a 300 MiB allocation"
done

t0=$(now_ms)
for g in mt-fpr-a mt-fpr-b; do "$TB" guest send "$g" "free 300M" >/dev/null; done
for g in mt-fpr-a mt-fpr-b; do
	wait_until 30 "$g freed its 300 MiB" '[[ $(report_field '"$g"' held 2>/dev/null) == 0 ]]'
done
want=$(( 300 * 1024 * 60 / 100 ))
wait_until 60 "mt-fpr-a's RSS falls by 180 MiB" \
	'(( ${rss1[mt-fpr-a]} - $(rss mt-fpr-a) >= want ))'
back_ms=$(( $(now_ms) - t0 ))
sleep 5			# twice the time fpr-a took, for fpr-b
for g in mt-fpr-a mt-fpr-b; do
	rss2[$g]=$(rss "$g")
	a=$(stat_of "$g" balloon.current)
	(( a == ${act0[$g]} )) || fail "$g's balloon moved: ${act0[$g]} -> $a KiB"
	note "$g: RSS $(( ${rss2[$g]} / 1024 )) MiB after the free, balloon $((a / 1024)) MiB (unmoved)"
done
fell_a=$(( ${rss1[mt-fpr-a]} - ${rss2[mt-fpr-a]} ))
fell_b=$(( ${rss1[mt-fpr-b]} - ${rss2[mt-fpr-b]} ))
measure "fpr_returned_kib=$fell_a fpr_returned_ms=$back_ms plain_returned_kib=$fell_b"
(( fell_a >= want )) || fail "mt-fpr-a's RSS fell by only $((fell_a / 1024)) MiB"
(( fell_b < 300 * 1024 * 25 / 100 )) ||
	fail "mt-fpr-b's RSS fell by $((fell_b / 1024)) MiB without free page reporting"

# ---- memtuned on a critical host -----------------------------------------
cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
burst_watch = off
log_level = ${MT_LOG_LEVEL:-info}
[policy]
reserve = 1T
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"
wait_until 30 "memtuned reads mt-fpr-a's stats" \
	'[[ $(guest_field "$W/memtuned.conf" mt-fpr-a state) == ok ]]'
status_json "$W/memtuned.conf" | python3 -c '
import json, sys
for g in json.load(sys.stdin)["guests"]:
    want = g["name"] == "mt-fpr-a"
    if g["backing"]["free_page_reporting"] != want:
        sys.exit("%s: free_page_reporting %s" % (g["name"],
            g["backing"]["free_page_reporting"]))
' || fail "the status does not show which guest has free page reporting"
grep -q 'host critical' "$W/daemon.log" || sleep 2
fpr_said=0
t1=$(now_ms)
while (( $(now_ms) - t1 < 20000 )); do
	a=$(stat_of mt-fpr-a balloon.current)
	(( a >= ${act0[mt-fpr-a]} - 16 * 1024 )) ||
		fail "memtuned shrank mt-fpr-a to $a KiB: $(guest_field "$W/memtuned.conf" mt-fpr-a reason)"
	r=$(guest_field "$W/memtuned.conf" mt-fpr-a reason)
	[[ $r == *"free page reporting returns its free memory already"* ]] && fpr_said=1
	sleep 2
done
grep -q 'host critical' "$W/daemon.log" || fail "the host was never critical"
b=$(stat_of mt-fpr-b balloon.current)
note "after 20 s: mt-fpr-a balloon $(( $(stat_of mt-fpr-a balloon.current) / 1024 )) MiB, mt-fpr-b $((b / 1024)) MiB"
note "mt-fpr-a: $(guest_field "$W/memtuned.conf" mt-fpr-a reason)"
note "mt-fpr-b: $(guest_field "$W/memtuned.conf" mt-fpr-b reason)"
measure "plain_shrunk_kib=$(( ${act0[mt-fpr-b]} - b ))"
(( b <= ${act0[mt-fpr-b]} - 100 * 1024 )) ||
	fail "mt-fpr-b, its freed memory resident, was not shrunk: $b KiB"
(( fpr_said == 1 )) || fail "mt-fpr-a's reason never said why it was left alone"
"$BUILD/memtunectl" -f "$W/memtuned.conf" explain mt-fpr-a | grep -q '^  features: free page reporting on' ||
	fail "explain has no features line for mt-fpr-a"
# the advice: fpr-b, without the feature, is told the XML to add; fpr-a
# has it, and is advised only what it lacks (deflate on OOM)
advice() {
	"$BUILD/memtunectl" -f "$W/memtuned.conf" explain "$1" --json |
		python3 -c 'import json,sys; print(" ".join(a["code"] for a in json.load(sys.stdin)["advice"]))'
}
adv_a=$(advice mt-fpr-a) adv_b=$(advice mt-fpr-b)
measure "advice_fpr_a='$adv_a' advice_plain='$adv_b'"
[[ $adv_a == autodeflate ]] || fail "mt-fpr-a was advised '$adv_a', want 'autodeflate'"
[[ $adv_b == "free_page_reporting autodeflate" ]] ||
	fail "mt-fpr-b was advised '$adv_b', want 'free_page_reporting autodeflate'"
"$BUILD/memtunectl" -f "$W/memtuned.conf" explain mt-fpr-b |
	grep -q "^  advice:   .*add freePageReporting='on' on <memballoon>" ||
	fail "explain does not tell mt-fpr-b the XML to add"
stop_daemon || fail "memtuned exited with an error"
echo "PASS"
