/* fuzz_psi.c - psi_parse on arbitrary text: on success both lines are
 * present and every average is a per-myriad in 0..10000. */
#include "fuzz.h"
#include "psi.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static void
check_line(const struct psi_line *l)
{
	FUZZ_CHECK(l->avg10_pmy >= 0 && l->avg10_pmy <= 10000);
	FUZZ_CHECK(l->avg60_pmy >= 0 && l->avg60_pmy <= 10000);
	FUZZ_CHECK(l->avg300_pmy >= 0 && l->avg300_pmy <= 10000);
	FUZZ_CHECK(l->total_us >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_psi p;
	char err[256];
	char *buf;
	int rc;

	if (size > PSI_BUF_SIZE)
		return 0;
	buf = fuzz_cstr(data, size);
	memset(&p, 0, sizeof(p));
	fuzz_err_init(err, sizeof(err));
	rc = psi_parse(buf, &p, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(p.present);
		check_line(&p.some);
		check_line(&p.full);
		FUZZ_CHECK(p.full.total_us <= p.some.total_us);
	} else {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
