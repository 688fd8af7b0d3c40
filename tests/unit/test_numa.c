/* test_numa.c - per-node meminfo: discovery, sparse node ids, parse
 * errors with their messages, live. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "numa.h"
#include "util.h"
#include "host_fixture.h"

Suite *numa_suite(void);

static char err[256];

#define NODE_OK(n, t, f) "Node " #n " MemTotal:  " #t " kB\n" \
	"Node " #n " MemFree:   " #f " kB\nNode " #n " MemUsed:  1 kB\n"

START_TEST(test_fixture)
{
	struct numa_nodes nodes;
	struct host_numa n;

	ht_use_fixture(HT_FIXTURE_NEW);
	ck_assert_int_eq(numa_discover(&nodes, err, sizeof(err)), 0);
	ck_assert_int_eq(nodes.nr, 1);
	ck_assert_int_eq(nodes.ids[0], 0);
	ck_assert_int_eq(numa_read(&nodes, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n.nr_nodes, 1);
	ck_assert_int_eq(n.node_total_kib[0], 5335244);
	ck_assert_int_eq(n.node_free_kib[0], 3200584);
	ck_assert(!MT_PRESENT(n.node_total_kib[1]));
}
END_TEST

static char root[64];

static void
scratch_setup(void)
{
	ht_mkroot(root, sizeof(root));
	mt_set_root(root);
}

static void
scratch_teardown(void)
{
	ht_rmtree(root);
	mt_set_root("");
}

START_TEST(test_sparse_nodes)
{
	struct numa_nodes nodes;
	struct host_numa n;

	ck_assert_int_eq(numa_discover(&nodes, err, sizeof(err)), 0);
	ck_assert_int_eq(nodes.nr, 0);
	ck_assert_int_eq(numa_read(&nodes, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n.nr_nodes, 0);

	ht_put(root, NUMA_NODE_DIR "/node2/meminfo", NODE_OK(2, 2000, 20));
	ht_put(root, NUMA_NODE_DIR "/node0/meminfo", NODE_OK(0, 1000, 10));
	ht_put(root, NUMA_NODE_DIR "/possible", "0,2\n");
	ck_assert_int_eq(numa_discover(&nodes, err, sizeof(err)), 0);
	ck_assert_int_eq(nodes.nr, 2);
	ck_assert_int_eq(nodes.ids[0], 0);
	ck_assert_int_eq(nodes.ids[1], 2);
	ck_assert_int_eq(numa_read(&nodes, &n, err, sizeof(err)), 0);
	/* indexed by node id: node 1 does not exist */
	ck_assert_int_eq(n.nr_nodes, 3);
	ck_assert_int_eq(n.node_total_kib[0], 1000);
	ck_assert_int_eq(n.node_free_kib[0], 10);
	ck_assert(!MT_PRESENT(n.node_total_kib[1]));
	ck_assert(!MT_PRESENT(n.node_free_kib[1]));
	ck_assert_int_eq(n.node_total_kib[2], 2000);
	ck_assert_int_eq(n.node_free_kib[2], 20);

	/* a node that went away */
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s%s", root,
		    NUMA_NODE_DIR "/node2/meminfo");
		ck_assert_int_eq(unlink(p), 0);
	}
	ck_assert_int_eq(numa_read(&nodes, &n, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/sys/devices/system/node/node2/meminfo: "
	    "No such file or directory");
	ck_assert_int_eq(n.nr_nodes, 0);
	ck_assert(!MT_PRESENT(n.node_total_kib[0]));

	ht_put(root, NUMA_NODE_DIR "/node64/meminfo", NODE_OK(64, 1, 1));
	ck_assert_int_eq(numa_discover(&nodes, err, sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "/sys/devices/system/node/node64: node id "
	    "beyond the 64 supported");
	ck_assert_int_eq(nodes.nr, 0);
}
END_TEST

static const struct bad_case {
	const char *text;
	const char *msg;
} bad[] = {
	{ "", "nodeX: MemTotal: missing" },
	{ "Node 3 MemTotal:  1000 kB\n",
	  "nodeX: line 1: does not start with \"Node 1\"" },
	{ "Node 1 MemTotal:  1000 kB\n", "nodeX: MemFree: missing" },
	{ "Node 1 MemFree:  1000 kB\n", "nodeX: MemTotal: missing" },
	{ "garbage\n", "nodeX: line 1: does not start with \"Node 1\"" },
	{ "Node 1 MemTotal:  1000 kB\nNode 1 MemFree:  10",
	  "nodeX: line 2 has no newline (cut read)" },
	{ NODE_OK(1, 1000, 10) "Node 1 MemFree:  5 kB\n",
	  "nodeX: MemFree: duplicated (line 4)" },
	{ "Node 1 MemTotal:  1000 MB\n", "nodeX: MemTotal: unit is not \"kB\"" },
	{ "Node 1 MemTotal:  many kB\n",
	  "nodeX: MemTotal: value is not a number" },
	{ "Node 1 MemTotal:  99999999999999999999 kB\n",
	  "nodeX: MemTotal: value out of range" },
	{ NODE_OK(1, 1000, 1001), "nodeX: MemFree: 1001 kB exceeds MemTotal "
	  "1000 kB" },
};

START_TEST(test_bad_input)
{
	int64_t t = 7, f = 7;

	ck_assert_msg(numa_node_parse("nodeX", 1, bad[_i].text, &t, &f, err,
	    sizeof(err)) == -EINVAL, "case %d", _i);
	ck_assert_str_eq(err, bad[_i].msg);
	ck_assert_int_eq(t, 7);
	ck_assert_int_eq(f, 7);
}
END_TEST

START_TEST(test_read_bad_node)
{
	struct numa_nodes nodes;
	struct host_numa n;

	ht_put(root, NUMA_NODE_DIR "/node0/meminfo", NODE_OK(0, 10, 11));
	ck_assert_int_eq(numa_discover(&nodes, err, sizeof(err)), 0);
	ck_assert_int_eq(numa_read(&nodes, &n, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/devices/system/node/node0/meminfo: "
	    "MemFree: 11 kB exceeds MemTotal 10 kB");
	ck_assert_int_eq(n.nr_nodes, 0);
}
END_TEST

START_TEST(test_live)
{
	struct numa_nodes nodes;
	struct host_numa n;

	mt_set_root("");
	ck_assert_msg(numa_discover(&nodes, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_ge(nodes.nr, 1);
	ck_assert_msg(numa_read(&nodes, &n, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_ge(n.nr_nodes, 1);
	for (int i = 0; i < nodes.nr; i++) {
		int id = nodes.ids[i];

		ck_assert_int_gt(n.node_total_kib[id], 0);
		ck_assert_int_le(n.node_free_kib[id], n.node_total_kib[id]);
	}
}
END_TEST

Suite *
numa_suite(void)
{
	Suite *s = suite_create("numa");
	TCase *tc = tcase_create("fixtures");
	TCase *ts = tcase_create("scratch");

	tcase_add_test(tc, test_fixture);
	tcase_add_loop_test(tc, test_bad_input, 0, (int)ARRAY_SIZE(bad));
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, scratch_setup, scratch_teardown);
	tcase_add_test(ts, test_sparse_nodes);
	tcase_add_test(ts, test_read_bad_node);
	suite_add_tcase(s, ts);
	return s;
}
