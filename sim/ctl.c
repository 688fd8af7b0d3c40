/* ctl.c - the controllers the simulator compares, each on its own
 * interval and reading only what its tool reads:
 *
 *   static    nothing: every guest keeps its full memory, KSM off
 *   ksmtuned  KSM only: its 60 s loop, 20 % threshold, +300/-50 pages
 *   mom       oVirt MoM's doc/balloon.rules (20 %/5 %, 5 % steps, 0.25 %
 *             minimum change) with its ksm.rules, every 10 s
 *   proxmox   PVE::AutoBalloon compute_alg1 (80 % goal, 100 MiB per VM per
 *             10 s, shares) with ksmtuned, as Proxmox VE ships it
 *   memtuned  policy_decide() from libmemtuned on a snapshot built the way
 *             the collectors build it
 *   oracle    the physical limit: no controller, the model sizes every
 *             guest to its need and merges every duplicate at once
 *
 * docs/simulator.md cites the rules with their sources. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

/* ksmtuned's loop and MoM's and pvestatd's policy passes: each sleeps its
 * interval first, then acts (MoM's first balloon move in the testbed's
 * runs came 10 s after it started; ksmtuned's first KSM write 60 s) */
#define KSMTUNED_INTERVAL_S 60
#define POLICY_PASS_S 10

/* the per-VM floor the baselines get (the workload's baseline_floor):
 * MoM's balloon_min, Proxmox's "balloon" minimum */
static double
baseline_floor_kib(const struct sim_workload *w, const struct sim_guest *g)
{
	return (double)g->max_kib * (double)w->baseline_floor_pmy / 10000.0;
}

int
sim_ctl_init(struct sim_ctl *c, enum sim_policy pol,
    const struct policy_config *pc, size_t n)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->pol = pol;
	c->pc = pc;
	c->next_s = pol == SIM_MOM || pol == SIM_PROXMOX ? POLICY_PASS_S : 0;
	c->next_ksm_s = KSMTUNED_INTERVAL_S;
	c->last_call_ms = MT_ABSENT;
	if (pol != SIM_MEMTUNED && pol != SIM_MEMTUNED_NORESERVE)
		return 0;
	if ((rc = policy_state_init(&c->ps, n)) < 0)
		return rc;
	if ((rc = policy_plan_init(&c->plan, n)) < 0 ||
	    (rc = policy_results_init(&c->results, n)) < 0)
		goto fail;
	if ((c->snap.guests = calloc(n, sizeof(*c->snap.guests))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	c->snap.nr_guests = n;
	return 0;
fail:
	policy_results_free(&c->results);
	policy_plan_free(&c->plan);
	policy_state_free(&c->ps);
	return rc;
}

void
sim_ctl_free(struct sim_ctl *c)
{
	if (c->pol != SIM_MEMTUNED && c->pol != SIM_MEMTUNED_NORESERVE)
		return;
	free(c->snap.guests);
	c->snap.guests = NULL;
	policy_results_free(&c->results);
	policy_plan_free(&c->plan);
	policy_state_free(&c->ps);
}

/* -------------------------------------------------------------- ksmtuned */

/* One pass of ksmtuned's loop (ksmtuned 2009, as Debian, Fedora, RHEL and
 * Proxmox ship it): stop KSM when committed + threshold fits in MemTotal
 * and free memory is above the threshold; otherwise boost pages_to_scan
 * by 300 while free is under the threshold, decay it by 50 otherwise,
 * clamped to 64..1250; sleep 10 ms scaled to a 16 GiB host, at least
 * 10 ms. Its KSM_THRES_CONST (2048) is compared with KiB: the threshold
 * is 20 % of MemTotal on any host above 10 MiB. */
static void
ksmtuned_pass(struct sim_ctl *c, struct sim_host *h)
{
	const struct sim_workload *w = h->w;
	double total = (double)w->host_kib, thres, committed = 0, free;

	thres = total * 20 / 100;
	if (thres < 2048)
		thres = 2048;
	for (size_t i = 0; i < h->n; i++)
		committed += h->g[i].resident_kib + (double)w->qemu_overhead_kib;
	free = h->free_kib + h->cached_kib;
	if (committed + thres < total && free > thres) {
		h->ksm_run = 0;
		return;
	}
	c->ksm_npages += free < thres ? 300 : -50;
	c->ksm_npages = MAX(64, MIN(1250, c->ksm_npages));
	h->ksm_run = 1;
	h->ksm_pages = c->ksm_npages;
	h->ksm_sleep_ms = MAX(10, (int64_t)(10.0 * 16 * 1024 * 1024 / total));
	if (h->ksm_advisor[0] != '\0')
		mt_strlcpy(h->ksm_advisor, "none", sizeof(h->ksm_advisor));
}

/* MoM's doc/ksm.rules: the same thresholds as ksmtuned, but committed is
 * the summed virtual size of the QEMU processes (at least max memory
 * plus overhead each), the step starts from the host's pages_to_scan,
 * and the sleep (10 ms x 16 GiB / MemTotal, in whole ms) has no floor:
 * 6 ms on the testbed's 23.5 GiB host, as its log showed. */
static void
mom_ksm_pass(struct sim_host *h)
{
	const struct sim_workload *w = h->w;
	double total = (double)w->host_kib, thres = total * 0.20;
	double committed = 0, free = h->free_kib + h->cached_kib;
	int64_t np;

	for (size_t i = 0; i < h->n; i++)
		if (h->g[i].up)
			committed += (double)(h->g[i].max_kib +
			    w->qemu_overhead_kib);
	if (thres + committed < total && free > thres) {
		h->ksm_run = 0;
		return;
	}
	np = h->ksm_pages + (free < thres ? 300 : -50);
	h->ksm_run = 1;
	h->ksm_pages = MAX(64, MIN(1250, np));
	h->ksm_sleep_ms = MAX(1, (int64_t)(10.0 * 16777216.0 / total));
	if (h->ksm_advisor[0] != '\0')
		mt_strlcpy(h->ksm_advisor, "none", sizeof(h->ksm_advisor));
}

/* ------------------------------------------------------------------- MoM */

static void
mom_pass(struct sim_host *h)
{
	const struct sim_workload *w = h->w;
	/* MoM's Host mem_free is MemFree + Buffers + Cached */
	double host_free_pct = (h->free_kib + h->cached_kib) /
	    (double)w->host_kib;
	bool pressure = host_free_pct < 0.20;
	double gfp = host_free_pct <= 0.05 ? -0.05 + host_free_pct :
	    0.20 * (host_free_pct / 0.20);

	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];
		double cur = g->m.actual_kib, used, bmin, size;
		double floor_kib = baseline_floor_kib(w, g);
		double unused;

		if (!g->up)
			continue;
		/* balloon_cur - mem_unused (the guest's MemFree): cache
		 * counts as used */
		unused = MAX(0, sim_mem_free_kib(w, &g->m));

		used = cur - unused;
		if (pressure) {
			bmin = MIN(floor_kib, used + gfp * cur);
			size = cur * (1 - 0.05);
			if (size < bmin)
				size = bmin;
			if (size <= cur && (cur - size > 0.0025 * cur))
				sim_set_target(h, i, (int64_t)size);
		} else if (cur < (double)g->max_kib) {
			/* grow_guest uses the unconstrained free share */
			bmin = MIN(floor_kib, used + 0.20 * cur);
			size = cur * (1 + 0.05);
			if (size > (double)g->max_kib)
				size = (double)g->max_kib;
			if (size < bmin)
				size = bmin;
			if ((size > cur ? size - cur : cur - size) >
			    0.0025 * cur)
				sim_set_target(h, i, (int64_t)size);
		}
	}
}

/* --------------------------------------------------------------- Proxmox */

struct pve_vm {
	size_t idx;
	double balloon, balloon_min, maxmem, freemem, shares, res;
	bool has_res, done;
};

/* compute_alg1's change_func: spread `bytes` over the list by shares above
 * each VM's minimum, at most maxchange per VM, repeating while VMs hit a
 * bound. Returns what could not be placed. */
static double
pve_change(struct pve_vm *vm, size_t *list, size_t nl, double bytes,
    double maxchange)
{
	double rest = bytes;
	bool repeat = true;
	double progress = 1;

	for (size_t k = 0; k < nl; k++)
		vm[list[k]].done = false;
	while (rest != 0 && repeat && progress != 0) {
		double shares_total = 0, alloc_old = 0, changes = 0, alloc_new;

		repeat = false;
		progress = 0;
		for (size_t k = 0; k < nl; k++) {
			struct pve_vm *d = &vm[list[k]];
			double b = d->has_res ? d->res : d->balloon;

			if (d->done)
				continue;
			alloc_old += b - d->balloon_min;
			shares_total += d->shares;
		}
		if (shares_total <= 0)
			break;
		alloc_new = alloc_old + rest;
		for (size_t k = 0; k < nl; k++) {
			struct pve_vm *d = &vm[list[k]];
			double desired, nv, bal, diff;

			if (d->done)
				continue;
			desired = d->balloon_min + (double)(int64_t)(alloc_new /
			    shares_total * d->shares);
			if (desired > d->maxmem) {
				desired = d->maxmem;
				repeat = true;
			} else if (desired < d->balloon_min) {
				desired = d->balloon_min;
				repeat = true;
			}
			if (bytes > 0 && desired - d->balloon > 0) {
				nv = d->balloon + maxchange;
				bal = nv > desired ? desired : nv;
			} else if (desired - d->balloon < 0) {
				nv = d->balloon - maxchange;
				bal = nv > desired ? nv : desired;
			} else {
				d->done = true;
				continue;
			}
			diff = bal - d->balloon;
			if (diff != 0) {
				double old = d->has_res ? d->res : d->balloon;
				double change = bal - old;

				d->res = bal;
				d->has_res = true;
				if (change != 0) {
					changes += change;
					progress += diff > 0 ? diff : -diff;
					repeat = true;
				}
			}
		}
		rest -= changes;
	}
	return rest;
}

static int
proxmox_pass(struct sim_host *h)
{
	const struct sim_workload *w = h->w;
	double total = (double)w->host_kib;
	/* pvestatd: goal = MemTotal * 80 % - used, maxchange 100 MiB */
	double goal = total * 0.8 - (total - h->avail_kib);
	double maxchange = MIB_KIB(100), rest;
	struct pve_vm *vm;
	size_t *all, *l1, *l2, n1 = 0, n2 = 0, na = 0;

	vm = calloc(h->n, sizeof(*vm));
	all = calloc(h->n * 3 + 1, sizeof(*all));
	if (vm == NULL || all == NULL) {
		free(vm);
		free(all);
		return -ENOMEM;
	}
	l1 = all + h->n;
	l2 = l1 + h->n;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];
		struct pve_vm *d = &vm[i];

		d->idx = i;
		d->balloon = g->m.actual_kib;
		d->balloon_min = baseline_floor_kib(w, g);
		d->maxmem = (double)g->max_kib;
		/* stat-free-memory: MemFree, cache not counted */
		d->freemem = MAX(0, sim_mem_free_kib(w, &g->m));
		d->shares = 1000;
		if (!g->up)
			continue;
		all[na++] = i;
		if (d->freemem > d->balloon_min * 0.25 &&
		    d->balloon >= d->balloon_min)
			l2[n2++] = i;
		else
			l1[n1++] = i;
	}
	if (goal > MIB_KIB(10)) {
		/* grow: VMs under memory pressure first */
		rest = pve_change(vm, l1, n1, goal, maxchange);
		if (rest >= goal)
			pve_change(vm, all, na, rest, maxchange);
	} else if (goal < -MIB_KIB(10)) {
		/* shrink: VMs with enough free memory first */
		rest = pve_change(vm, l2, n2, goal, maxchange);
		if (rest <= goal)
			pve_change(vm, all, na, rest, maxchange);
	}
	for (size_t i = 0; i < h->n; i++)
		if (vm[i].has_res && vm[i].res != vm[i].balloon)
			sim_set_target(h, i, (int64_t)vm[i].res);
	free(vm);
	free(all);
	return 0;
}

/* -------------------------------------------------------------- memtuned */

/* The host's meminfo, vmstat and PSI as the model has them; first: no
 * rate yet */
static void
snapshot_host_mem(struct host_snapshot *hs, const struct sim_host *h,
    bool first, int64_t now_ms)
{
	const struct sim_workload *w = h->w;

	host_snapshot_init(hs);
	hs->time_ms = now_ms;
	hs->mem.mem_total_kib = w->host_kib;
	hs->mem.mem_free_kib = (int64_t)h->free_kib;
	hs->mem.mem_avail_kib = (int64_t)h->avail_kib;
	hs->mem.buffers_kib = 0;
	hs->mem.cached_kib = (int64_t)h->cached_kib;
	hs->mem.swap_total_kib = 0;
	hs->mem.swap_free_kib = 0;
	hs->mem.anon_pages_kib = (int64_t)(h->used_kib -
	    (double)w->host_base_kib / 2);
	hs->mem.shmem_kib = 0;
	hs->mem.hugepages_total = 0;
	hs->mem.hugepages_free = 0;
	hs->mem.hugepages_rsvd = 0;
	hs->mem.hugepages_surp = 0;
	hs->mem.hugepage_size_kib = 2048;
	hs->vm.pswpout = (int64_t)h->pswpout;
	hs->vm.pswpin = 0;
	hs->vm.pgmajfault = 0;
	hs->vm.pswpin_per_s = first ? MT_ABSENT : 0;
	hs->vm.pswpout_per_s = first ? MT_ABSENT :
	    (int64_t)(h->swapping_kib / 4);
	hs->vm.pgmajfault_per_s = first ? MT_ABSENT : 0;
	hs->vm.refault_per_s = first ? MT_ABSENT : 0;
	hs->psi.present = true;
	hs->psi.some.avg10_pmy = (int64_t)(h->psi_some * 10000);
	hs->psi.some.avg60_pmy = hs->psi.some.avg10_pmy;
	hs->psi.some.avg300_pmy = hs->psi.some.avg10_pmy;
	hs->psi.some.total_us = (int64_t)h->psi_some_us;
	hs->psi.full.avg10_pmy = (int64_t)(h->psi_full * 10000);
	hs->psi.full.avg60_pmy = hs->psi.full.avg10_pmy;
	hs->psi.full.avg300_pmy = hs->psi.full.avg10_pmy;
	hs->psi.full.total_us = (int64_t)h->psi_full_us;
}

/* KSM as the model runs it (with the advisor's knobs on a 6.8+ kernel),
 * no THP, one NUMA node */
static void
snapshot_host_ksm(struct sim_ctl *c, struct host_snapshot *hs,
    const struct sim_host *h, bool first, int64_t dt_ms)
{
	const struct sim_workload *w = h->w;

	hs->ksm.present = true;
	hs->ksm.run = h->ksm_run;
	hs->ksm.pages_to_scan = h->ksm_pages;
	hs->ksm.sleep_millisecs = h->ksm_sleep_ms;
	hs->ksm.pages_sharing = (int64_t)(h->ksm_saved_kib / 4);
	hs->ksm.pages_shared = hs->ksm.pages_sharing /
	    (int64_t)MAX(1, h->n - 1) + (hs->ksm.pages_sharing > 0 ? 1 : 0);
	hs->ksm.pages_unshared = 0;
	hs->ksm.full_scans = (int64_t)h->ksm_progress;
	hs->ksm.pages_scanned = (int64_t)h->ksm_scanned_pages;
	hs->ksm.max_page_sharing = 256;
	hs->ksm.merge_across_nodes = 1;
	hs->ksm.use_zero_pages = 0;
	if (w->ksm_advisor) {
		/* 6.8+: profit net of rmap items, smart_scan, the advisor */
		hs->ksm.general_profit = (int64_t)(h->ksm_saved_kib * 1024) -
		    hs->ksm.pages_sharing * 64;
		hs->ksm.ksm_zero_pages = 0;
		hs->ksm.smart_scan = 1;
		mt_strlcpy(hs->ksm.advisor_mode, h->ksm_advisor,
		    sizeof(hs->ksm.advisor_mode));
		hs->ksm.advisor_target_scan_time = h->ksm_adv_scan_time_s;
		hs->ksm.advisor_max_cpu = h->ksm_adv_max_cpu;
		hs->ksm.advisor_min_pages_to_scan = 500;
		hs->ksm.advisor_max_pages_to_scan = 30000;
	}
	hs->ksm.ksmd_pid = 40;
	hs->ksm.ksmd_cpu_ms = (int64_t)h->ksm_cpu_ms;
	hs->ksm.ksmd_cpu_pmil = first ? MT_ABSENT :
	    (int64_t)((h->ksm_cpu_ms - c->last_cpu_ms) * 1000 /
	    (double)dt_ms);
	/* the model has no THP: the collector reports it absent */
	hs->thp.present = false;
	hs->numa.nr_nodes = 1;
	hs->numa.node_total_kib[0] = w->host_kib;
	hs->numa.node_free_kib[0] = (int64_t)h->free_kib;
}

/* Guest i as the collector would see it: shut off until it starts */
static void
snapshot_guest(struct guest_snapshot *gs, const struct sim_host *h,
    size_t i, bool first, int64_t now_ms)
{
	const struct sim_workload *w = h->w;
	const struct sim_guest *g = &h->g[i];
	double unused;

	guest_snapshot_init(gs);
	snprintf(gs->name, sizeof(gs->name), "vm%04zu", i);
	snprintf(gs->uuid, sizeof(gs->uuid),
	    "5a1d0000-0000-4000-8000-%012u", (unsigned)i);
	/* a VM not started yet is shut off: no stats, no balloon */
	gs->id = g->up ? (int)i + 1 : -1;
	gs->state = g->up ? 1 : 5;	/* RUNNING, SHUTOFF */
	gs->max_kib = g->max_kib;
	if (!g->up)
		return;
	gs->qemu_pid = 1000 + (int64_t)i;
	gs->max_kib = g->max_kib;
	gs->actual_kib = (int64_t)g->m.actual_kib;
	gs->balloon_max_kib = g->max_kib;
	/* the guest's own MemTotal, MemFree and MemAvailable */
	unused = MAX(0, sim_mem_free_kib(w, &g->m));
	gs->unused_kib = (int64_t)unused;
	gs->available_kib = (int64_t)(g->m.actual_kib -
	    (double)w->guest_reserve_kib);
	gs->usable_kib = (int64_t)MAX(0, unused + g->m.cache_kib -
	    (double)w->guest_watermark_kib);
	gs->disk_caches_kib = (int64_t)g->m.cache_kib;
	gs->minor_fault = g->minor_fault;
	gs->ksm_merging_kib = (int64_t)g->ksm_merged_kib;
	gs->major_fault = g->major_fault;
	gs->major_fault_per_s = first ? MT_ABSENT : g->major_fault_per_s;
	gs->rss_kib = (int64_t)g->resident_kib + w->qemu_overhead_kib;
	/* stats period 2 s: the guest answered at the last even
	 * second */
	gs->last_update_s = now_ms / 1000 / 2 * 2;
	gs->stats = GUEST_STATS_OK;
	gs->hard_limit_kib = g->hard_limit_kib;
	gs->soft_limit_kib = g->soft_limit_kib;
	gs->cgroup_version = 1;
	gs->cg_usage_kib = gs->rss_kib;
	gs->cg_limit_kib = MT_ABSENT;
	gs->backing.has_balloon = true;
	gs->backing.stats_period_s = 2;
	gs->input.floor_kib = MT_ABSENT;
	gs->input.ceiling_kib = MT_ABSENT;
	gs->input.shares = MT_ABSENT;
	gs->input.exclude = false;
}

static void
build_snapshot(struct sim_ctl *c, const struct sim_host *h, int64_t now_ms)
{
	struct host_snapshot *hs = &c->snap.host;
	int64_t dt_ms = MT_PRESENT(c->last_call_ms) ? now_ms - c->last_call_ms :
	    MT_ABSENT;
	bool first = !MT_PRESENT(dt_ms) || dt_ms <= 0;

	snapshot_host_mem(hs, h, first, now_ms);
	snapshot_host_ksm(c, hs, h, first, dt_ms);
	for (size_t i = 0; i < h->n; i++)
		snapshot_guest(&c->snap.guests[i], h, i, first, now_ms);
}

/* The model carries out every change of the plan, so the policy commits
 * all of it. */
static void
apply_plan(struct sim_ctl *c, struct sim_host *h, int64_t now_ms)
{
	const struct ksm_plan *kp = &c->plan.ksm;

	for (size_t i = 0; i < c->plan.nr_guests; i++) {
		const struct guest_plan *gp = &c->plan.guests[i];
		struct sim_guest *g = &h->g[i];

		if (gp->action == ACT_BALLOON || gp->action == ACT_BOTH)
			sim_set_target(h, i, gp->target_kib);
		if (gp->action == ACT_MEMTUNE || gp->action == ACT_BOTH) {
			if (MT_PRESENT(gp->hard_limit_kib))
				g->hard_limit_kib = gp->hard_limit_kib ==
				    POLICY_LIMIT_UNLIMITED ? MT_ABSENT :
				    gp->hard_limit_kib;
			if (MT_PRESENT(gp->soft_limit_kib))
				g->soft_limit_kib = gp->soft_limit_kib ==
				    POLICY_LIMIT_UNLIMITED ? MT_ABSENT :
				    gp->soft_limit_kib;
		}
	}
	if (kp->change) {
		if (MT_PRESENT(kp->run))
			h->ksm_run = kp->run;
		if (MT_PRESENT(kp->pages_to_scan))
			h->ksm_pages = kp->pages_to_scan;
		if (MT_PRESENT(kp->sleep_millisecs))
			h->ksm_sleep_ms = kp->sleep_millisecs;
		if (kp->advisor_mode[0] != '\0' && h->ksm_advisor[0] != '\0')
			mt_strlcpy(h->ksm_advisor, kp->advisor_mode,
			    sizeof(h->ksm_advisor));
		if (MT_PRESENT(kp->advisor_target_scan_time))
			h->ksm_adv_scan_time_s = kp->advisor_target_scan_time;
		if (MT_PRESENT(kp->advisor_max_cpu))
			h->ksm_adv_max_cpu = kp->advisor_max_cpu;
	}
	if (policy_results_all_applied(&c->results, &c->plan) < 0) {
		/* the state then keeps last tick's view: counted, not fatal */
		c->errors++;
		return;
	}
	policy_commit(&c->ps, &c->plan, &c->results, now_ms);
}

FILE *sim_trace;

static void
trace_pass(const struct sim_ctl *c, const struct sim_host *h)
{
	const struct policy_plan *p = &c->plan;
	size_t starving = 0, short_max = 0;
	double worst = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (h->g[i].short_kib > 0) {
			starving++;
			if (h->g[i].short_kib > worst) {
				worst = h->g[i].short_kib;
				short_max = i;
			}
		}
	}
	fprintf(sim_trace, "%02lld:%02lld:%02lld avail=%lld MiB %s need=%lld "
	    "taken=%lld freed=%lld given=%lld MiB starving=%zu",
	    (long long)(h->now_s / 3600), (long long)(h->now_s / 60 % 60),
	    (long long)(h->now_s % 60), (long long)(h->avail_kib / 1024),
	    policy_pressure_name(p->pressure), (long long)(p->need_kib / 1024),
	    (long long)(p->taken_kib / 1024), (long long)(p->freed_kib / 1024),
	    (long long)(p->given_kib / 1024), starving);
	if (starving > 0)
		fprintf(sim_trace, " (vm%04zu short %.0f MiB: %s)", short_max,
		    worst / 1024, p->guests[short_max].reason);
	fprintf(sim_trace, " next=%llds\n",
	    (long long)(p->next_interval_ms / 1000));
}

static void
memtuned_pass(struct sim_ctl *c, struct sim_host *h)
{
	/* a monotonic clock that does not start at 0, as on a real host */
	int64_t now_ms = 3600000 + h->now_s * 1000;
	int rc;

	build_snapshot(c, h, now_ms);
	rc = policy_decide(c->pc, &c->snap, &c->ps, now_ms, &c->plan);
	c->last_call_ms = now_ms;
	c->last_cpu_ms = h->ksm_cpu_ms;
	if (rc < 0) {
		c->errors++;
		c->next_s = h->now_s + 10;
		return;
	}
	apply_plan(c, h, now_ms);
	if (sim_trace != NULL)
		trace_pass(c, h);
	/* the daemon wakes after next_interval; the model ticks every dt */
	c->next_s = h->now_s + MAX(1, (c->plan.next_interval_ms + 999) / 1000);
}

/* memtuned's burst watch: the daemon reads each guest's QEMU RSS every
 * 250 ms (its default burst_watch); a guest filling at touch_rate is
 * seen within a reading, and a tick then runs with the rate in the
 * guest's snapshot. What the plan gives reaches the guest at the
 * balloon's speed while the burst goes on taking at its rate: the guest
 * lives when it is never out of memory before the burst is done. */
#define SIM_BURST_WATCH_MS 250

/* the guest's free memory t s into a burst: what it had, less what the
 * burst took, plus what the balloon gave since seen_s */
static double
burst_free_at(double left, double rate, double bal, double grant,
    double seen_s, double t)
{
	return left - rate * t + MIN(grant, bal * MAX(0, t - seen_s));
}

double
sim_ctl_burst(struct sim_host *h, size_t i, double left_kib,
    double short_kib, void *arg)
{
	struct sim_ctl *c = arg;
	const struct sim_workload *w = h->w;
	struct sim_guest *g = &h->g[i];
	double rate = (double)w->touch_kib_per_s;
	double bal = (double)w->balloon_kib_per_s;
	double seen_s = SIM_BURST_WATCH_MS / 1000.0, end_s, grant, t_g, got;
	int64_t now_ms = 3600000 + h->now_s * 1000 + SIM_BURST_WATCH_MS;
	struct guest_snapshot *gs;

	if ((c->pol != SIM_MEMTUNED && c->pol != SIM_MEMTUNED_NORESERVE) ||
	    rate <= 0 || bal <= 0 || left_kib < rate * seen_s)
		return 0;	/* full before the watch reads it */
	build_snapshot(c, h, now_ms);
	gs = &c->snap.guests[i];
	gs->rss_kib += (int64_t)(rate * seen_s);
	gs->rss_rate_kib_s = (int64_t)rate;
	if (policy_decide(c->pc, &c->snap, &c->ps, now_ms, &c->plan) < 0) {
		c->errors++;
		return 0;
	}
	apply_plan(c, h, now_ms);
	if (sim_trace != NULL)
		trace_pass(c, h);
	grant = MAX(0, (double)g->target_kib - g->m.actual_kib);
	/* free memory over time is piecewise linear: check its corners,
	 * where the balloon starts giving, where its grant ends, and where
	 * the burst is done */
	end_s = (left_kib + short_kib) / rate;
	t_g = MIN(end_s, seen_s + grant / bal);
	if (burst_free_at(left_kib, rate, bal, grant, seen_s, t_g) < 0 ||
	    burst_free_at(left_kib, rate, bal, grant, seen_s, end_s) < 0) {
		if (sim_trace != NULL)
			fprintf(sim_trace, "burst vm%04zu: %.0f MiB left, %.0f "
			    "short, %.0f given: out before it arrives\n", i,
			    left_kib / 1024, short_kib / 1024, grant / 1024);
		return 0;
	}
	if (sim_trace != NULL)
		fprintf(sim_trace, "burst vm%04zu: %.0f MiB left, %.0f short, "
		    "%.0f given: in time\n", i, left_kib / 1024,
		    short_kib / 1024, grant / 1024);
	got = MIN(grant, bal * MAX(0, end_s - seen_s));
	sim_mem_balloon(w, &g->m, g->m.actual_kib + got);
	return got;
}

/* A VM about to start asks memtuned to make room first (memtunectl
 * rebalance --reserve from a libvirt hook, as squeezed reserves before it
 * builds):
 * the start waits while the host lacks the memory the VM touches at boot,
 * at most ADMIT_WAIT_S, then goes ahead regardless. */
#define ADMIT_WAIT_S 600

static void
memtuned_admit(struct sim_ctl *c, struct sim_host *h)
{
	const struct sim_workload *w = h->w;
	int64_t now_ms = 3600000 + h->now_s * 1000, reserve, target;
	double avail = h->avail_kib;
	bool asked = false;
	int rc;

	reserve = policy_host_reserve_kib(c->pc, w->host_kib);
	target = reserve / 10000 * c->pc->target_pmy;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_guest *g = &h->g[i];
		const struct sim_class *cl = &w->classes[g->cls];
		double need;

		if (g->up || g->boot_s > h->now_s || g->held_s >= ADMIT_WAIT_S)
			continue;
		need = (double)cl->boot_touch_pmy / 10000.0 *
		    (double)g->max_kib + (double)w->qemu_overhead_kib;
		if (avail - need >= (double)target) {
			/* it starts this tick: the next one sees less */
			avail -= need;
			continue;
		}
		if (!asked) {
			build_snapshot(c, h, now_ms);
			rc = policy_reserve(c->pc, &c->snap, &c->ps, now_ms,
			    (int64_t)(need + (double)target - avail),
			    &c->plan);
			c->last_call_ms = now_ms;
			c->last_cpu_ms = h->ksm_cpu_ms;
			if (rc < 0 && rc != -ENOSPC)
				c->errors++;
			else
				apply_plan(c, h, now_ms);
			asked = true;
		}
		g->boot_s = h->now_s + w->dt_s;
		g->held_s += w->dt_s;
		c->held_s += w->dt_s;
	}
}

void
sim_ctl_tick(struct sim_ctl *c, struct sim_host *h)
{
	switch (c->pol) {
	case SIM_STATIC:
	case SIM_ORACLE:
		return;
	case SIM_KSMTUNED:
		if (h->now_s >= c->next_ksm_s) {
			ksmtuned_pass(c, h);
			c->next_ksm_s = h->now_s + KSMTUNED_INTERVAL_S;
		}
		return;
	case SIM_MOM:
		if (h->now_s >= c->next_s) {
			mom_pass(h);
			/* ksm.rules runs in the same policy pass */
			mom_ksm_pass(h);
			c->next_s = h->now_s + POLICY_PASS_S;
		}
		return;
	case SIM_PROXMOX:
		if (h->now_s >= c->next_s) {
			if (proxmox_pass(h) < 0)
				c->errors++;
			c->next_s = h->now_s + POLICY_PASS_S;
		}
		if (h->now_s >= c->next_ksm_s) {
			ksmtuned_pass(c, h);
			c->next_ksm_s = h->now_s + KSMTUNED_INTERVAL_S;
		}
		return;
	case SIM_MEMTUNED:
		memtuned_admit(c, h);
		/* FALLTHROUGH */
	case SIM_MEMTUNED_NORESERVE:
		if (h->now_s >= c->next_s)
			memtuned_pass(c, h);
		return;
	case SIM_NR_POLICIES:
		break;
	}
}
