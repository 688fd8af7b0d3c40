/* journal_fixture.h - a journald stand-in for unit tests: a /run of the
 * test's own and a datagram socket where journald's is. */
#ifndef MEMTUNED_JOURNAL_FIXTURE_H
#define MEMTUNED_JOURNAL_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* The journal's socket is at a fixed path: this test process gets a /run
 * of its own, so no journald on the machine takes what it logs, and a
 * socket of the test's own can stand in for it. Each test runs in a child
 * of the runner; the host's /run is untouched. */
static inline void
private_run(void)
{
	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s (the unit tests "
	    "run as root)", strerror(errno));
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "size=1m"), 0);
}

/* A datagram socket where journald's would be; its fd. */
static inline int
fake_journal(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
	ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
	mt_strlcpy(sa.sun_path, "/run/systemd/journal/socket",
	    sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The next record the fake journal holds, NUL-terminated; 0 when none. */
static inline ssize_t
fake_journal_next(int fd, char *rec, size_t len)
{
	ssize_t n = recv(fd, rec, len - 1, MSG_DONTWAIT);

	rec[n > 0 ? n : 0] = '\0';
	return n > 0 ? n : 0;
}

/* Does the record hold this exact line? */
static inline bool
journal_has(const char *rec, const char *line)
{
	size_t l = strlen(line);

	for (const char *p = rec; (p = strstr(p, line)) != NULL; p++)
		if ((p == rec || p[-1] == '\n') &&
		    (p[l] == '\n' || p[l] == '\0'))
			return true;
	return false;
}

#endif
