/* test_policy_vmem.c - a guest's move carried by virtio-mem blocks
 * (docs/policy.md, "virtio-mem"): how policy_vmem_route splits a target
 * between the devices and the balloon, the policy choosing it for a guest
 * with devices, the actuator's order and safety net, and the device XML
 * libvirt is given. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "domxml.h"
#include "log.h"
#include "policy.h"
#include "policy_fixture.h"

Suite *policy_vmem_suite(void);

#define M(x) MIB_KIB(x)
#define NA MT_ABSENT

struct dev_case {
	int64_t size, block, requested, current;	/* MiB; block KiB */
	bool no_alias;
};

/* A guest of boot MiB plus the devices, balloon actual in MiB. */
static void
vm_guest(struct guest_snapshot *g, int64_t boot, int64_t actual,
    const struct dev_case *devs, int n)
{
	int64_t size = 0, req = 0, cur = 0;

	fx_guest(g, 0, boot, actual, actual / 2);
	g->backing.vmem.count = n;
	for (int d = 0; d < n; d++) {
		struct vmem_dev *v = &g->backing.vmem.dev[d];

		v->size_kib = M(devs[d].size);
		v->block_kib = devs[d].block;
		v->requested_kib = M(devs[d].requested);
		v->current_kib = M(devs[d].current);
		v->node = 0;
		if (!devs[d].no_alias)
			snprintf(v->alias, sizeof(v->alias), "virtiomem%d", d);
		size += v->size_kib;
		req += v->requested_kib;
		cur += v->current_kib;
		g->backing.vmem.block_kib = MAX(g->backing.vmem.block_kib,
		    v->block_kib);
	}
	g->backing.vmem.size_kib = size;
	g->backing.vmem.requested_kib = req;
	g->backing.vmem.current_kib = cur;
	g->max_kib = M(boot) + size;
	g->balloon_max_kib = g->max_kib;
}

/* From a guest and a target to the requests, the balloon's part and
 * where the guest ends up. Boot 512 MiB throughout, blocks of 2 MiB
 * unless said. */
START_TEST(test_route_table)
{
	static const struct {
		const char *what;
		int64_t actual, target, ceiling;	/* MiB */
		int n;
		struct dev_case dev[2];
		bool routed;
		int64_t req[2];			/* MiB; NA: not asked */
		int64_t balloon;		/* MiB; NA: no balloon call */
		int64_t end_kib;
		int64_t moved;			/* MiB */
	} cases[] = {
		{ "shrink by whole blocks", 1024, 724, 1024, 1,
		    { { 512, 2048, 512, 512, false } },
		    true, { 212, NA }, NA, M(724), -300 },
		{ "an odd MiB is a block's rounding, not a balloon call",
		    1024, 723, 1024, 1, { { 512, 2048, 512, 512, false } },
		    true, { 212, NA }, NA, M(724), -300 },
		{ "devices empty: the balloon takes the rest", 612, 400, 1024,
		    1, { { 512, 2048, 100, 100, false } },
		    true, { 0, NA }, 400, M(400), -100 },
		{ "grow: the balloon's pages first", 824, 1000, 1024, 1,
		    { { 512, 2048, 512, 512, false } },
		    true, { NA, NA }, 488, M(1000), 0 },
		{ "grow past the balloon: deflate, then plug", 724, 1000,
		    1024, 1, { { 512, 2048, 312, 312, false } },
		    true, { 488, NA }, 512, M(1000), 176 },
		{ "a block's rounding up stops at the ceiling", 512, 601, 601,
		    1, { { 512, 2048, 0, 0, false } },
		    true, { 88, NA }, NA, M(600), 88 },
		{ "an unplug on its way is not asked twice", 1024, 724, 1024,
		    1, { { 512, 2048, 212, 512, false } },
		    true, { NA, NA }, NA, M(724), 0 },
		{ "the device with the most plugged gives first", 1280, 680,
		    1280, 2, { { 512, 2048, 256, 256, false },
		    { 512, 2048, 512, 512, false } },
		    true, { 168, 0 }, NA, M(680), -600 },
		{ "the device with the most room takes first", 600, 900,
		    1280, 2, { { 512, 2048, 88, 88, false }, { 512, 2048, 0, 0, false } },
		    true, { NA, 300 }, NA, M(900), 300 },
		{ "big blocks: the balloon takes what they cannot", 1024, 900,
		    1024, 1, { { 512, 131072, 512, 512, false } },
		    true, { NA, NA }, 388, M(900), 0 },
		{ "big blocks: a block unplugged, the balloon the rest", 1024,
		    824, 1024, 1, { { 512, 131072, 512, 512, false } },
		    true, { 384, NA }, 440, M(824), -128 },
		{ "a device without an alias: the balloon alone, sized in "
		    "the boot memory", 1024, 724, 1024, 1,
		    { { 512, 2048, 512, 512, true } },
		    true, { NA, NA }, 212, M(724), 0 },
		{ "the balloon alone cannot go past what the devices hold",
		    1024, 500, 1024, 1, { { 512, 2048, 512, 512, true } },
		    true, { NA, NA }, NA, M(1024), 0 },
	};
	struct policy_config c;

	fx_config(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct guest_snapshot g;
		struct guest_plan gp;

		memset(&gp, 0, sizeof(gp));
		vm_guest(&g, 512, cases[i].actual, cases[i].dev, cases[i].n);
		gp.actual_kib = g.actual_kib;
		gp.target_kib = M(cases[i].target);
		gp.floor_kib = M(256);
		gp.ceiling_kib = M(cases[i].ceiling);
		gp.balloon_kib = NA;
		for (int d = 0; d < MT_VMEM_MAX; d++)
			gp.vmem_req_kib[d] = NA;
		ck_assert_msg(policy_vmem_route(&c, &g, 0, &gp) ==
		    cases[i].routed, "%s", cases[i].what);
		ck_assert_msg(gp.target_kib == cases[i].end_kib,
		    "%s: ends at %lld KiB, want %lld", cases[i].what,
		    (long long)gp.target_kib, (long long)cases[i].end_kib);
		for (int d = 0; d < 2; d++) {
			int64_t want = cases[i].req[d] == NA ? NA :
			    M(cases[i].req[d]);

			ck_assert_msg(gp.vmem_req_kib[d] == want,
			    "%s: device %d asked %lld KiB, want %lld",
			    cases[i].what, d, (long long)gp.vmem_req_kib[d],
			    (long long)want);
		}
		ck_assert_msg(gp.balloon_kib == (cases[i].balloon == NA ? NA :
		    M(cases[i].balloon)), "%s: balloon %lld KiB",
		    cases[i].what, (long long)gp.balloon_kib);
		ck_assert_msg(gp.vmem_moved_kib == M(cases[i].moved),
		    "%s: moved %lld KiB", cases[i].what,
		    (long long)gp.vmem_moved_kib);
	}
	/* the switch off: the balloon carries the move, in the boot
	 * memory's terms; a guest without devices is not this file's */
	{
		struct guest_snapshot g;
		struct guest_plan gp;
		struct dev_case d = { 512, 2048, 512, 512, false };

		memset(&gp, 0, sizeof(gp));
		vm_guest(&g, 512, 1024, &d, 1);
		gp.target_kib = M(724);
		c.manage_virtio_mem = false;
		ck_assert(policy_vmem_route(&c, &g, 0, &gp));
		ck_assert_int_eq(gp.balloon_kib, M(212));
		ck_assert_int_eq(gp.vmem_req_kib[0], NA);
		vm_guest(&g, 512, 1024, &d, 0);
		gp.vmem = false;
		ck_assert(!policy_vmem_route(&c, &g, 0, &gp));
		ck_assert(!gp.vmem);
	}
}
END_TEST

/* A 512 + 512 MiB guest, all plugged, using 200 MiB with its floor at
 * 700 MiB, alone on a tight 24 GiB host: the policy tests' start. */
static void
tight_vm(struct policy_config *c, struct policy_state *s,
    struct policy_plan *p, struct snapshot *snap, struct guest_snapshot *g)
{
	struct dev_case d = { 512, 2048, 512, 512, false };

	fx_config(c);
	c->reserve_kib = MT_ABSENT;
	ck_assert_int_eq(policy_state_init(s, 1), 0);
	ck_assert_int_eq(policy_plan_init(p, 1), 0);
	fx_host(&snap->host, 24576, 540);
	snap->guests = g;
	snap->nr_guests = 1;
	vm_guest(g, 512, 1024, &d, 1);
	g->usable_kib = g->unused_kib = M(824);
	g->rss_kib = M(1224);
	g->input.floor_kib = M(700);
}

/* NUMA: a host node short of memory while the host is not. A shrink
 * unplugs from the device whose memory comes from that node, even when
 * another holds as much; a grow plugs into the other node's device. */
START_TEST(test_route_by_node)
{
	static const struct {
		uint64_t short_nodes;
		int64_t actual, target;		/* MiB */
		int64_t req[2], cur[2];		/* MiB */
		int64_t want[2];		/* MiB; NA: not asked */
	} cases[] = {
		{ 0, 1536, 1336, { 512, 512 }, { 512, 512 }, { 312, NA } },
		{ 1 << 1, 1536, 1336, { 512, 512 }, { 512, 512 }, { NA, 312 } },
		{ 1 << 0, 1536, 1336, { 512, 512 }, { 512, 512 }, { 312, NA } },
		/* the short node's device holds less: still asked first */
		{ 1 << 1, 1336, 1136, { 512, 312 }, { 512, 312 }, { NA, 112 } },
		{ 1 << 0, 1136, 1336, { 312, 312 }, { 312, 312 }, { NA, 512 } },
		{ 1 << 1, 1136, 1336, { 312, 312 }, { 312, 312 }, { 512, NA } },
	};
	struct policy_config c;

	fx_config(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct dev_case d[2] = {
			{ 512, 2048, cases[i].req[0], cases[i].cur[0], false },
			{ 512, 2048, cases[i].req[1], cases[i].cur[1], false },
		};
		struct guest_snapshot g;
		struct guest_plan gp;

		memset(&gp, 0, sizeof(gp));
		vm_guest(&g, 512, cases[i].actual, d, 2);
		g.backing.vmem.dev[0].host_nodes = 1 << 0;
		g.backing.vmem.dev[1].host_nodes = 1 << 1;
		gp.actual_kib = g.actual_kib;
		gp.target_kib = M(cases[i].target);
		gp.floor_kib = M(256);
		gp.ceiling_kib = g.max_kib;
		ck_assert(policy_vmem_route(&c, &g, cases[i].short_nodes, &gp));
		for (int k = 0; k < 2; k++) {
			int64_t want = cases[i].want[k] == NA ? NA :
			    M(cases[i].want[k]);

			ck_assert_msg(gp.vmem_req_kib[k] == want,
			    "case %zu: device %d asked %lld KiB, want %lld", i,
			    k, (long long)gp.vmem_req_kib[k], (long long)want);
		}
		ck_assert_int_eq(gp.target_kib, M(cases[i].target));
	}
}
END_TEST

/* The whole policy: a 512 + 512 MiB guest using 200 MiB on a tight host
 * is shrunk by unplugging blocks, never below its floor, and the plan's
 * end is where the guest will be; the next tick, the unplug on its way,
 * asks nothing more of the device. */
START_TEST(test_policy_unplugs)
{
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g;
	const struct guest_plan *gp;
	int64_t req1, end1;

	tight_vm(&c, &s, &p, &snap, &g);
	gp = &p.guests[0];
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 1000, &p), 0);
	ck_assert_msg(gp->vmem && gp->by_vmem, "%s", gp->reason);
	ck_assert_msg(gp->target_kib < g.actual_kib, "%s", gp->reason);
	ck_assert_int_ge(gp->target_kib, M(700));
	ck_assert_int_ne(gp->vmem_req_kib[0], NA);
	ck_assert_int_eq(gp->vmem_req_kib[0] % 2048, 0);
	ck_assert_int_eq(M(512) + gp->vmem_req_kib[0], gp->target_kib);
	ck_assert_int_eq(gp->balloon_kib, NA);
	ck_guest_why(gp, GW_WHY_HOST_TAKES);
	ck_assert_int_eq(gp->vmem_moved_kib, gp->vmem_req_kib[0] -
	    g.backing.vmem.requested_kib);
	ck_assert_int_lt(gp->vmem_moved_kib, 0);
	ck_assert_int_eq(fx_commit_guests(&s, &p, 1000), 0);

	/* its XML now asks for less; the guest has not unplugged yet: a
	 * further step is counted from what was asked, not from what the
	 * guest still holds */
	req1 = gp->vmem_req_kib[0];
	end1 = gp->target_kib;
	g.backing.vmem.dev[0].requested_kib = req1;
	g.backing.vmem.requested_kib = req1;
	ck_assert_int_eq(policy_decide(&c, &snap, &s, 2000, &p), 0);
	if (MT_PRESENT(gp->vmem_req_kib[0])) {
		ck_assert_int_lt(gp->vmem_req_kib[0], req1);
		ck_assert_int_eq(req1 - gp->vmem_req_kib[0],
		    end1 - gp->target_kib);
	} else {
		ck_assert_int_eq(gp->target_kib, end1);
	}
	ck_assert_int_ge(gp->target_kib, M(700));
	ck_assert_int_eq(gp->balloon_kib, NA);
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

/* A guest that does not unplug: its device stays at what it held while
 * memtuned asked for less. Judged as a stuck balloon is (not moving, then
 * uncooperative, held by memtune), and the reason names virtio-mem, not
 * the balloon, so the operator looks at the right driver. */
START_TEST(test_vmem_not_unplugging)
{
	struct policy_config c;
	struct policy_state s;
	struct policy_plan p;
	struct snapshot snap;
	struct guest_snapshot g;
	const struct guest_plan *gp;
	int64_t now = 1000;

	tight_vm(&c, &s, &p, &snap, &g);
	gp = &p.guests[0];
	ck_assert_int_eq(policy_decide(&c, &snap, &s, now, &p), 0);
	ck_assert(gp->vmem && MT_PRESENT(gp->vmem_req_kib[0]));
	ck_assert_int_eq(fx_commit_guests(&s, &p, now), 0);
	/* asked, never done: requested falls, current and actual stay */
	g.backing.vmem.dev[0].requested_kib = gp->vmem_req_kib[0];
	g.backing.vmem.requested_kib = gp->vmem_req_kib[0];
	for (int k = 0; k < 6; k++) {
		now += 5000;
		ck_assert_int_eq(policy_decide(&c, &snap, &s, now, &p), 0);
		ck_assert_int_eq(fx_commit_guests(&s, &p, now), 0);
	}
	ck_assert_msg(gp->state == GPS_UNCOOPERATIVE, "%s", gp->reason);
	ck_guest_why(gp, GW_WHY_UNCOOPERATIVE);
	/* pins the wording: the operator is sent to the right driver */
	ck_assert_msg(strncmp(gp->reason, "virtio-mem stuck at", 19) == 0,
	    "%s", gp->reason);
	policy_state_free(&s);
	policy_plan_free(&p);
}
END_TEST

/* The actuator: the balloon's part before the devices, nothing when a
 * request is not whole blocks or the end is outside the bounds, and a
 * dry run that calls nothing. */
START_TEST(test_apply_vmem)
{
	struct dev_case d[2] = { { 512, 2048, 512, 512, false },
	    { 512, 2048, 512, 512, false } };
	struct policy_config pc;
	struct act_apply_opts opts;
	struct snapshot snap;
	struct guest_snapshot g;
	struct policy_plan plan;
	struct guest_plan gp;
	struct act_result res;
	struct act_fake f;

	log_init("test", LOG_TO_STDERR, 0);
	fx_config(&pc);
	memset(&opts, 0, sizeof(opts));
	vm_guest(&g, 512, 1536, d, 2);
	snap.guests = &g;
	snap.nr_guests = 1;
	memset(&gp, 0, sizeof(gp));
	mt_strlcpy(gp.uuid, g.uuid, sizeof(gp.uuid));
	mt_strlcpy(gp.name, g.name, sizeof(gp.name));
	gp.action = ACT_BALLOON;
	gp.actual_kib = M(1536);
	gp.floor_kib = M(600);
	gp.ceiling_kib = M(1536);
	gp.vmem = true;
	for (int k = 0; k < MT_VMEM_MAX; k++)
		gp.vmem_req_kib[k] = NA;
	gp.vmem_req_kib[0] = M(0);
	gp.vmem_req_kib[1] = M(200);
	gp.vmem_moved_kib = -M(824);
	gp.balloon_kib = M(412);
	gp.target_kib = M(612);
	gp.hard_limit_kib = gp.soft_limit_kib = NA;
	gp.swap_hard_limit_kib = gp.memory_low_kib = NA;
	plan.guests = &gp;
	plan.nr_guests = 1;
	plan.ksm.change = plan.thp.change = false;
	act_fake_init(&f);

	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &pc, &opts, &snap,
	    &plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 3);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_BALLOON);
	ck_assert_int_eq(f.calls[0].target_kib, M(412));
	ck_assert_int_eq(f.calls[1].kind, ACT_CALL_VMEM);
	ck_assert_str_eq(f.calls[1].value, "virtiomem0");
	ck_assert_int_eq(f.calls[1].target_kib, 0);
	ck_assert_int_eq(f.calls[2].kind, ACT_CALL_VMEM);
	ck_assert_str_eq(f.calls[2].value, "virtiomem1");
	ck_assert_int_eq(f.calls[2].target_kib, M(200));
	ck_assert_int_eq(res.done, 1);

	/* not whole blocks: nothing at all is sent */
	act_fake_clear(&f);
	gp.vmem_req_kib[1] = M(200) + 4;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &pc, &opts, &snap,
	    &plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_int_eq(res.failed, 1);

	/* the end below the floor: nothing */
	act_fake_clear(&f);
	gp.vmem_req_kib[1] = M(200);
	gp.floor_kib = M(700);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &pc, &opts, &snap,
	    &plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_int_eq(res.failed, 1);

	/* a balloon sized past the boot memory: nothing */
	act_fake_clear(&f);
	gp.balloon_kib = M(600);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &pc, &opts, &snap,
	    &plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_int_eq(res.failed, 1);
	gp.balloon_kib = M(412);

	/* a dry run calls nothing and counts the move */
	act_fake_clear(&f);
	gp.floor_kib = M(600);
	opts.dry_run = true;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &pc, &opts, &snap,
	    &plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_int_eq(res.done, 1);
	act_fake_free(&f);
}
END_TEST

/* The XML libvirt is given: the device named by its alias, out of the
 * running domain's, with <requested> set in KiB and the rest as it was. */
START_TEST(test_vmem_request_xml)
{
	static const char xml[] =
	    "<domain type='qemu'><name>g</name><devices>"
	    "<memory model='dimm'><target><size unit='KiB'>1024</size>"
	    "</target><alias name='dimm0'/></memory>"
	    "<memory model='virtio-mem'><target><size unit='KiB'>524288"
	    "</size><node>0</node><block unit='KiB'>2048</block>"
	    "<requested unit='KiB'>524288</requested><current unit='KiB'>"
	    "524288</current></target><alias name='virtiomem0'/>"
	    "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' "
	    "function='0x0'/></memory>"
	    "<memory model='virtio-mem'><target><size unit='KiB'>524288"
	    "</size><node>0</node><block unit='KiB'>2048</block></target>"
	    "<alias name='virtiomem1'/></memory>"
	    "</devices></domain>";
	char err[128] = "", *out = NULL;

	ck_assert_int_eq(domxml_vmem_request(xml, "virtiomem0", 212992, &out,
	    err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "<requested unit=\"KiB\">212992"
	    "</requested>"));
	ck_assert_ptr_nonnull(strstr(out, "<alias name=\"virtiomem0\"/>"));
	ck_assert_ptr_nonnull(strstr(out, "slot=\"0x05\""));
	ck_assert_ptr_null(strstr(out, "virtiomem1"));
	ck_assert_ptr_null(strstr(out, "524288</requested>"));
	free(out);
	/* a device without <requested> gets one */
	ck_assert_int_eq(domxml_vmem_request(xml, "virtiomem1", 0, &out,
	    err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "<requested unit=\"KiB\">0"
	    "</requested>"));
	free(out);
	ck_assert_int_eq(domxml_vmem_request(xml, "dimm0", 0, &out, err,
	    sizeof(err)), -ENOENT);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(domxml_vmem_request("<domain", "virtiomem0", 0, &out,
	    err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domxml_vmem_request(xml, "virtiomem0", -1, &out,
	    err, sizeof(err)), -EINVAL);
}
END_TEST

Suite *
policy_vmem_suite(void)
{
	Suite *s = suite_create("policy_vmem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_route_table);
	tcase_add_test(tc, test_route_by_node);
	tcase_add_test(tc, test_policy_unplugs);
	tcase_add_test(tc, test_vmem_not_unplugging);
	tcase_add_test(tc, test_apply_vmem);
	tcase_add_test(tc, test_vmem_request_xml);
	suite_add_tcase(s, tc);
	return s;
}
