/* test_connpool.c - client slots: oldest evicted when full, deadlines,
 * lookup by fd, partial input, and an answer sent in full. Socket pairs
 * stand in for accepted connections. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connpool.h"
#include "evloop.h"

Suite *connpool_suite(void);

#define NSLOTS 3

static struct evloop *loop;
static struct connpool pool;
static struct connpool_client slots[NSLOTS];
static int io_calls;

static void
on_io(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	(void)arg;
	io_calls++;
}

static void
setup(void)
{
	ck_assert_int_eq(evloop_new(&loop, NULL, 0, NULL, NULL), 0);
	connpool_init(&pool, loop, slots, NSLOTS, 1000, on_io, NULL);
	io_calls = 0;
}

static void
teardown(void)
{
	connpool_close(&pool);
	evloop_free(loop);
}

/* One connected pair: *peer is ours, the other end goes in the pool. */
static int
pair(int *peer)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	*peer = sv[0];
	return sv[1];
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(test_init_frees_slots)
{
	for (size_t i = 0; i < NSLOTS; i++)
		ck_assert_int_eq(slots[i].fd, -1);
	ck_assert_ptr_null(connpool_find(&pool, 0));
}
END_TEST

START_TEST(test_oldest_evicted)
{
	int peer[NSLOTS + 1], cfd[NSLOTS + 1];
	struct connpool_client *c;
	bool evicted;

	for (int i = 0; i < NSLOTS; i++) {
		cfd[i] = pair(&peer[i]);
		/* accepted out of order in time: slot 1 is the oldest */
		c = connpool_add(&pool, cfd[i], i == 1 ? 100 : 200 + i,
		    &evicted);
		ck_assert_ptr_nonnull(c);
		ck_assert(!evicted);
		ck_assert_ptr_eq(connpool_find(&pool, cfd[i]), c);
	}
	cfd[NSLOTS] = pair(&peer[NSLOTS]);
	c = connpool_add(&pool, cfd[NSLOTS], 300, &evicted);
	ck_assert(evicted);
	ck_assert_ptr_eq(c, &slots[1]);
	ck_assert_ptr_eq(connpool_find(&pool, cfd[NSLOTS]), &slots[1]);
	/* the evicted client's fd is closed: its peer reads EOF */
	char b;
	ck_assert_int_eq(read(peer[1], &b, 1), 0);
	ck_assert(fd_open(cfd[0]) && fd_open(cfd[2]));
	for (int i = 0; i <= NSLOTS; i++)
		close(peer[i]);
}
END_TEST

START_TEST(test_expire_and_drop)
{
	int p0, p1, c0, c1;
	bool evicted;
	char b;

	c0 = pair(&p0);
	c1 = pair(&p1);
	ck_assert_ptr_nonnull(connpool_add(&pool, c0, 1000, &evicted));
	ck_assert_ptr_nonnull(connpool_add(&pool, c1, 1500, &evicted));
	/* exactly at the deadline is still in time */
	ck_assert_uint_eq(connpool_expire(&pool, 2000), 0);
	ck_assert_uint_eq(connpool_expire(&pool, 2001), 1);
	ck_assert_ptr_null(connpool_find(&pool, c0));
	ck_assert_ptr_nonnull(connpool_find(&pool, c1));
	ck_assert_int_eq(read(p0, &b, 1), 0);
	/* dropping twice is harmless: a free slot is left alone */
	struct connpool_client *c = connpool_find(&pool, c1);
	connpool_drop(&pool, c);
	ck_assert_int_eq(c->fd, -1);
	connpool_drop(&pool, c);
	ck_assert_uint_eq(connpool_expire(&pool, 100000), 0);
	close(p0);
	close(p1);
}
END_TEST

START_TEST(test_recv_bounded)
{
	int peer, cfd = pair(&peer);
	struct connpool_client *c;
	bool evicted;

	c = connpool_add(&pool, cfd, 0, &evicted);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(connpool_recv(c, 8), -EAGAIN);
	ck_assert_int_eq(write(peer, "abcdefghijk", 11), 11);
	/* the limit holds even though more is waiting */
	ck_assert_int_eq(connpool_recv(c, 8), 8);
	ck_assert_str_eq(c->in, "abcdefgh");
	ck_assert_int_eq(connpool_recv(c, 8), -ENOBUFS);
	ck_assert_int_eq(connpool_recv(c, 11), 3);
	ck_assert_str_eq(c->in, "abcdefghijk");
	close(peer);
	ck_assert_int_eq(connpool_recv(c, 64), 0);
}
END_TEST

START_TEST(test_reply_sent_in_full)
{
	int peer, cfd = pair(&peer);
	struct connpool_client *c;
	bool evicted;
	char *out = strdup("answer\n"), got[16];

	c = connpool_add(&pool, cfd, 0, &evicted);
	ck_assert_ptr_nonnull(c);
	connpool_reply(&pool, c, out, 7);
	/* not writable per revents: nothing sent yet */
	ck_assert_int_eq(connpool_send(c, POLLIN), 0);
	ck_assert_uint_eq(c->out_off, 0);
	/* the loop now watches POLLOUT and calls back */
	ck_assert_int_ge(evloop_iterate(loop, 100), 1);
	ck_assert_int_ge(io_calls, 1);
	ck_assert_int_eq(connpool_send(c, POLLOUT), 1);
	ck_assert_int_eq(read(peer, got, sizeof(got)), 7);
	ck_assert(memcmp(got, "answer\n", 7) == 0);
	/* the peer gone: a send fails instead of hanging or raising SIGPIPE */
	c->out_off = 0;
	close(peer);
	ck_assert_int_lt(connpool_send(c, POLLOUT), 0);
}
END_TEST

START_TEST(test_accept_fd_nothing_pending)
{
	/* TCP listen() binds an ephemeral port by itself */
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(connpool_accept_fd(lfd, "test"), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(lfd);
}
END_TEST

Suite *
connpool_suite(void)
{
	Suite *s = suite_create("connpool");
	TCase *tc = tcase_create("slots");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_init_frees_slots);
	tcase_add_test(tc, test_oldest_evicted);
	tcase_add_test(tc, test_expire_and_drop);
	tcase_add_test(tc, test_recv_bounded);
	tcase_add_test(tc, test_reply_sent_in_full);
	tcase_add_test(tc, test_accept_fd_nothing_pending);
	suite_add_tcase(s, tc);
	return s;
}
