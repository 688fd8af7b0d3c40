/* report.c - see report.h */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "report.h"
#include "version.h"
#include "virt.h"

/* ----------------------------------------------------------- building */

/* Each NUMA node's state as the policy saw it; only on hosts with two or
 * more nodes, where the node rule can differ from the host's state. */
static struct json_object *
nodes_json(const struct policy_plan *p)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < p->nr_nodes; i++) {
		const struct node_plan *np = &p->nodes[i];
		struct json_object *o = json_object_new_object();
		bool present = MT_PRESENT(np->total_kib);

		json_object_object_add(o, "node", json_object_new_int(i));
		add_bool(o, "present", present);
		add_i64(o, "total_kib", np->total_kib);
		add_i64(o, "free_kib", np->free_kib);
		add_i64(o, "avail_kib", np->avail_kib);
		add_i64(o, "reserve_kib", np->reserve_kib);
		add_i64(o, "target_avail_kib", np->target_avail_kib);
		add_i64(o, "ratio_pmy", np->ratio_pmy);
		/* a node without figures has no state: null, not "normal" */
		json_object_object_add(o, "pressure", present ?
		    json_object_new_string(policy_pressure_name(np->pressure)) :
		    NULL);
		add_bool(o, "rule", np->rule);
		json_object_object_add(o, "confined_guests",
		    json_object_new_int(np->nr_confined));
		add_i64(o, "need_kib", np->need_kib);
		add_i64(o, "taken_kib", np->taken_kib);
		add_i64(o, "freed_kib", np->freed_kib);
		add_i64(o, "given_kib", np->given_kib);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *
host_json(const struct engine *e)
{
	const struct host_snapshot *h = &e->snap.host;
	const struct policy_plan *p = &e->plan;
	struct json_object *o = json_object_new_object();
	struct json_object *ksm = json_object_new_object();
	struct json_object *thp = json_object_new_object();

	add_i64(o, "mem_total_kib", h->mem.mem_total_kib);
	add_i64(o, "mem_avail_kib", h->mem.mem_avail_kib);
	add_i64(o, "mem_free_kib", h->mem.mem_free_kib);
	add_i64(o, "swap_total_kib", h->mem.swap_total_kib);
	add_i64(o, "swap_free_kib", h->mem.swap_free_kib);
	add_bool(o, "psi_present", h->psi.present);
	add_i64(o, "psi_some_avg10_pmy", h->psi.present ? h->psi.some.avg10_pmy :
	    MT_ABSENT);
	add_i64(o, "psi_full_avg10_pmy", h->psi.present ? h->psi.full.avg10_pmy :
	    MT_ABSENT);
	add_i64(o, "pgmajfault_per_s", h->vm.pgmajfault_per_s);
	add_i64(o, "refault_per_s", h->vm.refault_per_s);
	if (e->have_plan || e->plan_ms > 0) {
		add_str(o, "pressure", policy_pressure_name(p->pressure));
		add_str(o, "pressure_reason", p->pressure_reason);
		add_str(o, "pressure_reason_code",
		    policy_host_why_name(p->pressure_reason_code));
		add_i64(o, "reserve_kib", p->reserve_kib);
		add_i64(o, "target_avail_kib", p->target_avail_kib);
		add_i64(o, "need_kib", p->need_kib);
		add_i64(o, "short_kib", p->short_kib);
		add_i64(o, "taken_kib", p->taken_kib);
		add_i64(o, "given_kib", p->given_kib);
		add_i64(o, "next_interval_ms", p->next_interval_ms);
		if (p->nr_nodes >= 2)
			json_object_object_add(o, "nodes", nodes_json(p));
	}

	add_bool(ksm, "present", h->ksm.present);
	add_i64(ksm, "run", h->ksm.run);
	add_i64(ksm, "pages_to_scan", h->ksm.pages_to_scan);
	add_i64(ksm, "sleep_millisecs", h->ksm.sleep_millisecs);
	add_i64(ksm, "pages_shared", h->ksm.pages_shared);
	add_i64(ksm, "pages_sharing", h->ksm.pages_sharing);
	add_i64(ksm, "general_profit", h->ksm.general_profit);
	add_i64(ksm, "saved_kib", host_ksm_saved_kib(&h->ksm));
	add_i64(ksm, "ksmd_cpu_pmil", h->ksm.ksmd_cpu_pmil);
	add_str(ksm, "advisor_mode", h->ksm.advisor_mode);
	if (e->plan_ms > 0) {
		add_bool(ksm, "change", p->ksm.change);
		add_i64(ksm, "plan_run", p->ksm.run);
		add_i64(ksm, "plan_pages_to_scan", p->ksm.pages_to_scan);
		add_i64(ksm, "plan_sleep_millisecs", p->ksm.sleep_millisecs);
		add_str(ksm, "plan_advisor_mode", p->ksm.advisor_mode);
		add_bool(ksm, "backoff", p->ksm.backoff);
		add_str(ksm, "reason", p->ksm.reason);
		add_str(ksm, "reason_code",
		    policy_ksm_why_name(p->ksm.reason_code));
	}
	json_object_object_add(o, "ksm", ksm);

	add_bool(thp, "present", h->thp.present);
	add_str(thp, "enabled", h->thp.enabled);
	add_str(thp, "defrag", h->thp.defrag);
	add_i64(thp, "khugepaged_pages_to_scan", h->thp.khugepaged_pages_to_scan);
	add_i64(thp, "khugepaged_scan_sleep_millisecs",
	    h->thp.khugepaged_scan_sleep_millisecs);
	add_i64(thp, "anon_huge_kib", h->mem.anon_huge_kib);
	if (e->plan_ms > 0) {
		add_bool(thp, "change", p->thp.change);
		add_str(thp, "plan_defrag", p->thp.defrag);
		add_i64(thp, "plan_khugepaged_scan_sleep_millisecs",
		    p->thp.khugepaged_scan_sleep_millisecs);
		add_i64(thp, "plan_khugepaged_pages_to_scan",
		    p->thp.khugepaged_pages_to_scan);
		add_i64(thp, "plan_khugepaged_max_ptes_none",
		    p->thp.khugepaged_max_ptes_none);
		add_str(thp, "reason", p->thp.reason);
		add_str(thp, "reason_code",
		    policy_thp_why_name(p->thp.reason_code));
	}
	json_object_object_add(o, "thp", thp);
	return o;
}

/* The nodes a guest's <numatune> names, and for a confined guest on a
 * host with two or more nodes the one the policy counts it on (the best
 * of its set; none when the set covers every node). */
static void
guest_numa_json(struct json_object *o, const struct guest_snapshot *g,
    const struct policy_plan *p)
{
	struct json_object *set = json_object_new_array();
	int home = -1;

	for (int i = 0; i < MT_MAX_NODES; i++)
		if (g->backing.numa_nodes & (UINT64_C(1) << i))
			json_object_array_add(set, json_object_new_int(i));
	add_bool(o, "numa_confined", g->backing.numa_confined);
	json_object_object_add(o, "numa_nodes", set);
	if (p != NULL && p->nr_nodes >= 2 && g->backing.numa_confined)
		home = policy_home_node(p, g->backing.numa_nodes);
	json_object_object_add(o, "numa_node", home >= 0 ?
	    json_object_new_int(home) : NULL);
}

/* Where each bound came from, as the policy used it (after [daemon]
 * metadata) when there is a plan, and what metadata asked for that it did
 * not get. */
static void
guest_input_json(struct json_object *o, const struct guest_snapshot *g,
    const struct guest_plan *gp)
{
	const struct guest_input *in = gp != NULL ? &gp->input : &g->input;
	const struct policy_metadata_cap *cap;
	struct json_object *c;

	add_i64(o, "shares", in->shares);
	add_str(o, "floor_src", guest_input_source_name(in->floor_src));
	add_str(o, "ceiling_src", guest_input_source_name(in->ceiling_src));
	add_str(o, "shares_src", guest_input_source_name(in->shares_src));
	add_bool(o, "exclude", in->exclude);
	add_str(o, "exclude_src", guest_input_source_name(in->exclude_src));
	if (gp == NULL)
		return;
	cap = &gp->meta_cap;
	if (!MT_PRESENT(cap->floor_kib) && !MT_PRESENT(cap->ceiling_kib) &&
	    !MT_PRESENT(cap->shares) && !cap->exclude && !cap->low_refused)
		return;
	c = json_object_new_object();
	if (MT_PRESENT(cap->floor_kib))
		add_i64(c, "floor_kib", cap->floor_kib);
	if (MT_PRESENT(cap->ceiling_kib))
		add_i64(c, "ceiling_kib", cap->ceiling_kib);
	if (MT_PRESENT(cap->shares))
		add_i64(c, "shares", cap->shares);
	add_bool(c, "exclude", cap->exclude);
	add_bool(c, "memory_low", cap->low_refused);
	json_object_object_add(o, "metadata_capped", c);
}

/* The balloon's features and the virtio-mem devices, as the domain's
 * XML says (docs/guests.md): under "backing". */
static void
guest_features_json(struct json_object *b, const struct guest_backing *bk)
{
	const struct guest_vmem *vm = &bk->vmem;
	struct json_object *v = json_object_new_object();
	struct json_object *devs = json_object_new_array();

	add_bool(b, "free_page_reporting", bk->free_page_reporting);
	add_bool(b, "autodeflate", bk->autodeflate);
	json_object_object_add(v, "count", json_object_new_int(vm->count));
	add_i64(v, "size_kib", vm->size_kib);
	add_i64(v, "requested_kib", vm->requested_kib);
	add_i64(v, "current_kib", vm->current_kib);
	add_i64(v, "block_kib", vm->block_kib);
	for (int i = 0; i < vm->count && i < MT_VMEM_MAX; i++) {
		const struct vmem_dev *d = &vm->dev[i];
		struct json_object *o = json_object_new_object();

		add_str(o, "alias", d->alias);
		add_str(o, "address", d->addr);
		json_object_object_add(o, "node", d->node >= 0 ?
		    json_object_new_int(d->node) : NULL);
		add_i64(o, "size_kib", d->size_kib);
		add_i64(o, "block_kib", d->block_kib);
		add_i64(o, "requested_kib", d->requested_kib);
		add_i64(o, "current_kib", d->current_kib);
		json_object_array_add(devs, o);
	}
	json_object_object_add(v, "devices", devs);
	json_object_object_add(b, "virtio_mem", v);
}

static struct json_object *
guest_json(const struct guest_snapshot *g, const struct guest_plan *gp,
    const struct policy_plan *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *b = json_object_new_object();

	add_str(o, "name", g->name);
	add_str(o, "uuid", g->uuid);
	/* virsh's Id: a third way to name a running guest */
	add_i64(o, "id", g->id >= 0 ? g->id : MT_ABSENT);
	add_i64(o, "max_kib", g->max_kib);
	add_i64(o, "actual_kib", g->actual_kib);
	add_i64(o, "usable_kib", g->usable_kib);
	add_i64(o, "available_kib", g->available_kib);
	add_i64(o, "unused_kib", g->unused_kib);
	add_i64(o, "disk_caches_kib", g->disk_caches_kib);
	add_i64(o, "rss_kib", g->rss_kib);
	add_i64(o, "qemu_own_kib", g->qemu_own_kib);
	add_i64(o, "major_fault_per_s", g->major_fault_per_s);
	add_i64(o, "swap_in_kib_per_s", g->swap_in_kib_per_s);
	add_str(o, "stats", guest_stats_state_name(g->stats));
	add_i64(o, "hard_limit_kib", g->hard_limit_kib);
	add_i64(o, "soft_limit_kib", g->soft_limit_kib);
	add_i64(o, "swap_hard_limit_kib", g->swap_hard_limit_kib);
	add_i64(o, "cg_working_set_kib", g->cg_working_set_kib);
	add_i64(o, "ts_stall_pmy", g->ts_stall_pmy);
	guest_input_json(o, g, gp);
	add_bool(b, "hugepages", g->backing.hugepages);
	add_bool(b, "locked", g->backing.locked);
	add_bool(b, "nosharepages", g->backing.nosharepages);
	add_bool(b, "balloon", g->backing.has_balloon);
	guest_features_json(b, &g->backing);
	json_object_object_add(o, "backing", b);
	guest_numa_json(o, g, gp != NULL ? p : NULL);
	if (gp != NULL) {
		add_str(o, "state", policy_guest_state_name(gp->state));
		add_str(o, "action", policy_action_name(gp->action));
		add_i64(o, "floor_kib", gp->floor_kib);
		add_i64(o, "ceiling_kib", gp->ceiling_kib);
		add_i64(o, "need_kib", gp->need_kib);
		add_i64(o, "headroom_kib", gp->headroom_kib);
		add_bool(o, "pressured", gp->pressured);
		add_i64(o, "burst_kib", gp->burst_kib);
		add_i64(o, "deflated_kib", gp->deflated_kib);
		add_i64(o, "rss_rate_kib_s", gp->rss_rate_kib_s);
		add_i64(o, "unseen_kib", gp->unseen_kib);
		add_i64(o, "burst_demand_kib", gp->burst_demand_kib);
		add_bool(o, "bursting", gp->bursting);
		add_i64(o, "gain_kib", gp->gain_kib);
		add_i64(o, "ballooned_kib", gp->ballooned_kib);
		add_i64(o, "returned_kib", gp->returned_kib);
		add_i64(o, "unresident_kib", gp->unresident_kib);
		add_i64(o, "yield_pmy", gp->yield_pmy);
		add_i64(o, "target_kib", gp->target_kib);
		/* the mechanism that moves the guest: virtio-mem blocks
		 * (with the balloon for what blocks cannot) or the balloon
		 * alone; the same whether it moved this tick or not */
		add_str(o, "move_by", gp->by_vmem ? "virtio-mem" : "balloon");
		add_i64(o, "vmem_moved_kib", gp->vmem_moved_kib);
		add_i64(o, "plan_soft_limit_kib", gp->soft_limit_kib);
		add_i64(o, "plan_hard_limit_kib", gp->hard_limit_kib);
		add_i64(o, "plan_swap_hard_limit_kib", gp->swap_hard_limit_kib);
		add_i64(o, "plan_memory_low_kib", gp->memory_low_kib);
		add_str(o, "reason", gp->reason);
		add_str(o, "reason_code", policy_guest_why_name(gp->reason_code));
	}
	return o;
}

/* A domain the collector left out (guests.h): no figures, only why. */
static struct json_object *
skipped_json(const struct guest_skip *k)
{
	struct json_object *o = json_object_new_object();
	char st[96];

	virt_state_text(k->state, k->state_reason, st, sizeof(st));
	add_str(o, "name", k->name);
	add_str(o, "uuid", k->uuid);
	add_i64(o, "id", k->id >= 0 ? k->id : MT_ABSENT);
	add_str(o, "state", "skipped");
	add_str(o, "action", "none");
	add_str(o, "domain_state", st);
	add_str(o, "reason", k->why);
	/* not the policy's: the collector left it out before the policy
	 * saw it (docs/policy.md lists these two with the policy's keys) */
	add_str(o, "reason_code", k->call_stuck ? "libvirt_call_stuck" :
	    "domain_not_running");
	return o;
}

static void
metadata_json(struct json_object *o, const struct policy_config *c)
{
	struct json_object *m = json_object_new_object();

	add_str(m, "mode", metadata_trust_name(c->metadata_mode));
	add_i64(m, "floor_max_pmy", c->metadata_floor_max_pmy);
	add_i64(m, "shares_max", c->metadata_shares_max);
	add_bool(m, "exclude", c->metadata_exclude);
	json_object_object_add(o, "metadata", m);
}

struct json_object *
report_status_json(const struct engine *e, const char *source)
{
	struct json_object *o = json_object_new_object();
	struct json_object *guests = json_object_new_array();
	int64_t ballooned = 0, returned = 0;

	json_object_object_add(o, "schema", json_object_new_int(MT_JSON_SCHEMA));
	add_bool(o, "ok", true);
	add_str(o, "version", MEMTUNED_VERSION);
	add_str(o, "source", source);
	json_object_object_add(o, "time", json_object_new_int64(time(NULL)));
	add_str(o, "uri", e->cfg.uri);
	add_bool(o, "connected", e->conn != NULL);
	add_bool(o, "dry_run", e->cfg.dry_run);
	add_bool(o, "have_snapshot", e->have_snap || e->snap_ms > 0);
	/* memtunectl pause or release of the whole host (guests held one by
	 * one show it in their state) */
	add_str(o, "host_hold", guest_hold_name(e->host_hold));
	json_object_object_add(o, "ticks", json_object_new_int64(
	    (int64_t)e->ticks));
	if (e->last_error[0] != '\0')
		add_str(o, "last_error", e->last_error);
	metadata_json(o, &e->cfg.policy);
	if (e->snap_ms > 0)
		json_object_object_add(o, "host", host_json(e));
	for (size_t i = 0; e->snap_ms > 0 && i < e->snap.nr_guests; i++) {
		const struct guest_snapshot *g = &e->snap.guests[i];
		const struct guest_plan *gp = NULL;

		if (e->plan_ms > 0 && i < e->plan.nr_guests &&
		    strcmp(e->plan.guests[i].uuid, g->uuid) == 0) {
			gp = &e->plan.guests[i];
			ballooned += gp->ballooned_kib;
			returned += gp->returned_kib;
		}
		json_object_array_add(guests, guest_json(g, gp, &e->plan));
	}
	/* what ballooning bought the host: the RSS that went with the
	 * balloons of the guests running now, over the balloon they moved */
	if (e->snap_ms > 0 && e->plan_ms > 0) {
		struct json_object *h = json_object_object_get(o, "host");

		add_i64(h, "balloon_ballooned_kib", ballooned);
		add_i64(h, "balloon_returned_kib", returned);
		add_i64(h, "balloon_yield_pmy", ballooned > 0 ?
		    returned * 10000 / ballooned : MT_ABSENT);
	}
	for (size_t i = 0; e->snap_ms > 0 && e->gc_ready &&
	    i < e->gc.nr_skipped; i++)
		json_object_array_add(guests, skipped_json(&e->gc.skipped[i]));
	json_object_object_add(o, "guests", guests);
	return o;
}

/* ---------------------------------------------------------- rendering */

static void
escape_json_string(struct json_object *s)
{
	const char *raw = json_object_get_string(s);
	size_t len = (size_t)json_object_get_string_len(s);
	size_t need = mt_escape_mem(NULL, 0, raw, len);
	char small[256], *buf = small;

	/* escaping only ever lengthens: the same length is the same text */
	if (need == len)
		return;
	if (need >= sizeof(small) && (buf = malloc(need + 1)) == NULL) {
		/* never show the raw text, even out of memory */
		json_object_set_string(s, "?");
		return;
	}
	mt_escape_mem(buf, need + 1, raw, len);
	json_object_set_string_len(s, buf, (int)need);
	if (buf != small)
		free(buf);
}

void
report_escape_json(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		escape_json_string(o);
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			report_escape_json(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			report_escape_json(val);
		}
		break;
	}
	default:
		break;
	}
}

void
report_fmt_kib(char *buf, size_t len, int64_t kib)
{
	if (!MT_PRESENT(kib))
		snprintf(buf, len, "-");
	else if (kib >= 10LL * 1024 * 1024 || kib <= -10LL * 1024 * 1024)
		snprintf(buf, len, "%.1fG", (double)kib / (1024.0 * 1024.0));
	else
		snprintf(buf, len, "%lldM", (long long)(kib / 1024));
}

static void
fmt_pmy(char *buf, size_t len, int64_t pmy)
{
	if (!MT_PRESENT(pmy))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld.%02lld%%", (long long)(pmy / 100),
		    (long long)(pmy % 100));
}

/* "available 400M of 16.0G, reserve 512M, state tight": one node's
 * figures, as the status table, the plan and explain print them. */
static void
fmt_node(char *buf, size_t len, struct json_object *n)
{
	char a[32], t[32], r[32];

	if (!MT_PRESENT(get_i64(n, "total_kib"))) {
		snprintf(buf, len, "no figures (its meminfo was not read)");
		return;
	}
	report_fmt_kib(a, sizeof(a), get_i64(n, "avail_kib"));
	report_fmt_kib(t, sizeof(t), get_i64(n, "total_kib"));
	report_fmt_kib(r, sizeof(r), get_i64(n, "reserve_kib"));
	snprintf(buf, len, "available %s of %s, reserve %s, state %s", a, t,
	    r, get_str(n, "pressure", "-"));
}

static struct json_object *
find_node(struct json_object *host, int64_t id)
{
	struct json_object *nodes;

	if (host == NULL || !MT_PRESENT(id) ||
	    !json_object_object_get_ex(host, "nodes", &nodes) ||
	    !json_object_is_type(nodes, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);

		if (get_i64(n, "node") == id)
			return n;
	}
	return NULL;
}

/* One line per NUMA node under the host line; nothing on a host with
 * one node, whose status carries no "nodes". */
static void
print_nodes(FILE *out, struct json_object *host)
{
	struct json_object *nodes;
	char fig[128], a[32], b[32];

	if (host == NULL || !json_object_object_get_ex(host, "nodes", &nodes) ||
	    !json_object_is_type(nodes, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);
		int64_t nc = get_i64(n, "confined_guests");

		fmt_node(fig, sizeof(fig), n);
		fprintf(out, "node %lld: %s", (long long)get_i64(n, "node"), fig);
		if (!get_bool(n, "rule")) {
			if (MT_PRESENT(nc) && nc > 0)
				fprintf(out, ", %lld confined guest%s",
				    (long long)nc, nc == 1 ? "" : "s");
			fputc('\n', out);
			continue;
		}
		if (!MT_PRESENT(nc) || nc == 0) {
			fprintf(out, "; node rule: no guest confined to it\n");
			continue;
		}
		report_fmt_kib(a, sizeof(a), get_i64(n, "taken_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(n, "given_kib"));
		fprintf(out, "; node rule: %lld confined guest%s give %s, "
		    "not grown", (long long)nc, nc == 1 ? "" : "s", a);
		if (get_i64(n, "given_kib") > 0)
			fprintf(out, " (%s fed to those under pressure)", b);
		fputc('\n', out);
	}
}

/* One unit of escaped text (mt_escape's output) at s: its bytes, and the
 * columns it takes in *cols. An escape ("\\xNN", "\\\\") is one unit, as
 * is a UTF-8 character, counted as one column (a wide one takes two on
 * the terminal: the table is off by one there, never cut wrong). */
static size_t
fit_unit(const char *s, int *cols)
{
	unsigned char c = (unsigned char)s[0];
	size_t n;

	if (c == '\\') {
		n = s[1] == 'x' && s[2] != '\0' && s[3] != '\0' ? 4 : 2;
		*cols = (int)n;
		return n;
	}
	n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '\0')
			n = i;
	*cols = 1;
	return n;
}

void
report_fit_name(char *dst, size_t len, const char *esc, int width)
{
	static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 */
	size_t used, n, cut = 0;
	int c, total = 0, kept = 0;

	/* the prefix of whole units in width - 1 columns (once one does not
	 * fit, none after it does), and the total */
	for (const char *p = esc; *p != '\0'; p += n) {
		n = fit_unit(p, &c);
		if (total + c <= width - 1) {
			cut += n;
			kept += c;
		}
		total += c;
	}
	if (total <= width) {
		cut = strlen(esc);
		kept = total;
	}
	/* a caller's buffer too small for what fits: blank, never a part */
	if (cut + sizeof(ellipsis) > len)
		cut = kept = 0;
	memcpy(dst, esc, cut);
	used = cut;
	if (total > width && used + sizeof(ellipsis) <= len) {
		memcpy(dst + used, ellipsis, sizeof(ellipsis) - 1);
		used += sizeof(ellipsis) - 1;
		kept++;
	}
	for (; kept < width && used + 1 < len; kept++)
		dst[used++] = ' ';
	dst[used] = '\0';
}

void
report_print_status(FILE *out, struct json_object *st)
{
	struct json_object *host, *ksm = NULL, *thp = NULL, *guests;
	char a[32], b[32], c[32], d[32], f[32], u[32];
	/* a 4-byte character or escape per column, the ellipsis, the NUL */
	char name[REPORT_NAME_COLS * 4 + 4];

	report_escape_json(st);
	fprintf(out, "memtuned %s (%s) on %s%s%s\n",
	    get_str(st, "version", "?"), get_str(st, "source", "?"),
	    get_str(st, "uri", "?"),
	    get_bool(st, "connected") ? "" : " [not connected]",
	    get_bool(st, "dry_run") ? " [dry-run]" : "");
	if (strcmp(get_str(st, "host_hold", "none"), "none") != 0)
		fprintf(out, "host %s by memtunectl: no guest, KSM or THP "
		    "change until memtunectl resume or a restart\n",
		    get_str(st, "host_hold", "?"));
	if (json_object_object_get_ex(st, "last_error", NULL))
		fprintf(out, "last problem: %s\n", get_str(st, "last_error", ""));
	if (json_object_object_get_ex(st, "host", &host)) {
		json_object_object_get_ex(host, "ksm", &ksm);
		json_object_object_get_ex(host, "thp", &thp);
		report_fmt_kib(a, sizeof(a), get_i64(host, "mem_avail_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(host, "mem_total_kib"));
		report_fmt_kib(c, sizeof(c), get_i64(host, "target_avail_kib"));
		fmt_pmy(d, sizeof(d), get_i64(host, "psi_some_avg10_pmy"));
		fprintf(out, "host: available %s of %s, target %s, PSI some %s, "
		    "state %s\n", a, b, c, d, get_str(host, "pressure", "-"));
		print_nodes(out, host);
		if (ksm != NULL && get_bool(ksm, "present")) {
			report_fmt_kib(a, sizeof(a), get_i64(ksm, "saved_kib"));
			fprintf(out, "ksm: run=%lld saved %s, pages_sharing %lld, "
			    "pages_to_scan %lld, ksmd %lld.%lld%% CPU\n",
			    (long long)get_i64(ksm, "run"), a,
			    (long long)get_i64(ksm, "pages_sharing"),
			    (long long)get_i64(ksm, "pages_to_scan"),
			    (long long)(MT_PRESENT(get_i64(ksm, "ksmd_cpu_pmil")) ?
			    get_i64(ksm, "ksmd_cpu_pmil") / 10 : 0),
			    (long long)(MT_PRESENT(get_i64(ksm, "ksmd_cpu_pmil")) ?
			    get_i64(ksm, "ksmd_cpu_pmil") % 10 : 0));
		}
		if (thp != NULL && get_bool(thp, "present")) {
			report_fmt_kib(a, sizeof(a), get_i64(thp, "anon_huge_kib"));
			fprintf(out, "thp: enabled=%s defrag=%s, anon huge %s\n",
			    get_str(thp, "enabled", "-"),
			    get_str(thp, "defrag", "-"), a);
		}
	}
	fprintf(out, "\n%-*s %8s %8s %8s %8s %8s %-13s %s\n",
	    REPORT_NAME_COLS, "GUEST", "ACTUAL",
	    "TARGET", "FLOOR", "CEILING", "USABLE", "STATE", "REASON");
	if (!json_object_object_get_ex(st, "guests", &guests))
		return;
	for (size_t i = 0; i < json_object_array_length(guests); i++) {
		struct json_object *g = json_object_array_get_idx(guests, i);

		report_fmt_kib(a, sizeof(a), get_i64(g, "actual_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(g, "target_kib"));
		report_fmt_kib(f, sizeof(f), get_i64(g, "floor_kib"));
		report_fmt_kib(c, sizeof(c), get_i64(g, "ceiling_kib"));
		report_fmt_kib(u, sizeof(u), get_i64(g, "usable_kib"));
		report_fit_name(name, sizeof(name), get_str(g, "name", "?"),
		    REPORT_NAME_COLS);
		fprintf(out, "%s %8s %8s %8s %8s %8s %-13s %s\n",
		    name, a, b, f, c, u,
		    get_str(g, "state", get_str(g, "stats", "-")),
		    get_str(g, "reason", ""));
	}
}

/* virsh's order (virshLookupDomainBy): a number is tried as an ID first,
 * 36 characters as a UUID next, and only then is the text a name; so a
 * guest named "3" is reached by its UUID while another has ID 3. */
static bool
guest_is(struct json_object *g, int by, const char *key, int64_t id)
{
	switch (by) {
	case 0:
		return get_i64(g, "id") == id;
	case 1:
		return strcasecmp(get_str(g, "uuid", ""), key) == 0;
	default:
		return strcmp(get_str(g, "name", ""), key) == 0;
	}
}

struct json_object *
report_find_guest(struct json_object *st, const char *key)
{
	struct json_object *guests;
	int64_t id = MT_ABSENT;

	if (!json_object_object_get_ex(st, "guests", &guests) ||
	    !json_object_is_type(guests, json_type_array))
		return NULL;
	/* digits only, as virStrToLong_i takes them for an ID */
	if (key[0] == '\0' || key[strspn(key, "0123456789")] != '\0' ||
	    mt_parse_int64(key, &id) < 0 || id > INT32_MAX)
		id = MT_ABSENT;
	for (int by = 0; by < 3; by++) {
		if ((by == 0 && !MT_PRESENT(id)) ||
		    (by == 1 && strlen(key) != MT_UUID_LEN - 1))
			continue;
		for (size_t i = 0; i < json_object_array_length(guests); i++) {
			struct json_object *g = json_object_array_get_idx(guests,
			    i);

			if (guest_is(g, by, key, id))
				return g;
		}
	}
	return NULL;
}

/* "0,2": a node set for people. */
static void
fmt_nodeset(char *buf, size_t len, struct json_object *set)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(set) && used < len;
	    i++) {
		int n = snprintf(buf + used, len - used, "%s%d", i > 0 ? "," : "",
		    json_object_get_int(json_object_array_get_idx(set, i)));

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Where a confined guest's memory comes from and how that node stands;
 * nothing for a guest its <numatune> does not confine. */
static void
print_guest_numa(FILE *out, struct json_object *g, struct json_object *host)
{
	struct json_object *set, *node, *nodes;
	char ns[MT_MAX_NODES * 3 + 1], fig[128];
	int64_t home = get_i64(g, "numa_node");
	size_t nr;

	if (!get_bool(g, "numa_confined") ||
	    !json_object_object_get_ex(g, "numa_nodes", &set) ||
	    !json_object_is_type(set, json_type_array))
		return;
	nr = json_object_array_length(set);
	fmt_nodeset(ns, sizeof(ns), set);
	fprintf(out, "  numa:     confined to node%s %s", nr == 1 ? "" : "s", ns);
	if ((node = find_node(host, home)) != NULL) {
		fmt_node(fig, sizeof(fig), node);
		if (nr > 1)
			fprintf(out, ", draws on node %lld", (long long)home);
		fprintf(out, ": %s", fig);
		if (get_bool(node, "rule"))
			fprintf(out, "; under the node rule: its confined "
			    "guests give and do not grow");
	} else if (host == NULL ||
	    !json_object_object_get_ex(host, "nodes", &nodes))
		fprintf(out, "; the host has one node (or no plan yet): the "
		    "host's state is the node's");
	else
		fprintf(out, ": every node of the host or none it has, so "
		    "as good as unbound");
	fputc('\n', out);
}

/* What [daemon] metadata did not let a guest's metadata claim, one line
 * each, with the memtuned.conf key that decided it. */
static void
print_metadata_caps(FILE *out, struct json_object *st, struct json_object *g)
{
	struct json_object *cap, *m = NULL;
	char a[32], b[32];
	int64_t v;

	if (!json_object_object_get_ex(g, "metadata_capped", &cap))
		return;
	json_object_object_get_ex(st, "metadata", &m);
	if (MT_PRESENT(v = get_i64(cap, "floor_kib"))) {
		int64_t pmy = m != NULL ? get_i64(m, "floor_max_pmy") :
		    MT_ABSENT;

		report_fmt_kib(a, sizeof(a), v);
		report_fmt_kib(b, sizeof(b), get_i64(g, "floor_kib"));
		fprintf(out, "  trust:    floor %s from metadata capped to %s "
		    "(metadata_floor_max %lld%%)\n", a, b,
		    MT_PRESENT(pmy) ? (long long)pmy / 100 : -1LL);
	}
	if (MT_PRESENT(v = get_i64(cap, "ceiling_kib"))) {
		report_fmt_kib(a, sizeof(a), v);
		report_fmt_kib(b, sizeof(b), get_i64(g, "ceiling_kib"));
		fprintf(out, "  trust:    ceiling %s from metadata is below "
		    "the floor: raised to %s (metadata = bounded)\n", a, b);
	}
	if (MT_PRESENT(v = get_i64(cap, "shares")))
		fprintf(out, "  trust:    shares %lld from metadata capped to "
		    "%lld (metadata_shares_max)\n", (long long)v,
		    (long long)get_i64(g, "shares"));
	if (get_bool(cap, "exclude"))
		fprintf(out, "  trust:    exclude from metadata not honoured "
		    "(metadata_exclude = no)\n");
	if (get_bool(cap, "memory_low"))
		fprintf(out, "  trust:    memory.low follows the default "
		    "floor, not the floor from metadata (metadata = "
		    "bounded)\n");
}

/* explain's line on the balloon's features and the virtio-mem devices;
 * none when the domain has neither. */
static void
print_features(FILE *out, struct json_object *backing)
{
	struct json_object *v = NULL;
	bool fpr = get_bool(backing, "free_page_reporting");
	bool defl = get_bool(backing, "autodeflate");
	int64_t n = 0;
	char a[32], b[32], c[32], d[32];

	if (json_object_object_get_ex(backing, "virtio_mem", &v))
		n = get_i64(v, "count");
	if (!fpr && !defl && n <= 0)
		return;
	fprintf(out, "  features: free page reporting %s, deflate on OOM %s",
	    fpr ? "on" : "off", defl ? "on" : "off");
	if (n > 0) {
		report_fmt_kib(a, sizeof(a), get_i64(v, "current_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(v, "requested_kib"));
		report_fmt_kib(c, sizeof(c), get_i64(v, "size_kib"));
		report_fmt_kib(d, sizeof(d), get_i64(v, "block_kib"));
		fprintf(out, "; virtio-mem: %lld device%s, %s plugged, %s "
		    "requested, of %s (blocks of %s)", (long long)n,
		    n == 1 ? "" : "s", a, b, c, d);
	}
	fputc('\n', out);
}

static size_t
advise(struct report_advice *out, size_t n, size_t max, const char *code,
    const char *why, const char *xml)
{
	if (n < max)
		out[n] = (struct report_advice){ code, why, xml };
	return n + 1;
}

size_t
report_advice(struct json_object *g, struct report_advice *out, size_t max)
{
	struct json_object *bk;
	size_t n = 0;

	if (!json_object_object_get_ex(g, "backing", &bk) ||
	    get_bool(bk, "hugepages") || get_bool(bk, "locked"))
		return 0;
	if (!get_bool(bk, "balloon"))
		return advise(out, n, max, "balloon", "no balloon device: "
		    "memtuned can only hold its size", "<memballoon "
		    "model='virtio' freePageReporting='on' autodeflate='on'>"
		    "<stats period='5'/></memballoon>");
	if (strcmp(get_str(g, "stats", ""), "none") == 0)
		n = advise(out, n, max, "balloon_stats", "no balloon "
		    "statistics, so it is never counted as idle: a Linux "
		    "guest needs its virtio_balloon driver, a Windows guest "
		    "the virtio-win Balloon service (blnsvr)",
		    "<stats period='5'/> in <memballoon>");
	if (!get_bool(bk, "free_page_reporting"))
		n = advise(out, n, max, "free_page_reporting", "free page "
		    "reporting would hand the host the memory it frees, "
		    "without a balloon move (guest Linux 5.7 or later, "
		    "libvirt 6.9, QEMU 5.1)", "freePageReporting='on' on "
		    "<memballoon>");
	if (!get_bool(bk, "autodeflate"))
		n = advise(out, n, max, "autodeflate", "deflate on OOM would "
		    "let it take balloon pages back before its OOM killer "
		    "fires, in a burst memtuned had no time to answer",
		    "autodeflate='on' on <memballoon>");
	return MIN(n, max);
}

static void
print_advice(FILE *out, struct json_object *g)
{
	struct report_advice a[REPORT_ADVICE_MAX];
	size_t n = report_advice(g, a, REPORT_ADVICE_MAX);

	for (size_t i = 0; i < n; i++)
		fprintf(out, "  advice:   %s: add %s\n", a[i].why, a[i].xml);
}

/* explain's "inside:" line: the guest's own view, and what its QEMU
 * process holds on the host (QEMU's own part of it when measured). */
static void
explain_inside(FILE *out, struct json_object *g)
{
	char a[32], b[32], c[32];

	report_fmt_kib(a, sizeof(a), get_i64(g, "usable_kib"));
	report_fmt_kib(b, sizeof(b), get_i64(g, "disk_caches_kib"));
	report_fmt_kib(c, sizeof(c), get_i64(g, "rss_kib"));
	fprintf(out, "  inside:   usable %s, disk caches %s (stats %s); on "
	    "the host the QEMU process holds %s", a, b,
	    get_str(g, "stats", "-"), c);
	if (MT_PRESENT(get_i64(g, "qemu_own_kib"))) {
		report_fmt_kib(a, sizeof(a), get_i64(g, "qemu_own_kib"));
		fprintf(out, ", %s of it QEMU's own", a);
	}
	fputc('\n', out);
}

/* The lines of explain under its first: the figures, bounds and their
 * sources, the decision and why. As st holds them: escaped for a
 * terminal, raw for JSON. */
static void
explain_body(FILE *out, struct json_object *st, struct json_object *g)
{
	struct json_object *host, *backing;
	char a[32], b[32], c[32];

	report_fmt_kib(a, sizeof(a), get_i64(g, "actual_kib"));
	report_fmt_kib(b, sizeof(b), get_i64(g, "max_kib"));
	fprintf(out, "  balloon:  actual %s of max %s\n", a, b);
	explain_inside(out, g);
	report_fmt_kib(a, sizeof(a), get_i64(g, "floor_kib"));
	report_fmt_kib(b, sizeof(b), get_i64(g, "ceiling_kib"));
	fprintf(out, "  bounds:   floor %s (from %s), ceiling %s (from %s)\n",
	    a, get_str(g, "floor_src", "-"), b, get_str(g, "ceiling_src", "-"));
	fprintf(out, "  shares:   %s (from %s)%s\n",
	    MT_PRESENT(get_i64(g, "shares")) ?
	    json_object_get_string(json_object_object_get(g, "shares")) :
	    "default", get_str(g, "shares_src", "-"),
	    get_bool(g, "exclude") ? "; excluded from management" : "");
	print_metadata_caps(out, st, g);
	if (json_object_object_get_ex(g, "backing", &backing)) {
		fprintf(out, "  backing:  %s%s%s%s\n",
		    get_bool(backing, "balloon") ? "balloon" : "NO balloon",
		    get_bool(backing, "hugepages") ? ", static huge pages" : "",
		    get_bool(backing, "locked") ? ", locked" : "",
		    get_bool(backing, "nosharepages") ? ", no KSM" : "");
		print_features(out, backing);
	}
	print_advice(out, g);
	report_fmt_kib(a, sizeof(a), get_i64(g, "need_kib"));
	report_fmt_kib(b, sizeof(b), get_i64(g, "target_kib"));
	report_fmt_kib(c, sizeof(c), get_i64(g, "headroom_kib"));
	fprintf(out, "  needs:    %s (in use plus a headroom of %s, which "
	    "follows its recent growth%s)\n", a, c,
	    get_i64(g, "burst_kib") > 0 ? " and a burst it ran out in" : "");
	if (get_i64(g, "ballooned_kib") > 0) {
		int64_t y = get_i64(g, "yield_pmy");

		report_fmt_kib(a, sizeof(a), get_i64(g, "returned_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(g, "ballooned_kib"));
		fprintf(out, "  returns:  %s to the host of %s ballooned", a, b);
		if (MT_PRESENT(y))
			fprintf(out, "; lately %lld%%", (long long)y / 100);
		if (get_i64(g, "unresident_kib") > 0) {
			report_fmt_kib(a, sizeof(a), get_i64(g,
			    "unresident_kib"));
			fprintf(out, "; %s of it the host did not hold", a);
		}
		fputc('\n', out);
	}
	if (get_bool(g, "bursting") || get_i64(g, "unseen_kib") > 0) {
		int64_t r = get_i64(g, "rss_rate_kib_s");

		report_fmt_kib(a, sizeof(a), get_i64(g, "unseen_kib"));
		fprintf(out, "  burst:    %s touched since its stats (QEMU RSS)",
		    a);
		if (MT_PRESENT(r) && r > 0) {
			report_fmt_kib(c, sizeof(c), r);
			fprintf(out, ", rising %s/s", c);
		}
		fprintf(out, "%s\n", get_bool(g, "bursting") ?
		    "; short within the burst horizon" : "");
	}
	report_fmt_kib(b, sizeof(b), get_i64(g, "target_kib"));
	fprintf(out, "  decision: %s, target %s, state %s\n",
	    get_str(g, "action", "-"), b, get_str(g, "state", "-"));
	fprintf(out, "  because:  %s\n", get_str(g, "reason", "(no plan yet)"));
	if (json_object_object_get_ex(st, "host", &host))
		fprintf(out, "  host:     %s: %s\n", get_str(host, "pressure", "-"),
		    get_str(host, "pressure_reason", ""));
	else
		host = NULL;
	print_guest_numa(out, g, host);
}

int
report_print_explain(FILE *out, struct json_object *st, const char *name)
{
	struct json_object *g = report_find_guest(st, name);

	if (g == NULL)
		return -ENOENT;
	/* found by its raw name, as the operator typed it; shown escaped */
	report_escape_json(st);
	fprintf(out, "%s (%s)\n", get_str(g, "name", "?"), get_str(g, "uuid", "?"));
	explain_body(out, st, g);
	return 0;
}

/* explain's lines, without their indent, as a JSON array. */
static struct json_object *
explain_lines_json(struct json_object *st, struct json_object *g)
{
	struct json_object *a = json_object_new_array();
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		return a;
	explain_body(mem, st, g);
	if (fclose(mem) != 0 || text == NULL) {
		free(text);
		return a;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		json_object_array_add(a, json_object_new_string(line +
		    strspn(line, " ")));
	free(text);
	return a;
}

static void
copy_key(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(from, key, &v);
	json_object_object_add(to, key, json_object_get(v));
}

static struct json_object *
advice_json(struct json_object *g)
{
	struct report_advice a[REPORT_ADVICE_MAX];
	struct json_object *arr = json_object_new_array();
	size_t n = report_advice(g, a, REPORT_ADVICE_MAX);

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		add_str(o, "code", a[i].code);
		add_str(o, "why", a[i].why);
		add_str(o, "xml", a[i].xml);
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *
report_explain_json(struct json_object *st, const char *name)
{
	static const char *const bound_keys[] = {
		"floor_kib", "floor_src", "ceiling_kib", "ceiling_src",
		"shares", "shares_src", "exclude", "exclude_src",
	};
	struct json_object *g = report_find_guest(st, name), *o, *b, *h, *host;

	if (g == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "schema", json_object_new_int(MT_JSON_SCHEMA));
	add_bool(o, "ok", true);
	copy_key(o, st, "version");
	copy_key(o, st, "source");
	copy_key(o, st, "uri");
	b = json_object_new_object();
	for (size_t i = 0; i < sizeof(bound_keys) / sizeof(bound_keys[0]); i++)
		copy_key(b, g, bound_keys[i]);
	h = json_object_new_object();
	if (json_object_object_get_ex(st, "host", &host)) {
		copy_key(h, host, "pressure");
		copy_key(h, host, "pressure_reason");
		copy_key(h, host, "pressure_reason_code");
	}
	json_object_object_add(o, "guest", json_object_get(g));
	json_object_object_add(o, "bounds", b);
	json_object_object_add(o, "host", h);
	json_object_object_add(o, "reasons", explain_lines_json(st, g));
	json_object_object_add(o, "advice", advice_json(g));
	return o;
}

void
report_add_rebalance(struct json_object *st, const struct engine *e, int rc,
    bool acted, bool reserve)
{
	json_object_object_add(st, "rebalance_rc", json_object_new_int(rc));
	add_bool(st, "acted", acted);
	if (reserve)
		json_object_object_add(st, "reserve_possible_kib",
		    json_object_new_int64(e->plan.reserve_possible_kib));
	if (rc < 0 && rc != -ENOSPC) {
		add_bool(st, "ok", false);
		add_str(st, "error", e->last_error);
	}
}

struct json_object *
report_error_json(const char *error, const char *code)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "schema", json_object_new_int(MT_JSON_SCHEMA));
	add_bool(o, "ok", false);
	add_str(o, "error", error);
	add_str(o, "code", code);
	return o;
}

int
report_print_plan(FILE *out, struct json_object *st, bool dry_run)
{
	struct json_object *guests, *host, *ksm, *thp;
	const char *verb = dry_run ? "would set" : "set";
	char a[32], b[32];
	int steps = 0;

	report_escape_json(st);
	if (json_object_object_get_ex(st, "host", &host)) {
		fprintf(out, "host %s: %s\n", get_str(host, "pressure", "-"),
		    get_str(host, "pressure_reason", ""));
		print_nodes(out, host);
	}
	if (json_object_object_get_ex(st, "guests", &guests)) {
		for (size_t i = 0; i < json_object_array_length(guests); i++) {
			struct json_object *g = json_object_array_get_idx(guests, i);
			const char *act = get_str(g, "action", "none");

			if (strcmp(act, "balloon") == 0 || strcmp(act, "both") == 0) {
				report_fmt_kib(a, sizeof(a), get_i64(g, "actual_kib"));
				report_fmt_kib(b, sizeof(b), get_i64(g, "target_kib"));
				fprintf(out, "  %s %s %s %s -> %s: %s\n",
				    get_str(g, "name", "?"), verb,
				    get_str(g, "move_by", "balloon"), a, b,
				    get_str(g, "reason", ""));
				steps++;
			}
			if (strcmp(act, "memtune") == 0 || strcmp(act, "both") == 0) {
				report_fmt_kib(a, sizeof(a),
				    get_i64(g, "plan_soft_limit_kib"));
				report_fmt_kib(b, sizeof(b),
				    get_i64(g, "plan_hard_limit_kib"));
				fprintf(out, "  %s %s memtune soft %s hard %s: %s\n",
				    get_str(g, "name", "?"), verb, a, b,
				    get_str(g, "reason", ""));
				steps++;
			}
			if (strcmp(act, "none") == 0 ||
			    strcmp(act, "leave-alone") == 0)
				fprintf(out, "  %s unchanged: %s\n",
				    get_str(g, "name", "?"), get_str(g, "reason", ""));
		}
	}
	if (host != NULL && json_object_object_get_ex(host, "ksm", &ksm) &&
	    get_bool(ksm, "change")) {
		fprintf(out, "  ksm %s run=%lld pages_to_scan=%lld "
		    "sleep_millisecs=%lld: %s\n", verb,
		    (long long)get_i64(ksm, "plan_run"),
		    (long long)get_i64(ksm, "plan_pages_to_scan"),
		    (long long)get_i64(ksm, "plan_sleep_millisecs"),
		    get_str(ksm, "reason", ""));
		steps++;
	}
	if (host != NULL && json_object_object_get_ex(host, "thp", &thp) &&
	    get_bool(thp, "change")) {
		fprintf(out, "  thp %s defrag=%s khugepaged scan_sleep=%lld "
		    "pages_to_scan=%lld: %s\n", verb, get_str(thp, "plan_defrag", "-"),
		    (long long)get_i64(thp, "plan_khugepaged_scan_sleep_millisecs"),
		    (long long)get_i64(thp, "plan_khugepaged_pages_to_scan"),
		    get_str(thp, "reason", ""));
		steps++;
	}
	fprintf(out, "%d step%s%s\n", steps, steps == 1 ? "" : "s",
	    dry_run ? " planned, nothing changed" : "");
	return steps;
}
