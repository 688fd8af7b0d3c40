/* connpool.h - client slots for a small non-blocking server on the evloop.
 *
 * The control socket and the metrics listener serve one request per
 * connection from the loop's callbacks and must never block nor let slow
 * peers lock others out. Both keep a fixed array of slots, each with a
 * deadline from accept; when every slot is busy the oldest client goes.
 * This module owns that bookkeeping; the protocol (what a complete request
 * is, what to answer) stays with each server.
 *
 * The slots array is the caller's (so its size is the caller's); the pool
 * only points at it. A slot with fd -1 is free.
 */
#ifndef MEMTUNED_CONNPOOL_H
#define MEMTUNED_CONNPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "evloop.h"

/* The largest request either server reads before answering: a control
 * request (~100 bytes) or an HTTP request head both fit in 4 KiB. */
#define CONNPOOL_IN_MAX 4096

struct connpool_client {
	int fd;				/* -1: free slot */
	int watch;			/* evloop id */
	int64_t accepted_ms;
	bool draining;			/* answer sent: read until EOF */
	size_t in_len;
	char in[CONNPOOL_IN_MAX + 1];	/* always NUL-terminated */
	char *out;			/* answer being written, malloc'd */
	size_t out_len, out_off;
};

struct connpool {
	struct evloop *loop;
	struct connpool_client *slots;
	size_t nslots;
	int64_t deadline_ms;		/* from accept to the last byte out */
	evloop_fd_fn io;		/* called for a client's fd events */
	void *arg;
};

/* Mark every slot free and remember where client events go. */
void connpool_init(struct connpool *p, struct evloop *loop,
    struct connpool_client *slots, size_t nslots, int64_t deadline_ms,
    evloop_fd_fn io, void *arg);
/* accept4 one connection, non-blocking and close-on-exec. The fd, or -1
 * when there was none (EAGAIN) or accept failed (logged under `what`). */
int connpool_accept_fd(int listen_fd, const char *what);
/* Put cfd in a free slot, watched for POLLIN, or in the oldest client's
 * slot when all are busy (that client is dropped, *evicted set). NULL when
 * the loop refused the fd: cfd is closed then. */
struct connpool_client *connpool_add(struct connpool *p, int cfd,
    int64_t now_ms, bool *evicted);
/* Stop watching, close and free the slot; a free slot is left alone. */
void connpool_drop(struct connpool *p, struct connpool_client *c);
/* Drop the clients older than the deadline; how many went. */
size_t connpool_expire(struct connpool *p, int64_t now_ms);
struct connpool_client *connpool_find(struct connpool *p, int fd);
/* Drop every client. */
void connpool_close(struct connpool *p);

/* Read what is there into c->in, at most up to max bytes in all
 * (max <= CONNPOOL_IN_MAX). Bytes added (> 0), 0 at EOF, -EAGAIN when
 * nothing is there yet (EINTR too), or -errno. */
ssize_t connpool_recv(struct connpool_client *c, size_t max);
/* Take buf (malloc'd, len bytes) as the answer and watch for POLLOUT. */
void connpool_reply(struct connpool *p, struct connpool_client *c, char *buf,
    size_t len);
/* Send what the socket takes of the answer, if revents say it is writable.
 * 1 when all is sent, 0 when more is left (or not writable yet), -errno
 * when the peer is gone (-EPIPE for a send of 0). */
int connpool_send(struct connpool_client *c, short revents);

#endif
