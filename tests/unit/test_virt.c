/* test_virt.c - connection to libvirt's test driver, the error mapping and
 * its transient/permanent split, and the error handler's routing. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "virt.h"

Suite *virt_suite(void);

static int debug_lines, other_lines;
static char last_debug[1024];

static void
hook(int pri, const char *line, void *arg)
{
	(void)arg;
	if (pri == LOG_DEBUG) {
		debug_lines++;
		snprintf(last_debug, sizeof(last_debug), "%s", line);
	} else {
		other_lines++;
	}
}

START_TEST(test_open_test_driver)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom;

	ck_assert_int_eq(virt_open("test:///default", &conn), 0);
	ck_assert_ptr_nonnull(conn);
	ck_assert(virt_alive(conn));

	/* a real libvirt error, through the handler and the mapping */
	log_init("test", LOG_TO_STDERR, 1);
	debug_lines = other_lines = 0;
	log_set_hook(hook, NULL);
	dom = virDomainLookupByName(conn, "no-such-domain");
	ck_assert_ptr_null(dom);
	ck_assert_int_eq(virt_last_errno(), -ENOENT);
	ck_assert(!virt_error_is_transient(virGetLastError()));
	ck_assert_int_eq(debug_lines, 1);
	ck_assert_int_eq(other_lines, 0);
	ck_assert_msg(strstr(last_debug, "code 42") != NULL, "%s", last_debug);
	ck_assert_ptr_nonnull(strstr(virt_last_message(), "not found"));
	log_set_hook(NULL, NULL);

	virConnectClose(conn);
	ck_assert(!virt_alive(NULL));
}
END_TEST

START_TEST(test_open_fails)
{
	virConnectPtr conn = NULL;

	log_init("test", LOG_TO_STDERR, 0);
	ck_assert_int_lt(virt_open("test:///nonexistent/memtuned.xml", &conn),
	    0);
	ck_assert_ptr_null(conn);
	ck_assert_int_lt(virt_open("nosuchscheme:///x", &conn), 0);
}
END_TEST

START_TEST(test_mapping)
{
	static const struct {
		int code;
		int domain;
		int int1;
		int err;
		bool transient;
	} cases[] = {
		{ VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, 0, -ENOENT, false },
		{ VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU, 0, -ESRCH, false },
		{ VIR_ERR_NO_SUPPORT, VIR_FROM_NONE, 0, -EOPNOTSUPP, false },
		{ VIR_ERR_NO_SUPPORT, VIR_FROM_RPC, 0, -EOPNOTSUPP, false },
		{ VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_QEMU, 0, -EOPNOTSUPP,
		    false },
		{ VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN, 0, -EINVAL, false },
		{ VIR_ERR_XML_ERROR, VIR_FROM_DOMAIN, 0, -EINVAL, false },
		{ VIR_ERR_NO_CONNECT, VIR_FROM_REMOTE, 0, -ENOTCONN, true },
		{ VIR_ERR_INVALID_CONN, VIR_FROM_NONE, 0, -ENOTCONN, true },
		{ VIR_ERR_RPC, VIR_FROM_RPC, 0, -ECONNRESET, true },
		{ VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, 0, -EIO, true },
		{ VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU, 0, -ETIMEDOUT, true },
		{ VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, 0, -ETIMEDOUT,
		    true },
		{ VIR_ERR_RESOURCE_BUSY, VIR_FROM_QEMU, 0, -EBUSY, true },
		{ VIR_ERR_NO_MEMORY, VIR_FROM_NONE, 0, -ENOMEM, true },
		{ VIR_ERR_AUTH_FAILED, VIR_FROM_AUTH, 0, -EACCES, false },
		{ VIR_ERR_ACCESS_DENIED, VIR_FROM_ACCESS, 0, -EPERM, false },
		{ VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, ECONNRESET, -ECONNRESET,
		    true },
		{ VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, EPIPE, -EPIPE, true },
		{ VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, ENOENT, -ENOENT, false },
		{ VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, 0, -EIO, false },
		{ VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, 0, -EIO, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		virError e;

		memset(&e, 0, sizeof(e));
		e.code = cases[i].code;
		e.domain = cases[i].domain;
		e.int1 = cases[i].int1;
		ck_assert_msg(virt_error_errno(&e) == cases[i].err,
		    "case %zu: code %d -> %d", i, e.code, virt_error_errno(&e));
		ck_assert_msg(virt_error_is_transient(&e) ==
		    cases[i].transient, "case %zu: code %d transient", i,
		    e.code);
	}
	ck_assert_int_eq(virt_error_errno(NULL), -EIO);
	ck_assert(!virt_error_is_transient(NULL));
}
END_TEST

Suite *
virt_suite(void)
{
	Suite *s = suite_create("virt");
	TCase *tc = tcase_create("test-driver");

	tcase_add_test(tc, test_open_test_driver);
	tcase_add_test(tc, test_open_fails);
	tcase_add_test(tc, test_mapping);
	suite_add_tcase(s, tc);
	return s;
}
