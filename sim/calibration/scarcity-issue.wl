# scarcity-issue - issue 12's scenario as the testbed ran it
# (tests/bench/real-scarcity, load 3s:alloc:300M:25, no free): four TCG
# guests of 1 GiB, each workload holding 300 MiB of which every other MiB
# is the same in all guests, a hog leaving about 3 % of MemTotal
# available, the controller started at t=0, and at 75 s the first guest's
# workload allocating 500 MiB at once. The real runs are in
# scarcity-issue/; memtuned-sim --replay compares them with the model.
# Every constant below is measured from those runs; docs/simulator.md
# (calibration) shows how.
name scarcity-issue
host_mem 24683656K		# the testbed host's MemTotal
# the hog and the host's own use: MemAvailable at t=0 is the runs' mean
# (732 and 700 MiB); --replay sets it from each run's
# MemAvailable at t=0
host_base 21117M
host_cache 0
qemu_overhead 46M		# RSS 1070 MiB of a fully touched 1 GiB guest
guest_reserve 64832K		# 1 GiB less the guest's MemTotal (983744 KiB)
guest_kernel 38304K		# the guest's MemTotal less MemFree before its load
guest_min 144M			# balloon at each OOM kill less the killed anon RSS
guest_watermark 65M		# the guest's MemFree less its MemAvailable
guest_swap no			# the balloon stopped at 445 MiB = 300 + 144
balloon_rate 128M		# every move (up to 112 MiB) done within a sample
touch_rate 300M			# the bursting guest's RSS, 18-burst-watch
# fitted by scripts/sim-calibrate
thp_extra 5%
ksm_page_cost 1000
ksm_merge_cost 35000
ksm_efficiency 55%
ksm_advisor yes
baseline_floor 0%		# MoM's balloon_min: no min_guarantee on KVM
duration 180s
dt 1s
boot_spread 0s
vms 4 4
seed 1

class scarcity 1
vm_mem 1G
boot_touch 26%		# fitted by scripts/sim-calibrate
cache 0%
dup 50%				# every other MiB the same in all guests
dup_idle 40%			# fitted by scripts/sim-calibrate
jitter 0%
step 0s alloc 300M
step 75s alloc 500M 1 0%		# chunks no other guest has
