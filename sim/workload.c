/* workload.c - the workload file: one "key value..." per line, host keys
 * first, then one section per class of VMs. docs/simulator.md lists every
 * key. Errors name the file, the line and the key. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "sim.h"
#include "util.h"

/* the longest line is a comment or a burst: 512 bytes is ample, and a
 * longer one is an error rather than a silent cut */
#define LINE_MAX_LEN 512
/* workload files are a few dozen lines */
#define FILE_MAX_LEN (64 * 1024)

static int
fail(char *err, size_t errlen, const char *path, int line, const char *fmt,
    ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* line 0: a check over the whole file */
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
	return -EINVAL;
}

/* "HH:MM" -> minutes of the day (24:00 allowed as the day's end) */
static int
parse_clock(const char *s, int64_t *min)
{
	int h, m, n = 0;

	if (sscanf(s, "%d:%d%n", &h, &m, &n) != 2 || s[n] != '\0' ||
	    h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
		return -EINVAL;
	*min = h * 60 + m;
	return 0;
}

static void
class_defaults(struct sim_class *c, const char *name, int64_t weight)
{
	memset(c, 0, sizeof(*c));
	mt_strlcpy(c->name, name, sizeof(c->name));
	c->weight = weight;
	c->vm_kib = 4LL * 1024 * 1024;
	c->dup_pmy = 1000;
	c->dup_idle_pmy = MT_ABSENT;	/* as dup */
	c->cache_pmy = 3000;
	c->boot_touch_pmy = 3000;
	c->jitter_pmy = 1000;
}

static void
workload_defaults(struct sim_workload *w, const char *path)
{
	const char *base = strrchr(path, '/');

	memset(w, 0, sizeof(*w));
	mt_strlcpy(w->path, path, sizeof(w->path));
	mt_strlcpy(w->name, base != NULL ? base + 1 : path, sizeof(w->name));
	if ((base = strrchr(w->name, '.')) != NULL)
		w->name[base - w->name] = '\0';
	w->host_kib = MT_ABSENT;
	w->host_base_kib = 2LL * 1024 * 1024;
	w->host_cache_kib = 1024 * 1024;
	w->qemu_overhead_kib = 200 * 1024;
	w->guest_min_kib = 96 * 1024;
	w->guest_reserve_kib = 0;
	w->guest_kernel_kib = MT_ABSENT;	/* guest_min - guest_reserve */
	w->guest_watermark_kib = 0;
	w->guest_swap = true;
	/* measured on the testbed (docs/simulator.md, calibration) */
	w->thp_extra_pmy = 500;
	w->baseline_floor_pmy = 3000;
	w->duration_s = 24 * 3600;
	w->dt_s = 2;
	w->vms_min = 1;
	w->vms_max = MT_ABSENT;
	w->balloon_kib_per_s = 256 * 1024;
	/* measured on the testbed (docs/simulator.md, calibration) */
	w->ksm_page_cost_ns = 1750;
	w->ksm_merge_cost_ns = 35000;
	w->ksm_efficiency_pmy = 5500;
	w->cache_fill_kib_per_s = 2 * 1024;
	w->boot_spread_s = 30 * 60;
	w->ksm_advisor = true;
	w->seed = 1;
	w->storm_start_s = w->storm_end_s = -1;
}

static int
need_args(int argc, int want, const char *key, const char *path, int line,
    char *err, size_t errlen)
{
	if (argc != want)
		return fail(err, errlen, path, line, "%s takes %d value%s, "
		    "got %d", key, want, want == 1 ? "" : "s", argc);
	return 0;
}

static int
get_size(const char *v, int64_t *out, const char *key, const char *path,
    int line, char *err, size_t errlen)
{
	if (mt_parse_size_kib(v, out) < 0 || *out < 0)
		return fail(err, errlen, path, line, "%s: bad size '%s'", key, v);
	return 0;
}

static int
get_pct(const char *v, int64_t *out, const char *key, const char *path,
    int line, char *err, size_t errlen)
{
	if (mt_parse_percent_pmy(v, out) < 0 || *out < 0)
		return fail(err, errlen, path, line, "%s: bad percent '%s' "
		    "(write 12.5%%)", key, v);
	return 0;
}

static int
get_dur(const char *v, int64_t *out_s, const char *key, const char *path,
    int line, char *err, size_t errlen)
{
	int64_t ms;

	if (mt_parse_duration_ms(v, &ms) < 0 || ms < 0 || ms % 1000 != 0)
		return fail(err, errlen, path, line, "%s: bad duration '%s' "
		    "(whole seconds: 2s, 15m, 24h)", key, v);
	*out_s = ms / 1000;
	return 0;
}

/* step TIME alloc|free SIZE [VM] [DUP%] */
static int
step_key(struct sim_class *c, char **av, int argc, const char *path,
    int line, char *err, size_t errlen)
{
	struct sim_step *st;
	int rc;

	if (argc - 1 < 3 || argc - 1 > 5)
		return fail(err, errlen, path, line, "step takes TIME alloc|free "
		    "SIZE [VM] [DUP%%], got %d values", argc - 1);
	if (c->nr_steps >= SIM_MAX_STEPS)
		return fail(err, errlen, path, line, "more than %d steps",
		    SIM_MAX_STEPS);
	st = &c->steps[c->nr_steps];
	if ((rc = get_dur(av[1], &st->at_s, "step", path, line, err,
	    errlen)) < 0)
		return rc;
	if (c->nr_steps > 0 && st->at_s < c->steps[c->nr_steps - 1].at_s)
		return fail(err, errlen, path, line, "step: time %s before the "
		    "previous step", av[1]);
	if (strcmp(av[2], "alloc") == 0)
		st->op = SIM_STEP_ALLOC;
	else if (strcmp(av[2], "free") == 0)
		st->op = SIM_STEP_FREE;
	else
		return fail(err, errlen, path, line, "step: want alloc or free, "
		    "got '%s'", av[2]);
	if ((rc = get_size(av[3], &st->kib, "step", path, line, err,
	    errlen)) < 0)
		return rc;
	st->vm = 0;
	st->dup_pmy = MT_ABSENT;
	for (int k = 4; k < argc; k++) {
		size_t l = strlen(av[k]);

		if (l > 0 && av[k][l - 1] == '%') {
			if ((rc = get_pct(av[k], &st->dup_pmy, "step", path,
			    line, err, errlen)) < 0)
				return rc;
		} else if (mt_parse_int64(av[k], &st->vm) < 0 || st->vm < 1) {
			return fail(err, errlen, path, line, "step: VM is the "
			    "1-based position in the class, got '%s'", av[k]);
		}
	}
	c->nr_steps++;
	return 0;
}

#define NEED(n) do { if ((rc = need_args(argc - 1, (n), key, path, line, \
    err, errlen)) < 0) return rc; } while (0)

/* How a key's one value is read and checked */
enum wl_kind {
	WL_SIZE,		/* a size, KiB */
	WL_DUR,			/* whole seconds */
	WL_DUR_POS,		/* whole seconds, above 0 */
	WL_NS,			/* nanoseconds per page */
	WL_PCT,			/* per-myriad, any */
	WL_PCT_CAP,		/* per-myriad, at most 100% */
	WL_PCT_RANGE,		/* the same, said as a range */
	WL_PCT_RANGE_POS,	/* per-myriad, above 0 and at most 100% */
	WL_BOOL,		/* yes or no */
};

/* A key of one value and the field it fills (an int64_t, or a bool for
 * WL_BOOL) at off in its struct */
struct wl_field {
	const char *key;
	enum wl_kind kind;
	size_t off;
};

#define WF(k, kind, type, field) { k, kind, offsetof(type, field) }

static const struct wl_field host_fields[] = {
	WF("host_mem", WL_SIZE, struct sim_workload, host_kib),
	WF("host_base", WL_SIZE, struct sim_workload, host_base_kib),
	WF("host_cache", WL_SIZE, struct sim_workload, host_cache_kib),
	WF("qemu_overhead", WL_SIZE, struct sim_workload, qemu_overhead_kib),
	WF("guest_min", WL_SIZE, struct sim_workload, guest_min_kib),
	WF("guest_reserve", WL_SIZE, struct sim_workload, guest_reserve_kib),
	WF("guest_kernel", WL_SIZE, struct sim_workload, guest_kernel_kib),
	WF("guest_watermark", WL_SIZE, struct sim_workload,
	    guest_watermark_kib),
	WF("balloon_rate", WL_SIZE, struct sim_workload, balloon_kib_per_s),
	WF("touch_rate", WL_SIZE, struct sim_workload, touch_kib_per_s),
	WF("cache_fill", WL_SIZE, struct sim_workload, cache_fill_kib_per_s),
	WF("boot_spread", WL_DUR, struct sim_workload, boot_spread_s),
	WF("duration", WL_DUR_POS, struct sim_workload, duration_s),
	WF("dt", WL_DUR_POS, struct sim_workload, dt_s),
	WF("ksm_page_cost", WL_NS, struct sim_workload, ksm_page_cost_ns),
	WF("ksm_merge_cost", WL_NS, struct sim_workload, ksm_merge_cost_ns),
	WF("ksm_efficiency", WL_PCT_RANGE_POS, struct sim_workload,
	    ksm_efficiency_pmy),
	WF("thp_extra", WL_PCT, struct sim_workload, thp_extra_pmy),
	WF("baseline_floor", WL_PCT_RANGE, struct sim_workload,
	    baseline_floor_pmy),
	WF("guest_swap", WL_BOOL, struct sim_workload, guest_swap),
	WF("ksm_advisor", WL_BOOL, struct sim_workload, ksm_advisor),
};

static const struct wl_field class_fields[] = {
	WF("dup", WL_PCT_CAP, struct sim_class, dup_pmy),
	WF("cache", WL_PCT_CAP, struct sim_class, cache_pmy),
	WF("boot_touch", WL_PCT_CAP, struct sim_class, boot_touch_pmy),
	WF("uncoop", WL_PCT_CAP, struct sim_class, uncoop_pmy),
	WF("jitter", WL_PCT_CAP, struct sim_class, jitter_pmy),
	WF("noise", WL_PCT_CAP, struct sim_class, noise_pmy),
	WF("dup_idle", WL_PCT_CAP, struct sim_class, dup_idle_pmy),
	WF("spread", WL_DUR, struct sim_class, spread_s),
};

/* The field of key in table, or NULL */
static const struct wl_field *
wl_find(const struct wl_field *table, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

/* v read as f says into the field of base. 0 or -EINVAL, err said. */
static int
wl_set(void *base, const struct wl_field *f, const char *v,
    const char *path, int line, char *err, size_t errlen)
{
	const char *key = f->key;
	int64_t a, *out = (int64_t *)(void *)((char *)base + f->off);
	int rc;

	switch (f->kind) {
	case WL_SIZE:
		return get_size(v, out, key, path, line, err, errlen);
	case WL_DUR:
		return get_dur(v, out, key, path, line, err, errlen);
	case WL_DUR_POS:
		if ((rc = get_dur(v, &a, key, path, line, err, errlen)) < 0)
			return rc;
		if (a <= 0)
			return fail(err, errlen, path, line, "%s must be above "
			    "0", key);
		break;
	case WL_NS:
		if (mt_parse_int64(v, &a) < 0 || a < 0)
			return fail(err, errlen, path, line, "%s: "
			    "nanoseconds per page, got '%s'", key, v);
		break;
	case WL_BOOL:
		if (mt_parse_bool(v, (bool *)(void *)out) < 0)
			return fail(err, errlen, path, line, "%s: "
			    "yes or no, got '%s'", key, v);
		return 0;
	default:
		if ((rc = get_pct(v, &a, key, path, line, err, errlen)) < 0)
			return rc;
		if (f->kind == WL_PCT_CAP && a > 10000)
			return fail(err, errlen, path, line, "%s above 100%%",
			    key);
		if ((f->kind == WL_PCT_RANGE && a > 10000) ||
		    (f->kind == WL_PCT_RANGE_POS && (a > 10000 || a == 0)))
			return fail(err, errlen, path, line, "%s: above 0%% and "
			    "at most 100%%, got '%s'", key, v);
		break;
	}
	*out = a;
	return 0;
}

#define NEED(n) do { if ((rc = need_args(argc - 1, (n), key, path, line, \
    err, errlen)) < 0) return rc; } while (0)

/* ws HH:MM PCT: one more point of the class's working-set profile */
static int
ws_key(struct sim_class *c, char **av, const char *path, int line,
    char *err, size_t errlen)
{
	struct sim_point *pt;
	int rc;

	if (c->nr_pts >= SIM_MAX_POINTS)
		return fail(err, errlen, path, line, "more than %d ws "
		    "points", SIM_MAX_POINTS);
	pt = &c->pts[c->nr_pts];
	if (parse_clock(av[1], &pt->minute) < 0)
		return fail(err, errlen, path, line, "ws: bad time "
		    "'%s' (HH:MM)", av[1]);
	if (c->nr_pts > 0 && pt->minute <= c->pts[c->nr_pts - 1].minute)
		return fail(err, errlen, path, line, "ws: time %s not "
		    "after the previous point", av[1]);
	if ((rc = get_pct(av[2], &pt->ws_pmy, "ws", path, line, err,
	    errlen)) < 0)
		return rc;
	if (pt->ws_pmy > 10000)
		return fail(err, errlen, path, line, "ws above 100%%");
	c->nr_pts++;
	return 0;
}

/* burst PERIOD LEN PCT PROB */
static int
burst_key(struct sim_class *c, char **av, const char *path, int line,
    char *err, size_t errlen)
{
	const char *key = "burst";
	struct sim_burst *b;
	int rc;

	if (c->nr_bursts >= SIM_MAX_BURSTS)
		return fail(err, errlen, path, line, "more than %d "
		    "bursts", SIM_MAX_BURSTS);
	b = &c->bursts[c->nr_bursts];
	if ((rc = get_dur(av[1], &b->period_s, key, path, line, err,
	    errlen)) < 0 || (rc = get_dur(av[2], &b->len_s, key, path,
	    line, err, errlen)) < 0 || (rc = get_pct(av[3], &b->ws_pmy,
	    key, path, line, err, errlen)) < 0 || (rc = get_pct(av[4],
	    &b->prob_pmy, key, path, line, err, errlen)) < 0)
		return rc;
	if (b->period_s <= 0 || b->len_s <= 0 ||
	    b->len_s >= b->period_s)
		return fail(err, errlen, path, line, "burst: length "
		    "must be above 0 and below the period");
	if (b->ws_pmy > 10000 || b->prob_pmy > 10000)
		return fail(err, errlen, path, line, "burst: percent "
		    "above 100%%");
	c->nr_bursts++;
	return 0;
}

static int
class_key(struct sim_class *c, const char *key, char **av, int argc,
    const char *path, int line, char *err, size_t errlen)
{
	const struct wl_field *f;
	int rc;

	if (strcmp(key, "vm_mem") == 0) {
		NEED(1);
		if ((rc = get_size(av[1], &c->vm_kib, key, path, line, err,
		    errlen)) < 0)
			return rc;
		if (c->vm_kib < 256 * 1024)
			return fail(err, errlen, path, line, "vm_mem below "
			    "256M");
		return 0;
	}
	if ((f = wl_find(class_fields, ARRAY_SIZE(class_fields), key))) {
		NEED(1);
		return wl_set(c, f, av[1], path, line, err, errlen);
	}
	if (strcmp(key, "ws") == 0) {
		NEED(2);
		return ws_key(c, av, path, line, err, errlen);
	}
	if (strcmp(key, "step") == 0)
		return step_key(c, av, argc, path, line, err, errlen);
	if (strcmp(key, "burst") == 0) {
		NEED(4);
		return burst_key(c, av, path, line, err, errlen);
	}
	return -ENOENT;
}

/* the keys of a host that are more than one value read one way */
static int
host_special_key(struct sim_workload *w, const char *key, char **av,
    int argc, const char *path, int line, char *err, size_t errlen)
{
	int64_t a, b;
	int rc;

	if (strcmp(key, "name") == 0) {
		NEED(1);
		mt_strlcpy(w->name, av[1], sizeof(w->name));
		return 0;
	}
	if (strcmp(key, "vms") == 0) {
		NEED(2);
		if (mt_parse_int64(av[1], &a) < 0 || mt_parse_int64(av[2],
		    &b) < 0 || a < 1 || b < a || b > 4096)
			return fail(err, errlen, path, line, "vms: want MIN MAX "
			    "with 1 <= MIN <= MAX <= 4096");
		w->vms_min = a;
		w->vms_max = b;
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		NEED(1);
		if (mt_parse_int64(av[1], &a) < 0 || a < 0)
			return fail(err, errlen, path, line, "seed: bad '%s'",
			    av[1]);
		w->seed = (uint64_t)a;
		return 0;
	}
	if (strcmp(key, "storm") == 0) {
		NEED(2);
		if (parse_clock(av[1], &a) < 0 || parse_clock(av[2], &b) < 0 ||
		    b <= a)
			return fail(err, errlen, path, line, "storm: want "
			    "START END as HH:MM, END after START");
		w->storm_start_s = a * 60;
		w->storm_end_s = b * 60;
		return 0;
	}
	return -ENOENT;
}

static int
host_key(struct sim_workload *w, const char *key, char **av, int argc,
    const char *path, int line, char *err, size_t errlen)
{
	const struct wl_field *f;
	int rc;

	if ((f = wl_find(host_fields, ARRAY_SIZE(host_fields), key))) {
		NEED(1);
		return wl_set(w, f, av[1], path, line, err, errlen);
	}
	return host_special_key(w, key, av, argc, path, line, err, errlen);
}

static int
validate(struct sim_workload *w, const char *path, char *err, size_t errlen)
{
	if (!MT_PRESENT(w->host_kib))
		return fail(err, errlen, path, 0, "host_mem missing");
	if (!MT_PRESENT(w->vms_max))
		return fail(err, errlen, path, 0, "vms MIN MAX missing");
	if (w->nr_classes == 0)
		return fail(err, errlen, path, 0, "no class and no ws points");
	if (w->dt_s > w->duration_s)
		return fail(err, errlen, path, 0, "dt longer than duration");
	if (w->boot_spread_s >= w->duration_s)
		return fail(err, errlen, path, 0, "boot_spread not shorter "
		    "than duration");
	if (!MT_PRESENT(w->guest_kernel_kib))
		w->guest_kernel_kib = MAX(0, w->guest_min_kib -
		    w->guest_reserve_kib);
	if (w->guest_reserve_kib + w->guest_kernel_kib > w->guest_min_kib)
		return fail(err, errlen, path, 0, "guest_min below guest_reserve "
		    "+ guest_kernel: the guest could not hold its own kernel");
	for (size_t i = 0; i < w->nr_classes; i++) {
		struct sim_class *c = &w->classes[i];

		if (c->nr_pts == 0 && c->nr_steps == 0)
			return fail(err, errlen, path, 0, "class %s has no ws "
			    "points and no steps", c->name);
		if (c->weight <= 0)
			return fail(err, errlen, path, 0, "class %s: weight "
			    "must be above 0", c->name);
		if (c->vm_kib <= w->guest_min_kib)
			return fail(err, errlen, path, 0, "class %s: vm_mem not "
			    "above guest_min", c->name);
		if (!MT_PRESENT(c->dup_idle_pmy))
			c->dup_idle_pmy = c->dup_pmy;
		for (size_t k = 0; k < c->nr_steps; k++)
			if (c->steps[k].at_s >= w->duration_s)
				return fail(err, errlen, path, 0, "class %s: a "
				    "step at %llds, after the end", c->name,
				    (long long)c->steps[k].at_s);
	}
	return 0;
}

int
sim_workload_parse(const char *text, const char *path, struct sim_workload *w,
    char *err, size_t errlen)
{
	const char *p = text;
	int line = 0, rc;

	workload_defaults(w, path);
	while (*p != '\0') {
		char buf[LINE_MAX_LEN], *av[8], *save = NULL, *tok, *hash;
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		int argc = 0;

		line++;
		if (len >= sizeof(buf))
			return fail(err, errlen, path, line, "line longer than "
			    "%zu bytes", sizeof(buf) - 1);
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl != NULL ? 1 : 0);
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = '\0';
		for (tok = strtok_r(buf, " \t\r", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\r", &save)) {
			if (argc == (int)ARRAY_SIZE(av))
				return fail(err, errlen, path, line, "too many "
				    "values");
			av[argc++] = tok;
		}
		if (argc == 0)
			continue;
		if (strcmp(av[0], "class") == 0) {
			int64_t wt;

			if ((rc = need_args(argc - 1, 2, "class", path, line,
			    err, errlen)) < 0)
				return rc;
			if (w->nr_classes >= SIM_MAX_CLASSES)
				return fail(err, errlen, path, line, "more than "
				    "%d classes", SIM_MAX_CLASSES);
			if (mt_parse_int64(av[2], &wt) < 0 || wt <= 0)
				return fail(err, errlen, path, line, "class: "
				    "weight must be a whole number above 0");
			class_defaults(&w->classes[w->nr_classes++], av[1], wt);
			continue;
		}
		rc = host_key(w, av[0], av, argc, path, line, err, errlen);
		if (rc == -ENOENT) {
			if (w->nr_classes == 0)
				class_defaults(&w->classes[w->nr_classes++],
				    "all", 1);
			rc = class_key(&w->classes[w->nr_classes - 1], av[0],
			    av, argc, path, line, err, errlen);
			if (rc == -ENOENT)
				return fail(err, errlen, path, line, "unknown "
				    "key '%s'", av[0]);
		}
		if (rc < 0)
			return rc;
	}
	return validate(w, path, err, errlen);
}

int
sim_workload_load(const char *path, struct sim_workload *w, char *err,
    size_t errlen)
{
	char *text;
	FILE *f;
	size_t n;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if ((text = malloc(FILE_MAX_LEN + 1)) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(text, 1, FILE_MAX_LEN + 1, f);
	if (ferror(f) || n > FILE_MAX_LEN) {
		rc = ferror(f) ? -EIO : -EFBIG;
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    "read error" : "larger than 64 KiB");
		goto out;
	}
	text[n] = '\0';
	rc = sim_workload_parse(text, path, w, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}
