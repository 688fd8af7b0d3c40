/* act.h - the actuators: balloon targets and memtune limits through
 * libvirt, KSM/THP/cgroup knobs through sysfs.
 *
 * Everything goes through a small ops table so the loop, the simulator
 * and the tests can swap in the recording fake. The checked wrappers are
 * a safety net of their own: whatever the policy asks, a balloon target
 * outside [floor, ceiling] or a hard limit below the guest's minimum is
 * refused here, loudly.
 *
 * Errors are -errno. Transient (try again next tick): -ENOTCONN (the
 * libvirt connection is gone: reconnect), -ETIMEDOUT, -EAGAIN, -EBUSY.
 * Everything else is permanent for this tick: -ENOENT (no such domain),
 * -ESRCH (domain not running), -EOPNOTSUPP (driver or guest cannot do
 * it), -EINVAL, -EACCES, -EIO.
 */
#ifndef MEMTUNED_ACT_H
#define MEMTUNED_ACT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "cgroup.h"
#include "policy.h"
#include "snapshot.h"

struct act_ops {
	/* live balloon target, KiB */
	int (*set_balloon)(void *ctx, const char *uuid, int64_t target_kib);
	/* live memtune, KiB; MT_ABSENT leaves that limit unchanged */
	int (*set_memtune)(void *ctx, const char *uuid, int64_t hard_kib,
	    int64_t soft_kib, int64_t swap_hard_kib);
	/* a sysfs or cgroup file under the util.h root prefix */
	int (*write_sysfs)(void *ctx, const char *path, const char *value);
	/* memtuned's record of the hard limit it set and the balloon target
	 * then, KiB, in the running domain's metadata (domxml.h,
	 * DOMXML_STATE_NS), so a restarted memtuned knows the limit is its
	 * own; hard_kib MT_ABSENT removes it */
	int (*record_hard_limit)(void *ctx, const char *uuid, int64_t hard_kib,
	    int64_t target_kib);
	/* live requested size of the virtio-mem device named alias, KiB */
	int (*set_vmem)(void *ctx, const char *uuid, const char *alias,
	    int64_t requested_kib);
};

/* The real thing: ctx is the virConnectPtr. */
extern const struct act_ops act_libvirt_ops;

/* Each call runs in a worker with a deadline (virt.h), after a job check
 * that takes no lock (virDomainGetState, virDomainGetControlInfo): a
 * domain not running, in a job or with a busy monitor is skipped with
 * -EBUSY and the reason logged; no answer within 500 ms is -ETIMEDOUT,
 * and the loop goes on. */
int act_libvirt_set_balloon(virConnectPtr conn, const char *uuid,
    int64_t target_kib);
int act_libvirt_set_memtune(virConnectPtr conn, const char *uuid,
    int64_t hard_kib, int64_t soft_kib, int64_t swap_hard_kib);
int act_libvirt_record_hard_limit(virConnectPtr conn, const char *uuid,
    int64_t hard_kib, int64_t target_kib);
/* The device's XML from the running domain, <requested> changed, through
 * virDomainUpdateDeviceFlags (live): what `virsh update-memory-device`
 * does. -ENOENT also when the domain has no device by that alias. */
int act_libvirt_set_vmem(virConnectPtr conn, const char *uuid,
    const char *alias, int64_t requested_kib);
/* Map libvirt's last error (after a failed call on conn) to -errno. */
int act_libvirt_errno(virConnectPtr conn);
/* Write value to path (under the root prefix), unless the file already
 * holds it; for a choice file ("always [madvise] never") the bracketed
 * word is the current value. 0 or -errno. */
int act_sysfs_write(const char *path, const char *value);

bool act_err_transient(int rc);

/* --------------------------------------------------- the recording fake */

enum act_call_kind {
	ACT_CALL_BALLOON,
	ACT_CALL_MEMTUNE,
	ACT_CALL_SYSFS,
	ACT_CALL_RECORD,		/* hard_kib and target_kib recorded;
					   hard_kib MT_ABSENT: removed */
	ACT_CALL_VMEM,			/* target_kib: the requested size;
					   value: the device's alias */
};

struct act_call {
	enum act_call_kind kind;
	char uuid[MT_UUID_LEN];
	int64_t target_kib;
	int64_t hard_kib;
	int64_t soft_kib;
	int64_t swap_hard_kib;
	char path[PATH_MAX];
	char value[64];
	int rc;				/* what the fake returned */
};

/* ctx for act_fake_ops. Set rc_* to make every call of that kind fail
 * (the call is still recorded). */
struct act_fake {
	struct act_call *calls;
	size_t nr_calls;
	size_t cap_calls;
	int rc_balloon;
	int rc_memtune;
	int rc_sysfs;
	int rc_record;
	int rc_vmem;
};

extern const struct act_ops act_fake_ops;

void act_fake_init(struct act_fake *f);
void act_fake_clear(struct act_fake *f);	/* forget calls, keep rc_* */
void act_fake_free(struct act_fake *f);

/* ------------------------------------------------------- safety net */

/* Refuse (-ERANGE, logged as an error) a target <= 0, outside
 * [floor_kib, ceiling_kib], or with either bound absent or inverted. */
int act_set_balloon_checked(const struct act_ops *ops, void *ctx,
    const char *uuid, int64_t target_kib, int64_t floor_kib,
    int64_t ceiling_kib);
/* Refuse (-ERANGE, logged) a virtio-mem request that is not a whole
 * number of the device's blocks or lies outside [0, its size]. */
int act_check_vmem(const char *uuid, const struct vmem_dev *dev,
    int64_t requested_kib);
/* Refuse (-ERANGE) a hard limit below min_hard_kib, a soft limit above
 * the hard one, a swap_hard limit below the hard one, or a value <= 0.
 * All three MT_ABSENT: nothing to do, 0. */
int act_set_memtune_checked(const struct act_ops *ops, void *ctx,
    const char *uuid, int64_t hard_kib, int64_t soft_kib,
    int64_t swap_hard_kib, int64_t min_hard_kib);

/* One KSM or THP knob (path under KSM_DIR or THP_DIR) set to value the
 * way a plan's knobs are: through ops->write_sysfs and logged with reason,
 * or, dry_run, only logged as "dry-run: would write". For what is not a
 * plan, the restore of the host's settings at exit or release. 0 or the
 * write's -errno. */
int act_write_knob(const struct act_ops *ops, void *ctx, bool dry_run,
    const char *path, const char *value, const char *reason);

/* ------------------------------------------------------- whole plans */

struct act_apply_opts {
	bool dry_run;			/* log "dry-run: would ...", change nothing */
	bool manage_ksm;		/* [daemon] master switches */
	bool manage_thp;
	bool manage_hard_limit;
	/* for memory.low on cgroup v2; NULL: memory.low is not written */
	const struct mcg_mounts *mounts;
};

struct act_result {
	int done;			/* changes made (or, dry run, logged) */
	int failed;			/* refused by the safety net or by the system */
	int gone;			/* guests that vanished (-ENOENT/-ESRCH) */
	bool transient;			/* a failure worth retrying soon */
	bool ksm_applied;		/* KSM writes all went through */
	bool thp_applied;
};

/* Carry out a plan made from snap (plan->guests[i] belongs to
 * snap->guests[i]). Each guest and knob is tried; failures are logged and
 * counted, the rest goes on. out (NULL: not wanted) gets what became of
 * each guest's changes, for policy_commit(): applied, failed, refused by
 * the safety net, skipped (after a lost connection, or a hard limit held
 * back by manage_hard_limit = no), dry-run, or gone. A balloon target
 * equal to the balloon's size is not sent and stays OUTCOME_NONE.
 * Returns 0, -ENOMEM when out cannot be sized (nothing is done), or
 * -ENOTCONN when the libvirt connection was lost (the remaining libvirt
 * steps are skipped; the caller reconnects). */
int act_apply_plan(const struct act_ops *ops, void *ctx,
    const struct policy_config *pc, const struct act_apply_opts *opts,
    const struct snapshot *snap, const struct policy_plan *plan,
    struct act_result *res, struct policy_results *out);

#endif
