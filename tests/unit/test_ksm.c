/* test_ksm.c - KSM knobs and counters (new and old kernels), ksmd's pid
 * and CPU time, the knob writes, and the live directory. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ksm.h"
#include "util.h"
#include "host_fixture.h"

Suite *ksm_suite(void);

static char err[256];

static int64_t
ticks_to_ms(int64_t ticks)
{
	return ticks * 1000 / sysconf(_SC_CLK_TCK);
}

START_TEST(test_fixture_new)
{
	struct host_ksm k;
	int64_t pid, ms;

	ht_use_fixture(HT_FIXTURE_NEW);
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), 0);
	ck_assert(k.present);
	/* the page pages_* count is this machine's */
	ck_assert_int_eq(k.page_kib, sysconf(_SC_PAGESIZE) / 1024);
	ck_assert_int_eq(k.run, 0);
	ck_assert_int_eq(k.pages_to_scan, 100);
	ck_assert_int_eq(k.sleep_millisecs, 20);
	ck_assert_int_eq(k.pages_shared, 0);
	ck_assert_int_eq(k.pages_sharing, 0);
	ck_assert_int_eq(k.pages_unshared, 0);
	ck_assert_int_eq(k.pages_volatile, 0);
	ck_assert_int_eq(k.pages_skipped, 0);
	ck_assert_int_eq(k.full_scans, 0);
	ck_assert_int_eq(k.general_profit, 0);
	ck_assert_int_eq(k.ksm_zero_pages, 0);
	ck_assert_int_eq(k.max_page_sharing, 256);
	ck_assert_int_eq(k.merge_across_nodes, 1);
	ck_assert_int_eq(k.use_zero_pages, 0);
	ck_assert_int_eq(k.smart_scan, 1);
	ck_assert_int_eq(k.stable_node_chains, 0);
	ck_assert_int_eq(k.stable_node_dups, 0);
	ck_assert_str_eq(k.advisor_mode, "none");
	ck_assert_int_eq(k.advisor_target_scan_time, 200);
	ck_assert_int_eq(k.advisor_max_cpu, 70);
	ck_assert_int_eq(k.advisor_min_pages_to_scan, 500);
	ck_assert_int_eq(k.advisor_max_pages_to_scan, 30000);

	ck_assert_int_eq(ksmd_find_pid(&pid), 0);
	ck_assert_int_eq(pid, 37);
	ck_assert_int_eq(ksmd_read_cpu_ms(pid, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 0);
}
END_TEST

START_TEST(test_fixture_old)
{
	struct host_ksm k;
	int64_t pid, ms;

	ht_use_fixture(HT_FIXTURE_OLD);
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), 0);
	ck_assert(k.present);
	ck_assert_int_eq(k.run, 1);
	ck_assert_int_eq(k.pages_to_scan, 1250);
	ck_assert_int_eq(k.pages_shared, 1200);
	ck_assert_int_eq(k.pages_sharing, 26800);
	ck_assert_int_eq(k.pages_unshared, 5400);
	ck_assert_int_eq(k.pages_volatile, 37);
	ck_assert_int_eq(k.full_scans, 3);
	/* the knobs of 6.1+ kernels are absent, not zero */
	ck_assert(!MT_PRESENT(k.general_profit));
	ck_assert(!MT_PRESENT(k.ksm_zero_pages));
	ck_assert(!MT_PRESENT(k.pages_skipped));
	ck_assert(!MT_PRESENT(k.smart_scan));
	ck_assert(!MT_PRESENT(k.advisor_target_scan_time));
	ck_assert(!MT_PRESENT(k.advisor_max_cpu));
	ck_assert(!MT_PRESENT(k.advisor_min_pages_to_scan));
	ck_assert(!MT_PRESENT(k.advisor_max_pages_to_scan));
	ck_assert_str_eq(k.advisor_mode, "");

	ck_assert_int_eq(ksmd_find_pid(&pid), 0);
	ck_assert_int_eq(pid, 41);
	ck_assert_int_eq(ksmd_read_cpu_ms(pid, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, ticks_to_ms(1500 + 250));
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

START_TEST(test_no_ksm)
{
	struct host_ksm k;
	int64_t pid = 5;

	k.present = true;
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), 0);
	ck_assert(!k.present);
	ck_assert(!MT_PRESENT(k.run));
	ck_assert(!MT_PRESENT(k.page_kib));
	ck_assert_str_eq(k.advisor_mode, "");
	ht_put(root, "/proc/1/comm", "init\n");
	ck_assert_int_eq(ksmd_find_pid(&pid), -ESRCH);
}
END_TEST

START_TEST(test_bad_files)
{
	struct host_ksm k;

	ht_put(root, "/sys/kernel/mm/ksm/run", "1\n");
	ht_put(root, "/sys/kernel/mm/ksm/general_profit", "-8192\n");
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), 0);
	ck_assert_int_eq(k.run, 1);
	/* the one counter that may be negative */
	ck_assert_int_eq(k.general_profit, -8192);
	ck_assert(!MT_PRESENT(k.pages_to_scan));

	ht_put(root, "/sys/kernel/mm/ksm/pages_to_scan", "lots\n");
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/kernel/mm/ksm/pages_to_scan: not an "
	    "integer");
	ck_assert(!MT_PRESENT(k.pages_to_scan));

	ht_put(root, "/sys/kernel/mm/ksm/pages_to_scan", "100\n");
	ht_put(root, "/sys/kernel/mm/ksm/pages_sharing", "-3\n");
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/kernel/mm/ksm/pages_sharing: negative");

	ht_put(root, "/sys/kernel/mm/ksm/pages_sharing", "3\n");
	ht_put(root, "/sys/kernel/mm/ksm/advisor_mode", "none scan-time\n");
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/sys/kernel/mm/ksm/advisor_mode: no single "
	    "[choice] in \"none scan-time\"");
	ck_assert_str_eq(k.advisor_mode, "");

	ht_put(root, "/sys/kernel/mm/ksm/advisor_mode", "none [scan-time]\n");
	ck_assert_int_eq(ksm_read(&k, err, sizeof(err)), 0);
	ck_assert_str_eq(k.advisor_mode, "scan-time");
	ck_assert_int_eq(k.pages_sharing, 3);
}
END_TEST

#define KSMD_STAT(pid, comm, flags, ut, st) \
	#pid " (" comm ") S 2 0 0 0 -1 " #flags " 0 0 0 0 " #ut " " #st \
	" 0 0 20 0 1 0 9 0 0 18446744073709551615 0 0 0 0 0 0 0 " \
	"2147483647 0 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

START_TEST(test_ksmd_tracker)
{
	struct ksmd_tracker t;
	int64_t pid, ms;

	ksmd_tracker_init(&t);
	/* a user process that renamed itself "ksmd" is not the thread */
	ht_put(root, "/proc/50/comm", "ksmd\n");
	ht_put(root, "/proc/50/stat", KSMD_STAT(50, "ksmd", 4194560, 9, 9));
	ck_assert_int_eq(ksmd_sample(&t, &pid, &ms, err, sizeof(err)),
	    -ESRCH);
	ck_assert(!MT_PRESENT(pid) && !MT_PRESENT(ms));

	ht_put(root, "/proc/100/comm", "ksmd\n");
	ht_put(root, "/proc/100/stat",
	    KSMD_STAT(100, "ksmd", 2097216, 300, 100));
	ck_assert_int_eq(ksmd_sample(&t, &pid, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(pid, 100);
	ck_assert_int_eq(ms, ticks_to_ms(400));
	ck_assert_int_eq(t.pid, 100);

	/* the cached pid is read again: its counters moved */
	ht_put(root, "/proc/100/stat",
	    KSMD_STAT(100, "ksmd", 2097216, 500, 100));
	ck_assert_int_eq(ksmd_sample(&t, &pid, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, ticks_to_ms(600));

	/* the pid now belongs to another process: ksmd is found again */
	ht_put(root, "/proc/100/stat", KSMD_STAT(100, "bash", 4194560, 1, 1));
	ht_put(root, "/proc/100/comm", "bash\n");
	ht_put(root, "/proc/7/comm", "ksmd\n");
	ht_put(root, "/proc/7/stat", KSMD_STAT(7, "ksmd", 2097216, 2, 3));
	ck_assert_int_eq(ksmd_sample(&t, &pid, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(pid, 7);
	ck_assert_int_eq(ms, ticks_to_ms(5));

	/* a malformed stat line is an error naming the file */
	ht_put(root, "/proc/7/stat", "7 (ksmd) S 2 0\n");
	ck_assert_int_eq(ksmd_sample(&t, &pid, &ms, err, sizeof(err)),
	    -EINVAL);
	ck_assert_str_eq(err, "/proc/7/stat: malformed stat line");
	ck_assert(!MT_PRESENT(pid));
}
END_TEST

START_TEST(test_stat_comm_with_parens)
{
	int64_t ms;

	/* comm ends at the last ')'; blanks and ')' inside do not shift the
	 * fields (a renamed process cannot fake the counters) */
	ht_put(root, "/proc/9/stat",
	    KSMD_STAT(9, "a) 1 2 3 (b", 2097216, 40, 2));
	ck_assert_int_eq(ksmd_read_cpu_ms(9, &ms, err, sizeof(err)), -ESRCH);
	ht_put(root, "/proc/9/stat", KSMD_STAT(9, "ksmd", 2097216, 40, 2));
	ck_assert_int_eq(ksmd_read_cpu_ms(9, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, ticks_to_ms(42));
	ck_assert_int_eq(ksmd_read_cpu_ms(10, &ms, err, sizeof(err)), -ESRCH);
}
END_TEST

START_TEST(test_live)
{
	struct host_ksm k;
	struct ksmd_tracker t;
	int64_t pid, ms;

	mt_set_root("");
	ck_assert_msg(ksm_read(&k, err, sizeof(err)) == 0, "%s", err);
	ck_assert(k.present);
	ck_assert(k.run >= 0 && k.run <= 2);
	ck_assert_int_gt(k.pages_to_scan, 0);
	ck_assert_int_ge(k.pages_shared, 0);
	ck_assert_int_ge(k.pages_sharing, 0);
	/* no cross-field check here: each counter is its own sysfs file,
	 * and a ksmd at work (a guest on the testbed, a host's own KSM)
	 * moves pages_shared and pages_sharing between the two reads */
	ck_assert(strcmp(k.advisor_mode, "none") == 0 ||
	    strcmp(k.advisor_mode, "scan-time") == 0);
	ksmd_tracker_init(&t);
	ck_assert_msg(ksmd_sample(&t, &pid, &ms, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_gt(pid, 2);
	ck_assert_int_ge(ms, 0);
}
END_TEST

/* What merging saves, from whichever counter the kernel has, in the
 * page size the snapshot says. */
static const struct saved_case {
	const char *what;
	bool present;
	int64_t general_profit, pages_sharing, page_kib, want_kib;
} saved_cases[] = {
	{ "no KSM", false, 1 << 20, 100, 4, MT_ABSENT },
	{ "general_profit, bytes", true, 1 << 20, 100, 4, 1024 },
	{ "general_profit wins", true, 8192, 100000, 64, 8 },
	{ "a loss", true, -8192, 100, 4, -8 },
	{ "pages_sharing, 4 KiB pages", true, MT_ABSENT, 100, 4, 400 },
	{ "pages_sharing, 64 KiB pages", true, MT_ABSENT, 100, 64, 6400 },
	{ "page size unknown: 4 KiB", true, MT_ABSENT, 100, MT_ABSENT, 400 },
	{ "page size 0: 4 KiB", true, MT_ABSENT, 100, 0, 400 },
	{ "nothing merged", true, MT_ABSENT, 0, 4, 0 },
	{ "neither counter", true, MT_ABSENT, MT_ABSENT, 4, MT_ABSENT },
};

START_TEST(test_saved_kib)
{
	const struct saved_case *c = &saved_cases[_i];
	struct host_snapshot h;

	host_snapshot_init(&h);
	h.ksm.present = c->present;
	h.ksm.general_profit = c->general_profit;
	h.ksm.pages_sharing = c->pages_sharing;
	h.ksm.page_kib = c->page_kib;
	ck_assert_msg(host_ksm_saved_kib(&h.ksm) == c->want_kib,
	    "%s: %lld KiB", c->what, (long long)host_ksm_saved_kib(&h.ksm));
}
END_TEST

Suite *
ksm_suite(void)
{
	Suite *s = suite_create("ksm");
	TCase *tc = tcase_create("fixtures");
	TCase *ts = tcase_create("scratch");

	tcase_add_test(tc, test_fixture_new);
	tcase_add_test(tc, test_fixture_old);
	tcase_add_test(tc, test_live);
	tcase_add_loop_test(tc, test_saved_kib, 0,
	    (int)ARRAY_SIZE(saved_cases));
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(ts, scratch_setup, scratch_teardown);
	tcase_add_test(ts, test_no_ksm);
	tcase_add_test(ts, test_bad_files);
	tcase_add_test(ts, test_ksmd_tracker);
	tcase_add_test(ts, test_stat_comm_with_parens);
	suite_add_tcase(s, ts);
	return s;
}
