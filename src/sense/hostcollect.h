/* hostcollect.h - one host sample: meminfo, vmstat, PSI, KSM, THP, NUMA
 * and ksmd's CPU time, with rates against the previous sample. */
#ifndef MEMTUNED_HOSTCOLLECT_H
#define MEMTUNED_HOSTCOLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ksm.h"
#include "numa.h"
#include "snapshot.h"

struct host_collector {
	bool have_prev;
	struct host_snapshot prev;
	struct ksmd_tracker ksmd;
	bool nodes_known;
	struct numa_nodes nodes;
};

void host_collector_init(struct host_collector *hc);

/* Fill *out (host_snapshot_init first) from the live system or the root
 * prefix, stamped now_ms, and compute the *_per_s rates and ksmd_cpu_pmil
 * against the previous successful sample. A counter that went backwards
 * (reset, or a new ksmd) is logged and its rate is MT_ABSENT for this
 * sample. A meminfo failure fails the whole sample (-errno, message in
 * err; the previous sample is kept for the next rate). Any other source
 * that fails is logged and left absent; a kernel without PSI, KSM or THP
 * leaves present false without a message. */
int host_collect(struct host_collector *hc, int64_t now_ms,
    struct host_snapshot *out, char *err, size_t errlen);

#endif
