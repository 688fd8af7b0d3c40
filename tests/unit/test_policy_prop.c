/* test_policy_prop.c - properties of policy_decide over random snapshots,
 * seeded and repeatable: targets stay in [floor, ceiling]; no hard_limit
 * below RSS plus overhead; no balloon change when the host has plenty and
 * every guest is satisfied; what is taken never exceeds the host's need
 * plus the dead band (plus what guests under pressure are given); an
 * uncooperative guest is never counted as freed memory; no guest turns
 * around within reverse_cooldown outside a critical host.
 *
 * POLICY_PROP_N sets the number of snapshots (default 1000000),
 * POLICY_PROP_SEED the seed; a failure prints both to replay it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_internal.h"	/* reads the per-tick work entries */
#include "policy_fixture.h"

Suite *policy_prop_suite(void);
Suite *policy_rev_suite(void);

#define MAXG 6
#define TICKS 8		/* snapshots per sequence sharing one state */

static uint64_t rng;

static uint64_t
rnd(void)
{
	/* xorshift64*: small, fast and the same on every machine */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static int64_t
rnd_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool
chance(int pct)
{
	return (int)(rnd() % 100) < pct;
}

static void
random_guest(struct guest_snapshot *g, int idx)
{
	int64_t max = rnd_range(256, 32768);
	int64_t actual = rnd_range(max / 10 + 1, max + max / 10);

	fx_guest(g, idx, max, actual, rnd_range(0, actual));
	g->disk_caches_kib = rnd_range(0, g->usable_kib);
	if (chance(10))
		g->stats = GUEST_STATS_STALE;
	else if (chance(10))
		g->stats = GUEST_STATS_NONE;
	if (chance(3))
		g->usable_kib = MT_ABSENT;
	g->backing.hugepages = chance(4);
	g->backing.has_balloon = !chance(4);
	g->input.exclude = chance(4);
	if (chance(20))
		g->input.floor_kib = MIB_KIB(rnd_range(1, max));
	if (chance(20))
		g->input.ceiling_kib = MIB_KIB(rnd_range(1, max));
	if (chance(15))
		g->hard_limit_kib = MIB_KIB(rnd_range(max / 2, max * 2));
	if (chance(50))
		g->input.shares = rnd_range(0, 4000);
	g->major_fault_per_s = chance(20) ? rnd_range(0, 2000) : 0;
	g->swap_in_kib_per_s = chance(10) ? rnd_range(0, 8192) : 0;
	if (chance(10))
		g->rss_kib = MT_ABSENT;
	else
		g->rss_kib = MIB_KIB(rnd_range(1, actual + 600));
	g->cgroup_version = chance(50) ? 2 : 1;
	if (chance(30))
		g->cg_low_kib = MIB_KIB(rnd_range(0, max));
	if (chance(2))
		g->id = -1;
}

static void
random_host(struct host_snapshot *h)
{
	int64_t total = rnd_range(2048, 524288);

	fx_host(h, total, rnd_range(0, total));
	h->psi.some.avg10_pmy = chance(20) ? rnd_range(0, 5000) : 0;
	h->psi.full.avg10_pmy = chance(10) ? rnd_range(0, 2000) : 0;
	h->vm.refault_per_s = chance(10) ? rnd_range(0, 50000) : 0;
	if (chance(5))
		h->psi.present = false;
}

static void
random_config(struct policy_config *c)
{
	policy_config_defaults(c);
	if (chance(50))
		c->reserve_kib = MIB_KIB(rnd_range(64, 8192));
	c->hard_limit_mode = (enum policy_hard_limit_mode)rnd_range(0, 2);
	if (chance(30))
		c->swap_limit_kib = MIB_KIB(rnd_range(0, 4096));
	if (chance(30))
		c->min_change_kib = MIB_KIB(rnd_range(0, 256));
	if (chance(30))
		c->deadband_kib = MIB_KIB(rnd_range(0, 512));
}

/* A guest the policy must not move when the host has plenty: left
 * alone, fixed, without stats and inside its bounds, or fresh stats, at
 * its ceiling, and not under pressure. */
static bool
satisfied(const struct policy_config *c, const struct guest_snapshot *g)
{
	int64_t fl, ce, headroom;
	char err[POLICY_REASON_MAX];

	if (g->input.exclude || g->id < 0)
		return true;
	if (policy_guest_bounds(c, g, false, &fl, &ce, err, sizeof(err)) < 0)
		return true;
	if (g->backing.hugepages || !g->backing.has_balloon)
		return true;
	if (g->stats != GUEST_STATS_OK || !MT_PRESENT(g->usable_kib))
		return g->actual_kib >= fl && g->actual_kib <= ce;
	headroom = MAX(c->headroom_min_kib, g->max_kib / 10000 *
	    c->headroom_pmy);
	headroom = MAX(c->headroom_min_kib, (int64_t)((__int128)g->max_kib *
	    c->headroom_pmy / 10000));
	return g->actual_kib == ce && g->usable_kib >= headroom &&
	    g->major_fault_per_s < c->guest_majfault_per_s &&
	    g->swap_in_kib_per_s < c->guest_swapin_kib_per_s;
}

static bool
managed(const struct guest_plan *gp)
{
	return gp->action != ACT_LEAVE_ALONE && gp->state != GPS_FIXED;
}

static bool
balloons(const struct guest_plan *gp)
{
	return gp->action == ACT_BALLOON || gp->action == ACT_BOTH;
}

#define FAIL_IF(cond, ...) do {						\
	if (cond) {							\
		fprintf(stderr, "seed %llu snapshot %lld guest %zu: ",	\
		    (unsigned long long)seed, (long long)iter, i);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		ck_abort_msg("property failed: " #cond);		\
	}								\
} while (0)

START_TEST(test_properties)
{
	const char *env_n = getenv("POLICY_PROP_N");
	const char *env_seed = getenv("POLICY_PROP_SEED");
	long long n = env_n != NULL ? atoll(env_n) : 1000000;
	uint64_t seed = env_seed != NULL ? strtoull(env_seed, NULL, 10) :
	    20251122;
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[MAXG];
	int64_t prev_target[MAXG], now = 0;
	long long iter = 0, plenty_checked = 0, uncoop_seen = 0;
	size_t i = 0;

	rng = seed * 2 + 1;
	ck_assert_int_eq(policy_plan_init(&p, MAXG), 0);
	while (iter < n) {
		ck_assert_int_eq(policy_state_init(&s, MAXG), 0);
		random_config(&c);
		random_host(&snap.host);
		snap.guests = g;
		snap.nr_guests = (size_t)rnd_range(1, MAXG);
		for (i = 0; i < snap.nr_guests; i++)
			random_guest(&g[i], (int)i);
		/* some sequences are built to be calm: plenty and satisfied */
		if (chance(15)) {
			snap.host.mem.mem_avail_kib = snap.host.mem.mem_total_kib;
			snap.host.mem.mem_total_kib *= 8;
			for (i = 0; i < snap.nr_guests; i++) {
				g[i].actual_kib = g[i].max_kib;
				g[i].input.ceiling_kib = MT_ABSENT;
				g[i].hard_limit_kib = MT_ABSENT;
				g[i].usable_kib = g[i].max_kib / 2;
				g[i].major_fault_per_s = 0;
				g[i].swap_in_kib_per_s = 0;
			}
		}
		for (int t = 0; t < TICKS && iter < n; t++, iter++) {
			bool calm = true;

			ck_assert_int_eq(policy_decide(&c, &snap, &s, now, &p),
			    0);
			ck_assert_int_eq(fx_commit_guests(&s, &p, now), 0);
			for (i = 0; i < snap.nr_guests; i++) {
				const struct guest_plan *gp = &p.guests[i];
				const struct guest_snapshot *gs = &g[i];
				int64_t over = policy_qemu_overhead_kib(&c,
				    gs->max_kib);

				if (!managed(gp)) {
					FAIL_IF(balloons(gp) ||
					    gp->target_kib != gs->actual_kib,
					    "unmanaged guest moved (%s)",
					    gp->reason);
				} else {
					FAIL_IF(gp->target_kib < gp->floor_kib ||
					    gp->target_kib > gp->ceiling_kib,
					    "target %lld outside %lld..%lld (%s, %s)",
					    (long long)gp->target_kib,
					    (long long)gp->floor_kib,
					    (long long)gp->ceiling_kib, policy_guest_state_name(gp->state), gp->reason);
				}
				if (MT_PRESENT(gp->hard_limit_kib) &&
				    gp->hard_limit_kib != POLICY_LIMIT_UNLIMITED) {
					FAIL_IF(!MT_PRESENT(gs->rss_kib),
					    "hard_limit without RSS");
					FAIL_IF(gp->hard_limit_kib <
					    gs->rss_kib + over,
					    "hard_limit %lld < rss %lld + %lld",
					    (long long)gp->hard_limit_kib,
					    (long long)gs->rss_kib,
					    (long long)over);
				}
				if (gp->state == GPS_UNCOOPERATIVE && t > 0) {
					int64_t want = MAX(gp->floor_kib,
					    MIN(gp->ceiling_kib,
					    prev_target[i]));

					uncoop_seen++;
					FAIL_IF(gp->target_kib != want,
					    "uncooperative guest moved %lld -> "
					    "%lld", (long long)prev_target[i],
					    (long long)gp->target_kib);
				}
				if (t == 0 && !satisfied(&c, gs))
					calm = false;
			}
			i = 0;
			/* what reclaim frees on the host is bounded; it may
			 * take more balloon where the top is not resident */
			FAIL_IF(p.freed_kib > MAX(p.need_kib, 0) +
			    c.deadband_kib + p.given_kib,
			    "freed %lld > need %lld + deadband + given %lld",
			    (long long)p.freed_kib, (long long)p.need_kib,
			    (long long)p.given_kib);
			FAIL_IF(p.freed_kib > p.taken_kib, "freed > taken");
			if (t == 0 && calm && p.pressure == PRESSURE_PLENTY) {
				plenty_checked++;
				for (i = 0; i < snap.nr_guests; i++)
					FAIL_IF(balloons(&p.guests[i]),
					    "plenty, satisfied, yet moved: %s",
					    p.guests[i].reason);
			}
			/* the world moves: cooperative balloons follow,
			 * time passes, host memory drifts */
			now += rnd_range(500, 30000);
			for (i = 0; i < snap.nr_guests; i++) {
				prev_target[i] = p.guests[i].target_kib;
				if ((g[i].uuid[35] & 3) != 0 || chance(30))
					g[i].actual_kib = p.guests[i].target_kib;
				if (chance(20) && MT_PRESENT(g[i].usable_kib))
					g[i].usable_kib = rnd_range(0,
					    g[i].actual_kib);
				if (MT_PRESENT(p.guests[i].hard_limit_kib))
					g[i].hard_limit_kib =
					    p.guests[i].hard_limit_kib;
			}
			snap.host.mem.mem_avail_kib = rnd_range(0,
			    snap.host.mem.mem_total_kib);
		}
		policy_state_free(&s);
	}
	policy_plan_free(&p);
	fprintf(stderr, "policy_prop: %lld snapshots, seed %llu, %lld calm "
	    "plenty checked, %lld uncooperative checked\n", iter,
	    (unsigned long long)seed, plenty_checked, uncoop_seen);
	ck_assert_int_gt(plenty_checked, 0);
	ck_assert_int_gt(uncoop_seen, 0);
}
END_TEST

/* No limit cycles: over random tick sequences with guests whose use
 * moves, balloons that lag or stop, RSS that follows the balloon only in
 * part, and moves made by someone else, no guest changes direction within
 * reverse_cooldown of memtuned's last change outside a critical host
 * (a direction is the decision's own, from the size it started from:
 * memtuned's last target, or where someone else put the balloon; a
 * balloon still on its way is not where memtuned last sent it),
 * except a grow for a guest under its own pressure (a starving guest is
 * always fed). POLICY_REV_N sets the number of sequences (default
 * 100000). */
#define REV_TICKS 12

START_TEST(test_no_reversal_in_cooldown)
{
	const char *env_n = getenv("POLICY_REV_N");
	const char *env_seed = getenv("POLICY_PROP_SEED");
	long long n = env_n != NULL ? atoll(env_n) : 100000;
	uint64_t seed = env_seed != NULL ? strtoull(env_seed, NULL, 10) :
	    20261130;
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[MAXG];
	int last_dir[MAXG];
	int64_t last_ms[MAXG], now;
	long long iter = 0, moves = 0, held = 0;
	size_t i = 0;

	rng = seed * 2 + 1;
	ck_assert_int_eq(policy_plan_init(&p, MAXG), 0);
	for (long long seq = 0; seq < n; seq++) {
		int64_t total = rnd_range(4096, 65536);

		ck_assert_int_eq(policy_state_init(&s, MAXG), 0);
		policy_config_defaults(&c);
		if (chance(50))
			c.reverse_cooldown_ms = rnd_range(5000, 120000);
		fx_host(&snap.host, total, rnd_range(total / 100, total / 4));
		snap.guests = g;
		snap.nr_guests = (size_t)rnd_range(1, MAXG);
		for (i = 0; i < snap.nr_guests; i++) {
			int64_t max = rnd_range(512, 8192);
			int64_t actual = rnd_range(max / 3, max);
			int64_t used = rnd_range(max / 10, actual);

			fx_guest(&g[i], (int)i, max, actual, actual - used);
			/* resident: what it uses, plus some of the rest */
			g[i].rss_kib = MIB_KIB(used + rnd_range(0, actual - used)
			    + 100);
			g[i].minor_fault = 0;
			last_dir[i] = 0;
			last_ms[i] = 0;
		}
		now = rnd_range(0, 1000000);
		for (int t = 0; t < REV_TICKS; t++, iter++) {
			ck_assert_int_eq(policy_decide(&c, &snap, &s, now, &p),
			    0);
			ck_assert_int_eq(fx_commit_guests(&s, &p, now), 0);
			for (i = 0; i < snap.nr_guests; i++) {
				const struct guest_plan *gp = &p.guests[i];
				int64_t d = gp->target_kib - s.work[i].cur_kib;
				int dir;

				if (!balloons(gp) || d == 0)
					continue;
				dir = d > 0 ? 1 : -1;
				moves++;
				if (last_dir[i] != 0 && dir != last_dir[i] &&
				    now - last_ms[i] < c.reverse_cooldown_ms) {
					held++;
					FAIL_IF(p.pressure != PRESSURE_CRITICAL &&
					    !(dir > 0 && gp->pressured),
					    "reversed %+d after %lld ms (%s, "
					    "host %s)", dir,
					    (long long)(now - last_ms[i]),
					    gp->reason,
					    policy_pressure_name(p.pressure));
				}
				last_dir[i] = dir;
				last_ms[i] = now;
			}
			/* the world moves */
			now += rnd_range(1000, 15000);
			for (i = 0; i < snap.nr_guests; i++) {
				struct guest_snapshot *gs = &g[i];
				int64_t used = gs->actual_kib - gs->usable_kib;
				int64_t to = p.guests[i].target_kib, moved;

				/* the balloon goes part or all of the way, or
				 * not at all; now and then someone else sets it */
				if (chance(10))
					to = MIB_KIB(rnd_range(gs->max_kib / 3072,
					    gs->max_kib / 1024));
				else if (chance(30))
					to = gs->actual_kib + (to -
					    gs->actual_kib) * rnd_range(0, 9) / 10;
				moved = to - gs->actual_kib;
				gs->actual_kib = to;
				/* a shrink returns some of the RSS */
				if (moved < 0) {
					int64_t back = moved * rnd_range(0, 10) /
					    10;

					gs->rss_kib = MAX(used, gs->rss_kib +
					    back);
				}
				/* use drifts, sometimes jumps */
				if (chance(30))
					used += MIB_KIB(rnd_range(-200, 200));
				if (chance(5))
					used += MIB_KIB(rnd_range(-600, 600));
				used = MAX(MIB_KIB(32), MIN(used,
				    gs->actual_kib - MIB_KIB(8)));
				gs->usable_kib = gs->actual_kib - used;
				gs->rss_kib = MAX(gs->rss_kib, used);
				gs->minor_fault += rnd_range(0, 20000);
			}
			{
				/* MIN and MAX evaluate twice: draw first */
				int64_t av = snap.host.mem.mem_avail_kib +
				    MIB_KIB(rnd_range(-300, 300));

				snap.host.mem.mem_avail_kib = MAX(0, MIN(
				    snap.host.mem.mem_total_kib, av));
			}
		}
		policy_state_free(&s);
	}
	policy_plan_free(&p);
	fprintf(stderr, "policy_rev: %lld sequences, %lld ticks, seed %llu, "
	    "%lld balloon moves, %lld reversals in cooldown (critical or "
	    "feeding a pressured guest)\n", n, iter,
	    (unsigned long long)seed, moves, held);
	ck_assert_int_gt(moves, n);
}
END_TEST

Suite *
policy_prop_suite(void)
{
	Suite *s = suite_create("policy_prop");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_properties);
	suite_add_tcase(s, tc);
	return s;
}

/* A suite of its own: under ASan each of the two runs takes about 20 s,
 * and make check runs suites side by side, one per CPU. */
Suite *
policy_rev_suite(void)
{
	Suite *s = suite_create("policy_rev");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_no_reversal_in_cooldown);
	suite_add_tcase(s, tc);
	return s;
}
