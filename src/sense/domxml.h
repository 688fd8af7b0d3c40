/* domxml.h - what a domain's XML says about its memory, parsed with libxml2
 * and XPath: <memory>/<currentMemory>/<maxMemory>, <memoryBacking>,
 * <memballoon> with its stats period, free page reporting and autodeflate,
 * the virtio-mem devices, and memtuned's own <metadata> element:
 *
 *   <metadata>
 *     <memtuned:policy xmlns:memtuned="http://memtuned.org/xmlns/memtuned/1"
 *         floor="1G" ceiling="3G" shares="2000" exclude="no"/>
 *   </metadata>
 *
 * the <numatune> binding of its memory to host NUMA nodes, and the merge of
 * the per-guest policy inputs (see docs/guests.md).
 */
#ifndef MEMTUNED_DOMXML_H
#define MEMTUNED_DOMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define DOMXML_NS "http://memtuned.org/xmlns/memtuned/1"
#define DOMXML_KEY "memtuned"		/* the prefix, as virsh --key */
/* What memtuned itself set on the running domain, written live by the
 * actuator as <memtuned-state:state hard_limit="KiB" target="KiB"/>: the
 * hard limit, and the balloon target in force when it was set. A
 * namespace of its own: libvirt keeps one metadata element per namespace,
 * and the operator's <policy> element must stay as the operator wrote
 * it. */
#define DOMXML_STATE_NS "http://memtuned.org/xmlns/memtuned/state/1"
#define DOMXML_STATE_KEY "memtuned-state"

/* One source of per-guest policy input (a memtuned.conf guest section, or
 * the domain's metadata). Sizes in KiB; MT_ABSENT / -1 when not given. */
struct guest_override {
	int64_t floor_kib;
	int64_t ceiling_kib;
	int64_t shares;
	int exclude;			/* -1 not given, 0 no, 1 yes */
};

struct domxml_info {
	int64_t memory_kib;		/* <memory>: boot maximum */
	int64_t current_kib;		/* <currentMemory> */
	int64_t max_memory_kib;		/* <maxMemory>: hotplug limit */
	struct guest_backing backing;
	/* memtuned metadata: has_policy when present and valid; a bad one
	 * leaves has_policy false and the reason in policy_err */
	bool has_policy;
	bool policy_present;		/* an element, read or not */
	struct guest_override policy;
	char policy_err[256];
	/* memtuned's own record (DOMXML_STATE_NS): the hard limit it set and
	 * the balloon target then, in KiB; MT_ABSENT without a valid record
	 * (a bad one is logged and described in state_err; target alone may
	 * be absent) */
	int64_t own_hard_limit_kib;
	int64_t own_target_kib;
	char state_err[256];
	/* <numatune>: a binding memtuned cannot read (bad mode or nodeset)
	 * is logged, treated as unbound and described here; "" otherwise */
	char numa_err[256];
	/* virtio-mem devices memtuned cannot read are logged, left out of
	 * backing.vmem and described here; "" otherwise */
	char vmem_err[256];
};

/* Set every field of an override to "not given". */
void guest_override_init(struct guest_override *o);

/* The record the actuator writes for a hard limit memtuned set with the
 * balloon target then (MT_ABSENT: not written), as virDomainSetMetadata
 * takes it (the namespace is added by libvirt). 0, or -ERANGE (buf left
 * empty) when a value is not above 0 or buf is too small. */
int domxml_state_element(int64_t hard_kib, int64_t target_kib, char *buf,
    size_t len);

/* Parse a whole domain XML. name is used in messages only. Returns 0, or
 * -EINVAL with a message in err when the XML itself cannot be read. A
 * malformed memtuned metadata element is not an error of the domain: it is
 * logged as a warning, ignored, and described in info->policy_err. */
int domxml_parse(const char *xml, const char *name, struct domxml_info *info,
    char *err, size_t errlen);
/* The same; without read_policy the memtuned metadata element is not
 * parsed at all ([daemon] metadata = ignore), only noted as present. */
int domxml_parse_opts(const char *xml, const char *name, bool read_policy,
    struct domxml_info *info, char *err, size_t errlen);

/* Parse only the memtuned metadata element (its XML text, as
 * virDomainGetMetadata returns it, or found inside a domain). 0 with
 * *found set, or -EINVAL naming the domain and the attribute. */
int domxml_parse_policy(const char *xml, const char *name,
    struct guest_override *out, bool *found, char *err, size_t errlen);

/* memtuned's <policy> element with exclude set (memtunectl exclude), as
 * virDomainSetMetadata takes it under DOMXML_NS with key DOMXML_KEY:
 * old_xml (the element virDomainGetMetadata returned; NULL: none) keeps
 * its floor, ceiling and shares; name is for messages. 0; -EINVAL with err when old_xml is not
 * a memtuned policy element memtuned can read (it is not overwritten);
 * -ERANGE when buf is too small. */
int domxml_policy_exclude(const char *old_xml, const char *name,
    bool exclude, char *buf, size_t len, char *err, size_t errlen);

/* The XML of the virtio-mem device whose alias is `alias`, taken from
 * the running domain's XML with its <target><requested> set to
 * requested_kib, as virDomainUpdateDeviceFlags takes it (libvirt finds
 * the device by what the XML says of it; only <requested> may differ).
 * The caller frees *out. 0; -ENOENT when the domain has no such device;
 * -EINVAL (err set) when the XML does not parse; -ENOMEM. */
int domxml_vmem_request(const char *xml, const char *alias,
    int64_t requested_kib, char **out, char *err, size_t errlen);

/* A libvirt nodeset ("0-3,^2,5") as a bitmask of host nodes. 0, or
 * -EINVAL for bad syntax, an empty set or a node at or beyond
 * MT_MAX_NODES. */
int domxml_parse_nodeset(const char *text, uint64_t *mask);

/* Merge field by field: (1) conf, the host-local memtuned.conf section,
 * (2) meta, the domain's metadata, (3) defaults (MT_ABSENT, exclude false).
 * Either may be NULL. Each field records where it came from. */
void guest_input_merge(const struct guest_override *conf,
    const struct guest_override *meta, struct guest_input *out);

#endif
