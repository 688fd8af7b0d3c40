/* psi.c - see psi.h */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "psi.h"

/* Expect the literal `key` at *pp and advance past it. */
static bool
psi_expect(const char **pp, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(*pp, key, n) != 0)
		return false;
	*pp += n;
	return true;
}

/* "N.NN" as the kernel prints it ("%lu.%02lu") -> N*100+NN. */
static int
psi_parse_avg(const char **pp, int64_t *out)
{
	const char *p = *pp;
	int64_t whole = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (*p++ - '0');
		if (whole > 100)
			return -ERANGE;
	}
	if (p[0] != '.' || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || isdigit((unsigned char)p[3]))
		return -EINVAL;
	*out = whole * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (*out > 10000)
		return -ERANGE;
	*pp = p + 3;
	return 0;
}

/* One line after its "some "/"full " prefix, up to and including '\n'. */
static int
psi_parse_line(const char *file, const char *kind, const char **pp,
    struct psi_line *l, char *err, size_t errlen)
{
	static const char *const avg_keys[] = {
		"avg10=", "avg60=", "avg300=",
	};
	int64_t *avg[] = { &l->avg10_pmy, &l->avg60_pmy, &l->avg300_pmy };
	const char *p = *pp;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(avg_keys); i++) {
		if (!psi_expect(&p, avg_keys[i])) {
			snprintf(err, errlen, "%s: %s: expected \"%s\"",
			    file, kind, avg_keys[i]);
			return -EINVAL;
		}
		if ((rc = psi_parse_avg(&p, avg[i])) < 0) {
			snprintf(err, errlen, "%s: %s %.*s: %s", file, kind,
			    (int)strlen(avg_keys[i]) - 1, avg_keys[i],
			    rc == -ERANGE ? "above 100.00" :
			    "not a number of the form N.NN");
			return -EINVAL;
		}
		if (*p != ' ') {
			snprintf(err, errlen, "%s: %s: expected a blank after "
			    "%.*s", file, kind,
			    (int)strlen(avg_keys[i]) - 1, avg_keys[i]);
			return -EINVAL;
		}
		p++;
	}
	if (!psi_expect(&p, "total=")) {
		snprintf(err, errlen, "%s: %s: expected \"total=\"", file,
		    kind);
		return -EINVAL;
	}
	if ((rc = mt_scan_u64(&p, &l->total_us)) < 0) {
		snprintf(err, errlen, "%s: %s total: %s", file, kind,
		    rc == -ERANGE ? "value out of range" :
		    "value is not a number");
		return -EINVAL;
	}
	if (*p != '\n') {
		snprintf(err, errlen, "%s: %s: %s", file, kind, *p == '\0' ?
		    "line has no newline (cut read)" :
		    "trailing text after total");
		return -EINVAL;
	}
	*pp = p + 1;
	return 0;
}

int
psi_parse_named(const char *file, const char *buf, struct host_psi *out,
    char *err, size_t errlen)
{
	struct host_psi psi;
	bool have_some = false, have_full = false;
	const char *p = buf;
	int line = 0;

	memset(&psi, 0, sizeof(psi));
	while (*p != '\0') {
		const char *kind;
		struct psi_line *l;
		bool *have;
		int rc;

		line++;
		if (psi_expect(&p, "some ")) {
			kind = "some";
			l = &psi.some;
			have = &have_some;
		} else if (psi_expect(&p, "full ")) {
			kind = "full";
			l = &psi.full;
			have = &have_full;
		} else {
			snprintf(err, errlen, "%s: line %d: neither \"some\" "
			    "nor \"full\"", file, line);
			return -EINVAL;
		}
		if (*have) {
			snprintf(err, errlen, "%s: %s: duplicated (line %d)",
			    file, kind, line);
			return -EINVAL;
		}
		if ((rc = psi_parse_line(file, kind, &p, l, err, errlen)) < 0)
			return rc;
		*have = true;
	}
	if (!have_some || !have_full) {
		snprintf(err, errlen, "%s: %s: missing", file,
		    have_some ? "full" : "some");
		return -EINVAL;
	}
	if (psi.full.total_us > psi.some.total_us) {
		/* every full stall is also a some stall */
		snprintf(err, errlen, "%s: full total: %lld us exceeds some "
		    "total %lld us", file, (long long)psi.full.total_us,
		    (long long)psi.some.total_us);
		return -EINVAL;
	}
	psi.present = true;
	*out = psi;
	return 0;
}

int
psi_parse(const char *buf, struct host_psi *out, char *err, size_t errlen)
{
	return psi_parse_named("memory.pressure", buf, out, err, errlen);
}

int
psi_read(struct host_psi *out, char *err, size_t errlen)
{
	char buf[PSI_BUF_SIZE];
	ssize_t n;

	out->present = false;
	n = mt_read_file(PSI_MEMORY_PATH, buf, sizeof(buf));
	if (n == -ENOENT || n == -EOPNOTSUPP)
		return 0;
	if (n == -EFBIG) {
		snprintf(err, errlen, "%s: larger than %d bytes",
		    PSI_MEMORY_PATH, PSI_BUF_SIZE);
		return (int)n;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", PSI_MEMORY_PATH,
		    strerror((int)-n));
		return (int)n;
	}
	return psi_parse_named(PSI_MEMORY_PATH, buf, out, err, errlen);
}

static int
psi_trigger_write(psi_write_fn wr, int fd, int64_t threshold_us,
    int64_t window_us)
{
	/* "some " + two 20-digit numbers + blank + NUL */
	char cmd[64];
	ssize_t w;
	int n;

	n = snprintf(cmd, sizeof(cmd), "some %lld %lld",
	    (long long)threshold_us, (long long)window_us);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -EINVAL;
	do {
		/* the kernel parses a C string: send the NUL too */
		w = wr(fd, cmd, (size_t)n + 1);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if ((size_t)w != (size_t)n + 1)
		return -EIO;
	return 0;
}

int
psi_trigger_open_with(psi_write_fn wr, const char *path,
    int64_t threshold_us, int64_t window_us, int *fd_out,
    int64_t *window_used_us)
{
	char full[PATH_MAX];
	int64_t rounded;
	int fd, rc;

	if (window_us < PSI_WINDOW_MIN_US || window_us > PSI_WINDOW_MAX_US ||
	    threshold_us <= 0 || threshold_us > window_us)
		return -EINVAL;
	if ((rc = mt_path(full, sizeof(full), path)) < 0)
		return rc;
	if ((fd = open(full, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;

	rc = psi_trigger_write(wr, fd, threshold_us, window_us);
	if (rc == -EINVAL && window_us % PSI_WINDOW_UNPRIV_US != 0) {
		rounded = (window_us / PSI_WINDOW_UNPRIV_US + 1) *
		    PSI_WINDOW_UNPRIV_US;
		if (rounded <= PSI_WINDOW_MAX_US) {
			/* a refused write leaves no trigger on the fd, so the
			 * same fd takes the second try */
			window_us = rounded;
			rc = psi_trigger_write(wr, fd, threshold_us,
			    window_us);
		}
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	*window_used_us = window_us;
	return 0;
}

int
psi_trigger_open(const char *path, int64_t threshold_us, int64_t window_us,
    int *fd_out, int64_t *window_used_us)
{
	return psi_trigger_open_with(write, path, threshold_us, window_us,
	    fd_out, window_used_us);
}
