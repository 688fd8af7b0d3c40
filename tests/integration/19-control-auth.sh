#!/usr/bin/env bash
# Who may do what on the control socket, on the real daemon, with the
# runtime directory as the shipped unit makes it (its RuntimeDirectoryMode,
# root:root) and scratch users and groups made here and removed at exit:
#  - a member of control_group reaches the socket and reads (status,
#    rebalance --dry-run); a real rebalance is refused with the error,
#    and the daemon logs the refusal with the member's uid and pid;
#  - a member of admin_group rebalances; a second acting request inside
#    act_interval is refused, saying when it may come again; root is not
#    limited;
#  - a reserve above what the host could ever free is refused (exit 4);
#  - a user in neither group is refused by the socket's mode;
#  - with the unit's old RuntimeDirectoryMode=0750 a member was refused
#    by the directory (the bug this test was written for).
# No guest: the daemon needs only the testbed's libvirtd.
. "$(dirname "$0")/lib.sh"

TAG=mt19$$
GC=${TAG}c GA=${TAG}a UR=${TAG}r UA=${TAG}w
ACT_S=3
W=$(mktemp -d)
accounts_before=$(md5sum /etc/passwd /etc/group)
cleanup() {
	stop_daemon || true
	userdel "$UR" 2>/dev/null || true
	userdel "$UA" 2>/dev/null || true
	groupdel "$GA" 2>/dev/null || true
	groupdel "$GC" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

groupadd -r "$GC"
groupadd -r "$GA"
# system accounts: no home, no mail spool, no subordinate ids to clean up
useradd -r -M -N -s /usr/sbin/nologin -g "$GC" "$UR"
# an admin reaches the socket through control_group, the socket's group
useradd -r -M -N -s /usr/sbin/nologin -g "$GA" -G "$GC" "$UA"

# the runtime directory as systemd makes it from the unit
mode=$(awk -F= '$1 == "RuntimeDirectoryMode" { print $2 }' "$TOP/conf/memtuned.service")
[[ $mode =~ ^[0-7]+$ ]] || fail "no RuntimeDirectoryMode in conf/memtuned.service"
chmod 0755 "$W"
RUN=$W/run
install -d -m "$mode" -o root -g root "$RUN"
# memtunectl where the scratch users can run it, whatever BUILD's modes
install -m 0755 "$BUILD/memtunectl" "$W/memtunectl"
CONF=$W/memtuned.conf
cat >"$CONF" <<CONF
[daemon]
uri = $URI
interval = 2s
control_socket = $RUN/control.sock
control_group = $GC
admin_group = $GA
act_interval = ${ACT_S}s
psi_threshold = off
burst_watch = off
manage_ksm = no
manage_thp = no
CONF
chmod 0644 "$CONF"

# as USER (with the groups the group database gives it), or as nobody
as() {
	local u=$1; shift
	if [[ $u == nobody ]]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups "$@"
	fi
}
CTL=("$W/memtunectl" -f "$CONF")
# run CMD as USER: exit status in rc, stdout and stderr in $W/out
rc=0
run_as() {
	local u=$1; shift
	rc=0
	as "$u" "${CTL[@]}" "$@" >"$W/out" 2>&1 || rc=$?
	sed 's/^/    | /' "$W/out"
}

start_daemon "$CONF" "$W/daemon.log"
perm=$(stat -c '%a %U %G' "$RUN/control.sock")
[[ $perm == "660 root $GC" ]] || fail "socket is $perm, not 660 root $GC"
note "runtime directory $(stat -c '%a %U:%G' "$RUN"), socket $perm"

# ---- control_group reads, does not act ----------------------------------
run_as "$UR" status
(( rc == 0 )) || fail "status as a control_group member exited $rc"
run_as "$UR" rebalance --dry-run
(( rc == 0 )) || fail "rebalance --dry-run as a control_group member exited $rc"
run_as "$UR" rebalance
(( rc == 1 )) || fail "a real rebalance as a control_group member exited $rc, not 1"
grep -q "permission denied: rebalance needs root or admin_group $GA" "$W/out" ||
	fail "the refusal does not say who may rebalance"
grep -q "refused rebalance from uid $(id -u "$UR") pid [0-9]" "$W/daemon.log" ||
	fail "the daemon did not log the refusal with the uid and pid"

# ---- admin_group acts, once per act_interval ----------------------------
run_as "$UA" rebalance
(( rc == 0 )) || fail "rebalance as an admin_group member exited $rc"
t0=$(now_ms)
run_as "$UA" rebalance
(( rc == 1 )) || fail "a second rebalance inside act_interval exited $rc, not 1"
grep -q "too soon: rebalance may come again in [0-9.]* s" "$W/out" ||
	fail "the rate limit does not say when the next may come"
retry=$(sed -n 's/.*may come again in \([0-9.]*\) s.*/\1/p' "$W/out")
# root is not limited: a start hook reserving for several VMs at once
"${CTL[@]}" rebalance >/dev/null || fail "root's rebalance was refused"
# 2^30 MiB is more than any host could free: refused before a tick
rc=0
"${CTL[@]}" rebalance --reserve 1073741824 >"$W/out" 2>&1 || rc=$?
sed 's/^/    | /' "$W/out"
(( rc == 4 )) || fail "an impossible reserve exited $rc, not 4"
grep -q "could never free more than" "$W/out" || fail "the reserve's refusal does not say the cap"
sleep $(( ACT_S - ($(now_ms) - t0) / 1000 ))
sleep 0.3
run_as "$UA" rebalance
(( rc == 0 )) || fail "rebalance after act_interval exited $rc"
measure "act_interval_s=$ACT_S second_request_told_to_wait_s=$retry"

# ---- neither group: the socket's mode says no ----------------------------
run_as nobody status
(( rc == 1 )) || fail "status as nobody exited $rc, not 1"
grep -q "permission denied on $RUN/control.sock" "$W/out" ||
	fail "a user in neither group was not refused"

# ---- the unit's old 0750 kept a member out --------------------------------
chmod 0750 "$RUN"
run_as "$UR" status
(( rc == 1 )) || fail "status through a 0750 root:root directory exited $rc"
chmod "$mode" "$RUN"

stop_daemon || fail "the daemon did not stop cleanly"
note "the daemon's control lines:"
grep 'control' "$W/daemon.log" | sed 's/^/    /' || true
DAEMON_LOG=
cleanup
trap - EXIT
[[ $(md5sum /etc/passwd /etc/group) == "$accounts_before" ]] ||
	fail "the scratch users and groups were not removed"
