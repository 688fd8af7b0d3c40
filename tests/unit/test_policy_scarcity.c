/* test_policy_scarcity.c - a host near its reserve, tick by tick: reclaim
 * counts what the host gets back (resident idle memory, and what shrinks
 * really returned), an unreachable target is a state, a guest fed for its
 * pressure is not shrunk again within reverse_cooldown (not even after a
 * balloon still settling from the move before), a guest that ran out in a
 * burst keeps room for the next one, and ksmd runs at its CPU budget
 * while the host is short, advisor or not. Each situation is the one the
 * real runs showed (docs/policy.md, "Scarcity"). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_fixture.h"

Suite *policy_scarcity_suite(void);

#define NG 4

struct sc {
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[NG];
	int64_t now;
};

/* four 1 GiB guests using `used` MiB each on a 24 GiB host with
 * `avail` MiB available: the real scarcity run's shape */
static struct sc *
sc_new(int64_t avail_mib, int64_t used_mib)
{
	struct sc *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	fx_config(&t->c);
	t->c.reserve_kib = MT_ABSENT;	/* the automatic one: 770 MiB */
	ck_assert_int_eq(policy_state_init(&t->s, NG), 0);
	ck_assert_int_eq(policy_plan_init(&t->p, NG), 0);
	fx_host(&t->snap.host, 24576, avail_mib);
	t->snap.guests = t->g;
	t->snap.nr_guests = NG;
	for (int i = 0; i < NG; i++) {
		fx_guest(&t->g[i], i, 1024, 1024, 1024 - used_mib);
		t->g[i].minor_fault = 0;
	}
	t->now = 1000;
	return t;
}

static void
sc_free(struct sc *t)
{
	policy_state_free(&t->s);
	policy_plan_free(&t->p);
	free(t);
}

/* decide, and carry the plan out in full */
static void
tick(struct sc *t, int64_t dt_ms)
{
	t->now += dt_ms;
	ck_assert_int_eq(policy_decide(&t->c, &t->snap, &t->s, t->now, &t->p),
	    0);
	ck_assert_int_eq(fx_commit_guests(&t->s, &t->p, t->now), 0);
}

/* guest i's balloon goes to its target; the RSS falls by `back_pct` of a
 * shrink (what the host really gets back) */
static void
follow(struct sc *t, int i, int back_pct)
{
	struct guest_snapshot *g = &t->g[i];
	int64_t d = t->p.guests[i].target_kib - g->actual_kib;

	g->actual_kib += d;
	g->available_kib += d;
	g->usable_kib += d;
	if (d < 0)
		g->rss_kib += d * back_pct / 100;
}

static bool
moves(const struct guest_plan *gp)
{
	return gp->action == ACT_BALLOON || gp->action == ACT_BOTH;
}

/* the first tick, then on while guest 0's balloon is asked to move */
static bool
moves_or_first(struct sc *t, int n)
{
	if (n == 0)
		tick(t, 0);
	return moves(&t->p.guests[0]);
}

/* Guests that touched only what they use: their idle memory was never
 * resident, so no shrink frees anything. Nothing is taken, the shortfall
 * is said once as a state, and every guest keeps its room. (An RSS that
 * counts QEMU's own memory too is the next test: measured.) */
START_TEST(test_untouched_idle_is_not_squeezed)
{
	struct sc *t = sc_new(540, 400);

	for (int i = 0; i < NG; i++)
		t->g[i].rss_kib = MIB_KIB(400 + 10);
	tick(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	for (int i = 0; i < NG; i++) {
		ck_assert_msg(!moves(&t->p.guests[i]), "%s",
		    t->p.guests[i].reason);
		ck_assert_int_lt(t->p.guests[i].gain_kib, t->c.min_change_kib);
		ck_guest_why(&t->p.guests[i], GW_WHY_NEVER_TOUCHED);
	}
	ck_assert_int_eq(t->p.taken_kib, 0);
	ck_assert_int_gt(t->p.short_kib, 0);
	ck_assert_int_eq(t->p.short_kib, t->p.need_kib);
	/* the shortfall is a tail of the host's reason: its code stays
	 * what set the state */
	ck_host_why(&t->p, HW_WHY_MEM_AVAILABLE);
	sc_free(t);
}
END_TEST

/* Resident idle memory is taken, and only that much: the take stops
 * where the RSS says the untouched part begins. */
START_TEST(test_takes_only_resident_idle)
{
	struct sc *t = sc_new(540, 300);
	int64_t res_idle = MIB_KIB(200);

	for (int i = 0; i < NG; i++)
		t->g[i].rss_kib = MIB_KIB(300) + res_idle;
	t->c.step_max_pmy = 10000;	/* no step in the way */
	tick(t, 0);
	for (int i = 0; i < NG; i++) {
		ck_assert_int_eq(t->p.guests[i].gain_kib, res_idle);
		ck_assert_int_ge(t->p.guests[i].target_kib,
		    t->g[i].actual_kib - res_idle);
	}
	ck_assert_int_le(t->p.taken_kib, NG * res_idle);
	ck_assert_int_eq(t->p.freed_kib, t->p.taken_kib);
	sc_free(t);
}
END_TEST

/* One guest's balloon taken down tick by tick as its kernel hands it
 * the pages the host did not hold first (its balloon size less the guest
 * RAM resident, QEMU's own memory `own` off the RSS), the rest from the
 * resident idle memory. How much came back; how much was taken; whether
 * it was ever judged as a balloon that returns nothing. */
static int64_t
shrink_untouched_first(struct sc *t, int64_t own, int64_t *taken,
    bool *nothing)
{
	int64_t back_total = 0;

	*nothing = false;
	*taken = 0;
	for (int n = 0; n < 16 && moves_or_first(t, n); n++) {
		struct guest_snapshot *g = &t->g[0];
		int64_t d = g->actual_kib - t->p.guests[0].target_kib;
		int64_t nonres = MAX(0, g->actual_kib - (g->rss_kib - own));
		int64_t back = MAX(0, d - nonres);

		g->actual_kib -= d;
		g->available_kib -= d;
		g->usable_kib -= d;
		g->rss_kib -= back;
		back_total += back;
		*taken += d;
		tick(t, 5000);
		if (t->p.guests[0].reason_code == GW_WHY_RETURNS_NOTHING)
			*nothing = true;
	}
	return back_total;
}

/* A guest whose QEMU RSS is under its balloon size holds free memory
 * the host does not (never touched, or zero pages the host took back
 * under pressure), and its balloon may take that first: the shrinks
 * return little until it is used up. That is not a balloon that returns
 * nothing: the free memory left is resident, and the guest is asked on
 * until the RSS has fallen by its resident idle. The real case (04's
 * tight host, 2026-12-01): 1024 MiB, RSS 637 MiB, 306 MiB ballooned
 * with 63 MiB back, and the guest was left with 424 MiB idle. */
START_TEST(test_unresident_first_is_not_nothing)
{
	struct sc *t = sc_new(540, 200);
	int64_t rss0 = MIB_KIB(637), back_total, taken;
	bool nothing;

	t->snap.nr_guests = 1;
	t->g[0].rss_kib = rss0;
	back_total = shrink_untouched_first(t, 0, &taken, &nothing);
	ck_assert_msg(!nothing, "after %lld MiB ballooned, %lld back: judged "
	    "as returning nothing", (long long)(taken / 1024),
	    (long long)(back_total / 1024));
	/* the non-resident part went, and then the resident idle came back */
	ck_assert_int_ge(taken, rss0 - MIB_KIB(200) +
	    (MIB_KIB(1024) - rss0) - 2 * t->c.min_change_kib - MIB_KIB(128));
	ck_assert_int_ge(back_total, MIB_KIB(200));
	ck_assert_int_eq(t->p.guests[0].unresident_kib,
	    MIB_KIB(1024) - rss0);
	sc_free(t);
}
END_TEST

/* The testbed's case (05, 22 and 23, 2026-12-02): a guest that touched
 * 600 of its 1024 MiB and uses 100, under TCG, where QEMU's own memory
 * (its translation cache) is 340 MiB of the RSS. The first shrink takes
 * the 424 MiB it never touched and returns nothing. With QEMU's memory
 * measured (smaps) that part is known not resident, the guest is asked
 * on, and the host gets back what it needs of the 500 MiB the guest
 * holds idle (about 290 MiB, what the host is short of). Without
 * the measure the RSS (940 MiB) hides it: the first shrink reads as one
 * that returns nothing, and the guest is left alone with all of it. */
START_TEST(test_measured_qemu_memory_excuses_untouched)
{
	int64_t own = MIB_KIB(340), back, taken;
	bool nothing;

	for (int measured = 0; measured < 2; measured++) {
		struct sc *t = sc_new(540, 100);

		t->snap.nr_guests = 1;
		t->g[0].rss_kib = MIB_KIB(600) + own;
		if (measured)
			t->g[0].qemu_own_kib = own;
		back = shrink_untouched_first(t, own, &taken, &nothing);
		if (measured) {
			ck_assert_msg(!nothing, "judged as returning nothing");
			ck_assert_msg(back >= MIB_KIB(250),
			    "back %lld MiB, actual %lld, need %lld, headroom "
			    "%lld: %s", (long long)back / 1024,
			    (long long)t->g[0].actual_kib / 1024,
			    (long long)t->p.guests[0].need_kib / 1024,
			    (long long)t->p.guests[0].headroom_kib / 1024,
			    t->p.guests[0].reason);
			ck_assert_int_eq(t->p.guests[0].unresident_kib,
			    MIB_KIB(424));
		} else {
			ck_assert(nothing);
			ck_assert_int_eq(back, 0);
		}
		sc_free(t);
	}
}
END_TEST

/* QEMU's own memory measured: a guest whose RSS is its use plus QEMU's
 * memory has nothing idle resident. Its gain is nothing, and it is not
 * squeezed for the RSS's 340 MiB that a balloon cannot return. */
START_TEST(test_measured_qemu_memory_is_no_gain)
{
	struct sc *t = sc_new(540, 300);

	t->snap.nr_guests = 1;
	t->g[0].rss_kib = MIB_KIB(300 + 10 + 340);
	t->g[0].qemu_own_kib = MIB_KIB(340);
	tick(t, 0);
	ck_assert_msg(!moves(&t->p.guests[0]), "%s", t->p.guests[0].reason);
	ck_assert_int_lt(t->p.guests[0].gain_kib, t->c.min_change_kib);
	ck_guest_why(&t->p.guests[0], GW_WHY_NEVER_TOUCHED);
	/* unmeasured, the same RSS reads as 350 MiB of resident idle */
	t->g[0].qemu_own_kib = MT_ABSENT;
	tick(t, 5000);
	ck_assert_int_ge(t->p.guests[0].gain_kib, MIB_KIB(340));
	sc_free(t);
}
END_TEST

/* libvirt's balloon size follows QEMU's balloon-change events, at most
 * one a second, while the RSS is read live: on the testbed a shrink of
 * 192 MiB showed its RSS fall a tick before the new size, and the tick
 * that saw the size saw no fall: a "shrink that returned nothing" from a
 * guest that returned all of it. The base is held while the shrink is in
 * flight and the size has not moved; an RSS that fell further than the
 * size shows so far is carried to the next measure. */
START_TEST(test_rss_ahead_of_balloon_size)
{
	for (int split = 0; split < 2; split++) {
		struct sc *t = sc_new(540, 300);
		struct guest_snapshot *g = &t->g[0];
		int64_t from, d;

		t->snap.nr_guests = 1;
		g->rss_kib = MIB_KIB(1024 + 100);	/* all of it resident */
		tick(t, 0);
		ck_assert_msg(moves(&t->p.guests[0]), "%s",
		    t->p.guests[0].reason);
		from = g->actual_kib;
		d = from - t->p.guests[0].target_kib;
		/* the RSS falls by all of it; the size still reads as
		 * before (or, the second time, a third of the way) */
		g->rss_kib -= d;
		if (split) {
			g->actual_kib -= d / 3;
			g->available_kib -= d / 3;
			g->usable_kib -= d / 3;
		}
		tick(t, 1000);
		/* then the size arrives, the RSS holding still */
		g->actual_kib = g->available_kib = from - d;
		g->usable_kib = MIB_KIB(1024 - 300) - d;
		tick(t, 1000);
		ck_assert_int_ne(t->p.guests[0].reason_code,
		    GW_WHY_RETURNS_NOTHING);
		ck_assert_int_eq(t->p.guests[0].ballooned_kib, d);
		ck_assert_int_eq(t->p.guests[0].returned_kib, d);
		ck_assert_int_eq(t->p.guests[0].yield_pmy, 10000);
		sc_free(t);
	}
}
END_TEST

/* The RSS said there was resident idle memory (it counts QEMU's own
 * memory too), but the shrink returned almost nothing: measured, the
 * guest is not asked again, says why, and is asked again only after
 * yield_retry. Its RSS is under its balloon size, but no more than QEMU's
 * memory over its use: nothing says the rest is resident. */
START_TEST(test_shrink_that_returns_nothing_stops)
{
	struct sc *t = sc_new(540, 300);
	int64_t before;

	t->snap.nr_guests = 1;
	t->g[0].rss_kib = MIB_KIB(300 + 250);
	tick(t, 0);
	ck_assert(moves(&t->p.guests[0]));
	ck_assert(!MT_PRESENT(t->p.guests[0].yield_pmy));
	before = t->g[0].actual_kib;
	follow(t, 0, 5);		/* 5 % came back */
	tick(t, 5000);
	ck_assert_int_eq(t->p.guests[0].ballooned_kib,
	    before - t->g[0].actual_kib);
	ck_assert_int_lt(t->p.guests[0].yield_pmy, t->c.yield_min_pmy);
	ck_assert_int_eq(t->p.guests[0].gain_kib, 0);
	ck_assert(!moves(&t->p.guests[0]));
	ck_guest_why(&t->p.guests[0], GW_WHY_RETURNS_NOTHING);
	/* still not asked while the measurement is recent */
	tick(t, t->c.yield_retry_ms / 2);
	ck_assert(!moves(&t->p.guests[0]));
	/* after yield_retry the window starts again from the RSS */
	tick(t, t->c.yield_retry_ms);
	ck_assert(!MT_PRESENT(t->p.guests[0].yield_pmy));
	ck_assert_int_gt(t->p.guests[0].gain_kib, 0);
	sc_free(t);
}
END_TEST

/* The limit cycle of the real run: the balloon was still inflating
 * toward the last shrink when the guest, short, was grown; the balloon
 * then read below where memtuned had last seen it, which looked like a
 * move by someone else and erased the cooldown, and the host took the
 * grant back a tick later. Fed to its need, and held for
 * reverse_cooldown whatever its balloon does. */
START_TEST(test_fed_guest_not_shrunk_in_reverse_cooldown)
{
	struct sc *t = sc_new(540, 500);
	struct guest_snapshot *g = &t->g[0];
	int64_t fed_at;

	t->snap.nr_guests = 1;
	g->rss_kib = MIB_KIB(1024 + 100);	/* all of it resident */
	tick(t, 0);
	ck_assert(moves(&t->p.guests[0]));
	ck_assert_int_lt(t->p.guests[0].target_kib, g->actual_kib);
	/* the balloon only goes a third of the way, and the guest's use
	 * grows: it is short now */
	/* (all of it resident: the RSS goes with the balloon) */
	g->rss_kib -= (g->actual_kib - t->p.guests[0].target_kib) / 3;
	g->actual_kib -= (g->actual_kib - t->p.guests[0].target_kib) / 3;
	g->usable_kib = MIB_KIB(40);
	g->available_kib = g->actual_kib;
	tick(t, 5000);
	ck_assert(t->p.guests[0].pressured);
	ck_assert_int_gt(t->p.guests[0].target_kib, g->actual_kib);
	/* fed to its need (within its ceiling), not past it */
	ck_assert_int_eq(t->p.guests[0].target_kib,
	    MIN(t->p.guests[0].need_kib, t->p.guests[0].ceiling_kib));
	fed_at = t->now;
	/* the balloon settles lower first (the old shrink still running),
	 * then the guest lets go of memory: idle again, host still tight */
	g->actual_kib -= MIB_KIB(20);
	g->rss_kib -= MIB_KIB(20);
	g->usable_kib = MIB_KIB(300);
	tick(t, 5000);
	ck_assert(!t->p.guests[0].pressured);
	ck_assert_int_ge(t->p.guests[0].target_kib, g->actual_kib);
	for (int k = 0; k < 14; k++) {
		if (t->p.guests[0].target_kib < g->actual_kib)
			g->rss_kib -= g->actual_kib - t->p.guests[0].target_kib;
		g->actual_kib = t->p.guests[0].target_kib;
		g->usable_kib = MIB_KIB(300) + (g->actual_kib - MIB_KIB(800));
		tick(t, 5000);
		if (t->now - fed_at < t->c.reverse_cooldown_ms)
			ck_assert_msg(t->p.guests[0].target_kib >=
			    g->actual_kib, "shrunk %lld ms after it was fed: %s",
			    (long long)(t->now - fed_at),
			    t->p.guests[0].reason);
	}
	/* after the cooldown it gives again */
	ck_assert_int_ge(t->now - fed_at, t->c.reverse_cooldown_ms);
	ck_assert_msg(t->p.guests[0].target_kib < g->actual_kib, "%s (gain %lld)",
	    t->p.guests[0].reason, (long long)t->p.guests[0].gain_kib);
	sc_free(t);
}
END_TEST

/* A burst ends in the guest's OOM killer between two samples: more fresh
 * pages touched than it had usable, then its use falls. It keeps room
 * for a burst of that size (twice what it had, up to headroom_burst), so
 * a second one fits. */
START_TEST(test_burst_that_ran_out_is_remembered)
{
	struct sc *t = sc_new(2000, 400);
	struct guest_snapshot *g = &t->g[0];
	int64_t had, cap;

	t->snap.nr_guests = 1;
	g->actual_kib = g->available_kib = MIB_KIB(700);
	g->usable_kib = MIB_KIB(300);
	tick(t, 0);
	ck_assert_int_eq(t->p.guests[0].burst_kib, 0);
	had = g->usable_kib;
	/* 420 MiB of fresh pages touched, then the worker is killed: its
	 * 300 MiB and what the burst had touched go */
	g->minor_fault += MIB_KIB(420) / 4;
	g->usable_kib = MIB_KIB(600);
	tick(t, 5000);
	cap = MIB_KIB(1024) * t->c.headroom_burst_pmy / 10000;
	ck_assert_int_eq(t->p.guests[0].burst_kib, MIN(cap, 2 * MIB_KIB(420)));
	ck_assert_int_ge(t->p.guests[0].burst_kib, 2 * had);
	ck_assert_int_eq(t->p.guests[0].headroom_kib,
	    t->p.guests[0].burst_kib);
	ck_assert_int_eq(t->p.guests[0].need_kib, MIB_KIB(100) +
	    t->p.guests[0].burst_kib);
	/* the workload comes back: the guest is fed to keep that room */
	g->usable_kib = MIB_KIB(300);
	tick(t, 5000);
	ck_assert(t->p.guests[0].pressured);
	ck_assert_int_gt(t->p.guests[0].target_kib, g->actual_kib);
	follow(t, 0, 100);
	/* remembered like a growth spurt: halved after headroom_memory */
	tick(t, t->c.headroom_memory_ms);
	ck_assert_int_eq(t->p.guests[0].burst_kib, MIN(cap,
	    2 * MIB_KIB(420)) / 2);
	sc_free(t);
}
END_TEST

/* The same burst, killed, and the workload back with its 300 MiB before
 * the next sample: its use looks unchanged, but it touched 720 MiB of
 * fresh pages and kept 300 of them. */
START_TEST(test_burst_then_restart_is_seen)
{
	struct sc *t = sc_new(2000, 400);
	struct guest_snapshot *g = &t->g[0];

	t->snap.nr_guests = 1;
	g->actual_kib = g->available_kib = MIB_KIB(700);
	g->usable_kib = MIB_KIB(300);
	tick(t, 0);
	g->minor_fault += MIB_KIB(420 + 300) / 4;
	tick(t, 5000);
	ck_assert_int_gt(t->p.guests[0].burst_kib, 2 * MIB_KIB(300) - 1);
	sc_free(t);
}
END_TEST

/* The kill seen after the fact: the burst touched less than the guest
 * had (its page cache went first) before the OOM killer took the
 * workload, so no sample shows more faults than room; but its use fell
 * by all the workload held. That much is remembered as the burst (twice
 * it, up to headroom_burst), not twice the little room it had. */
START_TEST(test_kill_seen_by_the_fall_in_use)
{
	struct sc *t = sc_new(2000, 400);
	struct guest_snapshot *g = &t->g[0];
	int64_t cap;

	t->snap.nr_guests = 1;
	g->actual_kib = g->available_kib = MIB_KIB(560);
	g->usable_kib = MIB_KIB(160);
	tick(t, 0);
	/* 140 MiB touched, then the 300 + 140 MiB worker killed */
	g->minor_fault += MIB_KIB(140) / 4;
	g->usable_kib = MIB_KIB(160 + 300);
	tick(t, 2000);
	cap = MIB_KIB(1024) * t->c.headroom_burst_pmy / 10000;
	ck_assert_int_eq(t->p.guests[0].burst_kib, MIN(cap,
	    2 * MIB_KIB(140 + 300)));
	ck_assert_int_gt(t->p.guests[0].burst_kib, 2 * MIB_KIB(160));
	sc_free(t);
}
END_TEST

/* The kill and the restart in one sample: the burst touched 100 MiB,
 * the 400 MiB worker was killed, and the restarted one touched 200 MiB
 * of its 300 again. Use fell by 200 MiB, faults say 300; what was let
 * go of is the killed workload's 400 + the 100 it touched: 500 MiB,
 * remembered twice (a 2 GiB guest, so headroom_burst does not cap). */
START_TEST(test_kill_and_restart_in_one_sample)
{
	struct sc *t = sc_new(2000, 400);
	struct guest_snapshot *g = &t->g[0];

	t->snap.nr_guests = 1;
	g->max_kib = MIB_KIB(2048);
	g->actual_kib = g->available_kib = MIB_KIB(600);
	g->usable_kib = MIB_KIB(100);
	tick(t, 0);
	g->minor_fault += MIB_KIB(100 + 200) / 4;
	g->usable_kib = MIB_KIB(100 + 200);
	tick(t, 2000);
	ck_assert_int_eq(t->p.guests[0].burst_kib, 2 * MIB_KIB(500));
	sc_free(t);
}
END_TEST

/* Nearly out, then a fall in use with no fresh pages touched: the
 * signature of a kill too (near zero left, then much freed at once). A
 * guest with room that frees as much is the next test: no burst. */
START_TEST(test_fall_after_nearly_out_is_a_kill)
{
	struct sc *t = sc_new(2000, 400);
	struct guest_snapshot *g = &t->g[0];

	t->snap.nr_guests = 1;
	g->actual_kib = g->available_kib = MIB_KIB(460);
	g->usable_kib = MIB_KIB(24);
	tick(t, 0);
	g->usable_kib = MIB_KIB(24 + 250);
	tick(t, 2000);
	ck_assert_int_ge(t->p.guests[0].burst_kib, 2 * MIB_KIB(250));
	sc_free(t);
}
END_TEST

/* A use that falls because the workload freed memory, without fresh
 * pages beyond what the guest had: no burst. */
START_TEST(test_plain_free_is_no_burst)
{
	struct sc *t = sc_new(2000, 400);
	struct guest_snapshot *g = &t->g[0];

	t->snap.nr_guests = 1;
	g->usable_kib = MIB_KIB(600);
	tick(t, 0);
	g->minor_fault += MIB_KIB(50) / 4;
	g->usable_kib = MIB_KIB(900);
	tick(t, 5000);
	ck_assert_int_eq(t->p.guests[0].burst_kib, 0);
	sc_free(t);
}
END_TEST

/* KSM while the host is short: the advisor's minutes-long scan-time
 * target gives way to ksmd at its CPU budget, priced from what a scanned
 * page cost since the last tick. */
START_TEST(test_ksm_short_host_runs_at_budget)
{
	struct sc *t = sc_new(540, 400);
	struct host_ksm *k = &t->snap.host.ksm;
	int64_t rate;

	t->c.ksm_use_advisor = true;
	/* KSM stays on once the host is calm: the guests commit enough */
	t->c.ksm_start_committed_pmy = 1000;
	t->c.ksm_stop_committed_pmy = 500;
	k->present = true;
	k->run = 0;
	k->pages_to_scan = 100;
	k->sleep_millisecs = 20;
	mt_strlcpy(k->advisor_mode, "scan-time", sizeof(k->advisor_mode));
	k->full_scans = 0;
	k->pages_scanned = 0;
	k->ksmd_cpu_ms = 0;
	k->pages_sharing = 0;
	k->general_profit = 0;
	tick(t, 0);
	ck_assert_int_eq(t->p.ksm.run, 1);
	ck_assert_str_eq(t->p.ksm.advisor_mode, "none");
	ck_assert(MT_PRESENT(t->p.ksm.pages_to_scan));
	ck_ksm_why(&t->p, KSM_WHY_SWITCHED_ON);
	ck_assert(t->s.ksm_short);
	policy_note_applied(&t->s, &t->p);
	k->run = 1;
	mt_strlcpy(k->advisor_mode, "none", sizeof(k->advisor_mode));
	k->pages_to_scan = t->p.ksm.pages_to_scan;
	k->sleep_millisecs = t->p.ksm.sleep_millisecs;
	/* 5 s: 400,000 pages scanned for 250 ms of CPU (625 ns a page) */
	k->pages_scanned = 400000;
	k->ksmd_cpu_ms = 250;
	k->ksmd_cpu_pmil = 50;
	tick(t, 5000);
	/* the budget (20 % of a core) buys 200 ms / 625 ns = 320,000
	 * pages/s, four times the start at most in one step */
	rate = t->p.ksm.pages_to_scan * 1000 / t->p.ksm.sleep_millisecs;
	ck_assert_int_gt(rate, 25600);
	ck_assert_int_le(rate, 4 * 25600 + 4 * 25600 / 10);
	ck_assert(!t->p.ksm.backoff);
	/* the host calm again (after the state's dwell time), ksmd not
	 * yet twice through the guests: memtuned keeps the rate (the
	 * advisor, cold, would fall to a few pages a wake-up); after two
	 * full scans the advisor takes over */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(3000);
	k->full_scans = 1;
	for (int dt = 5000; dt <= 40000; dt += 35000) {
		if (MT_PRESENT(t->p.ksm.pages_to_scan))
			k->pages_to_scan = t->p.ksm.pages_to_scan;
		if (MT_PRESENT(t->p.ksm.sleep_millisecs))
			k->sleep_millisecs = t->p.ksm.sleep_millisecs;
		policy_note_applied(&t->s, &t->p);
		tick(t, dt);
	}
	ck_assert_int_lt(t->p.pressure, PRESSURE_TIGHT);
	ck_assert_str_ne(t->p.ksm.advisor_mode, "scan-time");
	ck_ksm_why(&t->p, KSM_WHY_PROBING_FASTER);
	if (MT_PRESENT(t->p.ksm.pages_to_scan))
		k->pages_to_scan = t->p.ksm.pages_to_scan;
	if (MT_PRESENT(t->p.ksm.sleep_millisecs))
		k->sleep_millisecs = t->p.ksm.sleep_millisecs;
	policy_note_applied(&t->s, &t->p);
	k->full_scans = 2;
	tick(t, 5000);
	ck_assert_str_eq(t->p.ksm.advisor_mode, "scan-time");
	sc_free(t);
}
END_TEST

/* A burst seen on the host before the guest's stats show it: the guest
 * at 874 of its 1024 MiB holds 455 and has 419 usable by its last stats,
 * which come every few seconds; a 500 MiB allocation fills it in about
 * 1.5 s (the testbed, measured). Its QEMU RSS rising (the daemon's burst
 * watch), or risen since those stats, is what there is to go by. */
static const struct burst_case {
	const char *what;
	int64_t avail_mib;	/* host: 1500 normal, 700 tight */
	int64_t rate_mib_s;	/* -1: no rate (no watch) */
	int64_t unseen_mib;	/* RSS risen since the stats */
	int64_t horizon_ms;
	int64_t want_target_mib;	/* 0: no move */
	enum guest_why want_why;
} burst_cases[] = {
	{ "no rate, nothing unseen", 1500, -1, 0, 2000, 0, GW_WHY_STEADY },
	{ "300 MiB/s: out within the horizon", 1500, 300, 0, 2000, 1024,
	    GW_WHY_BURST_FED },
	{ "300 MiB/s on a tight host: from above critical", 700, 300, 0,
	    2000, 1024, GW_WHY_BURST_FED },
	{ "20 MiB/s is under burst_rate", 1500, 20, 0, 2000, 0,
	    GW_WHY_STEADY },
	{ "100 MiB/s: 200 MiB in 2 s leave its headroom", 1500, 100, 0, 2000,
	    0, GW_WHY_STEADY },
	{ "horizon 0: bursts not anticipated", 1500, 300, 0, 0, 0,
	    GW_WHY_STEADY },
	{ "350 MiB touched since its stats", 1500, -1, 350, 2000, 933,
	    GW_WHY_PRESSURE_FED },
};

START_TEST(test_burst_fed_before_stats_show_it)
{
	const struct burst_case *bc = &burst_cases[_i];
	struct sc *t = sc_new(bc->avail_mib, 300);
	struct guest_snapshot *g = &t->g[0];
	const struct guest_plan *gp = &t->p.guests[0];

	t->c.burst_horizon_ms = bc->horizon_ms;
	g->actual_kib = g->available_kib = MIB_KIB(874);
	g->usable_kib = g->unused_kib = MIB_KIB(419);
	g->rss_kib = MIB_KIB(536);
	for (int i = 0; i < NG; i++)
		t->g[i].last_update_s = 100;
	tick(t, 0);
	ck_assert_msg(!moves(gp), "%s: first tick: %s", bc->what, gp->reason);
	/* the same stats a second later; the RSS and its rate from the host */
	g->rss_kib += MIB_KIB(bc->unseen_mib);
	g->rss_rate_kib_s = bc->rate_mib_s < 0 ? MT_ABSENT :
	    MIB_KIB(bc->rate_mib_s);
	tick(t, 1000);
	ck_assert_msg(gp->reason_code == bc->want_why, "%s: %s, want %s: %s",
	    bc->what, policy_guest_why_name(gp->reason_code),
	    policy_guest_why_name(bc->want_why), gp->reason);
	ck_assert_int_eq(gp->unseen_kib, MIB_KIB(bc->unseen_mib));
	/* a burst's demand is part of the need only while it leaves the
	 * guest short */
	ck_assert_int_eq(gp->burst_demand_kib, gp->bursting ?
	    MIB_KIB(bc->rate_mib_s) * bc->horizon_ms / 1000 : 0);
	if (bc->want_target_mib == 0) {
		ck_assert_msg(!moves(gp), "%s: %s", bc->what, gp->reason);
		ck_assert(!gp->bursting);
	} else {
		ck_assert_msg(moves(gp), "%s: %s", bc->what, gp->reason);
		ck_assert_int_eq(gp->target_kib, MIB_KIB(bc->want_target_mib));
		ck_assert(gp->pressured);
	}
	/* the others, at their ceiling, are not grown; on the tight host
	 * they may give for it */
	for (int i = 1; i < NG; i++)
		ck_assert_msg(bc->avail_mib < 1024 ? t->p.guests[i].target_kib <=
		    t->g[i].actual_kib : !moves(&t->p.guests[i]), "%s: vm%d: %s",
		    bc->what, i, t->p.guests[i].reason);
	sc_free(t);
}
END_TEST

/* The watch between ticks asks for a tick only for a guest that, at the
 * rate its RSS rises, runs short of its headroom within burst_horizon and
 * has room under its ceiling. */
static const struct imminent_case {
	const char *what;
	int64_t rate_mib_s;
	int64_t rise_mib;	/* RSS now above the snapshot's */
	bool at_ceiling, stale;
	bool want;
} imminent_cases[] = {
	{ "300 MiB/s, 419 usable", 300, 0, false, false, true },
	{ "20 MiB/s", 20, 0, false, false, false },
	{ "100 MiB/s: 219 left after 2 s", 100, 0, false, false, false },
	{ "100 MiB/s after 150 MiB more", 100, 150, false, false, true },
	{ "no rate yet", -1, 400, false, false, false },
	{ "at its ceiling", 300, 0, true, false, false },
	{ "stats stale", 300, 0, false, true, false },
};

START_TEST(test_burst_imminent)
{
	const struct imminent_case *ic = &imminent_cases[_i];
	struct sc *t = sc_new(1500, 300);
	struct guest_snapshot *g = &t->g[0];

	if (!ic->at_ceiling) {
		g->actual_kib = g->available_kib = MIB_KIB(874);
		g->usable_kib = g->unused_kib = MIB_KIB(419);
	}
	if (ic->stale)
		g->stats = GUEST_STATS_STALE;
	g->rss_kib = MIB_KIB(536);
	tick(t, 0);
	ck_assert_int_eq(policy_burst_imminent(&t->c, g, &t->p.guests[0],
	    g->rss_kib + MIB_KIB(ic->rise_mib), ic->rate_mib_s < 0 ?
	    MT_ABSENT : MIB_KIB(ic->rate_mib_s)), ic->want);
	sc_free(t);
}
END_TEST

Suite *
policy_scarcity_suite(void)
{
	Suite *s = suite_create("policy_scarcity");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_untouched_idle_is_not_squeezed);
	tcase_add_test(tc, test_takes_only_resident_idle);
	tcase_add_test(tc, test_shrink_that_returns_nothing_stops);
	tcase_add_test(tc, test_unresident_first_is_not_nothing);
	tcase_add_test(tc, test_measured_qemu_memory_excuses_untouched);
	tcase_add_test(tc, test_measured_qemu_memory_is_no_gain);
	tcase_add_test(tc, test_rss_ahead_of_balloon_size);
	tcase_add_test(tc, test_fed_guest_not_shrunk_in_reverse_cooldown);
	tcase_add_test(tc, test_burst_that_ran_out_is_remembered);
	tcase_add_test(tc, test_burst_then_restart_is_seen);
	tcase_add_test(tc, test_kill_seen_by_the_fall_in_use);
	tcase_add_test(tc, test_fall_after_nearly_out_is_a_kill);
	tcase_add_test(tc, test_kill_and_restart_in_one_sample);
	tcase_add_test(tc, test_plain_free_is_no_burst);
	tcase_add_test(tc, test_ksm_short_host_runs_at_budget);
	tcase_add_loop_test(tc, test_burst_fed_before_stats_show_it, 0,
	    (int)(sizeof(burst_cases) / sizeof(burst_cases[0])));
	tcase_add_loop_test(tc, test_burst_imminent, 0,
	    (int)(sizeof(imminent_cases) / sizeof(imminent_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
