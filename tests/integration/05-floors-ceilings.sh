#!/usr/bin/env bash
# Scenario: floors and ceilings. First under the heaviest host pressure: a
# reserve far above what the host has keeps memtuned in "critical", and
# guests with floors from memtuned.conf and from their own domain metadata
# must never go below their floor. Then on a host with plenty, where the
# policy grows every guest back: a guest must stop at its ceiling (from
# memtuned.conf, from its metadata, or its max memory) and never pass it.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	cleanup_guests mt-fc-conf mt-fc-meta mt-fc-dflt
	rm -rf "$W"
}
trap cleanup EXIT

NS='http://memtuned.org/xmlns/memtuned/1'
# each guest touches 560 MiB and frees it: resident on the host, free
# inside, so a balloon really returns it and the critical host takes it
# all the way down to the floors (memtuned does not squeeze memory a
# guest never touched: that frees nothing). Nearly all of what the guest
# has free: its kernel may hand its balloon the pages it never touched
# first, and under TCG QEMU's own RSS (its translation cache, hundreds of
# MiB) hides how much of the guest was never touched, so a first shrink
# that got only those read as a balloon that returns nothing, and the
# guest was left alone (05 in CI and 22 on 2026-12-02, with 500 MiB)
LOAD=1s:alloc:560M:0,6s:free:560M
"$TB" guest add fc-conf --mem 768 --load $LOAD
"$TB" guest add fc-meta --mem 768 --load $LOAD \
	--metadata "<memtuned:policy xmlns:memtuned='$NS' floor='400M' ceiling='600M'/>"
"$TB" guest add fc-dflt --mem 768 --load $LOAD
"$TB" guest wait fc-conf fc-meta fc-dflt
for g in mt-fc-conf mt-fc-meta mt-fc-dflt; do
	wait_until 60 "$g has touched and freed its memory" \
		'[[ $(report_field '$g' t) -ge 8 && $(report_field '$g' held) == 0 ]]'
	wait_until 20 "fresh stats from $g" '[[ -n $(stat_of '$g' balloon.usable) ]]'
done

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
# the metadata as written: this scenario is about bounds being kept, not about
# how far metadata is believed (bounded, the default, would cap the 400 MiB
# floor of a 768 MiB guest at 384 MiB;
# 20-metadata-bounded.sh and test_policy_trust.c cover that)
metadata = trust
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
[policy]
# far more than this host has: critical for the whole run
reserve = 1T
[guest mt-fc-conf]
floor = 500M
ceiling = 640M
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"

# floors: conf 500 MiB, metadata 400 MiB, default 30 % of 768 = 230 MiB;
# ceilings: 640 (conf), 600 (metadata), 768 (max memory)
declare -A FLOOR=([mt-fc-conf]=$((500 * 1024)) [mt-fc-meta]=$((400 * 1024)) [mt-fc-dflt]=$((768 * 1024 * 3 / 10)))
declare -A CEIL=([mt-fc-conf]=$((640 * 1024)) [mt-fc-meta]=$((600 * 1024)) [mt-fc-dflt]=$((768 * 1024)))
declare -A LOW PREV
# until the balloons settle (none moved for 8 samples), at least 20
# samples and at most 45: the shrinks are done within 10-20 s here
samples=0 still=0 settled_ms= t_crit=$(now_ms)
for i in $(seq 1 45); do
	moved=0
	for g in mt-fc-conf mt-fc-meta mt-fc-dflt; do
		a=$(stat_of $g balloon.current)
		# a balloon lands within a page or so of its target
		(( a >= FLOOR[$g] - 1024 )) || fail "$g at $a KiB, below its floor ${FLOOR[$g]}"
		[[ -z ${LOW[$g]:-} || $a -lt ${LOW[$g]} ]] && LOW[$g]=$a
		# the conf and metadata guests booted at 768 MiB, above
		# their ceilings: after the first ticks they must be inside
		if (( i > 15 )); then
			(( a <= CEIL[$g] + 1024 )) || fail "$g at $a KiB, above its ceiling ${CEIL[$g]}"
		fi
		[[ ${PREV[$g]:-} == "$a" ]] || moved=1
		PREV[$g]=$a
	done
	samples=$((samples + 1))
	if (( moved )); then still=0; else still=$((still + 1)); fi
	if (( i >= 20 && still >= 8 )); then
		settled_ms=$(( $(now_ms) - t_crit ))
		break
	fi
	sleep 1
done
status_json "$W/memtuned.conf" >"$W/status.json"
python3 - "$W/status.json" <<'PY' || fail "the daemon's bounds are not the configured ones"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["host"]["pressure"] == "critical", st["host"]["pressure"]
want = {"mt-fc-conf": (500 * 1024, "config"), "mt-fc-meta": (400 * 1024, "metadata"),
        "mt-fc-dflt": (768 * 1024 * 3 // 10, "default")}
for g in st["guests"]:
    if g["name"] in want:
        floor, src = want[g["name"]]
        assert g["floor_kib"] == floor, (g["name"], g["floor_kib"], floor)
        assert g["floor_src"] == src, (g["name"], g["floor_src"], src)
        assert g["floor_kib"] <= g["target_kib"] <= g["ceiling_kib"], g
        print(g["name"], "floor", g["floor_kib"], g["floor_src"], "ceiling", g["ceiling_kib"],
              "actual", g["actual_kib"], "reason:", g["reason"])
PY
grep -q SAFETY "$W/daemon.log" && fail "the actuator's safety net had to refuse a target"
measure "samples=$samples settled_ms=${settled_ms:-never} low_conf_kib=${LOW[mt-fc-conf]} low_meta_kib=${LOW[mt-fc-meta]} low_dflt_kib=${LOW[mt-fc-dflt]}"

# ---- plenty: every guest grows back, each up to its own ceiling ----------
# Under reserve = 1T everything shrinks, so a ceiling that is not applied
# passes unseen; here the policy wants every guest bigger, and only the
# ceiling holds the conf and metadata guests down. A fresh memtuned (no
# reverse cooldown from the shrinks), quick ticks and a short cooldown so
# growth takes seconds, not minutes.
# growth has to be real for the ceiling to be what stops it: the critical
# host must have taken every guest well below its ceiling. Checked while
# the daemon runs, so that a failure shows its reason for each guest
declare -A START
for g in mt-fc-conf mt-fc-meta mt-fc-dflt; do
	START[$g]=$(stat_of $g balloon.current)
	(( START[$g] <= CEIL[$g] - 64 * 1024 )) ||
		fail "$g starts the plenty phase at ${START[$g]} KiB, too near its ceiling ${CEIL[$g]} KiB to show it"
done
stop_daemon || fail "memtuned did not stop cleanly"
cat >"$W/plenty.conf" <<CONF
[daemon]
uri = $URI
# the metadata as written: this scenario is about bounds being kept, not about
# how far metadata is believed (bounded, the default, would cap the 400 MiB
# floor of a 768 MiB guest at 384 MiB;
# 20-metadata-bounded.sh and test_policy_trust.c cover that)
metadata = trust
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
interval = 1s
interval_max = 2s
[policy]
# 1 GiB available is plenty: this host has far more
reserve = 256M
cooldown = 1s
[guest mt-fc-conf]
floor = 500M
ceiling = 640M
CONF
start_daemon "$W/plenty.conf" "$W/daemon2.log"
declare -A HIGH
grown= t0=$(now_ms)
for i in $(seq 1 60); do
	at=0
	for g in mt-fc-conf mt-fc-meta mt-fc-dflt; do
		a=$(stat_of $g balloon.current)
		[[ -z ${HIGH[$g]:-} || $a -gt ${HIGH[$g]} ]] && HIGH[$g]=$a
		(( a <= CEIL[$g] + 1024 )) ||
			fail "$g grew to $a KiB, above its ceiling ${CEIL[$g]} KiB"
		# growth stops within min_change (16 MiB) of the ceiling
		(( a >= CEIL[$g] - 16 * 1024 - 1024 )) && at=$((at + 1))
	done
	if (( at == 3 )) && [[ -z $grown ]]; then
		grown=$(( $(now_ms) - t0 ))
		# stay a few ticks more: nothing may pass the ceiling later
		end=$((i + 6))
	fi
	[[ -n $grown ]] && (( i >= end )) && break
	sleep 1
done
[[ -n $grown ]] || fail "the guests did not grow to their ceilings in 60 s on a host with plenty (conf ${HIGH[mt-fc-conf]}, meta ${HIGH[mt-fc-meta]}, dflt ${HIGH[mt-fc-dflt]} KiB)"
grep -q SAFETY "$W/daemon2.log" && fail "the actuator's safety net had to refuse a target"
status_json "$W/plenty.conf" >"$W/status2.json"
python3 - "$W/status2.json" <<'PY' || fail "the daemon's ceilings are not the configured ones"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["host"]["pressure"] == "plenty", st["host"]["pressure"]
want = {"mt-fc-conf": (640 * 1024, "config"), "mt-fc-meta": (600 * 1024, "metadata"),
        "mt-fc-dflt": (768 * 1024, "default")}
for g in st["guests"]:
    if g["name"] in want:
        ceil, src = want[g["name"]]
        assert g["ceiling_kib"] == ceil, (g["name"], g["ceiling_kib"], ceil)
        assert g["ceiling_src"] == src, (g["name"], g["ceiling_src"], src)
        assert g["target_kib"] <= g["ceiling_kib"], g
        print(g["name"], "ceiling", g["ceiling_kib"], g["ceiling_src"], "actual",
              g["actual_kib"], "reason:", g["reason"])
PY
measure "start_conf_kib=${START[mt-fc-conf]} start_meta_kib=${START[mt-fc-meta]} start_dflt_kib=${START[mt-fc-dflt]} grown_to_ceilings_ms=$grown high_conf_kib=${HIGH[mt-fc-conf]} high_meta_kib=${HIGH[mt-fc-meta]} high_dflt_kib=${HIGH[mt-fc-dflt]}"
