/* zone: the in-memory zone of the mds (see zone.h). Nodes live in one chained
 * hash table keyed by canonical wire name; a node is a single allocation (its
 * rrset pointers and packed name inline) so a million inodes cost a million
 * small chunks, not three million. Transactions stage changes beside the zone
 * and publish them at commit after every allocation has succeeded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zone.h"

#define NONE UINT32_MAX
#define ZONE_TAB_MIN 64

struct zone_node {
	struct zone_node *next;         /* hash chain */
	uint32_t hash;                  /* low 32 bits of the name's hash */
	uint32_t children;              /* existing names directly below this one */
	uint16_t nsets;                 /* rrsets in sets[], sorted by type */
	uint8_t namelen;                /* bytes of the wire name packed after sets[] */
	struct zone_rrset *sets[];      /* the zone's refs */
};

/* A name the transaction touched, or an ancestor of one, as the txn sees it. */
struct zone_tnode {
	struct zone_tnode *next;        /* chain in t->ttab */
	struct zone_node *zn;           /* the zone's node (NULL: none) */
	struct zone_node *nn;           /* commit: the node replacing zn, or NULL */
	uint64_t hash;                  /* full name hash */
	uint32_t nsets;                 /* non-empty rrsets */
	uint32_t children;              /* existing names directly below */
	uint32_t first;                 /* first change at this name (chain via next) */
	uint8_t namelen;
	uint8_t name[];
};

/* ---- helpers ------------------------------------------------------------ */

/* FNV-1a, 64 bits: names are short, so a simple byte loop is as fast as
 * anything wider and spreads dnsfs's hex labels well. */
static uint64_t name_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* What malloc really uses for a request of n bytes (glibc's chunk rounding):
 * z->bytes should match the process's growth, not the sum of requests. */
static uint64_t alloc_cost(size_t n)
{
	size_t c = (n + sizeof(size_t) + 15) & ~(size_t)15;

	return c < 32 ? 32 : c;
}

static uint64_t rrset_cost(const struct zone_rrset *s)
{
	return s == NULL ? 0 : alloc_cost(sizeof(*s) + s->len);
}

static size_t node_size(size_t nsets, size_t namelen)
{
	return sizeof(struct zone_node) + nsets * sizeof(struct zone_rrset *) + namelen;
}

static uint8_t *node_name(const struct zone_node *n)
{
	return (uint8_t *)(n->sets + n->nsets);
}

static struct zone_node *node_alloc(size_t nsets, const uint8_t *name, uint8_t namelen)
{
	struct zone_node *n = malloc(node_size(nsets, namelen));

	if (n == NULL)
		return NULL;
	n->next = NULL;
	n->hash = 0;
	n->children = 0;
	n->nsets = (uint16_t)nsets;
	n->namelen = namelen;
	memcpy(node_name(n), name, namelen);
	return n;
}

static uint64_t node_cost(const struct zone_node *n)
{
	return alloc_cost(node_size(n->nsets, n->namelen));
}

static uint16_t rd_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The slot holding the node of name (or the empty slot ending its chain). */
static struct zone_node **node_slot(const struct zone *z, const uint8_t *name, uint8_t len,
				    uint64_t h)
{
	struct zone_node **pp = &z->tab[h & z->tabmask];

	for (; *pp != NULL; pp = &(*pp)->next) {
		const struct zone_node *n = *pp;

		if (n->hash == (uint32_t)h && n->namelen == len &&
		    memcmp(node_name(n), name, len) == 0)
			break;
	}
	return pp;
}

static struct zone_node *node_get(const struct zone *z, const uint8_t *name, uint8_t len,
				  uint64_t h)
{
	return *node_slot(z, name, len, h);
}

/* A table of at least `want` slots, nodes moved over; -ENOMEM keeps the old. */
static int table_resize(struct zone *z, uint64_t want)
{
	uint64_t slots = z->tabmask + 1, nslots = slots;
	struct zone_node **nt;

	while (nslots < want)
		nslots *= 2;
	if (nslots == slots)
		return 0;
	nt = calloc(nslots, sizeof(*nt));
	if (nt == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < slots; i++) {
		struct zone_node *n = z->tab[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			n->next = nt[n->hash & (nslots - 1)];
			nt[n->hash & (nslots - 1)] = n;
		}
	}
	z->bytes -= alloc_cost(slots * sizeof(*nt));
	z->bytes += alloc_cost(nslots * sizeof(*nt));
	free(z->tab);
	z->tab = nt;
	z->tabmask = nslots - 1;
	return 0;
}

/* Load factor 1: grow by doubling once the nodes outnumber the slots. The
 * stored hash is 32 bits, which bounds the table at 2^32 slots. */
static int table_reserve(struct zone *z, uint64_t nodes)
{
	uint64_t slots = z->tabmask + 1;

	if (nodes <= slots || slots >= (1ULL << 32))
		return 0;
	return table_resize(z, slots * 2 >= nodes ? slots * 2 : nodes);
}

static int is_apex(const struct zone *z, const uint8_t *name, uint8_t len)
{
	return len == z->apex.len && memcmp(name, z->apex.b, len) == 0;
}

/* ---- rrsets ------------------------------------------------------------- */

struct zone_rrset *zone_rrset_new(uint16_t type, uint32_t ttl, size_t cap)
{
	struct zone_rrset *s = malloc(sizeof(*s) + cap);

	if (s == NULL)
		return NULL;
	s->refs = 1;
	s->type = type;
	s->count = 0;
	s->ttl = ttl;
	s->len = 0;
	return s;
}

int zone_rrset_append(struct zone_rrset *s, size_t cap, const uint8_t *rd, uint16_t rdlen)
{
	if (s->count == UINT16_MAX)
		return -EOVERFLOW;
	if ((size_t)s->len + 2 + rdlen > cap)
		return -ENOSPC;
	s->rdata[s->len] = (uint8_t)(rdlen >> 8);
	s->rdata[s->len + 1] = (uint8_t)rdlen;
	if (rdlen > 0)
		memcpy(s->rdata + s->len + 2, rd, rdlen);
	s->len += 2 + (uint32_t)rdlen;
	s->count++;
	return 0;
}

struct zone_rrset *zone_rrset_ref(struct zone_rrset *s)
{
	if (s != NULL)
		s->refs++;
	return s;
}

void zone_rrset_unref(struct zone_rrset *s)
{
	if (s != NULL && --s->refs == 0)
		free(s);
}

int zone_rrset_next(const struct zone_rrset *s, uint32_t *off, const uint8_t **rd,
		    uint16_t *rdlen)
{
	uint16_t n;

	if (s == NULL || *off + 2 > s->len)
		return 0;
	n = rd_u16(s->rdata + *off);
	*rd = s->rdata + *off + 2;
	*rdlen = n;
	*off += 2 + (uint32_t)n;
	return 1;
}

/* Offset of the RR with this rdata, or -1. */
static long rrset_find(const struct zone_rrset *s, const uint8_t *rd, uint16_t rdlen)
{
	uint32_t off = 0;

	while (off + 2 <= s->len) {
		uint16_t n = rd_u16(s->rdata + off);

		if (n == rdlen && memcmp(s->rdata + off + 2, rd, rdlen) == 0)
			return (long)off;
		off += 2 + (uint32_t)n;
	}
	return -1;
}

int zone_rrset_contains(const struct zone_rrset *s, const uint8_t *rd, uint16_t rdlen)
{
	return s != NULL && rrset_find(s, rd, rdlen) >= 0;
}

/* Order of RRs (length first: the prefix is big-endian) for sorting. */
static int rr_cmp(const void *a, const void *b)
{
	const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
	uint16_t lx = rd_u16(x), ly = rd_u16(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x + 2, y + 2, lx);
}

static const uint8_t **rrset_sorted(const struct zone_rrset *s)
{
	const uint8_t **v = malloc(s->count * sizeof(*v));
	uint32_t off = 0;

	if (v == NULL)
		return NULL;
	for (unsigned i = 0; i < s->count; i++) {
		v[i] = s->rdata + off;
		off += 2 + (uint32_t)rd_u16(s->rdata + off);
	}
	qsort(v, s->count, sizeof(*v), rr_cmp);
	return v;
}

int zone_rrset_equal(const struct zone_rrset *a, const struct zone_rrset *b)
{
	const uint8_t **va = NULL, **vb = NULL;
	int eq = 1;

	if (a == b)
		return 1;
	if (a == NULL || b == NULL || a->type != b->type || a->count != b->count ||
	    a->len != b->len)
		return 0;
	/* Sets hold no duplicates, so equal sizes and a in b means equal. Small
	 * sets by scanning, large ones by sorting both. */
	if (a->count > 16) {
		va = rrset_sorted(a);
		vb = rrset_sorted(b);
	}
	if (va != NULL && vb != NULL) {
		for (unsigned i = 0; i < a->count && eq; i++)
			eq = rr_cmp(&va[i], &vb[i]) == 0;
	} else {
		uint32_t off = 0;
		const uint8_t *rd;
		uint16_t rdlen;

		while (eq && zone_rrset_next(a, &off, &rd, &rdlen))
			eq = rrset_find(b, rd, rdlen) >= 0;
	}
	free(va);
	free(vb);
	return eq;
}

/* ---- zone --------------------------------------------------------------- */

struct zone *zone_new(const struct wire_name *apex)
{
	struct zone *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->apex = *apex;
	wire_name_lower(&z->apex);
	if (wire_name_to_text(&z->apex, z->origin, sizeof(z->origin)) < 0)
		z->origin[0] = '\0';
	z->tab = calloc(ZONE_TAB_MIN, sizeof(*z->tab));
	if (z->tab == NULL) {
		free(z);
		return NULL;
	}
	z->tabmask = ZONE_TAB_MIN - 1;
	z->bytes = alloc_cost(ZONE_TAB_MIN * sizeof(*z->tab));
	return z;
}

void zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	for (uint64_t i = 0; i <= z->tabmask; i++) {
		struct zone_node *n = z->tab[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			for (unsigned j = 0; j < n->nsets; j++)
				zone_rrset_unref(n->sets[j]);
			free(n);
		}
	}
	free(z->tab);
	free(z);
}

struct zone_node *zone_find(const struct zone *z, const struct wire_name *name)
{
	return node_get(z, name->b, name->len, name_hash(name->b, name->len));
}

struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type)
{
	if (n == NULL)
		return NULL;
	for (unsigned i = 0; i < n->nsets; i++)
		if (n->sets[i]->type == type)
			return n->sets[i];
	return NULL;
}

int zone_node_has_data(const struct zone_node *n)
{
	return n != NULL && n->nsets > 0;
}

void zone_node_name(const struct zone_node *n, struct wire_name *out)
{
	out->len = n->namelen;
	memcpy(out->b, node_name(n), n->namelen);
}

void zone_node_foreach(const struct zone_node *n,
		       void (*fn)(const struct zone_rrset *, void *), void *arg)
{
	for (unsigned i = 0; i < n->nsets; i++)
		fn(n->sets[i], arg);
}

struct zone_rrset *zone_soa(const struct zone *z)
{
	return zone_node_rrset(zone_find(z, &z->apex), WIRE_T_SOA);
}

void zone_foreach(const struct zone *z,
		  void (*fn)(const struct wire_name *, const struct zone_rrset *, void *),
		  void *arg)
{
	struct zone_rrset *soa = zone_soa(z);
	struct wire_name name;

	if (soa != NULL)
		fn(&z->apex, soa, arg);
	for (uint64_t i = 0; i <= z->tabmask; i++) {
		for (const struct zone_node *n = z->tab[i]; n != NULL; n = n->next) {
			if (n->nsets == 0)
				continue;
			zone_node_name(n, &name);
			for (unsigned j = 0; j < n->nsets; j++)
				if (n->sets[j] != soa)
					fn(&name, n->sets[j], arg);
		}
	}
}

/* ---- scanning (zone transfer) ----------------------------------------- */

/* The 32 bits of v in reverse order: bucket indexes are compared this way,
 * so that the buckets a table of 2^k slots has visited stay a prefix when it
 * grows to 2^(k+1) (a bucket splits into two that sort next to each other). */
static uint32_t rev32(uint32_t v)
{
	v = (v >> 1 & 0x55555555u) | (v & 0x55555555u) << 1;
	v = (v >> 2 & 0x33333333u) | (v & 0x33333333u) << 2;
	v = (v >> 4 & 0x0f0f0f0fu) | (v & 0x0f0f0f0fu) << 4;
	v = (v >> 8 & 0x00ff00ffu) | (v & 0x00ff00ffu) << 8;
	return v >> 16 | v << 16;
}

int zone_scan(const struct zone *z, uint64_t *cursor,
	      void (*fn)(const struct wire_name *, const struct zone_rrset *, void *),
	      void *arg)
{
	uint32_t m = (uint32_t)z->tabmask, v = (uint32_t)*cursor & m;
	struct wire_name name;

	for (const struct zone_node *n = z->tab[v]; n != NULL; n = n->next) {
		if (n->nsets == 0)
			continue;
		zone_node_name(n, &name);
		for (unsigned j = 0; j < n->nsets; j++)
			fn(&name, n->sets[j], arg);
	}
	/* Add one to the reversed index: set the bits above the mask first so
	 * that the carry runs into the index bits. */
	v = rev32(rev32(v | ~m) + 1);
	*cursor = v;
	return v != 0;
}

int zone_scan_passed(const struct zone *z, uint64_t cursor, const struct wire_name *name)
{
	uint32_t m = (uint32_t)z->tabmask;
	uint32_t b = (uint32_t)name_hash(name->b, name->len) & m;

	return rev32(b) < rev32((uint32_t)cursor & m);
}

/* Copy of name, lower-cased; -EINVAL when outside the zone. */
static int zone_name(const struct zone *z, const struct wire_name *in, struct wire_name *out)
{
	*out = *in;
	wire_name_lower(out);
	return wire_name_is_subdomain(out, &z->apex) ? 0 : -EINVAL;
}

/* A copy of n with set in place of its rrset of the same type (or added). */
static struct zone_node *node_with(const struct zone_node *n, struct zone_rrset *set)
{
	unsigned i, j = 0, nsets = n->nsets + (zone_node_rrset(n, set->type) == NULL);
	struct zone_node *nn = node_alloc(nsets, node_name(n), n->namelen);

	if (nn == NULL)
		return NULL;
	nn->hash = n->hash;
	nn->children = n->children;
	for (i = 0; i < n->nsets && n->sets[i]->type < set->type; i++)
		nn->sets[j++] = n->sets[i];
	nn->sets[j++] = set;
	if (i < n->nsets && n->sets[i]->type == set->type)
		i++;
	for (; i < n->nsets; i++)
		nn->sets[j++] = n->sets[i];
	return nn;
}

int zone_load(struct zone *z, const struct wire_name *in, struct zone_rrset *set)
{
	struct zone_node *made[WIRE_NAME_MAX / 2 + 1], *old, **pp, *parent = NULL;
	struct wire_name name, up;
	size_t nmade = 0;
	uint64_t h;

	if (zone_name(z, in, &name) < 0 || set == NULL || set->count == 0)
		return -EINVAL;
	h = name_hash(name.b, name.len);
	old = node_get(z, name.b, name.len, h);
	if (old != NULL) {
		struct zone_node *nn = node_with(old, set);
		struct zone_rrset *prev = zone_node_rrset(old, set->type);

		if (nn == NULL)
			return -ENOMEM;
		pp = node_slot(z, name.b, name.len, h);
		nn->next = old->next;
		*pp = nn;
		z->bytes += node_cost(nn) - node_cost(old) + rrset_cost(set) - rrset_cost(prev);
		z->nrecords += set->count - (prev != NULL ? prev->count : 0);
		free(old);
		zone_rrset_unref(prev);
		zone_rrset_ref(set);
		goto serial;
	}
	/* New name: make it and every missing ancestor, then link them all. */
	made[nmade] = node_alloc(1, name.b, name.len);
	if (made[nmade] == NULL)
		return -ENOMEM;
	made[nmade]->hash = (uint32_t)h;
	made[nmade++]->sets[0] = set;
	up = name;
	while (!is_apex(z, up.b, up.len)) {
		wire_name_parent(&up);
		h = name_hash(up.b, up.len);
		parent = node_get(z, up.b, up.len, h);
		if (parent != NULL)
			break;
		made[nmade] = node_alloc(0, up.b, up.len);
		if (made[nmade] == NULL)
			goto fail;
		made[nmade]->hash = (uint32_t)h;
		made[nmade++]->children = 1;
	}
	if (table_reserve(z, z->nnodes + nmade) < 0)
		goto fail;
	for (size_t i = 0; i < nmade; i++) {
		struct zone_node **slot = &z->tab[made[i]->hash & z->tabmask];

		made[i]->next = *slot;
		*slot = made[i];
		z->bytes += node_cost(made[i]);
	}
	if (parent != NULL)
		parent->children++;
	z->nnodes += nmade;
	z->nrecords += set->count;
	z->bytes += rrset_cost(set);
	zone_rrset_ref(set);
serial:
	if (set->type == WIRE_T_SOA && is_apex(z, name.b, name.len)) {
		const uint8_t *rd;
		uint16_t rdlen;
		uint32_t off = 0;

		if (zone_rrset_next(set, &off, &rd, &rdlen))
			wire_soa_serial(rd, rdlen, &z->serial);
	}
	return 0;
fail:
	while (nmade > 0)
		free(made[--nmade]);
	return -ENOMEM;
}

/* ---- transactions: staging ----------------------------------------------- */

void zone_txn_begin(struct zone_txn *t, struct zone *z)
{
	memset(t, 0, sizeof(*t));
	t->z = z;
}

static int tnode_exists(const struct zone_tnode *tn)
{
	return tn->nsets > 0 || tn->children > 0;
}

static struct zone_tnode *tnode_find(const struct zone_txn *t, const uint8_t *name,
				     uint8_t len, uint64_t h)
{
	if (t->ttab == NULL)
		return NULL;
	for (struct zone_tnode *tn = t->ttab[h & t->ttabmask]; tn != NULL; tn = tn->next)
		if (tn->hash == h && tn->namelen == len && memcmp(tn->name, name, len) == 0)
			return tn;
	return NULL;
}

static void tnode_insert(struct zone_txn *t, struct zone_tnode *tn)
{
	/* Growing is an optimisation: if it fails the chains just get longer. */
	if (t->ntnodes >= t->ttabmask + 1) {
		size_t ns = (t->ttabmask + 1) * 2;
		struct zone_tnode **nt = calloc(ns, sizeof(*nt));

		if (nt != NULL) {
			for (size_t i = 0; i <= t->ttabmask; i++) {
				struct zone_tnode *p = t->ttab[i], *next;

				for (; p != NULL; p = next) {
					next = p->next;
					p->next = nt[p->hash & (ns - 1)];
					nt[p->hash & (ns - 1)] = p;
				}
			}
			free(t->ttab);
			t->ttab = nt;
			t->ttabmask = ns - 1;
		}
	}
	tn->next = t->ttab[tn->hash & t->ttabmask];
	t->ttab[tn->hash & t->ttabmask] = tn;
	t->ntnodes++;
}

/* The tnode of a canonical in-zone name, made with those of all its
 * ancestors up to the apex (all or none, so counts can always propagate). */
static struct zone_tnode *tnode_get(struct zone_txn *t, const struct wire_name *name)
{
	struct zone_tnode *made[WIRE_NAME_MAX / 2 + 1];
	size_t nmade = 0;
	struct wire_name up = *name;

	if (t->ttab == NULL) {
		t->ttab = calloc(16, sizeof(*t->ttab));
		if (t->ttab == NULL)
			return NULL;
		t->ttabmask = 15;
	}
	for (;;) {
		uint64_t h = name_hash(up.b, up.len);
		struct zone_tnode *tn = tnode_find(t, up.b, up.len, h);

		if (tn != NULL)
			break;
		tn = malloc(sizeof(*tn) + up.len);
		if (tn == NULL)
			goto fail;
		tn->zn = node_get(t->z, up.b, up.len, h);
		tn->nn = NULL;
		tn->hash = h;
		tn->nsets = tn->zn != NULL ? tn->zn->nsets : 0;
		tn->children = tn->zn != NULL ? tn->zn->children : 0;
		tn->first = NONE;
		tn->namelen = up.len;
		memcpy(tn->name, up.b, up.len);
		made[nmade++] = tn;
		if (is_apex(t->z, up.b, up.len))
			break;
		wire_name_parent(&up);
	}
	for (size_t i = 0; i < nmade; i++)
		tnode_insert(t, made[i]);
	return tnode_find(t, name->b, name->len, name_hash(name->b, name->len));
fail:
	while (nmade > 0)
		free(made[--nmade]);
	return NULL;
}

static uint32_t change_find(const struct zone_txn *t, const struct zone_tnode *tn,
			    uint16_t type)
{
	for (uint32_t i = tn->first; i != NONE; i = t->changes[i].next)
		if (t->changes[i].type == type)
			return i;
	return NONE;
}

/* The change for (name, type), made if missing (new == old == the zone's). */
static int change_get(struct zone_txn *t, const struct wire_name *name, uint16_t type,
		      struct zone_tnode **tnp, uint32_t *idx)
{
	struct zone_tnode *tn;
	struct zone_change *c;
	uint32_t i;

	if (t->committed)
		return -EINVAL;
	tn = tnode_get(t, name);
	if (tn == NULL)
		return t->failed = -ENOMEM;
	*tnp = tn;
	i = change_find(t, tn, type);
	if (i != NONE) {
		*idx = i;
		return 0;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap < 16 ? 16 : t->cap * 2;
		struct zone_change *nc;

		if (ncap >= NONE)
			return t->failed = -EOVERFLOW;
		nc = realloc(t->changes, ncap * sizeof(*nc));
		if (nc == NULL)
			return t->failed = -ENOMEM;
		t->changes = nc;
		t->cap = ncap;
	}
	c = &t->changes[t->n];
	c->name = *name;
	c->type = type;
	c->old_set = zone_rrset_ref(zone_node_rrset(tn->zn, type));
	c->new_set = zone_rrset_ref(c->old_set);
	c->cap = 0;
	c->next = tn->first;
	tn->first = (uint32_t)t->n;
	*idx = (uint32_t)t->n++;
	return 0;
}

/* One rrset of tn appeared (d = 1) or vanished (d = -1): carry the name's
 * existence change up to its ancestors. */
static void tnode_delta(struct zone_txn *t, struct zone_tnode *tn, int d)
{
	int before = tnode_exists(tn), after;

	tn->nsets += d;
	after = tnode_exists(tn);
	while (before != after && !is_apex(t->z, tn->name, tn->namelen)) {
		const uint8_t *p = tn->name + 1 + tn->name[0];
		uint8_t len = (uint8_t)(tn->namelen - 1 - tn->name[0]);

		tn = tnode_find(t, p, len, name_hash(p, len));
		before = tnode_exists(tn);
		tn->children += after ? 1 : -1;
		after = tnode_exists(tn);
	}
}

/* Make set (a ref the caller gives) the change's new set. */
static void change_set(struct zone_txn *t, struct zone_tnode *tn, uint32_t i,
		       struct zone_rrset *set)
{
	struct zone_change *c = &t->changes[i];
	int was = c->new_set != NULL;

	zone_rrset_unref(c->new_set);
	c->new_set = set;
	c->cap = 0;
	if (was != (set != NULL))
		tnode_delta(t, tn, set != NULL ? 1 : -1);
}

/* Give the change a new set only this txn holds, with room for `extra` more
 * bytes of rdata; it may move (realloc). An absent set becomes an empty one:
 * the caller fills it before anyone looks (and accounts for its appearance). */
static int change_own(struct zone_txn *t, uint32_t i, size_t extra, uint32_t ttl)
{
	struct zone_change *c = &t->changes[i];
	struct zone_rrset *s = c->new_set, *ns;
	size_t need = (s != NULL ? s->len : 0) + extra, cap;

	if (need > UINT32_MAX - sizeof(*s))
		return t->failed = -EOVERFLOW;
	if (s != NULL && c->cap > 0 && s->refs == 1) {
		if (need <= c->cap)
			return 0;
		cap = need > (size_t)c->cap * 2 ? need : (size_t)c->cap * 2;
		if (cap > UINT32_MAX - sizeof(*s))
			cap = need;
		ns = realloc(s, sizeof(*s) + cap);
		if (ns == NULL)
			return t->failed = -ENOMEM;
		c->new_set = ns;
		c->cap = (uint32_t)cap;
		return 0;
	}
	cap = need < 64 ? 64 : need + need / 4;
	if (cap > UINT32_MAX - sizeof(*s))
		cap = need;
	ns = zone_rrset_new(c->type, s != NULL ? s->ttl : ttl, cap);
	if (ns == NULL)
		return t->failed = -ENOMEM;
	if (s != NULL) {
		ns->count = s->count;
		ns->len = s->len;
		memcpy(ns->rdata, s->rdata, s->len);
	}
	zone_rrset_unref(s);
	c->new_set = ns;
	c->cap = (uint32_t)cap;
	return 0;
}

struct zone_rrset *zone_txn_get(struct zone_txn *t, const struct wire_name *in, uint16_t type)
{
	struct wire_name name;
	struct zone_tnode *tn;
	uint64_t h;

	if (zone_name(t->z, in, &name) < 0)
		return NULL;
	h = name_hash(name.b, name.len);
	tn = tnode_find(t, name.b, name.len, h);
	if (tn != NULL) {
		uint32_t i = change_find(t, tn, type);

		return i != NONE ? t->changes[i].new_set : zone_node_rrset(tn->zn, type);
	}
	return zone_node_rrset(node_get(t->z, name.b, name.len, h), type);
}

int zone_txn_name_exists(struct zone_txn *t, const struct wire_name *in)
{
	struct wire_name name;
	struct zone_tnode *tn;
	uint64_t h;

	if (zone_name(t->z, in, &name) < 0)
		return 0;
	h = name_hash(name.b, name.len);
	tn = tnode_find(t, name.b, name.len, h);
	if (tn != NULL)
		return tnode_exists(tn);
	return node_get(t->z, name.b, name.len, h) != NULL;
}

int zone_txn_name_has_other(struct zone_txn *t, const struct wire_name *in, uint16_t except)
{
	struct wire_name name;
	struct zone_tnode *tn;
	struct zone_node *zn;
	uint32_t nsets;
	uint64_t h;

	if (zone_name(t->z, in, &name) < 0)
		return 0;
	h = name_hash(name.b, name.len);
	tn = tnode_find(t, name.b, name.len, h);
	if (tn != NULL) {
		nsets = tn->nsets;
	} else {
		zn = node_get(t->z, name.b, name.len, h);
		nsets = zn != NULL ? zn->nsets : 0;
	}
	if (except != 0 && zone_txn_get(t, &name, except) != NULL)
		nsets--;
	return nsets > 0;
}

int zone_txn_add_rr(struct zone_txn *t, const struct wire_name *in, uint16_t type,
		    uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	struct wire_name name;
	struct zone_tnode *tn;
	struct zone_rrset *s;
	uint32_t i;
	int rc, was;

	if (zone_name(t->z, in, &name) < 0)
		return -EINVAL;
	rc = change_get(t, &name, type, &tn, &i);
	if (rc < 0)
		return rc;
	s = t->changes[i].new_set;
	if (s != NULL && rrset_find(s, rd, rdlen) >= 0) {
		if (s->ttl == ttl)
			return 0;
		rc = change_own(t, i, 0, ttl);
		if (rc < 0)
			return rc;
		t->changes[i].new_set->ttl = ttl;
		return 0;
	}
	if (s != NULL && s->count == UINT16_MAX)
		return t->failed = -EOVERFLOW;
	was = s != NULL;
	rc = change_own(t, i, 2 + (size_t)rdlen, ttl);
	if (rc < 0)
		return rc;
	s = t->changes[i].new_set;
	zone_rrset_append(s, t->changes[i].cap, rd, rdlen);
	s->ttl = ttl;
	t->bytes += 2 + (uint64_t)rdlen;
	if (!was)
		tnode_delta(t, tn, 1);
	return 0;
}

int zone_txn_del_rr(struct zone_txn *t, const struct wire_name *in, uint16_t type,
		    const uint8_t *rd, uint16_t rdlen)
{
	struct wire_name name;
	struct zone_tnode *tn;
	struct zone_rrset *s;
	uint32_t i;
	long off;
	int rc;

	if (zone_name(t->z, in, &name) < 0)
		return -EINVAL;
	s = zone_txn_get(t, &name, type);
	if (s == NULL || rrset_find(s, rd, rdlen) < 0)
		return 0;
	if (s->count == 1)
		return zone_txn_del_rrset(t, &name, type);
	rc = change_get(t, &name, type, &tn, &i);
	if (rc == 0)
		rc = change_own(t, i, 0, 0);
	if (rc < 0)
		return rc;
	s = t->changes[i].new_set;
	off = rrset_find(s, rd, rdlen);
	memmove(s->rdata + off, s->rdata + off + 2 + rdlen, s->len - (size_t)off - 2 - rdlen);
	s->len -= 2 + (uint32_t)rdlen;
	s->count--;
	return 0;
}

int zone_txn_del_rrset(struct zone_txn *t, const struct wire_name *in, uint16_t type)
{
	return zone_txn_put(t, in, type, NULL);
}

int zone_txn_del_name(struct zone_txn *t, const struct wire_name *in,
		      const uint16_t *keep, size_t nkeep)
{
	struct wire_name name;
	struct zone_tnode *tn;
	struct zone_node *zn;
	uint32_t i;
	int rc;

	if (zone_name(t->z, in, &name) < 0)
		return -EINVAL;
	zn = zone_find(t->z, &name);
	/* The zone's rrsets first (this makes their changes), then whatever
	 * the txn added; the second pass makes no changes, so the chain is stable. */
	for (unsigned j = 0; zn != NULL && j < zn->nsets; j++) {
		uint16_t type = zn->sets[j]->type;
		size_t k;

		for (k = 0; k < nkeep && keep[k] != type; k++)
			;
		if (k == nkeep && (rc = zone_txn_del_rrset(t, &name, type)) < 0)
			return rc;
	}
	tn = tnode_find(t, name.b, name.len, name_hash(name.b, name.len));
	for (i = tn != NULL ? tn->first : NONE; i != NONE; i = t->changes[i].next) {
		size_t k;

		for (k = 0; k < nkeep && keep[k] != t->changes[i].type; k++)
			;
		if (k == nkeep && t->changes[i].new_set != NULL)
			change_set(t, tn, i, NULL);
	}
	return 0;
}

int zone_txn_put(struct zone_txn *t, const struct wire_name *in, uint16_t type,
		 struct zone_rrset *set)
{
	struct wire_name name;
	struct zone_tnode *tn;
	uint32_t i;
	int rc;

	if (zone_name(t->z, in, &name) < 0 || (set != NULL && set->type != type))
		return -EINVAL;
	if (set != NULL && set->count == 0)
		set = NULL;
	if (set == NULL && zone_txn_get(t, &name, type) == NULL)
		return 0;
	rc = change_get(t, &name, type, &tn, &i);
	if (rc < 0)
		return rc;
	change_set(t, tn, i, zone_rrset_ref(set));
	return 0;
}

/* ---- transactions: commit ------------------------------------------------ */

static int change_noop(const struct zone_change *c)
{
	if (c->old_set == c->new_set)
		return 1;
	if (c->old_set == NULL || c->new_set == NULL || c->old_set->ttl != c->new_set->ttl)
		return 0;
	return zone_rrset_equal(c->old_set, c->new_set);
}

int zone_txn_dirty(const struct zone_txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (!change_noop(&t->changes[i]))
			return 1;
	return 0;
}

static void txn_free_tnodes(struct zone_txn *t)
{
	for (size_t i = 0; t->ttab != NULL && i <= t->ttabmask; i++) {
		struct zone_tnode *tn = t->ttab[i], *next;

		for (; tn != NULL; tn = next) {
			next = tn->next;
			free(tn->nn);
			free(tn);
		}
	}
	free(t->ttab);
	t->ttab = NULL;
	t->ttabmask = 0;
	t->ntnodes = 0;
}

/* The node tn becomes: the zone's sets with the changed ones swapped in. */
static struct zone_node *tnode_build(const struct zone_txn *t, const struct zone_tnode *tn)
{
	struct zone_node *nn = node_alloc(tn->nsets, tn->name, tn->namelen);
	const struct zone_node *zn = tn->zn;
	unsigned j = 0;

	if (nn == NULL)
		return NULL;
	nn->hash = (uint32_t)tn->hash;
	nn->children = tn->children;
	for (unsigned k = 0; zn != NULL && k < zn->nsets; k++)
		if (change_find(t, tn, zn->sets[k]->type) == NONE)
			nn->sets[j++] = zn->sets[k];
	for (uint32_t i = tn->first; i != NONE; i = t->changes[i].next)
		if (t->changes[i].new_set != NULL)
			nn->sets[j++] = t->changes[i].new_set;
	/* insertion sort by type: a node has a handful of rrsets */
	for (unsigned a = 1; a < j; a++) {
		struct zone_rrset *s = nn->sets[a];
		unsigned b = a;

		for (; b > 0 && nn->sets[b - 1]->type > s->type; b--)
			nn->sets[b] = nn->sets[b - 1];
		nn->sets[b] = s;
	}
	return nn;
}

int zone_txn_commit(struct zone_txn *t)
{
	struct zone *z = t->z;
	int64_t dnodes = 0;
	size_t i, k;

	if (t->committed)
		return -EINVAL;
	if (t->failed)
		return t->failed;
	/* 1. No-op changes keep the zone's own set; sets the txn wrote in
	 * place are trimmed to size (they may move: nothing else holds them). */
	for (i = 0; i < t->n; i++) {
		struct zone_change *c = &t->changes[i];

		if (change_noop(c)) {
			zone_rrset_unref(c->new_set);
			c->new_set = zone_rrset_ref(c->old_set);
		} else if (c->cap > 0 && c->new_set->refs == 1 && c->cap > c->new_set->len) {
			struct zone_rrset *s = realloc(c->new_set, sizeof(*s) + c->new_set->len);

			if (s != NULL)
				c->new_set = s;
		}
		c->cap = 0;
	}
	/* 2. Allocate every node that changes; nothing is visible yet. */
	for (i = 0; i <= t->ttabmask && t->ttab != NULL; i++) {
		for (struct zone_tnode *tn = t->ttab[i]; tn != NULL; tn = tn->next) {
			int changed = 0;

			for (uint32_t j = tn->first; j != NONE; j = t->changes[j].next)
				changed |= t->changes[j].old_set != t->changes[j].new_set;
			if (!tnode_exists(tn)) {
				dnodes -= tn->zn != NULL;
				continue;
			}
			if (tn->zn != NULL && !changed)
				continue;
			dnodes += tn->zn == NULL;
			tn->nn = tnode_build(t, tn);
			if (tn->nn == NULL)
				goto fail;
		}
	}
	if (table_reserve(z, z->nnodes + (uint64_t)(dnodes > 0 ? dnodes : 0)) < 0)
		goto fail;
	/* 3. Publish: from here nothing can fail. */
	for (i = 0; i <= t->ttabmask && t->ttab != NULL; i++) {
		for (struct zone_tnode *tn = t->ttab[i]; tn != NULL; tn = tn->next) {
			struct zone_node **pp;

			if (tn->nn != NULL) {
				pp = node_slot(z, tn->name, tn->namelen, tn->hash);
				if (tn->zn != NULL) {
					tn->nn->next = tn->zn->next;
					z->bytes -= node_cost(tn->zn);
					free(tn->zn);
				} else {
					tn->nn->next = NULL;
				}
				*pp = tn->nn;
				z->bytes += node_cost(tn->nn);
				tn->nn = NULL;
			} else if (tn->zn != NULL && !tnode_exists(tn)) {
				pp = node_slot(z, tn->name, tn->namelen, tn->hash);
				*pp = tn->zn->next;
				z->bytes -= node_cost(tn->zn);
				free(tn->zn);
			} else if (tn->zn != NULL) {
				tn->zn->children = tn->children;
			}
			tn->zn = NULL;
		}
	}
	z->nnodes = (uint64_t)((int64_t)z->nnodes + dnodes);
	/* The zone's refs move from old sets to new ones; no-ops leave the list. */
	for (i = k = 0; i < t->n; i++) {
		struct zone_change *c = &t->changes[i];

		if (c->old_set == c->new_set) {
			zone_rrset_unref(c->old_set);
			zone_rrset_unref(c->new_set);
			continue;
		}
		z->bytes += rrset_cost(c->new_set) - rrset_cost(c->old_set);
		z->nrecords += (c->new_set != NULL ? c->new_set->count : 0);
		z->nrecords -= (c->old_set != NULL ? c->old_set->count : 0);
		zone_rrset_ref(c->new_set);
		zone_rrset_unref(c->old_set);   /* the zone's; the change keeps its own */
		if (c->type == WIRE_T_SOA && c->new_set != NULL &&
		    wire_name_equal(&c->name, &z->apex)) {
			const uint8_t *rd;
			uint16_t rdlen;
			uint32_t off = 0;

			if (zone_rrset_next(c->new_set, &off, &rd, &rdlen))
				wire_soa_serial(rd, rdlen, &z->serial);
		}
		c->next = NONE;
		t->changes[k++] = *c;
	}
	t->n = k;
	txn_free_tnodes(t);
	t->committed = 1;
	return 0;
fail:
	for (i = 0; i <= t->ttabmask && t->ttab != NULL; i++) {
		for (struct zone_tnode *tn = t->ttab[i]; tn != NULL; tn = tn->next) {
			free(tn->nn);
			tn->nn = NULL;
		}
	}
	return -ENOMEM;
}

void zone_txn_release(struct zone_txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		zone_rrset_unref(t->changes[i].old_set);
		zone_rrset_unref(t->changes[i].new_set);
	}
	free(t->changes);
	txn_free_tnodes(t);
	memset(t, 0, sizeof(*t));
}

/* ---- zoneset ------------------------------------------------------------ */

struct zone *zoneset_find(const struct zoneset *zs, const struct wire_name *name)
{
	struct zone *best = NULL;

	for (size_t i = 0; i < zs->n; i++)
		if (wire_name_is_subdomain(name, &zs->zones[i]->apex) &&
		    (best == NULL || zs->zones[i]->apex.len > best->apex.len))
			best = zs->zones[i];
	return best;
}

struct zone *zoneset_find_apex(const struct zoneset *zs, const struct wire_name *apex)
{
	for (size_t i = 0; i < zs->n; i++)
		if (wire_name_equal(apex, &zs->zones[i]->apex))
			return zs->zones[i];
	return NULL;
}

int zoneset_add(struct zoneset *zs, struct zone *z)
{
	struct zone **nz;

	if (zoneset_find_apex(zs, &z->apex) != NULL)
		return -EEXIST;
	nz = realloc(zs->zones, (zs->n + 1) * sizeof(*nz));
	if (nz == NULL)
		return -ENOMEM;
	zs->zones = nz;
	zs->zones[zs->n++] = z;
	return 0;
}

void zoneset_release(struct zoneset *zs)
{
	for (size_t i = 0; i < zs->n; i++)
		zone_free(zs->zones[i]);
	free(zs->zones);
	zs->zones = NULL;
	zs->n = 0;
}
