/* memtuned - memory overcommit controller for KVM hosts: the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "version.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: memtuned [options]\n"
	    "\n"
	    "Balances guest memory on a KVM host: balloons, memtune limits,\n"
	    "KSM and THP, inside each guest's floor and ceiling.\n"
	    "\n"
	    "  -h, --help       show this help and exit\n"
	    "  -V, --version    show the version and the libraries' versions\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	log_init("memtuned", LOG_TO_STDERR, 0);
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			version_print(stdout, "memtuned");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memtuned: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	usage(stderr);
	return 2;
}
