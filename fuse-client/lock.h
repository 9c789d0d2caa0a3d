/* lock: advisory locks of the mount, enforced across every mount of a
 * cluster through the mds. flock() (BSD) locks in <ino>.k.Z (lib/record's lock
 * codec) and POSIX fcntl byte-range locks in p.<ino>.k.Z (lockset), kept apart
 * as on Linux. Every change is ONE CAS UPDATE through mdc; leases are renewed,
 * and blocked requests (F_SETLKW, blocking flock) are polled, by one thread of
 * this module, so a waiter holds no FUSE worker thread and a FUSE interrupt
 * (the waiter's Ctrl-C) ends its wait. Thread-safe. */
#ifndef DNSFS_LOCK_H
#define DNSFS_LOCK_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse_lowlevel.h>
#include <fcntl.h>
#include <stdint.h>

#include "err.h"
#include "mdc.h"

#define LOCK_LEASE_DEFAULT 30   /* seconds */
#define LOCK_QUEUED 1           /* the request waits: the lock module replies */

struct lock;

/* mdc is borrowed (it must outlive the lock); lease in seconds (0: default).
 * No thread is started before the first lock (the mount forks after this). */
int lock_new(struct lock **out, struct mdc *mdc, unsigned lease, struct err *e);
/* End of the session (FUSE destroy): waiting requests are answered ENOLCK,
 * the thread stops, every held lock is released. Idempotent. */
void lock_shutdown(struct lock *lk);
void lock_free(struct lock *lk);        /* lock_shutdown, then free; lk may be NULL */

/* The handlers' side. Each returns 0 (reply 0), LOCK_QUEUED (the request is
 * now the lock module's: it will reply, do not touch req again) or a negative
 * errno to reply with, already what the caller should see (EAGAIN/EWOULDBLOCK,
 * EINVAL, ENOLCK, EINTR, ENOMEM; anything else was logged and is EIO). */

/* flock(2): op LOCK_SH, LOCK_EX or LOCK_UN, maybe | LOCK_NB, for the lock
 * owner (one per open file) of the open file fh. */
int lock_flock(struct lock *lk, fuse_req_t req, uint64_t ino, uint64_t owner, uint64_t fh,
	       int op);
/* The last close of open file (or directory) fh: unlock its flock. */
void lock_flock_close(struct lock *lk, uint64_t ino, uint64_t fh);

/* F_GETLK: fl (SEEK_SET form, l_len 0 = to the end) is replaced by the first
 * conflicting lock of another owner, or gets l_type F_UNLCK. l_pid is the
 * holder's pid when it is on this mount, else 0 (as NFS). */
int lock_getlk(struct lock *lk, uint64_t ino, uint64_t owner, struct flock *fl);
/* F_SETLK (sleep 0: EAGAIN on a conflict) and F_SETLKW (sleep 1: waits until
 * granted or interrupted) for the lock owner (the process's file table). */
int lock_setlk(struct lock *lk, fuse_req_t req, uint64_t ino, uint64_t owner,
	       const struct flock *fl, int sleep);
/* A close(2) by lock owner (FUSE flush): POSIX drops all of its locks on
 * the inode. Free when it holds none (no query). */
void lock_posix_close(struct lock *lk, uint64_t ino, uint64_t owner);

#endif
