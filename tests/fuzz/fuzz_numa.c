/* fuzz_numa.c - numa_node_parse on arbitrary text. The first byte picks
 * the node the text must be for; on success both sizes are present and
 * MemFree <= MemTotal. */
#include "fuzz.h"
#include "numa.h"

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
	int64_t total = MT_ABSENT, free_kib = MT_ABSENT;
	char err[256];
	char *buf;
	int node, rc;

	if (size < 1 || size > 8192)
		return 0;
	node = data[0] % MT_MAX_NODES;
	buf = fuzz_cstr(data + 1, size - 1);
	fuzz_err_init(err, sizeof(err));
	rc = numa_node_parse("node/meminfo", node, buf, &total, &free_kib,
	    err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(MT_PRESENT(total) && MT_PRESENT(free_kib));
		FUZZ_CHECK(free_kib >= 0 && free_kib <= total);
	} else {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
