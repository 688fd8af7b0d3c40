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
void
policy_reasonf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t o = 0;

	if (len == 0)
		return;
	va_start(ap, fmt);
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
	va_end(ap);
}
