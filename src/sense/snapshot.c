/* snapshot.c - initialisers for the snapshot structs: every numeric field
 * starts as MT_ABSENT so a collector that fails to fill one cannot pass a
 * silent zero to the policy. */
#include <errno.h>
#include <string.h>

#include "snapshot.h"
#include "util.h"

static void
fill_absent(int64_t *first, size_t count)
{
	for (size_t i = 0; i < count; i++)
		first[i] = MT_ABSENT;
}

#define FILL_STRUCT_ABSENT(s) \
	fill_absent((int64_t *)(void *)&(s), sizeof(s) / sizeof(int64_t))

static void
psi_line_init(struct psi_line *l)
{
	FILL_STRUCT_ABSENT(*l);
}

void
host_snapshot_init(struct host_snapshot *h)
{
	memset(h, 0, sizeof(*h));
	h->time_ms = MT_ABSENT;
	FILL_STRUCT_ABSENT(h->mem);
	FILL_STRUCT_ABSENT(h->vm);
	psi_line_init(&h->psi.some);
	psi_line_init(&h->psi.full);

	/* host_ksm mixes a bool and a string with int64 fields: set by name */
	int64_t *k[] = {
		&h->ksm.run, &h->ksm.pages_to_scan, &h->ksm.sleep_millisecs,
		&h->ksm.pages_shared, &h->ksm.pages_sharing,
		&h->ksm.pages_unshared, &h->ksm.pages_volatile,
		&h->ksm.pages_skipped, &h->ksm.full_scans,
		&h->ksm.general_profit, &h->ksm.ksm_zero_pages,
		&h->ksm.max_page_sharing, &h->ksm.merge_across_nodes,
		&h->ksm.use_zero_pages, &h->ksm.smart_scan,
		&h->ksm.stable_node_chains, &h->ksm.stable_node_dups,
		&h->ksm.advisor_target_scan_time, &h->ksm.advisor_max_cpu,
		&h->ksm.advisor_min_pages_to_scan,
		&h->ksm.advisor_max_pages_to_scan, &h->ksm.page_kib,
		&h->ksm.ksmd_pid, &h->ksm.ksmd_cpu_ms, &h->ksm.ksmd_cpu_pmil,
	};
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		*k[i] = MT_ABSENT;

	int64_t *t[] = {
		&h->thp.khugepaged_pages_to_scan,
		&h->thp.khugepaged_scan_sleep_millisecs,
		&h->thp.khugepaged_alloc_sleep_millisecs,
		&h->thp.khugepaged_defrag, &h->thp.khugepaged_max_ptes_none,
		&h->thp.khugepaged_pages_collapsed,
		&h->thp.khugepaged_full_scans,
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		*t[i] = MT_ABSENT;

	for (int i = 0; i < MT_MAX_NODES; i++) {
		h->numa.node_total_kib[i] = MT_ABSENT;
		h->numa.node_free_kib[i] = MT_ABSENT;
	}
}

int64_t
host_ksm_saved_kib(const struct host_ksm *k)
{
	if (!k->present)
		return MT_ABSENT;
	if (MT_PRESENT(k->general_profit))
		return k->general_profit / 1024;
	if (MT_PRESENT(k->pages_sharing))
		return k->pages_sharing * (MT_PRESENT(k->page_kib) &&
		    k->page_kib > 0 ? k->page_kib : 4);
	return MT_ABSENT;
}

void
guest_snapshot_init(struct guest_snapshot *g)
{
	memset(g, 0, sizeof(*g));
	g->id = -1;
	g->stats = GUEST_STATS_NONE;
	int64_t *f[] = {
		&g->qemu_pid, &g->max_kib, &g->actual_kib, &g->balloon_max_kib,
		&g->unused_kib, &g->available_kib, &g->usable_kib,
		&g->disk_caches_kib, &g->major_fault, &g->minor_fault,
		&g->swap_in_kib, &g->swap_out_kib, &g->rss_kib,
		&g->rss_rate_kib_s, &g->balloon_peak_kib, &g->balloon_rise_kib,
		&g->ksm_merging_kib, &g->qemu_own_kib,
		&g->last_update_s, &g->major_fault_per_s, &g->swap_in_kib_per_s,
		&g->hard_limit_kib, &g->soft_limit_kib, &g->swap_hard_limit_kib,
		&g->own_hard_limit_kib, &g->own_target_kib,
		&g->cg_usage_kib, &g->cg_limit_kib, &g->cg_anon_kib,
		&g->cg_file_kib, &g->cg_active_file_kib,
		&g->cg_inactive_file_kib, &g->cg_working_set_kib,
		&g->cg_low_kib, &g->ts_freepages_delay_ns,
		&g->ts_thrashing_delay_ns, &g->ts_swapin_delay_ns,
		&g->ts_stall_pmy, &g->backing.stats_period_s,
		&g->input.floor_kib, &g->input.ceiling_kib, &g->input.shares,
	};
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		*f[i] = MT_ABSENT;
	psi_line_init(&g->cg_psi_some);
	psi_line_init(&g->cg_psi_full);
	g->backing.has_balloon = true;
}

const char *
guest_stats_state_name(enum guest_stats_state s)
{
	switch (s) {
	case GUEST_STATS_OK:
		return "ok";
	case GUEST_STATS_STALE:
		return "stale";
	case GUEST_STATS_NONE:
		return "none";
	}
	return "?";
}

const char *
guest_input_source_name(enum guest_input_source s)
{
	switch (s) {
	case SRC_DEFAULT:
		return "default";
	case SRC_CONFIG:
		return "config";
	case SRC_METADATA:
		return "metadata";
	case SRC_LIBVIRT:
		return "libvirt";
	}
	return "?";
}

static const char *const metadata_trust_names[] = {
	[METADATA_BOUNDED] = "bounded",
	[METADATA_TRUST] = "trust",
	[METADATA_IGNORE] = "ignore",
};

const char *
metadata_trust_name(enum metadata_trust m)
{
	return (size_t)m < ARRAY_SIZE(metadata_trust_names) ?
	    metadata_trust_names[m] : "?";
}

int
metadata_trust_parse(const char *s, enum metadata_trust *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(metadata_trust_names); i++) {
		if (strcmp(s, metadata_trust_names[i]) == 0) {
			*m = (enum metadata_trust)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
guest_hold_name(enum guest_hold h)
{
	switch (h) {
	case GUEST_HOLD_NONE:
		return "none";
	case GUEST_HOLD_PAUSED:
		return "paused";
	case GUEST_HOLD_RELEASED:
		return "released";
	}
	return "?";
}
