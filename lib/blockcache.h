/* blockcache: a client's local on-disk cache of block content, keyed by
 * the refs that name it (a replicated block, or a whole stripe's data),
 * bounded in bytes with least-recently-used eviction, and verified against
 * the ref's hashes on every hit, so a damaged cache file is a miss, never
 * wrong data. Thread-safe. One cache directory per process. */
#ifndef DNSFS_BLOCKCACHE_H
#define DNSFS_BLOCKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"

struct blockcache;

/* Open (creating) dir, bounded to max_bytes (> 0); entries already in dir
 * are kept, oldest first to go. 0 or a negative errno. */
int blockcache_new(struct blockcache **out, const char *dir, uint64_t max_bytes,
		   struct err *e);
void blockcache_free(struct blockcache *c);    /* c may be NULL */

/* The ref->len bytes of ref into buf if cached and intact: 0, else -ENOENT
 * (a corrupt entry is removed and counts as a miss). */
int blockcache_get(struct blockcache *c, const struct record_ref *ref, void *buf);
/* Remember the ref->len bytes at buf as ref's content (best effort: a
 * full disk or any error just leaves it out). */
void blockcache_put(struct blockcache *c, const struct record_ref *ref, const void *buf);

struct blockcache_stats {
	uint64_t hits, misses, corrupt, evictions;
	uint64_t bytes, entries;        /* held now */
};
void blockcache_stats(struct blockcache *c, struct blockcache_stats *out);

#endif
