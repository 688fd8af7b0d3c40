#!/usr/bin/env bash
# Scenario: churn. Guests are started and destroyed while memtuned runs at
# a 1 s interval; it must follow every lifecycle event, never act on a
# guest that is gone, and log no warning it should not.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
CYCLES=${MT_CHURN_CYCLES:-12}
cleanup() {
	stop_daemon || true
	cleanup_guests mt-ch-stay $(seq -f 'mt-ch-%g' 1 "$CYCLES")
	rm -rf "$W"
}
trap cleanup EXIT

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
interval = 1s
interval_max = 1s
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
[policy]
cooldown = 1s
CONF
"$TB" guest add ch-stay --mem 256 --max 512
start_daemon "$W/memtuned.conf" "$W/daemon.log"
rss0=$(awk '/^VmRSS/ { print $2 }' /proc/$DPID/status)

# each cycle: start a guest, let it live 0-4 s (some die before their
# balloon driver is up, some after), destroy it
for i in $(seq 1 "$CYCLES"); do
	"$TB" guest add ch-$i --mem 256 --max 384 >/dev/null 2>&1 || fail "cannot start mt-ch-$i"
	sleep $(( i % 5 ))
	"$TB" guest remove ch-$i
done
sleep 3
kill -0 "$DPID" || fail "memtuned died during the churn"
rss1=$(awk '/^VmRSS/ { print $2 }' /proc/$DPID/status)
"$BUILD/memtunectl" -f "$W/memtuned.conf" status --json >"$W/status.json" || fail "no status after the churn"
python3 - "$W/status.json" <<'PY' || fail "status lists guests that are gone"
import json, sys
names = [g["name"] for g in json.load(open(sys.argv[1]))["guests"]]
gone = [n for n in names if n.startswith("mt-ch-") and n != "mt-ch-stay"]
assert not gone, gone
assert "mt-ch-stay" in names, names
PY
stop_daemon || fail "memtuned did not stop cleanly"

events=$(grep -c 'lifecycle event' "$W/daemon.log" || true)
# a start and a destroy per cycle, at least
(( events >= 2 * CYCLES )) || fail "memtuned saw $events lifecycle events for $CYCLES start/destroy cycles"
# acting on a guest that is gone shows as a libvirt "no domain" failure
if grep -E 'warning: .*(balloon|memtune)' "$W/daemon.log" | grep -vi 'gone\|vanished'; then
	fail "memtuned logged an actuator failure during the churn"
fi
# no warning other than ones about a guest that vanished mid-tick
if grep -E ': (warning|error): ' "$W/daemon.log" | grep -vi 'gone\|vanished\|no longer'; then
	fail "unexpected warnings during the churn"
fi
measure "cycles=$CYCLES lifecycle_events=$events daemon_rss_kib_before=$rss0 after=$rss1"
