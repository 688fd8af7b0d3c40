/* test_act.c - the actuators: the safety net, sysfs no-op skipping,
 * libvirt's test driver, and whole plans against the recording fake. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "act.h"
#include "journal_fixture.h"
#include "log.h"
#include "util.h"

Suite *act_suite(void);

static char logged[8192];

static void
log_capture(int pri, const char *line, void *arg)
{
	(void)pri;
	(void)arg;
	if (strlen(logged) + strlen(line) + 2 < sizeof(logged)) {
		strcat(logged, line);
		strcat(logged, "\n");
	}
}

static void
setup(void)
{
	logged[0] = '\0';
	log_init("test", LOG_TO_STDERR, 0);
	log_set_hook(log_capture, NULL);
}

static void
teardown(void)
{
	log_set_hook(NULL, NULL);
}

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"
#define U3 "33333333-3333-3333-3333-333333333333"

START_TEST(test_balloon_safety)
{
	struct act_fake f;

	act_fake_init(&f);
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(2), GIB_KIB(1), GIB_KIB(4)), 0);
	ck_assert_int_eq(f.nr_calls, 1);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_BALLOON);
	ck_assert_str_eq(f.calls[0].uuid, U1);
	ck_assert_int_eq(f.calls[0].target_kib, GIB_KIB(2));
	/* the bounds themselves are allowed */
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(1), GIB_KIB(1), GIB_KIB(4)), 0);
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(4), GIB_KIB(1), GIB_KIB(4)), 0);
	ck_assert_int_eq(f.nr_calls, 3);

	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(1) - 1, GIB_KIB(1), GIB_KIB(4)), -ERANGE);
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(4) + 1, GIB_KIB(1), GIB_KIB(4)), -ERANGE);
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    0, 0, GIB_KIB(4)), -ERANGE);
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(2), MT_ABSENT, GIB_KIB(4)), -ERANGE);
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(2), GIB_KIB(3), GIB_KIB(2)), -ERANGE);
	/* refused means never sent, and said out loud */
	ck_assert_int_eq(f.nr_calls, 3);
	ck_assert_ptr_nonnull(strstr(logged, "SAFETY: refusing balloon target "
	    "1048575 KiB for " U1));

	/* the fake returns what it is told to, and still records */
	f.rc_balloon = -ENOENT;
	ck_assert_int_eq(act_set_balloon_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(2), GIB_KIB(1), GIB_KIB(4)), -ENOENT);
	ck_assert_int_eq(f.nr_calls, 4);
	ck_assert_int_eq(f.calls[3].rc, -ENOENT);
	act_fake_clear(&f);
	ck_assert_int_eq(f.nr_calls, 0);
	act_fake_free(&f);
}
END_TEST

START_TEST(test_memtune_safety)
{
	struct act_fake f;

	act_fake_init(&f);
	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    MT_ABSENT, MT_ABSENT, MT_ABSENT, GIB_KIB(2)), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(3), GIB_KIB(2), MT_ABSENT, GIB_KIB(2)), 0);
	ck_assert_int_eq(f.nr_calls, 1);
	ck_assert_int_eq(f.calls[0].hard_kib, GIB_KIB(3));
	ck_assert_int_eq(f.calls[0].soft_kib, GIB_KIB(2));
	ck_assert_int_eq(f.calls[0].swap_hard_kib, MT_ABSENT);

	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(2) - 1, MT_ABSENT, MT_ABSENT, GIB_KIB(2)), -ERANGE);
	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(3), GIB_KIB(4), MT_ABSENT, GIB_KIB(2)), -ERANGE);
	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    GIB_KIB(3), MT_ABSENT, GIB_KIB(2), GIB_KIB(2)), -ERANGE);
	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    MT_ABSENT, 0, MT_ABSENT, GIB_KIB(2)), -ERANGE);
	ck_assert_int_eq(f.nr_calls, 1);
	ck_assert_ptr_nonnull(strstr(logged, "hard limit below the guest's "
	    "minimum"));
	/* a soft limit alone needs no minimum */
	ck_assert_int_eq(act_set_memtune_checked(&act_fake_ops, &f, U1,
	    MT_ABSENT, GIB_KIB(1), MT_ABSENT, GIB_KIB(2)), 0);
	ck_assert_int_eq(f.nr_calls, 2);
	act_fake_free(&f);
}
END_TEST

static void
put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
expect(const char *dir, const char *rel, const char *text)
{
	char path[512], buf[256];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	ck_assert_str_eq(buf, text);
}

START_TEST(test_sysfs_skip_noop)
{
	char dir[] = "/tmp/mt-act-XXXXXX", sub[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sys", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put(dir, "/sys/pages_to_scan", "100\n");
	put(dir, "/sys/enabled", "always [madvise] never\n");
	mt_set_root(dir);

	/* same value: the file is not rewritten (a write would drop the
	 * newline the kernel's format has) */
	ck_assert_int_eq(act_sysfs_write("/sys/pages_to_scan", "100"), 0);
	expect(dir, "/sys/pages_to_scan", "100\n");
	ck_assert_int_eq(act_sysfs_write("/sys/enabled", "madvise"), 0);
	expect(dir, "/sys/enabled", "always [madvise] never\n");

	ck_assert_int_eq(act_sysfs_write("/sys/pages_to_scan", "300"), 0);
	expect(dir, "/sys/pages_to_scan", "300");
	ck_assert_int_eq(act_sysfs_write("/sys/enabled", "never"), 0);
	expect(dir, "/sys/enabled", "never");
	ck_assert_int_eq(act_sysfs_write("/sys/nosuch/knob", "1"), -ENOENT);

	/* a selector with no single bracketed word says nothing of what is
	 * set: the write goes ahead rather than trusting its first word */
	put(dir, "/sys/odd", "[never] [madvise]\n");
	ck_assert_int_eq(act_sysfs_write("/sys/odd", "never"), 0);
	expect(dir, "/sys/odd", "never");

	/* through the ops table too */
	ck_assert_int_eq(act_libvirt_ops.write_sysfs(NULL, "/sys/pages_to_scan",
	    "42"), 0);
	expect(dir, "/sys/pages_to_scan", "42");
	mt_set_root("");
	snprintf(sub, sizeof(sub), "%s/sys/pages_to_scan", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/sys/enabled", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/sys/odd", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/sys", dir);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

static void
quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

START_TEST(test_libvirt_test_driver)
{
	virTypedParameter params[4];
	virConnectPtr conn;
	virDomainPtr dom;
	virDomainInfo info;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int nparams = 4, i;
	unsigned long long hard = 0, soft = 0;

	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(conn);
	dom = virDomainLookupByName(conn, "test");
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(virDomainGetUUIDString(dom, uuid), 0);

	ck_assert_int_eq(act_set_balloon_checked(&act_libvirt_ops, conn, uuid,
	    1536 * 1024, GIB_KIB(1), GIB_KIB(8)), 0);
	ck_assert_int_eq(virDomainGetInfo(dom, &info), 0);
	ck_assert_uint_eq(info.memory, 1536 * 1024);

	ck_assert_int_eq(act_set_memtune_checked(&act_libvirt_ops, conn, uuid,
	    GIB_KIB(6), GIB_KIB(4), MT_ABSENT, GIB_KIB(2)), 0);
	ck_assert_int_eq(virDomainGetMemoryParameters(dom, params, &nparams,
	    0), 0);
	for (i = 0; i < nparams; i++) {
		if (strcmp(params[i].field, VIR_DOMAIN_MEMORY_HARD_LIMIT) == 0)
			hard = params[i].value.ul;
		if (strcmp(params[i].field, VIR_DOMAIN_MEMORY_SOFT_LIMIT) == 0)
			soft = params[i].value.ul;
	}
	ck_assert_uint_eq(hard, GIB_KIB(6));
	ck_assert_uint_eq(soft, GIB_KIB(4));

	/* "no limit" lifts the limit: libvirt's own unlimited value, not
	 * INT64_MAX KiB */
	ck_assert_int_eq(act_set_memtune_checked(&act_libvirt_ops, conn, uuid,
	    POLICY_LIMIT_UNLIMITED, MT_ABSENT, POLICY_LIMIT_UNLIMITED,
	    GIB_KIB(2)), 0);
	nparams = 4;
	ck_assert_int_eq(virDomainGetMemoryParameters(dom, params, &nparams,
	    0), 0);
	hard = soft = 0;
	for (i = 0; i < nparams; i++) {
		if (strcmp(params[i].field, VIR_DOMAIN_MEMORY_HARD_LIMIT) == 0)
			hard = params[i].value.ul;
		if (strcmp(params[i].field, VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT) ==
		    0)
			soft = params[i].value.ul;
	}
	ck_assert_uint_eq(hard, VIR_DOMAIN_MEMORY_PARAM_UNLIMITED);
	ck_assert_uint_eq(soft, VIR_DOMAIN_MEMORY_PARAM_UNLIMITED);

	/* errors come back as -errno, classified */
	ck_assert_int_eq(act_libvirt_set_balloon(conn, U3, GIB_KIB(1)),
	    -ENOENT);
	ck_assert(!act_err_transient(-ENOENT));
	ck_assert_int_eq(act_libvirt_set_memtune(conn, U3, GIB_KIB(6),
	    MT_ABSENT, MT_ABSENT), -ENOENT);
	/* above the domain's max memory: the driver refuses it */
	ck_assert_int_lt(act_libvirt_set_balloon(conn, uuid, GIB_KIB(64)), 0);
	ck_assert_int_eq(virDomainGetInfo(dom, &info), 0);
	ck_assert_uint_eq(info.memory, 1536 * 1024);
	/* an inactive domain is "not running": gone for this tick */
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert_int_eq(act_libvirt_set_balloon(conn, uuid, GIB_KIB(1)),
	    -ESRCH);
	ck_assert(act_err_transient(-ENOTCONN));

	virDomainFree(dom);
	virConnectClose(conn);
}
END_TEST

/* Three guests: A gets balloon + memtune, B has a target outside its
 * bounds (a plan bug the net must catch), C is left alone. */
struct plan_fixture {
	struct guest_snapshot gs[3];
	struct guest_plan gp[3];
	struct snapshot snap;
	struct policy_plan plan;
	struct policy_config pc;
	struct act_apply_opts opts;
};

static void
plan_fixture(struct plan_fixture *x)
{
	static const char *const uuids[] = { U1, U2, U3 };
	static const char *const names[] = { "a", "b", "c" };
	size_t i;

	memset(x, 0, sizeof(*x));
	policy_config_defaults(&x->pc);
	for (i = 0; i < 3; i++) {
		guest_snapshot_init(&x->gs[i]);
		mt_strlcpy(x->gs[i].uuid, uuids[i], sizeof(x->gs[i].uuid));
		mt_strlcpy(x->gs[i].name, names[i], sizeof(x->gs[i].name));
		x->gs[i].max_kib = GIB_KIB(4);
		x->gs[i].actual_kib = GIB_KIB(4);
		mt_strlcpy(x->gp[i].uuid, uuids[i], sizeof(x->gp[i].uuid));
		mt_strlcpy(x->gp[i].name, names[i], sizeof(x->gp[i].name));
		x->gp[i].floor_kib = GIB_KIB(1);
		x->gp[i].ceiling_kib = GIB_KIB(4);
		x->gp[i].actual_kib = GIB_KIB(4);
		x->gp[i].target_kib = GIB_KIB(4);
		x->gp[i].hard_limit_kib = MT_ABSENT;
		x->gp[i].soft_limit_kib = MT_ABSENT;
		x->gp[i].swap_hard_limit_kib = MT_ABSENT;
		x->gp[i].memory_low_kib = MT_ABSENT;
		mt_strlcpy(x->gp[i].reason, "host tight", sizeof(x->gp[i].reason));
		x->gp[i].reason_code = GW_WHY_HOST_TAKES;
	}
	x->gp[0].action = ACT_BOTH;
	x->gp[0].target_kib = GIB_KIB(3);
	x->gp[0].soft_limit_kib = GIB_KIB(3);
	/* floor 1G + overhead 256M + 2% of 4G is the least hard limit */
	x->gp[0].hard_limit_kib = GIB_KIB(5);
	x->gp[1].action = ACT_BALLOON;
	x->gp[1].target_kib = 512 * 1024;
	x->gp[2].action = ACT_LEAVE_ALONE;
	x->gp[2].target_kib = GIB_KIB(1);
	x->snap.guests = x->gs;
	x->snap.nr_guests = 3;
	x->plan.guests = x->gp;
	x->plan.nr_guests = 3;
	x->plan.ksm.change = true;
	x->plan.ksm.run = 1;
	x->plan.ksm.pages_to_scan = 300;
	x->plan.ksm.sleep_millisecs = MT_ABSENT;
	x->plan.ksm.advisor_target_scan_time = MT_ABSENT;
	x->plan.ksm.advisor_max_cpu = MT_ABSENT;
	mt_strlcpy(x->plan.ksm.reason, "overcommitted", sizeof(x->plan.ksm.reason));
	x->plan.thp.change = true;
	mt_strlcpy(x->plan.thp.defrag, "defer", sizeof(x->plan.thp.defrag));
	x->plan.thp.khugepaged_scan_sleep_millisecs = 60000;
	x->plan.thp.khugepaged_pages_to_scan = MT_ABSENT;
	x->plan.thp.khugepaged_max_ptes_none = MT_ABSENT;
	x->opts.manage_ksm = true;
	x->opts.manage_thp = false;
	x->opts.manage_hard_limit = true;
}

START_TEST(test_apply_plan)
{
	struct plan_fixture x;
	struct act_result res;
	struct act_fake f;

	plan_fixture(&x);
	act_fake_init(&f);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	/* a: balloon, memtuned's record of the hard limit, memtune; b:
	 * refused; c: nothing; KSM in order; THP not touched (manage_thp =
	 * no) */
	ck_assert_int_eq(f.nr_calls, 5);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_BALLOON);
	ck_assert_str_eq(f.calls[0].uuid, U1);
	ck_assert_int_eq(f.calls[0].target_kib, GIB_KIB(3));
	ck_assert_int_eq(f.calls[1].kind, ACT_CALL_RECORD);
	ck_assert_str_eq(f.calls[1].uuid, U1);
	ck_assert_int_eq(f.calls[1].hard_kib, GIB_KIB(5));
	ck_assert_int_eq(f.calls[2].kind, ACT_CALL_MEMTUNE);
	ck_assert_int_eq(f.calls[2].hard_kib, GIB_KIB(5));
	ck_assert_int_eq(f.calls[2].soft_kib, GIB_KIB(3));
	ck_assert_str_eq(f.calls[3].path, "/sys/kernel/mm/ksm/pages_to_scan");
	ck_assert_str_eq(f.calls[3].value, "300");
	ck_assert_str_eq(f.calls[4].path, "/sys/kernel/mm/ksm/run");
	ck_assert_str_eq(f.calls[4].value, "1");
	ck_assert_int_eq(res.done, 4);
	ck_assert_int_eq(res.failed, 1);
	ck_assert(res.ksm_applied);
	ck_assert(!res.thp_applied);
	ck_assert_ptr_nonnull(strstr(logged, "SAFETY: refusing balloon target "
	    "524288 KiB for " U2));

	/* the master switch for hard limits holds the hard limit back */
	act_fake_clear(&f);
	x.opts.manage_hard_limit = false;
	x.opts.manage_thp = true;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(f.calls[1].kind, ACT_CALL_MEMTUNE);
	ck_assert_int_eq(f.calls[1].hard_kib, MT_ABSENT);
	ck_assert_int_eq(f.calls[1].soft_kib, GIB_KIB(3));
	ck_assert_int_eq(f.nr_calls, 6);
	ck_assert_str_eq(f.calls[4].path,
	    "/sys/kernel/mm/transparent_hugepage/defrag");
	ck_assert_str_eq(f.calls[5].value, "60000");
	ck_assert(res.thp_applied);

	/* a hard limit under floor + QEMU overhead is refused */
	act_fake_clear(&f);
	x.opts.manage_hard_limit = true;
	x.gp[0].hard_limit_kib = GIB_KIB(1) + 100 * 1024;
	x.gp[0].soft_limit_kib = MT_ABSENT;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_BALLOON);
	ck_assert_int_ne(f.calls[1].kind, ACT_CALL_MEMTUNE);
	ck_assert_int_eq(res.failed, 2);
	act_fake_free(&f);
}
END_TEST

/* Each action reaches the journal as a record with its fields:
 * `journalctl GUEST_UUID=... MEMTUNED_ACTION=balloon` finds it. */
START_TEST(test_apply_plan_journal)
{
	struct plan_fixture x;
	struct act_result res;
	struct act_fake f;
	char rec[4096];
	int fd, balloon = 0, memtune = 0, ksm = 0;

	private_run();
	fd = fake_journal();
	log_init("memtuned", LOG_TO_JOURNAL, 0);
	plan_fixture(&x);
	act_fake_init(&f);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	while (fake_journal_next(fd, rec, sizeof(rec)) > 0) {
		if (journal_has(rec, "MEMTUNED_ACTION=balloon")) {
			balloon++;
			ck_assert(journal_has(rec, "MESSAGE_ID=" LOG_MSGID_BALLOON));
			ck_assert(journal_has(rec, "GUEST_UUID=" U1));
			ck_assert(journal_has(rec, "GUEST_NAME=a"));
			ck_assert(journal_has(rec, "FROM_KIB=4194304"));
			ck_assert(journal_has(rec, "TO_KIB=3145728"));
			ck_assert(journal_has(rec, "REASON=host tight"));
			ck_assert(journal_has(rec, "REASON_CODE=host_takes"));
		} else if (journal_has(rec, "MEMTUNED_ACTION=memtune")) {
			memtune++;
			ck_assert(journal_has(rec, "MESSAGE_ID=" LOG_MSGID_MEMTUNE));
			ck_assert(journal_has(rec, "GUEST_UUID=" U1));
			ck_assert(journal_has(rec, "TO_KIB=5242880"));
		} else if (journal_has(rec, "MEMTUNED_ACTION=ksm")) {
			ksm++;
			ck_assert(journal_has(rec, "MESSAGE_ID=" LOG_MSGID_KNOB));
			ck_assert(journal_has(rec, "REASON=overcommitted"));
			ck_assert(journal_has(rec,
			    "MEMTUNED_KNOB=/sys/kernel/mm/ksm/pages_to_scan") ||
			    journal_has(rec, "MEMTUNED_KNOB=/sys/kernel/mm/ksm/run"));
		}
	}
	ck_assert_int_eq(balloon, 1);
	ck_assert_int_eq(memtune, 1);
	ck_assert_int_eq(ksm, 2);
	close(fd);
	log_init("memtuned", LOG_TO_STDERR, 0);
	act_fake_free(&f);
}
END_TEST

START_TEST(test_apply_plan_dry_run)
{
	struct plan_fixture x;
	struct act_result res;
	struct act_fake f;

	plan_fixture(&x);
	x.opts.dry_run = true;
	act_fake_init(&f);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(f.nr_calls, 0);
	ck_assert_ptr_nonnull(strstr(logged, "dry-run: would set balloon of a "
	    "from 4096 to 3072 MiB (host tight)"));
	ck_assert_ptr_nonnull(strstr(logged, "dry-run: would set memtune of a"));
	ck_assert_ptr_nonnull(strstr(logged, "dry-run: would write 300 to "
	    "/sys/kernel/mm/ksm/pages_to_scan (overcommitted)"));
	/* the safety net still speaks in a dry run */
	ck_assert_ptr_nonnull(strstr(logged, "SAFETY: refusing balloon target "
	    "524288 KiB for " U2));
	ck_assert_int_eq(res.failed, 1);
	/* nothing was written, so the policy must not think it was */
	ck_assert(!res.ksm_applied);
	act_fake_free(&f);
}
END_TEST

/* memory.low is the floor plus QEMU's overhead (the cgroup holds QEMU's
 * own memory too): up to the ceiling plus that overhead it is written,
 * above it the safety net refuses it. */
START_TEST(test_apply_memory_low)
{
	struct plan_fixture x;
	struct mcg_mounts m;
	struct act_result res;
	struct act_fake f;
	int64_t oh;

	plan_fixture(&x);
	mt_set_root("tests/fixtures/cgroup-v2");
	ck_assert_int_eq(mcg_mounts_detect(&m), 0);
	ck_assert_int_eq(m.version, 2);
	x.opts.mounts = &m;
	x.opts.manage_ksm = false;
	x.plan.ksm.change = false;
	x.plan.thp.change = false;
	x.gs[0].cgroup_version = 2;
	x.gs[0].qemu_pid = 4242;
	oh = policy_qemu_overhead_kib(&x.pc, GIB_KIB(4));
	x.gp[1].action = ACT_NONE;
	x.gp[0].hard_limit_kib = MT_ABSENT;
	x.gp[0].memory_low_kib = GIB_KIB(4) + oh;
	act_fake_init(&f);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.failed, 0);
	/* the guest's group, then its scope and machine.slice, which must
	 * cover it (tests/unit/test_cgroup_v2.c has the whole story) */
	ck_assert_int_eq(f.nr_calls, 5);
	ck_assert_int_eq(f.calls[2].kind, ACT_CALL_SYSFS);
	ck_assert_str_eq(f.calls[2].path,
	    "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d3\\x2dvm2.scope/"
	    "libvirt/memory.low");
	ck_assert_int_eq(strtoll(f.calls[2].value, NULL, 10),
	    (GIB_KIB(4) + oh) * 1024);
	ck_assert_str_eq(f.calls[3].path,
	    "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d3\\x2dvm2.scope/"
	    "memory.low");
	ck_assert_str_eq(f.calls[3].value, f.calls[2].value);
	ck_assert_str_eq(f.calls[4].path,
	    "/sys/fs/cgroup/machine.slice/memory.low");
	ck_assert_str_eq(f.calls[4].value, f.calls[2].value);

	/* one KiB more than the ceiling and the overhead: a plan bug */
	act_fake_clear(&f);
	x.gp[0].memory_low_kib = GIB_KIB(4) + oh + 1;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.failed, 1);
	ck_assert_int_eq(f.nr_calls, 2);
	ck_assert_ptr_nonnull(strstr(logged, "SAFETY: refusing memory.low"));
	act_fake_free(&f);
	mt_set_root("");
}
END_TEST

START_TEST(test_apply_plan_errors)
{
	struct plan_fixture x;
	struct act_result res;
	struct act_fake f;

	plan_fixture(&x);
	act_fake_init(&f);
	/* the guest vanished: counted, the rest goes on */
	f.rc_balloon = -ENOENT;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert_int_eq(res.gone, 1);
	ck_assert(!res.transient);

	/* the connection is gone: no more libvirt calls this tick, sysfs
	 * still goes on, and the caller hears -ENOTCONN */
	act_fake_clear(&f);
	f.rc_balloon = -ENOTCONN;
	x.gp[1].target_kib = GIB_KIB(2);
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), -ENOTCONN);
	ck_assert_int_eq(f.nr_calls, 3);
	ck_assert_int_eq(f.calls[0].kind, ACT_CALL_BALLOON);
	ck_assert_int_eq(f.calls[1].kind, ACT_CALL_SYSFS);
	ck_assert(res.transient);

	/* a failed KSM write: not reported as applied */
	act_fake_clear(&f);
	f.rc_balloon = 0;
	f.rc_sysfs = -EBUSY;
	ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc, &x.opts,
	    &x.snap, &x.plan, &res, NULL), 0);
	ck_assert(!res.ksm_applied);
	ck_assert(res.transient);
	act_fake_free(&f);
}
END_TEST

/* What act_apply_plan reports per guest, for policy_commit: guest a
 * plans a balloon and a memtune with a hard limit, b a balloon target
 * below its floor (the safety net refuses it), c is left alone. */
START_TEST(test_apply_outcomes)
{
	static const struct {
		const char *name;
		bool dry_run, manage_hard;
		int rc_balloon, rc_memtune;
		int want_rc;
		enum policy_outcome a_balloon, a_memtune, a_hard, b_balloon;
	} cases[] = {
		{ "applied", false, true, 0, 0, 0, OUTCOME_APPLIED,
		    OUTCOME_APPLIED, OUTCOME_APPLIED, OUTCOME_REFUSED },
		{ "dry run", true, true, 0, 0, 0, OUTCOME_DRY_RUN,
		    OUTCOME_DRY_RUN, OUTCOME_DRY_RUN, OUTCOME_REFUSED },
		{ "hard limit switched off", false, false, 0, 0, 0,
		    OUTCOME_APPLIED, OUTCOME_APPLIED, OUTCOME_SKIPPED,
		    OUTCOME_REFUSED },
		{ "libvirt fails", false, true, -EIO, -EBUSY, 0,
		    OUTCOME_FAILED, OUTCOME_FAILED, OUTCOME_FAILED,
		    OUTCOME_REFUSED },
		{ "guest gone", false, true, -ENOENT, -ESRCH, 0, OUTCOME_GONE,
		    OUTCOME_GONE, OUTCOME_GONE, OUTCOME_REFUSED },
		/* the first call loses the connection: nothing after it is
		 * sent, not even what the safety net would have stopped */
		{ "connection lost", false, true, -ENOTCONN, 0, -ENOTCONN,
		    OUTCOME_FAILED, OUTCOME_SKIPPED, OUTCOME_SKIPPED,
		    OUTCOME_SKIPPED },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct plan_fixture x;
		struct policy_results out;
		struct act_result res;
		struct act_fake f;

		plan_fixture(&x);
		x.opts.dry_run = cases[i].dry_run;
		x.opts.manage_hard_limit = cases[i].manage_hard;
		act_fake_init(&f);
		f.rc_balloon = cases[i].rc_balloon;
		f.rc_memtune = cases[i].rc_memtune;
		/* sized by the call, from nothing */
		ck_assert_int_eq(policy_results_init(&out, 0), 0);
		ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc,
		    &x.opts, &x.snap, &x.plan, &res, &out), cases[i].want_rc);
		ck_assert_uint_eq(out.nr_guests, 3);
		ck_assert_msg(out.guests[0].balloon == cases[i].a_balloon &&
		    out.guests[0].memtune == cases[i].a_memtune &&
		    out.guests[0].hard_limit == cases[i].a_hard &&
		    out.guests[1].balloon == cases[i].b_balloon,
		    "%s: a balloon %s memtune %s hard %s, b balloon %s",
		    cases[i].name,
		    policy_outcome_name(out.guests[0].balloon),
		    policy_outcome_name(out.guests[0].memtune),
		    policy_outcome_name(out.guests[0].hard_limit),
		    policy_outcome_name(out.guests[1].balloon));
		ck_assert_int_eq(out.guests[1].memtune, OUTCOME_NONE);
		ck_assert_int_eq(out.guests[2].balloon, OUTCOME_NONE);
		ck_assert_int_eq(out.guests[2].memtune, OUTCOME_NONE);
		/* no memory.low planned, none reported */
		ck_assert_int_eq(out.guests[0].memory_low, OUTCOME_NONE);
		ck_assert_int_eq(out.ksm_applied, res.ksm_applied);
		ck_assert_int_eq(out.ksm_applied, !cases[i].dry_run);
		policy_results_free(&out);
		act_fake_free(&f);
	}
}
END_TEST

/* memtuned records a finite hard limit as its own (in the domain's
 * metadata) before it sets it, and only then; the record goes when the
 * limit is lifted, and a failed memtune puts the old record back. */
START_TEST(test_apply_records_own_hard_limit)
{
	enum { UNL = -2 };		/* POLICY_LIMIT_UNLIMITED in the table */
	static const struct {
		const char *name;
		/* MT_ABSENT / UNL; own_gib < 0: recorded with another
		 * target */
		int64_t hard_gib, own_gib;
		int rc_record, rc_memtune;
		bool dry_run;
		/* the record and memtune calls for guest a, in order:
		 * 'R' record (hard, MT_ABSENT: removed), 'M' memtune */
		const char *calls;
		int64_t rec_gib[2];
		enum policy_outcome hard;
	} cases[] = {
		{ "set", 5, MT_ABSENT, 0, 0, false, "RM", { 5 },
		    OUTCOME_APPLIED },
		{ "record fails: not set", 5, MT_ABSENT, -EIO, 0, false, "R",
		    { 5 }, OUTCOME_FAILED },
		{ "memtune fails: no record left", 5, MT_ABSENT, 0, -EIO,
		    false, "RMR", { 5, MT_ABSENT }, OUTCOME_FAILED },
		{ "memtune fails: the old record back", 5, 4, 0, -EIO, false,
		    "RMR", { 5, 4 }, OUTCOME_FAILED },
		{ "already recorded", 5, 5, 0, 0, false, "M", { 0 },
		    OUTCOME_APPLIED },
		{ "the same limit with another target", 5, -5, 0, 0, false,
		    "RM", { 5 }, OUTCOME_APPLIED },
		{ "lift: record removed", UNL, 5, 0, 0, false, "MR",
		    { MT_ABSENT }, OUTCOME_APPLIED },
		{ "lift without a record", UNL, MT_ABSENT, 0, 0, false, "M",
		    { 0 }, OUTCOME_APPLIED },
		{ "dry run", 5, MT_ABSENT, 0, 0, true, "", { 0 },
		    OUTCOME_DRY_RUN },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct plan_fixture x;
		struct policy_results out;
		struct act_result res;
		struct act_fake f;
		size_t n = 0, nrec = 0;
		char seen[8] = "";

		plan_fixture(&x);
		x.opts.dry_run = cases[i].dry_run;
		x.gp[0].hard_limit_kib = cases[i].hard_gib == UNL ?
		    POLICY_LIMIT_UNLIMITED : GIB_KIB(cases[i].hard_gib);
		x.gs[0].own_hard_limit_kib = MT_PRESENT(cases[i].own_gib) ?
		    GIB_KIB(llabs(cases[i].own_gib)) : MT_ABSENT;
		x.gs[0].own_target_kib = !MT_PRESENT(cases[i].own_gib) ?
		    MT_ABSENT : cases[i].own_gib < 0 ? GIB_KIB(2) :
		    x.gp[0].target_kib;
		act_fake_init(&f);
		f.rc_record = cases[i].rc_record;
		f.rc_memtune = cases[i].rc_memtune;
		ck_assert_int_eq(policy_results_init(&out, 3), 0);
		ck_assert_int_eq(act_apply_plan(&act_fake_ops, &f, &x.pc,
		    &x.opts, &x.snap, &x.plan, &res, &out), 0);
		for (size_t j = 0; j < f.nr_calls && n + 1 < sizeof(seen); j++) {
			const struct act_call *c = &f.calls[j];

			if (c->kind == ACT_CALL_MEMTUNE) {
				seen[n++] = 'M';
			} else if (c->kind == ACT_CALL_RECORD) {
				int64_t want = cases[i].rec_gib[nrec++];

				seen[n++] = 'R';
				ck_assert_str_eq(c->uuid, U1);
				ck_assert_msg(c->hard_kib == (MT_PRESENT(want) ?
				    GIB_KIB(want) : MT_ABSENT), "%s: record %lld",
				    cases[i].name, (long long)c->hard_kib);
				/* a new record carries the plan's target; a
				 * record put back, the one it had */
				if (MT_PRESENT(want))
					ck_assert_int_eq(c->target_kib,
					    want == 5 ? x.gp[0].target_kib :
					    x.gs[0].own_target_kib);
			}
		}
		seen[n] = '\0';
		ck_assert_msg(strcmp(seen, cases[i].calls) == 0,
		    "%s: calls %s, want %s", cases[i].name, seen,
		    cases[i].calls);
		ck_assert_msg(out.guests[0].hard_limit == cases[i].hard,
		    "%s: hard limit %s", cases[i].name,
		    policy_outcome_name(out.guests[0].hard_limit));
		/* the log says what a lift is */
		if (cases[i].hard_gib == UNL)
			ck_assert_ptr_nonnull(strstr(logged,
			    "memtune a: hard unlimited, soft 3145728 KiB"));
		logged[0] = '\0';
		policy_results_free(&out);
		act_fake_free(&f);
	}
}
END_TEST

Suite *
act_suite(void)
{
	Suite *s = suite_create("act");
	TCase *tc = tcase_create("act");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_balloon_safety);
	tcase_add_test(tc, test_memtune_safety);
	tcase_add_test(tc, test_sysfs_skip_noop);
	tcase_add_test(tc, test_libvirt_test_driver);
	tcase_add_test(tc, test_apply_plan);
	tcase_add_test(tc, test_apply_plan_journal);
	tcase_add_test(tc, test_apply_plan_dry_run);
	tcase_add_test(tc, test_apply_plan_errors);
	tcase_add_test(tc, test_apply_outcomes);
	tcase_add_test(tc, test_apply_records_own_hard_limit);
	tcase_add_test(tc, test_apply_memory_low);
	suite_add_tcase(s, tc);
	return s;
}
