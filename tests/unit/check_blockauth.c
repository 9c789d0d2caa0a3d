/* Unit tests for lib/blockauth: sign then verify, every field tampered with,
 * the clock window, replays, malformed headers, several keys, and the bound
 * of the replay cache. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockauth.h"
#include "check_main.h"

#define NOW 1800000000
#define PATH "/v1/blocks/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static const char KEYS[] =
	"key \"dnsfs-blocks\" { algorithm hmac-sha256;\n"
	"  secret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\"; };\n"
	"key \"second\" { algorithm hmac-sha256; secret \"AAECAwQFBgcICQoLDA0ODw==\"; };\n";
/* Same name as the first, another secret. */
static const char WRONG[] =
	"key \"dnsfs-blocks\" { algorithm hmac-sha256; secret \"d3Jvbmctc2VjcmV0\"; };\n";
static const char OTHER[] =
	"key \"intruder\" { algorithm hmac-sha256; secret \"d3Jvbmctc2VjcmV0\"; };\n";

static struct tsig_keyring kr, wrong, other;
static struct blockauth_cache *cache;
static struct hash body;

static void setup(void)
{
	memset(&kr, 0, sizeof(kr));
	memset(&wrong, 0, sizeof(wrong));
	memset(&other, 0, sizeof(other));
	ck_assert_int_eq(tsig_keyring_parse(&kr, KEYS, "k", NULL), 0);
	ck_assert_int_eq(tsig_keyring_parse(&wrong, WRONG, "w", NULL), 0);
	ck_assert_int_eq(tsig_keyring_parse(&other, OTHER, "o", NULL), 0);
	ck_assert_ptr_nonnull(cache = blockauth_cache_new());
	hash_buf(&body, "hello", 5);
}

static void teardown(void)
{
	tsig_keyring_release(&kr);
	tsig_keyring_release(&wrong);
	tsig_keyring_release(&other);
	blockauth_cache_free(cache);
}

static void sign(const struct tsig_keyring *k, size_t i, const char *method,
		 const char *path, time_t t, char *out)
{
	struct err e = {0};

	ck_assert_msg(blockauth_sign(&k->keys[i], method, path, &body, t, out,
				     BLOCKAUTH_HEADER_MAX + 1, &e) == 0, "%s", e.msg);
}

static int verify(const char *hdr, const char *method, const char *path, time_t now,
		  struct err *e)
{
	return blockauth_verify(&kr, cache, hdr, method, path, &body, now, e);
}

/* Replace the value of param in hdr (in place, same length) by val. */
static void set_param(char *hdr, const char *param, const char *val)
{
	char *p = strstr(hdr, param);

	ck_assert_ptr_nonnull(p);
	memcpy(p + strlen(param), val, strlen(val));
}

START_TEST(test_roundtrip)
{
	char h[BLOCKAUTH_HEADER_MAX + 1];
	struct err e = {0};
	int n = 0;

	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_msg(strncmp(h, "DNSFS-HMAC-SHA256 key=dnsfs-blocks, ts=1800000000, nonce=", 56) == 0,
		      "%s", h);
	ck_assert_int_eq(sscanf(strstr(h, "sig="), "sig=%*64[0-9a-f]%n", &n), 0);
	ck_assert_int_eq(n, 68);
	ck_assert_uint_eq(strlen(h), strlen("DNSFS-HMAC-SHA256 key=dnsfs-blocks, ts=1800000000, "
					    "nonce=, sig=") + 32 + 64);
	ck_assert_msg(verify(h, "PUT", PATH, NOW, &e) == 0, "%s", e.msg);
	/* the second key of the file is as good */
	sign(&kr, 1, "DELETE", PATH, NOW, h);
	ck_assert_msg(verify(h, "DELETE", PATH, NOW + 5, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(test_fresh_nonces)
{
	char a[BLOCKAUTH_HEADER_MAX + 1], b[BLOCKAUTH_HEADER_MAX + 1];

	sign(&kr, 0, "PUT", PATH, NOW, a);
	sign(&kr, 0, "PUT", PATH, NOW, b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_tampered)
{
	char h[BLOCKAUTH_HEADER_MAX + 1], t[BLOCKAUTH_HEADER_MAX + 1];
	struct hash other_body;
	struct err e = {0};

	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(verify(h, "DELETE", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	ck_assert_int_eq(verify(h, "PUT", PATH "x", NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	ck_assert_int_eq(verify(h, "PUT", "/v1/blocks/0000000000000000000000000000000000000000000000000000000000000000",
				NOW, &e), -EACCES);
	hash_buf(&other_body, "hellO", 5);
	ck_assert_int_eq(blockauth_verify(&kr, cache, h, "PUT", PATH, &other_body, NOW, &e),
			 -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	strcpy(t, h);
	set_param(t, "ts=", "1800000001");
	ck_assert_int_eq(verify(t, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	strcpy(t, h);
	/* another hex digit in the nonce ('^= 1' could leave hex: 'a' -> '`') */
	t[strstr(t, "nonce=") - t + 6] = t[strstr(t, "nonce=") - t + 6] == '0' ? '1' : '0';
	ck_assert_int_eq(verify(t, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	strcpy(t, h);
	t[strlen(t) - 1] = t[strlen(t) - 1] == '0' ? '1' : '0';
	ck_assert_int_eq(verify(t, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	/* the key name: another known key's name with this one's sig */
	strcpy(t, h);
	memmove(strstr(t, "key=") + 4, "second", 6);
	memmove(strstr(t, "key=") + 10, strstr(t, ", ts="), strlen(strstr(t, ", ts=")) + 1);
	ck_assert_int_eq(verify(t, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	/* the untouched header is still good (no failure above used its nonce) */
	ck_assert_msg(verify(h, "PUT", PATH, NOW, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(test_keys)
{
	char h[BLOCKAUTH_HEADER_MAX + 1], t[BLOCKAUTH_HEADER_MAX + 1];
	struct err e = {0};

	sign(&wrong, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "bad signature");
	sign(&other, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "unknown key 'intruder'");
	ck_assert_int_eq(blockauth_verify(NULL, cache, h, "PUT", PATH, &body, NOW, &e), -EACCES);
	/* key names compare without case, as DNS names do */
	sign(&kr, 0, "PUT", PATH, NOW, h);
	strcpy(t, h);
	memcpy(strstr(t, "key=") + 4, "DNSFS-Blocks", 12);
	ck_assert_msg(verify(t, "PUT", PATH, NOW, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(test_window)
{
	char h[BLOCKAUTH_HEADER_MAX + 1];
	struct err e = {0};

	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW + BLOCKAUTH_WINDOW + 1, &e), -EACCES);
	ck_assert_msg(strncmp(e.msg, "stale timestamp: -301 s", 23) == 0, "%s", e.msg);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW - BLOCKAUTH_WINDOW - 1, &e), -EACCES);
	ck_assert_msg(strncmp(e.msg, "stale", 5) == 0, "%s", e.msg);
	ck_assert_msg(verify(h, "PUT", PATH, NOW + BLOCKAUTH_WINDOW, &e) == 0, "%s", e.msg);
	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_msg(verify(h, "PUT", PATH, NOW - BLOCKAUTH_WINDOW, &e) == 0, "%s", e.msg);
	sign(&kr, 0, "PUT", PATH, 0, h);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW, &e), -EACCES);
}
END_TEST

START_TEST(test_replay)
{
	char h[BLOCKAUTH_HEADER_MAX + 1], t[BLOCKAUTH_HEADER_MAX + 1];
	struct err e = {0};

	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW, &e), 0);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW + 10, &e), -EACCES);
	ck_assert_str_eq(e.msg, "replayed nonce");
	/* the same nonce in upper case is the same nonce */
	strcpy(t, h);
	for (char *p = strstr(t, "nonce=") + 6; *p != ','; p++)
		if (*p >= 'a' && *p <= 'f')
			*p -= 32;
	ck_assert_int_eq(verify(t, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "replayed nonce");
	/* without a cache (a client checking its own header) nothing is kept */
	ck_assert_int_eq(blockauth_verify(&kr, NULL, h, "PUT", PATH, &body, NOW, &e), 0);
	ck_assert_int_eq(blockauth_verify(&kr, NULL, h, "PUT", PATH, &body, NOW, &e), 0);
	/* a nonce is remembered only once its signature was good */
	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(verify(h, "GET", PATH, NOW, &e), -EACCES);
	ck_assert_int_eq(verify(h, "PUT", PATH, NOW, &e), 0);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"",
		"Basic dXNlcjpwYXNz",
		"DNSFS-HMAC-SHA256",
		"DNSFS-HMAC-SHA256 ",
		"DNSFS-HMAC-SHA256key=a, ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=1, nonce=00000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=1, nonce=00000000000000000000000000000000, sig=00",
		"DNSFS-HMAC-SHA256 key=a, ts=01, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=-1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=1, nonce=0000000000000000000000000000000g, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=1, ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000, x=1",
		"DNSFS-HMAC-SHA256 key=a, ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000,",
		"DNSFS-HMAC-SHA256 key=a ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=, ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a\"b, ts=1, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
		"DNSFS-HMAC-SHA256 key=a, ts=99999999999999999999, nonce=00000000000000000000000000000000, sig=0000000000000000000000000000000000000000000000000000000000000000",
	};
	char longer[BLOCKAUTH_HEADER_MAX + 64];
	struct err e = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(verify(bad[i], "PUT", PATH, NOW, &e) == -EACCES, "accepted: %s", bad[i]);
		ck_assert_msg(strncmp(e.msg, "malformed", 9) == 0 || strncmp(e.msg, "missing", 7) == 0,
			      "%s: %s", bad[i], e.msg);
	}
	ck_assert_int_eq(verify(NULL, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_str_eq(e.msg, "missing Authorization header");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "DNSFS-HMAC-SHA256 key=", 22);
	ck_assert_int_eq(verify(longer, "PUT", PATH, NOW, &e), -EACCES);
	ck_assert_msg(strstr(e.msg, "longer than") != NULL, "%s", e.msg);
}
END_TEST

START_TEST(test_order_and_spaces)
{
	char h[BLOCKAUTH_HEADER_MAX + 1], t[BLOCKAUTH_HEADER_MAX + 64];
	char nonce[33], sig[65];
	struct err e = {0};

	sign(&kr, 0, "PUT", PATH, NOW, h);
	ck_assert_int_eq(sscanf(strstr(h, "nonce="), "nonce=%32[0-9a-f]", nonce), 1);
	ck_assert_int_eq(sscanf(strstr(h, "sig="), "sig=%64[0-9a-f]", sig), 1);
	snprintf(t, sizeof(t), "dnsfs-hmac-sha256   sig=%s,nonce=%s ,  ts=%d,key=dnsfs-blocks",
		 sig, nonce, NOW);
	ck_assert_msg(verify(t, "PUT", PATH, NOW, &e) == 0, "%s", e.msg);
}
END_TEST

/* Many requests in one second fill the cache; then the oldest is forgotten
 * and requests as old as it are refused, so that it cannot come back. */
START_TEST(test_cache_bound)
{
	char first[BLOCKAUTH_HEADER_MAX + 1], h[BLOCKAUTH_HEADER_MAX + 1];
	struct err e = {0};
	size_t n;
	int rc = 0;

	sign(&kr, 0, "GET", PATH, NOW, first);
	ck_assert_int_eq(verify(first, "GET", PATH, NOW, &e), 0);
	for (n = 1; n < (1u << 20); n++) {
		sign(&kr, 0, "GET", PATH, NOW, h);
		if ((rc = verify(h, "GET", PATH, NOW, &e)) < 0)
			break;
	}
	ck_assert_int_eq(rc, -EACCES);
	ck_assert_msg(strncmp(e.msg, "replay cache full", 17) == 0, "%s", e.msg);
	ck_assert_msg(n > 1000, "full after only %zu", n);
	/* the first nonce has been forgotten, yet its replay is refused */
	ck_assert_int_eq(verify(first, "GET", PATH, NOW, &e), -EACCES);
	/* a newer request goes through */
	sign(&kr, 0, "GET", PATH, NOW + 1, h);
	ck_assert_msg(verify(h, "GET", PATH, NOW + 1, &e) == 0, "%s", e.msg);
	/* once the window has passed, everything expires and fresh requests pass */
	sign(&kr, 0, "GET", PATH, NOW + 2 * BLOCKAUTH_WINDOW, h);
	ck_assert_msg(verify(h, "GET", PATH, NOW + 2 * BLOCKAUTH_WINDOW, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(test_sign_errors)
{
	char small[40];
	struct err e = {0};

	ck_assert_int_eq(blockauth_sign(&kr.keys[0], "PUT", PATH, &body, NOW, small,
					sizeof(small), &e), -ENOSPC);
}
END_TEST

static Suite *blockauth_suite(void)
{
	Suite *s = suite_create("blockauth");
	TCase *tc;

	tc = tcase_create("sign");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_fresh_nonces);
	tcase_add_test(tc, test_sign_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("verify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_order_and_spaces);
	suite_add_tcase(s, tc);
	tc = tcase_create("replay");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_cache_bound);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blockauth_suite)
