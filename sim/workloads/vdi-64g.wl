# vdi-64g - a VDI day on a small host: near-identical Windows desktops.
# Logins 8:00-9:30 (each desktop shifted up to 20 min), a lunch dip,
# logout around 17:00. Windows zeroes much of its memory at boot (boot_touch)
# and the desktops share their OS and application pages (dup).
name vdi-64g
host_mem 64G
host_base 2G
host_cache 1G
qemu_overhead 200M
guest_min 128M
duration 24h
dt 2s
seed 11
vms 8 120
balloon_rate 128M
storm 08:00 09:30

class desktop 1
vm_mem 4G
dup 40%
cache 40%
boot_touch 60%
uncoop 2%
jitter 15%
spread 20m
noise 2%
ws 00:00 10%
ws 07:50 10%
ws 08:00 14%
ws 09:30 50%
ws 12:00 55%
ws 12:20 35%
ws 13:20 35%
ws 13:40 55%
ws 16:40 55%
ws 17:10 25%
ws 17:40 10%
