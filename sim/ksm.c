/* ksm.c - ksmd as the model has it: what it scans, when it merges, what
 * it costs.
 *
 * ksmd walks the resident pages of the guests' RAM, pages_to_scan at a
 * time, sleeping sleep_millisecs between batches (or at the rate the
 * kernel's advisor picks). A page is checksummed on one pass, put in the
 * unstable tree on the next if unchanged, and merged there with a copy
 * found in the trees: pages that become mergeable at pass p0 are merged
 * between passes p0 + 1 and p0 + 2, evenly as the scan sweeps. A
 * scanned page costs ksm_page_cost, a merge ksm_merge_cost more (tree
 * searches, the split of the huge page around it); the kernel reaches
 * ksm_efficiency of the rate its knobs ask for. Merged pages go when the
 * mergeable memory goes (a balloon took it, the guest wrote over it).
 * The constants come from the testbed's runs (docs/simulator.md). */
#include <math.h>
#include <string.h>

#include "sim.h"
#include "util.h"

static double
cohort_done(const struct sim_ksm_cohort *c, double progress)
{
	double x = progress - c->p0 - 1.0;

	return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

double
sim_ksm_pool_merged(const struct sim_ksm_pool *p, double progress)
{
	double sum = 0;

	for (size_t i = 0; i < p->n; i++)
		sum += p->c[i].kib * cohort_done(&p->c[i], progress);
	return sum;
}

/* what merges during this pass: cohorts one to two passes old */
static double
pool_merging(const struct sim_ksm_pool *p, double progress)
{
	double sum = 0;

	for (size_t i = 0; i < p->n; i++) {
		double age = progress - p->c[i].p0;

		if (age >= 1.0 && age < 2.0)
			sum += p->c[i].kib;
	}
	return sum;
}

/* cohorts are kept per eighth of a pass: pages that came within one
 * share it, at their mean time */
#define COHORTS_PER_PASS 8.0

static void
cohort_add(struct sim_ksm_cohort *c, double kib, double p0)
{
	c->p0 = (c->p0 * c->kib + p0 * kib) / (c->kib + kib);
	c->kib += kib;
}

/* room for one more cohort: fold the fully merged ones into one, or
 * else the two oldest, at their mean time */
static void
pool_make_room(struct sim_ksm_pool *p, double progress)
{
	size_t keep = 0, done = SIZE_MAX;

	for (size_t i = 0; i < p->n; i++) {
		if (progress - p->c[i].p0 >= 2.0) {
			if (done == SIZE_MAX) {
				done = keep;
				p->c[keep++] = p->c[i];
			} else {
				p->c[done].kib += p->c[i].kib;
			}
		} else {
			p->c[keep++] = p->c[i];
		}
	}
	p->n = keep;
	if (p->n < SIM_KSM_COHORTS)
		return;
	cohort_add(&p->c[1], p->c[0].kib, p->c[0].p0);
	memmove(&p->c[0], &p->c[1], (p->n - 1) * sizeof(p->c[0]));
	p->n--;
}

void
sim_ksm_pool_set(struct sim_ksm_pool *p, double savable_kib, double progress)
{
	double d = savable_kib - p->savable_kib;

	if (savable_kib <= 0) {
		p->n = 0;
		p->savable_kib = 0;
		return;
	}
	if (d > 0) {
		struct sim_ksm_cohort *last = p->n > 0 ? &p->c[p->n - 1] : NULL;

		if (last != NULL && floor(last->p0 * COHORTS_PER_PASS) ==
		    floor(progress * COHORTS_PER_PASS)) {
			cohort_add(last, d, progress);
		} else {
			if (p->n == SIM_KSM_COHORTS)
				pool_make_room(p, progress);
			p->c[p->n].kib = d;
			p->c[p->n].p0 = progress;
			p->n++;
		}
	} else if (d < 0 && p->savable_kib > 0) {
		/* the memory went at random: merged or not alike */
		double f = savable_kib / p->savable_kib;

		for (size_t i = 0; i < p->n; i++)
			p->c[i].kib *= f;
	}
	p->savable_kib = savable_kib;
}

/* kib of a pool's pages move to another, merged as they were: a page
 * the guest freed keeps its content, and KSM its merge */
static void
pool_move(struct sim_ksm_pool *from, struct sim_ksm_pool *to, double kib,
    double progress)
{
	double f;

	kib = MIN(kib, from->savable_kib);
	if (kib <= 0)
		return;
	f = kib / from->savable_kib;
	for (size_t i = 0; i < from->n; i++) {
		double part = from->c[i].kib * f;
		size_t j;

		from->c[i].kib -= part;
		for (j = 0; j < to->n; j++)
			if (floor(to->c[j].p0 * COHORTS_PER_PASS) ==
			    floor(from->c[i].p0 * COHORTS_PER_PASS))
				break;
		if (j == to->n) {
			if (to->n == SIM_KSM_COHORTS)
				pool_make_room(to, progress);
			j = to->n++;
			to->c[j].kib = 0;
			to->c[j].p0 = from->c[i].p0;
		}
		cohort_add(&to->c[j], part, from->c[i].p0);
	}
	from->savable_kib -= kib;
	to->savable_kib += kib;
}

/* What is mergeable: n copies of a page save n - 1. dup of the guest's
 * kernel and cache, the alike share of its working set, and the alike
 * pages among those it has free (freed data, zeroed huge page tails). */
static void
savable(struct sim_host *h, double *used, double *idle, double *moved)
{
	const struct sim_workload *w = h->w;
	int64_t per_class[SIM_MAX_CLASSES] = { 0 };

	*used = *idle = *moved = 0;
	for (size_t i = 0; i < h->n; i++)
		if (h->g[i].up)
			per_class[h->g[i].cls]++;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];
		const struct sim_class *c = &w->classes[g->cls];
		double copies = (double)per_class[g->cls], f;

		g->sav_used_kib = g->sav_idle_kib = 0;
		if (!g->up || copies < 2) {
			g->m.released_alike_kib = 0;
			continue;
		}
		f = (copies - 1) / copies;
		g->sav_used_kib = f * ((double)c->dup_pmy / 10000.0 *
		    ((double)w->guest_kernel_kib + g->m.cache_kib) +
		    g->ws_alike_pmy / 10000.0 * g->m.ws_kib);
		g->sav_idle_kib = f * g->m.idle_alike_kib;
		*used += g->sav_used_kib;
		*idle += g->sav_idle_kib;
		*moved += f * g->m.released_alike_kib;
		g->m.released_alike_kib = 0;
	}
}

/* pages a second ksmd reaches with its knobs, at cost_ns a page */
static double
scan_rate(const struct sim_host *h, double cand_pages, double cost_ns)
{
	const struct sim_workload *w = h->w;
	double rate;

	if (h->ksm_run != 1 || cand_pages <= 0)
		return 0;
	if (h->ksm_advisor[0] != '\0' &&
	    strcmp(h->ksm_advisor, "scan-time") == 0) {
		rate = cand_pages / (double)MAX(1, h->ksm_adv_scan_time_s);
		if (cost_ns > 0)
			rate = MIN(rate, (double)h->ksm_adv_max_cpu / 100.0 *
			    1e9 / cost_ns);
	} else {
		/* one batch of pages_to_scan, then sleep */
		rate = (double)h->ksm_pages / ((double)h->ksm_pages * cost_ns /
		    1e9 + (double)MAX(1, h->ksm_sleep_ms) / 1000.0);
	}
	return rate * (double)w->ksm_efficiency_pmy / 10000.0;
}

void
sim_ksm_tick(struct sim_host *h, double dt, bool instant)
{
	const struct sim_workload *w = h->w;
	double used, idle, moved, cand = 0, merging, cost, rate, mu, mi;

	savable(h, &used, &idle, &moved);
	for (size_t i = 0; i < h->n; i++)
		if (h->g[i].up)
			cand += h->g[i].resident_kib / 4;
	pool_move(&h->ksm_used, &h->ksm_idle, moved, h->ksm_progress);
	sim_ksm_pool_set(&h->ksm_used, used, h->ksm_progress);
	sim_ksm_pool_set(&h->ksm_idle, idle, h->ksm_progress);
	h->ksm_savable_kib = used + idle;
	merging = pool_merging(&h->ksm_used, h->ksm_progress) +
	    pool_merging(&h->ksm_idle, h->ksm_progress);
	/* merges per scanned page while a pass merges: their cost is in
	 * the batch too, and slows the scan */
	cost = (double)w->ksm_page_cost_ns + (cand > 0 ? merging / 4 / cand :
	    0) * (double)w->ksm_merge_cost_ns;
	rate = scan_rate(h, cand, cost);
	h->ksm_rate = rate;
	h->ksm_cpu_pmil = rate * cost / 1e6;
	h->ksm_cpu_ms += rate * cost / 1e6 * dt;
	h->ksm_scanned_pages += rate * dt;
	if (cand > 0)
		h->ksm_progress += rate * dt / cand;
	if (instant) {
		mu = used;
		mi = idle;
		h->ksm_cpu_pmil = 0;
	} else {
		mu = sim_ksm_pool_merged(&h->ksm_used, h->ksm_progress);
		mi = sim_ksm_pool_merged(&h->ksm_idle, h->ksm_progress);
	}
	h->ksm_saved_kib = mu + mi;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];

		g->ksm_merged_kib = (used > 0 ? mu * g->sav_used_kib / used :
		    0) + (idle > 0 ? mi * g->sav_idle_kib / idle : 0);
	}
}
