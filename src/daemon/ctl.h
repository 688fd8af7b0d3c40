/* ctl.h - the control socket between memtuned and memtunectl.
 *
 * A unix stream socket, root-only by default (mode 0600), or 0660 root:GROUP
 * with a control_group (else an admin_group). Every peer is checked again
 * with SO_PEERCRED and SO_PEERGROUPS: uid 0, or a member of control_group or
 * admin_group. One request per connection: a JSON object on one line, at
 * most CTL_REQUEST_MAX bytes, answered by one JSON object whose first key
 * is "schema" (MT_JSON_SCHEMA, jsonutil.h), and the connection is closed. A client that sends too much, too slowly, or
 * garbage is dropped without stalling the loop: the server never blocks,
 * and holds at most CTL_MAX_CLIENTS connections with a deadline each.
 *
 * Requests: {"cmd":"status"}, {"cmd":"explain","guest":"NAME"},
 * {"cmd":"rebalance","dry_run":true,"reserve_mib":N},
 * {"cmd":"capacity","vm_mib":N}, {"cmd":"ping"},
 * {"cmd":"release","dry_run":true,"guests":["NAME or UUID",...]},
 * {"cmd":"pause","guests":[...]}, {"cmd":"resume","guests":[...]}.
 *
 * Who may do what (ctl_authorize): reading commands (ping, status, explain,
 * capacity, a rebalance or release with dry_run) for root, control_group and
 * admin_group; every other command acts (a real rebalance, with or without
 * a reserve, and any command not known here as reading) and is for root
 * and admin_group only. Acting requests from peers other than root come at
 * most once per act_interval (ctl_rate_check). A refusal is an answer
 * {"ok":false,"error":"...","code":"..."} with a stable code, logged with
 * the peer's uid and pid.
 */
#ifndef MEMTUNED_CTL_H
#define MEMTUNED_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "connpool.h"

#define CTL_REQUEST_MAX 4096		/* the largest request is ~100 bytes */
#define CTL_MAX_CLIENTS 8
#define CTL_CLIENT_DEADLINE_MS 2000

/* Stable codes of refusals, in the answer's "code" (memtunectl and
 * scripts tell them apart by these, not by the English of "error"). */
#define CTL_CODE_PERMISSION "permission_denied"
#define CTL_CODE_RATE "rate_limited"

struct json_object;

/* Who may do what; from [daemon] control_group, admin_group, act_interval.
 * Fixed from the start on: a change takes effect at the next start, as
 * the socket's own group does. */
struct ctl_access {
	gid_t read_gid;			/* control_group; (gid_t)-1: none */
	gid_t admin_gid;		/* admin_group; (gid_t)-1: none */
	char read_group[64];		/* their names, for the messages */
	char admin_group[64];
	int64_t act_interval_ms;	/* acting requests of peers other than
					   root, at most one per interval;
					   0: no limit */
};

/* A connected peer, as the kernel saw it at connect(). */
struct ctl_peer {
	uid_t uid;
	gid_t gid;			/* primary */
	pid_t pid;
	const gid_t *groups;		/* supplementary */
	size_t nr_groups;
};

enum ctl_verb {
	CTL_VERB_READ,			/* changes nothing */
	CTL_VERB_ACT,			/* moves memory, or unknown here */
};

enum ctl_auth {
	CTL_AUTH_OK,
	CTL_AUTH_NOT_MEMBER,		/* neither root nor in either group */
	CTL_AUTH_READ_ONLY,		/* may read, not act */
};

/* The daemon's answer to one request: a new JSON object (the server frees
 * it), or NULL for an internal error. Only authorised, and for acting
 * requests rate-checked, requests reach it. */
typedef struct json_object *(*ctl_handler_fn)(struct json_object *req,
    const struct ctl_peer *peer, void *arg);

struct evloop;

_Static_assert(CTL_REQUEST_MAX <= CONNPOOL_IN_MAX,
    "a control request must fit a connpool input buffer");

struct ctl_server {
	int listen_fd;
	int listen_watch;
	struct evloop *loop;
	char path[108];
	struct ctl_access access;
	ctl_handler_fn handler;
	void *arg;
	struct connpool pool;
	struct connpool_client clients[CTL_MAX_CLIENTS];
	int64_t last_act_ms;		/* last acting request let through
					   from a peer other than root;
					   MT_ABSENT: none yet */
	uint64_t served, refused, dropped;
};

/* The access of root alone, no rate limit: the tests' and fuzzers'. */
void ctl_access_root_only(struct ctl_access *a);

/* Create the socket (and its directory, mode 0755, when missing),
 * replacing a stale one, and watch it on loop. The socket is 0600 root, or
 * 0660 root:control_group (admin_group when there is no control_group):
 * the kernel checks write permission on it at connect(), so its mode is
 * the first gate and ctl_authorize the second; the directory only needs
 * to be searchable (conf/memtuned.service: RuntimeDirectoryMode=0755). Clients are served from the loop's callbacks, never
 * blocking: a client that has not finished within CTL_CLIENT_DEADLINE_MS,
 * or the oldest one when all slots are taken, is dropped. 0 or -errno. */
int ctl_server_open(struct ctl_server *srv, struct evloop *loop,
    const char *path, const struct ctl_access *access, ctl_handler_fn handler,
    void *arg);
void ctl_server_close(struct ctl_server *srv);
/* Drop clients past their deadline; the daemon calls it every tick too. */
void ctl_server_expire(struct ctl_server *srv, int64_t now_ms);

/* Reading or acting; the static name of a known command in *name (NULL
 * for an unknown one, whose text is the peer's and never logged). */
enum ctl_verb ctl_classify(struct json_object *req, const char **name);
/* May peer send a request of this verb? Pure: no lookups. */
enum ctl_auth ctl_authorize(const struct ctl_peer *peer, enum ctl_verb verb,
    const struct ctl_access *a);
/* May an acting request come at now_ms, the last one let through at
 * last_ms (MT_ABSENT: none)? 0, or -EAGAIN with the wait in *wait_ms. */
int ctl_rate_check(int64_t last_ms, int64_t now_ms, int64_t interval_ms,
    int64_t *wait_ms);

/* Client: send one request, wait for the answer (timeout_ms), return it
 * parsed in *resp (the caller puts it). 0, -ENOENT/-ECONNREFUSED when no
 * daemon listens, -ETIMEDOUT, -EPROTO for a malformed answer. */
int ctl_request(const char *path, struct json_object *req, int timeout_ms,
    struct json_object **resp);

#endif
