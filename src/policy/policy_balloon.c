/* policy_balloon.c - guest bounds, what each guest needs and can spare,
 * and the balloon targets: reclaim for the host from the most idle guests
 * per share, memory for guests under their own pressure (funded by idle
 * guests even while the host is tight), growth back toward the ceiling
 * when the host has plenty. Steps, minimum change and cooldowns keep it
 * calm; bounds are never crossed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"


/* value * pmy / 10000 without overflow for any KiB size */
static int64_t
pmy_of(int64_t value, int64_t pmy)
{
	return policy_scale(value, pmy, 10000);
}

int64_t
policy_qemu_overhead_kib(const struct policy_config *c, int64_t max_kib)
{
	return c->qemu_overhead_kib + (MT_PRESENT(max_kib) && max_kib > 0 ?
	    pmy_of(max_kib, c->qemu_overhead_pmy) : 0);
}

int
policy_guest_bounds(const struct policy_config *c,
    const struct guest_snapshot *g, bool own_hard_limit, int64_t *floor_kib,
    int64_t *ceiling_kib, char *err, size_t errlen)
{
	struct guest_input in;
	struct policy_metadata_cap cap;
	int64_t fl, ce;

	if (!MT_PRESENT(g->max_kib) || g->max_kib <= 0) {
		policy_reasonf(err, errlen, "max memory unknown");
		return -EINVAL;
	}
	policy_guest_input(c, g, &in, &cap);
	ce = g->max_kib;
	if (MT_PRESENT(in.ceiling_kib))
		ce = MIN(ce, in.ceiling_kib);
	if (!own_hard_limit && MT_PRESENT(g->hard_limit_kib) &&
	    g->hard_limit_kib != POLICY_LIMIT_UNLIMITED)
		ce = MIN(ce, g->hard_limit_kib -
		    policy_qemu_overhead_kib(c, g->max_kib));
	fl = MT_PRESENT(in.floor_kib) ? in.floor_kib :
	    pmy_of(g->max_kib, c->floor_default_pmy);
	if (fl > ce) {
		policy_reasonf(err, errlen, "floor %lld MiB (%s) above ceiling "
		    "%lld MiB: left alone", MIB(fl),
		    guest_input_source_name(in.floor_src), MIB(ce));
		return -EINVAL;
	}
	if (fl <= 0) {
		policy_reasonf(err, errlen, "floor %lld KiB is not above 0",
		    (long long)fl);
		return -EINVAL;
	}
	*floor_kib = fl;
	*ceiling_kib = ce;
	return 0;
}

/* ------------------------------------------------------------ water-fill */

static int64_t
level_part(int64_t level, int64_t shares)
{
	int64_t prod;

	/* past int64 the level is beyond any guest's memory anyway */
	if (__builtin_mul_overflow(level, shares, &prod))
		return INT64_MAX;
	return prod / 1000;
}

static int64_t
take_at(const struct policy_fill *f, int64_t level, bool capped)
{
	int64_t t = f->idle_kib - level_part(level, f->shares);

	return t <= 0 ? 0 : MIN(t, capped ? f->cap_kib : f->limit_kib);
}

int64_t
policy_shrink_frees(const struct policy_gwork *g, int64_t from, int64_t to)
{
	return to >= from ? 0 : MIN(from - to, g->gain_kib);
}

/* What the balloon on its way from the actual size down to `to` will
 * return: the resident idle memory it passes, nothing from a guest whose
 * shrinks return nothing. Without the guest's use (stale stats), the
 * part of the range under the RSS; without the RSS, all of it. */
static int64_t
frees_on_the_way(const struct policy_gwork *w, int64_t actual, int64_t to)
{
	if (to >= actual || w->returns_nothing)
		return 0;
	if (MT_PRESENT(w->res_idle_kib))
		return MIN(actual - to, w->res_idle_kib);
	if (MT_PRESENT(w->resident_kib))
		return MAX(0, MIN(actual, w->resident_kib) - to);
	return actual - to;
}

void
policy_guest_gain(struct policy_gwork *w, int64_t actual_kib)
{
	if (w->returns_nothing)
		w->gain_kib = 0;
	else if (MT_PRESENT(w->res_idle_kib))
		w->gain_kib = MAX(0, w->res_idle_kib -
		    frees_on_the_way(w, actual_kib, w->cur_kib));
	else if (MT_PRESENT(w->resident_kib))
		w->gain_kib = MIN(w->cur_kib, w->resident_kib);
	else
		w->gain_kib = w->cur_kib;
}

/* A guest with free page reporting hands the host the pages it frees:
 * its QEMU RSS is about what it holds plus QEMU's own memory, and a
 * balloon takes first the free pages that are not resident anyway. What
 * a shrink returns is the guest RAM resident above where it stops, at the
 * lowest the larger of its floor and its need: expected from the start,
 * not learnt from a shrink that returned nothing. QEMU's part is taken off
 * as measured, else at its configured size, generous on purpose: here an
 * estimate too low only spares the guest a squeeze. */
void
policy_fpr_gain(struct policy_gwork *w, int64_t actual_kib)
{
	int64_t ram;

	if (!MT_PRESENT(w->resident_kib) || !MT_PRESENT(w->need_kib))
		return;
	ram = MIN(MAX(0, w->resident_kib - (w->res_exact ? 0 :
	    w->overhead_kib)), actual_kib);
	w->res_idle_kib = MAX(0, ram - MAX(w->floor_kib, w->need_kib));
	policy_guest_gain(w, actual_kib);
}

static int64_t
guest_inflight(const struct guest_snapshot *g, const struct policy_gwork *w)
{
	if (w->cls != GW_OK && w->cls != GW_STALE)
		return 0;
	/* growth still to come is counted whole: the guest asked for it
	 * because it will use it */
	return g->actual_kib > w->cur_kib ?
	    frees_on_the_way(w, g->actual_kib, w->cur_kib) :
	    g->actual_kib - w->cur_kib;
}

int64_t
policy_inflight_kib(const struct snapshot *snap, const struct policy_state *s)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < snap->nr_guests; i++)
		sum += guest_inflight(&snap->guests[i], &s->work[i]);
	return sum;
}

int64_t
policy_fill_take(struct policy_state *s, size_t n, int64_t want_kib,
    bool spill)
{
	struct policy_gwork *w = s->work;
	struct policy_fill *f = s->fill;
	int64_t lo = 0, hi = 0, sum, left;
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		w[i].take_kib = 0;
	if (want_kib <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!w[i].donor || w[i].cap_kib <= 0)
			continue;
		f[m].idle_kib = w[i].idle_kib;
		f[m].shares = w[i].shares;
		f[m].cap_kib = w[i].cap_kib;
		f[m].limit_kib = MAX(w[i].cap_kib, w[i].limit_kib);
		f[m].idx = i;
		hi = MAX(hi, policy_scale(f[m].idle_kib, 1000, f[m].shares) + 1);
		m++;
	}
	/* smallest level whose freed memory fits in want: the most idle
	 * per share give first, down to one common level */
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		sum = 0;
		for (i = 0; i < m && sum <= want_kib; i++)
			sum += take_at(&f[i], mid, spill);
		if (sum <= want_kib)
			hi = mid;
		else
			lo = mid + 1;
	}
	sum = 0;
	for (i = 0; i < m; i++) {
		/* the level is found as if no step applied; the step then
		 * bounds this tick's part of it */
		f[i].got_kib = MIN(take_at(&f[i], lo, spill), f[i].cap_kib);
		sum += f[i].got_kib;
	}
	/* the level is an integer: hand out the rounding rest */
	left = want_kib - sum;
	for (i = 0; i < m && left > 0; i++) {
		int64_t extra = MIN(f[i].cap_kib - f[i].got_kib,
		    MAX(0, f[i].idle_kib - f[i].got_kib));
		int64_t add;

		/* without spill, only the rounding of the level: no more than
		 * this donor's take one level further down */
		if (!spill && lo > 0)
			extra = MIN(extra, MAX(0, MIN(take_at(&f[i], lo - 1,
			    false), f[i].cap_kib) - f[i].got_kib));
		add = MIN(left, MAX(0, extra));
		if (add > 0) {
			f[i].got_kib += add;
			left -= add;
			sum += add;
		}
	}
	for (i = 0; i < m; i++)
		w[f[i].idx].take_kib = f[i].got_kib;
	return sum;
}

static int64_t
give_at(const struct policy_fill *f, int64_t level)
{
	return MIN(f->cap_kib, level_part(level, f->shares));
}

int64_t
policy_fill_give(struct policy_state *s, size_t n, int64_t budget_kib,
    bool urgent_only)
{
	struct policy_gwork *w = s->work;
	struct policy_fill *f = s->fill;
	int64_t lo = 0, hi = 0, sum, left;
	size_t i, m = 0;

	if (budget_kib <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (w[i].donor || w[i].cap_kib <= 0 ||
		    (urgent_only && !w[i].urgent))
			continue;
		f[m].shares = w[i].shares;
		f[m].cap_kib = w[i].cap_kib;
		f[m].idx = i;
		hi = MAX(hi, policy_scale(f[m].cap_kib, 1000, f[m].shares) + 1);
		m++;
	}
	/* largest level whose grants fit in the budget: each gets the same
	 * amount per share, up to what it asked for */
	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2;

		sum = 0;
		for (i = 0; i < m && sum <= budget_kib; i++)
			sum += give_at(&f[i], mid);
		if (sum <= budget_kib)
			lo = mid;
		else
			hi = mid - 1;
	}
	sum = 0;
	for (i = 0; i < m; i++) {
		f[i].got_kib = give_at(&f[i], lo);
		sum += f[i].got_kib;
	}
	left = budget_kib - sum;
	for (i = 0; i < m && left > 0; i++) {
		int64_t more = MIN(left, f[i].cap_kib - f[i].got_kib);

		if (more > 0) {
			f[i].got_kib += more;
			left -= more;
			sum += more;
		}
	}
	for (i = 0; i < m; i++)
		w[f[i].idx].give_kib = f[i].got_kib;
	return sum;
}

/* The pressured guests' grants, the nearly-out ones first: they share
 * the budget by their shares up to what they asked, and what is left goes
 * to all the pressured guests the same way. */
static int64_t
give_urgent_first(struct policy_state *s, size_t n, int64_t budget_kib)
{
	struct policy_gwork *w = s->work;
	int64_t first, rest;
	size_t i;

	first = policy_fill_give(s, n, budget_kib, true);
	if (first == 0)
		return policy_fill_give(s, n, budget_kib, false);
	/* what the urgent got stays theirs; the second pass sees only what
	 * they still ask for */
	for (i = 0; i < n; i++) {
		w[i].first_kib = w[i].urgent ? w[i].give_kib : 0;
		w[i].cap_kib -= w[i].first_kib;
		w[i].give_kib -= w[i].first_kib;
	}
	rest = policy_fill_give(s, n, budget_kib - first, false);
	for (i = 0; i < n; i++) {
		w[i].give_kib += w[i].first_kib;
		w[i].cap_kib += w[i].first_kib;
	}
	return first + rest;
}

/* --------------------------------------------------------------- targets */

static bool
in_cooldown(const struct policy_config *c, const struct policy_guest_hist *h,
    int64_t now_ms, int dir, bool calm)
{
	/* counted from memtuned's own last change, which an outside move
	 * of the balloon does not erase */
	if (h->last_dir == 0)
		return false;
	if (h->last_dir != dir &&
	    now_ms - h->last_change_ms < c->reverse_cooldown_ms)
		return true;
	return calm && now_ms - h->last_change_ms < c->cooldown_ms;
}

static int64_t
clamp_bounds(const struct policy_gwork *g, int64_t v)
{
	return MAX(g->floor_kib, MIN(g->ceiling_kib, v));
}

/* Why a guest with fresh stats has the target it has: what it gives or
 * gets, or why it holds. */
static void
target_reason(const struct policy_config *c, const struct guest_snapshot *gs,
    const struct policy_gwork *g, struct guest_plan *gp, enum host_pressure p)
{
	if (g->take_kib > 0)
		policy_guest_why(gp, GW_WHY_HOST_TAKES, "gives %lld MiB for "
		    "the host (%s): idle %lld MiB, needs %lld MiB",
		    MIB(g->take_kib), policy_pressure_name(p),
		    MIB(g->idle_kib), MIB(g->need_kib));
	else if (g->bursting && g->give_kib > 0)
		policy_guest_why(gp, GW_WHY_BURST_FED, "bursting: RSS +%lld "
		    "MiB since its stats, %lld MiB/s, %lld MiB more within "
		    "%llds: +%lld MiB",
		    MIB(g->unseen_kib), MIB(gs->rss_rate_kib_s),
		    MIB(g->burst_kib), (long long)(c->burst_horizon_ms / 1000),
		    MIB(g->give_kib));
	else if (g->pressured && g->give_kib > 0)
		policy_guest_why(gp, GW_WHY_PRESSURE_FED, "under pressure "
		    "(usable %lld MiB, %lld major faults/s%s): +%lld MiB",
		    MIB(gs->usable_kib), MT_PRESENT(gs->major_fault_per_s) ?
		    (long long)gs->major_fault_per_s : 0LL,
		    g->urgent ? "; nearly out, served first" : "",
		    MIB(g->give_kib));
	else if (g->deflated_kib > 0)
		policy_guest_why(gp, GW_WHY_DEFLATED, "deflate on OOM: took "
		    "%lld MiB of its balloon back by itself; kept as a burst "
		    "it ran out in, not shrunk within reverse_cooldown",
		    MIB(g->deflated_kib));
	else if (g->pressured && g->cur_kib >= g->ceiling_kib)
		policy_guest_why(gp, GW_WHY_AT_CEILING, "under pressure but "
		    "at its ceiling %lld MiB", MIB(g->ceiling_kib));
	else if (g->pressured)
		policy_guest_why(gp, GW_WHY_NO_ROOM, "under pressure: no host "
		    "room and no idle guest to take from (%s)",
		    policy_pressure_name(p));
	else if (g->give_kib > 0)
		policy_guest_why(gp, GW_WHY_PLENTY_GIVES, "host has plenty: "
		    "+%lld MiB toward ceiling %lld MiB", MIB(g->give_kib),
		    MIB(g->ceiling_kib));
	else if (p >= PRESSURE_TIGHT && g->fpr && !g->returns_nothing &&
	    g->idle_kib >= c->min_change_kib &&
	    g->gain_kib < c->min_change_kib)
		policy_guest_why(gp, GW_WHY_FPR_RETURNS, "free page reporting "
		    "returns its free memory already: idle %lld MiB, resident "
		    "%lld MiB, not asked", MIB(g->idle_kib),
		    MIB(g->resident_kib));
	else if (p >= PRESSURE_TIGHT && g->returns_nothing &&
	    g->idle_kib >= c->min_change_kib)
		policy_guest_why(gp, GW_WHY_RETURNS_NOTHING, "balloon returns "
		    "nothing to the host (%lld%% of what it took lately): not "
		    "asked; idle %lld MiB", (long long)gp->yield_pmy / 100,
		    MIB(g->idle_kib));
	else if (p >= PRESSURE_TIGHT && g->idle_kib >= c->min_change_kib &&
	    g->gain_kib < c->min_change_kib)
		policy_guest_why(gp, GW_WHY_NEVER_TOUCHED, "idle %lld MiB but "
		    "never touched: a shrink would return nothing to the host",
		    MIB(g->idle_kib));
	else
		policy_guest_why(gp, GW_WHY_STEADY, "steady: needs %lld MiB, "
		    "idle %lld MiB, host %s", MIB(g->need_kib),
		    MIB(g->idle_kib), policy_pressure_name(p));
	/* grown in the same tick (under pressure, bursting): the log of
	 * that move is where an operator looks for why the balloon was
	 * above where memtuned left it; the code stays the move's */
	if (g->deflated_kib > 0 && g->give_kib > 0) {
		size_t n = strlen(gp->reason);

		policy_reasonf(gp->reason + n, sizeof(gp->reason) - n,
		    "; deflate on OOM: took %lld MiB of its balloon back by "
		    "itself first", MIB(g->deflated_kib));
	}
}

/* A guest's target from what it gives and gets, inside its bounds; a
 * change under min_change is not made. */
static void
set_target(const struct policy_config *c, const struct guest_snapshot *gs,
    struct policy_gwork *g, struct guest_plan *gp, enum host_pressure p)
{
	int64_t t, delta;

	switch (g->cls) {
	case GW_SKIP:
	case GW_FIXED:
		g->target_kib = gs->actual_kib;
		return;
	case GW_STALE:
	case GW_UNCOOP:
	case GW_INACTIVE:
		/* held where it was asked to be; only the bounds move it */
		g->target_kib = clamp_bounds(g, g->cur_kib);
		return;
	case GW_OK:
		break;
	}
	t = g->cur_kib - g->take_kib + g->give_kib;
	if (t < g->floor_kib || t > g->ceiling_kib) {
		t = clamp_bounds(g, t);
		policy_guest_why(gp, GW_WHY_OUT_OF_BOUNDS, "moved into its "
		    "bounds %lld..%lld MiB", MIB(g->floor_kib),
		    MIB(g->ceiling_kib));
		g->target_kib = t;
		return;
	}
	delta = t - g->cur_kib;
	if (delta != 0 && (delta < 0 ? -delta : delta) < c->min_change_kib &&
	    g->cur_kib >= g->floor_kib && g->cur_kib <= g->ceiling_kib) {
		policy_guest_why(gp, GW_WHY_BELOW_MIN_CHANGE, "change of %lld "
		    "MiB below min_change %lld MiB", MIB(delta),
		    MIB(c->min_change_kib));
		g->target_kib = g->cur_kib;
		return;
	}
	g->target_kib = t;
	target_reason(c, gs, g, gp, p);
}

/* ------------------------------------------------- askers and donors */

/* A guest under its own pressure asks for what brings it back to its
 * need, and no more: a grant past the need would make it idle, and the
 * host would take it back (a grow and a shrink every few seconds). One
 * that faults or swaps with memory free needs more than its free memory
 * says: a step. A nearly-out guest may take a critical step at once, and
 * one that a burst leaves out within burst_horizon takes it whole. */
static int64_t
ask_of(const struct policy_config *c, const struct guest_snapshot *gs,
    const struct policy_gwork *g, bool crit)
{
	int64_t step = g->step_kib;

	if (g->urgent || crit)
		step = MAX(step, MAX(1, MIN(pmy_of(gs->max_kib,
		    c->critical_step_max_pmy), c->critical_step_max_kib)));
	if (g->cur_kib >= g->ceiling_kib)
		return 0;
	/* a burst's rate is read as it starts, below its peak: the whole
	 * step, not a need that the next reading will raise */
	if (g->bursting)
		return MIN(step, g->ceiling_kib - g->cur_kib);
	return MAX(0, MIN(MIN(step, g->ceiling_kib - g->cur_kib),
	    g->faulting ? MAX(g->need_kib - g->cur_kib, g->step_kib) :
	    g->need_kib - g->cur_kib));
}

/* What a guest not under pressure could give over many ticks: its idle
 * memory above its floor and need, only as far as the host gets it back
 * (its gain), and nothing worth less than a minimum change. */
static int64_t
can_give(const struct policy_config *c, const struct policy_gwork *g)
{
	int64_t low = MAX(g->floor_kib, g->need_kib), lim;

	if (g->cls != GW_OK || g->pressured || g->cur_kib > g->ceiling_kib)
		return 0;
	lim = MIN(g->cur_kib - low, g->gain_kib);
	return lim >= c->min_change_kib ? lim : 0;
}

/* ------------------------------------------------------------ NUMA nodes */

static int64_t
node_scale(const struct snapshot *snap, const struct node_plan *np, int64_t v)
{
	return policy_scale(v, np->total_kib, snap->host.mem.mem_total_kib);
}

/* A node tight or critical while the host is not: the guests confined to
 * it give for its shortfall (the host's fill, on them alone), and its
 * guests under pressure are fed only from what they free. Growing them
 * from host memory would push the node into reclaim while others sit
 * free; squeezing guests elsewhere would free nothing on it. Results go
 * to node_take/node_give; the host pass then leaves these guests alone. */
static void
node_decide(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, struct policy_plan *plan,
    const int64_t *node_inflight)
{
	struct policy_gwork *w = s->work;
	size_t n = snap->nr_guests, i;

	for (i = 0; i < n; i++) {
		w[i].node_rule = w[i].node >= 0 &&
		    plan->nodes[w[i].node].pressure >= PRESSURE_TIGHT;
		w[i].node_take_kib = w[i].node_give_kib = 0;
	}
	for (int nd = 0; nd < plan->nr_nodes; nd++) {
		struct node_plan *np = &plan->nodes[nd];
		int64_t reclaim, want = 0, freed, funded;
		bool crit, spill;

		if (!MT_PRESENT(np->total_kib) ||
		    np->pressure < PRESSURE_TIGHT)
			continue;
		np->rule = true;
		if (np->nr_confined == 0)
			continue;
		crit = np->pressure == PRESSURE_CRITICAL;
		np->need_kib = np->target_avail_kib - np->avail_kib -
		    node_inflight[nd];
		reclaim = np->need_kib > 0 ? np->need_kib +
		    node_scale(snap, np, c->deadband_kib) : 0;
		for (i = 0; i < n; i++) {
			struct policy_gwork *g = &w[i];
			int64_t step = g->step_kib, lim;

			g->donor = false;
			g->cap_kib = g->limit_kib = 0;
			g->take_kib = g->give_kib = 0;
			if (g->node != nd || g->cls != GW_OK)
				continue;
			if (crit)
				step = MAX(1, MIN(pmy_of(snap->guests[i].max_kib,
				    c->critical_step_max_pmy),
				    c->critical_step_max_kib));
			if (g->pressured) {
				g->cap_kib = ask_of(c, &snap->guests[i], g,
				    crit);
				want += g->cap_kib;
				continue;
			}
			if ((lim = can_give(c, g)) == 0)
				continue;
			if (!crit && in_cooldown(c, &s->hist[g->hist], now_ms,
			    -1, false))
				continue;
			g->donor = true;
			g->cap_kib = MIN(step, lim);
			g->limit_kib = lim;
		}
		spill = crit || want > 0 || np->avail_kib + node_inflight[nd] <
		    pmy_of(np->reserve_kib, (c->tight_pmy + c->critical_pmy) / 2);
		freed = policy_fill_take(s, n, reclaim + want, spill);
		for (i = 0; i < n; i++) {
			if (w[i].donor && w[i].take_kib == 0) {
				w[i].donor = false;
				w[i].cap_kib = 0;
			}
		}
		funded = MAX(0, freed - reclaim);
		np->freed_kib = freed;
		np->given_kib = give_urgent_first(s, n, funded);
		for (i = 0; i < n; i++) {
			if (w[i].node != nd)
				continue;
			w[i].node_take_kib = w[i].take_kib;
			w[i].node_give_kib = w[i].give_kib;
			np->taken_kib += w[i].take_kib;
		}
	}
}

/* With the host in plenty, a confined guest grows only into its node's
 * own room above the node's plenty line, as the host's growth keeps the
 * host in plenty: otherwise growth would make the node tight and the
 * next tick would take it back. Returns what was cut. */
static int64_t
node_cap_growth(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, struct policy_plan *plan,
    const int64_t *node_inflight)
{
	struct policy_gwork *w = s->work;
	int64_t grown[MT_MAX_NODES] = { 0 }, cut = 0;
	size_t n = snap->nr_guests, i;

	/* the growth pass fed only guests not under pressure */
	for (i = 0; i < n; i++)
		if (w[i].node >= 0 && !w[i].pressured && w[i].give_kib > 0)
			grown[w[i].node] += w[i].give_kib;
	for (i = 0; i < n; i++) {
		struct policy_gwork *g = &w[i];
		const struct node_plan *np;
		int64_t room, keep;

		if (g->node < 0 || g->pressured || g->give_kib <= 0)
			continue;
		np = &plan->nodes[g->node];
		room = np->avail_kib + node_inflight[g->node] -
		    pmy_of(np->reserve_kib, c->plenty_pmy) -
		    node_scale(snap, np, c->deadband_kib);
		if (room >= grown[g->node])
			continue;
		keep = room <= 0 ? 0 :
		    policy_scale(g->give_kib, room, grown[g->node]);
		cut += g->give_kib - keep;
		g->give_kib = keep;
		g->node_capped = true;
	}
	return cut;
}

/* The reason of a guest the node rule moved or held: the node's state
 * first, then what happens to the guest. Held guests (stale, stuck) and
 * moves into bounds keep their own reason. */
static void
node_reason(const struct policy_gwork *g, const struct policy_plan *plan,
    struct guest_plan *gp)
{
	const struct node_plan *np = &plan->nodes[g->node];
	char head[96];
	int64_t t = g->cur_kib - g->take_kib + g->give_kib;

	if (g->cls != GW_OK || t < g->floor_kib || t > g->ceiling_kib)
		return;
	policy_reasonf(head, sizeof(head), "node %d: %lld MiB available of "
	    "%lld MiB (%s)", g->node, MIB(np->avail_kib), MIB(np->total_kib),
	    policy_pressure_name(np->pressure));
	if (g->target_kib == g->cur_kib && (g->take_kib > 0 || g->give_kib > 0))
		policy_guest_why(gp, GW_WHY_NODE_BELOW_MIN_CHANGE, "%s: "
		    "confined to node %d, change of %lld MiB below min_change",
		    head, g->node, MIB(g->give_kib - g->take_kib));
	else if (g->node_capped)
		policy_guest_why(gp, GW_WHY_NODE_CAPPED, "host has plenty, %s: "
		    "confined to node %d, %s%lld MiB", head, g->node,
		    g->give_kib > 0 ? "grows only by the node's room: +" :
		    "not grown; needs ",
		    MIB(g->give_kib > 0 ? g->give_kib : g->need_kib));
	else if (g->take_kib > 0)
		policy_guest_why(gp, GW_WHY_NODE_TAKES, "%s: confined to node "
		    "%d, gives %lld MiB: idle %lld MiB, needs %lld MiB", head,
		    g->node, MIB(g->take_kib), MIB(g->idle_kib),
		    MIB(g->need_kib));
	else if (g->pressured && g->give_kib > 0)
		policy_guest_why(gp, GW_WHY_NODE_FED, "%s: confined to node "
		    "%d, under pressure: +%lld MiB from guests on the node",
		    head, g->node, MIB(g->give_kib));
	else if (g->pressured)
		policy_guest_why(gp, GW_WHY_NODE_NO_ROOM, "%s: confined to "
		    "node %d, under pressure; no idle guest on the node to "
		    "take from", head, g->node);
	else
		policy_guest_why(gp, GW_WHY_NODE_STEADY, "%s: confined to node "
		    "%d, not grown: needs %lld MiB, idle %lld MiB", head,
		    g->node, MIB(g->need_kib), MIB(g->idle_kib));
}

/* The host's reason says which nodes are under the rule and whether any
 * guest is confined to them. */
static void
node_pressure_reason(struct policy_plan *plan)
{
	for (int nd = 0; nd < plan->nr_nodes; nd++) {
		const struct node_plan *np = &plan->nodes[nd];
		size_t o = strlen(plan->pressure_reason);

		if (!np->rule)
			continue;
		if (np->nr_confined == 0)
			policy_reasonf(plan->pressure_reason + o,
			    sizeof(plan->pressure_reason) - o, "; node %d %s "
			    "(%lld MiB available), no guest confined to it",
			    nd, policy_pressure_name(np->pressure),
			    MIB(np->avail_kib));
		else
			policy_reasonf(plan->pressure_reason + o,
			    sizeof(plan->pressure_reason) - o, "; node %d %s "
			    "(%lld MiB available): %d confined guests give "
			    "%lld MiB", nd, policy_pressure_name(np->pressure),
			    MIB(np->avail_kib), np->nr_confined,
			    MIB(np->taken_kib));
	}
}

/* What one tick's balloon pass carries from phase to phase. */
struct balloon_tick {
	enum host_pressure p;
	bool calm;			/* normal or plenty */
	int64_t avail;			/* MemAvailable */
	int64_t inflight;		/* on its way to the host already */
	int64_t node_inflight[MT_MAX_NODES];
	int64_t reclaim;		/* for the host: to its dead band's top */
	int64_t want;			/* asked by guests under pressure */
	int64_t from_host;		/* of want, what the host's room covers */
	int64_t extra;			/* of want, taken above the critical line */
};

/* Memory already on its way: the resident part of pending shrinks of
 * balloons that move, less pending growth; per node too. */
static void
balloon_inflight(const struct snapshot *snap, const struct policy_gwork *w,
    struct balloon_tick *bt)
{
	bt->inflight = 0;
	for (size_t i = 0; i < snap->nr_guests; i++) {
		int64_t f = guest_inflight(&snap->guests[i], &w[i]);

		bt->inflight += f;
		if (w[i].node >= 0)
			bt->node_inflight[w[i].node] += f;
	}
}

/* Guests under their own pressure ask first: the sum asked, each one's
 * ask in its cap. */
static void
balloon_askers(const struct policy_config *c, const struct snapshot *snap,
    struct policy_gwork *w, struct balloon_tick *bt)
{
	bt->want = 0;
	for (size_t i = 0; i < snap->nr_guests; i++) {
		struct policy_gwork *g = &w[i];

		g->donor = false;
		g->cap_kib = 0;
		g->take_kib = g->give_kib = 0;
		if (g->cls != GW_OK || !g->pressured || g->node_rule)
			continue;
		g->cap_kib = ask_of(c, &snap->guests[i], g,
		    bt->p == PRESSURE_CRITICAL);
		bt->want += g->cap_kib;
	}
}

/* Donors: fresh stats, not under pressure, idle above floor/need, and
 * only as far as the host gets memory back. A guest grown lately is not
 * shrunk within reverse_cooldown (nor within cooldown while the host is
 * calm) unless the host is critical. Returns what every guest could
 * give, in cooldown or not. */
static int64_t
balloon_donors(const struct policy_config *c, struct policy_state *s,
    size_t n, int64_t now_ms, const struct balloon_tick *bt)
{
	int64_t possible = 0;

	for (size_t i = 0; i < n; i++) {
		struct policy_gwork *g = &s->work[i];
		const struct policy_guest_hist *h = &s->hist[g->hist];
		int64_t lim;

		if (g->node_rule || (lim = can_give(c, g)) == 0)
			continue;
		possible += lim;
		if (in_cooldown(c, h, now_ms, -1, bt->calm) &&
		    bt->p != PRESSURE_CRITICAL)
			continue;
		g->donor = true;
		g->cap_kib = MIN(g->step_kib, lim);
		g->limit_kib = lim;
	}
	return possible;
}

/* Take from the donors what the host and the askers need. The takes are
 * counted by what they free on the host, so reclaim goes on until the
 * host's real need is met (within the steps). Spill past the steps of
 * the most idle onto less idle donors only when speed matters more than
 * order: the host is critical or nearer to it than to the tight line, or
 * a guest under its own pressure is waiting for the memory. Otherwise the
 * most idle give over a few ticks and a busy guest's margin is left
 * alone. Returns the host memory freed; *taken the balloon taken. */
static int64_t
balloon_take(const struct policy_config *c, struct policy_state *s,
    size_t n, const struct policy_plan *plan, const struct balloon_tick *bt,
    int64_t *taken)
{
	struct policy_gwork *w = s->work;
	bool spill;
	int64_t freed;

	spill = bt->p == PRESSURE_CRITICAL || bt->want - bt->from_host > 0 ||
	    bt->avail + bt->inflight < pmy_of(plan->reserve_kib,
	    (c->tight_pmy + c->critical_pmy) / 2);
	freed = policy_fill_take(s, n, bt->reclaim + (bt->want - bt->from_host),
	    spill);
	*taken = 0;
	/* a donor that gave nothing this tick may still grow below */
	for (size_t i = 0; i < n; i++) {
		*taken += w[i].take_kib;
		if (w[i].donor && w[i].take_kib == 0) {
			w[i].donor = false;
			w[i].cap_kib = 0;
		}
	}
	return freed;
}

/* Feed the askers: the host's room and what the takes freed beyond the
 * host's own reclaim. What idle guests could not cover, a guest under its
 * own pressure may take from the host's memory above the critical line,
 * even while the host is tight: a few MiB for a starving guest are worth
 * more than margin the host is not yet short of. Returns the amount
 * given; bt->extra what came from above the critical line. */
static int64_t
balloon_feed(const struct policy_config *c, struct policy_state *s,
    size_t n, const struct policy_plan *plan, int64_t freed,
    struct balloon_tick *bt)
{
	int64_t funded, above_critical;

	funded = bt->from_host + MAX(0, freed - bt->reclaim);
	above_critical = bt->avail + bt->inflight - bt->from_host -
	    pmy_of(plan->reserve_kib, c->critical_pmy);
	bt->extra = bt->p != PRESSURE_CRITICAL ?
	    MIN(MAX(0, bt->want - funded), MAX(0, above_critical)) : 0;
	return give_urgent_first(s, n, funded + bt->extra);
}

/* The node pass's results, which the host pass left alone. */
static void
balloon_node_results(struct policy_gwork *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!w[i].node_rule)
			continue;
		w[i].take_kib = w[i].node_take_kib;
		w[i].give_kib = w[i].node_give_kib;
		w[i].donor = w[i].take_kib > 0;
		w[i].cap_kib = 0;
	}
}

/* Plenty: grow the rest back toward their ceiling within budget_kib,
 * keeping the host in plenty so growth cannot itself start a reclaim. */
static void
balloon_grow(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, struct policy_plan *plan,
    const struct balloon_tick *bt, int64_t budget_kib)
{
	struct policy_gwork *w = s->work;
	size_t n = snap->nr_guests, i;

	for (i = 0; i < n; i++) {
		struct policy_gwork *g = &w[i];
		const struct policy_guest_hist *h = &s->hist[g->hist];

		if (g->cls != GW_OK || g->pressured || g->donor ||
		    g->node_rule)
			continue;
		g->cap_kib = 0;
		if (g->cur_kib >= g->ceiling_kib ||
		    in_cooldown(c, h, now_ms, 1, true))
			continue;
		g->cap_kib = MIN(g->step_kib, g->ceiling_kib - g->cur_kib);
	}
	/* the pressured guests were served: keep their grant */
	for (i = 0; i < n; i++)
		if (w[i].pressured)
			w[i].cap_kib = 0;
	plan->given_kib += policy_fill_give(s, n, budget_kib, false);
	if (plan->nr_nodes > 1)
		plan->given_kib -= node_cap_growth(c, snap, s, plan,
		    bt->node_inflight);
}

/* The balloon targets of one tick: a node's own pass, the host's need,
 * the askers, the donors, the takes, the feeding, growth on plenty, then
 * each guest's target and reason. */
void
policy_balloon_decide(const struct policy_config *c,
    const struct snapshot *snap, struct policy_state *s, int64_t now_ms,
    struct policy_plan *plan)
{
	struct policy_gwork *w = s->work;
	size_t n = snap->nr_guests, i;
	struct balloon_tick bt = { .p = plan->pressure,
	    .calm = plan->pressure <= PRESSURE_NORMAL,
	    .avail = snap->host.mem.mem_avail_kib };
	int64_t room, possible, taken, freed, given, grow_budget;
	int64_t node_taken = 0, node_freed = 0, node_given = 0;

	balloon_inflight(snap, w, &bt);
	/* a node short while the host is not gets its own pass first; when
	 * the host itself is short, its reclaim covers every guest */
	if (bt.calm && plan->nr_nodes > 1) {
		node_decide(c, snap, s, now_ms, plan, bt.node_inflight);
		for (int nd = 0; nd < plan->nr_nodes; nd++) {
			node_taken += plan->nodes[nd].taken_kib;
			node_freed += plan->nodes[nd].freed_kib;
			node_given += plan->nodes[nd].given_kib;
		}
		node_pressure_reason(plan);
	}

	plan->need_kib = plan->target_avail_kib - bt.avail - bt.inflight;
	/* the dead band is [target, target + deadband]: below it, reclaim
	 * aims at its top so one round lands inside; inside, nothing */
	bt.reclaim = bt.p >= PRESSURE_TIGHT && plan->need_kib > 0 ?
	    plan->need_kib + c->deadband_kib : 0;
	room = bt.avail + bt.inflight - plan->target_avail_kib -
	    c->deadband_kib;
	balloon_askers(c, snap, w, &bt);
	bt.from_host = bt.calm ? MIN(bt.want, MAX(room, 0)) : 0;
	possible = balloon_donors(c, s, n, now_ms, &bt);
	/* an unreachable target is a state, not a loop: what no guest can
	 * give back is said once and not chased */
	plan->short_kib = bt.reclaim > 0 ?
	    MAX(0, plan->need_kib - possible) : 0;
	freed = balloon_take(c, s, n, plan, &bt, &taken);
	given = balloon_feed(c, s, n, plan, freed, &bt);
	balloon_node_results(w, n);
	plan->taken_kib = taken + node_taken;
	plan->freed_kib = freed + node_freed;
	plan->given_kib = given + node_given;
	if (plan->short_kib >= c->min_change_kib) {
		size_t o = strlen(plan->pressure_reason);

		policy_reasonf(plan->pressure_reason + o,
		    sizeof(plan->pressure_reason) - o, "; short by %lld MiB "
		    "with nothing left to reclaim", MIB(plan->short_kib));
	}

	grow_budget = bt.avail + bt.inflight -
	    pmy_of(plan->reserve_kib, c->plenty_pmy) - c->deadband_kib -
	    MIN(given, bt.from_host + bt.extra);
	if (bt.p == PRESSURE_PLENTY && grow_budget > 0)
		balloon_grow(c, snap, s, now_ms, plan, &bt, grow_budget);

	for (i = 0; i < n; i++) {
		set_target(c, &snap->guests[i], &w[i], &plan->guests[i],
		    bt.p);
		if (w[i].node_rule || w[i].node_capped)
			node_reason(&w[i], plan, &plan->guests[i]);
	}
}
