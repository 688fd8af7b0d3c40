/* fuzz_meminfo.c - meminfo_parse on arbitrary text; on success the
 * consistency meminfo.h promises must hold. */
#include "fuzz.h"
#include "meminfo.h"

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
	struct host_meminfo m;
	char err[256];
	char *buf;
	int rc;

	if (size > MEMINFO_BUF_SIZE)
		return 0;
	buf = fuzz_cstr(data, size);
	fuzz_err_init(err, sizeof(err));
	rc = meminfo_parse(buf, &m, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(MT_PRESENT(m.mem_total_kib));
		FUZZ_CHECK(MT_PRESENT(m.mem_free_kib));
		FUZZ_CHECK(MT_PRESENT(m.mem_avail_kib));
		FUZZ_CHECK(m.mem_avail_kib <= m.mem_total_kib);
		FUZZ_CHECK(m.mem_free_kib <= m.mem_total_kib);
		if (MT_PRESENT(m.swap_total_kib) && MT_PRESENT(m.swap_free_kib))
			FUZZ_CHECK(m.swap_free_kib <= m.swap_total_kib);
		if (MT_PRESENT(m.hugepages_total) &&
		    MT_PRESENT(m.hugepages_free))
			FUZZ_CHECK(m.hugepages_free <= m.hugepages_total);
	} else {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
