/* replay.c - memtuned-sim --replay WORKLOAD DIR: the model against real
 * runs of the same scenario.
 *
 * DIR holds what tests/bench/real-scarcity keeps of each run, named after
 * the controller that ran: NAME.samples (one line a second: t_ms,
 * MemAvailable KiB, KSM pages_sharing, ksmd CPU ms, controller CPU ms and
 * RSS KiB, then per guest balloon KiB and QEMU RSS KiB), NAME.end (guest
 * OOM kills, hog alive or killed). Each run is replayed by the same
 * controller in the model, from the same start: the model's host base is
 * set so that its MemAvailable at t=0 is the run's, and everything after
 * t=0 is the model's own. Every other controller the simulator has runs
 * too, as a prediction. A new run in DIR is one more row. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

/* as a fraction: the tables round, where util.h's MIB() truncates */
#define MIB_DBL(k) ((k) / 1024.0)
/* a real run's files are a few dozen KiB */
#define RUN_FILE_MAX (1024 * 1024)
#define MAX_RUNS 16
/* the compared points (s); the last is the run's end */
static const double points_s[] = { 15, 30, 60, 90, 120, 150, 180 };
#define NR_POINTS (sizeof(points_s) / sizeof(points_s[0]))
/* a point is the median of the samples within this many seconds of it:
 * one sample can catch the host mid-reclaim */
#define POINT_WINDOW_S 2.0
/* agreement asked for */
#define AGREE_PCT 15.0

/* The controllers of the real runs, by file name. memtuned ran on guests
 * already up, so its admission hook had nothing to do: the model runs it
 * without. */
static const struct {
	const char *name;
	enum sim_policy pol;
	bool noadvisor;
} run_names[] = {
	{ "none", SIM_STATIC, false },
	{ "ksmtuned", SIM_KSMTUNED, false },
	{ "mom", SIM_MOM, false },
	{ "proxmox", SIM_PROXMOX, false },
	{ "memtuned", SIM_MEMTUNED_NORESERVE, false },
	{ "memtuned-noadvisor", SIM_MEMTUNED_NORESERVE, true },
};

static int
read_text(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t n;
	char *t;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if ((t = malloc(RUN_FILE_MAX + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(t, 1, RUN_FILE_MAX + 1, f);
	if (ferror(f) || n > RUN_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" :
		    "larger than 1 MiB");
		fclose(f);
		free(t);
		return -EIO;
	}
	fclose(f);
	t[n] = '\0';
	*out = t;
	return 0;
}

/* The numbers of one line (buf, changed) into v; *nv of them. 0 or
 * -EINVAL, err said. */
static int
samples_values(char *buf, double *v, int max, int *nv, const char *path,
    int line, char *err, size_t errlen)
{
	char *tok, *save = NULL;

	*nv = 0;
	for (tok = strtok_r(buf, " \t\r", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r", &save)) {
		char *end;

		if (*nv == max) {
			snprintf(err, errlen, "%s:%d: more than %d guests",
			    path, line, SIM_REPLAY_GUESTS);
			return -EINVAL;
		}
		v[*nv] = strtod(tok, &end);
		if (*end != '\0' || v[*nv] < 0) {
			snprintf(err, errlen, "%s:%d: bad value '%s'",
			    path, line, tok);
			return -EINVAL;
		}
		(*nv)++;
	}
	return 0;
}

/* A line of nv values fits: the six host columns and a pair per guest,
 * as many guests as the lines before (*guests, -1 for none yet, then
 * set), later than the last sample. 0 or -EINVAL, err said. */
static int
samples_check(int nv, const double *v, int *guests,
    const struct sim_sample *s, size_t len, const char *path, int line,
    char *err, size_t errlen)
{
	if (nv < 8 || (nv - 6) % 2 != 0) {
		snprintf(err, errlen, "%s:%d: want t_ms avail_kib "
		    "pages_sharing ksmd_ms ctl_cpu_ms ctl_rss_kib and a "
		    "balloon_kib rss_kib pair per guest, got %d values",
		    path, line, nv);
		return -EINVAL;
	}
	if (*guests >= 0 && (nv - 6) / 2 != *guests) {
		snprintf(err, errlen, "%s:%d: %d guests, earlier lines "
		    "had %d", path, line, (nv - 6) / 2, *guests);
		return -EINVAL;
	}
	*guests = (nv - 6) / 2;
	if (len > 0 && v[0] / 1000.0 <= s[len - 1].t_s) {
		snprintf(err, errlen, "%s:%d: time does not move forward",
		    path, line);
		return -EINVAL;
	}
	return 0;
}

/* One more sample from v, the array grown as needed. 0 or -ENOMEM. */
static int
samples_push(struct sim_sample **s, size_t *cap, size_t *len,
    const double *v, int guests)
{
	struct sim_sample *x;

	if (*len == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;

		if ((x = realloc(*s, ncap * sizeof(**s))) == NULL)
			return -ENOMEM;
		*s = x;
		*cap = ncap;
	}
	x = &(*s)[*len];
	memset(x, 0, sizeof(*x));
	x->t_s = v[0] / 1000.0;
	x->avail_kib = v[1];
	x->sharing_pages = v[2];
	x->ksmd_ms = v[3];
	x->nr_guests = guests;
	for (int g = 0; g < guests; g++) {
		x->actual_kib[g] = v[6 + 2 * g];
		x->rss_kib[g] = v[7 + 2 * g];
	}
	(*len)++;
	return 0;
}

int
sim_samples_parse(const char *text, const char *path, struct sim_sample **out,
    size_t *n, char *err, size_t errlen)
{
	struct sim_sample *s = NULL;
	size_t cap = 0, len = 0;
	const char *p = text;
	int line = 0, guests = -1;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t ll = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char buf[1024];
		double v[6 + 2 * SIM_REPLAY_GUESTS];
		int nv;

		line++;
		if (ll >= sizeof(buf)) {
			snprintf(err, errlen, "%s:%d: line too long", path, line);
			goto fail;
		}
		memcpy(buf, p, ll);
		buf[ll] = '\0';
		p += ll + (nl != NULL ? 1 : 0);
		if (samples_values(buf, v, (int)ARRAY_SIZE(v), &nv, path, line,
		    err, errlen) < 0)
			goto fail;
		if (nv == 0)
			continue;
		if (samples_check(nv, v, &guests, s, len, path, line, err,
		    errlen) < 0)
			goto fail;
		if (samples_push(&s, &cap, &len, v, guests) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	if (len < 2) {
		snprintf(err, errlen, "%s: fewer than two samples", path);
		goto fail;
	}
	*out = s;
	*n = len;
	return 0;
fail:
	free(s);
	return -EINVAL;
}

/* ------------------------------------------------------------ the model */

/* What the model did, a tick at a time. */
struct trace {
	size_t n, cap;
	double *t_s, *avail_kib, *sharing_pages, *ksmd_ms, *taken_kib;
	double *rss_kib;		/* per tick, SIM_REPLAY_GUESTS a tick */
	double *actual_kib;
	int64_t oom_kills;
	int64_t first_oom_s;
	size_t first_oom_vm;
};

static void
trace_free(struct trace *tr)
{
	free(tr->t_s);
	free(tr->avail_kib);
	free(tr->sharing_pages);
	free(tr->ksmd_ms);
	free(tr->taken_kib);
	free(tr->rss_kib);
	free(tr->actual_kib);
	memset(tr, 0, sizeof(*tr));
}

static int
trace_init(struct trace *tr, size_t cap)
{
	memset(tr, 0, sizeof(*tr));
	tr->cap = cap;
	tr->t_s = calloc(cap, sizeof(double));
	tr->avail_kib = calloc(cap, sizeof(double));
	tr->sharing_pages = calloc(cap, sizeof(double));
	tr->ksmd_ms = calloc(cap, sizeof(double));
	tr->taken_kib = calloc(cap, sizeof(double));
	tr->rss_kib = calloc(cap * SIM_REPLAY_GUESTS, sizeof(double));
	tr->actual_kib = calloc(cap * SIM_REPLAY_GUESTS, sizeof(double));
	tr->first_oom_s = -1;
	if (tr->t_s == NULL || tr->avail_kib == NULL ||
	    tr->sharing_pages == NULL || tr->ksmd_ms == NULL ||
	    tr->taken_kib == NULL || tr->rss_kib == NULL ||
	    tr->actual_kib == NULL) {
		trace_free(tr);
		return -ENOMEM;
	}
	return 0;
}

static void
observe(const struct sim_host *h, void *ctx)
{
	struct trace *tr = ctx;
	double taken = 0;

	if (tr->n == tr->cap)
		return;
	tr->oom_kills = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct sim_guest *g = &h->g[i];

		taken += (double)g->max_kib - g->m.actual_kib;
		if (i < SIM_REPLAY_GUESTS) {
			tr->rss_kib[tr->n * SIM_REPLAY_GUESTS + i] =
			    g->resident_kib + (double)h->w->qemu_overhead_kib;
			tr->actual_kib[tr->n * SIM_REPLAY_GUESTS + i] =
			    g->m.actual_kib;
		}
		tr->oom_kills += g->oom_kills;
		if (g->oom_kills > 0 && (tr->first_oom_s < 0 ||
		    g->last_oom_s < tr->first_oom_s)) {
			tr->first_oom_s = g->last_oom_s;
			tr->first_oom_vm = i + 1;
		}
	}
	tr->t_s[tr->n] = (double)h->now_s;
	tr->avail_kib[tr->n] = h->avail_kib;
	tr->sharing_pages[tr->n] = h->ksm_saved_kib / 4;
	tr->ksmd_ms[tr->n] = h->ksm_cpu_ms;
	tr->taken_kib[tr->n] = taken;
	tr->n++;
}

/* the model's run of a controller from a host base */
static int
model_run(const struct sim_workload *w, enum sim_policy pol,
    const struct policy_config *pc, struct trace *tr)
{
	struct sim_result r;
	size_t ticks = (size_t)(w->duration_s / w->dt_s) + 1;
	int rc;

	if ((rc = trace_init(tr, ticks)) < 0)
		return rc;
	if ((rc = sim_run_observed(w, pol, w->vms_max, pc, &r, NULL, observe,
	    tr)) < 0) {
		trace_free(tr);
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------- comparison */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the median of v[i] over the i whose t[i] is within POINT_WINDOW_S of
 * at, or of the nearest one when none is; the last point is the end */
static double
point(const double *t, const double *v, size_t n, double at)
{
	double buf[64];
	size_t k = 0, best = 0;

	if (at >= t[n - 1])
		at = t[n - 1] - POINT_WINDOW_S;
	for (size_t i = 0; i < n; i++) {
		if (fabs(t[i] - at) < fabs(t[best] - at))
			best = i;
		if (fabs(t[i] - at) <= POINT_WINDOW_S && k < ARRAY_SIZE(buf))
			buf[k++] = v[i];
	}
	if (k == 0)
		return v[best];
	qsort(buf, k, sizeof(buf[0]), cmp_double);
	return k % 2 ? buf[k / 2] : (buf[k / 2 - 1] + buf[k / 2]) / 2;
}

static double
vmin(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		m = MIN(m, v[i]);
	return m;
}

static double
vmax(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		m = MAX(m, v[i]);
	return m;
}

static double
err_pct(double model, double real)
{
	return real != 0 ? 100.0 * (model - real) / real : 0;
}

/* One real run as columns. */
struct real {
	char name[SIM_NAME_MAX];
	struct sim_sample *s;
	size_t n;
	double *t, *avail, *sharing, *taken, *drift, *explained;
	int64_t ooms;			/* -1: no .end file */
	enum sim_policy pol;
	bool noadvisor;
};

static void
real_free(struct real *r)
{
	free(r->s);
	free(r->t);
	free(r->avail);
	free(r->sharing);
	free(r->taken);
	free(r->drift);
	free(r->explained);
	memset(r, 0, sizeof(*r));
}

/* The columns, and the host's own drift: MemAvailable less what the
 * guests' measured RSS and KSM's merges explain since t=0. The model has
 * no part of the host but its guests and a constant base, so this is the
 * error a perfect guest model would still show. */
static int
real_columns(struct real *r, int64_t max_kib)
{
	double rss0 = 0;

	r->t = calloc(r->n, sizeof(double));
	r->avail = calloc(r->n, sizeof(double));
	r->sharing = calloc(r->n, sizeof(double));
	r->taken = calloc(r->n, sizeof(double));
	r->drift = calloc(r->n, sizeof(double));
	r->explained = calloc(r->n, sizeof(double));
	if (r->t == NULL || r->avail == NULL || r->sharing == NULL ||
	    r->taken == NULL || r->drift == NULL || r->explained == NULL)
		return -ENOMEM;
	for (int g = 0; g < r->s[0].nr_guests; g++)
		rss0 += r->s[0].rss_kib[g];
	for (size_t i = 0; i < r->n; i++) {
		const struct sim_sample *s = &r->s[i];
		double rss = 0, taken = 0;

		for (int g = 0; g < s->nr_guests; g++) {
			rss += s->rss_kib[g];
			taken += (double)max_kib - s->actual_kib[g];
		}
		r->t[i] = s->t_s;
		r->avail[i] = s->avail_kib;
		r->sharing[i] = s->sharing_pages;
		r->taken[i] = taken;
		r->explained[i] = r->s[0].avail_kib + rss0 - rss +
		    4 * (s->sharing_pages - r->s[0].sharing_pages);
		r->drift[i] = s->avail_kib - r->explained[i];
	}
	return 0;
}

static int
real_load(const char *dir, const char *name, struct real *r, char *err,
    size_t errlen)
{
	char path[512], *text = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	mt_strlcpy(r->name, name, sizeof(r->name));
	r->ooms = -1;
	if (snprintf(path, sizeof(path), "%s/%s.samples", dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((rc = read_text(path, &text, err, errlen)) < 0)
		return rc;
	rc = sim_samples_parse(text, path, &r->s, &r->n, err, errlen);
	free(text);
	if (rc < 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s.end", dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (read_text(path, &text, err, errlen) == 0) {
		long long k;

		if (sscanf(text, "%lld", &k) != 1 || k < 0) {
			snprintf(err, errlen, "%.64s.end: want the OOM kill count "
			    "first", name);
			free(text);
			return -EINVAL;
		}
		r->ooms = k;
		free(text);
	}
	return 0;
}

static int
name_rank(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(run_names); i++)
		if (strcmp(name, run_names[i].name) == 0)
			return (int)i;
	return -1;
}

static int
by_rank(const void *a, const void *b)
{
	return name_rank(*(const char *const *)a) -
	    name_rank(*(const char *const *)b);
}

/* the runs in dir that name a controller the model has */
static int
list_runs(const char *dir, char names[][SIM_NAME_MAX], size_t *n)
{
	const char *ptr[MAX_RUNS];
	char tmp[MAX_RUNS][SIM_NAME_MAX];
	struct dirent *de;
	DIR *d;

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "memtuned-sim: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		const char *suf = ".samples";

		if (l <= strlen(suf) || strcmp(de->d_name + l - strlen(suf),
		    suf) != 0 || l - strlen(suf) >= SIM_NAME_MAX)
			continue;
		memcpy(tmp[*n], de->d_name, l - strlen(suf));
		tmp[*n][l - strlen(suf)] = '\0';
		if (name_rank(tmp[*n]) < 0) {
			fprintf(stderr, "memtuned-sim: %s/%s: no controller of "
			    "that name in the model, skipped\n", dir, de->d_name);
			continue;
		}
		if (++*n == MAX_RUNS)
			break;
	}
	closedir(d);
	for (size_t i = 0; i < *n; i++)
		ptr[i] = tmp[i];
	qsort(ptr, *n, sizeof(ptr[0]), by_rank);
	for (size_t i = 0; i < *n; i++)
		mt_strlcpy(names[i], ptr[i], SIM_NAME_MAX);
	return 0;
}

/* MemAvailable of the model at t=0, before any controller acts */
static int
model_avail0(const struct sim_workload *w, const struct policy_config *pc,
    double *avail)
{
	struct sim_workload w0 = *w;
	struct trace tr;
	int rc;

	w0.duration_s = w0.dt_s;
	if ((rc = model_run(&w0, SIM_STATIC, pc, &tr)) < 0)
		return rc;
	*avail = tr.avail_kib[0];
	trace_free(&tr);
	return 0;
}

static void
print_points_header(void)
{
	printf("| run |");
	for (size_t k = 0; k < NR_POINTS; k++)
		printf(" %.0f s |", points_s[k]);
	printf(" min | within ±%.0f %% |\n|---|", AGREE_PCT);
	for (size_t k = 0; k <= NR_POINTS + 1; k++)
		printf("---:|");
	printf("\n");
}

static void
write_trace(const char *outdir, const char *wl, const char *name,
    const struct trace *tr, size_t nr_guests)
{
	char path[512];
	FILE *f;

	if (outdir == NULL || snprintf(path, sizeof(path), "%s/%s-%s.model",
	    outdir, wl, name) >= (int)sizeof(path))
		return;
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "memtuned-sim: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "# t_s avail_kib pages_sharing ksmd_ms balloon_taken_kib, "
	    "then per guest balloon_kib rss_kib (model, %s)\n", name);
	for (size_t i = 0; i < tr->n; i++) {
		fprintf(f, "%.0f %.0f %.0f %.0f %.0f", tr->t_s[i],
		    tr->avail_kib[i], tr->sharing_pages[i], tr->ksmd_ms[i],
		    tr->taken_kib[i]);
		for (size_t g = 0; g < nr_guests && g < SIM_REPLAY_GUESTS; g++)
			fprintf(f, " %.0f %.0f",
			    tr->actual_kib[i * SIM_REPLAY_GUESTS + g],
			    tr->rss_kib[i * SIM_REPLAY_GUESTS + g]);
		fprintf(f, "\n");
	}
	fclose(f);
}

/* the model's run of one real run, from the same MemAvailable at t=0 */
static int
replay_one(const struct sim_workload *w, const struct policy_config *pc,
    double avail0, struct real *r, struct trace *tr)
{
	struct sim_workload wr = *w;
	struct policy_config prc = *pc;

	wr.host_base_kib = w->host_base_kib + (int64_t)(avail0 -
	    r->s[0].avail_kib);
	if (r->noadvisor)
		prc.ksm_use_advisor = false;
	return model_run(&wr, r->pol, &prc, tr);
}

/* the run's MemAvailable, or what its guests explain of it, against the
 * model's */
static void
print_avail_row(const struct real *r, const double *real,
    const struct trace *tr, int *ok, int *all)
{
	int within = 0;
	double rm = vmin(real, r->n), mm = vmin(tr->avail_kib, tr->n);

	printf("| %s |", r->name);
	for (size_t k = 0; k < NR_POINTS; k++) {
		double a = point(r->t, real, r->n, points_s[k]);
		double m = point(tr->t_s, tr->avail_kib, tr->n, points_s[k]);
		double e = err_pct(m, a);

		within += fabs(e) <= AGREE_PCT;
		printf(" %.0f / %.0f (%+.0f %%) |", MIB_DBL(a), MIB_DBL(m), e);
	}
	within += fabs(err_pct(mm, rm)) <= AGREE_PCT;
	printf(" %.0f / %.0f (%+.0f %%) | %d of %zu |\n", MIB_DBL(rm),
	    MIB_DBL(mm),
	    err_pct(mm, rm), within, NR_POINTS + 1);
	*ok += within;
	*all += (int)NR_POINTS + 1;
}

static void
print_other_row(const struct real *r, const struct trace *tr)
{
	double rk = r->s[r->n - 1].ksmd_ms, mk = tr->ksmd_ms[tr->n - 1];

	printf("| %s | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | "
	    "%.0f / %.0f | %.0f / %.0f | %.1f / %.1f | ", r->name,
	    vmax(r->sharing, r->n), vmax(tr->sharing_pages, tr->n),
	    point(r->t, r->sharing, r->n, 60),
	    point(tr->t_s, tr->sharing_pages, tr->n, 60),
	    point(r->t, r->sharing, r->n, 180),
	    point(tr->t_s, tr->sharing_pages, tr->n, 180),
	    MIB_DBL(vmax(r->taken, r->n)), MIB_DBL(vmax(tr->taken_kib, tr->n)),
	    MIB_DBL(r->taken[r->n - 1]), MIB_DBL(tr->taken_kib[tr->n - 1]),
	    rk / 1000, mk / 1000);
	if (r->ooms >= 0)
		printf("%lld", (long long)r->ooms);
	else
		printf("?");
	printf(" / %lld", (long long)tr->oom_kills);
	if (tr->oom_kills > 0)
		printf(" (guest %zu at %llds)", tr->first_oom_vm,
		    (long long)tr->first_oom_s);
	printf(" |\n");
}

static void
print_drift_row(const struct real *r)
{
	printf("| %s |", r->name);
	for (size_t k = 0; k < NR_POINTS; k++)
		printf(" %+.0f |", MIB_DBL(point(r->t, r->drift, r->n,
		    points_s[k])));
	printf(" %+.0f .. %+.0f |\n", MIB_DBL(vmin(r->drift, r->n)),
	    MIB_DBL(vmax(r->drift, r->n)));
}

static void
print_model_row(const char *name, const struct trace *tr)
{
	printf("| %s |", name);
	for (size_t k = 0; k < NR_POINTS; k++)
		printf(" %.0f |", MIB_DBL(point(tr->t_s, tr->avail_kib, tr->n,
		    points_s[k])));
	printf(" %.0f | %.0f | %.0f | %.1f | %lld |\n",
	    MIB_DBL(vmin(tr->avail_kib, tr->n)), vmax(tr->sharing_pages, tr->n),
	    MIB_DBL(vmax(tr->taken_kib, tr->n)), tr->ksmd_ms[tr->n - 1] / 1000,
	    (long long)tr->oom_kills);
}

/* Each real run of dir loaded into runs and replayed by its controller
 * in the model into tr (its trace written to outdir); *real_avail0 the
 * runs' mean MemAvailable at t=0. 0 or -errno, said; what was loaded is
 * the caller's to free either way. */
static int
replay_runs(const struct sim_workload *w, const char *dir,
    const char *outdir, const struct policy_config *pc, double avail0,
    char (*names)[SIM_NAME_MAX], size_t nr, struct real *runs,
    struct trace *tr, double *real_avail0)
{
	char err[512];
	int rc;

	for (size_t i = 0; i < nr; i++) {
		int k = name_rank(names[i]);

		if ((rc = real_load(dir, names[i], &runs[i], err,
		    sizeof(err))) < 0) {
			fprintf(stderr, "memtuned-sim: %s\n", err);
			return rc;
		}
		if (runs[i].s[0].nr_guests != w->vms_max) {
			fprintf(stderr, "memtuned-sim: %s/%s.samples: %d guests, "
			    "the workload has %lld\n", dir, names[i],
			    runs[i].s[0].nr_guests, (long long)w->vms_max);
			return -EINVAL;
		}
		runs[i].pol = run_names[k].pol;
		runs[i].noadvisor = run_names[k].noadvisor;
		if ((rc = real_columns(&runs[i], w->classes[0].vm_kib)) < 0 ||
		    (rc = replay_one(w, pc, avail0, &runs[i], &tr[i])) < 0)
			return rc;
		write_trace(outdir, w->name, names[i], &tr[i],
		    (size_t)w->vms_max);
		*real_avail0 += runs[i].s[0].avail_kib / (double)nr;
	}
	return 0;
}

/* The real runs against their replays: MemAvailable, what the guests
 * explain of it, KSM and balloons, and the host's own drift */
static void
print_run_tables(const struct real *runs, const struct trace *tr, size_t nr)
{
	int ok = 0, total = 0;

	printf("Host MemAvailable, MiB, real / model (model's error):"
	    "\n\n");
	print_points_header();
	for (size_t i = 0; i < nr; i++)
		print_avail_row(&runs[i], runs[i].avail, &tr[i], &ok, &total);
	printf("\nWithin ±%.0f %%: %d of %d points.\n\n", AGREE_PCT, ok,
	    total);
	ok = total = 0;
	printf("The same against what the guests explain of it (the "
	    "run's MemAvailable at t=0 plus the QEMU RSS the guests "
	    "gave back and the pages KSM merged since), MiB:\n\n");
	print_points_header();
	for (size_t i = 0; i < nr; i++)
		print_avail_row(&runs[i], runs[i].explained, &tr[i], &ok,
		    &total);
	printf("\nWithin ±%.0f %%: %d of %d points.\n\n", AGREE_PCT, ok,
	    total);
	printf("KSM, balloons and OOM kills, real / model:\n\n");
	printf("| run | pages_sharing max | at 60 s | at 180 s | balloon "
	    "taken max MiB | at end | ksmd CPU s | guest OOM kills |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---|\n");
	for (size_t i = 0; i < nr; i++)
		print_other_row(&runs[i], &tr[i]);
	printf("\nThe host's own drift: real MemAvailable less what the "
	    "guests explain of it, MiB. The model's host is its guests "
	    "and a constant base, so a perfect guest model would still "
	    "be off by this much:\n\n");
	printf("| run |");
	for (size_t k = 0; k < NR_POINTS; k++)
		printf(" %.0f s |", points_s[k]);
	printf(" range |\n|---|");
	for (size_t k = 0; k <= NR_POINTS; k++)
		printf("---:|");
	printf("\n");
	for (size_t i = 0; i < nr; i++)
		print_drift_row(&runs[i]);
	printf("\n");
}

/* Every controller in the model from one start: the runs' mean
 * MemAvailable at t=0 (base_kib is the host base that gives it), or the
 * workload's own. 0 or -errno. */
static int
print_every_controller(const struct sim_workload *w,
    const struct policy_config *pc, double start_kib, int64_t base_kib)
{
	static const enum sim_policy all[] = { SIM_STATIC, SIM_KSMTUNED,
	    SIM_MOM, SIM_PROXMOX, SIM_MEMTUNED_NORESERVE };
	int rc;

	printf("Every controller in the model from the same start (MemAvailable "
	    "%.0f MiB at t=0), MiB:\n\n", MIB_DBL(start_kib));
	printf("| controller |");
	for (size_t k = 0; k < NR_POINTS; k++)
		printf(" %.0f s |", points_s[k]);
	printf(" min | pages_sharing max | balloon taken max MiB | ksmd CPU s "
	    "| guest OOM kills |\n|---|");
	for (size_t k = 0; k < NR_POINTS + 5; k++)
		printf("---:|");
	printf("\n");
	for (size_t k = 0; k < ARRAY_SIZE(all); k++) {
		struct sim_workload wr = *w;
		struct trace t;

		wr.host_base_kib = base_kib;
		if ((rc = model_run(&wr, all[k], pc, &t)) < 0)
			return rc;
		print_model_row(all[k] == SIM_MEMTUNED_NORESERVE ? "memtuned" :
		    sim_policy_name(all[k]), &t);
		trace_free(&t);
	}
	printf("\n");
	return 0;
}

int
sim_replay(const char *workload, const char *dir, const char *outdir,
    const struct policy_config *pc)
{
	char names[MAX_RUNS][SIM_NAME_MAX], err[512];
	struct real runs[MAX_RUNS];
	struct trace tr[MAX_RUNS];
	struct sim_workload w;
	size_t nr = 0;
	double avail0, real_avail0 = 0;
	int64_t base_kib;
	int rc;

	memset(runs, 0, sizeof(runs));
	memset(tr, 0, sizeof(tr));
	if ((rc = sim_workload_load(workload, &w, err, sizeof(err))) < 0) {
		fprintf(stderr, "memtuned-sim: %s\n", err);
		return rc;
	}
	if (w.vms_min != w.vms_max || w.nr_classes != 1) {
		fprintf(stderr, "memtuned-sim: %s: a replay wants one class and "
		    "one VM count (vms N N)\n", workload);
		return -EINVAL;
	}
	if ((rc = list_runs(dir, names, &nr)) < 0)
		return rc;
	if ((rc = model_avail0(&w, pc, &avail0)) < 0)
		return rc;
	if ((rc = replay_runs(&w, dir, outdir, pc, avail0, names, nr, runs,
	    tr, &real_avail0)) < 0)
		goto out;
	printf("#### %s: the model against %zu real run%s\n\n", w.name, nr,
	    nr == 1 ? "" : "s");
	printf("%lld guests of %.0f MiB on a %.1f GiB host, %lld s in %lld s "
	    "steps (%s). Each run is replayed by the same controller in the "
	    "model from the run's own MemAvailable at t=0; a point is the "
	    "median within %.0f s.\n\n", (long long)w.vms_max,
	    MIB_DBL((double)w.classes[0].vm_kib),
	    MIB_DBL(MIB_DBL((double)w.host_kib)),
	    (long long)w.duration_s, (long long)w.dt_s, workload,
	    POINT_WINDOW_S);
	if (nr > 0)
		print_run_tables(runs, tr, nr);
	/* every controller, from the runs' mean start (or the workload's) */
	base_kib = nr > 0 ? w.host_base_kib + (int64_t)(avail0 - real_avail0) :
	    w.host_base_kib;
	rc = print_every_controller(&w, pc, nr > 0 ? real_avail0 : avail0,
	    base_kib);
out:
	for (size_t i = 0; i < nr; i++) {
		real_free(&runs[i]);
		trace_free(&tr[i]);
	}
	return rc;
}
