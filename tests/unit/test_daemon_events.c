/* test_daemon_events.c - the daemon on libvirt's test driver follows the
 * domain events the docs promise: every one is registered, and a change
 * of memtuned's <metadata> made through another connection reaches the
 * next tick instead of waiting for the periodic refresh (60 ticks). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "daemon.h"
#include "domxml.h"
#include "util.h"

Suite *daemon_events_suite(void);

#define FIXTURE_ROOT "tests/fixtures/host-debian12-k6.18"
/* max memory of test:///default's one domain, "test" */
#define TESTDRV_MAX_KIB INT64_C(8388608)

static char tmpdir[64];
static char conf_path[128];

static void
quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

static void
setup(void)
{
	FILE *f;

	mt_strlcpy(tmpdir, "/tmp/memtuned-ev-XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(conf_path, sizeof(conf_path), "%s/memtuned.conf", tmpdir);
	mt_set_root(FIXTURE_ROOT);
	f = fopen(conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[daemon]\nuri = test:///default\ndry_run = yes\n"
	    "log_level = error\npsi_threshold = off\nstats_period = 0\n"
	    "manage_ksm = no\nmanage_thp = no\n");
	ck_assert_int_eq(fclose(f), 0);
}

static void
teardown(void)
{
	unlink(conf_path);
	rmdir(tmpdir);
	mt_set_root(NULL);
}

static const struct guest_snapshot *
test_guest(const struct daemon *d)
{
	ck_assert(d->eng.have_snap);
	ck_assert_uint_eq(d->eng.snap.nr_guests, 1);
	ck_assert_str_eq(d->eng.snap.guests[0].name, "test");
	return &d->eng.snap.guests[0];
}

/* Run the loop until the daemon has taken n cache events, at most ~5 s. */
static void
wait_cache_events(struct daemon *d, uint64_t n)
{
	for (int i = 0; i < 50 && d->cache_events < n; i++)
		evloop_iterate(d->loop, 100);
	ck_assert_uint_eq(d->cache_events, n);
}

START_TEST(test_events_registered)
{
	struct daemon_opts o = { .no_control = true };
	struct daemon d;

	mt_strlcpy(o.config_path, conf_path, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	for (int i = 0; i < DAEMON_NR_EVENTS; i++)
		ck_assert_msg(d.ev_ids[i] >= 0, "event %d not registered", i);
	daemon_free(&d);
}
END_TEST

START_TEST(test_metadata_followed)
{
	struct daemon_opts o = { .no_control = true };
	const struct guest_snapshot *g;
	virConnectPtr other;
	virDomainPtr dom;
	struct daemon d;

	mt_strlcpy(o.config_path, conf_path, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	g = test_guest(&d);
	ck_assert_int_eq(g->max_kib, TESTDRV_MAX_KIB);
	ck_assert_int_eq(g->input.floor_src, SRC_DEFAULT);
	ck_assert(!g->input.exclude);

	/* an operator's virsh: its own connection to the same driver */
	virSetErrorFunc(NULL, quiet);
	other = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(other);
	dom = virDomainLookupByName(other, "test");
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    "<policy floor='1G' exclude='yes'/>", "memtuned", DOMXML_NS,
	    VIR_DOMAIN_AFFECT_LIVE), 0);
	wait_cache_events(&d, 1);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	g = test_guest(&d);
	ck_assert_int_eq(g->input.floor_kib, 1024 * 1024);
	ck_assert_int_eq(g->input.floor_src, SRC_METADATA);
	ck_assert(g->input.exclude);
	/* metadata = bounded (the default): its exclude is not the
	 * tenant's to give, so the guest stays managed */
	ck_assert(d.eng.plan.guests[0].meta_cap.exclude);
	ck_assert(!d.eng.plan.guests[0].input.exclude);
	ck_assert_int_ne(d.eng.plan.guests[0].state, GPS_EXCLUDED);

	/* a title or another program's element is not memtuned's */
	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_TITLE,
	    "a title", NULL, NULL, VIR_DOMAIN_AFFECT_LIVE), 0);
	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    "<policy floor='2G'/>", "other", "http://example.org/other/1",
	    VIR_DOMAIN_AFFECT_LIVE), 0);
	for (int i = 0; i < 10; i++)
		evloop_iterate(d.loop, 50);
	ck_assert_uint_eq(d.cache_events, 1);

	/* removed again: the defaults come back at the next tick */
	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    NULL, NULL, DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE), 0);
	wait_cache_events(&d, 2);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	g = test_guest(&d);
	ck_assert_int_eq(g->input.floor_src, SRC_DEFAULT);
	ck_assert(!g->input.exclude);

	virDomainFree(dom);
	virConnectClose(other);
	daemon_free(&d);
}
END_TEST

/* metadata = ignore: the element is not read at all, at the first read
 * nor when a change event makes the collector read the domain again. */
START_TEST(test_metadata_ignored)
{
	struct daemon_opts o = { .no_control = true };
	const struct guest_snapshot *g;
	virConnectPtr other;
	virDomainPtr dom;
	struct daemon d;
	FILE *f;

	f = fopen(conf_path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "metadata = ignore\n");
	ck_assert_int_eq(fclose(f), 0);
	virSetErrorFunc(NULL, quiet);
	other = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(other);
	dom = virDomainLookupByName(other, "test");
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    "<policy floor='1G' shares='9000'/>", "memtuned", DOMXML_NS,
	    VIR_DOMAIN_AFFECT_LIVE), 0);

	mt_strlcpy(o.config_path, conf_path, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(d.eng.cfg.policy.metadata_mode, METADATA_IGNORE);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	g = test_guest(&d);
	ck_assert_int_eq(g->input.floor_src, SRC_DEFAULT);
	ck_assert_int_eq(g->input.shares_src, SRC_DEFAULT);
	ck_assert(!MT_PRESENT(g->input.floor_kib));

	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    "<policy exclude='yes'/>", "memtuned", DOMXML_NS,
	    VIR_DOMAIN_AFFECT_LIVE), 0);
	wait_cache_events(&d, 1);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	g = test_guest(&d);
	ck_assert_int_eq(g->input.exclude_src, SRC_DEFAULT);
	ck_assert(!g->input.exclude);

	ck_assert_int_eq(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    NULL, NULL, DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE), 0);
	virDomainFree(dom);
	virConnectClose(other);
	daemon_free(&d);
}
END_TEST

Suite *
daemon_events_suite(void)
{
	Suite *s = suite_create("daemon_events");
	TCase *tc = tcase_create("test driver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_events_registered);
	tcase_add_test(tc, test_metadata_followed);
	tcase_add_test(tc, test_metadata_ignored);
	suite_add_tcase(s, tc);
	return s;
}
