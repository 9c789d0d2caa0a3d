/* Unit tests for lib/resolve: arguments, and a server that does not answer
 * failing fast. Answers from a real mds are checked by
 * tests/integration/block.sh (`dnsfsctl block place` finds nodes by SRV). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "resolve.h"

START_TEST(bad_arguments)
{
	struct resolve *r = (struct resolve *)1;
	struct err e = { 0 };

	ck_assert_int_eq(resolve_new(&r, "dnsfs.test.", "localhost", 53, &e), -EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(e.msg, "localhost: not an IP address");
	ck_assert_int_eq(resolve_new(&r, "dnsfs.test.", "127.0.0.1", 0, &e), -EINVAL);
	ck_assert_int_eq(resolve_new(&r, "dnsfs.test.", "127.0.0.1", 65536, &e), -EINVAL);
	ck_assert_int_eq(resolve_new(&r, "dnsfs.test.", "::1", 53, &e), 0);
	resolve_free(r);
	resolve_free(NULL);
}
END_TEST

/* A port nobody listens on: the lookup fails with -EAGAIN, in seconds. */
START_TEST(no_server_fails_fast)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct resolve_srv srv[4];
	char addrs[2][RESOLVE_ADDR_MAX];
	struct resolve *r;
	struct err e = { 0 };
	time_t t0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	ck_assert_int_eq(resolve_new(&r, "dnsfs.test.", "127.0.0.1", ntohs(sa.sin_port), &e), 0);
	t0 = time(NULL);
	ck_assert_int_eq(resolve_srv(r, "_blockd._tcp.dnsfs.test.", srv, 4, NULL, &e), -EAGAIN);
	ck_assert_ptr_nonnull(strstr(e.msg, "SERVFAIL"));
	ck_assert_int_le(time(NULL) - t0, 6);
	ck_assert_int_eq(resolve_addrs(r, "blockd-1.n.dnsfs.test.", addrs, 2, &e), -EAGAIN);
	resolve_free(r);
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("resolve");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, no_server_fails_fast);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(resolve_suite)
