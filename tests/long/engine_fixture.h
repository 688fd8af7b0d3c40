/* engine_fixture.h - the engine on fakes, for the fault tests and the long
 * run: a host tree copied from a fixture (so files can be rewritten,
 * removed or broken), a libvirt test driver node file with N running
 * domains, and an actuator that records every call (act_fake) and then
 * forwards balloon targets (and, when asked, memtune and memtuned's
 * record of its hard limit) to the test driver, so a plan's effect shows
 * up in the next collection. Header-only; no Check dependency. */
#ifndef MEMTUNED_ENGINE_FIXTURE_H
#define MEMTUNED_ENGINE_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define EF_FIXTURE "tests/fixtures/host-debian12-k6.18"

/* ------------------------------------------------------------ files */

static char ef_copy_dst[PATH_MAX];
static size_t ef_copy_srclen;

static int
ef_copy_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	char to[PATH_MAX], buf[65536];
	int in, out;
	ssize_t n;

	(void)ftw;
	if (snprintf(to, sizeof(to), "%s%s", ef_copy_dst,
	    path + ef_copy_srclen) >= (int)sizeof(to))
		return -1;
	if (flag == FTW_D)
		return mkdir(to, 0755) < 0 && errno != EEXIST ? -1 : 0;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if ((in = open(path, O_RDONLY)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

/* Copy the tree at src into a new directory under /tmp (name in dst). */
static inline int
ef_copy_fixture(const char *src, char *dst, size_t len)
{
	snprintf(dst, len, "/tmp/mt-ef-XXXXXX");
	if (mkdtemp(dst) == NULL)
		return -errno;
	mt_strlcpy(ef_copy_dst, dst, sizeof(ef_copy_dst));
	ef_copy_srclen = strlen(src);
	return nftw(src, ef_copy_one, 16, FTW_PHYS) == 0 ? 0 : -EIO;
}

static int
ef_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0755);
	return remove(path);
}

static inline void
ef_rmtree(const char *dir)
{
	nftw(dir, ef_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to root/rel (the parent must exist). */
static inline int
ef_put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((f = fopen(path, "w")) == NULL)
		return -errno;
	rc = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* A /proc/meminfo with the given sizes (KiB) and the fields a 6.x kernel
 * prints that the parser checks. */
static inline int
ef_meminfo(const char *root, int64_t total_kib, int64_t avail_kib)
{
	char text[1024];

	snprintf(text, sizeof(text),
	    "MemTotal:       %lld kB\nMemFree:        %lld kB\n"
	    "MemAvailable:   %lld kB\nBuffers:           48708 kB\n"
	    "Cached:          1879644 kB\nSwapTotal:       8388604 kB\n"
	    "SwapFree:        8388604 kB\nAnonPages:       1200000 kB\n"
	    "Shmem:             20000 kB\nCommitted_AS:    9000000 kB\n",
	    (long long)total_kib, (long long)(avail_kib / 2),
	    (long long)avail_kib);
	return ef_put(root, "proc/meminfo", text);
}

/* ------------------------------------------------- test driver node */

/* n running domains, 2 GiB maximum and 1.5 GiB current each, a virtio
 * balloon; every fourth carries metadata bounds 1G..1792M. */
static inline int
ef_node_xml(const char *path, int n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "<node><cpu><mhz>2000</mhz><model>x86_64</model>"
	    "<active>64</active><total>64</total><nodes>1</nodes>"
	    "<sockets>1</sockets><cores>32</cores><threads>2</threads></cpu>"
	    "<memory>%d</memory>\n", 256 * 1024 * 1024);
	for (int i = 0; i < n; i++) {
		fprintf(f, "<domain type='test'><name>ef-%04d</name>"
		    "<uuid>%08x-6d74-4000-8000-%012x</uuid>"
		    "<memory unit='KiB'>2097152</memory>"
		    "<currentMemory unit='KiB'>1572864</currentMemory>", i,
		    (unsigned)i, (unsigned)i);
		if (i % 4 == 0)
			fprintf(f, "<metadata><memtuned:policy "
			    "xmlns:memtuned='" DOMXML_NS "' floor='1G' "
			    "ceiling='1792M'/></metadata>");
		fprintf(f, "<os><type arch='x86_64'>hvm</type></os>"
		    "<devices><memballoon model='virtio'><stats period='5'/>"
		    "</memballoon></devices></domain>\n");
	}
	fprintf(f, "</node>\n");
	return fclose(f) == 0 ? 0 : -errno;
}

/* ------------------------------------------------ recording actuator */

struct ef_act {
	struct act_fake rec;		/* every call, in order */
	virConnectPtr conn;		/* forward balloon targets here */
	bool forward;
	bool forward_memtune;		/* memtune and memtuned's record too */
};

static int
ef_set_balloon(void *ctx, const char *uuid, int64_t target_kib)
{
	struct ef_act *a = ctx;
	int rc = act_fake_ops.set_balloon(&a->rec, uuid, target_kib);

	if (rc < 0 || !a->forward || a->conn == NULL)
		return rc;
	return act_libvirt_ops.set_balloon(a->conn, uuid, target_kib);
}

static int
ef_set_memtune(void *ctx, const char *uuid, int64_t hard_kib,
    int64_t soft_kib, int64_t swap_hard_kib)
{
	struct ef_act *a = ctx;
	int rc = act_fake_ops.set_memtune(&a->rec, uuid, hard_kib, soft_kib,
	    swap_hard_kib);

	if (rc < 0 || !a->forward_memtune || a->conn == NULL)
		return rc;
	return act_libvirt_ops.set_memtune(a->conn, uuid, hard_kib, soft_kib,
	    swap_hard_kib);
}

static int
ef_record_hard_limit(void *ctx, const char *uuid, int64_t hard_kib,
    int64_t target_kib)
{
	struct ef_act *a = ctx;
	int rc = act_fake_ops.record_hard_limit(&a->rec, uuid, hard_kib,
	    target_kib);

	if (rc < 0 || !a->forward_memtune || a->conn == NULL)
		return rc;
	return act_libvirt_ops.record_hard_limit(a->conn, uuid, hard_kib,
	    target_kib);
}

static int
ef_write_sysfs(void *ctx, const char *path, const char *value)
{
	struct ef_act *a = ctx;
	int rc = act_fake_ops.write_sysfs(&a->rec, path, value);

	/* the real write, under the root prefix (the copied tree) */
	return rc < 0 ? rc : act_sysfs_write(path, value);
}

static int
ef_set_vmem(void *ctx, const char *uuid, const char *alias,
    int64_t requested_kib)
{
	struct ef_act *a = ctx;
	int rc = act_fake_ops.set_vmem(&a->rec, uuid, alias, requested_kib);

	if (rc < 0 || !a->forward || a->conn == NULL)
		return rc;
	return act_libvirt_ops.set_vmem(a->conn, uuid, alias, requested_kib);
}

static const struct act_ops ef_act_ops = {
	.set_vmem = ef_set_vmem,
	.set_balloon = ef_set_balloon,
	.set_memtune = ef_set_memtune,
	.write_sysfs = ef_write_sysfs,
	.record_hard_limit = ef_record_hard_limit,
};

/* Every balloon call the actuator saw must lie inside the bounds the plan
 * gave that guest, and every memtune call must keep the hard limit at or
 * above the floor. Returns the number of calls that did not (and prints
 * each), so a test or the long run can insist on 0. */
static inline int
ef_calls_outside_bounds(const struct act_fake *f, const struct policy_plan *p)
{
	int bad = 0;

	for (size_t i = 0; i < f->nr_calls; i++) {
		const struct act_call *c = &f->calls[i];
		const struct guest_plan *g = NULL;

		if (c->kind == ACT_CALL_SYSFS)
			continue;
		for (size_t j = 0; j < p->nr_guests; j++)
			if (strcmp(p->guests[j].uuid, c->uuid) == 0)
				g = &p->guests[j];
		if (g == NULL) {
			fprintf(stderr, "call %zu for %s: no such guest in "
			    "the plan\n", i, c->uuid);
			bad++;
			continue;
		}
		if (c->kind == ACT_CALL_BALLOON &&
		    (c->target_kib < g->floor_kib ||
		    c->target_kib > g->ceiling_kib)) {
			fprintf(stderr, "call %zu: balloon %lld KiB for %s "
			    "outside [%lld, %lld]\n", i,
			    (long long)c->target_kib, g->name,
			    (long long)g->floor_kib, (long long)g->ceiling_kib);
			bad++;
		}
		if (c->kind == ACT_CALL_MEMTUNE && MT_PRESENT(c->hard_kib) &&
		    c->hard_kib != POLICY_LIMIT_UNLIMITED &&
		    c->hard_kib < g->floor_kib) {
			fprintf(stderr, "call %zu: hard limit %lld KiB for %s "
			    "below the floor %lld\n", i,
			    (long long)c->hard_kib, g->name,
			    (long long)g->floor_kib);
			bad++;
		}
	}
	return bad;
}

/* ------------------------------------------------------------ engine */

/* Load a config naming the test driver file (plus extra lines, which may
 * add sections) and start an engine on it with the recording actuator.
 * The root prefix must be set first (the engine looks for cgroups). */
static inline int
ef_engine_init(struct engine *e, struct ef_act *a, const char *node_xml,
    const char *extra)
{
	struct mt_config cfg;
	char text[8192], err[2048];
	int rc;

	if (snprintf(text, sizeof(text), "[daemon]\nuri = test://%s\n"
	    "stats_period = 0\ntask_delayacct = no\n%s", node_xml,
	    extra != NULL ? extra : "") >= (int)sizeof(text))
		return -ENAMETOOLONG;
	if ((rc = config_load_string(text, "engine-fixture.conf", &cfg, err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	if ((rc = engine_init(e, &cfg)) < 0)
		return rc;
	if ((rc = engine_connect(e)) < 0)
		return rc;
	memset(a, 0, sizeof(*a));
	act_fake_init(&a->rec);
	a->conn = e->conn;
	a->forward = true;
	e->ops = &ef_act_ops;
	e->ops_ctx = a;
	return 0;
}

/* The test driver's balloon stats never move (its last_update is fixed),
 * so every guest would read as stale after three periods and be held.
 * Stand in for the guests' balloon drivers: fresh stats each tick, each
 * guest using a share of its balloon that drifts with its own phase. */
static inline void
ef_guest_load(struct engine *e, int t)
{
	for (size_t i = 0; i < e->snap.nr_guests; i++) {
		struct guest_snapshot *g = &e->snap.guests[i];
		int64_t used_pmil = 300 + (int64_t)((t * 7 + (int)i * 37) % 500);

		if (!MT_PRESENT(g->actual_kib))
			continue;
		g->stats = GUEST_STATS_OK;
		g->available_kib = g->actual_kib;
		g->usable_kib = g->actual_kib - g->actual_kib * used_pmil / 1000;
		g->unused_kib = g->usable_kib / 2;
		g->disk_caches_kib = g->usable_kib / 4;
		g->major_fault_per_s = used_pmil > 750 ? 20 : 0;
		g->swap_in_kib_per_s = 0;
	}
}

/* One engine tick: collect, guest load t, decide, act. 0, or the first
 * step's error. */
static inline int
ef_tick(struct engine *e, int64_t now_ms, int t)
{
	int rc;

	if ((rc = engine_collect(e, now_ms)) < 0)
		return rc;
	ef_guest_load(e, t);
	if ((rc = engine_decide(e, now_ms, 0)) < 0)
		return rc;
	return engine_act(e, false);
}

#endif
