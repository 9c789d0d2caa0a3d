/* httpd: a small HTTP/1.1 server on a libevent loop, with exact and prefix
 * routes, method checks and bounded requests; serves /metrics for every
 * daemon (and later blockd's API). The only file in lib/ that sees evhttp. */
#ifndef DNSFS_HTTPD_H
#define DNSFS_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct event_base;
struct metrics;

struct httpd;
struct httpd_req;       /* one request, valid only inside its handler */

/* Methods, as a bit mask for routes. */
enum httpd_method {
	HTTPD_GET = 1 << 0,
	HTTPD_HEAD = 1 << 1,
	HTTPD_PUT = 1 << 2,
	HTTPD_POST = 1 << 3,
	HTTPD_DELETE = 1 << 4,
	HTTPD_OPTIONS = 1 << 5,
	HTTPD_PATCH = 1 << 6,
	HTTPD_OTHER = 1 << 7,           /* TRACE, CONNECT */
};

#define HTTPD_MAX_HEADERS_DEFAULT 8192          /* bytes of request line + headers */
#define HTTPD_MAX_BODY_DEFAULT (64 * 1024)      /* bytes of request body */
#define HTTPD_TIMEOUT_DEFAULT 30                /* seconds a connection may idle */

/* A handler answers with exactly one httpd_reply* call before it returns;
 * if it does not, httpd answers 500 and logs the route. */
typedef void (*httpd_handler_fn)(struct httpd_req *r, void *arg);

/* Listen on addr_port: "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all IPv4
 * addresses); PORT 0 picks a free one (see httpd_port). HOST may be a name;
 * its first address is used. The server runs on base. NULL on failure, with
 * e->code -EINVAL (bad address), -EADDRINUSE, -EACCES, ... and a message. */
struct httpd *httpd_new(struct event_base *base, const char *addr_port, struct err *e);
/* Close the listener and every connection (pending requests are dropped).
 * NULL is ok. Not from inside a handler. */
void httpd_free(struct httpd *h);

/* The port actually bound (host byte order). */
int httpd_port(const struct httpd *h);

/* Request bounds: headers larger than max_headers bytes are answered 400
 * (libevent's choice), bodies larger than max_body with 413; idle or slow
 * connections are closed after timeout_s seconds. Applies to new requests. */
void httpd_set_limits(struct httpd *h, size_t max_headers, size_t max_body, int timeout_s);

/* Route requests for path to fn(r, arg). path is matched exactly, unless it
 * ends in '*': then it is a prefix (as "/v1/blocks/" "*"; the longest one wins, an
 * exact route beats every prefix). methods is a mask of enum httpd_method;
 * other methods get 405 with an Allow header. Unrouted paths get 404.
 * -EINVAL for a path not starting with '/' or an empty mask, -EEXIST for a
 * path routed already, -ENOMEM. */
int httpd_route(struct httpd *h, const char *path, unsigned methods,
		httpd_handler_fn fn, void *arg, struct err *e);

/* Serve m at path for GET and HEAD as METRICS_CONTENT_TYPE (rendered anew
 * for every request; 500 if that runs out of memory). m is not owned and
 * must outlive h. */
int httpd_route_metrics(struct httpd *h, const char *path, struct metrics *m,
			struct err *e);

/* ---------------------------------------------------------- a request --- */

enum httpd_method httpd_req_method(const struct httpd_req *r);
/* The path as sent (percent-escapes not decoded), without the query. */
const char *httpd_req_path(const struct httpd_req *r);
/* The query string after '?', or NULL. */
const char *httpd_req_query(const struct httpd_req *r);
/* The value of a request header (name in any case), or NULL. */
const char *httpd_req_header(const struct httpd_req *r, const char *name);
/* The client's address as "ADDR:PORT" ("[V6]:PORT") into buf, for logs;
 * "?" if unknown. Returns buf. */
const char *httpd_req_peer(const struct httpd_req *r, char *buf, size_t len);
/* The request body (at most the max_body limit) and its length. */
size_t httpd_req_body(struct httpd_req *r, const void **data);

/* Add a response header (before the reply). -EINVAL if name or value holds
 * CR or LF (libevent refuses those). */
int httpd_reply_header(struct httpd_req *r, const char *name, const char *value);
/* Reply status with a copy of body (len bytes; NULL/0 for none) typed
 * content_type (NULL: no Content-Type). For HEAD the body is left out but
 * its Content-Length is sent; a HEAD handler that has no body to make may
 * set Content-Length itself (httpd_reply_header) and reply with none. */
void httpd_reply(struct httpd_req *r, int status, const char *content_type,
		 const void *body, size_t len);
/* The same, taking ownership of a malloc'd body (freed once sent). */
void httpd_reply_take(struct httpd_req *r, int status, const char *content_type,
		      void *body, size_t len);
/* The same, with len bytes of the open file fd from offset off as the body,
 * sent by the kernel (sendfile where libevent has it, else mmap), never
 * copied through user space. Takes fd in every case: it is closed once
 * the body is sent, or at once on an error (then the reply is a 500). The
 * file must not shrink while it is being sent (blockd's block files are
 * immutable: replaced by rename, never rewritten). */
void httpd_reply_file(struct httpd_req *r, int status, const char *content_type,
		      int fd, uint64_t off, uint64_t len);
/* Reply status with a one-line text/plain body such as "404 Not Found\n". */
void httpd_reply_error(struct httpd_req *r, int status);

/* "Not Found" for 404 and so on; "Unknown" for codes httpd never uses. */
const char *httpd_reason(int status);

#endif
