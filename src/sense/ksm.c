/* ksm.c - see ksm.h */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm.h"

/* PF_KTHREAD from include/linux/sched.h: tells the real ksmd from a user
 * process that renamed itself. */
#define KSM_PF_KTHREAD 0x00200000u

/* /proc/<pid>/stat is one line of 52 fields, under 400 bytes even with a
 * 64-byte comm and every counter at 20 digits. */
#define KSM_STAT_BUF_SIZE 1024
/* advisor_mode: "[none] scan-time\n" */
#define KSM_SEL_BUF_SIZE 128

static const struct ksm_file {
	const char *name;
	size_t off;
	bool may_be_negative;
} ksm_files[] = {
#define R(n) { #n, offsetof(struct host_ksm, n), false }
	R(run),
	R(pages_to_scan),
	R(sleep_millisecs),
	R(pages_shared),
	R(pages_sharing),
	R(pages_unshared),
	R(pages_volatile),
	R(pages_skipped),
	R(full_scans),
	R(pages_scanned),
	{ "general_profit", offsetof(struct host_ksm, general_profit), true },
	R(ksm_zero_pages),
	R(max_page_sharing),
	R(merge_across_nodes),
	R(use_zero_pages),
	R(smart_scan),
	R(stable_node_chains),
	R(stable_node_dups),
	R(advisor_target_scan_time),
	R(advisor_max_cpu),
	R(advisor_min_pages_to_scan),
	R(advisor_max_pages_to_scan),
#undef R
};

static int64_t *
ksm_slot(struct host_ksm *k, const struct ksm_file *f)
{
	return (int64_t *)(void *)((char *)k + f->off);
}

int
ksm_read(struct host_ksm *out, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[KSM_SEL_BUF_SIZE];
	struct stat st;
	ssize_t n;
	long ps;
	int rc;

	out->present = false;
	out->advisor_mode[0] = '\0';
	out->page_kib = MT_ABSENT;
	for (size_t i = 0; i < ARRAY_SIZE(ksm_files); i++)
		*ksm_slot(out, &ksm_files[i]) = MT_ABSENT;

	if ((rc = mt_path(path, sizeof(path), KSM_DIR)) < 0) {
		snprintf(err, errlen, "%s: path too long", KSM_DIR);
		return rc;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	out->present = true;
	/* pages_* count base pages: 4 KiB on x86, 64 KiB on some arm64
	 * and ppc64le hosts */
	ps = sysconf(_SC_PAGESIZE);
	out->page_kib = ps >= 1024 ? ps / 1024 : MT_ABSENT;

	for (size_t i = 0; i < ARRAY_SIZE(ksm_files); i++) {
		const struct ksm_file *f = &ksm_files[i];
		int64_t *slot;

		slot = ksm_slot(out, f);
		snprintf(path, sizeof(path), "%s%s", KSM_DIR, f->name);
		rc = mt_read_int64(path, slot);
		if (rc == -ENOENT) {
			*slot = MT_ABSENT;
			continue;
		}
		if (rc < 0 || (*slot < 0 && !f->may_be_negative)) {
			*slot = MT_ABSENT;
			snprintf(err, errlen, "%s: %s", path, rc < 0 ?
			    (rc == -EINVAL || rc == -ERANGE ?
			    "not an integer" : strerror(-rc)) : "negative");
			return rc < 0 ? rc : -EINVAL;
		}
	}

	n = mt_read_file(KSM_DIR "advisor_mode", buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		snprintf(err, errlen, "%sadvisor_mode: %s", KSM_DIR,
		    strerror((int)-n));
		return (int)n;
	}
	if (mt_sysfs_choice(buf, out->advisor_mode,
	    sizeof(out->advisor_mode)) < 0) {
		out->advisor_mode[0] = '\0';
		snprintf(err, errlen, "%sadvisor_mode: no single [choice] in "
		    "\"%.*s\"", KSM_DIR, (int)strcspn(buf, "\n"), buf);
		return -EINVAL;
	}
	return 0;
}

/* Parse /proc/<pid>/stat text: comm, flags, utime, stime (in ticks). */
static int
ksm_parse_stat(const char *buf, char *comm, size_t commlen,
    uint64_t *flags, uint64_t *ticks)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	const char *p;
	uint64_t utime = 0, stime = 0;
	size_t n;

	if (open == NULL || close == NULL || close < open)
		return -EINVAL;
	/* comm may hold blanks and parentheses: it ends at the last ')' */
	n = (size_t)(close - open - 1);
	if (n >= commlen)
		n = commlen - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';

	/* after ')': state(3) ppid pgrp session tty_nr tpgid flags(9)
	 * minflt cminflt majflt cmajflt utime(14) stime(15) */
	p = close + 1;
	for (int field = 3; field <= 15; field++) {
		char *end;
		unsigned long long v;

		if (*p != ' ')
			return -EINVAL;
		p++;
		if (field == 3) {
			if (!isalpha((unsigned char)*p))
				return -EINVAL;
			p++;
			continue;
		}
		errno = 0;
		if (*p == '-' && field != 7 && field != 8)
			return -EINVAL;
		v = strtoull(p, &end, 10);
		if (end == p || errno == ERANGE)
			return -EINVAL;
		p = end;
		if (field == 9)
			*flags = v;
		else if (field == 14)
			utime = v;
		else if (field == 15)
			stime = v;
	}
	if (utime > UINT64_MAX / 2 || stime > UINT64_MAX / 2)
		return -EINVAL;
	*ticks = utime + stime;
	return 0;
}

int
ksmd_read_cpu_ms(int64_t pid, int64_t *cpu_ms, char *err, size_t errlen)
{
	char path[64], buf[KSM_STAT_BUF_SIZE], comm[64];
	uint64_t flags = 0, ticks = 0;
	static long clk_tck;
	ssize_t n;

	if (clk_tck <= 0 && (clk_tck = sysconf(_SC_CLK_TCK)) <= 0) {
		snprintf(err, errlen, "sysconf(_SC_CLK_TCK): %s",
		    strerror(errno));
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	n = mt_read_file(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, n == -EFBIG ?
		    "larger than expected" : strerror((int)-n));
		return (int)n;
	}
	if (ksm_parse_stat(buf, comm, sizeof(comm), &flags, &ticks) < 0) {
		snprintf(err, errlen, "%s: malformed stat line", path);
		return -EINVAL;
	}
	/* the pid was reused by something else */
	if (strcmp(comm, "ksmd") != 0 || !(flags & KSM_PF_KTHREAD))
		return -ESRCH;
	if (ticks > (uint64_t)INT64_MAX / 1000) {
		snprintf(err, errlen, "%s: utime+stime: value out of range",
		    path);
		return -EINVAL;
	}
	*cpu_ms = (int64_t)(ticks * 1000 / (uint64_t)clk_tck);
	return 0;
}

int
ksmd_find_pid(int64_t *pid_out)
{
	char path[PATH_MAX], buf[32];
	struct dirent *de;
	DIR *d;
	int rc = -ESRCH;

	if (mt_path(path, sizeof(path), "/proc") < 0)
		return -ENAMETOOLONG;
	if ((d = opendir(path)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char sub[64], e[8];
		int64_t pid, ms;

		if (!isdigit((unsigned char)de->d_name[0]) ||
		    mt_parse_int64(de->d_name, &pid) < 0 || pid <= 0)
			continue;
		snprintf(sub, sizeof(sub), "/proc/%lld/comm", (long long)pid);
		if (mt_read_file(sub, buf, sizeof(buf)) < 0 ||
		    strcmp(buf, "ksmd\n") != 0)
			continue;
		/* confirm it is the kernel thread (and readable) */
		if (ksmd_read_cpu_ms(pid, &ms, e, sizeof(e)) < 0)
			continue;
		*pid_out = pid;
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

void
ksmd_tracker_init(struct ksmd_tracker *t)
{
	t->pid = MT_ABSENT;
}

int
ksmd_sample(struct ksmd_tracker *t, int64_t *pid, int64_t *cpu_ms,
    char *err, size_t errlen)
{
	int rc;

	*pid = *cpu_ms = MT_ABSENT;
	if (MT_PRESENT(t->pid)) {
		rc = ksmd_read_cpu_ms(t->pid, cpu_ms, err, errlen);
		if (rc != -ESRCH) {
			if (rc == 0)
				*pid = t->pid;
			return rc;
		}
		/* vanished: find it again */
		t->pid = MT_ABSENT;
	}
	if ((rc = ksmd_find_pid(&t->pid)) < 0) {
		t->pid = MT_ABSENT;
		return rc;
	}
	if ((rc = ksmd_read_cpu_ms(t->pid, cpu_ms, err, errlen)) < 0)
		return rc;
	*pid = t->pid;
	return 0;
}
