/* test_util.c - size, percent, duration and integer parsing; root-prefixed
 * file reads. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

Suite *util_suite(void);

START_TEST(test_parse_int64)
{
	int64_t v;

	ck_assert_int_eq(mt_parse_int64(" 42\n", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(mt_parse_int64("-7", &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(mt_parse_int64("", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_int64("12x", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_int64("99999999999999999999", &v), -ERANGE);
}
END_TEST

START_TEST(test_parse_size)
{
	int64_t v;

	ck_assert_int_eq(mt_parse_size_kib("512", &v), 0);
	ck_assert_int_eq(v, 512);
	ck_assert_int_eq(mt_parse_size_kib("300M", &v), 0);
	ck_assert_int_eq(v, 300 * 1024);
	ck_assert_int_eq(mt_parse_size_kib("1.5GiB", &v), 0);
	ck_assert_int_eq(v, 1536 * 1024);
	ck_assert_int_eq(mt_parse_size_kib("2g", &v), 0);
	ck_assert_int_eq(v, 2 * 1024 * 1024);
	ck_assert_int_eq(mt_parse_size_kib("-1M", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_size_kib("12Q", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_size_kib("M", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_size_kib("1M extra", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_size_kib("99999999999999999T", &v), -ERANGE);
}
END_TEST

START_TEST(test_parse_percent_duration_bool)
{
	int64_t v;
	bool b;

	ck_assert_int_eq(mt_parse_percent_pmy("12.5%", &v), 0);
	ck_assert_int_eq(v, 1250);
	ck_assert_int_eq(mt_parse_percent_pmy("100%", &v), 0);
	ck_assert_int_eq(v, 10000);
	ck_assert_int_eq(mt_parse_percent_pmy("0.5", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_percent_pmy("101%", &v), -ERANGE);
	ck_assert_int_eq(mt_parse_duration_ms("500ms", &v), 0);
	ck_assert_int_eq(v, 500);
	ck_assert_int_eq(mt_parse_duration_ms("1.5s", &v), 0);
	ck_assert_int_eq(v, 1500);
	ck_assert_int_eq(mt_parse_duration_ms("2", &v), 0);
	ck_assert_int_eq(v, 2000);
	ck_assert_int_eq(mt_parse_duration_ms("1m", &v), 0);
	ck_assert_int_eq(v, 60000);
	ck_assert_int_eq(mt_parse_duration_ms("3 days", &v), -EINVAL);
	ck_assert_int_eq(mt_parse_bool("On", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(mt_parse_bool("no", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(mt_parse_bool("maybe", &b), -EINVAL);
}
END_TEST

START_TEST(test_read_file_root)
{
	char dir[] = "/tmp/mt-util-XXXXXX", path[256], buf[8];
	FILE *f;
	int64_t v;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/knob", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("1234\n", f);
	fclose(f);

	mt_set_root(dir);
	ck_assert_int_eq(mt_read_int64("/knob", &v), 0);
	ck_assert_int_eq(v, 1234);
	ck_assert_int_eq(mt_read_file("/knob", buf, sizeof(buf)), 5);
	/* a file larger than the buffer is an error, not a silent cut */
	ck_assert_int_eq(mt_read_file("/knob", buf, 4), -EFBIG);
	ck_assert_int_eq(mt_read_int64("/missing", &v), -ENOENT);
	ck_assert_int_eq(mt_write_file("/knob", "77"), 0);
	ck_assert_int_eq(mt_read_int64("/knob", &v), 0);
	ck_assert_int_eq(v, 77);
	mt_set_root("");
	unlink(path);
	rmdir(dir);
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_int64);
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_parse_percent_duration_bool);
	tcase_add_test(tc, test_read_file_root);
	suite_add_tcase(s, tc);
	return s;
}
