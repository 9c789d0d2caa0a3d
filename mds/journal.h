/* journal: the record of what each committed UPDATE changed, as IXFR needs it
 * (RFC 1995): a diff blob per commit, its encoder/decoder, and a bounded
 * in-memory ring of recent diffs per zone that answers "everything since
 * serial N" or says the caller must fall back to AXFR.
 *
 * Diff blob layout (all integers big-endian):
 *   u8  magic 'J', u8 version 1
 *   u32 serial_from, u32 serial_to
 *   u32 ndel, u32 nadd
 *   ndel + nadd RRs, deleted first, each:
 *       owner (uncompressed wire name), u16 type, u32 ttl, u16 rdlen, rdata
 * The SOA, if present, comes first among the deleted and among the added
 * RRs, so an IXFR writer can copy each section in order. */
#ifndef DNSFS_JOURNAL_H
#define DNSFS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"
#include "zone.h"

#define JOURNAL_MAGIC 'J'
#define JOURNAL_VERSION 1
#define JOURNAL_HDR_LEN 18      /* magic, version, 2 serials, 2 counts */

/* ---- diff blobs --------------------------------------------------------- */

/* Encode the diff of a committed change list: an RR of an old set that the
 * new set lacks (or holds with another TTL) is deleted, one of a new set that
 * the old lacks (or held with another TTL) is added. *blob is malloc'd and
 * owned by the caller. 0 or -ENOMEM / -EOVERFLOW. */
int journal_encode(uint32_t serial_from, uint32_t serial_to,
		   const struct zone_change *c, size_t n,
		   uint8_t **blob, size_t *len, struct err *e);

/* A decoded view of a blob; it points into the blob, which must outlive it. */
struct journal_diff {
	uint32_t serial_from;
	uint32_t serial_to;
	uint32_t ndel;                  /* deleted RRs, first in the blob */
	uint32_t nadd;                  /* added RRs, after them */
	const uint8_t *blob;            /* the blob (not owned) */
	size_t len;
};

/* One RR of a diff; rdata points into the blob. */
struct journal_rr {
	struct wire_name owner;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
};

/* Check the whole blob (header, every RR, no trailing bytes) and fill d.
 * -EBADMSG with a reason if anything is malformed. */
int journal_decode(struct journal_diff *d, const uint8_t *blob, size_t len, struct err *e);
/* Where an iteration stands; zero it to start at the first RR. */
struct journal_cursor {
	size_t off;                     /* byte offset of the next RR (0: start) */
	uint32_t idx;                   /* RRs returned so far */
};
/* Iterate a decoded diff: returns 1 with rr set (and *deleted = 1 for the
 * first ndel RRs), 0 at the end. Only for blobs journal_decode accepted. */
int journal_diff_next(const struct journal_diff *d, struct journal_cursor *cur,
		      struct journal_rr *rr, int *deleted);

/* ---- the ring ----------------------------------------------------------- */

/* Recent diffs of one zone, oldest first, forming one chain: each entry's
 * serial_from is the previous entry's serial_to. */
struct journal;

/* max_entries: diffs kept (0 -> 10000); max_bytes: blob bytes kept (0 -> no
 * byte bound). NULL on out of memory. */
struct journal *journal_new(size_t max_entries, size_t max_bytes);
void journal_free(struct journal *j);

/* Append a copy of a blob (it is decoded first). The oldest entries go when a
 * bound is reached. A blob whose serial_from is not the last serial_to breaks
 * the chain: the ring restarts with this entry. 0, -EBADMSG or -ENOMEM. */
int journal_add(struct journal *j, const uint8_t *blob, size_t len, struct err *e);

/* The chain from `serial` to the newest serial: fn is called for each diff,
 * oldest first (its return value, if non-zero, stops the walk and is
 * returned). 0 if serial is the newest (nothing to send); -ENOENT if serial
 * is not covered (too old, unknown or empty ring): fall back to AXFR. */
int journal_since(const struct journal *j, uint32_t serial,
		  int (*fn)(const uint8_t *blob, size_t len, void *arg), void *arg);

size_t journal_count(const struct journal *j);          /* diffs held */
size_t journal_bytes(const struct journal *j);          /* blob bytes held */
/* Oldest serial_from / newest serial_to; -ENOENT if empty. */
int journal_first_serial(const struct journal *j, uint32_t *serial);
int journal_last_serial(const struct journal *j, uint32_t *serial);

#endif
