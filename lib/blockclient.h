/* blockclient: storing and fetching content-addressed blocks on the blockd
 * nodes (DESIGN.md, "Write path" and "Read path"): replicas to the top of the
 * placement ranking with a write quorum, or Reed-Solomon stripes on k+m
 * distinct nodes; every block read is verified against its SHA-256. */
#ifndef DNSFS_BLOCKCLIENT_H
#define DNSFS_BLOCKCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"
#include "record.h"
#include "tsig.h"

#define BLOCKCLIENT_BLOCK_SIZE (1u << 20) /* default block, and stripe chunk */
#define BLOCKCLIENT_NODES_MAX 256       /* nodes in a set (= PLACEMENT_RANK_CACHE) */
#define BLOCKCLIENT_ADDR_MAX 280        /* "host:port" / "[v6]:port" + NUL */
#define BLOCKCLIENT_SRV "_blockd._tcp"  /* SRV owner below the zone */

struct resolve;
struct ec;

/* One node as configured: its placement id and where it listens. For a
 * cluster the id is the SRV target ("blockd-3.n.dnsfs.test.") so that every
 * client and the mds rank nodes alike; the address is separate. */
struct blockclient_node {
	const char *id;         /* placement id; NULL: use addr as the id */
	const char *addr;       /* "host:port" or "[v6]:port" */
	uint32_t weight;        /* SRV weight; 0 = draining (read, never written) */
};

/* Told about every block that a node returned with the wrong content (it
 * counts as missing and the read goes on elsewhere). May be called from any
 * thread that reads. */
typedef void (*blockclient_corrupt_fn)(void *arg, const char *node_id,
				       const struct hash *h, const char *why);

struct blockclient_opts {
	int connect_timeout_ms;         /* default 2000 */
	int io_timeout_ms;              /* no progress for this long fails a request;
					 * default 10000 */
	unsigned pool_max;              /* idle connections kept per node; default 4 */
	size_t body_max;                /* largest block accepted from a GET of
					 * unknown size; default 64 MiB */
	const struct tsig_key *key;     /* the cluster block key (copied); NULL:
					 * requests go unsigned and PUTs are refused */
	blockclient_corrupt_fn on_corrupt; /* may be NULL: logged anyway */
	void *corrupt_arg;
};

void blockclient_opts_init(struct blockclient_opts *o);

/* Totals since blockclient_new (atomic counters). */
struct blockclient_stats {
	uint64_t requests;      /* HTTP requests answered or failed */
	uint64_t put_blocks;    /* block or chunk copies stored (acknowledged) */
	uint64_t put_bytes;
	uint64_t get_blocks;    /* blocks or chunks fetched and verified */
	uint64_t get_bytes;
	uint64_t corrupt;       /* copies that failed verification */
	uint64_t failovers;     /* reads served by another than the first holder */
	uint64_t reconstructs;  /* stripes read by Reed-Solomon decoding */
	uint64_t node_errors;   /* requests failing in transport or with 5xx */
};

/* The client: node set, connection pools, codecs, counters. Thread-safe:
 * every call below may run in many threads at once, including set_nodes. */
struct blockclient;

int blockclient_new(struct blockclient **out, const struct blockclient_opts *o,
		    struct err *e);
void blockclient_free(struct blockclient *bc);  /* bc may be NULL */
void blockclient_stats(struct blockclient *bc, struct blockclient_stats *out);

/* ---- the node set -------------------------------------------------------- */

/* Replace the node set (calls in progress finish on the old one). Ids must
 * be distinct (ignoring case); -EINVAL, -EEXIST, -EHOSTUNREACH (an address
 * that does not resolve), -ENOMEM. */
int blockclient_set_nodes(struct blockclient *bc, const struct blockclient_node *v,
			  size_t n, struct err *e);

/* Parse "id=host:port" or "host:port" words (as in DNSFS_BLOCKD) into v[0..max),
 * each pointing into the NUL-separated copy in buf (buflen >= strlen(s) + 1).
 * Weight 1 each. Returns the count or -EINVAL/-ENOSPC. */
int blockclient_parse_nodes(const char *s, char *buf, size_t buflen,
			    struct blockclient_node *v, size_t max, struct err *e);

/* The nodes registered in DNS: `_blockd._tcp.<zone>` SRV (ids = the SRV
 * targets, weights = the SRV weights) with the targets' A/AAAA records and
 * SRV ports as addresses; then blockclient_set_nodes. Returns the node count,
 * 0 (nothing set) if the zone has no SRV records, or a negative errno. */
int blockclient_discover(struct blockclient *bc, struct resolve *res, const char *zone,
			 struct err *e);

/* A snapshot of the node set (reference counted, immutable), for callers
 * that look at single nodes: placement, HEAD, per-node GET. Indices are
 * into the snapshot and stay valid while it is held. */
struct blockclient_nodes;
struct blockclient_nodes *blockclient_nodes_get(struct blockclient *bc);
void blockclient_nodes_put(struct blockclient_nodes *ns);      /* ns may be NULL */
size_t blockclient_nodes_count(const struct blockclient_nodes *ns);
const char *blockclient_nodes_id(const struct blockclient_nodes *ns, size_t i);
const char *blockclient_nodes_addr(const struct blockclient_nodes *ns, size_t i);
uint32_t blockclient_nodes_weight(const struct blockclient_nodes *ns, size_t i);
/* Placement ranking of all nodes for h (best first) into idx; the count. */
size_t blockclient_nodes_rank(const struct blockclient_nodes *ns, const struct hash *h,
			      size_t *idx, size_t max);

/* ---- one node ------------------------------------------------------------ */
/* 0, or: -ENOENT (404), -EACCES (401/403), -EINVAL (400), -EFBIG (413),
 * -ENOSPC (507), -EIO (other status), -EBADMSG (content does not match h),
 * or the transport error (-ECONNREFUSED, -ETIMEDOUT, ...); e says which. */

/* Does node i hold h? 0 if so (*size, if not NULL, gets its length). */
int blockclient_node_head(struct blockclient *bc, const struct blockclient_nodes *ns,
			  size_t i, const struct hash *h, uint64_t *size, struct err *e);
/* Fetch h from node i and verify it. With len > 0 it must be exactly len
 * bytes and lands in buf; with len 0 *out receives a malloc'd copy (the
 * caller frees it) and *outlen its length. A mismatch is -EBADMSG and is
 * counted and reported as corrupt. */
int blockclient_node_get(struct blockclient *bc, const struct blockclient_nodes *ns,
			 size_t i, const struct hash *h, void *buf, size_t len,
			 void **out, size_t *outlen, struct err *e);
/* Store data (whose hash is h) on node i. */
int blockclient_node_put(struct blockclient *bc, const struct blockclient_nodes *ns,
			 size_t i, const struct hash *h, const void *data, size_t len,
			 struct err *e);
/* Delete h from node i. With before > 0 (Unix seconds) blockd deletes only a
 * block whose mtime (its last PUT, a re-PUT included) is older than before,
 * else refuses with 412, returned as -EBUSY: the GC's guard against a writer
 * that re-uses the block meanwhile (docs/SCHEMA.md, "Orphans and garbage
 * collection"). */
int blockclient_node_delete(struct blockclient *bc, const struct blockclient_nodes *ns,
			    size_t i, const struct hash *h, int64_t before, struct err *e);
#define BLOCKCLIENT_BEFORE_HEADER "X-Dnsfs-Unmodified-Before"

/* One block as a node's listing (GET /v1/blocks) shows it. */
struct blockclient_listed {
	struct hash hash;
	uint64_t size;
	int64_t mtime;          /* Unix seconds of its last PUT */
};
#define BLOCKCLIENT_LIST_MAX 10000      /* = blockd's BLOCKSTORE_LIST_MAX */

/* Up to limit (1..BLOCKCLIENT_LIST_MAX) blocks of node i with hashes above
 * *after (NULL: from the first), in hash order, into out. Returns how many
 * (fewer than limit: the end), or a negative errno. */
int blockclient_node_list(struct blockclient *bc, const struct blockclient_nodes *ns,
			  size_t i, const struct hash *after, size_t limit,
			  struct blockclient_listed *out, struct err *e);

/* ---- space ---------------------------------------------------------------- */

/* One node's room for blocks as it reports it (blockd's GET /v1/status). */
struct blockclient_space {
	uint64_t capacity;      /* bytes the blocks may take */
	uint64_t used;          /* bytes of the blocks stored */
	uint64_t free;          /* room left: min(capacity - used, disk available) */
	uint64_t requests;      /* requests it answered since it started (0: unknown) */
};

/* Ask every node of ns for its space, all in parallel: v[i] and rc[i] (0 or
 * a negative errno) for node i, both arrays of blockclient_nodes_count(ns).
 * A node that does not answer within timeout_ms (connect, then no progress
 * for that long; a kept connection found closed is retried once, so at most
 * about twice that) fails with -ETIMEDOUT; one answer that is not the JSON
 * of /v1/status is -EPROTO. Returns how many nodes answered; e says why the
 * first failing node failed. */
int blockclient_space(struct blockclient *bc, const struct blockclient_nodes *ns,
		      int timeout_ms, struct blockclient_space *v, int *rc, struct err *e);

/* ---- replicated blocks --------------------------------------------------- */

/* Store one block of len bytes (> 0) as rep copies: PUTs in parallel to the
 * first rep writable nodes (weight > 0) of the ranking of its hash; each
 * failure is replaced by the next node down the ranking until rep have it or
 * no node is left. Succeeds (0, hash in *h) when at least w acknowledged;
 * else -EIO, and e lists the nodes and why (also logged). w = 0 means a
 * majority (rep / 2 + 1); w is at most rep. */
int blockclient_put_rep(struct blockclient *bc, const void *data, size_t len,
			unsigned rep, unsigned w, struct hash *h, struct err *e);

/* Read the block h of exactly len bytes into buf: try the nodes in ranking
 * order (those that recently refused connections last), verify, and take
 * the first good copy. -ENOENT if no node has it, -EIO if some copies exist
 * but none could be read intact. */
int blockclient_get_rep(struct blockclient *bc, const struct hash *h, void *buf,
			size_t len, struct err *e);

/* ---- erasure-coded stripes ----------------------------------------------- */

/* Stripe placement (docs/SCHEMA.md, "Stripes"): the nodes are ranked by the
 * hash of the first data chunk, h[0], and chunk i (data 0..k-1, then parity)
 * belongs on the i-th node of that ranking, so a stripe's k+m chunks are on
 * k+m distinct nodes and `dig <h[0]>.place.Z TXT` names them in order. */

/* The stripe encode of blockclient_put_ec, for it and for bench/: len bytes
 * (> 0) as k data chunks of chunk = ec_chunk_len(len, k) bytes, plus the m
 * parity chunks of codec (k+m). Full data chunks are not copied: ptr[i]
 * points into data itself (ISA-L needs no alignment, only the speed of the
 * loads depends on it). The partial last data chunk (zero-filled), any
 * wholly zero data chunks and the parity go in scratch, which must hold
 * blockclient_stripe_scratch(len, k, m) bytes (EC_ALIGN-aligned is
 * fastest). Sets ptr[0..k+m). 0 or -EINVAL. */
size_t blockclient_stripe_scratch(size_t len, unsigned k, unsigned m);
int blockclient_stripe_encode(const struct ec *codec, const void *data, size_t len,
			      uint8_t *scratch, uint8_t **ptr, struct err *e);

/* Encode len bytes (> 0) into k data + m parity chunks of
 * ec_chunk_len(len, k) bytes, write them in parallel, and return their
 * hashes in h[0..k+m). A chunk whose node fails goes to the next writable
 * node past the first k+m in the ranking that holds no chunk of the stripe
 * yet. All k+m must be stored: -EIO otherwise (e says where and why); fewer
 * than k+m writable nodes is -ENOSPC. */
int blockclient_put_ec(struct blockclient *bc, const void *data, size_t len, unsigned k,
		       unsigned m, struct hash *h, struct err *e);

/* Read a stripe of len bytes into buf. Fetches the k data chunks in
 * parallel from their nodes, verifies each; a chunk that is missing, corrupt
 * or unreachable is replaced by the next parity chunk, then by a search of
 * the nodes past the first k+m; with k good chunks, lost data chunks are
 * rebuilt. -EIO if fewer than k good chunks are found. */
int blockclient_get_ec(struct blockclient *bc, const struct hash *h, unsigned k,
		       unsigned m, void *buf, size_t len, struct err *e);

/* ---- files as refs ------------------------------------------------------- */

/* How to store data: rep copies (k == 0) or k+m stripes; block is the block
 * size (BLOCKCLIENT_BLOCK_SIZE if 0): a replicated block holds up to block
 * bytes, a stripe up to k * block. */
struct blockclient_policy {
	unsigned rep;           /* copies when k == 0 (default 3) */
	unsigned w;             /* write quorum; 0 = majority */
	unsigned k, m;          /* a stripe policy when k > 0 */
	size_t block;
};

/* Store len bytes that sit at file offset off: cut into blocks or stripes,
 * store each, and append their refs (b= or s=, offsets from off) to refs. On
 * error the refs already appended stay (their blocks are stored). */
int blockclient_write(struct blockclient *bc, const void *data, size_t len, uint64_t off,
		      const struct blockclient_policy *p, struct record_refs *refs,
		      struct err *e);

/* Read the ref->len bytes of one ref into buf: from the local cache when
 * one is set and holds it intact, else from the nodes (then cached). */
int blockclient_read_ref(struct blockclient *bc, const struct record_ref *ref, void *buf,
			 struct err *e);

/* Use c (owned by the caller, outliving bc) as the local block cache:
 * blockclient_read_ref looks there first and both it and blockclient_write
 * add what they move. NULL: no cache. */
struct blockcache;
void blockclient_set_cache(struct blockclient *bc, struct blockcache *c);

#endif
