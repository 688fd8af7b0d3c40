#!/usr/bin/env bash
# Scenario: THP weighed against KSM (docs/policy.md, section 6). Under
# overcommit (KSM on, the host short) memtuned prefers merging: defrag
# becomes "defer", khugepaged sleeps at least 60 s between scans, scans at
# most 512 pages and collapses only ranges with at most 64 empty entries;
# with plenty again the host's own settings come back, and when memtuned
# stops (restore_host_settings, on by default) KSM and THP are as it found
# them. The host's own settings here are not the kernel's defaults, so a
# controller that "restores" defaults fails. The host is made short by
# memtuned's own measure (a reserve far above what it has), as in
# 05-floors-ceilings: no guest or hog is needed to decide THP.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
THP_SAVED=
cleanup() {
	stop_daemon || true
	thp_restore
	ksm_restore
	rm -rf "$W"
}
trap cleanup EXIT

[[ -d $THP/khugepaged ]] || fail "no THP in this kernel ($THP)"
thp_save
enabled0=$(thp_sel enabled)
ksm_save
ksm_fresh
# the host's own settings: none of them the kernel's default, none what
# memtuned sets under overcommit
echo defer+madvise >"$THP/defrag"
echo 12000 >"$THP/khugepaged/scan_sleep_millisecs"
echo 2048 >"$THP/khugepaged/pages_to_scan"
echo 300 >"$THP/khugepaged/max_ptes_none"
own="defer+madvise 12000 2048 300"
# what section 6 says under overcommit: defer, max(12000, 60000),
# min(2048, 512), min(300, 64)
want="defer 60000 512 64"
ksm0="$(ksm_get run) $(ksm_get pages_to_scan) $(ksm_get sleep_millisecs) $(ksm_advisor)"

conf() {
	cat >"$W/memtuned.conf" <<-CONF
	[daemon]
	uri = $URI
	control_socket = $W/control.sock
	interval = 1s
	interval_max = 2s
	[policy]
	reserve = $1
	state_dwell = 1s
	CONF
}
conf 1T
start_daemon "$W/memtuned.conf" "$W/daemon.log"

# ---- overcommit: memtuned prefers merging -------------------------------
for _ in $(seq 1 20); do
	[[ $(ksm_get run) == 1 && $(thp_now) == "$want" ]] && break
	sleep 0.5
done
[[ $(ksm_get run) == 1 ]] || fail "memtuned did not switch KSM on while the host was short"
[[ $(thp_now) == "$want" ]] ||
	fail "under overcommit THP is '$(thp_now)' (defrag, khugepaged scan_sleep, pages_to_scan, max_ptes_none); want '$want'"
[[ $(thp_sel enabled) == "$enabled0" ]] || fail "memtuned changed THP enabled ($enabled0 -> $(thp_sel enabled))"
note "under overcommit: $(thp_now); thp reason: $(status_json "$W/memtuned.conf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["thp"]["reason"])')"

# ---- plenty again: the host's own settings, while memtuned runs ---------
conf 256M
t1=$(now_ms)
kill -HUP "$DPID"
for _ in $(seq 1 30); do
	[[ $(thp_now) == "$own" ]] && break
	sleep 0.5
done
[[ $(thp_now) == "$own" ]] ||
	fail "with plenty again THP is '$(thp_now)'; want the host's own '$own'"
back_ms=$(( $(now_ms) - t1 ))

# ---- short again, then memtuned stops: everything as it found it -------
conf 1T
kill -HUP "$DPID"
for _ in $(seq 1 20); do
	[[ $(thp_now) == "$want" ]] && break
	sleep 0.5
done
[[ $(thp_now) == "$want" ]] || fail "short again, THP is '$(thp_now)'; want '$want'"
stop_daemon || fail "memtuned did not stop cleanly"
grep -q 'exit: putting KSM and THP back' "$W/daemon.log" || fail "memtuned did not say it restores the host's settings"
measure "overcommit_thp='$want' plenty_back_ms=$back_ms after_exit_thp='$(thp_now)' after_exit_ksm='$(ksm_get run) $(ksm_get pages_to_scan) $(ksm_get sleep_millisecs) $(ksm_advisor)'"
[[ $(thp_now) == "$own" ]] ||
	fail "after memtuned stopped THP is '$(thp_now)'; want what it found, '$own'"
ksm1="$(ksm_get run) $(ksm_get pages_to_scan) $(ksm_get sleep_millisecs) $(ksm_advisor)"
[[ $ksm1 == "$ksm0" ]] ||
	fail "after memtuned stopped KSM is '$ksm1' (run, pages_to_scan, sleep_millisecs, advisor); want what it found, '$ksm0'"
[[ $(thp_sel enabled) == "$enabled0" ]] || fail "memtuned changed THP enabled ($enabled0 -> $(thp_sel enabled))"
exit 0
