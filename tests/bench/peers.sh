# peers.sh - KSM reset, ksmd CPU and the peer controllers (Debian's
# ksmtuned, oVirt's MoM) for the real side-by-side benchmarks (sourced
# after tests/integration/lib.sh). Nothing here is installed on the host:
# ksmtuned's script is unpacked from its package beside the guest image,
# MoM runs from the source tree named by MOM_SRC.
CACHE=${CACHE:-/var/cache/memtuned-testbed}

ksmd_pid=$(pgrep -x ksmd | head -n 1)
clk_tck=$(getconf CLK_TCK)
# ksmd_ms: ksmd's CPU time so far
ksmd_ms() { awk -v hz="$clk_tck" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$ksmd_pid/stat"; }

# saved_kib: KSM's own figure where the kernel has it (6.4+), else pages_sharing
saved_kib() {
	if [[ -f $KSM/general_profit ]]; then
		echo $(( $(ksm_get general_profit) / 1024 ))
	else
		echo $(( $(ksm_get pages_sharing) * 4 ))
	fi
}

# ksmtuned_script: Debian's ksmtuned, unpacked once from its package
ksmtuned_script() {
	local d=$CACHE/ksmtuned
	if [[ ! -x $d/usr/sbin/ksmtuned ]]; then
		local tmp
		tmp=$(mktemp -d)
		chmod 755 "$tmp"
		(cd "$tmp" && apt-get download -qq ksmtuned >/dev/null 2>&1) ||
			{ apt-get update -qq >/dev/null &&
			  (cd "$tmp" && apt-get download -qq ksmtuned >/dev/null 2>&1); } ||
			{ echo "bench: apt-get download ksmtuned failed" >&2; exit 1; }
		rm -rf "$d" && mkdir -p "$d"
		dpkg -x "$tmp"/ksmtuned_*.deb "$d"
		rm -rf "$tmp"
	fi
	echo "$d/usr/sbin/ksmtuned"
}

# ksmtuned_start DIR [CONF LINES...]: the packaged script with its config
# read from DIR, its pid in KT. ksmtuned counts the RSS of processes
# matching '^qemu-system.*-enable-kvm'; libvirt starts QEMU with '-accel'
# and the testbed's guests run under TCG, so the pattern is widened to
# 'qemu-system' (otherwise it counts nothing). Nothing else is changed.
KT=
ksmtuned_start() {
	local dir=$1 script
	shift
	script=$(ksmtuned_script)
	sed -e 's|^if \[ -f /etc/ksmtuned.conf \]; then|if [ -f "$KSMTUNED_CONF" ]; then|' \
	    -e 's|^    \. /etc/ksmtuned.conf|    . "$KSMTUNED_CONF"|' \
	    -e "s|'\\^qemu-system\\.\\*-enable-kvm'|'qemu-system'|" \
	    "$script" >"$dir/ksmtuned"
	grep -q "pgrep -f -d ' ' 'qemu-system'" "$dir/ksmtuned" ||
		{ echo "bench: ksmtuned's process pattern was not found to widen" >&2; exit 1; }
	printf '%s\n' "$@" >"$dir/ksmtuned.conf"
	KSMTUNED_CONF=$dir/ksmtuned.conf PIDFILE=$dir/ksmtuned.pid bash "$dir/ksmtuned"
	KT=$(cat "$dir/ksmtuned.pid")
}
ksmtuned_stop() {
	[[ -n $KT ]] || return 0
	pkill -TERM -P "$KT" 2>/dev/null || true
	kill -TERM "$KT" 2>/dev/null || true
	KT=
}

# mom_start DIR LOG: oVirt's momd from the source tree in MOM_SRC, with its
# shipped balloon and KSM rules as the policy, talking to the testbed's
# libvirt; its pid in MOMPID. 1 when MOM_SRC is not a MoM tree.
MOMPID=
mom_available() {
	[[ -n ${MOM_SRC:-} && -f $MOM_SRC/momd.in && -f $MOM_SRC/mom/__init__.py &&
	   -f $MOM_SRC/doc/balloon.rules && -f $MOM_SRC/doc/ksm.rules ]]
}
mom_start() {
	local dir=$1 log=$2
	mom_available || return 1
	if ! /usr/bin/python3 -c 'import libvirt' 2>/dev/null; then
		apt-get install -y -qq python3-libvirt >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null &&
			  apt-get install -y -qq python3-libvirt >/dev/null; } ||
			{ echo "bench: cannot install python3-libvirt for MoM" >&2; return 1; }
	fi
	mkdir -p "$dir/policy"
	sed 's|@PYTHON@|/usr/bin/python3|' "$MOM_SRC/momd.in" >"$dir/momd"
	cp "$MOM_SRC/doc/balloon.rules" "$dir/policy/10-balloon.policy"
	cp "$MOM_SRC/doc/ksm.rules" "$dir/policy/20-ksm.policy"
	sed -e "s|^policy-dir:.*|policy-dir: $dir/policy|" \
	    -e "s|^libvirt-hypervisor-uri:.*|libvirt-hypervisor-uri: $URI|" \
	    "$MOM_SRC/doc/mom-balloon+ksm.conf" >"$dir/mom.conf"
	PYTHONPATH=$MOM_SRC /usr/bin/python3 "$dir/momd" -c "$dir/mom.conf" >"$log" 2>&1 &
	MOMPID=$!
}
mom_stop() {
	[[ -n $MOMPID ]] || return 0
	kill -TERM "$MOMPID" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do kill -0 "$MOMPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$MOMPID" 2>/dev/null || true
	wait "$MOMPID" 2>/dev/null || true
	MOMPID=
}

# proc_cpu_ms PID: CPU time of a process and its reaped children
proc_cpu_ms() {
	awk -v hz="$clk_tck" '{ print int(($14 + $15 + $16 + $17) * 1000 / hz) }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# tree_cpu_ms PID: the same summed over the process and its live children
tree_cpu_ms() {
	local sum=0 p
	for p in $1 $(pgrep -P "$1" 2>/dev/null); do
		sum=$((sum + $(proc_cpu_ms "$p")))
	done
	echo "$sum"
}
# tree_rss_kib PID: resident memory of the process and its live children
tree_rss_kib() {
	local sum=0 p r
	for p in $1 $(pgrep -P "$1" 2>/dev/null); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		sum=$((sum + ${r:-0}))
	done
	echo "$sum"
}
