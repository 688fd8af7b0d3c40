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
#define SIM_NAME_MAX 64

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

struct sim_class {
	char name[SIM_NAME_MAX];
	int64_t weight;			/* share of the VMs, relative */
	int64_t vm_kib;			/* max memory of each VM */
	int64_t dup_pmy;		/* KSM-mergeable share of used memory */
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
};

struct sim_workload {
	char name[SIM_NAME_MAX];
	char path[256];
	int64_t host_kib;
	int64_t host_base_kib;		/* host OS and services, resident */
	int64_t host_cache_kib;		/* host page cache when room allows */
	int64_t qemu_overhead_kib;	/* per VM beyond guest RAM */
	int64_t guest_min_kib;		/* guest kernel: below ws + this starves */
	int64_t duration_s;
	int64_t dt_s;
	int64_t vms_min, vms_max;	/* VM count search range */
	int64_t balloon_kib_per_s;	/* inflate/deflate speed */
	int64_t ksm_page_cost_ns;	/* ksmd CPU per scanned page */
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

struct sim_guest {
	int cls;
	bool uncoop;
	bool up;			/* booted */
	int64_t boot_s;
	int64_t held_s;			/* start delayed by admission */
	double jitter;			/* scale of the working set */
	int64_t shift_s;
	uint64_t seed;
	int64_t max_kib;
	double actual_kib;		/* balloon size as the guest has it */
	int64_t target_kib;		/* what the controller asked */
	int64_t hard_limit_kib;		/* MT_ABSENT: none */
	int64_t soft_limit_kib;
	double ws_kib;			/* anon working set now */
	double noise;			/* random walk state, fraction of max */
	double cache_kib;
	double resident_kib;		/* host pages backing guest RAM */
	double static_cache_kib;	/* the same guest with no controller */
	double static_resident_kib;
	double short_kib;		/* ws + min above what it may use */
	int64_t major_fault;
	int64_t major_fault_per_s;
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
	double ksm_scanned_pages, ksm_full_scans;
	double psi_some, psi_full, psi_some_us, psi_full_us;
	double pswpout, swapping_kib;
	int64_t balloon_ops;
};

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

int sim_selftest(void);

#endif
