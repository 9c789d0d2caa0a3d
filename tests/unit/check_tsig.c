/* Unit tests for lib/tsig: BIND key files (parse, errors with file:line,
 * write + read back), sign/verify of requests, responses and multi-message
 * streams, every TSIG error, and messages signed by the real dig and nsupdate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "tsig.h"

#define SECRET_B64 "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
#define SECRET_RAW "secret-secret-secret-secret-1234"

static const char KEYFILE_TEXT[] =
	"key \"dnsfs-admin\" {\n"
	"\talgorithm hmac-sha256;\n"
	"\tsecret \"" SECRET_B64 "\";\n"
	"};\n";

/* Captured from dig 9.18 (`dig -k`, query www.fs.example. A, EDNS cookie) and
 * nsupdate 9.18 (`nsupdate -k`, prereq + delete + add), both signed with
 * the key in KEYFILE_TEXT at the times given. */
static const uint8_t dig_query[] = {
  0xcf, 0x7b, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
  0x03, 0x77, 0x77, 0x77, 0x02, 0x66, 0x73, 0x07, 0x65, 0x78, 0x61, 0x6d,
  0x70, 0x6c, 0x65, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
  0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08, 0x4f,
  0xeb, 0x87, 0x78, 0x54, 0x4f, 0x1a, 0x4c, 0x0b, 0x64, 0x6e, 0x73, 0x66,
  0x73, 0x2d, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0x00, 0x00, 0xfa, 0x00, 0xff,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x0b, 0x68, 0x6d, 0x61, 0x63, 0x2d,
  0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x6b, 0x04, 0x6b,
  0xf5, 0x01, 0x2c, 0x00, 0x20, 0x0a, 0x06, 0x22, 0x5a, 0x4b, 0x82, 0x2f,
  0xce, 0x38, 0xdd, 0xab, 0x72, 0x57, 0xa6, 0x7d, 0x02, 0xb4, 0x1c, 0x6f,
  0xd1, 0x91, 0xa0, 0xd2, 0x98, 0x0d, 0x7a, 0x09, 0xa3, 0x38, 0x85, 0x34,
  0x4a, 0xcf, 0x7b, 0x00, 0x00, 0x00, 0x00
};

#define DIG_QUERY_TIME 1795451893
static const uint8_t nsupdate_msg[] = {
  0x84, 0xcb, 0x28, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x00, 0x01,
  0x02, 0x66, 0x73, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00,
  0x00, 0x06, 0x00, 0x01, 0x01, 0x31, 0x01, 0x69, 0x02, 0x66, 0x73, 0x07,
  0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x10, 0x00, 0xff,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x1c, 0x00, 0x10, 0x00, 0xff,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x1c, 0x00, 0x10, 0x00, 0x01,
  0x00, 0x00, 0x00, 0x01, 0x00, 0x15, 0x14, 0x76, 0x3d, 0x31, 0x20, 0x74,
  0x79, 0x70, 0x65, 0x3d, 0x66, 0x20, 0x6d, 0x6f, 0x64, 0x65, 0x3d, 0x30,
  0x36, 0x34, 0x34, 0x01, 0x32, 0x01, 0x6e, 0x02, 0x66, 0x73, 0x07, 0x65,
  0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
  0x00, 0x00, 0x3c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x02, 0x0b, 0x64, 0x6e,
  0x73, 0x66, 0x73, 0x2d, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0x00, 0x00, 0xfa,
  0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x0b, 0x68, 0x6d, 0x61,
  0x63, 0x2d, 0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x6b,
  0x04, 0x6b, 0xf1, 0x01, 0x2c, 0x00, 0x20, 0x7a, 0xeb, 0x23, 0x76, 0x7c,
  0xbe, 0x1a, 0x82, 0x34, 0xe3, 0x4c, 0x84, 0x57, 0xbc, 0xb5, 0x06, 0xeb,
  0xeb, 0x1d, 0x1d, 0x62, 0x3c, 0xbf, 0x67, 0xfd, 0x93, 0x2f, 0xb5, 0xf9,
  0xb5, 0x68, 0x07, 0x84, 0xcb, 0x00, 0x00, 0x00, 0x00
};

#define NSUPDATE_TIME 1795451889

#define NOW 1700000000

static struct wire_name N(const char *text)
{
	struct wire_name n;

	ck_assert_int_eq(wire_name_from_text(&n, text, NULL), 0);
	wire_name_lower(&n);
	return n;
}

static void load_text(struct tsig_keyring *kr, const char *text)
{
	struct err e = {0};

	ck_assert_msg(tsig_keyring_parse(kr, text, "t.key", &e) == 0, "%s", e.msg);
}

/* A small query or response: header, one question, one TXT answer. */
static size_t build_msg(uint8_t *buf, size_t cap, uint16_t id, int response, struct wire_wr *w)
{
	struct wire_hdr h = { .id = id, .flags = response ? WIRE_F_QR | WIRE_F_AA : 0,
			      .qdcount = 1, .ancount = response ? 1 : 0 };
	struct wire_name q = N("1.i.fs.example.");

	wire_wr_init(w, buf, cap);
	wire_wr_hdr(w, &h);
	wire_wr_name(w, &q);
	wire_wr_u16(w, WIRE_T_TXT);
	wire_wr_u16(w, WIRE_C_IN);
	if (response)
		wire_wr_rr(w, &q, WIRE_T_TXT, WIRE_C_IN, 1, (const uint8_t *)"\x0bv=1 type=f", 12);
	ck_assert(!w->overflow);
	return w->pos;
}

/* ---- key files ---------------------------------------------------------- */

START_TEST(test_keyring_parse)
{
	struct tsig_keyring kr = {0};
	const struct tsig_key *k;
	struct wire_name n;

	load_text(&kr,
		  "# a comment\n"
		  "// another\n"
		  "/* and a\n   block */ key \"dnsfs-admin\" {\n"
		  "	algorithm hmac-sha256;  # trailing\n"
		  "	secret \"" SECRET_B64 "\";\n"
		  "};\n"
		  "key Other.Key. { algorithm \"HMAC-SHA256.\"; secret \"AQID\"; };\n");
	ck_assert_uint_eq(kr.n, 2);
	n = N("DNSFS-Admin");
	k = tsig_keyring_find(&kr, &n);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->secret_len, 32);
	ck_assert_mem_eq(k->secret, SECRET_RAW, 32);
	ck_assert(wire_name_equal(&k->alg, &(struct wire_name){ 13, "\x0bhmac-sha256" }));
	n = N("other.key");
	k = tsig_keyring_find(&kr, &n);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->secret_len, 3);
	ck_assert_mem_eq(k->secret, "\x01\x02\x03", 3);
	ck_assert_mem_eq(k->name.b, "\x05other\x03key", 10);  /* canonical */
	n = N("nope");
	ck_assert_ptr_null(tsig_keyring_find(&kr, &n));
	/* a second file appends; the same name again is refused */
	load_text(&kr, "key third { algorithm hmac-sha256; secret \"AAAA\"; };");
	ck_assert_uint_eq(kr.n, 3);
	struct err e = {0};
	ck_assert_int_eq(tsig_keyring_parse(&kr, "key OTHER.key { algorithm hmac-sha256; secret \"AAAA\"; };",
					    "dup.key", &e), -EEXIST);
	ck_assert_str_eq(e.msg, "dup.key:1: duplicate key other.key.");
	ck_assert_uint_eq(kr.n, 3);
	tsig_keyring_release(&kr);
	ck_assert_uint_eq(kr.n, 0);
	ck_assert_ptr_null(kr.keys);
	/* an empty file is an empty keyring */
	load_text(&kr, "  # nothing\n");
	ck_assert_uint_eq(kr.n, 0);
}
END_TEST

START_TEST(test_keyring_errors)
{
	static const struct { const char *text; int code; const char *msg; } bad[] = {
		{ "key \"k\" {\n algorithm hmac-sha256\n secret \"AAAA\";\n};\n", -EINVAL, "f.key:3: expected ';'" },
		{ "key k {\n\n  algorithm hmac-md5;\n secret \"AAAA\";\n};\n", -ENOTSUP,
		  "f.key:3: key \"k\": algorithm hmac-md5 not supported (only hmac-sha256)" },
		{ "\nkey k {\n algorithm hmac-sha256;\n secret \"A*AA\";\n};\n", -EINVAL,
		  "f.key:4: secret is not valid base64" },
		{ "key k {\n algorithm hmac-sha256;\n};\n", -EINVAL, "f.key:1: key \"k\" has no secret" },
		{ "\n\nkey k { secret \"AAAA\"; };", -EINVAL, "f.key:3: key \"k\" has no algorithm" },
		{ "key k {\n algorithm hmac-sha256;\n secrte \"AAAA\";\n};\n", -EINVAL,
		  "f.key:3: unknown key option 'secrte'" },
		{ "options {\n};\n", -EINVAL, "f.key:1: expected 'key' (a key file holds key clauses only)" },
		{ "key k { algorithm hmac-sha256; secret \"AAAA\"; }\n", -EINVAL, "f.key:2: expected ';' after '}'" },
		{ "key k { algorithm hmac-sha256; secret \"AAAA\"; };\nkey k { algorithm hmac-sha256; secret \"AAAA\"; };",
		  -EEXIST, "f.key:2: duplicate key k." },
		{ "key k {\n /* open\n\n", -EINVAL, "f.key:2: unterminated /* comment" },
		{ "key \"k\n", -EINVAL, "f.key:1: unterminated string" },
		{ "key a..b { };", -EINVAL, "f.key:1: bad key name: empty label in \"a..b\"" },
		{ "key k { algorithm hmac-sha256; secret \"\"; };", -EINVAL, "f.key:1: secret is not valid base64" },
		{ "key k { algorithm hmac-sha256; secret \"AAA\"; };", -EINVAL, "f.key:1: secret is not valid base64" },
		{ "key k { algorithm hmac-sha256; secret \"AA==AA==\"; };", -EINVAL, "f.key:1: secret is not valid base64" },
	};
	struct tsig_keyring kr = {0};
	struct err e = {0};

	load_text(&kr, KEYFILE_TEXT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		ck_assert_int_eq(tsig_keyring_parse(&kr, bad[i].text, "f.key", &e), bad[i].code);
		ck_assert_str_eq(e.msg, bad[i].msg);
		ck_assert_uint_eq(kr.n, 1);     /* unchanged */
	}
	/* a secret longer than TSIG_SECRET_MAX */
	char big[512];
	strcpy(big, "key k { algorithm hmac-sha256; secret \"");
	for (int i = 0; i < 44; i++)            /* 176 chars = 132 bytes */
		strcat(big, "QUFB");
	strcat(big, "\"; };");
	ck_assert_int_eq(tsig_keyring_parse(&kr, big, "f.key", &e), -EINVAL);
	ck_assert_str_eq(e.msg, "f.key:1: secret longer than 128 bytes");
	tsig_keyring_release(&kr);
}
END_TEST

START_TEST(test_keyfile_write_load)
{
	char dir[] = "/tmp/check_tsig.XXXXXX", path[64];
	struct tsig_keyring kr = {0};
	struct err e = {0};
	struct stat st;
	uint8_t secret[32];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/admin.key", dir);
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(i * 37 + 1);
	ck_assert_int_eq(tsig_key_write_file(path, "dnsfs-admin", secret, 32, &e), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* over an existing world-readable file: still 0600 */
	chmod(path, 0644);
	ck_assert_int_eq(tsig_key_write_file(path, "dnsfs-admin", secret, 31, &e), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tsig_keyring_load(&kr, path, &e), 0);
	ck_assert_uint_eq(kr.n, 1);
	ck_assert_uint_eq(kr.keys[0].secret_len, 31);
	ck_assert_mem_eq(kr.keys[0].secret, secret, 31);
	tsig_keyring_release(&kr);
	for (size_t len = 1; len <= 6; len++) {    /* every base64 padding case */
		ck_assert_int_eq(tsig_key_write_file(path, "k", secret, len, &e), 0);
		ck_assert_int_eq(tsig_keyring_load(&kr, path, &e), 0);
		ck_assert_uint_eq(kr.keys[0].secret_len, len);
		ck_assert_mem_eq(kr.keys[0].secret, secret, len);
		tsig_keyring_release(&kr);
	}
	ck_assert_int_eq(tsig_key_write_file(path, "bad\"name", secret, 32, &e), -EINVAL);
	ck_assert_int_eq(tsig_key_write_file(path, "k", secret, 0, &e), -EINVAL);
	ck_assert_int_eq(tsig_key_write_file("/nonexistent/dir/k.key", "k", secret, 32, &e), -ENOENT);
	unlink(path);
	ck_assert_int_eq(tsig_keyring_load(&kr, path, &e), -ENOENT);
	ck_assert(strstr(e.msg, path) != NULL);
	rmdir(dir);
}
END_TEST

/* ---- tsig_find ---------------------------------------------------------- */

START_TEST(test_find)
{
	uint8_t buf[1024];
	struct wire_wr w;
	struct tsig_keyring kr = {0};
	struct tsig_ctx c = {0};
	size_t off, len;

	load_text(&kr, KEYFILE_TEXT);
	len = build_msg(buf, sizeof(buf), 7, 0, &w);
	ck_assert_int_eq(tsig_find(buf, len, &off), 0);
	c.key = &kr.keys[0];
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, NULL), 0);
	ck_assert_int_eq(tsig_find(buf, w.pos, &off), 1);
	ck_assert_uint_eq(off, len);
	ck_assert_uint_eq(buf[11], 1);
	/* truncated anywhere: malformed */
	for (size_t l = WIRE_HDR_LEN; l < w.pos; l++) {
		uint8_t *p = malloc(l);
		memcpy(p, buf, l);
		ck_assert_int_eq(tsig_find(p, l, &off), -EBADMSG);
		free(p);
	}
	ck_assert_int_eq(tsig_find(buf, 5, &off), -EBADMSG);
	/* trailing garbage after the TSIG */
	ck_assert_int_eq(tsig_find(buf, w.pos + 1, &off), -EBADMSG);
	/* TSIG not last: add an A after it (ARCOUNT 2) */
	struct wire_wr w2 = w;
	struct wire_name n = N("x.");
	wire_wr_rr(&w2, &n, WIRE_T_A, WIRE_C_IN, 0, (const uint8_t *)"\1\2\3\4", 4);
	wire_wr_patch_u16(&w2, 10, 2);
	ck_assert_int_eq(tsig_find(buf, w2.pos, &off), -EBADMSG);
	/* TSIG in the answer section: same bytes, counted as an answer */
	wire_wr_patch_u16(&w, 6, 1);
	wire_wr_patch_u16(&w, 10, 0);
	ck_assert_int_eq(tsig_find(buf, w.pos, &off), -EBADMSG);
	tsig_keyring_release(&kr);
}
END_TEST

/* ---- sign and verify -------------------------------------------------------- */

START_TEST(test_request_response_roundtrip)
{
	uint8_t req[1024], resp[1024];
	struct wire_wr w;
	struct tsig_keyring kr = {0};
	struct tsig_ctx client = {0}, server;
	struct err e = {0};
	size_t off;

	load_text(&kr, KEYFILE_TEXT);
	load_text(&kr, "key second { algorithm hmac-sha256; secret \"AQIDBA==\"; };");
	build_msg(req, sizeof(req), 0x4242, 0, &w);
	client.key = &kr.keys[1];
	ck_assert_int_eq(tsig_sign(&client, &w, NOW, &e), 0);
	ck_assert_uint_eq(client.nmsg, 1);
	ck_assert_uint_eq(client.mac_len, 32);
	ck_assert_uint_eq(client.orig_id, 0x4242);
	size_t reqlen = w.pos;

	ck_assert_msg(tsig_verify_request(&server, &kr, req, reqlen, NOW + 5, &e) == 0, "%s", e.msg);
	ck_assert_ptr_eq(server.key, &kr.keys[1]);
	ck_assert_int_eq(server.error, 0);
	ck_assert_uint_eq(server.orig_id, 0x4242);
	ck_assert_uint_eq(server.time_signed, NOW);
	ck_assert_mem_eq(server.mac, client.mac, 32);
	/* a forwarder may change the ID: the Original ID is what is signed */
	req[0] ^= 0xff;
	ck_assert_int_eq(tsig_verify_request(&server, &kr, req, reqlen, NOW, &e), 0);
	req[0] ^= 0xff;

	build_msg(resp, sizeof(resp), 0x4242, 1, &w);
	ck_assert_int_eq(tsig_sign(&server, &w, NOW + 6, &e), 0);
	ck_assert_int_eq(tsig_find(resp, w.pos, &off), 1);
	ck_assert_msg(tsig_verify_response(&client, resp, w.pos, NOW + 7, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(client.nmsg, 2);

	/* the response is chained to this request's MAC, not any other */
	struct tsig_ctx other = { .key = &kr.keys[1] };
	uint8_t req2[1024];
	struct wire_wr w2;
	build_msg(req2, sizeof(req2), 0x4242, 0, &w2);
	ck_assert_int_eq(tsig_sign(&other, &w2, NOW + 1, &e), 0);
	ck_assert_int_eq(tsig_verify_response(&other, resp, w.pos, NOW + 7, &e), -EPERM);
	ck_assert_int_eq(other.error, WIRE_RC_BADSIG);
	/* nor does it verify as a request */
	ck_assert_int_eq(tsig_verify_request(&server, &kr, resp, w.pos, NOW + 7, &e), -EPERM);
	/* a response signed with another key */
	struct tsig_ctx c3 = { .key = &kr.keys[0] };
	build_msg(req2, sizeof(req2), 1, 0, &w2);
	ck_assert_int_eq(tsig_sign(&c3, &w2, NOW, &e), 0);
	ck_assert_int_eq(tsig_verify_response(&c3, resp, w.pos, NOW, &e), -ENOKEY);
	ck_assert_int_eq(c3.error, WIRE_RC_BADKEY);
	/* unsigned response to a signed request */
	ck_assert_int_eq(tsig_verify_response(&c3, req2, 20 + 12, NOW, &e), -EBADMSG);
	/* verify_response without a request */
	struct tsig_ctx none = {0};
	ck_assert_int_eq(tsig_verify_response(&none, resp, w.pos, NOW, &e), -EINVAL);
	tsig_keyring_release(&kr);
}
END_TEST

START_TEST(test_flipped_bytes)
{
	uint8_t buf[1024], p[1024];
	struct wire_wr w;
	struct tsig_keyring kr = {0};
	struct tsig_ctx c = {0}, s;
	size_t len, off;

	load_text(&kr, KEYFILE_TEXT);
	build_msg(buf, sizeof(buf), 99, 1, &w);
	c.key = &kr.keys[0];
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, NULL), 0);
	len = w.pos;
	ck_assert_int_eq(tsig_find(buf, len, &off), 1);
	ck_assert_int_eq(tsig_verify_request(&s, &kr, buf, len, NOW, NULL), 0);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(p, buf, len);
			p[i] ^= (uint8_t)(1 << bit);
			int rc = tsig_verify_request(&s, &kr, p, len, NOW, NULL);
			if (i < 2) {            /* the ID: not signed, by design */
				ck_assert_int_eq(rc, 0);
				continue;
			}
			/* nor is the case of the key and algorithm names (the
			 * digest takes them in canonical form) */
			uint8_t ch = buf[i] | 0x20;
			int in_names = (i > off && i < off + 13) || (i > off + 23 && i < off + 36);
			if (in_names && bit == 5 && ch >= 'a' && ch <= 'z') {
				ck_assert_int_eq(rc, 0);
				continue;
			}
			ck_assert_msg(rc < 0, "flip of byte %zu bit %d accepted", i, bit);
			/* Unless the flip breaks the structure or renames the key,
			 * it is a bad signature. */
			size_t o2;
			if (rc != -EPERM)
				ck_assert_msg(rc == -EBADMSG || rc == -ENOKEY, "byte %zu: %d", i, rc);
			if (tsig_find(p, len, &o2) == 1 && o2 == off && rc != -ENOKEY)
				ck_assert_msg(rc == -EPERM || rc == -EBADMSG, "byte %zu: %d", i, rc);
		}
	}
	/* every flip of the question, answer rdata, MAC, time or error: BADSIG */
	size_t must[] = { 2, 3, 13, 20, off - 3, off - 1, off + 41, off + 43, len - 8, len - 20, len - 5,
			  len - 3 };
	for (size_t j = 0; j < sizeof(must) / sizeof(must[0]); j++) {
		memcpy(p, buf, len);
		p[must[j]] ^= 0x01;
		ck_assert_msg(tsig_verify_request(&s, &kr, p, len, NOW, NULL) == -EPERM, "byte %zu", must[j]);
		ck_assert_int_eq(s.error, WIRE_RC_BADSIG);
	}
	tsig_keyring_release(&kr);
}
END_TEST

START_TEST(test_badkey_badsig)
{
	uint8_t buf[1024], resp[1024];
	struct wire_wr w;
	struct tsig_keyring client_kr = {0}, server_kr = {0};
	struct tsig_ctx c = {0}, s;
	struct err e = {0};
	size_t off;

	load_text(&client_kr, "key unknown-to-server { algorithm hmac-sha256; secret \"AQIDBA==\"; };\n"
			      "key dnsfs-admin { algorithm hmac-sha256; secret \"AQIDBA==\"; };\n");
	load_text(&server_kr, KEYFILE_TEXT);
	/* unknown key name: BADKEY, answered unsigned with the error */
	build_msg(buf, sizeof(buf), 5, 0, &w);
	c.key = &client_kr.keys[0];
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), 0);
	ck_assert_int_eq(tsig_verify_request(&s, &server_kr, buf, w.pos, NOW, &e), -ENOKEY);
	ck_assert_int_eq(s.error, WIRE_RC_BADKEY);
	ck_assert_ptr_null(s.key);
	ck_assert_str_eq(e.msg, "TSIG key unknown-to-server. unknown (BADKEY)");
	build_msg(resp, sizeof(resp), 5, 1, &w);
	ck_assert_int_eq(tsig_sign(&s, &w, NOW, &e), 0);
	ck_assert_int_eq(tsig_find(resp, w.pos, &off), 1);
	/* key name echoed, MAC size 0, error BADKEY */
	ck_assert_mem_eq(resp + off, "\x11unknown-to-server\x00\x00\xfa\x00\xff", 24);
	ck_assert_mem_eq(resp + w.pos - 8, "\x00\x00", 2);      /* mac size 0 */
	ck_assert_mem_eq(resp + w.pos - 4, "\x00\x11\x00\x00", 4);      /* BADKEY, no other */
	ck_assert_int_eq(tsig_verify_response(&c, resp, w.pos, NOW, &e), -ENOKEY);
	ck_assert_int_eq(c.error, WIRE_RC_BADKEY);
	ck_assert(strstr(e.msg, "server reported BADKEY") != NULL);

	/* known name, wrong secret: BADSIG, also unsigned */
	memset(&c, 0, sizeof(c));
	c.key = &client_kr.keys[1];
	build_msg(buf, sizeof(buf), 6, 0, &w);
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), 0);
	ck_assert_int_eq(tsig_verify_request(&s, &server_kr, buf, w.pos, NOW, &e), -EPERM);
	ck_assert_int_eq(s.error, WIRE_RC_BADSIG);
	build_msg(resp, sizeof(resp), 6, 1, &w);
	ck_assert_int_eq(tsig_sign(&s, &w, NOW, &e), 0);
	ck_assert_mem_eq(resp + w.pos - 4, "\x00\x10\x00\x00", 4);
	ck_assert_int_eq(tsig_verify_response(&c, resp, w.pos, NOW, &e), -EPERM);
	ck_assert_int_eq(c.error, WIRE_RC_BADSIG);

	/* a key of another algorithm name is BADKEY too */
	struct tsig_key k = client_kr.keys[1];
	ck_assert_int_eq(wire_name_from_text(&k.alg, "hmac-sha512.", NULL), 0);
	memset(&c, 0, sizeof(c));
	c.key = &k;
	build_msg(buf, sizeof(buf), 6, 0, &w);
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), 0);
	ck_assert_int_eq(tsig_verify_request(&s, &server_kr, buf, w.pos, NOW, &e), -ENOKEY);
	/* nothing to verify */
	build_msg(buf, sizeof(buf), 6, 0, &w);
	ck_assert_int_eq(tsig_verify_request(&s, &server_kr, buf, w.pos, NOW, &e), -EBADMSG);
	ck_assert_str_eq(e.msg, "message is not signed");
	tsig_keyring_release(&client_kr);
	tsig_keyring_release(&server_kr);
}
END_TEST

START_TEST(test_badtime)
{
	uint8_t buf[1024], resp[1024];
	struct wire_wr w;
	struct tsig_keyring kr = {0};
	struct tsig_ctx c = {0}, s;
	struct err e = {0};
	size_t len;

	load_text(&kr, KEYFILE_TEXT);
	build_msg(buf, sizeof(buf), 9, 0, &w);
	c.key = &kr.keys[0];
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), 0);
	len = w.pos;
	/* the window is inclusive: |now - signed| > fudge is late */
	ck_assert_int_eq(tsig_verify_request(&s, &kr, buf, len, NOW + TSIG_FUDGE_DEFAULT, &e), 0);
	ck_assert_int_eq(tsig_verify_request(&s, &kr, buf, len, NOW - TSIG_FUDGE_DEFAULT, &e), 0);
	ck_assert_int_eq(tsig_verify_request(&s, &kr, buf, len, NOW - TSIG_FUDGE_DEFAULT - 1, &e), -ETIME);
	ck_assert_int_eq(tsig_verify_request(&s, &kr, buf, len, NOW + TSIG_FUDGE_DEFAULT + 1, &e), -ETIME);
	ck_assert_int_eq(s.error, WIRE_RC_BADTIME);
	ck_assert_ptr_eq(s.key, &kr.keys[0]);
	ck_assert_uint_eq(s.time_signed, NOW);
	ck_assert(strstr(e.msg, "BADTIME") != NULL);
	/* the BADTIME answer is signed; Time Signed is the request's, Other
	 * Data the server's clock */
	build_msg(resp, sizeof(resp), 9, 1, &w);
	ck_assert_int_eq(tsig_sign(&s, &w, NOW + 1000, &e), 0);
	ck_assert_mem_eq(resp + w.pos - 10, "\x00\x12\x00\x06", 4);
	ck_assert_mem_eq(resp + w.pos - 6, "\x00\x00\x65\x53\xf4\xe8", 6);     /* NOW + 1000 */
	ck_assert_int_eq(tsig_verify_response(&c, resp, w.pos, NOW + 1, &e), -ETIME);
	ck_assert_int_eq(c.error, WIRE_RC_BADTIME);
	ck_assert(strstr(e.msg, "server time 1700001000") != NULL);
	/* a tampered BADTIME answer is a bad signature, not a time error */
	memset(&c, 0, sizeof(c));
	c.key = &kr.keys[0];
	build_msg(buf, sizeof(buf), 9, 0, &w);
	tsig_sign(&c, &w, NOW, &e);
	tsig_verify_request(&s, &kr, buf, w.pos, NOW + 1000, &e);
	build_msg(resp, sizeof(resp), 9, 1, &w);
	tsig_sign(&s, &w, NOW + 1000, &e);
	resp[w.pos - 1] ^= 1;
	ck_assert_int_eq(tsig_verify_response(&c, resp, w.pos, NOW, &e), -EPERM);
	tsig_keyring_release(&kr);
}
END_TEST

START_TEST(test_stream)
{
	uint8_t buf[1024], msgs[4][1024];
	size_t lens[4];
	struct wire_wr w;
	struct tsig_keyring kr = {0};
	struct tsig_ctx c = {0}, s, c2;
	struct err e = {0};

	load_text(&kr, KEYFILE_TEXT);
	build_msg(buf, sizeof(buf), 77, 0, &w);
	c.key = &kr.keys[0];
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), 0);
	ck_assert_int_eq(tsig_verify_request(&s, &kr, buf, w.pos, NOW, &e), 0);
	for (int i = 0; i < 4; i++) {
		build_msg(msgs[i], sizeof(msgs[i]), 77, 1, &w);
		msgs[i][w.pos - 2] = (uint8_t)i;        /* different contents */
		ck_assert_int_eq(tsig_sign(&s, &w, NOW + i, &e), 0);
		lens[i] = w.pos;
	}
	ck_assert_uint_eq(s.nmsg, 5);
	c2 = c;
	for (int i = 0; i < 4; i++)
		ck_assert_msg(tsig_verify_response(&c, msgs[i], lens[i], NOW + 4, &e) == 0, "msg %d: %s", i, e.msg);
	ck_assert_uint_eq(c.nmsg, 5);
	/* out of order: message 2 after message 0 fails */
	ck_assert_int_eq(tsig_verify_response(&c2, msgs[0], lens[0], NOW, &e), 0);
	struct tsig_ctx c3 = c2;
	ck_assert_int_eq(tsig_verify_response(&c2, msgs[2], lens[2], NOW, &e), -EPERM);
	ck_assert_int_eq(tsig_verify_response(&c3, msgs[1], lens[1], NOW, &e), 0);
	/* a later message is not a first response (it covers the timers only) */
	struct tsig_ctx c4 = {0};
	c4.key = &kr.keys[0];
	build_msg(buf, sizeof(buf), 77, 0, &w);
	c4.nmsg = 1;
	memcpy(c4.mac, msgs[0] + lens[0] - 6 - 32, 32);        /* message 0's MAC */
	c4.mac_len = 32;
	ck_assert_int_eq(tsig_verify_response(&c4, msgs[1], lens[1], NOW, &e), -EPERM);
	c4.nmsg = 2;
	ck_assert_int_eq(tsig_verify_response(&c4, msgs[1], lens[1], NOW, &e), 0);
	tsig_keyring_release(&kr);
}
END_TEST

START_TEST(test_sign_errors)
{
	uint8_t buf[1024];
	struct wire_wr w;
	struct tsig_keyring kr = {0};
	struct tsig_ctx c = {0};
	struct err e = {0};
	size_t len;

	load_text(&kr, KEYFILE_TEXT);
	len = build_msg(buf, sizeof(buf), 1, 0, &w);
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), -EINVAL);         /* no key */
	c.key = &kr.keys[0];
	/* no room: nothing changes, overflow is reported */
	memset(buf + len, 0x5a, sizeof(buf) - len);
	w.cap = len + 60;
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), -ENOSPC);
	ck_assert_uint_eq(w.pos, len);
	ck_assert(w.overflow);
	ck_assert_uint_eq(buf[11], 0);
	ck_assert_uint_eq(c.nmsg, 0);
	for (size_t i = len + 60; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0x5a);
	wire_wr_rewind(&w, len);
	w.cap = len + TSIG_RR_MAX;
	ck_assert_int_eq(tsig_sign(&c, &w, NOW, &e), 0);
	ck_assert_uint_le(w.pos - len, TSIG_RR_MAX);
	struct wire_wr tiny;
	wire_wr_init(&tiny, buf, sizeof(buf));
	ck_assert_int_eq(tsig_sign(&c, &tiny, NOW, &e), -EINVAL);      /* no header */
	tsig_keyring_release(&kr);
}
END_TEST

/* Messages signed by BIND's own tools verify (key and time as captured). */
START_TEST(test_bind_vectors)
{
	struct tsig_keyring kr = {0};
	struct tsig_ctx s;
	struct err e = {0};
	uint8_t p[sizeof(nsupdate_msg)];

	load_text(&kr, KEYFILE_TEXT);
	ck_assert_msg(tsig_verify_request(&s, &kr, dig_query, sizeof(dig_query), DIG_QUERY_TIME, &e) == 0,
		      "%s", e.msg);
	ck_assert_uint_eq(s.orig_id, 0xcf7b);
	ck_assert_msg(tsig_verify_request(&s, &kr, nsupdate_msg, sizeof(nsupdate_msg), NSUPDATE_TIME + 10,
					  &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(s.time_signed, NSUPDATE_TIME);
	ck_assert_int_eq(tsig_verify_request(&s, &kr, nsupdate_msg, sizeof(nsupdate_msg), NOW, &e), -ETIME);
	memcpy(p, nsupdate_msg, sizeof(p));
	p[100] ^= 0x20;                 /* one letter of the TXT data */
	ck_assert_int_eq(tsig_verify_request(&s, &kr, p, sizeof(p), NSUPDATE_TIME, &e), -EPERM);
	tsig_keyring_release(&kr);
}
END_TEST

static Suite *tsig_suite(void)
{
	Suite *s = suite_create("tsig");
	TCase *tc;

	tc = tcase_create("keyfile");
	tcase_add_test(tc, test_keyring_parse);
	tcase_add_test(tc, test_keyring_errors);
	tcase_add_test(tc, test_keyfile_write_load);
	suite_add_tcase(s, tc);
	tc = tcase_create("sign");
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_request_response_roundtrip);
	tcase_add_test(tc, test_flipped_bytes);
	tcase_add_test(tc, test_badkey_badsig);
	tcase_add_test(tc, test_badtime);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_sign_errors);
	tcase_add_test(tc, test_bind_vectors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tsig_suite)
