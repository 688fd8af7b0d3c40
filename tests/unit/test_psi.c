/* test_psi.c - pressure file parsing (system and cgroup v2 format) and
 * PSI triggers: the 2 s fallback through an injected write, and a real
 * trigger on /proc/pressure/memory. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "psi.h"
#include "util.h"
#include "host_fixture.h"

Suite *psi_suite(void);

static char err[256];

START_TEST(test_fixture_new)
{
	struct host_psi p;

	ht_use_fixture(HT_FIXTURE_NEW);
	memset(&p, 0x5a, sizeof(p));
	ck_assert_int_eq(psi_read(&p, err, sizeof(err)), 0);
	ck_assert(p.present);
	ck_assert_int_eq(p.some.avg10_pmy, 0);
	ck_assert_int_eq(p.some.avg300_pmy, 0);
	ck_assert_int_eq(p.some.total_us, 0);
	ck_assert_int_eq(p.full.avg60_pmy, 0);
	ck_assert_int_eq(p.full.total_us, 0);
}
END_TEST

START_TEST(test_fixture_old_absent)
{
	struct host_psi p;

	ht_use_fixture(HT_FIXTURE_OLD);
	p.present = true;
	ck_assert_int_eq(psi_read(&p, err, sizeof(err)), 0);
	ck_assert(!p.present);
}
END_TEST

START_TEST(test_parse_values)
{
	struct host_psi p;

	ck_assert_int_eq(psi_parse(
	    "some avg10=1.23 avg60=45.60 avg300=100.00 total=123456789\n"
	    "full avg10=0.05 avg60=9.99 avg300=0.00 total=1234\n",
	    &p, err, sizeof(err)), 0);
	ck_assert(p.present);
	ck_assert_int_eq(p.some.avg10_pmy, 123);
	ck_assert_int_eq(p.some.avg60_pmy, 4560);
	ck_assert_int_eq(p.some.avg300_pmy, 10000);
	ck_assert_int_eq(p.some.total_us, 123456789);
	ck_assert_int_eq(p.full.avg10_pmy, 5);
	ck_assert_int_eq(p.full.avg60_pmy, 999);
	ck_assert_int_eq(p.full.avg300_pmy, 0);
	ck_assert_int_eq(p.full.total_us, 1234);
	/* the order of the lines does not matter */
	ck_assert_int_eq(psi_parse(
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
	    "some avg10=0.00 avg60=0.00 avg300=0.00 total=2\n",
	    &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.full.total_us, 1);
	ck_assert_int_eq(p.some.total_us, 2);
}
END_TEST

#define OK_SOME "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\n"
#define OK_FULL "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"

static const struct bad_case {
	const char *text;
	const char *msg;
} bad[] = {
	{ "", "memory.pressure: some: missing" },
	{ OK_SOME, "memory.pressure: full: missing" },
	{ OK_FULL, "memory.pressure: some: missing" },
	{ "total garbage\n",
	  "memory.pressure: line 1: neither \"some\" nor \"full\"" },
	{ OK_SOME OK_SOME, "memory.pressure: some: duplicated (line 2)" },
	{ "some avg60=0.00 avg10=0.00 avg300=0.00 total=1\n",
	  "memory.pressure: some: expected \"avg10=\"" },
	{ "some avg10=1.2 avg60=0.00 avg300=0.00 total=1\n",
	  "memory.pressure: some avg10: not a number of the form N.NN" },
	{ "some avg10=1.234 avg60=0.00 avg300=0.00 total=1\n",
	  "memory.pressure: some avg10: not a number of the form N.NN" },
	{ "some avg10=-1.00 avg60=0.00 avg300=0.00 total=1\n",
	  "memory.pressure: some avg10: not a number of the form N.NN" },
	{ "some avg10=0.00 avg60=100.01 avg300=0.00 total=1\n",
	  "memory.pressure: some avg60: above 100.00" },
	{ "some avg10=0.00 avg60=0.00 avg300=250.00 total=1\n",
	  "memory.pressure: some avg300: above 100.00" },
	{ "some avg10=0.00  avg60=0.00 avg300=0.00 total=1\n",
	  "memory.pressure: some: expected \"avg60=\"" },
	{ "some avg10=0.00 avg60=0.00 avg300=0.00\n",
	  "memory.pressure: some: expected a blank after avg300" },
	{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=x\n",
	  "memory.pressure: some total: value is not a number" },
	{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999\n",
	  "memory.pressure: some total: value out of range" },
	{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=1 x\n",
	  "memory.pressure: some: trailing text after total" },
	{ OK_SOME "full avg10=0.00 avg60=0.00 avg300=0.00 total=5",
	  "memory.pressure: full: line has no newline (cut read)" },
	{ OK_SOME "full avg10=0.00 avg60=0.0",
	  "memory.pressure: full avg60: not a number of the form N.NN" },
	{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=4\n" OK_FULL,
	  "memory.pressure: full total: 5 us exceeds some total 4 us" },
};

START_TEST(test_bad_input)
{
	struct host_psi p, before;

	memset(&p, 0x5a, sizeof(p));
	before = p;
	ck_assert_msg(psi_parse(bad[_i].text, &p, err, sizeof(err)) ==
	    -EINVAL, "case %d", _i);
	ck_assert_str_eq(err, bad[_i].msg);
	ck_assert(memcmp(&p, &before, sizeof(p)) == 0);
}
END_TEST

START_TEST(test_read_errors)
{
	char root[64];
	struct host_psi p;

	ht_mkroot(root, sizeof(root));
	mt_set_root(root);
	ht_put(root, "/proc/pressure/memory", OK_SOME);
	ck_assert_int_eq(psi_read(&p, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/proc/pressure/memory: full: missing");
	ck_assert(!p.present);
	ht_put_big(root, "/proc/pressure/memory", OK_SOME, PSI_BUF_SIZE);
	ck_assert_int_eq(psi_read(&p, err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err, "/proc/pressure/memory: larger than 512 bytes");
	ht_rmtree(root);
}
END_TEST

/* A stand-in for the kernel's trigger parser: records each write and
 * refuses what the configured rule says. */
static struct {
	int calls;
	char cmd[4][64];
	size_t len[4];
	enum { ACCEPT_ALL, ONLY_2S, REFUSE_ALL, SHORT_WRITE } rule;
} fake;

static ssize_t
fake_write(int fd, const void *buf, size_t len)
{
	long long t, w;
	int i = fake.calls++;

	(void)fd;
	ck_assert_int_lt(i, 4);
	ck_assert_uint_lt(len, sizeof(fake.cmd[0]));
	memcpy(fake.cmd[i], buf, len);
	fake.len[i] = len;
	ck_assert_int_eq(sscanf(buf, "some %lld %lld", &t, &w), 2);
	switch (fake.rule) {
	case ACCEPT_ALL:
		return (ssize_t)len;
	case ONLY_2S:
		if (w % 2000000 == 0)
			return (ssize_t)len;
		break;
	case REFUSE_ALL:
		break;
	case SHORT_WRITE:
		return (ssize_t)len - 1;
	}
	errno = EINVAL;
	return -1;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static char trig_root[64];

static void
trig_setup(void)
{
	memset(&fake, 0, sizeof(fake));
	ht_mkroot(trig_root, sizeof(trig_root));
	/* a regular file opens like the pressure file but takes any write:
	 * the injected write plays the kernel */
	ht_put(trig_root, "/proc/pressure/memory", OK_SOME OK_FULL);
	mt_set_root(trig_root);
}

static void
trig_teardown(void)
{
	ht_rmtree(trig_root);
	mt_set_root("");
}

START_TEST(test_trigger_fallback)
{
	int fd = -1;
	int64_t used = 0;

	fake.rule = ONLY_2S;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    150000, 1000000, &fd, &used), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(used, 2000000);
	ck_assert_int_eq(fake.calls, 2);
	/* the string goes with its terminating NUL */
	ck_assert_str_eq(fake.cmd[0], "some 150000 1000000");
	ck_assert_uint_eq(fake.len[0], strlen("some 150000 1000000") + 1);
	ck_assert_str_eq(fake.cmd[1], "some 150000 2000000");
	ck_assert_uint_eq(fake.len[1], strlen("some 150000 2000000") + 1);
	close(fd);

	/* 2.5 s rounds up to 4 s */
	memset(&fake, 0, sizeof(fake));
	fake.rule = ONLY_2S;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    100000, 2500000, &fd, &used), 0);
	ck_assert_int_eq(used, 4000000);
	ck_assert_str_eq(fake.cmd[1], "some 100000 4000000");
	close(fd);

	/* 9.5 s rounds up to the 10 s maximum */
	memset(&fake, 0, sizeof(fake));
	fake.rule = ONLY_2S;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    100000, 9500000, &fd, &used), 0);
	ck_assert_int_eq(used, 10000000);
	close(fd);
}
END_TEST

START_TEST(test_trigger_no_fallback_needed)
{
	int fd = -1;
	int64_t used = 0;

	/* a privileged writer gets the window it asked for */
	fake.rule = ACCEPT_ALL;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    150000, 500000, &fd, &used), 0);
	ck_assert_int_eq(used, 500000);
	ck_assert_int_eq(fake.calls, 1);
	close(fd);
}
END_TEST

START_TEST(test_trigger_refused)
{
	int fd = -1, before = count_fds();
	int64_t used = 0;

	/* refused after the fallback too: the error, and no fd left open */
	fake.rule = REFUSE_ALL;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    150000, 1000000, &fd, &used), -EINVAL);
	ck_assert_int_eq(fake.calls, 2);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(count_fds(), before);

	/* a 2 s window refused is not retried */
	memset(&fake, 0, sizeof(fake));
	fake.rule = REFUSE_ALL;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    150000, 2000000, &fd, &used), -EINVAL);
	ck_assert_int_eq(fake.calls, 1);

	/* rounding 10 s would pass the maximum: no retry */
	memset(&fake, 0, sizeof(fake));
	fake.rule = REFUSE_ALL;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    150000, 10000000, &fd, &used), -EINVAL);
	ck_assert_int_eq(fake.calls, 1);

	memset(&fake, 0, sizeof(fake));
	fake.rule = SHORT_WRITE;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    150000, 2000000, &fd, &used), -EIO);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_trigger_bad_args)
{
	int fd = -1;
	int64_t used = 0;

	fake.rule = ACCEPT_ALL;
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    100000, 400000, &fd, &used), -EINVAL);
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    100000, 12000000, &fd, &used), -EINVAL);
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    0, 2000000, &fd, &used), -EINVAL);
	ck_assert_int_eq(psi_trigger_open_with(fake_write, PSI_MEMORY_PATH,
	    3000000, 2000000, &fd, &used), -EINVAL);
	ck_assert_int_eq(fake.calls, 0);
	ck_assert_int_eq(psi_trigger_open_with(fake_write,
	    "/proc/pressure/none", 100000, 2000000, &fd, &used), -ENOENT);
	ck_assert_int_eq(fd, -1);
}
END_TEST

/* Does this process hold CAP_SYS_RESOURCE (bit 24 of CapEff)? */
static int
have_cap_sys_resource(void)
{
	char buf[4096], *p;
	unsigned long long eff;

	ht_slurp("/proc/self/status", buf, sizeof(buf));
	p = strstr(buf, "CapEff:");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "CapEff: %llx", &eff), 1);
	return (eff >> 24) & 1;
}

START_TEST(test_trigger_live)
{
	struct pollfd pfd;
	int fd = -1;
	int64_t used = 0;

	mt_set_root("");
	ck_assert_msg(access("/proc/pressure/memory", R_OK) == 0,
	    "this machine has PSI (TESTBED.md)");
	ck_assert_int_eq(psi_trigger_open(PSI_MEMORY_PATH, 150000, 1000000,
	    &fd, &used), 0);
	/* privileged: the 1 s window; otherwise the 2 s fallback */
	ck_assert_int_eq(used, have_cap_sys_resource() ? 1000000 : 2000000);
	pfd.fd = fd;
	pfd.events = POLLPRI;
	ck_assert_int_ge(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(pfd.revents & (POLLERR | POLLNVAL), 0);
	close(fd);

	ck_assert_int_eq(psi_trigger_open(PSI_MEMORY_PATH, 150000, 2000000,
	    &fd, &used), 0);
	ck_assert_int_eq(used, 2000000);
	close(fd);
}
END_TEST

START_TEST(test_live)
{
	struct host_psi p;

	mt_set_root("");
	ck_assert_msg(psi_read(&p, err, sizeof(err)) == 0, "%s", err);
	ck_assert(p.present);
	ck_assert_int_le(p.some.avg10_pmy, 10000);
	ck_assert_int_le(p.full.avg10_pmy, p.some.avg10_pmy);
	ck_assert_int_le(p.full.total_us, p.some.total_us);
}
END_TEST

Suite *
psi_suite(void)
{
	Suite *s = suite_create("psi");
	TCase *tc = tcase_create("parse");
	TCase *tt = tcase_create("trigger");

	tcase_add_test(tc, test_fixture_new);
	tcase_add_test(tc, test_fixture_old_absent);
	tcase_add_test(tc, test_parse_values);
	tcase_add_loop_test(tc, test_bad_input, 0, (int)ARRAY_SIZE(bad));
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tt, trig_setup, trig_teardown);
	tcase_add_test(tt, test_trigger_fallback);
	tcase_add_test(tt, test_trigger_no_fallback_needed);
	tcase_add_test(tt, test_trigger_refused);
	tcase_add_test(tt, test_trigger_bad_args);
	tcase_add_test(tt, test_trigger_live);
	suite_add_tcase(s, tt);
	return s;
}
