/* test_evloop.c - signals, the tick timer, fds, and libvirt's event API
 * served by the same poll(), with libvirt's test driver delivering
 * lifecycle events through it. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "evloop.h"
#include "util.h"

Suite *evloop_suite(void);

struct seen {
	int signo;
	int timer_fired;
	int fd_calls;
	short fd_revents;
	int remove_id;
	struct evloop *loop;
	int virt_handle_calls;
	int virt_handle_events;
	int virt_timeout_calls;
	int freed;
	int lifecycle[8];
	int nr_lifecycle;
};

static void
on_signal(int signo, void *arg)
{
	((struct seen *)arg)->signo = signo;
}

static void
on_timer(void *arg)
{
	((struct seen *)arg)->timer_fired++;
}

static void
on_fd(int fd, short revents, void *arg)
{
	struct seen *s = arg;
	char c;

	s->fd_calls++;
	s->fd_revents = revents;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	/* removing oneself from inside the callback must be safe */
	if (s->remove_id > 0)
		ck_assert_int_eq(evloop_remove_fd(s->loop, s->remove_id), 0);
}

static struct evloop *
new_loop(struct seen *s)
{
	static const int sigs[] = { SIGHUP, SIGUSR1 };
	struct evloop *loop = NULL;

	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(evloop_new(&loop, sigs, 2, on_signal, s), 0);
	evloop_set_timer_cb(loop, on_timer, s);
	s->loop = loop;
	return loop;
}

START_TEST(test_signal)
{
	struct seen s;
	struct evloop *loop = new_loop(&s);

	/* blocked, so it waits in the signalfd instead of killing us */
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert_int_eq(evloop_iterate(loop, 1000), 1);
	ck_assert_int_eq(s.signo, SIGUSR1);
	ck_assert_int_eq(evloop_iterate(loop, 0), 0);
	evloop_free(loop);
}
END_TEST

START_TEST(test_timer)
{
	struct seen s;
	struct evloop *loop = new_loop(&s);
	int64_t t0 = mt_now_ms(), dt;

	ck_assert_int_eq(evloop_set_deadline(loop, t0 + 50), 0);
	ck_assert_int_eq(evloop_get_deadline(loop), t0 + 50);
	while (s.timer_fired == 0)
		ck_assert_int_ge(evloop_iterate(loop, 1000), 0);
	dt = mt_now_ms() - t0;
	ck_assert_int_ge(dt, 49);
	ck_assert_int_lt(dt, 500);
	ck_assert_int_eq(evloop_get_deadline(loop), MT_ABSENT);

	/* a deadline already past fires at once; a disarmed one never */
	ck_assert_int_eq(evloop_set_deadline(loop, t0 - 1000), 0);
	ck_assert_int_eq(evloop_iterate(loop, 1000), 1);
	ck_assert_int_eq(s.timer_fired, 2);
	ck_assert_int_eq(evloop_set_deadline(loop, mt_now_ms() + 20), 0);
	ck_assert_int_eq(evloop_set_deadline(loop, MT_ABSENT), 0);
	ck_assert_int_eq(evloop_iterate(loop, 60), 0);
	ck_assert_int_eq(s.timer_fired, 2);
	evloop_free(loop);
}
END_TEST

START_TEST(test_fd)
{
	struct seen s;
	struct evloop *loop = new_loop(&s);
	int p[2], id;

	ck_assert_int_eq(pipe(p), 0);
	id = evloop_add_fd(loop, p[0], POLLIN, on_fd, &s);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(evloop_iterate(loop, 0), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(evloop_iterate(loop, 1000), 1);
	ck_assert_int_eq(s.fd_calls, 1);
	ck_assert(s.fd_revents & POLLIN);

	/* muted: data waits */
	ck_assert_int_eq(evloop_update_fd(loop, id, 0), 0);
	ck_assert_int_eq(write(p[1], "y", 1), 1);
	ck_assert_int_eq(evloop_iterate(loop, 30), 0);
	ck_assert_int_eq(evloop_update_fd(loop, id, POLLIN), 0);
	s.remove_id = id;
	ck_assert_int_eq(evloop_iterate(loop, 1000), 1);
	ck_assert_int_eq(s.fd_calls, 2);
	/* removed by its own callback */
	ck_assert_int_eq(write(p[1], "z", 1), 1);
	ck_assert_int_eq(evloop_iterate(loop, 30), 0);
	ck_assert_int_eq(s.fd_calls, 2);
	ck_assert_int_eq(evloop_remove_fd(loop, id), -ENOENT);
	ck_assert_int_eq(evloop_add_fd(loop, -1, POLLIN, on_fd, &s), -EINVAL);
	close(p[0]);
	close(p[1]);
	evloop_free(loop);
}
END_TEST

static void
virt_handle_cb(int watch, int fd, int events, void *opaque)
{
	struct seen *s = opaque;
	char c;

	(void)watch;
	s->virt_handle_calls++;
	s->virt_handle_events = events;
	ck_assert_int_eq(read(fd, &c, 1), 1);
}

static void
virt_timeout_cb(int timer, void *opaque)
{
	struct seen *s = opaque;

	s->virt_timeout_calls++;
	if (s->virt_timeout_calls == 3)
		ck_assert_int_eq(virEventRemoveTimeout(timer), 0);
}

static void
virt_free(void *opaque)
{
	((struct seen *)opaque)->freed++;
}

START_TEST(test_libvirt_impl)
{
	struct seen s;
	struct evloop *loop = new_loop(&s);
	int p[2], watch, timer, i;
	int64_t t0;

	ck_assert_int_eq(evloop_register_libvirt(loop), 0);
	ck_assert_int_eq(pipe(p), 0);
	watch = virEventAddHandle(p[0], VIR_EVENT_HANDLE_READABLE,
	    virt_handle_cb, &s, virt_free);
	ck_assert_int_gt(watch, 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(evloop_iterate(loop, 1000), 1);
	ck_assert_int_eq(s.virt_handle_calls, 1);
	ck_assert_int_eq(s.virt_handle_events, VIR_EVENT_HANDLE_READABLE);

	/* a 20 ms periodic timeout that removes itself on its third run */
	t0 = mt_now_ms();
	timer = virEventAddTimeout(20, virt_timeout_cb, &s, virt_free);
	ck_assert_int_gt(timer, 0);
	for (i = 0; i < 50 && s.virt_timeout_calls < 3; i++)
		ck_assert_int_ge(evloop_iterate(loop, 1000), 0);
	ck_assert_int_eq(s.virt_timeout_calls, 3);
	ck_assert_int_ge(mt_now_ms() - t0, 58);
	/* freed later, from the loop, not from inside removeTimeout */
	ck_assert_int_eq(s.freed, 0);
	ck_assert_int_eq(evloop_iterate(loop, 0), 0);
	ck_assert_int_eq(s.freed, 1);
	ck_assert_int_eq(s.virt_timeout_calls, 3);

	ck_assert_int_eq(virEventRemoveHandle(watch), 0);
	ck_assert_int_eq(s.freed, 1);
	ck_assert_int_eq(write(p[1], "y", 1), 1);
	ck_assert_int_eq(evloop_iterate(loop, 30), 0);
	ck_assert_int_eq(s.freed, 2);
	ck_assert_int_eq(s.virt_handle_calls, 1);
	ck_assert_int_eq(virEventRemoveHandle(watch), -1);
	/* a libvirt handle is not the caller's to remove */
	close(p[0]);
	close(p[1]);
	evloop_free(loop);
}
END_TEST

static int
lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct seen *s = opaque;

	(void)conn;
	(void)dom;
	(void)detail;
	if (s->nr_lifecycle < (int)ARRAY_SIZE(s->lifecycle))
		s->lifecycle[s->nr_lifecycle++] = event;
	return 0;
}

static void
quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

START_TEST(test_libvirt_domain_events)
{
	struct seen s;
	struct evloop *loop = new_loop(&s);
	virConnectPtr conn;
	virDomainPtr dom;
	int cbid, i;

	virSetErrorFunc(NULL, quiet);
	ck_assert_int_eq(evloop_register_libvirt(loop), 0);
	conn = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(conn);
	cbid = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb),
	    &s, NULL);
	ck_assert_int_ge(cbid, 0);
	dom = virDomainLookupByName(conn, "test");
	ck_assert_ptr_nonnull(dom);

	ck_assert_int_eq(virDomainSuspend(dom), 0);
	for (i = 0; i < 20 && s.nr_lifecycle < 1; i++)
		ck_assert_int_ge(evloop_iterate(loop, 100), 0);
	ck_assert_int_eq(s.nr_lifecycle, 1);
	ck_assert_int_eq(s.lifecycle[0], VIR_DOMAIN_EVENT_SUSPENDED);

	ck_assert_int_eq(virDomainResume(dom), 0);
	for (i = 0; i < 20 && s.nr_lifecycle < 2; i++)
		ck_assert_int_ge(evloop_iterate(loop, 100), 0);
	ck_assert_int_eq(s.nr_lifecycle, 2);
	ck_assert_int_eq(s.lifecycle[1], VIR_DOMAIN_EVENT_RESUMED);

	ck_assert_int_eq(virConnectDomainEventDeregisterAny(conn, cbid), 0);
	virDomainFree(dom);
	virConnectClose(conn);
	/* let libvirt's deferred frees run before the loop goes */
	evloop_iterate(loop, 0);
	evloop_free(loop);
}
END_TEST

START_TEST(test_quit)
{
	struct seen s;
	struct evloop *loop = new_loop(&s);

	ck_assert(!evloop_quitting(loop));
	evloop_quit(loop);
	ck_assert(evloop_quitting(loop));
	/* run returns at once once asked to quit */
	ck_assert_int_eq(evloop_run(loop), 0);
	evloop_free(loop);
}
END_TEST

Suite *
evloop_suite(void)
{
	Suite *s = suite_create("evloop");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_timer);
	tcase_add_test(tc, test_fd);
	tcase_add_test(tc, test_libvirt_impl);
	tcase_add_test(tc, test_libvirt_domain_events);
	tcase_add_test(tc, test_quit);
	suite_add_tcase(s, tc);
	return s;
}
