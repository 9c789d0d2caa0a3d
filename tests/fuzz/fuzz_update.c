/* fuzz_update: libFuzzer target for mds/update. Runs any input as an UPDATE
 * against a small zone "t." and checks the promises of update.h: a refused
 * update leaves the zone exactly as it was; an accepted one keeps the apex
 * SOA (one RR) and NS, moves the serial iff something changed, and keeps the
 * zone's counters true. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

struct sum {
	uint64_t h, records, sets;
};

static void sum_fn(const struct wire_name *name, const struct zone_rrset *s, void *arg)
{
	struct sum *d = arg;
	uint64_t h = 0xcbf29ce484222325ULL ^ s->type ^ ((uint64_t)s->ttl << 16);

	for (size_t i = 0; i < name->len; i++)
		h = (h ^ name->b[i]) * 0x100000001b3ULL;
	for (size_t i = 0; i < s->len; i++)
		h = (h ^ s->rdata[i]) * 0x100000001b3ULL;
	d->h += h;
	d->records += s->count;
	d->sets++;
}

static struct sum zone_sum(const struct zone *z)
{
	struct sum d = {0};

	zone_foreach(z, sum_fn, &d);
	return d;
}

/* name in wire form from "a.b." (test input only, no escapes) */
static struct wire_name name_of(const char *s)
{
	struct wire_name n = {0};

	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = (size_t)(dot - s);

		n.b[n.len++] = (uint8_t)l;
		memcpy(n.b + n.len, s, l);
		n.len += (uint8_t)l;
		s = dot + 1;
	}
	n.b[n.len++] = 0;
	return n;
}

static void put(struct zone *z, const char *owner, uint16_t type, const uint8_t *rd,
		uint16_t rdlen)
{
	struct wire_name n = name_of(owner);
	struct zone_rrset *s = zone_rrset_new(type, 60, 2u + rdlen);

	REQUIRE(s != NULL);
	REQUIRE(zone_rrset_append(s, 2u + rdlen, rd, rdlen) == 0);
	REQUIRE(zone_load(z, &n, s) == 0);
	zone_rrset_unref(s);
}

static struct zone *make_zone(void)
{
	static const uint8_t soa[] = {
		3, 'n', 's', '1', 1, 't', 0, 5, 'a', 'd', 'm', 'i', 'n', 1, 't', 0,
		0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 2, 88, 0, 1, 81, 128, 0, 0, 0, 1,
	};
	static const uint8_t ns[] = {3, 'n', 's', '1', 1, 't', 0};
	static const uint8_t a[] = {127, 0, 0, 1};
	static const uint8_t txt[] = {5, 'i', 'n', 'o', '=', '1'};
	static const uint8_t cname[] = {1, '1', 1, 'i', 1, 't', 0};
	struct wire_name apex = name_of("t.");
	struct zone *z = zone_new(&apex);

	REQUIRE(z != NULL);
	put(z, "t.", WIRE_T_SOA, soa, sizeof(soa));
	put(z, "t.", WIRE_T_NS, ns, sizeof(ns));
	put(z, "ns1.t.", WIRE_T_A, a, sizeof(a));
	put(z, "1.i.t.", WIRE_T_TXT, txt, sizeof(txt));
	put(z, "x.1.d.t.", WIRE_T_CNAME, cname, sizeof(cname));
	return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zoneset zs = {0};
	struct zone *z = make_zone(), *zout;
	struct update_limits lim;
	struct zone_txn t;
	struct err e = {0};
	struct sum before, after;
	uint32_t serial;
	int rc;

	REQUIRE(zoneset_add(&zs, z) == 0);
	update_limits_default(&lim);
	lim.max_rrset_rrs = 50;         /* let the fuzzer reach the limits */
	lim.max_changes = 20;
	before = zone_sum(z);
	serial = z->serial;
	rc = update_process(&zs, data, size, size, &lim, &zout, &t, &e);
	after = zone_sum(z);
	REQUIRE(rc >= WIRE_RC_NOERROR && rc <= WIRE_RC_NOTZONE);
	if (rc != WIRE_RC_NOERROR) {
		REQUIRE(e.msg[0] != '\0');
		REQUIRE(t.changes == NULL && t.n == 0);
		REQUIRE(before.h == after.h && before.records == after.records);
		REQUIRE(z->serial == serial);
	} else {
		struct zone_rrset *soa = zone_soa(z);

		REQUIRE(zout == z);
		REQUIRE(soa != NULL && soa->count == 1);
		REQUIRE(zone_node_rrset(zone_find(z, &z->apex), WIRE_T_NS) != NULL);
		REQUIRE((t.n > 0) == (z->serial != serial));
		REQUIRE((t.n > 0) == (before.h != after.h || before.records != after.records));
		for (size_t i = 0; i < t.n; i++)
			REQUIRE(t.changes[i].old_set != t.changes[i].new_set);
		zone_txn_release(&t);
	}
	REQUIRE(after.records == z->nrecords);
	zoneset_release(&zs);
	return 0;
}
