/* util.c - see util.h */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static char mt_root[PATH_MAX] = "";

void
mt_set_root(const char *root)
{
	size_t n;

	if (root == NULL || strcmp(root, "/") == 0) {
		mt_root[0] = '\0';
		return;
	}
	mt_strlcpy(mt_root, root, sizeof(mt_root));
	n = strlen(mt_root);
	while (n > 0 && mt_root[n - 1] == '/')
		mt_root[--n] = '\0';
}

const char *
mt_get_root(void)
{
	return mt_root;
}

int
mt_path(char *buf, size_t len, const char *path)
{
	int n = snprintf(buf, len, "%s%s", mt_root, path);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

ssize_t
mt_read_file(const char *path, char *buf, size_t len)
{
	char full[PATH_MAX];
	size_t off = 0;
	ssize_t r;
	int fd, rc;

	if (len == 0)
		return -EINVAL;
	if ((rc = mt_path(full, sizeof(full), path)) < 0)
		return rc;
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (;;) {
		if (off == len - 1) {
			char extra;

			/* one more byte tells "exactly full" from "too big" */
			r = read(fd, &extra, 1);
			if (r > 0) {
				close(fd);
				return -EFBIG;
			}
			break;
		}
		r = read(fd, buf + off, len - 1 - off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	return (ssize_t)off;
}

int
mt_write_file(const char *path, const char *val)
{
	char full[PATH_MAX];
	size_t n = strlen(val);
	ssize_t w;
	int fd, rc;

	if ((rc = mt_path(full, sizeof(full), path)) < 0)
		return rc;
	if ((fd = open(full, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return -errno;
	do {
		w = write(fd, val, n);
	} while (w < 0 && errno == EINTR);
	rc = w < 0 ? -errno : ((size_t)w != n ? -EIO : 0);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int
mt_read_int64(const char *path, int64_t *out)
{
	/* sysfs integer files are one short line */
	char buf[64];
	ssize_t n = mt_read_file(path, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return mt_parse_int64(buf, out);
}

int
mt_parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int
mt_sysfs_choice(const char *buf, char *out, size_t len)
{
	const char *open, *close;
	size_t n;

	if ((open = strchr(buf, '[')) == NULL ||
	    (close = strchr(open, ']')) == NULL)
		return -EINVAL;
	/* exactly one bracketed word */
	if (strchr(open + 1, '[') != NULL || strchr(close + 1, ']') != NULL)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n == 0 || memchr(open + 1, ' ', n) != NULL)
		return -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, open + 1, n);
	out[n] = '\0';
	return 0;
}

int
mt_scan_u64(const char **pp, int64_t *out)
{
	const char *p = *pp;
	int64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		if (v > (INT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (*p++ - '0');
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Parse "<digits>[.<digits>]" as a fixed-point number scaled by `scale`
 * (a power of ten), returning the rest of the string in *rest. */
static int
parse_fixed(const char *s, int64_t scale, int64_t *out, const char **rest)
{
	int64_t whole = 0, frac = 0, div = 1;
	const char *p = s;

	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		if (whole > (INT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			if (div < 1000000000LL) {
				frac = frac * 10 + (*p - '0');
				div *= 10;
			}
			p++;
		}
	}
	if (whole > INT64_MAX / scale)
		return -ERANGE;
	*out = whole * scale + frac * scale / div;
	while (isspace((unsigned char)*p))
		p++;
	*rest = p;
	return 0;
}

int
mt_parse_size_kib(const char *s, int64_t *out_kib)
{
	return mt_parse_size_unit_kib(s, 1, out_kib);
}

int
mt_parse_size_unit_kib(const char *s, int64_t bare_kib, int64_t *out_kib)
{
	static const struct {
		char unit;
		int64_t kib;
	} units[] = {
		{ 'K', 1 }, { 'M', 1024 }, { 'G', 1024 * 1024 },
		{ 'T', 1024LL * 1024 * 1024 },
	};
	const char *rest;
	int64_t mult = bare_kib, v;
	int rc;

	/* parse in 1/1024 KiB so "1.5G" is exact */
	if ((rc = parse_fixed(s, 1024, &v, &rest)) < 0)
		return rc;
	if (*rest != '\0') {
		size_t i;
		char u = (char)toupper((unsigned char)*rest);

		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (units[i].unit == u)
				break;
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		mult = units[i].kib;
		rest++;
		if (*rest == 'i')
			rest++;
		if (*rest == 'B' || *rest == 'b')
			rest++;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest != '\0')
			return -EINVAL;
	}
	if (v > INT64_MAX / mult)
		return -ERANGE;
	*out_kib = v * mult / 1024;
	return 0;
}

int
mt_parse_cli_mib(const char *s, int64_t *out_mib)
{
	int64_t kib;
	int rc;

	if ((rc = mt_parse_size_unit_kib(s, 1024, &kib)) < 0)
		return rc;
	/* a part of a MiB asks for the whole one: a reserve or a VM size
	 * rounded down would be short */
	if (kib <= 0 || kib > MT_CLI_MIB_MAX * 1024)
		return -ERANGE;
	*out_mib = (kib + 1023) / 1024;
	return 0;
}

int
mt_parse_percent_pmy(const char *s, int64_t *out_pmy)
{
	return mt_parse_percent_max_pmy(s, 10000, out_pmy);
}

int
mt_parse_percent_max_pmy(const char *s, int64_t max_pmy, int64_t *out_pmy)
{
	const char *rest;
	int64_t v;
	int rc;

	if ((rc = parse_fixed(s, 100, &v, &rest)) < 0)
		return rc;
	if (*rest != '%')
		return -EINVAL;
	rest++;
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest != '\0')
		return -EINVAL;
	if (v > max_pmy)
		return -ERANGE;
	*out_pmy = v;
	return 0;
}

int
mt_parse_duration_ms(const char *s, int64_t *out_ms)
{
	const char *rest;
	int64_t v, mult;
	int rc;

	/* parse in ms so "1.5s" is exact */
	if ((rc = parse_fixed(s, 1000, &v, &rest)) < 0)
		return rc;
	if (*rest == '\0' || strcmp(rest, "s") == 0)
		mult = 1000;
	else if (strcmp(rest, "ms") == 0)
		mult = 1;
	else if (strcmp(rest, "m") == 0 || strcmp(rest, "min") == 0)
		mult = 60000;
	else if (strcmp(rest, "h") == 0)
		mult = 3600000;
	else
		return -EINVAL;
	if (v > INT64_MAX / mult)
		return -ERANGE;
	*out_ms = v * mult / 1000;
	return 0;
}

int
mt_parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "1", "yes", "true", "on" };
	static const char *no[] = { "0", "no", "false", "off" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int64_t
mt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mt_setmsg(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
}

size_t
mt_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len > 0) {
		size_t c = n < len - 1 ? n : len - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

/* The length (2..4) of the well-formed UTF-8 sequence at s (RFC 3629:
 * no overlong form, no surrogate, nothing above U+10FFFF), its code point
 * in *cp; 0 when the bytes there are not one. */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min_cp[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters that are valid but that a terminal or a log viewer acts on
 * rather than shows: C1 controls (U+009B is CSI on some terminals), line
 * and paragraph separators, and the bidi controls that reorder what
 * follows them on the line. */
static bool
utf8_unsafe(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Append piece (n bytes) to dst unless it has filled up: once one piece
 * does not fit nothing more is written, so the output is a prefix that
 * never ends inside an escape or a character. */
static void
esc_put(char *dst, size_t dstlen, size_t *used, bool *full, const char *piece,
    size_t n)
{
	if (!*full && *used + n < dstlen) {
		memcpy(dst + *used, piece, n);
		*used += n;
	} else {
		*full = true;
	}
}

/* One unit of the input at s: a byte, or a whole UTF-8 character; its
 * length, and in *escape whether it is shown as \xNN bytes. */
static size_t
esc_unit(const unsigned char *s, size_t n, bool *escape)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80) {
		*escape = s[0] < 0x20 || s[0] == 0x7f;
		return 1;
	}
	if ((len = utf8_seq(s, n, &cp)) == 0) {
		*escape = true;		/* a stray or malformed byte */
		return 1;
	}
	*escape = utf8_unsafe(cp);
	return len;
}

size_t
mt_escape_mem(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t used = 0, need = 0, i = 0;
	bool full = dstlen == 0;

	while (i < srclen) {
		bool escape;
		size_t n = esc_unit(s + i, srclen - i, &escape);

		if (s[i] == '\\') {
			esc_put(dst, dstlen, &used, &full, "\\\\", 2);
			need += 2;
		} else if (!escape) {
			esc_put(dst, dstlen, &used, &full, src + i, n);
			need += n;
		}
		for (size_t k = 0; escape && k < n; k++) {
			char e[4] = { '\\', 'x', hex[s[i + k] >> 4],
			    hex[s[i + k] & 0xf] };

			esc_put(dst, dstlen, &used, &full, e, sizeof(e));
			need += sizeof(e);
		}
		i += n;
	}
	if (dstlen > 0)
		dst[used] = '\0';
	return need;
}

size_t
mt_escape(char *dst, size_t dstlen, const char *src)
{
	return mt_escape_mem(dst, dstlen, src, strlen(src));
}
