/* daemon.c - see daemon.h */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>

#include "capacity.h"
#include "daemon.h"
#include "domxml.h"
#include "log.h"
#include "meminfo.h"
#include "psi.h"
#include "report.h"
#include "sdnotify.h"
#include "virt.h"

#define RECONNECT_MIN_MS 1000
#define RECONNECT_MAX_MS 30000
/* after a domain event, wait this long so a burst (a login storm starting
 * twenty guests) becomes one tick */
#define EVENT_SETTLE_MS 300
/* a PSI trigger fires at most this often into a tick */
#define PSI_MIN_GAP_MS 500
/* burst ticks: one at most this often (two readings of the watch), so
 * the balloon moved by the last one shows before the next is asked */
#define BURST_MIN_GAP_MS 500
/* how long a status request at start waits for the first tick */
#define STATUS_FIRST_TICK_WAIT_S 10

static void daemon_schedule(struct daemon *d, int64_t when_ms);
static void daemon_publish_status(struct daemon *d, bool ticked);

/* ------------------------------------------------------------ libvirt */

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct daemon *d = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN];

	(void)conn;
	(void)detail;
	if (virDomainGetUUIDString(dom, uuid) == 0)
		guests_invalidate(&d->eng.gc, uuid);
	log_debug("domain %s: lifecycle event %d", virDomainGetName(dom), event);
	d->event_wakeups++;
	daemon_schedule(d, mt_now_ms() + EVENT_SETTLE_MS);
	return 0;
}

static void
on_balloon_change(virConnectPtr conn, virDomainPtr dom,
    unsigned long long actual, void *opaque)
{
	struct daemon *d = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN];

	(void)conn;
	/* the next tick reads actual in bulk; what moved in between (a
	 * guest with deflate on OOM taking pages back, then inflating again
	 * before the tick) is kept for it */
	if (actual <= (unsigned long long)INT64_MAX &&
	    virDomainGetUUIDString(dom, uuid) == 0)
		guests_note_balloon(&d->eng.gc, uuid, (int64_t)actual);
	log_debug("domain %s: balloon now %llu KiB", virDomainGetName(dom),
	    actual);
}

/* A change to what the collector caches for a guest (guests.h): read its
 * facts again at the next tick, and make that tick come soon when the
 * change is one an operator makes and waits to see followed. */
static void
daemon_refresh_guest(struct daemon *d, virDomainPtr dom, const char *what,
    bool soon)
{
	char uuid[VIR_UUID_STRING_BUFLEN];

	if (virDomainGetUUIDString(dom, uuid) < 0)
		return;
	guests_invalidate(&d->eng.gc, uuid);
	d->cache_events++;
	log_debug("domain %s: %s: its facts are read again at the next tick",
	    virDomainGetName(dom), what);
	if (soon) {
		d->event_wakeups++;
		daemon_schedule(d, mt_now_ms() + EVENT_SETTLE_MS);
	}
}

static void
on_metadata_change(virConnectPtr conn, virDomainPtr dom, int type,
    const char *nsuri, void *opaque)
{
	(void)conn;
	/* a title, a description or another program's element changes
	 * nothing memtuned reads */
	if (type != VIR_DOMAIN_METADATA_ELEMENT || nsuri == NULL ||
	    strcmp(nsuri, DOMXML_NS) != 0) {
		log_debug("domain %s: metadata %d (%s) changed: not ours",
		    virDomainGetName(dom), type, nsuri != NULL ? nsuri : "-");
		return;
	}
	log_info("domain %s: memtuned metadata changed; following it at the "
	    "next tick", virDomainGetName(dom));
	daemon_refresh_guest(opaque, dom, "memtuned metadata changed", true);
}

/* a memory module, a virtio-mem device or the balloon itself comes or
 * goes: max memory and the backing may have changed, and libvirt rejects
 * targets above the old max */
static void
on_device_added(virConnectPtr conn, virDomainPtr dom, const char *alias,
    void *opaque)
{
	char what[128];

	(void)conn;
	snprintf(what, sizeof(what), "device %s added", alias);
	daemon_refresh_guest(opaque, dom, what, true);
}

static void
on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias,
    void *opaque)
{
	char what[128];

	(void)conn;
	snprintf(what, sizeof(what), "device %s removed", alias);
	daemon_refresh_guest(opaque, dom, what, true);
}

#if LIBVIR_CHECK_VERSION(7, 9, 0)
static void
on_memory_device_size(virConnectPtr conn, virDomainPtr dom,
    const char *alias, unsigned long long size_kib, void *opaque)
{
	char what[160];

	(void)conn;
	snprintf(what, sizeof(what), "memory device %s now %llu KiB", alias,
	    size_kib);
	daemon_refresh_guest(opaque, dom, what, false);
}
#endif

/* libvirt sends tunable events for cputune, blkiotune and the like (no
 * memtune parameter is among them in libvirt 9); cheap to follow, and
 * the facts stay right should memory ones join them */
static void
on_tunable(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
    int nparams, void *opaque)
{
	(void)conn;
	(void)params;
	(void)nparams;
	daemon_refresh_guest(opaque, dom, "tunables changed", false);
}

/* Every domain event memtuned registers, in the order of d->ev_ids. */
static const struct daemon_event {
	int id;
	virConnectDomainEventGenericCallback cb;
	const char *name;
} daemon_events[DAEMON_NR_EVENTS] = {
	{ VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), "lifecycle" },
	{ VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_balloon_change), "balloon change" },
	{ VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_metadata_change), "metadata change" },
	{ VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
	    VIR_DOMAIN_EVENT_CALLBACK(on_device_added), "device added" },
	{ VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
	    VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), "device removed" },
	{ VIR_DOMAIN_EVENT_ID_TUNABLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_tunable), "tunable" },
#if LIBVIR_CHECK_VERSION(7, 9, 0)
	{ VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_memory_device_size),
	    "memory device size change" },
#else
	{ -1, NULL, "memory device size change" },
#endif
};

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct daemon *d = opaque;

	(void)conn;
	log_warnx("libvirt connection closed (reason %d): no action until "
	    "it is back", reason);
	d->conn_lost = true;
	daemon_schedule(d, mt_now_ms());
}

static void
daemon_drop_connection(struct daemon *d)
{
	virConnectPtr c = d->eng.conn;

	for (size_t i = 0; i < DAEMON_NR_EVENTS; i++) {
		if (c != NULL && d->ev_ids[i] >= 0)
			virConnectDomainEventDeregisterAny(c, d->ev_ids[i]);
		d->ev_ids[i] = -1;
	}
	if (c != NULL)
		virConnectUnregisterCloseCallback(c, on_close);
	engine_disconnect(&d->eng);
	d->conn_lost = false;
}

static int
daemon_connect(struct daemon *d)
{
	virConnectPtr c;
	int rc;

	if ((rc = engine_connect(&d->eng)) < 0)
		return rc;
	c = d->eng.conn;
	/* keepalive makes a dead libvirtd visible within ~15 s even when
	 * nothing is being asked of it */
	if (virConnectSetKeepAlive(c, 5, 3) < 0)
		log_debug("libvirt keepalive not available: %s",
		    virt_last_message());
	virConnectRegisterCloseCallback(c, on_close, d, NULL);
	for (size_t i = 0; i < DAEMON_NR_EVENTS; i++) {
		const struct daemon_event *ev = &daemon_events[i];

		d->ev_ids[i] = ev->id < 0 ? -1 :
		    virConnectDomainEventRegisterAny(c, NULL, ev->id, ev->cb,
		    d, NULL);
		if (d->ev_ids[i] >= 0 || ev->id < 0)
			continue;
		if (ev->id == VIR_DOMAIN_EVENT_ID_LIFECYCLE)
			log_warnx("no domain lifecycle events from %s (%s): "
			    "guests are found at each tick only",
			    d->eng.cfg.uri, virt_last_message());
		else
			log_info("no %s events from %s (%s): such changes are "
			    "seen at the periodic refresh of guest facts",
			    ev->name, d->eng.cfg.uri, virt_last_message());
	}
	/* a new connection may see a changed world: re-read every guest */
	for (size_t i = 0; i < d->eng.gc.nr_entries; i++)
		d->eng.gc.entries[i].valid = false;
	log_info("connected to %s", d->eng.cfg.uri);
	return 0;
}

/* Keep the connection, or get it back with backoff. true: connected. */
static bool
daemon_ensure_connection(struct daemon *d, int64_t now)
{
	if (d->conn_lost || (d->eng.conn != NULL && !virt_alive(d->eng.conn))) {
		log_warnx("libvirt connection to %s lost; reconnecting",
		    d->eng.cfg.uri);
		daemon_drop_connection(d);
		d->reconnect_at_ms = now;
		d->reconnect_backoff_ms = RECONNECT_MIN_MS;
	}
	if (d->eng.conn != NULL)
		return true;
	if (now < d->reconnect_at_ms)
		return false;
	if (daemon_connect(d) == 0) {
		d->reconnect_backoff_ms = RECONNECT_MIN_MS;
		return true;
	}
	d->reconnect_at_ms = now + d->reconnect_backoff_ms;
	/* say it once loudly; the retries are at debug */
	if (d->reconnect_backoff_ms == RECONNECT_MIN_MS)
		log_warnx("%s; retrying with backoff up to %ds",
		    d->eng.last_error, RECONNECT_MAX_MS / 1000);
	else
		log_debug("%s; retrying in %llds", d->eng.last_error,
		    (long long)(d->reconnect_backoff_ms / 1000));
	d->reconnect_backoff_ms = MIN(d->reconnect_backoff_ms * 2,
	    RECONNECT_MAX_MS);
	return false;
}

/* -------------------------------------------------------------- ticks */

/* Between full ticks a cheap look at MemAvailable (one /proc/meminfo
 * read, ~50 us) every interval_min catches a host falling into a worse
 * pressure state at once, without waiting out a calm 30 s interval or
 * relying on PSI (a host without swap can run short without stalling). */
static bool
daemon_watching(const struct daemon *d)
{
	return d->last_tick_ok && d->eng.plan.pressure != PRESSURE_CRITICAL &&
	    d->next_tick_ms != MT_ABSENT;
}

/* The burst watch reads each guest's QEMU RSS every burst_watch: a
 * guest filling its memory faster than its stats come (every few
 * seconds) is out before the next tick would see it. */
static bool
daemon_burst_watching(const struct daemon *d)
{
	return d->eng.cfg.burst_watch_ms > 0 && d->last_tick_ok &&
	    d->next_tick_ms != MT_ABSENT;
}

static void
daemon_arm(struct daemon *d)
{
	int64_t when = d->next_tick_ms;

	if (daemon_watching(d))
		when = MIN(when, mt_now_ms() + d->eng.cfg.interval_min_ms);
	if (daemon_burst_watching(d))
		when = MIN(when, mt_now_ms() + d->eng.cfg.burst_watch_ms);
	evloop_set_deadline(d->loop, when);
}

static void
daemon_schedule(struct daemon *d, int64_t when_ms)
{
	if (d->next_tick_ms == MT_ABSENT || when_ms < d->next_tick_ms) {
		d->next_tick_ms = when_ms;
		daemon_arm(d);
	}
}

/* true when MemAvailable has fallen under the line of a worse pressure
 * state than the last plan saw: time for a full tick now */
static bool
daemon_watch_says_tick(struct daemon *d)
{
	const struct policy_config *pc = &d->eng.cfg.policy;
	struct host_meminfo mi;
	char err[256];
	int64_t reserve, line_pmy;

	if (meminfo_read(&mi, err, sizeof(err)) < 0)
		return true;	/* let the full tick report it */
	reserve = policy_host_reserve_kib(pc, mi.mem_total_kib);
	switch (d->eng.plan.pressure) {
	case PRESSURE_PLENTY:
		line_pmy = pc->plenty_pmy;
		break;
	case PRESSURE_NORMAL:
		line_pmy = pc->tight_pmy;
		break;
	case PRESSURE_TIGHT:
		line_pmy = pc->critical_pmy;
		break;
	default:
		return false;
	}
	if (mi.mem_avail_kib >= reserve / 100 * line_pmy / 100)
		return false;
	d->watch_wakeups++;
	log_debug("MemAvailable %lld KiB under the %s line: deciding now",
	    (long long)mi.mem_avail_kib,
	    policy_pressure_name(d->eng.plan.pressure));
	return true;
}

/* true when a guest's RSS rises fast enough to leave it short within
 * burst_horizon: time for a full tick now (at most one a BURST_MIN_GAP) */
static bool
daemon_burst_says_tick(struct daemon *d)
{
	char why[MT_NAME_MAX + 96];
	int64_t now = mt_now_ms();

	if (!daemon_burst_watching(d) ||
	    engine_watch_bursts(&d->eng, now, why, sizeof(why)) == 0 ||
	    now - d->last_burst_tick_ms < BURST_MIN_GAP_MS)
		return false;
	d->last_burst_tick_ms = now;
	d->burst_wakeups++;
	log_info("%s: deciding now", why);
	return true;
}

static void
daemon_note_error(struct daemon *d, const char *msg)
{
	/* the same problem tick after tick is logged once, then at debug */
	if (strcmp(msg, d->last_logged_error) != 0) {
		log_warnx("tick skipped: %s", msg);
		mt_strlcpy(d->last_logged_error, msg,
		    sizeof(d->last_logged_error));
	} else {
		log_debug("tick skipped: %s", msg);
	}
}

/* Capacity for the metrics, from this tick's snapshot and the plan decided
 * from it, as `memtunectl capacity` would answer now; NULL when the tick
 * failed (no figures is more honest than old ones). */
static const struct capacity_result *
daemon_capacity(struct daemon *d)
{
	const struct engine *e = &d->eng;
	const struct policy_plan *plan = NULL;
	int64_t vm_kib = e->cfg.capacity_vm_kib;
	int rc;

	if (!d->last_tick_ok || !e->have_snap)
		return NULL;
	if (vm_kib <= 0)
		vm_kib = capacity_default_vm_kib(&e->snap);
	if (e->plan_ms == e->snap_ms && e->plan.nr_guests == e->snap.nr_guests)
		plan = &e->plan;
	rc = capacity_estimate_plan(&e->cfg.policy, &e->snap, plan, vm_kib,
	    &d->mcap);
	if (rc < 0) {
		/* the same failure every tick is logged once */
		if (!d->mcap_failed)
			log_warnx("metrics: no capacity estimate: %s",
			    rc == -EINVAL ? "the host's MemTotal is unknown" :
			    strerror(-rc));
		d->mcap_failed = true;
		return NULL;
	}
	d->mcap_failed = false;
	return &d->mcap;
}

/* Render the metrics after a tick: to the textfile and the listener. */
static void
daemon_publish_metrics(struct daemon *d, int64_t started_ms)
{
	const struct mt_config *c = &d->eng.cfg;
	struct metrics_capacity mc;
	struct timespec ts;
	char *text = NULL;
	size_t len = 0;
	int rc;

	d->mctr.libvirt_connected = d->eng.conn != NULL;
	d->mctr.last_tick_us = (mt_now_ms() - started_ms) * 1000;
	d->mctr.reloads = d->reloads;
	if (!d->mhttp_open && c->metrics_textfile[0] == '\0')
		return;
	mc.res = daemon_capacity(d);
	mc.now_ms = mt_now_ms();
	mc.now_real_ms = clock_gettime(CLOCK_REALTIME, &ts) == 0 ?
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 : MT_ABSENT;
	rc = metrics_render(d->last_tick_ok ? &d->eng.snap : NULL,
	    d->last_tick_ok ? &d->eng.plan : NULL, &mc, &d->mctr,
	    c->metrics_per_guest ? 0 : METRICS_NO_GUESTS, &text, &len);
	if (rc < 0) {
		log_warnx("metrics: %s", strerror(-rc));
		return;
	}
	if (c->metrics_textfile[0] != '\0' &&
	    (rc = metrics_write_textfile(c->metrics_textfile, text, len)) < 0)
		log_warnx("metrics: cannot write %s: %s", c->metrics_textfile,
		    strerror(-rc));
	if (d->mhttp_open) {
		metrics_http_set(&d->mhttp, text, len);
		metrics_http_expire(&d->mhttp, mt_now_ms());
	}
	free(text);
}

/* The host's state, logged when it changes (not at every tick): the
 * pressure state with its reason, and a shortfall no guest can cover. */
static void
daemon_log_state(struct daemon *d)
{
	const struct policy_plan *p = &d->eng.plan;
	bool is_short = p->short_kib >= d->eng.cfg.policy.min_change_kib;

	if (!d->logged_state || p->pressure != d->logged_pressure)
		log_event(LOG_INFO, &(struct log_fields){
		    .message_id = LOG_MSGID_HOST_STATE, .action = "host_state",
		    .value = policy_pressure_name(p->pressure),
		    .reason = p->pressure_reason,
		    .reason_code = p->pressure_reason_code == HW_WHY_NONE ? NULL :
		    policy_host_why_name(p->pressure_reason_code), .from_kib = -1,
		    .to_kib = -1 },
		    "host %s: %s", policy_pressure_name(p->pressure),
		    p->pressure_reason);
	if (is_short && (!d->logged_state || !d->logged_short))
		log_warnx("host short by %lld MiB, nothing left to reclaim: "
		    "every guest is at its need or floor, or its balloon "
		    "returns nothing; guests keep their headroom",
		    (long long)(p->short_kib / 1024));
	else if (!is_short && d->logged_state && d->logged_short)
		log_info("host no longer short of what the guests can give");
	d->logged_state = true;
	d->logged_pressure = p->pressure;
	d->logged_short = is_short;
}

static int
daemon_tick_once(struct daemon *d, bool dry_run, int64_t reserve_kib)
{
	struct engine *e = &d->eng;
	int64_t now = mt_now_ms();
	int rc;

	d->last_tick_ok = false;
	if (!daemon_ensure_connection(d, now)) {
		/* daemon_ensure_connection said why */
		mt_strlcpy(d->last_logged_error, e->last_error,
		    sizeof(d->last_logged_error));
		d->mctr.errors[METRICS_ERR_LIBVIRT]++;
		return -ENOTCONN;
	}
	if ((rc = engine_collect(e, now)) < 0) {
		daemon_note_error(d, e->last_error);
		d->mctr.errors[METRICS_ERR_COLLECT]++;
		if (rc == -ENOTCONN || !virt_alive(e->conn))
			d->conn_lost = true;
		return rc;
	}
	rc = engine_decide(e, now, reserve_kib);
	if (rc < 0 && rc != -ENOSPC) {
		daemon_note_error(d, e->last_error);
		return rc;
	}
	d->last_tick_ok = true;
	if (rc != -ENOSPC && reserve_kib <= 0)
		daemon_log_state(d);
	if (d->last_logged_error[0] != '\0') {
		log_info("ticks resumed");
		d->last_logged_error[0] = '\0';
	}
	if (rc == -ENOSPC)
		log_warnx("reserve of %lld MiB not possible: at most %lld MiB "
		    "can be freed within the guests' bounds",
		    (long long)(reserve_kib / 1024),
		    (long long)(e->plan.reserve_possible_kib / 1024));
	if (rc == -ENOSPC) {
		/* an admission that cannot be met changes nothing: the
		 * answer is how much could be freed */
		d->ticks_run++;
		d->mctr.ticks++;
		return rc;
	}
	{
		int arc = engine_act(e, dry_run || e->cfg.dry_run);

		if (arc == -ENOTCONN) {
			d->conn_lost = true;
			d->mctr.errors[METRICS_ERR_LIBVIRT]++;
		}
		/* gone guests are counted there too */
		metrics_count_plan(&d->mctr, &e->plan, &e->last_act,
		    &e->results);
	}
	d->ticks_run++;
	d->mctr.ticks++;
	return rc;
}

int
daemon_tick(struct daemon *d, bool dry_run, int64_t reserve_kib)
{
	int64_t started = mt_now_ms();
	int rc = daemon_tick_once(d, dry_run, reserve_kib);

	/* the loop serves nothing else meanwhile (the control socket has a
	 * thread of its own) */
	log_debug("tick took %lld ms", (long long)(mt_now_ms() - started));
	daemon_publish_metrics(d, started);
	daemon_publish_status(d, true);
	return rc;
}

static int64_t
daemon_next_interval(struct daemon *d)
{
	const struct mt_config *c = &d->eng.cfg;
	int64_t iv = c->interval_ms;

	if (d->eng.plan_ms > 0 && d->eng.plan.next_interval_ms > 0)
		iv = d->eng.plan.next_interval_ms;
	iv = MAX(iv, c->interval_min_ms);
	iv = MIN(iv, c->interval_max_ms);
	/* the watchdog must hear from us at least twice per period */
	if (d->watchdog_usec > 0)
		iv = MIN(iv, (int64_t)(d->watchdog_usec / 2000));
	if (d->eng.conn == NULL && d->reconnect_at_ms != MT_ABSENT)
		iv = MIN(iv, MAX(d->reconnect_at_ms - mt_now_ms(), 100));
	return iv;
}

static void
on_timer(void *arg)
{
	struct daemon *d = arg;

	if (d->next_tick_ms != MT_ABSENT && mt_now_ms() < d->next_tick_ms &&
	    !daemon_watch_says_tick(d) && !daemon_burst_says_tick(d)) {
		daemon_arm(d);
		return;
	}
	d->next_tick_ms = MT_ABSENT;
	daemon_tick(d, false, 0);
	if (d->watchdog_usec > 0)
		sdnotify_watchdog();
	if (d->opts.max_ticks > 0 && d->ticks_run >= d->opts.max_ticks) {
		evloop_quit(d->loop);
		return;
	}
	daemon_schedule(d, mt_now_ms() + daemon_next_interval(d));
}

static void
on_psi(int fd, short revents, void *arg)
{
	struct daemon *d = arg;
	int64_t now = mt_now_ms();

	(void)fd;
	if (revents & POLLERR) {
		/* the trigger is gone (the file went away): stop watching */
		log_warnx("PSI trigger failed; falling back to timed ticks");
		evloop_remove_fd(d->loop, d->psi_watch);
		close(d->psi_fd);
		d->psi_fd = -1;
		return;
	}
	if (!(revents & POLLPRI))
		return;
	d->psi_wakeups++;
	if (now - d->last_psi_tick_ms < PSI_MIN_GAP_MS)
		return;
	d->last_psi_tick_ms = now;
	log_debug("PSI trigger: memory stall over threshold, deciding now");
	daemon_schedule(d, now);
}

static void
daemon_open_psi(struct daemon *d)
{
	const struct mt_config *c = &d->eng.cfg;
	int rc;

	d->psi_fd = -1;
	if (c->psi_threshold_us <= 0)
		return;
	rc = psi_trigger_open("/proc/pressure/memory", c->psi_threshold_us,
	    c->psi_window_us, &d->psi_fd, &d->psi_window_us);
	if (rc < 0) {
		log_info("no PSI trigger (%s): ticks are timed only",
		    strerror(-rc));
		d->psi_fd = -1;
		return;
	}
	if (d->psi_window_us != c->psi_window_us)
		log_info("PSI trigger window %lld ms refused by the kernel; "
		    "using %lld ms", (long long)(c->psi_window_us / 1000),
		    (long long)(d->psi_window_us / 1000));
	d->psi_watch = evloop_add_fd(d->loop, d->psi_fd, POLLPRI, on_psi, d);
}

/* ------------------------------------------------------ control socket */

static struct json_object *
ctl_answer_error(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* A reserve larger than the host could ever free is refused before any
 * tick runs for it (not cut down: a VM that needs N MiB gains nothing from
 * less); NULL when it may go on. Without a tick yet MemTotal is unknown,
 * and the policy's own answer (-ENOSPC, nothing moved) stands. */
static struct json_object *
ctl_check_reserve(struct daemon *d, int64_t reserve_kib)
{
	const struct engine *e = &d->eng;
	int64_t total = e->have_snap ? e->snap.host.mem.mem_total_kib : 0;
	int64_t max_kib;
	struct json_object *o;
	char msg[256];

	if (reserve_kib <= 0 || total <= 0)
		return NULL;
	max_kib = policy_reserve_max_kib(&e->cfg.policy, total);
	if (reserve_kib <= max_kib)
		return NULL;
	snprintf(msg, sizeof(msg), "reserve of %lld MiB refused: this host "
	    "could never free more than %lld MiB (MemTotal %lld MiB less the "
	    "MemAvailable memtuned keeps)", (long long)(reserve_kib / 1024),
	    (long long)(max_kib / 1024), (long long)(total / 1024));
	o = ctl_answer_error(msg);
	json_object_object_add(o, "code",
	    json_object_new_string(DAEMON_CODE_RESERVE));
	json_object_object_add(o, "reserve_max_kib",
	    json_object_new_int64(max_kib));
	return o;
}

/* The guests of a release: an array of names or UUIDs, or none (every
 * guest and the host). 0, or -EINVAL. */
static int
ctl_guest_list(struct json_object *req, const char ***sel, size_t *nr)
{
	struct json_object *v;
	size_t n;

	*sel = NULL;
	*nr = 0;
	if (!json_object_object_get_ex(req, "guests", &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return -EINVAL;
	n = json_object_array_length(v);
	if (n == 0)
		return 0;
	if ((*sel = calloc(n, sizeof(**sel))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(v, i);

		if (!json_object_is_type(g, json_type_string)) {
			free(*sel);
			*sel = NULL;
			return -EINVAL;
		}
		(*sel)[i] = json_object_get_string(g);
	}
	*nr = n;
	return 0;
}

/* memtunectl release: the engine gives back what memtuned changed and
 * holds the guests; a tick follows at once, so that status shows them
 * released. A daemon in dry-run only plans it. */
static struct json_object *
ctl_release(struct daemon *d, struct json_object *req, uid_t uid, pid_t pid)
{
	struct release_plan plan;
	struct json_object *v, *resp;
	const char **sel;
	bool dry_run = false;
	char err[512];
	size_t nr;
	int rc;

	if (json_object_object_get_ex(req, "dry_run", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return ctl_answer_error("\"dry_run\" must be true or "
			    "false");
		dry_run = json_object_get_boolean(v);
	}
	if (ctl_guest_list(req, &sel, &nr) < 0)
		return ctl_answer_error("\"guests\" must be a list of guest "
		    "names or UUIDs");
	dry_run = dry_run || d->eng.cfg.dry_run;
	log_info("control: release of %s requested by uid %d pid %d%s",
	    nr == 0 ? "every guest and the host" : "some guests", (int)uid,
	    (int)pid, dry_run ? " (dry run)" : "");
	release_plan_init(&plan);
	rc = engine_release(&d->eng, sel, nr, dry_run, true, &plan, err,
	    sizeof(err));
	free(sel);
	if (rc < 0) {
		resp = ctl_answer_error(err);
		json_object_object_add(resp, "code", json_object_new_string(
		    rc == -ENOENT ? DAEMON_CODE_NO_GUEST : DAEMON_CODE_NO_DATA));
		return resp;
	}
	resp = release_plan_json(&plan);
	release_plan_free(&plan);
	if (!dry_run)
		daemon_schedule(d, mt_now_ms());
	return resp;
}

/* memtunectl pause and resume: held in the engine's memory, and a tick
 * at once, so that status shows it. */
static struct json_object *
ctl_hold(struct daemon *d, struct json_object *req, uid_t uid, pid_t pid,
    enum guest_hold hold)
{
	const char *verb = hold == GUEST_HOLD_NONE ? "resume" : "pause";
	struct release_plan sel_out;
	struct json_object *resp, *guests;
	const char **sel;
	char err[512];
	size_t nr;
	int rc;

	if (ctl_guest_list(req, &sel, &nr) < 0)
		return ctl_answer_error("\"guests\" must be a list of guest "
		    "names or UUIDs");
	log_info("control: %s of %s requested by uid %d pid %d", verb,
	    nr == 0 ? "every guest and the host" : "some guests", (int)uid,
	    (int)pid);
	release_plan_init(&sel_out);
	rc = engine_set_hold(&d->eng, sel, nr, hold, &sel_out, err,
	    sizeof(err));
	free(sel);
	if (rc < 0) {
		release_plan_free(&sel_out);
		resp = ctl_answer_error(rc == -ENOMEM ? "out of memory" : err);
		json_object_object_add(resp, "code", json_object_new_string(
		    rc == -ENOENT ? DAEMON_CODE_NO_GUEST : DAEMON_CODE_NO_DATA));
		return resp;
	}
	resp = json_object_new_object();
	guests = json_object_new_array();
	for (size_t i = 0; i < sel_out.nr_guests; i++) {
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "name", json_object_new_string(
		    sel_out.guests[i].name));
		json_object_object_add(g, "uuid", json_object_new_string(
		    sel_out.guests[i].uuid));
		json_object_object_add(g, "hold", json_object_new_string(
		    guest_hold_name(engine_hold_of(&d->eng,
		    sel_out.guests[i].uuid))));
		json_object_array_add(guests, g);
		log_info("control: %s %s", verb, sel_out.guests[i].name);
	}
	json_object_object_add(resp, "ok", json_object_new_boolean(1));
	json_object_object_add(resp, "cmd", json_object_new_string(verb));
	json_object_object_add(resp, "host", json_object_new_boolean(
	    sel_out.host));
	json_object_object_add(resp, "guests", guests);
	release_plan_free(&sel_out);
	daemon_schedule(d, mt_now_ms());
	return resp;
}

/* A request on the daemon's loop, which owns the engine. */
static struct json_object *
ctl_handle(struct json_object *req, uid_t uid, pid_t pid, struct daemon *d)
{
	struct json_object *v, *resp;
	const char *cmd;

	if (!json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string))
		return ctl_answer_error("request has no \"cmd\" string");
	cmd = json_object_get_string(v);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "explain") == 0)
		return report_status_json(&d->eng, "daemon");
	if (strcmp(cmd, "capacity") == 0) {
		int64_t vm_kib = 0;

		/* an estimate on the last tick's snapshot: it changes nothing */
		if (json_object_object_get_ex(req, "vm_mib", &v)) {
			if (!json_object_is_type(v, json_type_int) ||
			    json_object_get_int64(v) <= 0 ||
			    json_object_get_int64(v) > (INT64_C(1) << 30))
				return ctl_answer_error("\"vm_mib\" must be a "
				    "whole number of MiB above 0");
			vm_kib = json_object_get_int64(v) * 1024;
		}
		return capacity_engine_json(&d->eng, vm_kib, mt_now_ms());
	}
	if (strcmp(cmd, "release") == 0)
		return ctl_release(d, req, uid, pid);
	if (strcmp(cmd, "pause") == 0)
		return ctl_hold(d, req, uid, pid, GUEST_HOLD_PAUSED);
	if (strcmp(cmd, "resume") == 0)
		return ctl_hold(d, req, uid, pid, GUEST_HOLD_NONE);
	if (strcmp(cmd, "rebalance") == 0) {
		bool dry_run = false;
		int64_t reserve_kib = 0;
		int rc;

		if (json_object_object_get_ex(req, "dry_run", &v)) {
			if (!json_object_is_type(v, json_type_boolean))
				return ctl_answer_error("\"dry_run\" must be "
				    "true or false");
			dry_run = json_object_get_boolean(v);
		}
		if (json_object_object_get_ex(req, "reserve_mib", &v)) {
			if (!json_object_is_type(v, json_type_int) ||
			    json_object_get_int64(v) < 0 ||
			    json_object_get_int64(v) > (INT64_C(1) << 30))
				return ctl_answer_error("\"reserve_mib\" must "
				    "be a whole number of MiB");
			reserve_kib = json_object_get_int64(v) * 1024;
		}
		if ((resp = ctl_check_reserve(d, reserve_kib)) != NULL) {
			log_warnx("control: rebalance from uid %d pid %d "
			    "refused: a reserve of %lld MiB is more than the "
			    "host could ever free", (int)uid, (int)pid,
			    (long long)(reserve_kib / 1024));
			return resp;
		}
		log_info("control: rebalance requested by uid %d pid %d%s%s",
		    (int)uid, (int)pid, dry_run ? " (dry run)" : "",
		    reserve_kib > 0 ? " with a reserve" : "");
		rc = daemon_tick(d, dry_run, reserve_kib);
		resp = report_status_json(&d->eng, "daemon");
		report_add_rebalance(resp, &d->eng, rc, rc == 0 && !dry_run &&
		    !d->eng.cfg.dry_run, reserve_kib > 0);
		return resp;
	}
	return ctl_answer_error("unknown command");
}

/* The status as the last tick left it, as text for the control thread:
 * rendered on the loop, which owns the engine, and read under the lock.
 * The first tick's wakes a status request that came before it. */
static void
daemon_publish_status(struct daemon *d, bool ticked)
{
	struct json_object *st;
	char *text;

	if (!d->ctl_sync_ready)
		return;
	st = report_status_json(&d->eng, "daemon");
	text = strdup(json_object_to_json_string_ext(st,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(st);
	if (text == NULL) {
		log_warnx("status: out of memory; the last one is kept");
		return;
	}
	pthread_mutex_lock(&d->ctl_lock);
	free(d->status_text);
	d->status_text = text;
	if (ticked && !d->status_ticked) {
		d->status_ticked = true;
		pthread_cond_broadcast(&d->ctl_cond);
	}
	pthread_mutex_unlock(&d->ctl_lock);
}

static struct json_object *
ctl_parse_answer(char *text)
{
	struct json_object *resp = text != NULL ? json_tokener_parse(text) :
	    NULL;

	free(text);
	return resp != NULL ? resp : ctl_answer_error("out of memory");
}

/* A request, in the control thread. status and explain come from the
 * last tick's status, whatever the loop is waiting for; the rest is handed
 * to the loop and waited for. */
static struct json_object *
on_ctl(struct json_object *req, const struct ctl_peer *peer, void *arg)
{
	struct daemon *d = arg;
	struct json_object *v, *resp;
	const char *cmd;
	uint64_t one = 1;
	char *text;

	if (!json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string))
		return ctl_answer_error("request has no \"cmd\" string");
	cmd = json_object_get_string(v);
	if (strcmp(cmd, "ping") == 0) {
		resp = json_object_new_object();
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		return resp;
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "explain") == 0) {
		struct timespec until;

		/* just started: the guests come with the first tick, which
		 * is due at once; wait for it rather than answer "none" */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STATUS_FIRST_TICK_WAIT_S;
		pthread_mutex_lock(&d->ctl_lock);
		while (!d->status_ticked && !d->ctl_stopping &&
		    pthread_cond_timedwait(&d->ctl_cond, &d->ctl_lock,
		    &until) != ETIMEDOUT)
			;
		text = d->status_text != NULL ? strdup(d->status_text) : NULL;
		pthread_mutex_unlock(&d->ctl_lock);
		return ctl_parse_answer(text);
	}
	if ((text = strdup(json_object_to_json_string_ext(req,
	    JSON_C_TO_STRING_PLAIN))) == NULL)
		return ctl_answer_error("out of memory");
	pthread_mutex_lock(&d->ctl_lock);
	if (d->ctl_stopping) {
		pthread_mutex_unlock(&d->ctl_lock);
		free(text);
		return ctl_answer_error("memtuned is stopping");
	}
	d->fwd_req = text;
	d->fwd_uid = peer->uid;
	d->fwd_pid = peer->pid;
	d->fwd_done = false;
	pthread_mutex_unlock(&d->ctl_lock);
	if (write(d->ctl_wake, &one, sizeof(one)) < 0)
		log_warn("control: waking the loop");
	pthread_mutex_lock(&d->ctl_lock);
	while (!d->fwd_done && !d->ctl_stopping)
		pthread_cond_wait(&d->ctl_cond, &d->ctl_lock);
	text = d->fwd_done ? d->fwd_resp : NULL;
	if (!d->fwd_done) {
		free(d->fwd_req);
		d->fwd_req = NULL;
		pthread_mutex_unlock(&d->ctl_lock);
		return ctl_answer_error("memtuned is stopping");
	}
	d->fwd_resp = NULL;
	d->fwd_done = false;
	pthread_mutex_unlock(&d->ctl_lock);
	return ctl_parse_answer(text);
}

/* On the loop: the control thread handed over a request. */
static void
on_ctl_wake(int fd, short revents, void *arg)
{
	struct daemon *d = arg;
	struct json_object *req, *resp;
	uint64_t n;
	char *text;
	uid_t uid;
	pid_t pid;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("control: wake read");
	pthread_mutex_lock(&d->ctl_lock);
	text = d->fwd_req;
	d->fwd_req = NULL;
	uid = d->fwd_uid;
	pid = d->fwd_pid;
	pthread_mutex_unlock(&d->ctl_lock);
	if (text == NULL)
		return;
	req = json_tokener_parse(text);
	free(text);
	resp = req != NULL ? ctl_handle(req, uid, pid, d) :
	    ctl_answer_error("request is not JSON");
	json_object_put(req);
	text = strdup(json_object_to_json_string_ext(resp,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(resp);
	pthread_mutex_lock(&d->ctl_lock);
	d->fwd_resp = text;
	d->fwd_done = true;
	pthread_cond_broadcast(&d->ctl_cond);
	pthread_mutex_unlock(&d->ctl_lock);
}

/* In the control thread: an answer not yet all sent. */
static bool
ctl_answers_pending(const struct ctl_server *srv)
{
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		const struct connpool_client *c = &srv->clients[i];

		if (c->fd >= 0 && c->out != NULL && c->out_off < c->out_len)
			return true;
	}
	return false;
}

/* In the control thread: clients past their deadline go, every second;
 * once the daemon stops, the thread ends when its answers are out (an
 * answer "memtuned is stopping" among them), or after 1 s. */
static void
on_ctl_timer(void *arg)
{
	struct daemon *d = arg;
	int64_t now = mt_now_ms(), stop_ms;
	bool stopping;

	ctl_server_expire(&d->ctl, now);
	pthread_mutex_lock(&d->ctl_lock);
	stopping = d->ctl_stopping;
	stop_ms = d->ctl_stop_ms;
	pthread_mutex_unlock(&d->ctl_lock);
	if (stopping && (!ctl_answers_pending(&d->ctl) ||
	    now - stop_ms >= 1000)) {
		evloop_quit(d->ctl_loop);
		return;
	}
	evloop_set_deadline(d->ctl_loop, now + (stopping ? 20 : 1000));
}

static void *
ctl_thread_main(void *arg)
{
	struct daemon *d = arg;
	int rc;

	if ((rc = evloop_run(d->ctl_loop)) < 0)
		log_warnx("control socket loop: %s", strerror(-rc));
	return NULL;
}

/* The control socket on a loop and thread of its own (daemon.h). */
static int
daemon_open_ctl(struct daemon *d)
{
	const struct mt_config *c = &d->eng.cfg;
	struct ctl_access acc = {
		.read_gid = c->control_gid,
		.admin_gid = c->admin_gid,
		.act_interval_ms = c->act_interval_ms,
	};
	int rc;

	mt_strlcpy(acc.read_group, c->control_group, sizeof(acc.read_group));
	mt_strlcpy(acc.admin_group, c->admin_group, sizeof(acc.admin_group));
	pthread_mutex_init(&d->ctl_lock, NULL);
	pthread_cond_init(&d->ctl_cond, NULL);
	d->ctl_sync_ready = true;
	if ((d->ctl_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	if ((rc = evloop_add_fd(d->loop, d->ctl_wake, POLLIN, on_ctl_wake,
	    d)) < 0)
		return rc;
	d->ctl_wake_watch = rc;
	/* no signals of its own: the thread inherits the loop's mask, and
	 * the daemon's signals reach the daemon's signalfd */
	if ((rc = evloop_new(&d->ctl_loop, NULL, 0, NULL, NULL)) < 0)
		return rc;
	evloop_set_timer_cb(d->ctl_loop, on_ctl_timer, d);
	evloop_set_deadline(d->ctl_loop, mt_now_ms() + 1000);
	if ((rc = ctl_server_open(&d->ctl, d->ctl_loop, c->control_socket,
	    &acc, on_ctl, d)) < 0)
		return rc;
	d->ctl_open = true;
	daemon_publish_status(d, false);
	if ((rc = pthread_create(&d->ctl_thread, NULL, ctl_thread_main, d)) !=
	    0)
		return -rc;
	d->ctl_thread_on = true;
	return 0;
}

/* No more requests for the loop: a waiting one is answered "stopping". */
static void
daemon_stop_ctl(struct daemon *d)
{
	if (!d->ctl_thread_on)
		return;
	pthread_mutex_lock(&d->ctl_lock);
	d->ctl_stopping = true;
	d->ctl_stop_ms = mt_now_ms();
	pthread_cond_broadcast(&d->ctl_cond);
	pthread_mutex_unlock(&d->ctl_lock);
	/* its timer, due now, ends the thread once the answers are out;
	 * a timerfd is safe to set from here */
	evloop_set_deadline(d->ctl_loop, mt_now_ms());
	pthread_join(d->ctl_thread, NULL);
	d->ctl_thread_on = false;
}

/* ------------------------------------------------------------- signals */

int
daemon_reload(struct daemon *d)
{
	struct mt_config next;
	char err[4096];
	int rc;

	sdnotify_reloading();
	rc = config_load_file(d->opts.config_path, &next, err, sizeof(err));
	if (rc < 0) {
		d->mctr.errors[METRICS_ERR_CONFIG]++;
		log_warnx("reload: %s is not valid; keeping the running "
		    "config:\n%s", d->opts.config_path, err);
		sdnotify_ready("config reload failed; old config kept");
		return -EINVAL;
	}
	if (d->opts.force_dry_run)
		next.dry_run = true;
	if (log_get_verbose() < 1 || next.log_level >= LOG_DEBUG)
		log_set_level(next.log_level);
	if (strcmp(next.uri, d->eng.cfg.uri) != 0) {
		log_info("reload: libvirt URI changed to %s", next.uri);
		engine_set_config(&d->eng, &next);
		daemon_drop_connection(d);
		d->reconnect_at_ms = mt_now_ms();
	} else {
		engine_set_config(&d->eng, &next);
	}
	d->reloads++;
	log_info("reload: %s loaded", d->opts.config_path);
	daemon_publish_status(d, false);
	sdnotify_ready("config reloaded");
	daemon_schedule(d, mt_now_ms());
	return 0;
}

static void
on_signal(int signo, void *arg)
{
	struct daemon *d = arg;

	switch (signo) {
	case SIGHUP:
		daemon_reload(d);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: stopping", signo);
		evloop_quit(d->loop);
		break;
	default:
		break;
	}
}

/* -------------------------------------------------------------- set-up */

int
daemon_init(struct daemon *d, const struct daemon_opts *opts)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct mt_config cfg;
	char err[4096];
	int rc;

	memset(d, 0, sizeof(*d));
	d->opts = *opts;
	d->psi_fd = -1;
	d->ctl_wake = -1;
	for (size_t i = 0; i < DAEMON_NR_EVENTS; i++)
		d->ev_ids[i] = -1;
	d->next_tick_ms = MT_ABSENT;
	d->reconnect_at_ms = MT_ABSENT;
	d->reconnect_backoff_ms = RECONNECT_MIN_MS;

	rc = config_load_file(opts->config_path, &cfg, err, sizeof(err));
	if (rc < 0) {
		log_warnx("%s", err);
		return rc;
	}
	if (opts->force_dry_run)
		cfg.dry_run = true;
	if (log_get_verbose() < 1)
		log_set_level(cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = evloop_new(&d->loop, sigs, ARRAY_SIZE(sigs), on_signal, d)) < 0) {
		log_warnx("event loop: %s", strerror(-rc));
		config_free(&cfg);
		return rc;
	}
	evloop_set_timer_cb(d->loop, on_timer, d);
	/* libvirt's events must run on our loop: register before connecting */
	if ((rc = evloop_register_libvirt(d->loop)) < 0) {
		log_warnx("cannot serve libvirt's event API: %s", strerror(-rc));
		config_free(&cfg);
		return rc;
	}
	virt_install_error_handler();
	if ((rc = engine_init(&d->eng, &cfg)) < 0) {
		log_warnx("engine: %s", strerror(-rc));
		return rc;
	}
	if (!opts->no_control && (rc = daemon_open_ctl(d)) < 0) {
		log_warnx("control socket %s: %s", d->eng.cfg.control_socket,
		    strerror(-rc));
		return rc;
	}
	daemon_open_psi(d);
	metrics_counters_init(&d->mctr);
	if (d->eng.cfg.metrics_listen[0] != '\0') {
		rc = metrics_http_open(&d->mhttp, d->loop, d->eng.cfg.metrics_host,
		    d->eng.cfg.metrics_port, 0);
		if (rc < 0) {
			log_warnx("metrics listener %s: %s", d->eng.cfg.metrics_listen,
			    strerror(-rc));
			return rc;
		}
		d->mhttp_open = true;
		log_info("metrics on http://%s/metrics", d->eng.cfg.metrics_listen);
	}
	if (sdnotify_watchdog_usec(&d->watchdog_usec) < 0)
		d->watchdog_usec = 0;
	if (daemon_connect(d) < 0) {
		log_warnx("%s; will retry", d->eng.last_error);
		d->reconnect_at_ms = mt_now_ms() + RECONNECT_MIN_MS;
	}
	daemon_publish_status(d, false);
	log_info("started: uri=%s interval=%llds%s psi_trigger=%s", d->eng.cfg.uri,
	    (long long)(d->eng.cfg.interval_ms / 1000),
	    d->eng.cfg.dry_run ? " dry_run=yes" : "",
	    d->psi_fd >= 0 ? "on" : "off");
	return 0;
}

int
daemon_run(struct daemon *d)
{
	int rc;

	sdnotify_ready("running");
	daemon_schedule(d, mt_now_ms());
	rc = evloop_run(d->loop);
	sdnotify_stopping();
	daemon_stop_ctl(d);
	engine_shutdown_actions(&d->eng);
	return rc < 0 ? rc : 0;
}

void
daemon_free(struct daemon *d)
{
	if (d->mhttp_open)
		metrics_http_close(&d->mhttp);
	capacity_result_free(&d->mcap);
	daemon_stop_ctl(d);
	if (d->ctl_open)
		ctl_server_close(&d->ctl);
	if (d->ctl_loop != NULL)
		evloop_free(d->ctl_loop);
	if (d->ctl_wake >= 0) {
		evloop_remove_fd(d->loop, d->ctl_wake_watch);
		close(d->ctl_wake);
	}
	if (d->ctl_sync_ready) {
		pthread_mutex_destroy(&d->ctl_lock);
		pthread_cond_destroy(&d->ctl_cond);
		d->ctl_sync_ready = false;
	}
	free(d->status_text);
	free(d->fwd_req);
	free(d->fwd_resp);
	d->status_text = d->fwd_req = d->fwd_resp = NULL;
	if (d->psi_fd >= 0) {
		evloop_remove_fd(d->loop, d->psi_watch);
		close(d->psi_fd);
	}
	daemon_drop_connection(d);
	engine_free(&d->eng);
	/* the loop stays: libvirt may still hold callbacks registered on it,
	 * and the process is about to exit */
}
