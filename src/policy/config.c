/* config.c - see config.h */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "psi.h"
#include "util.h"

/* A config file is a few KiB; anything past 1 MiB is not one. */
#define CONFIG_FILE_MAX (1024 * 1024)
/* one error message: a file name, a line number and a sentence */
#define CONFIG_MSG_MAX 512

enum section_kind {
	SEC_NONE,			/* before the first section */
	SEC_BAD,			/* unknown or malformed: already reported */
	SEC_DAEMON,
	SEC_POLICY,			/* [policy], [ksm], [thp] */
	SEC_GUEST,
};

struct seen_key {
	char *section;
	char *key;
	int line;
};

struct parse_ctx {
	struct mt_config *cfg;
	const char *source;

	/* the reader's position in the text */
	const char *pos;
	int lineno;

	/* the current section, as the reader saw it: inih cuts section
	 * names at 50 bytes, guest names may be longer */
	char section[MT_NAME_MAX + 16];
	enum section_kind kind;
	size_t guest;			/* index into cfg->guests */

	struct seen_key *seen;
	size_t nr_seen;
	size_t cap_seen;

	char *err;
	size_t errlen;
	size_t errused;
	int nerrors;
	int dropped;			/* errors that did not fit in err */
	bool nomem;
};

struct daemon_key;
typedef int (*daemon_setter)(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *value);

struct daemon_key {
	const char *name;
	daemon_setter set;
	size_t off;
	size_t size;			/* for strings */
	const char *hint;		/* "is not <hint>" */
};

static void ctx_error(struct parse_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ctx_error(struct parse_ctx *ctx, int line, const char *fmt, ...)
{
	/* room kept at the end of err for the "N more" line */
	const size_t reserve = 48;
	char msg[CONFIG_MSG_MAX];
	int n, m;
	va_list ap;

	ctx->nerrors++;
	if (line > 0)
		n = snprintf(msg, sizeof(msg), "%s:%d: ", ctx->source, line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", ctx->source);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		msg[n] = '\0';
	n = (int)strlen(msg);
	if (ctx->err == NULL || ctx->errlen <= reserve ||
	    ctx->errused + (size_t)n + 2 > ctx->errlen - reserve) {
		ctx->dropped++;
		return;
	}
	if (ctx->errused > 0)
		ctx->err[ctx->errused++] = '\n';
	memcpy(ctx->err + ctx->errused, msg, (size_t)n + 1);
	ctx->errused += (size_t)n;
}

static void
ctx_finish_errors(struct parse_ctx *ctx)
{
	int n;

	if (ctx->dropped == 0 || ctx->err == NULL || ctx->errlen == 0)
		return;
	n = snprintf(ctx->err + ctx->errused, ctx->errlen - ctx->errused,
	    "%s(%d more error%s not shown)", ctx->errused > 0 ? "\n" : "",
	    ctx->dropped, ctx->dropped == 1 ? "" : "s");
	if (n > 0)
		ctx->errused += MIN((size_t)n, ctx->errlen - ctx->errused - 1);
}

/* ------------------------------------------------------------ defaults */

void
config_defaults(struct mt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	mt_strlcpy(cfg->source, "memtuned.conf", sizeof(cfg->source));
	mt_strlcpy(cfg->uri, "qemu:///system", sizeof(cfg->uri));
	cfg->interval_ms = 5000;
	cfg->interval_min_ms = 1000;
	cfg->interval_max_ms = 60000;
	cfg->dry_run = false;
	cfg->log_level = LOG_INFO;
	mt_strlcpy(cfg->control_socket, "/run/memtuned/control.sock",
	    sizeof(cfg->control_socket));
	cfg->control_gid = (gid_t)-1;
	cfg->admin_gid = (gid_t)-1;
	/* each acting request runs a whole tick and may move every guest */
	cfg->act_interval_ms = 5000;
	cfg->metrics_port = 0;
	cfg->metrics_per_guest = true;
	/* 150 ms of stall in 1 s: a guest is hurting, wake up now. Without
	 * CAP_SYS_RESOURCE the kernel wants 2 s windows; the trigger code
	 * falls back to one. */
	cfg->psi_threshold_us = 150000;
	cfg->psi_window_us = 1000000;
	cfg->burst_watch_ms = 250;
	cfg->on_exit = ON_EXIT_LEAVE;
	cfg->deflate_to_pmy = 10000;
	cfg->restore_host_settings = true;
	cfg->stats_period_s = 5;
	cfg->task_delayacct = false;
	cfg->manage_ksm = true;
	cfg->manage_thp = true;
	cfg->manage_hard_limit = true;
	policy_config_defaults(&cfg->policy);
	cfg->guests = NULL;
	cfg->nr_guests = 0;
}

void
config_free(struct mt_config *cfg)
{
	free(cfg->guests);
	cfg->guests = NULL;
	cfg->nr_guests = 0;
}

void
config_move(struct mt_config *dst, struct mt_config *src)
{
	config_free(dst);
	*dst = *src;
	src->guests = NULL;
	src->nr_guests = 0;
	config_defaults(src);
}

/* ------------------------------------------------------ [daemon] keys */

#define FIELD(f) offsetof(struct mt_config, f), sizeof(((struct mt_config *)0)->f)
#define CFG_AT(cfg, k) ((void *)((char *)(cfg) + (k)->off))

static int
set_string(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	if (*v == '\0')
		return -EINVAL;
	if (mt_strlcpy(CFG_AT(ctx->cfg, k), v, k->size) >= k->size)
		return -ENAMETOOLONG;
	return 0;
}

static int
set_abs_path(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	if (v[0] != '/')
		return -EINVAL;
	return set_string(ctx, k, v);
}

/* "off" or "" turns the feature off */
static int
set_path_off(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	if (*v == '\0' || strcmp(v, "off") == 0) {
		*(char *)CFG_AT(ctx->cfg, k) = '\0';
		return 0;
	}
	return set_abs_path(ctx, k, v);
}

static int
set_duration_ms(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	return mt_parse_duration_ms(v, CFG_AT(ctx->cfg, k));
}

static int
set_duration_us(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	int64_t ms;
	int rc;

	if ((rc = mt_parse_duration_ms(v, &ms)) < 0)
		return rc;
	if (ms > INT64_MAX / 1000)
		return -ERANGE;
	*(int64_t *)CFG_AT(ctx->cfg, k) = ms * 1000;
	return 0;
}

/* "off" is 0; anything else goes to set */
static int
set_off_or(struct parse_ctx *ctx, const struct daemon_key *k, const char *v,
    int (*set)(struct parse_ctx *, const struct daemon_key *, const char *))
{
	if (strcmp(v, "off") == 0) {
		*(int64_t *)CFG_AT(ctx->cfg, k) = 0;
		return 0;
	}
	return set(ctx, k, v);
}

static int
set_psi_threshold(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *v)
{
	return set_off_or(ctx, k, v, set_duration_us);
}

static int
set_duration_ms_off(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *v)
{
	return set_off_or(ctx, k, v, set_duration_ms);
}

static int
set_whole_seconds(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *v)
{
	int64_t ms;
	int rc;

	if ((rc = mt_parse_duration_ms(v, &ms)) < 0)
		return rc;
	/* libvirt takes the stats period in whole seconds */
	if (ms % 1000 != 0)
		return -EINVAL;
	*(int64_t *)CFG_AT(ctx->cfg, k) = ms / 1000;
	return 0;
}

static int
set_bool(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	return mt_parse_bool(v, CFG_AT(ctx->cfg, k));
}

static int
set_percent(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	return mt_parse_percent_pmy(v, CFG_AT(ctx->cfg, k));
}

/* "auto" follows the guests (memtunectl capacity's own default); a fixed
 * size keeps the capacity series comparable over time */
static int
set_capacity_vm_size(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *v)
{
	int64_t kib;
	int rc;

	if (strcmp(v, "auto") == 0) {
		*(int64_t *)CFG_AT(ctx->cfg, k) = 0;
		return 0;
	}
	if ((rc = mt_parse_size_kib(v, &kib)) < 0)
		return rc;
	if (kib <= 0)
		return -ERANGE;
	*(int64_t *)CFG_AT(ctx->cfg, k) = kib;
	return 0;
}

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

static int
set_log_level(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(log_levels); i++) {
		if (strcasecmp(v, log_levels[i].name) == 0) {
			*(int *)CFG_AT(ctx->cfg, k) = log_levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
config_log_level_name(int level)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "?";
}

static int
set_on_exit(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	enum config_on_exit *e = CFG_AT(ctx->cfg, k);

	if (strcmp(v, "leave") == 0)
		*e = ON_EXIT_LEAVE;
	else if (strcmp(v, "deflate") == 0)
		*e = ON_EXIT_DEFLATE;
	else
		return -EINVAL;
	return 0;
}

const char *
config_on_exit_name(enum config_on_exit e)
{
	return e == ON_EXIT_DEFLATE ? "deflate" : "leave";
}

static int
lookup_gid(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	size_t len = 4096;
	char *buf = NULL, *nbuf;
	int64_t num;
	int rc;

	if (mt_parse_int64(name, &num) == 0) {
		if (num < 0 || num >= (int64_t)(gid_t)-1)
			return -ERANGE;
		*gid = (gid_t)num;
		return 0;
	}
	for (;;) {
		if ((nbuf = realloc(buf, len)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		buf = nbuf;
		rc = getgrnam_r(name, &gr, buf, len, &res);
		if (rc != ERANGE)
			break;
		len *= 2;
	}
	if (rc != 0) {
		rc = -rc;
		goto out;
	}
	if (res == NULL) {
		rc = -ENOENT;
		goto out;
	}
	*gid = gr.gr_gid;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* control_group and admin_group: the name, and its gid beside it */
static int
set_group(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	struct mt_config *cfg = ctx->cfg;
	gid_t *gid = k->off == offsetof(struct mt_config, admin_group) ?
	    &cfg->admin_gid : &cfg->control_gid;
	int rc;

	if (*v == '\0' || strcmp(v, "root") == 0) {
		*(char *)CFG_AT(cfg, k) = '\0';
		*gid = (gid_t)-1;
		return 0;
	}
	if ((rc = set_string(ctx, k, v)) < 0)
		return rc;
	return lookup_gid(v, gid);
}

/* "off", "HOST:PORT" or "[V6]:PORT" with a literal address: a name would
 * need the resolver at start-up and could change under us */
static int
set_listen(struct parse_ctx *ctx, const struct daemon_key *k, const char *v)
{
	struct mt_config *cfg = ctx->cfg;
	char host[sizeof(cfg->metrics_host)];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *colon, *h = v;
	size_t hlen;
	int64_t port;
	int af = AF_INET;

	if (*v == '\0' || strcmp(v, "off") == 0) {
		cfg->metrics_listen[0] = '\0';
		cfg->metrics_host[0] = '\0';
		cfg->metrics_port = 0;
		return 0;
	}
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = v + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		af = AF_INET6;
	} else {
		if ((colon = strrchr(v, ':')) == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - v);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (inet_pton(af, host, addr) != 1)
		return -EINVAL;
	if (mt_parse_int64(colon + 1, &port) < 0 || port < 1 || port > 65535)
		return -EINVAL;
	if (mt_strlcpy(cfg->metrics_listen, v, sizeof(cfg->metrics_listen)) >=
	    sizeof(cfg->metrics_listen))
		return -ENAMETOOLONG;
	mt_strlcpy(cfg->metrics_host, host, sizeof(cfg->metrics_host));
	cfg->metrics_port = (int)port;
	(void)k;
	return 0;
}

/* [daemon] metadata and its bounds (policy.h): what a domain's own
 * <metadata> may claim */
static int
set_metadata_mode(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *v)
{
	return metadata_trust_parse(v, CFG_AT(ctx->cfg, k));
}

static int
set_metadata_shares_max(struct parse_ctx *ctx, const struct daemon_key *k,
    const char *v)
{
	int64_t n;
	int rc;

	if ((rc = mt_parse_int64(v, &n)) < 0)
		return rc;
	/* metadata's own range (domxml.c): a larger cap caps nothing */
	if (n < 1 || n > 1000000)
		return -ERANGE;
	*(int64_t *)CFG_AT(ctx->cfg, k) = n;
	return 0;
}

static const struct daemon_key daemon_keys[] = {
	{ "uri", set_string, FIELD(uri), "a libvirt URI such as qemu:///system" },
	{ "interval", set_duration_ms, FIELD(interval_ms),
	    "a duration such as 5s or 500ms" },
	{ "interval_min", set_duration_ms, FIELD(interval_min_ms),
	    "a duration such as 1s or 500ms" },
	{ "interval_max", set_duration_ms, FIELD(interval_max_ms),
	    "a duration such as 60s or 5m" },
	{ "dry_run", set_bool, FIELD(dry_run), "yes or no" },
	{ "log_level", set_log_level, FIELD(log_level),
	    "error, warning, notice, info or debug" },
	{ "control_socket", set_abs_path, FIELD(control_socket),
	    "an absolute path of at most 107 bytes" },
	{ "control_group", set_group, FIELD(control_group),
	    "an existing group name or number" },
	{ "admin_group", set_group, FIELD(admin_group),
	    "an existing group name or number" },
	{ "act_interval", set_duration_ms_off, FIELD(act_interval_ms),
	    "off, or a duration such as 5s" },
	{ "metrics_listen", set_listen, FIELD(metrics_listen),
	    "off, or ADDRESS:PORT such as 127.0.0.1:9848 or [::1]:9848" },
	{ "metrics_textfile", set_path_off, FIELD(metrics_textfile),
	    "off, or an absolute path" },
	{ "metrics_per_guest", set_bool, FIELD(metrics_per_guest),
	    "yes or no" },
	{ "capacity_vm_size", set_capacity_vm_size, FIELD(capacity_vm_kib),
	    "auto, or a size such as 2G" },
	{ "metadata", set_metadata_mode, FIELD(policy.metadata_mode),
	    "trust, bounded or ignore" },
	{ "metadata_floor_max", set_percent,
	    FIELD(policy.metadata_floor_max_pmy),
	    "a percentage from 1% to 100%" },
	{ "metadata_shares_max", set_metadata_shares_max,
	    FIELD(policy.metadata_shares_max),
	    "a whole number from 1 to 1000000" },
	{ "metadata_exclude", set_bool, FIELD(policy.metadata_exclude),
	    "yes or no" },
	{ "psi_threshold", set_psi_threshold, FIELD(psi_threshold_us),
	    "off, or a duration such as 150ms" },
	{ "psi_window", set_duration_us, FIELD(psi_window_us),
	    "a duration such as 1s or 2s" },
	{ "burst_watch", set_duration_ms_off, FIELD(burst_watch_ms),
	    "off, or a duration such as 250ms" },
	{ "on_exit", set_on_exit, FIELD(on_exit), "leave or deflate" },
	{ "deflate_to", set_percent, FIELD(deflate_to_pmy),
	    "a percentage from 0% to 100%" },
	{ "restore_host_settings", set_bool, FIELD(restore_host_settings),
	    "yes or no" },
	{ "stats_period", set_whole_seconds, FIELD(stats_period_s),
	    "a whole number of seconds such as 5s, or 0" },
	{ "task_delayacct", set_bool, FIELD(task_delayacct), "yes or no" },
	{ "manage_ksm", set_bool, FIELD(manage_ksm), "yes or no" },
	{ "manage_thp", set_bool, FIELD(manage_thp), "yes or no" },
	{ "manage_hard_limit", set_bool, FIELD(manage_hard_limit), "yes or no" },
};

static void
daemon_set(struct parse_ctx *ctx, const char *key, const char *value)
{
	const struct daemon_key *k = NULL;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(daemon_keys); i++) {
		if (strcmp(daemon_keys[i].name, key) == 0) {
			k = &daemon_keys[i];
			break;
		}
	}
	if (k == NULL) {
		ctx_error(ctx, ctx->lineno, "unknown key '%s' in [daemon]", key);
		return;
	}
	if ((rc = k->set(ctx, k, value)) == 0)
		return;
	if (rc == -ENOENT && k->set == set_group)
		ctx_error(ctx, ctx->lineno,
		    "[daemon] %s: no group named \"%s\"", key, value);
	else if (rc == -ENAMETOOLONG)
		ctx_error(ctx, ctx->lineno, "[daemon] %s: \"%s\" is too long "
		    "(at most %zu bytes)", key, value, k->size - 1);
	else
		ctx_error(ctx, ctx->lineno, "[daemon] %s: \"%s\" is not %s%s",
		    key, value, k->hint, rc == -ERANGE ? " (out of range)" : "");
}

/* ------------------------------------------------------ [guest NAME] */

static int
guest_cmp(const void *a, const void *b)
{
	return strcmp(((const struct config_guest *)a)->name,
	    ((const struct config_guest *)b)->name);
}

static void
guest_input_init(struct guest_input *in)
{
	in->floor_kib = MT_ABSENT;
	in->ceiling_kib = MT_ABSENT;
	in->shares = MT_ABSENT;
	in->exclude = false;
	in->floor_src = SRC_DEFAULT;
	in->ceiling_src = SRC_DEFAULT;
	in->shares_src = SRC_DEFAULT;
	in->exclude_src = SRC_DEFAULT;
}

/* Start (or continue, for a repeated header) the section of one guest. */
static int
guest_open(struct parse_ctx *ctx, const char *name, int line)
{
	struct mt_config *cfg = ctx->cfg;
	struct config_guest *g;
	size_t i;

	for (i = 0; i < cfg->nr_guests; i++) {
		if (strcmp(cfg->guests[i].name, name) == 0) {
			ctx->guest = i;
			return 0;
		}
	}
	g = reallocarray(cfg->guests, cfg->nr_guests + 1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	cfg->guests = g;
	g = &cfg->guests[cfg->nr_guests];
	memset(g, 0, sizeof(*g));
	mt_strlcpy(g->name, name, sizeof(g->name));
	g->line = line;
	guest_input_init(&g->input);
	ctx->guest = cfg->nr_guests++;
	return 0;
}

static void
guest_set(struct parse_ctx *ctx, const char *key, const char *value)
{
	struct config_guest *g = &ctx->cfg->guests[ctx->guest];
	struct guest_input *in = &g->input;
	const char *hint;
	int64_t v;
	bool b;
	int rc;

	if (strcmp(key, "floor") == 0 || strcmp(key, "ceiling") == 0) {
		hint = "a size such as 512M or 2G";
		if ((rc = mt_parse_size_kib(value, &v)) == 0 && v <= 0)
			rc = -ERANGE;
		if (rc == 0) {
			if (key[0] == 'f') {
				in->floor_kib = v;
				in->floor_src = SRC_CONFIG;
			} else {
				in->ceiling_kib = v;
				in->ceiling_src = SRC_CONFIG;
			}
			return;
		}
	} else if (strcmp(key, "shares") == 0) {
		/* the same range as [policy] default_shares */
		hint = "a whole number from 1 to 1000000";
		if ((rc = mt_parse_int64(value, &v)) == 0 &&
		    (v < 1 || v > 1000000))
			rc = -ERANGE;
		if (rc == 0) {
			in->shares = v;
			in->shares_src = SRC_CONFIG;
			return;
		}
	} else if (strcmp(key, "exclude") == 0) {
		hint = "yes or no";
		if ((rc = mt_parse_bool(value, &b)) == 0) {
			in->exclude = b;
			in->exclude_src = SRC_CONFIG;
			return;
		}
	} else {
		ctx_error(ctx, ctx->lineno, "unknown key '%s' in [guest %s]",
		    key, g->name);
		return;
	}
	ctx_error(ctx, ctx->lineno, "[guest %s] %s: \"%s\" is not %s%s",
	    g->name, key, value, hint, rc == -ERANGE ? " (out of range)" : "");
}

const struct guest_input *
config_guest_input(const struct mt_config *cfg, const char *name)
{
	struct config_guest key;
	const struct config_guest *g;

	if (cfg->nr_guests == 0 || strlen(name) >= sizeof(key.name))
		return NULL;
	mt_strlcpy(key.name, name, sizeof(key.name));
	g = bsearch(&key, cfg->guests, cfg->nr_guests, sizeof(*cfg->guests),
	    guest_cmp);
	return g != NULL ? &g->input : NULL;
}

enum config_meta_exclude
config_metadata_exclude(const struct mt_config *cfg, const char *name)
{
	const struct guest_input *conf = config_guest_input(cfg, name);

	if (conf != NULL && conf->exclude_src == SRC_CONFIG)
		return META_EXCLUDE_CONF_WINS;
	switch (cfg->policy.metadata_mode) {
	case METADATA_TRUST:
		return META_EXCLUDE_FOLLOWED;
	case METADATA_IGNORE:
		return META_EXCLUDE_IGNORED;
	case METADATA_BOUNDED:
		break;
	}
	return cfg->policy.metadata_exclude ? META_EXCLUDE_FOLLOWED :
	    META_EXCLUDE_BOUNDED;
}

bool
config_guest_override(const struct mt_config *cfg, const char *name,
    struct guest_override *out)
{
	const struct guest_input *in = config_guest_input(cfg, name);

	guest_override_init(out);
	if (in == NULL)
		return false;
	if (in->floor_src == SRC_CONFIG)
		out->floor_kib = in->floor_kib;
	if (in->ceiling_src == SRC_CONFIG)
		out->ceiling_kib = in->ceiling_kib;
	if (in->shares_src == SRC_CONFIG)
		out->shares = in->shares;
	if (in->exclude_src == SRC_CONFIG)
		out->exclude = in->exclude ? 1 : 0;
	return true;
}

/* ------------------------------------------------------------ sections */

/* Classify a section header's text and open a guest section. */
static void
section_open(struct parse_ctx *ctx, const char *name, int line)
{
	const char *p;
	char gname[MT_NAME_MAX];
	size_t n;

	mt_strlcpy(ctx->section, name, sizeof(ctx->section));
	if (strcmp(name, "daemon") == 0) {
		ctx->kind = SEC_DAEMON;
		return;
	}
	if (strcmp(name, "policy") == 0 || strcmp(name, "ksm") == 0 ||
	    strcmp(name, "thp") == 0) {
		ctx->kind = SEC_POLICY;
		return;
	}
	ctx->kind = SEC_BAD;
	if (strncmp(name, "guest", 5) != 0 ||
	    (name[5] != '\0' && !isspace((unsigned char)name[5]))) {
		ctx_error(ctx, line, "unknown section [%s] (known: daemon, "
		    "policy, ksm, thp, guest NAME)", name);
		return;
	}
	p = name + 5;
	while (isspace((unsigned char)*p))
		p++;
	n = strlen(p);
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	} else if (memchr(p, '"', n) != NULL) {
		ctx_error(ctx, line, "[%s]: write the guest name bare or in "
		    "double quotes: [guest NAME] or [guest \"NAME\"]", name);
		return;
	}
	if (n == 0) {
		ctx_error(ctx, line, "[%s]: the guest name is missing", name);
		return;
	}
	if (n >= sizeof(gname)) {
		ctx_error(ctx, line, "[guest ...]: the guest name is longer "
		    "than %zu bytes", sizeof(gname) - 1);
		return;
	}
	memcpy(gname, p, n);
	gname[n] = '\0';
	if (guest_open(ctx, gname, line) < 0) {
		ctx->nomem = true;
		return;
	}
	snprintf(ctx->section, sizeof(ctx->section), "guest %s", gname);
	ctx->kind = SEC_GUEST;
}

/* ------------------------------------------------------ reader, handler */

/* A section header line (start, len: trimmed) at `line`: opens its
 * section, 0; or -EINVAL, reported, and what follows is in no section
 * until the next header. */
static int
ctx_header(struct parse_ctx *ctx, const char *start, size_t len, int line)
{
	char name[sizeof(ctx->section)];
	const char *close = memchr(start, ']', len), *p;
	size_t n;

	if (close == NULL) {
		ctx_error(ctx, line, "section header without ']'");
		ctx->kind = SEC_BAD;
		return -EINVAL;
	}
	for (p = close + 1; p < start + len; p++) {
		if (*p == ';' || *p == '#')
			break;
		if (!isspace((unsigned char)*p)) {
			ctx_error(ctx, line, "text after ']' in a section "
			    "header");
			ctx->kind = SEC_BAD;
			return -EINVAL;
		}
	}
	/* inih ends a header at an inline ';' */
	if (memchr(start, ';', (size_t)(close - start)) != NULL) {
		ctx_error(ctx, line, "';' in a section name");
		ctx->kind = SEC_BAD;
		return -EINVAL;
	}
	p = start + 1;
	while (p < close && isspace((unsigned char)*p))
		p++;
	n = (size_t)(close - p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= sizeof(name)) {
		ctx_error(ctx, line, "section name too long");
		ctx->kind = SEC_BAD;
		return -EINVAL;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	section_open(ctx, name, line);
	return 0;
}

/* inih reads through this, one line per call: it counts lines (the
 * library build has no line numbers in the handler), strips leading
 * blanks (so an indented key is a key, not a continuation of the one
 * before), and catches what inih would only report as a line number. */
static char *
ctx_reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	const char *start = ctx->pos, *eol;
	size_t len;
	int line;

	if (*start == '\0')
		return NULL;
	eol = strchr(start, '\n');
	if (eol == NULL)
		eol = start + strlen(start);
	ctx->pos = *eol == '\n' ? eol + 1 : eol;
	line = ++ctx->lineno;

	if (line == 1 && strncmp(start, "\xef\xbb\xbf", 3) == 0)
		start += 3;
	while (start < eol && (*start == ' ' || *start == '\t'))
		start++;
	len = (size_t)(eol - start);
	while (len > 0 && isspace((unsigned char)start[len - 1]))
		len--;
	str[0] = '\0';
	if (len == 0 || *start == ';' || *start == '#')
		return str;
	if (len + 2 > (size_t)num) {
		ctx_error(ctx, line, "line too long (%zu characters, at most %d)",
		    len, num - 2);
		/* keys after this line would land in a section we did not
		 * see: treat the rest as unknown until the next header */
		if (*start == '[')
			ctx->kind = SEC_BAD;
		return str;
	}
	if (*start == '[') {
		/* inih still needs to see a header to stay in step */
		if (ctx_header(ctx, start, len, line) == 0)
			memcpy(str, "[s]\n", 5);
		return str;
	}
	if (memchr(start, '=', len) == NULL && memchr(start, ':', len) == NULL) {
		ctx_error(ctx, line, "expected 'key = value', got \"%.*s\"",
		    (int)MIN(len, 60), start);
		return str;
	}
	if (*start == '=' || *start == ':') {
		ctx_error(ctx, line, "a value without a key");
		return str;
	}
	memcpy(str, start, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static const struct seen_key *
seen_find(const struct parse_ctx *ctx, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ctx->nr_seen; i++)
		if (strcmp(ctx->seen[i].section, section) == 0 &&
		    strcmp(ctx->seen[i].key, key) == 0)
			return &ctx->seen[i];
	return NULL;
}

static int
seen_add(struct parse_ctx *ctx, const char *section, const char *key, int line)
{
	struct seen_key *s;

	if (ctx->nr_seen == ctx->cap_seen) {
		size_t ncap = ctx->cap_seen ? ctx->cap_seen * 2 : 32;

		s = reallocarray(ctx->seen, ncap, sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		ctx->seen = s;
		ctx->cap_seen = ncap;
	}
	s = &ctx->seen[ctx->nr_seen];
	s->section = strdup(section);
	s->key = strdup(key);
	if (s->section == NULL || s->key == NULL) {
		free(s->section);
		free(s->key);
		return -ENOMEM;
	}
	s->line = line;
	ctx->nr_seen++;
	return 0;
}

static void
seen_free(struct parse_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nr_seen; i++) {
		free(ctx->seen[i].section);
		free(ctx->seen[i].key);
	}
	free(ctx->seen);
	ctx->seen = NULL;
	ctx->nr_seen = ctx->cap_seen = 0;
}

/* the line a key was set on, 0 when it kept its default */
static int
key_line(const struct parse_ctx *ctx, const char *section, const char *key)
{
	const struct seen_key *s;

	if (ctx == NULL)
		return 0;
	s = seen_find(ctx, section, key);
	return s != NULL ? s->line : 0;
}

static int
ctx_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct parse_ctx *ctx = user;
	const struct seen_key *dup;
	char msg[CONFIG_MSG_MAX];
	int rc;

	(void)section;		/* inih's copy may be cut; ours is whole */
	switch (ctx->kind) {
	case SEC_NONE:
		ctx_error(ctx, ctx->lineno, "key '%s' before any [section]", key);
		return 1;
	case SEC_BAD:
		return 1;
	default:
		break;
	}
	if ((dup = seen_find(ctx, ctx->section, key)) != NULL) {
		ctx_error(ctx, ctx->lineno, "'%s' in [%s] is set twice (first "
		    "on line %d)", key, ctx->section, dup->line);
		return 1;
	}
	if (*value == '\0') {
		ctx_error(ctx, ctx->lineno, "[%s] %s: empty value", ctx->section,
		    key);
		return 1;
	}
	switch (ctx->kind) {
	case SEC_DAEMON:
		daemon_set(ctx, key, value);
		break;
	case SEC_POLICY:
		msg[0] = '\0';
		rc = policy_config_set(&ctx->cfg->policy, ctx->section, key,
		    value, msg, sizeof(msg));
		if (rc == -ENOENT)
			ctx_error(ctx, ctx->lineno, "unknown key '%s' in [%s]",
			    key, ctx->section);
		else if (rc < 0)
			ctx_error(ctx, ctx->lineno, "%s", msg[0] ? msg :
			    "bad value");
		break;
	case SEC_GUEST:
		guest_set(ctx, key, value);
		break;
	default:
		break;
	}
	if (seen_add(ctx, ctx->section, key, ctx->lineno) < 0)
		ctx->nomem = true;
	return 1;
}

/* ------------------------------------------------------------ validate */

static void
validate(struct mt_config *cfg, struct parse_ctx *ctx)
{
	char msg[CONFIG_MSG_MAX];
	size_t i;

#define LINE(sec, key) key_line(ctx, sec, key)
	if (cfg->interval_min_ms < 100)
		ctx_error(ctx, LINE("daemon", "interval_min"), "[daemon] "
		    "interval_min must be at least 100ms");
	if (cfg->interval_max_ms > 3600000)
		ctx_error(ctx, LINE("daemon", "interval_max"), "[daemon] "
		    "interval_max must be at most 1h");
	if (cfg->interval_ms < cfg->interval_min_ms ||
	    cfg->interval_ms > cfg->interval_max_ms)
		ctx_error(ctx, MAX(LINE("daemon", "interval"),
		    MAX(LINE("daemon", "interval_min"),
		    LINE("daemon", "interval_max"))),
		    "[daemon] need interval_min <= interval <= interval_max "
		    "(%lldms, %lldms, %lldms)", (long long)cfg->interval_min_ms,
		    (long long)cfg->interval_ms, (long long)cfg->interval_max_ms);
	if (cfg->burst_watch_ms != 0 && (cfg->burst_watch_ms < 50 ||
	    cfg->burst_watch_ms > 10000))
		ctx_error(ctx, LINE("daemon", "burst_watch"), "[daemon] "
		    "burst_watch must be off or from 50ms to 10s");
	if (cfg->psi_threshold_us > 0) {
		if (cfg->psi_window_us < PSI_WINDOW_MIN_US ||
		    cfg->psi_window_us > PSI_WINDOW_MAX_US)
			ctx_error(ctx, LINE("daemon", "psi_window"), "[daemon] "
			    "psi_window must be from 500ms to 10s (the "
			    "kernel's bounds)");
		else if (cfg->psi_threshold_us >= cfg->psi_window_us)
			ctx_error(ctx, MAX(LINE("daemon", "psi_threshold"),
			    LINE("daemon", "psi_window")), "[daemon] "
			    "psi_threshold must be below psi_window");
	}
	if (cfg->deflate_to_pmy <= 0)
		ctx_error(ctx, LINE("daemon", "deflate_to"), "[daemon] "
		    "deflate_to must be above 0%%");
	if (cfg->stats_period_s < 0 || cfg->stats_period_s > 3600)
		ctx_error(ctx, LINE("daemon", "stats_period"), "[daemon] "
		    "stats_period must be from 0 (leave alone) to 1h");
	if (cfg->act_interval_ms < 0 || cfg->act_interval_ms > 3600000)
		ctx_error(ctx, LINE("daemon", "act_interval"), "[daemon] "
		    "act_interval must be off or at most 1h");
	if (cfg->policy.metadata_floor_max_pmy <= 0)
		ctx_error(ctx, LINE("daemon", "metadata_floor_max"), "[daemon] "
		    "metadata_floor_max must be above 0%% (a floor of 0 would "
		    "leave the guest alone; metadata = ignore drops metadata "
		    "floors)");
	if (cfg->control_socket[0] != '/')
		ctx_error(ctx, LINE("daemon", "control_socket"), "[daemon] "
		    "control_socket must be an absolute path");
	if (cfg->metrics_textfile[0] != '\0') {
		size_t n = strlen(cfg->metrics_textfile);

		/* node_exporter's textfile collector reads only *.prom */
		if (n < 6 || strcmp(cfg->metrics_textfile + n - 5, ".prom") != 0)
			ctx_error(ctx, LINE("daemon", "metrics_textfile"),
			    "[daemon] metrics_textfile must end in .prom "
			    "(node_exporter reads no other name)");
	}

	msg[0] = '\0';
	if (policy_config_validate(&cfg->policy, msg, sizeof(msg)) < 0)
		ctx_error(ctx, 0, "%s", msg[0] ? msg : "[policy] invalid");

	for (i = 0; i < cfg->nr_guests; i++) {
		const struct config_guest *g = &cfg->guests[i];

		if (MT_PRESENT(g->input.floor_kib) &&
		    MT_PRESENT(g->input.ceiling_kib) &&
		    g->input.floor_kib > g->input.ceiling_kib)
			ctx_error(ctx, g->line, "[guest %s] floor (%lld KiB) is "
			    "above ceiling (%lld KiB)", g->name,
			    (long long)g->input.floor_kib,
			    (long long)g->input.ceiling_kib);
	}
#undef LINE
}

/* The [daemon] master switches win over the policy's own keys: with one
 * off, the policy does not even plan it. */
static void
apply_master_switches(struct mt_config *cfg)
{
	if (!cfg->manage_ksm)
		cfg->policy.ksm_manage = false;
	if (!cfg->manage_thp)
		cfg->policy.thp_manage = false;
	if (!cfg->manage_hard_limit)
		cfg->policy.hard_limit_mode = HARD_LIMIT_OFF;
}

int
config_validate(struct mt_config *cfg, char *err, size_t errlen)
{
	struct parse_ctx ctx = {
		.cfg = cfg, .source = cfg->source, .err = err, .errlen = errlen,
	};

	if (errlen > 0)
		err[0] = '\0';
	validate(cfg, &ctx);
	ctx_finish_errors(&ctx);
	if (ctx.nerrors > 0)
		return -EINVAL;
	apply_master_switches(cfg);
	return 0;
}

/* ---------------------------------------------------------------- load */

int
config_load_string(const char *text, const char *source, struct mt_config *out,
    char *err, size_t errlen)
{
	struct parse_ctx ctx;
	int rc, r;

	config_defaults(out);
	mt_strlcpy(out->source, source, sizeof(out->source));
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = out;
	ctx.source = out->source;
	ctx.pos = text;
	ctx.err = err;
	ctx.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';

	r = ini_parse_stream(ctx_reader, &ctx, ctx_handler, &ctx);
	if (ctx.nomem) {
		rc = -ENOMEM;
		goto out;
	}
	/* the reader screens every line inih could reject; one it still
	 * rejects is reported as is */
	if (r > 0 && ctx.nerrors == 0)
		ctx_error(&ctx, r, "syntax error");
	else if (r < 0)
		ctx_error(&ctx, 0, "parser error %d", r);
	validate(out, &ctx);
	ctx_finish_errors(&ctx);
	if (ctx.nerrors > 0) {
		rc = -EINVAL;
		goto out;
	}
	apply_master_switches(out);
	if (out->nr_guests > 1)
		qsort(out->guests, out->nr_guests, sizeof(*out->guests),
		    guest_cmp);
	rc = 0;
out:
	seen_free(&ctx);
	if (rc < 0) {
		config_free(out);
		config_defaults(out);
		if (rc == -ENOMEM && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", source);
	}
	return rc;
}

int
config_load_file(const char *path, struct mt_config *out, char *err,
    size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t off = 0;
	ssize_t r;
	int fd = -1, rc;

	config_defaults(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes is too large for a "
		    "configuration file (at most %d)", path,
		    (long long)st.st_size, CONFIG_FILE_MAX);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, text + off, (size_t)st.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	text[off] = '\0';
	if (strlen(text) != off) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	rc = config_load_string(text, path, out, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}
