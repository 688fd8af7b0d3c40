#!/usr/bin/env bash
# Scenario: a tenant writes its own domain's memtuned <metadata> to claim
# the whole guest: floor = max memory, shares = 1,000,000, exclude = yes.
# Under the default, [daemon] metadata = bounded, memtuned must cap the
# floor at metadata_floor_max (50%) of max memory and the shares at
# metadata_shares_max (4000), keep the guest managed, and say so in
# memtunectl explain. Then the operator's memtuned.conf wins (a [guest]
# section, reloaded), and metadata = ignore leaves the element unread,
# logged once for the domain even when it changes live.
# (memory.low is cgroup v2 only; this testbed's cgroups are v1, so the
# memory.low rule is shown by test_policy_trust.c, not here.)
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	cleanup_guests mt-mb1
	rm -rf "$W"
}
trap cleanup EXIT

NS='http://memtuned.org/xmlns/memtuned/1'
"$TB" guest add mb1 --mem 512 \
	--metadata "<memtuned:policy xmlns:memtuned='$NS' floor='512M' shares='1000000' exclude='yes'/>"
"$TB" guest wait mb1
wait_until 20 "fresh stats from mt-mb1" '[[ -n $(stat_of mt-mb1 balloon.usable) ]]'

CONF=$W/memtuned.conf
# write_conf EXTRA...: the daemon's config; the EXTRA lines go on at the
# end of [daemon] (a section header among them starts that section)
write_conf() {
	cat >"$CONF" <<CONF
[policy]
soft_limit = no
hard_limit = off
[daemon]
uri = $URI
interval = 2s
interval_max = 2s
control_socket = $W/control.sock
psi_threshold = off
manage_ksm = no
manage_thp = no
CONF
	printf '%s\n' "$@" >>"$CONF"
}

# look FIELD...: the guest's fields in the status, and its metadata_capped
# fields as capped.NAME
look() {
	status_json "$CONF" | python3 -c '
import json, sys
st = json.load(sys.stdin)
g = [g for g in st["guests"] if g["name"] == "mt-mb1"]
g = g[0] if g else {}
vals = []
for f in sys.argv[1:]:
    if f.startswith("capped."):
        v = g.get("metadata_capped", {}).get(f[7:])
    else:
        v = g.get(f)
    vals.append("-" if v is None else str(v))
print(" ".join(vals))
' "$@"
}

# want DESCRIPTION "field=value ...": wait until the status shows them all
want() {
	local what=$1 kv fields=() vals=()
	for kv in $2; do fields+=("${kv%%=*}"); vals+=("${kv#*=}"); done
	local deadline=$((SECONDS + 20)) got have i ok
	while :; do
		got=$(look "${fields[@]}")
		read -ra have <<<"$got"
		ok=1
		for i in "${!vals[@]}"; do
			[[ ${have[$i]:-} == "${vals[$i]}" ]] || ok=0
		done
		(( ok )) && break
		(( SECONDS < deadline )) ||
			fail "$what: want $2, status has $got"
		sleep 0.5
	done
	note "$what: $2"
}

# 1. the default, bounded: capped, refused, still managed
write_conf
start_daemon "$CONF" "$W/daemon.log"
wait_until 20 "mt-mb1 in memtuned's status" '[[ $(look max_kib) =~ ^[0-9]+$ ]]'
MAX=$(look max_kib)
HALF=$((MAX / 2))
want "bounded" "floor_kib=$HALF floor_src=metadata shares=4000 shares_src=metadata exclude=False capped.floor_kib=524288 capped.shares=1000000 capped.exclude=True"
state=$(look state)
[[ $state != excluded ]] || fail "a metadata exclude was honoured under metadata = bounded"
"$BUILD/memtunectl" -f "$CONF" explain mt-mb1 >"$W/explain.txt" ||
	fail "memtunectl explain failed"
grep -qx "  trust:    floor 512M from metadata capped to $((HALF / 1024))M (metadata_floor_max 50%)" "$W/explain.txt" ||
	{ cat "$W/explain.txt" >&2; fail "explain does not say the floor was capped"; }
grep -qx "  trust:    shares 1000000 from metadata capped to 4000 (metadata_shares_max)" "$W/explain.txt" ||
	{ cat "$W/explain.txt" >&2; fail "explain does not say the shares were capped"; }
grep -qx "  trust:    exclude from metadata not honoured (metadata_exclude = no)" "$W/explain.txt" ||
	{ cat "$W/explain.txt" >&2; fail "explain does not say the exclude was refused"; }

# 2. the operator's word wins over metadata, field by field, on reload
write_conf "metadata_shares_max = 2000" "[guest mt-mb1]" "floor = 400M"
kill -HUP "$DPID"
want "config section" "floor_kib=409600 floor_src=config shares=2000 shares_src=metadata capped.floor_kib=- capped.shares=1000000"

# 3. ignore: not read, said once for the domain, also after a live change
write_conf "metadata = ignore"
kill -HUP "$DPID"
want "ignore" "floor_src=default shares_src=default exclude_src=default shares=-"
virsh -q -c "$URI" metadata mt-mb1 "$NS" --key memtuned \
	--set "<policy floor='500M'/>" --live || fail "virsh metadata --set failed"
sleep 5
want "ignore after a live change" "floor_src=default"
n=$(grep -c 'guest mt-mb1: memtuned metadata not read' "$W/daemon.log" || true)
(( n == 1 )) || fail "'metadata not read' logged $n times for one domain, want once"

kill -0 "$DPID" || fail "memtuned died"
stop_daemon || fail "memtuned did not stop cleanly"
measure "max_kib=$MAX bounded_floor_kib=$HALF asked_floor_kib=524288 bounded_shares=4000 asked_shares=1000000 config_floor_kib=409600 ignored_logged=$n"
