/* sdnotify.c - see sdnotify.h */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"
#include "util.h"

/* a notify message is a few short KEY=VALUE lines; STATUS= is a sentence */
#define SDNOTIFY_MSG_MAX 512

static int
sdnotify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || *path == '\0')
		return 0;
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;	/* vsock and others are not spoken here */
	n = strlen(path);
	if (n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@') {
		/* abstract: leading NUL, and the length counts no trailing NUL */
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 1;
}

int
sdnotify_send(const char *state)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	size_t n = strlen(state);
	ssize_t w;
	int fd, rc;

	if ((rc = sdnotify_addr(&sun, &len)) <= 0)
		return rc;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	do {
		w = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		rc = -errno;
	else if ((size_t)w != n)
		rc = -EIO;
	else
		rc = 1;
	close(fd);
	return rc;
}

static int
sdnotify_vsendf(const char *fmt, va_list ap)
{
	char msg[SDNOTIFY_MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(msg))
		return -EMSGSIZE;
	return sdnotify_send(msg);
}

int
sdnotify_sendf(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sdnotify_vsendf(fmt, ap);
	va_end(ap);
	return rc;
}

int
sdnotify_ready(const char *status)
{
	if (status == NULL)
		return sdnotify_send("READY=1");
	return sdnotify_sendf("READY=1\nSTATUS=%s", status);
}

int
sdnotify_reloading(void)
{
	struct timespec ts;

	/* systemd >= 253 (Type=notify-reload) needs MONOTONIC_USEC to tell
	 * this reload from an older one; older versions ignore it */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return sdnotify_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

int
sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1");
}

int
sdnotify_watchdog(void)
{
	return sdnotify_send("WATCHDOG=1");
}

int
sdnotify_status(const char *fmt, ...)
{
	char status[SDNOTIFY_MSG_MAX - sizeof("STATUS=")];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(status))
		return -EMSGSIZE;
	return sdnotify_sendf("STATUS=%s", status);
}

int
sdnotify_watchdog_usec(uint64_t *usec)
{
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	int64_t v, pid;

	if (s == NULL || *s == '\0')
		return 0;
	if (mt_parse_int64(s, &v) < 0 || v <= 0)
		return -EINVAL;
	if (p != NULL && *p != '\0') {
		if (mt_parse_int64(p, &pid) < 0 || pid <= 0)
			return -EINVAL;
		/* the watchdog was meant for another process (a parent that
		 * forked us): not ours to ping */
		if (pid != (int64_t)getpid())
			return 0;
	}
	*usec = (uint64_t)v;
	return 1;
}
