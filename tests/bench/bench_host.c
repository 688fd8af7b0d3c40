/* bench_host.c - time host_collect() on the live system: the cost of one
 * host sample (meminfo, vmstat, PSI, KSM, THP, NUMA, ksmd) per tick.
 *
 *   bench_host [N]     N calls (default 2000)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hostcollect.h"
#include "util.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct host_collector hc;
	struct host_snapshot s;
	char err[256];
	int64_t n = 2000, t0, t1, start;

	if (argc > 2 || (argc == 2 &&
	    (mt_parse_int64(argv[1], &n) < 0 || n <= 0))) {
		fprintf(stderr, "usage: %s [N]\n", argv[0]);
		return 2;
	}
	mt_set_root("");
	host_collector_init(&hc);
	/* the first call finds ksmd and the NUMA nodes: keep it out */
	start = mt_now_ms();
	if (host_collect(&hc, start, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "host_collect: %s\n", err);
		return 1;
	}
	t0 = now_ns();
	for (int64_t i = 0; i < n; i++) {
		/* calls come faster than 1 ms apart: stamp each 1 ms later so
		 * the rates are computed as on a real tick */
		if (host_collect(&hc, start + 1 + i, &s, err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "host_collect: %s\n", err);
			return 1;
		}
	}
	t1 = now_ns();
	printf("host_collect: %lld calls, %.1f us/call\n", (long long)n,
	    (double)(t1 - t0) / 1000.0 / (double)n);
	return 0;
}
