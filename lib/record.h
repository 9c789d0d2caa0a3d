/* record: the TXT codec of the metadata schema (docs/SCHEMA.md). Owner names,
 * inode / block-map page / listing-entry records <-> C structs, and the
 * character-string and presentation (dig, nsupdate) forms of TXT RDATA. */
#ifndef DNSFS_RECORD_H
#define DNSFS_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hash.h"

/* ---- limits (each one is explained in docs/SCHEMA.md) ---- */
#define RECORD_VERSION 1          /* the v= this client reads and writes */
#define RECORD_STR_MAX 255        /* bytes in one TXT character-string */
#define RECORD_TEXT_MAX 1000      /* logical text of any record, so that it fits
				   * a 1232-byte UDP answer */
#define RECORD_TEXT_LONG_MAX 16384 /* exception: a symlink inode (4095-byte
				    * target, %-encoded); answered over TCP */
#define RECORD_INLINE_SHORT 512   /* inline content that keeps the inode
				   * within RECORD_TEXT_MAX (a UDP answer) */
#define RECORD_INLINE_MAX 8192    /* inline file content (data=), decoded bytes;
				   * past RECORD_INLINE_SHORT the inode may use
				   * RECORD_TEXT_LONG_MAX (answered over TCP) */
#define RECORD_TARGET_MAX 4095    /* symlink target, decoded bytes (PATH_MAX-1) */
#define RECORD_INLINE_REFS 8      /* b= and s= tokens in an inode record */
#define RECORD_PAGE_TEXT_MAX 16384 /* block-map page text: pages are read over
				    * TCP (the inode, read first, fits UDP) */
#define RECORD_PAGE_REFS 32       /* b= and s= tokens in a block-map page: 32
				   * worst-case 4+2 stripes (436 bytes each)
				   * plus the head stay under 16384 */
#define RECORD_NAME_MAX 255       /* one directory entry name, decoded bytes */
#define RECORD_REP_MAX 16         /* rep=1..16 */
#define RECORD_EC_K_MAX 32        /* ec=k+m: k 1..32 */
#define RECORD_EC_M_MAX 16        /*         m 0..16 */
#define RECORD_NAME_BUF 256       /* enough for any owner name + NUL */
#define RECORD_XATTR_NAME_MAX 255 /* extended attribute name, decoded bytes
				   * (with its namespace, as XATTR_NAME_MAX) */
#define RECORD_XATTR_VALUE_MAX 4096 /* one extended attribute value, bytes;
				     * all of them together must keep the
				     * inode text within RECORD_TEXT_LONG_MAX */

/* Upper bound on the strings record_text_to_strings() cuts len bytes into. */
#define RECORD_STRS_FOR(len) ((len) / 128 + 3)

/* File types, as written in type= and in listing entries. */
enum record_type {
	RECORD_REG = 'f',
	RECORD_DIR = 'd',
	RECORD_LNK = 'l',
	RECORD_FIFO = 'p',
	RECORD_SOCK = 's',
	RECORD_CHR = 'c',
	RECORD_BLK = 'b',
};

/* 1 if c is one of the type letters above. */
int record_type_valid(int c);
/* S_IFREG etc. for a type letter, 0 for an invalid one; and back (0 if the
 * mode has no dnsfs type). */
mode_t record_type_to_ifmt(int type);
int record_type_from_mode(mode_t mode);

/* One TXT character-string. Never owned: it points into a caller's buffer. */
struct record_str {
	const char *p;
	size_t len;             /* 0..RECORD_STR_MAX for a valid string */
};

/* ==== owner names ====
 * Each writes `<labels>.<zone>` NUL-terminated into buf and returns its length,
 * or -ENAMETOOLONG if it does not fit buflen or a DNS name (255 wire bytes).
 * zone NULL or "" gives the zone-relative name with no trailing dot; "." is
 * the root; otherwise zone is appended as given (keep its trailing dot for an
 * absolute name). -EINVAL for a zone with an empty or over-63-byte label. */

/* <h(name)>.<parent>.d.Z. -EINVAL for "", ".", "..", or a name holding '/'
 * or NUL; -ENAMETOOLONG for a name over RECORD_NAME_MAX bytes. */
int record_name_dentry(char *buf, size_t buflen, const char *zone,
		       uint64_t parent, const char *name, size_t namelen);
/* <ino>.i.Z -- also the CNAME target of a dentry. */
int record_name_inode(char *buf, size_t buflen, const char *zone, uint64_t ino);
/* <page>.<ino>.m.Z */
int record_name_map(char *buf, size_t buflen, const char *zone, uint64_t ino,
		    uint64_t page);
/* <bucket>.<dir>.l.Z */
int record_name_listing(char *buf, size_t buflen, const char *zone,
			uint64_t dir, uint64_t bucket);
/* <ino>.k.Z -- the flock() lock record of an inode */
int record_name_lock(char *buf, size_t buflen, const char *zone, uint64_t ino);
/* <first 32 hex>.<last 32 hex>.place.Z */
int record_name_place(char *buf, size_t buflen, const char *zone,
		      const struct hash *h);

/* Parse names back. DNS names are case-insensitive, so are these; one
 * trailing dot on name or zone is ignored. An inode number is canonical
 * decimal (no leading zero) and never 0. 0 or -EINVAL. */
int record_parse_inode_name(const char *name, size_t len, const char *zone,
			    uint64_t *ino);
int record_parse_place_name(const char *name, size_t len, const char *zone,
			    struct hash *out);

/* ==== character-strings and presentation format ==== */

/* Cut len bytes of logical text into strings of <= 255 bytes, breaking right
 * after a space where one is in reach, inside a token only when the token is
 * longer than 255. strs point into text. Empty text is one empty string.
 * Returns the count, -ENOSPC if more than max are needed (RECORD_STRS_FOR). */
int record_text_to_strings(const char *text, size_t len, struct record_str *strs,
			   size_t max, struct err *e);

/* The logical text: the strings concatenated into buf and NUL-terminated.
 * Returns its length; -EINVAL for no strings or one over 255 bytes, -ENOSPC if
 * buf is too small. */
int record_strings_join(const struct record_str *strs, size_t n, char *buf,
			size_t buflen, struct err *e);

/* `"s1" "s2" ...` as dig prints and nsupdate reads: '"' and '\' escaped with
 * a backslash, bytes outside 0x20..0x7e as \DDD. Returns length (NUL added),
 * -EINVAL for a string over 255 bytes, -ENOSPC if buf is too small. */
int record_strings_to_presentation(const struct record_str *strs, size_t n,
				   char *buf, size_t buflen, struct err *e);

/* The reverse: quoted or bare strings separated by white space, with \X and
 * \DDD escapes. Decoded bytes go to buf (inlen bytes always suffice) and strs
 * point into it. Returns the count; -EINVAL for an unterminated quote
 * ("truncated string"), a bad escape, a string over 255 bytes or no string at
 * all; -ENOSPC if buf or max is too small. */
int record_presentation_parse(const char *in, size_t inlen, char *buf,
			      size_t buflen, struct record_str *strs, size_t max,
			      struct err *e);

/* Shortcuts: logical text <-> presentation, through the two steps above. */
int record_text_to_presentation(const char *text, size_t len, char *buf,
				size_t buflen, struct err *e);
int record_presentation_to_text(const char *in, size_t inlen, char *buf,
				size_t buflen, struct err *e);

/* ==== value codecs ==== */

/* Percent-encoding of string values: bytes outside 0x21..0x7e and the bytes
 * % " \ = ; become %XX (upper-case hex); nothing else is encoded. Encode
 * returns the length (NUL added) or -ENOSPC. Decode accepts only that
 * canonical form, so one string has one encoding; returns the decoded length,
 * -EINVAL (message in e) or -ENOSPC. */
int record_pct_encode(char *buf, size_t buflen, const void *p, size_t len);
int record_pct_decode(void *buf, size_t buflen, const char *s, size_t len,
		      struct err *e);

/* ==== block refs (shared by inodes and pages) ==== */

struct record_ref {
	uint64_t off;           /* file offset of the first byte covered */
	uint64_t len;           /* file bytes covered, > 0 */
	uint8_t k;              /* stripe data blocks; 0 for a plain block (b=) */
	uint8_t m;              /* stripe parity blocks; 0 for a plain block */
	struct hash *h;         /* owned: 1 hash for a block; k+m for a stripe,
				 * data blocks first, then parity */
};

/* Number of hashes a ref holds (1 or k+m). */
size_t record_ref_nhash(const struct record_ref *ref);

struct record_refs {
	struct record_ref *v;   /* owned array, in increasing offset order */
	size_t n;               /* refs in use */
	size_t alloc;           /* refs allocated */
};

/* Append a ref (hashes are copied). Order and limits are checked when the
 * record is formatted. 0, -EINVAL (k or m out of range), -ENOMEM. */
int record_refs_add_block(struct record_refs *refs, uint64_t off, uint64_t len,
			  const struct hash *h, struct err *e);
int record_refs_add_stripe(struct record_refs *refs, uint64_t off, uint64_t len,
			   unsigned k, unsigned m, const struct hash *h,
			   struct err *e);
/* Append a copy of ref, whichever kind it is. */
int record_refs_add_ref(struct record_refs *refs, const struct record_ref *ref,
			struct err *e);

/* Parse one token, "b=<off>:<len>:<hash>" or "s=<off>:<len>:<k>+<m>:<h>,...",
 * and append it to refs (order is not checked). 0, -EINVAL, -ERANGE, -ENOMEM
 * with the reason in e. For tools and clients that pass refs around as text
 * (`dnsfsctl block put` prints them). */
int record_ref_parse(struct record_refs *refs, const char *token, size_t len,
		     struct err *e);
/* The token of one ref, NUL-terminated, as record_inode_format writes it.
 * Returns its length or -ENOSPC (a 32+16 stripe needs about 3200 bytes). */
int record_ref_format(const struct record_ref *ref, char *buf, size_t buflen,
		      struct err *e);
/* Hashes of all refs together: what decides whether they fit an inode. */
size_t record_refs_nhash(const struct record_refs *refs);
/* Free the refs and their hashes; refs is left empty and reusable. */
void record_refs_release(struct record_refs *refs);

/* Called once per referenced block hash: every occurrence, in ref order,
 * stripe members data first, duplicates included (the mds counts references
 * with this, adding on commit and subtracting on replace with the same walk).
 * A nonzero return from fn stops the walk and is returned. */
typedef int (*record_hash_fn)(const struct hash *h, void *arg);
int record_refs_for_each_hash(const struct record_refs *refs, record_hash_fn fn,
			      void *arg);

/* Tokens this client does not know (written by a newer one): kept verbatim and
 * in order, and written back by the formatter so a compare-and-swap rewrite
 * by an older client does not drop them. */
struct record_unknown {
	char **v;               /* owned NUL-terminated "key=value" tokens */
	size_t n;
	size_t alloc;
};

/* ==== inode records: <ino>.i.Z TXT ==== */

struct record_time {
	int64_t sec;            /* like struct timespec: sec + nsec / 1e9 */
	uint32_t nsec;          /* < 1000000000 */
};

enum record_policy_kind {
	RECORD_POLICY_NONE = 0, /* not set: inherit the default */
	RECORD_POLICY_REP,      /* rep=<rep> */
	RECORD_POLICY_EC,       /* ec=<k>+<m> */
};

struct record_policy {
	enum record_policy_kind kind;
	uint8_t rep;            /* REP: 1..RECORD_REP_MAX copies */
	uint8_t k;              /* EC: 1..RECORD_EC_K_MAX data blocks */
	uint8_t m;              /* EC: 0..RECORD_EC_M_MAX parity blocks */
};

/* One extended attribute (xa=<pct name>:<base64 value>). */
struct record_xattr {
	char *name;             /* owned, NUL-terminated, 1..RECORD_XATTR_NAME_MAX */
	size_t namelen;
	uint8_t *value;         /* owned (NULL when len is 0) */
	size_t len;             /* 0..RECORD_XATTR_VALUE_MAX */
};

struct record_inode {
	int type;               /* enum record_type; 0 in an empty struct */
	uint32_t mode;          /* permission bits only, <= 07777 */
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint64_t size;          /* <= INT64_MAX (off_t); == datalen when data is
				 * inline, == targetlen for a symlink */
	struct record_time mtime;
	struct record_time ctime;
	struct record_time atime;
	uint64_t ver;           /* bumped on every change; the CAS handle */
	uint64_t gen;           /* generation of a reused number; 0 = not written */
	uint64_t rdev;          /* c and b only (always written for them) */
	struct record_policy policy; /* f and d only */
	uint32_t buckets;       /* d only: listing buckets, >= 1 (1 if absent) */
	uint64_t parent;        /* d only: the directory it is in; 0 = not written
				 * (the root, and directories of older clients) */
	uint64_t pages;         /* f only: block-map pages 0..pages-1; 0 = none */
	uint8_t *data;          /* owned: f only, inline content, datalen == size */
	size_t datalen;         /* 0..RECORD_INLINE_MAX */
	char *target;           /* owned, NUL-terminated: l only, required */
	size_t targetlen;       /* 1..RECORD_TARGET_MAX */
	struct record_refs refs; /* f only: <= RECORD_INLINE_REFS, ends <= size */
	struct record_xattr *xattrs; /* owned, sorted by name (bytes, shorter
				      * first), no duplicates; any type */
	size_t nxattrs;
	struct record_unknown unknown;
};

/* init: an empty record (all zero). release: free what it owns, then init. */
void record_inode_init(struct record_inode *r);
void record_inode_release(struct record_inode *r);

/* Copy p into the record's owned inline data / symlink target (replacing
 * any). 0, -E2BIG / -ENAMETOOLONG over the limit, -ENOMEM. */
int record_inode_set_data(struct record_inode *r, const void *p, size_t len,
			  struct err *e);
int record_inode_set_target(struct record_inode *r, const char *p, size_t len,
			    struct err *e);

/* Extended attributes. find: the attribute or NULL. set: add or replace
 * (kept sorted); 0, -EINVAL (empty name or one holding NUL), -ERANGE (name
 * over RECORD_XATTR_NAME_MAX), -E2BIG (value over RECORD_XATTR_VALUE_MAX),
 * -ENOMEM. remove: 0 or -ENODATA. Whether the record still fits its text
 * limit is found by record_inode_format (-ENOSPC). An inode with any xa=
 * may use RECORD_TEXT_LONG_MAX (answered over TCP), like a symlink. */
const struct record_xattr *record_inode_xattr_find(const struct record_inode *r,
						   const char *name, size_t namelen);
int record_inode_xattr_set(struct record_inode *r, const char *name, size_t namelen,
			   const void *value, size_t len, struct err *e);
int record_inode_xattr_remove(struct record_inode *r, const char *name, size_t namelen);

/* Parse a record from its character-strings or its logical text. out is
 * overwritten (release it first if it owned anything). 0 or a negative errno
 * with a message naming the key; on error out is left empty (zeroed).
 * -ENOTSUP for a newer v=, -ERANGE for an out-of-range number, -E2BIG over a
 * size limit, -EINVAL for anything else malformed. A record that parses is
 * always accepted by record_inode_format(). */
int record_inode_parse(struct record_inode *out, const struct record_str *strs,
		       size_t n, struct err *e);
int record_inode_parse_text(struct record_inode *out, const char *text,
			    size_t len, struct err *e);

/* Canonical logical text into buf (NUL-terminated); returns its length.
 * Validates r by the same rules as the parser (-EINVAL, -ERANGE, -E2BIG);
 * -ENOSPC if buf is too small (RECORD_TEXT_LONG_MAX + 1 always suffices). */
int record_inode_format(const struct record_inode *r, char *buf, size_t buflen,
			struct err *e);

int record_inode_for_each_hash(const struct record_inode *r, record_hash_fn fn,
			       void *arg);

/* ==== block-map pages: <page>.<ino>.m.Z TXT ==== */

struct record_page {
	uint64_t page;          /* index; matches the owner name */
	struct record_refs refs; /* <= RECORD_PAGE_REFS, increasing offsets */
	struct record_unknown unknown;
};

void record_page_init(struct record_page *p);
void record_page_release(struct record_page *p);
int record_page_parse(struct record_page *out, const struct record_str *strs,
		      size_t n, struct err *e);
int record_page_parse_text(struct record_page *out, const char *text,
			   size_t len, struct err *e);
int record_page_format(const struct record_page *p, char *buf, size_t buflen,
		       struct err *e);
int record_page_for_each_hash(const struct record_page *p, record_hash_fn fn,
			      void *arg);

/* ==== listing entries: <bucket>.<dir>.l.Z TXT, one RR per entry ==== */

struct record_entry {
	char name[RECORD_NAME_MAX + 1]; /* decoded name, NUL-terminated */
	size_t namelen;         /* 1..RECORD_NAME_MAX */
	uint64_t ino;           /* >= 1 */
	int type;               /* enum record_type */
};

/* Fill an entry, validating the name (1..255 bytes, not "." or "..", no '/'
 * or NUL), ino (>= 1) and type. 0 or -EINVAL; e left untouched on success. */
int record_entry_set(struct record_entry *en, const char *name, size_t namelen,
		     uint64_t ino, int type, struct err *e);

/* Text is exactly `<pct-name> <ino> <type>`, canonical, so that the RDATA an
 * UPDATE deletes is byte for byte what record_entry_format() wrote. On error
 * out is zeroed. */
int record_entry_parse(struct record_entry *out, const struct record_str *strs,
		       size_t n, struct err *e);
int record_entry_parse_text(struct record_entry *out, const char *text,
			    size_t len, struct err *e);
int record_entry_format(const struct record_entry *en, char *buf, size_t buflen,
			struct err *e);

/* ==== lock records: <ino>.k.Z TXT, one RR ====
 * `v=1 type=sh|ex o=<owner>:<exp> ...`: the holders of an inode's flock()
 * lock, each with the unix time its lease ends. ex has exactly one holder,
 * sh one or more; no holder at all is no record. */

#define RECORD_LOCK_HOLDERS 20     /* holders in one record (fits 1000 bytes
				    * with 33-byte owners) */
#define RECORD_LOCK_OWNER_MAX 40   /* owner: [0-9a-z.-], 1..40 bytes */

struct record_lock_holder {
	char owner[RECORD_LOCK_OWNER_MAX + 1];
	int64_t exp;            /* lease end, unix seconds, >= 0 */
};

struct record_lock {
	int type;               /* 's' (shared) or 'e' (exclusive) */
	size_t n;               /* 1..RECORD_LOCK_HOLDERS */
	struct record_lock_holder h[RECORD_LOCK_HOLDERS];
};

/* 0 or -EINVAL / -ERANGE / -E2BIG / -ENOTSUP with the reason in e. */
int record_lock_parse_text(struct record_lock *out, const char *text, size_t len,
			   struct err *e);
/* Canonical text; length, or -EINVAL (bad fields), -E2BIG (over
 * RECORD_TEXT_MAX), -ENOSPC (buf). */
int record_lock_format(const struct record_lock *l, char *buf, size_t buflen,
		       struct err *e);

#endif
