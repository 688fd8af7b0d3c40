/* bench_policy.c - time policy_decide and policy_commit for 10, 100,
 * 1,000 and 10,000 guests on one core. The host is kept tight so every tick runs the full
 * reclaim (water-fill over all guests), which is the slow path.
 *
 * Build by hand after `make`:
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE $(printf -- '-I%s ' src/*/) -o build/bench_policy \
 *       tests/bench/bench_policy.c build/libmemtuned.a \
 *       $(pkg-config --libs libvirt libnl-3.0 libnl-genl-3.0 libcgroup \
 *       inih libxml-2.0 json-c) -lm
 *   build/bench_policy
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "snapshot.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static int64_t
rnd(int64_t lo, int64_t hi)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return lo + (int64_t)(rng % (uint64_t)(hi - lo + 1));
}

/* CPU time of this thread: on a shared two-core machine the wall clock
 * also counts the time other processes held the core */
static int64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
bench(size_t n, int rounds)
{
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct policy_results res;
	struct guest_snapshot *g = calloc(n, sizeof(*g));
	int64_t *start = calloc(n, sizeof(*start));
	int64_t total = 0, worst = 0, wall = 0, sim_ms = 0;

	if (g == NULL || start == NULL)
		return -1;
	policy_config_defaults(&c);
	if (policy_state_init(&s, n) < 0 || policy_plan_init(&p, n) < 0 ||
	    policy_results_init(&res, n) < 0)
		return -1;
	host_snapshot_init(&snap.host);
	snap.host.mem.mem_total_kib = MIB_KIB(4096) * (int64_t)n +
	    MIB_KIB(65536);
	snap.host.psi.present = false;
	for (size_t i = 0; i < n; i++) {
		int64_t max = rnd(1024, 16384), act = rnd(max / 2, max);

		guest_snapshot_init(&g[i]);
		snprintf(g[i].name, sizeof(g[i].name), "vm%zu", i);
		snprintf(g[i].uuid, sizeof(g[i].uuid),
		    "00000000-0000-4000-8000-%012u", (unsigned)i % 1000000);
		g[i].id = (int)i + 1;
		g[i].state = 1;
		g[i].max_kib = MIB_KIB(max);
		g[i].actual_kib = MIB_KIB(act);
		start[i] = g[i].actual_kib;
		g[i].available_kib = MIB_KIB(act);
		g[i].usable_kib = MIB_KIB(rnd(0, act));
		g[i].disk_caches_kib = MIB_KIB(rnd(0, 512));
		g[i].rss_kib = MIB_KIB(act / 2);
		g[i].major_fault_per_s = rnd(0, 300);
		g[i].swap_in_kib_per_s = 0;
		g[i].stats = GUEST_STATS_OK;
		g[i].cgroup_version = 1 + (int)(i % 2);
		g[i].backing.has_balloon = true;
		if (i % 7 == 0)
			g[i].input.shares = rnd(500, 2000);
	}
	snap.guests = g;
	snap.nr_guests = n;
	for (int r = 0; r < rounds + 3; r++) {
		int64_t t0, w0, dt, wdt;

		/* tight every tick: a shortfall of 1 GiB per 100 guests;
		 * balloons follow their targets, and every tenth round the
		 * guests are back at their start so there is always idle
		 * memory to find */
		for (size_t i = 0; i < n; i++)
			g[i].actual_kib = r % 10 == 0 ? start[i] :
			    p.guests[i].target_kib;
		snap.host.mem.mem_avail_kib = MIB_KIB(200);
		c.reserve_kib = MIB_KIB(1024) +
		    MIB_KIB(1024) * (int64_t)(n / 100);
		w0 = now_ns(CLOCK_MONOTONIC);
		t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		/* every change carried out, as the simulator's model does */
		if (policy_decide(&c, &snap, &s, sim_ms, &p) < 0 ||
		    policy_results_all_applied(&res, &p) < 0)
			return -1;
		policy_commit(&s, &p, &res, sim_ms);
		dt = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		wdt = now_ns(CLOCK_MONOTONIC) - w0;
		sim_ms += 61000;	/* past every cooldown */
		if (r < 3)
			continue;	/* warm-up */
		total += dt;
		wall += wdt;
		worst = dt > worst ? dt : worst;
	}
	printf("%6zu guests: cpu mean %7.3f ms  worst %7.3f ms  wall mean "
	    "%7.3f ms  (%d rounds)\n", n, (double)total / rounds / 1e6,
	    (double)worst / 1e6, (double)wall / rounds / 1e6, rounds);
	policy_state_free(&s);
	policy_plan_free(&p);
	policy_results_free(&res);
	free(g);
	free(start);
	return 0;
}

int
main(void)
{
	static const size_t sizes[] = { 10, 100, 1000, 10000 };
	static const int rounds[] = { 2000, 1000, 200, 50 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (bench(sizes[i], rounds[i]) < 0) {
			fprintf(stderr, "bench_policy: setup failed\n");
			return 1;
		}
	return 0;
}
