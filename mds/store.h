/* store: the mds's durable state in Redis, and the only module that speaks
 * hiredis. Keys are versioned ("dnsfs:v1:...") as Knot's Redis backend does.
 * Commits are asynchronous on the mds event loop and grouped: while one
 * MULTI/EXEC is in flight, later commits queue and go together in the next
 * one, so many concurrent updates share one Redis round-trip and one fsync
 * (Redis runs with appendonly yes, appendfsync always). A commit's callback
 * runs only after EXEC's reply, i.e. after the data is durable.
 *
 * Key schema (v1), Z = zone origin text with final dot, lower case:
 *   dnsfs:meta                     HASH schema -> "1" (outside the versioned
 *                                  prefix, so an older mds finds it and
 *                                  refuses a store a newer one wrote)
 *   dnsfs:v1:zones                 SET of Z
 *   dnsfs:v1:z:Z:rr                HASH "<owner text> <TYPE>" -> rrset blob
 *                                  (big-endian u32 ttl, u16 count,
 *                                  count x (u16 len, rdata))
 *   dnsfs:v1:z:Z:serial            STRING, the SOA serial of the last commit
 *   dnsfs:v1:z:Z:journal           LIST of diff blobs for IXFR (bounded)
 *   dnsfs:v1:z:Z:refs              HASH block-hash hex -> reference count
 *   dnsfs:v1:z:Z:orphans           STREAM entries {hash, ts} when a count hits 0
 *                                  (ts: Unix time in seconds of the commit).
 *                                  Candidates only: a later commit may
 *                                  reference the hash again, so GC re-checks
 *                                  the count before deleting a block, and
 *                                  trims entries it has dealt with (XDEL).
 *
 * Failure is fail-stop: if Redis answers a commit with an error, the
 * connection drops with commits pending, or no reply comes within the
 * timeout, every pending commit fails and the store refuses later ones (the
 * in-memory zone may now be ahead of Redis; the mds must stop acknowledging
 * updates and reload). An idle connection that drops is re-opened, with a
 * bounded number of attempts.
 *
 * "memory" keeps the same keys in a small in-process imitation of the Redis
 * commands used here, for unit tests: commits complete on the next loop
 * iteration (a zero-timeout timer the store owns, rather than
 * event_base_once, so store_free can cancel it), so callers see the same
 * asynchronous behaviour.
 */
#ifndef DNSFS_STORE_H
#define DNSFS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zone.h"

struct event_base;
struct refs;
struct store;

#define STORE_SCHEMA 1                  /* the schema this code reads and writes */

struct store_options {
	const char *target;             /* "unix:/path.sock", "host:port", or "memory" */
	struct event_base *base;        /* loop the async commits run on */
	unsigned journal_max;           /* diffs kept per zone for IXFR (default 10000) */
	unsigned timeout_ms;            /* a commit's reply must come within (default 10000) */
	unsigned max_reconnect;         /* attempts to re-open a dropped idle link (default 5) */
	int sync_only;                  /* no event loop (base may be NULL) and no
					 * commits: loads and store_ack_orphans only,
					 * for a tool (dnsfsctl gc) beside the mds */
	int allow_volatile;             /* accept a Redis with appendonly no (tests only):
					 * otherwise store_new refuses it, as commits would
					 * be acknowledged before they are durable */
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
	const uint8_t *journal;             /* this batch's diff (journal_encode), or
					     * NULL: the store encodes it */
	size_t journal_len;
};

typedef void (*store_done_fn)(void *arg, int rc, const char *msg);

/* Connect (a Redis target: the blocking link now, checking the schema; the
 * commit link completes on the loop). A Redis store sets SIGPIPE to ignored
 * if it is at its default: hiredis writes with write(2), and a dropped link
 * must fail commits rather than kill the process. */
struct store *store_new(const struct store_options *o, struct err *e);
/* Commits still pending get done(arg, -ECANCELED, msg) first: not known to be
 * durable. Safe from inside a done callback (the free happens when the
 * outermost callback returns); a second call is a no-op. */
void store_free(struct store *s);
int store_is_memory(const struct store *s);

/* Synchronous, at start-up: load every zone the store has into zs (checking
 * each zone's serial key against its SOA). On error zs may hold the zones
 * loaded before it; the caller releases zs. */
int store_load(struct store *s, struct zoneset *zs, struct err *e);
/* Synchronous: write a whole new zone (from a zone file or template) with its
 * block reference counts (refs may be NULL: none). Records and counts are
 * written under temporary keys and published by one MULTI (RENAME), so a
 * crash leaves either no zone or the whole one. -EEXIST if Z is there. */
int store_create_zone(struct store *s, const struct zone *z, const struct refs *refs,
		      struct err *e);
/* Load the reference counts of a zone (for verification at start). */
int store_load_refs(struct store *s, const struct zone *z,
		    int (*fn)(const char *hash, int64_t count, void *arg), void *arg,
		    struct err *e);
/* Every journal entry the store keeps (at most journal_max), oldest first,
 * to refill the in-memory ring at start-up. Each callback gets one diff blob
 * (see journal.h for its layout). */
int store_load_journal(struct store *s, const struct zone *z,
		       int (*fn)(const uint8_t *blob, size_t len, void *arg), void *arg,
		       struct err *e);
/* The orphan stream of z, oldest first: entry id ("ms-seq"), block hash hex,
 * and the commit's Unix time. Read-only (the GC consumes it later). */
int store_load_orphans(struct store *s, const struct zone *z,
		       int (*fn)(const char *id, const char *hash, int64_t ts, void *arg),
		       void *arg, struct err *e);
/* Synchronous: remove the entries ids[0..n) from the orphan stream of z once
 * the GC has dealt with them (ids not there are ignored). Only the GC trims
 * the stream; a hash that becomes an orphan again gets a new entry. */
int store_ack_orphans(struct store *s, const struct zone *z, const char *const *ids,
		      size_t n, struct err *e);
/* A non-zero return of any load callback stops the load and is returned. */

/* Asynchronous: queue b (copied; the caller may release its txn after this
 * returns) and call done(arg, 0, NULL) once durable, or done(arg, -errno, msg)
 * if Redis failed. Callbacks fire in commit order, always from the event
 * loop, never from inside store_commit. Returns 0 when queued; -EIO (and no
 * callback) once the store has failed, -ENOMEM if b could not be copied.
 * A callback may call store_commit and store_free. */
int store_commit(struct store *s, const struct store_batch *b, store_done_fn done,
		 void *arg);
/* Commits queued or in flight. */
size_t store_pending(const struct store *s);
/* NULL while healthy; after a failure, why (the store stays failed). */
const char *store_error(const struct store *s);

struct store_stats {
	uint64_t commits;               /* store_commit calls accepted */
	uint64_t groups;                /* commit groups: MULTI/EXEC round-trips on Redis */
	uint64_t committed;             /* commits reported durable */
	uint64_t failed;                /* commits reported failed */
	uint64_t reconnects;            /* idle links re-opened */
	uint64_t max_group;             /* most commits in one group */
};
void store_get_stats(const struct store *s, struct store_stats *st);

/* Timings for metrics. commit runs for each commit just before its callback,
 * with the seconds since its store_commit (waiting for a group included) and
 * its rc; exec runs when a group has been confirmed durable, with the seconds
 * from sending its MULTI to EXEC's reply (the memory store: until its timer
 * ran) and the commits in it. Either may be NULL; neither may call
 * into the store. */
struct store_observer {
	void (*commit)(void *arg, int rc, double seconds);
	void (*exec)(void *arg, size_t ncommits, double seconds);
	void *arg;
};
/* Install o (copied), or remove the observer with NULL. */
void store_set_observer(struct store *s, const struct store_observer *o);

#endif
