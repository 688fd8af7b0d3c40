/* policy_ksm.c - KSM as a closed loop and THP weighed against it.
 *
 * ksmtuned turns KSM on when committed memory nears MemTotal and nudges
 * pages_to_scan by free memory alone; it never asks whether merging pays
 * or what ksmd costs. Here the scan rate follows the measured gain
 * (general_profit, or pages_sharing on older kernels) per minute, held
 * under a CPU budget; the kernel's own advisor takes the rate where
 * present; and a setting changed by someone else makes memtuned back off
 * instead of fighting. THP: khugepaged collapses what KSM splits, so under
 * overcommit khugepaged slows and defrag gets less eager; with plenty of
 * memory the host's own settings come back. */
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

/* where a short host starts ksmd before its cost is measured: 100 MiB
 * of pages a second, a few percent of a core on current hardware */
#define KSM_SHORT_START_PAGES_PER_S 25600
/* the sleep a short host's rate is expressed in: ksmd wakes often and
 * scans a little each time, as the kernel's own default does */
#define KSM_SHORT_SLEEP_MS 20

static int64_t
committed_pmy(const struct snapshot *snap)
{
	int64_t sum = 0;

	for (size_t i = 0; i < snap->nr_guests; i++) {
		const struct guest_snapshot *g = &snap->guests[i];

		if (g->id >= 0 && MT_PRESENT(g->max_kib) && g->max_kib > 0)
			sum += g->max_kib;
	}
	return policy_scale(sum, 10000, snap->host.mem.mem_total_kib);
}

/* What ksmd has to look through: the host RSS of the guests whose
 * memory is mergeable. ksmd skips pages never touched, so a full scan
 * of freshly booted guests is quick and proves nothing about the memory
 * they touch next. */
static int64_t
mergeable_rss_kib(const struct snapshot *snap)
{
	int64_t sum = 0;
	bool any = false;

	for (size_t i = 0; i < snap->nr_guests; i++) {
		const struct guest_snapshot *g = &snap->guests[i];
		int64_t r = MT_PRESENT(g->rss_kib) ? g->rss_kib : g->cg_anon_kib;

		if (g->id < 0 || g->backing.nosharepages ||
		    g->backing.hugepages || !MT_PRESENT(r))
			continue;
		sum += r;
		any = true;
	}
	return any ? sum : MT_ABSENT;
}

static int64_t
clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void
ksm_plan_reset(struct ksm_plan *kp)
{
	memset(kp, 0, sizeof(*kp));
	kp->run = kp->pages_to_scan = kp->sleep_millisecs = MT_ABSENT;
	kp->advisor_target_scan_time = kp->advisor_max_cpu = MT_ABSENT;
}

/* Did a KSM knob change since memtuned wrote it? */
static const char *
ksm_moved(const struct policy_state *s, const struct host_ksm *k,
    bool advisor, int64_t *have, int64_t *want)
{
	if (MT_PRESENT(k->run) && MT_PRESENT(s->ksm_applied_run) &&
	    k->run != s->ksm_applied_run) {
		*have = k->run;
		*want = s->ksm_applied_run;
		return "run";
	}
	/* the advisor moves pages_to_scan itself, and turning it on or off
	 * sets it too */
	if (advisor || s->ksm_applied_advisor)
		return NULL;
	if (MT_PRESENT(k->pages_to_scan) && MT_PRESENT(s->ksm_applied_pages) &&
	    k->pages_to_scan != s->ksm_applied_pages) {
		*have = k->pages_to_scan;
		*want = s->ksm_applied_pages;
		return "pages_to_scan";
	}
	if (MT_PRESENT(k->sleep_millisecs) &&
	    MT_PRESENT(s->ksm_applied_sleep) &&
	    k->sleep_millisecs != s->ksm_applied_sleep) {
		*have = k->sleep_millisecs;
		*want = s->ksm_applied_sleep;
		return "sleep_millisecs";
	}
	return NULL;
}

/* pages and sleep for a rate in pages per second, inside the limits */
static void
rate_to_knobs(const struct policy_config *c, int64_t rate, int64_t *pages,
    int64_t *sleep)
{
	int64_t sl = clamp64(KSM_SHORT_SLEEP_MS, c->ksm_sleep_min_ms,
	    c->ksm_sleep_max_ms);
	int64_t pg = rate * sl / 1000;

	if (pg > c->ksm_pages_max) {
		pg = c->ksm_pages_max;
		sl = clamp64(pg * 1000 / MAX(1, rate), c->ksm_sleep_min_ms,
		    c->ksm_sleep_max_ms);
	} else if (pg < c->ksm_pages_min) {
		pg = c->ksm_pages_min;
		sl = clamp64(pg * 1000 / MAX(1, rate), c->ksm_sleep_min_ms,
		    c->ksm_sleep_max_ms);
	}
	*pages = pg;
	*sleep = sl;
}

/* The rate, in pages a second, at which ksmd would use `pmil` of a core:
 * what a scanned page cost it since the last tick (pages_scanned, 6.7+,
 * over its CPU time) times the budget. Absent before the first tick's
 * measurement, on older kernels and while ksmd did not run; the cost per
 * page is written to *ns_page. */
static int64_t
budget_rate(const struct host_ksm *k, const struct policy_state *s,
    int64_t pmil, int64_t *ns_page)
{
	int64_t dscan, dcpu;

	if (!MT_PRESENT(k->pages_scanned) || !MT_PRESENT(s->ksm_prev_scanned) ||
	    !MT_PRESENT(k->ksmd_cpu_ms) || !MT_PRESENT(s->ksm_prev_cpu_ms))
		return MT_ABSENT;
	dscan = k->pages_scanned - s->ksm_prev_scanned;
	dcpu = k->ksmd_cpu_ms - s->ksm_prev_cpu_ms;
	if (dscan <= 0 || dcpu <= 0)
		return MT_ABSENT;
	*ns_page = dcpu * 1000000 / dscan;
	return MAX(1, pmil * dscan / dcpu);
}

/* The host is short: merge as fast as the CPU budget allows, whatever
 * the advisor would do (its scan-time target takes minutes for the
 * first passes). The rate is what a scanned page cost since the last
 * tick (pages_scanned, 6.7+) times the budget, or the last rate scaled
 * by budget over ksmd's measured CPU; after the probe, once merging no
 * longer pays (under a quarter of pay_min, until it reaches pay_min
 * again), a quarter of it. */
static void
short_rate(const struct policy_config *c, const struct host_ksm *k,
    struct policy_state *s, bool steady, bool probing, int64_t rate,
    int64_t *pages, int64_t *sleep, struct ksm_plan *kp)
{
	int64_t now = *pages * 1000 / MAX(1, *sleep), r, target, ns = 0;
	int64_t priced;
	bool pays;

	/* paying from pay_min up, no longer under a quarter of it: a gain
	 * near the line does not swing the rate fourfold every tick */
	if (probing || !steady)
		s->ksm_short_pays = true;
	else if (MT_PRESENT(rate))
		s->ksm_short_pays = s->ksm_short_pays ?
		    rate >= c->ksm_pay_min_kib_per_min / 4 :
		    rate >= c->ksm_pay_min_kib_per_min;
	pays = s->ksm_short_pays;

	target = pays ? c->ksm_cpu_max_pmil : MAX(1, c->ksm_cpu_max_pmil / 4);
	priced = budget_rate(k, s, target, &ns);
	if (steady && MT_PRESENT(priced)) {
		r = priced;
		policy_ksm_why(kp, KSM_WHY_SHORT_PRICED, "host short: ksmd at "
		    "%lld.%lld%% of a "
		    "core (%lld pages/s at %lld ns a page)%s",
		    (long long)target / 10, (long long)target % 10,
		    (long long)r, (long long)ns,
		    pays ? "" : ", merging no longer pays");
	} else if (steady && MT_PRESENT(k->ksmd_cpu_pmil) &&
	    k->ksmd_cpu_pmil > 0) {
		r = now * target / k->ksmd_cpu_pmil;
		policy_ksm_why(kp, KSM_WHY_SHORT_SCALED, "host short: ksmd "
		    "used %lld.%lld%% of a "
		    "core, aiming at %lld.%lld%%%s",
		    (long long)k->ksmd_cpu_pmil / 10,
		    (long long)k->ksmd_cpu_pmil % 10, (long long)target / 10,
		    (long long)target % 10,
		    pays ? "" : ", merging no longer pays");
	} else {
		r = MAX(now, KSM_SHORT_START_PAGES_PER_S);
		policy_ksm_why(kp, KSM_WHY_SHORT_START, "host short: ksmd "
		    "starts at %lld "
		    "pages/s, then follows its CPU budget", (long long)r);
	}
	/* one tick's measurement moves the rate at most fourfold */
	if (steady)
		r = clamp64(r, now / 4, now * 4);
	rate_to_knobs(c, MAX(1, r), pages, sleep);
}

/* KSM merges a page once it has seen it unchanged on two passes: until
 * ksmd has been twice through the guests' memory since KSM went on (or
 * since they touched much more), no gain or loss proves anything. */
static bool
ksm_probing(const struct policy_state *s, const struct host_ksm *k)
{
	return MT_PRESENT(s->ksm_on_full_scans) && MT_PRESENT(k->full_scans) &&
	    k->full_scans < s->ksm_on_full_scans + 2;
}

/* Another manager moved KSM, or memtuned still backs off from one: true,
 * with the reason in kp, when this tick leaves KSM alone. When the backoff
 * is over, memtuned starts again from what the host has now (*was_on
 * too). */
static bool
ksm_backoff(const struct policy_config *c, const struct host_ksm *k,
    struct policy_state *s, int64_t now_ms, bool advisor, bool *was_on,
    struct ksm_plan *kp)
{
	int64_t have = 0, want = 0;
	const char *moved;

	if (s->ksm_applied_valid &&
	    (moved = ksm_moved(s, k, advisor, &have, &want)) != NULL) {
		s->ksm_applied_valid = false;
		s->ksm_pending_valid = false;
		s->ksm_backoff_until_ms = now_ms + c->ksm_backoff_ms;
		kp->backoff = true;
		policy_ksm_why(kp, KSM_WHY_OUTSIDE_CHANGE, "%s changed to %lld "
		    "outside memtuned (set %lld): another manager; backing "
		    "off for %llds", moved, (long long)have, (long long)want,
		    (long long)c->ksm_backoff_ms / 1000);
		return true;
	}
	if (!MT_PRESENT(s->ksm_backoff_until_ms))
		return false;
	if (now_ms < s->ksm_backoff_until_ms) {
		kp->backoff = true;
		policy_ksm_why(kp, KSM_WHY_BACKING_OFF, "backing off "
		    "after an outside change: %llds left",
		    (long long)(s->ksm_backoff_until_ms - now_ms) / 1000);
		return true;
	}
	/* start again from whatever the host has now */
	s->ksm_backoff_until_ms = MT_ABSENT;
	s->ksm_on = MT_PRESENT(k->run) && k->run == 1;
	*was_on = s->ksm_on;
	s->ksm_pages = k->pages_to_scan;
	s->ksm_sleep_ms = k->sleep_millisecs;
	return false;
}

/* The gain per minute since the last tick, MT_ABSENT when not known yet;
 * the saving now is kept for the next tick. */
static int64_t
ksm_gain_rate(const struct host_ksm *k, struct policy_state *s,
    int64_t now_ms)
{
	int64_t profit = host_ksm_saved_kib(k), rate = MT_ABSENT;

	if (MT_PRESENT(profit) && MT_PRESENT(s->ksm_prev_profit_kib) &&
	    MT_PRESENT(s->ksm_prev_ms) && now_ms > s->ksm_prev_ms)
		rate = (profit - s->ksm_prev_profit_kib) * 60000 /
		    (now_ms - s->ksm_prev_ms);
	s->ksm_prev_profit_kib = profit;
	s->ksm_prev_ms = now_ms;
	return rate;
}

/* On and off, with a gap between start and stop; why says which. */
static void
ksm_switch(const struct policy_config *c, const struct host_ksm *k,
    struct policy_state *s, enum host_pressure p, int64_t cpct, int64_t rss,
    struct ksm_plan *kp)
{
	if (!s->ksm_on && (cpct >= c->ksm_start_committed_pmy ||
	    p >= PRESSURE_TIGHT)) {
		s->ksm_on = true;
		/* whether merging pays is known only once ksmd has been
		 * through the guests' memory: probe until then */
		s->ksm_on_full_scans = k->full_scans;
		s->ksm_probe_rss_kib = rss;
		s->ksm_probe_grew_kib = 0;
		policy_ksm_why(kp, KSM_WHY_SWITCHED_ON, "on: guests commit "
		    "%lld%% of "
		    "MemTotal, host %s", (long long)cpct / 100,
		    policy_pressure_name(p));
	} else if (s->ksm_on && cpct < c->ksm_stop_committed_pmy &&
	    p == PRESSURE_PLENTY) {
		s->ksm_on = false;
		s->ksm_on_full_scans = MT_ABSENT;
		s->ksm_probe_rss_kib = MT_ABSENT;
		policy_ksm_why(kp, KSM_WHY_SWITCHED_OFF, "off: guests commit "
		    "%lld%% of MemTotal (< %lld%%), host plenty",
		    (long long)cpct / 100,
		    (long long)c->ksm_stop_committed_pmy / 100);
	}
}

/* Guests touching new memory (a boot, a login storm) give ksmd pages it
 * has not seen twice: what the last passes showed says nothing about
 * them, so probe again from here. */
static void
ksm_reprobe(const struct policy_config *c, const struct host_ksm *k,
    struct policy_state *s, int64_t rss)
{
	int64_t from = s->ksm_probe_rss_kib;

	if (!MT_PRESENT(rss) || !MT_PRESENT(k->full_scans))
		return;
	if (!MT_PRESENT(from) || rss < from) {
		s->ksm_probe_rss_kib = rss;
	} else if (rss - from > MAX(c->ksm_pay_min_kib_per_min, from / 20)) {
		s->ksm_probe_grew_kib = rss - from;
		s->ksm_probe_rss_kib = rss;
		s->ksm_on_full_scans = k->full_scans;
	}
}

/* The rate this tick starts from: memtuned's last, else the host's. */
static void
ksm_start_knobs(const struct policy_config *c, const struct snapshot *snap,
    const struct policy_state *s, int64_t *pages, int64_t *sleep)
{
	const struct host_ksm *k = &snap->host.ksm;

	*pages = MT_PRESENT(s->ksm_pages) ? s->ksm_pages :
	    MT_PRESENT(k->pages_to_scan) ? k->pages_to_scan : 100;
	*pages = clamp64(*pages, c->ksm_pages_min, c->ksm_pages_max);
	/* ksmtuned's start: 10 ms on a 16 GiB host, longer on smaller */
	*sleep = MT_PRESENT(s->ksm_sleep_ms) ? s->ksm_sleep_ms :
	    10 * (16LL * 1024 * 1024) / snap->host.mem.mem_total_kib;
	*sleep = clamp64(*sleep, c->ksm_sleep_min_ms, c->ksm_sleep_max_ms);
}

/* The kernel's advisor sets the rate: the plan writes its mode, CPU cap
 * and scan time where they differ. */
static void
ksm_advisor_plan(const struct policy_config *c, const struct host_ksm *k,
    struct ksm_plan *kp)
{
	if (strcmp(k->advisor_mode, "scan-time") != 0) {
		mt_strlcpy(kp->advisor_mode, "scan-time",
		    sizeof(kp->advisor_mode));
		kp->change = true;
	}
	if (k->advisor_max_cpu != MAX(1, c->ksm_cpu_max_pmil / 10)) {
		kp->advisor_max_cpu = MAX(1, c->ksm_cpu_max_pmil / 10);
		kp->change = true;
	}
	if (k->advisor_target_scan_time != c->ksm_advisor_scan_time_s) {
		kp->advisor_target_scan_time = c->ksm_advisor_scan_time_s;
		kp->change = true;
	}
	if (kp->reason[0] == '\0')
		policy_ksm_why(kp, KSM_WHY_ADVISOR, "kernel advisor sets the "
		    "rate (scan-time %llds, CPU <= %lld%%)",
		    (long long)c->ksm_advisor_scan_time_s,
		    (long long)MAX(1, c->ksm_cpu_max_pmil / 10));
}

/* While probing, no gain (or a loss, as guests write over merged pages)
 * proves anything: speed up within the CPU budget instead of judging. */
static void
ksm_probe_step(const struct policy_config *c, const struct host_ksm *k,
    const struct policy_state *s, int64_t *pages, int64_t *sleep,
    struct ksm_plan *kp)
{
	int64_t cpu = k->ksmd_cpu_pmil;
	char since[64];

	if (s->ksm_probe_grew_kib > 0)
		snprintf(since, sizeof(since), "since guests touched %lld "
		    "MiB more", MIB(s->ksm_probe_grew_kib));
	else
		snprintf(since, sizeof(since), "since on");
	if (!MT_PRESENT(cpu) || cpu * 3 / 2 <= c->ksm_cpu_max_pmil) {
		*pages = MIN(c->ksm_pages_max, *pages * 3 / 2 + 1);
		*sleep = MAX(c->ksm_sleep_min_ms, *sleep * 2 / 3);
		policy_ksm_why(kp, KSM_WHY_PROBING_FASTER, "probing: %lld of 2 "
		    "full scans %s: faster",
		    (long long)(k->full_scans - s->ksm_on_full_scans), since);
	} else {
		policy_ksm_why(kp, KSM_WHY_PROBING_HELD, "probing: %lld of 2 "
		    "full scans %s: holding, ksmd at %lld.%lld%% of a core "
		    "nears its budget",
		    (long long)(k->full_scans - s->ksm_on_full_scans), since,
		    (long long)cpu / 10, (long long)cpu % 10);
	}
}

/* memtuned's own step of the rate, KSM having been on since the last
 * tick: slower over the CPU budget, the probe, faster while merging pays,
 * slower once it stops paying, else held. */
static void
ksm_own_step(const struct policy_config *c, const struct host_ksm *k,
    const struct policy_state *s, int64_t rate, int64_t *pages,
    int64_t *sleep, struct ksm_plan *kp)
{
	int64_t cpu = k->ksmd_cpu_pmil;

	if (MT_PRESENT(cpu) && cpu > c->ksm_cpu_max_pmil) {
		*pages = MAX(c->ksm_pages_min, *pages * 2 / 3);
		*sleep = MIN(c->ksm_sleep_max_ms, *sleep * 3 / 2 + 1);
		policy_ksm_why(kp, KSM_WHY_OVER_BUDGET, "ksmd used "
		    "%lld.%lld%% of a core, budget %lld.%lld%%: slower",
		    (long long)cpu / 10, (long long)cpu % 10,
		    (long long)c->ksm_cpu_max_pmil / 10,
		    (long long)c->ksm_cpu_max_pmil % 10);
	} else if (ksm_probing(s, k)) {
		ksm_probe_step(c, k, s, pages, sleep, kp);
	} else if (MT_PRESENT(rate) && rate >= c->ksm_pay_min_kib_per_min &&
	    (!MT_PRESENT(cpu) || cpu * 3 / 2 <= c->ksm_cpu_max_pmil)) {
		*pages = MIN(c->ksm_pages_max, *pages * 3 / 2 + 1);
		*sleep = MAX(c->ksm_sleep_min_ms, *sleep * 2 / 3);
		policy_ksm_why(kp, KSM_WHY_PAYS, "merging pays %lld MiB/min "
		    "(%s): faster", MIB(rate),
		    MT_PRESENT(k->general_profit) ? "general_profit" :
		    "pages_sharing");
	} else if (MT_PRESENT(rate) && rate < c->ksm_pay_min_kib_per_min / 4) {
		*pages = MAX(c->ksm_pages_min, *pages * 3 / 4);
		*sleep = MIN(c->ksm_sleep_max_ms, *sleep * 4 / 3 + 1);
		policy_ksm_why(kp, KSM_WHY_STOPPED_PAYING, "merging stopped "
		    "paying (%lld MiB/min < %lld): slower", MIB(rate),
		    MIB(c->ksm_pay_min_kib_per_min / 4));
	} else {
		policy_ksm_why(kp, KSM_WHY_HOLDING, "holding: gain %s%lld "
		    "MiB/min", MT_PRESENT(rate) ? "" : "unknown ",
		    MT_PRESENT(rate) ? MIB(rate) : 0LL);
	}
}

/* Whatever the step chose, never faster than the budget priced at what a
 * page cost ksmd since the last tick: a page it merges costs several
 * times one it only compares, so the CPU a rate takes jumps when merging
 * starts, and a step judged on last tick's CPU alone overshoots the
 * budget for ticks on end. */
static void
ksm_budget_cap(const struct policy_config *c, const struct host_ksm *k,
    const struct policy_state *s, int64_t *pages, int64_t *sleep,
    struct ksm_plan *kp)
{
	int64_t ns = 0, cap = budget_rate(k, s, c->ksm_cpu_max_pmil, &ns);

	if (MT_PRESENT(cap) && *pages * 1000 / MAX(1, *sleep) > cap) {
		rate_to_knobs(c, cap, pages, sleep);
		policy_ksm_why(kp, KSM_WHY_BUDGET_CAP, "held to %lld pages/s, "
		    "the budget at %lld ns a page", (long long)cap,
		    (long long)ns);
	}
}

/* The knobs to write where the host differs from what was decided. */
static void
ksm_write_plan(const struct host_ksm *k, bool on, bool advisor,
    int64_t pages, int64_t sleep, struct ksm_plan *kp)
{
	if (!MT_PRESENT(k->run) || k->run != (on ? 1 : 0)) {
		kp->run = on ? 1 : 0;
		kp->change = true;
	}
	/* the kernel takes pages_to_scan only with its advisor off */
	if (on && !advisor && strcmp(k->advisor_mode, "none") != 0 &&
	    k->advisor_mode[0] != '\0') {
		mt_strlcpy(kp->advisor_mode, "none", sizeof(kp->advisor_mode));
		kp->change = true;
	}
	if (on && !advisor) {
		if (k->pages_to_scan != pages) {
			kp->pages_to_scan = pages;
			kp->change = true;
		}
		if (k->sleep_millisecs != sleep) {
			kp->sleep_millisecs = sleep;
			kp->change = true;
		}
	}
}

/* What the loop keeps for the next tick, and the settings expected back
 * once the plan is applied (policy_note_applied). */
static void
ksm_remember(const struct host_ksm *k, struct policy_state *s,
    bool short_host, bool advisor, int64_t pages, int64_t sleep)
{
	s->ksm_pages = pages;
	s->ksm_sleep_ms = sleep;
	s->ksm_short = s->ksm_on && short_host;
	s->ksm_prev_scanned = k->pages_scanned;
	s->ksm_prev_cpu_ms = k->ksmd_cpu_ms;
	s->ksm_pending_valid = true;
	s->ksm_pending_advisor = s->ksm_on && advisor;
	s->ksm_pending_run = s->ksm_on ? 1 : 0;
	s->ksm_pending_pages = s->ksm_on && !advisor ? pages : k->pages_to_scan;
	s->ksm_pending_sleep = s->ksm_on && !advisor ? sleep :
	    k->sleep_millisecs;
}

/* One tick of KSM: backoff after an outside change, the gain, on/off,
 * the probe, then the rate (short host, advisor, or memtuned's own
 * steps), the budget's cap, and the plan. */
void
policy_ksm_decide(const struct policy_config *c,
    const struct snapshot *snap, struct policy_state *s, int64_t now_ms,
    struct policy_plan *plan)
{
	const struct host_ksm *k = &snap->host.ksm;
	struct ksm_plan *kp = &plan->ksm;
	int64_t cpct = committed_pmy(snap), rss = mergeable_rss_kib(snap);
	int64_t rate, pages, sleep;
	bool advisor, was_on = s->ksm_on, short_host, was_short = s->ksm_short;

	ksm_plan_reset(kp);
	if (!c->ksm_manage) {
		policy_ksm_why(kp, KSM_WHY_NOT_MANAGED,
		    "not managed ([ksm] manage = no)");
		return;
	}
	if (!k->present) {
		policy_ksm_why(kp, KSM_WHY_NOT_IN_KERNEL,
		    "KSM not in this kernel");
		return;
	}
	/* the advisor aims at a full scan in minutes: right for a calm
	 * host, far too slow for a short one */
	short_host = plan->pressure >= PRESSURE_TIGHT;
	advisor = c->ksm_use_advisor && k->advisor_mode[0] != '\0' &&
	    !short_host;
	if (ksm_backoff(c, k, s, now_ms, advisor, &was_on, kp))
		return;
	rate = ksm_gain_rate(k, s, now_ms);
	ksm_switch(c, k, s, plan->pressure, cpct, rss, kp);
	if (s->ksm_on && was_on)
		ksm_reprobe(c, k, s, rss);
	/* nor for the probe: the advisor, freshly in charge, prices its
	 * first scan with all of ksmd's CPU since boot and falls to a few
	 * pages a wake-up (a login storm on a calm host merged nothing in
	 * 74 s that way); memtuned's own rate, within the same budget,
	 * takes ksmd through the new pages, and the advisor keeps the pace
	 * once they are seen */
	if (advisor && s->ksm_on && ksm_probing(s, k))
		advisor = false;
	ksm_start_knobs(c, snap, s, &pages, &sleep);
	if (s->ksm_on && short_host)
		short_rate(c, k, s, was_on && was_short, ksm_probing(s, k),
		    rate, &pages, &sleep, kp);
	else if (s->ksm_on && advisor)
		ksm_advisor_plan(c, k, kp);
	else if (s->ksm_on && was_on)
		ksm_own_step(c, k, s, rate, &pages, &sleep, kp);
	if (s->ksm_on && was_on && !short_host && !advisor)
		ksm_budget_cap(c, k, s, &pages, &sleep, kp);
	if (!s->ksm_on && kp->reason[0] == '\0')
		policy_ksm_why(kp, KSM_WHY_OFF, "off: guests commit %lld%% of "
		    "MemTotal, host %s", (long long)cpct / 100,
		    policy_pressure_name(plan->pressure));
	ksm_write_plan(k, s->ksm_on, advisor, pages, sleep, kp);
	ksm_remember(k, s, short_host, advisor, pages, sleep);
}

void
policy_thp_decide(const struct policy_config *c,
    const struct snapshot *snap, struct policy_state *s,
    struct policy_plan *plan)
{
	const struct host_thp *t = &snap->host.thp;
	struct thp_plan *tp = &plan->thp;
	int64_t cpct = committed_pmy(snap);
	int64_t sleep, pages, ptes;
	const char *defrag;

	memset(tp, 0, sizeof(*tp));
	tp->khugepaged_scan_sleep_millisecs = MT_ABSENT;
	tp->khugepaged_pages_to_scan = MT_ABSENT;
	tp->khugepaged_max_ptes_none = MT_ABSENT;
	if (!c->thp_manage || !t->present) {
		if (!c->thp_manage)
			policy_thp_why(tp, THP_WHY_NOT_MANAGED,
			    "not managed ([thp] manage = no)");
		else
			policy_thp_why(tp, THP_WHY_NOT_IN_KERNEL,
			    "THP not in this kernel");
		return;
	}
	if (!s->thp_baseline_valid && !s->thp_pressured) {
		/* what the host runs with before memtuned touches it */
		mt_strlcpy(s->thp_base_defrag, t->defrag,
		    sizeof(s->thp_base_defrag));
		s->thp_base_scan_sleep_ms = t->khugepaged_scan_sleep_millisecs;
		s->thp_base_pages_to_scan = t->khugepaged_pages_to_scan;
		s->thp_base_max_ptes_none = t->khugepaged_max_ptes_none;
		s->thp_baseline_valid = true;
	}
	if (!s->thp_pressured && s->ksm_on &&
	    (plan->pressure >= PRESSURE_TIGHT || cpct >= 10000))
		s->thp_pressured = true;
	else if (s->thp_pressured && (!s->ksm_on ||
	    plan->pressure == PRESSURE_PLENTY))
		s->thp_pressured = false;

	if (s->thp_pressured) {
		defrag = c->thp_pressure_defrag;
		sleep = MT_PRESENT(s->thp_base_scan_sleep_ms) ?
		    MAX(s->thp_base_scan_sleep_ms, c->thp_pressure_scan_sleep_ms) :
		    MT_ABSENT;
		pages = MT_PRESENT(s->thp_base_pages_to_scan) ?
		    MIN(s->thp_base_pages_to_scan,
		    c->thp_pressure_pages_to_scan) : MT_ABSENT;
		ptes = MT_PRESENT(s->thp_base_max_ptes_none) ?
		    MIN(s->thp_base_max_ptes_none,
		    c->thp_pressure_max_ptes_none) : MT_ABSENT;
		policy_thp_why(tp, THP_WHY_OVERCOMMIT, "overcommit (KSM on, "
		    "guests commit %lld%%, host %s): prefer merging, slower "
		    "khugepaged, defrag %s", (long long)cpct / 100,
		    policy_pressure_name(plan->pressure), defrag);
	} else {
		defrag = s->thp_base_defrag;
		sleep = s->thp_base_scan_sleep_ms;
		pages = s->thp_base_pages_to_scan;
		ptes = s->thp_base_max_ptes_none;
		policy_thp_why(tp, s->ksm_on ? THP_WHY_PLENTIFUL :
		    THP_WHY_KSM_OFF, "%s: prefer huge "
		    "pages, host's own THP settings",
		    s->ksm_on ? "memory plentiful" : "KSM off");
	}
	if (defrag[0] != '\0' && t->defrag[0] != '\0' &&
	    strcmp(defrag, t->defrag) != 0) {
		mt_strlcpy(tp->defrag, defrag, sizeof(tp->defrag));
		tp->change = true;
	}
	if (MT_PRESENT(sleep) && sleep != t->khugepaged_scan_sleep_millisecs) {
		tp->khugepaged_scan_sleep_millisecs = sleep;
		tp->change = true;
	}
	if (MT_PRESENT(pages) && pages != t->khugepaged_pages_to_scan) {
		tp->khugepaged_pages_to_scan = pages;
		tp->change = true;
	}
	if (MT_PRESENT(ptes) && ptes != t->khugepaged_max_ptes_none) {
		tp->khugepaged_max_ptes_none = ptes;
		tp->change = true;
	}
}
