/* kvparse.c - see kvparse.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvparse.h"
#include "util.h"

static int64_t *
kv_slot(void *out, const struct kv_field *f)
{
	return (int64_t *)(void *)((char *)out + f->off);
}

static int
kv_fail(struct kv_result *res, enum kv_error code, const struct kv_field *f)
{
	res->code = code;
	res->field = f;
	return -EINVAL;
}

static size_t
kv_find(const struct kv_field *fields, size_t nfields, const char *key,
    size_t keylen)
{
	size_t i;

	for (i = 0; i < nfields; i++)
		if (strlen(fields[i].name) == keylen &&
		    memcmp(fields[i].name, key, keylen) == 0)
			break;
	return i;
}

/* The value after the separator: blanks, digits, then " kB" or nothing,
 * and the line's newline. */
static int
kv_value(const char *p, const struct kv_format *fmt,
    const struct kv_field *f, int64_t *v, struct kv_result *res)
{
	int rc;

	p += strspn(p, fmt->blanks);
	if ((rc = mt_scan_u64(&p, v)) < 0)
		return kv_fail(res, rc == -ERANGE ? KV_RANGE : KV_NOT_NUMBER,
		    f);
	if (f->unit == KV_KB && strncmp(p, " kB\n", 4) != 0)
		return kv_fail(res, KV_UNIT, f);
	if (f->unit == KV_COUNT && *p != '\n')
		return kv_fail(res, KV_TRAILING, f);
	return 0;
}

int
kv_parse(const char *buf, const struct kv_format *fmt,
    const struct kv_field *fields, size_t nfields, void *out,
    struct kv_result *res)
{
	size_t plen = fmt->prefix != NULL ? strlen(fmt->prefix) : 0, i;
	const char *line = buf;
	uint32_t seen = 0;

	memset(res, 0, sizeof(*res));
	if (nfields > 32)
		return -E2BIG;		/* seen is a 32-bit mask */
	for (i = 0; i < nfields; i++)
		*kv_slot(out, &fields[i]) = MT_ABSENT;

	while (*line != '\0') {
		const char *nl = strchr(line, '\n'), *key, *sep;
		int64_t v;

		res->line++;
		res->keylen = 0;
		/* the prefix first: a node's file holds only its own lines */
		if (plen > 0 && strncmp(line, fmt->prefix, plen) != 0)
			return kv_fail(res, KV_NO_PREFIX, NULL);
		res->key = key = line + plen;
		sep = memchr(key, fmt->sep, nl != NULL ? (size_t)(nl - key) :
		    strlen(key));
		if (sep != NULL && sep > key)
			res->keylen = (int)(sep - key);
		else if (fmt->sep_required)
			return kv_fail(res, KV_NO_SEP, NULL);
		if (nl == NULL)
			return kv_fail(res, KV_CUT, NULL);
		i = kv_find(fields, nfields, key, (size_t)res->keylen);
		if (i == nfields) {
			line = nl + 1;
			continue;
		}
		if (seen & (1u << i))
			return kv_fail(res, KV_DUPLICATE, &fields[i]);
		seen |= 1u << i;
		if (kv_value(sep + 1, fmt, &fields[i], &v, res) < 0)
			return -EINVAL;
		if (MT_PRESENT(*kv_slot(out, &fields[i])))
			return kv_fail(res, KV_SHARED, &fields[i]);
		*kv_slot(out, &fields[i]) = v;
		line = nl + 1;
	}

	res->line = 0;
	for (i = 0; i < nfields; i++)
		if (fields[i].required && !(seen & (1u << i)))
			return kv_fail(res, KV_MISSING, &fields[i]);
	return 0;
}

void
kv_message(const struct kv_result *res, const char *file, char *err,
    size_t errlen)
{
	const char *name = res->field != NULL ? res->field->name : "";

	switch (res->code) {
	case KV_CUT:
		snprintf(err, errlen, "%s: %.*s: line %d has no newline (cut "
		    "read)", file, res->keylen, res->key, res->line);
		break;
	case KV_DUPLICATE:
		snprintf(err, errlen, "%s: %s: duplicated (line %d)", file,
		    name, res->line);
		break;
	case KV_NOT_NUMBER:
		snprintf(err, errlen, "%s: %s: value is not a number", file,
		    name);
		break;
	case KV_RANGE:
		snprintf(err, errlen, "%s: %s: value out of range", file, name);
		break;
	case KV_UNIT:
		snprintf(err, errlen, "%s: %s: unit is not \"kB\"", file, name);
		break;
	case KV_MISSING:
		snprintf(err, errlen, "%s: %s: missing", file, name);
		break;
	default:
		snprintf(err, errlen, "%s: line %d: malformed", file,
		    res->line);
		break;
	}
}
