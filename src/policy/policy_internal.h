/* policy_internal.h - what the policy's own files share, and nothing
 * else includes (scripts/check-policy-cycle; the unit tests may, as they
 * test these parts one by one).
 *
 * The calls go one way: policy.c (the orchestrator: policy_decide and
 * policy_reserve) calls the stages; the stages call one another's helpers
 * and the leaf helpers (policy_util.c, policy_state.c); nothing calls
 * back into policy.c.
 */
#ifndef MEMTUNED_POLICY_INTERNAL_H
#define MEMTUNED_POLICY_INTERNAL_H

#include "policy.h"
#include "util.h"

enum gwork_class {
	GW_SKIP,		/* leave alone: excluded, error, not running */
	GW_FIXED,		/* hugepages, locked memory or no balloon */
	GW_STALE,		/* no fresh stats: held, never a donor */
	GW_UNCOOP,		/* balloon stuck: held, handled by memtune */
	GW_INACTIVE,		/* no progress yet: held, not counted */
	GW_OK,
};

struct policy_gwork {
	size_t hist;		/* index in s->hist */
	enum gwork_class cls;
	bool pressured;
	bool faulting;		/* major faults or swap-in: its need, read
				   from its free memory, is too low */
	bool urgent;		/* pressured and nearly out: served first */
	bool bursting;		/* its RSS rises fast enough to run out
				   within burst_horizon */
	bool donor;
	bool resend;		/* ask a stuck balloon again */
	bool restart_progress;	/* a target sent now starts the progress
				   clock afresh (policy_commit) */
	int64_t floor_kib, ceiling_kib;
	int64_t need_kib;	/* MT_ABSENT without fresh stats */
	int64_t cur_kib;	/* the target in force: pending or actual */
	int64_t overhead_kib;
	int64_t resident_kib;	/* guest RAM resident on the host: the
				   QEMU RSS less QEMU's own memory when
				   measured, else the RSS (at most);
				   MT_ABSENT unknown */
	bool res_exact;		/* resident_kib has QEMU's part off */
	int64_t res_idle_kib;	/* resident and not used: RSS - used at the
				   balloon's actual size; MT_ABSENT unknown */
	int64_t limit_kib;	/* most it could give over many ticks (donor) */
	int64_t gain_kib;	/* host memory a shrink can return: its
				   resident idle memory not already on its
				   way; 0 when its shrinks return nothing */
	bool returns_nothing;	/* recent shrinks returned under yield_min */
	bool fpr;		/* free page reporting: its free memory is
				   back on the host already */
	int64_t deflated_kib;	/* taken back by deflate on OOM since the
				   last tick; 0 none */
	int64_t unseen_kib;	/* touched since its stats: RSS risen */
	int64_t burst_kib;	/* what a burst at its RSS rate takes
				   within burst_horizon, when that leaves
				   it short (bursting); 0 otherwise */
	int64_t step_kib;
	int64_t shares;
	int64_t idle_kib;	/* cur - need */
	int64_t cap_kib;	/* most it may give (donor) or get */
	int64_t take_kib, give_kib;
	int64_t first_kib;	/* scratch: what an urgent guest got first */
	int64_t target_kib;
	/* NUMA: the node a confined guest's memory comes from (the best
	 * of its nodeset), -1 when unbound, bound to every node, or on a
	 * one-node host */
	int node;
	bool node_rule;		/* its node is under the node rule */
	bool node_capped;	/* growth cut to its node's room */
	int64_t node_take_kib, node_give_kib;
};

/* One donor or taker of a water-fill, dense for the cache. */
struct policy_fill {
	int64_t idle_kib;
	int64_t shares;
	int64_t cap_kib;		/* most it gives this tick (its step) */
	int64_t limit_kib;		/* most it could give over many ticks */
	int64_t got_kib;
	size_t idx;
};

/* ---------------------------------------------------------------- stages
 * The orchestrator (policy.c) alone calls these, in this order;
 * scripts/check-policy-cycle holds every other file of the policy to it. */

/* The host's pressure state and reserve into plan, with hysteresis. */
void policy_host_pressure(const struct policy_config *c,
    const struct host_snapshot *h, struct policy_state *s, int64_t now_ms,
    struct policy_plan *plan);
/* Each node's state into plan->nodes (after policy_host_pressure, which
 * sets the reserve); nr_nodes stays 0 on a one-node host. */
void policy_node_pressure(const struct policy_config *c,
    const struct host_snapshot *h, struct policy_plan *plan);
/* Fill w and gp from guest g for this tick (policy_guest.c): its class,
 * bounds, samples and need; gp's reason says why a guest is left alone or held. */
void policy_guest_read(const struct policy_config *c,
    const struct guest_snapshot *g, struct policy_state *s, int64_t now_ms,
    enum host_pressure p, struct policy_gwork *w, struct guest_plan *gp);
/* The balloon targets: reclaim for the host, feeding, growth
 * (policy_balloon.c). */
void policy_balloon_decide(const struct policy_config *c,
    const struct snapshot *snap, struct policy_state *s, int64_t now_ms,
    struct policy_plan *plan);
/* Set gp's memtune values (soft and hard limit, swap, memory.low) that
 * follow w's target; true when any is to be written. */
bool policy_memtune_plan(const struct policy_config *c,
    const struct guest_snapshot *g, const struct policy_guest_hist *h,
    const struct policy_gwork *w, struct guest_plan *gp);
/* The next tick's interval for a pressure state. */
int64_t policy_interval_ms(const struct policy_config *c,
    enum host_pressure p);
/* KSM's and THP's settings into plan->ksm and plan->thp (policy_ksm.c). */
void policy_ksm_decide(const struct policy_config *c,
    const struct snapshot *snap, struct policy_state *s, int64_t now_ms,
    struct policy_plan *plan);
void policy_thp_decide(const struct policy_config *c,
    const struct snapshot *snap, struct policy_state *s,
    struct policy_plan *plan);
/* Size the state's scratch and history table, and plan p, for n guests.
 * 0 or -ENOMEM. */
int policy_ensure_capacity(struct policy_state *s, struct policy_plan *p,
    size_t n);
/* Forget guests gone for longer than the history keeps them, a slice of
 * the table per call. */
void policy_hist_expire(struct policy_state *s, int64_t now_ms);

/* --------------------------------------------------------------- helpers
 * Any file of the policy may call these; they call no stage. */

/* Reasons are for people: a cut at the buffer's end is acceptable, and
 * this says so once instead of at every snprintf. */
void policy_reasonf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A reason and its code set in one call, so the text and the code
 * cannot drift apart: a guest's, the host's pressure, THP's. KSM's is
 * written clause by clause: each call adds one ("; " between), and the
 * first clause's code is the plan's. */
void policy_guest_why(struct guest_plan *gp, enum guest_why why,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void policy_host_why(struct policy_plan *plan, enum host_why why,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void policy_ksm_why(struct ksm_plan *kp, enum ksm_why why,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void policy_thp_why(struct thp_plan *tp, enum thp_why why,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline int64_t
policy_abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* Water-fills over s->work (through the dense s->fill).
 * policy_fill_take: free want_kib of host memory from donors, the most
 * idle per share first, down to one common level. A donor's cap and
 * limit never pass its gain (the resident idle memory a shrink returns),
 * so what is taken is what the host gets back. Sets each donor's
 * take_kib; returns the host memory freed.
 * policy_fill_give: give up to budget_kib to entries with cap (only the
 * urgent ones with urgent_only), the least served per share first; sets
 * their give_kib and leaves the others'; returns the amount given.
 * spill: when a donor's step caps its take, let less idle donors make up
 * the rest this tick (critical: speed over order); without it the most
 * idle give first over as many ticks as their steps need, and a busy
 * guest is not squeezed just because the idle ones move slowly. */
int64_t policy_fill_take(struct policy_state *s, size_t n, int64_t want_kib,
    bool spill);
int64_t policy_fill_give(struct policy_state *s, size_t n,
    int64_t budget_kib, bool urgent_only);

/* Host memory a shrink of g from `from` to `to` gives back: at most its
 * resident idle memory, nothing when its shrinks return nothing; all of
 * it when the RSS is unknown. */
int64_t policy_shrink_frees(const struct policy_gwork *g, int64_t from,
    int64_t to);
/* Set g->gain_kib from its resident idle memory, less what its balloon
 * already on its way down returns. */
void policy_guest_gain(struct policy_gwork *g, int64_t actual_kib);
/* The guest RAM the host holds: the QEMU RSS less QEMU's own memory when
 * that was measured (*exact true), else the whole RSS, an upper bound.
 * MT_ABSENT without an RSS. */
int64_t policy_guest_ram_kib(const struct guest_snapshot *g, bool *exact);
/* policy_guest_gain for a guest with free page reporting, once its need
 * is known:
 * only what is resident above the lowest it may go counts. */
void policy_fpr_gain(struct policy_gwork *g, int64_t actual_kib);
/* Memory on its way to the host: balloons moving toward smaller targets
 * (their resident part), less the growth still to come. */
int64_t policy_inflight_kib(const struct snapshot *snap,
    const struct policy_state *s);

/* -------------------------------------- the history (policy_state.c) */

/* a work entry that has no history slot */
#define POLICY_NO_HIST ((size_t)-1)

/* Empty a history slot: every remembered value unknown. */
void policy_hist_clear(struct policy_guest_hist *h);
/* The slot of the guest with this UUID, taken fresh (*fresh set, the slot
 * cleared) when it has none. The table has room: policy_ensure_capacity
 * ran for this snapshot. */
size_t policy_hist_lookup(struct policy_state *s, const char *uuid,
    bool *fresh);

/* ----------------------- a guest's figures (policy_guest.c, vmem) */

/* True when the hard limit in force is memtuned's own (recorded, or
 * remembered in h), so it does not cap the guest. */
bool policy_hard_limit_own(const struct policy_config *c,
    const struct guest_snapshot *g, const struct policy_guest_hist *h);
/* What a guest with fresh stats uses, in balloon units: its balloon size
 * (MemTotal when the size is unknown) less MemAvailable, never below 0. */
int64_t policy_guest_used_kib(const struct guest_snapshot *g);
/* What a guest with fresh stats needs: used + the part of its disk caches
 * kept (cache_reclaim) + headroom_kib, the headroom the policy gave it
 * (plan's headroom_kib); MT_ABSENT: the headroom of a guest the policy
 * sees for the first time. The one definition the policy and the capacity
 * estimate share; the plan's need_kib adds the guest's unseen_kib and
 * burst_demand_kib. */
int64_t policy_guest_need_kib(const struct policy_config *c,
    const struct guest_snapshot *g, int64_t headroom_kib);
/* A burst seen on the host: what a guest whose QEMU RSS rises at
 * rate_kib_s will touch within burst_horizon; 0 under burst_rate, with
 * burst_horizon 0, or without a rate. */
int64_t policy_burst_demand_kib(const struct policy_config *c,
    int64_t rate_kib_s);
/* A guest's boot memory (max memory less its virtio-mem devices' sizes)
 * when every device can be driven (alias, block, sizes known); MT_ABSENT
 * otherwise: such a guest is moved by its balloon alone. */
int64_t policy_vmem_boot_kib(const struct guest_snapshot *g);

#endif
