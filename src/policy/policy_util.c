/* policy_util.c - the policy's leaf helpers: the names of its codes and
 * the formatter of reasons. Every stage calls these and they call no
 * stage, so the policy's calls go one way: orchestrator -> stages -> here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "policy_internal.h"

const char *
policy_action_name(enum guest_action a)
{
	switch (a) {
	case ACT_NONE:
		return "none";
	case ACT_BALLOON:
		return "balloon";
	case ACT_MEMTUNE:
		return "memtune";
	case ACT_BOTH:
		return "both";
	case ACT_LEAVE_ALONE:
		return "leave-alone";
	}
	return "?";
}

const char *
policy_guest_state_name(enum guest_plan_state st)
{
	switch (st) {
	case GPS_OK:
		return "ok";
	case GPS_UNCOOPERATIVE:
		return "uncooperative";
	case GPS_STALE:
		return "stale";
	case GPS_EXCLUDED:
		return "excluded";
	case GPS_CONFIG_ERROR:
		return "config-error";
	case GPS_FIXED:
		return "fixed";
	case GPS_PAUSED:
		return "paused";
	case GPS_RELEASED:
		return "released";
	}
	return "?";
}

const char *
policy_pressure_name(enum host_pressure p)
{
	switch (p) {
	case PRESSURE_PLENTY:
		return "plenty";
	case PRESSURE_NORMAL:
		return "normal";
	case PRESSURE_TIGHT:
		return "tight";
	case PRESSURE_CRITICAL:
		return "critical";
	}
	return "?";
}

/* The keys of the reasons' codes: scripts match on these, so a key once
 * published does not change (docs/policy.md). */
static const char *const guest_why_names[] = {
	[GW_WHY_NONE] = "none",
	[GW_WHY_EXCLUDED] = "excluded",
	[GW_WHY_PAUSED] = "paused",
	[GW_WHY_RELEASED] = "released",
	[GW_WHY_NO_UUID] = "no_uuid",
	[GW_WHY_NOT_RUNNING] = "not_running",
	[GW_WHY_CONFIG_ERROR] = "config_error",
	[GW_WHY_HUGEPAGES] = "hugepages",
	[GW_WHY_LOCKED] = "locked_memory",
	[GW_WHY_NO_BALLOON] = "no_balloon",
	[GW_WHY_SIZE_UNKNOWN] = "size_unknown",
	[GW_WHY_UNCOOPERATIVE] = "uncooperative",
	[GW_WHY_WAITING] = "waiting",
	[GW_WHY_STATS_INCOMPLETE] = "stats_incomplete",
	[GW_WHY_STATS_STALE] = "stats_stale",
	[GW_WHY_NO_STATS] = "no_stats",
	[GW_WHY_OUT_OF_BOUNDS] = "out_of_bounds",
	[GW_WHY_BELOW_MIN_CHANGE] = "below_min_change",
	[GW_WHY_HOST_TAKES] = "host_takes",
	[GW_WHY_BURST_FED] = "burst_fed",
	[GW_WHY_PRESSURE_FED] = "pressure_fed",
	[GW_WHY_DEFLATED] = "deflated",
	[GW_WHY_AT_CEILING] = "at_ceiling",
	[GW_WHY_NO_ROOM] = "no_room",
	[GW_WHY_PLENTY_GIVES] = "plenty_gives",
	[GW_WHY_FPR_RETURNS] = "fpr_returns",
	[GW_WHY_RETURNS_NOTHING] = "returns_nothing",
	[GW_WHY_NEVER_TOUCHED] = "never_touched",
	[GW_WHY_STEADY] = "steady",
	[GW_WHY_NODE_BELOW_MIN_CHANGE] = "node_below_min_change",
	[GW_WHY_NODE_CAPPED] = "node_capped",
	[GW_WHY_NODE_TAKES] = "node_takes",
	[GW_WHY_NODE_FED] = "node_fed",
	[GW_WHY_NODE_NO_ROOM] = "node_no_room",
	[GW_WHY_NODE_STEADY] = "node_steady",
	[GW_WHY_RESERVE_TAKES] = "reserve_takes",
	[GW_WHY_RAISED_TO_FLOOR] = "raised_to_floor",
	[GW_WHY_RESERVE_HELD] = "reserve_held",
};

static const char *const host_why_names[] = {
	[HW_WHY_NONE] = "none",
	[HW_WHY_MEM_AVAILABLE] = "mem_available",
	[HW_WHY_PSI_FULL] = "psi_full",
	[HW_WHY_PSI_SOME] = "psi_some",
	[HW_WHY_REFAULTS] = "refaults",
	[HW_WHY_MAJOR_FAULTS] = "major_faults",
	[HW_WHY_HELD] = "held",
};

static const char *const ksm_why_names[] = {
	[KSM_WHY_NONE] = "none",
	[KSM_WHY_NOT_MANAGED] = "not_managed",
	[KSM_WHY_NOT_IN_KERNEL] = "not_in_kernel",
	[KSM_WHY_OUTSIDE_CHANGE] = "outside_change",
	[KSM_WHY_BACKING_OFF] = "backing_off",
	[KSM_WHY_SWITCHED_ON] = "switched_on",
	[KSM_WHY_SWITCHED_OFF] = "switched_off",
	[KSM_WHY_OFF] = "off",
	[KSM_WHY_SHORT_PRICED] = "short_priced",
	[KSM_WHY_SHORT_SCALED] = "short_scaled",
	[KSM_WHY_SHORT_START] = "short_start",
	[KSM_WHY_ADVISOR] = "advisor",
	[KSM_WHY_PROBING_FASTER] = "probing_faster",
	[KSM_WHY_PROBING_HELD] = "probing_held",
	[KSM_WHY_OVER_BUDGET] = "over_budget",
	[KSM_WHY_PAYS] = "pays",
	[KSM_WHY_STOPPED_PAYING] = "stopped_paying",
	[KSM_WHY_HOLDING] = "holding",
	[KSM_WHY_BUDGET_CAP] = "budget_cap",
};

static const char *const thp_why_names[] = {
	[THP_WHY_NONE] = "none",
	[THP_WHY_NOT_MANAGED] = "not_managed",
	[THP_WHY_NOT_IN_KERNEL] = "not_in_kernel",
	[THP_WHY_OVERCOMMIT] = "overcommit",
	[THP_WHY_PLENTIFUL] = "plentiful",
	[THP_WHY_KSM_OFF] = "ksm_off",
};

/* a code added without a key fails the build here, at the last one, or
 * the unit test that every key is set and distinct */
_Static_assert(sizeof(guest_why_names) / sizeof(guest_why_names[0]) ==
    GW_WHY_N, "a guest_why without a key");
_Static_assert(sizeof(host_why_names) / sizeof(host_why_names[0]) ==
    HW_WHY_N, "a host_why without a key");
_Static_assert(sizeof(ksm_why_names) / sizeof(ksm_why_names[0]) ==
    KSM_WHY_N, "a ksm_why without a key");
_Static_assert(sizeof(thp_why_names) / sizeof(thp_why_names[0]) ==
    THP_WHY_N, "a thp_why without a key");

static const char *
why_name(const char *const *names, size_t n, unsigned w)
{
	return w < n && names[w] != NULL ? names[w] : "?";
}

const char *
policy_guest_why_name(enum guest_why w)
{
	return why_name(guest_why_names, GW_WHY_N, (unsigned)w);
}

const char *
policy_host_why_name(enum host_why w)
{
	return why_name(host_why_names, HW_WHY_N, (unsigned)w);
}

const char *
policy_ksm_why_name(enum ksm_why w)
{
	return why_name(ksm_why_names, KSM_WHY_N, (unsigned)w);
}

const char *
policy_thp_why_name(enum thp_why w)
{
	return why_name(thp_why_names, THP_WHY_N, (unsigned)w);
}

/* Put u (negative with neg) at buf + o, right-aligned in width with
 * zeros or blanks, as far as the buffer goes; returns the new length. */
static size_t
reason_number(char *buf, size_t len, size_t o, unsigned long long u,
    bool neg, int width, bool zero)
{
	char num[24];
	int nd = 0;

	do {
		num[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (neg && o + 1 < len)
		buf[o++] = '-';
	for (; width > nd + (neg ? 1 : 0) && o + 1 < len; width--)
		buf[o++] = zero ? '0' : ' ';
	while (nd > 0 && o + 1 < len)
		buf[o++] = num[--nd];
	return o;
}

/* A small formatter for reasons: %s, %d/%u with l/ll/z and a zero-padded
 * width, and %%. Every guest gets a reason every tick, and libc's printf
 * machinery was a third of a 10,000-guest tick. */
static void
policy_vreasonf(char *buf, size_t len, const char *fmt, va_list ap)
{
	size_t o = 0;

	if (len == 0)
		return;
	for (; *fmt != '\0' && o + 1 < len; fmt++) {
		const char *str;
		int width = 0, longs = 0, size_t_arg = 0;
		bool zero = false, neg = false;
		unsigned long long u;

		if (*fmt != '%') {
			const char *pct = strchrnul(fmt, '%');
			size_t run = MIN((size_t)(pct - fmt), len - 1 - o);

			memcpy(buf + o, fmt, run);
			o += run;
			fmt += run - 1;
			continue;
		}
		fmt++;
		if (*fmt == '%') {
			buf[o++] = '%';
			continue;
		}
		if (*fmt == '0') {
			zero = true;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (; *fmt == 'l'; fmt++)
			longs++;
		if (*fmt == 'z') {
			size_t_arg = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			str = va_arg(ap, const char *);
			while (*str != '\0' && o + 1 < len)
				buf[o++] = *str++;
			continue;
		case 'd': {
			long long v = size_t_arg ? (long long)va_arg(ap, ssize_t) :
			    longs >= 2 ? va_arg(ap, long long) :
			    longs == 1 ? va_arg(ap, long) : va_arg(ap, int);

			neg = v < 0;
			u = neg ? 0ULL - (unsigned long long)v :
			    (unsigned long long)v;
			break;
		}
		case 'u':
			u = size_t_arg ? va_arg(ap, size_t) :
			    longs >= 2 ? va_arg(ap, unsigned long long) :
			    longs == 1 ? va_arg(ap, unsigned long) :
			    va_arg(ap, unsigned int);
			break;
		default:
			/* not used by any reason; the format attribute keeps
			 * callers honest, this keeps the output readable */
			buf[o++] = '?';
			if (*fmt == '\0')
				fmt--;
			continue;
		}
		o = reason_number(buf, len, o, u, neg, width, zero);
	}
	buf[o] = '\0';
}

void
policy_reasonf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	policy_vreasonf(buf, len, fmt, ap);
	va_end(ap);
}

void
policy_guest_why(struct guest_plan *gp, enum guest_why why,
    const char *fmt, ...)
{
	va_list ap;

	gp->reason_code = why;
	va_start(ap, fmt);
	policy_vreasonf(gp->reason, sizeof(gp->reason), fmt, ap);
	va_end(ap);
}

void
policy_host_why(struct policy_plan *plan, enum host_why why,
    const char *fmt, ...)
{
	va_list ap;

	plan->pressure_reason_code = why;
	va_start(ap, fmt);
	policy_vreasonf(plan->pressure_reason, sizeof(plan->pressure_reason),
	    fmt, ap);
	va_end(ap);
}

void
policy_ksm_why(struct ksm_plan *kp, enum ksm_why why, const char *fmt, ...)
{
	size_t o = strnlen(kp->reason, sizeof(kp->reason));
	va_list ap;

	if (o == 0)
		kp->reason_code = why;
	else if (o + 1 < sizeof(kp->reason))
		o += (size_t)(stpncpy(kp->reason + o, "; ",
		    sizeof(kp->reason) - 1 - o) - (kp->reason + o));
	va_start(ap, fmt);
	policy_vreasonf(kp->reason + o, sizeof(kp->reason) - o, fmt, ap);
	va_end(ap);
}

void
policy_thp_why(struct thp_plan *tp, enum thp_why why, const char *fmt, ...)
{
	va_list ap;

	tp->reason_code = why;
	va_start(ap, fmt);
	policy_vreasonf(tp->reason, sizeof(tp->reason), fmt, ap);
	va_end(ap);
}

int64_t
policy_guest_ram_kib(const struct guest_snapshot *g, bool *exact)
{
	*exact = false;
	if (!MT_PRESENT(g->rss_kib) || g->rss_kib <= 0)
		return MT_ABSENT;
	if (!MT_PRESENT(g->qemu_own_kib) || g->qemu_own_kib < 0)
		return g->rss_kib;
	*exact = true;
	return MAX(0, g->rss_kib - g->qemu_own_kib);
}
