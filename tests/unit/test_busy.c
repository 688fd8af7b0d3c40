/* test_busy.c - no libvirt call holds the loop past its deadline, and a
 * guest busy with a job, paused, or with a call still out is skipped with
 * a reason: the worker calls with a blocking function, the job check on
 * libvirt's test driver (whose control info follows virDomainSetTime:
 * 1..9999 reads as a job, 10000..29999 as a monitor occupied that long),
 * and a paused domain through the collector and the daemon's status. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "act.h"
#include "ctl.h"
#include "daemon.h"
#include "guests.h"
#include "log.h"
#include "report.h"
#include "util.h"
#include "virt.h"

Suite *busy_suite(void);

#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"
#define FIXTURE_ROOT "tests/fixtures/host-debian12-k6.18"

static char logged[8192];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* workers log too: under a lock */
static void
log_capture(int pri, const char *line, void *arg)
{
	(void)pri;
	(void)arg;
	pthread_mutex_lock(&log_lock);
	if (strlen(logged) + strlen(line) + 2 < sizeof(logged)) {
		strcat(logged, line);
		strcat(logged, "\n");
	}
	pthread_mutex_unlock(&log_lock);
}

static bool
logged_has(const char *s)
{
	bool r;

	pthread_mutex_lock(&log_lock);
	r = strstr(logged, s) != NULL;
	pthread_mutex_unlock(&log_lock);
	return r;
}

static void
quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

static void
setup(void)
{
	logged[0] = '\0';
	log_init("test", LOG_TO_STDERR, 0);
	log_set_hook(log_capture, NULL);
	virSetErrorFunc(NULL, quiet);
}

static void
teardown(void)
{
	log_set_hook(NULL, NULL);
}

/* ------------------------------------------------------ worker calls */

/* A call that blocks until its pipe is written, like a libvirt call
 * waiting for a job lock or a monitor. */
struct block_req {
	int fd;
	int value;
};

static int late_calls;
static pthread_mutex_t late_lock = PTHREAD_MUTEX_INITIALIZER;

static int
block_fn(virConnectPtr conn, void *data)
{
	struct block_req *r = data;
	char c;

	(void)conn;
	if (read(r->fd, &c, 1) != 1)
		return -EIO;
	r->value = c;
	return 0;
}

static void
block_late(void *data, int rc)
{
	(void)data;
	(void)rc;
	pthread_mutex_lock(&late_lock);
	late_calls++;
	pthread_mutex_unlock(&late_lock);
}

static int
late_count(void)
{
	int n;

	pthread_mutex_lock(&late_lock);
	n = late_calls;
	pthread_mutex_unlock(&late_lock);
	return n;
}

static int
double_fn(virConnectPtr conn, void *data)
{
	(void)conn;
	((struct block_req *)data)->value *= 2;
	return ((struct block_req *)data)->value > 100 ? -ERANGE : 0;
}

/* wait up to 2 s for the workers to finish what was left to them */
static void
wait_unstuck(void)
{
	for (int i = 0; i < 200 && virt_calls_stuck() > 0; i++)
		usleep(10000);
	ck_assert_int_eq(virt_calls_stuck(), 0);
}

START_TEST(test_deadline)
{
	const char *keys[] = { "k1", "k2", "k3" };
	struct virt_call c = {
		.fn = block_fn, .late = block_late, .what = "test call",
		.deadline_ms = 150,
	};
	struct virt_call d = {
		.fn = double_fn, .key = "k9", .what = "quick", .deadline_ms = 1000,
	};
	struct block_req r, q;
	int p[VIRT_WORKERS][2], late0 = late_count();
	int64_t t0, took, since;

	/* in time: the answer and the data come back */
	q.value = 21;
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, sizeof(q)), 0);
	ck_assert_int_eq(q.value, 42);
	q.value = 60;
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, sizeof(q)), -ERANGE);
	ck_assert_int_eq(q.value, 120);

	/* a call that hangs holds the caller for its deadline, no longer */
	ck_assert_int_eq(pipe(p[0]), 0);
	c.key = keys[0];
	r.fd = p[0][0];
	t0 = mt_now_ms();
	ck_assert_int_eq(virt_call_run(NULL, &c, &r, sizeof(r)), -ETIMEDOUT);
	took = mt_now_ms() - t0;
	ck_assert_int_ge(took, 150);
	ck_assert_int_lt(took, 1000);
	ck_assert(logged_has("test call for k1: no answer from libvirt within "
	    "150 ms"));
	ck_assert(virt_call_stuck("k1", &since));
	ck_assert_int_ge(since, 150);
	ck_assert(!virt_call_stuck("k2", NULL));
	/* nothing more about k1 while it is out: at once, not a deadline */
	t0 = mt_now_ms();
	ck_assert_int_eq(virt_call_run(NULL, &c, &r, sizeof(r)), -EBUSY);
	ck_assert_int_lt(mt_now_ms() - t0, 100);
	/* other keys still get through */
	q.value = 1;
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, sizeof(q)), 0);
	ck_assert_int_eq(q.value, 2);

	/* every worker held: -EBUSY at once for anyone */
	for (int i = 1; i < VIRT_WORKERS; i++) {
		ck_assert_int_eq(pipe(p[i]), 0);
		c.key = keys[i];
		r.fd = p[i][0];
		ck_assert_int_eq(virt_call_run(NULL, &c, &r, sizeof(r)),
		    -ETIMEDOUT);
	}
	ck_assert_int_eq(virt_calls_stuck(), VIRT_WORKERS);
	t0 = mt_now_ms();
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, sizeof(q)), -EBUSY);
	ck_assert_int_lt(mt_now_ms() - t0, 100);

	/* the calls return: their answers are dropped, the workers free */
	for (int i = 0; i < VIRT_WORKERS; i++)
		ck_assert_int_eq(write(p[i][1], "x", 1), 1);
	wait_unstuck();
	ck_assert_int_eq(late_count(), late0 + VIRT_WORKERS);
	ck_assert(logged_has("test call for k1: libvirt answered after"));
	q.value = 5;
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, sizeof(q)), 0);
	ck_assert_int_eq(q.value, 10);
	for (int i = 0; i < VIRT_WORKERS; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	/* bad requests */
	d.deadline_ms = 0;
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, sizeof(q)), -EINVAL);
	d.deadline_ms = 100;
	ck_assert_int_eq(virt_call_run(NULL, &d, &q, VIRT_CALL_DATA_MAX + 1),
	    -EINVAL);
}
END_TEST

/* ------------------------------------------------------- the job check */

static unsigned long
test_memory(virDomainPtr dom)
{
	virDomainInfo info;

	ck_assert_int_eq(virDomainGetInfo(dom, &info), 0);
	return info.memory;
}

START_TEST(test_job_check)
{
	virConnectPtr conn;
	virDomainPtr dom;
	unsigned long before;

	conn = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(conn);
	dom = virDomainLookupByName(conn, "test");
	ck_assert_ptr_nonnull(dom);
	before = test_memory(dom);

	/* a job running for 5 ms: skipped, not waited for */
	ck_assert_int_eq(virDomainSetTime(dom, 5, 0, 0), 0);
	ck_assert_int_eq(act_libvirt_set_balloon(conn, TEST_UUID, 1536 * 1024),
	    -EBUSY);
	ck_assert_uint_eq(test_memory(dom), before);
	ck_assert(logged_has("balloon " TEST_UUID ": skipped, busy: a libvirt "
	    "job has run for 5 ms"));
	ck_assert_int_eq(act_libvirt_set_memtune(conn, TEST_UUID, MT_ABSENT,
	    4 * 1024 * 1024, MT_ABSENT), -EBUSY);
	/* a monitor that has not answered for 12 s */
	ck_assert_int_eq(virDomainSetTime(dom, 22000, 0, 0), 0);
	ck_assert_int_eq(act_libvirt_set_balloon(conn, TEST_UUID, 1536 * 1024),
	    -EBUSY);
	ck_assert(logged_has("skipped, busy: its QEMU monitor has not answered "
	    "for 12000 ms"));
	ck_assert(act_err_transient(-EBUSY));
	/* paused since the tick collected it: the state says so at once */
	ck_assert_int_eq(virDomainSetTime(dom, 0, 0, 0), 0);
	ck_assert_int_eq(virDomainSuspend(dom), 0);
	ck_assert_int_eq(act_libvirt_set_balloon(conn, TEST_UUID, 1536 * 1024),
	    -EBUSY);
	ck_assert(logged_has("balloon " TEST_UUID ": skipped, busy: paused by "
	    "its user"));
	ck_assert_int_eq(virDomainResume(dom), 0);
	/* free again: the change goes through */
	ck_assert_int_eq(act_libvirt_set_balloon(conn, TEST_UUID, 1536 * 1024),
	    0);
	ck_assert_uint_eq(test_memory(dom), 1536 * 1024);

	virDomainFree(dom);
	virConnectClose(conn);
}
END_TEST

/* ------------------------------------------------- the collector */

static void
opts_for_tests(struct guests_opts *o)
{
	guests_opts_default(o);
	o->taskstats = false;
	o->cgroup = false;
}

static struct block_req stuck_req;
static int stuck_pipe[2];

static int
stuck_fn(virConnectPtr conn, void *data)
{
	return block_fn(conn, data);
}

START_TEST(test_collect_skips)
{
	struct virt_call c = {
		.fn = stuck_fn, .key = TEST_UUID, .what = "balloon",
		.deadline_ms = 50,
	};
	struct guest_collector gc;
	struct guests_opts o;
	struct guest_snapshot *gs;
	virConnectPtr conn;
	virDomainPtr dom;
	char err[256];
	size_t nr;

	ck_assert_int_eq(virt_open("test:///default", &conn), 0);
	dom = virDomainLookupByName(conn, "test");
	ck_assert_ptr_nonnull(dom);
	opts_for_tests(&o);
	ck_assert_int_eq(guests_init(&gc, &o), 0);

	/* paused by its user: listed, not collected, with why */
	ck_assert_int_eq(virDomainSuspend(dom), 0);
	ck_assert_int_eq(guests_collect(&gc, conn, 1000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 0);
	ck_assert_uint_eq(gc.nr_skipped, 1);
	ck_assert_str_eq(gc.skipped[0].name, "test");
	ck_assert_str_eq(gc.skipped[0].uuid, TEST_UUID);
	/* a paused domain keeps its ID: memtunectl finds it by it */
	ck_assert_int_eq(gc.skipped[0].id, (int)virDomainGetID(dom));
	ck_assert_int_ge(gc.skipped[0].id, 0);
	ck_assert_int_eq(gc.skipped[0].state, VIR_DOMAIN_PAUSED);
	ck_assert_int_eq(gc.skipped[0].state_reason, VIR_DOMAIN_PAUSED_USER);
	ck_assert_str_eq(gc.skipped[0].why, "paused by its user: left alone "
	    "until it runs again");
	/* its cached facts stay for when it runs again */
	ck_assert_uint_eq(gc.nr_entries, 1);

	/* running again: collected as before */
	ck_assert_int_eq(virDomainResume(dom), 0);
	ck_assert_int_eq(guests_collect(&gc, conn, 2000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(gc.nr_skipped, 0);

	/* a call about it that has not come back: left alone until it does */
	ck_assert_int_eq(pipe(stuck_pipe), 0);
	stuck_req.fd = stuck_pipe[0];
	ck_assert_int_eq(virt_call_run(conn, &c, &stuck_req,
	    sizeof(stuck_req)), -ETIMEDOUT);
	ck_assert_int_eq(guests_collect(&gc, conn, 3000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 0);
	ck_assert_uint_eq(gc.nr_skipped, 1);
	ck_assert_ptr_nonnull(strstr(gc.skipped[0].why, "a libvirt call about "
	    "it has not returned"));
	ck_assert_int_eq(write(stuck_pipe[1], "x", 1), 1);
	wait_unstuck();
	close(stuck_pipe[0]);
	close(stuck_pipe[1]);
	ck_assert_int_eq(guests_collect(&gc, conn, 4000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 1);

	guests_free(&gc);
	virDomainFree(dom);
	virConnectClose(conn);
}
END_TEST

/* The daemon: a paused guest is in status as skipped, with why, and the
 * plan has nothing for it. */
START_TEST(test_status_shows_skipped)
{
	struct daemon_opts o = { .no_control = true };
	struct json_object *st, *guests, *g, *v;
	char dir[] = "/tmp/memtuned-busy-XXXXXX", conf[64];
	virConnectPtr other;
	virDomainPtr dom;
	struct daemon d;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/memtuned.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "[daemon]\nuri = test:///default\ndry_run = yes\n"
	    "log_level = error\npsi_threshold = off\nstats_period = 0\n"
	    "manage_ksm = no\nmanage_thp = no\n");
	ck_assert_int_eq(fclose(f), 0);
	mt_set_root(FIXTURE_ROOT);
	mt_strlcpy(o.config_path, conf, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	other = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(other);
	dom = virDomainLookupByName(other, "test");
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(virDomainSuspend(dom), 0);

	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	ck_assert_uint_eq(d.eng.snap.nr_guests, 0);
	ck_assert_uint_eq(d.eng.plan.nr_guests, 0);
	st = report_status_json(&d.eng, "daemon");
	ck_assert(json_object_object_get_ex(st, "guests", &guests));
	ck_assert_uint_eq(json_object_array_length(guests), 1);
	g = json_object_array_get_idx(guests, 0);
	ck_assert(json_object_object_get_ex(g, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), "test");
	ck_assert(json_object_object_get_ex(g, "state", &v));
	ck_assert_str_eq(json_object_get_string(v), "skipped");
	ck_assert(json_object_object_get_ex(g, "action", &v));
	ck_assert_str_eq(json_object_get_string(v), "none");
	ck_assert(json_object_object_get_ex(g, "reason", &v));
	ck_assert_str_eq(json_object_get_string(v), "paused by its user: left "
	    "alone until it runs again");
	ck_assert(json_object_object_get_ex(g, "reason_code", &v));
	ck_assert_str_eq(json_object_get_string(v), "domain_not_running");
	json_object_put(st);

	ck_assert_int_eq(virDomainResume(dom), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	ck_assert_uint_eq(d.eng.snap.nr_guests, 1);
	ck_assert_uint_eq(d.eng.gc.nr_skipped, 0);

	virDomainFree(dom);
	virConnectClose(other);
	daemon_free(&d);
	mt_set_root(NULL);
	unlink(conf);
	rmdir(dir);
}
END_TEST

/* The control socket has a thread of its own: a status is answered while
 * the loop is held elsewhere (here: not run at all), other requests are
 * handed to the loop, and one waiting when the daemon stops is told so. */
struct asker {
	char path[128];
	const char *cmd;
	int64_t reserve_mib;		/* rebalance: 0 none */
	struct json_object *resp;
	int rc;
};

static void *
ask(void *arg)
{
	struct asker *a = arg;
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(a->cmd));
	if (strcmp(a->cmd, "rebalance") == 0)
		json_object_object_add(req, "dry_run",
		    json_object_new_boolean(1));
	if (a->reserve_mib > 0)
		json_object_object_add(req, "reserve_mib",
		    json_object_new_int64(a->reserve_mib));
	a->rc = ctl_request(a->path, req, 5000, &a->resp);
	json_object_put(req);
	return NULL;
}

static const char *
resp_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

START_TEST(test_status_while_loop_busy)
{
	struct daemon_opts o = { .no_control = false };
	struct asker a = { .cmd = "status" }, b = { .cmd = "rebalance" };
	char dir[] = "/tmp/memtuned-ctl-XXXXXX", conf[64];
	struct json_object *guests;
	struct daemon d;
	pthread_t t;
	int64_t t0;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/memtuned.conf", dir);
	snprintf(a.path, sizeof(a.path), "%s/control.sock", dir);
	mt_strlcpy(b.path, a.path, sizeof(b.path));
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "[daemon]\nuri = test:///default\ndry_run = yes\n"
	    "log_level = error\npsi_threshold = off\nstats_period = 0\n"
	    "manage_ksm = no\nmanage_thp = no\ncontrol_socket = %s\n",
	    a.path);
	ck_assert_int_eq(fclose(f), 0);
	mt_set_root(FIXTURE_ROOT);
	mt_strlcpy(o.config_path, conf, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);

	/* the loop is not run at all: the status still comes, the tick's */
	t0 = mt_now_ms();
	ask(&a);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_int_lt(mt_now_ms() - t0, 1000);
	ck_assert(json_object_object_get_ex(a.resp, "guests", &guests));
	ck_assert_uint_eq(json_object_array_length(guests), 1);
	ck_assert_str_eq(resp_str(json_object_array_get_idx(guests, 0),
	    "name"), "test");
	json_object_put(a.resp);

	/* a rebalance runs on the loop: answered once the loop turns */
	ck_assert_int_eq(pthread_create(&t, NULL, ask, &b), 0);
	for (int i = 0; i < 100 && b.resp == NULL && b.rc == 0; i++)
		evloop_iterate(d.loop, 50);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_ptr_nonnull(json_object_object_get_ex(b.resp,
	    "rebalance_rc", NULL) ? b.resp : NULL);
	json_object_put(b.resp);

	/* one waiting for the loop when the daemon stops is told so */
	b.resp = NULL;
	ck_assert_int_eq(pthread_create(&t, NULL, ask, &b), 0);
	usleep(300000);
	daemon_free(&d);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_str_eq(resp_str(b.resp, "error"), "memtuned is stopping");
	json_object_put(b.resp);

	mt_set_root(NULL);
	unlink(conf);
	rmdir(dir);
}
END_TEST

/* A reserve above what the host could ever free is refused with its code
 * before any tick runs for it; one just under the cap goes to the policy. */
START_TEST(test_reserve_above_host_refused)
{
	struct daemon_opts o = { .no_control = false };
	struct asker b = { .cmd = "rebalance" };
	char dir[] = "/tmp/memtuned-ctl-XXXXXX", conf[64];
	struct daemon d;
	int64_t max_kib;
	pthread_t t;
	int ticks;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/memtuned.conf", dir);
	snprintf(b.path, sizeof(b.path), "%s/control.sock", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "[daemon]\nuri = test:///default\ndry_run = yes\n"
	    "log_level = error\npsi_threshold = off\nstats_period = 0\n"
	    "manage_ksm = no\nmanage_thp = no\ncontrol_socket = %s\n",
	    b.path);
	ck_assert_int_eq(fclose(f), 0);
	mt_set_root(FIXTURE_ROOT);
	mt_strlcpy(o.config_path, conf, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	max_kib = policy_reserve_max_kib(&d.eng.cfg.policy,
	    d.eng.snap.host.mem.mem_total_kib);
	ck_assert_int_gt(max_kib, 0);

	static const struct {
		int64_t over_mib;	/* above the cap, in MiB */
		bool refused;
	} cases[] = {
		{ 1, true },
		{ INT64_C(1) << 29, true },
		{ -1, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		b.reserve_mib = max_kib / 1024 + cases[i].over_mib;
		b.resp = NULL;
		ticks = d.ticks_run;
		ck_assert_int_eq(pthread_create(&t, NULL, ask, &b), 0);
		for (int k = 0; k < 100 && b.resp == NULL && b.rc == 0; k++)
			evloop_iterate(d.loop, 50);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(b.rc, 0);
		if (cases[i].refused) {
			ck_assert_str_eq(resp_str(b.resp, "code"),
			    DAEMON_CODE_RESERVE);
			ck_assert_int_eq(d.ticks_run, ticks);
		} else {
			ck_assert_str_eq(resp_str(b.resp, "code"), "");
			ck_assert_int_eq(d.ticks_run, ticks + 1);
		}
		json_object_put(b.resp);
	}

	daemon_free(&d);
	mt_set_root(NULL);
	unlink(conf);
	rmdir(dir);
}
END_TEST

/* Asked right after start, before the first tick: the status waits for
 * that tick rather than answer with no guests (02-daemon-rebalance on a
 * fresh machine asked in that window and found its guest missing). */
START_TEST(test_status_waits_for_first_tick)
{
	struct daemon_opts o = { .no_control = false };
	struct asker a = { .cmd = "status" };
	char dir[] = "/tmp/memtuned-ctl-XXXXXX", conf[64];
	struct json_object *guests;
	struct daemon d;
	pthread_t t;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/memtuned.conf", dir);
	snprintf(a.path, sizeof(a.path), "%s/control.sock", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "[daemon]\nuri = test:///default\ndry_run = yes\n"
	    "log_level = error\npsi_threshold = off\nstats_period = 0\n"
	    "manage_ksm = no\nmanage_thp = no\ncontrol_socket = %s\n",
	    a.path);
	ck_assert_int_eq(fclose(f), 0);
	mt_set_root(FIXTURE_ROOT);
	mt_strlcpy(o.config_path, conf, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);

	ck_assert_int_eq(pthread_create(&t, NULL, ask, &a), 0);
	usleep(500000);
	ck_assert_msg(a.resp == NULL && a.rc == 0,
	    "status answered before the first tick");
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(a.rc, 0);
	ck_assert(json_object_object_get_ex(a.resp, "guests", &guests));
	ck_assert_uint_eq(json_object_array_length(guests), 1);
	json_object_put(a.resp);

	daemon_free(&d);
	mt_set_root(NULL);
	unlink(conf);
	rmdir(dir);
}
END_TEST

Suite *
busy_suite(void)
{
	Suite *s = suite_create("busy");
	TCase *tc = tcase_create("busy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_job_check);
	tcase_add_test(tc, test_collect_skips);
	tcase_add_test(tc, test_status_shows_skipped);
	tcase_add_test(tc, test_status_while_loop_busy);
	tcase_add_test(tc, test_status_waits_for_first_tick);
	tcase_add_test(tc, test_reserve_above_host_refused);
	suite_add_tcase(s, tc);
	return s;
}
