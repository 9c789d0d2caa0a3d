/* blockstore: the content-addressed block files of one blockd on a local file
 * system, written the way git writes loose objects (temp file in the same
 * directory, verified, fsync, rename, fsync the directory). No HTTP here. */
#ifndef DNSFS_BLOCKSTORE_H
#define DNSFS_BLOCKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"

/*
 * Layout of the data directory DIR:
 *
 *   DIR/.lock                 flock()ed while a blockstore has DIR open
 *   DIR/id                    32 hex: this store's identity, made at first open
 *   DIR/00/ .. DIR/ff/        256-way fan-out by the first byte of the hash
 *   DIR/ab/ab12...ef          one block: its SHA-256 in lower-case hex (64
 *                             chars), mode 0444; mtime = last PUT (GC age)
 *   DIR/ab/.tmp-<hash>-...    a PUT in progress; removed at open
 *   DIR/quarantine/<hash>.<s>.<ns>
 *                             blocks whose content no longer matched their
 *                             name, kept for inspection, never served
 *
 * A block exists once its final name does: a crash at any point leaves either
 * the whole block or none (plus a temp file that the next open removes).
 *
 * Errors: 0 (or a count) or a negative errno with the reason in e. A full
 * disk is -ENOSPC or -EDQUOT (and so is reaching the configured capacity);
 * nothing of the block is left behind then.
 */

#define BLOCKSTORE_TMP_PREFIX ".tmp-"
#define BLOCKSTORE_QUARANTINE "quarantine"
#define BLOCKSTORE_LIST_MAX 10000       /* entries one listing call may ask for */

struct blockstore;

struct blockstore_options {
	const char *dir;                /* data directory; made if missing (not its parents) */
	uint64_t capacity;              /* bytes the blocks may take; 0: the file system's size */
	/* Called with the duration of every fsync (file and directory), for
	 * latency metrics; NULL: none. */
	void (*on_fsync)(double seconds, void *arg);
	void *arg;                      /* for on_fsync */
};

/* One block as stored. */
struct blockstore_info {
	struct hash hash;
	uint64_t size;                  /* bytes */
	int64_t mtime;                  /* seconds since the epoch: stored or last re-PUT */
};

/* Space and counts, for /v1/status and the gauges. */
struct blockstore_usage {
	uint64_t blocks;                /* block files */
	uint64_t bytes;                 /* their sizes summed */
	uint64_t capacity;              /* configured, else fs_size */
	uint64_t free;                  /* room left: min(capacity - bytes, fs_avail) */
	uint64_t fs_size;               /* the file system's size */
	uint64_t fs_avail;              /* bytes of it available to us */
	uint64_t quarantined;           /* files in quarantine/ */
};

/* Open (creating the layout if needed) and lock DIR, remove leftover temp
 * files and count the blocks (one pass over every fan-out directory).
 * -EBUSY if another blockstore holds DIR. NULL on failure with e set. */
struct blockstore *blockstore_open(const struct blockstore_options *o, struct err *e);
/* Close and unlock. NULL is ok. */
void blockstore_free(struct blockstore *bs);

/* The identity of the store (32 hex, NUL-terminated; lives as long as bs). */
const char *blockstore_id(const struct blockstore *bs);
/* Temp files removed by blockstore_open. */
uint64_t blockstore_temp_removed(const struct blockstore *bs);

/* ---------------------------------------------------------------- blocks */

/* Flag of blockstore_put: the caller has checked that data hashes to h (the
 * HTTP layer hashes the body once for the signature and the name). */
#define BLOCKSTORE_PUT_HASHED 1u

/* Store len bytes as block h. Returns 1 if it was written now, 0 if it was
 * there already (then only its mtime is set to now, so GC sees the reuse; a
 * stored file of another size is quarantined and replaced). -EBADMSG if the
 * data does not hash to h (nothing written), -ENOSPC/-EDQUOT when full,
 * other -errno for I/O errors; on any error no file of the block is left. */
int blockstore_put(struct blockstore *bs, const struct hash *h, const void *data,
		   size_t len, unsigned flags, struct err *e);

/* Flag of blockstore_get: hash what was read; on a mismatch move the file
 * to quarantine and return -EBADMSG, so bad data is never handed out. */
#define BLOCKSTORE_VERIFY 1u

/* Read block h whole into *data (malloc'd, the caller frees; NULL for an
 * empty block) and *len. -ENOENT if absent. */
int blockstore_get(struct blockstore *bs, const struct hash *h, unsigned flags,
		   void **data, size_t *len, struct err *e);

/* Open block h for reading, unverified (for serving it with sendfile): the
 * descriptor (O_RDONLY, close-on-exec; the caller closes it) is returned,
 * its size in *len. Block files are never rewritten in place (a PUT renames
 * a new file over, quarantine and delete rename or unlink), so what the
 * descriptor reads stays whole. -ENOENT if absent. */
int blockstore_open_read(struct blockstore *bs, const struct hash *h, uint64_t *len,
			 struct err *e);

/* Size and mtime of block h; -ENOENT if absent. */
int blockstore_stat(struct blockstore *bs, const struct hash *h,
		    struct blockstore_info *info, struct err *e);

/* Remove block h durably (the directory is fsynced). -ENOENT if absent. */
int blockstore_delete(struct blockstore *bs, const struct hash *h, struct err *e);

/* Up to limit (1..BLOCKSTORE_LIST_MAX) blocks with hashes greater than
 * *after (NULL: from the first), in ascending hash order, into out[].
 * Returns how many; fewer than limit means the end was reached. Memory is
 * bounded by one fan-out directory (1/256 of the store), not the store. */
int blockstore_list(struct blockstore *bs, const struct hash *after, size_t limit,
		    struct blockstore_info *out, struct err *e);

/* Rehash block h. 0 if it matches; -EBADMSG if not (it is moved to
 * quarantine); -ENOENT if absent. *nread (may be NULL) gets the bytes read. */
int blockstore_verify(struct blockstore *bs, const struct hash *h, uint64_t *nread,
		      struct err *e);

/* Move block h to quarantine/ (both directories fsynced). -ENOENT if absent. */
int blockstore_quarantine(struct blockstore *bs, const struct hash *h, struct err *e);

/* Counts and space (statvfs of DIR). */
int blockstore_usage(struct blockstore *bs, struct blockstore_usage *u, struct err *e);

/* ----------------------------------------------------------------- scrub */

/* One pass over every block in hash order, done in steps so that a caller
 * with an event loop can spread it out (blockd rate-limits it). */
struct blockstore_scrub {
	struct hash cursor;             /* last block checked */
	int started;                    /* cursor is valid */
	int done;                       /* the pass has reached the end */
	uint64_t blocks;                /* checked in this pass */
	uint64_t bytes;                 /* read in this pass */
	uint64_t corrupt;               /* quarantined in this pass */
	uint64_t errors;                /* blocks that could not be read (skipped) */
};

/* Start a pass from the first block. */
void blockstore_scrub_begin(struct blockstore_scrub *s);
/* Check blocks after the cursor until at least budget bytes were read (at
 * least one block is checked) or the pass is done. Returns the bytes read
 * (>= 0), or -errno if the listing itself failed. */
int64_t blockstore_scrub_step(struct blockstore *bs, struct blockstore_scrub *s,
			      uint64_t budget, struct err *e);

#endif
