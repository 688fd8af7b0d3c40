/* report.h - what memtunectl shows: status, explain and plans.
 *
 * The daemon answers with JSON built here, and memtunectl renders the same
 * JSON as a table, an explanation or a plan, so a status from the daemon's
 * socket and one from a standalone collection look the same.
 */
#ifndef MEMTUNED_REPORT_H
#define MEMTUNED_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"

struct json_object;

/* source: "daemon" or "standalone". A new object the caller puts. */
struct json_object *report_status_json(const struct engine *e,
    const char *source);

/* Every string in o (names, reasons, errors: guest text among them)
 * escaped in place with mt_escape, so that no control byte reaches a
 * terminal. The renderers below do it first; the JSON output, which
 * json-c escapes itself, must not. */
void report_escape_json(struct json_object *o);

/* Render a status object as the operator's table. Like the two below it
 * escapes the strings of status in place first. */
void report_print_status(FILE *out, struct json_object *status);
/* Why a guest has the numbers it has; guest is matched against the raw
 * name or UUID. 0, or -ENOENT when the status holds no guest of that
 * name. */
int report_print_explain(FILE *out, struct json_object *status,
    const char *guest);
/* Every step of the plan in a status, with its reason; dry_run says
 * whether it was carried out. Returns the number of steps. */
int report_print_plan(FILE *out, struct json_object *status, bool dry_run);

/* "1.5 GiB", "300 MiB", "-": sizes for people. */
void report_fmt_kib(char *buf, size_t len, int64_t kib);

#endif
