/* Unit tests for mds/zone: rrsets, lookups and empty non-terminals, the
 * transaction's own view, abort and commit, and the memory a large zone of
 * inode records takes (printed as a TAP comment). */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "zone.h"
#include "zonefile.h"

/* ---- allocation failures ---------------------------------------------------- */

/* The test is linked with --wrap=malloc,realloc,calloc: while fail_after >= 0,
 * the allocation that brings it below 0 fails (only inside a narrow window,
 * so Check itself never sees a failure). */
static long fail_after = -1;
static long nfailed;

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t m, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t m, size_t n);

static int alloc_fails(void)
{
	if (fail_after < 0)
		return 0;
	if (fail_after-- == 0) {
		nfailed++;
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

void *__wrap_calloc(size_t m, size_t n)
{
	return alloc_fails() ? NULL : __real_calloc(m, n);
}

/* ---- helpers ------------------------------------------------------------ */

static struct wire_name N(const char *text)
{
	struct wire_name n;
	struct err e = {0};

	ck_assert_msg(wire_name_from_text(&n, text, &e) == 0, "%s: %s", text, e.msg);
	return n;
}

/* The same, in one of a few static slots (for use inside expressions). */
static struct wire_name *NP(const char *text)
{
	static struct wire_name slot[8];
	static unsigned next;
	struct wire_name *n = &slot[next++ % 8];

	*n = N(text);
	return n;
}

/* TXT rdata: one character-string. */
static uint16_t txt(uint8_t *rd, const char *s)
{
	size_t n = strlen(s);

	ck_assert_uint_le(n, 255);
	rd[0] = (uint8_t)n;
	memcpy(rd + 1, s, n);
	return (uint16_t)(n + 1);
}

static uint16_t soa(uint8_t *rd, uint32_t serial)
{
	struct wire_name m = N("ns1.t."), r = N("admin.t.");
	uint32_t v[5] = {serial, 3600, 600, 86400, 1};
	uint16_t n = 0;

	memcpy(rd, m.b, m.len);
	n += m.len;
	memcpy(rd + n, r.b, r.len);
	n += r.len;
	for (int i = 0; i < 5; i++) {
		rd[n++] = (uint8_t)(v[i] >> 24);
		rd[n++] = (uint8_t)(v[i] >> 16);
		rd[n++] = (uint8_t)(v[i] >> 8);
		rd[n++] = (uint8_t)v[i];
	}
	return n;
}

static struct zone_rrset *set_of(uint16_t type, uint32_t ttl, int n, const char *const *txts)
{
	struct zone_rrset *s = zone_rrset_new(type, ttl, 4096);
	uint8_t rd[300];

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < n; i++) {
		uint16_t len = txt(rd, txts[i]);

		ck_assert_int_eq(zone_rrset_append(s, 4096, rd, len), 0);
	}
	return s;
}

/* A zone "t." with SOA serial 1 and one NS. */
static struct zone *mkzone(void)
{
	struct wire_name apex = N("t.");
	struct zone *z = zone_new(&apex);
	struct zone_rrset *s;
	uint8_t rd[300];
	uint16_t n;

	ck_assert_ptr_nonnull(z);
	s = zone_rrset_new(WIRE_T_SOA, 3600, 300);
	n = soa(rd, 1);
	ck_assert_int_eq(zone_rrset_append(s, 300, rd, n), 0);
	ck_assert_int_eq(zone_load(z, &apex, s), 0);
	zone_rrset_unref(s);
	s = zone_rrset_new(WIRE_T_NS, 3600, 300);
	{
		struct wire_name ns = N("ns1.t.");

		ck_assert_int_eq(zone_rrset_append(s, 300, ns.b, ns.len), 0);
	}
	ck_assert_int_eq(zone_load(z, &apex, s), 0);
	zone_rrset_unref(s);
	ck_assert_uint_eq(z->serial, 1);
	return z;
}

static int has_txt(struct zone *z, const char *name, const char *val)
{
	struct wire_name n = N(name);
	uint8_t rd[300];
	uint16_t len = txt(rd, val);

	return zone_rrset_contains(zone_node_rrset(zone_find(z, &n), WIRE_T_TXT), rd, len);
}

static int add_txt(struct zone_txn *t, const char *name, uint32_t ttl, const char *val)
{
	struct wire_name n = N(name);
	uint8_t rd[300];
	uint16_t len = txt(rd, val);

	return zone_txn_add_rr(t, &n, WIRE_T_TXT, ttl, rd, len);
}

static int exists(struct zone *z, const char *name)
{
	struct wire_name n = N(name);

	return zone_find(z, &n) != NULL;
}

static int has_data(struct zone *z, const char *name)
{
	struct wire_name n = N(name);

	return zone_node_has_data(zone_find(z, &n));
}

/* ---- rrsets ------------------------------------------------------------- */

START_TEST(test_rrset_basic)
{
	const char *v[] = {"a", "bb", "ccc"};
	struct zone_rrset *s = set_of(WIRE_T_TXT, 5, 3, v);
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;
	uint8_t buf[8];
	int n = 0;

	ck_assert_uint_eq(s->count, 3);
	ck_assert_uint_eq(s->len, 3 * 2 + 2 + 3 + 4);
	while (zone_rrset_next(s, &off, &rd, &rdlen)) {
		ck_assert_uint_eq(rdlen, (unsigned)n + 2);
		ck_assert_uint_eq(rd[0], (unsigned)n + 1);
		n++;
	}
	ck_assert_int_eq(n, 3);
	ck_assert(zone_rrset_contains(s, buf, txt(buf, "bb")));
	ck_assert(!zone_rrset_contains(s, buf, txt(buf, "b")));
	/* append past cap */
	ck_assert_int_eq(zone_rrset_append(s, s->len + 2, buf, 2), -ENOSPC);
	ck_assert_ptr_eq(zone_rrset_ref(s), s);
	ck_assert_uint_eq(s->refs, 2);
	zone_rrset_unref(s);
	zone_rrset_unref(s);
	zone_rrset_unref(NULL);
}
END_TEST

START_TEST(test_rrset_equal)
{
	const char *a[] = {"x", "y", "z"}, *b[] = {"z", "x", "y"}, *c[] = {"x", "y", "w"};
	struct zone_rrset *sa = set_of(WIRE_T_TXT, 1, 3, a), *sb = set_of(WIRE_T_TXT, 99, 3, b);
	struct zone_rrset *sc = set_of(WIRE_T_TXT, 1, 3, c), *sd = set_of(WIRE_T_TXT, 1, 2, a);
	struct zone_rrset *big1 = zone_rrset_new(WIRE_T_TXT, 1, 8192);
	struct zone_rrset *big2 = zone_rrset_new(WIRE_T_TXT, 1, 8192);
	uint8_t rd[32];
	char s[16];

	ck_assert(zone_rrset_equal(sa, sb));            /* order and TTL ignored */
	ck_assert(!zone_rrset_equal(sa, sc));
	ck_assert(!zone_rrset_equal(sa, sd));
	ck_assert(!zone_rrset_equal(sa, NULL));
	ck_assert(zone_rrset_equal(NULL, NULL));
	sb->type = WIRE_T_A;
	ck_assert(!zone_rrset_equal(sa, sb));
	/* the sorting path (> 16 RRs), filled in opposite orders */
	for (int i = 0; i < 100; i++) {
		snprintf(s, sizeof(s), "r%d", i);
		ck_assert_int_eq(zone_rrset_append(big1, 8192, rd, txt(rd, s)), 0);
		snprintf(s, sizeof(s), "r%d", 99 - i);
		ck_assert_int_eq(zone_rrset_append(big2, 8192, rd, txt(rd, s)), 0);
	}
	ck_assert(zone_rrset_equal(big1, big2));
	big2->rdata[big2->len - 1] = 'X';
	ck_assert(!zone_rrset_equal(big1, big2));
	zone_rrset_unref(sa);
	zone_rrset_unref(sb);
	zone_rrset_unref(sc);
	zone_rrset_unref(sd);
	zone_rrset_unref(big1);
	zone_rrset_unref(big2);
}
END_TEST

/* ---- lookups and empty non-terminals -------------------------------------- */

START_TEST(test_load_find)
{
	struct zone *z = mkzone();
	const char *v1[] = {"one"}, *v2[] = {"two", "three"};
	struct zone_rrset *s1 = set_of(WIRE_T_TXT, 1, 1, v1), *s2 = set_of(WIRE_T_TXT, 1, 2, v2);
	struct wire_name n = N("A.b.c.t."), out;
	struct zone_node *node;

	ck_assert_uint_eq(z->nnodes, 1);
	ck_assert_uint_eq(z->nrecords, 2);
	ck_assert_int_eq(zone_load(z, &n, s1), 0);
	ck_assert_uint_eq(z->nnodes, 4);                /* a.b.c, b.c, c, apex */
	ck_assert_uint_eq(z->nrecords, 3);
	ck_assert(has_txt(z, "a.b.c.t.", "one"));
	ck_assert(!has_data(z, "b.c.t.") && exists(z, "b.c.t."));   /* ENT: NODATA */
	ck_assert(!has_data(z, "c.t.") && exists(z, "c.t."));
	ck_assert(!exists(z, "x.c.t."));                 /* NXDOMAIN */
	ck_assert(!exists(z, "b.t."));
	/* replacing drops the old set's records */
	ck_assert_int_eq(zone_load(z, &n, s2), 0);
	ck_assert_uint_eq(z->nrecords, 4);
	ck_assert(!has_txt(z, "a.b.c.t.", "one") && has_txt(z, "a.b.c.t.", "three"));
	ck_assert_uint_eq(s1->refs, 1);
	n = N("a.b.c.t.");
	node = zone_find(z, &n);
	zone_node_name(node, &out);
	ck_assert(wire_name_equal(&out, &n));
	/* outside the zone, and an empty set */
	n = N("x.other.");
	ck_assert_int_eq(zone_load(z, &n, s1), -EINVAL);
	s1->count = 0;
	n = N("t.");
	ck_assert_int_eq(zone_load(z, &n, s1), -EINVAL);
	zone_rrset_unref(s1);
	zone_rrset_unref(s2);
	zone_free(z);
}
END_TEST

struct counter {
	int n, records, first_soa;
};

static void count_fn(const struct wire_name *name, const struct zone_rrset *s, void *arg)
{
	struct counter *c = arg;

	if (c->n++ == 0)
		c->first_soa = s->type == WIRE_T_SOA;
	c->records += s->count;
	(void)name;
}

START_TEST(test_foreach)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	struct counter c = {0};
	char name[64];

	zone_txn_begin(&t, z);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "%d.i.t.", i);
		ck_assert_int_eq(add_txt(&t, name, 1, "inode"), 0);
	}
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	zone_foreach(z, count_fn, &c);
	ck_assert_int_eq(c.n, 102);                      /* SOA, NS, 100 TXT */
	ck_assert_int_eq(c.records, 102);
	ck_assert(c.first_soa);
	ck_assert_uint_eq(z->nrecords, 102);
	ck_assert_uint_eq(z->nnodes, 102);               /* apex, i (ENT), 100 */
	zone_free(z);
}
END_TEST

/* ---- transactions -------------------------------------------------------- */

START_TEST(test_txn_view_and_abort)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	struct wire_name n = N("f.d.t."), ent = N("d.t.");
	uint64_t bytes = z->bytes, nodes = z->nnodes;
	struct zone_rrset *s;

	zone_txn_begin(&t, z);
	ck_assert(!zone_txn_name_exists(&t, &n));
	ck_assert_int_eq(add_txt(&t, "F.d.t.", 1, "a"), 0);     /* names are lower-cased */
	ck_assert_int_eq(add_txt(&t, "f.d.t.", 1, "b"), 0);
	s = zone_txn_get(&t, &n, WIRE_T_TXT);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->count, 2);
	ck_assert(zone_txn_name_exists(&t, &n));
	ck_assert(zone_txn_name_exists(&t, &ent));      /* an ENT in the txn's view */
	ck_assert(!zone_txn_name_has_other(&t, &ent, 0));
	ck_assert(zone_txn_name_has_other(&t, &n, 0));
	ck_assert(!zone_txn_name_has_other(&t, &n, WIRE_T_TXT));
	/* the zone itself has not changed */
	ck_assert(!exists(z, "f.d.t.") && !exists(z, "d.t."));
	ck_assert_ptr_null(zone_node_rrset(zone_find(z, &n), WIRE_T_TXT));
	ck_assert(zone_txn_dirty(&t));
	/* the txn sees its own delete too */
	ck_assert_int_eq(zone_txn_del_rrset(&t, &n, WIRE_T_TXT), 0);
	ck_assert_ptr_null(zone_txn_get(&t, &n, WIRE_T_TXT));
	ck_assert(!zone_txn_name_exists(&t, &n));
	ck_assert(!zone_txn_name_exists(&t, &ent));
	ck_assert(!zone_txn_dirty(&t));
	ck_assert_int_eq(add_txt(&t, "f.d.t.", 1, "c"), 0);
	zone_txn_release(&t);                            /* abort */
	ck_assert(!exists(z, "f.d.t.") && !exists(z, "d.t."));
	ck_assert_uint_eq(z->bytes, bytes);
	ck_assert_uint_eq(z->nnodes, nodes);
	ck_assert_uint_eq(z->nrecords, 2);
	/* outside the zone */
	zone_txn_begin(&t, z);
	ck_assert_int_eq(add_txt(&t, "x.other.", 1, "a"), -EINVAL);
	n = N("x.other.");
	ck_assert_ptr_null(zone_txn_get(&t, &n, WIRE_T_TXT));
	ck_assert(!zone_txn_name_exists(&t, &n));
	zone_txn_release(&t);
	zone_free(z);
}
END_TEST

START_TEST(test_commit_publishes)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	struct wire_name apex = N("t."), n = N("1.i.t.");
	struct zone_rrset *held, *s;
	uint8_t rd[300];
	uint16_t len;
	char name[64];

	zone_txn_begin(&t, z);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "%d.i.t.", i);
		ck_assert_int_eq(add_txt(&t, name, 1, "v1"), 0);
	}
	ck_assert_int_eq(add_txt(&t, "x.1.d.t.", 1, "dentry"), 0);
	len = soa(rd, 7);
	s = zone_rrset_new(WIRE_T_SOA, 3600, 2u + len);
	ck_assert_int_eq(zone_rrset_append(s, 2u + len, rd, len), 0);
	ck_assert_int_eq(zone_txn_put(&t, &apex, WIRE_T_SOA, s), 0);
	zone_rrset_unref(s);
	ck_assert_uint_eq(t.n, 52);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_uint_eq(t.n, 52);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "%d.i.t.", i);
		ck_assert(has_txt(z, name, "v1"));
	}
	ck_assert(has_txt(z, "x.1.d.t.", "dentry"));
	ck_assert(!has_data(z, "1.d.t.") && exists(z, "1.d.t.") && exists(z, "d.t."));
	ck_assert_uint_eq(z->serial, 7);
	ck_assert_uint_eq(z->nrecords, 2 + 51);
	/* the change list: old NULL -> new for additions */
	for (size_t i = 0; i < t.n; i++) {
		if (t.changes[i].type == WIRE_T_SOA)
			ck_assert_ptr_nonnull(t.changes[i].old_set);
		else
			ck_assert_ptr_null(t.changes[i].old_set);
		ck_assert_ptr_nonnull(t.changes[i].new_set);
	}
	ck_assert_int_eq(add_txt(&t, "2.i.t.", 1, "late"), -EINVAL);   /* committed */
	zone_txn_release(&t);

	/* A held rrset survives its replacement (immutability). */
	held = zone_rrset_ref(zone_node_rrset(zone_find(z, &n), WIRE_T_TXT));
	zone_txn_begin(&t, z);
	ck_assert_int_eq(add_txt(&t, "1.i.t.", 1, "v2"), 0);
	len = txt(rd, "v1");
	ck_assert_int_eq(zone_txn_del_rr(&t, &n, WIRE_T_TXT, rd, len), 0);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_ptr_eq(t.changes[0].old_set, held);
	zone_txn_release(&t);
	ck_assert(has_txt(z, "1.i.t.", "v2") && !has_txt(z, "1.i.t.", "v1"));
	ck_assert(zone_rrset_contains(held, rd, len));
	ck_assert_uint_eq(held->refs, 1);
	zone_rrset_unref(held);
	zone_free(z);
}
END_TEST

START_TEST(test_txn_deletes_and_ent)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	struct wire_name a = N("a.x.y.t."), b = N("b.x.y.t."), apex = N("t.");
	const uint16_t keep[] = {WIRE_T_SOA, WIRE_T_NS};
	uint8_t rd[300];
	uint16_t len;
	uint64_t bytes0 = z->bytes;

	zone_txn_begin(&t, z);
	ck_assert_int_eq(add_txt(&t, "a.x.y.t.", 1, "1"), 0);
	ck_assert_int_eq(add_txt(&t, "a.x.y.t.", 1, "2"), 0);
	ck_assert_int_eq(add_txt(&t, "b.x.y.t.", 1, "3"), 0);
	len = txt(rd, "4");
	ck_assert_int_eq(zone_txn_add_rr(&t, &a, WIRE_T_MX, 1, rd, len), 0);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	ck_assert_uint_eq(z->nnodes, 5);
	ck_assert(exists(z, "x.y.t.") && !has_data(z, "x.y.t."));

	/* deleting one of two names keeps the ENTs */
	zone_txn_begin(&t, z);
	ck_assert_int_eq(zone_txn_del_name(&t, &a, NULL, 0), 0);
	ck_assert(!zone_txn_name_exists(&t, &a));
	ck_assert(zone_txn_name_exists(&t, NP("x.y.t.")));
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_uint_eq(t.n, 2);                       /* TXT and MX */
	zone_txn_release(&t);
	ck_assert(!exists(z, "a.x.y.t.") && exists(z, "x.y.t."));
	ck_assert_uint_eq(z->nnodes, 4);

	/* deleting the last RR of the last name removes the ENTs as well */
	zone_txn_begin(&t, z);
	len = txt(rd, "3");
	ck_assert_int_eq(zone_txn_del_rr(&t, &b, WIRE_T_TXT, rd, len), 0);
	ck_assert(!zone_txn_name_exists(&t, NP("x.y.t.")));
	ck_assert(!zone_txn_name_exists(&t, NP("y.t.")));
	ck_assert(zone_txn_name_exists(&t, &apex));
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	ck_assert(!exists(z, "b.x.y.t.") && !exists(z, "x.y.t.") && !exists(z, "y.t."));
	ck_assert_uint_eq(z->nnodes, 1);
	ck_assert_uint_eq(z->nrecords, 2);
	ck_assert_uint_eq(z->bytes, bytes0);

	/* del_name at the apex with a keep list; no-op deletes touch nothing */
	zone_txn_begin(&t, z);
	ck_assert_int_eq(add_txt(&t, "t.", 1, "apex txt"), 0);
	ck_assert_int_eq(zone_txn_del_rrset(&t, &b, WIRE_T_TXT), 0);
	ck_assert_int_eq(zone_txn_del_rr(&t, &apex, WIRE_T_A, rd, 4), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(zone_txn_del_name(&t, &apex, keep, 2), 0);
	ck_assert_ptr_nonnull(zone_txn_get(&t, &apex, WIRE_T_SOA));
	ck_assert_ptr_nonnull(zone_txn_get(&t, &apex, WIRE_T_NS));
	ck_assert_ptr_null(zone_txn_get(&t, &apex, WIRE_T_TXT));
	ck_assert(!zone_txn_dirty(&t));
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_uint_eq(t.n, 0);                       /* added then deleted: dropped */
	zone_txn_release(&t);
	ck_assert_uint_eq(z->nrecords, 2);
	zone_free(z);
}
END_TEST

START_TEST(test_txn_ttl_and_noop)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	struct wire_name n = N("f.t.");
	struct zone_rrset *s;

	zone_txn_begin(&t, z);
	ck_assert_int_eq(add_txt(&t, "f.t.", 10, "a"), 0);
	ck_assert_int_eq(add_txt(&t, "f.t.", 10, "b"), 0);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);

	/* a duplicate with a new TTL changes the TTL only */
	zone_txn_begin(&t, z);
	ck_assert_int_eq(add_txt(&t, "f.t.", 20, "a"), 0);
	ck_assert(zone_txn_dirty(&t));
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_uint_eq(t.n, 1);
	zone_txn_release(&t);
	s = zone_node_rrset(zone_find(z, &n), WIRE_T_TXT);
	ck_assert_uint_eq(s->ttl, 20);
	ck_assert_uint_eq(s->count, 2);

	/* the same RRs again (other order, via put): no change */
	zone_txn_begin(&t, z);
	{
		const char *v[] = {"b", "a"};
		struct zone_rrset *same = set_of(WIRE_T_TXT, 20, 2, v);

		ck_assert_int_eq(zone_txn_put(&t, &n, WIRE_T_TXT, same), 0);
		zone_rrset_unref(same);
	}
	ck_assert(!zone_txn_dirty(&t));
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_uint_eq(t.n, 0);
	zone_txn_release(&t);
	ck_assert_ptr_eq(zone_node_rrset(zone_find(z, &n), WIRE_T_TXT), s);
	zone_free(z);
}
END_TEST

START_TEST(test_txn_big_rrset)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	struct wire_name n = N("0.1.l.t.");
	struct zone_rrset *s;
	uint8_t rd[300];
	char v[32];

	/* grown in place: adding 5000 RRs one by one stays linear */
	zone_txn_begin(&t, z);
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "name%d %d f", i, i + 100);
		ck_assert_int_eq(add_txt(&t, "0.1.l.t.", 1, v), 0);
	}
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	s = zone_node_rrset(zone_find(z, &n), WIRE_T_TXT);
	ck_assert_uint_eq(s->count, 5000);
	/* delete every other one */
	zone_txn_begin(&t, z);
	for (int i = 0; i < 5000; i += 2) {
		uint16_t len;

		snprintf(v, sizeof(v), "name%d %d f", i, i + 100);
		len = txt(rd, v);
		ck_assert_int_eq(zone_txn_del_rr(&t, &n, WIRE_T_TXT, rd, len), 0);
	}
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	s = zone_node_rrset(zone_find(z, &n), WIRE_T_TXT);
	ck_assert_uint_eq(s->count, 2500);
	ck_assert_uint_eq(z->nrecords, 2502);
	ck_assert(has_txt(z, "0.1.l.t.", "name1 101 f"));
	ck_assert(!has_txt(z, "0.1.l.t.", "name0 100 f"));
	zone_free(z);
}
END_TEST

/* ---- out of memory ---------------------------------------------------------- */

struct digest {
	uint64_t sum, n;
};

static void digest_fn(const struct wire_name *name, const struct zone_rrset *s, void *arg)
{
	struct digest *d = arg;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < name->len; i++)
		h = (h ^ name->b[i]) * 0x100000001b3ULL;
	for (size_t i = 0; i < s->len; i++)
		h = (h ^ s->rdata[i]) * 0x100000001b3ULL;
	d->sum += h ^ s->type ^ ((uint64_t)s->ttl << 20);
	d->n += s->count;
}

/* Everything observable about z, in one number. */
static uint64_t zone_digest(struct zone *z)
{
	struct digest d = {0};

	zone_foreach(z, digest_fn, &d);
	return d.sum ^ d.n ^ z->nnodes * 31 ^ z->nrecords * 17 ^ z->bytes * 7 ^ z->serial;
}

/* A zone with 40 names under x.t. (so ENTs), then a txn that adds 100
 * names in new subtrees (new ENTs, table growth), deletes the old subtree
 * (ENTs vanish), replaces the SOA and rewrites an rrset. */
static void stage(struct zone *z, struct zone_txn *t)
{
	struct wire_name apex = N("t.");
	struct zone_rrset *s;
	uint8_t rd[300];
	uint16_t len = soa(rd, 2);
	char name[64];

	zone_txn_begin(t, z);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "%d.n%d.new.t.", i, i % 7);
		ck_assert_int_eq(add_txt(t, name, 1, "new"), 0);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "%d.x.t.", i);
		ck_assert_int_eq(zone_txn_del_name(t, NP(name), NULL, 0), 0);
	}
	ck_assert_int_eq(add_txt(t, "keep.t.", 5, "changed"), 0);
	s = zone_rrset_new(WIRE_T_SOA, 3600, 2u + len);
	ck_assert_int_eq(zone_rrset_append(s, 2u + len, rd, len), 0);
	ck_assert_int_eq(zone_txn_put(t, &apex, WIRE_T_SOA, s), 0);
	zone_rrset_unref(s);
}

/* add_txt without Check assertions (they allocate: not while armed). */
static int add_txt_quiet(struct zone_txn *t, const struct wire_name *n, const char *val)
{
	uint8_t rd[256];
	size_t len = strlen(val);

	rd[0] = (uint8_t)len;
	memcpy(rd + 1, val, len);
	return zone_txn_add_rr(t, n, WIRE_T_TXT, 1, rd, (uint16_t)(len + 1));
}

static struct zone *base_zone(void)
{
	struct zone *z = mkzone();
	struct zone_txn t;
	char name[64];

	zone_txn_begin(&t, z);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "%d.x.t.", i);
		ck_assert_int_eq(add_txt(&t, name, 1, "old"), 0);
	}
	ck_assert_int_eq(add_txt(&t, "keep.t.", 5, "kept"), 0);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	return z;
}

START_TEST(test_commit_enomem)
{
	struct zone *z = base_zone();
	struct zone_txn t;
	uint64_t before = zone_digest(z), want;
	long k, nomem = 0;
	int rc;

	/* the result without failures */
	stage(z, &t);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	want = zone_digest(z);
	ck_assert_uint_ne(want, before);
	ck_assert_uint_eq(z->serial, 2);
	ck_assert(!exists(z, "x.t.") && !exists(z, "0.x.t."));
	ck_assert(exists(z, "n3.new.t.") && !has_data(z, "new.t."));
	ck_assert(has_txt(z, "99.n1.new.t.", "new"));
	ck_assert(has_txt(z, "keep.t.", "changed") && has_txt(z, "keep.t.", "kept"));
	ck_assert_uint_eq(z->nnodes, 1 + 2 + 7 + 100);   /* apex, keep, new, n0-6, 100 */
	zone_free(z);
	/* Fail the k-th allocation of commit, for every k: either -ENOMEM and
	 * the zone as it was, or (a failed trim is harmless) the full result. */
	for (k = 0;; k++) {
		z = base_zone();
		stage(z, &t);
		nfailed = 0;
		fail_after = k;
		rc = zone_txn_commit(&t);
		fail_after = -1;
		if (rc == -ENOMEM) {
			nomem++;
			ck_assert_uint_eq(zone_digest(z), before);
		} else {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(zone_digest(z), want);
		}
		zone_txn_release(&t);
		zone_free(z);
		if (nfailed == 0)
			break;
	}
	ck_assert_int_gt(nomem, 100);                    /* one per new node, and more */
}
END_TEST

START_TEST(test_stage_enomem)
{
	struct wire_name names[30], victim = N("5.x.t.");
	struct zone *z;
	struct zone_txn t;
	uint64_t before;
	char name[64];
	long k;
	int rc;

	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "%d.s%d.t.", i, i % 3);
		names[i] = N(name);
	}
	/* staging steps fail cleanly: commit refuses and the zone never moves */
	for (k = 0;; k++) {
		z = base_zone();
		before = zone_digest(z);
		zone_txn_begin(&t, z);
		nfailed = 0;
		fail_after = k;
		rc = 0;
		for (int i = 0; i < 30 && rc == 0; i++)
			rc = add_txt_quiet(&t, &names[i], "s");
		if (rc == 0)
			rc = zone_txn_del_name(&t, &victim, NULL, 0);
		fail_after = -1;
		if (rc < 0) {
			ck_assert_int_eq(rc, -ENOMEM);
			ck_assert_int_eq(t.failed, -ENOMEM);
			ck_assert_int_eq(zone_txn_commit(&t), -ENOMEM);
			ck_assert_uint_eq(zone_digest(z), before);
		} else {
			ck_assert_int_eq(zone_txn_commit(&t), 0);
			ck_assert(has_txt(z, "29.s2.t.", "s") && !exists(z, "5.x.t."));
		}
		zone_txn_release(&t);
		zone_free(z);
		if (nfailed == 0)
			break;
	}
	ck_assert_int_gt(k, 30);
}
END_TEST

START_TEST(test_load_enomem)
{
	struct zone *z = mkzone();
	const char *v[] = {"x"};
	struct zone_rrset *s = set_of(WIRE_T_TXT, 1, 1, v);
	struct wire_name n = N("a.b.c.d.t.");
	uint64_t before = zone_digest(z);
	long k;
	int rc = -ENOMEM;

	for (k = 0; rc == -ENOMEM; k++) {
		fail_after = k;
		rc = zone_load(z, &n, s);
		fail_after = -1;
		if (rc < 0)
			ck_assert_uint_eq(zone_digest(z), before);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(k, 1);
	ck_assert(has_txt(z, "a.b.c.d.t.", "x") && exists(z, "c.d.t."));
	zone_rrset_unref(s);
	zone_free(z);
}
END_TEST

/* ---- scale ---------------------------------------------------------------- */

/* An inode record of about 200 bytes, as the schema writes them. */
static uint16_t inode_txt(uint8_t *rd, unsigned long ino)
{
	char s[256];
	int n = snprintf(s, sizeof(s),
			 "v=1 type=f mode=0644 uid=1000 gid=1000 nlink=1 size=%lu "
			 "mtime=1700000000.123456789 ctime=1700000000.123456789 "
			 "atime=1700000000.123456789 ver=3 rep=3 gen=1 pages=0 flags=0 "
			 "blocks=1 ino=%lu",
			 ino * 7919 % 1000000, ino);

	ck_assert_int_lt(n, 256);
	return txt(rd, s);
}

START_TEST(test_scale)
{
	const char *env = getenv("CHECK_ZONE_RECORDS");
	unsigned long nrec = env != NULL ? strtoul(env, NULL, 10) : 200000;
	struct wire_name apex = N("dnsfs.test.");
	struct mallinfo2 m0 = mallinfo2(), m1;
	double used;
	struct zone *z = zone_new(&apex);
	struct zone_txn t;
	uint64_t payload = 0, bytes0;
	uint8_t rd[300];
	char name[64];

	ck_assert_ptr_nonnull(z);
	bytes0 = z->bytes;
	for (unsigned long i = 0; i < nrec; i++) {
		uint16_t len = inode_txt(rd, 1000000 + i);
		struct zone_rrset *s = zone_rrset_new(WIRE_T_TXT, 1, 2u + len);
		struct wire_name n;

		snprintf(name, sizeof(name), "%lu.i.dnsfs.test.", 1000000 + i);
		n = N(name);
		ck_assert_int_eq(zone_rrset_append(s, 2u + len, rd, len), 0);
		ck_assert_int_eq(zone_load(z, &n, s), 0);
		zone_rrset_unref(s);
		payload += len;
	}
	m1 = mallinfo2();
	/* heap chunks plus mmapped ones (the hash table) */
	used = (double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
	ck_assert_uint_eq(z->nrecords, nrec);
	ck_assert_uint_eq(z->nnodes, nrec + 2);         /* + i (ENT) + apex (ENT) */
	printf("# zone: %lu inode TXT records of %.0f bytes rdata: z->bytes %.1f B/record, "
	       "malloc in use %.1f B/record (%.1f MiB)\n", nrec, (double)payload / nrec,
	       (double)(z->bytes - bytes0) / nrec,
	       used / nrec, used / 1048576.0);
	/* z->bytes follows the allocator within a few percent (0 under ASan,
	 * which keeps its own heap and reports nothing here) */
	if (used > 0) {
		double r = (double)(z->bytes - bytes0) / used;

		ck_assert_msg(r > 0.9 && r < 1.1, "z->bytes / malloc = %.3f", r);
	}
	/* every record findable; then one txn that rewrites 20,000 of them */
	for (unsigned long i = 0; i < nrec; i += 997) {
		snprintf(name, sizeof(name), "%lu.i.dnsfs.test.", 1000000 + i);
		ck_assert_ptr_nonnull(zone_find(z, NP(name)));
	}
	zone_txn_begin(&t, z);
	for (unsigned long i = 0; i < 20000 && i < nrec; i++) {
		struct wire_name n;
		uint16_t len = inode_txt(rd, 1000000 + i);

		snprintf(name, sizeof(name), "%lu.i.dnsfs.test.", 1000000 + i);
		n = N(name);
		ck_assert_int_eq(zone_txn_del_rrset(&t, &n, WIRE_T_TXT), 0);
		rd[1] = 'V';
		ck_assert_int_eq(zone_txn_add_rr(&t, &n, WIRE_T_TXT, 1, rd, len), 0);
	}
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	ck_assert_uint_eq(z->nrecords, nrec);
	ck_assert(has_txt(z, "1000000.i.dnsfs.test.", "V=1 type=f mode=0644 uid=1000 gid=1000 nlink=1 size=0 mtime=1700000000.123456789 ctime=1700000000.123456789 atime=1700000000.123456789 ver=3 rep=3 gen=1 pages=0 flags=0 blocks=1 ino=1000000") ||
		  nrec == 0);
	zone_free(z);
}
END_TEST

/* ---- zoneset -------------------------------------------------------------- */

START_TEST(test_zoneset)
{
	struct zoneset zs = {0};
	struct wire_name a = N("fs.example."), b = N("sub.fs.example."), c = N("fs.example.");
	struct zone *za = zone_new(&a), *zb = zone_new(&b), *zc = zone_new(&c);

	ck_assert_int_eq(zoneset_add(&zs, za), 0);
	ck_assert_int_eq(zoneset_add(&zs, zb), 0);
	ck_assert_int_eq(zoneset_add(&zs, zc), -EEXIST);
	zone_free(zc);
	ck_assert_ptr_eq(zoneset_find(&zs, NP("x.sub.fs.example.")), zb);
	ck_assert_ptr_eq(zoneset_find(&zs, NP("X.FS.example.")), za);
	ck_assert_ptr_eq(zoneset_find(&zs, NP("fs.example.")), za);
	ck_assert_ptr_null(zoneset_find(&zs, NP("example.")));
	ck_assert_ptr_eq(zoneset_find_apex(&zs, NP("sub.fs.example.")), zb);
	ck_assert_ptr_null(zoneset_find_apex(&zs, NP("x.sub.fs.example.")));
	zoneset_release(&zs);
	ck_assert_uint_eq(zs.n, 0);
}
END_TEST

/* ---- zone files ----------------------------------------------------------- */

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;
	FILE *f;

	strcpy(path, "/tmp/check_zone.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load text as a zone file: the zone, or NULL with the message in e. */
static struct zone *load_text(const char *text, const char *origin, struct err *e)
{
	char *path = write_tmp(text);
	struct zone *z = zonefile_load(path, origin, e);

	unlink(path);
	return z;
}

START_TEST(test_zonefile_example)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *out;
	struct err e = {0};
	struct zone *z, *z2;
	struct counter c1 = {0}, c2 = {0};
	struct zone_rrset *s;
	uint32_t minimum;
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/zones/example.zone", top != NULL ? top : ".");
	z = zonefile_load(path, NULL, &e);
	ck_assert_msg(z != NULL, "%s", e.msg);
	ck_assert_str_eq(z->origin, "dnsfs.test.");
	ck_assert_uint_eq(z->serial, 1);
	ck_assert_uint_eq(z->nrecords, 4);
	s = zone_soa(z);
	ck_assert(zone_rrset_next(s, &off, &rd, &rdlen));
	ck_assert_int_eq(wire_soa_minimum(rd, rdlen, &minimum), 0);
	ck_assert_uint_eq(minimum, 1);
	s = zone_node_rrset(zone_find(z, NP("1.i.dnsfs.test.")), WIRE_T_TXT);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->ttl, 1);
	ck_assert(has_txt(z, "1.i.dnsfs.test.", "v=1 type=d mode=0755 uid=0 gid=0 nlink=2 "
			  "size=0 mtime=0.000000000 ctime=0.000000000 atime=0.000000000 "
			  "ver=1 buckets=1"));
	ck_assert(!has_data(z, "i.dnsfs.test.") && exists(z, "i.dnsfs.test."));
	ck_assert_ptr_nonnull(zone_node_rrset(zone_find(z, NP("ns1.dnsfs.test.")), WIRE_T_A));

	/* write it out and read it back: the same zone */
	out = write_tmp("");
	f = fopen(out, "w");
	ck_assert_int_eq(zonefile_write(z, f, &e), 0);
	fclose(f);
	z2 = zonefile_load(out, "dnsfs.test.", &e);
	ck_assert_msg(z2 != NULL, "%s", e.msg);
	unlink(out);
	zone_foreach(z, count_fn, &c1);
	zone_foreach(z2, count_fn, &c2);
	ck_assert_int_eq(c1.n, c2.n);
	ck_assert_int_eq(c1.records, c2.records);
	ck_assert_uint_eq(z2->nnodes, z->nnodes);
	ck_assert_uint_eq(z2->serial, 1);
	ck_assert(has_txt(z2, "1.i.dnsfs.test.", "v=1 type=d mode=0755 uid=0 gid=0 nlink=2 "
			  "size=0 mtime=0.000000000 ctime=0.000000000 atime=0.000000000 "
			  "ver=1 buckets=1"));
	zone_free(z2);
	zone_free(z);
}
END_TEST

START_TEST(test_zonefile_rrsets)
{
	struct err e = {0};
	struct zone *z = load_text(
		"$ORIGIN T.\n"
		"$TTL 300\n"
		"a TXT \"one\"\n"
		"@ SOA ns.t. admin.t. 5 1 1 1 1\n"
		"b 10 CNAME A\n"
		"a 60 TXT \"two\"\n"
		"A TXT \"one\"\n"              /* duplicate, other case */
		"@ NS NS.t.\n", NULL, &e);
	struct zone_rrset *s;

	ck_assert_msg(z != NULL, "%s", e.msg);
	ck_assert_uint_eq(z->serial, 5);
	s = zone_node_rrset(zone_find(z, NP("a.t.")), WIRE_T_TXT);
	ck_assert_uint_eq(s->count, 2);
	ck_assert_uint_eq(s->ttl, 300);                 /* the first RR's */
	/* embedded names are canonical (lower case) */
	s = zone_node_rrset(zone_find(z, NP("b.t.")), WIRE_T_CNAME);
	ck_assert(zone_rrset_contains(s, NP("a.t.")->b, NP("a.t.")->len));
	s = zone_node_rrset(zone_find(z, NP("t.")), WIRE_T_NS);
	ck_assert(zone_rrset_contains(s, NP("ns.t.")->b, NP("ns.t.")->len));
	ck_assert_uint_eq(z->nrecords, 5);
	zone_free(z);
}
END_TEST

START_TEST(test_zonefile_errors)
{
	struct err e = {0};

	ck_assert_ptr_null(zonefile_load("/nonexistent/zone", NULL, &e));
	ck_assert(strstr(e.msg, "/nonexistent/zone:") == e.msg);
	/* a syntax error names its line */
	ck_assert_ptr_null(load_text("$ORIGIN t.\n@ SOA ns.t. a.t. 1 1 1 1 1\n\n"
				     "x A 1.2.3.400\n", NULL, &e));
	ck_assert_msg(strstr(e.msg, ":4:") != NULL, "%s", e.msg);
	ck_assert_ptr_null(load_text("$ORIGIN t.\n@ SOA ns.t. a.t. 1 1 1 1 1\n"
				     "@ SOA ns.t. a.t. 2 1 1 1 1\n", NULL, &e));
	ck_assert_msg(strstr(e.msg, ":3: a second SOA") != NULL, "%s", e.msg);
	ck_assert_ptr_null(load_text("$ORIGIN t.\nx TXT \"a\"\n", NULL, &e));
	ck_assert_msg(strstr(e.msg, "no SOA") != NULL, "%s", e.msg);
	ck_assert_ptr_null(load_text("$ORIGIN t.\n@ SOA ns.t. a.t. 1 1 1 1 1\n"
				     "x.other. TXT \"a\"\n", NULL, &e));
	ck_assert_msg(strstr(e.msg, ":3: owner is outside") != NULL, "%s", e.msg);
	ck_assert_ptr_null(load_text("$ORIGIN t.\nsub SOA ns.t. a.t. 1 1 1 1 1\n", "t.", &e));
	ck_assert_msg(strstr(e.msg, "not at the apex") != NULL, "%s", e.msg);
	ck_assert_ptr_null(load_text("$ORIGIN t.\n@ SOA ns.t. a.t. 1 1 1 1 1\n"
				     "x CH TXT \"a\"\n", NULL, &e));
	ck_assert_msg(strstr(e.msg, "class IN") != NULL, "%s", e.msg);
	ck_assert_ptr_null(load_text("$INCLUDE /etc/passwd\n", NULL, &e));
	ck_assert_msg(strstr(e.msg, "$INCLUDE") != NULL, "%s", e.msg);
}
END_TEST

static Suite *zone_suite(void)
{
	Suite *s = suite_create("zone");
	TCase *tc = tcase_create("rrset");

	tcase_add_test(tc, test_rrset_basic);
	tcase_add_test(tc, test_rrset_equal);
	suite_add_tcase(s, tc);
	tc = tcase_create("lookup");
	tcase_add_test(tc, test_load_find);
	tcase_add_test(tc, test_foreach);
	suite_add_tcase(s, tc);
	tc = tcase_create("txn");
	tcase_add_test(tc, test_txn_view_and_abort);
	tcase_add_test(tc, test_commit_publishes);
	tcase_add_test(tc, test_txn_deletes_and_ent);
	tcase_add_test(tc, test_txn_ttl_and_noop);
	tcase_add_test(tc, test_txn_big_rrset);
	suite_add_tcase(s, tc);
	tc = tcase_create("enomem");
	tcase_add_test(tc, test_commit_enomem);
	tcase_add_test(tc, test_stage_enomem);
	tcase_add_test(tc, test_load_enomem);
	suite_add_tcase(s, tc);
	tc = tcase_create("scale");
	tcase_add_test(tc, test_scale);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tc = tcase_create("zonefile");
	tcase_add_test(tc, test_zonefile_example);
	tcase_add_test(tc, test_zonefile_rrsets);
	tcase_add_test(tc, test_zonefile_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("zoneset");
	tcase_add_test(tc, test_zoneset);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(zone_suite)
