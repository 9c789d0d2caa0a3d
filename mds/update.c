/* update: RFC 2136 UPDATE processing (see update.h). The message is checked
 * whole first, then the prerequisites against the zone, then the update
 * section is prescanned and applied in one zone_txn, and the serial bumped,
 * following the pseudo-code of RFC 2136 sections 3.2 to 3.4 step by step. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "update.h"

void update_limits_default(struct update_limits *l)
{
	l->max_rrset_rrs = 10000;
	l->max_rrset_bytes = 1u << 20;
	l->max_changes = 10000;
}

/* Meta-types and QTYPEs may not be data (RFC 6895 3.1: 128-255 and OPT). */
static int is_meta(uint16_t type)
{
	return type == 0 || type == WIRE_T_OPT || (type >= 128 && type <= 255);
}

/* One RR. RFC 2136 sends empty rdata in class ANY and NONE for types that
 * otherwise always hold names, which the general reader would refuse. */
static int read_rr(struct wire_rd *r, struct wire_rr *rr)
{
	size_t save = r->pos;
	uint16_t rdlen;

	if (wire_rd_name(r, &rr->owner) < 0 || wire_rd_u16(r, &rr->type) < 0 ||
	    wire_rd_u16(r, &rr->class) < 0 || wire_rd_u32(r, &rr->ttl) < 0 ||
	    wire_rd_u16(r, &rdlen) < 0)
		goto fail;
	if (rdlen == 0 && (rr->class == WIRE_C_ANY || rr->class == WIRE_C_NONE)) {
		rr->rdlen = 0;
		rr->rdata_off = r->pos;
	} else {
		r->pos = save;
		if (wire_rd_rr(r, rr) < 0)
			goto fail;
	}
	wire_name_lower(&rr->owner);
	return 0;
fail:
	r->pos = save;
	return -EBADMSG;
}

/* The RRs of one (name, type) collected from value-dependent prerequisites. */
struct pq_set {
	struct wire_name name;
	struct zone_rrset *set;
	size_t cap;
};

struct pq {
	struct pq_set *v;
	size_t n, cap;
};

static int pq_add(struct pq *q, const struct wire_rr *rr)
{
	struct pq_set *p = NULL;

	/* Prerequisites for one rrset usually come together: look back. */
	for (size_t i = q->n; i-- > 0;) {
		if (q->v[i].set->type == rr->type && wire_name_equal(&q->v[i].name, &rr->owner)) {
			p = &q->v[i];
			break;
		}
	}
	if (p == NULL) {
		if (q->n == q->cap) {
			size_t ncap = q->cap < 8 ? 8 : q->cap * 2;
			struct pq_set *nv = realloc(q->v, ncap * sizeof(*nv));

			if (nv == NULL)
				return -ENOMEM;
			q->v = nv;
			q->cap = ncap;
		}
		p = &q->v[q->n];
		p->cap = 256;
		p->set = zone_rrset_new(rr->type, 0, p->cap);
		if (p->set == NULL)
			return -ENOMEM;
		p->name = rr->owner;
		q->n++;
	}
	if (zone_rrset_contains(p->set, rr->rdata, rr->rdlen))
		return 0;
	if (p->set->len + 2 + (size_t)rr->rdlen > p->cap) {
		size_t ncap = (p->set->len + 2 + (size_t)rr->rdlen) * 2;
		struct zone_rrset *ns = zone_rrset_new(rr->type, 0, ncap);

		if (ns == NULL)
			return -ENOMEM;
		ns->count = p->set->count;
		ns->len = p->set->len;
		memcpy(ns->rdata, p->set->rdata, p->set->len);
		zone_rrset_unref(p->set);
		p->set = ns;
		p->cap = ncap;
	}
	return zone_rrset_append(p->set, p->cap, rr->rdata, rr->rdlen);
}

static void pq_release(struct pq *q)
{
	for (size_t i = 0; i < q->n; i++)
		zone_rrset_unref(q->v[i].set);
	free(q->v);
}

/* A one-RR set (for SOA and CNAME, which replace rather than add). */
static struct zone_rrset *single(const struct wire_rr *rr)
{
	struct zone_rrset *s = zone_rrset_new(rr->type, rr->ttl, 2u + rr->rdlen);

	if (s != NULL)
		zone_rrset_append(s, 2u + rr->rdlen, rr->rdata, rr->rdlen);
	return s;
}

static uint32_t set_serial(const struct zone_rrset *soa)
{
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0, serial = 0;

	if (zone_rrset_next(soa, &off, &rd, &rdlen))
		wire_soa_serial(rd, rdlen, &serial);
	return serial;
}

/* Any change goes with exactly one serial increase: the update's own newer
 * SOA if it brought one, else the zone's serial + 1 (RFC 1982; 0 skipped,
 * as some tools read it as "unset"). */
static int bump_serial(struct zone_txn *t)
{
	struct zone *z = t->z;
	struct zone_rrset *cur = zone_soa(z), *now = zone_txn_get(t, &z->apex, WIRE_T_SOA), *s;
	uint32_t serial;
	int rc;

	if (cur == NULL || now == NULL || now != cur)
		return 0;
	serial = z->serial + 1;
	if (serial == 0)
		serial = 1;
	s = zone_rrset_new(WIRE_T_SOA, cur->ttl, cur->len);
	if (s == NULL)
		return -ENOMEM;
	memcpy(s->rdata, cur->rdata, cur->len);
	s->count = cur->count;
	s->len = cur->len;
	/* rdata starts after its 2-byte length */
	wire_soa_set_serial(s->rdata + 2, (uint16_t)(s->len - 2), serial);
	rc = zone_txn_put(t, &z->apex, WIRE_T_SOA, s);
	zone_rrset_unref(s);
	return rc;
}

#define FAIL(rcode_, code_, ...)                                  \
	do {                                                      \
		rc = (rcode_);                                    \
		err_set(e, (code_), __VA_ARGS__);                 \
		goto fail;                                        \
	} while (0)

int update_process(struct zoneset *zs, const uint8_t *msg, size_t len, size_t tsig_off,
		   const struct update_limits *lim, struct zone **zout,
		   struct zone_txn *t, struct err *e)
{
	static const uint16_t keep_apex[] = {WIRE_T_SOA, WIRE_T_NS};
	struct update_limits deflim;
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name zname;
	struct wire_rr *rr = NULL;
	struct pq pq = {0};
	struct zone *z;
	char txt[WIRE_NAME_MAX * 4 + 2];
	uint16_t ztype, zclass;
	size_t pre_off, upd_off;
	unsigned nadd, i;
	int rc;

	memset(t, 0, sizeof(*t));
	*zout = NULL;
	if (lim == NULL) {
		update_limits_default(&deflim);
		lim = &deflim;
	}
	if (tsig_off > len)
		tsig_off = len;
	/* The verified TSIG RR is the caller's: nothing here reads into it. */
	wire_rd_init(&r, msg, tsig_off);
	if (wire_rd_hdr(&r, &h) < 0)
		FAIL(WIRE_RC_FORMERR, -EBADMSG, "message shorter than a DNS header");
	if (WIRE_OPCODE(h.flags) != WIRE_OP_UPDATE || (h.flags & WIRE_F_QR))
		FAIL(WIRE_RC_FORMERR, -EBADMSG, "not an UPDATE request");
	/* 3.1: the zone section */
	if (h.qdcount != 1)
		FAIL(WIRE_RC_FORMERR, -EBADMSG, "zone section has %u entries, not 1", h.qdcount);
	if (wire_rd_question(&r, &zname, &ztype, &zclass) < 0)
		FAIL(WIRE_RC_FORMERR, -EBADMSG, "malformed zone section");
	if (ztype != WIRE_T_SOA)
		FAIL(WIRE_RC_FORMERR, -EBADMSG, "zone section type is %s, not SOA",
		     wire_type_name(ztype));
	wire_name_lower(&zname);
	if (wire_name_to_text(&zname, txt, sizeof(txt)) < 0)
		strcpy(txt, "?");
	z = zoneset_find_apex(zs, &zname);
	if (zclass != WIRE_C_IN || z == NULL)
		FAIL(WIRE_RC_NOTAUTH, -ENOENT, "not authoritative for zone %s class %u",
		     txt, zclass);
	*zout = z;

	/* The whole message must parse before anything is judged. */
	rr = malloc(sizeof(*rr));
	if (rr == NULL)
		FAIL(WIRE_RC_SERVFAIL, -ENOMEM, "out of memory");
	pre_off = upd_off = r.pos;
	nadd = h.arcount - (tsig_off < len && h.arcount > 0);
	for (i = 0; i < (unsigned)h.ancount + h.nscount + nadd; i++) {
		if (read_rr(&r, rr) < 0)
			FAIL(WIRE_RC_FORMERR, -EBADMSG, "truncated or malformed %s section (RR %u)",
			     i < h.ancount ? "prerequisite" :
			     i < (unsigned)h.ancount + h.nscount ? "update" : "additional",
			     i < h.ancount ? i + 1 : i < (unsigned)h.ancount + h.nscount ?
			     i - h.ancount + 1 : i - h.ancount - h.nscount + 1);
		if (i + 1 == h.ancount)
			upd_off = r.pos;
	}
	if (r.pos != tsig_off)
		FAIL(WIRE_RC_FORMERR, -EBADMSG, "%zu bytes after the last record",
		     tsig_off - r.pos);

	zone_txn_begin(t, z);
	/* 3.2: prerequisites, evaluated before any change */
	r.pos = pre_off;
	for (i = 0; i < h.ancount; i++) {
		read_rr(&r, rr);
		if (wire_name_to_text(&rr->owner, txt, sizeof(txt)) < 0)
			strcpy(txt, "?");
		if (rr->ttl != 0)
			FAIL(WIRE_RC_FORMERR, -EBADMSG, "prerequisite %s has TTL %u, not 0",
			     txt, rr->ttl);
		if (!wire_name_is_subdomain(&rr->owner, &z->apex))
			FAIL(WIRE_RC_NOTZONE, -EINVAL, "prerequisite %s is outside zone %s",
			     txt, z->origin);
		if (rr->class == WIRE_C_ANY || rr->class == WIRE_C_NONE) {
			int want = rr->class == WIRE_C_ANY, have;

			if (rr->rdlen != 0)
				FAIL(WIRE_RC_FORMERR, -EBADMSG,
				     "prerequisite %s class %s has rdata", txt,
				     want ? "ANY" : "NONE");
			if (rr->type == WIRE_T_ANY) {
				have = zone_txn_name_has_other(t, &rr->owner, 0);
				if (want && !have)
					FAIL(WIRE_RC_NXDOMAIN, -ENOENT,
					     "prerequisite failed: name %s is not in use", txt);
				if (!want && have)
					FAIL(WIRE_RC_YXDOMAIN, -EEXIST,
					     "prerequisite failed: name %s is in use", txt);
				continue;
			}
			if (is_meta(rr->type))
				FAIL(WIRE_RC_FORMERR, -EBADMSG, "prerequisite %s has meta-type %s",
				     txt, wire_type_name(rr->type));
			have = zone_txn_get(t, &rr->owner, rr->type) != NULL;
			if (want && !have)
				FAIL(WIRE_RC_NXRRSET, -ENOENT,
				     "prerequisite failed: no %s rrset at %s",
				     wire_type_name(rr->type), txt);
			if (!want && have)
				FAIL(WIRE_RC_YXRRSET, -EEXIST,
				     "prerequisite failed: %s rrset exists at %s",
				     wire_type_name(rr->type), txt);
		} else if (rr->class == WIRE_C_IN) {
			if (is_meta(rr->type))
				FAIL(WIRE_RC_FORMERR, -EBADMSG, "prerequisite %s has meta-type %s",
				     txt, wire_type_name(rr->type));
			if (pq_add(&pq, rr) < 0)
				FAIL(WIRE_RC_SERVFAIL, -ENOMEM, "out of memory");
		} else {
			FAIL(WIRE_RC_FORMERR, -EBADMSG, "prerequisite %s has class %u", txt,
			     rr->class);
		}
	}
	for (size_t k = 0; k < pq.n; k++) {
		if (!zone_rrset_equal(pq.v[k].set, zone_txn_get(t, &pq.v[k].name,
								 pq.v[k].set->type))) {
			if (wire_name_to_text(&pq.v[k].name, txt, sizeof(txt)) < 0)
				strcpy(txt, "?");
			FAIL(WIRE_RC_NXRRSET, -ENOENT,
			     "prerequisite failed: %s rrset at %s differs",
			     wire_type_name(pq.v[k].set->type), txt);
		}
	}

	/* 3.4.1: prescan the update section */
	r.pos = upd_off;
	for (i = 0; i < h.nscount; i++) {
		read_rr(&r, rr);
		if (wire_name_to_text(&rr->owner, txt, sizeof(txt)) < 0)
			strcpy(txt, "?");
		if (!wire_name_is_subdomain(&rr->owner, &z->apex))
			FAIL(WIRE_RC_NOTZONE, -EINVAL, "update %s is outside zone %s", txt,
			     z->origin);
		if (rr->class == WIRE_C_IN) {
			if (is_meta(rr->type))
				FAIL(WIRE_RC_FORMERR, -EBADMSG, "cannot add meta-type %s at %s",
				     wire_type_name(rr->type), txt);
		} else if (rr->class == WIRE_C_ANY) {
			if (rr->ttl != 0 || rr->rdlen != 0 ||
			    (is_meta(rr->type) && rr->type != WIRE_T_ANY))
				FAIL(WIRE_RC_FORMERR, -EBADMSG, "malformed delete of %s %s",
				     txt, wire_type_name(rr->type));
		} else if (rr->class == WIRE_C_NONE) {
			if (rr->ttl != 0 || is_meta(rr->type))
				FAIL(WIRE_RC_FORMERR, -EBADMSG, "malformed RR delete at %s %s",
				     txt, wire_type_name(rr->type));
		} else {
			FAIL(WIRE_RC_FORMERR, -EBADMSG, "update %s has class %u", txt,
			     rr->class);
		}
	}

	/* 3.4.2: apply, in order, inside the transaction */
	r.pos = upd_off;
	for (i = 0; i < h.nscount; i++) {
		struct zone_rrset *s;
		int apex;

		read_rr(&r, rr);
		apex = wire_name_equal(&rr->owner, &z->apex);
		rc = 0;
		if (rr->class == WIRE_C_IN) {
			if (rr->type == WIRE_T_CNAME ?
			    zone_txn_name_has_other(t, &rr->owner, WIRE_T_CNAME) :
			    zone_txn_get(t, &rr->owner, WIRE_T_CNAME) != NULL)
				continue;               /* CNAME and other data: ignored */
			if (rr->type == WIRE_T_SOA || rr->type == WIRE_T_CNAME) {
				uint32_t serial;

				if (rr->type == WIRE_T_SOA) {
					s = zone_txn_get(t, &rr->owner, WIRE_T_SOA);
					if (!apex || s == NULL)
						continue;
					if (wire_soa_serial(rr->rdata, rr->rdlen, &serial) < 0)
						FAIL(WIRE_RC_FORMERR, -EBADMSG,
						     "malformed SOA rdata");
					if (!wire_serial_gt(serial, set_serial(s)))
						continue;       /* not newer: ignored */
				}
				s = single(rr);
				rc = s == NULL ? -ENOMEM :
				     zone_txn_put(t, &rr->owner, rr->type, s);
				zone_rrset_unref(s);
			} else {
				rc = zone_txn_add_rr(t, &rr->owner, rr->type, rr->ttl,
						     rr->rdata, rr->rdlen);
			}
			s = zone_txn_get(t, &rr->owner, rr->type);
			if (rc == 0 && s != NULL && (s->count > lim->max_rrset_rrs ||
						     s->len > lim->max_rrset_bytes)) {
				if (wire_name_to_text(&rr->owner, txt, sizeof(txt)) < 0)
					strcpy(txt, "?");
				FAIL(WIRE_RC_REFUSED, -E2BIG,
				     "%s %s would have %u RRs, %u bytes (limits %u, %u)",
				     txt, wire_type_name(rr->type), s->count, s->len,
				     lim->max_rrset_rrs, lim->max_rrset_bytes);
			}
		} else if (rr->class == WIRE_C_ANY) {
			if (rr->type == WIRE_T_ANY)
				rc = zone_txn_del_name(t, &rr->owner, keep_apex, apex ? 2 : 0);
			else if (!(apex && (rr->type == WIRE_T_SOA || rr->type == WIRE_T_NS)))
				rc = zone_txn_del_rrset(t, &rr->owner, rr->type);
		} else {
			if (rr->type == WIRE_T_SOA)
				continue;
			s = zone_txn_get(t, &rr->owner, rr->type);
			if (apex && rr->type == WIRE_T_NS && s != NULL && s->count == 1 &&
			    zone_rrset_contains(s, rr->rdata, rr->rdlen))
				continue;               /* the last apex NS stays */
			rc = zone_txn_del_rr(t, &rr->owner, rr->type, rr->rdata, rr->rdlen);
		}
		if (rc == -EOVERFLOW)
			FAIL(WIRE_RC_REFUSED, -E2BIG, "an rrset would exceed 65535 RRs");
		if (rc < 0)
			FAIL(WIRE_RC_SERVFAIL, rc, "cannot apply update: out of memory");
		if (t->n > lim->max_changes)
			FAIL(WIRE_RC_REFUSED, -E2BIG, "update touches more than %u rrsets",
			     lim->max_changes);
	}

	/* one serial increase per changing update, then publish */
	if (zone_txn_dirty(t) && (rc = bump_serial(t)) < 0)
		FAIL(WIRE_RC_SERVFAIL, rc, "cannot bump serial: out of memory");
	rc = zone_txn_commit(t);
	if (rc < 0)
		FAIL(WIRE_RC_SERVFAIL, rc, "cannot commit update: out of memory");
	free(rr);
	pq_release(&pq);
	err_clear(e);
	return WIRE_RC_NOERROR;
fail:
	free(rr);
	pq_release(&pq);
	zone_txn_release(t);
	return rc;
}
