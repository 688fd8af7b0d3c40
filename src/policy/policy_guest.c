/* policy_guest.c - reading one guest's situation for a tick: its
 * bounds and class, what its balloon did since the last tick, what its
 * shrinks returned, its bursts and headroom, and so what it needs. */
#include <string.h>

#include "policy_internal.h"

/* a balloon move smaller than this says nothing about what it returned */
#define YIELD_SAMPLE_MIN_KIB (4 * 1024)
/* the recent window of shrinks whose return decides: halved past this */
#define YIELD_WINDOW_KIB (128 * 1024)
/* below this much measured, the return is not known yet */
#define YIELD_KNOWN_KIB (32 * 1024)
/* ksmd and the balloon count in base pages */
#define PAGE_KIB 4

static void
guest_plan_reset(struct guest_plan *gp, const struct guest_snapshot *g)
{
	mt_strlcpy(gp->uuid, g->uuid, sizeof(gp->uuid));
	mt_strlcpy(gp->name, g->name, sizeof(gp->name));
	gp->action = ACT_NONE;
	gp->state = GPS_OK;
	gp->input = g->input;
	memset(&gp->meta_cap, 0, sizeof(gp->meta_cap));
	gp->meta_cap.floor_kib = gp->meta_cap.ceiling_kib = MT_ABSENT;
	gp->meta_cap.shares = MT_ABSENT;
	gp->floor_kib = gp->ceiling_kib = gp->need_kib = MT_ABSENT;
	gp->headroom_kib = MT_ABSENT;
	gp->actual_kib = g->actual_kib;
	gp->target_kib = g->actual_kib;
	gp->vmem = false;
	gp->by_vmem = false;
	gp->balloon_kib = MT_ABSENT;
	for (int d = 0; d < MT_VMEM_MAX; d++)
		gp->vmem_req_kib[d] = MT_ABSENT;
	gp->vmem_moved_kib = 0;
	gp->soft_limit_kib = gp->hard_limit_kib = MT_ABSENT;
	gp->swap_hard_limit_kib = gp->memory_low_kib = MT_ABSENT;
	gp->ballooned_kib = gp->returned_kib = gp->unresident_kib = 0;
	gp->yield_pmy = gp->gain_kib = MT_ABSENT;
	gp->burst_kib = 0;
	gp->deflated_kib = 0;
	gp->rss_rate_kib_s = g->rss_rate_kib_s;
	gp->unseen_kib = 0;
	gp->burst_demand_kib = 0;
	gp->bursting = false;
	gp->pressured = false;
	gp->reason_code = GW_WHY_NONE;
	gp->reason[0] = '\0';
}
/* A guest with deflate on OOM takes balloon pages back before its OOM
 * killer runs: a balloon risen above where memtuned left it is that, not
 * another manager nor a stuck balloon. It ran out, so it is remembered as
 * a burst (twice what it took, as sample_burst does), and memtuned does
 * not fight it: the rise counts as a grow of memtuned's own, which no
 * shrink reverses within reverse_cooldown. The driver deflates a MiB per
 * OOM notification, so a slow rise counts too. */
static bool
balloon_deflated(const struct policy_config *c,
    const struct guest_snapshot *g, struct policy_guest_hist *h,
    int64_t now_ms, bool shrink, struct policy_gwork *w)
{
	int64_t took, burst;
	/* what the balloon-change events saw since the last tick: the guest
	 * may have taken its pages back and inflated again toward the
	 * target before this tick (measured on the testbed: within a
	 * second). A guest with virtio-mem devices is left out: a plug
	 * moves the same figure. */
	bool events = g->backing.vmem.count == 0;
	int64_t peak = events && MT_PRESENT(g->balloon_peak_kib) ?
	    MAX(g->balloon_peak_kib, g->actual_kib) : g->actual_kib;
	int64_t rise = events && MT_PRESENT(g->balloon_rise_kib) ?
	    g->balloon_rise_kib : 0;

	if (!g->backing.autodeflate || !MT_PRESENT(h->progress_actual_kib))
		return false;
	/* on the way down, any rise from where it was, or one of at least
	 * min_change from a low between ticks (a balloon still settling
	 * from a grow rises a little too); after a grow, a rise past the
	 * target */
	took = shrink ? g->actual_kib - h->progress_actual_kib :
	    peak - h->last_target_kib;
	if (shrink && took < 1024 && rise >= c->min_change_kib)
		took = rise;
	if (took < (shrink ? 1024 : c->min_change_kib))
		return false;
	burst = MIN(policy_scale(g->max_kib, c->headroom_burst_pmy, 10000),
	    2 * took);
	if (burst >= h->burst_kib) {
		h->burst_kib = burst;
		h->burst_ms = now_ms;
	}
	h->last_dir = 1;
	h->last_change_ms = now_ms;
	h->last_target_kib = MT_ABSENT;
	h->progress_actual_kib = g->actual_kib;
	h->progress_ms = now_ms;
	h->uncooperative = false;
	w->deflated_kib = took;
	return true;
}

/* What is not moving: virtio-mem devices still short of what they were
 * asked (the guest does not unplug or plug), or else the balloon. */
static const char *
mover_name(const struct guest_snapshot *g)
{
	const struct guest_vmem *vm = &g->backing.vmem;

	for (int d = 0; d < vm->count && d < MT_VMEM_MAX; d++)
		if (MT_PRESENT(vm->dev[d].requested_kib) &&
		    MT_PRESENT(vm->dev[d].current_kib) &&
		    vm->dev[d].requested_kib != vm->dev[d].current_kib)
			return "virtio-mem";
	return "balloon";
}

/* Has the balloon moved toward what it was asked? Squeezed's rule: no
 * progress for balloon_inactive is inactive, for balloon_uncooperative
 * is uncooperative; reaching the target or moving clears both. */
static enum gwork_class
balloon_progress(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t now_ms, struct policy_gwork *w,
    struct guest_plan *gp)
{
	int64_t gap, moved;
	bool shrink;

	if (!MT_PRESENT(h->last_target_kib)) {
		h->uncooperative = false;
		return GW_OK;
	}
	gap = g->actual_kib - h->last_target_kib;
	/* how far the balloon went the way it was asked since progress was
	 * last seen; the way is the request's, not the sign of what is left
	 * (a shrink that lands on its target has nothing left, and is not
	 * a move away) */
	shrink = MT_PRESENT(h->progress_actual_kib) &&
	    h->last_target_kib < h->progress_actual_kib;
	moved = !MT_PRESENT(h->progress_actual_kib) ? 0 : shrink ?
	    h->progress_actual_kib - g->actual_kib :
	    g->actual_kib - h->progress_actual_kib;
	if (balloon_deflated(c, g, h, now_ms, shrink, w))
		return GW_OK;
	if (policy_abs64(gap) <= c->min_change_kib) {
		h->progress_actual_kib = g->actual_kib;
		h->progress_ms = now_ms;
		h->uncooperative = false;
		return GW_OK;
	}
	/* past the target, or back the other way: not memtuned's doing */
	if (moved <= -c->min_change_kib || (shrink ? gap < 0 : gap > 0)) {
		/* moved away from what memtuned asked: someone else set
		 * it (virsh setmem); take the new size as the start. The
		 * direction and time of memtuned's own last change stay:
		 * they are what the cooldowns count from, and a balloon
		 * still settling from the move before looks the same */
		h->last_target_kib = MT_ABSENT;
		h->progress_actual_kib = g->actual_kib;
		h->progress_ms = now_ms;
		h->uncooperative = false;
		return GW_OK;
	}
	if (moved >= 1024) {
		h->progress_actual_kib = g->actual_kib;
		h->progress_ms = now_ms;
		h->uncooperative = false;
		return GW_OK;
	}
	if (now_ms - h->progress_ms >= c->balloon_uncooperative_ms) {
		if (!h->uncooperative) {
			h->uncooperative = true;
			h->uncoop_since_ms = now_ms;
		}
		/* the retry clock restarts when the resend is carried out
		 * (policy_commit) */
		if (now_ms - h->uncoop_since_ms >= c->balloon_retry_ms)
			w->resend = true;
		gp->state = GPS_UNCOOPERATIVE;
		policy_guest_why(gp, GW_WHY_UNCOOPERATIVE, "%s stuck at "
		    "%lld MiB for %llds (asked %lld MiB): uncooperative, "
		    "held by memtune%s", mover_name(g), MIB(g->actual_kib),
		    (long long)(now_ms - h->progress_ms) / 1000,
		    MIB(h->last_target_kib), w->resend ? "; asking again" : "");
		return GW_UNCOOP;
	}
	if (now_ms - h->progress_ms >= c->balloon_inactive_ms) {
		policy_guest_why(gp, GW_WHY_WAITING, "%s not moving "
		    "for %llds (at %lld MiB, asked %lld MiB): waiting",
		    mover_name(g),
		    (long long)(now_ms - h->progress_ms) / 1000,
		    MIB(g->actual_kib), MIB(h->last_target_kib));
		return GW_INACTIVE;
	}
	return GW_OK;
}

/* A remembered size that halves once for each whole headroom_memory
 * period since it was set, however seldom the ticks came. */
static void
decay_memory(const struct policy_config *c, int64_t *kib, int64_t *since_ms,
    int64_t now_ms, int64_t floor_kib)
{
	int64_t periods;

	if (now_ms - *since_ms < c->headroom_memory_ms)
		return;
	periods = (now_ms - *since_ms) / MAX(1, c->headroom_memory_ms);
	*kib = MAX(floor_kib, periods >= 62 ? 0 : *kib >> periods);
	*since_ms += periods * MAX(1, c->headroom_memory_ms);
}

/* What a guest keeps free above its use. A guest whose use holds still
 * needs little: memtuned sees a change within a tick and feeds it. One
 * that grew lately may grow as fast again before the next tick, so it
 * keeps about twice its largest recent growth per reaction window (two
 * tight intervals, however often the ticks come), between
 * headroom_steady and headroom of its size. A spurt is remembered for
 * headroom_memory and then halves each period; a guest seen for the
 * first time starts as if it had just grown. A guest that ran out in a
 * burst keeps room for the burst (up to headroom_burst), remembered the
 * same way: no tick is fast enough to feed a burst that takes seconds. */
static int64_t
guest_headroom(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t used, int64_t now_ms)
{
	int64_t hi = MAX(c->headroom_min_kib, policy_scale(g->max_kib,
	    c->headroom_pmy, 10000));
	int64_t lo = MIN(hi, MAX(c->headroom_min_kib,
	    policy_scale(g->max_kib, c->headroom_steady_pmy, 10000)));
	int64_t win = MAX(1, 2 * c->interval_tight_ms), grew = 0, base;

	if (h->burst_kib > 0)
		decay_memory(c, &h->burst_kib, &h->burst_ms, now_ms, 0);
	if (!MT_PRESENT(h->spurt_kib)) {
		h->spurt_kib = hi - hi / 2;	/* twice this is hi */
		h->spurt_ms = now_ms;
	} else if (MT_PRESENT(h->used_kib) && now_ms > h->used_ms &&
	    used > h->used_kib) {
		/* over a longer gap, the part of it one window could see */
		grew = used - h->used_kib;
		if (now_ms - h->used_ms > win)
			grew = policy_scale(grew, win, now_ms - h->used_ms);
	}
	/* the base moves once a window has passed (or use fell), so
	 * ticks closer together than a window add their growth up */
	if (!MT_PRESENT(h->used_kib) || used < h->used_kib ||
	    now_ms - h->used_ms >= win) {
		h->used_kib = used;
		h->used_ms = now_ms;
	}
	if (grew >= h->spurt_kib) {
		h->spurt_kib = grew;
		h->spurt_ms = now_ms;
	} else {
		decay_memory(c, &h->spurt_kib, &h->spurt_ms, now_ms, grew);
	}
	base = lo >= hi ? hi : MIN(hi, MAX(lo, 2 * h->spurt_kib));
	return MAX(base, MIN(h->burst_kib, MAX(hi, policy_scale(g->max_kib,
	    c->headroom_burst_pmy, 10000))));
}

/* Of a shrink's shortfall, the part that took guest RAM the host did not
 * hold: free memory never touched, or zero pages the host took back.
 * Such pages return nothing when a balloon takes them, and a balloon may
 * take them first: a shortfall up to that much says nothing of the rest,
 * which is resident. Not resident is the balloon size less the guest RAM
 * resident, when QEMU's own memory was measured at the sample; else the
 * balloon size less the whole RSS, counted low, and only for a guest
 * whose RSS shows resident idle memory even after QEMU's memory counted
 * as generously as the hard limits count it: one that touched little of
 * its RAM has only QEMU's memory over its use, and is judged on what its
 * shrinks return. */
static int64_t
shrink_unresident(const struct policy_config *c,
    const struct guest_snapshot *g, const struct policy_guest_hist *h,
    int64_t shortfall)
{
	int64_t ram = h->samp_rss_kib, sure;

	if (!MT_PRESENT(h->yb_used_kib) || shortfall <= 0)
		return 0;
	if (MT_PRESENT(h->samp_own_kib))
		ram = MAX(0, h->samp_rss_kib - h->samp_own_kib);
	sure = ram - h->yb_used_kib - (MT_PRESENT(h->samp_own_kib) ? 0 :
	    policy_qemu_overhead_kib(c, g->max_kib));
	if (sure < c->min_change_kib)
		return 0;
	return MIN(shortfall, MAX(0, h->samp_actual_kib - ram));
}

/* The yield's base: what a shrink's return is measured from. The RSS
 * carries `carry`: RSS that fell ahead of the balloon size (below). */
static void
yield_base(const struct guest_snapshot *g, struct policy_guest_hist *h,
    int64_t used, int64_t carry)
{
	h->samp_actual_kib = g->actual_kib;
	h->samp_rss_kib = MT_PRESENT(g->rss_kib) && g->rss_kib > 0 ?
	    g->rss_kib + carry : MT_ABSENT;
	h->samp_own_kib = MT_PRESENT(h->samp_rss_kib) &&
	    MT_PRESENT(g->qemu_own_kib) && g->qemu_own_kib >= 0 ?
	    g->qemu_own_kib : MT_ABSENT;
	h->yb_used_kib = used;
	h->samp_ksm_merging_kib = g->ksm_merging_kib;
}

/* What the host got back from the balloon since the base: the QEMU RSS
 * that went as the balloon inflated, less the KSM-merged pages among it,
 * plus what the guest touched meanwhile (which hid part of the return).
 * Kept as a recent window, halved as it fills, and as lifetime sums.
 * libvirt's balloon size follows QEMU's balloon-change events, which come
 * at most once a second, while the RSS is read live: a balloon that
 * inflates within a second shows its RSS fall a tick before its new size
 * (seen on the testbed, 2026-12-02: 190 MiB fell at 768 MiB, and the next
 * tick read 576 MiB with the RSS still, a "shrink that returned
 * nothing"). So while a shrink is in flight (the size above the target
 * asked), a tick whose size has not moved keeps the base, and RSS that
 * fell beyond what the size has shown so far is carried to the next
 * measure. */
static void
sample_yield(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t used, int64_t now_ms,
    bool in_flight)
{
	int64_t d, fell, back, unres;

	if (!MT_PRESENT(h->samp_actual_kib) || !MT_PRESENT(h->samp_rss_kib) ||
	    !MT_PRESENT(g->rss_kib) || g->rss_kib <= 0) {
		yield_base(g, h, used, 0);
		return;
	}
	d = h->samp_actual_kib - g->actual_kib;
	if (d < YIELD_SAMPLE_MIN_KIB) {
		if (!in_flight)
			yield_base(g, h, used, 0);
		return;
	}
	fell = h->samp_rss_kib - g->rss_kib;
	/* merged pages that left with the balloon were shared: nothing
	 * came back for them while other copies live */
	if (MT_PRESENT(h->samp_ksm_merging_kib) &&
	    MT_PRESENT(g->ksm_merging_kib) &&
	    h->samp_ksm_merging_kib > g->ksm_merging_kib)
		fell -= h->samp_ksm_merging_kib - g->ksm_merging_kib;
	if (MT_PRESENT(used) && MT_PRESENT(h->yb_used_kib) &&
	    used > h->yb_used_kib)
		fell += used - h->yb_used_kib;
	back = MAX(0, MIN(fell, d));
	unres = shrink_unresident(c, g, h, d - back);
	h->yield_taken_kib += d;
	h->yield_back_kib += back;
	h->yield_unres_kib += unres;
	h->total_taken_kib += d;
	h->total_back_kib += back;
	h->total_unres_kib += unres;
	h->yield_ms = now_ms;
	while (h->yield_taken_kib > YIELD_WINDOW_KIB) {
		h->yield_taken_kib /= 2;
		h->yield_back_kib /= 2;
		h->yield_unres_kib /= 2;
	}
	yield_base(g, h, used, in_flight ? MAX(0, fell - d) : 0);
}

/* Did the guest run out since the last sample? Signs: nearly nothing
 * usable left, swapping in, more fresh memory touched (minor faults)
 * than it had usable, most of which it no longer holds (the guest's OOM
 * killer took it, or a burst only just passed and ended), or its use
 * falling sharply after it had little left (a kill seen after the fact:
 * what fell is what the killed workload held). Stats come
 * every few seconds and a burst can end in a kill between two of them,
 * and the killed workload may be back before the next sample: what is
 * seen is pages touched and not kept. What it asked for is at least what
 * it had; twice that is remembered as its burst. A guest that churns
 * through more than all of its available memory between two ticks is
 * read the same way, and keeps the room such churn needs. */
static void
sample_burst(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t used, int64_t now_ms)
{
	int64_t had = h->samp_usable_kib, fault_kib = MT_ABSENT, demand = 0;
	int64_t cap = policy_scale(g->max_kib, c->headroom_burst_pmy, 10000);
	int64_t released;
	bool out = false;

	if (!MT_PRESENT(used) || !MT_PRESENT(h->samp_used_kib) ||
	    !MT_PRESENT(had))
		return;
	if (MT_PRESENT(g->minor_fault) && MT_PRESENT(h->samp_minor_fault) &&
	    g->minor_fault >= h->samp_minor_fault)
		fault_kib = (g->minor_fault - h->samp_minor_fault) * PAGE_KIB;
	/* what was let go of since the sample: pages touched and not kept,
	 * plus the fall of the use. A killed workload's whole size shows
	 * here whether or not it started again before this sample (its
	 * new pages are touched and kept, and cancel out) */
	released = MAX(0, h->samp_used_kib - used);
	if (MT_PRESENT(fault_kib))
		released = MAX(0, fault_kib - (used - h->samp_used_kib));
	/* touched more than it had, and let go of at least half of that
	 * again by now: it did not keep what it touched */
	if (MT_PRESENT(fault_kib) && fault_kib > had &&
	    fault_kib - MAX(0, used - h->samp_used_kib) >=
	    MAX(c->min_change_kib, had / 2)) {
		out = true;
		demand = MAX(fault_kib, released);
	}
	/* the signature of an OOM kill: use fell sharply after the guest
	 * had little left or touched most of what it had; the workload
	 * killed held what fell, and will want as much again */
	if (used < h->samp_used_kib &&
	    h->samp_used_kib - used >= MAX(c->headroom_min_kib / 2, had) &&
	    (had < c->headroom_min_kib / 4 ||
	    (MT_PRESENT(fault_kib) && fault_kib >= had / 2))) {
		out = true;
		demand = MAX(demand, released);
	}
	if (g->usable_kib < c->headroom_min_kib / 4 ||
	    (MT_PRESENT(g->swap_in_kib_per_s) &&
	    g->swap_in_kib_per_s >= c->guest_swapin_kib_per_s)) {
		out = true;
		demand = MAX(demand, used - h->samp_used_kib);
	}
	if (!out)
		return;
	demand = MIN(cap, 2 * MAX(demand, had));
	if (demand >= h->burst_kib) {
		h->burst_kib = demand;
		h->burst_ms = now_ms;
	}
}

/* The sample this tick leaves for the next one's burst test. */
static void
keep_sample(const struct guest_snapshot *g, struct policy_guest_hist *h,
    int64_t used, int64_t now_ms)
{
	h->samp_ms = now_ms;
	h->samp_used_kib = used;
	h->samp_usable_kib = MT_PRESENT(used) ? g->usable_kib : MT_ABSENT;
	h->samp_minor_fault = g->minor_fault;
}

/* What the guest touched since its stats were taken, as the host sees
 * it: the rise of its QEMU RSS since the tick its current stats first
 * came (the lowest RSS since, as an inflating balloon lowers it). Stats
 * come every few seconds; a burst fills a guest in one or two. */
static int64_t
unseen_since_stats(const struct guest_snapshot *g, struct policy_guest_hist *h)
{
	bool fresh;

	if (!MT_PRESENT(g->rss_kib) || g->rss_kib <= 0 ||
	    !MT_PRESENT(g->last_update_s)) {
		h->stats_update_s = h->stats_rss_kib = MT_ABSENT;
		return 0;
	}
	fresh = g->last_update_s != h->stats_update_s ||
	    !MT_PRESENT(h->stats_rss_kib);
	if (fresh || g->rss_kib < h->stats_rss_kib) {
		h->stats_update_s = g->last_update_s;
		h->stats_rss_kib = g->rss_kib;
		return 0;
	}
	return g->rss_kib - h->stats_rss_kib;
}

/* A burst's demand leaves a guest short within burst_horizon: the one
 * test of the tick (policy_guest_read) and of the watch between ticks */
static bool
burst_leaves_short(int64_t usable, int64_t demand, int64_t headroom)
{
	return demand > 0 && usable - demand < headroom;
}

int64_t
policy_burst_demand_kib(const struct policy_config *c, int64_t rate_kib_s)
{
	if (c->burst_horizon_ms <= 0 || !MT_PRESENT(rate_kib_s) ||
	    rate_kib_s < c->burst_rate_kib_per_s)
		return 0;
	return policy_scale(rate_kib_s, c->burst_horizon_ms, 1000);
}

bool
policy_burst_imminent(const struct policy_config *c,
    const struct guest_snapshot *g, const struct guest_plan *gp,
    int64_t rss_kib, int64_t rate_kib_s)
{
	int64_t demand = policy_burst_demand_kib(c, rate_kib_s), usable;

	if (demand == 0 || gp->state != GPS_OK ||
	    !MT_PRESENT(gp->headroom_kib) || !MT_PRESENT(gp->target_kib) ||
	    !MT_PRESENT(gp->ceiling_kib) || gp->target_kib >= gp->ceiling_kib ||
	    !MT_PRESENT(g->usable_kib) || !MT_PRESENT(g->rss_kib) ||
	    !MT_PRESENT(rss_kib))
		return false;
	usable = g->usable_kib - gp->unseen_kib - MAX(0, rss_kib - g->rss_kib);
	return burst_leaves_short(usable, demand, gp->headroom_kib);
}

/* The measured share of balloon the host got back; MT_ABSENT until
 * enough was measured. After yield_retry without a measurement the
 * window starts again: what a guest has resident changes. */
static int64_t
guest_yield_pmy(const struct policy_config *c, struct policy_guest_hist *h,
    int64_t now_ms)
{
	if (MT_PRESENT(h->yield_ms) && now_ms - h->yield_ms >= c->yield_retry_ms) {
		h->yield_taken_kib = h->yield_back_kib = 0;
		h->yield_unres_kib = 0;
		h->yield_ms = MT_ABSENT;
	}
	if (h->yield_taken_kib < YIELD_KNOWN_KIB)
		return MT_ABSENT;
	return h->yield_back_kib * 10000 / h->yield_taken_kib;
}

/* A balloon that returns nothing: what it took lately came back under
 * yield_min, not counting the part that was not resident on the host
 * anyway. That part is gone into the balloon; the free memory left is
 * resident, and its gain is what the QEMU RSS says. */
static bool
guest_returns_nothing(const struct policy_config *c,
    const struct policy_guest_hist *h, int64_t yield_pmy)
{
	if (!MT_PRESENT(yield_pmy) || yield_pmy >= c->yield_min_pmy)
		return false;
	return (h->yield_back_kib + h->yield_unres_kib) * 10000 <
	    c->yield_min_pmy * h->yield_taken_kib;
}

int64_t
policy_guest_used_kib(const struct guest_snapshot *g)
{
	/* in balloon units: what the guest's kernel keeps for itself
	 * (actual - MemTotal, tens of MiB) is used too; measured against
	 * MemTotal, a shrink to the need would leave the guest that much
	 * short of its headroom and it would ask for it back at once */
	int64_t used = (MT_PRESENT(g->actual_kib) ? g->actual_kib :
	    g->available_kib) - g->usable_kib;

	return MAX(used, 0);
}

int64_t
policy_guest_need_kib(const struct policy_config *c,
    const struct guest_snapshot *g, int64_t headroom_kib)
{
	int64_t used = policy_guest_used_kib(g), keep;

	keep = MT_PRESENT(g->disk_caches_kib) && g->disk_caches_kib > 0 ?
	    g->disk_caches_kib - policy_scale(g->disk_caches_kib,
	    c->cache_reclaim_pmy, 10000) : 0;
	if (!MT_PRESENT(headroom_kib)) {
		/* a guest with no history, as policy_guest_read first
		 * sees it */
		struct policy_guest_hist fresh;

		policy_hist_clear(&fresh);
		headroom_kib = guest_headroom(c, g, &fresh, used, 0);
	}
	return used + keep + headroom_kib;
}

/* memtuned's record in the domain's metadata describes the hard limit in
 * force (libvirt reads it back from the cgroup, in whole pages: within
 * min_change) */
bool
policy_hard_limit_recorded(const struct policy_config *c,
    const struct guest_snapshot *g)
{
	return MT_PRESENT(g->own_hard_limit_kib) &&
	    MT_PRESENT(g->hard_limit_kib) &&
	    g->hard_limit_kib != POLICY_LIMIT_UNLIMITED &&
	    policy_abs64(g->hard_limit_kib - g->own_hard_limit_kib) <
	    c->min_change_kib;
}

/* Is the hard limit in force memtuned's own? With a record, when the
 * record describes it, so an operator's later limit is not taken for
 * memtuned's; without one, when this memtuned set it. */
bool
policy_hard_limit_own(const struct policy_config *c,
    const struct guest_snapshot *g,
    const struct policy_guest_hist *h)
{
	if (!MT_PRESENT(g->own_hard_limit_kib))
		return h->hard_limit_set;
	return policy_hard_limit_recorded(c, g);
}

/* A guest the policy has no history of (memtuned restarted, or it was
 * away) may carry memtuned's record of the hard limit it set when it
 * found the balloon stuck. The history that matters comes back from it:
 * the limit is memtuned's, and a balloon still above the target the limit
 * went with is still stuck there. It is lifted as usual once the balloon
 * moves, or at once with hard_limit = off. */
static void
hist_restore(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t now_ms)
{
	if (!policy_hard_limit_recorded(c, g))
		return;
	h->hard_limit_set = true;
	if (!MT_PRESENT(g->own_target_kib) || !MT_PRESENT(g->actual_kib) ||
	    g->actual_kib - g->own_target_kib <= c->min_change_kib)
		return;
	h->last_target_kib = g->own_target_kib;
	h->progress_actual_kib = g->actual_kib;
	/* it was stuck this long at least when the limit was set */
	h->progress_ms = now_ms - c->balloon_uncooperative_ms;
	h->uncooperative = true;
	h->uncoop_since_ms = now_ms;
}

/* A guest with fresh stats and its headroom: its need, and whether it is
 * under pressure, urgent or bursting. */
static void
guest_pressure(const struct policy_config *c, const struct guest_snapshot *g,
    int64_t headroom, struct policy_gwork *w)
{
	int64_t usable;

	/* what it touched since its stats is used as much as what the
	 * stats show; while its RSS rises fast enough to leave it short
	 * within burst_horizon, what it will touch by then is needed too.
	 * A guest growing fast with room to spare is left to its headroom,
	 * which follows its growth */
	w->burst_kib = policy_burst_demand_kib(c, g->rss_rate_kib_s);
	usable = g->usable_kib - w->unseen_kib;
	w->bursting = burst_leaves_short(usable, w->burst_kib, headroom);
	if (!w->bursting)
		w->burst_kib = 0;
	w->need_kib = policy_guest_need_kib(c, g, headroom) + w->unseen_kib +
	    w->burst_kib;
	w->idle_kib = w->cur_kib - w->need_kib;
	/* fed a little below its headroom (a quarter of it, at most two
	 * minimum changes), to its need: a guest at its need reads a few
	 * MiB under it (the guest's own rounding), and must not count as
	 * short there */
	w->faulting = (MT_PRESENT(g->major_fault_per_s) &&
	    g->major_fault_per_s >= c->guest_majfault_per_s) ||
	    (MT_PRESENT(g->swap_in_kib_per_s) &&
	    g->swap_in_kib_per_s >= c->guest_swapin_kib_per_s);
	w->pressured = usable < headroom - MIN(headroom / 4,
	    2 * c->min_change_kib) || w->faulting || w->bursting;
	/* nearly out (under half its headroom free), already faulting or
	 * swapping, or short within the burst horizon: a few MiB now matter
	 * more than a fair share later */
	w->urgent = w->pressured && (usable < headroom / 2 ||
	    w->faulting || w->bursting);
}

/* A guest memtuned does not manage this tick: excluded, held by
 * memtunectl, without a UUID or not running. True with gp saying so. */
static bool
guest_left_alone(const struct guest_snapshot *g, struct guest_plan *gp)
{
	if (gp->input.exclude) {
		gp->action = ACT_LEAVE_ALONE;
		gp->state = GPS_EXCLUDED;
		policy_guest_why(gp, GW_WHY_EXCLUDED, "excluded (%s)",
		    guest_input_source_name(gp->input.exclude_src));
		return true;
	}
	/* the operator's word at run time, after the config's exclude: an
	 * excluded guest was never touched, so there is nothing to hold */
	if (g->hold != GUEST_HOLD_NONE) {
		bool rel = g->hold == GUEST_HOLD_RELEASED;

		gp->action = ACT_LEAVE_ALONE;
		gp->state = rel ? GPS_RELEASED : GPS_PAUSED;
		policy_guest_why(gp, rel ? GW_WHY_RELEASED : GW_WHY_PAUSED,
		    "%s by memtunectl until resumed or memtuned restarts",
		    rel ? "released" : "paused");
		return true;
	}
	if (g->uuid[0] == '\0' || g->id < 0) {
		gp->action = ACT_LEAVE_ALONE;
		gp->state = GPS_STALE;
		if (g->uuid[0] == '\0')
			policy_guest_why(gp, GW_WHY_NO_UUID, "no UUID");
		else
			policy_guest_why(gp, GW_WHY_NOT_RUNNING, "not running");
		return true;
	}
	return false;
}

/* The guest's history slot (prev: last tick's for this position) and its
 * bounds into w and gp. NULL for bounds in error, with gp saying so. */
static struct policy_guest_hist *
guest_slot_bounds(const struct policy_config *c,
    const struct guest_snapshot *g, struct policy_state *s, int64_t now_ms,
    size_t prev, struct policy_gwork *w, struct guest_plan *gp)
{
	struct policy_guest_hist *h;
	char err[POLICY_REASON_MAX];
	bool fresh = false;

	/* guests come in the same order tick after tick: try last tick's
	 * slot for this position before hashing */
	if (prev < s->hist_cap && strcmp(s->hist[prev].uuid, g->uuid) == 0)
		w->hist = prev;
	else
		w->hist = policy_hist_lookup(s, g->uuid, &fresh);
	h = &s->hist[w->hist];
	if (fresh)
		hist_restore(c, g, h, now_ms);
	h->seen_ms = now_ms;
	if (policy_guest_bounds(c, g, policy_hard_limit_own(c, g, h),
	    &w->floor_kib, &w->ceiling_kib, err, sizeof(err)) < 0) {
		gp->action = ACT_LEAVE_ALONE;
		gp->state = GPS_CONFIG_ERROR;
		policy_guest_why(gp, GW_WHY_CONFIG_ERROR, "%s", err);
		return NULL;
	}
	gp->floor_kib = w->floor_kib;
	gp->ceiling_kib = w->ceiling_kib;
	if (w->ceiling_kib < (MT_PRESENT(gp->input.ceiling_kib) ?
	    MIN(g->max_kib, gp->input.ceiling_kib) : g->max_kib))
		gp->input.ceiling_src = SRC_LIBVIRT;
	return h;
}

/* A guest whose size cannot move (hugepages, locked memory, no balloon)
 * or whose balloon size is unknown: true with gp saying so. */
static bool
guest_fixed(const struct guest_snapshot *g, struct policy_gwork *w,
    struct guest_plan *gp)
{
	/* before the balloon size: without a balloon device there is no
	 * size to read, and the guest is fixed all the same. Locked memory
	 * stays pinned on the host: what a balloon takes is not returned */
	if (g->backing.hugepages || g->backing.locked ||
	    !g->backing.has_balloon) {
		w->cls = GW_FIXED;
		gp->state = GPS_FIXED;
		if (g->backing.hugepages)
			policy_guest_why(gp, GW_WHY_HUGEPAGES,
			    "fixed size: hugepage backing");
		else if (g->backing.locked)
			policy_guest_why(gp, GW_WHY_LOCKED,
			    "fixed size: locked memory");
		else
			policy_guest_why(gp, GW_WHY_NO_BALLOON,
			    "fixed size: no balloon device");
		return true;
	}
	if (!MT_PRESENT(g->actual_kib) || g->actual_kib <= 0) {
		w->cls = GW_SKIP;
		gp->action = ACT_LEAVE_ALONE;
		gp->state = GPS_STALE;
		policy_guest_why(gp, GW_WHY_SIZE_UNKNOWN, "balloon size unknown");
		return true;
	}
	return false;
}

/* The guest's shares and its step this tick (larger when critical). */
static void
guest_shares_step(const struct policy_config *c,
    const struct guest_plan *gp, int64_t max_kib, bool crit,
    struct policy_gwork *w)
{
	w->shares = MT_PRESENT(gp->input.shares) ? gp->input.shares :
	    c->default_shares;
	w->shares = MAX(1, MIN(w->shares, 1000000));
	w->step_kib = MIN(policy_scale(max_kib,
	    crit ? c->critical_step_max_pmy : c->step_max_pmy, 10000),
	    crit ? c->critical_step_max_kib : c->step_max_kib);
	w->step_kib = MAX(w->step_kib, 1);
}

/* The samples between this tick and the last: what its shrinks returned,
 * its bursts (stats_ok: its stats are fresh), and what it touched since
 * its stats, into w and gp. */
static void
guest_samples(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t used, bool stats_ok, int64_t now_ms,
    struct policy_gwork *w, struct guest_plan *gp)
{
	/* a shrink asked and not yet shown by the balloon's size */
	bool in_flight = MT_PRESENT(h->last_target_kib) &&
	    MT_PRESENT(g->actual_kib) &&
	    g->actual_kib - h->last_target_kib >= YIELD_SAMPLE_MIN_KIB;

	if (MT_PRESENT(h->samp_ms) && now_ms > h->samp_ms) {
		sample_yield(c, g, h, used, now_ms, in_flight);
		if (stats_ok)
			sample_burst(c, g, h, used, now_ms);
	} else {
		yield_base(g, h, used, 0);
	}
	keep_sample(g, h, used, now_ms);
	w->unseen_kib = unseen_since_stats(g, h);
	gp->ballooned_kib = h->total_taken_kib;
	gp->returned_kib = h->total_back_kib;
	gp->yield_pmy = guest_yield_pmy(c, h, now_ms);
	gp->burst_kib = h->burst_kib;
	gp->unresident_kib = h->total_unres_kib;
	w->returns_nothing = guest_returns_nothing(c, h, gp->yield_pmy);
}

/* Resident idle memory: what the guest RAM resident holds beyond what the
 * guest uses. Without QEMU's own memory measured it is the RSS's, an
 * upper bound; what shrinks really return corrects it. Then what a
 * shrink gains. */
static void
guest_resident_idle(const struct guest_snapshot *g, int64_t used,
    struct policy_gwork *w, struct guest_plan *gp)
{
	if (MT_PRESENT(used) && MT_PRESENT(w->resident_kib))
		w->res_idle_kib = MAX(0, MIN(w->resident_kib, g->actual_kib) -
		    used);
	else
		w->res_idle_kib = MT_ABSENT;
	policy_guest_gain(w, g->actual_kib);
	gp->gain_kib = w->gain_kib;
}

/* A guest with fresh stats: its headroom, pressure and need into w and
 * gp. */
static void
guest_need(const struct policy_config *c, const struct guest_snapshot *g,
    struct policy_guest_hist *h, int64_t used, int64_t now_ms,
    struct policy_gwork *w, struct guest_plan *gp)
{
	int64_t headroom = guest_headroom(c, g, h, used, now_ms);

	guest_pressure(c, g, headroom, w);
	if (w->fpr) {
		policy_fpr_gain(w, g->actual_kib);
		gp->gain_kib = w->gain_kib;
	}
	gp->need_kib = w->need_kib;
	gp->headroom_kib = headroom;
	gp->burst_kib = h->burst_kib;
	gp->deflated_kib = w->deflated_kib;
	gp->unseen_kib = w->unseen_kib;
	gp->burst_demand_kib = w->burst_kib;
	gp->bursting = w->bursting;
	gp->pressured = w->pressured;
}

/* One guest for this tick, phase by phase: identity, history and bounds,
 * backing, samples, the balloon's progress (its class), resident idle
 * memory, then, with fresh stats, its need. Each phase may end the read
 * for a guest it cannot go on with. */
void
policy_guest_read(const struct policy_config *c,
    const struct guest_snapshot *g, struct policy_state *s, int64_t now_ms,
    enum host_pressure p, struct policy_gwork *w, struct guest_plan *gp)
{
	struct policy_guest_hist *h;
	int64_t used;
	bool stats_ok;
	size_t prev = w->hist;

	memset(w, 0, sizeof(*w));
	w->hist = POLICY_NO_HIST;
	w->node = -1;
	w->cls = GW_SKIP;
	w->need_kib = MT_ABSENT;
	w->resident_kib = MT_ABSENT;
	w->res_idle_kib = MT_ABSENT;
	w->fpr = g->backing.free_page_reporting;
	guest_plan_reset(gp, g);
	policy_guest_input(c, g, &gp->input, &gp->meta_cap);
	if (guest_left_alone(g, gp) ||
	    (h = guest_slot_bounds(c, g, s, now_ms, prev, w, gp)) == NULL)
		return;
	w->overhead_kib = policy_qemu_overhead_kib(c, g->max_kib);
	/* the guest RAM resident: the QEMU RSS less QEMU's own memory as
	 * measured; without that measure the RSS bounds it from above (the
	 * configured overhead is generous on purpose, for hard limits, and
	 * taken off would make every fully touched guest look partly not
	 * resident: policy.md) */
	w->resident_kib = policy_guest_ram_kib(g, &w->res_exact);
	w->cur_kib = g->actual_kib;
	if (guest_fixed(g, w, gp))
		return;
	guest_shares_step(c, gp, g->max_kib, p == PRESSURE_CRITICAL, w);

	/* what it uses, for the samples below and its need */
	stats_ok = g->stats == GUEST_STATS_OK && MT_PRESENT(g->usable_kib);
	used = stats_ok ? policy_guest_used_kib(g) : MT_ABSENT;
	if (stats_ok)
		h->stats_ok_ms = now_ms;
	guest_samples(c, g, h, used, stats_ok, now_ms, w, gp);
	w->cls = balloon_progress(c, g, h, now_ms, w, gp);
	if (MT_PRESENT(h->last_target_kib))
		w->cur_kib = h->last_target_kib;
	guest_resident_idle(g, used, w, gp);
	if (w->cls != GW_OK)
		return;
	if (!stats_ok) {
		w->cls = GW_STALE;
		gp->state = GPS_STALE;
		policy_guest_why(gp, g->stats == GUEST_STATS_OK ?
		    GW_WHY_STATS_INCOMPLETE : g->stats == GUEST_STATS_STALE ?
		    GW_WHY_STATS_STALE : GW_WHY_NO_STATS,
		    "%s: held at %lld MiB, never counted as idle",
		    g->stats == GUEST_STATS_OK ? "stats incomplete" :
		    g->stats == GUEST_STATS_STALE ? "stats stale" : "no stats",
		    MIB(w->cur_kib));
		return;
	}
	guest_need(c, g, h, used, now_ms, w, gp);
}
