/* smaps.c - see smaps.h */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smaps.h"
#include "util.h"

/* A mapping's first line: "start-end perms offset dev inode [path]",
 * addresses in lower-case hex. 1 with its size and whether it is guest
 * RAM-like (writable, not executable), 0 for another line, -EINVAL for
 * a mapping line that does not parse. */
static int
map_header(const char *line, int64_t *size_kib, bool *rw_data)
{
	unsigned long long lo, hi;
	char *end;

	if (!isxdigit((unsigned char)line[0]) || isupper((unsigned char)line[0]))
		return 0;
	errno = 0;
	lo = strtoull(line, &end, 16);
	if (*end != '-')
		return 0;
	hi = strtoull(end + 1, &end, 16);
	if (errno != 0 || *end != ' ' || hi < lo || strlen(end + 1) < 4)
		return -EINVAL;
	*size_kib = (int64_t)((hi - lo) / 1024);
	*rw_data = end[2] == 'w' && end[3] != 'x';
	return 1;
}

/* "Rss:   1234 kB" -> 1234; -EINVAL when it does not read so. */
static int
rss_line(const char *line, int64_t *kib)
{
	const char *p = line + 4;

	while (*p == ' ' || *p == '\t')
		p++;
	if (mt_scan_u64(&p, kib) < 0 || strncmp(p, " kB", 3) != 0)
		return -EINVAL;
	return 0;
}

static bool
is_ram_size(int64_t size_kib, const int64_t *sizes_kib, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sizes_kib[i] > 0 && sizes_kib[i] == size_kib)
			return true;
	return false;
}

int
smaps_scan(FILE *f, const int64_t *sizes_kib, size_t n, struct smaps_ram *out)
{
	char *line = NULL;
	size_t cap = 0;
	bool in_map = false, ram = false, rw;
	int64_t size, kib;
	int rc = 0, h;

	out->ram_rss_kib = out->all_rss_kib = 0;
	out->ram_maps = 0;
	while (getline(&line, &cap, f) >= 0) {
		if ((h = map_header(line, &size, &rw)) < 0) {
			rc = h;
			break;
		}
		if (h == 1) {
			in_map = true;
			ram = rw && is_ram_size(size, sizes_kib, n);
			continue;
		}
		if (strncmp(line, "Rss:", 4) != 0)
			continue;
		if (!in_map || rss_line(line, &kib) < 0) {
			rc = -EINVAL;
			break;
		}
		out->all_rss_kib += kib;
		if (ram) {
			out->ram_rss_kib += kib;
			out->ram_maps++;
		}
		in_map = false;
	}
	free(line);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	return rc;
}

int
smaps_read_pid(int64_t pid, const int64_t *sizes_kib, size_t n,
    struct smaps_ram *out)
{
	char rel[64], full[PATH_MAX];
	FILE *f;
	int rc;

	if (!MT_PRESENT(pid) || pid <= 0 || pid > INT32_MAX)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "/proc/%" PRId64 "/smaps", pid);
	if ((rc = mt_path(full, sizeof(full), rel)) < 0)
		return rc;
	if ((f = fopen(full, "re")) == NULL)
		return -errno;
	rc = smaps_scan(f, sizes_kib, n, out);
	fclose(f);
	return rc;
}
