/* metrics.h - Prometheus metrics: the text exposition format (0.0.4),
 * a textfile for node_exporter, and a loopback HTTP listener on the loop.
 *
 * Rendering reads a snapshot, the plan made from it, the capacity estimated
 * from both and the daemon's own counters; it never reads the system. Values are written from the
 * integer fields as they are (KiB * 1024 for bytes, per-myriad and
 * milliseconds as exact decimals), and an absent value (MT_ABSENT) is left
 * out rather than exported as a number. docs/metrics.md lists every
 * metric.
 */
#ifndef MEMTUNED_METRICS_H
#define MEMTUNED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "act.h"
#include "capacity.h"
#include "connpool.h"
#include "policy.h"
#include "snapshot.h"

/* What an action was for. A small fixed set derived from the plan's data
 * (not from its reason text), so dashboards can rely on it:
 *   balloon  reclaim  target below actual: memory taken from the guest
 *            give     target above actual, the guest needs more than it has
 *            grow     target above actual, host memory to spare
 *            bounds   actual was outside floor..ceiling
 *            retry    a stuck (uncooperative) or stale balloon asked again
 *   memtune  squeeze  a finite hard_limit (balloon not cooperating, or
 *                     hard_limit_mode = always)
 *            release  hard_limit back to unlimited
 *            limits   soft_limit, swap_hard_limit or memory.low only
 *   ksm      start, stop (run), rate (pages_to_scan, sleep_millisecs),
 *            advisor (advisor_mode and its knobs)
 *   thp      tune (defrag or khugepaged knobs)
 */
enum metrics_action_kind {
	METRICS_KIND_BALLOON,
	METRICS_KIND_MEMTUNE,
	METRICS_KIND_KSM,
	METRICS_KIND_THP,
	METRICS_KIND_N,
};

enum metrics_reason {
	METRICS_REASON_RECLAIM,
	METRICS_REASON_GIVE,
	METRICS_REASON_GROW,
	METRICS_REASON_BOUNDS,
	METRICS_REASON_RETRY,
	METRICS_REASON_SQUEEZE,
	METRICS_REASON_RELEASE,
	METRICS_REASON_LIMITS,
	METRICS_REASON_START,
	METRICS_REASON_STOP,
	METRICS_REASON_RATE,
	METRICS_REASON_ADVISOR,
	METRICS_REASON_TUNE,
	METRICS_REASON_N,
};

enum metrics_error_kind {
	METRICS_ERR_COLLECT,		/* a host or guest sample failed */
	METRICS_ERR_LIBVIRT,		/* connection lost or refused */
	METRICS_ERR_ACT,		/* a change refused by the safety net or
					   the system */
	METRICS_ERR_CONFIG,		/* a reload with an invalid config */
	METRICS_ERR_N,
};

/* The daemon's own counters; zero them with metrics_counters_init(). */
struct metrics_counters {
	uint64_t ticks;
	uint64_t actions[METRICS_KIND_N][METRICS_REASON_N];
	uint64_t errors[METRICS_ERR_N];
	uint64_t guests_gone;		/* vanished between sample and act */
	uint64_t reloads;		/* successful SIGHUP reloads */
	bool libvirt_connected;
	int64_t last_tick_us;		/* MT_ABSENT before the first tick */
};

void metrics_counters_init(struct metrics_counters *ctr);
/* Count what act_apply_plan() carried out for this plan: guest balloon and
 * memtune changes out reports as applied (a memtune whose hard limit did
 * not go through counts as "limits" when its other limits did), KSM and
 * THP changes when res says they went through. Failures and refusals land
 * in errors{kind="act"} from res->failed, vanished guests in guests_gone;
 * dry-run and skipped changes are not counted at all. */
void metrics_count_plan(struct metrics_counters *ctr,
    const struct policy_plan *plan, const struct act_result *res,
    const struct policy_results *out);
/* The reason class metrics_count_plan() gives a guest's balloon or memtune
 * change, or METRICS_REASON_N when the plan sends none of that kind. */
enum metrics_reason metrics_guest_reason(const struct guest_plan *gp,
    enum metrics_action_kind kind);
const char *metrics_kind_name(enum metrics_action_kind k);
const char *metrics_reason_name(enum metrics_reason r);
const char *metrics_error_name(enum metrics_error_kind e);

/* Capacity as estimated from a tick's snapshot and plan (capacity.h),
 * with the two clocks read at one moment to date it: the renderer reads
 * no clock itself. */
struct metrics_capacity {
	const struct capacity_result *res;
	int64_t now_ms;			/* CLOCK_MONOTONIC, as res->as_of_ms */
	int64_t now_real_ms;		/* CLOCK_REALTIME, Unix ms */
};

/* metrics_render flags */
#define METRICS_NO_GUESTS 0x1	/* leave out the per-guest families
				   ([daemon] metrics_per_guest = no): a
				   big host's scrape stays small */

/* Render everything into a new NUL-terminated buffer (*out, the caller
 * frees it; *len excludes the NUL). snap, plan and cap may be NULL (before
 * the first tick, or no estimate): their metrics are left out. flags is 0
 * or METRICS_NO_GUESTS. 0 or -ENOMEM. */
int metrics_render(const struct snapshot *snap, const struct policy_plan *plan,
    const struct metrics_capacity *cap, const struct metrics_counters *ctr,
    unsigned flags, char **out, size_t *len);

/* Write text to path for node_exporter's textfile collector: to path.tmp
 * in the same directory, fsync, rename over path, fsync the directory, so
 * a reader sees the old file or the new one, never a part. 0 or -errno. */
int metrics_write_textfile(const char *path, const char *text, size_t len);

/* ------------------------------------------------------------ HTTP */

#define METRICS_HTTP_HEAD_MAX 4096	/* request line + headers */
#define METRICS_HTTP_MAX_CLIENTS 8
#define METRICS_HTTP_DEADLINE_MS 2000

/* metrics_http_open flags */
#define METRICS_HTTP_ALLOW_REMOTE 0x1	/* listen on a non-loopback address */

struct evloop;

/* What a request head asks for, as the listener answers it. */
struct metrics_http_req {
	int status;		/* 200: GET or HEAD of /metrics (a query
				   string ignored); 400 a request line that
				   is not "METHOD TARGET HTTP/1.x"; 404
				   another target; 405 another method; 431
				   no end of the head within
				   METRICS_HTTP_HEAD_MAX bytes */
	bool head_only;		/* HEAD: the answer without its body */
};

/* Parse the request head received so far: buf, len bytes (no NUL needed,
 * any bytes allowed). The head ends at an empty line (CRLF CRLF or LF LF)
 * that must lie within the first METRICS_HTTP_HEAD_MAX bytes; only its
 * request line, up to the first LF with a CR before it dropped, decides.
 * Reads nothing but buf[0..len) and keeps no state. 0 with *req filled
 * when the head is complete or can no longer be (431), -EAGAIN when more
 * bytes are needed. */
int metrics_http_parse(const char *buf, size_t len,
    struct metrics_http_req *req);

_Static_assert(METRICS_HTTP_HEAD_MAX <= CONNPOOL_IN_MAX,
    "an HTTP request head must fit a connpool input buffer");

struct metrics_http {
	int listen_fd;
	int listen_watch;
	struct evloop *loop;
	int port;			/* bound port (port 0 asked: ephemeral) */
	char *text;			/* latest rendered metrics, own copy */
	size_t text_len;
	struct connpool pool;
	struct connpool_client clients[METRICS_HTTP_MAX_CLIENTS];
	uint64_t served, refused, dropped;
};

/* Listen on host (an IPv4 or IPv6 literal, brackets allowed) and port
 * (0: any free port, read it back from h->port) and serve from the loop's
 * callbacks without ever blocking. Metrics name guests, so an address
 * outside 127.0.0.0/8 and ::1 is refused (-EPERM) unless flags has
 * METRICS_HTTP_ALLOW_REMOTE. -EINVAL for a host that is not a literal or a
 * bad port; else 0 or -errno. */
int metrics_http_open(struct metrics_http *h, struct evloop *loop,
    const char *host, int port, int flags);
/* Replace the text served from now on (copied). 0 or -ENOMEM (the old
 * text stays). */
int metrics_http_set(struct metrics_http *h, const char *text, size_t len);
/* Drop clients past METRICS_HTTP_DEADLINE_MS; the daemon calls it every
 * tick, and the listener on every accept. */
void metrics_http_expire(struct metrics_http *h, int64_t now_ms);
void metrics_http_close(struct metrics_http *h);
/* Is this address (an IPv4 or IPv6 literal) a loopback one? */
bool metrics_addr_is_loopback(const char *host);

#endif
