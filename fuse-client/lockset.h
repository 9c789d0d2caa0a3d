/* lockset: the POSIX (fcntl) byte-range locks of one inode as a plain value:
 * ranges with their owners and lease ends, the conflict test, lock and unlock
 * with the POSIX split and merge of one owner's ranges, and the TXT form of
 * p.<ino>.k.Z (docs/SCHEMA.md). No I/O and no locking, so that the range
 * arithmetic is unit-tested apart from the mount (tests/unit/check_lockset.c);
 * fuse-client/lock.c reads a record into a lockset, changes it and CASes it. */
#ifndef DNSFS_LOCKSET_H
#define DNSFS_LOCKSET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define LOCKSET_EOF INT64_MAX       /* last byte of a range "to the end" (l_len 0):
				     * the kernel's OFFSET_MAX */
#define LOCKSET_MAX 256             /* ranges in one record (ENOLCK beyond) */
#define LOCKSET_OWNER_MAX 40        /* owner: [0-9a-z.-], 1..40 bytes */
#define LOCKSET_TEXT_MAX 16384      /* logical text; over 1000 bytes the record
				     * is answered over TCP, like a long inode */

/* One locked range: bytes start..end (inclusive) held by owner. */
struct lockset_range {
	int64_t start;                  /* 0 <= start <= end */
	int64_t end;                    /* <= LOCKSET_EOF */
	int type;                       /* F_RDLCK or F_WRLCK */
	int64_t exp;                    /* lease end, unix seconds, >= 0 */
	char owner[LOCKSET_OWNER_MAX + 1]; /* "<client>.<lock owner>" in the mount */
};

/* The ranges of one inode, kept sorted by (start, end, owner, type); one
 * owner's ranges never overlap, and adjacent ones of one type are merged. */
struct lockset {
	size_t n;                       /* ranges in v */
	size_t cap;                     /* allocated */
	struct lockset_range *v;        /* owned */
};

void lockset_init(struct lockset *s);
void lockset_release(struct lockset *s);        /* frees v; s is empty again */

/* Replace s by the record text. 0, or -EINVAL (syntax, bad range, an owner's
 * ranges overlapping), -ERANGE (number too big), -E2BIG (more than
 * LOCKSET_MAX ranges or LOCKSET_TEXT_MAX bytes), -ENOTSUP (v= newer), -ENOMEM;
 * on error s is empty and e says why. */
int lockset_parse(struct lockset *s, const char *text, size_t len, struct err *e);

/* Canonical text into buf (NUL-terminated): "v=1" and one token per range.
 * Its length, or -E2BIG over LOCKSET_TEXT_MAX, -ENOSPC for buf. */
int lockset_format(const struct lockset *s, char *buf, size_t cap, struct err *e);

/* "who" is an owner ("<client>.<lock owner>") or a client id alone: then it
 * stands for every owner of that client. 1 if owner is who or one of its. */
int lockset_owner_of(const char *owner, const char *who);

/* The first range (in order) held by another owner than `owner` that
 * conflicts with locking start..end as type (overlapping, and one of the two
 * is F_WRLCK): its index, or -1. Leases are not looked at (lockset_expire). */
ssize_t lockset_conflict(const struct lockset *s, const char *owner, int type,
			 int64_t start, int64_t end);

/* POSIX lock (type F_RDLCK or F_WRLCK) or unlock (F_UNLCK) of start..end for
 * owner, as fcntl(F_SETLK) after the conflict test: owner's ranges inside
 * start..end are replaced (split where they stick out), a new range takes
 * exp and merges with owner's adjacent ranges of its type. Other owners'
 * ranges are not touched. 0, -EINVAL (bad type or range), -ENOLCK (over
 * LOCKSET_MAX ranges), -ENOMEM; on error s may be changed (drop it). */
int lockset_set(struct lockset *s, const char *owner, int type, int64_t start,
		int64_t end, int64_t exp, struct err *e);

/* Remove the ranges whose lease ended before now, except those of keep
 * (lockset_owner_of; NULL keeps none). Returns how many went. */
size_t lockset_expire(struct lockset *s, int64_t now, const char *keep);
/* Set the lease end of who's ranges to exp; returns how many. */
size_t lockset_renew(struct lockset *s, const char *who, int64_t exp);
/* Remove who's ranges; returns how many. */
size_t lockset_drop(struct lockset *s, const char *who);
/* 1 if who holds a range. */
int lockset_holds(const struct lockset *s, const char *who);

#endif
