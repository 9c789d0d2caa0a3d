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
	uint8_t rdata[];                /* count x (u16 rdlength big-endian, canonical
					 * rdata): the RRs' wire form, unique, unordered */
};

/* An empty set with room for cap bytes of rdata (each RR takes 2 + rdlen);
 * refs=1, NULL on out of memory. The creator fills it with zone_rrset_append
 * before anyone else sees it; after that it is never written again. */
struct zone_rrset *zone_rrset_new(uint16_t type, uint32_t ttl, size_t cap);
/* Append one RR (no duplicate check). -ENOSPC if it does not fit in cap (the
 * cap given to zone_rrset_new), -EOVERFLOW past 65535 RRs. */
int zone_rrset_append(struct zone_rrset *s, size_t cap, const uint8_t *rd, uint16_t rdlen);
struct zone_rrset *zone_rrset_ref(struct zone_rrset *s);
void zone_rrset_unref(struct zone_rrset *s);      /* frees at 0; NULL is fine */
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
	uint64_t bytes;                 /* memory held by nodes, rrsets and the table,
					 * malloc's per-chunk overhead included */
	/* private */
	struct zone_node **tab;         /* hash table of nodes, chained */
	uint64_t tabmask;               /* slots - 1 (a power of two) */
};

struct zone *zone_new(const struct wire_name *apex);   /* NULL on out of memory */
void zone_free(struct zone *z);
/* Bulk load outside any transaction (zone files, the store at start-up):
 * make set the (name, set->type) rrset, replacing any, creating the node and
 * its empty non-terminals. Takes a new ref on set. name must be canonical and
 * at or below the apex. 0, -EINVAL (outside the zone, empty set) or -ENOMEM
 * (zone unchanged). */
int zone_load(struct zone *z, const struct wire_name *name, struct zone_rrset *set);

/* Lookup. name must be canonical (lower case) and at or below the apex.
 * zone_find returns NULL when the name does not exist at all (NXDOMAIN). */
struct zone_node *zone_find(const struct zone *z, const struct wire_name *name);
/* Pointers returned by lookups are borrowed: valid until the next commit
 * (take a ref on an rrset to keep it longer). */
struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type);
int zone_node_has_data(const struct zone_node *n);     /* 0 for an empty non-terminal */
/* Copy the node's name out (nodes store it packed, not as a struct wire_name). */
void zone_node_name(const struct zone_node *n, struct wire_name *out);
/* Visit every rrset of a node (for ANY queries, AXFR). */
void zone_node_foreach(const struct zone_node *n,
		       void (*fn)(const struct zone_rrset *, void *), void *arg);
/* Visit every (name, rrset) of the zone, SOA first (for AXFR and store load
 * checks); the order of the rest is unspecified. fn must not change the zone. */
void zone_foreach(const struct zone *z,
		  void (*fn)(const struct wire_name *, const struct zone_rrset *, void *),
		  void *arg);
struct zone_rrset *zone_soa(const struct zone *z);

/* Incremental scan (zone transfer): each call visits the (name, rrset) pairs
 * of one hash bucket and advances *cursor (start at 0) in reverse-binary
 * bucket order, as Redis's SCAN does, so a table that grows between calls
 * (it never shrinks) neither repeats nor skips a name. Returns 1 while
 * buckets remain, 0 after the last one. The SOA is not treated specially. */
int zone_scan(const struct zone *z, uint64_t *cursor,
	      void (*fn)(const struct wire_name *, const struct zone_rrset *, void *),
	      void *arg);
/* 1 if a scan now at cursor has visited the bucket of name (canonical), i.e.
 * a change to name no longer affects what that scan has seen. */
int zone_scan_passed(const struct zone *z, uint64_t cursor, const struct wire_name *name);

/* ---- changes ---------------------------------------------------------- */

/* One RRset that a transaction changed: old is what the zone had (NULL if
 * none), new what it has after commit (NULL if deleted). Both are refs the
 * change holds. */
struct zone_change {
	struct wire_name name;
	uint16_t type;
	struct zone_rrset *old_set;
	struct zone_rrset *new_set;
	/* private */
	uint32_t next;                  /* next change of the same name, or UINT32_MAX */
	uint32_t cap;                   /* rdata room of new_set while only this txn
					 * holds it (written in place); 0: shared */
};

struct zone_tnode;

/* One transaction at a time per zone, and no zone_load while it is open: the
 * txn caches pointers into the zone. */
struct zone_txn {
	struct zone *z;
	struct zone_change *changes;    /* owned array, one entry per touched (name,type) */
	size_t n, cap;
	uint64_t bytes;                 /* rdata bytes added so far (limit enforcement) */
	int failed;                     /* negative errno of a step that failed half-way
					 * (out of memory): commit refuses with it */
	/* private: the names the txn touched and their ancestors, with their
	 * existence as the txn sees it (so ENTs come and go at commit) */
	struct zone_tnode **ttab;
	size_t ttabmask, ntnodes;
	int committed;
};

void zone_txn_begin(struct zone_txn *t, struct zone *z);
/* The RRset as the transaction sees it (its own changes applied). Borrowed:
 * valid until the next change to the same (name, type) or the end of the txn. */
struct zone_rrset *zone_txn_get(struct zone_txn *t, const struct wire_name *name, uint16_t type);
/* 1 if the name exists (any data, or an empty non-terminal) as the txn sees it. */
int zone_txn_name_exists(struct zone_txn *t, const struct wire_name *name);
/* 1 if the name owns any rrset (as the txn sees it) other than `except` (0: none). */
int zone_txn_name_has_other(struct zone_txn *t, const struct wire_name *name, uint16_t except);
/* Primitive changes; the RFC 2136 rules (CNAME exclusivity, SOA/NS at the
 * apex, duplicates) are applied by the caller (mds/update.c). Names are
 * lower-cased here; outside the zone is -EINVAL. add_rr adds the RR unless it
 * is there already and sets the rrset's TTL to ttl either way. Deleting what
 * is not there is a no-op. 0, or -ENOMEM/-EOVERFLOW (then t->failed is set). */
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
/* 1 if committing now would change the zone (some change is not a no-op). */
int zone_txn_dirty(const struct zone_txn *t);
/* Drop the transaction (after commit: frees the change list; before: aborts). */
void zone_txn_release(struct zone_txn *t);

/* A set of zones served together, found by longest matching apex. */
struct zoneset {
	struct zone **zones;
	size_t n;
};
struct zone *zoneset_find(const struct zoneset *zs, const struct wire_name *name);
struct zone *zoneset_find_apex(const struct zoneset *zs, const struct wire_name *apex);
/* Takes ownership on success; -EEXIST (same apex) or -ENOMEM leave z with
 * the caller. */
int zoneset_add(struct zoneset *zs, struct zone *z);
void zoneset_release(struct zoneset *zs);

#endif
