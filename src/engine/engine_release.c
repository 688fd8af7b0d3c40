/* engine_release.c - the engine's run-time holds and what it found of each
 * guest: memtunectl release (and pause) on the engine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"

void
engine_release_free(struct engine *e)
{
	free(e->found);
	free(e->found_spare);
	e->found = e->found_spare = NULL;
	e->nr_found = e->cap_found = 0;
	free(e->holds);
	e->holds = NULL;
	e->nr_holds = e->cap_holds = 0;
}

enum guest_hold
engine_hold_of(const struct engine *e, const char *uuid)
{
	for (size_t i = 0; i < e->nr_holds; i++)
		if (strcmp(e->holds[i].uuid, uuid) == 0)
			return e->holds[i].hold;
	return e->hold_all;
}

int
engine_hold(struct engine *e, const char *uuid, enum guest_hold hold)
{
	size_t i;

	if (uuid == NULL) {
		e->nr_holds = 0;
		e->hold_all = hold;
		return 0;
	}
	for (i = 0; i < e->nr_holds; i++)
		if (strcmp(e->holds[i].uuid, uuid) == 0)
			break;
	if (i == e->nr_holds) {
		if (hold == e->hold_all)
			return 0;
		if (e->nr_holds == e->cap_holds) {
			size_t cap = e->cap_holds ? 2 * e->cap_holds : 8;
			struct engine_hold *n = realloc(e->holds,
			    cap * sizeof(*n));

			if (n == NULL)
				return -ENOMEM;
			e->holds = n;
			e->cap_holds = cap;
		}
		mt_strlcpy(e->holds[i].uuid, uuid, sizeof(e->holds[i].uuid));
		e->nr_holds++;
	}
	e->holds[i].hold = hold;
	return 0;
}

static const struct release_found *
found_lookup(const struct release_found *f, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].uuid, uuid) == 0)
			return &f[i];
	return NULL;
}

/* Collect runs before any act, so a guest's first entry is what it had
 * before memtuned wrote anything; guests gone drop out. */
int
engine_note_guests(struct engine *e)
{
	const struct snapshot *s = &e->snap;
	struct release_found *nf;

	if (s->nr_guests > e->cap_found) {
		size_t cap = s->nr_guests + 8;
		struct release_found *a = realloc(e->found, cap * sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		e->found = a;
		if ((a = realloc(e->found_spare, cap * sizeof(*a))) == NULL)
			return -ENOMEM;
		e->found_spare = a;
		e->cap_found = cap;
	}
	nf = e->found_spare;
	for (size_t i = 0; i < s->nr_guests; i++) {
		struct guest_snapshot *g = &s->guests[i];
		const struct release_found *old = found_lookup(e->found,
		    e->nr_found, g->uuid);

		if (old != NULL) {
			nf[i] = *old;
		} else {
			mt_strlcpy(nf[i].uuid, g->uuid, sizeof(nf[i].uuid));
			/* a limit memtuned recorded before a restart is
			 * not what the guest had: lifted on release */
			nf[i].hard_limit_kib = policy_hard_limit_recorded(
			    &e->cfg.policy, g) ? MT_ABSENT : g->hard_limit_kib;
			nf[i].soft_limit_kib = g->soft_limit_kib;
			nf[i].memory_low_kib = g->cgroup_version == 2 &&
			    MT_PRESENT(g->cg_low_kib) ? g->cg_low_kib : 0;
		}
		g->hold = engine_hold_of(e, g->uuid);
	}
	e->found_spare = e->found;
	e->found = nf;
	e->nr_found = s->nr_guests;
	return 0;
}

static void
engine_release_hold(struct engine *e, const struct release_plan *p)
{
	if (p->host) {
		engine_hold(e, NULL, GUEST_HOLD_RELEASED);
		e->host_hold = GUEST_HOLD_RELEASED;
	}
	for (size_t i = 0; i < p->nr_guests; i++)
		if (engine_hold(e, p->guests[i].uuid, GUEST_HOLD_RELEASED) < 0)
			log_warnx("release %s: no memory to hold it: the "
			    "policy may take it back", p->guests[i].name);
	for (size_t i = 0; i < e->snap.nr_guests; i++)
		e->snap.guests[i].hold = engine_hold_of(e,
		    e->snap.guests[i].uuid);
}

int
engine_release(struct engine *e, const char *const *sel, size_t nr_sel,
    bool dry_run, bool found_known, struct release_plan *plan, char *err,
    size_t errlen)
{
	struct release_in in = {
		.cfg = &e->cfg, .snap = &e->snap,
		.found = found_known ? e->found : NULL,
		.nr_found = found_known ? e->nr_found : 0,
		.host_known = found_known && e->baseline.valid,
		.sel = sel, .nr_sel = nr_sel,
	};
	void *ctx = e->ops_ctx != NULL ? e->ops_ctx : (void *)e->conn;
	int rc;

	if ((rc = engine_collect(e, mt_now_ms())) < 0) {
		snprintf(err, errlen, "%s", e->last_error);
		return rc;
	}
	if ((rc = release_plan_make(&in, plan, err, errlen)) < 0)
		return rc;
	plan->dry_run = dry_run;
	if (dry_run)
		return 0;
	/* hold first: a tick between two steps must not undo one */
	engine_release_hold(e, plan);
	e->have_plan = false;
	release_apply(e->ops, ctx, e->mounts_ready ? &e->mounts : NULL, plan);
	for (size_t i = 0; i < plan->nr_steps; i++)
		if (plan->steps[i].what == REL_HOST)
			plan->steps[i].rc = engine_restore_host(e) > 0 ? -EIO : 0;
	return 0;
}

int
engine_set_hold(struct engine *e, const char *const *sel, size_t nr_sel,
    enum guest_hold hold, struct release_plan *out, char *err,
    size_t errlen)
{
	int rc;

	if ((rc = engine_collect(e, mt_now_ms())) < 0) {
		snprintf(err, errlen, "%s", e->last_error);
		return rc;
	}
	release_plan_free(out);
	if ((rc = release_select(&e->snap, sel, nr_sel, out, err,
	    errlen)) < 0) {
		release_plan_free(out);
		return rc;
	}
	out->host = nr_sel == 0;
	if (out->host) {
		engine_hold(e, NULL, hold);
		e->host_hold = hold;
	}
	for (size_t i = 0; !out->host && i < out->nr_guests; i++)
		if ((rc = engine_hold(e, out->guests[i].uuid, hold)) < 0)
			return rc;
	for (size_t i = 0; i < e->snap.nr_guests; i++)
		e->snap.guests[i].hold = engine_hold_of(e,
		    e->snap.guests[i].uuid);
	/* the last plan was made with the old holds */
	e->have_plan = false;
	return 0;
}
