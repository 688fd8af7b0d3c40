/* guests.c - see guests.h */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "cgroup.h"
#include "domxml.h"
#include "guests.h"
#include "log.h"
#include "smaps.h"
#include "taskstats.h"
#include "util.h"
#include "virt.h"

/* QEMU's command line starts "<binary> -name guest=NAME,..."; the first
 * 4 KiB holds it even with a long binary path and the longest name. */
#define GUESTS_CMDLINE_BUF 4096
/* libvirt knows four memory parameters today; room for a few more. */
#define GUESTS_MEMPARAMS_MAX 16

void
guests_opts_default(struct guests_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->refresh_ticks = 60;
	o->enable_stats_period_s = 0;
	o->taskstats = true;
	o->cgroup = true;
	o->metadata = METADATA_BOUNDED;
	mt_strlcpy(o->pid_dir, "/run/libvirt/qemu", sizeof(o->pid_dir));
}

int
guests_init(struct guest_collector *gc, const struct guests_opts *opts)
{
	int rc;

	memset(gc, 0, sizeof(*gc));
	gc->opts = *opts;
	gc->ts.sk = NULL;
	gc->ts.family = -1;
	if (opts->cgroup) {
		if ((rc = mcg_mounts_detect(&gc->cg_mounts)) == 0)
			gc->cg_ready = true;
		else
			log_info("guests: no memory cgroup controller found "
			    "(%s); cgroup fields stay absent", strerror(-rc));
	}
	if (opts->taskstats) {
		rc = taskstats_enable_accounting(false);
		if (rc < 0)
			log_info("guests: no delay accounting sysctl (%s); "
			    "taskstats fields stay absent", strerror(-rc));
		else if (rc == 0)
			log_info("guests: delay accounting is off "
			    "(kernel.task_delayacct=0); taskstats fields stay "
			    "absent");
		gc->ts_accounting = rc == 1;
		if (gc->ts_accounting) {
			if ((rc = taskstats_open(&gc->ts)) == 0)
				gc->ts_ready = true;
			else
				log_info("guests: taskstats unavailable (%s); "
				    "taskstats fields stay absent",
				    strerror(-rc));
		}
	}
	return 0;
}

void
guests_free(struct guest_collector *gc)
{
	taskstats_close(&gc->ts);
	free(gc->entries);
	free(gc->out);
	free(gc->skipped);
	gc->entries = NULL;
	gc->out = NULL;
	gc->skipped = NULL;
	gc->nr_entries = gc->cap_entries = gc->cap_out = 0;
	gc->nr_skipped = gc->cap_skipped = 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct guest_entry *)a)->uuid,
	    ((const struct guest_entry *)b)->uuid);
}

static struct guest_entry *
entry_find(struct guest_collector *gc, size_t nr_sorted, const char *uuid)
{
	struct guest_entry key;

	if (nr_sorted == 0)
		return NULL;
	mt_strlcpy(key.uuid, uuid, sizeof(key.uuid));
	return bsearch(&key, gc->entries, nr_sorted, sizeof(*gc->entries),
	    entry_cmp);
}

void
guests_invalidate(struct guest_collector *gc, const char *uuid)
{
	struct guest_entry *e;

	if (uuid == NULL) {
		for (size_t i = 0; i < gc->nr_entries; i++)
			gc->entries[i].valid = false;
		return;
	}
	/* entries stay sorted between ticks; the daemon calls this from
	 * event handlers, never from inside guests_collect */
	if ((e = entry_find(gc, gc->nr_entries, uuid)) != NULL)
		e->valid = false;
}

void
guests_note_balloon(struct guest_collector *gc, const char *uuid,
    int64_t actual_kib)
{
	struct guest_entry *e;

	if (actual_kib <= 0 ||
	    (e = entry_find(gc, gc->nr_entries, uuid)) == NULL)
		return;
	if (!MT_PRESENT(e->ev_peak_kib) || actual_kib > e->ev_peak_kib)
		e->ev_peak_kib = actual_kib;
	if (!MT_PRESENT(e->ev_low_kib) || actual_kib < e->ev_low_kib)
		e->ev_low_kib = actual_kib;
	else if (!MT_PRESENT(e->ev_rise_kib) ||
	    actual_kib - e->ev_low_kib > e->ev_rise_kib)
		e->ev_rise_kib = actual_kib - e->ev_low_kib;
}

/* The events' figures into the snapshot, the sample's own size counted
 * as the last event; the next window starts from it. */
static void
take_balloon_events(struct guest_entry *e, struct guest_snapshot *g)
{
	if (MT_PRESENT(e->ev_peak_kib) && MT_PRESENT(g->actual_kib)) {
		g->balloon_peak_kib = MAX(e->ev_peak_kib, g->actual_kib);
		g->balloon_rise_kib = MT_PRESENT(e->ev_rise_kib) ?
		    e->ev_rise_kib : 0;
		if (MT_PRESENT(e->ev_low_kib) && g->actual_kib > e->ev_low_kib)
			g->balloon_rise_kib = MAX(g->balloon_rise_kib,
			    g->actual_kib - e->ev_low_kib);
	}
	e->ev_peak_kib = e->ev_rise_kib = MT_ABSENT;
	e->ev_low_kib = g->actual_kib;
}

static struct guest_entry *
entry_add(struct guest_collector *gc, const char *uuid)
{
	struct guest_entry *e;

	if (gc->nr_entries == gc->cap_entries) {
		size_t cap = gc->cap_entries ? gc->cap_entries * 2 : 16;

		e = reallocarray(gc->entries, cap, sizeof(*e));
		if (e == NULL)
			return NULL;
		gc->entries = e;
		gc->cap_entries = cap;
	}
	e = &gc->entries[gc->nr_entries++];
	memset(e, 0, sizeof(*e));
	mt_strlcpy(e->uuid, uuid, sizeof(e->uuid));
	e->qemu_pid = MT_ABSENT;
	e->prev_ms = MT_ABSENT;
	e->ev_low_kib = e->ev_peak_kib = e->ev_rise_kib = MT_ABSENT;
	e->last_update_s = MT_ABSENT;
	e->last_update_moved_ms = MT_ABSENT;
	e->prev_ts_ms = MT_ABSENT;
	e->prev_ts_pid = MT_ABSENT;
	e->max_kib = MT_ABSENT;
	e->hard_limit_kib = e->soft_limit_kib = e->swap_hard_limit_kib =
	    MT_ABSENT;
	e->own_kib = e->own_pid = e->own_ms = MT_ABSENT;
	e->own_actual_kib = e->own_rss_kib = MT_ABSENT;
	return e;
}

static int64_t
param_i64(const virTypedParameter *p)
{
	switch (p->type) {
	case VIR_TYPED_PARAM_INT:
		return p->value.i;
	case VIR_TYPED_PARAM_UINT:
		return p->value.ui;
	case VIR_TYPED_PARAM_LLONG:
		return p->value.l;
	case VIR_TYPED_PARAM_ULLONG:
		return p->value.ul > (unsigned long long)INT64_MAX ?
		    MT_ABSENT : (int64_t)p->value.ul;
	default:
		return MT_ABSENT;
	}
}

void
guests_parse_params(const virTypedParameter *params, int nparams,
    struct guest_snapshot *g)
{
	/* every balloon value is KiB, a count, or (last-update) seconds */
	static const struct {
		const char *name;
		size_t off;
	} map[] = {
#define F(n, f) { n, offsetof(struct guest_snapshot, f) }
		F("balloon.current", actual_kib),
		F("balloon.maximum", balloon_max_kib),
		F("balloon.unused", unused_kib),
		F("balloon.available", available_kib),
		F("balloon.usable", usable_kib),
		F("balloon.disk_caches", disk_caches_kib),
		F("balloon.major_fault", major_fault),
		F("balloon.minor_fault", minor_fault),
		F("balloon.swap_in", swap_in_kib),
		F("balloon.swap_out", swap_out_kib),
		F("balloon.rss", rss_kib),
		F("balloon.last-update", last_update_s),
#undef F
	};

	for (int i = 0; i < nparams; i++) {
		const virTypedParameter *p = &params[i];
		int64_t v = param_i64(p);

		if (!MT_PRESENT(v))
			continue;
		if (strcmp(p->field, "state.state") == 0) {
			g->state = (int)v;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(map); k++) {
			if (strcmp(p->field, map[k].name) == 0) {
				*(int64_t *)(void *)((char *)g + map[k].off) = v;
				break;
			}
		}
	}
}

/* Drivers without the bulk balloon group (the test driver) still answer
 * virDomainMemoryStats; QEMU always reports balloon.current in bulk, so
 * this per-domain call never runs there. */
static int
fill_memstats(virDomainPtr dom, struct guest_snapshot *g)
{
	virDomainMemoryStatStruct st[VIR_DOMAIN_MEMORY_STAT_NR];
	int n;

	n = virDomainMemoryStats(dom, st, VIR_DOMAIN_MEMORY_STAT_NR, 0);
	if (n < 0)
		return virt_last_errno();
	for (int i = 0; i < n; i++) {
		int64_t v = st[i].val > (unsigned long long)INT64_MAX ?
		    MT_ABSENT : (int64_t)st[i].val;

		switch (st[i].tag) {
		case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
			g->actual_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_UNUSED:
			g->unused_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
			g->available_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_USABLE:
			g->usable_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES:
			g->disk_caches_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT:
			g->major_fault = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT:
			g->minor_fault = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
			g->swap_in_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
			g->swap_out_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_RSS:
			g->rss_kib = v;
			break;
		case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
			g->last_update_s = v;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int64_t
rate_per_s(int64_t cur, int64_t prev, int64_t dt_ms)
{
	if (!MT_PRESENT(cur) || !MT_PRESENT(prev) || dt_ms <= 0 || cur < prev)
		return MT_ABSENT;
	return (cur - prev) * 1000 / dt_ms;
}

void
guests_update_sample(struct guest_entry *e, struct guest_snapshot *g,
    int64_t stats_period_s, int64_t now_ms)
{
	int64_t limit_ms = GUESTS_STALE_MIN_MS;

	if (MT_PRESENT(e->prev_ms)) {
		int64_t dt = now_ms - e->prev_ms;

		g->major_fault_per_s = rate_per_s(g->major_fault,
		    e->prev_major_fault, dt);
		g->swap_in_kib_per_s = rate_per_s(g->swap_in_kib,
		    e->prev_swap_in_kib, dt);
	}
	e->prev_ms = now_ms;
	e->prev_major_fault = g->major_fault;
	e->prev_swap_in_kib = g->swap_in_kib;

	/* QEMU reports last-update 0 until the guest's first answer */
	if (!MT_PRESENT(g->last_update_s) || g->last_update_s == 0) {
		g->stats = GUEST_STATS_NONE;
		e->last_update_s = MT_ABSENT;
		e->last_update_moved_ms = MT_ABSENT;
		return;
	}
	if (g->last_update_s != e->last_update_s ||
	    !MT_PRESENT(e->last_update_moved_ms)) {
		e->last_update_s = g->last_update_s;
		e->last_update_moved_ms = now_ms;
	}
	if (MT_PRESENT(stats_period_s) && stats_period_s > 0 &&
	    stats_period_s * 1000 * GUESTS_STALE_PERIODS > limit_ms)
		limit_ms = stats_period_s * 1000 * GUESTS_STALE_PERIODS;
	g->stats = now_ms - e->last_update_moved_ms > limit_ms ?
	    GUEST_STATS_STALE : GUEST_STATS_OK;
}

void
guests_check_fresh(struct guest_snapshot *g, int64_t stats_period_s,
    int64_t wall_s)
{
	int64_t limit_s = GUESTS_STALE_MIN_MS / 1000;

	if (g->stats != GUEST_STATS_OK)
		return;
	/* without a period QEMU never asks again: what it has is the one
	 * report the driver sent when it came up, however old */
	if (!MT_PRESENT(stats_period_s) || stats_period_s <= 0) {
		g->stats = GUEST_STATS_NONE;
		return;
	}
	if (stats_period_s * GUESTS_STALE_PERIODS > limit_s)
		limit_s = stats_period_s * GUESTS_STALE_PERIODS;
	/* QEMU stamps last-update with the host's wall clock when the guest
	 * answers, so old stats are stale from the first sample on; a stamp
	 * from the future (clock stepped back) proves nothing either way */
	if (wall_s - g->last_update_s > limit_s)
		g->stats = GUEST_STATS_STALE;
}

/* Setting the period takes the domain's job, like a balloon change
 * (act.c's deadline, and why). */
#define GUESTS_PERIOD_DEADLINE_MS 500
/* The bulk call takes no job it has to wait for (NOWAIT), but enters each
 * free domain's monitor for its balloon stats: a monitor that never
 * answers would hold it forever. A thousand guests answer in about a
 * second. */
#define GUESTS_STATS_DEADLINE_MS 5000

struct period_req {
	char uuid[VIR_UUID_STRING_BUFLEN];
	int period_s;
	char msg[256];
};

static int
do_stats_period(virConnectPtr conn, void *data)
{
	struct period_req *r = data;
	virDomainPtr dom;
	int rc = 0;

	if ((dom = virDomainLookupByUUIDString(conn, r->uuid)) == NULL ||
	    virDomainSetMemoryStatsPeriod(dom, r->period_s,
	    VIR_DOMAIN_AFFECT_LIVE) < 0) {
		rc = virt_last_errno();
		mt_strlcpy(r->msg, virt_last_message(), sizeof(r->msg));
	}
	if (dom != NULL)
		virDomainFree(dom);
	return rc;
}

int
guests_enable_stats_period(virConnectPtr conn, virDomainPtr dom,
    int period_s)
{
	struct virt_call c = {
		.fn = do_stats_period, .what = "stats period",
		.deadline_ms = GUESTS_PERIOD_DEADLINE_MS,
	};
	struct period_req r;
	int rc;

	if (period_s <= 0)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	if (virDomainGetUUIDString(dom, r.uuid) < 0)
		return virt_last_errno();
	r.period_s = period_s;
	c.key = r.uuid;
	rc = virt_call_run(conn != NULL ? conn : virDomainGetConnect(dom), &c,
	    &r, sizeof(r));
	if (rc < 0) {
		if (r.msg[0] != '\0')
			log_debug("guest %s: stats period: %s",
			    virDomainGetName(dom), r.msg);
		return rc;
	}
	log_info("guest %s: balloon stats period set to %d s",
	    virDomainGetName(dom), period_s);
	return 0;
}

/* A domain memtuned cannot change now: not running, or a libvirt call
 * about it still out. Into gc->skipped with why; true when skipped. */
static bool
skip_busy(struct guest_collector *gc, virDomainStatsRecordPtr rec,
    const char *name, const char *uuid)
{
	struct guest_skip *k;
	char what[96];
	int state = -1, reason = -1;
	int64_t since = 0;

	/* no state reported (a driver without the group): can't tell, so
	 * not skipped; the deadline still holds */
	if (virTypedParamsGetInt(rec->params, rec->nparams, "state.state",
	    &state) != 1)
		state = VIR_DOMAIN_RUNNING;
	if (virTypedParamsGetInt(rec->params, rec->nparams, "state.reason",
	    &reason) != 1)
		reason = -1;
	if ((state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED) &&
	    !virt_call_stuck(uuid, &since))
		return false;
	if (gc->nr_skipped == gc->cap_skipped)
		return true;		/* sized for every record */
	k = &gc->skipped[gc->nr_skipped++];
	mt_strlcpy(k->name, name, sizeof(k->name));
	mt_strlcpy(k->uuid, uuid, sizeof(k->uuid));
	k->id = (int)virDomainGetID(rec->dom);
	k->state = state;
	k->state_reason = reason;
	k->call_stuck = state == VIR_DOMAIN_RUNNING ||
	    state == VIR_DOMAIN_BLOCKED;
	if (k->call_stuck) {
		snprintf(k->why, sizeof(k->why), "a libvirt call about it has "
		    "not returned for %lld s: left alone until it does",
		    (long long)(since / 1000));
	} else {
		virt_state_text(state, reason, what, sizeof(what));
		snprintf(k->why, sizeof(k->why), "%s: left alone until it "
		    "runs again", what);
	}
	log_debug("guest %s: %s", name, k->why);
	return true;
}

static bool
cmdline_names(const char *buf, size_t len, const char *name)
{
	/* QEMU doubles commas in option values */
	char want[2 * MT_NAME_MAX + 8], *w = want;
	size_t wl;

	w += snprintf(want, sizeof(want), "guest=");
	for (const char *s = name; *s != '\0' &&
	    w < want + sizeof(want) - 3; s++) {
		*w++ = *s;
		if (*s == ',')
			*w++ = ',';
	}
	*w = '\0';
	wl = strlen(want);
	for (size_t off = 0; off < len;) {
		const char *arg = buf + off;
		size_t al = strnlen(arg, len - off);

		if (strcmp(arg, "-name") == 0 && off + al + 1 < len) {
			const char *v = arg + al + 1;
			size_t vl = strnlen(v, len - off - al - 1);

			/* "-name guest=NAME,..." or the older "-name NAME" */
			if ((vl >= wl && strncmp(v, want, wl) == 0 &&
			    ((v[wl] == ',' && v[wl + 1] != ',') ||
			    v[wl] == '\0')) ||
			    strcmp(v, name) == 0)
				return true;
		}
		off += al + 1;
	}
	return false;
}

/* /proc/PID/cmdline into buf (NUL-terminated); its length or -errno */
static ssize_t
read_cmdline(const char *pid, char *buf, size_t len)
{
	char path[64], full[PATH_MAX];
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	if ((rc = mt_path(full, sizeof(full), path)) < 0)
		return rc;
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, len - 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return rc;
	/* a cut-off last argument still ends in a NUL */
	buf[n] = '\0';
	return n;
}

int
guests_qemu_pid(const char *pid_dir, const char *name, int64_t *pid)
{
	char path[PATH_MAX], buf[GUESTS_CMDLINE_BUF + 1];
	int64_t v;
	ssize_t n;
	int rc;

	*pid = MT_ABSENT;
	if (strchr(name, '/') != NULL)
		return -EINVAL;
	rc = snprintf(path, sizeof(path), "%s/%s.pid", pid_dir, name);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return -ENAMETOOLONG;
	/* a pid and a newline */
	if ((n = mt_read_file(path, buf, 32)) < 0)
		return (int)n;
	if (mt_parse_int64(buf, &v) < 0 || v <= 0 || v > INT32_MAX) {
		log_debug("%s: not a pid: '%.20s'", path, buf);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%lld", (long long)v);
	if ((n = read_cmdline(path, buf, sizeof(buf))) < 0)
		return (int)n;
	if (!cmdline_names(buf, (size_t)n, name)) {
		log_debug("guest %s: pid %lld from its pid file is not its "
		    "QEMU", name, (long long)v);
		return -ESRCH;
	}
	*pid = v;
	return 0;
}

int
guests_qemu_rss_kib(int64_t pid, int64_t *kib)
{
	char path[64], buf[128], *sp;
	int64_t pages;
	ssize_t n;
	long psz = sysconf(_SC_PAGESIZE);

	*kib = MT_ABSENT;
	if (!MT_PRESENT(pid) || pid <= 0 || pid > INT32_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%lld/statm", (long long)pid);
	if ((n = mt_read_file(path, buf, sizeof(buf))) < 0)
		return (int)n;
	buf[n] = '\0';
	/* "size resident shared text lib data dt", in pages */
	if ((sp = strchr(buf, ' ')) == NULL)
		return -EINVAL;
	*strchrnul(sp + 1, ' ') = '\0';
	if (mt_parse_int64(sp + 1, &pages) < 0 || pages < 0 ||
	    pages > INT64_MAX / 64)
		return -EINVAL;
	*kib = pages * (psz > 0 ? psz / 1024 : 4);
	return 0;
}

int
guests_qemu_pid_search(const char *name, int64_t *pid)
{
	char full[PATH_MAX], buf[GUESTS_CMDLINE_BUF + 1];
	struct dirent *de;
	int64_t found = MT_ABSENT, v;
	DIR *d;
	int rc;

	*pid = MT_ABSENT;
	if ((rc = mt_path(full, sizeof(full), "/proc")) < 0)
		return rc;
	if ((d = opendir(full)) == NULL)
		return -errno;
	rc = -ESRCH;
	while ((de = readdir(d)) != NULL) {
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]) ||
		    mt_parse_int64(de->d_name, &v) < 0 || v <= 0 ||
		    v > INT32_MAX)
			continue;
		/* processes come and go while the directory is read */
		if ((n = read_cmdline(de->d_name, buf, sizeof(buf))) <= 0 ||
		    !cmdline_names(buf, (size_t)n, name))
			continue;
		if (MT_PRESENT(found)) {
			log_debug("guest %s: QEMU processes %lld and %lld both "
			    "name it; taking neither", name, (long long)found,
			    (long long)v);
			rc = -ENOTUNIQ;
			found = MT_ABSENT;
			break;
		}
		found = v;
		rc = 0;
	}
	closedir(d);
	if (rc == 0)
		*pid = found;
	return rc;
}

static bool
domain_gone(int rc)
{
	return rc == -ENOENT || rc == -ESRCH;
}

static int
read_memtune(virDomainPtr dom, struct guest_entry *e)
{
	virTypedParameter p[GUESTS_MEMPARAMS_MAX];
	int n = GUESTS_MEMPARAMS_MAX;

	e->hard_limit_kib = e->soft_limit_kib = e->swap_hard_limit_kib =
	    MT_ABSENT;
	if (virDomainGetMemoryParameters(dom, p, &n, 0) < 0)
		return virt_last_errno();
	for (int i = 0; i < n; i++) {
		int64_t v = param_i64(&p[i]);

		if (v >= VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
			v = MT_ABSENT;
		if (strcmp(p[i].field, VIR_DOMAIN_MEMORY_HARD_LIMIT) == 0)
			e->hard_limit_kib = v;
		else if (strcmp(p[i].field, VIR_DOMAIN_MEMORY_SOFT_LIMIT) == 0)
			e->soft_limit_kib = v;
		else if (strcmp(p[i].field,
		    VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT) == 0)
			e->swap_hard_limit_kib = v;
	}
	return 0;
}

/* Re-read the facts that rarely change. -ENOENT when the domain went
 * away; other failures leave that fact absent and are logged. */
static int
entry_refresh(struct guest_collector *gc, virDomainPtr dom, bool is_qemu,
    struct guest_entry *e)
{
	char err[512];
	unsigned long maxk;
	char *xml;
	int rc;

	maxk = virDomainGetMaxMemory(dom);
	if (maxk == 0) {
		if (domain_gone(rc = virt_last_errno()))
			return -ENOENT;
		log_debug("guest %s: max memory: %s", e->name,
		    virt_last_message());
		e->max_kib = MT_ABSENT;
	} else {
		e->max_kib = (int64_t)maxk;
	}
	if ((rc = read_memtune(dom, e)) < 0) {
		if (domain_gone(rc))
			return -ENOENT;
		log_debug("guest %s: memtune: %s", e->name, virt_last_message());
	}
	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL) {
		if (domain_gone(rc = virt_last_errno()))
			return -ENOENT;
		log_warnx("guest %s: cannot read domain XML: %s", e->name,
		    virt_last_message());
		memset(&e->xml, 0, sizeof(e->xml));
		e->xml.memory_kib = e->xml.current_kib =
		    e->xml.max_memory_kib = MT_ABSENT;
		e->xml.backing.has_balloon = true;
		e->xml.backing.stats_period_s = MT_ABSENT;
		e->xml.own_hard_limit_kib = e->xml.own_target_kib = MT_ABSENT;
		guest_override_init(&e->xml.policy);
	} else {
		rc = domxml_parse_opts(xml, e->name,
		    gc->opts.metadata != METADATA_IGNORE, &e->xml, err,
		    sizeof(err));
		free(xml);
		if (rc < 0) {
			log_warnx("%s", err);
			e->xml.backing.has_balloon = true;
			e->xml.backing.stats_period_s = MT_ABSENT;
		}
	}
	if (e->xml.policy_present && gc->opts.metadata == METADATA_IGNORE &&
	    !e->metadata_ignored_said) {
		e->metadata_ignored_said = true;
		log_info("guest %s: memtuned metadata not read ([daemon] "
		    "metadata = ignore)", e->name);
	}

	e->qemu_pid = MT_ABSENT;
	e->cg_version = 0;
	e->cg_dir[0] = '\0';
	if (is_qemu) {
		rc = guests_qemu_pid(gc->opts.pid_dir, e->name, &e->qemu_pid);
		if (rc == -ENOENT)
			rc = guests_qemu_pid_search(e->name, &e->qemu_pid);
		if (rc < 0)
			log_debug("guest %s: no QEMU pid: %s", e->name,
			    strerror(-rc));
	}
	if (MT_PRESENT(e->qemu_pid) && gc->cg_ready) {
		rc = mcg_find(&gc->cg_mounts, (pid_t)e->qemu_pid, e->cg_dir,
		    sizeof(e->cg_dir));
		if (rc == 0)
			e->cg_version = gc->cg_mounts.version;
		else
			log_debug("guest %s: no memory cgroup for pid %lld: %s",
			    e->name, (long long)e->qemu_pid, strerror(-rc));
	}
	e->refreshed_tick = gc->tick;
	e->valid = true;
	return 0;
}

static void
sample_taskstats(struct guest_collector *gc, struct guest_entry *e,
    struct guest_snapshot *g, int64_t now_ms)
{
	struct taskstats_sample ts;
	int64_t delay = 0;
	int rc;

	if (!gc->ts_ready || !MT_PRESENT(e->qemu_pid))
		return;
	rc = taskstats_query_tgid(&gc->ts, (pid_t)e->qemu_pid, &ts);
	if (rc < 0) {
		log_debug("guest %s: taskstats for pid %lld: %s", e->name,
		    (long long)e->qemu_pid, strerror(-rc));
		if (rc == -ESRCH)
			e->valid = false;
		return;
	}
	g->ts_present = true;
	g->ts_freepages_delay_ns = ts.freepages_delay_ns;
	g->ts_thrashing_delay_ns = ts.thrashing_delay_ns;
	g->ts_swapin_delay_ns = ts.swapin_delay_ns;
	if (MT_PRESENT(ts.freepages_delay_ns))
		delay += ts.freepages_delay_ns;
	if (MT_PRESENT(ts.thrashing_delay_ns))
		delay += ts.thrashing_delay_ns;
	delay += ts.swapin_delay_ns;
	if (MT_PRESENT(e->prev_ts_ms) && e->prev_ts_pid == e->qemu_pid &&
	    now_ms > e->prev_ts_ms && delay >= e->prev_ts_delay_ns)
		g->ts_stall_pmy = (delay - e->prev_ts_delay_ns) / 100 /
		    (now_ms - e->prev_ts_ms);
	e->prev_ts_ms = now_ms;
	e->prev_ts_pid = e->qemu_pid;
	e->prev_ts_delay_ns = delay;
}

/* How much of the QEMU RSS is pages KSM merged: a balloon taking such a
 * page frees nothing on the host while the other copies live, so what a
 * shrink returned is the RSS that went less these. */
static void
sample_ksm_merging(struct guest_entry *e, struct guest_snapshot *g)
{
	char path[64];
	int64_t pages;

	if (!MT_PRESENT(e->qemu_pid))
		return;
	snprintf(path, sizeof(path), "/proc/%lld/ksm_merging_pages",
	    (long long)e->qemu_pid);
	if (mt_read_int64(path, &pages) == 0 && pages >= 0)
		g->ksm_merging_kib = pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The sizes of the guest's RAM blocks: the boot RAM (its memory less its
 * virtio-mem devices') and each device's region. How many. */
static size_t
ram_block_sizes(const struct guest_entry *e, int64_t *sizes)
{
	const struct guest_vmem *vm = &e->xml.backing.vmem;
	size_t n = 0;
	int i;

	if (!MT_PRESENT(e->max_kib) || e->max_kib <= 0)
		return 0;
	if (vm->count == 0)
		sizes[n++] = e->max_kib;
	else if (MT_PRESENT(vm->size_kib) && vm->size_kib < e->max_kib)
		sizes[n++] = e->max_kib - vm->size_kib;
	else
		return 0;
	for (i = 0; i < vm->count && i < MT_VMEM_MAX &&
	    n < SMAPS_MAX_SIZES; i++)
		if (MT_PRESENT(vm->dev[i].size_kib))
			sizes[n++] = vm->dev[i].size_kib;
	return n;
}

/* QEMU's own memory: its RSS outside the guest RAM's mappings
 * (smaps.h). It changes slowly (the TCG translation cache fills, I/O
 * buffers come and go), and reading smaps walks the whole process (a few
 * ms), so it is measured again only after OWN_REFRESH_MS, a new pid, or a
 * move of the balloon or the RSS since: the yield of a shrink is judged
 * by it. Hugepage-backed RAM shows no Rss in smaps: not measured. */
#define OWN_REFRESH_MS 30000
#define OWN_MOVE_KIB (16 * 1024)

static bool
own_due(const struct guest_entry *e, const struct guest_snapshot *g,
    int64_t now_ms)
{
	if (e->own_pid != e->qemu_pid || !MT_PRESENT(e->own_ms) ||
	    now_ms - e->own_ms >= OWN_REFRESH_MS)
		return true;
	/* a read that found no guest RAM waits out the refresh */
	return MT_PRESENT(e->own_kib) && ((MT_PRESENT(g->actual_kib) && MT_PRESENT(e->own_actual_kib) &&
	    llabs(g->actual_kib - e->own_actual_kib) >= OWN_MOVE_KIB) ||
	    (MT_PRESENT(g->rss_kib) && MT_PRESENT(e->own_rss_kib) &&
	    llabs(g->rss_kib - e->own_rss_kib) >= 2 * OWN_MOVE_KIB));
}

/* A read that measured nothing: said once, tried again after the
 * refresh. Refused (the shipped unit has no CAP_SYS_PTRACE, which reading
 * another user's smaps needs): said once for all guests, not tried
 * again. */
static void
own_unmeasured(struct guest_collector *gc, struct guest_entry *e, int rc,
    int64_t ram_kib, int64_t now_ms)
{
	if (rc == -EACCES || rc == -EPERM) {
		gc->smaps_refused = true;
		log_info("QEMU's own memory is not measured: reading a QEMU "
		    "process's /proc/PID/smaps needs CAP_SYS_PTRACE (the "
		    "shipped unit leaves it out; docs/configuration.md). Each "
		    "guest's RSS bounds its RAM from above");
	} else if (rc < 0) {
		log_debug("guest %s: smaps: %s", e->name, strerror(-rc));
	} else if (e->own_pid != e->qemu_pid) {
		log_debug("guest %s: no guest RAM mapping of %lld KiB in "
		    "smaps", e->name, (long long)ram_kib);
	}
	e->own_kib = MT_ABSENT;
	e->own_pid = e->qemu_pid;
	e->own_ms = now_ms;
}

static void
sample_qemu_own(struct guest_collector *gc, struct guest_entry *e,
    struct guest_snapshot *g, int64_t now_ms)
{
	int64_t sizes[SMAPS_MAX_SIZES];
	struct smaps_ram sr;
	size_t n;
	int rc;

	if (gc->smaps_refused || !MT_PRESENT(e->qemu_pid) ||
	    e->xml.backing.hugepages || (n = ram_block_sizes(e, sizes)) == 0)
		return;
	if (own_due(e, g, now_ms)) {
		rc = smaps_read_pid(e->qemu_pid, sizes, n, &sr);
		if (rc < 0 || sr.ram_maps == 0 ||
		    sr.ram_rss_kib > sr.all_rss_kib) {
			own_unmeasured(gc, e, rc, sizes[0], now_ms);
			return;
		}
		e->own_kib = sr.all_rss_kib - sr.ram_rss_kib;
		e->own_pid = e->qemu_pid;
		e->own_ms = now_ms;
		e->own_actual_kib = g->actual_kib;
		e->own_rss_kib = g->rss_kib;
	}
	if (e->own_pid == e->qemu_pid)
		g->qemu_own_kib = e->own_kib;
}

/* On v2 a group's memory.low protects only as far as its parents' allow
 * (cgroup.h): cg_low_kib is what reaches the guest, its own capped by the
 * smallest of its ancestors', so a parent reset to 0 (systemd reapplying a
 * slice's settings) reads as a floor that no longer holds. */
static void
cap_low_by_parents(struct guest_collector *gc, struct guest_entry *e,
    struct guest_snapshot *g)
{
	int64_t parents;
	int rc;

	if (!MT_PRESENT(g->cg_low_kib))
		return;
	rc = mcg_read_parents_low(&gc->cg_mounts, e->cg_dir, &parents);
	if (rc < 0) {
		log_debug("guest %s: parents' memory.low: %s", e->name,
		    strerror(-rc));
		return;
	}
	if (MT_PRESENT(parents) && parents < g->cg_low_kib)
		g->cg_low_kib = parents;
}

/* The collector's entry for the domain uuid (named name), added when new;
 * a rename keeps the UUID. NULL when it is not to be collected (no
 * memory, or a name too long), said. */
static struct guest_entry *
collect_entry(struct guest_collector *gc, size_t nr_sorted, const char *name,
    const char *uuid)
{
	struct guest_entry *e;

	if ((e = entry_find(gc, nr_sorted, uuid)) == NULL) {
		if ((e = entry_add(gc, uuid)) == NULL) {
			log_warnx("guest %s: out of memory", name);
			return NULL;
		}
		if (mt_strlcpy(e->name, name, sizeof(e->name)) >=
		    sizeof(e->name)) {
			log_warnx("guest %.64s...: name longer than %d bytes, "
			    "not collected", name, MT_NAME_MAX - 1);
			e->refused = true;
		}
	}
	e->seen = true;
	if (e->refused)
		return NULL;
	if (strcmp(e->name, name) != 0) {
		mt_strlcpy(e->name, name, sizeof(e->name));
		e->valid = false;
	}
	return e;
}

/* What the entry keeps between ticks (the domain's XML, limits, QEMU's
 * pid) into g, read again when stale. -1 when the domain went away. */
static int
collect_from_entry(struct guest_collector *gc, virDomainPtr dom,
    bool is_qemu, struct guest_entry *e, struct guest_snapshot *g)
{
	if (!e->valid || (gc->opts.refresh_ticks > 0 &&
	    gc->tick - e->refreshed_tick >= gc->opts.refresh_ticks)) {
		if (entry_refresh(gc, dom, is_qemu, e) < 0) {
			log_debug("guest %s: gone during the tick", e->name);
			e->valid = false;
			return -1;
		}
	}
	g->max_kib = e->max_kib;
	g->hard_limit_kib = e->hard_limit_kib;
	g->soft_limit_kib = e->soft_limit_kib;
	g->swap_hard_limit_kib = e->swap_hard_limit_kib;
	g->own_hard_limit_kib = e->xml.own_hard_limit_kib;
	g->own_target_kib = e->xml.own_target_kib;
	g->backing = e->xml.backing;
	g->qemu_pid = e->qemu_pid;
	return 0;
}

/* A balloon without a stats period reports nothing: set one, once */
static void
collect_stats_period(struct guest_collector *gc, virDomainPtr dom,
    struct guest_entry *e, const char *name)
{
	int rc;

	if (gc->opts.enable_stats_period_s <= 0 || e->period_tried ||
	    !e->xml.backing.has_balloon ||
	    (MT_PRESENT(e->xml.backing.stats_period_s) &&
	    e->xml.backing.stats_period_s != 0))
		return;
	e->period_tried = true;
	rc = guests_enable_stats_period(NULL, dom,
	    gc->opts.enable_stats_period_s);
	if (rc == 0)
		e->valid = false;	/* re-read the period */
	else
		log_warnx("guest %s: cannot set the balloon stats "
		    "period: %s", name, virt_last_message());
}

/* The guest's cgroup, taskstats and KSM merging into g */
static void
collect_host_side(struct guest_collector *gc, struct guest_entry *e,
    const char *name, struct guest_snapshot *g, int64_t now_ms)
{
	char err[512];

	if (e->cg_version != 0) {
		if (mcg_read(e->cg_dir, e->cg_version, g, err,
		    sizeof(err)) < 0) {
			/* the cgroup goes with the process: look again */
			log_debug("guest %s: cgroup: %s", name, err);
			e->valid = false;
		} else if (e->cg_version == 2) {
			cap_low_by_parents(gc, e, g);
		}
	}
	sample_taskstats(gc, e, g, now_ms);
	sample_ksm_merging(e, g);
	sample_qemu_own(gc, e, g, now_ms);
}

/* One domain of the bulk reply into g. 1 to keep it, 0 to drop it from
 * this tick. */
static int
collect_one(struct guest_collector *gc, virDomainStatsRecordPtr rec,
    bool is_qemu, size_t nr_sorted, int64_t now_ms, struct guest_snapshot *g)
{
	virDomainPtr dom = rec->dom;
	struct guest_override conf;
	struct guest_entry *e;
	const char *name;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int rc;

	guest_snapshot_init(g);
	if ((name = virDomainGetName(dom)) == NULL ||
	    virDomainGetUUIDString(dom, uuid) < 0 ||
	    (e = collect_entry(gc, nr_sorted, name, uuid)) == NULL)
		return 0;
	mt_strlcpy(g->name, name, sizeof(g->name));
	mt_strlcpy(g->uuid, uuid, sizeof(g->uuid));
	g->id = (int)virDomainGetID(dom);

	if (skip_busy(gc, rec, name, uuid))
		return 0;
	guests_parse_params(rec->params, rec->nparams, g);
	if (!MT_PRESENT(g->actual_kib) && (rc = fill_memstats(dom, g)) < 0) {
		if (domain_gone(rc)) {
			log_debug("guest %s: gone during the tick", name);
			return 0;
		}
		log_debug("guest %s: memory stats: %s", name,
		    virt_last_message());
	}
	if (collect_from_entry(gc, dom, is_qemu, e, g) < 0)
		return 0;
	guests_update_sample(e, g, e->xml.backing.stats_period_s, now_ms);
	take_balloon_events(e, g);
	/* QEMU's stamps are host time and its stats follow the period;
	 * other drivers (the test driver) promise neither */
	if (is_qemu)
		guests_check_fresh(g, e->xml.backing.stats_period_s, time(NULL));
	collect_stats_period(gc, dom, e, name);
	collect_host_side(gc, e, name, g, now_ms);

	guest_override_init(&conf);
	if (gc->opts.override != NULL &&
	    gc->opts.override(name, uuid, &conf, gc->opts.override_arg) > 0)
		guest_input_merge(&conf, e->xml.has_policy ? &e->xml.policy :
		    NULL, &g->input);
	else
		guest_input_merge(NULL, e->xml.has_policy ? &e->xml.policy :
		    NULL, &g->input);
	return 1;
}

/* The bulk calls, copied to the worker and back. */
struct bulk_req {
	bool nowait;			/* ask with NOWAIT */
	bool nowait_refused;		/* out: the driver refused it */
	bool list_refused;		/* out: no per-domain list call */
	/* every active domain's state: no monitor, no job */
	virDomainStatsRecordPtr *all;
	int nr_all;
	/* balloon and state of the running ones (every active one when
	 * the driver has no list call: then all is NULL) */
	virDomainStatsRecordPtr *recs;
	int n;
	int64_t state_ms, balloon_ms;	/* how long each call took */
	char msg[256];
};

static bool
rec_running(virDomainStatsRecordPtr rec)
{
	int state;

	/* no state reported: can't tell, so counted as running */
	return virTypedParamsGetInt(rec->params, rec->nparams, "state.state",
	    &state) != 1 || state == VIR_DOMAIN_RUNNING ||
	    state == VIR_DOMAIN_BLOCKED;
}

/* True when the last error says the driver refuses what was asked (a
 * flag, or the call itself). */
static bool
refused(void)
{
	virErrorPtr e = virGetLastError();

	return e != NULL && (e->code == VIR_ERR_INVALID_ARG ||
	    e->code == VIR_ERR_NO_SUPPORT ||
	    e->code == VIR_ERR_ARGUMENT_UNSUPPORTED);
}

/* Balloon and state of the running domains only. Balloon statistics come
 * from each domain's QEMU monitor, and one that is being saved, dumped or
 * migrated answers slowly (QEMU holds its big lock while it writes the
 * last of its memory): asking a paused domain for them would hold the
 * tick for nothing memtuned can use. */
static int
bulk_running(virConnectPtr conn, struct bulk_req *r)
{
	unsigned int stats = VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_STATE;
	unsigned int nowait = 0;
	virDomainPtr *doms;
	int k = 0;

#if LIBVIR_CHECK_VERSION(4, 5, 0)
	/* a domain whose job is taken is not waited for */
	if (r->nowait)
		nowait = VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
#endif
	/* NULL-terminated, as libvirt wants it; the records own the
	 * domains */
	if ((doms = calloc((size_t)r->nr_all + 1, sizeof(*doms))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < r->nr_all; i++)
		if (rec_running(r->all[i]))
			doms[k++] = r->all[i]->dom;
	r->n = 0;
	r->recs = NULL;
	if (k > 0) {
		r->n = virDomainListGetStats(doms, stats, &r->recs, nowait);
		if (r->n < 0 && nowait != 0 && refused()) {
			r->nowait_refused = true;
			r->n = virDomainListGetStats(doms, stats, &r->recs, 0);
		}
	}
	free(doms);
	if (r->n < 0 && refused()) {
		/* no list call in this driver: every active domain at once,
		 * the paused ones' monitors too */
		r->list_refused = true;
		r->n = virConnectGetAllDomainStats(conn, stats, &r->recs,
		    VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | nowait);
		if (r->n < 0 && nowait != 0 && refused()) {
			r->nowait_refused = true;
			r->n = virConnectGetAllDomainStats(conn, stats, &r->recs,
			    VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
		}
		if (r->n >= 0) {
			virDomainStatsRecordListFree(r->all);
			r->all = NULL;
			r->nr_all = 0;
		}
	}
	return r->n < 0 ? -1 : 0;
}

static int
do_bulk_stats(virConnectPtr conn, void *data)
{
	struct bulk_req *r = data;
	int64_t t0 = mt_now_ms();
	int rc;

	r->nr_all = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_STATE,
	    &r->all, VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	r->state_ms = mt_now_ms() - t0;
	if (r->nr_all < 0) {
		r->all = NULL;
		goto fail;
	}
	rc = bulk_running(conn, r);
	r->balloon_ms = mt_now_ms() - t0 - r->state_ms;
	if (rc == -ENOMEM) {
		mt_strlcpy(r->msg, "out of memory", sizeof(r->msg));
		virDomainStatsRecordListFree(r->all);
		r->all = NULL;
		return rc;
	}
	if (rc == 0)
		return 0;
	virDomainStatsRecordListFree(r->all);
	r->all = NULL;
	r->recs = NULL;
fail:
	mt_strlcpy(r->msg, virt_last_message(), sizeof(r->msg));
	return virt_last_errno();
}

/* an answer that came after the tick gave up on it */
static void
drop_bulk_stats(void *data, int rc)
{
	struct bulk_req *r = data;

	(void)rc;
	virDomainStatsRecordListFree(r->all);
	virDomainStatsRecordListFree(r->recs);
	r->all = r->recs = NULL;
}

/* Every active domain: the state of all (into *all, *nr_all) and the
 * balloon statistics of the running ones (into *recs, the count
 * returned). */
static int
bulk_stats(struct guest_collector *gc, virConnectPtr conn,
    virDomainStatsRecordPtr **all, int *nr_all,
    virDomainStatsRecordPtr **recs, char *err, size_t errlen)
{
	struct virt_call c = {
		.fn = do_bulk_stats, .late = drop_bulk_stats, .key = "",
		.what = "domain stats", .deadline_ms = GUESTS_STATS_DEADLINE_MS,
	};
	struct bulk_req r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.nowait = !gc->nowait_unsupported;
	rc = virt_call_run(conn, &c, &r, sizeof(r));
	if (r.nowait_refused && !gc->nowait_unsupported) {
		log_info("guests: the driver refuses NOWAIT stats; asking "
		    "without it");
		gc->nowait_unsupported = true;
	}
	if (r.list_refused && !gc->list_unsupported) {
		log_info("guests: the driver has no per-domain stats call; "
		    "asking every active domain at once");
		gc->list_unsupported = true;
	}
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "libvirt: domain stats: no answer within "
		    "%d ms", GUESTS_STATS_DEADLINE_MS);
	else if (rc == -EBUSY)
		snprintf(err, errlen, "libvirt: domain stats: %d earlier calls "
		    "have not returned", virt_calls_stuck());
	else if (rc < 0)
		snprintf(err, errlen, "libvirt: domain stats: %s", r.msg);
	if (rc < 0)
		return rc;
	log_debug("guests: states of %d active domains in %lld ms, balloon "
	    "stats of %d in %lld ms", r.list_refused ? r.n : r.nr_all,
	    (long long)r.state_ms, r.n, (long long)r.balloon_ms);
	*all = r.all;
	*nr_all = r.nr_all;
	*recs = r.recs;
	return r.n;
}

/* Room for n domains in the tick's output and skip list. */
static int
collect_room(struct guest_collector *gc, size_t n, char *err, size_t errlen)
{
	if (n > gc->cap_out) {
		struct guest_snapshot *o = reallocarray(gc->out, n, sizeof(*o));

		if (o == NULL)
			goto nomem;
		gc->out = o;
		gc->cap_out = n;
	}
	if (n > gc->cap_skipped) {
		struct guest_skip *k = reallocarray(gc->skipped, n, sizeof(*k));

		if (k == NULL)
			goto nomem;
		gc->skipped = k;
		gc->cap_skipped = n;
	}
	return 0;
nomem:
	snprintf(err, errlen, "guests: out of memory for %zu domains", n);
	return -ENOMEM;
}

int
guests_collect(struct guest_collector *gc, virConnectPtr conn,
    int64_t now_ms, struct guest_snapshot **out, size_t *nr, char *err,
    size_t errlen)
{
	virDomainStatsRecordPtr *all = NULL, *recs = NULL;
	const char *type;
	size_t nr_sorted = gc->nr_entries, kept = 0, w;
	bool is_qemu, added;
	int n, nr_all = 0, rc = 0;

	*out = NULL;
	*nr = 0;
	gc->tick++;
	if ((n = bulk_stats(gc, conn, &all, &nr_all, &recs, err, errlen)) < 0)
		return n;
	/* kept until now: the last list still goes with the last snapshot */
	gc->nr_skipped = 0;
	/* only the QEMU driver has pid files and cgroups */
	type = virConnectGetType(conn);
	is_qemu = type != NULL && strcmp(type, "QEMU") == 0;

	if ((rc = collect_room(gc, (size_t)MAX(n, nr_all), err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < gc->nr_entries; i++)
		gc->entries[i].seen = false;
	/* the domains not running: listed as skipped, with why */
	for (int i = 0; i < nr_all; i++)
		if (!rec_running(all[i]))
			collect_one(gc, all[i], is_qemu, nr_sorted, now_ms,
			    &gc->out[kept]);
	for (int i = 0; i < n; i++)
		if (collect_one(gc, recs[i], is_qemu, nr_sorted, now_ms,
		    &gc->out[kept]) > 0)
			kept++;

	/* forget domains that were not listed; keep the table sorted */
	added = gc->nr_entries > nr_sorted;
	for (size_t i = w = 0; i < gc->nr_entries; i++)
		if (gc->entries[i].seen)
			gc->entries[w++] = gc->entries[i];
	gc->nr_entries = w;
	/* compaction keeps order: only new entries need a sort */
	if (added)
		qsort(gc->entries, gc->nr_entries, sizeof(*gc->entries),
		    entry_cmp);
	*out = gc->out;
	*nr = kept;
out:
	virDomainStatsRecordListFree(all);
	virDomainStatsRecordListFree(recs);
	return rc;
}
