#!/usr/bin/env bash
# Scenario: floors and ceilings under the heaviest host pressure. A reserve
# far above what the host has keeps memtuned in "critical" for the whole
# run; guests with floors from memtuned.conf and from their own domain
# metadata must never go below their floor nor above their ceiling.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	cleanup_guests mt-fc-conf mt-fc-meta mt-fc-dflt
	rm -rf "$W"
}
trap cleanup EXIT

NS='http://memtuned.org/xmlns/memtuned/1'
"$TB" guest add fc-conf --mem 768
"$TB" guest add fc-meta --mem 768 \
	--metadata "<memtuned:policy xmlns:memtuned='$NS' floor='400M' ceiling='600M'/>"
"$TB" guest add fc-dflt --mem 768
"$TB" guest wait fc-conf fc-meta fc-dflt
for g in mt-fc-conf mt-fc-meta mt-fc-dflt; do
	wait_until 20 "fresh stats from $g" '[[ -n $(stat_of '$g' balloon.usable) ]]'
done

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
[policy]
# far more than this host has: critical for the whole run
reserve = 1T
[guest mt-fc-conf]
floor = 500M
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"

# floors: conf 500 MiB, metadata 400 MiB, default 30 % of 768 = 230 MiB;
# ceilings: 768, 600 (metadata), 768
declare -A FLOOR=([mt-fc-conf]=$((500 * 1024)) [mt-fc-meta]=$((400 * 1024)) [mt-fc-dflt]=$((768 * 1024 * 3 / 10)))
declare -A CEIL=([mt-fc-conf]=$((768 * 1024)) [mt-fc-meta]=$((600 * 1024)) [mt-fc-dflt]=$((768 * 1024)))
declare -A LOW
samples=0
for i in $(seq 1 45); do
	for g in mt-fc-conf mt-fc-meta mt-fc-dflt; do
		a=$(stat_of $g balloon.current)
		# a balloon lands within a page or so of its target
		(( a >= FLOOR[$g] - 1024 )) || fail "$g at $a KiB, below its floor ${FLOOR[$g]}"
		[[ -z ${LOW[$g]:-} || $a -lt ${LOW[$g]} ]] && LOW[$g]=$a
		# the metadata guest booted at 768 MiB, above its 600 MiB
		# ceiling: after the first ticks it must be inside
		if (( i > 15 )); then
			(( a <= CEIL[$g] + 1024 )) || fail "$g at $a KiB, above its ceiling ${CEIL[$g]}"
		fi
	done
	samples=$((samples + 1))
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
measure "samples=$samples low_conf_kib=${LOW[mt-fc-conf]} low_meta_kib=${LOW[mt-fc-meta]} low_dflt_kib=${LOW[mt-fc-dflt]}"
