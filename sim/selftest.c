/* selftest.c - memtuned-sim --selftest: the parser's errors, the model's
 * physics on cases with a known answer, determinism, and that memtuned's
 * policy runs through the simulator without errors. Prints one line per
 * check; returns the number of failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* 32 GiB host, 4 GiB VMs, a flat 25 % working set, no page cache, 6 h */
static const char *small =
	"host_mem 32G\n"
	"host_base 2G\n"
	"thp_extra 0%\n"
	"vms 2 40\n"
	"duration 6h\n"
	"class desk 1\n"
	"vm_mem 4G\n"
	"dup 30%\n"
	"cache 0%\n"
	"boot_touch 80%\n"
	"ws 00:00 25%\n";

static bool
near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* 1 GiB guests on a small host, as the testbed's: reserve, kernel and OOM
 * margin as measured there, no swap, KSM off; host_mem, host_base and
 * vm_mem filled in, then the steps */
#define TESTBED_FMT \
	"host_mem %s\n" \
	"host_base %s\n" \
	"host_cache 0\n" \
	"qemu_overhead 46M\n" \
	"guest_reserve 64M\n" \
	"guest_kernel 36M\n" \
	"guest_min 144M\n" \
	"guest_swap no\n" \
	"thp_extra 10%%\n" \
	"duration 20s\n" \
	"dt 1s\n" \
	"boot_spread 0s\n" \
	"vms 1 4\n" \
	"class t 1\n" \
	"vm_mem %s\n" \
	"boot_touch 0%%\n" \
	"cache 0%%\n" \
	"dup 50%%\n" \
	"dup_idle 20%%\n" \
	"ws 00:00 0%%\n" \
	"%s"

static void
testbed(char *buf, size_t len, const char *host_mem, const char *host_base,
    const char *vm_mem, const char *steps)
{
	snprintf(buf, len, TESTBED_FMT, host_mem, host_base, vm_mem, steps);
}

static void
test_steps_parse(void)
{
	struct sim_workload w;
	char err[512], text[2048];
	const struct sim_step *st;

	testbed(text, sizeof(text), "8G", "1G", "1G", "step 0s alloc 300M\n"
	    "step 5s alloc 500M 1 0%\nstep 9s free 100M\n");
	if (sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		failures++;
		return;
	}
	st = &w.classes[0].steps[1];
	check(w.classes[0].nr_steps == 3 && st->at_s == 5 &&
	    st->op == SIM_STEP_ALLOC && st->kib == 500 * 1024 &&
	    st->vm == 1 && st->dup_pmy == 0 &&
	    !MT_PRESENT(w.classes[0].steps[0].dup_pmy) &&
	    w.classes[0].steps[2].op == SIM_STEP_FREE &&
	    w.classes[0].dup_idle_pmy == 2000 && w.thp_extra_pmy == 1000 &&
	    !w.guest_swap && w.guest_kernel_kib == 36 * 1024,
	    "steps and guest layout read");
	testbed(text, sizeof(text), "8G", "1G", "1G", "step 5s grab 500M\n");
	check(sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0 &&
	    strstr(err, "t.wl:21") != NULL && strstr(err, "grab") != NULL,
	    "a step's operation is checked, with its line");
	testbed(text, sizeof(text), "8G", "1G", "1G", "step 20s alloc 5M\n");
	check(sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0 &&
	    strstr(err, "after the end") != NULL,
	    "a step after the end is refused");
	check(sim_workload_parse("host_mem 8G\nvms 1 2\nguest_min 64M\n"
	    "guest_reserve 64M\nguest_kernel 8M\nws 0:00 5%\n", "t.wl", &w,
	    err, sizeof(err)) < 0 && strstr(err, "guest_min") != NULL,
	    "guest_min must hold reserve and kernel");
}

/* the guest memory model on cases with a known answer */
static void
test_mem(void)
{
	struct sim_workload w;
	struct sim_mem m;
	char err[512], text[2048];
	double got, res0;

	testbed(text, sizeof(text), "8G", "1G", "1G", "");
	if (sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		failures++;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.actual_kib = 1024 * 1024;
	/* nothing resident yet: 300 MiB touched brings 10 % more of its
	 * huge pages */
	got = sim_mem_touch(&w, &m, 300 * 1024, false, 2000);
	check(near(got, 330 * 1024, 1) && near(sim_mem_resident_kib(&w, &m),
	    (100 + 330) * 1024, 1) && near(m.idle_alike_kib, 6 * 1024, 1),
	    "touching untouched memory makes it resident, with its huge "
	    "pages");
	/* a balloon over memory never touched returns nothing... */
	res0 = sim_mem_resident_kib(&w, &m);
	memset(&m, 0, sizeof(m));
	m.actual_kib = 1024 * 1024;
	m.ws_kib = 300 * 1024;
	got = sim_mem_balloon(&w, &m, 700 * 1024);
	check(got == 0 && m.actual_kib == 700 * 1024,
	    "a balloon over untouched memory returns nothing");
	/* ...over what the workload just freed, all of it */
	sim_mem_release(&m, 200 * 1024, false, 5000);
	check(near(m.idle_alike_kib, 100 * 1024, 1) &&
	    near(m.released_alike_kib, 100 * 1024, 1),
	    "freed memory keeps its content");
	got = sim_mem_balloon(&w, &m, 550 * 1024);
	check(near(got, 150 * 1024, 1) && near(m.idle_kib, 50 * 1024, 1) &&
	    near(m.idle_alike_kib, 25 * 1024, 1),
	    "a balloon takes what the guest freed last first");
	/* a guest without swap keeps its working set and margin */
	got = sim_mem_balloon(&w, &m, 100 * 1024);
	check(near(m.actual_kib, (100 + 144) * 1024, 1) &&
	    near(m.ws_kib, 100 * 1024, 1),
	    "without swap a balloon stops at the working set and guest_min");
	/* reusing resident free memory costs the host nothing */
	memset(&m, 0, sizeof(m));
	m.actual_kib = 1024 * 1024;
	m.idle_kib = sim_mem_free_kib(&w, &m);
	got = sim_mem_touch(&w, &m, 300 * 1024, false, 2000);
	check(got == 0 && res0 > 0, "touching resident free memory is free");
}

struct oom_probe {
	double ws4, res4, ws8, res8;
	int64_t kills;
};

static void
oom_observe(const struct sim_host *h, void *ctx)
{
	struct oom_probe *p = ctx;

	if (h->now_s == 4) {
		p->ws4 = h->g[0].m.ws_kib;
		p->res4 = h->g[0].resident_kib;
	}
	if (h->now_s == 8) {
		p->ws8 = h->g[0].m.ws_kib;
		p->res8 = h->g[0].resident_kib;
	}
	p->kills = h->g[0].oom_kills;
}

static void
test_oom(void)
{
	struct sim_workload w;
	struct sim_result r;
	struct policy_config pc;
	struct oom_probe p;
	char err[512], text[2048];

	policy_config_defaults(&pc);
	/* 900 MiB: 300 + 500 + guest_min 144 does not fit */
	testbed(text, sizeof(text), "8G", "1G", "900M", "step 0s alloc 300M\n"
	    "step 5s alloc 500M 1\n");
	if (sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		failures++;
		return;
	}
	memset(&p, 0, sizeof(p));
	check(sim_run_observed(&w, SIM_STATIC, 1, &pc, &r, NULL, oom_observe,
	    &p) == 0 && r.oom_kills == 1 && p.kills == 1 &&
	    near(p.ws4, 300 * 1024, 1) && p.ws8 == 0 && p.res8 > p.res4 &&
	    r.starve_guest_min == 0,
	    "a burst past the balloon is OOM-killed: freed in the guest, "
	    "resident on the host");
	/* with 1 GiB it fits */
	testbed(text, sizeof(text), "8G", "1G", "1G", "step 0s alloc 300M\n"
	    "step 5s alloc 500M 1\n");
	check(sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) == 0 &&
	    sim_run(&w, SIM_STATIC, 1, &pc, &r, NULL) == 0 &&
	    r.oom_kills == 0, "the same burst fits 1 GiB");
}

static void
test_ksm(void)
{
	struct sim_ksm_pool p;
	struct sim_workload w;
	struct sim_host h;
	struct sim_guest g[2];
	char err[512], text[2048];
	double want;

	memset(&p, 0, sizeof(p));
	sim_ksm_pool_set(&p, 1000, 0);
	check(sim_ksm_pool_merged(&p, 0.9) == 0 &&
	    near(sim_ksm_pool_merged(&p, 1.5), 500, 1e-6) &&
	    near(sim_ksm_pool_merged(&p, 2.5), 1000, 1e-6),
	    "KSM merges on the pass after the one that first saw a page");
	sim_ksm_pool_set(&p, 2000, 2.5);
	sim_ksm_pool_set(&p, 1000, 2.5);
	check(near(sim_ksm_pool_merged(&p, 2.5), 500, 1e-6) &&
	    near(sim_ksm_pool_merged(&p, 4.5), 1000, 1e-6),
	    "mergeable memory that goes takes its merges with it");

	/* ksmd's rate and CPU from its knobs */
	testbed(text, sizeof(text), "8G", "1G", "1G", "");
	if (sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		failures++;
		return;
	}
	memset(&h, 0, sizeof(h));
	memset(g, 0, sizeof(g));
	h.w = &w;
	h.g = g;
	h.n = 2;
	for (int i = 0; i < 2; i++) {
		g[i].up = true;
		g[i].max_kib = 1024 * 1024;
		g[i].m.actual_kib = 1024 * 1024;
		g[i].m.ws_kib = 400 * 1024;
		g[i].resident_kib = 500 * 1024;
	}
	h.ksm_run = 1;
	h.ksm_pages = 100;
	h.ksm_sleep_ms = 20;
	sim_ksm_tick(&h, 1, false);
	want = (double)w.ksm_efficiency_pmy / 10000.0 * 100 /
	    (0.020 + 100 * (double)w.ksm_page_cost_ns / 1e9);
	check(near(h.ksm_rate, want, 1e-6 * want) &&
	    near(h.ksm_cpu_ms, want * (double)w.ksm_page_cost_ns / 1e6,
	    1e-6) && near(h.ksm_progress, want / (1000.0 * 256), 1e-9) &&
	    h.ksm_saved_kib == 0 && h.ksm_savable_kib > 0,
	    "ksmd scans pages_to_scan per sleep at its page cost");
}

struct knob_probe {
	int64_t first_on_s, pages, sleep_ms;
};

static void
knob_observe(const struct sim_host *h, void *ctx)
{
	struct knob_probe *p = ctx;

	if (h->ksm_run == 1 && p->first_on_s < 0) {
		p->first_on_s = h->now_s;
		p->pages = h->ksm_pages;
		p->sleep_ms = h->ksm_sleep_ms;
	}
}

/* the baselines' KSM as their tools do it on a short 23.5 GiB host */
static void
test_controllers(void)
{
	struct sim_workload w;
	struct sim_result r;
	struct policy_config pc;
	struct knob_probe p;
	char err[512], text[2048];

	policy_config_defaults(&pc);
	testbed(text, sizeof(text), "24G", "21G", "1G", "step 0s alloc 300M\n"
	    "duration 120s\n");
	if (sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		failures++;
		return;
	}
	p.first_on_s = -1;
	check(sim_run_observed(&w, SIM_KSMTUNED, 4, &pc, &r, NULL,
	    knob_observe, &p) == 0 && p.first_on_s == 60 && p.pages == 300 &&
	    p.sleep_ms == 10, "ksmtuned: first pass after 60 s, 300 pages, "
	    "10 ms at least");
	p.first_on_s = -1;
	check(sim_run_observed(&w, SIM_MOM, 4, &pc, &r, NULL, knob_observe,
	    &p) == 0 && p.first_on_s == 10 && p.pages == 400 &&
	    p.sleep_ms == 6, "MoM: first pass after 10 s, pages_to_scan + 300, "
	    "6 ms on 24 GiB");
}

/* memtuned's burst watch in the model: a guest whose 500 MiB burst fills
 * it at 300 MiB/s (the testbed's TCG guests, 18-burst-watch) is fed
 * before it is full; filling at once, or under MoM (no watch), the
 * burst dies in the guest's OOM killer */
static void
test_burst_watch(void)
{
	static const char *steps = "step 0s alloc 300M\n"
	    "step 75s alloc 500M 1 0%\nduration 120s\nballoon_rate 128M\n"
	    "boot_touch 25%\nguest_watermark 65M\nguest_kernel 38304K\n";
	struct sim_workload w;
	struct sim_result r;
	struct policy_config pc;
	char err[512], text[2048], st[256];
	int64_t kills[3];
	const char *touch[3] = { "touch_rate 300M\n", "", "touch_rate 300M\n" };
	const enum sim_policy pol[3] = { SIM_MEMTUNED, SIM_MEMTUNED, SIM_MOM };

	policy_config_defaults(&pc);
	for (int k = 0; k < 3; k++) {
		snprintf(st, sizeof(st), "%s%s", steps, touch[k]);
		/* the testbed host, about 3 % of it available */
		testbed(text, sizeof(text), "24683656K", "21117M", "1G", st);
		kills[k] = -1;
		if (sim_workload_parse(text, "t.wl", &w, err, sizeof(err)) < 0) {
			printf("FAIL: %s\n", err);
			failures++;
			return;
		}
		if (sim_run(&w, pol[k], 4, &pc, &r, NULL) == 0)
			kills[k] = r.oom_kills;
	}
	printf("burst watch: OOM kills %lld %lld %lld\n", (long long)kills[0],
	    (long long)kills[1], (long long)kills[2]);
	check(kills[0] == 0, "memtuned: a burst at 300 MiB/s is fed in time");
	check(kills[1] == 1, "memtuned: a burst at once dies (no time to "
	    "feed it)");
	check(kills[2] == 1, "MoM: the burst dies (no watch)");
}

static void
test_samples(void)
{
	struct sim_sample *s = NULL;
	size_t n = 0;
	char err[512];

	check(sim_samples_parse("10 700000 0 0 0 0 1048576 600000 1048576 "
	    "590000\n1010 710000 5 20 1 1 1000000 580000 1048576 590000\n",
	    "r.samples", &s, &n, err, sizeof(err)) == 0 && n == 2 &&
	    s[1].nr_guests == 2 && s[1].t_s == 1.01 &&
	    s[1].actual_kib[0] == 1000000 && s[1].rss_kib[1] == 590000,
	    "samples read");
	free(s);
	s = NULL;
	check(sim_samples_parse("10 700000 0 0 0 0 1048576 600000\n"
	    "1010 710000 5 20 1 1 1000000\n", "r.samples", &s, &n, err,
	    sizeof(err)) < 0 && strstr(err, "r.samples:2") != NULL,
	    "a sample without its guest pair is refused, with its line");
	check(sim_samples_parse("10 700000 0 0 0 0 1 2\n5 7 0 0 0 0 1 2\n",
	    "r.samples", &s, &n, err, sizeof(err)) < 0 &&
	    strstr(err, "forward") != NULL, "samples must move forward");
}

/* The workload parser: its errors name file and line; the small
 * workload read into w. 0, or -1 when it could not be read (said). */
static int
test_workload_parse(struct sim_workload *w)
{
	char err[512];

	check(sim_workload_parse("host_mem 8G\nvms 1 2\nbogus 3\n", "t.wl",
	    w, err, sizeof(err)) < 0 && strstr(err, "t.wl:3") != NULL &&
	    strstr(err, "bogus") != NULL, "unknown key names file and line");
	check(sim_workload_parse("host_mem 8G\nvms 1 2\nws 10:00 20%\n"
	    "ws 09:00 30%\n", "t.wl", w, err, sizeof(err)) < 0 &&
	    strstr(err, "t.wl:4") != NULL, "ws points must move forward");
	check(sim_workload_parse("vms 1 2\nws 10:00 20%\n", "t.wl", w, err,
	    sizeof(err)) < 0 && strstr(err, "host_mem") != NULL,
	    "host_mem is required");
	check(sim_workload_parse("host_mem 8G\nvms 1 2\nws 10:00 0.2\n",
	    "t.wl", w, err, sizeof(err)) < 0 && strstr(err, "ws") != NULL,
	    "a percent needs its unit");
	if (sim_workload_parse(small, "small.wl", w, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		return -1;
	}
	check(w->host_kib == 32LL * 1024 * 1024 && w->nr_classes == 1 &&
	    w->classes[0].nr_pts == 1 && w->classes[0].dup_pmy == 3000,
	    "workload values read");
	return 0;
}

/* Static, the oracle and memtuned on the small workload */
static void
test_small_runs(const struct sim_workload *w, const struct policy_config *pc)
{
	struct sim_result r, r2, ro;
	int64_t n;

	/* 4 static VMs: 16 GiB of 32 fits; nothing moves */
	check(sim_run(w, SIM_STATIC, 4, pc, &r, NULL) == 0 &&
	    r.starve_guest_min == 0 && r.host_swap_min == 0 &&
	    r.balloon_ops == 0 && r.ksm_saved_avg_kib == 0,
	    "static with room: no starvation, no swap, no balloon ops");
	/* 12 static VMs touch 80 % of 48 GiB at boot: the host swaps */
	check(sim_run(w, SIM_STATIC, 12, pc, &r, NULL) == 0 &&
	    r.host_swap_min > 0, "static overcommitted: the host swaps");
	/* static's edge: a VM boots with 3276.8 MiB resident, 96 of it
	 * its kernel; its 1024 MiB working set lands on free memory of
	 * which (3276.8 - 96) / (4096 - 96) is resident, so 209.9 MiB more
	 * become resident: 3486.7 + 200 overhead a VM; 30 GiB / 3686.7 MiB
	 * -> 8 VMs */
	n = sim_search(w, SIM_STATIC, pc, &r);
	check(n == 8, "static search finds the arithmetic edge (8)");
	n = sim_search(w, SIM_ORACLE, pc, &ro);
	check(n > 8, "the oracle carries more than static");

	/* memtuned: the same run twice gives the same figures */
	check(sim_run(w, SIM_MEMTUNED, 12, pc, &r, NULL) == 0 &&
	    sim_run(w, SIM_MEMTUNED, 12, pc, &r2, NULL) == 0 &&
	    memcmp(&r, &r2, sizeof(r)) == 0, "deterministic");
	check(r.policy_errors == 0, "policy_decide accepts every snapshot");
	check(r.balloon_ops > 0 && r.reclaimed_avg_kib > 0,
	    "memtuned reclaims on an overcommitted host");
	check(r.reclaimed_avg_kib <= r.limit_avg_kib * 1.05,
	    "reclaim stays within the physical limit");
}

/* A different seed changes a bursty run. 0, or -1 when its workloads
 * could not be read (said). */
static int
test_seed(const struct policy_config *pc)
{
	struct sim_workload w, w2;
	struct sim_result r, r2;
	char err[512];

	if (sim_workload_parse("host_mem 32G\nvms 2 40\nduration 6h\n"
	    "seed 1\nburst 20m 5m 40% 50%\nws 00:00 20%\n", "b.wl", &w, err,
	    sizeof(err)) < 0 || sim_workload_parse("host_mem 32G\nvms 2 40\n"
	    "duration 6h\nseed 2\nburst 20m 5m 40% 50%\nws 00:00 20%\n",
	    "b.wl", &w2, err, sizeof(err)) < 0) {
		printf("FAIL: %s\n", err);
		return -1;
	}
	check(sim_run(&w, SIM_STATIC, 8, pc, &r, NULL) == 0 &&
	    sim_run(&w2, SIM_STATIC, 8, pc, &r2, NULL) == 0 &&
	    r.host_used_peak_kib != r2.host_used_peak_kib,
	    "the seed drives the bursts");
	return 0;
}

int
sim_selftest(void)
{
	struct sim_workload w;
	struct policy_config pc;

	failures = 0;
	policy_config_defaults(&pc);
	if (test_workload_parse(&w) < 0)
		return 1;
	test_small_runs(&w, &pc);
	if (test_seed(&pc) < 0)
		return 1;
	test_steps_parse();
	test_mem();
	test_oom();
	test_ksm();
	test_controllers();
	test_samples();
	test_burst_watch();

	printf("%d failed\n", failures);
	return failures;
}
