/* metrics.c - see metrics.h */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#ifndef MEMTUNED_VERSION
#define MEMTUNED_VERSION "unknown"
#endif

/* ------------------------------------------------------------ counters */

static const char *const kind_names[METRICS_KIND_N] = {
	[METRICS_KIND_BALLOON] = "balloon",
	[METRICS_KIND_MEMTUNE] = "memtune",
	[METRICS_KIND_KSM] = "ksm",
	[METRICS_KIND_THP] = "thp",
};

static const char *const reason_names[METRICS_REASON_N] = {
	[METRICS_REASON_RECLAIM] = "reclaim",
	[METRICS_REASON_GIVE] = "give",
	[METRICS_REASON_GROW] = "grow",
	[METRICS_REASON_BOUNDS] = "bounds",
	[METRICS_REASON_RETRY] = "retry",
	[METRICS_REASON_SQUEEZE] = "squeeze",
	[METRICS_REASON_RELEASE] = "release",
	[METRICS_REASON_LIMITS] = "limits",
	[METRICS_REASON_START] = "start",
	[METRICS_REASON_STOP] = "stop",
	[METRICS_REASON_RATE] = "rate",
	[METRICS_REASON_ADVISOR] = "advisor",
	[METRICS_REASON_TUNE] = "tune",
};

static const char *const error_names[METRICS_ERR_N] = {
	[METRICS_ERR_COLLECT] = "collect",
	[METRICS_ERR_LIBVIRT] = "libvirt",
	[METRICS_ERR_ACT] = "act",
	[METRICS_ERR_CONFIG] = "config",
};

/* The (kind, reason) pairs that can happen; all are exported from the
 * start, at 0, so rate() sees the first action too. */
static const struct {
	enum metrics_action_kind kind;
	enum metrics_reason reason;
} action_pairs[] = {
	{ METRICS_KIND_BALLOON, METRICS_REASON_RECLAIM },
	{ METRICS_KIND_BALLOON, METRICS_REASON_GIVE },
	{ METRICS_KIND_BALLOON, METRICS_REASON_GROW },
	{ METRICS_KIND_BALLOON, METRICS_REASON_BOUNDS },
	{ METRICS_KIND_BALLOON, METRICS_REASON_RETRY },
	{ METRICS_KIND_MEMTUNE, METRICS_REASON_SQUEEZE },
	{ METRICS_KIND_MEMTUNE, METRICS_REASON_RELEASE },
	{ METRICS_KIND_MEMTUNE, METRICS_REASON_LIMITS },
	{ METRICS_KIND_KSM, METRICS_REASON_START },
	{ METRICS_KIND_KSM, METRICS_REASON_STOP },
	{ METRICS_KIND_KSM, METRICS_REASON_RATE },
	{ METRICS_KIND_KSM, METRICS_REASON_ADVISOR },
	{ METRICS_KIND_THP, METRICS_REASON_TUNE },
};

const char *
metrics_kind_name(enum metrics_action_kind k)
{
	return (unsigned)k < METRICS_KIND_N ? kind_names[k] : "?";
}

const char *
metrics_reason_name(enum metrics_reason r)
{
	return (unsigned)r < METRICS_REASON_N ? reason_names[r] : "?";
}

const char *
metrics_error_name(enum metrics_error_kind e)
{
	return (unsigned)e < METRICS_ERR_N ? error_names[e] : "?";
}

void
metrics_counters_init(struct metrics_counters *ctr)
{
	memset(ctr, 0, sizeof(*ctr));
	ctr->last_tick_us = MT_ABSENT;
}

enum metrics_reason
metrics_guest_reason(const struct guest_plan *gp, enum metrics_action_kind kind)
{
	bool balloon = gp->action == ACT_BALLOON || gp->action == ACT_BOTH;
	bool memtune = gp->action == ACT_MEMTUNE || gp->action == ACT_BOTH;

	if (kind == METRICS_KIND_BALLOON) {
		/* act sends a balloon target only when it differs */
		if (!balloon || !MT_PRESENT(gp->target_kib) ||
		    !MT_PRESENT(gp->actual_kib) ||
		    gp->target_kib == gp->actual_kib)
			return METRICS_REASON_N;
		if (gp->state == GPS_UNCOOPERATIVE || gp->state == GPS_STALE)
			return METRICS_REASON_RETRY;
		if ((MT_PRESENT(gp->floor_kib) && gp->actual_kib < gp->floor_kib) ||
		    (MT_PRESENT(gp->ceiling_kib) &&
		    gp->actual_kib > gp->ceiling_kib))
			return METRICS_REASON_BOUNDS;
		if (gp->target_kib < gp->actual_kib)
			return METRICS_REASON_RECLAIM;
		if (MT_PRESENT(gp->need_kib) && gp->need_kib > gp->actual_kib)
			return METRICS_REASON_GIVE;
		return METRICS_REASON_GROW;
	}
	if (kind == METRICS_KIND_MEMTUNE) {
		if (!memtune)
			return METRICS_REASON_N;
		if (MT_PRESENT(gp->hard_limit_kib))
			return gp->hard_limit_kib == POLICY_LIMIT_UNLIMITED ?
			    METRICS_REASON_RELEASE : METRICS_REASON_SQUEEZE;
		if (MT_PRESENT(gp->soft_limit_kib) ||
		    MT_PRESENT(gp->swap_hard_limit_kib) ||
		    MT_PRESENT(gp->memory_low_kib))
			return METRICS_REASON_LIMITS;
	}
	return METRICS_REASON_N;
}

/* The reason class of what was applied of a guest's memtune: the hard
 * limit when it went through, otherwise the other limits. */
static enum metrics_reason
memtune_applied_reason(const struct guest_plan *gp,
    const struct policy_guest_result *gr)
{
	enum metrics_reason r = metrics_guest_reason(gp, METRICS_KIND_MEMTUNE);

	if (r == METRICS_REASON_N)
		return r;
	if (gr->hard_limit == OUTCOME_APPLIED)
		return r;
	/* the hard limit was held back or failed: what else went through */
	if (gr->memtune == OUTCOME_APPLIED || gr->memory_low == OUTCOME_APPLIED)
		return MT_PRESENT(gp->soft_limit_kib) ||
		    MT_PRESENT(gp->swap_hard_limit_kib) ||
		    MT_PRESENT(gp->memory_low_kib) ? METRICS_REASON_LIMITS :
		    METRICS_REASON_N;
	return METRICS_REASON_N;
}

void
metrics_count_plan(struct metrics_counters *ctr,
    const struct policy_plan *plan, const struct act_result *res,
    const struct policy_results *out)
{
	enum metrics_reason r;
	size_t n = MIN(plan->nr_guests, out->nr_guests);

	for (size_t i = 0; i < n; i++) {
		const struct guest_plan *gp = &plan->guests[i];
		const struct policy_guest_result *gr = &out->guests[i];

		if (gr->balloon == OUTCOME_APPLIED &&
		    (r = metrics_guest_reason(gp, METRICS_KIND_BALLOON)) !=
		    METRICS_REASON_N)
			ctr->actions[METRICS_KIND_BALLOON][r]++;
		if ((r = memtune_applied_reason(gp, gr)) != METRICS_REASON_N)
			ctr->actions[METRICS_KIND_MEMTUNE][r]++;
	}
	if (plan->ksm.change && res->ksm_applied) {
		const struct ksm_plan *kp = &plan->ksm;

		if (MT_PRESENT(kp->run))
			r = kp->run != 0 ? METRICS_REASON_START :
			    METRICS_REASON_STOP;
		else if (kp->advisor_mode[0] != '\0' ||
		    MT_PRESENT(kp->advisor_target_scan_time) ||
		    MT_PRESENT(kp->advisor_max_cpu))
			r = METRICS_REASON_ADVISOR;
		else
			r = METRICS_REASON_RATE;
		ctr->actions[METRICS_KIND_KSM][r]++;
	}
	if (plan->thp.change && res->thp_applied)
		ctr->actions[METRICS_KIND_THP][METRICS_REASON_TUNE]++;
	if (res->failed > 0)
		ctr->errors[METRICS_ERR_ACT] += (uint64_t)res->failed;
	if (res->gone > 0)
		ctr->guests_gone += (uint64_t)res->gone;
}

/* ------------------------------------------------------------ output */

struct mbuf {
	char *p;
	size_t len, cap;
	int err;
};

static int
mb_reserve(struct mbuf *b, size_t more)
{
	size_t cap;
	char *np;

	if (b->err)
		return b->err;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 16384;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL)
		return b->err = -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

static void mb_printf(struct mbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (mb_reserve(b, 128) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (mb_reserve(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static void
mb_putc(struct mbuf *b, char c)
{
	if (mb_reserve(b, 1) < 0)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one (stray
 * continuation, overlong form, surrogate, past U+10FFFF). s is
 * NUL-terminated, and NUL is never a continuation byte: no overrun. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A label value as the exposition format wants it: guest names are user
 * data and may hold any of the three characters it escapes, or bytes that
 * are not UTF-8, which would make Prometheus reject the whole scrape;
 * those become U+FFFD. */
static void
mb_label_value(struct mbuf *b, const char *v)
{
	mb_putc(b, '"');
	for (; *v != '\0'; v++) {
		size_t n = utf8_len((const unsigned char *)v);

		if (n == 0) {
			mb_printf(b, "\xef\xbf\xbd");
			continue;
		}
		if (n > 1) {
			if (mb_reserve(b, n) < 0)
				return;
			memcpy(b->p + b->len, v, n);
			b->len += n;
			b->p[b->len] = '\0';
			v += n - 1;
			continue;
		}
		if (*v == '\\') {
			mb_putc(b, '\\');
			mb_putc(b, '\\');
		} else if (*v == '"') {
			mb_putc(b, '\\');
			mb_putc(b, '"');
		} else if (*v == '\n') {
			mb_putc(b, '\\');
			mb_putc(b, 'n');
		} else if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			/* the format would carry them, but a terminal or a log
			 * that shows a scrape would act on them: shown as
			 * \xNN, as memtuned's logs show them */
			mb_printf(b, "\\\\x%02x", (unsigned char)*v);
		} else {
			mb_putc(b, *v);
		}
	}
	mb_putc(b, '"');
}

/* One metric family: HELP and TYPE go out before its first sample, so a
 * family with every value absent leaves no trace. */
struct fam {
	const char *name;
	const char *type;
	const char *help;
	bool started;
};

static void
fam_sample(struct mbuf *b, struct fam *f)
{
	if (!f->started) {
		mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		    f->name, f->type);
		f->started = true;
	}
	mb_printf(b, "%s", f->name);
}

/* Labels as NULL-terminated key, value pairs. */
static void
mb_labels(struct mbuf *b, const char *const *kv)
{
	if (kv == NULL || kv[0] == NULL)
		return;
	mb_putc(b, '{');
	for (size_t i = 0; kv[i] != NULL; i += 2) {
		if (i > 0)
			mb_putc(b, ',');
		mb_printf(b, "%s=", kv[i]);
		mb_label_value(b, kv[i + 1]);
	}
	mb_putc(b, '}');
}

/* v / 10^digits as an exact decimal: no float rounding on the way out. */
static void
mb_fixed(struct mbuf *b, int64_t v, int digits)
{
	uint64_t div = 1, a;
	bool neg = v < 0;

	for (int i = 0; i < digits; i++)
		div *= 10;
	a = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	mb_printf(b, " %s%llu.%0*llu\n", neg ? "-" : "",
	    (unsigned long long)(a / div), digits,
	    (unsigned long long)(a % div));
}

static void
emit_int(struct mbuf *b, struct fam *f, const char *const *kv, int64_t v)
{
	if (!MT_PRESENT(v))
		return;
	fam_sample(b, f);
	mb_labels(b, kv);
	mb_printf(b, " %lld\n", (long long)v);
}

/* KiB to bytes; a value too large to be a real size is libvirt's
 * "unlimited" and left out like an absent one. */
static void
emit_kib(struct mbuf *b, struct fam *f, const char *const *kv, int64_t kib)
{
	if (!MT_PRESENT(kib) || kib > INT64_MAX / 1024 || kib < INT64_MIN / 1024)
		return;
	emit_int(b, f, kv, kib * 1024);
}

static void
emit_fixed(struct mbuf *b, struct fam *f, const char *const *kv, int64_t v,
    int digits)
{
	if (!MT_PRESENT(v))
		return;
	fam_sample(b, f);
	mb_labels(b, kv);
	mb_fixed(b, v, digits);
}

#define FAM(n, t, h) { .name = "memtuned_" n, .type = t, .help = h }
#define GAUGE "gauge"
#define COUNTER "counter"

static void
render_host(struct mbuf *b, const struct host_snapshot *h)
{
	struct fam total = FAM("host_memory_total_bytes", GAUGE,
	    "MemTotal of the host."),
	    avail = FAM("host_memory_available_bytes", GAUGE,
	    "MemAvailable of the host."),
	    freem = FAM("host_memory_free_bytes", GAUGE, "MemFree of the host."),
	    majps = FAM("host_major_faults_per_second", GAUGE,
	    "Host major page faults per second since the previous sample."),
	    majt = FAM("host_major_faults_total", COUNTER,
	    "Host major page faults (vmstat pgmajfault)."),
	    refps = FAM("host_refaults_per_second", GAUGE,
	    "Host workingset refaults (anon + file) per second since the "
	    "previous sample."),
	    reft = FAM("host_refaults_total", COUNTER,
	    "Host workingset refaults (vmstat workingset_refault_*)."),
	    psir = FAM("host_psi_memory_ratio", GAUGE,
	    "Memory pressure stall information: share of wall time stalled, "
	    "averaged over the window."),
	    psit = FAM("host_psi_memory_stalled_seconds_total", COUNTER,
	    "Memory pressure stall information: total stall time.");
	static const char *const kinds[] = { "some", "full" };
	static const char *const windows[] = { "10s", "60s", "300s" };

	emit_kib(b, &total, NULL, h->mem.mem_total_kib);
	emit_kib(b, &avail, NULL, h->mem.mem_avail_kib);
	emit_kib(b, &freem, NULL, h->mem.mem_free_kib);
	emit_int(b, &majps, NULL, h->vm.pgmajfault_per_s);
	emit_int(b, &majt, NULL, h->vm.pgmajfault);
	emit_int(b, &refps, NULL, h->vm.refault_per_s);
	{
		const char *kv_a[] = { "type", "anon", NULL };
		const char *kv_f[] = { "type", "file", NULL };

		emit_int(b, &reft, kv_a, h->vm.workingset_refault_anon);
		emit_int(b, &reft, kv_f, h->vm.workingset_refault_file);
	}
	if (!h->psi.present)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const struct psi_line *l = k == 0 ? &h->psi.some : &h->psi.full;
		const int64_t avg[] = { l->avg10_pmy, l->avg60_pmy,
		    l->avg300_pmy };

		for (size_t w = 0; w < ARRAY_SIZE(windows); w++) {
			const char *kv[] = { "kind", kinds[k], "window",
			    windows[w], NULL };

			emit_fixed(b, &psir, kv, avg[w], 4);
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const struct psi_line *l = k == 0 ? &h->psi.some : &h->psi.full;
		const char *kv[] = { "kind", kinds[k], NULL };

		emit_fixed(b, &psit, kv, l->total_us, 6);
	}
}

static void
render_plan_host(struct mbuf *b, const struct policy_plan *plan)
{
	static const enum host_pressure states[] = { PRESSURE_PLENTY,
	    PRESSURE_NORMAL, PRESSURE_TIGHT, PRESSURE_CRITICAL };
	struct fam reserve = FAM("host_reserve_bytes", GAUGE,
	    "MemAvailable the host keeps for itself."),
	    target = FAM("host_target_available_bytes", GAUGE,
	    "MemAvailable that reclaim aims for."),
	    pressure = FAM("host_pressure_state", GAUGE,
	    "Host memory pressure state as decided by the policy (1 for the "
	    "current state)."),
	    taken = FAM("plan_reclaim_bytes", GAUGE,
	    "Memory the last plan takes from guests' balloons."),
	    given = FAM("plan_give_bytes", GAUGE,
	    "Memory the last plan gives to guests' balloons."),
	    interval = FAM("next_interval_seconds", GAUGE,
	    "Time until the next tick as the policy chose it."),
	    shortb = FAM("host_short_bytes", GAUGE,
	    "Of the host's shortfall, what no guest can give back: every "
	    "guest at its need or floor, or its balloon returns nothing.");

	emit_kib(b, &reserve, NULL, plan->reserve_kib);
	emit_kib(b, &target, NULL, plan->target_avail_kib);
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		const char *kv[] = { "state", policy_pressure_name(states[i]),
		    NULL };

		emit_int(b, &pressure, kv, plan->pressure == states[i]);
	}
	emit_kib(b, &taken, NULL, plan->taken_kib);
	emit_kib(b, &given, NULL, plan->given_kib);
	emit_fixed(b, &interval, NULL, plan->next_interval_ms, 3);
	emit_kib(b, &shortb, NULL, plan->short_kib);
}

/* Capacity at each risk level, named as in `memtunectl capacity --json`,
 * with what an operator needs to trust it: how old the figures are and how
 * many guests each level could count. */
static void
render_capacity(struct mbuf *b, const struct metrics_capacity *mc)
{
	const struct capacity_result *r = mc->res;
	struct fam size = FAM("capacity_vm_size_bytes", GAUGE,
	    "Size of the guest the capacity figures count in "
	    "([daemon] capacity_vm_size)."),
	    cost = FAM("capacity_vm_cost_bytes", GAUGE,
	    "What one more guest of that size costs: its size plus QEMU "
	    "overhead."),
	    vms = FAM("capacity_vms", GAUGE,
	    "More guests of the reference size that fit now, by risk level."),
	    room = FAM("capacity_headroom_bytes", GAUGE,
	    "Memory left for new guests, by risk level (negative: "
	    "overcommitted past it)."),
	    counted = FAM("capacity_guests_counted", GAUGE,
	    "Guests whose memory the level counts (balloon: fresh stats and a "
	    "working balloon; ksm: mergeable with a known RSS)."),
	    ksm = FAM("capacity_ksm_measured", GAUGE,
	    "1 when the ksm level adds a measured KSM saving, 0 when there is "
	    "none to read."),
	    age = FAM("capacity_age_seconds", GAUGE,
	    "Age of the snapshot the capacity figures come from, when "
	    "rendered."),
	    stamp = FAM("capacity_timestamp_seconds", GAUGE,
	    "Unix time of the snapshot the capacity figures come from."),
	    nvms = FAM("capacity_node_vms", GAUGE,
	    "Guests of the reference size that fit in one NUMA node's free "
	    "memory less its part of the reserve (hosts with 2+ nodes)."),
	    unbal = FAM("capacity_numa_unbalanced", GAUGE,
	    "1 when a NUMA node is full while another still has room.");
	const size_t nr_counted[CAP_LEVELS] = {
		[CAP_NO_OVERCOMMIT] = r->nr_guests,
		[CAP_BALLOON] = r->nr_reclaim_counted,
		[CAP_KSM] = r->nr_ksm_counted,
	};
	char node[16];

	emit_kib(b, &size, NULL, r->vm_kib);
	emit_kib(b, &cost, NULL, r->vm_cost_kib);
	for (int l = 0; l < CAP_LEVELS; l++) {
		const char *kv[] = { "level", capacity_level_name(l), NULL };

		emit_int(b, &vms, kv, r->level[l].fits);
	}
	for (int l = 0; l < CAP_LEVELS; l++) {
		const char *kv[] = { "level", capacity_level_name(l), NULL };

		emit_kib(b, &room, kv, r->level[l].headroom_kib);
	}
	for (int l = 0; l < CAP_LEVELS; l++) {
		const char *kv[] = { "level", capacity_level_name(l), NULL };

		emit_int(b, &counted, kv, (int64_t)nr_counted[l]);
	}
	emit_int(b, &ksm, NULL, MT_PRESENT(r->ksm_saved_kib));
	if (MT_PRESENT(r->as_of_ms) && MT_PRESENT(mc->now_ms) &&
	    mc->now_ms >= r->as_of_ms) {
		emit_fixed(b, &age, NULL, mc->now_ms - r->as_of_ms, 3);
		if (MT_PRESENT(mc->now_real_ms))
			emit_fixed(b, &stamp, NULL, mc->now_real_ms -
			    (mc->now_ms - r->as_of_ms), 3);
	}
	if (r->nr_nodes <= 1)
		return;
	for (int i = 0; i < r->nr_nodes; i++) {
		const char *kv[] = { "node", node, NULL };

		snprintf(node, sizeof(node), "%d", r->nodes[i].node);
		emit_int(b, &nvms, kv, r->nodes[i].fits);
	}
	emit_int(b, &unbal, NULL, r->numa_unbalanced);
}

/* One guest as the renderer sees it: the snapshot, the plan, or both. */
struct gpair {
	const struct guest_snapshot *g;
	const struct guest_plan *p;
};

static const char *
gpair_name(const struct gpair *gp)
{
	return gp->g != NULL ? gp->g->name : gp->p->name;
}

static const char *
gpair_uuid(const struct gpair *gp)
{
	return gp->g != NULL ? gp->g->uuid : gp->p->uuid;
}

static const struct guest_plan *
plan_for(const struct policy_plan *plan, size_t i, const char *uuid)
{
	if (plan == NULL)
		return NULL;
	/* the plan keeps the snapshot's order; look further only if not */
	if (i < plan->nr_guests && strcmp(plan->guests[i].uuid, uuid) == 0)
		return &plan->guests[i];
	for (size_t j = 0; j < plan->nr_guests; j++)
		if (strcmp(plan->guests[j].uuid, uuid) == 0)
			return &plan->guests[j];
	return NULL;
}

enum gfield {
	GF_MAX, GF_ACTUAL, GF_TARGET, GF_FLOOR, GF_CEILING, GF_NEED,
	GF_USABLE, GF_UNUSED, GF_RSS, GF_QEMU_OWN, GF_SOFT, GF_HARD,
	GF_SWAP_HARD, GF_GAIN, GF_BALLOONED, GF_RETURNED,
};

static int64_t
gpair_kib(const struct gpair *gp, enum gfield f)
{
	const struct guest_snapshot *g = gp->g;
	const struct guest_plan *p = gp->p;

	switch (f) {
	case GF_MAX:
		return g ? g->max_kib : MT_ABSENT;
	case GF_ACTUAL:
		return g ? g->actual_kib : p->actual_kib;
	case GF_TARGET:
		return p ? p->target_kib : MT_ABSENT;
	case GF_FLOOR:
		return p ? p->floor_kib : MT_ABSENT;
	case GF_CEILING:
		return p ? p->ceiling_kib : MT_ABSENT;
	case GF_NEED:
		return p ? p->need_kib : MT_ABSENT;
	case GF_USABLE:
		return g ? g->usable_kib : MT_ABSENT;
	case GF_UNUSED:
		return g ? g->unused_kib : MT_ABSENT;
	case GF_RSS:
		return g ? g->rss_kib : MT_ABSENT;
	case GF_QEMU_OWN:
		return g ? g->qemu_own_kib : MT_ABSENT;
	case GF_SOFT:
		return g ? g->soft_limit_kib : MT_ABSENT;
	case GF_HARD:
		return g ? g->hard_limit_kib : MT_ABSENT;
	case GF_SWAP_HARD:
		return g ? g->swap_hard_limit_kib : MT_ABSENT;
	case GF_GAIN:
		return p ? p->gain_kib : MT_ABSENT;
	case GF_BALLOONED:
		return p ? p->ballooned_kib : MT_ABSENT;
	case GF_RETURNED:
		return p ? p->returned_kib : MT_ABSENT;
	}
	return MT_ABSENT;
}

/* What the domain's XML says of the balloon's features and its
 * virtio-mem devices (docs/guests.md): one info series, and the device
 * sizes only for a guest with one. */
static void
render_guest_features(struct mbuf *b, const struct gpair *gps, size_t n)
{
	struct fam info = FAM("guest_balloon_features", GAUGE,
	    "Balloon features from the domain XML, as labels (1 on, 0 off)."),
	    devs = FAM("guest_virtio_mem_devices", GAUGE,
	    "virtio-mem devices of the guest."),
	    size = FAM("guest_virtio_mem_size_bytes", GAUGE,
	    "Most memory the guest's virtio-mem devices can plug."),
	    req = FAM("guest_virtio_mem_requested_bytes", GAUGE,
	    "Memory asked of the guest's virtio-mem devices."),
	    cur = FAM("guest_virtio_mem_plugged_bytes", GAUGE,
	    "Memory the guest's virtio-mem devices have plugged."),
	    blk = FAM("guest_virtio_mem_block_bytes", GAUGE,
	    "Plug unit of the guest's virtio-mem devices (the largest).");

	for (size_t i = 0; i < n; i++) {
		const struct guest_backing *bk;

		if (gps[i].g == NULL)
			continue;
		bk = &gps[i].g->backing;
		const char *kv[] = { "name", gpair_name(&gps[i]),
		    "uuid", gpair_uuid(&gps[i]), "free_page_reporting",
		    bk->free_page_reporting ? "1" : "0", "autodeflate",
		    bk->autodeflate ? "1" : "0", NULL };

		emit_int(b, &info, kv, 1);
	}
	struct fam *fams[] = { &devs, &size, &req, &cur, &blk };

	/* family by family: the format wants each one's samples together */
	for (size_t k = 0; k < ARRAY_SIZE(fams); k++) {
		for (size_t i = 0; i < n; i++) {
			const struct guest_vmem *vm;

			if (gps[i].g == NULL)
				continue;
			vm = &gps[i].g->backing.vmem;
			const char *kv[] = { "name", gpair_name(&gps[i]),
			    "uuid", gpair_uuid(&gps[i]), NULL };
			const int64_t v[] = { vm->count, vm->size_kib,
			    vm->requested_kib, vm->current_kib, vm->block_kib };

			if (k == 0)
				emit_int(b, fams[k], kv, v[k]);
			else if (vm->count > 0)
				emit_kib(b, fams[k], kv, v[k]);
		}
	}
}

/* Each guest's gauges and counters, one family a field */
static const struct {
	enum gfield f;
	const char *name;
	const char *help;
	const char *type;	/* GAUGE or COUNTER */
} guest_fields[] = {
	{ GF_MAX, "memtuned_guest_max_bytes",
	    "Guest maximum memory (libvirt max memory).", GAUGE },
	{ GF_ACTUAL, "memtuned_guest_actual_bytes",
	    "Guest memory with the balloon as it is now.", GAUGE },
	{ GF_TARGET, "memtuned_guest_target_bytes",
	    "Balloon target of the last plan.", GAUGE },
	{ GF_FLOOR, "memtuned_guest_floor_bytes",
	    "Least memory the policy leaves the guest.", GAUGE },
	{ GF_CEILING, "memtuned_guest_ceiling_bytes",
	    "Most memory the policy gives the guest.", GAUGE },
	{ GF_NEED, "memtuned_guest_need_bytes",
	    "What the guest uses plus headroom, as the policy sees it.", GAUGE },
	{ GF_USABLE, "memtuned_guest_usable_bytes",
	    "Guest MemAvailable from the balloon statistics.", GAUGE },
	{ GF_UNUSED, "memtuned_guest_unused_bytes",
	    "Guest MemFree from the balloon statistics.", GAUGE },
	{ GF_RSS, "memtuned_guest_rss_bytes",
	    "Resident memory of the QEMU process on the host.", GAUGE },
	{ GF_QEMU_OWN, "memtuned_guest_qemu_own_bytes",
	    "Of it, QEMU's own memory outside the guest RAM (smaps).", GAUGE },
	{ GF_SOFT, "memtuned_guest_memtune_soft_limit_bytes",
	    "memtune soft_limit (left out when unlimited).", GAUGE },
	{ GF_HARD, "memtuned_guest_memtune_hard_limit_bytes",
	    "memtune hard_limit (left out when unlimited).", GAUGE },
	{ GF_SWAP_HARD, "memtuned_guest_memtune_swap_hard_limit_bytes",
	    "memtune swap_hard_limit (left out when unlimited).", GAUGE },
	{ GF_GAIN, "memtuned_guest_reclaimable_bytes",
	    "Resident idle memory a shrink of the guest would give the "
	    "host (0 when its shrinks return nothing).", GAUGE },
	{ GF_BALLOONED, "memtuned_guest_balloon_inflated_bytes_total",
	    "Balloon inflated since memtuned started watching the "
	    "guest.", COUNTER },
	{ GF_RETURNED, "memtuned_guest_balloon_returned_bytes_total",
	    "Host memory the inflating balloon returned (the QEMU RSS "
	    "that went with it): over inflated, what ballooning bought "
	    "the host.", COUNTER },
};

/* Each guest's stats state and plan state, one series a state (1 for
 * the current one), and its reason's code: one series, the current code
 * (forty codes a guest, mostly 0, would crowd the scrape) */
static void
render_guest_states(struct mbuf *b, const struct gpair *gps, size_t n)
{
	static const enum guest_stats_state sstates[] = { GUEST_STATS_OK,
	    GUEST_STATS_STALE, GUEST_STATS_NONE };
	static const enum guest_plan_state pstates[] = { GPS_OK,
	    GPS_UNCOOPERATIVE, GPS_STALE, GPS_EXCLUDED, GPS_CONFIG_ERROR,
	    GPS_FIXED, GPS_PAUSED, GPS_RELEASED };
	struct fam sst = FAM("guest_stats_state", GAUGE,
	    "Balloon statistics of the guest: ok, stale or none (1 for the "
	    "current state)."),
	    pst = FAM("guest_plan_state", GAUGE,
	    "How the policy treats the guest (1 for the current state)."),
	    prs = FAM("guest_plan_reason", GAUGE,
	    "The code of the reason the policy gave the guest this tick "
	    "(always 1; the reason label is the key of policy.md).");

	for (size_t i = 0; i < n; i++) {
		if (gps[i].g == NULL)
			continue;
		for (size_t s = 0; s < ARRAY_SIZE(sstates); s++) {
			const char *kv[] = { "name", gpair_name(&gps[i]),
			    "uuid", gpair_uuid(&gps[i]), "state",
			    guest_stats_state_name(sstates[s]), NULL };

			emit_int(b, &sst, kv, gps[i].g->stats == sstates[s]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (gps[i].p == NULL)
			continue;
		for (size_t s = 0; s < ARRAY_SIZE(pstates); s++) {
			const char *kv[] = { "name", gpair_name(&gps[i]),
			    "uuid", gpair_uuid(&gps[i]), "state",
			    policy_guest_state_name(pstates[s]), NULL };

			emit_int(b, &pst, kv, gps[i].p->state == pstates[s]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct guest_plan *gp = gps[i].p;
		const char *kv[] = { "name", gpair_name(&gps[i]), "uuid",
		    gpair_uuid(&gps[i]), "reason", gp == NULL ? "" :
		    policy_guest_why_name(gp->reason_code), NULL };

		if (gp != NULL)
			emit_int(b, &prs, kv, 1);
	}
}

static void
render_guests(struct mbuf *b, const struct gpair *gps, size_t n)
{
	for (size_t k = 0; k < ARRAY_SIZE(guest_fields); k++) {
		struct fam f = { .name = guest_fields[k].name,
		    .type = guest_fields[k].type,
		    .help = guest_fields[k].help };

		for (size_t i = 0; i < n; i++) {
			const char *kv[] = { "name", gpair_name(&gps[i]),
			    "uuid", gpair_uuid(&gps[i]), NULL };

			emit_kib(b, &f, kv, gpair_kib(&gps[i],
			    guest_fields[k].f));
		}
	}
	render_guest_states(b, gps, n);
	render_guest_features(b, gps, n);
}

static void
render_ksm(struct mbuf *b, const struct host_ksm *k)
{
	struct fam run = FAM("ksm_run", GAUGE,
	    "KSM run knob: 0 stopped, 1 merging, 2 unmerging."),
	    pts = FAM("ksm_pages_to_scan", GAUGE,
	    "Pages ksmd scans per wake-up."),
	    sleep = FAM("ksm_sleep_seconds", GAUGE,
	    "ksmd sleep between scans."),
	    shared = FAM("ksm_pages_shared", GAUGE,
	    "KSM pages in use as the shared copy."),
	    sharing = FAM("ksm_pages_sharing", GAUGE,
	    "Pages merged into a shared copy (the saving)."),
	    unshared = FAM("ksm_pages_unshared", GAUGE,
	    "Pages scanned, unique, checked again."),
	    vol = FAM("ksm_pages_volatile", GAUGE,
	    "Pages changing too fast to merge."),
	    profit = FAM("ksm_general_profit_bytes", GAUGE,
	    "Memory KSM saves minus its metadata (may be negative)."),
	    scans = FAM("ksm_full_scans_total", COUNTER,
	    "Full passes of ksmd over the mergeable areas."),
	    cpu = FAM("ksmd_cpu_seconds_total", COUNTER,
	    "CPU time (user + system) of the ksmd thread.");

	if (!k->present)
		return;
	emit_int(b, &run, NULL, k->run);
	emit_int(b, &pts, NULL, k->pages_to_scan);
	emit_fixed(b, &sleep, NULL, k->sleep_millisecs, 3);
	emit_int(b, &shared, NULL, k->pages_shared);
	emit_int(b, &sharing, NULL, k->pages_sharing);
	emit_int(b, &unshared, NULL, k->pages_unshared);
	emit_int(b, &vol, NULL, k->pages_volatile);
	emit_int(b, &profit, NULL, k->general_profit);
	emit_int(b, &scans, NULL, k->full_scans);
	emit_fixed(b, &cpu, NULL, k->ksmd_cpu_ms, 3);
}

static void
render_thp(struct mbuf *b, const struct host_thp *t)
{
	struct fam info = FAM("thp_info", GAUGE,
	    "Transparent huge page mode: enabled and defrag as labels."),
	    pts = FAM("thp_khugepaged_pages_to_scan", GAUGE,
	    "Pages khugepaged scans per wake-up."),
	    sleep = FAM("thp_khugepaged_scan_sleep_seconds", GAUGE,
	    "khugepaged sleep between scans."),
	    coll = FAM("thp_khugepaged_pages_collapsed_total", COUNTER,
	    "Huge pages khugepaged has collapsed."),
	    scans = FAM("thp_khugepaged_full_scans_total", COUNTER,
	    "Full passes of khugepaged.");

	if (!t->present)
		return;
	if (t->enabled[0] != '\0' || t->defrag[0] != '\0') {
		const char *kv[] = { "enabled", t->enabled, "defrag",
		    t->defrag, NULL };

		emit_int(b, &info, kv, 1);
	}
	emit_int(b, &pts, NULL, t->khugepaged_pages_to_scan);
	emit_fixed(b, &sleep, NULL, t->khugepaged_scan_sleep_millisecs, 3);
	emit_int(b, &coll, NULL, t->khugepaged_pages_collapsed);
	emit_int(b, &scans, NULL, t->khugepaged_full_scans);
}

static void
render_counters(struct mbuf *b, const struct metrics_counters *c)
{
	struct fam build = FAM("build_info", GAUGE,
	    "memtuned version, as a label."),
	    ticks = FAM("ticks_total", COUNTER,
	    "Collect-decide-act cycles run."),
	    actions = FAM("actions_total", COUNTER,
	    "Changes memtuned made, by kind and reason class."),
	    errors = FAM("errors_total", COUNTER, "Errors by kind."),
	    gone = FAM("guests_gone_total", COUNTER,
	    "Guests that vanished between sampling and acting."),
	    conn = FAM("libvirt_connected", GAUGE,
	    "1 while the libvirt connection is up."),
	    tick = FAM("last_tick_duration_seconds", GAUGE,
	    "Wall time of the last collect-decide-act cycle."),
	    reloads = FAM("reloads_total", COUNTER,
	    "Configuration reloads that took effect.");
	const char *kv_b[] = { "version", MEMTUNED_VERSION, NULL };

	emit_int(b, &build, kv_b, 1);
	emit_int(b, &ticks, NULL, (int64_t)c->ticks);
	for (size_t i = 0; i < ARRAY_SIZE(action_pairs); i++) {
		const char *kv[] = { "kind", kind_names[action_pairs[i].kind],
		    "reason", reason_names[action_pairs[i].reason], NULL };

		emit_int(b, &actions, kv, (int64_t)
		    c->actions[action_pairs[i].kind][action_pairs[i].reason]);
	}
	for (size_t i = 0; i < METRICS_ERR_N; i++) {
		const char *kv[] = { "kind", error_names[i], NULL };

		emit_int(b, &errors, kv, (int64_t)c->errors[i]);
	}
	emit_int(b, &gone, NULL, (int64_t)c->guests_gone);
	emit_int(b, &conn, NULL, c->libvirt_connected);
	emit_fixed(b, &tick, NULL, c->last_tick_us, 6);
	emit_int(b, &reloads, NULL, (int64_t)c->reloads);
}

int
metrics_render(const struct snapshot *snap, const struct policy_plan *plan,
    const struct metrics_capacity *cap, const struct metrics_counters *ctr,
    unsigned flags, char **out, size_t *len)
{
	struct mbuf b = { 0 };
	struct gpair *gps = NULL;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (ctr != NULL)
		render_counters(&b, ctr);
	if (snap != NULL)
		render_host(&b, &snap->host);
	if (plan != NULL)
		render_plan_host(&b, plan);
	if (cap != NULL && cap->res != NULL)
		render_capacity(&b, cap);
	if (snap != NULL) {
		struct fam nr = FAM("guests", GAUGE,
		    "Guests in the last snapshot.");

		emit_int(&b, &nr, NULL, (int64_t)snap->nr_guests);
		n = snap->nr_guests;
	} else if (plan != NULL) {
		n = plan->nr_guests;
	}
	/* the count above stays: it is one series, not one per guest */
	if (flags & METRICS_NO_GUESTS)
		n = 0;
	if (n > 0) {
		if ((gps = calloc(n, sizeof(*gps))) == NULL) {
			free(b.p);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			if (snap != NULL) {
				gps[i].g = &snap->guests[i];
				gps[i].p = plan_for(plan, i, gps[i].g->uuid);
			} else {
				gps[i].p = &plan->guests[i];
			}
		}
		render_guests(&b, gps, n);
		free(gps);
	}
	if (snap != NULL) {
		render_ksm(&b, &snap->host.ksm);
		render_thp(&b, &snap->host.thp);
	}
	if (mb_reserve(&b, 0) < 0) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ------------------------------------------------------------ textfile */

int
metrics_write_textfile(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	char *slash;
	size_t off = 0;
	int fd, dfd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0)
		return -errno;
	/* node_exporter runs as another user: readable whatever the umask */
	if (fchmod(fd, 0644) < 0) {
		rc = -errno;
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
out:
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	/* the rename itself survives a crash only once the directory is
	 * synced; a failure here leaves a whole file, so it is not fatal */
	mt_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL)
		mt_strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---------------------------------------------------------------- HTTP */

static const char *
http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	}
	return "Error";
}

/* Queue the whole answer and switch the client to writing. */
static void
http_reply(struct metrics_http *h, struct connpool_client *c, int status,
    const char *body, size_t body_len, bool head_only)
{
	/* the head is a few fixed lines: 512 bytes is ample */
	char head[512];
	const char *ctype = status == 200 ?
	    "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8";
	char *out;
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n", status, http_status_text(status),
	    ctype, body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		connpool_drop(&h->pool, c);
		return;
	}
	if (head_only)
		body_len = 0;
	if ((out = malloc((size_t)n + body_len)) == NULL) {
		connpool_drop(&h->pool, c);
		return;
	}
	memcpy(out, head, (size_t)n);
	if (body_len > 0)
		memcpy(out + n, body, body_len);
	if (status == 200)
		h->served++;
	else
		h->refused++;
	connpool_reply(&h->pool, c, out, (size_t)n + body_len);
}

static void
http_error(struct metrics_http *h, struct connpool_client *c, int status,
    bool head_only)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
	    http_status_text(status));

	http_reply(h, c, status, body, (size_t)n, head_only);
}

/* The request line is all that matters: "METHOD TARGET HTTP/1.x"; the
 * status it earns. A NUL in it is junk, not the end of the line. */
static int
http_parse_line(const char *line, size_t n, bool *head_only)
{
	const char *sp1 = memchr(line, ' ', n), *sp2, *target, *ver, *q;
	size_t mlen, tlen, vlen;

	*head_only = false;
	if (sp1 == NULL || sp1 == line || memchr(line, '\0', n) != NULL)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return 400;
	ver = sp2 + 1;
	vlen = n - (size_t)(ver - line);
	if (vlen < 7 || memcmp(ver, "HTTP/1.", 7) != 0 ||
	    memchr(ver, ' ', vlen) != NULL)
		return 400;
	mlen = (size_t)(sp1 - line);
	if (mlen == 4 && memcmp(line, "HEAD", 4) == 0)
		*head_only = true;
	else if (mlen != 3 || memcmp(line, "GET", 3) != 0)
		return 405;
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	if ((q = memchr(target, '?', tlen)) != NULL)
		tlen = (size_t)(q - target);
	if (tlen != 8 || memcmp(target, "/metrics", 8) != 0)
		return 404;
	return 200;
}

int
metrics_http_parse(const char *buf, size_t len, struct metrics_http_req *req)
{
	size_t n = MIN(len, (size_t)METRICS_HTTP_HEAD_MAX), line_len;
	const char *eol;

	req->status = 0;
	req->head_only = false;
	if (memmem(buf, n, "\r\n\r\n", 4) == NULL &&
	    memmem(buf, n, "\n\n", 2) == NULL) {
		if (len < METRICS_HTTP_HEAD_MAX)
			return -EAGAIN;
		req->status = 431;
		return 0;
	}
	/* a complete head has a line feed */
	eol = memchr(buf, '\n', n);
	line_len = (size_t)(eol - buf);
	if (line_len > 0 && buf[line_len - 1] == '\r')
		line_len--;
	req->status = http_parse_line(buf, line_len, &req->head_only);
	return 0;
}

/* Answer a complete head; nothing yet for a partial one. */
static void
http_dispatch(struct metrics_http *h, struct connpool_client *c)
{
	struct metrics_http_req req;

	if (metrics_http_parse(c->in, c->in_len, &req) < 0)
		return;
	if (req.status == 431)
		log_debug("metrics: request head over %d bytes refused",
		    METRICS_HTTP_HEAD_MAX);
	if (req.status != 200)
		http_error(h, c, req.status, req.head_only);
	else if (h->text == NULL)
		/* before the first tick there is nothing honest to show */
		http_error(h, c, 503, req.head_only);
	else
		http_reply(h, c, 200, h->text, h->text_len, req.head_only);
}

static void
http_client_io(int fd, short revents, void *arg)
{
	struct metrics_http *h = arg;
	struct connpool_client *c = connpool_find(&h->pool, fd);
	ssize_t n;
	int rc;

	if (c == NULL)
		return;
	if (c->out != NULL && !c->draining) {
		if ((rc = connpool_send(c, revents)) < 0) {
			connpool_drop(&h->pool, c);
			return;
		}
		if (rc == 0)
			return;
		/* closing with unread request bytes would reset the
		 * connection and could destroy the answer in flight: end
		 * our side and read until the peer closes (or the deadline) */
		shutdown(fd, SHUT_WR);
		c->draining = true;
		evloop_update_fd(h->pool.loop, c->watch, POLLIN);
		return;
	}
	if (c->draining) {
		char sink[1024];

		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			connpool_drop(&h->pool, c);
		return;
	}
	if (revents & (POLLERR | POLLNVAL)) {
		connpool_drop(&h->pool, c);
		return;
	}
	n = connpool_recv(c, METRICS_HTTP_HEAD_MAX);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		connpool_drop(&h->pool, c);
		return;
	}
	http_dispatch(h, c);
}

void
metrics_http_expire(struct metrics_http *h, int64_t now_ms)
{
	h->dropped += connpool_expire(&h->pool, now_ms);
}

static void
http_accept(int fd, short revents, void *arg)
{
	struct metrics_http *h = arg;
	bool evicted;
	int64_t now = mt_now_ms();
	int cfd;

	(void)revents;
	metrics_http_expire(h, now);
	if ((cfd = connpool_accept_fd(fd, "metrics")) < 0)
		return;
	(void)connpool_add(&h->pool, cfd, now, &evicted);
	/* a slow scraper must not lock the others out */
	if (evicted)
		h->dropped++;
}

/* Parse a literal, with or without [brackets]; 0 or -EINVAL. */
static int
http_parse_addr(const char *host, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

static bool
sockaddr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

bool
metrics_addr_is_loopback(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	return http_parse_addr(host, &ss, &sslen) == 0 &&
	    sockaddr_is_loopback(&ss);
}

int
metrics_http_open(struct metrics_http *h, struct evloop *loop,
    const char *host, int port, int flags)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd = -1, one = 1, rc;

	memset(h, 0, sizeof(*h));
	h->listen_fd = -1;
	connpool_init(&h->pool, loop, h->clients, METRICS_HTTP_MAX_CLIENTS,
	    METRICS_HTTP_DEADLINE_MS, http_client_io, h);
	if (port < 0 || port > 65535)
		return -EINVAL;
	if ((rc = http_parse_addr(host, &ss, &sslen)) < 0)
		return rc;
	if (!sockaddr_is_loopback(&ss) &&
	    !(flags & METRICS_HTTP_ALLOW_REMOTE)) {
		log_warnx("metrics: refusing to listen on %s: not a loopback "
		    "address, and the metrics name every guest", host);
		return -EPERM;
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, sslen) < 0 ||
	    listen(fd, 16) < 0) {
		rc = -errno;
		goto fail;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		rc = -errno;
		goto fail;
	}
	h->port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	h->loop = loop;
	h->listen_watch = evloop_add_fd(loop, fd, POLLIN, http_accept, h);
	if (h->listen_watch < 0) {
		rc = h->listen_watch;
		goto fail;
	}
	h->listen_fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

int
metrics_http_set(struct metrics_http *h, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(h->text);
	h->text = copy;
	h->text_len = len;
	return 0;
}

void
metrics_http_close(struct metrics_http *h)
{
	connpool_close(&h->pool);
	if (h->listen_fd >= 0) {
		evloop_remove_fd(h->loop, h->listen_watch);
		close(h->listen_fd);
		h->listen_fd = -1;
	}
	free(h->text);
	h->text = NULL;
	h->text_len = 0;
}
