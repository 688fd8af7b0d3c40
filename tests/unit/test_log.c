/* test_log.c - what the logger writes: one record per message on every
 * target, whatever bytes a guest put in the text, with its control bytes
 * escaped. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "journal_fixture.h"
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
emit_balloon(const char *name)
{
	log_event(LOG_INFO, &(struct log_fields){
	    .message_id = LOG_MSGID_BALLOON, .action = "balloon",
	    .guest_name = name, .guest_uuid = "00000000-0000-4000-8000-000000000001",
	    .reason = "idle 300 MiB", .reason_code = "host_takes",
	    .from_kib = 1048576, .to_kib = 917504 },
	    "balloon %s: 1024 -> 896 MiB (idle 300 MiB)", name);
}

static void
emit_knob(const char *value)
{
	log_event(LOG_INFO, &(struct log_fields){
	    .message_id = LOG_MSGID_KNOB, .action = "ksm",
	    .knob = "/sys/kernel/mm/ksm/run", .value = value,
	    .reason = "host tight", .from_kib = -1, .to_kib = -1 },
	    "/sys/kernel/mm/ksm/run = %s (host tight)", value);
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

	private_run();
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
	private_run();
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_stderr(LOG_TO_JOURNAL, emit_warnx, big, out, sizeof(out));
	ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
	ck_assert(strncmp(out, "<4>guest \\x0a\\x0a", 17) == 0);
}
END_TEST

/* Under the journal a record goes through its native protocol with its
 * fields, each value escaped, and nothing on stderr; a field left unset is
 * not sent. Without a journal the line goes to stderr with its "<N>". */
#define NF 12	/* fields a case may list */
#define NA 4	/* and lines it may forbid */

START_TEST(test_journal_fields)
{
	static const struct {
		void (*emit)(const char *);
		const char *arg;
		const char *fields[NF];	/* each must be a line of the record */
		const char *absent[NA];	/* no line starts with these */
	} cases[] = {
		{ emit_balloon, "web\n<0>x",
		  { "MESSAGE=balloon web\\x0a<0>x: 1024 -> 896 MiB (idle 300 MiB)",
		    "PRIORITY=6", "SYSLOG_IDENTIFIER=memtuned",
		    "MESSAGE_ID=" LOG_MSGID_BALLOON, "MEMTUNED_ACTION=balloon",
		    "GUEST_NAME=web\\x0a<0>x",
		    "GUEST_UUID=00000000-0000-4000-8000-000000000001",
		    "REASON=idle 300 MiB", "REASON_CODE=host_takes",
		    "FROM_KIB=1048576", "TO_KIB=917504" },
		  { "MEMTUNED_KNOB=", NULL } },
		{ emit_knob, "1",
		  { "MESSAGE=/sys/kernel/mm/ksm/run = 1 (host tight)",
		    "MESSAGE_ID=" LOG_MSGID_KNOB, "MEMTUNED_ACTION=ksm",
		    "MEMTUNED_KNOB=/sys/kernel/mm/ksm/run", "MEMTUNED_VALUE=1",
		    "REASON=host tight", NULL },
		  { "FROM_KIB=", "TO_KIB=", "GUEST_NAME=", "REASON_CODE=" } },
	};
	char err[256];
	int fd;

	private_run();
	fd = fake_journal();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char rec[4096], *line, *save;
		bool seen[NF] = { false };
		ssize_t n;

		capture_stderr(LOG_TO_JOURNAL, cases[i].emit, cases[i].arg,
		    err, sizeof(err));
		ck_assert_msg(err[0] == '\0', "case %zu: stderr got \"%s\"", i,
		    err);
		n = recv(fd, rec, sizeof(rec) - 1, MSG_DONTWAIT);
		ck_assert_msg(n > 0, "case %zu: no record: %s", i,
		    strerror(errno));
		rec[n] = '\0';
		for (line = strtok_r(rec, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			for (size_t f = 0; f < NF && cases[i].fields[f]; f++)
				seen[f] |= strcmp(line, cases[i].fields[f]) == 0;
			for (size_t a = 0; a < NA && cases[i].absent[a]; a++)
				ck_assert_msg(strncmp(line, cases[i].absent[a],
				    strlen(cases[i].absent[a])) != 0,
				    "case %zu: %s sent", i, line);
		}
		for (size_t f = 0; f < NF && cases[i].fields[f]; f++)
			ck_assert_msg(seen[f], "case %zu: no line %s", i,
			    cases[i].fields[f]);
	}
	close(fd);
	/* the journal gone: the same record on stderr, one line */
	ck_assert_int_eq(unlink("/run/systemd/journal/socket"), 0);
	capture_stderr(LOG_TO_JOURNAL, emit_knob, "0", err, sizeof(err));
	ck_assert_str_eq(err, "<6>/sys/kernel/mm/ksm/run = 0 (host tight)\n");
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_one_record_per_message);
	tcase_add_test(tc, test_hook_and_long_message);
	tcase_add_test(tc, test_journal_fields);
	suite_add_tcase(s, tc);
	return s;
}
