/* engine.h - collect -> decide -> act, the one path the daemon and
 * memtunectl's standalone commands share.
 *
 * The engine owns the libvirt connection, the host and guest collectors,
 * the policy state and the last plan. It never acts while it cannot see:
 * no connection or a failed collection means no plan, and no plan means no
 * action.
 */
#ifndef MEMTUNED_ENGINE_H
#define MEMTUNED_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "act.h"
#include "cgroup.h"
#include "config.h"
#include "guests.h"
#include "hostcollect.h"
#include "policy.h"
#include "release.h"
#include "snapshot.h"

/* KSM and THP as found at start, to put back on exit when configured. */
struct engine_host_baseline {
	bool valid;
	int64_t ksm_run, ksm_pages_to_scan, ksm_sleep_millisecs;
	char ksm_advisor_mode[16];
	/* the advisor's knobs memtuned writes from [ksm] (6.8+) */
	int64_t ksm_advisor_max_cpu, ksm_advisor_target_scan_time;
	char thp_defrag[24];
	int64_t thp_scan_sleep_ms, thp_pages_to_scan, thp_max_ptes_none;
};

/* A guest the operator holds at run time (memtunectl release, pause). */
struct engine_hold {
	char uuid[MT_UUID_LEN];
	enum guest_hold hold;
};

/* The burst watch: a guest's QEMU RSS as last read between ticks, and
 * how fast it rose to it. */
struct engine_rss_watch {
	int64_t pid;			/* MT_ABSENT: nothing read yet */
	int64_t rss_kib;
	int64_t ms;
	int64_t rate_kib_s;		/* MT_ABSENT: one reading only */
};

struct engine {
	struct mt_config cfg;
	virConnectPtr conn;
	const struct act_ops *ops;	/* act_libvirt_ops unless a test says */
	void *ops_ctx;			/* NULL: the connection */

	struct host_collector hc;
	struct guest_collector gc;
	bool gc_ready;
	struct mcg_mounts mounts;
	bool mounts_ready;

	struct policy_state ps;
	struct policy_plan plan;
	struct snapshot snap;
	bool have_snap;			/* snap is from the last collection */
	bool have_plan;			/* plan was decided from snap */
	int64_t snap_ms;
	int64_t plan_ms;

	/* the burst watch, one entry per guest of snap, in its order */
	struct engine_rss_watch *watch;
	size_t watch_cap;

	struct engine_host_baseline baseline;
	/* what each guest had at the first look, before any write of
	 * memtuned's (release puts it back); the guests of snap only */
	struct release_found *found;
	size_t nr_found;
	/* the next table is built here and swapped in: no allocation per
	 * tick once both hold as many guests as the host runs */
	struct release_found *found_spare;
	size_t cap_found;
	/* run-time holds: per guest, and for the whole host (new guests
	 * too); a guest's own entry wins. host_hold: the whole host was
	 * paused or released, so KSM and THP are not managed either */
	struct engine_hold *holds;
	size_t nr_holds, cap_holds;
	enum guest_hold hold_all;
	enum guest_hold host_hold;
	struct act_result last_act;
	struct policy_results results;	/* of the last plan carried out */
	char last_error[1024];		/* why the last tick did nothing */
	uint64_t ticks, collect_errors, act_errors;
};

/* Set up from a config (moved into the engine). 0 or -errno. */
int engine_init(struct engine *e, struct mt_config *cfg);
void engine_free(struct engine *e);
/* Swap in a new, already valid config (SIGHUP). */
void engine_set_config(struct engine *e, struct mt_config *cfg);

int engine_connect(struct engine *e);
void engine_disconnect(struct engine *e);
bool engine_connected(struct engine *e);

/* Read the host and every guest. On failure have_snap is false and
 * last_error says why. 0 or -errno. */
int engine_collect(struct engine *e, int64_t now_ms);
/* Run the policy on the last snapshot; reserve_kib > 0 asks for an
 * admission plan. 0, -ENOSPC (reserve impossible: plan says how much
 * could be freed), -ENODATA (no snapshot), -errno. */
int engine_decide(struct engine *e, int64_t now_ms, int64_t reserve_kib);
/* Carry out the last plan (or log it, dry_run). 0 or -errno. */
int engine_act(struct engine *e, bool dry_run);

/* On exit: put KSM/THP back as found, and deflate guests when the config
 * says so. Logs what it does. */
void engine_shutdown_actions(struct engine *e);

/* Put KSM and THP back as found at start (the baseline), whatever the
 * config says about doing it on exit. 0, or the number of knobs that
 * could not be written. */
int engine_restore_host(struct engine *e);

/* Release (memtunectl release): collect afresh, plan (release.h), and
 * unless dry_run carry it out, hold the guests released (every guest and
 * the host's KSM/THP when sel is empty) and forget the last plan.
 * found_known: the engine has looked at the guests since before it first
 * acted (the daemon), so what it found is theirs. 0; -ENOENT with err for
 * an unknown guest; -errno when nothing could be collected. */
int engine_release(struct engine *e, const char *const *sel, size_t nr_sel,
    bool dry_run, bool found_known, struct release_plan *plan, char *err,
    size_t errlen);
/* Hold (or, GUEST_HOLD_NONE, let go) one guest by UUID, or with uuid NULL
 * the whole host: every per-guest hold goes, and new guests are held too.
 * 0 or -ENOMEM. */
int engine_hold(struct engine *e, const char *uuid, enum guest_hold hold);
enum guest_hold engine_hold_of(const struct engine *e, const char *uuid);
/* memtunectl pause (GUEST_HOLD_PAUSED) and resume (GUEST_HOLD_NONE):
 * collect afresh, then hold or let go the guests named (by name or
 * UUID), or with none the whole host: KSM and THP, every guest and those
 * started later (a resume of the host lets go released guests too). The
 * guests concerned go to out->guests, out->host says whether it was the
 * host. 0; -ENOENT with err for a guest not running (nothing changed);
 * -errno when nothing could be collected. */
int engine_set_hold(struct engine *e, const char *const *sel, size_t nr_sel,
    enum guest_hold hold, struct release_plan *out, char *err,
    size_t errlen);
/* The found table and the holds onto the guests just collected. */
int engine_note_guests(struct engine *e);
void engine_release_free(struct engine *e);

/* Between ticks: read each guest's QEMU RSS (the guests of the last
 * snapshot) and how fast it rose since the last reading; the number of
 * guests that at that rate run short within burst_horizon with room
 * under their ceiling (policy_burst_imminent), the first of them named
 * in why. The next collection hands the rates to the policy. */
int engine_watch_bursts(struct engine *e, int64_t now_ms, char *why,
    size_t whylen);

/* The per-guest override from memtuned.conf, for the guest collector. */
int engine_guest_override(const char *name, const char *uuid,
    struct guest_override *out, void *arg);

#endif
