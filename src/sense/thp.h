/* thp.h - transparent huge page settings and khugepaged counters. */
#ifndef MEMTUNED_THP_H
#define MEMTUNED_THP_H

#include <stddef.h>
#include <stdint.h>

#include "mm_sysfs.h"
#include "snapshot.h"

/* Read enabled, defrag and khugepaged/ under the root prefix. A kernel
 * without THP (no directory) leaves out->present false and returns 0; a
 * file missing inside it is MT_ABSENT (or "" for the selectors). A
 * malformed file is -EINVAL with a message naming it; the fields read
 * before it stay filled. */
int thp_read(struct host_thp *out, char *err, size_t errlen);

#endif
