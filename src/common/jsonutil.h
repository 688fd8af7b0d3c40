/* jsonutil.h - the few json-c helpers every JSON producer and reader in
 * memtuned shares: absent values (MT_ABSENT) become null, never a number a
 * tool could misread, and a missing or null field reads back as absent. */
#ifndef MEMTUNED_JSONUTIL_H
#define MEMTUNED_JSONUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

/* The version of the JSON memtuned and memtunectl print and answer, the
 * first key of every object of theirs: raised when a key is removed or
 * renamed or changes its meaning or unit, not when one is added
 * (docs/man/memtunectl.8.scd). */
#define MT_JSON_SCHEMA 1

/* o with "schema" as its first key: o itself when it has one, else a new
 * object holding the schema and then o's members (o is put). NULL stays
 * NULL. */
static inline struct json_object *
mt_json_schema_first(struct json_object *o)
{
	struct json_object *n;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_object_object_get_ex(o, "schema", NULL))
		return o;
	if ((n = json_object_new_object()) == NULL)
		return o;
	json_object_object_add(n, "schema",
	    json_object_new_int(MT_JSON_SCHEMA));
	json_object_object_foreach(o, key, val)
		json_object_object_add(n, key, json_object_get(val));
	json_object_put(o);
	return n;
}

static inline void
add_i64(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, MT_PRESENT(v) ?
	    json_object_new_int64(v) : NULL);
}

static inline void
add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static inline void
add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

static inline int64_t
get_i64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return MT_ABSENT;
	return json_object_get_int64(v);
}

static inline const char *
get_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return dflt;
	return json_object_get_string(v);
}

static inline bool
get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) &&
	    v != NULL && json_object_get_boolean(v);
}

#endif
