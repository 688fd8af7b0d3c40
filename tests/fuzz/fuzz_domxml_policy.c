/* fuzz_domxml_policy.c - domxml_parse_policy on an arbitrary metadata
 * element (what virDomainGetMetadata hands back, which a guest's owner
 * may write), then guest_input_merge of what it accepted, and what
 * metadata = bounded (the default) lets it claim. */
#include "domxml.h"
#include "fuzz.h"
#include "policy.h"

/* Whatever the element says, bounded keeps it within memtuned.conf's
 * bounds for a 4 GiB guest. */
static void
check_bounded(const struct guest_input *merged)
{
	struct policy_config c;
	struct guest_snapshot g;
	struct guest_input b;
	struct policy_metadata_cap cap;

	policy_config_defaults(&c);
	guest_snapshot_init(&g);
	g.max_kib = 4LL * 1024 * 1024;
	g.input = *merged;
	policy_guest_input(&c, &g, &b, &cap);
	if (MT_PRESENT(b.floor_kib))
		FUZZ_CHECK(b.floor_kib <= g.max_kib / 2);
	if (MT_PRESENT(b.shares))
		FUZZ_CHECK(b.shares <= c.metadata_shares_max);
	FUZZ_CHECK(!b.exclude);
	if (MT_PRESENT(b.floor_kib) && MT_PRESENT(b.ceiling_kib))
		FUZZ_CHECK(b.ceiling_kib >= b.floor_kib);
}

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
	struct guest_override o;
	struct guest_input in;
	bool found = false;
	char err[512];
	char *buf;
	int rc;

	if (size > 16384)
		return 0;
	buf = fuzz_cstr(data, size);
	guest_override_init(&o);
	fuzz_err_init(err, sizeof(err));
	rc = domxml_parse_policy(buf, "fuzz", &o, &found, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0 && found) {
		FUZZ_CHECK(o.exclude >= -1 && o.exclude <= 1);
		if (MT_PRESENT(o.floor_kib))
			FUZZ_CHECK(o.floor_kib >= 0);
		if (MT_PRESENT(o.ceiling_kib))
			FUZZ_CHECK(o.ceiling_kib >= 0);
		if (MT_PRESENT(o.floor_kib) && MT_PRESENT(o.ceiling_kib))
			FUZZ_CHECK(o.floor_kib <= o.ceiling_kib);
		guest_input_merge(NULL, &o, &in);
		FUZZ_CHECK(in.exclude == (o.exclude == 1));
		check_bounded(&in);
	} else if (rc != 0) {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
