/* daemon.h - memtuned's service loop around the engine.
 *
 * One poll() loop (evloop): signals, the tick timer, the PSI trigger,
 * libvirt's events and the metrics listener; the control socket has a
 * loop and a thread of its own (below). Ticks come from the policy's
 * next interval, at once on a PSI trigger, and soon after a domain event.
 * libvirtd going away means no action until it is back: reconnect with
 * backoff, then resync the guest table.
 */
#ifndef MEMTUNED_DAEMON_H
#define MEMTUNED_DAEMON_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "capacity.h"
#include "ctl.h"
#include "engine.h"
#include "evloop.h"
#include "metrics.h"

/* The answer's "code" for a reserve above what the host could ever free
 * (ctl.h has the control socket's own codes). */
#define DAEMON_CODE_RESERVE "reserve_too_large"
/* release (and pause, resume): a named guest is not running; the guests
 * could not be read */
#define DAEMON_CODE_NO_GUEST "no_such_guest"
#define DAEMON_CODE_NO_DATA "no_data"

struct daemon_opts {
	char config_path[PATH_MAX];
	bool force_dry_run;		/* --dry-run wins over the config */
	bool no_control;		/* tests: no control socket */
	int max_ticks;			/* tests: stop after N ticks (0: never) */
};

/* The domain events followed: lifecycle, balloon change, metadata change,
 * device added, device removed, tunable, memory device size change. */
#define DAEMON_NR_EVENTS 7

struct daemon {
	struct daemon_opts opts;
	struct evloop *loop;
	struct engine eng;
	struct ctl_server ctl;
	bool ctl_open;
	/* The control socket is served by a thread of its own, on its own
	 * loop, so a status never waits for a tick, and a tick waits for
	 * libvirt (which holds a domain's lock while it stops its QEMU, or
	 * while a save begins). status and explain are answered from the
	 * status the last tick left; the other commands are handed to the
	 * daemon's loop through ctl_wake and waited for. */
	struct evloop *ctl_loop;
	pthread_t ctl_thread;
	bool ctl_thread_on;
	pthread_mutex_t ctl_lock;
	pthread_cond_t ctl_cond;
	bool ctl_sync_ready;		/* lock and cond initialised */
	char *status_text;		/* the last status, as JSON text */
	bool status_ticked;		/* status_text is a tick's, not the
					   start's */
	int ctl_wake;			/* eventfd: a request for the loop */
	int ctl_wake_watch;
	char *fwd_req, *fwd_resp;	/* the request handed over, its answer */
	bool fwd_done;			/* fwd_resp is there (NULL: no memory) */
	uid_t fwd_uid;
	pid_t fwd_pid;
	bool ctl_stopping;		/* the loop answers no more requests */
	int64_t ctl_stop_ms;		/* when; the thread ends once the
					   answers are out, 1 s at most */

	int psi_fd;
	int psi_watch;
	int64_t psi_window_us;
	int64_t last_psi_tick_ms;

	/* libvirt callback ids, one per entry of daemon.c's event table;
	 * -1 none */
	int ev_ids[DAEMON_NR_EVENTS];
	uint64_t cache_events;		/* events that made a guest's cached
					   facts be read again */
	bool conn_lost;			/* close callback fired */
	int64_t reconnect_at_ms;
	int64_t reconnect_backoff_ms;

	int64_t next_tick_ms;
	uint64_t watchdog_usec;
	char last_logged_error[1024];
	/* the host's state as last logged: a change is logged once */
	bool logged_state;
	enum host_pressure logged_pressure;
	bool logged_short;
	uint64_t reloads, psi_wakeups, event_wakeups, watch_wakeups;
	uint64_t burst_wakeups;
	int64_t last_burst_tick_ms;
	int ticks_run;
	bool last_tick_ok;		/* snapshot and plan are from it */

	struct metrics_counters mctr;
	struct metrics_http mhttp;
	bool mhttp_open;
	struct capacity_result mcap;	/* for the metrics; kept tick to tick
					   so its guest array is reused */
	bool mcap_failed;		/* the last estimate failed (logged) */
};

/* Load the config (fatal at start-up only), set up the loop, the engine,
 * the control socket and the PSI trigger. 0 or -errno with a logged
 * reason. */
int daemon_init(struct daemon *d, const struct daemon_opts *opts);
/* Run until SIGTERM/SIGINT (or max_ticks). 0 on a clean stop. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

/* SIGHUP: parse the file again into a fresh config and swap it in only
 * when valid; a bad file keeps the old config and says why. 0 or -EINVAL. */
int daemon_reload(struct daemon *d);
/* Run one collect -> decide -> act now (also what a rebalance request
 * does). reserve_kib > 0 plans an admission. */
int daemon_tick(struct daemon *d, bool dry_run, int64_t reserve_kib);

#endif
