/* policy_memtune.c - the memtune values (soft and hard limit, swap,
 * memory.low) that follow a guest's balloon target. */
#include <string.h>

#include "policy_internal.h"

static bool
differs(int64_t have, int64_t want, int64_t slack)
{
	if (!MT_PRESENT(have) || have == POLICY_LIMIT_UNLIMITED ||
	    want == POLICY_LIMIT_UNLIMITED)
		return have != want;
	return policy_abs64(have - want) >= slack;
}

static void
append_reason(struct guest_plan *gp, const char *more)
{
	size_t n = strlen(gp->reason);

	policy_reasonf(gp->reason + n, sizeof(gp->reason) - n, "%s%s",
	    n > 0 ? "; " : "", more);
}

/* The soft limit for a guest. On cgroup v1 it only orders host reclaim:
 * the target plus QEMU's overhead puts a guest holding more than its
 * target first in line. On v2 libvirt writes it to memory.high, a
 * throttle: below what the guest's cgroup holds the kernel reclaims and
 * stalls the guest at once, while its balloon is still on the way down,
 * and a stuck balloon would be squeezed for good. There it stays an
 * overhead above the larger of the target and the usage (memory.current,
 * or QEMU's RSS when larger), so it follows a shrinking balloon down only
 * as the usage falls. With the usage unknown on v2, MT_ABSENT: no value is
 * known to be safe to lower to. */
static int64_t
soft_limit_kib(const struct guest_snapshot *g, const struct policy_gwork *w)
{
	int64_t usage = g->cg_usage_kib;

	if (g->cgroup_version != 2)
		return w->target_kib + w->overhead_kib;
	if (MT_PRESENT(g->rss_kib) && (!MT_PRESENT(usage) || g->rss_kib > usage))
		usage = g->rss_kib;
	if (!MT_PRESENT(usage))
		return MT_ABSENT;
	return MAX(w->target_kib, usage) + w->overhead_kib;
}

/* libvirt refuses a soft limit above the hard one. On v2 the usage can be
 * above a hard limit sized from the RSS (memory.current counts page cache
 * too): then the soft limit is the hard one, which throttles no sooner. */
static void
clamp_soft_to_hard(const struct policy_config *c,
    const struct guest_snapshot *g, struct guest_plan *gp)
{
	int64_t hard = MT_PRESENT(gp->hard_limit_kib) ? gp->hard_limit_kib :
	    g->hard_limit_kib;

	if (!MT_PRESENT(gp->soft_limit_kib) || !MT_PRESENT(hard) ||
	    hard == POLICY_LIMIT_UNLIMITED || gp->soft_limit_kib <= hard)
		return;
	gp->soft_limit_kib = differs(g->soft_limit_kib, hard,
	    c->min_change_kib) ? hard : MT_ABSENT;
}

bool
policy_memtune_plan(const struct policy_config *c,
    const struct guest_snapshot *g,
    const struct policy_guest_hist *h, const struct policy_gwork *w,
    struct guest_plan *gp)
{
	int64_t hard = MT_ABSENT, floor_rss;
	bool any = false;

	if (c->manage_soft_limit && w->cls != GW_FIXED) {
		int64_t soft = soft_limit_kib(g, w);

		/* v2 without the usage: only a raise is safe */
		if (!MT_PRESENT(soft) && MT_PRESENT(g->soft_limit_kib) &&
		    w->target_kib + w->overhead_kib > g->soft_limit_kib)
			soft = w->target_kib + w->overhead_kib;
		if (!MT_PRESENT(soft))
			append_reason(gp, "soft limit kept: cgroup v2 usage "
			    "unknown");
		else if (differs(g->soft_limit_kib, soft, c->min_change_kib)) {
			gp->soft_limit_kib = soft;
			any = true;
		}
	}

	if (c->hard_limit_mode == HARD_LIMIT_ALWAYS ||
	    (c->hard_limit_mode == HARD_LIMIT_UNCOOPERATIVE &&
	    w->cls == GW_UNCOOP)) {
		hard = (w->cls == GW_UNCOOP ? w->target_kib : w->ceiling_kib) +
		    w->overhead_kib;
		if (!MT_PRESENT(g->rss_kib)) {
			/* a hard_limit under the RSS kills the VM: without
			 * the RSS no safe value is known */
			append_reason(gp, "hard_limit not set: RSS unknown");
			hard = MT_ABSENT;
		} else {
			floor_rss = g->rss_kib + w->overhead_kib;
			hard = MAX(hard, floor_rss);
		}
	} else if (policy_hard_limit_own(c, g, h)) {
		hard = POLICY_LIMIT_UNLIMITED;
	}
	if (MT_PRESENT(hard) && differs(g->hard_limit_kib, hard,
	    c->min_change_kib)) {
		gp->hard_limit_kib = hard;
		any = true;
		if (MT_PRESENT(c->swap_limit_kib))
			gp->swap_hard_limit_kib =
			    hard == POLICY_LIMIT_UNLIMITED ? hard :
			    hard + c->swap_limit_kib;
	}
	clamp_soft_to_hard(c, g, gp);
	any = MT_PRESENT(gp->soft_limit_kib) || MT_PRESENT(gp->hard_limit_kib);

	if (c->manage_memory_low && g->cgroup_version == 2) {
		int64_t low = w->floor_kib;

		/* a floor metadata alone gave guards the balloon only: the
		 * kernel's protection is the one the operator's default
		 * floor gives */
		if (gp->meta_cap.low_refused)
			low = policy_scale(g->max_kib, c->floor_default_pmy,
			    10000);
		low += w->overhead_kib;
		if (differs(g->cg_low_kib, low, c->min_change_kib)) {
			gp->memory_low_kib = low;
			any = true;
		}
	}
	return any;
}
