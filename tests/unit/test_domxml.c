/* test_domxml.c - domain XML: memory sizes, backing cases, balloon stats
 * period, <numatune> bindings and nodesets, memtuned metadata (present,
 * absent, malformed, foreign namespace) and the precedence of the
 * per-guest inputs. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domxml.h"
#include "log.h"

Suite *domxml_suite(void);

#define NS "xmlns:memtuned=\"http://memtuned.org/xmlns/memtuned/1\""
#define STNS "xmlns:st=\"" DOMXML_STATE_NS "\""

static char xmlbuf[8192];

/* A domain with the given extra top-level and <devices> content. */
static const char *
dom(const char *top, const char *devices)
{
	snprintf(xmlbuf, sizeof(xmlbuf),
	    "<domain type='kvm'><name>vm1</name>"
	    "<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
	    "<memory unit='KiB'>4194304</memory>"
	    "<currentMemory unit='MiB'>2048</currentMemory>%s"
	    "<devices>%s</devices></domain>", top, devices);
	return xmlbuf;
}

static int warnings;

static void
count_warnings(int pri, const char *line, void *arg)
{
	(void)line;
	(void)arg;
	if (pri == LOG_WARNING)
		warnings++;
}

static void
setup(void)
{
	log_init("test", LOG_TO_STDERR, 0);
	warnings = 0;
	log_set_hook(count_warnings, NULL);
}

static void
teardown(void)
{
	log_set_hook(NULL, NULL);
}

START_TEST(test_sizes)
{
	struct domxml_info in;
	char err[256];

	ck_assert_int_eq(domxml_parse(dom("<maxMemory unit='GiB' slots='4'>"
	    "16</maxMemory>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert_int_eq(in.memory_kib, 4194304);
	ck_assert_int_eq(in.current_kib, 2048 * 1024);
	ck_assert_int_eq(in.max_memory_kib, 16LL * 1024 * 1024);

	ck_assert_int_eq(domxml_parse(dom("", ""), "vm1", &in, err,
	    sizeof(err)), 0);
	ck_assert(!MT_PRESENT(in.max_memory_kib));

	/* decimal units are not binary ones */
	ck_assert_int_eq(domxml_parse("<domain><memory unit='KB'>1024000"
	    "</memory></domain>", "d", &in, err, sizeof(err)), 0);
	ck_assert_int_eq(in.memory_kib, 1000000);
	ck_assert_int_eq(domxml_parse("<domain><memory>512</memory>"
	    "</domain>", "d", &in, err, sizeof(err)), 0);
	ck_assert_int_eq(in.memory_kib, 512);

	ck_assert_int_eq(domxml_parse("<domain><memory unit='parsec'>1"
	    "</memory></domain>", "d", &in, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "parsec"));
	ck_assert_int_eq(domxml_parse("<domain><memory>lots</memory>"
	    "</domain>", "d", &in, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "domain d"));
}
END_TEST

START_TEST(test_not_xml)
{
	struct domxml_info in;
	char err[256];

	ck_assert_int_eq(domxml_parse("<domain><memory>", "bad", &in, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "domain bad"));
	ck_assert_int_eq(domxml_parse("<network/>", "bad", &in, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "<domain>"));
}
END_TEST

START_TEST(test_backing)
{
	struct domxml_info in;
	char err[256];

	/* none */
	ck_assert_int_eq(domxml_parse(dom("", ""), "vm1", &in, err,
	    sizeof(err)), 0);
	ck_assert(!in.backing.hugepages && !in.backing.locked &&
	    !in.backing.nosharepages);
	ck_assert(!in.backing.has_balloon);

	/* each flag alone */
	ck_assert_int_eq(domxml_parse(dom("<memoryBacking><hugepages>"
	    "<page size='2048' unit='KiB'/></hugepages></memoryBacking>", ""),
	    "vm1", &in, err, sizeof(err)), 0);
	ck_assert(in.backing.hugepages && !in.backing.locked &&
	    !in.backing.nosharepages);
	ck_assert_int_eq(domxml_parse(dom("<memoryBacking><locked/>"
	    "</memoryBacking>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.backing.hugepages && in.backing.locked &&
	    !in.backing.nosharepages);
	ck_assert_int_eq(domxml_parse(dom("<memoryBacking><nosharepages/>"
	    "</memoryBacking>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.backing.hugepages && !in.backing.locked &&
	    in.backing.nosharepages);
	/* all together, with other backing children around */
	ck_assert_int_eq(domxml_parse(dom("<memoryBacking><hugepages/>"
	    "<nosharepages/><locked/><source type='memfd'/>"
	    "<access mode='shared'/></memoryBacking>", ""), "vm1", &in, err,
	    sizeof(err)), 0);
	ck_assert(in.backing.hugepages && in.backing.locked &&
	    in.backing.nosharepages);
	/* a <hugepages> elsewhere (numa cell) is not memory backing */
	ck_assert_int_eq(domxml_parse(dom("<cpu><numa><cell id='0' "
	    "memory='1' unit='GiB'><hugepages/></cell></numa></cpu>", ""),
	    "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.backing.hugepages);
}
END_TEST

START_TEST(test_balloon)
{
	struct domxml_info in;
	char err[256];

	ck_assert_int_eq(domxml_parse(dom("", "<memballoon model='virtio'>"
	    "<stats period='5'/></memballoon>"), "vm1", &in, err,
	    sizeof(err)), 0);
	ck_assert(in.backing.has_balloon);
	ck_assert_int_eq(in.backing.stats_period_s, 5);

	ck_assert_int_eq(domxml_parse(dom("", "<memballoon model='virtio'/>"),
	    "vm1", &in, err, sizeof(err)), 0);
	ck_assert(in.backing.has_balloon);
	ck_assert(!MT_PRESENT(in.backing.stats_period_s));

	ck_assert_int_eq(domxml_parse(dom("", "<memballoon model='none'/>"),
	    "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.backing.has_balloon);

	ck_assert_int_eq(domxml_parse(dom("", "<memballoon model='virtio'>"
	    "<stats period='soon'/></memballoon>"), "vm1", &in, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "soon"));
}
END_TEST

/* <memballoon freePageReporting autodeflate>: on, off, absent, bad. */
START_TEST(test_balloon_features)
{
	static const struct {
		const char *devices;
		int rc;
		bool fpr, defl;
	} cases[] = {
		{ "<memballoon model='virtio'/>", 0, false, false },
		{ "<memballoon model='virtio' freePageReporting='on'/>", 0,
		    true, false },
		{ "<memballoon model='virtio' autodeflate='on'/>", 0, false,
		    true },
		{ "<memballoon model='virtio' autodeflate='on' "
		    "freePageReporting='on'><stats period='2'/>"
		    "</memballoon>", 0, true, true },
		{ "<memballoon model='virtio' autodeflate='off' "
		    "freePageReporting='off'/>", 0, false, false },
		/* no balloon: its features do nothing */
		{ "<memballoon model='none' freePageReporting='on'/>", 0,
		    false, false },
		{ "", 0, false, false },
		{ "<memballoon model='virtio' autodeflate='yes'/>", -EINVAL,
		    false, false },
		{ "<memballoon model='virtio' freePageReporting=''/>", -EINVAL,
		    false, false },
	};
	struct domxml_info in;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		ck_assert_msg(domxml_parse(dom("", cases[i].devices), "vm1",
		    &in, err, sizeof(err)) == cases[i].rc, "case %zu", i);
		if (cases[i].rc < 0) {
			ck_assert_ptr_nonnull(strstr(err, "memballoon"));
			continue;
		}
		ck_assert_msg(in.backing.free_page_reporting == cases[i].fpr &&
		    in.backing.autodeflate == cases[i].defl, "case %zu", i);
	}
}
END_TEST

#define VMEM(size, node, block, req, cur, tail) \
	"<memory model='virtio-mem'><target><size unit='KiB'>" size \
	"</size><node>" node "</node><block unit='KiB'>" block "</block>" \
	"<requested unit='KiB'>" req "</requested>" cur "</target>" tail \
	"</memory>"

/* virtio-mem devices: each one's sizes, node, alias and address, the
 * sums, and a device memtuned cannot read (logged, all ignored). */
START_TEST(test_virtio_mem)
{
	static const struct {
		const char *devices;
		int count, warns;
		int64_t size, req, cur, block;
	} cases[] = {
		{ "", 0, 0, 0, 0, 0, 0 },
		/* a DIMM is not virtio-mem */
		{ "<memory model='dimm'><target><size unit='GiB'>1</size>"
		    "<node>0</node></target></memory>", 0, 0, 0, 0, 0, 0 },
		{ VMEM("4194304", "0", "2048", "1048576",
		    "<current unit='KiB'>1048576</current>",
		    "<alias name='virtiomem0'/><address type='pci' "
		    "domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"),
		    1, 0, 4194304, 1048576, 1048576, 2048 },
		/* two: summed; the larger block; one without <current> (an
		 * inactive domain) leaves the sum unknown */
		{ VMEM("2097152", "0", "2048", "0", "", "")
		    "<memory model='virtio-mem'><target><size unit='GiB'>2"
		    "</size><node>1</node><block unit='MiB'>4</block>"
		    "<requested unit='GiB'>1</requested></target></memory>",
		    2, 0, 2097152 + 2097152, 1048576, MT_ABSENT, 4096 },
		/* a bad one: none counted, the domain still read */
		{ VMEM("4194304", "0", "2048", "1048576", "", "")
		    VMEM("lots", "0", "2048", "0", "", ""), 0, 1, 0, 0, 0, 0 },
		{ VMEM("4194304", "64", "2048", "1048576", "", ""), 0, 1,
		    0, 0, 0, 0 },
		{ "<memory model='virtio-mem'><target><node>0</node>"
		    "</target></memory>", 0, 1, 0, 0, 0, 0 },
	};
	struct domxml_info in;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct guest_vmem *vm = &in.backing.vmem;

		warnings = 0;
		ck_assert_msg(domxml_parse(dom("", cases[i].devices), "vm1",
		    &in, err, sizeof(err)) == 0, "case %zu: %s", i, err);
		ck_assert_msg(vm->count == cases[i].count &&
		    warnings == cases[i].warns, "case %zu: count %d warns %d",
		    i, vm->count, warnings);
		ck_assert_msg((in.vmem_err[0] != '\0') == (cases[i].warns > 0),
		    "case %zu: %s", i, in.vmem_err);
		if (cases[i].count == 0)
			continue;
		ck_assert_int_eq(vm->size_kib, cases[i].size);
		ck_assert_int_eq(vm->requested_kib, cases[i].req);
		ck_assert_int_eq(vm->current_kib, cases[i].cur);
		ck_assert_int_eq(vm->block_kib, cases[i].block);
	}
	/* the one with an address, device by device */
	ck_assert_int_eq(domxml_parse(dom("", cases[2].devices), "vm1", &in,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(in.backing.vmem.dev[0].alias, "virtiomem0");
	ck_assert_str_eq(in.backing.vmem.dev[0].addr, "0000:00:05.0");
	ck_assert_int_eq(in.backing.vmem.dev[0].node, 0);
	ck_assert_int_eq(domxml_parse(dom("", cases[3].devices), "vm1", &in,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(in.backing.vmem.dev[1].node, 1);
	ck_assert_int_eq(in.backing.vmem.dev[1].block_kib, 4096);
	ck_assert_str_eq(in.backing.vmem.dev[1].addr, "");
	ck_assert(!MT_PRESENT(in.backing.vmem.dev[1].current_kib));
	/* the host nodes of each device: its cell's <memnode>, else the
	 * domain's <memory>; unbound without either */
	ck_assert_int_eq(in.backing.vmem.dev[0].host_nodes, 0);
	ck_assert_int_eq(domxml_parse(dom("<cpu><numa><cell id='0' cpus='0' "
	    "memory='1' unit='GiB'/><cell id='1' cpus='1' memory='1' "
	    "unit='GiB'/></numa></cpu><numatune><memory mode='strict' "
	    "nodeset='0-1'/><memnode cellid='1' mode='strict' nodeset='1'/>"
	    "</numatune>", cases[3].devices), "vm1", &in, err, sizeof(err)),
	    0);
	ck_assert_int_eq(in.backing.vmem.dev[0].host_nodes, 3);
	ck_assert_int_eq(in.backing.vmem.dev[1].host_nodes, 2);
}
END_TEST

START_TEST(test_nodeset_syntax)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t mask;
	} cases[] = {
		{ "0", 0, 0x1 },
		{ "1", 0, 0x2 },
		{ "0-1,3", 0, 0xb },
		{ " 0 - 1", -EINVAL, 0 },
		{ "0-3,^2", 0, 0xb },
		{ "^2,0-3", 0, 0xb },
		{ " 2 , 5 ", 0, 0x24 },
		{ "63", 0, UINT64_C(1) << 63 },
		{ "0-63", 0, UINT64_MAX },
		{ "64", -EINVAL, 0 },
		{ "3-1", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "1,", -EINVAL, 0 },
		{ ",1", -EINVAL, 0 },
		{ "1;2", -EINVAL, 0 },
		{ "one", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "^1", -EINVAL, 0 },		/* nothing left */
		{ "1-", -EINVAL, 0 },
		{ "99999999999999999999", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t m = 0;
		int rc = domxml_parse_nodeset(cases[i].text, &m);

		ck_assert_msg(rc == cases[i].rc, "'%s': rc %d", cases[i].text,
		    rc);
		if (rc == 0)
			ck_assert_msg(m == cases[i].mask, "'%s': mask %llx",
			    cases[i].text, (unsigned long long)m);
	}
}
END_TEST

#define CELLS2 "<cpu><numa><cell id='0' memory='2' unit='GiB'/>" \
	"<cell id='1' memory='2' unit='GiB'/></numa></cpu>"

START_TEST(test_numatune)
{
	static const struct {
		const char *top;
		uint64_t nodes;
		bool confined, is_auto;
		int warnings;
	} cases[] = {
		/* no numatune: unbound */
		{ "", 0, false, false, 0 },
		{ "<numatune><memory mode='strict' nodeset='1'/></numatune>",
		    0x2, true, false, 0 },
		/* mode defaults to strict */
		{ "<numatune><memory nodeset='0-1,3'/></numatune>",
		    0xb, true, false, 0 },
		{ "<numatune><memory mode='restrictive' nodeset='0'/>"
		    "</numatune>", 0x1, true, false, 0 },
		/* steering, not confining: the kernel falls back */
		{ "<numatune><memory mode='preferred' nodeset='1'/>"
		    "</numatune>", 0x2, false, false, 0 },
		{ "<numatune><memory mode='interleave' nodeset='0-1'/>"
		    "</numatune>", 0x3, false, false, 0 },
		/* numad's choice: not in the XML */
		{ "<numatune><memory mode='strict' placement='auto'/>"
		    "</numatune>", 0, false, true, 0 },
		{ "<numatune><memory mode='strict'/></numatune>",
		    0, false, true, 0 },
		/* malformed: a warning, unbound */
		{ "<numatune><memory mode='strict' nodeset='1-0'/>"
		    "</numatune>", 0, false, false, 1 },
		{ "<numatune><memory mode='strict' nodeset='node1'/>"
		    "</numatune>", 0, false, false, 1 },
		{ "<numatune><memory mode='strict' nodeset='70'/>"
		    "</numatune>", 0, false, false, 1 },
		{ "<numatune><memory mode='tight' nodeset='1'/></numatune>",
		    0, false, false, 1 },
		{ "<numatune><memory placement='static'/></numatune>",
		    0, false, false, 1 },
		/* every guest cell bound strictly by its memnode */
		{ CELLS2 "<numatune><memnode cellid='0' mode='strict' "
		    "nodeset='0'/><memnode cellid='1' mode='strict' "
		    "nodeset='1'/></numatune>", 0x3, true, false, 0 },
		/* one cell left unbound */
		{ CELLS2 "<numatune><memnode cellid='0' mode='strict' "
		    "nodeset='1'/></numatune>", 0x2, false, false, 0 },
		/* ... unless <memory> confines the rest */
		{ CELLS2 "<numatune><memory mode='strict' nodeset='1'/>"
		    "<memnode cellid='0' mode='strict' nodeset='1'/>"
		    "</numatune>", 0x2, true, false, 0 },
		/* one cell only preferred */
		{ CELLS2 "<numatune><memory mode='strict' nodeset='1'/>"
		    "<memnode cellid='0' mode='preferred' nodeset='0'/>"
		    "</numatune>", 0x3, false, false, 0 },
		{ CELLS2 "<numatune><memnode cellid='0' mode='strict' "
		    "nodeset='x'/></numatune>", 0, false, false, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct domxml_info in;
		char err[256];

		warnings = 0;
		ck_assert_int_eq(domxml_parse(dom(cases[i].top, ""), "vm1",
		    &in, err, sizeof(err)), 0);
		ck_assert_msg(in.backing.numa_nodes == cases[i].nodes &&
		    in.backing.numa_confined == cases[i].confined &&
		    in.backing.numa_auto == cases[i].is_auto &&
		    warnings == cases[i].warnings,
		    "case %zu: nodes %llx confined %d auto %d warnings %d", i,
		    (unsigned long long)in.backing.numa_nodes,
		    in.backing.numa_confined, in.backing.numa_auto, warnings);
		ck_assert_int_eq(in.numa_err[0] != '\0', cases[i].warnings > 0);
		if (cases[i].warnings > 0)
			ck_assert_ptr_nonnull(strstr(in.numa_err, "domain vm1"));
	}
}
END_TEST

START_TEST(test_numatune_warning_names_text)
{
	struct domxml_info in;
	char err[256];

	ck_assert_int_eq(domxml_parse(dom("<numatune><memory mode='strict' "
	    "nodeset='0-1,,3'/></numatune>", ""), "db7", &in, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(in.numa_err, "domain db7"));
	ck_assert_ptr_nonnull(strstr(in.numa_err, "'0-1,,3'"));
	ck_assert(!in.backing.numa_confined && in.backing.numa_nodes == 0);
	/* the rest of the domain is still read */
	ck_assert_int_eq(in.memory_kib, 4194304);
}
END_TEST

START_TEST(test_metadata_present)
{
	struct domxml_info in;
	char err[256];

	ck_assert_int_eq(domxml_parse(dom("<metadata><memtuned:policy " NS
	    " floor='1G' ceiling='3G' shares='2000' exclude='no'/>"
	    "</metadata>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(in.has_policy);
	ck_assert_int_eq(in.policy.floor_kib, 1024 * 1024);
	ck_assert_int_eq(in.policy.ceiling_kib, 3 * 1024 * 1024);
	ck_assert_int_eq(in.policy.shares, 2000);
	ck_assert_int_eq(in.policy.exclude, 0);

	/* partial: only what is given */
	ck_assert_int_eq(domxml_parse(dom("<metadata><m:policy "
	    "xmlns:m='http://memtuned.org/xmlns/memtuned/1' exclude='yes'/>"
	    "</metadata>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(in.has_policy);
	ck_assert(!MT_PRESENT(in.policy.floor_kib));
	ck_assert(!MT_PRESENT(in.policy.shares));
	ck_assert_int_eq(in.policy.exclude, 1);
	ck_assert_int_eq(warnings, 0);
}
END_TEST

START_TEST(test_metadata_absent_foreign)
{
	struct domxml_info in;
	char err[256];

	ck_assert_int_eq(domxml_parse(dom("", ""), "vm1", &in, err,
	    sizeof(err)), 0);
	ck_assert(!in.has_policy);

	/* same local name in someone else's namespace: not ours */
	ck_assert_int_eq(domxml_parse(dom("<metadata><x:policy "
	    "xmlns:x='http://example.org/other/1' floor='oops'/>"
	    "<app:tag xmlns:app='http://example.org/app'>v</app:tag>"
	    "</metadata>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.has_policy);
	/* no namespace at all: not ours either */
	ck_assert_int_eq(domxml_parse(dom("<metadata><policy floor='1G'/>"
	    "</metadata>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.has_policy);
	/* an older version of our namespace is a different namespace */
	ck_assert_int_eq(domxml_parse(dom("<metadata><m:policy "
	    "xmlns:m='http://memtuned.org/xmlns/memtuned/0' floor='1G'/>"
	    "</metadata>", ""), "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.has_policy);
	ck_assert_int_eq(warnings, 0);
}
END_TEST

START_TEST(test_metadata_malformed)
{
	static const struct {
		const char *attrs;
		const char *want;
	} bad[] = {
		{ "floor='1Q'", "floor" },
		{ "ceiling='-3G'", "ceiling" },
		{ "shares='many'", "shares" },
		{ "shares='-1'", "shares" },
		{ "shares='0'", "shares" },
		{ "shares='1000001'", "shares" },
		{ "exclude='perhaps'", "exclude" },
		{ "flor='1G'", "flor" },
		{ "floor='4G' ceiling='2G'", "above ceiling" },
	};
	struct domxml_info in;
	char err[256], top[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		warnings = 0;
		snprintf(top, sizeof(top), "<metadata><memtuned:policy " NS
		    " %s/></metadata>", bad[i].attrs);
		/* the domain itself still parses; only the metadata goes */
		ck_assert_int_eq(domxml_parse(dom(top, "<memballoon "
		    "model='virtio'/>"), "vm1", &in, err, sizeof(err)), 0);
		ck_assert(!in.has_policy);
		ck_assert(!MT_PRESENT(in.policy.floor_kib));
		ck_assert(in.backing.has_balloon);
		ck_assert_int_eq(in.memory_kib, 4194304);
		ck_assert_msg(strstr(in.policy_err, bad[i].want) != NULL,
		    "%s: %s", bad[i].attrs, in.policy_err);
		ck_assert_ptr_nonnull(strstr(in.policy_err, "domain vm1"));
		ck_assert_int_eq(warnings, 1);
	}

	/* two policy elements: ambiguous, refused */
	ck_assert_int_eq(domxml_parse(dom("<metadata><memtuned:policy " NS
	    " floor='1G'/><memtuned:policy " NS " floor='2G'/></metadata>", ""),
	    "vm1", &in, err, sizeof(err)), 0);
	ck_assert(!in.has_policy);
	ck_assert_ptr_nonnull(strstr(in.policy_err, "2 policy"));
}
END_TEST

START_TEST(test_parse_policy_alone)
{
	struct guest_override o;
	char err[256];
	bool found;

	/* the form virDomainGetMetadata returns */
	ck_assert_int_eq(domxml_parse_policy("<memtuned:policy " NS
	    " floor='512M'/>", "vm2", &o, &found, err, sizeof(err)), 0);
	ck_assert(found);
	ck_assert_int_eq(o.floor_kib, 512 * 1024);
	ck_assert_int_eq(domxml_parse_policy("<other/>", "vm2", &o, &found,
	    err, sizeof(err)), 0);
	ck_assert(!found);
	ck_assert_int_eq(domxml_parse_policy("<memtuned:policy " NS
	    " shares='x'/>", "vm2", &o, &found, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "domain vm2"));
	ck_assert_ptr_nonnull(strstr(err, "shares"));
}
END_TEST

START_TEST(test_merge_precedence)
{
	struct guest_override conf, meta;
	struct guest_input in;

	/* nothing given: defaults */
	guest_input_merge(NULL, NULL, &in);
	ck_assert(!MT_PRESENT(in.floor_kib) && !MT_PRESENT(in.ceiling_kib) &&
	    !MT_PRESENT(in.shares) && !in.exclude);
	ck_assert(in.floor_src == SRC_DEFAULT && in.ceiling_src == SRC_DEFAULT &&
	    in.shares_src == SRC_DEFAULT && in.exclude_src == SRC_DEFAULT);

	/* metadata only */
	guest_override_init(&meta);
	meta.floor_kib = 1000;
	meta.ceiling_kib = 3000;
	meta.shares = 2000;
	meta.exclude = 1;
	guest_input_merge(NULL, &meta, &in);
	ck_assert_int_eq(in.floor_kib, 1000);
	ck_assert(in.floor_src == SRC_METADATA);
	ck_assert(in.exclude && in.exclude_src == SRC_METADATA);

	/* config wins field by field, the rest falls through */
	guest_override_init(&conf);
	conf.floor_kib = 1500;
	conf.exclude = 0;
	guest_input_merge(&conf, &meta, &in);
	ck_assert_int_eq(in.floor_kib, 1500);
	ck_assert(in.floor_src == SRC_CONFIG);
	ck_assert_int_eq(in.ceiling_kib, 3000);
	ck_assert(in.ceiling_src == SRC_METADATA);
	ck_assert_int_eq(in.shares, 2000);
	ck_assert(in.shares_src == SRC_METADATA);
	ck_assert(!in.exclude && in.exclude_src == SRC_CONFIG);

	/* config only, metadata empty */
	guest_override_init(&meta);
	conf.shares = 0;
	guest_input_merge(&conf, &meta, &in);
	ck_assert_int_eq(in.shares, 0);
	ck_assert(in.shares_src == SRC_CONFIG);
	ck_assert(!MT_PRESENT(in.ceiling_kib) && in.ceiling_src == SRC_DEFAULT);
}
END_TEST

/* memtuned's record of the hard limit it set: what the actuator writes
 * is what the parser reads back; a record memtuned cannot read counts as
 * none (the limit is then not taken for memtuned's), with a warning. */
START_TEST(test_own_state_record)
{
	static const struct {
		const char *meta;
		int64_t want_kib, want_target_kib;
		int warnings;
	} cases[] = {
		{ "", MT_ABSENT, MT_ABSENT, 0 },
		{ "<st:state " STNS " hard_limit='2400000' target='2000000'/>",
		    2400000, 2000000, 0 },
		{ "<st:state " STNS " hard_limit='2400000'/>", 2400000,
		    MT_ABSENT, 0 },
		/* the prefix is free, the namespace is not */
		{ "<x:state xmlns:x='" DOMXML_STATE_NS "' hard_limit='7'/>", 7,
		    MT_ABSENT, 0 },
		{ "<memtuned:state " NS " hard_limit='2400000'/>", MT_ABSENT,
		    MT_ABSENT, 0 },
		{ "<st:state " STNS "/>", MT_ABSENT, MT_ABSENT, 0 },
		{ "<st:state " STNS " target='5'/>", MT_ABSENT, MT_ABSENT, 0 },
		{ "<st:state " STNS " hard_limit='2G'/>", MT_ABSENT, MT_ABSENT,
		    1 },
		{ "<st:state " STNS " hard_limit='0'/>", MT_ABSENT, MT_ABSENT,
		    1 },
		{ "<st:state " STNS " hard_limit='-5'/>", MT_ABSENT, MT_ABSENT,
		    1 },
		/* half a record is none */
		{ "<st:state " STNS " hard_limit='5' target='x'/>", MT_ABSENT,
		    MT_ABSENT, 1 },
		{ "<st:state " STNS " hard_limit='1'/><st:state " STNS
		    " hard_limit='2'/>", MT_ABSENT, MT_ABSENT, 1 },
	};
	struct domxml_info in;
	char err[256], top[512], el[96];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		warnings = 0;
		snprintf(top, sizeof(top), "<metadata>%s</metadata>",
		    cases[i].meta);
		ck_assert_int_eq(domxml_parse(dom(top, ""), "vm1", &in, err,
		    sizeof(err)), 0);
		ck_assert_msg(in.own_hard_limit_kib == cases[i].want_kib &&
		    in.own_target_kib == cases[i].want_target_kib,
		    "%s: %lld, %lld", cases[i].meta,
		    (long long)in.own_hard_limit_kib,
		    (long long)in.own_target_kib);
		ck_assert_int_eq(warnings, cases[i].warnings);
		if (cases[i].warnings > 0)
			ck_assert_ptr_nonnull(strstr(in.state_err,
			    "domain vm1: memtuned state"));
	}
	/* the element the actuator writes, as libvirt stores it */
	ck_assert_int_eq(domxml_state_element(0, 1, el, sizeof(el)), -ERANGE);
	ck_assert_str_eq(el, "");
	ck_assert_int_eq(domxml_state_element(1, 0, el, sizeof(el)), -ERANGE);
	ck_assert_str_eq(el, "");
	ck_assert_int_eq(domxml_state_element(1, 1, el, 8), -ERANGE);
	ck_assert_str_eq(el, "");
	ck_assert_int_eq(domxml_state_element(2400000, MT_ABSENT, el,
	    sizeof(el)), 0);
	ck_assert_str_eq(el, "<state hard_limit=\"2400000\"/>");
	ck_assert_int_eq(domxml_state_element(2400000, 2000000, el,
	    sizeof(el)), 0);
	ck_assert_str_eq(el, "<state hard_limit=\"2400000\" "
	    "target=\"2000000\"/>");
	snprintf(top, sizeof(top), "<metadata><memtuned-state:state "
	    "xmlns:memtuned-state='" DOMXML_STATE_NS "' %s</metadata>",
	    el + strlen("<state "));
	ck_assert_int_eq(domxml_parse(dom(top, ""), "vm1", &in, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(in.own_hard_limit_kib, 2400000);
	ck_assert_int_eq(in.own_target_kib, 2000000);
}
END_TEST

/* memtunectl exclude: the element virDomainSetMetadata gets keeps what
 * the operator's element said, and sets exclude; an element memtuned
 * cannot read is left alone rather than overwritten. */
START_TEST(test_policy_exclude)
{
	static const struct {
		const char *old;
		int rc;
		const char *want;
	} cases[] = {
		{ NULL, 0, "<policy exclude=\"yes\"/>" },
		{ "", 0, "<policy exclude=\"yes\"/>" },
		{ "<policy xmlns=\"" DOMXML_NS "\" floor=\"1G\" "
		  "ceiling=\"3G\" shares=\"2000\"/>", 0,
		  "<policy floor=\"1G\" ceiling=\"3G\" shares=\"2000\" "
		  "exclude=\"yes\"/>" },
		{ "<memtuned:policy xmlns:memtuned=\"" DOMXML_NS "\" "
		  "exclude=\"no\" floor=\"512M\"/>", 0,
		  "<policy floor=\"512M\" exclude=\"yes\"/>" },
		{ "<policy floor=\"lots\"/>", -EINVAL, "" },
		{ "<policy colour=\"red\"/>", -EINVAL, "" },
		{ "<other floor=\"1G\"/>", -EINVAL, "" },
		{ "not xml", -EINVAL, "" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[256], err[256];

		ck_assert_int_eq(domxml_policy_exclude(cases[i].old, "vm",
		    true, buf, sizeof(buf), err, sizeof(err)), cases[i].rc);
		ck_assert_msg(strcmp(buf, cases[i].want) == 0,
		    "case %zu: got '%s'", i, buf);
	}
	{
		char small[16], err[64];

		ck_assert_int_eq(domxml_policy_exclude(NULL, "vm", true, small,
		    sizeof(small), err, sizeof(err)), -ERANGE);
		ck_assert_str_eq(small, "");
	}
}
END_TEST

Suite *
domxml_suite(void)
{
	Suite *s = suite_create("domxml");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_not_xml);
	tcase_add_test(tc, test_backing);
	tcase_add_test(tc, test_balloon);
	tcase_add_test(tc, test_balloon_features);
	tcase_add_test(tc, test_virtio_mem);
	tcase_add_test(tc, test_nodeset_syntax);
	tcase_add_test(tc, test_numatune);
	tcase_add_test(tc, test_numatune_warning_names_text);
	tcase_add_test(tc, test_metadata_present);
	tcase_add_test(tc, test_metadata_absent_foreign);
	tcase_add_test(tc, test_metadata_malformed);
	tcase_add_test(tc, test_parse_policy_alone);
	tcase_add_test(tc, test_merge_precedence);
	tcase_add_test(tc, test_own_state_record);
	tcase_add_test(tc, test_policy_exclude);
	suite_add_tcase(s, tc);
	return s;
}
