/* fuzz_xfr: any packet through query_process with zone transfer enabled
 * (small messages, so transfers span many), every message of the stream
 * checked with lib/wire; updates commit between messages. The first input
 * byte: bit 0 TCP, bit 1 sign with the test key, bits 2-3 how often an
 * UPDATE lands mid-stream. A good transfer starts and ends with the SOA. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "query.h"
#include "store.h"
#include "tsig.h"
#include "wire.h"
#include "xfr.h"
#include "zone.h"
#include "zonefile.h"

#ifndef DNSFS_SRCDIR
#define DNSFS_SRCDIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static struct store *st;
static struct zoneset zs;
static struct tsig_keyring keys;
static struct xfr_ctx *xc;
static struct query_ctx *qc;
static struct query *q, *uq;
static int done;
static unsigned nupdates;

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "fuzz_xfr: %s: %s\n", what, e != NULL ? e->msg : "");
	abort();
}

static void on_done(struct query *dq)
{
	(void)dq;
	done = 1;
}

/* Add 200 inodes so that the zone takes many small messages. */
static void fill(struct zone *z)
{
	for (int i = 0; i < 200; i++) {
		char owner[64];
		uint8_t rd[64];
		struct wire_name n;
		struct zone_rrset *s = NULL;
		int len = snprintf((char *)rd + 1, sizeof(rd) - 1, "v=1 type=f size=%d", i);

		rd[0] = (uint8_t)len;
		snprintf(owner, sizeof(owner), "%d.i.dnsfs.test.", 1000 + i);
		if (wire_name_from_text(&n, owner, NULL) < 0 ||
		    (s = zone_rrset_new(WIRE_T_TXT, 60, (size_t)len + 3)) == NULL ||
		    zone_rrset_append(s, (size_t)len + 3, rd, (uint16_t)(len + 1)) < 0 ||
		    zone_load(z, &n, s) < 0)
			die("fill", NULL);
		zone_rrset_unref(s);
	}
}

static void init(void)
{
	static const char key[] = "key \"fuzz\" { algorithm hmac-sha256; "
				  "secret \"ZnV6emZ1enpmdXp6ZnV6emZ1enpmdXp6ZnV6emZ1eno=\"; };";
	struct store_options so = { .target = "memory", .journal_max = 16 };
	struct xfr_options xo = { .msg_max = 700 };
	struct query_options qo = {0};
	struct err e = {0};
	struct zone *z;

	log_init("fuzz_xfr", LOG_LEVEL_ERROR, 0);
	if ((base = event_base_new()) == NULL)
		die("event base", NULL);
	so.base = base;
	if ((st = store_new(&so, &e)) == NULL)
		die("store", &e);
	if ((z = zonefile_load(DNSFS_SRCDIR "/zones/example.zone", "dnsfs.test.", &e)) == NULL)
		die("zone", &e);
	fill(z);
	if (store_create_zone(st, z, NULL, &e) < 0 || zoneset_add(&zs, z) < 0)
		die("zone", &e);
	if (tsig_keyring_parse(&keys, key, "fuzz.key", &e) < 0)
		die("key", &e);
	if ((xc = xfr_ctx_new(&xo, &e)) == NULL)
		die("xfr", &e);
	qo.zones = &zs;
	qo.store = st;
	qo.keys = &keys;
	qo.journal_max = 16;
	qo.xfr = xc;
	if ((qc = query_ctx_new(&qo, &e)) == NULL || (q = query_new(qc)) == NULL ||
	    (uq = query_new(qc)) == NULL)
		die("query", &e);
	q->owner = &q;
	q->on_done = on_done;
	uq->owner = &uq;
	uq->transport = QUERY_TCP;
	uq->on_done = on_done;
	nupdates = 0;
}

static void fini(void)
{
	query_free(q);
	query_free(uq);
	query_ctx_free(qc);
	xfr_ctx_free(xc);
	store_free(st);
	zoneset_release(&zs);
	tsig_keyring_release(&keys);
	event_base_free(base);
	memset(&zs, 0, sizeof(zs));
	memset(&keys, 0, sizeof(keys));
	qc = NULL;
}

/* A signed UPDATE: add an inode, or delete one added before; made durable. */
static void update(void)
{
	static uint8_t m[1024];
	struct wire_hdr h = { .id = 9, .flags = WIRE_OP_UPDATE << 11, .qdcount = 1, .nscount = 1 };
	struct tsig_ctx ctx = { .key = &keys.keys[0] };
	struct wire_name zn, on;
	struct wire_wr w;
	char owner[64];
	int del = nupdates % 3 == 2;

	snprintf(owner, sizeof(owner), "%u.u.dnsfs.test.", del ? nupdates - 1 : nupdates);
	nupdates++;
	wire_name_from_text(&zn, "dnsfs.test.", NULL);
	wire_name_from_text(&on, owner, NULL);
	wire_wr_init(&w, m, sizeof(m));
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &zn);
	wire_wr_u16(&w, WIRE_T_SOA);
	wire_wr_u16(&w, WIRE_C_IN);
	wire_wr_name(&w, &on);
	wire_wr_u16(&w, del ? WIRE_T_ANY : WIRE_T_TXT);
	wire_wr_u16(&w, del ? WIRE_C_ANY : WIRE_C_IN);
	wire_wr_u32(&w, del ? 0 : 60);
	wire_wr_u16(&w, del ? 0 : 2);
	if (!del)
		wire_wr_bytes(&w, "\001u", 2);
	if (tsig_sign(&ctx, &w, time(NULL), NULL) < 0)
		abort();
	done = 0;
	if (query_process(uq, m, w.pos) == QUERY_DEFERRED) {
		for (int i = 0; i < 10000 && !done; i++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (!done)
			abort();
	}
}

/* One message: well-formed, within the limit. Returns its rcode and the
 * types of its first and last answer RR (0: none). */
static int check_msg(int first, uint16_t *t0, uint16_t *tn)
{
	static struct wire_rr rr;
	struct wire_hdr h;
	struct wire_rd r;
	struct wire_name n;
	uint16_t t, c;
	unsigned total;

	if (q->resp_len > (q->transport == QUERY_UDP ? WIRE_UDP_MAX : WIRE_TCP_MAX))
		abort();
	wire_rd_init(&r, q->resp, q->resp_len);
	if (wire_rd_hdr(&r, &h) < 0 || !(h.flags & WIRE_F_QR) || h.qdcount > 1 ||
	    (!first && h.qdcount > 0))
		abort();
	if (h.qdcount == 1 && wire_rd_question(&r, &n, &t, &c) < 0)
		abort();
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	*t0 = *tn = 0;
	for (unsigned i = 0; i < total; i++) {
		if (wire_rd_rr(&r, &rr) < 0)
			abort();
		if (i == 0 && h.ancount > 0)
			*t0 = rr.type;
		if (i + 1 == h.ancount)
			*tn = rr.type;
	}
	if (r.pos != q->resp_len)
		abort();
	return WIRE_RCODE(h.flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[WIRE_TCP_MAX];
	enum query_result res;
	unsigned every, k = 0;
	uint16_t first_type = 0, t0, tn = 0;
	int rcode = -1, axfr;
	size_t len;

	if (qc == NULL)
		init();
	if (size < 1 || size - 1 > sizeof(msg) - TSIG_RR_MAX)
		return 0;
	len = size - 1;
	memcpy(msg, data + 1, len);
	q->transport = data[0] & 1 ? QUERY_TCP : QUERY_UDP;
	every = (data[0] >> 2) & 3;
	if ((data[0] & 2) && len >= WIRE_HDR_LEN) {
		struct tsig_ctx ctx = { .key = &keys.keys[0] };
		struct wire_wr w;

		wire_wr_init(&w, msg, sizeof(msg));
		w.pos = len;
		if (tsig_sign(&ctx, &w, time(NULL), NULL) == 0)
			len = w.pos;
	}
	done = 0;
	res = query_process(q, msg, len);
	if (res == QUERY_DEFERRED) {    /* an UPDATE: fuzz_query's business */
		for (int i = 0; i < 10000 && !done; i++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (!done)
			abort();
		res = QUERY_DROP;
	}
	axfr = q->has_question && q->qtype == WIRE_T_AXFR &&
	       WIRE_OPCODE(q->hdr.flags) == WIRE_OP_QUERY;
	while (res == QUERY_STREAM || res == QUERY_RESPOND) {
		int rc = check_msg(k == 0, &t0, &tn);

		if (k++ == 0) {
			rcode = rc;
			first_type = t0;
		}
		if (res == QUERY_RESPOND)
			break;
		if (q->transport == QUERY_UDP)
			abort();        /* streams are TCP only */
		if (every > 0 && k % every == 0)
			update();
		res = query_next(q);
	}
	if (res == QUERY_DROP && k > 0)
		abort();                /* a transfer that started must finish */
	if (axfr && rcode == WIRE_RC_NOERROR && (first_type != WIRE_T_SOA || tn != WIRE_T_SOA))
		abort();
	if (xfr_ctx_stats(xc)->active != 0)
		abort();
	if (zs.zones[0]->nrecords > 1000)
		fini();
	return 0;
}
