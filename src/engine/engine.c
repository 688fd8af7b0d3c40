/* engine.c - see engine.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ksm.h"
#include "mm_sysfs.h"
#include "log.h"
#include "taskstats.h"
#include "thp.h"
#include "virt.h"

int
engine_guest_override(const char *name, const char *uuid,
    struct guest_override *out, void *arg)
{
	struct engine *e = arg;

	(void)uuid;
	return config_guest_override(&e->cfg, name, out) ? 1 : 0;
}

static void
engine_guest_opts(struct engine *e, struct guests_opts *o)
{
	guests_opts_default(o);
	/* setting a guest's stats period is a change: not in a dry run */
	o->enable_stats_period_s = e->cfg.dry_run ? 0 :
	    (int)e->cfg.stats_period_s;
	o->override = engine_guest_override;
	o->override_arg = e;
	o->metadata = e->cfg.policy.metadata_mode;
}

int
engine_init(struct engine *e, struct mt_config *cfg)
{
	struct guests_opts o;
	int rc;

	memset(e, 0, sizeof(*e));
	config_defaults(&e->cfg);
	config_move(&e->cfg, cfg);
	e->ops = &act_libvirt_ops;
	host_collector_init(&e->hc);
	if (e->cfg.task_delayacct) {
		rc = taskstats_enable_accounting(true);
		if (rc < 0)
			log_info("delay accounting not available (%s): per-guest "
			    "host stall stays absent", strerror(-rc));
	}
	engine_guest_opts(e, &o);
	if ((rc = guests_init(&e->gc, &o)) < 0)
		return rc;
	e->gc_ready = true;
	if (mcg_mounts_detect(&e->mounts) == 0)
		e->mounts_ready = true;
	if ((rc = policy_state_init(&e->ps, 16)) < 0 ||
	    (rc = policy_plan_init(&e->plan, 16)) < 0 ||
	    (rc = policy_results_init(&e->results, 16)) < 0)
		return rc;
	return 0;
}

void
engine_set_config(struct engine *e, struct mt_config *cfg)
{
	config_move(&e->cfg, cfg);
	/* the collector's options follow the config; its cache stays */
	e->gc.opts.enable_stats_period_s = e->cfg.dry_run ? 0 :
	    (int)e->cfg.stats_period_s;
	e->gc.opts.metadata = e->cfg.policy.metadata_mode;
	/* per-guest sections may have changed: re-read every guest's facts */
	for (size_t i = 0; i < e->gc.nr_entries; i++)
		e->gc.entries[i].valid = false;
}

void
engine_free(struct engine *e)
{
	engine_disconnect(e);
	if (e->gc_ready)
		guests_free(&e->gc);
	free(e->watch);
	e->watch = NULL;
	e->watch_cap = 0;
	policy_results_free(&e->results);
	policy_plan_free(&e->plan);
	policy_state_free(&e->ps);
	engine_release_free(e);
	config_free(&e->cfg);
}

int
engine_connect(struct engine *e)
{
	int rc;

	if (e->conn != NULL)
		return 0;
	rc = virt_open(e->cfg.uri, &e->conn);
	if (rc < 0) {
		snprintf(e->last_error, sizeof(e->last_error),
		    "cannot connect to %s: %s", e->cfg.uri, virt_last_message());
		e->conn = NULL;
	}
	return rc;
}

void
engine_disconnect(struct engine *e)
{
	if (e->conn != NULL) {
		virConnectClose(e->conn);
		e->conn = NULL;
	}
	/* what was seen through the old connection is no ground to act on */
	e->have_snap = false;
	e->have_plan = false;
}

bool
engine_connected(struct engine *e)
{
	return e->conn != NULL && virt_alive(e->conn);
}

static void
engine_note_baseline(struct engine *e)
{
	const struct host_snapshot *h = &e->snap.host;
	struct engine_host_baseline *b = &e->baseline;

	if (b->valid)
		return;
	b->ksm_run = h->ksm.run;
	b->ksm_pages_to_scan = h->ksm.pages_to_scan;
	b->ksm_sleep_millisecs = h->ksm.sleep_millisecs;
	mt_strlcpy(b->ksm_advisor_mode, h->ksm.advisor_mode,
	    sizeof(b->ksm_advisor_mode));
	b->ksm_advisor_max_cpu = h->ksm.advisor_max_cpu;
	b->ksm_advisor_target_scan_time = h->ksm.advisor_target_scan_time;
	mt_strlcpy(b->thp_defrag, h->thp.defrag, sizeof(b->thp_defrag));
	b->thp_scan_sleep_ms = h->thp.khugepaged_scan_sleep_millisecs;
	b->thp_pages_to_scan = h->thp.khugepaged_pages_to_scan;
	b->thp_max_ptes_none = h->thp.khugepaged_max_ptes_none;
	b->valid = true;
}

/* The watch's rates for the guests just collected, matched by QEMU pid
 * (the order of the guests may change between collections); a rate
 * older than two readings is stale. */
static void
engine_rates_to_snapshot(struct engine *e, int64_t now_ms)
{
	int64_t fresh = 2 * MAX(e->cfg.burst_watch_ms, 100);
	size_t i, j;

	for (i = 0; i < e->snap.nr_guests; i++) {
		struct guest_snapshot *g = &e->snap.guests[i];

		g->rss_rate_kib_s = MT_ABSENT;
		if (!MT_PRESENT(g->qemu_pid))
			continue;
		for (j = 0; j < e->watch_cap; j++) {
			const struct engine_rss_watch *w =
			    &e->watch[(i + j) % e->watch_cap];

			if (w->pid != g->qemu_pid)
				continue;
			if (MT_PRESENT(w->rate_kib_s) && now_ms - w->ms <= fresh)
				g->rss_rate_kib_s = w->rate_kib_s;
			break;
		}
	}
}

static int
engine_watch_reserve(struct engine *e, size_t n)
{
	struct engine_rss_watch *nw;
	size_t i;

	if (n <= e->watch_cap)
		return 0;
	if ((nw = realloc(e->watch, n * sizeof(*nw))) == NULL)
		return -ENOMEM;
	for (i = e->watch_cap; i < n; i++)
		nw[i].pid = nw[i].rss_kib = nw[i].ms = nw[i].rate_kib_s =
		    MT_ABSENT;
	e->watch = nw;
	e->watch_cap = n;
	return 0;
}

int
engine_watch_bursts(struct engine *e, int64_t now_ms, char *why,
    size_t whylen)
{
	int hits = 0;
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* the plan of the last tick (carried out, so have_plan is off)
	 * for the guests of its snapshot */
	if (!e->have_snap || e->plan_ms < e->snap_ms ||
	    e->plan.nr_guests != e->snap.nr_guests ||
	    engine_watch_reserve(e, e->snap.nr_guests) < 0)
		return 0;
	for (i = 0; i < e->snap.nr_guests; i++) {
		const struct guest_snapshot *g = &e->snap.guests[i];
		struct engine_rss_watch *w = &e->watch[i];
		int64_t rss;

		if (!MT_PRESENT(g->qemu_pid) ||
		    guests_qemu_rss_kib(g->qemu_pid, &rss) < 0) {
			w->pid = MT_ABSENT;
			continue;
		}
		if (w->pid != g->qemu_pid || !MT_PRESENT(w->ms) ||
		    now_ms <= w->ms) {
			w->pid = g->qemu_pid;
			w->rss_kib = rss;
			w->ms = now_ms;
			w->rate_kib_s = MT_ABSENT;
			continue;
		}
		w->rate_kib_s = rss > w->rss_kib ?
		    policy_scale(rss - w->rss_kib, 1000, now_ms - w->ms) : 0;
		w->rss_kib = rss;
		w->ms = now_ms;
		if (w->rate_kib_s >= e->cfg.policy.burst_rate_kib_per_s)
			log_debug("guest %s: RSS %lld MiB, rising %lld MiB/s",
			    g->name, (long long)(rss / 1024),
			    (long long)(w->rate_kib_s / 1024));
		if (strcmp(e->plan.guests[i].uuid, g->uuid) != 0 ||
		    !policy_burst_imminent(&e->cfg.policy, g,
		    &e->plan.guests[i], rss, w->rate_kib_s))
			continue;
		if (hits++ == 0 && why != NULL && whylen > 0)
			snprintf(why, whylen, "guest %s: RSS rising %lld MiB/s, "
			    "short within %lld ms", g->name,
			    (long long)(w->rate_kib_s / 1024),
			    (long long)e->cfg.policy.burst_horizon_ms);
	}
	return hits;
}

int
engine_collect(struct engine *e, int64_t now_ms)
{
	char err[512];
	struct guest_snapshot *guests = NULL;
	size_t nr = 0;
	int rc;

	e->have_snap = false;
	e->have_plan = false;
	rc = host_collect(&e->hc, now_ms, &e->snap.host, err, sizeof(err));
	if (rc < 0) {
		e->collect_errors++;
		snprintf(e->last_error, sizeof(e->last_error),
		    "host collection failed: %s", err);
		return rc;
	}
	if (e->conn == NULL) {
		snprintf(e->last_error, sizeof(e->last_error),
		    "not connected to %s", e->cfg.uri);
		return -ENOTCONN;
	}
	rc = guests_collect(&e->gc, e->conn, now_ms, &guests, &nr, err,
	    sizeof(err));
	if (rc < 0) {
		e->collect_errors++;
		snprintf(e->last_error, sizeof(e->last_error),
		    "guest collection failed: %s", err);
		return rc;
	}
	e->snap.guests = guests;
	e->snap.nr_guests = nr;
	engine_rates_to_snapshot(e, now_ms);
	if ((rc = engine_note_guests(e)) < 0) {
		snprintf(e->last_error, sizeof(e->last_error),
		    "no memory for the guests' holds");
		return rc;
	}
	e->have_snap = true;
	e->snap_ms = now_ms;
	engine_note_baseline(e);
	e->last_error[0] = '\0';
	return 0;
}

int
engine_decide(struct engine *e, int64_t now_ms, int64_t reserve_kib)
{
	struct policy_config pc = e->cfg.policy;
	int rc;

	if (!e->have_snap)
		return -ENODATA;
	/* [daemon] master switches win over the sections' own keys */
	if (!e->cfg.manage_ksm)
		pc.ksm_manage = false;
	if (!e->cfg.manage_thp)
		pc.thp_manage = false;
	/* paused or given back (memtunectl): not managed until resumed */
	if (e->host_hold != GUEST_HOLD_NONE)
		pc.ksm_manage = pc.thp_manage = false;
	if (!e->cfg.manage_hard_limit)
		pc.hard_limit_mode = HARD_LIMIT_OFF;
	if (reserve_kib > 0)
		rc = policy_reserve(&pc, &e->snap, &e->ps, now_ms, reserve_kib,
		    &e->plan);
	else
		rc = policy_decide(&pc, &e->snap, &e->ps, now_ms, &e->plan);
	if (rc < 0 && rc != -ENOSPC) {
		snprintf(e->last_error, sizeof(e->last_error),
		    "policy refused the snapshot: %s", strerror(-rc));
		return rc;
	}
	e->have_plan = true;
	e->plan_ms = now_ms;
	e->ticks++;
	return rc;
}

int
engine_act(struct engine *e, bool dry_run)
{
	struct act_apply_opts o = {
		.dry_run = dry_run,
		.manage_ksm = e->cfg.manage_ksm,
		.manage_thp = e->cfg.manage_thp,
		.manage_hard_limit = e->cfg.manage_hard_limit,
		.mounts = e->mounts_ready ? &e->mounts : NULL,
	};
	void *ctx = e->ops_ctx != NULL ? e->ops_ctx : (void *)e->conn;
	int rc;

	memset(&e->last_act, 0, sizeof(e->last_act));
	/* no results but this plan's: a tick that acts on nothing has none */
	e->results.nr_guests = 0;
	e->results.ksm_applied = e->results.thp_applied = false;
	if (!e->have_plan)
		return -ENODATA;
	if (e->conn == NULL && e->ops_ctx == NULL)
		return -ENOTCONN;
	rc = act_apply_plan(e->ops, ctx, &e->cfg.policy, &o, &e->snap,
	    &e->plan, &e->last_act, &e->results);
	if (rc == -ENOMEM) {
		snprintf(e->last_error, sizeof(e->last_error),
		    "no memory for the actuator's results: nothing done");
		e->have_plan = false;
		return rc;
	}
	/* the policy remembers only what went through: a dry run, a
	 * failed, refused or skipped change is asked again */
	policy_commit(&e->ps, &e->plan, &e->results, e->plan_ms);
	/* memtune and the virtio-mem devices' requested sizes are cached
	 * by the collector: re-read them where they were just written, so
	 * the next plan compares with what is really set and no write (no
	 * unplug) is repeated */
	for (size_t i = 0; !dry_run && i < e->plan.nr_guests; i++) {
		const struct guest_plan *gp = &e->plan.guests[i];

		if (gp->action == ACT_MEMTUNE || gp->action == ACT_BOTH ||
		    (gp->vmem && gp->action == ACT_BALLOON))
			guests_invalidate(&e->gc, gp->uuid);
	}
	if (e->last_act.failed > 0)
		e->act_errors += (uint64_t)e->last_act.failed;
	/* a plan is carried out once */
	e->have_plan = false;
	return rc;
}

/* Through the actuator's ops, as a plan's knobs go: a dry run logs the
 * write instead, and a test's fake records it. Returns 1 when it failed. */
static int
restore_word(struct engine *e, const char *path, const char *value)
{
	void *ctx = e->ops_ctx != NULL ? e->ops_ctx : (void *)e->conn;
	int rc = act_write_knob(e->ops, ctx, e->cfg.dry_run, path, value,
	    "as found at start");

	if (rc < 0)
		log_warnx("could not restore %s: %s", path, strerror(-rc));
	return rc < 0;
}

static int
restore_int(struct engine *e, const char *path, int64_t v)
{
	char buf[24];

	if (!MT_PRESENT(v))
		return 0;
	/* the kernel takes no negative knob: the sysfs writers refused one */
	if (v < 0) {
		log_warnx("could not restore %s: %s", path, strerror(EINVAL));
		return 1;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return restore_word(e, path, buf);
}

static int
restore_ksm(struct engine *e, const struct engine_host_baseline *b)
{
	int bad = 0;

	/* the advisor's own knobs before its mode: once it is back in
	 * charge it reads them */
	bad += restore_int(e, KSM_DIR "advisor_max_cpu",
	    b->ksm_advisor_max_cpu);
	bad += restore_int(e, KSM_DIR "advisor_target_scan_time",
	    b->ksm_advisor_target_scan_time);
	if (b->ksm_advisor_mode[0] != '\0')
		bad += restore_word(e, KSM_DIR "advisor_mode",
		    b->ksm_advisor_mode);
	/* the kernel refuses pages_to_scan while the advisor is in charge */
	if (strcmp(b->ksm_advisor_mode, "scan-time") != 0)
		bad += restore_int(e, KSM_DIR "pages_to_scan",
		    b->ksm_pages_to_scan);
	bad += restore_int(e, KSM_DIR "sleep_millisecs",
	    b->ksm_sleep_millisecs);
	bad += restore_int(e, KSM_DIR "run", b->ksm_run);
	return bad;
}

static int
restore_thp(struct engine *e, const struct engine_host_baseline *b)
{
	int bad = 0;

	if (b->thp_defrag[0] != '\0')
		bad += restore_word(e, THP_DIR "defrag", b->thp_defrag);
	bad += restore_int(e, THP_DIR "khugepaged/scan_sleep_millisecs",
	    b->thp_scan_sleep_ms);
	bad += restore_int(e, THP_DIR "khugepaged/pages_to_scan",
	    b->thp_pages_to_scan);
	bad += restore_int(e, THP_DIR "khugepaged/max_ptes_none",
	    b->thp_max_ptes_none);
	return bad;
}

static int
restore_host(struct engine *e, const char *when)
{
	const struct engine_host_baseline *b = &e->baseline;
	int bad = 0;

	if (!b->valid)
		return 0;
	log_info("%s: putting KSM and THP back as found at start", when);
	if (e->cfg.manage_ksm)
		bad += restore_ksm(e, b);
	if (e->cfg.manage_thp)
		bad += restore_thp(e, b);
	return bad;
}

int
engine_restore_host(struct engine *e)
{
	return restore_host(e, "release");
}

void
engine_shutdown_actions(struct engine *e)
{
	struct release_plan rp;

	/* a dry run shows the restore: act_write_knob only logs it */
	if (e->cfg.restore_host_settings &&
	    (e->cfg.manage_ksm || e->cfg.manage_thp))
		restore_host(e, "exit");
	if (e->cfg.on_exit != ON_EXIT_DEFLATE || e->conn == NULL ||
	    !e->have_snap || e->cfg.dry_run)
		return;
	release_plan_init(&rp);
	for (size_t i = 0; i < e->snap.nr_guests; i++) {
		const struct guest_snapshot *g = &e->snap.guests[i];
		struct guest_input in;
		struct policy_metadata_cap cap;
		int64_t floor_kib, ceiling_kib, want;

		policy_guest_input(&e->cfg.policy, g, &in, &cap);
		if (in.exclude || !g->backing.has_balloon ||
		    !MT_PRESENT(g->actual_kib))
			continue;
		/* memtuned's hard limit stays: it still caps the ceiling */
		if (release_deflate_target(&e->cfg, g, false, &want,
		    &floor_kib, &ceiling_kib) < 0 || want <= g->actual_kib)
			continue;
		log_info("exit: guest=%s action=balloon target_kib=%lld "
		    "reason=\"deflate on exit to %lld.%02lld%% of max\"",
		    g->name, (long long)want,
		    (long long)(e->cfg.deflate_to_pmy / 100),
		    (long long)(e->cfg.deflate_to_pmy % 100));
		/* a guest with virtio-mem devices: its balloon in its boot
		 * memory and its devices plugged, as a release does */
		if (release_plan_deflate(&e->cfg, g, want, floor_kib,
		    ceiling_kib, "deflate on exit", &rp) < 0)
			log_warnx("exit: guest=%s: no memory to plan its "
			    "deflate", g->name);
	}
	release_apply(e->ops, e->ops_ctx ? e->ops_ctx : (void *)e->conn,
	    NULL, &rp);
	release_plan_free(&rp);
}
