/* memtunectl - the operator's command for memtuned.
 *
 * With a daemon running it asks the daemon over the control socket, so the
 * two never fight over a guest; without one it runs the same
 * collect -> decide path itself, once, and acts only when told to with
 * --standalone.
 */
#include <errno.h>
#include <getopt.h>
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
	EXIT_NOGUEST = 5,	/* explain: no such guest */
	EXIT_CONTROLLER = 6,	/* a real rebalance or release would make two
				 * controllers, or one without the operator
				 * asking; pause/resume without a daemon */
	EXIT_NOT_HONOURED = 7,	/* exclude written; memtuned.conf says it
				 * is not followed */
};

struct ctl_opts {
	char config_path[PATH_MAX];
	char socket_path[108];
	bool socket_given;
	bool json;
	bool standalone;	/* compute here; act only if no daemon runs */
	bool dry_run;
	int64_t reserve_mib;
	int64_t vm_mib;		/* capacity: 0 = the default size */
	int timeout_ms;
	unsigned int exclude_flags;	/* VIR_DOMAIN_AFFECT_LIVE/CONFIG */
};

/* An error that may quote a guest (the engine's last error) or come from
 * the daemon: escaped as a log line is, never raw on the terminal. */
static void
print_error(const char *msg)
{
	char buf[MT_ESCAPE_SIZE(1024)];

	mt_escape(buf, sizeof(buf), msg);
	fprintf(stderr, "memtunectl: %s\n", buf);
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
	    "  explain GUEST        why GUEST has the target it has\n"
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
	    "  -j, --json           machine-readable output (status, rebalance,\n"
	    "                       capacity)\n"
	    "      --standalone     do not ask the daemon; collect here. A real\n"
	    "                       rebalance without a daemon needs it, and is\n"
	    "                       refused with it while a daemon runs\n"
	    "  -n, --dry-run        rebalance, release: print the plan, change\n"
	    "                       nothing\n"
	    "  -r, --reserve MIB    rebalance: free MIB for a VM about to start\n"
	    "      --vm-size MIB    capacity: size of the guests to fit (default:\n"
	    "                       the median max memory of running guests)\n"
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

/* Collect (and decide, and for rebalance act) here, once. */
static int
run_standalone(const struct ctl_opts *o, const char *cmd,
    struct json_object **resp)
{
	struct mt_config cfg;
	struct engine eng;
	char err[8192];
	bool rebalance = strcmp(cmd, "rebalance") == 0;
	int64_t now;
	int rc, drc;

	rc = config_load_file(o->config_path, &cfg, err, sizeof(err));
	if (rc == -ENOENT && strcmp(o->config_path, CONFIG_DEFAULT_PATH) == 0) {
		/* no config file at the default place: the defaults apply */
		config_defaults(&cfg);
	} else if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_FAIL;
	}
	/* only a rebalance without --dry-run may change anything */
	if (!rebalance || o->dry_run)
		cfg.dry_run = true;
	virt_install_error_handler();
	if ((rc = engine_init(&eng, &cfg)) < 0) {
		fprintf(stderr, "memtunectl: cannot set up: %s\n", strerror(-rc));
		return EXIT_FAIL;
	}
	if (engine_connect(&eng) < 0) {
		print_error(eng.last_error);
		engine_free(&eng);
		return EXIT_NODATA;
	}
	now = mt_now_ms();
	if (engine_collect(&eng, now) < 0) {
		print_error(eng.last_error);
		engine_free(&eng);
		return EXIT_NODATA;
	}
	drc = engine_decide(&eng, now, rebalance ? o->reserve_mib * 1024 : 0);
	if (drc < 0 && drc != -ENOSPC) {
		print_error(eng.last_error);
		engine_free(&eng);
		return EXIT_FAIL;
	}
	if (strcmp(cmd, "capacity") == 0) {
		*resp = capacity_engine_json(&eng, o->vm_mib * 1024, now);
		engine_free(&eng);
		return EXIT_OK;
	}
	*resp = report_status_json(&eng, "standalone");
	if (rebalance) {
		/* a reserve that cannot be met changes nothing */
		bool act = !eng.cfg.dry_run && drc == 0;

		if (act) {
			/* log lines of the actuators go to stderr as they happen */
			engine_act(&eng, false);
			json_object_object_add(*resp, "act_done",
			    json_object_new_int(eng.last_act.done));
			json_object_object_add(*resp, "act_failed",
			    json_object_new_int(eng.last_act.failed));
		}
		json_object_object_add(*resp, "acted",
		    json_object_new_boolean(act));
		json_object_object_add(*resp, "rebalance_rc",
		    json_object_new_int(drc));
		if (o->reserve_mib > 0)
			json_object_object_add(*resp, "reserve_possible_kib",
			    json_object_new_int64(eng.plan.reserve_possible_kib));
	}
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
		fprintf(stderr, "memtunectl: memtuned is running (socket %s); "
		    "a standalone rebalance would make a second controller: "
		    "ask it without --standalone\n", o->socket_path);
		return EXIT_CONTROLLER;
	}
	if (!no_daemon(rc)) {
		fprintf(stderr, "memtunectl: cannot tell whether memtuned runs "
		    "(socket %s: %s): no standalone rebalance\n",
		    o->socket_path, errno_name(rc));
		return EXIT_CONTROLLER;
	}
	fprintf(stderr, "memtunectl: memtuned is not running (socket %s: %s): "
	    "rebalancing here (--standalone)\n", o->socket_path, errno_name(rc));
	return run_standalone(o, "rebalance", resp);
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
	rc = ask_daemon(o, cmd, resp);
	if (rc == 0)
		return EXIT_OK;
	if (rc == -EACCES) {
		/* the socket's mode said no before the daemon could */
		fprintf(stderr, "memtunectl: permission denied on %s: "
		    "only root and the daemon's control_group (or "
		    "admin_group) may use it\n", o->socket_path);
		return EXIT_FAIL;
	}
	if (!no_daemon(rc)) {
		fprintf(stderr, "memtunectl: the daemon at %s did not "
		    "answer: %s\n", o->socket_path, strerror(-rc));
		return EXIT_NODATA;
	}
	if (acting) {
		fprintf(stderr, "memtunectl: memtuned is not running (socket %s: "
		    "%s); a real rebalance without it needs --standalone\n",
		    o->socket_path, errno_name(rc));
		return EXIT_CONTROLLER;
	}
	fprintf(stderr, "memtunectl: memtuned not reachable (socket %s: %s): "
	    "computed here\n", o->socket_path, errno_name(rc));
	return run_standalone(o, cmd, resp);
}

/* The refusal's stable code (ctl.h, daemon.h), or "". */
static const char *
resp_code(struct json_object *resp)
{
	struct json_object *v;

	if (json_object_object_get_ex(resp, "code", &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

static bool
resp_ok(struct json_object *resp)
{
	struct json_object *v;

	if (json_object_object_get_ex(resp, "ok", &v) &&
	    !json_object_get_boolean(v)) {
		struct json_object *e;

		print_error(json_object_object_get_ex(resp, "error", &e) ?
		    json_object_get_string(e) : "the daemon refused");
		return false;
	}
	return true;
}

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
}

static int
cmd_status(const struct ctl_opts *o)
{
	struct json_object *resp = NULL;
	int rc = get_status(o, "status", &resp);

	if (rc != EXIT_OK)
		return rc;
	if (!resp_ok(resp)) {
		json_object_put(resp);
		return EXIT_FAIL;
	}
	if (o->json)
		print_json(resp);
	else
		report_print_status(stdout, resp);
	json_object_put(resp);
	return EXIT_OK;
}

static int
cmd_explain(const struct ctl_opts *o, const char *guest)
{
	struct json_object *resp = NULL;
	int rc = get_status(o, "explain", &resp);

	if (rc != EXIT_OK)
		return rc;
	if (!resp_ok(resp)) {
		json_object_put(resp);
		return EXIT_FAIL;
	}
	if (report_print_explain(stdout, resp, guest) < 0) {
		char shown[MT_ESCAPE_SIZE(MT_NAME_MAX)];

		mt_escape(shown, sizeof(shown), guest);
		fprintf(stderr, "memtunectl: no running guest named '%s'\n",
		    shown);
		rc = EXIT_NOGUEST;
	}
	json_object_put(resp);
	return rc;
}

static int
cmd_rebalance(const struct ctl_opts *o)
{
	struct json_object *resp = NULL, *v;
	int rc = get_status(o, "rebalance", &resp);
	bool acted;

	if (rc != EXIT_OK)
		return rc;
	if (!resp_ok(resp)) {
		/* more than the host could ever free cannot be met either */
		rc = strcmp(resp_code(resp), DAEMON_CODE_RESERVE) == 0 ?
		    EXIT_NOSPACE : EXIT_FAIL;
		json_object_put(resp);
		return rc;
	}
	acted = json_object_object_get_ex(resp, "acted", &v) &&
	    json_object_get_boolean(v);
	if (o->json)
		print_json(resp);
	else
		report_print_plan(stdout, resp, !acted);
	if (json_object_object_get_ex(resp, "rebalance_rc", &v) &&
	    json_object_get_int(v) == -ENOSPC) {
		struct json_object *p;
		int64_t possible = json_object_object_get_ex(resp,
		    "reserve_possible_kib", &p) ? json_object_get_int64(p) : 0;

		fprintf(stderr, "memtunectl: cannot free %lld MiB: at most %lld "
		    "MiB within the guests' floors and needs\n",
		    (long long)o->reserve_mib, (long long)(possible / 1024));
		rc = EXIT_NOSPACE;
	}
	json_object_put(resp);
	return rc;
}

static int
cmd_capacity(const struct ctl_opts *o)
{
	struct json_object *resp = NULL;
	int rc = get_status(o, "capacity", &resp);

	if (rc != EXIT_OK)
		return rc;
	if (resp == NULL) {
		fprintf(stderr, "memtunectl: capacity: out of memory\n");
		return EXIT_FAIL;
	}
	/* a refusal here means no snapshot (or no MemTotal) to count on */
	if (!resp_ok(resp)) {
		json_object_put(resp);
		return EXIT_NODATA;
	}
	if (o->json)
		print_json(resp);
	else
		capacity_print(stdout, resp);
	json_object_put(resp);
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

	rc = config_load_file(o->config_path, &cfg, err, sizeof(err));
	if (rc == -ENOENT && strcmp(o->config_path, CONFIG_DEFAULT_PATH) == 0) {
		config_defaults(&cfg);
	} else if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_FAIL;
	}
	virt_install_error_handler();
	if ((rc = engine_init(&eng, &cfg)) < 0) {
		fprintf(stderr, "memtunectl: cannot set up: %s\n", strerror(-rc));
		return EXIT_FAIL;
	}
	if (engine_connect(&eng) < 0) {
		print_error(eng.last_error);
		engine_free(&eng);
		return EXIT_NODATA;
	}
	release_plan_init(&plan);
	rc = engine_release(&eng, (const char *const *)sel, (size_t)nr,
	    o->dry_run, false, &plan, err, sizeof(err));
	engine_free(&eng);
	if (rc < 0) {
		print_error(err);
		return rc == -ENOENT ? EXIT_NOGUEST : EXIT_NODATA;
	}
	*resp = release_plan_json(&plan);
	release_plan_free(&plan);
	return EXIT_OK;
}

/* The daemon releases when it runs (and holds the guests). Without it a
 * dry run is computed here; a real release takes --standalone, which is
 * refused while a daemon runs: it would take the guests back next tick. */
static int
get_release(const struct ctl_opts *o, char **sel, int nr,
    struct json_object **resp)
{
	int rc;

	if (!o->standalone || !o->dry_run) {
		rc = o->standalone ? ask_daemon(o, "ping", resp) :
		    ask_release(o, sel, nr, resp);
		if (rc == 0 && !o->standalone)
			return EXIT_OK;
		if (rc == 0) {
			json_object_put(*resp);
			*resp = NULL;
			fprintf(stderr, "memtunectl: memtuned is running (socket "
			    "%s): ask it without --standalone, so that it "
			    "holds the guests it gives back\n", o->socket_path);
			return EXIT_CONTROLLER;
		}
		if (rc == -EACCES || !no_daemon(rc)) {
			fprintf(stderr, "memtunectl: the daemon at %s did not "
			    "answer: %s\n", o->socket_path, errno_name(rc));
			return rc == -EACCES ? EXIT_FAIL : EXIT_NODATA;
		}
		if (!o->standalone && !o->dry_run) {
			fprintf(stderr, "memtunectl: memtuned is not running "
			    "(socket %s: %s); a release without it needs "
			    "--standalone\n", o->socket_path, errno_name(rc));
			return EXIT_CONTROLLER;
		}
	}
	fprintf(stderr, "memtunectl: memtuned is not running: %s here; what "
	    "it found at start is not known, so its soft limits and "
	    "memory.low are lifted\n", o->dry_run ? "planned" : "releasing");
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

	if (json_object_object_get_ex(resp, "steps", &steps)) {
		for (size_t i = 0; i < json_object_array_length(steps); i++) {
			struct json_object *s = json_object_array_get_idx(
			    steps, i);
			const char *what = get_str(s, "what", "?");

			mt_escape(name, sizeof(name), get_str(s, "guest",
			    "host"));
			mt_escape(why, sizeof(why), get_str(s, "reason", ""));
			fprintf(out, "%s%-20s %-11s ", dry ? "would: " :
			    get_bool(s, "done") ? "done:  " : "FAILED:", name,
			    what);
			if (strcmp(what, "ksm_thp") != 0) {
				print_release_size(out, what, s, "from_kib");
				fprintf(out, " -> ");
				print_release_size(out, what, s, "to_kib");
			}
			fprintf(out, " (%s)%s%s\n", why,
			    get_bool(s, "done") || dry ? "" : ": ",
			    get_bool(s, "done") || dry ? "" :
			    get_str(s, "error", "?"));
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
	int rc = get_release(o, sel, nr, &resp);

	if (rc != EXIT_OK)
		return rc;
	if (resp == NULL) {
		fprintf(stderr, "memtunectl: release: out of memory\n");
		return EXIT_FAIL;
	}
	if (o->json)
		print_json(resp);
	if (get_i64(resp, "failed") > 0) {
		rc = EXIT_FAIL;
	} else if (!resp_ok(resp)) {
		rc = strcmp(resp_code(resp), DAEMON_CODE_NO_GUEST) == 0 ?
		    EXIT_NOGUEST : strcmp(resp_code(resp),
		    DAEMON_CODE_NO_DATA) == 0 ? EXIT_NODATA : EXIT_FAIL;
	}
	if (!o->json && json_object_object_get_ex(resp, "steps", NULL))
		print_release(stdout, resp);
	json_object_put(resp);
	return rc;
}

/* ------------------------------------------------------ pause, resume */

/* A pause lives in the daemon's memory: without a daemon there is
 * nothing to hold the guests, and nothing that would act on them. */
static int
cmd_hold(const struct ctl_opts *o, const char *verb, char **sel, int nr)
{
	struct json_object *req = json_object_new_object();
	struct json_object *guests = json_object_new_array();
	struct json_object *resp = NULL, *list;
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string(verb));
	for (int i = 0; i < nr; i++)
		json_object_array_add(guests, json_object_new_string(sel[i]));
	json_object_object_add(req, "guests", guests);
	rc = ctl_request(o->socket_path, req, o->timeout_ms, &resp);
	json_object_put(req);
	if (rc < 0) {
		fprintf(stderr, "memtunectl: %s: %s (socket %s: %s)\n", verb,
		    no_daemon(rc) ? "memtuned is not running, and a pause "
		    "lives in its memory" : "the daemon did not answer",
		    o->socket_path, errno_name(rc));
		return no_daemon(rc) ? EXIT_CONTROLLER : rc == -EACCES ?
		    EXIT_FAIL : EXIT_NODATA;
	}
	if (!resp_ok(resp)) {
		rc = strcmp(resp_code(resp), DAEMON_CODE_NO_GUEST) == 0 ?
		    EXIT_NOGUEST : EXIT_FAIL;
		json_object_put(resp);
		return rc;
	}
	if (o->json) {
		print_json(resp);
	} else if (json_object_object_get_ex(resp, "guests", &list)) {
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *g = json_object_array_get_idx(list,
			    i);
			char name[MT_ESCAPE_SIZE(MT_NAME_MAX)];

			mt_escape(name, sizeof(name), get_str(g, "name", "?"));
			printf("%-20s %s\n", name, get_str(g, "hold", "?"));
		}
		if (get_bool(resp, "host"))
			printf("host: %s (KSM, THP and guests started later "
			    "too)\n", strcmp(verb, "pause") == 0 ? "paused" :
			    "managed");
	}
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
exclude_write(virDomainPtr dom, const char *guest, unsigned int flags)
{
	char xml[1024], err[512];
	char *old;
	int rc;

	old = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, DOMXML_NS,
	    flags);
	if (old == NULL && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN_METADATA) {
		print_error(virt_last_message());
		return EXIT_FAIL;
	}
	rc = domxml_policy_exclude(old, guest, true, xml, sizeof(xml), err,
	    sizeof(err));
	free(old);
	if (rc < 0) {
		print_error(err);
		return EXIT_FAIL;
	}
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
	    DOMXML_KEY, DOMXML_NS, flags) < 0) {
		print_error(virt_last_message());
		return EXIT_FAIL;
	}
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

static int
cmd_exclude(const struct ctl_opts *o, const char *guest, unsigned int flags)
{
	struct mt_config cfg;
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	const char *why;
	char err[8192], name[MT_NAME_MAX];
	int rc;

	rc = config_load_file(o->config_path, &cfg, err, sizeof(err));
	if (rc == -ENOENT && strcmp(o->config_path, CONFIG_DEFAULT_PATH) == 0) {
		config_defaults(&cfg);
	} else if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_FAIL;
	}
	virt_install_error_handler();
	if (virt_open(cfg.uri, &conn) < 0) {
		print_error(virt_last_message());
		config_free(&cfg);
		return EXIT_NODATA;
	}
	if ((dom = lookup_domain(conn, guest)) == NULL) {
		mt_escape(err, sizeof(err), guest);
		fprintf(stderr, "memtunectl: no guest named '%s'\n", err);
		rc = EXIT_NOGUEST;
		goto out;
	}
	mt_strlcpy(name, virDomainGetName(dom), sizeof(name));
	rc = EXIT_OK;
	if (flags == 0)
		rc = exclude_write(dom, name, VIR_DOMAIN_AFFECT_CURRENT);
	if (rc == EXIT_OK && (flags & VIR_DOMAIN_AFFECT_LIVE))
		rc = exclude_write(dom, name, VIR_DOMAIN_AFFECT_LIVE);
	if (rc == EXIT_OK && (flags & VIR_DOMAIN_AFFECT_CONFIG))
		rc = exclude_write(dom, name, VIR_DOMAIN_AFFECT_CONFIG);
	if (rc != EXIT_OK)
		goto out;
	mt_escape(err, sizeof(err), name);
	if ((why = exclude_refused(&cfg, name)) != NULL) {
		fprintf(stderr, "memtunectl: exclude=\"yes\" written to %s's "
		    "metadata, but memtuned will not honour it: %s\n", err,
		    why);
		rc = EXIT_NOT_HONOURED;
	} else {
		printf("%s: exclude=\"yes\" in its memtuned metadata; memtuned "
		    "leaves it alone from its next look\n", err);
	}
out:
	if (dom != NULL)
		virDomainFree(dom);
	virConnectClose(conn);
	config_free(&cfg);
	return rc;
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
		/* -f/-s take a value: a file named "exclude" is not the
		 * command */
		if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "-s") == 0 ||
		    strcmp(argv[i], "--config") == 0 ||
		    strcmp(argv[i], "--socket") == 0) && !after) {
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
	enum { OPT_STANDALONE = 256, OPT_ROOT, OPT_VM_SIZE, OPT_LIVE,
	    OPT_CONFIG };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "standalone", no_argument, NULL, OPT_STANDALONE },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "reserve", required_argument, NULL, 'r' },
		{ "vm-size", required_argument, NULL, OPT_VM_SIZE },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "config-domain", no_argument, NULL, OPT_CONFIG },
		{ "timeout", required_argument, NULL, 't' },
		{ "root", required_argument, NULL, OPT_ROOT },	/* tests */
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o;
	const char *cmd;
	int64_t v;
	int c;

	memset(&o, 0, sizeof(o));
	mt_strlcpy(o.config_path, CONFIG_DEFAULT_PATH, sizeof(o.config_path));
	o.timeout_ms = 30000;
	log_init("memtunectl", LOG_TO_STDERR, 0);
	/* the command prints its own account; the log adds only trouble */
	log_set_level(LOG_WARNING);
	exclude_argv_fixup(argc, argv);
	while ((c = getopt_long(argc, argv, "f:s:jnr:t:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			mt_strlcpy(o.config_path, optarg, sizeof(o.config_path));
			break;
		case 's':
			if (mt_strlcpy(o.socket_path, optarg,
			    sizeof(o.socket_path)) >= sizeof(o.socket_path)) {
				fprintf(stderr, "memtunectl: socket path too long\n");
				return EXIT_USAGE;
			}
			o.socket_given = true;
			break;
		case 'j':
			o.json = true;
			break;
		case OPT_STANDALONE:
			o.standalone = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'r':
			if (mt_parse_int64(optarg, &v) < 0 || v <= 0 ||
			    v > (INT64_C(1) << 30)) {
				fprintf(stderr, "memtunectl: --reserve takes a "
				    "whole number of MiB\n");
				return EXIT_USAGE;
			}
			o.reserve_mib = v;
			break;
		case 't':
			if (mt_parse_int64(optarg, &v) < 0 || v <= 0 || v > 3600) {
				fprintf(stderr, "memtunectl: --timeout takes "
				    "seconds (1..3600)\n");
				return EXIT_USAGE;
			}
			o.timeout_ms = (int)v * 1000;
			break;
		case OPT_VM_SIZE:
			if (mt_parse_int64(optarg, &v) < 0 || v <= 0 ||
			    v > (INT64_C(1) << 30)) {
				fprintf(stderr, "memtunectl: --vm-size takes a "
				    "whole number of MiB\n");
				return EXIT_USAGE;
			}
			o.vm_mib = v;
			break;
		case OPT_ROOT:
			mt_set_root(optarg);
			break;
		case OPT_LIVE:
			o.exclude_flags |= VIR_DOMAIN_AFFECT_LIVE;
			break;
		case OPT_CONFIG:
			o.exclude_flags |= VIR_DOMAIN_AFFECT_CONFIG;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			version_print(stdout, "memtunectl");
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (!o.socket_given) {
		/* the socket the daemon was configured with */
		struct mt_config cfg;
		char err[8192];

		if (config_load_file(o.config_path, &cfg, err, sizeof(err)) == 0) {
			mt_strlcpy(o.socket_path, cfg.control_socket,
			    sizeof(o.socket_path));
			config_free(&cfg);
		} else {
			config_defaults(&cfg);
			mt_strlcpy(o.socket_path, cfg.control_socket,
			    sizeof(o.socket_path));
			config_free(&cfg);
		}
	}
	if (strcmp(cmd, "version") == 0) {
		version_print(stdout, "memtunectl");
		return EXIT_OK;
	}
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
		return cmd_exclude(&o, argv[optind], o.exclude_flags);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "explain") == 0 ||
	    strcmp(cmd, "rebalance") == 0 || strcmp(cmd, "capacity") == 0)
		fprintf(stderr, "memtunectl: wrong arguments for %s\n", cmd);
	else
		fprintf(stderr, "memtunectl: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
