/* block: `dnsfsctl block` (see block.h). Nodes come from the zone's
 * _blockd._tcp SRV records through the mds when it has any, else from the
 * cluster's DNSFS_BLOCKD list; refs are printed and read in the syntax of the
 * inode record (docs/SCHEMA.md), one line: `size=N rep=R b=...` or
 * `size=N ec=K+M s=...`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block.h"
#include "blockclient.h"
#include "ec.h"
#include "env.h"
#include "log.h"
#include "record.h"
#include "resolve.h"
#include "tsig.h"

#define NODES_BUF 16384

/* What the options chose. */
struct block_opts {
	const char *dir;        /* --dir: a cluster directory (cluster.env) */
	const char *nodes;      /* --nodes: "[id=]host:port ..." instead of the cluster's */
	const char *keyfile;    /* --key: block key file instead of DIR/block.key */
	struct blockclient_policy pol;
	int timeout_ms;         /* --timeout: connect timeout (io is 5x) */
	int verbose;
};


/* A ref line: `size=N rep=R|ec=K+M` and refs. */
struct refline {
	uint64_t size;
	int has_size;
	struct record_policy pol;
	struct record_refs refs;
};

/* ------------------------------------------------------------ the client --- */

static int load_key(struct block_ctx *c, const char *path, struct err *e)
{
	int r = tsig_keyring_load(&c->kr, path, e);

	if (r < 0)
		return r;
	if (c->kr.n == 0)
		return err_set(e, -ENOKEY, "%s: no key", path);
	return 0;
}

/* Static nodes of a cluster.env: word K of DNSFS_BLOCKD is blockd-K.n.<zone>,
 * the id cluster up registers it under. */
static int nodes_from_env(struct block_ctx *c, const struct env *env, const char *zone,
			  struct err *e)
{
	struct blockclient_node v[BLOCKCLIENT_NODES_MAX];
	static char ids[BLOCKCLIENT_NODES_MAX][RESOLVE_NAME_MAX];
	char *buf = malloc(NODES_BUF);
	const char *list = env_get(env, "DNSFS_BLOCKD");
	int n, r;

	if (buf == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (list == NULL || list[0] == '\0') {
		free(buf);
		return err_set(e, -ENOENT, "the cluster has no DNSFS_BLOCKD nodes");
	}
	n = blockclient_parse_nodes(list, buf, NODES_BUF, v, BLOCKCLIENT_NODES_MAX, e);
	if (n < 0) {
		free(buf);
		err_prefix(e, "DNSFS_BLOCKD: ");
		return n;
	}
	for (int i = 0; i < n; i++) {
		if (v[i].id == NULL) {
			snprintf(ids[i], sizeof(ids[i]), "blockd-%d.n.%s", i + 1, zone);
			v[i].id = ids[i];
		}
	}
	r = blockclient_set_nodes(c->bc, v, (size_t)n, e);
	snprintf(c->source, sizeof(c->source), "DNSFS_BLOCKD (%d nodes)", n);
	free(buf);
	return r < 0 ? r : n;
}

static int ctx_open(struct block_ctx *c, const struct block_opts *o, struct err *e)
{
	struct blockclient_opts bo;
	struct env env;
	char path[4096];
	const char *zone = NULL, *v;
	int r;

	memset(c, 0, sizeof(*c));
	env_init(&env);
	if (o->dir != NULL) {
		snprintf(path, sizeof(path), "%s/cluster.env", o->dir);
		r = env_read(&env, path, e);
		if (r < 0)
			goto fail;
		zone = env_get(&env, "DNSFS_ZONE");
	}
	/* The block key: --key, else the cluster's, else none (reads only). */
	if (o->keyfile != NULL) {
		r = load_key(c, o->keyfile, e);
	} else if ((v = env_get(&env, "DNSFS_BLOCK_KEYFILE")) != NULL) {
		r = load_key(c, v, e);
	} else if (o->dir != NULL && snprintf(path, sizeof(path), "%s/block.key", o->dir) > 0 &&
		   access(path, F_OK) == 0) {
		r = load_key(c, path, e);
	} else {
		r = 0;
	}
	if (r < 0)
		goto fail;
	blockclient_opts_init(&bo);
	bo.key = c->kr.n > 0 ? &c->kr.keys[0] : NULL;
	if (o->timeout_ms > 0) {
		bo.connect_timeout_ms = o->timeout_ms;
		bo.io_timeout_ms = 5 * o->timeout_ms;
	}
	r = blockclient_new(&c->bc, &bo, e);
	if (r < 0)
		goto fail;
	if (o->nodes != NULL) {
		struct blockclient_node nv[BLOCKCLIENT_NODES_MAX];
		char *buf = malloc(NODES_BUF);

		if (buf == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		r = blockclient_parse_nodes(o->nodes, buf, NODES_BUF, nv, BLOCKCLIENT_NODES_MAX, e);
		if (r >= 0) {
			int n = r;

			r = blockclient_set_nodes(c->bc, nv, (size_t)n, e);
			snprintf(c->source, sizeof(c->source), "--nodes (%d nodes)", n);
		}
		free(buf);
		if (r < 0)
			goto fail;
		r = 0;
		goto fail;
	}
	if (o->dir == NULL) {
		r = err_set(e, -EINVAL, "--dir DIR or --nodes LIST is required");
		goto fail;
	}
	if (zone == NULL) {
		r = err_set(e, -EINVAL, "%s/cluster.env has no DNSFS_ZONE", o->dir);
		goto fail;
	}
	/* SRV records through the mds first: they are what every client sees. */
	{
		const char *addr = env_get(&env, "DNSFS_MDS_ADDR"), *port = env_get(&env, "DNSFS_MDS_PORT");
		struct resolve *res = NULL;
		struct err why = { 0 };
		int n = -ENOENT;

		if (addr != NULL && port != NULL &&
		    (n = resolve_new(&res, zone, addr, atoi(port), &why)) == 0)
			n = blockclient_discover(c->bc, res, zone, &why);
		resolve_free(res);
		if (n > 0) {
			snprintf(c->source, sizeof(c->source), "SRV %s.%s (%d nodes)",
				 BLOCKCLIENT_SRV, zone, n);
			r = 0;
			goto fail;
		}
		if (o->verbose)
			fprintf(stderr, "dnsfsctl block: no SRV nodes (%s); using DNSFS_BLOCKD\n",
				n == 0 ? "none registered" : why.msg);
	}
	r = nodes_from_env(c, &env, zone, e);
	if (r > 0)
		r = 0;
fail:
	env_release(&env);
	if (r == 0 && o->verbose)
		fprintf(stderr, "dnsfsctl block: nodes from %s\n", c->source);
	return r;
}

static void ctx_close(struct block_ctx *c)
{
	blockclient_free(c->bc);
	tsig_keyring_release(&c->kr);
}

/* The same client for other subcommands. */
struct block_client {
	struct block_ctx ctx;
};

int block_client_open(struct block_client **out, const char *dir, struct err *e)
{
	struct block_opts o = { .dir = dir };
	struct block_client *c = calloc(1, sizeof(*c));
	int r;

	*out = NULL;
	if (c == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	r = ctx_open(&c->ctx, &o, e);
	if (r < 0) {
		ctx_close(&c->ctx);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

struct blockclient *block_client_get(struct block_client *c)
{
	return c->ctx.bc;
}

void block_client_close(struct block_client *c)
{
	if (c == NULL)
		return;
	ctx_close(&c->ctx);
	free(c);
}

/* ------------------------------------------------------------ ref lines --- */

static void refline_release(struct refline *l)
{
	record_refs_release(&l->refs);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

/* "k+m" */
static int parse_km(const char *s, unsigned *k, unsigned *m)
{
	unsigned a, b;
	int n;

	if (sscanf(s, "%u+%u%n", &a, &b, &n) != 2 || s[n] != '\0' || a < 1 ||
	    a > RECORD_EC_K_MAX || b > RECORD_EC_M_MAX)
		return -EINVAL;
	*k = a;
	*m = b;
	return 0;
}

/* The words of argv joined: a ref line may come as one quoted argument or
 * as many words; "-" reads it from stdin. */
static int refline_parse(struct refline *l, int argc, char **argv, struct err *e)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	uint64_t end = 0;
	int r = 0;

	memset(l, 0, sizeof(*l));
	if (argc == 1 && strcmp(argv[0], "-") == 0) {
		ssize_t n = getline(&text, &cap, stdin);

		if (n < 0) {
			free(text);
			return err_set(e, -EINVAL, "no ref line on stdin");
		}
	} else {
		for (int i = 0; i < argc; i++) {
			size_t wl = strlen(argv[i]);
			char *t = realloc(text, len + wl + 2);

			if (t == NULL) {
				free(text);
				return err_set(e, -ENOMEM, "out of memory");
			}
			text = t;
			memcpy(text + len, argv[i], wl);
			len += wl;
			text[len++] = ' ';
			text[len] = '\0';
		}
	}
	if (text == NULL)
		return err_set(e, -EINVAL, "no ref given");
	for (char *save = NULL, *w = strtok_r(text, " \t\r\n", &save); w != NULL && r == 0;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (strncmp(w, "size=", 5) == 0) {
			if (parse_u64(w + 5, &l->size) < 0 || l->size > INT64_MAX)
				r = err_set(e, -EINVAL, "bad %s", w);
			l->has_size = 1;
		} else if (strncmp(w, "rep=", 4) == 0) {
			uint64_t v;

			if (parse_u64(w + 4, &v) < 0 || v < 1 || v > RECORD_REP_MAX)
				r = err_set(e, -EINVAL, "bad %s", w);
			l->pol = (struct record_policy){ RECORD_POLICY_REP, (uint8_t)v, 0, 0 };
		} else if (strncmp(w, "ec=", 3) == 0) {
			unsigned k, m;

			if (parse_km(w + 3, &k, &m) < 0)
				r = err_set(e, -EINVAL, "bad %s", w);
			else
				l->pol = (struct record_policy){ RECORD_POLICY_EC, 0, (uint8_t)k,
								 (uint8_t)m };
		} else if (w[0] == 'b' || w[0] == 's') {
			r = record_ref_parse(&l->refs, w, strlen(w), e);
		} else {
			r = err_set(e, -EINVAL, "unknown word \"%.40s\" (a ref line has size=, rep= "
				    "or ec=, then b= and s= refs)", w);
		}
	}
	free(text);
	if (r == 0 && !l->has_size) {
		/* without size=, the refs' end is the size */
		for (size_t i = 0; i < l->refs.n; i++)
			if (l->refs.v[i].off + l->refs.v[i].len > l->size)
				l->size = l->refs.v[i].off + l->refs.v[i].len;
	}
	for (size_t i = 0; r == 0 && i < l->refs.n; i++) {
		const struct record_ref *f = &l->refs.v[i];

		if (f->off < end)
			r = err_set(e, -EINVAL, "ref %zu (offset %" PRIu64 ") overlaps the one before",
				    i + 1, f->off);
		end = f->off + f->len;
		if (r == 0 && end > l->size)
			r = err_set(e, -EINVAL, "ref %zu ends at %" PRIu64 ", past size=%" PRIu64,
				    i + 1, end, l->size);
	}
	if (r < 0)
		refline_release(l);
	return r;
}

/* ------------------------------------------------------------------ put --- */

static int read_full(int fd, uint8_t *buf, size_t len, size_t *got, struct err *e)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, buf + *got, len - *got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, -errno, "read: %s", strerror(errno));
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

static int cmd_put(struct block_ctx *c, const struct block_opts *o, const char *file,
		   struct err *e)
{
	size_t block = o->pol.block > 0 ? o->pol.block : BLOCKCLIENT_BLOCK_SIZE;
	size_t step = o->pol.k > 0 ? block * o->pol.k : block;
	struct record_refs refs = { 0 };
	uint64_t total = 0;
	uint8_t *buf = NULL;
	char *tok = NULL;
	int fd = 0, r = 0;

	if (strcmp(file, "-") != 0 && (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, -errno, "%s: %s", file, strerror(errno));
	buf = malloc(step);
	tok = malloc(64 + (size_t)(EC_N_MAX) * (HASH_HEX_LEN + 1));
	if (buf == NULL || tok == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (;;) {
		size_t got;

		r = read_full(fd, buf, step, &got, e);
		if (r < 0)
			goto fail;
		if (got == 0)
			break;
		r = blockclient_write(c->bc, buf, got, total, &o->pol, &refs, e);
		if (r < 0)
			goto fail;
		total += got;
		if (got < step)
			break;
	}
	if (o->pol.k > 0)
		printf("size=%" PRIu64 " ec=%u+%u", total, o->pol.k, o->pol.m);
	else
		printf("size=%" PRIu64 " rep=%u", total, o->pol.rep);
	for (size_t i = 0; i < refs.n; i++) {
		r = record_ref_format(&refs.v[i], tok, 64 + (size_t)EC_N_MAX * (HASH_HEX_LEN + 1), e);
		if (r < 0)
			goto fail;
		printf(" %s", tok);
	}
	printf("\n");
	r = fflush(stdout) == 0 ? 0 : err_set(e, -EIO, "stdout: %s", strerror(errno));
fail:
	if (fd > 0)
		close(fd);
	record_refs_release(&refs);
	free(buf);
	free(tok);
	return r;
}

/* ------------------------------------------------------------------ get --- */

static int write_full(int fd, const uint8_t *p, size_t n, struct err *e)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(e, -errno, "write: %s", strerror(errno));
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_zeros(int fd, uint64_t n, struct err *e)
{
	static const uint8_t zero[65536];
	int r = 0;

	while (n > 0 && r == 0) {
		size_t k = n < sizeof(zero) ? (size_t)n : sizeof(zero);

		r = write_full(fd, zero, k, e);
		n -= k;
	}
	return r;
}

static int cmd_get(struct block_ctx *c, const struct refline *l, struct err *e)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	uint64_t pos = 0;
	int r = 0;

	for (size_t i = 0; i < l->refs.n && r == 0; i++) {
		const struct record_ref *f = &l->refs.v[i];

		if (f->len > cap) {
			uint8_t *b = realloc(buf, (size_t)f->len);

			if (b == NULL) {
				r = err_set(e, -ENOMEM, "out of memory");
				break;
			}
			buf = b;
			cap = (size_t)f->len;
		}
		r = write_zeros(1, f->off - pos, e);       /* a hole */
		if (r == 0)
			r = blockclient_read_ref(c->bc, f, buf, e);
		if (r == 0)
			r = write_full(1, buf, (size_t)f->len, e);
		pos = f->off + f->len;
	}
	if (r == 0)
		r = write_zeros(1, l->size - pos, e);
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- place --- */

static int parse_hash_arg(const char *s, struct hash *h, struct err *e)
{
	char hex[HASH_HEX_LEN + 1];

	/* 64 hex, or the two 32-hex labels of a place.Z name */
	if (strlen(s) >= 65 && s[32] == '.') {
		memcpy(hex, s, 32);
		memcpy(hex + 32, s + 33, 32);
		s = hex;
		hex[64] = '\0';
		if (strlen(s) != 64)
			return err_set(e, -EINVAL, "bad hash");
	}
	if (strlen(s) != HASH_HEX_LEN || hash_from_hex(h, s, HASH_HEX_LEN) < 0)
		return err_set(e, -EINVAL, "\"%.70s\" is not a SHA-256 in hex (64 digits)", s);
	return 0;
}

static int cmd_place(struct block_ctx *c, const char *arg, struct err *e)
{
	size_t idx[BLOCKCLIENT_NODES_MAX], n;
	struct blockclient_nodes *ns;
	char hex[HASH_HEX_LEN + 1];
	struct hash h;
	int r, holders = 0;

	r = parse_hash_arg(arg, &h, e);
	if (r < 0)
		return r;
	ns = blockclient_nodes_get(c->bc);
	n = blockclient_nodes_rank(ns, &h, idx, BLOCKCLIENT_NODES_MAX);
	hash_to_hex(&h, hex);
	printf("block %s\nnodes from %s, best first:\n", hex, c->source);
	printf("%-4s %-32s %-22s %6s  %s\n", "rank", "node", "address", "weight", "holds");
	for (size_t i = 0; i < n; i++) {
		struct err why = { 0 };
		uint64_t size = 0;
		int hr = blockclient_node_head(c->bc, ns, idx[i], &h, &size, &why);
		char holds[300];

		if (hr == 0) {
			snprintf(holds, sizeof(holds), "yes (%" PRIu64 " bytes)", size);
			holders++;
		} else if (hr == -ENOENT) {
			snprintf(holds, sizeof(holds), "no");
		} else {
			const char *m = strstr(why.msg, ": ");

			snprintf(holds, sizeof(holds), "unknown (%s)", m != NULL ? m + 2 : why.msg);
		}
		printf("%-4zu %-32s %-22s %6u  %s\n", i + 1, blockclient_nodes_id(ns, idx[i]),
		       blockclient_nodes_addr(ns, idx[i]), blockclient_nodes_weight(ns, idx[i]),
		       holds);
	}
	printf("%d of %zu nodes hold it\n", holders, n);
	blockclient_nodes_put(ns);
	return 0;
}

/* ----------------------------------------------------------------- stat --- */

/* One node's copy of h: "ok", "missing", "CORRUPT ...", "DOWN ...". Returns
 * 1 if the copy is good, 0 if the node does not have it, -1 if it is bad or
 * the node cannot say. */
static int copy_state(struct block_ctx *c, const struct blockclient_nodes *ns, size_t i,
		      const struct hash *h, size_t len, uint8_t *buf, char *out, size_t outlen)
{
	struct err why = { 0 };
	uint64_t size;
	const char *m;
	int r = blockclient_node_head(c->bc, ns, i, h, &size, &why);

	if (r == -ENOENT) {
		snprintf(out, outlen, "missing");
		return 0;
	}
	if (r < 0) {
		m = strstr(why.msg, ": ");
		snprintf(out, outlen, "DOWN (%s)", m != NULL ? m + 2 : why.msg);
		return -1;
	}
	r = blockclient_node_get(c->bc, ns, i, h, buf, len, NULL, NULL, &why);
	if (r == 0) {
		snprintf(out, outlen, "ok (verified)");
		return 1;
	}
	m = strstr(why.msg, ": ");
	m = m != NULL ? m + 2 : why.msg;
	if (r == -EBADMSG || r == -ENOENT)
		/* listed by HEAD but refused or wrong on GET: the node found (and
		 * quarantined) a bad copy, or this client did */
		snprintf(out, outlen, "CORRUPT (%s)", m);
	else
		snprintf(out, outlen, "DOWN (%s)", m);
	return -1;
}

static int cmd_stat(struct block_ctx *c, const struct refline *l, struct err *e)
{
	struct blockclient_nodes *ns = blockclient_nodes_get(c->bc);
	size_t nn = blockclient_nodes_count(ns), idx[BLOCKCLIENT_NODES_MAX];
	char hex[HASH_HEX_LEN + 1], st[600];
	uint8_t *buf = NULL;
	int degraded = 0, lost = 0;

	printf("size=%" PRIu64 ", %zu refs; nodes from %s\n", l->size, l->refs.n, c->source);
	for (size_t i = 0; i < l->refs.n; i++) {
		const struct record_ref *f = &l->refs.v[i];
		size_t nh = record_ref_nhash(f), len, good_chunks = 0;

		len = f->k == 0 ? (size_t)f->len : ec_chunk_len(f->len, f->k);
		free(buf);
		buf = malloc(len);
		if (buf == NULL) {
			blockclient_nodes_put(ns);
			return err_set(e, -ENOMEM, "out of memory");
		}
		if (f->k == 0) {
			unsigned rep = l->pol.kind == RECORD_POLICY_REP ? l->pol.rep : 3, good = 0;
			size_t n = blockclient_nodes_rank(ns, &f->h[0], idx, nn);

			hash_to_hex(&f->h[0], hex);
			printf("b %" PRIu64 ":%" PRIu64 " %s\n", f->off, f->len, hex);
			for (size_t j = 0; j < n; j++) {
				int s = copy_state(c, ns, idx[j], &f->h[0], len, buf, st, sizeof(st));

				good += s == 1;
				if (j < rep && s != 1)
					degraded = 1;
				if (j >= rep && s == 0)
					continue;       /* not expected there, not there */
				printf("  %-8s %-32s %-22s %s\n", j < rep ? "copy" : "extra",
				       blockclient_nodes_id(ns, idx[j]), blockclient_nodes_addr(ns, idx[j]),
				       st);
			}
			printf("  %u good cop%s of %u\n", good, good == 1 ? "y" : "ies", rep);
			lost |= good == 0;
			continue;
		}
		/* A stripe: chunk j belongs on node j of the ranking of h[0]. */
		size_t n = blockclient_nodes_rank(ns, &f->h[0], idx, nn);

		printf("s %" PRIu64 ":%" PRIu64 " %u+%u chunk %zu bytes\n", f->off, f->len, f->k,
		       f->m, len);
		for (size_t j = 0; j < nh; j++) {
			int s = -1;

			hash_to_hex(&f->h[j], hex);
			if (j < n) {
				s = copy_state(c, ns, idx[j], &f->h[j], len, buf, st, sizeof(st));
			} else {
				snprintf(st, sizeof(st), "no node for it");
			}
			if (s != 1) {
				/* a write may have put it past the stripe's nodes */
				for (size_t x = nh; x < n && s != 1; x++) {
					char st2[300];

					if (copy_state(c, ns, idx[x], &f->h[j], len, buf, st2,
						       sizeof(st2)) == 1) {
						size_t l2 = strlen(st);

						snprintf(st + l2, sizeof(st) - l2, "; ok on %s",
							 blockclient_nodes_id(ns, idx[x]));
						s = 1;
					}
				}
				degraded = 1;
			}
			good_chunks += s == 1;
			printf("  %-6s %-2zu %.16s... %-32s %s\n", j < f->k ? "data" : "parity", j + 1,
			       hex, j < n ? blockclient_nodes_id(ns, idx[j]) : "-", st);
		}
		printf("  %zu good chunks of %zu, %u needed\n", good_chunks, nh, f->k);
		lost |= good_chunks < f->k;
	}
	free(buf);
	blockclient_nodes_put(ns);
	printf("%s\n", lost ? "LOST: some data cannot be read" :
	       degraded ? "DEGRADED: readable, some copies or chunks are missing or bad" :
	       "HEALTHY: every copy and chunk in place and verified");
	return lost ? BLOCK_EXIT_LOST : degraded ? BLOCK_EXIT_DEGRADED : 0;
}

/* -------------------------------------------------------- command line --- */

static void usage(FILE *f, int full)
{
	fprintf(f,
		"usage: dnsfsctl block put --dir DIR [--rep R [--w W] | --ec K+M] [--block-size N] FILE\n"
		"       dnsfsctl block get --dir DIR REF...\n"
		"       dnsfsctl block place --dir DIR HASH\n"
		"       dnsfsctl block stat --dir DIR REF...\n");
	if (!full) {
		fprintf(f, "`dnsfsctl block --help` says more.\n");
		return;
	}
	fprintf(f,
		"\n"
		"Store files on the block daemons and read them back by their refs.\n"
		"  put    store FILE (- for stdin) in blocks of 1 MiB (replicated) or stripes\n"
		"         of K x 1 MiB (erasure coded); print one line, the ref:\n"
		"           size=N rep=R b=OFF:LEN:HASH ...   or   size=N ec=K+M s=OFF:LEN:K+M:H1,...\n"
		"  get    write the data of a ref line to stdout, every block verified\n"
		"  place  the nodes ranked for a block hash, and which of them hold it\n"
		"  stat   per block or chunk: the nodes it belongs on, which really hold it,\n"
		"         and whether their copies verify; exit 0 healthy, %d degraded, %d lost\n"
		"REF is the line put printed (as one argument, as words, or - for stdin).\n"
		"\n"
		"  --dir DIR         the cluster (DIR/cluster.env); nodes are the zone's\n"
		"                    _blockd._tcp SRV records, else DNSFS_BLOCKD; the key DIR/block.key\n"
		"  --nodes LIST      \"[id=]host:port ...\" instead of the cluster's nodes\n"
		"  --key FILE        block key (BIND format) instead of the cluster's\n"
		"  --rep R           copies (default 3); --w W: the write quorum (default majority)\n"
		"  --ec K+M          K data and M parity chunks on K+M distinct nodes\n"
		"  --block-size N    block (and chunk) size in bytes (default 1048576)\n"
		"  --timeout MS      connect timeout (default 2000; answers may take 5x)\n"
		"  -v, --verbose     say where the nodes came from\n",
		BLOCK_EXIT_DEGRADED, BLOCK_EXIT_LOST);
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dnsfsctl block: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr, 0);
	return 2;
}

int block_cmd(int argc, char **argv, struct err *e)
{
	enum { O_DIR = 256, O_NODES, O_KEY, O_REP, O_W, O_EC, O_BLOCK, O_TIMEOUT };
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "nodes", required_argument, NULL, O_NODES },
		{ "key", required_argument, NULL, O_KEY },
		{ "rep", required_argument, NULL, O_REP },
		{ "w", required_argument, NULL, O_W },
		{ "ec", required_argument, NULL, O_EC },
		{ "block-size", required_argument, NULL, O_BLOCK },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct block_opts o = { .pol = { .rep = 3 } };
	struct block_ctx c;
	struct refline l;
	const char *verb;
	int ch, r, nargs;

	if (argc < 2)
		return bad_usage("%s", "missing subcommand (put, get, place or stat)");
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		usage(stdout, 1);
		return 0;
	}
	if (strcmp(verb, "put") != 0 && strcmp(verb, "get") != 0 && strcmp(verb, "place") != 0 &&
	    strcmp(verb, "stat") != 0)
		return bad_usage("unknown subcommand '%s'", verb);
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	/* "+": stop at the first word, so ref words are not taken for options */
	while ((ch = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		uint64_t v;

		switch (ch) {
		case O_DIR: o.dir = optarg; break;
		case O_NODES: o.nodes = optarg; break;
		case O_KEY: o.keyfile = optarg; break;
		case O_REP:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > RECORD_REP_MAX)
				return bad_usage("--rep wants 1..%d, not '%s'", RECORD_REP_MAX, optarg);
			o.pol.rep = (unsigned)v;
			o.pol.k = o.pol.m = 0;
			break;
		case O_W:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > RECORD_REP_MAX)
				return bad_usage("--w wants 1..%d, not '%s'", RECORD_REP_MAX, optarg);
			o.pol.w = (unsigned)v;
			break;
		case O_EC:
			if (parse_km(optarg, &o.pol.k, &o.pol.m) < 0)
				return bad_usage("--ec wants K+M (K 1..%d, M 0..%d), not '%s'",
						 RECORD_EC_K_MAX, RECORD_EC_M_MAX, optarg);
			break;
		case O_BLOCK:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > (64u << 20))
				return bad_usage("--block-size wants 1..67108864, not '%s'", optarg);
			o.pol.block = (size_t)v;
			break;
		case O_TIMEOUT:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 600000)
				return bad_usage("--timeout wants milliseconds, not '%s'", optarg);
			o.timeout_ms = (int)v;
			break;
		case 'v': o.verbose = 1; break;
		case 'h':
			usage(stdout, 1);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	nargs = argc - optind;
	if (nargs < 1)
		return bad_usage("%s %s", verb, strcmp(verb, "put") == 0 ? "needs a FILE" :
				 strcmp(verb, "place") == 0 ? "needs a HASH" : "needs a REF");
	if ((strcmp(verb, "put") == 0 || strcmp(verb, "place") == 0) && nargs != 1)
		return bad_usage("unexpected argument '%s'", argv[optind + 1]);
	if (o.pol.w > 0 && (o.pol.k > 0 || o.pol.w > o.pol.rep))
		return bad_usage("--w is a quorum of the --rep copies (1..%u)", o.pol.rep);
	if (o.dir == NULL && o.nodes == NULL)
		return bad_usage("%s", "--dir DIR is required");
	if (strcmp(verb, "get") == 0 || strcmp(verb, "stat") == 0) {
		r = refline_parse(&l, nargs, argv + optind, e);
		if (r < 0)
			return r;
	} else {
		memset(&l, 0, sizeof(l));
	}
	/* Library warnings (a node down, a bad copy) go to stderr; quiet unless
	 * asked, as stat reports them itself. */
	log_init("dnsfsctl", o.verbose ? LOG_LEVEL_INFO : strcmp(verb, "stat") == 0 ||
		 strcmp(verb, "place") == 0 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, 0);
	r = ctx_open(&c, &o, e);
	if (r == 0) {
		if (strcmp(verb, "put") == 0)
			r = cmd_put(&c, &o, argv[optind], e);
		else if (strcmp(verb, "get") == 0)
			r = cmd_get(&c, &l, e);
		else if (strcmp(verb, "place") == 0)
			r = cmd_place(&c, argv[optind], e);
		else
			r = cmd_stat(&c, &l, e);
	}
	ctx_close(&c);
	refline_release(&l);
	return r;
}

int block_ctx_open(struct block_ctx *c, const char *dir, int verbose, struct err *e)
{
	struct block_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.verbose = verbose;
	r = ctx_open(c, &o, e);
	if (r < 0)
		ctx_close(c);
	return r;
}

void block_ctx_close(struct block_ctx *c)
{
	ctx_close(c);
}
