/* httpc: HTTP/1.1 requests as small state machines over non-blocking
 * sockets (connect, send, read head, read body), driven together by one
 * poll loop; connections are kept per server and reused (see httpc.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

#define DOWN_MS 2000            /* a server that refused a connect is tried last this long */
#define WAIT_MAX 512            /* requests one httpc_wait drives */

struct httpc_pool {
	char addr[280];                 /* as given, for messages and Host: */
	struct sockaddr_storage sa;     /* resolved once */
	socklen_t salen;
	pthread_mutex_t lock;           /* guards idle[] and nidle */
	unsigned max_idle;
	unsigned nidle;
	int *idle;                      /* open connections, most recent last */
	_Atomic int64_t down_until;     /* httpc_now_ms() before which it is "down" */
};

/* Response parser states. */
enum {
	RS_HEAD = 0, RS_BODY, RS_CHUNK_SIZE, RS_CHUNK_DATA, RS_CHUNK_CRLF, RS_TRAILER,
	RS_EOF,
};

int64_t httpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ----------------------------------------------------------------- pools --- */

int httpc_pool_new(struct httpc_pool **out, const char *addr, unsigned max_idle,
		   struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256], port[8];
	const char *colon, *h = addr;
	size_t hl;
	struct httpc_pool *p;
	int r;

	*out = NULL;
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (rb == NULL || rb[1] != ':')
			return err_set(e, -EINVAL, "%s: not [address]:port", addr);
		h = addr + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return err_set(e, -EINVAL, "%s: not host:port", addr);
		hl = (size_t)(colon - addr);
	}
	if (hl == 0 || hl >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) || strlen(addr) >= sizeof(p->addr))
		return err_set(e, -EINVAL, "%s: not host:port", addr);
	for (const char *c = colon + 1; *c != '\0'; c++)
		if (!isdigit((unsigned char)*c))
			return err_set(e, -EINVAL, "%s: port is not a number", addr);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return err_set(e, -EHOSTUNREACH, "%s: %s", addr, gai_strerror(r));
	p = calloc(1, sizeof(*p));
	if (p == NULL || (max_idle > 0 && (p->idle = calloc(max_idle, sizeof(int))) == NULL)) {
		free(p);
		freeaddrinfo(ai);
		return err_set(e, -ENOMEM, "out of memory");
	}
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	memcpy(&p->sa, ai->ai_addr, ai->ai_addrlen);
	p->salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	p->max_idle = max_idle;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void httpc_pool_free(struct httpc_pool *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->nidle; i++)
		close(p->idle[i]);
	pthread_mutex_destroy(&p->lock);
	free(p->idle);
	free(p);
}

const char *httpc_pool_addr(const struct httpc_pool *p)
{
	return p->addr;
}

int httpc_pool_is_down(const struct httpc_pool *p)
{
	return atomic_load(&p->down_until) > httpc_now_ms();
}

unsigned httpc_pool_idle(struct httpc_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->nidle;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* An idle connection the server has not closed, or -1. A kept connection
 * must have nothing to read: readable means EOF or junk, so drop it. */
static int pool_take(struct httpc_pool *p)
{
	for (;;) {
		struct pollfd pf;
		int fd;

		pthread_mutex_lock(&p->lock);
		fd = p->nidle > 0 ? p->idle[--p->nidle] : -1;
		pthread_mutex_unlock(&p->lock);
		if (fd < 0)
			return -1;
		pf = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 0) == 0)
			return fd;
		close(fd);
	}
}

static void pool_put(struct httpc_pool *p, int fd)
{
	pthread_mutex_lock(&p->lock);
	if (p->nidle < p->max_idle) {
		p->idle[p->nidle++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&p->lock);
	if (fd >= 0)
		close(fd);
}

/* -------------------------------------------------------------- requests --- */

void httpc_req_init(struct httpc_req *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->body_max = 64u << 20;
	r->connect_timeout_ms = 2000;
	r->io_timeout_ms = 10000;
}

/* Forget the outcome and any connection, keep the in fields. */
static void req_reset(struct httpc_req *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->resp);
	r->fd = -1;
	r->resp = NULL;
	r->resp_n = 0;
	r->resp_cap = 0;
	r->err = 0;
	r->status = 0;
	r->why[0] = '\0';
	r->reused = 0;
	r->state = HTTPC_IDLE;
	r->attempt = 0;
}

void httpc_req_release(struct httpc_req *r)
{
	req_reset(r);
}

static void req_fail(struct httpc_req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void req_fail(struct httpc_req *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->err = err;
	r->state = HTTPC_DONE;
}

static void mark_down(struct httpc_pool *p)
{
	atomic_store(&p->down_until, httpc_now_ms() + DOWN_MS);
}

/* One attempt: build the head, get a connection, begin. */
static void attempt_start(struct httpc_req *r, int allow_reuse)
{
	int fd, n, extra = 0, one = 1;

	r->got_bytes = 0;
	r->rstate = RS_HEAD;
	r->in_off = r->in_len = 0;
	r->sent = 0;
	r->keepalive = 0;
	r->head_only = 0;
	r->chunked = 0;
	r->has_len = 0;
	r->left = 0;
	r->into_out = 0;
	free(r->resp);
	r->resp = NULL;
	r->resp_n = 0;
	r->resp_cap = 0;
	n = snprintf(r->head, sizeof(r->head), "%s %s HTTP/1.1\r\nHost: %s\r\n", r->method,
		     r->target, r->pool->addr);
	if (n > 0 && (size_t)n < sizeof(r->head) &&
	    (r->body_len > 0 || strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0))
		n += snprintf(r->head + n, sizeof(r->head) - (size_t)n, "Content-Length: %zu\r\n",
			      r->body_len);
	if (n > 0 && (size_t)n < sizeof(r->head) && r->headers != NULL) {
		extra = r->headers(r->headers_arg, r->method, r->target, r->head + n,
				   sizeof(r->head) - (size_t)n);
		if (extra < 0) {
			req_fail(r, extra, "cannot make request headers: %s", strerror(-extra));
			return;
		}
		n += extra;
	}
	if (n > 0 && (size_t)n < sizeof(r->head))
		n += snprintf(r->head + n, sizeof(r->head) - (size_t)n, "\r\n");
	if (n <= 0 || (size_t)n >= sizeof(r->head)) {
		req_fail(r, -E2BIG, "request head over %d bytes", HTTPC_HEAD_MAX);
		return;
	}
	r->head_len = (size_t)n;
	fd = allow_reuse ? pool_take(r->pool) : -1;
	if (fd >= 0) {
		r->fd = fd;
		r->reused = 1;
		r->state = HTTPC_SENDING;
		r->deadline_ms = httpc_now_ms() + r->io_timeout_ms;
		return;
	}
	r->reused = 0;
	fd = socket(r->pool->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		req_fail(r, -errno, "socket: %s", strerror(errno));
		return;
	}
	r->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&r->pool->sa, r->pool->salen) == 0) {
		r->state = HTTPC_SENDING;
		r->deadline_ms = httpc_now_ms() + r->io_timeout_ms;
	} else if (errno == EINPROGRESS) {
		r->state = HTTPC_CONNECTING;
		r->deadline_ms = httpc_now_ms() + r->connect_timeout_ms;
	} else {
		int er = errno;

		mark_down(r->pool);
		req_fail(r, -er, "connect: %s", strerror(er));
	}
}

void httpc_start(struct httpc_req *r)
{
	req_reset(r);
	attempt_start(r, 1);
}

/* A kept connection may have been closed by the server just as we reused
 * it; then (and only before any answer byte) try once on a new one. */
static int maybe_retry(struct httpc_req *r)
{
	if (!r->reused || r->got_bytes || r->attempt > 0)
		return 0;
	close(r->fd);
	r->fd = -1;
	r->attempt = 1;
	attempt_start(r, 0);
	return 1;
}

/* ---------------------------------------------------------------- parsing --- */

static int ieq_prefix(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && strncasecmp(s, lit, l) == 0;
}

/* Text of v (n bytes) without leading/trailing blanks. */
static void trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t'))
		(*v)++, (*n)--;
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t' || (*v)[*n - 1] == '\r'))
		(*n)--;
}

/* Parse the status line and headers in h[0..n) (ending before the blank
 * line). 0 or -EPROTO with r->why set. */
static int parse_head(struct httpc_req *r, const char *h, size_t n)
{
	const char *end = h + n, *line = h, *nl;
	int minor, keep_given = -1;

	if (n < 12 || memcmp(h, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)h[7]) ||
	    h[8] != ' ' || !isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) ||
	    !isdigit((unsigned char)h[11]) || (n > 12 && h[12] != ' ' && h[12] != '\r')) {
		snprintf(r->why, sizeof(r->why), "not an HTTP/1.x answer");
		return -EPROTO;
	}
	minor = h[7] - '0';
	r->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	/* keep the reason phrase for messages */
	nl = memchr(h, '\n', n);
	{
		size_t rl = (size_t)((nl != NULL ? nl : end) - h);

		while (rl > 0 && (h[rl - 1] == '\r'))
			rl--;
		snprintf(r->why, sizeof(r->why), "%.*s", (int)(rl > 9 ? rl - 9 : 0), h + 9);
	}
	r->has_len = 0;
	r->chunked = 0;
	for (line = nl != NULL ? nl + 1 : end; line < end; line = nl + 1) {
		const char *colon, *v;
		size_t ll, vn;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		ll = (size_t)(nl - line);
		colon = memchr(line, ':', ll);
		if (colon == NULL)
			continue;
		v = colon + 1;
		vn = ll - (size_t)(v - line);
		trim(&v, &vn);
		if (ieq_prefix(line, ll, "content-length:")) {
			uint64_t x = 0;

			if (vn == 0 || vn > 19) {
				snprintf(r->why, sizeof(r->why), "bad Content-Length");
				return -EPROTO;
			}
			for (size_t i = 0; i < vn; i++) {
				if (!isdigit((unsigned char)v[i])) {
					snprintf(r->why, sizeof(r->why), "bad Content-Length");
					return -EPROTO;
				}
				x = x * 10 + (uint64_t)(v[i] - '0');
			}
			r->has_len = 1;
			r->left = x;
		} else if (ieq_prefix(line, ll, "transfer-encoding:")) {
			if (vn >= 7 && strncasecmp(v + vn - 7, "chunked", 7) == 0)
				r->chunked = 1;
		} else if (ieq_prefix(line, ll, "connection:")) {
			if (vn >= 5 && strncasecmp(v, "close", 5) == 0)
				keep_given = 0;
			else if (vn >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
				keep_given = 1;
		}
	}
	r->keepalive = keep_given >= 0 ? keep_given : minor >= 1;
	return 0;
}

static int is_2xx(const struct httpc_req *r)
{
	return r->status >= 200 && r->status < 300;
}

/* Body bytes to wherever they go. 0 or a negative errno (request failed). */
static int sink(struct httpc_req *r, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (r->into_out) {
		if (r->resp_n + n > r->out_len) {
			req_fail(r, -EBADMSG, "body longer than the %zu bytes expected", r->out_len);
			return -EBADMSG;
		}
		memcpy((uint8_t *)r->out + r->resp_n, p, n);
		r->resp_n += n;
		return 0;
	}
	if (!is_2xx(r)) {               /* an error text: keep its start */
		if (r->resp_n >= HTTPC_ERRBODY_MAX)
			return 0;
		if (n > HTTPC_ERRBODY_MAX - r->resp_n)
			n = HTTPC_ERRBODY_MAX - r->resp_n;
	} else if (r->resp_n + n > r->body_max) {
		req_fail(r, -EFBIG, "body over %zu bytes", r->body_max);
		return -EFBIG;
	}
	if (r->resp_n + n > r->resp_cap) {
		size_t cap = r->resp_cap > 0 ? r->resp_cap : 4096;
		uint8_t *b;

		while (cap < r->resp_n + n)
			cap *= 2;
		if (is_2xx(r) && cap > r->body_max)
			cap = r->body_max;
		b = realloc(r->resp, cap);
		if (b == NULL) {
			req_fail(r, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		r->resp = b;
		r->resp_cap = cap;
	}
	memcpy(r->resp + r->resp_n, p, n);
	r->resp_n += n;
	return 0;
}

/* The answer is complete: check it, keep or close the connection. */
static void finish_ok(struct httpc_req *r)
{
	if (r->into_out && r->resp_n != r->out_len) {
		req_fail(r, -EBADMSG, "body of %zu bytes, expected %zu", r->resp_n, r->out_len);
		return;
	}
	if (!is_2xx(r) && r->resp_n > 0) {
		/* "404 Not Found: <first line of the text>" */
		size_t l = strlen(r->why), k = 0;

		/* a body that repeats the status line ("404 Not Found: why")
		 * replaces it rather than being appended */
		int repeat = r->resp_n >= 4 && memcmp(r->resp, r->why, 3) == 0 && r->resp[3] == ' ';

		if (repeat)
			l = 0;
		if (l + 3 < sizeof(r->why)) {
			if (!repeat) {
				r->why[l++] = ':';
				r->why[l++] = ' ';
			}
			while (k < r->resp_n && l + 1 < sizeof(r->why) && r->resp[k] != '\n' &&
			       r->resp[k] != '\r') {
				char c = (char)r->resp[k++];

				r->why[l++] = c >= 0x20 && c < 0x7f ? c : '?';
			}
			r->why[l] = '\0';
		}
	}
	if (r->keepalive && r->in_off == r->in_len && r->sent == r->head_len + r->body_len)
		pool_put(r->pool, r->fd);
	else
		close(r->fd);
	r->fd = -1;
	r->err = 0;
	r->state = HTTPC_DONE;
	atomic_store(&r->pool->down_until, 0);
}

/* Where the body goes, once the head is known. 0 or failed. */
static int body_begin(struct httpc_req *r)
{
	r->into_out = is_2xx(r) && r->out != NULL && !r->head_only;
	if (r->into_out && r->has_len && !r->chunked && r->left != r->out_len) {
		req_fail(r, -EBADMSG, "body of %llu bytes, expected %zu",
			 (unsigned long long)r->left, r->out_len);
		return -EBADMSG;
	}
	if (!r->into_out && is_2xx(r) && r->has_len && !r->chunked && !r->head_only &&
	    r->left > r->body_max) {
		req_fail(r, -EFBIG, "body of %llu bytes, over %zu", (unsigned long long)r->left,
			 r->body_max);
		return -EFBIG;
	}
	return 0;
}

/* Consume what is in r->in. Returns 1 when the answer is complete, 0 for
 * "need more", -1 when the request failed (already finished). */
static int parse(struct httpc_req *r)
{
	for (;;) {
		uint8_t *p = r->in + r->in_off;
		size_t avail = r->in_len - r->in_off;
		const uint8_t *eol;

		switch (r->rstate) {
		case RS_HEAD: {
			const uint8_t *end = memmem(p, avail, "\r\n\r\n", 4);
			int rc;

			if (end == NULL) {
				if (avail > HTTPC_RESP_HEAD_MAX) {
					req_fail(r, -EPROTO, "answer head over %d bytes",
						 HTTPC_RESP_HEAD_MAX);
					return -1;
				}
				return 0;
			}
			rc = parse_head(r, (const char *)p, (size_t)(end - p) + 2);
			if (rc < 0) {
				req_fail(r, rc, "%s", r->why);
				return -1;
			}
			r->in_off += (size_t)(end - p) + 4;
			if (r->status >= 100 && r->status < 200)
				continue;               /* 100 Continue and friends */
			r->head_only = strcmp(r->method, "HEAD") == 0 || r->status == 204 ||
				       r->status == 304;
			if (body_begin(r) < 0)
				return -1;
			if (r->head_only)
				return 1;
			if (r->chunked)
				r->rstate = RS_CHUNK_SIZE;
			else if (r->has_len)
				r->rstate = RS_BODY;
			else {
				r->rstate = RS_EOF;
				r->keepalive = 0;
			}
			if (r->rstate == RS_BODY && r->left == 0)
				return 1;
			continue;
		}
		case RS_BODY:
		case RS_CHUNK_DATA: {
			size_t n = avail < r->left ? avail : (size_t)r->left;

			if (n == 0)
				return 0;
			if (sink(r, p, n) < 0)
				return -1;
			r->in_off += n;
			r->left -= n;
			if (r->left > 0)
				return 0;
			if (r->rstate == RS_BODY)
				return 1;
			r->rstate = RS_CHUNK_CRLF;
			continue;
		}
		case RS_CHUNK_CRLF:
			if (avail < 2)
				return 0;
			if (p[0] != '\r' || p[1] != '\n') {
				req_fail(r, -EPROTO, "bad chunked encoding");
				return -1;
			}
			r->in_off += 2;
			r->rstate = RS_CHUNK_SIZE;
			continue;
		case RS_CHUNK_SIZE: {
			uint64_t size = 0;
			size_t i = 0;

			eol = memmem(p, avail, "\r\n", 2);
			if (eol == NULL) {
				if (avail > 256) {
					req_fail(r, -EPROTO, "bad chunked encoding");
					return -1;
				}
				return 0;
			}
			for (; p + i < eol && isxdigit(p[i]) && i < 15; i++)
				size = size * 16 + (uint64_t)(isdigit(p[i]) ? p[i] - '0'
								: (tolower(p[i]) - 'a' + 10));
			if (i == 0 || (p + i < eol && p[i] != ';' && p[i] != ' ')) {
				req_fail(r, -EPROTO, "bad chunk size");
				return -1;
			}
			r->in_off += (size_t)(eol - p) + 2;
			r->left = size;
			r->rstate = size == 0 ? RS_TRAILER : RS_CHUNK_DATA;
			continue;
		}
		case RS_TRAILER:
			eol = memmem(p, avail, "\r\n", 2);
			if (eol == NULL) {
				if (avail > HTTPC_RESP_HEAD_MAX) {
					req_fail(r, -EPROTO, "trailer too long");
					return -1;
				}
				return 0;
			}
			r->in_off += (size_t)(eol - p) + 2;
			if (eol == p)
				return 1;
			continue;
		case RS_EOF:
			if (sink(r, p, avail) < 0)
				return -1;
			r->in_off += avail;
			return 0;
		}
	}
}

/* ----------------------------------------------------------------- events --- */

static void on_connect(struct httpc_req *r)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr != 0) {
		mark_down(r->pool);
		req_fail(r, -soerr, "connect: %s", strerror(soerr));
		return;
	}
	r->state = HTTPC_SENDING;
	r->deadline_ms = httpc_now_ms() + r->io_timeout_ms;
}

static void on_send(struct httpc_req *r)
{
	size_t total = r->head_len + r->body_len;

	while (r->sent < total) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		if (r->sent < r->head_len) {
			iov[0] = (struct iovec){ r->head + r->sent, r->head_len - r->sent };
			iov[1] = (struct iovec){ (void *)r->body, r->body_len };
			mh.msg_iovlen = r->body_len > 0 ? 2 : 1;
		} else {
			size_t off = r->sent - r->head_len;

			iov[0] = (struct iovec){ (uint8_t *)r->body + off, r->body_len - off };
			mh.msg_iovlen = 1;
		}
		n = sendmsg(r->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			int er = errno;

			if (maybe_retry(r))
				return;
			/* The server may have answered and closed early (413,
			 * 401): read what it said. */
			r->state = HTTPC_READING;
			r->keepalive = 0;
			r->deadline_ms = httpc_now_ms() + r->io_timeout_ms;
			snprintf(r->why, sizeof(r->why), "send: %s", strerror(er));
			return;
		}
		r->sent += (size_t)n;
		r->deadline_ms = httpc_now_ms() + r->io_timeout_ms;
	}
	r->state = HTTPC_READING;
}

static void on_read(struct httpc_req *r)
{
	for (;;) {
		uint8_t *dst;
		size_t room;
		ssize_t n;
		int rc;

		/* Large bodies go straight to out, not through r->in. */
		if (r->rstate == RS_BODY && r->into_out && r->in_off == r->in_len && r->left > 0) {
			dst = (uint8_t *)r->out + r->resp_n;
			room = r->left;
		} else {
			if (r->in_off == r->in_len) {
				r->in_off = r->in_len = 0;
			} else if (r->in_off > 0 && r->in_len == sizeof(r->in)) {
				memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
				r->in_len -= r->in_off;
				r->in_off = 0;
			}
			dst = r->in + r->in_len;
			room = sizeof(r->in) - r->in_len;
		}
		n = recv(r->fd, dst, room, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			int er = errno;

			if (maybe_retry(r))
				return;
			req_fail(r, er == ECONNRESET ? -ECONNRESET : -er, "recv: %s", strerror(er));
			return;
		}
		if (n == 0) {
			if (r->rstate == RS_EOF) {
				finish_ok(r);
				return;
			}
			if (maybe_retry(r))
				return;
			req_fail(r, -ECONNRESET, "connection closed %s",
				 r->got_bytes ? "in the middle of the answer" : "before an answer");
			return;
		}
		r->got_bytes = 1;
		r->deadline_ms = httpc_now_ms() + r->io_timeout_ms;
		if (dst != r->in + r->in_len) {
			r->resp_n += (size_t)n;
			r->left -= (size_t)n;
			if (r->left == 0) {
				finish_ok(r);
				return;
			}
			continue;
		}
		r->in_len += (size_t)n;
		rc = parse(r);
		if (rc < 0)
			return;
		if (rc > 0) {
			finish_ok(r);
			return;
		}
	}
}

static int active(const struct httpc_req *r)
{
	return r->state == HTTPC_CONNECTING || r->state == HTTPC_SENDING ||
	       r->state == HTTPC_READING;
}

size_t httpc_wait(struct httpc_req **v, size_t n)
{
	struct pollfd pf[WAIT_MAX];
	size_t idx[WAIT_MAX];

	for (;;) {
		size_t np = 0, nactive = 0, finished = 0;
		int64_t now = httpc_now_ms(), next = INT64_MAX;
		int rc;

		for (size_t i = 0; i < n && np < WAIT_MAX; i++) {
			struct httpc_req *r = v[i];

			if (r == NULL || !active(r))
				continue;
			if (r->deadline_ms <= now) {
				if (r->state == HTTPC_CONNECTING)
					mark_down(r->pool);
				req_fail(r, -ETIMEDOUT, "%s timed out after %d ms",
					 r->state == HTTPC_CONNECTING ? "connect" :
					 r->state == HTTPC_SENDING ? "send" : "answer",
					 r->state == HTTPC_CONNECTING ? r->connect_timeout_ms
								      : r->io_timeout_ms);
				finished++;
				continue;
			}
			pf[np].fd = r->fd;
			pf[np].events = r->state == HTTPC_READING ? POLLIN :
					r->state == HTTPC_SENDING ? POLLOUT | POLLIN : POLLOUT;
			pf[np].revents = 0;
			idx[np++] = i;
			if (r->deadline_ms < next)
				next = r->deadline_ms;
		}
		if (finished > 0 || np == 0) {
			for (size_t i = 0; i < n; i++)
				nactive += v[i] != NULL && active(v[i]);
			return nactive;
		}
		rc = poll(pf, np, (int)(next - now));
		if (rc < 0 && errno != EINTR)
			rc = 0;                 /* cannot happen with valid fds; deadlines end it */
		for (size_t j = 0; rc > 0 && j < np; j++) {
			struct httpc_req *r = v[idx[j]];

			if (pf[j].revents == 0)
				continue;
			if (r->state == HTTPC_CONNECTING)
				on_connect(r);
			if (r->state == HTTPC_SENDING) {
				if (pf[j].revents & (POLLIN | POLLHUP | POLLERR)) {
					/* answered (or closed) before we were done */
					if (r->reused && !(pf[j].revents & POLLIN) && maybe_retry(r))
						continue;
					r->state = HTTPC_READING;
					r->keepalive = 0;
				} else {
					on_send(r);
				}
			}
			if (r->state == HTTPC_READING && (pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
				on_read(r);
			if (r->state == HTTPC_DONE)
				finished++;
		}
		if (finished > 0) {
			for (size_t i = 0; i < n; i++)
				nactive += v[i] != NULL && active(v[i]);
			return nactive;
		}
	}
}

int httpc_do(struct httpc_req *r)
{
	struct httpc_req *one = r;

	httpc_start(r);
	while (httpc_wait(&one, 1) > 0)
		;
	return r->err;
}
