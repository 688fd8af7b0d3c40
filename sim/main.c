/* main.c - memtuned-sim's command line.
 *
 *   memtuned-sim --selftest
 *   memtuned-sim [-p POLICY] [-n VMS] [-t TIMELINE] [-T TRACE] WORKLOAD
 *       one run; prints its figures
 *   memtuned-sim --compare -o DIR WORKLOAD...
 *       every policy on every workload: the largest safe VM count, then
 *       all policies at one common count; a markdown table on stdout and
 *       gnuplot data files in DIR
 *   memtuned-sim --replay [-o DIR] WORKLOAD RUNDIR
 *       the model against the real runs in RUNDIR (replay.c)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sim.h"
#include "util.h"

#define GIB(k) ((k) / 1048576.0)

static void
usage(void)
{
	fprintf(stderr, "usage: memtuned-sim --selftest\n"
	    "       memtuned-sim [-c CONF] [-p POLICY] [-n VMS] [-t TIMELINE] "
	    "[-T TRACE] WORKLOAD\n"
	    "       memtuned-sim [-c CONF] --compare -o DIR WORKLOAD...\n"
	    "       memtuned-sim [-c CONF] --replay [-o DIR] WORKLOAD RUNDIR\n"
	    "-c: memtuned's [policy], [ksm] and [thp] from a memtuned.conf\n"
	    "policies: static ksmtuned mom proxmox memtuned-noreserve "
	    "memtuned oracle\n");
}

static void
print_result(const struct sim_workload *w, enum sim_policy p,
    const struct sim_result *r)
{
	printf("%s %s vms=%lld starve_guest_min=%.1f host_swap_min=%.1f "
	    "short_guest_min=%.1f balloon_ops=%lld reclaimed_gib=%.2f "
	    "limit_gib=%.2f ksm_saved_gib=%.2f ksmd_cpu_pct=%.1f "
	    "peak_used_gib=%.2f storm_recover_s=%.0f policy_errors=%lld "
	    "boot_held_s=%lld oom_kills=%lld\n",
	    w->name, sim_policy_name(p), (long long)r->vms,
	    r->starve_guest_min, r->host_swap_min, r->short_guest_min,
	    (long long)r->balloon_ops, GIB(r->reclaimed_avg_kib),
	    GIB(r->limit_avg_kib), GIB(r->ksm_saved_avg_kib),
	    r->ksmd_cpu_avg_pmil / 10.0, GIB(r->host_used_peak_kib),
	    r->storm_recover_s, (long long)r->policy_errors,
	    (long long)r->boot_held_s, (long long)r->oom_kills);
}

static const enum sim_policy order[] = {
	SIM_STATIC, SIM_KSMTUNED, SIM_MOM, SIM_PROXMOX, SIM_MEMTUNED_NORESERVE,
	SIM_MEMTUNED, SIM_ORACLE,
};

static double
pct(double a, double b)
{
	return b > 0 ? 100.0 * a / b : 0;
}

/* The largest safe VM count of each policy into maxn and its run into
 * best; common: the most any baseline (not memtuned, not the oracle)
 * carries, at least the search's start. 0 or -errno. */
static int
compare_search(const struct sim_workload *w, const struct policy_config *pc,
    int64_t *maxn, struct sim_result *best, int64_t *common)
{
	*common = 0;
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		enum sim_policy p = order[k];

		maxn[p] = sim_search(w, p, pc, &best[p]);
		if (maxn[p] < 0)
			return (int)maxn[p];
		if (p != SIM_MEMTUNED && p != SIM_MEMTUNED_NORESERVE &&
		    p != SIM_ORACLE)
			*common = MAX(*common, maxn[p]);
	}
	*common = MAX(*common, w->vms_min);
	return 0;
}

/* Every policy run at common VMs, its timeline in DIR/WORKLOAD-POLICY.dat,
 * its result into at. 0 or -errno. */
static int
compare_timelines(const struct sim_workload *w, const char *dir,
    const struct policy_config *pc, int64_t common, struct sim_result *at)
{
	char fn[512];
	int rc;

	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		enum sim_policy p = order[k];
		FILE *tl;

		if (snprintf(fn, sizeof(fn), "%s/%s-%s.dat", dir, w->name,
		    sim_policy_name(p)) >= (int)sizeof(fn))
			return -ENAMETOOLONG;
		if ((tl = fopen(fn, "w")) == NULL) {
			rc = -errno;
			fprintf(stderr, "memtuned-sim: %s: %s\n", fn,
			    strerror(errno));
			return rc;
		}
		fprintf(tl, "# hour host_used_GiB static_used_GiB "
		    "ksm_saved_GiB short_guests (%s, %lld VMs)\n",
		    sim_policy_name(p), (long long)common);
		rc = sim_run(w, p, common, pc, &at[p], tl);
		fclose(tl);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The workload's heading and the table of each policy's largest safe
 * count, against MoM, Proxmox and the oracle. */
static void
print_max_table(const struct sim_workload *w, const int64_t *maxn,
    const struct sim_result *best)
{
	printf("### %s\n\n", w->name);
	printf("Host %.0f GiB, VMs of ", GIB((double)w->host_kib));
	for (size_t c = 0; c < w->nr_classes; c++)
		printf("%s%.1f GiB (%s)", c > 0 ? ", " : "",
		    GIB((double)w->classes[c].vm_kib), w->classes[c].name);
	printf(", %lld h simulated in %lld s steps, seed %llu, "
	    "search range %lld..%lld VMs.\n\n",
	    (long long)(w->duration_s / 3600), (long long)w->dt_s,
	    (unsigned long long)w->seed, (long long)w->vms_min,
	    (long long)w->vms_max);
	printf("| policy | max safe VMs | vs MoM | vs Proxmox | of "
	    "oracle | reclaimed / limit | KSM saved | ksmd CPU | "
	    "balloon ops/h |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		enum sim_policy p = order[k];
		const struct sim_result *r = &best[p];
		double hours = (double)w->duration_s / 3600.0;

		printf("| %s | %lld | %+.0f %% | %+.0f %% | %.0f %% | ",
		    sim_policy_name(p), (long long)maxn[p],
		    pct((double)(maxn[p] - maxn[SIM_MOM]),
		    (double)maxn[SIM_MOM]),
		    pct((double)(maxn[p] - maxn[SIM_PROXMOX]),
		    (double)maxn[SIM_PROXMOX]),
		    pct((double)maxn[p], (double)maxn[SIM_ORACLE]));
		if (maxn[p] < w->vms_min)
			printf("- | - | - | - |\n");
		else
			printf("%.1f / %.1f GiB (%.0f %%) | %.1f GiB | "
			    "%.1f %% | %.0f |\n",
			    GIB(r->reclaimed_avg_kib), GIB(r->limit_avg_kib),
			    pct(r->reclaimed_avg_kib, r->limit_avg_kib),
			    GIB(r->ksm_saved_avg_kib),
			    r->ksmd_cpu_avg_pmil / 10.0,
			    (double)r->balloon_ops / hours);
	}
}

/* How long a policy took to recover from the storm, for the table */
static void
storm_text(const struct sim_workload *w, const struct sim_result *r,
    char *storm, size_t len)
{
	if (r->storm_recover_s < 0)
		snprintf(storm, len, "no storm");
	else if (r->storm_recover_s >= (double)(w->storm_end_s -
	    w->storm_start_s + 3600 - w->dt_s))
		/* still short at the end of the window */
		snprintf(storm, len, "> %lld min",
		    (long long)(w->storm_end_s - w->storm_start_s + 3600) /
		    60);
	else
		snprintf(storm, len, "%.0f min", r->storm_recover_s / 60.0);
}

/* The table of every policy at the common count */
static void
print_common_table(const struct sim_workload *w, int64_t common,
    const struct sim_result *at)
{
	printf("\nAll policies at %lld VMs (the most any baseline "
	    "carries safely):\n\n", (long long)common);
	printf("| policy | starving guest-min | host swap min | short "
	    "guest-min | storm recovery | VM start delay | peak host "
	    "used | reclaimed / limit |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		enum sim_policy p = order[k];
		const struct sim_result *r = &at[p];
		char storm[32];

		if (p == SIM_ORACLE) {
			/* sized to the byte: short by construction */
			printf("| oracle | 0.0 | 0.0 | n/a | n/a | 0 s | "
			    "%.1f GiB | %.0f %% |\n",
			    GIB(r->host_used_peak_kib),
			    pct(r->reclaimed_avg_kib, r->limit_avg_kib));
			continue;
		}
		storm_text(w, r, storm, sizeof(storm));
		printf("| %s | %.1f | %.1f | %.1f | %s | %.0f s | "
		    "%.1f GiB | %.0f %% |\n", sim_policy_name(p),
		    r->starve_guest_min, r->host_swap_min,
		    r->short_guest_min, storm,
		    (double)r->boot_held_s / (double)MAX(1, r->vms),
		    GIB(r->host_used_peak_kib),
		    pct(r->reclaimed_avg_kib, r->limit_avg_kib));
	}
	printf("\n");
	fflush(stdout);
}

/* One workload: search, runs at the common count, its line of maxf and
 * its two tables on stdout. 0 or -errno. */
static int
compare_one(const char *path, const char *dir,
    const struct policy_config *pc, FILE *maxf)
{
	struct sim_workload w;
	struct sim_result best[SIM_NR_POLICIES], at[SIM_NR_POLICIES];
	int64_t maxn[SIM_NR_POLICIES], common;
	char err[512];
	int rc;

	if ((rc = sim_workload_load(path, &w, err, sizeof(err))) < 0) {
		fprintf(stderr, "memtuned-sim: %s\n", err);
		return rc;
	}
	if ((rc = compare_search(&w, pc, maxn, best, &common)) < 0 ||
	    (rc = compare_timelines(&w, dir, pc, common, at)) < 0)
		return rc;
	fprintf(maxf, "%s", w.name);
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		fprintf(maxf, " %lld", (long long)maxn[order[k]]);
	fprintf(maxf, "\n");
	print_max_table(&w, maxn, best);
	print_common_table(&w, common, at);
	return 0;
}

static int
compare(char **paths, int np, const char *dir,
    const struct policy_config *pc)
{
	FILE *maxf;
	char fn[512];
	int rc = 0;

	if (snprintf(fn, sizeof(fn), "%s/maxvms.dat", dir) >= (int)sizeof(fn))
		return -ENAMETOOLONG;
	if ((maxf = fopen(fn, "w")) == NULL) {
		fprintf(stderr, "memtuned-sim: %s: %s\n", fn, strerror(errno));
		return -errno;
	}
	fprintf(maxf, "workload");
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		fprintf(maxf, " %s", sim_policy_name(order[k]));
	fprintf(maxf, "\n");
	for (int wi = 0; wi < np && rc == 0; wi++)
		rc = compare_one(paths[wi], dir, pc, maxf);
	fclose(maxf);
	return rc;
}

/* What the command line asks */
struct sim_opts {
	enum sim_policy pol;
	const char *tlpath, *dir, *trpath, *cpath;
	int64_t vms;			/* MT_ABSENT: search for it */
	bool cmp, replay;
};

/* The options into o; -1 to go on, or the exit status (the selftest's
 * own, or 2 for a bad option). */
static int
parse_opts(int argc, char **argv, struct sim_opts *o)
{
	static const struct option longopts[] = {
		{ "selftest", no_argument, NULL, 'S' },
		{ "compare", no_argument, NULL, 'C' },
		{ "replay", no_argument, NULL, 'R' },
		{ "policy", required_argument, NULL, 'p' },
		{ "vms", required_argument, NULL, 'n' },
		{ "timeline", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "trace", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:p:n:t:o:T:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'S':
			return sim_selftest() == 0 ? 0 : 1;
		case 'C':
			o->cmp = true;
			break;
		case 'R':
			o->replay = true;
			break;
		case 'p':
			if (sim_policy_parse(optarg, &o->pol) < 0) {
				fprintf(stderr, "memtuned-sim: unknown policy "
				    "'%s'\n", optarg);
				usage();
				return 2;
			}
			break;
		case 'n':
			if (mt_parse_int64(optarg, &o->vms) < 0 ||
			    o->vms < 1 || o->vms > 4096) {
				fprintf(stderr, "memtuned-sim: -n: want 1..4096, "
				    "got '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			o->tlpath = optarg;
			break;
		case 'o':
			o->dir = optarg;
			break;
		case 'T':
			o->trpath = optarg;
			break;
		case 'c':
			o->cpath = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	return -1;
}

/* The policy's defaults, or cpath's [policy]; validated. 0 or -1, said. */
static int
load_policy(const char *cpath, struct policy_config *pc)
{
	char err[512];

	policy_config_defaults(pc);
	if (cpath != NULL) {
		/* the same file the daemon reads: an operator tries a policy
		 * change on a simulated day before the real one */
		struct mt_config cfg;

		if (config_load_file(cpath, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "memtuned-sim: %s: %s\n", cpath, err);
			return -1;
		}
		*pc = cfg.policy;
		config_free(&cfg);
	}
	if (policy_config_validate(pc, err, sizeof(err)) < 0) {
		fprintf(stderr, "memtuned-sim: policy: %s\n", err);
		return -1;
	}
	return 0;
}

/* One workload, one policy: at o->vms, or at the largest safe count
 * found first. The exit status. */
static int
run_one(const char *path, const struct sim_opts *o,
    const struct policy_config *pc)
{
	struct sim_workload w;
	struct sim_result r;
	int64_t vms = o->vms;
	char err[512];
	FILE *tl = NULL;
	int rc;

	if (sim_workload_load(path, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "memtuned-sim: %s\n", err);
		return 1;
	}
	if (!MT_PRESENT(vms)) {
		if ((vms = sim_search(&w, o->pol, pc, &r)) < 0) {
			fprintf(stderr, "memtuned-sim: out of memory\n");
			return 1;
		}
		printf("largest safe VM count: %lld\n", (long long)vms);
		vms = MAX(vms, w.vms_min);
	}
	if (o->tlpath != NULL && (tl = fopen(o->tlpath, "w")) == NULL) {
		fprintf(stderr, "memtuned-sim: %s: %s\n", o->tlpath,
		    strerror(errno));
		return 1;
	}
	if (o->trpath != NULL && (sim_trace = fopen(o->trpath, "w")) == NULL) {
		fprintf(stderr, "memtuned-sim: %s: %s\n", o->trpath,
		    strerror(errno));
		return 1;
	}
	rc = sim_run(&w, o->pol, vms, pc, &r, tl);
	if (tl != NULL)
		fclose(tl);
	if (sim_trace != NULL)
		fclose(sim_trace);
	if (rc < 0) {
		fprintf(stderr, "memtuned-sim: %s\n", strerror(-rc));
		return 1;
	}
	print_result(&w, o->pol, &r);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim_opts o = { .pol = SIM_MEMTUNED, .vms = MT_ABSENT };
	struct policy_config pc;
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) >= 0)
		return rc;
	if (load_policy(o.cpath, &pc) < 0)
		return 1;
	if (o.replay) {
		if (o.cmp || optind != argc - 2) {
			usage();
			return 2;
		}
		return sim_replay(argv[optind], argv[optind + 1], o.dir,
		    &pc) < 0;
	}
	if (o.cmp) {
		if (o.dir == NULL || optind >= argc) {
			usage();
			return 2;
		}
		return compare(argv + optind, argc - optind, o.dir, &pc) < 0;
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	return run_one(argv[optind], &o, &pc);
}
