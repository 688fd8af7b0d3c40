/* run.c - runs the unit suites (one per module) in one Check runner:
 * every suite, or the ones named on the command line. `--list` prints
 * their names, one a line, so that scripts/run-checks can run them side
 * by side, one runner per suite. The suite list is generated from
 * tests/unit/test_*.c file names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

static const struct {
	const char *name;
	Suite *(*make)(void);
} suites[] = {
#define SUITE(name) { #name, name##_suite },
#include "suites.h"
#undef SUITE
};
#define NR_SUITES (sizeof(suites) / sizeof(suites[0]))

int
main(int argc, char **argv)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NR_SUITES; i++)
			printf("%s\n", suites[i].name);
		srunner_free(sr);
		return EXIT_SUCCESS;
	}
	for (int a = 1; a < argc; a++) {
		size_t i;

		for (i = 0; i < NR_SUITES; i++)
			if (strcmp(argv[a], suites[i].name) == 0)
				break;
		if (i == NR_SUITES) {
			fprintf(stderr, "unit-tests: no suite named %s "
			    "(--list names them)\n", argv[a]);
			srunner_free(sr);
			return 2;
		}
		srunner_add_suite(sr, suites[i].make());
	}
	if (argc == 1)
		for (size_t i = 0; i < NR_SUITES; i++)
			srunner_add_suite(sr, suites[i].make());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
