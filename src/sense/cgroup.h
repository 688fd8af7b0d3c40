/* cgroup.h - a guest's memory cgroup, v1 or v2, found from the QEMU
 * process's /proc/<pid>/cgroup so any naming scheme (libvirt without
 * systemd, machined scopes, custom partitions) works. Every path goes
 * through the util.h root prefix so tests run on fixture trees.
 *
 * The prefix is mcg_ ("memory cgroup"): libcgroup owns cgroup_* and cg_*.
 */
#ifndef MEMTUNED_CGROUP_H
#define MEMTUNED_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snapshot.h"

/* Where the memory controller is mounted, relative to the root prefix. */
struct mcg_mounts {
	int version;			/* 1, 2, or 0: no memory controller */
	char mount[PATH_MAX];
};

/* Find the memory controller's mount. On the live system (empty root
 * prefix) libcgroup's cgroup_init and cgroup_get_subsys_mount_point do it;
 * under a fixture root the fixture's proc/mounts is read instead, since
 * libcgroup only knows the live mounts. v2 is told from v1 by the
 * cgroup.controllers file at the mount. 0 or -errno (-ENOENT: no memory
 * controller mounted). */
int mcg_mounts_detect(struct mcg_mounts *m);
/* The same from a /proc/mounts text (fixture or live). */
int mcg_mounts_parse(const char *buf, struct mcg_mounts *m);

/* The memory cgroup directory of pid (relative to the root prefix) into
 * dir. On v2 a process may sit in a threaded leaf (libvirt's emulator/ and
 * vcpuN/): walk up to the nearest directory with memory.current, which is
 * also where libvirt writes memtune. 0 or -errno (-ENOENT: the process or
 * its cgroup is gone). */
int mcg_find(const struct mcg_mounts *m, pid_t pid, char *dir, size_t len);

/* Read usage, limit, memory.stat, and on v2 memory.low and
 * memory.pressure into g->cg_*; g->cgroup_version is set. Unlimited limits
 * are MT_ABSENT. 0 or -errno with a message naming the file in err. */
int mcg_read(const char *dir, int version, struct guest_snapshot *g,
    char *err, size_t errlen);

/* Parse a memory.stat text. v1 prefers the hierarchical total_* keys.
 * Sets anon, file, active_file, inactive_file (KiB); -EINVAL naming the
 * key when a required one is missing or not a number. */
int mcg_parse_stat(const char *buf, int version, struct guest_snapshot *g,
    char *err, size_t errlen);

/* ------------------------------------------ memory.low and its parents
 *
 * On v2 the kernel grants a group its memory.low only as far as every
 * ancestor below the root affords it: a parent's protection is shared out
 * among its children in proportion to their claims when they claim more
 * than it has, and a parent at 0 (systemd's default for machine.slice and
 * the machine scopes) protects nothing below it. A guest's floor reaches
 * it only when each ancestor's memory.low covers the sum of its
 * children's. Values are bytes here, as the files hold them; "max" is
 * MCG_LOW_MAX. */
#define MCG_LOW_MAX INT64_MAX

/* A memory.low file's value in bytes. 0 or -errno. */
int mcg_read_low_bytes(const char *dir, int64_t *bytes);

/* How deep dir sits below the mount ("/sys/fs/cgroup/a/b" under
 * "/sys/fs/cgroup" is 2). -EINVAL when dir is not below the mount. */
int mcg_depth(const struct mcg_mounts *m, const char *dir);

/* The ancestor of dir at depth (1: the group just below the mount, such as
 * machine.slice) into out. -EINVAL unless 1 <= depth < mcg_depth(dir). */
int mcg_ancestor(const struct mcg_mounts *m, const char *dir, int depth,
    char *out, size_t len);

/* The smallest memory.low (KiB) among dir's ancestors below the mount; an
 * ancestor without the file (no memory controller there) is passed over.
 * MT_ABSENT when none has one. 0 or -errno. */
int mcg_read_parents_low(const struct mcg_mounts *m, const char *dir,
    int64_t *low_kib);

/* The sum of the memory.low of dir's child groups, in bytes (MCG_LOW_MAX
 * when one is "max" or the sum overflows). lookup, when not NULL, may
 * supply a child's value instead of the file's (a write planned this
 * tick) by returning true. Children without memory.low are left out.
 * 0 or -errno. */
typedef bool (*mcg_low_lookup_fn)(const char *child, void *arg,
    int64_t *bytes);
int mcg_children_low_sum(const char *dir, mcg_low_lookup_fn lookup,
    void *arg, int64_t *sum_bytes);

#endif
