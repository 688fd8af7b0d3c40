/* memtuned - memory overcommit controller for KVM hosts: the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "util.h"
#include "version.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: memtuned [-dnhV] [-f FILE] [--dry-run]\n"
	    "\n"
	    "Balances guest memory on a KVM host: balloons, memtune limits,\n"
	    "KSM and THP, inside each guest's floor and ceiling.\n"
	    "\n"
	    "  -f, --config FILE  configuration (default %s)\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -d, --debug        stay in the foreground, log to stderr, verbose\n"
	    "      --dry-run      log every planned change, make none\n"
	    "  -h, --help         show this help and exit\n"
	    "  -V, --version      show the version and the libraries' versions\n"
	    "\n"
	    "memtuned runs in the foreground (systemd's Type=notify); it logs to\n"
	    "the journal under systemd, to syslog otherwise, to stderr with -d.\n",
	    CONFIG_DEFAULT_PATH);
}

/* memtuned -n: the exit status of reading path as memtuned would */
static int
check_config(const char *path)
{
	struct mt_config cfg;
	char err[8192];

	if (config_load_file(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: configuration OK\n", path);
	config_free(&cfg);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_DRY_RUN = 256, OPT_ROOT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "root", required_argument, NULL, OPT_ROOT },	/* tests */
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts dopts;
	struct daemon d;
	bool check = false, debug = false;
	int c, rc;

	memset(&dopts, 0, sizeof(dopts));
	mt_strlcpy(dopts.config_path, CONFIG_DEFAULT_PATH,
	    sizeof(dopts.config_path));
	while ((c = getopt_long(argc, argv, "f:ndhV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (mt_strlcpy(dopts.config_path, optarg,
			    sizeof(dopts.config_path)) >= sizeof(dopts.config_path)) {
				fprintf(stderr, "memtuned: config path too long\n");
				return 2;
			}
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case OPT_DRY_RUN:
			dopts.force_dry_run = true;
			break;
		case OPT_ROOT:
			mt_set_root(optarg);
			break;
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
	if (check)
		return check_config(dopts.config_path);

	log_init("memtuned", debug ? LOG_TO_STDERR : log_target_auto(),
	    debug ? 1 : 0);
	if (daemon_init(&d, &dopts) < 0) {
		log_warnx("cannot start");
		return 1;
	}
	rc = daemon_run(&d);
	daemon_free(&d);
	log_info("stopped");
	return rc < 0 ? 1 : 0;
}
