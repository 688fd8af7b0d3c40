#!/usr/bin/env bash
# Two real guests: read their balloon stats from C through libvirt, lower
# one balloon, and see both libvirt's actual and the guest's own MemTotal
# (from its serial report) follow, while the other guest stays put.
. "$(dirname "$0")/lib.sh"

trap 'cleanup_guests mt-bb1 mt-bb2' EXIT
t0=$(now_ms)
"$TB" guest add bb1 --mem 512
"$TB" guest add bb2 --mem 512
"$TB" guest wait bb1 bb2
measure "boot_ms=$(( $(now_ms) - t0 )) guests=2"

for g in mt-bb1 mt-bb2; do
	cur=$(stat_of $g balloon.current)
	[[ $cur == 524288 ]] || fail "$g balloon.current=$cur, want 524288"
	wait_until 20 "$g reports balloon stats" '[[ -n $(stat_of '$g' balloon.usable) ]]'
	avail=$(stat_of $g balloon.available)
	total=$(report_field $g total)
	# libvirt's "available" is the guest's MemTotal: both views must agree
	(( avail > 0 && avail <= 524288 )) || fail "$g available=$avail out of range"
	(( total == avail )) || note "$g: report total=$total, libvirt available=$avail (stats lag)"
done

before2=$(report_field mt-bb2 total)
target=$((320 * 1024))
t0=$(now_ms)
probe setmem mt-bb1 $target
wait_until 30 "libvirt actual of mt-bb1 reaches $target" \
	'(( $(stat_of mt-bb1 balloon.current) <= target + 1024 ))'
t_actual=$(( $(now_ms) - t0 ))
# The guest's own MemTotal drops by about the balloon size (512-320 = 192 MiB).
want_total_max=$(( before2 - 180 * 1024 ))
wait_until 30 "guest mt-bb1 MemTotal falls below $want_total_max KiB" \
	'(( $(report_field mt-bb1 total) <= want_total_max ))'
t_guest=$(( $(now_ms) - t0 ))
after1=$(report_field mt-bb1 total)
after2=$(report_field mt-bb2 total)
(( after2 == before2 )) || fail "mt-bb2 MemTotal moved ($before2 -> $after2) without a balloon change"
measure "inflate_192MiB_actual_ms=$t_actual guest_memtotal_ms=$t_guest guest_total_kib=$after1"

# and back up: deflate to full size
probe setmem mt-bb1 524288
wait_until 30 "guest mt-bb1 MemTotal comes back" \
	'(( $(report_field mt-bb1 total) >= before2 - 1024 ))'
note "balloon down to 320 MiB and back, guest MemTotal followed both ways"
