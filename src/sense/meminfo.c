/* meminfo.c - see meminfo.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvparse.h"
#include "meminfo.h"

#define MEMINFO_PATH "/proc/meminfo"

static const struct kv_field mi_fields[] = {
#define F(n, m, u, r) { n, offsetof(struct host_meminfo, m), u, r }
	F("MemTotal", mem_total_kib, KV_KB, true),
	F("MemFree", mem_free_kib, KV_KB, true),
	F("MemAvailable", mem_avail_kib, KV_KB, true),
	F("Buffers", buffers_kib, KV_KB, false),
	F("Cached", cached_kib, KV_KB, false),
	F("SwapTotal", swap_total_kib, KV_KB, false),
	F("SwapFree", swap_free_kib, KV_KB, false),
	F("AnonPages", anon_pages_kib, KV_KB, false),
	F("AnonHugePages", anon_huge_kib, KV_KB, false),
	F("Shmem", shmem_kib, KV_KB, false),
	F("Committed_AS", committed_as_kib, KV_KB, false),
	F("HugePages_Total", hugepages_total, KV_COUNT, false),
	F("HugePages_Free", hugepages_free, KV_COUNT, false),
	F("HugePages_Rsvd", hugepages_rsvd, KV_COUNT, false),
	F("HugePages_Surp", hugepages_surp, KV_COUNT, false),
	F("Hugepagesize", hugepage_size_kib, KV_KB, false),
#undef F
};

/* "MemTotal:       24576000 kB": the kernel pads with spaces; a tab is
 * taken too */
static const struct kv_format mi_format = { NULL, ':', true, " \t" };

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

static void
mi_message(const struct kv_result *r, char *err, size_t errlen)
{
	if (r->code == KV_NO_SEP)
		snprintf(err, errlen, "%s: line %d: not \"Name: value\"",
		    MEMINFO_PATH, r->line);
	else if (r->code == KV_TRAILING)
		snprintf(err, errlen, "%s: %s: trailing text after the count",
		    MEMINFO_PATH, r->field->name);
	else
		kv_message(r, MEMINFO_PATH, err, errlen);
}

int
meminfo_parse(const char *buf, struct host_meminfo *out, char *err,
    size_t errlen)
{
	struct host_meminfo m;
	struct kv_result r;

	if (kv_parse(buf, &mi_format, mi_fields, ARRAY_SIZE(mi_fields), &m,
	    &r) < 0) {
		mi_message(&r, err, errlen);
		return -EINVAL;
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
