/* kvparse.h - one parser for the kernel's "Key:   value kB" and
 * "key value" files: /proc/meminfo, /proc/vmstat and a NUMA node's
 * meminfo ("Node 0 MemTotal: ... kB"), as libvirt reads host and node
 * meminfo with one loop (virHostMemGetStatsLinux). It validates as it
 * reads and says what was wrong as a code with the line and the field;
 * each caller words the message for its own file (kv_message has the
 * wording they share). */
#ifndef MEMTUNED_KVPARSE_H
#define MEMTUNED_KVPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kv_unit {
	KV_KB,			/* "123 kB" */
	KV_COUNT,		/* a bare number: vmstat, HugePages_* */
};

/* A field the caller keeps: its key, where its int64_t lies in the
 * caller's struct, its unit, and whether the file must have it. Two
 * fields may share a slot (the old and new names of one counter). */
struct kv_field {
	const char *name;
	size_t off;
	enum kv_unit unit;
	bool required;
};

/* The shape of one file's lines. */
struct kv_format {
	const char *prefix;	/* every line starts with it, or NULL */
	char sep;		/* ends the key: ':' or ' ' */
	bool sep_required;	/* a line without a key is malformed;
				   false: passed over like an unknown key */
	const char *blanks;	/* skipped between sep and value */
};

enum kv_error {
	KV_OK = 0,
	KV_NO_PREFIX,		/* a line without the prefix */
	KV_NO_SEP,		/* a line without a key before sep */
	KV_CUT,			/* the last line has no newline: a cut read */
	KV_DUPLICATE,		/* a field twice */
	KV_NOT_NUMBER,
	KV_RANGE,		/* beyond int64 */
	KV_UNIT,		/* a KV_KB value not followed by " kB" */
	KV_TRAILING,		/* a KV_COUNT value followed by more text */
	KV_SHARED,		/* both names of one slot */
	KV_MISSING,		/* a required field not in the file */
};

struct kv_result {
	enum kv_error code;
	int line;			/* 1-based; 0 for KV_MISSING */
	const char *key;		/* the line's key, not terminated */
	int keylen;			/* 0 when the line has none */
	const struct kv_field *field;	/* KV_DUPLICATE .. KV_MISSING */
};

/* Parse `buf` (the whole file, NUL-terminated) into the slots of `out`
 * that `fields` names (at most 32 fields). Unknown keys are passed over:
 * newer kernels add them all the time. Every slot starts MT_ABSENT and
 * stays so when its field is not in the file. 0, or -EINVAL with *res
 * saying why; out is then partly filled. */
int kv_parse(const char *buf, const struct kv_format *fmt,
    const struct kv_field *fields, size_t nfields, void *out,
    struct kv_result *res);

/* The wording every caller shares, for the file `file`: KV_CUT (naming
 * the key), KV_DUPLICATE, KV_NOT_NUMBER, KV_RANGE, KV_UNIT, KV_MISSING;
 * a generic line for the rest, which each caller words itself. */
void kv_message(const struct kv_result *res, const char *file, char *err,
    size_t errlen);

#endif
