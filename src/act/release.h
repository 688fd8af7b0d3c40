/* release.h - give back what memtuned changed (memtunectl release).
 *
 * A release is planned as data, then carried out: per guest, memtuned's
 * own hard limit (the one its record in the domain's metadata describes,
 * never an operator's) put back to what memtuned found, or lifted; the
 * soft limit and memory.low it wrote put back to what it found; and the
 * balloon deflated to deflate_to of max memory (within the guest's
 * ceiling), in that order so that no limit of memtuned's holds the
 * deflating guest back. KSM and THP are the
 * engine's (its baseline): the plan only says whether they go back.
 * Guests memtuned never touches (excluded in memtuned.conf or by their
 * metadata) get no step.
 *
 * The soft limit and memory.low carry no record: what memtuned found is
 * known to the daemon that found it (release_found, from its first look
 * at each guest). Without that knowledge (standalone), a soft limit or
 * memory.low on a guest memtuned manages is taken as memtuned's and
 * lifted, since memtuned rewrites them on every guest it manages.
 */
#ifndef MEMTUNED_RELEASE_H
#define MEMTUNED_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "act.h"
#include "cgroup.h"
#include "config.h"
#include "snapshot.h"

struct json_object;

enum release_what {
	REL_HARD_LIMIT,			/* memtuned's record goes with it */
	REL_SOFT_LIMIT,
	REL_MEMORY_LOW,
	REL_BALLOON,			/* for a guest with virtio-mem devices,
					   sized in its boot memory */
	REL_VMEM,			/* a virtio-mem device's requested size */
	REL_HOST,			/* KSM and THP as found */
};

struct release_step {
	enum release_what what;
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_LEN];
	int64_t qemu_pid;		/* memory.low: finds the cgroup */
	/* KiB; a limit's POLICY_LIMIT_UNLIMITED (MT_ABSENT in from_kib) is
	 * none; memory.low 0 is none */
	int64_t from_kib;
	int64_t to_kib;
	int64_t floor_kib;		/* balloon: what the safety net checks */
	int64_t ceiling_kib;
	bool swap_too;			/* hard: memtuned's swap_hard_limit too */
	struct vmem_dev dev;		/* virtio-mem: the device (alias,
					   block and size for the safety net) */
	char reason[160];
	int rc;				/* 0 done, -errno; RELEASE_NOT_RUN */
};

#define RELEASE_NOT_RUN 1		/* planned, not carried out (dry run) */

/* What memtuned found of a guest at its first look, before it wrote any
 * limit: the daemon's memory of it. */
struct release_found {
	char uuid[MT_UUID_LEN];
	/* MT_ABSENT: unlimited, or already memtuned's (its record) */
	int64_t hard_limit_kib;
	int64_t soft_limit_kib;		/* MT_ABSENT: unlimited */
	int64_t memory_low_kib;		/* MT_ABSENT: not on cgroup v2 */
};

struct release_in {
	const struct mt_config *cfg;
	const struct snapshot *snap;
	/* NULL: nothing known of what was found (standalone) */
	const struct release_found *found;
	size_t nr_found;
	bool host_known;		/* a KSM/THP baseline to go back to */
	const char *const *sel;		/* names or UUIDs; none: every guest
					   and the host */
	size_t nr_sel;
};

struct release_guest {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_LEN];
};

struct release_plan {
	struct release_step *steps;
	size_t nr_steps, cap_steps;
	struct release_guest *guests;	/* the guests released (held after) */
	size_t nr_guests, cap_guests;
	bool host;			/* the whole host: KSM/THP, new guests */
	bool dry_run;
};

void release_plan_init(struct release_plan *p);
void release_plan_free(struct release_plan *p);

/* The running guest key names as virsh takes it: an ID (digits) first,
 * then a UUID in any case, then a domain name; NULL when none. */
const struct guest_snapshot *release_resolve(const struct snapshot *snap,
    const char *key);
/* The guests of a selection (IDs, UUIDs or names; none: every running guest)
 * into p->guests. 0; -ENOENT with err naming the first not running;
 * -ENOMEM. */
int release_select(const struct snapshot *snap, const char *const *sel,
    size_t nr_sel, struct release_plan *p, char *err, size_t errlen);

/* Plan a release. 0; -ENOENT when a selected guest is not running (err
 * names it; nothing is planned); -ENOMEM. Pure. */
int release_plan_make(const struct release_in *in, struct release_plan *out,
    char *err, size_t errlen);

/* A guest's balloon target when it is given back: deflate_to of its max
 * memory, within its floor and ceiling (own_hard_limit: the hard limit in
 * force is memtuned's and about to go, so it does not cap). 0 with the
 * bounds, or -EINVAL when the guest's bounds are unknown. Pure; the exit
 * path (on_exit = deflate) uses it too. */
int release_deflate_target(const struct mt_config *cfg,
    const struct guest_snapshot *g, bool own_hard_limit, int64_t *want_kib,
    int64_t *floor_kib, int64_t *ceiling_kib);

/* Carry out the guest steps (not REL_HOST: the engine's) in order; a
 * failed step is logged, the rest goes on. The number that failed. */
/* The steps that bring g to want_kib (release_deflate_target): one
 * balloon step, or for a guest with virtio-mem devices its balloon sized
 * in its boot memory and a step per device to plug (policy_vmem_route),
 * each with `reason`. Nothing when g is there already. 0 or -ENOMEM. */
int release_plan_deflate(const struct mt_config *cfg,
    const struct guest_snapshot *g, int64_t want_kib, int64_t floor_kib,
    int64_t ceiling_kib, const char *reason, struct release_plan *p);
int release_apply(const struct act_ops *ops, void *ctx,
    const struct mcg_mounts *mounts, struct release_plan *p);

const char *release_what_name(enum release_what w);
/* The answer of a release: {"ok","dry_run","host","guests":[...],
 * "steps":[{"guest","uuid","what","from_kib","to_kib","reason","done",
 * "error"}],"failed"}; a limit's null is unlimited. */
struct json_object *release_plan_json(const struct release_plan *p);

#endif
