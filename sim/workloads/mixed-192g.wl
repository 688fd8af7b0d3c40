# mixed-192g - a mixed host: web front ends that follow the working day,
# databases with a large steady working set and a buffer pool touched at
# boot, and batch VMs whose jobs run mostly at night.
name mixed-192g
host_mem 192G
host_base 3G
host_cache 2G
qemu_overhead 250M
guest_min 128M
duration 24h
dt 2s
seed 31
vms 8 160
balloon_rate 256M

class web 4
vm_mem 4G
dup 20%
cache 40%
boot_touch 30%
uncoop 5%
jitter 20%
spread 30m
noise 3%
ws 00:00 15%
ws 08:00 20%
ws 09:30 45%
ws 18:00 45%
ws 20:00 20%

class db 1
vm_mem 16G
dup 5%
cache 20%
boot_touch 90%
uncoop 0%
jitter 10%
noise 1%
ws 00:00 70%

class batch 2
vm_mem 8G
dup 10%
cache 50%
boot_touch 20%
uncoop 5%
jitter 10%
spread 2h
ws 00:00 10%
burst 2h 50m 60% 60%
burst 45m 10m 30% 20%
