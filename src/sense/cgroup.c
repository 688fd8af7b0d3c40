/* cgroup.c - see cgroup.h */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcgroup.h>

#include "cgroup.h"
#include "log.h"
#include "psi.h"
#include "util.h"

/* v1 reports "no limit" as PAGE_COUNTER_MAX pages rounded down to the
 * page size, a number near INT64_MAX; anything this large is no limit. */
#define MCG_V1_UNLIMITED (INT64_MAX / 2)

/* /proc/mounts on a busy host with many container mounts can reach tens of
 * KiB; 64 KiB and -EFBIG beyond (then libcgroup or a smaller fixture). */
#define MCG_MOUNTS_BUF (64 * 1024)
/* /proc/<pid>/cgroup: one line per v1 hierarchy (about 13) of at most a
 * path each; 8 KiB covers long machined scope names. */
#define MCG_PIDCG_BUF 8192
/* memory.stat: about 60 lines of under 40 bytes on 6.x kernels (v1 with
 * total_* about 75); 8 KiB leaves room for new keys. */
#define MCG_STAT_BUF 8192

static bool
file_exists(const char *dir, const char *name)
{
	char rel[PATH_MAX], full[PATH_MAX];
	int n;

	n = snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return false;
	if (mt_path(full, sizeof(full), rel) < 0)
		return false;
	return access(full, F_OK) == 0;
}

static bool
has_option(const char *opts, const char *want)
{
	size_t wl = strlen(want);

	for (const char *p = opts; p != NULL && *p != '\0';) {
		const char *c = strchr(p, ',');
		size_t l = c != NULL ? (size_t)(c - p) : strlen(p);

		if (l == wl && strncmp(p, want, wl) == 0)
			return true;
		p = c != NULL ? c + 1 : NULL;
	}
	return false;
}

int
mcg_mounts_parse(const char *buf, struct mcg_mounts *m)
{
	char v2[PATH_MAX] = "";
	const char *line = buf;

	m->version = 0;
	m->mount[0] = '\0';
	while (line != NULL && *line != '\0') {
		char dev[64], path[PATH_MAX], type[32], opts[1024];
		const char *nl = strchr(line, '\n');

		/* field widths: one below each buffer */
		if (sscanf(line, "%63s %4095s %31s %1023s", dev, path, type,
		    opts) == 4) {
			if (strcmp(type, "cgroup") == 0 &&
			    has_option(opts, "memory")) {
				/* a v1 memory hierarchy wins over v2: the
				 * kernel binds a controller to one only */
				mt_strlcpy(m->mount, path, sizeof(m->mount));
				m->version = 1;
				return 0;
			}
			if (strcmp(type, "cgroup2") == 0 && v2[0] == '\0')
				mt_strlcpy(v2, path, sizeof(v2));
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (v2[0] != '\0' && file_exists(v2, "cgroup.controllers")) {
		mt_strlcpy(m->mount, v2, sizeof(m->mount));
		m->version = 2;
		return 0;
	}
	return -ENOENT;
}

static int
mounts_from_libcgroup(struct mcg_mounts *m)
{
	char *mp = NULL;
	int rc;

	if ((rc = cgroup_init()) != 0) {
		log_debug("libcgroup: init: %s", cgroup_strerror(rc));
		return -ENOENT;
	}
	if ((rc = cgroup_get_subsys_mount_point("memory", &mp)) != 0 ||
	    mp == NULL) {
		log_debug("libcgroup: no memory mount: %s",
		    cgroup_strerror(rc));
		free(mp);
		return -ENOENT;
	}
	mt_strlcpy(m->mount, mp, sizeof(m->mount));
	free(mp);
	m->version = file_exists(m->mount, "cgroup.controllers") ? 2 : 1;
	return 0;
}

int
mcg_mounts_detect(struct mcg_mounts *m)
{
	char *buf;
	ssize_t n;
	int rc;

	m->version = 0;
	m->mount[0] = '\0';
	if (mt_get_root()[0] == '\0' && mounts_from_libcgroup(m) == 0)
		return 0;
	/* start-up only: the buffer is too large for the stack */
	if ((buf = malloc(MCG_MOUNTS_BUF)) == NULL)
		return -ENOMEM;
	n = mt_read_file("/proc/mounts", buf, MCG_MOUNTS_BUF);
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	rc = mcg_mounts_parse(buf, m);
out:
	free(buf);
	return rc;
}

/* The cgroup path of pid for the memory controller, from /proc/PID/cgroup:
 * "N:memory:/path" (v1, possibly "N:cpu,memory:/path") or "0::/path". */
static int
pid_cgroup_path(int version, pid_t pid, char *out, size_t len)
{
	char path[64], buf[MCG_PIDCG_BUF];
	const char *line = buf;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((n = mt_read_file(path, buf, sizeof(buf))) < 0)
		return (int)n;
	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		const char *c1 = strchr(line, ':'), *c2;
		size_t l;
		bool match;

		if (c1 == NULL || (nl != NULL && c1 > nl))
			goto next;
		if ((c2 = strchr(c1 + 1, ':')) == NULL ||
		    (nl != NULL && c2 > nl))
			goto next;
		if (version == 2) {
			match = strncmp(line, "0::", 3) == 0;
		} else {
			char ctl[256];

			l = (size_t)(c2 - c1 - 1);
			if (l >= sizeof(ctl))
				goto next;
			memcpy(ctl, c1 + 1, l);
			ctl[l] = '\0';
			match = has_option(ctl, "memory");
		}
		if (match) {
			l = nl != NULL ? (size_t)(nl - c2 - 1) : strlen(c2 + 1);
			if (l >= len)
				return -ENAMETOOLONG;
			memcpy(out, c2 + 1, l);
			out[l] = '\0';
			return 0;
		}
next:
		line = nl != NULL ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int
mcg_find(const struct mcg_mounts *m, pid_t pid, char *dir, size_t len)
{
	char cgpath[PATH_MAX], cand[PATH_MAX];
	const char *probe;
	int rc, n;

	if (m->version != 1 && m->version != 2)
		return -ENOENT;
	if ((rc = pid_cgroup_path(m->version, pid, cgpath, sizeof(cgpath))) < 0)
		return rc;
	/* "(deleted)" marks a cgroup removed under a zombie */
	if (strstr(cgpath, " (deleted)") != NULL)
		return -ENOENT;
	n = snprintf(cand, sizeof(cand), "%s%s", m->mount,
	    strcmp(cgpath, "/") == 0 ? "" : cgpath);
	if (n < 0 || (size_t)n >= sizeof(cand))
		return -ENAMETOOLONG;
	probe = m->version == 2 ? "memory.current" : "memory.usage_in_bytes";
	for (;;) {
		char *slash;

		if (file_exists(cand, probe))
			break;
		slash = strrchr(cand, '/');
		/* never climb above the mount: the root cgroup is the host */
		if (slash == NULL || (size_t)(slash - cand) < strlen(m->mount))
			return -ENOENT;
		*slash = '\0';
	}
	if (mt_strlcpy(dir, cand, len) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int
read_file_in(const char *dir, const char *name, char *buf, size_t len,
    char *err, size_t errlen)
{
	char rel[PATH_MAX];
	ssize_t n;
	int r;

	r = snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	if (r < 0 || (size_t)r >= sizeof(rel))
		return -ENAMETOOLONG;
	if ((n = mt_read_file(rel, buf, len)) < 0) {
		mt_setmsg(err, errlen, "%s: %s", rel, strerror((int)-n));
		return (int)n;
	}
	return 0;
}

/* A bytes file ("123\n", or "max" on v2) into KiB; "max" -> MT_ABSENT. */
static int
read_bytes_kib(const char *dir, const char *name, int64_t *out, char *err,
    size_t errlen)
{
	/* one decimal number or "max" */
	char buf[64];
	int64_t v;
	int rc;

	if ((rc = read_file_in(dir, name, buf, sizeof(buf), err, errlen)) < 0)
		return rc;
	if (strcmp(buf, "max\n") == 0 || strcmp(buf, "max") == 0) {
		*out = MT_ABSENT;
		return 0;
	}
	if (mt_parse_int64(buf, &v) < 0 || v < 0) {
		mt_setmsg(err, errlen, "%s/%s: not a byte count: '%.20s'", dir,
		    name, buf);
		return -EINVAL;
	}
	*out = v >= MCG_V1_UNLIMITED ? MT_ABSENT : v / 1024;
	return 0;
}

int
mcg_parse_stat(const char *buf, int version, struct guest_snapshot *g,
    char *err, size_t errlen)
{
	/* v1 keeps the group's own counters and total_* for the subtree;
	 * libvirt may nest (v1 partitions), so the subtree is the answer */
	static const char *v1_keys[][2] = {
		{ "total_rss", "rss" }, { "total_cache", "cache" },
		{ "total_active_file", "active_file" },
		{ "total_inactive_file", "inactive_file" },
	};
	static const char *v2_keys[] = {
		"anon", "file", "active_file", "inactive_file",
	};
	int64_t *dst[] = {
		&g->cg_anon_kib, &g->cg_file_kib, &g->cg_active_file_kib,
		&g->cg_inactive_file_kib,
	};
	int64_t found[4][2];
	const char *line = buf;

	for (size_t i = 0; i < 4; i++)
		found[i][0] = found[i][1] = MT_ABSENT;
	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		const char *sp = strchr(line, ' ');
		char val[32];
		size_t kl, vl;

		if (sp == NULL || (nl != NULL && sp > nl))
			goto next;
		kl = (size_t)(sp - line);
		vl = nl != NULL ? (size_t)(nl - sp - 1) : strlen(sp + 1);
		for (size_t i = 0; i < 4; i++) {
			for (int alt = 0; alt < (version == 1 ? 2 : 1); alt++) {
				const char *k = version == 1 ? v1_keys[i][alt] :
				    v2_keys[i];
				int64_t v;

				if (strlen(k) != kl || strncmp(line, k, kl) != 0)
					continue;
				if (vl >= sizeof(val))
					goto bad;
				memcpy(val, sp + 1, vl);
				val[vl] = '\0';
				if (mt_parse_int64(val, &v) < 0 || v < 0)
					goto bad;
				if (MT_PRESENT(found[i][alt])) {
					mt_setmsg(err, errlen, "memory.stat: "
					    "duplicate key '%s'", k);
					return -EINVAL;
				}
				found[i][alt] = v;
				continue;
bad:
				mt_setmsg(err, errlen, "memory.stat: key '%s' "
				    "is not a number", k);
				return -EINVAL;
			}
		}
next:
		line = nl != NULL ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < 4; i++) {
		int64_t v = MT_PRESENT(found[i][0]) ? found[i][0] : found[i][1];

		if (!MT_PRESENT(v)) {
			mt_setmsg(err, errlen, "memory.stat: key '%s' missing",
			    version == 1 ? v1_keys[i][1] : v2_keys[i]);
			return -EINVAL;
		}
		*dst[i] = v / 1024;
	}
	return 0;
}

int
mcg_read(const char *dir, int version, struct guest_snapshot *g,
    char *err, size_t errlen)
{
	char buf[MCG_STAT_BUF];
	int rc;

	if (version != 1 && version != 2) {
		mt_setmsg(err, errlen, "%s: unknown cgroup version %d", dir,
		    version);
		return -EINVAL;
	}
	if ((rc = read_bytes_kib(dir, version == 1 ? "memory.usage_in_bytes" :
	    "memory.current", &g->cg_usage_kib, err, errlen)) < 0)
		return rc;
	if ((rc = read_bytes_kib(dir, version == 1 ? "memory.limit_in_bytes" :
	    "memory.max", &g->cg_limit_kib, err, errlen)) < 0)
		return rc;
	if ((rc = read_file_in(dir, "memory.stat", buf, sizeof(buf), err,
	    errlen)) < 0)
		return rc;
	if ((rc = mcg_parse_stat(buf, version, g, err, errlen)) < 0) {
		char msg[256];

		/* name the directory too */
		snprintf(msg, sizeof(msg), "%s/%s", dir, err);
		mt_strlcpy(err, msg, errlen);
		return rc;
	}
	g->cg_working_set_kib = g->cg_usage_kib > g->cg_inactive_file_kib ?
	    g->cg_usage_kib - g->cg_inactive_file_kib : 0;
	if (version == 2) {
		struct host_psi psi;
		char name[PATH_MAX + 32];

		if ((rc = read_bytes_kib(dir, "memory.low", &g->cg_low_kib,
		    err, errlen)) < 0)
			return rc;
		/* memory.pressure is absent with psi=0: not an error */
		if (read_file_in(dir, "memory.pressure", buf, PSI_BUF_SIZE,
		    NULL, 0) == 0) {
			snprintf(name, sizeof(name), "%s/memory.pressure", dir);
			if ((rc = psi_parse_named(name, buf, &psi, err,
			    errlen)) < 0)
				return rc;
			g->cg_psi_some = psi.some;
			g->cg_psi_full = psi.full;
		}
	}
	g->cgroup_version = version;
	return 0;
}


/* ------------------------------------------ memory.low and its parents */

int
mcg_read_low_bytes(const char *dir, int64_t *bytes)
{
	/* one decimal number or "max" */
	char buf[64];
	int64_t v;
	int rc;

	if ((rc = read_file_in(dir, "memory.low", buf, sizeof(buf), NULL,
	    0)) < 0)
		return rc;
	if (strcmp(buf, "max\n") == 0 || strcmp(buf, "max") == 0) {
		*bytes = MCG_LOW_MAX;
		return 0;
	}
	if (mt_parse_int64(buf, &v) < 0 || v < 0)
		return -EINVAL;
	*bytes = v;
	return 0;
}

int
mcg_depth(const struct mcg_mounts *m, const char *dir)
{
	size_t ml = strlen(m->mount);
	int depth = 0;

	if (strncmp(dir, m->mount, ml) != 0 ||
	    (dir[ml] != '\0' && dir[ml] != '/'))
		return -EINVAL;
	for (const char *p = dir + ml; *p != '\0'; p++)
		if (*p == '/' && p[1] != '\0' && p[1] != '/')
			depth++;
	return depth;
}

int
mcg_ancestor(const struct mcg_mounts *m, const char *dir, int depth,
    char *out, size_t len)
{
	size_t ml = strlen(m->mount);
	const char *p = dir + ml;
	int d = mcg_depth(m, dir);

	if (d < 0 || depth < 1 || depth >= d)
		return -EINVAL;
	/* past the depth-th "/name" below the mount */
	for (int seen = 0; *p != '\0'; p++) {
		if (*p == '/' && p[1] != '\0' && p[1] != '/' &&
		    ++seen == depth + 1)
			break;
	}
	if ((size_t)(p - dir) >= len)
		return -ENAMETOOLONG;
	memcpy(out, dir, (size_t)(p - dir));
	out[p - dir] = '\0';
	return 0;
}

int
mcg_read_parents_low(const struct mcg_mounts *m, const char *dir,
    int64_t *low_kib)
{
	char anc[PATH_MAX];
	int64_t min = MT_ABSENT, v;
	int d = mcg_depth(m, dir), rc;

	*low_kib = MT_ABSENT;
	if (d < 0)
		return d;
	for (int i = 1; i < d; i++) {
		if ((rc = mcg_ancestor(m, dir, i, anc, sizeof(anc))) < 0)
			return rc;
		rc = mcg_read_low_bytes(anc, &v);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return rc;
		/* "max" caps nothing */
		if (v == MCG_LOW_MAX)
			continue;
		if (!MT_PRESENT(min) || v / 1024 < min)
			min = v / 1024;
	}
	*low_kib = min;
	return 0;
}

static bool
is_group(const char *parent_full, const struct dirent *de)
{
	char full[PATH_MAX];
	struct stat st;
	int n;

	if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
	    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
		return false;
	if (de->d_type == DT_DIR)
		return true;
	if (de->d_type != DT_UNKNOWN)
		return false;
	n = snprintf(full, sizeof(full), "%s/%s", parent_full, de->d_name);
	return n > 0 && (size_t)n < sizeof(full) && stat(full, &st) == 0 &&
	    S_ISDIR(st.st_mode);
}

int
mcg_children_low_sum(const char *dir, mcg_low_lookup_fn lookup, void *arg,
    int64_t *sum_bytes)
{
	char full[PATH_MAX], child[PATH_MAX];
	struct dirent *de;
	int64_t sum = 0, v;
	DIR *d;
	int rc = 0, n;

	*sum_bytes = 0;
	if ((rc = mt_path(full, sizeof(full), dir)) < 0)
		return rc;
	if ((d = opendir(full)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!is_group(full, de))
			continue;
		n = snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(child)) {
			rc = -ENAMETOOLONG;
			goto out;
		}
		if (lookup == NULL || !lookup(child, arg, &v)) {
			rc = mcg_read_low_bytes(child, &v);
			if (rc == -ENOENT) {
				/* no memory controller in that group */
				rc = 0;
				continue;
			}
			if (rc < 0)
				goto out;
		}
		sum = v >= MCG_LOW_MAX - sum ? MCG_LOW_MAX : sum + v;
	}
	*sum_bytes = sum;
out:
	closedir(d);
	return rc;
}
