/* memtunectl - the operator's command for memtuned.
 *
 * With a daemon running it asks the daemon over the control socket, so the
 * two never fight over a guest; without one it runs the same
 * collect -> decide path itself, once, and acts only when told to with
 * --standalone.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "capacity.h"
#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "domxml.h"
#include "engine.h"
#include "jsonutil.h"
#include "log.h"
#include "report.h"
#include "util.h"
#include "version.h"
#include "virt.h"

/* exit codes */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the command ran and failed */
	EXIT_USAGE = 2,
	EXIT_NODATA = 3,	/* could not see the host or guests */
	EXIT_NOSPACE = 4,	/* --reserve cannot be met */
	EXIT_NOGUEST = 5,	/* no such guest */
	EXIT_CONTROLLER = 6,	/* a real rebalance or release would make two
				 * controllers, or one without the operator
				 * asking; pause/resume without a daemon */
	EXIT_NOT_HONOURED = 7,	/* exclude written; memtuned.conf says it
				 * is not followed */
};

/* Stable codes of memtunectl's own failures, in --json's "code" (the
 * daemon's refusals keep theirs: ctl.h, daemon.h); docs/man/memtunectl.8.scd
 * lists them with their exit codes. */
#define CODE_USAGE "usage"
#define CODE_BAD_SIZE "bad_size"
#define CODE_CONFIG "config"
#define CODE_INTERNAL "internal"
#define CODE_FAILED "failed"
#define CODE_NO_DATA "no_data"
#define CODE_UNREACHABLE "daemon_unreachable"
#define CODE_REFUSED "refused"
#define CODE_NO_SPACE "no_space"
#define CODE_NO_GUEST "no_guest"
#define CODE_URI "uri_mismatch"
#define CODE_RUNNING "daemon_running"
#define CODE_NOT_RUNNING "daemon_not_running"
#define CODE_UNKNOWN "daemon_state_unknown"
#define CODE_RELEASE_FAILED "release_failed"
#define CODE_METADATA "metadata"
#define CODE_NOT_FOLLOWED "not_followed"

struct ctl_opts {
	char config_path[PATH_MAX];
	char socket_path[108];
	char uri[256];		/* -c: the libvirt URI here; "" the config's */
	bool socket_given;
	bool json;
	bool standalone;	/* compute here; act only if no daemon runs */
	bool dry_run;
	int64_t reserve_mib;
	int64_t vm_mib;		/* capacity: 0 = the default size */
	int timeout_ms;
	unsigned int exclude_flags;	/* VIR_DOMAIN_AFFECT_LIVE/CONFIG */
};

static void
print_json(struct json_object *o)
{
	o = mt_json_schema_first(json_object_get(o));
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* A failure, and the exit status it goes with. With --json a JSON object
 * on stdout, {"error": ..., "code": ...}, whatever else the command would
 * have printed; else a line on stderr. The message may quote a guest (the
 * engine's last error) or come from the daemon: raw in JSON, which json-c
 * escapes, and escaped as a log line is on the terminal. */
static int __attribute__((format(printf, 4, 5)))
fail(const struct ctl_opts *o, int status, const char *code,
    const char *fmt, ...)
{
	char msg[8192], buf[MT_ESCAPE_SIZE(1024)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->json) {
		struct json_object *e = report_error_json(msg, code);

		print_json(e);
		json_object_put(e);
	} else {
		mt_escape(buf, sizeof(buf), msg);
		fprintf(stderr, "memtunectl: %s\n", buf);
	}
	return status;
}
static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: memtunectl [options] COMMAND [ARGS]\n"
	    "\n"
	    "Commands:\n"
	    "  status               guests and host: actual, target, floor, ceiling,\n"
	    "                       usable, state and the reason for each\n"
	    "  explain GUEST        why GUEST (an ID, UUID or name, as virsh takes\n"
	    "                       them) has the target it has\n"
	    "  rebalance            collect, decide and act once, printing every\n"
	    "                       step and its reason\n"
	    "  capacity             how many more guests fit: without overcommit,\n"
	    "                       with ballooned idle memory, with KSM savings\n"
	    "  release [GUEST...]   give back what memtuned changed: balloons\n"
	    "                       deflated, its limits lifted, KSM and THP as\n"
	    "                       found (no GUEST: the whole host); the daemon\n"
	    "                       then leaves them alone until resumed\n"
	    "  pause [GUEST...]     the daemon stops acting on GUEST (no GUEST:\n"
	    "                       every guest, KSM and THP) until resumed\n"
	    "  resume [GUEST...]    back to the policy (no GUEST: everything\n"
	    "                       paused or released)\n"
	    "  exclude GUEST [--live] [--config]\n"
	    "                       write exclude=\"yes\" in GUEST's memtuned\n"
	    "                       metadata, as virsh metadata would\n"
	    "  version              versions of memtunectl and its libraries\n"
	    "\n"
	    "Options:\n"
	    "  -f, --config FILE    configuration (default %s)\n"
	    "  -s, --socket PATH    the daemon's control socket (default from the\n"
	    "                       configuration)\n"
	    "  -c, --connect URI    the libvirt URI when collecting here (default\n"
	    "                       [daemon] uri); a daemon managing another is\n"
	    "                       an error\n"
	    "  -j, --json           machine-readable output, errors included\n"
	    "      --standalone     do not ask the daemon; collect here. A real\n"
	    "                       rebalance or release without a daemon needs\n"
	    "                       it, and is refused with it while a daemon runs\n"
	    "  -n, --dry-run        rebalance, release: print the plan, change\n"
	    "                       nothing\n"
	    "  -r, --reserve SIZE   rebalance: free SIZE for a VM about to start\n"
	    "      --vm-size SIZE   capacity: size of the guests to fit (default:\n"
	    "                       the median max memory of running guests)\n"
	    "                       SIZE: MiB, or with a suffix K, M, G or T (2G)\n"
	    "  -t, --timeout SEC    how long to wait for the daemon (default 30)\n"
	    "  -h, --help           show this help\n"
	    "  -V, --version        same as the version command\n"
	    "\n"
	    "Exit status: 0 ok, 1 failed, 2 usage, 3 host or guests could not be\n"
	    "read, 4 the reserve cannot be met, 5 no such guest, 6 rebalance or\n"
	    "release refused: no daemon and no --standalone, or --standalone\n"
	    "while a daemon runs; pause or resume without a daemon. 7 exclude\n"
	    "written, but memtuned's configuration does not follow it.\n",
	    CONFIG_DEFAULT_PATH);
}

/* Ask the daemon. 0 with *resp, or -errno (-ENOENT/-ECONNREFUSED: none). */
static int
ask_daemon(const struct ctl_opts *o, const char *cmd,
    struct json_object **resp)
{
	struct json_object *req = json_object_new_object();
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (strcmp(cmd, "rebalance") == 0) {
		json_object_object_add(req, "dry_run",
		    json_object_new_boolean(o->dry_run));
		if (o->reserve_mib > 0)
			json_object_object_add(req, "reserve_mib",
			    json_object_new_int64(o->reserve_mib));
	}
	if (strcmp(cmd, "capacity") == 0 && o->vm_mib > 0)
		json_object_object_add(req, "vm_mib",
		    json_object_new_int64(o->vm_mib));
	rc = ctl_request(o->socket_path, req, o->timeout_ms, resp);
	json_object_put(req);
	return rc;
}

/* The configuration, or its defaults when there is no file at the default
 * place; with -c, its URI replaced. 0, or an exit status (said). */
static int
load_config(const struct ctl_opts *o, struct mt_config *cfg)
{
	char err[8192];
	int rc = config_load_file(o->config_path, cfg, err, sizeof(err));

	if (rc == -ENOENT && strcmp(o->config_path, CONFIG_DEFAULT_PATH) == 0)
		config_defaults(cfg);
	else if (rc < 0)
		return fail(o, EXIT_FAIL, CODE_CONFIG, "%s", err);
	if (o->uri[0] != '\0')
		mt_strlcpy(cfg->uri, o->uri, sizeof(cfg->uri));
	return EXIT_OK;
}

/* rebalance's account of what it did, added to the status. */
static void
add_rebalance(const struct ctl_opts *o, struct engine *eng, int drc,
    struct json_object *resp)
{
	/* a reserve that cannot be met changes nothing */
	bool act = !eng->cfg.dry_run && drc == 0;

	if (act) {
		/* log lines of the actuators go to stderr as they happen */
		engine_act(eng, false);
		json_object_object_add(resp, "act_done",
		    json_object_new_int(eng->last_act.done));
		json_object_object_add(resp, "act_failed",
		    json_object_new_int(eng->last_act.failed));
	}
	/* a failure other than the reserve's was answered before this */
	report_add_rebalance(resp, eng, drc, act, o->reserve_mib > 0);
}

/* Collect (and decide, and for rebalance act) here, once. */
static int
run_standalone(const struct ctl_opts *o, const char *cmd,
    struct json_object **resp)
{
	struct mt_config cfg;
	struct engine eng;
	bool rebalance = strcmp(cmd, "rebalance") == 0;
	int64_t now;
	int rc, drc;

	if ((rc = load_config(o, &cfg)) != EXIT_OK)
		return rc;
	/* only a rebalance without --dry-run may change anything */
	if (!rebalance || o->dry_run)
		cfg.dry_run = true;
	virt_install_error_handler();
	if ((rc = engine_init(&eng, &cfg)) < 0)
		return fail(o, EXIT_FAIL, CODE_INTERNAL, "cannot set up: %s",
		    strerror(-rc));
	now = mt_now_ms();
	if (engine_connect(&eng) < 0 || engine_collect(&eng, now) < 0) {
		rc = fail(o, EXIT_NODATA, CODE_NO_DATA, "%s", eng.last_error);
		engine_free(&eng);
		return rc;
	}
	drc = engine_decide(&eng, now, rebalance ? o->reserve_mib * 1024 : 0);
	if (drc < 0 && drc != -ENOSPC) {
		rc = fail(o, EXIT_FAIL, CODE_FAILED, "%s", eng.last_error);
		engine_free(&eng);
		return rc;
	}
	if (strcmp(cmd, "capacity") == 0)
		*resp = capacity_engine_json(&eng, o->vm_mib * 1024, now);
	else
		*resp = report_status_json(&eng, "standalone");
	if (rebalance)
		add_rebalance(o, &eng, drc, *resp);
	engine_free(&eng);
	return EXIT_OK;
}

/* What connecting to the daemon's socket said means that none runs: no
 * socket file, or one nobody listens on (a daemon that died or is
 * restarting). Anything else (EACCES, a timeout) leaves it open. */
static bool
no_daemon(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED;
}

static const char *
errno_name(int rc)
{
	const char *n = strerrorname_np(-rc);

	return n != NULL ? n : strerror(-rc);
}

/* rebalance --standalone without --dry-run: memtunectl becomes the
 * controller for one tick, which is only safe when no daemon is one. A
 * ping tells, without asking the daemon to do anything. */
static int
standalone_rebalance(const struct ctl_opts *o, struct json_object **resp)
{
	int rc = ask_daemon(o, "ping", resp);

	if (rc == 0) {
		json_object_put(*resp);
		*resp = NULL;
		return fail(o, EXIT_CONTROLLER, CODE_RUNNING, "memtuned is "
		    "running (socket %s); a standalone rebalance would make a "
		    "second controller: ask it without --standalone",
		    o->socket_path);
	}
	if (!no_daemon(rc))
		return fail(o, EXIT_CONTROLLER, CODE_UNKNOWN, "cannot tell "
		    "whether memtuned runs (socket %s: %s): no standalone "
		    "rebalance", o->socket_path, errno_name(rc));
	fprintf(stderr, "memtunectl: memtuned is not running (socket %s: %s): "
	    "rebalancing here (--standalone)\n", o->socket_path, errno_name(rc));
	return run_standalone(o, "rebalance", resp);
}

/* -c names the host the operator means: an answer from a daemon that
 * manages another would be about the wrong guests. */
static int
check_uri(const struct ctl_opts *o, struct json_object **resp)
{
	const char *uri = get_str(*resp, "uri", NULL);

	if (o->uri[0] == '\0' || uri == NULL || strcmp(uri, o->uri) == 0)
		return EXIT_OK;
	fail(o, EXIT_FAIL, CODE_URI, "memtuned (socket %s) manages %s, not %s: "
	    "--standalone -c %s collects here", o->socket_path, uri, o->uri,
	    o->uri);
	json_object_put(*resp);
	*resp = NULL;
	return EXIT_FAIL;
}

/* The daemon answers when it runs. Without it, read verbs are computed
 * here, saying so; a real rebalance would make memtunectl a controller
 * behind the operator's back (during a restart, next to the daemon), so
 * it takes --standalone, and --standalone never asks the daemon to act. */
static int
get_status(const struct ctl_opts *o, const char *cmd, struct json_object **resp)
{
	bool acting = strcmp(cmd, "rebalance") == 0 && !o->dry_run;
	int rc;

	if (o->standalone)
		return acting ? standalone_rebalance(o, resp) :
		    run_standalone(o, cmd, resp);
	/* with -c, a daemon of another host must not act before that is
	 * seen: its status first */
	if (acting && o->uri[0] != '\0' && ask_daemon(o, "status", resp) == 0) {
		if ((rc = check_uri(o, resp)) != EXIT_OK)
			return rc;
		json_object_put(*resp);
		*resp = NULL;
	}
	rc = ask_daemon(o, cmd, resp);
	if (rc == 0)
		return check_uri(o, resp);
	if (rc == -EACCES)
		/* the socket's mode said no before the daemon could */
		return fail(o, EXIT_FAIL, CTL_CODE_PERMISSION, "permission "
		    "denied on %s: only root and the daemon's control_group "
		    "(or admin_group) may use it", o->socket_path);
	if (!no_daemon(rc))
		return fail(o, EXIT_NODATA, CODE_UNREACHABLE, "the daemon at %s "
		    "did not answer: %s", o->socket_path, strerror(-rc));
	if (acting)
		return fail(o, EXIT_CONTROLLER, CODE_NOT_RUNNING, "memtuned is "
		    "not running (socket %s: %s); a real rebalance without it "
		    "needs --standalone", o->socket_path, errno_name(rc));
	fprintf(stderr, "memtunectl: memtuned not reachable (socket %s: %s): "
	    "computed here\n", o->socket_path, errno_name(rc));
	return run_standalone(o, cmd, resp);
}

/* A refusal in the answer: said (with the daemon's stable code, or
 * dflt_code), and the exit status; EXIT_OK when there is none. A reserve
 * more than the host could ever free cannot be met either. */
static int
resp_refused(const struct ctl_opts *o, struct json_object *resp,
    int status, const char *dflt_code)
{
	const char *code = get_str(resp, "code", dflt_code);

	if (resp == NULL)
		return fail(o, EXIT_FAIL, CODE_INTERNAL, "out of memory");
	if (!json_object_object_get_ex(resp, "ok", NULL) || get_bool(resp, "ok"))
		return EXIT_OK;
	if (strcmp(code, DAEMON_CODE_RESERVE) == 0)
		status = EXIT_NOSPACE;
	if (strcmp(code, DAEMON_CODE_NO_DATA) == 0)
		status = EXIT_NODATA;
	/* one code for "no such guest", whoever looked */
	if (strcmp(code, DAEMON_CODE_NO_GUEST) == 0) {
		status = EXIT_NOGUEST;
		code = CODE_NO_GUEST;
	}
	return fail(o, status, code, "%s", get_str(resp, "error",
	    "the daemon refused"));
}

static int
cmd_status(const struct ctl_opts *o)
{
	struct json_object *resp = NULL;
	int rc = get_status(o, "status", &resp);

	if (rc == EXIT_OK &&
	    (rc = resp_refused(o, resp, EXIT_FAIL, CODE_REFUSED)) == EXIT_OK) {
		if (o->json)
			print_json(resp);
		else
			report_print_status(stdout, resp);
	}
	json_object_put(resp);
	return rc;
}

static int
cmd_explain(const struct ctl_opts *o, const char *guest)
{
	struct json_object *resp = NULL, *ex;
	int rc = get_status(o, "explain", &resp);

	if (rc != EXIT_OK ||
	    (rc = resp_refused(o, resp, EXIT_FAIL, CODE_REFUSED)) != EXIT_OK) {
		json_object_put(resp);
		return rc;
	}
	if (o->json && (ex = report_explain_json(resp, guest)) != NULL) {
		print_json(ex);
		json_object_put(ex);
	} else if (o->json || report_print_explain(stdout, resp, guest) < 0) {
		rc = fail(o, EXIT_NOGUEST, CODE_NO_GUEST, "no running guest "
		    "with the ID, UUID or name '%s'", guest);
	}
	json_object_put(resp);
	return rc;
}

static int
cmd_rebalance(const struct ctl_opts *o)
{
	struct json_object *resp = NULL;
	int rc = get_status(o, "rebalance", &resp);
	int64_t possible;

	if (rc != EXIT_OK ||
	    (rc = resp_refused(o, resp, EXIT_FAIL, CODE_REFUSED)) != EXIT_OK) {
		json_object_put(resp);
		return rc;
	}
	if (get_i64(resp, "rebalance_rc") != -ENOSPC) {
		if (o->json)
			print_json(resp);
		else
			report_print_plan(stdout, resp, !get_bool(resp, "acted"));
		json_object_put(resp);
		return EXIT_OK;
	}
	/* the plan that could not make the room, and why: with --json one
	 * object, the plan with the error's two keys */
	possible = get_i64(resp, "reserve_possible_kib");
	possible = MT_PRESENT(possible) ? possible / 1024 : 0;
	if (o->json) {
		char msg[160];

		snprintf(msg, sizeof(msg), "cannot free %lld MiB: at most %lld "
		    "MiB within the guests' floors and needs",
		    (long long)o->reserve_mib, (long long)possible);
		add_str(resp, "error", msg);
		add_str(resp, "code", CODE_NO_SPACE);
		print_json(resp);
	} else {
		report_print_plan(stdout, resp, !get_bool(resp, "acted"));
		fail(o, EXIT_NOSPACE, CODE_NO_SPACE, "cannot free %lld MiB: at "
		    "most %lld MiB within the guests' floors and needs",
		    (long long)o->reserve_mib, (long long)possible);
	}
	json_object_put(resp);
	return EXIT_NOSPACE;
}

static int
cmd_capacity(const struct ctl_opts *o)
{
	struct json_object *resp = NULL;
	int rc = get_status(o, "capacity", &resp);

	/* a refusal here means no snapshot (or no MemTotal) to count on */
	if (rc == EXIT_OK &&
	    (rc = resp_refused(o, resp, EXIT_NODATA, CODE_NO_DATA)) == EXIT_OK) {
		if (o->json)
			print_json(resp);
		else
			capacity_print(stdout, resp);
	}
	json_object_put(resp);
	return rc;
}

static int
cmd_version(const struct ctl_opts *o)
{
	struct json_object *v;

	if (!o->json) {
		version_print(stdout, "memtunectl");
		return EXIT_OK;
	}
	v = json_object_new_object();
	json_object_object_add(v, "schema", json_object_new_int(MT_JSON_SCHEMA));
	add_str(v, "memtunectl", MEMTUNED_VERSION);
	print_json(v);
	json_object_put(v);
	return EXIT_OK;
}

/* ------------------------------------------------------------ release */

static int
ask_release(const struct ctl_opts *o, char **sel, int nr,
    struct json_object **resp)
{
	struct json_object *req = json_object_new_object();
	struct json_object *guests = json_object_new_array();
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string("release"));
	json_object_object_add(req, "dry_run",
	    json_object_new_boolean(o->dry_run));
	for (int i = 0; i < nr; i++)
		json_object_array_add(guests, json_object_new_string(sel[i]));
	json_object_object_add(req, "guests", guests);
	rc = ctl_request(o->socket_path, req, o->timeout_ms, resp);
	json_object_put(req);
	return rc;
}

/* Without a daemon: what it found is not known here (release.h), and
 * nothing holds the guests afterwards. */
static int
standalone_release(const struct ctl_opts *o, char **sel, int nr,
    struct json_object **resp)
{
	struct release_plan plan;
	struct mt_config cfg;
	struct engine eng;
	char err[8192];
	int rc;

	if ((rc = load_config(o, &cfg)) != EXIT_OK)
		return rc;
	virt_install_error_handler();
	if ((rc = engine_init(&eng, &cfg)) < 0)
		return fail(o, EXIT_FAIL, CODE_INTERNAL, "cannot set up: %s",
		    strerror(-rc));
	if (engine_connect(&eng) < 0) {
		rc = fail(o, EXIT_NODATA, CODE_NO_DATA, "%s", eng.last_error);
		engine_free(&eng);
		return rc;
	}
	release_plan_init(&plan);
	rc = engine_release(&eng, (const char *const *)sel, (size_t)nr,
	    o->dry_run, false, &plan, err, sizeof(err));
	engine_free(&eng);
	if (rc < 0) {
		release_plan_free(&plan);
		if (rc == -ENOENT)
			return fail(o, EXIT_NOGUEST, CODE_NO_GUEST, "%s", err);
		return fail(o, EXIT_NODATA, CODE_NO_DATA, "%s", err);
	}
	*resp = release_plan_json(&plan);
	release_plan_free(&plan);
	return EXIT_OK;
}

/* -c names the host the operator means: before the daemon is asked to
 * release or hold guests, its status says which host it manages. No
 * daemon is no mismatch: the request after finds that out. */
static int
check_daemon_uri(const struct ctl_opts *o)
{
	struct json_object *resp = NULL;
	int rc;

	if (o->uri[0] == '\0' || ask_daemon(o, "status", &resp) != 0)
		return EXIT_OK;
	rc = check_uri(o, &resp);
	json_object_put(resp);
	return rc;
}

/* The daemon releases when it runs (and holds the guests). Without it a
 * dry run is computed here; a real release takes --standalone, which is
 * refused while a daemon runs: it would take the guests back next tick. */
static int
get_release(const struct ctl_opts *o, char **sel, int nr,
    struct json_object **resp)
{
	int rc;

	if (o->standalone && !o->dry_run) {
		rc = ask_daemon(o, "ping", resp);
		if (rc == 0) {
			json_object_put(*resp);
			*resp = NULL;
			return fail(o, EXIT_CONTROLLER, CODE_RUNNING, "memtuned "
			    "is running (socket %s): ask it without "
			    "--standalone, so that it holds the guests it "
			    "gives back", o->socket_path);
		}
		if (!no_daemon(rc))
			return fail(o, EXIT_CONTROLLER, CODE_UNKNOWN, "cannot "
			    "tell whether memtuned runs (socket %s: %s): no "
			    "standalone release", o->socket_path,
			    errno_name(rc));
	} else if (!o->standalone) {
		if ((rc = check_daemon_uri(o)) != EXIT_OK)
			return rc;
		rc = ask_release(o, sel, nr, resp);
		if (rc == 0)
			return EXIT_OK;
		if (rc == -EACCES)
			return fail(o, EXIT_FAIL, CTL_CODE_PERMISSION, "permission "
			    "denied on %s: only root and the daemon's "
			    "control_group (or admin_group) may use it",
			    o->socket_path);
		if (!no_daemon(rc))
			return fail(o, EXIT_NODATA, CODE_UNREACHABLE, "the daemon "
			    "at %s did not answer: %s", o->socket_path,
			    strerror(-rc));
		if (!o->dry_run)
			return fail(o, EXIT_CONTROLLER, CODE_NOT_RUNNING,
			    "memtuned is not running (socket %s: %s); a real "
			    "release without it needs --standalone",
			    o->socket_path, errno_name(rc));
	}
	/* a standalone dry run did not look */
	fprintf(stderr, "memtunectl: %s: %s here; what memtuned found at "
	    "start is not known, so its soft limits and memory.low are "
	    "lifted\n", o->standalone && o->dry_run ? "--standalone" :
	    "memtuned is not running", o->dry_run ? "planned" : "releasing");
	return standalone_release(o, sel, nr, resp);
}

static void
print_release_size(FILE *out, const char *what, struct json_object *s,
    const char *key)
{
	int64_t v = get_i64(s, key);

	if (!MT_PRESENT(v))
		fprintf(out, "%s", strcmp(what, "memory_low") == 0 ? "0" :
		    "unlimited");
	else
		fprintf(out, "%lld MiB", (long long)(v / 1024));
}

static void
print_release(FILE *out, struct json_object *resp)
{
	struct json_object *steps, *guests;
	bool dry = get_bool(resp, "dry_run");
	char name[MT_ESCAPE_SIZE(MT_NAME_MAX)], why[MT_ESCAPE_SIZE(160)];
	char error[MT_ESCAPE_SIZE(512)];

	if (json_object_object_get_ex(resp, "steps", &steps)) {
		for (size_t i = 0; i < json_object_array_length(steps); i++) {
			struct json_object *s = json_object_array_get_idx(
			    steps, i);
			const char *what = get_str(s, "what", "?");
			bool done = get_bool(s, "done");

			mt_escape(name, sizeof(name), get_str(s, "guest",
			    "host"));
			mt_escape(why, sizeof(why), get_str(s, "reason", ""));
			mt_escape(error, sizeof(error), get_str(s, "error",
			    "?"));
			fprintf(out, "%s%-20s %-11s ", dry ? "would: " :
			    done ? "done:  " : "FAILED:", name, what);
			if (strcmp(what, "ksm_thp") != 0) {
				print_release_size(out, what, s, "from_kib");
				fprintf(out, " -> ");
				print_release_size(out, what, s, "to_kib");
			}
			fprintf(out, " (%s)%s%s\n", why, done || dry ? "" :
			    ": ", done || dry ? "" : error);
		}
		if (json_object_array_length(steps) == 0)
			fprintf(out, "nothing of memtuned's to give back\n");
	}
	if (json_object_object_get_ex(resp, "guests", &guests))
		fprintf(out, "%s %zu guest(s)%s\n", dry ? "would release" :
		    "released", json_object_array_length(guests),
		    get_bool(resp, "host") ? " and the host" : "");
}

static int
cmd_release(const struct ctl_opts *o, char **sel, int nr)
{
	struct json_object *resp = NULL;
	int64_t failed;
	char msg[80];
	int rc = get_release(o, sel, nr, &resp);

	/* a refusal carries a code; failed steps leave ok false without one */
	if (rc != EXIT_OK || (!json_object_object_get_ex(resp, "failed",
	    NULL) && (rc = resp_refused(o, resp, EXIT_FAIL,
	    CODE_REFUSED)) != EXIT_OK)) {
		json_object_put(resp);
		return rc;
	}
	failed = get_i64(resp, "failed");
	if (!MT_PRESENT(failed) || failed <= 0) {
		if (o->json)
			print_json(resp);
		else
			print_release(stdout, resp);
		json_object_put(resp);
		return EXIT_OK;
	}
	/* the steps done and the ones that failed, as rebalance prints a
	 * reserve it cannot meet: with --json one object */
	snprintf(msg, sizeof(msg), "%lld step(s) of the release failed",
	    (long long)failed);
	if (o->json) {
		add_str(resp, "error", msg);
		add_str(resp, "code", CODE_RELEASE_FAILED);
		print_json(resp);
	} else {
		print_release(stdout, resp);
		fail(o, EXIT_FAIL, CODE_RELEASE_FAILED, "%s", msg);
	}
	json_object_put(resp);
	return EXIT_FAIL;
}

/* ------------------------------------------------------ pause, resume */

/* A pause lives in the daemon's memory: without a daemon there is
 * nothing to hold the guests, and nothing that would act on them. */
static int
ask_hold(const struct ctl_opts *o, const char *verb, char **sel, int nr,
    struct json_object **resp)
{
	struct json_object *req = json_object_new_object();
	struct json_object *guests = json_object_new_array();
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string(verb));
	for (int i = 0; i < nr; i++)
		json_object_array_add(guests, json_object_new_string(sel[i]));
	json_object_object_add(req, "guests", guests);
	rc = ctl_request(o->socket_path, req, o->timeout_ms, resp);
	json_object_put(req);
	if (rc == 0)
		return EXIT_OK;
	if (rc == -EACCES)
		return fail(o, EXIT_FAIL, CTL_CODE_PERMISSION, "permission "
		    "denied on %s: only root and the daemon's admin_group may "
		    "%s", o->socket_path, verb);
	if (!no_daemon(rc))
		return fail(o, EXIT_NODATA, CODE_UNREACHABLE, "the daemon at "
		    "%s did not answer: %s", o->socket_path, strerror(-rc));
	return fail(o, EXIT_CONTROLLER, CODE_NOT_RUNNING, "%s: memtuned is "
	    "not running, and a pause lives in its memory (socket %s: %s)",
	    verb, o->socket_path, errno_name(rc));
}

static void
print_hold(const char *verb, struct json_object *resp)
{
	struct json_object *list;
	char name[MT_ESCAPE_SIZE(MT_NAME_MAX)];

	if (json_object_object_get_ex(resp, "guests", &list)) {
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *g = json_object_array_get_idx(list,
			    i);

			mt_escape(name, sizeof(name), get_str(g, "name", "?"));
			printf("%-20s %s\n", name, get_str(g, "hold", "?"));
		}
	}
	if (get_bool(resp, "host"))
		printf("host: %s (KSM, THP and guests started later too)\n",
		    strcmp(verb, "pause") == 0 ? "paused" : "managed");
}

static int
cmd_hold(const struct ctl_opts *o, const char *verb, char **sel, int nr)
{
	struct json_object *resp = NULL;
	int rc;

	if (o->standalone)
		return fail(o, EXIT_USAGE, CODE_USAGE, "%s cannot be "
		    "--standalone: it lives in the daemon's memory", verb);
	if ((rc = check_daemon_uri(o)) != EXIT_OK ||
	    (rc = ask_hold(o, verb, sel, nr, &resp)) != EXIT_OK ||
	    (rc = resp_refused(o, resp, EXIT_FAIL, CODE_REFUSED)) != EXIT_OK) {
		json_object_put(resp);
		return rc;
	}
	if (o->json)
		print_json(resp);
	else
		print_hold(verb, resp);
	json_object_put(resp);
	return EXIT_OK;
}

/* ----------------------------------------------------------- exclude */

/* A guest as virsh takes it: name, UUID, or the ID of a running one. */
static virDomainPtr
lookup_domain(virConnectPtr conn, const char *guest)
{
	virDomainPtr dom;
	int64_t id;

	if ((dom = virDomainLookupByName(conn, guest)) != NULL ||
	    (dom = virDomainLookupByUUIDString(conn, guest)) != NULL)
		return dom;
	if (mt_parse_int64(guest, &id) == 0 && id >= 0 && id <= INT_MAX)
		return virDomainLookupByID(conn, (int)id);
	return NULL;
}

/* Read memtuned's element (live or config), set exclude, write it back:
 * its floor, ceiling and shares stay. */
static int
exclude_write(const struct ctl_opts *o, virDomainPtr dom, const char *guest,
    unsigned int flags)
{
	char xml[1024], err[512];
	char *old;
	int rc;

	old = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, DOMXML_NS,
	    flags);
	if (old == NULL && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN_METADATA)
		return fail(o, EXIT_FAIL, CODE_METADATA, "%s",
		    virt_last_message());
	rc = domxml_policy_exclude(old, guest, true, xml, sizeof(xml), err,
	    sizeof(err));
	free(old);
	if (rc < 0)
		return fail(o, EXIT_FAIL, CODE_METADATA, "%s", err);
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
	    DOMXML_KEY, DOMXML_NS, flags) < 0)
		return fail(o, EXIT_FAIL, CODE_METADATA, "%s",
		    virt_last_message());
	return EXIT_OK;
}

/* What the daemon's configuration makes of an exclude in metadata. NULL:
 * it is honoured; else why not. */
static const char *
exclude_refused(const struct mt_config *cfg, const char *name)
{
	switch (config_metadata_exclude(cfg, name)) {
	case META_EXCLUDE_FOLLOWED:
		return NULL;
	case META_EXCLUDE_CONF_WINS:
		return "its [guest] section in memtuned.conf sets exclude, and "
		    "memtuned.conf wins";
	case META_EXCLUDE_IGNORED:
		return "[daemon] metadata = ignore: memtuned does not read the "
		    "domain's metadata";
	case META_EXCLUDE_BOUNDED:
		break;
	}
	return "[daemon] metadata = bounded refuses an exclude in metadata "
	    "unless metadata_exclude = yes; use exclude = yes in a [guest "
	    "NAME] section, or memtunectl pause";
}

/* What was written; with --json, one object as every verb prints. */
static void
print_excluded(const struct ctl_opts *o, virDomainPtr dom, const char *name)
{
	struct json_object *j;
	char uuid[VIR_UUID_STRING_BUFLEN], buf[MT_ESCAPE_SIZE(MT_NAME_MAX)];

	if (!o->json) {
		mt_escape(buf, sizeof(buf), name);
		printf("%s: exclude=\"yes\" in its memtuned metadata; memtuned "
		    "leaves it alone from its next look\n", buf);
		return;
	}
	if (virDomainGetUUIDString(dom, uuid) < 0)
		uuid[0] = '\0';
	j = json_object_new_object();
	add_bool(j, "ok", true);
	add_str(j, "guest", name);
	add_str(j, "uuid", uuid);
	add_bool(j, "live", (o->exclude_flags & VIR_DOMAIN_AFFECT_LIVE) != 0);
	add_bool(j, "config",
	    (o->exclude_flags & VIR_DOMAIN_AFFECT_CONFIG) != 0);
	print_json(j);
	json_object_put(j);
}

static int
cmd_exclude(const struct ctl_opts *o, const char *guest)
{
	unsigned int flags = o->exclude_flags;
	struct mt_config cfg;
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	const char *why;
	char name[MT_NAME_MAX];
	int rc;

	if ((rc = load_config(o, &cfg)) != EXIT_OK)
		return rc;
	virt_install_error_handler();
	if (virt_open(cfg.uri, &conn) < 0) {
		rc = fail(o, EXIT_NODATA, CODE_NO_DATA, "%s",
		    virt_last_message());
		config_free(&cfg);
		return rc;
	}
	if ((dom = lookup_domain(conn, guest)) == NULL) {
		rc = fail(o, EXIT_NOGUEST, CODE_NO_GUEST, "no domain with the "
		    "ID, UUID or name '%s'", guest);
		goto out;
	}
	mt_strlcpy(name, virDomainGetName(dom), sizeof(name));
	rc = EXIT_OK;
	if (flags == 0)
		rc = exclude_write(o, dom, name, VIR_DOMAIN_AFFECT_CURRENT);
	if (rc == EXIT_OK && (flags & VIR_DOMAIN_AFFECT_LIVE))
		rc = exclude_write(o, dom, name, VIR_DOMAIN_AFFECT_LIVE);
	if (rc == EXIT_OK && (flags & VIR_DOMAIN_AFFECT_CONFIG))
		rc = exclude_write(o, dom, name, VIR_DOMAIN_AFFECT_CONFIG);
	if (rc != EXIT_OK)
		goto out;
	if ((why = exclude_refused(&cfg, name)) != NULL)
		rc = fail(o, EXIT_NOT_HONOURED, CODE_NOT_FOLLOWED, "exclude=\"yes\" "
		    "written to %s's metadata, but memtuned will not honour "
		    "it: %s", name, why);
	else
		print_excluded(o, dom, name);
out:
	if (dom != NULL)
		virDomainFree(dom);
	virConnectClose(conn);
	config_free(&cfg);
	return rc;
}

/* A size option: MiB, or with a suffix; 0, or the exit status (said). */
static int
opt_size(const struct ctl_opts *o, const char *opt, const char *arg,
    int64_t *mib)
{
	int rc = mt_parse_cli_mib(arg, mib);

	if (rc == -ERANGE)
		return fail(o, EXIT_USAGE, CODE_BAD_SIZE, "%s %s: out of range "
		    "(1 MiB to 1024T)", opt, arg);
	if (rc < 0)
		return fail(o, EXIT_USAGE, CODE_BAD_SIZE, "%s %s: not a size: a "
		    "number of MiB, or one with a suffix K, M, G or T (512M, "
		    "2G, 1.5T)", opt, arg);
	return EXIT_OK;
}

enum { OPT_STANDALONE = 256, OPT_ROOT, OPT_VM_SIZE, OPT_LIVE,
	OPT_CONFIG_DOMAIN };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'f' },
	{ "socket", required_argument, NULL, 's' },
	{ "connect", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "standalone", no_argument, NULL, OPT_STANDALONE },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "reserve", required_argument, NULL, 'r' },
	{ "vm-size", required_argument, NULL, OPT_VM_SIZE },
	/* exclude's; its --config becomes --config-domain (below) */
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "config-domain", no_argument, NULL, OPT_CONFIG_DOMAIN },
	{ "timeout", required_argument, NULL, 't' },
	{ "root", required_argument, NULL, OPT_ROOT },	/* tests */
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
#define SHORT_OPTS ":f:s:c:jnr:t:hV"

/* --json changes how every failure is said, the option parser's too, so
 * it is looked for before any other option is judged: among the options,
 * up to "--" or the command. */
static bool
wants_json(int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1)
		if (c == 'j')
			return true;
	return false;
}

/* One option that takes or checks a value; EXIT_OK or the exit status. */
static int
set_opt(struct ctl_opts *o, int c, const char *arg, const char *bad)
{
	int64_t v;

	switch (c) {
	case 'f':
		mt_strlcpy(o->config_path, arg, sizeof(o->config_path));
		return EXIT_OK;
	case 's':
		if (mt_strlcpy(o->socket_path, arg, sizeof(o->socket_path)) >=
		    sizeof(o->socket_path))
			return fail(o, EXIT_USAGE, CODE_USAGE, "socket path too "
			    "long");
		o->socket_given = true;
		return EXIT_OK;
	case 'c':
		if (arg[0] == '\0' ||
		    mt_strlcpy(o->uri, arg, sizeof(o->uri)) >= sizeof(o->uri))
			return fail(o, EXIT_USAGE, CODE_USAGE, "-c takes a "
			    "libvirt URI of at most %zu bytes", sizeof(o->uri) - 1);
		return EXIT_OK;
	case 'r':
		return opt_size(o, "--reserve", arg, &o->reserve_mib);
	case OPT_VM_SIZE:
		return opt_size(o, "--vm-size", arg, &o->vm_mib);
	case 't':
		if (mt_parse_int64(arg, &v) < 0 || v <= 0 || v > 3600)
			return fail(o, EXIT_USAGE, CODE_USAGE, "--timeout takes "
			    "seconds (1..3600)");
		o->timeout_ms = (int)v * 1000;
		return EXIT_OK;
	case OPT_ROOT:
		mt_set_root(arg);
		return EXIT_OK;
	case ':':
		return fail(o, EXIT_USAGE, CODE_USAGE, "%s needs a value", bad);
	default:
		return fail(o, EXIT_USAGE, CODE_USAGE, "unknown option %s", bad);
	}
}

/* The options; -1 to go on to the command, else the exit status. */
static int
parse_opts(struct ctl_opts *o, int argc, char **argv)
{
	char bad[64];
	int c, rc;

	o->json = wants_json(argc, argv);
	optind = 0;		/* getopt starts over */
	while ((c = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			break;
		case OPT_STANDALONE:
			o->standalone = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case OPT_LIVE:
			o->exclude_flags |= VIR_DOMAIN_AFFECT_LIVE;
			break;
		case OPT_CONFIG_DOMAIN:
			o->exclude_flags |= VIR_DOMAIN_AFFECT_CONFIG;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			return cmd_version(o);
		default:
			/* a short one may sit in a cluster (-jx): named by
			 * optopt; a long one by its word */
			if (optopt > 0 && optopt < 256 && (c == '?' || c == ':'))
				snprintf(bad, sizeof(bad), "-%c", optopt);
			else
				mt_strlcpy(bad, argv[optind - 1], sizeof(bad));
			if ((rc = set_opt(o, c, optarg, bad)) != EXIT_OK) {
				if (!o->json)
					usage(stderr);
				return rc;
			}
		}
	}
	return -1;
}

/* The socket the daemon was configured with, unless -s named one. */
static void
default_socket(struct ctl_opts *o)
{
	struct mt_config cfg;
	char err[8192];

	if (o->socket_given)
		return;
	if (config_load_file(o->config_path, &cfg, err, sizeof(err)) < 0)
		config_defaults(&cfg);
	mt_strlcpy(o->socket_path, cfg.control_socket, sizeof(o->socket_path));
	config_free(&cfg);
}

/* An option whose value is the next word: short ones alone or ending a
 * cluster (-c URI, -jc URI; not -cURI), a long one or a prefix getopt
 * takes for it (--connect URI, --conn URI; not --connect=URI). */
static bool
takes_value(const char *arg)
{
	const char *p;
	size_t n;

	if (arg[0] != '-' || arg[1] == '\0')
		return false;
	if (arg[1] != '-') {
		for (const char *c = arg + 1; *c != '\0'; c++) {
			if (*c == ':' || (p = strchr(SHORT_OPTS, *c)) == NULL)
				return false;
			if (p[1] == ':')
				return c[1] == '\0';
		}
		return false;
	}
	n = strlen(arg + 2);
	for (const struct option *l = long_opts; l->name != NULL; l++)
		if (strcmp(arg + 2, l->name) == 0)
			return l->has_arg == required_argument;
	for (const struct option *l = long_opts; l->name != NULL; l++)
		if (n > 0 && strncmp(arg + 2, l->name, n) == 0 &&
		    l->has_arg == required_argument)
			return true;
	return false;
}

/* exclude's --config (the domain's persistent definition, as virsh says
 * it) is not the -f/--config FILE option: after the command word it is
 * the domain's, and getopt sees it as --config-domain. */
static void
exclude_argv_fixup(int argc, char **argv)
{
	static char config_domain[] = "--config-domain";
	bool after = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return;
		if (after && strcmp(argv[i], "--config") == 0)
			argv[i] = config_domain;
		/* an option's value in its own word is not the command: a
		 * file, socket or URI named "exclude" */
		if (!after && takes_value(argv[i])) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "exclude") == 0)
			after = true;
	}
}

int
main(int argc, char **argv)
{
	static const char *const verbs[] = {
		"status", "explain", "rebalance", "capacity", "release",
		"pause", "resume", "exclude", "version",
	};
	struct ctl_opts o;
	const char *cmd;
	int rc;

	memset(&o, 0, sizeof(o));
	mt_strlcpy(o.config_path, CONFIG_DEFAULT_PATH, sizeof(o.config_path));
	o.timeout_ms = 30000;
	log_init("memtunectl", LOG_TO_STDERR, 0);
	/* the command prints its own account; the log adds only trouble */
	log_set_level(LOG_WARNING);
	exclude_argv_fixup(argc, argv);
	if ((rc = parse_opts(&o, argc, argv)) >= 0)
		return rc;
	if (optind >= argc) {
		if (!o.json)
			usage(stderr);
		return fail(&o, EXIT_USAGE, CODE_USAGE, "no command given");
	}
	cmd = argv[optind++];
	/* a domain's live state or definition means nothing to other verbs:
	 * said, not ignored */
	if (o.exclude_flags != 0 && strcmp(cmd, "exclude") != 0) {
		if (!o.json)
			usage(stderr);
		return fail(&o, EXIT_USAGE, CODE_USAGE, "--live and --config "
		    "after the command are exclude's");
	}
	default_socket(&o);
	if (strcmp(cmd, "version") == 0 && optind == argc)
		return cmd_version(&o);
	if (strcmp(cmd, "status") == 0 && optind == argc)
		return cmd_status(&o);
	if (strcmp(cmd, "explain") == 0 && optind == argc - 1)
		return cmd_explain(&o, argv[optind]);
	if (strcmp(cmd, "rebalance") == 0 && optind == argc)
		return cmd_rebalance(&o);
	if (strcmp(cmd, "capacity") == 0 && optind == argc)
		return cmd_capacity(&o);
	if (strcmp(cmd, "release") == 0)
		return cmd_release(&o, argv + optind, argc - optind);
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0)
		return cmd_hold(&o, cmd, argv + optind, argc - optind);
	if (strcmp(cmd, "exclude") == 0 && optind == argc - 1)
		return cmd_exclude(&o, argv[optind]);
	if (!o.json)
		usage(stderr);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (strcmp(cmd, verbs[i]) == 0)
			return fail(&o, EXIT_USAGE, CODE_USAGE, "wrong arguments "
			    "for %s", cmd);
	return fail(&o, EXIT_USAGE, CODE_USAGE, "unknown command '%s'", cmd);
}
