/* guests.h - the per-guest collector: two libvirt bulk stats calls per tick
 * (every active domain's state, the running ones' balloon stats)
 * plus per-domain facts that rarely change (max memory, memtune, domain XML,
 * QEMU pid, cgroup directory), cached per domain, and the previous sample
 * for rates and freshness. It fills struct guest_snapshot and decides
 * nothing. See docs/guests.md.
 */
#ifndef MEMTUNED_GUESTS_H
#define MEMTUNED_GUESTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "cgroup.h"
#include "domxml.h"
#include "snapshot.h"
#include "taskstats.h"

/* Freshness: stats count as stale when last_update has not moved for
 * max(GUESTS_STALE_PERIODS * period, GUESTS_STALE_MIN_MS) of collector
 * time. */
#define GUESTS_STALE_PERIODS 3
#define GUESTS_STALE_MIN_MS 10000

/* The host-local per-guest override (a memtuned.conf guest section):
 * return 1 and fill out when there is one for this guest, else 0. */
typedef int (*guests_override_fn)(const char *name, const char *uuid,
    struct guest_override *out, void *arg);

struct guests_opts {
	int refresh_ticks;		/* re-read cached facts every N ticks */
	int enable_stats_period_s;	/* >0: set this period on guests
					 * with a balloon but no period */
	bool taskstats;			/* query taskstats per QEMU pid */
	bool cgroup;			/* read each guest's memory cgroup */
	char pid_dir[PATH_MAX];		/* libvirt's QEMU state dir */
	guests_override_fn override;
	void *override_arg;
	/* METADATA_IGNORE: the domains' memtuned metadata is not read */
	enum metadata_trust metadata;
};

/* Cached per domain, keyed by UUID. */
struct guest_entry {
	char uuid[MT_UUID_LEN];
	char name[MT_NAME_MAX];
	bool seen;			/* listed in the current tick */
	bool valid;			/* cached facts below are loaded */
	bool period_tried;		/* stats period set once already */
	bool refused;			/* name too long: never collected */
	bool metadata_ignored_said;	/* "not read" logged once */
	int64_t refreshed_tick;

	/* cached facts */
	int64_t max_kib;
	int64_t hard_limit_kib, soft_limit_kib, swap_hard_limit_kib;
	struct domxml_info xml;
	int64_t qemu_pid;
	int cg_version;
	char cg_dir[PATH_MAX];

	/* previous sample */
	int64_t prev_ms;		/* MT_ABSENT: none yet */
	int64_t prev_major_fault;
	int64_t prev_swap_in_kib;
	int64_t last_update_s;
	int64_t last_update_moved_ms;	/* collector time it last changed */
	int64_t prev_ts_ms;
	int64_t prev_ts_pid;
	int64_t prev_ts_delay_ns;
	/* balloon-change events since the last sample: the lowest size
	 * (from the sample's on), the highest, the largest rise from a
	 * low; MT_ABSENT: none */
	int64_t ev_low_kib;
	int64_t ev_peak_kib;
	int64_t ev_rise_kib;
	/* QEMU's own memory (smaps.h) as last measured, the pid it was
	 * measured on, when, and the balloon size and RSS then */
	int64_t own_kib;
	int64_t own_pid;
	int64_t own_ms;
	int64_t own_actual_kib;
	int64_t own_rss_kib;
};

/* A domain listed but left out of the snapshot, so the policy plans
 * nothing for it: not running (paused by its user, being saved, dumped or
 * migrated, shutting down, suspended by the guest itself), or with a
 * libvirt call about it still out past its deadline (virt.h). memtuned
 * cannot change its memory now; status shows it with why. */
struct guest_skip {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_LEN];
	int id;				/* libvirt domain id, -1 if inactive */
	int state;			/* virDomainState; -1 unknown */
	int state_reason;		/* its reason code; -1 unknown */
	bool call_stuck;		/* running, a libvirt call still out */
	char why[160];
};

struct guest_collector {
	struct guests_opts opts;
	int64_t tick;
	struct guest_entry *entries;	/* sorted by uuid after each tick */
	size_t nr_entries, cap_entries;
	struct guest_snapshot *out;	/* reused tick to tick */
	size_t cap_out;
	struct guest_skip *skipped;	/* this tick's, reused tick to tick */
	size_t nr_skipped, cap_skipped;
	bool nowait_unsupported;	/* the driver refused the NOWAIT flag */
	bool list_unsupported;		/* ... or virDomainListGetStats */
	bool cg_ready;
	struct mcg_mounts cg_mounts;
	struct taskstats_conn ts;
	bool ts_ready;
	bool ts_accounting;		/* delay accounting is on */
	bool smaps_refused;		/* QEMU's smaps not readable (no
					   CAP_SYS_PTRACE): not tried again */
};

void guests_opts_default(struct guests_opts *o);
/* Set up a collector: taskstats and the cgroup mounts when the options
 * ask for them; their absence is logged once and the fields stay
 * MT_ABSENT. 0 or -errno. */
int guests_init(struct guest_collector *gc, const struct guests_opts *opts);
void guests_free(struct guest_collector *gc);

/* Forget the cached facts of one domain (NULL: every domain) so the next
 * tick re-reads them: libvirt event handlers call this on define, device
 * change, memtune change, metadata change. */
void guests_invalidate(struct guest_collector *gc, const char *uuid);
/* A balloon-change event (virConnectDomainEventBalloonChangeCallback):
 * the size is kept, so that a rise and fall between two ticks still
 * reaches the next snapshot (balloon_peak_kib, balloon_rise_kib). */
void guests_note_balloon(struct guest_collector *gc, const char *uuid,
    int64_t actual_kib);

/* Collect every active domain: the running ones into *out, which points
 * into the collector and stays valid until the next call; the others into
 * gc->skipped, with why (struct guest_skip). A domain that vanishes
 * mid-tick is dropped from this tick; per-domain failures are logged,
 * never fatal. The bulk call runs in a worker with a deadline (virt.h).
 * Returns 0, or -errno with err set when the bulk call itself fails or
 * does not answer in time (-ETIMEDOUT, -EBUSY). */
int guests_collect(struct guest_collector *gc, virConnectPtr conn,
    int64_t now_ms, struct guest_snapshot **out, size_t *nr, char *err,
    size_t errlen);

/* Fill the balloon and state fields of g from one domain's bulk stats
 * record (exposed for tests with hand-built parameter arrays). */
void guests_parse_params(const virTypedParameter *params, int nparams,
    struct guest_snapshot *g);

/* Freshness and rates of g against the entry's previous sample; updates
 * the entry (exposed for tests). stats_period_s may be MT_ABSENT. */
void guests_update_sample(struct guest_entry *e, struct guest_snapshot *g,
    int64_t stats_period_s, int64_t now_ms);

/* QEMU domains: judge freshness against the host's wall clock (QEMU's
 * last-update is host time) and the stats period: no period means no
 * fresh stats. */
void guests_check_fresh(struct guest_snapshot *g, int64_t stats_period_s,
    int64_t wall_s);

/* Ask the balloon driver for stats every period_s seconds, live only, in
 * a worker with a deadline (the call takes the domain's job). conn NULL:
 * dom's own connection. 0 or -errno from virt.h's mapping. */
int guests_enable_stats_period(virConnectPtr conn, virDomainPtr dom,
    int period_s);

/* Read the QEMU pid from pid_dir/NAME.pid (under the root prefix) and check
 * /proc/PID/cmdline names the guest, so a stale file cannot point at a
 * reused pid. 0 or -errno (-ENOENT, -ESRCH when the check fails). */
int guests_qemu_pid(const char *pid_dir, const char *name, int64_t *pid);

/* Without a pid file (a libvirtd whose run directory is not pid_dir: a
 * private or session daemon, another distribution's layout): the one
 * process under /proc whose command line names the guest. 0, -ESRCH for
 * none, -ENOTUNIQ when two do (guests of the same name under two
 * libvirtds: neither is taken), or -errno. */
int guests_qemu_pid_search(const char *name, int64_t *pid);
/* The resident memory of a QEMU process now (/proc/PID/statm): cheap
 * enough to read several times a second between ticks. */
int guests_qemu_rss_kib(int64_t pid, int64_t *kib);

#endif
