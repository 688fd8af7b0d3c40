/* test_taskstats.c - reply parsing against messages built here (current
 * and older struct versions, wrong pid, missing parts), the delay
 * accounting switch on a scratch root, and a live query of this process. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/taskstats.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "taskstats.h"
#include "util.h"

Suite *taskstats_suite(void);

/* A TASKSTATS_CMD_NEW reply for tgid carrying the first stats_len bytes
 * of ts; stats_len 0 leaves the stats attribute out. */
static struct nl_msg *
build_reply(int aggr_type, int id_type, uint32_t tgid,
    const struct taskstats *ts, size_t stats_len)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *nest;

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(genlmsg_put(msg, 0, 1, 0x17, 0, 0,
	    TASKSTATS_CMD_NEW, TASKSTATS_VERSION));
	ck_assert_ptr_nonnull(nest = nla_nest_start(msg, aggr_type));
	ck_assert_int_eq(nla_put_u32(msg, id_type, tgid), 0);
	if (stats_len > 0)
		ck_assert_int_eq(nla_put(msg, TASKSTATS_TYPE_STATS,
		    (int)stats_len, ts), 0);
	nla_nest_end(msg, nest);
	return msg;
}

static void
fill(struct taskstats *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->version = TASKSTATS_VERSION;
	ts->swapin_delay_total = 3000;
	ts->cpu_run_real_total = 123456789;
	ts->freepages_delay_total = 1000;
	ts->thrashing_delay_total = 2000;
}

START_TEST(test_parse_current)
{
	struct taskstats ts;
	struct taskstats_sample s;
	struct nl_msg *msg;

	fill(&ts);
	msg = build_reply(TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 4242,
	    &ts, sizeof(ts));
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 4242, &s), 0);
	ck_assert_int_eq(s.version, TASKSTATS_VERSION);
	ck_assert_int_eq(s.freepages_delay_ns, 1000);
	ck_assert_int_eq(s.thrashing_delay_ns, 2000);
	ck_assert_int_eq(s.swapin_delay_ns, 3000);
	ck_assert_int_eq(s.cpu_run_real_ns, 123456789);
	/* a reply for another process is not ours */
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 4243, &s),
	    -EINVAL);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_parse_old_and_new_kernels)
{
	/* a larger struct from a newer kernel than our headers */
	unsigned char big[sizeof(struct taskstats) + 64];
	struct taskstats ts;
	struct taskstats_sample s;
	struct nl_msg *msg;

	/* a kernel from before thrashing accounting (version 8) */
	fill(&ts);
	ts.version = 8;
	msg = build_reply(TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 7,
	    &ts, offsetof(struct taskstats, thrashing_count));
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 7, &s), 0);
	ck_assert_int_eq(s.freepages_delay_ns, 1000);
	ck_assert(!MT_PRESENT(s.thrashing_delay_ns));
	nlmsg_free(msg);

	/* and from before reclaim accounting */
	msg = build_reply(TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 7,
	    &ts, offsetof(struct taskstats, freepages_count));
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 7, &s), 0);
	ck_assert(!MT_PRESENT(s.freepages_delay_ns));
	ck_assert_int_eq(s.swapin_delay_ns, 3000);
	nlmsg_free(msg);

	fill(&ts);
	memset(big, 0xab, sizeof(big));
	memcpy(big, &ts, sizeof(ts));
	msg = build_reply(TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 7,
	    (const struct taskstats *)(void *)big, sizeof(big));
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 7, &s), 0);
	ck_assert_int_eq(s.thrashing_delay_ns, 2000);
	nlmsg_free(msg);

	/* too short to hold even the first delay block */
	msg = build_reply(TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 7,
	    &ts, 16);
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 7, &s),
	    -EINVAL);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_parse_missing)
{
	struct taskstats ts;
	struct taskstats_sample s;
	struct nl_msg *msg;

	fill(&ts);
	/* no stats attribute */
	msg = build_reply(TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 9,
	    &ts, 0);
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 9, &s),
	    -EINVAL);
	nlmsg_free(msg);
	/* a per-thread reply is accepted for a single-threaded pid */
	msg = build_reply(TASKSTATS_TYPE_AGGR_PID, TASKSTATS_TYPE_PID, 9,
	    &ts, sizeof(ts));
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 9, &s), 0);
	nlmsg_free(msg);
	/* no aggregate at all */
	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 1, 0x17, 0, 0, TASKSTATS_CMD_NEW,
	    TASKSTATS_VERSION);
	nla_put_u32(msg, TASKSTATS_TYPE_TGID, 9);
	ck_assert_int_eq(taskstats_parse_reply(nlmsg_hdr(msg), 9, &s),
	    -EINVAL);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_enable_accounting)
{
	char root[] = "/tmp/mt-ts-XXXXXX", path[PATH_MAX], buf[16];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(root));
	mt_set_root(root);
	ck_assert_int_eq(taskstats_enable_accounting(true), -ENOENT);

	snprintf(path, sizeof(path), "%s/proc", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/sys", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/task_delayacct", root);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("0\n", f);
	fclose(f);

	ck_assert_int_eq(taskstats_enable_accounting(false), 0);
	ck_assert_int_gt(mt_read_file("/proc/sys/kernel/task_delayacct", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0\n");
	ck_assert_int_eq(taskstats_enable_accounting(true), 1);
	ck_assert_int_gt(mt_read_file("/proc/sys/kernel/task_delayacct", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(taskstats_enable_accounting(false), 1);

	f = fopen(path, "w");
	fputs("on\n", f);
	fclose(f);
	ck_assert_int_eq(taskstats_enable_accounting(false), -EINVAL);

	mt_set_root("");
	unlink(path);
	for (int i = 0; i < 3; i++) {
		/* kernel, sys, proc, then the root itself */
		*strrchr(path, '/') = '\0';
		ck_assert_int_eq(rmdir(path), 0);
	}
	ck_assert_int_eq(rmdir(root), 0);
}
END_TEST

START_TEST(test_live)
{
	struct taskstats_conn c;
	struct taskstats_sample s;
	int rc;

	rc = taskstats_open(&c);
	if (rc == -ENOENT)
		return;		/* a kernel without TASKSTATS: absent, fine */
	ck_assert_int_eq(rc, 0);
	/* CPU time is tick-accounted: a fresh test child may show none */
	for (int64_t t0 = mt_now_ms(); mt_now_ms() - t0 < 50;)
		;
	memset(&s, 0xff, sizeof(s));
	ck_assert_int_eq(taskstats_query_tgid(&c, getpid(), &s), 0);
	ck_assert_int_ge(s.version, 1);
	ck_assert_int_ge(s.swapin_delay_ns, 0);
	ck_assert_int_gt(s.cpu_run_real_ns, 0);
	ck_assert(!MT_PRESENT(s.freepages_delay_ns) || s.freepages_delay_ns >= 0);
	/* twice on one socket: the callback state does not leak */
	ck_assert_int_eq(taskstats_query_tgid(&c, getpid(), &s), 0);
	/* pid_max is at most 4M: this one cannot exist */
	ck_assert_int_eq(taskstats_query_tgid(&c, 0x7ffffff0, &s), -ESRCH);
	ck_assert_int_eq(taskstats_query_tgid(&c, getpid(), &s), 0);
	taskstats_close(&c);
	ck_assert_int_eq(taskstats_query_tgid(&c, getpid(), &s), -ENOTCONN);
}
END_TEST

Suite *
taskstats_suite(void)
{
	Suite *s = suite_create("taskstats");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_current);
	tcase_add_test(tc, test_parse_old_and_new_kernels);
	tcase_add_test(tc, test_parse_missing);
	tcase_add_test(tc, test_enable_accounting);
	suite_add_tcase(s, tc);
	tc = tcase_create("live");
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	return s;
}
