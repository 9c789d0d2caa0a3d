/* fsmeta: the file system's metadata as a client reads it — an inode with
 * the exact rdata an UPDATE's prerequisite needs, dentry lookups, paths
 * resolved from the root inode, a file's block map (inode refs and pages) and
 * a directory's listing (all its buckets), through lib/mdc. Used by dnsfsctl;
 * the mount has its own cached variants of the same reads. */
#ifndef DNSFS_FSMETA_H
#define DNSFS_FSMETA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "mdc.h"
#include "record.h"

/* The TXT rdata of the longest record (a symlink or xattr inode, a page). */
#define FSMETA_RDATA_MAX (RECORD_TEXT_LONG_MAX + RECORD_STRS_FOR(RECORD_TEXT_LONG_MAX) + 16)
#define FSMETA_ROOT 1           /* the root directory's inode number */
#define FSMETA_RANGE_BITS 12    /* inode numbers per claimed range: 4096 */
#define FSMETA_RANGE_MAX (1u << 24) /* ranges are picked in [1, 2^24) */

/* One inode as read, with its exact rdata for prerequisites. */
struct fsmeta_inode {
	uint64_t ino;
	struct record_inode r;
	uint16_t rdlen;
	uint8_t rdata[FSMETA_RDATA_MAX];
};

/* Claim a random range of inode numbers: ONE UPDATE that adds
 * <range>.r.Z TXT "v=1 owner=<host>/<pid> time=<sec>[ <note>]" with the
 * prerequisite that the name is not in use, so two clients never share a
 * range (a taken one is tried again elsewhere, 16 times at most). *first
 * gets its first number, range..range + 2^FSMETA_RANGE_BITS - 1 are ours.
 * note may be NULL. */
int fsmeta_range_claim(struct mdc *m, const char *note, uint32_t ttl, uint64_t *first,
		       struct err *e);

/* Heap-allocated (about 17 KiB); NULL on out of memory. free: in may be NULL. */
struct fsmeta_inode *fsmeta_inode_new(void);
void fsmeta_inode_free(struct fsmeta_inode *in);

/* Fill in from a TXT rdata (parsed and kept). 0 or the parse error. */
int fsmeta_inode_from_rdata(struct fsmeta_inode *in, uint64_t ino, const uint8_t *rdata,
			    size_t rdlen, struct err *e);
/* Fresh read of <ino>.i.Z; -ENOENT if there is none. */
int fsmeta_inode_get(struct mdc *m, uint64_t ino, struct fsmeta_inode *out, struct err *e);
/* name in directory parent: its CNAME (copied to cname, WIRE_NAME_MAX
 * bytes, when not NULL) and the inode it names; -ENOENT if none. */
int fsmeta_dentry_get(struct mdc *m, uint64_t parent, const char *name,
		      struct fsmeta_inode *out, uint8_t *cname, uint16_t *cnamelen,
		      struct err *e);
/* Walk path from the root ("" and "/" are the root, "." stays, ".."
 * follows a directory's parent=); -ENOENT, -ENOTDIR. */
int fsmeta_path_resolve(struct mdc *m, const char *path, struct fsmeta_inode *in,
			struct err *e);
/* The directory of path (resolved into dir) and its last name (into name);
 * -EINVAL when path names no entry ("/", "..."). */
int fsmeta_path_parent(struct mdc *m, const char *path, struct fsmeta_inode *dir,
		       char *name, size_t namelen, struct err *e);

/* Append a copy of ref f to dst. */
int fsmeta_refs_append(struct record_refs *dst, const struct record_ref *f, struct err *e);
/* The logical text of block-map page p of ino into text; its length. */
int fsmeta_page_text(struct mdc *m, uint64_t ino, uint64_t p, char *text, size_t cap,
		     struct err *e);
/* Every ref of a file version: the inode's, then its pages', in order. */
int fsmeta_refs_load(struct mdc *m, const struct fsmeta_inode *in, struct record_refs *out,
		     struct err *e);

/* A directory's listing entries, sorted by name. */
struct fsmeta_entries {
	struct record_entry *v;         /* owned */
	size_t n, alloc;
};

/* Read every listing bucket of dir (SCHEMA.md "Listing buckets") into out. */
int fsmeta_dir_entries(struct mdc *m, const struct fsmeta_inode *dir,
		       struct fsmeta_entries *out, struct err *e);
void fsmeta_entries_release(struct fsmeta_entries *es);

#endif
