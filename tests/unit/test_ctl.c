/* test_ctl.c - the control socket: round trip, malformed and oversized
 * requests, slow clients that must not lock others out, who may do what
 * (the decision as tables, then through the socket as other users). */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
static struct ctl_access root_only;

static struct json_object *
handler(struct json_object *req, const struct ctl_peer *peer, void *arg)
{
	struct json_object *cmd, *o = json_object_new_object();

	(void)arg;
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "uid", json_object_new_int((int)peer->uid));
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
	ctl_access_root_only(&root_only);
	ck_assert_int_eq(ctl_server_open(&srv, loop, sock_path, &root_only,
	    handler, NULL), 0);
}

static void
teardown(void)
{
	ctl_server_close(&srv);
	evloop_free(loop);
}

/* Run ctl_request in a child while the parent serves; return the answer
 * text the child got (or "ERR <rc>"). As root, or as the user u. */
struct as_user;
static char *request_as(const struct as_user *u, const char *req_txt);

static char *
request_in_child(const char *req_txt)
{
	return request_as(NULL, req_txt);
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

/* Who may do what: the decision alone, peer by peer. */
START_TEST(test_authorize_table)
{
	enum { CTL = 4242, ADM = 4343, OTHER = 5000 };
	static const gid_t none[] = { 0 }, ctl[] = { 100, CTL },
	    adm[] = { ADM }, both[] = { CTL, ADM }, other[] = { OTHER, 27 };
	static const struct {
		const char *what;
		uid_t uid;
		gid_t gid;
		const gid_t *groups;
		size_t n;
		gid_t read_gid, admin_gid;
		enum ctl_auth read, act;
	} cases[] = {
		{ "root, no groups set", 0, 0, NULL, 0, (gid_t)-1, (gid_t)-1,
		  CTL_AUTH_OK, CTL_AUTH_OK },
		{ "a user, no groups set", 1000, 1000, NULL, 0, (gid_t)-1,
		  (gid_t)-1, CTL_AUTH_NOT_MEMBER, CTL_AUTH_NOT_MEMBER },
		{ "control_group by primary gid", 1000, CTL, none, 1, CTL, ADM,
		  CTL_AUTH_OK, CTL_AUTH_READ_ONLY },
		{ "control_group by a supplementary one", 1000, 1000, ctl, 2,
		  CTL, ADM, CTL_AUTH_OK, CTL_AUTH_READ_ONLY },
		{ "control_group, no admin_group set", 1000, 1000, ctl, 2, CTL,
		  (gid_t)-1, CTL_AUTH_OK, CTL_AUTH_READ_ONLY },
		{ "admin_group by a supplementary one", 1000, 1000, adm, 1,
		  CTL, ADM, CTL_AUTH_OK, CTL_AUTH_OK },
		{ "admin_group by primary gid", 1000, ADM, NULL, 0, CTL, ADM,
		  CTL_AUTH_OK, CTL_AUTH_OK },
		{ "admin_group without control_group", 1000, 1000, adm, 1,
		  (gid_t)-1, ADM, CTL_AUTH_OK, CTL_AUTH_OK },
		{ "in both", 1000, 1000, both, 2, CTL, ADM, CTL_AUTH_OK,
		  CTL_AUTH_OK },
		{ "in other groups only", 1000, 1000, other, 2, CTL, ADM,
		  CTL_AUTH_NOT_MEMBER, CTL_AUTH_NOT_MEMBER },
		{ "root in no group", 0, 0, NULL, 0, CTL, ADM, CTL_AUTH_OK,
		  CTL_AUTH_OK },
		/* (gid_t)-1 is "unset", never a group one is in */
		{ "gid -1 with nothing set", 1000, (gid_t)-1, NULL, 0,
		  (gid_t)-1, (gid_t)-1, CTL_AUTH_NOT_MEMBER,
		  CTL_AUTH_NOT_MEMBER },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ctl_peer p = {
			.uid = cases[i].uid, .gid = cases[i].gid, .pid = 1,
			.groups = cases[i].groups, .nr_groups = cases[i].n,
		};
		struct ctl_access a;

		ctl_access_root_only(&a);
		a.read_gid = cases[i].read_gid;
		a.admin_gid = cases[i].admin_gid;
		ck_assert_msg(ctl_authorize(&p, CTL_VERB_READ, &a) ==
		    cases[i].read, "%s: read", cases[i].what);
		ck_assert_msg(ctl_authorize(&p, CTL_VERB_ACT, &a) ==
		    cases[i].act, "%s: act", cases[i].what);
	}
}
END_TEST

/* Which requests read and which act: a dry run reads, anything unknown
 * acts. */
START_TEST(test_classify_table)
{
	static const struct {
		const char *req;
		enum ctl_verb verb;
		const char *name;
	} cases[] = {
		{ "{\"cmd\":\"ping\"}", CTL_VERB_READ, "ping" },
		{ "{\"cmd\":\"status\"}", CTL_VERB_READ, "status" },
		{ "{\"cmd\":\"explain\",\"guest\":\"a\"}", CTL_VERB_READ,
		  "explain" },
		{ "{\"cmd\":\"capacity\",\"vm_mib\":512}", CTL_VERB_READ,
		  "capacity" },
		{ "{\"cmd\":\"rebalance\",\"dry_run\":true}", CTL_VERB_READ,
		  "rebalance" },
		{ "{\"cmd\":\"rebalance\",\"dry_run\":true,\"reserve_mib\":9}",
		  CTL_VERB_READ, "rebalance" },
		{ "{\"cmd\":\"rebalance\"}", CTL_VERB_ACT, "rebalance" },
		{ "{\"cmd\":\"rebalance\",\"dry_run\":false}", CTL_VERB_ACT,
		  "rebalance" },
		{ "{\"cmd\":\"rebalance\",\"reserve_mib\":512}", CTL_VERB_ACT,
		  "rebalance" },
		/* not a boolean: the daemon refuses it; acting until then */
		{ "{\"cmd\":\"rebalance\",\"dry_run\":1}", CTL_VERB_ACT,
		  "rebalance" },
		{ "{\"cmd\":\"rebalance\",\"dry_run\":\"yes\"}", CTL_VERB_ACT,
		  "rebalance" },
		/* a release gives memory back and holds guests: acting,
		 * for root and admin_group; only its dry run reads */
		{ "{\"cmd\":\"release\"}", CTL_VERB_ACT, "release" },
		{ "{\"cmd\":\"release\",\"guests\":[\"a\"]}", CTL_VERB_ACT,
		  "release" },
		{ "{\"cmd\":\"release\",\"dry_run\":false}", CTL_VERB_ACT,
		  "release" },
		{ "{\"cmd\":\"release\",\"dry_run\":\"true\"}", CTL_VERB_ACT,
		  "release" },
		{ "{\"cmd\":\"release\",\"dry_run\":true,\"guests\":[]}",
		  CTL_VERB_READ, "release" },
		/* pause and resume stop and start acting: acting, with
		 * no dry run to read */
		{ "{\"cmd\":\"pause\"}", CTL_VERB_ACT, "pause" },
		{ "{\"cmd\":\"pause\",\"dry_run\":true}", CTL_VERB_ACT,
		  "pause" },
		{ "{\"cmd\":\"resume\",\"guests\":[\"a\"]}", CTL_VERB_ACT,
		  "resume" },
		{ "{\"cmd\":\"exclude\"}", CTL_VERB_ACT, NULL },
		{ "{\"cmd\":\"Status\"}", CTL_VERB_ACT, NULL },
		{ "{\"cmd\":7}", CTL_VERB_ACT, NULL },
		{ "{}", CTL_VERB_ACT, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *req = json_tokener_parse(cases[i].req);
		const char *name = "unset";

		ck_assert_ptr_nonnull(req);
		ck_assert_msg(ctl_classify(req, &name) == cases[i].verb, "%s",
		    cases[i].req);
		if (cases[i].name == NULL)
			ck_assert_msg(name == NULL, "%s: named %s", cases[i].req,
			    name);
		else
			ck_assert_str_eq(name, cases[i].name);
		json_object_put(req);
	}
}
END_TEST

START_TEST(test_rate_table)
{
	static const struct {
		int64_t last, now, interval;
		int rc;
		int64_t wait;
	} cases[] = {
		{ MT_ABSENT, 1000, 5000, 0, 0 },	/* the first one */
		{ 1000, 1000, 5000, -EAGAIN, 5000 },	/* at once again */
		{ 1000, 3500, 5000, -EAGAIN, 2500 },
		{ 1000, 5999, 5000, -EAGAIN, 1 },
		{ 1000, 6000, 5000, 0, 0 },		/* the interval is up */
		{ 1000, 90000, 5000, 0, 0 },
		{ 1000, 1000, 0, 0, 0 },		/* off */
		{ 5000, 1000, 5000, -EAGAIN, 5000 },	/* never above one */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t wait = -1;

		ck_assert_msg(ctl_rate_check(cases[i].last, cases[i].now,
		    cases[i].interval, &wait) == cases[i].rc, "case %zu", i);
		ck_assert_msg(wait == cases[i].wait, "case %zu: wait %lld", i,
		    (long long)wait);
	}
}
END_TEST

/* Through the socket as a user other than root: the groups are the
 * kernel's (SO_PEERGROUPS), the refusal carries its code and the wording
 * memtunectl prints, and the rate limit holds between two requests. */
struct as_user {
	uid_t uid;
	gid_t gid;
	gid_t group;			/* one supplementary group */
};

static char *
request_as(const struct as_user *u, const char *req_txt)
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
		if (u != NULL && (setgroups(1, &u->group) < 0 ||
		    setresgid(u->gid, u->gid, u->gid) < 0 ||
		    setresuid(u->uid, u->uid, u->uid) < 0))
			_exit(2);
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

START_TEST(test_verbs_as_users)
{
	static const struct as_user reader = { 54321, 54321, 4242 },
	    admin = { 54322, 54322, 4343 }, stranger = { 54323, 54323, 77 };
	struct ctl_access a;
	char *ans;

	if (geteuid() != 0)
		return;		/* needs to become another user */
	ctl_server_close(&srv);
	ctl_access_root_only(&a);
	a.read_gid = 4242;
	a.admin_gid = 4343;
	mt_strlcpy(a.read_group, "readers", sizeof(a.read_group));
	mt_strlcpy(a.admin_group, "movers", sizeof(a.admin_group));
	a.act_interval_ms = 60000;
	ck_assert_int_eq(ctl_server_open(&srv, loop, sock_path, &a, handler,
	    NULL), 0);
	/* the file modes are the daemon's first gate, tested by
	 * 19-control-auth.sh; open them so the second one is reached */
	ck_assert_int_eq(chmod(sock_path, 0666), 0);
	{
		char dir[sizeof(sock_path)];

		mt_strlcpy(dir, sock_path, sizeof(dir));
		*strrchr(dir, '/') = '\0';
		ck_assert_int_eq(chmod(dir, 0755), 0);
		*strrchr(dir, '/') = '\0';
		ck_assert_int_eq(chmod(dir, 0755), 0);
	}

	ans = request_as(&reader, "{\"cmd\":\"status\"}");
	ck_assert_msg(strstr(ans, "\"uid\":54321") != NULL, "answer: %s", ans);
	ans = request_as(&reader, "{\"cmd\":\"rebalance\",\"dry_run\":true}");
	ck_assert_msg(strstr(ans, "\"ok\":true") != NULL, "answer: %s", ans);
	ans = request_as(&reader, "{\"cmd\":\"rebalance\"}");
	ck_assert_msg(strstr(ans, "\"code\":\"" CTL_CODE_PERMISSION "\"") !=
	    NULL, "answer: %s", ans);
	ck_assert_msg(strstr(ans, "permission denied: rebalance needs root "
	    "or admin_group movers") != NULL, "answer: %s", ans);

	ans = request_as(&admin, "{\"cmd\":\"rebalance\"}");
	ck_assert_msg(strstr(ans, "\"echo\":\"rebalance\"") != NULL,
	    "answer: %s", ans);
	ans = request_as(&admin, "{\"cmd\":\"rebalance\",\"reserve_mib\":64}");
	ck_assert_msg(strstr(ans, "\"code\":\"" CTL_CODE_RATE "\"") != NULL,
	    "answer: %s", ans);
	ck_assert_msg(strstr(ans, "\"retry_after_ms\":") != NULL, "answer: %s",
	    ans);
	/* root is not limited: a start hook reserving for each of several
	 * VMs must not be refused */
	ans = request_in_child("{\"cmd\":\"rebalance\"}");
	ck_assert_msg(strstr(ans, "\"echo\":\"rebalance\"") != NULL,
	    "answer: %s", ans);

	ans = request_as(&stranger, "{\"cmd\":\"status\"}");
	ck_assert_msg(strstr(ans, "\"code\":\"" CTL_CODE_PERMISSION "\"") !=
	    NULL, "answer: %s", ans);
	ck_assert_msg(strstr(ans, "this socket is for root, control_group "
	    "readers or admin_group movers") != NULL, "answer: %s", ans);
}
END_TEST

START_TEST(test_stale_socket_replaced)
{
	struct ctl_server other;

	/* a live server holds the path: a second one must not steal it */
	ck_assert_int_eq(ctl_server_open(&other, loop, sock_path, &root_only,
	    handler, NULL), -EADDRINUSE);
	ctl_server_close(&srv);
	/* the file is gone now; a leftover file from a crash is replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	mt_strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ck_assert_int_eq(ctl_server_open(&srv, loop, sock_path, &root_only,
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
	tcase_add_test(tc, test_authorize_table);
	tcase_add_test(tc, test_classify_table);
	tcase_add_test(tc, test_rate_table);
	tcase_add_test(tc, test_verbs_as_users);
	tcase_add_test(tc, test_stale_socket_replaced);
	suite_add_tcase(s, tc);
	return s;
}
