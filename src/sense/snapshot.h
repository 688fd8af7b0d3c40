/* snapshot.h - what the collectors see, as plain data for the policy.
 *
 * Collectors fill these structs; the policy reads them and nothing else.
 * Every field carries its unit in its name. A field the kernel, libvirt or
 * the guest does not provide is MT_ABSENT (util.h), never 0. Counters are
 * cumulative as read; *_per_s fields are rates the collector computed
 * against its previous sample (MT_ABSENT on the first sample or after a
 * counter went backwards).
 */
#ifndef MEMTUNED_SNAPSHOT_H
#define MEMTUNED_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* libvirt puts no hard limit on names; 256 bytes covers every real one and
 * a longer name is refused by the collector with a message. */
#define MT_NAME_MAX 256
#define MT_UUID_LEN 37

/* /proc/meminfo, in KiB (HugePages_* in pages of hugepage_size_kib). */
struct host_meminfo {
	int64_t mem_total_kib;
	int64_t mem_free_kib;
	int64_t mem_avail_kib;
	int64_t buffers_kib;
	int64_t cached_kib;
	int64_t swap_total_kib;
	int64_t swap_free_kib;
	int64_t anon_pages_kib;
	int64_t anon_huge_kib;
	int64_t shmem_kib;
	int64_t committed_as_kib;
	int64_t hugepages_total;
	int64_t hugepages_free;
	int64_t hugepages_rsvd;
	int64_t hugepages_surp;
	int64_t hugepage_size_kib;
};

/* /proc/vmstat counters (cumulative) and their rates. */
struct host_vmstat {
	int64_t pgmajfault;
	int64_t pswpin;
	int64_t pswpout;
	int64_t workingset_refault_anon;
	int64_t workingset_refault_file;
	int64_t thp_fault_alloc;
	int64_t thp_fault_fallback;
	int64_t thp_collapse_alloc;
	int64_t thp_collapse_alloc_failed;
	int64_t thp_split_page;
	int64_t compact_stall;

	int64_t pgmajfault_per_s;
	int64_t pswpin_per_s;
	int64_t pswpout_per_s;
	int64_t refault_per_s;		/* anon + file */
	int64_t thp_split_per_s;
	int64_t compact_stall_per_s;
};

/* /proc/pressure/memory. avg values in per-myriad of wall time
 * ("12.34" -> 1234); totals in microseconds. */
struct psi_line {
	int64_t avg10_pmy;
	int64_t avg60_pmy;
	int64_t avg300_pmy;
	int64_t total_us;
};

struct host_psi {
	bool present;
	struct psi_line some;
	struct psi_line full;
};

/* /sys/kernel/mm/ksm: every knob and counter, MT_ABSENT when the running
 * kernel lacks it. advisor_mode is "" when absent, else "none" or
 * "scan-time" (the bracketed choice). */
struct host_ksm {
	bool present;			/* the ksm directory exists */
	int64_t run;
	int64_t pages_to_scan;
	int64_t sleep_millisecs;
	int64_t pages_shared;
	int64_t pages_sharing;
	int64_t pages_unshared;
	int64_t pages_volatile;
	int64_t pages_skipped;
	int64_t full_scans;
	int64_t pages_scanned;		/* 6.7+: pages ksmd looked at, ever */
	int64_t general_profit;		/* bytes, may be negative */
	int64_t ksm_zero_pages;
	int64_t max_page_sharing;
	int64_t merge_across_nodes;
	int64_t use_zero_pages;
	int64_t smart_scan;
	int64_t stable_node_chains;
	int64_t stable_node_dups;
	char advisor_mode[16];
	int64_t advisor_target_scan_time;	/* seconds */
	int64_t advisor_max_cpu;		/* percent */
	int64_t advisor_min_pages_to_scan;
	int64_t advisor_max_pages_to_scan;
	int64_t page_kib;		/* the page pages_* count, KiB */

	int64_t ksmd_pid;
	int64_t ksmd_cpu_ms;		/* utime + stime, cumulative */
	int64_t ksmd_cpu_pmil;		/* per-mille of one core since last sample */
};

/* /sys/kernel/mm/transparent_hugepage. enabled/defrag hold the bracketed
 * choice ("always", "madvise", "never", ...), "" when absent. */
struct host_thp {
	bool present;
	char enabled[24];
	char defrag[24];
	int64_t khugepaged_pages_to_scan;
	int64_t khugepaged_scan_sleep_millisecs;
	int64_t khugepaged_alloc_sleep_millisecs;
	int64_t khugepaged_defrag;
	int64_t khugepaged_max_ptes_none;
	int64_t khugepaged_pages_collapsed;
	int64_t khugepaged_full_scans;
};

/* Per-NUMA-node free memory (/sys/devices/system/node/nodeN/meminfo). */
#define MT_MAX_NODES 64
/* guest_backing.numa_nodes is one bit per node */
_Static_assert(MT_MAX_NODES <= 64, "numa_nodes holds 64 nodes");
struct host_numa {
	int nr_nodes;			/* 0 when the host shows no node dir */
	int64_t node_total_kib[MT_MAX_NODES];
	int64_t node_free_kib[MT_MAX_NODES];
};

struct host_snapshot {
	int64_t time_ms;		/* CLOCK_MONOTONIC when collected */
	struct host_meminfo mem;
	struct host_vmstat vm;
	struct host_psi psi;
	struct host_ksm ksm;
	struct host_thp thp;
	struct host_numa numa;
};

/* Where a guest's balloon statistics stand. */
enum guest_stats_state {
	GUEST_STATS_OK,			/* fresh stats from the balloon driver */
	GUEST_STATS_STALE,		/* last_update stopped moving */
	GUEST_STATS_NONE,		/* no balloon driver or stats disabled */
};

/* One virtio-mem device (<memory model='virtio-mem'>): sizes in KiB,
 * MT_ABSENT when the XML does not give them (an inactive domain has no
 * <current>). */
#define MT_VMEM_MAX 8
struct vmem_dev {
	int64_t size_kib;		/* <target><size>: the most it plugs */
	int64_t block_kib;		/* <block>: the plug unit */
	int64_t requested_kib;		/* <requested>: asked of the guest */
	int64_t current_kib;		/* <current>: plugged now */
	int node;			/* <node>: guest NUMA node; -1 none */
	/* the host nodes its memory comes from: its cell's <memnode>,
	 * else <numatune><memory>; 0 unbound or unknown */
	uint64_t host_nodes;
	char alias[32];			/* <alias name>; "" without one */
	char addr[32];			/* PCI address "dddd:bb:ss.f"; "" */
};

/* The domain's virtio-mem devices: how many, their sums, and the first
 * MT_VMEM_MAX of them one by one. A sum is MT_ABSENT when a device
 * lacks the value; everything is 0/absent without a device. */
struct guest_vmem {
	int count;
	int64_t size_kib;
	int64_t requested_kib;
	int64_t current_kib;
	int64_t block_kib;		/* the largest block of them */
	struct vmem_dev dev[MT_VMEM_MAX];
};

/* What a guest's domain XML says about its memory backing. */
struct guest_backing {
	bool hugepages;			/* <memoryBacking><hugepages/> */
	bool locked;			/* <memoryBacking><locked/> */
	bool nosharepages;		/* <memoryBacking><nosharepages/> */
	bool has_balloon;		/* <memballoon model!='none'> */
	int64_t stats_period_s;		/* 0 or MT_ABSENT: no period set */
	/* <numatune>: the host nodes the guest's memory may come from (bit
	 * n = node n; 0: unbound), and whether the binding confines it
	 * there (strict, restrictive) or only steers it (preferred,
	 * interleave). placement='auto' carries no nodeset: unbound. */
	uint64_t numa_nodes;
	bool numa_confined;
	bool numa_auto;			/* placement='auto': left to numad */
	/* <memballoon freePageReporting='on'>: the guest hands the host
	 * the pages it frees, so its QEMU RSS is about what it holds */
	bool free_page_reporting;
	/* <memballoon autodeflate='on'> (QEMU deflate-on-oom): the guest
	 * takes balloon pages back before its OOM killer runs */
	bool autodeflate;
	struct guest_vmem vmem;
};

/* Per-guest policy input, after merging memtuned.conf and the domain's
 * <metadata> (see docs/configuration.md for the precedence). */
enum guest_input_source {
	SRC_DEFAULT,
	SRC_CONFIG,
	SRC_METADATA,
	SRC_LIBVIRT,			/* a ceiling from the domain's hard
					   limit (the policy's, not an input) */
};

/* How far the domain's own <metadata> is believed ([daemon] metadata):
 * whoever may edit the domain may write it, often the tenant. */
enum metadata_trust {
	METADATA_BOUNDED,		/* capped by memtuned.conf (default) */
	METADATA_TRUST,			/* taken whole */
	METADATA_IGNORE,		/* not read */
};

struct guest_input {
	int64_t floor_kib;		/* MT_ABSENT: use the default share */
	int64_t ceiling_kib;		/* MT_ABSENT: max memory */
	int64_t shares;			/* MT_ABSENT: default shares */
	bool exclude;			/* leave this guest alone */
	enum guest_input_source floor_src;
	enum guest_input_source ceiling_src;
	enum guest_input_source shares_src;
	enum guest_input_source exclude_src;
};

/* Held by the operator at run time (memtunectl release, pause): the
 * policy leaves the guest alone, as an excluded one. Not from the domain
 * or the config: the daemon holds it in memory, and a restart forgets it. */
enum guest_hold {
	GUEST_HOLD_NONE,
	GUEST_HOLD_PAUSED,		/* memtunectl pause */
	GUEST_HOLD_RELEASED,		/* memtunectl release: given back */
};

const char *guest_hold_name(enum guest_hold h);	/* "none", "paused"... */

struct guest_snapshot {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_LEN];
	int id;				/* libvirt domain id, -1 if inactive */
	int state;			/* virDomainState */
	int64_t qemu_pid;		/* MT_ABSENT when unknown */

	/* libvirt: the domain's configured memory and balloon stats */
	int64_t max_kib;		/* virDomainGetMaxMemory */
	int64_t actual_kib;		/* balloon.current */
	int64_t balloon_max_kib;	/* balloon.maximum */
	int64_t unused_kib;		/* guest MemFree */
	int64_t available_kib;		/* guest MemTotal */
	int64_t usable_kib;		/* guest MemAvailable */
	int64_t disk_caches_kib;
	int64_t major_fault;
	int64_t minor_fault;
	int64_t swap_in_kib;
	int64_t swap_out_kib;
	int64_t rss_kib;		/* QEMU process on the host */
	/* what libvirt's balloon-change events showed since the last
	 * snapshot: the highest size, and the largest rise from a low
	 * before it (a guest with deflate on OOM takes pages back and may
	 * inflate again before the next tick); MT_ABSENT: no event */
	int64_t balloon_peak_kib;
	int64_t balloon_rise_kib;
	int64_t rss_rate_kib_s;		/* how fast it rose just before this
					   snapshot (the daemon's burst watch;
					   MT_ABSENT without one) */
	int64_t ksm_merging_kib;	/* of it, pages KSM merged (shared):
					   /proc/PID/ksm_merging_pages, 6.1+ */
	int64_t qemu_own_kib;		/* of it, QEMU's own memory: what is
					   not in the guest RAM's mappings
					   (smaps.h), as last measured;
					   MT_ABSENT unknown */
	int64_t last_update_s;		/* guest clock of the last stats */
	enum guest_stats_state stats;
	int64_t major_fault_per_s;
	int64_t swap_in_kib_per_s;

	/* memtune as libvirt reports it; MT_ABSENT = unlimited */
	int64_t hard_limit_kib;
	int64_t soft_limit_kib;
	int64_t swap_hard_limit_kib;
	/* the hard limit memtuned recorded in the domain's metadata when it
	 * set one (possibly before a restart), and the balloon target then;
	 * MT_ABSENT: no record */
	int64_t own_hard_limit_kib;
	int64_t own_target_kib;

	/* the guest's cgroup */
	int cgroup_version;		/* 1, 2, or 0 when not found */
	int64_t cg_usage_kib;
	int64_t cg_limit_kib;
	int64_t cg_anon_kib;
	int64_t cg_file_kib;
	int64_t cg_active_file_kib;
	int64_t cg_inactive_file_kib;
	int64_t cg_working_set_kib;	/* usage - inactive_file */
	int64_t cg_low_kib;		/* v2 memory.low, capped by the smallest
					   of its ancestors' (what reaches it) */
	struct psi_line cg_psi_some;	/* v2 memory.pressure; avg MT_ABSENT on v1 */
	struct psi_line cg_psi_full;

	/* taskstats delay accounting of the QEMU process (all threads) */
	bool ts_present;
	int64_t ts_freepages_delay_ns;
	int64_t ts_thrashing_delay_ns;
	int64_t ts_swapin_delay_ns;
	int64_t ts_stall_pmy;		/* (reclaim+thrash+swapin) delay per wall time */

	struct guest_backing backing;
	struct guest_input input;
	enum guest_hold hold;		/* set by the engine after collection */
};

struct snapshot {
	struct host_snapshot host;
	struct guest_snapshot *guests;
	size_t nr_guests;
};

/* Fill every field of a snapshot with MT_ABSENT/empty values. */
void host_snapshot_init(struct host_snapshot *h);
/* What KSM's merging saves, in KiB: general_profit (6.4+, net of KSM's
 * own rmap items), else pages_sharing pages of page_kib (4 KiB when a
 * snapshot does not say, as the simulator's and the tests' do not).
 * MT_ABSENT without KSM or without either counter. */
int64_t host_ksm_saved_kib(const struct host_ksm *k);
void guest_snapshot_init(struct guest_snapshot *g);
const char *guest_stats_state_name(enum guest_stats_state s);
const char *guest_input_source_name(enum guest_input_source s);
const char *metadata_trust_name(enum metadata_trust m);
/* "trust", "bounded" or "ignore"; 0 or -EINVAL. */
int metadata_trust_parse(const char *s, enum metadata_trust *m);

#endif
