/* psi.h - pressure stall information: /proc/pressure/memory and cgroup v2
 * memory.pressure files, and PSI triggers for the daemon's poll(). */
#ifndef MEMTUNED_PSI_H
#define MEMTUNED_PSI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snapshot.h"

#define PSI_MEMORY_PATH "/proc/pressure/memory"

/* Two lines of at most ~80 bytes each ("some avg10=100.00 avg60=100.00
 * avg300=100.00 total=<20 digits>"); 512 bytes leaves room for a third
 * line a later kernel might add. */
#define PSI_BUF_SIZE 512

/* The kernel's bounds for a trigger window, and the granularity it demands
 * from a writer without CAP_SYS_RESOURCE. */
#define PSI_WINDOW_MIN_US 500000
#define PSI_WINDOW_MAX_US 10000000
#define PSI_WINDOW_UNPRIV_US 2000000

/* Parse a pressure file: a "some" and a "full" line, each
 * "avg10=N.NN avg60=N.NN avg300=N.NN total=N". avg values become
 * per-myriad (integer parse, "12.34" -> 1234), total is in microseconds.
 * On success out->present is true. Errors are -EINVAL with a message
 * naming `file` and the field. psi_parse names the file "memory.pressure"
 * (the cgroup v2 file; callers that know the full path prefix it). */
int psi_parse_named(const char *file, const char *buf, struct host_psi *out,
    char *err, size_t errlen);
int psi_parse(const char *buf, struct host_psi *out, char *err,
    size_t errlen);

/* Read /proc/pressure/memory under the root prefix. A kernel without PSI
 * (no file, or psi=0: EOPNOTSUPP) is not an error: out->present is false
 * and 0 is returned. */
int psi_read(struct host_psi *out, char *err, size_t errlen);

/* Open a "some" memory stall trigger on `path` (under the root prefix):
 * open O_RDWR|O_NONBLOCK, write "some <threshold_us> <window_us>" with its
 * terminating NUL. When the kernel refuses with EINVAL and the window is
 * not a whole multiple of 2 s (a writer without CAP_SYS_RESOURCE), retry
 * once with the window rounded up to the next multiple of 2 s.
 * *window_used_us says which window the kernel took. The caller polls
 * *fd_out for POLLPRI and closes it. 0 or -errno (-EINVAL for arguments
 * outside the kernel's bounds). */
int psi_trigger_open(const char *path, int64_t threshold_us,
    int64_t window_us, int *fd_out, int64_t *window_used_us);

/* The same with the write(2) call replaced, so the fallback can be tested
 * on files that would accept any write. */
typedef ssize_t (*psi_write_fn)(int fd, const void *buf, size_t len);
int psi_trigger_open_with(psi_write_fn wr, const char *path,
    int64_t threshold_us, int64_t window_us, int *fd_out,
    int64_t *window_used_us);

#endif
