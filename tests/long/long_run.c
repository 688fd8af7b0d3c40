/* long_run.c - 10,000 engine ticks on fakes: host_collect on a copied
 * fixture root whose meminfo and vmstat change every tick, guests_collect
 * on a libvirt test driver with 50 domains, policy_decide, and
 * act_apply_plan through a recording actuator that forwards balloon
 * targets to the test driver. Checks every tick that no call left the
 * plan's bounds, and that the resident set stays flat after warm-up.
 *
 *   long_run [TICKS [GUESTS]]	run from the top of the source tree
 *
 * Prints one line per 1000 ticks and a summary; exits 1 on any bound
 * violation, failed tick, or RSS growth past LONG_RSS_SLACK_KIB. */
#include <signal.h>

#include "../long/engine_fixture.h"

/* After warm-up the loop allocates nothing per tick; allow a little for
 * libc arenas and libvirt's test driver settling. */
#define LONG_RSS_SLACK_KIB 1024
#define LONG_WARMUP_TICKS 1000

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
	if (ef_engine_init(&e, &a, xml, NULL) < 0) {
		fprintf(stderr, "engine set-up failed: %s\n", e.last_error);
		rc = 2;
		goto out_root;
	}
	for (int t = 0; t < ticks; t++) {
		int r;

		now += 5000;
		ef_meminfo(root, total_kib, avail_for_tick(t, total_kib));
		snprintf(vm, sizeof(vm), "pgmajfault %d\npswpin 0\npswpout 0\n"
		    "workingset_refault_anon %d\nworkingset_refault_file %d\n",
		    t * 3, t, t * 2);
		ef_put(root, "proc/vmstat", vm);
		act_fake_clear(&a.rec);
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
		failed_acts += e.last_act.failed;
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
	printf("long_run: ticks by pressure: plenty %lld, normal %lld, "
	    "tight %lld, critical %lld\n", pressure[0], pressure[1],
	    pressure[2], pressure[3]);
	if (rss_warm > 0)
		printf("long_run: rss after %d ticks %lld KiB, max after %lld "
		    "KiB, at the end %lld KiB (growth %lld KiB)\n",
		    LONG_WARMUP_TICKS, (long long)rss_warm, (long long)rss_max,
		    (long long)rss_end, (long long)(rss_max - rss_warm));
	if (bad > 0 || tick_errors > 0 || failed_acts > 0)
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
	ef_rmtree(root);
	printf("long_run: %s\n", rc == 0 ? "PASS" : "FAIL");
	return rc;
}
