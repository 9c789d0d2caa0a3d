/* Unit tests for lib/wire: names text <-> wire, the reader against hand-built
 * hostile packets (pointer loops, forward and out-of-bounds pointers, every
 * truncation), rdata canonicalization, and the writer's compression bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "wire.h"

static struct wire_name N(const char *text)
{
	struct wire_name n;
	struct err e = {0};

	ck_assert_msg(wire_name_from_text(&n, text, &e) == 0, "%s: %s", text, e.msg);
	return n;
}

static const char *T(const struct wire_name *n)
{
	static char buf[4 * WIRE_NAME_MAX + 1];

	ck_assert_int_eq(wire_name_to_text(n, buf, sizeof(buf)), 0);
	return buf;
}

/* The reader's result, heap-allocated: wire_rr holds 64 KiB of rdata. */
static struct wire_rr *rr_new(void)
{
	struct wire_rr *rr = malloc(sizeof(*rr));

	ck_assert_ptr_nonnull(rr);
	return rr;
}

/* ---- names ------------------------------------------------------------ */

START_TEST(test_text_roundtrip)
{
	static const char *const names[] = {
		"example.com.", "www.Example.COM.", ".", "a.", "a\\.b.c.", "x\\\\y.z.",
		"\\000\\255\\032.q.", "sp\\ ace.\\@\\$\\;\\(\\).", "_blockd._tcp.fs.example.",
	};
	struct wire_name n, m;
	struct err e = {0};
	char buf[4 * WIRE_NAME_MAX + 1];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = N(names[i]);
		ck_assert_int_eq(wire_name_to_text(&n, buf, sizeof(buf)), 0);
		m = N(buf);
		ck_assert_uint_eq(n.len, m.len);
		ck_assert_mem_eq(n.b, m.b, n.len);
	}
	/* wire bytes of a few */
	n = N("a\\.b.c");
	ck_assert_uint_eq(n.len, 7);
	ck_assert_mem_eq(n.b, "\x03" "a.b" "\x01" "c" "\x00", 7);
	ck_assert_str_eq(T(&n), "a\\.b.c.");
	n = N("\\097bc");
	ck_assert_str_eq(T(&n), "abc.");
	n = N("\\000\\200.");
	ck_assert_str_eq(T(&n), "\\000\\200.");
	n = N(".");
	ck_assert_uint_eq(n.len, 1);
	ck_assert_uint_eq(n.b[0], 0);
	ck_assert_str_eq(T(&n), ".");
	/* with and without the final dot: the same name */
	n = N("fs.example");
	m = N("fs.example.");
	ck_assert_uint_eq(n.len, m.len);
	ck_assert_mem_eq(n.b, m.b, n.len);
	ck_assert_int_eq(wire_name_from_text(&n, "Mixed.Case.", &e), 0);
	ck_assert_str_eq(T(&n), "Mixed.Case.");
}
END_TEST

START_TEST(test_text_errors)
{
	static const char *const bad[] = {
		"", "..", "a..b", ".a", "a.b..", "a\\", "a\\1", "a\\12", "a\\256", "a\\99x",
	};
	struct wire_name n;
	struct err e = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		ck_assert_msg(wire_name_from_text(&n, bad[i], &e) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert(e.msg[0] != '\0');
	}
}
END_TEST

/* "l1.l2...." of labels of the given lengths (filled with letters). */
static void make_text(char *out, const int *lens, int k, int final_dot)
{
	size_t o = 0;

	for (int i = 0; i < k; i++) {
		for (int j = 0; j < lens[i]; j++)
			out[o++] = (char)('a' + (i + j) % 26);
		if (i + 1 < k || final_dot)
			out[o++] = '.';
	}
	out[o] = '\0';
}

START_TEST(test_max_lengths)
{
	char text[1200], buf[4 * WIRE_NAME_MAX + 1];
	struct wire_name n, m;
	struct err e = {0};
	int l63[] = { 63 }, l64[] = { 64 };
	int l255[] = { 63, 63, 63, 61 };        /* 4*1 + 250 + root = 255 */
	int l256[] = { 63, 63, 63, 62 };

	make_text(text, l63, 1, 1);
	ck_assert_int_eq(wire_name_from_text(&n, text, &e), 0);
	ck_assert_uint_eq(n.len, 65);
	make_text(text, l64, 1, 1);
	ck_assert_int_eq(wire_name_from_text(&n, text, &e), -EINVAL);
	ck_assert(strstr(e.msg, "label") != NULL);
	for (int dot = 0; dot <= 1; dot++) {
		make_text(text, l255, 4, dot);
		ck_assert_int_eq(wire_name_from_text(&n, text, &e), 0);
		ck_assert_uint_eq(n.len, 255);
		ck_assert_int_eq(wire_name_to_text(&n, buf, sizeof(buf)), 0);
		m = N(buf);
		ck_assert_mem_eq(n.b, m.b, 255);
		make_text(text, l256, 4, dot);
		ck_assert_int_eq(wire_name_from_text(&n, text, &e), -EINVAL);
	}
	/* escapes count as one byte each */
	n = N("\\255\\255.x");
	ck_assert_uint_eq(n.len, 6);
	/* to_text: exact fit, one short */
	n = N("ab.c");
	ck_assert_int_eq(wire_name_to_text(&n, buf, 6), 0);
	ck_assert_str_eq(buf, "ab.c.");
	ck_assert_int_eq(wire_name_to_text(&n, buf, 5), -ENOSPC);
	n = N("\\001.");
	ck_assert_int_eq(wire_name_to_text(&n, buf, 6), 0);
	ck_assert_str_eq(buf, "\\001.");
	ck_assert_int_eq(wire_name_to_text(&n, buf, 5), -ENOSPC);
	n = N(".");
	ck_assert_int_eq(wire_name_to_text(&n, buf, 1), -ENOSPC);
	/* the worst case: 255 bytes all escaped */
	memset(&n, 0, sizeof(n));
	for (int i = 0; i < 4; i++) {
		n.b[i * 64] = i < 3 ? 63 : 61;
		memset(n.b + i * 64 + 1, 0xff, n.b[i * 64]);
	}
	n.len = 255;
	ck_assert_int_eq(wire_name_to_text(&n, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(strlen(buf), 250 * 4 + 4);
	m = N(buf);
	ck_assert_mem_eq(n.b, m.b, 255);
}
END_TEST

START_TEST(test_name_ops)
{
	struct wire_name n = N("WWW.Example.COM."), apex = N("example.com"), r = N(".");
	uint8_t lab[64];

	ck_assert(wire_name_equal(&n, &n));
	ck_assert(!wire_name_equal(&n, &apex));
	ck_assert(wire_name_is_subdomain(&n, &apex));
	ck_assert(wire_name_is_subdomain(&apex, &apex));
	ck_assert(wire_name_is_subdomain(&n, &r));
	ck_assert(!wire_name_is_subdomain(&apex, &n));
	struct wire_name x = N("xexample.com"), y = N("x.eexample.com"), z = N("x.example.org");
	ck_assert(!wire_name_is_subdomain(&x, &apex));
	ck_assert(!wire_name_is_subdomain(&y, &apex));
	ck_assert(!wire_name_is_subdomain(&z, &apex));
	/* a label containing a dot is not two labels */
	struct wire_name w = N("a\\.example.com"), ec = N("example.com"), com = N("com");
	ck_assert(wire_name_is_subdomain(&w, &com));
	ck_assert(!wire_name_is_subdomain(&w, &ec));
	ck_assert_int_eq(wire_name_labels(&n), 3);
	ck_assert_int_eq(wire_name_labels(&r), 0);
	ck_assert_int_eq(wire_name_labels(&w), 2);
	wire_name_lower(&n);
	ck_assert_str_eq(T(&n), "www.example.com.");
	wire_name_parent(&n);
	ck_assert(wire_name_equal(&n, &apex));
	ck_assert_mem_eq(n.b, apex.b, apex.len);
	wire_name_parent(&n);
	wire_name_parent(&n);
	ck_assert_uint_eq(n.len, 1);
	wire_name_parent(&n);           /* root stays root */
	ck_assert_uint_eq(n.len, 1);
	ck_assert_int_eq(wire_name_prepend(&n, "com", 3), 0);
	ck_assert_int_eq(wire_name_prepend(&n, "a.b", 3), 0);
	ck_assert_str_eq(T(&n), "a\\.b.com.");
	memset(lab, 'q', sizeof(lab));
	ck_assert_int_eq(wire_name_prepend(&n, lab, 64), -EINVAL);
	ck_assert_int_eq(wire_name_prepend(&n, lab, 0), -EINVAL);
	n = N(".");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(wire_name_prepend(&n, lab, 63), 0);
	ck_assert_uint_eq(n.len, 193);
	ck_assert_int_eq(wire_name_prepend(&n, lab, 62), -ENAMETOOLONG);
	ck_assert_uint_eq(n.len, 193);
	ck_assert_int_eq(wire_name_prepend(&n, lab, 61), 0);
	ck_assert_uint_eq(n.len, 255);
	ck_assert_int_eq(wire_name_prepend(&n, lab, 1), -ENAMETOOLONG);
}
END_TEST

/* ---- reader primitives -------------------------------------------------- */

START_TEST(test_rd_primitives)
{
	static const uint8_t p[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct wire_rd r;
	uint8_t b8, buf[8];
	uint16_t b16;
	uint32_t b32;

	wire_rd_init(&r, p, sizeof(p));
	ck_assert_int_eq(wire_rd_u8(&r, &b8), 0);
	ck_assert_uint_eq(b8, 1);
	ck_assert_int_eq(wire_rd_u16(&r, &b16), 0);
	ck_assert_uint_eq(b16, 0x0203);
	ck_assert_int_eq(wire_rd_u32(&r, &b32), 0);
	ck_assert_uint_eq(b32, 0x04050607);
	ck_assert_int_eq(wire_rd_u8(&r, &b8), -EBADMSG);
	ck_assert_uint_eq(r.pos, 7);
	r.pos = 5;
	ck_assert_int_eq(wire_rd_u32(&r, &b32), -EBADMSG);
	ck_assert_int_eq(wire_rd_bytes(&r, buf, 3), -EBADMSG);
	ck_assert_int_eq(wire_rd_skip(&r, 3), -EBADMSG);
	ck_assert_int_eq(wire_rd_skip(&r, (size_t)-1), -EBADMSG);
	ck_assert_uint_eq(r.pos, 5);
	ck_assert_int_eq(wire_rd_bytes(&r, buf, 2), 0);
	ck_assert_mem_eq(buf, "\x06\x07", 2);
	r.pos = 100;                    /* a cursor past the end is an error, not UB */
	ck_assert_int_eq(wire_rd_u8(&r, &b8), -EBADMSG);
}
END_TEST

/* ---- reader against hand-built packets ---------------------------------- */

/* Header with the given counts. */
static size_t hdr(uint8_t *p, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	static const uint8_t h[4] = { 0xbe, 0xef, 0x81, 0x80 };

	memcpy(p, h, 4);
	p[4] = 0; p[5] = (uint8_t)qd;
	p[6] = 0; p[7] = (uint8_t)an;
	p[8] = 0; p[9] = (uint8_t)ns;
	p[10] = 0; p[11] = (uint8_t)ar;
	return 12;
}

static int rd_name_at(const uint8_t *p, size_t len, size_t pos, struct wire_name *n)
{
	struct wire_rd r;

	wire_rd_init(&r, p, len);
	r.pos = pos;
	return wire_rd_name(&r, n);
}

START_TEST(test_rd_compression_valid)
{
	/* www.example.com A IN ?, answer: ptr(12) CNAME web + ptr(example.com) */
	static const uint8_t pkt[] = {
		0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1,
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6,
		3, 'W', 'e', 'B', 0xc0, 16,
	};
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name q;
	struct wire_rr *rr = rr_new();
	uint16_t qt, qc;

	wire_rd_init(&r, pkt, sizeof(pkt));
	ck_assert_int_eq(wire_rd_hdr(&r, &h), 0);
	ck_assert_uint_eq(h.id, 0xbeef);
	ck_assert_uint_eq(h.flags, 0x8180);
	ck_assert_uint_eq(h.qdcount, 1);
	ck_assert_uint_eq(h.ancount, 1);
	ck_assert_int_eq(wire_rd_question(&r, &q, &qt, &qc), 0);
	ck_assert_str_eq(T(&q), "www.Example.com.");
	ck_assert_uint_eq(qt, WIRE_T_A);
	ck_assert_uint_eq(qc, WIRE_C_IN);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(r.pos, sizeof(pkt));
	ck_assert_str_eq(T(&rr->owner), "www.Example.com.");      /* case as sent */
	ck_assert_uint_eq(rr->type, WIRE_T_CNAME);
	ck_assert_uint_eq(rr->ttl, 3600);
	ck_assert_uint_eq(rr->rdata_off, sizeof(pkt) - 6);
	/* rdata: decompressed and lower-cased */
	ck_assert_uint_eq(rr->rdlen, 17);
	ck_assert_mem_eq(rr->rdata, "\x03" "web" "\x07" "example" "\x03" "com" "\x00", 17);
	free(rr);
}
END_TEST

START_TEST(test_rd_bad_pointers)
{
	uint8_t p[64];
	struct wire_name n;
	size_t o;

	/* forward pointer */
	o = hdr(p, 1, 0, 0, 0);
	p[o] = 0xc0; p[o + 1] = 14; p[o + 2] = 1; p[o + 3] = 'a'; p[o + 4] = 0;
	ck_assert_int_eq(rd_name_at(p, o + 5, o, &n), -EBADMSG);
	/* pointer to itself */
	p[o] = 0xc0; p[o + 1] = (uint8_t)o;
	ck_assert_int_eq(rd_name_at(p, o + 2, o, &n), -EBADMSG);
	/* two pointers at each other: 12 -> 14 -> 12 */
	p[12] = 0xc0; p[13] = 14; p[14] = 0xc0; p[15] = 12;
	ck_assert_int_eq(rd_name_at(p, 16, 14, &n), -EBADMSG);
	ck_assert_int_eq(rd_name_at(p, 16, 12, &n), -EBADMSG);
	/* a loop through labels: a.<ptr to a> */
	p[12] = 1; p[13] = 'a'; p[14] = 0xc0; p[15] = 12;
	ck_assert_int_eq(rd_name_at(p, 16, 12, &n), -EBADMSG);
	/* ... and entered from later in the packet */
	p[16] = 1; p[17] = 'b'; p[18] = 0xc0; p[19] = 12;
	ck_assert_int_eq(rd_name_at(p, 20, 16, &n), -EBADMSG);
	/* a pointer into the middle of the labels already read for this name */
	p[12] = 1; p[13] = 0; p[14] = 0xc0; p[15] = 13;
	ck_assert_int_eq(rd_name_at(p, 16, 12, &n), -EBADMSG);
	/* out of bounds (beyond the packet; and backwards but past the end of
	 * a short buffer) */
	p[12] = 0xc0; p[13] = 0xff;
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	p[12] = 0xff; p[13] = 0xff;
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	/* a pointer missing its second byte */
	p[12] = 0xc0;
	ck_assert_int_eq(rd_name_at(p, 13, 12, &n), -EBADMSG);
	/* reserved label types */
	p[12] = 0x40; p[13] = 0;
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	p[12] = 0x80; p[13] = 0;
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	p[12] = 0x41; p[13] = 0;
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	/* a label running past the end; no root */
	p[12] = 5; p[13] = 'a';
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	p[12] = 1; p[13] = 'a';
	ck_assert_int_eq(rd_name_at(p, 14, 12, &n), -EBADMSG);
	/* failures leave the cursor alone */
	struct wire_rd r;
	wire_rd_init(&r, p, 14);
	r.pos = 12;
	ck_assert_int_eq(wire_rd_name(&r, &n), -EBADMSG);
	ck_assert_uint_eq(r.pos, 12);
	/* and a good one at last: backwards pointer to a root */
	p[12] = 0; p[13] = 1; p[14] = 'x'; p[15] = 0xc0; p[16] = 12;
	ck_assert_int_eq(rd_name_at(p, 17, 13, &n), 0);
	ck_assert_str_eq(T(&n), "x.");
}
END_TEST

START_TEST(test_rd_hops_and_length)
{
	/* A root at 12, then pointers each to the previous one: the name at
	 * the k-th pointer takes k hops. */
	uint8_t p[12 + 1 + 2 * 130];
	struct wire_name n;
	size_t o = hdr(p, 0, 0, 0, 0);

	p[o++] = 0;
	for (int k = 1; k <= 130; k++) {
		size_t prev = k == 1 ? 12 : o - 2;
		p[o] = (uint8_t)(0xc0 | prev >> 8);
		p[o + 1] = (uint8_t)prev;
		o += 2;
	}
	ck_assert_int_eq(rd_name_at(p, o, 13 + 2 * 126, &n), 0);      /* 127 hops */
	ck_assert_uint_eq(n.len, 1);
	ck_assert_int_eq(rd_name_at(p, o, 13 + 2 * 127, &n), -EBADMSG); /* 128 */

	/* Names of one 63-byte label plus a pointer to the previous one:
	 * the third is 193 bytes, the fourth would be 257. */
	uint8_t q[12 + 1 + 4 * 66];
	size_t starts[4];
	o = hdr(q, 0, 0, 0, 0);
	q[o++] = 0;
	for (int k = 0; k < 4; k++) {
		size_t prev = k == 0 ? 12 : starts[k - 1];
		starts[k] = o;
		q[o++] = 63;
		memset(q + o, 'a' + k, 63);
		o += 63;
		q[o++] = (uint8_t)(0xc0 | prev >> 8);
		q[o++] = (uint8_t)prev;
	}
	ck_assert_int_eq(rd_name_at(q, o, starts[2], &n), 0);
	ck_assert_uint_eq(n.len, 193);
	ck_assert_int_eq(rd_name_at(q, o, starts[3], &n), -EBADMSG);
	/* a 255-byte name in one piece is fine, with a 256th byte it is not */
	uint8_t s[12 + 257];
	o = hdr(s, 0, 0, 0, 0);
	for (int k = 0; k < 4; k++) {
		int l = k < 3 ? 63 : 61;
		s[o++] = (uint8_t)l;
		memset(s + o, 'z', (size_t)l);
		o += (size_t)l;
	}
	s[o++] = 0;
	ck_assert_int_eq(rd_name_at(s, o, 12, &n), 0);
	ck_assert_uint_eq(n.len, 255);
	s[12 + 3 * 64] = 62;
	s[o - 1] = 'z';
	s[o++] = 0;
	ck_assert_int_eq(rd_name_at(s, o, 12, &n), -EBADMSG);
}
END_TEST

/* A packet with every canonicalized type, compressed; built with the writer
 * but checked byte-independent (it is read back field by field). */
static size_t build_full_packet(uint8_t *buf, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { .id = 0x1234, .flags = WIRE_F_QR | WIRE_F_AA,
			      .qdcount = 1, .ancount = 4, .nscount = 1, .arcount = 4 };
	struct wire_name apex = N("fs.example."), www = N("www.fs.example.");
	struct wire_name ns1 = N("ns1.fs.example."), mail = N("mail.fs.example.");
	struct wire_name srv = N("_blockd._tcp.fs.example."), ptr = N("1.0.0.10.in-addr.arpa.");
	struct wire_name ino = N("1.i.fs.example."), root = N(".");
	uint8_t rd[600];
	size_t o;

	wire_wr_init(&w, buf, cap);
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &www);
	wire_wr_u16(&w, WIRE_T_A);
	wire_wr_u16(&w, WIRE_C_IN);
	/* CNAME */
	wire_wr_rr(&w, &www, WIRE_T_CNAME, WIRE_C_IN, 60, mail.b, mail.len);
	/* A */
	wire_wr_rr(&w, &mail, WIRE_T_A, WIRE_C_IN, 60, (const uint8_t *)"\x0a\x00\x00\x01", 4);
	/* MX */
	rd[0] = 0; rd[1] = 10;
	memcpy(rd + 2, mail.b, mail.len);
	wire_wr_rr(&w, &apex, WIRE_T_MX, WIRE_C_IN, 60, rd, (uint16_t)(2 + mail.len));
	/* SRV */
	memcpy(rd, "\x00\x00\x00\x05\x1f\x90", 6);
	memcpy(rd + 6, ns1.b, ns1.len);
	wire_wr_rr(&w, &srv, WIRE_T_SRV, WIRE_C_IN, 60, rd,
		   (uint16_t)(6 + ns1.len));
	/* SOA in authority */
	o = 0;
	memcpy(rd + o, ns1.b, ns1.len);
	o += ns1.len;
	struct wire_name hm = N("hostmaster.fs.example.");
	memcpy(rd + o, hm.b, hm.len);
	o += hm.len;
	memcpy(rd + o, "\x00\x00\x00\x07\x00\x00\x0e\x10\x00\x00\x03\x84\x00\x09\x3a\x80\x00\x00\x00\x3c", 20);
	o += 20;
	wire_wr_rr(&w, &apex, WIRE_T_SOA, WIRE_C_IN, 60, rd, (uint16_t)o);
	/* additional: NS, PTR, TXT, OPT */
	wire_wr_rr(&w, &apex, WIRE_T_NS, WIRE_C_IN, 60, ns1.b, ns1.len);
	wire_wr_rr(&w, &ptr, WIRE_T_PTR, WIRE_C_IN, 60, mail.b, mail.len);
	wire_wr_rr(&w, &ino, WIRE_T_TXT, WIRE_C_IN, 60,
		   (const uint8_t *)"\x0bv=1 type=F", 12);
	wire_wr_rr(&w, &root, WIRE_T_OPT, 1232, 0, NULL, 0);
	ck_assert(!w.overflow);
	return w.pos;
}

/* Read everything the header announces; 0 or the first error. */
static int read_all(const uint8_t *p, size_t len, struct wire_rr *rr)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name q;
	uint16_t qt, qc;
	int rc;

	wire_rd_init(&r, p, len);
	if ((rc = wire_rd_hdr(&r, &h)) < 0)
		return rc;
	for (unsigned i = 0; i < h.qdcount; i++)
		if ((rc = wire_rd_question(&r, &q, &qt, &qc)) < 0)
			return rc;
	for (unsigned i = 0; i < (unsigned)h.ancount + h.nscount + h.arcount; i++)
		if ((rc = wire_rd_rr(&r, rr)) < 0)
			return rc;
	return r.pos == len ? 0 : -EMSGSIZE;
}

START_TEST(test_rd_full_packet)
{
	uint8_t buf[2048];
	size_t len = build_full_packet(buf, sizeof(buf));
	struct wire_rr *rr = rr_new();
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name q;
	uint16_t qt, qc;
	uint32_t v;

	ck_assert_int_eq(read_all(buf, len, rr), 0);
	wire_rd_init(&r, buf, len);
	wire_rd_hdr(&r, &h);
	wire_rd_question(&r, &q, &qt, &qc);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->type, WIRE_T_CNAME);
	ck_assert_mem_eq(rr->rdata, N("mail.fs.example").b, rr->rdlen);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->rdlen, 4);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->type, WIRE_T_MX);
	ck_assert_uint_eq(rr->rdlen, 2 + 17);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->type, WIRE_T_SRV);
	ck_assert_uint_eq(rr->rdlen, 6 + 16);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->type, WIRE_T_SOA);
	ck_assert_int_eq(wire_soa_serial(rr->rdata, rr->rdlen, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(wire_soa_minimum(rr->rdata, rr->rdlen, &v), 0);
	ck_assert_uint_eq(v, 60);
	ck_assert_int_eq(wire_soa_set_serial(rr->rdata, rr->rdlen, 0xdeadbeef), 0);
	ck_assert_int_eq(wire_soa_serial(rr->rdata, rr->rdlen, &v), 0);
	ck_assert_uint_eq(v, 0xdeadbeef);
	ck_assert_int_eq(wire_soa_serial(rr->rdata, (uint16_t)(rr->rdlen - 1), &v), -EBADMSG);
	ck_assert_int_eq(wire_soa_serial(rr->rdata, (uint16_t)(rr->rdlen + 1), &v), -EBADMSG);
	free(rr);
}
END_TEST

/* Every prefix of a valid packet, copied to a heap block of exactly that size
 * (so ASan sees any read past it), must be an error. */
START_TEST(test_rd_truncated_everywhere)
{
	uint8_t buf[2048];
	size_t len = build_full_packet(buf, sizeof(buf));
	struct wire_rr *rr = rr_new();

	for (size_t l = 0; l < len; l++) {
		uint8_t *p = malloc(l ? l : 1);
		ck_assert_ptr_nonnull(p);
		memcpy(p, buf, l);
		ck_assert_msg(read_all(p, l, rr) == -EBADMSG, "prefix of %zu bytes accepted", l);
		free(p);
	}
	uint8_t *p = malloc(len);
	memcpy(p, buf, len);
	ck_assert_int_eq(read_all(p, len, rr), 0);
	free(p);
	free(rr);
}
END_TEST

/* An RR with a given type and raw rdata after a question for "a.example.". */
static size_t rr_packet(uint8_t *p, uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	size_t o = hdr(p, 1, 1, 0, 0);

	memcpy(p + o, "\x01" "a" "\x07" "example" "\x00" "\x00\x01\x00\x01", 15);
	o += 15;
	memcpy(p + o, "\xc0\x0c", 2);
	o += 2;
	p[o++] = (uint8_t)(type >> 8);
	p[o++] = (uint8_t)type;
	memcpy(p + o, "\x00\x01\x00\x00\x00\x3c", 6);
	o += 6;
	p[o++] = (uint8_t)(rdlen >> 8);
	p[o++] = (uint8_t)rdlen;
	memcpy(p + o, rd, rdlen);
	return o + rdlen;
}

START_TEST(test_rd_rdlength_mismatch)
{
	uint8_t p[256];
	struct wire_rr *rr = rr_new();
	size_t len;
	/* NS ns.<ptr to example at 14> plus one stray byte, and one short */
	static const uint8_t ns_plus[] = { 2, 'n', 's', 0xc0, 14, 0 };
	static const uint8_t ns_name[] = { 2, 'n', 's', 0xc0, 14 };

	len = rr_packet(p, WIRE_T_NS, ns_name, sizeof(ns_name));
	ck_assert_int_eq(read_all(p, len, rr), 0);
	ck_assert_uint_eq(rr->rdlen, 3 + 9);
	len = rr_packet(p, WIRE_T_NS, ns_plus, sizeof(ns_plus));
	ck_assert_int_eq(read_all(p, len, rr), -EBADMSG);
	/* rdlength says 4 but the name takes 5 (it is complete in the packet) */
	len = rr_packet(p, WIRE_T_NS, ns_name, sizeof(ns_name));
	p[len - 5 - 1] = 4;
	ck_assert_int_eq(read_all(p, len, rr), -EBADMSG);
	/* a TXT of the same bytes is copied as is */
	len = rr_packet(p, WIRE_T_TXT, ns_plus, sizeof(ns_plus));
	ck_assert_int_eq(read_all(p, len, rr), 0);
	ck_assert_uint_eq(rr->rdlen, sizeof(ns_plus));
	ck_assert_mem_eq(rr->rdata, ns_plus, sizeof(ns_plus));
	/* MX shorter than its preference */
	len = rr_packet(p, WIRE_T_MX, (const uint8_t *)"\x00", 1);
	ck_assert_int_eq(read_all(p, len, rr), -EBADMSG);
	/* MX with the name missing */
	len = rr_packet(p, WIRE_T_MX, (const uint8_t *)"\x00\x05", 2);
	ck_assert_int_eq(read_all(p, len, rr), -EBADMSG);
	/* SOA with 19 and 21 fixed bytes; 20 is right */
	uint8_t soa[4 + 21] = { 0xc0, 12, 0xc0, 14 };
	for (int fixed = 19; fixed <= 21; fixed++) {
		len = rr_packet(p, WIRE_T_SOA, soa, (uint16_t)(4 + fixed));
		ck_assert_int_eq(read_all(p, len, rr), fixed == 20 ? 0 : -EBADMSG);
	}
	/* SRV: 6 fixed bytes, then the target (decompressed when sent so) */
	static const uint8_t srv[] = { 0, 1, 0, 2, 0, 3, 1, 'X', 0xc0, 14 };
	len = rr_packet(p, WIRE_T_SRV, srv, sizeof(srv));
	ck_assert_int_eq(read_all(p, len, rr), 0);
	ck_assert_uint_eq(rr->rdlen, 6 + 2 + 9);
	ck_assert_mem_eq(rr->rdata + 6, "\x01" "x" "\x07" "example" "\x00", 11);
	len = rr_packet(p, WIRE_T_SRV, srv, 5);
	ck_assert_int_eq(read_all(p, len, rr), -EBADMSG);
	/* a pointer from rdata forward into the rdata itself */
	static const uint8_t fwd[] = { 0xc0, 40, 0 };
	len = rr_packet(p, WIRE_T_CNAME, fwd, sizeof(fwd));
	ck_assert_int_eq(read_all(p, len, rr), -EBADMSG);
	/* rdlength beyond the packet */
	len = rr_packet(p, WIRE_T_A, (const uint8_t *)"\x01\x02\x03\x04", 4);
	ck_assert_int_eq(read_all(p, len - 1, rr), -EBADMSG);
	free(rr);
}
END_TEST

START_TEST(test_rdata_lower)
{
	struct wire_name a = N("NS1.Example.COM"), b = N("Host.Master.");
	uint8_t rd[600];
	size_t o = 0;

	memcpy(rd, a.b, a.len);
	o = a.len;
	memcpy(rd + o, b.b, b.len);
	o += b.len;
	memset(rd + o, 'A', 20);        /* fixed fields are left alone */
	o += 20;
	wire_rdata_lower(WIRE_T_SOA, rd, (uint16_t)o);
	ck_assert_mem_eq(rd, N("ns1.example.com").b, a.len);
	ck_assert_mem_eq(rd + a.len, N("host.master").b, b.len);
	ck_assert_uint_eq(rd[o - 1], 'A');
	memcpy(rd, "\x04" "ABCD", 5);
	wire_rdata_lower(WIRE_T_TXT, rd, 5);
	ck_assert_mem_eq(rd, "\x04" "ABCD", 5);
	memcpy(rd, "\x00\x01\x00\x02\x00\x03" "\x01" "Q" "\x00", 9);
	wire_rdata_lower(WIRE_T_SRV, rd, 9);
	ck_assert_uint_eq(rd[7], 'q');
	/* malformed rdata is left as it is, without reading past it */
	memcpy(rd, "\x05" "AB", 3);
	wire_rdata_lower(WIRE_T_NS, rd, 3);
	ck_assert_mem_eq(rd, "\x05" "AB", 3);
}
END_TEST

/* ---- writer --------------------------------------------------------------- */

START_TEST(test_wr_compression_bytes)
{
	uint8_t buf[512];
	struct wire_wr w;
	struct wire_hdr h = { .id = 1, .qdcount = 1, .ancount = 3 };
	struct wire_name www = N("www.example.com"), mail = N("mail.example.com");
	struct wire_name ex = N("example.com"), WWW = N("WWW.example.com");

	wire_wr_init(&w, buf, sizeof(buf));
	ck_assert_int_eq(wire_wr_hdr(&w, &h), 0);
	ck_assert_int_eq(wire_wr_name(&w, &www), 0);            /* at 12, in full */
	ck_assert_uint_eq(w.pos, 12 + 17);
	ck_assert_mem_eq(buf + 12, www.b, 17);
	wire_wr_u16(&w, WIRE_T_A);
	wire_wr_u16(&w, WIRE_C_IN);
	size_t o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &www), 0);            /* whole name: pointer */
	ck_assert_uint_eq(w.pos - o, 2);
	ck_assert_mem_eq(buf + o, "\xc0\x0c", 2);
	o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &mail), 0);           /* mail + ptr to example.com at 16 */
	ck_assert_uint_eq(w.pos - o, 7);
	ck_assert_mem_eq(buf + o, "\x04" "mail" "\xc0\x10", 7);
	o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &ex), 0);
	ck_assert_mem_eq(buf + o, "\xc0\x10", 2);
	o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &WWW), 0);            /* exact match: case kept */
	ck_assert_mem_eq(buf + o, "\x03" "WWW" "\xc0\x10", 6);
	o = w.pos;
	struct wire_name sub = N("a.mail.example.com");         /* suffix of a compressed name */
	ck_assert_int_eq(wire_wr_name(&w, &sub), 0);
	ck_assert_uint_eq(w.pos - o, 4);
	ck_assert_uint_eq(buf[o], 1);
	ck_assert_uint_eq(buf[o + 2], 0xc0);
	o = w.pos;
	struct wire_name r = N(".");
	ck_assert_int_eq(wire_wr_name(&w, &r), 0);
	ck_assert_uint_eq(w.pos - o, 1);
	ck_assert_uint_eq(buf[o], 0);
	o = w.pos;
	ck_assert_int_eq(wire_wr_name_nocomp(&w, &www), 0);
	ck_assert_mem_eq(buf + o, www.b, www.len);
	ck_assert(!w.overflow);

	/* the reader gets every name back exactly */
	struct wire_name got;
	static const char *const want[] = {
		"www.example.com.", "www.example.com.", "mail.example.com.", "example.com.",
		"WWW.example.com.", "a.mail.example.com.", ".", "www.example.com.",
	};
	struct wire_rd rd;
	wire_rd_init(&rd, buf, w.pos);
	rd.pos = 12;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(wire_rd_name(&rd, &got), 0);
		ck_assert_str_eq(T(&got), want[i]);
		if (i == 0)
			rd.pos += 4;
	}
	ck_assert_uint_eq(rd.pos, w.pos);
}
END_TEST

START_TEST(test_wr_pointer_limit)
{
	static uint8_t buf[0x4100];
	struct wire_wr w;
	struct wire_name ax = N("x.example."), b = N("b.example."), ex = N("example.");

	wire_wr_init(&w, buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	w.pos = 0x3ffe;                 /* x.example. at 0x3ffe; example. at 0x4000 */
	ck_assert_int_eq(wire_wr_name(&w, &ax), 0);
	size_t o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &ax), 0);             /* 0x3ffe is reachable */
	ck_assert_mem_eq(buf + o, "\xff\xfe", 2);
	o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &b), 0);              /* 0x4000 is not */
	ck_assert_uint_eq(w.pos - o, b.len);
	ck_assert_mem_eq(buf + o, b.b, b.len);
	o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &ex), 0);
	ck_assert_uint_eq(w.pos - o, ex.len);
	struct wire_rd r;
	struct wire_name got;
	wire_rd_init(&r, buf, w.pos);
	r.pos = 0x3ffe + ax.len;
	ck_assert_int_eq(wire_rd_name(&r, &got), 0);
	ck_assert(wire_name_equal(&got, &ax));
}
END_TEST

START_TEST(test_wr_overflow)
{
	uint8_t buf[64];
	struct wire_wr w;
	struct wire_name n = N("abcdefghij.example.");          /* 20 bytes */

	for (size_t cap = 0; cap < 40; cap++) {
		memset(buf, 0xaa, sizeof(buf));
		wire_wr_init(&w, buf, cap);
		int rc = 0;
		rc |= wire_wr_u8(&w, 1);
		rc |= wire_wr_u16(&w, 2);
		rc |= wire_wr_name(&w, &n);
		rc |= wire_wr_u32(&w, 3);
		rc |= wire_wr_bytes(&w, "xyz", 3);
		if (cap >= 30) {
			ck_assert_int_eq(rc, 0);
			ck_assert(!w.overflow);
		} else {
			ck_assert_int_eq(rc, -ENOSPC);
			ck_assert(w.overflow);
			ck_assert_int_eq(wire_wr_u8(&w, 9), -ENOSPC);   /* sticky */
		}
		ck_assert_uint_le(w.pos, cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == 0xaa, "wrote byte %zu with cap %zu", i, cap);
	}
	/* a whole RR is all or nothing */
	struct wire_hdr h = {0};
	wire_wr_init(&w, buf, 40);
	wire_wr_hdr(&w, &h);
	size_t mark = wire_wr_mark(&w);
	ck_assert_int_eq(wire_wr_rr(&w, &n, WIRE_T_TXT, WIRE_C_IN, 1, (const uint8_t *)"\x03" "abc", 4),
			 -ENOSPC);
	ck_assert_uint_eq(w.pos, mark);
	ck_assert(w.overflow);
	ck_assert_uint_eq(w.ncomp, 0);
	wire_wr_rewind(&w, mark);
	ck_assert(!w.overflow);
	ck_assert_int_eq(wire_wr_u16(&w, 7), 0);
}
END_TEST

START_TEST(test_wr_rewind)
{
	uint8_t buf[256];
	struct wire_wr w;
	struct wire_name a = N("a.example."), b = N("b.other."), c = N("c.other.");

	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_name(&w, &a);
	size_t mark = wire_wr_mark(&w);
	wire_wr_name(&w, &b);
	ck_assert_uint_eq(w.ncomp, 2);
	wire_wr_rewind(&w, mark);
	ck_assert_uint_eq(w.pos, mark);
	ck_assert_uint_eq(w.ncomp, 1);
	/* c.other. must not point into the dropped b.other. */
	size_t o = w.pos;
	ck_assert_int_eq(wire_wr_name(&w, &c), 0);
	ck_assert_uint_eq(w.pos - o, c.len);
	ck_assert_mem_eq(buf + o, c.b, c.len);
	/* rewinding forward is ignored */
	wire_wr_rewind(&w, w.pos + 10);
	ck_assert_uint_eq(w.pos, o + c.len);
	/* patch inside the written bytes only */
	wire_wr_patch_u16(&w, 0, 0xabcd);
	ck_assert_mem_eq(buf, "\xab\xcd", 2);
	memset(buf + w.pos, 0x55, 2);
	wire_wr_patch_u16(&w, w.pos - 1, 0x1111);
	wire_wr_patch_u16(&w, w.pos, 0x1111);
	ck_assert_uint_eq(buf[w.pos], 0x55);
	ck_assert_uint_eq(buf[w.pos - 1], c.b[c.len - 1]);
}
END_TEST

START_TEST(test_wr_rr_rdata_names)
{
	uint8_t buf[1024], rd[600];
	struct wire_wr w;
	struct wire_name apex = N("fs.example."), ns = N("ns.fs.example.");
	struct wire_rr *rr = rr_new();
	size_t o;

	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_name(&w, &apex);                /* at 0 */
	o = w.pos;
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_NS, WIRE_C_IN, 5, ns.b, ns.len), 0);
	/* owner ptr(0), type, class, ttl, rdlength 5, "ns" ptr(0) */
	ck_assert_mem_eq(buf + o, "\xc0\x00\x00\x02\x00\x01\x00\x00\x00\x05\x00\x05\x02" "ns" "\xc0\x00", 17);
	/* SRV target written in full even though it could be compressed */
	memcpy(rd, "\x00\x01\x00\x02\x00\x03", 6);
	memcpy(rd + 6, ns.b, ns.len);
	o = w.pos;
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_SRV, WIRE_C_IN, 5, rd, (uint16_t)(6 + ns.len)), 0);
	ck_assert_uint_eq(buf[o + 10], 0);
	ck_assert_uint_eq(buf[o + 11], 6 + ns.len);
	ck_assert_mem_eq(buf + o + 12 + 6, ns.b, ns.len);
	/* MX compresses */
	memcpy(rd, "\x00\x0a", 2);
	memcpy(rd + 2, ns.b, ns.len);
	o = w.pos;
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_MX, WIRE_C_IN, 5, rd, (uint16_t)(2 + ns.len)), 0);
	ck_assert_uint_eq(buf[o + 11], 4);
	/* read them back: rdata is the canonical form given */
	struct wire_rd r;
	wire_rd_init(&r, buf, w.pos);
	r.pos = apex.len;
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->rdlen, ns.len);
	ck_assert_mem_eq(rr->rdata, ns.b, ns.len);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_uint_eq(rr->rdlen, 6 + ns.len);
	ck_assert_int_eq(wire_rd_rr(&r, rr), 0);
	ck_assert_mem_eq(rr->rdata, rd, 2u + ns.len);
	ck_assert_uint_eq(r.pos, w.pos);
	/* rdata that does not parse for its type: -EINVAL, nothing written */
	o = w.pos;
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_CNAME, WIRE_C_IN, 5, (const uint8_t *)"\x05" "ab", 3),
			 -EINVAL);
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_NS, WIRE_C_IN, 5, (const uint8_t *)"\xc0\x00", 2),
			 -EINVAL);
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_MX, WIRE_C_IN, 5, rd, 1), -EINVAL);
	ck_assert_int_eq(wire_wr_rr(&w, &apex, WIRE_T_NS, WIRE_C_IN, 5, ns.b, (uint16_t)(ns.len + 1)),
			 -EINVAL);
	ck_assert_uint_eq(w.pos, o);
	ck_assert(!w.overflow);
	free(rr);
}
END_TEST

/* Random names written with compression read back identically. */
START_TEST(test_wr_random_roundtrip)
{
	static const char *const labels[] = { "a", "B", "ccc", "example", "fs", "i", "D", "xyz" };
	uint8_t buf[8192];
	struct wire_name names[200];
	struct wire_wr w;
	unsigned seed = 12345;

	wire_wr_init(&w, buf, sizeof(buf));
	for (int i = 0; i < 200; i++) {
		struct wire_name *n = &names[i];
		n->len = 1;
		n->b[0] = 0;
		int k = (int)((seed = seed * 1103515245 + 12345) >> 16) % 6;
		for (int j = 0; j < k; j++) {
			const char *l = labels[((seed = seed * 1103515245 + 12345) >> 16) % 8];
			ck_assert_int_eq(wire_name_prepend(n, l, strlen(l)), 0);
		}
		ck_assert_int_eq(wire_wr_name(&w, n), 0);
	}
	struct wire_rd r;
	struct wire_name got;
	wire_rd_init(&r, buf, w.pos);
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(wire_rd_name(&r, &got), 0);
		ck_assert_uint_eq(got.len, names[i].len);
		ck_assert_mem_eq(got.b, names[i].b, got.len);
	}
	ck_assert_uint_eq(r.pos, w.pos);
	ck_assert_uint_lt(w.pos, 200 * 8);      /* and it did compress */
}
END_TEST

/* ---- the rest ---------------------------------------------------------- */

START_TEST(test_serial_and_names)
{
	ck_assert(wire_serial_gt(1, 0));
	ck_assert(!wire_serial_gt(0, 1));
	ck_assert(!wire_serial_gt(5, 5));
	ck_assert(wire_serial_gt(0, 0xffffffffu));
	ck_assert(wire_serial_gt(0x7fffffffu, 0));
	ck_assert(!wire_serial_gt(0x80000000u, 0));     /* undefined: not newer */
	ck_assert(!wire_serial_gt(0, 0x80000000u));
	ck_assert(wire_serial_gt(0x80000001u, 2));

	static const struct { uint16_t t; const char *s; } types[] = {
		{ WIRE_T_A, "A" }, { WIRE_T_NS, "NS" }, { WIRE_T_CNAME, "CNAME" },
		{ WIRE_T_SOA, "SOA" }, { WIRE_T_PTR, "PTR" }, { WIRE_T_MX, "MX" },
		{ WIRE_T_TXT, "TXT" }, { WIRE_T_AAAA, "AAAA" }, { WIRE_T_SRV, "SRV" },
		{ WIRE_T_OPT, "OPT" }, { WIRE_T_TSIG, "TSIG" }, { WIRE_T_IXFR, "IXFR" },
		{ WIRE_T_AXFR, "AXFR" }, { WIRE_T_ANY, "ANY" }, { 65280, "TYPE65280" },
		{ 0, "TYPE0" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		ck_assert_str_eq(wire_type_name(types[i].t), types[i].s);
	ck_assert_str_eq(wire_rcode_name(WIRE_RC_NOERROR), "NOERROR");
	ck_assert_str_eq(wire_rcode_name(WIRE_RC_NXDOMAIN), "NXDOMAIN");
	ck_assert_str_eq(wire_rcode_name(WIRE_RC_NOTZONE), "NOTZONE");
	ck_assert_str_eq(wire_rcode_name(WIRE_RC_BADKEY), "BADKEY");
	ck_assert_str_eq(wire_rcode_name(WIRE_RC_BADTIME), "BADTIME");
	ck_assert_str_eq(wire_rcode_name(99), "RCODE99");
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_test(tc, test_text_roundtrip);
	tcase_add_test(tc, test_text_errors);
	tcase_add_test(tc, test_max_lengths);
	tcase_add_test(tc, test_name_ops);
	suite_add_tcase(s, tc);
	tc = tcase_create("reader");
	tcase_add_test(tc, test_rd_primitives);
	tcase_add_test(tc, test_rd_compression_valid);
	tcase_add_test(tc, test_rd_bad_pointers);
	tcase_add_test(tc, test_rd_hops_and_length);
	tcase_add_test(tc, test_rd_full_packet);
	tcase_add_test(tc, test_rd_truncated_everywhere);
	tcase_add_test(tc, test_rd_rdlength_mismatch);
	tcase_add_test(tc, test_rdata_lower);
	suite_add_tcase(s, tc);
	tc = tcase_create("writer");
	tcase_add_test(tc, test_wr_compression_bytes);
	tcase_add_test(tc, test_wr_pointer_limit);
	tcase_add_test(tc, test_wr_overflow);
	tcase_add_test(tc, test_wr_rewind);
	tcase_add_test(tc, test_wr_rr_rdata_names);
	tcase_add_test(tc, test_wr_random_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("misc");
	tcase_add_test(tc, test_serial_and_names);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(wire_suite)
