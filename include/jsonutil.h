/* jsonutil.h - the few json-c helpers every JSON producer and reader in
 * memtuned shares: absent values (MT_ABSENT) become null, never a number a
 * tool could misread, and a missing or null field reads back as absent. */
#ifndef MEMTUNED_JSONUTIL_H
#define MEMTUNED_JSONUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

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
