/* test_config.c - memtuned.conf: defaults, every kind of key, errors with
 * file and line (all of them), guest sections, the shipped example, and
 * the load-then-swap pattern SIGHUP uses. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

Suite *config_suite(void);

#ifndef MT_SRCDIR
#define MT_SRCDIR "."
#endif

static int
load(const char *text, struct mt_config *cfg, char *err, size_t errlen)
{
	return config_load_string(text, "memtuned.conf", cfg, err, errlen);
}

static void
assert_has(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "'%s' not in:\n%s", needle,
	    hay);
}

START_TEST(test_defaults)
{
	struct mt_config cfg;
	char err[1024];

	ck_assert_int_eq(load("", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(cfg.uri, "qemu:///system");
	ck_assert_int_eq(cfg.interval_ms, 5000);
	ck_assert(!cfg.dry_run);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_str_eq(cfg.control_socket, "/run/memtuned/control.sock");
	ck_assert_int_eq(cfg.control_gid, (gid_t)-1);
	ck_assert_int_eq(cfg.admin_gid, (gid_t)-1);
	ck_assert_int_eq(cfg.act_interval_ms, 5000);
	ck_assert_str_eq(cfg.metrics_listen, "");
	ck_assert_str_eq(cfg.metrics_textfile, "");
	ck_assert_int_eq(cfg.psi_threshold_us, 150000);
	ck_assert_int_eq(cfg.psi_window_us, 1000000);
	ck_assert_int_eq(cfg.burst_watch_ms, 250);
	ck_assert_int_eq(cfg.policy.burst_rate_kib_per_s, 32 * 1024);
	ck_assert_int_eq(cfg.policy.burst_horizon_ms, 2000);
	ck_assert_int_eq(cfg.on_exit, ON_EXIT_LEAVE);
	ck_assert_int_eq(cfg.deflate_to_pmy, 10000);
	ck_assert(cfg.restore_host_settings);
	ck_assert_int_eq(cfg.stats_period_s, 5);
	ck_assert(!cfg.task_delayacct);
	ck_assert(cfg.manage_ksm && cfg.manage_thp && cfg.manage_hard_limit);
	ck_assert_int_eq(cfg.nr_guests, 0);
	ck_assert_ptr_null(config_guest_input(&cfg, "web1"));
	/* the policy's defaults come along untouched */
	ck_assert(cfg.policy.ksm_manage);
	ck_assert_int_eq(cfg.policy.default_shares, 1000);
	config_free(&cfg);
}
END_TEST

START_TEST(test_daemon_keys)
{
	static const char text[] =
	    "# a comment\n"
	    "[daemon]\n"
	    "uri = qemu+ssh://host/system\n"
	    "  interval = 2s\n"			/* indented: still a key */
	    "interval_min = 500ms\n"
	    "interval_max=2m\n"
	    "dry_run = yes\n"
	    "log_level = debug\n"
	    "control_socket = /run/mt/ctl.sock\n"
	    "control_group = root\n"
	    "metrics_listen = [::1]:9848\n"
	    "metrics_textfile = /var/lib/prometheus/node-exporter/memtuned.prom\n"
	    "psi_threshold = 100ms ; inline comment\n"
	    "psi_window = 2s\n"
	    "on_exit = deflate\n"
	    "deflate_to = 90%\n"
	    "restore_host_settings = no\n"
	    "stats_period = 10\n"
	    "task_delayacct = on\n"
	    "manage_ksm = no\n"
	    "manage_thp = no\n"
	    "manage_hard_limit = no\n"
	    "\r\n"
	    "[ksm]\n"
	    "manage = yes\n"
	    "pages_max = 2000\n";
	struct mt_config cfg;
	char err[1024];

	ck_assert_msg(load(text, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.uri, "qemu+ssh://host/system");
	ck_assert_int_eq(cfg.interval_ms, 2000);
	ck_assert_int_eq(cfg.interval_min_ms, 500);
	ck_assert_int_eq(cfg.interval_max_ms, 120000);
	ck_assert(cfg.dry_run);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg.control_socket, "/run/mt/ctl.sock");
	ck_assert_int_eq(cfg.control_gid, (gid_t)-1);
	ck_assert_str_eq(cfg.metrics_host, "::1");
	ck_assert_int_eq(cfg.metrics_port, 9848);
	ck_assert_str_eq(cfg.metrics_textfile,
	    "/var/lib/prometheus/node-exporter/memtuned.prom");
	ck_assert_int_eq(cfg.psi_threshold_us, 100000);
	ck_assert_int_eq(cfg.psi_window_us, 2000000);
	ck_assert_int_eq(cfg.on_exit, ON_EXIT_DEFLATE);
	ck_assert_int_eq(cfg.deflate_to_pmy, 9000);
	ck_assert(!cfg.restore_host_settings);
	ck_assert_int_eq(cfg.stats_period_s, 10);
	ck_assert(cfg.task_delayacct);
	ck_assert_int_eq(cfg.policy.ksm_pages_max, 2000);
	/* the master switch wins over [ksm] manage = yes */
	ck_assert(!cfg.policy.ksm_manage);
	ck_assert(!cfg.policy.thp_manage);
	ck_assert_int_eq(cfg.policy.hard_limit_mode, HARD_LIMIT_OFF);
	config_free(&cfg);

	ck_assert_int_eq(load("[daemon]\ncontrol_group = 0\n"
	    "metrics_listen = 127.0.0.1:9848\npsi_threshold = off\n"
	    "burst_watch = off\n[policy]\nburst_rate = 64M\n"
	    "burst_horizon = 3s\n",
	    &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.control_gid, 0);
	ck_assert_str_eq(cfg.metrics_host, "127.0.0.1");
	ck_assert_int_eq(cfg.psi_threshold_us, 0);
	ck_assert_int_eq(cfg.burst_watch_ms, 0);
	ck_assert_int_eq(cfg.policy.burst_rate_kib_per_s, 64 * 1024);
	ck_assert_int_eq(cfg.policy.burst_horizon_ms, 3000);
	config_free(&cfg);
}
END_TEST

START_TEST(test_guests)
{
	static const char text[] =
	    "[guest web1]\n"
	    "floor = 1G\n"
	    "ceiling = 4G\n"
	    "shares = 2000\n"
	    "[guest \"db 2\"]\n"
	    "exclude = yes\n"
	    "[guest a-very-long-guest-name-that-inih-would-cut-at-fifty-bytes-x]\n"
	    "floor = 512M\n"
	    "[guest web1]\n"			/* a repeated header continues */
	    "exclude = no\n";
	const struct guest_input *in;
	struct mt_config cfg;
	char err[1024];

	ck_assert_msg(load(text, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nr_guests, 3);
	in = config_guest_input(&cfg, "web1");
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(in->floor_kib, 1024 * 1024);
	ck_assert_int_eq(in->ceiling_kib, 4 * 1024 * 1024);
	ck_assert_int_eq(in->shares, 2000);
	ck_assert(!in->exclude);
	ck_assert_int_eq(in->floor_src, SRC_CONFIG);
	ck_assert_int_eq(in->exclude_src, SRC_CONFIG);
	in = config_guest_input(&cfg, "db 2");
	ck_assert_ptr_nonnull(in);
	ck_assert(in->exclude);
	ck_assert_int_eq(in->floor_kib, MT_ABSENT);
	ck_assert_int_eq(in->floor_src, SRC_DEFAULT);
	ck_assert_int_eq(in->shares, MT_ABSENT);
	in = config_guest_input(&cfg,
	    "a-very-long-guest-name-that-inih-would-cut-at-fifty-bytes-x");
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(in->floor_kib, 512 * 1024);
	ck_assert_ptr_null(config_guest_input(&cfg, "web"));
	{
		struct guest_override o;
		struct guest_input merged;

		ck_assert(config_guest_override(&cfg, "db 2", &o));
		ck_assert_int_eq(o.exclude, 1);
		ck_assert_int_eq(o.floor_kib, MT_ABSENT);
		ck_assert(!config_guest_override(&cfg, "web", &o));
		ck_assert_int_eq(o.exclude, -1);
		/* the config section wins over the domain's metadata */
		ck_assert(config_guest_override(&cfg, "web1", &o));
		{
			struct guest_override meta;

			guest_override_init(&meta);
			meta.floor_kib = 2 * 1024 * 1024;
			meta.shares = 10;
			guest_input_merge(&o, &meta, &merged);
		}
		ck_assert_int_eq(merged.floor_kib, 1024 * 1024);
		ck_assert_int_eq(merged.floor_src, SRC_CONFIG);
		ck_assert_int_eq(merged.shares, 2000);
	}
	ck_assert_ptr_null(config_guest_input(&cfg, "\"db 2\""));
	config_free(&cfg);
}
END_TEST

START_TEST(test_errors_all_reported)
{
	static const char text[] =
	    "stray = 1\n"			/* 1 */
	    "[daemon]\n"			/* 2 */
	    "interval = 5 parsecs\n"		/* 3 */
	    "intervall = 5s\n"			/* 4 */
	    "dry_run = yes\n"			/* 5 */
	    "dry_run = no\n"			/* 6 */
	    "[guest web1]\n"			/* 7 */
	    "flor = 1G\n"			/* 8 */
	    "ceiling = lots\n"			/* 9 */
	    "[bogus]\n"				/* 10 */
	    "x = 1\n"				/* 11 */
	    "[ksm]\n"				/* 12 */
	    "pages_min = many\n"		/* 13 */
	    "nosuch = 1\n"			/* 14 */
	    "just some words\n"			/* 15 */
	    "[guest]\n"				/* 16 */
	    "[daemon\n"				/* 17 */
	    "[daemon]\n"			/* 18 */
	    "uri =\n"				/* 19 */
	    "on_exit = explode\n";		/* 20 */
	struct mt_config cfg;
	char err[4096];

	ck_assert_int_eq(load(text, &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "memtuned.conf:1: key 'stray' before any [section]");
	assert_has(err, "memtuned.conf:3: [daemon] interval: \"5 parsecs\" is not");
	assert_has(err, "memtuned.conf:4: unknown key 'intervall' in [daemon]");
	assert_has(err, "memtuned.conf:6: 'dry_run' in [daemon] is set twice "
	    "(first on line 5)");
	assert_has(err, "memtuned.conf:8: unknown key 'flor' in [guest web1]");
	assert_has(err, "memtuned.conf:9: [guest web1] ceiling: \"lots\"");
	assert_has(err, "memtuned.conf:10: unknown section [bogus]");
	assert_has(err, "memtuned.conf:13: [ksm] pages_min: \"many\"");
	assert_has(err, "memtuned.conf:14: unknown key 'nosuch' in [ksm]");
	assert_has(err, "memtuned.conf:15: expected 'key = value'");
	assert_has(err, "memtuned.conf:16: [guest]: the guest name is missing");
	assert_has(err, "memtuned.conf:17: section header without ']'");
	assert_has(err, "memtuned.conf:19: [daemon] uri: empty value");
	assert_has(err, "memtuned.conf:20: [daemon] on_exit: \"explode\"");
	/* keys under an unknown section are not reported again */
	ck_assert_ptr_null(strstr(err, ":11:"));
	/* a failed load leaves defaults and nothing to free */
	ck_assert_int_eq(cfg.nr_guests, 0);
	ck_assert_ptr_null(cfg.guests);
	ck_assert_int_eq(cfg.interval_ms, 5000);
	config_free(&cfg);
}
END_TEST

START_TEST(test_validate)
{
	struct mt_config cfg;
	char err[2048];

	ck_assert_int_eq(load("[daemon]\ninterval = 10s\n\ninterval_max = 5s\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "memtuned.conf:4: [daemon] need interval_min <= "
	    "interval <= interval_max");
	ck_assert_int_eq(load("[guest w]\nfloor = 2G\nceiling = 1G\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "memtuned.conf:1: [guest w] floor (2097152 KiB) is "
	    "above ceiling (1048576 KiB)");
	ck_assert_int_eq(load("[daemon]\npsi_window = 20s\n", &cfg, err,
	    sizeof(err)), -EINVAL);
	assert_has(err, "memtuned.conf:2: [daemon] psi_window must be from");
	ck_assert_int_eq(load("[daemon]\npsi_threshold = 2s\npsi_window = 2s\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "psi_threshold must be below psi_window");
	ck_assert_int_eq(load("[daemon]\nmetrics_textfile = /tmp/m.txt\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "must end in .prom");
	ck_assert_int_eq(load("[daemon]\nstats_period = 1.5s\n", &cfg, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(load("[daemon]\nmetrics_listen = localhost:9848\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(load("[daemon]\nmetrics_listen = 127.0.0.1:99999\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(load("[daemon]\ncontrol_socket = run/ctl.sock\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(load("[daemon]\ncontrol_group = no-such-group-mt\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "no group named \"no-such-group-mt\"");
	ck_assert_int_eq(load("[guest w]\nshares = 0\n", &cfg, err,
	    sizeof(err)), -EINVAL);
	assert_has(err, "(out of range)");
	/* the policy's cross-field rules are run too */
	ck_assert_int_eq(load("[daemon]\nburst_watch = 10ms\n", &cfg, err,
	    sizeof(err)), -EINVAL);
	assert_has(err, "burst_watch must be off or from 50ms to 10s");
	ck_assert_int_eq(load("[policy]\nburst_rate = 0\n", &cfg, err,
	    sizeof(err)), -EINVAL);
	assert_has(err, "[policy] burst_rate must be above 0");

	ck_assert_int_eq(load("[ksm]\npages_min = 500\npages_max = 100\n",
	    &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "[ksm] pages_min must not be above pages_max");

	/* the same checks for a config built in code */
	config_defaults(&cfg);
	cfg.interval_min_ms = 10;
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "interval_min must be at least 100ms");
	config_defaults(&cfg);
	cfg.manage_thp = false;
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert(!cfg.policy.thp_manage);
	config_free(&cfg);
}
END_TEST

/* Who may act on the control socket, and how often: every form of
 * admin_group and act_interval, good and broken. */
START_TEST(test_access_keys)
{
	static const struct {
		const char *text;
		int rc;
		gid_t admin_gid;
		const char *admin_group;
		int64_t act_ms;
		const char *err;
	} cases[] = {
		{ "", 0, (gid_t)-1, "", 5000, NULL },
		{ "admin_group = 0", 0, 0, "0", 5000, NULL },
		{ "admin_group = root", 0, (gid_t)-1, "", 5000, NULL },
		{ "act_interval = off", 0, (gid_t)-1, "", 0, NULL },
		{ "act_interval = 0", 0, (gid_t)-1, "", 0, NULL },
		{ "act_interval = 2.5s", 0, (gid_t)-1, "", 2500, NULL },
		{ "act_interval = 500ms", 0, (gid_t)-1, "", 500, NULL },
		{ "act_interval = 1h", 0, (gid_t)-1, "", 3600000, NULL },
		{ "act_interval = soon", -EINVAL, 0, NULL, 0,
		  "memtuned.conf:2: [daemon] act_interval: \"soon\" is not "
		  "off, or a duration such as 5s" },
		{ "act_interval = -1s", -EINVAL, 0, NULL, 0,
		  "[daemon] act_interval: \"-1s\" is not" },
		{ "act_interval = 2h", -EINVAL, 0, NULL, 0,
		  "memtuned.conf:2: [daemon] act_interval must be off or at "
		  "most 1h" },
		{ "admin_group =", -EINVAL, 0, NULL, 0,
		  "memtuned.conf:2: [daemon] admin_group: empty value" },
		{ "admin_group = no-such-group-mt", -EINVAL, 0, NULL, 0,
		  "memtuned.conf:2: [daemon] admin_group: no group named "
		  "\"no-such-group-mt\"" },
		{ "admin_group = 99999999999", -EINVAL, 0, NULL, 0,
		  "[daemon] admin_group: \"99999999999\" is not an existing "
		  "group name or number (out of range)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mt_config cfg;
		char text[256], err[1024];
		int rc;

		snprintf(text, sizeof(text), "[daemon]\n%s\n", cases[i].text);
		rc = load(text, &cfg, err, sizeof(err));
		ck_assert_msg(rc == cases[i].rc, "%s: rc %d: %s", cases[i].text,
		    rc, err);
		if (cases[i].err != NULL) {
			assert_has(err, cases[i].err);
			continue;
		}
		ck_assert_msg(cfg.admin_gid == cases[i].admin_gid, "%s",
		    cases[i].text);
		ck_assert_str_eq(cfg.admin_group, cases[i].admin_group);
		ck_assert_msg(cfg.act_interval_ms == cases[i].act_ms,
		    "%s: %lld", cases[i].text, (long long)cfg.act_interval_ms);
		/* the two groups are kept apart */
		ck_assert_int_eq(cfg.control_gid, (gid_t)-1);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_long_line_and_truncation)
{
	struct mt_config cfg;
	char text[8192], err[256];
	size_t off = 0;
	int i;

	off += (size_t)snprintf(text + off, sizeof(text) - off,
	    "[daemon]\nuri = %0300d\n", 7);
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "bad%d = 1\n", i);
	ck_assert_int_eq(load(text, &cfg, err, sizeof(err)), -EINVAL);
	assert_has(err, "memtuned.conf:2: line too long");
	/* a small buffer keeps whole lines and says how many it dropped */
	assert_has(err, "more errors not shown)");
	ck_assert_int_lt(strlen(err), sizeof(err));
}
END_TEST

START_TEST(test_reload_swap)
{
	struct mt_config cur, next;
	char err[1024];

	ck_assert_int_eq(load("[guest a]\nfloor = 1G\n", &cur, err,
	    sizeof(err)), 0);
	/* a bad new file leaves the running config alone */
	ck_assert_int_eq(load("[guest a]\nfloor = 1X\n", &next, err,
	    sizeof(err)), -EINVAL);
	ck_assert_int_eq(config_guest_input(&cur, "a")->floor_kib, 1024 * 1024);
	config_free(&next);
	ck_assert_int_eq(load("[guest b]\nfloor = 2G\n", &next, err,
	    sizeof(err)), 0);
	config_move(&cur, &next);
	ck_assert_ptr_null(config_guest_input(&cur, "a"));
	ck_assert_int_eq(config_guest_input(&cur, "b")->floor_kib,
	    2 * 1024 * 1024);
	ck_assert_ptr_null(next.guests);
	config_free(&next);
	config_free(&cur);
}
END_TEST

/* Whether the daemon follows exclude="yes" in a guest's metadata, for
 * memtunectl exclude to say so: memtuned.conf's [guest] section wins,
 * then [daemon] metadata (and metadata_exclude when bounded). */
START_TEST(test_metadata_exclude_followed)
{
	static const struct {
		const char *conf;
		const char *guest;
		enum config_meta_exclude want;
	} cases[] = {
		{ "", "vm", META_EXCLUDE_BOUNDED },
		{ "[daemon]\nmetadata_exclude = yes\n", "vm",
		  META_EXCLUDE_FOLLOWED },
		{ "[daemon]\nmetadata = trust\n", "vm", META_EXCLUDE_FOLLOWED },
		{ "[daemon]\nmetadata = ignore\nmetadata_exclude = yes\n", "vm",
		  META_EXCLUDE_IGNORED },
		{ "[daemon]\nmetadata = trust\n[guest vm]\nexclude = no\n",
		  "vm", META_EXCLUDE_CONF_WINS },
		{ "[daemon]\nmetadata = trust\n[guest vm]\nfloor = 1G\n",
		  "vm", META_EXCLUDE_FOLLOWED },
		{ "[daemon]\nmetadata = trust\n[guest other]\nexclude = no\n",
		  "vm", META_EXCLUDE_FOLLOWED },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mt_config cfg;
		char err[1024];

		ck_assert_msg(load(cases[i].conf, &cfg, err, sizeof(err)) == 0,
		    "%s", err);
		ck_assert_msg(config_metadata_exclude(&cfg, cases[i].guest) ==
		    cases[i].want, "case %zu", i);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_load_file)
{
	char dir[] = "/tmp/mt-conf-XXXXXX", path[256], err[1024];
	struct mt_config cfg;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memtuned.conf", dir);
	ck_assert_int_eq(config_load_file(path, &cfg, err, sizeof(err)),
	    -ENOENT);
	assert_has(err, path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[daemon]\ndry_run = yes\nfoo = 1\n", f);
	fclose(f);
	ck_assert_int_eq(config_load_file(path, &cfg, err, sizeof(err)),
	    -EINVAL);
	/* the path as given names the file */
	snprintf(path + strlen(path), sizeof(path) - strlen(path), ":3:");
	assert_has(err, path);
	path[strlen(path) - 3] = '\0';
	ck_assert_int_eq(config_load_file(dir, &cfg, err, sizeof(err)),
	    -EINVAL);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* The shipped example must always load, and, since it lists every key
 * with its default, load to exactly the defaults: a default changed in
 * code and not in the example (or the other way round) fails here. */
START_TEST(test_example_conf)
{
	struct mt_config cfg, def;
	char err[4096];

	ck_assert_msg(config_load_file(MT_SRCDIR "/conf/memtuned.conf", &cfg,
	    err, sizeof(err)) == 0, "%s", err);
	config_defaults(&def);
	mt_strlcpy(def.source, cfg.source, sizeof(def.source));
	ck_assert_int_eq(cfg.nr_guests, 0);
	ck_assert_str_eq(cfg.uri, def.uri);
	ck_assert_int_eq(cfg.interval_ms, def.interval_ms);
	ck_assert_int_eq(cfg.psi_threshold_us, def.psi_threshold_us);
	ck_assert_int_eq(cfg.stats_period_s, def.stats_period_s);
	ck_assert_msg(memcmp(&cfg.policy, &def.policy, sizeof(cfg.policy)) == 0,
	    "[policy]/[ksm]/[thp] values in conf/memtuned.conf differ from "
	    "policy_config_defaults()");
	ck_assert_msg(memcmp(&cfg, &def, sizeof(cfg)) == 0,
	    "[daemon] values in conf/memtuned.conf differ from "
	    "config_defaults()");
	config_free(&cfg);
}
END_TEST

/* The commented-out examples ("#key = value", no blank after '#') must
 * parse too once uncommented. */
START_TEST(test_example_conf_commented)
{
	char *text, *out, *p, *q, err[4096];
	struct mt_config cfg;
	const struct guest_input *in;
	size_t len;
	FILE *f;

	f = fopen(MT_SRCDIR "/conf/memtuned.conf", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = (size_t)ftell(f);
	rewind(f);
	text = calloc(1, len + 1);
	out = calloc(1, len + 1);
	ck_assert(text != NULL && out != NULL);
	ck_assert_uint_eq(fread(text, 1, len, f), len);
	fclose(f);
	for (p = text, q = out; *p != '\0';) {
		bool bol = p == text || p[-1] == '\n';

		if (bol && p[0] == '#' && p[1] != '\0' && p[1] != ' ' &&
		    p[1] != '\n' && p[1] != '#')
			p++;
		else
			*q++ = *p++;
	}
	ck_assert_msg(config_load_string(out, "memtuned.conf (uncommented)",
	    &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(cfg.nr_guests, 1);
	in = config_guest_input(&cfg, "web1");
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(in->floor_src, SRC_CONFIG);
	config_free(&cfg);
	free(text);
	free(out);
}
END_TEST

/* [daemon] metadata and its bounds: each value read where it belongs,
 * a bad one an error naming the key (the wording is what a user reads). */
static const struct metadata_key_case {
	const char *text;
	int rc;
	const char *err;
	enum metadata_trust mode;
	int64_t floor_max_pmy, shares_max;
	bool exclude;
} metadata_key_cases[] = {
	{ "", 0, NULL, METADATA_BOUNDED, 5000, 4000, false },
	{ "metadata = bounded\n", 0, NULL, METADATA_BOUNDED, 5000, 4000,
	    false },
	{ "metadata = trust\nmetadata_floor_max = 25%\n"
	    "metadata_shares_max = 2000\nmetadata_exclude = yes\n", 0, NULL,
	    METADATA_TRUST, 2500, 2000, true },
	{ "metadata = ignore\nmetadata_floor_max = 100%\n"
	    "metadata_shares_max = 1\n", 0, NULL, METADATA_IGNORE, 10000, 1,
	    false },
	{ .text = "metadata = trusted\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata: \"trusted\" is not trust, bounded or ignore" },
	{ .text = "metadata = Bounded\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata: \"Bounded\" is not trust, bounded or ignore" },
	{ .text = "metadata_floor_max = 150%\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata_floor_max: \"150%\" is not a percentage from 1% to "
	    "100%" },
	{ .text = "metadata_floor_max = 0%\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata_floor_max must be above 0%" },
	{ .text = "metadata_floor_max = 2G\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata_floor_max: \"2G\" is not a percentage" },
	{ .text = "metadata_shares_max = 0\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata_shares_max: \"0\" is not a whole number from 1 to "
	    "1000000 (out of range)" },
	{ .text = "metadata_shares_max = 1000001\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: "
	    "[daemon] metadata_shares_max: \"1000001\" is not a whole number "
	    "from 1 to 1000000 (out of range)" },
	{ .text = "metadata_shares_max = many\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: "
	    "[daemon] metadata_shares_max: \"many\" is not a whole number" },
	{ .text = "metadata_exclude = maybe\n", .rc = -EINVAL,
	    .err = "memtuned.conf:2: [daemon] "
	    "metadata_exclude: \"maybe\" is not yes or no" },
};

START_TEST(test_metadata_keys)
{
	const struct metadata_key_case *mc = &metadata_key_cases[_i];
	struct mt_config cfg;
	char text[512], err[1024];

	snprintf(text, sizeof(text), "[daemon]\n%s", mc->text);
	ck_assert_int_eq(load(text, &cfg, err, sizeof(err)), mc->rc);
	if (mc->rc < 0) {
		assert_has(err, mc->err);
		config_free(&cfg);
		return;
	}
	ck_assert_int_eq(cfg.policy.metadata_mode, mc->mode);
	ck_assert_int_eq(cfg.policy.metadata_floor_max_pmy, mc->floor_max_pmy);
	ck_assert_int_eq(cfg.policy.metadata_shares_max, mc->shares_max);
	ck_assert(cfg.policy.metadata_exclude == mc->exclude);
	ck_assert_str_eq(metadata_trust_name(cfg.policy.metadata_mode),
	    mc->mode == METADATA_TRUST ? "trust" : mc->mode ==
	    METADATA_IGNORE ? "ignore" : "bounded");
	config_free(&cfg);
}
END_TEST

static const struct per_guest_case {
	const char *text;
	int rc;
	bool per_guest;
	const char *err;
} per_guest_cases[] = {
	{ "", 0, true, NULL },
	{ "metrics_per_guest = yes\n", 0, true, NULL },
	{ "metrics_per_guest = no\n", 0, false, NULL },
	{ "metrics_per_guest = off\n", 0, false, NULL },
	{ "metrics_per_guest = maybe\n", -EINVAL, false,
	  "memtuned.conf:2: [daemon] metrics_per_guest: \"maybe\" is not yes "
	  "or no" },
	{ "metrics_per_guest =\n", -EINVAL, false,
	  "memtuned.conf:2: [daemon] metrics_per_guest: empty value" },
	{ "metrics_per_guest = no\nmetrics_per_guest = yes\n", -EINVAL, false,
	  "memtuned.conf:3: 'metrics_per_guest' in [daemon] is set twice "
	  "(first on line 2)" },
};

START_TEST(test_metrics_per_guest)
{
	const struct per_guest_case *pc = &per_guest_cases[_i];
	struct mt_config cfg;
	char text[256], err[1024];

	snprintf(text, sizeof(text), "[daemon]\n%s", pc->text);
	ck_assert_int_eq(load(text, &cfg, err, sizeof(err)), pc->rc);
	if (pc->rc < 0)
		assert_has(err, pc->err);
	else
		ck_assert(cfg.metrics_per_guest == pc->per_guest);
	config_free(&cfg);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_daemon_keys);
	tcase_add_test(tc, test_access_keys);
	tcase_add_test(tc, test_guests);
	tcase_add_test(tc, test_errors_all_reported);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_long_line_and_truncation);
	tcase_add_test(tc, test_reload_swap);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_example_conf);
	tcase_add_test(tc, test_example_conf_commented);
	tcase_add_test(tc, test_metadata_exclude_followed);
	tcase_add_loop_test(tc, test_metadata_keys, 0,
	    (int)(sizeof(metadata_key_cases) / sizeof(metadata_key_cases[0])));
	tcase_add_loop_test(tc, test_metrics_per_guest, 0,
	    (int)(sizeof(per_guest_cases) / sizeof(per_guest_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}
