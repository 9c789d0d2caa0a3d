/* Unit tests for lib/record: owner names, TXT strings and presentation form,
 * round trips of every record kind, a table of malformed records (exact errno,
 * message names the field, output left empty) and a seeded mutation test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_main.h"
#include "record.h"

#define TEXT_BUF (RECORD_TEXT_LONG_MAX + 1)

static const char *zone = "dnsfs.test.";

/* The hash of a small counter, as a stand-in block hash. */
static struct hash H(int i)
{
	struct hash h;

	hash_buf(&h, &i, sizeof(i));
	return h;
}

static int is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

/* A typical record of each type, with fixed fields set. */
static void base_inode(struct record_inode *r, int type)
{
	record_inode_init(r);
	r->type = type;
	r->mode = type == RECORD_DIR ? 0755 : 0644;
	r->uid = 1000;
	r->gid = 100;
	r->nlink = type == RECORD_DIR ? 2 : 1;
	r->mtime = (struct record_time){ 1700000000, 123456789 };
	r->ctime = (struct record_time){ 1700000001, 0 };
	r->atime = (struct record_time){ -5, 999999999 };
	r->ver = 7;
	if (type == RECORD_DIR)
		r->buckets = 1;
}

/* format -> parse -> format; the two texts must be equal. Returns the text. */
static char *round_trip(const struct record_inode *r, struct record_inode *back)
{
	static char t1[TEXT_BUF], t2[TEXT_BUF];
	struct err e = { 0 };
	int n = record_inode_format(r, t1, sizeof(t1), &e);

	ck_assert_msg(n >= 0, "format: %s", e.msg);
	ck_assert_int_eq(e.code, 0);
	ck_assert_uint_eq(strlen(t1), (size_t)n);
	ck_assert_msg(record_inode_parse_text(back, t1, (size_t)n, &e) == 0,
		      "parse: %s in %s", e.msg, t1);
	ck_assert_int_eq(record_inode_format(back, t2, sizeof(t2), &e), n);
	ck_assert_str_eq(t1, t2);
	return t1;
}

/* ------------------------------------------------------------------------
 * names
 * ---------------------------------------------------------------------- */

START_TEST(test_names_format)
{
	char b[RECORD_NAME_BUF];
	struct hash h;

	ck_assert_int_eq(record_name_inode(b, sizeof(b), zone, 1), 15);
	ck_assert_str_eq(b, "1.i.dnsfs.test.");
	ck_assert_int_gt(record_name_inode(b, sizeof(b), NULL, 18446744073709551615ull), 0);
	ck_assert_str_eq(b, "18446744073709551615.i");
	ck_assert_int_gt(record_name_inode(b, sizeof(b), ".", 5), 0);
	ck_assert_str_eq(b, "5.i.");
	ck_assert_int_gt(record_name_inode(b, sizeof(b), "dnsfs.test", 5), 0);
	ck_assert_str_eq(b, "5.i.dnsfs.test");
	/* h("abc") is the first 128 bits of SHA-256("abc") */
	ck_assert_int_gt(record_name_dentry(b, sizeof(b), zone, 1, "abc", 3), 0);
	ck_assert_str_eq(b, "ba7816bf8f01cfea414140de5dae2223.1.d.dnsfs.test.");
	ck_assert_int_gt(record_name_map(b, sizeof(b), zone, 42, 3), 0);
	ck_assert_str_eq(b, "3.42.m.dnsfs.test.");
	ck_assert_int_gt(record_name_listing(b, sizeof(b), zone, 42, 7), 0);
	ck_assert_str_eq(b, "7.42.l.dnsfs.test.");
	hash_buf(&h, "abc", 3);
	ck_assert_int_gt(record_name_place(b, sizeof(b), zone, &h), 0);
	ck_assert_str_eq(b, "ba7816bf8f01cfea414140de5dae2223."
			 "b00361a396177a9cb410ff61f20015ad.place.dnsfs.test.");
}
END_TEST

START_TEST(test_names_limits)
{
	char b[RECORD_NAME_BUF], z[300], name[300];

	/* buffer too small, by one byte (room for the NUL is needed) */
	ck_assert_int_eq(record_name_inode(b, 15, zone, 1), -ENAMETOOLONG);
	ck_assert_int_eq(record_name_inode(b, 16, zone, 1), 15);
	/* a zone so long the name passes 255 wire bytes */
	memset(z, 0, sizeof(z));
	for (int i = 0; i < 4; i++) {
		memset(z + i * 63, 'a', 62);
		z[i * 63 + 62] = '.';
	}
	/* "1.i." + 252 = 256 characters: 257 bytes on the wire */
	ck_assert_int_eq(record_name_inode(b, sizeof(b), z, 1), -ENAMETOOLONG);
	z[251] = '\0'; /* without the trailing dot: the same name, relative */
	ck_assert_int_eq(record_name_inode(b, sizeof(b), z, 1), -ENAMETOOLONG);
	ck_assert_int_eq(record_name_inode(b, sizeof(b), z + 2, 1), 253);
	/* bad zones */
	ck_assert_int_eq(record_name_inode(b, sizeof(b), "a..b.", 1), -EINVAL);
	ck_assert_int_eq(record_name_inode(b, sizeof(b), ".a.", 1), -EINVAL);
	memset(z, 'x', 64);
	z[64] = '\0';
	ck_assert_int_eq(record_name_inode(b, sizeof(b), z, 1), -EINVAL);
	/* bad entry names */
	ck_assert_int_eq(record_name_dentry(b, sizeof(b), zone, 1, "", 0), -EINVAL);
	ck_assert_int_eq(record_name_dentry(b, sizeof(b), zone, 1, ".", 1), -EINVAL);
	ck_assert_int_eq(record_name_dentry(b, sizeof(b), zone, 1, "..", 2), -EINVAL);
	ck_assert_int_eq(record_name_dentry(b, sizeof(b), zone, 1, "a/b", 3), -EINVAL);
	ck_assert_int_eq(record_name_dentry(b, sizeof(b), zone, 1, "a\0b", 3), -EINVAL);
	memset(name, 'n', sizeof(name));
	ck_assert_int_gt(record_name_dentry(b, sizeof(b), zone, 1, name, 255), 0);
	ck_assert_int_eq(record_name_dentry(b, sizeof(b), zone, 1, name, 256),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_names_parse)
{
	char b[RECORD_NAME_BUF];
	uint64_t ino = 0;
	struct hash h, g;

	ck_assert_int_eq(record_parse_inode_name("42.i.dnsfs.test.", 16, zone, &ino), 0);
	ck_assert_uint_eq(ino, 42);
	/* case and the trailing dot do not matter */
	ck_assert_int_eq(record_parse_inode_name("7.I.DNSFS.Test", 14, zone, &ino), 0);
	ck_assert_uint_eq(ino, 7);
	ck_assert_int_eq(record_parse_inode_name("9.i", 3, NULL, &ino), 0);
	ck_assert_uint_eq(ino, 9);
	record_name_inode(b, sizeof(b), zone, UINT64_MAX);
	ck_assert_int_eq(record_parse_inode_name(b, strlen(b), zone, &ino), 0);
	ck_assert_uint_eq(ino, UINT64_MAX);
	ino = 5;
	ck_assert_int_eq(record_parse_inode_name("042.i.dnsfs.test.", 17, zone, &ino), -EINVAL);
	ck_assert_int_eq(record_parse_inode_name("0.i.dnsfs.test.", 15, zone, &ino), -EINVAL);
	ck_assert_int_eq(record_parse_inode_name("42.d.dnsfs.test.", 16, zone, &ino), -EINVAL);
	ck_assert_int_eq(record_parse_inode_name("42.i.other.test.", 16, zone, &ino), -EINVAL);
	ck_assert_int_eq(record_parse_inode_name("42.i.xdnsfs.test.", 17, zone, &ino), -EINVAL);
	ck_assert_int_eq(record_parse_inode_name("i.dnsfs.test.", 13, zone, &ino), -EINVAL);
	ck_assert_int_eq(record_parse_inode_name("18446744073709551616.i.dnsfs.test.", 34,
						 zone, &ino), -EINVAL);
	ck_assert_uint_eq(ino, 5); /* untouched on error */

	hash_buf(&h, "block", 5);
	record_name_place(b, sizeof(b), zone, &h);
	ck_assert_int_eq(record_parse_place_name(b, strlen(b), zone, &g), 0);
	ck_assert(hash_equal(&h, &g));
	for (char *p = b; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(record_parse_place_name(b, strlen(b), zone, &g), 0);
	ck_assert(hash_equal(&h, &g));
	b[3] = 'g';
	ck_assert_int_eq(record_parse_place_name(b, strlen(b), zone, &g), -EINVAL);
	ck_assert_int_eq(record_parse_place_name("ab.place.dnsfs.test.", 20, zone, &g), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------
 * strings and presentation
 * ---------------------------------------------------------------------- */

/* Check the packing rules on one text. */
static void check_split(const char *text, size_t len)
{
	struct record_str strs[RECORD_STRS_FOR(20000)];
	char *joined = malloc(len + 1);
	struct err e = { 0 };
	int n = record_text_to_strings(text, len, strs, RECORD_STRS_FOR(len), &e);

	ck_assert_msg(n > 0, "%s", e.msg);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_le(strs[i].len, RECORD_STR_MAX);
		if (i + 1 < n && strs[i].p[strs[i].len - 1] != ' ') {
			/* a cut inside a token: only when no space was in reach */
			ck_assert_uint_eq(strs[i].len, RECORD_STR_MAX);
			ck_assert_ptr_null(memchr(strs[i].p, ' ', strs[i].len));
		}
	}
	ck_assert_int_eq(record_strings_join(strs, (size_t)n, joined, len + 1, &e), (int)len);
	ck_assert_mem_eq(joined, text, len);
	free(joined);
}

START_TEST(test_strings_split)
{
	static char text[20000];
	struct record_str strs[8];
	struct err e = { 0 };
	unsigned seed = 12345;

	/* empty text is one empty string */
	ck_assert_int_eq(record_text_to_strings("", 0, strs, 8, &e), 1);
	ck_assert_uint_eq(strs[0].len, 0);
	/* the break falls right after the last space within 255 bytes */
	memset(text, 'a', 400);
	text[100] = ' ';
	text[200] = ' ';
	ck_assert_int_eq(record_text_to_strings(text, 400, strs, 8, &e), 2);
	ck_assert_uint_eq(strs[0].len, 201);
	ck_assert_uint_eq(strs[1].len, 199);
	/* a 600-byte token is cut inside only where it must be */
	memset(text, 'b', 610);
	text[3] = ' ';
	ck_assert_int_eq(record_text_to_strings(text, 610, strs, 8, &e), 4);
	ck_assert_uint_eq(strs[0].len, 4);
	ck_assert_uint_eq(strs[1].len, 255);
	ck_assert_uint_eq(strs[2].len, 255);
	ck_assert_uint_eq(strs[3].len, 96);
	ck_assert_int_eq(record_text_to_strings(text, 610, strs, 3, &e), -ENOSPC);
	/* random texts of tokens of 1..600 bytes */
	for (int round = 0; round < 300; round++) {
		size_t len = 0, want = (size_t)(rand_r(&seed) % 19000);

		while (len < want) {
			size_t tl = 1 + (size_t)rand_r(&seed) % (rand_r(&seed) % 4 ? 60 : 600);
			for (size_t i = 0; i < tl && len < want; i++)
				text[len++] = (char)('a' + rand_r(&seed) % 26);
			if (len < want)
				text[len++] = ' ';
		}
		check_split(text, len);
	}
}
END_TEST

START_TEST(test_presentation)
{
	struct record_str in[3] = {
		{ "a \"q\" \\ b", 9 }, { "\001\377", 2 }, { "", 0 },
	};
	struct record_str out[8];
	char pres[256], buf[256];
	struct err e = { 0 };
	int n;

	n = record_strings_to_presentation(in, 3, pres, sizeof(pres), &e);
	ck_assert_str_eq(pres, "\"a \\\"q\\\" \\\\ b\" \"\\001\\255\" \"\"");
	ck_assert_int_eq(n, (int)strlen(pres));
	n = record_presentation_parse(pres, strlen(pres), buf, sizeof(buf), out, 8, &e);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(out[i].len, in[i].len);
		ck_assert_mem_eq(out[i].p, in[i].p, in[i].len);
	}
	/* bare words, tabs, and \X escapes as nsupdate takes them */
	const char *nsu = " v=1\ttype=f \"x y\" a\\ b\\\"\n";
	n = record_presentation_parse(nsu, strlen(nsu), buf, sizeof(buf), out, 8, &e);
	ck_assert_int_eq(n, 4);
	ck_assert_mem_eq(out[2].p, "x y", 3);
	ck_assert_uint_eq(out[3].len, 4);
	ck_assert_mem_eq(out[3].p, "a b\"", 4);
	/* the text shortcuts */
	ck_assert_int_gt(record_presentation_to_text("\"v=1 \" \"type=f\"", 15, buf,
						     sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "v=1 type=f");
	ck_assert_int_gt(record_text_to_presentation("v=1 \"x\"", 7, buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "\"v=1 \\\"x\\\"\"");
	/* too small a buffer */
	ck_assert_int_eq(record_strings_to_presentation(in, 3, pres, 10, &e), -ENOSPC);
}
END_TEST

START_TEST(test_presentation_random)
{
	unsigned seed = 99;
	static char raw[20][256], pres[20 * 1100], buf[20 * 1100];
	struct record_str in[20], out[20];
	struct err e = { 0 };

	for (int round = 0; round < 200; round++) {
		size_t n = 1 + (size_t)rand_r(&seed) % 20;

		for (size_t i = 0; i < n; i++) {
			in[i].len = (size_t)rand_r(&seed) % 256;
			for (size_t j = 0; j < in[i].len; j++)
				raw[i][j] = (char)rand_r(&seed);
			in[i].p = raw[i];
		}
		int len = record_strings_to_presentation(in, n, pres, sizeof(pres), &e);
		ck_assert_msg(len > 0, "%s", e.msg);
		int m = record_presentation_parse(pres, (size_t)len, buf, sizeof(buf), out, 20, &e);
		ck_assert_msg(m == (int)n, "%d: %s", m, e.msg);
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_eq(out[i].len, in[i].len);
			ck_assert_mem_eq(out[i].p, in[i].p, in[i].len);
		}
	}
}
END_TEST

/* Presentation errors: errno and a word of the message. */
static const struct {
	const char *in;
	int rc;
	const char *msg;
} bad_pres[] = {
	{ "\"v=1 type=f", -EINVAL, "truncated string" },
	{ "\"abc\\", -EINVAL, "truncated string" },
	{ "abc\\", -EINVAL, "truncated string" },
	{ "\"\\25\"", -EINVAL, "bad escape" },
	{ "\"\\256\"", -EINVAL, "bad escape" },
	{ "\"a\"b", -EINVAL, "string 1" },
	{ "ab\"c\"", -EINVAL, "stray quote" },
	{ "", -EINVAL, "no strings" },
	{ "  \t\n", -EINVAL, "no strings" },
};

START_TEST(test_presentation_errors)
{
	char buf[600], big[600];
	struct record_str strs[8];
	struct err e = { 0 };

	for (size_t i = 0; i < sizeof(bad_pres) / sizeof(bad_pres[0]); i++) {
		err_clear(&e);
		ck_assert_int_eq(record_presentation_parse(bad_pres[i].in, strlen(bad_pres[i].in),
							   buf, sizeof(buf), strs, 8, &e),
				 bad_pres[i].rc);
		ck_assert_msg(strstr(e.msg, bad_pres[i].msg) != NULL, "%s: %s",
			      bad_pres[i].in, e.msg);
	}
	/* a string of 256 bytes */
	big[0] = '"';
	memset(big + 1, 'x', 256);
	big[257] = '"';
	err_clear(&e);
	ck_assert_int_eq(record_presentation_parse(big, 258, buf, sizeof(buf), strs, 8, &e),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "string 1: 256 bytes"));
	/* and as a (ptr, len) string handed to a parser */
	struct record_str s2[2] = { { "v=1 ", 4 }, { big + 1, 256 } };
	struct record_inode r;
	err_clear(&e);
	ck_assert_int_eq(record_inode_parse(&r, s2, 2, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "string 2: 256 bytes"));
	ck_assert(is_zero(&r, sizeof(r)));
	ck_assert_int_eq(record_strings_to_presentation(s2, 2, buf, sizeof(buf), &e), -EINVAL);
	ck_assert_int_eq(record_strings_join(s2, 2, buf, sizeof(buf), &e), -EINVAL);
	ck_assert_int_eq(record_inode_parse(&r, s2, 0, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "no strings"));
}
END_TEST

/* ------------------------------------------------------------------------
 * percent-encoding
 * ---------------------------------------------------------------------- */

START_TEST(test_pct)
{
	char enc[800];
	uint8_t dec[256], all[256];
	struct err e = { 0 };

	ck_assert_int_eq(record_pct_encode(enc, sizeof(enc), "a b%\"\\=;~!", 10), 22);
	ck_assert_str_eq(enc, "a%20b%25%22%5C%3D%3B~!");
	ck_assert_int_eq(record_pct_encode(enc, sizeof(enc), "\xc3\xa9", 2), 6);
	ck_assert_str_eq(enc, "%C3%A9");
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	int n = record_pct_encode(enc, sizeof(enc), all, 256);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(record_pct_decode(dec, sizeof(dec), enc, (size_t)n, &e), 256);
	ck_assert_mem_eq(dec, all, 256);
	ck_assert_int_eq(record_pct_encode(enc, 5, "abcde", 5), -ENOSPC);
	/* only the canonical form decodes */
	ck_assert_int_eq(record_pct_decode(dec, sizeof(dec), "%c3", 3, &e), -EINVAL);
	ck_assert_int_eq(record_pct_decode(dec, sizeof(dec), "%4", 2, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad %-escape"));
	ck_assert_int_eq(record_pct_decode(dec, sizeof(dec), "%41", 3, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "needless"));
	ck_assert_int_eq(record_pct_decode(dec, sizeof(dec), "a=b", 3, &e), -EINVAL);
	ck_assert_int_eq(record_pct_decode(dec, sizeof(dec), "a b", 3, &e), -EINVAL);
	ck_assert_int_eq(record_pct_decode(dec, 2, "abc", 3, &e), -ENOSPC);
}
END_TEST

/* ------------------------------------------------------------------------
 * inode records
 * ---------------------------------------------------------------------- */

struct hash_list {
	struct hash h[6 * RECORD_PAGE_REFS];
	int n;
	int stop_at;
};

static int collect(const struct hash *h, void *arg)
{
	struct hash_list *l = arg;

	if (l->n < (int)(sizeof(l->h) / sizeof(l->h[0])))
		l->h[l->n] = *h;
	l->n++;
	return l->n == l->stop_at ? 42 : 0;
}

START_TEST(test_inode_golden)
{
	struct record_inode r, back;
	struct hash s3[3] = { H(3), H(4), H(5) };
	char h[5][HASH_HEX_LEN + 1], want[TEXT_BUF];
	struct err e = { 0 };
	const char *got;

	base_inode(&r, RECORD_REG);
	r.size = 3 << 20;
	r.policy = (struct record_policy){ .kind = RECORD_POLICY_REP, .rep = 3 };
	struct hash h1 = H(1), h2 = H(2);
	ck_assert_int_eq(record_refs_add_block(&r.refs, 0, 1 << 20, &h1, &e), 0);
	ck_assert_int_eq(record_refs_add_block(&r.refs, 1 << 20, 1 << 20, &h2, &e), 0);
	ck_assert_int_eq(record_refs_add_stripe(&r.refs, 2 << 20, 1 << 20, 2, 1, s3, &e), 0);
	for (int i = 0; i < 5; i++) {
		struct hash x = H(i + 1);
		hash_to_hex(&x, h[i]);
	}
	snprintf(want, sizeof(want),
		 "v=1 type=f mode=0644 uid=1000 gid=100 nlink=1 size=3145728 "
		 "mtime=1700000000.123456789 ctime=1700000001.000000000 atime=-5.999999999 "
		 "ver=7 rep=3 b=0:1048576:%s b=1048576:1048576:%s "
		 "s=2097152:1048576:2+1:%s,%s,%s", h[0], h[1], h[2], h[3], h[4]);
	got = round_trip(&r, &back);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(back.refs.n, 3);
	ck_assert_uint_eq(back.refs.v[2].k, 2);
	ck_assert_uint_eq(back.refs.v[2].m, 1);
	ck_assert_uint_eq(record_ref_nhash(&back.refs.v[2]), 3);
	ck_assert_int_eq(back.atime.sec, -5);
	ck_assert_uint_eq(back.atime.nsec, 999999999);
	ck_assert_int_eq(back.policy.kind, RECORD_POLICY_REP);

	/* every hash, in order: the reference-counting walk */
	struct hash_list l = { .n = 0, .stop_at = 0 };
	ck_assert_int_eq(record_inode_for_each_hash(&back, collect, &l), 0);
	ck_assert_int_eq(l.n, 5);
	for (int i = 0; i < 5; i++) {
		struct hash x = H(i + 1);
		ck_assert(hash_equal(&l.h[i], &x));
	}
	l = (struct hash_list){ .n = 0, .stop_at = 2 };
	ck_assert_int_eq(record_inode_for_each_hash(&back, collect, &l), 42);
	ck_assert_int_eq(l.n, 2);

	/* a record split into strings parses the same */
	struct record_str strs[RECORD_STRS_FOR(TEXT_BUF)];
	struct record_inode again;
	int n = record_text_to_strings(got, strlen(got), strs, RECORD_STRS_FOR(TEXT_BUF), &e);
	ck_assert_int_gt(n, 2);
	ck_assert_int_eq(record_inode_parse(&again, strs, (size_t)n, &e), 0);
	ck_assert_uint_eq(again.refs.n, 3);
	ck_assert_uint_eq(again.size, 3 << 20);
	record_inode_release(&again);
	record_inode_release(&back);
	record_inode_release(&r);
	ck_assert(is_zero(&r, sizeof(r)));
}
END_TEST

START_TEST(test_inode_types)
{
	struct record_inode r, back;
	const char *t;

	base_inode(&r, RECORD_DIR);
	r.buckets = 64;
	r.gen = 3;
	r.policy = (struct record_policy){ .kind = RECORD_POLICY_EC, .k = 4, .m = 2 };
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " gen=3 ec=4+2 buckets=64"));
	ck_assert_uint_eq(back.buckets, 64);
	ck_assert_uint_eq(back.policy.k, 4);
	record_inode_release(&back);

	/* a directory without buckets= has one bucket */
	const char *d = "v=1 type=d mode=0755 uid=0 gid=0 nlink=2 size=0 mtime=0.000000000 "
			"ctime=0.000000000 atime=0.000000000 ver=1";
	struct err e = { 0 };
	ck_assert_int_eq(record_inode_parse_text(&back, d, strlen(d), &e), 0);
	ck_assert_uint_eq(back.buckets, 1);
	ck_assert_uint_eq(back.mode, 0755);
	ck_assert_uint_eq(back.parent, 0);
	record_inode_release(&back);

	/* parent= (d only): written after buckets=, never 0 */
	base_inode(&r, RECORD_DIR);
	r.buckets = 1;
	r.parent = 4097;
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " buckets=1 parent=4097"));
	ck_assert_uint_eq(back.parent, 4097);
	record_inode_release(&back);
	const char *dp = "v=1 type=d mode=0755 uid=0 gid=0 nlink=2 size=0 mtime=0.000000000 "
			 "ctime=0.000000000 atime=0.000000000 ver=1 parent=0";
	ck_assert_int_eq(record_inode_parse_text(&back, dp, strlen(dp), &e), -ERANGE);
	const char *fp = "v=1 type=f mode=0644 uid=0 gid=0 nlink=1 size=0 mtime=0.000000000 "
			 "ctime=0.000000000 atime=0.000000000 ver=1 parent=1";
	ck_assert_int_eq(record_inode_parse_text(&back, fp, strlen(fp), &e), -EINVAL);

	base_inode(&r, RECORD_CHR);
	r.rdev = 0x10305;
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " rdev=66309"));
	ck_assert_uint_eq(back.rdev, 0x10305);
	record_inode_release(&back);

	base_inode(&r, RECORD_BLK); /* rdev written even when 0 */
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " rdev=0"));
	record_inode_release(&back);

	base_inode(&r, RECORD_FIFO);
	r.mode = 07777;
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, "type=p mode=7777 "));
	record_inode_release(&back);

	base_inode(&r, RECORD_SOCK);
	r.mode = 0;
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, "type=s mode=0000 "));
	record_inode_release(&back);

	/* a big file: block-map pages instead of inline refs */
	base_inode(&r, RECORD_REG);
	r.size = INT64_MAX;
	r.pages = 123456;
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, "size=9223372036854775807 "));
	ck_assert_ptr_nonnull(strstr(t, " pages=123456"));
	record_inode_release(&back);

	/* record_type_* helpers */
	ck_assert_int_eq(record_type_from_mode(record_type_to_ifmt(RECORD_LNK)), RECORD_LNK);
	ck_assert_int_eq(record_type_to_ifmt('x'), 0);
	ck_assert(!record_type_valid(0));
}
END_TEST

/* rdev of device inodes (mknod): absent in records written before mknod
 * existed reads as 0, and is written back (as rdev=0) by the next change;
 * the full u64 round-trips; the other types refuse it. */
START_TEST(test_inode_rdev)
{
	static const char *const old[] = {
		"v=1 type=c mode=0666 uid=0 gid=0 nlink=1 size=0 mtime=0.000000000 "
		"ctime=0.000000000 atime=0.000000000 ver=3",
		"v=1 type=b mode=0660 uid=0 gid=6 nlink=1 size=0 mtime=0.000000000 "
		"ctime=0.000000000 atime=0.000000000 ver=1 gen=2",
	};
	static const char *const types = "fdlps";
	struct record_inode r, back;
	struct err e = { 0 };
	char t[TEXT_BUF];
	int n;

	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		ck_assert_msg(record_inode_parse_text(&r, old[i], strlen(old[i]), &e) == 0,
			      "parse: %s", e.msg);
		ck_assert_uint_eq(r.rdev, 0);
		n = record_inode_format(&r, t, sizeof(t), &e);
		ck_assert_int_gt(n, 0);
		ck_assert_ptr_nonnull(strstr(t, " rdev=0"));
		record_inode_release(&r);
	}

	base_inode(&r, RECORD_BLK);     /* makedev(259, 65536) as the kernel encodes it */
	r.rdev = 268501760;
	ck_assert_ptr_nonnull(strstr(round_trip(&r, &back), " ver=7 rdev=268501760"));
	ck_assert_uint_eq(back.rdev, 268501760);
	record_inode_release(&back);
	base_inode(&r, RECORD_CHR);
	r.rdev = UINT64_MAX;
	ck_assert_ptr_nonnull(strstr(round_trip(&r, &back), " rdev=18446744073709551615"));
	ck_assert_uint_eq(back.rdev, UINT64_MAX);
	record_inode_release(&back);

	const char *over = "v=1 type=c mode=0666 uid=0 gid=0 nlink=1 size=0 mtime=0.000000000 "
			   "ctime=0.000000000 atime=0.000000000 ver=3 rdev=18446744073709551616";
	ck_assert_int_eq(record_inode_parse_text(&r, over, strlen(over), &e), -ERANGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "rdev"));
	const char *dup = "v=1 type=c mode=0666 uid=0 gid=0 nlink=1 size=0 mtime=0.000000000 "
			  "ctime=0.000000000 atime=0.000000000 ver=3 rdev=1 rdev=2";
	ck_assert_int_eq(record_inode_parse_text(&r, dup, strlen(dup), &e), -EINVAL);

	for (const char *c = types; *c; c++) {
		/* on other types: refused by the parser, and by the formatter */
		snprintf(t, sizeof(t), "v=1 type=%c mode=0644 uid=0 gid=0 nlink=1 size=0 "
			 "mtime=0.000000000 ctime=0.000000000 atime=0.000000000 ver=1 rdev=0", *c);
		ck_assert_int_eq(record_inode_parse_text(&r, t, strlen(t), &e), -EINVAL);
		ck_assert_msg(strstr(e.msg, "rdev") != NULL, "%c: %s", *c, e.msg);
		base_inode(&r, *c);
		r.rdev = 5;
		ck_assert_int_eq(record_inode_format(&r, t, sizeof(t), &e), -EINVAL);
		base_inode(&r, *c);     /* and nothing written when 0 */
		if (*c == RECORD_LNK) {
			ck_assert_int_eq(record_inode_set_target(&r, "x", 1, &e), 0);
			r.size = 1;
		}
		ck_assert_msg(record_inode_format(&r, t, sizeof(t), &e) > 0, "%c: %s", *c, e.msg);
		ck_assert_ptr_null(strstr(t, "rdev"));
		record_inode_release(&r);
	}

	/* every type's mode bits with its type letter, as mknod makes them */
	for (const char *c = "psbc"; *c; c++) {
		base_inode(&r, *c);
		r.mode = 07777;
		snprintf(t, sizeof(t), "type=%c mode=7777 ", *c);
		ck_assert_ptr_nonnull(strstr(round_trip(&r, &back), t));
		ck_assert_int_eq(back.type, *c);
		ck_assert_uint_eq(record_type_to_ifmt(back.type) | back.mode,
				  (unsigned)(*c == 'p' ? S_IFIFO : *c == 's' ? S_IFSOCK :
					     *c == 'b' ? S_IFBLK : S_IFCHR) | 07777);
		ck_assert_int_eq(record_type_from_mode(record_type_to_ifmt(*c) | 0644), *c);
		record_inode_release(&back);
	}
}
END_TEST

START_TEST(test_inode_inline_data)
{
	uint8_t data[RECORD_INLINE_MAX + 1];
	struct record_inode r, back;
	struct err e = { 0 };

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= RECORD_INLINE_MAX; len += len < 600 ? 1 : 97) {
		base_inode(&r, RECORD_REG);
		r.size = len;
		ck_assert_int_eq(record_inode_set_data(&r, data, len, &e), 0);
		const char *t = round_trip(&r, &back);
		/* up to 512 bytes the inode fits a UDP answer, past it TCP */
		ck_assert_uint_le(strlen(t), len <= RECORD_INLINE_SHORT ? RECORD_TEXT_MAX
									: RECORD_TEXT_LONG_MAX);
		ck_assert_uint_eq(back.datalen, len);
		if (len > 0)
			ck_assert_mem_eq(back.data, data, len);
		else
			ck_assert_ptr_null(strstr(t, "data="));
		/* each data= token fits one string, so dig shows whole tokens */
		struct record_str strs[16];
		int n = record_text_to_strings(t, strlen(t), strs, 16, &e);
		for (int i = 0; i < n; i++)
			ck_assert(i + 1 == n || strs[i].p[strs[i].len - 1] == ' ');
		record_inode_release(&back);
		record_inode_release(&r);
	}
	ck_assert_int_eq(record_inode_set_data(&r, data, RECORD_INLINE_MAX + 1, &e), -E2BIG);

	/* 512 bytes inline fit the UDP text budget, and 8192 the long one,
	 * even with every other field at its widest */
	for (int pass = 0; pass < 2; pass++) {
		size_t len = pass == 0 ? RECORD_INLINE_SHORT : RECORD_INLINE_MAX;

		record_inode_init(&r);
		r.type = RECORD_REG;
		r.mode = 07777;
		r.uid = r.gid = r.nlink = UINT32_MAX;
		r.size = len;
		r.mtime = r.ctime = r.atime = (struct record_time){ INT64_MIN, 999999999 };
		r.ver = r.gen = UINT64_MAX;
		r.policy = (struct record_policy){ .kind = RECORD_POLICY_EC, .k = 32, .m = 16 };
		ck_assert_int_eq(record_inode_set_data(&r, data, len, &e), 0);
		const char *t = round_trip(&r, &back);
		ck_assert_uint_le(strlen(t), pass == 0 ? RECORD_TEXT_MAX : RECORD_TEXT_LONG_MAX);
		record_inode_release(&back);
		record_inode_release(&r);
	}
	ck_assert(!record_type_valid('f' + 256));
}
END_TEST

START_TEST(test_inode_symlink)
{
	static char target[RECORD_TARGET_MAX + 1];
	struct record_str strs[RECORD_STRS_FOR(TEXT_BUF)];
	struct record_inode r, back;
	struct err e = { 0 };

	/* plain ASCII, then every byte value but NUL: both 4095 bytes */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < RECORD_TARGET_MAX; i++)
			target[i] = pass == 0 ? (char)('a' + i % 26) : (char)(1 + i % 255);
		base_inode(&r, RECORD_LNK);
		r.mode = 0777;
		r.size = RECORD_TARGET_MAX;
		ck_assert_int_eq(record_inode_set_target(&r, target, RECORD_TARGET_MAX, &e), 0);
		const char *t = round_trip(&r, &back);
		ck_assert_uint_gt(strlen(t), RECORD_TEXT_MAX);
		ck_assert_uint_le(strlen(t), RECORD_TEXT_LONG_MAX);
		ck_assert_uint_eq(back.targetlen, RECORD_TARGET_MAX);
		ck_assert_mem_eq(back.target, target, RECORD_TARGET_MAX);
		record_inode_release(&back);

		int n = record_text_to_strings(t, strlen(t), strs, RECORD_STRS_FOR(TEXT_BUF), &e);
		ck_assert_int_gt(n, 15);
		for (int i = 0; i < n; i++)
			ck_assert_uint_le(strs[i].len, RECORD_STR_MAX);
		ck_assert_int_eq(record_inode_parse(&back, strs, (size_t)n, &e), 0);
		ck_assert_mem_eq(back.target, target, RECORD_TARGET_MAX);
		record_inode_release(&back);
		record_inode_release(&r);
	}
	/* a short target with characters that must be encoded */
	base_inode(&r, RECORD_LNK);
	r.size = 15;
	ck_assert_int_eq(record_inode_set_target(&r, "../a b/100%/\"q\"", 15, &e), 0);
	const char *t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " target=../a%20b/100%25/%22q%22"));
	ck_assert_str_eq(back.target, "../a b/100%/\"q\"");
	record_inode_release(&back);
	record_inode_release(&r);
	ck_assert_int_eq(record_inode_set_target(&r, target, RECORD_TARGET_MAX + 1, &e),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_inode_xattrs)
{
	static uint8_t big[RECORD_XATTR_VALUE_MAX + 1];
	static char name[RECORD_XATTR_NAME_MAX + 2];
	struct record_inode r, back;
	struct err e = { 0 };
	char buf[TEXT_BUF];
	const char *t;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	base_inode(&r, RECORD_REG);
	/* set keeps them sorted; an empty value is a value */
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.b", 6, "two", 3, &e), 0);
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.a b=%:", 11, "\0\1\2", 3, &e), 0);
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.empty", 10, NULL, 0, &e), 0);
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.b", 6, "TWO!", 4, &e), 0);
	ck_assert_uint_eq(r.nxattrs, 3);
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " xa=user.a%20b%3D%25::AAEC xa=user.b:VFdPIQ== xa=user.empty:"));
	ck_assert_uint_eq(back.nxattrs, 3);
	const struct record_xattr *x = record_inode_xattr_find(&back, "user.a b=%:", 11);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->len, 3);
	ck_assert_mem_eq(x->value, "\0\1\2", 3);
	x = record_inode_xattr_find(&back, "user.empty", 10);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->len, 0);
	ck_assert_ptr_null(record_inode_xattr_find(&back, "user.c", 6));
	ck_assert_ptr_null(record_inode_xattr_find(&back, "user.", 5));
	record_inode_release(&back);
	/* remove */
	ck_assert_int_eq(record_inode_xattr_remove(&r, "user.b", 6), 0);
	ck_assert_int_eq(record_inode_xattr_remove(&r, "user.b", 6), -ENODATA);
	ck_assert_uint_eq(r.nxattrs, 2);
	ck_assert_int_eq(record_inode_xattr_remove(&r, "user.a b=%:", 11), 0);
	ck_assert_int_eq(record_inode_xattr_remove(&r, "user.empty", 10), 0);
	ck_assert_uint_eq(r.nxattrs, 0);
	t = round_trip(&r, &back);
	ck_assert_ptr_null(strstr(t, "xa="));
	record_inode_release(&back);
	/* limits: name 255, value 4096; a full value makes a long (TCP) record */
	memset(name, 'n', sizeof(name));
	ck_assert_int_eq(record_inode_xattr_set(&r, name, RECORD_XATTR_NAME_MAX + 1, "x", 1, &e),
			 -ERANGE);
	ck_assert_int_eq(record_inode_xattr_set(&r, name, 0, "x", 1, &e), -EINVAL);
	ck_assert_int_eq(record_inode_xattr_set(&r, "a\0b", 3, "x", 1, &e), -EINVAL);
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.big", 8, big, sizeof(big), &e), -E2BIG);
	ck_assert_int_eq(record_inode_xattr_set(&r, name, RECORD_XATTR_NAME_MAX, big,
						RECORD_XATTR_VALUE_MAX, &e), 0);
	t = round_trip(&r, &back);
	ck_assert_uint_gt(strlen(t), RECORD_TEXT_MAX);
	x = record_inode_xattr_find(&back, name, RECORD_XATTR_NAME_MAX);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->len, RECORD_XATTR_VALUE_MAX);
	ck_assert_mem_eq(x->value, big, RECORD_XATTR_VALUE_MAX);
	record_inode_release(&back);
	/* and through character-strings (a token split across strings) */
	{
		struct record_str strs[RECORD_STRS_FOR(TEXT_BUF)];
		int n = record_text_to_strings(t, strlen(t), strs, RECORD_STRS_FOR(TEXT_BUF), &e);

		ck_assert_int_gt(n, 20);
		ck_assert_int_eq(record_inode_parse(&back, strs, (size_t)n, &e), 0);
		ck_assert_uint_eq(back.nxattrs, 1);
		record_inode_release(&back);
	}
	/* three full values do not fit RECORD_TEXT_LONG_MAX: -E2BIG (the mount
	 * answers ENOSPC) */
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.2", 6, big, RECORD_XATTR_VALUE_MAX, &e), 0);
	ck_assert_int_gt(record_inode_format(&r, buf, sizeof(buf), &e), 0);
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.3", 6, big, RECORD_XATTR_VALUE_MAX, &e), 0);
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -E2BIG);
	record_inode_release(&r);
	/* any type may carry them, a directory and a symlink too */
	base_inode(&r, RECORD_DIR);
	r.buckets = 1;
	ck_assert_int_eq(record_inode_xattr_set(&r, "user.d", 6, "v", 1, &e), 0);
	t = round_trip(&r, &back);
	ck_assert_ptr_nonnull(strstr(t, " xa=user.d:dg=="));
	record_inode_release(&back);
	record_inode_release(&r);
}
END_TEST

START_TEST(test_lock)
{
	struct record_lock l, back;
	struct err e = { 0 };
	char buf[TEXT_BUF], name[RECORD_NAME_BUF];
	static const struct { const char *text; int rc; const char *msg; } bad[] = {
		{ "", -EINVAL, "v: missing" },
		{ "v=1 o=a:1", -EINVAL, "type: missing" },
		{ "v=1 type=xx o=a:1", -EINVAL, "type: \"xx\" is not sh or ex" },
		{ "v=1 type=ex", -E2BIG, "0 holders" },
		{ "v=1 type=ex o=a:1 o=b:2", -EINVAL, "exclusive lock has 2 holders" },
		{ "v=1 type=sh o=a:1 o=a:2", -EINVAL, "duplicate owner \"a\"" },
		{ "v=1 type=sh o=A:1", -EINVAL, "outside [0-9a-z.-]" },
		{ "v=1 type=sh o=a", -EINVAL, "not <owner>:<exp>" },
		{ "v=1 type=sh o=a:x", -EINVAL, "not a time" },
		{ "v=1 type=sh o=a:1 z=1", -EINVAL, "z: unknown key" },
		{ "v=1 type=sh type=sh o=a:1", -EINVAL, "type: duplicate" },
		{ "v=2 type=sh o=a:1", -ENOTSUP, "newer" },
	};

	ck_assert_int_gt(record_name_lock(name, sizeof(name), zone, 42), 0);
	ck_assert_str_eq(name, "42.k.dnsfs.test.");
	memset(&l, 0, sizeof(l));
	l.type = 's';
	for (int i = 0; i < RECORD_LOCK_HOLDERS; i++) {
		snprintf(l.h[i].owner, sizeof(l.h[i].owner), "%016x.%016x", i + 1, 7 * i);
		l.h[i].exp = 1700000000 + i;
	}
	l.n = RECORD_LOCK_HOLDERS;
	int n = record_lock_format(&l, buf, sizeof(buf), &e);
	ck_assert_msg(n > 0 && n <= RECORD_TEXT_MAX, "%d %s", n, e.msg);
	ck_assert_int_eq(record_lock_parse_text(&back, buf, (size_t)n, &e), 0);
	ck_assert_uint_eq(back.n, RECORD_LOCK_HOLDERS);
	ck_assert_int_eq(back.type, 's');
	ck_assert_str_eq(back.h[19].owner, l.h[19].owner);
	ck_assert_int_eq(back.h[19].exp, 1700000019);
	l.type = 'e';
	l.n = 1;
	n = record_lock_format(&l, buf, sizeof(buf), &e);
	ck_assert_str_eq(buf, "v=1 type=ex o=0000000000000001.0000000000000000:1700000000");
	ck_assert_int_eq(record_lock_parse_text(&back, buf, (size_t)n, &e), 0);
	ck_assert_int_eq(back.type, 'e');
	l.n = 2;
	ck_assert_int_eq(record_lock_format(&l, buf, sizeof(buf), &e), -EINVAL);
	l.type = 's';
	l.n = 0;
	ck_assert_int_eq(record_lock_format(&l, buf, sizeof(buf), &e), -E2BIG);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e2 = { 0 };

		ck_assert_int_eq(record_lock_parse_text(&back, bad[i].text, strlen(bad[i].text),
							&e2), bad[i].rc);
		ck_assert_msg(strstr(e2.msg, bad[i].msg) != NULL, "%s: %s", bad[i].text, e2.msg);
		ck_assert_uint_eq(back.n, 0);
	}
}
END_TEST

START_TEST(test_inode_unknown_tokens)
{
	const char *in =
		"v=1 type=f zz=first mode=0600 uid=1 gid=2 nlink=1 size=0 mtime=1.000000000 "
		"ctime=2.000000000 atime=3.000000000 ver=9 x-new=a=b=c future_key= zz=second";
	struct record_inode r;
	char out[TEXT_BUF];
	struct err e = { 0 };

	ck_assert_int_eq(record_inode_parse_text(&r, in, strlen(in), &e), 0);
	ck_assert_uint_eq(r.unknown.n, 4);
	ck_assert_str_eq(r.unknown.v[0], "zz=first");
	ck_assert_str_eq(r.unknown.v[1], "x-new=a=b=c");
	ck_assert_str_eq(r.unknown.v[2], "future_key=");
	ck_assert_str_eq(r.unknown.v[3], "zz=second");
	/* a CAS rewrite by this client keeps them, in order */
	r.ver++;
	r.mode = 0640;
	ck_assert_int_gt(record_inode_format(&r, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out,
			 "v=1 type=f mode=0640 uid=1 gid=2 nlink=1 size=0 mtime=1.000000000 "
			 "ctime=2.000000000 atime=3.000000000 ver=10 zz=first x-new=a=b=c "
			 "future_key= zz=second");
	/* the formatter refuses unknown tokens that are not tokens, or known */
	free(r.unknown.v[1]);
	r.unknown.v[1] = strdup("has space=1");
	ck_assert_int_eq(record_inode_format(&r, out, sizeof(out), &e), -EINVAL);
	free(r.unknown.v[1]);
	r.unknown.v[1] = strdup("uid=5");
	ck_assert_int_eq(record_inode_format(&r, out, sizeof(out), &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "uid"));
	ck_assert_str_eq(out, "");
	record_inode_release(&r);
}
END_TEST

START_TEST(test_inode_format_checks)
{
	struct record_inode r;
	char buf[TEXT_BUF];
	struct err e = { 0 };
	struct hash h = H(1);

	/* the formatter applies the parser's rules */
	record_inode_init(&r);
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "type"));
	base_inode(&r, RECORD_REG);
	r.mode = 010000;
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -EINVAL);
	base_inode(&r, RECORD_REG);
	r.mtime.nsec = 1000000000;
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -ERANGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "mtime"));
	base_inode(&r, RECORD_LNK);
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "target"));
	base_inode(&r, RECORD_DIR);
	r.buckets = 0;
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -ERANGE);
	base_inode(&r, RECORD_REG);
	r.size = 10;
	ck_assert_int_eq(record_refs_add_block(&r.refs, 0, 20, &h, &e), 0);
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "past size"));
	r.size = 1000;
	for (int i = 1; i < RECORD_INLINE_REFS; i++)
		ck_assert_int_eq(record_refs_add_block(&r.refs, 20 * (uint64_t)i, 20, &h, &e), 0);
	ck_assert_int_gt(record_inode_format(&r, buf, sizeof(buf), &e), 0);
	ck_assert_int_eq(record_inode_format(&r, buf, 100, &e), -ENOSPC);
	ck_assert_int_eq(record_refs_add_block(&r.refs, 200, 20, &h, &e), 0);
	ck_assert_int_eq(record_inode_format(&r, buf, sizeof(buf), &e), -E2BIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "b/s"));
	record_inode_release(&r);
	ck_assert_int_eq(record_refs_add_stripe(&r.refs, 0, 1, 0, 1, &h, &e), -EINVAL);
	ck_assert_int_eq(record_refs_add_stripe(&r.refs, 0, 1, 33, 1, &h, &e), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------
 * malformed inode records: table-driven, one TAP case per row
 * ---------------------------------------------------------------------- */

#define F_HEAD "v=1 type=f mode=0644 uid=0 gid=0 nlink=1 "
#define T_ALL "mtime=0.000000000 ctime=0.000000000 atime=0.000000000"
#define F_OK F_HEAD "size=0 " T_ALL " ver=1"
#define FS(size) F_HEAD "size=" size " " T_ALL " ver=1"
#define HX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define B(off, len) " b=" off ":" len ":" HX

static const struct bad_case {
	const char *text;       /* "@tag": built by the test (long texts) */
	int rc;
	const char *msg;        /* must occur in the message */
} bad_inode[] = {
	{ "v=2 type=f", -ENOTSUP, "v: record version 2 is newer than this client" },
	{ "v=99999999999999999999999 type=f", -ENOTSUP, "newer" },
	{ "v=0 type=f", -EINVAL, "v: \"0\" is not a record version" },
	{ "v=one", -EINVAL, "v:" },
	{ "", -EINVAL, "v: missing" },
	{ "   ", -EINVAL, "v: missing" },
	{ "hello world", -EINVAL, "\"hello\" has no '='" },
	{ "type=f v=1", -EINVAL, "v: missing" },
	{ "v=1 v=1", -EINVAL, "v: duplicate" },
	{ F_HEAD "size=0 " T_ALL, -EINVAL, "ver: missing" },
	{ "v=1 type=f mode=0644 uid=0 nlink=1 size=0 " T_ALL " ver=1", -EINVAL, "gid: missing" },
	{ F_OK " uid=3", -EINVAL, "uid: duplicate key" },
	{ F_OK " Mode=1", -EINVAL, "bad key" },
	{ F_OK " =1", -EINVAL, "empty key" },
	{ F_OK " flag", -EINVAL, "\"flag\" has no '='" },
	{ "v=1 type=f mode=0999 uid=0", -EINVAL, "mode: \"0999\" is not an octal mode" },
	{ "v=1 type=f mode=10000 uid=0", -EINVAL, "mode: \"10000\"" },
	{ "v=1 type=f mode= uid=0", -EINVAL, "mode:" },
	{ "v=1 type=x", -EINVAL, "type: \"x\"" },
	{ "v=1 type=ff", -EINVAL, "type: \"ff\"" },
	{ "v=1 type=f uid=4294967296", -ERANGE, "uid: \"4294967296\" out of range" },
	{ "v=1 type=f gid=-1", -EINVAL, "gid: \"-1\" is not a decimal number" },
	{ "v=1 type=f nlink=+1", -EINVAL, "nlink:" },
	{ "v=1 type=f size=18446744073709551616", -ERANGE, "size:" },
	{ "v=1 type=f size=9223372036854775808", -ERANGE, "size:" },
	{ "v=1 type=f ver=18446744073709551616", -ERANGE, "ver:" },
	{ "v=1 type=f mtime=1.1000000000", -ERANGE, "mtime: nanoseconds" },
	{ "v=1 type=f ctime=1.5", -EINVAL, "ctime:" },
	{ "v=1 type=f atime=1", -EINVAL, "atime:" },
	{ "v=1 type=f atime=-.000000000", -EINVAL, "atime:" },
	{ "v=1 type=f mtime=9223372036854775808.000000000", -ERANGE, "mtime: seconds" },
	{ "v=1 type=f mtime=-9223372036854775809.000000000", -ERANGE, "mtime: seconds" },
	{ "v=1 type=f uid=1\t", -EINVAL, "uid: byte 0x09" },
	{ "v=1 type=f uid=\xc3\xa9", -EINVAL, "uid: byte 0xc3" },
	{ FS("2") B("0", "2") " data=AAA=", -EINVAL, "data: not allowed together with block refs" },
	{ FS("2") " pages=1 data=AAA=", -EINVAL, "data: not allowed together with pages" },
	{ FS("2") B("0", "2") " pages=1", -EINVAL, "pages: not allowed together" },
	{ FS("1") " data=AA", -EINVAL, "data: \"AA\" is not canonical base64" },
	{ FS("1") " data=AB==", -EINVAL, "data:" },
	{ FS("1") " data=A*==", -EINVAL, "data:" },
	{ FS("2") " data=AA==", -EINVAL, "size: 2 does not match the 1 bytes" },
	{ FS("0") " target=x", -EINVAL, "target: not allowed for type f" },
	{ FS("0") " buckets=2", -EINVAL, "buckets: not allowed for type f" },
	{ FS("0") " rdev=1", -EINVAL, "rdev: not allowed for type f" },
	{ FS("0") " rep=3 ec=4+2", -EINVAL, "ec: not allowed together with rep" },
	{ FS("0") " rep=17", -ERANGE, "rep:" },
	{ FS("0") " rep=0", -ERANGE, "rep:" },
	{ FS("0") " ec=33+1", -ERANGE, "ec:" },
	{ FS("0") " ec=4+17", -ERANGE, "ec:" },
	{ FS("0") " ec=4", -EINVAL, "ec:" },
	{ FS("0") " rep=3 rep=3", -EINVAL, "rep: duplicate" },
	{ FS("10") B("0", "10") B("5", "5"), -EINVAL, "b: ref at offset 5 overlaps" },
	{ FS("10") B("5", "5") B("0", "5"), -EINVAL, "b: ref at offset 0 overlaps" },
	{ FS("10") B("0", "0"), -EINVAL, "b: ref at offset 0 has length 0" },
	{ FS("10") B("0", "11"), -EINVAL, "b: ref ends at 11, past size 10" },
	{ FS("10") " b=0:10:" HX "0", -EINVAL, "b: bad hash" },
	{ FS("10") " b=0:10:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
	  -EINVAL, "b: bad hash" },
	{ FS("10") " b=0:10:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	  -EINVAL, "b: bad hash" },
	{ FS("10") " b=0:10", -EINVAL, "b: \"0:10\" is not <offset>:<length>:<hash>" },
	{ FS("10") " b=x:10:" HX, -EINVAL, "b: offset \"x\"" },
	{ FS("10") " b=0:9223372036854775808:" HX, -ERANGE, "b: length" },
	{ FS("10") " s=0:10:2+1:" HX "," HX, -EINVAL, "s: a 2+1 stripe needs 3 hashes" },
	{ FS("10") " s=0:10:1+0:" HX "," HX, -EINVAL, "s: a 1+0 stripe needs 1 hashes" },
	{ FS("10") " s=0:10:0+1:" HX, -ERANGE, "s:" },
	{ FS("10") " s=0:10:2+1:" HX "," HX ",xyz", -EINVAL, "s: bad hash" },
	{ FS("100") B("0", "10") B("10", "10") B("20", "10") B("30", "10") B("40", "10")
	  B("50", "10") B("60", "10") B("70", "10") B("80", "10"), -E2BIG, "b/s: more than 8" },
	{ "@text", -E2BIG, "record: 1001 bytes of text (max 1000)" },
	{ "@long", -E2BIG, "record: 16385 bytes of text (max 16384)" },
	{ "@data", -E2BIG, "data: more than 8192" },
	{ "@target", -ENAMETOOLONG, "target: longer than 4095" },
	{ "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1", -EINVAL,
	  "target: missing" },
	{ "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 target=%4",
	  -EINVAL, "target: bad %-escape" },
	{ "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 target=%41",
	  -EINVAL, "target: needless %-escape" },
	{ "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 target=%00",
	  -EINVAL, "target: contains a NUL" },
	{ "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 target=a;b",
	  -EINVAL, "target: byte 0x3b must be %-encoded" },
	{ "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=2 " T_ALL " ver=1 target=a",
	  -EINVAL, "size: 2 does not match the 1-byte target" },
	{ "v=1 type=d mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 buckets=0",
	  -ERANGE, "buckets:" },
	{ "v=1 type=d mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 pages=1",
	  -EINVAL, "pages: not allowed for type d" },
	{ "v=1 type=c mode=0777 uid=0 gid=0 nlink=1 size=1 " T_ALL " ver=1 rep=2",
	  -EINVAL, "rep: not allowed for type c" },
	{ F_OK " xa=user.a", -EINVAL, "xa: \"user.a\" is not <name>:<base64>" },
	{ F_OK " xa=:YQ==", -EINVAL, "xa: empty name" },
	{ F_OK " xa=user.a%00:YQ==", -EINVAL, "xa: empty name or NUL" },
	{ F_OK " xa=user.a%3a:YQ==", -EINVAL, "xa:" },
	{ F_OK " xa=user.a:YQ", -EINVAL, "xa: value of \"user.a\" is not canonical base64" },
	{ F_OK " xa=user.b:YQ== xa=user.a:YQ==", -EINVAL, "xa: names not in increasing order" },
	{ F_OK " xa=user.a:YQ== xa=user.a:Yg==", -EINVAL, "duplicate (\"user.a\")" },
	{ "@xabig", -E2BIG, "xa: value of 4097 bytes (max 4096)" },
	{ "@xaname", -ERANGE, "xa: name longer than 255 bytes" },
};

#define NBAD_INODE ((int)(sizeof(bad_inode) / sizeof(bad_inode[0])))

START_TEST(test_malformed_inode)
{
	static char text[RECORD_TEXT_LONG_MAX + 100];
	const struct bad_case *c = &bad_inode[_i];
	struct record_inode r;
	struct err e = { 0 };
	size_t len;

	if (c->text[0] != '@') {
		len = strlen(c->text);
		memcpy(text, c->text, len + 1);
	} else if (strcmp(c->text, "@text") == 0 || strcmp(c->text, "@long") == 0) {
		/* an unknown token long enough to break the limit */
		len = (size_t)snprintf(text, sizeof(text), "%s pad=", FS("0"));
		size_t want = c->text[1] == 't' ? RECORD_TEXT_MAX + 1 : RECORD_TEXT_LONG_MAX + 1;
		memset(text + len, 'p', want - len);
		len = want;
		text[len] = '\0';
	} else if (strcmp(c->text, "@xabig") == 0 || strcmp(c->text, "@xaname") == 0) {
		len = (size_t)snprintf(text, sizeof(text), "%s xa=", FS("0"));
		if (c->text[3] == 'b') {
			memcpy(text + len, "user.a:", 7);
			len += 7;
			memset(text + len, 'A', 5460); /* 4095 bytes */
			len += 5460;
			memcpy(text + len, "AAA=", 4); /* + 2 */
			len += 4;
		} else {
			memset(text + len, 'n', 256);
			len += 256;
			memcpy(text + len, ":YQ==", 5);
			len += 5;
		}
		text[len] = '\0';
	} else if (strcmp(c->text, "@data") == 0) {
		len = (size_t)snprintf(text, sizeof(text), "%s", FS("8193"));
		for (int i = 0; i < 48; i++) {         /* 8352 bytes */
			memcpy(text + len, " data=", 6);
			len += 6;
			memset(text + len, 'A', 232); /* 174 bytes each */
			len += 232;
		}
		text[len] = '\0';
	} else {
		len = (size_t)snprintf(text, sizeof(text),
				       "v=1 type=l mode=0777 uid=0 gid=0 nlink=1 size=1 "
				       T_ALL " ver=1");
		for (int i = 0; i < 20; i++) {
			memcpy(text + len, " target=", 8);
			len += 8;
			memset(text + len, 't', 240);
			len += 240;
		}
		text[len] = '\0';
	}
	memset(&r, 0xa5, sizeof(r)); /* out need not be initialized */
	int rc = record_inode_parse_text(&r, text, len, &e);
	ck_assert_msg(rc == c->rc, "row %d: rc %d, want %d (%s) for %.60s", _i, rc, c->rc,
		      e.msg, text);
	ck_assert_msg(strstr(e.msg, c->msg) != NULL, "row %d: message \"%s\" lacks \"%s\"",
		      _i, e.msg, c->msg);
	ck_assert_int_eq(e.code, c->rc);
	ck_assert_msg(is_zero(&r, sizeof(r)), "row %d: output not empty", _i);
}
END_TEST

/* ------------------------------------------------------------------------
 * block-map pages
 * ---------------------------------------------------------------------- */

START_TEST(test_page)
{
	struct record_page p, back;
	struct hash hs[6] = { H(1), H(2), H(3), H(4), H(5), H(6) };
	char t[TEXT_BUF], t2[TEXT_BUF];
	struct err e = { 0 };

	/* the worst case RECORD_PAGE_REFS was chosen for: 4+2 stripes with the
	 * longest offsets and lengths, and the largest page number */
	record_page_init(&p);
	p.page = UINT64_MAX;
	for (int i = 0; i < RECORD_PAGE_REFS; i++)
		ck_assert_int_eq(record_refs_add_stripe(&p.refs,
							(uint64_t)(INT64_MAX / 33) * (uint64_t)(i + 1),
							(uint64_t)(INT64_MAX / 33) - 1, 4, 2, hs, &e), 0);
	int n = record_page_format(&p, t, sizeof(t), &e);
	ck_assert_msg(n > 0, "%s", e.msg);
	ck_assert_uint_le((size_t)n, RECORD_PAGE_TEXT_MAX);
	ck_assert_int_eq(record_page_parse_text(&back, t, (size_t)n, &e), 0);
	ck_assert_uint_eq(back.page, UINT64_MAX);
	ck_assert_uint_eq(back.refs.n, RECORD_PAGE_REFS);
	ck_assert_int_eq(record_page_format(&back, t2, sizeof(t2), &e), n);
	ck_assert_str_eq(t, t2);
	struct hash_list l = { .n = 0, .stop_at = 0 };
	ck_assert_int_eq(record_page_for_each_hash(&back, collect, &l), 0);
	ck_assert_int_eq(l.n, 6 * RECORD_PAGE_REFS);
	ck_assert(hash_equal(&l.h[7], &hs[1]));
	record_page_release(&back);
	/* one more is too many */
	ck_assert_int_eq(record_refs_add_block(&p.refs, INT64_MAX - 1, 1, hs, &e), 0);
	ck_assert_int_eq(record_page_format(&p, t, sizeof(t), &e), -E2BIG);
	record_page_release(&p);

	/* plain refs and unknown tokens, through strings */
	const char *in = "v=1 page=3 b=0:4096:" HX " later=yes";
	struct record_str strs[8];
	n = record_text_to_strings(in, strlen(in), strs, 8, &e);
	ck_assert_int_eq(record_page_parse(&p, strs, (size_t)n, &e), 0);
	ck_assert_uint_eq(p.page, 3);
	ck_assert_uint_eq(p.refs.n, 1);
	ck_assert_uint_eq(p.refs.v[0].len, 4096);
	ck_assert_int_eq(record_page_format(&p, t, sizeof(t), &e), (int)strlen(in));
	ck_assert_str_eq(t, in);
	record_page_release(&p);
}
END_TEST

static const struct bad_case bad_page[] = {
	{ "v=2 page=0", -ENOTSUP, "newer" },
	{ "v=1", -EINVAL, "page: missing" },
	{ "", -EINVAL, "v: missing" },
	{ "page=1", -EINVAL, "v: missing" },
	{ "v=1 page=1 page=2", -EINVAL, "page: duplicate" },
	{ "v=1 page=x", -EINVAL, "page:" },
	{ "v=1 page=1 b=0:1:" HX " b=0:1:" HX, -EINVAL, "overlaps" },
	{ "@page33", -E2BIG, "b/s: more than 32" },
	{ "v=1 page=1 s=0:1:4+2:" HX, -EINVAL, "s: a 4+2 stripe needs 6 hashes" },
};

START_TEST(test_malformed_page)
{
	const struct bad_case *c = &bad_page[_i];
	static char many[RECORD_PAGE_TEXT_MAX + 1];
	const char *text = c->text;
	struct record_page p;
	struct err e = { 0 };

	if (strcmp(text, "@page33") == 0) {
		/* one ref more than a page may hold */
		size_t n = (size_t)snprintf(many, sizeof(many), "v=1 page=1");
		for (int i = 0; i <= RECORD_PAGE_REFS; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n, " b=%d:1:%s", i, HX);
		text = many;
	}
	memset(&p, 0xa5, sizeof(p));
	ck_assert_int_eq(record_page_parse_text(&p, text, strlen(text), &e), c->rc);
	ck_assert_msg(strstr(e.msg, c->msg) != NULL, "\"%s\" lacks \"%s\"", e.msg, c->msg);
	ck_assert(is_zero(&p, sizeof(p)));
}
END_TEST

/* ------------------------------------------------------------------------
 * listing entries
 * ---------------------------------------------------------------------- */

START_TEST(test_entry)
{
	static const struct {
		const char *name;
		size_t len;
		const char *text;
	} names[] = {
		{ "hello", 5, "hello 42 f" },
		{ "hello world", 11, "hello%20world 42 f" },
		{ "say \"hi\"", 8, "say%20%22hi%22 42 f" },
		{ "100%", 4, "100%25 42 f" },
		{ "a=b;c\\d", 7, "a%3Db%3Bc%5Cd 42 f" },
		{ "\xc3\xbcnic\xc3\xb6" "de", 9, "%C3%BCnic%C3%B6de 42 f" },
		{ "tab\there\n", 9, "tab%09here%0A 42 f" },
		{ "...", 3, "... 42 f" },
		{ ".hidden", 7, ".hidden 42 f" },
	};
	struct record_entry en, back;
	char t[RECORD_TEXT_MAX + 1];
	struct err e = { 0 };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(record_entry_set(&en, names[i].name, names[i].len, 42,
						  RECORD_REG, &e), 0);
		ck_assert_int_eq(record_entry_format(&en, t, sizeof(t), &e),
				 (int)strlen(names[i].text));
		ck_assert_str_eq(t, names[i].text);
		ck_assert_int_eq(record_entry_parse_text(&back, t, strlen(t), &e), 0);
		ck_assert_uint_eq(back.namelen, names[i].len);
		ck_assert_mem_eq(back.name, names[i].name, names[i].len);
		ck_assert_uint_eq(back.ino, 42);
		ck_assert_int_eq(back.type, RECORD_REG);
	}
	/* the longest name, all bytes needing escapes: 765 bytes, 3+ strings */
	char name[RECORD_NAME_MAX];
	memset(name, 0xff, sizeof(name));
	ck_assert_int_eq(record_entry_set(&en, name, sizeof(name), UINT64_MAX, RECORD_DIR, &e), 0);
	int n = record_entry_format(&en, t, sizeof(t), &e);
	ck_assert_int_eq(n, 765 + 1 + 20 + 2);
	struct record_str strs[8];
	int ns = record_text_to_strings(t, (size_t)n, strs, 8, &e);
	ck_assert_int_eq(ns, 4);
	ck_assert_int_eq(record_entry_parse(&back, strs, (size_t)ns, &e), 0);
	ck_assert_uint_eq(back.namelen, RECORD_NAME_MAX);
	ck_assert_mem_eq(back.name, name, sizeof(name));
	ck_assert_uint_eq(back.ino, UINT64_MAX);
	ck_assert_int_eq(back.type, RECORD_DIR);
	/* formatter checks */
	en.ino = 0;
	ck_assert_int_eq(record_entry_format(&en, t, sizeof(t), &e), -EINVAL);
	ck_assert_int_eq(record_entry_set(&en, "a", 1, 1, 'x', &e), -EINVAL);
}
END_TEST

static const struct bad_case bad_entry[] = {
	{ ". 5 d", -EINVAL, "name: \".\"" },
	{ ".. 5 d", -EINVAL, "name: \"..\"" },
	{ "a/b 5 f", -EINVAL, "name: contains '/'" },
	{ "a%2Fb 5 f", -EINVAL, "name: needless" },
	{ "a%00b 5 f", -EINVAL, "name: contains a NUL" },
	{ "a%zzb 5 f", -EINVAL, "name: bad %-escape" },
	{ "a\"b 5 f", -EINVAL, "name: byte 0x22 must be %-encoded" },
	{ " 5 f", -EINVAL, "name: empty" },
	{ "a 0 f", -EINVAL, "ino: \"0\"" },
	{ "a 05 f", -EINVAL, "ino: \"05\"" },
	{ "a 18446744073709551616 f", -EINVAL, "ino:" },
	{ "a 5 x", -EINVAL, "type: \"x\"" },
	{ "a 5 ", -EINVAL, "type: \"\"" },
	{ "a 5 f extra", -EINVAL, "entry:" },
	{ "a 5", -EINVAL, "entry:" },
	{ "", -EINVAL, "entry:" },
	{ "@long", -EINVAL, "name: longer than 255" },
};

START_TEST(test_malformed_entry)
{
	const struct bad_case *c = &bad_entry[_i];
	char text[400];
	struct record_entry en;
	struct err e = { 0 };

	if (c->text[0] != '@') {
		snprintf(text, sizeof(text), "%s", c->text);
	} else {
		memset(text, 'n', 256);
		snprintf(text + 256, sizeof(text) - 256, " 5 f");
	}
	memset(&en, 0xa5, sizeof(en));
	ck_assert_int_eq(record_entry_parse_text(&en, text, strlen(text), &e), c->rc);
	ck_assert_msg(strstr(e.msg, c->msg) != NULL, "\"%s\" lacks \"%s\"", e.msg, c->msg);
	ck_assert(is_zero(&en, sizeof(en)));
}
END_TEST

/* ------------------------------------------------------------------------
 * mutation: damaged records parse cleanly or fail cleanly
 * ---------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	/* xorshift64*: the same sequence on every machine */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Damage text in place (len may change); returns the new length. */
static size_t mutate(char *t, size_t len, size_t cap)
{
	static const char interesting[] = " =%:,+.-0123456789abcdefAF\"\\;/ \t";
	int edits = 1 + (int)(rng() % 3);

	for (int i = 0; i < edits; i++) {
		size_t at = len ? rng() % len : 0;
		char c = rng() % 2 ? interesting[rng() % (sizeof(interesting) - 1)]
				   : (char)rng();

		switch (rng() % 4) {
		case 0: /* replace */
		case 1:
			if (len)
				t[at] = c;
			break;
		case 2: /* insert */
			if (len + 1 < cap) {
				memmove(t + at + 1, t + at, len - at);
				t[at] = c;
				len++;
			}
			break;
		case 3: /* delete */
			if (len) {
				memmove(t + at, t + at + 1, len - at - 1);
				len--;
			}
			break;
		}
	}
	return len;
}

/* Records the mutation test starts from, formatted by the test. */
static size_t seed_inode(int which, char *t, size_t cap)
{
	struct record_inode r;
	struct hash hs[6] = { H(1), H(2), H(3), H(4), H(5), H(6) };
	struct err e = { 0 };
	int n;

	switch (which) {
	case 0:
		base_inode(&r, RECORD_REG);
		r.size = 5000;
		r.policy = (struct record_policy){ .kind = RECORD_POLICY_EC, .k = 4, .m = 2 };
		record_refs_add_block(&r.refs, 0, 1000, hs, &e);
		record_refs_add_stripe(&r.refs, 1000, 4000, 2, 1, hs + 1, &e);
		break;
	case 1:
		base_inode(&r, RECORD_LNK);
		r.size = 11;
		record_inode_set_target(&r, "../x y/%z\xc3\xa9", 11, &e);
		break;
	case 2:
		base_inode(&r, RECORD_REG);
		r.size = 40;
		record_inode_set_data(&r, "hello, inline world! 0123456789abcdefghi", 40, &e);
		break;
	default:
		base_inode(&r, RECORD_DIR);
		r.buckets = 16;
		r.gen = 2;
		r.policy = (struct record_policy){ .kind = RECORD_POLICY_REP, .rep = 3 };
		break;
	}
	n = record_inode_format(&r, t, cap, &e);
	ck_assert_msg(n > 0, "seed %d: %s", which, e.msg);
	record_inode_release(&r);
	return (size_t)n;
}

START_TEST(test_mutation_inode)
{
	static char seed[TEXT_BUF], t[TEXT_BUF + 64], f1[TEXT_BUF], f2[TEXT_BUF];
	static const struct record_inode zero;
	int ok = 0, bad = 0;

	rng_state = 0x9E3779B97F4A7C15ull;
	/* the unknown-token path too */
	for (int which = 0; which < 5; which++) {
		size_t slen = seed_inode(which % 4, seed, sizeof(seed));

		if (which == 4) {
			memcpy(seed + slen, " new=1 zz=x", 11);
			slen += 11;
		}
		for (int iter = 0; iter < 4000; iter++) {
			struct record_inode r, r2;
			struct err e = { 0 };
			size_t len;
			int rc;

			memcpy(t, seed, slen);
			len = mutate(t, slen, sizeof(t));
			rc = record_inode_parse_text(&r, t, len, &e);
			if (rc < 0) {
				bad++;
				ck_assert_int_eq(e.code, rc);
				ck_assert_msg(e.msg[0] != '\0', "no message for %.*s", (int)len, t);
				ck_assert(memcmp(&r, &zero, sizeof(r)) == 0);
				continue;
			}
			ok++;
			int n1 = record_inode_format(&r, f1, sizeof(f1), &e);
			ck_assert_msg(n1 > 0, "parsed but does not format: %s: %.*s", e.msg,
				      (int)len, t);
			ck_assert_msg(record_inode_parse_text(&r2, f1, (size_t)n1, &e) == 0,
				      "reformat does not parse: %s: %s", e.msg, f1);
			ck_assert_int_eq(record_inode_format(&r2, f2, sizeof(f2), &e), n1);
			ck_assert_str_eq(f1, f2);
			record_inode_release(&r);
			record_inode_release(&r2);
		}
	}
	/* both paths must actually be exercised */
	ck_assert_int_gt(ok, 100);
	ck_assert_int_gt(bad, 1000);
}
END_TEST

START_TEST(test_mutation_page_entry)
{
	static char t[RECORD_TEXT_MAX + 64], f1[RECORD_TEXT_MAX + 1], f2[RECORD_TEXT_MAX + 1];
	const char *pseed = "v=1 page=7 b=0:10:" HX " s=10:20:1+1:" HX "," HX;
	const char *eseed = "caf%C3%A9%20au%20lait 123 f";
	struct err e = { 0 };
	int ok = 0;

	rng_state = 42;
	for (int iter = 0; iter < 8000; iter++) {
		size_t len;

		if (iter % 2 == 0) {
			struct record_page p, p2;

			len = strlen(pseed);
			memcpy(t, pseed, len);
			len = mutate(t, len, sizeof(t));
			if (record_page_parse_text(&p, t, len, &e) < 0) {
				ck_assert(e.msg[0] != '\0');
				ck_assert(is_zero(&p, sizeof(p)));
				continue;
			}
			ok++;
			int n = record_page_format(&p, f1, sizeof(f1), &e);
			ck_assert_msg(n > 0, "%s", e.msg);
			ck_assert_int_eq(record_page_parse_text(&p2, f1, (size_t)n, &e), 0);
			ck_assert_int_eq(record_page_format(&p2, f2, sizeof(f2), &e), n);
			ck_assert_str_eq(f1, f2);
			record_page_release(&p);
			record_page_release(&p2);
		} else {
			struct record_entry en;

			len = strlen(eseed);
			memcpy(t, eseed, len);
			len = mutate(t, len, sizeof(t));
			if (record_entry_parse_text(&en, t, len, &e) < 0) {
				ck_assert(e.msg[0] != '\0');
				ck_assert(is_zero(&en, sizeof(en)));
				continue;
			}
			ok++;
			/* entries are canonical: what parses formats back byte for byte */
			int n = record_entry_format(&en, f1, sizeof(f1), &e);
			ck_assert_int_eq(n, (int)len);
			ck_assert_mem_eq(f1, t, len);
		}
	}
	ck_assert_int_gt(ok, 50);
}
END_TEST

/* One ref token at a time, as `dnsfsctl block` passes refs around. */
START_TEST(test_ref_tokens)
{
	static const char *const good[] = {
		"b=0:1048576:df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119",
		"s=1048576:3951424:2+1:67abdd721024f0ff4e0b3f4c2fc13bc5bad42d0b7851d456d88d203d15aaa450,"
		"26b25d457597a7b0463f9620f666dd10aa2c4373a505967c7c8d70922a2d6ece,"
		"9d9f290527a6be626a8f5985b26e19b237b44872b03631811df4416fc1713178",
	};
	struct record_refs refs = { 0 };
	struct err e = { 0 };
	char buf[512];

	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(record_ref_parse(&refs, good[i], strlen(good[i]), &e), 0);
		ck_assert_int_eq(record_ref_format(&refs.v[i], buf, sizeof(buf), &e),
				 (int)strlen(good[i]));
		ck_assert_str_eq(buf, good[i]);
		/* exactly enough room, and one byte short */
		ck_assert_int_eq(record_ref_format(&refs.v[i], buf, strlen(good[i]) + 1, &e),
				 (int)strlen(good[i]));
		ck_assert_int_eq(record_ref_format(&refs.v[i], buf, strlen(good[i]), &e), -ENOSPC);
	}
	ck_assert_uint_eq(refs.n, 2);
	ck_assert_uint_eq(refs.v[1].k, 2);
	ck_assert_uint_eq(refs.v[1].m, 1);
	ck_assert_int_eq(record_ref_parse(&refs, "size=3", 6, &e), -EINVAL);
	ck_assert_int_eq(record_ref_parse(&refs, "b=1:2:zz", 8, &e), -EINVAL);
	ck_assert_int_eq(record_ref_parse(&refs, "b", 1, &e), -EINVAL);
	ck_assert_uint_eq(refs.n, 2);
	record_refs_release(&refs);
	ck_assert_uint_eq(refs.n, 0);
	ck_assert_ptr_null(refs.v);
	record_refs_release(&refs);
}
END_TEST

static Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_names_format);
	tcase_add_test(tc, test_names_limits);
	tcase_add_test(tc, test_names_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("strings");
	tcase_add_test(tc, test_strings_split);
	tcase_add_test(tc, test_presentation);
	tcase_add_test(tc, test_presentation_random);
	tcase_add_test(tc, test_presentation_errors);
	tcase_add_test(tc, test_pct);
	suite_add_tcase(s, tc);
	tc = tcase_create("inode");
	tcase_add_test(tc, test_inode_golden);
	tcase_add_test(tc, test_inode_types);
	tcase_add_test(tc, test_inode_rdev);
	tcase_add_test(tc, test_inode_inline_data);
	tcase_add_test(tc, test_inode_symlink);
	tcase_add_test(tc, test_inode_xattrs);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_inode_unknown_tokens);
	tcase_add_test(tc, test_inode_format_checks);
	suite_add_tcase(s, tc);
	tc = tcase_create("page");
	tcase_add_test(tc, test_page);
	tcase_add_test(tc, test_ref_tokens);
	suite_add_tcase(s, tc);
	tc = tcase_create("entry");
	tcase_add_test(tc, test_entry);
	suite_add_tcase(s, tc);
	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_malformed_inode, 0, NBAD_INODE);
	tcase_add_loop_test(tc, test_malformed_page, 0,
			    (int)(sizeof(bad_page) / sizeof(bad_page[0])));
	tcase_add_loop_test(tc, test_malformed_entry, 0,
			    (int)(sizeof(bad_entry) / sizeof(bad_entry[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("mutation");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mutation_inode);
	tcase_add_test(tc, test_mutation_page_entry);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(record_suite)
