/* policy_trust.c - how far a domain's own <metadata> is believed. Whoever
 * may edit a domain may write its metadata, in many setups the tenant; the
 * operator's memtuned.conf is root's. So memtuned.conf always wins (the
 * merge puts it first), and [daemon] metadata decides what the rest may
 * claim: everything (trust), nothing (ignore), or, by default, bounded
 * claims that cannot take memory from the neighbours at will. */
#include <string.h>

#include "policy_internal.h"

static void
cap_init(struct policy_metadata_cap *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->floor_kib = cap->ceiling_kib = cap->shares = MT_ABSENT;
}

/* What memtuned.conf or the defaults would have said: the collector
 * already left metadata unread, this covers a snapshot built otherwise
 * (the simulator, a reload between collect and decide). */
static void
drop_metadata(struct guest_input *in)
{
	if (in->floor_src == SRC_METADATA) {
		in->floor_kib = MT_ABSENT;
		in->floor_src = SRC_DEFAULT;
	}
	if (in->ceiling_src == SRC_METADATA) {
		in->ceiling_kib = MT_ABSENT;
		in->ceiling_src = SRC_DEFAULT;
	}
	if (in->shares_src == SRC_METADATA) {
		in->shares = MT_ABSENT;
		in->shares_src = SRC_DEFAULT;
	}
	if (in->exclude_src == SRC_METADATA) {
		in->exclude = false;
		in->exclude_src = SRC_DEFAULT;
	}
}

/* A floor at max memory would make a guest unreclaimable, and as
 * memory.low protect it at the neighbours' expense; shares far above the
 * default take the lion's part whenever memory is short; exclude and a
 * ceiling under the floor (which leaves a guest alone as a config error)
 * are opt-outs of reclaim, the operator's call. */
static void
bound_metadata(const struct policy_config *c, int64_t max_kib,
    struct guest_input *in, struct policy_metadata_cap *cap)
{
	int64_t fl;

	if (in->floor_src == SRC_METADATA && MT_PRESENT(max_kib) &&
	    max_kib > 0) {
		int64_t most = policy_scale(max_kib, c->metadata_floor_max_pmy,
		    10000);

		if (in->floor_kib > most) {
			cap->floor_kib = in->floor_kib;
			in->floor_kib = most;
		}
	}
	if (in->shares_src == SRC_METADATA &&
	    in->shares > c->metadata_shares_max) {
		cap->shares = in->shares;
		in->shares = c->metadata_shares_max;
	}
	if (in->exclude_src == SRC_METADATA && in->exclude &&
	    !c->metadata_exclude) {
		cap->exclude = true;
		in->exclude = false;
		in->exclude_src = SRC_DEFAULT;
	}
	fl = MT_PRESENT(in->floor_kib) ? in->floor_kib :
	    MT_PRESENT(max_kib) && max_kib > 0 ?
	    policy_scale(max_kib, c->floor_default_pmy, 10000) : MT_ABSENT;
	if (in->ceiling_src == SRC_METADATA && MT_PRESENT(fl) &&
	    in->ceiling_kib < fl) {
		cap->ceiling_kib = in->ceiling_kib;
		in->ceiling_kib = fl;
	}
	/* bounded keeps the metadata floor for the balloon, capped, but
	 * kernel protection stays the operator's to give */
	cap->low_refused = in->floor_src == SRC_METADATA;
}

void
policy_guest_input(const struct policy_config *c,
    const struct guest_snapshot *g, struct guest_input *in,
    struct policy_metadata_cap *cap)
{
	*in = g->input;
	cap_init(cap);
	switch (c->metadata_mode) {
	case METADATA_TRUST:
		break;
	case METADATA_IGNORE:
		drop_metadata(in);
		break;
	case METADATA_BOUNDED:
		bound_metadata(c, g->max_kib, in, cap);
		break;
	}
}
