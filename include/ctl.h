/* ctl.h - the control socket between memtuned and memtunectl.
 *
 * A unix stream socket, root-only by default (mode 0600), or 0660 with an
 * allowed group. Every peer is checked with SO_PEERCRED: uid 0, or a member
 * of the allowed group. One request per connection: a JSON object on one
 * line, at most CTL_REQUEST_MAX bytes, answered by one JSON object and the
 * connection is closed. A client that sends too much, too slowly, or
 * garbage is dropped without stalling the loop: the server never blocks,
 * and holds at most CTL_MAX_CLIENTS connections with a deadline each.
 *
 * Requests: {"cmd":"status"}, {"cmd":"explain","guest":"NAME"},
 * {"cmd":"rebalance","dry_run":true,"reserve_mib":N},
 * {"cmd":"capacity","vm_mib":N}, {"cmd":"ping"}.
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

struct json_object;

/* The daemon's answer to one request: a new JSON object (the server frees
 * it), or NULL for an internal error. */
typedef struct json_object *(*ctl_handler_fn)(struct json_object *req,
    uid_t peer_uid, void *arg);

struct evloop;

_Static_assert(CTL_REQUEST_MAX <= CONNPOOL_IN_MAX,
    "a control request must fit a connpool input buffer");

struct ctl_server {
	int listen_fd;
	int listen_watch;
	struct evloop *loop;
	char path[108];
	gid_t allowed_gid;		/* (gid_t)-1: root only */
	ctl_handler_fn handler;
	void *arg;
	struct connpool pool;
	struct connpool_client clients[CTL_MAX_CLIENTS];
	uint64_t served, refused, dropped;
};

/* Create the socket (and its directory, mode 0755), replacing a stale one,
 * and watch it on loop. Clients are served from the loop's callbacks, never
 * blocking: a client that has not finished within CTL_CLIENT_DEADLINE_MS,
 * or the oldest one when all slots are taken, is dropped. 0 or -errno. */
int ctl_server_open(struct ctl_server *srv, struct evloop *loop,
    const char *path, gid_t allowed_gid, ctl_handler_fn handler, void *arg);
void ctl_server_close(struct ctl_server *srv);
/* Drop clients past their deadline; the daemon calls it every tick too. */
void ctl_server_expire(struct ctl_server *srv, int64_t now_ms);

/* Is this peer allowed? uid 0 always; else its primary or supplementary
 * groups must hold allowed_gid. */
bool ctl_peer_allowed(uid_t uid, gid_t gid, pid_t pid, gid_t allowed_gid);

/* Client: send one request, wait for the answer (timeout_ms), return it
 * parsed in *resp (the caller puts it). 0, -ENOENT/-ECONNREFUSED when no
 * daemon listens, -ETIMEDOUT, -EPROTO for a malformed answer. */
int ctl_request(const char *path, struct json_object *req, int timeout_ms,
    struct json_object **resp);

#endif
