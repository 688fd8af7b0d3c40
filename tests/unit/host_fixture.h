/* host_fixture.h - helpers shared by the host collector tests: the
 * captured fixture trees, and scratch trees built file by file. */
#ifndef MEMTUNED_HOST_FIXTURE_H
#define MEMTUNED_HOST_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Unit tests run from the top of the source tree (make unit). */
#define HT_FIXTURE_NEW "tests/fixtures/host-debian12-k6.18"
#define HT_FIXTURE_OLD "tests/fixtures/host-old-kernel"

static inline void
ht_use_fixture(const char *dir)
{
	ck_assert_msg(access(dir, R_OK) == 0,
	    "%s not found: run the unit tests from the source tree", dir);
	mt_set_root(dir);
}

/* A fresh scratch root under /tmp; the caller frees it with ht_rmtree. */
static inline void
ht_mkroot(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/mt-host-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Write `text` to root/rel, creating the parent directories. */
static inline void
ht_put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST,
		    "mkdir %s", path);
		*p = '/';
	}
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "fopen %s", path);
	fputs(text, f);
	fclose(f);
}

/* Fill root/rel with n bytes of valid-looking lines. */
static inline void
ht_put_big(const char *root, const char *rel, const char *line, size_t n)
{
	size_t ll = strlen(line), len = 0;
	char *buf = malloc(n + ll + 1);

	ck_assert_ptr_nonnull(buf);
	buf[0] = '\0';
	while (len < n) {
		memcpy(buf + len, line, ll + 1);
		len += ll;
	}
	ht_put(root, rel, buf);
	free(buf);
}

static inline int
ht_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
ht_rmtree(const char *root)
{
	nftw(root, ht_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Slurp a fixture file (for checking parsed values against its text). */
static inline void
ht_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "fopen %s", path);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

#endif
