/* refs: how many committed records reference each block hash of one zone.
 * The counts are derived data: every inode record (<ino>.i.Z TXT) and block
 * map page (<page>.<ino>.m.Z TXT) adds one per block ref it holds. The mds
 * updates them from each committed change list, the store persists the
 * changed counts in the same MULTI as the records, and a count reaching 0
 * queues the block for garbage collection (the orphan stream). */
#ifndef DNSFS_REFS_H
#define DNSFS_REFS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"
#include "store.h"
#include "wire.h"
#include "zone.h"

/* The counts of one zone: an open-addressing table of 32-byte keys holding
 * only counts > 0 (40 bytes a hash). Single-threaded like the zone. */
struct refs;

struct refs *refs_new(void);                    /* NULL on out of memory */
void refs_free(struct refs *r);
size_t refs_size(const struct refs *r);         /* hashes with a count > 0 */
int64_t refs_get(const struct refs *r, const struct hash *h);   /* 0 if absent */
/* Visit every (hash, count), in no particular order. A non-zero return from
 * fn stops the walk and is returned. The table must not change meanwhile. */
int refs_foreach(const struct refs *r,
		 int (*fn)(const struct hash *h, int64_t count, void *arg), void *arg);

/* Which names hold block refs. */
enum refs_kind {
	REFS_NONE = 0,
	REFS_INODE,                     /* <ino>.i.Z */
	REFS_MAP,                       /* <page>.<ino>.m.Z */
};
enum refs_kind refs_name_kind(const struct wire_name *apex, const struct wire_name *name);

/* Call fn for every block hash one TXT RR of a ref-holding name (kind)
 * references, once per occurrence; rdata is the RR's wire rdata
 * (character-strings), read as their concatenation. A record lib/record
 * parses is walked by its codec; any other text (a newer v=, a malformed
 * record) is scanned for the ref tokens
 *   b=<off>:<len>:<64hex>        a block
 *   s=<off>:<len>:<k>+<m>:<h1>,<h2>,...   a stripe's k data + m parity blocks
 * so a record the codec refuses still pins its blocks (too many refs only
 * delay GC; too few would let it delete data).
 * Returns the number of hashes, or fn's non-zero return value. */
int refs_hashes_in_txt(enum refs_kind kind, const uint8_t *rdata, uint16_t rdlen,
		       int (*fn)(const struct hash *h, void *arg), void *arg);

/* Apply a committed change list of z: -1 per hash occurrence in the old
 * rrsets, +1 per occurrence in the new ones (TXT at ref-holding names only).
 * *out (malloc'd, caller frees; NULL when *nout == 0) lists every hash whose
 * count changed, with its new count (0: no longer referenced). All or
 * nothing: on error r is unchanged. -ENOMEM, or -EUCLEAN if a count would go
 * below zero (the table disagrees with the records: a bug; stop and rebuild). */
int refs_apply(struct refs *r, const struct zone *z, const struct zone_change *c, size_t n,
	       struct store_ref **out, size_t *nout, struct err *e);

/* Count every ref of z from scratch (at start-up). *out is new, caller frees. */
int refs_rebuild(struct refs **out, const struct zone *z, struct err *e);

/* Compare r with the counts the store holds for z. report (may be NULL) gets
 * each difference: want = r's count, have = the stored one (0 = absent).
 * Returns the number of differences (0: in step), or -errno. */
int refs_verify(const struct refs *r, struct store *s, const struct zone *z,
		void (*report)(const char *hex, int64_t want, int64_t have, void *arg),
		void *arg, struct err *e);

#endif
