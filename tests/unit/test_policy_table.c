/* test_policy_table.c - one situation per test and the plan expected of
 * it: pressure states and hysteresis, bounds, reclaim order and shares,
 * guests under their own pressure, growth, steps, dead band, cooldowns,
 * stale/fixed/excluded/uncooperative guests, memtune, KSM, THP,
 * a NUMA node short while the host is not, admission and the next
 * interval. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_internal.h"	/* tests policy_reasonf */
#include "policy_fixture.h"

Suite *policy_table_suite(void);

#define NG 8

struct tc {
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[NG];
};

static struct tc *
tc_new(int64_t total_mib, int64_t avail_mib, size_t nr)
{
	struct tc *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	fx_config(&t->c);
	ck_assert_int_eq(policy_state_init(&t->s, NG), 0);
	ck_assert_int_eq(policy_plan_init(&t->p, NG), 0);
	fx_host(&t->snap.host, total_mib, avail_mib);
	t->snap.guests = t->g;
	t->snap.nr_guests = nr;
	for (size_t i = 0; i < NG; i++)
		fx_guest_touched(&t->g[i], (int)i, 4096, 4096, 2048);
	return t;
}

static void
tc_free(struct tc *t)
{
	policy_state_free(&t->s);
	policy_plan_free(&t->p);
	free(t);
}

/* decide, and carry the plan out in full */
static void
decide(struct tc *t, int64_t now_ms)
{
	ck_assert_int_eq(policy_decide(&t->c, &t->snap, &t->s, now_ms, &t->p),
	    0);
	ck_assert_int_eq(fx_commit_guests(&t->s, &t->p, now_ms), 0);
}

/* the balloon moves all the way to the planned target before the next tick */
static void
follow(struct tc *t)
{
	for (size_t i = 0; i < t->snap.nr_guests; i++) {
		int64_t d = t->p.guests[i].target_kib - t->g[i].actual_kib;

		t->g[i].actual_kib += d;
		t->g[i].available_kib += d;
		t->g[i].usable_kib += d;
		/* touched guests stay touched: RSS follows the balloon */
		t->g[i].rss_kib += d;
	}
}

/* what reclaim takes at this MemAvailable: up to the top of the dead band
 * above the target */
static int64_t
take_for(const struct tc *t, int64_t avail_mib)
{
	return (int64_t)((__int128)t->c.reserve_kib * t->c.target_pmy / 10000) -
	    MIB_KIB(avail_mib) + t->c.deadband_kib;
}

static bool
balloons(const struct guest_plan *gp)
{
	return gp->action == ACT_BALLOON || gp->action == ACT_BOTH;
}

/* ------------------------------------------------------------ pressure */

START_TEST(test_pressure_states_from_avail)
{
	/* MemAvailable against a 1 GiB reserve picks each of the four states */
	static const struct {
		int64_t avail_mib;
		enum host_pressure want;
		int64_t interval_ms;
	} cases[] = {
		{ 5000, PRESSURE_PLENTY, 30000 },
		{ 2000, PRESSURE_NORMAL, 10000 },
		{ 800, PRESSURE_TIGHT, 5000 },
		{ 300, PRESSURE_CRITICAL, 2000 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tc *t = tc_new(24576, cases[i].avail_mib, 0);

		decide(t, 0);
		ck_assert_int_eq(t->p.pressure, cases[i].want);
		ck_assert_int_eq(t->p.next_interval_ms, cases[i].interval_ms);
		ck_host_why(&t->p, HW_WHY_MEM_AVAILABLE);
		tc_free(t);
	}
}
END_TEST

START_TEST(test_pressure_signals)
{
	/* stall and fault signals raise the state from what MemAvailable
	 * says, and the code names the signal; with plenty of memory,
	 * stalls are a cgroup's own */
	static const struct {
		const char *what;
		int64_t avail_mib;
		int64_t psi_some_pmy, psi_full_pmy;
		int64_t refault_per_s, majfault_per_s;
		enum host_pressure want;
		enum host_why why;
	} cases[] = {
		{ "PSI some: normal to tight", 2000, 1500, 0, 0, 0,
		    PRESSURE_TIGHT, HW_WHY_PSI_SOME },
		{ "PSI full: critical", 2000, 0, 800, 0, 0,
		    PRESSURE_CRITICAL, HW_WHY_PSI_FULL },
		{ "PSI full from tight: critical", 800, 0, 800, 0, 0,
		    PRESSURE_CRITICAL, HW_WHY_PSI_FULL },
		{ "refaults: normal to tight", 2000, 0, 0, 50000, 0,
		    PRESSURE_TIGHT, HW_WHY_REFAULTS },
		{ "major faults: normal to tight", 2000, 0, 0, 0, 5000,
		    PRESSURE_TIGHT, HW_WHY_MAJOR_FAULTS },
		{ "under the limits: normal", 2000, 900, 400, 9000, 1900,
		    PRESSURE_NORMAL, HW_WHY_MEM_AVAILABLE },
		{ "tight stays tight, not raised by PSI some", 800, 1500, 0,
		    0, 0, PRESSURE_TIGHT, HW_WHY_MEM_AVAILABLE },
		{ "plenty: stalls are a cgroup's own", 8000, 1500, 800, 50000,
		    5000, PRESSURE_PLENTY, HW_WHY_MEM_AVAILABLE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tc *t = tc_new(24576, cases[i].avail_mib, 0);

		t->snap.host.psi.some.avg10_pmy = cases[i].psi_some_pmy;
		t->snap.host.psi.full.avg10_pmy = cases[i].psi_full_pmy;
		t->snap.host.vm.refault_per_s = cases[i].refault_per_s;
		t->snap.host.vm.pgmajfault_per_s = cases[i].majfault_per_s;
		decide(t, 0);
		ck_assert_msg(t->p.pressure == cases[i].want, "%s: %s",
		    cases[i].what, policy_pressure_name(t->p.pressure));
		ck_host_why(&t->p, cases[i].why);
		tc_free(t);
	}
}
END_TEST

START_TEST(test_pressure_hysteresis)
{
	struct tc *t = tc_new(24576, 300, 0);

	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	/* just above the critical line: not enough margin, stays critical */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(560);
	decide(t, 5000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	/* clears the margin, but must hold for the dwell time */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(700);
	decide(t, 10000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	ck_host_why(&t->p, HW_WHY_HELD);
	decide(t, 41000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	/* leaving tight needs the reclaim target (1.5 GiB) */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(1500);
	decide(t, 50000);
	decide(t, 90000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	t->snap.host.mem.mem_avail_kib = MIB_KIB(1560);
	decide(t, 100000);
	decide(t, 131000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_NORMAL);
	/* worse is at once */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(200);
	decide(t, 132000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	tc_free(t);
}
END_TEST

START_TEST(test_reserve_auto)
{
	struct policy_config c;

	/* ESXi's minFree: 899 MB for the first 28 GB, scaled on smaller
	 * hosts, plus 1% of the rest on bigger ones */
	policy_config_defaults(&c);
	ck_assert_int_eq(policy_host_reserve_kib(&c, MIB_KIB(28672)),
	    MIB_KIB(899));
	ck_assert_int_eq(policy_host_reserve_kib(&c, MIB_KIB(14336)),
	    MIB_KIB(899) / 2);
	ck_assert_int_eq(policy_host_reserve_kib(&c, MIB_KIB(28672 + 102400)),
	    MIB_KIB(899) + MIB_KIB(1024));
	c.reserve_kib = MIB_KIB(3000);
	ck_assert_int_eq(policy_host_reserve_kib(&c, MIB_KIB(28672)),
	    MIB_KIB(3000));
}
END_TEST

/* The largest reserve a request may ask for: MemTotal less the policy's
 * reclaim target (150 % of the host reserve by default). */
START_TEST(test_reserve_max)
{
	static const struct {
		int64_t total_mib;
		int64_t reserve_mib;	/* 0: automatic */
		int64_t target_pct;
		int64_t max_kib;
	} cases[] = {
		/* 899 MiB reserve, target 150 %: 1348.5 MiB kept */
		{ 28672, 0, 150, MIB_KIB(28672) - MIB_KIB(899) * 3 / 2 },
		{ 8192, 1024, 150, MIB_KIB(8192 - 1536) },
		{ 8192, 1024, 100, MIB_KIB(8192 - 1024) },
		/* a host smaller than what it keeps gives nothing */
		{ 1024, 1024, 150, 0 },
		/* MemTotal unknown: nothing */
		{ 0, 0, 150, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy_config c;

		policy_config_defaults(&c);
		if (cases[i].reserve_mib > 0)
			c.reserve_kib = MIB_KIB(cases[i].reserve_mib);
		c.target_pmy = cases[i].target_pct * 100;
		ck_assert_msg(policy_reserve_max_kib(&c,
		    MIB_KIB(cases[i].total_mib)) == cases[i].max_kib,
		    "case %zu: %lld", i, (long long)policy_reserve_max_kib(&c,
		    MIB_KIB(cases[i].total_mib)));
	}
}
END_TEST

/* -------------------------------------------------------------- bounds */

START_TEST(test_bounds)
{
	struct tc *t = tc_new(24576, 2000, 1);
	struct guest_snapshot *g = &t->g[0];
	int64_t fl, ce;
	char err[POLICY_REASON_MAX];

	/* floor defaults to 30% of max memory, ceiling to max memory */
	fx_guest_touched(g, 0, 8192, 8192, 4096);
	ck_assert_int_eq(policy_guest_bounds(&t->c, g, false, &fl, &ce, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(fl, MIB_KIB(8192) * 3 / 10);
	ck_assert_int_eq(ce, MIB_KIB(8192));
	/* an input ceiling and the hard_limit minus QEMU overhead cap it */
	g->input.ceiling_kib = MIB_KIB(6144);
	ck_assert_int_eq(policy_guest_bounds(&t->c, g, false, &fl, &ce, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ce, MIB_KIB(6144));
	g->hard_limit_kib = MIB_KIB(5120);
	ck_assert_int_eq(policy_guest_bounds(&t->c, g, false, &fl, &ce, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ce, MIB_KIB(5120) - policy_qemu_overhead_kib(&t->c,
	    g->max_kib));
	/* a guest above its ceiling is moved into bounds at once */
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].target_kib, ce);
	ck_assert(balloons(&t->p.guests[0]));
	ck_guest_why(&t->p.guests[0], GW_WHY_OUT_OF_BOUNDS);
	tc_free(t);
}
END_TEST

START_TEST(test_floor_above_ceiling_is_config_error)
{
	struct tc *t = tc_new(24576, 800, 1);

	/* taken whole: bounded would cap this floor under the ceiling
	 * (test_policy_trust.c) */
	t->c.metadata_mode = METADATA_TRUST;
	t->g[0].input.floor_kib = MIB_KIB(3500);
	t->g[0].input.floor_src = SRC_METADATA;
	t->g[0].input.ceiling_kib = MIB_KIB(3000);
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].state, GPS_CONFIG_ERROR);
	ck_assert_int_eq(t->p.guests[0].action, ACT_LEAVE_ALONE);
	ck_assert_int_eq(t->p.guests[0].target_kib, t->g[0].actual_kib);
	ck_guest_why(&t->p.guests[0], GW_WHY_CONFIG_ERROR);
	/* pins the wording: the operator reads where the floor came from */
	ck_assert_ptr_nonnull(strstr(t->p.guests[0].reason, "metadata"));
	tc_free(t);
}
END_TEST

/* ------------------------------------------------------------- reclaim */

START_TEST(test_reclaim_most_idle_first)
{
	/* tight: 736 MiB short of the 1.5 GiB target; that and the dead
	 * band come from the idle one */
	struct tc *t = tc_new(24576, 800, 2);

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 6144);	/* idle ~5.2 GiB */
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 1536);	/* idle ~0.9 GiB */
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert_int_eq(t->p.need_kib, MIB_KIB(1536 - 800));
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(8192) -
	    take_for(t, 800));
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(8192));
	ck_assert_int_eq(t->p.taken_kib, MIB_KIB(736 + 64));
	ck_guest_why(&t->p.guests[0], GW_WHY_HOST_TAKES);
	tc_free(t);
}
END_TEST

START_TEST(test_reclaim_weighted_by_shares)
{
	/* equal idle memory: the guest with fewer shares gives */
	struct tc *t = tc_new(24576, 800, 2);

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 4096);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 4096);
	t->g[0].input.shares = 2000;
	t->g[1].input.shares = 1000;
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(8192));
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(8192) -
	    take_for(t, 800));
	tc_free(t);
}
END_TEST

START_TEST(test_reclaim_never_below_need_or_floor)
{
	/* the only donor has 200 MiB above what it needs: it gives just that */
	struct tc *t = tc_new(24576, 800, 2);
	int64_t need;

	fx_guest_touched(&t->g[0], 0, 4096, 4096, 610);
	fx_guest_touched(&t->g[1], 1, 4096, 1300, 1000);
	t->g[1].input.floor_kib = MIB_KIB(1300);
	decide(t, 0);
	need = t->p.guests[0].need_kib;
	ck_assert_int_eq(t->p.guests[0].target_kib, need);
	ck_assert_int_ge(t->p.guests[0].target_kib, t->p.guests[0].floor_kib);
	/* at its floor: untouched */
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(1300));
	ck_assert_int_lt(t->p.taken_kib, t->p.need_kib);
	tc_free(t);
}
END_TEST

START_TEST(test_pressured_guest_fed_while_host_tight)
{
	/* MoM starves a busy guest while the host is under pressure; here it
	 * gets memory taken from idle guests */
	struct tc *t = tc_new(65536, 800, 3);
	int64_t headroom = MIB_KIB(8192) / 10;
	int64_t need = MIB_KIB(4096 - 100) + headroom;

	fx_guest_touched(&t->g[0], 0, 8192, 4096, 100);		/* under pressure */
	fx_guest_touched(&t->g[1], 1, 16384, 16384, 12288);
	fx_guest_touched(&t->g[2], 2, 16384, 16384, 12288);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	/* fed to its need and not past it: more would be idle at once */
	ck_assert_int_eq(t->p.guests[0].need_kib, need);
	ck_assert_int_eq(t->p.guests[0].target_kib, need);
	ck_guest_why(&t->p.guests[0], GW_WHY_PRESSURE_FED);
	ck_assert_int_eq(t->p.taken_kib, take_for(t, 800) + need -
	    MIB_KIB(4096));
	ck_assert_int_eq(t->p.guests[1].target_kib + t->p.guests[2].target_kib,
	    MIB_KIB(2 * 16384) - t->p.taken_kib);
	tc_free(t);
}
END_TEST

START_TEST(test_pressured_guest_by_faults_fed_from_host_room)
{
	/* normal host: room above the target pays, no idle guest shrinks */
	struct tc *t = tc_new(24576, 3000, 2);

	fx_guest_touched(&t->g[0], 0, 8192, 4096, 2000);
	t->g[0].major_fault_per_s = 500;
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 6144);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_NORMAL);
	ck_assert_int_gt(t->p.guests[0].target_kib, MIB_KIB(4096));
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(8192));
	ck_assert(!balloons(&t->p.guests[1]));
	tc_free(t);
}
END_TEST

START_TEST(test_normal_host_holds_idle_guests)
{
	/* normal: nothing to reclaim, nothing to grow */
	struct tc *t = tc_new(24576, 2500, 2);

	fx_guest_touched(&t->g[0], 0, 8192, 4096, 3000);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 6144);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_NORMAL);
	ck_assert(!balloons(&t->p.guests[0]));
	ck_assert(!balloons(&t->p.guests[1]));
	tc_free(t);
}
END_TEST

/* -------------------------------------------------------------- growth */

START_TEST(test_plenty_grows_toward_ceiling_with_cooldown)
{
	struct tc *t = tc_new(24576, 10240, 1);

	fx_guest_touched(&t->g[0], 0, 4096, 2048, 1500);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_PLENTY);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(2048) +
	    MIB_KIB(4096) / 10);
	follow(t);
	/* inside the cooldown: no second step */
	decide(t, 5000);
	ck_assert(!balloons(&t->p.guests[0]));
	decide(t, 25000);
	ck_assert(balloons(&t->p.guests[0]));
	ck_guest_why(&t->p.guests[0], GW_WHY_PLENTY_GIVES);
	tc_free(t);
}
END_TEST

START_TEST(test_plenty_satisfied_no_change)
{
	struct tc *t = tc_new(24576, 12000, 3);

	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_PLENTY);
	for (size_t i = 0; i < 3; i++) {
		ck_assert(!balloons(&t->p.guests[i]));
		ck_assert_int_eq(t->p.guests[i].target_kib, MIB_KIB(4096));
	}
	tc_free(t);
}
END_TEST

/* --------------------------------------------------------------- steps */

START_TEST(test_critical_step_moves_8g_fast)
{
	/* a 16 GiB guest gives 8 GiB in two critical ticks (4 s) */
	struct tc *t = tc_new(131072, 1024, 1);
	int64_t elapsed = 0;

	t->c.reserve_kib = MIB_KIB(10240);
	fx_guest_touched(&t->g[0], 0, 16384, 16384, 14336);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(12288));
	follow(t);
	elapsed += t->p.next_interval_ms;
	t->snap.host.mem.mem_avail_kib += MIB_KIB(4096);
	decide(t, elapsed);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(8192));
	elapsed += t->p.next_interval_ms;
	ck_assert_int_le(elapsed, 10000);
	tc_free(t);
}
END_TEST

START_TEST(test_steps_do_not_spill_onto_busy_guest)
{
	/* tight (80 % of the reserve, above the 75 % midway line) and
	 * 764 MiB short: two idle guests could cover it all, but their
	 * 10 % step (205 MiB) caps this tick. The rest waits for the next
	 * ticks; it is not taken from the busy guest's smaller margin.
	 * Critical is different: speed first, the busy guest gives too. */
	struct tc *t = tc_new(65536, 800, 3);

	t->c.reserve_kib = MIB_KIB(1000);
	fx_guest_touched(&t->g[0], 0, 2048, 2048, 1700);	/* idle */
	fx_guest_touched(&t->g[1], 1, 2048, 2048, 1700);	/* idle */
	fx_guest_touched(&t->g[2], 2, 4096, 4096, 1200);	/* busy */
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(2048) -
	    MIB_KIB(2048) / 10);
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(2048) -
	    MIB_KIB(2048) / 10);
	ck_assert_int_eq(t->p.guests[2].target_kib, MIB_KIB(4096));
	ck_assert(!balloons(&t->p.guests[2]));

	t->snap.host.mem.mem_avail_kib = MIB_KIB(700);
	t->c.reserve_kib = MIB_KIB(4096);
	policy_state_free(&t->s);
	ck_assert_int_eq(policy_state_init(&t->s, NG), 0);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	ck_assert_int_lt(t->p.guests[2].target_kib, MIB_KIB(4096));
	tc_free(t);
}
END_TEST

START_TEST(test_need_in_balloon_units)
{
	/* a guest's kernel keeps some of its RAM out of MemTotal (here 60
	 * MiB): the need counts it, so a guest shrunk to its need still has
	 * its whole headroom and does not ask for memory back next tick */
	struct tc *t = tc_new(65536, 700, 1);
	int64_t headroom = MIB_KIB(128);

	t->c.reserve_kib = MIB_KIB(1000);
	t->c.step_max_pmy = 10000;	/* one step, to see where it lands */
	fx_guest_touched(&t->g[0], 0, 1024, 1024, 500);
	t->g[0].available_kib = MIB_KIB(1024 - 60);
	t->g[0].usable_kib = MIB_KIB(500);
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].need_kib, MIB_KIB(1024 - 500) + headroom);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(1024 - 500) + headroom);
	follow(t);
	ck_assert_int_eq(t->g[0].usable_kib, headroom);
	decide(t, 60000);
	ck_guest_why(&t->p.guests[0], GW_WHY_STEADY);
	ck_assert(!balloons(&t->p.guests[0]));
	tc_free(t);
}
END_TEST

START_TEST(test_tight_step_is_bounded)
{
	/* tight: at most 10% of max memory (and 1 GiB) per tick */
	struct tc *t = tc_new(131072, 1024, 1);

	t->c.reserve_kib = MIB_KIB(1536);
	fx_guest_touched(&t->g[0], 0, 16384, 16384, 14336);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(16384 - 1024));
	tc_free(t);
}
END_TEST

START_TEST(test_min_change_skips_small_moves)
{
	/* 30 MiB short plus the 64 MiB dead band, spread over 8 guests, is
	 * under 16 MiB each: nothing sent */
	struct tc *t = tc_new(24576, 1506, 8);

	t->c.tight_pmy = 15000;		/* tight below 1.5 GiB */
	t->c.target_pmy = 15000;
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	for (size_t i = 0; i < 8; i++) {
		ck_assert(!balloons(&t->p.guests[i]));
		ck_guest_why(&t->p.guests[i], GW_WHY_BELOW_MIN_CHANGE);
	}
	tc_free(t);
}
END_TEST

START_TEST(test_deadband)
{
	/* held in tight by the dwell time; inside [target, target + dead
	 * band] nothing moves, below the target reclaim aims at the band's
	 * top: 36 MiB short plus 64 MiB */
	struct tc *t = tc_new(24576, 800, 1);

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 6144);
	decide(t, 0);
	follow(t);
	t->snap.host.mem.mem_avail_kib = MIB_KIB(1560);
	decide(t, 10000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert(!balloons(&t->p.guests[0]));
	ck_assert_int_eq(t->p.taken_kib, 0);
	t->snap.host.mem.mem_avail_kib = MIB_KIB(1500);
	decide(t, 20000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert(balloons(&t->p.guests[0]));
	ck_assert_int_eq(t->p.taken_kib, MIB_KIB(36 + 64));
	tc_free(t);
}
END_TEST

START_TEST(test_reverse_cooldown)
{
	/* grown at t=0, the host turns tight at t=10 s: the grown guest is
	 * spared for the reverse cooldown, the other one gives */
	struct tc *t = tc_new(24576, 10240, 2);

	fx_guest_touched(&t->g[0], 0, 8192, 4096, 3500);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 6144);
	decide(t, 0);
	ck_assert(balloons(&t->p.guests[0]));
	ck_assert(!balloons(&t->p.guests[1]));
	follow(t);
	t->snap.host.mem.mem_avail_kib = MIB_KIB(800);
	decide(t, 10000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert(!balloons(&t->p.guests[0]));
	ck_assert(balloons(&t->p.guests[1]));
	/* critical overrides it */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(200);
	follow(t);	/* guest 1's balloon (and its stats) reached the target */
	decide(t, 12000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_CRITICAL);
	ck_assert(balloons(&t->p.guests[0]));
	tc_free(t);
}
END_TEST

/* ------------------------------------------------- guests left alone */

START_TEST(test_stale_and_missing_stats_not_idle)
{
	struct tc *t = tc_new(24576, 800, 3);

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 7000);
	t->g[0].stats = GUEST_STATS_STALE;
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 7000);
	t->g[1].stats = GUEST_STATS_NONE;
	fx_guest_touched(&t->g[2], 2, 8192, 8192, 6000);
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].state, GPS_STALE);
	ck_assert_int_eq(t->p.guests[1].state, GPS_STALE);
	ck_assert(!balloons(&t->p.guests[0]));
	ck_assert(!balloons(&t->p.guests[1]));
	ck_assert_int_eq(t->p.guests[2].target_kib, MIB_KIB(8192) -
	    take_for(t, 800));
	ck_guest_why(&t->p.guests[0], GW_WHY_STATS_STALE);
	tc_free(t);
}
END_TEST

START_TEST(test_fixed_and_excluded)
{
	struct tc *t = tc_new(24576, 800, 4);

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 7000);
	t->g[0].backing.hugepages = true;
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 7000);
	t->g[1].backing.has_balloon = false;
	fx_guest_touched(&t->g[2], 2, 8192, 8192, 7000);
	t->g[2].input.exclude = true;
	t->g[2].input.exclude_src = SRC_CONFIG;
	fx_guest_touched(&t->g[3], 3, 8192, 8192, 6000);
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].state, GPS_FIXED);
	ck_assert_int_eq(t->p.guests[1].state, GPS_FIXED);
	ck_assert_int_eq(t->p.guests[2].state, GPS_EXCLUDED);
	ck_guest_why(&t->p.guests[0], GW_WHY_HUGEPAGES);
	ck_guest_why(&t->p.guests[1], GW_WHY_NO_BALLOON);
	ck_guest_why(&t->p.guests[2], GW_WHY_EXCLUDED);
	ck_assert_int_eq(t->p.guests[2].action, ACT_LEAVE_ALONE);
	ck_assert_int_eq(t->p.guests[2].soft_limit_kib, MT_ABSENT);
	for (size_t i = 0; i < 3; i++) {
		ck_assert(!balloons(&t->p.guests[i]));
		ck_assert_int_eq(t->p.guests[i].target_kib, MIB_KIB(8192));
	}
	ck_assert_int_eq(t->p.guests[3].target_kib, MIB_KIB(8192) -
	    take_for(t, 800));
	tc_free(t);
}
END_TEST

/* Each way a guest is left alone or held, on a tight host where its idle
 * memory would be taken: the state, the action, the code, and a balloon
 * left where it is. */
enum alone_case {
	AL_PLAIN, AL_EXCLUDED, AL_NO_UUID, AL_NOT_RUNNING, AL_MAX_UNKNOWN,
	AL_HUGEPAGES, AL_LOCKED, AL_NO_BALLOON, AL_SIZE_UNKNOWN,
	AL_STATS_STALE, AL_NO_STATS, AL_STATS_INCOMPLETE,
};

static void
alone_set(struct guest_snapshot *g, enum alone_case k)
{
	switch (k) {
	case AL_PLAIN:
		break;
	case AL_EXCLUDED:
		g->input.exclude = true;
		g->input.exclude_src = SRC_CONFIG;
		break;
	case AL_NO_UUID:
		g->uuid[0] = '\0';
		break;
	case AL_NOT_RUNNING:
		g->id = -1;
		break;
	case AL_MAX_UNKNOWN:
		g->max_kib = MT_ABSENT;
		break;
	case AL_HUGEPAGES:
		g->backing.hugepages = true;
		break;
	case AL_LOCKED:
		g->backing.locked = true;
		break;
	case AL_NO_BALLOON:
		g->backing.has_balloon = false;
		break;
	case AL_SIZE_UNKNOWN:
		g->actual_kib = MT_ABSENT;
		break;
	case AL_STATS_STALE:
		g->stats = GUEST_STATS_STALE;
		break;
	case AL_NO_STATS:
		g->stats = GUEST_STATS_NONE;
		break;
	case AL_STATS_INCOMPLETE:
		g->usable_kib = MT_ABSENT;
		break;
	}
}

START_TEST(test_guests_left_alone)
{
	static const struct {
		enum alone_case k;
		enum guest_plan_state state;
		enum guest_action action;	/* ACT_NONE: held, not left */
		enum guest_why why;
	} cases[] = {
		{ AL_PLAIN, GPS_OK, ACT_BALLOON, GW_WHY_HOST_TAKES },
		{ AL_EXCLUDED, GPS_EXCLUDED, ACT_LEAVE_ALONE,
		    GW_WHY_EXCLUDED },
		{ AL_NO_UUID, GPS_STALE, ACT_LEAVE_ALONE, GW_WHY_NO_UUID },
		{ AL_NOT_RUNNING, GPS_STALE, ACT_LEAVE_ALONE,
		    GW_WHY_NOT_RUNNING },
		{ AL_MAX_UNKNOWN, GPS_CONFIG_ERROR, ACT_LEAVE_ALONE,
		    GW_WHY_CONFIG_ERROR },
		{ AL_HUGEPAGES, GPS_FIXED, ACT_NONE, GW_WHY_HUGEPAGES },
		{ AL_LOCKED, GPS_FIXED, ACT_NONE, GW_WHY_LOCKED },
		{ AL_NO_BALLOON, GPS_FIXED, ACT_NONE, GW_WHY_NO_BALLOON },
		{ AL_SIZE_UNKNOWN, GPS_STALE, ACT_LEAVE_ALONE,
		    GW_WHY_SIZE_UNKNOWN },
		{ AL_STATS_STALE, GPS_STALE, ACT_NONE, GW_WHY_STATS_STALE },
		{ AL_NO_STATS, GPS_STALE, ACT_NONE, GW_WHY_NO_STATS },
		{ AL_STATS_INCOMPLETE, GPS_STALE, ACT_NONE,
		    GW_WHY_STATS_INCOMPLETE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tc *t = tc_new(24576, 800, 1);
		const struct guest_plan *gp = &t->p.guests[0];

		fx_guest_touched(&t->g[0], 0, 8192, 8192, 7000);
		alone_set(&t->g[0], cases[i].k);
		decide(t, 0);
		ck_assert_msg(gp->state == cases[i].state, "case %zu: %s", i,
		    policy_guest_state_name(gp->state));
		ck_guest_why(gp, cases[i].why);
		if (cases[i].action == ACT_BALLOON) {
			ck_assert(balloons(gp));
		} else {
			ck_assert_msg(!balloons(gp), "case %zu: %s", i,
			    gp->reason);
			ck_assert_int_eq(gp->target_kib, t->g[0].actual_kib);
		}
		if (cases[i].action == ACT_LEAVE_ALONE)
			ck_assert_int_eq(gp->action, ACT_LEAVE_ALONE);
		tc_free(t);
	}
}
END_TEST

/* A guest the operator holds at run time (memtunectl pause, release) is
 * left alone as an excluded one, while its idle memory would be taken:
 * no balloon move, no limit. The others go on as before. */
START_TEST(test_held_guests)
{
	static const struct {
		enum guest_hold hold;
		enum guest_plan_state state;
		enum guest_why why;
	} cases[] = {
		{ GUEST_HOLD_NONE, GPS_OK, GW_WHY_HOST_TAKES },
		{ GUEST_HOLD_PAUSED, GPS_PAUSED, GW_WHY_PAUSED },
		{ GUEST_HOLD_RELEASED, GPS_RELEASED, GW_WHY_RELEASED },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tc *t = tc_new(24576, 800, 2);

		fx_guest_touched(&t->g[0], 0, 8192, 8192, 7000);
		t->g[0].hold = cases[i].hold;
		fx_guest_touched(&t->g[1], 1, 8192, 8192, 7000);
		decide(t, 0);
		ck_assert_int_eq(t->p.guests[0].state, cases[i].state);
		ck_guest_why(&t->p.guests[0], cases[i].why);
		ck_assert(balloons(&t->p.guests[1]));
		if (cases[i].hold == GUEST_HOLD_NONE) {
			ck_assert(balloons(&t->p.guests[0]));
		} else {
			ck_assert_int_eq(t->p.guests[0].action,
			    ACT_LEAVE_ALONE);
			ck_assert_int_eq(t->p.guests[0].soft_limit_kib,
			    MT_ABSENT);
			ck_assert_int_eq(t->p.guests[0].target_kib,
			    MIB_KIB(8192));
		}
		tc_free(t);
	}
}
END_TEST

START_TEST(test_uncooperative_balloon)
{
	struct tc *t = tc_new(24576, 800, 2);
	int64_t asked, over;

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 7000);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 5000);
	decide(t, 0);
	asked = t->p.guests[0].target_kib;
	ck_assert_int_lt(asked, MIB_KIB(8192));
	/* 6 s without movement: inactive, held, not counted */
	decide(t, 6000);
	ck_assert(!balloons(&t->p.guests[0]));
	ck_guest_why(&t->p.guests[0], GW_WHY_WAITING);
	ck_assert_int_gt(t->p.taken_kib, 0);
	ck_assert(balloons(&t->p.guests[1]));
	/* 25 s: uncooperative; memtune holds it from the host side. Its
	 * RSS is below the target (host reclaim took the rest), so the hard
	 * limit can follow the target */
	t->g[0].rss_kib = asked - MIB_KIB(1024);
	decide(t, 25000);
	ck_assert_int_eq(t->p.guests[0].state, GPS_UNCOOPERATIVE);
	ck_assert_int_eq(t->p.guests[0].target_kib, asked);
	over = policy_qemu_overhead_kib(&t->c, t->g[0].max_kib);
	ck_assert_int_eq(t->p.guests[0].soft_limit_kib, asked + over);
	/* it may not grow past what it was asked, nor be cut under its RSS */
	ck_assert_int_eq(t->p.guests[0].hard_limit_kib, asked + over);
	ck_assert_int_ge(t->p.guests[0].hard_limit_kib,
	    t->g[0].rss_kib + over);
	ck_assert_int_eq(t->p.freed_kib, t->p.taken_kib);
	ck_assert_int_le(t->p.freed_kib, MIB_KIB(8192) -
	    t->p.guests[1].target_kib);
	/* a stuck balloon whose RSS is above the target: never under RSS */
	t->g[0].rss_kib = MIB_KIB(8100);
	decide(t, 26000);
	ck_assert_int_eq(t->p.guests[0].hard_limit_kib, MIB_KIB(8100) + over);
	/* the balloon moves again: cooperative, and the hard limit lifted */
	t->g[0].actual_kib = asked;
	t->g[0].hard_limit_kib = t->p.guests[0].hard_limit_kib;
	decide(t, 30000);
	ck_assert_int_eq(t->p.guests[0].state, GPS_OK);
	ck_assert_int_eq(t->p.guests[0].hard_limit_kib, POLICY_LIMIT_UNLIMITED);
	tc_free(t);
}
END_TEST

/* After a restart the policy has no history. A hard limit it finds is
 * memtuned's own when the domain's metadata records it (within the page
 * rounding of the cgroup): not the guest's ceiling, and lifted once the
 * guest is not stuck or hard limits are off. A balloon still above the
 * target recorded with the limit is still stuck: the limit stays. Any
 * other limit is the operator's: it caps the ceiling and is never lifted. */
START_TEST(test_own_hard_limit_after_restart)
{
	enum { X, Y, NONE };
	static const struct {
		const char *name;
		int record;		/* X: the limit in force, Y: another */
		int64_t slack_kib;	/* in force = X - slack */
		int64_t target_mib;	/* recorded with it; 0: none */
		enum policy_hard_limit_mode mode;
		bool own;
		bool lifted;
		enum guest_plan_state state;
	} cases[] = {
		{ "recorded, balloon at its target", X, 0, 6144,
		    HARD_LIMIT_UNCOOPERATIVE, true, true, GPS_OK },
		{ "recorded without a target", X, 0, 0,
		    HARD_LIMIT_UNCOOPERATIVE, true, true, GPS_OK },
		{ "recorded, read back in whole pages", X, 4, 6144,
		    HARD_LIMIT_UNCOOPERATIVE, true, true, GPS_OK },
		{ "recorded, balloon still above its target", X, 0, 5120,
		    HARD_LIMIT_UNCOOPERATIVE, true, false, GPS_UNCOOPERATIVE },
		{ "recorded, still above, hard_limit = off", X, 0, 5120,
		    HARD_LIMIT_OFF, true, true, GPS_UNCOOPERATIVE },
		{ "recorded, hard_limit = always", X, 0, 6144,
		    HARD_LIMIT_ALWAYS, true, false, GPS_OK },
		{ "no record: the operator's", NONE, 0, 0,
		    HARD_LIMIT_UNCOOPERATIVE, false, false, GPS_OK },
		{ "no record, hard_limit = off", NONE, 0, 0, HARD_LIMIT_OFF,
		    false, false, GPS_OK },
		{ "record of another limit: the operator's since", Y, 0, 5120,
		    HARD_LIMIT_UNCOOPERATIVE, false, false, GPS_OK },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tc *t = tc_new(24576, 8000, 1);
		struct guest_plan *gp = &t->p.guests[0];
		int64_t over = policy_qemu_overhead_kib(&t->c, MIB_KIB(8192));
		int64_t x = MIB_KIB(6144) + over;

		t->c.hard_limit_mode = cases[i].mode;
		fx_guest_touched(&t->g[0], 0, 8192, 6144, 4096);
		t->g[0].hard_limit_kib = x - cases[i].slack_kib;
		t->g[0].own_hard_limit_kib = cases[i].record == X ? x :
		    cases[i].record == Y ? x + MIB_KIB(512) : MT_ABSENT;
		t->g[0].own_target_kib = cases[i].target_mib > 0 &&
		    cases[i].record != NONE ? MIB_KIB(cases[i].target_mib) :
		    MT_ABSENT;
		decide(t, 100000);
		ck_assert_msg(gp->ceiling_kib == (cases[i].own ? MIB_KIB(8192) :
		    t->g[0].hard_limit_kib - over), "%s: ceiling %lld MiB",
		    cases[i].name, (long long)gp->ceiling_kib / 1024);
		ck_assert_msg((gp->hard_limit_kib == POLICY_LIMIT_UNLIMITED) ==
		    cases[i].lifted, "%s: hard limit %lld", cases[i].name,
		    (long long)gp->hard_limit_kib);
		ck_assert_msg(gp->state == cases[i].state, "%s: %s",
		    cases[i].name, policy_guest_state_name(gp->state));
		if (cases[i].mode == HARD_LIMIT_ALWAYS)
			ck_assert_int_eq(gp->hard_limit_kib, MIB_KIB(8192) +
			    over);
		tc_free(t);
	}
}
END_TEST

/* A limit kept after a restart on a stuck balloon goes once the balloon
 * moves: the guest is not stuck any more. */
START_TEST(test_own_hard_limit_kept_until_balloon_moves)
{
	struct tc *t = tc_new(24576, 800, 1);
	struct guest_plan *gp = &t->p.guests[0];
	int64_t over = policy_qemu_overhead_kib(&t->c, MIB_KIB(8192));

	fx_guest_touched(&t->g[0], 0, 8192, 6144, 4096);
	t->g[0].rss_kib = MIB_KIB(2000);
	t->g[0].hard_limit_kib = MIB_KIB(3072) + over;
	t->g[0].own_hard_limit_kib = t->g[0].hard_limit_kib;
	t->g[0].own_target_kib = MIB_KIB(3072);
	decide(t, 100000);
	ck_assert_int_eq(gp->state, GPS_UNCOOPERATIVE);
	ck_assert_int_eq(gp->target_kib, MIB_KIB(3072));
	/* held where it is: nothing to change */
	ck_assert_int_eq(gp->hard_limit_kib, MT_ABSENT);
	ck_assert_int_eq(gp->ceiling_kib, MIB_KIB(8192));
	decide(t, 105000);
	ck_assert_int_eq(gp->state, GPS_UNCOOPERATIVE);
	ck_assert_int_eq(gp->hard_limit_kib, MT_ABSENT);
	/* the balloon moves toward its target: the limit goes */
	t->g[0].actual_kib = MIB_KIB(5000);
	decide(t, 110000);
	ck_assert_int_eq(gp->state, GPS_OK);
	ck_assert_int_eq(gp->hard_limit_kib, POLICY_LIMIT_UNLIMITED);
	tc_free(t);
}
END_TEST

/* ------------------------------------------------------------- memtune */

START_TEST(test_memtune_values)
{
	struct tc *t = tc_new(24576, 800, 2);
	int64_t over;

	t->c.hard_limit_mode = HARD_LIMIT_ALWAYS;
	t->c.swap_limit_kib = MIB_KIB(512);
	fx_guest_touched(&t->g[0], 0, 8192, 8192, 6144);
	t->g[0].cgroup_version = 2;
	/* RSS above ceiling + overhead: the hard limit follows the RSS */
	t->g[0].rss_kib = MIB_KIB(9000);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 6144);
	t->g[1].rss_kib = MT_ABSENT;
	decide(t, 0);
	over = policy_qemu_overhead_kib(&t->c, MIB_KIB(8192));
	/* cgroup v2: the soft limit (memory.high) never under the usage */
	ck_assert_int_lt(t->p.guests[0].target_kib, MIB_KIB(9000));
	ck_assert_int_eq(t->p.guests[0].soft_limit_kib, MIB_KIB(9000) + over);
	ck_assert_int_eq(t->p.guests[0].hard_limit_kib, MIB_KIB(9000) + over);
	ck_assert_int_eq(t->p.guests[0].swap_hard_limit_kib,
	    MIB_KIB(9000) + over + MIB_KIB(512));
	ck_assert_int_eq(t->p.guests[0].memory_low_kib,
	    t->p.guests[0].floor_kib + over);
	ck_assert_int_eq(t->p.guests[0].action, ACT_BOTH);
	/* without RSS no hard limit is safe */
	ck_assert_int_eq(t->p.guests[1].hard_limit_kib, MT_ABSENT);
	ck_assert_int_eq(t->p.guests[1].memory_low_kib, MT_ABSENT);
	/* pins the wording: memtune's note is a tail of the reason, with no
	 * code of its own, and says why no hard limit was set */
	ck_assert_ptr_nonnull(strstr(t->p.guests[1].reason,
	    "hard_limit not set: RSS unknown"));
	tc_free(t);
}
END_TEST

/* ----------------------------------------------------------------- KSM */

/* the caller wrote the plan's KSM values: the host now shows them */
static void
ksm_apply(struct tc *t)
{
	struct host_ksm *k = &t->snap.host.ksm;

	policy_note_applied(&t->s, &t->p);
	if (MT_PRESENT(t->p.ksm.run))
		k->run = t->p.ksm.run;
	if (MT_PRESENT(t->p.ksm.pages_to_scan))
		k->pages_to_scan = t->p.ksm.pages_to_scan;
	if (MT_PRESENT(t->p.ksm.sleep_millisecs))
		k->sleep_millisecs = t->p.ksm.sleep_millisecs;
}

static void
ksm_host(struct host_snapshot *h)
{
	h->ksm.present = true;
	h->ksm.run = 0;
	h->ksm.pages_to_scan = 100;
	h->ksm.sleep_millisecs = 20;
	h->ksm.general_profit = 0;
	h->ksm.pages_sharing = 0;
	h->ksm.pages_shared = 0;
	h->ksm.ksmd_cpu_pmil = 10;
}

START_TEST(test_ksm_loop)
{
	/* four 6 GiB guests on 24 GiB: 100% committed, KSM on */
	struct tc *t = tc_new(24576, 6000, 4);

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	decide(t, 0);
	ck_assert(t->p.ksm.change);
	ck_assert_int_eq(t->p.ksm.run, 1);
	ck_ksm_why(&t->p, KSM_WHY_SWITCHED_ON);
	ksm_apply(t);
	/* 100 MiB merged in 10 s pays: faster */
	t->snap.host.ksm.general_profit = 100LL << 20;
	decide(t, 10000);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, 151);
	ck_assert_int_eq(t->p.ksm.sleep_millisecs, MT_ABSENT);	/* at min */
	ck_ksm_why(&t->p, KSM_WHY_PAYS);
	ksm_apply(t);
	/* no further gain: slower */
	decide(t, 20000);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, 113);
	ck_ksm_why(&t->p, KSM_WHY_STOPPED_PAYING);
	ksm_apply(t);
	/* ksmd over its CPU budget: slower, even while it pays */
	t->snap.host.ksm.general_profit += 500LL << 20;
	t->snap.host.ksm.ksmd_cpu_pmil = 400;
	decide(t, 30000);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, 75);
	ck_ksm_why(&t->p, KSM_WHY_OVER_BUDGET);
	tc_free(t);
}
END_TEST

/* A step that would take ksmd past its budget is held to the budget,
 * priced at what a page cost since the last tick: merging makes a page
 * dearer, and the CPU ksmd used last tick (under the budget) says
 * nothing about the next. */
START_TEST(test_ksm_rate_priced_within_budget)
{
	static const struct {
		int64_t ns_page;	/* what a page cost last tick */
		int64_t pages, sleep;	/* ksmd's knobs before the tick */
		bool held;		/* the cap binds */
	} cases[] = {
		/* cheap pages: 20 % buys 200,000 pages/s; the step up
		 * from 5,000 pages/s stays */
		{ 1000, 100, 20, false },
		/* 4 us a page: 50,000 pages/s, where ksmd is now; the
		 * step up is cut back to it */
		{ 4000, 1000, 20, true },
		/* 40 us a page (a page merged costs many compares): 5,000
		 * pages/s, below where ksmd is now: cut back at once */
		{ 40000, 1000, 20, true },
	};

	for (size_t n = 0; n < sizeof(cases) / sizeof(cases[0]); n++) {
		struct tc *t = tc_new(24576, 6000, 4);
		struct host_ksm *k = &t->snap.host.ksm;
		int64_t rate, cap, scanned;

		for (size_t i = 0; i < 4; i++)
			fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
		ksm_host(&t->snap.host);
		k->pages_to_scan = cases[n].pages;
		k->sleep_millisecs = cases[n].sleep;
		k->pages_scanned = 0;
		k->ksmd_cpu_ms = 0;
		decide(t, 0);
		ck_assert_int_eq(t->p.ksm.run, 1);
		ksm_apply(t);
		/* 10 s: merging pays, ksmd last used 10 % of a core (under
		 * the budget), so the loop asks for faster */
		k->general_profit = 500LL << 20;
		k->ksmd_cpu_pmil = 100;
		k->ksmd_cpu_ms = 1000;
		scanned = 1000LL * 1000000 / cases[n].ns_page;
		k->pages_scanned = scanned;
		decide(t, 10000);
		cap = t->c.ksm_cpu_max_pmil * scanned / 1000;
		rate = (MT_PRESENT(t->p.ksm.pages_to_scan) ?
		    t->p.ksm.pages_to_scan : k->pages_to_scan) * 1000 /
		    (MT_PRESENT(t->p.ksm.sleep_millisecs) ?
		    t->p.ksm.sleep_millisecs : k->sleep_millisecs);
		ck_assert_msg(rate <= cap, "case %zu: %lld pages/s over the "
		    "budget's %lld", n, (long long)rate, (long long)cap);
		if (cases[n].held) {
			/* at the budget, not far under it */
			ck_assert_msg(rate >= cap * 9 / 10, "case %zu: %lld "
			    "pages/s, budget %lld", n, (long long)rate,
			    (long long)cap);
		}
		/* the cap is a clause after the step's: the step's code */
		ck_ksm_why(&t->p, KSM_WHY_PAYS);
		tc_free(t);
	}
}
END_TEST

START_TEST(test_ksm_probes_until_two_full_scans)
{
	/* just switched on: no gain yet proves nothing, because KSM merges
	 * a page only after seeing it on two passes. Speed up instead of
	 * slowing down, until two full scans are done; then judge. */
	struct tc *t = tc_new(24576, 6000, 4);

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	t->snap.host.ksm.full_scans = 5;
	decide(t, 0);
	ck_assert_int_eq(t->p.ksm.run, 1);
	ksm_apply(t);
	decide(t, 10000);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, 151);
	ck_ksm_why(&t->p, KSM_WHY_PROBING_FASTER);
	ck_assert_int_eq(t->snap.host.ksm.full_scans - t->s.ksm_on_full_scans,
	    0);
	/* a plentiful host looks again soon while ksmd's rate moves */
	ck_assert_int_eq(t->p.pressure, PRESSURE_PLENTY);
	ck_assert_int_eq(t->p.next_interval_ms, t->c.interval_normal_ms);
	ksm_apply(t);
	t->snap.host.ksm.full_scans = 6;
	decide(t, 20000);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, 227);
	ck_ksm_why(&t->p, KSM_WHY_PROBING_FASTER);
	ck_assert_int_eq(t->snap.host.ksm.full_scans - t->s.ksm_on_full_scans,
	    1);
	ksm_apply(t);
	/* probing stays inside the CPU budget: near it, hold; never judge
	 * the gain before two passes */
	t->snap.host.ksm.ksmd_cpu_pmil = 190;
	decide(t, 30000);
	ck_ksm_why(&t->p, KSM_WHY_PROBING_HELD);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, MT_ABSENT);
	ksm_apply(t);
	/* two passes done and still nothing merged: now it does not pay */
	t->snap.host.ksm.ksmd_cpu_pmil = 10;
	t->snap.host.ksm.full_scans = 7;
	decide(t, 40000);
	ck_ksm_why(&t->p, KSM_WHY_STOPPED_PAYING);
	tc_free(t);
}
END_TEST

START_TEST(test_ksm_probes_again_when_guests_grow)
{
	/* a login storm: ksmd finished two passes over freshly booted
	 * guests in seconds (it skips untouched pages), then the desktops
	 * load and write over what was merged. The loss is guests touching
	 * new memory, not merging that stopped paying: probe again. */
	struct tc *t = tc_new(24576, 6000, 4);

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	t->snap.host.ksm.full_scans = 5;
	decide(t, 0);
	ck_assert_int_eq(t->p.ksm.run, 1);
	ksm_apply(t);
	t->snap.host.ksm.full_scans = 7;	/* two quick passes */
	t->snap.host.ksm.general_profit = 50LL << 20;
	decide(t, 10000);
	ksm_apply(t);
	/* each desktop touches 1 GiB more; merged pages break (CoW) */
	for (size_t i = 0; i < 4; i++)
		t->g[i].rss_kib += MIB_KIB(1024);
	t->snap.host.ksm.general_profit = 10LL << 20;
	decide(t, 20000);
	ck_ksm_why(&t->p, KSM_WHY_PROBING_FASTER);
	ck_assert_int_eq(t->snap.host.ksm.full_scans - t->s.ksm_on_full_scans,
	    0);
	ck_assert_int_eq(t->s.ksm_probe_grew_kib, MIB_KIB(4096));
	ck_assert_int_gt(t->p.ksm.pages_to_scan, t->snap.host.ksm.pages_to_scan);
	ksm_apply(t);
	/* growth under the threshold does not restart; a shrink lowers the
	 * mark the next growth is measured from */
	for (size_t i = 0; i < 4; i++)
		t->g[i].rss_kib -= MIB_KIB(512);
	t->snap.host.ksm.full_scans = 8;
	decide(t, 30000);
	ck_ksm_why(&t->p, KSM_WHY_PROBING_FASTER);
	ck_assert_int_eq(t->snap.host.ksm.full_scans - t->s.ksm_on_full_scans,
	    1);
	ck_assert_int_eq(t->s.ksm_probe_grew_kib, MIB_KIB(4096));
	ksm_apply(t);
	/* two passes over the grown guests and still losing: now judge */
	t->snap.host.ksm.full_scans = 9;
	t->snap.host.ksm.general_profit = 5LL << 20;
	decide(t, 40000);
	ck_ksm_why(&t->p, KSM_WHY_STOPPED_PAYING);
	tc_free(t);
}
END_TEST

START_TEST(test_headroom_follows_growth)
{
	/* a 4 GiB guest using 2 GiB: new, it keeps 10 % (410 MiB) free
	 * above its use; held still for headroom_memory the remembered spurt
	 * halves each period down to 5 % (205 MiB); a 300 MiB jump brings
	 * back twice that, capped at 10 %; headroom_steady = headroom turns
	 * the adaptation off */
	struct tc *t = tc_new(24576, 12000, 1);
	int64_t used = MIB_KIB(4096 - 2048), hi = MIB_KIB(4096) / 10;
	int64_t lo = MIB_KIB(4096) / 20, ms = 0;

	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + hi);
	/* steady: still 10 % before the memory runs out */
	ms += t->c.headroom_memory_ms - 1000;
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + hi);
	/* a period without growth halves the spurt: headroom hi/2 -> lo */
	ms += 1000;
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + MAX(lo, hi - hi / 2));
	ms += t->c.headroom_memory_ms;
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + lo);
	/* 100 MiB more used within one tick: twice that, 200 MiB < lo */
	ms += 5000;
	t->g[0].usable_kib -= MIB_KIB(100);
	used += MIB_KIB(100);
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + MAX(lo, MIB_KIB(200)));
	/* 300 MiB more: twice that is 600 MiB, capped at 10 % */
	ms += 5000;
	t->g[0].usable_kib -= MIB_KIB(300);
	used += MIB_KIB(300);
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + hi);
	/* the same 300 MiB spread over a minute counts as what one window
	 * (two tight intervals, 10 s) saw of it: 50 MiB */
	ms += 3 * t->c.headroom_memory_ms;
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + lo);
	ms += 60000;
	t->g[0].usable_kib -= MIB_KIB(300);
	used += MIB_KIB(300);
	decide(t, ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + lo);
	/* ticks every 2 s, 40 MiB each: a window (10 s) sees 200 MiB, so
	 * the headroom is 400 MiB, though no single tick saw more than 40 */
	ms += 3 * t->c.headroom_memory_ms;
	decide(t, ms);
	for (int k = 0; k < 5; k++) {
		ms += 2000;
		t->g[0].usable_kib -= MIB_KIB(40);
		used += MIB_KIB(40);
		decide(t, ms);
	}
	ck_assert_int_eq(t->p.guests[0].need_kib, used + MIB_KIB(400));
	tc_free(t);

	/* off: the same growth history, need always used + 10 % */
	t = tc_new(24576, 12000, 1);
	t->c.headroom_steady_pmy = t->c.headroom_pmy;
	used = MIB_KIB(4096 - 2048);
	decide(t, 0);
	decide(t, 3 * t->c.headroom_memory_ms);
	ck_assert_int_eq(t->p.guests[0].need_kib, used + hi);
	tc_free(t);
}
END_TEST

START_TEST(test_nearly_out_served_first)
{
	/* two guests under their own pressure on a tight host with only
	 * 200 MiB above the critical line to give: the one with 50 MiB left
	 * gets all of it; the one with 300 MiB left (under its 410 MiB
	 * headroom, but not nearly out) waits. Shared by shares alone, each
	 * would get 100 MiB and the nearly-out guest would fault on. */
	struct tc *t = tc_new(24576, 712, 2);

	fx_guest_touched(&t->g[0], 0, 4096, 2048, 300);
	fx_guest_touched(&t->g[1], 1, 4096, 2048, 50);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert_int_eq(t->p.guests[1].target_kib - t->g[1].actual_kib,
	    MIB_KIB(200));
	ck_assert_int_eq(t->p.guests[0].target_kib, t->g[0].actual_kib);
	ck_guest_why(&t->p.guests[1], GW_WHY_PRESSURE_FED);
	ck_guest_why(&t->p.guests[0], GW_WHY_NO_ROOM);
	/* with room for both asks, both are served in full */
	tc_free(t);
	t = tc_new(24576, 2000, 2);
	fx_guest_touched(&t->g[0], 0, 4096, 2048, 300);
	fx_guest_touched(&t->g[1], 1, 4096, 2048, 50);
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[1].target_kib,
	    t->p.guests[1].need_kib);
	ck_assert_int_eq(t->p.guests[0].target_kib,
	    t->p.guests[0].need_kib);
	tc_free(t);
}
END_TEST

START_TEST(test_ksm_pages_sharing_fallback_and_off)
{
	struct tc *t = tc_new(24576, 6000, 4);

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	t->snap.host.ksm.general_profit = MT_ABSENT;
	decide(t, 0);
	t->snap.host.ksm.run = 1;
	t->snap.host.ksm.pages_sharing = 25600;		/* 100 MiB */
	decide(t, 10000);
	/* the gain read from pages_sharing (no general_profit) pays */
	ck_ksm_why(&t->p, KSM_WHY_PAYS);
	/* guests stop: committed 25% < 60%, host calm: off */
	t->snap.nr_guests = 1;
	t->snap.host.mem.mem_avail_kib = MIB_KIB(12000);
	decide(t, 20000);
	ck_assert_int_eq(t->p.ksm.run, 0);
	tc_free(t);
}
END_TEST

START_TEST(test_ksm_advisor)
{
	struct tc *t = tc_new(24576, 6000, 4);

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	mt_strlcpy(t->snap.host.ksm.advisor_mode, "none",
	    sizeof(t->snap.host.ksm.advisor_mode));
	t->snap.host.ksm.advisor_max_cpu = 70;
	t->snap.host.ksm.advisor_target_scan_time = 200;
	decide(t, 0);
	ck_assert_str_eq(t->p.ksm.advisor_mode, "scan-time");
	ck_assert_int_eq(t->p.ksm.advisor_max_cpu, 20);
	ck_assert_int_eq(t->p.ksm.pages_to_scan, MT_ABSENT);
	/* not allowed by the config: the loop sets the rate itself */
	t->c.ksm_use_advisor = false;
	decide(t, 10000);
	ck_assert_str_eq(t->p.ksm.advisor_mode, "");
	tc_free(t);
}
END_TEST

START_TEST(test_ksm_backs_off_from_other_manager)
{
	struct tc *t = tc_new(24576, 6000, 4);

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	decide(t, 0);
	ksm_apply(t);
	decide(t, 5000);
	ck_assert(!t->p.ksm.backoff);
	/* someone set run back to 0 */
	t->snap.host.ksm.run = 0;
	decide(t, 10000);
	ck_assert(t->p.ksm.backoff);
	ck_assert(!t->p.ksm.change);
	ck_ksm_why(&t->p, KSM_WHY_OUTSIDE_CHANGE);
	decide(t, 20000);
	ck_assert(t->p.ksm.backoff);
	ck_assert(!t->p.ksm.change);
	/* after the back-off it starts again from what the host has */
	decide(t, 10000 + t->c.ksm_backoff_ms);
	ck_assert(!t->p.ksm.backoff);
	ck_assert(t->p.ksm.change);
	ck_assert_int_eq(t->p.ksm.run, 1);
	tc_free(t);
}
END_TEST

/* ----------------------------------------------------------------- THP */

START_TEST(test_thp_with_ksm)
{
	struct tc *t = tc_new(24576, 800, 4);
	struct host_thp *h = &t->snap.host.thp;

	for (size_t i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], (int)i, 6144, 6144, 3000);
	ksm_host(&t->snap.host);
	h->present = true;
	mt_strlcpy(h->enabled, "always", sizeof(h->enabled));
	mt_strlcpy(h->defrag, "madvise", sizeof(h->defrag));
	h->khugepaged_scan_sleep_millisecs = 10000;
	h->khugepaged_pages_to_scan = 4096;
	h->khugepaged_max_ptes_none = 511;
	/* overcommitted and tight: prefer merging */
	decide(t, 0);
	ck_assert(t->p.thp.change);
	ck_assert_str_eq(t->p.thp.defrag, "defer");
	ck_assert_int_eq(t->p.thp.khugepaged_scan_sleep_millisecs, 60000);
	ck_assert_int_eq(t->p.thp.khugepaged_pages_to_scan, 512);
	ck_assert_int_eq(t->p.thp.khugepaged_max_ptes_none, 64);
	ck_thp_why(&t->p, THP_WHY_OVERCOMMIT);
	mt_strlcpy(h->defrag, "defer", sizeof(h->defrag));
	h->khugepaged_scan_sleep_millisecs = 60000;
	h->khugepaged_pages_to_scan = 512;
	h->khugepaged_max_ptes_none = 64;
	/* plenty again (after the dwell): the host's own settings return */
	t->snap.host.mem.mem_avail_kib = MIB_KIB(12000);
	decide(t, 10000);
	decide(t, 50000);
	ck_assert_int_eq(t->p.pressure, PRESSURE_PLENTY);
	ck_assert(t->p.thp.change);
	ck_assert_str_eq(t->p.thp.defrag, "madvise");
	ck_assert_int_eq(t->p.thp.khugepaged_scan_sleep_millisecs, 10000);
	ck_assert_int_eq(t->p.thp.khugepaged_pages_to_scan, 4096);
	ck_assert_int_eq(t->p.thp.khugepaged_max_ptes_none, 511);
	tc_free(t);
}
END_TEST

/* ----------------------------------------------------------- admission */

START_TEST(test_reserve_for_starting_vm)
{
	struct tc *t = tc_new(24576, 2048, 2);
	int rc;

	fx_guest_touched(&t->g[0], 0, 8192, 8192, 6144);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 6144);
	/* 2 GiB: 512 MiB of host room above the target, 1.5 GiB freed */
	rc = policy_reserve(&t->c, &t->snap, &t->s, 0, MIB_KIB(2048), &t->p);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(t->p.taken_kib, MIB_KIB(1536));
	ck_assert_int_eq(t->p.guests[0].target_kib + t->p.guests[1].target_kib,
	    MIB_KIB(2 * 8192 - 1536));
	ck_assert(balloons(&t->p.guests[0]));
	ck_guest_why(&t->p.guests[0], GW_WHY_RESERVE_TAKES);
	tc_free(t);

	/* 64 GiB cannot be found: say how much can */
	t = tc_new(24576, 2048, 2);
	fx_guest_touched(&t->g[0], 0, 8192, 8192, 6144);
	fx_guest_touched(&t->g[1], 1, 8192, 8192, 6144);
	rc = policy_reserve(&t->c, &t->snap, &t->s, 0, MIB_KIB(65536), &t->p);
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_int_gt(t->p.reserve_possible_kib, MIB_KIB(512));
	ck_assert_int_lt(t->p.reserve_possible_kib, MIB_KIB(65536));
	/* the daemon's cap never refuses what the policy could grant */
	ck_assert_int_le(t->p.reserve_possible_kib, policy_reserve_max_kib(
	    &t->c, t->snap.host.mem.mem_total_kib));
	ck_assert(!balloons(&t->p.guests[0]));
	ck_assert(!balloons(&t->p.guests[1]));
	tc_free(t);
}
END_TEST

/* A guest ramping up is fed within seconds even on a plentiful host:
 * under its own pressure, just fed, or with a balloon on its way, the
 * next look is at most interval_tight away, whatever the host state. */
START_TEST(test_next_interval_follows_busy_guests)
{
	static const struct {
		int64_t avail_mib;
		int64_t usable_mib;	/* guest 0 */
		int64_t actual_mib;	/* guest 0's balloon now */
		bool known;		/* a target was sent before */
		enum host_pressure p;
		int64_t interval_ms;
	} rows[] = {
		/* calm guests at their target: the host state decides */
		{ 20000, 2048, 4096, false, PRESSURE_PLENTY, 30000 },
		{ 2000, 2048, 4096, false, PRESSURE_NORMAL, 10000 },
		{ 700, 3500, 4096, false, PRESSURE_TIGHT, 5000 },
		{ 300, 3500, 4096, false, PRESSURE_CRITICAL, 2000 },
		/* under its own pressure */
		{ 20000, 100, 4096, false, PRESSURE_PLENTY, 5000 },
		{ 2000, 100, 4096, false, PRESSURE_NORMAL, 5000 },
		{ 300, 100, 4096, false, PRESSURE_CRITICAL, 2000 },
		/* a balloon still on its way to the target sent before */
		{ 2000, 2048, 3000, true, PRESSURE_NORMAL, 5000 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct tc *t = tc_new(24576, rows[r].avail_mib, 2);

		fx_guest_touched(&t->g[0], 0, 4096, 4096, rows[r].usable_mib);
		/* guest 1 at its ceiling: nothing to grow */
		fx_guest_touched(&t->g[1], 1, 4096, 4096, 2048);
		if (rows[r].known) {
			/* the first tick sends guest 0 a smaller target on
			 * a tight host; the balloon has gone part way */
			t->snap.host.mem.mem_avail_kib = MIB_KIB(700);
			fx_guest_touched(&t->g[0], 0, 4096, 4096, 3500);
			decide(t, 0);
			ck_assert(balloons(&t->p.guests[0]));
			t->g[0].actual_kib = t->p.guests[0].target_kib +
			    MIB_KIB(200);
			t->snap.host.mem.mem_avail_kib =
			    MIB_KIB(rows[r].avail_mib);
			t->s.pressure = PRESSURE_NORMAL;
			t->s.better_since_ms = MT_ABSENT;
			decide(t, 1000);
		} else {
			decide(t, 0);
		}
		ck_assert_msg(t->p.pressure == rows[r].p, "row %zu: %s", r,
		    policy_pressure_name(t->p.pressure));
		ck_assert_msg(t->p.next_interval_ms == rows[r].interval_ms,
		    "row %zu: next %lld ms, want %lld", r,
		    (long long)t->p.next_interval_ms,
		    (long long)rows[r].interval_ms);
		tc_free(t);
	}
}
END_TEST

/* A guest whose stats went missing after it had them (the bulk call
 * skipped it, or it answers late) is looked at again at the tight pace
 * for two minutes; a guest that never had stats, or lost them long ago,
 * leaves the pace to the host. */
START_TEST(test_next_interval_watches_lost_stats)
{
	static const struct {
		const char *name;
		bool had_stats;		/* a first tick with stats */
		int64_t lost_after_ms;	/* the tick without them */
		enum guest_stats_state now;
		int64_t interval_ms;
	} rows[] = {
		{ "stats skipped once", true, 30000, GUEST_STATS_NONE, 5000 },
		{ "stats stale", true, 30000, GUEST_STATS_STALE, 5000 },
		{ "lost 119 s ago", true, 119000, GUEST_STATS_NONE, 5000 },
		{ "lost 2 min ago", true, 120000, GUEST_STATS_NONE, 30000 },
		{ "never had stats", false, 30000, GUEST_STATS_NONE, 30000 },
		{ "stats back", true, 30000, GUEST_STATS_OK, 30000 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct tc *t = tc_new(24576, 20000, 2);

		/* both guests calm at their ceiling on a plentiful host */
		fx_guest_touched(&t->g[0], 0, 4096, 4096, 2048);
		fx_guest_touched(&t->g[1], 1, 4096, 4096, 2048);
		if (!rows[r].had_stats)
			t->g[0].stats = GUEST_STATS_NONE;
		decide(t, 0);
		ck_assert_int_eq(t->p.next_interval_ms, 30000);
		t->g[0].stats = rows[r].now;
		decide(t, rows[r].lost_after_ms);
		ck_assert_msg(t->p.next_interval_ms == rows[r].interval_ms,
		    "%s: next %lld ms, want %lld", rows[r].name,
		    (long long)t->p.next_interval_ms,
		    (long long)rows[r].interval_ms);
		tc_free(t);
	}
}
END_TEST

/* ---------------------------------------------------------------- NUMA */

/* Two 16 GiB nodes on a 32 GiB host with a 1 GiB reserve: each node's
 * reserve is 512 MiB, so a node is tight below 512 MiB available, critical
 * below 256 MiB, and its reclaim aims at 768 MiB plus 32 MiB of dead band. */
static struct tc *
tc_numa(int64_t avail_mib, int64_t free0_mib, int64_t free1_mib, size_t nr)
{
	struct tc *t = tc_new(32768, avail_mib, nr);

	fx_node(&t->snap.host, 0, 16384, free0_mib);
	fx_node(&t->snap.host, 1, 16384, free1_mib);
	return t;
}

START_TEST(test_numa_full_node_confined_guests_give)
{
	/* host normal overall, node 1 nearly full, node 0 free */
	struct tc *t = tc_numa(3000, 2600, 400, 4);

	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x2);
	fx_confine(&t->g[2], 0x1);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_NORMAL);
	ck_assert_int_eq(t->p.nr_nodes, 2);
	ck_assert_int_eq(t->p.nodes[0].pressure, PRESSURE_PLENTY);
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_TIGHT);
	ck_assert(t->p.nodes[1].rule && !t->p.nodes[0].rule);
	ck_assert_int_eq(t->p.nodes[1].nr_confined, 2);
	ck_assert_int_eq(t->p.nodes[1].reserve_kib, MIB_KIB(512));
	/* 768 - 400 MiB short, plus the node's share of the dead band */
	ck_assert_int_eq(t->p.nodes[1].need_kib, MIB_KIB(368));
	ck_assert_int_eq(t->p.nodes[1].taken_kib, MIB_KIB(400));
	ck_assert_int_eq(t->p.taken_kib, MIB_KIB(400));
	/* both confined guests equally idle: equal parts */
	for (int i = 0; i < 2; i++) {
		ck_assert(balloons(&t->p.guests[i]));
		ck_assert_int_eq(t->p.guests[i].target_kib, MIB_KIB(4096 - 200));
		ck_guest_why(&t->p.guests[i], GW_WHY_NODE_TAKES);
		/* pins the wording: the node's state, then the guest's part */
		ck_assert_ptr_nonnull(strstr(t->p.guests[i].reason,
		    "node 1: 400 MiB available of 16384 MiB (tight): "
		    "confined to node 1, gives 200 MiB"));
	}
	/* guests on node 0 and unbound guests are not squeezed for it */
	for (int i = 2; i < 4; i++) {
		ck_assert(!balloons(&t->p.guests[i]));
		ck_assert_int_eq(t->p.guests[i].target_kib, MIB_KIB(4096));
		ck_guest_why(&t->p.guests[i], GW_WHY_STEADY);
	}
	/* pins the wording: the host's line names the node under the rule */
	ck_assert_ptr_nonnull(strstr(t->p.pressure_reason,
	    "node 1 tight (400 MiB available): 2 confined guests give 400 MiB"));
	tc_free(t);
}
END_TEST

START_TEST(test_numa_full_node_confined_guests_not_grown)
{
	/* host has plenty; node 1 is tight: its guests give and do not
	 * grow, the others grow toward their ceilings */
	struct tc *t = tc_numa(8000, 7600, 400, 4);

	for (int i = 0; i < 4; i++)
		fx_guest_touched(&t->g[i], i, 4096, 3072, 1024);
	fx_guest_touched(&t->g[1], 1, 4096, 3072, 420);	/* nothing idle */
	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x2);
	fx_confine(&t->g[2], 0x1);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_PLENTY);
	ck_assert_int_lt(t->p.guests[0].target_kib, MIB_KIB(3072));
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(3072));
	/* held by the node rule itself, not only cut by the node's room */
	ck_guest_why(&t->p.guests[1], GW_WHY_NODE_STEADY);
	ck_assert_int_gt(t->p.guests[2].target_kib, MIB_KIB(3072));
	ck_assert_int_gt(t->p.guests[3].target_kib, MIB_KIB(3072));
	ck_guest_why(&t->p.guests[3], GW_WHY_PLENTY_GIVES);
	tc_free(t);
}
END_TEST

START_TEST(test_numa_node_normal_caps_growth)
{
	/* host plenty, node 1 only normal (1500 MiB, below its 2 GiB plenty
	 * line): growing its guest would make it tight next tick */
	struct tc *t = tc_numa(8000, 6500, 1500, 2);

	for (int i = 0; i < 2; i++)
		fx_guest_touched(&t->g[i], i, 4096, 3072, 2000);
	fx_confine(&t->g[0], 0x2);
	decide(t, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_PLENTY);
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_NORMAL);
	ck_assert(!t->p.nodes[1].rule);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(3072));
	ck_guest_why(&t->p.guests[0], GW_WHY_NODE_CAPPED);
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_NORMAL);
	ck_assert_int_gt(t->p.guests[1].target_kib, MIB_KIB(3072));
	ck_assert_int_eq(t->p.given_kib,
	    t->p.guests[1].target_kib - MIB_KIB(3072));

	/* room above the node's plenty line: growth up to that room */
	t->snap.host.numa.node_free_kib[1] = MIB_KIB(2048 + 32 + 100);
	decide(t, 60000);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(3072 + 100));
	ck_guest_why(&t->p.guests[0], GW_WHY_NODE_CAPPED);
	tc_free(t);
}
END_TEST

START_TEST(test_numa_tight_node_nothing_confined)
{
	struct tc *t = tc_numa(3000, 2600, 400, 3), *u = tc_new(32768, 3000, 3);

	/* one guest bound to both nodes is as good as unbound */
	fx_confine(&t->g[2], 0x3);
	decide(t, 0);
	decide(u, 0);
	ck_assert(t->p.nodes[1].rule);
	ck_assert_int_eq(t->p.nodes[1].nr_confined, 0);
	ck_host_why(&t->p, HW_WHY_MEM_AVAILABLE);
	ck_assert_int_eq(t->p.taken_kib, 0);
	ck_assert_int_eq(t->p.next_interval_ms, u->p.next_interval_ms);
	for (int i = 0; i < 3; i++) {
		ck_assert(!balloons(&t->p.guests[i]));
		ck_assert_int_eq(t->p.guests[i].target_kib,
		    u->p.guests[i].target_kib);
		ck_assert_str_eq(t->p.guests[i].reason, u->p.guests[i].reason);
		ck_assert_int_eq(t->p.guests[i].reason_code,
		    u->p.guests[i].reason_code);
	}
	tc_free(t);
	tc_free(u);
}
END_TEST

START_TEST(test_numa_floors_respected)
{
	/* node 1 critical: the critical step, but never below a floor */
	struct tc *t = tc_numa(3000, 2800, 100, 3);

	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x2);
	fx_confine(&t->g[2], 0x2);
	t->g[0].input.floor_kib = MIB_KIB(4000);
	t->g[1].input.floor_kib = MIB_KIB(3900);
	t->g[2].input.floor_kib = MIB_KIB(4096);
	decide(t, 0);
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_CRITICAL);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(4000));
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(3900));
	ck_assert_int_eq(t->p.guests[2].target_kib, MIB_KIB(4096));
	ck_assert_int_eq(t->p.taken_kib, MIB_KIB(96 + 196));
	for (int tick = 1; tick < 10; tick++) {
		follow(t);
		decide(t, tick * 70000);
		for (int i = 0; i < 3; i++)
			ck_assert_int_ge(t->p.guests[i].target_kib,
			    t->p.guests[i].floor_kib);
	}
	/* nothing above the floors is left: held, and it says why */
	ck_assert_int_eq(t->p.taken_kib, 0);
	ck_guest_why(&t->p.guests[0], GW_WHY_NODE_STEADY);
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_CRITICAL);
	/* nothing moving, host normal: watched at the node's pace */
	ck_assert_int_eq(t->p.pressure, PRESSURE_NORMAL);
	ck_assert_int_eq(t->p.next_interval_ms, t->c.interval_critical_ms);
	tc_free(t);
}
END_TEST

START_TEST(test_numa_pressured_guest_fed_from_its_node)
{
	struct tc *t = tc_numa(3000, 2600, 400, 4);

	fx_guest_touched(&t->g[0], 0, 8192, 4096, 100);		/* pressured */
	fx_guest_touched(&t->g[1], 1, 16384, 16384, 12288);
	fx_guest_touched(&t->g[2], 2, 16384, 16384, 12288);
	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x2);
	fx_confine(&t->g[2], 0x1);
	decide(t, 0);
	/* g1 gives its step (1 GiB): 400 MiB for the node, the rest for g0 */
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(16384 - 1024));
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(4096 + 624));
	ck_guest_why(&t->p.guests[0], GW_WHY_NODE_FED);
	/* the idle guest on node 0 funds nothing, and the host's room
	 * above its target is not node 1's */
	ck_assert_int_eq(t->p.guests[2].target_kib, MIB_KIB(16384));
	ck_assert_int_eq(t->p.guests[3].target_kib, MIB_KIB(4096));
	tc_free(t);

	/* no donor on node 1: the guest waits, and says so */
	t = tc_numa(3000, 2600, 400, 3);
	fx_guest_touched(&t->g[0], 0, 8192, 4096, 100);
	fx_guest_touched(&t->g[1], 1, 16384, 16384, 12288);
	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x1);
	decide(t, 0);
	ck_assert_int_eq(t->p.guests[0].target_kib, MIB_KIB(4096));
	ck_guest_why(&t->p.guests[0], GW_WHY_NODE_NO_ROOM);
	ck_assert_int_eq(t->p.guests[1].target_kib, MIB_KIB(16384));
	tc_free(t);
}
END_TEST

START_TEST(test_numa_host_tight_uses_host_rule)
{
	/* the host itself is short: its reclaim covers every guest, bound
	 * or not, exactly as without nodes */
	struct tc *t = tc_numa(800, 700, 100, 3), *u = tc_new(32768, 800, 3);

	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x1);
	decide(t, 0);
	decide(u, 0);
	ck_assert_int_eq(t->p.pressure, PRESSURE_TIGHT);
	ck_assert(!t->p.nodes[1].rule);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(t->p.guests[i].target_kib,
		    u->p.guests[i].target_kib);
		ck_assert_str_eq(t->p.guests[i].reason, u->p.guests[i].reason);
		ck_assert_int_eq(t->p.guests[i].reason_code,
		    u->p.guests[i].reason_code);
	}
	ck_assert_str_eq(t->p.pressure_reason, u->p.pressure_reason);
	tc_free(t);
	tc_free(u);
}
END_TEST

START_TEST(test_numa_one_node_unchanged)
{
	/* one node (or none): a confined guest is any other guest */
	for (int variant = 0; variant < 2; variant++) {
		struct tc *t = tc_new(32768, 8000, 3), *u = tc_new(32768, 8000, 3);

		if (variant == 1)
			fx_node(&t->snap.host, 0, 32768, 300);
		for (int i = 0; i < 3; i++) {
			fx_guest_touched(&t->g[i], i, 4096, 3072, 1024);
			fx_guest_touched(&u->g[i], i, 4096, 3072, 1024);
			fx_confine(&t->g[i], 0x1);
		}
		decide(t, 0);
		decide(u, 0);
		ck_assert_int_eq(t->p.nr_nodes, 0);
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(t->p.guests[i].target_kib,
			    u->p.guests[i].target_kib);
			ck_assert_str_eq(t->p.guests[i].reason,
			    u->p.guests[i].reason);
			ck_assert_int_eq(t->p.guests[i].reason_code,
			    u->p.guests[i].reason_code);
		}
		ck_assert_int_gt(t->p.guests[0].target_kib, MIB_KIB(3072));
		ck_assert_str_eq(t->p.pressure_reason, u->p.pressure_reason);
		tc_free(t);
		tc_free(u);
	}
}
END_TEST

START_TEST(test_numa_page_cache_is_not_tight)
{
	/* MemFree low on node 1 but the host holds 7 GiB of reclaimable
	 * cache: node 1's share (3.5 GiB) puts it in plenty */
	struct tc *t = tc_numa(8000, 900, 100, 1);

	t->snap.host.mem.mem_free_kib = MIB_KIB(1000);
	fx_confine(&t->g[0], 0x2);
	decide(t, 0);
	ck_assert_int_eq(t->p.nodes[1].avail_kib, MIB_KIB(100 + 3500));
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_PLENTY);
	ck_assert(!t->p.nodes[1].rule);
	ck_assert(!balloons(&t->p.guests[0]));
	/* without the cache, node 1 is critical and its guest gives */
	t->snap.host.mem.mem_free_kib = MIB_KIB(8000);
	decide(t, 0);
	ck_assert_int_eq(t->p.nodes[1].pressure, PRESSURE_CRITICAL);
	ck_assert(balloons(&t->p.guests[0]));
	tc_free(t);
}
END_TEST

START_TEST(test_numa_home_node)
{
	struct tc *t = tc_new(49152, 8000, 0);

	fx_node(&t->snap.host, 0, 16384, 300);
	fx_node(&t->snap.host, 1, 16384, 900);
	fx_node(&t->snap.host, 3, 16384, 5000);	/* node 2 absent */
	decide(t, 0);
	ck_assert_int_eq(t->p.nr_nodes, 4);
	ck_assert(!MT_PRESENT(t->p.nodes[2].total_kib));
	/* the best node of the set is where its pages come from */
	ck_assert_int_eq(policy_home_node(&t->p, 0x3), 1);
	ck_assert_int_eq(policy_home_node(&t->p, 0x1), 0);
	ck_assert_int_eq(policy_home_node(&t->p, 0x9), 3);
	/* every present node, or none of them: not confined anywhere */
	ck_assert_int_eq(policy_home_node(&t->p, 0xb), -1);
	ck_assert_int_eq(policy_home_node(&t->p, 0xf), -1);
	ck_assert_int_eq(policy_home_node(&t->p, 0x4), -1);
	ck_assert_int_eq(policy_home_node(&t->p, UINT64_C(1) << 40), -1);
	tc_free(t);
}
END_TEST

START_TEST(test_bad_snapshot)
{
	struct tc *t = tc_new(24576, 2048, 0);

	t->snap.host.mem.mem_avail_kib = MT_ABSENT;
	ck_assert_int_eq(policy_decide(&t->c, &t->snap, &t->s, 0, &t->p),
	    -EINVAL);
	tc_free(t);
}
END_TEST

START_TEST(test_reason_format)
{
	/* the reasons' own formatter agrees with printf on what it takes */
	char b[64], small[8];

	policy_reasonf(b, sizeof(b), "PSI %lld.%02lld%% of %s, %d/%zu",
	    12LL, 5LL, "memory", -3, (size_t)7);
	ck_assert_str_eq(b, "PSI 12.05% of memory, -3/7");
	policy_reasonf(b, sizeof(b), "%lld %lld", (long long)INT64_MIN,
	    (long long)INT64_MAX);
	ck_assert_str_eq(b, "-9223372036854775808 9223372036854775807");
	/* cut at the end of the buffer, always terminated */
	policy_reasonf(small, sizeof(small), "balloon %lld MiB", 123456LL);
	ck_assert_str_eq(small, "balloon");
}
END_TEST

/* Every code has a key of its own: non-empty, snake_case, and no two of
 * one kind alike (a script tells them apart by the key alone). */
static void
check_keys(const char *kind, int n, const char *(*name)(int))
{
	for (int a = 0; a < n; a++) {
		const char *ka = name(a);

		ck_assert_msg(ka[0] != '\0' && strcmp(ka, "?") != 0,
		    "%s %d has no key", kind, a);
		ck_assert_msg(strspn(ka, "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(ka), "%s key \"%s\" is not snake_case", kind, ka);
		for (int b = 0; b < a; b++)
			ck_assert_msg(strcmp(ka, name(b)) != 0,
			    "%s %d and %d share the key %s", kind, b, a, ka);
	}
	ck_assert_str_eq(name(n), "?");
	ck_assert_str_eq(name(-1), "?");
}

static const char *
guest_key(int w)
{
	return policy_guest_why_name((enum guest_why)w);
}

static const char *
host_key(int w)
{
	return policy_host_why_name((enum host_why)w);
}

static const char *
ksm_key(int w)
{
	return policy_ksm_why_name((enum ksm_why)w);
}

static const char *
thp_key(int w)
{
	return policy_thp_why_name((enum thp_why)w);
}

START_TEST(test_reason_keys_distinct)
{
	check_keys("guest_why", GW_WHY_N, guest_key);
	check_keys("host_why", HW_WHY_N, host_key);
	check_keys("ksm_why", KSM_WHY_N, ksm_key);
	check_keys("thp_why", THP_WHY_N, thp_key);
	/* the key scripts see for "nothing written" */
	ck_assert_str_eq(policy_guest_why_name(GW_WHY_NONE), "none");
	ck_assert_str_eq(policy_guest_why_name(GW_WHY_RETURNS_NOTHING),
	    "returns_nothing");
}
END_TEST

START_TEST(test_grows_past_initial_capacity)
{
	/* state and plan sized for 8 guests take a snapshot of 100 */
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot *g = calloc(100, sizeof(*g));

	ck_assert_ptr_nonnull(g);
	fx_config(&c);
	ck_assert_int_eq(policy_state_init(&s, 8), 0);
	ck_assert_int_eq(policy_plan_init(&p, 8), 0);
	fx_host(&snap.host, 524288, 800);
	for (int i = 0; i < 100; i++)
		fx_guest_touched(&g[i], i, 4096, 4096, 3000);
	snap.guests = g;
	snap.nr_guests = 100;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	ck_assert_uint_eq(p.nr_guests, 100);
	ck_assert_int_gt(p.taken_kib, 0);
	policy_state_free(&s);
	policy_plan_free(&p);
	free(g);
}
END_TEST

Suite *
policy_table_suite(void)
{
	Suite *s = suite_create("policy_table");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pressure_states_from_avail);
	tcase_add_test(tc, test_pressure_signals);
	tcase_add_test(tc, test_pressure_hysteresis);
	tcase_add_test(tc, test_reserve_auto);
	tcase_add_test(tc, test_reserve_max);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_floor_above_ceiling_is_config_error);
	tcase_add_test(tc, test_reclaim_most_idle_first);
	tcase_add_test(tc, test_reclaim_weighted_by_shares);
	tcase_add_test(tc, test_reclaim_never_below_need_or_floor);
	tcase_add_test(tc, test_pressured_guest_fed_while_host_tight);
	tcase_add_test(tc, test_pressured_guest_by_faults_fed_from_host_room);
	tcase_add_test(tc, test_normal_host_holds_idle_guests);
	tcase_add_test(tc, test_plenty_grows_toward_ceiling_with_cooldown);
	tcase_add_test(tc, test_plenty_satisfied_no_change);
	tcase_add_test(tc, test_critical_step_moves_8g_fast);
	tcase_add_test(tc, test_steps_do_not_spill_onto_busy_guest);
	tcase_add_test(tc, test_need_in_balloon_units);
	tcase_add_test(tc, test_tight_step_is_bounded);
	tcase_add_test(tc, test_min_change_skips_small_moves);
	tcase_add_test(tc, test_deadband);
	tcase_add_test(tc, test_reverse_cooldown);
	tcase_add_test(tc, test_stale_and_missing_stats_not_idle);
	tcase_add_test(tc, test_fixed_and_excluded);
	tcase_add_test(tc, test_held_guests);
	tcase_add_test(tc, test_guests_left_alone);
	tcase_add_test(tc, test_uncooperative_balloon);
	tcase_add_test(tc, test_own_hard_limit_after_restart);
	tcase_add_test(tc, test_own_hard_limit_kept_until_balloon_moves);
	tcase_add_test(tc, test_memtune_values);
	tcase_add_test(tc, test_ksm_loop);
	tcase_add_test(tc, test_ksm_rate_priced_within_budget);
	tcase_add_test(tc, test_ksm_probes_until_two_full_scans);
	tcase_add_test(tc, test_ksm_probes_again_when_guests_grow);
	tcase_add_test(tc, test_headroom_follows_growth);
	tcase_add_test(tc, test_nearly_out_served_first);
	tcase_add_test(tc, test_ksm_pages_sharing_fallback_and_off);
	tcase_add_test(tc, test_ksm_advisor);
	tcase_add_test(tc, test_ksm_backs_off_from_other_manager);
	tcase_add_test(tc, test_thp_with_ksm);
	tcase_add_test(tc, test_reserve_for_starting_vm);
	tcase_add_test(tc, test_numa_full_node_confined_guests_give);
	tcase_add_test(tc, test_numa_full_node_confined_guests_not_grown);
	tcase_add_test(tc, test_numa_node_normal_caps_growth);
	tcase_add_test(tc, test_numa_tight_node_nothing_confined);
	tcase_add_test(tc, test_numa_floors_respected);
	tcase_add_test(tc, test_numa_pressured_guest_fed_from_its_node);
	tcase_add_test(tc, test_numa_host_tight_uses_host_rule);
	tcase_add_test(tc, test_numa_one_node_unchanged);
	tcase_add_test(tc, test_numa_page_cache_is_not_tight);
	tcase_add_test(tc, test_numa_home_node);
	tcase_add_test(tc, test_bad_snapshot);
	tcase_add_test(tc, test_next_interval_follows_busy_guests);
	tcase_add_test(tc, test_next_interval_watches_lost_stats);
	tcase_add_test(tc, test_reason_format);
	tcase_add_test(tc, test_reason_keys_distinct);
	tcase_add_test(tc, test_grows_past_initial_capacity);
	suite_add_tcase(s, tc);
	return s;
}
