/* fuzz_query: any packet through query_process against dnsfs.test. (from
 * zones/example.zone plus CNAME, TXT, SRV and delegation records) with the
 * memory store; every response must parse completely with lib/wire. The first
 * input byte picks the transport (bit 0) and whether the rest is signed with
 * the test key first (bit 1), so UPDATEs reach update_process. */
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
static struct query_ctx *qc;
static struct query *q;
static int done;

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "fuzz_query: %s: %s\n", what, e != NULL ? e->msg : "");
	abort();
}

static void put(struct zone *z, const char *owner, uint16_t type, const void *rd, size_t len)
{
	struct wire_name n;
	struct zone_node *node;
	struct zone_rrset *old, *s;
	uint32_t off = 0;
	const uint8_t *ord;
	uint16_t olen;
	size_t cap;

	if (wire_name_from_text(&n, owner, NULL) < 0)
		die(owner, NULL);
	wire_name_lower(&n);
	node = zone_find(z, &n);
	old = node != NULL ? zone_node_rrset(node, type) : NULL;
	cap = (old != NULL ? old->len : 0) + 2 + len;
	if ((s = zone_rrset_new(type, 60, cap)) == NULL)
		die("rrset", NULL);
	while (old != NULL && zone_rrset_next(old, &off, &ord, &olen))
		zone_rrset_append(s, cap, ord, olen);
	if (zone_rrset_append(s, cap, rd, (uint16_t)len) < 0 || zone_load(z, &n, s) < 0)
		die(owner, NULL);
	zone_rrset_unref(s);
}

static size_t name_rd(uint8_t *out, const char *text)
{
	struct wire_name n;

	if (wire_name_from_text(&n, text, NULL) < 0)
		die(text, NULL);
	wire_name_lower(&n);
	memcpy(out, n.b, n.len);
	return n.len;
}

static void extra_records(struct zone *z)
{
	uint8_t rd[512];
	size_t n;

	n = name_rd(rd, "1.i.dnsfs.test.");
	put(z, "0123456789abcdef0123456789abcdef.1.d.dnsfs.test.", WIRE_T_CNAME, rd, n);
	n = name_rd(rd, "a.dnsfs.test.");
	put(z, "b.dnsfs.test.", WIRE_T_CNAME, rd, n);
	n = name_rd(rd, "b.dnsfs.test.");
	put(z, "a.dnsfs.test.", WIRE_T_CNAME, rd, n);           /* a loop */
	for (int i = 0; i < 8; i++) {
		memset(rd, 'x', sizeof(rd));
		rd[0] = 200;
		rd[1] = (uint8_t)('0' + i);
		put(z, "big.dnsfs.test.", WIRE_T_TXT, rd, 201);
	}
	for (int i = 1; i <= 3; i++) {
		char t[64];
		uint8_t a[4] = { 127, 0, 0, (uint8_t)i };

		snprintf(t, sizeof(t), "blockd-%d.n.dnsfs.test.", i);
		memset(rd, 0, 6);
		rd[3] = (uint8_t)(10 * i);
		n = 6 + name_rd(rd + 6, t);
		put(z, "_blockd._tcp.dnsfs.test.", WIRE_T_SRV, rd, n);
		put(z, t, WIRE_T_A, a, 4);
	}
	n = name_rd(rd, "ns.sub.dnsfs.test.");
	put(z, "sub.dnsfs.test.", WIRE_T_NS, rd, n);
	put(z, "ns.sub.dnsfs.test.", WIRE_T_A, "\x7f\0\0\x35", 4);
}

static void on_done(struct query *dq)
{
	(void)dq;
	done = 1;
}

static void init(void)
{
	static const char key[] = "key \"fuzz\" { algorithm hmac-sha256; "
				  "secret \"ZnV6emZ1enpmdXp6ZnV6emZ1enpmdXp6ZnV6emZ1eno=\"; };";
	struct store_options so = { .target = "memory", .journal_max = 64 };
	struct query_options qo = {0};
	struct err e = {0};
	struct zone *z;

	log_init("fuzz_query", LOG_LEVEL_ERROR, 0);
	if ((base = event_base_new()) == NULL)
		die("event base", NULL);
	so.base = base;
	if ((st = store_new(&so, &e)) == NULL)
		die("store", &e);
	if ((z = zonefile_load(DNSFS_SRCDIR "/zones/example.zone", "dnsfs.test.", &e)) == NULL)
		die("zone file", &e);
	extra_records(z);
	if (store_create_zone(st, z, NULL, &e) < 0 || zoneset_add(&zs, z) < 0)
		die("zone", &e);
	if (tsig_keyring_parse(&keys, key, "fuzz.key", &e) < 0)
		die("key", &e);
	qo.zones = &zs;
	qo.store = st;
	qo.keys = &keys;
	qo.version = "fuzz";
	qo.identity = "fuzz";
	qo.journal_max = 64;
	if ((qc = query_ctx_new(&qo, &e)) == NULL || (q = query_new(qc)) == NULL)
		die("query", &e);
	q->owner = &q;
	q->on_done = on_done;
}

/* Start over with a fresh zone and store, so that accepted UPDATEs do not
 * grow the zone over a long run (big rrsets make every later update of them
 * slower: journal_encode and the placement rebuild are quadratic in them). */
static void fini(void)
{
	query_free(q);
	query_ctx_free(qc);
	store_free(st);
	zoneset_release(&zs);
	tsig_keyring_release(&keys);
	event_base_free(base);
	memset(&zs, 0, sizeof(zs));
	memset(&keys, 0, sizeof(keys));
	qc = NULL;
}

/* The response must be one well-formed message within the transport's limit. */
static void check_response(void)
{
	static struct wire_rr rr;
	struct wire_hdr h;
	struct wire_rd r;
	struct wire_name n;
	uint16_t t, c;
	unsigned total;

	if (q->resp_len == 0)
		return;
	if (q->resp_len > (q->transport == QUERY_UDP ? WIRE_UDP_MAX : WIRE_TCP_MAX))
		abort();
	wire_rd_init(&r, q->resp, q->resp_len);
	if (wire_rd_hdr(&r, &h) < 0 || !(h.flags & WIRE_F_QR) || h.qdcount > 1)
		abort();
	if (h.qdcount == 1 && wire_rd_question(&r, &n, &t, &c) < 0)
		abort();
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	for (unsigned i = 0; i < total; i++)
		if (wire_rd_rr(&r, &rr) < 0)
			abort();
	if (r.pos != q->resp_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[WIRE_TCP_MAX];
	enum query_result res;
	size_t len;

	if (qc == NULL)
		init();
	if (size < 1 || size - 1 > sizeof(msg) - TSIG_RR_MAX)
		return 0;
	len = size - 1;
	memcpy(msg, data + 1, len);
	q->transport = data[0] & 1 ? QUERY_TCP : QUERY_UDP;
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
	if (res == QUERY_DEFERRED) {
		for (int i = 0; i < 10000 && !done; i++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (!done)
			abort();        /* the memory store must answer */
	}
	if (res != QUERY_DROP)
		check_response();
	if (zs.zones[0]->nrecords > 1000)
		fini();
	return 0;
}
