/* test_smaps.c - QEMU's own memory from /proc/PID/smaps: the guest RAM
 * mapping found by its size among a TCG translation cache of the same
 * order, guard pages and libraries; text that is not smaps refused; and
 * this very process read live. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smaps.h"
#include "util.h"

Suite *smaps_suite(void);

/* A mapping's smaps block: header, then the fields QEMU's show */
#define MAP(range, perms, path, size, rss)				\
	range " " perms " 00000000 00:00 0          " path "\n"		\
	"Size:           " size " kB\n"				\
	"KernelPageSize:        4 kB\n"					\
	"MMUPageSize:           4 kB\n"					\
	"Rss:            " rss " kB\n"					\
	"Pss:            " rss " kB\n"					\
	"Anonymous:      " rss " kB\n"					\
	"AnonHugePages:         0 kB\n"					\
	"VmFlags: rd wr mr mw me ac sd\n"

/* A 768 MiB guest under TCG: its RAM (786432 KiB rw-p, 560 MiB
 * resident), the 1 GiB rwx translation cache (300 MiB resident), the
 * guard page after the RAM, a malloc arena and QEMU's binary */
static const char qemu_tcg[] =
	MAP("55d0c4a00000-55d0c4b00000", "r-xp", "/usr/bin/qemu-system-x86_64",
	    "1024", "900")
	MAP("7f1200000000-7f1230000000", "rw-p", "", "786432", "573440")
	MAP("7f1230000000-7f1230001000", "---p", "", "4", "0")
	MAP("7f1240000000-7f127ffff000", "rwxp", "", "1048572", "307200")
	MAP("7f1280000000-7f1284000000", "rw-p", "", "65536", "2048")
	MAP("7ffd00000000-7ffd00021000", "rw-p", "[stack]", "132", "40");

static int
scan(const char *text, const int64_t *sizes, size_t n, struct smaps_ram *r)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	ck_assert_ptr_nonnull(f);
	rc = smaps_scan(f, sizes, n, r);
	fclose(f);
	return rc;
}

START_TEST(test_guest_ram_found_by_size)
{
	int64_t sizes[] = { 786432 };
	struct smaps_ram r;

	ck_assert_int_eq(scan(qemu_tcg, sizes, 1, &r), 0);
	ck_assert_int_eq(r.ram_maps, 1);
	ck_assert_int_eq(r.ram_rss_kib, 573440);
	ck_assert_int_eq(r.all_rss_kib, 900 + 573440 + 307200 + 2048 + 40);
}
END_TEST

/* the translation cache is as large as a guest's RAM could be, but
 * executable: never guest RAM. A size no mapping has: none found. */
START_TEST(test_executable_or_other_size_is_not_ram)
{
	int64_t tcg[] = { 1048572 }, none[] = { 524288 }, two[] = { 786432,
	    65536 };
	struct smaps_ram r;

	ck_assert_int_eq(scan(qemu_tcg, tcg, 1, &r), 0);
	ck_assert_int_eq(r.ram_maps, 0);
	ck_assert_int_eq(r.ram_rss_kib, 0);
	ck_assert_int_eq(scan(qemu_tcg, none, 1, &r), 0);
	ck_assert_int_eq(r.ram_maps, 0);
	/* a second block (a virtio-mem device's region) adds up */
	ck_assert_int_eq(scan(qemu_tcg, two, 2, &r), 0);
	ck_assert_int_eq(r.ram_maps, 2);
	ck_assert_int_eq(r.ram_rss_kib, 573440 + 2048);
}
END_TEST

START_TEST(test_not_smaps_is_refused)
{
	int64_t sizes[] = { 786432 };
	struct smaps_ram r;

	/* an Rss before any mapping */
	ck_assert_int_eq(scan("Rss:   4 kB\n", sizes, 1, &r), -EINVAL);
	/* an Rss that is not a number of kB */
	ck_assert_int_eq(scan("7f1200000000-7f1230000000 rw-p 0 00:00 0\n"
	    "Rss:  lots\n", sizes, 1, &r), -EINVAL);
	ck_assert_int_eq(scan("7f1200000000-7f1230000000 rw-p 0 00:00 0\n"
	    "Rss:  12 MB\n", sizes, 1, &r), -EINVAL);
	/* an address range that runs backwards */
	ck_assert_int_eq(scan("7f1230000000-7f1200000000 rw-p 0 00:00 0\n",
	    sizes, 1, &r), -EINVAL);
	/* empty: nothing found, not an error */
	ck_assert_int_eq(scan("", sizes, 1, &r), 0);
	ck_assert_int_eq(r.ram_maps, 0);
}
END_TEST

/* this process, live: a 6 MiB anonymous mapping touched in 2 MiB of it
 * is found with that resident; its pid is read under the root prefix */
START_TEST(test_live_self)
{
	size_t len = 6 << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int64_t sizes[] = { (int64_t)(len / 1024) };
	struct smaps_ram r;

	ck_assert_ptr_ne(m, MAP_FAILED);
	memset(m, 1, 2 << 20);
	mt_set_root("");
	ck_assert_int_eq(smaps_read_pid(getpid(), sizes, 1, &r), 0);
	ck_assert_int_ge(r.ram_maps, 1);
	ck_assert_int_ge(r.ram_rss_kib, 2048);
	ck_assert_int_le(r.ram_rss_kib, 2048 * r.ram_maps + 2048);
	ck_assert_int_gt(r.all_rss_kib, r.ram_rss_kib);
	munmap(m, len);
	ck_assert_int_eq(smaps_read_pid(0, sizes, 1, &r), -EINVAL);
	ck_assert_int_eq(smaps_read_pid(INT32_MAX, sizes, 1, &r), -ENOENT);
}
END_TEST

Suite *
smaps_suite(void)
{
	Suite *s = suite_create("smaps");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_guest_ram_found_by_size);
	tcase_add_test(tc, test_executable_or_other_size_is_not_ram);
	tcase_add_test(tc, test_not_smaps_is_refused);
	tcase_add_test(tc, test_live_self);
	suite_add_tcase(s, tc);
	return s;
}
