/* policy_state.c - storage of the policy's state and plan: the per-guest
 * history, an open-addressed table keyed by UUID, and the per-tick
 * scratch, grown only when a snapshot holds more guests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* history of a guest that left is kept this long, so a guest that comes
 * back (or a collector that missed it once) keeps its cooldowns */
#define HIST_KEEP_MS (10 * 60 * 1000)
/* table slots the expiry sweep looks at per tick */
#define HIST_SWEEP 256

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static uint64_t
hash_uuid(const char *u)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *u != '\0'; u++) {
		h ^= (unsigned char)*u;
		h *= 1099511628211ULL;
	}
	return h;
}

void
policy_hist_clear(struct policy_guest_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->last_target_kib = MT_ABSENT;
	h->progress_actual_kib = MT_ABSENT;
	h->used_kib = h->spurt_kib = MT_ABSENT;
	h->samp_ms = h->samp_actual_kib = h->samp_rss_kib = MT_ABSENT;
	h->samp_own_kib = h->yb_used_kib = MT_ABSENT;
	h->samp_used_kib = h->samp_usable_kib = MT_ABSENT;
	h->samp_minor_fault = h->samp_ksm_merging_kib = MT_ABSENT;
	h->yield_ms = MT_ABSENT;
	h->burst_ms = MT_ABSENT;
	h->stats_update_s = h->stats_rss_kib = MT_ABSENT;
	h->stats_ok_ms = MT_ABSENT;
}

/* Rebuild the table at a size for `live` entries, dropping tombstones. */
static int
hist_rehash(struct policy_state *s, size_t live)
{
	size_t cap = pow2_at_least(live * 2), i;
	struct policy_guest_hist *nh;

	if ((nh = calloc(cap, sizeof(*nh))) == NULL)
		return -ENOMEM;
	for (i = 0; i < s->hist_cap; i++) {
		const struct policy_guest_hist *o = &s->hist[i];
		size_t j;

		if (o->uuid[0] == '\0')
			continue;
		j = hash_uuid(o->uuid) & (cap - 1);
		while (nh[j].uuid[0] != '\0')
			j = (j + 1) & (cap - 1);
		nh[j] = *o;
	}
	free(s->hist);
	s->hist = nh;
	s->hist_cap = cap;
	s->hist_used = 0;
	for (i = 0; i < cap; i++)
		if (nh[i].uuid[0] != '\0')
			s->hist_used++;
	return 0;
}

size_t
policy_hist_lookup(struct policy_state *s, const char *uuid, bool *fresh)
{
	size_t mask = s->hist_cap - 1, j = hash_uuid(uuid) & mask;
	size_t free_slot = POLICY_NO_HIST;

	for (;;) {
		struct policy_guest_hist *h = &s->hist[j];

		if (h->uuid[0] == '\0') {
			if (h->tomb) {
				if (free_slot == POLICY_NO_HIST)
					free_slot = j;
			} else {
				break;
			}
		} else if (strcmp(h->uuid, uuid) == 0) {
			return j;
		}
		j = (j + 1) & mask;
	}
	if (free_slot == POLICY_NO_HIST) {
		free_slot = j;
		s->hist_used++;
	}
	*fresh = true;
	policy_hist_clear(&s->hist[free_slot]);
	mt_strlcpy(s->hist[free_slot].uuid, uuid, MT_UUID_LEN);
	return free_slot;
}

static int
ensure_state_capacity(struct policy_state *s, size_t n)
{
	size_t live = 0, i;

	if (n > s->work_cap) {
		size_t cap = pow2_at_least(n);
		struct policy_gwork *nw = realloc(s->work, cap * sizeof(*nw));
		struct policy_fill *nf;

		if (nw == NULL)
			return -ENOMEM;
		for (i = s->work_cap; i < cap; i++)
			nw[i].hist = POLICY_NO_HIST;
		s->work = nw;
		if ((nf = realloc(s->fill, cap * sizeof(*nf))) == NULL)
			return -ENOMEM;
		s->fill = nf;
		s->work_cap = cap;
	}
	/* keep the table at most half full so probes stay short, counting
	 * every guest of this snapshot as a possible insert */
	if ((s->hist_used + n) * 2 > s->hist_cap) {
		for (i = 0; i < s->hist_cap; i++)
			if (s->hist[i].uuid[0] != '\0')
				live++;
		return hist_rehash(s, live + n);
	}
	return 0;
}

int
policy_ensure_capacity(struct policy_state *s, struct policy_plan *p, size_t n)
{
	if (n > p->cap_guests) {
		size_t cap = pow2_at_least(n);
		struct guest_plan *ng = realloc(p->guests, cap * sizeof(*ng));

		if (ng == NULL)
			return -ENOMEM;
		p->guests = ng;
		p->cap_guests = cap;
	}
	return ensure_state_capacity(s, n);
}

int
policy_state_init(struct policy_state *s, size_t nr_guests)
{
	memset(s, 0, sizeof(*s));
	s->better_since_ms = MT_ABSENT;
	s->ksm_pages = MT_ABSENT;
	s->ksm_sleep_ms = MT_ABSENT;
	s->ksm_prev_profit_kib = MT_ABSENT;
	s->ksm_prev_ms = MT_ABSENT;
	s->ksm_backoff_until_ms = MT_ABSENT;
	s->ksm_on_full_scans = MT_ABSENT;
	s->ksm_probe_rss_kib = MT_ABSENT;
	s->ksm_probe_grew_kib = 0;
	s->ksm_prev_scanned = s->ksm_prev_cpu_ms = MT_ABSENT;
	if (hist_rehash(s, 2 * nr_guests) < 0 ||
	    ensure_state_capacity(s, nr_guests) < 0) {
		policy_state_free(s);
		return -ENOMEM;
	}
	return 0;
}

void
policy_state_free(struct policy_state *s)
{
	free(s->hist);
	free(s->work);
	free(s->fill);
	s->hist = NULL;
	s->work = NULL;
	s->fill = NULL;
	s->hist_cap = s->hist_used = s->work_cap = 0;
}

int
policy_plan_init(struct policy_plan *p, size_t nr_guests)
{
	memset(p, 0, sizeof(*p));
	if (nr_guests > 0) {
		p->guests = calloc(nr_guests, sizeof(*p->guests));
		if (p->guests == NULL)
			return -ENOMEM;
		p->cap_guests = nr_guests;
	}
	return 0;
}

void
policy_plan_free(struct policy_plan *p)
{
	free(p->guests);
	p->guests = NULL;
	p->cap_guests = p->nr_guests = 0;
}

/* Forget guests gone for a while: a slice of the table per tick, so a big
 * table costs nothing much at any one tick. */
void
policy_hist_expire(struct policy_state *s, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < HIST_SWEEP && s->hist_cap > 0; i++) {
		struct policy_guest_hist *h;

		s->hist_cursor = (s->hist_cursor + 1) & (s->hist_cap - 1);
		h = &s->hist[s->hist_cursor];

		if (h->uuid[0] != '\0' && now_ms - h->seen_ms > HIST_KEEP_MS) {
			policy_hist_clear(h);
			h->tomb = true;
		}
	}
}
