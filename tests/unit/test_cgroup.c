/* test_cgroup.c - the guest memory cgroup on a captured v1 tree and a
 * hand-built v2 tree: mount detection, finding the group from the QEMU
 * pid, reading usage/limit/stat/low/pressure, writing memory.low. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "snapshot.h"
#include "util.h"

Suite *cgroup_suite(void);

/* Unit tests run from the top of the source tree (make unit). */
#define FX_V1 "tests/fixtures/cgroup-v1"
#define FX_V2 "tests/fixtures/cgroup-v2"
#define V1_PID 12163		/* the captured guest's QEMU */
#define V1_DIR "/sys/fs/cgroup/memory/machine/qemu-2-mt-demo-idle1.libvirt-qemu"
#define V2_SCOPE "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d3\\x2dvm2.scope"
#define V3_SCOPE "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d4\\x2dvm3.scope"

static void
use_root(const char *dir)
{
	ck_assert_msg(access(dir, R_OK) == 0,
	    "%s not found: run the unit tests from the source tree", dir);
	mt_set_root(dir);
}

static void
teardown(void)
{
	mt_set_root("");
}

START_TEST(test_mounts)
{
	struct mcg_mounts m;

	use_root(FX_V1);
	ck_assert_int_eq(mcg_mounts_detect(&m), 0);
	ck_assert_int_eq(m.version, 1);
	ck_assert_str_eq(m.mount, "/sys/fs/cgroup/memory");

	use_root(FX_V2);
	ck_assert_int_eq(mcg_mounts_detect(&m), 0);
	ck_assert_int_eq(m.version, 2);
	ck_assert_str_eq(m.mount, "/sys/fs/cgroup");

	/* a cgroup2 mount without controllers (hybrid, memory nowhere) */
	use_root(FX_V1);
	ck_assert_int_eq(mcg_mounts_parse("cgroup2 /sys/fs/cgroup/unified "
	    "cgroup2 rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n",
	    &m), -ENOENT);
	ck_assert_int_eq(m.version, 0);
	/* memory co-mounted with another controller */
	ck_assert_int_eq(mcg_mounts_parse("cgroup /cg/cpu,memory cgroup "
	    "rw,cpu,memory 0 0\n", &m), 0);
	ck_assert_int_eq(m.version, 1);
	ck_assert_str_eq(m.mount, "/cg/cpu,memory");
	/* "memory_recursiveprot" is not "memory" */
	ck_assert_int_eq(mcg_mounts_parse("cgroup /x cgroup "
	    "rw,memory_recursiveprot 0 0\n", &m), -ENOENT);
}
END_TEST

START_TEST(test_find)
{
	struct mcg_mounts m;
	char dir[PATH_MAX];

	use_root(FX_V1);
	ck_assert_int_eq(mcg_mounts_detect(&m), 0);
	ck_assert_int_eq(mcg_find(&m, V1_PID, dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, V1_DIR);
	ck_assert_int_eq(mcg_find(&m, 999999, dir, sizeof(dir)), -ENOENT);
	ck_assert_int_eq(mcg_find(&m, V1_PID, dir, 20), -ENAMETOOLONG);

	use_root(FX_V2);
	ck_assert_int_eq(mcg_mounts_detect(&m), 0);
	/* from the threaded emulator group up to libvirt/ */
	ck_assert_int_eq(mcg_find(&m, 4242, dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, V2_SCOPE "/libvirt");
	ck_assert_int_eq(mcg_find(&m, 4343, dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, V3_SCOPE);
}
END_TEST

START_TEST(test_read_v1)
{
	struct guest_snapshot g;
	char err[256];

	use_root(FX_V1);
	guest_snapshot_init(&g);
	ck_assert_int_eq(mcg_read(V1_DIR, 1, &g, err, sizeof(err)), 0);
	ck_assert_int_eq(g.cgroup_version, 1);
	ck_assert_int_eq(g.cg_usage_kib, 182317056 / 1024);
	ck_assert(!MT_PRESENT(g.cg_limit_kib));	/* unlimited */
	ck_assert_int_eq(g.cg_anon_kib, 181374976 / 1024);
	ck_assert_int_eq(g.cg_file_kib, 0);
	ck_assert_int_eq(g.cg_inactive_file_kib, 0);
	ck_assert_int_eq(g.cg_working_set_kib, 182317056 / 1024);
	/* v2-only fields stay absent */
	ck_assert(!MT_PRESENT(g.cg_low_kib));
	ck_assert(!MT_PRESENT(g.cg_psi_some.avg10_pmy));

	ck_assert_int_eq(mcg_read("/sys/fs/cgroup/memory/machine/nope", 1, &g,
	    err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "memory.usage_in_bytes"));
}
END_TEST

START_TEST(test_read_v2)
{
	struct guest_snapshot g;
	char err[256];

	use_root(FX_V2);
	guest_snapshot_init(&g);
	ck_assert_int_eq(mcg_read(V2_SCOPE "/libvirt", 2, &g, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(g.cgroup_version, 2);
	ck_assert_int_eq(g.cg_usage_kib, 2097152);
	ck_assert_int_eq(g.cg_limit_kib, 4194304);
	ck_assert_int_eq(g.cg_anon_kib, 1572864);
	ck_assert_int_eq(g.cg_file_kib, 491520);
	ck_assert_int_eq(g.cg_active_file_kib, 98304);
	ck_assert_int_eq(g.cg_inactive_file_kib, 393216);
	ck_assert_int_eq(g.cg_working_set_kib, 2097152 - 393216);
	ck_assert_int_eq(g.cg_low_kib, 1048576);
	ck_assert_int_eq(g.cg_psi_some.avg10_pmy, 125);
	ck_assert_int_eq(g.cg_psi_some.avg60_pmy, 50);
	ck_assert_int_eq(g.cg_psi_some.total_us, 2345678);
	ck_assert_int_eq(g.cg_psi_full.avg10_pmy, 40);

	guest_snapshot_init(&g);
	ck_assert_int_eq(mcg_read(V3_SCOPE, 2, &g, err, sizeof(err)), 0);
	ck_assert(!MT_PRESENT(g.cg_limit_kib));	/* "max" */
	ck_assert_int_eq(g.cg_low_kib, 0);
	ck_assert_int_eq(g.cg_working_set_kib, 524288 - 32768);
	ck_assert(!MT_PRESENT(g.cg_psi_some.avg10_pmy));	/* psi=0 */
}
END_TEST

START_TEST(test_parse_stat)
{
	struct guest_snapshot g;
	char err[256];

	guest_snapshot_init(&g);
	/* v1 without hierarchy totals falls back to the group's own */
	ck_assert_int_eq(mcg_parse_stat("cache 4096\nrss 8192\n"
	    "active_file 1024\ninactive_file 3072\n", 1, &g, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(g.cg_anon_kib, 8);
	ck_assert_int_eq(g.cg_file_kib, 4);
	ck_assert_int_eq(g.cg_inactive_file_kib, 3);
	/* and prefers the totals when both are there */
	ck_assert_int_eq(mcg_parse_stat("cache 4096\nrss 8192\n"
	    "active_file 1024\ninactive_file 3072\ntotal_cache 40960\n"
	    "total_rss 81920\ntotal_active_file 10240\n"
	    "total_inactive_file 30720\n", 1, &g, err, sizeof(err)), 0);
	ck_assert_int_eq(g.cg_anon_kib, 80);
	ck_assert_int_eq(g.cg_inactive_file_kib, 30);

	ck_assert_int_eq(mcg_parse_stat("anon 1024\nfile 2048\n"
	    "active_file 1024\n", 2, &g, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "inactive_file"));
	ck_assert_int_eq(mcg_parse_stat("anon 1024\nfile x\nactive_file 0\n"
	    "inactive_file 0\n", 2, &g, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'file'"));
	ck_assert_int_eq(mcg_parse_stat("anon 1\nanon 2\nfile 0\n"
	    "active_file 0\ninactive_file 0\n", 2, &g, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "duplicate"));
	/* v1 keys mean nothing on v2 */
	ck_assert_int_eq(mcg_parse_stat("rss 1\ncache 2\nactive_file 0\n"
	    "inactive_file 0\n", 2, &g, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_live)
{
	struct mcg_mounts m;
	char dir[PATH_MAX];

	/* the live system through libcgroup: whatever it is, it must agree
	 * with what the kernel shows */
	mt_set_root("");
	if (mcg_mounts_detect(&m) < 0)
		return;
	ck_assert(m.version == 1 || m.version == 2);
	ck_assert_int_eq(mcg_find(&m, getpid(), dir, sizeof(dir)), 0);
	ck_assert(strncmp(dir, m.mount, strlen(m.mount)) == 0);
}
END_TEST

Suite *
cgroup_suite(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("fixtures");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_mounts);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_read_v1);
	tcase_add_test(tc, test_read_v2);
	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	return s;
}
