/* selftest.c - memtuned-sim --selftest: the parser's errors, the model's
 * physics on cases with a known answer, determinism, and that memtuned's
 * policy runs through the simulator without errors. Prints one line per
 * check; returns the number of failures. */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "util.h"

static int failures;

static void
check(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		failures++;
}

/* 32 GiB host, 4 GiB VMs, a flat 25 % working set, 6 h */
static const char *small =
	"host_mem 32G\n"
	"host_base 2G\n"
	"vms 2 40\n"
	"duration 6h\n"
	"class desk 1\n"
	"vm_mem 4G\n"
	"dup 30%\n"
	"boot_touch 80%\n"
	"ws 00:00 25%\n";

int
sim_selftest(void)
{
	struct sim_workload w, w2;
	struct sim_result r, r2, ro;
	struct policy_config pc;
	char err[512];
	int64_t n;

	failures = 0;
	policy_config_defaults(&pc);

	check(sim_workload_parse("host_mem 8G\nvms 1 2\nbogus 3\n", "t.wl",
	    &w, err, sizeof(err)) < 0 && strstr(err, "t.wl:3") != NULL &&
	    strstr(err, "bogus") != NULL, "unknown key names file and line");
	check(sim_workload_parse("host_mem 8G\nvms 1 2\nws 10:00 20%\n"
	    "ws 09:00 30%\n", "t.wl", &w, err, sizeof(err)) < 0 &&
	    strstr(err, "t.wl:4") != NULL, "ws points must move forward");
	check(sim_workload_parse("vms 1 2\nws 10:00 20%\n", "t.wl", &w, err,
	    sizeof(err)) < 0 && strstr(err, "host_mem") != NULL,
	    "host_mem is required");
	check(sim_workload_parse("host_mem 8G\nvms 1 2\nws 10:00 0.2\n",
	    "t.wl", &w, err, sizeof(err)) < 0 && strstr(err, "ws") != NULL,
	    "a percent needs its unit");
	if (sim_workload_parse(small, "small.wl", &w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		return 1;
	}
	check(w.host_kib == 32LL * 1024 * 1024 && w.nr_classes == 1 &&
	    w.classes[0].nr_pts == 1 && w.classes[0].dup_pmy == 3000,
	    "workload values read");

	/* 4 static VMs: 16 GiB of 32 fits; nothing moves */
	check(sim_run(&w, SIM_STATIC, 4, &pc, &r, NULL) == 0 &&
	    r.starve_guest_min == 0 && r.host_swap_min == 0 &&
	    r.balloon_ops == 0 && r.ksm_saved_avg_kib == 0,
	    "static with room: no starvation, no swap, no balloon ops");
	/* 12 static VMs touch 80 % of 48 GiB at boot: the host swaps */
	check(sim_run(&w, SIM_STATIC, 12, &pc, &r, NULL) == 0 &&
	    r.host_swap_min > 0, "static overcommitted: the host swaps");
	/* static's edge: 30 GiB / (3.2 GiB + 0.2 GiB) -> 8 VMs */
	n = sim_search(&w, SIM_STATIC, &pc, &r);
	check(n == 8, "static search finds the arithmetic edge (8)");
	n = sim_search(&w, SIM_ORACLE, &pc, &ro);
	check(n > 8, "the oracle carries more than static");

	/* memtuned: the same run twice gives the same figures */
	check(sim_run(&w, SIM_MEMTUNED, 12, &pc, &r, NULL) == 0 &&
	    sim_run(&w, SIM_MEMTUNED, 12, &pc, &r2, NULL) == 0 &&
	    memcmp(&r, &r2, sizeof(r)) == 0, "deterministic");
	check(r.policy_errors == 0, "policy_decide accepts every snapshot");
	check(r.balloon_ops > 0 && r.reclaimed_avg_kib > 0,
	    "memtuned reclaims on an overcommitted host");
	check(r.reclaimed_avg_kib <= r.limit_avg_kib * 1.05,
	    "reclaim stays within the physical limit");

	/* a different seed changes a bursty run */
	if (sim_workload_parse("host_mem 32G\nvms 2 40\nduration 6h\n"
	    "seed 1\nburst 20m 5m 40% 50%\nws 00:00 20%\n", "b.wl", &w, err,
	    sizeof(err)) < 0 || sim_workload_parse("host_mem 32G\nvms 2 40\n"
	    "duration 6h\nseed 2\nburst 20m 5m 40% 50%\nws 00:00 20%\n",
	    "b.wl", &w2, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		return 1;
	}
	check(sim_run(&w, SIM_STATIC, 8, &pc, &r, NULL) == 0 &&
	    sim_run(&w2, SIM_STATIC, 8, &pc, &r2, NULL) == 0 &&
	    r.host_used_peak_kib != r2.host_used_peak_kib,
	    "the seed drives the bursts");

	printf("%d failed\n", failures);
	return failures;
}
