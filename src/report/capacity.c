/* capacity.c - the capacity estimate for people and programs: JSON, the
 * engine's last snapshot, the terminal. The estimate itself is the
 * policy's (capacity_est.c); see docs/capacity.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "capacity.h"
#include "jsonutil.h"
#include "engine.h"
#include "report.h"

/* ------------------------------------------------------------- JSON */

void
capacity_numa_note(const struct capacity_result *r, char *buf, size_t len)
{
	char a[32], b[32];
	int full = r->numa_full_node, roomy = r->numa_roomy_node;

	if (len > 0)
		buf[0] = '\0';
	if (!r->numa_unbalanced || full < 0 || roomy < 0)
		return;
	report_fmt_kib(a, sizeof(a), r->nodes[full].free_kib);
	report_fmt_kib(b, sizeof(b), r->nodes[roomy].free_kib);
	snprintf(buf, len, "node %d is full (%s free) while node %d has %s "
	    "free: a guest bound to node %d does not fit; an unbound one "
	    "spills to remote memory", full, a, roomy, b, full);
}


static struct json_object *
level_json(const struct capacity_result *r, enum capacity_level_id id,
    int64_t age_ms)
{
	const struct capacity_level *l = &r->level[id];
	struct json_object *o = json_object_new_object();
	struct json_object *f = json_object_new_object();

	add_str(o, "level", capacity_level_name(id));
	add_i64(o, "fits", l->fits);
	add_i64(o, "headroom_kib", l->headroom_kib);
	add_i64(o, "added_kib", l->added_kib);
	add_i64(o, "age_ms", age_ms);
	switch (id) {
	case CAP_NO_OVERCOMMIT:
		add_i64(f, "mem_total_kib", r->mem_total_kib);
		add_i64(f, "hugepage_pool_kib", r->hugepage_pool_kib);
		add_i64(f, "reserve_kib", r->reserve_kib);
		add_i64(f, "guests_committed_kib", r->guests_committed_kib);
		add_i64(f, "guests", (int64_t)r->nr_guests);
		break;
	case CAP_BALLOON:
		add_i64(f, "balloon_kib", r->balloon_kib);
		add_i64(f, "reclaim_now_kib", r->reclaim_now_kib);
		add_i64(f, "guests_counted", (int64_t)r->nr_reclaim_counted);
		add_str(f, "stats", "fresh balloon stats only");
		break;
	case CAP_KSM:
		add_i64(f, "ksm_saved_kib", r->ksm_saved_kib);
		add_str(f, "ksm_source", r->ksm_source);
		add_i64(f, "ksm_full_scans", r->ksm_full_scans);
		add_i64(f, "ksm_counted_kib", r->ksm_counted_kib);
		add_i64(f, "guests_counted", (int64_t)r->nr_ksm_counted);
		break;
	case CAP_LEVELS:
		break;
	}
	json_object_object_add(o, "figures", f);
	return o;
}

static struct json_object *
host_json(const struct capacity_result *r)
{
	struct json_object *host = json_object_new_object();

	add_i64(host, "mem_total_kib", r->mem_total_kib);
	add_i64(host, "mem_avail_kib", r->mem_avail_kib);
	add_i64(host, "reserve_kib", r->reserve_kib);
	add_i64(host, "free_now_kib", r->free_now_kib);
	add_i64(host, "hugepage_pool_kib", r->hugepage_pool_kib);
	add_i64(host, "hugepage_free_kib", r->hugepage_free_kib);
	add_i64(host, "hugepage_fits", r->vm_kib > 0 ?
	    r->hugepage_free_kib / r->vm_kib : 0);
	add_i64(host, "guests_committed_kib", r->guests_committed_kib);
	add_bool(host, "ksm_present", r->ksm_present);
	return host;
}

static struct json_object *
numa_json(const struct capacity_result *r)
{
	struct json_object *numa = json_object_new_object();
	struct json_object *nodes = json_object_new_array();
	char note[CAPACITY_NOTE_MAX];

	for (int k = 0; k < r->nr_nodes; k++) {
		const struct capacity_node *nd = &r->nodes[k];
		struct json_object *no = json_object_new_object();

		add_i64(no, "node", nd->node);
		add_i64(no, "total_kib", nd->total_kib);
		add_i64(no, "free_kib", nd->free_kib);
		add_i64(no, "reserve_kib", nd->reserve_kib);
		add_i64(no, "headroom_kib", nd->headroom_kib);
		add_i64(no, "fits", nd->fits);
		json_object_array_add(nodes, no);
	}
	json_object_object_add(numa, "nodes", nodes);
	add_bool(numa, "unbalanced", r->numa_unbalanced);
	capacity_numa_note(r, note, sizeof(note));
	add_str(numa, "note", note);
	return numa;
}

static struct json_object *
guest_json(const struct capacity_guest *cg)
{
	struct json_object *g = json_object_new_object();

	add_str(g, "name", cg->name);
	add_str(g, "uuid", cg->uuid);
	add_bool(g, "hugepages", cg->hugepages);
	add_i64(g, "max_kib", cg->max_kib);
	add_i64(g, "actual_kib", cg->actual_kib);
	add_i64(g, "overhead_kib", cg->overhead_kib);
	add_i64(g, "committed_kib", cg->committed_kib);
	add_i64(g, "floor_kib", cg->floor_kib);
	add_i64(g, "need_kib", cg->need_kib);
	add_i64(g, "rss_kib", cg->rss_kib);
	add_bool(g, "reclaim_counted", cg->reclaim_counted);
	add_i64(g, "balloon_kib", cg->balloon_kib);
	add_i64(g, "reclaim_now_kib", cg->reclaim_now_kib);
	add_str(g, "reclaim_reason", cg->reclaim_reason);
	add_bool(g, "ksm_counted", cg->ksm_counted);
	add_i64(g, "ksm_share_kib", cg->ksm_share_kib);
	add_str(g, "ksm_reason", cg->ksm_reason);
	return g;
}

struct json_object *
capacity_json(const struct capacity_result *r, const char *vm_source,
    int64_t now_ms)
{
	struct json_object *o = json_object_new_object();
	struct json_object *levels, *guests;
	int64_t age = MT_PRESENT(r->as_of_ms) && now_ms >= r->as_of_ms ?
	    now_ms - r->as_of_ms : MT_ABSENT;
	size_t i;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "schema", json_object_new_int(MT_JSON_SCHEMA));
	add_bool(o, "ok", true);
	add_i64(o, "vm_kib", r->vm_kib);
	add_str(o, "vm_source", vm_source);
	add_i64(o, "vm_overhead_kib", r->vm_overhead_kib);
	add_i64(o, "vm_cost_kib", r->vm_cost_kib);
	add_i64(o, "as_of_ms", r->as_of_ms);
	add_i64(o, "age_ms", age);
	json_object_object_add(o, "host", host_json(r));
	levels = json_object_new_array();
	for (i = 0; i < CAP_LEVELS; i++)
		json_object_array_add(levels, level_json(r, i, age));
	json_object_object_add(o, "levels", levels);
	if (r->nr_nodes > 1)
		json_object_object_add(o, "numa", numa_json(r));
	guests = json_object_new_array();
	for (i = 0; i < r->nr_guests; i++)
		json_object_array_add(guests, guest_json(&r->guests[i]));
	json_object_object_add(o, "guests", guests);
	return o;
}

static struct json_object *
json_error(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "schema", json_object_new_int(MT_JSON_SCHEMA));
	add_bool(o, "ok", false);
	add_str(o, "error", msg);
	return o;
}

struct json_object *
capacity_engine_json(const struct engine *e, int64_t vm_kib, int64_t now_ms)
{
	struct capacity_result r;
	struct json_object *o;
	const struct policy_plan *plan = NULL;
	const char *source = "given";
	char msg[1200];
	int rc;

	if (!e->have_snap) {
		snprintf(msg, sizeof(msg), "no snapshot to estimate from%s%s",
		    e->last_error[0] != '\0' ? ": " : "", e->last_error);
		return json_error(msg);
	}
	if (vm_kib <= 0) {
		vm_kib = capacity_default_vm_kib(&e->snap);
		source = "default";
		for (size_t i = 0; i < e->snap.nr_guests; i++)
			if (MT_PRESENT(e->snap.guests[i].max_kib) &&
			    e->snap.guests[i].max_kib > 0)
				source = "median of running guests";
	}
	/* the plan counts only when it was decided from this very snapshot */
	if (e->plan_ms == e->snap_ms && e->plan.nr_guests == e->snap.nr_guests)
		plan = &e->plan;
	capacity_result_init(&r);
	rc = capacity_estimate_plan(&e->cfg.policy, &e->snap, plan, vm_kib, &r);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "capacity: %s", rc == -EINVAL ?
		    "the host's MemTotal is unknown" : strerror(-rc));
		capacity_result_free(&r);
		return json_error(msg);
	}
	o = capacity_json(&r, source, now_ms);
	capacity_result_free(&r);
	return o;
}

/* ------------------------------------------------------------ print */

static void
print_level_from(FILE *out, struct json_object *l, struct json_object *f)
{
	const char *name = get_str(l, "level", "");
	char a[32], b[32];

	if (strcmp(name, "no-overcommit") == 0) {
		report_fmt_kib(a, sizeof(a), get_i64(f, "guests_committed_kib"));
		fprintf(out, "MemTotal - hugepage pool - reserve - %lld guests "
		    "at max + overhead (%s)", (long long)get_i64(f, "guests"), a);
	} else if (strcmp(name, "balloon") == 0) {
		report_fmt_kib(a, sizeof(a), get_i64(f, "reclaim_now_kib"));
		fprintf(out, "idle above floor/need of %lld guests (%s of it "
		    "still in them)", (long long)get_i64(f, "guests_counted"), a);
	} else {
		report_fmt_kib(a, sizeof(a), get_i64(f, "ksm_saved_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(f, "ksm_counted_kib"));
		if (!MT_PRESENT(get_i64(f, "ksm_saved_kib")))
			fprintf(out, "no KSM on this host");
		else
			fprintf(out, "KSM saves %s (%s, %lld full scans); %s "
			    "of it in %lld guests that can share", a,
			    get_str(f, "ksm_source", "?"),
			    (long long)get_i64(f, "ksm_full_scans"), b,
			    (long long)get_i64(f, "guests_counted"));
	}
}

/* The size asked about, the figures' age, the host and its hugepages. */
static void
print_head(FILE *out, struct json_object *cap, struct json_object *host)
{
	char a[32], b[32], c[32], d[32];
	int64_t age = get_i64(cap, "age_ms");

	report_fmt_kib(a, sizeof(a), get_i64(cap, "vm_kib"));
	report_fmt_kib(b, sizeof(b), get_i64(cap, "vm_overhead_kib"));
	fprintf(out, "guests of %s (+%s QEMU overhead; size: %s)", a, b,
	    get_str(cap, "vm_source", "?"));
	if (MT_PRESENT(age))
		fprintf(out, ", figures %lld.%llds old\n",
		    (long long)(age / 1000), (long long)(age % 1000 / 100));
	else
		fprintf(out, "\n");
	report_fmt_kib(a, sizeof(a), get_i64(host, "mem_total_kib"));
	report_fmt_kib(b, sizeof(b), get_i64(host, "reserve_kib"));
	report_fmt_kib(c, sizeof(c), get_i64(host, "mem_avail_kib"));
	report_fmt_kib(d, sizeof(d), get_i64(host, "free_now_kib"));
	fprintf(out, "host: %s total, reserve %s, available now %s (%s above "
	    "the reserve)\n", a, b, c, d);
	if (get_i64(host, "hugepage_pool_kib") > 0) {
		report_fmt_kib(a, sizeof(a), get_i64(host, "hugepage_pool_kib"));
		report_fmt_kib(b, sizeof(b), get_i64(host, "hugepage_free_kib"));
		fprintf(out, "hugepage pool: %s, %s free (%lld more guests "
		    "backed by hugepages)\n", a, b,
		    (long long)get_i64(host, "hugepage_fits"));
	}
}

static void
print_levels(FILE *out, struct json_object *cap)
{
	struct json_object *levels;
	char a[32], b[32];

	fprintf(out, "\n%-14s %5s %10s %10s  %s\n", "LEVEL", "FITS", "HEADROOM",
	    "ADDED", "FROM");
	if (!json_object_object_get_ex(cap, "levels", &levels))
		return;
	for (size_t i = 0; i < json_object_array_length(levels); i++) {
		struct json_object *l = json_object_array_get_idx(levels, i);
		struct json_object *f = NULL;

		json_object_object_get_ex(l, "figures", &f);
		report_fmt_kib(a, sizeof(a), get_i64(l, "headroom_kib"));
		if (get_i64(l, "headroom_kib") < 0)
			snprintf(a, sizeof(a), "-%lld MiB", (long long)
			    (-get_i64(l, "headroom_kib") / 1024));
		report_fmt_kib(b, sizeof(b), get_i64(l, "added_kib"));
		fprintf(out, "%-14s %5lld %10s %10s  ",
		    get_str(l, "level", "?"), (long long)get_i64(l, "fits"), a,
		    i == 0 ? "-" : b);
		print_level_from(out, l, f);
		fprintf(out, "\n");
	}
}

static void
print_numa(FILE *out, struct json_object *numa)
{
	struct json_object *nodes;
	char a[32], b[32];

	fprintf(out, "\nper NUMA node (free now, less its part of the "
	    "reserve):\n");
	if (json_object_object_get_ex(numa, "nodes", &nodes)) {
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *nd =
			    json_object_array_get_idx(nodes, i);

			report_fmt_kib(a, sizeof(a), get_i64(nd, "free_kib"));
			report_fmt_kib(b, sizeof(b), get_i64(nd, "total_kib"));
			fprintf(out, "  node %lld: %s free of %s, fits %lld\n",
			    (long long)get_i64(nd, "node"), a, b,
			    (long long)get_i64(nd, "fits"));
		}
	}
	if (get_bool(numa, "unbalanced"))
		fprintf(out, "  %s\n", get_str(numa, "note", ""));
}

/* The guests a level does not count, and why. */
static void
print_not_counted(FILE *out, struct json_object *guests)
{
	for (size_t i = 0, hdr = 0; i < json_object_array_length(guests); i++) {
		struct json_object *g = json_object_array_get_idx(guests, i);
		bool rc = get_bool(g, "reclaim_counted");
		bool kc = get_bool(g, "ksm_counted");

		if (rc && kc)
			continue;
		if (!hdr++)
			fprintf(out, "\nnot counted:\n");
		if (!rc)
			fprintf(out, "  %s: balloon: %s\n", get_str(g, "name", "?"),
			    get_str(g, "reclaim_reason", ""));
		if (!kc)
			fprintf(out, "  %s: ksm: %s\n", get_str(g, "name", "?"),
			    get_str(g, "ksm_reason", ""));
	}
}

void
capacity_print(FILE *out, struct json_object *cap)
{
	struct json_object *host = NULL, *numa, *guests;

	report_escape_json(cap);
	json_object_object_get_ex(cap, "host", &host);
	print_head(out, cap, host);
	print_levels(out, cap);
	if (json_object_object_get_ex(cap, "numa", &numa) && numa != NULL)
		print_numa(out, numa);
	if (json_object_object_get_ex(cap, "guests", &guests))
		print_not_counted(out, guests);
}
