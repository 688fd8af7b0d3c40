/* sense - the integration tests' look through memtuned's own guest
 * collector (the code the daemon runs), and a direct taskstats query of
 * each guest's QEMU process.
 *
 *   sense URI     one line per running guest:
 *                 NAME actual=K usable=K stats=S pid=P ts=0|1 cpu_ns=N
 *                 freepages_ns=N thrashing_ns=N swapin_ns=N cg=V ws=K
 *                 rss=K own=K (QEMU's own memory; -1 not measured)
 */
#include <stdio.h>
#include <string.h>

#include "guests.h"
#include "log.h"
#include "taskstats.h"
#include "util.h"
#include "virt.h"

int
main(int argc, char **argv)
{
	struct guest_collector gc;
	struct guests_opts o;
	struct guest_snapshot *gs = NULL;
	struct taskstats_conn tc;
	virConnectPtr conn;
	char err[512];
	size_t nr = 0;
	bool ts_ok;

	if (argc != 2) {
		fprintf(stderr, "usage: sense URI\n");
		return 2;
	}
	log_init("sense", LOG_TO_STDERR, 0);
	log_set_level(LOG_WARNING);
	virt_install_error_handler();
	if (virt_open(argv[1], &conn) < 0)
		return 1;
	guests_opts_default(&o);
	if (guests_init(&gc, &o) < 0 ||
	    guests_collect(&gc, conn, mt_now_ms(), &gs, &nr, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "sense: %s\n", err);
		return 1;
	}
	ts_ok = taskstats_open(&tc) == 0;
	for (size_t i = 0; i < nr; i++) {
		const struct guest_snapshot *g = &gs[i];
		struct taskstats_sample s = { 0 };
		int rc = -1;

		if (ts_ok && MT_PRESENT(g->qemu_pid))
			rc = taskstats_query_tgid(&tc, (pid_t)g->qemu_pid, &s);
		printf("%s actual=%lld usable=%lld stats=%s pid=%lld ts=%d "
		    "cpu_ns=%lld freepages_ns=%lld thrashing_ns=%lld "
		    "swapin_ns=%lld cg=%d ws=%lld rss=%lld own=%lld\n", g->name,
		    (long long)g->actual_kib, (long long)g->usable_kib,
		    guest_stats_state_name(g->stats), (long long)g->qemu_pid,
		    rc == 0, rc == 0 ? (long long)s.cpu_run_real_ns : -1LL,
		    rc == 0 ? (long long)s.freepages_delay_ns : -1LL,
		    rc == 0 ? (long long)s.thrashing_delay_ns : -1LL,
		    rc == 0 ? (long long)s.swapin_delay_ns : -1LL,
		    g->cgroup_version, (long long)g->cg_working_set_kib,
		    (long long)g->rss_kib, MT_PRESENT(g->qemu_own_kib) ?
		    (long long)g->qemu_own_kib : -1LL);
	}
	if (ts_ok)
		taskstats_close(&tc);
	guests_free(&gc);
	virConnectClose(conn);
	return 0;
}
