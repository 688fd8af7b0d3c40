/* test_policy_trust.c - [daemon] metadata: what each mode makes of a
 * value from memtuned.conf, from the domain's metadata or from nowhere
 * (bound, source, and what was capped), and the rule that memory.low is
 * never made from a floor only metadata gave. */
#include <check.h>
#include <stdlib.h>

#include "policy.h"
#include "policy_fixture.h"

Suite *policy_trust_suite(void);

enum field { F_FLOOR, F_CEILING, F_SHARES, F_EXCLUDE };

/* One guest of 4 GiB max memory with the defaults: floor_default 30%
 * (1228.8 MiB), metadata_floor_max 50% (2 GiB), metadata_shares_max
 * 4000, metadata_exclude no. `conf_floor` adds a memtuned.conf floor. */
static const struct trust_case {
	const char *name;
	enum metadata_trust mode;
	bool allow_exclude;
	enum field f;
	enum guest_input_source src;
	int64_t value;
	int64_t conf_floor;
	int64_t want;
	enum guest_input_source want_src;
	int64_t asked;			/* the cap's record (MT_ABSENT:
					   as given; exclude: 1) */
	bool low_refused;
} cases[] = {
	{ "trust metadata floor", METADATA_TRUST, false, F_FLOOR,
	    SRC_METADATA, GIB_KIB(3), MT_ABSENT, GIB_KIB(3), SRC_METADATA,
	    MT_ABSENT, false },
	{ "bounded metadata floor capped", METADATA_BOUNDED, false, F_FLOOR,
	    SRC_METADATA, GIB_KIB(3), MT_ABSENT, GIB_KIB(2), SRC_METADATA,
	    GIB_KIB(3), true },
	{ "bounded metadata floor at the cap", METADATA_BOUNDED, false,
	    F_FLOOR, SRC_METADATA, GIB_KIB(2), MT_ABSENT, GIB_KIB(2), SRC_METADATA,
	    MT_ABSENT, true },
	{ "bounded metadata floor under it", METADATA_BOUNDED, false,
	    F_FLOOR, SRC_METADATA, GIB_KIB(1), MT_ABSENT, GIB_KIB(1), SRC_METADATA,
	    MT_ABSENT, true },
	{ "ignore metadata floor", METADATA_IGNORE, false, F_FLOOR,
	    SRC_METADATA, GIB_KIB(3), MT_ABSENT, MT_ABSENT, SRC_DEFAULT,
	    MT_ABSENT, false },
	{ "bounded config floor", METADATA_BOUNDED, false, F_FLOOR,
	    SRC_CONFIG, GIB_KIB(3), MT_ABSENT, GIB_KIB(3), SRC_CONFIG, MT_ABSENT,
	    false },
	{ "ignore config floor", METADATA_IGNORE, false, F_FLOOR, SRC_CONFIG,
	    GIB_KIB(3), MT_ABSENT, GIB_KIB(3), SRC_CONFIG, MT_ABSENT, false },
	{ "bounded default floor", METADATA_BOUNDED, false, F_FLOOR,
	    SRC_DEFAULT, MT_ABSENT, MT_ABSENT, MT_ABSENT, SRC_DEFAULT,
	    MT_ABSENT, false },

	{ "trust metadata ceiling under the floor", METADATA_TRUST, false,
	    F_CEILING, SRC_METADATA, MIB_KIB(512), MT_ABSENT, MIB_KIB(512),
	    SRC_METADATA, MT_ABSENT, false },
	{ "bounded metadata ceiling raised to the default floor",
	    METADATA_BOUNDED, false, F_CEILING, SRC_METADATA, MIB_KIB(512),
	    MT_ABSENT, 1258291, SRC_METADATA, MIB_KIB(512), false },
	{ "bounded metadata ceiling raised to the config floor",
	    METADATA_BOUNDED, false, F_CEILING, SRC_METADATA, GIB_KIB(1),
	    MIB_KIB(1536), MIB_KIB(1536), SRC_METADATA, GIB_KIB(1), false },
	{ "bounded metadata ceiling above the floor", METADATA_BOUNDED,
	    false, F_CEILING, SRC_METADATA, GIB_KIB(2), MT_ABSENT, GIB_KIB(2),
	    SRC_METADATA, MT_ABSENT, false },
	{ "bounded config ceiling under the floor", METADATA_BOUNDED, false,
	    F_CEILING, SRC_CONFIG, MIB_KIB(512), MT_ABSENT, MIB_KIB(512),
	    SRC_CONFIG, MT_ABSENT, false },
	{ "ignore metadata ceiling", METADATA_IGNORE, false, F_CEILING,
	    SRC_METADATA, MIB_KIB(512), MT_ABSENT, MT_ABSENT, SRC_DEFAULT,
	    MT_ABSENT, false },

	{ "trust metadata shares", METADATA_TRUST, false, F_SHARES,
	    SRC_METADATA, 1000000, MT_ABSENT, 1000000, SRC_METADATA,
	    MT_ABSENT, false },
	{ "bounded metadata shares capped", METADATA_BOUNDED, false,
	    F_SHARES, SRC_METADATA, 1000000, MT_ABSENT, 4000, SRC_METADATA,
	    1000000, false },
	{ "bounded metadata shares at the cap", METADATA_BOUNDED, false,
	    F_SHARES, SRC_METADATA, 4000, MT_ABSENT, 4000, SRC_METADATA,
	    MT_ABSENT, false },
	{ "bounded config shares", METADATA_BOUNDED, false, F_SHARES,
	    SRC_CONFIG, 1000000, MT_ABSENT, 1000000, SRC_CONFIG, MT_ABSENT,
	    false },
	{ "ignore metadata shares", METADATA_IGNORE, false, F_SHARES,
	    SRC_METADATA, 1000000, MT_ABSENT, MT_ABSENT, SRC_DEFAULT,
	    MT_ABSENT, false },

	{ "trust metadata exclude", METADATA_TRUST, false, F_EXCLUDE,
	    SRC_METADATA, 1, MT_ABSENT, 1, SRC_METADATA, MT_ABSENT, false },
	{ "bounded metadata exclude refused", METADATA_BOUNDED, false,
	    F_EXCLUDE, SRC_METADATA, 1, MT_ABSENT, 0, SRC_DEFAULT, 1, false },
	{ "bounded metadata exclude allowed", METADATA_BOUNDED, true,
	    F_EXCLUDE, SRC_METADATA, 1, MT_ABSENT, 1, SRC_METADATA,
	    MT_ABSENT, false },
	{ "bounded metadata exclude=no", METADATA_BOUNDED, false, F_EXCLUDE,
	    SRC_METADATA, 0, MT_ABSENT, 0, SRC_METADATA, MT_ABSENT, false },
	{ "bounded config exclude", METADATA_BOUNDED, false, F_EXCLUDE,
	    SRC_CONFIG, 1, MT_ABSENT, 1, SRC_CONFIG, MT_ABSENT, false },
	{ "ignore metadata exclude", METADATA_IGNORE, true, F_EXCLUDE,
	    SRC_METADATA, 1, MT_ABSENT, 0, SRC_DEFAULT, MT_ABSENT, false },
};

static void
case_input(const struct trust_case *tc, struct guest_snapshot *g)
{
	struct guest_input *in = &g->input;

	fx_guest_touched(g, 0, 4096, 4096, 2048);
	if (MT_PRESENT(tc->conf_floor)) {
		in->floor_kib = tc->conf_floor;
		in->floor_src = SRC_CONFIG;
	}
	switch (tc->f) {
	case F_FLOOR:
		in->floor_kib = tc->value;
		in->floor_src = tc->src;
		break;
	case F_CEILING:
		in->ceiling_kib = tc->value;
		in->ceiling_src = tc->src;
		break;
	case F_SHARES:
		in->shares = tc->value;
		in->shares_src = tc->src;
		break;
	case F_EXCLUDE:
		in->exclude = tc->value != 0;
		in->exclude_src = tc->src;
		break;
	}
}

/* the field under test, its source and what the cap recorded of it */
static void
case_got(const struct trust_case *tc, const struct guest_input *in,
    const struct policy_metadata_cap *cap, int64_t *v,
    enum guest_input_source *src, int64_t *asked)
{
	switch (tc->f) {
	case F_FLOOR:
		*v = in->floor_kib, *src = in->floor_src;
		*asked = cap->floor_kib;
		break;
	case F_CEILING:
		*v = in->ceiling_kib, *src = in->ceiling_src;
		*asked = cap->ceiling_kib;
		break;
	case F_SHARES:
		*v = in->shares, *src = in->shares_src;
		*asked = cap->shares;
		break;
	case F_EXCLUDE:
		*v = in->exclude, *src = in->exclude_src;
		*asked = cap->exclude ? 1 : MT_ABSENT;
		break;
	}
}

START_TEST(test_input_table)
{
	const struct trust_case *tc = &cases[_i];
	struct policy_config c;
	struct guest_snapshot g;
	struct guest_input in;
	struct policy_metadata_cap cap;
	enum guest_input_source src;
	int64_t v, asked;

	fx_config(&c);
	c.metadata_mode = tc->mode;
	c.metadata_exclude = tc->allow_exclude;
	case_input(tc, &g);
	policy_guest_input(&c, &g, &in, &cap);
	case_got(tc, &in, &cap, &v, &src, &asked);
	ck_assert_msg(v == tc->want, "%s: value %lld, want %lld", tc->name,
	    (long long)v, (long long)tc->want);
	ck_assert_msg(src == tc->want_src, "%s: source %s, want %s",
	    tc->name, guest_input_source_name(src),
	    guest_input_source_name(tc->want_src));
	ck_assert_msg(asked == tc->asked, "%s: capped from %lld, want %lld",
	    tc->name, (long long)asked, (long long)tc->asked);
	ck_assert_msg(cap.low_refused == tc->low_refused, "%s: low_refused",
	    tc->name);
	/* the snapshot itself is never changed */
	ck_assert_int_eq(g.input.floor_src, tc->f == F_FLOOR ? tc->src :
	    MT_PRESENT(tc->conf_floor) ? SRC_CONFIG : SRC_DEFAULT);
}
END_TEST

/* memory.low on cgroup v2 is floor + QEMU overhead, but a floor only
 * metadata gave becomes a balloon floor only: bounded takes memory.low
 * from the default floor, capped or not. */
static const struct low_case {
	const char *name;
	enum metadata_trust mode;
	enum guest_input_source src;
	int64_t floor_kib;
	int64_t want_floor_kib;		/* the plan's floor */
	int64_t want_low_floor_kib;	/* memory.low less the overhead */
} low_cases[] = {
	{ "trust: metadata floor protected", METADATA_TRUST, SRC_METADATA,
	    GIB_KIB(3), GIB_KIB(3), GIB_KIB(3) },
	{ "bounded: capped metadata floor not protected", METADATA_BOUNDED,
	    SRC_METADATA, GIB_KIB(3), GIB_KIB(2), 1258291 },
	{ "bounded: small metadata floor not protected", METADATA_BOUNDED,
	    SRC_METADATA, GIB_KIB(1), GIB_KIB(1), 1258291 },
	{ "bounded: config floor protected", METADATA_BOUNDED, SRC_CONFIG,
	    GIB_KIB(3), GIB_KIB(3), GIB_KIB(3) },
	{ "ignore: metadata floor dropped", METADATA_IGNORE, SRC_METADATA,
	    GIB_KIB(3), 1258291, 1258291 },
	{ "bounded: default floor protected", METADATA_BOUNDED, SRC_DEFAULT,
	    MT_ABSENT, 1258291, 1258291 },
};

START_TEST(test_memory_low_table)
{
	const struct low_case *lc = &low_cases[_i];
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g;
	int64_t over;

	fx_config(&c);
	c.metadata_mode = lc->mode;
	ck_assert_int_eq(policy_state_init(&s, 1), 0);
	ck_assert_int_eq(policy_plan_init(&p, 1), 0);
	fx_host(&snap.host, 32768, 16384);
	fx_guest_touched(&g, 0, 4096, 4096, 2048);
	g.cgroup_version = 2;
	g.input.floor_kib = lc->floor_kib;
	g.input.floor_src = lc->src;
	snap.guests = &g;
	snap.nr_guests = 1;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	over = policy_qemu_overhead_kib(&c, g.max_kib);
	ck_assert_msg(p.guests[0].floor_kib == lc->want_floor_kib,
	    "%s: floor %lld", lc->name, (long long)p.guests[0].floor_kib);
	ck_assert_msg(p.guests[0].memory_low_kib ==
	    lc->want_low_floor_kib + over, "%s: memory.low %lld, want %lld",
	    lc->name, (long long)p.guests[0].memory_low_kib,
	    (long long)(lc->want_low_floor_kib + over));
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

/* A metadata exclude refused leaves the guest managed; a ceiling under
 * the floor, raised, does not leave it alone as a config error. */
START_TEST(test_bounded_no_opt_out)
{
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[2];

	fx_config(&c);
	ck_assert_int_eq(policy_state_init(&s, 2), 0);
	ck_assert_int_eq(policy_plan_init(&p, 2), 0);
	fx_host(&snap.host, 32768, 16384);
	fx_guest_touched(&g[0], 0, 4096, 4096, 2048);
	g[0].input.exclude = true;
	g[0].input.exclude_src = SRC_METADATA;
	fx_guest_touched(&g[1], 1, 4096, 4096, 2048);
	g[1].input.ceiling_kib = MIB_KIB(16);
	g[1].input.ceiling_src = SRC_METADATA;
	snap.guests = g;
	snap.nr_guests = 2;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	ck_assert_int_ne(p.guests[0].state, GPS_EXCLUDED);
	ck_assert(p.guests[0].meta_cap.exclude);
	ck_assert_int_ne(p.guests[1].state, GPS_CONFIG_ERROR);
	ck_assert_int_eq(p.guests[1].ceiling_kib, p.guests[1].floor_kib);

	c.metadata_mode = METADATA_TRUST;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	ck_assert_int_eq(p.guests[0].state, GPS_EXCLUDED);
	ck_assert_int_eq(p.guests[1].state, GPS_CONFIG_ERROR);
	ck_guest_why(&p.guests[0], GW_WHY_EXCLUDED);
	ck_guest_why(&p.guests[1], GW_WHY_CONFIG_ERROR);
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

/* The domain's hard limit under the ceiling: the bound is libvirt's. */
START_TEST(test_ceiling_from_libvirt)
{
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g;

	fx_config(&c);
	ck_assert_int_eq(policy_state_init(&s, 1), 0);
	ck_assert_int_eq(policy_plan_init(&p, 1), 0);
	fx_host(&snap.host, 32768, 16384);
	fx_guest_touched(&g, 0, 4096, 4096, 2048);
	snap.guests = &g;
	snap.nr_guests = 1;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	ck_assert_int_eq(p.guests[0].input.ceiling_src, SRC_DEFAULT);
	g.hard_limit_kib = GIB_KIB(3);
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	ck_assert_int_eq(p.guests[0].input.ceiling_src, SRC_LIBVIRT);
	ck_assert_str_eq(guest_input_source_name(SRC_LIBVIRT), "libvirt");
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

Suite *
policy_trust_suite(void)
{
	Suite *s = suite_create("policy_trust");
	TCase *tc = tcase_create("metadata");

	tcase_add_loop_test(tc, test_input_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_memory_low_table, 0,
	    (int)(sizeof(low_cases) / sizeof(low_cases[0])));
	tcase_add_test(tc, test_bounded_no_opt_out);
	tcase_add_test(tc, test_ceiling_from_libvirt);
	suite_add_tcase(s, tc);
	return s;
}
