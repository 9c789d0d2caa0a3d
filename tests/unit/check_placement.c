/* Unit tests for lib/placement: the node set API, the score function pinned
 * to fixed values, and over 100,000 blocks the properties rendezvous hashing
 * promises: minimal movement on add/remove, weights honoured, order-free. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "placement.h"

#define NBLOCKS 100000

/* Check writes a checkpoint to a pipe for every passing ck_assert, which in
 * loops over 100,000 blocks costs more than the placement itself: in loops,
 * test first and let ck_assert only report the failure. */
#define LOOP_ASSERT(cond) do { if (!(cond)) ck_assert(cond); } while (0)
#define LOOP_ASSERT_STR_EQ(a, b) \
	do { if (strcmp((a), (b)) != 0) ck_assert_str_eq((a), (b)); } while (0)

/* Block i is SHA-256 of the 8-byte big-endian counter i. */
static struct hash *blocks;

static void blocks_setup(void)
{
	blocks = malloc(NBLOCKS * sizeof(*blocks));
	ck_assert_ptr_nonnull(blocks);
	for (uint64_t i = 0; i < NBLOCKS; i++) {
		uint8_t be[8];

		for (int j = 0; j < 8; j++)
			be[j] = (uint8_t)(i >> (56 - 8 * j));
		hash_buf(&blocks[i], be, sizeof(be));
	}
}

static void blocks_teardown(void)
{
	free(blocks);
	blocks = NULL;
}

static void node_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "blockd-%d.n.dnsfs.test.", i);
}

/* Nodes blockd-1 .. blockd-n, all of the given weight. */
static struct placement *make_set(int n, uint32_t weight)
{
	struct placement *p = placement_new();
	struct err e = {0};
	char id[64];

	ck_assert_ptr_nonnull(p);
	for (int i = 1; i <= n; i++) {
		node_name(id, sizeof(id), i);
		ck_assert_int_eq(placement_add(p, id, weight, &e), 0);
	}
	return p;
}

static const char *rank_id(const struct placement *p, const struct hash *h,
			   size_t pos)
{
	size_t idx[64];
	size_t n = placement_rank(p, h, idx, sizeof(idx) / sizeof(idx[0]));

	LOOP_ASSERT(n > pos);
	return p->nodes[idx[pos]].id;
}

static void hash_of(struct hash *h, const char *s)
{
	hash_buf(h, s, strlen(s));
}

/* ------------------------------------------------------------- node set -- */

START_TEST(test_add_remove)
{
	struct placement *p = placement_new();
	struct err e = {0};
	char longid[PLACEMENT_ID_MAX + 2];

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(placement_add(p, "Blockd-1.N.dnsfs.test.", 1, &e), 0);
	ck_assert_str_eq(p->nodes[0].id, "blockd-1.n.dnsfs.test.");
	ck_assert_int_eq(placement_add(p, "blockd-2.n.dnsfs.test.", 2, &e), 0);
	/* the same name in another case is the same node */
	ck_assert_int_eq(placement_add(p, "BLOCKD-1.n.dnsfs.test.", 5, &e), -EEXIST);
	ck_assert(strstr(e.msg, "already") != NULL);
	ck_assert_int_eq(placement_add(p, "", 1, &e), -EINVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert_int_eq(placement_add(p, longid, 1, &e), -EINVAL);
	longid[PLACEMENT_ID_MAX] = '\0';
	ck_assert_int_eq(placement_add(p, longid, 1, &e), 0);
	ck_assert_uint_eq(p->n, 3);
	ck_assert_int_eq(placement_find(p, "blockd-2.N.DNSFS.test."), 1);
	ck_assert_int_eq(placement_find(p, "blockd-2.n.dnsfs.test"), -ENOENT);
	ck_assert_int_eq(placement_set_weight(p, "blockd-2.n.dnsfs.test.", 0), 0);
	ck_assert_uint_eq(p->nodes[1].weight, 0);
	ck_assert_int_eq(placement_set_weight(p, "nope.", 1), -ENOENT);
	/* removal keeps the order of the others */
	ck_assert_int_eq(placement_remove(p, "BLOCKD-1.n.dnsfs.test."), 0);
	ck_assert_int_eq(placement_remove(p, "blockd-1.n.dnsfs.test."), -ENOENT);
	ck_assert_uint_eq(p->n, 2);
	ck_assert_str_eq(p->nodes[0].id, "blockd-2.n.dnsfs.test.");
	ck_assert_str_eq(p->nodes[1].id, longid);
	/* grow past the first allocation */
	for (int i = 10; i < 40; i++) {
		char id[64];

		node_name(id, sizeof(id), i);
		ck_assert_int_eq(placement_add(p, id, 1, &e), 0);
	}
	ck_assert_uint_eq(p->n, 32);
	placement_free(p);
	placement_free(NULL);
}
END_TEST

START_TEST(test_rank_edges)
{
	struct placement *p = placement_new();
	struct err e = {0};
	struct hash h;
	size_t idx[8], full[8];

	hash_of(&h, "edge");
	ck_assert_uint_eq(placement_rank(p, &h, idx, 8), 0);
	ck_assert_int_eq(placement_add(p, "a.", 3, &e), 0);
	ck_assert_uint_eq(placement_rank(p, &h, idx, 0), 0);
	ck_assert_uint_eq(placement_rank(p, &h, idx, 8), 1);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_int_eq(placement_add(p, "b.", 0, &e), 0);
	ck_assert_int_eq(placement_add(p, "c.", 1, &e), 0);
	ck_assert_int_eq(placement_add(p, "d.", 0, &e), 0);
	/* max < n gives the prefix of the full ranking */
	ck_assert_uint_eq(placement_rank(p, &h, full, 8), 4);
	for (size_t k = 1; k <= 4; k++) {
		ck_assert_uint_eq(placement_rank(p, &h, idx, k), k);
		ck_assert_mem_eq(idx, full, k * sizeof(size_t));
	}
	/* weight 0 ranks after every weighted node, for every block */
	for (int i = 0; i < 1000; i++) {
		LOOP_ASSERT(placement_rank(p, &blocks[i], idx, 8) == 4);
		LOOP_ASSERT(p->nodes[idx[0]].weight != 0);
		LOOP_ASSERT(p->nodes[idx[1]].weight != 0);
		LOOP_ASSERT(p->nodes[idx[2]].weight == 0);
		LOOP_ASSERT(p->nodes[idx[3]].weight == 0);
		LOOP_ASSERT(placement_score(p, idx[0], &blocks[i]) >=
			    placement_score(p, idx[1], &blocks[i]));
		LOOP_ASSERT(placement_score(p, idx[3], &blocks[i]) == 0.0);
	}
	/* only draining nodes: still ranked (readers need them), by draw */
	ck_assert_int_eq(placement_remove(p, "a."), 0);
	ck_assert_int_eq(placement_remove(p, "c."), 0);
	ck_assert_uint_eq(placement_rank(p, &h, idx, 8), 2);
	ck_assert(placement_draw(p, idx[0], &h) < placement_draw(p, idx[1], &h));
	placement_free(p);
}
END_TEST

/* --------------------------------------------------------- the function -- */

/* The steps of placement.h written out again, with libm's log2 in place of
 * the integer logarithm: the header and the code must say the same thing. */
static uint64_t spec_key(const char *id, const struct hash *block)
{
	struct hash s;
	uint64_t seed = 0, b = 0, z;

	hash_of(&s, id);
	for (int i = 0; i < 8; i++) {
		seed = seed << 8 | s.b[i];
		b = b << 8 | block->b[i];
	}
	z = b ^ seed;
	z ^= z >> 30;
	z *= UINT64_C(0xbf58476d1ce4e5b9);
	z ^= z >> 27;
	z *= UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return z;
}

START_TEST(test_draw_matches_spec)
{
	struct placement *p = make_set(4, 1);
	double worst = 0;

	for (int i = 0; i < 20000; i++) {
		for (size_t j = 0; j < p->n; j++) {
			uint64_t k = spec_key(p->nodes[j].id, &blocks[i]);
			long double want = 64.0L - log2l((long double)(k | 1));
			double got = (double)placement_draw(p, j, &blocks[i]) /
				     (double)(UINT64_C(1) << PLACEMENT_FRAC_BITS);
			double d = fabs(got - (double)want);

			if (d > worst)
				worst = d;
		}
	}
	/* truncation to 48 fractional bits, plus rounding inside the loop */
	fprintf(stderr, "# draw vs 64 - log2l(k|1): max error %.3g\n", worst);
	/* the draw never increases with k: ranking equal weights by k is
	 * ranking them by score (placement.h relies on it) */
	for (int i = 0; i + 1 < 20000; i++) {
		uint64_t k0 = spec_key(p->nodes[0].id, &blocks[i]);
		uint64_t k1 = spec_key(p->nodes[0].id, &blocks[i + 1]);
		uint64_t d0 = placement_draw(p, 0, &blocks[i]);
		uint64_t d1 = placement_draw(p, 0, &blocks[i + 1]);

		LOOP_ASSERT(k0 < k1 ? d0 >= d1 : d0 <= d1);
	}
	ck_assert_msg(worst < 1e-13, "draw differs from -log2(u) by %g", worst);
	placement_free(p);
}
END_TEST

/* Pinned values: if one of these changes, the score function changed and
 * every stored block would move. Do not update them without a migration.
 * They were cross-checked against an independent implementation of the
 * steps in placement.h (Python, arbitrary-precision integers). */
START_TEST(test_pinned)
{
	static const struct {
		const char *block;      /* hashed to get the block hash */
		const char *order;      /* the full ranking, by node number */
	} want[] = {
		{ "", "512436" },
		{ "abc", "453216" },
		{ "dnsfs", "254316" },
		{ "block 42", "531426" },
	}, equal[] = {
		{ "", "6154273" },
		{ "abc", "4763251" },
		{ "dnsfs", "2456731" },
		{ "block 42", "6145723" },
	};
	static const uint32_t weights[6] = { 1, 2, 3, 1, 5, 0 };
	struct placement *p = placement_new();
	struct err e = {0};
	struct hash h;
	size_t idx[6];
	char id[64], got[32];

	for (int i = 0; i < 6; i++) {
		node_name(id, sizeof(id), i + 1);
		ck_assert_int_eq(placement_add(p, id, weights[i], &e), 0);
	}
	for (size_t t = 0; t < sizeof(want) / sizeof(want[0]); t++) {
		hash_of(&h, want[t].block);
		ck_assert_uint_eq(placement_rank(p, &h, idx, 6), 6);
		for (int i = 0; i < 6; i++)
			got[i] = (char)('1' + idx[i]);
		got[6] = '\0';
		ck_assert_str_eq(got, want[t].order);
	}
	/* exact draws, bit for bit */
	hash_of(&h, "abc");
	ck_assert_uint_eq(placement_draw(p, 0, &h), UINT64_C(0x0007233de8bf17bf));
	ck_assert_uint_eq(placement_draw(p, 3, &h), UINT64_C(0x000057541cf09e07));
	ck_assert_uint_eq(placement_draw(p, 5, &h), UINT64_C(0x0000d7eb7e34a697));
	hash_of(&h, "dnsfs");
	ck_assert_uint_eq(placement_draw(p, 1, &h), UINT64_C(0x000000b25ab91dfb));
	ck_assert_double_eq_tol(placement_score(p, 1, &h), 1060.231416, 1e-6);
	placement_free(p);

	/* equal weights (10 each) take the path without logarithms */
	p = make_set(7, 10);
	for (size_t t = 0; t < sizeof(equal) / sizeof(equal[0]); t++) {
		size_t eq[7];

		hash_of(&h, equal[t].block);
		ck_assert_uint_eq(placement_rank(p, &h, eq, 7), 7);
		for (int i = 0; i < 7; i++)
			got[i] = (char)('1' + eq[i]);
		got[7] = '\0';
		ck_assert_str_eq(got, equal[t].order);
	}
	placement_free(p);

	/* case does not matter: the id is lower-cased before hashing */
	p = make_set(6, 1);
	hash_of(&h, "dnsfs");
	ck_assert_int_eq(placement_remove(p, "blockd-2.n.dnsfs.test."), 0);
	ck_assert_int_eq(placement_add(p, "BLOCKD-2.N.DNSFS.TEST.", 2, &e), 0);
	ck_assert_uint_eq(placement_draw(p, 5, &h), UINT64_C(0x000000b25ab91dfb));
	placement_free(p);
}
END_TEST

START_TEST(test_deterministic)
{
	struct placement *p = make_set(10, 1), *q = make_set(10, 1);
	size_t a[10], b[10];

	for (int i = 0; i < 10000; i++) {
		LOOP_ASSERT(placement_rank(p, &blocks[i], a, 10) == 10);
		LOOP_ASSERT(placement_rank(p, &blocks[i], b, 10) == 10);
		LOOP_ASSERT(memcmp(a, b, sizeof(a)) == 0);
		LOOP_ASSERT(placement_rank(q, &blocks[i], b, 10) == 10);
		LOOP_ASSERT(memcmp(a, b, sizeof(a)) == 0);
		for (int j = 0; j + 1 < 10; j++)
			LOOP_ASSERT(placement_score(p, a[j], &blocks[i]) >=
				    placement_score(p, a[j + 1], &blocks[i]));
	}
	placement_free(p);
	placement_free(q);
}
END_TEST

/* A set larger than PLACEMENT_RANK_CACHE takes the recompute path; its
 * ranking must still be sorted by the exact comparison of the header. */
START_TEST(test_large_set)
{
	enum { N = PLACEMENT_RANK_CACHE + 44 };
	struct placement *p = placement_new();
	static size_t full[N], top[8];
	struct err e = {0};
	char id[64];

	for (int i = 0; i < N; i++) {
		node_name(id, sizeof(id), i);
		ck_assert_int_eq(placement_add(p, id, (uint32_t)(i % 7), &e), 0);
	}
	for (int i = 0; i < 200; i++) {
		LOOP_ASSERT(placement_rank(p, &blocks[i], full, N) == N);
		LOOP_ASSERT(placement_rank(p, &blocks[i], top, 8) == 8);
		LOOP_ASSERT(memcmp(top, full, sizeof(top)) == 0);
		for (int j = 0; j + 1 < N; j++) {
			const struct placement_node *x = &p->nodes[full[j]];
			const struct placement_node *y = &p->nodes[full[j + 1]];
			uint64_t dx = placement_draw(p, full[j], &blocks[i]);
			uint64_t dy = placement_draw(p, full[j + 1], &blocks[i]);

			if (x->weight == 0) {
				LOOP_ASSERT(y->weight == 0);
				LOOP_ASSERT(dx <= dy);
			} else if (y->weight != 0) {
				LOOP_ASSERT((unsigned __int128)x->weight * dy >=
					    (unsigned __int128)y->weight * dx);
			}
		}
	}
	placement_free(p);
}
END_TEST

/* ------------------------------------------------------ the statistics -- */

/* Top-3 after a change equals top-3 before with `changed` inserted (add) or
 * dropped (remove): filter `changed` out of the longer-lived list and the
 * rest must be a prefix of the other. */
static void assert_only_changed(const struct placement *before, const size_t *bi,
				const struct placement *after, const size_t *ai,
				size_t k, const char *changed)
{
	const char *b[3], *a[3];
	size_t nb = 0, na = 0;

	for (size_t i = 0; i < k; i++) {
		if (strcmp(before->nodes[bi[i]].id, changed) != 0)
			b[nb++] = before->nodes[bi[i]].id;
		if (strcmp(after->nodes[ai[i]].id, changed) != 0)
			a[na++] = after->nodes[ai[i]].id;
	}
	for (size_t i = 0; i < (na < nb ? na : nb); i++)
		LOOP_ASSERT_STR_EQ(a[i], b[i]);
}

/* Add node N+1 to N equal nodes: about 1/(N+1) of the primaries move, all
 * of them to the new node, and top-3 lists only gain the new node. */
START_TEST(test_add_moves_few)
{
	int n = _i == 0 ? 5 : 10;
	struct placement *p = make_set(n, 1), *q = make_set(n + 1, 1);
	char fresh[64];
	size_t moved = 0, bi[3], ai[3];
	double frac, want = 1.0 / (n + 1);

	node_name(fresh, sizeof(fresh), n + 1);
	for (int i = 0; i < NBLOCKS; i++) {
		LOOP_ASSERT(placement_rank(p, &blocks[i], bi, 3) == 3);
		LOOP_ASSERT(placement_rank(q, &blocks[i], ai, 3) == 3);
		if (strcmp(p->nodes[bi[0]].id, q->nodes[ai[0]].id) != 0) {
			moved++;
			LOOP_ASSERT_STR_EQ(q->nodes[ai[0]].id, fresh);
		}
		assert_only_changed(p, bi, q, ai, 3, fresh);
	}
	frac = (double)moved / NBLOCKS;
	fprintf(stderr, "# add: %d -> %d nodes moved %.4f of primaries (expect %.4f)\n",
		n, n + 1, frac, want);
	ck_assert_msg(fabs(frac - want) <= 0.10 * want,
		      "moved %.4f, expected %.4f +- 10%%", frac, want);
	placement_free(p);
	placement_free(q);
}
END_TEST

/* Weights 1,2,3,4 get 10/20/30/40% of the primaries. With 100,000 blocks the
 * standard error of a share s is sqrt(s(1-s)/1e5) <= 0.0016, so 5% relative
 * (0.005 for the 10% node, 5 standard errors) is tight yet safe. */
START_TEST(test_weights)
{
	struct placement *p = placement_new();
	struct err e = {0};
	size_t count[5] = {0}, idx[5];
	char id[64];

	for (int i = 0; i < 4; i++) {
		node_name(id, sizeof(id), i + 1);
		ck_assert_int_eq(placement_add(p, id, (uint32_t)(i + 1), &e), 0);
	}
	ck_assert_int_eq(placement_add(p, "draining.n.dnsfs.test.", 0, &e), 0);
	for (int i = 0; i < NBLOCKS; i++) {
		LOOP_ASSERT(placement_rank(p, &blocks[i], idx, 5) == 5);
		count[idx[0]]++;
		LOOP_ASSERT(idx[4] == 4);
	}
	ck_assert_uint_eq(count[4], 0);
	for (int i = 0; i < 4; i++) {
		double share = (double)count[i] / NBLOCKS, want = (i + 1) / 10.0;

		fprintf(stderr, "# weight %d: primary share %.4f (expect %.4f)\n",
			i + 1, share, want);
		ck_assert_msg(fabs(share - want) <= 0.05 * want,
			      "weight %d got %.4f, expected %.4f +- 5%%",
			      i + 1, share, want);
	}
	placement_free(p);
}
END_TEST

/* Adding a heavy node to light ones moves w/(W+w) of the primaries. */
START_TEST(test_add_weighted)
{
	struct placement *p = make_set(6, 100), *q = make_set(6, 100);
	struct err e = {0};
	size_t moved = 0, bi[1], ai[1];
	double frac, want = 300.0 / 900.0;

	ck_assert_int_eq(placement_add(q, "big.n.dnsfs.test.", 300, &e), 0);
	for (int i = 0; i < NBLOCKS; i++) {
		placement_rank(p, &blocks[i], bi, 1);
		placement_rank(q, &blocks[i], ai, 1);
		if (strcmp(p->nodes[bi[0]].id, q->nodes[ai[0]].id) != 0) {
			moved++;
			LOOP_ASSERT_STR_EQ(q->nodes[ai[0]].id, "big.n.dnsfs.test.");
		}
	}
	frac = (double)moved / NBLOCKS;
	fprintf(stderr, "# add weight 300 to 6x100: moved %.4f (expect %.4f)\n",
		frac, want);
	ck_assert(fabs(frac - want) <= 0.05 * want);
	placement_free(p);
	placement_free(q);
}
END_TEST

/* Removing a node moves only the blocks it held; each goes to its old
 * second choice, and top-3 lists only lose the removed node. */
START_TEST(test_remove)
{
	struct placement *p = make_set(10, 1), *q = make_set(10, 1);
	const char *gone = "blockd-4.n.dnsfs.test.";
	size_t moved = 0, bi[3], ai[3];
	double frac;

	ck_assert_int_eq(placement_remove(q, gone), 0);
	for (int i = 0; i < NBLOCKS; i++) {
		placement_rank(p, &blocks[i], bi, 3);
		placement_rank(q, &blocks[i], ai, 3);
		if (strcmp(p->nodes[bi[0]].id, gone) == 0) {
			moved++;
			LOOP_ASSERT_STR_EQ(q->nodes[ai[0]].id, p->nodes[bi[1]].id);
		} else {
			LOOP_ASSERT_STR_EQ(q->nodes[ai[0]].id, p->nodes[bi[0]].id);
		}
		assert_only_changed(q, ai, p, bi, 3, gone);
	}
	frac = (double)moved / NBLOCKS;
	fprintf(stderr, "# remove 1 of 10: moved %.4f (expect 0.1000)\n", frac);
	ck_assert(fabs(frac - 0.1) <= 0.01);
	placement_free(p);
	placement_free(q);
}
END_TEST

/* The order nodes are added in does not matter, only the set. */
START_TEST(test_order_independence)
{
	static const int orders[3][8] = {
		{ 1, 2, 3, 4, 5, 6, 7, 8 },
		{ 8, 7, 6, 5, 4, 3, 2, 1 },
		{ 5, 2, 8, 1, 7, 3, 6, 4 },
	};
	static const uint32_t weight[9] = { 0, 3, 1, 4, 1, 5, 9, 0, 6 };
	struct placement *p[3];
	struct err e = {0};
	size_t idx[3][8];
	char id[64];

	for (int o = 0; o < 3; o++) {
		p[o] = placement_new();
		for (int i = 0; i < 8; i++) {
			node_name(id, sizeof(id), orders[o][i]);
			ck_assert_int_eq(placement_add(p[o], id, weight[orders[o][i]], &e), 0);
		}
	}
	for (int i = 0; i < NBLOCKS; i += 3) {
		for (int o = 0; o < 3; o++)
			LOOP_ASSERT(placement_rank(p[o], &blocks[i], idx[o], 8) == 8);
		for (int j = 0; j < 8; j++) {
			LOOP_ASSERT_STR_EQ(p[0]->nodes[idx[0][j]].id, p[1]->nodes[idx[1][j]].id);
			LOOP_ASSERT_STR_EQ(p[0]->nodes[idx[0][j]].id, p[2]->nodes[idx[2][j]].id);
		}
	}
	/* a set that reached the same membership by removals ranks the same */
	placement_free(p[1]);
	p[1] = make_set(10, 1);
	ck_assert_int_eq(placement_remove(p[1], "blockd-9.n.dnsfs.test."), 0);
	ck_assert_int_eq(placement_remove(p[1], "blockd-10.n.dnsfs.test."), 0);
	for (int i = 1; i <= 8; i++) {
		node_name(id, sizeof(id), i);
		ck_assert_int_eq(placement_set_weight(p[1], id, weight[i]), 0);
	}
	for (int i = 0; i < 1000; i++)
		for (size_t j = 0; j < 8; j++)
			LOOP_ASSERT_STR_EQ(rank_id(p[0], &blocks[i], j),
					 rank_id(p[1], &blocks[i], j));
	for (int o = 0; o < 3; o++)
		placement_free(p[o]);
}
END_TEST

static Suite *placement_suite(void)
{
	Suite *s = suite_create("placement");
	TCase *tc = tcase_create("set");

	tcase_add_unchecked_fixture(tc, blocks_setup, blocks_teardown);
	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_rank_edges);
	suite_add_tcase(s, tc);
	tc = tcase_create("function");
	tcase_add_unchecked_fixture(tc, blocks_setup, blocks_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_draw_matches_spec);
	tcase_add_test(tc, test_pinned);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_large_set);
	suite_add_tcase(s, tc);
	tc = tcase_create("distribution");
	tcase_add_unchecked_fixture(tc, blocks_setup, blocks_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_add_moves_few, 0, 2);
	tcase_add_test(tc, test_add_weighted);
	tcase_add_test(tc, test_weights);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_order_independence);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(placement_suite)
