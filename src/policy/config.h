/* config.h - /etc/memtuned/memtuned.conf.
 *
 * The struct starts from config_defaults(), inih feeds it key by key, and a
 * validate pass checks what ties keys together. [policy], [ksm] and [thp]
 * keys go to policy_config_set(); [guest NAME] (or [guest "NAME"]) sections
 * give per-guest floor, ceiling, shares and exclude.
 *
 * Every error names the file and line ("memtuned.conf:12: unknown key
 * 'flor' in [guest web1]"); unknown sections and keys are errors, and all
 * of them are reported, one per line, not only the first.
 *
 * Reload: load into a fresh struct and swap it in only on success:
 *
 *	struct mt_config next;
 *	if (config_load_file(path, &next, err, sizeof(err)) == 0)
 *		config_move(&cur, &next);
 *	else
 *		log_warnx("%s", err);	// cur is untouched
 */
#ifndef MEMTUNED_CONFIG_H
#define MEMTUNED_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domxml.h"
#include "policy.h"
#include "snapshot.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/memtuned/memtuned.conf"

/* sizeof(sockaddr_un.sun_path) on Linux */
#define CONFIG_SOCKET_PATH_MAX 108

enum config_on_exit {
	ON_EXIT_LEAVE,			/* guests keep their balloon targets */
	ON_EXIT_DEFLATE,		/* give guests back deflate_to of max */
};

struct config_guest {
	char name[MT_NAME_MAX];
	int line;			/* of the section header */
	struct guest_input input;	/* src = SRC_CONFIG where set */
};

struct mt_config {
	char source[PATH_MAX];		/* file name used in messages */

	/* [daemon] */
	char uri[256];
	int64_t interval_ms;		/* first tick, and when unsure */
	int64_t interval_min_ms;	/* the policy's next interval is */
	int64_t interval_max_ms;	/*   clamped to min..max */
	bool dry_run;
	int log_level;			/* syslog priority, LOG_ERR..LOG_DEBUG */
	char control_socket[CONFIG_SOCKET_PATH_MAX];
	char control_group[64];		/* "" = root only */
	gid_t control_gid;		/* (gid_t)-1 = root only */
	char admin_group[64];		/* may act too; "" = root only */
	gid_t admin_gid;		/* (gid_t)-1 = root only */
	int64_t act_interval_ms;	/* one acting request per interval
					   from users other than root; 0 =
					   no limit */
	char metrics_listen[64];	/* "" = off; else "HOST:PORT" */
	char metrics_host[48];		/* IPv4 or IPv6 literal, no brackets */
	int metrics_port;
	char metrics_textfile[PATH_MAX];	/* "" = off */
	bool metrics_per_guest;		/* no: host, KSM, THP, capacity and
					   counters only */
	int64_t capacity_vm_kib;	/* metrics' reference guest size; 0 =
					   auto, as memtunectl capacity */
	int64_t psi_threshold_us;	/* 0 = no PSI trigger */
	int64_t psi_window_us;
	int64_t burst_watch_ms;		/* QEMU RSS read this often between
					   ticks; 0 = off */
	enum config_on_exit on_exit;
	int64_t deflate_to_pmy;		/* of each guest's max memory */
	bool restore_host_settings;	/* KSM/THP back as found, on exit */
	int64_t stats_period_s;		/* set on guests without; 0 = never */
	bool task_delayacct;		/* may turn kernel.task_delayacct on */
	bool manage_ksm;		/* master switches: off wins over */
	bool manage_thp;		/*   the [ksm]/[thp] manage keys and */
	bool manage_hard_limit;		/*   [policy] hard_limit */

	/* [policy], [ksm], [thp] */
	struct policy_config policy;

	/* [guest NAME], sorted by name */
	struct config_guest *guests;
	size_t nr_guests;
};

void config_defaults(struct mt_config *cfg);
void config_free(struct mt_config *cfg);
/* Free dst and move src into it; src is left with the defaults. */
void config_move(struct mt_config *dst, struct mt_config *src);

/* Parse into out (which need not be initialised). 0, or -EINVAL with every
 * problem in err, one per line; -ENOENT/-EACCES/... when the file cannot
 * be read, -EFBIG when it is absurdly large. On failure out holds the
 * defaults and owns nothing. */
int config_load_file(const char *path, struct mt_config *out, char *err,
    size_t errlen);
/* The same for text in memory; source names it in messages. */
int config_load_string(const char *text, const char *source,
    struct mt_config *out, char *err, size_t errlen);

/* Cross-field checks, for configs built in code (the simulator). Loading
 * runs the same checks and applies the master switches. */
int config_validate(struct mt_config *cfg, char *err, size_t errlen);

/* Does the daemon follow exclude="yes" in a guest's metadata (memtunectl
 * exclude)? Its [guest NAME] section wins, then [daemon] metadata. */
enum config_meta_exclude {
	META_EXCLUDE_FOLLOWED,
	META_EXCLUDE_CONF_WINS,		/* [guest NAME] sets exclude */
	META_EXCLUDE_IGNORED,		/* metadata = ignore */
	META_EXCLUDE_BOUNDED,		/* bounded, metadata_exclude = no */
};
enum config_meta_exclude config_metadata_exclude(const struct mt_config *cfg,
    const char *name);

/* The [guest NAME] section's values, or NULL when there is none. */
const struct guest_input *config_guest_input(const struct mt_config *cfg,
    const char *name);

/* The same as domxml's merge input: every field the section set, the
 * rest "not given". false (and *out all "not given") without a section. */
bool config_guest_override(const struct mt_config *cfg, const char *name,
    struct guest_override *out);

const char *config_on_exit_name(enum config_on_exit e);
const char *config_log_level_name(int level);

#endif
