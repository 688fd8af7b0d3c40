/* model.c - the host and guest physics, one tick at a time, and the search
 * for the largest VM count a policy carries safely.
 *
 * Per tick: working sets follow the workload; the controller acts when its
 * interval is due; balloons move toward their targets at a bounded rate
 * (uncooperative ones never move) and give the host back the resident
 * share of what they take (mem.c); each guest touches and frees memory
 * as its load does and fills free memory with page cache; a guest whose
 * load asks more than its balloon leaves starves, and its OOM killer
 * takes what its scheduled steps allocated; KSM merges what is alike at
 * the speed its knobs allow (ksm.c); the host adds it up and swaps when
 * free memory falls under its watermark. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define DAY_S (24 * 3600)
#define TIMELINE_STEP_S 300
/* a guest with less than this share of its max free (cache + MemFree) is
 * short: it reclaims its own cache or is about to swap */
#define SHORT_FREE_PMY 500
#define BURST_RAMP_S 60.0

uint64_t
sim_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
sim_hash01(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t s = seed ^ (a * 0x9e3779b97f4a7c15ULL) ^
	    (b * 0xc2b2ae3d27d4eb4fULL) ^ (c * 0x165667b19e3779f9ULL);

	return (double)(sim_rand_next(&s) >> 11) / 9007199254740992.0;
}

const char *
sim_policy_name(enum sim_policy p)
{
	static const char *names[SIM_NR_POLICIES] = {
		"static", "ksmtuned", "mom", "proxmox", "memtuned-noreserve",
		"memtuned", "oracle",
	};

	return p < SIM_NR_POLICIES ? names[p] : "?";
}

int
sim_policy_parse(const char *s, enum sim_policy *p)
{
	for (int i = 0; i < SIM_NR_POLICIES; i++) {
		if (strcmp(s, sim_policy_name((enum sim_policy)i)) == 0) {
			*p = (enum sim_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

void
sim_set_target(struct sim_host *h, size_t i, int64_t kib)
{
	struct sim_guest *g = &h->g[i];

	kib = MAX(kib, 64 * 1024);
	kib = MIN(kib, g->max_kib);
	if (kib != g->target_kib)
		h->balloon_ops++;
	g->target_kib = kib;
}

/* the profile's working set at a second of the day, per-myriad */
static double
profile_pmy(const struct sim_class *c, int64_t t)
{
	int64_t m = ((t % DAY_S) + DAY_S) % DAY_S;
	double minute = (double)m / 60.0;
	const struct sim_point *a, *b;
	double span, x;

	if (c->nr_pts == 0)
		return 0;	/* the load comes from steps only */
	if (c->nr_pts == 1)
		return (double)c->pts[0].ws_pmy;
	for (size_t i = 0; i < c->nr_pts; i++) {
		if ((double)c->pts[i].minute > minute) {
			if (i == 0) {
				/* before the first point: from the last one
				 * of the previous day */
				a = &c->pts[c->nr_pts - 1];
				b = &c->pts[0];
				span = (double)(b->minute + 1440 - a->minute);
				x = (minute + 1440 - (double)a->minute) / span;
			} else {
				a = &c->pts[i - 1];
				b = &c->pts[i];
				span = (double)(b->minute - a->minute);
				x = (minute - (double)a->minute) / span;
			}
			return (double)a->ws_pmy + x *
			    (double)(b->ws_pmy - a->ws_pmy);
		}
	}
	a = &c->pts[c->nr_pts - 1];
	b = &c->pts[0];
	span = (double)(b->minute + 1440 - a->minute);
	x = (minute - (double)a->minute) / span;
	return (double)a->ws_pmy + x * (double)(b->ws_pmy - a->ws_pmy);
}

static double
burst_pmy(const struct sim_class *c, const struct sim_guest *g, int64_t t)
{
	double sum = 0;

	for (size_t k = 0; k < c->nr_bursts; k++) {
		const struct sim_burst *b = &c->bursts[k];
		int64_t period = (t + g->shift_s + 10 * DAY_S) / b->period_s;
		int64_t in = (t + g->shift_s + 10 * DAY_S) % b->period_s;
		double start;

		if (sim_hash01(g->seed, k, (uint64_t)period, 1) * 10000.0 >=
		    (double)b->prob_pmy)
			continue;
		start = sim_hash01(g->seed, k, (uint64_t)period, 2) *
		    (double)(b->period_s - b->len_s);
		/* a build ramps up as its jobs start: over BURST_RAMP_S */
		if ((double)in >= start && (double)in < start + (double)b->len_s)
			sum += (double)b->ws_pmy * MIN(1.0, ((double)in - start) /
			    BURST_RAMP_S);
	}
	return sum;
}

/* the load's demand from the profile and builds (steps come on top, in
 * guest_tick) */
static void
guest_ws(const struct sim_workload *w, struct sim_guest *g, int64_t t,
    uint64_t *rng)
{
	const struct sim_class *c = &w->classes[g->cls];
	double pmy = profile_pmy(c, t + g->shift_s) * g->jitter +
	    burst_pmy(c, g, t);

	if (c->noise_pmy > 0) {
		double step = ((double)(sim_rand_next(rng) >> 11) /
		    9007199254740992.0 - 0.5) * (double)c->noise_pmy / 10000.0;

		/* a random walk pulled back to the profile */
		g->noise = g->noise * 0.98 + step;
	}
	g->profile_kib = pmy / 10000.0 * (double)g->max_kib;
	g->demand_kib = MAX(0, (pmy / 10000.0 + g->noise) *
	    (double)g->max_kib);
}

static int
setup_guests(const struct sim_workload *w, int64_t vms, struct sim_host *h)
{
	int64_t count[SIM_MAX_CLASSES] = { 0 }, wsum = 0;
	uint64_t rng = w->seed;

	if ((h->g = calloc((size_t)vms, sizeof(*h->g))) == NULL)
		return -ENOMEM;
	h->n = (size_t)vms;
	for (size_t k = 0; k < w->nr_classes; k++)
		wsum += w->classes[k].weight;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];
		const struct sim_class *c;
		double best = -1e18;
		int cls = 0;

		/* classes interleave by weight: the one furthest behind its
		 * share takes the next VM */
		for (size_t k = 0; k < w->nr_classes; k++) {
			double behind = (double)w->classes[k].weight *
			    (double)(i + 1) / (double)wsum - (double)count[k];

			if (behind > best) {
				best = behind;
				cls = (int)k;
			}
		}
		count[cls]++;
		c = &w->classes[cls];
		g->cls = cls;
		g->cls_idx = count[cls];
		g->seed = sim_rand_next(&rng);
		g->uncoop = sim_hash01(g->seed, 7, 7, 7) * 10000.0 <
		    (double)c->uncoop_pmy;
		g->jitter = 1.0 + (sim_hash01(g->seed, 1, 2, 3) * 2 - 1) *
		    (double)c->jitter_pmy / 10000.0;
		g->shift_s = (int64_t)((sim_hash01(g->seed, 3, 2, 1) * 2 - 1) *
		    (double)c->spread_s);
		g->max_kib = c->vm_kib;
		g->m.actual_kib = (double)g->max_kib;
		g->shadow.actual_kib = (double)g->max_kib;
		g->target_kib = g->max_kib;
		g->hard_limit_kib = g->soft_limit_kib = MT_ABSENT;
		g->last_oom_s = -1;
		/* VMs start one after another, as an operator or an
		 * orchestrator brings a host up */
		g->boot_s = (int64_t)i * w->boot_spread_s / vms;
	}
	return 0;
}

/* the page cache a guest settles at, and its growth toward it */
static double
cache_step(const struct sim_workload *w, const struct sim_class *c,
    double cache, double room, double dt)
{
	double want = room * (double)c->cache_pmy / 10000.0;

	if (want <= cache)
		return want < 0 ? 0 : want;
	return MIN(want, cache + (double)w->cache_fill_kib_per_s * dt);
}

/* A booting guest touches boot_touch of its memory (Windows zeroes
 * much of it, Linux its early allocations): resident and free. */
static void
mem_boot(const struct sim_workload *w, const struct sim_class *c,
    struct sim_mem *m)
{
	double touched = (double)c->boot_touch_pmy / 10000.0 * m->actual_kib;

	m->ws_kib = m->cache_kib = m->freed_kib = m->freed_alike_kib = 0;
	m->idle_kib = MAX(0, MIN(sim_mem_free_kib(w, m), touched -
	    (double)(w->guest_reserve_kib + w->guest_kernel_kib)));
	/* zeroed or never written: alike in every guest */
	m->idle_alike_kib = m->idle_kib * (double)c->dup_idle_pmy / 10000.0;
}

/* the guest holds what its load asks for, as far as room allows, of it
 * alike_pmy alike in other guests; returns the pages newly touched */
static double
mem_hold(const struct sim_workload *w, const struct sim_class *c,
    struct sim_mem *m, double want, double alike_pmy)
{
	double before = m->ws_kib;

	if (want > m->ws_kib)
		sim_mem_touch(w, m, want - m->ws_kib, false, c->dup_idle_pmy);
	else
		sim_mem_release(m, m->ws_kib - want, false, alike_pmy);
	return MAX(0, m->ws_kib - before);
}

static void
mem_cache(const struct sim_workload *w, const struct sim_class *c,
    struct sim_mem *m, double room, double dt)
{
	double want = cache_step(w, c, m->cache_kib, room, dt);

	if (want > m->cache_kib)
		sim_mem_touch(w, m, want - m->cache_kib, true, c->dup_idle_pmy);
	else
		sim_mem_release(m, m->cache_kib - want, true,
		    (double)c->dup_pmy);
}

/* the next step due by now in this guest, applied; false when none */
static bool
apply_step(const struct sim_class *c, struct sim_guest *g, int64_t now_s)
{
	while (g->next_step < c->nr_steps &&
	    c->steps[g->next_step].at_s <= now_s) {
		const struct sim_step *st = &c->steps[g->next_step++];
		double kib = (double)st->kib;

		if (st->vm != 0 && st->vm != g->cls_idx)
			continue;
		if (st->op == SIM_STEP_ALLOC) {
			g->step_kib += kib;
			g->step_alike_kib += kib * (double)(MT_PRESENT(
			    st->dup_pmy) ? st->dup_pmy : c->dup_pmy) / 10000.0;
		} else {
			/* the workload frees its newest memory first;
			 * taken here in proportion */
			kib = MIN(kib, g->step_kib);
			if (g->step_kib > 0)
				g->step_alike_kib -= g->step_alike_kib * kib /
				    g->step_kib;
			g->step_kib -= kib;
		}
		return true;
	}
	return false;
}

/* What of a working set of ws is alike in other guests: the profile and
 * builds at the class's dup, the steps at theirs; the random walk is the
 * load churning through buffers of its own, alike to nothing, and when it
 * dips it frees of those. */
static double
alike_pmy(const struct sim_class *c, const struct sim_guest *g, double ws)
{
	double a = (double)c->dup_pmy / 10000.0 * g->profile_kib +
	    g->step_alike_kib;

	if (ws <= 0)
		return (double)c->dup_pmy;
	return 10000.0 * MIN(1.0, a / ws);
}

/* The guest holds target of its working set. What it frees carries
 * what the alike share of the working set lost: churn through buffers of
 * its own frees nothing another guest has, a workload that ends frees
 * its alike pages too. Returns the pages newly touched. */
static double
hold_to(const struct sim_workload *w, struct sim_guest *g, struct sim_mem *m,
    double target, double *alike_pmy_now)
{
	const struct sim_class *c = &w->classes[g->cls];
	double a0 = *alike_pmy_now / 10000.0 * m->ws_kib;
	double r1 = alike_pmy(c, g, target), share = 0;

	if (target < m->ws_kib) {
		double freed = m->ws_kib - target;

		share = MAX(0, MIN(1.0, (a0 - r1 / 10000.0 * target) / freed));
	}
	*alike_pmy_now = r1;
	return mem_hold(w, c, m, target, share * 10000.0);
}

/* The guest holds what its load asks for, as far as its balloon leaves
 * room. A step's allocation that does not fit gets as far as the room,
 * then the guest's OOM killer takes the workload: what it held is freed
 * inside the guest and stays resident on the host, and its steps start
 * again from nothing (the testbed's loadgen restarts its worker empty). */
static void
settle(struct sim_host *h, struct sim_guest *g, struct sim_result *r,
    double *roomp)
{
	double room;
	const struct sim_workload *w = h->w;
	double lim = (double)(g->max_kib - w->guest_min_kib);
	double want = MIN(lim, g->demand_kib + g->step_kib);
	double shadow_pmy = g->ws_alike_pmy;

	/* a step that does not fit fills the guest at touch_rate: a
	 * controller watching may feed it before it is full (the room it
	 * gave stays for the rest of the tick) */
	if (g->demand_kib + g->step_kib > *roomp && g->step_kib > 0 &&
	    w->touch_kib_per_s > 0 && h->burst != NULL)
		*roomp += h->burst(h, (size_t)(g - h->g),
		    MAX(0, *roomp - g->demand_kib),
		    g->demand_kib + g->step_kib - *roomp, h->burst_arg);
	room = *roomp;
	/* steps ask what they ask, even beyond the guest's memory */
	if (g->demand_kib + g->step_kib > room && g->step_kib > 0) {
		g->minor_fault += (int64_t)(hold_to(w, g, &g->m, room,
		    &g->ws_alike_pmy) / 4);
		g->step_kib = g->step_alike_kib = 0;
		g->oom_kills++;
		g->last_oom_s = h->now_s;
		r->oom_kills++;
		want = MIN(lim, g->demand_kib);
	}
	g->minor_fault += (int64_t)(hold_to(w, g, &g->m, MIN(want, room),
	    &g->ws_alike_pmy) / 4);
	/* the same guest with no controller */
	hold_to(w, g, &g->shadow, want, &shadow_pmy);
}

/* One guest, one tick: boot, balloon, steps and load, OOM, cache. */
static void
guest_tick(struct sim_host *h, struct sim_guest *g, struct sim_result *r,
    double dt, bool oracle)
{
	const struct sim_workload *w = h->w;
	const struct sim_class *c = &w->classes[g->cls];
	double cap, room, want, lim = (double)(g->max_kib - w->guest_min_kib);
	double min = (double)w->guest_min_kib;

	if (!g->up) {
		g->up = true;
		mem_boot(w, c, &g->m);
		mem_boot(w, c, &g->shadow);
	}
	if (oracle) {
		while (apply_step(c, g, h->now_s))
			;
		/* the physical limit: exactly what is needed, at once */
		want = MIN(lim, g->demand_kib + g->step_kib);
		g->m.actual_kib = MIN((double)g->max_kib, want + min);
		g->m.ws_kib = want;
		g->m.cache_kib = g->m.idle_kib = g->m.freed_kib = 0;
		g->m.idle_alike_kib = g->m.freed_alike_kib = 0;
		g->ws_alike_pmy = alike_pmy(c, g, want);
		g->short_kib = 0;
		g->resident_kib = sim_mem_resident_kib(w, &g->m);
		g->static_resident_kib = g->resident_kib;
		return;
	}
	if (!g->uncoop) {
		double gap = (double)g->target_kib - g->m.actual_kib;
		double mv = (double)w->balloon_kib_per_s * dt;

		sim_mem_balloon(w, &g->m, g->m.actual_kib +
		    (gap > mv ? mv : gap < -mv ? -mv : gap));
	}
	cap = g->m.actual_kib;
	if (MT_PRESENT(g->hard_limit_kib))
		cap = MIN(cap, (double)(g->hard_limit_kib -
		    w->qemu_overhead_kib));
	room = MAX(0, cap - min);
	/* steps due together run one after another: touched, then freed */
	while (apply_step(c, g, h->now_s))
		settle(h, g, r, &room);
	settle(h, g, r, &room);
	want = MIN(lim, g->demand_kib + g->step_kib);
	g->short_kib = want + min - cap;
	if (g->short_kib > 0) {
		r->starve_guest_min += dt / 60.0;
		sim_mem_release(&g->m, g->m.cache_kib, true,
		    (double)c->dup_pmy);
		/* what does not fit refaults: pages per second */
		g->major_fault_per_s = (int64_t)(g->short_kib / 4 / 10);
		g->major_fault += (int64_t)((double)g->major_fault_per_s * dt);
	} else {
		mem_cache(w, c, &g->m, cap - min - g->m.ws_kib, dt);
		g->major_fault_per_s = 0;
	}
	g->resident_kib = sim_mem_resident_kib(w, &g->m);
	mem_cache(w, c, &g->shadow, (double)g->max_kib - min -
	    g->shadow.ws_kib, dt);
	g->static_resident_kib = sim_mem_resident_kib(w, &g->shadow);
}

struct run_acc {
	double used_sum, static_sum, limit_sum, saved_sum, cpu_sum;
	double ticks;
	double last_short_storm_s;
	bool storm_short_seen;
};

static void
host_step(struct sim_host *h, struct sim_result *r, struct run_acc *acc,
    double dt, bool oracle, FILE *timeline)
{
	const struct sim_workload *w = h->w;
	double guests = 0, static_guests = 0, need_floor = 0, over;
	double psi_in = 0;
	int64_t shorts = 0;

	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];
		const struct sim_class *c = &w->classes[g->cls];
		double need, avail;

		if (!g->up && h->now_s < g->boot_s)
			continue;
		guest_tick(h, g, r, dt, oracle);
		need = MIN((double)(g->max_kib - w->guest_min_kib),
		    g->demand_kib + g->step_kib) + (double)w->guest_min_kib;
		/* what the guest could use before it starts reclaiming or
		 * swapping: free memory and cache */
		avail = g->m.actual_kib - need;
		if (!oracle && (g->short_kib > 0 || avail <
		    (double)g->max_kib * SHORT_FREE_PMY / 10000.0))
			shorts++;
		guests += g->resident_kib + (double)w->qemu_overhead_kib;
		static_guests += g->static_resident_kib +
		    (double)w->qemu_overhead_kib;
		need_floor += MIN((double)g->max_kib, need) *
		    (1.0 - (double)c->dup_pmy / 10000.0) +
		    (double)w->qemu_overhead_kib;
	}

	sim_ksm_tick(h, dt, oracle);
	h->used_kib = (double)w->host_base_kib + guests - h->ksm_saved_kib;
	over = h->used_kib + h->watermark_kib - (double)w->host_kib;
	h->swapping_kib = over > 0 ? over : 0;
	if (over > 0) {
		r->host_swap_min += dt / 60.0;
		h->pswpout += over / 4;
		psi_in = 1;
	}
	h->cached_kib = MIN((double)w->host_cache_kib,
	    MAX(0, (double)w->host_kib - h->used_kib));
	h->free_kib = MAX(0, (double)w->host_kib - h->used_kib -
	    h->cached_kib);
	h->avail_kib = over > 0 ? 0 : h->free_kib + h->cached_kib;
	/* PSI: avg10 as an exponential average over 10 s */
	h->psi_some += (psi_in - h->psi_some) * MIN(1.0, dt / 10.0);
	h->psi_full += (psi_in / 2 - h->psi_full) * MIN(1.0, dt / 10.0);
	h->psi_some_us += psi_in * dt * 1e6;
	h->psi_full_us += psi_in / 2 * dt * 1e6;

	r->short_guest_min += (double)shorts * dt / 60.0;
	r->host_used_peak_kib = MAX(r->host_used_peak_kib, h->used_kib);
	acc->used_sum += h->used_kib;
	acc->static_sum += (double)w->host_base_kib + static_guests;
	acc->limit_sum += static_guests - need_floor;
	acc->saved_sum += h->ksm_saved_kib;
	acc->cpu_sum += h->ksm_cpu_pmil;
	acc->ticks += 1;
	if (w->storm_start_s >= 0 && h->now_s >= w->storm_start_s &&
	    h->now_s <= w->storm_end_s + 3600 && h->now_s < DAY_S &&
	    (shorts > 0 || over > 0)) {
		acc->last_short_storm_s = (double)(h->now_s -
		    w->storm_start_s);
		acc->storm_short_seen = true;
	}
	if (timeline != NULL && h->now_s % TIMELINE_STEP_S == 0)
		fprintf(timeline, "%.3f %.3f %.3f %.3f %lld\n",
		    (double)h->now_s / 3600.0, h->used_kib / 1048576.0,
		    ((double)w->host_base_kib + static_guests) / 1048576.0,
		    h->ksm_saved_kib / 1048576.0, (long long)shorts);
}

int
sim_run_observed(const struct sim_workload *w, enum sim_policy pol,
    int64_t vms, const struct policy_config *pc, struct sim_result *r,
    FILE *timeline, sim_observer observe, void *ctx)
{
	struct sim_host h;
	struct sim_ctl ctl;
	struct run_acc acc;
	uint64_t rng = w->seed ^ 0x5eedULL;
	double dt = (double)w->dt_s;
	int rc;

	memset(&h, 0, sizeof(h));
	memset(r, 0, sizeof(*r));
	memset(&acc, 0, sizeof(acc));
	r->vms = vms;
	h.w = w;
	/* Linux's high watermark is about 3 x min_free_kbytes, which is
	 * sqrt(16 x lowmem KiB) */
	h.watermark_kib = 3.0 * sqrt(16.0 * (double)w->host_kib);
	/* the kernel's defaults, KSM off */
	h.ksm_pages = 100;
	h.ksm_sleep_ms = 20;
	if (w->ksm_advisor) {
		mt_strlcpy(h.ksm_advisor, "none", sizeof(h.ksm_advisor));
		h.ksm_adv_scan_time_s = 200;
		h.ksm_adv_max_cpu = 70;
	}
	if ((rc = setup_guests(w, vms, &h)) < 0)
		return rc;
	if ((rc = sim_ctl_init(&ctl, pol, pc, h.n)) < 0)
		goto out;
	if (pol == SIM_MEMTUNED || pol == SIM_MEMTUNED_NORESERVE) {
		h.burst = sim_ctl_burst;
		h.burst_arg = &ctl;
	}
	for (h.now_s = 0; h.now_s < w->duration_s; h.now_s += w->dt_s) {
		for (size_t i = 0; i < h.n; i++)
			guest_ws(w, &h.g[i], h.now_s, &rng);
		if (h.now_s > 0)
			sim_ctl_tick(&ctl, &h);
		host_step(&h, r, &acc, dt, pol == SIM_ORACLE, timeline);
		if (observe != NULL)
			observe(&h, ctx);
	}
	r->balloon_ops = h.balloon_ops;
	r->policy_errors = ctl.errors;
	r->boot_held_s = ctl.held_s;
	if (acc.ticks > 0) {
		r->reclaimed_avg_kib = (acc.static_sum - acc.used_sum) /
		    acc.ticks;
		r->limit_avg_kib = acc.limit_sum / acc.ticks;
		r->ksm_saved_avg_kib = acc.saved_sum / acc.ticks;
		r->ksmd_cpu_avg_pmil = acc.cpu_sum / acc.ticks;
	}
	r->storm_recover_s = w->storm_start_s < 0 ? -1 :
	    acc.storm_short_seen ? acc.last_short_storm_s : 0;
	sim_ctl_free(&ctl);
out:
	free(h.g);
	return rc;
}

int
sim_run(const struct sim_workload *w, enum sim_policy pol, int64_t vms,
    const struct policy_config *pc, struct sim_result *r, FILE *timeline)
{
	return sim_run_observed(w, pol, vms, pc, r, timeline, NULL, NULL);
}

static bool
safe(const struct sim_result *r)
{
	return r->starve_guest_min == 0 && r->host_swap_min == 0 &&
	    r->policy_errors == 0;
}

int64_t
sim_search(const struct sim_workload *w, enum sim_policy pol,
    const struct policy_config *pc, struct sim_result *best)
{
	int64_t lo = w->vms_min, hi = w->vms_max, found = w->vms_min - 1;
	struct sim_result r;

	memset(best, 0, sizeof(*best));
	best->vms = found;
	/* safety falls as the count grows: binary search for the edge */
	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (sim_run(w, pol, mid, pc, &r, NULL) < 0)
			return -ENOMEM;
		if (safe(&r)) {
			found = mid;
			*best = r;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}
