/* thp.c - see thp.h */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "thp.h"

/* A selector line lists at most a handful of short words (~60 bytes). */
#define THP_SEL_BUF_SIZE 256

static const struct thp_knob {
	const char *name;
	size_t off;
} thp_knobs[] = {
#define K(n) { #n, offsetof(struct host_thp, khugepaged_##n) }
	K(pages_to_scan),
	K(scan_sleep_millisecs),
	K(alloc_sleep_millisecs),
	K(defrag),
	K(max_ptes_none),
	K(pages_collapsed),
	K(full_scans),
#undef K
};

/* Read a selector; "" stays in `out` when the kernel lacks the file. */
static int
thp_read_choice(const char *name, char *out, size_t len, char *err,
    size_t errlen)
{
	char path[128], buf[THP_SEL_BUF_SIZE];
	ssize_t n;
	int rc;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s%s", THP_DIR, name);
	n = mt_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
		return (int)n;
	}
	if ((rc = mt_sysfs_choice(buf, out, len)) < 0) {
		snprintf(err, errlen, "%s: no single [choice] in \"%.*s\"",
		    path, (int)strcspn(buf, "\n"), buf);
		return -EINVAL;
	}
	return 0;
}

int
thp_read(struct host_thp *out, char *err, size_t errlen)
{
	char path[128];
	int rc;

	out->present = false;
	out->enabled[0] = out->defrag[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(thp_knobs); i++)
		*(int64_t *)(void *)((char *)out + thp_knobs[i].off) =
		    MT_ABSENT;

	rc = thp_read_choice("enabled", out->enabled, sizeof(out->enabled),
	    err, errlen);
	if (rc < 0)
		return rc;
	rc = thp_read_choice("defrag", out->defrag, sizeof(out->defrag),
	    err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(thp_knobs); i++) {
		int64_t *slot = (int64_t *)(void *)((char *)out +
		    thp_knobs[i].off);

		snprintf(path, sizeof(path), "%skhugepaged/%s", THP_DIR,
		    thp_knobs[i].name);
		rc = mt_read_int64(path, slot);
		if (rc == -ENOENT) {
			*slot = MT_ABSENT;
			continue;
		}
		if (rc < 0 || *slot < 0) {
			*slot = MT_ABSENT;
			snprintf(err, errlen, "%s: %s", path, rc < 0 ?
			    (rc == -EINVAL ? "not an integer" :
			    strerror(-rc)) : "negative");
			return rc < 0 ? rc : -EINVAL;
		}
	}
	/* with no file at all the kernel has no THP */
	out->present = out->enabled[0] != '\0' || out->defrag[0] != '\0';
	for (size_t i = 0; i < ARRAY_SIZE(thp_knobs); i++)
		if (MT_PRESENT(*(int64_t *)(void *)((char *)out +
		    thp_knobs[i].off)))
			out->present = true;
	return 0;
}
