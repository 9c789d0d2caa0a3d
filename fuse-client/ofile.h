/* ofile: the content of one open file as fixed chunks over the refs of its
 * committed version. Chunks load lazily from blockd, writes dirty them in
 * memory, a store cuts dirty chunks into new blocks, and a rebase re-applies
 * this client's changes onto a newer version after a lost compare-and-swap.
 * No locking and no metadata I/O here: the caller (fs.c) serializes calls
 * per file and does the UPDATEs. */
#ifndef DNSFS_OFILE_H
#define DNSFS_OFILE_H

#include <stddef.h>
#include <stdint.h>

#include "blockclient.h"
#include "err.h"
#include "record.h"

#define OFILE_CHUNK (4u << 20)  /* one 4+2 stripe of 1 MiB blocks */
#define OFILE_LOADED_MAX 16     /* chunk buffers kept per file (64 MiB) */
#define OFILE_PARALLEL 8        /* chunks stored or fetched at once */
#define OFILE_READAHEAD 4       /* chunks a sequential reader fetches at once */
#define OFILE_REFRESH_SEC 240   /* uncommitted blocks older than this are put
				 * again before the commit: well within the
				 * GC's default grace of 600 s */

/* How new content is stored: full chunks as stripes (k > 0) when enough
 * nodes are writable, partial chunks and fallbacks as replicas. */
struct ofile_store_policy {
	unsigned rep;           /* copies of a replicated block */
	unsigned k, m;          /* stripe of a full chunk; k == 0: replicas only */
};

struct ofile;

/* A file whose committed version has size bytes, inline content (datalen
 * bytes, datalen == size) or refs (copied). */
int ofile_new(struct ofile **out, struct blockclient *bc, const struct ofile_store_policy *p,
	      uint64_t size, const uint8_t *data, size_t datalen,
	      const struct record_refs *refs, struct err *e);
void ofile_free(struct ofile *of);     /* of may be NULL */

uint64_t ofile_size(const struct ofile *of);
/* The refs of the committed version (all pages, in order). */
const struct record_refs *ofile_base(const struct ofile *of);
/* Chunks stored or dirty since the last commit. */
size_t ofile_pending(const struct ofile *of);
/* Seconds (monotonic) since the oldest chunk stored but not committed was
 * stored; 0 if there is none. */
int64_t ofile_pending_age(const struct ofile *of);
/* Changed since the last commit (content or size). */
int ofile_dirty(const struct ofile *of);

/* Read up to size bytes at off into buf; *got gets the count (0 at EOF). */
int ofile_read(struct ofile *of, uint64_t off, size_t size, uint8_t *buf, size_t *got,
	       struct err *e);
/* Write size bytes at off (the file grows as needed). append: the write
 * came through O_APPEND (a rebase moves such bytes to the new end). */
int ofile_write(struct ofile *of, uint64_t off, const void *buf, size_t size, int append,
		struct err *e);
/* Truncate or extend (with zeros) to size. */
int ofile_truncate(struct ofile *of, uint64_t size, struct err *e);

/* The content to commit: store every dirty chunk as blocks and return the
 * whole new content as inline bytes (*data, *datalen, when the file is at
 * most inline_max <= RECORD_INLINE_MAX bytes; data points into of) or as
 * refs appended to out. Nothing is committed yet: call ofile_committed
 * after the UPDATE. */
int ofile_store(struct ofile *of, size_t inline_max, struct record_refs *out,
		const uint8_t **data, size_t *datalen, struct err *e);
/* The content just stored is now the committed version. */
int ofile_committed(struct ofile *of, const struct record_refs *refs, struct err *e);
/* Another client committed a newer version (size, data or refs): base this
 * file on it and re-apply the changes made here since the last commit —
 * written ranges overwrite theirs, O_APPEND writes move to the new end, a
 * truncation here cuts their content too. */
int ofile_rebase(struct ofile *of, uint64_t size, const uint8_t *data, size_t datalen,
		 const struct record_refs *refs, struct err *e);

#endif
