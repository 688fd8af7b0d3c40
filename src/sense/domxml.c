/* domxml.c - see domxml.h */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domxml.h"
#include "log.h"
#include "util.h"

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
guest_override_init(struct guest_override *o)
{
	o->floor_kib = MT_ABSENT;
	o->ceiling_kib = MT_ABSENT;
	o->shares = MT_ABSENT;
	o->exclude = -1;
}

/* libvirt's scaled integers: unit names as its schema accepts them.
 * Values are kept in bytes per unit so "KB" (1000) and "KiB" differ. */
static int
unit_bytes(const char *unit, int64_t *out)
{
	static const struct {
		const char *name;
		int64_t bytes;
	} units[] = {
		{ "b", 1 }, { "bytes", 1 },
		{ "KB", 1000 }, { "k", 1024 }, { "KiB", 1024 },
		{ "MB", 1000000 }, { "M", 1048576 }, { "MiB", 1048576 },
		{ "GB", 1000000000LL }, { "G", 1073741824LL },
		{ "GiB", 1073741824LL },
		{ "TB", 1000000000000LL }, { "T", 1099511627776LL },
		{ "TiB", 1099511627776LL },
	};

	if (unit == NULL) {
		*out = 1024;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		/* libvirt compares case-insensitively except for the
		 * decimal/binary distinction, which the table keeps */
		if (strcmp(unit, units[i].name) == 0 ||
		    (strlen(unit) == 1 && strcasecmp(unit, units[i].name) == 0)) {
			*out = units[i].bytes;
			return 0;
		}
	}
	return -EINVAL;
}

/* The first node an XPath expression selects, or NULL. */
static xmlNodePtr
xp_node(xmlXPathContextPtr ctx, const char *expr)
{
	xmlXPathObjectPtr obj;
	xmlNodePtr node = NULL;

	obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (obj != NULL && obj->type == XPATH_NODESET &&
	    obj->nodesetval != NULL && obj->nodesetval->nodeNr > 0)
		node = obj->nodesetval->nodeTab[0];
	xmlXPathFreeObject(obj);
	return node;
}

static int
xp_count(xmlXPathContextPtr ctx, const char *expr)
{
	xmlXPathObjectPtr obj;
	int n = 0;

	obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (obj != NULL && obj->type == XPATH_NODESET &&
	    obj->nodesetval != NULL)
		n = obj->nodesetval->nodeNr;
	xmlXPathFreeObject(obj);
	return n;
}

/* <memory unit='KiB'>N</memory> and friends into KiB. */
static int
read_scaled_kib(xmlXPathContextPtr ctx, const char *expr, const char *name,
    const char *what, int64_t *out, char *err, size_t errlen)
{
	xmlNodePtr node = xp_node(ctx, expr);
	xmlChar *text = NULL, *unit = NULL;
	int64_t v, mult;
	int rc = 0;

	*out = MT_ABSENT;
	if (node == NULL)
		return 0;
	text = xmlNodeGetContent(node);
	unit = xmlGetProp(node, (const xmlChar *)"unit");
	if (unit_bytes((const char *)unit, &mult) < 0) {
		seterr(err, errlen, "domain %s: <%s> has unknown unit '%s'",
		    name, what, (const char *)unit);
		rc = -EINVAL;
		goto out;
	}
	if (text == NULL || mt_parse_int64((const char *)text, &v) < 0 ||
	    v < 0 || v > INT64_MAX / mult) {
		seterr(err, errlen, "domain %s: <%s> is not a size: '%s'",
		    name, what, text != NULL ? (const char *)text : "");
		rc = -EINVAL;
		goto out;
	}
	*out = v * mult / 1024;
out:
	xmlFree(text);
	xmlFree(unit);
	return rc;
}

static int
parse_policy_node(xmlNodePtr node, const char *name,
    struct guest_override *out, char *err, size_t errlen)
{
	struct guest_override o;
	xmlAttrPtr a;
	int rc = 0;

	guest_override_init(&o);
	for (a = node->properties; a != NULL; a = a->next) {
		const char *attr = (const char *)a->name;
		xmlChar *val;
		bool b;

		/* attributes in another namespace belong to someone else */
		if (a->ns != NULL &&
		    strcmp((const char *)a->ns->href, DOMXML_NS) != 0)
			continue;
		val = xmlNodeListGetString(node->doc, a->children, 1);
		const char *v = val != NULL ? (const char *)val : "";

		if (strcmp(attr, "floor") == 0) {
			if (mt_parse_size_kib(v, &o.floor_kib) < 0)
				rc = -EINVAL;
		} else if (strcmp(attr, "ceiling") == 0) {
			if (mt_parse_size_kib(v, &o.ceiling_kib) < 0)
				rc = -EINVAL;
		} else if (strcmp(attr, "shares") == 0) {
			/* the same range as memtuned.conf's shares: a
			 * guest's weight means the same wherever it is set */
			if (mt_parse_int64(v, &o.shares) < 0 ||
			    o.shares < 1 || o.shares > 1000000)
				rc = -EINVAL;
		} else if (strcmp(attr, "exclude") == 0) {
			if (mt_parse_bool(v, &b) < 0)
				rc = -EINVAL;
			else
				o.exclude = b;
		} else {
			seterr(err, errlen, "domain %s: memtuned metadata: "
			    "unknown attribute '%s'", name, attr);
			xmlFree(val);
			return -EINVAL;
		}
		if (rc < 0) {
			seterr(err, errlen, "domain %s: memtuned metadata: "
			    "bad %s '%s'%s", name, attr, v,
			    strcmp(attr, "shares") == 0 ?
			    " (want 1..1000000)" : "");
			xmlFree(val);
			return rc;
		}
		xmlFree(val);
	}
	if (MT_PRESENT(o.floor_kib) && MT_PRESENT(o.ceiling_kib) &&
	    o.floor_kib > o.ceiling_kib) {
		seterr(err, errlen, "domain %s: memtuned metadata: floor "
		    "%lld KiB above ceiling %lld KiB", name,
		    (long long)o.floor_kib, (long long)o.ceiling_kib);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

static int
find_policy(xmlXPathContextPtr ctx, const char *expr, const char *name,
    struct guest_override *out, bool *found, char *err, size_t errlen)
{
	xmlXPathObjectPtr obj;
	int rc = 0;

	guest_override_init(out);
	*found = false;
	obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (obj == NULL || obj->type != XPATH_NODESET) {
		seterr(err, errlen, "domain %s: XPath failed", name);
		rc = -EINVAL;
		goto out;
	}
	if (obj->nodesetval == NULL || obj->nodesetval->nodeNr == 0)
		goto out;
	if (obj->nodesetval->nodeNr > 1) {
		seterr(err, errlen, "domain %s: memtuned metadata: %d policy "
		    "elements, expected one", name, obj->nodesetval->nodeNr);
		rc = -EINVAL;
		goto out;
	}
	rc = parse_policy_node(obj->nodesetval->nodeTab[0], name, out, err,
	    errlen);
	if (rc == 0)
		*found = true;
out:
	xmlXPathFreeObject(obj);
	return rc;
}

/* ------------------------------------------------------ own record */

int
domxml_state_element(int64_t hard_kib, int64_t target_kib, char *buf,
    size_t len)
{
	int n;

	if (len == 0)
		return -ERANGE;
	buf[0] = '\0';
	if (hard_kib <= 0 || (MT_PRESENT(target_kib) && target_kib <= 0))
		return -ERANGE;
	if (MT_PRESENT(target_kib))
		n = snprintf(buf, len, "<state hard_limit=\"%lld\" "
		    "target=\"%lld\"/>", (long long)hard_kib,
		    (long long)target_kib);
	else
		n = snprintf(buf, len, "<state hard_limit=\"%lld\"/>",
		    (long long)hard_kib);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';		/* never half a record */
		return -ERANGE;
	}
	return 0;
}

/* One attribute of the record: absent, or a plain number of KiB above 0. */
static int
read_state_kib(xmlNodePtr node, const char *attr, const char *name,
    int64_t *kib, char *err, size_t errlen)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)attr);
	int rc = 0;

	*kib = MT_ABSENT;
	if (v != NULL && (mt_parse_int64((const char *)v, kib) < 0 ||
	    *kib <= 0)) {
		seterr(err, errlen, "domain %s: memtuned state: bad %s '%s' "
		    "(want KiB above 0)", name, attr, (const char *)v);
		*kib = MT_ABSENT;
		rc = -EINVAL;
	}
	xmlFree(v);
	return rc;
}

/* memtuned's record of what it set: one <state> element in its own
 * namespace with hard_limit, and the target then, in KiB. */
static int
read_state(xmlXPathContextPtr ctx, const char *name, int64_t *hard_kib,
    int64_t *target_kib, char *err, size_t errlen)
{
	xmlXPathObjectPtr obj;
	int rc = 0, n;

	*hard_kib = *target_kib = MT_ABSENT;
	obj = xmlXPathEvalExpression((const xmlChar *)
	    "/domain/metadata/mts:state", ctx);
	if (obj == NULL || obj->type != XPATH_NODESET) {
		seterr(err, errlen, "domain %s: XPath failed", name);
		rc = -EINVAL;
		goto out;
	}
	n = obj->nodesetval != NULL ? obj->nodesetval->nodeNr : 0;
	if (n == 0)
		goto out;
	if (n > 1) {
		seterr(err, errlen, "domain %s: memtuned state: %d elements, "
		    "expected one", name, n);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = read_state_kib(obj->nodesetval->nodeTab[0], "hard_limit",
	    name, hard_kib, err, errlen)) == 0 &&
	    (rc = read_state_kib(obj->nodesetval->nodeTab[0], "target", name,
	    target_kib, err, errlen)) < 0)
		*hard_kib = MT_ABSENT;	/* half a record is none */
	if (!MT_PRESENT(*hard_kib))
		*target_kib = MT_ABSENT;
out:
	xmlXPathFreeObject(obj);
	return rc;
}

/* ---------------------------------------------------------- numatune */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
domxml_parse_nodeset(const char *text, uint64_t *mask)
{
	const char *p = text;
	uint64_t set = 0, clear = 0;

	/* libvirt's bitmap syntax: "N", "N-M" and "^N", comma-separated,
	 * blanks around each; exclusions apply after every inclusion */
	for (;;) {
		int64_t a, b;
		bool neg;

		while (is_blank(*p))
			p++;
		if ((neg = *p == '^'))
			p++;
		if (mt_scan_u64(&p, &a) < 0 || a >= MT_MAX_NODES)
			return -EINVAL;
		b = a;
		if (!neg && *p == '-') {
			p++;
			if (mt_scan_u64(&p, &b) < 0 || b >= MT_MAX_NODES ||
			    b < a)
				return -EINVAL;
		}
		for (int64_t n = a; n <= b; n++) {
			if (neg)
				clear |= UINT64_C(1) << n;
			else
				set |= UINT64_C(1) << n;
		}
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return -EINVAL;
	}
	set &= ~clear;
	if (set == 0)
		return -EINVAL;
	*mask = set;
	return 0;
}

/* One <memory> or <memnode> binding: its nodes and whether it confines.
 * mode defaults to strict, as in libvirt. */
struct numa_bind {
	uint64_t nodes;
	bool confines;
	bool is_auto;
};

static int
read_bind(xmlNodePtr node, const char *name, const char *what,
    struct numa_bind *b, char *err, size_t errlen)
{
	xmlChar *mode, *set, *place;
	const char *m;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	mode = xmlGetProp(node, (const xmlChar *)"mode");
	set = xmlGetProp(node, (const xmlChar *)"nodeset");
	place = xmlGetProp(node, (const xmlChar *)"placement");
	m = mode != NULL ? (const char *)mode : "strict";
	if (strcmp(m, "strict") == 0 || strcmp(m, "restrictive") == 0) {
		b->confines = true;
	} else if (strcmp(m, "preferred") != 0 &&
	    strcmp(m, "interleave") != 0) {
		seterr(err, errlen, "domain %s: <numatune><%s mode='%s'>: "
		    "unknown mode", name, what, m);
		rc = -EINVAL;
		goto out;
	}
	if ((place != NULL && strcmp((const char *)place, "auto") == 0) ||
	    (place == NULL && set == NULL)) {
		/* numad picks the nodes at start (libvirt's placement when
		 * no nodeset is given); the XML does not say which, so
		 * nothing is known to confine the memory */
		b->is_auto = true;
		b->confines = false;
		goto out;
	}
	if (place != NULL && strcmp((const char *)place, "static") != 0) {
		seterr(err, errlen, "domain %s: <numatune><%s placement='%s'>: "
		    "unknown placement", name, what, (const char *)place);
		rc = -EINVAL;
		goto out;
	}
	if (set == NULL) {
		seterr(err, errlen, "domain %s: <numatune><%s "
		    "placement='static'>: no nodeset", name, what);
		rc = -EINVAL;
		goto out;
	}
	if (domxml_parse_nodeset((const char *)set, &b->nodes) < 0) {
		seterr(err, errlen, "domain %s: <numatune><%s nodeset='%s'>: "
		    "not a node list (N, N-M, ^N; nodes below %d)", name, what,
		    (const char *)set, MT_MAX_NODES);
		rc = -EINVAL;
	}
out:
	xmlFree(mode);
	xmlFree(set);
	xmlFree(place);
	return rc;
}

/* The guest's memory is confined only when every part of it is: each
 * guest NUMA cell bound by its <memnode>, or else by <memory>. */
static int
read_numatune(xmlXPathContextPtr ctx, const char *name,
    struct guest_backing *bk, char *err, size_t errlen)
{
	xmlXPathObjectPtr obj = NULL;
	xmlNodePtr node;
	struct numa_bind mem = { 0 }, cell;
	bool has_mem, all_confine = true;
	uint64_t nodes = 0;
	int cells, covered = 0, rc = 0;

	bk->numa_nodes = 0;
	bk->numa_confined = false;
	bk->numa_auto = false;
	if ((node = xp_node(ctx, "/domain/numatune/memory")) != NULL &&
	    (rc = read_bind(node, name, "memory", &mem, err, errlen)) < 0)
		return rc;
	has_mem = node != NULL;
	if (mem.is_auto) {
		bk->numa_auto = true;
		return 0;
	}
	nodes = mem.nodes;
	cells = xp_count(ctx, "/domain/cpu/numa/cell");
	obj = xmlXPathEvalExpression(
	    (const xmlChar *)"/domain/numatune/memnode", ctx);
	if (obj != NULL && obj->type == XPATH_NODESET &&
	    obj->nodesetval != NULL) {
		for (int i = 0; i < obj->nodesetval->nodeNr; i++) {
			if ((rc = read_bind(obj->nodesetval->nodeTab[i], name,
			    "memnode", &cell, err, errlen)) < 0)
				goto out;
			nodes |= cell.nodes;
			all_confine = all_confine && cell.confines;
			covered++;
		}
	}
	if (!has_mem && covered == 0)
		goto out;
	/* cells without a memnode follow <memory>; without one, they are
	 * unbound */
	if (covered < cells || cells == 0)
		all_confine = all_confine && has_mem && mem.confines;
	bk->numa_nodes = nodes;
	bk->numa_confined = all_confine && nodes != 0;
out:
	xmlXPathFreeObject(obj);
	return rc;
}

/* ---------------------------------------------------------- balloon */

/* libvirt's virTristateSwitch: 'on', 'off', or not given (off). */
static int
read_switch(xmlNodePtr node, const char *attr, const char *name, bool *on,
    char *err, size_t errlen)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)attr);
	int rc = 0;

	*on = false;
	if (v != NULL && strcmp((const char *)v, "on") == 0)
		*on = true;
	else if (v != NULL && strcmp((const char *)v, "off") != 0) {
		seterr(err, errlen, "domain %s: <memballoon %s='%s'>: want on "
		    "or off", name, attr, (const char *)v);
		rc = -EINVAL;
	}
	xmlFree(v);
	return rc;
}

static int
read_balloon(xmlXPathContextPtr ctx, const char *name,
    struct guest_backing *bk, char *err, size_t errlen)
{
	xmlNodePtr node;
	xmlChar *s;
	int rc;

	bk->has_balloon = false;
	if ((node = xp_node(ctx, "/domain/devices/memballoon")) == NULL)
		return 0;
	s = xmlGetProp(node, (const xmlChar *)"model");
	bk->has_balloon = s != NULL && strcmp((const char *)s, "none") != 0;
	xmlFree(s);
	if ((rc = read_switch(node, "freePageReporting", name,
	    &bk->free_page_reporting, err, errlen)) < 0 ||
	    (rc = read_switch(node, "autodeflate", name, &bk->autodeflate,
	    err, errlen)) < 0)
		return rc;
	/* a feature of a balloon that is not there does nothing */
	bk->free_page_reporting = bk->free_page_reporting && bk->has_balloon;
	bk->autodeflate = bk->autodeflate && bk->has_balloon;
	return 0;
}

/* -------------------------------------------------------- virtio-mem */

/* A child's scaled size, relative to the device node. */
static int
vmem_size(xmlXPathContextPtr ctx, xmlNodePtr dev, const char *expr,
    const char *name, const char *what, int64_t *kib, char *err,
    size_t errlen)
{
	ctx->node = dev;
	return read_scaled_kib(ctx, expr, name, what, kib, err, errlen);
}

/* The PCI address as lspci writes it; "" for any other type. */
static void
vmem_addr(xmlXPathContextPtr ctx, xmlNodePtr dev, char *buf, size_t len)
{
	static const char *const attrs[] = { "domain", "bus", "slot",
	    "function" };
	unsigned long v[4];
	xmlNodePtr a;
	xmlChar *t;

	buf[0] = '\0';
	ctx->node = dev;
	if ((a = xp_node(ctx, "address[@type='pci']")) == NULL)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		char *end;

		t = xmlGetProp(a, (const xmlChar *)attrs[i]);
		v[i] = t != NULL ? strtoul((const char *)t, &end, 0) : 0;
		if (t != NULL && (*end != '\0' || end == (char *)t))
			v[i] = ULONG_MAX;
		xmlFree(t);
		if (v[i] > 0xffff)
			return;		/* not an address: none */
	}
	snprintf(buf, len, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
}

static int
vmem_one(xmlXPathContextPtr ctx, xmlNodePtr dev, const char *name,
    struct vmem_dev *d, char *err, size_t errlen)
{
	xmlNodePtr n;
	xmlChar *t;
	int64_t node;
	int rc;

	d->node = -1;
	d->alias[0] = '\0';
	if ((rc = vmem_size(ctx, dev, "target/size", name, "target><size",
	    &d->size_kib, err, errlen)) < 0 ||
	    (rc = vmem_size(ctx, dev, "target/block", name, "target><block",
	    &d->block_kib, err, errlen)) < 0 ||
	    (rc = vmem_size(ctx, dev, "target/requested", name,
	    "target><requested", &d->requested_kib, err, errlen)) < 0 ||
	    (rc = vmem_size(ctx, dev, "target/current", name,
	    "target><current", &d->current_kib, err, errlen)) < 0)
		return rc;
	if (!MT_PRESENT(d->size_kib) || d->size_kib == 0) {
		seterr(err, errlen, "domain %s: virtio-mem device without a "
		    "<target><size>", name);
		return -EINVAL;
	}
	ctx->node = dev;
	if ((n = xp_node(ctx, "target/node")) != NULL) {
		t = xmlNodeGetContent(n);
		if (t == NULL || mt_parse_int64((const char *)t, &node) < 0 ||
		    node < 0 || node >= MT_MAX_NODES) {
			seterr(err, errlen, "domain %s: virtio-mem <node>%s"
			    "</node>: not a node below %d", name,
			    t != NULL ? (const char *)t : "", MT_MAX_NODES);
			xmlFree(t);
			return -EINVAL;
		}
		xmlFree(t);
		d->node = (int)node;
	}
	if ((n = xp_node(ctx, "alias")) != NULL &&
	    (t = xmlGetProp(n, (const xmlChar *)"name")) != NULL) {
		mt_strlcpy(d->alias, (const char *)t, sizeof(d->alias));
		xmlFree(t);
	}
	vmem_addr(ctx, dev, d->addr, sizeof(d->addr));
	return 0;
}

/* A sum of one field over the devices: MT_ABSENT when one lacks it. */
static void
vmem_add(int64_t *sum, int64_t v)
{
	if (!MT_PRESENT(*sum) || !MT_PRESENT(v))
		*sum = MT_ABSENT;
	else
		*sum += v;
}

static int
read_vmem(xmlXPathContextPtr ctx, const char *name, struct guest_vmem *vm,
    char *err, size_t errlen)
{
	xmlXPathObjectPtr obj;
	xmlNodePtr saved = ctx->node;
	struct vmem_dev d;
	int rc = 0, n;

	memset(vm, 0, sizeof(*vm));
	obj = xmlXPathEvalExpression((const xmlChar *)
	    "/domain/devices/memory[@model='virtio-mem']", ctx);
	n = obj != NULL && obj->type == XPATH_NODESET &&
	    obj->nodesetval != NULL ? obj->nodesetval->nodeNr : 0;
	for (int i = 0; i < n; i++) {
		if ((rc = vmem_one(ctx, obj->nodesetval->nodeTab[i], name, &d,
		    err, errlen)) < 0)
			break;
		if (i < MT_VMEM_MAX)
			vm->dev[i] = d;
		vm->count++;
		vmem_add(&vm->size_kib, d.size_kib);
		vmem_add(&vm->requested_kib, d.requested_kib);
		vmem_add(&vm->current_kib, d.current_kib);
		if (MT_PRESENT(d.block_kib))
			vm->block_kib = MAX(vm->block_kib, d.block_kib);
	}
	ctx->node = saved;
	xmlXPathFreeObject(obj);
	if (rc < 0)
		memset(vm, 0, sizeof(*vm));
	return rc;
}

/* Each device's host nodes: the <memnode> of its guest cell, else the
 * domain's <memory> binding (read_numatune has checked both). */
static void
vmem_host_nodes(xmlXPathContextPtr ctx, struct guest_backing *bk)
{
	struct numa_bind mem = { 0 }, cell;
	xmlNodePtr node;
	char expr[80];

	if ((node = xp_node(ctx, "/domain/numatune/memory")) != NULL &&
	    read_bind(node, "", "memory", &mem, NULL, 0) < 0)
		mem.nodes = 0;
	for (int d = 0; d < bk->vmem.count && d < MT_VMEM_MAX; d++) {
		struct vmem_dev *v = &bk->vmem.dev[d];

		v->host_nodes = mem.nodes;
		if (v->node < 0)
			continue;
		snprintf(expr, sizeof(expr),
		    "/domain/numatune/memnode[@cellid='%d']", v->node);
		if ((node = xp_node(ctx, expr)) != NULL &&
		    read_bind(node, "", "memnode", &cell, NULL, 0) == 0)
			v->host_nodes = cell.nodes;
	}
}

static xmlDocPtr
read_doc(const char *xml, const char *name, char *err, size_t errlen)
{
	xmlDocPtr doc;

	/* no network, no entity expansion: the XML comes from libvirt, but
	 * a metadata blob can be set by anyone with domain write access */
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *xe = xmlGetLastError();

		seterr(err, errlen, "domain %s: XML does not parse: %s", name,
		    xe != NULL && xe->message != NULL ? xe->message :
		    "unknown error");
	}
	return doc;
}

int
domxml_parse_policy(const char *xml, const char *name,
    struct guest_override *out, bool *found, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	int rc;

	if ((doc = read_doc(xml, name, err, errlen)) == NULL)
		return -EINVAL;
	if ((ctx = xmlXPathNewContext(doc)) == NULL ||
	    xmlXPathRegisterNs(ctx, (const xmlChar *)"mt",
	    (const xmlChar *)DOMXML_NS) != 0) {
		seterr(err, errlen, "domain %s: XPath context failed", name);
		rc = -ENOMEM;
		goto out;
	}
	rc = find_policy(ctx, "/mt:policy", name, out, found, err, errlen);
out:
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return rc;
}

int
domxml_parse(const char *xml, const char *name, struct domxml_info *info,
    char *err, size_t errlen)
{
	return domxml_parse_opts(xml, name, true, info, err, errlen);
}

/* The device node of the virtio-mem device named alias; NULL none. */
static xmlNodePtr
vmem_by_alias(xmlXPathContextPtr ctx, const char *alias)
{
	xmlXPathObjectPtr obj;
	xmlNodePtr found = NULL;

	obj = xmlXPathEvalExpression((const xmlChar *)
	    "/domain/devices/memory[@model='virtio-mem']", ctx);
	if (obj == NULL)
		return NULL;
	for (int i = 0; obj->nodesetval != NULL &&
	    i < obj->nodesetval->nodeNr && found == NULL; i++) {
		xmlNodePtr dev = obj->nodesetval->nodeTab[i];

		for (xmlNodePtr a = dev->children; a != NULL; a = a->next) {
			xmlChar *n;

			if (a->type != XML_ELEMENT_NODE ||
			    !xmlStrEqual(a->name, (const xmlChar *)"alias"))
				continue;
			n = xmlGetProp(a, (const xmlChar *)"name");
			if (n != NULL && xmlStrEqual(n, (const xmlChar *)alias))
				found = dev;
			xmlFree(n);
		}
	}
	xmlXPathFreeObject(obj);
	return found;
}

/* <target><requested unit='KiB'>v</requested>: replaced, or added */
static int
vmem_set_requested(xmlNodePtr dev, int64_t requested_kib)
{
	xmlNodePtr target = NULL, req = NULL;
	char v[24];

	for (xmlNodePtr c = dev->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(c->name, (const xmlChar *)"target"))
			target = c;
	if (target == NULL)
		return -ENOENT;
	for (xmlNodePtr c = target->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(c->name, (const xmlChar *)"requested"))
			req = c;
	snprintf(v, sizeof(v), "%lld", (long long)requested_kib);
	if (req == NULL)
		req = xmlNewChild(target, NULL, (const xmlChar *)"requested",
		    NULL);
	if (req == NULL)
		return -ENOMEM;
	xmlNodeSetContent(req, (const xmlChar *)v);
	if (xmlSetProp(req, (const xmlChar *)"unit",
	    (const xmlChar *)"KiB") == NULL)
		return -ENOMEM;
	return 0;
}

int
domxml_vmem_request(const char *xml, const char *alias,
    int64_t requested_kib, char **out, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	xmlBufferPtr buf = NULL;
	xmlNodePtr dev;
	int rc;

	*out = NULL;
	if (requested_kib < 0 || alias == NULL || alias[0] == '\0')
		return -EINVAL;
	if ((doc = read_doc(xml, alias, err, errlen)) == NULL)
		return -EINVAL;
	if ((ctx = xmlXPathNewContext(doc)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((dev = vmem_by_alias(ctx, alias)) == NULL) {
		seterr(err, errlen, "no virtio-mem device '%s'", alias);
		rc = -ENOENT;
		goto out;
	}
	if ((rc = vmem_set_requested(dev, requested_kib)) < 0) {
		seterr(err, errlen, "virtio-mem device '%s' has no <target>",
		    alias);
		goto out;
	}
	if ((buf = xmlBufferCreate()) == NULL ||
	    xmlNodeDump(buf, doc, dev, 0, 0) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	rc = (*out = strdup((const char *)xmlBufferContent(buf))) != NULL ?
	    0 : -ENOMEM;
out:
	xmlBufferFree(buf);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return rc;
}

static void
read_policy_element(xmlXPathContextPtr ctx, const char *name, bool parse,
    struct domxml_info *info)
{
	const char *expr = "/domain/metadata/mt:policy";

	info->policy_present = xp_count(ctx, expr) > 0;
	if (!parse)
		return;
	if (find_policy(ctx, expr, name, &info->policy, &info->has_policy,
	    info->policy_err, sizeof(info->policy_err)) < 0) {
		log_warnx("%s; ignoring the domain's memtuned metadata",
		    info->policy_err);
		guest_override_init(&info->policy);
		info->has_policy = false;
	}
}

/* <memory>, <currentMemory>, <maxMemory> and <memoryBacking>'s flags
 * into info. 0 or -errno, err said. */
static int
read_memory(xmlXPathContextPtr ctx, const char *name,
    struct domxml_info *info, char *err, size_t errlen)
{
	int rc;

	if ((rc = read_scaled_kib(ctx, "/domain/memory", name, "memory",
	    &info->memory_kib, err, errlen)) < 0 ||
	    (rc = read_scaled_kib(ctx, "/domain/currentMemory", name,
	    "currentMemory", &info->current_kib, err, errlen)) < 0 ||
	    (rc = read_scaled_kib(ctx, "/domain/maxMemory", name,
	    "maxMemory", &info->max_memory_kib, err, errlen)) < 0)
		return rc;
	info->backing.hugepages =
	    xp_count(ctx, "/domain/memoryBacking/hugepages") > 0;
	info->backing.locked = xp_count(ctx, "/domain/memoryBacking/locked") > 0;
	info->backing.nosharepages =
	    xp_count(ctx, "/domain/memoryBacking/nosharepages") > 0;
	return 0;
}

/* <memballoon><stats period='N'> into b. 0 or -EINVAL, err said. */
static int
read_stats_period(xmlXPathContextPtr ctx, const char *name,
    struct guest_backing *b, char *err, size_t errlen)
{
	xmlNodePtr node;
	xmlChar *s;
	int64_t p;

	if ((node = xp_node(ctx, "/domain/devices/memballoon/stats")) == NULL)
		return 0;
	s = xmlGetProp(node, (const xmlChar *)"period");
	if (s != NULL && (mt_parse_int64((const char *)s, &p) < 0 || p < 0)) {
		seterr(err, errlen, "domain %s: <memballoon><stats "
		    "period='%s'> is not a number of seconds", name,
		    (const char *)s);
		xmlFree(s);
		return -EINVAL;
	}
	if (s != NULL)
		b->stats_period_s = p;
	xmlFree(s);
	return 0;
}

/* <numatune> and the virtio-mem devices into info; what cannot be read
 * is logged and left out, the domain is not refused for it */
static void
read_numa_vmem(xmlXPathContextPtr ctx, const char *name,
    struct domxml_info *info)
{
	if (read_numatune(ctx, name, &info->backing, info->numa_err,
	    sizeof(info->numa_err)) < 0) {
		log_warnx("%s; memory treated as not bound to any node",
		    info->numa_err);
		info->backing.numa_nodes = 0;
		info->backing.numa_confined = false;
	} else if (info->backing.numa_auto) {
		log_info("domain %s: <numatune> placement='auto': the nodes "
		    "are numad's choice, not in the XML; memory treated as "
		    "not bound to any node", name);
	}
	/* devices memtuned cannot read leave the memory it manages as the
	 * balloon sees it: the domain is not refused for them */
	if (read_vmem(ctx, name, &info->backing.vmem, info->vmem_err,
	    sizeof(info->vmem_err)) < 0)
		log_warnx("%s; virtio-mem devices ignored", info->vmem_err);
	else if (info->numa_err[0] == '\0' && !info->backing.numa_auto)
		vmem_host_nodes(ctx, &info->backing);
}

int
domxml_parse_opts(const char *xml, const char *name, bool read_policy,
    struct domxml_info *info, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	info->memory_kib = info->current_kib = info->max_memory_kib = MT_ABSENT;
	info->backing.stats_period_s = MT_ABSENT;
	info->own_hard_limit_kib = info->own_target_kib = MT_ABSENT;
	guest_override_init(&info->policy);

	if ((doc = read_doc(xml, name, err, errlen)) == NULL)
		return -EINVAL;
	if ((ctx = xmlXPathNewContext(doc)) == NULL ||
	    xmlXPathRegisterNs(ctx, (const xmlChar *)"mt",
	    (const xmlChar *)DOMXML_NS) != 0 ||
	    xmlXPathRegisterNs(ctx, (const xmlChar *)"mts",
	    (const xmlChar *)DOMXML_STATE_NS) != 0) {
		seterr(err, errlen, "domain %s: XPath context failed", name);
		rc = -ENOMEM;
		goto out;
	}
	if (xp_node(ctx, "/domain") == NULL) {
		seterr(err, errlen, "domain %s: root element is not <domain>",
		    name);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = read_memory(ctx, name, info, err, errlen)) < 0 ||
	    (rc = read_balloon(ctx, name, &info->backing, err, errlen)) < 0 ||
	    (rc = read_stats_period(ctx, name, &info->backing, err,
	    errlen)) < 0)
		goto out;
	read_numa_vmem(ctx, name, info);
	read_policy_element(ctx, name, read_policy, info);
	/* a record memtuned cannot read proves nothing: the hard limit is
	 * then not taken for memtuned's, and never lifted by it */
	if (read_state(ctx, name, &info->own_hard_limit_kib,
	    &info->own_target_kib, info->state_err,
	    sizeof(info->state_err)) < 0)
		log_warnx("%s; the guest's hard limit is taken as not set by "
		    "memtuned", info->state_err);
	rc = 0;
out:
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return rc;
}

static void
merge_i64(int64_t conf, int64_t meta, int64_t *out,
    enum guest_input_source *src)
{
	if (MT_PRESENT(conf)) {
		*out = conf;
		*src = SRC_CONFIG;
	} else if (MT_PRESENT(meta)) {
		*out = meta;
		*src = SRC_METADATA;
	} else {
		*out = MT_ABSENT;
		*src = SRC_DEFAULT;
	}
}

void
guest_input_merge(const struct guest_override *conf,
    const struct guest_override *meta, struct guest_input *out)
{
	struct guest_override none;

	guest_override_init(&none);
	if (conf == NULL)
		conf = &none;
	if (meta == NULL)
		meta = &none;
	merge_i64(conf->floor_kib, meta->floor_kib, &out->floor_kib,
	    &out->floor_src);
	merge_i64(conf->ceiling_kib, meta->ceiling_kib, &out->ceiling_kib,
	    &out->ceiling_src);
	merge_i64(conf->shares, meta->shares, &out->shares, &out->shares_src);
	if (conf->exclude >= 0) {
		out->exclude = conf->exclude != 0;
		out->exclude_src = SRC_CONFIG;
	} else if (meta->exclude >= 0) {
		out->exclude = meta->exclude != 0;
		out->exclude_src = SRC_METADATA;
	} else {
		out->exclude = false;
		out->exclude_src = SRC_DEFAULT;
	}
}

/* ------------------------------------------------- memtunectl exclude */

/* An attribute value in double quotes: the values memtuned reads are
 * sizes, numbers and booleans, but a value is never trusted to be one. */
static size_t
put_attr(char *buf, size_t len, size_t n, const char *name, const char *v)
{
	static const struct { char c; const char *esc; } xml_esc[] = {
		{ '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" },
		{ '"', "&quot;" },
	};

	n += (size_t)snprintf(buf + MIN(n, len), len - MIN(n, len), " %s=\"",
	    name);
	for (; *v != '\0'; v++) {
		const char *e = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(xml_esc); i++)
			if (*v == xml_esc[i].c)
				e = xml_esc[i].esc;
		if (e != NULL)
			n += (size_t)snprintf(buf + MIN(n, len),
			    len - MIN(n, len), "%s", e);
		else
			n += (size_t)snprintf(buf + MIN(n, len),
			    len - MIN(n, len), "%c", *v);
	}
	return n + (size_t)snprintf(buf + MIN(n, len), len - MIN(n, len),
	    "\"");
}

int
domxml_policy_exclude(const char *old_xml, const char *name, bool exclude,
    char *buf, size_t len, char *err, size_t errlen)
{
	struct guest_override o;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	size_t n;
	int rc = 0;

	n = (size_t)snprintf(buf, len, "<policy");
	if (old_xml != NULL && old_xml[0] != '\0') {
		doc = xmlReadMemory(old_xml, (int)strlen(old_xml), "policy.xml",
		    NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
		    XML_PARSE_NOWARNING);
		root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
		if (root == NULL || strcmp((const char *)root->name,
		    "policy") != 0) {
			seterr(err, errlen, "domain %s: memtuned metadata is "
			    "not a <policy> element: left as it is", name);
			rc = -EINVAL;
			goto out;
		}
		/* only an element memtuned reads is carried over */
		if ((rc = parse_policy_node(root, name, &o, err, errlen)) < 0)
			goto out;
		for (xmlAttrPtr a = root->properties; a != NULL; a = a->next) {
			xmlChar *v;

			if (strcmp((const char *)a->name, "exclude") == 0 ||
			    (a->ns != NULL && strcmp((const char *)a->ns->href,
			    DOMXML_NS) != 0))
				continue;
			v = xmlNodeListGetString(doc, a->children, 1);
			n = put_attr(buf, len, n, (const char *)a->name,
			    v != NULL ? (const char *)v : "");
			xmlFree(v);
		}
	}
	n = put_attr(buf, len, n, "exclude", exclude ? "yes" : "no");
	n += (size_t)snprintf(buf + MIN(n, len), len - MIN(n, len), "/>");
	if (n >= len)
		rc = -ERANGE;
out:
	if (rc < 0 && len > 0)
		buf[0] = '\0';
	xmlFreeDoc(doc);
	return rc;
}
