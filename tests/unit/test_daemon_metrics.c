/* test_daemon_metrics.c - the daemon end to end on libvirt's test driver
 * (test:///default) and a captured host tree: one tick writes the metrics
 * textfile, and its capacity gauges are the estimate of that tick's
 * snapshot at the size [daemon] capacity_vm_size asks for (or the guests'
 * median without it). Also the key itself. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capacity.h"
#include "config.h"
#include "daemon.h"
#include "metrics.h"
#include "util.h"
#include "text_check.h"

Suite *daemon_metrics_suite(void);

#define FIXTURE_ROOT "tests/fixtures/host-debian12-k6.18"
/* MemTotal of the fixture's proc/meminfo */
#define FIXTURE_TOTAL_KIB INT64_C(24731700)
/* max memory of test:///default's one domain, "test" */
#define TESTDRV_MAX_KIB INT64_C(8388608)

static char tmpdir[64];
static char conf_path[128];
static char prom_path[128];

static void
setup(void)
{
	mt_strlcpy(tmpdir, "/tmp/memtuned-dm-XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(conf_path, sizeof(conf_path), "%s/memtuned.conf", tmpdir);
	snprintf(prom_path, sizeof(prom_path), "%s/memtuned.prom", tmpdir);
	mt_set_root(FIXTURE_ROOT);
}

static void
teardown(void)
{
	unlink(conf_path);
	unlink(prom_path);
	rmdir(tmpdir);
	mt_set_root(NULL);
}

static void
write_conf(const char *size_line)
{
	FILE *f = fopen(conf_path, "w");

	ck_assert_ptr_nonnull(f);
	/* dry run, nothing managed on the host tree, no trigger or socket:
	 * the tick only collects, decides and publishes */
	fprintf(f, "[daemon]\nuri = test:///default\ndry_run = yes\n"
	    "log_level = error\npsi_threshold = off\nstats_period = 0\n"
	    "manage_ksm = no\nmanage_thp = no\nmetrics_textfile = %s\n%s",
	    prom_path, size_line);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
read_prom(void)
{
	/* a few hundred lines for one guest; 256 KiB is ample */
	static char buf[256 * 1024];
	FILE *f = fopen(prom_path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s not written", prom_path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	ck_assert(feof(f));
	fclose(f);
	buf[n] = '\0';
	return buf;
}


/* Run one tick and check the textfile's capacity gauges against an
 * estimate of the same snapshot at want_vm_kib. */
static void
tick_and_check(int64_t want_vm_kib)
{
	struct daemon_opts o = { .no_control = true };
	struct capacity_result r;
	struct daemon d;
	char line[256], *t;

	mt_strlcpy(o.config_path, conf_path, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	/* the inputs are the ones meant: the captured host, the test guest */
	ck_assert(d.eng.have_snap);
	ck_assert_int_eq(d.eng.snap.host.mem.mem_total_kib, FIXTURE_TOTAL_KIB);
	ck_assert_uint_eq(d.eng.snap.nr_guests, 1);
	ck_assert_int_eq(d.eng.snap.guests[0].max_kib, TESTDRV_MAX_KIB);

	t = read_prom();
	snprintf(line, sizeof(line), "memtuned_capacity_vm_size_bytes %lld",
	    (long long)(want_vm_kib * 1024));
	ck_line(t, line);
	ck_line(t, "# TYPE memtuned_capacity_vms gauge");
	ck_line(t, "memtuned_capacity_guests_counted{level=\"no-overcommit\"} 1");

	capacity_result_init(&r);
	ck_assert_int_eq(capacity_estimate_plan(&d.eng.cfg.policy, &d.eng.snap,
	    &d.eng.plan, want_vm_kib, &r), 0);
	for (int l = 0; l < CAP_LEVELS; l++) {
		snprintf(line, sizeof(line), "memtuned_capacity_vms{level=\"%s\"} "
		    "%lld", capacity_level_name(l), (long long)r.level[l].fits);
		ck_line(t, line);
		snprintf(line, sizeof(line), "memtuned_capacity_headroom_bytes"
		    "{level=\"%s\"} %lld", capacity_level_name(l),
		    (long long)(r.level[l].headroom_kib * 1024));
		ck_line(t, line);
	}
	/* the fixture's KSM counters make a measured saving */
	ck_line(t, "memtuned_capacity_ksm_measured 1");
	ck_assert_msg(strstr(t, "\nmemtuned_capacity_age_seconds ") != NULL,
	    "no age");
	ck_assert_msg(strstr(t, "\nmemtuned_capacity_timestamp_seconds ") !=
	    NULL, "no timestamp");
	/* a 24 GiB host with one 8 GiB guest: room at the safe level */
	ck_assert_int_gt(r.level[CAP_NO_OVERCOMMIT].fits, 0);
	capacity_result_free(&r);
	daemon_free(&d);
}

START_TEST(test_tick_writes_capacity_at_configured_size)
{
	write_conf("capacity_vm_size = 1G\n");
	tick_and_check(INT64_C(1024) * 1024);
}
END_TEST

START_TEST(test_tick_writes_capacity_at_median_size)
{
	/* without the key: the running guests' median max memory, as
	 * memtunectl capacity answers without --vm-size */
	write_conf("");
	tick_and_check(TESTDRV_MAX_KIB);
}
END_TEST

/* A dry-run tick changes nothing, so it counts no action, whatever it
 * planned: memtuned_actions_total is "changes made". */
START_TEST(test_dry_run_tick_counts_no_action)
{
	struct daemon_opts o = { .no_control = true };
	struct daemon d;
	char line[256], *t;
	int planned = 0;

	write_conf("");
	mt_strlcpy(o.config_path, conf_path, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	for (size_t i = 0; i < d.eng.plan.nr_guests; i++) {
		const struct guest_plan *gp = &d.eng.plan.guests[i];

		for (int k = METRICS_KIND_BALLOON; k <= METRICS_KIND_MEMTUNE; k++)
			planned += metrics_guest_reason(gp, k) !=
			    METRICS_REASON_N;
	}
	/* the test guest gets at least its soft limit planned */
	ck_assert_int_gt(planned, 0);
	t = read_prom();
	for (int k = METRICS_KIND_BALLOON; k <= METRICS_KIND_MEMTUNE; k++)
		for (int r = 0; r < METRICS_REASON_N; r++) {
			const char *hit;

			snprintf(line, sizeof(line), "\nmemtuned_actions_total"
			    "{kind=\"%s\",reason=\"%s\"} ",
			    metrics_kind_name(k), metrics_reason_name(r));
			if ((hit = strstr(t, line)) == NULL)
				continue;
			ck_assert_msg(strncmp(hit + strlen(line), "0\n", 2) == 0,
			    "dry run counted: %s%.4s", line + 1,
			    hit + strlen(line));
		}
	daemon_free(&d);
}
END_TEST

/* The daemon hands [daemon] metrics_per_guest to the renderer: the test
 * guest's series in the textfile with yes, none with no, the host's in
 * both. One case per run: libvirt's event loop is one per process. */
static const struct {
	const char *line;
	bool per_guest;
} per_guest_cases[] = {
	{ "metrics_per_guest = yes\n", true },
	{ "metrics_per_guest = no\n", false },
};

START_TEST(test_tick_metrics_per_guest)
{
	struct daemon_opts o = { .no_control = true };
	struct daemon d;
	char *t;
	bool want = per_guest_cases[_i].per_guest;

	write_conf(per_guest_cases[_i].line);
	mt_strlcpy(o.config_path, conf_path, sizeof(o.config_path));
	ck_assert_int_eq(daemon_init(&d, &o), 0);
	ck_assert_int_eq(daemon_tick(&d, true, 0), 0);
	t = read_prom();
	ck_assert((strstr(t, "\nmemtuned_guest_actual_bytes{name=\"test\",") !=
	    NULL) == want);
	ck_assert((strstr(t, "memtuned_guest_") != NULL) == want);
	ck_line(t, "memtuned_guests 1");
	ck_assert_ptr_nonnull(strstr(t,
	    "\nmemtuned_host_memory_available_bytes "));
	ck_assert_ptr_nonnull(strstr(t, "\nmemtuned_capacity_vms{"));
	daemon_free(&d);
}
END_TEST

/* ------------------------------------------------------------- config */

static int
load(const char *text, struct mt_config *cfg, char *err, size_t errlen)
{
	return config_load_string(text, "memtuned.conf", cfg, err, errlen);
}

START_TEST(test_config_capacity_vm_size)
{
	struct mt_config cfg;
	char err[1024];

	ck_assert_int_eq(load("", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.capacity_vm_kib, 0);
	ck_assert_int_eq(load("[daemon]\ncapacity_vm_size = 4G\n", &cfg, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cfg.capacity_vm_kib, INT64_C(4) * 1024 * 1024);
	ck_assert_int_eq(load("[daemon]\ncapacity_vm_size = 1536MiB\n", &cfg,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.capacity_vm_kib, INT64_C(1536) * 1024);
	ck_assert_int_eq(load("[daemon]\ncapacity_vm_size = auto\n", &cfg,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.capacity_vm_kib, 0);

	ck_assert_int_eq(load("\n[daemon]\ncapacity_vm_size = 0\n", &cfg, err,
	    sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "memtuned.conf:3: [daemon] capacity_vm_size: "
	    "\"0\" is not auto, or a size such as 2G (out of range)");
	ck_assert_int_eq(load("[daemon]\ncapacity_vm_size = 2 apples\n", &cfg,
	    err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "memtuned.conf:2: [daemon] capacity_vm_size: "
	    "\"2 apples\" is not auto, or a size such as 2G");
	ck_assert_int_eq(load("[daemon]\ncapacity_vm_size = -1G\n", &cfg,
	    err, sizeof(err)), -EINVAL);
}
END_TEST

Suite *
daemon_metrics_suite(void)
{
	Suite *s = suite_create("daemon_metrics");
	TCase *te = tcase_create("tick");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(te, setup, teardown);
	tcase_add_test(te, test_tick_writes_capacity_at_configured_size);
	tcase_add_test(te, test_tick_writes_capacity_at_median_size);
	tcase_add_test(te, test_dry_run_tick_counts_no_action);
	tcase_add_loop_test(te, test_tick_metrics_per_guest, 0,
	    (int)ARRAY_SIZE(per_guest_cases));
	tcase_set_timeout(te, 30);
	suite_add_tcase(s, te);
	tcase_add_test(tc, test_config_capacity_vm_size);
	suite_add_tcase(s, tc);
	return s;
}
