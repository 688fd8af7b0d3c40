/* capacity_est.h - how many more guests of a given size fit on this host
 * now.
 *
 * capacity_estimate() is pure like the policy: it reads a snapshot and the
 * policy config (for the host reserve, the QEMU overhead, the floors and
 * what a guest needs) and answers at three levels of risk:
 *
 *   no-overcommit  MemTotal (less the hugepage pool) - host reserve
 *                  - every guest's max memory + QEMU overhead
 *   balloon        + what ballooning takes from guests that can give:
 *                  max - max(floor, need) for each guest with fresh stats,
 *                  a balloon, normal pages, no <locked/>, not excluded
 *   ksm            + measured KSM savings, attributed to the guests KSM
 *                  can merge (no <nosharepages/>, no hugepages) in
 *                  proportion to their RSS
 *
 * A new guest costs vm_kib plus its QEMU overhead at every level. With
 * more than one NUMA node, each node's free memory is reported too.
 * docs/capacity.md describes the model with a worked example; capacity.h
 * (src/report/) renders the result.
 */
#ifndef MEMTUNED_CAPACITY_EST_H
#define MEMTUNED_CAPACITY_EST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "snapshot.h"

enum capacity_level_id {
	CAP_NO_OVERCOMMIT,
	CAP_BALLOON,
	CAP_KSM,
	CAP_LEVELS,
};

/* The longest reason carries a policy bounds message (POLICY_REASON_MAX)
 * behind a short prefix. */
#define CAPACITY_REASON_MAX (POLICY_REASON_MAX + 32)

/* When no size is given and no guest runs. */
#define CAPACITY_DEFAULT_VM_KIB (2048 * 1024)

struct capacity_level {
	int64_t headroom_kib;		/* memory left for new guests; may be < 0 */
	int64_t added_kib;		/* over the level before (0 for the first) */
	int64_t fits;			/* guests of vm_kib that fit, >= 0 */
};

struct capacity_guest {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_LEN];
	bool hugepages;			/* RAM from the hugepage pool */
	int64_t max_kib;
	int64_t actual_kib;
	int64_t overhead_kib;		/* QEMU beyond guest RAM */
	int64_t committed_kib;		/* normal memory counted at no-overcommit */
	int64_t floor_kib;		/* MT_ABSENT when bounds were not read */
	int64_t need_kib;		/* used + headroom, MT_ABSENT without stats */
	int64_t rss_kib;

	/* balloon level: what ballooning takes, split into what is already
	 * out (max - actual) and what it could still take (actual - low) */
	bool reclaim_counted;
	int64_t balloon_kib;		/* max - max(floor, need), >= 0 */
	int64_t reclaim_now_kib;	/* actual - max(floor, need), >= 0 */
	char reclaim_reason[CAPACITY_REASON_MAX];	/* "" when counted */

	/* ksm level */
	bool ksm_counted;
	int64_t ksm_share_kib;
	char ksm_reason[CAPACITY_REASON_MAX];		/* "" when counted */
};

struct capacity_node {
	int node;
	int64_t total_kib;
	int64_t free_kib;
	int64_t reserve_kib;		/* the node's share of the host reserve */
	int64_t headroom_kib;		/* free - reserve share */
	int64_t fits;
};

struct capacity_result {
	int64_t vm_kib;
	int64_t vm_overhead_kib;
	int64_t vm_cost_kib;		/* vm_kib + its QEMU overhead */
	int64_t as_of_ms;		/* the snapshot's host time (monotonic) */

	/* host figures */
	int64_t mem_total_kib;
	int64_t mem_avail_kib;
	int64_t reserve_kib;
	int64_t hugepage_pool_kib;	/* HugePages_Total * size */
	int64_t hugepage_free_kib;	/* HugePages_Free * size */
	int64_t guests_committed_kib;	/* sum of committed_kib */
	int64_t free_now_kib;		/* MemAvailable - reserve: right now */

	/* balloon figures */
	int64_t balloon_kib;		/* sum over counted guests */
	int64_t reclaim_now_kib;
	size_t nr_reclaim_counted;

	/* ksm figures */
	bool ksm_present;
	int64_t ksm_saved_kib;		/* measured; MT_ABSENT without KSM */
	const char *ksm_source;		/* "general_profit", "pages_sharing" */
	int64_t ksm_full_scans;
	int64_t ksm_counted_kib;	/* sum of the guests' shares */
	size_t nr_ksm_counted;

	struct capacity_level level[CAP_LEVELS];

	int nr_nodes;			/* 0 or 1: no per-node figures */
	struct capacity_node nodes[MT_MAX_NODES];
	bool numa_unbalanced;		/* a node is full while another is not */
	int numa_full_node;		/* the fullest such node; -1: none */
	int numa_roomy_node;		/* the roomiest node; -1: none */

	struct capacity_guest *guests;	/* same order as the snapshot's */
	size_t nr_guests;
	size_t cap_guests;
};

void capacity_result_init(struct capacity_result *r);
void capacity_result_free(struct capacity_result *r);

/* The size to ask about when none is given: the median max memory of the
 * running guests (the lower of the two middle ones for an even count), or
 * CAPACITY_DEFAULT_VM_KIB with none. */
int64_t capacity_default_vm_kib(const struct snapshot *snap);

/* Estimate. 0; -EINVAL when vm_kib is not above 0 or MemTotal is absent
 * (no host figures to start from); -ENOMEM. out keeps its guest array
 * between calls, so a second call with as many guests allocates nothing. */
int capacity_estimate(const struct policy_config *pc,
    const struct snapshot *snap, int64_t vm_kib, struct capacity_result *out);
/* The same, with the last plan decided from this snapshot (NULL: none): a
 * guest the policy found uncooperative (balloon stuck) is not counted at
 * the balloon level. The plan must be of this snapshot (same guests in the
 * same order); otherwise it is ignored. */
int capacity_estimate_plan(const struct policy_config *pc,
    const struct snapshot *snap, const struct policy_plan *plan,
    int64_t vm_kib, struct capacity_result *out);

const char *capacity_level_name(enum capacity_level_id l);

#endif
