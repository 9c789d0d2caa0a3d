/* httpc: a small HTTP/1.1 client on plain non-blocking sockets: keep-alive
 * connection pools per server, and many requests in flight at once from the
 * calling thread (poll), so a block client can PUT to three nodes in parallel
 * without threads of its own. The only socket code of the block client. */
#ifndef DNSFS_HTTPC_H
#define DNSFS_HTTPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

#define HTTPC_HEAD_MAX 2048       /* request line + headers we send */
#define HTTPC_RESP_HEAD_MAX 8192  /* response status line + headers we accept */
#define HTTPC_IN_MAX 16384        /* receive staging buffer */
#define HTTPC_ERRBODY_MAX 4096    /* body kept of a non-2xx answer */
#define HTTPC_WHY_MAX 192

/* One server: its address and idle keep-alive connections. Thread-safe;
 * requests of many threads share it. */
struct httpc_pool;

/* addr is "host:port" or "[v6addr]:port"; the host is resolved now (once).
 * max_idle connections are kept open between requests (0: none). */
int httpc_pool_new(struct httpc_pool **out, const char *addr, unsigned max_idle,
		   struct err *e);
void httpc_pool_free(struct httpc_pool *p);    /* closes idle connections */
const char *httpc_pool_addr(const struct httpc_pool *p);
/* Connections that failed to connect mark the pool down for a while; a
 * caller choosing among replicas tries such servers last. */
int httpc_pool_is_down(const struct httpc_pool *p);
/* Idle connections now kept (for tests). */
unsigned httpc_pool_idle(struct httpc_pool *p);

enum httpc_state {
	HTTPC_IDLE = 0,           /* not started */
	HTTPC_CONNECTING,
	HTTPC_SENDING,
	HTTPC_READING,
	HTTPC_DONE,               /* finished: see err and status */
};

/* Extra header lines for one attempt (e.g. a fresh signature); write them,
 * each ending in "\r\n", to buf and return their length, or a negative errno.
 * Called again when a request is retried on a new connection. */
typedef int (*httpc_headers_fn)(void *arg, const char *method, const char *target,
				char *buf, size_t len);

/* One request. Fill the "in" fields (after httpc_req_init), httpc_start it,
 * and drive it with httpc_wait until state is HTTPC_DONE. */
struct httpc_req {
	/* ---- in ---- */
	struct httpc_pool *pool;        /* the server; not owned */
	const char *method;             /* "GET", "PUT", "HEAD", "DELETE" */
	const char *target;             /* "/v1/blocks/<hex>"; kept until done */
	httpc_headers_fn headers;       /* may be NULL */
	void *headers_arg;
	const void *body;               /* request body (PUT), body_len bytes; not owned */
	size_t body_len;
	void *out;                      /* if not NULL: a 2xx body must be exactly */
	size_t out_len;                 /*   out_len bytes and is read into out */
	size_t body_max;                /* else: largest body accepted (malloc'd) */
	int connect_timeout_ms;         /* connect (TCP handshake) limit */
	int io_timeout_ms;              /* longest wait without progress after it */
	/* ---- out (valid in HTTPC_DONE) ---- */
	int err;                        /* 0 if an HTTP answer came, else -errno:
					 * -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET,
					 * -EPROTO (not HTTP), -EFBIG (body over
					 * body_max), -EBADMSG (2xx body not out_len) */
	int status;                     /* HTTP status; 0 if none */
	uint8_t *resp;                  /* answer body when out is NULL or the status
					 * is not 2xx (at most HTTPC_ERRBODY_MAX kept
					 * then); owned, freed by httpc_req_release */
	size_t resp_n;                  /* bytes of answer body, in resp or out */
	char why[HTTPC_WHY_MAX];        /* transport error or "404 Not Found: text" */
	int reused;                     /* the answer came on a kept connection */
	/* ---- private ---- */
	enum httpc_state state;
	int fd;
	int attempt;                    /* 0, or 1 after a retry on a new connection */
	int64_t deadline_ms;
	char head[HTTPC_HEAD_MAX];      /* request line and headers */
	size_t head_len;
	size_t sent;                    /* of head_len + body_len */
	uint8_t in[HTTPC_IN_MAX];       /* received, not yet parsed */
	size_t in_off, in_len;
	int got_bytes;                  /* any response byte this attempt */
	int rstate;                     /* response parser state */
	int keepalive;                  /* the server keeps the connection */
	int head_only;                  /* no body follows (HEAD, 204, 304) */
	int chunked;
	uint64_t left;                  /* body or chunk bytes still to come */
	int has_len;                    /* Content-Length given */
	size_t resp_cap;                /* allocated for resp */
	int into_out;                   /* body goes to out */
};

void httpc_req_init(struct httpc_req *r);
/* Free the body and close a connection still held; back to the init state
 * (the in fields are kept, so a request can be started again). */
void httpc_req_release(struct httpc_req *r);

/* Begin: take an idle connection of the pool or connect a new one. Failures
 * that happen here already finish the request (state HTTPC_DONE). */
void httpc_start(struct httpc_req *r);

/* Drive the started requests among v[0..n) (others are skipped) until at
 * least one more has finished or none is in progress. Returns how many are
 * still in progress. A request whose kept connection turns out closed by the
 * server before any answer is retried once on a new connection (the methods
 * used here are idempotent). Finished connections go back to their pool when
 * the server keeps them. */
size_t httpc_wait(struct httpc_req **v, size_t n);

/* Start and finish one request. 0 if it got an HTTP answer (any status). */
int httpc_do(struct httpc_req *r);

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC). */
int64_t httpc_now_ms(void);

#endif
