/* fuzz_metrics_http.c - metrics_http_parse, the metrics listener's request
 * parser, on any bytes a local client can send. The input is what has
 * been received so far, in a buffer of exactly that size so a read past it
 * is caught. Promises checked: the answer is "more bytes" only for a head
 * under METRICS_HTTP_HEAD_MAX without its end, and then also for every
 * shorter prefix; otherwise one of the statuses the header lists; 200 only
 * for GET or HEAD of /metrics, HEAD only for a HEAD line; and the answer
 * depends on the head alone, not on the bytes after its end. */
#include <errno.h>

#include "fuzz.h"
#include "metrics.h"
#include "util.h"

static bool
starts(const uint8_t *d, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && memcmp(d, p, k) == 0;
}

/* Where the first end of head (CRLF CRLF or LF LF) ends within the limit,
 * or 0 when there is none. */
static size_t
head_end(const uint8_t *d, size_t n)
{
	const uint8_t *a, *b;
	size_t ea = 0, eb = 0;

	n = MIN(n, (size_t)METRICS_HTTP_HEAD_MAX);
	if ((a = memmem(d, n, "\r\n\r\n", 4)) != NULL)
		ea = (size_t)(a - d) + 4;
	if ((b = memmem(d, n, "\n\n", 2)) != NULL)
		eb = (size_t)(b - d) + 2;
	if (ea == 0 || eb == 0)
		return ea + eb;
	return MIN(ea, eb);
}

static void
check_status(const uint8_t *d, size_t n, const struct metrics_http_req *r)
{
	FUZZ_CHECK(r->status == 200 || r->status == 400 || r->status == 404 ||
	    r->status == 405 || r->status == 431);
	if (r->status == 200)
		FUZZ_CHECK(starts(d, n, "GET /metrics ") ||
		    starts(d, n, "GET /metrics?") ||
		    starts(d, n, "HEAD /metrics ") ||
		    starts(d, n, "HEAD /metrics?"));
	if (r->head_only)
		FUZZ_CHECK(starts(d, n, "HEAD ") &&
		    (r->status == 200 || r->status == 404));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_http_req req, again;
	size_t end = head_end(data, size);
	int rc = metrics_http_parse((const char *)data, size, &req);

	if (rc == -EAGAIN) {
		FUZZ_CHECK(size < METRICS_HTTP_HEAD_MAX && end == 0);
		if (size > 0)
			FUZZ_CHECK(metrics_http_parse((const char *)data,
			    size - 1, &again) == -EAGAIN);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	check_status(data, size, &req);
	if (end == 0) {
		FUZZ_CHECK(req.status == 431 &&
		    size >= METRICS_HTTP_HEAD_MAX);
		return 0;
	}
	/* the same answer from the head alone, in a buffer of its size */
	{
		char *head = malloc(end);

		if (head == NULL)
			abort();
		memcpy(head, data, end);
		FUZZ_CHECK(metrics_http_parse(head, end, &again) == 0);
		FUZZ_CHECK(again.status == req.status &&
		    again.head_only == req.head_only);
		free(head);
	}
	return 0;
}
