/* hostcollect.c - see hostcollect.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostcollect.h"
#include "log.h"
#include "meminfo.h"
#include "psi.h"
#include "thp.h"
#include "vmstat.h"

/* Error messages name a file and a field: 256 bytes is plenty. */
#define HC_ERR_SIZE 256

void
host_collector_init(struct host_collector *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->have_prev = false;
	ksmd_tracker_init(&hc->ksmd);
	hc->nodes_known = false;
}

/* Change per second of a cumulative counter; MT_ABSENT on the first
 * sample, when either value is absent, or when it went backwards. */
static int64_t
hc_rate(const char *name, int64_t prev, int64_t cur, int64_t dt_ms)
{
	int64_t d;

	if (!MT_PRESENT(prev) || !MT_PRESENT(cur) || dt_ms <= 0)
		return MT_ABSENT;
	if (cur < prev) {
		log_warnx("host: %s went backwards (%lld -> %lld): counter "
		    "reset, no rate this sample", name, (long long)prev,
		    (long long)cur);
		return MT_ABSENT;
	}
	d = cur - prev;
	if (d > INT64_MAX / 1000)
		return MT_ABSENT;
	return d * 1000 / dt_ms;
}

/* refault_per_s = anon + file rate; old kernels have only the file one. */
static int64_t
hc_refault_rate(const struct host_vmstat *p, const struct host_vmstat *c,
    int64_t dt_ms)
{
	int64_t ra, rf;

	ra = hc_rate("vmstat workingset_refault_anon",
	    p->workingset_refault_anon, c->workingset_refault_anon, dt_ms);
	rf = hc_rate("vmstat workingset_refault_file",
	    p->workingset_refault_file, c->workingset_refault_file, dt_ms);
	/* a counter the kernel has but whose rate is unknown makes the sum
	 * unknown too */
	if ((MT_PRESENT(c->workingset_refault_anon) && !MT_PRESENT(ra)) ||
	    (MT_PRESENT(c->workingset_refault_file) && !MT_PRESENT(rf)))
		return MT_ABSENT;
	if (!MT_PRESENT(ra) && !MT_PRESENT(rf))
		return MT_ABSENT;
	return (MT_PRESENT(ra) ? ra : 0) + (MT_PRESENT(rf) ? rf : 0);
}

static void
hc_rates(const struct host_snapshot *p, struct host_snapshot *c)
{
	int64_t dt = c->time_ms - p->time_ms;
	const struct host_vmstat *pv = &p->vm;
	struct host_vmstat *cv = &c->vm;

	if (dt <= 0) {
		log_warnx("host: sample time did not advance (%lld -> %lld "
		    "ms): no rates", (long long)p->time_ms,
		    (long long)c->time_ms);
		return;
	}
	cv->pgmajfault_per_s = hc_rate("vmstat pgmajfault", pv->pgmajfault,
	    cv->pgmajfault, dt);
	cv->pswpin_per_s = hc_rate("vmstat pswpin", pv->pswpin, cv->pswpin,
	    dt);
	cv->pswpout_per_s = hc_rate("vmstat pswpout", pv->pswpout,
	    cv->pswpout, dt);
	cv->refault_per_s = hc_refault_rate(pv, cv, dt);
	cv->thp_split_per_s = hc_rate("vmstat thp_split_page",
	    pv->thp_split_page, cv->thp_split_page, dt);
	cv->compact_stall_per_s = hc_rate("vmstat compact_stall",
	    pv->compact_stall, cv->compact_stall, dt);

	if (MT_PRESENT(c->ksm.ksmd_pid) &&
	    c->ksm.ksmd_pid == p->ksm.ksmd_pid) {
		int64_t r = hc_rate("ksmd cpu time", p->ksm.ksmd_cpu_ms,
		    c->ksm.ksmd_cpu_ms, dt);

		/* ms of CPU per s of wall time is already per-mille */
		c->ksm.ksmd_cpu_pmil = r;
	} else if (MT_PRESENT(c->ksm.ksmd_pid) &&
	    MT_PRESENT(p->ksm.ksmd_pid))
		log_warnx("host: ksmd pid changed (%lld -> %lld): no CPU "
		    "rate this sample", (long long)p->ksm.ksmd_pid,
		    (long long)c->ksm.ksmd_pid);
}

int
host_collect(struct host_collector *hc, int64_t now_ms,
    struct host_snapshot *out, char *err, size_t errlen)
{
	char e[HC_ERR_SIZE];
	int rc;

	host_snapshot_init(out);
	out->time_ms = now_ms;

	if ((rc = meminfo_read(&out->mem, err, errlen)) < 0)
		return rc;

	e[0] = '\0';
	/* the parsers write their output only on success, so a failed
	 * source stays as host_snapshot_init left it: absent */
	if (vmstat_read(&out->vm, e, sizeof(e)) < 0)
		log_warnx("host: %s", e);
	if (psi_read(&out->psi, e, sizeof(e)) < 0)
		log_warnx("host: %s", e);
	if (ksm_read(&out->ksm, e, sizeof(e)) < 0)
		log_warnx("host: %s", e);
	if (out->ksm.present) {
		rc = ksmd_sample(&hc->ksmd, &out->ksm.ksmd_pid,
		    &out->ksm.ksmd_cpu_ms, e, sizeof(e));
		if (rc < 0 && rc != -ESRCH)
			log_warnx("host: ksmd: %s", e);
	}
	if (thp_read(&out->thp, e, sizeof(e)) < 0)
		log_warnx("host: %s", e);

	if (!hc->nodes_known) {
		if (numa_discover(&hc->nodes, e, sizeof(e)) < 0)
			log_warnx("host: %s", e);
		else
			hc->nodes_known = true;
	}
	if (hc->nodes_known) {
		rc = numa_read(&hc->nodes, &out->numa, e, sizeof(e));
		if (rc == -ENOENT) {
			/* a node went offline: scan again next sample */
			hc->nodes_known = false;
		}
		if (rc < 0)
			log_warnx("host: %s", e);
	}

	if (hc->have_prev)
		hc_rates(&hc->prev, out);
	hc->prev = *out;
	hc->have_prev = true;
	return 0;
}
