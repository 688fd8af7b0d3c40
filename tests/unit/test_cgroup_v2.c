/* test_cgroup_v2.c - cgroup v2 done as the kernel reads it, on libvirt's v2
 * layout (tests/fixtures/cgroup-v2, copied to a scratch tree where files
 * are written): memory.low reaches a guest only through parents that
 * cover their children, so the guest's group, its machine scope and
 * machine.slice are written, with these exact values; the soft limit,
 * which libvirt writes to memory.high there, never goes under what the
 * guest's cgroup holds. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "cgroup.h"
#include "log.h"
#include "policy.h"
#include "util.h"
#include "policy_fixture.h"

Suite *cgroup_v2_suite(void);

#define FX_V2 "tests/fixtures/cgroup-v2"
#define CG "/sys/fs/cgroup"
#define SLICE CG "/machine.slice"
#define VM2_SCOPE SLICE "/machine-qemu\\x2d3\\x2dvm2.scope"
#define VM2_DIR VM2_SCOPE "/libvirt"
#define VM3_SCOPE SLICE "/machine-qemu\\x2d4\\x2dvm3.scope"
#define MIB_B (1024LL * 1024)

static char scratch[64];
static char logged[16384];

static void
log_capture(int pri, const char *line, void *arg)
{
	(void)pri;
	(void)arg;
	if (strlen(logged) + strlen(line) + 2 < sizeof(logged)) {
		strcat(logged, line);
		strcat(logged, "\n");
	}
}

/* A scratch copy of the fixture as the root prefix. */
static void
setup(void)
{
	char cmd[256];

	logged[0] = '\0';
	log_init("test", LOG_TO_STDERR, 0);
	log_set_hook(log_capture, NULL);
	ck_assert_msg(access(FX_V2, R_OK) == 0,
	    "%s not found: run the unit tests from the source tree", FX_V2);
	mt_strlcpy(scratch, "/tmp/mt-cgv2-XXXXXX", sizeof(scratch));
	ck_assert_ptr_nonnull(mkdtemp(scratch));
	snprintf(cmd, sizeof(cmd), "cp -a " FX_V2 "/. %s/", scratch);
	ck_assert_int_eq(system(cmd), 0);
	mt_set_root(scratch);
}

static void
teardown(void)
{
	char cmd[256];

	log_set_hook(NULL, NULL);
	mt_set_root("");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
	ck_assert_int_eq(system(cmd), 0);
}

static void
put(const char *dir, const char *file, const char *val)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	ck_assert_int_eq(mt_write_file(rel, val), 0);
}

static int64_t
low_of(const char *dir)
{
	int64_t v;

	ck_assert_int_eq(mcg_read_low_bytes(dir, &v), 0);
	return v;
}

/* ------------------------------------------------------- the tree */

static bool
say_vm2_scope_1g(const char *child, void *arg, int64_t *bytes)
{
	(void)arg;
	if (strcmp(child, VM2_SCOPE) != 0)
		return false;
	*bytes = 1024 * MIB_B;
	return true;
}

START_TEST(test_tree)
{
	struct mcg_mounts m;
	char anc[PATH_MAX];
	int64_t v;

	ck_assert_int_eq(mcg_mounts_detect(&m), 0);
	ck_assert_int_eq(m.version, 2);
	ck_assert_int_eq(mcg_depth(&m, VM2_DIR), 3);
	ck_assert_int_eq(mcg_depth(&m, VM3_SCOPE), 2);
	ck_assert_int_eq(mcg_depth(&m, CG), 0);
	ck_assert_int_eq(mcg_depth(&m, "/sys/fs/cgroupx/a"), -EINVAL);
	ck_assert_int_eq(mcg_depth(&m, "/elsewhere"), -EINVAL);
	ck_assert_int_eq(mcg_ancestor(&m, VM2_DIR, 1, anc, sizeof(anc)), 0);
	ck_assert_str_eq(anc, SLICE);
	ck_assert_int_eq(mcg_ancestor(&m, VM2_DIR, 2, anc, sizeof(anc)), 0);
	ck_assert_str_eq(anc, VM2_SCOPE);
	ck_assert_int_eq(mcg_ancestor(&m, VM2_DIR, 3, anc, sizeof(anc)),
	    -EINVAL);
	ck_assert_int_eq(mcg_ancestor(&m, VM2_DIR, 0, anc, sizeof(anc)),
	    -EINVAL);
	ck_assert_int_eq(mcg_ancestor(&m, VM2_DIR, 2, anc, 10), -ENAMETOOLONG);

	/* the guest's own 1 GiB is held back by a slice and scope at 0 */
	ck_assert_int_eq(low_of(VM2_DIR), 1024 * MIB_B);
	ck_assert_int_eq(mcg_read_parents_low(&m, VM2_DIR, &v), 0);
	ck_assert_int_eq(v, 0);
	put(SLICE, "memory.low", "3221225472");
	put(VM2_SCOPE, "memory.low", "2147483648");
	ck_assert_int_eq(mcg_read_parents_low(&m, VM2_DIR, &v), 0);
	ck_assert_int_eq(v, GIB_KIB(2));
	/* "max" caps nothing; a group without the file is passed over */
	put(VM2_SCOPE, "memory.low", "max");
	ck_assert_int_eq(mcg_read_parents_low(&m, VM2_DIR, &v), 0);
	ck_assert_int_eq(v, GIB_KIB(3));
	ck_assert_int_eq(mcg_read_parents_low(&m, VM3_SCOPE, &v), 0);
	ck_assert_int_eq(v, GIB_KIB(3));

	/* machine.slice's children: the two scopes (0 and 0 as captured);
	 * a planned value stands in for the file's */
	put(VM2_SCOPE, "memory.low", "0");
	put(SLICE, "memory.low", "0");
	ck_assert_int_eq(mcg_children_low_sum(SLICE, NULL, NULL, &v), 0);
	ck_assert_int_eq(v, 0);
	put(VM3_SCOPE, "memory.low", "536870912");
	ck_assert_int_eq(mcg_children_low_sum(SLICE, NULL, NULL, &v), 0);
	ck_assert_int_eq(v, 512 * MIB_B);
	ck_assert_int_eq(mcg_children_low_sum(SLICE, say_vm2_scope_1g, NULL,
	    &v), 0);
	ck_assert_int_eq(v, 1536 * MIB_B);
	/* libvirt's threaded emulator/ and vcpu0/ have no memory.low */
	ck_assert_int_eq(mcg_children_low_sum(VM2_DIR, NULL, NULL, &v), 0);
	ck_assert_int_eq(v, 0);
	put(VM3_SCOPE, "memory.low", "max");
	ck_assert_int_eq(mcg_children_low_sum(SLICE, NULL, NULL, &v), 0);
	ck_assert_int_eq(v, MCG_LOW_MAX);
	put(VM3_SCOPE, "memory.low", "lots");
	ck_assert_int_eq(mcg_children_low_sum(SLICE, NULL, NULL, &v), -EINVAL);
	ck_assert_int_eq(mcg_children_low_sum(SLICE "/gone", NULL, NULL, &v),
	    -ENOENT);
}
END_TEST

/* ---------------------------------------------------- memory.low written */

/* vm2 (pid 4242, its QEMU in libvirt/emulator) and vm3 (pid 4343, in its
 * scope), both asking for memory.low only. */
struct low_fixture {
	struct guest_snapshot gs[2];
	struct guest_plan gp[2];
	struct snapshot snap;
	struct policy_plan plan;
	struct policy_config pc;
	struct act_apply_opts opts;
	struct mcg_mounts m;
};

static void
low_fixture(struct low_fixture *x, int64_t low2_kib, int64_t low3_kib)
{
	static const char *const names[] = { "vm2", "vm3" };
	static const char *const uuids[] = {
		"00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000003",
	};
	static const int64_t pids[] = { 4242, 4343 };

	memset(x, 0, sizeof(*x));
	policy_config_defaults(&x->pc);
	ck_assert_int_eq(mcg_mounts_detect(&x->m), 0);
	for (int i = 0; i < 2; i++) {
		guest_snapshot_init(&x->gs[i]);
		mt_strlcpy(x->gs[i].uuid, uuids[i], sizeof(x->gs[i].uuid));
		mt_strlcpy(x->gs[i].name, names[i], sizeof(x->gs[i].name));
		x->gs[i].max_kib = GIB_KIB(4);
		x->gs[i].actual_kib = GIB_KIB(4);
		x->gs[i].cgroup_version = 2;
		x->gs[i].qemu_pid = pids[i];
		mt_strlcpy(x->gp[i].uuid, x->gs[i].uuid, sizeof(x->gp[i].uuid));
		mt_strlcpy(x->gp[i].name, names[i], sizeof(x->gp[i].name));
		x->gp[i].action = ACT_MEMTUNE;
		x->gp[i].floor_kib = GIB_KIB(1);
		x->gp[i].ceiling_kib = GIB_KIB(4);
		x->gp[i].actual_kib = x->gp[i].target_kib = GIB_KIB(4);
		x->gp[i].hard_limit_kib = x->gp[i].soft_limit_kib = MT_ABSENT;
		x->gp[i].swap_hard_limit_kib = MT_ABSENT;
		mt_strlcpy(x->gp[i].reason, "floor", sizeof(x->gp[i].reason));
	}
	x->gp[0].memory_low_kib = low2_kib;
	x->gp[1].memory_low_kib = low3_kib;
	if (!MT_PRESENT(low3_kib))
		x->gp[1].action = ACT_NONE;
	x->snap.guests = x->gs;
	x->snap.nr_guests = 2;
	x->plan.guests = x->gp;
	x->plan.nr_guests = 2;
	x->opts.mounts = &x->m;
}

static void
ck_call(const struct act_fake *f, size_t i, const char *path, int64_t bytes)
{
	char want[32];

	ck_assert_uint_gt(f->nr_calls, i);
	ck_assert_int_eq(f->calls[i].kind, ACT_CALL_SYSFS);
	ck_assert_str_eq(f->calls[i].path, path);
	snprintf(want, sizeof(want), "%lld", (long long)bytes);
	ck_assert_str_eq(f->calls[i].value, want);
}

START_TEST(test_low_one_guest)
{
	struct low_fixture x;
	struct act_result res;
	struct act_fake f;
	int64_t low = 1280 * 1024;	/* KiB: floor 1 GiB + 256 MiB */

	/* another tenant of machine.slice already claims 512 MiB */
	put(VM3_SCOPE, "memory.low", "536870912");
	low_fixture(&x, low, MT_ABSENT);
	act_fake_init(&f);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.failed, 0);
	ck_assert_int_eq(f.nr_calls, 3);
	ck_call(&f, 0, VM2_DIR "/memory.low", low * 1024);
	ck_call(&f, 1, VM2_SCOPE "/memory.low", low * 1024);
	ck_call(&f, 2, SLICE "/memory.low", low * 1024 + 512 * MIB_B);
	ck_assert_int_eq(res.done, 3);
	act_fake_free(&f);
}
END_TEST

START_TEST(test_low_two_guests)
{
	struct low_fixture x;
	struct act_result res;
	struct act_fake f;
	int64_t low2 = 1280 * 1024, low3 = 768 * 1024;

	low_fixture(&x, low2, low3);
	act_fake_init(&f);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	/* each guest's own group, then vm2's scope (vm3's group is its
	 * scope), then the slice once, from both new values: nothing was
	 * written to the files, so the sums come from the plan */
	ck_assert_int_eq(f.nr_calls, 4);
	ck_call(&f, 0, VM2_DIR "/memory.low", low2 * 1024);
	ck_call(&f, 1, VM3_SCOPE "/memory.low", low3 * 1024);
	ck_call(&f, 2, VM2_SCOPE "/memory.low", low2 * 1024);
	ck_call(&f, 3, SLICE "/memory.low", (low2 + low3) * 1024);

	/* a dry run says the same and writes nothing */
	act_fake_clear(&f);
	x.opts.dry_run = true;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_int_eq(res.done, 4);
	ck_assert_ptr_nonnull(strstr(logged, "dry-run: would write 2147483648 "
	    "to " SLICE "/memory.low"));
	ck_assert_int_eq(low_of(SLICE), 0);

	/* a refused guest (memory.low above its ceiling and overhead) is
	 * not counted into the parents */
	act_fake_clear(&f);
	x.opts.dry_run = false;
	x.gp[1].memory_low_kib = GIB_KIB(8);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.failed, 1);
	ck_assert_int_eq(f.nr_calls, 3);
	ck_call(&f, 2, SLICE "/memory.low", low2 * 1024);
	act_fake_free(&f);
}
END_TEST

/* The real writes on the scratch tree: the files end up as the kernel
 * needs them, a second tick with nothing new writes no parent again, and
 * the collector's reading of what reaches the guest follows. */
START_TEST(test_low_written)
{
	struct low_fixture x;
	struct act_result res;
	int64_t low2 = 1280 * 1024, low3 = 768 * 1024, v;

	low_fixture(&x, low2, low3);
	ck_assert_int_eq(mcg_read_parents_low(&x.m, VM2_DIR, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(act_apply_plan(&act_libvirt_ops, NULL, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.failed, 0);
	ck_assert_int_eq(res.done, 4);
	ck_assert_int_eq(low_of(VM2_DIR), low2 * 1024);
	ck_assert_int_eq(low_of(VM2_SCOPE), low2 * 1024);
	ck_assert_int_eq(low_of(VM3_SCOPE), low3 * 1024);
	ck_assert_int_eq(low_of(SLICE), (low2 + low3) * 1024);
	ck_assert_int_eq(mcg_read_parents_low(&x.m, VM2_DIR, &v), 0);
	ck_assert_int_eq(v, low2);

	/* vm3 alone lowers its floor: the slice follows, vm2's scope is
	 * left as it is */
	logged[0] = '\0';
	x.gp[0].action = ACT_NONE;
	x.gp[1].memory_low_kib = 512 * 1024;
	ck_assert_int_eq(act_apply_plan(&act_libvirt_ops, NULL, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.done, 2);
	ck_assert_int_eq(low_of(SLICE), (low2 + 512 * 1024) * 1024);
	ck_assert_ptr_null(strstr(logged, VM2_SCOPE "/memory.low ="));

	/* systemd reapplying the slice's settings puts it back to 0: the
	 * collector sees the guest's floor no longer reach it */
	put(SLICE, "memory.low", "0");
	ck_assert_int_eq(mcg_read_parents_low(&x.m, VM2_DIR, &v), 0);
	ck_assert_int_eq(v, 0);
}
END_TEST

/* ------------------------------------------------------ the soft limit */

struct soft_case {
	int cgroup_version;
	int64_t usage_mib;	/* memory.current; -1: absent */
	int64_t rss_mib;	/* QEMU's RSS; -1: absent */
	int64_t soft_mib;	/* the soft limit libvirt has; -1: unlimited */
	int64_t hard_mib;	/* the hard limit libvirt has; -1: unlimited */
	/* the soft limit planned: 'T' target + overhead, 'U' usage +
	 * overhead, 'H' the hard limit, 'N' none */
	char want;
};

static const struct soft_case soft_cases[] = {
	/* v1: a reclaim order, target plus overhead as always */
	{ 1, 8000, 8100, -1, -1, 'T' },
	/* v2: memory.high never under what the cgroup holds */
	{ 2, 8000, 7900, -1, -1, 'U' },
	/* QEMU's RSS when it is the larger */
	{ 2, 7000, 8150, -1, -1, 'U' },
	{ 2, -1, 8150, -1, -1, 'U' },
	/* the usage already below the target: the target rules (RSS
	 * unknown: with an RSS that low the guest's idle memory would not
	 * be resident, and no shrink would be planned) */
	{ 2, 1000, -1, -1, -1, 'T' },
	/* usage unknown: nothing lowered ... */
	{ 2, -1, -1, -1, -1, 'N' },
	{ 2, -1, -1, 20000, -1, 'N' },
	/* ... but a soft limit under target plus overhead may be raised */
	{ 2, -1, -1, 1024, -1, 'T' },
	/* an operator's hard limit under the usage: libvirt refuses a soft
	 * limit above it */
	{ 2, 8000, 8000, -1, 8200, 'H' },
};

START_TEST(test_soft_limit)
{
	const struct soft_case *sc = &soft_cases[_i];
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[2];
	const struct guest_plan *gp;
	int64_t over, want = MT_ABSENT;

	fx_config(&c);
	ck_assert_int_eq(policy_state_init(&s, 4), 0);
	ck_assert_int_eq(policy_plan_init(&p, 4), 0);
	/* a host short of memory: the 8 GiB guest is asked to shrink */
	fx_host(&snap.host, 24576, 800);
	fx_guest_touched(&g[0], 0, 8192, 8192, 6144);
	fx_guest_touched(&g[1], 1, 8192, 8192, 6144);
	g[0].cgroup_version = sc->cgroup_version;
	g[0].cg_usage_kib = sc->usage_mib < 0 ? MT_ABSENT :
	    MIB_KIB(sc->usage_mib);
	g[0].rss_kib = sc->rss_mib < 0 ? MT_ABSENT : MIB_KIB(sc->rss_mib);
	g[0].soft_limit_kib = sc->soft_mib < 0 ? MT_ABSENT :
	    MIB_KIB(sc->soft_mib);
	g[0].hard_limit_kib = sc->hard_mib < 0 ? MT_ABSENT :
	    MIB_KIB(sc->hard_mib);
	snap.guests = g;
	snap.nr_guests = 2;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 0, &p), 0);
	gp = &p.guests[0];
	over = policy_qemu_overhead_kib(&c, g[0].max_kib);
	ck_assert_int_lt(gp->target_kib, g[0].actual_kib);
	switch (sc->want) {
	case 'T':
		want = gp->target_kib + over;
		break;
	case 'U':
		want = MAX(g[0].cg_usage_kib, g[0].rss_kib) + over;
		break;
	case 'H':
		want = g[0].hard_limit_kib;
		break;
	default:
		break;
	}
	ck_assert_msg(gp->soft_limit_kib == want, "case %d: soft %lld, want "
	    "%lld (target %lld, overhead %lld)", _i,
	    (long long)gp->soft_limit_kib, (long long)want,
	    (long long)gp->target_kib, (long long)over);
	if (sc->want == 'N' && !MT_PRESENT(g[0].soft_limit_kib))
		ck_assert_ptr_nonnull(strstr(gp->reason, "soft limit kept"));
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

/* A balloon on its way down: the soft limit follows only as the cgroup's
 * usage falls, tick after tick, and ends at target plus overhead. */
START_TEST(test_soft_limit_follows_usage)
{
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g[2];
	int64_t over, prev = MT_ABSENT, usage, last = MT_ABSENT;

	fx_config(&c);
	ck_assert_int_eq(policy_state_init(&s, 4), 0);
	ck_assert_int_eq(policy_plan_init(&p, 4), 0);
	fx_host(&snap.host, 24576, 800);
	fx_guest_touched(&g[0], 0, 8192, 8192, 6144);
	fx_guest_touched(&g[1], 1, 8192, 8192, 6144);
	g[0].cgroup_version = 2;
	snap.guests = g;
	snap.nr_guests = 2;
	over = policy_qemu_overhead_kib(&c, g[0].max_kib);
	usage = MIB_KIB(8392);
	for (int tick = 0; tick < 12; tick++) {
		const struct guest_plan *gp;

		g[0].cg_usage_kib = last = usage;
		ck_assert_int_eq(policy_decide(&c, &snap, &s, tick * 2000LL,
		    &p), 0);
		gp = &p.guests[0];
		if (MT_PRESENT(gp->soft_limit_kib)) {
			ck_assert_int_ge(gp->soft_limit_kib, usage + over);
			ck_assert_int_ge(gp->soft_limit_kib,
			    gp->target_kib + over);
			g[0].soft_limit_kib = gp->soft_limit_kib;
			if (MT_PRESENT(prev))
				ck_assert_int_lt(gp->soft_limit_kib, prev);
			prev = gp->soft_limit_kib;
		}
		/* the balloon lands, and the host gets the pages back one
		 * tick later */
		usage = MAX(gp->target_kib + MIB_KIB(200),
		    usage - MIB_KIB(300));
		g[0].actual_kib = gp->target_kib;
		g[0].rss_kib = usage;
	}
	/* settled: the cgroup keeps QEMU's own memory above the target, and
	 * the soft limit sits an overhead above that, within one minimum
	 * change */
	ck_assert_int_gt(last, p.guests[0].target_kib);
	ck_assert_int_ge(g[0].soft_limit_kib, last + over);
	ck_assert_int_lt(g[0].soft_limit_kib, last + over + c.min_change_kib);
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

Suite *
cgroup_v2_suite(void)
{
	Suite *s = suite_create("cgroup_v2");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_low_one_guest);
	tcase_add_test(tc, test_low_two_guests);
	tcase_add_test(tc, test_low_written);
	suite_add_tcase(s, tc);
	tc = tcase_create("soft_limit");
	tcase_add_loop_test(tc, test_soft_limit, 0,
	    (int)ARRAY_SIZE(soft_cases));
	tcase_add_test(tc, test_soft_limit_follows_usage);
	suite_add_tcase(s, tc);
	return s;
}
