/* fuzz_domxml.c - domxml_parse on an arbitrary domain XML: it must not
 * crash, a failure has a message, metadata that was accepted has a sane
 * exclude value and floor <= ceiling when both are given, and memtuned's
 * own record is whole (a hard limit above 0, with a target above 0 or
 * none) or absent, the balloon's features come with a balloon, and
 * virtio-mem devices are counted with a size or not at all. */
#include "domxml.h"
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
	struct domxml_info info;
	char err[512];
	char *buf;
	int rc;

	if (size > 65536)
		return 0;
	buf = fuzz_cstr(data, size);
	fuzz_err_init(err, sizeof(err));
	rc = domxml_parse(buf, "fuzz", &info, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(memchr(info.policy_err, '\0',
		    sizeof(info.policy_err)) != NULL);
		if (info.has_policy) {
			const struct guest_override *p = &info.policy;

			FUZZ_CHECK(p->exclude >= -1 && p->exclude <= 1);
			if (MT_PRESENT(p->floor_kib) &&
			    MT_PRESENT(p->ceiling_kib))
				FUZZ_CHECK(p->floor_kib <= p->ceiling_kib);
		}
		FUZZ_CHECK(memchr(info.state_err, '\0',
		    sizeof(info.state_err)) != NULL);
		FUZZ_CHECK(!MT_PRESENT(info.own_hard_limit_kib) ||
		    info.own_hard_limit_kib > 0);
		/* balloon features only with a balloon; virtio-mem devices
		 * counted have a size, or none are */
		FUZZ_CHECK(info.backing.has_balloon ||
		    (!info.backing.free_page_reporting &&
		    !info.backing.autodeflate));
		FUZZ_CHECK(memchr(info.vmem_err, '\0',
		    sizeof(info.vmem_err)) != NULL);
		FUZZ_CHECK(info.backing.vmem.count >= 0);
		FUZZ_CHECK(info.backing.vmem.count == 0 ||
		    (MT_PRESENT(info.backing.vmem.size_kib) &&
		    info.backing.vmem.size_kib > 0));
		FUZZ_CHECK(info.backing.vmem.count == 0 ||
		    info.vmem_err[0] == '\0');
		FUZZ_CHECK(!MT_PRESENT(info.own_target_kib) ||
		    (info.own_target_kib > 0 &&
		    MT_PRESENT(info.own_hard_limit_kib)));
	} else {
		FUZZ_CHECK(rc < 0);
	}
	free(buf);
	return 0;
}
