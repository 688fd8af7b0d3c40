/* test_util.c - size, percent, duration and integer parsing; root-prefixed
 * file reads; escaping guest text for logs and terminals. */
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

/* memtunectl's sizes: a bare number stays MiB, as scripts wrote it
 * before suffixes; a suffix is the configuration's; a part of a MiB is
 * rounded up. */
static const struct {
	const char *in;
	int rc;
	int64_t mib;
} cli_mib_cases[] = {
	{ "2048", 0, 2048 },
	{ " 64 ", 0, 64 },
	{ "2G", 0, 2048 },
	{ "2g", 0, 2048 },
	{ "2GiB", 0, 2048 },
	{ "512M", 0, 512 },
	{ "1.5G", 0, 1536 },
	{ "1T", 0, 1024 * 1024 },
	{ "4194304K", 0, 4096 },
	{ "1K", 0, 1 },			/* rounded up, never to 0 */
	{ "1025K", 0, 2 },
	{ "1.5", 0, 2 },		/* 1.5 MiB: the whole second MiB */
	{ "1073741824", 0, INT64_C(1) << 30 },
	{ "1024T", 0, INT64_C(1) << 30 },
	{ "1073741825", -ERANGE, 0 },
	{ "1025T", -ERANGE, 0 },
	{ "0", -ERANGE, 0 },
	{ "0G", -ERANGE, 0 },
	{ "-1", -EINVAL, 0 },
	{ "2X", -EINVAL, 0 },
	{ "G", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "2 G B", -EINVAL, 0 },
	{ "99999999999999999999", -ERANGE, 0 },
};

START_TEST(test_parse_cli_mib)
{
	int64_t v = -1;

	ck_assert_int_eq(mt_parse_cli_mib(cli_mib_cases[_i].in, &v),
	    cli_mib_cases[_i].rc);
	if (cli_mib_cases[_i].rc == 0)
		ck_assert_msg(v == cli_mib_cases[_i].mib, "%s: %lld MiB, want %lld",
		    cli_mib_cases[_i].in, (long long)v,
		    (long long)cli_mib_cases[_i].mib);
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

/* What a guest can put in its name or metadata, and how it must read. */
START_TEST(test_escape_table)
{
	static const struct {
		const char *in;
		size_t in_len;		/* 0: strlen(in) */
		const char *out;
	} cases[] = {
		{ "vm-01", 0, "vm-01" },
		{ "", 0, "" },
		{ "a\nb", 0, "a\\x0ab" },
		{ "a\r\n<0>forged", 0, "a\\x0d\\x0a<0>forged" },
		{ "tab\there", 0, "tab\\x09here" },
		{ "\x1b[31mred\x1b[0m", 0, "\\x1b[31mred\\x1b[0m" },
		{ "%s%n%x", 0, "%s%n%x" },
		{ "back\\slash", 0, "back\\\\slash" },
		/* a literal "\x41" cannot pass for an escaped byte */
		{ "\\x41", 0, "\\\\x41" },
		{ "del\x7f", 0, "del\\x7f" },
		{ "nul\0after", 9, "nul\\x00after" },
		/* valid UTF-8 stays readable */
		{ "caf\xc3\xa9", 0, "caf\xc3\xa9" },
		{ "\xe4\xb8\xad\xf0\x9f\x90\xa7", 0, "\xe4\xb8\xad\xf0\x9f\x90\xa7" },
		/* stray bytes, overlong forms, surrogates, cut sequences */
		{ "\xff\xfe", 0, "\\xff\\xfe" },
		{ "\x80x", 0, "\\x80x" },
		{ "\xc0\xaf", 0, "\\xc0\\xaf" },
		{ "\xed\xa0\x80", 0, "\\xed\\xa0\\x80" },
		{ "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80" },
		{ "\xe4\xb8", 0, "\\xe4\\xb8" },
		/* a raw C1 byte, and C1 CSI as UTF-8 (U+009B) */
		{ "\x9b" "31m", 0, "\\x9b31m" },
		{ "\xc2\x9b" "31m", 0, "\\xc2\\x9b31m" },
		/* U+2028 line separator, U+202E right-to-left override */
		{ "a\xe2\x80\xa8" "b", 0, "a\\xe2\\x80\\xa8b" },
		{ "\xe2\x80\xae" "exe.txt", 0, "\\xe2\\x80\\xaeexe.txt" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[128];
		size_t in_len = cases[i].in_len ? cases[i].in_len :
		    strlen(cases[i].in);
		size_t need = mt_escape_mem(out, sizeof(out), cases[i].in,
		    in_len);

		ck_assert_msg(strcmp(out, cases[i].out) == 0,
		    "case %zu: got \"%s\", want \"%s\"", i, out, cases[i].out);
		ck_assert_uint_eq(need, strlen(cases[i].out));
		if (cases[i].in_len == 0) {
			mt_escape(out, sizeof(out), cases[i].in);
			ck_assert_str_eq(out, cases[i].out);
		}
	}
}
END_TEST

/* A small buffer keeps a whole prefix: never half an escape, never half a
 * character, always terminated, and the return says how much was needed. */
START_TEST(test_escape_truncation)
{
	static const struct {
		const char *in;
		size_t dstlen;
		const char *out;
		size_t need;
	} cases[] = {
		{ "abc", 1, "", 3 },
		{ "abc", 3, "ab", 3 },
		{ "abc", 4, "abc", 3 },
		{ "a\nb", 2, "a", 6 },
		{ "a\nb", 5, "a", 6 },		/* "\x0a" needs 4 + NUL */
		{ "a\nb", 6, "a\\x0a", 6 },
		{ "a\\b", 3, "a", 4 },		/* "\\" whole or not at all */
		{ "a\xc3\xa9", 3, "a", 3 },	/* e-acute whole or not */
		{ "a\xc3\xa9", 4, "a\xc3\xa9", 3 },
		/* once cut, a later piece that would fit is not written */
		{ "\nb", 2, "", 5 },
	};
	char out[16];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t need;

		memset(out, 'X', sizeof(out));
		need = mt_escape(out, cases[i].dstlen, cases[i].in);
		ck_assert_msg(strcmp(out, cases[i].out) == 0,
		    "case %zu: got \"%s\"", i, out);
		ck_assert_uint_eq(need, cases[i].need);
		/* nothing written past dstlen */
		ck_assert_int_eq(out[cases[i].dstlen], 'X');
	}
	/* dstlen 0 writes nothing at all */
	memset(out, 'X', sizeof(out));
	ck_assert_uint_eq(mt_escape(out, 0, "a\n"), 5);
	ck_assert_int_eq(out[0], 'X');
	/* MT_ESCAPE_SIZE always holds the worst case */
	{
		char worst[MT_ESCAPE_SIZE(3)];

		ck_assert_uint_lt(mt_escape(worst, sizeof(worst), "\n\n\n"),
		    sizeof(worst));
	}
}
END_TEST

/* Every shape of selector file: the kernel's, and the odd ones a parser
 * must refuse rather than half-read. */
static const struct choice_case {
	const char *buf;
	size_t len;			/* of out; 0: all of it */
	int rc;
	const char *word;
} choice_cases[] = {
	{ "always [madvise] never\n", 0, 0, "madvise" },
	{ "[always] madvise never", 0, 0, "always" },
	{ "always defer [defer+madvise] madvise never\n", 0, 0,
	    "defer+madvise" },
	{ "[none] scan-time\n", 0, 0, "none" },
	{ "[x]", 2, 0, "x" },				/* just fits */
	{ "x [madvise]\n", 4, -ENAMETOOLONG, NULL },
	{ "[xx]", 2, -ENAMETOOLONG, NULL },
	{ "", 0, -EINVAL, NULL },			/* empty file */
	{ "\n", 0, -EINVAL, NULL },
	{ "always madvise never\n", 0, -EINVAL, NULL },	/* no brackets */
	{ "100\n", 0, -EINVAL, NULL },			/* a number knob */
	{ "[always] [never]\n", 0, -EINVAL, NULL },	/* two */
	{ "[] never\n", 0, -EINVAL, NULL },		/* empty word */
	{ "[always never\n", 0, -EINVAL, NULL },	/* not closed */
	{ "always] never\n", 0, -EINVAL, NULL },	/* not opened */
	{ "never ]always[\n", 0, -EINVAL, NULL },	/* back to front */
	{ "[a b] c\n", 0, -EINVAL, NULL },		/* a blank inside */
	{ "[madvise]] never\n", 0, -EINVAL, NULL },
};

START_TEST(test_sysfs_choice)
{
	const struct choice_case *c = &choice_cases[_i];
	char out[32];
	size_t len = c->len ? c->len : sizeof(out);

	memset(out, 'X', sizeof(out));
	ck_assert_msg(mt_sysfs_choice(c->buf, out, len) == c->rc,
	    "case %d: \"%s\"", _i, c->buf);
	if (c->word != NULL)
		ck_assert_str_eq(out, c->word);
}
END_TEST

/* a selector line far past any buffer: the word is found wherever it is,
 * and one longer than the buffer is refused, not cut */
START_TEST(test_sysfs_choice_long)
{
	char buf[4096], out[24];
	size_t n;

	memset(buf, 'a', sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	memcpy(buf + 3000, " [never] ", 9);
	ck_assert_int_eq(mt_sysfs_choice(buf, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "never");
	n = (size_t)snprintf(buf, sizeof(buf), "[");
	memset(buf + n, 'w', 3000);
	strcpy(buf + n + 3000, "]\n");
	ck_assert_int_eq(mt_sysfs_choice(buf, out, sizeof(out)),
	    -ENAMETOOLONG);
}
END_TEST

/* The formatter every err and reason buffer goes through. */
static const struct setmsg_case {
	size_t len;			/* of the buffer handed over */
	const char *arg;
	const char *want;		/* NULL: the buffer untouched */
} setmsg_cases[] = {
	{ 32, "memory.stat", "memory.stat: missing" },
	{ 12, "memory.stat", "memory.stat" },	/* cut */
	{ 5, "memory.stat", "memo" },
	{ 1, "memory.stat", "" },
	{ 0, "memory.stat", NULL },			/* no message wanted */
	{ 32, "", ": missing" },
};

START_TEST(test_setmsg)
{
	const struct setmsg_case *c = &setmsg_cases[_i];
	char buf[40];

	memset(buf, 'X', sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	mt_setmsg(buf, c->len, "%s: missing", c->arg);
	if (c->want != NULL)
		ck_assert_str_eq(buf, c->want);
	else
		ck_assert_int_eq(buf[0], 'X');
}
END_TEST

/* a NULL buffer takes nothing; a message the C library cannot format
 * (a wide character the C locale has no byte for) leaves "", not
 * whatever was in the buffer */
START_TEST(test_setmsg_odd)
{
	char buf[16] = "stale";

	mt_setmsg(NULL, 16, "%s", "x");
	mt_setmsg(buf, sizeof(buf), "%ls", L"\u00e9t\u00e9");
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct unit_case {
	int64_t got, want;
} unit_cases[] = {
	{ MIB(0), 0 },
	{ MIB(1023), 0 },		/* truncates: a reason says whole MiB */
	{ MIB(1024), 1 },
	{ MIB(INT64_C(3) * 1024 * 1024 + 1), 3072 },
	{ MIB(-1024), -1 },
	{ MIB_KIB(0), 0 },
	{ MIB_KIB(1), 1024 },
	{ MIB_KIB(INT64_C(1) << 30), INT64_C(1) << 40 },
	{ GIB_KIB(1), 1048576 },
	{ GIB_KIB(24), INT64_C(25165824) },
};

START_TEST(test_unit_macros)
{
	ck_assert_msg(unit_cases[_i].got == unit_cases[_i].want,
	    "case %d: %lld, want %lld", _i, (long long)unit_cases[_i].got,
	    (long long)unit_cases[_i].want);
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_int64);
	tcase_add_test(tc, test_parse_size);
	tcase_add_loop_test(tc, test_parse_cli_mib, 0,
	    (int)(sizeof(cli_mib_cases) / sizeof(cli_mib_cases[0])));
	tcase_add_test(tc, test_parse_percent_duration_bool);
	tcase_add_test(tc, test_read_file_root);
	tcase_add_test(tc, test_escape_table);
	tcase_add_test(tc, test_escape_truncation);
	tcase_add_loop_test(tc, test_sysfs_choice, 0,
	    (int)ARRAY_SIZE(choice_cases));
	tcase_add_test(tc, test_sysfs_choice_long);
	tcase_add_loop_test(tc, test_setmsg, 0, (int)ARRAY_SIZE(setmsg_cases));
	tcase_add_test(tc, test_setmsg_odd);
	tcase_add_loop_test(tc, test_unit_macros, 0,
	    (int)ARRAY_SIZE(unit_cases));
	suite_add_tcase(s, tc);
	return s;
}
