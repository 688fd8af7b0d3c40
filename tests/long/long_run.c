/* long_run.c - 10,000 engine ticks on fakes: host_collect on a copied
 * fixture root whose meminfo and vmstat change every tick, guests_collect
 * on a libvirt test driver with 50 domains, policy_decide, act_apply_plan
 * through a recording actuator that forwards balloon targets to the test
 * driver, and policy_commit. Every LONG_FAIL_EVERY-th tick the actuator's
 * libvirt calls fail. Checks every tick that no call left the plan's
 * bounds, that the target the policy remembers for each guest is the last
 * one applied (never one that failed), and that the resident set stays
 * flat after warm-up.
 *
 *   long_run [TICKS [GUESTS]]	run from the top of the source tree
 *
 * Prints one line per 1000 ticks and a summary; exits 1 on any bound
 * violation, remembered target not applied, unexpected failure, failed
 * tick, or RSS growth past LONG_RSS_SLACK_KIB. */
#include <signal.h>

#include "../long/engine_fixture.h"

/* After warm-up the loop allocates nothing per tick; allow a little for
 * libc arenas and libvirt's test driver settling. */
#define LONG_RSS_SLACK_KIB 1024
#define LONG_WARMUP_TICKS 1000
/* a prime, so the failing ticks meet every phase of the load */
#define LONG_FAIL_EVERY 97

/* The balloon target last applied to each guest, from the calls that
 * went through (rc 0). */
struct applied {
	char uuid[MT_UUID_LEN];
	int64_t target_kib;
};

static struct applied *
applied_slot(struct applied *a, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].uuid[0] == '\0' || strcmp(a[i].uuid, uuid) == 0) {
			if (a[i].uuid[0] == '\0') {
				mt_strlcpy(a[i].uuid, uuid, MT_UUID_LEN);
				a[i].target_kib = MT_ABSENT;
			}
			return &a[i];
		}
	return NULL;
}

/* Note this tick's applied balloon calls, then check that the policy
 * remembers, for every guest of the plan, nothing or the last target
 * applied. Returns the number of guests where it does not. */
static int
check_remembered(const struct engine *e, const struct act_fake *rec,
    struct applied *a, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < rec->nr_calls; i++) {
		const struct act_call *c = &rec->calls[i];
		struct applied *s;

		if (c->kind == ACT_CALL_BALLOON && c->rc == 0 &&
		    (s = applied_slot(a, n, c->uuid)) != NULL)
			s->target_kib = c->target_kib;
	}
	for (size_t i = 0; i < e->plan.nr_guests; i++) {
		const struct policy_guest_hist *h;
		const struct applied *s;
		size_t hi = e->ps.work[i].hist;

		if (hi >= e->ps.hist_cap ||
		    strcmp(e->ps.hist[hi].uuid, e->plan.guests[i].uuid) != 0)
			continue;
		h = &e->ps.hist[hi];
		s = applied_slot(a, n, h->uuid);
		if (MT_PRESENT(h->last_target_kib) && (s == NULL ||
		    h->last_target_kib != s->target_kib)) {
			fprintf(stderr, "%s: remembered %lld KiB, last applied "
			    "%lld KiB\n", h->uuid, (long long)h->last_target_kib,
			    s != NULL ? (long long)s->target_kib : -1LL);
			bad++;
		}
	}
	return bad;
}

/* ASan holds freed blocks in a quarantine (256 MiB by default) before it
 * reuses them, so under ASan the resident set climbs until the quarantine
 * is full whatever the program does: there the run checks memory errors
 * and leaks (at exit), and the plain and valgrind runs check the RSS. */
#if defined(__SANITIZE_ADDRESS__)
#define LONG_RSS_CHECK 0
#else
#define LONG_RSS_CHECK 1
#endif

static int64_t
rss_kib(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A day of load in a few hundred ticks: MemAvailable swings from 15% of
 * MemTotal (plenty) down to 0.3% (critical) and back, with a sharp dip
 * every 2000 ticks. */
static int64_t
avail_for_tick(int t, int64_t total_kib)
{
	int phase = t % 400;
	int64_t pmil = phase < 200 ? 150 - phase * 147 / 200 :
	    150 - (400 - phase) * 147 / 200;

	if (t % 2000 >= 1000 && t % 2000 < 1010)
		pmil = 8;
	return total_kib * pmil / 1000;
}

int
main(int argc, char **argv)
{
	int ticks = argc > 1 ? atoi(argv[1]) : 10000;
	int nguests = argc > 2 ? atoi(argv[2]) : 50;
	const int64_t total_kib = 64LL * 1024 * 1024;
	char root[PATH_MAX], xml[PATH_MAX + 16], vm[256];
	struct engine e;
	struct ef_act a;
	int64_t now = 1000000, rss_warm = -1, rss_max = 0, rss_end;
	long long calls = 0, balloons = 0, failed_acts = 0, bad = 0;
	long long tick_errors = 0, pressure[4] = { 0 };
	long long injected = 0, not_applied = 0;
	struct applied *applied = NULL;
	int rc = 0;

	if (ticks <= 0 || nguests <= 0) {
		fprintf(stderr, "usage: long_run [TICKS [GUESTS]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("long_run", LOG_TO_STDERR, 0);
	log_set_level(LOG_ERR);
	if (ef_copy_fixture(EF_FIXTURE, root, sizeof(root)) < 0) {
		fprintf(stderr, "cannot copy %s (run from the source tree)\n",
		    EF_FIXTURE);
		return 2;
	}
	snprintf(xml, sizeof(xml), "%s/node.xml", root);
	if (ef_node_xml(xml, nguests) < 0 || ef_meminfo(root, total_kib,
	    total_kib / 2) < 0) {
		fprintf(stderr, "cannot write the fixture files\n");
		rc = 2;
		goto out_root;
	}
	mt_set_root(root);
	if ((applied = calloc((size_t)nguests, sizeof(*applied))) == NULL) {
		rc = 2;
		goto out_root;
	}
	if (ef_engine_init(&e, &a, xml, NULL) < 0) {
		fprintf(stderr, "engine set-up failed: %s\n", e.last_error);
		rc = 2;
		goto out_root;
	}
	for (int t = 0; t < ticks; t++) {
		bool fail = t % LONG_FAIL_EVERY == LONG_FAIL_EVERY - 1;
		int r;

		now += 5000;
		ef_meminfo(root, total_kib, avail_for_tick(t, total_kib));
		snprintf(vm, sizeof(vm), "pgmajfault %d\npswpin 0\npswpout 0\n"
		    "workingset_refault_anon %d\nworkingset_refault_file %d\n",
		    t * 3, t, t * 2);
		ef_put(root, "proc/vmstat", vm);
		act_fake_clear(&a.rec);
		a.rec.rc_balloon = a.rec.rc_memtune = fail ? -EIO : 0;
		if ((r = engine_collect(&e, now)) == 0) {
			ef_guest_load(&e, t);
			if ((r = engine_decide(&e, now, 0)) == 0)
				r = engine_act(&e, false);
		}
		if (r < 0) {
			tick_errors++;
			if (tick_errors <= 5)
				fprintf(stderr, "tick %d: %s (%s)\n", t,
				    strerror(-r), e.last_error);
			continue;
		}
		pressure[e.plan.pressure]++;
		bad += ef_calls_outside_bounds(&a.rec, &e.plan);
		calls += (long long)a.rec.nr_calls;
		for (size_t i = 0; i < a.rec.nr_calls; i++)
			balloons += a.rec.calls[i].kind == ACT_CALL_BALLOON;
		if (fail)
			injected += e.last_act.failed;
		else
			failed_acts += e.last_act.failed;
		not_applied += check_remembered(&e, &a.rec, applied,
		    (size_t)nguests);
		if (t == LONG_WARMUP_TICKS)
			rss_warm = rss_kib();
		if (t > LONG_WARMUP_TICKS && rss_kib() > rss_max)
			rss_max = rss_kib();
		if ((t + 1) % 1000 == 0)
			printf("tick %5d: rss %lld KiB, guests %zu, pressure %s, "
			    "calls %lld\n", t + 1, (long long)rss_kib(),
			    e.snap.nr_guests,
			    policy_pressure_name(e.plan.pressure), calls);
	}
	rss_end = rss_kib();
	printf("long_run: %d ticks, %d guests: %lld actuator calls "
	    "(%lld balloon), %lld refused or failed, %lld outside bounds, "
	    "%lld tick errors\n", ticks, nguests, calls, balloons, failed_acts,
	    bad, tick_errors);
	printf("long_run: %lld calls failed on purpose (every %dth tick), "
	    "%lld remembered targets that were not applied\n", injected,
	    LONG_FAIL_EVERY, not_applied);
	printf("long_run: ticks by pressure: plenty %lld, normal %lld, "
	    "tight %lld, critical %lld\n", pressure[0], pressure[1],
	    pressure[2], pressure[3]);
	if (rss_warm > 0)
		printf("long_run: rss after %d ticks %lld KiB, max after %lld "
		    "KiB, at the end %lld KiB (growth %lld KiB)\n",
		    LONG_WARMUP_TICKS, (long long)rss_warm, (long long)rss_max,
		    (long long)rss_end, (long long)(rss_max - rss_warm));
	if (bad > 0 || tick_errors > 0 || failed_acts > 0 || not_applied > 0 ||
	    (ticks >= LONG_FAIL_EVERY && injected == 0))
		rc = 1;
	if (!LONG_RSS_CHECK)
		printf("long_run: built with ASan: RSS not checked\n");
	if (LONG_RSS_CHECK && rss_warm > 0 &&
	    getenv("LONG_NO_RSS_CHECK") == NULL &&
	    rss_max - rss_warm > LONG_RSS_SLACK_KIB) {
		printf("long_run: FAIL resident set grew by %lld KiB after "
		    "warm-up\n", (long long)(rss_max - rss_warm));
		rc = 1;
	}
	act_fake_free(&a.rec);
	engine_free(&e);
out_root:
	free(applied);
	ef_rmtree(root);
	printf("long_run: %s\n", rc == 0 ? "PASS" : "FAIL");
	return rc;
}
