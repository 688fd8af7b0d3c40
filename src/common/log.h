/* log.h - logging in the OpenBSD manner.
 *
 * Under systemd (JOURNAL_STREAM set) records go to the journal through its
 * native protocol, with fields (log_event); if the journal does not take
 * one, it goes to stderr with a "<N>" priority prefix instead. In the
 * foreground (-d) lines go to stderr plain; otherwise to syslog.
 */
#ifndef MEMTUNED_LOG_H
#define MEMTUNED_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_target {
	LOG_TO_STDERR,		/* plain lines, for the foreground and tools */
	LOG_TO_JOURNAL,		/* native protocol; "<N>msg" on stderr if not */
	LOG_TO_SYSLOG,
};

void log_init(const char *ident, enum log_target target, int verbose);
/* choose journal when stderr is the journal's stream, else syslog */
enum log_target log_target_auto(void);
/* drop messages less urgent than level (a syslog priority) */
void log_set_level(int level);
void log_set_verbose(int verbose);
int log_get_verbose(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void vlog(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* A record with fields, for the journal: `journalctl GUEST_NAME=web1` or
 * `MEMTUNED_ACTION=balloon`. Under the journal every field goes out
 * (through its native protocol); elsewhere the message alone, as any
 * other line. NULL strings and sizes below 0 are left out. Values are
 * escaped like messages. */
struct log_fields {
	const char *message_id;		/* MESSAGE_ID: one per kind, below */
	const char *action;		/* MEMTUNED_ACTION */
	const char *guest_name;		/* GUEST_NAME */
	const char *guest_uuid;		/* GUEST_UUID */
	const char *reason;		/* REASON */
	const char *reason_code;	/* REASON_CODE: the reason's stable key */
	const char *knob;		/* MEMTUNED_KNOB: a sysfs or cgroup file */
	const char *value;		/* MEMTUNED_VALUE: what went into it */
	long long from_kib;		/* FROM_KIB */
	long long to_kib;		/* TO_KIB */
};

/* MESSAGE_IDs (journalctl MESSAGE_ID=...): stable across versions */
#define LOG_MSGID_BALLOON	"653728de96fb46ed99326fd9ed33ed5b"
#define LOG_MSGID_MEMTUNE	"931dc04dd8684788a2c1d82642e5274a"
#define LOG_MSGID_KNOB		"62cfbc9d1ef44d18bb004ceef2dd57d4"
#define LOG_MSGID_HOST_STATE	"9bd13eae3d054cb48cf6381847557ac3"

void log_event(int pri, const struct log_fields *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tests capture what would be logged: the hook sees every formatted line. */
typedef void (*log_hook_fn)(int pri, const char *line, void *arg);
void log_set_hook(log_hook_fn fn, void *arg);

#endif
