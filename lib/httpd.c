/* httpd: routes and replies over libevent's evhttp (see httpd.h). We bind the
 * listening socket ourselves, so bind errors keep their errno, and route in
 * one general callback, so 404 and 405 are ours rather than evhttp's. */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "httpd.h"
#include "log.h"
#include "metrics.h"

#define HTTPD_BACKLOG 128

struct route {
	struct route *next;
	char *path;             /* owned; without the '*' of a prefix route */
	size_t len;             /* strlen(path) */
	int prefix;             /* path is a prefix */
	unsigned methods;       /* enum httpd_method mask */
	httpd_handler_fn fn;
	void *arg;
};

struct httpd {
	struct event_base *base;        /* not owned */
	struct evhttp *http;            /* owned */
	int port;                       /* bound, host order */
	struct route *routes;           /* owned */
};

/* Lives on the stack of dispatch() while the handler runs. */
struct httpd_req {
	struct evhttp_request *req;     /* libevent's; freed by libevent */
	enum httpd_method method;
	const char *path;               /* inside req */
	const char *query;              /* inside req, or NULL */
	int replied;                    /* exactly one reply per request */
};

const char *httpd_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

static const struct {
	enum httpd_method m;
	const char *name;
} method_names[] = {
	{ HTTPD_GET, "GET" }, { HTTPD_HEAD, "HEAD" }, { HTTPD_PUT, "PUT" },
	{ HTTPD_POST, "POST" }, { HTTPD_DELETE, "DELETE" }, { HTTPD_OPTIONS, "OPTIONS" },
	{ HTTPD_PATCH, "PATCH" },
};

static enum httpd_method method_of(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return HTTPD_GET;
	case EVHTTP_REQ_HEAD: return HTTPD_HEAD;
	case EVHTTP_REQ_PUT: return HTTPD_PUT;
	case EVHTTP_REQ_POST: return HTTPD_POST;
	case EVHTTP_REQ_DELETE: return HTTPD_DELETE;
	case EVHTTP_REQ_OPTIONS: return HTTPD_OPTIONS;
	case EVHTTP_REQ_PATCH: return HTTPD_PATCH;
	default: return HTTPD_OTHER;
	}
}

static const char *method_name(enum httpd_method m)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (method_names[i].m == m)
			return method_names[i].name;
	return "OTHER";
}

/* ------------------------------------------------------------- replies --- */

enum httpd_method httpd_req_method(const struct httpd_req *r)
{
	return r->method;
}

const char *httpd_req_path(const struct httpd_req *r)
{
	return r->path;
}

const char *httpd_req_query(const struct httpd_req *r)
{
	return r->query;
}

const char *httpd_req_header(const struct httpd_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const char *httpd_req_peer(const struct httpd_req *r, char *buf, size_t len)
{
	struct evhttp_connection *c = evhttp_request_get_connection(r->req);
	char *addr = NULL;
	ev_uint16_t port = 0;

	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	if (addr == NULL)
		snprintf(buf, len, "?");
	else if (strchr(addr, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", addr, (unsigned)port);
	else
		snprintf(buf, len, "%s:%u", addr, (unsigned)port);
	return buf;
}

size_t httpd_req_body(struct httpd_req *r, const void **data)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);

	*data = len > 0 ? evbuffer_pullup(in, -1) : NULL;
	if (*data == NULL)
		len = 0;
	return len;
}

int httpd_reply_header(struct httpd_req *r, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL ||
	    evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value) < 0)
		return -EINVAL;
	return 0;
}

/* Send what the output buffer holds. */
static void send_reply(struct httpd_req *r, int status, const char *content_type)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(r->req);
	size_t len = evbuffer_get_length(evhttp_request_get_output_buffer(r->req));

	assert(!r->replied);
	r->replied = 1;
	if (content_type != NULL)
		evhttp_add_header(hdr, "Content-Type", content_type);
	if (r->method == HTTPD_HEAD && (len > 0 || evhttp_find_header(hdr, "Content-Length") == NULL)) {
		/* evhttp (2.1) would send a HEAD reply's body and leave out its
		 * length: send the length and drop the body. (A handler that
		 * set Content-Length itself and sends no body keeps its own.) */
		char n[24];

		snprintf(n, sizeof(n), "%zu", len);
		evhttp_remove_header(hdr, "Content-Length");
		evhttp_add_header(hdr, "Content-Length", n);
		evbuffer_drain(evhttp_request_get_output_buffer(r->req), len);
	}
	/* Log first: the request may be freed by the send. */
	log_debug("httpd: %s %s %d", method_name(r->method), r->path ? r->path : "?", status);
	evhttp_send_reply(r->req, status, httpd_reason(status), NULL);
}

void httpd_reply(struct httpd_req *r, int status, const char *content_type,
		 const void *body, size_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);

	if (len > 0 && evbuffer_add(out, body, len) < 0) {
		evbuffer_drain(out, evbuffer_get_length(out));
		status = 500;
		content_type = NULL;
	}
	send_reply(r, status, content_type);
}

static void free_body(const void *data, size_t len, void *extra)
{
	free((void *)data);
}

void httpd_reply_take(struct httpd_req *r, int status, const char *content_type,
		      void *body, size_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);

	if (len == 0 || body == NULL) {
		free(body);
		send_reply(r, status, content_type);
		return;
	}
	if (evbuffer_add_reference(out, body, len, free_body, NULL) < 0) {
		free(body);
		httpd_reply_error(r, 500);
		return;
	}
	send_reply(r, status, content_type);
}

void httpd_reply_file(struct httpd_req *r, int status, const char *content_type,
		      int fd, uint64_t off, uint64_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);
	struct evbuffer_file_segment *seg;

	if (len == 0) {
		close(fd);
		send_reply(r, status, content_type);
		return;
	}
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off) {
		close(fd);
		httpd_reply_error(r, 500);
		return;
	}
	/* evhttp moves this buffer's chains to the connection's, which drains
	 * to the socket: with the flag set the file segment is added as a
	 * sendfile chain instead of being mapped or read. */
	evbuffer_set_flags(out, EVBUFFER_FLAG_DRAINS_TO_FD);
	seg = evbuffer_file_segment_new(fd, (ev_off_t)off, (ev_off_t)len, EVBUF_FS_CLOSE_ON_FREE);
	if (seg == NULL) {
		close(fd);
		httpd_reply_error(r, 500);
		return;
	}
	/* On failure evbuffer_add_file_segment drops the segment itself (and
	 * with it fd); on success the buffer holds its own reference. */
	if (evbuffer_add_file_segment(out, seg, 0, (ev_off_t)len) < 0) {
		httpd_reply_error(r, 500);
		return;
	}
	evbuffer_file_segment_free(seg);
	send_reply(r, status, content_type);
}

void httpd_reply_error(struct httpd_req *r, int status)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%d %s\n", status, httpd_reason(status));

	httpd_reply(r, status, "text/plain; charset=utf-8", line, (size_t)n);
}

/* ------------------------------------------------------------- routing --- */

static const struct route *route_find(const struct httpd *h, const char *path)
{
	const struct route *best = NULL;

	for (const struct route *rt = h->routes; rt != NULL; rt = rt->next) {
		if (!rt->prefix) {
			if (strcmp(rt->path, path) == 0)
				return rt;
		} else if (strncmp(rt->path, path, rt->len) == 0 &&
			   (best == NULL || rt->len > best->len)) {
			best = rt;
		}
	}
	return best;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct httpd *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct httpd_req r = {
		.req = req,
		.method = method_of(evhttp_request_get_command(req)),
		.path = uri ? evhttp_uri_get_path(uri) : NULL,
		.query = uri ? evhttp_uri_get_query(uri) : NULL,
	};
	const struct route *rt;

	if (r.path == NULL || r.path[0] != '/') {
		httpd_reply_error(&r, 400);
		return;
	}
	rt = route_find(h, r.path);
	if (rt == NULL) {
		httpd_reply_error(&r, 404);
		return;
	}
	if (!(rt->methods & r.method)) {
		char allow[64] = "";

		for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
			if (!(rt->methods & method_names[i].m))
				continue;
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, method_names[i].name);
		}
		httpd_reply_header(&r, "Allow", allow);
		httpd_reply_error(&r, 405);
		return;
	}
	rt->fn(&r, rt->arg);
	if (!r.replied) {
		log_err("httpd: the handler of %s%s did not reply", rt->path, rt->prefix ? "*" : "");
		httpd_reply_error(&r, 500);
	}
}

int httpd_route(struct httpd *h, const char *path, unsigned methods,
		httpd_handler_fn fn, void *arg, struct err *e)
{
	size_t len = path ? strlen(path) : 0;
	int prefix = len > 0 && path[len - 1] == '*';
	struct route *rt;

	if (len == 0 || path[0] != '/' || (methods & 0xff) == 0 || fn == NULL)
		return err_set(e, -EINVAL, "httpd route '%s': bad path or no methods",
			       path ? path : "(null)");
	len -= (size_t)prefix;
	for (rt = h->routes; rt != NULL; rt = rt->next)
		if (rt->prefix == prefix && rt->len == len && strncmp(rt->path, path, len) == 0)
			return err_set(e, -EEXIST, "httpd route '%s' exists", path);
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL || (rt->path = strndup(path, len)) == NULL) {
		free(rt);
		return err_set(e, -ENOMEM, "httpd route '%s': out of memory", path);
	}
	rt->len = len;
	rt->prefix = prefix;
	rt->methods = methods;
	rt->fn = fn;
	rt->arg = arg;
	rt->next = h->routes;
	h->routes = rt;
	return 0;
}

static void metrics_handler(struct httpd_req *r, void *arg)
{
	struct metrics_buf b = { 0 };

	if (metrics_render(arg, &b) < 0) {
		metrics_buf_release(&b);
		httpd_reply_error(r, 500);
		return;
	}
	httpd_reply_take(r, 200, METRICS_CONTENT_TYPE, b.data, b.len);
}

int httpd_route_metrics(struct httpd *h, const char *path, struct metrics *m, struct err *e)
{
	return httpd_route(h, path, HTTPD_GET | HTTPD_HEAD, metrics_handler, m, e);
}

/* ------------------------------------------------------------ listener --- */

/* "host:port", "[v6]:port", ":port" -> host (":port": 0.0.0.0) and port. */
static int parse_addr(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = s, *hend;
	size_t hl, pl;
	unsigned long p;
	char *end;

	if (s[0] == '[') {
		h = s + 1;
		hend = strchr(h, ']');
		if (hend == NULL || hend[1] != ':')
			return -EINVAL;
		colon = hend + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL;
		hend = colon;
	}
	hl = (size_t)(hend - h);
	pl = strlen(colon + 1);
	if (pl == 0 || pl >= portlen || hl >= hostlen || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p > 65535)
		return -EINVAL;
	if (hl == 0)
		snprintf(host, hostlen, "%s", s[0] == '[' ? "::" : "0.0.0.0");
	else
		snprintf(host, hostlen, "%.*s", (int)hl, h);
	snprintf(port, portlen, "%lu", p);
	return 0;
}

/* A listening socket on addr_port, or -errno. */
static int listen_on(const char *addr_port, int *bound_port, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8];
	int fd = -1, one = 1, rc;

	if (parse_addr(addr_port, host, sizeof(host), port, sizeof(port)) < 0)
		return err_set(e, -EINVAL, "httpd: bad address '%s' (want HOST:PORT or [V6]:PORT)",
			       addr_port);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return err_set(e, rc == EAI_SYSTEM ? -errno : -EINVAL, "httpd: %s: %s", addr_port,
			       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = err_set(e, -errno, "httpd: socket: %s", strerror(errno));
		goto fail;
	}
	/* TCP_NODELAY is inherited by accepted sockets (Linux): evhttp writes a
	 * reply in 16 KiB pieces, and Nagle would hold the last one back until
	 * the client's delayed ACK, 40 ms later, on every keep-alive request. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, HTTPD_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		rc = err_set(e, -errno, "httpd: listen on %s: %s", addr_port, strerror(errno));
		goto fail;
	}
	*bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

struct httpd *httpd_new(struct event_base *base, const char *addr_port, struct err *e)
{
	struct httpd *h = calloc(1, sizeof(*h));
	int fd = -1;

	if (h == NULL) {
		err_set(e, -ENOMEM, "httpd: out of memory");
		return NULL;
	}
	h->base = base;
	h->http = evhttp_new(base);
	if (h->http == NULL) {
		err_set(e, -ENOMEM, "httpd: evhttp_new failed");
		goto fail;
	}
	fd = listen_on(addr_port, &h->port, e);
	if (fd < 0)
		goto fail;
	if (evhttp_accept_socket_with_handle(h->http, fd) == NULL) {
		err_set(e, -ENOMEM, "httpd: cannot accept on %s", addr_port);
		close(fd);
		goto fail;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(h->http, NULL);
	evhttp_set_gencb(h->http, dispatch, h);
	httpd_set_limits(h, HTTPD_MAX_HEADERS_DEFAULT, HTTPD_MAX_BODY_DEFAULT,
			 HTTPD_TIMEOUT_DEFAULT);
	return h;
fail:
	httpd_free(h);
	return NULL;
}

void httpd_set_limits(struct httpd *h, size_t max_headers, size_t max_body, int timeout_s)
{
	evhttp_set_max_headers_size(h->http, (ev_ssize_t)max_headers);
	evhttp_set_max_body_size(h->http, (ev_ssize_t)max_body);
	evhttp_set_timeout(h->http, timeout_s);
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	for (struct route *rt = h->routes, *next; rt != NULL; rt = next) {
		next = rt->next;
		free(rt->path);
		free(rt);
	}
	free(h);
}
