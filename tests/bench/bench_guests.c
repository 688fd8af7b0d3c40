/* bench_guests.c - time guests_collect against a libvirt URI.
 *
 *   bench_guests [-v] [-n TICKS] URI
 *
 * The first tick reads every domain's cached facts (XML, memtune, pid,
 * cgroup); later ticks are the steady state: one bulk stats call plus the
 * cgroup and taskstats reads. -v prints each guest of the last tick. It
 * only reads: no stats period is set, no sysctl is written.
 *
 * Build by hand from the top of the tree after `make`:
 *   cc -std=gnu11 -O2 $(printf -- '-I%s ' src/*/) -D_GNU_SOURCE $(pkg-config --cflags libvirt \
 *     libxml-2.0 libnl-genl-3.0) -o build/bench_guests \
 *     tests/bench/bench_guests.c build/libmemtuned.a $(pkg-config --libs \
 *     libvirt libnl-3.0 libnl-genl-3.0 libcgroup inih libxml-2.0 json-c) -lm
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guests.h"
#include "log.h"
#include "util.h"
#include "virt.h"

static void
usage(void)
{
	fprintf(stderr, "usage: bench_guests [-v] [-n TICKS] URI\n");
	exit(2);
}

static long long
us_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
print_guest(const struct guest_snapshot *g)
{
	printf("%-20s id=%d state=%d pid=%lld actual=%lld max=%lld "
	    "usable=%lld unused=%lld avail=%lld rss=%lld lu=%lld stats=%s "
	    "majf/s=%lld hard=%lld cg=v%d usage=%lld ws=%lld limit=%lld "
	    "ts=%d stall_pmy=%lld balloon=%d period=%lld floor=%lld(%s)\n",
	    g->name, g->id, g->state, (long long)g->qemu_pid,
	    (long long)g->actual_kib, (long long)g->max_kib,
	    (long long)g->usable_kib, (long long)g->unused_kib,
	    (long long)g->available_kib, (long long)g->rss_kib,
	    (long long)g->last_update_s, guest_stats_state_name(g->stats),
	    (long long)g->major_fault_per_s, (long long)g->hard_limit_kib,
	    g->cgroup_version, (long long)g->cg_usage_kib,
	    (long long)g->cg_working_set_kib, (long long)g->cg_limit_kib,
	    g->ts_present, (long long)g->ts_stall_pmy,
	    g->backing.has_balloon, (long long)g->backing.stats_period_s,
	    (long long)g->input.floor_kib,
	    guest_input_source_name(g->input.floor_src));
}

int
main(int argc, char **argv)
{
	struct guest_collector gc;
	struct guests_opts o;
	struct guest_snapshot *gs = NULL;
	virConnectPtr conn;
	long long t0, first, sum = 0, min = -1, max = 0;
	char err[512];
	size_t nr = 0;
	int ch, ticks = 20, verbose = 0, rc;

	while ((ch = getopt(argc, argv, "vn:")) != -1) {
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		case 'n':
			ticks = atoi(optarg);
			if (ticks < 2)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	log_init("bench_guests", LOG_TO_STDERR, 0);
	if ((rc = virt_open(argv[optind], &conn)) < 0)
		return 1;
	guests_opts_default(&o);
	guests_init(&gc, &o);

	t0 = us_now();
	if ((rc = guests_collect(&gc, conn, mt_now_ms(), &gs, &nr, err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	first = us_now() - t0;
	for (int i = 1; i < ticks; i++) {
		long long d;

		t0 = us_now();
		if (guests_collect(&gc, conn, mt_now_ms(), &gs, &nr, err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		d = us_now() - t0;
		sum += d;
		min = min < 0 || d < min ? d : min;
		max = d > max ? d : max;
	}
	if (verbose)
		for (size_t i = 0; i < nr; i++)
			print_guest(&gs[i]);
	printf("%s: %zu guests; first tick %.2f ms; steady %d ticks: "
	    "mean %.2f ms, min %.2f ms, max %.2f ms (%.1f us/guest)\n",
	    argv[optind], nr, first / 1000.0, ticks - 1,
	    sum / 1000.0 / (ticks - 1), min / 1000.0, max / 1000.0,
	    nr ? (double)sum / (ticks - 1) / (double)nr : 0.0);
	guests_free(&gc);
	virConnectClose(conn);
	return 0;
}
