/* test_ctl.c - the control socket: round trip, malformed and oversized
 * requests, slow clients that must not lock others out, peer checks. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "evloop.h"
#include "util.h"

Suite *ctl_suite(void);

static char sock_path[108];
static struct evloop *loop;
static struct ctl_server srv;

static struct json_object *
handler(struct json_object *req, uid_t uid, void *arg)
{
	struct json_object *cmd, *o = json_object_new_object();

	(void)arg;
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "uid", json_object_new_int((int)uid));
	if (json_object_object_get_ex(req, "cmd", &cmd))
		json_object_object_add(o, "echo",
		    json_object_new_string(json_object_get_string(cmd)));
	return o;
}

static void
setup(void)
{
	char dir[] = "/tmp/mt-ctl-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/sub/control.sock", dir);
	ck_assert_int_eq(evloop_new(&loop, NULL, 0, NULL, NULL), 0);
	ck_assert_int_eq(ctl_server_open(&srv, loop, sock_path, (gid_t)-1,
	    handler, NULL), 0);
}

static void
teardown(void)
{
	ctl_server_close(&srv);
	evloop_free(loop);
}

/* Run ctl_request in a child while the parent serves; return the answer
 * text the child got (or "ERR <rc>"). */
static char *
request_in_child(const char *req_txt)
{
	int p[2];
	pid_t pid;
	static char answer[4096];
	ssize_t n, off = 0;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct json_object *req = json_tokener_parse(req_txt), *resp;
		int rc;

		close(p[0]);
		rc = ctl_request(sock_path, req, 3000, &resp);
		if (rc == 0)
			dprintf(p[1], "%s", json_object_to_json_string_ext(resp,
			    JSON_C_TO_STRING_PLAIN));
		else
			dprintf(p[1], "ERR %d", rc);
		_exit(0);
	}
	close(p[1]);
	for (int i = 0; i < 100; i++) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		evloop_iterate(loop, 20);
		if (poll(&pfd, 1, 0) > 0)
			break;
	}
	while ((n = read(p[0], answer + off, sizeof(answer) - 1 - (size_t)off)) > 0)
		off += n;
	answer[off] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
	return answer;
}

static int
raw_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	mt_strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Send raw bytes, serve, and read what the server answers. */
static char *
raw_exchange(const char *bytes, size_t len)
{
	static char answer[512];
	int fd = raw_connect();
	ssize_t n = 0, off = 0;

	ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
	for (int i = 0; i < 50; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		evloop_iterate(loop, 20);
		if (poll(&pfd, 1, 0) > 0) {
			n = read(fd, answer + off, sizeof(answer) - 1 - (size_t)off);
			if (n <= 0)
				break;
			off += n;
		}
	}
	answer[off] = '\0';
	close(fd);
	return answer;
}

START_TEST(test_round_trip)
{
	char *a = request_in_child("{\"cmd\":\"ping\"}");

	ck_assert_msg(strstr(a, "\"echo\":\"ping\"") != NULL, "answer: %s", a);
	ck_assert_msg(strstr(a, "\"ok\":true") != NULL, "answer: %s", a);
	ck_assert_int_eq(srv.served, 1);
}
END_TEST

START_TEST(test_malformed)
{
	char *a = raw_exchange("{\"cmd\": nope}\n", 14);

	ck_assert_msg(strstr(a, "malformed request") != NULL, "answer: %s", a);
	a = raw_exchange("[1,2]\n", 6);
	ck_assert_msg(strstr(a, "malformed request") != NULL, "answer: %s", a);
	a = raw_exchange("{\"cmd\":\"a\"} {\"cmd\":\"b\"}\n", 24);
	ck_assert_msg(strstr(a, "malformed request") != NULL, "answer: %s", a);
	ck_assert_int_eq(srv.served, 0);
}
END_TEST

START_TEST(test_oversized)
{
	size_t len = CTL_REQUEST_MAX + 100;
	char *big = malloc(len);
	char *a;

	memset(big, 'x', len);
	a = raw_exchange(big, len);
	ck_assert_msg(strstr(a, "request too large") != NULL, "answer: %s", a);
	free(big);
}
END_TEST

START_TEST(test_slow_clients_do_not_lock_out)
{
	int fds[CTL_MAX_CLIENTS + 2];
	char *a;

	/* more silent clients than slots */
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = raw_connect();
		evloop_iterate(loop, 10);
	}
	ck_assert_uint_ge(srv.dropped, 2);
	a = request_in_child("{\"cmd\":\"status\"}");
	ck_assert_msg(strstr(a, "\"echo\":\"status\"") != NULL, "answer: %s", a);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
	/* and a silent client past its deadline is dropped */
	fds[0] = raw_connect();
	evloop_iterate(loop, 10);
	uint64_t before = srv.dropped;
	ctl_server_expire(&srv, mt_now_ms() + CTL_CLIENT_DEADLINE_MS + 1);
	ck_assert_uint_gt(srv.dropped, before);
	close(fds[0]);
}
END_TEST

START_TEST(test_no_daemon)
{
	struct json_object *req = json_object_new_object(), *resp;

	ck_assert_int_eq(ctl_request("/tmp/mt-no-such-dir/control.sock", req,
	    100, &resp), -ENOENT);
	json_object_put(req);
}
END_TEST

START_TEST(test_peer_allowed)
{
	ck_assert(ctl_peer_allowed(0, 0, 1, (gid_t)-1));
	ck_assert(!ctl_peer_allowed(1000, 1000, 1, (gid_t)-1));
	ck_assert(ctl_peer_allowed(1000, 4242, 1, 4242));
	/* a uid with no passwd entry and another primary group: refused */
	ck_assert(!ctl_peer_allowed(987654, 987654, 1, 4242));
}
END_TEST

START_TEST(test_stale_socket_replaced)
{
	struct ctl_server other;

	/* a live server holds the path: a second one must not steal it */
	ck_assert_int_eq(ctl_server_open(&other, loop, sock_path, (gid_t)-1,
	    handler, NULL), -EADDRINUSE);
	ctl_server_close(&srv);
	/* the file is gone now; a leftover file from a crash is replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	mt_strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ck_assert_int_eq(ctl_server_open(&srv, loop, sock_path, (gid_t)-1,
	    handler, NULL), 0);
}
END_TEST

Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("socket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_slow_clients_do_not_lock_out);
	tcase_add_test(tc, test_no_daemon);
	tcase_add_test(tc, test_peer_allowed);
	tcase_add_test(tc, test_stale_socket_replaced);
	suite_add_tcase(s, tc);
	return s;
}
