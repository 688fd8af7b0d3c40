/* policy.c - the orchestrator: policy_decide and policy_reserve, the only
 * callers of the policy's stages (policy_internal.h). A tick reads the host
 * and every guest, decides the balloons, then each guest's memtune and the
 * next interval, then KSM and THP. No stage calls back here. */
#include <errno.h>
#include <string.h>

#include "policy_internal.h"

static int
policy_prepare(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, struct policy_plan *plan)
{
	const struct host_meminfo *m = &snap->host.mem;
	size_t i;
	int rc;

	if (!MT_PRESENT(m->mem_total_kib) || m->mem_total_kib <= 0 ||
	    !MT_PRESENT(m->mem_avail_kib) || m->mem_avail_kib < 0 ||
	    m->mem_avail_kib > m->mem_total_kib)
		return -EINVAL;
	if ((rc = policy_ensure_capacity(s, plan, snap->nr_guests)) < 0)
		return rc;
	plan->nr_guests = snap->nr_guests;
	plan->taken_kib = plan->given_kib = plan->freed_kib = 0;
	plan->reserve_request_kib = plan->reserve_possible_kib = MT_ABSENT;
	memset(&plan->ksm, 0, sizeof(plan->ksm));
	memset(&plan->thp, 0, sizeof(plan->thp));

	policy_host_pressure(c, &snap->host, s, now_ms, plan);
	policy_node_pressure(c, &snap->host, plan);
	s->started = true;
	for (i = 0; i < snap->nr_guests; i++) {
		const struct guest_snapshot *g = &snap->guests[i];
		struct policy_gwork *w = &s->work[i];

		policy_guest_read(c, g, s, now_ms, plan->pressure, w,
		    &plan->guests[i]);
		/* fixed guests cannot move: only the managed ones count */
		if (plan->nr_nodes > 1 && g->backing.numa_confined &&
		    w->cls != GW_SKIP && w->cls != GW_FIXED &&
		    (w->node = policy_home_node(plan,
		    g->backing.numa_nodes)) >= 0)
			plan->nodes[w->node].nr_confined++;
	}
	return 0;
}

/* A guest whose stats went missing after it had them is held, blind: the
 * bulk stats call skips a domain whose job is taken (a balloon change in
 * flight), and a guest short of memory answers late. Looked at again at
 * the tight pace, so it waits seconds for its next chance, not a calm
 * host's half minute; a guest without stats for longer (driver gone, a
 * guest that never had them) goes back to the host's pace. */
#define STATS_LOST_WATCH_MS (120 * 1000)

static bool
stats_lost_lately(const struct policy_guest_hist *h,
    const struct policy_gwork *w, int64_t now_ms)
{
	return w->cls == GW_STALE && MT_PRESENT(h->stats_ok_ms) &&
	    now_ms - h->stats_ok_ms < STATS_LOST_WATCH_MS;
}

static void
policy_finish(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, struct policy_plan *plan)
{
	uint64_t short_nodes = 0;
	bool busy = false;
	size_t i;

	/* the nodes short while the host is not: a virtio-mem guest gives
	 * from its devices there first */
	for (int nd = 0; nd < plan->nr_nodes && nd < 64; nd++)
		if (plan->nodes[nd].rule)
			short_nodes |= UINT64_C(1) << nd;
	for (i = 0; i < snap->nr_guests; i++) {
		const struct guest_snapshot *g = &snap->guests[i];
		struct policy_gwork *w = &s->work[i];
		struct guest_plan *gp = &plan->guests[i];
		struct policy_guest_hist *h;
		bool balloon, memtune;

		if (w->cls == GW_SKIP)
			continue;
		h = &s->hist[w->hist];
		/* a guest under its own pressure, one fed within the last
		 * cooldown (it may be ramping still), or a balloon on its
		 * way is looked at again soon whatever the host's state */
		if (w->cls == GW_OK && (w->pressured ||
		    (h->last_dir > 0 && now_ms - h->last_change_ms <
		    c->cooldown_ms) ||
		    policy_abs64(w->target_kib - g->actual_kib) >
		    c->min_change_kib))
			busy = true;
		if (stats_lost_lately(h, w, now_ms))
			busy = true;
		gp->target_kib = w->target_kib;
		balloon = w->cls != GW_FIXED && (w->target_kib != w->cur_kib ||
		    w->resend || (!MT_PRESENT(h->last_target_kib) &&
		    w->target_kib != g->actual_kib));
		if (balloon)
			policy_vmem_route(c, g, short_nodes, gp);
		gp->by_vmem = c->manage_virtio_mem &&
		    MT_PRESENT(policy_vmem_boot_kib(g));
		memtune = policy_memtune_plan(c, g, h, w, gp);
		gp->action = balloon && memtune ? ACT_BOTH : balloon ?
		    ACT_BALLOON : memtune ? ACT_MEMTUNE : ACT_NONE;
		/* a new request restarts the progress clock only when the
		 * last one was met; otherwise a stuck balloon would look
		 * fresh at every tick. Recorded when it is carried out. */
		w->restart_progress = balloon &&
		    (!MT_PRESENT(h->last_target_kib) || w->resend ||
		    policy_abs64(g->actual_kib - h->last_target_kib) <=
		    c->min_change_kib);
	}
	policy_hist_expire(s, now_ms);
	plan->next_interval_ms = policy_interval_ms(c, plan->pressure);
	/* a node under the rule is watched at its own state's pace */
	for (int nd = 0; nd < plan->nr_nodes; nd++)
		if (plan->nodes[nd].rule && plan->nodes[nd].nr_confined > 0)
			plan->next_interval_ms = MIN(plan->next_interval_ms,
			    policy_interval_ms(c, plan->nodes[nd].pressure));
	if (busy)
		plan->next_interval_ms = MIN(plan->next_interval_ms,
		    c->interval_tight_ms);
	s->last_ms = now_ms;
}

/* --------------------------------------------------------------- entry */

int
policy_decide(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, struct policy_plan *plan)
{
	int rc;

	if ((rc = policy_prepare(c, snap, s, now_ms, plan)) < 0)
		return rc;
	policy_balloon_decide(c, snap, s, now_ms, plan);
	policy_finish(c, snap, s, now_ms, plan);
	policy_ksm_decide(c, snap, s, now_ms, plan);
	/* while memtuned is moving ksmd's rate (probing, or merging pays),
	 * look again within the normal interval: a login storm's pages are
	 * worth merging in minutes, not after a calm host's half-minute
	 * steps */
	if (plan->ksm.change && MT_PRESENT(plan->ksm.pages_to_scan))
		plan->next_interval_ms = MIN(plan->next_interval_ms,
		    c->interval_normal_ms);
	/* ksmd at half its CPU budget or more on memtuned's own rate: a
	 * page costs it several times more once merging starts, so the
	 * rate priced at the last tick can overshoot the budget until the
	 * next; on a calm host's half-minute ticks that was 2.5 times the
	 * budget for 10 s in a login storm */
	if (s->ksm_on && !s->ksm_pending_advisor &&
	    MT_PRESENT(snap->host.ksm.ksmd_cpu_pmil) &&
	    snap->host.ksm.ksmd_cpu_pmil * 2 >= c->ksm_cpu_max_pmil)
		plan->next_interval_ms = MIN(plan->next_interval_ms,
		    c->interval_tight_ms);
	policy_thp_decide(c, snap, s, plan);
	return 0;
}

int
policy_reserve(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, int64_t need_kib,
    struct policy_plan *plan)
{
	struct policy_gwork *w;
	int64_t inflight = 0, room, possible = 0, to_free, taken;
	size_t i, n = snap->nr_guests;
	int rc;

	if (need_kib <= 0)
		return -EINVAL;
	if ((rc = policy_prepare(c, snap, s, now_ms, plan)) < 0)
		return rc;
	w = s->work;
	inflight = policy_inflight_kib(snap, s);
	/* the new VM may use the room above the reclaim target at once */
	room = MAX(0, snap->host.mem.mem_avail_kib + inflight -
	    plan->target_avail_kib);
	for (i = 0; i < n; i++) {
		struct policy_gwork *g = &w[i];
		int64_t low = MAX(g->floor_kib, g->need_kib);

		g->donor = false;
		g->cap_kib = g->limit_kib = g->take_kib = g->give_kib = 0;
		/* admission is not bound by steps or cooldowns: the VM
		 * waits for it, as squeezed reserves before it builds */
		/* only what the host gets back makes room */
		if (g->cls == GW_OK && !g->pressured && g->cur_kib > low &&
		    policy_shrink_frees(g, g->cur_kib, low) > 0) {
			g->donor = true;
			g->cap_kib = policy_shrink_frees(g, g->cur_kib, low);
			possible += g->cap_kib;
		}
	}
	plan->reserve_request_kib = need_kib;
	plan->reserve_possible_kib = room + possible;
	to_free = need_kib - room;
	if (to_free > possible) {
		for (i = 0; i < n; i++) {
			w[i].donor = false;
			w[i].cap_kib = 0;
			if (w[i].cls == GW_OK)
				w[i].cls = GW_STALE;	/* hold */
		}
		to_free = 0;
	}
	plan->freed_kib = policy_fill_take(s, n, to_free, true);
	taken = 0;
	for (i = 0; i < n; i++)
		taken += w[i].take_kib;
	plan->need_kib = to_free;
	plan->taken_kib = taken;
	for (i = 0; i < n; i++) {
		struct policy_gwork *g = &w[i];

		if (g->cls == GW_SKIP || g->cls == GW_FIXED) {
			g->target_kib = snap->guests[i].actual_kib;
			continue;
		}
		g->target_kib = MAX(g->floor_kib, MIN(g->ceiling_kib,
		    g->cur_kib - g->take_kib));
		if (g->take_kib > 0)
			policy_guest_why(&plan->guests[i], GW_WHY_RESERVE_TAKES,
			    "gives %lld MiB for a starting VM: idle %lld MiB",
			    MIB(g->take_kib), MIB(g->idle_kib));
		else if (g->target_kib > g->cur_kib)
			policy_guest_why(&plan->guests[i],
			    GW_WHY_RAISED_TO_FLOOR, "below its floor: raised "
			    "to %lld MiB", MIB(g->target_kib));
		else if (plan->guests[i].reason[0] == '\0')
			policy_guest_why(&plan->guests[i], GW_WHY_RESERVE_HELD,
			    "%s: held for the reserve of %lld MiB (at most %lld "
			    "MiB can be freed)",
			    possible + room >= need_kib ? "nothing to give" :
			    "not enough", MIB(need_kib),
			    MIB(plan->reserve_possible_kib));
	}
	policy_finish(c, snap, s, now_ms, plan);
	return possible + room >= need_kib ? 0 : -ENOSPC;
}
