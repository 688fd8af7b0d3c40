/* ctl.c - see ctl.h */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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
#include "jsonutil.h"
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

void
ctl_access_root_only(struct ctl_access *a)
{
	memset(a, 0, sizeof(*a));
	a->read_gid = a->admin_gid = (gid_t)-1;
}

/* The commands that change nothing; every other one acts. A list of the
 * reading ones, not of the acting ones, so a command added later is for
 * admin_group until someone decides otherwise. */
static const char *const ctl_read_cmds[] = {
	"ping", "status", "explain", "capacity",
};
/* Acting commands named in the log (an unknown one's text is the
 * peer's): the daemon stops or starts acting on guests for them. */
static const char *const ctl_hold_cmds[] = {
	"pause", "resume",
};

enum ctl_verb
ctl_classify(struct json_object *req, const char **name)
{
	struct json_object *v;
	const char *cmd;

	*name = NULL;
	if (!json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string))
		return CTL_VERB_ACT;
	cmd = json_object_get_string(v);
	for (size_t i = 0; i < ARRAY_SIZE(ctl_read_cmds); i++) {
		if (strcmp(cmd, ctl_read_cmds[i]) == 0) {
			*name = ctl_read_cmds[i];
			return CTL_VERB_READ;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctl_hold_cmds); i++) {
		if (strcmp(cmd, ctl_hold_cmds[i]) == 0) {
			*name = ctl_hold_cmds[i];
			return CTL_VERB_ACT;
		}
	}
	if (strcmp(cmd, "release") == 0)
		*name = "release";
	else if (strcmp(cmd, "rebalance") == 0)
		*name = "rebalance";
	else
		return CTL_VERB_ACT;
	/* a dry run plans, with or without a reserve, and moves nothing;
	 * a dry_run that is not a boolean is refused by the daemon, and
	 * counts as acting until then */
	if (json_object_object_get_ex(req, "dry_run", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v))
		return CTL_VERB_READ;
	return CTL_VERB_ACT;
}

static bool
ctl_peer_in(const struct ctl_peer *p, gid_t gid)
{
	if (gid == (gid_t)-1)
		return false;
	if (p->gid == gid)
		return true;
	for (size_t i = 0; i < p->nr_groups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

enum ctl_auth
ctl_authorize(const struct ctl_peer *peer, enum ctl_verb verb,
    const struct ctl_access *a)
{
	if (peer->uid == 0 || ctl_peer_in(peer, a->admin_gid))
		return CTL_AUTH_OK;
	if (!ctl_peer_in(peer, a->read_gid))
		return CTL_AUTH_NOT_MEMBER;
	return verb == CTL_VERB_READ ? CTL_AUTH_OK : CTL_AUTH_READ_ONLY;
}

int
ctl_rate_check(int64_t last_ms, int64_t now_ms, int64_t interval_ms,
    int64_t *wait_ms)
{
	*wait_ms = 0;
	if (interval_ms <= 0 || !MT_PRESENT(last_ms) ||
	    now_ms - last_ms >= interval_ms)
		return 0;
	/* a clock that went back (it is monotonic: it does not) would
	 * otherwise ask for more than one interval */
	*wait_ms = MIN(interval_ms, interval_ms - (now_ms - last_ms));
	return -EAGAIN;
}

/* A peer's credentials, with room for its groups. */
struct ctl_peer_buf {
	struct ctl_peer peer;
	gid_t small[256];		/* most users have a handful */
	gid_t *heap;			/* the rest, up to NGROUPS_MAX */
};

/* The peer's supplementary groups come from SO_PEERGROUPS: the kernel's
 * copy of the peer's credentials taken at connect(). Not /proc/PID/status
 * (the pid may be gone and reused by then, and hidepid or another pid
 * namespace hides it) and not getgrouplist(uid) (an NSS lookup that may
 * ask LDAP and block the control thread, and that answers what the
 * database says now, not the groups the peer runs with, which are what
 * the kernel judged the socket's mode by). 0 or -errno. */
static int
ctl_peer_get(int fd, struct ctl_peer_buf *b)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(&b->peer, 0, sizeof(b->peer));
	b->heap = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	b->peer.uid = cred.uid;
	b->peer.gid = cred.gid;
	b->peer.pid = cred.pid;
	b->peer.groups = b->small;
	len = sizeof(b->small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, b->small, &len) == 0) {
		b->peer.nr_groups = len / sizeof(gid_t);
		return 0;
	}
	if (errno == ENOPROTOOPT) {
		/* before Linux 4.13: the primary group only, so a member
		 * by a supplementary group is refused, never let in */
		return 0;
	}
	if (errno != ERANGE || len > NGROUPS_MAX * sizeof(gid_t))
		return -errno;
	if ((b->heap = malloc(len)) == NULL)
		return -ENOMEM;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, b->heap, &len) < 0)
		return -errno;
	b->peer.groups = b->heap;
	b->peer.nr_groups = len / sizeof(gid_t);
	return 0;
}

static void
ctl_peer_put(struct ctl_peer_buf *b)
{
	free(b->heap);
	b->heap = NULL;
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
	/* every answer says which JSON it is, the daemon's errors too */
	resp = mt_json_schema_first(resp);
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

static struct json_object *
ctl_refusal(const char *code, const char *msg)
{
	struct json_object *o = ctl_error(msg);

	json_object_object_add(o, "code", json_object_new_string(code));
	return o;
}

/* Who may send a verb, in words: "root or admin_group wheel". */
static void
ctl_who(const struct ctl_access *a, enum ctl_verb verb, char *buf, size_t len)
{
	bool rd = a->read_gid != (gid_t)-1, adm = a->admin_gid != (gid_t)-1;

	if (verb == CTL_VERB_ACT)
		snprintf(buf, len, adm ? "root or admin_group %s" :
		    "root (no admin_group is set)%s", adm ? a->admin_group : "");
	else if (rd && adm)
		snprintf(buf, len, "root, control_group %s or admin_group %s",
		    a->read_group, a->admin_group);
	else if (rd || adm)
		snprintf(buf, len, "root or %s %s", rd ? "control_group" :
		    "admin_group", rd ? a->read_group : a->admin_group);
	else
		snprintf(buf, len, "root");
}

/* The verdict on one request: NULL when it may go to the handler, else
 * the refusal to send (logged here with the peer's uid and pid). */
static struct json_object *
ctl_judge(struct ctl_server *srv, const struct ctl_peer *p,
    struct json_object *req)
{
	const char *name;
	enum ctl_verb verb = ctl_classify(req, &name);
	/* two group names of 64 bytes and the words around them */
	char who[256], msg[384];
	int64_t now = mt_now_ms(), wait_ms;

	if (name == NULL)
		name = "this command";
	switch (ctl_authorize(p, verb, &srv->access)) {
	case CTL_AUTH_OK:
		break;
	case CTL_AUTH_NOT_MEMBER:
		verb = CTL_VERB_READ;
		/* fall through */
	case CTL_AUTH_READ_ONLY:
		ctl_who(&srv->access, verb, who, sizeof(who));
		log_warnx("control: refused %s from uid %d pid %d: it needs %s",
		    name, (int)p->uid, (int)p->pid, who);
		snprintf(msg, sizeof(msg), "permission denied: %s needs %s",
		    name, who);
		return ctl_refusal(CTL_CODE_PERMISSION, msg);
	}
	if (verb == CTL_VERB_READ || p->uid == 0)
		return NULL;
	if (ctl_rate_check(srv->last_act_ms, now,
	    srv->access.act_interval_ms, &wait_ms) == 0) {
		srv->last_act_ms = now;
		return NULL;
	}
	log_warnx("control: refused %s from uid %d pid %d: another acting "
	    "request came %lld ms ago (act_interval %lld ms)", name,
	    (int)p->uid, (int)p->pid, (long long)(now - srv->last_act_ms),
	    (long long)srv->access.act_interval_ms);
	snprintf(msg, sizeof(msg), "too soon: %s may come again in %lld.%lld s "
	    "(one acting request per act_interval, %lld.%lld s, for users "
	    "other than root)", name, (long long)((wait_ms + 99) / 1000),
	    (long long)((wait_ms + 99) % 1000 / 100),
	    (long long)(srv->access.act_interval_ms / 1000),
	    (long long)(srv->access.act_interval_ms % 1000 / 100));
	req = ctl_refusal(CTL_CODE_RATE, msg);
	json_object_object_add(req, "retry_after_ms",
	    json_object_new_int64(wait_ms));
	return req;
}

/* The request as one JSON object, or NULL with a refusal sent. */
static struct json_object *
ctl_parse(struct ctl_server *srv, struct connpool_client *c)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req;
	size_t off;

	if (tok == NULL) {
		connpool_drop(&srv->pool, c);
		return NULL;
	}
	req = json_tokener_parse_ex(tok, c->in, (int)c->in_len);
	/* trailing bytes after one object count as malformed too, except
	 * the newline that ends the request */
	off = req != NULL ? (size_t)tok->char_offset : 0;
	while (off < c->in_len && (c->in[off] == '\n' ||
	    c->in[off] == '\r' || c->in[off] == ' '))
		off++;
	json_tokener_free(tok);
	if (req == NULL || !json_object_is_type(req, json_type_object) ||
	    off < c->in_len) {
		json_object_put(req);
		srv->refused++;
		ctl_reply(srv, c, ctl_error("malformed request: one JSON "
		    "object on one line expected"));
		return NULL;
	}
	return req;
}

static void
ctl_dispatch(struct ctl_server *srv, struct connpool_client *c)
{
	struct ctl_peer_buf pb;
	struct json_object *req, *resp;
	int rc;

	if ((rc = ctl_peer_get(c->fd, &pb)) < 0) {
		log_warnx("control: the peer's credentials: %s", strerror(-rc));
		ctl_peer_put(&pb);
		connpool_drop(&srv->pool, c);
		return;
	}
	if ((req = ctl_parse(srv, c)) == NULL) {
		ctl_peer_put(&pb);
		return;
	}
	if ((resp = ctl_judge(srv, &pb.peer, req)) != NULL) {
		srv->refused++;
	} else {
		resp = srv->handler(req, &pb.peer, srv->arg);
		srv->served++;
	}
	json_object_put(req);
	ctl_peer_put(&pb);
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

/* A peer in neither group is refused before it may send anything: the
 * socket's mode stops it already, unless it was opened wider by hand. */
static bool
ctl_accept_peer(struct ctl_server *srv, int cfd)
{
	struct ctl_peer_buf pb;
	struct json_object *o;
	char who[256], msg[320];
	const char *txt;
	int rc = ctl_peer_get(cfd, &pb);

	if (rc == 0 && ctl_authorize(&pb.peer, CTL_VERB_READ, &srv->access) ==
	    CTL_AUTH_OK) {
		ctl_peer_put(&pb);
		return true;
	}
	ctl_who(&srv->access, CTL_VERB_READ, who, sizeof(who));
	if (rc < 0)
		log_warnx("control: refused a peer: its credentials: %s",
		    strerror(-rc));
	else
		log_warnx("control: refused uid %d pid %d: the socket is for "
		    "%s", (int)pb.peer.uid, (int)pb.peer.pid, who);
	ctl_peer_put(&pb);
	srv->refused++;
	snprintf(msg, sizeof(msg), "permission denied: this socket is for %s",
	    who);
	o = mt_json_schema_first(ctl_refusal(CTL_CODE_PERMISSION, msg));
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* a refused peer gets a one-line answer, best effort */
	(void)!send(cfd, txt, strlen(txt), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)!send(cfd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	json_object_put(o);
	return false;
}

static void
ctl_accept(int fd, short revents, void *arg)
{
	struct ctl_server *srv = arg;
	bool evicted;
	int64_t now = mt_now_ms();
	int cfd;

	(void)revents;
	ctl_server_expire(srv, now);
	if ((cfd = connpool_accept_fd(fd, "control")) < 0)
		return;
	if (!ctl_accept_peer(srv, cfd)) {
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
    const struct ctl_access *access, ctl_handler_fn handler, void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	/* one group on the file: control_group, whose members read; an
	 * admin_group member must be in it too, or reach the socket only
	 * when there is no control_group */
	gid_t sock_gid = access->read_gid != (gid_t)-1 ? access->read_gid :
	    access->admin_gid;
	mode_t mode = sock_gid == (gid_t)-1 ? 0600 : 0660;
	int fd = -1, rc;

	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = -1;
	srv->access = *access;
	srv->last_act_ms = MT_ABSENT;
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
	    (sock_gid != (gid_t)-1 && chown(path, 0, sock_gid) < 0) ||
	    listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		unlink(path);
		return rc;
	}
	srv->listen_fd = fd;
	srv->loop = loop;
	mt_strlcpy(srv->path, path, sizeof(srv->path));
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

/* A socket connected to path with req sent on it, or -errno */
static int
ctl_connect_send(const char *path, struct json_object *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *txt;
	int fd, rc;

	if (mt_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	txt = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	/* a peer refused at once is answered and closed, maybe before the
	 * request is out: the answer is read all the same */
	if ((send(fd, txt, strlen(txt), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) && errno != EPIPE &&
	    errno != ECONNRESET) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Everything the server sends on fd until it closes, by deadline, into
 * *buf (malloc'd, NUL-terminated, the caller's to free even on error).
 * 0 or -errno (-ETIMEDOUT). */
static int
ctl_read_answer(int fd, int64_t deadline, char **buf)
{
	/* answers carry a status of every guest: grow as needed */
	size_t cap = 65536, len = 0;
	int rc;

	if ((*buf = malloc(cap)) == NULL)
		return -ENOMEM;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mt_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc < 0 ? -errno : -ETIMEDOUT;
		if (len + 1 >= cap) {
			char *nb = realloc(*buf, cap * 2);

			if (nb == NULL)
				return -ENOMEM;
			*buf = nb;
			cap *= 2;
		}
		n = recv(fd, *buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* the server closed with our request unread (a refusal
		 * sent before reading it): what came is the answer */
		if (n < 0 && errno == ECONNRESET && len > 0)
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(*buf)[len] = '\0';
	return 0;
}

int
ctl_request(const char *path, struct json_object *req, int timeout_ms,
    struct json_object **resp)
{
	int64_t deadline = mt_now_ms() + timeout_ms;
	char *buf = NULL;
	int fd, rc;

	*resp = NULL;
	if ((fd = ctl_connect_send(path, req)) < 0)
		return fd;
	if ((rc = ctl_read_answer(fd, deadline, &buf)) < 0)
		goto out;
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
