/* Unit tests for lib/hash: SHA-256 against known vectors, streaming equals
 * one-shot, hex codec errors, and the 128-bit name hash. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "hash.h"

/* FIPS 180-2 test vectors. */
START_TEST(test_sha256_vectors)
{
	struct hash h;
	char hex[HASH_HEX_LEN + 1];

	hash_buf(&h, "", 0);
	hash_to_hex(&h, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_buf(&h, "abc", 3);
	hash_to_hex(&h, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_stream_equals_buffer)
{
	static char buf[200000];
	struct hash a, b;
	struct hash_ctx *c = hash_ctx_new();

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 31 + 7);
	hash_buf(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(c);
	/* Uneven pieces, so no block boundary is special. */
	for (size_t off = 0, step = 1; off < sizeof(buf); off += step, step = step * 3 + 1) {
		size_t n = step < sizeof(buf) - off ? step : sizeof(buf) - off;
		hash_ctx_update(c, buf + off, n);
	}
	hash_ctx_final(c, &b);
	ck_assert(hash_equal(&a, &b));
	/* final resets: the context hashes the next stream from scratch */
	hash_ctx_update(c, "abc", 3);
	hash_ctx_final(c, &b);
	hash_buf(&a, "abc", 3);
	ck_assert(hash_equal(&a, &b));
	hash_ctx_free(c);
}
END_TEST

START_TEST(test_hash_fd)
{
	char path[] = "/tmp/check_hash.XXXXXX";
	int fd = mkstemp(path);
	struct hash a, b;
	uint64_t n = 0;
	struct err e = {0};

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, "hello world", 11), 11);
	lseek(fd, 0, SEEK_SET);
	ck_assert_int_eq(hash_fd(&a, fd, &n, &e), 0);
	ck_assert_uint_eq(n, 11);
	hash_buf(&b, "hello world", 11);
	ck_assert(hash_equal(&a, &b));
	close(fd);
	/* a closed descriptor is a clear error, not a digest of nothing */
	ck_assert_int_eq(hash_fd(&a, fd, &n, &e), -EBADF);
	ck_assert(strstr(e.msg, "read") != NULL);
}
END_TEST

START_TEST(test_hex_codec)
{
	struct hash h, g;
	char hex[HASH_HEX_LEN + 1];
	uint8_t two[2];

	hash_buf(&h, "x", 1);
	hash_to_hex(&h, hex);
	ck_assert_uint_eq(strlen(hex), HASH_HEX_LEN);
	ck_assert_int_eq(hash_from_hex(&g, hex, strlen(hex)), 0);
	ck_assert(hash_equal(&h, &g));
	/* upper case decodes to the same bytes */
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(hash_from_hex(&g, hex, strlen(hex)), 0);
	ck_assert(hash_equal(&h, &g));
	/* wrong length, non-hex digit */
	ck_assert_int_eq(hash_from_hex(&g, hex, 63), -EINVAL);
	ck_assert_int_eq(hash_hex_decode(two, 2, "0g00", 4), -EINVAL);
	ck_assert_int_eq(hash_hex_decode(two, 2, "00 0", 4), -EINVAL);
	ck_assert_int_eq(hash_hex_decode(two, 2, "ff01", 4), 0);
	ck_assert_uint_eq(two[0], 0xff);
	ck_assert_uint_eq(two[1], 0x01);
}
END_TEST

START_TEST(test_name_hash)
{
	char a[HASH_NAME_HEX_LEN + 1], b[HASH_NAME_HEX_LEN + 1];

	hash_name(a, "abc", 3);
	/* the first 128 bits of SHA-256("abc") */
	ck_assert_str_eq(a, "ba7816bf8f01cfea414140de5dae2223");
	ck_assert_uint_eq(strlen(a), 32);
	/* names are bytes: a NUL inside counts, and case matters */
	hash_name(b, "ABC", 3);
	ck_assert_str_ne(a, b);
	hash_name(b, "ab\0c", 4);
	ck_assert_str_ne(a, b);
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("sha256");

	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_stream_equals_buffer);
	tcase_add_test(tc, test_hash_fd);
	suite_add_tcase(s, tc);
	tc = tcase_create("codec");
	tcase_add_test(tc, test_hex_codec);
	tcase_add_test(tc, test_name_hash);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hash_suite)
