/* test_policy_stable.c - an hour of simulated ticks over a steady
 * workload: the host starts short of memory, the policy reclaims, and
 * then it must settle: the host out of tight/critical and each guest
 * changed at most once a minute.
 *
 * The model: each guest uses a fixed amount and keeps a page cache; half
 * of its free memory has been touched and is resident on the host, so a
 * balloon gives back half of what it takes (ballooning untouched memory
 * frees nothing). Balloons reach their target before the next tick. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_fixture.h"

Suite *policy_stable_suite(void);

#define NGUESTS 8
#define HOUR_MS (3600LL * 1000)
#define SETTLE_MS (15LL * 60 * 1000)

struct sim {
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[NGUESTS];
	int64_t used_kib[NGUESTS];
	int64_t cache_kib[NGUESTS];
	int64_t host_base_kib;
};

static uint64_t jitter_state = 88172645463325252ULL;

/* a steady workload still wobbles: +-16 MiB of use per tick */
static int64_t
jitter_kib(void)
{
	jitter_state ^= jitter_state << 13;
	jitter_state ^= jitter_state >> 7;
	jitter_state ^= jitter_state << 17;
	return (int64_t)(jitter_state % (32 * 1024 + 1)) - 16 * 1024;
}

static void
sim_observe(struct sim *m)
{
	int64_t resident = m->host_base_kib + jitter_kib();

	for (int i = 0; i < NGUESTS; i++) {
		struct guest_snapshot *g = &m->g[i];
		int64_t act = g->actual_kib;
		int64_t cache = MIN(m->cache_kib[i], MAX(0, act -
		    m->used_kib[i]));
		int64_t free_kib = MAX(0, act - m->used_kib[i] - cache);
		int64_t res = MIN(act, m->used_kib[i] + cache + free_kib / 2);

		g->available_kib = act;
		g->usable_kib = MAX(0, act - m->used_kib[i] - jitter_kib());
		g->unused_kib = free_kib;
		g->disk_caches_kib = cache;
		g->rss_kib = res + MIB_KIB(200);
		resident += g->rss_kib;
	}
	m->snap.host.mem.mem_avail_kib = MAX(0,
	    m->snap.host.mem.mem_total_kib - resident);
}

static void
run_hour(int64_t total_mib, int64_t start_mib, bool starts_short)
{
	static const int64_t used_mib[NGUESTS] = {
		700, 1200, 1800, 2400, 900, 1500, 3000, 600,
	};
	struct sim *m = calloc(1, sizeof(*m));
	int64_t last_change[NGUESTS], now = 0, changes_after = 0;
	int64_t changes_before = 0, ticks = 0;

	ck_assert_ptr_nonnull(m);
	fx_config(&m->c);
	ck_assert_int_eq(policy_state_init(&m->s, NGUESTS), 0);
	ck_assert_int_eq(policy_plan_init(&m->p, NGUESTS), 0);
	fx_host(&m->snap.host, total_mib, 0);
	m->host_base_kib = MIB_KIB(2048);
	m->snap.guests = m->g;
	m->snap.nr_guests = NGUESTS;
	for (int i = 0; i < NGUESTS; i++) {
		fx_guest(&m->g[i], i, 4096, start_mib, 1024);
		m->used_kib[i] = MIB_KIB(used_mib[i]);
		m->cache_kib[i] = MIB_KIB(400);
		last_change[i] = MT_ABSENT;
	}
	sim_observe(m);
	while (now < HOUR_MS) {
		ck_assert_int_eq(policy_decide(&m->c, &m->snap, &m->s, now,
		    &m->p), 0);
		ck_assert_int_eq(fx_commit_guests(&m->s, &m->p, now), 0);
		if (now == 0 && starts_short)
			ck_assert_int_ge(m->p.pressure, PRESSURE_TIGHT);
		if (now == 0 && !starts_short)
			ck_assert_int_eq(m->p.pressure, PRESSURE_PLENTY);
		for (int i = 0; i < NGUESTS; i++) {
			const struct guest_plan *gp = &m->p.guests[i];

			if (gp->action != ACT_BALLOON &&
			    gp->action != ACT_BOTH)
				continue;
			if (now >= SETTLE_MS) {
				changes_after++;
				if (MT_PRESENT(last_change[i]))
					ck_assert_msg(now - last_change[i] >=
					    60000, "guest %d changed twice "
					    "within %lld ms at %lld s: %s", i,
					    (long long)(now - last_change[i]),
					    (long long)now / 1000, gp->reason);
			} else {
				changes_before++;
			}
			last_change[i] = now;
			m->g[i].actual_kib = gp->target_kib;
			if (MT_PRESENT(gp->soft_limit_kib))
				m->g[i].soft_limit_kib = gp->soft_limit_kib;
		}
		sim_observe(m);
		now += m->p.next_interval_ms;
		ticks++;
	}
	fprintf(stderr, "policy_stable: %lld ticks, %lld changes while "
	    "settling, %lld after, host %s, MemAvailable %lld MiB\n",
	    (long long)ticks, (long long)changes_before,
	    (long long)changes_after, policy_pressure_name(m->p.pressure),
	    (long long)m->snap.host.mem.mem_avail_kib / 1024);
	ck_assert_int_gt(changes_before, 0);
	ck_assert_int_le(m->p.pressure, PRESSURE_NORMAL);
	if (!starts_short)
		for (int i = 0; i < NGUESTS; i++)
			ck_assert_int_ge(m->g[i].actual_kib, MIB_KIB(4096) -
			    m->c.min_change_kib);
	policy_state_free(&m->s);
	policy_plan_free(&m->p);
	free(m);
}

START_TEST(test_steady_workload_converges)
{
	/* eight 4 GiB guests on 28 GiB: the host starts tight, reclaims */
	run_hour(28672, 4096, true);
}
END_TEST

START_TEST(test_guests_grow_back_then_rest)
{
	/* the same guests shrunk to 2 GiB on a 64 GiB host: they grow back
	 * to their ceiling and then nothing moves */
	run_hour(65536, 2048, false);
}
END_TEST

Suite *
policy_stable_suite(void)
{
	Suite *s = suite_create("policy_stable");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_steady_workload_converges);
	tcase_add_test(tc, test_guests_grow_back_then_rest);
	suite_add_tcase(s, tc);
	return s;
}
