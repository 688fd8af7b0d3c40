/* capacity_est.c - the capacity estimate: pure, as the policy is; see
 * capacity_est.h and docs/capacity.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capacity_est.h"
#include "policy_internal.h"

const char *
capacity_level_name(enum capacity_level_id l)
{
	switch (l) {
	case CAP_NO_OVERCOMMIT:
		return "no-overcommit";
	case CAP_BALLOON:
		return "balloon";
	case CAP_KSM:
		return "ksm";
	case CAP_LEVELS:
		break;
	}
	return "?";
}

void
capacity_result_init(struct capacity_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
capacity_result_free(struct capacity_result *r)
{
	free(r->guests);
	r->guests = NULL;
	r->nr_guests = r->cap_guests = 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t
capacity_default_vm_kib(const struct snapshot *snap)
{
	int64_t *v, med;
	size_t n = 0, i;

	if (snap->nr_guests == 0)
		return CAPACITY_DEFAULT_VM_KIB;
	if ((v = calloc(snap->nr_guests, sizeof(*v))) == NULL)
		return CAPACITY_DEFAULT_VM_KIB;
	for (i = 0; i < snap->nr_guests; i++)
		if (MT_PRESENT(snap->guests[i].max_kib) &&
		    snap->guests[i].max_kib > 0)
			v[n++] = snap->guests[i].max_kib;
	if (n == 0) {
		free(v);
		return CAPACITY_DEFAULT_VM_KIB;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	/* the lower middle for an even count: a size some guest really has */
	med = v[(n - 1) / 2];
	free(v);
	return med;
}

/* KSM's saving in KiB and the counter it came from, or MT_ABSENT. */
static int64_t
ksm_saved_kib(const struct host_ksm *k, const char **source)
{
	*source = !k->present ? "" : MT_PRESENT(k->general_profit) ?
	    "general_profit" : MT_PRESENT(k->pages_sharing) ?
	    "pages_sharing" : "";
	return host_ksm_saved_kib(k);
}

/* The balloon level for one guest: counted, or why not. */
static void
guest_reclaim(const struct policy_config *pc, const struct guest_snapshot *g,
    const struct guest_plan *gp, struct capacity_guest *cg)
{
	char err[POLICY_REASON_MAX];
	struct guest_input in;
	struct policy_metadata_cap cap;
	int64_t ceiling, low, ram;
	bool exact;

	cg->reclaim_counted = false;
	cg->balloon_kib = cg->reclaim_now_kib = 0;
	policy_guest_input(pc, g, &in, &cap);
	if (in.exclude) {
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "excluded (%s): memtuned leaves it alone",
		    guest_input_source_name(in.exclude_src));
		return;
	}
	if (g->backing.hugepages) {
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "hugepages backing: fixed, not reclaimable");
		return;
	}
	if (!g->backing.has_balloon) {
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "no balloon device: fixed, not reclaimable");
		return;
	}
	if (g->backing.locked) {
		/* QEMU discards a ballooned page with madvise(DONTNEED),
		 * which the kernel refuses on locked memory: the guest
		 * gives it up but the host does not get it back */
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "locked memory: a balloon frees nothing on the host");
		return;
	}
	if (!MT_PRESENT(g->max_kib) || g->max_kib <= 0 ||
	    !MT_PRESENT(g->actual_kib) || g->actual_kib <= 0) {
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "size unknown: max memory or balloon size not reported");
		return;
	}
	if (policy_guest_bounds(pc, g, false, &cg->floor_kib, &ceiling, err,
	    sizeof(err)) < 0) {
		cg->floor_kib = MT_ABSENT;
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "bounds not usable: %s", err);
		return;
	}
	if (gp != NULL && gp->state == GPS_UNCOOPERATIVE) {
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "balloon uncooperative: it did not move when asked");
		return;
	}
	if (g->stats != GUEST_STATS_OK || !MT_PRESENT(g->usable_kib)) {
		mt_setmsg(cg->reclaim_reason, sizeof(cg->reclaim_reason),
		    "%s: idle memory not measured",
		    g->stats == GUEST_STATS_STALE ? "balloon stats stale" :
		    g->stats == GUEST_STATS_NONE ? "no balloon stats" :
		    "balloon stats incomplete");
		return;
	}
	/* the policy's own need, with the headroom it gave the guest this
	 * tick (adaptive: less for a guest whose use holds still) */
	cg->need_kib = policy_guest_need_kib(pc, g,
	    gp != NULL ? gp->headroom_kib : MT_ABSENT);
	low = MIN(MAX(cg->floor_kib, cg->need_kib), g->max_kib);
	cg->reclaim_counted = true;
	cg->reclaim_reason[0] = '\0';
	cg->balloon_kib = g->max_kib - low;
	cg->reclaim_now_kib = MAX(0, g->actual_kib - low);
	/* free page reporting gave the host its free memory already: of its
	 * idle memory only the RAM still resident (the RSS less QEMU's part,
	 * measured or configured, as the policy's gain) is still in it, the
	 * rest is in MemAvailable */
	ram = policy_guest_ram_kib(g, &exact);
	if (g->backing.free_page_reporting && MT_PRESENT(ram))
		cg->reclaim_now_kib = MAX(0, MIN(g->actual_kib,
		    ram - (exact ? 0 : cg->overhead_kib)) - low);
}

/* The KSM level for one guest: whether its memory can be merged. */
static void
guest_ksm(const struct guest_snapshot *g, struct capacity_guest *cg)
{
	cg->ksm_counted = false;
	cg->ksm_share_kib = 0;
	if (g->backing.nosharepages)
		mt_setmsg(cg->ksm_reason, sizeof(cg->ksm_reason),
		    "nosharepages: KSM may not merge its memory");
	else if (g->backing.hugepages)
		mt_setmsg(cg->ksm_reason, sizeof(cg->ksm_reason),
		    "hugepages backing: KSM does not merge huge pages");
	else if (!MT_PRESENT(g->rss_kib) || g->rss_kib <= 0)
		mt_setmsg(cg->ksm_reason, sizeof(cg->ksm_reason),
		    "RSS unknown: no share of the KSM saving estimated");
	else {
		cg->ksm_counted = true;
		cg->ksm_reason[0] = '\0';
	}
}

static int64_t
fits_of(int64_t headroom_kib, int64_t cost_kib)
{
	return headroom_kib > 0 && cost_kib > 0 ? headroom_kib / cost_kib : 0;
}

static void
numa_estimate(const struct host_numa *hn, struct capacity_result *r)
{
	int64_t sum = 0;
	int i, full = -1, roomy = -1;

	r->nr_nodes = 0;
	r->numa_unbalanced = false;
	r->numa_full_node = r->numa_roomy_node = -1;
	if (hn->nr_nodes <= 1)
		return;
	r->nr_nodes = MIN(hn->nr_nodes, MT_MAX_NODES);
	for (i = 0; i < r->nr_nodes; i++)
		if (MT_PRESENT(hn->node_total_kib[i]) && hn->node_total_kib[i] > 0)
			sum += hn->node_total_kib[i];
	for (i = 0; i < r->nr_nodes; i++) {
		struct capacity_node *n = &r->nodes[i];

		n->node = i;
		n->total_kib = hn->node_total_kib[i];
		n->free_kib = hn->node_free_kib[i];
		/* the reserve is held host-wide; each node carries its part
		 * in proportion to its size */
		n->reserve_kib = MT_PRESENT(n->total_kib) && n->total_kib > 0 &&
		    sum > 0 ? policy_scale(r->reserve_kib, n->total_kib, sum) : 0;
		if (!MT_PRESENT(n->free_kib)) {
			n->headroom_kib = MT_ABSENT;
			n->fits = 0;
			continue;
		}
		n->headroom_kib = n->free_kib - n->reserve_kib;
		n->fits = fits_of(n->headroom_kib, r->vm_cost_kib);
		if (n->fits == 0 && (full < 0 ||
		    n->headroom_kib < r->nodes[full].headroom_kib))
			full = i;
		if (n->fits > 0 && (roomy < 0 ||
		    n->headroom_kib > r->nodes[roomy].headroom_kib))
			roomy = i;
	}
	if (full >= 0 && roomy >= 0) {
		r->numa_unbalanced = true;
		r->numa_full_node = full;
		r->numa_roomy_node = roomy;
	}
}

/* Room in r for n guests, all fields zero. 0 or -ENOMEM. */
static int
result_size(struct capacity_result *r, size_t n)
{
	if (n > r->cap_guests) {
		struct capacity_guest *ng = realloc(r->guests, n * sizeof(*ng));

		if (ng == NULL)
			return -ENOMEM;
		r->guests = ng;
		r->cap_guests = n;
	}
	if (n > 0)
		memset(r->guests, 0, n * sizeof(*r->guests));
	r->nr_guests = n;
	return 0;
}

/* The host's figures: the new guest's cost, MemTotal and MemAvailable,
 * the reserve and the hugepage pool. */
static void
host_figures(const struct policy_config *pc, const struct host_snapshot *h,
    int64_t vm_kib, struct capacity_result *r)
{
	const struct host_meminfo *m = &h->mem;

	r->vm_kib = vm_kib;
	r->vm_overhead_kib = policy_qemu_overhead_kib(pc, vm_kib);
	r->vm_cost_kib = vm_kib + r->vm_overhead_kib;
	r->as_of_ms = h->time_ms;
	r->mem_total_kib = m->mem_total_kib;
	r->mem_avail_kib = m->mem_avail_kib;
	r->reserve_kib = policy_host_reserve_kib(pc, m->mem_total_kib);
	r->hugepage_pool_kib = r->hugepage_free_kib = 0;
	if (MT_PRESENT(m->hugepage_size_kib) && m->hugepage_size_kib > 0) {
		if (MT_PRESENT(m->hugepages_total))
			r->hugepage_pool_kib = m->hugepages_total *
			    m->hugepage_size_kib;
		if (MT_PRESENT(m->hugepages_free))
			r->hugepage_free_kib = m->hugepages_free *
			    m->hugepage_size_kib;
	}
	r->free_now_kib = MT_PRESENT(m->mem_avail_kib) ?
	    m->mem_avail_kib - r->reserve_kib : MT_ABSENT;
	r->guests_committed_kib = r->balloon_kib = r->reclaim_now_kib = 0;
	r->nr_reclaim_counted = r->nr_ksm_counted = 0;
}

/* One guest's figures at the no-overcommit level: its size and what it
 * commits of normal memory. */
static void
guest_committed(const struct policy_config *pc,
    const struct guest_snapshot *g, struct capacity_guest *cg)
{
	int64_t size;

	mt_strlcpy(cg->name, g->name, sizeof(cg->name));
	mt_strlcpy(cg->uuid, g->uuid, sizeof(cg->uuid));
	cg->hugepages = g->backing.hugepages;
	cg->max_kib = g->max_kib;
	cg->actual_kib = g->actual_kib;
	cg->rss_kib = g->rss_kib;
	cg->floor_kib = cg->need_kib = MT_ABSENT;
	cg->overhead_kib = policy_qemu_overhead_kib(pc, g->max_kib);
	/* without max memory, the most it is seen to have */
	size = MT_PRESENT(g->max_kib) && g->max_kib > 0 ? g->max_kib :
	    MT_PRESENT(g->actual_kib) && g->actual_kib > 0 ?
	    g->actual_kib : 0;
	/* a hugepage guest's RAM comes from the pool, which is already out
	 * of normal memory; its QEMU overhead is not */
	cg->committed_kib = cg->overhead_kib +
	    (g->backing.hugepages ? 0 : size);
}

/* KSM: the host-wide saving, shared among the guests it can merge in
 * proportion to their RSS (rss_sum: theirs together; no per-process
 * figure is collected). */
static void
ksm_shares(const struct host_ksm *k, int64_t rss_sum,
    struct capacity_result *r)
{
	int64_t saved = ksm_saved_kib(k, &r->ksm_source);

	r->ksm_present = k->present;
	r->ksm_saved_kib = saved;
	r->ksm_full_scans = k->full_scans;
	r->ksm_counted_kib = 0;
	if (!MT_PRESENT(saved) || saved <= 0 || rss_sum <= 0)
		return;
	for (size_t i = 0; i < r->nr_guests; i++) {
		struct capacity_guest *cg = &r->guests[i];

		if (!cg->ksm_counted)
			continue;
		cg->ksm_share_kib = MIN(policy_scale(saved, cg->rss_kib,
		    rss_sum), cg->rss_kib);
		r->ksm_counted_kib += cg->ksm_share_kib;
	}
}

/* The three levels, each adding to the one before, and the guests of
 * vm_cost that fit at each. */
static void
levels(const struct host_meminfo *m, struct capacity_result *r)
{
	struct capacity_level *lv = r->level;
	int64_t normal_kib = m->mem_total_kib - r->hugepage_pool_kib;

	lv[CAP_NO_OVERCOMMIT].added_kib = 0;
	lv[CAP_NO_OVERCOMMIT].headroom_kib = normal_kib - r->reserve_kib -
	    r->guests_committed_kib;
	lv[CAP_BALLOON].added_kib = r->balloon_kib;
	lv[CAP_BALLOON].headroom_kib = lv[CAP_NO_OVERCOMMIT].headroom_kib +
	    r->balloon_kib;
	lv[CAP_KSM].added_kib = r->ksm_counted_kib;
	lv[CAP_KSM].headroom_kib = lv[CAP_BALLOON].headroom_kib +
	    r->ksm_counted_kib;
	for (int i = 0; i < CAP_LEVELS; i++)
		lv[i].fits = fits_of(lv[i].headroom_kib, r->vm_cost_kib);
}

int
capacity_estimate_plan(const struct policy_config *pc,
    const struct snapshot *snap, const struct policy_plan *plan,
    int64_t vm_kib, struct capacity_result *r)
{
	const struct host_snapshot *h = &snap->host;
	int64_t rss_sum = 0;
	size_t i, n = snap->nr_guests;
	int rc;

	if (vm_kib <= 0 || !MT_PRESENT(h->mem.mem_total_kib) ||
	    h->mem.mem_total_kib <= 0)
		return -EINVAL;
	if ((rc = result_size(r, n)) < 0)
		return rc;
	if (plan != NULL && (plan->nr_guests != n || plan->guests == NULL))
		plan = NULL;
	host_figures(pc, h, vm_kib, r);
	for (i = 0; i < n; i++) {
		const struct guest_snapshot *g = &snap->guests[i];
		const struct guest_plan *gp = plan != NULL &&
		    strcmp(plan->guests[i].uuid, g->uuid) == 0 ?
		    &plan->guests[i] : NULL;
		struct capacity_guest *cg = &r->guests[i];

		guest_committed(pc, g, cg);
		r->guests_committed_kib += cg->committed_kib;
		guest_reclaim(pc, g, gp, cg);
		if (cg->reclaim_counted) {
			r->nr_reclaim_counted++;
			r->balloon_kib += cg->balloon_kib;
			r->reclaim_now_kib += cg->reclaim_now_kib;
		}
		guest_ksm(g, cg);
		if (cg->ksm_counted) {
			r->nr_ksm_counted++;
			rss_sum += g->rss_kib;
		}
	}
	ksm_shares(&h->ksm, rss_sum, r);
	levels(&h->mem, r);
	numa_estimate(&h->numa, r);
	return 0;
}

int
capacity_estimate(const struct policy_config *pc, const struct snapshot *snap,
    int64_t vm_kib, struct capacity_result *out)
{
	return capacity_estimate_plan(pc, snap, NULL, vm_kib, out);
}
