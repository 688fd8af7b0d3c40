/* test_faults.c - the engine under faults, on fakes only: a copied host
 * fixture tree, the libvirt test driver, and an actuator that records every
 * call (see tests/long/engine_fixture.h). Each test breaks one thing and
 * checks the same promises: no crash, no balloon target outside the plan's
 * [floor, ceiling] reaches the actuator, the failure is reported, nothing
 * is done while the engine cannot see, and the next tick is fine. */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "../long/engine_fixture.h"
#include "guests.h"
#include "mm_sysfs.h"

Suite *faults_suite(void);

#define NGUESTS 6

struct fx {
	char root[PATH_MAX];
	char xml[PATH_MAX + 16];
	struct engine e;
	struct ef_act a;
	int64_t now;
	int t;
};

static struct fx fx;

/* 6 guests of 2 GiB on an 8 GiB host: 150% committed, so KSM is wanted,
 * and with MemAvailable at 3% the host is critical and balloons move. */
static void
setup(void)
{
	log_init("test", LOG_TO_STDERR, 0);
	log_set_level(LOG_CRIT);
	memset(&fx, 0, sizeof(fx));
	ck_assert_int_eq(ef_copy_fixture(EF_FIXTURE, fx.root,
	    sizeof(fx.root)), 0);
	snprintf(fx.xml, sizeof(fx.xml), "%s/node.xml", fx.root);
	ck_assert_int_eq(ef_node_xml(fx.xml, NGUESTS), 0);
	ck_assert_int_eq(ef_meminfo(fx.root, GIB_KIB(8), GIB_KIB(8) * 3 /
	    100), 0);
	mt_set_root(fx.root);
	ck_assert_int_eq(ef_engine_init(&fx.e, &fx.a, fx.xml, NULL), 0);
	fx.now = 1000000;
}

static void
teardown(void)
{
	act_fake_free(&fx.a.rec);
	engine_free(&fx.e);
	ef_rmtree(fx.root);
	mt_set_root("");
}

/* One tick at now + step; the calls it made are checked against the
 * plan's bounds. Returns the tick's rc. */
static int
tick(int64_t step_ms)
{
	int rc;

	fx.now += step_ms;
	act_fake_clear(&fx.a.rec);
	rc = ef_tick(&fx.e, fx.now, fx.t++);
	ck_assert_int_eq(ef_calls_outside_bounds(&fx.a.rec, &fx.e.plan), 0);
	return rc;
}

static size_t
count_calls(enum act_call_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < fx.a.rec.nr_calls; i++)
		n += fx.a.rec.calls[i].kind == kind;
	return n;
}

/* A tick that works, with actions: the baseline every fault returns to. */
static void
assert_healthy_tick(void)
{
	ck_assert_int_eq(tick(5000), 0);
	ck_assert_int_eq(fx.e.last_act.failed, 0);
	ck_assert_uint_eq(fx.e.snap.nr_guests, fx.e.plan.nr_guests);
}

START_TEST(test_actuator_errors)
{
	static const int errs[] = {
		-ETIMEDOUT, -EAGAIN, -EBUSY,		/* transient */
		-EIO, -EACCES, -EOPNOTSUPP, -EINVAL,	/* permanent */
		-ENOENT, -ESRCH,			/* guest gone */
	};
	uint64_t act_errors;

	assert_healthy_tick();
	ck_assert_uint_gt(count_calls(ACT_CALL_BALLOON), 0);
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		int rc;

		act_errors = fx.e.act_errors;
		fx.a.rec.rc_balloon = errs[i];
		fx.a.rec.rc_memtune = errs[i];
		/* critical: a big step, so balloons move every tick */
		ef_meminfo(fx.root, GIB_KIB(8), GIB_KIB(8) * (i % 2 ? 2 : 30)
		    / 100);
		rc = tick(5000);
		ck_assert_msg(rc == 0, "%s: tick %d", strerror(-errs[i]), rc);
		/* every step planned a change, so the fault was met */
		ck_assert_msg(fx.a.rec.nr_calls > count_calls(ACT_CALL_SYSFS),
		    "%s: no libvirt call this tick", strerror(-errs[i]));
		/* reported: counted as gone or failed, flagged transient */
		if (errs[i] == -ENOENT || errs[i] == -ESRCH) {
			ck_assert_int_gt(fx.e.last_act.gone, 0);
		} else {
			ck_assert_int_gt(fx.e.last_act.failed, 0);
			ck_assert_uint_gt(fx.e.act_errors, act_errors);
		}
		ck_assert_int_eq(fx.e.last_act.transient,
		    act_err_transient(errs[i]));
	}
	/* the connection lost mid-plan: the caller hears it */
	fx.a.rec.rc_balloon = -ENOTCONN;
	fx.a.rec.rc_memtune = -ENOTCONN;
	ef_meminfo(fx.root, GIB_KIB(8), GIB_KIB(8) * 30 / 100);
	ck_assert_int_eq(tick(5000), -ENOTCONN);
	ck_assert(fx.e.last_act.transient);
	/* the libvirt steps stop at the first -ENOTCONN */
	ck_assert_uint_eq(count_calls(ACT_CALL_BALLOON) +
	    count_calls(ACT_CALL_MEMTUNE), 1);

	fx.a.rec.rc_balloon = fx.a.rec.rc_memtune = 0;
	assert_healthy_tick();
}
END_TEST

START_TEST(test_domain_vanishes_before_act)
{
	virDomainPtr dom = NULL;
	char victim[MT_UUID_LEN] = "";
	int done_before;

	assert_healthy_tick();
	/* collect and decide, then the domain goes away, then act */
	fx.now += 5000;
	ef_meminfo(fx.root, GIB_KIB(8), GIB_KIB(8) * 2 / 100);
	ck_assert_int_eq(engine_collect(&fx.e, fx.now), 0);
	ef_guest_load(&fx.e, fx.t++);
	ck_assert_int_eq(engine_decide(&fx.e, fx.now, 0), 0);
	for (size_t i = 0; i < fx.e.plan.nr_guests; i++) {
		const struct guest_plan *g = &fx.e.plan.guests[i];

		if ((g->action == ACT_BALLOON || g->action == ACT_BOTH) &&
		    g->target_kib != g->actual_kib) {
			mt_strlcpy(victim, g->uuid, sizeof(victim));
			break;
		}
	}
	ck_assert_msg(victim[0] != '\0', "no guest with a balloon change");
	dom = virDomainLookupByUUIDString(fx.e.conn, victim);
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	virDomainFree(dom);

	act_fake_clear(&fx.a.rec);
	ck_assert_int_eq(engine_act(&fx.e, false), 0);
	ck_assert_int_eq(ef_calls_outside_bounds(&fx.a.rec, &fx.e.plan), 0);
	/* skipped and counted; the others were still served */
	ck_assert_int_ge(fx.e.last_act.gone, 1);
	done_before = fx.e.last_act.done;
	ck_assert_int_gt(done_before, 0);

	/* the next tick no longer sees it, and is fine */
	ck_assert_int_eq(tick(5000), 0);
	ck_assert_uint_eq(fx.e.snap.nr_guests, NGUESTS - 1);
	for (size_t i = 0; i < fx.e.snap.nr_guests; i++)
		ck_assert_str_ne(fx.e.snap.guests[i].uuid, victim);
	ck_assert_int_eq(fx.e.last_act.failed, 0);
	ck_assert_int_eq(fx.e.last_act.gone, 0);
}
END_TEST

START_TEST(test_blind_no_action)
{
	char path[PATH_MAX + 32];

	assert_healthy_tick();
	/* meminfo vanishes: no snapshot, no plan, no call at all */
	snprintf(path, sizeof(path), "%s/proc/meminfo", fx.root);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_lt(tick(5000), 0);
	ck_assert_uint_eq(fx.a.rec.nr_calls, 0);
	ck_assert(!fx.e.have_plan);
	ck_assert_ptr_nonnull(strstr(fx.e.last_error, "meminfo"));
	ck_assert_int_eq(engine_act(&fx.e, false), -ENODATA);
	ck_assert_uint_eq(fx.a.rec.nr_calls, 0);

	/* a cut or garbled meminfo: the same */
	ck_assert_int_eq(ef_put(fx.root, "proc/meminfo", "MemTotal: 8388"),
	    0);
	ck_assert_int_lt(tick(5000), 0);
	ck_assert_uint_eq(fx.a.rec.nr_calls, 0);
	ck_assert_int_eq(ef_put(fx.root, "proc/meminfo",
	    "MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable: 900 kB\n"), 0);
	ck_assert_int_lt(tick(5000), 0);
	ck_assert_uint_eq(fx.a.rec.nr_calls, 0);

	/* libvirt gone: no guests seen, nothing done */
	ef_meminfo(fx.root, GIB_KIB(8), GIB_KIB(8) * 2 / 100);
	engine_disconnect(&fx.e);
	fx.a.conn = NULL;
	ck_assert_int_eq(tick(5000), -ENOTCONN);
	ck_assert_uint_eq(fx.a.rec.nr_calls, 0);

	ck_assert_int_eq(engine_connect(&fx.e), 0);
	fx.a.conn = fx.e.conn;
	assert_healthy_tick();
}
END_TEST

START_TEST(test_sysfs_faults)
{
	char path[PATH_MAX + 64];
	bool ksm_wanted = false;

	assert_healthy_tick();
	/* files the kernel might not have, or that vanish: collection
	 * goes on with them absent */
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/ksm/pages_volatile",
	    fx.root);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/transparent_hugepage/"
	    "khugepaged/full_scans", fx.root);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/proc/pressure/memory", fx.root);
	unlink(path);
	ck_assert_int_eq(tick(5000), 0);
	ck_assert(!MT_PRESENT(fx.e.snap.host.ksm.pages_volatile));

	/* files that refuse writes (a directory in place of the file
	 * refuses root too) and garbage in a knob */
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/ksm/run", fx.root);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0), 0);
	ck_assert_int_eq(ef_put(fx.root, "sys/kernel/mm/ksm/sleep_millisecs",
	    "twenty\n"), 0);
	for (int i = 0; i < 20; i++) {
		int rc = tick(5000);

		ck_assert_int_eq(rc, 0);
		for (size_t j = 0; j < fx.a.rec.nr_calls; j++)
			if (strstr(fx.a.rec.calls[j].path, "/ksm/run") != NULL)
				ksm_wanted = true;
		if (ksm_wanted)
			break;
	}
	/* the write failed: reported, and not taken as applied */
	ck_assert_msg(ksm_wanted, "the policy never wrote ksm/run");
	ck_assert_int_gt(fx.e.last_act.failed, 0);
	ck_assert(!fx.e.last_act.ksm_applied);

	/* the whole KSM directory vanishes: KSM absent, ticks go on */
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/ksm", fx.root);
	ef_rmtree(path);
	ck_assert_int_eq(tick(5000), 0);
	ck_assert(!fx.e.snap.host.ksm.present);
	assert_healthy_tick();
}
END_TEST

START_TEST(test_counters_backwards)
{
	struct guest_entry ge;
	struct guest_snapshot g;

	ck_assert_int_eq(ef_put(fx.root, "proc/vmstat",
	    "pgmajfault 100000\npswpin 5000\npswpout 5000\n"
	    "workingset_refault_anon 9000\nworkingset_refault_file 9000\n"),
	    0);
	assert_healthy_tick();
	ck_assert_int_eq(ef_put(fx.root, "proc/vmstat",
	    "pgmajfault 10\npswpin 1\npswpout 1\n"
	    "workingset_refault_anon 1\nworkingset_refault_file 1\n"), 0);
	ck_assert_int_eq(tick(5000), 0);
	/* a reset counter gives no rate, never a huge or negative one */
	ck_assert(!MT_PRESENT(fx.e.snap.host.vm.pgmajfault_per_s));
	ck_assert(!MT_PRESENT(fx.e.snap.host.vm.refault_per_s));
	ck_assert_int_eq(tick(5000), 0);
	ck_assert_int_eq(fx.e.snap.host.vm.pgmajfault_per_s, 0);

	/* a guest's counters going backwards (a reboot inside the guest) */
	memset(&ge, 0, sizeof(ge));
	ge.prev_ms = MT_ABSENT;
	guest_snapshot_init(&g);
	g.major_fault = 5000;
	g.swap_in_kib = 4000;
	g.last_update_s = 100;
	guests_update_sample(&ge, &g, 5, 10000);
	guest_snapshot_init(&g);
	g.major_fault = 7;
	g.swap_in_kib = 0;
	g.last_update_s = 105;
	guests_update_sample(&ge, &g, 5, 15000);
	ck_assert(!MT_PRESENT(g.major_fault_per_s) || g.major_fault_per_s >= 0);
	ck_assert(!MT_PRESENT(g.swap_in_kib_per_s) || g.swap_in_kib_per_s >= 0);
	assert_healthy_tick();
}
END_TEST

START_TEST(test_clock_jumps)
{
	/* the clock steps back an hour, leaps an hour, stands still, goes
	 * back to 0 and leaps far: every tick decides inside the bounds */
	static const int64_t steps[] = {
		5000, -3600000, 5000, 3600000, 0, 0, -4600000, 5000,
		INT64_C(86400000) * 365, 5000, -5000, 1,
	};

	assert_healthy_tick();
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		ef_meminfo(fx.root, GIB_KIB(8), GIB_KIB(8) *
		    (int64_t)(i % 3 == 0 ? 1 : 40) / 100);
		ck_assert_msg(tick(steps[i]) == 0, "step %zu", i);
		ck_assert_int_eq(fx.e.last_act.failed, 0);
		for (size_t j = 0; j < fx.e.plan.nr_guests; j++) {
			const struct guest_plan *g = &fx.e.plan.guests[j];

			if (g->action != ACT_BALLOON && g->action != ACT_BOTH)
				continue;
			ck_assert_int_ge(g->target_kib, g->floor_kib);
			ck_assert_int_le(g->target_kib, g->ceiling_kib);
		}
		ck_assert_int_gt(fx.e.plan.next_interval_ms, 0);
	}
	assert_healthy_tick();
}
END_TEST

/* Collect, hold the guests' load at step t (so nothing changes between
 * ticks but what memtuned did), give each guest an RSS (hard limits need
 * one), and decide. */
static void
collect_decide(int t)
{
	ck_assert_int_eq(engine_collect(&fx.e, fx.now), 0);
	ef_guest_load(&fx.e, t);
	for (size_t i = 0; i < fx.e.snap.nr_guests; i++) {
		struct guest_snapshot *g = &fx.e.snap.guests[i];

		if (MT_PRESENT(g->actual_kib))
			g->rss_kib = g->actual_kib + 200 * 1024;
	}
	ck_assert_int_eq(engine_decide(&fx.e, fx.now, 0), 0);
}

static const struct act_call *
find_call(enum act_call_kind kind, const char *uuid)
{
	for (size_t i = 0; i < fx.a.rec.nr_calls; i++)
		if (fx.a.rec.calls[i].kind == kind &&
		    strcmp(fx.a.rec.calls[i].uuid, uuid) == 0)
			return &fx.a.rec.calls[i];
	return NULL;
}

static const struct guest_snapshot *
snap_guest(const char *uuid)
{
	for (size_t i = 0; i < fx.e.snap.nr_guests; i++)
		if (strcmp(fx.e.snap.guests[i].uuid, uuid) == 0)
			return &fx.e.snap.guests[i];
	return NULL;
}

static const struct guest_plan *
plan_guest(const char *uuid)
{
	for (size_t i = 0; i < fx.e.plan.nr_guests; i++)
		if (strcmp(fx.e.plan.guests[i].uuid, uuid) == 0)
			return &fx.e.plan.guests[i];
	return NULL;
}

/* A balloon target that was not carried out is not remembered as asked:
 * the next tick, with nothing changed, sends the same target again. */
START_TEST(test_unapplied_target_asked_again)
{
	static const struct {
		const char *name;
		bool dry_run;
		int rc_balloon;
		bool refuse;		/* the safety net stops every target */
	} cases[] = {
		{ "dry run", true, 0, false },
		{ "failed call", false, -EIO, false },
		{ "refused call", false, 0, true },
		{ "dropped connection", false, -ENOTCONN, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct {
			char uuid[MT_UUID_LEN];
			int64_t target_kib;
		} asked[NGUESTS];
		size_t n = 0;

		if (i > 0) {
			teardown();
			setup();
		}
		fx.now += 5000;
		collect_decide(0);
		for (size_t j = 0; j < fx.e.plan.nr_guests; j++) {
			struct guest_plan *gp = &fx.e.plan.guests[j];

			if ((gp->action != ACT_BALLOON && gp->action != ACT_BOTH) ||
			    gp->target_kib == gp->actual_kib)
				continue;
			mt_strlcpy(asked[n].uuid, gp->uuid, MT_UUID_LEN);
			asked[n++].target_kib = gp->target_kib;
			if (cases[i].refuse) {
				/* a plan the safety net must stop */
				gp->floor_kib = gp->target_kib + 1;
				gp->ceiling_kib = MAX(gp->ceiling_kib,
				    gp->floor_kib);
			}
		}
		ck_assert_msg(n > 0, "%s: no balloon change planned",
		    cases[i].name);
		act_fake_clear(&fx.a.rec);
		fx.a.rec.rc_balloon = cases[i].rc_balloon;
		ck_assert_int_eq(engine_act(&fx.e, cases[i].dry_run),
		    cases[i].rc_balloon == -ENOTCONN ? -ENOTCONN : 0);
		if (cases[i].rc_balloon == -ENOTCONN)
			ck_assert_uint_eq(count_calls(ACT_CALL_BALLOON), 1);
		else if (cases[i].rc_balloon == 0)
			ck_assert_uint_eq(count_calls(ACT_CALL_BALLOON), 0);
		fx.a.rec.rc_balloon = 0;

		fx.now += 5000;
		act_fake_clear(&fx.a.rec);
		collect_decide(0);
		ck_assert_int_eq(engine_act(&fx.e, false), 0);
		for (size_t j = 0; j < n; j++) {
			const struct act_call *c = find_call(ACT_CALL_BALLOON,
			    asked[j].uuid);

			ck_assert_msg(c != NULL, "%s: %s was to get %lld KiB, "
			    "and is not asked again", cases[i].name,
			    asked[j].uuid, (long long)asked[j].target_kib);
			ck_assert_msg(c->target_kib == asked[j].target_kib,
			    "%s: %s was to get %lld KiB, is asked %lld KiB",
			    cases[i].name, asked[j].uuid,
			    (long long)asked[j].target_kib,
			    (long long)c->target_kib);
		}
	}
}
END_TEST

/* A dry run that finds a guest stuck plans a hard limit and only logs it.
 * When the guest's balloon then moves after all, memtuned must not "lift"
 * a limit it never set: that would erase the operator's own. */
START_TEST(test_dry_run_keeps_operator_hard_limit)
{
	const char *victim = "00000001-6d74-4000-8000-000000000001";
	int64_t over = policy_qemu_overhead_kib(&fx.e.cfg.policy, GIB_KIB(2));
	int64_t hard_op = 1800 * 1024 + over;
	const struct guest_plan *gp = NULL;
	virTypedParameter p;
	virDomainPtr dom;
	int k;

	dom = virDomainLookupByUUIDString(fx.e.conn, victim);
	ck_assert_ptr_nonnull(dom);
	memset(&p, 0, sizeof(p));
	mt_strlcpy(p.field, VIR_DOMAIN_MEMORY_HARD_LIMIT, sizeof(p.field));
	p.type = VIR_TYPED_PARAM_ULLONG;
	p.value.ul = (unsigned long long)hard_op;
	ck_assert_int_eq(virDomainSetMemoryParameters(dom, &p, 1,
	    VIR_DOMAIN_AFFECT_LIVE), 0);
	/* balloons asked to shrink do not move: stuck in time */
	fx.a.forward = false;
	for (k = 0; k < 20; k++) {
		fx.now += 5000;
		act_fake_clear(&fx.a.rec);
		collect_decide(0);
		gp = plan_guest(victim);
		ck_assert_ptr_nonnull(gp);
		if (gp->state == GPS_UNCOOPERATIVE)
			break;
		ck_assert_int_eq(engine_act(&fx.e, false), 0);
	}
	ck_assert_msg(k < 20, "the stuck guest was never found uncooperative");
	ck_assert_ptr_nonnull(snap_guest(victim));
	ck_assert_int_eq(snap_guest(victim)->hard_limit_kib, hard_op);
	ck_assert(MT_PRESENT(gp->hard_limit_kib));
	ck_assert_int_lt(gp->hard_limit_kib, hard_op);
	/* the tick that finds it stuck is a dry run */
	ck_assert_int_eq(engine_act(&fx.e, true), 0);
	ck_assert_uint_eq(fx.a.rec.nr_calls, 0);

	/* the balloon gets there after all */
	ck_assert_int_eq(virDomainSetMemoryFlags(dom,
	    (unsigned long)gp->target_kib, VIR_DOMAIN_AFFECT_LIVE), 0);
	virDomainFree(dom);
	fx.a.forward = true;
	for (k = 0; k < 3; k++) {
		const struct act_call *c;

		fx.now += 5000;
		act_fake_clear(&fx.a.rec);
		collect_decide(0);
		ck_assert_int_eq(engine_act(&fx.e, false), 0);
		c = find_call(ACT_CALL_MEMTUNE, victim);
		ck_assert_msg(c == NULL || c->hard_kib != POLICY_LIMIT_UNLIMITED,
		    "tick %d: the operator's hard limit %lld KiB is lifted", k,
		    (long long)hard_op);
	}
}
END_TEST

/* memtuned stops and starts again; libvirt (the test driver) keeps the
 * guests, their memtune and their metadata. extra: config lines. */
static void
restart_engine(const char *extra)
{
	virConnectPtr conn = fx.e.conn;
	struct mt_config cfg;
	char text[PATH_MAX + 256], err[1024];

	fx.e.conn = NULL;
	engine_free(&fx.e);
	snprintf(text, sizeof(text), "[daemon]\nuri = test://%s\n"
	    "stats_period = 0\ntask_delayacct = no\n%s", fx.xml, extra);
	ck_assert_int_eq(config_load_string(text, "restart.conf", &cfg, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(engine_init(&fx.e, &cfg), 0);
	fx.e.conn = conn;
	fx.e.ops = &ef_act_ops;
	fx.e.ops_ctx = &fx.a;
}

/* A hard limit memtuned set on a stuck guest is still known as its own
 * after memtuned restarts (its record in the domain's metadata): kept
 * while the balloon is stuck, lifted when it moves, or at once when the
 * new config says hard_limit = off. */
START_TEST(test_own_hard_limit_survives_restart)
{
	static const struct {
		const char *name;
		const char *config;
		bool balloon_moves;
	} cases[] = {
		{ "the balloon moves again", "", true },
		{ "restarted with hard_limit = off", "[policy]\nhard_limit = off\n",
		    false },
	};
	const char *victim = "00000001-6d74-4000-8000-000000000001";

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct guest_snapshot *g;
		const struct guest_plan *gp;
		const struct act_call *c;
		int64_t hard, target;
		virDomainPtr dom;
		int k;

		if (i > 0) {
			teardown();
			setup();
		}
		/* stuck balloons; memtune and the record reach libvirt */
		fx.a.forward = false;
		fx.a.forward_memtune = true;
		for (k = 0; k < 20; k++) {
			fx.now += 5000;
			act_fake_clear(&fx.a.rec);
			collect_decide(0);
			g = snap_guest(victim);
			ck_assert_ptr_nonnull(g);
			if (MT_PRESENT(g->hard_limit_kib))
				break;
			ck_assert_int_eq(engine_act(&fx.e, false), 0);
		}
		ck_assert_msg(k < 20, "%s: no hard limit on the stuck guest",
		    cases[i].name);
		hard = g->hard_limit_kib;
		target = g->own_target_kib;
		ck_assert_int_eq(g->own_hard_limit_kib, hard);
		ck_assert(MT_PRESENT(target));
		ck_assert_int_gt(g->actual_kib, target);

		restart_engine(cases[i].config);
		fx.now += 5000;
		act_fake_clear(&fx.a.rec);
		collect_decide(0);
		gp = plan_guest(victim);
		ck_assert_ptr_nonnull(gp);
		/* memtuned's own: it does not cap the guest's ceiling */
		ck_assert_int_eq(gp->ceiling_kib, GIB_KIB(2));
		if (cases[i].balloon_moves) {
			/* still stuck: still held by the limit */
			ck_assert_int_eq(gp->state, GPS_UNCOOPERATIVE);
			ck_assert_int_ne(gp->hard_limit_kib,
			    POLICY_LIMIT_UNLIMITED);
			ck_assert_int_eq(engine_act(&fx.e, false), 0);
			/* then its balloon gets where it was asked */
			dom = virDomainLookupByUUIDString(fx.e.conn, victim);
			ck_assert_ptr_nonnull(dom);
			ck_assert_int_eq(virDomainSetMemoryFlags(dom,
			    (unsigned long)target, VIR_DOMAIN_AFFECT_LIVE), 0);
			virDomainFree(dom);
			fx.a.forward = true;
			fx.now += 5000;
			act_fake_clear(&fx.a.rec);
			collect_decide(0);
			gp = plan_guest(victim);
		}
		ck_assert_ptr_nonnull(gp);
		ck_assert_msg(gp->hard_limit_kib == POLICY_LIMIT_UNLIMITED,
		    "%s: the hard limit %lld KiB memtuned set is not lifted "
		    "(plan: %lld, %s)", cases[i].name, (long long)hard,
		    (long long)gp->hard_limit_kib, gp->reason);
		ck_assert_int_eq(engine_act(&fx.e, false), 0);
		c = find_call(ACT_CALL_MEMTUNE, victim);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq(c->hard_kib, POLICY_LIMIT_UNLIMITED);
		c = find_call(ACT_CALL_RECORD, victim);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq(c->hard_kib, MT_ABSENT);
		/* libvirt has neither the limit nor the record any more */
		fx.now += 5000;
		collect_decide(0);
		g = snap_guest(victim);
		ck_assert_int_eq(g->hard_limit_kib, MT_ABSENT);
		ck_assert_int_eq(g->own_hard_limit_kib, MT_ABSENT);
	}
}
END_TEST

/* restore_host_settings: at exit KSM and THP are as memtuned found them,
 * the advisor's own knobs (which it writes from [ksm]) included. */
static int64_t
knob_of(const char *rel)
{
	char path[PATH_MAX + 64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx.root, rel);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	return strtoll(buf, NULL, 10);
}

START_TEST(test_exit_restores_host_settings)
{
	assert_healthy_tick();
	ck_assert_int_eq(knob_of("sys/kernel/mm/ksm/advisor_max_cpu"), 70);
	ck_assert_int_eq(knob_of("sys/kernel/mm/ksm/advisor_target_scan_time"),
	    200);
	/* what memtuned writes with the advisor in charge */
	ck_assert_int_eq(ef_put(fx.root, "sys/kernel/mm/ksm/advisor_max_cpu",
	    "20\n"), 0);
	ck_assert_int_eq(ef_put(fx.root,
	    "sys/kernel/mm/ksm/advisor_target_scan_time", "150\n"), 0);
	ck_assert_int_eq(ef_put(fx.root, "sys/kernel/mm/ksm/sleep_millisecs",
	    "10\n"), 0);
	engine_shutdown_actions(&fx.e);
	ck_assert_int_eq(knob_of("sys/kernel/mm/ksm/advisor_max_cpu"), 70);
	ck_assert_int_eq(knob_of("sys/kernel/mm/ksm/advisor_target_scan_time"),
	    200);
	ck_assert_int_eq(knob_of("sys/kernel/mm/ksm/sleep_millisecs"),
	    fx.e.baseline.ksm_sleep_millisecs);
}
END_TEST

/* The restore at exit goes through the actuator's ops, as a plan's knobs
 * do: the fake sees each knob put back, the advisor's own knobs before
 * its mode and ksmd's run last; a dry run only says what it would write,
 * so the fake sees nothing and the files keep what they hold. */
static ssize_t
sysfs_call_at(const char *path)
{
	for (size_t i = 0; i < fx.a.rec.nr_calls; i++)
		if (fx.a.rec.calls[i].kind == ACT_CALL_SYSFS &&
		    strcmp(fx.a.rec.calls[i].path, path) == 0)
			return (ssize_t)i;
	return -1;
}

static size_t
sysfs_calls(void)
{
	size_t n = 0;

	for (size_t i = 0; i < fx.a.rec.nr_calls; i++)
		n += fx.a.rec.calls[i].kind == ACT_CALL_SYSFS;
	return n;
}

START_TEST(test_exit_restore_through_ops)
{
	static const struct {
		const char *name;
		bool dry_run;
		int64_t max_cpu_after;	/* the file once memtuned is gone */
	} cases[] = {
		{ "applied", false, 70 },
		{ "dry run", true, 20 },
	};
	const struct engine_host_baseline *b = &fx.e.baseline;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fx.e.cfg.dry_run = false;
		assert_healthy_tick();
		ck_assert(b->valid);
		ck_assert_int_eq(ef_put(fx.root,
		    "sys/kernel/mm/ksm/advisor_max_cpu", "20\n"), 0);
		fx.e.cfg.dry_run = cases[i].dry_run;
		act_fake_clear(&fx.a.rec);
		engine_shutdown_actions(&fx.e);
		ck_assert_msg(knob_of("sys/kernel/mm/ksm/advisor_max_cpu") ==
		    cases[i].max_cpu_after, "%s: advisor_max_cpu %lld",
		    cases[i].name,
		    (long long)knob_of("sys/kernel/mm/ksm/advisor_max_cpu"));
		if (cases[i].dry_run) {
			ck_assert_msg(sysfs_calls() == 0, "%s: %zu writes",
			    cases[i].name, sysfs_calls());
			continue;
		}
		ck_assert_int_ge(sysfs_call_at(KSM_DIR "advisor_max_cpu"), 0);
		ck_assert_int_lt(sysfs_call_at(KSM_DIR "advisor_max_cpu"),
		    sysfs_call_at(KSM_DIR "advisor_mode"));
		ck_assert_int_lt(sysfs_call_at(KSM_DIR "sleep_millisecs"),
		    sysfs_call_at(KSM_DIR "run"));
		ck_assert_int_ge(sysfs_call_at(THP_DIR "defrag"), 0);
		ck_assert_int_ge(sysfs_call_at(THP_DIR
		    "khugepaged/max_ptes_none"), 0);
	}
}
END_TEST

Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_actuator_errors);
	tcase_add_test(tc, test_domain_vanishes_before_act);
	tcase_add_test(tc, test_blind_no_action);
	tcase_add_test(tc, test_sysfs_faults);
	tcase_add_test(tc, test_counters_backwards);
	tcase_add_test(tc, test_clock_jumps);
	tcase_add_test(tc, test_unapplied_target_asked_again);
	tcase_add_test(tc, test_dry_run_keeps_operator_hard_limit);
	tcase_add_test(tc, test_exit_restore_through_ops);
	tcase_add_test(tc, test_own_hard_limit_survives_restart);
	tcase_add_test(tc, test_exit_restores_host_settings);
	suite_add_tcase(s, tc);
	return s;
}
