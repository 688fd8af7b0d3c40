#!/usr/bin/env bash
# Scenario: runtime control. Two idle guests on a host memtuned finds
# short. One is paused (memtunectl pause) before memtuned may act: while
# the other is ballooned down, the paused one does not move and shows as
# paused; resumed, it is ballooned down too. A pause of the whole host
# holds both and shows on the host. Then memtunectl exclude writes
# memtuned's own metadata element as virsh metadata does: followed with
# metadata_exclude = yes (the guest becomes excluded), and said to be
# refused (exit 7) under the default metadata = bounded.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
G=(mt-pz-a mt-pz-b)
cleanup() {
	stop_daemon || true
	cleanup_guests "${G[@]}"
	rm -rf "$W"
}
trap cleanup EXIT

# nearly all each guest has free, touched and freed: a balloon then finds
# little but resident memory (why: 05-floors-ceilings)
LOAD=1s:alloc:560M:0,6s:free:560M
"$TB" guest add pz-a --mem 768 --load $LOAD
"$TB" guest add pz-b --mem 768 --load $LOAD
"$TB" guest wait pz-a pz-b
for g in "${G[@]}"; do
	wait_until 60 "$g has touched and freed its memory" \
		'[[ $(report_field '$g' t) -ge 8 && $(report_field '$g' held) == 0 ]]'
	wait_until 20 "fresh stats from $g" '[[ -n $(stat_of '$g' balloon.usable) ]]'
done
MAX=$(stat_of mt-pz-a balloon.maximum)

conf() {	# DRY_RUN
	cat >"$W/memtuned.conf" <<-CONF
	[daemon]
	uri = $URI
	control_socket = $W/control.sock
	interval = 1s
	interval_max = 2s
	manage_ksm = no
	manage_thp = no
	metadata_exclude = yes
	dry_run = $1
	[policy]
	# far more than this host has: critical for the whole run
	reserve = 1T
	state_dwell = 1s
	CONF
}
# dry-run first, so that the pause is in before memtuned may act
conf yes
start_daemon "$W/memtuned.conf" "$W/daemon.log"
C=("$BUILD/memtunectl" -f "$W/memtuned.conf")
state_of() { guest_field "$W/memtuned.conf" "$1" state; }

# by its domain ID, as virsh takes a guest
id_a=$(virsh -q -c "$URI" domid mt-pz-a | tr -d ' ')
[[ $id_a =~ ^[0-9]+$ ]] || fail "virsh domid mt-pz-a said '$id_a'"
"${C[@]}" pause "$id_a" >"$W/pause.txt" || fail "pause $id_a failed: $(cat "$W/pause.txt")"
grep -q '^mt-pz-a  *paused$' "$W/pause.txt" || fail "pause did not say mt-pz-a is paused: $(cat "$W/pause.txt")"
"${C[@]}" pause mt-pz-nosuch >/dev/null 2>&1 && fail "pause of a guest that does not exist succeeded"
rc=0; "${C[@]}" pause mt-pz-nosuch >/dev/null 2>&1 || rc=$?
[[ $rc == 5 ]] || fail "pause of a guest that does not exist exited $rc, want 5"
wait_until 10 "mt-pz-a shows as paused" '[[ $(state_of mt-pz-a) == paused ]]'

# now memtuned may act
conf no
kill -HUP "$DPID"
wait_until 90 "mt-pz-b is ballooned down" \
	'(( $(stat_of mt-pz-b balloon.current) < MAX - 200 * 1024 ))'
end=$((SECONDS + 15))
while ((SECONDS < end)); do
	a=$(stat_of mt-pz-a balloon.current)
	(( a >= MAX )) || fail "the paused mt-pz-a was ballooned to $a KiB"
	sleep 1
done
[[ $(state_of mt-pz-a) == paused ]] || fail "mt-pz-a is '$(state_of mt-pz-a)' after the reload, want paused"
kill -0 "$DPID" || fail "memtuned died"

t0=$(now_ms)
"${C[@]}" resume mt-pz-a >"$W/resume.txt" || fail "resume failed: $(cat "$W/resume.txt")"
grep -q '^mt-pz-a  *none$' "$W/resume.txt" || fail "resume did not say mt-pz-a is managed: $(cat "$W/resume.txt")"
wait_until 60 "the resumed mt-pz-a is ballooned down" \
	'(( $(stat_of mt-pz-a balloon.current) < MAX - 200 * 1024 ))'
resume_ms=$(( $(now_ms) - t0 ))

# the whole host
"${C[@]}" pause --json >"$W/hpause.json" || fail "host pause failed"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["host"] and len(r["guests"]) == 2, r' "$W/hpause.json" ||
	fail "the host pause answered $(cat "$W/hpause.json")"
wait_until 10 "both guests paused" '[[ $(state_of mt-pz-a) == paused && $(state_of mt-pz-b) == paused ]]'
hh=$(status_json "$W/memtuned.conf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host_hold"])')
[[ $hh == paused ]] || fail "the status says host_hold '$hh' after a host pause"
"${C[@]}" status | grep -q '^host paused by memtunectl' || fail "the status table does not say the host is paused"
"${C[@]}" resume >/dev/null || fail "host resume failed"
wait_until 10 "both guests managed again" '[[ $(state_of mt-pz-a) != paused && $(state_of mt-pz-b) != paused ]]'

# ---- exclude in metadata ---------------------------------------------------
"${C[@]}" exclude mt-pz-b --live || fail "exclude --live failed (rc $?)"
virsh -q -c "$URI" metadata mt-pz-b --uri http://memtuned.org/xmlns/memtuned/1 --live | grep -q 'exclude="yes"' ||
	fail "no exclude=\"yes\" in mt-pz-b's live metadata"
wait_until 20 "memtuned takes mt-pz-b as excluded" '[[ $(state_of mt-pz-b) == excluded ]]'
src=$(guest_field "$W/memtuned.conf" mt-pz-b exclude_src)
[[ $src == metadata ]] || fail "mt-pz-b is excluded by '$src', want metadata"
# under the default (bounded, metadata_exclude = no) it is written and
# said to be refused
sed '/^metadata_exclude/d' "$W/memtuned.conf" >"$W/bounded.conf"
rc=0; "$BUILD/memtunectl" -f "$W/bounded.conf" exclude mt-pz-a --live 2>"$W/excl.err" || rc=$?
[[ $rc == 7 ]] || fail "exclude under metadata = bounded exited $rc, want 7: $(cat "$W/excl.err")"
grep -q 'metadata_exclude = yes' "$W/excl.err" || fail "exclude under bounded does not say why: $(cat "$W/excl.err")"
kill -0 "$DPID" || fail "memtuned died"
measure "resume_to_ballooned_ms=$resume_ms"
stop_daemon || fail "memtuned did not stop cleanly"
echo "PASS: a paused guest stays put while the other is ballooned, moves once resumed; exclude writes metadata memtuned follows"
