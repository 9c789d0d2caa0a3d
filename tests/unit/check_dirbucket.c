/* Unit tests for lib/dirbucket: the key of a name pinned to its
 * SHA-256, buckets that partition the key space into ranges for every
 * bucket count, splits and merges that move only the keys of one bucket,
 * the split/merge decisions, bounded buckets over 100,000 names, and
 * readdir cookies that resume exactly after an entry. */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "dirbucket.h"

#define LOOP_ASSERT(cond) do { if (!(cond)) ck_assert(cond); } while (0)

/* splitmix64: a fixed, well-spread sequence of keys */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

START_TEST(test_key)
{
	/* h("hello.txt") = 734cad14909bedfa... (docs/SCHEMA.md) */
	ck_assert_uint_eq(dirbucket_key("hello.txt", 9), 0x734cad14909bedfaull);
	ck_assert_uint_eq(dirbucket_key_hex("734CAD14909BEDFAffff"), 0x734cad14909bedfaull);
	ck_assert_uint_ne(dirbucket_key("a", 1), dirbucket_key("b", 1));
}
END_TEST

START_TEST(test_one_bucket)
{
	uint64_t lo, hi;

	ck_assert_uint_eq(dirbucket_of(0, 1), 0);
	ck_assert_uint_eq(dirbucket_of(UINT64_MAX, 1), 0);
	dirbucket_range(0, 1, &lo, &hi);
	ck_assert_uint_eq(lo, 0);
	ck_assert_uint_eq(hi, UINT64_MAX);
	/* two buckets: the top bit of the key */
	ck_assert_uint_eq(dirbucket_of(0x7fffffffffffffffull, 2), 0);
	ck_assert_uint_eq(dirbucket_of(0x8000000000000000ull, 2), 1);
	/* three: bucket 0 split into 00.. (0) and 01.. (2), 1.. still whole */
	ck_assert_uint_eq(dirbucket_of(0x3000000000000000ull, 3), 0);
	ck_assert_uint_eq(dirbucket_of(0x4000000000000000ull, 3), 2);
	ck_assert_uint_eq(dirbucket_of(0xc000000000000000ull, 3), 1);
	dirbucket_range(2, 3, &lo, &hi);
	ck_assert_uint_eq(lo, 0x4000000000000000ull);
	ck_assert_uint_eq(hi, 0x7fffffffffffffffull);
}
END_TEST

/* For n = 1..1100 the ranges of buckets 0..n-1 are disjoint and cover all
 * keys, and every key lands in the bucket whose range holds it. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_partition)
{
	static uint64_t lo[1100], hi[1100], srt[1100];
	uint64_t s = 1;

	for (uint32_t n = 1; n <= 1100; n++) {
		uint64_t covered = 0;

		for (uint32_t b = 0; b < n; b++) {
			dirbucket_range(b, n, &lo[b], &hi[b]);
			LOOP_ASSERT(lo[b] <= hi[b]);
			LOOP_ASSERT(dirbucket_of(lo[b], n) == b);
			LOOP_ASSERT(dirbucket_of(hi[b], n) == b);
			covered += hi[b] - lo[b] + 1;   /* wraps to 0 exactly once */
		}
		LOOP_ASSERT(covered == 0);
		/* disjoint and gap-free: sorted by lo, each starts right after
		 * the previous one ends */
		memcpy(srt, lo, n * sizeof(lo[0]));
		qsort(srt, n, sizeof(srt[0]), cmp_u64);
		LOOP_ASSERT(srt[0] == 0);
		for (uint32_t i = 1; i < n; i++)
			LOOP_ASSERT(srt[i] == hi[dirbucket_of(srt[i - 1], n)] + 1);
		for (int i = 0; i < 64; i++) {
			uint64_t k = mix(&s);
			uint32_t b = dirbucket_of(k, n);

			LOOP_ASSERT(b < n && lo[b] <= k && k <= hi[b]);
		}
	}
}
END_TEST

/* n -> n+1 moves keys out of split_from(n) into n and touches no other
 * bucket; n -> n-1 moves bucket n-1 into merge_into(n) only. */
START_TEST(test_split_merge)
{
	uint64_t s = 7, lo, hi;

	for (uint32_t n = 1; n <= 600; n++) {
		uint32_t from = dirbucket_split_from(n);
		int moved = 0, stayed = 0;

		LOOP_ASSERT(from < n);
		LOOP_ASSERT(dirbucket_merge_into(n + 1) == from);
		for (int i = 0; i < 2000; i++) {
			uint64_t k = mix(&s);
			uint32_t a = dirbucket_of(k, n), b = dirbucket_of(k, n + 1);

			if (a != from) {
				LOOP_ASSERT(a == b);
			} else {
				LOOP_ASSERT(b == from || b == n);
				moved += b == n;
				stayed += b == from;
			}
			/* and back: the merge undoes the split */
			LOOP_ASSERT(dirbucket_of(k, n) == (b == n ? dirbucket_merge_into(n + 1) : b));
		}
		/* the split bucket's own keys divide between the two */
		moved = stayed = 0;
		dirbucket_range(from, n, &lo, &hi);
		for (int i = 0; i < 64; i++) {
			uint64_t k = lo + mix(&s) % (hi - lo == UINT64_MAX ? UINT64_MAX : hi - lo + 1);

			moved += dirbucket_of(k, n + 1) == n;
			stayed += dirbucket_of(k, n + 1) == from;
		}
		LOOP_ASSERT(moved > 8 && stayed > 8 && moved + stayed == 64);
	}
	ck_assert_uint_eq(dirbucket_split_from(1), 0);
	ck_assert_uint_eq(dirbucket_split_from(4), 0);
	ck_assert_uint_eq(dirbucket_split_from(6), 2);
	ck_assert_uint_eq(dirbucket_merge_into(2), 0);
	ck_assert_uint_eq(dirbucket_merge_into(7), 2);
}
END_TEST

START_TEST(test_plan)
{
	ck_assert_int_eq(dirbucket_plan(0, 1), DIRBUCKET_KEEP);
	ck_assert_int_eq(dirbucket_plan(DIRBUCKET_TARGET, 1), DIRBUCKET_KEEP);
	ck_assert_int_eq(dirbucket_plan(DIRBUCKET_TARGET + 1, 1), DIRBUCKET_SPLIT);
	ck_assert_int_eq(dirbucket_plan(10 * DIRBUCKET_TARGET + 1, 10), DIRBUCKET_SPLIT);
	ck_assert_int_eq(dirbucket_plan(10 * DIRBUCKET_TARGET, 10), DIRBUCKET_KEEP);
	/* below a quarter: merge; a merge never makes a split due */
	ck_assert_int_eq(dirbucket_plan(10 * DIRBUCKET_TARGET / 4 - 1, 10), DIRBUCKET_MERGE);
	ck_assert_int_eq(dirbucket_plan(10 * DIRBUCKET_TARGET / 4, 10), DIRBUCKET_KEEP);
	ck_assert_int_eq(dirbucket_plan(0, 2), DIRBUCKET_MERGE);
	for (uint32_t n = 2; n < 5000; n++) {
		uint64_t b = (uint64_t)n * DIRBUCKET_TARGET / DIRBUCKET_MERGE_DIV - 1;

		LOOP_ASSERT(dirbucket_plan(b, n) == DIRBUCKET_MERGE);
		LOOP_ASSERT(dirbucket_plan(b, n - 1) != DIRBUCKET_SPLIT);
	}
	ck_assert_int_eq(dirbucket_plan(UINT64_MAX / 2, DIRBUCKET_MAX), DIRBUCKET_KEEP);
}
END_TEST

/* 100,000 names grown one by one as the mount does (one split step when
 * the plan says so): the largest bucket stays a small multiple of the
 * target, then shrinking back merges down to one bucket. */
START_TEST(test_bounded)
{
	enum { N = 100000 };
	static uint64_t keys[N];
	static uint64_t load[1u << 12];
	uint64_t bytes = 0, maxload = 0;
	uint32_t n = 1;
	char name[32];

	memset(load, 0, sizeof(load));
	for (int i = 0; i < N; i++) {
		int len = snprintf(name, sizeof(name), "f%07d", i);
		uint64_t rd = (uint64_t)len + 14;       /* "<name> <ino> f" + length byte */

		keys[i] = dirbucket_key(name, (size_t)len);
		load[dirbucket_of(keys[i], n)] += rd;
		bytes += rd;
		if (dirbucket_plan(bytes, n) == DIRBUCKET_SPLIT) {
			uint32_t from = dirbucket_split_from(n);

			LOOP_ASSERT(n + 1 < sizeof(load) / sizeof(load[0]));
			load[from] = 0;
			for (int j = 0; j <= i; j++)    /* recount the two buckets */
				if (dirbucket_of(keys[j], n + 1) == from || dirbucket_of(keys[j], n + 1) == n)
					load[dirbucket_of(keys[j], n + 1)] += (uint64_t)len + 14;
			n++;
		}
	}
	for (uint32_t b = 0; b < n; b++)
		if (load[b] > maxload)
			maxload = load[b];
	ck_assert_uint_ge(n, bytes / DIRBUCKET_TARGET);
	ck_assert_uint_le(n, bytes / DIRBUCKET_TARGET + 1);
	/* unsplit buckets hold about 2 targets; 3 leaves room for chance */
	ck_assert_uint_le(maxload, 3 * DIRBUCKET_TARGET);
	/* shrink: deleting names merges back (one step per delete at most) */
	for (int i = N - 1; i >= 0; i--) {
		bytes -= 22;
		if (dirbucket_plan(bytes, n) == DIRBUCKET_MERGE)
			n--;
	}
	ck_assert_uint_eq(bytes, 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_cookie)
{
	uint64_t k, s = 3;

	ck_assert_int_eq(dirbucket_resume(0, &k), 0);
	ck_assert_uint_eq(k, 0);
	ck_assert_int_eq(dirbucket_resume(2, &k), 0);
	ck_assert_uint_eq(k, 0);
	ck_assert_int_eq(dirbucket_cookie(0), 3);
	ck_assert_int_gt(dirbucket_cookie(UINT64_MAX), 3);
	/* the last possible entry ends the listing */
	ck_assert_int_eq(dirbucket_resume(dirbucket_cookie(UINT64_MAX), &k), 1);
	for (int i = 0; i < 100000; i++) {
		uint64_t a = mix(&s) >> 1, b = a + 16, r;
		off_t c = dirbucket_cookie(a);

		LOOP_ASSERT(c > 2);
		LOOP_ASSERT(dirbucket_cookie(b) > c);          /* monotone */
		LOOP_ASSERT(dirbucket_resume(c, &r) == 0);
		LOOP_ASSERT(r > a && r <= b);                   /* resumes right after a */
		LOOP_ASSERT(dirbucket_cookie(r) == c + 1);
	}
}
END_TEST

static Suite *dirbucket_suite(void)
{
	Suite *s = suite_create("dirbucket");
	TCase *tc = tcase_create("key");

	tcase_add_test(tc, test_key);
	suite_add_tcase(s, tc);
	tc = tcase_create("buckets");
	tcase_add_test(tc, test_one_bucket);
	tcase_add_test(tc, test_partition);
	tcase_add_test(tc, test_split_merge);
	suite_add_tcase(s, tc);
	tc = tcase_create("plan");
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_bounded);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("cookie");
	tcase_add_test(tc, test_cookie);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(dirbucket_suite)
