/* policy.h - the decision module: (config, snapshot, state, now) -> plan.
 *
 * policy_decide() does no I/O and never reads a clock: the daemon, the
 * one-shot command, the simulator and the tests run the same code and get
 * the same plan from the same input. The plan is plain data: what to set
 * and why, per guest and for the host (KSM, THP).
 *
 * Units are in the names: _kib, _ms, _pmy (per-myriad, 1/10000), _pmil
 * (per-mille). No floats anywhere in the policy.
 */
#ifndef MEMTUNED_POLICY_H
#define MEMTUNED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* ---------------------------------------------------------------- config */

/* How memtuned treats a guest's memtune hard_limit. */
enum policy_hard_limit_mode {
	HARD_LIMIT_OFF,			/* never written */
	HARD_LIMIT_UNCOOPERATIVE,	/* only for guests whose balloon is stuck */
	HARD_LIMIT_ALWAYS,		/* every managed guest */
};

struct policy_config {
	/* [policy] host reserve: MemAvailable the host keeps for itself.
	 * reserve_kib set (not MT_ABSENT) overrides the automatic size,
	 * which is ESXi's minFree: reserve_fixed_kib for the first
	 * reserve_fixed_span_kib of MemTotal (scaled down on smaller hosts)
	 * plus reserve_rest_pmy of the rest. */
	int64_t reserve_kib;
	int64_t reserve_fixed_kib;
	int64_t reserve_fixed_span_kib;
	int64_t reserve_rest_pmy;

	/* pressure states, as MemAvailable in per-myriad of the reserve
	 * (written "400%" in the config: 4x the reserve) */
	int64_t plenty_pmy;		/* at or above: plenty */
	int64_t target_pmy;		/* what reclaim aims for */
	int64_t tight_pmy;		/* below: tight */
	int64_t critical_pmy;		/* below: critical */
	int64_t hysteresis_pmy;		/* extra margin to move to a better state */
	int64_t state_dwell_ms;		/* better state must hold this long */
	/* stall and fault signals (escalate by one state, never to plenty) */
	int64_t psi_some_tight_pmy;	/* PSI some avg10 */
	int64_t psi_full_critical_pmy;	/* PSI full avg10 */
	int64_t refault_tight_per_s;	/* workingset refaults, pages/s */
	int64_t majfault_tight_per_s;	/* host major faults/s */

	/* guest bounds */
	int64_t floor_default_pmy;	/* floor when none given: share of max */
	int64_t qemu_overhead_kib;	/* QEMU beyond guest RAM: fixed part */
	int64_t qemu_overhead_pmy;	/* ... plus this share of max memory */
	int64_t default_shares;
	/* [daemon] metadata: how far a domain's own <metadata> is taken;
	 * bounded caps its floor at this share of max memory and its shares
	 * at this many, and honours its exclude only when allowed */
	enum metadata_trust metadata_mode;
	int64_t metadata_floor_max_pmy;
	int64_t metadata_shares_max;
	bool metadata_exclude;

	/* what a guest needs: used + headroom; caches partly reclaimable */
	int64_t headroom_pmy;		/* of max memory: new or growing guests */
	int64_t headroom_steady_pmy;	/* ... guests whose use holds still */
	int64_t headroom_memory_ms;	/* a growth spurt is remembered for */
	int64_t headroom_min_kib;
	int64_t headroom_burst_pmy;	/* of max memory: most a guest keeps
					   after it ran out in a burst */
	int64_t cache_reclaim_pmy;	/* share of disk caches counted as idle */
	int64_t guest_majfault_per_s;	/* guest under pressure at/above */
	int64_t guest_swapin_kib_per_s;
	/* a burst seen on the host before the guest's stats show it: QEMU's
	 * resident memory rising at least this fast, and what it will need
	 * over the horizon at that rate */
	int64_t burst_rate_kib_per_s;
	int64_t burst_horizon_ms;	/* 0: bursts are not anticipated */

	/* steps and stability */
	int64_t step_max_pmy;		/* per tick, of the guest's max memory */
	int64_t step_max_kib;		/* per tick, absolute cap */
	int64_t critical_step_max_pmy;	/* the same when the host is critical */
	int64_t critical_step_max_kib;
	int64_t min_change_kib;		/* smaller changes are not sent */
	int64_t cooldown_ms;		/* between changes of one guest (calm) */
	int64_t reverse_cooldown_ms;	/* before a guest changes direction */
	int64_t deadband_kib;		/* on the host target */

	/* reclaim counts what the host gets back: a guest whose recent
	 * shrinks returned less than yield_min of the balloon they moved
	 * is not asked again for yield_retry */
	int64_t yield_min_pmy;
	int64_t yield_retry_ms;

	/* balloon progress (squeezed: inactive, then uncooperative) */
	int64_t balloon_inactive_ms;
	int64_t balloon_uncooperative_ms;
	int64_t balloon_retry_ms;	/* ask a stuck balloon again after */

	/* memtune */
	bool manage_soft_limit;
	enum policy_hard_limit_mode hard_limit_mode;
	int64_t swap_limit_kib;		/* swap allowed beyond hard_limit;
					   MT_ABSENT: swap_hard_limit not managed */
	bool manage_memory_low;		/* cgroup v2: floor as memory.low */
	/* a guest with virtio-mem devices is moved by plugging and
	 * unplugging their blocks, the balloon taking what is less than a
	 * block (docs/policy.md, "virtio-mem") */
	bool manage_virtio_mem;

	/* next interval by pressure state */
	int64_t interval_plenty_ms;
	int64_t interval_normal_ms;
	int64_t interval_tight_ms;
	int64_t interval_critical_ms;

	/* [ksm] */
	bool ksm_manage;
	int64_t ksm_start_committed_pmy;	/* guest max sum / MemTotal */
	int64_t ksm_stop_committed_pmy;
	int64_t ksm_pages_min;
	int64_t ksm_pages_max;
	int64_t ksm_sleep_min_ms;
	int64_t ksm_sleep_max_ms;
	int64_t ksm_cpu_max_pmil;		/* ksmd CPU budget, of one core */
	int64_t ksm_pay_min_kib_per_min;	/* merging pays at/above */
	bool ksm_use_advisor;			/* advisor_mode=scan-time */
	int64_t ksm_advisor_scan_time_s;
	int64_t ksm_backoff_ms;		/* after another manager moved KSM */

	/* [thp] */
	bool thp_manage;
	char thp_pressure_defrag[24];		/* defrag under overcommit */
	int64_t thp_pressure_scan_sleep_ms;	/* khugepaged under overcommit */
	int64_t thp_pressure_pages_to_scan;
	int64_t thp_pressure_max_ptes_none;
};

void policy_config_defaults(struct policy_config *c);
/* section is "policy", "ksm" or "thp"; returns 0, -ENOENT for an unknown
 * key (the caller reports it with the line number), -EINVAL with a message
 * in err for a bad value. Values use util.h parsers (sizes "512M",
 * percents "10%", durations "30s"). */
int policy_config_set(struct policy_config *c, const char *section,
    const char *key, const char *value, char *err, size_t errlen);
/* Cross-field checks after every key is set; 0 or -EINVAL with a message. */
int policy_config_validate(const struct policy_config *c, char *err,
    size_t errlen);

/* ------------------------------------------------------------------ plan */

enum host_pressure {
	PRESSURE_PLENTY,
	PRESSURE_NORMAL,
	PRESSURE_TIGHT,
	PRESSURE_CRITICAL,
};

enum guest_action {
	ACT_NONE,		/* managed, nothing to change this tick */
	ACT_BALLOON,
	ACT_MEMTUNE,
	ACT_BOTH,
	ACT_LEAVE_ALONE,	/* excluded, config error: do not touch */
};

enum guest_plan_state {
	GPS_OK,
	GPS_UNCOOPERATIVE,
	GPS_STALE,		/* stats stale or absent: never read as idle */
	GPS_EXCLUDED,
	GPS_CONFIG_ERROR,
	GPS_FIXED,		/* hugepages, locked or no balloon: fixed size */
	GPS_PAUSED,		/* held by memtunectl pause */
	GPS_RELEASED,		/* given back by memtunectl release */
};

/* Each reason comes with a stable code: the text is for people and may be
 * reworded, the code (and its key, policy_*_why_name) is what scripts,
 * dashboards and tests match on (docs/policy.md lists the keys). 0 is
 * "none": no reason written this tick. */

/* Why a guest has the target and state it has. */
enum guest_why {
	GW_WHY_NONE,
	/* left alone */
	GW_WHY_EXCLUDED,
	GW_WHY_PAUSED,			/* memtunectl pause */
	GW_WHY_RELEASED,		/* memtunectl release */
	GW_WHY_NO_UUID,
	GW_WHY_NOT_RUNNING,
	GW_WHY_CONFIG_ERROR,		/* bounds in error (floor, max) */
	GW_WHY_HUGEPAGES,		/* fixed size */
	GW_WHY_LOCKED,
	GW_WHY_NO_BALLOON,
	GW_WHY_SIZE_UNKNOWN,		/* balloon size unknown */
	/* held */
	GW_WHY_UNCOOPERATIVE,		/* balloon stuck: held by memtune */
	GW_WHY_WAITING,			/* balloon not moving yet */
	GW_WHY_STATS_INCOMPLETE,
	GW_WHY_STATS_STALE,
	GW_WHY_NO_STATS,
	/* the balloon pass */
	GW_WHY_OUT_OF_BOUNDS,		/* moved into floor..ceiling */
	GW_WHY_BELOW_MIN_CHANGE,
	GW_WHY_HOST_TAKES,		/* gives for the host */
	GW_WHY_BURST_FED,
	GW_WHY_PRESSURE_FED,
	GW_WHY_DEFLATED,		/* deflate on OOM took balloon back */
	GW_WHY_AT_CEILING,		/* under pressure at its ceiling */
	GW_WHY_NO_ROOM,			/* under pressure, nothing to feed it */
	GW_WHY_PLENTY_GIVES,
	GW_WHY_FPR_RETURNS,		/* free page reporting: not asked */
	GW_WHY_RETURNS_NOTHING,		/* its balloon returned nothing */
	GW_WHY_NEVER_TOUCHED,		/* idle but not resident */
	GW_WHY_STEADY,
	/* the node rule */
	GW_WHY_NODE_BELOW_MIN_CHANGE,
	GW_WHY_NODE_CAPPED,		/* growth cut to the node's room */
	GW_WHY_NODE_TAKES,
	GW_WHY_NODE_FED,
	GW_WHY_NODE_NO_ROOM,
	GW_WHY_NODE_STEADY,
	/* a reserve for a starting VM (policy_reserve) */
	GW_WHY_RESERVE_TAKES,
	GW_WHY_RAISED_TO_FLOOR,
	GW_WHY_RESERVE_HELD,
	GW_WHY_N,
};

/* What set the host's pressure state. The node rule and a shortfall are
 * added to the text and have their own fields (nodes, short_kib). */
enum host_why {
	HW_WHY_NONE,
	HW_WHY_MEM_AVAILABLE,		/* MemAvailable against the reserve */
	HW_WHY_PSI_FULL,
	HW_WHY_PSI_SOME,
	HW_WHY_REFAULTS,
	HW_WHY_MAJOR_FAULTS,
	HW_WHY_HELD,			/* better, held for state_dwell */
	HW_WHY_N,
};

/* What KSM's plan does, by the first clause of its reason. */
enum ksm_why {
	KSM_WHY_NONE,
	KSM_WHY_NOT_MANAGED,
	KSM_WHY_NOT_IN_KERNEL,
	KSM_WHY_OUTSIDE_CHANGE,		/* another manager: backing off */
	KSM_WHY_BACKING_OFF,
	KSM_WHY_SWITCHED_ON,
	KSM_WHY_SWITCHED_OFF,
	KSM_WHY_OFF,
	KSM_WHY_SHORT_PRICED,		/* host short: the budget at the cost
					   of a page */
	KSM_WHY_SHORT_SCALED,		/* host short: scaled by ksmd's CPU */
	KSM_WHY_SHORT_START,		/* host short: the first rate */
	KSM_WHY_ADVISOR,
	KSM_WHY_PROBING_FASTER,
	KSM_WHY_PROBING_HELD,
	KSM_WHY_OVER_BUDGET,
	KSM_WHY_PAYS,
	KSM_WHY_STOPPED_PAYING,
	KSM_WHY_HOLDING,
	KSM_WHY_BUDGET_CAP,
	KSM_WHY_N,
};

/* What THP's plan does. */
enum thp_why {
	THP_WHY_NONE,
	THP_WHY_NOT_MANAGED,
	THP_WHY_NOT_IN_KERNEL,
	THP_WHY_OVERCOMMIT,		/* prefer merging */
	THP_WHY_PLENTIFUL,		/* KSM on, memory plentiful */
	THP_WHY_KSM_OFF,
	THP_WHY_N,
};

/* Reasons are the text `memtunectl explain` prints; 160 bytes holds the
 * longest one with two sizes in MiB and a name-free phrase. */
#define POLICY_REASON_MAX 160

/* What [daemon] metadata made of a guest's metadata: what it asked for
 * where that was capped, raised or refused; MT_ABSENT / false where it
 * was taken as given. */
struct policy_metadata_cap {
	int64_t floor_kib;		/* above metadata_floor_max: capped */
	int64_t ceiling_kib;		/* below the floor: raised to it */
	int64_t shares;			/* above metadata_shares_max */
	bool exclude;			/* exclude="yes" not honoured */
	bool low_refused;		/* the floor, from metadata alone, not
					   made memory.low */
};

struct guest_plan {
	char uuid[MT_UUID_LEN];
	char name[MT_NAME_MAX];
	enum guest_action action;
	enum guest_plan_state state;
	/* the input the policy used, after [daemon] metadata, with where
	 * each bound came from (SRC_LIBVIRT: a ceiling the domain's hard
	 * limit set), and what metadata asked for that it did not get */
	struct guest_input input;
	struct policy_metadata_cap meta_cap;
	int64_t floor_kib;
	int64_t ceiling_kib;
	int64_t need_kib;		/* used + headroom (+ unseen_kib +
					   burst_demand_kib), MT_ABSENT unknown */
	int64_t headroom_kib;		/* its part of need: follows growth */
	int64_t actual_kib;
	int64_t target_kib;		/* balloon target (== actual: no change) */
	/* a guest with virtio-mem devices (policy_vmem_route): when vmem
	 * is set, target_kib is where the guest's memory ends up once its
	 * devices have (un)plugged, and what is sent is balloon_kib (the
	 * balloon's own size, in the boot memory: what libvirt's setmem
	 * takes for such a guest; MT_ABSENT: no balloon call) and
	 * vmem_req_kib[d] (device d's new requested size; MT_ABSENT: left
	 * as is), devices as in backing.vmem.dev */
	bool vmem;
	bool by_vmem;			/* its moves go by virtio-mem: devices
					   memtuned drives (every tick, moved
					   or not) */
	int64_t balloon_kib;
	int64_t vmem_req_kib[MT_VMEM_MAX];
	int64_t vmem_moved_kib;		/* plugged (+) or unplugged (-) */
	/* memtune to write; MT_ABSENT: leave as is */
	int64_t soft_limit_kib;
	int64_t hard_limit_kib;
	int64_t swap_hard_limit_kib;
	int64_t memory_low_kib;		/* cgroup v2 only */
	/* what the host got back from this guest's balloon: measured as
	 * its QEMU RSS fell while the balloon inflated (lifetime sums, and
	 * the recent share that decides whether it is asked again) */
	int64_t ballooned_kib;
	int64_t returned_kib;
	int64_t unresident_kib;		/* of the rest, not held by the host
					 * before: nothing to return */
	int64_t yield_pmy;		/* MT_ABSENT: not measured yet */
	int64_t gain_kib;		/* resident idle a shrink would return */
	int64_t burst_kib;		/* remembered burst (0: none) */
	int64_t deflated_kib;		/* balloon taken back this tick by
					 * deflate on OOM (0: none) */
	int64_t rss_rate_kib_s;		/* its QEMU RSS rising (MT_ABSENT) */
	int64_t unseen_kib;		/* touched since its stats (RSS) */
	int64_t burst_demand_kib;	/* of its need, what a burst takes
					   within burst_horizon (0: none) */
	bool bursting;			/* runs out within burst_horizon */
	bool pressured;			/* short of its headroom, faulting or
					   swapping: fed whatever the cooldowns */
	enum guest_why reason_code;	/* set with reason */
	char reason[POLICY_REASON_MAX];
};

/* A memtune value meaning "no limit" (the actuator writes libvirt's
 * VIR_DOMAIN_MEMORY_PARAM_UNLIMITED). */
#define POLICY_LIMIT_UNLIMITED INT64_MAX

/* A KSM or THP knob the plan writes; MT_ABSENT / "" = leave alone. */
struct ksm_plan {
	bool change;			/* any field below to write */
	int64_t run;
	int64_t pages_to_scan;
	int64_t sleep_millisecs;
	char advisor_mode[16];
	int64_t advisor_target_scan_time;
	int64_t advisor_max_cpu;
	bool backoff;			/* another manager moved KSM */
	enum ksm_why reason_code;	/* set with reason */
	char reason[POLICY_REASON_MAX];
};

struct thp_plan {
	bool change;
	char defrag[24];
	int64_t khugepaged_scan_sleep_millisecs;
	int64_t khugepaged_pages_to_scan;
	int64_t khugepaged_max_ptes_none;
	enum thp_why reason_code;	/* set with reason */
	char reason[POLICY_REASON_MAX];
};

/* One host NUMA node (hosts with two or more). Its state is the host's
 * rule on its own share: available memory against the reserve scaled by
 * node_total / MemTotal, the same thresholds, no hysteresis (policy.md). */
struct node_plan {
	int64_t total_kib;		/* MT_ABSENT: no such node */
	int64_t free_kib;
	int64_t avail_kib;		/* free + its share of what the host
					   can reclaim (MemAvailable-MemFree) */
	int64_t reserve_kib;
	int64_t target_avail_kib;
	int64_t ratio_pmy;		/* avail in per-myriad of the reserve */
	enum host_pressure pressure;
	bool rule;			/* tight or critical while the host is
					   not: confined guests follow the node */
	int nr_confined;		/* managed guests confined to it */
	int64_t need_kib;		/* reclaim aimed at its shortfall */
	int64_t taken_kib;
	int64_t freed_kib;
	int64_t given_kib;		/* to its guests under pressure */
};

struct policy_plan {
	enum host_pressure pressure;
	enum host_why pressure_reason_code;	/* set with pressure_reason */
	char pressure_reason[POLICY_REASON_MAX];
	int64_t reserve_kib;
	int64_t target_avail_kib;
	int64_t need_kib;		/* host shortfall after in-flight */
	int64_t short_kib;		/* of need, what no guest can return:
					   nothing left to reclaim */
	int64_t taken_kib;		/* sum of balloon decreases planned */
	int64_t given_kib;		/* sum of balloon increases planned */
	int64_t freed_kib;		/* host memory the takes free: only
					   what was resident (policy.md) */
	int64_t next_interval_ms;
	struct ksm_plan ksm;
	struct thp_plan thp;
	/* admission (policy_reserve) */
	int64_t reserve_request_kib;
	int64_t reserve_possible_kib;
	/* per NUMA node, indexed by node id; 0 on a one-node host */
	int nr_nodes;
	struct node_plan nodes[MT_MAX_NODES];
	size_t nr_guests;
	size_t cap_guests;
	struct guest_plan *guests;	/* same order as snapshot guests */
};

/* --------------------------------------------------------------- results */

/* What became of one kind of planned change, as the actuator reports it.
 * Only OUTCOME_APPLIED moves what the policy remembers having asked
 * (policy_commit): a change that was not carried out is asked again. */
enum policy_outcome {
	OUTCOME_NONE,		/* nothing of this kind to send */
	OUTCOME_APPLIED,	/* sent, and the system took it */
	OUTCOME_FAILED,		/* sent, and libvirt or the kernel refused */
	OUTCOME_REFUSED,	/* stopped by the actuator's safety net */
	OUTCOME_SKIPPED,	/* not sent: connection lost, switched off */
	OUTCOME_DRY_RUN,	/* only logged */
	OUTCOME_GONE,		/* the guest went away */
};

struct policy_guest_result {
	enum policy_outcome balloon;
	enum policy_outcome memtune;	/* the memtune call as a whole */
	enum policy_outcome hard_limit;	/* the hard limit in it */
	enum policy_outcome memory_low;
};

/* One result per plan guest, in the plan's order. */
struct policy_results {
	size_t nr_guests;
	size_t cap_guests;
	struct policy_guest_result *guests;
	bool ksm_applied;		/* every KSM write went through */
	bool thp_applied;
};

int policy_results_init(struct policy_results *r, size_t nr_guests);
void policy_results_free(struct policy_results *r);
/* Size r for plan p, every outcome OUTCOME_NONE. 0 or -ENOMEM. */
int policy_results_reset(struct policy_results *r, const struct policy_plan *p);
/* Every change of p carried out: the results of an actuator that cannot
 * fail (the simulator; tests of the policy alone). 0 or -ENOMEM. */
int policy_results_all_applied(struct policy_results *r,
    const struct policy_plan *p);
const char *policy_outcome_name(enum policy_outcome o);

/* ----------------------------------------------------------------- state */

/* What the policy remembers about one guest between ticks. */
struct policy_guest_hist {
	char uuid[MT_UUID_LEN];		/* "" = free slot */
	bool tomb;			/* slot was used: probe past it */
	int64_t seen_ms;
	int64_t last_target_kib;	/* MT_ABSENT: nothing sent yet */
	int64_t last_change_ms;
	int last_dir;			/* -1 shrink, +1 grow, 0 none */
	int64_t progress_actual_kib;	/* actual when progress last seen */
	int64_t progress_ms;
	bool uncooperative;
	int64_t uncoop_since_ms;
	bool hard_limit_set;		/* memtuned wrote its hard_limit */
	/* the last sample, to measure what a shrink returned and whether
	 * the guest ran out between two samples. The balloon size, RSS,
	 * QEMU's part and KSM merging, with yb_used_kib, are the yield's
	 * base: held while a shrink is in flight and the size has not
	 * moved yet (policy_guest.c, sample_yield) */
	int64_t samp_ms;
	int64_t samp_actual_kib;
	int64_t samp_rss_kib;
	int64_t samp_own_kib;		/* QEMU's own part of it, if known */
	int64_t yb_used_kib;		/* the guest's use at the base */
	int64_t samp_used_kib;
	int64_t samp_usable_kib;
	int64_t samp_minor_fault;
	int64_t samp_ksm_merging_kib;
	/* what shrinks returned: a recent window that decays, and sums */
	int64_t yield_taken_kib;
	int64_t yield_back_kib;
	int64_t yield_unres_kib;	/* of the rest, not resident before */
	int64_t yield_ms;		/* last shrink measured */
	int64_t total_taken_kib;
	int64_t total_back_kib;
	int64_t total_unres_kib;
	/* the guest ran out in a burst: what it asked for (doubled), kept
	 * like a growth spurt */
	int64_t burst_kib;
	int64_t burst_ms;
	/* the guest's used memory, for its headroom: the last sample and
	 * the largest growth per reaction window lately (MT_ABSENT: none) */
	int64_t used_kib;
	int64_t used_ms;
	int64_t spurt_kib;
	int64_t spurt_ms;
	/* the guest's stats as last seen changing (its last_update) and
	 * the QEMU RSS then: what the RSS rose since is memory the guest
	 * touched that its stats do not show yet */
	int64_t stats_update_s;
	int64_t stats_rss_kib;
	/* the last tick the guest's stats were usable (MT_ABSENT: never) */
	int64_t stats_ok_ms;
};

struct policy_gwork;
struct policy_fill;

struct policy_state {
	bool started;
	enum host_pressure pressure;
	int64_t better_since_ms;	/* MT_ABSENT: no better state pending */
	enum host_pressure better_cand;
	int64_t last_ms;

	/* KSM loop memory */
	bool ksm_on;
	int64_t ksm_pages;
	int64_t ksm_sleep_ms;
	int64_t ksm_prev_profit_kib;
	int64_t ksm_prev_ms;
	bool ksm_applied_valid;		/* values below were written */
	int64_t ksm_applied_run;
	int64_t ksm_applied_pages;
	int64_t ksm_applied_sleep;
	bool ksm_applied_advisor;	/* written with the advisor in charge */
	int64_t ksm_backoff_until_ms;
	int64_t ksm_on_full_scans;	/* full_scans when memtuned turned
					   KSM on; MT_ABSENT: not probing */
	int64_t ksm_probe_rss_kib;	/* mergeable guest RSS the probe
					   started from, or its low since */
	int64_t ksm_probe_grew_kib;	/* growth that restarted the probe;
					   0: probing since KSM went on */
	/* planned last tick, pending policy_note_applied() */
	bool ksm_pending_valid;
	int64_t ksm_pending_run;
	int64_t ksm_pending_pages;
	int64_t ksm_pending_sleep;
	bool ksm_pending_advisor;
	/* the host short: ksmd runs at the rate its CPU budget buys, from
	 * what a scanned page cost since the last tick */
	bool ksm_short;
	bool ksm_short_pays;		/* merging pays, with hysteresis */
	int64_t ksm_prev_scanned;
	int64_t ksm_prev_cpu_ms;

	/* THP: what the host had before memtuned changed it */
	bool thp_baseline_valid;
	char thp_base_defrag[24];
	int64_t thp_base_scan_sleep_ms;
	int64_t thp_base_pages_to_scan;
	int64_t thp_base_max_ptes_none;
	bool thp_pressured;

	/* guest history: open-addressed table, power-of-two size, grown
	 * only when live entries pass half of it */
	struct policy_guest_hist *hist;
	size_t hist_cap;
	size_t hist_used;		/* live + tombstones */
	size_t hist_cursor;		/* where the expiry sweep goes on */
	/* per-tick scratch, one entry per snapshot guest */
	struct policy_gwork *work;
	struct policy_fill *fill;	/* water-fill, dense for the cache */
	size_t work_cap;
};

/* Allocate the state and a plan for up to nr_guests guests; both grow
 * later only when a snapshot holds more. 0 or -ENOMEM. */
int policy_state_init(struct policy_state *s, size_t nr_guests);
void policy_state_free(struct policy_state *s);
int policy_plan_init(struct policy_plan *p, size_t nr_guests);
void policy_plan_free(struct policy_plan *p);

/* Decide. 0, -EINVAL for a snapshot the policy cannot read (MemTotal or
 * MemAvailable absent), -ENOMEM when growing state for more guests fails.
 * Deciding moves only what was observed (the host's state and its dwell,
 * each guest's use and balloon progress, the KSM loop); what memtuned
 * asked of a guest moves in policy_commit(), with what was carried out. A
 * plan that is only printed (a dry run) is simply not committed. */
int policy_decide(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, struct policy_plan *plan);

/* Remember what of the last plan decided on s was carried out (r from
 * act_apply_plan, or policy_results_all_applied), at the plan's time:
 * for each guest whose balloon target was applied, the target, its
 * direction, the time of the change and the progress clock; for each
 * hard limit applied, whether memtuned now holds one; the KSM settings
 * written (policy_note_applied). Nothing else moves: a target that was
 * not sent is asked again at the next tick. */
void policy_commit(struct policy_state *s, const struct policy_plan *p,
    const struct policy_results *r, int64_t now_ms);

/* The caller wrote the plan's KSM settings: they become what the policy
 * expects to read back, so a later difference means another manager. */
void policy_note_applied(struct policy_state *s, const struct policy_plan *p);

/* Admission: free need_kib for a VM about to start, from other guests
 * within their bounds (floor, and what each is using plus headroom).
 * 0 with the plan to carry out, or -ENOSPC when it cannot, with
 * plan->reserve_possible_kib saying how much it could. */
int policy_reserve(const struct policy_config *c, const struct snapshot *snap,
    struct policy_state *s, int64_t now_ms, int64_t need_kib,
    struct policy_plan *plan);

/* A guest's input as the policy takes it under [daemon] metadata: the
 * snapshot's merged input (memtuned.conf first, then metadata), with the
 * values only metadata gave taken whole (trust), dropped (ignore), or
 * capped by memtuned.conf (bounded); cap records what was cut. Pure. */
void policy_guest_input(const struct policy_config *c,
    const struct guest_snapshot *g, struct guest_input *in,
    struct policy_metadata_cap *cap);

/* Per-guest bounds as policy_decide uses them: 0, or -EINVAL with the
 * reason in err (floor above ceiling, max memory unknown). own_hard_limit:
 * the hard_limit in the snapshot is memtuned's own, so it does not cap. */
int policy_guest_bounds(const struct policy_config *c,
    const struct guest_snapshot *g, bool own_hard_limit, int64_t *floor_kib,
    int64_t *ceiling_kib, char *err, size_t errlen);
/* memtuned's record in the domain's metadata describes the hard limit in
 * force (within min_change: libvirt reads it back in whole pages): the
 * limit is memtuned's, not an operator's. */
bool policy_hard_limit_recorded(const struct policy_config *c,
    const struct guest_snapshot *g);
/* For the daemon's watch between ticks: guest g of the last snapshot,
 * planned as gp, has its QEMU RSS at rss_kib now, rising at rate_kib_s.
 * True when at that rate it runs short of its headroom within
 * burst_horizon and its ceiling leaves room to give: a tick is due now,
 * not at its time. */
bool policy_burst_imminent(const struct policy_config *c,
    const struct guest_snapshot *g, const struct guest_plan *gp,
    int64_t rss_kib, int64_t rate_kib_s);
/* The automatic host reserve for a MemTotal, or the configured one. */
int64_t policy_host_reserve_kib(const struct policy_config *c,
    int64_t mem_total_kib);
/* The most a reserve (rebalance --reserve) could ever get on a host of
 * this MemTotal: all of it but the MemAvailable the policy keeps (its
 * reclaim target), were every guest gone. A larger one is refused at
 * once, with no tick run for it. */
int64_t policy_reserve_max_kib(const struct policy_config *c,
    int64_t mem_total_kib);
int64_t policy_qemu_overhead_kib(const struct policy_config *c,
    int64_t max_kib);
/* For a guest with virtio-mem devices, carry gp's move (actual ->
 * target_kib) by their blocks where they can be driven (a shrink from the
 * devices on host nodes in short_nodes first, a grow into the others) and
 * manage_virtio_mem allows, else by the balloon alone: fills gp->vmem,
 * balloon_kib, vmem_req_kib and vmem_moved_kib, sets target_kib to where
 * the guest ends up (a block's rounding, inside the ceiling) and notes
 * the unplug or plug in the reason. false for a guest without devices
 * (gp untouched: target_kib is the balloon's target). */
bool policy_vmem_route(const struct policy_config *c,
    const struct guest_snapshot *g, uint64_t short_nodes,
    struct guest_plan *gp);

/* The node a guest confined to `mask` draws on: the node of the set in
 * the best state; -1 when the set names no node of the host or every
 * node (then it is as good as unbound). */
int policy_home_node(const struct policy_plan *plan, uint64_t mask);
/* v * num / den for sizes in KiB and fractions: plain 64-bit arithmetic
 * when the product cannot overflow (every real size), 128-bit otherwise;
 * the per-tick loops call this for every guest. */
static inline int64_t
policy_scale(int64_t v, int64_t num, int64_t den)
{
	int64_t prod;

	if (!__builtin_mul_overflow(v, num, &prod))
		return prod / den;
	return (int64_t)((__int128)v * num / den);
}

const char *policy_pressure_name(enum host_pressure p);
const char *policy_action_name(enum guest_action a);
const char *policy_guest_state_name(enum guest_plan_state s);
/* The short snake_case key of a reason's code ("returns_nothing"); "?"
 * for a value out of range. */
const char *policy_guest_why_name(enum guest_why w);
const char *policy_host_why_name(enum host_why w);
const char *policy_ksm_why_name(enum ksm_why w);
const char *policy_thp_why_name(enum thp_why w);

#endif
