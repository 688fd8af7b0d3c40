/* sim.h - memtuned-sim: a trace-driven model of a KVM host and its guests
 * that runs memtuned's own policy_decide() (and the rules of the tools it
 * replaces) tick by tick. See docs/simulator.md for the model and the
 * workload file format. The simulator is not part of the daemon: it uses
 * floating point freely; the policy it drives does not. */
#ifndef MEMTUNED_SIM_H
#define MEMTUNED_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

#define SIM_MAX_CLASSES 8
#define SIM_MAX_POINTS 64
#define SIM_MAX_BURSTS 4
#define SIM_MAX_STEPS 16
#define SIM_NAME_MAX 64
/* KSM merge cohorts kept per pool; older ones are folded together */
#define SIM_KSM_COHORTS 32

/* A working set over the day: (minute of day, per-myriad of max memory),
 * linear between points, repeating every 24 h. */
struct sim_point {
	int64_t minute;
	int64_t ws_pmy;
};

/* A build: every period_s each guest starts one with probability prob_pmy
 * at a random offset; it adds ws_pmy of max memory for len_s. */
struct sim_burst {
	int64_t period_s;
	int64_t len_s;
	int64_t ws_pmy;
	int64_t prob_pmy;
};

/* A scheduled load, as the testbed's loadgen runs it: at at_s the
 * workload allocates (and touches) or frees kib, in every VM of the class
 * or only in its vm-th (1-based). What steps allocated is what a guest's
 * OOM killer takes. */
enum sim_step_op {
	SIM_STEP_ALLOC,
	SIM_STEP_FREE,
};

struct sim_step {
	int64_t at_s;
	enum sim_step_op op;
	int64_t kib;
	int64_t vm;			/* 0: every VM of the class */
	int64_t dup_pmy;		/* alike in other guests; class dup if absent */
};

struct sim_class {
	char name[SIM_NAME_MAX];
	int64_t weight;			/* share of the VMs, relative */
	int64_t vm_kib;			/* max memory of each VM */
	int64_t dup_pmy;		/* KSM-mergeable share of used memory */
	int64_t dup_idle_pmy;		/* the same of resident free memory */
	int64_t cache_pmy;		/* free memory the guest fills with cache */
	int64_t boot_touch_pmy;		/* memory touched (resident) at boot */
	int64_t uncoop_pmy;		/* share of guests whose balloon is stuck */
	int64_t jitter_pmy;		/* per-guest scale of the working set */
	int64_t spread_s;		/* per-guest shift of the profile */
	int64_t noise_pmy;		/* per-tick random walk of the working set */
	struct sim_point pts[SIM_MAX_POINTS];
	size_t nr_pts;
	struct sim_burst bursts[SIM_MAX_BURSTS];
	size_t nr_bursts;
	struct sim_step steps[SIM_MAX_STEPS];
	size_t nr_steps;
};

struct sim_workload {
	char name[SIM_NAME_MAX];
	char path[256];
	int64_t host_kib;
	int64_t host_base_kib;		/* host OS and services, resident */
	int64_t host_cache_kib;		/* host page cache when room allows */
	int64_t qemu_overhead_kib;	/* per VM beyond guest RAM */
	int64_t guest_min_kib;		/* below ws + this the guest starves */
	int64_t guest_reserve_kib;	/* guest RAM outside its MemTotal */
	int64_t guest_kernel_kib;	/* the guest kernel's use, in MemTotal */
	int64_t guest_watermark_kib;	/* MemAvailable = MemFree + cache - it */
	bool guest_swap;		/* a balloon can push a guest into swap */
	int64_t thp_extra_pmy;		/* resident beyond a newly touched page */
	int64_t baseline_floor_pmy;	/* MoM's and Proxmox's per-VM floor */
	int64_t duration_s;
	int64_t dt_s;
	int64_t vms_min, vms_max;	/* VM count search range */
	int64_t balloon_kib_per_s;	/* inflate/deflate speed */
	int64_t touch_kib_per_s;	/* how fast a step's allocation fills
					   the guest; 0: at once */
	int64_t ksm_page_cost_ns;	/* ksmd CPU per scanned page */
	int64_t ksm_merge_cost_ns;	/* ksmd CPU per page merged */
	int64_t ksm_efficiency_pmy;	/* scan rate reached of what knobs ask */
	int64_t cache_fill_kib_per_s;	/* guest page cache growth */
	int64_t boot_spread_s;		/* VMs start evenly over this */
	bool ksm_advisor;		/* kernel has advisor_mode (6.8+) */
	uint64_t seed;
	int64_t storm_start_s, storm_end_s;	/* -1: no storm */
	struct sim_class classes[SIM_MAX_CLASSES];
	size_t nr_classes;
};

/* Parse a workload file; 0 or -errno with "file:line: message" in err. */
int sim_workload_load(const char *path, struct sim_workload *w, char *err,
    size_t errlen);
/* The same from a string (the self-test), path used in messages. */
int sim_workload_parse(const char *text, const char *path,
    struct sim_workload *w, char *err, size_t errlen);

/* --------------------------------------------------------------- model */

/* A guest's RAM as the host sees it. The guest holds reserve (outside its
 * MemTotal), its kernel, its working set and its page cache; the rest is
 * free, and of the free pages "idle" are resident on the host (freed
 * after use, touched at boot, or the untouched rest of a huge page).
 * resident = reserve + kernel + ws + cache + idle. */
struct sim_mem {
	double actual_kib;		/* balloon size as the guest has it */
	double ws_kib;			/* anonymous memory the guest holds */
	double cache_kib;
	double idle_kib;		/* free in the guest, resident on the host */
	double freed_kib;		/* of idle, what the guest freed */
	double freed_alike_kib;		/* of that, alike in other guests */
	/* of idle, the pages alike in other guests (zeroed, or freed data
	 * others hold too), and of them what was freed since KSM last
	 * looked: a freed page keeps its content and stays merged */
	double idle_alike_kib, released_alike_kib;
};

struct sim_guest {
	int cls;
	int64_t cls_idx;		/* 1-based position within its class */
	bool uncoop;
	bool up;			/* booted */
	int64_t boot_s;
	int64_t held_s;			/* start delayed by admission */
	double jitter;			/* scale of the working set */
	int64_t shift_s;
	uint64_t seed;
	int64_t max_kib;
	struct sim_mem m;
	int64_t target_kib;		/* what the controller asked */
	int64_t hard_limit_kib;		/* MT_ABSENT: none */
	int64_t soft_limit_kib;
	double demand_kib;		/* what the profile, builds and walk ask */
	double noise;			/* random walk state, fraction of max */
	double profile_kib;		/* of the demand, the profile and builds */
	double step_alike_kib;		/* of step_kib, alike in other guests */
	double ws_alike_pmy;		/* of the working set held, alike */
	double step_kib;		/* what the steps allocated, on top */
	size_t next_step;
	double resident_kib;		/* host pages backing guest RAM */
	struct sim_mem shadow;		/* the same guest with no controller */
	double static_resident_kib;
	double short_kib;		/* demand + min above what it may use */
	double ksm_merged_kib;		/* its pages KSM merged */
	double sav_used_kib, sav_idle_kib;	/* its mergeable pages */
	int64_t minor_fault;		/* pages touched, ever */
	int64_t major_fault;
	int64_t major_fault_per_s;
	int64_t oom_kills;
	int64_t last_oom_s;		/* -1: none yet */
};

/* KSM merges a page on the pass after the one that first saw it
 * unchanged: mergeable pages that appeared at scan progress p0 (in full
 * passes) are merged by clamp(p - p0 - 1, 0, 1) at progress p. A pool
 * holds cohorts of pages by the progress they appeared at. */
struct sim_ksm_cohort {
	double kib;
	double p0;
};

struct sim_ksm_pool {
	double savable_kib;
	struct sim_ksm_cohort c[SIM_KSM_COHORTS];
	size_t n;
};

enum sim_policy {
	SIM_STATIC,
	SIM_KSMTUNED,
	SIM_MOM,
	SIM_PROXMOX,
	SIM_MEMTUNED_NORESERVE,
	SIM_MEMTUNED,
	SIM_ORACLE,
	SIM_NR_POLICIES,
};

struct sim_result {
	int64_t vms;
	double starve_guest_min;	/* guest-minutes short of ws + min */
	double host_swap_min;		/* minutes over the host's watermark */
	double short_guest_min;		/* guest-minutes with free < 5 % */
	int64_t balloon_ops;
	double reclaimed_avg_kib;	/* static usage - this usage */
	double limit_avg_kib;		/* dup + idle above the needed floor */
	double ksm_saved_avg_kib;
	double ksmd_cpu_avg_pmil;
	double host_used_peak_kib;
	double storm_recover_s;		/* -1: no storm in the workload */
	int64_t policy_errors;
	int64_t boot_held_s;		/* VM start delays, summed */
	int64_t oom_kills;		/* workloads the guests' OOM killer took */
};


/* The host as the model holds it; controllers read it through snapshots
 * (memtuned) or the values their own tools read (baselines). */
struct sim_host {
	const struct sim_workload *w;
	struct sim_guest *g;
	size_t n;
	int64_t now_s;
	double used_kib;		/* base + guests + overhead - KSM */
	double cached_kib, free_kib, avail_kib;
	double watermark_kib;		/* below this free the host swaps */
	/* KSM knobs and counters */
	int64_t ksm_run, ksm_pages, ksm_sleep_ms;
	char ksm_advisor[16];		/* "" without the advisor */
	int64_t ksm_adv_scan_time_s, ksm_adv_max_cpu;
	double ksm_saved_kib, ksm_savable_kib, ksm_cpu_ms, ksm_cpu_pmil;
	double ksm_scanned_pages;	/* ever (pages_scanned) */
	double ksm_progress;		/* full passes, ever (full_scans) */
	double ksm_rate;		/* pages a second this tick */
	struct sim_ksm_pool ksm_used, ksm_idle;
	double psi_some, psi_full, psi_some_us, psi_full_us;
	double pswpout, swapping_kib;
	int64_t balloon_ops;
	/* a step's allocation that does not fit, filling the guest at
	 * touch_rate: the controller may feed the guest before it is full
	 * (memtuned's burst watch). Given what the guest had left and what
	 * the step lacks, the KiB its balloon gave in time; NULL: none */
	double (*burst)(struct sim_host *h, size_t i, double left_kib,
	    double short_kib, void *arg);
	void *burst_arg;
};

/* memtuned's burst watch for the model (sim_host.burst): arg is the
 * struct sim_ctl; 0 for the other controllers. */
double sim_ctl_burst(struct sim_host *h, size_t i, double left_kib,
    double short_kib, void *arg);

/* A controller asks a guest's balloon for kib (clamped to 64 MiB..max);
 * counts an operation when the target changes. */
void sim_set_target(struct sim_host *h, size_t i, int64_t kib);

struct sim_ctl {
	enum sim_policy pol;
	int64_t next_s;			/* next balloon/policy decision */
	int64_t next_ksm_s;		/* next ksmtuned loop */
	int64_t ksm_npages;		/* ksmtuned's npages */
	const struct policy_config *pc;
	struct policy_state ps;
	struct policy_plan plan;
	struct policy_results results;	/* all applied: the model cannot fail */
	struct snapshot snap;
	double last_cpu_ms;
	int64_t last_call_ms;
	int64_t errors;
	int64_t held_s;			/* VM starts delayed by admission */
};

/* NULL, or where memtuned's passes are traced, one line each: time,
 * MemAvailable, state, need, taken, freed, given, starving guests and
 * the next interval (-T FILE). */
extern FILE *sim_trace;

int sim_ctl_init(struct sim_ctl *c, enum sim_policy pol,
    const struct policy_config *pc, size_t n);
void sim_ctl_free(struct sim_ctl *c);
/* Called every tick; each controller acts on its own interval. */
void sim_ctl_tick(struct sim_ctl *c, struct sim_host *h);

/* Run one policy over a workload with vms guests. timeline: NULL, or a
 * file to get "hour host_used_GiB static_used_GiB ksm_saved_GiB
 * short_guests" every 5 simulated minutes. 0 or -errno. */
int sim_run(const struct sim_workload *w, enum sim_policy pol, int64_t vms,
    const struct policy_config *pc, struct sim_result *r, FILE *timeline);
/* The same, calling observe (when not NULL) after every tick with the
 * host as the tick left it: the replay reads its trajectories so. */
typedef void (*sim_observer)(const struct sim_host *h, void *ctx);
int sim_run_observed(const struct sim_workload *w, enum sim_policy pol,
    int64_t vms, const struct policy_config *pc, struct sim_result *r,
    FILE *timeline, sim_observer observe, void *ctx);

/* The guest memory model's steps, exposed for the self-test. Sizes in
 * KiB. sim_mem_touch: the guest touches kib more (working set or cache):
 * pages land on its free memory, the resident share of it costs the host
 * nothing (and the guest writes over what KSM merged there), the rest
 * becomes resident with the untouched rest of its huge pages (thp_extra,
 * zero: alike by dup_idle_pmy). Returns the KiB newly resident. The guest
 * hands out the pages it freed last first (its free lists are last in,
 * first out), to its own allocations and to its balloon. sim_mem_release:
 * the guest frees kib, alike_pmy of it alike in other guests.
 * sim_mem_balloon: the balloon goes to actual_kib (inflating only as far
 * as the guest can give) and returns what the host got back. */
double sim_mem_touch(const struct sim_workload *w, struct sim_mem *m,
    double kib, bool cache, int64_t dup_idle_pmy);
void sim_mem_release(struct sim_mem *m, double kib, bool cache,
    double alike_pmy);
double sim_mem_balloon(const struct sim_workload *w, struct sim_mem *m,
    double actual_kib);
double sim_mem_free_kib(const struct sim_workload *w, const struct sim_mem *m);
double sim_mem_resident_kib(const struct sim_workload *w,
    const struct sim_mem *m);
/* One tick of ksmd: pool progress, merges and CPU. */
double sim_ksm_pool_merged(const struct sim_ksm_pool *p, double progress);
void sim_ksm_pool_set(struct sim_ksm_pool *p, double savable_kib,
    double progress);
/* instant: every mergeable page merged at once, for free (the oracle) */
void sim_ksm_tick(struct sim_host *h, double dt, bool instant);
const char *sim_policy_name(enum sim_policy p);
int sim_policy_parse(const char *s, enum sim_policy *p);

/* Largest VM count in the workload's range with zero starvation and zero
 * host swap (binary search), its result in best; vms_min - 1 when even
 * the smallest count fails. */
int64_t sim_search(const struct sim_workload *w, enum sim_policy pol,
    const struct policy_config *pc, struct sim_result *best);

/* Deterministic random numbers: splitmix64. */
uint64_t sim_rand_next(uint64_t *state);
/* A value in [0, 1) from a seed and three keys, stateless. */
double sim_hash01(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* --------------------------------------------------------------- replay */

/* Compare the model with real runs of the same scenario: every *.samples
 * file in dir (tests/bench/real-scarcity's format) named after the
 * controller that ran (none, ksmtuned, mom, memtuned, ...) is replayed
 * on the workload by that controller, and every controller the
 * simulator has runs too. Prints markdown; writes per-second model
 * trajectories to outdir when not NULL. 0 or -errno. */
int sim_replay(const char *workload, const char *dir, const char *outdir,
    const struct policy_config *pc);

/* One real run as real-scarcity samples it, one line a second. */
#define SIM_REPLAY_GUESTS 16
struct sim_sample {
	double t_s;
	double avail_kib;
	double sharing_pages;
	double ksmd_ms;
	int nr_guests;
	double actual_kib[SIM_REPLAY_GUESTS];
	double rss_kib[SIM_REPLAY_GUESTS];
};

/* Parse a .samples text; *out is malloc'ed. 0 or -errno with "path:line:
 * message" in err. */
int sim_samples_parse(const char *text, const char *path,
    struct sim_sample **out, size_t *n, char *err, size_t errlen);

int sim_selftest(void);

#endif
