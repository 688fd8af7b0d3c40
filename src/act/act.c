/* act.c - see act.h */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "act.h"
#include "domxml.h"
#include "virt.h"
#include "log.h"
#include "mm_sysfs.h"
#include "util.h"

/* a limit for a log line: KiB, "unchanged" for MT_ABSENT, "unlimited"
 * for no limit */
/* The journal's REASON_CODE for a guest's action: its reason's key, none
 * when the plan carries no code. */
static const char *
guest_why_key(const struct guest_plan *gp)
{
	return gp->reason_code == GW_WHY_NONE ? NULL :
	    policy_guest_why_name(gp->reason_code);
}

static const char *
fmt_kib(char *buf, size_t len, int64_t kib)
{
	if (!MT_PRESENT(kib))
		snprintf(buf, len, "unchanged");
	else if (kib == POLICY_LIMIT_UNLIMITED)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%lld KiB", (long long)kib);
	return buf;
}

bool
act_err_transient(int rc)
{
	return rc == -ENOTCONN || rc == -ETIMEDOUT || rc == -EAGAIN ||
	    rc == -EBUSY;
}

/* ------------------------------------------------------------ libvirt */

int
act_libvirt_errno(virConnectPtr conn)
{
	/* read before asking about the connection: every libvirt call,
	 * virConnectIsAlive included, resets the last error */
	int rc = virt_error_errno(virGetLastError());

	switch (rc) {
	case -ENOENT:		/* no such domain */
	case -ESRCH:		/* domain not running */
	case -EOPNOTSUPP:
	case -EINVAL:
	case -EACCES:
	case -EPERM:
		return rc;
	default:
		break;
	}
	/* whatever else went wrong, a dead connection is what matters */
	if (rc == -ECONNRESET ||
	    (conn != NULL && virConnectIsAlive(conn) == 0))
		return -ENOTCONN;
	return rc;
}

static const char *
act_libvirt_message(void)
{
	virErrorPtr e = virGetLastError();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

/* A live balloon or memtune change answers in milliseconds when the
 * domain is free (a QMP command, a cgroup file); one that waits for the
 * job lock (a migration or save that began after the job check, a hung
 * QEMU monitor: libvirt waits 30 s for the lock, and forever on a
 * monitor) is given up on after this and tried again at a later tick. The
 * call runs in a worker (virt.h), so the loop, and the control socket
 * with it, is held no longer. */
#define ACT_CALL_DEADLINE_MS 500

/* One balloon or memtune call, copied to the worker and back. */
struct act_call_req {
	char uuid[MT_UUID_LEN];
	char alias[32];			/* a virtio-mem device's */
	int64_t target_kib;
	int64_t hard_kib, soft_kib, swap_hard_kib;
	char msg[256];			/* why it failed, or why it was skipped */
};
_Static_assert(sizeof(struct act_call_req) <= VIRT_CALL_DATA_MAX,
    "a request fits a worker's buffer");

/* In the worker: a failed libvirt call's message and -errno. The message
 * is copied before act_libvirt_errno() may reset it. */
static int
act_capture(virConnectPtr conn, struct act_call_req *r)
{
	mt_strlcpy(r->msg, act_libvirt_message(), sizeof(r->msg));
	return act_libvirt_errno(conn);
}

/* The job check, in the worker, with two calls that take no job lock and
 * so answer at once even while the domain is busy: its state (paused for
 * a save, a dump or a migration since the tick collected it), then its
 * control interface (in a job, its monitor occupied or failed). Either
 * would make the change wait for the job lock: -EBUSY, skipped this tick,
 * with why in r->msg. A driver without them leaves it to the deadline. */
static int
act_busy(virConnectPtr conn, virDomainPtr dom, struct act_call_req *r)
{
	virDomainControlInfo ci;
	char st[96];
	int state, reason, rc;

	if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
	    state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_BLOCKED) {
		virt_state_text(state, reason, st, sizeof(st));
		/* stopped since the tick: gone, as libvirt would say */
		if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED) {
			snprintf(r->msg, sizeof(r->msg), "%s", st);
			return -ESRCH;
		}
		snprintf(r->msg, sizeof(r->msg), "busy: %s", st);
		return -EBUSY;
	}
	if (virDomainGetControlInfo(dom, &ci, 0) < 0) {
		rc = act_capture(conn, r);
		if (rc == -ENOENT || rc == -ESRCH || rc == -ENOTCONN)
			return rc;
		r->msg[0] = '\0';
		return 0;
	}
	switch (ci.state) {
	case VIR_DOMAIN_CONTROL_OK:
		return 0;
	case VIR_DOMAIN_CONTROL_JOB:
		snprintf(r->msg, sizeof(r->msg), "busy: a libvirt job has run "
		    "for %llu ms", ci.stateTime);
		break;
	case VIR_DOMAIN_CONTROL_OCCUPIED:
		snprintf(r->msg, sizeof(r->msg), "busy: its QEMU monitor has "
		    "not answered for %llu ms", ci.stateTime);
		break;
	case VIR_DOMAIN_CONTROL_ERROR:
		snprintf(r->msg, sizeof(r->msg), "busy: its QEMU monitor "
		    "failed (reason %u)", ci.details);
		break;
	default:
		snprintf(r->msg, sizeof(r->msg), "busy: control state %u",
		    ci.state);
		break;
	}
	return -EBUSY;
}

static int
act_do_balloon(virConnectPtr conn, void *data)
{
	struct act_call_req *r = data;
	virDomainPtr dom;
	int rc;

	if ((dom = virDomainLookupByUUIDString(conn, r->uuid)) == NULL)
		return act_capture(conn, r);
	if ((rc = act_busy(conn, dom, r)) == 0 &&
	    virDomainSetMemoryFlags(dom, (unsigned long)r->target_kib,
	    VIR_DOMAIN_AFFECT_LIVE) < 0)
		rc = act_capture(conn, r);
	virDomainFree(dom);
	return rc;
}

static void
act_param(virTypedParameterPtr p, const char *field, int64_t kib)
{
	memset(p, 0, sizeof(*p));
	mt_strlcpy(p->field, field, sizeof(p->field));
	p->type = VIR_TYPED_PARAM_ULLONG;
	/* "no limit" is libvirt's own value: INT64_MAX KiB would overflow
	 * the bytes the cgroup file takes, and libvirt refuses it */
	p->value.ul = kib == POLICY_LIMIT_UNLIMITED ?
	    VIR_DOMAIN_MEMORY_PARAM_UNLIMITED : (unsigned long long)kib;
}

static int
act_do_memtune(virConnectPtr conn, void *data)
{
	/* on the worker's stack: one call per guest and tick allocates
	 * nothing of ours; libvirt orders hard and swap_hard itself */
	struct act_call_req *r = data;
	virTypedParameter params[3];
	virDomainPtr dom;
	int n = 0, rc;

	if (MT_PRESENT(r->hard_kib))
		act_param(&params[n++], VIR_DOMAIN_MEMORY_HARD_LIMIT, r->hard_kib);
	if (MT_PRESENT(r->soft_kib))
		act_param(&params[n++], VIR_DOMAIN_MEMORY_SOFT_LIMIT, r->soft_kib);
	if (MT_PRESENT(r->swap_hard_kib))
		act_param(&params[n++], VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT,
		    r->swap_hard_kib);
	if ((dom = virDomainLookupByUUIDString(conn, r->uuid)) == NULL)
		return act_capture(conn, r);
	if ((rc = act_busy(conn, dom, r)) == 0 &&
	    virDomainSetMemoryParameters(dom, params, n,
	    VIR_DOMAIN_AFFECT_LIVE) < 0)
		rc = act_capture(conn, r);
	virDomainFree(dom);
	return rc;
}

/* Say how a call ended. A guest that stopped or vanished since the tick
 * read it is churn, and a busy one is skipped until a later tick: both
 * said at info. A worker's own timeout was logged where it happened. */
static int
act_report(int rc, const char *what, const char *uuid,
    const struct act_call_req *r)
{
	if (rc == 0)
		return 0;
	if (rc == -ENOENT || rc == -ESRCH)
		log_info("%s %s: skipped, the guest is gone (%s)", what, uuid,
		    r->msg);
	else if (rc == -EBUSY && r->msg[0] != '\0')
		log_info("%s %s: skipped, %s", what, uuid, r->msg);
	else if (rc == -EBUSY)
		log_info("%s %s: skipped, an earlier libvirt call about it has "
		    "not returned", what, uuid);
	else if (rc != -ETIMEDOUT || r->msg[0] != '\0')
		log_warnx("%s %s: %s", what, uuid, r->msg[0] != '\0' ? r->msg :
		    strerror(-rc));
	return rc;
}

int
act_libvirt_set_balloon(virConnectPtr conn, const char *uuid,
    int64_t target_kib)
{
	struct virt_call c = {
		.fn = act_do_balloon, .key = uuid, .what = "balloon",
		.deadline_ms = ACT_CALL_DEADLINE_MS,
	};
	struct act_call_req r;

	if (target_kib <= 0 || (uint64_t)target_kib > ULONG_MAX)
		return -ERANGE;
	memset(&r, 0, sizeof(r));
	if (mt_strlcpy(r.uuid, uuid, sizeof(r.uuid)) >= sizeof(r.uuid))
		return -EINVAL;
	r.target_kib = target_kib;
	return act_report(virt_call_run(conn, &c, &r, sizeof(r)), "balloon",
	    uuid, &r);
}

int
act_libvirt_set_memtune(virConnectPtr conn, const char *uuid,
    int64_t hard_kib, int64_t soft_kib, int64_t swap_hard_kib)
{
	struct virt_call c = {
		.fn = act_do_memtune, .key = uuid, .what = "memtune",
		.deadline_ms = ACT_CALL_DEADLINE_MS,
	};
	struct act_call_req r;

	if (!MT_PRESENT(hard_kib) && !MT_PRESENT(soft_kib) &&
	    !MT_PRESENT(swap_hard_kib))
		return 0;
	memset(&r, 0, sizeof(r));
	if (mt_strlcpy(r.uuid, uuid, sizeof(r.uuid)) >= sizeof(r.uuid))
		return -EINVAL;
	r.hard_kib = hard_kib;
	r.soft_kib = soft_kib;
	r.swap_hard_kib = swap_hard_kib;
	return act_report(virt_call_run(conn, &c, &r, sizeof(r)), "memtune",
	    uuid, &r);
}

/* a virtio-mem device's requested size: its XML as the running domain
 * has it, with <requested> changed (libvirt finds the device by it) */
static int
act_do_vmem(virConnectPtr conn, void *data)
{
	struct act_call_req *r = data;
	virDomainPtr dom;
	char *xml = NULL, *dev = NULL;
	int rc;

	if ((dom = virDomainLookupByUUIDString(conn, r->uuid)) == NULL)
		return act_capture(conn, r);
	if ((rc = act_busy(conn, dom, r)) != 0)
		goto out;
	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL) {
		rc = act_capture(conn, r);
		goto out;
	}
	/* a device gone from the domain is not the domain gone */
	if ((rc = domxml_vmem_request(xml, r->alias, r->target_kib, &dev,
	    r->msg, sizeof(r->msg))) < 0) {
		if (rc == -ENOENT)
			rc = -ENODEV;
		goto out;
	}
	if (virDomainUpdateDeviceFlags(dom, dev, VIR_DOMAIN_AFFECT_LIVE) < 0)
		rc = act_capture(conn, r);
out:
	free(dev);
	free(xml);
	virDomainFree(dom);
	return rc;
}

int
act_libvirt_set_vmem(virConnectPtr conn, const char *uuid, const char *alias,
    int64_t requested_kib)
{
	struct virt_call c = {
		.fn = act_do_vmem, .key = uuid, .what = "virtio-mem",
		.deadline_ms = ACT_CALL_DEADLINE_MS,
	};
	struct act_call_req r;

	if (requested_kib < 0)
		return -ERANGE;
	memset(&r, 0, sizeof(r));
	if (mt_strlcpy(r.uuid, uuid, sizeof(r.uuid)) >= sizeof(r.uuid) ||
	    mt_strlcpy(r.alias, alias, sizeof(r.alias)) >= sizeof(r.alias) ||
	    r.alias[0] == '\0')
		return -EINVAL;
	r.target_kib = requested_kib;
	return act_report(virt_call_run(conn, &c, &r, sizeof(r)), "virtio-mem",
	    uuid, &r);
}

/* memtuned's record of its own hard limit, in the domain's live metadata;
 * the XML travels in msg (two 19-digit numbers and the element around
 * them fit), an empty one removes the record */
static int
act_do_record(virConnectPtr conn, void *data)
{
	struct act_call_req *r = data;
	virDomainPtr dom;
	char xml[sizeof(r->msg)];
	int rc;

	mt_strlcpy(xml, r->msg, sizeof(xml));
	r->msg[0] = '\0';
	if ((dom = virDomainLookupByUUIDString(conn, r->uuid)) == NULL)
		return act_capture(conn, r);
	/* live only, like the limit it describes: both end with the
	 * running domain, and both travel with it when it migrates */
	if ((rc = act_busy(conn, dom, r)) == 0 &&
	    virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    xml[0] != '\0' ? xml : NULL, DOMXML_STATE_KEY, DOMXML_STATE_NS,
	    VIR_DOMAIN_AFFECT_LIVE) < 0)
		rc = act_capture(conn, r);
	virDomainFree(dom);
	return rc;
}

int
act_libvirt_record_hard_limit(virConnectPtr conn, const char *uuid,
    int64_t hard_kib, int64_t target_kib)
{
	struct virt_call c = {
		.fn = act_do_record, .key = uuid, .what = "metadata",
		.deadline_ms = ACT_CALL_DEADLINE_MS,
	};
	struct act_call_req r;

	memset(&r, 0, sizeof(r));
	if (mt_strlcpy(r.uuid, uuid, sizeof(r.uuid)) >= sizeof(r.uuid))
		return -EINVAL;
	if (MT_PRESENT(hard_kib) && domxml_state_element(hard_kib, target_kib,
	    r.msg, sizeof(r.msg)) < 0)
		return -ERANGE;
	return act_report(virt_call_run(conn, &c, &r, sizeof(r)), "metadata",
	    uuid, &r);
}

/* the word a sysfs file currently holds: a selector's bracketed choice
 * ("" when it has no single one, so the write goes ahead), or the whole
 * content without its trailing newline */
static void
act_current_word(const char *buf, char *out, size_t len)
{
	char *end;

	if (strchr(buf, '[') != NULL) {
		if (mt_sysfs_choice(buf, out, len) < 0)
			out[0] = '\0';
		return;
	}
	mt_strlcpy(out, buf, len);
	end = out + strlen(out);
	while (end > out && isspace((unsigned char)end[-1]))
		*--end = '\0';
}

int
act_sysfs_write(const char *path, const char *value)
{
	/* every knob memtuned writes is one short line; a longer file is
	 * not a knob, and is written blind */
	char cur[256], word[sizeof(cur)];
	int rc;

	if (mt_read_file(path, cur, sizeof(cur)) >= 0) {
		act_current_word(cur, word, sizeof(word));
		if (strcmp(word, value) == 0) {
			log_debug("%s already %s", path, value);
			return 0;
		}
	}
	if ((rc = mt_write_file(path, value)) < 0) {
		errno = -rc;
		log_warn("write %s to %s", value, path);
	}
	return rc;
}

static int
libvirt_op_balloon(void *ctx, const char *uuid, int64_t target_kib)
{
	return act_libvirt_set_balloon(ctx, uuid, target_kib);
}

static int
libvirt_op_memtune(void *ctx, const char *uuid, int64_t hard_kib,
    int64_t soft_kib, int64_t swap_hard_kib)
{
	return act_libvirt_set_memtune(ctx, uuid, hard_kib, soft_kib,
	    swap_hard_kib);
}

static int
libvirt_op_sysfs(void *ctx, const char *path, const char *value)
{
	(void)ctx;
	return act_sysfs_write(path, value);
}

static int
libvirt_op_record(void *ctx, const char *uuid, int64_t hard_kib,
    int64_t target_kib)
{
	return act_libvirt_record_hard_limit(ctx, uuid, hard_kib, target_kib);
}

static int
libvirt_op_vmem(void *ctx, const char *uuid, const char *alias,
    int64_t requested_kib)
{
	return act_libvirt_set_vmem(ctx, uuid, alias, requested_kib);
}

const struct act_ops act_libvirt_ops = {
	.set_vmem = libvirt_op_vmem,
	.set_balloon = libvirt_op_balloon,
	.set_memtune = libvirt_op_memtune,
	.write_sysfs = libvirt_op_sysfs,
	.record_hard_limit = libvirt_op_record,
};

/* --------------------------------------------------------------- fake */

void
act_fake_init(struct act_fake *f)
{
	memset(f, 0, sizeof(*f));
}

void
act_fake_clear(struct act_fake *f)
{
	f->nr_calls = 0;
}

void
act_fake_free(struct act_fake *f)
{
	free(f->calls);
	memset(f, 0, sizeof(*f));
}

static struct act_call *
fake_record(struct act_fake *f, enum act_call_kind kind)
{
	struct act_call *c;

	if (f->nr_calls == f->cap_calls) {
		size_t ncap = f->cap_calls ? f->cap_calls * 2 : 16;

		if ((c = reallocarray(f->calls, ncap, sizeof(*c))) == NULL)
			return NULL;
		f->calls = c;
		f->cap_calls = ncap;
	}
	c = &f->calls[f->nr_calls++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->target_kib = c->hard_kib = c->soft_kib = c->swap_hard_kib = MT_ABSENT;
	return c;
}

static int
fake_op_balloon(void *ctx, const char *uuid, int64_t target_kib)
{
	struct act_fake *f = ctx;
	struct act_call *c = fake_record(f, ACT_CALL_BALLOON);

	if (c == NULL)
		return -ENOMEM;
	mt_strlcpy(c->uuid, uuid, sizeof(c->uuid));
	c->target_kib = target_kib;
	return c->rc = f->rc_balloon;
}

static int
fake_op_memtune(void *ctx, const char *uuid, int64_t hard_kib,
    int64_t soft_kib, int64_t swap_hard_kib)
{
	struct act_fake *f = ctx;
	struct act_call *c = fake_record(f, ACT_CALL_MEMTUNE);

	if (c == NULL)
		return -ENOMEM;
	mt_strlcpy(c->uuid, uuid, sizeof(c->uuid));
	c->hard_kib = hard_kib;
	c->soft_kib = soft_kib;
	c->swap_hard_kib = swap_hard_kib;
	return c->rc = f->rc_memtune;
}

static int
fake_op_sysfs(void *ctx, const char *path, const char *value)
{
	struct act_fake *f = ctx;
	struct act_call *c = fake_record(f, ACT_CALL_SYSFS);

	if (c == NULL)
		return -ENOMEM;
	mt_strlcpy(c->path, path, sizeof(c->path));
	mt_strlcpy(c->value, value, sizeof(c->value));
	return c->rc = f->rc_sysfs;
}

static int
fake_op_record(void *ctx, const char *uuid, int64_t hard_kib,
    int64_t target_kib)
{
	struct act_fake *f = ctx;
	struct act_call *c = fake_record(f, ACT_CALL_RECORD);

	if (c == NULL)
		return -ENOMEM;
	mt_strlcpy(c->uuid, uuid, sizeof(c->uuid));
	c->hard_kib = hard_kib;
	c->target_kib = target_kib;
	return c->rc = f->rc_record;
}

static int
fake_op_vmem(void *ctx, const char *uuid, const char *alias,
    int64_t requested_kib)
{
	struct act_fake *f = ctx;
	struct act_call *c = fake_record(f, ACT_CALL_VMEM);

	if (c == NULL)
		return -ENOMEM;
	mt_strlcpy(c->uuid, uuid, sizeof(c->uuid));
	mt_strlcpy(c->value, alias, sizeof(c->value));
	c->target_kib = requested_kib;
	return c->rc = f->rc_vmem;
}

const struct act_ops act_fake_ops = {
	.set_vmem = fake_op_vmem,
	.set_balloon = fake_op_balloon,
	.set_memtune = fake_op_memtune,
	.write_sysfs = fake_op_sysfs,
	.record_hard_limit = fake_op_record,
};

/* --------------------------------------------------------- safety net */

static int
check_balloon(const char *uuid, int64_t target_kib, int64_t floor_kib,
    int64_t ceiling_kib)
{
	if (!MT_PRESENT(floor_kib) || !MT_PRESENT(ceiling_kib) ||
	    floor_kib <= 0 || floor_kib > ceiling_kib) {
		char b1[32], b2[32];

		log_warnx("SAFETY: refusing balloon target %lld KiB for %s: "
		    "no valid bounds (floor %s, ceiling %s)",
		    (long long)target_kib, uuid,
		    fmt_kib(b1, sizeof(b1), floor_kib),
		    fmt_kib(b2, sizeof(b2), ceiling_kib));
		return -ERANGE;
	}
	if (target_kib <= 0 || target_kib < floor_kib ||
	    target_kib > ceiling_kib) {
		log_warnx("SAFETY: refusing balloon target %lld KiB for %s: "
		    "outside floor %lld .. ceiling %lld KiB",
		    (long long)target_kib, uuid, (long long)floor_kib,
		    (long long)ceiling_kib);
		return -ERANGE;
	}
	return 0;
}

int
act_set_balloon_checked(const struct act_ops *ops, void *ctx,
    const char *uuid, int64_t target_kib, int64_t floor_kib,
    int64_t ceiling_kib)
{
	int rc;

	if ((rc = check_balloon(uuid, target_kib, floor_kib, ceiling_kib)) < 0)
		return rc;
	return ops->set_balloon(ctx, uuid, target_kib);
}

int
act_check_vmem(const char *uuid, const struct vmem_dev *dev,
    int64_t requested_kib)
{
	if (!MT_PRESENT(dev->block_kib) || dev->block_kib <= 0 ||
	    !MT_PRESENT(dev->size_kib) || requested_kib < 0 ||
	    requested_kib > dev->size_kib ||
	    requested_kib % dev->block_kib != 0) {
		log_warnx("SAFETY: refusing virtio-mem request %lld KiB for "
		    "%s device '%s': not whole %lld KiB blocks within its "
		    "%lld KiB", (long long)requested_kib, uuid, dev->alias,
		    (long long)dev->block_kib, (long long)dev->size_kib);
		return -ERANGE;
	}
	return 0;
}

static int
check_memtune(const char *uuid, int64_t hard_kib, int64_t soft_kib,
    int64_t swap_hard_kib, int64_t min_hard_kib)
{
	char b1[32], b2[32], b3[32], b4[32];
	const char *why = NULL;

	if ((MT_PRESENT(hard_kib) && hard_kib <= 0) ||
	    (MT_PRESENT(soft_kib) && soft_kib <= 0) ||
	    (MT_PRESENT(swap_hard_kib) && swap_hard_kib <= 0))
		why = "a limit of zero or less";
	else if (MT_PRESENT(hard_kib) && MT_PRESENT(min_hard_kib) &&
	    hard_kib < min_hard_kib)
		why = "hard limit below the guest's minimum";
	else if (MT_PRESENT(hard_kib) && MT_PRESENT(soft_kib) &&
	    soft_kib > hard_kib)
		why = "soft limit above the hard limit";
	else if (MT_PRESENT(hard_kib) && MT_PRESENT(swap_hard_kib) &&
	    swap_hard_kib < hard_kib)
		why = "swap_hard limit below the hard limit";
	if (why == NULL)
		return 0;
	log_warnx("SAFETY: refusing memtune for %s (%s): hard %s, soft %s, "
	    "swap_hard %s, minimum hard %s", uuid, why,
	    fmt_kib(b1, sizeof(b1), hard_kib), fmt_kib(b2, sizeof(b2), soft_kib),
	    fmt_kib(b3, sizeof(b3), swap_hard_kib),
	    fmt_kib(b4, sizeof(b4), min_hard_kib));
	return -ERANGE;
}

int
act_set_memtune_checked(const struct act_ops *ops, void *ctx,
    const char *uuid, int64_t hard_kib, int64_t soft_kib,
    int64_t swap_hard_kib, int64_t min_hard_kib)
{
	int rc;

	if (!MT_PRESENT(hard_kib) && !MT_PRESENT(soft_kib) &&
	    !MT_PRESENT(swap_hard_kib))
		return 0;
	if ((rc = check_memtune(uuid, hard_kib, soft_kib, swap_hard_kib,
	    min_hard_kib)) < 0)
		return rc;
	return ops->set_memtune(ctx, uuid, hard_kib, soft_kib, swap_hard_kib);
}

/* --------------------------------------------------------- whole plans */

static void
note_failure(struct act_result *res, int rc, bool *lost)
{
	if (rc == -ENOENT || rc == -ESRCH) {
		res->gone++;
		return;
	}
	res->failed++;
	if (act_err_transient(rc))
		res->transient = true;
	if (rc == -ENOTCONN)
		*lost = true;
}

/* MEMTUNED_ACTION of a knob write, for the journal */
static const char *
knob_action(const char *path)
{
	if (strstr(path, "/memory.low") != NULL)
		return "memory_low";
	if (strncmp(path, KSM_DIR, strlen(KSM_DIR)) == 0)
		return "ksm";
	if (strncmp(path, THP_DIR, strlen(THP_DIR)) == 0)
		return "thp";
	return "sysfs";
}

static int
apply_knob(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, struct act_result *res,
    const char *path, const char *value, const char *reason)
{
	int rc;

	if (opts->dry_run) {
		log_info("dry-run: would write %s to %s (%s)", value, path, reason);
		res->done++;
		return 0;
	}
	if ((rc = ops->write_sysfs(ctx, path, value)) < 0) {
		res->failed++;
		if (act_err_transient(rc))
			res->transient = true;
		return rc;
	}
	log_event(LOG_INFO, &(struct log_fields){
	    .message_id = LOG_MSGID_KNOB, .action = knob_action(path),
	    .knob = path, .value = value, .reason = reason,
	    .from_kib = -1, .to_kib = -1 },
	    "%s = %s (%s)", path, value, reason);
	res->done++;
	return 0;
}

static int
apply_knob_int(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, struct act_result *res,
    const char *path, int64_t v, const char *reason)
{
	char buf[24];

	if (!MT_PRESENT(v))
		return 0;
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return apply_knob(ops, ctx, opts, res, path, buf, reason);
}

int
act_write_knob(const struct act_ops *ops, void *ctx, bool dry_run,
    const char *path, const char *value, const char *reason)
{
	struct act_apply_opts opts = { .dry_run = dry_run };
	struct act_result res = { 0 };

	return apply_knob(ops, ctx, &opts, &res, path, value, reason);
}

static bool
apply_ksm(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, const struct ksm_plan *k,
    struct act_result *res)
{
	int bad = 0;

	/* stopping comes first and starting last, so ksmd never runs with
	 * half of the new settings; advisor_mode before pages_to_scan,
	 * which the kernel refuses while the advisor is in charge */
	if (MT_PRESENT(k->run) && k->run == 0)
		bad |= apply_knob_int(ops, ctx, opts, res, KSM_DIR "run", 0,
		    k->reason);
	if (k->advisor_mode[0] != '\0')
		bad |= apply_knob(ops, ctx, opts, res, KSM_DIR "advisor_mode",
		    k->advisor_mode, k->reason);
	bad |= apply_knob_int(ops, ctx, opts, res,
	    KSM_DIR "advisor_target_scan_time", k->advisor_target_scan_time,
	    k->reason);
	bad |= apply_knob_int(ops, ctx, opts, res, KSM_DIR "advisor_max_cpu",
	    k->advisor_max_cpu, k->reason);
	bad |= apply_knob_int(ops, ctx, opts, res, KSM_DIR "pages_to_scan",
	    k->pages_to_scan, k->reason);
	bad |= apply_knob_int(ops, ctx, opts, res, KSM_DIR "sleep_millisecs",
	    k->sleep_millisecs, k->reason);
	if (MT_PRESENT(k->run) && k->run != 0)
		bad |= apply_knob_int(ops, ctx, opts, res, KSM_DIR "run", k->run,
		    k->reason);
	return bad == 0;
}

static bool
apply_thp(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, const struct thp_plan *t,
    struct act_result *res)
{
	int bad = 0;

	if (t->defrag[0] != '\0')
		bad |= apply_knob(ops, ctx, opts, res, THP_DIR "defrag",
		    t->defrag, t->reason);
	bad |= apply_knob_int(ops, ctx, opts, res,
	    THP_DIR "khugepaged/scan_sleep_millisecs",
	    t->khugepaged_scan_sleep_millisecs, t->reason);
	bad |= apply_knob_int(ops, ctx, opts, res,
	    THP_DIR "khugepaged/pages_to_scan", t->khugepaged_pages_to_scan,
	    t->reason);
	bad |= apply_knob_int(ops, ctx, opts, res,
	    THP_DIR "khugepaged/max_ptes_none", t->khugepaged_max_ptes_none,
	    t->reason);
	return bad == 0;
}

static const struct guest_snapshot *
plan_guest_snapshot(const struct snapshot *snap, size_t i, const char *uuid)
{
	size_t j;

	if (i < snap->nr_guests && strcmp(snap->guests[i].uuid, uuid) == 0)
		return &snap->guests[i];
	for (j = 0; j < snap->nr_guests; j++)
		if (strcmp(snap->guests[j].uuid, uuid) == 0)
			return &snap->guests[j];
	return NULL;
}

/* What a failed call means for the policy: the guest went away, the call
 * failed, or (the connection being lost) it never got through. */
static enum policy_outcome
failure_outcome(int rc)
{
	return rc == -ENOENT || rc == -ESRCH ? OUTCOME_GONE : OUTCOME_FAILED;
}

/* memory.low written (or, dry run, planned) this tick, by group, so a
 * parent is summed from its children's new values even where nothing was
 * written. Keyed by a 64-bit hash of the path: a collision would take one
 * group's value for another's, at odds of about n^2 / 2^64. A table that
 * fills up leaves the rest to be read from the files: right wherever the
 * writes went through. */
#define ACT_LOW_SLOTS 1024

struct act_low_table {
	uint64_t key[ACT_LOW_SLOTS];	/* 0: free */
	int64_t bytes[ACT_LOW_SLOTS];
	size_t n;
};

static uint64_t
low_key(const char *path)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h != 0 ? h : 1;
}

static int64_t *
low_slot(struct act_low_table *t, const char *path, bool add)
{
	uint64_t k = low_key(path);

	for (size_t i = 0, j = k % ACT_LOW_SLOTS; i < ACT_LOW_SLOTS;
	    i++, j = (j + 1) % ACT_LOW_SLOTS) {
		if (t->key[j] == k)
			return &t->bytes[j];
		if (t->key[j] == 0) {
			/* keep one slot free so a miss always ends */
			if (!add || t->n + 1 >= ACT_LOW_SLOTS)
				return NULL;
			t->key[j] = k;
			t->n++;
			return &t->bytes[j];
		}
	}
	return NULL;
}

static void
low_put(struct act_low_table *t, const char *path, int64_t bytes)
{
	int64_t *v = low_slot(t, path, true);

	if (v != NULL)
		*v = bytes;
}

static bool
low_lookup(const char *path, void *arg, int64_t *bytes)
{
	int64_t *v = low_slot(arg, path, false);

	if (v == NULL)
		return false;
	*bytes = *v;
	return true;
}

static enum policy_outcome
apply_memory_low(const struct act_ops *ops, void *ctx,
    const struct policy_config *pc, const struct act_apply_opts *opts,
    const struct guest_snapshot *g, const struct guest_plan *gp,
    struct act_low_table *lows, struct act_result *res)
{
	char dir[PATH_MAX], path[PATH_MAX], val[24];
	int64_t bound = MT_ABSENT;
	int rc;

	if (!MT_PRESENT(gp->memory_low_kib) || opts->mounts == NULL ||
	    opts->mounts->version != 2 || g->cgroup_version != 2 ||
	    !MT_PRESENT(g->qemu_pid))
		return MT_PRESENT(gp->memory_low_kib) ? OUTCOME_SKIPPED :
		    OUTCOME_NONE;
	/* the cgroup holds QEMU's own memory next to guest RAM, so the
	 * most memory.low may protect is the ceiling plus that overhead;
	 * above it would protect more than the guest may ever have: a
	 * plan bug, not something to write */
	if (MT_PRESENT(gp->ceiling_kib))
		bound = gp->ceiling_kib + policy_qemu_overhead_kib(pc,
		    MT_PRESENT(g->max_kib) ? g->max_kib : gp->ceiling_kib);
	if (gp->memory_low_kib < 0 || (MT_PRESENT(bound) &&
	    gp->memory_low_kib > bound)) {
		log_warnx("SAFETY: refusing memory.low %lld KiB for %s "
		    "(ceiling %lld KiB plus QEMU overhead: %lld KiB)",
		    (long long)gp->memory_low_kib, gp->name,
		    (long long)gp->ceiling_kib, (long long)bound);
		res->failed++;
		return OUTCOME_REFUSED;
	}
	if ((rc = mcg_find(opts->mounts, (pid_t)g->qemu_pid, dir,
	    sizeof(dir))) < 0) {
		if (rc == -ENOENT)
			res->gone++;
		else
			res->failed++;
		return failure_outcome(rc);
	}
	if (snprintf(path, sizeof(path), "%s/memory.low", dir) >=
	    (int)sizeof(path)) {
		res->failed++;
		return OUTCOME_FAILED;
	}
	snprintf(val, sizeof(val), "%lld", (long long)gp->memory_low_kib * 1024);
	if (apply_knob(ops, ctx, opts, res, path, val, gp->reason) < 0)
		return OUTCOME_FAILED;
	low_put(lows, dir, gp->memory_low_kib * 1024);
	return opts->dry_run ? OUTCOME_DRY_RUN : OUTCOME_APPLIED;
}

/* The guest group of plan guest i whose memory.low went out this tick
 * (found again from its QEMU pid), or -ENOENT. */
static int
low_guest_dir(const struct act_apply_opts *opts, const struct snapshot *snap,
    const struct policy_plan *plan, size_t i, struct act_low_table *lows,
    char *dir, size_t len)
{
	const struct guest_plan *gp = &plan->guests[i];
	const struct guest_snapshot *g;
	int64_t v;

	if (!MT_PRESENT(gp->memory_low_kib) ||
	    (gp->action != ACT_MEMTUNE && gp->action != ACT_BOTH) ||
	    (g = plan_guest_snapshot(snap, i, gp->uuid)) == NULL ||
	    !MT_PRESENT(g->qemu_pid) ||
	    mcg_find(opts->mounts, (pid_t)g->qemu_pid, dir, len) < 0 ||
	    !low_lookup(dir, lows, &v))
		return -ENOENT;
	return 0;
}

/* Make every ancestor below the root of the groups written this tick cover
 * the sum of its children's memory.low, deepest first, so a machine
 * scope holds its guest's floor before machine.slice sums the scopes. A
 * parent shared by many guests is summed once a tick. */
static void
apply_low_parents(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, const struct snapshot *snap,
    const struct policy_plan *plan, struct act_low_table *lows,
    struct act_result *res)
{
	char dir[PATH_MAX], anc[PATH_MAX], path[PATH_MAX], val[24];
	int64_t sum, cur;
	int maxd = 0, d, rc;

	if (lows->n == 0)
		return;
	for (size_t i = 0; i < plan->nr_guests; i++)
		if (low_guest_dir(opts, snap, plan, i, lows, dir,
		    sizeof(dir)) == 0)
			maxd = MAX(maxd, mcg_depth(opts->mounts, dir));
	for (int depth = maxd - 1; depth >= 1; depth--) {
		for (size_t i = 0; i < plan->nr_guests; i++) {
			if (low_guest_dir(opts, snap, plan, i, lows, dir,
			    sizeof(dir)) < 0 ||
			    (d = mcg_depth(opts->mounts, dir)) <= depth ||
			    mcg_ancestor(opts->mounts, dir, depth, anc,
			    sizeof(anc)) < 0 ||
			    low_lookup(anc, lows, &sum))
				continue;
			if ((rc = mcg_children_low_sum(anc, low_lookup, lows,
			    &sum)) < 0) {
				errno = -rc;
				log_warn("memory.low of the groups under %s", anc);
				res->failed++;
				continue;
			}
			low_put(lows, anc, sum);
			if (mcg_read_low_bytes(anc, &cur) == 0 && cur == sum)
				continue;
			if (snprintf(path, sizeof(path), "%s/memory.low", anc) >=
			    (int)sizeof(path)) {
				res->failed++;
				continue;
			}
			if (sum == MCG_LOW_MAX)
				snprintf(val, sizeof(val), "max");
			else
				snprintf(val, sizeof(val), "%lld", (long long)sum);
			apply_knob(ops, ctx, opts, res, path, val,
			    "a parent covers its groups' memory.low, or the "
			    "floors below it do not hold");
		}
	}
}

static enum policy_outcome
apply_balloon(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, const struct guest_plan *gp,
    struct act_result *res, bool *lost)
{
	int rc;

	if (*lost)
		return OUTCOME_SKIPPED;
	if (check_balloon(gp->uuid, gp->target_kib, gp->floor_kib,
	    gp->ceiling_kib) < 0) {
		res->failed++;
		return OUTCOME_REFUSED;
	}
	if (opts->dry_run) {
		log_info("dry-run: would set balloon of %s from %lld to %lld "
		    "MiB (%s)", gp->name, (long long)gp->actual_kib / 1024,
		    (long long)gp->target_kib / 1024, gp->reason);
		res->done++;
		return OUTCOME_DRY_RUN;
	}
	if ((rc = ops->set_balloon(ctx, gp->uuid, gp->target_kib)) < 0) {
		note_failure(res, rc, lost);
		return failure_outcome(rc);
	}
	log_event(LOG_INFO, &(struct log_fields){
	    .message_id = LOG_MSGID_BALLOON, .action = "balloon",
	    .guest_name = gp->name, .guest_uuid = gp->uuid,
	    .reason = gp->reason, .reason_code = guest_why_key(gp),
	    .from_kib = (long long)gp->actual_kib,
	    .to_kib = (long long)gp->target_kib },
	    "balloon %s: %lld -> %lld MiB (%s)", gp->name,
	    (long long)gp->actual_kib / 1024, (long long)gp->target_kib / 1024,
	    gp->reason);
	res->done++;
	return OUTCOME_APPLIED;
}

/* Every step of a move by virtio-mem passes the safety net before any
 * is made: where the guest ends up inside [floor, ceiling], the
 * balloon's size inside the boot memory and not above the end, each
 * request on its device's blocks. */
static int
check_vmem_move(const struct guest_snapshot *g, const struct guest_plan *gp)
{
	const struct guest_vmem *vm = &g->backing.vmem;

	if (check_balloon(gp->uuid, gp->target_kib, gp->floor_kib,
	    gp->ceiling_kib) < 0)
		return -ERANGE;
	/* the balloon of such a guest is sized in its boot memory: above
	 * 0, at most the boot memory, and never more than the end */
	if (MT_PRESENT(gp->balloon_kib) && (gp->balloon_kib <= 0 ||
	    gp->balloon_kib > gp->target_kib ||
	    !MT_PRESENT(g->max_kib) || !MT_PRESENT(vm->size_kib) ||
	    gp->balloon_kib > g->max_kib - vm->size_kib)) {
		log_warnx("SAFETY: refusing balloon size %lld KiB for %s: not "
		    "inside its boot memory, or above where it ends (%lld KiB)",
		    (long long)gp->balloon_kib, gp->name,
		    (long long)gp->target_kib);
		return -ERANGE;
	}
	for (int d = 0; d < MT_VMEM_MAX; d++) {
		if (!MT_PRESENT(gp->vmem_req_kib[d]))
			continue;
		if (d >= vm->count) {
			log_warnx("SAFETY: refusing virtio-mem request for %s: "
			    "device %d is not in its XML", gp->name, d);
			return -ERANGE;
		}
		if (act_check_vmem(gp->uuid, &vm->dev[d],
		    gp->vmem_req_kib[d]) < 0)
			return -ERANGE;
	}
	return 0;
}

static void
log_vmem(const struct guest_plan *gp, const struct vmem_dev *dev,
    int64_t req)
{
	log_event(LOG_INFO, &(struct log_fields){
	    .message_id = LOG_MSGID_BALLOON, .action = "virtio-mem",
	    .guest_name = gp->name, .guest_uuid = gp->uuid,
	    .reason = gp->reason, .reason_code = guest_why_key(gp),
	    .from_kib = (long long)dev->requested_kib,
	    .to_kib = (long long)req },
	    "virtio-mem %s %s: requested %lld -> %lld MiB (%s)", gp->name,
	    dev->alias, (long long)dev->requested_kib / 1024,
	    (long long)req / 1024, gp->reason);
}

/* A move of a guest with virtio-mem devices (policy_vmem_route): the
 * balloon's size, in the boot memory, then each device's request. */
static enum policy_outcome
apply_vmem(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, const struct guest_snapshot *g,
    const struct guest_plan *gp, struct act_result *res, bool *lost)
{
	bool send_balloon = MT_PRESENT(gp->balloon_kib) &&
	    gp->balloon_kib != gp->actual_kib;
	int rc, n = send_balloon;

	for (int d = 0; d < MT_VMEM_MAX; d++)
		n += MT_PRESENT(gp->vmem_req_kib[d]);
	/* a block's rounding left nothing to ask, or the devices are on
	 * their way to what they were asked */
	if (n == 0)
		return OUTCOME_NONE;
	if (*lost)
		return OUTCOME_SKIPPED;
	if (g == NULL || check_vmem_move(g, gp) < 0) {
		if (g == NULL)
			log_warnx("SAFETY: refusing virtio-mem move of %s: its "
			    "devices are not known", gp->name);
		res->failed++;
		return OUTCOME_REFUSED;
	}
	if (opts->dry_run) {
		log_info("dry-run: would move %s from %lld to %lld MiB: "
		    "virtio-mem %+lld MiB, balloon %s (%s)", gp->name,
		    (long long)gp->actual_kib / 1024,
		    (long long)gp->target_kib / 1024,
		    (long long)gp->vmem_moved_kib / 1024,
		    MT_PRESENT(gp->balloon_kib) ? "moved" : "as is", gp->reason);
		res->done++;
		return OUTCOME_DRY_RUN;
	}
	if (send_balloon &&
	    (rc = ops->set_balloon(ctx, gp->uuid, gp->balloon_kib)) < 0) {
		note_failure(res, rc, lost);
		return failure_outcome(rc);
	}
	for (int d = 0; d < g->backing.vmem.count && d < MT_VMEM_MAX; d++) {
		const struct vmem_dev *dev = &g->backing.vmem.dev[d];

		if (!MT_PRESENT(gp->vmem_req_kib[d]))
			continue;
		if ((rc = ops->set_vmem(ctx, gp->uuid, dev->alias,
		    gp->vmem_req_kib[d])) < 0) {
			note_failure(res, rc, lost);
			return failure_outcome(rc);
		}
		log_vmem(gp, dev, gp->vmem_req_kib[d]);
	}
	res->done++;
	return OUTCOME_APPLIED;
}

/* Before a finite hard limit goes in, memtuned records it as its own
 * (with the balloon target it goes with), so that a restarted memtuned can
 * tell it from an operator's: without the record the limit is not set. */
static int
record_before(const struct act_ops *ops, void *ctx,
    const struct guest_plan *gp, int64_t hard, const struct guest_snapshot *g)
{
	int rc;

	if (!MT_PRESENT(hard) || hard == POLICY_LIMIT_UNLIMITED ||
	    (g != NULL && hard == g->own_hard_limit_kib &&
	    gp->target_kib == g->own_target_kib))
		return 0;
	if ((rc = ops->record_hard_limit(ctx, gp->uuid, hard,
	    gp->target_kib)) < 0 && rc != -ENOENT && rc != -ESRCH)
		log_warnx("memtune %s: hard limit not set: it could not be "
		    "recorded as memtuned's (%s)", gp->name, strerror(-rc));
	return rc;
}

/* After the memtune call (mrc): a lifted limit's record goes; a failed
 * set puts back the record the guest had, which still describes the
 * limit in force. */
static void
record_after(const struct act_ops *ops, void *ctx,
    const struct guest_plan *gp, int64_t hard, const struct guest_snapshot *g,
    int mrc)
{
	int64_t own = g != NULL ? g->own_hard_limit_kib : MT_ABSENT;
	int64_t own_target = g != NULL ? g->own_target_kib : MT_ABSENT;
	int rc = 0;

	if (!MT_PRESENT(hard) || mrc == -ENOTCONN)
		return;
	if (mrc == 0 && hard == POLICY_LIMIT_UNLIMITED &&
	    (MT_PRESENT(own) || g == NULL))
		rc = ops->record_hard_limit(ctx, gp->uuid, MT_ABSENT, MT_ABSENT);
	else if (mrc < 0 && hard != POLICY_LIMIT_UNLIMITED &&
	    (hard != own || gp->target_kib != own_target))
		rc = ops->record_hard_limit(ctx, gp->uuid, own, own_target);
	/* a stale record is harmless: it counts only while it matches the
	 * limit in force */
	if (rc < 0 && rc != -ENOENT && rc != -ESRCH)
		log_warnx("memtune %s: memtuned's record of its hard limit "
		    "not updated (%s)", gp->name, strerror(-rc));
}

/* The memtune call: hard (MT_ABSENT when held back), soft and swap_hard
 * as planned. min_hard: the least hard limit that keeps the VM alive; g:
 * the guest as collected, with memtuned's record of its hard limit. */
static enum policy_outcome
apply_memtune(const struct act_ops *ops, void *ctx,
    const struct act_apply_opts *opts, const struct guest_plan *gp,
    const struct guest_snapshot *g, int64_t hard, int64_t min_hard,
    struct act_result *res, bool *lost)
{
	char b1[32], b2[32], b3[32];
	int rc;

	if (*lost)
		return OUTCOME_SKIPPED;
	if (MT_PRESENT(hard) && !MT_PRESENT(min_hard)) {
		log_warnx("SAFETY: refusing hard limit for %s: its floor "
		    "or max memory is unknown", gp->name);
		res->failed++;
		return OUTCOME_REFUSED;
	}
	if (check_memtune(gp->uuid, hard, gp->soft_limit_kib,
	    gp->swap_hard_limit_kib, min_hard) < 0) {
		res->failed++;
		return OUTCOME_REFUSED;
	}
	if (opts->dry_run) {
		log_info("dry-run: would set memtune of %s: hard %s, soft %s, "
		    "swap_hard %s (%s)", gp->name, fmt_kib(b1, sizeof(b1), hard),
		    fmt_kib(b2, sizeof(b2), gp->soft_limit_kib),
		    fmt_kib(b3, sizeof(b3), gp->swap_hard_limit_kib),
		    gp->reason);
		res->done++;
		return OUTCOME_DRY_RUN;
	}
	if ((rc = record_before(ops, ctx, gp, hard, g)) < 0) {
		note_failure(res, rc, lost);
		return failure_outcome(rc);
	}
	rc = ops->set_memtune(ctx, gp->uuid, hard, gp->soft_limit_kib,
	    gp->swap_hard_limit_kib);
	record_after(ops, ctx, gp, hard, g, rc);
	if (rc < 0) {
		note_failure(res, rc, lost);
		return failure_outcome(rc);
	}
	log_event(LOG_INFO, &(struct log_fields){
	    .message_id = LOG_MSGID_MEMTUNE, .action = "memtune",
	    .guest_name = gp->name, .guest_uuid = gp->uuid,
	    .reason = gp->reason, .reason_code = guest_why_key(gp),
	    .from_kib = -1,
	    .to_kib = MT_PRESENT(hard) && hard != POLICY_LIMIT_UNLIMITED &&
	    hard >= 0 ? (long long)hard : -1 },
	    "memtune %s: hard %s, soft %s, swap_hard %s (%s)", gp->name,
	    fmt_kib(b1, sizeof(b1), hard),
	    fmt_kib(b2, sizeof(b2), gp->soft_limit_kib),
	    fmt_kib(b3, sizeof(b3), gp->swap_hard_limit_kib), gp->reason);
	res->done++;
	return OUTCOME_APPLIED;
}

static void
apply_guest(const struct act_ops *ops, void *ctx,
    const struct policy_config *pc, const struct act_apply_opts *opts,
    const struct guest_snapshot *g, const struct guest_plan *gp,
    struct act_low_table *lows, struct act_result *res,
    struct policy_guest_result *gr, bool *lost)
{
	bool balloon = gp->action == ACT_BALLOON || gp->action == ACT_BOTH;
	bool memtune = gp->action == ACT_MEMTUNE || gp->action == ACT_BOTH;
	int64_t hard = opts->manage_hard_limit ? gp->hard_limit_kib : MT_ABSENT;
	int64_t max_kib = g != NULL ? g->max_kib : gp->ceiling_kib;
	int64_t min_hard = MT_ABSENT;

	if (balloon && gp->vmem)
		gr->balloon = apply_vmem(ops, ctx, opts, g, gp, res, lost);
	else if (balloon && gp->target_kib != gp->actual_kib)
		gr->balloon = apply_balloon(ops, ctx, opts, gp, res, lost);
	if (!memtune)
		return;
	/* the guest's floor plus what QEMU needs beyond guest RAM: a hard
	 * limit below it would get the VM killed, not squeezed */
	if (MT_PRESENT(gp->floor_kib) && MT_PRESENT(max_kib))
		min_hard = gp->floor_kib + policy_qemu_overhead_kib(pc, max_kib);
	if (MT_PRESENT(hard) || MT_PRESENT(gp->soft_limit_kib) ||
	    MT_PRESENT(gp->swap_hard_limit_kib))
		gr->memtune = apply_memtune(ops, ctx, opts, gp, g, hard,
		    min_hard, res, lost);
	if (MT_PRESENT(gp->hard_limit_kib))
		gr->hard_limit = MT_PRESENT(hard) ? gr->memtune :
		    OUTCOME_SKIPPED;
	if (g != NULL)
		gr->memory_low = apply_memory_low(ops, ctx, pc, opts, g, gp,
		    lows, res);
}

int
act_apply_plan(const struct act_ops *ops, void *ctx,
    const struct policy_config *pc, const struct act_apply_opts *opts,
    const struct snapshot *snap, const struct policy_plan *plan,
    struct act_result *res, struct policy_results *out)
{
	struct policy_guest_result scratch;
	/* 16 KiB on the stack: nothing allocated per tick */
	struct act_low_table lows;
	bool lost = false;
	size_t i;

	memset(res, 0, sizeof(*res));
	if (out != NULL && policy_results_reset(out, plan) < 0)
		return -ENOMEM;
	memset(&lows, 0, sizeof(lows));
	for (i = 0; i < plan->nr_guests; i++) {
		const struct guest_plan *gp = &plan->guests[i];
		struct policy_guest_result *gr = out != NULL ? &out->guests[i] :
		    &scratch;

		memset(gr, 0, sizeof(*gr));
		if (gp->action == ACT_NONE || gp->action == ACT_LEAVE_ALONE)
			continue;
		apply_guest(ops, ctx, pc, opts,
		    plan_guest_snapshot(snap, i, gp->uuid), gp, &lows, res, gr,
		    &lost);
	}
	if (opts->mounts != NULL && opts->mounts->version == 2)
		apply_low_parents(ops, ctx, opts, snap, plan, &lows, res);
	if (plan->ksm.change) {
		if (!opts->manage_ksm)
			log_debug("KSM change not made: manage_ksm = no (%s)",
			    plan->ksm.reason);
		else if (apply_ksm(ops, ctx, opts, &plan->ksm, res))
			res->ksm_applied = !opts->dry_run;
	}
	if (plan->thp.change) {
		if (!opts->manage_thp)
			log_debug("THP change not made: manage_thp = no (%s)",
			    plan->thp.reason);
		else if (apply_thp(ops, ctx, opts, &plan->thp, res))
			res->thp_applied = !opts->dry_run;
	}
	if (out != NULL) {
		out->ksm_applied = res->ksm_applied;
		out->thp_applied = res->thp_applied;
	}
	if (lost) {
		log_warnx("libvirt connection lost; remaining guest changes "
		    "wait for the reconnect");
		return -ENOTCONN;
	}
	return 0;
}
