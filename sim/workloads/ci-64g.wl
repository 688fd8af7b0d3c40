# ci-64g - a CI test farm: build VMs idle between jobs; every 30 min each
# VM runs a 12-minute build with probability 40 %, taking 55 % of its
# memory on top of an 8 % idle working set. Linux guests touch little at
# boot and fill free memory with page cache (sources, objects).
name ci-64g
host_mem 64G
host_base 2G
host_cache 1G
qemu_overhead 200M
guest_min 128M
duration 24h
dt 2s
seed 21
vms 4 64
balloon_rate 256M

class builder 1
vm_mem 8G
dup 15%
cache 50%
boot_touch 20%
uncoop 0%
jitter 10%
spread 1h
noise 1%
ws 00:00 8%
burst 30m 12m 55% 40%
