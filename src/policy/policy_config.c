/* policy_config.c - the [policy], [ksm] and [thp] sections of memtuned.conf:
 * defaults, one setter per key driven by a table, and a validate pass for
 * the rules that tie keys together. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "util.h"

/* Long because it is the one list of every default, one assignment per
 * knob in the order of struct policy_config: split, it would be harder to
 * check against docs/configuration.md. */
void
policy_config_defaults(struct policy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->reserve_kib = MT_ABSENT;
	/* ESXi's minFree: 899 MB for the first 28 GB, 1% of the rest */
	c->reserve_fixed_kib = 899 * 1024;
	c->reserve_fixed_span_kib = 28LL * 1024 * 1024;
	c->reserve_rest_pmy = 100;

	c->plenty_pmy = 40000;
	c->target_pmy = 15000;
	c->tight_pmy = 10000;
	c->critical_pmy = 5000;
	c->hysteresis_pmy = 1000;
	c->state_dwell_ms = 30000;
	c->psi_some_tight_pmy = 1000;
	c->psi_full_critical_pmy = 500;
	c->refault_tight_per_s = 10000;
	c->majfault_tight_per_s = 2000;

	c->floor_default_pmy = 3000;
	c->qemu_overhead_kib = 256 * 1024;
	c->qemu_overhead_pmy = 200;
	c->default_shares = 1000;
	/* a tenant may ask for more than the operator's default floor, not
	 * for its whole memory, and for up to four times a default guest's
	 * weight: enough to say "this one matters", not to starve others */
	c->metadata_mode = METADATA_BOUNDED;
	c->metadata_floor_max_pmy = 5000;
	c->metadata_shares_max = 4000;
	c->metadata_exclude = false;

	c->headroom_pmy = 1000;
	c->headroom_steady_pmy = 500;
	c->headroom_memory_ms = 600000;
	c->headroom_min_kib = 128 * 1024;
	c->headroom_burst_pmy = 6000;
	c->cache_reclaim_pmy = 5000;
	c->guest_majfault_per_s = 200;
	c->guest_swapin_kib_per_s = 1024;
	c->burst_rate_kib_per_s = 32 * 1024;
	c->burst_horizon_ms = 2000;

	c->step_max_pmy = 1000;
	c->step_max_kib = 1024 * 1024;
	c->critical_step_max_pmy = 2500;
	c->critical_step_max_kib = 4LL * 1024 * 1024;
	c->min_change_kib = 16 * 1024;
	c->cooldown_ms = 20000;
	c->reverse_cooldown_ms = 60000;
	c->deadband_kib = 64 * 1024;
	c->yield_min_pmy = 2500;
	c->yield_retry_ms = 600000;

	c->balloon_inactive_ms = 5000;
	c->balloon_uncooperative_ms = 20000;
	c->balloon_retry_ms = 300000;

	c->manage_soft_limit = true;
	c->hard_limit_mode = HARD_LIMIT_UNCOOPERATIVE;
	c->swap_limit_kib = MT_ABSENT;
	c->manage_memory_low = true;
	c->manage_virtio_mem = true;

	c->interval_plenty_ms = 30000;
	c->interval_normal_ms = 10000;
	c->interval_tight_ms = 5000;
	c->interval_critical_ms = 2000;

	c->ksm_manage = true;
	c->ksm_start_committed_pmy = 8000;
	c->ksm_stop_committed_pmy = 6000;
	c->ksm_pages_min = 64;
	c->ksm_pages_max = 5000;
	c->ksm_sleep_min_ms = 10;
	c->ksm_sleep_max_ms = 200;
	c->ksm_cpu_max_pmil = 200;
	c->ksm_pay_min_kib_per_min = 16 * 1024;
	c->ksm_use_advisor = true;
	c->ksm_advisor_scan_time_s = 200;
	c->ksm_backoff_ms = 600000;

	c->thp_manage = true;
	mt_strlcpy(c->thp_pressure_defrag, "defer",
	    sizeof(c->thp_pressure_defrag));
	c->thp_pressure_scan_sleep_ms = 60000;
	c->thp_pressure_pages_to_scan = 512;
	c->thp_pressure_max_ptes_none = 64;
}

enum key_type {
	K_SIZE,			/* "512M" -> KiB */
	K_SIZE_AUTO,		/* a size, or "auto" -> MT_ABSENT */
	K_SIZE_OFF,		/* a size, or "off" -> MT_ABSENT */
	K_PCT,			/* "10%" -> pmy, at most 100% */
	K_PCT_WIDE,		/* "400%" -> pmy, above 100% allowed */
	K_PCT_PMIL,		/* "20%" -> per-mille */
	K_DUR_MS,
	K_DUR_S,
	K_COUNT,		/* a non-negative integer */
	K_BOOL,
	K_HARD_LIMIT,
	K_DEFRAG,
};

struct key_def {
	const char *section;
	const char *key;
	enum key_type type;
	size_t off;
	int64_t min, max;	/* bounds for K_COUNT */
};

#define F(field) offsetof(struct policy_config, field)

static const struct key_def keys[] = {
	{ "policy", "reserve", K_SIZE_AUTO, F(reserve_kib), 0, 0 },
	{ "policy", "reserve_fixed", K_SIZE, F(reserve_fixed_kib), 0, 0 },
	{ "policy", "reserve_fixed_span", K_SIZE, F(reserve_fixed_span_kib),
	    0, 0 },
	{ "policy", "reserve_rest", K_PCT, F(reserve_rest_pmy), 0, 0 },
	{ "policy", "plenty", K_PCT_WIDE, F(plenty_pmy), 0, 0 },
	{ "policy", "target", K_PCT_WIDE, F(target_pmy), 0, 0 },
	{ "policy", "tight", K_PCT_WIDE, F(tight_pmy), 0, 0 },
	{ "policy", "critical", K_PCT_WIDE, F(critical_pmy), 0, 0 },
	{ "policy", "hysteresis", K_PCT_WIDE, F(hysteresis_pmy), 0, 0 },
	{ "policy", "state_dwell", K_DUR_MS, F(state_dwell_ms), 0, 0 },
	{ "policy", "psi_some_tight", K_PCT, F(psi_some_tight_pmy), 0, 0 },
	{ "policy", "psi_full_critical", K_PCT, F(psi_full_critical_pmy),
	    0, 0 },
	{ "policy", "refault_tight", K_COUNT, F(refault_tight_per_s),
	    1, INT64_MAX },
	{ "policy", "majfault_tight", K_COUNT, F(majfault_tight_per_s),
	    1, INT64_MAX },
	{ "policy", "floor_default", K_PCT, F(floor_default_pmy), 0, 0 },
	{ "policy", "qemu_overhead", K_SIZE, F(qemu_overhead_kib), 0, 0 },
	{ "policy", "qemu_overhead_percent", K_PCT, F(qemu_overhead_pmy),
	    0, 0 },
	{ "policy", "default_shares", K_COUNT, F(default_shares), 1, 1000000 },
	{ "policy", "headroom", K_PCT, F(headroom_pmy), 0, 0 },
	{ "policy", "headroom_steady", K_PCT, F(headroom_steady_pmy), 0, 0 },
	{ "policy", "headroom_memory", K_DUR_MS, F(headroom_memory_ms), 0, 0 },
	{ "policy", "headroom_min", K_SIZE, F(headroom_min_kib), 0, 0 },
	{ "policy", "headroom_burst", K_PCT, F(headroom_burst_pmy), 0, 0 },
	{ "policy", "cache_reclaim", K_PCT, F(cache_reclaim_pmy), 0, 0 },
	{ "policy", "guest_majfault", K_COUNT, F(guest_majfault_per_s),
	    1, INT64_MAX },
	{ "policy", "guest_swapin", K_SIZE, F(guest_swapin_kib_per_s), 0, 0 },
	{ "policy", "burst_rate", K_SIZE, F(burst_rate_kib_per_s), 0, 0 },
	{ "policy", "burst_horizon", K_DUR_MS, F(burst_horizon_ms), 0, 0 },
	{ "policy", "step_max_percent", K_PCT, F(step_max_pmy), 0, 0 },
	{ "policy", "step_max", K_SIZE, F(step_max_kib), 0, 0 },
	{ "policy", "critical_step_max_percent", K_PCT,
	    F(critical_step_max_pmy), 0, 0 },
	{ "policy", "critical_step_max", K_SIZE, F(critical_step_max_kib),
	    0, 0 },
	{ "policy", "min_change", K_SIZE, F(min_change_kib), 0, 0 },
	{ "policy", "cooldown", K_DUR_MS, F(cooldown_ms), 0, 0 },
	{ "policy", "reverse_cooldown", K_DUR_MS, F(reverse_cooldown_ms),
	    0, 0 },
	{ "policy", "deadband", K_SIZE, F(deadband_kib), 0, 0 },
	{ "policy", "yield_min", K_PCT, F(yield_min_pmy), 0, 0 },
	{ "policy", "yield_retry", K_DUR_MS, F(yield_retry_ms), 0, 0 },
	{ "policy", "balloon_inactive", K_DUR_MS, F(balloon_inactive_ms),
	    0, 0 },
	{ "policy", "balloon_uncooperative", K_DUR_MS,
	    F(balloon_uncooperative_ms), 0, 0 },
	{ "policy", "balloon_retry", K_DUR_MS, F(balloon_retry_ms), 0, 0 },
	{ "policy", "soft_limit", K_BOOL, F(manage_soft_limit), 0, 0 },
	{ "policy", "hard_limit", K_HARD_LIMIT, F(hard_limit_mode), 0, 0 },
	{ "policy", "swap_limit", K_SIZE_OFF, F(swap_limit_kib), 0, 0 },
	{ "policy", "memory_low", K_BOOL, F(manage_memory_low), 0, 0 },
	{ "policy", "virtio_mem", K_BOOL, F(manage_virtio_mem), 0, 0 },
	{ "policy", "interval_plenty", K_DUR_MS, F(interval_plenty_ms), 0, 0 },
	{ "policy", "interval_normal", K_DUR_MS, F(interval_normal_ms), 0, 0 },
	{ "policy", "interval_tight", K_DUR_MS, F(interval_tight_ms), 0, 0 },
	{ "policy", "interval_critical", K_DUR_MS, F(interval_critical_ms),
	    0, 0 },

	{ "ksm", "manage", K_BOOL, F(ksm_manage), 0, 0 },
	{ "ksm", "start_committed", K_PCT_WIDE, F(ksm_start_committed_pmy),
	    0, 0 },
	{ "ksm", "stop_committed", K_PCT_WIDE, F(ksm_stop_committed_pmy),
	    0, 0 },
	{ "ksm", "pages_min", K_COUNT, F(ksm_pages_min), 1, 100000000 },
	{ "ksm", "pages_max", K_COUNT, F(ksm_pages_max), 1, 100000000 },
	{ "ksm", "sleep_min", K_DUR_MS, F(ksm_sleep_min_ms), 0, 0 },
	{ "ksm", "sleep_max", K_DUR_MS, F(ksm_sleep_max_ms), 0, 0 },
	{ "ksm", "cpu_max", K_PCT_PMIL, F(ksm_cpu_max_pmil), 0, 0 },
	{ "ksm", "pay_min", K_SIZE, F(ksm_pay_min_kib_per_min), 0, 0 },
	{ "ksm", "use_advisor", K_BOOL, F(ksm_use_advisor), 0, 0 },
	{ "ksm", "advisor_scan_time", K_DUR_S, F(ksm_advisor_scan_time_s),
	    0, 0 },
	{ "ksm", "backoff", K_DUR_MS, F(ksm_backoff_ms), 0, 0 },

	{ "thp", "manage", K_BOOL, F(thp_manage), 0, 0 },
	{ "thp", "pressure_defrag", K_DEFRAG, F(thp_pressure_defrag), 0, 0 },
	{ "thp", "pressure_scan_sleep", K_DUR_MS,
	    F(thp_pressure_scan_sleep_ms), 0, 0 },
	{ "thp", "pressure_pages_to_scan", K_COUNT,
	    F(thp_pressure_pages_to_scan), 1, 100000000 },
	{ "thp", "pressure_max_ptes_none", K_COUNT,
	    F(thp_pressure_max_ptes_none), 0, 511 },
};

#undef F

static const char *const defrag_values[] = {
	"always", "defer", "defer+madvise", "madvise", "never",
};

/* "400%" or "12.5%" -> per-myriad, without util's 100% ceiling: the
 * pressure thresholds are multiples of the reserve. */
static int
parse_pct_wide(const char *s, int64_t *out_pmy)
{
	return mt_parse_percent_max_pmy(s, INT64_C(10000000000), out_pmy);
}

static const char *
type_hint(enum key_type t)
{
	switch (t) {
	case K_SIZE:
		return "a size such as 512M or 2G";
	case K_SIZE_AUTO:
		return "a size such as 1G, or auto";
	case K_SIZE_OFF:
		return "a size such as 1G, or off";
	case K_PCT:
	case K_PCT_PMIL:
		return "a percentage from 0% to 100%";
	case K_PCT_WIDE:
		return "a percentage such as 150%";
	case K_DUR_MS:
	case K_DUR_S:
		return "a duration such as 500ms, 30s or 5m";
	case K_COUNT:
		return "a whole number";
	case K_BOOL:
		return "yes or no";
	case K_HARD_LIMIT:
		return "off, uncooperative or always";
	case K_DEFRAG:
		return "always, defer, defer+madvise, madvise or never";
	}
	return "?";
}

/* A numeric key's value in its unit (MT_ABSENT for "auto" or "off" where
 * the key takes it): 0, -EINVAL or -ERANGE. */
static int
parse_number(const struct key_def *k, const char *v, int64_t *x)
{
	int rc;

	switch (k->type) {
	case K_SIZE_AUTO:
	case K_SIZE_OFF:
		if (strcmp(v, k->type == K_SIZE_AUTO ? "auto" : "off") == 0) {
			*x = MT_ABSENT;
			return 0;
		}
		/* FALLTHROUGH */
	case K_SIZE:
		return mt_parse_size_kib(v, x);
	case K_PCT:
		return mt_parse_percent_pmy(v, x);
	case K_PCT_PMIL:
		if ((rc = mt_parse_percent_pmy(v, x)) < 0)
			return rc;
		*x /= 10;
		return 0;
	case K_PCT_WIDE:
		return parse_pct_wide(v, x);
	case K_DUR_MS:
	case K_DUR_S:
		if ((rc = mt_parse_duration_ms(v, x)) < 0)
			return rc;
		if (k->type == K_DUR_S) {
			if (*x % 1000 != 0)
				return -EINVAL;
			*x /= 1000;
		}
		return 0;
	case K_COUNT:
		if ((rc = mt_parse_int64(v, x)) < 0)
			return rc;
		return *x < k->min || *x > k->max ? -ERANGE : 0;
	default:
		return -EINVAL;
	}
}

/* Set key k of c from v; the field is left as it was on an error. 0,
 * -EINVAL or -ERANGE. */
static int
set_value(struct policy_config *c, const struct key_def *k, const char *v)
{
	void *field = (char *)c + k->off;
	int64_t x;
	bool b;
	int rc;

	switch (k->type) {
	case K_BOOL:
		if ((rc = mt_parse_bool(v, &b)) < 0)
			return rc;
		*(bool *)field = b;
		return 0;
	case K_HARD_LIMIT: {
		enum policy_hard_limit_mode *m = field;

		if (strcmp(v, "off") == 0)
			*m = HARD_LIMIT_OFF;
		else if (strcmp(v, "uncooperative") == 0)
			*m = HARD_LIMIT_UNCOOPERATIVE;
		else if (strcmp(v, "always") == 0)
			*m = HARD_LIMIT_ALWAYS;
		else
			return -EINVAL;
		return 0;
	}
	case K_DEFRAG:
		for (size_t i = 0; i < ARRAY_SIZE(defrag_values); i++) {
			if (strcmp(v, defrag_values[i]) == 0) {
				mt_strlcpy(field, v,
				    sizeof(c->thp_pressure_defrag));
				return 0;
			}
		}
		return -EINVAL;
	default:
		if ((rc = parse_number(k, v, &x)) < 0)
			return rc;
		*(int64_t *)field = x;
		return 0;
	}
}

int
policy_config_set(struct policy_config *c, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	const struct key_def *k = NULL;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].key, key) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (k == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "[%s] %s: unknown key",
			    section, key);
		return -ENOENT;
	}
	if ((rc = set_value(c, k, value)) < 0) {
		if (errlen > 0) {
			if (rc == -ERANGE && k->type == K_COUNT)
				snprintf(err, errlen,
				    "[%s] %s: \"%s\" is out of range "
				    "%lld..%lld", section, key, value,
				    (long long)k->min, (long long)k->max);
			else
				snprintf(err, errlen,
				    "[%s] %s: \"%s\" is not %s%s", section,
				    key, value, type_hint(k->type),
				    rc == -ERANGE ? " (out of range)" : "");
		}
		return -EINVAL;
	}
	return 0;
}

#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		if (errlen > 0)						\
			snprintf(err, errlen, __VA_ARGS__);		\
		return -EINVAL;						\
	}								\
} while (0)

int
policy_config_validate(const struct policy_config *c, char *err,
    size_t errlen)
{
	REQUIRE(c->reserve_fixed_span_kib > 0,
	    "[policy] reserve_fixed_span must be above 0");
	REQUIRE(!MT_PRESENT(c->reserve_kib) || c->reserve_kib > 0,
	    "[policy] reserve must be above 0 (or auto)");
	REQUIRE(c->critical_pmy > 0 && c->critical_pmy < c->tight_pmy,
	    "[policy] critical (%lld%%) must be above 0 and below tight "
	    "(%lld%%)", (long long)c->critical_pmy / 100,
	    (long long)c->tight_pmy / 100);
	REQUIRE(c->tight_pmy <= c->target_pmy && c->target_pmy < c->plenty_pmy,
	    "[policy] need tight <= target < plenty (%lld%%, %lld%%, %lld%%)",
	    (long long)c->tight_pmy / 100, (long long)c->target_pmy / 100,
	    (long long)c->plenty_pmy / 100);
	REQUIRE(c->hysteresis_pmy < c->plenty_pmy - c->target_pmy,
	    "[policy] hysteresis must be smaller than plenty - target, or "
	    "plenty could never be reached after reclaim");
	REQUIRE(c->floor_default_pmy > 0,
	    "[policy] floor_default must be above 0%%");
	REQUIRE(c->step_max_pmy > 0 && c->step_max_kib > 0,
	    "[policy] step_max and step_max_percent must be above 0");
	REQUIRE(c->critical_step_max_pmy >= c->step_max_pmy &&
	    c->critical_step_max_kib >= c->step_max_kib,
	    "[policy] critical_step_max(_percent) must be at least "
	    "step_max(_percent)");
	REQUIRE(c->min_change_kib < c->step_max_kib,
	    "[policy] min_change must be below step_max, or no step could "
	    "ever be sent");
	REQUIRE(c->burst_rate_kib_per_s > 0,
	    "[policy] burst_rate must be above 0 (burst_horizon = 0 turns "
	    "burst anticipation off)");
	REQUIRE(c->burst_horizon_ms <= 60000,
	    "[policy] burst_horizon must be at most 60s");
	REQUIRE(c->balloon_inactive_ms > 0 &&
	    c->balloon_inactive_ms <= c->balloon_uncooperative_ms,
	    "[policy] need 0 < balloon_inactive <= balloon_uncooperative");
	REQUIRE(c->interval_critical_ms > 0 &&
	    c->interval_critical_ms <= c->interval_tight_ms &&
	    c->interval_tight_ms <= c->interval_normal_ms &&
	    c->interval_normal_ms <= c->interval_plenty_ms,
	    "[policy] need 0 < interval_critical <= interval_tight <= "
	    "interval_normal <= interval_plenty");
	REQUIRE(c->ksm_stop_committed_pmy < c->ksm_start_committed_pmy,
	    "[ksm] stop_committed must be below start_committed");
	REQUIRE(c->ksm_pages_min <= c->ksm_pages_max,
	    "[ksm] pages_min must not be above pages_max");
	REQUIRE(c->ksm_sleep_min_ms <= c->ksm_sleep_max_ms,
	    "[ksm] sleep_min must not be above sleep_max");
	REQUIRE(c->ksm_cpu_max_pmil > 0,
	    "[ksm] cpu_max must be above 0%%");
	REQUIRE(c->ksm_advisor_scan_time_s > 0,
	    "[ksm] advisor_scan_time must be above 0");
	REQUIRE(c->thp_pressure_scan_sleep_ms > 0,
	    "[thp] pressure_scan_sleep must be above 0");
	return 0;
}
