/* taskstats.c - see taskstats.h */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/taskstats.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "log.h"
#include "taskstats.h"
#include "util.h"

#define TS_DELAYACCT "/proc/sys/kernel/task_delayacct"

static int
nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_OBJ_NOTFOUND:
		return -ESRCH;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	default:
		return -EIO;
	}
}

int
taskstats_open(struct taskstats_conn *c)
{
	int rc;

	c->sk = NULL;
	c->family = -1;
	if ((c->sk = nl_socket_alloc()) == NULL)
		return -ENOMEM;
	if ((rc = genl_connect(c->sk)) < 0) {
		log_debug("taskstats: genl_connect: %s", nl_geterror(rc));
		rc = nl_to_errno(rc);
		goto fail;
	}
	if ((rc = genl_ctrl_resolve(c->sk, TASKSTATS_GENL_NAME)) < 0) {
		log_debug("taskstats: family %s: %s", TASKSTATS_GENL_NAME,
		    nl_geterror(rc));
		rc = -ENOENT;
		goto fail;
	}
	c->family = rc;
	/* the kernel sends an error message on failure anyway; an ACK after
	 * each reply would be left queued and read as the next answer */
	nl_socket_disable_auto_ack(c->sk);
	return 0;
fail:
	nl_socket_free(c->sk);
	c->sk = NULL;
	return rc;
}

void
taskstats_close(struct taskstats_conn *c)
{
	if (c->sk != NULL)
		nl_socket_free(c->sk);
	c->sk = NULL;
	c->family = -1;
}

/* A field is there when the kernel's struct is long enough to hold it: the
 * struct only ever grows at the end (see the header's version rules). */
#define TS_FIELD(ts, len, field) \
	((len) >= offsetof(struct taskstats, field) + \
	    sizeof(((struct taskstats *)0)->field) ? \
	    (int64_t)(ts).field : MT_ABSENT)

int
taskstats_parse_reply(struct nlmsghdr *nlh, pid_t pid,
    struct taskstats_sample *out)
{
	struct nlattr *attrs[TASKSTATS_TYPE_MAX + 1];
	struct nlattr *inner[TASKSTATS_TYPE_MAX + 1];
	struct nlattr *aggr, *id;
	struct taskstats ts;
	size_t len;

	if (genlmsg_parse(nlh, 0, attrs, TASKSTATS_TYPE_MAX, NULL) < 0)
		return -EINVAL;
	if ((aggr = attrs[TASKSTATS_TYPE_AGGR_TGID]) == NULL &&
	    (aggr = attrs[TASKSTATS_TYPE_AGGR_PID]) == NULL)
		return -EINVAL;
	if (nla_parse_nested(inner, TASKSTATS_TYPE_MAX, aggr, NULL) < 0)
		return -EINVAL;
	id = inner[TASKSTATS_TYPE_TGID] != NULL ? inner[TASKSTATS_TYPE_TGID] :
	    inner[TASKSTATS_TYPE_PID];
	if (id == NULL || nla_len(id) < (int)sizeof(uint32_t) ||
	    nla_get_u32(id) != (uint32_t)pid)
		return -EINVAL;
	if (inner[TASKSTATS_TYPE_STATS] == NULL)
		return -EINVAL;
	len = (size_t)nla_len(inner[TASKSTATS_TYPE_STATS]);
	/* version and the first delay block are in every kernel's struct */
	if (len < offsetof(struct taskstats, cpu_run_real_total) +
	    sizeof(ts.cpu_run_real_total))
		return -EINVAL;
	memset(&ts, 0, sizeof(ts));
	memcpy(&ts, nla_data(inner[TASKSTATS_TYPE_STATS]),
	    len < sizeof(ts) ? len : sizeof(ts));
	/* the kernel's u64 nanoseconds: above INT64_MAX (292 years) the
	 * reply is corrupt, and the cast would make it negative or absent */
	if (ts.swapin_delay_total > INT64_MAX ||
	    ts.cpu_run_real_total > INT64_MAX ||
	    ts.freepages_delay_total > INT64_MAX ||
	    ts.thrashing_delay_total > INT64_MAX)
		return -EINVAL;
	out->version = ts.version;
	out->swapin_delay_ns = (int64_t)ts.swapin_delay_total;
	out->cpu_run_real_ns = (int64_t)ts.cpu_run_real_total;
	out->freepages_delay_ns = TS_FIELD(ts, len, freepages_delay_total);
	out->thrashing_delay_ns = TS_FIELD(ts, len, thrashing_delay_total);
	return 0;
}

struct ts_ctx {
	pid_t pid;
	struct taskstats_sample *out;
	int rc;
};

static int
ts_valid_cb(struct nl_msg *msg, void *arg)
{
	struct ts_ctx *ctx = arg;

	ctx->rc = taskstats_parse_reply(nlmsg_hdr(msg), ctx->pid, ctx->out);
	return NL_OK;
}

int
taskstats_query_tgid(struct taskstats_conn *c, pid_t pid,
    struct taskstats_sample *out)
{
	struct ts_ctx ctx = { pid, out, -ENODATA };
	struct nl_msg *msg = NULL;
	int rc;

	if (c->sk == NULL)
		return -ENOTCONN;
	if ((msg = nlmsg_alloc()) == NULL)
		return -ENOMEM;
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0,
	    NLM_F_REQUEST, TASKSTATS_CMD_GET, TASKSTATS_VERSION) == NULL ||
	    nla_put_u32(msg, TASKSTATS_CMD_ATTR_TGID, (uint32_t)pid) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = nl_socket_modify_cb(c->sk, NL_CB_VALID, NL_CB_CUSTOM,
	    ts_valid_cb, &ctx)) < 0) {
		rc = nl_to_errno(rc);
		goto out;
	}
	if ((rc = nl_send_auto(c->sk, msg)) < 0) {
		rc = nl_to_errno(rc);
		goto out;
	}
	/* one reply, or an error message (ESRCH for a vanished pid) */
	if ((rc = nl_recvmsgs_default(c->sk)) < 0) {
		rc = nl_to_errno(rc);
		goto out;
	}
	rc = ctx.rc;
out:
	nlmsg_free(msg);
	return rc;
}

int
taskstats_enable_accounting(bool allowed)
{
	int64_t v;
	int rc;

	if ((rc = mt_read_int64(TS_DELAYACCT, &v)) < 0)
		return rc == -ENOENT ? -ENOENT : rc;
	if (v != 0)
		return 1;
	if (!allowed)
		return 0;
	if ((rc = mt_write_file(TS_DELAYACCT, "1")) < 0) {
		log_warnx("taskstats: cannot enable delay accounting "
		    "(%s): %s", TS_DELAYACCT, strerror(-rc));
		return rc;
	}
	log_info("taskstats: enabled delay accounting (%s=1)", TS_DELAYACCT);
	return 1;
}
