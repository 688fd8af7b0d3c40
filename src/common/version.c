/* version.c - see version.h */
#include <libvirt/libvirt.h>
#include <netlink/version.h>
#include <libcgroup.h>
#include <libxml/parser.h>

#include "version.h"

void
version_print(FILE *out, const char *prog)
{
	unsigned long lv = 0;

	fprintf(out, "%s %s\n", prog, MEMTUNED_VERSION);
	if (virGetVersion(&lv, NULL, NULL) == 0)
		fprintf(out, "  libvirt %lu.%lu.%lu\n", lv / 1000000,
		    (lv / 1000) % 1000, lv % 1000);
	fprintf(out, "  libnl %d.%d.%d\n", nl_ver_maj, nl_ver_min, nl_ver_mic);
	fprintf(out, "  libxml2 %s\n", xmlParserVersion);
}
