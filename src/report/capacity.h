/* capacity.h - the capacity estimate (capacity_est.h, in the policy)
 * rendered: as JSON, from the engine's last snapshot, and for people.
 */
#ifndef MEMTUNED_CAPACITY_H
#define MEMTUNED_CAPACITY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capacity_est.h"

struct engine;
struct json_object;

/* The NUMA note names two nodes and three sizes. */
#define CAPACITY_NOTE_MAX 256

/* The note on an unbalanced NUMA host that JSON and the terminal show:
 * which node is full and which has room; "" when balanced. */
void capacity_numa_note(const struct capacity_result *r, char *buf,
    size_t len);

/* The result as JSON, with the age of its figures against now_ms
 * (CLOCK_MONOTONIC). vm_source says where the size came from ("given",
 * "median of running guests", "default"). A new object the caller puts;
 * NULL without memory. */
struct json_object *capacity_json(const struct capacity_result *r,
    const char *vm_source, int64_t now_ms);

/* Collect nothing: estimate on the engine's last snapshot. vm_kib <= 0
 * means the default size. Returns a JSON object with "ok"; when the engine
 * has no snapshot, "ok" is false and "error" says why. */
struct json_object *capacity_engine_json(const struct engine *e,
    int64_t vm_kib, int64_t now_ms);

/* Render a capacity object for people; its strings (guest names among
 * them) are escaped in place first, as report_escape_json does. */
void capacity_print(FILE *out, struct json_object *cap);

#endif
