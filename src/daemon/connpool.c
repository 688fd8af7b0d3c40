/* connpool.c - see connpool.h */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connpool.h"
#include "evloop.h"
#include "log.h"

void
connpool_init(struct connpool *p, struct evloop *loop,
    struct connpool_client *slots, size_t nslots, int64_t deadline_ms,
    evloop_fd_fn io, void *arg)
{
	p->loop = loop;
	p->slots = slots;
	p->nslots = nslots;
	p->deadline_ms = deadline_ms;
	p->io = io;
	p->arg = arg;
	for (size_t i = 0; i < nslots; i++) {
		memset(&slots[i], 0, sizeof(slots[i]));
		slots[i].fd = -1;
	}
}

int
connpool_accept_fd(int listen_fd, const char *what)
{
	int cfd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0 && errno != EAGAIN && errno != EINTR)
		log_warn("%s: accept", what);
	return cfd;
}

void
connpool_drop(struct connpool *p, struct connpool_client *c)
{
	if (c->fd < 0)
		return;
	if (c->watch > 0)
		evloop_remove_fd(p->loop, c->watch);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

struct connpool_client *
connpool_add(struct connpool *p, int cfd, int64_t now_ms, bool *evicted)
{
	struct connpool_client *slot = NULL, *oldest = NULL;

	*evicted = false;
	for (size_t i = 0; i < p->nslots; i++) {
		struct connpool_client *c = &p->slots[i];

		if (c->fd < 0) {
			slot = c;
			break;
		}
		if (oldest == NULL || c->accepted_ms < oldest->accepted_ms)
			oldest = c;
	}
	if (slot == NULL) {
		/* all slots busy: a slow client must not lock others out */
		*evicted = true;
		connpool_drop(p, oldest);
		slot = oldest;
	}
	slot->fd = cfd;
	slot->accepted_ms = now_ms;
	slot->in_len = 0;
	slot->draining = false;
	slot->watch = evloop_add_fd(p->loop, cfd, POLLIN, p->io, p->arg);
	if (slot->watch < 0) {
		close(cfd);
		slot->fd = -1;
		return NULL;
	}
	return slot;
}

size_t
connpool_expire(struct connpool *p, int64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nslots; i++) {
		struct connpool_client *c = &p->slots[i];

		if (c->fd >= 0 && now_ms - c->accepted_ms > p->deadline_ms) {
			connpool_drop(p, c);
			n++;
		}
	}
	return n;
}

struct connpool_client *
connpool_find(struct connpool *p, int fd)
{
	for (size_t i = 0; i < p->nslots; i++)
		if (p->slots[i].fd == fd)
			return &p->slots[i];
	return NULL;
}

void
connpool_close(struct connpool *p)
{
	for (size_t i = 0; i < p->nslots; i++)
		connpool_drop(p, &p->slots[i]);
}

ssize_t
connpool_recv(struct connpool_client *c, size_t max)
{
	ssize_t n;

	if (max > CONNPOOL_IN_MAX)
		max = CONNPOOL_IN_MAX;
	if (c->in_len >= max)
		return -ENOBUFS;
	n = recv(c->fd, c->in + c->in_len, max - c->in_len, MSG_DONTWAIT);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	return n;
}

void
connpool_reply(struct connpool *p, struct connpool_client *c, char *buf,
    size_t len)
{
	c->out = buf;
	c->out_len = len;
	c->out_off = 0;
	evloop_update_fd(p->loop, c->watch, POLLOUT);
}

int
connpool_send(struct connpool_client *c, short revents)
{
	ssize_t n;

	if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
		return 0;
	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	c->out_off += (size_t)n;
	return c->out_off == c->out_len ? 1 : 0;
}
