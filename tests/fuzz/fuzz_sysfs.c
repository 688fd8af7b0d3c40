/* fuzz_sysfs.c - the KSM and THP value parsers: mt_sysfs_choice on the
 * input itself, then ksm_read and thp_read on a scratch sysfs tree where
 * one file (picked by the first byte) holds the input and the others hold
 * what a 6.x kernel prints. The tree lives under $TMPDIR for the run. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "ksm.h"
#include "thp.h"
#include "util.h"

static const char *const files[][2] = {
	{ KSM_DIR "run", "0\n" },
	{ KSM_DIR "pages_to_scan", "100\n" },
	{ KSM_DIR "sleep_millisecs", "20\n" },
	{ KSM_DIR "pages_shared", "0\n" },
	{ KSM_DIR "pages_sharing", "0\n" },
	{ KSM_DIR "pages_unshared", "0\n" },
	{ KSM_DIR "pages_volatile", "0\n" },
	{ KSM_DIR "pages_skipped", "0\n" },
	{ KSM_DIR "full_scans", "0\n" },
	{ KSM_DIR "general_profit", "0\n" },
	{ KSM_DIR "ksm_zero_pages", "0\n" },
	{ KSM_DIR "max_page_sharing", "256\n" },
	{ KSM_DIR "merge_across_nodes", "1\n" },
	{ KSM_DIR "use_zero_pages", "0\n" },
	{ KSM_DIR "smart_scan", "1\n" },
	{ KSM_DIR "stable_node_chains", "0\n" },
	{ KSM_DIR "stable_node_dups", "0\n" },
	{ KSM_DIR "advisor_mode", "[none] scan-time\n" },
	{ KSM_DIR "advisor_target_scan_time", "200\n" },
	{ KSM_DIR "advisor_max_cpu", "70\n" },
	{ KSM_DIR "advisor_min_pages_to_scan", "500\n" },
	{ KSM_DIR "advisor_max_pages_to_scan", "30000\n" },
	{ THP_DIR "enabled", "always [madvise] never\n" },
	{ THP_DIR "defrag", "always defer defer+madvise [madvise] never\n" },
	{ THP_DIR "khugepaged/pages_to_scan", "4096\n" },
	{ THP_DIR "khugepaged/scan_sleep_millisecs", "10000\n" },
	{ THP_DIR "khugepaged/alloc_sleep_millisecs", "60000\n" },
	{ THP_DIR "khugepaged/defrag", "1\n" },
	{ THP_DIR "khugepaged/max_ptes_none", "511\n" },
	{ THP_DIR "khugepaged/pages_collapsed", "0\n" },
	{ THP_DIR "khugepaged/full_scans", "0\n" },
};

static char root[PATH_MAX];

static void
put(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			abort();
		*p = '/';
	}
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (len > 0 && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	snprintf(root, sizeof(root), "%s/mt-fuzz-sysfs-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(root) == NULL)
		abort();
	atexit(cleanup);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		put(files[i][0], files[i][1], strlen(files[i][1]));
	mt_set_root(root);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_ksm k;
	struct host_thp t;
	char choice[24], err[512];
	char *buf;
	size_t which;
	int rc;

	if (size < 1 || size > 4096)
		return 0;
	buf = fuzz_cstr(data + 1, size - 1);
	memset(choice, 'X', sizeof(choice));
	rc = mt_sysfs_choice(buf, choice, sizeof(choice));
	if (rc == 0) {
		FUZZ_CHECK(strlen(choice) > 0 && strlen(choice) < sizeof(choice));
		FUZZ_CHECK(strchr(choice, ' ') == NULL);
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENAMETOOLONG);
	}
	free(buf);

	which = data[0] % ARRAY_SIZE(files);
	put(files[which][0], data + 1, size - 1);
	memset(&k, 0, sizeof(k));
	memset(&t, 0, sizeof(t));
	fuzz_err_init(err, sizeof(err));
	rc = ksm_read(&k, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	FUZZ_CHECK(memchr(k.advisor_mode, '\0', sizeof(k.advisor_mode)) != NULL);
	fuzz_err_init(err, sizeof(err));
	rc = thp_read(&t, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	FUZZ_CHECK(memchr(t.enabled, '\0', sizeof(t.enabled)) != NULL);
	FUZZ_CHECK(memchr(t.defrag, '\0', sizeof(t.defrag)) != NULL);
	put(files[which][0], files[which][1], strlen(files[which][1]));
	return 0;
}
