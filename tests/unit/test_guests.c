/* test_guests.c - the per-guest collector: typed parameter parsing with
 * hand-built arrays, freshness and rates, the QEMU pid check on fixture
 * trees, and whole ticks against libvirt's test driver. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guests.h"
#include "log.h"
#include "util.h"
#include "virt.h"

Suite *guests_suite(void);

static void
ull(virTypedParameter *p, const char *field, unsigned long long v)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->field, sizeof(p->field), "%s", field);
	p->type = VIR_TYPED_PARAM_ULLONG;
	p->value.ul = v;
}

START_TEST(test_parse_params)
{
	virTypedParameter p[20];
	struct guest_snapshot g;
	int n = 0;

	memset(&p[n], 0, sizeof(p[n]));
	snprintf(p[n].field, sizeof(p[n].field), "state.state");
	p[n].type = VIR_TYPED_PARAM_INT;
	p[n++].value.i = VIR_DOMAIN_RUNNING;
	ull(&p[n++], "balloon.current", 1048576);
	ull(&p[n++], "balloon.maximum", 2097152);
	ull(&p[n++], "balloon.unused", 300000);
	ull(&p[n++], "balloon.available", 1000000);
	ull(&p[n++], "balloon.usable", 600000);
	ull(&p[n++], "balloon.disk_caches", 200000);
	ull(&p[n++], "balloon.major_fault", 17);
	ull(&p[n++], "balloon.minor_fault", 123456);
	ull(&p[n++], "balloon.swap_in", 4);
	ull(&p[n++], "balloon.swap_out", 8);
	ull(&p[n++], "balloon.rss", 900000);
	ull(&p[n++], "balloon.last-update", 1700000000);
	/* fields we do not use, and an out-of-range value */
	ull(&p[n++], "balloon.hugetlb_pgalloc", 5);
	ull(&p[n++], "state.reason", 1);
	ull(&p[n++], "balloon.minor_fault", ~0ULL);

	guest_snapshot_init(&g);
	guests_parse_params(p, n, &g);
	ck_assert_int_eq(g.state, VIR_DOMAIN_RUNNING);
	ck_assert_int_eq(g.actual_kib, 1048576);
	ck_assert_int_eq(g.balloon_max_kib, 2097152);
	/* the names mislead: UNUSED is MemFree, AVAILABLE MemTotal,
	 * USABLE MemAvailable */
	ck_assert_int_eq(g.unused_kib, 300000);
	ck_assert_int_eq(g.available_kib, 1000000);
	ck_assert_int_eq(g.usable_kib, 600000);
	ck_assert_int_eq(g.disk_caches_kib, 200000);
	ck_assert_int_eq(g.major_fault, 17);
	ck_assert_int_eq(g.minor_fault, 123456);	/* ~0 ignored */
	ck_assert_int_eq(g.swap_in_kib, 4);
	ck_assert_int_eq(g.swap_out_kib, 8);
	ck_assert_int_eq(g.rss_kib, 900000);
	ck_assert_int_eq(g.last_update_s, 1700000000);

	/* a guest without a balloon driver: current and rss only */
	guest_snapshot_init(&g);
	guests_parse_params(&p[1], 1, &g);
	ck_assert_int_eq(g.actual_kib, 1048576);
	ck_assert(!MT_PRESENT(g.usable_kib));
	ck_assert(!MT_PRESENT(g.last_update_s));
}
END_TEST

static struct guest_entry *
fresh_entry(void)
{
	static struct guest_entry e;

	memset(&e, 0, sizeof(e));
	e.prev_ms = MT_ABSENT;
	e.last_update_s = MT_ABSENT;
	e.last_update_moved_ms = MT_ABSENT;
	return &e;
}

static void
sample(struct guest_entry *e, struct guest_snapshot *g, int64_t lu,
    int64_t majf, int64_t swin, int64_t period, int64_t now)
{
	guest_snapshot_init(g);
	g->last_update_s = lu;
	g->major_fault = majf;
	g->swap_in_kib = swin;
	guests_update_sample(e, g, period, now);
}

START_TEST(test_freshness)
{
	struct guest_entry *e = fresh_entry();
	struct guest_snapshot g;

	/* no stats at all, and QEMU's "never answered" 0 */
	sample(e, &g, MT_ABSENT, MT_ABSENT, MT_ABSENT, 2, 1000);
	ck_assert_int_eq(g.stats, GUEST_STATS_NONE);
	sample(e, &g, 0, MT_ABSENT, MT_ABSENT, 2, 2000);
	ck_assert_int_eq(g.stats, GUEST_STATS_NONE);

	/* period 2 s: the 10 s floor applies */
	sample(e, &g, 500, 0, 0, 2, 10000);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);
	sample(e, &g, 500, 0, 0, 2, 20000);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);	/* exactly 10 s */
	sample(e, &g, 500, 0, 0, 2, 20001);
	ck_assert_int_eq(g.stats, GUEST_STATS_STALE);
	/* raw values stay: the state tells the policy not to trust them */
	ck_assert_int_eq(g.last_update_s, 500);
	sample(e, &g, 502, 0, 0, 2, 21000);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);

	/* period 10 s: 30 s */
	e = fresh_entry();
	sample(e, &g, 7, 0, 0, 10, 0);
	sample(e, &g, 7, 0, 0, 10, 30000);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);
	sample(e, &g, 7, 0, 0, 10, 30001);
	ck_assert_int_eq(g.stats, GUEST_STATS_STALE);

	/* unknown period: the 10 s floor */
	e = fresh_entry();
	sample(e, &g, 7, 0, 0, MT_ABSENT, 0);
	sample(e, &g, 7, 0, 0, MT_ABSENT, 10001);
	ck_assert_int_eq(g.stats, GUEST_STATS_STALE);
}
END_TEST

START_TEST(test_rates)
{
	struct guest_entry *e = fresh_entry();
	struct guest_snapshot g;

	sample(e, &g, 1, 100, 40, 2, 1000);
	ck_assert(!MT_PRESENT(g.major_fault_per_s));	/* first sample */
	ck_assert(!MT_PRESENT(g.swap_in_kib_per_s));
	sample(e, &g, 2, 200, 1040, 2, 3000);
	ck_assert_int_eq(g.major_fault_per_s, 50);
	ck_assert_int_eq(g.swap_in_kib_per_s, 500);
	/* a guest reboot resets its counters */
	sample(e, &g, 3, 10, 0, 2, 5000);
	ck_assert(!MT_PRESENT(g.major_fault_per_s));
	ck_assert(!MT_PRESENT(g.swap_in_kib_per_s));
	sample(e, &g, 4, 30, 0, 2, 6000);
	ck_assert_int_eq(g.major_fault_per_s, 20);
	ck_assert_int_eq(g.swap_in_kib_per_s, 0);
	/* a counter that disappears */
	sample(e, &g, 5, MT_ABSENT, 0, 2, 7000);
	ck_assert(!MT_PRESENT(g.major_fault_per_s));
}
END_TEST

static void
put(const char *root, const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX], cmd[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	*strrchr(cmd, '/') = '\0';
	strcat(cmd, "'");
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

START_TEST(test_qemu_pid)
{
	static const char cl[] = "/usr/bin/qemu-system-x86_64\0-name\0"
	    "guest=a,,b,debug-threads=on\0-S";
	static const char old[] = "qemu-kvm\0-name\0legacy\0-m\0512";
	char root[] = "/tmp/mt-guests-XXXXXX", cmd[64];
	int64_t pid;

	mt_set_root("tests/fixtures/cgroup-v1");
	ck_assert_int_eq(guests_qemu_pid("/run/libvirt/qemu", "mt-demo-idle1",
	    &pid), 0);
	ck_assert_int_eq(pid, 12163);
	ck_assert_int_eq(guests_qemu_pid("/run/libvirt/qemu", "absent", &pid),
	    -ENOENT);
	ck_assert(!MT_PRESENT(pid));
	mt_set_root("tests/fixtures/cgroup-v2");
	ck_assert_int_eq(guests_qemu_pid("/run/libvirt/qemu", "vm3", &pid), 0);
	ck_assert_int_eq(pid, 4343);

	ck_assert_ptr_nonnull(mkdtemp(root));
	mt_set_root(root);
	/* a comma in the name is doubled on QEMU's command line */
	put(root, "run/a,b.pid", "77\n", 3);
	put(root, "proc/77/cmdline", cl, sizeof(cl));
	ck_assert_int_eq(guests_qemu_pid("/run", "a,b", &pid), 0);
	ck_assert_int_eq(pid, 77);
	/* the older "-name NAME" form */
	put(root, "run/legacy.pid", "78", 2);
	put(root, "proc/78/cmdline", old, sizeof(old));
	ck_assert_int_eq(guests_qemu_pid("/run", "legacy", &pid), 0);
	/* a stale pid file pointing at another guest's QEMU */
	put(root, "run/a.pid", "77\n", 3);
	ck_assert_int_eq(guests_qemu_pid("/run", "a", &pid), -ESRCH);
	ck_assert(!MT_PRESENT(pid));
	/* a pid that is gone, and garbage */
	put(root, "run/gone.pid", "79\n", 3);
	ck_assert_int_eq(guests_qemu_pid("/run", "gone", &pid), -ESRCH);
	put(root, "run/junk.pid", "seventy\n", 8);
	ck_assert_int_eq(guests_qemu_pid("/run", "junk", &pid), -EINVAL);
	ck_assert_int_eq(guests_qemu_pid("/run", "../etc", &pid), -EINVAL);

	/* no pid file (a libvirtd with a private run directory): the one
	 * process that names the guest on its command line */
	ck_assert_int_eq(guests_qemu_pid("/run", "nofile", &pid), -ENOENT);
	put(root, "proc/self/cmdline", "bash", 5);
	put(root, "proc/80/cmdline", "qemu\0-name\0guest=nofile,x=y", 28);
	put(root, "proc/81/cmdline", "qemu\0-name\0guest=nofile2", 25);
	ck_assert_int_eq(guests_qemu_pid_search("nofile", &pid), 0);
	ck_assert_int_eq(pid, 80);
	ck_assert_int_eq(guests_qemu_pid_search("a,b", &pid), 0);
	ck_assert_int_eq(pid, 77);
	ck_assert_int_eq(guests_qemu_pid_search("nobody", &pid), -ESRCH);
	ck_assert(!MT_PRESENT(pid));
	/* two QEMUs of one name (guests of two libvirtds): neither */
	put(root, "proc/82/cmdline", "qemu\0-name\0guest=nofile", 24);
	ck_assert_int_eq(guests_qemu_pid_search("nofile", &pid), -ENOTUNIQ);
	ck_assert(!MT_PRESENT(pid));

	/* the burst watch's reading: resident pages of /proc/PID/statm */
	put(root, "proc/77/statm", "250000 131072 2000 800 0 140000 0\n", 35);
	{
		int64_t kib;

		ck_assert_int_eq(guests_qemu_rss_kib(77, &kib), 0);
		ck_assert_int_eq(kib, 131072 * (sysconf(_SC_PAGESIZE) / 1024));
		put(root, "proc/78/statm", "250000\n", 7);
		ck_assert_int_eq(guests_qemu_rss_kib(78, &kib), -EINVAL);
		ck_assert(!MT_PRESENT(kib));
		put(root, "proc/78/statm", "250000 -5 1\n", 12);
		ck_assert_int_eq(guests_qemu_rss_kib(78, &kib), -EINVAL);
		ck_assert_int_eq(guests_qemu_rss_kib(79, &kib), -ENOENT);
		ck_assert_int_eq(guests_qemu_rss_kib(MT_ABSENT, &kib), -EINVAL);
	}

	mt_set_root("");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static int
override_cb(const char *name, const char *uuid, struct guest_override *out,
    void *arg)
{
	(void)uuid;
	(*(int *)arg)++;
	if (strcmp(name, "test") != 0)
		return 0;
	out->floor_kib = 4096;
	return 1;
}

static void
opts_for_tests(struct guests_opts *o)
{
	guests_opts_default(o);
	/* the test driver has no processes: keep the host out of it */
	o->taskstats = false;
	o->cgroup = false;
}

START_TEST(test_collect_default)
{
	struct guest_collector gc;
	struct guests_opts o;
	struct guest_snapshot *gs;
	virConnectPtr conn;
	virDomainPtr dom;
	char err[256];
	size_t nr;
	int calls = 0;

	ck_assert_int_eq(virt_open("test:///default", &conn), 0);
	opts_for_tests(&o);
	o.override = override_cb;
	o.override_arg = &calls;
	ck_assert_int_eq(guests_init(&gc, &o), 0);

	ck_assert_int_eq(guests_collect(&gc, conn, 1000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_str_eq(gs[0].name, "test");
	ck_assert_str_eq(gs[0].uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
	ck_assert_int_eq(gs[0].id, 1);
	ck_assert_int_eq(gs[0].state, VIR_DOMAIN_RUNNING);
	ck_assert_int_eq(gs[0].max_kib, 8388608);
	/* the test driver's stats (through virDomainMemoryStats) */
	ck_assert_int_eq(gs[0].actual_kib, 2097152);
	ck_assert_int_eq(gs[0].usable_kib, 1048576);
	ck_assert_int_eq(gs[0].available_kib, 2097152);
	ck_assert(MT_PRESENT(gs[0].last_update_s));
	ck_assert_int_eq(gs[0].stats, GUEST_STATS_OK);
	ck_assert(!MT_PRESENT(gs[0].major_fault_per_s));
	ck_assert(!MT_PRESENT(gs[0].hard_limit_kib));	/* unlimited */
	ck_assert(gs[0].backing.has_balloon);
	ck_assert(!MT_PRESENT(gs[0].backing.stats_period_s));
	ck_assert(!MT_PRESENT(gs[0].qemu_pid));
	ck_assert_int_eq(gs[0].cgroup_version, 0);
	ck_assert(!gs[0].ts_present);
	ck_assert_int_eq(gs[0].input.floor_kib, 4096);
	ck_assert_int_eq(gs[0].input.floor_src, SRC_CONFIG);
	ck_assert_int_eq(gs[0].input.shares_src, SRC_DEFAULT);
	ck_assert_int_eq(calls, 1);

	/* the test driver's last_update never moves: stale after 10 s */
	ck_assert_int_eq(guests_collect(&gc, conn, 6000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(gs[0].stats, GUEST_STATS_OK);
	ck_assert_int_eq(gs[0].major_fault_per_s, 0);
	ck_assert_int_eq(guests_collect(&gc, conn, 11001, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(gs[0].stats, GUEST_STATS_STALE);

	/* memtune changed behind the cache: seen after invalidate */
	{
		virTypedParameter p;

		ull(&p, VIR_DOMAIN_MEMORY_HARD_LIMIT, 3000000);
		dom = virDomainLookupByName(conn, "test");
		ck_assert_int_eq(virDomainSetMemoryParameters(dom, &p, 1, 0),
		    0);
	}
	ck_assert_int_eq(guests_collect(&gc, conn, 12000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert(!MT_PRESENT(gs[0].hard_limit_kib));	/* cached */
	guests_invalidate(&gc, "6695eb01-f6a4-8304-79aa-97f2502e193f");
	ck_assert_int_eq(guests_collect(&gc, conn, 13000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(gs[0].hard_limit_kib, 3000000);

	/* a domain that goes away leaves the table */
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert_int_eq(guests_collect(&gc, conn, 14000, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 0);
	ck_assert_uint_eq(gc.nr_entries, 0);

	virDomainFree(dom);
	guests_free(&gc);
	virConnectClose(conn);
}
END_TEST

static const char node_xml[] =
    "<node><cpu><mhz>2000</mhz><model>x86_64</model><active>4</active>"
    "<total>4</total><nodes>1</nodes><sockets>1</sockets><cores>4</cores>"
    "<threads>1</threads></cpu><memory>16777216</memory>"
    "<domain type='test'><name>meta</name>"
    "<uuid>00000001-6d74-4000-8000-000000000001</uuid>"
    "<memory unit='GiB'>4</memory><currentMemory unit='GiB'>2</currentMemory>"
    "<metadata><memtuned:policy "
    "xmlns:memtuned='http://memtuned.org/xmlns/memtuned/1' floor='1G' "
    "ceiling='3G' shares='2000' exclude='no'/></metadata>"
    "<memoryBacking><hugepages/><nosharepages/></memoryBacking>"
    "<os><type>hvm</type></os>"
    "<devices><memballoon model='virtio'/></devices></domain>"
    "<domain type='test'><name>bad-meta</name>"
    "<uuid>00000002-6d74-4000-8000-000000000002</uuid>"
    "<memory unit='GiB'>2</memory>"
    "<metadata><memtuned:policy "
    "xmlns:memtuned='http://memtuned.org/xmlns/memtuned/1' floor='lots'/>"
    "</metadata><os><type>hvm</type></os>"
    "<devices><memballoon model='virtio'><stats period='7'/></memballoon>"
    "</devices></domain></node>";

START_TEST(test_collect_metadata_and_period)
{
	char path[] = "/tmp/mt-node-XXXXXX", uri[64], err[256];
	struct guest_collector gc;
	struct guests_opts o;
	struct guest_snapshot *gs;
	virConnectPtr conn;
	size_t nr;
	int fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, node_xml, sizeof(node_xml) - 1),
	    (ssize_t)sizeof(node_xml) - 1);
	close(fd);
	snprintf(uri, sizeof(uri), "test://%s", path);
	ck_assert_int_eq(virt_open(uri, &conn), 0);
	unlink(path);

	opts_for_tests(&o);
	o.enable_stats_period_s = 3;
	ck_assert_int_eq(guests_init(&gc, &o), 0);
	ck_assert_int_eq(guests_collect(&gc, conn, 0, &gs, &nr, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(nr, 2);
	for (size_t i = 0; i < nr; i++) {
		struct guest_snapshot *g = &gs[i];

		if (strcmp(g->name, "meta") == 0) {
			ck_assert_int_eq(g->input.floor_kib, 1024 * 1024);
			ck_assert_int_eq(g->input.ceiling_kib, 3 * 1024 * 1024);
			ck_assert_int_eq(g->input.shares, 2000);
			ck_assert_int_eq(g->input.floor_src, SRC_METADATA);
			ck_assert(!g->input.exclude);
			ck_assert_int_eq(g->input.exclude_src, SRC_METADATA);
			ck_assert(g->backing.hugepages &&
			    g->backing.nosharepages && !g->backing.locked);
			ck_assert_int_eq(g->max_kib, 4 * 1024 * 1024);
		} else {
			/* malformed metadata: ignored, the guest still here */
			ck_assert_str_eq(g->name, "bad-meta");
			ck_assert(!MT_PRESENT(g->input.floor_kib));
			ck_assert_int_eq(g->input.floor_src, SRC_DEFAULT);
			ck_assert_int_eq(g->backing.stats_period_s, 7);
		}
	}
	/* "meta" had no period: the collector set one, and re-reads it */
	ck_assert_int_eq(guests_collect(&gc, conn, 1000, &gs, &nr, err,
	    sizeof(err)), 0);
	for (size_t i = 0; i < nr; i++)
		if (strcmp(gs[i].name, "meta") == 0)
			ck_assert_int_eq(gs[i].backing.stats_period_s, 3);
		else
			ck_assert_int_eq(gs[i].backing.stats_period_s, 7);

	guests_free(&gc);
	virConnectClose(conn);
}
END_TEST

START_TEST(test_check_fresh_wall_clock)
{
	struct guest_snapshot g;

	guest_snapshot_init(&g);
	g.last_update_s = 1000;
	/* no stats period: the one report from driver start-up is all
	 * there will ever be */
	g.stats = GUEST_STATS_OK;
	guests_check_fresh(&g, 0, 1001);
	ck_assert_int_eq(g.stats, GUEST_STATS_NONE);
	g.stats = GUEST_STATS_OK;
	guests_check_fresh(&g, MT_ABSENT, 1001);
	ck_assert_int_eq(g.stats, GUEST_STATS_NONE);
	/* period 2 s: fresh within max(3 periods, 10 s) of the host clock */
	g.stats = GUEST_STATS_OK;
	guests_check_fresh(&g, 2, 1010);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);
	g.stats = GUEST_STATS_OK;
	guests_check_fresh(&g, 2, 1011);
	ck_assert_int_eq(g.stats, GUEST_STATS_STALE);
	/* period 5 s: 15 s allowed */
	g.stats = GUEST_STATS_OK;
	guests_check_fresh(&g, 5, 1015);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);
	/* a stamp from the future (clock stepped back) is not stale */
	g.stats = GUEST_STATS_OK;
	guests_check_fresh(&g, 5, 900);
	ck_assert_int_eq(g.stats, GUEST_STATS_OK);
	/* a state already worse is kept */
	g.stats = GUEST_STATS_NONE;
	guests_check_fresh(&g, 5, 1001);
	ck_assert_int_eq(g.stats, GUEST_STATS_NONE);
}
END_TEST

Suite *
guests_suite(void)
{
	Suite *s = suite_create("guests");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_params);
	tcase_add_test(tc, test_freshness);
	tcase_add_test(tc, test_check_fresh_wall_clock);
	tcase_add_test(tc, test_rates);
	tcase_add_test(tc, test_qemu_pid);
	suite_add_tcase(s, tc);
	tc = tcase_create("test-driver");
	tcase_add_test(tc, test_collect_default);
	tcase_add_test(tc, test_collect_metadata_and_period);
	suite_add_tcase(s, tc);
	return s;
}
