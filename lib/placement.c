/* placement: weighted rendezvous hashing (see placement.h for the exact score
 * function). Integer arithmetic only, so the answer does not depend on the
 * platform's libm; ranking is a bounded heap over the caller's buffer, and
 * takes a logarithm only where two nodes of different weights meet. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"

#ifndef __SIZEOF_INT128__
#error "placement.c needs unsigned __int128 (gcc or clang on a 64-bit target)"
#endif

typedef unsigned __int128 u128;

/* ---------------------------------------------------------------- score -- */

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A bijective 64-bit finalizer with full avalanche (Stafford's "Mix13"
 * constants). */
static uint64_t mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= UINT64_C(0xbf58476d1ce4e5b9);
	z ^= z >> 27;
	z *= UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return z;
}

/* -log2((k | 1) / 2^64) with PLACEMENT_FRAC_BITS fractional bits, by
 * repeated squaring: each squaring of a mantissa in [1, 2) yields the next
 * bit of its logarithm. Branch-free, so its time does not depend on k. */
static uint64_t neglog2_fix(uint64_t k)
{
	uint64_t x = k | 1;
	int e = 63 - __builtin_clzll(x);
	uint64_t y = e == 63 ? x >> 1 : x << (62 - e);
	uint64_t f = 0;

	for (int i = 0; i < PLACEMENT_FRAC_BITS; i++) {
		uint64_t c;

		y = (uint64_t)(((u128)y * y) >> 62);
		c = y >> 63;
		y >>= c;
		f = f << 1 | c;
	}
	return ((uint64_t)(64 - e) << PLACEMENT_FRAC_BITS) - f;
}

static uint64_t node_draw(const struct placement_node *nd, uint64_t b)
{
	return neglog2_fix(mix64(b ^ nd->seed));
}

uint64_t placement_draw(const struct placement *p, size_t idx,
			const struct hash *block)
{
	return node_draw(&p->nodes[idx], load_be64(block->b));
}

double placement_score(const struct placement *p, size_t idx,
		       const struct hash *block)
{
	const struct placement_node *nd = &p->nodes[idx];
	double l = (double)placement_draw(p, idx, block)
		   / (double)(UINT64_C(1) << PLACEMENT_FRAC_BITS);

	return nd->weight == 0 ? 0.0 : nd->weight / (l * M_LN2);
}

/* ------------------------------------------------------------- node set -- */

struct placement *placement_new(void)
{
	return calloc(1, sizeof(struct placement));
}

void placement_free(struct placement *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->nodes[i].id);
	free(p->nodes);
	free(p);
}

/* ASCII only: the locale must not change which node an id names. */
static char ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static int id_eq(const struct placement_node *nd, const char *id, size_t len)
{
	if (nd->id_len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (nd->id[i] != ascii_lower(id[i]))
			return 0;
	return 1;
}

long placement_find(const struct placement *p, const char *id)
{
	size_t len = strlen(id);

	for (size_t i = 0; i < p->n; i++)
		if (id_eq(&p->nodes[i], id, len))
			return (long)i;
	return -ENOENT;
}

int placement_add(struct placement *p, const char *id, uint32_t weight,
		  struct err *e)
{
	size_t len = strlen(id);
	struct placement_node *nd;
	struct hash h;
	char *copy;

	if (len == 0)
		return err_set(e, -EINVAL, "empty node id");
	if (len > PLACEMENT_ID_MAX)
		return err_set(e, -EINVAL, "node id longer than %d bytes",
			       PLACEMENT_ID_MAX);
	if (placement_find(p, id) >= 0)
		return err_set(e, -EEXIST, "node '%s' is already in the set", id);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		void *v = realloc(p->nodes, cap * sizeof(*p->nodes));

		if (v == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		p->nodes = v;
		p->cap = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i <= len; i++)
		copy[i] = ascii_lower(id[i]);
	hash_buf(&h, copy, len);
	nd = &p->nodes[p->n++];
	nd->id = copy;
	nd->id_len = len;
	nd->weight = weight;
	nd->seed = load_be64(h.b);
	return 0;
}

int placement_remove(struct placement *p, const char *id)
{
	long i = placement_find(p, id);

	if (i < 0)
		return (int)i;
	free(p->nodes[i].id);
	memmove(&p->nodes[i], &p->nodes[i + 1],
		(p->n - (size_t)i - 1) * sizeof(*p->nodes));
	p->n--;
	return 0;
}

int placement_set_weight(struct placement *p, const char *id, uint32_t weight)
{
	long i = placement_find(p, id);

	if (i < 0)
		return (int)i;
	p->nodes[i].weight = weight;
	return 0;
}

/* -------------------------------------------------------------- ranking -- */

struct rank_ctx {
	const struct placement_node *nodes;
	uint64_t b;             /* the block's first 8 bytes */
	uint64_t *draws;        /* draws[i] of node i, 0 until computed (a draw
				 * is >= 1); NULL: compute every time */
};

static uint64_t ctx_key(const struct rank_ctx *c, size_t i)
{
	return mix64(c->b ^ c->nodes[i].seed);
}

static uint64_t ctx_draw(struct rank_ctx *c, size_t i)
{
	if (c->draws == NULL)
		return node_draw(&c->nodes[i], c->b);
	if (c->draws[i] == 0)
		c->draws[i] = node_draw(&c->nodes[i], c->b);
	return c->draws[i];
}

/* Does node i rank strictly before node j? A strict total order: (weight > 0
 * first, score descending, k descending, id ascending). Scores only need the
 * logarithm when weights differ: the draw never increases with k, so for
 * equal weights the order of k is the order of the scores. */
static int before(struct rank_ctx *c, size_t i, size_t j)
{
	const struct placement_node *a = &c->nodes[i], *z = &c->nodes[j];

	if ((a->weight == 0) != (z->weight == 0))
		return a->weight != 0;
	if (a->weight != z->weight) {
		uint64_t da = ctx_draw(c, i), dz = ctx_draw(c, j);
		u128 sa = (u128)a->weight * dz, sz = (u128)z->weight * da;

		if (sa != sz)
			return sa > sz;
	}
	uint64_t ka = ctx_key(c, i), kz = ctx_key(c, j);
	if (ka != kz)
		return ka > kz;
	int r = memcmp(a->id, z->id, a->id_len < z->id_len ? a->id_len : z->id_len);
	return r != 0 ? r < 0 : a->id_len < z->id_len;
}

/* heap[0..n) is a heap whose root ranks last of all its members. */
static void sift_down(struct rank_ctx *c, size_t *heap, size_t n, size_t at)
{
	for (;;) {
		size_t l = 2 * at + 1, worst = at;

		if (l < n && before(c, heap[worst], heap[l]))
			worst = l;
		if (l + 1 < n && before(c, heap[worst], heap[l + 1]))
			worst = l + 1;
		if (worst == at)
			return;
		size_t t = heap[at];
		heap[at] = heap[worst];
		heap[worst] = t;
		at = worst;
	}
}

static void sift_up(struct rank_ctx *c, size_t *heap, size_t at)
{
	while (at > 0) {
		size_t up = (at - 1) / 2;

		if (!before(c, heap[up], heap[at]))
			return;
		size_t t = heap[at];
		heap[at] = heap[up];
		heap[up] = t;
		at = up;
	}
}

size_t placement_rank(const struct placement *p, const struct hash *block,
		      size_t *out_idx, size_t max)
{
	uint64_t cache[PLACEMENT_RANK_CACHE];
	struct rank_ctx c = { p->nodes, load_be64(block->b), NULL };
	size_t k = max < p->n ? max : p->n, n = 0;

	if (k == 0)
		return 0;
	if (p->n <= PLACEMENT_RANK_CACHE) {
		memset(cache, 0, p->n * sizeof(cache[0]));
		c.draws = cache;
	}
	/* Keep the best k seen so far; the root is the one to evict. */
	for (size_t i = 0; i < p->n; i++) {
		if (n < k) {
			out_idx[n] = i;
			sift_up(&c, out_idx, n);
			n++;
		} else if (before(&c, i, out_idx[0])) {
			out_idx[0] = i;
			sift_down(&c, out_idx, k, 0);
		}
	}
	/* Heap sort: move the last-ranked to the end until best comes first. */
	for (size_t end = k - 1; end > 0; end--) {
		size_t t = out_idx[0];
		out_idx[0] = out_idx[end];
		out_idx[end] = t;
		sift_down(&c, out_idx, end, 0);
	}
	return k;
}
