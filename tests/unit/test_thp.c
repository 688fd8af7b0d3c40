/* test_thp.c - THP selectors and khugepaged knobs: fixtures,
 * malformed files, writes, live (the bracketed-choice parser is
 * mt_sysfs_choice, in test_util.c). */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "thp.h"
#include "util.h"
#include "host_fixture.h"

Suite *thp_suite(void);

static char err[256];

START_TEST(test_fixture_new)
{
	struct host_thp t;

	ht_use_fixture(HT_FIXTURE_NEW);
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), 0);
	ck_assert(t.present);
	ck_assert_str_eq(t.enabled, "madvise");
	ck_assert_str_eq(t.defrag, "madvise");
	ck_assert_int_eq(t.khugepaged_pages_to_scan, 4096);
	ck_assert_int_eq(t.khugepaged_scan_sleep_millisecs, 10000);
	ck_assert_int_eq(t.khugepaged_alloc_sleep_millisecs, 60000);
	ck_assert_int_eq(t.khugepaged_defrag, 1);
	ck_assert_int_eq(t.khugepaged_max_ptes_none, 511);
	ck_assert_int_eq(t.khugepaged_pages_collapsed, 0);
	ck_assert_int_eq(t.khugepaged_full_scans, 0);
}
END_TEST

START_TEST(test_fixture_old)
{
	struct host_thp t;

	ht_use_fixture(HT_FIXTURE_OLD);
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), 0);
	ck_assert(t.present);
	ck_assert_str_eq(t.enabled, "never");
	ck_assert_str_eq(t.defrag, "madvise");
	ck_assert_int_eq(t.khugepaged_max_ptes_none, 511);
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

START_TEST(test_absent_and_bad)
{
	struct host_thp t;

	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), 0);
	ck_assert(!t.present);
	ck_assert_str_eq(t.enabled, "");
	ck_assert(!MT_PRESENT(t.khugepaged_pages_to_scan));

	/* a partial directory: what is there is read, the rest is absent */
	ht_put(root, THP_DIR "enabled", "[always] madvise never\n");
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), 0);
	ck_assert(t.present);
	ck_assert_str_eq(t.enabled, "always");
	ck_assert_str_eq(t.defrag, "");
	ck_assert(!MT_PRESENT(t.khugepaged_full_scans));

	ht_put(root, THP_DIR "defrag", "always defer never\n");
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/kernel/mm/transparent_hugepage/defrag: "
	    "no single [choice] in \"always defer never\"");

	ht_put(root, THP_DIR "defrag", "[never]\n");
	ht_put(root, THP_DIR "khugepaged/pages_to_scan", "4096 pages\n");
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/kernel/mm/transparent_hugepage/"
	    "khugepaged/pages_to_scan: not an integer");
	ck_assert(!MT_PRESENT(t.khugepaged_pages_to_scan));

	ht_put(root, THP_DIR "khugepaged/pages_to_scan", "-1\n");
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/kernel/mm/transparent_hugepage/"
	    "khugepaged/pages_to_scan: negative");

	ht_put(root, THP_DIR "khugepaged/pages_to_scan", "512\n");
	ck_assert_int_eq(thp_read(&t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.khugepaged_pages_to_scan, 512);
	ck_assert_str_eq(t.defrag, "never");
}
END_TEST

START_TEST(test_live)
{
	struct host_thp t;
	static const char *const modes[] = { "always", "madvise", "never" };
	bool ok = false;

	mt_set_root("");
	ck_assert_msg(thp_read(&t, err, sizeof(err)) == 0, "%s", err);
	ck_assert(t.present);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		ok |= strcmp(t.enabled, modes[i]) == 0;
	ck_assert_msg(ok, "enabled = \"%s\"", t.enabled);
	ck_assert_int_gt(t.khugepaged_pages_to_scan, 0);
	ck_assert(t.khugepaged_defrag == 0 || t.khugepaged_defrag == 1);
	ck_assert_int_ge(t.khugepaged_full_scans, 0);
}
END_TEST

Suite *
thp_suite(void)
{
	Suite *s = suite_create("thp");
	TCase *tc = tcase_create("fixtures");
	TCase *ts = tcase_create("scratch");

	tcase_add_test(tc, test_fixture_new);
	tcase_add_test(tc, test_fixture_old);
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, scratch_setup, scratch_teardown);
	tcase_add_test(ts, test_absent_and_bad);
	suite_add_tcase(s, ts);
	return s;
}
