/* query: the mds request path (see query.h). Requests are read with lib/wire's
 * bounds-checked reader and answered with its writer straight from the zone's
 * canonical rdata; nothing here touches a socket or mallocs per request. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "journal.h"
#include "log.h"
#include "placement.h"
#include "query.h"
#include "record.h"
#include "refs.h"
#include "store.h"
#include "xfr.h"

/* What the query path derives from one zone and keeps up to date. */
struct query_zinfo {
	struct zone *z;                 /* not owned */
	uint64_t ncuts;                 /* names below the apex owning NS (delegations) */
	struct wire_name srv_name;      /* _blockd._tcp.<apex>; len 0 if too long */
	struct zone_rrset *srv;         /* SRV set `place` was built from (ref held) */
	struct placement *place;        /* its nodes; NULL when there is no SRV set */
	struct refs *refs;              /* block reference counts of the zone's records */
	struct journal *journal;        /* recent durable diffs, for IXFR */
};

enum { CH_VERSION_BIND, CH_VERSION_SERVER, CH_ID_SERVER, CH_HOSTNAME_BIND, CH_N };

struct query_ctx {
	struct query_options o;         /* as given, defaults filled in */
	char *version;                  /* owned copies of o.version / o.identity */
	char *identity;
	struct tsig_keyring nokeys;     /* empty ring used while o.keys is NULL */
	struct query_zinfo *zi;         /* one per zone of o.zones, same order */
	size_t nzi;
	struct wire_name ch[CH_N];      /* the CH class names answered */
	struct query_stats stats;
	struct query *pend_head;        /* deferred updates, oldest (first committed) first */
	struct query *pend_tail;
	size_t npending;
	unsigned depth;                 /* query_process calls on the stack */
	struct query *done_head;        /* answered while depth > 0: on_done pending */
	struct query *done_tail;
	query_observer_fn observer;     /* sees every finished response, or NULL */
	void *observer_arg;
	struct log_limit loglimit;      /* lines a peer can cause, one per request */
};

/* ======================================================================
 * context
 * ====================================================================== */

static void query_count_cuts(const struct wire_name *name, const struct zone_rrset *s,
			     void *arg)
{
	struct query_zinfo *zi = arg;

	if (s->type == WIRE_T_NS && !wire_name_equal(name, &zi->z->apex))
		zi->ncuts++;
}

static int query_zinfo_init(struct query_zinfo *zi, struct zone *z, unsigned journal_max,
			    struct err *e)
{
	memset(zi, 0, sizeof(*zi));
	zi->z = z;
	if ((zi->journal = journal_new(journal_max, 0)) == NULL)
		return err_set(e, -ENOMEM, "query: out of memory");
	zone_foreach(z, query_count_cuts, zi);
	zi->srv_name = z->apex;
	if (wire_name_prepend(&zi->srv_name, "_tcp", 4) < 0 ||
	    wire_name_prepend(&zi->srv_name, "_blockd", 7) < 0)
		zi->srv_name.len = 0;
	return refs_rebuild(&zi->refs, z, e);
}

static void query_zinfo_release(struct query_zinfo *zi)
{
	placement_free(zi->place);
	zone_rrset_unref(zi->srv);
	refs_free(zi->refs);
	journal_free(zi->journal);
	memset(zi, 0, sizeof(*zi));
}

static struct query_zinfo *query_zinfo_find(struct query_ctx *c, const struct zone *z)
{
	for (size_t i = 0; i < c->nzi; i++)
		if (c->zi[i].z == z)
			return &c->zi[i];
	return NULL;
}

int query_ctx_zones_changed(struct query_ctx *c, struct err *e)
{
	const struct zoneset *zs = c->o.zones;
	struct query_zinfo *nzi = calloc(zs->n ? zs->n : 1, sizeof(*nzi));
	size_t i;

	if (nzi == NULL)
		return err_set(e, -ENOMEM, "query: out of memory");
	/* New zones first, so that a failure leaves the old table as it was. */
	for (i = 0; i < zs->n; i++)
		if (query_zinfo_find(c, zs->zones[i]) == NULL &&
		    query_zinfo_init(&nzi[i], zs->zones[i], c->o.journal_max, e) < 0)
			goto fail;
	for (i = 0; i < zs->n; i++) {
		struct query_zinfo *old = query_zinfo_find(c, zs->zones[i]);

		if (old != NULL) {
			nzi[i] = *old;
			memset(old, 0, sizeof(*old));   /* moved */
		}
	}
	for (i = 0; i < c->nzi; i++)
		query_zinfo_release(&c->zi[i]);
	free(c->zi);
	c->zi = nzi;
	c->nzi = zs->n;
	return 0;
fail:
	for (i = 0; i < zs->n; i++)
		query_zinfo_release(&nzi[i]);
	free(nzi);
	return e->code;
}

struct query_ctx *query_ctx_new(const struct query_options *o, struct err *e)
{
	static const char *const chn[CH_N] = {
		"version.bind.", "version.server.", "id.server.", "hostname.bind.",
	};
	struct query_ctx *c = NULL;

	if (o->zones == NULL) {
		err_set(e, -EINVAL, "query: no zone set");
		goto fail;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto oom;
	c->o = *o;
	if (o->version != NULL && (c->version = strdup(o->version)) == NULL)
		goto oom;
	if (o->identity != NULL && (c->identity = strdup(o->identity)) == NULL)
		goto oom;
	c->o.version = c->version;
	c->o.identity = c->identity;
	if (c->o.place_replicas == 0)
		c->o.place_replicas = 3;
	if (c->o.journal_max == 0)
		c->o.journal_max = 10000;
	if (c->o.limits.max_rrset_rrs == 0 && c->o.limits.max_rrset_bytes == 0 &&
	    c->o.limits.max_changes == 0)
		update_limits_default(&c->o.limits);
	if (c->o.keys == NULL)
		c->o.keys = &c->nokeys;
	for (int i = 0; i < CH_N; i++)
		if (wire_name_from_text(&c->ch[i], chn[i], e) < 0)
			goto fail;
	if (query_ctx_zones_changed(c, e) < 0)
		goto fail;
	return c;
oom:
	err_set(e, -ENOMEM, "query: out of memory");
fail:
	query_ctx_free(c);
	return NULL;
}

void query_ctx_free(struct query_ctx *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nzi; i++)
		query_zinfo_release(&c->zi[i]);
	free(c->zi);
	free(c->version);
	free(c->identity);
	free(c);
}

void query_ctx_set_keys(struct query_ctx *c, const struct tsig_keyring *keys)
{
	c->o.keys = keys != NULL ? keys : &c->nokeys;
}

const struct query_stats *query_ctx_stats(const struct query_ctx *c)
{
	return &c->stats;
}

void query_ctx_set_observer(struct query_ctx *c, query_observer_fn fn, void *arg)
{
	c->observer = fn;
	c->observer_arg = fn != NULL ? arg : NULL;
}

size_t query_ctx_pending(const struct query_ctx *c)
{
	return c->npending;
}

struct refs *query_ctx_refs(struct query_ctx *c, const struct zone *z)
{
	struct query_zinfo *zi = query_zinfo_find(c, z);

	return zi != NULL ? zi->refs : NULL;
}

struct journal *query_ctx_journal(struct query_ctx *c, const struct zone *z)
{
	struct query_zinfo *zi = query_zinfo_find(c, z);

	return zi != NULL ? zi->journal : NULL;
}

void query_ctx_pending_changes(const struct query_ctx *c, const struct zone *z,
			       void (*fn)(const struct zone_change *ch, size_t n, void *arg),
			       void *arg)
{
	for (const struct query *p = c->pend_head; p != NULL; p = p->pend_next)
		if (p->uzone == z && p->txn_live && !p->reverted)
			fn(p->txn.changes, p->txn.n, arg);
}

static time_t query_now(const struct query_ctx *c)
{
	return c->o.now != NULL ? c->o.now() : time(NULL);
}

/* ======================================================================
 * query objects and the arena
 * ====================================================================== */

struct query *query_new(struct query_ctx *c)
{
	struct query *q = calloc(1, sizeof(*q));

	if (q != NULL)
		q->ctx = c;
	return q;
}

void query_free(struct query *q)
{
	if (q == NULL)
		return;
	if (q->txn_live)
		zone_txn_release(&q->txn);
	xfr_free(q->xfr);
	free(q);
}

void *query_alloc(struct query *q, size_t n)
{
	size_t at = (q->arena.used + 15) & ~(size_t)15;

	if (n > sizeof(q->arena.buf) || at > sizeof(q->arena.buf) - n)
		return NULL;
	q->arena.used = at + n;
	return q->arena.buf + at;
}

static void query_reset(struct query *q)
{
	q->has_question = 0;
	q->edns = 0;
	q->edns_version = 0;
	q->edns_flags = 0;
	q->tsig_signed = 0;             /* q->tsig is valid only when set (verify fills it) */
	q->resp_len = 0;
	q->rcode = 0;
	q->rflags = 0;
	q->qd = q->an = q->ns = q->ar = 0;
	q->uzone = NULL;
	q->txn_live = 0;
	q->reverted = 0;
	q->entered = 0;
	q->done_early = 0;
	q->arena.used = 0;
	xfr_free(q->xfr);               /* a stream its caller abandoned */
	q->xfr = NULL;
}

/* ======================================================================
 * writing the response
 * ====================================================================== */

/* Room the OPT and TSIG records need at the end of the message. */
static size_t query_reserve(const struct query *q)
{
	size_t n = q->edns ? 11 : 0;

	/* TSIG: owner + 10, algorithm + time 6 + fudge 2 + mac size 2 + mac +
	 * original id 2 + error 2 + other len 2 + other 6 (BADTIME). */
	if (q->tsig_signed)
		n += q->tsig.key_name.len + q->tsig.alg_name.len + 10 + 22 + TSIG_MAC_MAX;
	return n;
}

/* Start a response: header placeholder and the question as it was sent. */
static void query_begin(struct query *q, int rcode)
{
	static const struct wire_hdr zero;
	size_t reserve = query_reserve(q);

	wire_wr_init(&q->w, q->resp, q->max_size);
	q->w.cap = q->max_size > reserve + WIRE_HDR_LEN ? q->max_size - reserve : WIRE_HDR_LEN;
	q->rcode = rcode;
	q->rflags = 0;
	q->qd = q->an = q->ns = q->ar = 0;
	wire_wr_hdr(&q->w, &zero);
	if (q->has_question) {
		size_t mark = wire_wr_mark(&q->w);

		if (wire_wr_name(&q->w, &q->qname) == 0 && wire_wr_u16(&q->w, q->qtype) == 0 &&
		    wire_wr_u16(&q->w, q->qclass) == 0)
			q->qd = 1;
		else
			wire_wr_rewind(&q->w, mark);
	}
	q->body = wire_wr_mark(&q->w);
}

static int query_put(struct query *q, unsigned *count, const struct wire_name *owner,
		     uint16_t type, uint16_t class, uint32_t ttl, const uint8_t *rd,
		     uint16_t rdlen)
{
	int rc = wire_wr_rr(&q->w, owner, type, class, ttl, rd, rdlen);

	if (rc < 0)
		return rc;
	(*count)++;
	return 0;
}

static int query_put_rrset(struct query *q, unsigned *count, const struct wire_name *owner,
			   const struct zone_rrset *s)
{
	uint32_t off = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	int rc;

	while (zone_rrset_next(s, &off, &rd, &rdlen))
		if ((rc = query_put(q, count, owner, s->type, WIRE_C_IN, s->ttl, rd, rdlen)) < 0)
			return rc;
	return 0;
}

/* The answer does not fit: keep header and question only, with TC set. */
static void query_truncate(struct query *q)
{
	wire_wr_rewind(&q->w, q->body);
	q->an = q->ns = q->ar = 0;
	q->rflags |= WIRE_F_TC;
	q->ctx->stats.truncated++;
}

/* Close the response: OPT, counts and flags, then the TSIG signature. */
static enum query_result query_finish(struct query *q)
{
	struct query_ctx *c = q->ctx;
	uint16_t flags;

	if (q->w.overflow)
		query_truncate(q);
	q->w.cap = q->max_size;
	if (q->edns) {
		static const struct wire_name root = { .len = 1 };
		uint32_t ttl = ((uint32_t)(q->rcode >> 4) & 0xff) << 24 |
			       (q->edns_flags & 0x8000u);        /* DO echoed (RFC 3225) */

		if (query_put(q, &q->ar, &root, WIRE_T_OPT, WIRE_UDP_MAX, ttl,
			      (const uint8_t *)"", 0) < 0)
			goto drop;
	}
	flags = WIRE_F_QR | (q->hdr.flags & (0xf << 11 | WIRE_F_RD | WIRE_F_CD)) |
		q->rflags | (q->rcode & 0xf);
	wire_wr_patch_u16(&q->w, 0, q->hdr.id);
	wire_wr_patch_u16(&q->w, 2, flags);
	wire_wr_patch_u16(&q->w, 4, (uint16_t)q->qd);
	wire_wr_patch_u16(&q->w, 6, (uint16_t)q->an);
	wire_wr_patch_u16(&q->w, 8, (uint16_t)q->ns);
	wire_wr_patch_u16(&q->w, 10, (uint16_t)q->ar);
	if (q->tsig_signed) {
		struct err e = {0};

		if (tsig_sign(&q->tsig, &q->w, query_now(c), &e) < 0) {
			log_limited(&c->loglimit, LOG_LEVEL_WARN,
				    "query: cannot sign the response to id %u: %s", q->hdr.id,
				    e.msg);
			goto drop;
		}
	}
	q->resp_len = q->w.pos;
	c->stats.rcode[q->rcode & 0xf]++;
	if (c->observer != NULL)
		c->observer(c->observer_arg, q);
	q->in_len = 0;
	return QUERY_RESPOND;
drop:
	q->resp_len = 0;
	c->stats.dropped++;
	return QUERY_DROP;
}

/* A response with no records besides the question (and OPT/TSIG). */
static enum query_result query_reply(struct query *q, int rcode)
{
	query_begin(q, rcode);
	return query_finish(q);
}

/* TXT rdata for logical text (docs/SCHEMA.md: strings concatenated), cut
 * into character-strings by the record codec, in the arena. */
static uint8_t *query_txt(struct query *q, const char *text, size_t n, uint16_t *rdlen)
{
	size_t max = RECORD_STRS_FOR(n), len = 0;
	struct record_str *strs = query_alloc(q, max * sizeof(*strs));
	uint8_t *rd;
	int k;

	if (strs == NULL || (k = record_text_to_strings(text, n, strs, max, NULL)) < 0 ||
	    n + (size_t)k > UINT16_MAX || (rd = query_alloc(q, n + (size_t)k)) == NULL)
		return NULL;
	for (int i = 0; i < k; i++) {
		rd[len++] = (uint8_t)strs[i].len;
		memcpy(rd + len, strs[i].p, strs[i].len);
		len += strs[i].len;
	}
	*rdlen = (uint16_t)len;
	return rd;
}

/* ======================================================================
 * zone lookups
 * ====================================================================== */

/* Start offsets of the labels of n (the root not counted); returns how many. */
static int query_labels(const struct wire_name *n, uint8_t off[WIRE_NAME_MAX / 2 + 1])
{
	int k = 0;

	for (size_t p = 0; p < n->len && n->b[p] != 0; p += n->b[p] + 1u)
		off[k++] = (uint8_t)p;
	return k;
}

/* A name embedded in canonical rdata at skip: uncompressed, within rdlen. */
static int query_rdata_name(const uint8_t *rd, uint16_t rdlen, size_t skip,
			    struct wire_name *n)
{
	size_t p = skip;

	while (p < rdlen && rd[p] != 0 && rd[p] <= WIRE_LABEL_MAX)
		p += rd[p] + 1u;
	if (p >= rdlen || rd[p] != 0 || p + 1 - skip > WIRE_NAME_MAX)
		return -EBADMSG;
	n->len = (uint8_t)(p + 1 - skip);
	memcpy(n->b, rd + skip, n->len);
	return 0;
}

enum { LOOK_NX, LOOK_FOUND, LOOK_CUT };

/* Find name (canonical, in the zone). A name owning NS strictly below the
 * apex is a zone cut: it and everything below it get a referral. Only zones
 * with delegations pay for the walk down from the apex. */
static int query_lookup(const struct query_zinfo *zi, const struct wire_name *name,
			struct zone_node **node)
{
	uint8_t off[WIRE_NAME_MAX / 2 + 1];
	int i;

	if (zi->ncuts > 0) {
		i = query_labels(name, off) - wire_name_labels(&zi->z->apex) - 1;
		for (; i >= 0; i--) {
			struct wire_name anc;

			anc.len = (uint8_t)(name->len - off[i]);
			memcpy(anc.b, name->b + off[i], anc.len);
			if ((*node = zone_find(zi->z, &anc)) == NULL)
				return LOOK_NX;
			if (zone_node_rrset(*node, WIRE_T_NS) != NULL)
				return LOOK_CUT;
			if (i == 0)
				return LOOK_FOUND;
		}
	}
	*node = zone_find(zi->z, name);
	return *node != NULL ? LOOK_FOUND : LOOK_NX;
}

/* The SOA for a negative answer (RFC 2308): TTL = min(SOA TTL, MINIMUM). */
static void query_negative(struct query *q, const struct query_zinfo *zi, int rcode)
{
	const struct zone_rrset *soa = zone_soa(zi->z);
	uint32_t off = 0, min, ttl;
	const uint8_t *rd;
	uint16_t rdlen;

	q->rcode = rcode;
	if (soa == NULL || !zone_rrset_next(soa, &off, &rd, &rdlen))
		return;
	ttl = soa->ttl;
	if (wire_soa_minimum(rd, rdlen, &min) == 0 && min < ttl)
		ttl = min;
	query_put(q, &q->ns, &zi->z->apex, WIRE_T_SOA, WIRE_C_IN, ttl, rd, rdlen);
}

/* Addresses of in-zone targets of NS, MX and SRV records, as far as they
 * fit: the additional section is never a reason for TC. */
static void query_additional(struct query *q, const struct query_zinfo *zi,
			     const struct zone_rrset *s)
{
	static const uint16_t types[] = { WIRE_T_A, WIRE_T_AAAA };
	uint32_t off = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	size_t skip;

	switch (s->type) {
	case WIRE_T_NS: skip = 0; break;
	case WIRE_T_MX: skip = 2; break;
	case WIRE_T_SRV: skip = 6; break;
	default: return;
	}
	if (q->w.overflow)
		return;
	while (zone_rrset_next(s, &off, &rd, &rdlen)) {
		struct wire_name target;
		struct zone_node *n;

		if (query_rdata_name(rd, rdlen, skip, &target) < 0 ||
		    !wire_name_is_subdomain(&target, &zi->z->apex) ||
		    (n = zone_find(zi->z, &target)) == NULL)
			continue;
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			const struct zone_rrset *a = zone_node_rrset(n, types[i]);
			size_t mark = wire_wr_mark(&q->w);
			unsigned ar = q->ar;

			if (a != NULL && query_put_rrset(q, &q->ar, &target, a) < 0) {
				wire_wr_rewind(&q->w, mark);
				q->ar = ar;
				return;
			}
		}
	}
}

/* A referral to the child zone at node: its NS in authority, glue. */
static void query_referral(struct query *q, const struct query_zinfo *zi,
			   const struct zone_node *node)
{
	const struct zone_rrset *ns = zone_node_rrset(node, WIRE_T_NS);
	struct wire_name cut;

	zone_node_name(node, &cut);
	q->rflags &= (uint16_t)~WIRE_F_AA;
	if (query_put_rrset(q, &q->ns, &cut, ns) == 0)
		query_additional(q, zi, ns);
}

struct query_any {
	struct query *q;
	const struct wire_name *owner;
};

static void query_any_rrset(const struct zone_rrset *s, void *arg)
{
	struct query_any *a = arg;

	query_put_rrset(a->q, &a->q->an, a->owner, s);
}

/* ======================================================================
 * placement synthesis: <32hex>.<32hex>.place.<zone> TXT
 * ====================================================================== */

/* Bring zi->place in step with the zone's _blockd._tcp SRV set. */
static int query_place_sync(struct query_zinfo *zi)
{
	struct zone_node *node = zi->srv_name.len ? zone_find(zi->z, &zi->srv_name) : NULL;
	struct zone_rrset *set = node != NULL ? zone_node_rrset(node, WIRE_T_SRV) : NULL;
	struct placement *p = NULL;
	uint32_t off = 0;
	const uint8_t *rd;
	uint16_t rdlen;

	if (set == zi->srv)
		return 0;
	if (set != NULL) {
		if ((p = placement_new()) == NULL)
			return -ENOMEM;
		while (zone_rrset_next(set, &off, &rd, &rdlen)) {
			struct wire_name target;
			char id[4 * WIRE_NAME_MAX + 2];
			struct err e = {0};

			/* SRV: priority, weight, port, target (RFC 2782). */
			if (query_rdata_name(rd, rdlen, 6, &target) < 0 || target.len == 1 ||
			    wire_name_to_text(&target, id, sizeof(id)) < 0)
				continue;
			if (placement_add(p, id, (uint32_t)(rd[2] << 8 | rd[3]), &e) == -ENOMEM) {
				placement_free(p);
				return -ENOMEM;
			}
			/* -EEXIST: the same node twice; the first weight holds. */
		}
	}
	placement_free(zi->place);
	zone_rrset_unref(zi->srv);
	zi->place = p;
	zi->srv = set != NULL ? zone_rrset_ref(set) : NULL;
	return 0;
}

/* nabove labels stand before "place": 2 hash labels make a block hash; fewer
 * are the empty non-terminals above the synthesized names. */
static void query_place(struct query *q, struct query_zinfo *zi, const uint8_t *off,
			int nabove)
{
	const uint8_t *b = q->lname.b;
	struct hash h;
	size_t idx[QUERY_PLACE_MAX], n = 0, len;
	char *text;
	const uint8_t *rd;
	uint16_t rdlen;

	int ok = nabove <= 2;

	/* The labels hold the hash's halves: the last label is the second half. */
	for (int i = 0; ok && i < nabove; i++)
		ok = b[off[i]] == HASH_NAME_HEX_LEN &&
		     hash_hex_decode(h.b + HASH_NAME_LEN * (i + 2 - nabove), HASH_NAME_LEN,
				     (const char *)b + off[i] + 1, HASH_NAME_HEX_LEN) == 0;
	if (!ok) {
		query_negative(q, zi, WIRE_RC_NXDOMAIN);
		return;
	}
	if (nabove < 2 || (q->qtype != WIRE_T_TXT && q->qtype != WIRE_T_ANY)) {
		query_negative(q, zi, WIRE_RC_NOERROR);
		return;
	}
	if (query_place_sync(zi) < 0 ||
	    (text = query_alloc(q, 64 + QUERY_PLACE_MAX * (PLACEMENT_ID_MAX + 1))) == NULL) {
		q->rcode = WIRE_RC_SERVFAIL;
		return;
	}
	if (zi->place != NULL)
		n = placement_rank(zi->place, &h, idx, QUERY_PLACE_MAX);
	len = (size_t)sprintf(text, "nodes=");
	for (size_t i = 0; i < n; i++) {
		const struct placement_node *pn = &zi->place->nodes[idx[i]];

		if (i > 0)
			text[len++] = ',';
		memcpy(text + len, pn->id, pn->id_len);
		len += pn->id_len;
	}
	/* refs=: the committed records' count (applied before the commit is
	 * durable, so never below what Redis holds): the GC's check (SCHEMA.md). */
	len += (size_t)sprintf(text + len, " rep=%u refs=%" PRId64, q->ctx->o.place_replicas,
			       zi->refs != NULL ? refs_get(zi->refs, &h) : (int64_t)0);
	if ((rd = query_txt(q, text, len, &rdlen)) == NULL) {
		q->rcode = WIRE_RC_SERVFAIL;
		return;
	}
	query_put(q, &q->an, &q->qname, WIRE_T_TXT, WIRE_C_IN, zi->srv ? zi->srv->ttl : 0,
		  rd, rdlen);
}

/* ======================================================================
 * QUERY
 * ====================================================================== */

/* CH class: who we are, for `dig CH TXT version.bind`. */
static enum query_result query_chaos(struct query *q)
{
	const struct query_ctx *c = q->ctx;
	const char *val = NULL;
	int i;
	const uint8_t *rd;
	uint16_t rdlen;

	for (i = 0; i < CH_N; i++)
		if (wire_name_equal(&q->lname, &c->ch[i]))
			break;
	if (i < CH_N)
		val = i <= CH_VERSION_SERVER ? c->version : c->identity;
	if (val == NULL)
		return query_reply(q, WIRE_RC_REFUSED);
	query_begin(q, WIRE_RC_NOERROR);
	q->rflags |= WIRE_F_AA;
	if (q->qtype == WIRE_T_TXT || q->qtype == WIRE_T_ANY) {
		if ((rd = query_txt(q, val, strlen(val), &rdlen)) == NULL)
			q->rcode = WIRE_RC_SERVFAIL;
		else
			query_put(q, &q->an, &q->qname, WIRE_T_TXT, WIRE_C_CH, 0, rd, rdlen);
	}
	return query_finish(q);
}

/* Answer from the zone: the name, CNAMEs followed inside the zone. */
static void query_resolve(struct query *q, const struct query_zinfo *zi)
{
	const struct wire_name *name = &q->lname, *owner = &q->qname;
	struct wire_name *chain = NULL;
	struct zone_node *node;
	const struct zone_rrset *set;

	for (int hop = 0;; hop++) {
		int look = query_lookup(zi, name, &node);

		if (look == LOOK_NX) {
			query_negative(q, zi, WIRE_RC_NXDOMAIN);
			return;
		}
		if (look == LOOK_CUT) {
			if (hop == 0)
				query_referral(q, zi, node);
			return;         /* a chain into a child zone stops at the cut */
		}
		if (!zone_node_has_data(node)) {
			query_negative(q, zi, WIRE_RC_NOERROR);
			return;
		}
		if (q->qtype == WIRE_T_ANY) {
			/* Every rrset of the name: our rrsets are small and this is
			 * what `dig ANY` users debugging metadata want (not RFC 8482). */
			struct query_any a = { q, owner };

			zone_node_foreach(node, query_any_rrset, &a);
			return;
		}
		if ((set = zone_node_rrset(node, q->qtype)) != NULL) {
			if (query_put_rrset(q, &q->an, owner, set) == 0)
				query_additional(q, zi, set);
			return;
		}
		if ((set = zone_node_rrset(node, WIRE_T_CNAME)) == NULL) {
			query_negative(q, zi, WIRE_RC_NOERROR);
			return;
		}
		if (query_put_rrset(q, &q->an, owner, set) < 0 || hop + 1 >= QUERY_CNAME_MAX)
			return;
		if (chain == NULL &&
		    (chain = query_alloc(q, QUERY_CNAME_MAX * sizeof(*chain))) == NULL)
			return;
		uint32_t off = 0;
		const uint8_t *rd;
		uint16_t rdlen;

		if (!zone_rrset_next(set, &off, &rd, &rdlen) ||
		    query_rdata_name(rd, rdlen, 0, &chain[hop]) < 0 ||
		    !wire_name_is_subdomain(&chain[hop], &zi->z->apex))
			return;         /* out of the zone: the client resolves on */
		if (wire_name_equal(&chain[hop], &q->lname))
			return;         /* a loop: stop where it closes */
		for (int i = 0; i < hop; i++)
			if (wire_name_equal(&chain[hop], &chain[i]))
				return;
		name = owner = &chain[hop];
	}
}

static enum query_result query_answer(struct query *q)
{
	struct query_ctx *c = q->ctx;
	uint8_t off[WIRE_NAME_MAX / 2 + 1];
	struct query_zinfo *zi;
	struct zone *z;
	int nl, nz;

	if (q->qclass == WIRE_C_CH)
		return query_chaos(q);
	if (q->qclass != WIRE_C_IN)
		return query_reply(q, WIRE_RC_REFUSED);
	switch (q->qtype) {
	case WIRE_T_OPT:
	case WIRE_T_TSIG:
	case 249:                       /* TKEY: meta types are not questions */
		return query_reply(q, WIRE_RC_FORMERR);
	case 253:                       /* MAILB, MAILA */
	case 254:
		return query_reply(q, WIRE_RC_NOTIMP);
	}
	if ((z = zoneset_find(c->o.zones, &q->lname)) == NULL)
		return query_reply(q, WIRE_RC_REFUSED);
	if ((zi = query_zinfo_find(c, z)) == NULL) {
		log_err("query: zone %s is served but unknown to the query path", z->origin);
		return query_reply(q, WIRE_RC_SERVFAIL);
	}
	if (q->qtype == WIRE_T_AXFR || q->qtype == WIRE_T_IXFR)
		return query_xfr(q, z);
	query_begin(q, WIRE_RC_NOERROR);
	q->rflags |= WIRE_F_AA;
	nl = query_labels(&q->lname, off);
	nz = wire_name_labels(&z->apex);
	if (nl > nz && q->lname.b[off[nl - nz - 1]] == 5 &&
	    memcmp(q->lname.b + off[nl - nz - 1] + 1, "place", 5) == 0)
		query_place(q, zi, off, nl - nz - 1);
	else
		query_resolve(q, zi);
	return query_finish(q);
}

enum query_result query_xfr(struct query *q, struct zone *z)
{
	struct query_ctx *c = q->ctx;
	int rc;

	if (c->o.xfr == NULL)
		return query_reply(q, WIRE_RC_NOTIMP);
	rc = xfr_start(c->o.xfr, q, z, query_ctx_journal(c, z), query_now(c), &q->xfr);
	if (rc != WIRE_RC_NOERROR)
		return query_reply(q, rc);
	c->stats.rcode[WIRE_RC_NOERROR]++;
	return query_next(q);
}

enum query_result query_next(struct query *q)
{
	int rc;

	if (q->xfr == NULL)
		return QUERY_DROP;
	rc = xfr_next(q->xfr, q, query_now(q->ctx));
	if (rc > 0)
		return QUERY_STREAM;
	xfr_free(q->xfr);
	q->xfr = NULL;
	if (rc < 0) {
		q->resp_len = 0;
		q->ctx->stats.dropped++;
		return QUERY_DROP;
	}
	return QUERY_RESPOND;
}

/* ======================================================================
 * UPDATE
 * ====================================================================== */

/* Keep the count of delegations right across a change list. */
static void query_cuts_apply(struct query_zinfo *zi, const struct zone_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ch[i].type != WIRE_T_NS || wire_name_equal(&ch[i].name, &zi->z->apex))
			continue;
		if (ch[i].old_set == NULL && ch[i].new_set != NULL)
			zi->ncuts++;
		else if (ch[i].old_set != NULL && ch[i].new_set == NULL && zi->ncuts > 0)
			zi->ncuts--;
	}
}

static uint32_t query_set_serial(const struct zone_rrset *soa, uint32_t dflt)
{
	uint32_t off = 0, serial;
	const uint8_t *rd;
	uint16_t rdlen;

	if (soa != NULL && zone_rrset_next(soa, &off, &rd, &rdlen) &&
	    wire_soa_serial(rd, rdlen, &serial) == 0)
		return serial;
	return dflt;
}

/* Undo a deferred update in memory, as far as later updates did not change
 * the same rrsets again (those are undone first, newest first). counted: the
 * update's delegations and block refs were counted and are uncounted too. */
static void query_revert(struct query *q, int counted)
{
	struct zone *z = q->uzone;
	struct query_zinfo *zi = query_zinfo_find(q->ctx, z);
	struct zone_txn t;
	int rc = 0;

	zone_txn_begin(&t, z);
	for (size_t i = q->txn.n; i-- > 0 && rc == 0;) {
		const struct zone_change *ch = &q->txn.changes[i];
		struct zone_node *n = zone_find(z, &ch->name);

		if ((n != NULL ? zone_node_rrset(n, ch->type) : NULL) == ch->new_set)
			rc = zone_txn_put(&t, &ch->name, ch->type, ch->old_set);
	}
	if (rc == 0)
		rc = zone_txn_commit(&t);
	if (rc == 0 && q->ctx->o.xfr != NULL)
		xfr_zone_changed(q->ctx->o.xfr, z, t.changes, t.n);
	if (rc == 0 && zi != NULL && counted) {
		struct store_ref *refs = NULL;
		size_t nrefs = 0;
		struct err e = {0};

		query_cuts_apply(zi, t.changes, t.n);
		if (refs_apply(zi->refs, z, t.changes, t.n, &refs, &nrefs, &e) < 0)
			log_err("query: block reference counts of %s are off after undoing "
				"an update: %s", z->origin, e.msg);
		free(refs);
	}
	if (rc < 0)
		log_err("query: cannot undo a failed update of %s in memory (%s); "
			"restart the mds to reload it from the store", z->origin, strerror(-rc));
	zone_txn_release(&t);
}

static void query_pending_unlink(struct query_ctx *c, struct query *q)
{
	if (q->pend_prev != NULL)
		q->pend_prev->pend_next = q->pend_next;
	else
		c->pend_head = q->pend_next;
	if (q->pend_next != NULL)
		q->pend_next->pend_prev = q->pend_prev;
	else
		c->pend_tail = q->pend_prev;
	q->pend_next = q->pend_prev = NULL;
	c->npending--;
}

/* A durable update joins the zone's journal ring (the store keeps its own
 * copy in Redis; the ring serves IXFR without a round-trip). */
static void query_journal_add(struct query *q)
{
	struct query_zinfo *zi = query_zinfo_find(q->ctx, q->uzone);
	uint8_t *blob = NULL;
	size_t len;
	struct err e = {0};

	if (zi == NULL ||
	    journal_encode(q->serial_from, q->serial_to, q->txn.changes, q->txn.n, &blob, &len,
			   &e) < 0 ||
	    journal_add(zi->journal, blob, len, &e) < 0)
		log_warn("update of %s: not in the IXFR journal: %s", q->uzone->origin, e.msg);
	free(blob);
}

static void query_commit_done(void *arg, int rc, const char *msg)
{
	struct query *q = arg, *p;
	struct query_ctx *c = q->ctx;

	if (rc < 0 && !q->reverted) {
		/* Later updates of this zone were computed on top of this one
		 * and the store fails them too: undo them all, newest first. */
		for (p = c->pend_tail; p != NULL; p = p->pend_prev) {
			if (p->uzone == q->uzone && !p->reverted) {
				query_revert(p, 1);
				p->reverted = 1;
			}
			if (p == q)
				break;
		}
	}
	if (rc < 0) {
		log_err("update of %s (id %u) not committed: %s", q->uzone->origin, q->hdr.id,
			msg != NULL ? msg : strerror(-rc));
	} else if (q->reverted) {
		log_err("update of %s (id %u) is durable but was undone in memory after an "
			"earlier commit failed; restart the mds to reload the zone",
			q->uzone->origin, q->hdr.id);
	}
	if (rc == 0 && !q->reverted) {
		query_journal_add(q);
		if (c->o.on_durable != NULL)
			c->o.on_durable(c->o.on_durable_arg, q->uzone, q->serial_to,
					q->txn.changes, q->txn.n);
	}
	query_pending_unlink(c, q);
	zone_txn_release(&q->txn);
	q->txn_live = 0;
	if (rc == 0 && !q->reverted)
		c->stats.updates++;
	else
		c->stats.update_failed++;
	q->arena.used = 0;
	query_reply(q, rc == 0 && !q->reverted ? WIRE_RC_NOERROR : WIRE_RC_SERVFAIL);
	if (q->entered) {
		q->done_early = 1;      /* query_update returns the answer itself */
	} else if (q->owner == NULL) {
		query_free(q);
	} else if (c->depth > 0) {
		/* Not inside someone's query_process: its caller's buffers are busy. */
		q->pend_next = NULL;
		if (c->done_tail != NULL)
			c->done_tail->pend_next = q;
		else
			c->done_head = q;
		c->done_tail = q;
	} else {
		q->on_done(q);
	}
}

/* Hand back the answers held while query_process ran. */
static void query_flush_done(struct query_ctx *c)
{
	struct query *q;

	while ((q = c->done_head) != NULL) {
		c->done_head = q->pend_next;
		if (c->done_head == NULL)
			c->done_tail = NULL;
		q->pend_next = NULL;
		if (q->owner == NULL)
			query_free(q);
		else
			q->on_done(q);
	}
}

static enum query_result query_update(struct query *q, const uint8_t *msg, size_t len,
				      size_t tsig_off)
{
	struct query_ctx *c = q->ctx;
	struct store_batch b;
	struct zone_change *soa = NULL;
	struct store_ref *refs = NULL;
	struct query_zinfo *zi;
	struct err e = {0};
	struct zone *z = NULL;
	int rc;

	if (!q->tsig_signed) {
		log_limited(&c->loglimit, LOG_LEVEL_INFO,
			    "update refused: not signed (TSIG required)");
		return query_reply(q, WIRE_RC_REFUSED);
	}
	if (c->o.store == NULL)
		return query_reply(q, WIRE_RC_REFUSED);
	rc = update_process(c->o.zones, msg, len, tsig_off, &c->o.limits, &z, &q->txn, &e);
	if (rc != WIRE_RC_NOERROR) {
		log_limited(&c->loglimit, LOG_LEVEL_INFO, "update of %s refused: %s: %s",
			    z != NULL ? z->origin : "?", wire_rcode_name(rc), e.msg);
		return query_reply(q, rc);
	}
	if (q->txn.n == 0) {
		zone_txn_release(&q->txn);
		return query_reply(q, WIRE_RC_NOERROR);
	}
	q->uzone = z;
	q->txn_live = 1;
	if (c->o.xfr != NULL)
		xfr_zone_changed(c->o.xfr, z, q->txn.changes, q->txn.n);
	zi = query_zinfo_find(c, z);
	memset(&b, 0, sizeof(b));
	if (zi == NULL ||
	    refs_apply(zi->refs, z, q->txn.changes, q->txn.n, &refs, &b.nrefs, &e) < 0) {
		log_err("update of %s: block reference counts: %s", z->origin,
			zi != NULL ? e.msg : "zone unknown to the query path");
		query_revert(q, 0);
		zone_txn_release(&q->txn);
		q->txn_live = 0;
		return query_reply(q, WIRE_RC_SERVFAIL);
	}
	for (size_t i = 0; i < q->txn.n; i++)
		if (q->txn.changes[i].type == WIRE_T_SOA)
			soa = &q->txn.changes[i];
	b.z = z;
	b.refs = refs;
	b.serial_to = q->serial_to = z->serial;
	b.serial_from = q->serial_from =
		soa != NULL ? query_set_serial(soa->old_set, z->serial) : z->serial;
	b.changes = q->txn.changes;
	b.nchanges = q->txn.n;
	query_cuts_apply(zi, q->txn.changes, q->txn.n);
	/* Pending before the call: a store may answer from inside it. */
	q->pend_prev = c->pend_tail;
	q->pend_next = NULL;
	if (c->pend_tail != NULL)
		c->pend_tail->pend_next = q;
	else
		c->pend_head = q;
	c->pend_tail = q;
	c->npending++;
	q->entered = 1;
	if ((rc = store_commit(c->o.store, &b, query_commit_done, q)) < 0)
		query_commit_done(q, rc, store_error(c->o.store));
	q->entered = 0;
	free(refs);                     /* the store copied the batch */
	if (q->done_early)
		return q->resp_len > 0 ? QUERY_RESPOND : QUERY_DROP;
	return QUERY_DEFERRED;
}

enum query_update_result query_update_result(const struct query *q)
{
	if (WIRE_OPCODE(q->hdr.flags) != WIRE_OP_UPDATE)
		return QUERY_UPDATE_NONE;
	/* uzone is set once an update went to the store (query_update). */
	if (q->uzone != NULL)
		return q->rcode == WIRE_RC_NOERROR ? QUERY_UPDATE_APPLIED : QUERY_UPDATE_FAILED;
	return q->rcode == WIRE_RC_NOERROR ? QUERY_UPDATE_NOOP : QUERY_UPDATE_REFUSED;
}

/* ======================================================================
 * the request
 * ====================================================================== */

/* Walk the sections after the question: every RR must lie inside the message
 * (counts larger than the packet are FORMERR). Notes the OPT and whether a
 * TSIG RR is there (tsig_find then says where and whether it is placed
 * right). */
static int query_scan(struct query *q, struct wire_rd *r, int *has_tsig)
{
	unsigned total = (unsigned)q->hdr.ancount + q->hdr.nscount + q->hdr.arcount;
	unsigned first_ar = total - q->hdr.arcount;

	*has_tsig = 0;
	if ((size_t)total * 11 > r->len - r->pos)      /* an RR takes 11 bytes or more */
		return -EBADMSG;
	for (unsigned i = 0; i < total; i++) {
		struct wire_name owner;
		uint16_t type, class, rdlen;
		uint32_t ttl;

		if (wire_rd_name(r, &owner) < 0 || wire_rd_u16(r, &type) < 0 ||
		    wire_rd_u16(r, &class) < 0 || wire_rd_u32(r, &ttl) < 0 ||
		    wire_rd_u16(r, &rdlen) < 0 || wire_rd_skip(r, rdlen) < 0)
			return -EBADMSG;
		if (type == WIRE_T_TSIG)
			*has_tsig = 1;
		if (type != WIRE_T_OPT)
			continue;
		if (i < first_ar || q->edns || owner.len != 1)
			return -EBADMSG;        /* RFC 6891 6.1.1 */
		q->edns = 1;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->edns_flags = (uint16_t)ttl;
		q->max_size = class < WIRE_UDP_PLAIN ? WIRE_UDP_PLAIN :
			      class > WIRE_UDP_MAX ? WIRE_UDP_MAX : class;
	}
	return 0;
}

/* Check the TSIG of a signed request; the rcode to answer with, or 0. */
static int query_verify(struct query *q, const uint8_t *msg, size_t len)
{
	struct err e = {0};
	int rc = tsig_verify_request(&q->tsig, q->ctx->o.keys, msg, len,
				     query_now(q->ctx), &e);

	if (q->tsig.key != NULL) {
		q->key = *q->tsig.key;
		q->tsig.key = &q->key;
	}
	if (rc == 0)
		return 0;
	log_limited(&q->ctx->loglimit, LOG_LEVEL_INFO, "request id %u: TSIG rejected: %s",
		    q->hdr.id, e.msg);
	if (rc == -EBADMSG) {
		q->tsig_signed = 0;
		return WIRE_RC_FORMERR;
	}
	return WIRE_RC_NOTAUTH;
}

static enum query_result query_request(struct query *q, const uint8_t *msg, size_t len)
{
	struct query_ctx *c = q->ctx;
	struct wire_rd r;
	size_t tsig_off = len;
	int opcode, has_tsig, rc;

	query_reset(q);
	wire_rd_init(&r, msg, len);
	if (wire_rd_hdr(&r, &q->hdr) < 0 || (q->hdr.flags & WIRE_F_QR)) {
		c->stats.dropped++;     /* nothing to answer, or a response: never reply */
		return QUERY_DROP;
	}
	c->stats.queries++;
	q->max_size = q->transport == QUERY_TCP ? WIRE_TCP_MAX : WIRE_UDP_PLAIN;
	opcode = WIRE_OPCODE(q->hdr.flags);
	if (opcode != WIRE_OP_QUERY && opcode != WIRE_OP_NOTIFY && opcode != WIRE_OP_UPDATE)
		return query_reply(q, WIRE_RC_NOTIMP);
	if (q->hdr.qdcount != 1 ||
	    wire_rd_question(&r, &q->qname, &q->qtype, &q->qclass) < 0)
		return query_reply(q, WIRE_RC_FORMERR);
	q->has_question = 1;
	q->lname = q->qname;
	wire_name_lower(&q->lname);
	if (query_scan(q, &r, &has_tsig) < 0 ||
	    (has_tsig && tsig_find(msg, len, &tsig_off) != 1)) {
		q->edns = 0;
		q->max_size = q->transport == QUERY_TCP ? WIRE_TCP_MAX : WIRE_UDP_PLAIN;
		return query_reply(q, WIRE_RC_FORMERR);
	}
	if (q->transport == QUERY_TCP)
		q->max_size = WIRE_TCP_MAX;
	if (has_tsig) {
		q->tsig_signed = 1;
		if ((rc = query_verify(q, msg, len)) != 0)
			return query_reply(q, rc);
	}
	if (q->edns && q->edns_version > 0)
		return query_reply(q, WIRE_RC_BADVERS);
	switch (opcode) {
	case WIRE_OP_QUERY:
		return query_answer(q);
	case WIRE_OP_NOTIFY:
		return query_reply(q, WIRE_RC_REFUSED);     /* we are the primary */
	default:
		return query_update(q, msg, len, tsig_off);
	}
}

enum query_result query_process(struct query *q, const uint8_t *msg, size_t len)
{
	struct query_ctx *c = q->ctx;
	enum query_result r;

	c->depth++;
	clock_gettime(CLOCK_MONOTONIC, &q->t_recv);
	q->in_len = len;
	q->req = msg;
	q->req_len = len;
	r = query_request(q, msg, len);
	q->req = NULL;
	q->req_len = 0;
	if (--c->depth == 0)
		query_flush_done(c);
	return r;
}
