/* numa.c - see numa.h */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
numa_node_parse(const char *file, int node, const char *buf,
    int64_t *total_kib, int64_t *free_kib, char *err, size_t errlen)
{
	char prefix[32];
	const char *line = buf;
	int64_t total = MT_ABSENT, mfree = MT_ABSENT;
	size_t plen;
	int lineno = 0, rc;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "Node %d ", node);
	while (*line != '\0') {
		const char *nl = strchr(line, '\n'), *p;
		int64_t *slot, v = 0;
		const char *name;

		lineno++;
		if (strncmp(line, prefix, plen) != 0) {
			snprintf(err, errlen, "%s: line %d: does not start "
			    "with \"%.*s\"", file, lineno, (int)plen - 1,
			    prefix);
			return -EINVAL;
		}
		if (nl == NULL) {
			snprintf(err, errlen, "%s: line %d has no newline "
			    "(cut read)", file, lineno);
			return -EINVAL;
		}
		p = line + plen;
		if (strncmp(p, "MemTotal:", 9) == 0) {
			slot = &total;
			name = "MemTotal";
		} else if (strncmp(p, "MemFree:", 8) == 0) {
			slot = &mfree;
			name = "MemFree";
		} else {
			line = nl + 1;
			continue;
		}
		if (MT_PRESENT(*slot)) {
			snprintf(err, errlen, "%s: %s: duplicated (line %d)",
			    file, name, lineno);
			return -EINVAL;
		}
		p += strlen(name) + 1;
		while (*p == ' ')
			p++;
		if ((rc = mt_scan_u64(&p, &v)) < 0) {
			snprintf(err, errlen, "%s: %s: %s", file, name,
			    rc == -ERANGE ? "value out of range" :
			    "value is not a number");
			return -EINVAL;
		}
		if (strncmp(p, " kB\n", 4) != 0) {
			snprintf(err, errlen, "%s: %s: unit is not \"kB\"",
			    file, name);
			return -EINVAL;
		}
		*slot = v;
		line = nl + 1;
	}
	if (!MT_PRESENT(total) || !MT_PRESENT(mfree)) {
		snprintf(err, errlen, "%s: %s: missing", file,
		    MT_PRESENT(total) ? "MemFree" : "MemTotal");
		return -EINVAL;
	}
	if (mfree > total) {
		snprintf(err, errlen, "%s: MemFree: %lld kB exceeds MemTotal "
		    "%lld kB", file, (long long)mfree, (long long)total);
		return -EINVAL;
	}
	*total_kib = total;
	*free_kib = mfree;
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
