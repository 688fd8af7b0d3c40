/* memtunectl - the operator's command for memtuned. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "version.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: memtunectl [--help] [--version] COMMAND [ARGS]\n"
	    "\n"
	    "Commands:\n"
	    "  version          show the version and the libraries' versions\n"
	    "\n"
	    "Options:\n"
	    "  -h, --help       show this help and exit\n"
	    "  -V, --version    same as the version command\n");
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

	log_init("memtunectl", LOG_TO_STDERR, 0);
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			version_print(stdout, "memtunectl");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "version") == 0) {
		version_print(stdout, "memtunectl");
		return 0;
	}
	fprintf(stderr, "memtunectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
