#!/usr/bin/env bash
# Scenario: memtuned under the file-system and capability restrictions of
# conf/memtuned.service, on a real guest. PID 1 here is not systemd, so
# the unit's sandbox is rebuilt with a mount namespace: every mount
# read-only (ProtectSystem=strict, ProtectKernelTunables=, which also
# covers /sys, ProtectControlGroups=), /proc/sys read-only, empty /tmp,
# /var/tmp, /root and /home (PrivateTmp=, ProtectHome=), then each
# ReadWritePaths= of the unit (read from the file, so this test follows
# the unit) bound writable again, /run/memtuned a fresh directory
# (RuntimeDirectory=), and the capability bounding set cut to the unit's
# CapabilityBoundingSet= with no_new_privs. Under that the real daemon
# must still switch KSM on and set THP for overcommit (sysfs), write
# memory.low on a cgroup v2 host, and shrink a guest's balloon through
# libvirtd, with no write refused in its log. Before it starts, a real
# `memtunectl rebalance` without the daemon and without --standalone must
# refuse (exit 6) and leave the balloon where it is.
. "$(dirname "$0")/lib.sh"

UNIT=$TOP/conf/memtuned.service
THP=/sys/kernel/mm/transparent_hugepage
W=$(mktemp -d /run/mt-confined.XXXXXX)
RUNDIR_MADE=
THP_SAVED=
thp_sel() { sed -E 's/.*\[([a-z+]+)\].*/\1/' "$THP/$1"; }
cleanup() {
	stop_daemon || true
	[[ -n $THP_SAVED ]] && echo "$THP_SAVED" >"$THP/defrag"
	ksm_restore
	cleanup_guests mt-cf1
	[[ -n $RUNDIR_MADE ]] && rmdir /run/memtuned 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
command -v setpriv >/dev/null || fail "setpriv not found (util-linux)"

# ---- the unit's restrictions, from the unit file ------------------------
for d in ProtectSystem=strict ProtectKernelTunables=yes ProtectControlGroups=yes \
    PrivateTmp=yes ProtectHome=yes NoNewPrivileges=yes RuntimeDirectory=memtuned; do
	grep -qx "$d" "$UNIT" || fail "the unit no longer says $d: this test rebuilds it"
done
rw_paths=$(sed -n 's/^ReadWritePaths=//p' "$UNIT" | tr ' ' '\n' | sed '/^$/d')
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | sed '/^$/d' |
	tr 'A-Z' 'a-z' | sed 's/^cap_/+/' | paste -sd,)
[[ -n $rw_paths && -n $caps ]] || fail "no ReadWritePaths= or CapabilityBoundingSet= in $UNIT"
note "ReadWritePaths: $(echo $rw_paths); bounding set: $caps"

# confine CMD...: run CMD in the unit's sandbox (same PID: unshare, bash
# and setpriv each exec the next)
cat >"$W/confine" <<SH
#!/bin/bash
set -eu
# every mount read-only but /dev and /proc (API trees ProtectSystem=strict
# leaves alone); /sys and the cgroup tree with them
findmnt -rn -o TARGET | grep -Ev '^/(dev|proc)(/|\$)' | while read -r m; do
	m=\$(printf '%b' "\$m")
	mount -o remount,bind,ro "\$m" || { echo "confine: cannot remount \$m read-only" >&2; exit 1; }
done
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
for d in /tmp /var/tmp /root /home; do
	[[ -d \$d ]] && mount -t tmpfs -o mode=0755 tmpfs "\$d"
done
mount -o remount,ro /root; mount -o remount,ro /home 2>/dev/null || true
# ReadWritePaths=, "-": skipped when absent, as systemd does
for p in $(echo $rw_paths); do
	opt=0; [[ \$p == -* ]] && { opt=1; p=\${p#-}; }
	if [[ \$p == /run/memtuned ]]; then
		mount --bind "$W/run" /run/memtuned
		mount -o remount,bind,rw /run/memtuned; continue
	fi
	if [[ ! -e \$p ]]; then
		((opt)) && continue
		echo "confine: \$p does not exist (systemd would refuse to start)" >&2; exit 1
	fi
	mount --bind "\$p" "\$p" && mount -o remount,bind,rw "\$p"
done
exec setpriv --bounding-set -all,$caps --inh-caps -all --no-new-privs -- "\$@"
SH
chmod +x "$W/confine"
mkdir -p "$W/run"
[[ -d /run/memtuned ]] || { mkdir /run/memtuned; RUNDIR_MADE=1; }
confined() { unshare --mount -- "$W/confine" "$@"; }

# the sandbox holds: what the unit forbids fails on the mount, not on a
# permission, and what it allows works
erofs() { # erofs FILE: writing FILE's own value back fails with EROFS
	local out
	out=$(confined sh -c 'v=$(cat "$1") && echo "$v" >"$1"' sh "$1" 2>&1) && return 1
	grep -q 'Read-only file system' <<<"$out"
}
erofs /proc/sys/vm/swappiness || fail "confined: /proc/sys is writable"
erofs /proc/sys/kernel/task_delayacct || fail "confined: task_delayacct is writable"
erofs /sys/kernel/profiling || fail "confined: /sys outside the ReadWritePaths is writable"
erofs "$(find /sys/fs/cgroup/ -maxdepth 3 -name memory.low -o -maxdepth 3 \
    -name memory.soft_limit_in_bytes | tail -n 1)" ||
	fail "confined: the cgroup tree is writable"
out=$(confined sh -c ': >/var/lib/mt-confined-probe' 2>&1) &&
	{ rm -f /var/lib/mt-confined-probe; fail "confined: /var/lib is writable"; }
grep -q 'Read-only file system' <<<"$out" || fail "confined: /var/lib: $out"
bnd=$(confined setpriv -d | grep -i '^capability bounding set')
# (this machine may grant fewer: a container without CAP_SYS_RESOURCE)
note "$bnd"
! grep -q sys_admin <<<"$bnd" || fail "confined: CAP_SYS_ADMIN is still in the bounding set"
writable() { confined sh -c 'v=$(cat "$1") && echo "$v" >"$1"' sh "$1"; }
writable /sys/kernel/mm/ksm/sleep_millisecs || fail "confined: the KSM knobs are not writable"
writable $THP/khugepaged/scan_sleep_millisecs || fail "confined: the THP knobs are not writable"
note "confined: /proc/sys, /sys outside the unit's paths, the cgroup tree and /var/lib read-only; no CAP_SYS_ADMIN; KSM and THP writable"

# ---- one real guest that touched memory and freed it --------------------
# nearly all it has free, touched and freed (why: 05-floors-ceilings)
"$TB" guest add cf1 --mem 768 --load 1s:alloc:560M:0,6s:free:560M
"$TB" guest wait cf1
wait_until 60 "mt-cf1 has touched and freed its memory" \
	'[[ $(report_field mt-cf1 t) -ge 8 && $(report_field mt-cf1 held) == 0 ]]'
wait_until 20 "fresh stats from mt-cf1" '[[ -n $(stat_of mt-cf1 balloon.usable) ]]'

cat >"$W/memtuned.conf" <<CONF
[daemon]
uri = $URI
control_socket = /run/memtuned/control.sock
interval = 1s
[policy]
# far more than this host has: the host is short for the whole run, so
# KSM and THP are set for overcommit and the guest is ballooned down
reserve = 1T
state_dwell = 1s
[guest mt-cf1]
floor = 300M
CONF
CTL=("$BUILD/memtunectl" -f "$W/memtuned.conf" -s "$W/run/control.sock")

# ---- no daemon: a real rebalance refuses and changes nothing -----------
before=$(stat_of mt-cf1 balloon.current)
rc=0
"${CTL[@]}" rebalance >"$W/ctl.out" 2>"$W/ctl.err" || rc=$?
[[ $rc == 6 ]] || fail "memtunectl rebalance without a daemon exited $rc, want 6: $(cat "$W/ctl.err")"
grep -q 'a real rebalance without it needs --standalone' "$W/ctl.err" ||
	fail "memtunectl did not say why: $(cat "$W/ctl.err")"
sleep 3
after=$(stat_of mt-cf1 balloon.current)
(( after == before )) || fail "a refused rebalance moved mt-cf1's balloon: $before -> $after KiB"
note "memtunectl rebalance, no daemon: exit 6, balloon stays at $((after / 1024)) MiB"

# ---- the daemon, confined -----------------------------------------------
ksm_save
ksm_fresh
THP_SAVED=$(thp_sel defrag)
echo madvise >"$THP/defrag"
ksm_run0=$(ksm_get run)
DAEMON_LOG=$W/daemon.log
# not through confined(): a function in the background is a subshell,
# and DPID must be memtuned's own PID
# the sandbox puts a tmpfs over /tmp, /var/tmp, /root and /home, where a
# checkout (and its build) may well live: the binary runs from $W
install -m 0755 "$BUILD/memtuned" "$W/memtuned"
unshare --mount -- "$W/confine" "$W/memtuned" -d -f "$W/memtuned.conf" >"$DAEMON_LOG" 2>&1 &
DPID=$!
wait_until 15 "the confined memtuned answers on /run/memtuned/control.sock" \
	'[[ $("${CTL[@]}" status --json 2>/dev/null) == *"\"source\": \"daemon\""* ]]'
grep -q NoNewPrivs:.*1 /proc/$DPID/status || fail "memtuned runs without no_new_privs: not the confined process"
wait_until 30 "KSM switched on (run was $ksm_run0)" '[[ $(ksm_get run) == 1 ]]'
wait_until 30 "THP defrag set for overcommit" '[[ $(thp_sel defrag) == defer ]]'
wait_until 60 "mt-cf1's balloon moves down through libvirtd" \
	'(( $(stat_of mt-cf1 balloon.current) < before - 32 * 1024 ))'
note "confined memtuned: KSM run 1, THP defrag defer, mt-cf1 $((before / 1024)) -> $(( $(stat_of mt-cf1 balloon.current) / 1024 )) MiB"

# memory.low: cgroup v2 only (v1 has no such file; memtuned writes none)
qpid=$(pgrep -f 'qemu-system.*guest=mt-cf1' | head -n 1)
cg=$(sed -n 's/^0:://p' /proc/$qpid/cgroup)
low_state="not exercised: cgroup v1 host"
if [[ -n $cg && -f /sys/fs/cgroup/$cg/memory.low && $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
	wait_until 30 "memory.low of mt-cf1's cgroup written" \
		'(( $(cat /sys/fs/cgroup/'"$cg"'/memory.low) > 0 ))'
	low_state="$(cat "/sys/fs/cgroup/$cg/memory.low") bytes in $cg"
fi
note "memory.low: $low_state"

# nothing memtuned tried was refused by the sandbox
if grep -Ei 'read-only file system|operation not permitted|permission denied' "$DAEMON_LOG"; then
	fail "the confined memtuned was refused a write (above)"
fi
hwm=$(awk '$1 == "VmHWM:" { print $2 }' /proc/$DPID/status)
threads=$(awk '$1 == "Threads:" { print $2 }' /proc/$DPID/status)
stop_daemon || fail "the confined memtuned did not stop cleanly"
[[ $(thp_sel defrag) == madvise ]] || fail "at exit THP defrag is $(thp_sel defrag), not the host's madvise"
[[ $(ksm_get run) == "$ksm_run0" ]] || fail "at exit KSM run is $(ksm_get run), not the host's $ksm_run0"
measure "confined_rss_hwm_kib=$hwm confined_threads=$threads memory_low='$low_state'"
exit 0
