#!/usr/bin/env bash
# Scenario: an operator changes a guest's memtuned <metadata> live
# (virsh metadata --live) while memtuned runs. memtuned caches each guest's
# facts and reads them again only every 60 ticks (here about 3 minutes);
# libvirt's METADATA_CHANGE event must make each change take effect at the
# next tick: a floor, then exclude, then the element removed.
# Fails when the event is not registered: the change then waits for the
# periodic refresh.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	cleanup_guests mt-md1
	rm -rf "$W"
}
trap cleanup EXIT

NS='http://memtuned.org/xmlns/memtuned/1'
"$TB" guest add md1 --mem 512
"$TB" guest wait md1
wait_until 20 "fresh stats from mt-md1" '[[ -n $(stat_of mt-md1 balloon.usable) ]]'

# A tick every 3 s. No memtune is written, so nothing else makes memtuned
# read the guest's facts again (its own memtune writes would).
CONF=$W/memtuned.conf
cat >"$CONF" <<CONF
[daemon]
uri = $URI
# the metadata as written: this scenario is about changes being
# followed, not about how far metadata is believed (bounded, the default,
# would cap the 300 MiB floor of a 512 MiB guest and refuse its exclude;
# 20-metadata-bounded.sh and test_policy_trust.c cover that)
metadata = trust
interval = 3s
interval_max = 3s
control_socket = $W/control.sock
psi_threshold = off
manage_ksm = no
manage_thp = no
[policy]
soft_limit = no
hard_limit = off
memory_low = no
CONF
start_daemon "$CONF" "$W/daemon.log"

# ticks NAME FIELD...: the daemon's tick count, then the guest's fields
look() {
	status_json "$CONF" | python3 -c '
import json, sys
st = json.load(sys.stdin)
g = [g for g in st["guests"] if g["name"] == "mt-md1"]
vals = [str(st["ticks"])]
for f in sys.argv[1:]:
    v = g[0].get(f) if g else None
    vals.append("-" if v is None else str(v))
print(" ".join(vals))
' "$@"
}

wait_until 20 "memtuned has ticked twice with mt-md1 at its default floor" \
	'set -- $(look floor_src); (( $1 >= 2 )) && [[ $2 == default ]]'
DEFAULT_FLOOR=$(look floor_kib | cut -d" " -f2)

# follow WHAT XML WANT: set (or, XML empty, remove) the metadata live and
# wait for the status to show WANT ("field=value ..."); one tick is the
# event's tick (300 ms after it) or the next timed one, 3 s at most
follow() {
	local what=$1 xml=$2 want=$3 t0 ticks0 dt
	set -- $(look floor_kib)
	ticks0=$1
	t0=$(now_ms)
	if [[ -n $xml ]]; then
		virsh -q -c "$URI" metadata mt-md1 "$NS" --key memtuned \
			--set "$xml" --live || fail "virsh metadata --set failed"
	else
		virsh -q -c "$URI" metadata mt-md1 "$NS" --remove --live ||
			fail "virsh metadata --remove failed"
	fi
	local fields=() vals=() kv
	for kv in $want; do fields+=("${kv%%=*}"); vals+=("${kv#*=}"); done
	# 5 s: one 3 s tick and the time a status takes, with room
	local deadline=$(( $(now_ms) + 5000 )) got ok i have
	while :; do
		got=$(look "${fields[@]}")
		read -ra have <<<"$got"
		ok=1
		for i in "${!vals[@]}"; do
			[[ ${have[$((i + 1))]} == "${vals[$i]}" ]] || ok=0
		done
		(( ok )) && break
		(( $(now_ms) < deadline )) ||
			fail "$what: not followed within 5 s (want $want, status has ${got#* })"
		sleep 0.1
	done
	dt=$(( $(now_ms) - t0 ))
	set -- $got
	note "$what: followed in $dt ms, $(( $1 - ticks0 )) tick(s) later"
	# the tick that saw it is the first or the second after the change
	# (a timed tick may have read the cache just before the event came)
	(( $1 - ticks0 <= 2 )) || fail "$what: followed only $(( $1 - ticks0 )) ticks later"
	LAST_MS=$dt
}

follow "floor 300 MiB" "<policy floor='300M'/>" \
	"floor_kib=307200 floor_src=metadata exclude=False"
floor_ms=$LAST_MS
follow "exclude" "<policy exclude='yes'/>" \
	"exclude=True exclude_src=metadata state=excluded floor_src=default"
exclude_ms=$LAST_MS
follow "metadata removed" "" \
	"exclude=False exclude_src=default floor_src=default floor_kib=$DEFAULT_FLOOR"
remove_ms=$LAST_MS

n=$(grep -c 'memtuned metadata changed; following it' "$W/daemon.log" || true)
(( n == 3 )) || fail "memtuned logged $n metadata changes for 3"
kill -0 "$DPID" || fail "memtuned died"
stop_daemon || fail "memtuned did not stop cleanly"
measure "floor_followed_ms=$floor_ms exclude_followed_ms=$exclude_ms removal_followed_ms=$remove_ms interval_ms=3000 refresh_ticks=60"
