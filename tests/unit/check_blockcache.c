/* Unit tests for lib/blockcache on a real directory: hits of blocks and
 * stripes, verification (a damaged file is a miss and goes), the byte bound
 * with least-recently-used eviction, and entries surviving a restart while
 * leftover temporary files do not. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockcache.h"
#include "check_main.h"
#include "ec.h"
#include "hash.h"

static char dir[] = "/tmp/check_blockcache.XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/check_blockcache.XXXXXX");
}

/* A block ref of len bytes filled with seed. */
static void block_ref(struct record_ref *ref, uint8_t *buf, size_t len, int seed)
{
	memset(buf, seed, len);
	buf[0] = (uint8_t)(seed >> 8);
	memset(ref, 0, sizeof(*ref));
	ref->len = len;
	ref->h = calloc(1, sizeof(struct hash));
	hash_buf(&ref->h[0], buf, len);
}

/* A 3+2 stripe ref of len bytes: each data chunk's hash (zero-filled to
 * the chunk length); parity hashes are not looked at by the cache. */
static void stripe_ref(struct record_ref *ref, uint8_t *buf, size_t len)
{
	size_t cl = ec_chunk_len(len, 3);
	uint8_t *chunk = calloc(1, cl);

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memset(ref, 0, sizeof(*ref));
	ref->len = len;
	ref->k = 3;
	ref->m = 2;
	ref->h = calloc(5, sizeof(struct hash));
	for (unsigned i = 0; i < 3; i++) {
		size_t lo = i * cl, n = lo < len ? (len - lo < cl ? len - lo : cl) : 0;

		memset(chunk, 0, cl);
		memcpy(chunk, buf + lo, n);
		hash_buf(&ref->h[i], chunk, cl);
	}
	free(chunk);
}

/* The one cache file in dir (its path), or "" */
static void only_file(char *out, size_t len)
{
	char cmd[300];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find %s -type f", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fgets(out, (int)len, p) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

START_TEST(test_block_and_stripe_hits)
{
	struct blockcache *c;
	struct blockcache_stats st;
	struct record_ref a, s;
	static uint8_t buf[100000], sbuf[100001], out[100001];
	struct err e = { 0 };

	ck_assert_int_eq(blockcache_new(&c, dir, 1 << 20, &e), 0);
	block_ref(&a, buf, sizeof(buf), 1);
	stripe_ref(&s, sbuf, sizeof(sbuf));
	ck_assert_int_eq(blockcache_get(c, &a, out), -ENOENT);
	blockcache_put(c, &a, buf);
	blockcache_put(c, &s, sbuf);
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(blockcache_get(c, &a, out), 0);
	ck_assert_mem_eq(out, buf, sizeof(buf));
	ck_assert_int_eq(blockcache_get(c, &s, out), 0);
	ck_assert_mem_eq(out, sbuf, sizeof(sbuf));
	blockcache_stats(c, &st);
	ck_assert_uint_eq(st.hits, 2);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.bytes, sizeof(buf) + sizeof(sbuf));
	/* a stripe sharing only its first data chunk with a cached one is
	 * another entry, not a hit */
	s.h[1].b[0] ^= 1;
	ck_assert_int_eq(blockcache_get(c, &s, out), -ENOENT);
	s.h[1].b[0] ^= 1;
	ck_assert_int_eq(blockcache_get(c, &s, out), 0);
	blockcache_free(c);
	free(a.h);
	free(s.h);
}
END_TEST

START_TEST(test_damaged_file_is_a_miss)
{
	struct blockcache *c;
	struct blockcache_stats st;
	struct record_ref a;
	uint8_t buf[5000], out[5000];
	char path[512];
	struct err e = { 0 };
	int fd;

	ck_assert_int_eq(blockcache_new(&c, dir, 1 << 20, &e), 0);
	block_ref(&a, buf, sizeof(buf), 2);
	blockcache_put(c, &a, buf);
	only_file(path, sizeof(path));
	ck_assert_str_ne(path, "");
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, 100), 1);
	close(fd);
	ck_assert_int_eq(blockcache_get(c, &a, out), -ENOENT);
	blockcache_stats(c, &st);
	ck_assert_uint_eq(st.corrupt, 1);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_int_ne(access(path, F_OK), 0);        /* removed */
	/* put again: a hit */
	blockcache_put(c, &a, buf);
	ck_assert_int_eq(blockcache_get(c, &a, out), 0);
	blockcache_free(c);
	free(a.h);
}
END_TEST

START_TEST(test_bound_evicts_least_recent)
{
	struct blockcache *c;
	struct blockcache_stats st;
	struct record_ref r[5];
	uint8_t buf[5][1000], out[1000];
	struct err e = { 0 };

	ck_assert_int_eq(blockcache_new(&c, dir, 3000, &e), 0);
	for (int i = 0; i < 3; i++) {
		block_ref(&r[i], buf[i], 1000, 10 + i);
		blockcache_put(c, &r[i], buf[i]);
	}
	ck_assert_int_eq(blockcache_get(c, &r[0], out), 0);     /* 0 is fresh now */
	block_ref(&r[3], buf[3], 1000, 13);
	blockcache_put(c, &r[3], buf[3]);                        /* 1 goes */
	ck_assert_int_eq(blockcache_get(c, &r[1], out), -ENOENT);
	ck_assert_int_eq(blockcache_get(c, &r[0], out), 0);
	ck_assert_int_eq(blockcache_get(c, &r[2], out), 0);
	ck_assert_int_eq(blockcache_get(c, &r[3], out), 0);
	blockcache_stats(c, &st);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_uint_le(st.bytes, 3000);
	ck_assert_uint_eq(st.evictions, 1);
	/* larger than the whole bound: not cached */
	{
		static uint8_t big[4000];
		struct record_ref b;

		block_ref(&b, big, sizeof(big), 20);
		blockcache_put(c, &b, big);
		ck_assert_int_eq(blockcache_get(c, &b, big), -ENOENT);
		free(b.h);
	}
	blockcache_free(c);
	for (int i = 0; i < 4; i++)
		free(r[i].h);
}
END_TEST

START_TEST(test_survives_restart)
{
	struct blockcache *c;
	struct blockcache_stats st;
	struct record_ref a;
	uint8_t buf[3000], out[3000];
	char tmp[512];
	struct err e = { 0 };
	int fd;

	ck_assert_int_eq(blockcache_new(&c, dir, 1 << 20, &e), 0);
	block_ref(&a, buf, sizeof(buf), 3);
	blockcache_put(c, &a, buf);
	blockcache_free(c);
	snprintf(tmp, sizeof(tmp), "%s/00/tmp.1.1", dir);       /* an interrupted put */
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(blockcache_new(&c, dir, 1 << 20, &e), 0);
	blockcache_stats(c, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_int_eq(blockcache_get(c, &a, out), 0);
	ck_assert_mem_eq(out, buf, sizeof(buf));
	ck_assert_int_ne(access(tmp, F_OK), 0);
	blockcache_free(c);
	free(a.h);
}
END_TEST

START_TEST(test_bad_dir)
{
	struct blockcache *c = NULL;
	struct err e = { 0 };

	ck_assert_int_eq(blockcache_new(&c, "/proc/no/such/dir", 1 << 20, &e), -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert(strstr(e.msg, "/proc/no/such/dir") != NULL);
	ck_assert_int_eq(blockcache_new(&c, dir, 0, &e), -EINVAL);
}
END_TEST

static Suite *blockcache_suite(void)
{
	Suite *s = suite_create("blockcache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_block_and_stripe_hits);
	tcase_add_test(tc, test_damaged_file_is_a_miss);
	tcase_add_test(tc, test_bound_evicts_least_recent);
	tcase_add_test(tc, test_survives_restart);
	tcase_add_test(tc, test_bad_dir);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blockcache_suite)
