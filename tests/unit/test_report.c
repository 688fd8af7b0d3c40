/* test_report.c - the status JSON and what memtunectl renders from it:
 * each NUMA node's state under the host (two or more nodes only), the
 * node a confined guest draws on in explain, and the node lines of a
 * plan; a guest's name escaped wherever it is shown. The plans come from
 * policy_decide on fixture snapshots, so the figures are the policy's
 * own. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "engine.h"
#include "jsonutil.h"
#include "policy_fixture.h"
#include "report.h"
#include "text_check.h"

Suite *report_suite(void);

#define NG 4

struct rt {
	struct engine e;
	struct guest_snapshot g[NG];
};

/* A 32 GiB host with a 1 GiB reserve and four 4 GiB guests using half of
 * their memory; nodes and bindings are set by each test before decide. */
static struct rt *
rt_new(int64_t avail_mib)
{
	struct rt *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	fx_config(&t->e.cfg.policy);
	snprintf(t->e.cfg.uri, sizeof(t->e.cfg.uri), "test:///default");
	ck_assert_int_eq(policy_state_init(&t->e.ps, NG), 0);
	ck_assert_int_eq(policy_plan_init(&t->e.plan, NG), 0);
	fx_host(&t->e.snap.host, 32768, avail_mib);
	t->e.snap.guests = t->g;
	t->e.snap.nr_guests = NG;
	for (int i = 0; i < NG; i++)
		fx_guest_touched(&t->g[i], i, 4096, 4096, 2048);
	return t;
}

static void
rt_decide(struct rt *t)
{
	ck_assert_int_eq(policy_decide(&t->e.cfg.policy, &t->e.snap, &t->e.ps,
	    1000, &t->e.plan), 0);
	t->e.have_snap = t->e.have_plan = true;
	t->e.snap_ms = t->e.plan_ms = 1000;
}

static void
rt_free(struct rt *t)
{
	policy_state_free(&t->e.ps);
	policy_plan_free(&t->e.plan);
	free(t);
}

/* Host normal overall (3000 MiB available), node 1 nearly full: its
 * reserve is 512 MiB, so 400 MiB is tight and the node rule applies to
 * vm0 and vm1; vm2 is confined to node 0, which has plenty. */
static struct rt *
rt_two_nodes(void)
{
	struct rt *t = rt_new(3000);

	fx_node(&t->e.snap.host, 0, 16384, 2600);
	fx_node(&t->e.snap.host, 1, 16384, 400);
	fx_confine(&t->g[0], 0x2);
	fx_confine(&t->g[1], 0x2);
	fx_confine(&t->g[2], 0x1);
	rt_decide(t);
	return t;
}

static char *
render_status(struct json_object *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	report_print_status(f, st);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

static char *
render_explain(struct json_object *st, const char *guest)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	ck_assert_int_eq(report_print_explain(f, st, guest), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

static char *
render_plan(struct json_object *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	report_print_plan(f, st, true);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

static struct json_object *
host_of(struct json_object *st)
{
	struct json_object *host;

	ck_assert(json_object_object_get_ex(st, "host", &host));
	return host;
}

static struct json_object *
guest_of(struct json_object *st, size_t i)
{
	struct json_object *guests;

	ck_assert(json_object_object_get_ex(st, "guests", &guests));
	ck_assert_uint_gt(json_object_array_length(guests), i);
	return json_object_array_get_idx(guests, i);
}

START_TEST(test_nodes_json_two_nodes)
{
	struct rt *t = rt_two_nodes();
	struct json_object *st = report_status_json(&t->e, "standalone");
	struct json_object *nodes, *n0, *n1, *v;

	ck_assert(json_object_object_get_ex(host_of(st), "nodes", &nodes));
	ck_assert_uint_eq(json_object_array_length(nodes), 2);
	n0 = json_object_array_get_idx(nodes, 0);
	n1 = json_object_array_get_idx(nodes, 1);

	ck_assert_int_eq(get_i64(n0, "node"), 0);
	ck_assert(get_bool(n0, "present"));
	ck_assert_str_eq(get_str(n0, "pressure", "?"), "plenty");
	ck_assert(!get_bool(n0, "rule"));
	ck_assert_int_eq(get_i64(n0, "confined_guests"), 1);
	ck_assert_int_eq(get_i64(n0, "avail_kib"), MIB_KIB(2600));
	ck_assert_int_eq(get_i64(n0, "taken_kib"), 0);

	ck_assert_int_eq(get_i64(n1, "node"), 1);
	ck_assert_int_eq(get_i64(n1, "total_kib"), MIB_KIB(16384));
	ck_assert_int_eq(get_i64(n1, "free_kib"), MIB_KIB(400));
	ck_assert_int_eq(get_i64(n1, "avail_kib"), MIB_KIB(400));
	ck_assert_int_eq(get_i64(n1, "reserve_kib"), MIB_KIB(512));
	ck_assert_int_eq(get_i64(n1, "target_avail_kib"), MIB_KIB(768));
	ck_assert_int_eq(get_i64(n1, "ratio_pmy"), 400 * 10000 / 512);
	ck_assert_str_eq(get_str(n1, "pressure", "?"), "tight");
	ck_assert(get_bool(n1, "rule"));
	ck_assert_int_eq(get_i64(n1, "confined_guests"), 2);
	ck_assert_int_eq(get_i64(n1, "need_kib"), MIB_KIB(368));
	ck_assert_int_eq(get_i64(n1, "taken_kib"), MIB_KIB(400));
	ck_assert_int_eq(get_i64(n1, "given_kib"), 0);
	ck_assert(json_object_object_get_ex(n1, "freed_kib", &v));

	/* the host's own state is still there, and still the host's */
	ck_assert_str_eq(get_str(host_of(st), "pressure", "?"), "normal");

	/* each guest says where the policy counts it */
	ck_assert(get_bool(guest_of(st, 0), "numa_confined"));
	ck_assert_int_eq(get_i64(guest_of(st, 0), "numa_node"), 1);
	ck_assert_int_eq(get_i64(guest_of(st, 2), "numa_node"), 0);
	ck_assert(!get_bool(guest_of(st, 3), "numa_confined"));
	ck_assert(!MT_PRESENT(get_i64(guest_of(st, 3), "numa_node")));
	ck_assert(json_object_object_get_ex(guest_of(st, 1), "numa_nodes", &v));
	ck_assert_uint_eq(json_object_array_length(v), 1);
	ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(v, 0)), 1);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_nodes_status_table)
{
	struct rt *t = rt_two_nodes();
	struct json_object *st = report_status_json(&t->e, "standalone");
	char *text = render_status(st);
	const char *host = strstr(text, "\nhost: ");
	const char *n0 = strstr(text, "\nnode 0: ");
	const char *n1 = strstr(text, "\nnode 1: ");

	ck_line(text, "node 0: available 2600M of 16.0G, reserve 512M, "
	    "state plenty, 1 confined guest");
	ck_line(text, "node 1: available 400M of 16.0G, reserve 512M, "
	    "state tight; node rule: 2 confined guests give 400M, not grown");
	/* under the host line, in node order, before the guest table */
	ck_assert_ptr_nonnull(host);
	ck_assert(host < n0 && n0 < n1 && n1 < strstr(text, "\nGUEST"));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_headroom_shown)
{
	/* the headroom the policy chose is in the status JSON and in
	 * explain, so an operator can see why a guest needs what it needs */
	struct rt *t = rt_two_nodes();
	struct json_object *st = report_status_json(&t->e, "standalone");
	int64_t h = t->e.plan.guests[0].headroom_kib;
	char *text, line[160], a[32], b[32];

	ck_assert(MT_PRESENT(h) && h > 0);
	ck_assert_int_eq(get_i64(guest_of(st, 0), "headroom_kib"), h);
	ck_assert_int_eq(get_i64(guest_of(st, 0), "need_kib"),
	    t->e.plan.guests[0].need_kib);
	report_fmt_kib(a, sizeof(a), t->e.plan.guests[0].need_kib);
	report_fmt_kib(b, sizeof(b), h);
	snprintf(line, sizeof(line), "  needs:    %s (in use plus a headroom "
	    "of %s, which follows its recent growth)", a, b);
	text = render_explain(st, "vm0");
	ck_line(text, line);
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_burst_explained)
{
	/* a guest its burst watch saw rising: the JSON and explain say so,
	 * and the decision line shows its target even when the guest has
	 * been ballooned before (it once showed what was ballooned) */
	struct rt *t = rt_new(3000);
	struct json_object *st, *g;
	char *text, line[160], a[32];

	fx_guest_touched(&t->g[0], 0, 4096, 3072, 600);
	t->g[0].rss_rate_kib_s = MIB_KIB(300);
	rt_decide(t);
	ck_assert(t->e.plan.guests[0].bursting);
	ck_assert_int_gt(t->e.plan.guests[0].target_kib, t->g[0].actual_kib);
	t->e.plan.guests[0].ballooned_kib = MIB_KIB(700);
	t->e.plan.guests[0].returned_kib = MIB_KIB(100);
	st = report_status_json(&t->e, "standalone");
	g = guest_of(st, 0);
	ck_assert(get_bool(g, "bursting"));
	ck_assert_int_eq(get_i64(g, "rss_rate_kib_s"), MIB_KIB(300));
	ck_assert_int_eq(get_i64(g, "unseen_kib"), 0);
	text = render_explain(st, "vm0");
	ck_assert_ptr_nonnull(strstr(text, "  burst:    0M touched since its "
	    "stats (QEMU RSS), rising 300M/s; short within the burst "
	    "horizon\n"));
	report_fmt_kib(a, sizeof(a), t->e.plan.guests[0].target_kib);
	snprintf(line, sizeof(line), "  decision: %s, target %s, state ok",
	    policy_action_name(t->e.plan.guests[0].action), a);
	ck_line(text, line);
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_features_shown)
{
	/* the balloon's features and the virtio-mem devices the XML gave:
	 * under "backing" in the JSON, one line of explain; none without */
	struct rt *t = rt_new(3000);
	struct guest_vmem *vm = &t->g[0].backing.vmem;
	struct json_object *st, *b, *v, *d;
	char *text;

	fx_guest_touched(&t->g[0], 0, 4096, 3072, 600);
	t->g[0].backing.free_page_reporting = true;
	vm->count = 1;
	vm->size_kib = vm->dev[0].size_kib = MIB_KIB(2048);
	vm->requested_kib = vm->dev[0].requested_kib = MIB_KIB(1024);
	vm->current_kib = vm->dev[0].current_kib = MIB_KIB(1024);
	vm->block_kib = vm->dev[0].block_kib = 2048;
	vm->dev[0].node = 0;
	mt_strlcpy(vm->dev[0].addr, "0000:00:05.0", sizeof(vm->dev[0].addr));
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	ck_assert(json_object_object_get_ex(guest_of(st, 0), "backing", &b));
	ck_assert(get_bool(b, "free_page_reporting"));
	ck_assert(!get_bool(b, "autodeflate"));
	ck_assert(json_object_object_get_ex(b, "virtio_mem", &v));
	ck_assert_int_eq(get_i64(v, "count"), 1);
	ck_assert_int_eq(get_i64(v, "requested_kib"), MIB_KIB(1024));
	d = json_object_array_get_idx(json_object_object_get(v, "devices"), 0);
	ck_assert_str_eq(get_str(d, "address", ""), "0000:00:05.0");
	ck_assert_int_eq(get_i64(d, "node"), 0);
	text = render_explain(st, "vm0");
	ck_line(text, "  features: free page reporting on, deflate on OOM off; "
	    "virtio-mem: 1 device, 1024M plugged, 1024M requested, of 2048M "
	    "(blocks of 2M)");
	free(text);
	text = render_explain(st, "vm1");
	ck_assert_ptr_null(strstr(text, "features:"));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_nodes_explain)
{
	struct rt *t = rt_two_nodes();
	struct json_object *st = report_status_json(&t->e, "standalone");
	char *text;

	text = render_explain(st, "vm0");
	ck_line(text, "  numa:     confined to node 1: available 400M of "
	    "16.0G, reserve 512M, state tight; under the node rule: its "
	    "confined guests give and do not grow");
	free(text);
	text = render_explain(st, "vm2");
	ck_line(text, "  numa:     confined to node 0: available 2600M of "
	    "16.0G, reserve 512M, state plenty");
	free(text);
	/* an unbound guest gets no numa line */
	text = render_explain(st, "vm3");
	ck_assert_ptr_null(strstr(text, "numa:"));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_nodes_explain_several_and_every_node)
{
	struct rt *t = rt_new(3000);
	struct json_object *st;
	char *text;

	fx_node(&t->e.snap.host, 0, 16384, 2600);
	fx_node(&t->e.snap.host, 1, 16384, 400);
	/* vm0 bound to both nodes: as good as unbound */
	fx_confine(&t->g[0], 0x3);
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	ck_assert(!MT_PRESENT(get_i64(guest_of(st, 0), "numa_node")));
	text = render_explain(st, "vm0");
	ck_line(text, "  numa:     confined to nodes 0,1: every node of "
	    "the host or none it has, so as good as unbound");
	free(text);
	json_object_put(st);
	rt_free(t);

	/* three nodes, vm0 bound to 1 and 2: it draws on the better one */
	t = rt_new(3000);
	fx_node(&t->e.snap.host, 0, 10240, 1000);
	fx_node(&t->e.snap.host, 1, 10240, 300);
	fx_node(&t->e.snap.host, 2, 12288, 1700);
	fx_confine(&t->g[0], 0x6);
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	ck_assert_int_eq(get_i64(guest_of(st, 0), "numa_node"), 2);
	text = render_explain(st, "vm0");
	ck_assert_ptr_nonnull(strstr(text, "  numa:     confined to nodes 1,2, "
	    "draws on node 2: available 1700M of 12.0G, reserve "));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_nodes_plan)
{
	struct rt *t = rt_two_nodes();
	struct json_object *st = report_status_json(&t->e, "standalone");
	char *text = render_plan(st);

	ck_assert_ptr_nonnull(strstr(text, "host normal: "));
	ck_line(text, "node 0: available 2600M of 16.0G, reserve 512M, "
	    "state plenty, 1 confined guest");
	ck_line(text, "node 1: available 400M of 16.0G, reserve 512M, "
	    "state tight; node rule: 2 confined guests give 400M, not grown");
	ck_assert(strstr(text, "host normal: ") < strstr(text, "node 0: "));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_node_without_figures)
{
	struct rt *t = rt_new(3000);
	struct json_object *st, *nodes, *n1, *v;
	char *text;

	/* node 1's meminfo was not read: it has no state to show */
	fx_node(&t->e.snap.host, 0, 16384, 1300);
	fx_node(&t->e.snap.host, 2, 16384, 1300);
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	ck_assert(json_object_object_get_ex(host_of(st), "nodes", &nodes));
	ck_assert_uint_eq(json_object_array_length(nodes), 3);
	n1 = json_object_array_get_idx(nodes, 1);
	ck_assert(!get_bool(n1, "present"));
	ck_assert(json_object_object_get_ex(n1, "pressure", &v));
	ck_assert_ptr_null(v);
	ck_assert(!MT_PRESENT(get_i64(n1, "total_kib")));
	text = render_status(st);
	ck_line(text, "node 1: no figures (its meminfo was not read)");
	ck_line(text, "node 2: available 1300M of 16.0G, reserve 512M, "
	    "state normal");
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

START_TEST(test_one_node_adds_nothing)
{
	struct rt *t = rt_new(3000);
	struct json_object *st;
	char *text;

	/* a one-node host (one node dir, or none): no node lines anywhere */
	if (_i == 1)
		fx_node(&t->e.snap.host, 0, 32768, 3000);
	fx_confine(&t->g[0], 0x1);
	rt_decide(t);
	ck_assert_int_eq(t->e.plan.nr_nodes, 0);
	st = report_status_json(&t->e, "standalone");
	ck_assert(!json_object_object_get_ex(host_of(st), "nodes", NULL));
	ck_assert(!MT_PRESENT(get_i64(guest_of(st, 0), "numa_node")));
	text = render_status(st);
	ck_assert_ptr_null(strstr(text, "\nnode "));
	free(text);
	text = render_plan(st);
	ck_assert_ptr_null(strstr(text, "\nnode "));
	free(text);
	/* a confined guest is told why there is no node state */
	text = render_explain(st, "vm0");
	ck_line(text, "  numa:     confined to node 0; the host has one "
	    "node (or no plan yet): the host's state is the node's");
	free(text);
	text = render_explain(st, "vm1");
	ck_assert_ptr_null(strstr(text, "numa:"));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

/* Only the newlines the renderer writes, no other control byte. */
static void
ck_no_control(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		ck_assert_msg((*p >= 0x20 && *p != 0x7f) || *p == '\n',
		    "byte 0x%02x at %td in:\n%s", *p,
		    (const char *)p - text, text);
}

static int
count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* A guest named to break the operator's terminal: a newline that fakes a
 * table row, ANSI colour, a title-setting OSC, a C1 CSI. Status, explain
 * and the plan show it escaped on its own line; explain still finds it by
 * the name as the guest has it. */
START_TEST(test_guest_name_escaped)
{
	static const char evil[] = "vm0\nvm9 999M OK\x1b[31m\x1b]0;t\x07\xc2\x9b";
	static const char shown[] =
	    "vm0\\x0avm9 999M OK\\x1b[31m\\x1b]0;t\\x07\\xc2\\x9b";
	struct rt *t = rt_new(3000), *plain = rt_new(3000);
	struct json_object *st, *st_plain;
	char *text, *text_plain;

	rt_decide(plain);
	mt_strlcpy(t->g[0].name, evil, sizeof(t->g[0].name));
	rt_decide(t);

	st = report_status_json(&t->e, "standalone");
	st_plain = report_status_json(&plain->e, "standalone");
	text = render_status(st);
	text_plain = render_status(st_plain);
	ck_no_control(text);
	ck_assert_int_eq(count_lines(text), count_lines(text_plain));
	/* the table cuts names at 20 columns, visibly, and before an
	 * escape that would not fit whole */
	ck_assert_msg(strstr(text, "\nvm0\\x0avm9 999M OK\u2026  ") != NULL,
	    "%s", text);
	free(text);
	free(text_plain);
	json_object_put(st);

	st = report_status_json(&t->e, "standalone");
	text = render_explain(st, evil);
	ck_no_control(text);
	ck_assert(strncmp(text, shown, strlen(shown)) == 0);
	ck_assert_int_eq(text[strlen(shown)], ' ');
	free(text);
	json_object_put(st);

	st = report_status_json(&t->e, "standalone");
	text = render_plan(st);
	text_plain = render_plan(st_plain);
	ck_no_control(text);
	ck_assert_int_eq(count_lines(text), count_lines(text_plain));
	ck_assert_ptr_nonnull(strstr(text, shown));
	free(text);
	free(text_plain);
	json_object_put(st);
	json_object_put(st_plain);
	rt_free(t);
	rt_free(plain);
}
END_TEST

/* Strings anywhere in the tree are escaped, a NUL inside one too; keys,
 * numbers and clean strings are left as they are. */
START_TEST(test_escape_json_tree)
{
	struct json_object *o = json_tokener_parse(
	    "{\"a\":\"x\\ny\",\"n\":[1,\"\\u0000z\",{\"d\":\"\\\\\"}],"
	    "\"ok\":\"plain\",\"i\":7}");
	struct json_object *v;

	ck_assert_ptr_nonnull(o);
	report_escape_json(o);
	ck_assert_str_eq(get_str(o, "a", ""), "x\\x0ay");
	ck_assert_str_eq(get_str(o, "ok", ""), "plain");
	ck_assert_int_eq(get_i64(o, "i"), 7);
	ck_assert(json_object_object_get_ex(o, "n", &v));
	ck_assert_str_eq(json_object_get_string(
	    json_object_array_get_idx(v, 1)), "\\x00z");
	ck_assert_str_eq(get_str(json_object_array_get_idx(v, 2), "d", ""),
	    "\\\\");
	json_object_put(o);
}
END_TEST

/* [daemon] metadata in the status JSON and in explain: where each bound
 * came from, and a line for each claim of metadata it did not honour,
 * naming the key that decided (wording a user reads). */
START_TEST(test_metadata_explained)
{
	struct rt *t = rt_new(16384);
	struct json_object *st, *cap;
	char *text, line[200], a[32], b[32];

	t->g[0].input.floor_kib = MIB_KIB(3072);
	t->g[0].input.floor_src = SRC_METADATA;
	t->g[0].input.shares = 100000;
	t->g[0].input.shares_src = SRC_METADATA;
	t->g[1].input.exclude = true;
	t->g[1].input.exclude_src = SRC_METADATA;
	t->g[2].input.floor_kib = MIB_KIB(3072);
	t->g[2].input.floor_src = SRC_CONFIG;
	t->g[2].hard_limit_kib = MIB_KIB(3800);
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");

	ck_assert_str_eq(get_str(json_object_object_get(st, "metadata"),
	    "mode", ""), "bounded");
	ck_assert(json_object_object_get_ex(guest_of(st, 0), "metadata_capped",
	    &cap));
	ck_assert_int_eq(get_i64(cap, "floor_kib"), MIB_KIB(3072));
	ck_assert_int_eq(get_i64(cap, "shares"), 100000);
	ck_assert(get_bool(cap, "memory_low"));
	ck_assert_int_eq(get_i64(guest_of(st, 0), "floor_kib"), MIB_KIB(2048));
	ck_assert_int_eq(get_i64(guest_of(st, 0), "shares"), 4000);
	ck_assert_str_eq(get_str(guest_of(st, 2), "floor_src", ""), "config");
	ck_assert_str_eq(get_str(guest_of(st, 2), "ceiling_src", ""),
	    "libvirt");
	ck_assert(!json_object_object_get_ex(guest_of(st, 2),
	    "metadata_capped", NULL));

	text = render_explain(st, "vm0");
	report_fmt_kib(a, sizeof(a), MIB_KIB(3072));
	report_fmt_kib(b, sizeof(b), MIB_KIB(2048));
	snprintf(line, sizeof(line), "  trust:    floor %s from metadata "
	    "capped to %s (metadata_floor_max 50%%)", a, b);
	ck_line(text, line);
	ck_line(text, "  shares:   4000 (from metadata)");
	ck_line(text, "  trust:    shares 100000 from metadata capped to 4000 "
	    "(metadata_shares_max)");
	ck_line(text, "  trust:    memory.low follows the default floor, not "
	    "the floor from metadata (metadata = bounded)");
	free(text);
	text = render_explain(st, "vm1");
	ck_line(text, "  trust:    exclude from metadata not honoured "
	    "(metadata_exclude = no)");
	free(text);
	text = render_explain(st, "vm2");
	ck_assert_ptr_null(strstr(text, "trust:"));
	ck_assert_ptr_nonnull(strstr(text, " (from config), ceiling "));
	ck_assert_ptr_nonnull(strstr(text, " (from libvirt)\n"));
	free(text);
	json_object_put(st);

	/* trusted, the same claims are taken whole: nothing to say */
	t->e.cfg.policy.metadata_mode = METADATA_TRUST;
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	ck_assert_str_eq(get_str(json_object_object_get(st, "metadata"),
	    "mode", ""), "trust");
	ck_assert_int_eq(get_i64(guest_of(st, 0), "floor_kib"), MIB_KIB(3072));
	text = render_explain(st, "vm0");
	ck_assert_ptr_null(strstr(text, "trust:"));
	free(text);
	json_object_put(st);
	rt_free(t);
}
END_TEST

/* virsh's order: an ID first, a UUID (any case) next, the name last. */
static const char lookup_status[] = "{\"guests\": ["
    "{\"name\": \"3\", \"id\": 7, "
    "\"uuid\": \"aaaaaaaa-0000-0000-0000-000000000001\"},"
    "{\"name\": \"web\", \"id\": 3, "
    "\"uuid\": \"bbbbbbbb-0000-0000-0000-000000000002\"},"
    "{\"name\": \"bbbbbbbb-0000-0000-0000-000000000002\", \"id\": 4, "
    "\"uuid\": \"cccccccc-0000-0000-0000-000000000003\"},"
    "{\"name\": \"paused\", \"id\": null, "
    "\"uuid\": \"dddddddd-0000-0000-0000-000000000004\"}]}";

static const struct {
	const char *key;
	const char *want;	/* the name found; NULL: none */
} lookup_cases[] = {
	{ "3", "web" },		/* ID 3, not the guest named "3" */
	{ "03", "web" },	/* as virStrToLong_i reads it */
	{ "7", "3" },
	{ "web", "web" },
	{ "BBBBBBBB-0000-0000-0000-000000000002", "web" },
	/* a name that is another's UUID: the UUID wins */
	{ "bbbbbbbb-0000-0000-0000-000000000002", "web" },
	{ "cccccccc-0000-0000-0000-000000000003",
	    "bbbbbbbb-0000-0000-0000-000000000002" },
	{ "4", "bbbbbbbb-0000-0000-0000-000000000002" },
	{ "paused", "paused" },
	{ " 3", NULL },		/* not an ID, and no such name */
	{ "3 ", NULL },
	{ "-1", NULL },
	{ "99999999999", NULL },
	{ "nosuch", NULL },
	{ "", NULL },
};

START_TEST(test_find_guest)
{
	struct json_object *st = json_tokener_parse(lookup_status), *g;

	ck_assert_ptr_nonnull(st);
	g = report_find_guest(st, lookup_cases[_i].key);
	if (lookup_cases[_i].want == NULL)
		ck_assert_msg(g == NULL, "'%s' found %s", lookup_cases[_i].key,
		    get_str(g, "name", "?"));
	else
		ck_assert_msg(g != NULL && strcmp(get_str(g, "name", ""),
		    lookup_cases[_i].want) == 0, "'%s' found %s, want %s",
		    lookup_cases[_i].key, g != NULL ? get_str(g, "name", "?") :
		    "none", lookup_cases[_i].want);
	json_object_put(st);
}
END_TEST

/* The status table's name column: 20 columns, "…" when cut, never
 * inside an escape or a UTF-8 character (the input is escaped text). */
static const struct {
	const char *esc;
	const char *want;
} fit_cases[] = {
	{ "web", "web                 " },
	{ "", "                    " },
	{ "abcdefghijklmnopqrst", "abcdefghijklmnopqrst" },
	{ "abcdefghijklmnopqrstu", "abcdefghijklmnopqrs\u2026" },
	/* "\x1b" would end past column 19: cut before it */
	{ "abcdefghijklmnopq\\x1bZ", "abcdefghijklmnopq\u2026  " },
	{ "abcdefghijklmnop\\x1bZ", "abcdefghijklmnop\u2026   " },
	{ "abcdefghijklmno\\x1bZ", "abcdefghijklmno\\x1bZ" },
	{ "abcdefghijklmnopqr\\\\xyz", "abcdefghijklmnopqr\u2026 " },
	{ "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	  "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
	  "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	  "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9" },
	{ "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	  "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9x",
	  "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	  "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u2026" },
	{ "\U0001F427\U0001F427\U0001F427\U0001F427"
	  "abcdefghijklmnopq", "\U0001F427\U0001F427\U0001F427"
	  "\U0001F427abcdefghijklmno\u2026" },
};

START_TEST(test_fit_name)
{
	char buf[REPORT_NAME_COLS * 4 + 4];

	report_fit_name(buf, sizeof(buf), fit_cases[_i].esc, REPORT_NAME_COLS);
	ck_assert_str_eq(buf, fit_cases[_i].want);
}
END_TEST

/* A buffer too small for what fits gets blanks, never a part of a
 * character. */
START_TEST(test_fit_name_small_buffer)
{
	char buf[8];

	report_fit_name(buf, sizeof(buf), "\u00e9\u00e9\u00e9\u00e9\u00e9", 4);
	ck_assert_str_eq(buf, "\u2026   ");
	report_fit_name(buf, 3, "abcdef", 4);
	ck_assert_str_eq(buf, "  ");
}
END_TEST

/* Every JSON memtunectl prints starts with "schema": the status (which
 * the daemon answers with too), explain, errors, and what had none. */
static void
ck_schema_first(struct json_object *o)
{
	struct json_object_iter it;

	ck_assert_ptr_nonnull(o);
	json_object_object_foreachC(o, it) {
		ck_assert_str_eq(it.key, "schema");
		ck_assert_int_eq(json_object_get_int(it.val), MT_JSON_SCHEMA);
		return;
	}
	ck_abort_msg("an empty object");
}

START_TEST(test_schema_first)
{
	struct rt *t = rt_new(3000);
	struct json_object *st, *o;

	rt_decide(t);
	st = report_status_json(&t->e, "daemon");
	ck_schema_first(st);
	o = report_explain_json(st, "vm1");
	ck_schema_first(o);
	json_object_put(o);
	o = report_error_json("no running guest 'x'", "no_guest");
	ck_schema_first(o);
	ck_assert_str_eq(get_str(o, "code", ""), "no_guest");
	ck_assert_str_eq(get_str(o, "error", ""), "no running guest 'x'");
	ck_assert(!get_bool(o, "ok"));
	ck_assert_int_eq(json_object_object_length(o), 4);
	json_object_put(o);
	/* an answer without one (a ping, a refusal) gains it in front */
	o = json_tokener_parse("{\"ok\": false, \"error\": \"e\", "
	    "\"code\": \"rate_limited\"}");
	o = mt_json_schema_first(o);
	ck_schema_first(o);
	ck_assert_str_eq(get_str(o, "code", ""), "rate_limited");
	ck_assert_int_eq(json_object_object_length(o), 4);
	/* and one that has it is left alone */
	ck_assert_ptr_eq(mt_json_schema_first(o), o);
	json_object_put(o);
	json_object_put(st);
	rt_free(t);
}
END_TEST

/* explain --json: the guest's figures with its id, its bounds and where
 * they came from, the reasons as lines; a name in full and raw (json-c
 * escapes it), and the status it was read from left as it was. */
START_TEST(test_explain_json)
{
	static const char evil[] = "vm0\nname-longer-than-twenty-columns\x1b[31m";
	struct rt *t = rt_new(3000);
	struct json_object *st, *o, *g, *b, *r;
	bool because = false;

	mt_strlcpy(t->g[0].name, evil, sizeof(t->g[0].name));
	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	ck_assert_ptr_null(report_explain_json(st, "nosuch"));
	ck_assert_ptr_nonnull(o = report_explain_json(st, "1"));
	ck_assert(json_object_object_get_ex(o, "guest", &g));
	ck_assert_str_eq(get_str(g, "name", ""), evil);
	ck_assert_int_eq(get_i64(g, "id"), 1);
	ck_assert(MT_PRESENT(get_i64(g, "actual_kib")));
	ck_assert(json_object_object_get_ex(o, "bounds", &b));
	ck_assert_int_eq(get_i64(b, "floor_kib"), get_i64(g, "floor_kib"));
	ck_assert_str_eq(get_str(b, "floor_src", ""), "default");
	ck_assert_str_eq(get_str(b, "ceiling_src", ""), "default");
	ck_assert(json_object_object_get_ex(o, "reasons", &r));
	ck_assert(json_object_is_type(r, json_type_array));
	ck_assert_int_gt(json_object_array_length(r), 3);
	for (size_t i = 0; i < json_object_array_length(r); i++) {
		const char *l = json_object_get_string(
		    json_object_array_get_idx(r, i));

		ck_assert_msg(strchr(l, '\n') == NULL && l[0] != ' ', "%s", l);
		if (strncmp(l, "because:", 8) == 0)
			because = true;
	}
	ck_assert(because);
	json_object_put(o);
	/* the status was not escaped in place */
	ck_assert_str_eq(get_str(guest_of(st, 0), "name", ""), evil);
	json_object_put(st);
	rt_free(t);
}
END_TEST

/* Each reason in the status JSON has its code's key beside it, as the
 * plan has it: scripts match on the key, never on the text. */
START_TEST(test_reason_codes_shown)
{
	struct rt *t = rt_new(700);	/* tight: guests give */
	struct json_object *st, *o, *h, *ksm, *thp;

	rt_decide(t);
	st = report_status_json(&t->e, "standalone");
	for (size_t i = 0; i < t->e.plan.nr_guests; i++) {
		const struct guest_plan *gp = &t->e.plan.guests[i];

		ck_assert_str_eq(get_str(guest_of(st, i), "reason_code", ""),
		    policy_guest_why_name(gp->reason_code));
		ck_assert_str_eq(get_str(guest_of(st, i), "reason", ""),
		    gp->reason);
	}
	ck_assert_str_eq(get_str(guest_of(st, 0), "reason_code", ""),
	    "host_takes");
	ck_assert_str_eq(get_str(host_of(st), "pressure_reason_code", ""),
	    "mem_available");
	ck_assert(json_object_object_get_ex(host_of(st), "ksm", &ksm));
	ck_assert_str_eq(get_str(ksm, "reason_code", ""),
	    policy_ksm_why_name(t->e.plan.ksm.reason_code));
	ck_assert_str_ne(get_str(ksm, "reason_code", "none"), "none");
	ck_assert(json_object_object_get_ex(host_of(st), "thp", &thp));
	ck_assert_str_eq(get_str(thp, "reason_code", ""),
	    policy_thp_why_name(t->e.plan.thp.reason_code));
	ck_assert_str_ne(get_str(thp, "reason_code", "none"), "none");
	/* explain --json carries the host's too */
	ck_assert_ptr_nonnull(o = report_explain_json(st, "vm0"));
	ck_assert(json_object_object_get_ex(o, "host", &h));
	ck_assert_str_eq(get_str(h, "pressure_reason_code", ""),
	    "mem_available");
	json_object_put(o);
	json_object_put(st);
	rt_free(t);
}
END_TEST

/* What explain advises adding to a guest's XML, by its backing and its
 * stats: each row a guest as the status has it, and the codes wanted in
 * order; the text line carries the XML, and --json the same codes. */
START_TEST(test_advice_table)
{
	static const struct {
		bool balloon, fpr, defl, huge, locked;
		enum guest_stats_state stats;
		const char *want;	/* codes, space separated */
	} cases[] = {
		{ true, false, false, false, false, GUEST_STATS_OK,
		  "free_page_reporting autodeflate" },
		{ true, true, false, false, false, GUEST_STATS_OK,
		  "autodeflate" },
		{ true, true, true, false, false, GUEST_STATS_OK, "" },
		{ true, true, true, false, false, GUEST_STATS_NONE,
		  "balloon_stats" },
		{ true, true, true, false, false, GUEST_STATS_STALE, "" },
		{ false, false, false, false, false, GUEST_STATS_NONE,
		  "balloon" },
		{ true, false, false, true, false, GUEST_STATS_OK, "" },
		{ false, false, false, false, true, GUEST_STATS_NONE, "" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rt *t = rt_new(3000);
		struct guest_backing *bk = &t->g[0].backing;
		struct report_advice a[REPORT_ADVICE_MAX];
		struct json_object *st, *o, *arr;
		char got[128] = "", *text;
		size_t n;

		bk->has_balloon = cases[i].balloon;
		bk->free_page_reporting = cases[i].fpr;
		bk->autodeflate = cases[i].defl;
		bk->hugepages = cases[i].huge;
		bk->locked = cases[i].locked;
		t->g[0].stats = cases[i].stats;
		rt_decide(t);
		st = report_status_json(&t->e, "standalone");
		n = report_advice(guest_of(st, 0), a, REPORT_ADVICE_MAX);
		for (size_t j = 0; j < n; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%s%s", j ? " " : "", a[j].code);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "row %zu: "
		    "advice '%s', want '%s'", i, got, cases[i].want);
		/* as many advice lines in explain, each with its XML */
		text = render_explain(st, "vm0");
		for (size_t j = 0; j < n; j++)
			ck_assert_ptr_nonnull(strstr(text, a[j].xml));
		ck_assert_int_eq(n > 0, strstr(text, "  advice:   ") != NULL);
		free(text);
		ck_assert_ptr_nonnull(o = report_explain_json(st, "vm0"));
		ck_assert(json_object_object_get_ex(o, "advice", &arr));
		ck_assert_uint_eq(json_object_array_length(arr), n);
		for (size_t j = 0; j < n; j++)
			ck_assert_str_eq(get_str(json_object_array_get_idx(arr,
			    j), "code", ""), a[j].code);
		json_object_put(o);
		json_object_put(st);
		rt_free(t);
	}
}
END_TEST

/* The rebalance answer's keys, the daemon's and memtunectl's: exactly
 * these, in this order, for each outcome. */
static const struct rebalance_case {
	int rc;
	bool acted, reserve;
	const char *json;
} rebalance_cases[] = {
	{ 0, true, false, "{\"rebalance_rc\":0,\"acted\":true}" },
	{ 0, false, false, "{\"rebalance_rc\":0,\"acted\":false}" },
	{ 0, true, true, "{\"rebalance_rc\":0,\"acted\":true,"
	    "\"reserve_possible_kib\":524288}" },
	{ -ENOSPC, false, true, "{\"rebalance_rc\":-28,\"acted\":false,"
	    "\"reserve_possible_kib\":524288}" },
	{ -EIO, false, false, "{\"rebalance_rc\":-5,\"acted\":false,"
	    "\"ok\":false,\"error\":\"no guest answered\"}" },
	{ -EIO, false, true, "{\"rebalance_rc\":-5,\"acted\":false,"
	    "\"reserve_possible_kib\":524288,\"ok\":false,"
	    "\"error\":\"no guest answered\"}" },
};

START_TEST(test_rebalance_answer)
{
	const struct rebalance_case *c = &rebalance_cases[_i];
	struct engine *e = calloc(1, sizeof(*e));
	struct json_object *o = json_object_new_object();

	ck_assert_ptr_nonnull(e);
	e->plan.reserve_possible_kib = 524288;
	snprintf(e->last_error, sizeof(e->last_error), "no guest answered");
	report_add_rebalance(o, e, c->rc, c->acted, c->reserve);
	ck_assert_str_eq(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), c->json);
	json_object_put(o);
	free(e);
}
END_TEST

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("numa");

	tcase_add_test(tc, test_nodes_json_two_nodes);
	tcase_add_test(tc, test_advice_table);
	tcase_add_test(tc, test_nodes_status_table);
	tcase_add_test(tc, test_nodes_explain);
	tcase_add_test(tc, test_headroom_shown);
	tcase_add_test(tc, test_burst_explained);
	tcase_add_test(tc, test_features_shown);
	tcase_add_test(tc, test_nodes_explain_several_and_every_node);
	tcase_add_test(tc, test_nodes_plan);
	tcase_add_test(tc, test_node_without_figures);
	tcase_add_loop_test(tc, test_one_node_adds_nothing, 0, 2);
	tcase_add_test(tc, test_guest_name_escaped);
	tcase_add_test(tc, test_escape_json_tree);
	tcase_add_test(tc, test_metadata_explained);
	tcase_add_loop_test(tc, test_find_guest, 0,
	    (int)(sizeof(lookup_cases) / sizeof(lookup_cases[0])));
	tcase_add_loop_test(tc, test_fit_name, 0,
	    (int)(sizeof(fit_cases) / sizeof(fit_cases[0])));
	tcase_add_test(tc, test_fit_name_small_buffer);
	tcase_add_test(tc, test_schema_first);
	tcase_add_test(tc, test_explain_json);
	tcase_add_test(tc, test_reason_codes_shown);
	tcase_add_loop_test(tc, test_rebalance_answer, 0,
	    (int)(sizeof(rebalance_cases) / sizeof(rebalance_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
