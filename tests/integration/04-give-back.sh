#!/usr/bin/env bash
# Scenario: give back. A guest ballooned down to 400 of 1024 MiB starts a
# load that grows by 600 MiB over 40 s; memtuned must deflate its balloon
# ahead of the load: the guest's load generator reports no failed
# allocation and no OOM kill.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
cleanup() {
	stop_daemon || true
	cleanup_guests mt-gb1
	rm -rf "$W"
}
trap cleanup EXIT

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
manage_ksm = no
manage_thp = no
CONF

# the ramp starts 25 s after boot: memtuned is running by then
"$TB" guest add gb1 --mem 400 --max 1024 --load 25s:ramp:600M:40s
"$TB" guest wait gb1
wait_until 30 "mt-gb1's balloon is at 400 MiB" \
	'(( $(stat_of mt-gb1 balloon.current) <= 401 * 1024 ))'
start_daemon "$W/memtuned.conf" "$W/daemon.log"

# hold the balloon where it is until the ramp starts: memtuned may grow an
# idle guest on a plentiful host, which is fine, but this test wants to
# see the guest's own pressure drive it; so it watches the gap between
# what the guest holds and what it has
t_start=$(now_ms)
max_gap=0
until (( $(report_field mt-gb1 held) >= 600 * 1024 )); do
	held=$(report_field mt-gb1 held)
	total=$(report_field mt-gb1 total)
	fails=$(report_field mt-gb1 allocfail)
	oom=$(report_field mt-gb1 oom)
	[[ $fails == 0 && $oom == 0 ]] || fail "the guest ran short: $("$TB" guest report gb1)"
	(( $(now_ms) - t_start < 120000 )) || fail "the load never reached 600 MiB: $("$TB" guest report gb1)"
	sleep 1
done
sleep 3
final=$(stat_of mt-gb1 balloon.current)
held=$(report_field mt-gb1 held)
[[ $(report_field mt-gb1 allocfail) == 0 && $(report_field mt-gb1 oom) == 0 ]] ||
	fail "the guest ran short: $("$TB" guest report gb1)"
(( final > held )) || fail "balloon $final KiB below what the guest holds ($held KiB)"
grows=$(grep -c '^memtuned: balloon mt-gb1' "$W/daemon.log" || true)
measure "balloon_start_kib=409600 balloon_end_kib=$final held_kib=$held balloon_moves=$grows"
grep -E '^memtuned: balloon ' "$W/daemon.log" | sed 's/^/  /'
