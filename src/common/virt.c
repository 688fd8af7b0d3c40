/* virt.c - see virt.h */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"
#include "virt.h"

static void
virt_error_log(void *arg, virErrorPtr err)
{
	(void)arg;
	/* every error also reaches the caller as a return value and is
	 * reported there with context; here it is only a trace */
	if (err != NULL && err->message != NULL)
		log_debug("libvirt: %s (code %d, domain %d)", err->message,
		    err->code, err->domain);
}

void
virt_install_error_handler(void)
{
	virSetErrorFunc(NULL, virt_error_log);
}

int
virt_open(const char *uri, virConnectPtr *out)
{
	virConnectPtr conn;

	virt_install_error_handler();
	if (virInitialize() < 0) {
		log_warnx("libvirt: initialisation failed: %s",
		    virt_last_message());
		return virt_last_errno();
	}
	conn = virConnectOpen(uri);
	if (conn == NULL) {
		int rc = virt_last_errno();

		log_warnx("libvirt: cannot connect to %s: %s",
		    uri != NULL ? uri : "(default)", virt_last_message());
		return rc;
	}
	*out = conn;
	return 0;
}

bool
virt_alive(virConnectPtr conn)
{
	return conn != NULL && virConnectIsAlive(conn) == 1;
}

static bool
errno_is_transient(int e)
{
	switch (e) {
	case EAGAIN:
	case EINTR:
	case ETIMEDOUT:
	case ECONNRESET:
	case ECONNREFUSED:
	case ECONNABORTED:
	case ENOTCONN:
	case EPIPE:
	case EBUSY:
	case ENOMEM:
		return true;
	default:
		return false;
	}
}

int
virt_error_errno(virErrorPtr err)
{
	if (err == NULL)
		return -EIO;
	switch (err->code) {
	case VIR_ERR_NO_DOMAIN:
		return -ENOENT;
	case VIR_ERR_OPERATION_INVALID:
		/* the QEMU driver's "domain is not running" */
		return -ESRCH;
	case VIR_ERR_NO_SUPPORT:
	case VIR_ERR_OPERATION_UNSUPPORTED:
	case VIR_ERR_ARGUMENT_UNSUPPORTED:
	case VIR_ERR_CONFIG_UNSUPPORTED:
		return -EOPNOTSUPP;
	case VIR_ERR_INVALID_ARG:
	case VIR_ERR_INVALID_DOMAIN:
	case VIR_ERR_XML_ERROR:
	case VIR_ERR_XML_DETAIL:
		return -EINVAL;
	case VIR_ERR_NO_CONNECT:
	case VIR_ERR_INVALID_CONN:
		return -ENOTCONN;
	case VIR_ERR_RPC:
		return -ECONNRESET;
	case VIR_ERR_OPERATION_TIMEOUT:
	case VIR_ERR_AGENT_UNRESPONSIVE:
		return -ETIMEDOUT;
	case VIR_ERR_RESOURCE_BUSY:
		return -EBUSY;
	case VIR_ERR_NO_MEMORY:
		return -ENOMEM;
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_UNAVAILABLE:
		return -EACCES;
	case VIR_ERR_OPERATION_DENIED:
	case VIR_ERR_ACCESS_DENIED:
		return -EPERM;
	case VIR_ERR_SYSTEM_ERROR:
		/* libvirt keeps the failing call's errno in int1 */
		if (err->int1 > 0)
			return -err->int1;
		return -EIO;
	default:
		return -EIO;
	}
}

bool
virt_error_is_transient(virErrorPtr err)
{
	if (err == NULL)
		return false;
	/* a dropped or closing connection surfaces as many codes, all
	 * raised from the RPC layer */
	if (err->domain == VIR_FROM_RPC && err->code != VIR_ERR_NO_SUPPORT &&
	    err->code != VIR_ERR_NO_DOMAIN)
		return true;
	return errno_is_transient(-virt_error_errno(err));
}

int
virt_last_errno(void)
{
	return virt_error_errno(virGetLastError());
}

const char *
virt_last_message(void)
{
	virErrorPtr err = virGetLastError();

	if (err == NULL || err->message == NULL)
		return "unknown error";
	return err->message;
}

void
virt_state_text(int state, int reason, char *buf, size_t len)
{
	/* virDomainPausedReason, in its order */
	static const char *const paused[] = {
		"paused", "paused by its user", "paused for a migration",
		"paused: being saved", "paused: a core dump is being taken",
		"paused on a disk I/O error", "paused by its watchdog",
		"paused: restored from a snapshot", "paused while shutting down",
		"paused: a snapshot is being taken", "paused after a crash",
		"paused: starting up", "paused in a post-copy migration",
		"paused: a post-copy migration failed",
		"paused after a failed libvirt call",
	};

	switch (state) {
	case VIR_DOMAIN_PAUSED:
		snprintf(buf, len, "%s", reason >= 0 &&
		    (size_t)reason < ARRAY_SIZE(paused) ? paused[reason] :
		    "paused");
		break;
	case VIR_DOMAIN_SHUTDOWN:
		snprintf(buf, len, "shutting down");
		break;
	case VIR_DOMAIN_SHUTOFF:
		snprintf(buf, len, "shut off");
		break;
	case VIR_DOMAIN_CRASHED:
		snprintf(buf, len, "crashed");
		break;
	case VIR_DOMAIN_PMSUSPENDED:
		snprintf(buf, len, "suspended by the guest (power management)");
		break;
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		snprintf(buf, len, "running");
		break;
	default:
		snprintf(buf, len, "in domain state %d", state);
		break;
	}
}

/* ------------------------------------------------- calls with a deadline */

enum vw_state {
	VW_IDLE,
	VW_RUNNING,		/* the caller waits for it */
	VW_DONE,		/* answered in time: the caller takes it */
	VW_LATE,		/* the caller gave up: the worker cleans up */
};

struct virt_worker {
	pthread_t thread;
	bool started;
	enum vw_state state;
	pthread_cond_t wake;		/* state became RUNNING */
	pthread_cond_t done;		/* state became DONE */
	int (*fn)(virConnectPtr conn, void *data);
	void (*late)(void *data, int rc);
	char key[64];			/* a UUID is 36 */
	char what[32];
	virConnectPtr conn;		/* a reference of the worker's own */
	union {
		max_align_t align;
		unsigned char b[VIRT_CALL_DATA_MAX];
	} data;
	int rc;
	int64_t started_ms;
};

/* one lock for the table: a handful of workers, held for microseconds */
static pthread_mutex_t vw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t vw_once = PTHREAD_ONCE_INIT;
static struct virt_worker vw[VIRT_WORKERS];

static void
vw_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	/* deadlines on the same clock as mt_now_ms: a wall clock step
	 * must not stretch or cut them */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (size_t i = 0; i < VIRT_WORKERS; i++) {
		pthread_cond_init(&vw[i].wake, &ca);
		pthread_cond_init(&vw[i].done, &ca);
	}
	pthread_condattr_destroy(&ca);
}

static void *
vw_main(void *arg)
{
	struct virt_worker *w = arg;
	int rc;

	pthread_mutex_lock(&vw_lock);
	for (;;) {
		while (w->state != VW_RUNNING)
			pthread_cond_wait(&w->wake, &vw_lock);
		pthread_mutex_unlock(&vw_lock);
		rc = w->fn(w->conn, w->data.b);
		pthread_mutex_lock(&vw_lock);
		w->rc = rc;
		if (w->state == VW_RUNNING) {
			w->state = VW_DONE;
			pthread_cond_signal(&w->done);
			continue;
		}
		/* VW_LATE: the answer has nobody to go to */
		pthread_mutex_unlock(&vw_lock);
		if (w->late != NULL)
			w->late(w->data.b, rc);
		log_info("%s for %s: libvirt answered after %lld ms (%s)",
		    w->what, w->key[0] != '\0' ? w->key : "all domains",
		    (long long)(mt_now_ms() - w->started_ms),
		    rc == 0 ? "done" : strerror(-rc));
		if (w->conn != NULL)
			virConnectClose(w->conn);
		pthread_mutex_lock(&vw_lock);
		w->conn = NULL;
		w->state = VW_IDLE;
	}
	return NULL;
}

static int
vw_start(struct virt_worker *w)
{
	pthread_attr_t a;
	int rc;

	if (w->started)
		return 0;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&w->thread, &a, vw_main, w);
	pthread_attr_destroy(&a);
	if (rc != 0)
		return -rc;
	w->started = true;
	return 0;
}

/* A worker for a call about key: -EBUSY when one about it is still out or
 * none is free. Under vw_lock. */
static int
vw_pick(const char *key, struct virt_worker **out)
{
	*out = NULL;
	for (size_t i = 0; i < VIRT_WORKERS; i++)
		if (key[0] != '\0' && vw[i].state != VW_IDLE &&
		    strcmp(vw[i].key, key) == 0)
			return -EBUSY;
	for (size_t i = 0; i < VIRT_WORKERS; i++) {
		if (vw[i].state == VW_IDLE) {
			*out = &vw[i];
			return 0;
		}
	}
	return -EBUSY;
}

int
virt_call_run(virConnectPtr conn, const struct virt_call *c, void *data,
    size_t len)
{
	struct virt_worker *w;
	virConnectPtr ref = NULL;
	struct timespec ts;
	int64_t deadline;
	int rc;

	if (c->fn == NULL || len > VIRT_CALL_DATA_MAX || c->key == NULL ||
	    strlen(c->key) >= sizeof(w->key) || c->deadline_ms <= 0)
		return -EINVAL;
	pthread_once(&vw_once, vw_init);
	pthread_mutex_lock(&vw_lock);
	if ((rc = vw_pick(c->key, &w)) < 0 || (rc = vw_start(w)) < 0) {
		pthread_mutex_unlock(&vw_lock);
		return rc;
	}
	if (conn != NULL && virConnectRef(conn) == 0)
		ref = conn;
	w->fn = c->fn;
	w->late = c->late;
	mt_strlcpy(w->key, c->key, sizeof(w->key));
	mt_strlcpy(w->what, c->what != NULL ? c->what : "libvirt call",
	    sizeof(w->what));
	w->conn = ref;
	memcpy(w->data.b, data, len);
	w->started_ms = mt_now_ms();
	w->state = VW_RUNNING;
	pthread_cond_signal(&w->wake);

	deadline = w->started_ms + c->deadline_ms;
	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (deadline % 1000) * 1000000;
	while (w->state == VW_RUNNING &&
	    pthread_cond_timedwait(&w->done, &vw_lock, &ts) != ETIMEDOUT)
		;
	if (w->state == VW_DONE) {
		memcpy(data, w->data.b, len);
		rc = w->rc;
		ref = w->conn;
		w->conn = NULL;
		w->state = VW_IDLE;
		pthread_mutex_unlock(&vw_lock);
		if (ref != NULL)
			virConnectClose(ref);
		return rc;
	}
	w->state = VW_LATE;
	pthread_mutex_unlock(&vw_lock);
	/* not yet a failure: the call goes on, and its answer is logged
	 * when it comes; the caller says what it does without it */
	log_info("%s for %s: no answer from libvirt within %d ms; going on "
	    "without it", c->what != NULL ? c->what : "libvirt call",
	    c->key[0] != '\0' ? c->key : "all domains", c->deadline_ms);
	return -ETIMEDOUT;
}

bool
virt_call_stuck(const char *key, int64_t *since_ms)
{
	bool stuck = false;

	pthread_once(&vw_once, vw_init);
	pthread_mutex_lock(&vw_lock);
	for (size_t i = 0; i < VIRT_WORKERS && !stuck; i++) {
		if (vw[i].state == VW_LATE && strcmp(vw[i].key, key) == 0) {
			stuck = true;
			if (since_ms != NULL)
				*since_ms = mt_now_ms() - vw[i].started_ms;
		}
	}
	pthread_mutex_unlock(&vw_lock);
	return stuck;
}

int
virt_calls_stuck(void)
{
	int n = 0;

	pthread_once(&vw_once, vw_init);
	pthread_mutex_lock(&vw_lock);
	for (size_t i = 0; i < VIRT_WORKERS; i++)
		if (vw[i].state == VW_LATE)
			n++;
	pthread_mutex_unlock(&vw_lock);
	return n;
}
