/* vmstat.c - see vmstat.h */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmstat.h"

#define VMSTAT_PATH "/proc/vmstat"

static const struct vm_field {
	const char *name;
	size_t off;
	bool required;
} vm_fields[] = {
#define F(n, r) { #n, offsetof(struct host_vmstat, n), r }
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
	    workingset_refault_file), false },
};

static int64_t *
vm_slot(struct host_vmstat *v, const struct vm_field *f)
{
	return (int64_t *)(void *)((char *)v + f->off);
}

int
vmstat_parse(const char *buf, struct host_vmstat *out, char *err,
    size_t errlen)
{
	struct host_vmstat v;
	uint32_t seen = 0;
	const char *line = buf;
	int lineno = 0;
	size_t i;

	_Static_assert(ARRAY_SIZE(vm_fields) <= 32, "seen is a 32-bit mask");
	for (int64_t *p = (int64_t *)(void *)&v;
	    p < (int64_t *)(void *)(&v + 1); p++)
		*p = MT_ABSENT;

	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		const char *sp, *p;
		size_t namelen;
		int64_t val = 0;
		bool overflow = false;

		lineno++;
		sp = memchr(line, ' ', nl ? (size_t)(nl - line) : strlen(line));
		if (sp == NULL || sp == line) {
			snprintf(err, errlen, "%s: line %d: not \"name "
			    "value\"", VMSTAT_PATH, lineno);
			return -EINVAL;
		}
		namelen = (size_t)(sp - line);
		if (nl == NULL) {
			snprintf(err, errlen, "%s: %.*s: line %d has no "
			    "newline (cut read)", VMSTAT_PATH, (int)namelen,
			    line, lineno);
			return -EINVAL;
		}
		for (i = 0; i < ARRAY_SIZE(vm_fields); i++)
			if (strlen(vm_fields[i].name) == namelen &&
			    memcmp(vm_fields[i].name, line, namelen) == 0)
				break;
		if (i == ARRAY_SIZE(vm_fields)) {
			line = nl + 1;
			continue;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "%s: %s: duplicated (line %d)",
			    VMSTAT_PATH, vm_fields[i].name, lineno);
			return -EINVAL;
		}
		seen |= 1u << i;

		p = sp + 1;
		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "%s: %s: value is not a number",
			    VMSTAT_PATH, vm_fields[i].name);
			return -EINVAL;
		}
		while (isdigit((unsigned char)*p)) {
			if (val > (INT64_MAX - 9) / 10)
				overflow = true;
			else
				val = val * 10 + (*p - '0');
			p++;
		}
		if (overflow) {
			snprintf(err, errlen, "%s: %s: value out of range",
			    VMSTAT_PATH, vm_fields[i].name);
			return -EINVAL;
		}
		if (*p != '\n') {
			snprintf(err, errlen, "%s: %s: trailing text after "
			    "the value", VMSTAT_PATH, vm_fields[i].name);
			return -EINVAL;
		}
		if (MT_PRESENT(*vm_slot(&v, &vm_fields[i]))) {
			/* only the old and new refault names share a slot */
			snprintf(err, errlen, "%s: %s: present together with "
			    "the other name of the same counter", VMSTAT_PATH,
			    vm_fields[i].name);
			return -EINVAL;
		}
		*vm_slot(&v, &vm_fields[i]) = val;
		line = nl + 1;
	}

	for (i = 0; i < ARRAY_SIZE(vm_fields); i++) {
		if (vm_fields[i].required && !(seen & (1u << i))) {
			snprintf(err, errlen, "%s: %s: missing", VMSTAT_PATH,
			    vm_fields[i].name);
			return -EINVAL;
		}
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
