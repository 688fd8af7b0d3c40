/* meminfo.c - see meminfo.h */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "meminfo.h"

#define MEMINFO_PATH "/proc/meminfo"

enum mi_unit {
	MI_KB,			/* "123 kB" */
	MI_NONE,		/* a bare count: HugePages_* */
};

static const struct mi_field {
	const char *name;
	size_t off;
	enum mi_unit unit;
	bool required;
} mi_fields[] = {
#define F(n, m, u, r) { n, offsetof(struct host_meminfo, m), u, r }
	F("MemTotal", mem_total_kib, MI_KB, true),
	F("MemFree", mem_free_kib, MI_KB, true),
	F("MemAvailable", mem_avail_kib, MI_KB, true),
	F("Buffers", buffers_kib, MI_KB, false),
	F("Cached", cached_kib, MI_KB, false),
	F("SwapTotal", swap_total_kib, MI_KB, false),
	F("SwapFree", swap_free_kib, MI_KB, false),
	F("AnonPages", anon_pages_kib, MI_KB, false),
	F("AnonHugePages", anon_huge_kib, MI_KB, false),
	F("Shmem", shmem_kib, MI_KB, false),
	F("Committed_AS", committed_as_kib, MI_KB, false),
	F("HugePages_Total", hugepages_total, MI_NONE, false),
	F("HugePages_Free", hugepages_free, MI_NONE, false),
	F("HugePages_Rsvd", hugepages_rsvd, MI_NONE, false),
	F("HugePages_Surp", hugepages_surp, MI_NONE, false),
	F("Hugepagesize", hugepage_size_kib, MI_KB, false),
#undef F
};

static int64_t *
mi_slot(struct host_meminfo *m, const struct mi_field *f)
{
	return (int64_t *)(void *)((char *)m + f->off);
}

static int
mi_check(const struct host_meminfo *m, char *err, size_t errlen)
{
	if (m->mem_total_kib == 0) {
		snprintf(err, errlen, "%s: MemTotal: is 0", MEMINFO_PATH);
		return -EINVAL;
	}
	if (m->mem_avail_kib > m->mem_total_kib) {
		snprintf(err, errlen, "%s: MemAvailable: %lld kB exceeds "
		    "MemTotal %lld kB", MEMINFO_PATH,
		    (long long)m->mem_avail_kib, (long long)m->mem_total_kib);
		return -EINVAL;
	}
	if (m->mem_free_kib > m->mem_total_kib) {
		snprintf(err, errlen, "%s: MemFree: %lld kB exceeds "
		    "MemTotal %lld kB", MEMINFO_PATH,
		    (long long)m->mem_free_kib, (long long)m->mem_total_kib);
		return -EINVAL;
	}
	if (MT_PRESENT(m->swap_free_kib) != MT_PRESENT(m->swap_total_kib)) {
		snprintf(err, errlen, "%s: %s: present without %s",
		    MEMINFO_PATH,
		    MT_PRESENT(m->swap_free_kib) ? "SwapFree" : "SwapTotal",
		    MT_PRESENT(m->swap_free_kib) ? "SwapTotal" : "SwapFree");
		return -EINVAL;
	}
	if (MT_PRESENT(m->swap_free_kib) &&
	    m->swap_free_kib > m->swap_total_kib) {
		snprintf(err, errlen, "%s: SwapFree: %lld kB exceeds "
		    "SwapTotal %lld kB", MEMINFO_PATH,
		    (long long)m->swap_free_kib, (long long)m->swap_total_kib);
		return -EINVAL;
	}
	if (MT_PRESENT(m->hugepages_free) && MT_PRESENT(m->hugepages_total) &&
	    m->hugepages_free > m->hugepages_total) {
		snprintf(err, errlen, "%s: HugePages_Free: %lld exceeds "
		    "HugePages_Total %lld", MEMINFO_PATH,
		    (long long)m->hugepages_free,
		    (long long)m->hugepages_total);
		return -EINVAL;
	}
	return 0;
}

int
meminfo_parse(const char *buf, struct host_meminfo *out, char *err,
    size_t errlen)
{
	struct host_meminfo m;
	uint32_t seen = 0;
	const char *line = buf;
	int lineno = 0;
	size_t i;

	_Static_assert(ARRAY_SIZE(mi_fields) <= 32, "seen is a 32-bit mask");
	for (i = 0; i < ARRAY_SIZE(mi_fields); i++)
		*mi_slot(&m, &mi_fields[i]) = MT_ABSENT;

	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		const char *colon, *p;
		size_t namelen;
		int64_t v;
		int rc;

		lineno++;
		colon = memchr(line, ':', nl ? (size_t)(nl - line) :
		    strlen(line));
		if (colon == NULL || colon == line) {
			snprintf(err, errlen, "%s: line %d: not \"Name: "
			    "value\"", MEMINFO_PATH, lineno);
			return -EINVAL;
		}
		namelen = (size_t)(colon - line);
		if (nl == NULL) {
			snprintf(err, errlen, "%s: %.*s: line %d has no "
			    "newline (cut read)", MEMINFO_PATH, (int)namelen,
			    line, lineno);
			return -EINVAL;
		}
		for (i = 0; i < ARRAY_SIZE(mi_fields); i++)
			if (strlen(mi_fields[i].name) == namelen &&
			    memcmp(mi_fields[i].name, line, namelen) == 0)
				break;
		if (i == ARRAY_SIZE(mi_fields)) {
			/* a field memtuned does not use: newer kernels add
			 * them all the time */
			line = nl + 1;
			continue;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "%s: %s: duplicated (line %d)",
			    MEMINFO_PATH, mi_fields[i].name, lineno);
			return -EINVAL;
		}
		seen |= 1u << i;

		p = colon + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((rc = mt_scan_u64(&p, &v)) < 0) {
			snprintf(err, errlen, "%s: %s: %s", MEMINFO_PATH,
			    mi_fields[i].name, rc == -ERANGE ?
			    "value out of range" : "value is not a number");
			return -EINVAL;
		}
		if (mi_fields[i].unit == MI_KB) {
			if (strncmp(p, " kB\n", 4) != 0) {
				snprintf(err, errlen, "%s: %s: unit is not "
				    "\"kB\"", MEMINFO_PATH, mi_fields[i].name);
				return -EINVAL;
			}
		} else if (*p != '\n') {
			snprintf(err, errlen, "%s: %s: trailing text after "
			    "the count", MEMINFO_PATH, mi_fields[i].name);
			return -EINVAL;
		}
		*mi_slot(&m, &mi_fields[i]) = v;
		line = nl + 1;
	}

	for (i = 0; i < ARRAY_SIZE(mi_fields); i++) {
		if (mi_fields[i].required && !(seen & (1u << i))) {
			snprintf(err, errlen, "%s: %s: missing", MEMINFO_PATH,
			    mi_fields[i].name);
			return -EINVAL;
		}
	}
	if (mi_check(&m, err, errlen) < 0)
		return -EINVAL;
	*out = m;
	return 0;
}

int
meminfo_read(struct host_meminfo *out, char *err, size_t errlen)
{
	char buf[MEMINFO_BUF_SIZE];
	ssize_t n;

	n = mt_read_file(MEMINFO_PATH, buf, sizeof(buf));
	if (n == -EFBIG) {
		snprintf(err, errlen, "%s: larger than %d bytes",
		    MEMINFO_PATH, MEMINFO_BUF_SIZE);
		return (int)n;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", MEMINFO_PATH,
		    strerror((int)-n));
		return (int)n;
	}
	return meminfo_parse(buf, out, err, errlen);
}
