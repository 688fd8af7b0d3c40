/* virt.h - the libvirt connection: open, liveness, and what a libvirt error
 * means for the caller (an -errno, and whether trying again later can help).
 */
#ifndef MEMTUNED_VIRT_H
#define MEMTUNED_VIRT_H

#include <stdbool.h>

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

#endif
