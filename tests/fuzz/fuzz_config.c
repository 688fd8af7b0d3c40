/* fuzz_config.c - config_load_string on arbitrary text. On success the
 * loaded config passes its own cross-field checks again, guest sections
 * are sorted, unique and floor <= ceiling, and each is found by name; on
 * failure the struct holds the defaults and owns nothing, and err holds a
 * terminated message naming the source. */
#include <errno.h>

#include "config.h"
#include "fuzz.h"

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
	struct mt_config cfg;
	struct guest_override o;
	char err[4096];
	char *buf;
	int rc;

	if (size > 65536)
		return 0;
	buf = fuzz_cstr(data, size);
	fuzz_err_init(err, sizeof(err));
	rc = config_load_string(buf, "fuzz.conf", &cfg, err, sizeof(err));
	fuzz_err_check(rc, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(config_validate(&cfg, err, sizeof(err)) == 0);
		FUZZ_CHECK(cfg.interval_min_ms <= cfg.interval_max_ms);
		for (size_t i = 0; i < cfg.nr_guests; i++) {
			const struct guest_input *in = &cfg.guests[i].input;

			if (i > 0)
				FUZZ_CHECK(strcmp(cfg.guests[i - 1].name,
				    cfg.guests[i].name) < 0);
			if (MT_PRESENT(in->floor_kib) &&
			    MT_PRESENT(in->ceiling_kib))
				FUZZ_CHECK(in->floor_kib <= in->ceiling_kib);
			FUZZ_CHECK(config_guest_input(&cfg,
			    cfg.guests[i].name) == in);
			FUZZ_CHECK(config_guest_override(&cfg,
			    cfg.guests[i].name, &o));
		}
	} else {
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(cfg.guests == NULL && cfg.nr_guests == 0);
		if (rc == -EINVAL)
			FUZZ_CHECK(strstr(err, "fuzz.conf") != NULL);
	}
	config_free(&cfg);
	free(buf);
	return 0;
}
