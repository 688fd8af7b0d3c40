/* util.h - small shared helpers: file reads under a root prefix, number and
 * size parsing with validation, monotonic time. */
#ifndef MEMTUNED_UTIL_H
#define MEMTUNED_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Sizes: memtuned counts in KiB. MIB() is a KiB count as whole MiB, for
 * the numbers a person reads in a reason or a log line; MIB_KIB() and
 * GIB_KIB() are a size in MiB or GiB as KiB. */
#define MIB(k) ((long long)(k) / 1024)
#define MIB_KIB(m) ((int64_t)(m) * 1024)
#define GIB_KIB(g) ((int64_t)(g) * 1024 * 1024)

/* A field the running kernel or guest does not provide. Values are signed
 * (KSM's general_profit can be negative), so "absent" is INT64_MIN, never 0. */
#define MT_ABSENT INT64_MIN
#define MT_PRESENT(v) ((v) != MT_ABSENT)

/* Every /proc and /sys path is read through a root prefix ("" or "/" for the
 * live system, a fixture tree in tests). Set once at start-up. */
void mt_set_root(const char *root);
const char *mt_get_root(void);
/* Build root + path into buf; -ENAMETOOLONG when it does not fit. */
int mt_path(char *buf, size_t len, const char *path);

/* Read a whole small file (under the root) into buf, NUL-terminated.
 * Returns bytes read, -errno on error, -EFBIG when the file does not fit
 * (a /proc file larger than expected is an error, not a silent cut). */
ssize_t mt_read_file(const char *path, char *buf, size_t len);
/* Write a string to a file under the root (sysfs knobs). 0 or -errno. */
int mt_write_file(const char *path, const char *val);
/* Read one integer from a sysfs file; 0, -ENOENT when absent, -EINVAL. */
int mt_read_int64(const char *path, int64_t *out);
/* The bracketed choice of a sysfs selector file (THP's enabled and
 * defrag, KSM's advisor_mode): "always [madvise] never\n" -> "madvise".
 * -EINVAL when there is not exactly one bracketed word (none, two, an
 * empty one, one with a blank in it), -ENAMETOOLONG when it does not fit
 * `len`. */
int mt_sysfs_choice(const char *buf, char *out, size_t len);

/* Strict integer parse: the whole string (leading/trailing blanks allowed)
 * must be a base-10 integer in range. 0 or -EINVAL/-ERANGE. */
int mt_parse_int64(const char *s, int64_t *out);

/* Scan an unsigned decimal at *pp (no sign, no blanks) with an overflow
 * check; *pp is left after the digits. 0, -EINVAL (no digit), -ERANGE. */
int mt_scan_u64(const char **pp, int64_t *out);

/* Sizes for the config: "512" (KiB), "512K", "300M", "2G", "1T", with an
 * optional "iB"/"B" suffix. Result in KiB. 0 or -EINVAL/-ERANGE. */
int mt_parse_size_kib(const char *s, int64_t *out_kib);
/* The same parser with the unit of a bare number given in KiB: 1 for the
 * configuration, 1024 for memtunectl, whose bare sizes were always MiB. */
int mt_parse_size_unit_kib(const char *s, int64_t bare_kib,
    int64_t *out_kib);
/* A size on memtunectl's command line: "2048" (MiB, as before suffixes
 * came), "2G", "512M", "1.5G", "4194304K". Rounded up to a whole MiB,
 * 1..MT_CLI_MIB_MAX. 0 or -EINVAL (not a size), -ERANGE (0 or too big). */
#define MT_CLI_MIB_MAX (INT64_C(1) << 30)
int mt_parse_cli_mib(const char *s, int64_t *out_mib);
/* "10%" or "12.5%" -> per-myriad (1/10000). "0.5" is rejected: the unit is
 * required so a typo cannot turn 50% into 0.5%. */
int mt_parse_percent_pmy(const char *s, int64_t *out_pmy);
/* The same up to max_pmy: thresholds that are multiples of something, as
 * the pressure lines are of the reserve ("400%"). */
int mt_parse_percent_max_pmy(const char *s, int64_t max_pmy,
    int64_t *out_pmy);
/* "500ms", "2s", "1m", "1h"; a bare number is seconds. Result in ms. */
int mt_parse_duration_ms(const char *s, int64_t *out_ms);
int mt_parse_bool(const char *s, bool *out);

/* CLOCK_MONOTONIC in ms; the policy never calls it, its callers do. */
int64_t mt_now_ms(void);

/* strlcpy semantics: returns strlen(src); truncated when >= len. */
size_t mt_strlcpy(char *dst, const char *src, size_t len);

/* A message into a caller's err or reason buffer: cut at its end (a cut
 * message still reads), "" on a format error, nothing at all when buf is
 * NULL or len 0 (a caller that wants no message). */
void mt_setmsg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Text from a guest (its name, its metadata, anything from domain XML) or
 * from a peer, made safe for a log line, the journal or a terminal: every
 * byte below 0x20, 0x7f, and every byte that is not part of valid UTF-8
 * becomes "\xNN"; so do the bytes of the UTF-8 characters a terminal or
 * the journal would act on (C1 controls U+0080-U+009F, the line and
 * paragraph separators U+2028/U+2029, the bidirectional marks and
 * overrides), and a backslash becomes "\\", so the output reads back
 * unambiguously. Valid UTF-8 otherwise passes: a guest named in another
 * script stays readable. dst is always terminated (dstlen > 0) and never
 * ends inside an escape or a character. Returns the length the whole
 * escaped text needs, without the NUL: >= dstlen means it was cut, as
 * with mt_strlcpy. No allocation. */
size_t mt_escape(char *dst, size_t dstlen, const char *src);
/* The same for srclen bytes, a NUL among them shown as "\x00". */
size_t mt_escape_mem(char *dst, size_t dstlen, const char *src,
    size_t srclen);
/* A buffer that always holds the escape of n bytes: 4 each, and the NUL. */
#define MT_ESCAPE_SIZE(n) ((n) * 4 + 1)

#endif
