/* store: the mds's durable state in Redis, and the only module that speaks
 * hiredis. Keys are versioned ("dnsfs:v1:...") as Knot's Redis backend does.
 * Commits are asynchronous on the mds event loop and grouped: while one
 * MULTI/EXEC is in flight, later commits queue and go together in the next
 * one, so many concurrent updates share one Redis round-trip and one fsync
 * (Redis runs with appendonly yes, appendfsync always). A commit's callback
 * runs only after EXEC's reply, i.e. after the data is durable.
 *
 * Key schema (v1), Z = zone origin text with final dot, lower case:
 *   dnsfs:v1:zones                 SET of Z
 *   dnsfs:v1:z:Z:rr                HASH "<owner text> <TYPE>" -> rrset blob
 *                                  (u32 ttl, u16 count, count x (u16 len, rdata))
 *   dnsfs:v1:z:Z:serial            STRING, the SOA serial of the last commit
 *   dnsfs:v1:z:Z:journal           LIST of diff blobs for IXFR (bounded)
 *   dnsfs:v1:z:Z:refs              HASH block-hash hex -> reference count
 *   dnsfs:v1:z:Z:orphans           STREAM entries {hash, ts} when a count hits 0
 */
#ifndef DNSFS_STORE_H
#define DNSFS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zone.h"

struct event_base;
struct store;

struct store_options {
	const char *target;             /* "unix:/path.sock", "host:port", or "memory" */
	struct event_base *base;        /* loop the async commits run on */
	unsigned journal_max;           /* diffs kept per zone for IXFR (default 10000) */
};

/* A block reference count that changed in a commit. */
struct store_ref {
	char hash[65];                  /* hex SHA-256 */
	int64_t count;                  /* new count; 0 -> removed and queued as orphan */
};

/* One unit of work for a commit: everything one UPDATE changed. */
struct store_batch {
	const struct zone *z;
	uint32_t serial_from, serial_to;
	const struct zone_change *changes;  /* as left by zone_txn_commit */
	size_t nchanges;
	const struct store_ref *refs;       /* counts that changed */
	size_t nrefs;
};

typedef void (*store_done_fn)(void *arg, int rc, const char *msg);

struct store *store_new(const struct store_options *o, struct err *e);
void store_free(struct store *s);
int store_is_memory(const struct store *s);

/* Synchronous, at start-up: load every zone the store has into zs. */
int store_load(struct store *s, struct zoneset *zs, struct err *e);
/* Synchronous: write a whole new zone (from a zone file or template). */
int store_create_zone(struct store *s, const struct zone *z, struct err *e);
/* Load the reference counts of a zone (for verification at start). */
int store_load_refs(struct store *s, const struct zone *z,
		    int (*fn)(const char *hash, int64_t count, void *arg), void *arg,
		    struct err *e);
/* Journal entries with serial_from >= from, oldest first, for IXFR. Each
 * callback gets one diff blob (see journal.h for its layout). */
int store_load_journal(struct store *s, const struct zone *z,
		       int (*fn)(const uint8_t *blob, size_t len, void *arg), void *arg,
		       struct err *e);

/* Asynchronous: queue b (copied; the caller may release its txn after this
 * returns) and call done(arg, 0, NULL) once durable, or done(arg, -errno, msg)
 * if Redis failed. Callbacks fire in commit order. */
int store_commit(struct store *s, const struct store_batch *b, store_done_fn done,
		 void *arg);
/* Commits queued or in flight. */
size_t store_pending(const struct store *s);

#endif
