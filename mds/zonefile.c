/* zonefile: master files <-> struct zone through ldns (see zonefile.h). RRs
 * are read one at a time with ldns's per-RR reader (the one its whole-zone
 * reader loops over, which would silently drop a second SOA), turned into
 * canonical wire form, sorted into rrsets and bulk-loaded into a new zone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "zonefile.h"

#define ZF_DEFAULT_TTL 3600     /* for RRs without a TTL before any $TTL */

/* One RR read from the file, kept until the rrsets are known. */
struct zf_rr {
	uint32_t seq;                   /* position in the file (first wins) */
	int line;                       /* for messages */
	uint32_t ttl;
	uint16_t type, rdlen;
	uint8_t namelen;
	uint8_t data[];                 /* canonical owner, then canonical rdata */
};

struct zf_list {
	struct zf_rr **v;
	size_t n, cap;
};

static void zf_list_release(struct zf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Owner and rdata of rr in canonical wire form: names uncompressed, and the
 * embedded names lower-cased exactly as lib/wire does for received RRs, so
 * a value prerequisite sent later compares equal to what the file said. */
static int zf_convert(ldns_rr *rr, ldns_buffer *buf, uint32_t seq, int line,
		      struct zf_list *l, struct err *e)
{
	ldns_rdf *owner = ldns_rr_owner(rr);
	struct zf_rr *x;
	size_t rdlen;

	ldns_buffer_clear(buf);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		if (ldns_rdf2buffer_wire(buf, ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK)
			return err_set(e, -ENOMEM, "%d: out of memory", line);
	rdlen = ldns_buffer_position(buf);
	if (rdlen > UINT16_MAX || ldns_rdf_size(owner) > WIRE_NAME_MAX)
		return err_set(e, -EINVAL, "%d: record too long", line);
	if (l->n == l->cap) {
		size_t ncap = l->cap < 64 ? 64 : l->cap * 2;
		struct zf_rr **nv = realloc(l->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return err_set(e, -ENOMEM, "%d: out of memory", line);
		l->v = nv;
		l->cap = ncap;
	}
	x = malloc(sizeof(*x) + ldns_rdf_size(owner) + rdlen);
	if (x == NULL)
		return err_set(e, -ENOMEM, "%d: out of memory", line);
	x->seq = seq;
	x->line = line;
	x->ttl = ldns_rr_ttl(rr);
	x->type = (uint16_t)ldns_rr_get_type(rr);
	x->rdlen = (uint16_t)rdlen;
	x->namelen = (uint8_t)ldns_rdf_size(owner);
	memcpy(x->data, ldns_rdf_data(owner), x->namelen);
	for (size_t i = 0; i < x->namelen; i++)
		if (x->data[i] >= 'A' && x->data[i] <= 'Z')
			x->data[i] = (uint8_t)(x->data[i] - 'A' + 'a');
	memcpy(x->data + x->namelen, ldns_buffer_begin(buf), rdlen);
	wire_rdata_lower(x->type, x->data + x->namelen, x->rdlen);
	l->v[l->n++] = x;
	return 0;
}

/* Sort key: owner, type, rdata, then file order (so duplicates are adjacent
 * and the first of a group is the earliest in the file). */
static int zf_cmp(const void *pa, const void *pb)
{
	const struct zf_rr *a = *(const struct zf_rr *const *)pa;
	const struct zf_rr *b = *(const struct zf_rr *const *)pb;
	int c;

	if (a->namelen != b->namelen)
		return a->namelen < b->namelen ? -1 : 1;
	if ((c = memcmp(a->data, b->data, a->namelen)) != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	if ((c = memcmp(a->data + a->namelen, b->data + b->namelen, a->rdlen)) != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int same_rrset(const struct zf_rr *a, const struct zf_rr *b)
{
	return a->namelen == b->namelen && a->type == b->type &&
	       memcmp(a->data, b->data, a->namelen) == 0;
}

static int same_rr(const struct zf_rr *a, const struct zf_rr *b)
{
	return same_rrset(a, b) && a->rdlen == b->rdlen &&
	       memcmp(a->data + a->namelen, b->data + b->namelen, a->rdlen) == 0;
}

/* Every rrset of the sorted list into z. */
static int zf_build(struct zone *z, struct zf_list *l, struct err *e)
{
	for (size_t i = 0, j; i < l->n; i = j) {
		struct zf_rr *first = l->v[i];
		struct zone_rrset *s;
		struct wire_name name;
		size_t cap = 0;
		int rc = 0;

		for (j = i; j < l->n && same_rrset(l->v[i], l->v[j]); j++) {
			cap += 2 + (size_t)l->v[j]->rdlen;
			if (l->v[j]->seq < first->seq)
				first = l->v[j];
		}
		if (cap > UINT32_MAX / 2)
			return err_set(e, -E2BIG, "%d: rrset too large", first->line);
		s = zone_rrset_new(first->type, first->ttl, cap);
		if (s == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		for (size_t k = i; k < j && rc == 0; k++)
			if (k == i || !same_rr(l->v[k - 1], l->v[k]))
				rc = zone_rrset_append(s, cap, l->v[k]->data + l->v[k]->namelen,
						       l->v[k]->rdlen);
		name.len = first->namelen;
		memcpy(name.b, first->data, first->namelen);
		if (rc == 0)
			rc = zone_load(z, &name, s);
		zone_rrset_unref(s);
		if (rc == -EOVERFLOW)
			return err_set(e, rc, "%d: more than 65535 RRs in one rrset", first->line);
		if (rc < 0)
			return err_set(e, rc, "%d: out of memory", first->line);
	}
	return 0;
}

struct zone *zonefile_load(const char *path, const char *origin, struct err *e)
{
	struct zf_list l = {0};
	struct wire_name apex;
	struct zone *z = NULL;
	ldns_rdf *orig = NULL, *prev = NULL;
	ldns_buffer *buf = NULL;
	FILE *f = NULL;
	uint32_t ttl = ZF_DEFAULT_TTL, seq = 0;
	int line = 1, have_apex = 0, nsoa = 0, rc = 0;

	if (origin != NULL) {
		if ((rc = wire_name_from_text(&apex, origin, e)) < 0)
			goto fail;
		wire_name_lower(&apex);
		orig = ldns_dname_new_frm_data(apex.len, apex.b);
		if (orig == NULL) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		have_apex = 1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		rc = err_set(e, -errno, " %s", strerror(errno));
		goto fail;
	}
	buf = ldns_buffer_new(4096);
	if (buf == NULL) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	while (!feof(f)) {
		ldns_rr *rr = NULL;
		int at = line;          /* where this RR (or blank line) starts */
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &orig, &prev, &line);

		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
			rc = err_set(e, -ENOTSUP, "%d: $INCLUDE is not supported", at);
			goto fail;
		}
		if (st != LDNS_STATUS_OK) {
			rc = err_set(e, -EINVAL, "%d: %s", at, ldns_get_errorstr_by_id(st));
			goto fail;
		}
		if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
			ldns_rr_free(rr);
			rc = err_set(e, -EINVAL, "%d: only class IN is supported", at);
			goto fail;
		}
		rc = zf_convert(rr, buf, seq++, at, &l, e);
		ldns_rr_free(rr);
		if (rc < 0)
			goto fail;
		if (l.v[l.n - 1]->type == WIRE_T_SOA) {
			const struct zf_rr *x = l.v[l.n - 1];

			if (++nsoa > 1) {
				rc = err_set(e, -EINVAL, "%d: a second SOA", at);
				goto fail;
			}
			if (!have_apex) {
				apex.len = x->namelen;
				memcpy(apex.b, x->data, x->namelen);
				have_apex = 1;
			} else if (x->namelen != apex.len || memcmp(x->data, apex.b, apex.len)) {
				rc = err_set(e, -EINVAL, "%d: SOA is not at the apex", at);
				goto fail;
			}
		}
	}
	if (ferror(f)) {
		rc = err_set(e, -EIO, "read error");
		goto fail;
	}
	if (nsoa == 0) {
		rc = err_set(e, -EINVAL, "%d: no SOA record", line);
		goto fail;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct wire_name n;

		n.len = l.v[i]->namelen;
		memcpy(n.b, l.v[i]->data, n.len);
		if (!wire_name_is_subdomain(&n, &apex)) {
			rc = err_set(e, -EINVAL, "%d: owner is outside the zone", l.v[i]->line);
			goto fail;
		}
	}
	qsort(l.v, l.n, sizeof(*l.v), zf_cmp);
	z = zone_new(&apex);
	if (z == NULL) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = zf_build(z, &l, e)) < 0)
		goto fail;
	zf_list_release(&l);
	ldns_buffer_free(buf);
	ldns_rdf_deep_free(orig);
	ldns_rdf_deep_free(prev);
	fclose(f);
	return z;
fail:
	err_prefix(e, "%s:", path);
	zone_free(z);
	zf_list_release(&l);
	if (buf != NULL)
		ldns_buffer_free(buf);
	ldns_rdf_deep_free(orig);
	ldns_rdf_deep_free(prev);
	if (f != NULL)
		fclose(f);
	return NULL;
}

/* ---- writing -------------------------------------------------------------- */

struct zf_writer {
	FILE *f;
	struct err *e;
	int rc;
};

static void zf_write_rrset(const struct wire_name *name, const struct zone_rrset *s, void *arg)
{
	struct zf_writer *w = arg;
	size_t pos = 0;

	while (w->rc == 0 && pos + 2 <= s->len) {
		ldns_rr *rr = ldns_rr_new();
		ldns_rdf *owner = ldns_dname_new_frm_data(name->len, name->b);

		if (rr == NULL || owner == NULL) {
			ldns_rr_free(rr);
			ldns_rdf_deep_free(owner);
			w->rc = err_set(w->e, -ENOMEM, "out of memory");
			return;
		}
		ldns_rr_set_owner(rr, owner);
		ldns_rr_set_type(rr, (ldns_rr_type)s->type);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_ttl(rr, s->ttl);
		/* our entries are (u16 rdlength, rdata): what the wire reader takes */
		if (ldns_wire2rdf(rr, s->rdata, s->len, &pos) != LDNS_STATUS_OK) {
			w->rc = err_set(w->e, -EBADMSG, "cannot print a %s record",
					wire_type_name(s->type));
		} else {
			ldns_rr_print(w->f, rr);
		}
		ldns_rr_free(rr);
	}
}

int zonefile_write(const struct zone *z, FILE *f, struct err *e)
{
	struct zf_writer w = {f, e, 0};

	fprintf(f, "; zone %s serial %u, %llu records\n", z->origin, z->serial,
		(unsigned long long)z->nrecords);
	zone_foreach(z, zf_write_rrset, &w);
	if (w.rc == 0 && (fflush(f) != 0 || ferror(f)))
		w.rc = err_set(e, -EIO, "write error");
	return w.rc;
}
