/* placement: which block daemons hold a block. Weighted rendezvous
 * (highest-random-weight) hashing of the block hash over the SRV node set
 * (DESIGN.md, "Storage nodes"); every client, the mds and dnsfsctl must agree. */
#ifndef DNSFS_PLACEMENT_H
#define DNSFS_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"

/*
 * The score function (a compatibility contract: changing any step moves
 * blocks; tests/unit/check_placement.c pins it).
 *
 *   id      the node name, normally the SRV target in presentation form
 *           with its trailing dot ("blockd-3.n.dnsfs.test."), ASCII
 *           lower-cased when the node is added (DNS names ignore case).
 *   seed    first 8 bytes of SHA-256(id), read big-endian; once per node.
 *   b       first 8 bytes of the block's SHA-256, read big-endian.
 *   k       mix64(b XOR seed), where mix64(z) is
 *             z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
 *             z ^= z >> 27; z *= 0x94d049bb133111eb;
 *             z ^= z >> 31;            (all arithmetic mod 2^64)
 *   u       (k | 1) / 2^64: uniform in (0, 1), never 0 or 1.
 *   draw    -log2(u) in fixed point with PLACEMENT_FRAC_BITS fractional
 *           bits, computed with integers only (no libm, so every platform
 *           and every language gets the same bits):
 *             x = k | 1;  e = index of the top set bit of x (0..63);
 *             y = x scaled so that 2^62 <= y < 2^63 (x << (62-e), or
 *                 x >> 1 when e == 63);
 *             f = 0;  repeat PLACEMENT_FRAC_BITS times:
 *                 y = floor(y * y / 2^62);     (128-bit product)
 *                 c = y >> 63;  y >>= c;  f = 2f + c;
 *             draw = (64 - e) * 2^PLACEMENT_FRAC_BITS - f     (>= 1)
 *   score   weight / draw  (== weight / -ln(u) up to the constant ln 2).
 *
 * Nodes are ranked by the key (weight > 0 first, score descending, k
 * descending, id ascending), where scores compare exactly as integers
 * (A's is higher iff wA * drawB > wB * drawA) and ids compare byte-wise (a
 * prefix first). Two scores tie with probability about 2^-48, two k 2^-64.
 * The draw never increases with k, so between nodes of equal weight the
 * order is simply k descending; implementations take the logarithm only
 * where weights differ, and a cluster of equal weights never needs it.
 * A node of weight 0 is draining: it gets no new blocks, so it ranks after
 * every node of weight > 0; draining nodes rank among themselves as nodes of
 * equal weight do (k descending, then id), so a reader still finds the
 * blocks a draining node holds. This differs from RFC 2782, where weight 0
 * means "rarely"; dnsfs SRV records use it to drain a node.
 */
#define PLACEMENT_FRAC_BITS 48
#define PLACEMENT_ID_MAX 255    /* longest id in bytes (a DNS name's text) */

struct placement_node {
	char *id;               /* lower-cased copy, NUL-terminated; owned */
	size_t id_len;          /* strlen(id) */
	uint32_t weight;        /* SRV weight; 0 = draining */
	uint64_t seed;          /* first 8 bytes of SHA-256(id), big-endian */
};

/* A node set. Indices into nodes[] are what placement_rank returns; they
 * stay valid until the next add or remove. Not locked: build a new set and
 * swap it in when the SRV records change, and share it read-only. */
struct placement {
	struct placement_node *nodes;   /* n used of cap; owned */
	size_t n;
	size_t cap;
};

/* Empty set; NULL on out of memory. */
struct placement *placement_new(void);
/* Free the set and its ids (p may be NULL). */
void placement_free(struct placement *p);

/* Add a node; id is copied (lower-cased). 0, or -EINVAL (empty, longer than
 * PLACEMENT_ID_MAX), -EEXIST (same id, ignoring case) or -ENOMEM, with the
 * reason in e. Indices of existing nodes do not change. */
int placement_add(struct placement *p, const char *id, uint32_t weight,
		  struct err *e);
/* Remove the node id (any case). 0 or -ENOENT. Later nodes move down one
 * index, keeping the order of addition. */
int placement_remove(struct placement *p, const char *id);
/* Change the weight of node id. 0 or -ENOENT. */
int placement_set_weight(struct placement *p, const char *id, uint32_t weight);
/* Index of node id (any case), or -ENOENT. */
long placement_find(const struct placement *p, const char *id);

/* Rank the nodes for block: write the indices of the best min(max, n) nodes
 * to out_idx, best first, and return how many were written. out_idx is the
 * caller's; nothing is allocated. O(n log max) comparisons; a node's draw is
 * computed at most once when n <= PLACEMENT_RANK_CACHE (kept on the stack),
 * else again per comparison between different weights.
 * Safe to call from many threads on one unchanging set. */
#define PLACEMENT_RANK_CACHE 256
size_t placement_rank(const struct placement *p, const struct hash *block,
		      size_t *out_idx, size_t max);

/* The exact draw of node idx (< p->n) for block (see above); for tests and
 * tools. */
uint64_t placement_draw(const struct placement *p, size_t idx,
			const struct hash *block);
/* weight / -ln(u) as a double, for display (`dnsfsctl place`, the mds's
 * place.Z answers); 0 for a draining node. Ranking never uses it. */
double placement_score(const struct placement *p, size_t idx,
		       const struct hash *block);

#endif
