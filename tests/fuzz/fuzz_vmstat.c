/* fuzz_vmstat.c - vmstat_parse on arbitrary text: pgmajfault is required
 * on success, and the rates stay absent (hostcollect computes them). */
#include "fuzz.h"
#include "vmstat.h"

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
	struct host_vmstat v;
	char err[256];
	char *buf;
	int rc;

	if (size > VMSTAT_BUF_SIZE)
		return 0;
	buf = fuzz_cstr(data, size);
	fuzz_err_init(err, sizeof(err));
	rc = vmstat_parse(buf, &v, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(MT_PRESENT(v.pgmajfault));
		FUZZ_CHECK(!MT_PRESENT(v.pgmajfault_per_s));
		FUZZ_CHECK(!MT_PRESENT(v.refault_per_s));
	} else {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
