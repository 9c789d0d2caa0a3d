/* api: the blockd HTTP handlers (see api.h and docs/OPERATIONS.md). Each
 * handler parses, checks the signature, calls the blockstore and replies once
 * through call_reply*, which also counts the request in the metrics. */
#include <errno.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "blockauth.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "scrub.h"
#include "tsig.h"

#define API_BLOCKS_PREFIX "/v1/blocks/"
#define API_OCTETS "application/octet-stream"
#define API_JSON "application/json"
#define API_NDJSON "application/x-ndjson"
#define API_TEXT "text/plain; charset=utf-8"
#define API_LIST_LINE_MAX 160           /* bytes of one listing line, with room */

struct api {
	struct blockstore *bs;
	struct scrub *scrub;
	struct metrics *m;
	const struct tsig_keyring *keys;
	struct blockauth_cache *nonces;
	int auth_reads;
	int verify_reads;
	uint64_t max_block;
	char *node_id;
	char *version;
	int64_t started;                /* unix seconds */
	uint64_t requests;              /* answered since start: the GC's load signal */
	struct hash empty;              /* SHA-256 of "" */
	struct metrics_family *f_requests;      /* {method, code} */
	struct metrics_family *f_latency;       /* {method} */
	struct metrics_family *f_auth;          /* {reason} */
	struct metrics_counter *m_in, *m_out, *m_read_corrupt;
	struct metrics_gauge *g_blocks, *g_bytes, *g_capacity, *g_free, *g_fs_size,
			     *g_fs_avail, *g_quarantined;
};

/* One request in a handler. */
struct call {
	struct api *a;
	struct httpd_req *r;
	const char *method;             /* "GET", ... */
	double t0;                      /* monotonic seconds at the start */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *method_str(enum httpd_method m)
{
	switch (m) {
	case HTTPD_GET: return "GET";
	case HTTPD_HEAD: return "HEAD";
	case HTTPD_PUT: return "PUT";
	case HTTPD_POST: return "POST";
	case HTTPD_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

static void call_init(struct call *c, struct api *a, struct httpd_req *r)
{
	c->a = a;
	c->r = r;
	c->method = method_str(httpd_req_method(r));
	c->t0 = mono_s();
}

/* Count the request; after the reply (c->r is not touched). */
static void call_count(struct call *c, int status, size_t out)
{
	char code[8];

	snprintf(code, sizeof(code), "%d", status);
	c->a->requests++;
	metrics_counter_inc(metrics_counter_get(c->a->f_requests, c->method, code));
	metrics_histogram_observe(metrics_histogram_get(c->a->f_latency, c->method),
				  mono_s() - c->t0);
	if (strcmp(c->method, "HEAD") != 0)
		metrics_counter_add(c->a->m_out, (double)out);
}

static void call_reply(struct call *c, int status, const char *ctype, const void *body,
		       size_t len)
{
	httpd_reply(c->r, status, ctype, body, len);
	call_count(c, status, len);
}

static void call_reply_take(struct call *c, int status, const char *ctype, void *body,
			    size_t len)
{
	httpd_reply_take(c->r, status, ctype, body, len);
	call_count(c, status, len);
}

/* "404 Not Found\n", or with a detail "400 Bad Request: why\n". */
static void call_error(struct call *c, int status, const char *detail)
{
	char line[ERR_MSG_MAX + 64];
	int n;

	if (detail != NULL && *detail != '\0')
		n = snprintf(line, sizeof(line), "%d %s: %s\n", status, httpd_reason(status),
			     detail);
	else
		n = snprintf(line, sizeof(line), "%d %s\n", status, httpd_reason(status));
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)strlen(line);
	call_reply(c, status, API_TEXT, line, (size_t)n);
}

/* ====================================================== signatures === */

static const char *auth_reason(const char *msg)
{
	static const struct { const char *prefix, *label; } reasons[] = {
		{ "missing", "missing" }, { "malformed", "malformed" },
		{ "unknown key", "unknown_key" }, { "stale", "stale" },
		{ "replay", "replay" }, { "bad signature", "bad_signature" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strncmp(msg, reasons[i].prefix, strlen(reasons[i].prefix)) == 0)
			return reasons[i].label;
	return "other";
}

/* 0 if the request is signed right; otherwise it has been answered 401 and
 * the failure logged, and -EACCES is returned. */
static int call_auth(struct call *c, const struct hash *body_hash)
{
	struct err e = {0};
	char peer[80];
	const char *path = httpd_req_path(c->r);
	int rc;

	rc = blockauth_verify(c->a->keys, c->a->nonces,
			      httpd_req_header(c->r, "Authorization"), c->method, path,
			      body_hash, time(NULL), &e);
	if (rc == 0)
		return 0;
	metrics_counter_inc(metrics_counter_get(c->a->f_auth, auth_reason(e.msg)));
	log_info("refused %s %s from %s: %s", c->method, path,
		 httpd_req_peer(c->r, peer, sizeof(peer)), e.msg);
	httpd_reply_header(c->r, "WWW-Authenticate", BLOCKAUTH_SCHEME);
	call_error(c, 401, e.msg);
	return -EACCES;
}

/* The body and its hash (of "" when there is none). */
static size_t call_body(struct call *c, const void **data, struct hash *h)
{
	size_t len = httpd_req_body(c->r, data);

	if (len > 0)
		hash_buf(h, *data, len);
	else
		*h = c->a->empty;
	metrics_counter_add(c->a->m_in, (double)len);
	return len;
}

/* ============================================================ parsers === */

int api_parse_block_path(const char *path, struct hash *h)
{
	size_t plen = strlen(API_BLOCKS_PREFIX);

	if (strncmp(path, API_BLOCKS_PREFIX, plen) != 0)
		return -EINVAL;
	path += plen;
	if (strlen(path) != HASH_HEX_LEN)
		return -EINVAL;
	return hash_from_hex(h, path, HASH_HEX_LEN);
}

/* Digits only, no sign, fits 63 bits. */
static int parse_uint(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 18)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int api_parse_range(const char *hdr, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char *dash, *end;
	uint64_t a, b;

	if (hdr == NULL || strncasecmp(hdr, "bytes=", 6) != 0)
		return 0;
	hdr += 6;
	hdr += strspn(hdr, " \t");
	end = hdr + strlen(hdr);
	while (end > hdr && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (memchr(hdr, ',', (size_t)(end - hdr)) != NULL)
		return 0;               /* several ranges: the whole body instead */
	dash = memchr(hdr, '-', (size_t)(end - hdr));
	if (dash == NULL)
		return 0;
	if (dash == hdr) {
		/* bytes=-N: the last N bytes */
		if (parse_uint(dash + 1, (size_t)(end - dash - 1), &b) < 0)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 1;
	}
	if (parse_uint(hdr, (size_t)(dash - hdr), &a) < 0)
		return 0;
	if (dash + 1 == end) {
		b = UINT64_MAX;
	} else {
		if (parse_uint(dash + 1, (size_t)(end - dash - 1), &b) < 0 || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

int api_parse_list_query(const char *query, struct hash *after, int *has_after,
			 size_t *limit, struct err *e)
{
	const char *p = query;

	*has_after = 0;
	*limit = API_LIST_DEFAULT;
	while (p != NULL && *p != '\0') {
		size_t plen = strcspn(p, "&");
		const char *eq = memchr(p, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - p) : plen;
		const char *v = eq != NULL ? eq + 1 : p + plen;
		size_t vlen = (size_t)(p + plen - v);
		uint64_t n;

		if (klen == 5 && strncmp(p, "after", 5) == 0) {
			if (vlen == 0) {
				*has_after = 0;
			} else if (vlen != HASH_HEX_LEN || hash_from_hex(after, v, vlen) < 0) {
				return err_set(e, -EINVAL, "after: expected %d hex digits",
					       HASH_HEX_LEN);
			} else {
				*has_after = 1;
			}
		} else if (klen == 5 && strncmp(p, "limit", 5) == 0) {
			if (parse_uint(v, vlen, &n) < 0 || n == 0 || n > BLOCKSTORE_LIST_MAX)
				return err_set(e, -EINVAL, "limit: expected 1..%d",
					       BLOCKSTORE_LIST_MAX);
			*limit = (size_t)n;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* ============================================================ /v1/blocks/<hash> === */

static void block_put(struct call *c, const struct hash *name)
{
	struct err e = {0};
	struct hash h;
	const void *data;
	size_t len = call_body(c, &data, &h);
	int rc;

	if (call_auth(c, &h) < 0)
		return;
	if (!hash_equal(&h, name)) {
		call_error(c, 400, "the body does not hash to the block name");
		return;
	}
	if (len > c->a->max_block) {
		call_error(c, 413, NULL);
		return;
	}
	rc = blockstore_put(c->a->bs, name, data, len, BLOCKSTORE_PUT_HASHED, &e);
	if (rc >= 0) {
		char etag[HASH_HEX_LEN + 3];

		etag[0] = '"';
		hash_to_hex(name, etag + 1);
		strcat(etag, "\"");
		httpd_reply_header(c->r, "ETag", etag);
		call_reply(c, rc == 1 ? 201 : 200, NULL, NULL, 0);
		return;
	}
	if (rc == -ENOSPC || rc == -EDQUOT) {
		log_warn("PUT: %s", e.msg);
		call_error(c, 507, e.msg);
		return;
	}
	log_err("PUT: %s", e.msg);
	call_error(c, 500, e.msg);
}

static void block_delete(struct call *c, const struct hash *name)
{
	struct err e = {0};
	struct hash h;
	const void *data;
	const char *cond;
	int rc;

	call_body(c, &data, &h);
	if (call_auth(c, &h) < 0)
		return;
	/* The GC's condition: refuse if the block was PUT (or re-PUT by a writer
	 * that dedups against it) at or after the cut-off. This loop is the only
	 * thread touching the store, so no PUT can land between stat and unlink. */
	cond = httpd_req_header(c->r, "X-Dnsfs-Unmodified-Before");
	if (cond != NULL) {
		struct blockstore_info info;
		uint64_t before;

		if (parse_uint(cond, strlen(cond), &before) < 0) {
			call_error(c, 400, "X-Dnsfs-Unmodified-Before: expected Unix seconds");
			return;
		}
		rc = blockstore_stat(c->a->bs, name, &info, &e);
		if (rc == 0 && info.mtime >= (int64_t)before) {
			call_error(c, 412, "the block was stored or re-used since the cut-off");
			return;
		}
	}
	rc = blockstore_delete(c->a->bs, name, &e);
	if (rc == 0) {
		call_reply(c, 204, NULL, NULL, 0);
	} else if (rc == -ENOENT) {
		call_error(c, 404, NULL);
	} else {
		log_err("DELETE: %s", e.msg);
		call_error(c, 500, e.msg);
	}
}

static void block_headers(struct call *c, const struct hash *name)
{
	char etag[HASH_HEX_LEN + 3];

	etag[0] = '"';
	hash_to_hex(name, etag + 1);
	strcat(etag, "\"");
	httpd_reply_header(c->r, "ETag", etag);
	httpd_reply_header(c->r, "Accept-Ranges", "bytes");
}

static void block_head(struct call *c, const struct hash *name)
{
	struct blockstore_info info;
	struct err e = {0};
	char n[24];
	int rc = blockstore_stat(c->a->bs, name, &info, &e);

	if (rc == -ENOENT) {
		call_reply(c, 404, NULL, NULL, 0);
		return;
	}
	if (rc < 0) {
		log_err("HEAD: %s", e.msg);
		call_reply(c, 500, NULL, NULL, 0);
		return;
	}
	block_headers(c, name);
	snprintf(n, sizeof(n), "%" PRIu64, info.size);
	httpd_reply_header(c->r, "Content-Length", n);
	call_reply(c, 200, API_OCTETS, NULL, 0);
}

/* GET without verification: the block file goes to the socket by sendfile,
 * never through this process's memory. */
static void block_get_file(struct call *c, const struct hash *name)
{
	struct err e = {0};
	uint64_t size, off, len;
	char cr[80];
	int fd = blockstore_open_read(c->a->bs, name, &size, &e);

	if (fd == -ENOENT) {
		call_error(c, 404, NULL);
		return;
	}
	if (fd < 0) {
		log_err("GET: %s", e.msg);
		call_error(c, 500, e.msg);
		return;
	}
	block_headers(c, name);
	switch (api_parse_range(httpd_req_header(c->r, "Range"), size, &off, &len)) {
	case 1:
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
			 off + len - 1, size);
		httpd_reply_header(c->r, "Content-Range", cr);
		httpd_reply_file(c->r, 206, API_OCTETS, fd, off, len);
		call_count(c, 206, (size_t)len);
		return;
	case -1:
		close(fd);
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		httpd_reply_header(c->r, "Content-Range", cr);
		call_error(c, 416, NULL);
		return;
	default:
		httpd_reply_file(c->r, 200, API_OCTETS, fd, 0, size);
		call_count(c, 200, (size_t)size);
	}
}

static void block_get(struct call *c, const struct hash *name)
{
	struct err e = {0};
	uint64_t off, len;
	char cr[80];
	void *data;
	size_t size;
	int rc;

	if (!c->a->verify_reads) {
		block_get_file(c, name);
		return;
	}
	rc = blockstore_get(c->a->bs, name, BLOCKSTORE_VERIFY, &data, &size, &e);
	if (rc == -ENOENT) {
		call_error(c, 404, NULL);
		return;
	}
	if (rc == -EBADMSG) {
		/* Quarantined now: for the client it is gone, like any lost block. */
		metrics_counter_inc(c->a->m_read_corrupt);
		call_error(c, 404, "the stored block failed verification and was quarantined");
		return;
	}
	if (rc < 0) {
		log_err("GET: %s", e.msg);
		call_error(c, 500, e.msg);
		return;
	}
	block_headers(c, name);
	switch (api_parse_range(httpd_req_header(c->r, "Range"), size, &off, &len)) {
	case 1:
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%zu", off, off + len - 1,
			 size);
		httpd_reply_header(c->r, "Content-Range", cr);
		memmove(data, (uint8_t *)data + off, (size_t)len);
		call_reply_take(c, 206, API_OCTETS, data, (size_t)len);
		return;
	case -1:
		free(data);
		snprintf(cr, sizeof(cr), "bytes */%zu", size);
		httpd_reply_header(c->r, "Content-Range", cr);
		call_error(c, 416, NULL);
		return;
	default:
		call_reply_take(c, 200, API_OCTETS, data, size);
	}
}

static void blocks_handler(struct httpd_req *r, void *arg)
{
	struct call c;
	struct hash name;

	call_init(&c, arg, r);
	if (api_parse_block_path(httpd_req_path(r), &name) < 0) {
		call_error(&c, 400, "expected /v1/blocks/<64 hex digits of SHA-256>");
		return;
	}
	switch (httpd_req_method(r)) {
	case HTTPD_PUT:
		block_put(&c, &name);
		return;
	case HTTPD_DELETE:
		block_delete(&c, &name);
		return;
	default:
		break;
	}
	if (c.a->auth_reads && call_auth(&c, &c.a->empty) < 0)
		return;
	if (httpd_req_method(r) == HTTPD_HEAD)
		block_head(&c, &name);
	else
		block_get(&c, &name);
}

/* ====================================================== /v1/blocks?... === */

static void list_handler(struct httpd_req *r, void *arg)
{
	struct blockstore_info *v = NULL;
	struct call c;
	struct err e = {0};
	struct hash after;
	int has_after, n;
	size_t limit, len = 0;
	char *out = NULL;

	call_init(&c, arg, r);
	if (c.a->auth_reads && call_auth(&c, &c.a->empty) < 0)
		return;
	if (api_parse_list_query(httpd_req_query(r), &after, &has_after, &limit, &e) < 0) {
		call_error(&c, 400, e.msg);
		return;
	}
	v = calloc(limit, sizeof(*v));
	out = malloc(limit * API_LIST_LINE_MAX + 1);
	if (v == NULL || out == NULL) {
		free(v);
		free(out);
		call_error(&c, 500, "out of memory");
		return;
	}
	n = blockstore_list(c.a->bs, has_after ? &after : NULL, limit, v, &e);
	if (n < 0) {
		free(v);
		free(out);
		log_err("list: %s", e.msg);
		call_error(&c, 500, e.msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		char hex[HASH_HEX_LEN + 1];

		hash_to_hex(&v[i].hash, hex);
		len += (size_t)snprintf(out + len, API_LIST_LINE_MAX,
					"{\"hash\":\"%s\",\"size\":%" PRIu64 ",\"mtime\":%" PRId64
					"}\n", hex, v[i].size, v[i].mtime);
	}
	free(v);
	if (len == 0) {
		free(out);
		out = NULL;
	}
	call_reply_take(&c, 200, API_NDJSON, out, len);
}

/* ====================================================== status, scrub === */

/* s as a JSON string body (without quotes) into out. */
static void json_escape(char *out, size_t outlen, const char *s)
{
	size_t k = 0;

	for (; *s != '\0' && k + 7 < outlen; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[k++] = '\\';
			out[k++] = (char)ch;
		} else if (ch < 0x20) {
			k += (size_t)snprintf(out + k, outlen - k, "\\u%04x", ch);
		} else {
			out[k++] = (char)ch;
		}
	}
	out[k] = '\0';
}

static void status_handler(struct httpd_req *r, void *arg)
{
	const struct scrub_status *ss = NULL;
	struct blockstore_usage u;
	struct call c;
	struct err e = {0};
	char node[256], version[256], body[2048];
	int n;

	call_init(&c, arg, r);
	if (blockstore_usage(c.a->bs, &u, &e) < 0) {
		call_error(&c, 500, e.msg);
		return;
	}
	if (c.a->scrub != NULL)
		ss = scrub_status(c.a->scrub);
	json_escape(node, sizeof(node), c.a->node_id);
	json_escape(version, sizeof(version), c.a->version);
	n = snprintf(body, sizeof(body),
		     "{\"node_id\":\"%s\",\"store_id\":\"%s\",\"version\":\"%s\","
		     "\"capacity\":%" PRIu64 ",\"used\":%" PRIu64 ",\"free\":%" PRIu64 ","
		     "\"blocks\":%" PRIu64 ",\"fs_size\":%" PRIu64 ",\"fs_avail\":%" PRIu64 ","
		     "\"quarantined\":%" PRIu64 ",\"max_block\":%" PRIu64 ","
		     "\"auth_reads\":%s,\"verify_reads\":%s,\"started\":%" PRId64 ","
		     "\"requests\":%" PRIu64 ",\"scrub\":{\"running\":%s,\"passes\":%" PRIu64 ",\"last_start\":%" PRId64
		     ",\"last_end\":%" PRId64 ",\"blocks\":%" PRIu64 ",\"bytes\":%" PRIu64
		     ",\"corrupt\":%" PRIu64 ",\"corrupt_total\":%" PRIu64 "}}\n",
		     node, blockstore_id(c.a->bs), version, u.capacity, u.bytes, u.free,
		     u.blocks, u.fs_size, u.fs_avail, u.quarantined, c.a->max_block,
		     c.a->auth_reads ? "true" : "false", c.a->verify_reads ? "true" : "false",
		     c.a->started, c.a->requests, ss && ss->running ? "true" : "false", ss ? ss->passes : 0,
		     ss ? ss->last_start : 0, ss ? ss->last_end : 0,
		     ss ? ss->pass.blocks : 0, ss ? ss->pass.bytes : 0,
		     ss ? ss->pass.corrupt : 0, ss ? ss->corrupt_total : 0);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		call_error(&c, 500, "status does not fit");
		return;
	}
	call_reply(&c, 200, API_JSON, body, (size_t)n);
}

static void scrub_handler(struct httpd_req *r, void *arg)
{
	static const char started[] = "{\"scrub\":\"started\"}\n";
	static const char running[] = "{\"scrub\":\"running\"}\n";
	struct call c;
	struct hash h;
	const void *data;

	call_init(&c, arg, r);
	call_body(&c, &data, &h);
	if (call_auth(&c, &h) < 0)
		return;
	if (c.a->scrub == NULL) {
		call_error(&c, 503, "scrub is not available");
		return;
	}
	if (scrub_start(c.a->scrub))
		call_reply(&c, 202, API_JSON, started, sizeof(started) - 1);
	else
		call_reply(&c, 202, API_JSON, running, sizeof(running) - 1);
}

/* ============================================================= metrics === */

static int api_collect(void *arg)
{
	struct api *a = arg;
	struct blockstore_usage u;
	int rc = blockstore_usage(a->bs, &u, NULL);

	if (rc < 0)
		return rc;
	metrics_gauge_set(a->g_blocks, (double)u.blocks);
	metrics_gauge_set(a->g_bytes, (double)u.bytes);
	metrics_gauge_set(a->g_capacity, (double)u.capacity);
	metrics_gauge_set(a->g_free, (double)u.free);
	metrics_gauge_set(a->g_fs_size, (double)u.fs_size);
	metrics_gauge_set(a->g_fs_avail, (double)u.fs_avail);
	metrics_gauge_set(a->g_quarantined, (double)u.quarantined);
	return 0;
}

static int api_metrics(struct api *a, struct err *e)
{
	struct metrics *m = a->m;
	const struct { struct metrics_gauge **g; const char *name, *help; } gauges[] = {
		{ &a->g_blocks, "dnsfs_blockd_blocks", "Blocks stored." },
		{ &a->g_bytes, "dnsfs_blockd_used_bytes", "Bytes of the blocks stored." },
		{ &a->g_capacity, "dnsfs_blockd_capacity_bytes",
		  "Bytes the blocks may take (configured, else the file system's size)." },
		{ &a->g_free, "dnsfs_blockd_free_bytes",
		  "Room left for blocks: min(capacity - used, file system available)." },
		{ &a->g_fs_size, "dnsfs_blockd_fs_size_bytes",
		  "Size of the file system holding the data directory." },
		{ &a->g_fs_avail, "dnsfs_blockd_fs_avail_bytes",
		  "Bytes of that file system available to blockd." },
		{ &a->g_quarantined, "dnsfs_blockd_quarantined_blocks",
		  "Files in quarantine/ (blocks that failed verification)." },
	};

	a->f_requests = metrics_counter_family(m, "dnsfs_blockd_requests_total",
					       "HTTP requests answered by the API, by method "
					       "and status.", METRICS_LABELS("method", "code"), e);
	a->f_latency = metrics_histogram_family(m, "dnsfs_blockd_request_duration_seconds",
						"Time from a request's arrival in full to its "
						"reply.", METRICS_LABELS("method"),
						metrics_latency_buckets,
						METRICS_LATENCY_NBUCKETS, e);
	a->f_auth = metrics_counter_family(m, "dnsfs_blockd_auth_failures_total",
					   "Requests refused with 401, by reason.",
					   METRICS_LABELS("reason"), e);
	if (a->f_requests == NULL || a->f_latency == NULL || a->f_auth == NULL)
		return e->code;
	if ((a->m_in = metrics_counter_new(m, "dnsfs_blockd_received_bytes_total",
					   "Request body bytes received.", e)) == NULL ||
	    (a->m_out = metrics_counter_new(m, "dnsfs_blockd_sent_bytes_total",
					    "Response body bytes sent.", e)) == NULL ||
	    (a->m_read_corrupt = metrics_counter_new(m, "dnsfs_blockd_read_corrupt_total",
						     "GETs that found the stored block not "
						     "matching its hash (quarantined, "
						     "answered 404).", e)) == NULL)
		return e->code;
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if ((*gauges[i].g = metrics_gauge_new(m, gauges[i].name, gauges[i].help, e)) == NULL)
			return e->code;
	return metrics_collector_add(m, api_collect, a, NULL, e);
}

/* ============================================================ life cycle === */

struct api *api_new(struct httpd *h, const struct api_options *o, struct err *e)
{
	struct api *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	a->bs = o->store;
	a->scrub = o->scrub;
	a->m = o->metrics;
	a->keys = o->keys;
	a->auth_reads = o->auth_reads;
	a->verify_reads = o->verify_reads;
	a->max_block = o->max_block;
	a->started = (int64_t)time(NULL);
	hash_buf(&a->empty, "", 0);
	a->node_id = strdup(o->node_id != NULL ? o->node_id : "");
	a->version = strdup(o->version != NULL ? o->version : "");
	a->nonces = blockauth_cache_new();
	if (a->node_id == NULL || a->version == NULL || a->nonces == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	if (api_metrics(a, e) < 0)
		goto fail;
	if (httpd_route(h, API_BLOCKS_PREFIX "*", HTTPD_GET | HTTPD_HEAD | HTTPD_PUT |
			HTTPD_DELETE, blocks_handler, a, e) < 0 ||
	    httpd_route(h, "/v1/blocks", HTTPD_GET | HTTPD_HEAD, list_handler, a, e) < 0 ||
	    httpd_route(h, "/v1/status", HTTPD_GET | HTTPD_HEAD, status_handler, a, e) < 0 ||
	    httpd_route(h, "/v1/scrub", HTTPD_POST, scrub_handler, a, e) < 0 ||
	    httpd_route_metrics(h, "/metrics", a->m, e) < 0)
		goto fail;
	return a;
fail:
	api_free(a);
	return NULL;
}

void api_free(struct api *a)
{
	if (a == NULL)
		return;
	blockauth_cache_free(a->nonces);
	free(a->node_id);
	free(a->version);
	free(a);
}

void api_set_keys(struct api *a, const struct tsig_keyring *kr)
{
	a->keys = kr;
}

void api_set_auth_reads(struct api *a, int on)
{
	a->auth_reads = on;
}
