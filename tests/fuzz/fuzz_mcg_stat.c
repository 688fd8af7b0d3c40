/* fuzz_mcg_stat.c - mcg_parse_stat (a cgroup's memory.stat) on arbitrary
 * text, as v1 or v2 by the first byte; on success the four sizes are
 * present and not negative. */
#include "cgroup.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_snapshot g;
	char err[256];
	char *buf;
	int version, rc;

	if (size < 1 || size > 16384)
		return 0;
	version = (data[0] & 1) ? 2 : 1;
	buf = fuzz_cstr(data + 1, size - 1);
	guest_snapshot_init(&g);
	fuzz_err_init(err, sizeof(err));
	rc = mcg_parse_stat(buf, version, &g, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(MT_PRESENT(g.cg_anon_kib) && g.cg_anon_kib >= 0);
		FUZZ_CHECK(MT_PRESENT(g.cg_file_kib) && g.cg_file_kib >= 0);
		FUZZ_CHECK(MT_PRESENT(g.cg_active_file_kib) &&
		    g.cg_active_file_kib >= 0);
		FUZZ_CHECK(MT_PRESENT(g.cg_inactive_file_kib) &&
		    g.cg_inactive_file_kib >= 0);
	} else {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
