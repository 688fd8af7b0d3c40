#!/usr/bin/env bash
# Scenario: memtuned moves a guest with a virtio-mem device by its blocks.
# One guest of 512 MiB boot memory and a 512 MiB virtio-mem device, all
# plugged, touches 700 MiB and frees it (resident idle memory on the
# host). memtuned, on a critical host (reserve = 1T), with the guest's
# floor at 640 MiB. What must hold:
#  - the device's requested size falls in whole 2 MiB blocks, the guest's
#    MemTotal follows it down (the memory is gone from the guest, not
#    held by a balloon), and the QEMU process on the host shrinks by most
#    of what was unplugged;
#  - the guest never goes below its floor: its memory (boot + requested)
#    stays at or above 640 MiB, and the balloon is not used for the move;
#  - status says the move is by virtio-mem;
#  - the guest's workload then grows by 500 MiB over 20 s (the host no
#    longer short): memtuned plugs blocks back, MemTotal rises, and the
#    workload is not killed.
# Fails with virtio_mem = no (the balloon moves the guest: MemTotal stays)
# and with policy_vmem_route disabled in the code (the same), and with the
# policy's floor clamp removed (the device is asked below the floor).
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
G=mt-vm-a
cleanup() {
	stop_daemon || true
	cleanup_guests "$G"
	rm -rf "$W"
}
trap cleanup EXIT

"$TB" guest add vm-a --mem 512 --virtio-mem 512 --fill unique \
	--load 1s:alloc:700M:0,6s:free:700M
"$TB" guest wait vm-a
wait_until 60 "$G has touched and freed its memory" \
	'[[ $(report_field '"$G"' held 2>/dev/null) == 0 ]] && (( $(report_field '"$G"' t) >= 8 ))'
wait_until 20 "stats from $G" '[[ -n $(stat_of '"$G"' balloon.usable) ]]'

req_kib() {
	virsh -q -c "$URI" dumpxml "$G" | python3 -c '
import sys, xml.etree.ElementTree as ET
d = ET.fromstring(sys.stdin.read())
m = d.find("./devices/memory[@model=\"virtio-mem\"]/target")
units = {"KiB": 1, "MiB": 1024, "GiB": 1048576, "b": 1/1024, "bytes": 1/1024}
r = m.find("requested")
print(int(int(r.text) * units.get(r.get("unit", "KiB"), 1)))'
}
rss() { stat_of "$G" balloon.rss; }
total0=$(report_field "$G" total)
req0=$(req_kib)
rss0=$(rss)
act0=$(stat_of "$G" balloon.current)
note "$G: MemTotal $((total0 / 1024)) MiB, requested $((req0 / 1024)) MiB, balloon $((act0 / 1024)) MiB, RSS $((rss0 / 1024)) MiB"
(( req0 == 512 * 1024 )) || fail "$G's device is not all plugged: $req0 KiB"

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = $W/control.sock
burst_watch = off
manage_ksm = no
manage_thp = no
log_level = ${MT_LOG_LEVEL:-info}
[policy]
reserve = 1T
interval_plenty = 2s
interval_normal = 2s
interval_tight = 2s
interval_critical = 1s
[guest $G]
floor = 640M
CONF
start_daemon "$W/memtuned.conf" "$W/daemon.log"

floor=$((640 * 1024))
lowest=$req0
t0=$(now_ms)
deadline=$((SECONDS + 60))
# down to the floor: 512 + requested >= 640, reached when it stops moving
until (( 512 * 1024 + $(req_kib) <= floor + 32 * 1024 )); do
	r=$(req_kib)
	(( r % 2048 == 0 )) || fail "requested $r KiB is not whole 2 MiB blocks"
	(( 512 * 1024 + r >= floor )) || fail "$G asked below its floor: 512 MiB + $r KiB"
	(( r < lowest )) && lowest=$r
	((SECONDS < deadline)) || fail "the device was not unplugged to the floor within 60 s: requested $r KiB ($(guest_field "$W/memtuned.conf" "$G" reason))"
	sleep 1
done
down_ms=$(( $(now_ms) - t0 ))
req1=$(req_kib)
wait_until 30 "$G's MemTotal follows the unplug" \
	'(( total0 - $(report_field '"$G"' total) >= (req0 - req1) * 90 / 100 ))'
sleep 3
total1=$(report_field "$G" total)
rss1=$(rss)
act1=$(stat_of "$G" balloon.current)
(( 512 * 1024 + req1 >= floor )) || fail "$G ended below its floor: 512 MiB + $req1 KiB"
unplugged=$((req0 - req1))
note "$G after ${down_ms} ms: requested $((req1 / 1024)) MiB, MemTotal $((total1 / 1024)) MiB, balloon $((act1 / 1024)) MiB, RSS $((rss1 / 1024)) MiB"
measure "unplugged_kib=$unplugged unplug_ms=$down_ms memtotal_fell_kib=$((total0 - total1)) rss_fell_kib=$((rss0 - rss1)) balloon_end_kib=$act1"
by=$(guest_field "$W/memtuned.conf" "$G" move_by 2>/dev/null || true)
[[ $by == virtio-mem ]] || fail "status says the guest is moved by '${by:-?}'"
# the memory is gone from the guest, and from the host
(( rss0 - rss1 >= unplugged * 70 / 100 )) ||
	fail "the host got $(( (rss0 - rss1) / 1024 )) MiB back of $((unplugged / 1024)) MiB unplugged"
# the balloon did not carry the move: actual is boot + plugged
(( act1 >= 512 * 1024 + req1 - 16 * 1024 )) ||
	fail "the balloon took part of the move: actual $act1 KiB, boot + requested $((512 * 1024 + req1)) KiB"
grep -q "virtio-mem $G virtiomem0: requested" "$W/daemon.log" ||
	fail "the log has no virtio-mem request"

# ---- the guest needs memory again ------------------------------------------
stop_daemon || fail "memtuned exited with an error"
sed -i 's/^reserve = 1T$/reserve = 64M/' "$W/memtuned.conf"
start_daemon "$W/memtuned.conf" "$W/daemon2.log"
"$TB" guest send vm-a "ramp 500M 20" >/dev/null
wait_until 60 "$G holds 500 MiB" '[[ $(report_field '"$G"' held 2>/dev/null) == 512000 ]]'
wait_until 20 "memtuned plugs blocks back" '(( $(req_kib) > req1 ))'
req2=$(req_kib)
total2=$(report_field "$G" total)
[[ $(report_field "$G" oom) == 0 && $(report_field "$G" allocfail) == 0 ]] ||
	fail "the workload ran short: $("$TB" guest report vm-a)"
measure "plugged_back_kib=$((req2 - req1)) memtotal_end_kib=$total2"
(( req2 % 2048 == 0 )) || fail "requested $req2 KiB is not whole 2 MiB blocks"
stop_daemon || fail "memtuned exited with an error"
exit 0
