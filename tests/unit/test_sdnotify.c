/* test_sdnotify.c - notify datagrams to path and abstract sockets, and the
 * watchdog variables. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

Suite *sdnotify_suite(void);

/* Bind a datagram socket to name ('@' = abstract) and point NOTIFY_SOCKET
 * at it. */
static int
listen_on(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	size_t n = strlen(name);
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@') {
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		len = (socklen_t)sizeof(sun);
	}
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	return fd;
}

static void
expect_msg(int fd, const char *want_prefix)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, want_prefix, strlen(want_prefix)) == 0,
	    "got '%s', want prefix '%s'", buf, want_prefix);
}

START_TEST(test_path_socket)
{
	char dir[] = "/tmp/mt-sdn-XXXXXX", path[128];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_on(path);

	ck_assert_int_eq(sdnotify_ready("up, 3 guests"), 1);
	expect_msg(fd, "READY=1\nSTATUS=up, 3 guests");
	ck_assert_int_eq(sdnotify_reloading(), 1);
	expect_msg(fd, "RELOADING=1\nMONOTONIC_USEC=");
	ck_assert_int_eq(sdnotify_watchdog(), 1);
	expect_msg(fd, "WATCHDOG=1");
	ck_assert_int_eq(sdnotify_status("tick %d", 7), 1);
	expect_msg(fd, "STATUS=tick 7");
	ck_assert_int_eq(sdnotify_stopping(), 1);
	expect_msg(fd, "STOPPING=1");

	close(fd);
	unlink(path);
	/* the listener is gone: the error comes back, nothing is hidden */
	ck_assert_int_eq(sdnotify_watchdog(), -ENOENT);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@memtuned-test-%d", (int)getpid());
	fd = listen_on(name);
	ck_assert_int_eq(sdnotify_ready(NULL), 1);
	expect_msg(fd, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_no_socket)
{
	char big[600];

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sdnotify_ready("x"), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "vsock:2:1234", 1), 0);
	ck_assert_int_eq(sdnotify_watchdog(), -EAFNOSUPPORT);
	unsetenv("NOTIFY_SOCKET");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(sdnotify_status("%s", big), -EMSGSIZE);
}
END_TEST

START_TEST(test_watchdog_env)
{
	char pid[32];
	uint64_t usec = 0;

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	ck_assert_int_eq(sdnotify_watchdog_usec(&usec), 0);

	setenv("WATCHDOG_USEC", "20000000", 1);
	ck_assert_int_eq(sdnotify_watchdog_usec(&usec), 1);
	ck_assert_uint_eq(usec, 20000000);

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_int_eq(sdnotify_watchdog_usec(&usec), 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_int_eq(sdnotify_watchdog_usec(&usec), 0);

	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "20s", 1);
	ck_assert_int_eq(sdnotify_watchdog_usec(&usec), -EINVAL);
	setenv("WATCHDOG_USEC", "0", 1);
	ck_assert_int_eq(sdnotify_watchdog_usec(&usec), -EINVAL);
	unsetenv("WATCHDOG_USEC");
}
END_TEST

Suite *
sdnotify_suite(void)
{
	Suite *s = suite_create("sdnotify");
	TCase *tc = tcase_create("notify");

	tcase_add_test(tc, test_path_socket);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_no_socket);
	tcase_add_test(tc, test_watchdog_env);
	suite_add_tcase(s, tc);
	return s;
}
