/* probe - the integration tests' window on libvirt, in C through the same
 * library calls memtuned uses.
 *
 *   probe URI stats NAME...      balloon stats, one "NAME key=value ..." line
 *   probe URI setmem NAME KIB    set the live balloon target
 *
 * Exit 0 on success, 1 on a libvirt error (printed), 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int
print_stats(virConnectPtr conn, char **names, int n)
{
	virDomainPtr *doms = calloc((size_t)n + 1, sizeof(*doms));
	virDomainStatsRecordPtr *recs = NULL;
	int rc = 1, nrec;

	if (doms == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		doms[i] = virDomainLookupByName(conn, names[i]);
		if (doms[i] == NULL) {
			fprintf(stderr, "probe: no domain %s\n", names[i]);
			goto out;
		}
	}
	nrec = virDomainListGetStats(doms, VIR_DOMAIN_STATS_BALLOON |
	    VIR_DOMAIN_STATS_STATE, &recs, 0);
	if (nrec < 0) {
		fprintf(stderr, "probe: stats: %s\n", virGetLastErrorMessage());
		goto out;
	}
	for (int r = 0; r < nrec; r++) {
		printf("%s", virDomainGetName(recs[r]->dom));
		for (int p = 0; p < recs[r]->nparams; p++) {
			virTypedParameterPtr tp = &recs[r]->params[p];

			switch (tp->type) {
			case VIR_TYPED_PARAM_ULLONG:
				printf(" %s=%llu", tp->field, tp->value.ul);
				break;
			case VIR_TYPED_PARAM_INT:
				printf(" %s=%d", tp->field, tp->value.i);
				break;
			case VIR_TYPED_PARAM_UINT:
				printf(" %s=%u", tp->field, tp->value.ui);
				break;
			case VIR_TYPED_PARAM_LLONG:
				printf(" %s=%lld", tp->field, tp->value.l);
				break;
			default:
				break;
			}
		}
		printf("\n");
	}
	rc = 0;
out:
	if (recs != NULL)
		virDomainStatsRecordListFree(recs);
	for (int i = 0; i < n; i++)
		if (doms[i] != NULL)
			virDomainFree(doms[i]);
	free(doms);
	return rc;
}

static int
set_mem(virConnectPtr conn, const char *name, const char *kib_s)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	char *end;
	unsigned long kib = strtoul(kib_s, &end, 10);
	int rc = 1;

	if (dom == NULL || *end != '\0') {
		fprintf(stderr, "probe: bad domain or size\n");
		goto out;
	}
	if (virDomainSetMemoryFlags(dom, kib, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		fprintf(stderr, "probe: setmem: %s\n", virGetLastErrorMessage());
		goto out;
	}
	rc = 0;
out:
	if (dom != NULL)
		virDomainFree(dom);
	return rc;
}

int
main(int argc, char **argv)
{
	virConnectPtr conn;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: probe URI stats NAME... | probe URI setmem NAME KIB\n");
		return 2;
	}
	conn = virConnectOpen(argv[1]);
	if (conn == NULL) {
		fprintf(stderr, "probe: cannot connect to %s\n", argv[1]);
		return 1;
	}
	if (strcmp(argv[2], "stats") == 0)
		rc = print_stats(conn, argv + 3, argc - 3);
	else if (strcmp(argv[2], "setmem") == 0 && argc == 5)
		rc = set_mem(conn, argv[3], argv[4]);
	else
		rc = 2;
	virConnectClose(conn);
	return rc;
}
