/* test_log.c - what the logger writes: one record per message on every
 * target, whatever bytes a guest put in the text, with its control bytes
 * escaped. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

Suite *log_suite(void);

/* Run one log call with stderr sent to a scratch file; its bytes in out. */
static void
capture_stderr(enum log_target target, void (*emit)(const char *),
    const char *arg, char *out, size_t len)
{
	char path[] = "/tmp/mt-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(saved, 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	log_init("memtuned", target, 0);
	emit(arg);
	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	log_init("memtuned", LOG_TO_STDERR, 0);
}

static void
emit_warnx(const char *name)
{
	log_warnx("guest %s: stats missing", name);
}

static void
emit_warn(const char *name)
{
	errno = ENOENT;
	log_warn("guest %s", name);
}

/* A guest name (or a metadata value) crafted to forge a journal record of
 * priority 0, drive a terminal, or act as a format: each message stays
 * one record, a "<N>" only at the start of the line the logger wrote. */
START_TEST(test_one_record_per_message)
{
	static const struct {
		enum log_target target;
		void (*emit)(const char *);
		const char *name;
		const char *want;
	} cases[] = {
		{ LOG_TO_JOURNAL, emit_warnx, "vm\n<0>forged",
		  "<4>guest vm\\x0a<0>forged: stats missing\n" },
		{ LOG_TO_JOURNAL, emit_warnx, "vm\r\n<0>x\r",
		  "<4>guest vm\\x0d\\x0a<0>x\\x0d: stats missing\n" },
		{ LOG_TO_JOURNAL, emit_warn, "vm\n<0>forged",
		  "<4>guest vm\\x0a<0>forged: No such file or directory\n" },
		{ LOG_TO_JOURNAL, emit_warnx, "%s%n%x",
		  "<4>guest %s%n%x: stats missing\n" },
		{ LOG_TO_STDERR, emit_warnx, "\x1b[2J\x1b]0;owned\x07",
		  "memtuned: warning: guest \\x1b[2J\\x1b]0;owned\\x07: "
		  "stats missing\n" },
		{ LOG_TO_STDERR, emit_warnx, "a\\x0ab",
		  "memtuned: warning: guest a\\\\x0ab: stats missing\n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[512];

		capture_stderr(cases[i].target, cases[i].emit, cases[i].name,
		    out, sizeof(out));
		ck_assert_msg(strcmp(out, cases[i].want) == 0,
		    "case %zu: got \"%s\"", i, out);
		/* one line: its only newline is its last byte */
		ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
	}
}
END_TEST

struct hook_seen {
	int calls;
	char line[256];
};

static void
hook(int pri, const char *line, void *arg)
{
	struct hook_seen *s = arg;

	(void)pri;
	s->calls++;
	mt_strlcpy(s->line, line, sizeof(s->line));
}

/* The test hook sees the line as it is written, escaped, and a message
 * longer than a line is cut, still one record. */
START_TEST(test_hook_and_long_message)
{
	struct hook_seen seen = { 0 };
	char big[3000];
	char out[8192];

	log_set_hook(hook, &seen);
	log_init("memtuned", LOG_TO_STDERR, 0);
	log_info("balloon of %s", "a\tb");
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.line, "balloon of a\\x09b");
	log_set_hook(NULL, NULL);

	/* every byte a newline: escaped it is four times the line */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_stderr(LOG_TO_JOURNAL, emit_warnx, big, out, sizeof(out));
	ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
	ck_assert(strncmp(out, "<4>guest \\x0a\\x0a", 17) == 0);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_one_record_per_message);
	tcase_add_test(tc, test_hook_and_long_message);
	suite_add_tcase(s, tc);
	return s;
}
