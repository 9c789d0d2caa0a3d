/* Unit tests for lib/httpd: address parsing and bind errors, routes, and
 * real requests over loopback to a server whose event loop runs in a thread
 * (replies, file bodies, 404, 405 with Allow, 500 for a silent handler, 413,
 * HEAD). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "httpd.h"
#include "metrics.h"

/* A server on 127.0.0.1:0 whose loop runs in a thread until /quit. */
struct server {
	struct event_base *base;
	struct httpd *h;
	struct metrics *m;
	pthread_t thread;
};

static void quit_handler(struct httpd_req *r, void *arg)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

	/* leave the loop once the reply is out */
	httpd_reply(r, 200, "text/plain", "bye\n", 4);
	event_base_loopexit(arg, &tv);
}

/* Echo what the request was, for the checks below. */
static void echo_handler(struct httpd_req *r, void *arg)
{
	const void *body;
	size_t len = httpd_req_body(r, &body);
	const char *q = httpd_req_query(r), *x = httpd_req_header(r, "x-test");
	char out[512];
	int n;

	n = snprintf(out, sizeof(out), "%s %d %s q=%s x=%s body=%.*s", (const char *)arg,
		     httpd_req_method(r), httpd_req_path(r), q ? q : "-", x ? x : "-",
		     (int)len, len ? (const char *)body : "");
	ck_assert_int_eq(httpd_reply_header(r, "X-Bad", "a\r\nInjected: 1"), -EINVAL);
	ck_assert_int_eq(httpd_reply_header(r, "X-Route", (const char *)arg), 0);
	httpd_reply(r, 201, "text/plain", out, (size_t)n);
}

/* /file?OFF,LEN: that slice of a temp file holding "0123456789abcdef" * 8,
 * by httpd_reply_file (fd handed over, unlinked already). */
static void file_handler(struct httpd_req *r, void *arg)
{
	char path[] = "/tmp/check_httpd.XXXXXX";
	unsigned long off = 0, len = 0;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(write(fd, "0123456789abcdef", 16), 16);
	sscanf(httpd_req_query(r) ? httpd_req_query(r) : "", "%lu,%lu", &off, &len);
	httpd_reply_file(r, len == 128 ? 200 : 206, "application/octet-stream", fd, off, len);
}

static void silent_handler(struct httpd_req *r, void *arg)
{
}

static void *loop(void *arg)
{
	struct server *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

static void server_start(struct server *s)
{
	struct err e = { 0 };
	struct metrics_family *f;

	s->base = event_base_new();
	ck_assert_ptr_nonnull(s->base);
	s->h = httpd_new(s->base, "127.0.0.1:0", &e);
	ck_assert_msg(s->h != NULL, "%s", e.msg);
	ck_assert_int_gt(httpd_port(s->h), 0);
	s->m = metrics_new();
	f = metrics_counter_family(s->m, "t_total", "Test.", METRICS_LABELS("k"), &e);
	metrics_counter_add(metrics_counter_get(f, "a\"b"), 7);
	ck_assert_int_eq(httpd_route_metrics(s->h, "/metrics", s->m, &e), 0);
	ck_assert_int_eq(httpd_route(s->h, "/quit", HTTPD_GET, quit_handler, s->base, &e), 0);
	ck_assert_int_eq(httpd_route(s->h, "/v1/*", HTTPD_GET, echo_handler, "v1", &e), 0);
	ck_assert_int_eq(httpd_route(s->h, "/v1/blocks/*", HTTPD_GET | HTTPD_PUT, echo_handler,
				     "blocks", &e), 0);
	ck_assert_int_eq(httpd_route(s->h, "/v1/blocks/list", HTTPD_GET, echo_handler, "list", &e), 0);
	ck_assert_int_eq(httpd_route(s->h, "/file", HTTPD_GET | HTTPD_HEAD, file_handler, NULL, &e), 0);
	ck_assert_int_eq(httpd_route(s->h, "/silent", HTTPD_GET, silent_handler, NULL, &e), 0);
	httpd_set_limits(s->h, 2048, 100, 5);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, loop, s), 0);
}

/* Send raw (a whole request, "Connection: close" style) and read the whole
 * response into out. Returns the status code, or -1. */
static int request(int port, const char *raw, size_t rawlen, char *out, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	size_t got = 0;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (size_t off = 0; off < rawlen; off += (size_t)n) {
		n = write(fd, raw + off, rawlen - off);
		if (n <= 0)
			break;
	}
	while (got + 1 < cap && (n = read(fd, out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	sscanf(out, "HTTP/1.%*d %d", &status);
	return status;
}

static int get(int port, const char *method, const char *target, char *out, size_t cap)
{
	char raw[512];
	int n = snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			 method, target);

	return request(port, raw, (size_t)n, out, cap);
}

static void server_stop(struct server *s)
{
	char out[256];

	ck_assert_int_eq(get(httpd_port(s->h), "GET", "/quit", out, sizeof(out)), 200);
	pthread_join(s->thread, NULL);
	httpd_free(s->h);
	metrics_free(s->m);
	event_base_free(s->base);
}

static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	return p ? p + 4 : "";
}

START_TEST(test_bad_addresses)
{
	static const char *const bad[] = {
		"", "nocolon", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80x", "::1:80",
		"[::1]80", "[::1", "127.0.0.1:-1", "no-such-host.invalid:80",
	};
	struct event_base *base = event_base_new();
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		ck_assert_msg(httpd_new(base, bad[i], &e) == NULL, "%s accepted", bad[i]);
		ck_assert_msg(e.code < 0 && e.msg[0] != '\0', "%s: no error", bad[i]);
	}
	err_clear(&e);
	httpd_new(base, "nocolon", &e);
	ck_assert_int_eq(e.code, -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "HOST:PORT"));
	event_base_free(base);
}
END_TEST

START_TEST(test_bind_errors)
{
	struct event_base *base = event_base_new();
	struct err e = { 0 };
	struct httpd *a, *b;
	char addr[64];

	a = httpd_new(base, "127.0.0.1:0", &e);
	ck_assert_ptr_nonnull(a);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", httpd_port(a));
	b = httpd_new(base, addr, &e);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(e.code, -EADDRINUSE);
	ck_assert_msg(strstr(e.msg, addr) != NULL, "%s", e.msg);
	/* an address this host does not have */
	b = httpd_new(base, "192.0.2.1:0", &e);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(e.code, -EADDRNOTAVAIL);
	/* ":PORT" listens on every IPv4 address */
	b = httpd_new(base, ":0", &e);
	ck_assert_msg(b != NULL, "%s", e.msg);
	httpd_free(b);
	/* IPv6 loopback, where the sandbox has it */
	b = httpd_new(base, "[::1]:0", &e);
	if (b != NULL)
		ck_assert_int_gt(httpd_port(b), 0);
	httpd_free(b);
	httpd_free(a);
	httpd_free(NULL);
	event_base_free(base);
}
END_TEST

START_TEST(test_route_errors)
{
	struct event_base *base = event_base_new();
	struct err e = { 0 };
	struct httpd *h = httpd_new(base, "127.0.0.1:0", &e);

	ck_assert_int_eq(httpd_route(h, "metrics", HTTPD_GET, silent_handler, NULL, &e), -EINVAL);
	ck_assert_int_eq(httpd_route(h, "", HTTPD_GET, silent_handler, NULL, &e), -EINVAL);
	ck_assert_int_eq(httpd_route(h, "/x", 0, silent_handler, NULL, &e), -EINVAL);
	ck_assert_int_eq(httpd_route(h, "/x", HTTPD_GET, NULL, NULL, &e), -EINVAL);
	ck_assert_int_eq(httpd_route(h, "/x", HTTPD_GET, silent_handler, NULL, &e), 0);
	ck_assert_int_eq(httpd_route(h, "/x", HTTPD_PUT, silent_handler, NULL, &e), -EEXIST);
	ck_assert_int_eq(httpd_route(h, "/x*", HTTPD_PUT, silent_handler, NULL, &e), 0);
	ck_assert_str_eq(httpd_reason(404), "Not Found");
	ck_assert_str_eq(httpd_reason(299), "Unknown");
	httpd_free(h);
	event_base_free(base);
}
END_TEST

START_TEST(test_requests)
{
	struct server s;
	char out[8192], big[4096], clen[64];
	int port, n;

	server_start(&s);
	port = httpd_port(s.h);

	ck_assert_int_eq(get(port, "GET", "/metrics", out, sizeof(out)), 200);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	ck_assert_str_eq(body_of(out), "# HELP t_total Test.\n# TYPE t_total counter\n"
				       "t_total{k=\"a\\\"b\"} 7\n");
	snprintf(clen, sizeof(clen), "\r\nContent-Length: %zu\r\n", strlen(body_of(out)));
	ck_assert_ptr_nonnull(strstr(out, clen));
	ck_assert_int_eq(get(port, "GET", "/metrics?debug=1", out, sizeof(out)), 200);

	/* HEAD: the length of the body, but no body */
	ck_assert_int_eq(get(port, "HEAD", "/metrics", out, sizeof(out)), 200);
	ck_assert_ptr_nonnull(strstr(out, clen));
	ck_assert_str_eq(body_of(out), "");

	/* a file descriptor as the body (sendfile): whole, a slice, empty, HEAD */
	ck_assert_int_eq(get(port, "GET", "/file?0,128", out, sizeof(out)), 200);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Length: 128\r\n"));
	ck_assert_uint_eq(strlen(body_of(out)), 128);
	ck_assert_int_eq(strncmp(body_of(out) + 112, "0123456789abcdef", 16), 0);
	ck_assert_int_eq(get(port, "GET", "/file?21,7", out, sizeof(out)), 206);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Length: 7\r\n"));
	ck_assert_str_eq(body_of(out), "56789ab");
	ck_assert_int_eq(get(port, "GET", "/file?5,0", out, sizeof(out)), 206);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Length: 0\r\n"));
	ck_assert_str_eq(body_of(out), "");
	ck_assert_int_eq(get(port, "HEAD", "/file?0,128", out, sizeof(out)), 200);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Length: 128\r\n"));
	ck_assert_str_eq(body_of(out), "");

	ck_assert_int_eq(get(port, "POST", "/metrics", out, sizeof(out)), 405);
	ck_assert_ptr_nonnull(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
	ck_assert_int_eq(get(port, "DELETE", "/metrics", out, sizeof(out)), 405);
	ck_assert_int_eq(get(port, "OPTIONS", "/metrics", out, sizeof(out)), 405);
	ck_assert_int_eq(get(port, "GET", "/nope", out, sizeof(out)), 404);
	ck_assert_str_eq(body_of(out), "404 Not Found\n");
	ck_assert_int_eq(get(port, "GET", "/metrics/", out, sizeof(out)), 404);
	ck_assert_int_eq(get(port, "POST", "/nope", out, sizeof(out)), 404);

	/* routes: exact beats prefix, the longest prefix wins */
	ck_assert_int_eq(get(port, "GET", "/v1/blocks/list", out, sizeof(out)), 201);
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nlist "));
	ck_assert_int_eq(get(port, "GET", "/v1/blocks/abc?x=1", out, sizeof(out)), 201);
	ck_assert_ptr_nonnull(strstr(out, "\r\nX-Route: blocks\r\n"));
	ck_assert_ptr_null(strstr(out, "Injected"));
	ck_assert_str_eq(body_of(out), "blocks 1 /v1/blocks/abc q=x=1 x=- body=");
	ck_assert_int_eq(get(port, "GET", "/v1/other", out, sizeof(out)), 201);
	ck_assert_str_eq(body_of(out), "v1 1 /v1/other q=- x=- body=");
	ck_assert_int_eq(get(port, "PUT", "/v1/other", out, sizeof(out)), 405);
	ck_assert_ptr_nonnull(strstr(out, "\r\nAllow: GET\r\n"));

	/* a body and a header reach the handler */
	n = snprintf(big, sizeof(big), "PUT /v1/blocks/h HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\n"
				      "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
	ck_assert_int_eq(request(port, big, (size_t)n, out, sizeof(out)), 201);
	ck_assert_str_eq(body_of(out), "blocks 4 /v1/blocks/h q=- x=yes body=hello");

	/* a handler that forgets to reply */
	ck_assert_int_eq(get(port, "GET", "/silent", out, sizeof(out)), 500);

	/* bounds: a body over 100 bytes, headers over 2 KiB */
	n = snprintf(big, sizeof(big), "PUT /v1/blocks/h HTTP/1.1\r\nHost: x\r\n"
				      "Content-Length: 101\r\nConnection: close\r\n\r\n%0101d", 0);
	ck_assert_int_eq(request(port, big, (size_t)n, out, sizeof(out)), 413);
	n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: %03000d\r\n"
				      "Connection: close\r\n\r\n", 0);
	ck_assert_int_ge(request(port, big, (size_t)n, out, sizeof(out)), 400);

	/* garbage is refused, and the server keeps serving */
	ck_assert_int_eq(request(port, "NOT HTTP\r\n\r\n", 12, out, sizeof(out)), 400);
	ck_assert_int_eq(get(port, "GET", "/metrics", out, sizeof(out)), 200);

	server_stop(&s);
}
END_TEST

static Suite *httpd_suite(void)
{
	Suite *s = suite_create("httpd");
	TCase *tc;

	tc = tcase_create("setup");
	tcase_add_test(tc, test_bad_addresses);
	tcase_add_test(tc, test_bind_errors);
	tcase_add_test(tc, test_route_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("requests");
	tcase_add_test(tc, test_requests);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(httpd_suite)
