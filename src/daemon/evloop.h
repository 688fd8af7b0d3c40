/* evloop.h - the daemon's one poll() loop.
 *
 * One thread waits on everything: a signalfd for the signals the caller
 * names, a timerfd for the next tick (the policy picks the deadline),
 * extra fds (the PSI trigger with POLLPRI, the control socket), and
 * libvirt's own handles and timeouts through virEventRegisterImpl, so
 * domain lifecycle and balloon events arrive in the same loop.
 *
 * Callbacks may add, update and remove fds and timeouts, including their
 * own. A removed entry's free function runs later, from a clean stack,
 * as libvirt requires.
 */
#ifndef MEMTUNED_EVLOOP_H
#define MEMTUNED_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;

typedef void (*evloop_signal_fn)(int signo, void *arg);
typedef void (*evloop_timer_fn)(void *arg);
typedef void (*evloop_fd_fn)(int fd, short revents, void *arg);

/* Block `signals` for this thread (call before any thread starts, so
 * threads inherit the mask) and create the loop. 0 or -errno. */
int evloop_new(struct evloop **out, const int *signals, size_t nr_signals,
    evloop_signal_fn on_signal, void *arg);
/* Run the free functions of what is left, close the fds, restore the
 * signal mask. Close libvirt connections before this. */
void evloop_free(struct evloop *loop);

/* The tick timer: on_timer runs once when CLOCK_MONOTONIC reaches
 * deadline_ms (mt_now_ms() scale); a deadline in the past fires at once.
 * MT_ABSENT disarms it. Safe from any thread. */
void evloop_set_timer_cb(struct evloop *loop, evloop_timer_fn on_timer, void *arg);
int evloop_set_deadline(struct evloop *loop, int64_t deadline_ms);
int64_t evloop_get_deadline(struct evloop *loop);

/* Extra fds, watched with poll() events (POLLIN, POLLPRI, ...). Returns an
 * id > 0, or -errno. The fd stays the caller's to close. */
int evloop_add_fd(struct evloop *loop, int fd, short events, evloop_fd_fn cb,
    void *arg);
int evloop_update_fd(struct evloop *loop, int id, short events);
int evloop_remove_fd(struct evloop *loop, int id);

/* Route libvirt's event API to this loop. Call once, before the first
 * virConnectOpen. Only one loop per process can serve libvirt. */
int evloop_register_libvirt(struct evloop *loop);

/* Wait at most max_wait_ms (-1: no limit) for something to happen and
 * dispatch it. Returns the number of callbacks run (0 on timeout), or
 * -errno when poll() itself fails. */
int evloop_iterate(struct evloop *loop, int max_wait_ms);
/* Iterate until evloop_quit(); 0, or -errno on a poll failure. */
int evloop_run(struct evloop *loop);
void evloop_quit(struct evloop *loop);
bool evloop_quitting(const struct evloop *loop);

#endif
