/* policy_fixture.h - snapshot builders for the policy tests: a host and
 * guests with plain numbers in MiB, every other field as a collector
 * would leave it. Header-only so each policy suite stays one file. */
#ifndef MEMTUNED_TEST_POLICY_FIXTURE_H
#define MEMTUNED_TEST_POLICY_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "snapshot.h"

static inline void
fx_host(struct host_snapshot *h, int64_t total_mib, int64_t avail_mib)
{
	host_snapshot_init(h);
	h->time_ms = 0;
	h->mem.mem_total_kib = MIB_KIB(total_mib);
	h->mem.mem_avail_kib = MIB_KIB(avail_mib);
	h->mem.mem_free_kib = MIB_KIB(avail_mib);
	h->psi.present = true;
	h->psi.some.avg10_pmy = 0;
	h->psi.full.avg10_pmy = 0;
	h->vm.refault_per_s = 0;
	h->vm.pgmajfault_per_s = 0;
}

/* A running guest with fresh stats: max, balloon actual and guest
 * MemAvailable in MiB; RSS is what it uses plus 200 MiB of QEMU. */
static inline void
fx_guest(struct guest_snapshot *g, int idx, int64_t max_mib,
    int64_t actual_mib, int64_t usable_mib)
{
	guest_snapshot_init(g);
	snprintf(g->name, sizeof(g->name), "vm%d", idx);
	snprintf(g->uuid, sizeof(g->uuid),
	    "00000000-0000-4000-8000-%012d", idx);
	g->id = idx + 1;
	g->state = 1;
	g->max_kib = MIB_KIB(max_mib);
	g->actual_kib = MIB_KIB(actual_mib);
	g->balloon_max_kib = MIB_KIB(max_mib);
	g->available_kib = MIB_KIB(actual_mib);
	g->usable_kib = MIB_KIB(usable_mib);
	g->unused_kib = MIB_KIB(usable_mib);
	g->disk_caches_kib = 0;
	g->major_fault_per_s = 0;
	g->swap_in_kib_per_s = 0;
	g->rss_kib = MIB_KIB(actual_mib - usable_mib + 200);
	g->stats = GUEST_STATS_OK;
	g->cgroup_version = 1;
	g->backing.has_balloon = true;
	g->input.shares = MT_ABSENT;
}

/* The same guest having touched all of its RAM (Windows zeroes it at
 * boot; a long-running guest fills it with cache): RSS is the balloon
 * size plus 200 MiB of QEMU, so every KiB a balloon takes is freed on
 * the host. */
static inline void
fx_guest_touched(struct guest_snapshot *g, int idx, int64_t max_mib,
    int64_t actual_mib, int64_t usable_mib)
{
	fx_guest(g, idx, max_mib, actual_mib, usable_mib);
	g->rss_kib = MIB_KIB(actual_mib + 200);
}

/* The guests' changes of the plan carried out in full, as an actuator
 * that cannot fail would: the policy remembers every one of them. The
 * KSM and THP knobs are not: these snapshots do not follow them, and a
 * knob noted as written but read back unchanged means another manager
 * (tests of that call policy_note_applied themselves). 0 or -ENOMEM. */
static inline int
fx_commit_guests(struct policy_state *s, const struct policy_plan *p,
    int64_t now_ms)
{
	struct policy_results r;
	int rc;

	if ((rc = policy_results_init(&r, 0)) < 0 ||
	    (rc = policy_results_all_applied(&r, p)) < 0)
		return rc;
	r.ksm_applied = r.thp_applied = false;
	policy_commit(s, p, &r, now_ms);
	policy_results_free(&r);
	return 0;
}

/* One NUMA node of the host, in MiB; nr_nodes follows the highest id. */
static inline void
fx_node(struct host_snapshot *h, int node, int64_t total_mib,
    int64_t free_mib)
{
	h->numa.node_total_kib[node] = MIB_KIB(total_mib);
	h->numa.node_free_kib[node] = MIB_KIB(free_mib);
	if (h->numa.nr_nodes < node + 1)
		h->numa.nr_nodes = node + 1;
}

/* A guest whose <numatune> confines its memory to `nodes` (bit n: node n). */
static inline void
fx_confine(struct guest_snapshot *g, uint64_t nodes)
{
	g->backing.numa_nodes = nodes;
	g->backing.numa_confined = true;
}

/* The defaults with a fixed 1 GiB reserve, so thresholds read easily:
 * plenty >= 4 GiB, normal >= 1 GiB (1.6 GiB from below), tight >= 512 MiB. */
static inline void
fx_config(struct policy_config *c)
{
	policy_config_defaults(c);
	c->reserve_kib = MIB_KIB(1024);
}

/* Check a reason by its code, never its English text (the text is for
 * people and may be reworded); on failure both keys and the text show.
 * Used where check.h is included. */
#define ck_guest_why(gp, want) ck_assert_msg((gp)->reason_code == (want), \
	"reason_code %s, want %s: %s", \
	policy_guest_why_name((gp)->reason_code), \
	policy_guest_why_name(want), (gp)->reason)
#define ck_host_why(plan, want) \
	ck_assert_msg((plan)->pressure_reason_code == (want), \
	"pressure_reason_code %s, want %s: %s", \
	policy_host_why_name((plan)->pressure_reason_code), \
	policy_host_why_name(want), (plan)->pressure_reason)
#define ck_ksm_why(plan, want) \
	ck_assert_msg((plan)->ksm.reason_code == (want), \
	"ksm reason_code %s, want %s: %s", \
	policy_ksm_why_name((plan)->ksm.reason_code), \
	policy_ksm_why_name(want), (plan)->ksm.reason)
#define ck_thp_why(plan, want) \
	ck_assert_msg((plan)->thp.reason_code == (want), \
	"thp reason_code %s, want %s: %s", \
	policy_thp_why_name((plan)->thp.reason_code), \
	policy_thp_why_name(want), (plan)->thp.reason)

#endif
