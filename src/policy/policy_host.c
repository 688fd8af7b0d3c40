/* policy_host.c - the host's pressure state: MemAvailable against a reserve
 * sized the way ESXi sizes minFree, raised by PSI stall and fault rates,
 * with hysteresis (a margin and a dwell time) on the way back down so the
 * state does not flap. */
#include <string.h>

#include "policy_internal.h"

int64_t
policy_host_reserve_kib(const struct policy_config *c, int64_t mem_total_kib)
{
	int64_t fixed, rest = 0;

	if (MT_PRESENT(c->reserve_kib))
		return c->reserve_kib;
	if (mem_total_kib <= 0)
		return c->reserve_fixed_kib;
	if (mem_total_kib <= c->reserve_fixed_span_kib) {
		/* a small host keeps the same share, not the same size */
		fixed = c->reserve_fixed_kib * (mem_total_kib / 1024) /
		    (c->reserve_fixed_span_kib / 1024 > 0 ?
		    c->reserve_fixed_span_kib / 1024 : 1);
	} else {
		fixed = c->reserve_fixed_kib;
		rest = policy_scale(mem_total_kib - c->reserve_fixed_span_kib,
		    c->reserve_rest_pmy, 10000);
	}
	/* never less than 64 MiB: below that the kernel itself struggles */
	return MAX(fixed + rest, 64 * 1024);
}

static int64_t
target_avail_kib(const struct policy_config *c, int64_t reserve)
{
	return reserve / 10000 * c->target_pmy +
	    reserve % 10000 * c->target_pmy / 10000;
}

int64_t
policy_reserve_max_kib(const struct policy_config *c, int64_t mem_total_kib)
{
	int64_t reserve = policy_host_reserve_kib(c, mem_total_kib);

	/* freeing more would leave MemAvailable above MemTotal */
	return MAX(0, mem_total_kib - target_avail_kib(c, reserve));
}

int64_t
policy_interval_ms(const struct policy_config *c, enum host_pressure p)
{
	switch (p) {
	case PRESSURE_PLENTY:
		return c->interval_plenty_ms;
	case PRESSURE_NORMAL:
		return c->interval_normal_ms;
	case PRESSURE_TIGHT:
		return c->interval_tight_ms;
	case PRESSURE_CRITICAL:
		return c->interval_critical_ms;
	}
	return c->interval_normal_ms;
}

/* State from MemAvailable alone. `up` asks for the thresholds a state must
 * clear to be entered from a worse one: leaving tight needs the reclaim
 * target (already a band above the tight line), the other steps their own
 * threshold plus the margin. */
static enum host_pressure
classify_avail(const struct policy_config *c, int64_t ratio_pmy, bool up)
{
	int64_t h = up ? c->hysteresis_pmy : 0;
	int64_t normal_at = up ? MAX(c->tight_pmy + h, c->target_pmy) :
	    c->tight_pmy;

	if (ratio_pmy >= c->plenty_pmy + h)
		return PRESSURE_PLENTY;
	if (ratio_pmy >= normal_at)
		return PRESSURE_NORMAL;
	if (ratio_pmy >= c->critical_pmy + h)
		return PRESSURE_TIGHT;
	return PRESSURE_CRITICAL;
}

/* Stall and fault signals raise the state. They count only while memory
 * is not plentiful: with MemAvailable far above the reserve, stalls come
 * from a cgroup's own limit, not from the host running short. *code says
 * which signal set the state, or that MemAvailable alone did. */
static enum host_pressure
apply_signals(const struct policy_config *c, const struct host_snapshot *h,
    enum host_pressure p, char *why, size_t whylen, enum host_why *code)
{
	const struct host_psi *psi = &h->psi;

	*code = HW_WHY_MEM_AVAILABLE;

	if (p == PRESSURE_PLENTY)
		return p;
	if (psi->present && MT_PRESENT(psi->full.avg10_pmy) &&
	    psi->full.avg10_pmy >= c->psi_full_critical_pmy) {
		*code = HW_WHY_PSI_FULL;
		policy_reasonf(why, whylen, "; PSI full avg10 %lld.%02lld%% >= "
		    "%lld.%02lld%%", (long long)psi->full.avg10_pmy / 100,
		    (long long)psi->full.avg10_pmy % 100,
		    (long long)c->psi_full_critical_pmy / 100,
		    (long long)c->psi_full_critical_pmy % 100);
		return PRESSURE_CRITICAL;
	}
	if (p == PRESSURE_CRITICAL || p == PRESSURE_TIGHT)
		return p;
	if (psi->present && MT_PRESENT(psi->some.avg10_pmy) &&
	    psi->some.avg10_pmy >= c->psi_some_tight_pmy) {
		*code = HW_WHY_PSI_SOME;
		policy_reasonf(why, whylen, "; PSI some avg10 %lld.%02lld%% >= "
		    "%lld.%02lld%%", (long long)psi->some.avg10_pmy / 100,
		    (long long)psi->some.avg10_pmy % 100,
		    (long long)c->psi_some_tight_pmy / 100,
		    (long long)c->psi_some_tight_pmy % 100);
		return PRESSURE_TIGHT;
	}
	if (MT_PRESENT(h->vm.refault_per_s) &&
	    h->vm.refault_per_s >= c->refault_tight_per_s) {
		*code = HW_WHY_REFAULTS;
		policy_reasonf(why, whylen, "; refaults %lld/s >= %lld/s",
		    (long long)h->vm.refault_per_s,
		    (long long)c->refault_tight_per_s);
		return PRESSURE_TIGHT;
	}
	if (MT_PRESENT(h->vm.pgmajfault_per_s) &&
	    h->vm.pgmajfault_per_s >= c->majfault_tight_per_s) {
		*code = HW_WHY_MAJOR_FAULTS;
		policy_reasonf(why, whylen, "; major faults %lld/s >= %lld/s",
		    (long long)h->vm.pgmajfault_per_s,
		    (long long)c->majfault_tight_per_s);
		return PRESSURE_TIGHT;
	}
	return p;
}

void
policy_host_pressure(const struct policy_config *c,
    const struct host_snapshot *h, struct policy_state *s, int64_t now_ms,
    struct policy_plan *plan)
{
	int64_t reserve = policy_host_reserve_kib(c, h->mem.mem_total_kib);
	int64_t avail = h->mem.mem_avail_kib;
	int64_t ratio = avail / 100 * 10000 / (reserve / 100 > 0 ?
	    reserve / 100 : 1);
	enum host_pressure raw, up, next;
	enum host_why code_raw, code_up;
	char why[64] = "", whyup[64] = "", held[48] = "";

	plan->reserve_kib = reserve;
	plan->target_avail_kib = target_avail_kib(c, reserve);
	raw = apply_signals(c, h, classify_avail(c, ratio, false), why,
	    sizeof(why), &code_raw);
	up = apply_signals(c, h, classify_avail(c, ratio, true), whyup,
	    sizeof(whyup), &code_up);

	if (!s->started || raw > s->pressure) {
		/* worse: at once */
		next = raw;
		s->better_since_ms = MT_ABSENT;
	} else if (up < s->pressure) {
		/* better with margin: only after the dwell time */
		if (!MT_PRESENT(s->better_since_ms) || up != s->better_cand) {
			if (!MT_PRESENT(s->better_since_ms))
				s->better_since_ms = now_ms;
			s->better_cand = up;
		}
		if (now_ms - s->better_since_ms >= c->state_dwell_ms) {
			next = up;
			s->better_since_ms = MT_ABSENT;
		} else {
			next = s->pressure;
			policy_reasonf(held, sizeof(held), "; held: %s for %llds of "
			    "%llds", policy_pressure_name(up),
			    (long long)(now_ms - s->better_since_ms) / 1000,
			    (long long)c->state_dwell_ms / 1000);
		}
	} else {
		next = s->pressure;
		s->better_since_ms = MT_ABSENT;
	}
	s->pressure = next;
	plan->pressure = next;
	policy_host_why(plan, held[0] != '\0' ? HW_WHY_HELD :
	    next == raw ? code_raw : code_up,
	    "MemAvailable %lld MiB is %lld%% of the %lld MiB reserve%s%s",
	    (long long)avail / 1024, (long long)ratio / 100,
	    (long long)reserve / 1024, next == raw ? why : whyup, held);
}

/* A node has no MemAvailable of its own. Its free memory alone would call
 * a node full of clean page cache tight, so it gets its share, by size,
 * of what the host as a whole can reclaim. */
void
policy_node_pressure(const struct policy_config *c,
    const struct host_snapshot *h, struct policy_plan *plan)
{
	const struct host_numa *hn = &h->numa;
	int64_t total = h->mem.mem_total_kib, reclaimable = 0;

	plan->nr_nodes = 0;
	if (hn->nr_nodes <= 1)
		return;
	plan->nr_nodes = MIN(hn->nr_nodes, MT_MAX_NODES);
	if (MT_PRESENT(h->mem.mem_free_kib))
		reclaimable = MAX(0, h->mem.mem_avail_kib - h->mem.mem_free_kib);
	for (int i = 0; i < plan->nr_nodes; i++) {
		struct node_plan *np = &plan->nodes[i];

		memset(np, 0, sizeof(*np));
		np->total_kib = hn->node_total_kib[i];
		np->free_kib = hn->node_free_kib[i];
		np->pressure = PRESSURE_NORMAL;
		if (!MT_PRESENT(np->total_kib) || np->total_kib <= 0 ||
		    !MT_PRESENT(np->free_kib)) {
			np->total_kib = MT_ABSENT;
			np->avail_kib = np->reserve_kib = MT_ABSENT;
			np->target_avail_kib = np->ratio_pmy = MT_ABSENT;
			continue;
		}
		np->avail_kib = MIN(np->total_kib, np->free_kib +
		    policy_scale(reclaimable, np->total_kib, total));
		np->reserve_kib = MAX(1, policy_scale(plan->reserve_kib,
		    np->total_kib, total));
		np->target_avail_kib = policy_scale(np->reserve_kib,
		    c->target_pmy, 10000);
		np->ratio_pmy = policy_scale(np->avail_kib, 10000,
		    np->reserve_kib);
		np->pressure = classify_avail(c, np->ratio_pmy, false);
	}
}

int
policy_home_node(const struct policy_plan *plan, uint64_t mask)
{
	uint64_t present = 0;
	int best = -1;

	for (int i = 0; i < plan->nr_nodes; i++) {
		const struct node_plan *np = &plan->nodes[i];

		if (!MT_PRESENT(np->total_kib))
			continue;
		present |= UINT64_C(1) << i;
		if ((mask & (UINT64_C(1) << i)) == 0)
			continue;
		/* the kernel takes a bound guest's pages from any node of
		 * the set that has them: the best node is what it has */
		if (best < 0 || np->ratio_pmy > plan->nodes[best].ratio_pmy)
			best = i;
	}
	if (best < 0 || (mask & present) == present)
		return -1;
	return best;
}
