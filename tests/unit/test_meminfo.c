/* test_meminfo.c - /proc/meminfo parsing: fixtures, every validation
 * error with its exact message, the buffer limit, and the live file. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "meminfo.h"
#include "util.h"
#include "host_fixture.h"

Suite *meminfo_suite(void);

#define HEAD "MemTotal:       1000 kB\nMemFree:         200 kB\n" \
	"MemAvailable:    500 kB\n"

static char err[256];

static int
parse(const char *text, struct host_meminfo *m)
{
	err[0] = '\0';
	return meminfo_parse(text, m, err, sizeof(err));
}

/* Parse the kernel's text independently: the value on the line that
 * starts with `name:`, or MT_ABSENT. */
static int64_t
text_value(const char *buf, const char *name)
{
	char key[64];
	const char *p = buf;
	long long v;

	snprintf(key, sizeof(key), "%s:", name);
	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, strlen(key)) == 0 &&
		    sscanf(p + strlen(key), "%lld", &v) == 1)
			return v;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return MT_ABSENT;
}

static void
check_against_text(const char *file, const struct host_meminfo *m)
{
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
#define F(n, m) { n, offsetof(struct host_meminfo, m) }
		F("MemTotal", mem_total_kib), F("MemFree", mem_free_kib),
		F("MemAvailable", mem_avail_kib), F("Buffers", buffers_kib),
		F("Cached", cached_kib), F("SwapTotal", swap_total_kib),
		F("SwapFree", swap_free_kib), F("AnonPages", anon_pages_kib),
		F("AnonHugePages", anon_huge_kib), F("Shmem", shmem_kib),
		F("Committed_AS", committed_as_kib),
		F("HugePages_Total", hugepages_total),
		F("HugePages_Free", hugepages_free),
		F("HugePages_Rsvd", hugepages_rsvd),
		F("HugePages_Surp", hugepages_surp),
		F("Hugepagesize", hugepage_size_kib),
#undef F
	};
	char text[MEMINFO_BUF_SIZE];

	ht_slurp(file, text, sizeof(text));
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		int64_t got = *(const int64_t *)(const void *)
		    ((const char *)m + f[i].off);

		ck_assert_msg(got == text_value(text, f[i].name),
		    "%s: %s parsed %lld", file, f[i].name, (long long)got);
	}
}

START_TEST(test_fixture_new)
{
	struct host_meminfo m;

	ht_use_fixture(HT_FIXTURE_NEW);
	ck_assert_int_eq(meminfo_read(&m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.mem_total_kib, 24731700);
	ck_assert_int_eq(m.mem_free_kib, 22596288);
	ck_assert_int_eq(m.mem_avail_kib, 24346492);
	ck_assert_int_eq(m.cached_kib, 1879644);
	ck_assert_int_eq(m.committed_as_kib, 61060);
	ck_assert_int_eq(m.swap_total_kib, 0);
	ck_assert_int_eq(m.hugepage_size_kib, 2048);
	ck_assert_int_eq(m.hugepages_total, 0);
	check_against_text(HT_FIXTURE_NEW "/proc/meminfo", &m);
}
END_TEST

START_TEST(test_fixture_old)
{
	struct host_meminfo m;

	ht_use_fixture(HT_FIXTURE_OLD);
	ck_assert_int_eq(meminfo_read(&m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.mem_total_kib, 24731700);
	ck_assert_int_eq(m.anon_pages_kib, 13432);
	check_against_text(HT_FIXTURE_OLD "/proc/meminfo", &m);
}
END_TEST

START_TEST(test_optional_absent)
{
	struct host_meminfo m;

	ck_assert_int_eq(parse(HEAD, &m), 0);
	ck_assert_int_eq(m.mem_total_kib, 1000);
	ck_assert_int_eq(m.mem_free_kib, 200);
	ck_assert_int_eq(m.mem_avail_kib, 500);
	ck_assert(!MT_PRESENT(m.buffers_kib));
	ck_assert(!MT_PRESENT(m.swap_total_kib));
	ck_assert(!MT_PRESENT(m.hugepages_total));
	ck_assert(!MT_PRESENT(m.hugepage_size_kib));
	/* fields memtuned does not use are skipped, whatever they hold */
	ck_assert_int_eq(parse(HEAD "DirectMap1G:  1 kB\nFuture:  x y z\n",
	    &m), 0);
}
END_TEST

static const struct bad_case {
	const char *text;
	const char *msg;
} bad[] = {
	{ "", "/proc/meminfo: MemTotal: missing" },
	{ "hello world\n", "/proc/meminfo: line 1: not \"Name: value\"" },
	{ "\n", "/proc/meminfo: line 1: not \"Name: value\"" },
	{ ": 12 kB\n", "/proc/meminfo: line 1: not \"Name: value\"" },
	/* cut in the middle of a line */
	{ "MemTotal:       1000 kB\nMemFree:   2",
	  "/proc/meminfo: MemFree: line 2 has no newline (cut read)" },
	/* cut at a line boundary */
	{ "MemTotal:       1000 kB\nMemFree:         200 kB\n",
	  "/proc/meminfo: MemAvailable: missing" },
	{ HEAD "MemFree:  100 kB\n",
	  "/proc/meminfo: MemFree: duplicated (line 4)" },
	{ "MemTotal:  1000 MB\n", "/proc/meminfo: MemTotal: unit is not \"kB\"" },
	{ "MemTotal:  1000\n", "/proc/meminfo: MemTotal: unit is not \"kB\"" },
	{ "MemTotal:  1000 kB extra\n",
	  "/proc/meminfo: MemTotal: unit is not \"kB\"" },
	{ "MemTotal:  lots kB\n",
	  "/proc/meminfo: MemTotal: value is not a number" },
	{ "MemTotal:  -5 kB\n",
	  "/proc/meminfo: MemTotal: value is not a number" },
	{ "MemTotal:  99999999999999999999 kB\n",
	  "/proc/meminfo: MemTotal: value out of range" },
	{ HEAD "HugePages_Total:   4 kB\n",
	  "/proc/meminfo: HugePages_Total: trailing text after the count" },
	{ "MemTotal: 0 kB\nMemFree: 0 kB\nMemAvailable: 0 kB\n",
	  "/proc/meminfo: MemTotal: is 0" },
	{ "MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 1001 kB\n",
	  "/proc/meminfo: MemAvailable: 1001 kB exceeds MemTotal 1000 kB" },
	{ "MemTotal: 1000 kB\nMemFree: 2000 kB\nMemAvailable: 100 kB\n",
	  "/proc/meminfo: MemFree: 2000 kB exceeds MemTotal 1000 kB" },
	{ HEAD "SwapTotal: 10 kB\nSwapFree: 11 kB\n",
	  "/proc/meminfo: SwapFree: 11 kB exceeds SwapTotal 10 kB" },
	{ HEAD "SwapFree: 11 kB\n",
	  "/proc/meminfo: SwapFree: present without SwapTotal" },
	{ HEAD "HugePages_Total: 2\nHugePages_Free: 3\n",
	  "/proc/meminfo: HugePages_Free: 3 exceeds HugePages_Total 2" },
};

START_TEST(test_bad_input)
{
	struct host_meminfo m, before;

	memset(&m, 0x5a, sizeof(m));
	before = m;
	ck_assert_msg(parse(bad[_i].text, &m) == -EINVAL, "case %d", _i);
	ck_assert_str_eq(err, bad[_i].msg);
	/* a failed parse leaves the output alone */
	ck_assert(memcmp(&m, &before, sizeof(m)) == 0);
}
END_TEST

START_TEST(test_read_errors)
{
	char root[64];
	struct host_meminfo m;

	ht_mkroot(root, sizeof(root));
	mt_set_root(root);
	ck_assert_int_eq(meminfo_read(&m, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/proc/meminfo: No such file or directory");

	/* well-formed lines, but more than the fixed buffer holds */
	ht_put_big(root, "/proc/meminfo", "Unused:   1 kB\n",
	    MEMINFO_BUF_SIZE);
	ck_assert_int_eq(meminfo_read(&m, err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err, "/proc/meminfo: larger than 8192 bytes");

	ht_put(root, "/proc/meminfo", HEAD "MemAvailable: 1 kB\n");
	ck_assert_int_eq(meminfo_read(&m, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/proc/meminfo: MemAvailable: duplicated "
	    "(line 4)");
	ht_rmtree(root);
}
END_TEST

START_TEST(test_live)
{
	struct host_meminfo m;

	mt_set_root("");
	ck_assert_msg(meminfo_read(&m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_gt(m.mem_total_kib, 64 * 1024);
	ck_assert_int_le(m.mem_avail_kib, m.mem_total_kib);
	ck_assert_int_le(m.mem_free_kib, m.mem_total_kib);
	ck_assert(MT_PRESENT(m.buffers_kib) && MT_PRESENT(m.cached_kib));
	ck_assert_int_le(m.buffers_kib + m.cached_kib, m.mem_total_kib);
	ck_assert(MT_PRESENT(m.swap_total_kib));
	ck_assert_int_le(m.swap_free_kib, m.swap_total_kib);
	ck_assert(MT_PRESENT(m.committed_as_kib));
	ck_assert_int_gt(m.hugepage_size_kib, 0);
}
END_TEST

Suite *
meminfo_suite(void)
{
	Suite *s = suite_create("meminfo");
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
