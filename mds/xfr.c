/* xfr: AXFR and IXFR streams (see xfr.h). A transfer is a small state machine
 * (first SOA, body, last SOA) that fills one message per call; its body is
 * either the zone, scanned bucket by bucket with an overlay of the rrsets
 * that updates replaced meanwhile, or a private copy of the journal's diffs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "query.h"
#include "xfr.h"

#define XFR_OPT_LEN 11                  /* an empty OPT RR */

/* An rrset the transfer still owes: its name, a ref, the next RR's offset. */
struct xfr_item {
	struct zone_rrset *set;
	uint32_t off;
	struct wire_name name;
};

/* What (name, type) held at the snapshot, kept because an update replaced it
 * before the scan reached its bucket. */
struct xfr_old {
	struct xfr_old *next;           /* hash chain */
	uint64_t hash;                  /* of name and type */
	uint16_t type;
	struct zone_rrset *set;         /* the snapshot's rrset (ref); NULL: it had none */
	struct wire_name name;
};

/* The RR a message takes next. Pointers stay valid until xfr_advance. */
struct xfr_rr {
	const struct wire_name *owner;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rd;
	uint16_t rdlen;
};

enum xfr_kind { XFR_FULL, XFR_DIFFS, XFR_SOA_ONLY };
enum xfr_phase { XFR_P_SOA1, XFR_P_BODY, XFR_P_SOA2, XFR_P_DONE };

struct xfr {
	struct xfr_ctx *ctx;
	struct xfr *next;               /* ctx->list: transfers in progress */
	struct xfr *prev;
	int linked;                     /* on ctx->list */
	struct zone *z;                 /* not owned (zones live as long as the mds) */
	enum xfr_kind kind;
	enum xfr_phase phase;
	uint16_t qtype;                 /* AXFR or IXFR (logs, stats) */
	struct zone_rrset *soa;         /* the snapshot's SOA (ref) */
	uint32_t serial;                /* its serial */
	uint32_t client_serial;         /* IXFR: the client's */

	/* the RR peeked and not yet written */
	int have;
	struct xfr_rr cur;
	uint32_t cur_next;              /* XFR_FULL: item offset after cur */

	/* XFR_FULL: the zone */
	uint64_t cursor;                /* zone_scan position */
	int scanned;                    /* the scan has visited every bucket */
	struct xfr_old **otab;          /* overlay of replaced rrsets, by name+type */
	size_t omask;                   /* slots - 1; otab NULL while empty */
	size_t nold;
	size_t obucket;                 /* draining the overlay: slot */
	struct xfr_old *onext;          /*   and entry next */
	struct xfr_item *carry;         /* rrsets taken from the zone, sent in order */
	size_t ncarry, carry_head, carry_cap;
	int oom;                        /* an allocation failed: the transfer aborts */

	/* XFR_DIFFS: the journal's blobs since the client's serial, copied
	 * (the ring may drop them while the transfer runs), each after a
	 * 4-byte length */
	uint8_t *diffs;
	size_t diffs_len;
	size_t doff;                    /* next blob in diffs */
	int in_diff;                    /* diff/dcur hold the blob being sent */
	struct journal_diff diff;
	struct journal_cursor dcur;
	struct journal_rr jrr;          /* cur points into it */
	unsigned ndiffs;

	unsigned nmsg;                  /* messages written */
	uint64_t nrr;                   /* RRs written */
	char peer[INET6_ADDRSTRLEN + 8];/* "addr#port", for logs */
};

struct xfr_ctx {
	struct wire_name key;           /* xfr_key; len 0: any key of the keyring */
	size_t msg_max;
	struct xfr *list;               /* transfers in progress */
	struct xfr_stats stats;
};

/* ======================================================================
 * context
 * ====================================================================== */

struct xfr_ctx *xfr_ctx_new(const struct xfr_options *o, struct err *e)
{
	struct xfr_ctx *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		err_set(e, -ENOMEM, "xfr: out of memory");
		return NULL;
	}
	if (o->key != NULL && *o->key != '\0') {
		if (wire_name_from_text(&x->key, o->key, e) < 0) {
			err_prefix(e, "xfr_key: ");
			free(x);
			return NULL;
		}
		wire_name_lower(&x->key);
	}
	x->msg_max = o->msg_max ? o->msg_max : WIRE_TCP_MAX;
	if (x->msg_max > WIRE_TCP_MAX)
		x->msg_max = WIRE_TCP_MAX;
	return x;
}

void xfr_ctx_free(struct xfr_ctx *x)
{
	if (x == NULL)
		return;
	if (x->list != NULL)
		log_err("xfr: %u transfers still in progress at exit", x->stats.active);
	free(x);
}

const struct xfr_stats *xfr_ctx_stats(const struct xfr_ctx *x)
{
	return &x->stats;
}

/* ======================================================================
 * the overlay of replaced rrsets
 * ====================================================================== */

static uint64_t xfr_hash(const struct wire_name *n, uint16_t type)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ type;

	for (size_t i = 0; i < n->len; i++) {
		h ^= n->b[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ h >> 29;
}

static struct xfr_old *xfr_old_find(const struct xfr *t, const struct wire_name *n,
				    uint16_t type, uint64_t h)
{
	if (t->otab == NULL)
		return NULL;
	for (struct xfr_old *o = t->otab[h & t->omask]; o != NULL; o = o->next)
		if (o->hash == h && o->type == type && o->name.len == n->len &&
		    memcmp(o->name.b, n->b, n->len) == 0)
			return o;
	return NULL;
}

/* Double the table (or make the first one); the old stays on -ENOMEM. */
static int xfr_old_grow(struct xfr *t)
{
	size_t slots = t->otab != NULL ? (t->omask + 1) * 2 : 64;
	struct xfr_old **nt = calloc(slots, sizeof(*nt));

	if (nt == NULL)
		return -ENOMEM;
	for (size_t i = 0; t->otab != NULL && i <= t->omask; i++) {
		struct xfr_old *o, *next;

		for (o = t->otab[i]; o != NULL; o = next) {
			next = o->next;
			o->next = nt[o->hash & (slots - 1)];
			nt[o->hash & (slots - 1)] = o;
		}
	}
	free(t->otab);
	t->otab = nt;
	t->omask = slots - 1;
	return 0;
}

/* Remember what (name, type) held at the snapshot, unless known already (the
 * first change since the snapshot tells the snapshot's value). */
static void xfr_old_add(struct xfr *t, const struct wire_name *n, uint16_t type,
			struct zone_rrset *set)
{
	uint64_t h = xfr_hash(n, type);
	struct xfr_old *o;

	if (xfr_old_find(t, n, type, h) != NULL)
		return;
	if ((t->otab == NULL || t->nold > t->omask) && xfr_old_grow(t) < 0 &&
	    t->otab == NULL) {
		t->oom = 1;
		return;
	}
	if ((o = malloc(sizeof(*o))) == NULL) {
		t->oom = 1;
		return;
	}
	o->hash = h;
	o->type = type;
	o->set = zone_rrset_ref(set);
	o->name.len = n->len;
	memcpy(o->name.b, n->b, n->len);
	o->next = t->otab[h & t->omask];
	t->otab[h & t->omask] = o;
	t->nold++;
}

static void xfr_old_release(struct xfr *t)
{
	for (size_t i = 0; t->otab != NULL && i <= t->omask; i++) {
		struct xfr_old *o, *next;

		for (o = t->otab[i]; o != NULL; o = next) {
			next = o->next;
			zone_rrset_unref(o->set);
			free(o);
		}
	}
	free(t->otab);
	t->otab = NULL;
	t->nold = 0;
}

static int xfr_is_apex_soa(const struct xfr *t, const struct wire_name *n, uint16_t type)
{
	return type == WIRE_T_SOA && n->len == t->z->apex.len &&
	       memcmp(n->b, t->z->apex.b, n->len) == 0;
}

void xfr_zone_changed(struct xfr_ctx *x, const struct zone *z, const struct zone_change *ch,
		      size_t n)
{
	for (struct xfr *t = x->list; t != NULL; t = t->next) {
		if (t->z != z || t->kind != XFR_FULL || t->scanned)
			continue;
		for (size_t i = 0; i < n; i++)
			if (!zone_scan_passed(z, t->cursor, &ch[i].name))
				xfr_old_add(t, &ch[i].name, ch[i].type, ch[i].old_set);
	}
}

/* Updates applied but not durable yet are not part of the snapshot. */
static void xfr_pending(const struct zone_change *ch, size_t n, void *arg)
{
	struct xfr *t = arg;

	for (size_t i = 0; i < n; i++)
		xfr_old_add(t, &ch[i].name, ch[i].type, ch[i].old_set);
}

/* ======================================================================
 * walking the body
 * ====================================================================== */

static void xfr_carry_push(struct xfr *t, const struct wire_name *n, struct zone_rrset *set)
{
	if (set == NULL || set->count == 0)
		return;
	if (t->ncarry == t->carry_cap) {
		size_t cap = t->carry_cap ? t->carry_cap * 2 : 16;
		struct xfr_item *nc = realloc(t->carry, cap * sizeof(*nc));

		if (nc == NULL) {
			t->oom = 1;
			return;
		}
		t->carry = nc;
		t->carry_cap = cap;
	}
	t->carry[t->ncarry].set = zone_rrset_ref(set);
	t->carry[t->ncarry].off = 0;
	t->carry[t->ncarry].name = *n;
	t->ncarry++;
}

/* zone_scan callback: a live rrset is the snapshot's unless replaced since. */
static void xfr_take_live(const struct wire_name *n, const struct zone_rrset *s, void *arg)
{
	struct xfr *t = arg;

	if (xfr_is_apex_soa(t, n, s->type))
		return;
	if (t->nold > 0 && xfr_old_find(t, n, s->type, xfr_hash(n, s->type)) != NULL)
		return;                 /* sent from the overlay at the end */
	xfr_carry_push(t, n, (struct zone_rrset *)s);
}

/* After the scan: the overlay's rrsets that existed at the snapshot. */
static int xfr_take_old(struct xfr *t)
{
	while (t->otab != NULL) {
		struct xfr_old *o = t->onext;

		if (o == NULL) {
			if (t->obucket > t->omask)
				return 0;
			t->onext = t->otab[t->obucket++];
			continue;
		}
		t->onext = o->next;
		if (o->set != NULL && !xfr_is_apex_soa(t, &o->name, o->type)) {
			xfr_carry_push(t, &o->name, o->set);
			return 1;
		}
	}
	return 0;
}

static void xfr_carry_release(struct xfr *t)
{
	for (size_t i = t->carry_head; i < t->ncarry; i++)
		zone_rrset_unref(t->carry[i].set);
	free(t->carry);
	t->carry = NULL;
	t->ncarry = t->carry_head = t->carry_cap = 0;
}

static int xfr_full_peek(struct xfr *t)
{
	struct xfr_item *it;
	uint32_t off;

	while (t->carry_head == t->ncarry) {
		t->carry_head = t->ncarry = 0;
		if (!t->scanned) {
			if (!zone_scan(t->z, &t->cursor, xfr_take_live, t))
				t->scanned = 1;
		} else if (!xfr_take_old(t)) {
			return 0;
		}
		if (t->oom)
			return -ENOMEM;
	}
	it = &t->carry[t->carry_head];
	off = it->off;
	zone_rrset_next(it->set, &off, &t->cur.rd, &t->cur.rdlen);
	t->cur.owner = &it->name;
	t->cur.type = it->set->type;
	t->cur.ttl = it->set->ttl;
	t->cur_next = off;
	return 1;
}

static void xfr_full_advance(struct xfr *t)
{
	struct xfr_item *it = &t->carry[t->carry_head];

	it->off = t->cur_next;
	if (it->off >= it->set->len) {
		zone_rrset_unref(it->set);
		t->carry_head++;
	}
}

static int xfr_diff_peek(struct xfr *t)
{
	int deleted;

	for (;;) {
		if (!t->in_diff) {
			uint32_t len;

			if (t->doff >= t->diffs_len)
				return 0;
			memcpy(&len, t->diffs + t->doff, 4);
			/* checked when copied (xfr_copy_diff) */
			journal_decode(&t->diff, t->diffs + t->doff + 4, len, NULL);
			memset(&t->dcur, 0, sizeof(t->dcur));
			t->doff += 4 + (size_t)len;
			t->in_diff = 1;
		}
		if (journal_diff_next(&t->diff, &t->dcur, &t->jrr, &deleted)) {
			t->cur.owner = &t->jrr.owner;
			t->cur.type = t->jrr.type;
			t->cur.ttl = t->jrr.ttl;
			t->cur.rd = t->jrr.rdata;
			t->cur.rdlen = t->jrr.rdlen;
			return 1;
		}
		t->in_diff = 0;
	}
}

static void xfr_soa_rr(struct xfr *t)
{
	uint32_t off = 0;

	zone_rrset_next(t->soa, &off, &t->cur.rd, &t->cur.rdlen);
	t->cur.owner = &t->z->apex;
	t->cur.type = WIRE_T_SOA;
	t->cur.ttl = t->soa->ttl;
}

/* The next RR into t->cur: 1; 0 when the transfer is complete; -ENOMEM. */
static int xfr_peek(struct xfr *t)
{
	int rc;

	if (t->have)
		return 1;
	for (;;) {
		switch (t->phase) {
		case XFR_P_SOA1:
		case XFR_P_SOA2:
			xfr_soa_rr(t);
			t->have = 1;
			return 1;
		case XFR_P_BODY:
			rc = t->kind == XFR_DIFFS ? xfr_diff_peek(t) : xfr_full_peek(t);
			if (rc != 0) {
				t->have = rc > 0;
				return rc;
			}
			t->phase = XFR_P_SOA2;
			break;
		case XFR_P_DONE:
			return 0;
		}
	}
}

static void xfr_advance(struct xfr *t)
{
	t->have = 0;
	switch (t->phase) {
	case XFR_P_SOA1:
		t->phase = t->kind == XFR_SOA_ONLY ? XFR_P_DONE : XFR_P_BODY;
		break;
	case XFR_P_SOA2:
		t->phase = XFR_P_DONE;
		break;
	case XFR_P_BODY:
		if (t->kind == XFR_FULL)
			xfr_full_advance(t);
		break;                  /* diffs: journal_diff_next moved on already */
	case XFR_P_DONE:
		break;
	}
}

/* ======================================================================
 * starting a transfer
 * ====================================================================== */

static void xfr_peer_text(const struct query *q, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (q->peer.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&q->peer;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (q->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&q->peer;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	snprintf(buf, len, "%s#%d", host, port);
}

/* The client's SOA serial from the authority section of an IXFR request. */
static int xfr_client_serial(const struct query *q, const struct zone *z, uint32_t *serial)
{
	static struct wire_rr rr;       /* 64 KiB: not on the stack; one loop thread */
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name qn;
	uint16_t qt, qc;

	wire_rd_init(&r, q->req, q->req_len);
	if (wire_rd_hdr(&r, &h) < 0 || wire_rd_question(&r, &qn, &qt, &qc) < 0)
		return -EBADMSG;
	for (unsigned i = 0; i < h.ancount; i++)
		if (wire_rd_rr(&r, &rr) < 0)
			return -EBADMSG;
	for (unsigned i = 0; i < h.nscount; i++) {
		if (wire_rd_rr(&r, &rr) < 0)
			return -EBADMSG;
		if (rr.type == WIRE_T_SOA && wire_name_equal(&rr.owner, &z->apex))
			return wire_soa_serial(rr.rdata, rr.rdlen, serial);
	}
	return -ENOENT;
}

static uint32_t xfr_soa_serial(const struct zone_rrset *soa)
{
	uint32_t off = 0, serial = 0;
	const uint8_t *rd;
	uint16_t rdlen;

	if (zone_rrset_next(soa, &off, &rd, &rdlen))
		wire_soa_serial(rd, rdlen, &serial);
	return serial;
}

/* journal_since callback: append one blob to the transfer's copy. Each diff
 * must lead both its sections with the SOA, as the IXFR format needs. */
static int xfr_copy_diff(const uint8_t *blob, size_t len, void *arg)
{
	struct xfr *t = arg;
	struct journal_diff d;
	struct journal_cursor cur = {0};
	struct journal_rr rr;
	uint32_t l = (uint32_t)len;
	uint8_t *nd;
	int del;

	if (journal_decode(&d, blob, len, NULL) < 0 || d.ndel == 0 || d.nadd == 0 ||
	    !journal_diff_next(&d, &cur, &rr, &del) || rr.type != WIRE_T_SOA)
		return -EBADMSG;
	for (uint32_t i = 1; i <= d.ndel; i++)
		journal_diff_next(&d, &cur, &rr, &del);
	if (rr.type != WIRE_T_SOA)
		return -EBADMSG;
	if ((nd = realloc(t->diffs, t->diffs_len + 4 + len)) == NULL)
		return -ENOMEM;
	t->diffs = nd;
	memcpy(t->diffs + t->diffs_len, &l, 4);
	memcpy(t->diffs + t->diffs_len + 4, blob, len);
	t->diffs_len += 4 + len;
	t->ndiffs++;
	return 0;
}

/* How an IXFR is answered: the SOA only, the diffs, or (returned) the zone. */
static enum xfr_kind xfr_ixfr_kind(struct xfr *t, const struct query *q,
				   const struct journal *j)
{
	uint32_t last;
	int rc;

	if (!wire_serial_gt(t->serial, t->client_serial) || q->transport == QUERY_UDP)
		return XFR_SOA_ONLY;
	if (j == NULL || journal_last_serial(j, &last) < 0 || last != t->serial)
		return XFR_FULL;        /* the ring does not end at the snapshot */
	rc = journal_since(j, t->client_serial, xfr_copy_diff, t);
	if (rc == 0 && t->ndiffs > 0 && t->diffs_len < t->z->bytes)
		return XFR_DIFFS;
	if (rc < 0 && rc != -ENOENT)
		log_warn("IXFR of %s to %s: journal unusable (%s); sending the whole zone",
			 t->z->origin, t->peer, strerror(-rc));
	free(t->diffs);
	t->diffs = NULL;
	t->diffs_len = 0;
	t->ndiffs = 0;
	return XFR_FULL;
}

static int xfr_refuse(struct xfr_ctx *x, const struct query *q, const struct zone *z,
		      const char *peer, int rcode, const char *why)
{
	x->stats.refused++;
	log_notice("%s of %s to %s %s: %s", q->qtype == WIRE_T_IXFR ? "IXFR" : "AXFR",
		   z->origin, peer, rcode == WIRE_RC_REFUSED ? "refused" : "failed", why);
	return rcode;
}

int xfr_start(struct xfr_ctx *x, struct query *q, struct zone *z, const struct journal *j,
	      time_t now, struct xfr **out)
{
	char peer[sizeof(((struct xfr *)0)->peer)], keytext[WIRE_NAME_MAX * 4 + 2];
	struct xfr *t;
	struct xfr_old *old;

	(void)now;
	*out = NULL;
	xfr_peer_text(q, peer, sizeof(peer));
	if (!wire_name_equal(&q->lname, &z->apex))
		return xfr_refuse(x, q, z, peer, WIRE_RC_NOTAUTH, "not a zone apex");
	if (!q->tsig_signed || q->tsig.key == NULL)
		return xfr_refuse(x, q, z, peer, WIRE_RC_REFUSED,
				  "not TSIG-signed (transfers need a key of the keyring; "
				  "see xfr_key)");
	if (x->key.len > 0 && !wire_name_equal(&q->tsig.key->name, &x->key)) {
		wire_name_to_text(&q->tsig.key->name, keytext, sizeof(keytext));
		return xfr_refuse(x, q, z, peer, WIRE_RC_REFUSED,
				  keytext[0] ? "signed with a key other than xfr_key" :
				  "signed with another key");
	}
	if (q->qtype == WIRE_T_AXFR && q->transport == QUERY_UDP)
		return xfr_refuse(x, q, z, peer, WIRE_RC_FORMERR, "AXFR over UDP");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return xfr_refuse(x, q, z, peer, WIRE_RC_SERVFAIL, "out of memory");
	t->ctx = x;
	t->z = z;
	t->qtype = q->qtype;
	memcpy(t->peer, peer, sizeof(t->peer));
	/* The snapshot: the zone as the last durable update left it. */
	query_ctx_pending_changes(q->ctx, z, xfr_pending, t);
	old = xfr_old_find(t, &z->apex, WIRE_T_SOA, xfr_hash(&z->apex, WIRE_T_SOA));
	t->soa = zone_rrset_ref(old != NULL ? old->set : zone_soa(z));
	if (t->oom || t->soa == NULL || t->soa->count != 1) {
		xfr_free(t);
		return xfr_refuse(x, q, z, peer, WIRE_RC_SERVFAIL,
				  "out of memory or no SOA to start with");
	}
	t->serial = xfr_soa_serial(t->soa);
	t->kind = XFR_FULL;
	if (q->qtype == WIRE_T_IXFR) {
		if (xfr_client_serial(q, z, &t->client_serial) < 0) {
			xfr_free(t);
			return xfr_refuse(x, q, z, peer, WIRE_RC_FORMERR,
					  "no SOA of the zone in the authority section");
		}
		t->kind = xfr_ixfr_kind(t, q, j);
	}
	if (t->kind != XFR_FULL)
		xfr_old_release(t);     /* only a scan needs the overlay */
	t->next = x->list;
	if (x->list != NULL)
		x->list->prev = t;
	x->list = t;
	t->linked = 1;
	x->stats.active++;
	switch (t->kind) {
	case XFR_FULL:
		x->stats.axfr++;
		if (q->qtype == WIRE_T_IXFR)
			x->stats.ixfr_full++;
		break;
	case XFR_DIFFS:
		x->stats.ixfr++;
		break;
	case XFR_SOA_ONLY:
		x->stats.ixfr_current++;
		break;
	}
	if (t->kind == XFR_SOA_ONLY)
		log_debug("IXFR of %s to %s: serial %u, client has %u: SOA only", z->origin,
			  peer, t->serial, t->client_serial);
	else
		log_info("%s of %s serial %u to %s started%s", t->qtype == WIRE_T_IXFR ?
			 "IXFR" : "AXFR", z->origin, t->serial, peer,
			 t->kind == XFR_DIFFS ? " (diffs)" :
			 t->qtype == WIRE_T_IXFR ? " (whole zone: serial not in the journal)" : "");
	*out = t;
	return WIRE_RC_NOERROR;
}

/* ======================================================================
 * messages
 * ====================================================================== */

/* Room the TSIG RR of a response takes (as query.c reserves it). */
static size_t xfr_tsig_room(const struct query *q)
{
	if (!q->tsig_signed)
		return 0;
	return q->tsig.key_name.len + q->tsig.alg_name.len + 10 + 22 + TSIG_MAC_MAX;
}

int xfr_next(struct xfr *t, struct query *q, time_t now)
{
	static const struct wire_hdr zero;
	static const struct wire_name root = { .len = 1 };
	struct wire_wr w;
	struct err e = {0};
	size_t cap = t->ctx->msg_max, reserve = xfr_tsig_room(q);
	unsigned qd = 0, an = 0, ar = 0;
	int first = t->nmsg == 0, rc;

	if (cap > q->max_size)
		cap = q->max_size;
	if (first && q->edns)
		reserve += XFR_OPT_LEN;
	if (cap < reserve + WIRE_HDR_LEN + 64) {
		rc = -EMSGSIZE;
		goto fail;
	}
	wire_wr_init(&w, q->resp, cap - reserve);
	wire_wr_hdr(&w, &zero);
	if (first) {
		wire_wr_name(&w, &q->qname);
		wire_wr_u16(&w, q->qtype);
		wire_wr_u16(&w, q->qclass);
		qd = 1;
	}
	while ((rc = xfr_peek(t)) > 0) {
		size_t mark = wire_wr_mark(&w);

		rc = wire_wr_rr(&w, t->cur.owner, t->cur.type, WIRE_C_IN, t->cur.ttl, t->cur.rd,
				t->cur.rdlen);
		if (rc == 0) {
			an++;
			xfr_advance(t);
			continue;
		}
		wire_wr_rewind(&w, mark);
		if (rc != -ENOSPC || an == 0) {
			rc = rc == -ENOSPC ? -EMSGSIZE : rc;
			goto fail;      /* bad rdata, or one RR larger than a message */
		}
		rc = 0;                 /* full: the rest goes in the next message */
		break;
	}
	if (rc < 0)
		goto fail;
	w.cap = cap;
	if (first && q->edns) {
		wire_wr_rr(&w, &root, WIRE_T_OPT, WIRE_UDP_MAX, 0, (const uint8_t *)"", 0);
		ar++;
	}
	wire_wr_patch_u16(&w, 0, q->hdr.id);
	wire_wr_patch_u16(&w, 2, (uint16_t)(WIRE_F_QR | WIRE_F_AA |
					    (q->hdr.flags & (0xf << 11 | WIRE_F_RD | WIRE_F_CD))));
	wire_wr_patch_u16(&w, 4, (uint16_t)qd);
	wire_wr_patch_u16(&w, 6, (uint16_t)an);
	wire_wr_patch_u16(&w, 10, (uint16_t)ar);
	if (q->tsig_signed && tsig_sign(&q->tsig, &w, now, &e) < 0) {
		rc = e.code;
		goto fail;
	}
	q->resp_len = w.pos;
	t->nmsg++;
	t->nrr += an;
	t->ctx->stats.messages++;
	t->ctx->stats.rrs += an;
	if (t->phase != XFR_P_DONE)
		return 1;
	if (t->kind != XFR_SOA_ONLY)
		log_info("%s of %s serial %u to %s done: %llu records in %u messages%s",
			 t->qtype == WIRE_T_IXFR ? "IXFR" : "AXFR", t->z->origin, t->serial,
			 t->peer, (unsigned long long)t->nrr, t->nmsg,
			 t->kind == XFR_DIFFS ? " (diffs)" : "");
	return 0;
fail:
	log_err("%s of %s serial %u to %s aborted after %u messages: %s",
		t->qtype == WIRE_T_IXFR ? "IXFR" : "AXFR", t->z->origin, t->serial, t->peer,
		t->nmsg, e.msg[0] ? e.msg : strerror(-rc));
	q->resp_len = 0;
	return rc;
}

void xfr_free(struct xfr *t)
{
	if (t == NULL)
		return;
	if (t->linked) {
		if (t->next != NULL)
			t->next->prev = t->prev;
		if (t->prev != NULL)
			t->prev->next = t->next;
		else
			t->ctx->list = t->next;
		t->ctx->stats.active--;
		if (t->phase != XFR_P_DONE)
			t->ctx->stats.aborted++;
	}
	xfr_old_release(t);
	xfr_carry_release(t);
	zone_rrset_unref(t->soa);
	free(t->diffs);
	free(t);
}
