/* vmstat.h - the /proc/vmstat counters memtuned watches. */
#ifndef MEMTUNED_VMSTAT_H
#define MEMTUNED_VMSTAT_H

#include <stddef.h>

#include "snapshot.h"

/* /proc/vmstat is about 4 KB on 6.x (some 180 "name value" lines of ~22
 * bytes); kernels with debug counters print up to twice that. 16 KiB keeps
 * a margin and fails with -EFBIG beyond it. */
#define VMSTAT_BUF_SIZE 16384

/* Parse the text of /proc/vmstat into the cumulative counters of
 * host_vmstat; the *_per_s fields are left MT_ABSENT (hostcollect computes
 * them). pgmajfault is required; the rest are MT_ABSENT when missing.
 * Kernels before 5.9 print one "workingset_refault" counter, which counted
 * file pages only: it fills workingset_refault_file and leaves _anon
 * absent. Malformed lines, duplicates, a cut last line, or both the old
 * and the new refault names return -EINVAL with a message in err. */
int vmstat_parse(const char *buf, struct host_vmstat *out, char *err,
    size_t errlen);

int vmstat_read(struct host_vmstat *out, char *err, size_t errlen);

#endif
