/* release.c - give back what memtuned changed: plan, carry out, answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "policy.h"
#include "release.h"
#include "util.h"

void
release_plan_init(struct release_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void
release_plan_free(struct release_plan *p)
{
	free(p->steps);
	free(p->guests);
	release_plan_init(p);
}

const char *
release_what_name(enum release_what w)
{
	switch (w) {
	case REL_HARD_LIMIT:
		return "hard_limit";
	case REL_SOFT_LIMIT:
		return "soft_limit";
	case REL_MEMORY_LOW:
		return "memory_low";
	case REL_BALLOON:
		return "balloon";
	case REL_VMEM:
		return "virtio_mem";
	case REL_HOST:
		return "ksm_thp";
	}
	return "?";
}

int
release_deflate_target(const struct mt_config *cfg,
    const struct guest_snapshot *g, bool own_hard_limit, int64_t *want_kib,
    int64_t *floor_kib, int64_t *ceiling_kib)
{
	char err[160];
	int64_t want;

	if (policy_guest_bounds(&cfg->policy, g, own_hard_limit, floor_kib,
	    ceiling_kib, err, sizeof(err)) < 0)
		return -EINVAL;
	want = g->max_kib / 10000 * cfg->deflate_to_pmy +
	    g->max_kib % 10000 * cfg->deflate_to_pmy / 10000;
	want = MAX(want, *floor_kib);
	*want_kib = MIN(want, *ceiling_kib);
	return 0;
}

static struct release_step *
plan_step(struct release_plan *p, const struct guest_snapshot *g,
    enum release_what what, int64_t from_kib, int64_t to_kib)
{
	struct release_step *s;

	if (p->nr_steps == p->cap_steps) {
		size_t cap = p->cap_steps ? 2 * p->cap_steps : 8;
		struct release_step *n = realloc(p->steps, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		p->steps = n;
		p->cap_steps = cap;
	}
	s = &p->steps[p->nr_steps++];
	memset(s, 0, sizeof(*s));
	s->what = what;
	if (g != NULL) {
		mt_strlcpy(s->name, g->name, sizeof(s->name));
		mt_strlcpy(s->uuid, g->uuid, sizeof(s->uuid));
		s->qemu_pid = g->qemu_pid;
	}
	s->from_kib = from_kib;
	s->to_kib = to_kib;
	s->floor_kib = s->ceiling_kib = MT_ABSENT;
	s->rc = RELEASE_NOT_RUN;
	return s;
}

static const struct release_found *
found_of(const struct release_in *in, const char *uuid)
{
	for (size_t i = 0; in->found != NULL && i < in->nr_found; i++)
		if (strcmp(in->found[i].uuid, uuid) == 0)
			return &in->found[i];
	return NULL;
}

static void
fmt_limit(char *buf, size_t len, int64_t kib)
{
	if (!MT_PRESENT(kib) || kib == POLICY_LIMIT_UNLIMITED)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%lld MiB", (long long)(kib / 1024));
}

/* The soft limit and memory.low memtuned wrote go back to what it found;
 * not knowing that, a value on a guest it manages is its own. */
static int
plan_soft_and_low(const struct release_in *in, const struct guest_snapshot *g,
    struct release_plan *p)
{
	const struct policy_config *pc = &in->cfg->policy;
	const struct release_found *f = found_of(in, g->uuid);
	bool fixed = g->backing.hugepages || g->backing.locked ||
	    !g->backing.has_balloon;
	struct release_step *s;
	char b[32];

	if (pc->manage_soft_limit && !fixed && MT_PRESENT(g->soft_limit_kib) &&
	    g->soft_limit_kib != POLICY_LIMIT_UNLIMITED) {
		int64_t to = f != NULL && MT_PRESENT(f->soft_limit_kib) ?
		    f->soft_limit_kib : POLICY_LIMIT_UNLIMITED;

		if (to != g->soft_limit_kib) {
			if ((s = plan_step(p, g, REL_SOFT_LIMIT,
			    g->soft_limit_kib, to)) == NULL)
				return -ENOMEM;
			fmt_limit(b, sizeof(b), to);
			snprintf(s->reason, sizeof(s->reason), "%s: back to %s",
			    f != NULL ? "memtuned set it" : "memtuned manages "
			    "it; what it found is not known here", b);
		}
	}
	if (pc->manage_memory_low && g->cgroup_version == 2 &&
	    MT_PRESENT(g->cg_low_kib) && g->cg_low_kib > 0) {
		int64_t to = f != NULL && MT_PRESENT(f->memory_low_kib) ?
		    f->memory_low_kib : 0;

		if (to != g->cg_low_kib) {
			if ((s = plan_step(p, g, REL_MEMORY_LOW, g->cg_low_kib,
			    to)) == NULL)
				return -ENOMEM;
			snprintf(s->reason, sizeof(s->reason), "%s: back to "
			    "%lld MiB", f != NULL ? "memtuned set it" :
			    "memtuned manages it; what it found is not known "
			    "here", (long long)(to / 1024));
		}
	}
	return 0;
}

/* One guest's steps: hard limit, soft limit, memory.low, balloon. */
static int
plan_guest(const struct release_in *in, const struct guest_snapshot *g,
    struct release_plan *p)
{
	const struct mt_config *cfg = in->cfg;
	struct guest_input gin;
	struct policy_metadata_cap cap;
	struct release_step *s;
	bool own = policy_hard_limit_recorded(&cfg->policy, g);
	int64_t want, fl, ce;
	char reason[128];

	policy_guest_input(&cfg->policy, g, &gin, &cap);
	if (gin.exclude)
		return 0;
	if (own) {
		const struct release_found *f = found_of(in, g->uuid);
		int64_t to = f != NULL && MT_PRESENT(f->hard_limit_kib) ?
		    f->hard_limit_kib : POLICY_LIMIT_UNLIMITED;
		char b[32];

		if ((s = plan_step(p, g, REL_HARD_LIMIT, g->hard_limit_kib,
		    to)) == NULL)
			return -ENOMEM;
		s->swap_too = MT_PRESENT(cfg->policy.swap_limit_kib);
		fmt_limit(b, sizeof(b), to);
		snprintf(s->reason, sizeof(s->reason), "memtuned set it (its "
		    "record in the domain's metadata says so): back to %s%s",
		    b, f != NULL ? ", as found" : "");
	}
	if (plan_soft_and_low(in, g, p) < 0)
		return -ENOMEM;
	if (!g->backing.has_balloon || !MT_PRESENT(g->actual_kib) ||
	    release_deflate_target(cfg, g, own, &want, &fl, &ce) < 0 ||
	    want <= g->actual_kib)
		return 0;
	snprintf(reason, sizeof(reason), "deflate to %lld.%02lld%% of "
	    "max memory%s", (long long)(cfg->deflate_to_pmy / 100),
	    (long long)(cfg->deflate_to_pmy % 100),
	    want < g->max_kib * cfg->deflate_to_pmy / 10000 ? ", within the "
	    "ceiling" : "");
	return release_plan_deflate(cfg, g, want, fl, ce, reason, p);
}

int
release_plan_deflate(const struct mt_config *cfg,
    const struct guest_snapshot *g, int64_t want_kib, int64_t floor_kib,
    int64_t ceiling_kib, const char *reason, struct release_plan *p)
{
	const struct guest_vmem *vm = &g->backing.vmem;
	struct guest_plan gp;
	struct release_step *s;

	if (want_kib <= g->actual_kib)
		return 0;
	memset(&gp, 0, sizeof(gp));
	gp.actual_kib = g->actual_kib;
	gp.target_kib = want_kib;
	gp.floor_kib = floor_kib;
	gp.ceiling_kib = ceiling_kib;
	if (!policy_vmem_route(&cfg->policy, g, 0, &gp)) {
		if ((s = plan_step(p, g, REL_BALLOON, g->actual_kib,
		    want_kib)) == NULL)
			return -ENOMEM;
		s->floor_kib = floor_kib;
		s->ceiling_kib = ceiling_kib;
		mt_strlcpy(s->reason, reason, sizeof(s->reason));
		return 0;
	}
	/* the balloon in its boot memory, checked there; the devices
	 * plugged toward the rest, each checked on its blocks */
	if (MT_PRESENT(gp.balloon_kib) && MT_PRESENT(vm->current_kib)) {
		if ((s = plan_step(p, g, REL_BALLOON, g->actual_kib -
		    vm->current_kib, gp.balloon_kib)) == NULL)
			return -ENOMEM;
		s->floor_kib = MIN(gp.balloon_kib, g->actual_kib -
		    vm->current_kib);
		s->ceiling_kib = g->max_kib - vm->size_kib;
		snprintf(s->reason, sizeof(s->reason), "%s; its boot memory's "
		    "balloon", reason);
	}
	for (int d = 0; d < vm->count && d < MT_VMEM_MAX; d++) {
		if (!MT_PRESENT(gp.vmem_req_kib[d]))
			continue;
		if ((s = plan_step(p, g, REL_VMEM, vm->dev[d].requested_kib,
		    gp.vmem_req_kib[d])) == NULL)
			return -ENOMEM;
		s->dev = vm->dev[d];
		snprintf(s->reason, sizeof(s->reason), "%s; virtio-mem %s "
		    "plugged", reason, vm->dev[d].alias);
	}
	return 0;
}

/* As virsh takes a domain: digits are an ID first, 36 characters a UUID
 * (any case) next, and only then is the text a name; so a guest named
 * "3" is reached by its UUID while another has ID 3. Running guests
 * only: NULL when none is the one named. */
const struct guest_snapshot *
release_resolve(const struct snapshot *snap, const char *key)
{
	int64_t id = MT_ABSENT;

	if (key[0] != '\0' && key[strspn(key, "0123456789")] == '\0' &&
	    mt_parse_int64(key, &id) == 0 && id <= INT32_MAX) {
		for (size_t i = 0; i < snap->nr_guests; i++)
			if (snap->guests[i].id == id && id >= 0 &&
			    snap->guests[i].uuid[0] != '\0')
				return &snap->guests[i];
	}
	for (int by_uuid = 1; by_uuid >= 0; by_uuid--) {
		if (by_uuid && strlen(key) != MT_UUID_LEN - 1)
			continue;
		for (size_t i = 0; i < snap->nr_guests; i++) {
			const struct guest_snapshot *g = &snap->guests[i];

			if (g->uuid[0] == '\0' || g->id < 0)
				continue;
			if (by_uuid ? strcasecmp(key, g->uuid) == 0 :
			    strcmp(key, g->name) == 0)
				return g;
		}
	}
	return NULL;
}

static int
plan_add_guest(struct release_plan *p, const struct guest_snapshot *g)
{
	if (p->nr_guests == p->cap_guests) {
		size_t cap = p->cap_guests ? 2 * p->cap_guests : 8;
		struct release_guest *n = realloc(p->guests, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		p->guests = n;
		p->cap_guests = cap;
	}
	mt_strlcpy(p->guests[p->nr_guests].name, g->name, MT_NAME_MAX);
	mt_strlcpy(p->guests[p->nr_guests].uuid, g->uuid, MT_UUID_LEN);
	p->nr_guests++;
	return 0;
}

int
release_select(const struct snapshot *snap, const char *const *sel,
    size_t nr_sel, struct release_plan *p, char *err, size_t errlen)
{
	bool *chosen = NULL;
	int rc = 0;

	err[0] = '\0';
	if (snap->nr_guests > 0 &&
	    (chosen = calloc(snap->nr_guests, 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nr_sel; i++) {
		const struct guest_snapshot *g = release_resolve(snap, sel[i]);

		if (g == NULL) {
			snprintf(err, errlen, "no running guest with the ID, "
			    "UUID or name '%s'", sel[i]);
			free(chosen);
			return -ENOENT;
		}
		chosen[g - snap->guests] = true;
	}
	/* in the snapshot's order, each once however often it was named */
	for (size_t i = 0; i < snap->nr_guests && rc == 0; i++) {
		const struct guest_snapshot *g = &snap->guests[i];

		if (g->uuid[0] == '\0' || g->id < 0 ||
		    (nr_sel > 0 && !chosen[i]))
			continue;
		rc = plan_add_guest(p, g);
	}
	free(chosen);
	return rc;
}

static const struct guest_snapshot *
guest_by_uuid(const struct snapshot *snap, const char *uuid)
{
	for (size_t i = 0; i < snap->nr_guests; i++)
		if (strcmp(snap->guests[i].uuid, uuid) == 0)
			return &snap->guests[i];
	return NULL;
}

int
release_plan_make(const struct release_in *in, struct release_plan *out,
    char *err, size_t errlen)
{
	int rc;

	release_plan_free(out);
	if ((rc = release_select(in->snap, in->sel, in->nr_sel, out, err,
	    errlen)) < 0)
		goto out;
	for (size_t i = 0; i < out->nr_guests; i++)
		if ((rc = plan_guest(in, guest_by_uuid(in->snap,
		    out->guests[i].uuid), out)) < 0)
			goto out;
	out->host = in->nr_sel == 0;
	if (out->host && in->host_known &&
	    (in->cfg->manage_ksm || in->cfg->manage_thp)) {
		struct release_step *s = plan_step(out, NULL, REL_HOST,
		    MT_ABSENT, MT_ABSENT);

		if (s == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		snprintf(s->reason, sizeof(s->reason), "KSM and THP knobs back "
		    "to what memtuned found at start");
	}
out:
	if (rc < 0)
		release_plan_free(out);
	return rc;
}

static int
apply_memory_low(const struct act_ops *ops, void *ctx,
    const struct mcg_mounts *mounts, const struct release_step *s)
{
	char dir[PATH_MAX], path[PATH_MAX], val[24];
	int rc;

	if (mounts == NULL || mounts->version != 2 || !MT_PRESENT(s->qemu_pid))
		return -EOPNOTSUPP;
	if ((rc = mcg_find(mounts, (pid_t)s->qemu_pid, dir, sizeof(dir))) < 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/memory.low", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(val, sizeof(val), "%lld", (long long)s->to_kib * 1024);
	return ops->write_sysfs(ctx, path, val);
}

static int
apply_step(const struct act_ops *ops, void *ctx,
    const struct mcg_mounts *mounts, const struct release_step *s)
{
	int rc;

	switch (s->what) {
	case REL_HARD_LIMIT:
		rc = ops->set_memtune(ctx, s->uuid, s->to_kib, MT_ABSENT,
		    s->swap_too ? POLICY_LIMIT_UNLIMITED : MT_ABSENT);
		if (rc < 0)
			return rc;
		/* the record goes with the limit it describes; a stale one
		 * is harmless (it counts only while it matches) */
		if ((rc = ops->record_hard_limit(ctx, s->uuid, MT_ABSENT,
		    MT_ABSENT)) < 0)
			log_warnx("release %s: memtuned's record of its hard "
			    "limit not removed (%s)", s->name, strerror(-rc));
		return 0;
	case REL_SOFT_LIMIT:
		return ops->set_memtune(ctx, s->uuid, MT_ABSENT, s->to_kib,
		    MT_ABSENT);
	case REL_MEMORY_LOW:
		return apply_memory_low(ops, ctx, mounts, s);
	case REL_BALLOON:
		return act_set_balloon_checked(ops, ctx, s->uuid, s->to_kib,
		    s->floor_kib, s->ceiling_kib);
	case REL_VMEM:
		if ((rc = act_check_vmem(s->uuid, &s->dev, s->to_kib)) < 0)
			return rc;
		return ops->set_vmem(ctx, s->uuid, s->dev.alias, s->to_kib);
	case REL_HOST:
		break;
	}
	return 0;
}

int
release_apply(const struct act_ops *ops, void *ctx,
    const struct mcg_mounts *mounts, struct release_plan *p)
{
	char b1[32], b2[32];
	int failed = 0;

	for (size_t i = 0; i < p->nr_steps; i++) {
		struct release_step *s = &p->steps[i];

		if (s->what == REL_HOST)
			continue;
		s->rc = apply_step(ops, ctx, mounts, s);
		fmt_limit(b1, sizeof(b1), s->from_kib);
		fmt_limit(b2, sizeof(b2), s->to_kib);
		if (s->rc < 0) {
			failed++;
			log_warnx("release %s: %s %s -> %s failed: %s", s->name,
			    release_what_name(s->what), b1, b2,
			    strerror(-s->rc));
		} else {
			log_info("release %s: %s %s -> %s (%s)", s->name,
			    release_what_name(s->what), b1, b2, s->reason);
		}
	}
	return failed;
}

/* A limit's unlimited is null; memory.low and balloon sizes are numbers. */
static void
add_size(struct json_object *o, const char *key, enum release_what w,
    int64_t kib)
{
	bool limit = w == REL_HARD_LIMIT || w == REL_SOFT_LIMIT;

	if (w == REL_HOST || (limit && kib == POLICY_LIMIT_UNLIMITED))
		kib = MT_ABSENT;
	add_i64(o, key, kib);
}

static struct json_object *
step_json(const struct release_step *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "guest", s->what == REL_HOST ? NULL :
	    json_object_new_string(s->name));
	json_object_object_add(o, "uuid", s->what == REL_HOST ? NULL :
	    json_object_new_string(s->uuid));
	add_str(o, "what", release_what_name(s->what));
	add_size(o, "from_kib", s->what, s->from_kib);
	add_size(o, "to_kib", s->what, s->to_kib);
	add_str(o, "reason", s->reason);
	add_bool(o, "done", s->rc == 0);
	if (s->rc < 0)
		add_str(o, "error", strerror(-s->rc));
	return o;
}

struct json_object *
release_plan_json(const struct release_plan *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *steps = json_object_new_array();
	struct json_object *guests = json_object_new_array();
	int failed = 0;

	for (size_t i = 0; i < p->nr_steps; i++) {
		json_object_array_add(steps, step_json(&p->steps[i]));
		failed += p->steps[i].rc < 0;
	}
	for (size_t i = 0; i < p->nr_guests; i++) {
		struct json_object *g = json_object_new_object();

		add_str(g, "name", p->guests[i].name);
		add_str(g, "uuid", p->guests[i].uuid);
		json_object_array_add(guests, g);
	}
	add_bool(o, "ok", failed == 0);
	add_bool(o, "dry_run", p->dry_run);
	add_bool(o, "host", p->host);
	json_object_object_add(o, "guests", guests);
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "failed", json_object_new_int(failed));
	return o;
}
