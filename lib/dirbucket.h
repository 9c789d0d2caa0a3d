/* dirbucket: the arithmetic of a directory's listing buckets (docs/SCHEMA.md,
 * "Listing buckets"): which bucket holds a name, when a directory splits or
 * merges one bucket, and the readdir cookies. Pure functions, no I/O: the
 * mount (fs.c) and dnsfsctl do the reads and the UPDATEs.
 *
 * The scheme is linear hashing (Litwin) on the bit-reversed name key, so
 * every bucket covers one contiguous range of keys: readdir walks the key
 * space in order and its cookie is a position in that space, which a split
 * or merge between two readdir calls does not move. */
#ifndef DNSFS_DIRBUCKET_H
#define DNSFS_DIRBUCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Average listing bytes (TXT rdata) per bucket a directory may reach before
 * it splits one more bucket. An unsplit bucket covers twice the key space of
 * a split one, so buckets hold about 2x this (8 KiB: one TCP answer, far
 * below its 64 KiB even for 255-byte names). */
#define DIRBUCKET_TARGET 4096
/* A directory merges its last bucket back when it falls below a quarter of
 * the target (hysteresis: a merge never triggers the next split). */
#define DIRBUCKET_MERGE_DIV 4
#define DIRBUCKET_MAX (1u << 30) /* buckets a directory may have */

/* What a directory of `bytes` listing bytes in n buckets should do next. */
enum { DIRBUCKET_KEEP = 0, DIRBUCKET_SPLIT = 1, DIRBUCKET_MERGE = -1 };

/* The key of a name: the first 64 bits of h(name) (lib/hash hash_name). */
uint64_t dirbucket_key(const char *name, size_t len);
/* The same from the 32 hex digits of h(name) (at least 16 are read). */
uint64_t dirbucket_key_hex(const char *hex);

/* The bucket (0..n-1) that holds key in a directory of n >= 1 buckets. */
uint32_t dirbucket_of(uint64_t key, uint32_t n);
/* The keys bucket b (< n) holds: [*lo, *hi], both inclusive. */
void dirbucket_range(uint32_t b, uint32_t n, uint64_t *lo, uint64_t *hi);

/* KEEP, SPLIT (bytes > n * TARGET) or MERGE (n > 1, bytes < n * TARGET / 4). */
int dirbucket_plan(uint64_t bytes, uint32_t n);
/* Splitting n -> n+1 buckets: the bucket whose keys are shared with the new
 * bucket n. Merging n -> n-1 (n >= 2): the bucket that takes bucket n-1. */
uint32_t dirbucket_split_from(uint32_t n);
uint32_t dirbucket_merge_into(uint32_t n);

/* readdir offsets: 0 the start, 1 after ".", 2 after "..", and an entry of
 * key k has cookie 3 + (k >> 4) (60 bits, so every cookie is a positive
 * off_t). Entries whose keys agree in their top 60 bits share a cookie: at
 * 2^-60 per pair, as unlikely as the 128-bit dentry names colliding in
 * practice. */
off_t dirbucket_cookie(uint64_t key);
/* The smallest key still to return after offset off (>= 2): 0 with *key set,
 * or 1 when off is past the last possible key (the listing is done). */
int dirbucket_resume(off_t off, uint64_t *key);

#endif
