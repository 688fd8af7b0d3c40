/* test_policy_config.c - [policy], [ksm], [thp] keys: defaults are valid,
 * every value type parses, bad values and unknown keys are refused with a
 * message naming the key, and validate catches inconsistent settings. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "policy.h"

Suite *policy_config_suite(void);

static int
set(struct policy_config *c, const char *sec, const char *k, const char *v,
    char *err)
{
	return policy_config_set(c, sec, k, v, err, 256);
}

START_TEST(test_defaults_valid)
{
	struct policy_config c;
	char err[256] = "";

	policy_config_defaults(&c);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)), 0);
	ck_assert(!MT_PRESENT(c.reserve_kib));
	ck_assert(!MT_PRESENT(c.swap_limit_kib));
	ck_assert_int_eq(c.default_shares, 1000);
}
END_TEST

START_TEST(test_set_types)
{
	struct policy_config c;
	char err[256];

	policy_config_defaults(&c);
	/* size */
	ck_assert_int_eq(set(&c, "policy", "step_max", "2G", err), 0);
	ck_assert_int_eq(c.step_max_kib, 2 * 1024 * 1024);
	/* size or auto */
	ck_assert_int_eq(set(&c, "policy", "reserve", "1.5G", err), 0);
	ck_assert_int_eq(c.reserve_kib, 1536 * 1024);
	ck_assert_int_eq(set(&c, "policy", "reserve", "auto", err), 0);
	ck_assert(!MT_PRESENT(c.reserve_kib));
	/* size or off */
	ck_assert_int_eq(set(&c, "policy", "swap_limit", "512M", err), 0);
	ck_assert_int_eq(c.swap_limit_kib, 512 * 1024);
	ck_assert_int_eq(set(&c, "policy", "swap_limit", "off", err), 0);
	ck_assert(!MT_PRESENT(c.swap_limit_kib));
	/* percent, and percent above 100 */
	ck_assert_int_eq(set(&c, "policy", "headroom", "12.5%", err), 0);
	ck_assert_int_eq(c.headroom_pmy, 1250);
	ck_assert_int_eq(set(&c, "policy", "plenty", "450%", err), 0);
	ck_assert_int_eq(c.plenty_pmy, 45000);
	ck_assert_int_eq(set(&c, "ksm", "cpu_max", "15%", err), 0);
	ck_assert_int_eq(c.ksm_cpu_max_pmil, 150);
	/* durations */
	ck_assert_int_eq(set(&c, "policy", "cooldown", "45s", err), 0);
	ck_assert_int_eq(c.cooldown_ms, 45000);
	ck_assert_int_eq(set(&c, "ksm", "advisor_scan_time", "5m", err), 0);
	ck_assert_int_eq(c.ksm_advisor_scan_time_s, 300);
	/* counts, bools, enums, strings */
	ck_assert_int_eq(set(&c, "ksm", "pages_max", "2500", err), 0);
	ck_assert_int_eq(c.ksm_pages_max, 2500);
	ck_assert_int_eq(set(&c, "thp", "manage", "no", err), 0);
	ck_assert(!c.thp_manage);
	ck_assert_int_eq(set(&c, "policy", "hard_limit", "always", err), 0);
	ck_assert_int_eq(c.hard_limit_mode, HARD_LIMIT_ALWAYS);
	ck_assert_int_eq(set(&c, "thp", "pressure_defrag", "madvise", err), 0);
	ck_assert_str_eq(c.thp_pressure_defrag, "madvise");
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_set_errors)
{
	struct policy_config c;
	char err[256];

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "policy", "no_such_key", "1", err), -ENOENT);
	/* a key of another section is unknown here */
	ck_assert_int_eq(set(&c, "ksm", "step_max", "1G", err), -ENOENT);

	ck_assert_int_eq(set(&c, "policy", "step_max", "lots", err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "step_max"));
	ck_assert_ptr_nonnull(strstr(err, "lots"));
	/* the percent sign is required: 0.5 is not read as 50% */
	ck_assert_int_eq(set(&c, "policy", "headroom", "0.5", err), -EINVAL);
	ck_assert_int_eq(set(&c, "policy", "headroom", "120%", err), -EINVAL);
	ck_assert_int_eq(set(&c, "policy", "tight", "%", err), -EINVAL);
	ck_assert_int_eq(set(&c, "policy", "cooldown", "3 days", err),
	    -EINVAL);
	ck_assert_int_eq(set(&c, "ksm", "advisor_scan_time", "1500ms", err),
	    -EINVAL);
	ck_assert_int_eq(set(&c, "ksm", "pages_max", "0", err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "out of range"));
	ck_assert_int_eq(set(&c, "thp", "pressure_max_ptes_none", "512", err),
	    -EINVAL);
	ck_assert_int_eq(set(&c, "policy", "hard_limit", "sometimes", err),
	    -EINVAL);
	ck_assert_int_eq(set(&c, "thp", "pressure_defrag", "lazy", err),
	    -EINVAL);
	ck_assert_int_eq(set(&c, "policy", "soft_limit", "maybe", err),
	    -EINVAL);
	/* a refused value leaves the old one */
	ck_assert_int_eq(c.step_max_kib, 1024 * 1024);
}
END_TEST

START_TEST(test_validate)
{
	struct policy_config c;
	char err[256];

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "policy", "critical", "120%", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "critical"));

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "policy", "target", "500%", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "ksm", "stop_committed", "90%", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "stop_committed"));

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "policy", "min_change", "2G", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "policy", "interval_critical", "1m", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "policy", "balloon_inactive", "30s", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);

	policy_config_defaults(&c);
	ck_assert_int_eq(set(&c, "ksm", "sleep_min", "1s", err), 0);
	ck_assert_int_eq(policy_config_validate(&c, err, sizeof(err)),
	    -EINVAL);
}
END_TEST

Suite *
policy_config_suite(void)
{
	Suite *s = suite_create("policy_config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults_valid);
	tcase_add_test(tc, test_set_types);
	tcase_add_test(tc, test_set_errors);
	tcase_add_test(tc, test_validate);
	suite_add_tcase(s, tc);
	return s;
}
