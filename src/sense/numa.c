/* numa.c - see numa.h */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvparse.h"
#include "numa.h"

/* sysfs hands out at most one page per read (4 KiB on x86; a node's
 * meminfo is about 1.3 KB); 8 KiB also covers larger-page machines. */
#define NUMA_BUF_SIZE 8192

static int
numa_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int
numa_discover(struct numa_nodes *nodes, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	nodes->nr = 0;
	if (mt_path(path, sizeof(path), NUMA_NODE_DIR) < 0) {
		snprintf(err, errlen, "%s: path too long", NUMA_NODE_DIR);
		return -ENAMETOOLONG;
	}
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", NUMA_NODE_DIR, strerror(errno));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		int64_t id;

		if (strncmp(de->d_name, "node", 4) != 0 ||
		    !isdigit((unsigned char)de->d_name[4]) ||
		    mt_parse_int64(de->d_name + 4, &id) < 0)
			continue;
		if (id >= MT_MAX_NODES || nodes->nr >= MT_MAX_NODES) {
			snprintf(err, errlen, "%s/%s: node id beyond the %d "
			    "supported", NUMA_NODE_DIR, de->d_name,
			    MT_MAX_NODES);
			rc = -ERANGE;
			goto out;
		}
		nodes->ids[nodes->nr++] = (int)id;
	}
	qsort(nodes->ids, (size_t)nodes->nr, sizeof(nodes->ids[0]), numa_cmp);
out:
	if (rc < 0)
		nodes->nr = 0;
	closedir(d);
	return rc;
}

/* what a node's meminfo holds that memtuned uses; the struct only
 * gives kv_parse its slots */
struct numa_node_mem {
	int64_t total_kib;
	int64_t free_kib;
};

static const struct kv_field numa_fields[] = {
	{ "MemTotal", offsetof(struct numa_node_mem, total_kib), KV_KB, true },
	{ "MemFree", offsetof(struct numa_node_mem, free_kib), KV_KB, true },
};

int
numa_node_parse(const char *file, int node, const char *buf,
    int64_t *total_kib, int64_t *free_kib, char *err, size_t errlen)
{
	/* "Node 0 MemTotal:       24576000 kB"; a line without a colon is
	 * passed over like an unknown key */
	char prefix[32];
	struct kv_format fmt = { prefix, ':', false, " " };
	struct numa_node_mem m;
	struct kv_result r;
	int plen;

	plen = snprintf(prefix, sizeof(prefix), "Node %d ", node);
	if (kv_parse(buf, &fmt, numa_fields, ARRAY_SIZE(numa_fields), &m,
	    &r) < 0) {
		if (r.code == KV_NO_PREFIX)
			snprintf(err, errlen, "%s: line %d: does not start "
			    "with \"%.*s\"", file, r.line, plen - 1, prefix);
		else if (r.code == KV_CUT)
			snprintf(err, errlen, "%s: line %d has no newline "
			    "(cut read)", file, r.line);
		else
			kv_message(&r, file, err, errlen);
		return -EINVAL;
	}
	if (m.free_kib > m.total_kib) {
		snprintf(err, errlen, "%s: MemFree: %lld kB exceeds MemTotal "
		    "%lld kB", file, (long long)m.free_kib,
		    (long long)m.total_kib);
		return -EINVAL;
	}
	*total_kib = m.total_kib;
	*free_kib = m.free_kib;
	return 0;
}

int
numa_read(const struct numa_nodes *nodes, struct host_numa *out,
    char *err, size_t errlen)
{
	char path[128], buf[NUMA_BUF_SIZE];
	int rc;

	out->nr_nodes = 0;
	for (int i = 0; i < MT_MAX_NODES; i++)
		out->node_total_kib[i] = out->node_free_kib[i] = MT_ABSENT;
	for (int i = 0; i < nodes->nr; i++) {
		int id = nodes->ids[i];
		ssize_t n;

		snprintf(path, sizeof(path), "%s/node%d/meminfo",
		    NUMA_NODE_DIR, id);
		n = mt_read_file(path, buf, sizeof(buf));
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, n == -EFBIG ?
			    "larger than expected" : strerror((int)-n));
			rc = (int)n;
			goto fail;
		}
		rc = numa_node_parse(path, id, buf, &out->node_total_kib[id],
		    &out->node_free_kib[id], err, errlen);
		if (rc < 0)
			goto fail;
		out->nr_nodes = id + 1;
	}
	return 0;
fail:
	out->nr_nodes = 0;
	for (int i = 0; i < MT_MAX_NODES; i++)
		out->node_total_kib[i] = out->node_free_kib[i] = MT_ABSENT;
	return rc;
}
