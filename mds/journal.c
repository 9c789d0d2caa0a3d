/* journal: IXFR diff blobs and the per-zone ring of recent ones (see
 * journal.h). The blob is not a DNS message, so it is written and read with
 * its own few bounds-checked helpers rather than the packet writer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

/* ---- byte helpers ------------------------------------------------------- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- encoding ----------------------------------------------------------- */

/* 1 if `set` holds an RR with this rdata and this TTL. */
static int has_rr(const struct zone_rrset *set, uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	return set != NULL && set->ttl == ttl && zone_rrset_contains(set, rd, rdlen);
}

/* Visit the RRs of one side (deleted: in old not in new; added: in new not in
 * old), SOA changes in the first pass and all others in the second, so the
 * SOA leads its section. With out == NULL only size and count are summed. */
static void emit_side(const struct zone_change *c, size_t n, int deleted, uint8_t **out,
		      size_t *size, uint32_t *count)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct zone_change *ch = &c[i];
			const struct zone_rrset *from = deleted ? ch->old_set : ch->new_set;
			const struct zone_rrset *other = deleted ? ch->new_set : ch->old_set;
			const uint8_t *rd;
			uint16_t rdlen;
			uint32_t off = 0;

			if ((ch->type == WIRE_T_SOA) != (pass == 0) || from == NULL)
				continue;
			while (zone_rrset_next(from, &off, &rd, &rdlen)) {
				if (has_rr(other, from->ttl, rd, rdlen))
					continue;
				*size += ch->name.len + 2 + 4 + 2 + (size_t)rdlen;
				(*count)++;
				if (out == NULL)
					continue;
				uint8_t *p = *out;
				memcpy(p, ch->name.b, ch->name.len);
				p += ch->name.len;
				p = put16(p, ch->type);
				p = put32(p, from->ttl);
				p = put16(p, rdlen);
				memcpy(p, rd, rdlen);
				*out = p + rdlen;
			}
		}
	}
}

int journal_encode(uint32_t serial_from, uint32_t serial_to,
		   const struct zone_change *c, size_t n,
		   uint8_t **blob, size_t *len, struct err *e)
{
	size_t size = JOURNAL_HDR_LEN;
	uint32_t ndel = 0, nadd = 0;
	uint8_t *buf, *p;

	emit_side(c, n, 1, NULL, &size, &ndel);
	emit_side(c, n, 0, NULL, &size, &nadd);
	buf = malloc(size);
	if (buf == NULL)
		return err_set(e, -ENOMEM, "journal: out of memory for a %zu-byte diff", size);
	p = buf;
	*p++ = JOURNAL_MAGIC;
	*p++ = JOURNAL_VERSION;
	p = put32(p, serial_from);
	p = put32(p, serial_to);
	p = put32(p, ndel);
	p = put32(p, nadd);
	size_t dummy = 0;
	uint32_t cnt = 0;
	emit_side(c, n, 1, &p, &dummy, &cnt);
	emit_side(c, n, 0, &p, &dummy, &cnt);
	*blob = buf;
	*len = size;
	return 0;
}

/* ---- decoding ----------------------------------------------------------- */

/* One RR at blob[*pos]; checks every bound. 0 or -EBADMSG. */
static int parse_rr(const uint8_t *b, size_t len, size_t *pos, struct journal_rr *rr)
{
	size_t p = *pos, start = p;

	for (;;) {
		if (p >= len)
			return -EBADMSG;
		uint8_t l = b[p];
		if (l > WIRE_LABEL_MAX)         /* no compression in a blob */
			return -EBADMSG;
		p += 1 + (size_t)l;
		if (p - start > WIRE_NAME_MAX)
			return -EBADMSG;
		if (l == 0)
			break;
	}
	if (p > len)
		return -EBADMSG;
	rr->owner.len = (uint8_t)(p - start);
	memcpy(rr->owner.b, b + start, p - start);
	if (len - p < 8)
		return -EBADMSG;
	rr->type = get16(b + p);
	rr->ttl = get32(b + p + 2);
	rr->rdlen = get16(b + p + 6);
	p += 8;
	if (len - p < rr->rdlen)
		return -EBADMSG;
	rr->rdata = b + p;
	*pos = p + rr->rdlen;
	return 0;
}

int journal_decode(struct journal_diff *d, const uint8_t *blob, size_t len, struct err *e)
{
	struct journal_rr rr;
	size_t pos = JOURNAL_HDR_LEN;

	if (len < JOURNAL_HDR_LEN || blob[0] != JOURNAL_MAGIC)
		return err_set(e, -EBADMSG, "journal: not a diff blob (%zu bytes)", len);
	if (blob[1] != JOURNAL_VERSION)
		return err_set(e, -EBADMSG, "journal: diff version %u, this mds reads %u",
			       blob[1], JOURNAL_VERSION);
	d->serial_from = get32(blob + 2);
	d->serial_to = get32(blob + 6);
	d->ndel = get32(blob + 10);
	d->nadd = get32(blob + 14);
	d->blob = blob;
	d->len = len;
	uint64_t total = (uint64_t)d->ndel + d->nadd;
	for (uint64_t i = 0; i < total; i++)
		if (parse_rr(blob, len, &pos, &rr) < 0)
			return err_set(e, -EBADMSG, "journal: diff %u->%u: RR %llu of %llu truncated",
				       d->serial_from, d->serial_to,
				       (unsigned long long)i + 1, (unsigned long long)total);
	if (pos != len)
		return err_set(e, -EBADMSG, "journal: diff %u->%u: %zu bytes after the last RR",
			       d->serial_from, d->serial_to, len - pos);
	return 0;
}

int journal_diff_next(const struct journal_diff *d, struct journal_cursor *cur,
		      struct journal_rr *rr, int *deleted)
{
	if (cur->off == 0)
		cur->off = JOURNAL_HDR_LEN;
	if ((uint64_t)cur->idx >= (uint64_t)d->ndel + d->nadd)
		return 0;
	if (parse_rr(d->blob, d->len, &cur->off, rr) < 0)
		return 0;                       /* cannot happen after journal_decode */
	if (deleted != NULL)
		*deleted = cur->idx < d->ndel;
	cur->idx++;
	return 1;
}

/* ---- the ring ----------------------------------------------------------- */

struct journal_ent {
	uint32_t serial_from;
	uint32_t serial_to;
	uint8_t *blob;                  /* owned copy */
	size_t len;
};

struct journal {
	struct journal_ent *ring;       /* cap slots, n used from head on, wrapping */
	size_t cap;                     /* = max_entries */
	size_t head;                    /* index of the oldest entry */
	size_t n;                       /* entries held */
	size_t bytes;                   /* sum of blob lengths held */
	size_t max_bytes;               /* 0: no byte bound */
};

struct journal *journal_new(size_t max_entries, size_t max_bytes)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->cap = max_entries ? max_entries : 10000;
	j->max_bytes = max_bytes;
	j->ring = calloc(j->cap, sizeof(*j->ring));
	if (j->ring == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

static struct journal_ent *ent_at(const struct journal *j, size_t i)
{
	return &j->ring[(j->head + i) % j->cap];
}

static void drop_oldest(struct journal *j)
{
	struct journal_ent *o = ent_at(j, 0);

	j->bytes -= o->len;
	free(o->blob);
	memset(o, 0, sizeof(*o));
	j->head = (j->head + 1) % j->cap;
	j->n--;
}

void journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	while (j->n > 0)
		drop_oldest(j);
	free(j->ring);
	free(j);
}

int journal_add(struct journal *j, const uint8_t *blob, size_t len, struct err *e)
{
	struct journal_diff d;
	uint8_t *copy;
	int rc = journal_decode(&d, blob, len, e);

	if (rc < 0)
		return rc;
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return err_set(e, -ENOMEM, "journal: out of memory");
	memcpy(copy, blob, len);
	if (j->n > 0 && ent_at(j, j->n - 1)->serial_to != d.serial_from)
		while (j->n > 0)                /* chain broken: old diffs are useless */
			drop_oldest(j);
	while (j->n > 0 && (j->n == j->cap || (j->max_bytes && j->bytes + len > j->max_bytes)))
		drop_oldest(j);
	struct journal_ent *ne = ent_at(j, j->n);
	ne->serial_from = d.serial_from;
	ne->serial_to = d.serial_to;
	ne->blob = copy;
	ne->len = len;
	j->n++;
	j->bytes += len;
	return 0;
}

int journal_since(const struct journal *j, uint32_t serial,
		  int (*fn)(const uint8_t *blob, size_t len, void *arg), void *arg)
{
	size_t i;

	if (j->n == 0)
		return -ENOENT;
	if (ent_at(j, j->n - 1)->serial_to == serial)
		return 0;
	for (i = 0; i < j->n; i++)
		if (ent_at(j, i)->serial_from == serial)
			break;
	if (i == j->n)
		return -ENOENT;
	for (; i < j->n; i++) {
		const struct journal_ent *en = ent_at(j, i);
		int rc = fn(en->blob, en->len, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

size_t journal_count(const struct journal *j)
{
	return j->n;
}

size_t journal_bytes(const struct journal *j)
{
	return j->bytes;
}

int journal_first_serial(const struct journal *j, uint32_t *serial)
{
	if (j->n == 0)
		return -ENOENT;
	*serial = ent_at(j, 0)->serial_from;
	return 0;
}

int journal_last_serial(const struct journal *j, uint32_t *serial)
{
	if (j->n == 0)
		return -ENOENT;
	*serial = ent_at(j, j->n - 1)->serial_to;
	return 0;
}
