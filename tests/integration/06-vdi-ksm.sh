#!/usr/bin/env bash
# Scenario: a VDI login storm, memtuned setting ksmd's rate itself
# (use_advisor = no; 17-vdi-ksm-advisor runs the same storm on the
# default path, with the kernel's advisor). Four identical desktops start
# together and load up within seconds of each other; memtuned switches KSM
# on and tunes it up, and once merging settles ksmd is slowed back down.
# What must hold: most of the pages the desktops hold alike are merged,
# and ksmd stays within memtuned's CPU budget (cpu_max, set to 10 % of a
# core here: unchecked, ksmd takes 13.7 % on average through this storm
# and a third of a core at its busiest) from KSM on to the end of the run.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
G=(mt-vdi1 mt-vdi2 mt-vdi3 mt-vdi4)
cleanup() {
	stop_daemon || true
	cleanup_guests "${G[@]}"
	ksm_restore
	rm -rf "$W"
}
trap cleanup EXIT

ksm_save
# start from a host where KSM is off, as most hosts ship, and nothing
# merged from before
ksm_fresh

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
manage_thp = no
restore_host_settings = no
[ksm]
# four 512 MiB desktops on a 24 GiB test machine stand for a full VDI
# host: count them as committed from 5 % of MemTotal
start_committed = 5%
stop_committed = 1%
use_advisor = no
# a budget under what ksmd takes unchecked through this storm (10-13 %
# of a core at its busiest), so that holding it is something to prove
cpu_max = 10%
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"

ksmd_pid=$(pgrep -x ksmd | head -n 1)
ksmd_cpu() { awk '{ print $14 + $15 }' "/proc/$ksmd_pid/stat"; }
hz=$(getconf CLK_TCK)
cpu0=$(ksmd_cpu)
t0=$(now_ms)

# the storm: all four start together, each loads 300 MiB of the same
# pages (the same desktop image) a few seconds after boot
pids=()
for i in 1 2 3 4; do
	"$TB" guest add vdi$i --mem 512 --fill same --load "$((3 + i))s:alloc:300M:10" &
	pids+=($!)
done
# not a bare wait: memtuned runs in the background too
wait "${pids[@]}"
"$TB" guest wait vdi1 vdi2 vdi3 vdi4
boot_ms=$(( $(now_ms) - t0 ))

max_sharing=0 max_pages=0 turned_on= peak_at= slowed=
prev_sharing=0 flat=0 cpu_on= win_max=0 win20_max=0
declare -a WT WC
# (with the 10 % budget merging settles at 90-130 s here; room for a
# slower machine, whose pages cost ksmd more)
for i in $(seq 1 120); do
	run=$(ksm_get run); pages=$(ksm_get pages_to_scan); sleep_ms=$(ksm_get sleep_millisecs)
	sharing=$(ksm_get pages_sharing)
	now=$(now_ms) cpu=$(ksmd_cpu)
	[[ $run == 1 && -z $turned_on ]] && { turned_on=$(( now - t0 )); cpu_on=$cpu; ms_on=$now; }
	# ksmd's CPU over the last 10 s (5 samples)
	WT+=("$now") WC+=("$cpu")
	if (( ${#WT[@]} > 5 )); then
		w=$(( (cpu - WC[-6]) * 1000 * 1000 / hz / (now - WT[-6]) ))
		(( w > win_max )) && win_max=$w
	fi
	# and over the last 20 s (10 samples)
	if (( ${#WT[@]} > 10 )); then
		w20=$(( (cpu - WC[-11]) * 1000 * 1000 / hz / (now - WT[-11]) ))
		(( w20 > win20_max )) && win20_max=$w20
	fi
	[[ -n ${MT_TRACE:-} ]] && echo "trace t=$(( now - t0 )) run=$run pages=$pages sleep=$sleep_ms sharing=$sharing cpu=$cpu w=${w:-}"
	(( pages > max_pages )) && max_pages=$pages
	if (( sharing > max_sharing )); then max_sharing=$sharing; peak_at=$(( $(now_ms) - t0 )); fi
	# merging has settled when pages_sharing stops growing for 20 s
	if (( sharing - prev_sharing < 500 )); then flat=$((flat + 1)); else flat=0; fi
	prev_sharing=$sharing
	if (( flat >= 10 && max_pages > 100 && (pages < max_pages || sleep_ms > 20) )); then
		slowed=$(( $(now_ms) - t0 ))
		break
	fi
	sleep 2
done
cpu1=$(ksmd_cpu)
ksmd_ms=$(( (cpu1 - cpu0) * 1000 / hz ))
elapsed=$(( $(now_ms) - t0 ))
saved_mib=$(( max_sharing * 4 / 1024 ))
profit=$(ksm_get general_profit 2>/dev/null || echo absent)
# what the desktops hold alike: each loads 300 MiB of the same pages and
# writes 10 % of it every second (those never stay merged); of four
# copies of a page, three count in pages_sharing
alike=$(( 3 * 300 * 90 / 100 * 256 ))
ksmd_pmil=-1
[[ -n $turned_on ]] && ksmd_pmil=$(( (cpu1 - cpu_on) * 1000 * 1000 / hz / ($(now_ms) - ms_on) ))
measure "boot_ms=$boot_ms ksm_on_ms=${turned_on:-never} pages_sharing_max=$max_sharing alike_pages=$alike saved_mib=$saved_mib peak_ms=${peak_at:-0} general_profit=$profit"
measure "pages_to_scan_max=$max_pages slowed_ms=${slowed:-never} ksmd_cpu_ms=$ksmd_ms over_ms=$elapsed ksmd_pmil=$ksmd_pmil ksmd_pmil_10s_max=$win_max ksmd_pmil_20s_max=$win20_max"
grep -E 'ksm' "$W/daemon.log" | sed 's/^/  /' | tail -n ${MT_TRACE:+200}${MT_TRACE:-20}

[[ -n $turned_on ]] || fail "memtuned never switched KSM on"
grep -q "run = 1\|/run = 1\|ksm/run = 1" "$W/daemon.log" || fail "KSM was switched on, but not by memtuned"
# what the storm is for, first: the pages merged, and what ksmd cost
# (measured here: 236,782 pages, 114 % of the alike count, which leaves
# out the guests' own alike kernel pages; 68 per mille of a core)
(( max_sharing * 100 >= alike * 90 )) ||
	fail "pages_sharing reached $max_sharing; want 90 % of the $alike pages the desktops hold alike"
# cpu_max = 10 % of one core, from KSM on to the end of the run. (A page
# ksmd merges costs it several times one it only compares: when merging
# starts, the rate priced at the last tick takes it to about twice the
# budget for a tick or two, which is why the bound is on the average.
# With the budget ignored: 137 per mille, merged 40 s sooner.)
(( ksmd_pmil <= 100 )) || fail "ksmd used $ksmd_pmil per mille of a core since KSM went on; the budget is 100"
(( max_pages > 100 )) || fail "memtuned never tuned ksmd up (pages_to_scan max $max_pages)"
[[ -n $slowed ]] || fail "ksmd was not slowed down after merging settled (pages_to_scan $(ksm_get pages_to_scan), sleep $(ksm_get sleep_millisecs) ms)"
