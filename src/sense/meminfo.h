/* meminfo.h - /proc/meminfo into struct host_meminfo (KiB). */
#ifndef MEMTUNED_MEMINFO_H
#define MEMTUNED_MEMINFO_H

#include <stddef.h>

#include "snapshot.h"

/* /proc/meminfo is about 1.5 KB on 6.x (some 60 lines of at most ~35
 * bytes); 8 KiB leaves room for five times as many fields before a read
 * fails with -EFBIG instead of cutting the file. */
#define MEMINFO_BUF_SIZE 8192

/* Parse the text of a meminfo file. MemTotal, MemFree and MemAvailable are
 * required; the other fields of host_meminfo are MT_ABSENT when the kernel
 * does not print them. A duplicated field, a wrong unit, a malformed line,
 * a missing final newline (a cut read) or inconsistent values
 * (MemAvailable > MemTotal, MemFree > MemTotal, SwapFree > SwapTotal,
 * HugePages_Free > HugePages_Total) return -EINVAL with a message naming
 * the file and the field in err. */
int meminfo_parse(const char *buf, struct host_meminfo *out, char *err,
    size_t errlen);

/* Read and parse /proc/meminfo under the root prefix. */
int meminfo_read(struct host_meminfo *out, char *err, size_t errlen);

#endif
