/* evloop.c - see evloop.h */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "evloop.h"
#include "log.h"
#include "util.h"

struct ev_handle {
	int id;
	int fd;
	short events;			/* poll() events; 0 = not watched */
	bool deleted;
	bool virt;			/* registered by libvirt */
	evloop_fd_fn cb;
	void *arg;
	virEventHandleCallback vcb;
	void *opaque;
	virFreeCallback ff;
};

struct ev_timeout {
	int id;
	int freq_ms;			/* -1 disabled, 0 every iteration */
	int64_t expires_ms;
	bool deleted;
	virEventTimeoutCallback cb;
	void *opaque;
	virFreeCallback ff;
};

/* the fixed fds come first in the poll set */
enum { PFD_SIGNAL, PFD_TIMER, PFD_WAKE, PFD_FIXED };

struct evloop {
	/* libvirt may call the event API from a thread of its own: the lock
	 * guards the tables, and is never held while a callback runs */
	pthread_mutex_t lock;
	int sigfd;
	int timerfd;
	int wakefd;
	sigset_t sigset;
	sigset_t oldmask;
	evloop_signal_fn on_signal;
	void *signal_arg;
	evloop_timer_fn on_timer;
	void *timer_arg;
	int64_t deadline_ms;

	struct ev_handle *handles;
	size_t nr_handles;
	size_t cap_handles;
	struct ev_timeout *timeouts;
	size_t nr_timeouts;
	size_t cap_timeouts;
	int next_id;

	/* the poll set, grown when the handle count grows, reused otherwise
	 * so a tick allocates nothing */
	struct pollfd *pfds;
	int *pfd_ids;
	size_t cap_pfds;

	bool polling;
	bool quit;
};

static struct evloop *ev_virt_loop;
static bool ev_virt_registered;

static void
ev_wake(struct evloop *loop)
{
	uint64_t one = 1;

	/* only another thread can change the tables while we sit in poll() */
	if (loop->polling && write(loop->wakefd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("evloop: wake");
}

static int
ev_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	if ((p = reallocarray(*arr, ncap, elem)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* The poll set and its id map grow together, and only when needed. */
static int
ev_grow_pfds(struct evloop *loop, size_t need)
{
	struct pollfd *pfds;
	size_t ncap;
	int *ids;

	if (need <= loop->cap_pfds)
		return 0;
	ncap = MAX(loop->cap_pfds * 2, need);
	if ((pfds = reallocarray(loop->pfds, ncap, sizeof(*pfds))) == NULL)
		return -ENOMEM;
	loop->pfds = pfds;
	if ((ids = reallocarray(loop->pfd_ids, ncap, sizeof(*ids))) == NULL)
		return -ENOMEM;
	loop->pfd_ids = ids;
	loop->cap_pfds = ncap;
	return 0;
}

int
evloop_new(struct evloop **out, const int *signals, size_t nr_signals,
    evloop_signal_fn on_signal, void *arg)
{
	struct evloop *loop;
	size_t i;
	int rc;

	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return -ENOMEM;
	loop->sigfd = loop->timerfd = loop->wakefd = -1;
	loop->deadline_ms = MT_ABSENT;
	loop->next_id = 1;
	loop->on_signal = on_signal;
	loop->signal_arg = arg;
	pthread_mutex_init(&loop->lock, NULL);

	sigemptyset(&loop->sigset);
	for (i = 0; i < nr_signals; i++) {
		if (sigaddset(&loop->sigset, signals[i]) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	if ((rc = pthread_sigmask(SIG_BLOCK, &loop->sigset, &loop->oldmask)) != 0) {
		rc = -rc;
		goto fail;
	}
	if ((loop->sigfd = signalfd(-1, &loop->sigset, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (loop->timerfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    (loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		rc = -errno;
		pthread_sigmask(SIG_SETMASK, &loop->oldmask, NULL);
		goto fail;
	}
	if ((rc = ev_grow_pfds(loop, PFD_FIXED + 16)) < 0) {
		pthread_sigmask(SIG_SETMASK, &loop->oldmask, NULL);
		goto fail;
	}
	*out = loop;
	return 0;
fail:
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->timerfd >= 0)
		close(loop->timerfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	free(loop->pfds);
	free(loop->pfd_ids);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
	return rc;
}

void
evloop_free(struct evloop *loop)
{
	size_t i;

	if (loop == NULL)
		return;
	if (ev_virt_loop == loop)
		ev_virt_loop = NULL;
	for (i = 0; i < loop->nr_handles; i++)
		if (loop->handles[i].ff != NULL)
			loop->handles[i].ff(loop->handles[i].opaque);
	for (i = 0; i < loop->nr_timeouts; i++)
		if (loop->timeouts[i].ff != NULL)
			loop->timeouts[i].ff(loop->timeouts[i].opaque);
	close(loop->sigfd);
	close(loop->timerfd);
	close(loop->wakefd);
	pthread_sigmask(SIG_SETMASK, &loop->oldmask, NULL);
	free(loop->handles);
	free(loop->timeouts);
	free(loop->pfds);
	free(loop->pfd_ids);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

void
evloop_set_timer_cb(struct evloop *loop, evloop_timer_fn on_timer, void *arg)
{
	loop->on_timer = on_timer;
	loop->timer_arg = arg;
}

int
evloop_set_deadline(struct evloop *loop, int64_t deadline_ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (deadline_ms != MT_ABSENT) {
		/* an all-zero it_value would disarm: a deadline at or before
		 * the epoch of the clock still has to fire */
		if (deadline_ms <= 0) {
			its.it_value.tv_nsec = 1;
		} else {
			its.it_value.tv_sec = deadline_ms / 1000;
			its.it_value.tv_nsec = (deadline_ms % 1000) * 1000000;
		}
	}
	/* another thread may set it (the daemon stopping its control
	 * thread): the timerfd is safe, the field under the lock */
	pthread_mutex_lock(&loop->lock);
	if (timerfd_settime(loop->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		pthread_mutex_unlock(&loop->lock);
		return -errno;
	}
	loop->deadline_ms = deadline_ms;
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

int64_t
evloop_get_deadline(struct evloop *loop)
{
	int64_t v;

	pthread_mutex_lock(&loop->lock);
	v = loop->deadline_ms;
	pthread_mutex_unlock(&loop->lock);
	return v;
}

static struct ev_handle *
ev_find_handle(struct evloop *loop, int id)
{
	size_t i;

	for (i = 0; i < loop->nr_handles; i++)
		if (loop->handles[i].id == id && !loop->handles[i].deleted)
			return &loop->handles[i];
	return NULL;
}

static struct ev_timeout *
ev_find_timeout(struct evloop *loop, int id)
{
	size_t i;

	for (i = 0; i < loop->nr_timeouts; i++)
		if (loop->timeouts[i].id == id && !loop->timeouts[i].deleted)
			return &loop->timeouts[i];
	return NULL;
}

static int
ev_add_handle(struct evloop *loop, const struct ev_handle *h)
{
	int id;

	pthread_mutex_lock(&loop->lock);
	if (ev_grow((void **)&loop->handles, &loop->cap_handles,
	    loop->nr_handles + 1, sizeof(*loop->handles)) < 0) {
		pthread_mutex_unlock(&loop->lock);
		return -ENOMEM;
	}
	id = loop->next_id++;
	loop->handles[loop->nr_handles] = *h;
	loop->handles[loop->nr_handles].id = id;
	loop->nr_handles++;
	ev_wake(loop);
	pthread_mutex_unlock(&loop->lock);
	return id;
}

static int
ev_update_handle(struct evloop *loop, int id, short events, bool virt)
{
	struct ev_handle *h;
	int rc = -ENOENT;

	pthread_mutex_lock(&loop->lock);
	if ((h = ev_find_handle(loop, id)) != NULL && h->virt == virt) {
		h->events = events;
		rc = 0;
		ev_wake(loop);
	}
	pthread_mutex_unlock(&loop->lock);
	return rc;
}

static int
ev_remove_handle(struct evloop *loop, int id, bool virt)
{
	struct ev_handle *h;
	int rc = -ENOENT;

	pthread_mutex_lock(&loop->lock);
	if ((h = ev_find_handle(loop, id)) != NULL && h->virt == virt) {
		/* freed at the top of the next iteration, never from inside
		 * the caller's stack */
		h->deleted = true;
		h->events = 0;
		rc = 0;
		ev_wake(loop);
	}
	pthread_mutex_unlock(&loop->lock);
	return rc;
}

int
evloop_add_fd(struct evloop *loop, int fd, short events, evloop_fd_fn cb,
    void *arg)
{
	struct ev_handle h = { .fd = fd, .events = events, .cb = cb, .arg = arg };

	if (fd < 0 || cb == NULL)
		return -EINVAL;
	return ev_add_handle(loop, &h);
}

int
evloop_update_fd(struct evloop *loop, int id, short events)
{
	return ev_update_handle(loop, id, events, false);
}

int
evloop_remove_fd(struct evloop *loop, int id)
{
	return ev_remove_handle(loop, id, false);
}

/* Drop deleted entries and run their free functions unlocked. */
static void
ev_purge(struct evloop *loop)
{
	virFreeCallback ff;
	void *opaque;
	size_t i;

	for (i = 0; i < loop->nr_handles;) {
		if (!loop->handles[i].deleted) {
			i++;
			continue;
		}
		ff = loop->handles[i].ff;
		opaque = loop->handles[i].opaque;
		memmove(&loop->handles[i], &loop->handles[i + 1],
		    (loop->nr_handles - i - 1) * sizeof(*loop->handles));
		loop->nr_handles--;
		if (ff != NULL) {
			pthread_mutex_unlock(&loop->lock);
			ff(opaque);
			pthread_mutex_lock(&loop->lock);
		}
	}
	for (i = 0; i < loop->nr_timeouts;) {
		if (!loop->timeouts[i].deleted) {
			i++;
			continue;
		}
		ff = loop->timeouts[i].ff;
		opaque = loop->timeouts[i].opaque;
		memmove(&loop->timeouts[i], &loop->timeouts[i + 1],
		    (loop->nr_timeouts - i - 1) * sizeof(*loop->timeouts));
		loop->nr_timeouts--;
		if (ff != NULL) {
			pthread_mutex_unlock(&loop->lock);
			ff(opaque);
			pthread_mutex_lock(&loop->lock);
		}
	}
}

static int
ev_poll_timeout(struct evloop *loop, int max_wait_ms, int64_t now_ms)
{
	int64_t wait = max_wait_ms < 0 ? INT64_MAX : max_wait_ms;
	size_t i;

	for (i = 0; i < loop->nr_timeouts; i++) {
		const struct ev_timeout *t = &loop->timeouts[i];

		if (t->deleted || t->freq_ms < 0)
			continue;
		wait = MIN(wait, MAX(t->expires_ms - now_ms, 0));
	}
	if (wait == INT64_MAX)
		return -1;
	return (int)MIN(wait, INT32_MAX);
}

static int
ev_virt_events(short revents)
{
	int ev = 0;

	if (revents & POLLIN)
		ev |= VIR_EVENT_HANDLE_READABLE;
	if (revents & POLLOUT)
		ev |= VIR_EVENT_HANDLE_WRITABLE;
	if (revents & POLLERR)
		ev |= VIR_EVENT_HANDLE_ERROR;
	if (revents & POLLHUP)
		ev |= VIR_EVENT_HANDLE_HANGUP;
	return ev;
}

static short
ev_poll_events(int virt_events)
{
	short ev = 0;

	if (virt_events & VIR_EVENT_HANDLE_READABLE)
		ev |= POLLIN;
	if (virt_events & VIR_EVENT_HANDLE_WRITABLE)
		ev |= POLLOUT;
	return ev;
}

static int
ev_dispatch_signals(struct evloop *loop)
{
	struct signalfd_siginfo si;
	int n = 0;

	while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (loop->on_signal == NULL)
			continue;
		pthread_mutex_unlock(&loop->lock);
		loop->on_signal((int)si.ssi_signo, loop->signal_arg);
		pthread_mutex_lock(&loop->lock);
		n++;
	}
	return n;
}

static int
ev_dispatch_timer(struct evloop *loop)
{
	uint64_t expirations;

	if (read(loop->timerfd, &expirations, sizeof(expirations)) !=
	    (ssize_t)sizeof(expirations))
		return 0;
	/* one-shot: the callback sets the next deadline */
	loop->deadline_ms = MT_ABSENT;
	if (loop->on_timer == NULL)
		return 0;
	pthread_mutex_unlock(&loop->lock);
	loop->on_timer(loop->timer_arg);
	pthread_mutex_lock(&loop->lock);
	return 1;
}

static int
ev_dispatch_handle(struct evloop *loop, int id, short revents)
{
	struct ev_handle *h = ev_find_handle(loop, id), copy;

	/* an earlier callback of this round may have removed or muted it */
	if (h == NULL || h->events == 0)
		return 0;
	if (revents & POLLNVAL) {
		/* closed behind our back: stop watching rather than spin */
		log_warnx("evloop: fd %d was closed while watched; dropping it",
		    h->fd);
		h->events = 0;
		return 0;
	}
	copy = *h;
	pthread_mutex_unlock(&loop->lock);
	if (copy.virt)
		copy.vcb(copy.id, copy.fd, ev_virt_events(revents), copy.opaque);
	else
		copy.cb(copy.fd, revents, copy.arg);
	pthread_mutex_lock(&loop->lock);
	return 1;
}

static int
ev_dispatch_timeouts(struct evloop *loop)
{
	size_t i, nr = loop->nr_timeouts;
	int64_t now = mt_now_ms();
	int n = 0;

	/* only those present when the round began: a timeout added by a
	 * callback waits for the next round */
	for (i = 0; i < nr && i < loop->nr_timeouts; i++) {
		struct ev_timeout *t = &loop->timeouts[i];
		virEventTimeoutCallback cb;
		void *opaque;
		int id;

		if (t->deleted || t->freq_ms < 0 || t->expires_ms > now)
			continue;
		t->expires_ms = now + t->freq_ms;
		cb = t->cb;
		opaque = t->opaque;
		id = t->id;
		pthread_mutex_unlock(&loop->lock);
		cb(id, opaque);
		pthread_mutex_lock(&loop->lock);
		n++;
	}
	return n;
}

int
evloop_iterate(struct evloop *loop, int max_wait_ms)
{
	size_t i, nfds = PFD_FIXED;
	int timeout, r, n = 0, rc;

	pthread_mutex_lock(&loop->lock);
	ev_purge(loop);
	if ((rc = ev_grow_pfds(loop, PFD_FIXED + loop->nr_handles)) < 0)
		goto out;
	loop->pfds[PFD_SIGNAL] = (struct pollfd){ .fd = loop->sigfd, .events = POLLIN };
	loop->pfds[PFD_TIMER] = (struct pollfd){ .fd = loop->timerfd, .events = POLLIN };
	loop->pfds[PFD_WAKE] = (struct pollfd){ .fd = loop->wakefd, .events = POLLIN };
	for (i = 0; i < loop->nr_handles; i++) {
		const struct ev_handle *h = &loop->handles[i];

		if (h->deleted || h->events == 0)
			continue;
		loop->pfds[nfds] = (struct pollfd){ .fd = h->fd, .events = h->events };
		loop->pfd_ids[nfds] = h->id;
		nfds++;
	}
	timeout = ev_poll_timeout(loop, max_wait_ms, mt_now_ms());
	loop->polling = true;
	pthread_mutex_unlock(&loop->lock);
	r = poll(loop->pfds, nfds, timeout);
	pthread_mutex_lock(&loop->lock);
	loop->polling = false;
	if (r < 0) {
		rc = errno == EINTR ? 0 : -errno;
		goto out;
	}

	if (loop->pfds[PFD_WAKE].revents & POLLIN) {
		uint64_t v;

		if (read(loop->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			log_warn("evloop: wake read");
	}
	if (loop->pfds[PFD_SIGNAL].revents & POLLIN)
		n += ev_dispatch_signals(loop);
	for (i = PFD_FIXED; i < nfds; i++)
		if (loop->pfds[i].revents != 0)
			n += ev_dispatch_handle(loop, loop->pfd_ids[i],
			    loop->pfds[i].revents);
	if (loop->pfds[PFD_TIMER].revents & POLLIN)
		n += ev_dispatch_timer(loop);
	n += ev_dispatch_timeouts(loop);
	rc = n;
out:
	pthread_mutex_unlock(&loop->lock);
	return rc;
}

int
evloop_run(struct evloop *loop)
{
	int rc;

	while (!loop->quit)
		if ((rc = evloop_iterate(loop, -1)) < 0)
			return rc;
	return 0;
}

void
evloop_quit(struct evloop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->quit = true;
	ev_wake(loop);
	pthread_mutex_unlock(&loop->lock);
}

bool
evloop_quitting(const struct evloop *loop)
{
	return loop->quit;
}

/* libvirt's side: the event API has no context pointer, hence the one
 * process-wide loop. */

static int
ev_virt_add_handle(int fd, int event, virEventHandleCallback cb, void *opaque,
    virFreeCallback ff)
{
	struct ev_handle h = {
		.fd = fd, .events = ev_poll_events(event), .virt = true,
		.vcb = cb, .opaque = opaque, .ff = ff,
	};

	int id;

	if (ev_virt_loop == NULL)
		return -1;
	id = ev_add_handle(ev_virt_loop, &h);
	return id < 0 ? -1 : id;
}

static void
ev_virt_update_handle(int watch, int event)
{
	if (ev_virt_loop != NULL)
		ev_update_handle(ev_virt_loop, watch, ev_poll_events(event), true);
}

static int
ev_virt_remove_handle(int watch)
{
	if (ev_virt_loop == NULL)
		return -1;
	return ev_remove_handle(ev_virt_loop, watch, true) < 0 ? -1 : 0;
}

static int
ev_virt_add_timeout(int freq_ms, virEventTimeoutCallback cb, void *opaque,
    virFreeCallback ff)
{
	struct evloop *loop = ev_virt_loop;
	int id;

	if (loop == NULL)
		return -1;
	pthread_mutex_lock(&loop->lock);
	if (ev_grow((void **)&loop->timeouts, &loop->cap_timeouts,
	    loop->nr_timeouts + 1, sizeof(*loop->timeouts)) < 0) {
		pthread_mutex_unlock(&loop->lock);
		return -1;
	}
	id = loop->next_id++;
	loop->timeouts[loop->nr_timeouts++] = (struct ev_timeout){
		.id = id, .freq_ms = freq_ms,
		.expires_ms = mt_now_ms() + (freq_ms > 0 ? freq_ms : 0),
		.cb = cb, .opaque = opaque, .ff = ff,
	};
	ev_wake(loop);
	pthread_mutex_unlock(&loop->lock);
	return id;
}

static void
ev_virt_update_timeout(int timer, int freq_ms)
{
	struct evloop *loop = ev_virt_loop;
	struct ev_timeout *t;

	if (loop == NULL)
		return;
	pthread_mutex_lock(&loop->lock);
	if ((t = ev_find_timeout(loop, timer)) != NULL) {
		t->freq_ms = freq_ms;
		t->expires_ms = mt_now_ms() + (freq_ms > 0 ? freq_ms : 0);
		ev_wake(loop);
	}
	pthread_mutex_unlock(&loop->lock);
}

static int
ev_virt_remove_timeout(int timer)
{
	struct evloop *loop = ev_virt_loop;
	struct ev_timeout *t;
	int rc = -1;

	if (loop == NULL)
		return -1;
	pthread_mutex_lock(&loop->lock);
	if ((t = ev_find_timeout(loop, timer)) != NULL) {
		t->deleted = true;
		t->freq_ms = -1;
		rc = 0;
		ev_wake(loop);
	}
	pthread_mutex_unlock(&loop->lock);
	return rc;
}

int
evloop_register_libvirt(struct evloop *loop)
{
	if (ev_virt_loop != NULL && ev_virt_loop != loop)
		return -EBUSY;
	ev_virt_loop = loop;
	if (!ev_virt_registered) {
		virEventRegisterImpl(ev_virt_add_handle, ev_virt_update_handle,
		    ev_virt_remove_handle, ev_virt_add_timeout,
		    ev_virt_update_timeout, ev_virt_remove_timeout);
		ev_virt_registered = true;
	}
	return 0;
}
