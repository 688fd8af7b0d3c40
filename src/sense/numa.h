/* numa.h - per-node memory from /sys/devices/system/node/nodeN/meminfo. */
#ifndef MEMTUNED_NUMA_H
#define MEMTUNED_NUMA_H

#include <stddef.h>

#include "snapshot.h"

#define NUMA_NODE_DIR "/sys/devices/system/node"

/* The node ids present, found once at start-up (and again when a node
 * goes away) so the per-tick read does not scan the directory. */
struct numa_nodes {
	int nr;
	int ids[MT_MAX_NODES];		/* ascending */
};

/* Scan NUMA_NODE_DIR under the root prefix for nodeN directories. A host
 * without the directory has nr = 0 (not an error). A node id at or above
 * MT_MAX_NODES is -ERANGE with a message. */
int numa_discover(struct numa_nodes *nodes, char *err, size_t errlen);

/* Parse one node's meminfo ("Node 0 MemTotal:  24000000 kB" lines):
 * MemTotal and MemFree, both required, in kB, not duplicated, every line
 * for node `node`, MemFree <= MemTotal. -EINVAL with a message naming
 * `file` and the field. */
int numa_node_parse(const char *file, int node, const char *buf,
    int64_t *total_kib, int64_t *free_kib, char *err, size_t errlen);

/* Read every discovered node into out, indexed by node id: nr_nodes is
 * the highest id + 1 and ids without a node stay MT_ABSENT. -ENOENT when
 * a node vanished (discover again). */
int numa_read(const struct numa_nodes *nodes, struct host_numa *out,
    char *err, size_t errlen);

#endif
