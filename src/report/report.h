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

/* The status table's GUEST column: names longer than this are cut with
 * an ellipsis ("…"); --json has them whole. */
#define REPORT_NAME_COLS 20

/* esc (already mt_escape'd) in width columns, padded with spaces: whole
 * when it fits, else as much as fits in width - 1 columns and "…", never
 * cut inside a UTF-8 character or a "\xNN" escape. len >= width * 4 + 4
 * holds any result. */
void report_fit_name(char *dst, size_t len, const char *esc, int width);

/* A guest of a status by what virsh takes: a numeric ID first, then a
 * UUID (any case), then the name; NULL when none matches. */
struct json_object *report_find_guest(struct json_object *status,
    const char *key);

/* Render a status object as the operator's table. Like the two below it
 * escapes the strings of status in place first. */
void report_print_status(FILE *out, struct json_object *status);
/* Why a guest has the numbers it has; guest is found as
 * report_find_guest finds it, by its raw name. 0, or -ENOENT when the
 * status holds no such guest. */
int report_print_explain(FILE *out, struct json_object *status,
    const char *guest);
/* The same as a new JSON object (schema first): the guest's figures as
 * the status has them, its bounds with where each came from, the host's
 * state, and the explanation's lines, unescaped, in "reasons"; NULL when
 * the status holds no such guest. status is left as it was. */
struct json_object *report_explain_json(struct json_object *status,
    const char *guest);

/* What a guest's domain XML could add for memtuned to serve it better:
 * a stable code, a line for people and the XML. Nothing for a guest whose
 * size is fixed (static huge pages, locked memory), where no balloon
 * helps. */
struct report_advice {
	const char *code;	/* balloon, balloon_stats,
				 * free_page_reporting, autodeflate */
	const char *why;
	const char *xml;
};
#define REPORT_ADVICE_MAX 4
/* Fill out (up to max) from a guest object of a status; the count. */
size_t report_advice(struct json_object *guest, struct report_advice *out,
    size_t max);

/* What a rebalance adds to the status it answers with, the daemon's and
 * memtunectl --standalone's alike: rebalance_rc (-ENOSPC: the reserve
 * cannot be met), acted, reserve_possible_kib when a reserve was asked,
 * and ok false with the engine's last error when it failed otherwise. */
void report_add_rebalance(struct json_object *status, const struct engine *e,
    int rc, bool acted, bool reserve);

/* A failure as memtunectl --json prints it: {"schema", "ok": false,
 * "error", "code"}; code is a stable word scripts test, error the
 * English for people. A new object. */
struct json_object *report_error_json(const char *error, const char *code);

/* Every step of the plan in a status, with its reason; dry_run says
 * whether it was carried out. Returns the number of steps. */
int report_print_plan(FILE *out, struct json_object *status, bool dry_run);

/* "1.5 GiB", "300 MiB", "-": sizes for people. */
void report_fmt_kib(char *buf, size_t len, int64_t kib);

#endif
