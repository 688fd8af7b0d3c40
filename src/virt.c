/* virt.c - see virt.h */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "log.h"
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
