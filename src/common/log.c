/* log.c - see log.h */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "util.h"

/* A formatted message is cut here, never split; escaped it can grow to
 * four times that (every byte a \xNN), which the line buffer holds. */
#define LOG_MSG_MAX 1024

static const char *log_ident = "memtuned";
static enum log_target log_to = LOG_TO_STDERR;
static int log_verbose;
static int log_level = LOG_INFO;
static log_hook_fn log_hook;
static void *log_hook_arg;

enum log_target
log_target_auto(void)
{
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal */
	if (getenv("JOURNAL_STREAM") != NULL)
		return LOG_TO_JOURNAL;
	return LOG_TO_SYSLOG;
}

void
log_init(const char *ident, enum log_target target, int verbose)
{
	log_ident = ident;
	log_to = target;
	log_verbose = verbose;
	if (target == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int level)
{
	log_level = level;
	if (level >= LOG_DEBUG)
		log_verbose = 1;
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

int
log_get_verbose(void)
{
	return log_verbose;
}

void
log_set_hook(log_hook_fn fn, void *arg)
{
	log_hook = fn;
	log_hook_arg = arg;
}

/* One field of a journal record, "KEY=value", the value escaped. */
#define LOG_FIELD_MAX (32 + MT_ESCAPE_SIZE(LOG_MSG_MAX))
#define LOG_NR_FIELDS 13	/* every field log_journal may send */
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

struct log_rec {
	struct iovec iov[LOG_NR_FIELDS];
	char buf[LOG_NR_FIELDS][LOG_FIELD_MAX];
	int n;
};

static void
rec_add(struct log_rec *r, const char *key, const char *raw)
{
	char *b;
	size_t kl;

	if (raw == NULL || r->n >= LOG_NR_FIELDS)
		return;
	b = r->buf[r->n];
	kl = (size_t)snprintf(b, LOG_FIELD_MAX, "%s=", key);
	mt_escape(b + kl, LOG_FIELD_MAX - kl, raw);
	r->iov[r->n].iov_base = b;
	r->iov[r->n].iov_len = strlen(b);
	r->n++;
}

static void
rec_add_kib(struct log_rec *r, const char *key, long long kib)
{
	char v[24];

	if (kib < 0)
		return;
	snprintf(v, sizeof(v), "%lld", kib);
	rec_add(r, key, v);
}

/* The record through the journal's native protocol; 0, or -errno when
 * the journal is not there to take it. */
static int
log_journal(int pri, const char *line, const struct log_fields *f)
{
	struct log_rec r = { .n = 0 };
	char p[4];

	/* sd_journal_sendv drops a record without a word when the socket
	 * is missing (no journald): then stderr must have it */
	if (access(LOG_JOURNAL_SOCKET, F_OK) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%d", pri);
	rec_add(&r, "MESSAGE", line);
	rec_add(&r, "PRIORITY", p);
	rec_add(&r, "SYSLOG_IDENTIFIER", log_ident);
	if (f != NULL) {
		rec_add(&r, "MESSAGE_ID", f->message_id);
		rec_add(&r, "MEMTUNED_ACTION", f->action);
		rec_add(&r, "GUEST_NAME", f->guest_name);
		rec_add(&r, "GUEST_UUID", f->guest_uuid);
		rec_add(&r, "REASON", f->reason);
		rec_add(&r, "REASON_CODE", f->reason_code);
		rec_add(&r, "MEMTUNED_KNOB", f->knob);
		rec_add(&r, "MEMTUNED_VALUE", f->value);
		rec_add_kib(&r, "FROM_KIB", f->from_kib);
		rec_add_kib(&r, "TO_KIB", f->to_kib);
	}
	return sd_journal_sendv(r.iov, r.n);
}

/* Messages carry guest names and metadata: every control byte is escaped
 * here, whatever the caller passed, so a newline cannot start a forged
 * "<N>" journal record and an escape sequence cannot reach a terminal.
 * The only newline written is the one that ends the line. */
static void
log_line(int pri, const char *raw, const struct log_fields *f)
{
	char line[MT_ESCAPE_SIZE(LOG_MSG_MAX)];

	mt_escape(line, sizeof(line), raw);
	if (log_hook != NULL)
		log_hook(pri, line, log_hook_arg);
	switch (log_to) {
	case LOG_TO_JOURNAL:
		/* the raw text: the record escapes each of its values */
		if (log_journal(pri, raw, f) < 0)
			fprintf(stderr, "<%d>%s\n", pri, line);
		break;
	case LOG_TO_SYSLOG:
		syslog(pri, "%s", line);
		break;
	case LOG_TO_STDERR:
	default:
		/* warnings say so, so a reader or a test can pick them out */
		if (pri <= LOG_ERR)
			fprintf(stderr, "%s: error: %s\n", log_ident, line);
		else if (pri == LOG_WARNING)
			fprintf(stderr, "%s: warning: %s\n", log_ident, line);
		else
			fprintf(stderr, "%s: %s\n", log_ident, line);
		break;
	}
}

static bool
log_wanted(int pri)
{
	return !((pri == LOG_DEBUG && log_verbose < 1) ||
	    (pri > log_level && pri != LOG_DEBUG));
}

void
log_event(int pri, const struct log_fields *f, const char *fmt, ...)
{
	char line[LOG_MSG_MAX];
	va_list ap;

	if (!log_wanted(pri))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_line(pri, line, f);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char line[LOG_MSG_MAX];

	if (!log_wanted(pri))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_line(pri, line, NULL);
}

static void
vlog_errno(int pri, int saved_errno, const char *fmt, va_list ap)
{
	char msg[900], line[LOG_MSG_MAX];

	if (pri > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%s: %s", msg, strerror(saved_errno));
	log_line(pri, line, NULL);
}

void
log_warn(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
