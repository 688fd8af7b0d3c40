/* test_hostcollect.c - a whole host sample from both fixture trees, the
 * rates between samples, counter resets, failures, and the live host. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostcollect.h"
#include "log.h"
#include "util.h"
#include "host_fixture.h"

Suite *hostcollect_suite(void);

static char err[256];

/* What the collector logged, one line after another. */
static char logged[4096];
static int nlogged;

static void
capture(int pri, const char *line, void *arg)
{
	size_t n = strlen(logged);

	(void)pri;
	(void)arg;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
	nlogged++;
}

static void
log_setup(void)
{
	logged[0] = '\0';
	nlogged = 0;
	log_set_hook(capture, NULL);
}

static int64_t
ticks_to_ms(int64_t ticks)
{
	return ticks * 1000 / sysconf(_SC_CLK_TCK);
}

START_TEST(test_fixture_new)
{
	struct host_collector hc;
	struct host_snapshot s;

	log_setup();
	ht_use_fixture(HT_FIXTURE_NEW);
	host_collector_init(&hc);
	ck_assert_msg(host_collect(&hc, 5000, &s, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(s.time_ms, 5000);
	ck_assert_int_eq(s.mem.mem_total_kib, 24731700);
	ck_assert_int_eq(s.mem.mem_avail_kib, 24346492);
	ck_assert_int_eq(s.vm.pgmajfault, 720);
	ck_assert(s.psi.present);
	ck_assert(s.ksm.present);
	ck_assert_int_eq(s.ksm.pages_to_scan, 100);
	ck_assert_int_eq(s.ksm.smart_scan, 1);
	ck_assert_str_eq(s.ksm.advisor_mode, "none");
	ck_assert_int_eq(s.ksm.ksmd_pid, 37);
	ck_assert_int_eq(s.ksm.ksmd_cpu_ms, 0);
	ck_assert(s.thp.present);
	ck_assert_str_eq(s.thp.enabled, "madvise");
	ck_assert_int_eq(s.numa.nr_nodes, 1);
	ck_assert_int_eq(s.numa.node_free_kib[0], 3200584);
	/* the first sample has no rates */
	ck_assert(!MT_PRESENT(s.vm.pgmajfault_per_s));
	ck_assert(!MT_PRESENT(s.vm.refault_per_s));
	ck_assert(!MT_PRESENT(s.ksm.ksmd_cpu_pmil));

	/* the same tree again: every counter stood still */
	ck_assert_int_eq(host_collect(&hc, 7000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.vm.pgmajfault_per_s, 0);
	ck_assert_int_eq(s.vm.refault_per_s, 0);
	ck_assert_int_eq(s.vm.pswpin_per_s, 0);
	ck_assert_int_eq(s.vm.thp_split_per_s, 0);
	ck_assert_int_eq(s.vm.compact_stall_per_s, 0);
	ck_assert_int_eq(s.ksm.ksmd_cpu_pmil, 0);
	ck_assert_msg(nlogged == 0, "logged: %s", logged);
}
END_TEST

START_TEST(test_fixture_old)
{
	struct host_collector hc;
	struct host_snapshot s;

	log_setup();
	ht_use_fixture(HT_FIXTURE_OLD);
	host_collector_init(&hc);
	ck_assert_msg(host_collect(&hc, 1000, &s, err, sizeof(err)) == 0,
	    "%s", err);
	/* no PSI on this kernel: absent, and nothing to complain about */
	ck_assert(!s.psi.present);
	ck_assert(!MT_PRESENT(s.psi.some.avg10_pmy));
	ck_assert(s.ksm.present);
	ck_assert(!MT_PRESENT(s.ksm.general_profit));
	ck_assert_int_eq(s.ksm.pages_sharing, 26800);
	ck_assert_int_eq(s.ksm.ksmd_pid, 41);
	ck_assert_int_eq(s.ksm.ksmd_cpu_ms, ticks_to_ms(1750));
	ck_assert(!MT_PRESENT(s.vm.workingset_refault_anon));
	ck_assert_int_eq(s.vm.workingset_refault_file, 4321);
	ck_assert_str_eq(s.thp.enabled, "never");
	ck_assert_int_eq(host_collect(&hc, 2000, &s, err, sizeof(err)), 0);
	/* the file-only refault counter still gives a refault rate */
	ck_assert_int_eq(s.vm.refault_per_s, 0);
	ck_assert_msg(nlogged == 0, "logged: %s", logged);
}
END_TEST

static char root[64];

static void
scratch_setup(void)
{
	log_setup();
	ht_mkroot(root, sizeof(root));
	mt_set_root(root);
}

static void
scratch_teardown(void)
{
	log_set_hook(NULL, NULL);
	ht_rmtree(root);
	mt_set_root("");
}

static void
put_meminfo(int64_t avail)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "MemTotal: 4000000 kB\n"
	    "MemFree: 1000000 kB\nMemAvailable: %lld kB\n", (long long)avail);
	ht_put(root, "/proc/meminfo", buf);
}

static void
put_vmstat(int64_t majflt, int64_t ra, int64_t rf, int64_t split,
    int64_t stall)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "nr_free_pages 1\n"
	    "workingset_refault_anon %lld\nworkingset_refault_file %lld\n"
	    "pswpin 0\npswpout 0\npgmajfault %lld\ncompact_stall %lld\n"
	    "thp_split_page %lld\n", (long long)ra, (long long)rf,
	    (long long)majflt, (long long)stall, (long long)split);
	ht_put(root, "/proc/vmstat", buf);
}

static void
put_ksmd(int pid, int64_t utime, int64_t stime)
{
	char rel[64], buf[512];

	snprintf(rel, sizeof(rel), "/proc/%d/comm", pid);
	ht_put(root, rel, "ksmd\n");
	snprintf(rel, sizeof(rel), "/proc/%d/stat", pid);
	snprintf(buf, sizeof(buf), "%d (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 "
	    "%lld %lld 0 0 25 5 1 0 9 0 0\n", pid, (long long)utime,
	    (long long)stime);
	ht_put(root, rel, buf);
	ht_put(root, "/sys/kernel/mm/ksm/run", "1\n");
}

START_TEST(test_rates)
{
	struct host_collector hc;
	struct host_snapshot s;

	host_collector_init(&hc);
	put_meminfo(2000000);
	put_vmstat(1000, 50, 70, 3, 9);
	put_ksmd(30, 100, 20);
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.ksm.ksmd_cpu_ms, ticks_to_ms(120));

	put_vmstat(1500, 150, 370, 13, 11);
	put_ksmd(30, 180, 40);		/* +100 ticks */
	ck_assert_int_eq(host_collect(&hc, 12000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.vm.pgmajfault_per_s, 250);
	ck_assert_int_eq(s.vm.refault_per_s, (100 + 300) / 2);
	ck_assert_int_eq(s.vm.thp_split_per_s, 5);
	ck_assert_int_eq(s.vm.compact_stall_per_s, 1);
	ck_assert_int_eq(s.vm.pswpin_per_s, 0);
	/* ms of CPU per second of wall time = per-mille of a core */
	ck_assert_int_eq(s.ksm.ksmd_cpu_pmil, ticks_to_ms(100) * 1000 / 2000);
	ck_assert_msg(nlogged == 0, "logged: %s", logged);
}
END_TEST

START_TEST(test_counter_reset)
{
	struct host_collector hc;
	struct host_snapshot s;

	host_collector_init(&hc);
	put_meminfo(2000000);
	put_vmstat(1000, 50, 70, 3, 9);
	put_ksmd(30, 100, 20);
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);

	put_vmstat(400, 60, 20, 5, 9);	/* majflt and refault_file went back */
	put_ksmd(30, 90, 20);		/* so did ksmd's CPU time */
	ck_assert_int_eq(host_collect(&hc, 11000, &s, err, sizeof(err)), 0);
	ck_assert(!MT_PRESENT(s.vm.pgmajfault_per_s));
	/* one part of the refault sum is unknown: the sum is unknown */
	ck_assert(!MT_PRESENT(s.vm.refault_per_s));
	ck_assert_int_eq(s.vm.thp_split_per_s, 2);
	ck_assert(!MT_PRESENT(s.ksm.ksmd_cpu_pmil));
	ck_assert_ptr_nonnull(strstr(logged, "host: vmstat pgmajfault went "
	    "backwards (1000 -> 400): counter reset, no rate this sample\n"));
	ck_assert_ptr_nonnull(strstr(logged, "host: vmstat "
	    "workingset_refault_file went backwards (70 -> 20)"));
	ck_assert_ptr_nonnull(strstr(logged, "host: ksmd cpu time went "
	    "backwards"));
	ck_assert_int_eq(nlogged, 3);

	/* the next sample measures from the reset values */
	put_vmstat(600, 60, 20, 5, 9);
	ck_assert_int_eq(host_collect(&hc, 12000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.vm.pgmajfault_per_s, 200);
	ck_assert_int_eq(s.vm.refault_per_s, 0);
}
END_TEST

START_TEST(test_ksmd_restart)
{
	struct host_collector hc;
	struct host_snapshot s;
	char p[PATH_MAX];

	host_collector_init(&hc);
	put_meminfo(2000000);
	put_vmstat(1, 1, 1, 1, 1);
	put_ksmd(30, 100, 20);
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.ksm.ksmd_pid, 30);

	snprintf(p, sizeof(p), "%s/proc/30/stat", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/proc/30/comm", root);
	unlink(p);
	put_ksmd(31, 500, 0);
	ck_assert_int_eq(host_collect(&hc, 11000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.ksm.ksmd_pid, 31);
	ck_assert_int_eq(s.ksm.ksmd_cpu_ms, ticks_to_ms(500));
	ck_assert(!MT_PRESENT(s.ksm.ksmd_cpu_pmil));
	ck_assert_ptr_nonnull(strstr(logged, "host: ksmd pid changed (30 -> "
	    "31): no CPU rate this sample"));
}
END_TEST

START_TEST(test_meminfo_fails_sample)
{
	struct host_collector hc;
	struct host_snapshot s;

	host_collector_init(&hc);
	put_meminfo(2000000);
	put_vmstat(1000, 0, 0, 0, 0);
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);
	/* only meminfo and vmstat: the rest is absent, without complaint */
	ck_assert(!s.psi.present);
	ck_assert(!s.ksm.present);
	ck_assert(!MT_PRESENT(s.ksm.ksmd_pid));
	ck_assert(!s.thp.present);
	ck_assert_int_eq(s.numa.nr_nodes, 0);
	ck_assert_msg(nlogged == 0, "logged: %s", logged);

	put_meminfo(4000001);
	put_vmstat(2000, 0, 0, 0, 0);
	ck_assert_int_eq(host_collect(&hc, 11000, &s, err, sizeof(err)),
	    -EINVAL);
	ck_assert_str_eq(err, "/proc/meminfo: MemAvailable: 4000001 kB "
	    "exceeds MemTotal 4000000 kB");

	/* the rate spans the skipped sample */
	put_meminfo(2000000);
	put_vmstat(3000, 0, 0, 0, 0);
	ck_assert_int_eq(host_collect(&hc, 12000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.vm.pgmajfault_per_s, 1000);
}
END_TEST

START_TEST(test_other_failures_logged)
{
	struct host_collector hc;
	struct host_snapshot s;

	host_collector_init(&hc);
	put_meminfo(2000000);
	ht_put(root, "/proc/vmstat", "pgmajfault 1\npgmajfault 2\n");
	ht_put(root, "/proc/pressure/memory", "some avg10=1.00\n");
	ht_put(root, "/sys/kernel/mm/ksm/run", "yes\n");
	ht_put(root, "/sys/kernel/mm/transparent_hugepage/enabled", "never\n");
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(s.mem.mem_avail_kib, 2000000);
	ck_assert(!MT_PRESENT(s.vm.pgmajfault));
	ck_assert(!s.psi.present);
	ck_assert(!MT_PRESENT(s.ksm.run));
	ck_assert_str_eq(s.thp.enabled, "");
	ck_assert_str_eq(logged,
	    "host: /proc/vmstat: pgmajfault: duplicated (line 2)\n"
	    "host: /proc/pressure/memory: some: expected a blank after "
	    "avg10\n"
	    "host: /sys/kernel/mm/ksm/run: not an integer\n"
	    "host: /sys/kernel/mm/transparent_hugepage/enabled: no single "
	    "[choice] in \"never\"\n");
}
END_TEST

START_TEST(test_time_must_advance)
{
	struct host_collector hc;
	struct host_snapshot s;

	host_collector_init(&hc);
	put_meminfo(2000000);
	put_vmstat(1000, 0, 0, 0, 0);
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);
	put_vmstat(2000, 0, 0, 0, 0);
	ck_assert_int_eq(host_collect(&hc, 10000, &s, err, sizeof(err)), 0);
	ck_assert(!MT_PRESENT(s.vm.pgmajfault_per_s));
	ck_assert_ptr_nonnull(strstr(logged, "host: sample time did not "
	    "advance (10000 -> 10000 ms): no rates"));
}
END_TEST

START_TEST(test_live)
{
	struct host_collector hc;
	struct host_snapshot s;
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	mt_set_root("");
	log_setup();
	host_collector_init(&hc);
	ck_assert_msg(host_collect(&hc, mt_now_ms(), &s, err,
	    sizeof(err)) == 0, "%s", err);
	nanosleep(&ts, NULL);
	ck_assert_msg(host_collect(&hc, mt_now_ms(), &s, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_le(s.mem.mem_avail_kib, s.mem.mem_total_kib);
	ck_assert(s.psi.present && s.ksm.present && s.thp.present);
	ck_assert_int_ge(s.numa.nr_nodes, 1);
	ck_assert_int_gt(s.ksm.ksmd_pid, 0);
	ck_assert_int_ge(s.vm.pgmajfault_per_s, 0);
	ck_assert_int_ge(s.vm.refault_per_s, 0);
	/* ksmd cannot use more than every core */
	ck_assert(s.ksm.ksmd_cpu_pmil >= 0 &&
	    s.ksm.ksmd_cpu_pmil <= 1000 * sysconf(_SC_NPROCESSORS_ONLN) + 100);
	ck_assert_msg(nlogged == 0, "logged: %s", logged);
}
END_TEST

Suite *
hostcollect_suite(void)
{
	Suite *s = suite_create("hostcollect");
	TCase *tc = tcase_create("fixtures");
	TCase *ts = tcase_create("scratch");

	tcase_add_test(tc, test_fixture_new);
	tcase_add_test(tc, test_fixture_old);
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, scratch_setup, scratch_teardown);
	tcase_add_test(ts, test_rates);
	tcase_add_test(ts, test_counter_reset);
	tcase_add_test(ts, test_ksmd_restart);
	tcase_add_test(ts, test_meminfo_fails_sample);
	tcase_add_test(ts, test_other_failures_logged);
	tcase_add_test(ts, test_time_must_advance);
	suite_add_tcase(s, ts);
	return s;
}
