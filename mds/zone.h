/* zone: one DNS zone held in memory, sized for millions of records. Names are
 * kept in canonical wire form in a hash table; each node has its RRsets with
 * rdata in canonical wire form, so answering copies bytes and never parses.
 * Changes go through a transaction (zone_txn) that is all-or-nothing and
 * reports exactly which RRsets changed, for the store, the journal and
 * reference counting. A zone is single-threaded: the mds event loop owns it. */
#ifndef DNSFS_ZONE_H
#define DNSFS_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

/* All RRs of one owner and type (class IN). Immutable once published in a
 * zone: a change builds a new rrset and swaps it in, so a pointer held by a
 * pending response or a journal entry stays valid until it is released. */
struct zone_rrset {
	uint32_t refs;                  /* holders: the zone, journal entries, txns */
	uint16_t type;
	uint16_t count;                 /* RRs in rdata[] */
	uint32_t ttl;                   /* one TTL per RRset (RFC 2181 5.2) */
	uint32_t len;                   /* bytes used in rdata[] */
	uint8_t rdata[];                /* count x (u16 rdlength, canonical rdata) */
};

struct zone_rrset *zone_rrset_new(uint16_t type, uint32_t ttl, size_t cap); /* refs=1 */
struct zone_rrset *zone_rrset_ref(struct zone_rrset *s);
void zone_rrset_unref(struct zone_rrset *s);
/* Iterate RRs: off starts at 0; returns 1 with rd/rdlen set, 0 at the end. */
int zone_rrset_next(const struct zone_rrset *s, uint32_t *off, const uint8_t **rd,
		    uint16_t *rdlen);
/* 1 if an RR with exactly this canonical rdata is in the set. */
int zone_rrset_contains(const struct zone_rrset *s, const uint8_t *rd, uint16_t rdlen);
/* Equal sets (same RRs, order ignored; TTL ignored), RFC 2136 3.2.3. */
int zone_rrset_equal(const struct zone_rrset *a, const struct zone_rrset *b);

/* A name in the zone. A node with no rrsets but children > 0 is an empty
 * non-terminal: it answers NODATA, not NXDOMAIN (RFC 8020). */
struct zone_node;

struct zone {
	struct wire_name apex;          /* canonical */
	char origin[WIRE_NAME_MAX * 4 + 2]; /* apex as text, with final dot */
	uint32_t serial;                /* SOA serial (kept in step with the SOA rrset) */
	uint64_t nrecords;              /* RRs in the zone */
	uint64_t nnodes;                /* names, empty non-terminals included */
	uint64_t bytes;                 /* memory held by nodes and rrsets */
	/* private */
	struct zone_node **tab;
	uint64_t tabmask;
};

struct zone *zone_new(const struct wire_name *apex);   /* NULL on out of memory */
void zone_free(struct zone *z);

/* Lookup. name must be canonical (lower case) and at or below the apex.
 * zone_find returns NULL when the name does not exist at all (NXDOMAIN). */
struct zone_node *zone_find(const struct zone *z, const struct wire_name *name);
struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type);
int zone_node_has_data(const struct zone_node *n);     /* 0 for an empty non-terminal */
const struct wire_name *zone_node_name(const struct zone_node *n);
/* Visit every rrset of a node (for ANY queries, AXFR). */
void zone_node_foreach(const struct zone_node *n,
		       void (*fn)(const struct zone_rrset *, void *), void *arg);
/* Visit every (name, rrset) of the zone, SOA first (for AXFR and store load checks). */
void zone_foreach(const struct zone *z,
		  void (*fn)(const struct wire_name *, const struct zone_rrset *, void *),
		  void *arg);
struct zone_rrset *zone_soa(const struct zone *z);

/* ---- changes ---------------------------------------------------------- */

/* One RRset that a transaction changed: old is what the zone had (NULL if
 * none), new what it has after commit (NULL if deleted). Both are refs the
 * change holds. */
struct zone_change {
	struct wire_name name;
	uint16_t type;
	struct zone_rrset *old_set;
	struct zone_rrset *new_set;
};

struct zone_txn {
	struct zone *z;
	struct zone_change *changes;    /* owned array, one entry per touched (name,type) */
	size_t n, cap;
	uint64_t bytes;                 /* rdata bytes added so far (limit enforcement) */
	int failed;                     /* an earlier step failed: commit refuses */
};

void zone_txn_begin(struct zone_txn *t, struct zone *z);
/* The RRset as the transaction sees it (its own changes applied). */
struct zone_rrset *zone_txn_get(struct zone_txn *t, const struct wire_name *name, uint16_t type);
/* 1 if the name exists (any data, or an empty non-terminal) as the txn sees it. */
int zone_txn_name_exists(struct zone_txn *t, const struct wire_name *name);
/* 1 if the name owns any rrset (as the txn sees it) other than `except` (0: none). */
int zone_txn_name_has_other(struct zone_txn *t, const struct wire_name *name, uint16_t except);
/* Primitive changes; the RFC 2136 rules (CNAME exclusivity, SOA/NS at the
 * apex, duplicates) are applied by the caller (mds/update.c). */
int zone_txn_add_rr(struct zone_txn *t, const struct wire_name *name, uint16_t type,
		    uint32_t ttl, const uint8_t *rd, uint16_t rdlen);
int zone_txn_del_rr(struct zone_txn *t, const struct wire_name *name, uint16_t type,
		    const uint8_t *rd, uint16_t rdlen);
int zone_txn_del_rrset(struct zone_txn *t, const struct wire_name *name, uint16_t type);
/* Delete every rrset of the name except those the caller keeps (SOA, NS at apex). */
int zone_txn_del_name(struct zone_txn *t, const struct wire_name *name,
		      const uint16_t *keep, size_t nkeep);
/* Replace an rrset wholesale (NULL deletes it). Takes a new ref on set. */
int zone_txn_put(struct zone_txn *t, const struct wire_name *name, uint16_t type,
		 struct zone_rrset *set);
/* Apply: publish every change into the zone (nodes and empty non-terminals
 * created or removed as needed), keep z->serial in step with the SOA. Changes
 * whose old and new sets are equal are dropped from the list first. After
 * commit, t->changes stays valid for the caller (store, journal, refcounts)
 * until zone_txn_release. Cannot fail except -ENOMEM before anything is
 * published (then the zone is unchanged). */
int zone_txn_commit(struct zone_txn *t);
/* Drop the transaction (after commit: frees the change list; before: aborts). */
void zone_txn_release(struct zone_txn *t);

/* A set of zones served together, found by longest matching apex. */
struct zoneset {
	struct zone **zones;
	size_t n;
};
struct zone *zoneset_find(const struct zoneset *zs, const struct wire_name *name);
struct zone *zoneset_find_apex(const struct zoneset *zs, const struct wire_name *apex);
int zoneset_add(struct zoneset *zs, struct zone *z);   /* takes ownership */
void zoneset_release(struct zoneset *zs);

#endif
