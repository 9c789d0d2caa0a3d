/* Unit tests for mds/xfr: AXFR and IXFR streams through query_process and
 * query_next against an in-memory zone and the memory store, no sockets:
 * message shape and TSIG chaining, every RR exactly once, the snapshot
 * holding while updates commit mid-transfer, and the IXFR answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check_main.h"
#include "journal.h"
#include "query.h"
#include "store.h"
#include "tsig.h"
#include "wire.h"
#include "xfr.h"
#include "zone.h"

#define APEX "dnsfs.test."
#define NNAMES 300                      /* inodes in the test zone */
#define MSG_MAX 1500                    /* small messages: many per transfer */
#define KEYS "key \"k1\" { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2Nzg=\"; };\n" \
	     "key \"k2\" { algorithm hmac-sha256; secret \"b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcjEyMzQ1Njc=\"; };\n"

static struct event_base *base;
static struct store *st;
static struct zoneset zs;
static struct zone *tz;
static struct tsig_keyring keys;
static struct xfr_ctx *xc;
static struct query_ctx *qc;
static int done_calls;

/* ---- the zone ------------------------------------------------------------ */

static struct wire_name nm(const char *text)
{
	struct wire_name n;

	ck_assert_int_eq(wire_name_from_text(&n, text, NULL), 0);
	wire_name_lower(&n);
	return n;
}

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

static void add_txt(const char *owner, const char *text)
{
	uint8_t rd[256];
	size_t n = strlen(text);

	rd[0] = (uint8_t)n;
	memcpy(rd + 1, text, n);
	add_rr(owner, WIRE_T_TXT, 60, rd, (uint16_t)(n + 1));
}

static void build_zone(void)
{
	static const uint8_t soa_tail[20] = {
		0, 0, 0, 10, 0, 0, 0x0e, 0x10, 0, 0, 0x03, 0x84, 0, 0x09, 0x3a, 0x80,
		0, 0, 0, 30,
	};
	struct wire_name apex = nm(APEX), ns = nm("ns1." APEX), hm = nm("hostmaster." APEX);
	uint8_t rd[600], a[4] = { 127, 0, 0, 1 };
	char owner[128], text[128];
	uint16_t n = 0;

	tz = zone_new(&apex);
	ck_assert_ptr_nonnull(tz);
	memcpy(rd, ns.b, ns.len);
	n = ns.len;
	memcpy(rd + n, hm.b, hm.len);
	n += hm.len;
	memcpy(rd + n, soa_tail, 20);
	add_rr(APEX, WIRE_T_SOA, 3600, rd, (uint16_t)(n + 20));
	add_rr(APEX, WIRE_T_NS, 3600, ns.b, ns.len);
	add_rr("ns1." APEX, WIRE_T_A, 3600, a, 4);
	for (int i = 0; i < NNAMES; i++) {
		snprintf(owner, sizeof(owner), "%d.i." APEX, 1000 + i);
		snprintf(text, sizeof(text), "v=1 type=f mode=0644 size=%d", i);
		add_txt(owner, text);
		if (i % 7 == 0)
			add_txt(owner, "second string of a two-RR set");
	}
}

/* ---- fixtures -------------------------------------------------------------- */

static void on_done(struct query *dq)
{
	(void)dq;
	done_calls++;
}

static void make_ctx(const char *xfr_key, size_t msg_max)
{
	struct xfr_options xo = { .key = xfr_key, .msg_max = msg_max };
	struct query_options qo = {0};
	struct err e = {0};

	xc = xfr_ctx_new(&xo, &e);
	ck_assert_msg(xc != NULL, "%s", e.msg);
	qo.zones = &zs;
	qo.store = st;
	qo.keys = &keys;
	qo.xfr = xc;
	qc = query_ctx_new(&qo, &e);
	ck_assert_msg(qc != NULL, "%s", e.msg);
}

static void free_ctx(void)
{
	query_ctx_free(qc);
	xfr_ctx_free(xc);
	qc = NULL;
	xc = NULL;
}

static void setup(void)
{
	struct store_options so = { .target = "memory" };
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
	ck_assert_int_eq(tsig_keyring_parse(&keys, KEYS, "test.key", &e), 0);
	make_ctx(NULL, MSG_MAX);
	done_calls = 0;
}

static void teardown(void)
{
	store_free(st);
	free_ctx();
	zoneset_release(&zs);
	tsig_keyring_release(&keys);
	event_base_free(base);
}

/* ---- requests --------------------------------------------------------------- */

static uint8_t pkt[WIRE_TCP_MAX];
static struct tsig_key req_key;
static struct tsig_ctx req_ctx;         /* the request's MAC: answers chain to it */

/* Sign the len bytes in pkt with key ki (-1: leave unsigned); bad: flip a bit
 * of the secret. */
static size_t sign(size_t len, int ki, int bad)
{
	struct wire_wr w;

	memset(&req_ctx, 0, sizeof(req_ctx));
	if (ki < 0)
		return len;
	req_key = keys.keys[ki];
	if (bad)
		req_key.secret[0] ^= 1;
	req_ctx.key = &req_key;
	wire_wr_init(&w, pkt, sizeof(pkt));
	w.pos = len;
	ck_assert_int_eq(tsig_sign(&req_ctx, &w, time(NULL), NULL), 0);
	return w.pos;
}

static int omit_soa;                    /* mkxfr: an IXFR without the client's SOA */

/* An AXFR or IXFR request (IXFR: with the client's SOA at serial). */
static size_t mkxfr(const char *qname, uint16_t qtype, uint32_t serial, int ki)
{
	struct wire_hdr h = { .id = 777, .qdcount = 1,
			      .nscount = qtype == WIRE_T_IXFR && !omit_soa };
	struct wire_name qn = nm(qname), ns = nm("ns1." APEX), hm = nm("hostmaster." APEX);
	struct wire_wr w;
	uint8_t tail[20] = {0};

	wire_wr_init(&w, pkt, sizeof(pkt) - TSIG_RR_MAX);
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &qn);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, WIRE_C_IN);
	if (h.nscount > 0) {
		wire_wr_name(&w, &qn);
		wire_wr_u16(&w, WIRE_T_SOA);
		wire_wr_u16(&w, WIRE_C_IN);
		wire_wr_u32(&w, 3600);
		wire_wr_u16(&w, (uint16_t)(ns.len + hm.len + 20));
		wire_wr_bytes(&w, ns.b, ns.len);
		wire_wr_bytes(&w, hm.b, hm.len);
		tail[0] = (uint8_t)(serial >> 24);
		tail[1] = (uint8_t)(serial >> 16);
		tail[2] = (uint8_t)(serial >> 8);
		tail[3] = (uint8_t)serial;
		wire_wr_bytes(&w, tail, 20);
	}
	ck_assert(!w.overflow);
	return sign(w.pos, ki, 0);
}

/* ---- UPDATEs ----------------------------------------------------------------- */

static struct wire_wr uw;
static uint8_t upkt[WIRE_TCP_MAX];
static unsigned nupd;

static void upd_begin(void)
{
	struct wire_hdr h = { .id = 4321, .flags = WIRE_OP_UPDATE << 11, .qdcount = 1 };
	struct wire_name zn = nm(APEX);

	wire_wr_init(&uw, upkt, sizeof(upkt) - TSIG_RR_MAX);
	wire_wr_hdr(&uw, &h);
	wire_wr_name(&uw, &zn);
	wire_wr_u16(&uw, WIRE_T_SOA);
	wire_wr_u16(&uw, WIRE_C_IN);
	nupd = 0;
}

static void upd_rr(const char *owner, uint16_t type, uint16_t class, uint32_t ttl,
		   const void *rd, uint16_t rdlen)
{
	struct wire_name on = nm(owner);

	wire_wr_name(&uw, &on);
	wire_wr_u16(&uw, type);
	wire_wr_u16(&uw, class);
	wire_wr_u32(&uw, ttl);
	wire_wr_u16(&uw, rdlen);
	wire_wr_bytes(&uw, rd, rdlen);
	ck_assert(!uw.overflow);
	nupd++;
}

static void upd_add_txt(const char *owner, const char *text)
{
	uint8_t rd[256];
	size_t n = strlen(text);

	rd[0] = (uint8_t)n;
	memcpy(rd + 1, text, n);
	upd_rr(owner, WIRE_T_TXT, WIRE_C_IN, 60, rd, (uint16_t)(n + 1));
}

static void upd_del_name(const char *owner)
{
	upd_rr(owner, WIRE_T_ANY, WIRE_C_ANY, 0, "", 0);
}

/* Send the UPDATE; durable: pump the loop until the store has it. Returns
 * the query (freed by the caller) when not durable yet. */
static struct query *upd_send(int durable)
{
	struct query *u = query_new(qc);
	struct tsig_key k = keys.keys[0];
	struct tsig_ctx ctx = { .key = &k };
	enum query_result res;

	ck_assert_ptr_nonnull(u);
	wire_wr_patch_u16(&uw, 8, (uint16_t)nupd);
	ck_assert_int_eq(tsig_sign(&ctx, &uw, time(NULL), NULL), 0);
	u->transport = QUERY_TCP;
	u->owner = &u;
	u->on_done = on_done;
	done_calls = 0;
	res = query_process(u, upkt, uw.pos);
	ck_assert_int_eq(res, QUERY_DEFERRED);
	if (!durable)
		return u;
	for (int i = 0; i < 1000 && done_calls == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_int_eq(WIRE_RCODE(u->resp[3]), WIRE_RC_NOERROR);
	query_free(u);
	return NULL;
}

static void pump_durable(void)
{
	for (int i = 0; i < 1000 && query_ctx_pending(qc) > 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(query_ctx_pending(qc), 0);
}

/* ---- transfers as a client sees them --------------------------------------- */

#define RR_MAX 4000

/* One RR of a transfer, as text: "owner TYPE ttl hex-rdata". */
struct xrr {
	char s[700];
	uint16_t type;
	uint32_t serial;                /* SOA only */
};

struct xfer {
	int rcode;                      /* of the first message */
	unsigned nmsg;
	size_t max_len;                 /* largest message */
	unsigned n;                     /* RRs in all answer sections */
	struct xrr rr[RR_MAX];
	int qd_after_first;             /* a later message repeated the question */
	int unsigned_msgs;              /* messages without a TSIG */
};

static struct xfer X;

static void rr_text(struct xrr *x, const struct wire_rr *rr)
{
	char owner[WIRE_NAME_MAX * 4 + 2];
	struct wire_name o = rr->owner;
	int p;

	wire_name_lower(&o);
	wire_name_to_text(&o, owner, sizeof(owner));
	p = snprintf(x->s, sizeof(x->s), "%s %u %u ", owner, rr->type, rr->ttl);
	for (unsigned i = 0; i < rr->rdlen && p < (int)sizeof(x->s) - 3; i++)
		p += snprintf(x->s + p, sizeof(x->s) - (size_t)p, "%02x", rr->rdata[i]);
	x->type = rr->type;
	x->serial = 0;
	if (rr->type == WIRE_T_SOA)
		wire_soa_serial(rr->rdata, rr->rdlen, &x->serial);
}

/* Check one message (TSIG chain when signed) and collect its answers. */
static void take_msg(const struct query *q, int signed_)
{
	static struct wire_rr rr;
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name qn;
	uint16_t qt, qcl;
	size_t tsig_off;
	struct err e = {0};

	ck_assert_uint_gt(q->resp_len, 0);
	ck_assert_uint_le(q->resp_len, WIRE_TCP_MAX);
	if (q->resp_len > X.max_len)
		X.max_len = q->resp_len;
	wire_rd_init(&r, q->resp, q->resp_len);
	ck_assert_int_eq(wire_rd_hdr(&r, &h), 0);
	ck_assert_uint_eq(h.id, 777);
	ck_assert(h.flags & WIRE_F_QR);
	if (X.nmsg == 0)
		X.rcode = WIRE_RCODE(h.flags);
	else
		ck_assert_int_eq(WIRE_RCODE(h.flags), WIRE_RC_NOERROR);
	if (X.nmsg > 0 && h.qdcount > 0)
		X.qd_after_first = 1;
	for (unsigned i = 0; i < h.qdcount; i++)
		ck_assert_int_eq(wire_rd_question(&r, &qn, &qt, &qcl), 0);
	for (unsigned i = 0; i < h.ancount; i++) {
		ck_assert_int_eq(wire_rd_rr(&r, &rr), 0);
		ck_assert_uint_lt(X.n, RR_MAX);
		rr_text(&X.rr[X.n++], &rr);
	}
	if (tsig_find(q->resp, q->resp_len, &tsig_off) != 1) {
		X.unsigned_msgs++;
	} else if (signed_) {
		ck_assert_msg(tsig_verify_response(&req_ctx, q->resp, q->resp_len, time(NULL),
						   &e) == 0, "message %u: %s", X.nmsg, e.msg);
	}
	X.nmsg++;
}

/* Run a transfer to its end; between messages `between(k)` may act (k: the
 * message just taken). Returns the query result of the first call. */
static enum query_result xfer(size_t len, enum query_transport tr, int signed_,
			      void (*between)(unsigned k))
{
	struct query *q = query_new(qc);
	enum query_result res, first;

	ck_assert_ptr_nonnull(q);
	memset(&X, 0, sizeof(X));
	q->transport = tr;
	q->owner = &q;
	q->on_done = on_done;
	first = res = query_process(q, pkt, len);
	while (res == QUERY_STREAM || res == QUERY_RESPOND) {
		take_msg(q, signed_);
		if (res == QUERY_RESPOND)
			break;
		if (between != NULL)
			between(X.nmsg);
		res = query_next(q);
	}
	ck_assert_int_ne(res, QUERY_DROP);
	query_free(q);
	return first;
}

/* The zone's RRs now (SOA once), as sorted text. */
static struct xrr zrr[RR_MAX];
static unsigned nzrr;

static void zone_rr_cb(const struct wire_name *name, const struct zone_rrset *s, void *arg)
{
	static struct wire_rr rr;
	uint32_t off = 0;
	const uint8_t *rd;
	uint16_t rdlen;

	(void)arg;
	while (zone_rrset_next(s, &off, &rd, &rdlen)) {
		rr.owner = *name;
		rr.type = s->type;
		rr.ttl = s->ttl;
		rr.rdlen = rdlen;
		memcpy(rr.rdata, rd, rdlen);
		ck_assert_uint_lt(nzrr, RR_MAX);
		rr_text(&zrr[nzrr++], &rr);
	}
}

static int xrr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xrr *)a)->s, ((const struct xrr *)b)->s);
}

static void zone_snapshot(void)
{
	nzrr = 0;
	zone_foreach(tz, zone_rr_cb, NULL);
	qsort(zrr, nzrr, sizeof(zrr[0]), xrr_cmp);
}

/* X holds SOA, the zone (each RR once), SOA: compare with zrr. */
static void check_full(uint32_t serial)
{
	static struct xrr body[RR_MAX];
	unsigned n;

	ck_assert_int_eq(X.rcode, WIRE_RC_NOERROR);
	ck_assert_uint_ge(X.n, 2);
	ck_assert_uint_eq(X.rr[0].type, WIRE_T_SOA);
	ck_assert_uint_eq(X.rr[X.n - 1].type, WIRE_T_SOA);
	ck_assert_uint_eq(X.rr[0].serial, serial);
	ck_assert_str_eq(X.rr[0].s, X.rr[X.n - 1].s);
	n = X.n - 1;                    /* the first SOA and the body */
	memcpy(body, X.rr, n * sizeof(body[0]));
	qsort(body, n, sizeof(body[0]), xrr_cmp);
	ck_assert_uint_eq(n, nzrr);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_msg(strcmp(body[i].s, zrr[i].s) == 0, "RR %u: sent %s, zone %s", i,
			      body[i].s, zrr[i].s);
		if (i > 0)
			ck_assert_msg(strcmp(body[i].s, body[i - 1].s) != 0, "sent twice: %s",
				      body[i].s);
	}
}

/* ---- AXFR -------------------------------------------------------------------- */

START_TEST(test_axfr_whole_zone)
{
	zone_snapshot();
	ck_assert_int_eq(xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL), QUERY_STREAM);
	check_full(10);
	ck_assert_uint_gt(X.nmsg, 5);                   /* several messages ... */
	ck_assert_uint_le(X.max_len, MSG_MAX);          /* ... each within the bound */
	ck_assert_uint_gt(X.n / X.nmsg, 3);             /* several RRs per message */
	ck_assert(!X.qd_after_first);
	ck_assert_int_eq(X.unsigned_msgs, 0);           /* every message signed */
	ck_assert_uint_eq(xfr_ctx_stats(xc)->axfr, 1);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->active, 0);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->aborted, 0);
}
END_TEST

START_TEST(test_axfr_big_messages)
{
	/* the default bound: the test zone fits in one 64 KiB message */
	free_ctx();
	make_ctx(NULL, 0);
	zone_snapshot();
	ck_assert_int_eq(xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL),
			 QUERY_RESPOND);
	check_full(10);
	ck_assert_uint_eq(X.nmsg, 1);
	ck_assert_uint_le(X.max_len, WIRE_TCP_MAX);
}
END_TEST

/* Between messages 2 and 3: an update that deletes one name, changes another,
 * and adds enough names to make the zone's table grow. */
static void mid_update(unsigned k)
{
	char owner[64];

	if (k != 2)
		return;
	upd_begin();
	upd_del_name("1003.i." APEX);
	upd_del_name("1290.i." APEX);
	upd_add_txt("1150.i." APEX, "changed");
	for (int i = 0; i < 400; i++) {
		snprintf(owner, sizeof(owner), "%d.new.i." APEX, i);
		upd_add_txt(owner, "added during the transfer");
	}
	upd_send(1);
}

START_TEST(test_axfr_snapshot)
{
	uint64_t tab = tz->tabmask;

	zone_snapshot();
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, mid_update);
	check_full(10);                 /* the zone as it was at the start */
	ck_assert_uint_eq(tz->serial, 11);
	ck_assert_uint_gt(tz->tabmask, tab);    /* the table grew meanwhile */
	/* the next transfer has the update */
	zone_snapshot();
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL);
	check_full(11);
}
END_TEST

START_TEST(test_axfr_durable_only)
{
	struct query *u;

	zone_snapshot();
	/* applied in memory, not yet durable: not part of a transfer */
	upd_begin();
	upd_add_txt("pending.i." APEX, "not durable yet");
	upd_del_name("1001.i." APEX);
	u = upd_send(0);
	ck_assert_uint_eq(tz->serial, 11);
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL);
	check_full(10);
	pump_durable();
	query_free(u);
	zone_snapshot();
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL);
	check_full(11);
}
END_TEST

START_TEST(test_axfr_abort)
{
	struct query *q = query_new(qc);

	q->transport = QUERY_TCP;
	q->owner = &q;
	ck_assert_int_eq(query_process(q, pkt, mkxfr(APEX, WIRE_T_AXFR, 0, 0)), QUERY_STREAM);
	ck_assert_int_eq(query_next(q), QUERY_STREAM);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->active, 1);
	/* an update while the transfer is parked, then the client goes away */
	upd_begin();
	upd_add_txt("1100.i." APEX, "changed while parked");
	upd_send(1);
	query_free(q);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->active, 0);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->aborted, 1);
	/* a query object reused for something else drops its stream too */
	q = query_new(qc);
	q->transport = QUERY_TCP;
	q->owner = &q;
	ck_assert_int_eq(query_process(q, pkt, mkxfr(APEX, WIRE_T_AXFR, 0, 0)), QUERY_STREAM);
	ck_assert_int_eq(query_process(q, pkt, mkxfr(APEX, WIRE_T_AXFR, 0, 0)), QUERY_STREAM);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->active, 1);
	query_free(q);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->active, 0);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------- */

START_TEST(test_refused)
{
	size_t len;

	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, -1), QUERY_TCP, 0, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_REFUSED);
	ck_assert_uint_eq(X.n, 0);
	ck_assert_uint_eq(X.nmsg, 1);
	xfer(mkxfr(APEX, WIRE_T_IXFR, 5, -1), QUERY_UDP, 0, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_REFUSED);
	/* a bad signature: NOTAUTH from the query path, no records */
	len = mkxfr(APEX, WIRE_T_AXFR, 0, -1);
	len = sign(len, 0, 1);
	xfer(len, QUERY_TCP, 0, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_NOTAUTH);
	ck_assert_uint_eq(X.n, 0);
	/* not the apex */
	xfer(mkxfr("1001.i." APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_NOTAUTH);
	/* AXFR over UDP */
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_UDP, 1, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_FORMERR);
	/* IXFR without the client's SOA */
	omit_soa = 1;
	xfer(mkxfr(APEX, WIRE_T_IXFR, 0, 0), QUERY_TCP, 1, NULL);
	omit_soa = 0;
	ck_assert_int_eq(X.rcode, WIRE_RC_FORMERR);
	ck_assert_uint_ge(xfr_ctx_stats(xc)->refused, 5);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->active, 0);
}
END_TEST

START_TEST(test_xfr_key)
{
	free_ctx();
	make_ctx("k2", MSG_MAX);
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL);      /* k1: not it */
	ck_assert_int_eq(X.rcode, WIRE_RC_REFUSED);
	ck_assert_uint_eq(X.n, 0);
	zone_snapshot();
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 1), QUERY_TCP, 1, NULL);      /* k2 */
	check_full(10);
}
END_TEST

/* ---- IXFR ------------------------------------------------------------------------- */

/* Three durable updates: serial 10 -> 11 -> 12 -> 13. */
static void three_updates(void)
{
	upd_begin();
	upd_add_txt("a.i." APEX, "one");
	upd_send(1);
	upd_begin();
	upd_del_name("1002.i." APEX);
	upd_add_txt("b.i." APEX, "two");
	upd_send(1);
	upd_begin();
	upd_del_name("a.i." APEX);
	upd_send(1);
	ck_assert_uint_eq(tz->serial, 13);
	ck_assert_uint_eq(journal_count(query_ctx_journal(qc, tz)), 3);
}

static int has_rr(unsigned from, unsigned to, const char *owner, uint16_t type)
{
	size_t n = strlen(owner);

	for (unsigned i = from; i < to; i++)
		if (X.rr[i].type == type && strncmp(X.rr[i].s, owner, n) == 0 &&
		    X.rr[i].s[n] == ' ')
			return 1;
	return 0;
}

START_TEST(test_ixfr_current)
{
	three_updates();
	xfer(mkxfr(APEX, WIRE_T_IXFR, 13, 0), QUERY_TCP, 1, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_NOERROR);
	ck_assert_uint_eq(X.nmsg, 1);
	ck_assert_uint_eq(X.n, 1);
	ck_assert_uint_eq(X.rr[0].type, WIRE_T_SOA);
	ck_assert_uint_eq(X.rr[0].serial, 13);
	/* a client ahead of us (a reset primary) gets the same */
	xfer(mkxfr(APEX, WIRE_T_IXFR, 20, 0), QUERY_TCP, 1, NULL);
	ck_assert_uint_eq(X.n, 1);
	ck_assert_uint_eq(X.rr[0].serial, 13);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->ixfr_current, 2);
}
END_TEST

START_TEST(test_ixfr_diffs)
{
	unsigned soa[16], ns = 0;

	three_updates();
	xfer(mkxfr(APEX, WIRE_T_IXFR, 11, 0), QUERY_TCP, 1, NULL);
	ck_assert_int_eq(X.rcode, WIRE_RC_NOERROR);
	ck_assert_int_eq(X.unsigned_msgs, 0);
	for (unsigned i = 0; i < X.n; i++)
		if (X.rr[i].type == WIRE_T_SOA) {
			ck_assert_uint_lt(ns, 16);
			soa[ns++] = i;
		}
	/* SOA 13 | SOA 11, del, SOA 12, add | SOA 12, del, SOA 13, add | SOA 13 */
	ck_assert_uint_eq(ns, 6);
	ck_assert_uint_eq(soa[0], 0);
	ck_assert_uint_eq(soa[5], X.n - 1);
	ck_assert_uint_eq(X.rr[soa[0]].serial, 13);
	ck_assert_uint_eq(X.rr[soa[1]].serial, 11);
	ck_assert_uint_eq(X.rr[soa[2]].serial, 12);
	ck_assert_uint_eq(X.rr[soa[3]].serial, 12);
	ck_assert_uint_eq(X.rr[soa[4]].serial, 13);
	ck_assert_uint_eq(X.rr[soa[5]].serial, 13);
	/* 11 -> 12: 1002 deleted (its TXT), b added */
	ck_assert(has_rr(soa[1] + 1, soa[2], "1002.i." APEX, WIRE_T_TXT));
	ck_assert(has_rr(soa[2] + 1, soa[3], "b.i." APEX, WIRE_T_TXT));
	ck_assert_uint_eq(soa[3] - soa[2] - 1, 1);
	/* 12 -> 13: a deleted, nothing added */
	ck_assert(has_rr(soa[3] + 1, soa[4], "a.i." APEX, WIRE_T_TXT));
	ck_assert_uint_eq(soa[4] - soa[3] - 1, 1);
	ck_assert_uint_eq(X.n - 1 - soa[4] - 1, 0);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->ixfr, 1);
	/* from the start of the journal: three diffs */
	xfer(mkxfr(APEX, WIRE_T_IXFR, 10, 0), QUERY_TCP, 1, NULL);
	ns = 0;
	for (unsigned i = 0; i < X.n; i++)
		ns += X.rr[i].type == WIRE_T_SOA;
	ck_assert_uint_eq(ns, 8);
}
END_TEST

START_TEST(test_ixfr_uncovered)
{
	three_updates();
	zone_snapshot();
	xfer(mkxfr(APEX, WIRE_T_IXFR, 7, 0), QUERY_TCP, 1, NULL);      /* before the journal */
	check_full(13);
	ck_assert_uint_eq(xfr_ctx_stats(xc)->ixfr_full, 1);
	/* an empty journal (a fresh ctx): the whole zone too */
	free_ctx();
	make_ctx(NULL, MSG_MAX);
	xfer(mkxfr(APEX, WIRE_T_IXFR, 12, 0), QUERY_TCP, 1, NULL);
	check_full(13);
}
END_TEST

START_TEST(test_ixfr_udp)
{
	three_updates();
	ck_assert_int_eq(xfer(mkxfr(APEX, WIRE_T_IXFR, 11, 0), QUERY_UDP, 1, NULL),
			 QUERY_RESPOND);
	ck_assert_int_eq(X.rcode, WIRE_RC_NOERROR);
	ck_assert_uint_eq(X.n, 1);      /* the latest SOA: the client retries over TCP */
	ck_assert_uint_eq(X.rr[0].serial, 13);
	ck_assert_uint_le(X.max_len, WIRE_UDP_PLAIN);
	xfer(mkxfr(APEX, WIRE_T_IXFR, 13, 0), QUERY_UDP, 1, NULL);
	ck_assert_uint_eq(X.n, 1);
	ck_assert_uint_eq(X.rr[0].serial, 13);
}
END_TEST

/* A zone that is mostly one big rrset: an rrset is split across messages. */
START_TEST(test_big_rrset)
{
	char text[128];

	upd_begin();
	for (int i = 0; i < 200; i++) {
		snprintf(text, sizeof(text), "member %03d of a large rrset %080d", i, 0);
		upd_add_txt("big.i." APEX, text);
	}
	upd_send(1);
	zone_snapshot();
	xfer(mkxfr(APEX, WIRE_T_AXFR, 0, 0), QUERY_TCP, 1, NULL);
	check_full(11);
	ck_assert_uint_le(X.max_len, MSG_MAX);
}
END_TEST

static Suite *xfr_suite(void)
{
	Suite *s = suite_create("xfr");
	TCase *tc;

	tc = tcase_create("axfr");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_axfr_whole_zone);
	tcase_add_test(tc, test_axfr_big_messages);
	tcase_add_test(tc, test_axfr_snapshot);
	tcase_add_test(tc, test_axfr_durable_only);
	tcase_add_test(tc, test_axfr_abort);
	tcase_add_test(tc, test_big_rrset);
	suite_add_tcase(s, tc);
	tc = tcase_create("auth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_xfr_key);
	suite_add_tcase(s, tc);
	tc = tcase_create("ixfr");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ixfr_current);
	tcase_add_test(tc, test_ixfr_diffs);
	tcase_add_test(tc, test_ixfr_uncovered);
	tcase_add_test(tc, test_ixfr_udp);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(xfr_suite)
