/* taskstats.h - per-process delay accounting over generic netlink
 * (family TASKSTATS, libnl-genl-3): how long the QEMU process waited for
 * memory reclaim, for thrashing pages and for swap-in. */
#ifndef MEMTUNED_TASKSTATS_H
#define MEMTUNED_TASKSTATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct nl_sock;
struct nlmsghdr;

struct taskstats_conn {
	struct nl_sock *sk;
	int family;
};

/* Cumulative over the thread group (live threads plus exited ones). A
 * field the kernel's struct version lacks is MT_ABSENT. */
struct taskstats_sample {
	int64_t version;		/* struct taskstats version */
	int64_t freepages_delay_ns;	/* direct reclaim */
	int64_t thrashing_delay_ns;
	int64_t swapin_delay_ns;
	int64_t cpu_run_real_ns;	/* CPU time used */
};

/* Open a generic netlink socket and resolve TASKSTATS. 0, -ENOENT when the
 * kernel has no TASKSTATS family, or -errno. */
int taskstats_open(struct taskstats_conn *c);
void taskstats_close(struct taskstats_conn *c);

/* Query one thread group. 0, -ESRCH when the process is gone, -errno. */
int taskstats_query_tgid(struct taskstats_conn *c, pid_t pid,
    struct taskstats_sample *out);

/* Parse one TASKSTATS_CMD_NEW reply for pid (exposed for tests).
 * -EINVAL when the message is not a reply for pid. */
int taskstats_parse_reply(struct nlmsghdr *nlh, pid_t pid,
    struct taskstats_sample *out);

/* Delay accounting is off by default on most kernels, and then every
 * delay reads 0: a silent zero. Returns 1 when it is on (switched on here
 * when allowed, which is logged), 0 when off and not allowed,
 * -ENOENT when the kernel has no /proc/sys/kernel/task_delayacct, -errno
 * when the write fails. */
int taskstats_enable_accounting(bool allowed);

#endif
