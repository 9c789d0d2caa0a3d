/* blockclient: the write and read paths over blockd nodes (see blockclient.h).
 * Requests run in parallel through lib/httpc from the calling thread; the
 * node set is an immutable snapshot swapped under a lock, so reads and writes
 * of many threads never wait on each other except for a pool's idle list. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blockauth.h"
#include "blockcache.h"
#include "blockclient.h"
#include "ec.h"
#include "httpc.h"
#include "log.h"
#include "placement.h"
#include "resolve.h"

#define TARGET_MAX 96           /* "/v1/blocks/" + 64 hex + NUL */
#define REASONS_MAX 200         /* bytes of per-node reasons kept for e */

struct bc_node {
	char addr[BLOCKCLIENT_ADDR_MAX];
	struct httpc_pool *pool;        /* the client's; not owned */
};

struct blockclient_nodes {
	atomic_int refs;
	struct placement *pl;           /* ids and weights; index i = v[i]; owned */
	size_t n;
	struct bc_node *v;              /* owned */
};

struct blockclient {
	struct blockclient_opts o;      /* key points at key below, or NULL */
	struct tsig_key key;
	struct hash empty;              /* SHA-256 of no bytes: the body hash of GETs */
	pthread_mutex_t lock;           /* guards nodes, pools, codec */
	struct blockclient_nodes *nodes; /* current set (one reference) */
	struct httpc_pool **pools;      /* one per address ever used; owned */
	size_t npools, cappools;
	struct ec *codec[EC_K_MAX + 1][EC_M_MAX + 1]; /* made on first use; owned */
	atomic_uint_fast64_t requests, put_blocks, put_bytes, get_blocks, get_bytes,
		corrupt, failovers, reconstructs, node_errors;
	struct blockcache *cache;       /* not owned; NULL: none */
};

/* One request of the client: the HTTP request plus what it is about. */
struct bc_req {
	struct httpc_req h;
	struct blockclient *bc;
	const struct blockclient_nodes *ns;
	size_t node;                    /* index into ns */
	int chunk;                      /* stripe member, or -1 */
	int busy;                       /* started and not yet handled */
	struct hash hash;               /* the block asked for */
	struct hash body_hash;          /* signed: the block for PUT, empty else */
	int64_t before;                 /* DELETE: only if unmodified since (0: always) */
	char target[TARGET_MAX];
};

/* Per-node reasons of a failed call, "id: why; id: why", cut to fit e. */
struct reasons {
	char s[REASONS_MAX];
	size_t len;
	unsigned n;
};

static void reasons_add(struct reasons *rs, const char *id, const char *why)
{
	int k;

	rs->n++;
	if (rs->len + 1 >= sizeof(rs->s))
		return;
	k = snprintf(rs->s + rs->len, sizeof(rs->s) - rs->len, "%s%s: %s",
		     rs->len > 0 ? "; " : "", id, why);
	if (k > 0)
		rs->len += (size_t)k < sizeof(rs->s) - rs->len ? (size_t)k
							       : sizeof(rs->s) - rs->len - 1;
}

static void short_hash(char out[17], const struct hash *h)
{
	hash_hex_encode(out, h->b, 8);
}

/* ---------------------------------------------------------------- client --- */

void blockclient_opts_init(struct blockclient_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 2000;
	o->io_timeout_ms = 10000;
	o->pool_max = 4;
	o->body_max = 64u << 20;
}

int blockclient_new(struct blockclient **out, const struct blockclient_opts *o,
		    struct err *e)
{
	struct blockclient *bc;

	*out = NULL;
	bc = calloc(1, sizeof(*bc));
	if (bc == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (o != NULL)
		bc->o = *o;
	else
		blockclient_opts_init(&bc->o);
	if (bc->o.connect_timeout_ms <= 0)
		bc->o.connect_timeout_ms = 2000;
	if (bc->o.io_timeout_ms <= 0)
		bc->o.io_timeout_ms = 10000;
	if (bc->o.body_max == 0)
		bc->o.body_max = 64u << 20;
	if (bc->o.key != NULL) {
		bc->key = *bc->o.key;
		bc->o.key = &bc->key;
	}
	hash_buf(&bc->empty, "", 0);
	pthread_mutex_init(&bc->lock, NULL);
	*out = bc;
	return 0;
}

static void nodes_free(struct blockclient_nodes *ns)
{
	placement_free(ns->pl);
	free(ns->v);
	free(ns);
}

void blockclient_nodes_put(struct blockclient_nodes *ns)
{
	if (ns != NULL && atomic_fetch_sub(&ns->refs, 1) == 1)
		nodes_free(ns);
}

void blockclient_free(struct blockclient *bc)
{
	if (bc == NULL)
		return;
	blockclient_nodes_put(bc->nodes);
	for (size_t i = 0; i < bc->npools; i++)
		httpc_pool_free(bc->pools[i]);
	free(bc->pools);
	for (int k = 0; k <= EC_K_MAX; k++)
		for (int m = 0; m <= EC_M_MAX; m++)
			ec_free(bc->codec[k][m]);
	pthread_mutex_destroy(&bc->lock);
	memset(&bc->key, 0, sizeof(bc->key));
	free(bc);
}

void blockclient_stats(struct blockclient *bc, struct blockclient_stats *out)
{
	out->requests = atomic_load(&bc->requests);
	out->put_blocks = atomic_load(&bc->put_blocks);
	out->put_bytes = atomic_load(&bc->put_bytes);
	out->get_blocks = atomic_load(&bc->get_blocks);
	out->get_bytes = atomic_load(&bc->get_bytes);
	out->corrupt = atomic_load(&bc->corrupt);
	out->failovers = atomic_load(&bc->failovers);
	out->reconstructs = atomic_load(&bc->reconstructs);
	out->node_errors = atomic_load(&bc->node_errors);
}

/* The codec for k+m, made once. */
static int codec_get(struct blockclient *bc, unsigned k, unsigned m, struct ec **out,
		     struct err *e)
{
	int r = 0;

	if (k < 1 || k > EC_K_MAX || m > EC_M_MAX)
		return err_set(e, -EINVAL, "ec %u+%u out of range (k 1..%d, m 0..%d)", k, m,
			       EC_K_MAX, EC_M_MAX);
	pthread_mutex_lock(&bc->lock);
	if (bc->codec[k][m] == NULL)
		r = ec_new(&bc->codec[k][m], k, m, e);
	*out = bc->codec[k][m];
	pthread_mutex_unlock(&bc->lock);
	return r;
}

/* ------------------------------------------------------------- node sets --- */

/* The pool for addr, made on first use. Called with bc->lock held. */
static int pool_for(struct blockclient *bc, const char *addr, struct httpc_pool **out,
		    struct err *e)
{
	int r;

	for (size_t i = 0; i < bc->npools; i++) {
		if (strcmp(httpc_pool_addr(bc->pools[i]), addr) == 0) {
			*out = bc->pools[i];
			return 0;
		}
	}
	if (bc->npools == bc->cappools) {
		size_t nc = bc->cappools ? 2 * bc->cappools : 16;
		struct httpc_pool **v = realloc(bc->pools, nc * sizeof(*v));

		if (v == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		bc->pools = v;
		bc->cappools = nc;
	}
	r = httpc_pool_new(out, addr, bc->o.pool_max, e);
	if (r < 0)
		return r;
	bc->pools[bc->npools++] = *out;
	return 0;
}

int blockclient_set_nodes(struct blockclient *bc, const struct blockclient_node *v,
			  size_t n, struct err *e)
{
	struct blockclient_nodes *ns, *old;
	int r = 0;

	if (n > BLOCKCLIENT_NODES_MAX)
		return err_set(e, -EINVAL, "%zu nodes (at most %d)", n, BLOCKCLIENT_NODES_MAX);
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	atomic_init(&ns->refs, 1);
	ns->pl = placement_new();
	ns->v = calloc(n > 0 ? n : 1, sizeof(*ns->v));
	if (ns->pl == NULL || ns->v == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	pthread_mutex_lock(&bc->lock);
	for (size_t i = 0; i < n; i++) {
		const char *id = v[i].id != NULL ? v[i].id : v[i].addr;

		if (v[i].addr == NULL || strlen(v[i].addr) >= BLOCKCLIENT_ADDR_MAX) {
			r = err_set(e, -EINVAL, "node %s: no address or too long", id ? id : "?");
			break;
		}
		r = placement_add(ns->pl, id, v[i].weight, e);
		if (r == 0)
			r = pool_for(bc, v[i].addr, &ns->v[i].pool, e);
		if (r < 0) {
			err_prefix(e, "node %s: ", id);
			break;
		}
		snprintf(ns->v[i].addr, sizeof(ns->v[i].addr), "%s", v[i].addr);
		ns->n++;
	}
	if (ns->n == n) {
		old = bc->nodes;
		bc->nodes = ns;
		ns = NULL;
		r = 0;
	} else {
		old = NULL;
	}
	pthread_mutex_unlock(&bc->lock);
	blockclient_nodes_put(old);
fail:
	if (ns != NULL)
		nodes_free(ns);
	return r;
}

int blockclient_parse_nodes(const char *s, char *buf, size_t buflen,
			    struct blockclient_node *v, size_t max, struct err *e)
{
	size_t n = 0, len = strlen(s);
	char *p = buf;

	if (len + 1 > buflen)
		return err_set(e, -ENOSPC, "node list too long");
	memcpy(buf, s, len + 1);
	for (;;) {
		char *w, *eq;

		p += strspn(p, " \t\n,");
		if (*p == '\0')
			break;
		w = p;
		p += strcspn(p, " \t\n,");
		if (*p != '\0')
			*p++ = '\0';
		if (n == max)
			return err_set(e, -ENOSPC, "more than %zu nodes", max);
		eq = strchr(w, '=');
		if (eq != NULL) {
			*eq = '\0';
			v[n].id = w;
			v[n].addr = eq + 1;
		} else {
			v[n].id = NULL;
			v[n].addr = w;
		}
		if (v[n].addr[0] == '\0' || strchr(v[n].addr, ':') == NULL ||
		    (v[n].id != NULL && v[n].id[0] == '\0'))
			return err_set(e, -EINVAL, "node \"%s\": not [id=]host:port", w);
		v[n].weight = 1;
		n++;
	}
	return (int)n;
}

int blockclient_discover(struct blockclient *bc, struct resolve *res, const char *zone,
			 struct err *e)
{
	struct resolve_srv *srv = NULL;
	struct blockclient_node *nodes = NULL;
	char (*addrs)[BLOCKCLIENT_ADDR_MAX] = NULL;
	char name[RESOLVE_NAME_MAX + 16], ip[4][RESOLVE_ADDR_MAX];
	size_t zl = strlen(zone), nn = 0;
	int n, r;

	if (zl == 0 || zl + sizeof(BLOCKCLIENT_SRV) + 2 > sizeof(name))
		return err_set(e, -EINVAL, "zone \"%s\": bad name", zone);
	snprintf(name, sizeof(name), "%s.%s%s", BLOCKCLIENT_SRV, zone,
		 zone[zl - 1] == '.' ? "" : ".");
	srv = calloc(BLOCKCLIENT_NODES_MAX, sizeof(*srv));
	nodes = calloc(BLOCKCLIENT_NODES_MAX, sizeof(*nodes));
	addrs = calloc(BLOCKCLIENT_NODES_MAX, sizeof(*addrs));
	if (srv == NULL || nodes == NULL || addrs == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	n = resolve_srv(res, name, srv, BLOCKCLIENT_NODES_MAX, NULL, e);
	if (n <= 0) {
		r = n;
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		int na = resolve_addrs(res, srv[i].target, ip, 4, e);

		if (na < 0) {
			r = na;
			goto fail;
		}
		if (na == 0) {
			log_warn("blockclient: %s (SRV of %s) has no address; left out",
				 srv[i].target, name);
			continue;
		}
		snprintf(addrs[nn], sizeof(addrs[nn]), strchr(ip[0], ':') ? "[%s]:%u" : "%s:%u",
			 ip[0], srv[i].port);
		nodes[nn] = (struct blockclient_node){ srv[i].target, addrs[nn], srv[i].weight };
		nn++;
	}
	if (nn == 0) {
		r = err_set(e, -EHOSTUNREACH, "%s: no SRV target has an address", name);
		goto fail;
	}
	r = blockclient_set_nodes(bc, nodes, nn, e);
	if (r == 0)
		r = (int)nn;
fail:
	free(srv);
	free(nodes);
	free(addrs);
	return r;
}

struct blockclient_nodes *blockclient_nodes_get(struct blockclient *bc)
{
	struct blockclient_nodes *ns;

	pthread_mutex_lock(&bc->lock);
	ns = bc->nodes;
	if (ns != NULL)
		atomic_fetch_add(&ns->refs, 1);
	pthread_mutex_unlock(&bc->lock);
	return ns;
}

size_t blockclient_nodes_count(const struct blockclient_nodes *ns)
{
	return ns != NULL ? ns->n : 0;
}

const char *blockclient_nodes_id(const struct blockclient_nodes *ns, size_t i)
{
	return ns->pl->nodes[i].id;
}

const char *blockclient_nodes_addr(const struct blockclient_nodes *ns, size_t i)
{
	return ns->v[i].addr;
}

uint32_t blockclient_nodes_weight(const struct blockclient_nodes *ns, size_t i)
{
	return ns->pl->nodes[i].weight;
}

size_t blockclient_nodes_rank(const struct blockclient_nodes *ns, const struct hash *h,
			      size_t *idx, size_t max)
{
	if (ns == NULL)
		return 0;
	return placement_rank(ns->pl, h, idx, max);
}

/* The snapshot, or -EHOSTUNREACH when no node is known. */
static int nodes_need(struct blockclient *bc, struct blockclient_nodes **out, struct err *e)
{
	*out = blockclient_nodes_get(bc);
	if (*out == NULL || (*out)->n == 0) {
		blockclient_nodes_put(*out);
		*out = NULL;
		return err_set(e, -EHOSTUNREACH, "no block nodes known");
	}
	return 0;
}

/* ------------------------------------------------------------- requests --- */

static int sign_headers(void *arg, const char *method, const char *target, char *buf,
			size_t len)
{
	struct bc_req *q = arg;
	char auth[BLOCKAUTH_HEADER_MAX];
	struct err e = { 0 };
	int r, n;

	char path[TARGET_MAX];

	/* blockd verifies the path without the query (a listing's ?after=) */
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(target, "?"), target);
	r = blockauth_sign(&q->bc->key, method, path, &q->body_hash, time(NULL), auth,
			   sizeof(auth), &e);
	if (r < 0) {
		log_err("blockclient: cannot sign %s %s: %s", method, target, e.msg);
		return r;
	}
	if (q->before > 0)
		n = snprintf(buf, len, "Authorization: %s\r\n" BLOCKCLIENT_BEFORE_HEADER
			     ": %" PRId64 "\r\n", auth, q->before);
	else
		n = snprintf(buf, len, "Authorization: %s\r\n", auth);
	return n < 0 || (size_t)n >= len ? -E2BIG : n;
}

/* Set q up for one request to node i of ns (released first if it was used). */
static void req_prepare(struct bc_req *q, struct blockclient *bc,
			const struct blockclient_nodes *ns, size_t i, const char *method,
			const struct hash *h, const void *body, size_t blen, void *out,
			size_t outlen)
{
	char hex[HASH_HEX_LEN + 1];

	httpc_req_release(&q->h);
	httpc_req_init(&q->h);
	q->bc = bc;
	q->ns = ns;
	q->node = i;
	q->chunk = -1;
	q->busy = 0;
	q->before = 0;
	q->hash = *h;
	q->body_hash = body != NULL ? *h : bc->empty;
	hash_to_hex(h, hex);
	snprintf(q->target, sizeof(q->target), "/v1/blocks/%s", hex);
	q->h.pool = ns->v[i].pool;
	q->h.method = method;
	q->h.target = q->target;
	if (bc->o.key != NULL) {
		q->h.headers = sign_headers;
		q->h.headers_arg = q;
	}
	q->h.body = body;
	q->h.body_len = blen;
	q->h.out = out;
	q->h.out_len = outlen;
	q->h.body_max = bc->o.body_max;
	q->h.connect_timeout_ms = bc->o.connect_timeout_ms;
	q->h.io_timeout_ms = bc->o.io_timeout_ms;
}

static void req_start(struct bc_req *q)
{
	q->busy = 1;
	httpc_start(&q->h);
}

static void req_release(struct bc_req *q)
{
	httpc_req_release(&q->h);
}

/* The outcome of a finished request as 0 / -errno, with why in *why. */
static int req_result(struct bc_req *q, const char **why)
{
	const struct httpc_req *h = &q->h;

	atomic_fetch_add(&q->bc->requests, 1);
	*why = h->why;
	if (h->err != 0 || h->status >= 500)
		atomic_fetch_add(&q->bc->node_errors, 1);
	if (h->err != 0)
		return h->err;
	if (h->status >= 200 && h->status < 300)
		return 0;
	switch (h->status) {
	case 404: return -ENOENT;
	case 401: case 403: return -EACCES;
	case 400: return -EINVAL;
	case 412: return -EBUSY;
	case 413: return -EFBIG;
	case 507: return -ENOSPC;
	default: return -EIO;
	}
}

static void report_corrupt(struct blockclient *bc, const char *id, const struct hash *h,
			   const char *why)
{
	char hex[HASH_HEX_LEN + 1];

	atomic_fetch_add(&bc->corrupt, 1);
	hash_to_hex(h, hex);
	log_warn("blockclient: %s returned a bad copy of block %s: %s", id, hex, why);
	if (bc->o.on_corrupt != NULL)
		bc->o.on_corrupt(bc->o.corrupt_arg, id, h, why);
}

/* A finished GET: 0 if it delivered exactly the block h (into the request's
 * out buffer or body), -EBADMSG (reported as corrupt) if not, or the error. */
static int get_verify(struct bc_req *q, const char **why)
{
	struct httpc_req *h = &q->h;
	const char *id = blockclient_nodes_id(q->ns, q->node);
	struct hash got;
	int r = req_result(q, why);

	if (r == -EBADMSG) {            /* wrong length: not this block */
		report_corrupt(q->bc, id, &q->hash, h->why);
		return r;
	}
	if (r < 0)
		return r;
	hash_buf(&got, h->out != NULL ? h->out : h->resp, h->resp_n);
	if (!hash_equal(&got, &q->hash)) {
		char hex[HASH_HEX_LEN + 1];

		hash_to_hex(&got, hex);
		snprintf(h->why, sizeof(h->why), "content hashes to %.16s..., not the name", hex);
		*why = h->why;
		report_corrupt(q->bc, id, &q->hash, h->why);
		return -EBADMSG;
	}
	atomic_fetch_add(&q->bc->get_blocks, 1);
	atomic_fetch_add(&q->bc->get_bytes, h->resp_n);
	return 0;
}

/* Drive the busy requests of v[0..n) until at least one is finished, then
 * return it (marked not busy), or NULL when none is busy. */
static struct bc_req *next_done(struct bc_req *v, size_t n)
{
	/* a stripe, or every node at once (blockclient_space) */
	struct httpc_req *hv[EC_N_MAX > BLOCKCLIENT_NODES_MAX ? EC_N_MAX : BLOCKCLIENT_NODES_MAX];

	for (;;) {
		size_t nb = 0;

		for (size_t i = 0; i < n; i++) {
			if (!v[i].busy)
				continue;
			if (v[i].h.state == HTTPC_DONE) {
				v[i].busy = 0;
				return &v[i];
			}
			nb++;
		}
		if (nb == 0)
			return NULL;
		for (size_t i = 0; i < n; i++)
			hv[i] = v[i].busy ? &v[i].h : NULL;
		httpc_wait(hv, n);
	}
}

static struct bc_req *slots_new(size_t n, struct err *e)
{
	struct bc_req *v = calloc(n, sizeof(*v));

	if (v == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		httpc_req_init(&v[i].h);
	return v;
}

static void slots_free(struct bc_req *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		req_release(&v[i]);
	free(v);
}

/* ------------------------------------------------------------- one node --- */

static int node_check(const struct blockclient_nodes *ns, size_t i, struct err *e)
{
	if (ns == NULL || i >= ns->n)
		return err_set(e, -EINVAL, "no node %zu", i);
	return 0;
}

/* One request to one node, finished; its result with e set on failure. */
static int node_do(struct bc_req *q, const char *what, struct err *e)
{
	const char *why;
	char hex[17];
	int r;

	req_start(q);
	while (next_done(q, 1) == NULL && q->h.state != HTTPC_DONE)
		;
	r = req_result(q, &why);
	if (r < 0) {
		short_hash(hex, &q->hash);
		err_set(e, r, "%s %s... on %s: %s", what, hex, blockclient_nodes_id(q->ns, q->node),
			why);
	}
	return r;
}

int blockclient_node_head(struct blockclient *bc, const struct blockclient_nodes *ns,
			  size_t i, const struct hash *h, uint64_t *size, struct err *e)
{
	struct bc_req *q;
	int r = node_check(ns, i, e);

	if (r < 0)
		return r;
	q = slots_new(1, e);
	if (q == NULL)
		return -ENOMEM;
	req_prepare(q, bc, ns, i, "HEAD", h, NULL, 0, NULL, 0);
	r = node_do(q, "HEAD", e);
	if (r == 0 && size != NULL) {
		/* HEAD carries the length of the block it would send */
		*size = q->h.left;
	}
	slots_free(q, 1);
	return r;
}

int blockclient_node_get(struct blockclient *bc, const struct blockclient_nodes *ns,
			 size_t i, const struct hash *h, void *buf, size_t len,
			 void **out, size_t *outlen, struct err *e)
{
	struct bc_req *q;
	const char *why;
	char hex[17];
	int r = node_check(ns, i, e);

	if (r < 0)
		return r;
	if (len == 0 && (out == NULL || outlen == NULL))
		return err_set(e, -EINVAL, "node_get: no buffer");
	q = slots_new(1, e);
	if (q == NULL)
		return -ENOMEM;
	req_prepare(q, bc, ns, i, "GET", h, NULL, 0, len > 0 ? buf : NULL, len);
	req_start(q);
	while (next_done(q, 1) == NULL && q->h.state != HTTPC_DONE)
		;
	r = get_verify(q, &why);
	if (r < 0) {
		short_hash(hex, h);
		err_set(e, r, "GET %s... on %s: %s", hex, blockclient_nodes_id(ns, i), why);
	} else if (len == 0) {
		*out = q->h.resp;
		*outlen = q->h.resp_n;
		q->h.resp = NULL;
	}
	slots_free(q, 1);
	return r;
}

int blockclient_node_put(struct blockclient *bc, const struct blockclient_nodes *ns,
			 size_t i, const struct hash *h, const void *data, size_t len,
			 struct err *e)
{
	struct bc_req *q;
	int r = node_check(ns, i, e);

	if (r < 0)
		return r;
	q = slots_new(1, e);
	if (q == NULL)
		return -ENOMEM;
	req_prepare(q, bc, ns, i, "PUT", h, data, len, NULL, 0);
	r = node_do(q, "PUT", e);
	if (r == 0) {
		atomic_fetch_add(&bc->put_blocks, 1);
		atomic_fetch_add(&bc->put_bytes, len);
	}
	slots_free(q, 1);
	return r;
}

int blockclient_node_delete(struct blockclient *bc, const struct blockclient_nodes *ns,
			    size_t i, const struct hash *h, int64_t before, struct err *e)
{
	struct bc_req *q;
	int r = node_check(ns, i, e);

	if (r < 0)
		return r;
	q = slots_new(1, e);
	if (q == NULL)
		return -ENOMEM;
	req_prepare(q, bc, ns, i, "DELETE", h, NULL, 0, NULL, 0);
	q->before = before;
	r = node_do(q, "DELETE", e);
	slots_free(q, 1);
	return r;
}

static int json_u64(const char *s, const char *key, uint64_t *out);

/* One listing line: {"hash":"<64hex>","size":N,"mtime":N}. */
static int list_parse_line(const char *s, size_t len, struct blockclient_listed *out)
{
	char line[256];
	const char *p;
	uint64_t v;

	if (len >= sizeof(line))
		return -EPROTO;
	memcpy(line, s, len);
	line[len] = '\0';
	p = strstr(line, "\"hash\":\"");
	if (p == NULL || hash_from_hex(&out->hash, p + 8, HASH_HEX_LEN) < 0 ||
	    p[8 + HASH_HEX_LEN] != '"' || json_u64(line, "size", &out->size) < 0 ||
	    json_u64(line, "mtime", &v) < 0)
		return -EPROTO;
	out->mtime = (int64_t)v;
	return 0;
}

int blockclient_node_list(struct blockclient *bc, const struct blockclient_nodes *ns,
			  size_t i, const struct hash *after, size_t limit,
			  struct blockclient_listed *out, struct err *e)
{
	char hex[HASH_HEX_LEN + 1];
	struct bc_req *q;
	const char *why;
	size_t n = 0;
	int r = node_check(ns, i, e);

	if (r < 0)
		return r;
	if (limit == 0 || limit > BLOCKCLIENT_LIST_MAX)
		return err_set(e, -EINVAL, "list: limit %zu out of 1..%d", limit,
			       BLOCKCLIENT_LIST_MAX);
	q = slots_new(1, e);
	if (q == NULL)
		return -ENOMEM;
	req_prepare(q, bc, ns, i, "GET", &bc->empty, NULL, 0, NULL, 0);
	if (after != NULL)
		hash_to_hex(after, hex);
	else
		hex[0] = '\0';
	snprintf(q->target, sizeof(q->target), "/v1/blocks?after=%s&limit=%zu", hex, limit);
	q->h.body_max = limit * 160 + 1;
	req_start(q);
	while (next_done(q, 1) == NULL && q->h.state != HTTPC_DONE)
		;
	r = req_result(q, &why);
	if (r < 0) {
		err_set(e, r, "GET /v1/blocks on %s: %s", blockclient_nodes_id(ns, i), why);
		goto fail;
	}
	for (size_t pos = 0; pos < q->h.resp_n;) {
		const char *s = (const char *)q->h.resp + pos;
		const char *nl = memchr(s, '\n', q->h.resp_n - pos);
		size_t len = nl != NULL ? (size_t)(nl - s) : q->h.resp_n - pos;

		if (len > 0) {
			if (n == limit || list_parse_line(s, len, &out[n]) < 0) {
				r = err_set(e, -EPROTO, "GET /v1/blocks on %s: a malformed line",
					    blockclient_nodes_id(ns, i));
				goto fail;
			}
			n++;
		}
		pos += len + 1;
	}
	r = (int)n;
fail:
	slots_free(q, 1);
	return r;
}

/* ---------------------------------------------------------------- space --- */

/* The unsigned integer after "key": in the JSON text s, or -EPROTO. The
 * status body is flat and written by blockd, so a key search is enough. */
static int json_u64(const char *s, const char *key, uint64_t *out)
{
	char pat[40];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(s, pat);
	if (p == NULL)
		return -EPROTO;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return -EPROTO;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno != 0 || end == p ? -EPROTO : 0;
}

static int space_parse(const struct httpc_req *h, struct blockclient_space *sp)
{
	char body[HTTPC_ERRBODY_MAX + 1];
	size_t n = h->resp_n < sizeof(body) - 1 ? h->resp_n : sizeof(body) - 1;

	if (h->resp == NULL)
		return -EPROTO;
	memcpy(body, h->resp, n);
	body[n] = '\0';
	if (json_u64(body, "capacity", &sp->capacity) < 0 ||
	    json_u64(body, "used", &sp->used) < 0 || json_u64(body, "free", &sp->free) < 0)
		return -EPROTO;
	if (json_u64(body, "requests", &sp->requests) < 0)
		sp->requests = 0;       /* an older blockd */
	return 0;
}

int blockclient_space(struct blockclient *bc, const struct blockclient_nodes *ns,
		      int timeout_ms, struct blockclient_space *v, int *rc, struct err *e)
{
	size_t n = blockclient_nodes_count(ns);
	struct bc_req *slot, *q;
	int answered = 0, failed = 0;

	if (n == 0)
		return 0;
	slot = slots_new(n, e);
	if (slot == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		q = &slot[i];
		q->bc = bc;
		q->ns = ns;
		q->node = i;
		q->chunk = -1;
		q->hash = bc->empty;
		q->body_hash = bc->empty;
		snprintf(q->target, sizeof(q->target), "/v1/status");
		q->h.pool = ns->v[i].pool;
		q->h.method = "GET";
		q->h.target = q->target;
		q->h.body_max = HTTPC_ERRBODY_MAX;
		q->h.connect_timeout_ms = timeout_ms;
		q->h.io_timeout_ms = timeout_ms;
		memset(&v[i], 0, sizeof(v[i]));
		rc[i] = -ETIMEDOUT;
		req_start(q);
	}
	while ((q = next_done(slot, n)) != NULL) {
		const char *why;
		int r = req_result(q, &why);

		if (r == 0 && space_parse(&q->h, &v[q->node]) < 0) {
			r = -EPROTO;
			why = "the answer is not blockd's status";
		}
		rc[q->node] = r;
		if (r == 0) {
			answered++;
		} else if (failed++ == 0) {
			err_set(e, r, "GET /v1/status on %s: %s",
				blockclient_nodes_id(ns, q->node), why);
		}
	}
	slots_free(slot, n);
	return answered;
}

/* ------------------------------------------------------------ replicas --- */

/* The ranking of h restricted to writable nodes (weight > 0). */
static size_t rank_writable(const struct blockclient_nodes *ns, const struct hash *h,
			    size_t *idx)
{
	size_t n = placement_rank(ns->pl, h, idx, BLOCKCLIENT_NODES_MAX), w = 0;

	for (size_t i = 0; i < n; i++)
		if (ns->pl->nodes[idx[i]].weight > 0)
			idx[w++] = idx[i];
	return w;
}

int blockclient_put_rep(struct blockclient *bc, const void *data, size_t len,
			unsigned rep, unsigned w, struct hash *h, struct err *e)
{
	size_t cand[BLOCKCLIENT_NODES_MAX], nc, next = 0;
	struct blockclient_nodes *ns = NULL;
	struct bc_req *slot = NULL, *q;
	struct reasons rs = { .len = 0 };
	unsigned acked = 0, inflight = 0;
	char hex[17];
	int r;

	if (len == 0 || rep < 1 || rep > RECORD_REP_MAX || w > rep)
		return err_set(e, -EINVAL, "put: bad arguments (len %zu, rep %u, w %u)", len, rep, w);
	if (w == 0)
		w = rep / 2 + 1;
	hash_buf(h, data, len);
	short_hash(hex, h);
	r = nodes_need(bc, &ns, e);
	if (r < 0)
		return r;
	nc = rank_writable(ns, h, cand);
	slot = slots_new(rep, e);
	if (slot == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	for (;;) {
		/* Keep rep copies in flight or stored while nodes are left. */
		while (acked + inflight < rep && next < nc) {
			size_t s = 0;

			while (slot[s].busy)
				s++;
			req_prepare(&slot[s], bc, ns, cand[next++], "PUT", h, data, len, NULL, 0);
			req_start(&slot[s]);
			inflight++;
		}
		q = next_done(slot, rep);
		if (q == NULL)
			break;
		inflight--;
		const char *why, *id = blockclient_nodes_id(ns, q->node);

		r = req_result(q, &why);
		if (r == 0) {
			acked++;
			atomic_fetch_add(&bc->put_blocks, 1);
			atomic_fetch_add(&bc->put_bytes, len);
		} else {
			log_warn("blockclient: PUT %s... to %s (%s) failed: %s", hex, id,
				 blockclient_nodes_addr(ns, q->node), why);
			reasons_add(&rs, id, why);
		}
	}
	if (acked >= w) {
		r = 0;
		if (acked < rep)
			log_warn("blockclient: block %s... has %u of %u copies (quorum %u)", hex,
				 acked, rep, w);
	} else if (nc == 0) {
		r = err_set(e, -EIO, "put %s...: no writable block node", hex);
	} else {
		r = err_set(e, -EIO, "put %s...: %u of %u copies stored, quorum %u: %s", hex, acked,
			    rep, w, rs.s);
	}
fail:
	slots_free(slot, rep);
	blockclient_nodes_put(ns);
	return r;
}

int blockclient_get_rep(struct blockclient *bc, const struct hash *h, void *buf,
			size_t len, struct err *e)
{
	size_t order[BLOCKCLIENT_NODES_MAX], n, up = 0, nmissing = 0;
	struct blockclient_nodes *ns = NULL;
	struct reasons rs = { .len = 0 };
	struct bc_req *q = NULL;
	char hex[17];
	int r;

	if (len == 0)
		return err_set(e, -EINVAL, "get: length 0");
	short_hash(hex, h);
	r = nodes_need(bc, &ns, e);
	if (r < 0)
		return r;
	/* Ranking order, but nodes that just refused a connection last. */
	{
		size_t all[BLOCKCLIENT_NODES_MAX], down[BLOCKCLIENT_NODES_MAX], nd = 0;

		n = placement_rank(ns->pl, h, all, BLOCKCLIENT_NODES_MAX);
		for (size_t i = 0; i < n; i++) {
			if (httpc_pool_is_down(ns->v[all[i]].pool))
				down[nd++] = all[i];
			else
				order[up++] = all[i];
		}
		memcpy(order + up, down, nd * sizeof(*down));
	}
	q = slots_new(1, e);
	if (q == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		const char *why;

		req_prepare(q, bc, ns, order[i], "GET", h, NULL, 0, buf, len);
		req_start(q);
		next_done(q, 1);
		r = get_verify(q, &why);
		if (r == 0) {
			if (i > 0)
				atomic_fetch_add(&bc->failovers, 1);
			goto fail;
		}
		if (r == -ENOENT)
			nmissing++;
		else
			reasons_add(&rs, blockclient_nodes_id(ns, order[i]), why);
	}
	if (nmissing == n)
		r = err_set(e, -ENOENT, "block %s...: none of %zu nodes has it", hex, n);
	else
		r = err_set(e, -EIO, "block %s...: no good copy (%zu nodes do not have it): %s",
			    hex, nmissing, rs.s);
fail:
	slots_free(q, 1);
	blockclient_nodes_put(ns);
	return r;
}

/* --------------------------------------------------------------- stripes --- */

size_t blockclient_stripe_scratch(size_t len, unsigned k, unsigned m)
{
	size_t chunk = ec_chunk_len(len, k);

	return chunk == 0 ? 0 : (k + m - len / chunk) * chunk;
}

int blockclient_stripe_encode(const struct ec *codec, const void *data, size_t len,
			      uint8_t *scratch, uint8_t **ptr, struct err *e)
{
	unsigned k = ec_k(codec), n = k + ec_m(codec), full;
	size_t chunk = ec_chunk_len(len, k), tail;

	if (chunk == 0 || chunk > EC_CHUNK_MAX)
		return err_set(e, -EINVAL, "stripe of %zu bytes", len);
	full = (unsigned)(len / chunk);         /* <= k, as k * chunk >= len */
	for (unsigned i = 0; i < full; i++)
		ptr[i] = (uint8_t *)data + (size_t)i * chunk;
	for (unsigned i = full; i < n; i++)
		ptr[i] = scratch + (size_t)(i - full) * chunk;
	if (full < k) {
		tail = len - (size_t)full * chunk;
		memcpy(ptr[full], (const uint8_t *)data + (size_t)full * chunk, tail);
		memset(ptr[full] + tail, 0, (size_t)(k - full) * chunk - tail);
	}
	return ec_encode(codec, chunk, ptr, ptr + k, e);
}

int blockclient_put_ec(struct blockclient *bc, const void *data, size_t len, unsigned k,
		       unsigned m, struct hash *h, struct err *e)
{
	size_t cand[BLOCKCLIENT_NODES_MAX], nc, spare, chunk;
	unsigned n = k + m, stored = 0, failed = 0;
	struct blockclient_nodes *ns = NULL;
	struct bc_req *slot = NULL, *q;
	uint8_t *buf = NULL, *ptr[EC_N_MAX];
	struct reasons rs = { .len = 0 };
	struct ec *codec;
	char hex[17];
	int r;

	if (len == 0)
		return err_set(e, -EINVAL, "put: length 0");
	r = codec_get(bc, k, m, &codec, e);
	if (r < 0)
		return r;
	chunk = ec_chunk_len(len, k);
	if (chunk > EC_CHUNK_MAX)
		return err_set(e, -EINVAL, "put: stripe of %zu bytes too large", len);
	/* Only the chunks that are not whole slices of data need memory. */
	if (posix_memalign((void **)&buf, EC_ALIGN, blockclient_stripe_scratch(len, k, m)) != 0)
		return err_set(e, -ENOMEM, "out of memory");
	r = blockclient_stripe_encode(codec, data, len, buf, ptr, e);
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < n; i++)
		hash_buf(&h[i], ptr[i], chunk);
	short_hash(hex, &h[0]);
	r = nodes_need(bc, &ns, e);
	if (r < 0)
		goto fail;
	nc = rank_writable(ns, &h[0], cand);
	if (nc < n) {
		r = err_set(e, -ENOSPC, "put %s...: a %u+%u stripe needs %u writable nodes, "
			    "there are %zu", hex, k, m, n, nc);
		goto fail;
	}
	slot = slots_new(n, e);
	if (slot == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		req_prepare(&slot[i], bc, ns, cand[i], "PUT", &h[i], ptr[i], chunk, NULL, 0);
		slot[i].chunk = (int)i;
		req_start(&slot[i]);
	}
	spare = n;
	while ((q = next_done(slot, n)) != NULL) {
		const char *why, *id = blockclient_nodes_id(ns, q->node);
		int c = q->chunk;

		r = req_result(q, &why);
		if (r == 0) {
			stored++;
			atomic_fetch_add(&bc->put_blocks, 1);
			atomic_fetch_add(&bc->put_bytes, chunk);
			continue;
		}
		log_warn("blockclient: PUT chunk %d of stripe %s... to %s (%s) failed: %s", c, hex,
			 id, blockclient_nodes_addr(ns, q->node), why);
		reasons_add(&rs, id, why);
		if (spare < nc) {
			req_prepare(q, bc, ns, cand[spare++], "PUT", &h[c], ptr[c], chunk, NULL, 0);
			q->chunk = c;
			req_start(q);
		} else {
			failed++;
		}
	}
	if (stored == n)
		r = 0;
	else
		r = err_set(e, -EIO, "put stripe %s...: %u of %u chunks stored: %s", hex, stored,
			    n, rs.s);
fail:
	slots_free(slot, n);
	blockclient_nodes_put(ns);
	free(buf);
	return r;
}

/* What a stripe read knows about each chunk. */
enum { CH_UNTRIED = 0, CH_BUSY, CH_GOOD, CH_BAD };

/* The next ranking index to search for chunk c (advancing spare_next[c]
 * over n..no-1, then 0..n-1 without c itself), or no when all are tried. */
static size_t spare_at(size_t *spare_next, unsigned c, size_t n, size_t no)
{
	for (;;) {
		size_t t = spare_next[c];

		if (t >= n + no)
			return no;
		spare_next[c]++;
		if (t < no) {
			if (t >= n)
				return t;       /* past the stripe's nodes */
			continue;
		}
		if (t - no < n && t - no != c && t - no < no)
			return t - no;  /* the stripe's other nodes */
	}
}

int blockclient_get_ec(struct blockclient *bc, const struct hash *h, unsigned k,
		       unsigned m, void *out, size_t len, struct err *e)
{
	size_t order[BLOCKCLIENT_NODES_MAX], no, chunk, spare_next[EC_N_MAX];
	unsigned n = k + m, good = 0, next_home;
	int state[EC_N_MAX] = { 0 };
	struct blockclient_nodes *ns = NULL;
	struct bc_req *slot = NULL, *q;
	uint8_t *buf = NULL, *ptr[EC_N_MAX];
	struct reasons rs = { .len = 0 };
	uint64_t missing = 0;
	struct ec *codec;
	char hex[17];
	int r;

	if (len == 0)
		return err_set(e, -EINVAL, "get: length 0");
	r = codec_get(bc, k, m, &codec, e);
	if (r < 0)
		return r;
	chunk = ec_chunk_len(len, k);
	if (chunk > EC_CHUNK_MAX)
		return err_set(e, -EINVAL, "get: stripe of %zu bytes too large", len);
	short_hash(hex, &h[0]);
	r = nodes_need(bc, &ns, e);
	if (r < 0)
		return r;
	if (posix_memalign((void **)&buf, EC_ALIGN, (size_t)n * chunk) != 0) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		ptr[i] = buf + (size_t)i * chunk;
		spare_next[i] = n;
	}
	no = placement_rank(ns->pl, &h[0], order, BLOCKCLIENT_NODES_MAX);
	slot = slots_new(n, e);
	if (slot == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	/* The data chunks first, each from its own node. */
	for (unsigned i = 0; i < k; i++) {
		if (i >= no) {
			state[i] = CH_BAD;
			continue;
		}
		req_prepare(&slot[i], bc, ns, order[i], "GET", &h[i], NULL, 0, ptr[i], chunk);
		slot[i].chunk = (int)i;
		req_start(&slot[i]);
		state[i] = CH_BUSY;
	}
	next_home = k;
	for (;;) {
		unsigned busy = 0, want;

		while ((q = next_done(slot, n)) != NULL) {
			const char *why;
			int c = q->chunk;

			r = get_verify(q, &why);
			if (r == 0) {
				state[c] = CH_GOOD;
				good++;
				if (q->node != order[c])
					atomic_fetch_add(&bc->failovers, 1);
				continue;
			}
			if (r != -ENOENT || q->node == order[c])
				reasons_add(&rs, blockclient_nodes_id(ns, q->node), why);
			state[c] = CH_BAD;
			break;
		}
		for (unsigned i = 0; i < n; i++)
			busy += state[i] == CH_BUSY;
		if (good >= k && busy == 0)
			break;
		/* Replace what failed: next the parity chunks at home ... */
		want = good + busy < k ? k - good - busy : 0;
		while (want > 0 && next_home < n && next_home < no) {
			unsigned c = next_home++, s = 0;

			while (slot[s].busy)
				s++;
			req_prepare(&slot[s], bc, ns, order[c], "GET", &h[c], NULL, 0, ptr[c], chunk);
			slot[s].chunk = (int)c;
			req_start(&slot[s]);
			state[c] = CH_BUSY;
			want--;
			busy++;
		}
		/* ... then any chunk not yet good on the nodes past the stripe's
		 * (where a write puts a chunk whose node failed), then on the
		 * stripe's other nodes (where the chunk was at home under the
		 * node set before a node was added or drained: a rebalance in
		 * progress). spare_next[c] counts n, n+1, ..., no-1, 0, ..., n-1. */
		for (unsigned c = 0; want > 0 && c < n; c++) {
			unsigned s = 0;
			size_t at;

			if (state[c] == CH_GOOD || state[c] == CH_BUSY ||
			    (state[c] == CH_UNTRIED && c < no))
				continue;
			at = spare_at(spare_next, c, n, no);
			if (at >= no)
				continue;
			while (slot[s].busy)
				s++;
			req_prepare(&slot[s], bc, ns, order[at], "GET", &h[c], NULL, 0,
				    ptr[c], chunk);
			slot[s].chunk = (int)c;
			req_start(&slot[s]);
			state[c] = CH_BUSY;
			want--;
			busy++;
		}
		if (busy == 0)
			break;
	}
	if (good < k) {
		r = err_set(e, -EIO, "stripe %s... (%u+%u): %u of the %u chunks needed found: %s",
			    hex, k, m, good, k, rs.len > 0 ? rs.s : "none of the nodes has them");
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		if (state[i] == CH_GOOD)
			continue;
		missing |= UINT64_C(1) << i;
		if (i >= k)
			ptr[i] = NULL;          /* parity not needed back */
	}
	if (missing & ((UINT64_C(1) << k) - 1)) {
		r = ec_reconstruct(codec, chunk, ptr, missing, e);
		if (r < 0)
			goto fail;
		atomic_fetch_add(&bc->reconstructs, 1);
	}
	memcpy(out, buf, len);
	r = 0;
fail:
	slots_free(slot, n);
	blockclient_nodes_put(ns);
	free(buf);
	return r;
}

/* ------------------------------------------------------------------ files --- */

int blockclient_write(struct blockclient *bc, const void *data, size_t len, uint64_t off,
		      const struct blockclient_policy *p, struct record_refs *refs,
		      struct err *e)
{
	size_t block = p->block > 0 ? p->block : BLOCKCLIENT_BLOCK_SIZE;
	size_t step = p->k > 0 ? block * p->k : block;
	const uint8_t *d = data;
	struct hash h[EC_N_MAX];
	int r = 0;

	for (size_t o = 0; o < len && r == 0; o += step) {
		size_t n = len - o < step ? len - o : step;

		if (p->k == 0) {
			r = blockclient_put_rep(bc, d + o, n, p->rep > 0 ? p->rep : 3, p->w, h, e);
			if (r == 0)
				r = record_refs_add_block(refs, off + o, n, h, e);
		} else {
			r = blockclient_put_ec(bc, d + o, n, p->k, p->m, h, e);
			if (r == 0)
				r = record_refs_add_stripe(refs, off + o, n, p->k, p->m, h, e);
		}
		if (r == 0 && bc->cache != NULL)        /* written data is read soon */
			blockcache_put(bc->cache, &refs->v[refs->n - 1], d + o);
		if (r < 0)
			err_prefix(e, "at offset %" PRIu64 ": ", off + o);
	}
	return r;
}

int blockclient_read_ref(struct blockclient *bc, const struct record_ref *ref, void *buf,
			 struct err *e)
{
	int r;

	if (ref->len > SIZE_MAX)
		return err_set(e, -EFBIG, "ref of %" PRIu64 " bytes", ref->len);
	if (bc->cache != NULL && blockcache_get(bc->cache, ref, buf) == 0)
		return 0;
	if (ref->k == 0)
		r = blockclient_get_rep(bc, &ref->h[0], buf, (size_t)ref->len, e);
	else
		r = blockclient_get_ec(bc, ref->h, ref->k, ref->m, buf, (size_t)ref->len, e);
	if (r == 0 && bc->cache != NULL)
		blockcache_put(bc->cache, ref, buf);
	return r;
}

void blockclient_set_cache(struct blockclient *bc, struct blockcache *c)
{
	bc->cache = c;
}
