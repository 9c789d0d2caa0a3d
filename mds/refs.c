/* refs: per-zone block reference counts (see refs.h). The table is linear
 * probing with backward-shift deletion, so removing a hash leaves no
 * tombstone; slots with count 0 are empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "refs.h"

/* ---- the table ---------------------------------------------------------- */

struct refs_slot {
	uint8_t key[HASH_LEN];          /* SHA-256 of the block */
	int64_t count;                  /* > 0; 0 marks an empty slot */
};

struct refs {
	struct refs_slot *slots;        /* mask + 1 slots */
	size_t mask;
	size_t n;                       /* slots in use */
	uint64_t seed[4];               /* per-table, so crafted hashes cannot pile up */
};

#define REFS_MIN_SLOTS 64

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static size_t slot_of(const struct refs *r, const uint8_t *key)
{
	uint64_t w, h = 0;

	for (int i = 0; i < 4; i++) {
		memcpy(&w, key + 8 * i, 8);
		h = mix64(h ^ w ^ r->seed[i]);
	}
	return (size_t)h & r->mask;
}

struct refs *refs_new(void)
{
	struct refs *r = calloc(1, sizeof(*r));
	struct timespec ts;

	if (r == NULL)
		return NULL;
	r->slots = calloc(REFS_MIN_SLOTS, sizeof(*r->slots));
	if (r->slots == NULL) {
		free(r);
		return NULL;
	}
	r->mask = REFS_MIN_SLOTS - 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t s = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid() << 40
		^ (uint64_t)(uintptr_t)r;
	for (int i = 0; i < 4; i++)
		r->seed[i] = s = mix64(s + 0x9e3779b97f4a7c15ULL);
	return r;
}

void refs_free(struct refs *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

size_t refs_size(const struct refs *r)
{
	return r->n;
}

static struct refs_slot *find(const struct refs *r, const uint8_t *key)
{
	for (size_t i = slot_of(r, key);; i = (i + 1) & r->mask) {
		struct refs_slot *sl = &r->slots[i];
		if (sl->count == 0)
			return NULL;
		if (memcmp(sl->key, key, HASH_LEN) == 0)
			return sl;
	}
}

int64_t refs_get(const struct refs *r, const struct hash *h)
{
	const struct refs_slot *sl = find(r, h->b);

	return sl ? sl->count : 0;
}

/* Make room for `more` new keys at a load of at most 3/4. */
static int reserve(struct refs *r, size_t more)
{
	size_t want = r->mask + 1;
	struct refs_slot *old = r->slots, *ns;
	size_t oldn = r->mask + 1;

	while ((r->n + more) * 4 > want * 3)
		want *= 2;
	if (want == oldn)
		return 0;
	ns = calloc(want, sizeof(*ns));
	if (ns == NULL)
		return -ENOMEM;
	r->slots = ns;
	r->mask = want - 1;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].count == 0)
			continue;
		size_t j = slot_of(r, old[i].key);
		while (ns[j].count != 0)
			j = (j + 1) & r->mask;
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

/* Set a count (0 removes). The caller reserved room for a new key. */
static void set_count(struct refs *r, const uint8_t *key, int64_t count)
{
	size_t i = slot_of(r, key);

	while (r->slots[i].count != 0 && memcmp(r->slots[i].key, key, HASH_LEN) != 0)
		i = (i + 1) & r->mask;
	struct refs_slot *sl = &r->slots[i];
	if (sl->count != 0 && count != 0) {
		sl->count = count;
		return;
	}
	if (sl->count == 0) {
		if (count == 0)
			return;
		memcpy(sl->key, key, HASH_LEN);
		sl->count = count;
		r->n++;
		return;
	}
	/* Remove slot i: shift later members of its cluster back into the
	 * hole unless their home lies cyclically within (hole, j]. */
	r->n--;
	size_t hole = i;
	for (size_t j = (i + 1) & r->mask; r->slots[j].count != 0; j = (j + 1) & r->mask) {
		size_t home = slot_of(r, r->slots[j].key);
		int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (stays)
			continue;
		r->slots[hole] = r->slots[j];
		hole = j;
	}
	memset(&r->slots[hole], 0, sizeof(r->slots[hole]));
}

int refs_foreach(const struct refs *r,
		 int (*fn)(const struct hash *h, int64_t count, void *arg), void *arg)
{
	struct hash h;

	for (size_t i = 0; i <= r->mask; i++) {
		if (r->slots[i].count == 0)
			continue;
		memcpy(h.b, r->slots[i].key, HASH_LEN);
		int rc = fn(&h, r->slots[i].count, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- which records hold refs -------------------------------------------- */

/* The label `idx` (0 = leftmost) of n, as a pointer to its length byte. */
static const uint8_t *label_at(const struct wire_name *n, int idx)
{
	const uint8_t *p = n->b;

	while (idx-- > 0 && *p != 0)
		p += 1 + *p;
	return p;
}

static int label_is(const uint8_t *lab, char c)
{
	return lab[0] == 1 && (lab[1] | 0x20) == c;
}

enum refs_kind refs_name_kind(const struct wire_name *apex, const struct wire_name *name)
{
	int below;

	if (!wire_name_is_subdomain(name, apex))
		return REFS_NONE;
	below = wire_name_labels(name) - wire_name_labels(apex);
	if (below == 2 && label_is(label_at(name, 1), 'i'))
		return REFS_INODE;
	if (below == 3 && label_is(label_at(name, 2), 'm'))
		return REFS_MAP;
	return REFS_NONE;
}

/* ---- hashes in a TXT record --------------------------------------------- */

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skip a run of decimal digits followed by `sep`; NULL if not there. */
static const char *digits_then(const char *p, const char *end, char sep)
{
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == s || p >= end || *p != sep)
		return NULL;
	return p + 1;
}

/* One hash of exactly 64 hex digits in [p, end); 1 if it is one. */
static int hex64(const char *p, const char *end, struct hash *h)
{
	if (end - p != HASH_HEX_LEN)
		return 0;
	for (const char *q = p; q < end; q++)
		if (!is_hex(*q))
			return 0;
	return hash_from_hex(h, p, HASH_HEX_LEN) == 0;
}

/* The hashes of one token [p, end). Returns hashes found or fn's value. */
static int scan_token(const char *p, const char *end,
		      int (*fn)(const struct hash *h, void *arg), void *arg, int *found)
{
	struct hash h;
	int stripe;

	if (end - p < 2 || p[1] != '=' || (p[0] != 'b' && p[0] != 's'))
		return 0;
	stripe = p[0] == 's';
	p += 2;
	if ((p = digits_then(p, end, ':')) == NULL || (p = digits_then(p, end, ':')) == NULL)
		return 0;
	if (stripe && ((p = digits_then(p, end, '+')) == NULL ||
		       (p = digits_then(p, end, ':')) == NULL))
		return 0;
	if (!stripe) {
		if (!hex64(p, end, &h))
			return 0;
		(*found)++;
		return fn(&h, arg);
	}
	while (p < end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		if (q == NULL)
			q = end;
		if (hex64(p, q, &h)) {
			(*found)++;
			int rc = fn(&h, arg);
			if (rc != 0)
				return rc;
		}
		p = q + 1;
	}
	return 0;
}

struct via_record {
	int (*fn)(const struct hash *h, void *arg);
	void *arg;
	int found;
};

static int record_hash(const struct hash *h, void *arg)
{
	struct via_record *v = arg;

	v->found++;
	return v->fn(h, v->arg);
}

/* The codec's walk over a record that parses; 1 if it did (rc set). */
static int hashes_by_record(enum refs_kind kind, const char *text, size_t n,
			    struct via_record *v, int *rc)
{
	if (kind == REFS_INODE) {
		struct record_inode ri;
		if (record_inode_parse_text(&ri, text, n, NULL) < 0)
			return 0;
		*rc = record_inode_for_each_hash(&ri, record_hash, v);
		record_inode_release(&ri);
		return 1;
	}
	if (kind == REFS_MAP) {
		struct record_page rp;
		if (record_page_parse_text(&rp, text, n, NULL) < 0)
			return 0;
		*rc = record_page_for_each_hash(&rp, record_hash, v);
		record_page_release(&rp);
		return 1;
	}
	return 0;
}

int refs_hashes_in_txt(enum refs_kind kind, const uint8_t *rdata, uint16_t rdlen,
		       int (*fn)(const struct hash *h, void *arg), void *arg)
{
	char small[4096], *text = small;
	struct via_record v = { fn, arg, 0 };
	size_t n = 0;
	int found = 0, rc = 0;

	/* The logical text: the character-strings, concatenated. */
	if (rdlen > sizeof(small) && (text = malloc(rdlen)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < rdlen;) {
		size_t l = rdata[i++];
		if (l > (size_t)rdlen - i)
			l = (size_t)rdlen - i;     /* malformed: take what is there */
		memcpy(text + n, rdata + i, l);
		n += l;
		i += l;
	}
	if (hashes_by_record(kind, text, n, &v, &rc)) {
		found = v.found;
		goto out;
	}
	/* Not a record the codec accepts (a newer v=, a malformed one): pin
	 * every well-formed ref token anyway. Counting too much only delays
	 * GC; counting too little would let it delete a block still named. */
	for (size_t i = 0; i < n && rc == 0;) {
		while (i < n && (text[i] == ' ' || text[i] == '\t'))
			i++;
		size_t s = i;
		while (i < n && text[i] != ' ' && text[i] != '\t')
			i++;
		if (i > s)
			rc = scan_token(text + s, text + i, fn, arg, &found);
	}
out:
	if (text != small)
		free(text);
	return rc != 0 ? rc : found;
}

/* ---- applying changes --------------------------------------------------- */

struct occ {
	uint8_t key[HASH_LEN];
	int32_t delta;                  /* -1 or +1 */
};

struct occs {
	struct occ *v;
	size_t n, cap;
	int32_t delta;                  /* what the current rrset adds */
};

static int occ_push(const struct hash *h, void *arg)
{
	struct occs *o = arg;

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct occ *v = realloc(o->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	memcpy(o->v[o->n].key, h->b, HASH_LEN);
	o->v[o->n++].delta = o->delta;
	return 0;
}

static int occ_cmp(const void *a, const void *b)
{
	return memcmp(((const struct occ *)a)->key, ((const struct occ *)b)->key, HASH_LEN);
}

/* Every occurrence in one rrset, each with delta. */
static int collect_set(struct occs *o, enum refs_kind kind, const struct zone_rrset *set,
		       int32_t delta)
{
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;

	if (set == NULL)
		return 0;
	o->delta = delta;
	while (zone_rrset_next(set, &off, &rd, &rdlen)) {
		int rc = refs_hashes_in_txt(kind, rd, rdlen, occ_push, o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int refs_apply(struct refs *r, const struct zone *z, const struct zone_change *c, size_t n,
	       struct store_ref **out, size_t *nout, struct err *e)
{
	struct occs o = {0};
	struct store_ref *res = NULL;
	size_t nres = 0, fresh = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		enum refs_kind kind = refs_name_kind(&z->apex, &c[i].name);
		if (c[i].type != WIRE_T_TXT || kind == REFS_NONE)
			continue;
		if ((rc = collect_set(&o, kind, c[i].old_set, -1)) < 0 ||
		    (rc = collect_set(&o, kind, c[i].new_set, +1)) < 0)
			goto fail;
	}
	if (o.n == 0)
		return 0;
	qsort(o.v, o.n, sizeof(*o.v), occ_cmp);
	/* Fold runs of one hash into its net delta (kept in the run's first
	 * entry), check the new counts, and count keys that will be new. */
	size_t w = 0;
	for (size_t i = 0; i < o.n;) {
		size_t j = i;
		int64_t d = 0;
		while (j < o.n && memcmp(o.v[j].key, o.v[i].key, HASH_LEN) == 0)
			d += o.v[j++].delta;
		if (d != 0) {
			const struct refs_slot *sl = find(r, o.v[i].key);
			int64_t cur = sl ? sl->count : 0;
			if (cur + d < 0) {
				char hex[HASH_HEX_LEN + 1];
				hash_hex_encode(hex, o.v[i].key, HASH_LEN);
				rc = err_set(e, -EUCLEAN, "refs: %s would drop to %lld: the counts "
					     "disagree with the records", hex, (long long)(cur + d));
				goto fail;
			}
			fresh += cur == 0;
			memcpy(o.v[w].key, o.v[i].key, HASH_LEN);
			o.v[w].delta = (int32_t)(d > INT32_MAX ? INT32_MAX : d < INT32_MIN ? INT32_MIN : d);
			w++;
		}
		i = j;
	}
	if (w == 0)
		goto done;
	res = malloc(w * sizeof(*res));
	if (res == NULL || reserve(r, fresh) < 0) {
		rc = err_set(e, -ENOMEM, "refs: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < w; i++) {
		const struct refs_slot *sl = find(r, o.v[i].key);
		int64_t now = (sl ? sl->count : 0) + o.v[i].delta;
		set_count(r, o.v[i].key, now);
		hash_hex_encode(res[nres].hash, o.v[i].key, HASH_LEN);
		res[nres++].count = now;
	}
done:
	free(o.v);
	*out = res;
	*nout = nres;
	return 0;
fail:
	if (rc == -ENOMEM && e != NULL && e->code != -ENOMEM)
		err_set(e, -ENOMEM, "refs: out of memory");
	free(o.v);
	free(res);
	return rc;
}

/* ---- rebuild and verify ------------------------------------------------- */

struct rebuild_ctx {
	struct refs *r;
	const struct zone *z;
	int rc;
};

static int rebuild_one(const struct hash *h, void *arg)
{
	struct refs *r = arg;
	const struct refs_slot *sl = find(r, h->b);

	if (sl == NULL && reserve(r, 1) < 0)
		return -ENOMEM;
	set_count(r, h->b, (sl ? sl->count : 0) + 1);
	return 0;
}

static void rebuild_set(const struct wire_name *name, const struct zone_rrset *set, void *arg)
{
	struct rebuild_ctx *c = arg;
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;
	enum refs_kind kind = refs_name_kind(&c->z->apex, name);

	if (c->rc < 0 || set->type != WIRE_T_TXT || kind == REFS_NONE)
		return;
	while (zone_rrset_next(set, &off, &rd, &rdlen)) {
		int rc = refs_hashes_in_txt(kind, rd, rdlen, rebuild_one, c->r);
		if (rc < 0) {
			c->rc = rc;
			return;
		}
	}
}

int refs_rebuild(struct refs **out, const struct zone *z, struct err *e)
{
	struct rebuild_ctx c = { .r = refs_new(), .z = z };

	*out = NULL;
	if (c.r == NULL)
		return err_set(e, -ENOMEM, "refs: out of memory");
	zone_foreach(z, rebuild_set, &c);
	if (c.rc < 0) {
		refs_free(c.r);
		return err_set(e, c.rc, "refs: out of memory while counting %s", z->origin);
	}
	*out = c.r;
	return 0;
}

struct verify_ctx {
	const struct refs *want;
	struct refs *have;
	void (*report)(const char *hex, int64_t want, int64_t have, void *arg);
	void *arg;
	long diffs;
};

static int verify_load(const char *hex, int64_t count, void *arg)
{
	struct verify_ctx *v = arg;
	struct hash h;

	if (hash_from_hex(&h, hex, strlen(hex)) < 0 || count <= 0) {
		/* garbage in the store: a difference by itself */
		v->diffs++;
		if (v->report)
			v->report(hex, 0, count, v->arg);
		return 0;
	}
	if (reserve(v->have, 1) < 0)
		return -ENOMEM;
	set_count(v->have, h.b, count);
	return 0;
}

static int verify_want(const struct hash *h, int64_t count, void *arg)
{
	struct verify_ctx *v = arg;
	int64_t have = refs_get(v->have, h);
	char hex[HASH_HEX_LEN + 1];

	if (have == count)
		return 0;
	v->diffs++;
	hash_to_hex(h, hex);
	if (v->report)
		v->report(hex, count, have, v->arg);
	return 0;
}

static int verify_have(const struct hash *h, int64_t count, void *arg)
{
	struct verify_ctx *v = arg;
	char hex[HASH_HEX_LEN + 1];

	if (refs_get(v->want, h) != 0)
		return 0;                       /* compared already */
	v->diffs++;
	hash_to_hex(h, hex);
	if (v->report)
		v->report(hex, 0, count, v->arg);
	return 0;
}

int refs_verify(const struct refs *r, struct store *s, const struct zone *z,
		void (*report)(const char *hex, int64_t want, int64_t have, void *arg),
		void *arg, struct err *e)
{
	struct verify_ctx v = { .want = r, .have = refs_new(), .report = report, .arg = arg };
	int rc;

	if (v.have == NULL)
		return err_set(e, -ENOMEM, "refs: out of memory");
	rc = store_load_refs(s, z, verify_load, &v, e);
	if (rc < 0)
		goto out;
	refs_foreach(r, verify_want, &v);
	refs_foreach(v.have, verify_have, &v);
	rc = v.diffs > INT32_MAX ? INT32_MAX : (int)v.diffs;
out:
	refs_free(v.have);
	return rc;
}
