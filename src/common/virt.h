/* virt.h - the libvirt connection: open, liveness, and what a libvirt error
 * means for the caller (an -errno, and whether trying again later can help).
 */
#ifndef MEMTUNED_VIRT_H
#define MEMTUNED_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* Route libvirt's own error printing through log.h at debug level instead
 * of libvirt's default of printing every error to stderr. Idempotent;
 * virt_open calls it. Callers still get each error as a return value. */
void virt_install_error_handler(void);

/* Open a read-write connection to uri (NULL: libvirt's default).
 * 0 or -errno, with the reason logged. */
int virt_open(const char *uri, virConnectPtr *out);
/* True when the connection still answers (keepalive has not declared it
 * dead); a false here means close and virt_open again. */
bool virt_alive(virConnectPtr conn);

/* Map a libvirt error to -errno: -ENOENT no such domain, -ESRCH domain not
 * running, -EOPNOTSUPP unsupported, -EINVAL invalid argument or XML,
 * -ENOTCONN/-ECONNRESET connection lost, -ETIMEDOUT timeouts, -EBUSY domain
 * busy, -EACCES/-EPERM denied, the system errno for system errors, -EIO
 * otherwise. NULL (no error recorded) gives -EIO. */
int virt_error_errno(virErrorPtr err);
/* Transient: connection loss, timeouts, domain busy, out of memory:
 * the same call may succeed on a later tick. Permanent: no such domain,
 * unsupported, invalid argument, denied. NULL is not transient. */
bool virt_error_is_transient(virErrorPtr err);
/* The calling thread's last libvirt error as -errno (-EIO when none). */
int virt_last_errno(void);
/* The calling thread's last libvirt error message, or "unknown error". */
const char *virt_last_message(void);

/* A domain state (virDomainState) and its reason for people: "running",
 * "paused: being saved", "paused by its user"; -1: unknown. */
void virt_state_text(int state, int reason, char *buf, size_t len);

/* ------------------------------------------------- calls with a deadline
 *
 * A libvirt call that takes a domain's job (setting memory, memtune, the
 * stats period; the bulk stats' query job) waits for the job lock: about
 * 30 s behind a migration, a save, a dump or a hung QEMU monitor, and
 * forever inside a monitor that never answers. In the daemon's one loop
 * that would outlast systemd's watchdog. So such a call runs in a worker
 * thread, and the loop waits for it only until its deadline; past it the
 * loop goes on, and the call finishes (or not) on its own.
 *
 * VIRT_WORKERS threads, started when first needed: libvirtd serves at
 * most 5 requests of one client at a time (max_client_requests), and the
 * loop needs one of them for itself. While a call about a domain is still
 * out, no other call about that domain starts (-EBUSY at once), so a
 * domain stuck in its monitor holds at most one worker. */
#define VIRT_WORKERS 3
/* the request and answer of one call, copied to the worker and back */
#define VIRT_CALL_DATA_MAX 512

struct virt_call {
	/* in the worker: 0 or -errno; data is the caller's copy */
	int (*fn)(virConnectPtr conn, void *data);
	/* in the worker, when the caller gave up before fn returned: free
	 * what fn allocated into data. May be NULL. */
	void (*late)(void *data, int rc);
	const char *key;	/* the domain's UUID, or "" for none */
	const char *what;	/* for the logs: "balloon", "domain stats" */
	int deadline_ms;
};

/* Run c->fn(conn, data) in a worker, waiting at most c->deadline_ms.
 * data (len <= VIRT_CALL_DATA_MAX bytes) is copied in, and back when the
 * call answers in time. Returns fn's result; -ETIMEDOUT when the deadline
 * passed (the call goes on: its answer is dropped, late() runs); -EBUSY
 * when a call about the same key is still out, or every worker is held by
 * one. conn may be NULL (tests). */
int virt_call_run(virConnectPtr conn, const struct virt_call *c, void *data,
    size_t len);
/* True when a call about key is still out past its deadline; since_ms is
 * how long it has run (mt_now_ms scale). */
bool virt_call_stuck(const char *key, int64_t *since_ms);
/* Calls still out past their deadline, over all keys. */
int virt_calls_stuck(void);

#endif
