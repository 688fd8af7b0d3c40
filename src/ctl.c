/* ctl.c - see ctl.h */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "evloop.h"
#include "log.h"
#include "util.h"

static int
ctl_mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	if (mt_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

bool
ctl_peer_allowed(uid_t uid, gid_t gid, pid_t pid, gid_t allowed_gid)
{
	struct passwd pw, *pwp = NULL;
	/* getpwuid_r wants a buffer; 4 KiB holds any sane passwd entry */
	char buf[4096];
	gid_t groups[256];
	int ngroups = (int)ARRAY_SIZE(groups);

	(void)pid;
	if (uid == 0)
		return true;
	if (allowed_gid == (gid_t)-1)
		return false;
	if (gid == allowed_gid)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
		return false;
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == allowed_gid)
			return true;
	return false;
}

static void
ctl_reply(struct ctl_server *srv, struct connpool_client *c,
    struct json_object *resp)
{
	const char *txt;
	char *out;
	size_t n;

	if (resp == NULL) {
		resp = json_object_new_object();
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string("internal error"));
	}
	txt = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN);
	n = strlen(txt);
	out = malloc(n + 2);
	if (out == NULL) {
		json_object_put(resp);
		connpool_drop(&srv->pool, c);
		return;
	}
	memcpy(out, txt, n);
	out[n] = '\n';
	json_object_put(resp);
	connpool_reply(&srv->pool, c, out, n + 1);
}

static struct json_object *
ctl_error(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

static void
ctl_dispatch(struct ctl_server *srv, struct connpool_client *c)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct json_tokener *tok;
	struct json_object *req, *resp;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("control: SO_PEERCRED");
		connpool_drop(&srv->pool, c);
		return;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		connpool_drop(&srv->pool, c);
		return;
	}
	req = json_tokener_parse_ex(tok, c->in, (int)c->in_len);
	if (req == NULL || !json_object_is_type(req, json_type_object) ||
	    tok->char_offset < (int)c->in_len) {
		/* trailing bytes after one object count as malformed too,
		 * except the newline that ends the request */
		size_t off = (size_t)tok->char_offset;

		while (off < c->in_len && (c->in[off] == '\n' ||
		    c->in[off] == '\r' || c->in[off] == ' '))
			off++;
		if (req == NULL || !json_object_is_type(req, json_type_object) ||
		    off < c->in_len) {
			json_tokener_free(tok);
			json_object_put(req);
			srv->refused++;
			ctl_reply(srv, c, ctl_error("malformed request: one JSON "
			    "object on one line expected"));
			return;
		}
	}
	json_tokener_free(tok);
	resp = srv->handler(req, cred.uid, srv->arg);
	json_object_put(req);
	srv->served++;
	ctl_reply(srv, c, resp);
}

static void
ctl_client_io(int fd, short revents, void *arg)
{
	struct ctl_server *srv = arg;
	struct connpool_client *c = connpool_find(&srv->pool, fd);
	ssize_t n;

	if (c == NULL)
		return;
	if (c->out != NULL) {
		/* one answer per connection: sent, or the peer is gone */
		if (connpool_send(c, revents) != 0)
			connpool_drop(&srv->pool, c);
		return;
	}
	if (revents & (POLLERR | POLLNVAL)) {
		connpool_drop(&srv->pool, c);
		return;
	}
	n = connpool_recv(c, CTL_REQUEST_MAX);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		/* the peer closed before a full line: take what came if it
		 * is a whole object, else drop it */
		if (n == 0 && c->in_len > 0) {
			ctl_dispatch(srv, c);
			return;
		}
		connpool_drop(&srv->pool, c);
		return;
	}
	if (memchr(c->in, '\n', c->in_len) != NULL) {
		ctl_dispatch(srv, c);
		return;
	}
	if (c->in_len >= CTL_REQUEST_MAX) {
		srv->refused++;
		log_warnx("control: request over %d bytes refused",
		    CTL_REQUEST_MAX);
		ctl_reply(srv, c, ctl_error("request too large"));
	}
}

static void
ctl_accept(int fd, short revents, void *arg)
{
	struct ctl_server *srv = arg;
	bool evicted;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int64_t now = mt_now_ms();
	int cfd;

	(void)revents;
	ctl_server_expire(srv, now);
	if ((cfd = connpool_accept_fd(fd, "control")) < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    !ctl_peer_allowed(cred.uid, cred.gid, cred.pid, srv->allowed_gid)) {
		srv->refused++;
		log_warnx("control: refused peer uid %d pid %d: not root nor "
		    "in the allowed group", (int)cred.uid, (int)cred.pid);
		/* a refused peer gets a one-line answer, best effort */
		static const char msg[] =
		    "{\"ok\":false,\"error\":\"permission denied\"}\n";
		(void)!send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	(void)connpool_add(&srv->pool, cfd, now, &evicted);
	if (evicted) {
		/* a slow client must not lock others out */
		srv->dropped++;
		log_warnx("control: %d clients busy, dropping the oldest",
		    CTL_MAX_CLIENTS);
	}
}

void
ctl_server_expire(struct ctl_server *srv, int64_t now_ms)
{
	size_t n = connpool_expire(&srv->pool, now_ms);

	if (n > 0) {
		srv->dropped += n;
		log_debug("control: %zu client%s too slow, dropped", n,
		    n == 1 ? "" : "s");
	}
}

int
ctl_server_open(struct ctl_server *srv, struct evloop *loop, const char *path,
    gid_t allowed_gid, ctl_handler_fn handler, void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t mode = allowed_gid == (gid_t)-1 ? 0600 : 0660;
	int fd = -1, rc;

	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = -1;
	connpool_init(&srv->pool, loop, srv->clients, CTL_MAX_CLIENTS,
	    CTL_CLIENT_DEADLINE_MS, ctl_client_io, srv);
	if (mt_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	if ((rc = ctl_mkdir_parent(path)) < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket left by a crashed daemon is stale if nobody answers */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, mode) < 0 ||
	    (allowed_gid != (gid_t)-1 && chown(path, 0, allowed_gid) < 0) ||
	    listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		unlink(path);
		return rc;
	}
	srv->listen_fd = fd;
	srv->loop = loop;
	mt_strlcpy(srv->path, path, sizeof(srv->path));
	srv->allowed_gid = allowed_gid;
	srv->handler = handler;
	srv->arg = arg;
	srv->listen_watch = evloop_add_fd(loop, fd, POLLIN, ctl_accept, srv);
	if (srv->listen_watch < 0) {
		rc = srv->listen_watch;
		close(fd);
		unlink(path);
		srv->listen_fd = -1;
		return rc;
	}
	return 0;
}

void
ctl_server_close(struct ctl_server *srv)
{
	connpool_close(&srv->pool);
	if (srv->listen_fd >= 0) {
		evloop_remove_fd(srv->loop, srv->listen_watch);
		close(srv->listen_fd);
		unlink(srv->path);
		srv->listen_fd = -1;
	}
}

int
ctl_request(const char *path, struct json_object *req, int timeout_ms,
    struct json_object **resp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	/* answers carry a status of every guest: grow as needed */
	size_t cap = 65536, len = 0;
	char *buf = NULL;
	const char *txt;
	int64_t deadline = mt_now_ms() + timeout_ms;
	int fd, rc;

	*resp = NULL;
	if (mt_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		goto out;
	}
	txt = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (send(fd, txt, strlen(txt), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		rc = -errno;
		goto out;
	}
	if ((buf = malloc(cap)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mt_now_ms();
		ssize_t n;

		if (left <= 0) {
			rc = -ETIMEDOUT;
			goto out;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			rc = rc < 0 ? -errno : -ETIMEDOUT;
			goto out;
		}
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*resp = json_tokener_parse(buf);
	rc = (*resp != NULL && json_object_is_type(*resp, json_type_object)) ?
	    0 : -EPROTO;
	if (rc < 0 && *resp != NULL) {
		json_object_put(*resp);
		*resp = NULL;
	}
out:
	free(buf);
	close(fd);
	return rc;
}
