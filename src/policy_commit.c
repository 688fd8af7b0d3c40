/* policy_commit.c - what the actuator reports back, per guest and knob. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

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
