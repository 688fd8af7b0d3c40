/* vmstat.c - see vmstat.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvparse.h"
#include "vmstat.h"

#define VMSTAT_PATH "/proc/vmstat"

static const struct kv_field vm_fields[] = {
#define F(n, r) { #n, offsetof(struct host_vmstat, n), KV_COUNT, r }
	F(pgmajfault, true),
	F(pswpin, false),
	F(pswpout, false),
	F(workingset_refault_anon, false),
	F(workingset_refault_file, false),
	F(thp_fault_alloc, false),
	F(thp_fault_fallback, false),
	F(thp_collapse_alloc, false),
	F(thp_collapse_alloc_failed, false),
	F(thp_split_page, false),
	F(compact_stall, false),
#undef F
	/* the pre-5.9 name; stored into workingset_refault_file */
	{ "workingset_refault", offsetof(struct host_vmstat,
	    workingset_refault_file), KV_COUNT, false },
};

/* "pgmajfault 123456": one space, nothing else, before the value */
static const struct kv_format vm_format = { NULL, ' ', true, "" };

static void
vm_message(const struct kv_result *r, char *err, size_t errlen)
{
	if (r->code == KV_NO_SEP)
		snprintf(err, errlen, "%s: line %d: not \"name value\"",
		    VMSTAT_PATH, r->line);
	else if (r->code == KV_TRAILING)
		snprintf(err, errlen, "%s: %s: trailing text after the value",
		    VMSTAT_PATH, r->field->name);
	else if (r->code == KV_SHARED)
		/* only the old and new refault names share a slot */
		snprintf(err, errlen, "%s: %s: present together with the "
		    "other name of the same counter", VMSTAT_PATH,
		    r->field->name);
	else
		kv_message(r, VMSTAT_PATH, err, errlen);
}

int
vmstat_parse(const char *buf, struct host_vmstat *out, char *err,
    size_t errlen)
{
	struct host_vmstat v;
	struct kv_result r;

	/* the rates too: hostcollect computes them */
	for (int64_t *p = (int64_t *)(void *)&v;
	    p < (int64_t *)(void *)(&v + 1); p++)
		*p = MT_ABSENT;
	if (kv_parse(buf, &vm_format, vm_fields, ARRAY_SIZE(vm_fields), &v,
	    &r) < 0) {
		vm_message(&r, err, errlen);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
vmstat_read(struct host_vmstat *out, char *err, size_t errlen)
{
	char buf[VMSTAT_BUF_SIZE];
	ssize_t n;

	n = mt_read_file(VMSTAT_PATH, buf, sizeof(buf));
	if (n == -EFBIG) {
		snprintf(err, errlen, "%s: larger than %d bytes", VMSTAT_PATH,
		    VMSTAT_BUF_SIZE);
		return (int)n;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", VMSTAT_PATH,
		    strerror((int)-n));
		return (int)n;
	}
	return vmstat_parse(buf, out, err, errlen);
}
