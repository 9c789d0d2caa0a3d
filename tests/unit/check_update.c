/* Unit tests for mds/update: every RFC 2136 prerequisite form passing and
 * failing (with the zone untouched after a failure), every update form, the
 * special rules of 3.4.2, serial increments, and malformed messages. Messages
 * are built with lib/wire's writer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "update.h"

/* ---- rdata and names ------------------------------------------------------ */

struct rd {
	uint8_t b[512];
	uint16_t n;
};

static struct wire_name N(const char *text)
{
	struct wire_name n;
	struct err e = {0};

	ck_assert_msg(wire_name_from_text(&n, text, &e) == 0, "%s: %s", text, e.msg);
	return n;
}

static struct rd TXT(const char *s)
{
	struct rd r;
	size_t n = strlen(s);

	r.b[0] = (uint8_t)n;
	memcpy(r.b + 1, s, n);
	r.n = (uint16_t)(n + 1);
	return r;
}

static struct rd NAME(const char *s)      /* NS, CNAME */
{
	struct rd r;
	struct wire_name n = N(s);

	memcpy(r.b, n.b, n.len);
	r.n = n.len;
	return r;
}

static struct rd A(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct rd r = {{a, b, c, d}, 4};

	return r;
}

static struct rd SOA(uint32_t serial)
{
	struct rd r = NAME("ns1.t."), m = NAME("admin.t.");
	uint32_t v[5] = {serial, 3600, 600, 86400, 1};

	memcpy(r.b + r.n, m.b, m.n);
	r.n += m.n;
	for (int i = 0; i < 5; i++) {
		r.b[r.n++] = (uint8_t)(v[i] >> 24);
		r.b[r.n++] = (uint8_t)(v[i] >> 16);
		r.b[r.n++] = (uint8_t)(v[i] >> 8);
		r.b[r.n++] = (uint8_t)v[i];
	}
	return r;
}

static const struct rd NORD = {{0}, 0};

/* ---- messages ------------------------------------------------------------- */

enum { PRE = 1, UPD = 2, ADD = 3 };

struct msg {
	uint8_t buf[WIRE_TCP_MAX];
	struct wire_wr w;
	uint16_t count[4];
	int section;
	size_t tsig_off;
};

static void m_begin_zone(struct msg *m, const char *zone, uint16_t ztype, uint16_t zclass)
{
	struct wire_hdr h = {.id = 0x1234, .flags = WIRE_OP_UPDATE << 11, .qdcount = 1};
	struct wire_name z = N(zone);

	memset(m->count, 0, sizeof(m->count));
	m->section = PRE;
	wire_wr_init(&m->w, m->buf, sizeof(m->buf));
	ck_assert_int_eq(wire_wr_hdr(&m->w, &h), 0);
	ck_assert_int_eq(wire_wr_name(&m->w, &z), 0);
	ck_assert_int_eq(wire_wr_u16(&m->w, ztype), 0);
	ck_assert_int_eq(wire_wr_u16(&m->w, zclass), 0);
	m->tsig_off = 0;
}

static void m_begin(struct msg *m)
{
	m_begin_zone(m, "t.", WIRE_T_SOA, WIRE_C_IN);
}

static void m_rr(struct msg *m, int section, const char *owner, uint16_t type, uint16_t class,
		 uint32_t ttl, struct rd rd)
{
	struct wire_name n = N(owner);

	ck_assert_int_ge(section, m->section);          /* sections in order */
	m->section = section;
	m->count[section]++;
	if (rd.n == 0) {
		/* empty rdata (class ANY/NONE forms) by hand */
		ck_assert_int_eq(wire_wr_name(&m->w, &n), 0);
		ck_assert_int_eq(wire_wr_u16(&m->w, type), 0);
		ck_assert_int_eq(wire_wr_u16(&m->w, class), 0);
		ck_assert_int_eq(wire_wr_u32(&m->w, ttl), 0);
		ck_assert_int_eq(wire_wr_u16(&m->w, 0), 0);
		return;
	}
	ck_assert_int_eq(wire_wr_rr(&m->w, &n, type, class, ttl, rd.b, rd.n), 0);
}

/* An RR with its rdata sent as given, names in it unchecked. */
static void m_rr_raw(struct msg *m, int section, const char *owner, uint16_t type,
		     uint16_t class, uint32_t ttl, struct rd rd)
{
	struct wire_name n = N(owner);

	ck_assert_int_ge(section, m->section);
	m->section = section;
	m->count[section]++;
	ck_assert_int_eq(wire_wr_name(&m->w, &n), 0);
	ck_assert_int_eq(wire_wr_u16(&m->w, type), 0);
	ck_assert_int_eq(wire_wr_u16(&m->w, class), 0);
	ck_assert_int_eq(wire_wr_u32(&m->w, ttl), 0);
	ck_assert_int_eq(wire_wr_u16(&m->w, rd.n), 0);
	ck_assert_int_eq(wire_wr_bytes(&m->w, rd.b, rd.n), 0);
}

/* RFC 2136 2.4 prerequisite forms */
#define PRE_NAME_IN_USE(m, n)        m_rr(m, PRE, n, WIRE_T_ANY, WIRE_C_ANY, 0, NORD)
#define PRE_NAME_NOT_IN_USE(m, n)    m_rr(m, PRE, n, WIRE_T_ANY, WIRE_C_NONE, 0, NORD)
#define PRE_RRSET_EXISTS(m, n, t)    m_rr(m, PRE, n, t, WIRE_C_ANY, 0, NORD)
#define PRE_RRSET_MISSING(m, n, t)   m_rr(m, PRE, n, t, WIRE_C_NONE, 0, NORD)
#define PRE_RR(m, n, t, rd)          m_rr(m, PRE, n, t, WIRE_C_IN, 0, rd)
/* RFC 2136 2.5 update forms */
#define UPD_ADD(m, n, t, ttl, rd)    m_rr(m, UPD, n, t, WIRE_C_IN, ttl, rd)
#define UPD_DEL_RRSET(m, n, t)       m_rr(m, UPD, n, t, WIRE_C_ANY, 0, NORD)
#define UPD_DEL_NAME(m, n)           m_rr(m, UPD, n, WIRE_T_ANY, WIRE_C_ANY, 0, NORD)
#define UPD_DEL_RR(m, n, t, rd)      m_rr(m, UPD, n, t, WIRE_C_NONE, 0, rd)

static size_t m_end(struct msg *m)
{
	ck_assert(!m->w.overflow);
	wire_wr_patch_u16(&m->w, 6, m->count[PRE]);
	wire_wr_patch_u16(&m->w, 8, m->count[UPD]);
	wire_wr_patch_u16(&m->w, 10, m->count[ADD]);
	if (m->tsig_off == 0)
		m->tsig_off = m->w.pos;
	return m->w.pos;
}

/* ---- the zone under test -------------------------------------------------- */

static struct zoneset zs;
static struct zone *z;
static struct update_limits lim;
static struct err e;
static struct zone_txn t;

static void load(const char *name, uint16_t type, uint32_t ttl, int n, const struct rd *rds)
{
	struct wire_name nm = N(name);
	struct zone_rrset *s = zone_rrset_new(type, ttl, 4096);

	for (int i = 0; i < n; i++)
		ck_assert_int_eq(zone_rrset_append(s, 4096, rds[i].b, rds[i].n), 0);
	ck_assert_int_eq(zone_load(z, &nm, s), 0);
	zone_rrset_unref(s);
}

static void setup(void)
{
	struct wire_name apex = N("t.");
	struct rd rds[2];

	memset(&zs, 0, sizeof(zs));
	z = zone_new(&apex);
	ck_assert_ptr_nonnull(z);
	rds[0] = SOA(1);
	load("t.", WIRE_T_SOA, 3600, 1, rds);
	rds[0] = NAME("ns1.t.");
	load("t.", WIRE_T_NS, 3600, 1, rds);
	rds[0] = A(127, 0, 0, 1);
	load("ns1.t.", WIRE_T_A, 3600, 1, rds);
	rds[0] = TXT("ino=1 ver=1");
	load("1.i.t.", WIRE_T_TXT, 1, 1, rds);
	rds[0] = TXT("a");
	rds[1] = TXT("b");
	load("two.t.", WIRE_T_TXT, 60, 2, rds);
	rds[0] = NAME("1.i.t.");
	load("x.1.d.t.", WIRE_T_CNAME, 1, 1, rds);
	ck_assert_int_eq(zoneset_add(&zs, z), 0);
	update_limits_default(&lim);
	err_clear(&e);
}

static void teardown(void)
{
	zoneset_release(&zs);
}

/* Run the message: the rcode; on NOERROR the txn is released here. */
static int run(struct msg *m)
{
	struct zone *zout = NULL;
	size_t len = m_end(m);
	int rc = update_process(&zs, m->buf, len, m->tsig_off, &lim, &zout, &t, &e);

	if (rc == WIRE_RC_NOERROR) {
		ck_assert_ptr_eq(zout, z);
		zone_txn_release(&t);
	} else {
		ck_assert_msg(e.msg[0] != '\0', "no message for rcode %d", rc);
		ck_assert_ptr_null(t.changes);                /* released */
	}
	return rc;
}

/* An order-independent digest of the whole zone, to prove "unchanged". */
struct digest {
	uint64_t sum, n;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static void digest_fn(const struct wire_name *name, const struct zone_rrset *s, void *arg)
{
	struct digest *d = arg;
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;

	while (zone_rrset_next(s, &off, &rd, &rdlen)) {
		uint64_t h = fnv(0xcbf29ce484222325ULL, name->b, name->len);

		h = fnv(h, &s->type, sizeof(s->type));
		h = fnv(h, &s->ttl, sizeof(s->ttl));
		h = fnv(h, rd, rdlen);
		d->sum += h;
		d->n++;
	}
}

static uint64_t snap(void)
{
	struct digest d = {0};

	zone_foreach(z, digest_fn, &d);
	return d.sum ^ d.n ^ ((uint64_t)z->serial << 32) ^ z->nnodes ^ (z->nrecords << 16);
}

static struct zone_rrset *get(const char *name, uint16_t type)
{
	struct wire_name n = N(name);

	return zone_node_rrset(zone_find(z, &n), type);
}

static int has(const char *name, uint16_t type, struct rd rd)
{
	return zone_rrset_contains(get(name, type), rd.b, rd.n);
}

/* A message that passes or fails on its prerequisites alone; its update
 * would add a record, so a failure must leave no trace of it. */
static void expect(struct msg *m, int rcode)
{
	static unsigned k;
	uint64_t before = snap();
	uint32_t serial = z->serial;
	char name[32];

	snprintf(name, sizeof(name), "new%u.t.", k++);
	UPD_ADD(m, name, WIRE_T_TXT, 1, TXT("new"));
	ck_assert_int_eq(run(m), rcode);
	if (rcode == WIRE_RC_NOERROR) {
		ck_assert(has(name, WIRE_T_TXT, TXT("new")));
		ck_assert_uint_eq(z->serial, serial + 1);
	} else {
		ck_assert_uint_eq(snap(), before);
		ck_assert_ptr_null(get(name, WIRE_T_TXT));
	}
}

/* ---- prerequisites -------------------------------------------------------- */

START_TEST(test_pre_name_in_use)
{
	struct msg m;

	m_begin(&m);
	PRE_NAME_IN_USE(&m, "1.i.t.");
	expect(&m, WIRE_RC_NOERROR);
	m_begin(&m);
	PRE_NAME_IN_USE(&m, "nope.t.");
	expect(&m, WIRE_RC_NXDOMAIN);
	ck_assert(strstr(e.msg, "nope.t.") != NULL);
	/* an empty non-terminal owns no RRs: not "in use" (RFC 2136 2.4.4) */
	m_begin(&m);
	PRE_NAME_IN_USE(&m, "i.t.");
	expect(&m, WIRE_RC_NXDOMAIN);
}
END_TEST

START_TEST(test_pre_name_not_in_use)
{
	struct msg m;

	m_begin(&m);
	PRE_NAME_NOT_IN_USE(&m, "nope.t.");
	PRE_NAME_NOT_IN_USE(&m, "d.t.");                 /* an ENT */
	expect(&m, WIRE_RC_NOERROR);
	m_begin(&m);
	PRE_NAME_NOT_IN_USE(&m, "nope2.t.");
	PRE_NAME_NOT_IN_USE(&m, "TWO.t.");               /* case-insensitive */
	expect(&m, WIRE_RC_YXDOMAIN);
}
END_TEST

START_TEST(test_pre_rrset_exists)
{
	struct msg m;

	m_begin(&m);
	PRE_RRSET_EXISTS(&m, "two.t.", WIRE_T_TXT);
	PRE_RRSET_EXISTS(&m, "x.1.d.t.", WIRE_T_CNAME);  /* empty rdata, name type */
	expect(&m, WIRE_RC_NOERROR);
	m_begin(&m);
	PRE_RRSET_EXISTS(&m, "two.t.", WIRE_T_A);
	expect(&m, WIRE_RC_NXRRSET);
}
END_TEST

START_TEST(test_pre_rrset_missing)
{
	struct msg m;

	m_begin(&m);
	PRE_RRSET_MISSING(&m, "two.t.", WIRE_T_A);
	PRE_RRSET_MISSING(&m, "gone.t.", WIRE_T_TXT);
	expect(&m, WIRE_RC_NOERROR);
	m_begin(&m);
	PRE_RRSET_MISSING(&m, "t.", WIRE_T_NS);
	expect(&m, WIRE_RC_YXRRSET);
}
END_TEST

START_TEST(test_pre_value)
{
	struct msg m;

	/* the whole set, in another order */
	m_begin(&m);
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("b"));
	PRE_RR(&m, "1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=1"));
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("a"));
	expect(&m, WIRE_RC_NOERROR);
	/* a subset is not equal */
	m_begin(&m);
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("a"));
	expect(&m, WIRE_RC_NXRRSET);
	/* nor a superset */
	m_begin(&m);
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("a"));
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("b"));
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("c"));
	expect(&m, WIRE_RC_NXRRSET);
	/* nor an rrset that does not exist */
	m_begin(&m);
	PRE_RR(&m, "none.t.", WIRE_T_TXT, TXT("a"));
	expect(&m, WIRE_RC_NXRRSET);
	/* names in rdata compare canonically (sent compressed, upper case) */
	m_begin(&m);
	PRE_RR(&m, "t.", WIRE_T_NS, NAME("NS1.t."));
	expect(&m, WIRE_RC_NOERROR);
	/* a failing ANY/NONE prerequisite after a value one wins (RFC order) */
	m_begin(&m);
	PRE_RR(&m, "two.t.", WIRE_T_TXT, TXT("a"));
	PRE_NAME_IN_USE(&m, "nope.t.");
	expect(&m, WIRE_RC_NXDOMAIN);
}
END_TEST

/* The dnsfs write path: compare-and-swap of an inode record. */
START_TEST(test_pre_cas)
{
	struct msg m;
	uint32_t serial = z->serial;

	m_begin(&m);
	PRE_RR(&m, "1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=1"));
	UPD_DEL_RRSET(&m, "1.i.t.", WIRE_T_TXT);
	UPD_ADD(&m, "1.i.t.", WIRE_T_TXT, 1, TXT("ino=1 ver=2"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(has("1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=2")));
	ck_assert_uint_eq(get("1.i.t.", WIRE_T_TXT)->count, 1);
	ck_assert_uint_eq(z->serial, serial + 1);
	/* the same CAS again loses: the old value is gone */
	m_begin(&m);
	PRE_RR(&m, "1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=1"));
	UPD_DEL_RRSET(&m, "1.i.t.", WIRE_T_TXT);
	expect(&m, WIRE_RC_NXRRSET);
	ck_assert(has("1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=2")));
}
END_TEST

START_TEST(test_pre_malformed)
{
	struct msg m;

	m_begin(&m);
	m_rr(&m, PRE, "two.t.", WIRE_T_TXT, WIRE_C_IN, 5, TXT("a"));   /* TTL != 0 */
	expect(&m, WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, PRE, "two.t.", WIRE_T_TXT, WIRE_C_ANY, 0, TXT("a"));  /* rdata */
	expect(&m, WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, PRE, "two.t.", WIRE_T_ANY, WIRE_C_IN, 0, TXT("a"));   /* ANY in IN */
	expect(&m, WIRE_RC_FORMERR);
	m_begin(&m);
	PRE_RRSET_EXISTS(&m, "two.t.", WIRE_T_AXFR);
	expect(&m, WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, PRE, "two.t.", WIRE_T_TXT, WIRE_C_CH, 0, TXT("a"));
	expect(&m, WIRE_RC_FORMERR);
	m_begin(&m);
	PRE_NAME_IN_USE(&m, "other.");
	expect(&m, WIRE_RC_NOTZONE);
}
END_TEST

/* ---- updates -------------------------------------------------------------- */

START_TEST(test_upd_add)
{
	struct msg m;
	struct zone_rrset *s;

	m_begin(&m);
	UPD_ADD(&m, "New.T.", WIRE_T_TXT, 5, TXT("x"));
	UPD_ADD(&m, "two.t.", WIRE_T_TXT, 60, TXT("c"));
	UPD_ADD(&m, "t.", WIRE_T_NS, 3600, NAME("ns2.t."));
	UPD_ADD(&m, "ns2.t.", WIRE_T_A, 3600, A(127, 0, 0, 2));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(has("new.t.", WIRE_T_TXT, TXT("x")));
	ck_assert_uint_eq(get("two.t.", WIRE_T_TXT)->count, 3);
	ck_assert(has("t.", WIRE_T_NS, NAME("ns2.t.")));
	ck_assert(has("ns2.t.", WIRE_T_A, A(127, 0, 0, 2)));
	ck_assert_uint_eq(z->serial, 2);
	/* a duplicate changes the TTL only (of the whole rrset) */
	m_begin(&m);
	UPD_ADD(&m, "two.t.", WIRE_T_TXT, 30, TXT("a"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	s = get("two.t.", WIRE_T_TXT);
	ck_assert_uint_eq(s->count, 3);
	ck_assert_uint_eq(s->ttl, 30);
	ck_assert_uint_eq(z->serial, 3);
	/* an exact duplicate changes nothing, not even the serial */
	m_begin(&m);
	UPD_ADD(&m, "two.t.", WIRE_T_TXT, 30, TXT("b"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 3);
}
END_TEST

START_TEST(test_upd_delete)
{
	struct msg m;

	m_begin(&m);
	UPD_DEL_RR(&m, "two.t.", WIRE_T_TXT, TXT("a"));
	UPD_DEL_RRSET(&m, "ns1.t.", WIRE_T_A);
	UPD_DEL_NAME(&m, "x.1.d.t.");
	UPD_DEL_RR(&m, "two.t.", WIRE_T_TXT, TXT("zzz"));  /* absent: no-op */
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(!has("two.t.", WIRE_T_TXT, TXT("a")) && has("two.t.", WIRE_T_TXT, TXT("b")));
	ck_assert_ptr_null(get("ns1.t.", WIRE_T_A));
	{
		struct wire_name n = N("x.1.d.t.");

		ck_assert_ptr_null(zone_find(z, &n));
		n = N("d.t.");
		ck_assert_ptr_null(zone_find(z, &n));      /* its ENTs went too */
	}
	ck_assert_uint_eq(z->serial, 2);
	/* deleting the last RR deletes the rrset */
	m_begin(&m);
	UPD_DEL_RR(&m, "two.t.", WIRE_T_TXT, TXT("b"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_ptr_null(get("two.t.", WIRE_T_TXT));
	/* deleting what is not there changes nothing */
	m_begin(&m);
	UPD_DEL_NAME(&m, "two.t.");
	UPD_DEL_RRSET(&m, "1.i.t.", WIRE_T_A);
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 3);
}
END_TEST

/* The mount's bucket split (docs/SCHEMA.md "Listing buckets"): the
 * directory TXT and the whole source bucket as value prerequisites, single
 * RR deletes from it and adds to the new bucket, the directory replaced. A
 * bucket that changed since it was read (a concurrent create) fails it. */
START_TEST(test_bucket_split)
{
	struct msg m;
	char v[32];
	uint32_t serial;

	/* bucket 0 of directory 1 with 300 entries, one create at a time */
	for (int i = 0; i < 300; i++) {
		m_begin(&m);
		snprintf(v, sizeof(v), "f%07d %d f", i, 4096 + i);
		UPD_ADD(&m, "0.1.l.t.", WIRE_T_TXT, 1, TXT(v));
		ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	}
	ck_assert_uint_eq(get("0.1.l.t.", WIRE_T_TXT)->count, 300);
	/* a split read before a concurrent create: NXRRSET, nothing moves */
	m_begin(&m);
	PRE_RR(&m, "1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=1"));
	for (int i = 0; i < 299; i++) {
		snprintf(v, sizeof(v), "f%07d %d f", i, 4096 + i);
		PRE_RR(&m, "0.1.l.t.", WIRE_T_TXT, TXT(v));
	}
	UPD_DEL_RR(&m, "0.1.l.t.", WIRE_T_TXT, TXT("f0000000 4096 f"));
	UPD_ADD(&m, "1.1.l.t.", WIRE_T_TXT, 1, TXT("f0000000 4096 f"));
	serial = z->serial;
	expect(&m, WIRE_RC_NXRRSET);
	ck_assert_uint_eq(z->serial, serial);
	/* the split as read: every odd entry moves to bucket 1 */
	m_begin(&m);
	PRE_RR(&m, "1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=1"));
	for (int i = 299; i >= 0; i--) {           /* any order */
		snprintf(v, sizeof(v), "f%07d %d f", i, 4096 + i);
		PRE_RR(&m, "0.1.l.t.", WIRE_T_TXT, TXT(v));
	}
	for (int i = 1; i < 300; i += 2) {
		snprintf(v, sizeof(v), "f%07d %d f", i, 4096 + i);
		UPD_DEL_RR(&m, "0.1.l.t.", WIRE_T_TXT, TXT(v));
		UPD_ADD(&m, "1.1.l.t.", WIRE_T_TXT, 1, TXT(v));
	}
	UPD_DEL_RRSET(&m, "1.i.t.", WIRE_T_TXT);
	UPD_ADD(&m, "1.i.t.", WIRE_T_TXT, 1, TXT("ino=1 ver=2 buckets=2"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(get("0.1.l.t.", WIRE_T_TXT)->count, 150);
	ck_assert_uint_eq(get("1.1.l.t.", WIRE_T_TXT)->count, 150);
	ck_assert(has("0.1.l.t.", WIRE_T_TXT, TXT("f0000000 4096 f")));
	ck_assert(!has("0.1.l.t.", WIRE_T_TXT, TXT("f0000001 4097 f")));
	ck_assert(has("1.1.l.t.", WIRE_T_TXT, TXT("f0000001 4097 f")));
	ck_assert_uint_eq(z->serial, serial + 1);
	/* the same split again: the directory changed, NXRRSET */
	m_begin(&m);
	PRE_RR(&m, "1.i.t.", WIRE_T_TXT, TXT("ino=1 ver=1"));
	UPD_ADD(&m, "1.1.l.t.", WIRE_T_TXT, 1, TXT("x 5 f"));
	expect(&m, WIRE_RC_NXRRSET);
}
END_TEST

/* The change list the caller persists: one entry per changed rrset. */
START_TEST(test_upd_changes)
{
	struct msg m;
	struct zone *zout;
	size_t len;
	int soa = 0, txt = 0;

	m_begin(&m);
	UPD_DEL_RRSET(&m, "1.i.t.", WIRE_T_TXT);
	UPD_ADD(&m, "1.i.t.", WIRE_T_TXT, 1, TXT("ino=1 ver=2"));
	UPD_ADD(&m, "1.i.t.", WIRE_T_TXT, 1, TXT("ino=1 ver=2"));
	len = m_end(&m);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_NOERROR);
	ck_assert_uint_eq(t.n, 2);
	for (size_t i = 0; i < t.n; i++) {
		struct zone_change *c = &t.changes[i];

		ck_assert_ptr_nonnull(c->old_set);
		ck_assert_ptr_nonnull(c->new_set);
		soa += c->type == WIRE_T_SOA;
		txt += c->type == WIRE_T_TXT;
	}
	ck_assert_int_eq(soa, 1);
	ck_assert_int_eq(txt, 1);
	zone_txn_release(&t);
}
END_TEST

START_TEST(test_rule_cname)
{
	struct msg m;
	uint64_t before = snap();

	/* CNAME onto a name with other data, other data onto a CNAME: ignored */
	m_begin(&m);
	UPD_ADD(&m, "two.t.", WIRE_T_CNAME, 1, NAME("1.i.t."));
	UPD_ADD(&m, "x.1.d.t.", WIRE_T_TXT, 1, TXT("nope"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(snap(), before);
	ck_assert_uint_eq(z->serial, 1);
	/* a CNAME replaces a CNAME */
	m_begin(&m);
	UPD_ADD(&m, "x.1.d.t.", WIRE_T_CNAME, 1, NAME("2.i.t."));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(get("x.1.d.t.", WIRE_T_CNAME)->count, 1);
	ck_assert(has("x.1.d.t.", WIRE_T_CNAME, NAME("2.i.t.")));
	/* within one update: after deleting the CNAME, other data may come */
	m_begin(&m);
	UPD_DEL_RRSET(&m, "x.1.d.t.", WIRE_T_CNAME);
	UPD_ADD(&m, "x.1.d.t.", WIRE_T_TXT, 1, TXT("now"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(has("x.1.d.t.", WIRE_T_TXT, TXT("now")));
	/* a new name may get a CNAME */
	m_begin(&m);
	UPD_ADD(&m, "y.1.d.t.", WIRE_T_CNAME, 1, NAME("1.i.t."));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(has("y.1.d.t.", WIRE_T_CNAME, NAME("1.i.t.")));
}
END_TEST

START_TEST(test_rule_soa)
{
	struct msg m;

	/* older or equal serial: ignored */
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(1));
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(0));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 1);
	/* not at the apex: ignored */
	m_begin(&m);
	UPD_ADD(&m, "sub.t.", WIRE_T_SOA, 3600, SOA(9));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_ptr_null(get("sub.t.", WIRE_T_SOA));
	/* newer: taken as is, no extra increment, even with other changes */
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(100));
	UPD_ADD(&m, "n.t.", WIRE_T_TXT, 1, TXT("x"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 100);
	ck_assert_uint_eq(get("t.", WIRE_T_SOA)->count, 1);
	/* the apex SOA cannot be deleted, as an rrset or as an RR */
	m_begin(&m);
	UPD_DEL_RRSET(&m, "t.", WIRE_T_SOA);
	UPD_DEL_RR(&m, "t.", WIRE_T_SOA, SOA(100));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_ptr_nonnull(get("t.", WIRE_T_SOA));
	ck_assert_uint_eq(z->serial, 100);
}
END_TEST

START_TEST(test_rule_apex_ns)
{
	struct msg m;

	/* the NS rrset at the apex cannot be deleted, nor its last RR */
	m_begin(&m);
	UPD_DEL_RRSET(&m, "t.", WIRE_T_NS);
	UPD_DEL_RR(&m, "t.", WIRE_T_NS, NAME("ns1.t."));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(has("t.", WIRE_T_NS, NAME("ns1.t.")));
	ck_assert_uint_eq(z->serial, 1);
	/* one of two may go */
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_NS, 3600, NAME("ns2.t."));
	UPD_DEL_RR(&m, "t.", WIRE_T_NS, NAME("ns1.t."));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(!has("t.", WIRE_T_NS, NAME("ns1.t.")) && has("t.", WIRE_T_NS, NAME("ns2.t.")));
	/* delete-name at the apex keeps SOA and NS */
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_TXT, 1, TXT("apex"));
	UPD_ADD(&m, "t.", WIRE_T_A, 1, A(1, 2, 3, 4));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	m_begin(&m);
	UPD_DEL_NAME(&m, "t.");
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_ptr_null(get("t.", WIRE_T_TXT));
	ck_assert_ptr_null(get("t.", WIRE_T_A));
	ck_assert_ptr_nonnull(get("t.", WIRE_T_SOA));
	ck_assert_ptr_nonnull(get("t.", WIRE_T_NS));
	/* the zone's data below the apex is untouched by that */
	ck_assert_ptr_nonnull(get("1.i.t.", WIRE_T_TXT));
	ck_assert_uint_eq(z->serial, 4);
}
END_TEST

START_TEST(test_serial)
{
	struct msg m;

	/* many changes, one increment */
	m_begin(&m);
	for (int i = 0; i < 20; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%d.i.t.", 100 + i);
		UPD_ADD(&m, name, WIRE_T_TXT, 1, TXT("inode"));
	}
	UPD_DEL_RRSET(&m, "two.t.", WIRE_T_TXT);
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 2);
	ck_assert(has("t.", WIRE_T_SOA, SOA(2)));
	/* an update that adds and then removes the same thing changes nothing */
	m_begin(&m);
	UPD_ADD(&m, "tmp.t.", WIRE_T_TXT, 1, TXT("x"));
	UPD_DEL_NAME(&m, "tmp.t.");
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 2);
	/* RFC 1982: exactly half the space ahead is not "newer" */
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(0x7fffffff));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 0x7fffffff);
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(0xffffffff));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 0x7fffffff);
	/* wrap: 2^32 - 1 -> 1 (0 is skipped) */
	m_begin(&m);
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(0xfffffffe));
	UPD_ADD(&m, "t.", WIRE_T_SOA, 3600, SOA(0xffffffff));   /* newer than the txn's */
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 0xffffffff);
	m_begin(&m);
	UPD_ADD(&m, "w.t.", WIRE_T_TXT, 1, TXT("wrap"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert_uint_eq(z->serial, 1);
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

START_TEST(test_notzone_notauth)
{
	struct msg m;
	uint64_t before = snap();
	struct zone *zout;
	size_t len;

	m_begin(&m);
	UPD_ADD(&m, "a.t.", WIRE_T_TXT, 1, TXT("x"));
	UPD_ADD(&m, "a.elsewhere.", WIRE_T_TXT, 1, TXT("x"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOTZONE);
	ck_assert_uint_eq(snap(), before);
	m_begin_zone(&m, "other.", WIRE_T_SOA, WIRE_C_IN);
	UPD_ADD(&m, "a.other.", WIRE_T_TXT, 1, TXT("x"));
	len = m_end(&m);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_NOTAUTH);
	ck_assert_ptr_null(zout);
	/* a subdomain of ours is not a zone of ours either */
	m_begin_zone(&m, "i.t.", WIRE_T_SOA, WIRE_C_IN);
	ck_assert_int_eq(run(&m), WIRE_RC_NOTAUTH);
	m_begin_zone(&m, "t.", WIRE_T_SOA, WIRE_C_CH);
	ck_assert_int_eq(run(&m), WIRE_RC_NOTAUTH);
}
END_TEST

START_TEST(test_formerr)
{
	struct msg m;
	uint64_t before = snap();
	struct zone *zout;
	size_t len;

	/* zone section: not SOA, two entries, none */
	m_begin_zone(&m, "t.", WIRE_T_A, WIRE_C_IN);
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	len = m_end(&m);
	wire_wr_patch_u16(&m.w, 4, 2);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	wire_wr_patch_u16(&m.w, 4, 0);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	/* a query, a response */
	m_begin(&m);
	len = m_end(&m);
	wire_wr_patch_u16(&m.w, 2, 0);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	wire_wr_patch_u16(&m.w, 2, WIRE_F_QR | WIRE_OP_UPDATE << 11);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	/* shorter than a header */
	ck_assert_int_eq(update_process(&zs, m.buf, 7, 7, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	/* update forms with the wrong shape */
	m_begin(&m);
	m_rr(&m, UPD, "a.t.", WIRE_T_TXT, WIRE_C_ANY, 5, NORD);          /* TTL */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, UPD, "a.t.", WIRE_T_TXT, WIRE_C_ANY, 0, TXT("x"));      /* rdata */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, UPD, "a.t.", WIRE_T_TXT, WIRE_C_NONE, 5, TXT("x"));     /* TTL */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, UPD, "a.t.", WIRE_T_ANY, WIRE_C_NONE, 0, NORD);         /* ANY/NONE */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, UPD, "a.t.", WIRE_T_AXFR, WIRE_C_ANY, 0, NORD);
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	UPD_ADD(&m, "a.t.", WIRE_T_ANY, 1, TXT("x"));                     /* meta add */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	UPD_ADD(&m, "a.t.", WIRE_T_OPT, 1, TXT("x"));
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr(&m, UPD, "a.t.", WIRE_T_TXT, WIRE_C_CH, 1, TXT("x"));       /* class */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	m_begin(&m);
	m_rr_raw(&m, UPD, "a.t.", WIRE_T_NS, WIRE_C_IN, 1, TXT("x"));     /* bad rdata */
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	/* the good part of a message with a bad RR is not applied either */
	m_begin(&m);
	UPD_ADD(&m, "a.t.", WIRE_T_TXT, 1, TXT("x"));
	UPD_ADD(&m, "b.t.", WIRE_T_AXFR, 1, TXT("x"));
	ck_assert_int_eq(run(&m), WIRE_RC_FORMERR);
	ck_assert_uint_eq(snap(), before);
}
END_TEST

START_TEST(test_truncated)
{
	struct msg m;
	uint64_t before = snap();
	struct zone *zout;
	size_t len;

	m_begin(&m);
	PRE_RRSET_EXISTS(&m, "two.t.", WIRE_T_TXT);
	UPD_ADD(&m, "a.t.", WIRE_T_TXT, 1, TXT("hello"));
	UPD_ADD(&m, "b.t.", WIRE_T_TXT, 1, TXT("world"));
	len = m_end(&m);
	/* every cut inside the sections is FORMERR and changes nothing */
	for (size_t cut = 12; cut < len; cut++) {
		ck_assert_int_eq(update_process(&zs, m.buf, cut, cut, &lim, &zout, &t, &e),
				 WIRE_RC_FORMERR);
		ck_assert_ptr_null(t.changes);
	}
	/* counts claiming more than is there */
	wire_wr_patch_u16(&m.w, 8, 3);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	ck_assert(strstr(e.msg, "update section") != NULL);
	/* trailing bytes after the last RR */
	wire_wr_patch_u16(&m.w, 8, 1);
	ck_assert_int_eq(update_process(&zs, m.buf, len, len, &lim, &zout, &t, &e),
			 WIRE_RC_FORMERR);
	ck_assert_uint_eq(snap(), before);
}
END_TEST

START_TEST(test_tsig_ignored)
{
	struct msg m;

	m_begin(&m);
	UPD_ADD(&m, "a.t.", WIRE_T_TXT, 1, TXT("x"));
	m_rr(&m, ADD, ".", WIRE_T_OPT, 1232, 0, NORD);  /* other additional RRs parse */
	m.tsig_off = m.w.pos;
	/* stands for the TSIG RR: not read by update_process */
	m_rr(&m, ADD, "key.", WIRE_T_TSIG, WIRE_C_ANY, 0, TXT("not really a tsig"));
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);
	ck_assert(has("a.t.", WIRE_T_TXT, TXT("x")));
}
END_TEST

/* ---- limits --------------------------------------------------------------- */

START_TEST(test_limits)
{
	struct msg m;
	uint64_t before = snap();
	char v[16];

	/* the third RR of one rrset trips the limit: nothing is applied */
	lim.max_rrset_rrs = 2;
	m_begin(&m);
	UPD_ADD(&m, "other.t.", WIRE_T_TXT, 1, TXT("fine"));
	UPD_ADD(&m, "l.t.", WIRE_T_TXT, 1, TXT("1"));
	UPD_ADD(&m, "l.t.", WIRE_T_TXT, 1, TXT("2"));
	UPD_ADD(&m, "l.t.", WIRE_T_TXT, 1, TXT("3"));
	ck_assert_int_eq(run(&m), WIRE_RC_REFUSED);
	ck_assert(strstr(e.msg, "l.t.") != NULL);
	ck_assert_uint_eq(snap(), before);
	/* also against RRs already in the zone */
	m_begin(&m);
	UPD_ADD(&m, "two.t.", WIRE_T_TXT, 60, TXT("c"));
	ck_assert_int_eq(run(&m), WIRE_RC_REFUSED);
	update_limits_default(&lim);

	lim.max_rrset_bytes = 10;
	m_begin(&m);
	UPD_ADD(&m, "l.t.", WIRE_T_TXT, 1, TXT("short"));
	UPD_ADD(&m, "l.t.", WIRE_T_TXT, 1, TXT("longer"));
	ck_assert_int_eq(run(&m), WIRE_RC_REFUSED);
	ck_assert_uint_eq(snap(), before);
	update_limits_default(&lim);

	lim.max_changes = 5;
	m_begin(&m);
	for (int i = 0; i < 6; i++) {
		snprintf(v, sizeof(v), "n%d.t.", i);
		UPD_ADD(&m, v, WIRE_T_TXT, 1, TXT("x"));
	}
	ck_assert_int_eq(run(&m), WIRE_RC_REFUSED);
	ck_assert_uint_eq(snap(), before);
	m_begin(&m);
	for (int i = 0; i < 5; i++) {
		snprintf(v, sizeof(v), "n%d.t.", i);
		UPD_ADD(&m, v, WIRE_T_TXT, 1, TXT("x"));
	}
	ck_assert_int_eq(run(&m), WIRE_RC_NOERROR);         /* the serial is extra */
	ck_assert_uint_eq(z->serial, 2);
}
END_TEST

static Suite *update_suite(void)
{
	Suite *s = suite_create("update");
	TCase *tc = tcase_create("prerequisites");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pre_name_in_use);
	tcase_add_test(tc, test_pre_name_not_in_use);
	tcase_add_test(tc, test_pre_rrset_exists);
	tcase_add_test(tc, test_pre_rrset_missing);
	tcase_add_test(tc, test_pre_value);
	tcase_add_test(tc, test_pre_cas);
	tcase_add_test(tc, test_pre_malformed);
	suite_add_tcase(s, tc);
	tc = tcase_create("updates");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_upd_add);
	tcase_add_test(tc, test_upd_delete);
	tcase_add_test(tc, test_upd_changes);
	tcase_add_test(tc, test_bucket_split);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rule_cname);
	tcase_add_test(tc, test_rule_soa);
	tcase_add_test(tc, test_rule_apex_ns);
	tcase_add_test(tc, test_serial);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_notzone_notauth);
	tcase_add_test(tc, test_formerr);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_tsig_ignored);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(update_suite)
