/* ec: Reed-Solomon erasure coding of block stripes with ISA-L: k data chunks
 * and m parity chunks of one length, any k of which give back the rest.
 * The chunk length rule and the matrix are part of the stored format
 * (docs/SCHEMA.md, "Stripes"): changing either makes old parity useless. */
#ifndef DNSFS_EC_H
#define DNSFS_EC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define EC_K_MAX 32             /* = RECORD_EC_K_MAX */
#define EC_M_MAX 16             /* = RECORD_EC_M_MAX */
#define EC_N_MAX (EC_K_MAX + EC_M_MAX)
#define EC_ALIGN 64             /* chunk lengths are multiples of this */
#define EC_CHUNK_MAX (1u << 30) /* longest chunk ISA-L's int length takes here */
#define EC_CACHE_MAX 64         /* decode tables kept per codec */

/* The chunk length of a stripe holding len > 0 bytes in k data chunks:
 * ceil(len / k) rounded up to a multiple of EC_ALIGN. Data chunk i holds
 * stripe bytes [i * chunk, (i + 1) * chunk), zero-filled past len; so the
 * last data chunks may be partly or wholly zeros. 0 for len 0 or k 0. */
size_t ec_chunk_len(uint64_t len, unsigned k);

/* A codec for one k+m: the encode matrix and its tables, and a cache of
 * decode tables per erasure pattern. Immutable after ec_new apart from the
 * cache, which has its own lock: one codec may serve many threads. */
struct ec;

/* 1 <= k <= EC_K_MAX, 0 <= m <= EC_M_MAX; -EINVAL otherwise, -ENOMEM. */
int ec_new(struct ec **out, unsigned k, unsigned m, struct err *e);
void ec_free(struct ec *c);     /* c may be NULL */
unsigned ec_k(const struct ec *c);
unsigned ec_m(const struct ec *c);

/* Compute the m parity chunks from the k data chunks, each len bytes
 * (0 < len <= EC_CHUNK_MAX; a multiple of EC_ALIGN is fastest). data[0..k)
 * and parity[0..m) are the caller's buffers. 0 or -EINVAL. */
int ec_encode(const struct ec *c, size_t len, uint8_t *const *data, uint8_t **parity,
	      struct err *e);

/* Rebuild chunks from the others. chunk[0..k+m) are len-byte buffers, data
 * first, then parity; bit i of missing says chunk i is lost. Every lost chunk
 * whose pointer is not NULL is rebuilt (pass NULL for one you do not need);
 * the others are read only. At most m may be missing (-EIO otherwise: fewer
 * than k survive). The first k surviving chunks are the sources, so data
 * chunks are preferred. 0, -EINVAL, -EIO or -ENOMEM. */
int ec_reconstruct(struct ec *c, size_t len, uint8_t **chunk, uint64_t missing,
		   struct err *e);

/* 0 if the parity chunks are what ec_encode gives for the data chunks,
 * -EBADMSG (naming the first bad parity chunk) if not. For scrub. */
int ec_verify(const struct ec *c, size_t len, uint8_t *const *chunk, struct err *e);

/* Raw ISA-L throughput of one k+m codec on chunk-byte chunks, each
 * measured for about seconds: encode (data bytes in per second) and decode
 * of the worst case, m lost data chunks (data bytes out per second). For
 * bench/ drivers and `dnsfsctl`; the decode tables are built once, as the
 * cache does. */
struct ec_bench {
	double encode_mbps;     /* MB/s (10^6 bytes) of data encoded */
	double decode_mbps;     /* MB/s of data made available when m are lost */
	uint64_t encode_runs;   /* ec_encode calls timed */
	uint64_t decode_runs;
};
int ec_bench_run(unsigned k, unsigned m, size_t chunk, double seconds,
		 struct ec_bench *out, struct err *e);

#endif
