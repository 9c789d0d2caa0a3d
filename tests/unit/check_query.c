/* Unit tests for mds/query: hand-built packets through query_process against
 * an in-memory zone and the memory store, no sockets: answer rules, negative
 * answers, CNAME chains, EDNS and truncation, malformed input, CH class,
 * placement synthesis, delegations, and signed and unsigned UPDATEs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check_main.h"
#include "hash.h"
#include "journal.h"
#include "placement.h"
#include "query.h"
#include "store.h"
#include "tsig.h"
#include "wire.h"
#include "zone.h"

#define APEX "dnsfs.test."
#define KEY_TEXT "key \"k1\" { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2Nzg=\"; };\n"

static struct event_base *base;
static struct store *st;
static struct zoneset zs;
static struct zone *tz;
static struct tsig_keyring keys;
static struct query_ctx *qc;
static struct query *q;
static int done_calls;

/* ---- building the zone ------------------------------------------------- */

static struct wire_name nm(const char *text)
{
	struct wire_name n;

	ck_assert_int_eq(wire_name_from_text(&n, text, NULL), 0);
	wire_name_lower(&n);
	return n;
}

/* Add one RR to the zone (bulk load: the rrset is rebuilt with it). */
static void add_rr(const char *owner, uint16_t type, uint32_t ttl, const void *rd,
		   uint16_t rdlen)
{
	struct wire_name n = nm(owner);
	struct zone_node *node = zone_find(tz, &n);
	struct zone_rrset *old = node ? zone_node_rrset(node, type) : NULL;
	size_t cap = (old ? old->len : 0) + 2u + rdlen;
	struct zone_rrset *s = zone_rrset_new(type, ttl, cap);
	uint32_t off = 0;
	const uint8_t *ord;
	uint16_t olen;

	ck_assert_ptr_nonnull(s);
	while (old && zone_rrset_next(old, &off, &ord, &olen))
		ck_assert_int_eq(zone_rrset_append(s, cap, ord, olen), 0);
	ck_assert_int_eq(zone_rrset_append(s, cap, rd, rdlen), 0);
	ck_assert_int_eq(zone_load(tz, &n, s), 0);
	zone_rrset_unref(s);
}

static uint16_t rd_name(uint8_t *buf, const char *text)
{
	struct wire_name n = nm(text);

	memcpy(buf, n.b, n.len);
	return n.len;
}

static void add_name_rr(const char *owner, uint16_t type, const char *target)
{
	uint8_t rd[256];

	add_rr(owner, type, 300, rd, rd_name(rd, target));
}

static void add_txt(const char *owner, const char *text)
{
	uint8_t rd[256];
	size_t n = strlen(text);

	rd[0] = (uint8_t)n;
	memcpy(rd + 1, text, n);
	add_rr(owner, WIRE_T_TXT, 60, rd, (uint16_t)(n + 1));
}

static void add_a(const char *owner, uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };

	add_rr(owner, WIRE_T_A, 300, rd, 4);
}

static void add_srv(const char *owner, uint16_t weight, const char *target)
{
	uint8_t rd[300] = { 0, 0, (uint8_t)(weight >> 8), (uint8_t)weight, 0x1f, 0x90 };

	add_rr(owner, WIRE_T_SRV, 120, rd, (uint16_t)(6 + rd_name(rd + 6, target)));
}

#define REF_HEX "ffeeddccbbaa99887766554433221100fedcba9876543210fedcba9876543210"

static void build_zone(void)
{
	uint8_t rd[600];
	uint16_t n;
	struct wire_name apex = nm(APEX);
	static const uint8_t soa_tail[20] = {
		0, 0, 0, 1,             /* serial 1 */
		0, 0, 0x0e, 0x10,       /* refresh */
		0, 0, 0x03, 0x84,       /* retry */
		0, 0x09, 0x3a, 0x80,    /* expire */
		0, 0, 0, 30,            /* minimum 30 < SOA TTL 3600 */
	};

	tz = zone_new(&apex);
	ck_assert_ptr_nonnull(tz);
	n = rd_name(rd, "ns1." APEX);
	n += rd_name(rd + n, "hostmaster." APEX);
	memcpy(rd + n, soa_tail, 20);
	add_rr(APEX, WIRE_T_SOA, 3600, rd, (uint16_t)(n + 20));
	add_name_rr(APEX, WIRE_T_NS, "ns1." APEX);
	add_a("ns1." APEX, 1);
	/* dentry -> inode */
	add_txt("1234.i." APEX, "v=1 type=f mode=0644 size=5");
	/* an inode holding one block twice: the place TXT counts 2 refs */
	add_txt("1235.i." APEX, "v=1 type=f mode=0644 size=10 b=0:5:" REF_HEX " b=5:5:" REF_HEX);
	add_name_rr("0123456789abcdef0123456789abcdef.1.d." APEX, WIRE_T_CNAME, "1234.i." APEX);
	/* a chain of two, a loop, a dangling target, one leaving the zone */
	add_name_rr("c1." APEX, WIRE_T_CNAME, "c2." APEX);
	add_name_rr("c2." APEX, WIRE_T_CNAME, "1234.i." APEX);
	add_name_rr("loop1." APEX, WIRE_T_CNAME, "loop2." APEX);
	add_name_rr("loop2." APEX, WIRE_T_CNAME, "loop1." APEX);
	add_name_rr("dangling." APEX, WIRE_T_CNAME, "nothere." APEX);
	add_name_rr("away." APEX, WIRE_T_CNAME, "www.example.com.");
	/* a large rrset: 12 x 200 bytes */
	for (int i = 0; i < 12; i++) {
		char t[201];

		snprintf(t, sizeof(t), "%02d%0198d", i, 0);
		add_txt("big." APEX, t);
	}
	/* storage nodes */
	add_srv("_blockd._tcp." APEX, 10, "blockd-1.n." APEX);
	add_srv("_blockd._tcp." APEX, 20, "blockd-2.n." APEX);
	add_srv("_blockd._tcp." APEX, 30, "blockd-3.n." APEX);
	add_a("blockd-1.n." APEX, 11);
	add_a("blockd-2.n." APEX, 12);
	add_a("blockd-3.n." APEX, 13);
	/* a delegation with glue */
	add_name_rr("sub." APEX, WIRE_T_NS, "ns.sub." APEX);
	add_a("ns.sub." APEX, 53);
	add_txt("deep.sub." APEX, "occluded");
}

static void on_done(struct query *dq)
{
	(void)dq;
	done_calls++;
}

static void setup(void)
{
	struct store_options so = { .target = "memory" };
	struct query_options qo = {0};
	struct err e = {0};

	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	so.base = base;
	st = store_new(&so, &e);
	ck_assert_msg(st != NULL, "%s", e.msg);
	memset(&zs, 0, sizeof(zs));
	build_zone();
	ck_assert_int_eq(store_create_zone(st, tz, NULL, &e), 0);
	ck_assert_int_eq(zoneset_add(&zs, tz), 0);
	memset(&keys, 0, sizeof(keys));
	ck_assert_int_eq(tsig_keyring_parse(&keys, KEY_TEXT, "test.key", &e), 0);
	qo.zones = &zs;
	qo.store = st;
	qo.keys = &keys;
	qo.version = "dnsfs-mds test";
	qo.identity = "mds-1";
	qc = query_ctx_new(&qo, &e);
	ck_assert_msg(qc != NULL, "%s", e.msg);
	q = query_new(qc);
	ck_assert_ptr_nonnull(q);
	q->transport = QUERY_UDP;
	q->owner = &q;          /* anything non-NULL: attached */
	q->on_done = on_done;
	done_calls = 0;
}

static void teardown(void)
{
	query_free(q);
	store_free(st);
	query_ctx_free(qc);
	zoneset_release(&zs);
	tsig_keyring_release(&keys);
	event_base_free(base);
}

/* ---- packets ------------------------------------------------------------ */

static uint8_t pkt[WIRE_TCP_MAX];

/* A query; edns < 0: no OPT, else an OPT of that version and payload. */
static size_t mkq_full(uint16_t id, uint16_t flags, const char *qname, uint16_t qtype,
		       uint16_t qclass, int edns, uint16_t payload)
{
	struct wire_wr w;
	struct wire_hdr h = { .id = id, .flags = flags, .qdcount = 1,
			      .arcount = edns >= 0 };
	struct wire_name n;

	ck_assert_int_eq(wire_name_from_text(&n, qname, NULL), 0);
	wire_wr_init(&w, pkt, sizeof(pkt));
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &n);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, qclass);
	if (edns >= 0) {
		wire_wr_u8(&w, 0);
		wire_wr_u16(&w, WIRE_T_OPT);
		wire_wr_u16(&w, payload);
		wire_wr_u32(&w, (uint32_t)edns << 16);
		wire_wr_u16(&w, 0);
	}
	ck_assert(!w.overflow);
	return w.pos;
}

static size_t mkq(const char *qname, uint16_t qtype)
{
	return mkq_full(0x1234, WIRE_F_RD, qname, qtype, WIRE_C_IN, -1, 0);
}

struct rrv {
	struct wire_name owner;
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rd[600];
};

struct resp {
	struct wire_hdr h;
	struct wire_name qname;
	uint16_t qtype, qclass;
	unsigned n;                     /* RRs in all sections */
	struct rrv rr[64];
	int opt;                        /* index of the OPT RR, -1 if none */
	int tsig;                       /* index of the TSIG RR, -1 if none */
};

static struct resp R;

/* Parse q's response completely with lib/wire (it must be well-formed). */
static struct resp *parse(void)
{
	static struct wire_rr rr;
	struct wire_rd r;
	unsigned total;

	memset(&R, 0, sizeof(R));
	R.opt = R.tsig = -1;
	wire_rd_init(&r, q->resp, q->resp_len);
	ck_assert_int_eq(wire_rd_hdr(&r, &R.h), 0);
	ck_assert(R.h.flags & WIRE_F_QR);
	ck_assert_uint_le(R.h.qdcount, 1);
	if (R.h.qdcount)
		ck_assert_int_eq(wire_rd_question(&r, &R.qname, &R.qtype, &R.qclass), 0);
	total = (unsigned)R.h.ancount + R.h.nscount + R.h.arcount;
	ck_assert_uint_le(total, 64);
	for (unsigned i = 0; i < total; i++) {
		ck_assert_int_eq(wire_rd_rr(&r, &rr), 0);
		R.rr[i].owner = rr.owner;
		R.rr[i].type = rr.type;
		R.rr[i].class = rr.class;
		R.rr[i].ttl = rr.ttl;
		R.rr[i].rdlen = rr.rdlen;
		memcpy(R.rr[i].rd, rr.rdata, rr.rdlen < 600 ? rr.rdlen : 600);
		if (rr.type == WIRE_T_OPT)
			R.opt = (int)i;
		if (rr.type == WIRE_T_TSIG)
			R.tsig = (int)i;
	}
	ck_assert_uint_eq(r.pos, q->resp_len);
	R.n = total;
	return &R;
}

static struct resp *ask(size_t len)
{
	ck_assert_int_eq(query_process(q, pkt, len), QUERY_RESPOND);
	return parse();
}

static int rcode(const struct resp *r)
{
	return WIRE_RCODE(r->h.flags) | (r->opt >= 0 ? (int)(r->rr[r->opt].ttl >> 24) << 4 : 0);
}

static int owner_is(const struct rrv *rr, const char *text)
{
	struct wire_name n = nm(text);

	return wire_name_equal(&rr->owner, &n);
}

/* ---- answers ------------------------------------------------------------ */

START_TEST(test_soa_authoritative)
{
	struct resp *r = ask(mkq_full(77, WIRE_F_RD, "DnSfS.TeSt.", WIRE_T_SOA, WIRE_C_IN, -1, 0));
	char text[64];

	ck_assert_uint_eq(r->h.id, 77);
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert(r->h.flags & WIRE_F_AA);
	ck_assert(r->h.flags & WIRE_F_RD);              /* copied */
	ck_assert(!(r->h.flags & WIRE_F_RA));
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_eq(r->rr[0].type, WIRE_T_SOA);
	/* the question as sent, case kept */
	wire_name_to_text(&r->qname, text, sizeof(text));
	ck_assert_str_eq(text, "DnSfS.TeSt.");
}
END_TEST

START_TEST(test_nxdomain_and_nodata)
{
	struct resp *r = ask(mkq("nope." APEX, WIRE_T_A));

	ck_assert_int_eq(rcode(r), WIRE_RC_NXDOMAIN);
	ck_assert(r->h.flags & WIRE_F_AA);
	ck_assert_uint_eq(r->h.ancount, 0);
	ck_assert_uint_eq(r->h.nscount, 1);
	ck_assert_uint_eq(r->rr[0].type, WIRE_T_SOA);
	ck_assert(owner_is(&r->rr[0], APEX));
	ck_assert_uint_eq(r->rr[0].ttl, 30);            /* min(3600, MINIMUM 30) */

	r = ask(mkq("1234.i." APEX, WIRE_T_A));         /* name exists, type does not */
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(r->h.ancount, 0);
	ck_assert_uint_eq(r->h.nscount, 1);
	ck_assert_uint_eq(r->rr[0].type, WIRE_T_SOA);

	r = ask(mkq("1.d." APEX, WIRE_T_TXT));          /* empty non-terminal */
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(r->h.ancount, 0);
	ck_assert_uint_eq(r->h.nscount, 1);
	r = ask(mkq("i." APEX, WIRE_T_A));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
}
END_TEST

START_TEST(test_refused_outside)
{
	struct resp *r = ask(mkq("www.example.com.", WIRE_T_A));

	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
	ck_assert(!(r->h.flags & WIRE_F_AA));
	ck_assert_uint_eq(r->n, 0);
	r = ask(mkq("test.", WIRE_T_SOA));              /* the parent is not ours */
	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
	r = ask(mkq_full(1, 0, APEX, WIRE_T_SOA, 4 /* HS */, -1, 0));
	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
}
END_TEST

START_TEST(test_cname_dentry)
{
	struct resp *r = ask(mkq("0123456789abcdef0123456789abcdef.1.d." APEX, WIRE_T_TXT));

	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert(r->h.flags & WIRE_F_AA);
	ck_assert_uint_eq(r->h.ancount, 2);
	ck_assert_uint_eq(r->rr[0].type, WIRE_T_CNAME);
	ck_assert_uint_eq(r->rr[1].type, WIRE_T_TXT);
	ck_assert(owner_is(&r->rr[1], "1234.i." APEX));
	ck_assert_int_eq(memcmp(r->rr[1].rd + 1, "v=1 type=f", 10), 0);
	/* asking for the CNAME itself stops there */
	r = ask(mkq("0123456789abcdef0123456789abcdef.1.d." APEX, WIRE_T_CNAME));
	ck_assert_uint_eq(r->h.ancount, 1);
	/* two hops */
	r = ask(mkq("c1." APEX, WIRE_T_TXT));
	ck_assert_uint_eq(r->h.ancount, 3);
	ck_assert_uint_eq(r->rr[2].type, WIRE_T_TXT);
	/* a chain ending in nothing: NXDOMAIN, CNAME kept, SOA in authority */
	r = ask(mkq("dangling." APEX, WIRE_T_A));
	ck_assert_int_eq(rcode(r), WIRE_RC_NXDOMAIN);
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_eq(r->h.nscount, 1);
	/* a chain ending in NODATA */
	r = ask(mkq("c1." APEX, WIRE_T_AAAA));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(r->h.ancount, 2);
	ck_assert_uint_eq(r->h.nscount, 1);
	/* out of the zone: the CNAME only */
	r = ask(mkq("away." APEX, WIRE_T_A));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_eq(r->h.nscount, 0);
	/* a loop ends, bounded */
	r = ask(mkq("loop1." APEX, WIRE_T_A));
	ck_assert_uint_ge(r->h.ancount, 2);
	ck_assert_uint_le(r->h.ancount, QUERY_CNAME_MAX);
}
END_TEST

START_TEST(test_any_and_additional)
{
	struct resp *r = ask(mkq(APEX, WIRE_T_ANY));
	int soa = 0, ns = 0;

	for (unsigned i = 0; i < r->h.ancount; i++) {
		soa += r->rr[i].type == WIRE_T_SOA;
		ns += r->rr[i].type == WIRE_T_NS;
	}
	ck_assert_int_eq(soa, 1);
	ck_assert_int_eq(ns, 1);
	/* NS answer: glue for the in-zone server */
	r = ask(mkq(APEX, WIRE_T_NS));
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_eq(r->h.arcount, 1);
	ck_assert_uint_eq(r->rr[1].type, WIRE_T_A);
	/* SRV answer: the nodes' addresses */
	r = ask(mkq("_blockd._tcp." APEX, WIRE_T_SRV));
	ck_assert_uint_eq(r->h.ancount, 3);
	ck_assert_uint_eq(r->h.arcount, 3);
}
END_TEST

START_TEST(test_delegation)
{
	struct resp *r = ask(mkq("deep.sub." APEX, WIRE_T_TXT));

	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert(!(r->h.flags & WIRE_F_AA));           /* a referral */
	ck_assert_uint_eq(r->h.ancount, 0);
	ck_assert_uint_eq(r->h.nscount, 1);
	ck_assert_uint_eq(r->rr[0].type, WIRE_T_NS);
	ck_assert(owner_is(&r->rr[0], "sub." APEX));
	ck_assert_uint_eq(r->h.arcount, 1);             /* glue */
	r = ask(mkq("nothing.sub." APEX, WIRE_T_A));    /* below the cut: still a referral */
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(r->h.nscount, 1);
}
END_TEST

/* ---- EDNS and sizes ------------------------------------------------------ */

START_TEST(test_edns)
{
	struct resp *r = ask(mkq_full(5, 0, APEX, WIRE_T_SOA, WIRE_C_IN, 0, 4096));

	ck_assert_int_ge(r->opt, 0);
	ck_assert_uint_eq(r->rr[r->opt].class, WIRE_UDP_MAX);
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	/* no OPT asked, none given */
	r = ask(mkq(APEX, WIRE_T_SOA));
	ck_assert_int_eq(r->opt, -1);
	/* version 1: BADVERS, no answer */
	r = ask(mkq_full(5, 0, APEX, WIRE_T_SOA, WIRE_C_IN, 1, 1232));
	ck_assert_int_eq(rcode(r), WIRE_RC_BADVERS);
	ck_assert_uint_eq(r->h.ancount, 0);
	ck_assert_uint_eq(r->rr[r->opt].ttl >> 16 & 0xff, 0);     /* we speak version 0 */
}
END_TEST

START_TEST(test_truncation)
{
	/* 12 x 200 bytes: over 1232 even with a bigger client payload */
	struct resp *r = ask(mkq_full(9, 0, "big." APEX, WIRE_T_TXT, WIRE_C_IN, 0, 4096));

	ck_assert(r->h.flags & WIRE_F_TC);
	ck_assert_uint_eq(r->h.ancount, 0);
	ck_assert_uint_eq(r->h.qdcount, 1);
	ck_assert_int_ge(r->opt, 0);
	ck_assert_uint_le(q->resp_len, WIRE_UDP_MAX);
	/* without EDNS: 512 */
	r = ask(mkq("big." APEX, WIRE_T_TXT));
	ck_assert(r->h.flags & WIRE_F_TC);
	ck_assert_uint_le(q->resp_len, WIRE_UDP_PLAIN);
	/* over TCP the whole rrset */
	q->transport = QUERY_TCP;
	r = ask(mkq("big." APEX, WIRE_T_TXT));
	ck_assert(!(r->h.flags & WIRE_F_TC));
	ck_assert_uint_eq(r->h.ancount, 12);
	/* a small answer over UDP without EDNS fits */
	q->transport = QUERY_UDP;
	r = ask(mkq(APEX, WIRE_T_SOA));
	ck_assert(!(r->h.flags & WIRE_F_TC));
}
END_TEST

/* ---- malformed input ------------------------------------------------------ */

START_TEST(test_malformed)
{
	size_t len = mkq(APEX, WIRE_T_SOA);

	/* no header: dropped */
	ck_assert_int_eq(query_process(q, pkt, 11), QUERY_DROP);
	ck_assert_int_eq(query_process(q, pkt, 0), QUERY_DROP);
	/* a response: never answered */
	pkt[2] |= 0x80;
	ck_assert_int_eq(query_process(q, pkt, len), QUERY_DROP);
	pkt[2] &= 0x7f;
	/* every truncation with a header is FORMERR, never a crash */
	for (size_t i = WIRE_HDR_LEN; i < len; i++)
		ck_assert_int_eq(rcode(ask(i)), WIRE_RC_FORMERR);
	/* QDCOUNT 0 and 2 */
	pkt[5] = 0;
	ck_assert_int_eq(rcode(ask(len)), WIRE_RC_FORMERR);
	pkt[5] = 2;
	ck_assert_int_eq(rcode(ask(len)), WIRE_RC_FORMERR);
	pkt[5] = 1;
	/* ANCOUNT larger than the packet */
	pkt[7] = 3;
	ck_assert_int_eq(rcode(ask(len)), WIRE_RC_FORMERR);
	pkt[7] = 0;
	/* a pointer loop as the question name */
	{
		static const uint8_t loop[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
						0xc0, 12, 0, 6, 0, 1 };

		memcpy(pkt, loop, sizeof(loop));
		ck_assert_int_eq(rcode(ask(sizeof(loop))), WIRE_RC_FORMERR);
	}
	/* two OPT records */
	len = mkq_full(3, 0, APEX, WIRE_T_SOA, WIRE_C_IN, 0, 1232);
	memcpy(pkt + len, pkt + len - 11, 11);
	pkt[11] = 2;
	ck_assert_int_eq(rcode(ask(len + 11)), WIRE_RC_FORMERR);
	/* meta types are not questions */
	ck_assert_int_eq(rcode(ask(mkq(APEX, WIRE_T_OPT))), WIRE_RC_FORMERR);
}
END_TEST

START_TEST(test_opcodes)
{
	struct resp *r = ask(mkq_full(1, 3 << 11, APEX, WIRE_T_SOA, WIRE_C_IN, -1, 0));

	ck_assert_int_eq(rcode(r), WIRE_RC_NOTIMP);
	ck_assert_uint_eq(WIRE_OPCODE(r->h.flags), 3);
	r = ask(mkq_full(1, WIRE_OP_NOTIFY << 11 | WIRE_F_AA, APEX, WIRE_T_SOA, WIRE_C_IN, -1, 0));
	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
	/* zone transfer: the hook says not implemented */
	q->transport = QUERY_TCP;
	r = ask(mkq(APEX, WIRE_T_AXFR));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOTIMP);
}
END_TEST

START_TEST(test_chaos)
{
	struct resp *r = ask(mkq_full(1, 0, "VERSION.BIND.", WIRE_T_TXT, WIRE_C_CH, -1, 0));

	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_eq(r->rr[0].class, WIRE_C_CH);
	ck_assert_int_eq(r->rr[0].rd[0], 14);
	ck_assert_int_eq(memcmp(r->rr[0].rd + 1, "dnsfs-mds test", 14), 0);
	r = ask(mkq_full(1, 0, "id.server.", WIRE_T_TXT, WIRE_C_CH, -1, 0));
	ck_assert_int_eq(memcmp(r->rr[0].rd + 1, "mds-1", 5), 0);
	r = ask(mkq_full(1, 0, "authors.bind.", WIRE_T_TXT, WIRE_C_CH, -1, 0));
	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
}
END_TEST

/* ---- placement ------------------------------------------------------------ */

START_TEST(test_place)
{
	static const char hex[] = "00112233445566778899aabbccddeeff"
				  "0123456789abcdef0123456789abcdef";
	char qn[200], want[400];
	struct placement *p = placement_new();
	struct hash h;
	size_t idx[8], n, len;
	struct resp *r;

	/* what lib/placement says, independently of the mds */
	ck_assert_int_eq(placement_add(p, "blockd-1.n." APEX, 10, NULL), 0);
	ck_assert_int_eq(placement_add(p, "blockd-2.n." APEX, 20, NULL), 0);
	ck_assert_int_eq(placement_add(p, "blockd-3.n." APEX, 30, NULL), 0);
	ck_assert_int_eq(hash_from_hex(&h, hex, 64), 0);
	n = placement_rank(p, &h, idx, 8);
	ck_assert_uint_eq(n, 3);
	len = (size_t)sprintf(want, "nodes=");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(want + len, "%s%s", i ? "," : "", p->nodes[idx[i]].id);
	sprintf(want + len, " rep=3 refs=0");       /* no record holds this block */
	placement_free(p);

	snprintf(qn, sizeof(qn), "%.32s.%.32s.place." APEX, hex, hex + 32);
	r = ask(mkq(qn, WIRE_T_TXT));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert(r->h.flags & WIRE_F_AA);
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_eq(r->rr[0].rd[0], strlen(want));
	ck_assert_int_eq(memcmp(r->rr[0].rd + 1, want, strlen(want)), 0);
	ck_assert_uint_eq(r->rr[0].ttl, 120);           /* the SRV set's */
	/* upper-case hex is the same block */
	for (char *c = qn; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	r = ask(mkq(qn, WIRE_T_TXT));
	ck_assert_int_eq(memcmp(r->rr[0].rd + 1, want, strlen(want)), 0);
	/* other types: NODATA; the level above: NODATA; bad labels: NXDOMAIN */
	snprintf(qn, sizeof(qn), "%.32s.%.32s.place." APEX, hex, hex + 32);
	ck_assert_uint_eq(ask(mkq(qn, WIRE_T_A))->h.ancount, 0);
	ck_assert_int_eq(rcode(ask(mkq(qn + 33, WIRE_T_TXT))), WIRE_RC_NOERROR);
	ck_assert_int_eq(rcode(ask(mkq("place." APEX, WIRE_T_TXT))), WIRE_RC_NOERROR);
	snprintf(qn, sizeof(qn), "%.31sg.%.32s.place." APEX, hex, hex + 32);
	ck_assert_int_eq(rcode(ask(mkq(qn, WIRE_T_TXT))), WIRE_RC_NXDOMAIN);
	snprintf(qn, sizeof(qn), "%.30s.%.32s.place." APEX, hex, hex + 32);
	ck_assert_int_eq(rcode(ask(mkq(qn, WIRE_T_TXT))), WIRE_RC_NXDOMAIN);
	snprintf(qn, sizeof(qn), "x.%.32s.%.32s.place." APEX, hex, hex + 32);
	ck_assert_int_eq(rcode(ask(mkq(qn, WIRE_T_TXT))), WIRE_RC_NXDOMAIN);
	/* refs=: how many times committed records reference the block (GC) */
	snprintf(qn, sizeof(qn), "%.32s.%.32s.place." APEX, REF_HEX, &REF_HEX[32]);
	r = ask(mkq(qn, WIRE_T_TXT));
	ck_assert_uint_eq(r->h.ancount, 1);
	ck_assert_uint_ge(r->rr[0].rd[0], 7);
	ck_assert_int_eq(memcmp(r->rr[0].rd + 1 + r->rr[0].rd[0] - 7, " refs=2", 7), 0);
}
END_TEST

/* ---- UPDATE ----------------------------------------------------------------- */

static struct tsig_key req_key;         /* what the last signed request used */
static struct tsig_ctx req_ctx;         /* its MAC, to verify the answer */

/* Append a TSIG RR to the len-byte message in pkt, signed with keys[0] or,
 * when wrong_secret, with a key of that name but another secret. */
static size_t sign_pkt(size_t len, int wrong_secret)
{
	struct wire_wr w;

	req_key = keys.keys[0];
	if (wrong_secret)
		req_key.secret[0] ^= 1;
	memset(&req_ctx, 0, sizeof(req_ctx));
	req_ctx.key = &req_key;
	wire_wr_init(&w, pkt, sizeof(pkt));
	w.pos = len;
	ck_assert_int_eq(tsig_sign(&req_ctx, &w, time(NULL), NULL), 0);
	return w.pos;
}

/* An UPDATE of APEX adding one TXT RR at owner; signed with keys[0] (or
 * a key of another secret when wrong_secret) unless sign is 0. */
static size_t mkupdate(const char *owner, const char *text, int sign, int wrong_secret)
{
	struct wire_wr w;
	struct wire_hdr h = { .id = 4321, .flags = WIRE_OP_UPDATE << 11, .qdcount = 1,
			      .nscount = 1 };
	struct wire_name zn = nm(APEX), on = nm(owner);
	size_t n = strlen(text);

	wire_wr_init(&w, pkt, sizeof(pkt) - TSIG_RR_MAX);
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &zn);
	wire_wr_u16(&w, WIRE_T_SOA);
	wire_wr_u16(&w, WIRE_C_IN);
	wire_wr_name(&w, &on);
	wire_wr_u16(&w, WIRE_T_TXT);
	wire_wr_u16(&w, WIRE_C_IN);
	wire_wr_u32(&w, 60);
	wire_wr_u16(&w, (uint16_t)(n + 1));
	wire_wr_u8(&w, (uint8_t)n);
	wire_wr_bytes(&w, text, n);
	ck_assert(!w.overflow);
	return sign ? sign_pkt(w.pos, wrong_secret) : w.pos;
}

static struct resp *ask_update(size_t len)
{
	enum query_result res = query_process(q, pkt, len);

	if (res == QUERY_DEFERRED) {
		for (int i = 0; i < 1000 && done_calls == 0; i++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ck_assert_int_eq(done_calls, 1);
		ck_assert_uint_eq(query_ctx_pending(qc), 0);
	} else {
		ck_assert_int_eq(res, QUERY_RESPOND);
	}
	return parse();
}

static int has_name(const char *text)
{
	struct wire_name n = nm(text);

	return zone_find(tz, &n) != NULL;
}

START_TEST(test_update_signed)
{
	uint32_t serial = tz->serial, last;
	struct resp *r = ask_update(mkupdate("new." APEX, "hello", 1, 0));

	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(WIRE_OPCODE(r->h.flags), WIRE_OP_UPDATE);
	ck_assert_int_ge(r->tsig, 0);                   /* the answer is signed */
	ck_assert(has_name("new." APEX));
	ck_assert_uint_eq(tz->serial, serial + 1);
	ck_assert_uint_eq(query_ctx_stats(qc)->updates, 1);
	/* durable, so it is in the IXFR journal */
	ck_assert_uint_eq(journal_count(query_ctx_journal(qc, tz)), 1);
	ck_assert_int_eq(journal_last_serial(query_ctx_journal(qc, tz), &last), 0);
	ck_assert_uint_eq(last, serial + 1);
	/* the answer verifies as a response to that request */
	ck_assert_int_eq(tsig_verify_response(&req_ctx, q->resp, q->resp_len, time(NULL),
					      NULL), 0);
	/* and the new record is served */
	r = ask(mkq("new." APEX, WIRE_T_TXT));
	ck_assert_uint_eq(r->h.ancount, 1);
	/* the same update again changes nothing: no new serial */
	r = ask_update(mkupdate("new." APEX, "hello", 1, 0));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_uint_eq(tz->serial, serial + 1);
}
END_TEST

START_TEST(test_update_refused)
{
	uint32_t serial = tz->serial;
	struct resp *r = ask_update(mkupdate("unsigned." APEX, "x", 0, 0));

	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
	ck_assert_int_eq(r->tsig, -1);
	ck_assert(!has_name("unsigned." APEX));
	r = ask_update(mkupdate("badsig." APEX, "x", 1, 1));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOTAUTH);
	ck_assert_int_ge(r->tsig, 0);                   /* carries the TSIG error */
	ck_assert(!has_name("badsig." APEX));
	ck_assert_uint_eq(tz->serial, serial);
	ck_assert_uint_eq(query_ctx_stats(qc)->updates, 0);
	/* a signed query gets a signed answer that verifies */
	r = ask(sign_pkt(mkq(APEX, WIRE_T_SOA), 0));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_int_ge(r->tsig, 0);
	ck_assert_int_eq(tsig_verify_response(&req_ctx, q->resp, q->resp_len, time(NULL),
					      NULL), 0);
	/* and a badly signed one gets NOTAUTH and no data */
	r = ask(sign_pkt(mkq(APEX, WIRE_T_SOA), 1));
	ck_assert_int_eq(rcode(r), WIRE_RC_NOTAUTH);
	ck_assert_uint_eq(r->h.ancount, 0);
}
END_TEST

START_TEST(test_update_detached)
{
	/* the connection went away while the store committed: no callback,
	 * the query frees itself (ASan would see a leak or a use after free) */
	struct query *dq = query_new(qc);
	size_t len = mkupdate("detached." APEX, "x", 1, 0);
	enum query_result res;

	dq->transport = QUERY_TCP;
	dq->owner = &dq;
	dq->on_done = on_done;
	res = query_process(dq, pkt, len);
	if (res == QUERY_DEFERRED) {
		dq->owner = NULL;
		for (int i = 0; i < 1000 && query_ctx_pending(qc) > 0; i++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ck_assert_uint_eq(query_ctx_pending(qc), 0);
		ck_assert_int_eq(done_calls, 0);
	} else {
		query_free(dq);
	}
	ck_assert(has_name("detached." APEX));
}
END_TEST

/* What the response observer saw. */
struct seen {
	int responses;
	int result[QUERY_UPDATE_FAILED + 1];    /* by enum query_update_result */
	int last_rcode;
	int last_has_question;
};

static void observe(void *arg, const struct query *oq)
{
	struct seen *sn = arg;

	ck_assert_uint_gt(oq->resp_len, 0);
	sn->responses++;
	sn->result[query_update_result(oq)]++;
	sn->last_rcode = oq->rcode;
	sn->last_has_question = oq->has_question;
}

START_TEST(test_observer)
{
	struct seen sn = {0};
	struct resp *r;
	size_t len;

	query_ctx_set_observer(qc, observe, &sn);
	r = ask(mkq("nope." APEX, WIRE_T_A));
	ck_assert_int_eq(sn.responses, 1);
	ck_assert_int_eq(sn.result[QUERY_UPDATE_NONE], 1);
	ck_assert_int_eq(sn.last_rcode, WIRE_RC_NXDOMAIN);
	/* an applied update is seen once, when the store has answered */
	len = mkupdate("seen." APEX, "x", 1, 0);
	if (query_process(q, pkt, len) == QUERY_DEFERRED) {
		ck_assert_int_eq(sn.responses, 1);
		for (int i = 0; i < 1000 && done_calls == 0; i++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	ck_assert_int_eq(sn.responses, 2);
	ck_assert_int_eq(sn.result[QUERY_UPDATE_APPLIED], 1);
	r = ask_update(mkupdate("seen." APEX, "x", 1, 0));     /* again: nothing to do */
	ck_assert_int_eq(rcode(r), WIRE_RC_NOERROR);
	ck_assert_int_eq(sn.result[QUERY_UPDATE_NOOP], 1);
	r = ask_update(mkupdate("unsigned." APEX, "x", 0, 0));
	ck_assert_int_eq(rcode(r), WIRE_RC_REFUSED);
	r = ask_update(mkupdate("badsig." APEX, "x", 1, 1));
	ck_assert_int_eq(sn.last_rcode, WIRE_RC_NOTAUTH);
	ck_assert_int_eq(sn.result[QUERY_UPDATE_REFUSED], 2);
	ck_assert_int_eq(sn.result[QUERY_UPDATE_FAILED], 0);
	ck_assert_int_eq(sn.responses, 5);
	/* a response (QR set) gets no answer, so it is not seen */
	len = mkq(APEX, WIRE_T_SOA);
	pkt[2] |= 0x80;
	ck_assert_int_eq(query_process(q, pkt, len), QUERY_DROP);
	ck_assert_int_eq(sn.responses, 5);
	/* removed: no more calls */
	query_ctx_set_observer(qc, NULL, &sn);
	ask(mkq(APEX, WIRE_T_SOA));
	ck_assert_int_eq(sn.responses, 5);
}
END_TEST

static Suite *query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("answers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_soa_authoritative);
	tcase_add_test(tc, test_nxdomain_and_nodata);
	tcase_add_test(tc, test_refused_outside);
	tcase_add_test(tc, test_cname_dentry);
	tcase_add_test(tc, test_any_and_additional);
	tcase_add_test(tc, test_delegation);
	tcase_add_test(tc, test_chaos);
	tcase_add_test(tc, test_place);
	suite_add_tcase(s, tc);
	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_edns);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_opcodes);
	suite_add_tcase(s, tc);
	tc = tcase_create("update");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_update_signed);
	tcase_add_test(tc, test_update_refused);
	tcase_add_test(tc, test_update_detached);
	tcase_add_test(tc, test_observer);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(query_suite)
