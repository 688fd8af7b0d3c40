/* sdnotify.h - the sd_notify protocol without libsystemd.
 *
 * Each message is one datagram to $NOTIFY_SOCKET (a path, or an abstract
 * socket when it starts with '@'). Without $NOTIFY_SOCKET every call is a
 * no-op returning 0, so the daemon runs the same under systemd and without.
 */
#ifndef MEMTUNED_SDNOTIFY_H
#define MEMTUNED_SDNOTIFY_H

#include <stdint.h>

/* Send a raw state string ("READY=1\nSTATUS=running"). 1 when sent,
 * 0 when no notify socket is configured, -errno on failure. */
int sdnotify_send(const char *state);
/* Same, formatted; the message is cut to fit one datagram buffer and
 * -EMSGSIZE returned rather than sending a truncated state. */
int sdnotify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int sdnotify_ready(const char *status);		/* READY=1 (+ STATUS=) */
int sdnotify_reloading(void);			/* RELOADING=1 + MONOTONIC_USEC */
int sdnotify_stopping(void);			/* STOPPING=1 */
int sdnotify_watchdog(void);			/* WATCHDOG=1 */
int sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd expects pings within, from $WATCHDOG_USEC
 * (honouring $WATCHDOG_PID). 1 and *usec set when enabled for this
 * process, 0 when not, -EINVAL when the variables are malformed. Ping at
 * half this interval. */
int sdnotify_watchdog_usec(uint64_t *usec);

#endif
