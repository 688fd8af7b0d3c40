/* test_metrics.c - Prometheus rendering (exact lines, escaping, absent
 * values, syntax of every line), action counting, the atomic textfile,
 * and the loopback HTTP listener served from the loop. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "capacity.h"
#include "evloop.h"
#include "metrics.h"
#include "policy.h"
#include "snapshot.h"
#include "util.h"
#include "text_check.h"

Suite *metrics_suite(void);

/* ----------------------------------------------------------- fixtures */

static struct guest_snapshot guests[2];
static struct snapshot snap;
static struct policy_plan plan;
static struct metrics_counters ctr;

static void
build(void)
{
	struct host_snapshot *h = &snap.host;

	host_snapshot_init(h);
	h->mem.mem_total_kib = MIB_KIB(16384);
	h->mem.mem_avail_kib = MIB_KIB(3000);
	h->mem.mem_free_kib = MIB_KIB(1000);
	h->vm.pgmajfault = 1234;
	h->vm.pgmajfault_per_s = 7;
	h->vm.refault_per_s = 50;
	h->vm.workingset_refault_anon = 11;
	h->vm.workingset_refault_file = 22;
	h->psi.present = true;
	h->psi.some.avg10_pmy = 1234;		/* 12.34% */
	h->psi.some.avg60_pmy = 5;
	h->psi.some.avg300_pmy = 0;
	h->psi.some.total_us = 3500001;
	/* full stays absent: an older kernel without the line */
	h->ksm.present = true;
	h->ksm.run = 1;
	h->ksm.pages_to_scan = 100;
	h->ksm.sleep_millisecs = 20;
	h->ksm.pages_shared = 10;
	h->ksm.pages_sharing = 300;
	h->ksm.pages_unshared = 40;
	h->ksm.pages_volatile = 5;
	h->ksm.full_scans = 9;
	h->ksm.ksmd_cpu_ms = 1500;
	/* general_profit absent: a pre-6.1 kernel */
	h->thp.present = true;
	mt_strlcpy(h->thp.enabled, "madvise", sizeof(h->thp.enabled));
	mt_strlcpy(h->thp.defrag, "defer+madvise", sizeof(h->thp.defrag));
	h->thp.khugepaged_pages_to_scan = 4096;
	h->thp.khugepaged_scan_sleep_millisecs = 10000;
	h->thp.khugepaged_pages_collapsed = 77;

	for (int i = 0; i < 2; i++) {
		struct guest_snapshot *g = &guests[i];

		guest_snapshot_init(g);
		snprintf(g->uuid, sizeof(g->uuid),
		    "00000000-0000-4000-8000-%012d", i);
		g->id = i + 1;
		g->max_kib = MIB_KIB(4096);
		g->actual_kib = MIB_KIB(3072);
		g->usable_kib = MIB_KIB(1024);
		g->rss_kib = MIB_KIB(2500);
		g->stats = GUEST_STATS_OK;
	}
	mt_strlcpy(guests[0].name, "web1", sizeof(guests[0].name));
	/* a name with every character the format escapes */
	mt_strlcpy(guests[1].name, "a\"b\\c\nd", sizeof(guests[1].name));
	guests[1].stats = GUEST_STATS_STALE;
	guests[1].soft_limit_kib = MIB_KIB(2048);
	guests[1].hard_limit_kib = MIB_KIB(3584);
	snap.guests = guests;
	snap.nr_guests = 2;

	ck_assert_int_eq(policy_plan_init(&plan, 2), 0);
	plan.pressure = PRESSURE_TIGHT;
	plan.reserve_kib = MIB_KIB(1024);
	plan.target_avail_kib = MIB_KIB(2048);
	plan.taken_kib = MIB_KIB(512);
	plan.given_kib = 0;
	plan.next_interval_ms = 2500;
	plan.ksm.run = plan.ksm.pages_to_scan = plan.ksm.sleep_millisecs =
	    MT_ABSENT;
	plan.ksm.advisor_target_scan_time = plan.ksm.advisor_max_cpu =
	    MT_ABSENT;
	plan.thp.khugepaged_scan_sleep_millisecs = MT_ABSENT;
	plan.thp.khugepaged_pages_to_scan = MT_ABSENT;
	plan.thp.khugepaged_max_ptes_none = MT_ABSENT;
	plan.nr_guests = 2;
	for (int i = 0; i < 2; i++) {
		struct guest_plan *gp = &plan.guests[i];

		memset(gp, 0, sizeof(*gp));
		mt_strlcpy(gp->uuid, guests[i].uuid, sizeof(gp->uuid));
		mt_strlcpy(gp->name, guests[i].name, sizeof(gp->name));
		gp->state = GPS_OK;
		gp->action = ACT_NONE;
		gp->floor_kib = MIB_KIB(1024);
		gp->ceiling_kib = MIB_KIB(4096);
		gp->need_kib = MIB_KIB(2560);
		/* as the policy gives it with cap_config's headroom_min */
		gp->headroom_kib = MIB_KIB(256);
		gp->actual_kib = guests[i].actual_kib;
		gp->target_kib = guests[i].actual_kib;
		gp->soft_limit_kib = gp->hard_limit_kib = MT_ABSENT;
		gp->swap_hard_limit_kib = gp->memory_low_kib = MT_ABSENT;
	}
	plan.guests[0].action = ACT_BALLOON;
	plan.guests[0].target_kib = MIB_KIB(2560);
	plan.guests[0].reason_code = GW_WHY_HOST_TAKES;
	plan.guests[1].state = GPS_STALE;
	plan.guests[1].reason_code = GW_WHY_STATS_STALE;

	metrics_counters_init(&ctr);
	ctr.ticks = 42;
	ctr.libvirt_connected = true;
	ctr.last_tick_us = 1500;
	ctr.errors[METRICS_ERR_COLLECT] = 3;
}

static void
unbuild(void)
{
	policy_plan_free(&plan);
}

static char *
render(size_t *len_out)
{
	char *out;
	size_t len;

	ck_assert_int_eq(metrics_render(&snap, &plan, NULL, &ctr, 0, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	if (len_out != NULL)
		*len_out = len;
	return out;
}

#define ck_no(text, s) \
	ck_assert_msg(strstr(text, s) == NULL, "unexpected: %s", s)

/* ------------------------------------------------------------ render */

START_TEST(test_render_host)
{
	char *t = render(NULL);

	ck_line(t, "# HELP memtuned_host_memory_total_bytes MemTotal of the host.");
	ck_line(t, "# TYPE memtuned_host_memory_total_bytes gauge");
	ck_line(t, "memtuned_host_memory_total_bytes 17179869184");
	ck_line(t, "memtuned_host_memory_available_bytes 3145728000");
	ck_line(t, "memtuned_host_memory_free_bytes 1048576000");
	ck_line(t, "memtuned_host_reserve_bytes 1073741824");
	ck_line(t, "memtuned_host_target_available_bytes 2147483648");
	ck_line(t, "memtuned_host_pressure_state{state=\"plenty\"} 0");
	ck_line(t, "memtuned_host_pressure_state{state=\"normal\"} 0");
	ck_line(t, "memtuned_host_pressure_state{state=\"tight\"} 1");
	ck_line(t, "memtuned_host_pressure_state{state=\"critical\"} 0");
	ck_line(t, "memtuned_host_psi_memory_ratio{kind=\"some\",window=\"10s\"} 0.1234");
	ck_line(t, "memtuned_host_psi_memory_ratio{kind=\"some\",window=\"60s\"} 0.0005");
	ck_line(t, "memtuned_host_psi_memory_ratio{kind=\"some\",window=\"300s\"} 0.0000");
	ck_line(t, "# TYPE memtuned_host_psi_memory_stalled_seconds_total counter");
	ck_line(t, "memtuned_host_psi_memory_stalled_seconds_total{kind=\"some\"} 3.500001");
	ck_no(t, "kind=\"full\"");
	ck_line(t, "memtuned_host_major_faults_per_second 7");
	ck_line(t, "memtuned_host_major_faults_total 1234");
	ck_line(t, "memtuned_host_refaults_per_second 50");
	ck_line(t, "memtuned_host_refaults_total{type=\"anon\"} 11");
	ck_line(t, "memtuned_host_refaults_total{type=\"file\"} 22");
	ck_line(t, "memtuned_next_interval_seconds 2.500");
	ck_line(t, "memtuned_plan_reclaim_bytes 536870912");
	ck_line(t, "memtuned_guests 2");

	ck_line(t, "memtuned_ksm_run 1");
	ck_line(t, "memtuned_ksm_pages_to_scan 100");
	ck_line(t, "memtuned_ksm_sleep_seconds 0.020");
	ck_line(t, "memtuned_ksm_pages_sharing 300");
	ck_line(t, "memtuned_ksm_pages_volatile 5");
	ck_line(t, "# TYPE memtuned_ksm_full_scans_total counter");
	ck_line(t, "memtuned_ksm_full_scans_total 9");
	ck_line(t, "memtuned_ksmd_cpu_seconds_total 1.500");
	/* absent on this kernel: left out, never a huge negative number */
	ck_no(t, "general_profit");
	ck_no(t, "-9223372036854775808");
	ck_line(t, "memtuned_thp_info{enabled=\"madvise\",defrag=\"defer+madvise\"} 1");
	ck_line(t, "memtuned_thp_khugepaged_pages_to_scan 4096");
	ck_line(t, "memtuned_thp_khugepaged_scan_sleep_seconds 10.000");
	ck_line(t, "memtuned_thp_khugepaged_pages_collapsed_total 77");
	ck_no(t, "memtuned_thp_khugepaged_full_scans_total");

	ck_line(t, "memtuned_ticks_total 42");
	ck_line(t, "memtuned_libvirt_connected 1");
	ck_line(t, "memtuned_last_tick_duration_seconds 0.001500");
	ck_line(t, "memtuned_errors_total{kind=\"collect\"} 3");
	ck_line(t, "memtuned_errors_total{kind=\"config\"} 0");
	ck_line(t, "memtuned_actions_total{kind=\"balloon\",reason=\"reclaim\"} 0");
	ck_line(t, "memtuned_actions_total{kind=\"thp\",reason=\"tune\"} 0");
	ck_line(t, "memtuned_reloads_total 0");
	ck_line(t, "memtuned_build_info{version=\"" MEMTUNED_VERSION "\"} 1");
	free(t);
}
END_TEST

START_TEST(test_render_guests_and_escaping)
{
	char *t = render(NULL);
	const char *g1 = "{name=\"a\\\"b\\\\c\\nd\",uuid=\"00000000-0000-4000-8000-000000000001\"}";
	char line[512];

	ck_line(t, "memtuned_guest_actual_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 3221225472");
	ck_line(t, "memtuned_guest_target_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 2684354560");
	ck_line(t, "memtuned_guest_floor_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 1073741824");
	ck_line(t, "memtuned_guest_ceiling_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 4294967296");
	ck_line(t, "memtuned_guest_usable_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 1073741824");
	ck_line(t, "memtuned_guest_rss_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 2621440000");
	ck_line(t, "memtuned_guest_stats_state{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\",state=\"ok\"} 1");
	ck_line(t, "memtuned_guest_plan_state{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\",state=\"ok\"} 1");
	ck_line(t, "memtuned_guest_plan_state{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\",state=\"stale\"} 0");
	ck_line(t, "memtuned_guest_plan_reason{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\",reason=\"host_takes\"} 1");

	snprintf(line, sizeof(line), "memtuned_guest_memtune_soft_limit_bytes%s 2147483648", g1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_memtune_hard_limit_bytes%s 3758096384", g1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_stats_state{name=\"a\\\"b\\\\c\\nd\",uuid=\"00000000-0000-4000-8000-000000000001\",state=\"stale\"} 1");
	ck_line(t, line);
	/* limits unset on web1: unlimited, so not exported */
	ck_no(t, "memtuned_guest_memtune_soft_limit_bytes{name=\"web1\"");
	ck_no(t, "memtuned_guest_memtune_swap_hard_limit_bytes");
	/* the raw name never reaches the output */
	ck_no(t, "a\"b");
	free(t);
}
END_TEST

/* The balloon's features as an info series for every guest; virtio-mem
 * sizes only for a guest with a device, family by family. */
START_TEST(test_render_guest_features)
{
	const char *u0 = "name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"";
	const char *u1 = "name=\"a\\\"b\\\\c\\nd\",uuid=\"00000000-0000-4000-8000-000000000001\"";
	struct guest_vmem *vm = &guests[1].backing.vmem;
	char line[512], *t;

	guests[0].backing.free_page_reporting = true;
	guests[0].backing.autodeflate = true;
	vm->count = 2;
	vm->size_kib = MIB_KIB(4096);
	vm->requested_kib = MIB_KIB(1024);
	vm->current_kib = MIB_KIB(1000);
	vm->block_kib = 2048;
	t = render(NULL);
	snprintf(line, sizeof(line), "memtuned_guest_balloon_features{%s,"
	    "free_page_reporting=\"1\",autodeflate=\"1\"} 1", u0);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_balloon_features{%s,"
	    "free_page_reporting=\"0\",autodeflate=\"0\"} 1", u1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_virtio_mem_devices{%s} 0",
	    u0);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_virtio_mem_devices{%s} 2",
	    u1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_virtio_mem_size_bytes{%s} "
	    "4294967296", u1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_virtio_mem_requested_bytes"
	    "{%s} 1073741824", u1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_virtio_mem_plugged_bytes"
	    "{%s} 1048576000", u1);
	ck_line(t, line);
	snprintf(line, sizeof(line), "memtuned_guest_virtio_mem_block_bytes"
	    "{%s} 2097152", u1);
	ck_line(t, line);
	/* no device: no sizes */
	ck_no(t, "memtuned_guest_virtio_mem_size_bytes{name=\"web1\"");
	/* each family's samples follow its one HELP line */
	ck_assert_ptr_nonnull(strstr(t, "memtuned_guest_virtio_mem_size_bytes{"));
	ck_assert_ptr_null(strstr(strstr(t, "memtuned_guest_virtio_mem_size_"
	    "bytes{"), "memtuned_guest_virtio_mem_devices{"));
	free(t);
}
END_TEST

START_TEST(test_render_not_utf8)
{
	char *t;

	/* é stays; a stray byte would make Prometheus drop the scrape */
	mt_strlcpy(guests[0].name, "caf\xc3\xa9\xff!\xed\xa0\x80",
	    sizeof(guests[0].name));
	t = render(NULL);
	ck_line(t, "memtuned_guest_actual_bytes{name=\"caf\xc3\xa9\xef\xbf\xbd!"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",uuid=\"00000000-0000-4000-8000-000000000000\"} 3221225472");
	free(t);

	/* a terminal escape, a tab, DEL: written out, never raw */
	mt_strlcpy(guests[0].name, "vm\x1b[31m\t\x7f", sizeof(guests[0].name));
	t = render(NULL);
	ck_line(t, "memtuned_guest_actual_bytes{name=\"vm\\\\x1b[31m\\\\x09"
	    "\\\\x7f\",uuid=\"00000000-0000-4000-8000-000000000000\"} 3221225472");
	ck_no(t, "\x1b");
	free(t);
}
END_TEST

/* Check one sample line: name{l="v",...} value. Returns the name length. */
static size_t
check_sample(const char *line)
{
	const char *p = line, *v;
	char *end;
	size_t name_len;

	ck_assert_msg((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    *p == '_' || *p == ':', "bad name start: %s", line);
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':')
		p++;
	name_len = (size_t)(p - line);
	if (*p == '{') {
		p++;
		for (;;) {
			ck_assert_msg((*p >= 'a' && *p <= 'z') || *p == '_',
			    "bad label name: %s", line);
			while ((*p >= 'a' && *p <= 'z') || (*p >= '0' &&
			    *p <= '9') || *p == '_')
				p++;
			ck_assert_msg(p[0] == '=' && p[1] == '"',
			    "bad label: %s", line);
			p += 2;
			while (*p != '"') {
				ck_assert_msg(*p != '\0' && *p != '\n',
				    "unterminated value: %s", line);
				if (*p == '\\') {
					ck_assert_msg(p[1] == '\\' ||
					    p[1] == '"' || p[1] == 'n',
					    "bad escape: %s", line);
					p++;
				}
				p++;
			}
			p++;
			if (*p == ',') {
				p++;
				continue;
			}
			ck_assert_msg(*p == '}', "bad label end: %s", line);
			p++;
			break;
		}
	}
	ck_assert_msg(*p == ' ', "no space before value: %s", line);
	v = p + 1;
	errno = 0;
	(void)strtod(v, &end);
	ck_assert_msg(end != v && *end == '\0' && errno == 0,
	    "bad value: %s", line);
	return name_len;
}

/* Every line is a HELP, a TYPE or a sample; each family has one HELP and
 * one TYPE, before its samples, and its samples are not split. */
static size_t
check_syntax(char *text)
{
	char seen[256][96];
	size_t nseen = 0, lines = 0;
	char cur[96] = "";
	char *save = NULL;

	ck_assert_msg(text[0] == '\0' || text[strlen(text) - 1] == '\n',
	    "no final newline");
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		char name[96];

		lines++;
		if (strncmp(l, "# HELP ", 7) == 0) {
			ck_assert_int_eq(sscanf(l + 7, "%95s", name), 1);
			for (size_t i = 0; i < nseen; i++)
				ck_assert_msg(strcmp(seen[i], name) != 0,
				    "family %s twice", name);
			ck_assert_uint_lt(nseen, 256);
			mt_strlcpy(seen[nseen++], name, sizeof(seen[0]));
			mt_strlcpy(cur, name, sizeof(cur));
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			char type[16];

			ck_assert_int_eq(sscanf(l + 7, "%95s %15s", name, type), 2);
			ck_assert_str_eq(name, cur);
			ck_assert_msg(strcmp(type, "gauge") == 0 ||
			    strcmp(type, "counter") == 0, "type %s", type);
			if (strcmp(type, "counter") == 0)
				ck_assert_msg(strlen(name) > 6 && strcmp(name +
				    strlen(name) - 6, "_total") == 0,
				    "counter %s without _total", name);
			continue;
		}
		ck_assert_msg(l[0] != '#', "stray comment: %s", l);
		size_t n = check_sample(l);
		ck_assert_msg(strlen(cur) == n && strncmp(l, cur, n) == 0,
		    "sample outside its family (%s): %s", cur, l);
		ck_assert_msg(strncmp(l, "memtuned_", 9) == 0, "prefix: %s", l);
	}
	return lines;
}

/* ---------------------------------------------------------- capacity */

/* The fixture's capacity, worked by hand (docs/capacity.md): a fixed 1 GiB
 * reserve, 100 MiB of QEMU overhead per guest, floors at 25% and 256 MiB of
 * headroom. Each guest commits 4096 + 100 MiB: no-overcommit has
 * 16384 - 1024 - 8392 = 6968 MiB. Only web1 has fresh stats: it needs
 * 3072 - 1024 + 256 = 2304 MiB, so ballooning frees 4096 - 2304 = 1792 MiB
 * (8760 MiB). KSM shares 300 pages, 1200 KiB over both guests. A 2 GiB
 * guest costs 2148 MiB: 3, 4 and 4 more fit. */
static struct policy_config cap_pc;
static struct capacity_result cap_res;

static void
cap_config(void)
{
	policy_config_defaults(&cap_pc);
	cap_pc.reserve_kib = MIB_KIB(1024);
	cap_pc.qemu_overhead_kib = MIB_KIB(100);
	cap_pc.qemu_overhead_pmy = 0;
	cap_pc.floor_default_pmy = 2500;
	cap_pc.headroom_pmy = 0;
	cap_pc.headroom_min_kib = MIB_KIB(256);
	snap.host.time_ms = 100000;
	capacity_result_init(&cap_res);
}

/* Estimate on the fixture as the daemon does, then render it as seen
 * 1.25 s after the snapshot. */
static char *
render_cap(void)
{
	struct metrics_capacity mc = { .res = &cap_res, .now_ms = 101250,
	    .now_real_ms = INT64_C(1700000000000) };
	char *out;
	size_t len;

	ck_assert_int_eq(capacity_estimate_plan(&cap_pc, &snap, &plan,
	    MIB_KIB(2048), &cap_res), 0);
	ck_assert_int_eq(metrics_render(&snap, &plan, &mc, &ctr, 0, &out,
	    &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

START_TEST(test_render_capacity)
{
	char *t;

	cap_config();
	t = render_cap();
	ck_line(t, "# HELP memtuned_capacity_vms More guests of the reference "
	    "size that fit now, by risk level.");
	ck_line(t, "# TYPE memtuned_capacity_vms gauge");
	ck_line(t, "memtuned_capacity_vm_size_bytes 2147483648");
	ck_line(t, "memtuned_capacity_vm_cost_bytes 2252341248");
	ck_line(t, "memtuned_capacity_vms{level=\"no-overcommit\"} 3");
	ck_line(t, "memtuned_capacity_vms{level=\"balloon\"} 4");
	ck_line(t, "memtuned_capacity_vms{level=\"ksm\"} 4");
	ck_line(t, "# TYPE memtuned_capacity_headroom_bytes gauge");
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"no-overcommit\"} 7306477568");
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"balloon\"} 9185525760");
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"ksm\"} 9186754560");
	ck_line(t, "memtuned_capacity_guests_counted{level=\"no-overcommit\"} 2");
	ck_line(t, "memtuned_capacity_guests_counted{level=\"balloon\"} 1");
	ck_line(t, "memtuned_capacity_guests_counted{level=\"ksm\"} 2");
	ck_line(t, "memtuned_capacity_ksm_measured 1");
	ck_line(t, "memtuned_capacity_age_seconds 1.250");
	ck_line(t, "memtuned_capacity_timestamp_seconds 1699999998.750");
	/* one node: no per-node figures */
	ck_no(t, "memtuned_capacity_node_vms");
	ck_no(t, "memtuned_capacity_numa_unbalanced");
	ck_assert_uint_gt(check_syntax(t), 100);
	free(t);
	capacity_result_free(&cap_res);
}
END_TEST

START_TEST(test_render_capacity_follows_inputs)
{
	char *t;

	cap_config();
	/* 2 GiB less host memory: 4920 MiB without overcommit, 2 guests */
	snap.host.mem.mem_total_kib = MIB_KIB(14336);
	/* web1's stats go stale: ballooning counts nobody */
	guests[0].stats = GUEST_STATS_STALE;
	/* no KSM: nothing measured, nothing added */
	snap.host.ksm.present = false;
	t = render_cap();
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"no-overcommit\"} 5158993920");
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"balloon\"} 5158993920");
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"ksm\"} 5158993920");
	ck_line(t, "memtuned_capacity_vms{level=\"no-overcommit\"} 2");
	ck_line(t, "memtuned_capacity_vms{level=\"balloon\"} 2");
	ck_line(t, "memtuned_capacity_guests_counted{level=\"balloon\"} 0");
	ck_line(t, "memtuned_capacity_ksm_measured 0");
	free(t);

	/* overcommitted past the safe level: negative headroom, 0 fit */
	snap.host.mem.mem_total_kib = MIB_KIB(8192);
	t = render_cap();
	ck_line(t, "memtuned_capacity_headroom_bytes{level=\"no-overcommit\"} -1283457024");
	ck_line(t, "memtuned_capacity_vms{level=\"no-overcommit\"} 0");
	ck_assert_uint_gt(check_syntax(t), 100);
	free(t);

	/* no estimate (NULL), or none with a clock that went backwards:
	 * the figures or their age are left out, never made up */
	{
		struct metrics_capacity mc = { .res = &cap_res, .now_ms = 50,
		    .now_real_ms = MT_ABSENT };
		size_t len;

		ck_assert_int_eq(metrics_render(&snap, &plan, &mc, &ctr, 0,
		    &t, &len), 0);
		ck_line(t, "memtuned_capacity_vms{level=\"no-overcommit\"} 0");
		ck_no(t, "memtuned_capacity_age_seconds");
		ck_no(t, "memtuned_capacity_timestamp_seconds");
		free(t);
		mc.res = NULL;
		ck_assert_int_eq(metrics_render(&snap, &plan, &mc, &ctr, 0,
		    &t, &len), 0);
		ck_no(t, "memtuned_capacity_");
		free(t);
	}
	capacity_result_free(&cap_res);
}
END_TEST

START_TEST(test_render_capacity_numa)
{
	struct host_numa *hn = &snap.host.numa;
	char *t;

	cap_config();
	/* the reserve splits 512/512 MiB: node 0 is short of its part,
	 * node 1 has 2388 MiB above it, room for one 2148 MiB guest */
	hn->nr_nodes = 2;
	hn->node_total_kib[0] = hn->node_total_kib[1] = MIB_KIB(8192);
	hn->node_free_kib[0] = MIB_KIB(100);
	hn->node_free_kib[1] = MIB_KIB(2900);
	t = render_cap();
	ck_line(t, "memtuned_capacity_node_vms{node=\"0\"} 0");
	ck_line(t, "memtuned_capacity_node_vms{node=\"1\"} 1");
	ck_line(t, "memtuned_capacity_numa_unbalanced 1");
	free(t);
	hn->node_free_kib[0] = MIB_KIB(2900);
	t = render_cap();
	ck_line(t, "memtuned_capacity_node_vms{node=\"0\"} 1");
	ck_line(t, "memtuned_capacity_numa_unbalanced 0");
	free(t);
	capacity_result_free(&cap_res);
}
END_TEST

START_TEST(test_render_syntax)
{
	char *t = render(NULL);

	/* every family of the fixture, the counters included */
	ck_assert_uint_gt(check_syntax(t), 100);
	free(t);
}
END_TEST

START_TEST(test_render_without_snapshot)
{
	char *t;
	size_t len;

	/* before the first tick: the daemon's counters only */
	ck_assert_int_eq(metrics_render(NULL, NULL, NULL, &ctr, 0, &t, &len), 0);
	ck_line(t, "memtuned_ticks_total 42");
	ck_no(t, "memtuned_host_");
	ck_no(t, "memtuned_guest_actual");
	ck_no(t, "memtuned_guests ");
	ck_assert_uint_gt(check_syntax(t), 30);
	free(t);
	/* a plan alone still names its guests */
	ck_assert_int_eq(metrics_render(NULL, &plan, NULL, NULL, 0, &t, &len), 0);
	ck_line(t, "memtuned_guest_target_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 2684354560");
	ck_no(t, "memtuned_ticks_total");
	free(t);
	/* absent last tick: left out */
	metrics_counters_init(&ctr);
	ck_assert_int_eq(metrics_render(NULL, NULL, NULL, &ctr, 0, &t, &len), 0);
	ck_no(t, "memtuned_last_tick_duration_seconds ");
	ck_line(t, "memtuned_libvirt_connected 0");
	free(t);
}
END_TEST

/* Does a sample of this family (a line "NAME VALUE" or "NAME{...} VALUE")
 * appear in the text? */
static bool
has_series(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; (p = strstr(p, name)) != NULL; p++)
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == ' ' || p[n] == '{'))
			return true;
	return false;
}

START_TEST(test_render_per_guest_switch)
{
	/* every family of the fixture, and whether it names a guest */
	static const struct {
		const char *name;
		bool per_guest;
	} cases[] = {
		{ "memtuned_guest_max_bytes", true },
		{ "memtuned_guest_actual_bytes", true },
		{ "memtuned_guest_target_bytes", true },
		{ "memtuned_guest_floor_bytes", true },
		{ "memtuned_guest_ceiling_bytes", true },
		{ "memtuned_guest_need_bytes", true },
		{ "memtuned_guest_usable_bytes", true },
		{ "memtuned_guest_rss_bytes", true },
		{ "memtuned_guest_memtune_hard_limit_bytes", true },
		{ "memtuned_guest_reclaimable_bytes", true },
		{ "memtuned_guest_balloon_inflated_bytes_total", true },
		{ "memtuned_guest_stats_state", true },
		{ "memtuned_guest_plan_state", true },
		{ "memtuned_guest_plan_reason", true },
		{ "memtuned_guests", false },
		{ "memtuned_host_memory_available_bytes", false },
		{ "memtuned_host_reserve_bytes", false },
		{ "memtuned_host_pressure_state", false },
		{ "memtuned_host_psi_memory_ratio", false },
		{ "memtuned_plan_reclaim_bytes", false },
		{ "memtuned_capacity_vms", false },
		{ "memtuned_capacity_guests_counted", false },
		{ "memtuned_ksm_pages_sharing", false },
		{ "memtuned_ksmd_cpu_seconds_total", false },
		{ "memtuned_thp_info", false },
		{ "memtuned_actions_total", false },
		{ "memtuned_errors_total", false },
		{ "memtuned_guests_gone_total", false },
		{ "memtuned_last_tick_duration_seconds", false },
	};
	struct metrics_capacity mc = { .res = &cap_res, .now_ms = 101250,
	    .now_real_ms = INT64_C(1700000000000) };
	char *text[2];
	size_t len;

	cap_config();
	ck_assert_int_eq(capacity_estimate_plan(&cap_pc, &snap, &plan,
	    MIB_KIB(2048), &cap_res), 0);
	ck_assert_int_eq(metrics_render(&snap, &plan, &mc, &ctr, 0, &text[0],
	    &len), 0);
	ck_assert_int_eq(metrics_render(&snap, &plan, &mc, &ctr,
	    METRICS_NO_GUESTS, &text[1], &len), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_msg(has_series(text[0], cases[i].name),
		    "%s missing with per-guest series", cases[i].name);
		ck_assert_msg(has_series(text[1], cases[i].name) ==
		    !cases[i].per_guest, "%s %s without per-guest series",
		    cases[i].name, cases[i].per_guest ? "present" : "missing");
	}
	/* nothing else names a guest either, HELP and TYPE included */
	ck_no(text[1], "uuid=");
	ck_no(text[1], "memtuned_guest_");
	ck_assert_uint_gt(check_syntax(text[1]), 50);
	free(text[0]);
	free(text[1]);
	capacity_result_free(&cap_res);
}
END_TEST

START_TEST(test_render_plan_out_of_order)
{
	struct guest_plan tmp = plan.guests[0];
	char *t;

	/* a plan in another order is matched by uuid, not by index */
	plan.guests[0] = plan.guests[1];
	plan.guests[1] = tmp;
	t = render(NULL);
	ck_line(t, "memtuned_guest_target_bytes{name=\"web1\",uuid=\"00000000-0000-4000-8000-000000000000\"} 2684354560");
	free(t);
}
END_TEST

/* ------------------------------------------------------------ counting */

START_TEST(test_count_plan)
{
	struct policy_plan p;
	struct policy_results out;
	struct act_result res = { 0 };
	char *t, line[160];
	size_t len;

	ck_assert_int_eq(policy_plan_init(&p, 8), 0);
	ck_assert_int_eq(policy_results_init(&out, 8), 0);
	p.nr_guests = 8;
	for (int i = 0; i < 8; i++) {
		struct guest_plan *gp = &p.guests[i];

		memset(gp, 0, sizeof(*gp));
		gp->state = GPS_OK;
		gp->action = ACT_BALLOON;
		gp->floor_kib = MIB_KIB(1024);
		gp->ceiling_kib = MIB_KIB(4096);
		gp->need_kib = MIB_KIB(2048);
		gp->actual_kib = MIB_KIB(3072);
		gp->target_kib = MIB_KIB(3072);
		gp->soft_limit_kib = gp->hard_limit_kib = MT_ABSENT;
		gp->swap_hard_limit_kib = gp->memory_low_kib = MT_ABSENT;
	}
	p.guests[0].target_kib = MIB_KIB(2048);		/* reclaim */
	p.guests[1].need_kib = MIB_KIB(3500);		/* give */
	p.guests[1].target_kib = MIB_KIB(3500);
	p.guests[2].target_kib = MIB_KIB(4096);		/* grow */
	p.guests[3].actual_kib = MIB_KIB(512);		/* bounds */
	p.guests[3].target_kib = MIB_KIB(1024);
	p.guests[4].state = GPS_UNCOOPERATIVE;		/* retry + squeeze */
	p.guests[4].action = ACT_BOTH;
	p.guests[4].target_kib = MIB_KIB(2048);
	p.guests[4].hard_limit_kib = MIB_KIB(2600);
	p.guests[5].action = ACT_MEMTUNE;		/* release */
	p.guests[5].hard_limit_kib = POLICY_LIMIT_UNLIMITED;
	p.guests[6].action = ACT_MEMTUNE;		/* limits */
	p.guests[6].soft_limit_kib = MIB_KIB(2000);
	/* guests[7]: a balloon action with target == actual sends nothing */

	p.ksm.change = true;
	p.ksm.run = MT_ABSENT;
	p.ksm.pages_to_scan = 200;
	p.ksm.advisor_target_scan_time = p.ksm.advisor_max_cpu = MT_ABSENT;
	p.thp.change = true;
	res.ksm_applied = true;
	res.thp_applied = false;			/* THP write failed */
	res.failed = 2;
	res.gone = 1;

	/* every guest change went through */
	ck_assert_int_eq(policy_results_all_applied(&out, &p), 0);
	metrics_counters_init(&ctr);
	metrics_count_plan(&ctr, &p, &res, &out);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_BALLOON][METRICS_REASON_RECLAIM], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_BALLOON][METRICS_REASON_GIVE], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_BALLOON][METRICS_REASON_GROW], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_BALLOON][METRICS_REASON_BOUNDS], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_BALLOON][METRICS_REASON_RETRY], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_SQUEEZE], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_RELEASE], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_LIMITS], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_KSM][METRICS_REASON_RATE], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_THP][METRICS_REASON_TUNE], 0);
	ck_assert_uint_eq(ctr.errors[METRICS_ERR_ACT], 2);
	ck_assert_uint_eq(ctr.guests_gone, 1);

	/* KSM start and stop come from the run knob */
	p.ksm.run = 1;
	res.thp_applied = true;
	metrics_count_plan(&ctr, &p, &res, &out);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_KSM][METRICS_REASON_START], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_THP][METRICS_REASON_TUNE], 1);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_BALLOON][METRICS_REASON_RECLAIM], 2);
	p.ksm.run = 0;
	res.ksm_applied = false;			/* not applied: not counted */
	metrics_count_plan(&ctr, &p, &res, &out);
	ck_assert_uint_eq(ctr.actions[METRICS_KIND_KSM][METRICS_REASON_STOP], 0);

	ck_assert_int_eq(metrics_render(NULL, NULL, NULL, &ctr, 0, &t, &len), 0);
	ck_line(t, "memtuned_actions_total{kind=\"balloon\",reason=\"reclaim\"} 3");
	ck_line(t, "memtuned_actions_total{kind=\"memtune\",reason=\"squeeze\"} 3");
	ck_line(t, "memtuned_actions_total{kind=\"ksm\",reason=\"start\"} 1");
	ck_line(t, "memtuned_actions_total{kind=\"ksm\",reason=\"stop\"} 0");
	ck_line(t, "memtuned_errors_total{kind=\"act\"} 6");
	ck_line(t, "memtuned_guests_gone_total 3");
	snprintf(line, sizeof(line), "# TYPE memtuned_actions_total counter");
	ck_line(t, line);
	free(t);
	policy_results_free(&out);
	policy_plan_free(&p);
}
END_TEST

/* memtuned_actions_total counts changes made: a change planned but failed,
 * refused, skipped or only logged in a dry run is not one. */
START_TEST(test_count_only_applied)
{
	static const struct {
		const char *name;
		enum policy_outcome balloon, memtune, hard;
		uint64_t reclaim, squeeze, limits;
	} cases[] = {
		{ "applied", OUTCOME_APPLIED, OUTCOME_APPLIED, OUTCOME_APPLIED,
		    1, 1, 0 },
		{ "dry run", OUTCOME_DRY_RUN, OUTCOME_DRY_RUN, OUTCOME_DRY_RUN,
		    0, 0, 0 },
		{ "failed", OUTCOME_FAILED, OUTCOME_FAILED, OUTCOME_FAILED,
		    0, 0, 0 },
		{ "refused", OUTCOME_REFUSED, OUTCOME_REFUSED, OUTCOME_REFUSED,
		    0, 0, 0 },
		{ "connection lost", OUTCOME_FAILED, OUTCOME_SKIPPED,
		    OUTCOME_SKIPPED, 0, 0, 0 },
		/* manage_hard_limit = no: only the soft limit was written */
		{ "hard limit held back", OUTCOME_APPLIED, OUTCOME_APPLIED,
		    OUTCOME_SKIPPED, 1, 0, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct metrics_counters cnt;
		struct policy_results out;
		struct act_result res = { 0 };
		struct policy_plan p;
		struct guest_plan *gp;

		ck_assert_int_eq(policy_plan_init(&p, 1), 0);
		ck_assert_int_eq(policy_results_init(&out, 1), 0);
		p.nr_guests = out.nr_guests = 1;
		gp = &p.guests[0];
		memset(gp, 0, sizeof(*gp));
		gp->state = GPS_UNCOOPERATIVE;
		gp->action = ACT_BOTH;
		gp->floor_kib = MIB_KIB(1024);
		gp->ceiling_kib = MIB_KIB(4096);
		gp->actual_kib = MIB_KIB(3072);
		gp->target_kib = MIB_KIB(2048);
		gp->need_kib = MT_ABSENT;
		gp->hard_limit_kib = MIB_KIB(2400);
		gp->soft_limit_kib = MIB_KIB(2300);
		gp->swap_hard_limit_kib = gp->memory_low_kib = MT_ABSENT;
		/* a stuck balloon asked again is a "retry" */
		out.guests[0].balloon = cases[i].balloon;
		out.guests[0].memtune = cases[i].memtune;
		out.guests[0].hard_limit = cases[i].hard;
		metrics_counters_init(&cnt);
		metrics_count_plan(&cnt, &p, &res, &out);
		ck_assert_msg(cnt.actions[METRICS_KIND_BALLOON]
		    [METRICS_REASON_RETRY] == cases[i].reclaim &&
		    cnt.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_SQUEEZE] ==
		    cases[i].squeeze &&
		    cnt.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_LIMITS] ==
		    cases[i].limits, "%s: balloon retry %llu, squeeze %llu, "
		    "limits %llu", cases[i].name, (unsigned long long)
		    cnt.actions[METRICS_KIND_BALLOON][METRICS_REASON_RETRY],
		    (unsigned long long)
		    cnt.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_SQUEEZE],
		    (unsigned long long)
		    cnt.actions[METRICS_KIND_MEMTUNE][METRICS_REASON_LIMITS]);
		policy_results_free(&out);
		policy_plan_free(&p);
	}
}
END_TEST

/* ------------------------------------------------------------ textfile */

static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);
	ssize_t n;
	size_t off = 0;

	if (fd < 0)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	while ((n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	*len = off;
	close(fd);
	return buf;
}

START_TEST(test_textfile)
{
	char dir[] = "/tmp/mt-metrics-XXXXXX", path[256], tmp[270];
	const char *text = "memtuned_ticks_total 1\n";
	struct stat st;
	size_t len;
	char *got;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memtuned.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	umask(077);
	ck_assert_int_eq(metrics_write_textfile(path, text, strlen(text)), 0);
	got = slurp(path, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, text);
	free(got);
	ck_assert_int_eq(stat(tmp, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* node_exporter reads it as another user, whatever our umask */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	umask(022);

	/* a directory that does not exist: an error, nothing left behind */
	snprintf(path, sizeof(path), "%s/missing/memtuned.prom", dir);
	ck_assert_int_eq(metrics_write_textfile(path, text, strlen(text)),
	    -ENOENT);
	snprintf(path, sizeof(path), "%s/memtuned.prom", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_textfile_never_half_written)
{
	char dir[] = "/tmp/mt-metrics-XXXXXX", path[256], tmp[270];
	/* large enough that a plain rewrite takes several write() calls
	 * and a reader could catch it in the middle */
	size_t alen = 512 * 1024, blen = 96 * 1024;
	char *a = malloc(alen), *b = malloc(blen);
	struct stat st;
	pid_t pid;
	int status;

	memset(a, 'a', alen);
	memset(b, 'b', blen);
	a[alen - 1] = b[blen - 1] = '\n';
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memtuned.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(metrics_write_textfile(path, a, alen), 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* reader: every read sees all of a or all of b */
		int bad = 0, reads = 0;

		for (int i = 0; i < 4000 && !bad; i++) {
			size_t len;
			char *got = slurp(path, &len);

			if (got == NULL) {
				bad = 1;
				break;
			}
			if (!((len == alen && memcmp(got, a, alen) == 0) ||
			    (len == blen && memcmp(got, b, blen) == 0)))
				bad = 2;
			reads++;
			free(got);
		}
		_exit(bad);
	}
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(metrics_write_textfile(path,
		    i % 2 ? a : b, i % 2 ? alen : blen), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "reader saw a partial or missing file (status %d)",
	    WEXITSTATUS(status));
	ck_assert_int_eq(stat(tmp, &st), -1);
	unlink(path);
	rmdir(dir);
	free(a);
	free(b);
}
END_TEST

/* ------------------------------------------------------------ HTTP */

static struct evloop *loop;
static struct metrics_http http;

static void
http_setup(void)
{
	ck_assert_int_eq(evloop_new(&loop, NULL, 0, NULL, NULL), 0);
	ck_assert_int_eq(metrics_http_open(&http, loop, "127.0.0.1", 0, 0), 0);
	ck_assert_int_gt(http.port, 0);
}

static void
http_teardown(void)
{
	metrics_http_close(&http);
	evloop_free(loop);
}

/* A plain-socket client in a child; the parent serves from the loop and
 * collects what the child received (through a pipe) until it exits. */
static char *
http_in_child(const char *af_host, int af, const char *req, size_t req_len,
    size_t *out_len)
{
	int p[2];
	pid_t pid;
	size_t cap = 1 << 20, off = 0;
	char *buf = malloc(cap + 1);
	bool eof = false;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl;
		char rb[4096];
		ssize_t n;
		int fd;

		close(p[0]);
		if (af == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)http.port);
			inet_pton(AF_INET, af_host, &sin->sin_addr);
			sl = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)http.port);
			inet_pton(AF_INET6, af_host, &sin6->sin6_addr);
			sl = sizeof(*sin6);
		}
		fd = socket(af, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0)
			_exit(2);
		if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
			_exit(3);
		while ((n = recv(fd, rb, sizeof(rb), 0)) > 0)
			if (write(p[1], rb, (size_t)n) != n)
				_exit(4);
		_exit(n < 0 ? 5 : 0);
	}
	close(p[1]);
	for (int i = 0; i < 300 && !eof; i++) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		evloop_iterate(loop, 10);
		while (poll(&pfd, 1, 0) > 0) {
			ssize_t n = read(p[0], buf + off, cap - off);

			if (n <= 0) {
				eof = true;
				break;
			}
			off += (size_t)n;
		}
	}
	close(p[0]);
	ck_assert_msg(eof, "client did not finish");
	{
		int status;

		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "client failed: %d", WEXITSTATUS(status));
	}
	buf[off] = '\0';
	if (out_len != NULL)
		*out_len = off;
	return buf;
}

static char *
get(const char *req)
{
	return http_in_child("127.0.0.1", AF_INET, req, strlen(req), NULL);
}

static const char *
body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	ck_assert_ptr_nonnull(p);
	return p + 4;
}

START_TEST(test_http_get)
{
	char *t = render(NULL), *r;
	size_t tlen = strlen(t);
	char cl[64];

	r = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 503 ", 13) == 0, "before set: %s", r);
	free(r);

	ck_assert_int_eq(metrics_http_set(&http, t, tlen), 0);
	/* the listener keeps its own copy */
	t[0] = 'X';
	r = get("GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: test\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %.80s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", tlen);
	ck_assert_ptr_nonnull(strstr(r, cl));
	t[0] = '#';
	ck_assert_str_eq(body_of(r), t);
	free(r);

	/* a query string is fine, HTTP/1.0 and bare newlines too */
	r = get("GET /metrics?x=1 HTTP/1.0\n\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "got: %.80s", r);
	free(r);
	r = get("HEAD /metrics HTTP/1.1\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "got: %.80s", r);
	ck_assert_str_eq(body_of(r), "");
	free(r);
	ck_assert_uint_eq(http.served, 3);
	free(t);
}
END_TEST

START_TEST(test_http_large_body)
{
	/* bigger than the socket buffers: sent over several POLLOUT rounds */
	size_t len = 3 * 1024 * 1024 / 4, got_len;
	char *t = malloc(len), *r;

	for (size_t i = 0; i < len; i++)
		t[i] = (char)('a' + i % 26);
	ck_assert_int_eq(metrics_http_set(&http, t, len), 0);
	r = http_in_child("127.0.0.1", AF_INET, "GET /metrics HTTP/1.1\r\n\r\n",
	    25, &got_len);
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "got: %.80s", r);
	ck_assert_uint_eq(got_len - (size_t)(body_of(r) - r), len);
	ck_assert_int_eq(memcmp(body_of(r), t, len), 0);
	free(r);
	free(t);
}
END_TEST

START_TEST(test_http_errors)
{
	char *r, *big;
	size_t n = METRICS_HTTP_HEAD_MAX + 1000;

	ck_assert_int_eq(metrics_http_set(&http, "memtuned_ticks_total 1\n", 23), 0);
	r = get("GET / HTTP/1.1\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "got: %s", r);
	ck_assert_ptr_null(strstr(r, "memtuned_ticks_total"));
	free(r);
	r = get("GET /metricsx HTTP/1.1\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "got: %s", r);
	free(r);
	r = get("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 405 ", 13) == 0, "got: %s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	free(r);
	r = get("garbage\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 400 ", 13) == 0, "got: %s", r);
	free(r);
	r = get("GET /metrics SPDY/3\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 400 ", 13) == 0, "got: %s", r);
	free(r);

	/* a head that never ends within the limit */
	big = malloc(n);
	memcpy(big, "GET /metrics HTTP/1.1\r\n", 23);
	/* header lines, single newlines only: the head never completes */
	for (size_t i = 23; i < n; i++)
		big[i] = i % 64 == 63 ? '\n' : 'h';
	r = http_in_child("127.0.0.1", AF_INET, big, n, NULL);
	ck_assert_msg(strncmp(r, "HTTP/1.1 431 ", 13) == 0, "got: %s", r);
	free(r);
	free(big);
	ck_assert_uint_eq(http.served, 0);
	ck_assert_uint_eq(http.refused, 6);
}
END_TEST

/* The request parser alone, on the heads a scraper, a browser, a port
 * scanner or a slow client sends. */
START_TEST(test_http_parse_table)
{
	static const struct {
		const char *head;
		size_t len;		/* 0: strlen(head) */
		int rc;
		int status;
		bool head_only;
	} cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, 0, 200, false },
		{ "GET /metrics HTTP/1.0\n\n", 0, 0, 200, false },
		{ "GET /metrics?name[]=x HTTP/1.1\r\n\r\n", 0, 0, 200, false },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", 0, 0, 200, true },
		{ "HEAD / HTTP/1.1\r\n\r\n", 0, 0, 404, true },
		{ "GET / HTTP/1.1\r\n\r\n", 0, 0, 404, false },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 0, 0, 404, false },
		{ "GET /metric HTTP/1.1\r\n\r\n", 0, 0, 404, false },
		{ "GET /metrics/../metrics HTTP/1.1\r\n\r\n", 0, 0, 404, false },
		{ "POST /metrics HTTP/1.1\r\n\r\n", 0, 0, 405, false },
		{ "get /metrics HTTP/1.1\r\n\r\n", 0, 0, 405, false },
		{ "GETX /metrics HTTP/1.1\r\n\r\n", 0, 0, 405, false },
		{ "GET /metrics SPDY/3\r\n\r\n", 0, 0, 400, false },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", 0, 0, 400, false },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 0, 0, 400, false },
		{ " GET /metrics HTTP/1.1\r\n\r\n", 0, 0, 400, false },
		{ "GET /metrics\r\n\r\n", 0, 0, 400, false },
		{ "garbage\r\n\r\n", 0, 0, 400, false },
		{ "\r\n\r\n", 0, 0, 400, false },
		{ "\n\n", 0, 0, 400, false },
		/* binary junk, a NUL inside the request line */
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", 13, 0, 400,
		  false },
		{ "GET /metrics\0 HTTP/1.1\r\n\r\n", 26, 0, 400, false },
		{ "GET /met\0rics HTTP/1.1\r\n\r\n", 26, 0, 400, false },
		/* partial: no end of the head yet */
		{ "", 0, -EAGAIN, 0, false },
		{ "GET /met", 0, -EAGAIN, 0, false },
		{ "GET /metrics HTTP/1.1", 0, -EAGAIN, 0, false },
		{ "GET /metrics HTTP/1.1\r\n", 0, -EAGAIN, 0, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r", 0, -EAGAIN, 0,
		  false },
		/* only the given bytes count, not what follows them */
		{ "GET /metrics HTTP/1.1\r\n\r\n", 24, -EAGAIN, 0, false },
		/* a request line with a bare CR, no LF: never a head */
		{ "GET /metrics HTTP/1.1\r\r", 0, -EAGAIN, 0, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct metrics_http_req req = { .status = -1, .head_only = true };
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].head);
		/* exactly len bytes on the heap, so ASan sees a read past */
		char *buf = malloc(len + 1);
		int rc;

		ck_assert_ptr_nonnull(buf);
		memcpy(buf, cases[i].head, len);
		rc = metrics_http_parse(buf, len, &req);
		ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d", i, rc);
		if (rc == 0) {
			ck_assert_msg(req.status == cases[i].status,
			    "case %zu: status %d", i, req.status);
			ck_assert_int_eq(req.head_only, cases[i].head_only);
		}
		free(buf);
	}
}
END_TEST

/* The end of the head must come within METRICS_HTTP_HEAD_MAX bytes: an
 * over-long line or head is 431 once that many arrived, and an end past
 * the limit does not count. */
START_TEST(test_http_parse_overlong)
{
	size_t n = METRICS_HTTP_HEAD_MAX + 64;
	char *big = malloc(n);
	struct metrics_http_req req;

	ck_assert_ptr_nonnull(big);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', n - 5);
	ck_assert_int_eq(metrics_http_parse(big, METRICS_HTTP_HEAD_MAX - 1,
	    &req), -EAGAIN);
	ck_assert_int_eq(metrics_http_parse(big, METRICS_HTTP_HEAD_MAX, &req),
	    0);
	ck_assert_int_eq(req.status, 431);
	/* the end just past the limit */
	memcpy(big + METRICS_HTTP_HEAD_MAX - 3, "\r\n\r\n", 4);
	ck_assert_int_eq(metrics_http_parse(big, n, &req), 0);
	ck_assert_int_eq(req.status, 431);
	/* and just within it: a request line of nearly 4 KiB, not ours */
	memcpy(big + METRICS_HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(metrics_http_parse(big, n, &req), 0);
	ck_assert_int_eq(req.status, 400);
	free(big);
}
END_TEST

static int
raw_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)http.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

START_TEST(test_http_slow_clients)
{
	int fds[METRICS_HTTP_MAX_CLIENTS + 3];
	char *r;
	uint64_t before;

	ck_assert_int_eq(metrics_http_set(&http, "memtuned_ticks_total 1\n", 23), 0);
	/* more silent clients than slots: the oldest go */
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = raw_connect();
		evloop_iterate(loop, 10);
	}
	ck_assert_uint_ge(http.dropped, 3);
	r = get("GET /metrics HTTP/1.1\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "got: %s", r);
	free(r);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
	/* a silent client past its deadline is dropped */
	fds[0] = raw_connect();
	evloop_iterate(loop, 10);
	before = http.dropped;
	metrics_http_expire(&http, mt_now_ms() + METRICS_HTTP_DEADLINE_MS + 1);
	ck_assert_uint_gt(http.dropped, before);
	close(fds[0]);
}
END_TEST

START_TEST(test_http_addresses)
{
	struct metrics_http h2;

	ck_assert(metrics_addr_is_loopback("127.0.0.1"));
	ck_assert(metrics_addr_is_loopback("127.9.8.7"));
	ck_assert(metrics_addr_is_loopback("::1"));
	ck_assert(metrics_addr_is_loopback("[::1]"));
	ck_assert(metrics_addr_is_loopback("::ffff:127.0.0.1"));
	ck_assert(!metrics_addr_is_loopback("0.0.0.0"));
	ck_assert(!metrics_addr_is_loopback("::"));
	ck_assert(!metrics_addr_is_loopback("10.1.2.3"));
	ck_assert(!metrics_addr_is_loopback("128.0.0.1"));
	ck_assert(!metrics_addr_is_loopback("::ffff:10.0.0.1"));
	ck_assert(!metrics_addr_is_loopback("localhost"));

	ck_assert_int_eq(metrics_http_open(&h2, loop, "0.0.0.0", 0, 0), -EPERM);
	ck_assert_int_eq(metrics_http_open(&h2, loop, "::", 0, 0), -EPERM);
	ck_assert_int_eq(metrics_http_open(&h2, loop, "192.0.2.1", 0, 0), -EPERM);
	ck_assert_int_eq(metrics_http_open(&h2, loop, "localhost", 0, 0), -EINVAL);
	ck_assert_int_eq(metrics_http_open(&h2, loop, "127.0.0.1", 70000, 0),
	    -EINVAL);
	/* the port is taken */
	ck_assert_int_eq(metrics_http_open(&h2, loop, "127.0.0.1", http.port, 0),
	    -EADDRINUSE);
	/* explicitly allowed */
	ck_assert_int_eq(metrics_http_open(&h2, loop, "0.0.0.0", 0,
	    METRICS_HTTP_ALLOW_REMOTE), 0);
	ck_assert_int_gt(h2.port, 0);
	metrics_http_close(&h2);
}
END_TEST

START_TEST(test_http_ipv6)
{
	struct metrics_http h6;
	struct metrics_http saved;
	char *r;
	int rc = metrics_http_open(&h6, loop, "[::1]", 0, 0);

	if (rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL) {
		fprintf(stderr, "metrics: no IPv6 loopback here, skipped\n");
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(metrics_http_set(&h6, "memtuned_ticks_total 6\n", 23), 0);
	/* the child helper connects to http.port: point it at h6 */
	saved = http;
	http.port = h6.port;
	r = http_in_child("::1", AF_INET6, "GET /metrics HTTP/1.1\r\n\r\n", 25,
	    NULL);
	http.port = saved.port;
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "got: %s", r);
	ck_assert_str_eq(body_of(r), "memtuned_ticks_total 6\n");
	free(r);
	metrics_http_close(&h6);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("render");
	TCase *tf = tcase_create("textfile");
	TCase *th = tcase_create("http");

	tcase_add_checked_fixture(tc, build, unbuild);
	tcase_add_test(tc, test_render_host);
	tcase_add_test(tc, test_render_guests_and_escaping);
	tcase_add_test(tc, test_render_guest_features);
	tcase_add_test(tc, test_render_not_utf8);
	tcase_add_test(tc, test_render_syntax);
	tcase_add_test(tc, test_render_without_snapshot);
	tcase_add_test(tc, test_render_capacity);
	tcase_add_test(tc, test_render_capacity_follows_inputs);
	tcase_add_test(tc, test_render_capacity_numa);
	tcase_add_test(tc, test_render_per_guest_switch);
	tcase_add_test(tc, test_render_plan_out_of_order);
	tcase_add_test(tc, test_count_plan);
	tcase_add_test(tc, test_count_only_applied);
	suite_add_tcase(s, tc);

	tcase_set_timeout(tf, 30);
	tcase_add_test(tf, test_textfile);
	tcase_add_test(tf, test_textfile_never_half_written);
	tcase_add_test(tf, test_http_parse_table);
	tcase_add_test(tf, test_http_parse_overlong);
	suite_add_tcase(s, tf);

	tcase_add_checked_fixture(th, build, unbuild);
	tcase_add_checked_fixture(th, http_setup, http_teardown);
	tcase_set_timeout(th, 20);
	tcase_add_test(th, test_http_get);
	tcase_add_test(th, test_http_large_body);
	tcase_add_test(th, test_http_errors);
	tcase_add_test(th, test_http_slow_clients);
	tcase_add_test(th, test_http_addresses);
	tcase_add_test(th, test_http_ipv6);
	suite_add_tcase(s, th);
	return s;
}
