/* policy_commit.c - what the actuator reports back, per guest and knob. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

const char *
policy_outcome_name(enum policy_outcome o)
{
	switch (o) {
	case OUTCOME_NONE:
		return "none";
	case OUTCOME_APPLIED:
		return "applied";
	case OUTCOME_FAILED:
		return "failed";
	case OUTCOME_REFUSED:
		return "refused";
	case OUTCOME_SKIPPED:
		return "skipped";
	case OUTCOME_DRY_RUN:
		return "dry-run";
	case OUTCOME_GONE:
		return "gone";
	}
	return "?";
}

int
policy_results_init(struct policy_results *r, size_t nr_guests)
{
	memset(r, 0, sizeof(*r));
	if (nr_guests > 0) {
		r->guests = calloc(nr_guests, sizeof(*r->guests));
		if (r->guests == NULL)
			return -ENOMEM;
		r->cap_guests = nr_guests;
	}
	return 0;
}

void
policy_results_free(struct policy_results *r)
{
	free(r->guests);
	memset(r, 0, sizeof(*r));
}

int
policy_results_reset(struct policy_results *r, const struct policy_plan *p)
{
	if (p->nr_guests > r->cap_guests) {
		/* grows with the plan, as the plan grows with the snapshot */
		size_t cap = MAX(p->nr_guests, 2 * r->cap_guests);
		struct policy_guest_result *ng;

		ng = reallocarray(r->guests, cap, sizeof(*ng));
		if (ng == NULL)
			return -ENOMEM;
		r->guests = ng;
		r->cap_guests = cap;
	}
	r->nr_guests = p->nr_guests;
	if (r->nr_guests > 0)
		memset(r->guests, 0, r->nr_guests * sizeof(*r->guests));
	r->ksm_applied = r->thp_applied = false;
	return 0;
}

int
policy_results_all_applied(struct policy_results *r,
    const struct policy_plan *p)
{
	int rc;

	if ((rc = policy_results_reset(r, p)) < 0)
		return rc;
	for (size_t i = 0; i < p->nr_guests; i++) {
		const struct guest_plan *gp = &p->guests[i];
		struct policy_guest_result *gr = &r->guests[i];
		bool balloon = gp->action == ACT_BALLOON || gp->action == ACT_BOTH;
		bool memtune = gp->action == ACT_MEMTUNE || gp->action == ACT_BOTH;

		if (balloon)
			gr->balloon = OUTCOME_APPLIED;
		if (!memtune)
			continue;
		if (MT_PRESENT(gp->hard_limit_kib) ||
		    MT_PRESENT(gp->soft_limit_kib) ||
		    MT_PRESENT(gp->swap_hard_limit_kib))
			gr->memtune = OUTCOME_APPLIED;
		if (MT_PRESENT(gp->hard_limit_kib))
			gr->hard_limit = OUTCOME_APPLIED;
		if (MT_PRESENT(gp->memory_low_kib))
			gr->memory_low = OUTCOME_APPLIED;
	}
	r->ksm_applied = p->ksm.change;
	r->thp_applied = p->thp.change;
	return 0;
}

/* The history entry of plan guest i, when the state's scratch still
 * belongs to this plan; NULL otherwise. */
static struct policy_guest_hist *
commit_hist(struct policy_state *s, const struct policy_plan *p, size_t i)
{
	size_t hi;

	if (i >= s->work_cap)
		return NULL;
	hi = s->work[i].hist;
	if (hi >= s->hist_cap || strcmp(s->hist[hi].uuid, p->guests[i].uuid))
		return NULL;
	return &s->hist[hi];
}

void
policy_commit(struct policy_state *s, const struct policy_plan *p,
    const struct policy_results *r, int64_t now_ms)
{
	size_t n = MIN(p->nr_guests, r->nr_guests);

	for (size_t i = 0; i < n; i++) {
		const struct guest_plan *gp = &p->guests[i];
		const struct policy_guest_result *gr = &r->guests[i];
		const struct policy_gwork *w = &s->work[i];
		struct policy_guest_hist *h;

		if ((h = commit_hist(s, p, i)) == NULL)
			continue;
		if (gr->hard_limit == OUTCOME_APPLIED &&
		    MT_PRESENT(gp->hard_limit_kib))
			h->hard_limit_set =
			    gp->hard_limit_kib != POLICY_LIMIT_UNLIMITED;
		if (gr->balloon != OUTCOME_APPLIED)
			continue;
		if (w->restart_progress) {
			h->progress_ms = now_ms;
			h->progress_actual_kib = gp->actual_kib;
		}
		if (w->resend)
			h->uncoop_since_ms = now_ms;
		h->last_dir = gp->target_kib > w->cur_kib ? 1 :
		    gp->target_kib < w->cur_kib ? -1 : h->last_dir;
		h->last_change_ms = now_ms;
		h->last_target_kib = gp->target_kib;
	}
	if (r->ksm_applied)
		policy_note_applied(s, p);
}

void
policy_note_applied(struct policy_state *s, const struct policy_plan *p)
{
	if (!p->ksm.change || !s->ksm_pending_valid)
		return;
	s->ksm_applied_valid = true;
	s->ksm_applied_run = s->ksm_pending_run;
	s->ksm_applied_pages = s->ksm_pending_pages;
	s->ksm_applied_sleep = s->ksm_pending_sleep;
	s->ksm_applied_advisor = s->ksm_pending_advisor;
}
