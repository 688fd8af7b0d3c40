/* test_release.c - memtunectl release: which guests, which limits go (the
 * ones memtuned set, not an operator's), the order, the answer, and the
 * engine's holds. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "act.h"
#include "config.h"
#include "engine.h"
#include "jsonutil.h"
#include "policy_fixture.h"
#include "release.h"
#include "util.h"

Suite *release_suite(void);

#define UNL POLICY_LIMIT_UNLIMITED

/* One guest as the tests want it: 1 GiB max, ballooned to actual_mib,
 * with the limits given (MT_ABSENT: unlimited). */
struct rguest {
	int64_t actual_mib;
	int64_t hard_mib, own_hard_mib;	/* in force; memtuned's record */
	int64_t soft_mib;
	int64_t low_mib;		/* on cgroup v2 when set */
	bool exclude, no_balloon;
};

static void
make_guest(struct guest_snapshot *g, int idx, const struct rguest *r)
{
	fx_guest(g, idx, 1024, r->actual_mib, 200);
	g->hard_limit_kib = MT_PRESENT(r->hard_mib) ? MIB_KIB(r->hard_mib) :
	    MT_ABSENT;
	g->own_hard_limit_kib = MT_PRESENT(r->own_hard_mib) ?
	    MIB_KIB(r->own_hard_mib) : MT_ABSENT;
	g->soft_limit_kib = MT_PRESENT(r->soft_mib) ? MIB_KIB(r->soft_mib) :
	    MT_ABSENT;
	if (MT_PRESENT(r->low_mib)) {
		g->cgroup_version = 2;
		g->cg_low_kib = MIB_KIB(r->low_mib);
	}
	g->input.exclude = r->exclude;
	g->backing.has_balloon = !r->no_balloon;
}

/* The plan in a line: "what=to_mib" per step, "unl" for unlimited. */
static void
plan_line(const struct release_plan *p, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->nr_steps && n < len; i++) {
		const struct release_step *s = &p->steps[i];

		if (s->what == REL_HOST)
			n += (size_t)snprintf(buf + n, len - n, "%shost",
			    n ? " " : "");
		else if (s->to_kib == UNL)
			n += (size_t)snprintf(buf + n, len - n, "%s%s=unl",
			    n ? " " : "", release_what_name(s->what));
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%s=%lld",
			    n ? " " : "", release_what_name(s->what),
			    (long long)(s->to_kib / 1024));
	}
}

#define A MT_ABSENT

/* What goes for one guest, with what memtuned found of it (found_soft:
 * A = unlimited; found false: standalone, nothing known). The default
 * QEMU overhead is 256 MiB + 2 % of max: 276.5 MiB for 1 GiB, so a
 * hard limit of 1200 MiB caps the balloon at 923 MiB. */
START_TEST(test_plan_table)
{
	static const struct {
		const char *what;
		struct rguest g;
		bool found;
		int64_t found_hard_mib, found_soft_mib, found_low_mib;
		int64_t deflate_pmy;
		bool soft_off;
		const char *want;
	} cases[] = {
		{ "ballooned down, no limits",
		  { 512, A, A, A, A, false, false }, true, A, A, 0, 10000, false,
		  "balloon=1024" },
		{ "at max already: nothing",
		  { 1024, A, A, A, A, false, false }, true, A, A, 0, 10000, false,
		  "" },
		{ "deflate_to 50 %",
		  { 300, A, A, A, A, false, false }, true, A, A, 0, 5000, false,
		  "balloon=512" },
		{ "memtuned's hard limit (its record): lifted, then the "
		  "balloon past it",
		  { 400, 700, 700, A, A, false, false }, true, A, A, 0, 10000,
		  false, "hard_limit=unl balloon=1024" },
		{ "memtuned's hard limit over the operator's: back to it",
		  { 400, 1039, 1039, A, A, false, false }, true, 2048, A, 0,
		  10000, false, "hard_limit=2048 balloon=1024" },
		{ "standalone: memtuned's hard limit is lifted",
		  { 400, 1039, 1039, A, A, false, false }, false, 2048, A, 0,
		  10000, false, "hard_limit=unl balloon=1024" },
		{ "an operator's hard limit (no record): kept, and it caps",
		  { 400, 1200, A, A, A, false, false }, true, A, A, 0, 10000,
		  false, "balloon=923" },
		{ "a record that no longer describes the limit: the "
		  "operator's since",
		  { 400, 1200, 700, A, A, false, false }, true, A, A, 0, 10000,
		  false, "balloon=923" },
		{ "memtuned's soft limit, found unlimited",
		  { 512, A, A, 800, A, false, false }, true, A, A, 0, 10000,
		  false, "soft_limit=unl balloon=1024" },
		{ "memtuned's soft limit over the operator's",
		  { 512, A, A, 800, A, false, false }, true, A, 900, 0, 10000,
		  false, "soft_limit=900 balloon=1024" },
		{ "the operator's soft limit, untouched",
		  { 1024, A, A, 900, A, false, false }, true, A, 900, 0, 10000,
		  false, "" },
		{ "standalone: a soft limit on a managed guest is memtuned's",
		  { 1024, A, A, 900, A, false, false }, false, A, A, 0, 10000,
		  false, "soft_limit=unl" },
		{ "soft_limit = no: memtuned never wrote one",
		  { 1024, A, A, 900, A, false, false }, false, A, A, 0, 10000,
		  true, "" },
		{ "memory.low memtuned set (v2), found none",
		  { 1024, A, A, A, 300, false, false }, true, A, A, 0, 10000,
		  false, "memory_low=0" },
		{ "memory.low the operator set, untouched",
		  { 1024, A, A, A, 300, false, false }, true, A, A, 300, 10000,
		  false, "" },
		{ "excluded: never touched, nothing to give back",
		  { 512, 700, 700, 800, 300, true, false }, true, A, A, 0, 10000,
		  false, "" },
		{ "no balloon: fixed, no soft limit of memtuned's",
		  { 1024, A, A, 800, A, false, true }, true, A, A, 0, 10000,
		  false, "" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mt_config cfg;
		struct guest_snapshot g;
		struct snapshot snap = { .guests = &g, .nr_guests = 1 };
		struct release_found f;
		struct release_plan p;
		char err[256], line[512];
		struct release_in in = {
			.cfg = &cfg, .snap = &snap,
			.found = cases[i].found ? &f : NULL,
			.nr_found = cases[i].found ? 1 : 0,
			.sel = NULL, .nr_sel = 0,
		};

		config_defaults(&cfg);
		cfg.deflate_to_pmy = cases[i].deflate_pmy;
		cfg.policy.manage_soft_limit = !cases[i].soft_off;
		make_guest(&g, 0, &cases[i].g);
		memset(&f, 0, sizeof(f));
		mt_strlcpy(f.uuid, g.uuid, sizeof(f.uuid));
		f.hard_limit_kib = MT_PRESENT(cases[i].found_hard_mib) ?
		    MIB_KIB(cases[i].found_hard_mib) : MT_ABSENT;
		f.soft_limit_kib = MT_PRESENT(cases[i].found_soft_mib) ?
		    MIB_KIB(cases[i].found_soft_mib) : MT_ABSENT;
		f.memory_low_kib = MIB_KIB(cases[i].found_low_mib);
		release_plan_init(&p);
		ck_assert_int_eq(release_plan_make(&in, &p, err, sizeof(err)),
		    0);
		plan_line(&p, line, sizeof(line));
		ck_assert_msg(strcmp(line, cases[i].want) == 0,
		    "%s: got '%s', want '%s'", cases[i].what, line,
		    cases[i].want);
		ck_assert_int_eq(p.nr_guests, 1);
		/* the guest's steps only: the host goes back only when
		 * memtuned knows how it found it */
		ck_assert(p.host);
		release_plan_free(&p);
		config_free(&cfg);
	}
}
END_TEST

/* Which guests: by ID, UUID or name, all without any; an unknown one plans
 * nothing; the host only with no guest named and a baseline known. */
START_TEST(test_plan_selection)
{
	static const struct {
		const char *sel[3];
		size_t nr;
		bool host_known;
		int rc;
		size_t guests;
		bool host;
		bool host_step;
	} cases[] = {
		{ { NULL }, 0, true, 0, 3, true, true },
		{ { NULL }, 0, false, 0, 3, true, false },
		{ { "vm1" }, 1, true, 0, 1, false, false },
		{ { "00000000-0000-4000-8000-000000000002" }, 1, true, 0, 1,
		  false, false },
		{ { "vm0", "vm2" }, 2, true, 0, 2, false, false },
		{ { "2", "vm1" }, 2, true, 0, 1, false, false },
		{ { "3", "vm0" }, 2, true, 0, 2, false, false },
		{ { "vm0", "nosuch" }, 2, true, -ENOENT, 0, false, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mt_config cfg;
		struct guest_snapshot g[3];
		struct snapshot snap = { .guests = g, .nr_guests = 3 };
		struct release_plan p;
		struct rguest r = { 512, A, A, A, A, false, false };
		char err[256];
		struct release_in in = {
			.cfg = &cfg, .snap = &snap, .found = NULL,
			.host_known = cases[i].host_known,
			.sel = cases[i].sel, .nr_sel = cases[i].nr,
		};
		bool host_step = false;

		config_defaults(&cfg);
		for (int j = 0; j < 3; j++)
			make_guest(&g[j], j, &r);
		release_plan_init(&p);
		ck_assert_int_eq(release_plan_make(&in, &p, err, sizeof(err)),
		    cases[i].rc);
		ck_assert_uint_eq(p.nr_guests, cases[i].guests);
		ck_assert_int_eq(p.host, cases[i].host);
		for (size_t j = 0; j < p.nr_steps; j++)
			host_step |= p.steps[j].what == REL_HOST;
		ck_assert_int_eq(host_step, cases[i].host_step);
		if (cases[i].rc == -ENOENT) {
			ck_assert_uint_eq(p.nr_steps, 0);
			ck_assert_ptr_nonnull(strstr(err, "nosuch"));
		}
		release_plan_free(&p);
		config_free(&cfg);
	}
}
END_TEST

/* A guest as virsh takes it: digits are an ID first (a guest named "1"
 * is reached by its UUID while vm0 has ID 1), a UUID in any case, then a
 * name; a guest not running is not found. */
START_TEST(test_resolve_table)
{
	static const struct {
		const char *key;
		int want;	/* index into the snapshot, -1: none */
	} cases[] = {
		{ "1", 0 },
		{ "2", 1 },
		{ "vm1", 1 },
		{ "00000000-0000-4000-8000-000000000002", 2 },
		{ "00000000-0000-4000-8000-00000000000A", 3 },
		{ "00000000-0000-4000-8000-00000000000a", 3 },
		{ "vm2", -1 },		/* renamed "1" below */
		{ "4", 3 },
		{ "5", -1 },		/* vm4, shut off: ID -1 */
		{ "vm4", -1 },
		{ "9", -1 },
		{ "", -1 },
		{ "01", 0 },		/* virsh reads digits as a number */
		{ "99999999999", -1 },
	};
	struct guest_snapshot g[5];
	struct snapshot snap = { .guests = g, .nr_guests = 5 };
	struct rguest r = { 512, A, A, A, A, false, false };

	for (int j = 0; j < 5; j++)
		make_guest(&g[j], j, &r);
	snprintf(g[2].name, sizeof(g[2].name), "1");
	snprintf(g[3].uuid, sizeof(g[3].uuid),
	    "00000000-0000-4000-8000-00000000000a");
	g[4].id = -1;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct guest_snapshot *got = release_resolve(&snap,
		    cases[i].key);

		if (cases[i].want < 0)
			ck_assert_msg(got == NULL, "'%s': found %s, want none",
			    cases[i].key, got->name);
		else
			ck_assert_msg(got == &g[cases[i].want], "'%s': found "
			    "%s, want %s", cases[i].key, got ? got->name :
			    "none", g[cases[i].want].name);
	}
}
END_TEST

/* Carried out in the plan's order against the recording fake: the hard
 * limit lifted with memtuned's record removed after it, the soft limit,
 * then the balloon; a failure is counted and the rest goes on. */
START_TEST(test_apply_and_answer)
{
	struct mt_config cfg;
	struct guest_snapshot g;
	struct snapshot snap = { .guests = &g, .nr_guests = 1 };
	struct rguest r = { 400, 700, 700, 800, A, false, false };
	struct release_in in = { .cfg = &cfg, .snap = &snap };
	struct release_plan p;
	struct act_fake f;
	struct json_object *o, *steps, *s;
	char err[256];

	config_defaults(&cfg);
	make_guest(&g, 0, &r);
	release_plan_init(&p);
	ck_assert_int_eq(release_plan_make(&in, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.nr_steps, 3);
	act_fake_init(&f);
	f.rc_balloon = -EIO;
	ck_assert_int_eq(release_apply(&act_fake_ops, &f, NULL, &p), 1);
	ck_assert_uint_eq(f.nr_calls, 4);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_MEMTUNE);
	ck_assert_int_eq(f.calls[0].hard_kib, UNL);
	ck_assert_int_eq(f.calls[0].soft_kib, MT_ABSENT);
	ck_assert_int_eq(f.calls[1].kind, ACT_CALL_RECORD);
	ck_assert_int_eq(f.calls[1].hard_kib, MT_ABSENT);
	ck_assert_int_eq(f.calls[2].kind, ACT_CALL_MEMTUNE);
	ck_assert_int_eq(f.calls[2].hard_kib, MT_ABSENT);
	ck_assert_int_eq(f.calls[2].soft_kib, UNL);
	ck_assert_int_eq(f.calls[3].kind, ACT_CALL_BALLOON);
	ck_assert_int_eq(f.calls[3].target_kib, MIB_KIB(1024));

	o = release_plan_json(&p);
	ck_assert(!get_bool(o, "ok"));
	ck_assert_int_eq(get_i64(o, "failed"), 1);
	ck_assert(json_object_object_get_ex(o, "steps", &steps));
	s = json_object_array_get_idx(steps, 0);
	ck_assert_str_eq(get_str(s, "what", ""), "hard_limit");
	ck_assert_str_eq(get_str(s, "guest", ""), "vm0");
	ck_assert_int_eq(get_i64(s, "from_kib"), MIB_KIB(700));
	/* unlimited is null */
	ck_assert(json_object_object_get_ex(s, "to_kib", &s) && s == NULL);
	s = json_object_array_get_idx(steps, 2);
	ck_assert_str_eq(get_str(s, "what", ""), "balloon");
	ck_assert(!get_bool(s, "done"));
	ck_assert_int_eq(get_i64(s, "to_kib"), MIB_KIB(1024));
	ck_assert_ptr_nonnull(json_object_object_get(s, "error"));
	json_object_put(o);

	/* a dry run: planned, nothing done, nothing failed */
	p.dry_run = true;
	for (size_t i = 0; i < p.nr_steps; i++)
		p.steps[i].rc = RELEASE_NOT_RUN;
	o = release_plan_json(&p);
	ck_assert(get_bool(o, "ok"));
	ck_assert(get_bool(o, "dry_run"));
	ck_assert_int_eq(get_i64(o, "failed"), 0);
	json_object_put(o);
	act_fake_free(&f);
	release_plan_free(&p);
	config_free(&cfg);
}
END_TEST

/* A guest of 512 MiB boot memory and a 512 MiB virtio-mem device,
 * memtuned having unplugged 300 MiB and ballooned 100 MiB: released, its
 * balloon is deflated in its boot memory (not sent a total libvirt would
 * refuse) and its device plugged back, each through the ops table. */
START_TEST(test_release_vmem)
{
	struct mt_config cfg;
	struct guest_snapshot g;
	struct snapshot snap = { .guests = &g, .nr_guests = 1 };
	struct rguest r = { 624, A, A, A, A, false, false };
	struct release_in in = { .cfg = &cfg, .snap = &snap };
	struct vmem_dev *d = &g.backing.vmem.dev[0];
	struct release_plan p;
	struct act_fake f;
	char err[256], line[128];

	config_defaults(&cfg);
	make_guest(&g, 0, &r);
	g.backing.vmem.count = 1;
	d->size_kib = g.backing.vmem.size_kib = MIB_KIB(512);
	d->block_kib = g.backing.vmem.block_kib = 2048;
	d->requested_kib = d->current_kib = MIB_KIB(212);
	g.backing.vmem.requested_kib = g.backing.vmem.current_kib =
	    MIB_KIB(212);
	mt_strlcpy(d->alias, "virtiomem0", sizeof(d->alias));
	/* actual = 512 - 100 ballooned + 212 plugged */
	g.max_kib = MIB_KIB(1024);
	release_plan_init(&p);
	ck_assert_int_eq(release_plan_make(&in, &p, err, sizeof(err)), 0);
	plan_line(&p, line, sizeof(line));
	ck_assert_str_eq(line, "balloon=512 virtio_mem=512");
	act_fake_init(&f);
	ck_assert_int_eq(release_apply(&act_fake_ops, &f, NULL, &p), 0);
	ck_assert_uint_eq(f.nr_calls, 2);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_BALLOON);
	ck_assert_int_eq(f.calls[0].target_kib, MIB_KIB(512));
	ck_assert_int_eq(f.calls[1].kind, ACT_CALL_VMEM);
	ck_assert_str_eq(f.calls[1].value, "virtiomem0");
	ck_assert_int_eq(f.calls[1].target_kib, MIB_KIB(512));

	/* the same guest without its alias: the balloon alone, as far as
	 * the boot memory goes */
	release_plan_free(&p);
	act_fake_clear(&f);
	d->alias[0] = '\0';
	ck_assert_int_eq(release_plan_make(&in, &p, err, sizeof(err)), 0);
	plan_line(&p, line, sizeof(line));
	ck_assert_str_eq(line, "balloon=512");
	ck_assert_int_eq(release_apply(&act_fake_ops, &f, NULL, &p), 0);
	ck_assert_uint_eq(f.nr_calls, 1);
	ck_assert_int_eq(f.calls[0].target_kib, MIB_KIB(512));
	act_fake_free(&f);
	release_plan_free(&p);
	config_free(&cfg);
}
END_TEST

/* The engine's holds: a guest's own wins over the host's, the host's
 * covers guests not named (new ones too), and holding the host again
 * forgets the per-guest ones. */
START_TEST(test_holds)
{
	static struct engine e;		/* zeroed: holds only */
	const char *u1 = "00000000-0000-4000-8000-000000000001";
	const char *u2 = "00000000-0000-4000-8000-000000000002";

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(engine_hold_of(&e, u1), GUEST_HOLD_NONE);
	ck_assert_int_eq(engine_hold(&e, u1, GUEST_HOLD_RELEASED), 0);
	ck_assert_int_eq(engine_hold_of(&e, u1), GUEST_HOLD_RELEASED);
	ck_assert_int_eq(engine_hold_of(&e, u2), GUEST_HOLD_NONE);
	ck_assert_int_eq(engine_hold(&e, u1, GUEST_HOLD_PAUSED), 0);
	ck_assert_int_eq(engine_hold_of(&e, u1), GUEST_HOLD_PAUSED);
	ck_assert_uint_eq(e.nr_holds, 1);
	ck_assert_int_eq(engine_hold(&e, NULL, GUEST_HOLD_RELEASED), 0);
	ck_assert_int_eq(engine_hold_of(&e, u1), GUEST_HOLD_RELEASED);
	ck_assert_int_eq(engine_hold_of(&e, u2), GUEST_HOLD_RELEASED);
	ck_assert_int_eq(engine_hold(&e, u2, GUEST_HOLD_NONE), 0);
	ck_assert_int_eq(engine_hold_of(&e, u2), GUEST_HOLD_NONE);
	ck_assert_int_eq(engine_hold_of(&e, u1), GUEST_HOLD_RELEASED);
	engine_release_free(&e);
}
END_TEST

/* What the daemon found of each guest: the first look is kept while the
 * guest runs (memtuned's own writes come after it), a limit memtuned's
 * record describes is not what the guest had, and a guest gone drops
 * out. The holds reach the snapshot for the policy. */
START_TEST(test_found_table)
{
	static struct engine e;
	struct guest_snapshot g[2];
	struct rguest plain = { 512, A, A, 900, A, false, false };
	struct rguest own = { 512, 700, 700, A, A, false, false };

	memset(&e, 0, sizeof(e));
	config_defaults(&e.cfg);
	make_guest(&g[0], 0, &plain);
	make_guest(&g[1], 1, &own);
	e.snap.guests = g;
	e.snap.nr_guests = 2;
	ck_assert_int_eq(engine_hold(&e, g[1].uuid, GUEST_HOLD_PAUSED), 0);
	ck_assert_int_eq(engine_note_guests(&e), 0);
	ck_assert_uint_eq(e.nr_found, 2);
	ck_assert_int_eq(e.found[0].soft_limit_kib, MIB_KIB(900));
	ck_assert_int_eq(e.found[0].hard_limit_kib, MT_ABSENT);
	ck_assert_int_eq(e.found[1].hard_limit_kib, MT_ABSENT);
	ck_assert_int_eq(g[0].hold, GUEST_HOLD_NONE);
	ck_assert_int_eq(g[1].hold, GUEST_HOLD_PAUSED);

	/* memtuned wrote its soft limit; vm1 went away */
	g[0].soft_limit_kib = MIB_KIB(600);
	e.snap.nr_guests = 1;
	ck_assert_int_eq(engine_note_guests(&e), 0);
	ck_assert_uint_eq(e.nr_found, 1);
	ck_assert_int_eq(e.found[0].soft_limit_kib, MIB_KIB(900));
	/* vm1 is back: a fresh first look */
	g[1].hard_limit_kib = MIB_KIB(1500);
	g[1].own_hard_limit_kib = MT_ABSENT;
	e.snap.nr_guests = 2;
	ck_assert_int_eq(engine_note_guests(&e), 0);
	ck_assert_str_eq(e.found[1].uuid, g[1].uuid);
	ck_assert_int_eq(e.found[1].hard_limit_kib, MIB_KIB(1500));
	ck_assert_int_eq(e.found[0].soft_limit_kib, MIB_KIB(900));
	engine_release_free(&e);
	config_free(&e.cfg);
}
END_TEST

Suite *
release_suite(void)
{
	Suite *s = suite_create("release");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plan_table);
	tcase_add_test(tc, test_plan_selection);
	tcase_add_test(tc, test_resolve_table);
	tcase_add_test(tc, test_apply_and_answer);
	tcase_add_test(tc, test_release_vmem);
	tcase_add_test(tc, test_holds);
	tcase_add_test(tc, test_found_table);
	suite_add_tcase(s, tc);
	return s;
}
