/* ksm.h - kernel samepage merging: knobs and counters, and ksmd's CPU
 * time. Read only: the actuator writes the knobs (act.c). */
#ifndef MEMTUNED_KSM_H
#define MEMTUNED_KSM_H

#include <stddef.h>
#include <stdint.h>

#include "mm_sysfs.h"
#include "snapshot.h"

/* Read every file of /sys/kernel/mm/ksm that struct host_ksm holds, under
 * the root prefix. A kernel without KSM (no directory) leaves
 * out->present false and returns 0; a file the running kernel lacks is
 * MT_ABSENT (advisor_mode ""). A malformed file returns -EINVAL with a
 * message naming it. The ksmd_* fields are not touched (see ksmd_sample). */
int ksm_read(struct host_ksm *out, char *err, size_t errlen);

/* Find ksmd by scanning /proc/<pid>/comm under the root prefix for a
 * kernel thread named "ksmd". 0, or -ESRCH when there is none. */
int ksmd_find_pid(int64_t *pid_out);

/* utime + stime of `pid` from /proc/<pid>/stat, in ms. -ESRCH when the
 * pid is gone or is no longer ksmd; -EINVAL with a message when the stat
 * line is malformed. */
int ksmd_read_cpu_ms(int64_t pid, int64_t *cpu_ms, char *err,
    size_t errlen);

/* Remembers ksmd's pid between samples so /proc is scanned only once,
 * and again only when the cached pid vanishes. */
struct ksmd_tracker {
	int64_t pid;			/* MT_ABSENT: not found yet */
};

void ksmd_tracker_init(struct ksmd_tracker *t);
/* Fill *pid and *cpu_ms (MT_ABSENT both when there is no ksmd: -ESRCH). */
int ksmd_sample(struct ksmd_tracker *t, int64_t *pid, int64_t *cpu_ms,
    char *err, size_t errlen);

#endif
