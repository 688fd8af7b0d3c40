/* test_vmstat.c - /proc/vmstat parsing: both fixture kernels (new and old
 * refault counters), errors with their messages, buffer limit, live. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "util.h"
#include "vmstat.h"
#include "host_fixture.h"

Suite *vmstat_suite(void);

static char err[256];

START_TEST(test_fixture_new)
{
	struct host_vmstat v;

	ht_use_fixture(HT_FIXTURE_NEW);
	ck_assert_int_eq(vmstat_read(&v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.pgmajfault, 720);
	ck_assert_int_eq(v.pswpin, 0);
	ck_assert_int_eq(v.pswpout, 0);
	ck_assert_int_eq(v.workingset_refault_anon, 0);
	ck_assert_int_eq(v.workingset_refault_file, 0);
	ck_assert_int_eq(v.thp_fault_alloc, 0);
	ck_assert_int_eq(v.thp_collapse_alloc_failed, 0);
	ck_assert_int_eq(v.compact_stall, 0);
	/* rates are hostcollect's job */
	ck_assert(!MT_PRESENT(v.pgmajfault_per_s));
	ck_assert(!MT_PRESENT(v.refault_per_s));
}
END_TEST

START_TEST(test_fixture_old)
{
	struct host_vmstat v;

	ht_use_fixture(HT_FIXTURE_OLD);
	ck_assert_int_eq(vmstat_read(&v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.pgmajfault, 98765);
	/* before 5.9 one counter, of file pages */
	ck_assert(!MT_PRESENT(v.workingset_refault_anon));
	ck_assert_int_eq(v.workingset_refault_file, 4321);
	ck_assert_int_eq(v.thp_split_page, 44);
	ck_assert_int_eq(v.compact_stall, 12);
}
END_TEST

START_TEST(test_optional_absent)
{
	struct host_vmstat v;

	ck_assert_int_eq(vmstat_parse("nr_free_pages 5\npgmajfault 3\n", &v,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(v.pgmajfault, 3);
	ck_assert(!MT_PRESENT(v.pswpin));
	ck_assert(!MT_PRESENT(v.workingset_refault_anon));
	ck_assert(!MT_PRESENT(v.workingset_refault_file));
	ck_assert(!MT_PRESENT(v.thp_split_page));
	ck_assert(!MT_PRESENT(v.compact_stall));
}
END_TEST

static const struct bad_case {
	const char *text;
	const char *msg;
} bad[] = {
	{ "", "/proc/vmstat: pgmajfault: missing" },
	{ "garbage\n", "/proc/vmstat: line 1: not \"name value\"" },
	{ "pgmajfault 1\n\n", "/proc/vmstat: line 2: not \"name value\"" },
	{ "pgmajfault 12", "/proc/vmstat: pgmajfault: line 1 has no newline "
	  "(cut read)" },
	{ "pgmajfault 1\npgmajfault 2\n",
	  "/proc/vmstat: pgmajfault: duplicated (line 2)" },
	{ "pgmajfault x\n", "/proc/vmstat: pgmajfault: value is not a number" },
	{ "pgmajfault -1\n",
	  "/proc/vmstat: pgmajfault: value is not a number" },
	{ "pgmajfault 1 2\n",
	  "/proc/vmstat: pgmajfault: trailing text after the value" },
	{ "pgmajfault 99999999999999999999\n",
	  "/proc/vmstat: pgmajfault: value out of range" },
	{ "pgmajfault 1\nworkingset_refault_file 2\nworkingset_refault 3\n",
	  "/proc/vmstat: workingset_refault: present together with the "
	  "other name of the same counter" },
};

START_TEST(test_bad_input)
{
	struct host_vmstat v, before;

	memset(&v, 0x5a, sizeof(v));
	before = v;
	ck_assert_msg(vmstat_parse(bad[_i].text, &v, err, sizeof(err)) ==
	    -EINVAL, "case %d", _i);
	ck_assert_str_eq(err, bad[_i].msg);
	ck_assert(memcmp(&v, &before, sizeof(v)) == 0);
}
END_TEST

START_TEST(test_read_errors)
{
	char root[64];
	struct host_vmstat v;

	ht_mkroot(root, sizeof(root));
	mt_set_root(root);
	ck_assert_int_eq(vmstat_read(&v, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/proc/vmstat: No such file or directory");
	ht_put_big(root, "/proc/vmstat", "nr_free_pages 1\n",
	    VMSTAT_BUF_SIZE);
	ck_assert_int_eq(vmstat_read(&v, err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err, "/proc/vmstat: larger than 16384 bytes");
	ht_rmtree(root);
}
END_TEST

START_TEST(test_live)
{
	struct host_vmstat v;

	mt_set_root("");
	ck_assert_msg(vmstat_read(&v, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_ge(v.pgmajfault, 0);
	/* a 6.x kernel has the split refault counters */
	ck_assert_int_ge(v.workingset_refault_anon, 0);
	ck_assert_int_ge(v.workingset_refault_file, 0);
	ck_assert_int_ge(v.compact_stall, 0);
	ck_assert_int_ge(v.thp_fault_alloc, 0);
}
END_TEST

Suite *
vmstat_suite(void)
{
	Suite *s = suite_create("vmstat");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_fixture_new);
	tcase_add_test(tc, test_fixture_old);
	tcase_add_test(tc, test_optional_absent);
	tcase_add_loop_test(tc, test_bad_input, 0, (int)ARRAY_SIZE(bad));
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	return s;
}
