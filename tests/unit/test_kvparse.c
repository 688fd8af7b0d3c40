/* test_kvparse.c - the one line parser behind meminfo, vmstat and a NUMA
 * node's meminfo: every code it returns, with the line and the field,
 * in each of the three shapes. The files' own messages are pinned in
 * test_meminfo.c, test_vmstat.c and test_numa.c. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvparse.h"
#include "util.h"

Suite *kvparse_suite(void);

struct kv_out {
	int64_t a, b, c;
};

/* "A" and "B" in kB ("A" required), "C" a count; "Old" is C's old name */
static const struct kv_field fields[] = {
	{ "A", offsetof(struct kv_out, a), KV_KB, true },
	{ "B", offsetof(struct kv_out, b), KV_KB, false },
	{ "C", offsetof(struct kv_out, c), KV_COUNT, false },
	{ "Old", offsetof(struct kv_out, c), KV_COUNT, false },
};

static const struct kv_format colon = { NULL, ':', true, " \t" };
static const struct kv_format space = { NULL, ' ', true, "" };
static const struct kv_format node = { "Node 1 ", ':', false, " " };

static const struct kv_case {
	const char *what;
	const struct kv_format *fmt;
	const char *buf;
	enum kv_error code;
	int line;
	const char *field;		/* NULL: none */
	int64_t a, b, c;		/* on success */
} cases[] = {
	{ "meminfo shape", &colon, "A:   10 kB\nB:\t20 kB\nC: 3\n", KV_OK, 0,
	    NULL, 10, 20, 3 },
	{ "unknown keys passed over", &colon, "Zz: 1 kB\nA: 1 kB\nQ: x\n",
	    KV_OK, 0, NULL, 1, MT_ABSENT, MT_ABSENT },
	{ "kB field without its unit", &space, "A 5\nzz 9\n", KV_UNIT, 1,
	    "A", 0, 0, 0 },
	{ "vmstat count", &space, "C 7\nA 1 kB\n", KV_OK, 0, NULL, 1,
	    MT_ABSENT, 7 },
	{ "node shape", &node, "Node 1 A:  4 kB\nNode 1 junk\n"
	    "Node 1 B: 2 kB\n", KV_OK, 0, NULL, 4, 2, MT_ABSENT },
	{ "empty file", &colon, "", KV_MISSING, 0, "A", 0, 0, 0 },
	{ "required field missing", &colon, "B: 1 kB\n", KV_MISSING, 0, "A",
	    0, 0, 0 },
	{ "missing unit", &colon, "A: 10\n", KV_UNIT, 1, "A", 0, 0, 0 },
	{ "wrong unit", &colon, "A: 10 MB\n", KV_UNIT, 1, "A", 0, 0, 0 },
	{ "unit on a count", &colon, "A: 1 kB\nC: 3 kB\n", KV_TRAILING, 2,
	    "C", 0, 0, 0 },
	{ "no separator", &colon, "A: 1 kB\nA 1 kB\n", KV_NO_SEP, 2, NULL,
	    0, 0, 0 },
	{ "empty key", &colon, ": 1 kB\n", KV_NO_SEP, 1, NULL, 0, 0, 0 },
	{ "blank line", &space, "C 1\n\n", KV_NO_SEP, 2, NULL, 0, 0, 0 },
	{ "cut read", &colon, "A: 1 kB\nB: 2", KV_CUT, 2, NULL, 0, 0, 0 },
	{ "cut unknown line", &colon, "A: 1 kB\nZz: 2", KV_CUT, 2, NULL, 0, 0,
	    0 },
	{ "duplicate", &colon, "A: 1 kB\nB: 1 kB\nA: 2 kB\n", KV_DUPLICATE, 3,
	    "A", 0, 0, 0 },
	{ "both names of a slot", &colon, "A: 1 kB\nC: 1\nOld: 1\n",
	    KV_SHARED, 3, "Old", 0, 0, 0 },
	{ "not a number", &colon, "A: x kB\n", KV_NOT_NUMBER, 1, "A", 0, 0,
	    0 },
	{ "negative", &colon, "A: -1 kB\n", KV_NOT_NUMBER, 1, "A", 0, 0, 0 },
	{ "past int64", &colon, "A: 99999999999999999999 kB\n", KV_RANGE, 1,
	    "A", 0, 0, 0 },
	{ "blank not allowed", &space, "C  7\n", KV_NOT_NUMBER, 1, "C", 0, 0,
	    0 },
	{ "tab not a node blank", &node, "Node 1 A:\t4 kB\n", KV_NOT_NUMBER,
	    1, "A", 0, 0, 0 },
	{ "another node's line", &node, "Node 1 A: 4 kB\nNode 0 B: 2 kB\n",
	    KV_NO_PREFIX, 2, NULL, 0, 0, 0 },
	{ "node cut read", &node, "Node 1 A: 4 kB\nNode 1 B: 2 kB",
	    KV_CUT, 2, NULL, 0, 0, 0 },
};

START_TEST(test_table)
{
	const struct kv_case *c = &cases[_i];
	struct kv_out out;
	struct kv_result r;
	int rc;

	rc = kv_parse(c->buf, c->fmt, fields, ARRAY_SIZE(fields), &out, &r);
	ck_assert_msg(r.code == c->code, "%s: code %d, want %d", c->what,
	    r.code, c->code);
	ck_assert_int_eq(rc, c->code == KV_OK ? 0 : -EINVAL);
	ck_assert_msg(r.line == c->line, "%s: line %d", c->what, r.line);
	if (c->field != NULL)
		ck_assert_str_eq(r.field->name, c->field);
	else
		ck_assert_ptr_null(r.field);
	if (c->code == KV_OK) {
		ck_assert_int_eq(out.a, c->a);
		ck_assert_int_eq(out.b, c->b);
		ck_assert_int_eq(out.c, c->c);
	}
}
END_TEST

/* a line far longer than any real one: read whole, not cut or overrun */
START_TEST(test_long_line)
{
	size_t n = 100000;
	char *buf = malloc(n + 64);
	struct kv_out out;
	struct kv_result r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'k', n);
	strcpy(buf + n, ": 1 kB\nA: 5 kB\n");
	ck_assert_int_eq(kv_parse(buf, &colon, fields, ARRAY_SIZE(fields),
	    &out, &r), 0);
	ck_assert_int_eq(out.a, 5);
	/* the same line cut: the message names its key */
	buf[n + 3] = '\0';
	ck_assert_int_eq(kv_parse(buf, &colon, fields, ARRAY_SIZE(fields),
	    &out, &r), -EINVAL);
	ck_assert_int_eq(r.code, KV_CUT);
	ck_assert_int_eq(r.keylen, (int)n);
	free(buf);
}
END_TEST

/* the wording the three files share */
START_TEST(test_message)
{
	struct kv_out out;
	struct kv_result r;
	char err[128];

	kv_parse("A: 1 kB\nB: 2", &colon, fields, ARRAY_SIZE(fields), &out,
	    &r);
	kv_message(&r, "/proc/x", err, sizeof(err));
	ck_assert_str_eq(err, "/proc/x: B: line 2 has no newline (cut read)");
	kv_parse("A: 1\n", &colon, fields, ARRAY_SIZE(fields), &out, &r);
	kv_message(&r, "/proc/x", err, sizeof(err));
	ck_assert_str_eq(err, "/proc/x: A: unit is not \"kB\"");
	kv_parse("", &colon, fields, ARRAY_SIZE(fields), &out, &r);
	kv_message(&r, "/proc/x", err, sizeof(err));
	ck_assert_str_eq(err, "/proc/x: A: missing");
}
END_TEST

Suite *
kvparse_suite(void)
{
	Suite *s = suite_create("kvparse");
	TCase *tc = tcase_create("kvparse");

	tcase_add_loop_test(tc, test_table, 0, (int)ARRAY_SIZE(cases));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_message);
	suite_add_tcase(s, tc);
	return s;
}
