/* Unit tests for lib/ec: the chunk length rule, parity pinned to fixed bytes
 * (the format), every erasure pattern of up to m chunks for 4+2 and 8+3
 * rebuilt byte for byte, the edge codecs k=1 and m=0, and bad input. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ec.h"
#include "hash.h"

#define LOOP_ASSERT(cond) do { if (!(cond)) ck_assert(cond); } while (0)

/* A stripe in one buffer: chunk i at buf + i * len. */
struct stripe {
	unsigned k, m;
	size_t len;
	uint8_t *buf;
	uint8_t *ptr[EC_N_MAX];
};

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void stripe_make(struct stripe *s, struct ec *c, size_t len, uint32_t seed)
{
	struct err e = { 0 };

	s->k = ec_k(c);
	s->m = ec_m(c);
	s->len = len;
	s->buf = malloc((s->k + s->m) * len);
	ck_assert_ptr_nonnull(s->buf);
	for (unsigned i = 0; i < s->k + s->m; i++)
		s->ptr[i] = s->buf + i * len;
	fill(s->buf, s->k * len, seed);
	ck_assert_int_eq(ec_encode(c, len, s->ptr, s->ptr + s->k, &e), 0);
}

/* Lose every chunk in missing (overwrite with junk), rebuild, compare. */
static int lose_and_rebuild(struct ec *c, const struct stripe *s, uint64_t missing)
{
	size_t total = (s->k + s->m) * s->len;
	uint8_t *copy = malloc(total), *ptr[EC_N_MAX];
	struct err e = { 0 };
	int r, same;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s->buf, total);
	for (unsigned i = 0; i < s->k + s->m; i++) {
		ptr[i] = copy + i * s->len;
		if (missing >> i & 1)
			memset(ptr[i], 0xa5, s->len);
	}
	r = ec_reconstruct(c, s->len, ptr, missing, &e);
	same = memcmp(copy, s->buf, total) == 0;
	free(copy);
	return r == 0 && same;
}

/* Every pattern of 0..m lost chunks out of k+m. */
static void all_patterns(unsigned k, unsigned m, size_t len)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };
	unsigned n = k + m, tried = 0;

	ck_assert_int_eq(ec_new(&c, k, m, &e), 0);
	stripe_make(&s, c, len, k * 100 + m);
	for (uint64_t mask = 0; mask < (UINT64_C(1) << n); mask++) {
		if ((unsigned)__builtin_popcountll(mask) > m)
			continue;
		tried++;
		LOOP_ASSERT(lose_and_rebuild(c, &s, mask));
	}
	/* sum of C(n, i) for i <= m */
	unsigned expect = 0, binom = 1;
	for (unsigned i = 0; i <= m; i++) {
		expect += binom;
		binom = binom * (n - i) / (i + 1);
	}
	ck_assert_uint_eq(tried, expect);
	free(s.buf);
	ec_free(c);
}

START_TEST(chunk_len_rule)
{
	ck_assert_uint_eq(ec_chunk_len(0, 4), 0);
	ck_assert_uint_eq(ec_chunk_len(1, 0), 0);
	ck_assert_uint_eq(ec_chunk_len(1, 4), 64);
	ck_assert_uint_eq(ec_chunk_len(256, 4), 64);
	ck_assert_uint_eq(ec_chunk_len(257, 4), 128);
	ck_assert_uint_eq(ec_chunk_len(4194304, 4), 1048576);
	ck_assert_uint_eq(ec_chunk_len(4194305, 4), 1048576 + 64);
	ck_assert_uint_eq(ec_chunk_len(1048577, 4), 262208);
	ck_assert_uint_eq(ec_chunk_len(3951424, 2), 1975744);
	ck_assert_uint_eq(ec_chunk_len(1, 1), 64);
	ck_assert_uint_eq(ec_chunk_len(8 * 1048576, 8), 1048576);
}
END_TEST

/* GF(2^8) with polynomial 0x11d, computed here without ISA-L. */
static uint8_t gf_mul8(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	for (int bit = 0; bit < 8; bit++) {
		if (b & 1)
			r ^= a;
		a = (uint8_t)((a << 1) ^ (a & 0x80 ? 0x1d : 0));
		b >>= 1;
	}
	return r;
}

static uint8_t gf_inv8(uint8_t a)
{
	for (int b = 1; b < 256; b++)
		if (gf_mul8(a, (uint8_t)b) == 1)
			return (uint8_t)b;
	return 0;
}

/* The parity is part of the format: parity chunk j (row k + j) is
 * sum over i of data_i * 1 / ((k + j) XOR i) in GF(2^8)/0x11d (ISA-L's
 * gf_gen_cauchy1_matrix). Checked against an independent computation for
 * 4+2 and 8+3 on random data, so a change of matrix or library shows. */
static void parity_by_hand(unsigned k, unsigned m, size_t len)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };

	ck_assert_int_eq(ec_new(&c, k, m, &e), 0);
	stripe_make(&s, c, len, 42);
	for (unsigned j = 0; j < m; j++) {
		for (size_t b = 0; b < len; b++) {
			uint8_t v = 0;

			for (unsigned i = 0; i < k; i++)
				v ^= gf_mul8(gf_inv8((uint8_t)((k + j) ^ i)), s.ptr[i][b]);
			LOOP_ASSERT(s.ptr[k + j][b] == v);
		}
	}
	free(s.buf);
	ec_free(c);
}

START_TEST(parity_pinned)
{
	parity_by_hand(4, 2, 200);
	parity_by_hand(8, 3, 64);
	parity_by_hand(1, 2, 64);
	/* and one fixed value: data chunk i all (i + 1), 4+2 */
	uint8_t data[4][64], par[2][64], *d[4], *p[2] = { par[0], par[1] };
	struct ec *c;
	struct err e = { 0 };

	ck_assert_int_eq(ec_new(&c, 4, 2, &e), 0);
	for (int i = 0; i < 4; i++) {
		memset(data[i], i + 1, 64);
		d[i] = data[i];
	}
	ck_assert_int_eq(ec_encode(c, 64, d, p, &e), 0);
	ck_assert_uint_eq(par[0][0], 0x48);
	ck_assert_uint_eq(par[1][63], 0x0f);
	ec_free(c);
}
END_TEST

START_TEST(patterns_4_2)
{
	all_patterns(4, 2, 4096);
}
END_TEST

START_TEST(patterns_8_3)
{
	all_patterns(8, 3, 1024);
}
END_TEST

START_TEST(patterns_odd_lengths)
{
	/* ISA-L's vector code has tails: lengths that are not multiples of 16,
	 * 32 or 64 take them. */
	static const size_t lens[] = { 1, 3, 15, 31, 33, 63, 65, 127, 1000, 4097 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		all_patterns(4, 2, lens[i]);
}
END_TEST

START_TEST(patterns_other_shapes)
{
	all_patterns(2, 1, 640);
	all_patterns(3, 3, 640);
	all_patterns(6, 3, 640);
	all_patterns(10, 4, 128);
}
END_TEST

START_TEST(k1_any_one_chunk)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };

	ck_assert_int_eq(ec_new(&c, 1, 3, &e), 0);
	stripe_make(&s, c, 777, 5);
	/* Each parity chunk is the data times a constant (1 / (1 + j)): any
	 * one chunk gives back the data. */
	for (uint64_t mask = 0; mask < 16; mask++)
		if (__builtin_popcountll(mask) <= 3)
			ck_assert(lose_and_rebuild(c, &s, mask));
	free(s.buf);
	ec_free(c);
}
END_TEST

START_TEST(m0_nothing_to_rebuild)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };
	uint8_t *ptr[4];

	ck_assert_int_eq(ec_new(&c, 4, 0, &e), 0);
	stripe_make(&s, c, 256, 9);
	ck_assert(lose_and_rebuild(c, &s, 0));
	ck_assert_int_eq(ec_verify(c, 256, s.ptr, &e), 0);
	memcpy(ptr, s.ptr, sizeof(ptr));
	ck_assert_int_eq(ec_reconstruct(c, 256, ptr, 1, &e), -EIO);
	free(s.buf);
	ec_free(c);
}
END_TEST

START_TEST(only_wanted_rebuilt)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };
	uint8_t *ptr[6], junk[512];

	ck_assert_int_eq(ec_new(&c, 4, 2, &e), 0);
	stripe_make(&s, c, 512, 11);
	/* Lose data 1 and parity 0; ask back only data 1. */
	memcpy(ptr, s.ptr, sizeof(ptr));
	memset(junk, 0, sizeof(junk));
	ptr[1] = junk;
	ptr[4] = NULL;
	ck_assert_int_eq(ec_reconstruct(c, 512, ptr, (1u << 1) | (1u << 4), &e), 0);
	ck_assert_mem_eq(junk, s.ptr[1], 512);
	/* Nothing wanted: nothing to do. */
	ptr[1] = NULL;
	ck_assert_int_eq(ec_reconstruct(c, 512, ptr, (1u << 1) | (1u << 4), &e), 0);
	free(s.buf);
	ec_free(c);
}
END_TEST

START_TEST(verify_detects_damage)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };

	ck_assert_int_eq(ec_new(&c, 4, 2, &e), 0);
	stripe_make(&s, c, 320, 3);
	ck_assert_int_eq(ec_verify(c, 320, s.ptr, &e), 0);
	s.ptr[5][100] ^= 1;
	ck_assert_int_eq(ec_verify(c, 320, s.ptr, &e), -EBADMSG);
	ck_assert_str_eq(e.msg, "ec 4+2: parity chunk 1 does not match the data");
	s.ptr[5][100] ^= 1;
	s.ptr[0][0] ^= 0x80;
	ck_assert_int_eq(ec_verify(c, 320, s.ptr, &e), -EBADMSG);
	free(s.buf);
	ec_free(c);
}
END_TEST

START_TEST(garbage_rejected)
{
	struct ec *c = (struct ec *)1;
	struct stripe s;
	struct err e = { 0 };
	uint8_t *ptr[6];

	ck_assert_int_eq(ec_new(&c, 0, 2, &e), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(e.msg, "ec 0+2 out of range (k 1..32, m 0..16)");
	ck_assert_int_eq(ec_new(&c, 33, 2, &e), -EINVAL);
	ck_assert_int_eq(ec_new(&c, 4, 17, &e), -EINVAL);
	ck_assert_int_eq(ec_new(&c, 32, 16, &e), 0);
	ec_free(c);
	ec_free(NULL);

	ck_assert_int_eq(ec_new(&c, 4, 2, &e), 0);
	stripe_make(&s, c, 128, 1);
	memcpy(ptr, s.ptr, sizeof(ptr));
	/* lengths */
	ck_assert_int_eq(ec_encode(c, 0, ptr, ptr + 4, &e), -EINVAL);
	ck_assert_int_eq(ec_reconstruct(c, 0, ptr, 1, &e), -EINVAL);
	ck_assert_int_eq(ec_encode(c, (size_t)EC_CHUNK_MAX + 1, ptr, ptr + 4, &e), -EINVAL);
	/* buffers */
	ck_assert_int_eq(ec_encode(c, 128, NULL, ptr + 4, &e), -EINVAL);
	ck_assert_int_eq(ec_reconstruct(c, 128, NULL, 1, &e), -EINVAL);
	ptr[2] = NULL;
	ck_assert_int_eq(ec_encode(c, 128, ptr, ptr + 4, &e), -EINVAL);
	ck_assert_int_eq(ec_reconstruct(c, 128, ptr, 1, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "ec: surviving chunk 2 has no buffer");
	ptr[2] = s.ptr[2];
	/* too many lost, or chunks that do not exist */
	ck_assert_int_eq(ec_reconstruct(c, 128, ptr, 7, &e), -EIO);
	ck_assert_str_eq(e.msg, "ec 4+2: 3 chunks lost, at most 2 can be rebuilt");
	ck_assert_int_eq(ec_reconstruct(c, 128, ptr, 1u << 6, &e), -EINVAL);
	/* nothing was touched by the failures */
	ck_assert_int_eq(ec_verify(c, 128, s.ptr, &e), 0);
	free(s.buf);
	ec_free(c);
}
END_TEST

/* The decode-table cache under concurrent use: every thread rebuilds every
 * 2-erasure pattern of one shared 4+2 codec. */
struct th_arg {
	struct ec *c;
	const struct stripe *s;
	int ok;
};

static void *th_main(void *p)
{
	struct th_arg *a = p;

	a->ok = 1;
	for (int round = 0; round < 5; round++)
		for (uint64_t mask = 0; mask < 64; mask++)
			if (__builtin_popcountll(mask) <= 2 && !lose_and_rebuild(a->c, a->s, mask))
				a->ok = 0;
	return NULL;
}

START_TEST(threads_share_a_codec)
{
	struct ec *c;
	struct stripe s;
	struct err e = { 0 };
	pthread_t th[4];
	struct th_arg arg[4];

	ck_assert_int_eq(ec_new(&c, 4, 2, &e), 0);
	stripe_make(&s, c, 1024, 77);
	for (int i = 0; i < 4; i++) {
		arg[i] = (struct th_arg){ c, &s, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, th_main, &arg[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert(arg[i].ok);
	}
	free(s.buf);
	ec_free(c);
}
END_TEST

/* More patterns than the cache holds (8+3 has 232): still correct. */
START_TEST(cache_overflow)
{
	all_patterns(8, 3, 64);
	all_patterns(8, 3, 64);
}
END_TEST

START_TEST(bench_runs)
{
	struct ec_bench b;
	struct err e = { 0 };

	ck_assert_int_eq(ec_bench_run(4, 2, 65536, 0.02, &b, &e), 0);
	ck_assert(b.encode_runs > 0 && b.decode_runs > 0);
	ck_assert(b.encode_mbps > 0 && b.decode_mbps > 0);
	ck_assert_int_eq(ec_bench_run(4, 0, 65536, 0.01, &b, &e), 0);
	ck_assert(b.decode_runs == 0);
	ck_assert_int_eq(ec_bench_run(0, 2, 65536, 0.01, &b, &e), -EINVAL);
}
END_TEST

static Suite *ec_suite(void)
{
	Suite *s = suite_create("ec");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, chunk_len_rule);
	tcase_add_test(tc, parity_pinned);
	suite_add_tcase(s, tc);
	tc = tcase_create("reconstruct");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, patterns_4_2);
	tcase_add_test(tc, patterns_8_3);
	tcase_add_test(tc, patterns_odd_lengths);
	tcase_add_test(tc, patterns_other_shapes);
	tcase_add_test(tc, k1_any_one_chunk);
	tcase_add_test(tc, m0_nothing_to_rebuild);
	tcase_add_test(tc, only_wanted_rebuilt);
	tcase_add_test(tc, verify_detects_damage);
	tcase_add_test(tc, threads_share_a_codec);
	tcase_add_test(tc, cache_overflow);
	suite_add_tcase(s, tc);
	tc = tcase_create("input");
	tcase_add_test(tc, garbage_rejected);
	tcase_add_test(tc, bench_runs);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ec_suite)
