/* fuzz_taskstats.c - taskstats_parse_reply on a netlink message whose
 * payload (generic netlink header and attributes) is the input. The
 * nlmsghdr length is set to what arrived, as libnl's receive path does
 * before it hands a message on. Replies are for pid 4242. */
#include <errno.h>
#include <linux/netlink.h>

#include "fuzz.h"
#include "taskstats.h"
#include "util.h"

#define FUZZ_PID 4242

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
	struct taskstats_sample s;
	struct nlmsghdr *nlh;
	int rc;

	if (size > 65536)
		return 0;
	/* a heap block of exactly the message's size, so ASan sees any
	 * read past its end */
	if ((nlh = malloc(NLMSG_HDRLEN + size)) == NULL)
		abort();
	memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + size);
	nlh->nlmsg_type = 0x17;
	memcpy((char *)nlh + NLMSG_HDRLEN, data, size);
	s.version = s.freepages_delay_ns = s.thrashing_delay_ns = MT_ABSENT;
	s.swapin_delay_ns = s.cpu_run_real_ns = MT_ABSENT;
	rc = taskstats_parse_reply(nlh, FUZZ_PID, &s);
	if (rc == 0) {
		FUZZ_CHECK(MT_PRESENT(s.version));
		/* delays are durations: present and never negative */
		FUZZ_CHECK(s.swapin_delay_ns >= 0);
		FUZZ_CHECK(s.cpu_run_real_ns >= 0);
		FUZZ_CHECK(!MT_PRESENT(s.freepages_delay_ns) ||
		    s.freepages_delay_ns >= 0);
		FUZZ_CHECK(!MT_PRESENT(s.thrashing_delay_ns) ||
		    s.thrashing_delay_ns >= 0);
	} else {
		FUZZ_CHECK(rc == -EINVAL);
	}
	free(nlh);
	return 0;
}
