/* fuzz_ctl.c - the control socket's request path, end to end: the input
 * is what one client sends (then it closes its side), served by the real
 * ctl server on its own evloop, exactly as the daemon serves it. The
 * server's request parsing is not a separate function (it reads the
 * peer's credentials from the socket first), so the bytes go through a
 * socket. Promises checked: the server answers or drops every client
 * within a bounded number of loop turns (a client cannot stall the loop),
 * the handler only ever sees a JSON object, an answer is one JSON object
 * on one line, and the slots are all free again afterwards. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "evloop.h"
#include "fuzz.h"
#include "util.h"

static struct evloop *loop;
static struct ctl_server srv;
static struct ctl_access root_only;
static char sock_path[108];
static int handled;

static struct json_object *
handler(struct json_object *req, const struct ctl_peer *peer, void *arg)
{
	struct json_object *resp, *v;

	(void)peer;
	(void)arg;
	FUZZ_CHECK(json_object_is_type(req, json_type_object));
	handled++;
	resp = json_object_new_object();
	json_object_object_add(resp, "ok", json_object_new_boolean(1));
	/* echo a string field, as status/explain echo a guest name */
	if (json_object_object_get_ex(req, "cmd", &v))
		json_object_object_add(resp, "cmd", json_object_get(v));
	return resp;
}

static void
cleanup(void)
{
	ctl_server_close(&srv);
	evloop_free(loop);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	snprintf(sock_path, sizeof(sock_path), "%s/mt-fuzz-ctl-%d.sock",
	    tmp != NULL ? tmp : "/tmp", (int)getpid());
	if (evloop_new(&loop, NULL, 0, NULL, NULL) < 0)
		abort();
	ctl_access_root_only(&root_only);
	if (ctl_server_open(&srv, loop, sock_path, &root_only, handler,
	    NULL) < 0)
		abort();
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	/* answers here are short; a longer one is a failure of the echo */
	char answer[CTL_REQUEST_MAX * 2 + 64];
	size_t alen = 0;
	bool eof = false;
	int fd, turns;

	if (size > CTL_REQUEST_MAX * 2)
		return 0;
	mt_strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		abort();
	/* the socket buffer takes all of it: no partial send to handle */
	if (size > 0 && send(fd, data, size, MSG_NOSIGNAL) != (ssize_t)size)
		abort();
	shutdown(fd, SHUT_WR);

	for (turns = 0; turns < 64 && !eof; turns++) {
		ssize_t n;

		evloop_iterate(loop, 50);
		for (;;) {
			n = recv(fd, answer + alen, sizeof(answer) - 1 - alen,
			    MSG_DONTWAIT);
			if (n > 0) {
				alen += (size_t)n;
				FUZZ_CHECK(alen < sizeof(answer) - 1);
				continue;
			}
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				eof = true;
			break;
		}
	}
	/* every client is answered or dropped well before its deadline */
	FUZZ_CHECK(eof);
	close(fd);
	answer[alen] = '\0';
	if (alen > 0) {
		struct json_object *resp;

		FUZZ_CHECK(answer[alen - 1] == '\n');
		FUZZ_CHECK(memchr(answer, '\n', alen) == answer + alen - 1);
		resp = json_tokener_parse(answer);
		FUZZ_CHECK(resp != NULL &&
		    json_object_is_type(resp, json_type_object));
		json_object_put(resp);
	}
	/* the server let go of the client: the slot is free */
	evloop_iterate(loop, 0);
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		FUZZ_CHECK(srv.clients[i].fd < 0);
	return 0;
}
