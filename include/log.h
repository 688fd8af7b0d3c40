/* log.h - logging in the OpenBSD manner.
 *
 * Under systemd (JOURNAL_STREAM set, or log_init(LOG_TO_STDERR_PREFIXED))
 * lines go to stderr with a "<N>" priority prefix the journal understands;
 * in the foreground they go to stderr plain; otherwise to syslog.
 */
#ifndef MEMTUNED_LOG_H
#define MEMTUNED_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_target {
	LOG_TO_STDERR,		/* plain lines, for the foreground and tools */
	LOG_TO_JOURNAL,		/* "<N>msg" lines on stderr */
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

/* Tests capture what would be logged: the hook sees every formatted line. */
typedef void (*log_hook_fn)(int pri, const char *line, void *arg);
void log_set_hook(log_hook_fn fn, void *arg);

#endif
