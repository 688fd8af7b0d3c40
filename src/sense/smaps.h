/* smaps.h - how much of a QEMU process's memory is its guest's RAM.
 *
 * A QEMU process's RSS is its guest's RAM that the host holds plus QEMU's
 * own memory: tens of MiB under KVM, hundreds under TCG, where the
 * translation cache alone can reach 1 GiB. The balloon's yield and a
 * guest's resident idle memory are about the first part only. The guest
 * RAM is one writable, not executable mapping per RAM block, of exactly
 * the block's size (the boot RAM; each virtio-mem device's region), and
 * /proc/PID/smaps gives each mapping's Rss. */
#ifndef MEMTUNED_SMAPS_H
#define MEMTUNED_SMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SMAPS_MAX_SIZES 9	/* the boot RAM and up to 8 devices */

struct smaps_ram {
	int64_t ram_rss_kib;	/* Rss of the guest RAM mappings */
	int64_t all_rss_kib;	/* Rss of every mapping */
	int ram_maps;		/* how many mappings matched */
};

/* Scan smaps text from f: the mappings writable and not executable whose
 * size (KiB) is one of sizes[0..n) count as guest RAM. 0 with *out set
 * (ram_maps 0 when none matched), -EINVAL on text that is not smaps. */
int smaps_scan(FILE *f, const int64_t *sizes_kib, size_t n,
    struct smaps_ram *out);

/* The same for /proc/PID/smaps under the root prefix (mt_path).
 * 0, -errno (the process is gone: -ENOENT), -EINVAL. */
int smaps_read_pid(int64_t pid, const int64_t *sizes_kib, size_t n,
    struct smaps_ram *out);

#endif
