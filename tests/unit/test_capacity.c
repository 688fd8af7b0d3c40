/* test_capacity.c - the capacity estimate: the worked example of
 * docs/capacity.md to the KiB, each reason a guest is left out, KSM
 * attribution, NUMA, the default size, JSON and text; and backing
 * awareness end to end on libvirt's test driver (collector, policy,
 * capacity). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "capacity.h"
#include "guests.h"
#include "policy_fixture.h"
#include "virt.h"

Suite *capacity_suite(void);

/* QEMU overhead with the defaults: 256 MiB + 2% of max, in KiB */
#define OH(max_mib) (MIB_KIB(256) + MIB_KIB(max_mib) * 200 / 10000)

enum { WEB1, WEB2, DB, BUILD, LEGACY, SECURE, NR_EX };

/* The worked example of docs/capacity.md. */
static void
example(struct snapshot *s, struct guest_snapshot *g, struct policy_config *c)
{
	policy_config_defaults(c);
	c->reserve_kib = MIB_KIB(2048);
	fx_host(&s->host, 65536, 30000);
	s->host.time_ms = 5000;
	s->host.mem.hugepage_size_kib = 2048;
	s->host.mem.hugepages_total = 2048;
	s->host.mem.hugepages_free = 0;
	s->host.ksm.present = true;
	s->host.ksm.general_profit = INT64_C(1536) * 1024 * 1024;
	s->host.ksm.pages_sharing = 400000;
	s->host.ksm.full_scans = 12;

	/* web1: at max, 1 GiB used, 512 MiB of caches */
	fx_guest(&g[WEB1], WEB1, 4096, 4096, 3072);
	g[WEB1].disk_caches_kib = MIB_KIB(512);
	g[WEB1].rss_kib = MIB_KIB(2300);
	/* web2: ballooned to 3 GiB already, 512 MiB used */
	fx_guest(&g[WEB2], WEB2, 4096, 3072, 2560);
	g[WEB2].rss_kib = MIB_KIB(1500);
	/* db: hugepage backed */
	fx_guest(&g[DB], DB, 4096, 4096, 1024);
	g[DB].backing.hugepages = true;
	/* build: locked memory */
	fx_guest(&g[BUILD], BUILD, 8192, 8192, 2048);
	g[BUILD].backing.locked = true;
	g[BUILD].rss_kib = MIB_KIB(6000);
	/* legacy: no balloon device, so no stats */
	fx_guest(&g[LEGACY], LEGACY, 2048, 2048, 0);
	g[LEGACY].backing.has_balloon = false;
	g[LEGACY].stats = GUEST_STATS_NONE;
	g[LEGACY].usable_kib = g[LEGACY].available_kib = MT_ABSENT;
	g[LEGACY].rss_kib = MIB_KIB(1800);
	/* secure: no KSM */
	fx_guest(&g[SECURE], SECURE, 2048, 2048, 1536);
	g[SECURE].backing.nosharepages = true;
	g[SECURE].rss_kib = MIB_KIB(1000);
	s->guests = g;
	s->nr_guests = NR_EX;
}

START_TEST(test_worked_example)
{
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;
	int64_t committed, a, balloon, shares, web1_low, web2_low, sec_low;
	int64_t rss_sum = MIB_KIB(2300 + 1500 + 6000 + 1800);
	int64_t saved = MIB_KIB(1536);

	example(&s, g, &c);
	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r), 0);

	ck_assert_int_eq(r.vm_cost_kib, MIB_KIB(4096) + OH(4096));
	ck_assert_int_eq(r.reserve_kib, MIB_KIB(2048));
	ck_assert_int_eq(r.hugepage_pool_kib, MIB_KIB(4096));
	ck_assert_int_eq(r.as_of_ms, 5000);
	ck_assert_int_eq(r.free_now_kib, MIB_KIB(30000 - 2048));

	/* no overcommit: every guest at max + overhead, db's RAM in the
	 * pool so only its overhead */
	committed = 2 * (MIB_KIB(4096) + OH(4096)) + OH(4096) +
	    MIB_KIB(8192) + OH(8192) + 2 * (MIB_KIB(2048) + OH(2048));
	ck_assert_int_eq(r.guests_committed_kib, committed);
	ck_assert_int_eq(r.guests[DB].committed_kib, OH(4096));
	a = MIB_KIB(65536 - 4096 - 2048) - committed;
	ck_assert_int_eq(r.level[CAP_NO_OVERCOMMIT].headroom_kib, a);
	ck_assert_int_eq(r.level[CAP_NO_OVERCOMMIT].fits, 8);

	/* balloon: web1 down to its need, web2 to its floor, secure to
	 * its need */
	web1_low = MIB_KIB(1024) + MIB_KIB(256) + MIB_KIB(4096) / 10;
	ck_assert_int_eq(r.guests[WEB1].need_kib, web1_low);
	web2_low = MIB_KIB(4096) * 3000 / 10000;	/* floor 30% */
	ck_assert_int_eq(r.guests[WEB2].floor_kib, web2_low);
	ck_assert_int_lt(r.guests[WEB2].need_kib, web2_low);
	sec_low = MIB_KIB(512) + MIB_KIB(2048) / 10;
	balloon = MIB_KIB(4096) - web1_low + MIB_KIB(4096) - web2_low +
	    MIB_KIB(2048) - sec_low;
	ck_assert_int_eq(r.balloon_kib, balloon);
	ck_assert_int_eq(r.guests[WEB2].reclaim_now_kib,
	    MIB_KIB(3072) - web2_low);
	ck_assert_int_eq(r.reclaim_now_kib, balloon - MIB_KIB(1024));
	ck_assert_uint_eq(r.nr_reclaim_counted, 3);
	ck_assert_int_eq(r.level[CAP_BALLOON].headroom_kib, a + balloon);
	ck_assert_int_eq(r.level[CAP_BALLOON].fits, 9);

	/* ksm: general_profit over the RSS of web1, web2, build, legacy */
	ck_assert_str_eq(r.ksm_source, "general_profit");
	ck_assert_int_eq(r.ksm_saved_kib, saved);
	ck_assert_int_eq(r.guests[WEB1].ksm_share_kib,
	    saved * MIB_KIB(2300) / rss_sum);
	ck_assert_int_eq(r.guests[BUILD].ksm_share_kib,
	    saved * MIB_KIB(6000) / rss_sum);
	ck_assert_int_eq(r.guests[DB].ksm_share_kib, 0);
	ck_assert_int_eq(r.guests[SECURE].ksm_share_kib, 0);
	shares = 0;
	for (size_t i = 0; i < NR_EX; i++)
		shares += r.guests[i].ksm_share_kib;
	ck_assert_int_eq(r.ksm_counted_kib, shares);
	/* integer shares lose at most a KiB each */
	ck_assert_int_le(saved - shares, 4);
	ck_assert_int_ge(saved - shares, 0);
	ck_assert_uint_eq(r.nr_ksm_counted, 4);
	ck_assert_int_eq(r.level[CAP_KSM].headroom_kib, a + balloon + shares);
	ck_assert_int_eq(r.level[CAP_KSM].fits, 10);
	ck_assert_int_eq(r.nr_nodes, 0);
	capacity_result_free(&r);
}
END_TEST

/* A guest with free page reporting: the same room at the balloon level
 * (what it may be taken down to does not change), but of its idle memory
 * only what is still resident on the host (its RSS less QEMU's part) is
 * "still in it". */
START_TEST(test_free_page_reporting)
{
	/* web1 of the example: 4 GiB, down to its need at most */
	const int64_t low = MIB_KIB(1024) + MIB_KIB(256) + MIB_KIB(4096) / 10;
	static const struct {
		bool fpr;
		int64_t above_mib;	/* RSS above low + QEMU's part */
		int64_t now_mib;	/* reclaim_now; -1: actual - low */
	} cases[] = {
		{ false, 0, -1 },
		{ true, 0, 0 },
		{ true, -300, 0 },
		{ true, 1024, 1024 },
		/* resident beyond its size: capped at what it has */
		{ true, 8192, -1 },
	};
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t balloon, want;

		example(&s, g, &c);
		capacity_result_init(&r);
		ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r),
		    0);
		balloon = r.level[CAP_BALLOON].headroom_kib;
		capacity_result_free(&r);

		g[WEB1].backing.free_page_reporting = cases[i].fpr;
		g[WEB1].rss_kib = low + OH(4096) + MIB_KIB(cases[i].above_mib);
		capacity_result_init(&r);
		ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r),
		    0);
		want = cases[i].now_mib < 0 ? g[WEB1].actual_kib - low :
		    MIB_KIB(cases[i].now_mib);
		ck_assert_msg(r.guests[WEB1].reclaim_now_kib == want,
		    "case %zu: %lld KiB, want %lld", i,
		    (long long)r.guests[WEB1].reclaim_now_kib, (long long)want);
		ck_assert_int_eq(r.level[CAP_BALLOON].headroom_kib, balloon);
		capacity_result_free(&r);
	}
}
END_TEST

START_TEST(test_reasons)
{
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;

	example(&s, g, &c);
	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(2048), &r), 0);
	ck_assert(r.guests[WEB1].reclaim_counted && r.guests[WEB1].ksm_counted);
	ck_assert_str_eq(r.guests[WEB1].reclaim_reason, "");
	ck_assert(!r.guests[DB].reclaim_counted && !r.guests[DB].ksm_counted);
	ck_assert_str_eq(r.guests[DB].reclaim_reason,
	    "hugepages backing: fixed, not reclaimable");
	ck_assert_str_eq(r.guests[DB].ksm_reason,
	    "hugepages backing: KSM does not merge huge pages");
	ck_assert(!r.guests[BUILD].reclaim_counted);
	ck_assert_str_eq(r.guests[BUILD].reclaim_reason,
	    "locked memory: a balloon frees nothing on the host");
	ck_assert(r.guests[BUILD].ksm_counted);
	ck_assert_str_eq(r.guests[LEGACY].reclaim_reason,
	    "no balloon device: fixed, not reclaimable");
	ck_assert(r.guests[SECURE].reclaim_counted);
	ck_assert(!r.guests[SECURE].ksm_counted);
	ck_assert_str_eq(r.guests[SECURE].ksm_reason,
	    "nosharepages: KSM may not merge its memory");

	/* stale and absent stats, excluded, bad bounds, unknown RSS */
	g[WEB1].stats = GUEST_STATS_STALE;
	g[WEB2].input.exclude = true;
	g[WEB2].input.exclude_src = SRC_CONFIG;
	g[SECURE].stats = GUEST_STATS_NONE;
	g[BUILD].backing.locked = false;
	g[BUILD].input.floor_kib = MIB_KIB(9000);
	g[BUILD].input.floor_src = SRC_CONFIG;
	g[LEGACY].rss_kib = MT_ABSENT;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(2048), &r), 0);
	ck_assert_str_eq(r.guests[WEB1].reclaim_reason,
	    "balloon stats stale: idle memory not measured");
	ck_assert_str_eq(r.guests[WEB2].reclaim_reason,
	    "excluded (config): memtuned leaves it alone");
	ck_assert_str_eq(r.guests[SECURE].reclaim_reason,
	    "no balloon stats: idle memory not measured");
	ck_assert(!r.guests[BUILD].reclaim_counted);
	ck_assert_ptr_nonnull(strstr(r.guests[BUILD].reclaim_reason,
	    "bounds not usable: floor 9000 MiB (config) above ceiling"));
	ck_assert_str_eq(r.guests[LEGACY].ksm_reason,
	    "RSS unknown: no share of the KSM saving estimated");
	ck_assert_uint_eq(r.nr_reclaim_counted, 0);
	ck_assert_int_eq(r.balloon_kib, 0);
	ck_assert_int_eq(r.level[CAP_BALLOON].headroom_kib,
	    r.level[CAP_NO_OVERCOMMIT].headroom_kib);
	/* WEB1, WEB2, BUILD share the saving now */
	ck_assert_uint_eq(r.nr_ksm_counted, 3);
	capacity_result_free(&r);
}
END_TEST

START_TEST(test_need_matches_policy)
{
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct policy_state ps;
	struct policy_plan plan;
	struct capacity_result r;

	example(&s, g, &c);
	g[WEB2].disk_caches_kib = MIB_KIB(300);
	g[SECURE].available_kib = MT_ABSENT;	/* falls back to actual */
	ck_assert_int_eq(policy_state_init(&ps, NR_EX), 0);
	ck_assert_int_eq(policy_plan_init(&plan, NR_EX), 0);
	ck_assert_int_eq(policy_decide(&c, &s, &ps, 0, &plan), 0);
	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(1024), &r), 0);
	for (size_t i = 0; i < NR_EX; i++) {
		if (!r.guests[i].reclaim_counted)
			continue;
		ck_assert_int_eq(r.guests[i].need_kib, plan.guests[i].need_kib);
		ck_assert_int_eq(r.guests[i].floor_kib, plan.guests[i].floor_kib);
	}

	/* an uncooperative balloon in the plan is not counted */
	plan.guests[WEB1].state = GPS_UNCOOPERATIVE;
	ck_assert_int_eq(capacity_estimate_plan(&c, &s, &plan, MIB_KIB(1024),
	    &r), 0);
	ck_assert(!r.guests[WEB1].reclaim_counted);
	ck_assert_str_eq(r.guests[WEB1].reclaim_reason,
	    "balloon uncooperative: it did not move when asked");
	/* a plan of other guests is not read */
	mt_strlcpy(plan.guests[WEB1].uuid, "someone-else",
	    sizeof(plan.guests[WEB1].uuid));
	ck_assert_int_eq(capacity_estimate_plan(&c, &s, &plan, MIB_KIB(1024),
	    &r), 0);
	ck_assert(r.guests[WEB1].reclaim_counted);
	plan.nr_guests = 2;
	plan.guests[WEB1].state = GPS_UNCOOPERATIVE;
	mt_strlcpy(plan.guests[WEB1].uuid, g[WEB1].uuid,
	    sizeof(plan.guests[WEB1].uuid));
	ck_assert_int_eq(capacity_estimate_plan(&c, &s, &plan, MIB_KIB(1024),
	    &r), 0);
	ck_assert(r.guests[WEB1].reclaim_counted);

	capacity_result_free(&r);
	policy_plan_free(&plan);
	policy_state_free(&ps);
}
END_TEST

/* Where the two used to part: the guest's kernel keeps 60 MiB for itself
 * (MemTotal below the balloon size), and its use holds still, so the
 * policy's adaptive headroom falls from 10% to 5% of max. capacity counts
 * the need the policy decided; without a plan, the need the policy gives
 * a guest it sees for the first time. */
START_TEST(test_need_matches_policy_adaptive)
{
	struct guest_snapshot g[1];
	struct snapshot s;
	struct policy_config c;
	struct policy_state ps;
	struct policy_plan plan;
	struct capacity_result r;
	int64_t hi, now;

	policy_config_defaults(&c);
	fx_host(&s.host, 65536, 60000);
	fx_guest(&g[0], 0, 4096, 4096, 2048);
	g[0].available_kib = MIB_KIB(4096 - 60);
	g[0].disk_caches_kib = MIB_KIB(256);
	s.guests = g;
	s.nr_guests = 1;
	hi = MIB_KIB(4096) * c.headroom_pmy / 10000;
	capacity_result_init(&r);

	/* first sight: the largest headroom */
	ck_assert_int_eq(policy_state_init(&ps, 1), 0);
	ck_assert_int_eq(policy_plan_init(&plan, 1), 0);
	ck_assert_int_eq(policy_decide(&c, &s, &ps, 0, &plan), 0);
	ck_assert_int_eq(plan.guests[0].headroom_kib, hi);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(1024), &r), 0);
	ck_assert(r.guests[0].reclaim_counted);
	ck_assert_int_eq(r.guests[0].need_kib, plan.guests[0].need_kib);

	/* an hour of steady use: the headroom falls to headroom_steady */
	for (now = 10000; now <= 3600000; now += 10000)
		ck_assert_int_eq(policy_decide(&c, &s, &ps, now, &plan), 0);
	ck_assert_int_eq(plan.guests[0].headroom_kib,
	    MIB_KIB(4096) * c.headroom_steady_pmy / 10000);
	ck_assert_int_eq(capacity_estimate_plan(&c, &s, &plan, MIB_KIB(1024),
	    &r), 0);
	ck_assert(r.guests[0].reclaim_counted);
	ck_assert_int_eq(r.guests[0].need_kib, plan.guests[0].need_kib);
	ck_assert_int_eq(r.guests[0].balloon_kib, MIB_KIB(4096) -
	    plan.guests[0].need_kib);
	capacity_result_free(&r);
	policy_plan_free(&plan);
	policy_state_free(&ps);
}
END_TEST

START_TEST(test_ksm_sources)
{
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;
	long pk = sysconf(_SC_PAGESIZE) / 1024;

	example(&s, g, &c);
	capacity_result_init(&r);
	/* older kernels: one base page saved per sharing page */
	s.host.ksm.general_profit = MT_ABSENT;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(2048), &r), 0);
	ck_assert_str_eq(r.ksm_source, "pages_sharing");
	ck_assert_int_eq(r.ksm_saved_kib, 400000 * pk);
	/* KSM costing more than it saves adds nothing */
	s.host.ksm.general_profit = -4096;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(2048), &r), 0);
	ck_assert_int_eq(r.ksm_saved_kib, -4);
	ck_assert_int_eq(r.ksm_counted_kib, 0);
	ck_assert_int_eq(r.level[CAP_KSM].headroom_kib,
	    r.level[CAP_BALLOON].headroom_kib);
	/* no KSM at all */
	s.host.ksm.present = false;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(2048), &r), 0);
	ck_assert(!MT_PRESENT(r.ksm_saved_kib));
	ck_assert_int_eq(r.level[CAP_KSM].added_kib, 0);
	/* a share never exceeds the guest's RSS */
	s.host.ksm.present = true;
	s.host.ksm.general_profit = INT64_C(64) * 1024 * 1024 * 1024;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(2048), &r), 0);
	ck_assert_int_eq(r.guests[WEB1].ksm_share_kib, MIB_KIB(2300));
	capacity_result_free(&r);
}
END_TEST

START_TEST(test_numa)
{
	char note[CAPACITY_NOTE_MAX];
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;

	example(&s, g, &c);
	s.host.numa.nr_nodes = 2;
	s.host.numa.node_total_kib[0] = MIB_KIB(32768);
	s.host.numa.node_free_kib[0] = MIB_KIB(1024);
	s.host.numa.node_total_kib[1] = MIB_KIB(32768);
	s.host.numa.node_free_kib[1] = MIB_KIB(20480);
	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r), 0);
	ck_assert_int_eq(r.nr_nodes, 2);
	ck_assert_int_eq(r.nodes[0].reserve_kib, MIB_KIB(1024));
	ck_assert_int_eq(r.nodes[0].headroom_kib, 0);
	ck_assert_int_eq(r.nodes[0].fits, 0);
	ck_assert_int_eq(r.nodes[1].headroom_kib, MIB_KIB(19456));
	ck_assert_int_eq(r.nodes[1].fits, 4);
	ck_assert(r.numa_unbalanced);
	ck_assert_int_eq(r.numa_full_node, 0);
	ck_assert_int_eq(r.numa_roomy_node, 1);
	/* the wording a person reads, whole */
	capacity_numa_note(&r, note, sizeof(note));
	ck_assert_str_eq(note, "node 0 is full (1024M free) while node 1 has "
	    "20.0G free: a guest bound to node 0 does not fit; an unbound "
	    "one spills to remote memory");

	/* both nodes with room: no note */
	s.host.numa.node_free_kib[0] = MIB_KIB(10240);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r), 0);
	ck_assert(!r.numa_unbalanced);
	capacity_numa_note(&r, note, sizeof(note));
	ck_assert_str_eq(note, "");
	/* one node: nothing per node */
	s.host.numa.nr_nodes = 1;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r), 0);
	ck_assert_int_eq(r.nr_nodes, 0);
	capacity_result_free(&r);
}
END_TEST

START_TEST(test_default_size_and_errors)
{
	struct guest_snapshot g[4];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;
	struct capacity_guest *kept;

	fx_config(&c);
	fx_host(&s.host, 16384, 8000);
	s.guests = g;
	s.nr_guests = 0;
	ck_assert_int_eq(capacity_default_vm_kib(&s), MIB_KIB(2048));
	fx_guest(&g[0], 0, 8192, 8192, 100);
	fx_guest(&g[1], 1, 1024, 1024, 100);
	fx_guest(&g[2], 2, 4096, 4096, 100);
	s.nr_guests = 3;
	ck_assert_int_eq(capacity_default_vm_kib(&s), MIB_KIB(4096));
	fx_guest(&g[3], 3, 2048, 2048, 100);
	s.nr_guests = 4;
	/* even count: the lower middle, a size a guest really has */
	ck_assert_int_eq(capacity_default_vm_kib(&s), MIB_KIB(2048));
	g[0].max_kib = g[1].max_kib = g[2].max_kib = g[3].max_kib = MT_ABSENT;
	ck_assert_int_eq(capacity_default_vm_kib(&s), MIB_KIB(2048));

	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate(&c, &s, 0, &r), -EINVAL);
	/* max unknown: counted at its balloon size, not reclaimable */
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(1024), &r), 0);
	ck_assert_int_eq(r.guests[0].committed_kib, MIB_KIB(8192) +
	    MIB_KIB(256));
	ck_assert_str_eq(r.guests[0].reclaim_reason,
	    "size unknown: max memory or balloon size not reported");
	/* a second call with as many guests keeps the array */
	kept = r.guests;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(1024), &r), 0);
	ck_assert_ptr_eq(r.guests, kept);
	/* a headroom below zero fits nothing */
	s.host.mem.mem_total_kib = MIB_KIB(4096);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(1024), &r), 0);
	ck_assert_int_lt(r.level[CAP_NO_OVERCOMMIT].headroom_kib, 0);
	ck_assert_int_eq(r.level[CAP_KSM].fits, 0);
	s.host.mem.mem_total_kib = MT_ABSENT;
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(1024), &r),
	    -EINVAL);
	capacity_result_free(&r);
}
END_TEST

static int64_t
jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	ck_assert(json_object_object_get_ex(o, k, &v));
	return json_object_get_int64(v);
}

START_TEST(test_json_and_print)
{
	struct guest_snapshot g[NR_EX];
	struct snapshot s;
	struct policy_config c;
	struct capacity_result r;
	struct json_object *o, *levels, *l, *guests, *v, *back;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	example(&s, g, &c);
	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate(&c, &s, MIB_KIB(4096), &r), 0);
	ck_assert_ptr_nonnull(o = capacity_json(&r, "given", 7500));
	ck_assert_int_eq(jget(o, "age_ms"), 2500);
	ck_assert_int_eq(jget(o, "vm_kib"), MIB_KIB(4096));
	ck_assert(json_object_object_get_ex(o, "levels", &levels));
	ck_assert_uint_eq(json_object_array_length(levels), 3);
	l = json_object_array_get_idx(levels, 1);
	ck_assert(json_object_object_get_ex(l, "level", &v));
	ck_assert_str_eq(json_object_get_string(v), "balloon");
	ck_assert_int_eq(jget(l, "fits"), 9);
	ck_assert_int_eq(jget(l, "age_ms"), 2500);
	ck_assert(json_object_object_get_ex(l, "figures", &v));
	ck_assert_int_eq(jget(v, "guests_counted"), 3);
	ck_assert(!json_object_object_get_ex(o, "numa", &v));
	ck_assert(json_object_object_get_ex(o, "guests", &guests));
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(guests,
	    DB), "reclaim_reason", &v));
	ck_assert_str_eq(json_object_get_string(v),
	    "hugepages backing: fixed, not reclaimable");

	/* through text as a client would get it over the socket */
	back = json_tokener_parse(json_object_to_json_string(o));
	ck_assert_ptr_nonnull(back);
	/* a guest's name reaches the terminal escaped */
	ck_assert(json_object_object_get_ex(back, "guests", &v));
	json_object_object_add(json_object_array_get_idx(v, DB), "name",
	    json_object_new_string("vm2\n\x1b[31m"));
	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	capacity_print(f, back);
	fclose(f);
	ck_assert_ptr_null(strchr(text, '\x1b'));
	ck_assert_ptr_nonnull(strstr(text,
	    "  vm2\\x0a\\x1b[31m: balloon: hugepages backing"));
	ck_assert_ptr_nonnull(strstr(text, "figures 2.5s old"));
	ck_assert_ptr_nonnull(strstr(text, "no-overcommit      8"));
	ck_assert_ptr_nonnull(strstr(text, "balloon            9"));
	ck_assert_ptr_nonnull(strstr(text, "ksm               10"));
	ck_assert_ptr_nonnull(strstr(text, "vm5: ksm: nosharepages"));
	ck_assert_ptr_null(strstr(text, "vm0:"));
	free(text);
	json_object_put(back);
	json_object_put(o);
	capacity_result_free(&r);
}
END_TEST

/* ------------------------------------------- libvirt's test driver */

static const char backing_xml[] =
    "<node><cpu><mhz>2000</mhz><model>x86_64</model><active>4</active>"
    "<total>4</total><nodes>1</nodes><sockets>1</sockets><cores>4</cores>"
    "<threads>1</threads></cpu><memory>33554432</memory>"
#define DOM(n, name, extra, balloon) \
    "<domain type='test'><name>" name "</name>" \
    "<uuid>0000000" n "-6d74-4000-8000-00000000000" n "</uuid>" \
    "<memory unit='GiB'>4</memory><currentMemory unit='GiB'>4</currentMemory>" \
    extra "<os><type>hvm</type></os><devices>" balloon "</devices></domain>"
    DOM("1", "huge", "<memoryBacking><hugepages/></memoryBacking>",
	"<memballoon model='virtio'/>")
    DOM("2", "locked", "<memoryBacking><locked/></memoryBacking>",
	"<memballoon model='virtio'/>")
    DOM("3", "noshare", "<memoryBacking><nosharepages/></memoryBacking>",
	"<memballoon model='virtio'/>")
    DOM("4", "noballoon", "", "<memballoon model='none'/>")
    DOM("5", "plain", "", "<memballoon model='virtio'/>")
#undef DOM
    "</node>";

enum { TD_HUGE, TD_LOCKED, TD_NOSHARE, TD_NOBALLOON, TD_PLAIN, TD_N };

static size_t
find(const struct guest_snapshot *gs, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (strcmp(gs[i].name, name) == 0)
			return i;
	ck_abort_msg("guest %s not collected", name);
	return 0;
}

START_TEST(test_backing_on_test_driver)
{
	static const char *names[TD_N] = { "huge", "locked", "noshare",
	    "noballoon", "plain" };
	char path[] = "/tmp/mt-capacity-XXXXXX", uri[64], err[256];
	struct guest_collector gc;
	struct guests_opts o;
	struct guest_snapshot *gs;
	struct snapshot s;
	struct policy_config c;
	struct policy_state ps;
	struct policy_plan plan;
	struct capacity_result r;
	virConnectPtr conn;
	size_t nr, ix[TD_N], i;
	int fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, backing_xml, sizeof(backing_xml) - 1),
	    (ssize_t)sizeof(backing_xml) - 1);
	close(fd);
	snprintf(uri, sizeof(uri), "test://%s", path);
	ck_assert_int_eq(virt_open(uri, &conn), 0);
	unlink(path);
	guests_opts_default(&o);
	o.taskstats = false;
	o.cgroup = false;
	ck_assert_int_eq(guests_init(&gc, &o), 0);
	ck_assert_int_eq(guests_collect(&gc, conn, 1000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, TD_N);
	for (i = 0; i < TD_N; i++)
		ix[i] = find(gs, nr, names[i]);

	/* the collector's backing flags */
	ck_assert(gs[ix[TD_HUGE]].backing.hugepages);
	ck_assert(!gs[ix[TD_HUGE]].backing.locked);
	ck_assert(gs[ix[TD_LOCKED]].backing.locked);
	ck_assert(!gs[ix[TD_LOCKED]].backing.hugepages);
	ck_assert(gs[ix[TD_NOSHARE]].backing.nosharepages);
	ck_assert(!gs[ix[TD_NOBALLOON]].backing.has_balloon);
	for (i = 0; i < TD_N; i++) {
		const struct guest_backing *b = &gs[ix[i]].backing;

		if (i != TD_NOBALLOON)
			ck_assert(b->has_balloon);
		ck_assert_int_eq(b->hugepages, i == TD_HUGE);
		ck_assert_int_eq(b->locked, i == TD_LOCKED);
		ck_assert_int_eq(b->nosharepages, i == TD_NOSHARE);
		ck_assert_int_eq(gs[ix[i]].max_kib, MIB_KIB(4096));
	}
	ck_assert_int_eq(gs[ix[TD_PLAIN]].stats, GUEST_STATS_OK);

	/* the policy on a tight host: the fixed ones are never donors and
	 * say which rule held them. The test driver's RSS is its used
	 * memory: make every guest's memory resident, as after a busy day,
	 * so that a shrink of the others returns memory */
	for (i = 0; i < TD_N; i++)
		if (MT_PRESENT(gs[ix[i]].actual_kib))
			gs[ix[i]].rss_kib = gs[ix[i]].actual_kib;
	fx_config(&c);
	fx_host(&s.host, 32768, 800);
	s.guests = gs;
	s.nr_guests = nr;
	ck_assert_int_eq(policy_state_init(&ps, nr), 0);
	ck_assert_int_eq(policy_plan_init(&plan, nr), 0);
	ck_assert_int_eq(policy_decide(&c, &s, &ps, 1000, &plan), 0);
	ck_assert_int_ge(plan.pressure, PRESSURE_TIGHT);
	ck_assert_int_gt(plan.taken_kib, 0);
	ck_assert_int_eq(plan.guests[ix[TD_HUGE]].state, GPS_FIXED);
	ck_assert_int_eq(plan.guests[ix[TD_LOCKED]].state, GPS_FIXED);
	ck_assert_int_eq(plan.guests[ix[TD_HUGE]].target_kib, MIB_KIB(4096));
	ck_guest_why(&plan.guests[ix[TD_HUGE]], GW_WHY_HUGEPAGES);
	ck_guest_why(&plan.guests[ix[TD_LOCKED]], GW_WHY_LOCKED);
	/* the test driver reports no balloon size without a balloon (QEMU
	 * reports the current memory): either rule holds it */
	{
		const struct guest_plan *gp = &plan.guests[ix[TD_NOBALLOON]];

		ck_assert(gp->action == ACT_NONE ||
		    gp->action == ACT_LEAVE_ALONE);
		ck_assert(gp->state == GPS_FIXED || gp->state == GPS_STALE);
		ck_assert_msg(gp->reason_code == GW_WHY_NO_BALLOON ||
		    gp->reason_code == GW_WHY_SIZE_UNKNOWN, "%s: %s",
		    policy_guest_why_name(gp->reason_code), gp->reason);
	}
	/* nosharepages only keeps KSM out: its balloon works, so it gives
	 * like the plain guest */
	ck_assert_int_lt(plan.guests[ix[TD_NOSHARE]].target_kib,
	    MIB_KIB(4096));
	ck_assert_int_lt(plan.guests[ix[TD_PLAIN]].target_kib, MIB_KIB(4096));

	/* capacity drops each from the figures its backing rules out */
	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate_plan(&c, &s, &plan, MIB_KIB(2048),
	    &r), 0);
	ck_assert(!r.guests[ix[TD_HUGE]].reclaim_counted);
	ck_assert(!r.guests[ix[TD_HUGE]].ksm_counted);
	ck_assert(!r.guests[ix[TD_LOCKED]].reclaim_counted);
	ck_assert(r.guests[ix[TD_LOCKED]].ksm_counted);
	ck_assert(r.guests[ix[TD_NOSHARE]].reclaim_counted);
	ck_assert(!r.guests[ix[TD_NOSHARE]].ksm_counted);
	ck_assert(!r.guests[ix[TD_NOBALLOON]].reclaim_counted);
	ck_assert(r.guests[ix[TD_PLAIN]].reclaim_counted);
	ck_assert(r.guests[ix[TD_PLAIN]].ksm_counted);
	ck_assert_uint_eq(r.nr_reclaim_counted, 2);
	/* the test driver: usable = half, caches = an eighth of 4 GiB */
	ck_assert_int_eq(r.guests[ix[TD_PLAIN]].balloon_kib, MIB_KIB(4096) -
	    (MIB_KIB(2048) + MIB_KIB(256) + MIB_KIB(4096) / 10));
	ck_assert_int_eq(r.balloon_kib,
	    2 * r.guests[ix[TD_PLAIN]].balloon_kib);
	ck_assert_str_eq(r.guests[ix[TD_HUGE]].reclaim_reason,
	    "hugepages backing: fixed, not reclaimable");
	ck_assert_str_eq(r.guests[ix[TD_LOCKED]].reclaim_reason,
	    "locked memory: a balloon frees nothing on the host");
	ck_assert_str_eq(r.guests[ix[TD_NOSHARE]].ksm_reason,
	    "nosharepages: KSM may not merge its memory");
	ck_assert_str_eq(r.guests[ix[TD_NOBALLOON]].reclaim_reason,
	    "no balloon device: fixed, not reclaimable");
	/* a hugepage guest commits only its QEMU overhead to normal memory */
	ck_assert_int_eq(r.guests[ix[TD_HUGE]].committed_kib, OH(4096));

	capacity_result_free(&r);
	policy_plan_free(&plan);
	policy_state_free(&ps);
	guests_free(&gc);
	virConnectClose(conn);
}
END_TEST

Suite *
capacity_suite(void)
{
	Suite *s = suite_create("capacity");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, test_worked_example);
	tcase_add_test(tc, test_free_page_reporting);
	tcase_add_test(tc, test_reasons);
	tcase_add_test(tc, test_need_matches_policy);
	tcase_add_test(tc, test_need_matches_policy_adaptive);
	tcase_add_test(tc, test_ksm_sources);
	tcase_add_test(tc, test_numa);
	tcase_add_test(tc, test_default_size_and_errors);
	tcase_add_test(tc, test_json_and_print);
	suite_add_tcase(s, tc);
	tc = tcase_create("test-driver");
	tcase_add_test(tc, test_backing_on_test_driver);
	suite_add_tcase(s, tc);
	return s;
}
